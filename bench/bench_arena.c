/* SPDX-License-Identifier: MIT */
/*
 * uarena's arena, measured the way bench/bench_kernel_arena.c measures the
 * kernel's (same groups; these are the order-0 baselines). Best of RUNS runs,
 * to drop interference from other jobs on a shared machine.
 *
 * arena_alloc_free_1page/uarena: ua_arena_alloc_pages(NULL, 1) +
 *   ua_arena_free_pages(p, 1), LOOP_ITERS times (lock, best-fit lookup,
 *   SEEK_DATA check, fallocate, punch hole).
 * arena_alloc_free_1page/uarena_fragmented: the same on a 1<<20-page arena
 *   with every other page reserved (512 Ki free runs of one page).
 * arena_first_touch/uarena: fresh TOUCH_PAGES-page arena, the host writes one
 *   byte to each unallocated page once (shmem fault allocates a page).
 * arena_first_touch/uarena_allocated: the same on pages allocated by
 *   ua_arena_alloc_pages first (the fault only maps the existing page).
 * arena_prog_load/...: 8-byte program-view loads over allocated pages:
 *   ua_probe_load (uffd path), a plain host load (native), ua_probe_load on
 *   the checked path, and ua_probe_load of an unallocated page (SIGBUS +
 *   fixup per load).
 */
#include "bench.h"

#include "arena.h"
#include "probe.h"

#include <uarena.h>

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define LOOP_ITERS 100000u
#define TOUCH_PAGES 8192u
#define LOAD_PAGES 256u
#define RUNS 5

static struct ua_arena *bench_arena(uint32_t pages, bool no_uffd)
{
	UA_OPTS(ua_arena_opts, o, .max_entries = pages, .map_flags = UA_F_MMAPABLE,
		.no_uffd = no_uffd);
	struct ua_arena *a = NULL;

	if (ua_arena_create(&o, &a)) {
		bench_skip("ua_arena_create failed");
		return NULL;
	}
	return a;
}

static double alloc_free_loop(struct ua_arena *a)
{
	double best = -1;

	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = bench_now_ns();

		for (unsigned i = 0; i < LOOP_ITERS; i++) {
			void *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);

			if (!p)
				return -1;
			ua_arena_free_pages(a, p, 1);
		}
		double ns = (double)(bench_now_ns() - t0) / LOOP_ITERS;
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

BENCH(arena_alloc_free_1page, uarena, 0)
{
	struct ua_arena *a = bench_arena(1024, false);
	double ns;

	if (!a)
		return -1;
	ns = alloc_free_loop(a);
	ua_arena_destroy(a);
	return ns;
}

BENCH(arena_alloc_free_1page, uarena_fragmented, 2)
{
	struct ua_arena *a = bench_arena(1u << 20, false);
	uint8_t *base;
	double ns;

	if (!a)
		return -1;
	base = ua_arena_user_base(a);
	for (uint64_t p = 0; p < (1u << 20); p += 2)
		ua_arena_reserve_pages(a, base + p * 4096, 1);
	ns = alloc_free_loop(a);
	ua_arena_destroy(a);
	return ns;
}

static double touch_once(bool allocate_first)
{
	struct ua_arena *a = bench_arena(TOUCH_PAGES, false);
	long page = sysconf(_SC_PAGESIZE);
	volatile uint8_t *base;
	uint64_t t0, t1;

	if (!a)
		return -1;
	base = ua_arena_user_base(a);
	if (allocate_first && !ua_arena_alloc_pages(a, NULL, TOUCH_PAGES, -1, 0)) {
		ua_arena_destroy(a);
		return -1;
	}
	t0 = bench_now_ns();
	for (size_t off = 0; off < (size_t)TOUCH_PAGES * (size_t)page; off += (size_t)page)
		base[off] = 1;
	t1 = bench_now_ns();
	ua_arena_destroy(a);
	return (double)(t1 - t0) / TOUCH_PAGES;
}

static double best_touch(bool allocate_first)
{
	double best = -1;

	for (int r = 0; r < RUNS; r++) {
		double ns = touch_once(allocate_first);

		if (ns < 0)
			return -1;
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

BENCH(arena_first_touch, uarena, 0)
{
	return best_touch(false);
}

BENCH(arena_first_touch, uarena_allocated, 2)
{
	return best_touch(true);
}

enum load_mode { LOAD_PROBE, LOAD_NATIVE, LOAD_PROBE_HOLE };

static double load_loop(bool no_uffd, enum load_mode mode)
{
	const unsigned iters = LOAD_PAGES * 512, reps = mode == LOAD_PROBE_HOLE ? 2 : 20;
	struct ua_arena *a = bench_arena(LOAD_PAGES * 2, no_uffd);
	double best = -1;
	uint8_t *p, *kp;

	if (!a)
		return -1;
	p = ua_arena_alloc_pages(a, NULL, LOAD_PAGES, -1, 0);
	if (!p || ua_probe_init()) {
		ua_arena_destroy(a);
		return -1;
	}
	memset(p, 1, (size_t)LOAD_PAGES * 4096);
	kp = ua_arena_prog_addr(ua_arena_prog_base(a), (uintptr_t)p, 0);
	if (mode == LOAD_PROBE_HOLE)
		kp += (size_t)LOAD_PAGES * 4096; /* the unallocated second half */
	for (int r = 0; r < RUNS; r++) {
		uint64_t sum = 0, t0 = bench_now_ns();
		unsigned n = mode == LOAD_PROBE_HOLE ? iters / 64 : iters;

		for (unsigned k = 0; k < reps; k++) {
			for (unsigned i = 0; i < n; i++) {
				uint8_t *addr = kp + (size_t)i * 8;

				if (mode == LOAD_NATIVE)
					sum += *(volatile uint64_t *)addr;
				else
					sum += ua_probe_load(addr, 8);
			}
		}
		bench_keep(sum);
		double ns = (double)(bench_now_ns() - t0) / ((double)n * reps);
		if (best < 0 || ns < best)
			best = ns;
	}
	ua_arena_destroy(a);
	return best;
}

BENCH(arena_prog_load, uarena, 0)
{
	return load_loop(false, LOAD_PROBE);
}

BENCH(arena_prog_load, native, 1)
{
	return load_loop(false, LOAD_NATIVE);
}

BENCH(arena_prog_load, uarena_checked, 2)
{
	return load_loop(true, LOAD_PROBE);
}

BENCH(arena_prog_load, uarena_unallocated, 3)
{
	return load_loop(false, LOAD_PROBE_HOLE);
}
