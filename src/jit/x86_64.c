/* SPDX-License-Identifier: MIT */
/*
 * BPF -> x86-64 translation of a prepared program (the interpreter's
 * decoded form, interp.h: immediates sign-extended, jumps absolute, helpers
 * resolved). Model (docs/jit.md has the details):
 *
 * - BPF r0..r10 live in 11 x86 registers chosen by the per-compile register
 *   map (tests shuffle it); r15 holds the struct jit_run of the run, r12 the
 *   arena's program-view base (the kernel's choice), r10/r11 are scratch (T1,
 *   T2). r12 and r15 are callee-saved, so they survive every C call.
 * - At every BPF insn boundary rsp is 16-byte aligned, so C can be called
 *   directly. bpf-to-bpf calls are x86 calls preceded by 5 pushes (the
 *   caller's r6..r9 and may_goto count), which keeps the callee aligned; EXIT
 *   at depth 0 leaves through the epilogue, deeper it is a ret.
 * - Anything rare or complicated (callx, cast_user, the first access to a
 *   region, zeroing a new frame, errors) is a C slow path in runtime.c: the
 *   code spills every BPF register into run->regs, calls, and reloads them,
 *   so C sees (and may change) the register file exactly like the
 *   interpreter.
 * - Arena access (PROBE_MEM32): base with upper 32 bits zero ->
 *   [r12 + lo32(base) + off], with an exception-table entry; the fault
 *   resolver zeroes a load's destination and resumes after the access (an
 *   atomic's entry resumes past its write-back, so it changes nothing).
 * - Other addresses: checked inline against the active stack frames and the
 *   region the last slow check found, else C.
 */
#include "jit_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "internal.h"
#include "probe.h"

#if defined(__x86_64__)

#include "x86_64_emit.h"

#define T1 R10
#define T2 R11
#define RUNR R15
#define ARENAR R12
#define RUN_OFF(field) ((int32_t)offsetof(struct jit_run, field))
#define REG_OFF(i) ((int32_t)(offsetof(struct jit_run, regs) + 8 * (i)))

const uint8_t ua_jit_allocatable[UA_JIT_N_ALLOCATABLE] = {
	RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R9, RBP,
};

struct cold_stub {
	size_t label;
	enum jit_fail_kind kind;
	size_t idx;
};

struct jit_ctx {
	struct x86_buf b;
	struct ua_jit_labels l;
	const struct ua_prog *p;
	uint8_t map[UA_MAX_BPF_REG];
	size_t l_done, l_err; /* common exits: success (r0 set) and error (run->status) */
	struct cold_stub *stubs;
	size_t n_stubs, cap_stubs;
	struct jit_extable *ext;
	size_t *ext_resume; /* resume label per entry, SIZE_MAX: right after the access */
	size_t n_ext, cap_ext;
	bool host_atomic; /* emitting a host-memory atomic: its faults are real, no fixups */
	bool oom;
};

static int8_t greg_of(int r)
{
	static const int8_t g[16] = {
		[RAX] = REG_RAX, [RCX] = REG_RCX, [RDX] = REG_RDX, [RBX] = REG_RBX,
		[RSP] = REG_RSP, [RBP] = REG_RBP, [RSI] = REG_RSI, [RDI] = REG_RDI,
		[R8] = REG_R8, [R9] = REG_R9, [R10] = REG_R10, [R11] = REG_R11,
		[R12] = REG_R12, [R13] = REG_R13, [R14] = REG_R14, [R15] = REG_R15,
	};
	return g[r & 15];
}

static void jump_to(struct jit_ctx *c, size_t at, size_t label)
{
	ua_jit_label_use(&c->l, at, label);
}

static void bind_here(struct jit_ctx *c, size_t label)
{
	ua_jit_label_bind(&c->l, label, c->b.len);
}

/* A jcc to a cold stub that ends the run with kind at insn idx. */
static void jcc_fail(struct jit_ctx *c, enum x86_cc cc, enum jit_fail_kind kind, size_t idx)
{
	struct cold_stub *s;

	if (c->n_stubs == c->cap_stubs) {
		size_t cap = c->cap_stubs ? 2 * c->cap_stubs : 64;
		void *q = realloc(c->stubs, cap * sizeof(*c->stubs));

		if (!q) {
			c->oom = true;
			return;
		}
		c->stubs = q;
		c->cap_stubs = cap;
	}
	s = &c->stubs[c->n_stubs++];
	*s = (struct cold_stub){ ua_jit_label_new(&c->l), kind, idx };
	jump_to(c, emit_jcc_rel32(&c->b, cc), s->label);
}

/* The access at pc may fault: zero dst_reg (-1: none), resume at resume_label or after it. */
static void add_extable_to(struct jit_ctx *c, size_t pc, int dst_reg, size_t resume_label)
{
	if (c->host_atomic)
		return;
	if (c->n_ext == c->cap_ext) {
		size_t cap = c->cap_ext ? 2 * c->cap_ext : 64;
		void *q = realloc(c->ext, cap * sizeof(*c->ext));
		void *r = q ? realloc(c->ext_resume, cap * sizeof(*c->ext_resume)) : NULL;

		if (q)
			c->ext = q;
		if (!q || !r) {
			c->oom = true;
			return;
		}
		c->ext_resume = r;
		c->cap_ext = cap;
	}
	c->ext_resume[c->n_ext] = resume_label;
	c->ext[c->n_ext++] = (struct jit_extable){
		.pc = (uint32_t)pc, .resume = (uint32_t)c->b.len,
		.greg = dst_reg >= 0 ? greg_of(dst_reg) : -1,
	};
}

static void add_extable(struct jit_ctx *c, size_t pc, int dst_reg)
{
	add_extable_to(c, pc, dst_reg, SIZE_MAX);
}

static void spill_all(struct jit_ctx *c)
{
	for (int i = 0; i < UA_MAX_BPF_REG; i++)
		emit_store64(&c->b, RUNR, REG_OFF(i), c->map[i]);
}

static void reload_all(struct jit_ctx *c)
{
	for (int i = 0; i < UA_MAX_BPF_REG; i++)
		emit_load64(&c->b, c->map[i], RUNR, REG_OFF(i));
}

static void emit_call_abs(struct jit_ctx *c, const void *fn)
{
	emit_mov_ri(&c->b, true, T1, (int64_t)(uintptr_t)fn);
	emit_call_reg(&c->b, T1);
}

/*
 * Calls fn(run, a1, a2, a3) with every BPF register spilled to run->regs and
 * reloaded afterwards; a non-zero return ends the run through the error exit.
 * a1 may be a register (a1_reg >= 0) read before anything is clobbered.
 */
static void emit_slow_call(struct jit_ctx *c, const void *fn, int a1_reg, uint64_t a1,
			   uint64_t a2, uint64_t a3)
{
	spill_all(c);
	if (a1_reg >= 0)
		emit_mov_rr(&c->b, true, RSI, a1_reg);
	else
		emit_mov_ri(&c->b, true, RSI, (int64_t)a1);
	emit_mov_rr(&c->b, true, RDI, RUNR);
	emit_mov_ri(&c->b, true, RDX, (int64_t)a2);
	emit_mov_ri(&c->b, true, RCX, (int64_t)a3);
	emit_call_abs(c, fn);
	emit_mov_rr(&c->b, false, T2, RAX);
	reload_all(c);
	emit_test_rr(&c->b, false, T2, T2);
	jump_to(c, emit_jcc_rel32(&c->b, CC_NE), c->l_err);
}

/* Stops the run when a helper set ex->exit_now. */
static void emit_exit_now_check(struct jit_ctx *c)
{
	emit_load64(&c->b, T1, RUNR, RUN_OFF(ex));
	emit_op_mem(&c->b, false, 0x80, 7, T1, -1, (int32_t)offsetof(struct ua_exec, exit_now),
		    false);
	emit1(&c->b, 0);
	jump_to(c, emit_jcc_rel32(&c->b, CC_NE), c->l_done);
}

/* ---- ALU ---- */

/* dst = dst op src for div/mod: zero and -1 divisors never reach div/idiv (#DE). */
static void emit_divmod(struct jit_ctx *c, bool w, bool is_mod, bool is_signed, int dst, int src,
			bool is_k, int64_t imm)
{
	struct x86_buf *b = &c->b;
	size_t l_zero = ua_jit_label_new(&c->l), l_neg1 = ua_jit_label_new(&c->l);
	size_t l_end = ua_jit_label_new(&c->l);

	if (is_k)
		emit_mov_ri(b, w, T1, w ? imm : (int64_t)(uint32_t)imm);
	else
		emit_mov_rr(b, w, T1, src);
	emit_test_rr(b, w, T1, T1);
	jump_to(c, emit_jcc_rel32(b, CC_E), l_zero);
	if (is_signed) {
		emit_alu_ri(b, w, ALU_CMP, T1, -1);
		jump_to(c, emit_jcc_rel32(b, CC_E), l_neg1);
	}
	emit_push(b, RAX);
	emit_push(b, RDX);
	emit_mov_rr(b, w, RAX, dst);
	if (is_signed) {
		if (w)
			emit1(b, 0x48);
		emit1(b, 0x99); /* cqo / cdq */
	} else {
		emit_alu_rr(b, false, ALU_XOR, RDX, RDX);
	}
	emit_op_rr(b, w, 0xf7, is_signed ? 7 : 6, T1, false); /* (i)div T1 */
	emit_mov_rr(b, true, T1, is_mod ? RDX : RAX);
	emit_pop(b, RDX);
	emit_pop(b, RAX);
	emit_mov_rr(b, true, dst, T1);
	jump_to(c, emit_jmp_rel32(b), l_end);

	bind_here(c, l_zero); /* x / 0 = 0, x % 0 = x (32-bit forms zero-extend) */
	if (!is_mod)
		emit_alu_rr(b, false, ALU_XOR, dst, dst);
	else if (!w)
		emit_mov_rr(b, false, dst, dst);
	if (is_signed) {
		jump_to(c, emit_jmp_rel32(b), l_end);
		bind_here(c, l_neg1); /* x / -1 = -x (INT_MIN stays), x % -1 = 0 */
		if (is_mod)
			emit_alu_rr(b, false, ALU_XOR, dst, dst);
		else
			emit_op_rr(b, w, 0xf7, 3, dst, false); /* neg */
	} else {
		bind_here(c, l_neg1);
	}
	bind_here(c, l_end);
}

/* dst <<= / >>= src (count from a register: x86 wants it in cl). */
static void emit_shift_reg(struct jit_ctx *c, bool w, enum x86_shift op, int dst, int src)
{
	struct x86_buf *b = &c->b;

	emit_mov_rr(b, true, T1, src);
	emit_mov_rr(b, true, T2, RCX);
	emit_mov_rr(b, true, RCX, T1);
	if (dst == RCX) {
		emit_shift_cl(b, w, op, T2);
		emit_mov_rr(b, w, RCX, T2);
	} else {
		emit_shift_cl(b, w, op, dst);
		emit_mov_rr(b, true, RCX, T2);
		if (!w) /* a zero count leaves the register unwritten: zero-extend */
			emit_mov_rr(b, false, dst, dst);
	}
}

static void emit_alu(struct jit_ctx *c, const struct interp_insn *in)
{
	static const enum x86_alu simple[] = {
		[0] = ALU_ADD, [1] = ALU_SUB, [7] = ALU_OR, [8] = ALU_AND, [12] = ALU_XOR,
	};
	static const enum x86_shift shifts[] = { [9] = SH_SHL, [10] = SH_SHR, [11] = SH_SAR };
	struct x86_buf *b = &c->b;
	bool w = in->op >= OP_ADD64_K && in->op <= OP_MOVSX32_64;
	unsigned k = in->op - (w ? OP_ADD64_K : OP_ADD32_K);
	bool is_k = !(k & 1);
	int dst = c->map[in->dst], src = c->map[in->src];
	int32_t imm = (int32_t)in->imm;

	switch (k) {
	case 28: /* movsx8 */
		emit_op_rr(b, w, 0x0fbe, dst, src, true);
		return;
	case 29: /* movsx16 */
		emit_op_rr(b, w, 0x0fbf, dst, src, false);
		return;
	case 30: /* neg */
		emit_op_rr(b, w, 0xf7, 3, dst, false);
		return;
	case 31: /* movsx32 (64-bit only) */
		emit_op_rr(b, true, 0x63, dst, src, false);
		return;
	}
	switch (k / 2) {
	case 0: case 1: case 7: case 8: case 12:
		if (is_k)
			emit_alu_ri(b, w, simple[k / 2], dst, imm);
		else
			emit_alu_rr(b, w, simple[k / 2], dst, src);
		return;
	case 2: /* mul */
		if (is_k) {
			emit_op_rr(b, w, 0x69, dst, dst, false);
			emit4(b, (uint32_t)imm);
		} else {
			emit_op_rr(b, w, 0x0faf, dst, src, false);
		}
		return;
	case 3: case 4: case 5: case 6: /* div sdiv mod smod */
		emit_divmod(c, w, k / 2 >= 5, k / 2 == 4 || k / 2 == 6, dst, src, is_k, in->imm);
		return;
	case 9: case 10: case 11:
		if (is_k) {
			emit_shift_ri(b, w, shifts[k / 2], dst, (uint8_t)imm);
			if (!w)
				emit_mov_rr(b, false, dst, dst);
		} else {
			emit_shift_reg(c, w, shifts[k / 2], dst, src);
		}
		return;
	case 13: /* mov */
		if (is_k)
			emit_mov_ri(b, w, dst, w ? in->imm : (int64_t)(uint32_t)imm);
		else
			emit_mov_rr(b, w, dst, src);
		return;
	}
	UA_NEVER(1);
}

static void emit_endian(struct jit_ctx *c, const struct interp_insn *in)
{
	struct x86_buf *b = &c->b;
	int dst = c->map[in->dst];

	switch (in->op) {
	case OP_LE16:
		emit_op_rr(b, false, 0x0fb7, dst, dst, false); /* movzx r32, r16 */
		break;
	case OP_LE32:
		emit_mov_rr(b, false, dst, dst);
		break;
	case OP_LE64:
		break;
	case OP_BE16:
	case OP_BSWAP16:
		emit1(b, 0x66);
		emit_shift_ri(b, false, SH_ROL, dst, 8);
		emit_op_rr(b, false, 0x0fb7, dst, dst, false);
		break;
	case OP_BE32:
	case OP_BSWAP32:
	case OP_BE64:
	case OP_BSWAP64:
		emit_rex(b, in->op == OP_BE64 || in->op == OP_BSWAP64, 0, -1, dst, false);
		emit1(b, 0x0f);
		emit1(b, (uint8_t)(0xc8 + (dst & 7)));
		break;
	}
}

/* ---- memory ---- */

struct mem_access {
	bool load, sign, store_imm;
	unsigned size;
	int reg;     /* load destination / store source */
	int64_t imm; /* ST immediate */
};

/* The access itself at [base + index + disp] (index -1: none). */
static void emit_access(struct jit_ctx *c, const struct mem_access *a, int base, int index,
			int32_t disp)
{
	static const uint16_t load_op[2][9] = {
		{ [1] = 0x0fb6, [2] = 0x0fb7, [4] = 0x8b, [8] = 0x8b },
		{ [1] = 0x0fbe, [2] = 0x0fbf, [4] = 0x63 },
	};
	struct x86_buf *b = &c->b;

	if (a->load) {
		emit_op_mem(b, a->sign || a->size == 8, load_op[a->sign][a->size], a->reg, base,
			    index, disp, false);
		return;
	}
	if (a->size == 2)
		emit1(b, 0x66);
	if (a->store_imm) {
		emit_op_mem(b, a->size == 8, a->size == 1 ? 0xc6 : 0xc7, 0, base, index, disp,
			    false);
		if (a->size == 1)
			emit1(b, (uint8_t)a->imm);
		else if (a->size == 2)
			emit1(b, (uint8_t)a->imm), emit1(b, (uint8_t)(a->imm >> 8));
		else
			emit4(b, (uint32_t)a->imm);
	} else {
		emit_op_mem(b, a->size == 8, a->size == 1 ? 0x88 : 0x89, a->reg, base, index, disp,
			    a->size == 1);
	}
}

/* Jumps to l_ok when [T1, T1 + size) lies in [run->lo, run->lo + run->len). */
static void emit_range_check(struct jit_ctx *c, int32_t lo_off, int32_t len_off, unsigned size,
			     size_t l_ok)
{
	struct x86_buf *b = &c->b;
	size_t l_miss = ua_jit_label_new(&c->l);

	emit_mov_rr(b, true, T2, T1);
	emit_op_mem(b, true, 0x2b, T2, RUNR, -1, lo_off, false); /* sub */
	emit_alu_ri(b, true, ALU_ADD, T2, (int32_t)size);
	jump_to(c, emit_jcc_rel32(b, CC_B), l_miss);
	emit_op_mem(b, true, 0x3b, T2, RUNR, -1, len_off, false); /* cmp */
	jump_to(c, emit_jcc_rel32(b, CC_BE), l_ok);
	bind_here(c, l_miss);
}

/* Jumps to l_ok when T1 is a valid address (active stack frames, cached region). */
static void emit_host_check(struct jit_ctx *c, bool load, unsigned size, size_t l_ok)
{
	emit_range_check(c, RUN_OFF(stack_lo), RUN_OFF(stack_len), size, l_ok);
	emit_range_check(c, load ? RUN_OFF(load_lo) : RUN_OFF(store_lo),
			 load ? RUN_OFF(load_len) : RUN_OFF(store_len), size, l_ok);
}

static void emit_load_store(struct jit_ctx *c, const struct interp_insn *in, size_t idx)
{
	static const uint8_t load_size[] = { 1, 2, 4, 8, 1, 2, 4 };
	struct x86_buf *b = &c->b;
	struct mem_access a = { 0 };
	int base;
	int32_t off = (int16_t)in->off;
	size_t l_end = ua_jit_label_new(&c->l), l_host = ua_jit_label_new(&c->l);
	size_t l_slow = ua_jit_label_new(&c->l), l_ok = ua_jit_label_new(&c->l);

	if (in->op >= OP_LDX_B && in->op <= OP_LDXS_W) {
		a.load = true;
		a.sign = in->op >= OP_LDXS_B;
		a.size = load_size[in->op - OP_LDX_B];
		a.reg = c->map[in->dst];
		base = c->map[in->src];
	} else {
		a.size = 1u << ((in->op - OP_ST_B) & 3);
		a.store_imm = in->op <= OP_ST_DW;
		a.reg = c->map[in->src];
		a.imm = in->imm;
		base = c->map[in->dst];
	}
	/* r10 is never an arena pointer: ua_jit_run keeps the stack above 4 GiB. */
	if (c->p->has_arena && base != c->map[10]) {
		emit_mov_rr(b, true, T1, base);
		emit_shift_ri(b, true, SH_SHR, T1, 32);
		jump_to(c, emit_jcc_rel32(b, CC_NE), l_host);
		emit_test_rr(b, true, ARENAR, ARENAR);
		jcc_fail(c, CC_E, JIT_FAIL_NO_ARENA, idx);
		emit_mov_rr(b, false, T1, base);
		size_t pc = b->len;
		emit_access(c, &a, ARENAR, T1, off);
		add_extable(c, pc, a.load ? a.reg : -1);
		if (a.load && c->n_ext && c->ext[c->n_ext - 1].pc == pc) {
			c->ext[c->n_ext - 1].load_size = (uint8_t)a.size;
			c->ext[c->n_ext - 1].load_sign = a.sign;
		}
		jump_to(c, emit_jmp_rel32(b), l_end);
	}
	bind_here(c, l_host);
	if (base == c->map[10] && off >= -UA_STACK_SIZE && off + (int32_t)a.size <= 0) {
		/* r10 is read-only: a constant offset into the current frame is always valid. */
		emit_access(c, &a, base, -1, off);
	} else {
		emit_lea(b, T1, base, off);
		emit_host_check(c, a.load, a.size, l_ok);
		bind_here(c, l_slow);
		emit_slow_call(c, (const void *)ua_jit_mem_slow, T1, 0,
			       a.size | (a.load ? 0 : 0x100), idx);
		emit_lea(b, T1, base, off);
		bind_here(c, l_ok);
		emit_access(c, &a, T1, -1, 0);
	}
	bind_here(c, l_end);
}

/* ---- atomics ---- */

/* Atomic read-modify-write on [T1]; fetching forms return the old value in src (r0 for cmpxchg). */
static void emit_rmw(struct jit_ctx *c, const struct interp_insn *in, bool w)
{
	static const enum x86_alu bitop[] = { [0x40 >> 4] = ALU_OR, [0x50 >> 4] = ALU_AND,
					      [0xa0 >> 4] = ALU_XOR, [0] = ALU_ADD };
	struct x86_buf *b = &c->b;
	int32_t op = (int32_t)in->imm;
	int src = c->map[in->src], r0 = c->map[0];
	size_t l_skip = ua_jit_label_new(&c->l), l_fault = ua_jit_label_new(&c->l);
	size_t l_retry = ua_jit_label_new(&c->l), pc;

	if (!(op & UA_FETCH)) { /* lock add/and/or/xor [T1], src */
		pc = b->len;
		emit1(b, 0xf0);
		emit_op_mem(b, w, (uint16_t)(0x01 + 8 * bitop[(op & 0xf0) >> 4]), src, T1, -1, 0,
			    false);
		add_extable(c, pc, -1);
	} else if (op == (UA_ADD | UA_FETCH) || op == UA_XCHG) {
		emit_mov_rr(b, true, T2, src);
		pc = b->len;
		if (op == UA_XCHG) {
			emit_op_mem(b, w, 0x87, T2, T1, -1, 0, false);
		} else {
			emit1(b, 0xf0);
			emit_op_mem(b, w, 0x0fc1, T2, T1, -1, 0, false); /* xadd */
		}
		add_extable_to(c, pc, -1, l_skip);
		emit_mov_rr(b, true, src, T2);
		bind_here(c, l_skip);
		return;
	} else { /* cmpxchg, or a fetching and/or/xor as a cmpxchg loop; rax is the comparand */
		bool is_cmpxchg = op == UA_CMPXCHG;

		if (is_cmpxchg)
			emit_mov_rr(b, true, T2, src);
		emit_push(b, RAX);
		if (is_cmpxchg) {
			emit_mov_rr(b, w, RAX, r0);
		} else {
			pc = b->len;
			emit_op_mem(b, w, 0x8b, RAX, T1, -1, 0, false);
			add_extable_to(c, pc, -1, l_fault);
			bind_here(c, l_retry);
			emit_mov_rr(b, true, T2, RAX);
			if (src == RAX) /* the pushed copy */
				emit_op_mem(b, w, (uint16_t)(0x03 + 8 * bitop[(op & 0xf0) >> 4]), T2,
					    RSP, -1, 0, false);
			else
				emit_alu_rr(b, w, bitop[(op & 0xf0) >> 4], T2, src);
		}
		pc = b->len;
		emit1(b, 0xf0);
		emit_op_mem(b, w, 0x0fb1, T2, T1, -1, 0, false); /* cmpxchg */
		add_extable_to(c, pc, -1, l_fault);
		if (!is_cmpxchg)
			jump_to(c, emit_jcc_rel32(b, CC_NE), l_retry);
		emit_mov_rr(b, true, T2, RAX);
		emit_pop(b, RAX);
		emit_mov_rr(b, true, is_cmpxchg ? r0 : src, T2);
		jump_to(c, emit_jmp_rel32(b), l_skip);
		bind_here(c, l_fault); /* nothing changed: only rax to restore */
		emit_pop(b, RAX);
	}
	bind_here(c, l_skip);
}

/*
 * Arena atomics inline with fault fixups (a faulting one changes nothing; a
 * faulting load-acquire yields 0); x86 is TSO, so load-acquire and
 * store-release are plain moves. Host memory goes to the C slow path.
 */
static void emit_atomic_on_t1(struct jit_ctx *c, const struct interp_insn *in)
{
	int32_t op = (int32_t)in->imm;

	if (op == UA_LOAD_ACQ || op == UA_STORE_REL) {
		struct mem_access a = {
			.load = op == UA_LOAD_ACQ, .size = in->size,
			.reg = c->map[op == UA_LOAD_ACQ ? in->dst : in->src],
		};
		size_t pc = c->b.len;

		emit_access(c, &a, T1, -1, 0);
		add_extable(c, pc, a.load ? a.reg : -1);
	} else {
		emit_rmw(c, in, in->size == 8);
	}
}

static void emit_atomic(struct jit_ctx *c, const struct interp_insn *in, size_t idx)
{
	struct x86_buf *b = &c->b;
	int32_t op = (int32_t)in->imm;
	int base = c->map[op == UA_LOAD_ACQ ? in->src : in->dst];
	size_t l_host = ua_jit_label_new(&c->l), l_end = ua_jit_label_new(&c->l);
	size_t l_ok = ua_jit_label_new(&c->l), l_slow = ua_jit_label_new(&c->l);

	if (c->p->has_arena && base != c->map[10]) {
		emit_mov_rr(b, true, T1, base);
		emit_shift_ri(b, true, SH_SHR, T1, 32);
		jump_to(c, emit_jcc_rel32(b, CC_NE), l_host);
		emit_test_rr(b, true, ARENAR, ARENAR);
		jcc_fail(c, CC_E, JIT_FAIL_NO_ARENA, idx);
		emit_mov_rr(b, false, T1, base);
		emit_op_mem(b, true, 0x8d, T1, ARENAR, T1, (int16_t)in->off, false); /* lea */
		emit_atomic_on_t1(c, in);
		jump_to(c, emit_jmp_rel32(b), l_end);
	}
	/* Host memory: inline when valid (stack, cached region) and aligned; else C,
	 * which also reports the error. */
	bind_here(c, l_host);
	emit_lea(b, T1, base, (int16_t)in->off);
	emit_host_check(c, op == UA_LOAD_ACQ, in->size, l_ok);
	jump_to(c, emit_jmp_rel32(b), l_slow);
	bind_here(c, l_ok);
	if (in->size > 1) {
		emit_test_ri(b, false, T1, (int32_t)in->size - 1);
		jump_to(c, emit_jcc_rel32(b, CC_NE), l_slow);
	}
	c->host_atomic = true;
	emit_atomic_on_t1(c, in);
	c->host_atomic = false;
	jump_to(c, emit_jmp_rel32(b), l_end);
	bind_here(c, l_slow);
	emit_slow_call(c, (const void *)ua_jit_atomic, -1, idx, 0, 0);
	bind_here(c, l_end);
}

/* ---- jumps and calls ---- */

/* Back-edges pay for the loop body so every loop ends within the budget. */
static void emit_budget_charge(struct jit_ctx *c, size_t idx, size_t target)
{
	size_t body = idx - target + 1;

	if (target > idx)
		return;
	emit_alu_mi(&c->b, true, ALU_SUB, RUNR, RUN_OFF(budget),
		    body > INT32_MAX ? INT32_MAX : (int32_t)body);
	jcc_fail(c, CC_BE, JIT_FAIL_BUDGET, idx);
}

static void emit_cond_jump(struct jit_ctx *c, const struct interp_insn *in)
{
	static const enum x86_cc cc[] = {
		CC_E, CC_A, CC_AE, CC_NE /* jset */, CC_NE, CC_G, CC_GE, CC_B, CC_BE, CC_L, CC_LE,
	};
	struct x86_buf *b = &c->b;
	bool w = in->op >= OP_JEQ64_K && in->op <= OP_JSLE64_X;
	unsigned k = in->op - (w ? OP_JEQ64_K : OP_JEQ32_K);
	int dst = c->map[in->dst], src = c->map[in->src];

	if (k / 2 == 3) { /* jset */
		if (k & 1)
			emit_test_rr(b, w, dst, src);
		else
			emit_test_ri(b, w, dst, (int32_t)in->imm);
	} else if (k & 1) {
		emit_alu_rr(b, w, ALU_CMP, dst, src);
	} else {
		emit_alu_ri(b, w, ALU_CMP, dst, (int32_t)in->imm);
	}
	jump_to(c, emit_jcc_rel32(b, cc[k / 2]), (size_t)in->off);
}

static void emit_call_local(struct jit_ctx *c, const struct interp_insn *in, size_t idx)
{
	struct x86_buf *b = &c->b;

	size_t l_zeroed = ua_jit_label_new(&c->l);

	emit_budget_charge(c, idx, (size_t)in->off);
	/* Enter the callee's frame: depth, r10, the active stack (also ex's view). */
	emit_alu_mi(b, false, ALU_CMP, RUNR, RUN_OFF(depth), UA_MAX_CALL_DEPTH - 2);
	jcc_fail(c, CC_A, JIT_FAIL_DEPTH, idx);
	emit_alu_mi(b, false, ALU_ADD, RUNR, RUN_OFF(depth), 1);
	emit_alu_ri(b, true, ALU_SUB, c->map[10], UA_STACK_SIZE);
	emit_load64(b, T1, RUNR, RUN_OFF(stack_lo));
	emit_alu_ri(b, true, ALU_SUB, T1, UA_STACK_SIZE);
	emit_store64(b, RUNR, RUN_OFF(stack_lo), T1);
	emit_alu_mi(b, true, ALU_ADD, RUNR, RUN_OFF(stack_len), UA_STACK_SIZE);
	emit_load64(b, T2, RUNR, RUN_OFF(ex));
	emit_store64(b, T2, (int32_t)offsetof(struct ua_exec, stack_lo), T1);
	emit_op_mem(b, true, 0x3b, T1, RUNR, -1, RUN_OFF(zeroed_lo), false); /* cmp */
	jump_to(c, emit_jcc_rel32(b, CC_AE), l_zeroed);
	emit_slow_call(c, (const void *)ua_jit_zero_frame, -1, 0, 0, 0);
	bind_here(c, l_zeroed);
	/* 5 pushes + the return address keep the callee 16-byte aligned. */
	for (int r = 6; r <= 9; r++)
		emit_push(b, c->map[r]);
	emit_push_mem(b, RUNR, RUN_OFF(loops_left));
	emit_op_mem(b, true, 0xc7, 0, RUNR, -1, RUN_OFF(loops_left), false);
	emit4(b, (uint32_t)JIT_MAY_GOTO_BUDGET);
	jump_to(c, emit_call_rel32(b), (size_t)in->off);
	emit_pop_mem(b, RUNR, RUN_OFF(loops_left));
	for (int r = 9; r >= 6; r--)
		emit_pop(b, c->map[r]);
	/* Leave the callee's frame: r10 and the active stack move back up. */
	emit_alu_ri(b, true, ALU_ADD, c->map[10], UA_STACK_SIZE);
	emit_alu_mi(b, false, ALU_SUB, RUNR, RUN_OFF(depth), 1);
	emit_load64(b, T1, RUNR, RUN_OFF(stack_lo));
	emit_alu_ri(b, true, ALU_ADD, T1, UA_STACK_SIZE);
	emit_store64(b, RUNR, RUN_OFF(stack_lo), T1);
	emit_alu_mi(b, true, ALU_SUB, RUNR, RUN_OFF(stack_len), UA_STACK_SIZE);
	emit_load64(b, T2, RUNR, RUN_OFF(ex));
	emit_store64(b, T2, (int32_t)offsetof(struct ua_exec, stack_lo), T1);
}

static void emit_call_helper(struct jit_ctx *c, const struct interp_insn *in)
{
	static const uint8_t args[] = { RSI, RDX, RCX, R8, R9 };
	struct x86_buf *b = &c->b;

	spill_all(c);
	emit_load64(b, RDI, RUNR, RUN_OFF(ex));
	for (int i = 0; i < 5; i++)
		emit_load64(b, args[i], RUNR, REG_OFF(i + 1));
	emit_call_abs(c, (const void *)in->fn);
	emit_store64(b, RUNR, REG_OFF(0), RAX);
	reload_all(c);
	emit_exit_now_check(c);
}

static void emit_insn(struct jit_ctx *c, const struct interp_insn *in, size_t idx)
{
	struct x86_buf *b = &c->b;

	if (in->op >= OP_ADD64_K && in->op <= OP_NEG32) {
		emit_alu(c, in);
	} else if (in->op >= OP_LE16 && in->op <= OP_BSWAP64) {
		emit_endian(c, in);
	} else if (in->op >= OP_LDX_B && in->op <= OP_STX_DW) {
		emit_load_store(c, in, idx);
	} else if (in->op >= OP_JEQ64_K && in->op <= OP_JSLE32_X) {
		emit_budget_charge(c, idx, (size_t)in->off);
		emit_cond_jump(c, in);
	} else {
		switch (in->op) {
		case OP_CAST_KERN:
			emit_mov_rr(b, false, c->map[in->dst], c->map[in->src]);
			break;
		case OP_CAST_USER:
			emit_slow_call(c, (const void *)ua_jit_cast_user, -1, idx, 0, 0);
			break;
		case OP_LD_IMM64:
			emit_mov_ri(b, true, c->map[in->dst], (int64_t)in->u64);
			break;
		case OP_ATOMIC:
			emit_atomic(c, in, idx);
			break;
		case OP_JA:
			emit_budget_charge(c, idx, (size_t)in->off);
			jump_to(c, emit_jmp_rel32(b), (size_t)in->off);
			break;
		case OP_MAY_GOTO:
			emit_budget_charge(c, idx, (size_t)in->off);
			emit_alu_mi(b, true, ALU_CMP, RUNR, RUN_OFF(loops_left), 0);
			jump_to(c, emit_jcc_rel32(b, CC_E), (size_t)in->off);
			emit_alu_mi(b, true, ALU_SUB, RUNR, RUN_OFF(loops_left), 1);
			break;
		case OP_CALL_HELPER:
			emit_call_helper(c, in);
			break;
		case OP_CALLX:
			emit_slow_call(c, (const void *)ua_jit_callx, -1, idx, 0, 0);
			emit_exit_now_check(c);
			break;
		case OP_CALL_LOCAL:
			emit_call_local(c, in, idx);
			break;
		case OP_EXIT:
			emit_alu_mi(b, false, ALU_CMP, RUNR, RUN_OFF(depth), 0);
			jump_to(c, emit_jcc_rel32(b, CC_E), c->l_done);
			emit_ret(b);
			break;
		default: /* OP_INVALID: ld_imm64's second slot, never reached */
			break;
		}
	}
}

static const uint8_t callee_saved[] = { RBX, RBP, R12, R13, R14, R15 };

static void emit_prologue(struct jit_ctx *c)
{
	struct x86_buf *b = &c->b;

	for (size_t i = 0; i < sizeof(callee_saved); i++)
		emit_push(b, callee_saved[i]);
	emit_alu_ri(b, true, ALU_SUB, RSP, 8);
	emit_mov_rr(b, true, RUNR, RDI);
	emit_store64(b, RUNR, RUN_OFF(entry_rsp), RSP);
	emit_load64(b, ARENAR, RUNR, RUN_OFF(arena_base));
	reload_all(c);
	emit_op_mem(b, false, 0xff, 4, RUNR, -1, RUN_OFF(start), false); /* jmp [start] */
}

/* Common exits and the cold stubs, after the body. */
static void emit_exits(struct jit_ctx *c)
{
	struct x86_buf *b = &c->b;
	size_t l_epilogue = ua_jit_label_new(&c->l);

	bind_here(c, c->l_done);
	emit_store64(b, RUNR, REG_OFF(0), c->map[0]);
	emit_alu_rr(b, false, ALU_XOR, RAX, RAX);
	jump_to(c, emit_jmp_rel32(b), l_epilogue);
	bind_here(c, c->l_err);
	emit_op_mem(b, false, 0x8b, RAX, RUNR, -1, RUN_OFF(status), false);
	bind_here(c, l_epilogue);
	emit_load64(b, RSP, RUNR, RUN_OFF(entry_rsp));
	emit_alu_ri(b, true, ALU_ADD, RSP, 8);
	for (size_t i = sizeof(callee_saved); i-- > 0;)
		emit_pop(b, callee_saved[i]);
	emit_ret(b);
	for (size_t i = 0; i < c->n_stubs; i++) {
		bind_here(c, c->stubs[i].label);
		emit_load64(b, RSP, RUNR, RUN_OFF(entry_rsp));
		emit_mov_rr(b, true, RDI, RUNR);
		emit_mov_ri(b, true, RSI, c->stubs[i].kind);
		emit_mov_ri(b, true, RDX, (int64_t)c->stubs[i].idx);
		emit_call_abs(c, (const void *)ua_jit_fail);
		jump_to(c, emit_jmp_rel32(b), c->l_err);
	}
}

/*
 * A faulting load's destination: 0 as the kernel's fixup makes it, unless a
 * test injects a value (probe.h); sign-extended as the load would have.
 */
static uint64_t faulting_load_value(const struct jit_extable *e)
{
	uint64_t v;
	unsigned shift;

	if (!e->load_size)
		return 0;
	v = ua_probe_faulting_load_result(e->load_size);
	if (!e->load_sign || e->load_size == 8)
		return v;
	shift = 64 - 8u * e->load_size;
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uintptr_t jit_fault_resolver(uintptr_t pc, void *ucv, void *data)
{
	const struct ua_jit_prog *jp = data;
	ucontext_t *uc = ucv;
	uintptr_t code = (uintptr_t)jp->code;
	size_t lo = 0, hi = jp->n_ext;

	if (pc < code || pc >= code + jp->code_len)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jit_extable *e = &jp->ext[mid];

		if (e->pc == pc - code) {
			if (e->greg >= 0)
				uc->uc_mcontext.gregs[e->greg] = (greg_t)faulting_load_value(e);
			return code + e->resume;
		}
		if (e->pc < pc - code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int check_regmap(const uint8_t *map, char *err, size_t err_sz)
{
	for (int i = 0; i < UA_MAX_BPF_REG; i++) {
		bool ok = false;

		for (int j = 0; j < UA_JIT_N_ALLOCATABLE; j++)
			ok |= map[i] == ua_jit_allocatable[j];
		for (int j = 0; j < i; j++)
			ok &= map[j] != map[i];
		if (!ok)
			return ua_errf(err, err_sz, -EINVAL,
				       "jit: register map: r%d -> x86 register %u is not allowed", i,
				       map[i]);
	}
	return 0;
}

static int translate(struct jit_ctx *c, struct ua_jit_prog *jp, char *err, size_t err_sz)
{
	const struct ua_prog *p = c->p;
	int ret;

	for (size_t i = 0; i < p->n; i++) /* labels 0..n-1 are the insns */
		ua_jit_label_new(&c->l);
	c->l_done = ua_jit_label_new(&c->l);
	c->l_err = ua_jit_label_new(&c->l);
	emit_prologue(c);
	for (size_t i = 0; i < p->n; i++) {
		bind_here(c, i);
		emit_insn(c, &p->insns[i], i);
	}
	emit_exits(c);
	if (c->b.oom || c->l.oom || c->oom)
		return ua_errf(err, err_sz, -ENOMEM, "jit: out of memory");
	ret = ua_jit_labels_resolve(&c->l, c->b.p);
	if (ret)
		return ua_errf(err, err_sz, ret, "jit: unresolved jump (%d)", ret);
	jp->code = ua_jit_execmem_alloc(c->b.p, c->b.len, &jp->mapped_len);
	if (!jp->code)
		return ua_errf(err, err_sz, -ENOMEM, "jit: cannot map %zu bytes of code",
			       c->b.len);
	jp->code_len = c->b.len;
	jp->entry = (int (*)(struct jit_run *))jp->code;
	for (size_t i = 0; i < c->n_ext; i++)
		if (c->ext_resume[i] != SIZE_MAX)
			c->ext[i].resume = (uint32_t)c->l.pos[c->ext_resume[i]];
	jp->ext = c->ext;
	jp->n_ext = c->n_ext;
	c->ext = NULL;
	jp->insn_off = malloc((p->n ? p->n : 1) * sizeof(*jp->insn_off));
	if (!jp->insn_off)
		return ua_errf(err, err_sz, -ENOMEM, "jit: out of memory");
	for (size_t i = 0; i < p->n; i++)
		jp->insn_off[i] = (uint32_t)c->l.pos[i];
	return 0;
}

/* Makes the fault handler resolve faults in jp's code; if it cannot, jp interprets. */
static void register_fixups(struct ua_jit_prog *jp)
{
	int ret = ua_probe_init();

	if (!ret)
		ret = ua_probe_register_code((uintptr_t)jp->code, (uintptr_t)jp->code + jp->code_len,
					     jit_fault_resolver, jp);
	jp->registered = !ret;
	if (ret) { /* e.g. -ENOSPC: too many live JIT programs with an arena */
		ua_jit_execmem_free(jp->code, jp->mapped_len);
		jp->code = NULL;
		jp->code_len = 0;
		jp->fallback = "the fault handler has no room for more JIT code";
	}
}

int ua_jit_compile(const struct ua_prog *p, const struct ua_jit_opts *opts, char *err,
		   size_t err_sz, struct ua_jit_prog **out)
{
	struct jit_ctx c = { .p = p };
	struct ua_jit_prog *jp;
	int ret;

	if (!p || !out)
		return -EINVAL;
	memcpy(c.map, opts && opts->regmap ? opts->regmap : ua_jit_allocatable, sizeof(c.map));
	ret = check_regmap(c.map, err, err_sz);
	if (ret)
		return ret;
	jp = calloc(1, sizeof(*jp));
	if (!jp)
		return ua_errf(err, err_sz, -ENOMEM, "jit: out of memory");
	jp->prog = p;
	ret = translate(&c, jp, err, err_sz);
	if (!ret && p->has_arena && jp->n_ext)
		register_fixups(jp);
	free(c.b.p);
	free(c.stubs);
	free(c.ext);
	free(c.ext_resume);
	ua_jit_labels_free(&c.l);
	if (ret) {
		ua_jit_free(jp);
		return ret;
	}
	*out = jp;
	return 0;
}

#else /* !__x86_64__ */

const uint8_t ua_jit_allocatable[UA_JIT_N_ALLOCATABLE];

int ua_jit_compile(const struct ua_prog *p, const struct ua_jit_opts *opts, char *err,
		   size_t err_sz, struct ua_jit_prog **out)
{
	struct ua_jit_prog *jp;

	if (!p || !out)
		return -EINVAL;
	jp = calloc(1, sizeof(*jp));
	if (!jp)
		return ua_errf(err, err_sz, -ENOMEM, "jit: out of memory");
	jp->prog = p;
	jp->fallback = "the JIT needs an x86-64 host";
	*out = jp;
	return 0;
}

#endif

void ua_jit_free(struct ua_jit_prog *jp)
{
	if (!jp)
		return;
	if (jp->registered)
		ua_probe_unregister_code((uintptr_t)jp->code);
	ua_jit_execmem_free(jp->code, jp->mapped_len);
	free(jp->ext);
	free(jp->insn_off);
	free(jp);
}

const char *ua_jit_fallback_reason(const struct ua_jit_prog *jp)
{
	return jp->fallback;
}

size_t ua_jit_code_size(const struct ua_jit_prog *jp)
{
	return jp->code_len;
}
