/* SPDX-License-Identifier: MIT */
/*
 * Every shared conformance vector (shared/conformance, every .data file) through the
 * plugin logic in-process, on both interpreter dispatch flavours: exact r0
 * for "-- result" vectors, a failure for "-- error" vectors. The program is
 * the vector's "-- raw" image when it has one (as the reference runner
 * does), else its assembled "-- asm" text.
 */
#include "asm.h"
#include "datafile.h"
#include "interp.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Assembles or copies the vector's program; returns the slot count (0 on failure). */
static size_t vector_program(const struct ua_datafile *df, const char *name,
			     struct ua_insn **insns)
{
	char err[256] = "";
	size_t n = 0;

	if (df->has_raw) {
		*insns = calloc(df->n_raw ? df->n_raw : 1, sizeof(**insns));
		REQUIRE(*insns);
		memcpy(*insns, df->raw, df->n_raw * sizeof(**insns));
		return df->n_raw;
	}
	if (ua_asm_parse(df->asm_text, UA_ASM_CONFORMANCE, insns, &n, err, sizeof(err))) {
		ua_test_fail(__FILE__, __LINE__, "%s: does not assemble: %s", name, err);
		return 0;
	}
	return n;
}

static void run_vector(const char *dir, const char *name, enum ua_interp_dispatch how,
		       bool bounds_check)
{
	struct ua_datafile df;
	struct ua_insn *insns = NULL;
	char path[2048], err[256] = "";
	uint64_t r0 = 0;
	size_t n;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ua_datafile_parse(path, &df, err, sizeof(err))) {
		ua_test_fail(__FILE__, __LINE__, "%s: %s", name, err);
		return;
	}
	n = vector_program(&df, name, &insns);
	if (n) {
		ret = ua_conformance_run(insns, n, df.mem, df.mem_len, how, bounds_check, &r0, err,
					 sizeof(err));
		if (df.has_error && ret == 0)
			ua_test_fail(__FILE__, __LINE__, "%s: expected error \"%s\", got r0 0x%llx",
				     name, df.error, (unsigned long long)r0);
		else if (!df.has_error && ret)
			ua_test_fail(__FILE__, __LINE__, "%s: %d %s", name, ret, err);
		else if (!df.has_error && r0 != df.result)
			ua_test_fail(__FILE__, __LINE__, "%s (%s): expected 0x%llx got 0x%llx",
				     name, how == UA_DISPATCH_SWITCH ? "switch" : "threaded",
				     (unsigned long long)df.result, (unsigned long long)r0);
	}
	free(insns);
	ua_datafile_free(&df);
}

static void run_all(enum ua_interp_dispatch how, bool bounds_check)
{
	char dir[1024], **names = NULL;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/conformance", ua_test_shared_dir());
	n = ua_test_list_data_files(dir, &names);
	REQUIRE(n > 0);
	for (size_t i = 0; i < n; i++) {
		run_vector(dir, names[i], how, bounds_check);
		free(names[i]);
	}
	free(names);
}

TEST(conformance, every_vector_switch)
{
	run_all(UA_DISPATCH_SWITCH, true);
}

TEST(conformance, every_vector_threaded)
{
	run_all(UA_DISPATCH_THREADED, true);
}

/* Bounds checks must not change any result of a correct program. */
TEST(conformance, every_vector_unchecked)
{
	run_all(UA_DISPATCH_SWITCH, false);
	run_all(UA_DISPATCH_THREADED, false);
}

/* The plugin's unwind helper: argument 0 ends the program with r0 = 0. */
TEST(conformance, unwind_stops_on_zero)
{
	static const char *const text = "mov %r1, 0\ncall 5\nmov %r0, 2\nexit\n";
	struct ua_insn *insns = NULL;
	char err[256] = "";
	uint64_t r0 = 99;
	size_t n = 0;

	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_CONFORMANCE, &insns, &n, err, sizeof(err)), 0);
	CHECK_EQ(ua_conformance_run(insns, n, NULL, 0, UA_DISPATCH_THREADED, true, &r0, err,
				    sizeof(err)), 0);
	CHECK_EQ(r0, 0);
	free(insns);
}

TEST(conformance, unknown_helper_rejected)
{
	static const char *const text = "call 6\nexit\n";
	struct ua_insn *insns = NULL;
	char err[256] = "";
	uint64_t r0 = 99;
	size_t n = 0;

	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_CONFORMANCE, &insns, &n, err, sizeof(err)), 0);
	CHECK_EQ(ua_conformance_run(insns, n, NULL, 0, UA_DISPATCH_THREADED, true, &r0, err,
				    sizeof(err)), -EINVAL);
	CHECK_STR(err, "prog: insn 0: unknown helper id 6");
	free(insns);
}

/*
 * The plugin binary itself, as the bpf_conformance runner drives it: the
 * arguments (NULL-terminated), the program as hex on stdin, the result (or
 * the reason for an error) on stdout.
 */
#define PLUGIN(r, stdin_text, ...)                                                           \
	ua_test_run_tool(r, "uarena-conformance", (const char *const[]){ __VA_ARGS__ },      \
			 stdin_text, strlen(stdin_text))

TEST(conformance, plugin_protocol)
{
	struct ua_test_cmd r;

	/* ldxdw r0, [r1]; exit — memory as argv[1], program on stdin */
	PLUGIN(&r, "79 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00\n", "01 02 03 04 05 06 07 08",
	       NULL);
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "807060504030201\n");
	/* mov r0, r2 (the memory length); --program and --jit */
	PLUGIN(&r, "", "aa bb cc", "--jit", "--program",
	       "bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "3\n");
	/* mov r0, -1: printed as 64-bit hex */
	PLUGIN(&r, "b7 00 00 00 ff ff ff ff 95 00 00 00 00 00 00 00", "--interpret", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "ffffffffffffffff\n");
	/* errors: exit status 1 and the reason on stdout */
	PLUGIN(&r, "ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "isa: insn 0: invalid opcode 0xff\n");
	PLUGIN(&r, "79 10 08 00 00 00 00 00 95 00 00 00 00 00 00 00", "00", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "insn 0: invalid memory access 0x");
	PLUGIN(&r, "95 00 00", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "program length 3 is not a multiple of 8\n");
	PLUGIN(&r, "95 00 00 00 00 00 00 00", "zz", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "invalid memory hex\n");
}
