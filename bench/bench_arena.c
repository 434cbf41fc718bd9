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
 *   byte to each unallocated page once (shmem fault allocates a page). Same
 *   workload as arena_first_touch/kernel: same page count, a write, setup
 *   and teardown outside the timed loop, best of RUNS fresh mappings.
 * arena_first_touch/uarena_allocated: the same on pages allocated by
 *   ua_arena_alloc_pages first (the fault only zeroes and maps the page).
 * arena_first_touch/uarena_alloc_and_touch: the same, with the one
 *   ua_arena_alloc_pages(TOUCH_PAGES) call inside the timed loop: what host
 *   code pays per page to populate an arena when it allocates before touching.
 * arena_first_touch/memfd, anon_shared, anon_private: the same loop over a
 *   plain memfd MAP_SHARED mapping, a MAP_SHARED|MAP_ANONYMOUS one (shmem
 *   too) and a MAP_PRIVATE|MAP_ANONYMOUS one (no THP), without uarena. They
 *   are the floor of the uarena impl: its first touch is exactly a shmem
 *   write fault, so uarena adds nothing when uarena ~= memfd, and the gap to
 *   the kernel is the cost of a shmem page over a driver page
 *   (docs/arena-design.md §7).
 * arena_first_touch_read/uarena, memfd: the same with a one-byte read per
 *   page (a read of a never-touched page allocates it too, spec). A shmem read
 *   fault first maps neighbouring cached pages (fault-around), which the
 *   kernel arena, having no map_pages, never does.
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
#include <sys/mman.h>
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

enum touch_backing {
	TOUCH_UARENA,           /* unallocated arena pages */
	TOUCH_UARENA_ALLOCATED, /* pages from ua_arena_alloc_pages */
	TOUCH_UARENA_ALLOC_TIMED, /* the same, the alloc call timed too */
	TOUCH_MEMFD,            /* the mechanism under uarena, alone */
	TOUCH_ANON_SHARED,
	TOUCH_ANON_PRIVATE,
};

/* Maps TOUCH_PAGES fresh pages of the given kind; nothing touched yet. */
static uint8_t *touch_setup(enum touch_backing kind, size_t len, struct ua_arena **a, int *fd)
{
	void *p = MAP_FAILED;

	*a = NULL;
	*fd = -1;
	switch (kind) {
	case TOUCH_UARENA:
	case TOUCH_UARENA_ALLOCATED:
	case TOUCH_UARENA_ALLOC_TIMED:
		*a = bench_arena(TOUCH_PAGES, false);
		if (!*a)
			return NULL;
		if (kind == TOUCH_UARENA_ALLOCATED && !ua_arena_alloc_pages(*a, NULL, TOUCH_PAGES, -1, 0))
			return NULL;
		return ua_arena_user_base(*a);
	case TOUCH_MEMFD:
		*fd = memfd_create("bench", MFD_CLOEXEC);
		if (*fd >= 0 && ftruncate(*fd, (off_t)len) == 0)
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
		break;
	case TOUCH_ANON_SHARED:
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		break;
	case TOUCH_ANON_PRIVATE:
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		/* THP would make this one fault per 2 MiB: keep it one per page. */
		if (p != MAP_FAILED)
			madvise(p, len, MADV_NOHUGEPAGE);
		break;
	}
	return p == MAP_FAILED ? NULL : p;
}

static double touch_once(enum touch_backing kind, bool read)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (size_t)TOUCH_PAGES * page;
	volatile uint8_t *base;
	struct ua_arena *a;
	uint64_t t0, t1, sum = 0;
	int fd;

	base = touch_setup(kind, len, &a, &fd);
	if (!base) {
		ua_arena_destroy(a);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t0 = bench_now_ns();
	if (kind == TOUCH_UARENA_ALLOC_TIMED && !ua_arena_alloc_pages(a, NULL, TOUCH_PAGES, -1, 0)) {
		ua_arena_destroy(a);
		return -1;
	}
	if (read) {
		for (size_t off = 0; off < len; off += page)
			sum += base[off];
	} else {
		for (size_t off = 0; off < len; off += page)
			base[off] = 1;
	}
	t1 = bench_now_ns();
	bench_keep(sum);
	if (a)
		ua_arena_destroy(a);
	else
		munmap((void *)base, len);
	if (fd >= 0)
		close(fd);
	return (double)(t1 - t0) / TOUCH_PAGES;
}

static double best_touch(enum touch_backing kind, bool read)
{
	double best = -1;

	for (int r = 0; r < RUNS; r++) {
		double ns = touch_once(kind, read);

		if (ns < 0) {
			bench_skip("cannot map the pages to touch");
			return -1;
		}
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

BENCH(arena_first_touch, uarena, 0)
{
	return best_touch(TOUCH_UARENA, false);
}

BENCH(arena_first_touch, uarena_allocated, 2)
{
	return best_touch(TOUCH_UARENA_ALLOCATED, false);
}

BENCH(arena_first_touch, uarena_alloc_and_touch, 3)
{
	return best_touch(TOUCH_UARENA_ALLOC_TIMED, false);
}

BENCH(arena_first_touch, memfd, 4)
{
	return best_touch(TOUCH_MEMFD, false);
}

BENCH(arena_first_touch, anon_shared, 5)
{
	return best_touch(TOUCH_ANON_SHARED, false);
}

BENCH(arena_first_touch, anon_private, 6)
{
	return best_touch(TOUCH_ANON_PRIVATE, false);
}

BENCH(arena_first_touch_read, uarena, 0)
{
	return best_touch(TOUCH_UARENA, true);
}

BENCH(arena_first_touch_read, memfd, 2)
{
	return best_touch(TOUCH_MEMFD, true);
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
