/* SPDX-License-Identifier: MIT */
/*
 * Random straight-line programs (with forward jumps) run by the kernel's
 * JIT and by uarena's interpreter: the full 64-bit r0 must be identical.
 *
 * Model: a seeded xorshift generator (the seed is in every failure message,
 * so any failure replays) emits: ld_imm64 of r0..r9 (values biased toward
 * the edges: 0, +-1, INT32_MIN, INT64_MIN, small shift counts), then N
 * random instructions covering every ALU/ALU64 op in K and X forms incl.
 * sdiv/smod, movsx, byte swaps and register shifts of any count, plus
 * loads/ldsx/stores/atomics (every op, W and DW, cmpxchg) on an initialised
 * stack area, conditional forward jumps (JMP and JMP32, K and X), then
 * r0 ^= r1..r9 so every register reaches the result. Only what the verifier refuses is
 * avoided (division by an immediate 0, immediate shifts >= width, r10 as a
 * destination). The kernel returns 32 bits per test run, so each program is
 * loaded twice, the second time ending in r0 >>= 32.
 * Replay: UA_RANDOM_SEED=N runs only seed N, UA_RANDOM_DUMP=1 prints it; a
 * mismatch reports the first instruction after which the two disagree.
 * 30000 seeds were run once: two mismatched, both the kernel deviation
 * pinned at the end of this file.
 */
#include "interp.h"
#include "kernel.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define N_PROGRAMS 2000
#define BODY_INSNS 48
#define STACK_WORDS 8
#define MAX_INSNS (20 + STACK_WORDS + BODY_INSNS + 9 + 3)

struct gen {
	uint64_t s;
	struct ua_insn insns[MAX_INSNS];
	int n;
};

static uint64_t next(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(next(g) % n);
}

static void put(struct gen *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	g->insns[g->n++] = (struct ua_insn){ .code = code, .dst_reg = dst, .src_reg = src,
					     .off = off, .imm = imm };
}

static uint64_t edge_value(struct gen *g)
{
	static const uint64_t edges[] = {
		0, 1, UINT64_MAX, 0x80000000ull, 0xffffffff80000000ull, 0x8000000000000000ull,
		0x7fffffffffffffffull, 0xffffffffull, 63, 31, 64, 32,
	};

	return pick(g, 3) ? next(g) : edges[pick(g, sizeof(edges) / sizeof(edges[0]))];
}

static int32_t imm_value(struct gen *g)
{
	return (int32_t)edge_value(g);
}

static void gen_alu(struct gen *g)
{
	static const uint8_t ops[] = { UA_ADD, UA_SUB, UA_MUL, UA_DIV, UA_OR, UA_AND, UA_LSH,
				       UA_RSH, UA_NEG, UA_MOD, UA_XOR, UA_MOV, UA_ARSH, UA_END };
	bool is64 = pick(g, 2);
	uint8_t cls = is64 ? UA_ALU64 : UA_ALU, op = ops[pick(g, sizeof(ops))];
	uint8_t dst = (uint8_t)pick(g, 10), src = (uint8_t)pick(g, 10);
	bool reg = pick(g, 2);
	unsigned width = is64 ? 64 : 32;
	int16_t off = 0;
	int32_t imm = imm_value(g);

	switch (op) {
	case UA_NEG:
		put(g, cls | op | UA_K, dst, 0, 0, 0);
		return;
	case UA_END: {
		static const int32_t sizes[] = { 16, 32, 64 };

		/* ALU: to_le/to_be (source bit); ALU64: bswap (source bit 0). */
		put(g, cls | op | (is64 ? 0 : (pick(g, 2) ? UA_TO_BE : UA_TO_LE)), dst, 0, 0,
		    sizes[pick(g, 3)]);
		return;
	}
	case UA_LSH:
	case UA_RSH:
	case UA_ARSH:
		if (!reg)
			imm = (int32_t)pick(g, width);
		break;
	case UA_DIV:
	case UA_MOD:
		off = (int16_t)pick(g, 2); /* 1: signed */
		if (!reg && imm == 0)
			imm = 7;
		break;
	case UA_MOV:
		if (reg && pick(g, 2)) {
			static const int16_t ext[] = { 8, 16, 32 };

			off = ext[pick(g, is64 ? 3 : 2)]; /* movsx */
		}
		break;
	}
	put(g, cls | op | (reg ? UA_X : UA_K), dst, reg ? src : 0, off, reg ? 0 : imm);
}

/*
 * Loads (zero- and sign-extending), stores and atomics on the 64 bytes below
 * r10, all initialised by the prologue; offsets aligned to the access size
 * (the verifier insists on that for the stack).
 */
static void gen_mem(struct gen *g)
{
	static const uint8_t sizes[] = { UA_B, UA_H, UA_W, UA_DW };
	static const unsigned bytes[] = { 1, 2, 4, 8 };
	static const int32_t atomics[] = { UA_ADD, UA_AND, UA_OR, UA_XOR, UA_ADD | UA_FETCH,
					   UA_AND | UA_FETCH, UA_OR | UA_FETCH, UA_XOR | UA_FETCH,
					   UA_XCHG, UA_CMPXCHG };
	unsigned k = pick(g, 4), kind = pick(g, 4);
	int16_t off = (int16_t)(-8 * STACK_WORDS + (int)(bytes[k] * pick(g, 64 / bytes[k])));
	uint8_t reg = (uint8_t)pick(g, 10), other = (uint8_t)pick(g, 10);

	switch (kind) {
	case 0: /* ldx, or ldsx for B/H/W */
		put(g, UA_LDX | sizes[k] | (k < 3 && pick(g, 2) ? UA_MEMSX : UA_MEM), reg, 10, off, 0);
		return;
	case 1:
		put(g, UA_STX | sizes[k] | UA_MEM, 10, reg, off, 0);
		return;
	case 2:
		put(g, UA_ST | sizes[k] | UA_MEM, 10, 0, off, imm_value(g));
		return;
	default: /* atomics: W or DW */
		k = 2 + pick(g, 2);
		off = (int16_t)(-8 * STACK_WORDS + (int)(bytes[k] * pick(g, 64 / bytes[k])));
		put(g, UA_STX | sizes[k] | UA_ATOMIC, 10, other,
		    off, atomics[pick(g, sizeof(atomics) / sizeof(atomics[0]))]);
		return;
	}
}

static void gen_jump(struct gen *g, int remaining)
{
	static const uint8_t ops[] = { UA_JEQ, UA_JGT, UA_JGE, UA_JSET, UA_JNE, UA_JSGT,
				       UA_JSGE, UA_JLT, UA_JLE, UA_JSLT, UA_JSLE };
	uint8_t cls = pick(g, 2) ? UA_JMP : UA_JMP32;
	bool reg = pick(g, 2);
	int16_t off = (int16_t)(1 + pick(g, (unsigned)(remaining < 3 ? remaining : 3)));

	put(g, cls | ops[pick(g, sizeof(ops))] | (reg ? UA_X : UA_K), (uint8_t)pick(g, 10),
	    reg ? (uint8_t)pick(g, 10) : 0, off, reg ? 0 : imm_value(g));
}

/* A random program; its length is returned (the epilogue excluded for `high`). */
static int generate(struct gen *g, uint64_t seed)
{
	g->s = seed * 0x9e3779b97f4a7c15ull + 1;
	g->n = 0;
	for (uint8_t r = 0; r < 10; r++) {
		uint64_t v = edge_value(g);

		put(g, UA_LD | UA_DW | UA_IMM, r, 0, 0, (int32_t)(uint32_t)v);
		put(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
	}
	for (int w = 0; w < STACK_WORDS; w++)
		put(g, UA_STX | UA_DW | UA_MEM, 10, (uint8_t)(w + 1), (int16_t)(-8 * (w + 1)), 0);
	for (int i = 0; i < BODY_INSNS; i++) {
		int remaining = BODY_INSNS - i - 1;

		unsigned what = pick(g, 10);

		if (remaining > 0 && what < 2)
			gen_jump(g, remaining);
		else if (what < 5)
			gen_mem(g);
		else
			gen_alu(g);
	}
	for (uint8_t r = 1; r < 10; r++)
		put(g, UA_ALU64 | UA_XOR | UA_X, 0, r, 0, 0);
	return g->n;
}

static int kernel_r0_half(const struct ua_insn *body, int n, bool high, uint32_t *out, char *err,
			  size_t err_sz)
{
	struct ua_insn insns[MAX_INSNS];
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SYSCALL,
					.prog_flags = UA_KBPF_F_SLEEPABLE, .insns = insns,
					.name = "random" };
	struct ua_kbpf_test_run run = { 0 };
	int m = n, fd, ret;

	memcpy(insns, body, (size_t)n * sizeof(*insns));
	if (high)
		insns[m++] = (struct ua_insn){ .code = UA_ALU64 | UA_RSH | UA_K, .imm = 32 };
	insns[m++] = (struct ua_insn){ .code = UA_JMP | UA_EXIT };
	pa.insn_cnt = (uint32_t)m;
	fd = ua_kbpf_prog_load(&pa, err, err_sz);
	if (fd < 0)
		return fd;
	ret = ua_kbpf_prog_test_run(fd, &run);
	close(fd);
	*out = run.retval;
	return ret;
}

/* Kernel and interpreter r0 of insns[0..n) + exit; false when either refuses. */
static bool both_r0(const struct ua_insn *insns, int n, uint64_t *kr0, uint64_t *ir0)
{
	struct ua_insn full[MAX_INSNS];
	uint32_t lo, hi;
	char err[512];

	if (kernel_r0_half(insns, n, false, &lo, err, sizeof(err)) ||
	    kernel_r0_half(insns, n, true, &hi, err, sizeof(err)))
		return false;
	*kr0 = (uint64_t)hi << 32 | lo;
	memcpy(full, insns, (size_t)n * sizeof(*full));
	full[n] = (struct ua_insn){ .code = UA_JMP | UA_EXIT };
	return ua_conformance_run(full, (size_t)n + 1, NULL, 0, UA_DISPATCH_THREADED, true, ir0,
				  err, sizeof(err)) == 0;
}

/*
 * For a failure message: the first body instruction after which the two
 * disagree (prefixes of the body plus the r0 ^= r1..r9 epilogue; prefixes
 * that cut a jump's target are skipped).
 */
static void explain_divergence(const struct gen *g, int n, uint64_t seed)
{
	const int body = 20 + STACK_WORDS, epi = 9;
	struct ua_insn p[MAX_INSNS];
	uint64_t k, i;

	for (int end = body + 1; end <= n - epi; end++) {
		memcpy(p, g->insns, (size_t)end * sizeof(*p));
		memcpy(p + end, g->insns + n - epi, (size_t)epi * sizeof(*p));
		if (!both_r0(p, end + epi, &k, &i) || k == i)
			continue;
		const struct ua_insn *in = &g->insns[end - 1];

		ua_test_fail(__FILE__, __LINE__,
			     "seed %llu: first differs after insn %d: code 0x%02x dst r%u src r%u "
			     "off %d imm %d (0x%x): interpreter 0x%llx, kernel 0x%llx",
			     (unsigned long long)seed, end - 1, in->code, in->dst_reg, in->src_reg,
			     in->off, in->imm, (unsigned)in->imm, (unsigned long long)i,
			     (unsigned long long)k);
		/* Which registers differ there: r0 = rX; exit, for each X. */
		for (uint8_t r = 0; r < 10; r++) {
			p[end] = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_X, .src_reg = r };
			if (both_r0(p, end + 1, &k, &i) && k != i)
				ua_test_fail(__FILE__, __LINE__,
					     "seed %llu: after insn %d r%u: interpreter 0x%llx, kernel 0x%llx",
					     (unsigned long long)seed, end - 1, r,
					     (unsigned long long)i, (unsigned long long)k);
		}
		return;
	}
}

TEST(kernel_random, programs_match_the_kernel_jit)
{
	char err[8192];
	struct gen g;
	int failures = 0;

	ua_test_require_kbpf();
	const char *only = getenv("UA_RANDOM_SEED"); /* replay one program */
	uint64_t first = only ? strtoull(only, NULL, 0) : 1;
	uint64_t last = only ? first : N_PROGRAMS;

	for (uint64_t seed = first; seed <= last && failures < 5; seed++) {
		int n = generate(&g, seed);
		uint32_t lo = 0, hi = 0;
		uint64_t r0 = 0, want;
		struct ua_insn full[MAX_INSNS];

		if (kernel_r0_half(g.insns, n, false, &lo, err, sizeof(err)) ||
		    kernel_r0_half(g.insns, n, true, &hi, err, sizeof(err))) {
			ua_test_fail(__FILE__, __LINE__, "seed %llu: kernel refused: %s",
				     (unsigned long long)seed, err);
			failures++;
			continue;
		}
		want = (uint64_t)hi << 32 | lo;
		memcpy(full, g.insns, (size_t)n * sizeof(*full));
		full[n] = (struct ua_insn){ .code = UA_JMP | UA_EXIT };
		if (getenv("UA_RANDOM_DUMP"))
			for (int i = 0; i < n; i++)
				printf("%3d: %02x r%u r%u %6d 0x%08x\n", i, g.insns[i].code,
				       g.insns[i].dst_reg, g.insns[i].src_reg, g.insns[i].off,
				       (unsigned)g.insns[i].imm);
		if (ua_conformance_run(full, (size_t)n + 1, NULL, 0, UA_DISPATCH_THREADED, true, &r0,
				       err, sizeof(err)) != 0) {
			ua_test_fail(__FILE__, __LINE__, "seed %llu: interpreter: %s",
				     (unsigned long long)seed, err);
			failures++;
		} else if (r0 != want) {
			ua_test_fail(__FILE__, __LINE__, "seed %llu: interpreter r0 0x%llx, kernel 0x%llx",
				     (unsigned long long)seed, (unsigned long long)r0,
				     (unsigned long long)want);
			explain_divergence(&g, n, seed);
			failures++;
		}
	}
}

/*
 * A kernel deviation this generator found (Linux 6.18.44, x86-64): seed
 * 29451 reduced to the instructions kept below. A 32-bit BPF_CMPXCHG that
 * succeeds must still load the old value zero-extended into r0 (RFC 9669);
 * x86's cmpxchg leaves rax alone on success, so the verifier is meant to
 * insert a zero extension after it, but here r0's 64-bit use comes after a
 * branch joins a path where w0 was redefined, and the kernel's r0 keeps its
 * stale upper 32 bits. uarena zero-extends. Pinned so that a kernel fix, or a
 * change on our side, shows up.
 */
TEST(kernel_random, cmpxchg32_zero_extension_kernel_deviation)
{
	static const int keep[] = { 29, 52, 66, 67, 69, 73 };
	const int body_start = 20 + STACK_WORDS, epilogue = 9;
	struct gen g;
	uint64_t k = 0, i = 0;
	int n;

	ua_test_require_kbpf();
	n = generate(&g, 29451);
	for (int j = body_start; j < n - epilogue; j++) {
		bool kept = false;

		for (size_t x = 0; x < sizeof(keep) / sizeof(keep[0]); x++)
			kept |= keep[x] == j;
		if (!kept) /* r9 = r9: a no-op that keeps every jump offset */
			g.insns[j] = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 9,
						       .src_reg = 9 };
	}
	CHECK_EQ(g.insns[66].code, UA_STX | UA_W | UA_ATOMIC);
	CHECK_EQ(g.insns[66].imm, UA_CMPXCHG);
	REQUIRE(both_r0(g.insns, n, &k, &i));
	CHECK_EQ((uint32_t)k, (uint32_t)i);
	CHECK((k >> 32) != (i >> 32));
}
