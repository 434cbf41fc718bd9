/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 JIT against the interpreter: a differential test over thousands
 * of random well-formed programs (exact r0, exact memory afterwards, default
 * and shuffled register maps), arena fault fixups for every access width and
 * every destination register, budget termination, fallbacks and bad maps.
 * (Every interpreter unit test and conformance vector also runs on the JIT:
 * test_interp.c, test_conformance.c.)
 */
#include "arena.h"
#include "insn_build.h"
#include "interp.h"
#include "jit.h"
#include "loader.h"
#include "probe.h"
#include "test.h"

#include <uarena.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MEM_LEN 64

static const uint8_t shuffled_map[UA_MAX_BPF_REG] = { 14, 9, 0, 13, 2, 3, 8, 5, 1, 7, 6 };

static struct ua_jit_prog *compile(const struct ua_prog *p, bool shuffled)
{
	struct ua_jit_opts jo = { shuffled ? shuffled_map : NULL };
	struct ua_jit_prog *jp = NULL;
	char err[256] = "";

	if (ua_jit_compile(p, &jo, err, sizeof(err), &jp)) {
		ua_test_fail(__FILE__, __LINE__, "jit compile: %s", err);
		return NULL;
	}
	return jp;
}

static struct ua_prog *prepare(const struct ua_insn *insns, size_t n, bool has_arena)
{
	struct ua_call_resolver res = { .has_arena = has_arena };
	struct ua_prog *p = NULL;
	char err[256] = "";

	if (ua_prog_prepare(insns, n, &res, err, sizeof(err), &p))
		ua_test_fail(__FILE__, __LINE__, "prepare: %s", err);
	return p;
}

TEST(jit, compiles_to_machine_code)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(0, 40), UA_ALU64_IMM(UA_ADD, 0, 2), UA_EXIT_INSN(),
	};
	struct ua_prog *p = prepare(prog, N(prog), false);
	struct ua_jit_prog *jp;
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	REQUIRE(p);
	jp = compile(p, false);
	REQUIRE(jp);
	CHECK(ua_jit_fallback_reason(jp) == NULL);
	CHECK(ua_jit_code_size(jp) > 0);
	CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 42);
	ua_jit_free(jp);
	ua_prog_free(p);
}

TEST(jit, bad_register_maps_rejected)
{
	static const struct ua_insn prog[] = { UA_MOV64_IMM(0, 1), UA_EXIT_INSN() };
	static const uint8_t with_rsp[UA_MAX_BPF_REG] = { 0, 7, 6, 2, 1, 8, 3, 13, 14, 9, 4 };
	static const uint8_t twice[UA_MAX_BPF_REG] = { 0, 7, 6, 2, 1, 8, 3, 13, 14, 9, 0 };
	struct ua_prog *p = prepare(prog, N(prog), false);
	struct ua_jit_opts jo = { with_rsp };
	struct ua_jit_prog *jp = NULL;
	char err[256] = "";

	REQUIRE(p);
	CHECK_EQ(ua_jit_compile(p, &jo, err, sizeof(err), &jp), -EINVAL);
	CHECK_STR(err, "jit: register map: r10 -> x86 register 4 is not allowed");
	jo.regmap = twice;
	CHECK_EQ(ua_jit_compile(p, &jo, err, sizeof(err), &jp), -EINVAL);
	CHECK_STR(err, "jit: register map: r10 -> x86 register 0 is not allowed");
	CHECK(jp == NULL);
	ua_prog_free(p);
}

/* A callback value names a subprogram; the JIT compiles it with the rest. */
TEST(jit, programs_with_callbacks_compile)
{
	static const struct ua_insn prog[] = {
		UA_LD_IMM64_RAW(1, UA_PSEUDO_FUNC, 3), UA_MOV64_IMM(0, 7), UA_EXIT_INSN(),
		UA_MOV64_IMM(0, 1), UA_EXIT_INSN(),
	};
	struct ua_prog *p = prepare(prog, N(prog), false);
	struct ua_jit_prog *jp;
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	REQUIRE(p);
	jp = compile(p, false);
	REQUIRE(jp);
	CHECK(ua_jit_fallback_reason(jp) == NULL);
	CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, 7);
	ua_jit_free(jp);
	ua_prog_free(p);
}

/* Back-edges pay for the loop body: an endless loop stops at the budget. */
TEST(jit, endless_loops_stop_with_etime)
{
	static const struct ua_insn jump_back[] = { UA_JMP_A(-1), UA_EXIT_INSN() };
	static const struct ua_insn cond_back[] = {
		UA_MOV64_IMM(0, 0), UA_ALU64_IMM(UA_ADD, 0, 1), UA_JMP_IMM(UA_JNE, 0, 0, -2),
		UA_EXIT_INSN(),
	};
	static const struct { const struct ua_insn *insns; size_t n; const char *err; } cases[] = {
		{ jump_back, N(jump_back), "insn 0: instruction budget of 1000 exhausted" },
		{ cond_back, N(cond_back), "insn 2: instruction budget of 1000 exhausted" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct ua_prog *p = prepare(cases[i].insns, cases[i].n, false);
		struct ua_jit_prog *jp;
		struct ua_exec ex = { .bounds_check = true, .insn_budget = 1000 };
		uint64_t r0 = 1;

		REQUIRE(p);
		jp = compile(p, i & 1);
		REQUIRE(jp);
		CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), -ETIME);
		CHECK_STR(ex.err, cases[i].err);
		CHECK_EQ(r0, 0);
		ua_jit_free(jp);
		ua_prog_free(p);
	}
}

/* Arena program view: 4 GiB + guard reserved, only page 0 accessible. */
#define FAKE_ARENA_SZ ((1ull << 32) + (1ull << 16))

static uint8_t *fake_arena(void)
{
	uint8_t *base = mmap(NULL, FAKE_ARENA_SZ, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	REQUIRE(base != MAP_FAILED);
	REQUIRE(mprotect(base, 4096, PROT_READ | PROT_WRITE) == 0);
	return base;
}

/*
 * Every load width into every destination register (both maps): a load
 * from an unallocated page yields 0 and the next insn runs; every other
 * register keeps its value; a store there is dropped.
 */
TEST(jit, arena_faults_zero_every_destination)
{
	static const uint8_t sizes[] = { UA_B, UA_H, UA_W, UA_DW };
	uint8_t *base = fake_arena();

	for (int shuffled = 0; shuffled <= 1; shuffled++) {
		for (int d = 0; d <= 9; d++) {
			for (int s = 0; s < 8; s++) {
				int b = d == 1 ? 2 : 1, keep = d == 3 ? 4 : 3;
				uint8_t mode = s < 4 ? UA_MEM : UA_MEMSX;
				const struct ua_insn prog[] = {
					UA_MOV64_IMM(d, -1), UA_MOV64_IMM(keep, 0x77),
					UA_MOV64_IMM(b, 0x3000),
					UA_INSN(UA_LDX | sizes[s & 3] | mode, d, b, 8, 0),
					UA_ST_MEM(UA_DW, b, 16, 5),
					UA_STX_MEM(UA_DW, b, keep, 24),
					/* r0 = d * 256 + keep (d's value is 0 after the fault) */
					UA_MOV64_REG(0, d), UA_ALU64_IMM(UA_LSH, 0, 8),
					UA_ALU64_REG(UA_ADD, 0, keep), UA_EXIT_INSN(),
				};
				struct ua_prog *p;
				struct ua_jit_prog *jp;
				struct ua_exec ex = { .bounds_check = true, .arena_base = base };
				uint64_t r0 = 0;

				if (s >= 7 || (mode == UA_MEMSX && (s & 3) == 3))
					continue; /* no 8-byte sign-extending load */
				p = prepare(prog, N(prog), true);
				REQUIRE(p);
				jp = compile(p, shuffled);
				REQUIRE(jp);
				CHECK(ua_jit_fallback_reason(jp) == NULL);
				CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
				CHECK_EQ(r0, 0x77);
				ua_jit_free(jp);
				ua_prog_free(p);
			}
		}
	}
	munmap(base, FAKE_ARENA_SZ);
}

/*
 * Test-only fault injection (probe.h) reaches JIT code: a faulting arena load
 * of every width returns the injected value truncated to the load size, and
 * sign-extended for LDXS, exactly as the interpreter's probe path returns it;
 * with the injection off the same load reads 0 again.
 */
TEST(jit, injected_faulting_load_value_per_width)
{
	static const uint8_t sizes[] = { UA_B, UA_H, UA_W, UA_DW };
	static const uint64_t injected = 0xf1e2d3c4b5a69788ull;
	static const uint64_t want[7] = {
		0x88, 0x9788, 0xb5a69788, 0xf1e2d3c4b5a69788ull,       /* LDX B/H/W/DW */
		0xffffffffffffff88ull, 0xffffffffffff9788ull, 0xffffffffb5a69788ull, /* LDXS */
	};
	uint8_t *base = fake_arena();

	for (int s = 0; s < 7; s++) {
		const struct ua_insn prog[] = {
			UA_MOV64_IMM(1, 0x3000),
			UA_INSN(UA_LDX | sizes[s & 3] | (s < 4 ? UA_MEM : UA_MEMSX), 0, 1, 8, 0),
			UA_EXIT_INSN(),
		};
		struct ua_prog *p = prepare(prog, N(prog), true);
		struct ua_jit_prog *jp;
		struct ua_exec ex = { .bounds_check = true, .arena_base = base };
		uint64_t r0 = 0, ri = 0;

		REQUIRE(p);
		jp = compile(p, false);
		REQUIRE(jp);
		CHECK(ua_jit_fallback_reason(jp) == NULL);
		ua_probe_inject_faulting_load(true, injected);
		CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
		CHECK_EQ(ua_interp_run(p, &ex, NULL, &ri), 0);
		ua_probe_inject_faulting_load(false, 0);
		CHECK_EQ(r0, want[s]);
		CHECK_EQ(ri, want[s]);
		CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
		CHECK_EQ(r0, 0);
		ua_jit_free(jp);
		ua_prog_free(p);
	}
	munmap(base, FAKE_ARENA_SZ);
}

/* Guard pages on both sides of the 4 GiB window read 0; page 0 works. */
TEST(jit, arena_guard_and_allocated_page)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 0), UA_ST_MEM(UA_DW, 1, 8, 0x1234), UA_LDX_MEM(UA_DW, 0, 1, 8),
		UA_LDX_MEM(UA_DW, 2, 1, -8), UA_ALU64_REG(UA_ADD, 0, 2),           /* below 0 */
		UA_MOV32_IMM(3, -8), UA_LDX_MEM(UA_DW, 4, 3, 0x7ff0),              /* past 4 GiB */
		UA_ALU64_REG(UA_ADD, 0, 4),
		UA_STX_MEM(UA_W, 1, 0, 16), UA_LDX_MEM(UA_W, 5, 1, 16), UA_ALU64_REG(UA_ADD, 0, 5),
		UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_prog *p = prepare(prog, N(prog), true);

	REQUIRE(p);
	for (int shuffled = 0; shuffled <= 1; shuffled++) {
		struct ua_jit_prog *jp = compile(p, shuffled);
		struct ua_exec ex = { .bounds_check = true, .arena_base = base };
		uint64_t r0 = 0;

		REQUIRE(jp);
		memset(base, 0, 64);
		CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
		CHECK_EQ(r0, 2 * 0x1234); /* page 0 twice, both guards 0 */
		CHECK_EQ(base[16], 0x34);
		CHECK_EQ(base[8], 0x34);
		CHECK_EQ(base[9], 0x12);
		ua_jit_free(jp);
	}
	ua_prog_free(p);
	munmap(base, FAKE_ARENA_SZ);
}

/* ---- random differential test ---- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const uint8_t alu_ops[] = {
	UA_ADD, UA_SUB, UA_MUL, UA_DIV, UA_OR, UA_AND, UA_LSH, UA_RSH, UA_NEG, UA_MOD, UA_XOR,
	UA_MOV, UA_ARSH,
};
static const uint8_t jmp_ops[] = {
	UA_JEQ, UA_JGT, UA_JGE, UA_JSET, UA_JNE, UA_JSGT, UA_JSGE, UA_JLT, UA_JLE, UA_JSLT, UA_JSLE,
};
static const uint8_t mem_sizes[] = { UA_B, UA_H, UA_W, UA_DW };
static const int32_t rnd_atomics[] = {
	UA_ADD, UA_OR, UA_AND, UA_XOR, UA_ADD | UA_FETCH, UA_OR | UA_FETCH, UA_AND | UA_FETCH,
	UA_XOR | UA_FETCH, UA_XCHG, UA_CMPXCHG,
};

/* A writable register: r0, r2..r9 (r1 holds the memory, r10 the stack). */
static uint8_t wreg(uint64_t r)
{
	uint8_t d = r % 9;

	return d == 1 ? 9 : d == 9 ? 0 : d;
}

static int32_t interesting_imm(uint64_t r)
{
	static const int32_t edge[] = { 0, 1, -1, 2, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 0xff };

	return (r & 3) ? edge[(r >> 2) % N(edge)] : (int32_t)(r >> 16);
}

static struct ua_insn random_alu(uint64_t r)
{
	bool is64 = r & 1, x = (r >> 1) & 1;
	uint8_t op = alu_ops[(r >> 2) % N(alu_ops)];
	struct ua_insn in = UA_INSN((is64 ? UA_ALU64 : UA_ALU) | op | (x ? UA_X : UA_K),
				    wreg(r >> 8), x ? (r >> 12) % 10 : 0, 0,
				    x ? 0 : interesting_imm(r >> 20));

	if (op == UA_NEG)
		in.code = (uint8_t)((is64 ? UA_ALU64 : UA_ALU) | UA_NEG), in.src_reg = 0, in.imm = 0;
	if ((op == UA_DIV || op == UA_MOD) && ((r >> 50) & 1))
		in.off = 1;
	if ((op == UA_LSH || op == UA_RSH || op == UA_ARSH) && !x)
		in.imm &= is64 ? 63 : 31;
	if (op == UA_MOV && x && ((r >> 50) & 1))
		in.off = (int16_t)(8 << ((r >> 51) % (is64 ? 3 : 2))); /* movsx 8/16(/32) */
	if ((r >> 56) % 11 == 0) { /* byte swaps */
		in = UA_INSN((((r >> 52) & 1) ? UA_ALU64 : UA_ALU) | UA_END |
			     (((r >> 53) & 1) ? UA_TO_BE : UA_TO_LE), wreg(r >> 8), 0, 0,
			     16 << ((r >> 54) % 3));
		if (UA_CLASS(in.code) == UA_ALU64)
			in.code = UA_ALU64 | UA_END;
	}
	return in;
}

static struct ua_insn random_mem(uint64_t r)
{
	unsigned sz = (r >> 2) % 4, bytes = sz == 0 ? 1 : sz == 1 ? 2 : sz == 2 ? 4 : 8;
	bool stack = (r >> 6) & 1;
	int16_t off;

	off = stack ? (int16_t)-(int)(bytes + (r >> 8) % (64 - bytes + 1))
		    : (int16_t)((r >> 8) % (MEM_LEN - bytes + 1));
	switch (r & 3) {
	case 0:
		return UA_INSN(UA_LDX | mem_sizes[sz] | (((r >> 30) & 1) && sz < 3 ? UA_MEMSX : UA_MEM),
			       wreg(r >> 20), stack ? 10 : 1, off, 0);
	case 1:
		return UA_ST_MEM(mem_sizes[sz], stack ? 10 : 1, off, interesting_imm(r >> 24));
	case 2:
		return UA_STX_MEM(mem_sizes[sz], stack ? 10 : 1, (r >> 20) % 10, off);
	default: /* aligned atomics on the memory */
		sz = 2 + ((r >> 2) & 1);
		bytes = sz == 2 ? 4 : 8;
		off = (int16_t)(bytes * ((r >> 8) % (MEM_LEN / bytes)));
		return UA_ATOMIC_OP(mem_sizes[sz], rnd_atomics[(r >> 24) % N(rnd_atomics)], 1,
				    wreg(r >> 32), off);
	}
}

/* Straight-line code with forward jumps over memory at r1; ends with exit. */
/*
 * body random insns at prog[*n..]: jumps go forward inside the body (to its
 * exit at the latest) or, when loops, sometimes back to an insn >= floor;
 * sub != 0: some insns call the subprogram at sub.
 */
static void random_body(uint64_t *seed, struct ua_insn *prog, size_t *n, size_t body,
			bool loops, size_t floor, size_t sub)
{
	for (size_t i = 0; i < body; i++) {
		uint64_t r = xorshift(seed);
		size_t left = body - i, at = *n; /* insns after this one before the exit */

		switch (r % 8) {
		case 0: case 1: case 2: case 3:
			prog[(*n)++] = random_alu(r >> 3);
			break;
		case 4:
			if (sub && ((r >> 3) & 3) == 0) {
				prog[(*n)++] = (struct ua_insn)UA_CALL_REL((int32_t)(sub - (at + 1)));
				break;
			}
			/* fall through */
		case 5:
			prog[(*n)++] = random_mem(r >> 3);
			break;
		default: {
			bool x = (r >> 3) & 1;
			uint8_t cls = (r >> 4) & 1 ? UA_JMP : UA_JMP32;
			int16_t off = (int16_t)((r >> 5) % left);

			if (loops && ((r >> 40) & 7) == 0)
				off = (int16_t)-(int)((r >> 43) % (at - floor + 1) + 1);
			prog[(*n)++] = UA_INSN(cls | jmp_ops[(r >> 9) % N(jmp_ops)] | (x ? UA_X : UA_K),
					       wreg(r >> 13), x ? wreg(r >> 17) : 0, off,
					       x ? 0 : interesting_imm(r >> 21));
			break;
		}
		}
	}
}

/* Registers r0, r2..r9 get random values (r1 is the memory). */
static size_t random_init(uint64_t *seed, struct ua_insn *prog)
{
	size_t n = 0;

	for (uint8_t r = 0; r <= 9; r++) {
		uint64_t v = xorshift(seed);
		const struct ua_insn ld[] = { UA_LD_IMM64(r, v >> ((v & 7) * 8)) };

		if (r == 1)
			continue;
		prog[n++] = ld[0];
		prog[n++] = ld[1];
	}
	return n;
}

/* Straight-line code with forward jumps over memory at r1; ends with exit. */
static size_t random_program(uint64_t *seed, struct ua_insn *prog, size_t max)
{
	size_t n = random_init(seed, prog), body = 8 + xorshift(seed) % (max - 30);

	random_body(seed, prog, &n, body, false, 0, 0);
	prog[n++] = (struct ua_insn)UA_EXIT_INSN();
	return n;
}

/* main (loops, calls) + exit + a subprogram (loops) + exit; at most 18 + 60 insns. */
static size_t random_program_with_calls(uint64_t *seed, struct ua_insn *prog)
{
	size_t n = random_init(seed, prog), start = n;
	size_t main_len = 8 + xorshift(seed) % 30, sub_len = 4 + xorshift(seed) % 20;
	size_t sub = start + main_len + 1;

	random_body(seed, prog, &n, main_len, true, start, sub);
	prog[n++] = (struct ua_insn)UA_EXIT_INSN();
	random_body(seed, prog, &n, sub_len, true, sub, 0);
	prog[n++] = (struct ua_insn)UA_EXIT_INSN();
	return n;
}

/* r0 and memory after running prog on engine 0 (interp), 1 (jit), 2 (jit shuffled). */
/*
 * One mapping for every run of the process: programs compute with r1 (its
 * address), so all engines must see the same one.
 */
static uint8_t *shared_mem(void)
{
	static uint8_t *mem;

	if (!mem) {
		mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		REQUIRE(mem != MAP_FAILED);
	}
	return mem;
}

static int run_engine(const struct ua_insn *prog, size_t n, const uint8_t *init, int engine,
		      uint64_t budget, uint8_t *mem_out, uint64_t *r0)
{
	uint8_t *mem = shared_mem();
	struct ua_mem_region region = { (uintptr_t)mem, (uintptr_t)mem + MEM_LEN, true };
	struct ua_exec ex = { .bounds_check = true, .regions = &region, .n_regions = 1,
			      .insn_budget = budget };
	uint64_t args[5] = { (uintptr_t)mem };
	struct ua_prog *p = NULL;
	struct ua_jit_prog *jp = NULL;
	char err[256];
	int ret = ua_prog_prepare(prog, n, NULL, err, sizeof(err), &p);

	if (ret)
		return 1000;
	memcpy(mem, init, MEM_LEN);
	if (engine == 0) {
		ret = ua_interp_run(p, &ex, args, r0);
	} else {
		jp = compile(p, engine == 2);
		ret = jp ? ua_jit_run(jp, &ex, args, r0) : -1;
		ua_jit_free(jp);
	}
	memcpy(mem_out, mem, MEM_LEN);
	ua_prog_free(p);
	return ret;
}

static bool engines_differ(const struct ua_insn *prog, size_t n, const uint8_t *init)
{
	uint8_t m0[MEM_LEN], m1[MEM_LEN];
	uint64_t r0a = 0, r0b = 0;
	int a = run_engine(prog, n, init, 0, 20000, m0, &r0a);
	int b = run_engine(prog, n, init, 1, 20000, m1, &r0b);

	if (a == 1000 || a == -ETIME || b == -ETIME)
		return false;
	return a != b || r0a != r0b || memcmp(m0, m1, MEM_LEN);
}

/* Debug aid: shrink a failing program (insns become "ja +0") and print it. */
static void print_minimized(struct ua_insn *prog, size_t n, const uint8_t *init)
{
	for (size_t i = 0; i + 1 < n; i++) {
		struct ua_insn saved = prog[i];

		if (prog[i].code == (UA_LD | UA_IMM | UA_DW))
			continue;
		prog[i] = (struct ua_insn)UA_JMP_A(0);
		if (!engines_differ(prog, n, init))
			prog[i] = saved;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %zu: code 0x%02x dst %u src %u off %d imm %d\n", i, prog[i].code,
			prog[i].dst_reg, prog[i].src_reg, prog[i].off, prog[i].imm);
}

TEST(jit, random_programs_match_the_interpreter)
{
	uint64_t seed = 0x2545f4914f6cdd1dull;
	unsigned compared = 0;

	for (int round = 0; round < 3000; round++) {
		struct ua_insn prog[80];
		size_t n = random_program(&seed, prog, N(prog));
		uint8_t init[MEM_LEN], *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ua_prog *p = NULL;
		char err[256] = "";
		uint8_t want_mem[MEM_LEN];
		uint64_t want_r0 = 0;
		int want;

		REQUIRE(mem != MAP_FAILED);
		for (size_t i = 0; i < MEM_LEN; i++)
			init[i] = (uint8_t)xorshift(&seed);
		if (ua_prog_prepare(prog, n, NULL, err, sizeof(err), &p)) {
			ua_test_fail(__FILE__, __LINE__, "round %d: generator made \"%s\"", round, err);
			munmap(mem, 4096);
			continue;
		}
		for (int engine = 0; engine < 3; engine++) {
			struct ua_mem_region region = { (uintptr_t)mem, (uintptr_t)mem + MEM_LEN, true };
			struct ua_exec ex = { .bounds_check = true, .regions = &region, .n_regions = 1 };
			uint64_t args[5] = { (uintptr_t)mem }, r0 = 0;
			struct ua_jit_prog *jp = NULL;
			int ret;

			memcpy(mem, init, MEM_LEN);
			if (engine == 0) {
				ret = ua_interp_run(p, &ex, args, &r0);
				want = ret, want_r0 = r0;
				memcpy(want_mem, mem, MEM_LEN);
				if (ret)
					ua_test_fail(__FILE__, __LINE__, "round %d: interp %d %s",
						     round, ret, ex.err);
				continue;
			}
			jp = compile(p, engine == 2);
			REQUIRE(jp);
			ret = ua_jit_run(jp, &ex, args, &r0);
			if (ret != want || r0 != want_r0 || memcmp(mem, want_mem, MEM_LEN)) {
				if (getenv("UA_JIT_MINIMIZE"))
					print_minimized(prog, n, init);
				ua_test_fail(__FILE__, __LINE__,
					     "round %d (%s map): interp %d r0 0x%llx, jit %d r0 0x%llx%s",
					     round, engine == 2 ? "shuffled" : "default", want,
					     (unsigned long long)want_r0, ret, (unsigned long long)r0,
					     memcmp(mem, want_mem, MEM_LEN) ? ", memory differs" : "");
			}
			compared++;
			ua_jit_free(jp);
		}
		ua_prog_free(p);
		munmap(mem, 4096);
	}
	CHECK_EQ(compared, 6000);
}

/* ---- BPF objects: ua_program_test_run with and without UA_F_TEST_RUN_JIT ---- */

static int test_run(struct ua_program *p, uint32_t flags, uint32_t *retval, char *err,
		    size_t err_sz)
{
	uint8_t ctx[64] = { 0 };

	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = err_sz, .flags = flags);
	if (ua_program_type(p) == UA_PROG_TYPE_SYSCALL || ua_program_type(p) == UA_PROG_TYPE_UNSPEC)
		o.ctx_in = ctx, o.ctx_size_in = sizeof(ctx);
	int ret = ua_program_test_run(p, &o);

	*retval = o.retval;
	return ret;
}

/* $UA_BPF_DIR (build/bpf): own copy, shared test helpers are being reorganised. */
static const char *bpf_dir(void)
{
	const char *d = getenv("UA_BPF_DIR");

	return d && *d ? d : "build/bpf";
}

struct obj_result {
	int ret;
	uint32_t retval;
	bool jitted;
	char name[64], err[256];
};

/* Runs one program of PATH on a fresh copy of the object (programs change their maps). */
static void run_program(const char *path, const char *name, uint32_t flags, struct obj_result *r)
{
	struct ua_object *obj = NULL;
	struct ua_program *p;

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->jitted = false;
	UA_OPTS(ua_object_open_opts, oo, .err_buf = r->err, .err_buf_sz = sizeof(r->err),
		.object_name = "ex", .only_prog = name);
	r->ret = ua_object_open(path, &oo, &obj);
	if (r->ret)
		return; /* refused at load (e.g. a .rodata store): engine-independent */
	p = ua_object_find_program(obj, name);
	if (!p || !ua_program_prepared(p)) {
		r->ret = -ENOENT;
		ua_object_close(obj);
		return;
	}
	r->ret = test_run(p, flags, &r->retval, r->err, sizeof(r->err));
	r->jitted = p->prog && !ua_prog_jit_fallback(p->prog);
	ua_object_close(obj);
}

/*
 * Runs every program of NAME.bpf.o once, each alone (`only_prog`, as libbpf's
 * per-program autoload): one program refused at load does not hide the
 * others. Returns how many (max 64).
 */
static size_t run_object(const char *name, uint32_t flags, struct obj_result *res)
{
	char path[512], err[512] = "";
	char **names = NULL;
	int n;

	snprintf(path, sizeof(path), "%s/%s.bpf.o", bpf_dir(), name);
	n = ua_kernel_list_programs(path, &names, err, sizeof(err));
	if (n < 0) {
		ua_test_fail(__FILE__, __LINE__, "list %s: %s", path, err);
		return 0;
	}
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		run_program(path, names[i], flags, &res[i]);
	free(names);
	return (size_t)n;
}

/*
 * Every program of the built objects, each engine on its own fresh copy of
 * the object (programs change their maps): same error or same retval.
 */
TEST(jit, bpf_objects_agree_with_the_interpreter)
{
	static const char *const objs[] = {
		"arena_alloc", "arena_atomics", "arena_htab", "arena_htab_asm", "arena_large",
		"arena_list", "arena_loop", "arena_strsearch", "arena_verifier",
		"arena_verifier_core", "loader_arena", "loader_core", "loader_globals",
		"loader_maps", "xdp_arena_kv",
	};
	static struct obj_result interp[64], jit[64];
	unsigned compared = 0, jitted = 0, refused = 0;

	for (size_t i = 0; i < N(objs); i++) {
		size_t n = run_object(objs[i], 0, interp);

		CHECK_EQ(run_object(objs[i], UA_F_TEST_RUN_JIT, jit), n);
		for (size_t k = 0; k < n; k++) {
			const struct obj_result *a = &interp[k], *b = &jit[k];

			if (strcmp(a->name, b->name) || a->ret != b->ret ||
			    (!a->ret && a->retval != b->retval))
				ua_test_fail(__FILE__, __LINE__,
					     "%s/%s: interp %d %u \"%s\", jit %d %u \"%s\"", objs[i],
					     a->name, a->ret, a->retval, a->err, b->ret, b->retval,
					     b->err);
			if (a->ret && !strncmp(a->err, "loader: ", 8) && !strcmp(a->err, b->err)) {
				refused++; /* refused at load on both: nothing ran */
				continue;
			}
			compared++;
			jitted += b->jitted;
		}
	}
	CHECK(compared >= 30);
	CHECK_EQ(refused, 1); /* loader_globals/write_rodata: a .rodata store */
	CHECK_EQ(jitted, compared); /* callbacks included: nothing falls back */
	fprintf(stderr, "jit: %u programs compared, %u ran as machine code\n", compared, jitted);
}

/* Arena atomics: page 0 works, an unallocated page changes nothing. */
TEST(jit, arena_atomics_fault_without_effect)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 0), UA_MOV64_IMM(2, 5),
		UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 1, 2, 16),   /* page 0: old 0 -> r2 */
		UA_MOV64_IMM(3, 0x2000), UA_MOV64_IMM(4, 9),
		UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 3, 4, 0),    /* unmapped: r4 unchanged */
		UA_LOAD_ACQ_INSN(UA_W, 6, 3, 0),                    /* unmapped: r6 = 0 */
		UA_MOV64_IMM(0, 7), UA_MOV64_IMM(7, 8),
		UA_ATOMIC_OP(UA_W, UA_CMPXCHG, 3, 7, 4),            /* unmapped: r0 unchanged */
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 2),
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 4),
		UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 6),
		UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_prog *p = prepare(prog, N(prog), true);

	REQUIRE(p);
	for (int shuffled = 0; shuffled <= 1; shuffled++) {
		struct ua_jit_prog *jp = compile(p, shuffled);
		struct ua_exec ex = { .bounds_check = true, .arena_base = base };
		uint64_t r0 = 0, mem;

		REQUIRE(jp);
		memset(base, 0, 64);
		CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
		/* r0 keeps 7; r2 = old 0; r4 keeps 9; r6 = 0 */
		CHECK_EQ(r0, (7ull << 24) | (0 << 16) | (9 << 8) | 0);
		memcpy(&mem, base + 16, 8);
		CHECK_EQ(mem, 5);
		ua_jit_free(jp);
	}
	ua_prog_free(p);
	munmap(base, FAKE_ARENA_SZ);
}

struct thread_arg {
	const struct ua_prog *prog;
	uint8_t *arena;
	uint64_t r0[200];
	int ret;
};

static void *thread_main(void *arg)
{
	struct thread_arg *t = arg;

	for (int i = 0; i < 200 && !t->ret; i++) {
		struct ua_exec ex = { .bounds_check = true, .arena_base = t->arena };
		uint64_t args[5] = { (uint64_t)i };

		t->ret = ua_prog_run(t->prog, &ex, args, &t->r0[i]);
	}
	return NULL;
}

/* One attached JIT program, four threads, faults on some runs: exact results. */
TEST(jit, threads_share_one_program)
{
	/* r0 = (r1 & 1 ? load from unallocated page (0) : 100) + r1 */
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(0, 100), UA_JMP_IMM(UA_JSET, 1, 1, 1), UA_JMP_A(2),
		UA_MOV64_IMM(2, 0x5000), UA_LDX_MEM(UA_DW, 0, 2, 0),
		UA_ALU64_REG(UA_ADD, 0, 1), UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_prog *p = prepare(prog, N(prog), true);
	static struct thread_arg args[4];
	pthread_t th[4];
	char err[256] = "";

	REQUIRE(p);
	REQUIRE_EQ(ua_prog_enable_jit(p, err, sizeof(err)), 0);
	CHECK(ua_prog_jit_fallback(p) == NULL);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .prog = p, .arena = base };
		REQUIRE_EQ(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].ret, 0);
		for (int k = 0; k < 200; k++)
			CHECK_EQ(args[i].r0[k], (k & 1 ? 0 : 100) + (uint64_t)k);
	}
	ua_prog_free(p);
	munmap(base, FAKE_ARENA_SZ);
}

/* The fault handler's table of code ranges is finite: beyond it, interpret. */
TEST(jit, too_many_arena_programs_fall_back)
{
	static const struct ua_insn prog[] = {
		UA_MOV64_IMM(1, 0x7000), UA_MOV64_IMM(0, 3), UA_LDX_MEM(UA_DW, 2, 1, 0),
		UA_ALU64_REG(UA_ADD, 0, 2), UA_EXIT_INSN(),
	};
	uint8_t *base = fake_arena();
	struct ua_prog *p = prepare(prog, N(prog), true);
	struct ua_jit_prog *jps[80];
	unsigned fell_back = 0;

	REQUIRE(p);
	for (size_t i = 0; i < N(jps); i++) {
		struct ua_exec ex = { .bounds_check = true, .arena_base = base };
		uint64_t r0 = 0;

		jps[i] = compile(p, false);
		REQUIRE(jps[i]);
		if (ua_jit_fallback_reason(jps[i])) {
			CHECK_STR(ua_jit_fallback_reason(jps[i]),
				  "the fault handler has no room for more JIT code");
			fell_back++;
		}
		CHECK_EQ(ua_jit_run(jps[i], &ex, NULL, &r0), 0);
		CHECK_EQ(r0, 3);
	}
	CHECK(fell_back > 0 && fell_back < N(jps));
	for (size_t i = 0; i < N(jps); i++)
		ua_jit_free(jps[i]);
	ua_prog_free(p);
	munmap(base, FAKE_ARENA_SZ);
}

/*
 * Loops (back-edges) and bpf-to-bpf calls: the budget stops endless loops at
 * different points on the two engines, so those runs are not compared; every
 * other run must agree exactly (r0, errno, memory).
 */
TEST(jit, random_programs_with_loops_and_calls_match)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned compared = 0, timed_out = 0;

	for (int round = 0; round < 2000; round++) {
		struct ua_insn prog[96];
		size_t n = random_program_with_calls(&seed, prog);
		uint8_t init[MEM_LEN], want_mem[MEM_LEN], got_mem[MEM_LEN];
		uint64_t want_r0 = 0, r0 = 0;
		int want;

		for (size_t i = 0; i < MEM_LEN; i++)
			init[i] = (uint8_t)xorshift(&seed);
		want = run_engine(prog, n, init, 0, 20000, want_mem, &want_r0);
		if (want == 1000) {
			ua_test_fail(__FILE__, __LINE__, "round %d: generator made an invalid program",
				     round);
			continue;
		}
		for (int engine = 1; engine <= 2; engine++) {
			int ret = run_engine(prog, n, init, engine, 20000, got_mem, &r0);

			if (want == -ETIME || ret == -ETIME) {
				timed_out++;
				continue;
			}
			compared++;
			if (ret != want || r0 != want_r0 || memcmp(got_mem, want_mem, MEM_LEN)) {
				if (getenv("UA_JIT_MINIMIZE"))
					print_minimized(prog, n, init);
				ua_test_fail(__FILE__, __LINE__,
					     "round %d (%s map): interp %d r0 0x%llx, jit %d r0 0x%llx%s",
					     round, engine == 2 ? "shuffled" : "default", want,
					     (unsigned long long)want_r0, ret, (unsigned long long)r0,
					     memcmp(got_mem, want_mem, MEM_LEN) ? ", memory differs" : "");
			}
		}
	}
	CHECK(compared > 2000);
	fprintf(stderr, "jit: %u loop/call runs compared, %u stopped by the budget\n", compared,
		timed_out);
}

/* The inline region cache never widens a region: crossing its end still faults. */
TEST(jit, cached_region_bounds_are_exact)
{
	static const struct ua_insn prog[] = {
		UA_LDX_MEM(UA_DW, 0, 1, 0), UA_LDX_MEM(UA_DW, 2, 1, 8), UA_STX_MEM(UA_DW, 1, 0, 8),
		UA_LDX_MEM(UA_DW, 3, 1, 9), UA_EXIT_INSN(),
	};
	static const struct ua_insn store_past[] = {
		UA_ST_MEM(UA_DW, 1, 0, 1), UA_ST_MEM(UA_W, 1, 13, 2), UA_EXIT_INSN(),
	};
	uint64_t buf[3] = { 0x11, 0x22, 0x33 };
	struct ua_mem_region r = { (uintptr_t)buf, (uintptr_t)buf + 16, true };
	uint64_t args[5] = { (uintptr_t)buf };

	for (int shuffled = 0; shuffled <= 1; shuffled++) {
		struct ua_prog *p = prepare(prog, N(prog), false);
		struct ua_prog *q = prepare(store_past, N(store_past), false);
		struct ua_jit_prog *jp = compile(p, shuffled), *jq = compile(q, shuffled);
		struct ua_exec ex = { .bounds_check = true, .regions = &r, .n_regions = 1 };
		uint64_t r0 = 0;
		char want[128];

		REQUIRE(jp && jq);
		CHECK_EQ(ua_jit_run(jp, &ex, args, &r0), -EFAULT);
		snprintf(want, sizeof(want), "insn 3: invalid memory access 0x%llx (size 8)",
			 (unsigned long long)(uintptr_t)buf + 9);
		CHECK_STR(ex.err, want);
		CHECK_EQ(buf[1], 0x11); /* the store at 8 happened */
		buf[1] = 0x22;
		CHECK_EQ(ua_jit_run(jq, &ex, args, &r0), -EFAULT);
		snprintf(want, sizeof(want), "insn 1: invalid memory access 0x%llx (size 4)",
			 (unsigned long long)(uintptr_t)buf + 13);
		CHECK_STR(ex.err, want);
		CHECK_EQ(buf[0], 1);
		buf[0] = 0x11;
		CHECK_EQ(buf[2], 0x33);
		ua_jit_free(jp);
		ua_jit_free(jq);
		ua_prog_free(p);
		ua_prog_free(q);
	}
}

/*
 * Every arena atomic, both widths, every source register, on an allocated
 * page and on an unallocated one, cmpxchg hitting and missing: the JIT's
 * inline sequences against the interpreter (r0, the source register, memory).
 */
TEST(jit, arena_atomics_match_the_interpreter)
{
	static const int32_t ops[] = {
		UA_ADD, UA_OR, UA_AND, UA_XOR, UA_ADD | UA_FETCH, UA_OR | UA_FETCH,
		UA_AND | UA_FETCH, UA_XOR | UA_FETCH, UA_XCHG, UA_CMPXCHG, UA_LOAD_ACQ, UA_STORE_REL,
	};
	const uint64_t cell = 0x8899aabbccddeeffull;
	uint8_t *base = fake_arena();
	unsigned runs = 0;

	for (size_t o = 0; o < N(ops); o++)
	for (int size = 1; size <= 8; size *= 2)
	for (int src = 0; src <= 8; src++)
	for (int page = 0; page <= 1; page++)
	for (int hit = 0; hit <= 1; hit++) {
		bool acqrel = ops[o] == UA_LOAD_ACQ || ops[o] == UA_STORE_REL;
		uint8_t sz = size == 1 ? UA_B : size == 2 ? UA_H : size == 4 ? UA_W : UA_DW;
		const struct ua_insn prog[] = {
			UA_LD_IMM64(0, hit ? cell : 0x1122334455667788ull),
			UA_LD_IMM64(src, src ? 0x0f0f0f0ff0f0f0f0ull : (hit ? cell : 0x77)),
			UA_MOV64_IMM(9, page ? 0x2000 : 0),
			ops[o] == UA_LOAD_ACQ ? (struct ua_insn)UA_LOAD_ACQ_INSN(sz, src, 9, 8)
					      : (struct ua_insn)UA_ATOMIC_OP(sz, ops[o], 9, src, 8),
			/* r0 = r0 * 31 + src */
			UA_MOV64_REG(8, 0), UA_ALU64_IMM(UA_MUL, 8, 31), UA_ALU64_REG(UA_ADD, 8, src),
			UA_MOV64_REG(0, 8), UA_EXIT_INSN(),
		};
		uint64_t want_r0 = 0, r0 = 0, want_cell = 0, got_cell = 0;
		struct ua_prog *p;

		if ((!acqrel && size < 4) || (src == 8))
			continue;
		p = prepare(prog, N(prog), true);
		REQUIRE(p);
		for (int engine = 0; engine < 3; engine++) {
			struct ua_exec ex = { .bounds_check = true, .arena_base = base };
			struct ua_jit_prog *jp = NULL;
			int ret;

			memcpy(base + 8, &cell, 8);
			if (engine == 0) {
				ret = ua_interp_run(p, &ex, NULL, &want_r0);
			} else {
				jp = compile(p, engine == 2);
				REQUIRE(jp);
				ret = ua_jit_run(jp, &ex, NULL, &r0);
				ua_jit_free(jp);
			}
			CHECK_EQ(ret, 0);
			memcpy(engine ? &got_cell : &want_cell, base + 8, 8);
			if (engine && (r0 != want_r0 || got_cell != want_cell))
				ua_test_fail(__FILE__, __LINE__,
					     "op 0x%x size %d src r%d page %d hit %d (%s map): r0 0x%llx want 0x%llx, mem 0x%llx want 0x%llx",
					     ops[o], size, src, page, hit,
					     engine == 2 ? "shuffled" : "default",
					     (unsigned long long)r0, (unsigned long long)want_r0,
					     (unsigned long long)got_cell, (unsigned long long)want_cell);
			runs += engine > 0;
		}
		ua_prog_free(p);
	}
	CHECK(runs > 500);
	munmap(base, FAKE_ARENA_SZ);
}

/*
 * A real arena on both fault paths: userfaultfd (the JIT's inline accesses,
 * SIGBUS fixups) and checked (the JIT hands the run to the interpreter so an
 * unbacked page is never touched). Unallocated page: loads 0, stores and
 * atomics dropped; the allocated page sees every store.
 */
static void real_arena_case(bool no_uffd)
{
	static const struct ua_insn prog[] = {
		UA_ADDR_SPACE_CAST_INSN(2, 1, UA_CAST_KERN),          /* r2 = lo32(page) */
		UA_MOV64_REG(3, 2), UA_ALU64_IMM(UA_ADD, 3, 4096),    /* r3 = next page (unallocated) */
		UA_ST_MEM(UA_DW, 3, 0, 9), UA_LDX_MEM(UA_DW, 0, 3, 0),
		UA_MOV64_IMM(4, 3), UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 3, 4, 8),
		UA_ALU64_REG(UA_ADD, 0, 4),                           /* r4 keeps 3 */
		UA_ST_MEM(UA_DW, 2, 16, 0x77), UA_LDX_MEM(UA_DW, 5, 2, 16),
		UA_ALU64_REG(UA_ADD, 0, 5),
		UA_MOV64_IMM(6, 5), UA_ATOMIC_OP(UA_DW, UA_ADD, 2, 6, 16),
		UA_EXIT_INSN(),
	};
	UA_OPTS(ua_arena_opts, opts, .max_entries = 16, .map_flags = UA_F_MMAPABLE);
	struct ua_arena *a = NULL;
	struct ua_prog *p = prepare(prog, N(prog), true);
	struct ua_jit_prog *jp;
	uint64_t *page, r0 = 0;

	if (no_uffd)
		setenv("UA_ARENA_NO_UFFD", "1", 1);
	REQUIRE(p);
	REQUIRE_EQ(ua_arena_create(&opts, &a), 0);
	if (!no_uffd && ua_arena_fault_path(a) != UA_ARENA_FAULT_UFFD)
		SKIP("userfaultfd is not available here");
	CHECK_EQ(ua_arena_fault_path(a), no_uffd ? UA_ARENA_FAULT_CHECKED : UA_ARENA_FAULT_UFFD);
	page = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(page != NULL);
	jp = compile(p, no_uffd);
	REQUIRE(jp);
	{
		struct ua_exec ex = { .bounds_check = true, .arena = a,
				      .arena_base = ua_arena_prog_base(a) };
		uint64_t args[5] = { (uintptr_t)page };

		CHECK_EQ(ua_jit_run(jp, &ex, args, &r0), 0);
	}
	CHECK_EQ(r0, 0 + 3 + 0x77);
	CHECK_EQ(page[2], 0x77 + 5);
	ua_jit_free(jp);
	ua_prog_free(p);
	ua_arena_destroy(a);
}

TEST(jit, real_arena_userfaultfd_path)
{
	real_arena_case(false);
}

TEST(jit, real_arena_checked_path_interprets)
{
	real_arena_case(true);
}

/* A large program: buffers and label tables grow, jumps span megabytes. */
TEST(jit, large_program_compiles_and_runs)
{
	const size_t n = 100000;
	struct ua_insn *prog = calloc(n, sizeof(*prog));
	struct ua_prog *p;
	struct ua_jit_prog *jp;
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	REQUIRE(prog);
	prog[0] = (struct ua_insn)UA_MOV64_IMM(0, 0);
	prog[1] = (struct ua_insn)UA_JMP_IMM(UA_JEQ, 1, 7, (int16_t)0x7fff); /* r1 == 7: skip */
	for (size_t i = 2; i + 1 < n; i++)
		prog[i] = (struct ua_insn)UA_ALU64_IMM(UA_ADD, 0, 1);
	prog[n - 1] = (struct ua_insn)UA_EXIT_INSN();
	p = prepare(prog, n, false);
	REQUIRE(p);
	jp = compile(p, true);
	REQUIRE(jp);
	CHECK(ua_jit_code_size(jp) > n * 4);
	CHECK_EQ(ua_jit_run(jp, &ex, NULL, &r0), 0);
	CHECK_EQ(r0, n - 3);
	{
		uint64_t args[5] = { 7 };

		uint64_t want = 0;

		CHECK_EQ(ua_jit_run(jp, &ex, args, &r0), 0);
		CHECK_EQ(r0, n - 3 - 0x7fff); /* insns 2..0x8000 skipped */
		CHECK_EQ(ua_interp_run(p, &ex, args, &want), 0);
		CHECK_EQ(r0, want);
	}
	ua_jit_free(jp);
	ua_prog_free(p);
	free(prog);
}
