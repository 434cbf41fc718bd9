/* SPDX-License-Identifier: MIT */
/*
 * Interpreter semantics per instruction class (exact RFC 9669 edge cases),
 * memory classification and bounds, atomics, calls and frames, budget,
 * may_goto, helpers and resolution, and several threads on one program.
 * Every program runs on both dispatch flavours, which must agree exactly.
 */
#include "arena.h"
#include "insn_build.h"
#include "interp.h"
#include "isa.h"
#include "jit.h"
#include "test.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Run errors agree up to the numbers after "0x": host addresses (the run
 * stack) differ between engines.
 */
static bool same_error(const char *a, const char *b)
{
	while (*a && *a == *b) {
		if (a[0] == '0' && a[1] == 'x') {
			a += 2, b += 2;
			while (isxdigit((unsigned char)*a))
				a++;
			while (isxdigit((unsigned char)*b))
				b++;
			continue;
		}
		a++, b++;
	}
	return *a == *b;
}

/* The JIT with the default (0) or a shuffled (1) register map. */
static int run_jit(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		   uint64_t *r0, bool shuffled)
{
	static const uint8_t shuffled_map[UA_MAX_BPF_REG] = { 3, 14, 13, 0, 8, 1, 7, 6, 2, 5, 9 };
	struct ua_jit_opts jo = { shuffled ? shuffled_map : NULL };
	struct ua_jit_prog *jp = NULL;
	char err[256] = "";
	int ret = ua_jit_compile(p, &jo, err, sizeof(err), &jp);

	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "jit compile: %d %s", ret, err);
		return ret;
	}
	ret = ua_jit_run(jp, ex, args, r0);
	ua_jit_free(jp);
	return ret;
}

/*
 * Runs on both flavours and on the JIT (default and shuffled register map);
 * requires identical outcomes; returns the result. The JIT charges the
 * budget per back-edge, so a run the interpreter stops with -ETIME is not
 * compared.
 */
static int run_both(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		    uint64_t *r0)
{
	const struct ua_exec ex0 = *ex;
	struct ua_exec ex2 = *ex;
	uint64_t r0_switch = 0;
	int ret_switch = ua_interp_run_with(p, &ex2, args, &r0_switch, UA_DISPATCH_SWITCH);
	int ret = ua_interp_run_with(p, ex, args, r0, UA_DISPATCH_THREADED);

	CHECK_EQ(ret_switch, ret);
	CHECK_EQ(r0_switch, *r0);
	CHECK_STR(ex2.err, ex->err);
	for (int shuffled = 0; ret != -ETIME && shuffled <= 1; shuffled++) {
		struct ua_exec ex3 = ex0;
		uint64_t r0_jit = 0;

		CHECK_EQ(run_jit(p, &ex3, args, &r0_jit, shuffled), ret);
		CHECK_EQ(r0_jit, *r0);
		if (!same_error(ex3.err, ex->err))
			ua_test_fail(__FILE__, __LINE__, "jit: \"%s\", interp: \"%s\"", ex3.err,
				     ex->err);
	}
	return ret;
}

static int run_prog(const struct ua_insn *insns, size_t n, const struct ua_call_resolver *res,
		    struct ua_exec *ex, const uint64_t args[5], uint64_t *r0)
{
	struct ua_prog *p = NULL;
	char err[256] = "";
	int ret = ua_prog_prepare(insns, n, res, err, sizeof(err), &p);

	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "prepare: %d %s", ret, err);
		return ret;
	}
	ret = run_both(p, ex, args, r0);
	ua_prog_free(p);
	return ret;
}

/* Runs a program that must succeed and returns r0. */
static uint64_t eval(const struct ua_insn *insns, size_t n)
{
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;
	int ret = run_prog(insns, n, NULL, &ex, NULL, &r0);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "run: %d %s", ret, ex.err);
	return r0;
}

#define EVAL(...)                                                             \
	({                                                                    \
		const struct ua_insn prog_[] = { __VA_ARGS__, UA_EXIT_INSN() };        \
		eval(prog_, N(prog_));                                        \
	})

#define I64_MIN_INSNS(reg) UA_LD_IMM64(reg, 0x8000000000000000ull)

TEST(interp, division_and_modulo_edges)
{
	/* Division by zero: quotient 0; modulo by zero: dividend unchanged. */
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 7), UA_MOV64_IMM(1, 0), UA_ALU64_REG(UA_DIV, 0, 1)), 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 7), UA_ALU64_IMM(UA_DIV, 0, 0)), 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU64_REG(UA_MOD, 0, 1)),
		 (uint64_t)-7);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_ALU64_IMM(UA_MOD, 0, 0)), (uint64_t)-7);
	/* 32-bit modulo by zero keeps the low half, zero-extended. */
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU32_REG(UA_MOD, 0, 1)),
		 0xfffffff9u);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_ALU32_IMM(UA_MOD, 0, 0)), 0xfffffff9u);
	/* A 32-bit divisor is the low half of the register only. */
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 8), UA_LD_IMM64(1, 0x100000000ull),
		      UA_ALU32_REG(UA_DIV, 0, 1)), 0);
	/* ALU64 immediates are sign-extended, then unsigned: 5 / 0xffff...ff = 0. */
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 5), UA_ALU64_IMM(UA_DIV, 0, -1)), 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -1), UA_ALU64_IMM(UA_DIV, 0, -1)), 1);
	/* Signed: INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0, truncation toward 0. */
	CHECK_EQ(EVAL(I64_MIN_INSNS(0), UA_ALU64_SIMM(UA_DIV, 0, -1)), 0x8000000000000000ull);
	CHECK_EQ(EVAL(I64_MIN_INSNS(0), UA_MOV64_IMM(1, -1), UA_ALU64_SREG(UA_MOD, 0, 1)), 0);
	CHECK_EQ(EVAL(UA_MOV32_IMM(0, INT32_MIN), UA_ALU32_SIMM(UA_DIV, 0, -1)), 0x80000000u);
	CHECK_EQ(EVAL(UA_MOV32_IMM(0, INT32_MIN), UA_MOV64_IMM(1, -1), UA_ALU32_SREG(UA_MOD, 0, 1)),
		 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_ALU64_SIMM(UA_DIV, 0, 2)), (uint64_t)-3);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_ALU64_SIMM(UA_MOD, 0, 2)), (uint64_t)-1);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 7), UA_ALU64_SIMM(UA_MOD, 0, -2)), 1);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_ALU32_SIMM(UA_MOD, 0, -2)), 0xffffffffu);
	/* Signed by zero: sdiv 0, smod unchanged (32-bit: zero-extended). */
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU64_SREG(UA_DIV, 0, 1)), 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU32_SREG(UA_MOD, 0, 1)),
		 0xfffffff9u);
}

TEST(interp, shifts_mask_the_count)
{
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_MOV64_IMM(1, 65), UA_ALU64_REG(UA_LSH, 0, 1)), 2);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_ALU64_IMM(UA_LSH, 0, 64)), 1);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 8), UA_MOV64_IMM(1, 33), UA_ALU32_REG(UA_RSH, 0, 1)), 4);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_ALU32_IMM(UA_LSH, 0, 35)), 8);
	CHECK_EQ(EVAL(UA_MOV32_IMM(0, INT32_MIN), UA_ALU32_IMM(UA_ARSH, 0, 4)), 0xf8000000u);
	CHECK_EQ(EVAL(I64_MIN_INSNS(0), UA_ALU64_IMM(UA_ARSH, 0, 63)), UINT64_MAX);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -16), UA_MOV64_IMM(1, 66), UA_ALU64_REG(UA_ARSH, 0, 1)),
		 (uint64_t)-4);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -1), UA_ALU64_IMM(UA_RSH, 0, 60)), 0xf);
}

TEST(interp, alu32_zero_extends_and_mov_forms)
{
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -1), UA_ALU32_IMM(UA_ADD, 0, 1)), 0);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -1), UA_ALU32_IMM(UA_OR, 0, 0)), 0xffffffffu);
	CHECK_EQ(EVAL(UA_MOV32_IMM(0, -1)), 0xffffffffu);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, -1)), UINT64_MAX);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, -2), UA_MOV32_REG(0, 1)), 0xfffffffeu);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_NEG32(0)), 0xffffffffu);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_NEG64(0)), UINT64_MAX);
	CHECK_EQ(EVAL(UA_MOV32_IMM(0, INT32_MIN), UA_NEG32(0)), 0x80000000u);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 0x7fffffff), UA_ALU32_IMM(UA_MUL, 0, 4)), 0xfffffffcu);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, 0x100000003ull), UA_ALU32_IMM(UA_SUB, 0, 4)), 0xffffffffu);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 0x0f), UA_ALU64_IMM(UA_XOR, 0, -1)), 0xfffffffffffffff0ull);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 0xff), UA_ALU64_IMM(UA_AND, 0, 0x0f)), 0x0f);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, 0x123456789abcdef0ull)), 0x123456789abcdef0ull);
}

TEST(interp, movsx_and_byte_order)
{
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x180), UA_MOVSX64_REG(0, 1, 8)), 0xffffffffffffff80ull);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x8000), UA_MOVSX64_REG(0, 1, 16)), 0xffffffffffff8000ull);
	CHECK_EQ(EVAL(UA_MOV32_IMM(1, INT32_MIN), UA_MOVSX64_REG(0, 1, 32)),
		 0xffffffff80000000ull);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x80), UA_MOVSX32_REG(0, 1, 8)), 0xffffff80u);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x8001), UA_MOVSX32_REG(0, 1, 16)), 0xffff8001u);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x7f), UA_MOVSX64_REG(0, 1, 8)), 0x7f);
#define V 0x1122334455667788ull
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_LE(0, 16)), 0x7788);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_LE(0, 32)), 0x55667788);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_LE(0, 64)), V);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_BE(0, 16)), 0x8877);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_BE(0, 32)), 0x88776655);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_ENDIAN_TO_BE(0, 64)), 0x8877665544332211ull);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_BSWAP(0, 16)), 0x8877);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_BSWAP(0, 32)), 0x88776655);
	CHECK_EQ(EVAL(UA_LD_IMM64(0, V), UA_BSWAP(0, 64)), 0x8877665544332211ull);
#undef V
}

TEST(interp, jumps_signed_unsigned_and_32bit)
{
	/* r0 = 1 when the jump is taken, 2 otherwise. */
#define TAKEN(setup, jmp) EVAL(setup, jmp, UA_MOV64_IMM(0, 2), UA_EXIT_INSN(), UA_MOV64_IMM(0, 1))
#define J(op, i) UA_JMP_IMM(op, 1, i, 2)
#define J32(op, i) UA_JMP32_IMM(op, 1, i, 2)
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -1), J(UA_JGT, 1)), 1);  /* unsigned: huge > 1 */
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -1), J(UA_JSGT, 1)), 2); /* signed: -1 > 1 false */
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -1), J(UA_JSLT, 0)), 1);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -1), J(UA_JEQ, -1)), 1);  /* imm sign-extended */
	CHECK_EQ(TAKEN(UA_MOV32_IMM(1, -1), J(UA_JEQ, -1)), 2);  /* 0xffffffff != -1 (64) */
	CHECK_EQ(TAKEN(UA_MOV32_IMM(1, -1), J32(UA_JEQ, -1)), 1);
	CHECK_EQ(TAKEN(UA_LD_IMM64(1, 0x100000005ull), J32(UA_JEQ, 5)), 1);
	CHECK_EQ(TAKEN(UA_LD_IMM64(1, 0x100000005ull), J(UA_JEQ, 5)), 2);
	CHECK_EQ(TAKEN(UA_LD_IMM64(1, 0x80000000ull), J32(UA_JSLT, 0)), 1);
	CHECK_EQ(TAKEN(UA_LD_IMM64(1, 0x80000000ull), J(UA_JSLT, 0)), 2);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 6), J(UA_JSET, 2)), 1);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 6), J(UA_JSET, 1)), 2);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 3), J(UA_JLE, 3)), 1);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 3), J(UA_JLT, 3)), 2);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -3), J(UA_JSGE, -3)), 1);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, -3), J(UA_JSLE, -4)), 2);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 4), J(UA_JNE, 4)), 2);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 4), J(UA_JGE, 4)), 1);
	CHECK_EQ(TAKEN(UA_MOV64_IMM(1, 4), UA_JMP32_REG(UA_JNE, 1, 1, 2)), 2);
	CHECK_EQ(EVAL(UA_MOV64_IMM(0, 1), UA_GOTOL(1), UA_MOV64_IMM(0, 2)), 1);
#undef TAKEN
#undef J
#undef J32
}

TEST(interp, stack_loads_stores_sign_extension)
{
	CHECK_EQ(EVAL(UA_ST_MEM(UA_DW, 10, -8, -2), UA_LDX_MEM(UA_DW, 0, 10, -8)), (uint64_t)-2);
	CHECK_EQ(EVAL(UA_ST_MEM(UA_W, 10, -8, -2), UA_LDX_MEM(UA_W, 0, 10, -8)), 0xfffffffeu);
	CHECK_EQ(EVAL(UA_ST_MEM(UA_H, 10, -2, 0x8123), UA_LDX_MEMSX(UA_H, 0, 10, -2)),
		 0xffffffffffff8123ull);
	CHECK_EQ(EVAL(UA_ST_MEM(UA_B, 10, -1, 0x80), UA_LDX_MEMSX(UA_B, 0, 10, -1)),
		 0xffffffffffffff80ull);
	CHECK_EQ(EVAL(UA_ST_MEM(UA_W, 10, -4, -5), UA_LDX_MEMSX(UA_W, 0, 10, -4)), (uint64_t)-5);
	CHECK_EQ(EVAL(UA_LD_IMM64(1, 0x1122334455667788ull), UA_STX_MEM(UA_DW, 10, 1, -8),
		      UA_LDX_MEM(UA_B, 0, 10, -8)), 0x88);
	/* Unaligned access inside the stack is fine (the interpreter copies bytes). */
	CHECK_EQ(EVAL(UA_LD_IMM64(1, 0x1122334455667788ull), UA_STX_MEM(UA_DW, 10, 1, -8),
		      UA_LDX_MEM(UA_H, 0, 10, -7)), 0x6677);
	/* The stack starts zeroed. */
	CHECK_EQ(EVAL(UA_LDX_MEM(UA_DW, 0, 10, -512)), 0);
}

TEST(interp, out_of_bounds_access_faults_with_insn_index)
{
	static const struct ua_insn above[] = {
		UA_MOV64_IMM(0, 0), UA_LDX_MEM(UA_DW, 0, 10, 0), UA_EXIT_INSN(),
	};
	static const struct ua_insn below[] = {
		UA_ST_MEM(UA_B, 10, -UA_STACK_SIZE, 1), UA_ST_MEM(UA_B, 10, -UA_STACK_SIZE - 1, 1),
		UA_EXIT_INSN(),
	};
	/* After a call returns, the callee's frame is no longer accessible. */
	static const struct ua_insn dead_frame[] = {
		UA_CALL_REL(2), UA_LDX_MEM(UA_DW, 0, 10, -UA_STACK_SIZE - 8), UA_EXIT_INSN(),
		UA_ST_MEM(UA_DW, 10, -8, 1), UA_EXIT_INSN(),
	};
	static const struct ua_insn straddle[] = {
		UA_LDX_MEM(UA_DW, 0, 10, -4), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	char want[96];
	uint64_t r0 = 7;

	CHECK_EQ(run_prog(above, N(above), NULL, &ex, NULL, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 1: invalid memory access 0x");
	CHECK_CONTAINS(ex.err, "(size 8)");
	CHECK_EQ(r0, 0);
	CHECK_EQ(run_prog(below, N(below), NULL, &ex, NULL, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 1: invalid memory access 0x");
	CHECK_CONTAINS(ex.err, "(size 1)");
	CHECK_EQ(run_prog(dead_frame, N(dead_frame), NULL, &ex, NULL, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 1: invalid memory access 0x");
	CHECK_EQ(run_prog(straddle, N(straddle), NULL, &ex, NULL, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 0: invalid memory access");
	/* A small constant address is reported exactly. */
	{
		static const struct ua_insn null_deref[] = {
			UA_MOV64_IMM(1, 0x10), UA_LDX_MEM(UA_W, 0, 1, 2), UA_EXIT_INSN(),
		};
		CHECK_EQ(run_prog(null_deref, N(null_deref), NULL, &ex, NULL, &r0), -EFAULT);
		snprintf(want, sizeof(want), "insn 1: invalid memory access 0x12 (size 4)");
		CHECK_STR(ex.err, want);
	}
}

TEST(interp, regions_readable_writable_and_unchecked)
{
	static const struct ua_insn prog[] = {
		UA_LDX_MEM(UA_W, 0, 1, 0), UA_ST_MEM(UA_W, 1, 4, 0x55), UA_EXIT_INSN(),
	};
	uint32_t buf[2] = { 0x1234, 0 };
	struct ua_mem_region ro = { (uintptr_t)buf, (uintptr_t)(buf + 2), false };
	struct ua_mem_region rw = { (uintptr_t)buf, (uintptr_t)(buf + 2), true };
	struct ua_exec ex = { .bounds_check = true, .regions = &ro, .n_regions = 1 };
	uint64_t args[5] = { (uintptr_t)buf };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, args, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 1: write into read-only memory 0x");
	CHECK_EQ(buf[1], 0);
	ex.regions = &rw;
	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, args, &r0), 0);
	CHECK_EQ(r0, 0x1234);
	CHECK_EQ(buf[1], 0x55);
	/* No region and no bounds checks: the embedder vouches for the pointer. */
	buf[1] = 0;
	ex = (struct ua_exec){ .bounds_check = false };
	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, args, &r0), 0);
	CHECK_EQ(buf[1], 0x55);
	/* Bounds checks with no regions: only the stack. */
	ex = (struct ua_exec){ .bounds_check = true };
	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, args, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 0: invalid memory access");
}

TEST(interp, atomics_on_stack)
{
	/* *(r10-8) = 10; r1 = 5; op; r0 = *(r10-8) or the fetched value. */
#define ATOMIC_PROG(size, op, result_from_mem)                                 \
	EVAL(UA_ST_MEM(UA_DW, 10, -8, 10), UA_MOV64_IMM(1, 5), UA_MOV64_IMM(0, 10), \
	     UA_ATOMIC_OP(size, op, 10, 1, -8),                                 \
	     (result_from_mem) ? UA_LDX_MEM(UA_DW, 0, 10, -8) : UA_MOV64_REG(0, 1))
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_ADD, 1), 15);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_ADD | UA_FETCH, 0), 10);
	CHECK_EQ(ATOMIC_PROG(UA_W, UA_OR, 1), 15);
	CHECK_EQ(ATOMIC_PROG(UA_W, UA_AND | UA_FETCH, 0), 10);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_AND, 1), 0);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_XOR, 1), 15);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_XOR | UA_FETCH, 1), 15);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_XCHG, 0), 10);
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_XCHG, 1), 5);
	/* cmpxchg: r0 (10) matches -> store 5; r0 = old value. */
	CHECK_EQ(ATOMIC_PROG(UA_DW, UA_CMPXCHG, 1), 5);
#undef ATOMIC_PROG
	/* cmpxchg mismatch leaves memory and loads the current value into r0. */
	CHECK_EQ(EVAL(UA_ST_MEM(UA_DW, 10, -8, 10), UA_MOV64_IMM(0, 3), UA_MOV64_IMM(1, 5),
		      UA_ATOMIC_OP(UA_DW, UA_CMPXCHG, 10, 1, -8), UA_LDX_MEM(UA_DW, 2, 10, -8),
		      UA_ALU64_IMM(UA_LSH, 2, 8), UA_ALU64_REG(UA_OR, 0, 2)), (10 << 8) | 10);
	/* 32-bit fetch zero-extends into the register. */
	CHECK_EQ(EVAL(UA_ST_MEM(UA_W, 10, -8, -1), UA_MOV64_IMM(1, -1),
		      UA_ATOMIC_OP(UA_W, UA_ADD | UA_FETCH, 10, 1, -8), UA_MOV64_REG(0, 1)),
		 0xffffffffu);
	/* load-acquire / store-release, every size. */
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, 0x1ff), UA_STORE_REL_INSN(UA_B, 10, 1, -1),
		      UA_LOAD_ACQ_INSN(UA_B, 0, 10, -1)), 0xff);
	CHECK_EQ(EVAL(UA_MOV64_IMM(1, -1), UA_STORE_REL_INSN(UA_H, 10, 1, -2),
		      UA_LOAD_ACQ_INSN(UA_H, 0, 10, -2)), 0xffff);
	CHECK_EQ(EVAL(UA_LD_IMM64(1, 0x1122334455667788ull), UA_STORE_REL_INSN(UA_DW, 10, 1, -8),
		      UA_LOAD_ACQ_INSN(UA_W, 0, 10, -8)), 0x55667788);
}

TEST(interp, misaligned_atomic_faults)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 1), UA_ATOMIC_OP(UA_DW, UA_ADD, 10, 1, -12), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0;

	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, NULL, &r0), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 1: misaligned atomic access 0x");
}

TEST(interp, local_calls_preserve_r6_r9_and_own_frames)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(6, 6), UA_MOV64_IMM(9, 9), UA_ST_MEM(UA_DW, 10, -8, 111),
		UA_MOV64_REG(1, 10), UA_MOV64_IMM(2, 40),
		UA_CALL_REL(7),                      /* insn 5 -> 13 */
		UA_LDX_MEM(UA_DW, 3, 10, -8),        /* own slot untouched: 111 */
		UA_LDX_MEM(UA_DW, 4, 10, -16),       /* written by callee via pointer: 222 */
		UA_ALU64_REG(UA_ADD, 0, 3), UA_ALU64_REG(UA_ADD, 0, 4),
		UA_ALU64_REG(UA_ADD, 0, 6), UA_ALU64_REG(UA_ADD, 0, 9),
		UA_EXIT_INSN(),
		/* callee: clobbers r6/r9, its own r10-8, writes caller's r10-16 */
		UA_MOV64_IMM(6, 1000), UA_MOV64_IMM(9, 1000), UA_ST_MEM(UA_DW, 10, -8, 999),
		UA_ST_MEM(UA_DW, 1, -16, 222), UA_MOV64_REG(0, 2), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 40 + 111 + 222 + 6 + 9);
}

/* main calls f(depth); f recurses until r1 == 0: frames = depth + 2. */
static int recurse(uint64_t depth, struct ua_exec *ex, uint64_t *r0)
{
	static const struct ua_insn prog[] = {
		UA_CALL_REL(1), UA_EXIT_INSN(),
		UA_JMP_IMM(UA_JEQ, 1, 0, 3), UA_ALU64_IMM(UA_SUB, 1, 1), UA_CALL_REL(-3),
		UA_ALU64_IMM(UA_ADD, 0, 1), UA_EXIT_INSN(),
	};
	uint64_t args[5] = { depth };

	*ex = (struct ua_exec){ .bounds_check = true };
	return run_prog(prog, N(prog), NULL, ex, args, r0);
}

TEST(interp, call_depth_limit_is_eight_frames)
{
	struct ua_exec ex;
	uint64_t r0 = 0;

	CHECK_EQ(recurse(6, &ex, &r0), 0);
	CHECK_EQ(r0, 6);
	CHECK_EQ(recurse(7, &ex, &r0), -E2BIG);
	CHECK_STR(ex.err, "insn 4: the call stack of 9 frames is too deep");
}

TEST(interp, insn_budget_is_exact)
{
	static const struct ua_insn three[] = {
		UA_MOV64_IMM(0, 1), UA_MOV64_IMM(0, 2), UA_EXIT_INSN(),
	};
	static const struct ua_insn forever[] = { UA_JMP_A(-1), UA_EXIT_INSN() };
	struct ua_exec ex = { .insn_budget = 3 };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(three, N(three), NULL, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 2);
	ex.insn_budget = 2;
	CHECK_EQ(run_prog(three, N(three), NULL, &ex, NULL, &r0), -ETIME);
	CHECK_STR(ex.err, "insn 2: instruction budget of 2 exhausted");
	ex.insn_budget = 1000;
	CHECK_EQ(run_prog(forever, N(forever), NULL, &ex, NULL, &r0), -ETIME);
	CHECK_STR(ex.err, "insn 0: instruction budget of 1000 exhausted");
}

TEST(interp, may_goto_counts_down_per_frame)
{
	/* f: loop { may_goto out; r0++ }; main: f() + f(). */
	static const struct ua_insn prog[] = {
		UA_CALL_REL(4), UA_MOV64_REG(6, 0), UA_CALL_REL(2),
		UA_ALU64_REG(UA_ADD, 0, 6), UA_EXIT_INSN(),
		UA_MOV64_IMM(0, 0), UA_MAY_GOTO_INSN(2), UA_ALU64_IMM(UA_ADD, 0, 1), UA_JMP_A(-3),
		UA_EXIT_INSN(),
	};
	struct ua_exec ex = { 0 };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 2 * 8 * 1024 * 1024);
}

struct helper_ctx {
	int calls;
};

static uint64_t helper_sum(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
			   uint64_t r4, uint64_t r5)
{
	struct helper_ctx *hc = ex->user;

	hc->calls++;
	return r1 + 2 * r2 + 3 * r3 + 4 * r4 + 5 * r5;
}

static uint64_t helper_stop(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
			    uint64_t r4, uint64_t r5)
{
	ex->exit_now = true;
	return 77;
}

/* bpf_loop(nr, callback, ctx): calls callback(i, ctx) until it returns 1. */
static uint64_t helper_loop(struct ua_exec *ex, uint64_t nr, uint64_t func, uint64_t ctx,
			    uint64_t r4, uint64_t r5)
{
	uint64_t i;

	for (i = 0; i < nr; i++) {
		uint64_t args[5] = { i, ctx }, r0 = 0;

		if (ua_interp_callback(ex, func, args, &r0))
			return 0;
		if (r0)
			return i + 1;
	}
	return i;
}

/* Returns 1 when [r1, r1 + r2) lies in the run stack the interpreter publishes. */
static uint64_t helper_on_stack(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				uint64_t r4, uint64_t r5)
{
	return ex->stack_hi && r1 >= ex->stack_lo && r1 + r2 <= ex->stack_hi;
}

static ua_helper_fn resolve_helper(void *ctx, int32_t id, const char **name)
{
	static const ua_helper_fn fns[] = { NULL, helper_sum, helper_stop, helper_loop,
					    helper_on_stack };

	*name = "test helper";
	return id > 0 && id < (int32_t)N(fns) ? fns[id] : NULL;
}

static ua_helper_fn resolve_kfunc(void *ctx, int32_t imm, const char **name)
{
	*name = "kfunc_sum";
	return imm == 42 ? helper_sum : NULL;
}

static int resolve_ld_imm64(void *ctx, const struct ua_insn insn[2], size_t idx, uint64_t *v)
{
	if (insn[0].src_reg != UA_PSEUDO_MAP_VALUE)
		return -ENOENT;
	*v = 0xabc0000000000000ull + (uint64_t)insn[0].imm * 16 + (uint32_t)insn[1].imm;
	return 0;
}

static const struct ua_call_resolver test_resolver = {
	.helper = resolve_helper, .kfunc = resolve_kfunc, .ld_imm64 = resolve_ld_imm64,
};

TEST(interp, helpers_kfuncs_and_pseudo_constants)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 1), UA_MOV64_IMM(2, 2), UA_MOV64_IMM(3, 3), UA_MOV64_IMM(4, 4),
		UA_MOV64_IMM(5, 5), UA_CALL_HELPER(1), UA_MOV64_REG(6, 0),
		UA_MOV64_IMM(1, 1), UA_CALL_KFUNC(42), UA_ALU64_REG(UA_ADD, 0, 6),
		UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_VALUE, 0x0000000700000003ull),
		UA_ALU64_REG(UA_ADD, 0, 1), UA_EXIT_INSN(),
	};
	struct helper_ctx hc = { 0 };
	struct ua_exec ex = { .user = &hc };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), &test_resolver, &ex, NULL, &r0), 0);
	/* helper: 1+4+9+16+25 = 55; kfunc: r1=1, r2..r5 as left = 55; + 0xabc..37. */
	CHECK_EQ(r0, 55 + 55 + 0xabc0000000000000ull + 3 * 16 + 7);
	CHECK_EQ(hc.calls, 8); /* two flavours + two JIT maps, x two calls */
}

TEST(interp, helper_can_end_the_run)
{
	static const struct ua_insn prog[] = {
		UA_CALL_HELPER(2), UA_MOV64_IMM(0, 1), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { 0 };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), &test_resolver, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 77);
	CHECK(ex.exit_now);
}

TEST(interp, unresolved_calls_rejected_at_prepare)
{
	static const struct ua_insn helper[] = { UA_CALL_HELPER(99), UA_EXIT_INSN() };
	static const struct ua_insn kfunc[] = { UA_MOV64_IMM(0, 0), UA_CALL_KFUNC(7), UA_EXIT_INSN() };
	static const struct ua_insn pseudo[] = { UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_FD, 3),
						 UA_EXIT_INSN() };
	struct ua_prog *p = (struct ua_prog *)1;
	char err[256];

	CHECK_EQ(ua_prog_prepare(helper, N(helper), &test_resolver, err, sizeof(err), &p), -EINVAL);
	CHECK_STR(err, "prog: insn 0: unknown helper id 99");
	CHECK(p == NULL);
	CHECK_EQ(ua_prog_prepare(kfunc, N(kfunc), &test_resolver, err, sizeof(err), &p), -EINVAL);
	CHECK_STR(err, "prog: insn 1: unknown kfunc 7");
	CHECK_EQ(ua_prog_prepare(helper, N(helper), NULL, err, sizeof(err), &p), -EINVAL);
	CHECK_STR(err, "prog: insn 0: unknown helper id 99");
	CHECK_EQ(ua_prog_prepare(pseudo, N(pseudo), NULL, err, sizeof(err), &p), -EINVAL);
	CHECK_STR(err, "prog: insn 0: ld_imm64 pseudo form 1 needs a loader");
	CHECK_EQ(ua_prog_prepare(pseudo, N(pseudo), &test_resolver, err, sizeof(err), &p), -ENOENT);
	CHECK_STR(err, "prog: insn 0: cannot resolve ld_imm64 pseudo form 1");
	CHECK_EQ(ua_prog_prepare(helper, N(helper), NULL, err, sizeof(err), NULL), -EINVAL);
}

TEST(interp, callx_resolves_at_run_time)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 4), UA_MOV64_IMM(2, 0), UA_MOV64_IMM(3, 0), UA_MOV64_IMM(4, 0),
		UA_MOV64_IMM(5, 0), UA_MOV64_IMM(7, 1), UA_INSN(UA_JMP | UA_CALL | UA_X, 7, 0, 0, 0),
		UA_MOV64_IMM(7, 9), UA_INSN(UA_JMP | UA_CALL | UA_X, 7, 0, 0, 0), UA_EXIT_INSN(),
	};
	struct helper_ctx hc = { 0 };
	struct ua_exec ex = { .user = &hc };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), &test_resolver, &ex, NULL, &r0), -EINVAL);
	CHECK_STR(ex.err, "insn 8: callx to unknown helper id 9");
	CHECK_EQ(hc.calls, 4); /* two flavours + two JIT maps */
}

/* Arena accesses: a fake program view (4 GiB + guard reserved, page 0 usable). */
#define FAKE_ARENA_SZ ((1ull << 32) + (1ull << 16))

static uint8_t *fake_arena(void)
{
	uint8_t *base = mmap(NULL, FAKE_ARENA_SZ, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	REQUIRE(base != MAP_FAILED);
	REQUIRE(mprotect(base, 4096, PROT_READ | PROT_WRITE) == 0);
	return base;
}

static const struct ua_call_resolver arena_resolver = { .has_arena = true };

TEST(interp, arena_pointers_use_the_probe_path)
{
	static const struct ua_insn prog[] = {
		/* page 0 is allocated: store, load back */
		UA_MOV64_IMM(1, 8), UA_ST_MEM(UA_DW, 1, 0, 0x1234), UA_LDX_MEM(UA_DW, 0, 1, 0),
		/* page 1 is not: load yields 0, store is dropped */
		UA_MOV64_IMM(2, 0x1000), UA_ST_MEM(UA_W, 2, 8, 7), UA_LDX_MEM(UA_W, 3, 2, 8),
		UA_ALU64_REG(UA_ADD, 0, 3),
		/* sign-extending arena load */
		UA_ST_MEM(UA_B, 1, 8, 0x80), UA_LDX_MEMSX(UA_B, 4, 1, 8),
		/* negative off from the start wraps into the guard: reads 0 */
		UA_MOV64_IMM(5, 0), UA_LDX_MEM(UA_DW, 5, 5, -8), UA_ALU64_REG(UA_ADD, 0, 5),
		/* the stack still works in an arena program */
		UA_ST_MEM(UA_DW, 10, -8, 1), UA_LDX_MEM(UA_DW, 6, 10, -8),
		UA_ALU64_REG(UA_ADD, 0, 6),
		/* cast_kern keeps the low 32 bits */
		UA_LD_IMM64(7, 0x7f0000000008ull), UA_ADDR_SPACE_CAST_INSN(7, 7, UA_CAST_KERN),
		UA_LDX_MEM(UA_DW, 8, 7, 0), UA_ALU64_REG(UA_ADD, 0, 8),
		UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_exec ex = { .bounds_check = true, .arena_base = base };
	uint64_t r0 = 0, stored;

	CHECK_EQ(run_prog(prog, N(prog), &arena_resolver, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 0x1234 + 0 + 0 + 1 + 0x1234);
	memcpy(&stored, base + 8, 8);
	CHECK_EQ(stored, 0x1234);
	CHECK_EQ(base[16], 0x80);
	munmap(base, FAKE_ARENA_SZ);
}

TEST(interp, arena_atomics_fault_without_effect)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 0), UA_MOV64_IMM(2, 5),
		UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 1, 2, 16),   /* page 0: old 0 -> r2 */
		UA_MOV64_IMM(3, 0x2000), UA_MOV64_IMM(4, 9),
		UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 3, 4, 0),    /* unmapped: r4 unchanged */
		UA_LOAD_ACQ_INSN(UA_W, 6, 3, 0),                    /* unmapped: r6 = 0 */
		UA_LDX_MEM(UA_DW, 0, 1, 16),
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 2),
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 4),
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 6),
		UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_prog *p = NULL;
	char err[256];

	REQUIRE_EQ(ua_prog_prepare(prog, N(prog), &arena_resolver, err, sizeof(err), &p), 0);
	for (int how = UA_DISPATCH_SWITCH; how <= UA_DISPATCH_THREADED; how++) {
		struct ua_exec ex = { .bounds_check = true, .arena_base = base };
		uint64_t r0 = 0;

		memset(base, 0, 64);
		CHECK_EQ(ua_interp_run_with(p, &ex, NULL, &r0, how), 0);
		/* mem 0 + 5; r2 = old 0; r4 keeps 9; r6 = 0 */
		CHECK_EQ(r0, (5ull << 24) | (0 << 16) | (9 << 8) | 0);
	}
	ua_prog_free(p);
	munmap(base, FAKE_ARENA_SZ);
}

TEST(interp, arena_access_without_arena_fails_cleanly)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 8), UA_LDX_MEM(UA_DW, 0, 1, 0), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	CHECK_EQ(run_prog(prog, N(prog), &arena_resolver, &ex, NULL, &r0), -EINVAL);
	CHECK_STR(ex.err, "insn 1: arena access but no arena is attached to the run");
}

struct thread_arg {
	const struct ua_prog *prog;
	uint64_t input, r0;
	int ret;
};

static void *thread_main(void *arg)
{
	struct thread_arg *t = arg;
	struct ua_exec ex = { .bounds_check = true };
	uint64_t args[5] = { t->input };

	for (int i = 0; i < 50 && !t->ret; i++)
		t->ret = ua_interp_run(t->prog, &ex, args, &t->r0);
	return NULL;
}

TEST(interp, threads_share_one_prepared_program)
{
	/* sum of i*input for i < 1000, spilled through the stack every step */
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(0, 0), UA_MOV64_IMM(2, 0),
		UA_MOV64_REG(3, 2), UA_ALU64_REG(UA_MUL, 3, 1), UA_STX_MEM(UA_DW, 10, 3, -8),
		UA_LDX_MEM(UA_DW, 4, 10, -8), UA_ALU64_REG(UA_ADD, 0, 4), UA_ALU64_IMM(UA_ADD, 2, 1),
		UA_JMP_IMM(UA_JLT, 2, 1000, -7), UA_EXIT_INSN(),
	};
	struct thread_arg args[4];
	pthread_t th[4];
	struct ua_prog *p = NULL;
	char err[256];

	REQUIRE_EQ(ua_prog_prepare(prog, N(prog), NULL, err, sizeof(err), &p), 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ p, (uint64_t)i + 1, 0, 0 };
		REQUIRE_EQ(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].ret, 0);
		CHECK_EQ(args[i].r0, 499500ull * (uint64_t)(i + 1));
	}
	ua_prog_free(p);
}

/* A real arena: host-allocated page, program casts, stores, casts back. */
TEST(interp, real_arena_casts_and_shared_pages)
{
	static const struct ua_insn prog[] = {
		UA_ADDR_SPACE_CAST_INSN(2, 1, UA_CAST_KERN),      /* r2 = lo32(user ptr) */
		UA_ST_MEM(UA_DW, 2, 8, 0x5151),                   /* lands in the host's page */
		UA_LDX_MEM(UA_DW, 3, 2, 0),                       /* host wrote 77 there */
		UA_ADDR_SPACE_CAST_INSN(0, 2, UA_CAST_USER),      /* back to the user pointer */
		UA_MOV64_IMM(4, 0), UA_ADDR_SPACE_CAST_INSN(4, 4, UA_CAST_USER), /* NULL stays NULL */
		UA_ALU64_REG(UA_ADD, 0, 4), UA_ALU64_REG(UA_ADD, 0, 3),
		UA_EXIT_INSN(),
	};
	UA_OPTS(ua_arena_opts, opts, .max_entries = 16, .map_flags = UA_F_MMAPABLE);
	struct ua_arena *a = NULL;
	uint64_t *page, r0 = 0;

	REQUIRE_EQ(ua_arena_create(&opts, &a), 0);
	page = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(page != NULL);
	page[0] = 77;
	{
		struct ua_exec ex = { .bounds_check = true, .arena = a,
				      .arena_base = ua_arena_prog_base(a) };
		uint64_t args[5] = { (uintptr_t)page };

		CHECK_EQ(run_prog(prog, N(prog), &arena_resolver, &ex, args, &r0), 0);
	}
	CHECK_EQ(r0, (uintptr_t)page + 77);
	CHECK_EQ(page[1], 0x5151);
	ua_arena_destroy(a);
}

#include "../bench/programs.h"

/* The benchmark programs compute what programs.h says on both flavours. */
TEST(interp, bench_programs_return_expected_r0)
{
	for (size_t i = 0; i < N(bench_programs); i++) {
		const struct bench_program *bp = &bench_programs[i];
		struct ua_exec ex = { .bounds_check = true };
		uint64_t r0 = 0;

		CHECK_EQ(run_prog(bp->insns, bp->n_insns, NULL, &ex, NULL, &r0), 0);
		if (r0 != bp->expected_r0)
			ua_test_fail(__FILE__, __LINE__, "%s: r0 0x%llx, want 0x%llx", bp->name,
				     (unsigned long long)r0, (unsigned long long)bp->expected_r0);
	}
}

/*
 * Hostile input: random instruction streams (biased toward valid opcodes
 * and small registers/offsets so many pass validation) must either be
 * rejected with a message or run to an outcome, never crash: bounds checks
 * on, a small budget. Deterministic (fixed xorshift seed).
 */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const int32_t atomic_ops[] = {
	UA_ADD, UA_OR, UA_AND, UA_XOR, UA_ADD | UA_FETCH, UA_OR | UA_FETCH, UA_AND | UA_FETCH,
	UA_XOR | UA_FETCH, UA_XCHG, UA_CMPXCHG, UA_LOAD_ACQ, UA_STORE_REL,
};

/* A mostly well-formed insn; 1 in 16 gets one field corrupted. */
static struct ua_insn random_insn(uint64_t *s)
{
	static const int16_t movsx_offs[] = { 0, 8, 16, 32 };
	const struct ua_isa_op *op;
	struct ua_insn in = { 0 };
	uint64_t r = xorshift(s);

	do
		op = ua_isa_op((uint8_t)xorshift(s));
	while (!op || op->shape == UA_SHAPE_LD_IMM64);
	in.code = op->code;
	in.dst_reg = r % 10;
	in.src_reg = (r >> 4) % 11;
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
		in.src_reg = 0;
		in.imm = (int32_t)(r >> 32) >> ((r >> 8) & 31);
		in.off = (UA_OP(in.code) == UA_DIV || UA_OP(in.code) == UA_MOD) ? (r >> 16) & 1 : 0;
		break;
	case UA_SHAPE_ALU_X:
		in.off = UA_OP(in.code) == UA_MOV ? movsx_offs[(r >> 16) & 3] :
			 (UA_OP(in.code) == UA_DIV || UA_OP(in.code) == UA_MOD) ? (int16_t)((r >> 16) & 1) : 0;
		break;
	case UA_SHAPE_ALU_NEG:
		in.src_reg = 0;
		break;
	case UA_SHAPE_ALU_END:
		in.src_reg = 0;
		in.imm = 16 << ((r >> 16) % 3);
		break;
	case UA_SHAPE_LDX:
	case UA_SHAPE_STX:
	case UA_SHAPE_ST:
	case UA_SHAPE_ATOMIC:
		/* mostly the stack, sometimes anywhere */
		if ((r >> 20) & 3)
			in.src_reg = in.src_reg == 10 ? 10 : in.src_reg;
		if (op->shape == UA_SHAPE_LDX)
			in.src_reg = (r >> 20) & 3 ? 10 : in.src_reg;
		else
			in.dst_reg = (r >> 20) & 3 ? 10 : in.dst_reg;
		in.off = (int16_t)(-8 * (int)((r >> 24) % 64) + (int)((r >> 30) & 7));
		if (op->shape == UA_SHAPE_ST)
			in.src_reg = 0, in.imm = (int32_t)(r >> 32);
		if (op->shape == UA_SHAPE_ATOMIC)
			in.imm = atomic_ops[(r >> 40) % 12];
		break;
	case UA_SHAPE_JA:
	case UA_SHAPE_MAY_GOTO:
		in.dst_reg = in.src_reg = 0;
		in.off = (int16_t)((int)((r >> 16) % 9) - 4);
		break;
	case UA_SHAPE_JA32:
		in.dst_reg = in.src_reg = 0;
		in.imm = (int)((r >> 16) % 9) - 4;
		break;
	case UA_SHAPE_JCOND_K:
		in.src_reg = 0;
		in.imm = (int32_t)((r >> 32) % 5) - 2;
		in.off = (int16_t)((int)((r >> 16) % 9) - 4);
		break;
	case UA_SHAPE_JCOND_X:
		in.off = (int16_t)((int)((r >> 16) % 9) - 4);
		break;
	case UA_SHAPE_CALL:
		in.dst_reg = 0;
		in.src_reg = (r >> 16) % 3;
		in.imm = in.src_reg == UA_PSEUDO_CALL ? (int)((r >> 20) % 9) - 4
			 : in.src_reg == 0 ? 1 + (int)((r >> 20) % 2) : 42;
		break;
	case UA_SHAPE_CALLX:
		in.src_reg = 0;
		break;
	default:
		in.dst_reg = in.src_reg = 0;
		break;
	}
	if ((r >> 60) == 0) {
		switch ((r >> 56) & 3) {
		case 0: in.dst_reg = (r >> 44) & 15; break;
		case 1: in.src_reg = (r >> 44) & 15; break;
		case 2: in.off = (int16_t)(r >> 44); break;
		default: in.imm = (int32_t)(r >> 28); break;
		}
	}
	return in;
}

/* A non-memory use of r10 exposes the run stack's host address, which differs. */
static bool reads_stack_address(const struct ua_insn *prog, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t cls = UA_CLASS(prog[i].code);

		if (cls != UA_LDX && cls != UA_ST && cls != UA_STX &&
		    (prog[i].src_reg == 10 || prog[i].dst_reg == 10))
			return true;
		if (cls == UA_STX && prog[i].src_reg == 10) /* stored, then loaded back */
			return true;
	}
	return false;
}

/* The JIT gives the interpreter's outcome, budget exhaustion aside. */
static void check_jit_agrees(const struct ua_prog *p, int ret, uint64_t r0, const char *err,
			     int round)
{
	for (int shuffled = 0; shuffled <= 1; shuffled++) {
		struct helper_ctx hc = { 0 };
		struct ua_exec ex = { .bounds_check = true, .insn_budget = 1000, .user = &hc };
		uint64_t r0_jit = 0;
		int ret_jit = run_jit(p, &ex, NULL, &r0_jit, shuffled);

		if (ret == -ETIME || ret_jit == -ETIME)
			continue;
		if (ret_jit != ret || r0_jit != r0 || !same_error(ex.err, err))
			ua_test_fail(__FILE__, __LINE__,
				     "round %d (%s map): interp %d r0 0x%llx \"%s\", jit %d r0 0x%llx \"%s\"",
				     round, shuffled ? "shuffled" : "default", ret,
				     (unsigned long long)r0, err, ret_jit, (unsigned long long)r0_jit,
				     ex.err);
	}
}

TEST(interp, random_programs_never_crash)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0, rejected = 0, faulted = 0;

	for (int round = 0; round < 20000; round++) {
		struct ua_insn prog[16];
		size_t n = 2 + xorshift(&seed) % 14;
		struct ua_prog *p = NULL;
		char err[256] = "";

		for (size_t i = 0; i + 1 < n; i++)
			prog[i] = random_insn(&seed);
		prog[n - 1] = UA_EXIT_INSN();
		if (ua_prog_prepare(prog, n, &test_resolver, err, sizeof(err), &p)) {
			rejected++;
			if (strncmp(err, "isa: insn ", 10) && strncmp(err, "prog: insn ", 11))
				ua_test_fail(__FILE__, __LINE__, "unexpected message \"%s\"", err);
			continue;
		}
		accepted++;
		for (int how = UA_DISPATCH_SWITCH; how <= UA_DISPATCH_THREADED; how++) {
			struct helper_ctx hc = { 0 };
			struct ua_exec ex = { .bounds_check = true, .insn_budget = 1000, .user = &hc };
			uint64_t r0;
			int ret = ua_interp_run_with(p, &ex, NULL, &r0, how);

			faulted += ret == -EFAULT;
			if (ret && strncmp(ex.err, "insn ", 5))
				ua_test_fail(__FILE__, __LINE__, "run error %d without insn: \"%s\"",
					     ret, ex.err);
			if (how == UA_DISPATCH_THREADED && !reads_stack_address(prog, n))
				check_jit_agrees(p, ret, r0, ex.err, round);
		}
		ua_prog_free(p);
	}
	/* The generator must exercise every side. */
	CHECK(accepted > 2000);
	CHECK(rejected > 2000);
	CHECK(faulted > 100);
}

/* main: sum = 0; bpf_loop(5, cb, &sum); cb(i, ctx): *ctx += i (the caller's stack). */
static int loop_prog(int32_t cb_off, int16_t bad_off, uint64_t *r0, struct ua_exec *ex)
{
	const struct ua_insn prog[] = {
		UA_ST_MEM(UA_DW, 10, -8, 0), UA_MOV64_IMM(1, 5),
		UA_LD_IMM64_RAW(2, UA_PSEUDO_FUNC, (uint32_t)cb_off),
		UA_MOV64_REG(3, 10), UA_ALU64_IMM(UA_ADD, 3, -8), UA_CALL_HELPER(3),
		UA_LDX_MEM(UA_DW, 1, 10, -8), UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 1),
		UA_EXIT_INSN(),
		/* 11: callback */
		UA_LDX_MEM(UA_DW, 3, 2, bad_off), UA_ALU64_REG(UA_ADD, 3, 1),
		UA_STX_MEM(UA_DW, 2, 3, 0), UA_MOV64_IMM(0, 0), UA_EXIT_INSN(),
	};

	*ex = (struct ua_exec){ .bounds_check = true };
	return run_prog(prog, N(prog), &test_resolver, ex, NULL, r0);
}

TEST(interp, callbacks_run_subprograms_from_helpers)
{
	struct ua_exec ex;
	uint64_t r0 = 0;

	/* ld_imm64 at insn 2: target 11 = 2 + 1 + 8 */
	CHECK_EQ(loop_prog(8, 0, &r0, &ex), 0);
	CHECK_EQ(r0, (5 << 8) | 10); /* 5 iterations, 0+1+2+3+4 */
	/* A fault inside the callback ends the outer run with the callback's error. */
	CHECK_EQ(loop_prog(8, 4096, &r0, &ex), -EFAULT);
	CHECK_CONTAINS(ex.err, "insn 11: invalid memory access 0x");
	CHECK_EQ(r0, 0);
}

TEST(interp, callback_value_must_name_a_function)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 1), UA_LD_IMM64(2, 0xbf0f000000000001ull), UA_MOV64_IMM(3, 0),
		UA_CALL_HELPER(3), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0, args[5] = { 0 };

	CHECK_EQ(run_prog(prog, N(prog), &test_resolver, &ex, NULL, &r0), -EINVAL);
	CHECK_STR(ex.err, "callback 0xbf0f000000000001 is not a function of the program");
	/* Outside a run there is nothing to call. */
	ex = (struct ua_exec){ 0 };
	CHECK_EQ(ua_interp_callback(&ex, 0xbf0f000000000001ull, args, &r0), -EINVAL);
}

/* Helpers see the active frames: the caller's slot from a callee, not beyond. */
TEST(interp, helpers_see_the_active_stack_frames)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_REG(6, 10), UA_CALL_REL(2), UA_EXIT_INSN(), UA_EXIT_INSN(),
		/* 4: callee: r0 = on_stack(r6-8, 8) | on_stack(r10-8, 8) << 1
		 *              | on_stack(r10-520, 8) << 2 | on_stack(r6, 1) << 3 */
		UA_MOV64_REG(1, 6), UA_ALU64_IMM(UA_ADD, 1, -8), UA_MOV64_IMM(2, 8),
		UA_CALL_HELPER(4), UA_MOV64_REG(7, 0),
		UA_MOV64_REG(1, 10), UA_ALU64_IMM(UA_ADD, 1, -8), UA_MOV64_IMM(2, 8),
		UA_CALL_HELPER(4), UA_ALU64_IMM(UA_LSH, 0, 1), UA_ALU64_REG(UA_OR, 7, 0),
		UA_MOV64_REG(1, 10), UA_ALU64_IMM(UA_ADD, 1, -520), UA_MOV64_IMM(2, 8),
		UA_CALL_HELPER(4), UA_ALU64_IMM(UA_LSH, 0, 2), UA_ALU64_REG(UA_OR, 7, 0),
		UA_MOV64_REG(1, 6), UA_MOV64_IMM(2, 1),
		UA_CALL_HELPER(4), UA_ALU64_IMM(UA_LSH, 0, 3), UA_ALU64_REG(UA_OR, 7, 0),
		UA_MOV64_REG(0, 7), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	REQUIRE(N(prog) == 28);
	CHECK_EQ(run_prog(prog, N(prog), &test_resolver, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 1 | 2);
	CHECK_EQ(ex.stack_lo, 0);
	CHECK_EQ(ex.stack_hi, 0);
}

/*
 * A frame reads as zero the first time a run enters it: the callees write
 * their frames, and the second flavour's run (same host stack address)
 * would see those values if frames were not zeroed.
 */
TEST(interp, fresh_frames_read_zero)
{
	static const struct ua_insn prog[] = {
		UA_CALL_REL(1), UA_EXIT_INSN(),
		/* 2: g */
		UA_CALL_REL(5), UA_MOV64_REG(6, 0), UA_LDX_MEM(UA_DW, 0, 10, -8),
		UA_ST_MEM(UA_DW, 10, -8, 9), UA_ALU64_REG(UA_ADD, 0, 6), UA_EXIT_INSN(),
		/* 8: h */
		UA_LDX_MEM(UA_DW, 0, 10, -8), UA_ST_MEM(UA_DW, 10, -8, 7), UA_EXIT_INSN(),
	};
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 1;

	for (int i = 0; i < 3; i++) {
		CHECK_EQ(run_prog(prog, N(prog), NULL, &ex, NULL, &r0), 0);
		CHECK_EQ(r0, 0);
	}
}
