/* SPDX-License-Identifier: MIT */
/*
 * The kernel's arena, measured the way uarena's is (bench/bench_arena.c adds
 * the uarena impls, order 0, in the same groups).
 *
 * arena_alloc_free_1page/kernel: one BPF_PROG_TEST_RUN of the kernel arena
 *   op program (src/kernel/karena.c) runs LOOP_ITERS iterations of
 *   bpf_arena_alloc_pages(NULL, 1) + bpf_arena_free_pages(p, 1) inside the
 *   kernel (a may_goto loop). ns/op = wall time of the syscall / LOOP_ITERS.
 *   Nothing is subtracted: the one syscall and test-run setup per run is
 *   included, amortised over LOOP_ITERS (it is ~1 us against ~100 ms). SYSCALL
 *   programs accept no `repeat`, so the kernel's own duration is unavailable;
 *   the loop's bookkeeping (a few insns per iteration) is included too. The
 *   best of RUNS runs is reported, to drop interference from the other
 *   engineers' jobs on this shared machine.
 * arena_first_touch/kernel: a fresh kernel arena of TOUCH_PAGES pages is
 *   mmapped; the host writes one byte to each page once (each write takes the
 *   arena's fault handler: allocate a zeroed page, insert it into the kernel
 *   window and the user mapping). ns/op = elapsed / TOUCH_PAGES, best of RUNS.
 * arena_first_touch_read/kernel: the same with a one-byte read per page (the
 *   fault allocates and maps a zeroed page either way).
 * arena_prog_load/kernel, kernel_unallocated: the workload of bench_arena.c's
 *   load loop (LOAD_PAGES pages of u64 loads, 8 bytes apart) as one JITed
 *   may_goto loop of PROBE_MEM32 loads in one test run; ns/op = wall time of
 *   the run / loads (the syscall and the loop's add/branch insns included).
 *   _unallocated reads pages never allocated: each load takes the kernel's
 *   exception-table fixup.
 */
#include "bench.h"

#include "kernel.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LOOP_ITERS 100000u
#define TOUCH_PAGES 8192u
#define RUNS 5
#define LOAD_PAGES 256u /* as in bench_arena.c */

static bool kernel_ready(void)
{
	char why[256];

	if (ua_kbpf_available(why, sizeof(why)) != 0) {
		bench_skip("bpf(): %s", why);
		return false;
	}
	return true;
}

BENCH(arena_alloc_free_1page, kernel, 1)
{
	struct ua_karena_attr attr = { .max_entries = 1024 };
	struct ua_karena *ka;
	double best = -1;
	char err[1024];
	uint32_t failed;

	if (!kernel_ready())
		return -1;
	if (ua_karena_create(&attr, &ka, err, sizeof(err)) != 0) {
		bench_skip("%s", err);
		return -1;
	}
	/* Warm-up: the first run pays for page-table and allocator setup. */
	if (ua_karena_alloc_free_loop(ka, 1000, &failed) != 0 || failed) {
		bench_skip("kernel arena loop failed");
		ua_karena_destroy(ka);
		return -1;
	}
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = bench_now_ns();
		int ret = ua_karena_alloc_free_loop(ka, LOOP_ITERS, &failed);
		double ns = (double)(bench_now_ns() - t0) / LOOP_ITERS;

		if (ret != 0 || failed) {
			bench_skip("kernel arena loop: ret %d, %u allocs failed", ret, failed);
			best = -1;
			break;
		}
		if (best < 0 || ns < best)
			best = ns;
	}
	ua_karena_destroy(ka);
	return best;
}

static double touch_once(bool read)
{
	struct ua_kbpf_map_attr a = { .map_type = UA_KBPF_MAP_TYPE_ARENA,
				      .max_entries = TOUCH_PAGES,
				      .map_flags = UA_KBPF_F_MMAPABLE };
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)TOUCH_PAGES * (size_t)page;
	uint64_t t0, t1, sum = 0;
	void *base;
	int fd;

	fd = ua_kbpf_map_create(&a, NULL, 0);
	if (fd < 0)
		return -1;
	if (ua_kbpf_arena_mmap(fd, NULL, len, PROT_READ | PROT_WRITE, false, &base) != 0) {
		close(fd);
		return -1;
	}
	t0 = bench_now_ns();
	for (size_t off = 0; off < len; off += (size_t)page) {
		if (read)
			sum += ((volatile uint8_t *)base)[off];
		else
			((volatile uint8_t *)base)[off] = 1;
	}
	t1 = bench_now_ns();
	bench_keep(sum);
	munmap(base, len);
	close(fd);
	return (double)(t1 - t0) / TOUCH_PAGES;
}

static double best_touch(bool read)
{
	double best = -1;

	if (!kernel_ready())
		return -1;
	for (int r = 0; r < RUNS; r++) {
		double ns = touch_once(read);

		if (ns < 0) {
			bench_skip("kernel arena create/mmap failed");
			return -1;
		}
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

BENCH(arena_first_touch, kernel, 1)
{
	return best_touch(false);
}

BENCH(arena_first_touch_read, kernel, 1)
{
	return best_touch(true);
}

static double load_loop(bool unallocated)
{
	struct ua_karena_attr attr = { .max_entries = 2 * LOAD_PAGES };
	const uint32_t words = LOAD_PAGES * 512, reps = unallocated ? 2 : 20;
	struct ua_karena *ka;
	uint64_t base, p = 0, sum;
	double best = -1;
	char err[1024];

	if (!kernel_ready())
		return -1;
	if (ua_karena_create(&attr, &ka, err, sizeof(err)) != 0) {
		bench_skip("%s", err);
		return -1;
	}
	base = (uint64_t)(uintptr_t)ua_karena_user_base(ka);
	if (ua_karena_alloc(ka, 0, LOAD_PAGES, -1, 0, &p) != 0 || p != base) {
		bench_skip("kernel arena alloc failed");
		ua_karena_destroy(ka);
		return -1;
	}
	memset((void *)(uintptr_t)base, 1, (size_t)LOAD_PAGES * 4096);
	if (unallocated)
		base += (uint64_t)LOAD_PAGES * 4096;
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = bench_now_ns();

		for (uint32_t k = 0; k < reps; k++) {
			if (ua_karena_bpf_sum(ka, base, words, &sum) != 0) {
				bench_skip("kernel arena load loop failed");
				ua_karena_destroy(ka);
				return -1;
			}
			bench_keep(sum);
		}
		double ns = (double)(bench_now_ns() - t0) / ((double)words * reps);

		if (best < 0 || ns < best)
			best = ns;
	}
	ua_karena_destroy(ka);
	return best;
}

BENCH(arena_prog_load, kernel, 4)
{
	return load_loop(false);
}

BENCH(arena_prog_load, kernel_unallocated, 5)
{
	return load_loop(true);
}
