/* SPDX-License-Identifier: MIT */
/*
 * The programs of bench/programs.h run by the kernel's JIT: impl kernel_jit
 * (order 2) in the interp_<program> groups of bench_interp.c, so the table
 * shows native C, uarena's interpreter and the kernel side by side.
 *
 * Method: each program is loaded as a raw BPF_PROG_TYPE_SOCKET_FILTER (r1 =
 * an skb ctx the programs ignore; only the stack is used) and run with
 * BPF_PROG_TEST_RUN on a 64-byte packet with `repeat`. The result is the
 * kernel's own `duration`: the average ns per run measured inside the kernel
 * around the program call, so syscall entry and skb setup are excluded but
 * the per-run loop of the test runner (a few ns) is included. repeat is
 * calibrated so one test run lasts ~200 ms; the best of RUNS runs is
 * reported. Before timing, retval (the low 32 bits of r0: test_run reports
 * only those) must match the program's expected r0, so every engine does the
 * same work.
 */
#include "bench.h"

#include "kernel.h"
#include "programs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TARGET_NS (200ull * 1000 * 1000)
#define RUNS 3

/* As bench_interp.c's interp_empty: the cost of one run of "r0 = 1; exit". */
static const struct ua_insn prog_empty[] = { UA_MOV64_IMM(0, 1), UA_EXIT_INSN() };
static const struct bench_program empty_program = { "empty", prog_empty, 2, 1 };

static double run_kernel(const char *name)
{
	const struct bench_program *bp = strcmp(name, "empty") ? NULL : &empty_program;
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER };
	uint8_t pkt[64] = { 0 };
	struct ua_kbpf_test_run run = { .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1 };
	double best = -1;
	char err[2048];
	int fd;

	for (size_t i = 0; i < sizeof(bench_programs) / sizeof(bench_programs[0]); i++)
		if (strcmp(bench_programs[i].name, name) == 0)
			bp = &bench_programs[i];
	if (!bp) {
		bench_skip("no program '%s' in programs.h", name);
		return -1;
	}
	if (ua_kbpf_available(err, sizeof(err)) != 0) {
		bench_skip("bpf(): %s", err);
		return -1;
	}
	pa.insns = bp->insns;
	pa.insn_cnt = (uint32_t)bp->n_insns;
	snprintf(pa.name, sizeof(pa.name), "bench_%s", name);
	fd = ua_kbpf_prog_load(&pa, err, sizeof(err));
	if (fd < 0) {
		bench_skip("%s", err);
		return -1;
	}
	if (ua_kbpf_prog_test_run(fd, &run) != 0 || run.retval != (uint32_t)bp->expected_r0) {
		bench_skip("%s: kernel returned 0x%x, expected 0x%x", name, run.retval,
			   (uint32_t)bp->expected_r0);
		close(fd);
		return -1;
	}
	/* Calibrate repeat from one run (duration >= 1 ns, repeat fits u32). */
	run.repeat = (uint32_t)(TARGET_NS / (run.duration ? run.duration : 1));
	if (run.repeat == 0)
		run.repeat = 1;
	for (int r = 0; r < RUNS; r++) {
		if (ua_kbpf_prog_test_run(fd, &run) != 0) {
			bench_skip("%s: test run failed", name);
			best = -1;
			break;
		}
		if (best < 0 || run.duration < best)
			best = run.duration;
	}
	close(fd);
	return best;
}

BENCH(interp_loop, kernel_jit, 2)
{
	return run_kernel("loop");
}

BENCH(interp_fnv1a, kernel_jit, 2)
{
	return run_kernel("fnv1a");
}

BENCH(interp_memsum, kernel_jit, 2)
{
	return run_kernel("memsum");
}

BENCH(interp_collatz, kernel_jit, 2)
{
	return run_kernel("collatz");
}

BENCH(interp_empty, kernel_jit, 2)
{
	return run_kernel("empty");
}
