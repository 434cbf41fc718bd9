/* SPDX-License-Identifier: MIT */
/*
 * BPF instruction encoding (RFC 9669 plus Linux extensions), for embedders
 * that write raw instructions. Layout is identical to Linux's struct bpf_insn.
 *
 *   63      56 55 52 51 48 47            32 31                             0
 *  +----------+-----+-----+----------------+--------------------------------+
 *  | imm (s32, bits 32..63 in memory order: code, regs, off, imm)           |
 *  +------------------------------------------------------------------------+
 *   byte 0: opcode = class (3 bits) | source/size (1-2 bits) | op/mode
 *   byte 1: dst_reg (low nibble) | src_reg (high nibble)
 *   bytes 2-3: off (s16)   bytes 4-7: imm (s32)
 *  ld_imm64 (0x18) occupies two slots; the second has code 0 and carries the
 *  upper 32 bits of the constant in its imm.
 */
#ifndef UARENA_INSN_H
#define UARENA_INSN_H

#include <stdint.h>

struct ua_insn {
	uint8_t code;
	uint8_t dst_reg : 4;
	uint8_t src_reg : 4;
	int16_t off;
	int32_t imm;
};

/* Instruction classes (low 3 bits of code). */
#define UA_LD    0x00
#define UA_LDX   0x01
#define UA_ST    0x02
#define UA_STX   0x03
#define UA_ALU   0x04
#define UA_JMP   0x05
#define UA_JMP32 0x06
#define UA_ALU64 0x07
#define UA_CLASS(code) ((code) & 0x07)

/* Load/store size (bits 3-4) and mode (bits 5-7). */
#define UA_W  0x00
#define UA_H  0x08
#define UA_B  0x10
#define UA_DW 0x18
#define UA_SIZE(code) ((code) & 0x18)
#define UA_IMM    0x00
#define UA_ABS    0x20
#define UA_IND    0x40
#define UA_MEM    0x60
#define UA_MEMSX  0x80
#define UA_ATOMIC 0xc0
#define UA_MODE(code) ((code) & 0xe0)

/* ALU/JMP source (bit 3) and operation (bits 4-7). */
#define UA_K 0x00
#define UA_X 0x08
#define UA_SRC(code) ((code) & 0x08)
#define UA_OP(code) ((code) & 0xf0)

#define UA_ADD  0x00
#define UA_SUB  0x10
#define UA_MUL  0x20
#define UA_DIV  0x30
#define UA_OR   0x40
#define UA_AND  0x50
#define UA_LSH  0x60
#define UA_RSH  0x70
#define UA_NEG  0x80
#define UA_MOD  0x90
#define UA_XOR  0xa0
#define UA_MOV  0xb0
#define UA_ARSH 0xc0
#define UA_END  0xd0 /* byte swap; in ALU: source bit = TO_BE, ALU64: bswap */

#define UA_TO_LE 0x00
#define UA_TO_BE 0x08

#define UA_JA   0x00
#define UA_JEQ  0x10
#define UA_JGT  0x20
#define UA_JGE  0x30
#define UA_JSET 0x40
#define UA_JNE  0x50
#define UA_JSGT 0x60
#define UA_JSGE 0x70
#define UA_CALL 0x80
#define UA_EXIT 0x90
#define UA_JLT  0xa0
#define UA_JLE  0xb0
#define UA_JSLT 0xc0
#define UA_JSLE 0xd0
#define UA_JCOND 0xe0 /* may_goto when src_reg == UA_MAY_GOTO */

/* Atomic operations (imm of BPF_STX|BPF_ATOMIC). */
#define UA_FETCH      0x01
#define UA_XCHG       (0xe0 | UA_FETCH)
#define UA_CMPXCHG    (0xf0 | UA_FETCH)
#define UA_LOAD_ACQ   0x100
#define UA_STORE_REL  0x110

/* src_reg values of special instructions. */
#define UA_PSEUDO_MAP_FD        1 /* ld_imm64: imm = map fd */
#define UA_PSEUDO_MAP_VALUE     2 /* ld_imm64: imm = map fd, next imm = offset */
#define UA_PSEUDO_BTF_ID        3
#define UA_PSEUDO_FUNC          4 /* ld_imm64: imm = relative insn offset of a subprog */
#define UA_PSEUDO_MAP_IDX       5
#define UA_PSEUDO_MAP_IDX_VALUE 6
#define UA_PSEUDO_CALL          1 /* call: imm = relative insn offset */
#define UA_PSEUDO_KFUNC_CALL    2 /* call: imm = kfunc BTF id */
#define UA_MAY_GOTO             0

/* addr_space_cast: ALU64|MOV|X with off = 1, imm = (dst_as << 16) | src_as. */
#define UA_ADDR_SPACE_CAST 1
#define UA_CAST_KERN 1         /* as(1) -> as(0): result = (u32)src */
#define UA_CAST_USER (1 << 16) /* as(0) -> as(1): user form, NULL stays NULL */

#define UA_MAX_BPF_REG 11 /* r0..r10 */
#define UA_STACK_SIZE  512
#define UA_MAX_CALL_DEPTH 8

#endif
