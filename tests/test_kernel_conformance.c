/* SPDX-License-Identifier: MIT */
/*
 * The shared conformance vectors run in the real kernel: whatever the
 * verifier accepts must return the vector's expected r0 there too (the
 * interpreter's r0 is compared with the kernel's directly as well, so
 * uarena's semantics are tied to the kernel's JIT, not only to the vectors).
 *
 * Model: each "-- result" vector is loaded as a sleepable SYSCALL program
 * (r1 = ctx = a copy of the vector's memory, exactly the conformance calling
 * convention r1 = mem; a one-insn prologue sets r2 = mem length) and run
 * with BPF_PROG_TEST_RUN. test_run reports only the low 32 bits of r0, so a
 * second copy whose main-program exits jump to "r0 >>= 32; exit" gives the
 * high half (skipped for programs with bpf-to-bpf calls, where moving exits
 * is not this simple). Vectors the verifier rejects are listed with the
 * reason the kernel gives, so the list of rejections is checked too.
 */
#include "asm.h"
#include "datafile.h"
#include "interp.h"
#include "kernel.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Vectors the 6.18 verifier refuses, with a phrase of its reason. A vector
 * missing here that the kernel rejects, or listed here and accepted, fails.
 */
struct rejected {
	const char *vector;
	const char *reason;
};

static const struct rejected rejected[] = {
	/* Immediate shift counts outside [0, width): the kernel refuses, RFC 9669 masks. */
	{ "arsh32-imm-high.data", "invalid shift 48" },
	{ "arsh32-imm-neg.data", "invalid shift -16" },
	{ "arsh64-imm-high.data", "invalid shift 124" },
	{ "arsh64-imm-neg.data", "invalid shift -4" },
	{ "lsh32-imm-high.data", "invalid shift 60" },
	{ "lsh32-imm-neg.data", "invalid shift -4" },
	{ "lsh64-imm-high.data", "invalid shift 68" },
	{ "lsh64-imm-neg.data", "invalid shift -60" },
	{ "rsh32-imm-high.data", "invalid shift 40" },
	{ "rsh32-imm-neg.data", "invalid shift -24" },
	{ "rsh64-imm-high.data", "invalid shift 68" },
	{ "rsh64-imm-neg.data", "invalid shift -60" },
	/* callx (call by register) is not in the kernel's ISA. */
	{ "callx.data", "unknown opcode 8d" },
	/* Harness limits: SYSCALL ctx accesses must be aligned and at a constant offset. */
	{ "ldxdw.data", "invalid bpf_context access off=2 size=8" },
	{ "ldxw.data", "invalid bpf_context access off=2 size=4" },
	{ "stdw.data", "invalid bpf_context access off=2 size=8" },
	{ "stw.data", "invalid bpf_context access off=2 size=4" },
	{ "stxdw.data", "invalid bpf_context access off=2 size=8" },
	{ "stxw.data", "invalid bpf_context access off=2 size=4" },
	{ "subnet.data", "dereference of modified ctx ptr R1 off=18 disallowed" },
	{ NULL, NULL },
};

static const char *expected_rejection(const char *name)
{
	for (size_t i = 0; rejected[i].vector; i++)
		if (!strcmp(rejected[i].vector, name))
			return rejected[i].reason;
	return NULL;
}

static bool has_subprog_call(const struct ua_insn *insns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (insns[i].code == (UA_JMP | UA_CALL) && insns[i].src_reg == UA_PSEUDO_CALL)
			return true;
	return false;
}

/*
 * prologue (r2 = len) + program [+ epilogue "r0 >>= 32; exit" with every exit
 * turned into a jump to it when high is set].
 */
static struct ua_insn *kernel_program(const struct ua_insn *insns, size_t n, size_t mem_len,
				      bool high, uint32_t *cnt)
{
	size_t total = 1 + n + (high ? 2 : 0);
	struct ua_insn *p = calloc(total, sizeof(*p));

	REQUIRE(p);
	p[0] = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 2,
				 .imm = (int32_t)mem_len };
	memcpy(p + 1, insns, n * sizeof(*p));
	if (high) {
		for (size_t i = 1; i <= n; i++)
			if (p[i].code == (UA_JMP | UA_EXIT))
				p[i] = (struct ua_insn){ .code = UA_JMP | UA_JA,
							 .off = (int16_t)(n - i) };
		p[n + 1] = (struct ua_insn){ .code = UA_ALU64 | UA_RSH | UA_K, .imm = 32 };
		p[n + 2] = (struct ua_insn){ .code = UA_JMP | UA_EXIT };
	}
	*cnt = (uint32_t)total;
	return p;
}

/* Loads and runs one variant; returns 0 and the 32-bit retval, or -errno (log in err). */
static int kernel_run(const struct ua_insn *insns, uint32_t cnt, const struct ua_datafile *df,
		      uint32_t *retval, char *err, size_t err_sz)
{
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SYSCALL,
					.prog_flags = UA_KBPF_F_SLEEPABLE, .insns = insns,
					.insn_cnt = cnt, .name = "conformance" };
	uint8_t *ctx = NULL;
	struct ua_kbpf_test_run run = { 0 };
	int fd, ret;

	fd = ua_kbpf_prog_load(&pa, err, err_sz);
	if (fd < 0)
		return fd;
	if (df->mem_len) {
		ctx = malloc(df->mem_len);
		REQUIRE(ctx);
		memcpy(ctx, df->mem, df->mem_len);
		run.ctx_in = ctx;
		run.ctx_size_in = (uint32_t)df->mem_len;
	}
	ret = ua_kbpf_prog_test_run(fd, &run);
	if (ret == 0)
		*retval = run.retval;
	else
		snprintf(err, err_sz, "test_run: %s", strerror(-ret));
	free(ctx);
	close(fd);
	return ret;
}

struct tally {
	unsigned agreed, agreed_low_only, rejected;
};

static void run_vector(const char *dir, const char *name, struct tally *t)
{
	struct ua_datafile df;
	struct ua_insn *insns = NULL, *prog;
	char path[2048], err[4096] = "";
	const char *want_reject = expected_rejection(name);
	uint32_t lo = 0, hi = 0, cnt;
	uint64_t r0 = 0;
	size_t n = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ua_datafile_parse(path, &df, err, sizeof(err))) {
		ua_test_fail(__FILE__, __LINE__, "%s: %s", name, err);
		return;
	}
	if (!df.has_result)
		goto out;
	if (df.has_raw) {
		n = df.n_raw;
		insns = calloc(n ? n : 1, sizeof(*insns));
		REQUIRE(insns);
		memcpy(insns, df.raw, n * sizeof(*insns));
	} else if (ua_asm_parse(df.asm_text, UA_ASM_CONFORMANCE, &insns, &n, err, sizeof(err))) {
		ua_test_fail(__FILE__, __LINE__, "%s: does not assemble: %s", name, err);
		goto out;
	}

	prog = kernel_program(insns, n, df.mem_len, false, &cnt);
	ret = kernel_run(prog, cnt, &df, &lo, err, sizeof(err));
	free(prog);
	if (ret && want_reject) {
		if (!strstr(err, want_reject))
			ua_test_fail(__FILE__, __LINE__, "%s: rejected, but not for \"%s\": %s",
				     name, want_reject, err);
		t->rejected++;
		goto out;
	}
	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "%s: kernel refused (%d): %s", name, ret, err);
		goto out;
	}
	if (want_reject)
		ua_test_fail(__FILE__, __LINE__, "%s: listed as rejected (\"%s\") but the kernel ran it",
			     name, want_reject);
	if (lo != (uint32_t)df.result) {
		ua_test_fail(__FILE__, __LINE__, "%s: kernel r0 low 32 bits 0x%x, vector says 0x%llx",
			     name, lo, (unsigned long long)df.result);
		goto out;
	}
	/* Directly against the interpreter too, not only through the vector. */
	if (ua_conformance_run(insns, n, df.mem, df.mem_len, UA_DISPATCH_THREADED, true, &r0,
			       err, sizeof(err)) != 0 || (uint32_t)r0 != lo)
		ua_test_fail(__FILE__, __LINE__, "%s: interpreter r0 0x%llx, kernel low 32 bits 0x%x (%s)",
			     name, (unsigned long long)r0, lo, err);
	if (has_subprog_call(insns, n)) {
		t->agreed_low_only++;
		goto out;
	}
	prog = kernel_program(insns, n, df.mem_len, true, &cnt);
	ret = kernel_run(prog, cnt, &df, &hi, err, sizeof(err));
	free(prog);
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "%s: high-half variant refused (%d): %s", name, ret,
			     err);
	else if (hi != (uint32_t)(df.result >> 32) || hi != (uint32_t)(r0 >> 32))
		ua_test_fail(__FILE__, __LINE__,
			     "%s: kernel r0 0x%08x%08x, vector says 0x%llx, interpreter 0x%llx", name,
			     hi, lo, (unsigned long long)df.result, (unsigned long long)r0);
	else
		t->agreed++;
out:
	free(insns);
	ua_datafile_free(&df);
}

TEST(kernel_conformance, vectors_agree_with_kernel)
{
	char dir[1024], **names = NULL;
	struct tally t = { 0 };
	size_t n = 0;

	ua_test_require_kbpf();
	snprintf(dir, sizeof(dir), "%s/conformance", ua_test_shared_dir());
	n = ua_test_list_data_files(dir, &names);
	for (size_t i = 0; i < n; i++) {
		run_vector(dir, names[i], &t);
		free(names[i]);
	}
	free(names);
	printf("kernel_conformance: %u agree (all 64 bits), %u agree (low 32 bits, subprograms), "
	       "%u rejected by the verifier as listed\n", t.agreed, t.agreed_low_only, t.rejected);
	CHECK_EQ(t.rejected, sizeof(rejected) / sizeof(rejected[0]) - 1);
	CHECK(t.agreed > 0);
}
