/* SPDX-License-Identifier: MIT */
/*
 * Differential execution: ISA edge-case programs run in the interpreter and
 * in the 6.18 kernel (BPF_PROG_TEST_RUN of a socket filter; its retval is 32
 * bits, so each program also runs as a subprogram of a caller returning
 * r0 >> 32, to compare the high half). Every program must load in the kernel, and the interpreter
 * must return the same r0. Skipped without bpf().
 */
#include "insn_build.h"
#include "interp.h"
#include "kernel.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_INSNS 24

struct diff_case {
	const char *name;
	struct ua_insn insns[MAX_INSNS]; /* ends with exit; trailing slots unused */
};

#define CASE(nm, ...) { nm, { __VA_ARGS__, UA_EXIT_INSN() } }
#define I64_MIN(reg) UA_LD_IMM64(reg, 0x8000000000000000ull)
#define V64(reg) UA_LD_IMM64(reg, 0x1122334455667788ull)

static const struct diff_case cases[] = {
	CASE("div64 reg by 0", UA_MOV64_IMM(0, 7), UA_MOV64_IMM(1, 0), UA_ALU64_REG(UA_DIV, 0, 1)),
	CASE("mod64 reg by 0", UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU64_REG(UA_MOD, 0, 1)),
	CASE("mod32 reg by 0", UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU32_REG(UA_MOD, 0, 1)),
	CASE("div32 low-half divisor", UA_MOV64_IMM(0, 8), UA_LD_IMM64(1, 0x100000002ull),
	     UA_ALU32_REG(UA_DIV, 0, 1)),
	CASE("div64 by imm -1", UA_MOV64_IMM(0, -1), UA_ALU64_IMM(UA_DIV, 0, -1)),
	CASE("sdiv64 min/-1", I64_MIN(0), UA_ALU64_SIMM(UA_DIV, 0, -1)),
	CASE("smod64 min/-1", I64_MIN(0), UA_MOV64_IMM(1, -1), UA_ALU64_SREG(UA_MOD, 0, 1)),
	CASE("sdiv32 min/-1", UA_MOV32_IMM(0, INT32_MIN), UA_ALU32_SIMM(UA_DIV, 0, -1)),
	CASE("smod32 min/-1", UA_MOV32_IMM(0, INT32_MIN), UA_MOV64_IMM(1, -1),
	     UA_ALU32_SREG(UA_MOD, 0, 1)),
	CASE("sdiv64 -7/2", UA_MOV64_IMM(0, -7), UA_ALU64_SIMM(UA_DIV, 0, 2)),
	CASE("smod64 -7%2", UA_MOV64_IMM(0, -7), UA_ALU64_SIMM(UA_MOD, 0, 2)),
	CASE("smod64 7%-2", UA_MOV64_IMM(0, 7), UA_ALU64_SIMM(UA_MOD, 0, -2)),
	CASE("smod32 -7%-2", UA_MOV64_IMM(0, -7), UA_ALU32_SIMM(UA_MOD, 0, -2)),
	CASE("sdiv64 reg by 0", UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU64_SREG(UA_DIV, 0, 1)),
	CASE("smod32 reg by 0", UA_MOV64_IMM(0, -7), UA_MOV64_IMM(1, 0), UA_ALU32_SREG(UA_MOD, 0, 1)),
	CASE("lsh64 reg 65", UA_MOV64_IMM(0, 1), UA_MOV64_IMM(1, 65), UA_ALU64_REG(UA_LSH, 0, 1)),
	CASE("rsh32 reg 33", UA_MOV64_IMM(0, 8), UA_MOV64_IMM(1, 33), UA_ALU32_REG(UA_RSH, 0, 1)),
	CASE("arsh32 imm", UA_MOV32_IMM(0, INT32_MIN), UA_ALU32_IMM(UA_ARSH, 0, 4)),
	CASE("arsh64 reg 66", UA_MOV64_IMM(0, -16), UA_MOV64_IMM(1, 66), UA_ALU64_REG(UA_ARSH, 0, 1)),
	CASE("add32 wraps", UA_MOV64_IMM(0, -1), UA_ALU32_IMM(UA_ADD, 0, 1)),
	CASE("mov32 -1", UA_MOV32_IMM(0, -1)),
	CASE("mov64 -1", UA_MOV64_IMM(0, -1)),
	CASE("neg32", UA_MOV64_IMM(0, 1), UA_NEG32(0)),
	CASE("neg64", UA_MOV64_IMM(0, 1), UA_NEG64(0)),
	CASE("mul32", UA_MOV64_IMM(0, 0x7fffffff), UA_ALU32_IMM(UA_MUL, 0, 4)),
	CASE("xor64 imm sign-extends", UA_MOV64_IMM(0, 0x0f), UA_ALU64_IMM(UA_XOR, 0, -1)),
	CASE("movsx8 64", UA_MOV64_IMM(1, 0x180), UA_MOVSX64_REG(0, 1, 8)),
	CASE("movsx16 64", UA_MOV64_IMM(1, 0x8000), UA_MOVSX64_REG(0, 1, 16)),
	CASE("movsx32 64", UA_MOV32_IMM(1, INT32_MIN), UA_MOVSX64_REG(0, 1, 32)),
	CASE("movsx8 32", UA_MOV64_IMM(1, 0x80), UA_MOVSX32_REG(0, 1, 8)),
	CASE("movsx16 32", UA_MOV64_IMM(1, 0x8001), UA_MOVSX32_REG(0, 1, 16)),
	CASE("le16", V64(0), UA_ENDIAN_TO_LE(0, 16)),
	CASE("le32", V64(0), UA_ENDIAN_TO_LE(0, 32)),
	CASE("le64", V64(0), UA_ENDIAN_TO_LE(0, 64)),
	CASE("be16", V64(0), UA_ENDIAN_TO_BE(0, 16)),
	CASE("be32", V64(0), UA_ENDIAN_TO_BE(0, 32)),
	CASE("be64", V64(0), UA_ENDIAN_TO_BE(0, 64)),
	CASE("bswap16", V64(0), UA_BSWAP(0, 16)),
	CASE("bswap32", V64(0), UA_BSWAP(0, 32)),
	CASE("bswap64", V64(0), UA_BSWAP(0, 64)),
	CASE("jsgt vs jgt", UA_MOV64_IMM(1, -1), UA_MOV64_IMM(0, 0),
	     UA_JMP_IMM(UA_JGT, 1, 1, 1), UA_ALU64_IMM(UA_OR, 0, 1),
	     UA_JMP_IMM(UA_JSGT, 1, 1, 1), UA_ALU64_IMM(UA_OR, 0, 2)),
	CASE("jmp32 ignores high half", UA_LD_IMM64(1, 0x100000005ull), UA_MOV64_IMM(0, 0),
	     UA_JMP32_IMM(UA_JEQ, 1, 5, 1), UA_ALU64_IMM(UA_OR, 0, 1),
	     UA_JMP_IMM(UA_JEQ, 1, 5, 1), UA_ALU64_IMM(UA_OR, 0, 2)),
	CASE("jslt32 sign bit", UA_LD_IMM64(1, 0x80000000ull), UA_MOV64_IMM(0, 0),
	     UA_JMP32_IMM(UA_JSLT, 1, 0, 1), UA_ALU64_IMM(UA_OR, 0, 1),
	     UA_JMP_IMM(UA_JSLT, 1, 0, 1), UA_ALU64_IMM(UA_OR, 0, 2)),
	CASE("jset", UA_MOV64_IMM(1, 6), UA_MOV64_IMM(0, 0), UA_JMP_IMM(UA_JSET, 1, 1, 1),
	     UA_ALU64_IMM(UA_OR, 0, 1), UA_JMP_IMM(UA_JSET, 1, 2, 1), UA_ALU64_IMM(UA_OR, 0, 2)),
	CASE("gotol", UA_MOV64_IMM(0, 1), UA_JMP_IMM(UA_JEQ, 0, 5, 1), UA_GOTOL(1),
	     UA_MOV64_IMM(0, 2)),
	CASE("stack signed loads", UA_ST_MEM(UA_H, 10, -2, 0x8123), UA_LDX_MEMSX(UA_H, 0, 10, -2),
	     UA_ST_MEM(UA_B, 10, -3, 0x80), UA_LDX_MEMSX(UA_B, 1, 10, -3),
	     UA_ALU64_REG(UA_XOR, 0, 1)),
	CASE("stack st imm sign-extends", UA_ST_MEM(UA_DW, 10, -8, -2), UA_LDX_MEM(UA_DW, 0, 10, -8)),
	CASE("fetch_add32 zero-extends", UA_ST_MEM(UA_W, 10, -8, -1), UA_MOV64_IMM(1, -1),
	     UA_ATOMIC_OP(UA_W, UA_ADD | UA_FETCH, 10, 1, -8), UA_LDX_MEM(UA_W, 0, 10, -8),
	     UA_ALU64_IMM(UA_LSH, 0, 32), UA_ALU64_REG(UA_OR, 0, 1)),
	CASE("xchg64", UA_ST_MEM(UA_DW, 10, -8, 10), UA_MOV64_IMM(1, 5),
	     UA_ATOMIC_OP(UA_DW, UA_XCHG, 10, 1, -8), UA_LDX_MEM(UA_DW, 0, 10, -8),
	     UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 1)),
	CASE("cmpxchg miss", UA_ST_MEM(UA_DW, 10, -8, 10), UA_MOV64_IMM(0, 3), UA_MOV64_IMM(1, 5),
	     UA_ATOMIC_OP(UA_DW, UA_CMPXCHG, 10, 1, -8), UA_LDX_MEM(UA_DW, 2, 10, -8),
	     UA_ALU64_IMM(UA_LSH, 2, 8), UA_ALU64_REG(UA_OR, 0, 2)),
	CASE("cmpxchg32 hit", UA_ST_MEM(UA_W, 10, -8, 10), UA_MOV64_IMM(0, 10), UA_MOV64_IMM(1, 5),
	     UA_ATOMIC_OP(UA_W, UA_CMPXCHG, 10, 1, -8), UA_LDX_MEM(UA_W, 2, 10, -8),
	     UA_ALU64_IMM(UA_LSH, 2, 8), UA_ALU64_REG(UA_OR, 0, 2)),
	CASE("fetch_or/and/xor", UA_ST_MEM(UA_DW, 10, -8, 12), UA_MOV64_IMM(1, 10),
	     UA_ATOMIC_OP(UA_DW, UA_OR | UA_FETCH, 10, 1, -8), UA_MOV64_IMM(2, 6),
	     UA_ATOMIC_OP(UA_DW, UA_AND | UA_FETCH, 10, 2, -8), UA_MOV64_IMM(3, 3),
	     UA_ATOMIC_OP(UA_DW, UA_XOR | UA_FETCH, 10, 3, -8), UA_LDX_MEM(UA_DW, 0, 10, -8),
	     UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 1), UA_ALU64_IMM(UA_LSH, 0, 8),
	     UA_ALU64_REG(UA_OR, 0, 2), UA_ALU64_IMM(UA_LSH, 0, 8), UA_ALU64_REG(UA_OR, 0, 3)),
	CASE("load-acquire/store-release", UA_MOV64_IMM(1, 0x1ff),
	     UA_STORE_REL_INSN(UA_H, 10, 1, -2), UA_LOAD_ACQ_INSN(UA_B, 0, 10, -2)),
	CASE("bpf-to-bpf call keeps r6-r9", UA_MOV64_IMM(6, 6), UA_MOV64_IMM(1, 40),
	     UA_CALL_REL(2), UA_ALU64_REG(UA_ADD, 0, 6), UA_EXIT_INSN(),
	     UA_MOV64_IMM(6, 100), UA_MOV64_REG(0, 1), UA_ALU64_IMM(UA_MUL, 0, 3)),
};

static char klog[1 << 16];

/* A socket filter in the kernel; on failure klog says why. */
static int kernel_load(const struct ua_insn *insns, size_t n)
{
	return ua_test_kernel_load_filter(insns, n, 0, klog, sizeof(klog));
}

/* Runs insns in the kernel; returns 0 and the 32-bit retval, or -errno. */
static int kernel_run(const struct ua_insn *insns, size_t n, uint32_t *retval)
{
	uint8_t pkt[64] = { 0 };
	struct ua_kbpf_test_run run = { .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1 };
	int fd = kernel_load(insns, n), ret;

	if (fd < 0)
		return fd;
	ret = ua_kbpf_prog_test_run(fd, &run);
	*retval = run.retval;
	close(fd);
	return ret;
}

/* Skips unless this process may load a socket filter (all these tests need). */
static void require_prog_load(void)
{
	static const struct ua_insn probe[] = { UA_MOV64_IMM(0, 0), UA_EXIT_INSN() };
	int fd = kernel_load(probe, N(probe));

	if (fd == -EPERM || fd == -ENOSYS)
		SKIP("bpf() unavailable: %s", strerror(-fd));
	REQUIRE(fd >= 0);
	close(fd);
}

static size_t case_len(const struct diff_case *c)
{
	size_t n = MAX_INSNS;

	while (n > 0 && c->insns[n - 1].code == 0 && c->insns[n - 1].imm == 0 &&
	       c->insns[n - 1].dst_reg == 0)
		n--;
	return n;
}

TEST(interp_kernel, same_r0_as_the_kernel)
{
	require_prog_load();
	for (size_t i = 0; i < N(cases); i++) {
		const struct diff_case *c = &cases[i];
		size_t n = case_len(c);
		struct ua_insn hi[MAX_INSNS + 3];
		struct ua_exec ex = { .bounds_check = true };
		const struct ua_call_resolver strict = { .kernel_strict = true };
		struct ua_prog *p = NULL;
		char err[256];
		uint64_t r0 = 0;
		uint32_t klo = 0, khi = 0;

		if (ua_prog_prepare(c->insns, n, &strict, err, sizeof(err), &p)) {
			ua_test_fail(__FILE__, __LINE__, "%s: prepare: %s", c->name, err);
			continue;
		}
		if (ua_interp_run(p, &ex, NULL, &r0))
			ua_test_fail(__FILE__, __LINE__, "%s: run: %s", c->name, ex.err);
		ua_prog_free(p);
		/* The high half: call the program as a subprogram, return r0 >> 32. */
		hi[0] = UA_CALL_REL(2);
		hi[1] = UA_ALU64_IMM(UA_RSH, 0, 32);
		hi[2] = UA_EXIT_INSN();
		memcpy(hi + 3, c->insns, n * sizeof(hi[0]));
		if (kernel_run(c->insns, n, &klo) || kernel_run(hi, n + 3, &khi)) {
			ua_test_fail(__FILE__, __LINE__, "%s: kernel: %s", c->name, klog);
			continue;
		}
		if (r0 != ((uint64_t)khi << 32 | klo))
			ua_test_fail(__FILE__, __LINE__, "%s: interpreter 0x%llx, kernel 0x%llx",
				     c->name, (unsigned long long)r0,
				     (unsigned long long)((uint64_t)khi << 32 | klo));
	}
}

/*
 * The shared conformance vectors in the kernel: each vector without input
 * memory and without helper calls that the 6.18 verifier accepts must
 * return the vector's result there too (so our expectations are the
 * kernel's, not only the RFC's). The validator in kernel_strict mode must
 * accept exactly what the verifier accepts among them (the rejected ones are
 * the shift-by-immediate >= width vectors).
 */
#include "asm.h"
#include "datafile.h"

#include <stdlib.h>

static bool uses_calls(const struct ua_insn *insns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((insns[i].code & 0x07) == UA_JMP && (insns[i].code & 0xf0) == UA_CALL)
			return true;
	return false;
}

/*
 * One vector in the kernel: its low and high 32 bits of r0 (a second program
 * shifts r0 down), against the vector's result and against whether
 * kernel_strict accepts it. Vectors with memory, raw images, calls or an
 * expected error are not comparable this way and are passed over.
 */
static void kernel_vector(const char *dir, const char *name, unsigned *ran, unsigned *rejected)
{
	char path[2048], err[256];
	struct ua_datafile df;
	struct ua_insn *insns = NULL, *hi;
	size_t n = 0;
	uint32_t klo = 0, khi = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ua_datafile_parse(path, &df, err, sizeof(err)))
		return;
	if (!df.has_error && !df.mem && !df.has_raw &&
	    !ua_asm_parse(df.asm_text, UA_ASM_CONFORMANCE, &insns, &n, err, sizeof(err)) &&
	    !uses_calls(insns, n) && (hi = calloc(n + 3, sizeof(*hi)))) {
		hi[0] = UA_CALL_REL(2);
		hi[1] = UA_ALU64_IMM(UA_RSH, 0, 32);
		hi[2] = UA_EXIT_INSN();
		memcpy(hi + 3, insns, n * sizeof(*hi));
		const struct ua_call_resolver strict = { .kernel_strict = true };
		struct ua_prog *p = NULL;
		bool strict_ok = !ua_prog_prepare(insns, n, &strict, err, sizeof(err), &p);

		ua_prog_free(p);
		if (kernel_run(insns, n, &klo) || kernel_run(hi, n + 3, &khi)) {
			(*rejected)++;
			if (strict_ok)
				ua_test_fail(__FILE__, __LINE__,
					     "%s: kernel rejects, kernel_strict accepts (%s)", name, klog);
		} else {
			if (!strict_ok)
				ua_test_fail(__FILE__, __LINE__,
					     "%s: kernel accepts, kernel_strict rejects: %s", name, err);
			(*ran)++;
			if (((uint64_t)khi << 32 | klo) != df.result)
				ua_test_fail(__FILE__, __LINE__, "%s: kernel 0x%llx, vector 0x%llx",
					     name, (unsigned long long)((uint64_t)khi << 32 | klo),
					     (unsigned long long)df.result);
		}
		free(hi);
	}
	free(insns);
	ua_datafile_free(&df);
}

TEST(interp_kernel, conformance_vectors_match_the_kernel)
{
	char dir[1024], **names;
	unsigned ran = 0, rejected = 0;
	size_t n;

	require_prog_load();
	snprintf(dir, sizeof(dir), "%s/conformance", ua_test_shared_dir());
	n = ua_test_list_data_files(dir, &names);
	for (size_t i = 0; i < n; i++) {
		kernel_vector(dir, names[i], &ran, &rejected);
		free(names[i]);
	}
	free(names);
	/* 2026 vectors: 256 run, 12 shift-immediate vectors the verifier refuses. */
	CHECK(ran >= 256);
	CHECK(rejected <= 12);
}

#include "../bench/programs.h"

/* programs.h promises verifier-safe programs with these results: check both. */
TEST(interp_kernel, bench_programs_load_and_agree)
{
	require_prog_load();
	for (size_t i = 0; i < N(bench_programs); i++) {
		const struct bench_program *bp = &bench_programs[i];
		struct ua_insn *hi = calloc(bp->n_insns + 3, sizeof(*hi));
		uint32_t klo = 0, khi = 0;

		REQUIRE(hi);
		hi[0] = UA_CALL_REL(2);
		hi[1] = UA_ALU64_IMM(UA_RSH, 0, 32);
		hi[2] = UA_EXIT_INSN();
		memcpy(hi + 3, bp->insns, bp->n_insns * sizeof(*hi));
		int ret_lo = kernel_run(bp->insns, bp->n_insns, &klo);
		int ret_hi = ret_lo ? 0 : kernel_run(hi, bp->n_insns + 3, &khi);

		if (ret_lo || ret_hi)
			ua_test_fail(__FILE__, __LINE__, "%s: kernel: %d %d %.300s", bp->name, ret_lo,
				     ret_hi, klog);
		else if (((uint64_t)khi << 32 | klo) != bp->expected_r0)
			ua_test_fail(__FILE__, __LINE__, "%s: kernel 0x%llx, want 0x%llx", bp->name,
				     (unsigned long long)((uint64_t)khi << 32 | klo),
				     (unsigned long long)bp->expected_r0);
		free(hi);
	}
}
