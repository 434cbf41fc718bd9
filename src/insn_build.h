/* SPDX-License-Identifier: MIT */
/*
 * Instruction builders for C code that writes raw BPF (tests, benchmarks,
 * the loader's rewrites), named like the kernel's filter.h macros so
 * programs can be copied between the two. Each yields a struct ua_insn
 * initialiser; UA_LD_IMM64 yields two (use it inside an array initialiser).
 */
#ifndef UA_INSN_BUILD_H
#define UA_INSN_BUILD_H

#include <uarena/insn.h>

#define UA_INSN(c, d, s, o, i) \
	((struct ua_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* ALU: dst op= src / imm (64 and 32-bit). */
#define UA_ALU64_REG(op, d, s) UA_INSN(UA_ALU64 | (op) | UA_X, d, s, 0, 0)
#define UA_ALU64_IMM(op, d, i) UA_INSN(UA_ALU64 | (op) | UA_K, d, 0, 0, i)
#define UA_ALU32_REG(op, d, s) UA_INSN(UA_ALU | (op) | UA_X, d, s, 0, 0)
#define UA_ALU32_IMM(op, d, i) UA_INSN(UA_ALU | (op) | UA_K, d, 0, 0, i)
/* Signed div/mod (off = 1). */
#define UA_ALU64_SREG(op, d, s) UA_INSN(UA_ALU64 | (op) | UA_X, d, s, 1, 0)
#define UA_ALU64_SIMM(op, d, i) UA_INSN(UA_ALU64 | (op) | UA_K, d, 0, 1, i)
#define UA_ALU32_SREG(op, d, s) UA_INSN(UA_ALU | (op) | UA_X, d, s, 1, 0)
#define UA_ALU32_SIMM(op, d, i) UA_INSN(UA_ALU | (op) | UA_K, d, 0, 1, i)
#define UA_MOV64_REG(d, s) UA_ALU64_REG(UA_MOV, d, s)
#define UA_MOV64_IMM(d, i) UA_ALU64_IMM(UA_MOV, d, i)
#define UA_MOV32_REG(d, s) UA_ALU32_REG(UA_MOV, d, s)
#define UA_MOV32_IMM(d, i) UA_ALU32_IMM(UA_MOV, d, i)
/* movsx: bits = 8, 16 (32 for the 64-bit form). */
#define UA_MOVSX64_REG(d, s, bits) UA_INSN(UA_ALU64 | UA_MOV | UA_X, d, s, bits, 0)
#define UA_MOVSX32_REG(d, s, bits) UA_INSN(UA_ALU | UA_MOV | UA_X, d, s, bits, 0)
#define UA_NEG64(d) UA_INSN(UA_ALU64 | UA_NEG | UA_K, d, 0, 0, 0)
#define UA_NEG32(d) UA_INSN(UA_ALU | UA_NEG | UA_K, d, 0, 0, 0)
/* Byte order: to little/big endian (ALU) and unconditional swap (ALU64). */
#define UA_ENDIAN_TO_LE(d, bits) UA_INSN(UA_ALU | UA_END | UA_TO_LE, d, 0, 0, bits)
#define UA_ENDIAN_TO_BE(d, bits) UA_INSN(UA_ALU | UA_END | UA_TO_BE, d, 0, 0, bits)
#define UA_BSWAP(d, bits) UA_INSN(UA_ALU64 | UA_END, d, 0, 0, bits)
/* addr_space_cast: as = UA_CAST_KERN or UA_CAST_USER. */
#define UA_ADDR_SPACE_CAST_INSN(d, s, as) UA_INSN(UA_ALU64 | UA_MOV | UA_X, d, s, UA_ADDR_SPACE_CAST, as)

/* ld_imm64: two slots. */
#define UA_LD_IMM64_RAW(d, s, v)                                              \
	UA_INSN(UA_LD | UA_DW | UA_IMM, d, s, 0, (int32_t)(uint32_t)(v)),      \
	UA_INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))
#define UA_LD_IMM64(d, v) UA_LD_IMM64_RAW(d, 0, v)

/* Memory: size = UA_B/UA_H/UA_W/UA_DW. */
#define UA_LDX_MEM(size, d, s, o) UA_INSN(UA_LDX | (size) | UA_MEM, d, s, o, 0)
#define UA_LDX_MEMSX(size, d, s, o) UA_INSN(UA_LDX | (size) | UA_MEMSX, d, s, o, 0)
#define UA_STX_MEM(size, d, s, o) UA_INSN(UA_STX | (size) | UA_MEM, d, s, o, 0)
#define UA_ST_MEM(size, d, o, i) UA_INSN(UA_ST | (size) | UA_MEM, d, 0, o, i)
/* Atomics: op = UA_ADD, UA_ADD | UA_FETCH, UA_XCHG, UA_CMPXCHG, ... */
#define UA_ATOMIC_OP(size, op, d, s, o) UA_INSN(UA_STX | (size) | UA_ATOMIC, d, s, o, op)
#define UA_LOAD_ACQ_INSN(size, d, s, o) UA_INSN(UA_STX | (size) | UA_ATOMIC, d, s, o, UA_LOAD_ACQ)
#define UA_STORE_REL_INSN(size, d, s, o) UA_INSN(UA_STX | (size) | UA_ATOMIC, d, s, o, UA_STORE_REL)

/* Jumps: off is relative to the next insn. */
#define UA_JMP_REG(op, d, s, o) UA_INSN(UA_JMP | (op) | UA_X, d, s, o, 0)
#define UA_JMP_IMM(op, d, i, o) UA_INSN(UA_JMP | (op) | UA_K, d, 0, o, i)
#define UA_JMP32_REG(op, d, s, o) UA_INSN(UA_JMP32 | (op) | UA_X, d, s, o, 0)
#define UA_JMP32_IMM(op, d, i, o) UA_INSN(UA_JMP32 | (op) | UA_K, d, 0, o, i)
#define UA_JMP_A(o) UA_INSN(UA_JMP | UA_JA, 0, 0, o, 0)
#define UA_GOTOL(i) UA_INSN(UA_JMP32 | UA_JA, 0, 0, 0, i)
#define UA_MAY_GOTO_INSN(o) UA_INSN(UA_JMP | UA_JCOND, 0, UA_MAY_GOTO, o, 0)
#define UA_CALL_HELPER(id) UA_INSN(UA_JMP | UA_CALL, 0, 0, 0, id)
#define UA_CALL_REL(i) UA_INSN(UA_JMP | UA_CALL, 0, UA_PSEUDO_CALL, 0, i)
#define UA_CALL_KFUNC(i) UA_INSN(UA_JMP | UA_CALL, 0, UA_PSEUDO_KFUNC_CALL, 0, i)
#define UA_EXIT_INSN() UA_INSN(UA_JMP | UA_EXIT, 0, 0, 0, 0)

#endif
