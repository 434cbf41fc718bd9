/* SPDX-License-Identifier: MIT */
/*
 * Raw mode as other user-space runtimes run code (progs module):
 *   raw_checksum — checksum() of tests/bpf/loader_text_only.bpf.o (its
 *     linked instructions, subprogram appended), loaded as bare
 *     instructions (ua_program_load_raw) and run with r1 = a 64-byte
 *     buffer, r2 = 64 (a loop with one bpf-to-bpf call per byte), through
 *     ua_program_test_run(repeat); against the same checksum in C. The
 *     per-run number includes the test-run setup (buffer copy, CPU id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "bench.h"

static uint8_t bench_buf[64];

static void fill_buf(void)
{
	for (size_t i = 0; i < sizeof(bench_buf); i++)
		bench_buf[i] = (uint8_t)(i * 7 + 3);
}

BENCH(raw_checksum, uarena, 0)
{
	const char *dir = getenv("UA_BPF_DIR");
	char path[512], err[512] = "";
	struct ua_object *obj = NULL;
	struct ua_program *p = NULL;
	const struct ua_insn *insns;
	size_t n;
	double ns;

	snprintf(path, sizeof(path), "%s/loader_text_only.bpf.o", dir && *dir ? dir : "build/bpf");
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	if (ua_object_open(path, &oo, &obj)) {
		bench_skip("%s: %s", path, err);
		return -1;
	}
	insns = ua_program_insns(ua_object_find_program(obj, "checksum"), &n);
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err));
	if (ua_program_load_raw(insns, n, &ro, &p)) {
		bench_skip("raw load: %s", err);
		ua_object_close(obj);
		return -1;
	}
	ua_object_close(obj);
	fill_buf();
	UA_OPTS(ua_test_run_opts, o, .data_in = bench_buf, .data_size_in = sizeof(bench_buf),
		.repeat = 200000);
	if (ua_program_test_run(p, &o)) {
		bench_skip("raw run failed");
		ua_program_free_raw(p);
		return -1;
	}
	ns = o.duration;
	ua_program_free_raw(p);
	return ns;
}

static __attribute__((noinline)) int weight(unsigned char c)
{
	return c * 2;
}

BENCH(raw_checksum, c, 1)
{
	volatile unsigned long len = sizeof(bench_buf);
	volatile int sink = 0;
	const int reps = 2000000;
	uint64_t t0;

	fill_buf();
	t0 = bench_now_ns();
	for (int r = 0; r < reps; r++) {
		int s = 0;

		for (unsigned long i = 0; i < len && i < 64; i++)
			s += weight(bench_buf[i]);
		sink += s;
	}
	return (double)(bench_now_ns() - t0) / reps;
}
