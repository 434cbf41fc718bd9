/* SPDX-License-Identifier: MIT */
/*
 * x86-64 byte emitters for the JIT (knows x86, not BPF). Layered like
 * ubpf's: emit1/4/8 write bytes into a growable buffer; rex/modrm/mem build
 * operands; the instruction emitters on top take x86 register numbers
 * (0 = rax .. 15 = r15) and a width flag w64 (REX.W). A failed growth sets
 * buf->oom and later writes are dropped, so callers check once at the end.
 *
 * Memory operands are [base + index + disp32] with index -1 for none; rsp and
 * r12 as a base need a SIB byte, rbp and r13 need a displacement (mod 00 with
 * them means rip-relative / no base), both handled in emit_mem.
 */
#ifndef UA_JIT_X86_64_EMIT_H
#define UA_JIT_X86_64_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum x86_reg {
	RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
	R8, R9, R10, R11, R12, R13, R14, R15,
};

/* Condition codes (low nibble of Jcc 0x0F 0x80+cc). */
enum x86_cc {
	CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7,
	CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf,
};

/* ALU ops: the "op r/m, r" opcode (01/09/...) and the /ext of 0x81/0x83. */
enum x86_alu {
	ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7,
};

/* Shift /ext of C1/D3. */
enum x86_shift { SH_ROL = 0, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct x86_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static inline void emit1(struct x86_buf *b, uint8_t v)
{
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *p = b->oom ? NULL : realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->p[b->len++] = v;
}

static inline void emit4(struct x86_buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		emit1(b, (uint8_t)(v >> (8 * i)));
}

static inline void emit8(struct x86_buf *b, uint64_t v)
{
	emit4(b, (uint32_t)v);
	emit4(b, (uint32_t)(v >> 32));
}

static inline bool fits_s8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/* REX prefix; force: needed for byte access to spl/bpl/sil/dil. */
static inline void emit_rex(struct x86_buf *b, bool w, int reg, int index, int base, bool force)
{
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
				(index >= 0 && (index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0));

	if (rex != 0x40 || force)
		emit1(b, rex);
}

static inline void emit_modrm(struct x86_buf *b, int mod, int reg, int rm)
{
	emit1(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7)));
}

/* ModRM (+SIB) (+disp) for [base + index*1 + disp]. */
static inline void emit_mem(struct x86_buf *b, int reg, int base, int index, int32_t disp)
{
	int mod = disp == 0 && (base & 7) != RBP ? 0 : fits_s8(disp) ? 1 : 2;

	if (index >= 0) {
		emit_modrm(b, mod, reg, 4);
		emit1(b, (uint8_t)(((index & 7) << 3) | (base & 7)));
	} else {
		emit_modrm(b, mod, reg, base);
		if ((base & 7) == RSP)
			emit1(b, 0x24);
	}
	if (mod == 1)
		emit1(b, (uint8_t)disp);
	else if (mod == 2)
		emit4(b, (uint32_t)disp);
}

/* op with a memory operand: [prefix] REX op... modrm. ops: 1 or 2 bytes (0x0F xx). */
static inline void emit_op_mem(struct x86_buf *b, bool w, uint16_t op, int reg, int base,
			       int index, int32_t disp, bool byte_reg)
{
	emit_rex(b, w, reg, index, base, byte_reg && reg >= 4 && reg < 8);
	if (op > 0xff)
		emit1(b, (uint8_t)(op >> 8));
	emit1(b, (uint8_t)op);
	emit_mem(b, reg, base, index, disp);
}

/* op reg, rm (both registers). */
static inline void emit_op_rr(struct x86_buf *b, bool w, uint16_t op, int reg, int rm,
			      bool byte_rm)
{
	emit_rex(b, w, reg, -1, rm, byte_rm && rm >= 4 && rm < 8);
	if (op > 0xff)
		emit1(b, (uint8_t)(op >> 8));
	emit1(b, (uint8_t)op);
	emit_modrm(b, 3, reg, rm);
}

/* dst op= src, op one of enum x86_alu (0x01 + 8*op is "op r/m, r"). */
static inline void emit_alu_rr(struct x86_buf *b, bool w, enum x86_alu op, int dst, int src)
{
	emit_op_rr(b, w, (uint16_t)(0x01 + 8 * op), src, dst, false);
}

static inline void emit_alu_ri(struct x86_buf *b, bool w, enum x86_alu op, int dst, int32_t imm)
{
	if (fits_s8(imm)) {
		emit_op_rr(b, w, 0x83, op, dst, false);
		emit1(b, (uint8_t)imm);
	} else {
		emit_op_rr(b, w, 0x81, op, dst, false);
		emit4(b, (uint32_t)imm);
	}
}

/* qword/dword [base + disp] op= imm. */
static inline void emit_alu_mi(struct x86_buf *b, bool w, enum x86_alu op, int base,
			       int32_t disp, int32_t imm)
{
	if (fits_s8(imm)) {
		emit_op_mem(b, w, 0x83, op, base, -1, disp, false);
		emit1(b, (uint8_t)imm);
	} else {
		emit_op_mem(b, w, 0x81, op, base, -1, disp, false);
		emit4(b, (uint32_t)imm);
	}
}

static inline void emit_mov_rr(struct x86_buf *b, bool w, int dst, int src)
{
	emit_op_rr(b, w, 0x89, src, dst, false);
}

static inline void emit_test_rr(struct x86_buf *b, bool w, int a, int c)
{
	emit_op_rr(b, w, 0x85, c, a, false);
}

/* test r, imm32 (sign-extended in 64-bit form). */
static inline void emit_test_ri(struct x86_buf *b, bool w, int r, int32_t imm)
{
	emit_op_rr(b, w, 0xf7, 0, r, false);
	emit4(b, (uint32_t)imm);
}

/* mov r, imm: 32-bit form zero-extends; 64-bit picks the shortest exact encoding. */
static inline void emit_mov_ri(struct x86_buf *b, bool w, int dst, int64_t imm)
{
	if (!w || (imm >= 0 && imm <= UINT32_MAX)) {
		emit_rex(b, false, 0, -1, dst, false);
		emit1(b, (uint8_t)(0xb8 + (dst & 7)));
		emit4(b, (uint32_t)imm);
	} else if (imm >= INT32_MIN && imm <= INT32_MAX) {
		emit_op_rr(b, true, 0xc7, 0, dst, false);
		emit4(b, (uint32_t)imm);
	} else {
		emit_rex(b, true, 0, -1, dst, false);
		emit1(b, (uint8_t)(0xb8 + (dst & 7)));
		emit8(b, (uint64_t)imm);
	}
}

/* mov r64, [base + disp] / mov [base + disp], r64. */
static inline void emit_load64(struct x86_buf *b, int dst, int base, int32_t disp)
{
	emit_op_mem(b, true, 0x8b, dst, base, -1, disp, false);
}

static inline void emit_store64(struct x86_buf *b, int base, int32_t disp, int src)
{
	emit_op_mem(b, true, 0x89, src, base, -1, disp, false);
}

static inline void emit_lea(struct x86_buf *b, int dst, int base, int32_t disp)
{
	emit_op_mem(b, true, 0x8d, dst, base, -1, disp, false);
}

static inline void emit_shift_ri(struct x86_buf *b, bool w, enum x86_shift op, int dst, uint8_t n)
{
	emit_op_rr(b, w, 0xc1, op, dst, false);
	emit1(b, n);
}

static inline void emit_shift_cl(struct x86_buf *b, bool w, enum x86_shift op, int dst)
{
	emit_op_rr(b, w, 0xd3, op, dst, false);
}

static inline void emit_push(struct x86_buf *b, int r)
{
	emit_rex(b, false, 0, -1, r, false);
	emit1(b, (uint8_t)(0x50 + (r & 7)));
}

static inline void emit_pop(struct x86_buf *b, int r)
{
	emit_rex(b, false, 0, -1, r, false);
	emit1(b, (uint8_t)(0x58 + (r & 7)));
}

static inline void emit_push_mem(struct x86_buf *b, int base, int32_t disp)
{
	emit_op_mem(b, false, 0xff, 6, base, -1, disp, false);
}

static inline void emit_pop_mem(struct x86_buf *b, int base, int32_t disp)
{
	emit_op_mem(b, false, 0x8f, 0, base, -1, disp, false);
}

static inline void emit_call_reg(struct x86_buf *b, int r)
{
	emit_op_rr(b, false, 0xff, 2, r, false);
}

static inline void emit_ret(struct x86_buf *b)
{
	emit1(b, 0xc3);
}

/* jmp/jcc/call rel32 with a zero displacement; returns the displacement's offset. */
static inline size_t emit_jmp_rel32(struct x86_buf *b)
{
	emit1(b, 0xe9);
	emit4(b, 0);
	return b->len - 4;
}

static inline size_t emit_jcc_rel32(struct x86_buf *b, enum x86_cc cc)
{
	emit1(b, 0x0f);
	emit1(b, (uint8_t)(0x80 + cc));
	emit4(b, 0);
	return b->len - 4;
}

static inline size_t emit_call_rel32(struct x86_buf *b)
{
	emit1(b, 0xe8);
	emit4(b, 0);
	return b->len - 4;
}

#endif
