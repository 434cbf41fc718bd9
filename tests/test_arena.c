/* SPDX-License-Identifier: MIT */
/*
 * Arena semantics against the measured Linux 6.18 behaviour (spec §1-3):
 * creation errnos in kernel order, best-fit placement and its tie order,
 * alloc/free/reserve quirks, both views, program-view faults that neither
 * crash nor allocate, host touches that allocate, SEGV_ON_FAULT, casts.
 */
#include "test.h"
#include "util.h"

#include "arena.h"
#include "probe.h"

#include <uarena.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ull

static struct ua_arena *make_arena(uint32_t pages, uint64_t flags, uint64_t extra, bool no_uffd)
{
	char err[128] = "";
	UA_OPTS(ua_arena_opts, o, .max_entries = pages, .map_flags = UA_F_MMAPABLE | flags,
		.map_extra = extra, .no_uffd = no_uffd, .err_buf = err, .err_buf_sz = sizeof(err));
	struct ua_arena *a = NULL;
	int rc = ua_arena_create(&o, &a);

	if (rc)
		ua_test_fail(__FILE__, __LINE__, "create: %d %s", rc, err);
	REQUIRE(rc == 0 && a);
	return a;
}

/* Page index of a user-form pointer. */
static long page_of(struct ua_arena *a, void *p)
{
	if (!p)
		return -1;
	return (long)(((uintptr_t)p - (uintptr_t)ua_arena_user_base(a)) / PG);
}

/* Program-view host address of user-form pointer p + off. */
static void *prog(struct ua_arena *a, uint64_t p, int16_t off)
{
	return ua_arena_prog_addr(ua_arena_prog_base(a), p, off);
}

/* Whether the shared file holds a page (host-touched or written) at data page `page`. */
static bool file_has_data(struct ua_arena *a, uint64_t page)
{
	struct stat st;
	off_t data_start, d;

	REQUIRE(fstat(ua_arena_fd(a), &st) == 0);
	data_start = st.st_size - (off_t)ua_arena_size(a);
	d = lseek(ua_arena_fd(a), data_start + (off_t)(page * PG), SEEK_DATA);
	return d >= 0 && d < data_start + (off_t)((page + 1) * PG);
}

static long file_blocks(struct ua_arena *a)
{
	struct stat st;

	REQUIRE(fstat(ua_arena_fd(a), &st) == 0);
	return (long)st.st_blocks;
}

struct create_case {
	uint32_t max_entries, key_size, value_size;
	uint64_t flags, extra;
	int want;
};

TEST(arena, create_errnos_in_kernel_order)
{
	static const struct create_case cases[] = {
		{ 0, 0, 0, UA_F_MMAPABLE, 0, -EINVAL },
		{ 4, 4, 0, UA_F_MMAPABLE, 0, -EINVAL },
		{ 4, 0, 8, UA_F_MMAPABLE, 0, -EINVAL },
		{ 4, 0, 0, 0, 0, -EINVAL },
		{ 4, 0, 0, UA_F_MMAPABLE | UA_F_NUMA_NODE, 0, -EINVAL },
		{ 4, 0, 0, UA_F_MMAPABLE | UA_F_RDONLY_PROG, 0, -EINVAL },
		{ 4, 0, 0, UA_F_MMAPABLE | UA_F_NO_PREALLOC, 0, -EINVAL },
		{ 4, 0, 0, UA_F_MMAPABLE, 0x7f0000000800ull, -EINVAL },
		/* unaligned map_extra beats oversized max_entries */
		{ (1u << 20) + 1, 0, 0, UA_F_MMAPABLE, 0x7f0000000800ull, -EINVAL },
		{ (1u << 20) + 1, 0, 0, UA_F_MMAPABLE, 0, -E2BIG },
		{ 0xffffffffu, 0, 0, UA_F_MMAPABLE, 0, -E2BIG },
		/* oversized beats crossing */
		{ (1u << 20) + 1, 0, 0, UA_F_MMAPABLE, (1ull << 44) - PG, -E2BIG },
		/* NUMA flag beats crossing */
		{ 2, 0, 0, UA_F_MMAPABLE | UA_F_NUMA_NODE, (1ull << 44) - PG, -EINVAL },
		{ 2, 0, 0, UA_F_MMAPABLE, (1ull << 44) - PG, -ERANGE },
	};
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct create_case *c = &cases[i];
		UA_OPTS(ua_arena_opts, o, .max_entries = c->max_entries, .key_size = c->key_size,
			.value_size = c->value_size, .map_flags = c->flags, .map_extra = c->extra,
			.err_buf = err, .err_buf_sz = sizeof(err));
		struct ua_arena *a = (void *)1;
		int rc = ua_arena_create(&o, &a);

		if (rc != c->want)
			ua_test_fail(__FILE__, __LINE__, "case %zu: got %d want %d (%s)", i, rc,
				     c->want, err);
		CHECK(a == NULL);
		CHECK_CONTAINS(err, "arena: ");
	}
	CHECK_EQ(ua_arena_create(NULL, NULL), -EINVAL);
}

TEST(arena, create_accepts_kernel_limits_and_numa_value)
{
	/* Range ending exactly at a 4 GiB boundary is fine; numa_node without the flag is ignored. */
	UA_OPTS(ua_arena_opts, o, .max_entries = 2, .map_flags = UA_F_MMAPABLE,
		.map_extra = (1ull << 46) - 2 * PG, .numa_node = 5);
	struct ua_arena *a = NULL;

	REQUIRE_EQ(ua_arena_create(&o, &a), 0);
	CHECK((uintptr_t)ua_arena_user_base(a) == (1ull << 46) - 2 * PG);
	CHECK_EQ(ua_arena_size(a), 2 * PG);
	CHECK_EQ(ua_arena_max_entries(a), 2);
	CHECK_EQ(ua_arena_flags(a), UA_F_MMAPABLE);
	CHECK(ua_arena_fd(a) >= 0);
	/* map_extra taken by the first arena: the same range again is busy */
	struct ua_arena *b = (void *)1;
	CHECK_EQ(ua_arena_create(&o, &b), -EBUSY);
	CHECK(b == NULL);
	ua_arena_destroy(a);
}

TEST(arena, max_size_arena_does_not_cross_4g)
{
	struct ua_arena *a = make_arena(1u << 20, 0, 0, false);
	uint64_t base = (uintptr_t)ua_arena_user_base(a);

	CHECK_EQ(base & 0xffffffffull, 0); /* 4 GiB long: must start on a 4 GiB boundary */
	CHECK_EQ(ua_arena_size(a), 1ull << 32);
	ua_arena_destroy(a);
	for (uint32_t pages = 1; pages <= (1u << 19); pages *= 8) {
		a = make_arena(pages, 0, 0, false);
		base = (uintptr_t)ua_arena_user_base(a);
		CHECK_EQ(base >> 32, (base + pages * PG - 1) >> 32);
		ua_arena_destroy(a);
	}
}

TEST(arena, best_fit_placement_matches_kernel_example)
{
	struct ua_arena *a = make_arena(64, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);

	REQUIRE(ua_arena_alloc_pages(a, NULL, 64, -1, 0) == base);
	ua_arena_free_pages(a, base + 1 * PG, 4);
	ua_arena_free_pages(a, base + 10 * PG, 2);
	ua_arena_free_pages(a, base + 20 * PG, 3);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 2, -1, 0)), 10);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 20);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 3, -1, 0)), 1);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 2, -1, 0)), 21);
	CHECK(ua_arena_alloc_pages(a, NULL, 2, -1, 0) == NULL);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 4);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == NULL);
	ua_arena_destroy(a);
}

TEST(arena, equal_sized_runs_newest_first)
{
	/* The kernel's size tree returns the most recently inserted of equal runs. */
	struct ua_arena *a = make_arena(16, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);

	REQUIRE(ua_arena_alloc_pages(a, NULL, 16, -1, 0) == base);
	ua_arena_free_pages(a, base + 5 * PG, 1);
	ua_arena_free_pages(a, base + 9 * PG, 1);
	ua_arena_free_pages(a, base + 2 * PG, 1);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 2);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 9);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 5);
	/* Fresh arena: one run, lowest page first; splitting keeps the remainder newest. */
	ua_arena_free_pages(a, base, 16);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 3, -1, 0)), 0);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 3);
	ua_arena_destroy(a);
}

TEST(arena, alloc_returns_null_exactly_where_kernel_does)
{
	struct ua_arena *a = make_arena(64, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	uint64_t other_hi = ((uintptr_t)base ^ (1ull << 40));

	CHECK(ua_arena_alloc_pages(a, NULL, 0, -1, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, NULL, 65, -1, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 1) == NULL);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, 1, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, 5, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -2, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, base + 8, 1, -1, 0) == NULL);          /* unaligned */
	CHECK(ua_arena_alloc_pages(a, base + 64 * PG, 1, -1, 0) == NULL);     /* at end */
	CHECK(ua_arena_alloc_pages(a, base + 63 * PG, 2, -1, 0) == NULL);     /* crossing end */
	CHECK(ua_arena_alloc_pages(a, NULL, 1, 0, 0) == base);                /* node 0 ok */
	/* Only lo32 counts: another hi32 yields the normal user address. */
	CHECK(ua_arena_alloc_pages(a, (void *)(uintptr_t)(other_hi + 5 * PG), 1, -1, 0) ==
	      base + 5 * PG);
	CHECK(ua_arena_alloc_pages(a, base + 5 * PG, 1, -1, 0) == NULL);      /* taken */
	CHECK(ua_arena_alloc_pages(a, base + 4 * PG, 2, -1, 0) == NULL);      /* partly taken */
	CHECK(ua_arena_alloc_pages(a, base + 4 * PG, 1, -1, 0) == base + 4 * PG);
	CHECK(ua_arena_alloc_pages(a, NULL, 64, -1, 0) == NULL);               /* no run */
	CHECK(ua_arena_alloc_pages(a, base + 6 * PG, 58, -1, 0) == base + 6 * PG);
	ua_arena_destroy(a);
}

TEST(arena, alloc_at_address_with_hi32_of_user_start)
{
	struct ua_arena *a = make_arena(64, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	uint64_t lo_only = (uint32_t)(uintptr_t)(base + 3 * PG);

	/* A bare lo32 pointer (hi32 = 0) names the same page. */
	CHECK(ua_arena_alloc_pages(a, (void *)(uintptr_t)lo_only, 1, -1, 0) == base + 3 * PG);
	ua_arena_destroy(a);
}

TEST(arena, free_pages_quirks)
{
	struct ua_arena *a = make_arena(64, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);

	REQUIRE(ua_arena_alloc_pages(a, NULL, 64, -1, 0) == base);
	ua_arena_free_pages(a, NULL, 1);            /* no-op */
	ua_arena_free_pages(a, base + 3 * PG, 0);   /* no-op */
	CHECK(ua_arena_alloc_pages(a, base + 3 * PG, 1, -1, 0) == NULL);
	ua_arena_free_pages(a, base + 3 * PG + 100, 1); /* rounds down */
	CHECK(ua_arena_alloc_pages(a, base + 3 * PG, 1, -1, 0) == base + 3 * PG);
	ua_arena_free_pages(a, base + 62 * PG, 10); /* clipped to 62..63 */
	CHECK(ua_arena_alloc_pages(a, NULL, 2, -1, 0) == base + 62 * PG);
	/* another hi32 frees the same pages */
	ua_arena_free_pages(a, (void *)(((uintptr_t)base ^ (1ull << 41)) + 7 * PG), 1);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base + 7 * PG);
	/* free of never-allocated pages is harmless, and un-reserves */
	ua_arena_free_pages(a, base + 10 * PG, 2);
	CHECK_EQ(ua_arena_reserve_pages(a, base + 10 * PG, 2), 0);
	CHECK(ua_arena_alloc_pages(a, base + 10 * PG, 1, -1, 0) == NULL);
	ua_arena_free_pages(a, base + 10 * PG, 2);
	ua_arena_free_pages(a, base + 10 * PG, 2);
	CHECK(ua_arena_alloc_pages(a, base + 10 * PG, 2, -1, 0) == base + 10 * PG);
	ua_arena_destroy(a);
}

TEST(arena, reserve_pages_quirks)
{
	struct ua_arena *a = make_arena(64, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);

	CHECK_EQ(ua_arena_reserve_pages(a, base, 0), 0);
	CHECK_EQ(ua_arena_reserve_pages(a, base + 1, 1), 0); /* unaligned: nothing reserved */
	CHECK(ua_arena_alloc_pages(a, base, 1, -1, 0) == base);
	CHECK_EQ(ua_arena_reserve_pages(a, base + 63 * PG, 2), -EINVAL);
	CHECK_EQ(ua_arena_reserve_pages(a, base, 1), -EBUSY);
	CHECK_EQ(ua_arena_reserve_pages(a, base + PG, 2), 0);
	CHECK_EQ(ua_arena_reserve_pages(a, base + 2 * PG, 1), -EBUSY);
	CHECK(ua_arena_alloc_pages(a, base + 2 * PG, 1, -1, 0) == NULL);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 3); /* skipped */
	CHECK_EQ(ua_arena_reserve_pages(NULL, base, 1), -EINVAL);
	ua_arena_destroy(a);
}

TEST(arena, reserve_null_is_lo32_zero)
{
	/* With lo32(base) = 0, NULL names page 0: busy once page 0 is allocated. */
	struct ua_arena *a = make_arena(1u << 20, 0, 0, false);

	REQUIRE_EQ((uintptr_t)ua_arena_user_base(a) & 0xffffffffull, 0);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == ua_arena_user_base(a));
	CHECK_EQ(ua_arena_reserve_pages(a, NULL, 1), -EBUSY);
	ua_arena_destroy(a);
}

static void check_both_views(bool no_uffd)
{
	struct ua_arena *a = make_arena(8, 0, 0, no_uffd);
	uint8_t *p = ua_arena_alloc_pages(a, NULL, 2, -1, 0);
	uint64_t up = (uintptr_t)p;
	uint64_t old = 0;

	REQUIRE(p != NULL);
	CHECK_EQ(ua_arena_fault_path(a), no_uffd ? UA_ARENA_FAULT_CHECKED : UA_ARENA_FAULT_UFFD);
	/* fresh pages are zero in both views */
	CHECK_EQ(ua_probe_load(prog(a, up, 0), 8), 0);
	CHECK_EQ(p[PG + 17], 0);
	/* host writes, program reads (through the 32-bit pointer form and an offset) */
	memcpy(p + 100, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	CHECK(ua_probe_load(prog(a, (uint32_t)up + 96, 4), 8) == 0x8877665544332211ull);
	/* program writes, host reads; a negative insn offset */
	ua_probe_store(prog(a, up + PG + 8, -8), 0xcafef00d, 4);
	CHECK_EQ(*(uint32_t *)(p + PG), 0xcafef00d);
	CHECK(ua_probe_atomic(prog(a, up + PG, 0), 4, UA_ADD | UA_FETCH, 3, 0, &old));
	CHECK_EQ(old, 0xcafef00d);
	CHECK_EQ(*(uint32_t *)(p + PG), 0xcafef010);
	/* after free: program reads 0, stores dropped, atomics fail; nothing allocated */
	ua_arena_free_pages(a, p, 2);
	CHECK_EQ(ua_probe_load(prog(a, up + PG, 0), 4), 0);
	ua_probe_store(prog(a, up + PG, 0), 7, 4);
	CHECK(!ua_probe_atomic(prog(a, up + PG, 0), 8, UA_XCHG, 1, 0, &old));
	CHECK(!file_has_data(a, 0) && !file_has_data(a, 1));
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 2, -1, 0)), 0);
	CHECK_EQ(ua_probe_load(prog(a, up + PG, 0), 4), 0); /* the dropped store never landed */
	ua_arena_destroy(a);
}

TEST(arena, both_views_share_pages_uffd)
{
	check_both_views(false);
}

TEST(arena, both_views_share_pages_checked)
{
	check_both_views(true);
}

static void check_unallocated_reads(bool no_uffd)
{
	struct ua_arena *a = make_arena(256, 0, 0, no_uffd);
	uint64_t base = (uintptr_t)ua_arena_user_base(a);
	long blocks = file_blocks(a);
	uint64_t old = 5;

	for (uint64_t page = 0; page < 256; page += 3) {
		CHECK_EQ(ua_probe_load(prog(a, base + page * PG, 0), 8), 0);
		ua_probe_store(prog(a, base + page * PG, 8), 0x99, 1);
		CHECK(!ua_probe_atomic(prog(a, base + page * PG, 0), 8, UA_CMPXCHG, 1, 0, &old));
	}
	CHECK_EQ(old, 5);
	CHECK_EQ(file_blocks(a), blocks); /* nothing materialised */
	for (uint64_t page = 0; page < 256; page++)
		CHECK(!file_has_data(a, page));
	/* and every page is still allocatable */
	CHECK((uintptr_t)ua_arena_alloc_pages(a, NULL, 256, -1, 0) == base);
	ua_arena_destroy(a);
}

TEST(arena, program_reads_of_unallocated_pages_do_not_allocate_uffd)
{
	check_unallocated_reads(false);
}

TEST(arena, program_reads_of_unallocated_pages_do_not_allocate_checked)
{
	check_unallocated_reads(true);
}

TEST(arena, guard_and_band_accesses_read_zero)
{
	struct ua_arena *a = make_arena(4, 0, 0, false);
	uint8_t *kb = ua_arena_prog_base(a);
	uint64_t old = 0;

	REQUIRE(ua_arena_alloc_pages(a, NULL, 4, -1, 0) != NULL);
	/* lo32 0 with off -32768: lower guard; lo32 0xffffffff + 32767: upper guard */
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, 0, -32768), 8), 0);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, 0xffffffffull, 32767), 1), 0);
	ua_probe_store(ua_arena_prog_addr(kb, 0xfffffff8ull, 8), 1, 8);
	CHECK(!ua_probe_atomic(ua_arena_prog_addr(kb, 0, -8), 8, UA_ADD | UA_FETCH, 1, 0, &old));
	/* anywhere else in the 4 GiB band */
	uint32_t lo = (uint32_t)(uintptr_t)ua_arena_user_base(a);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, lo + 4 * PG, 0), 8), 0);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, lo - 1, 0), 1), 0);
	ua_arena_destroy(a);
}

TEST(arena, free_releases_memory)
{
	struct ua_arena *a = make_arena(1024, 0, 0, false);
	uint8_t *p = ua_arena_alloc_pages(a, NULL, 1024, -1, 0);
	long before = file_blocks(a);

	REQUIRE(p != NULL);
	memset(p, 0xab, 1024 * PG);
	CHECK(file_blocks(a) >= before);
	CHECK(file_blocks(a) >= 1024 * 8);
	ua_arena_free_pages(a, p, 1024);
	CHECK(file_blocks(a) <= before - 1024 * 8 || file_blocks(a) < 1024 * 8);
	for (uint64_t page = 0; page < 1024; page += 97)
		CHECK(!file_has_data(a, page));
	/* a later host touch faults in a fresh zero page */
	CHECK_EQ(p[5 * PG + 1], 0);
	ua_arena_destroy(a);
}

TEST(arena, host_touch_makes_page_unallocatable)
{
	struct ua_arena *a = make_arena(16, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	volatile uint8_t *vb = base;

	CHECK_EQ(vb[0], 0); /* a read allocates, as the kernel's fault handler does */
	vb[5 * PG] = 42;
	CHECK(file_has_data(a, 0) && file_has_data(a, 5));
	CHECK(ua_arena_alloc_pages(a, base, 1, -1, 0) == NULL);
	CHECK(ua_arena_alloc_pages(a, base + 4 * PG, 2, -1, 0) == NULL);
	CHECK_EQ(ua_arena_reserve_pages(a, base + 5 * PG, 1), -EBUSY);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 1);
	/* the host's value is visible to the program */
	CHECK_EQ(ua_probe_load(prog(a, (uintptr_t)base + 5 * PG, 0), 1), 42);
	/* a reserved page touched by the host is shared, not SIGSEGV */
	CHECK_EQ(ua_arena_reserve_pages(a, base + 8 * PG, 1), 0);
	vb[8 * PG] = 7;
	CHECK_EQ(ua_probe_load(prog(a, (uintptr_t)base + 8 * PG, 0), 1), 7);
	ua_arena_destroy(a);
}

TEST(arena, best_fit_sees_host_faults_in_candidate_run)
{
	struct ua_arena *a = make_arena(16, 0, 0, false);
	volatile uint8_t *vb = ua_arena_user_base(a);

	/* runs: [0..15]; host touches page 2 -> kernel has [0..1], [3..15] */
	vb[2 * PG] = 1;
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 2, -1, 0)), 0);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 1, -1, 0)), 3);
	ua_arena_destroy(a);
}

TEST(arena, best_fit_sees_host_faults_in_other_runs)
{
	/* runs [0..5] and [10..19]; a host touch of page 14 leaves [10..13], [15..19]:
	 * the kernel's best fit for 3 pages is then the 4-page run at 10, not page 0 */
	struct ua_arena *a = make_arena(20, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	volatile uint8_t *vb = (volatile uint8_t *)base;

	REQUIRE(ua_arena_alloc_pages(a, base + 6 * PG, 4, -1, 0) == base + 6 * PG);
	vb[14 * PG] = 1;
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 3, -1, 0)), 10);
	/* the right piece was inserted after the left one: equal sizes would tie to it */
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 5, -1, 0)), 15);
	CHECK_EQ(page_of(a, ua_arena_alloc_pages(a, NULL, 6, -1, 0)), 0);
	ua_arena_destroy(a);
}

static void segv_handler(int sig, siginfo_t *info, void *uc)
{
	if (sig != SIGSEGV)
		_exit(43);
	_exit(info->si_code == SEGV_MAPERR ? 42 : info->si_code == SEGV_ACCERR ? 44 : 45);
}

static bool segv_no_uffd;

static void touch_unallocated_segv_arena_with_handler(void)
{
	struct sigaction sa = { .sa_sigaction = segv_handler, .sa_flags = SA_SIGINFO };
	struct ua_arena *a = make_arena(4, UA_F_SEGV_ON_FAULT, 0, segv_no_uffd);
	volatile uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	int pipefd[2];

	sigaction(SIGSEGV, &sa, NULL);
	p[0] = 1; /* allocated: fine */
	if (p[0] != 1)
		_exit(2);
	/* kernel-mode access to an allocated page works too */
	if (pipe(pipefd) || write(pipefd[1], "xy", 2) != 2 || read(pipefd[0], (void *)p, 2) != 2 ||
	    p[1] != 'y')
		_exit(4);
	(void)p[PG]; /* unallocated: SIGSEGV */
	_exit(3);
}

static void touch_unallocated_segv_arena_default(void)
{
	struct ua_arena *a = make_arena(4, UA_F_SEGV_ON_FAULT, 0, segv_no_uffd);
	volatile uint8_t *p = ua_arena_user_base(a);

	signal(SIGSEGV, SIG_DFL);
	p[2 * PG] = 1;
	_exit(3);
}

static void touch_freed_segv_arena(void)
{
	struct ua_arena *a = make_arena(4, UA_F_SEGV_ON_FAULT, 0, segv_no_uffd);
	volatile uint8_t *p = ua_arena_alloc_pages(a, NULL, 2, -1, 0);

	signal(SIGSEGV, SIG_DFL);
	p[PG] = 1;
	ua_arena_free_pages(a, (void *)p, 2);
	(void)p[PG];
	_exit(3);
}

static void check_segv_on_fault(bool no_uffd)
{
	int st;

	segv_no_uffd = no_uffd;
	/*
	 * A host handler installed after uarena's sees the fault directly: on the
	 * checked path that is the PROT_NONE fault (SEGV_ACCERR), not the
	 * kernel's SEGV_MAPERR (docs/arena-design.md §3).
	 */
	st = ua_test_in_child(touch_unallocated_segv_arena_with_handler);
	CHECK_EQ(st, (no_uffd ? 44 : 42) << 8);
	st = ua_test_in_child(touch_unallocated_segv_arena_default);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	st = ua_test_in_child(touch_freed_segv_arena);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

TEST(arena, segv_on_fault_delivers_sigsegv_uffd)
{
	check_segv_on_fault(false);
}

TEST(arena, segv_on_fault_delivers_sigsegv_checked)
{
	check_segv_on_fault(true);
}

static void check_segv_page_stays_free(bool no_uffd)
{
	struct ua_arena *a = make_arena(4, UA_F_SEGV_ON_FAULT, 0, no_uffd);

	segv_no_uffd = no_uffd;
	CHECK_EQ(ua_test_in_child(touch_unallocated_segv_arena_default) & 0x7f, SIGSEGV);
	CHECK(!file_has_data(a, 2));
	CHECK(ua_arena_alloc_pages(a, (uint8_t *)ua_arena_user_base(a) + 2 * PG, 1, -1, 0) != NULL);
	ua_arena_destroy(a);
}

TEST(arena, segv_on_fault_page_stays_free)
{
	check_segv_page_stays_free(false);
	check_segv_page_stays_free(true);
}

TEST(arena, casts)
{
	struct ua_arena *a = make_arena(4, 0, 0x500000000000ull + 0x12340000ull, false);
	struct ua_arena *n = make_arena(4, UA_F_NO_USER_CONV, 0x5a0000000000ull + 0x5000ull, false);

	CHECK(ua_arena_cast_user(a, 0) == 0);
	CHECK(ua_arena_cast_user(a, 0xffffffff00000000ull) == 0); /* lo32 0 is NULL */
	CHECK(ua_arena_cast_user(a, 0x12340010ull) == 0x500012340010ull);
	CHECK(ua_arena_cast_user(a, 0xdead000012340010ull) == 0x500012340010ull);
	CHECK(ua_arena_cast_user(n, 0xdead000000005008ull) == 0x5008ull);
	CHECK(ua_arena_cast_user(n, 0x100000000ull) == 0);
	CHECK(ua_arena_cast_kern(0x500012340010ull) == 0x12340010ull);
	CHECK(ua_arena_cast_kern(0xffffffffffffffffull) == 0xffffffffull);
	/* alloc result = hi32(user_vm_start) | lo32 */
	CHECK((uintptr_t)ua_arena_alloc_pages(a, NULL, 1, -1, 0) == 0x500012340000ull);
	CHECK((uintptr_t)ua_arena_alloc_pages(n, NULL, 1, -1, 0) == 0x5a0000005000ull);
	ua_arena_destroy(a);
	ua_arena_destroy(n);
}

TEST(arena, program_view_uses_lo32_of_user_address)
{
	struct ua_arena *a = make_arena(4, 0, 0x700000000000ull + 0x7fff0000ull, false);
	uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);

	REQUIRE(p != NULL);
	p[8] = 0x5a;
	CHECK_EQ(*(ua_arena_prog_base(a) + 0x7fff0008ull), 0x5a);
	ua_arena_destroy(a);
}

TEST(arena, vma_count_stays_constant_when_fragmented)
{
	struct ua_arena *a = make_arena(4096, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	char line[512];
	int before = 0, after = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	REQUIRE(f);
	while (fgets(line, sizeof(line), f))
		before++;
	fclose(f);
	for (uint64_t p = 0; p < 4096; p += 2)
		REQUIRE(ua_arena_alloc_pages(a, base + p * PG, 1, -1, 0) == base + p * PG);
	f = fopen("/proc/self/maps", "r");
	REQUIRE(f);
	while (fgets(line, sizeof(line), f))
		after++;
	fclose(f);
	CHECK_EQ(after, before);
	ua_arena_destroy(a);
}

TEST(arena, fragmented_million_page_arena)
{
	/*
	 * Every other page of 1<<20 taken (reserved: same allocator shape as
	 * allocated, without 2 GiB of memory), then real allocations in the gaps.
	 */
	struct ua_arena *a = make_arena(1u << 20, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);

	for (uint64_t p = 0; p < (1u << 20); p += 2)
		REQUIRE_EQ(ua_arena_reserve_pages(a, base + p * PG, 1), 0);
	CHECK(ua_arena_alloc_pages(a, NULL, 2, -1, 0) == NULL);
	/* size-1 runs were inserted in ascending order: newest (highest) first */
	for (uint64_t i = 0; i < 4096; i++) {
		uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);

		if (page_of(a, p) != (long)((1u << 20) - 1 - 2 * i)) {
			ua_test_fail(__FILE__, __LINE__, "alloc %" PRIu64 ": page %ld", i, page_of(a, p));
			break;
		}
		p[0] = (uint8_t)i;
		if (ua_probe_load(prog(a, (uintptr_t)p, 0), 1) != (uint8_t)i) {
			ua_test_fail(__FILE__, __LINE__, "page %ld not shared", page_of(a, p));
			break;
		}
	}
	CHECK_EQ(ua_probe_load(prog(a, (uintptr_t)base + 3 * PG, 0), 8), 0);
	ua_arena_free_pages(a, base, 1u << 20);
	CHECK(ua_arena_alloc_pages(a, NULL, 2, -1, 0) == base);
	ua_arena_destroy(a);
}

TEST(arena, named_path_open)
{
	char path[64], err[128] = "";
	struct ua_arena *a = NULL, *b = NULL;

	snprintf(path, sizeof(path), "/dev/shm/uarena-test-%d", (int)getpid());
	unlink(path);
	UA_OPTS(ua_arena_opts, o, .max_entries = 8, .map_flags = UA_F_MMAPABLE, .path = path,
		.err_buf = err, .err_buf_sz = sizeof(err));
	REQUIRE_EQ(ua_arena_create(&o, &a), 0);
	CHECK_EQ(ua_arena_create(&o, &b), -EEXIST);
	uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(p);
	p[0] = 9;
	/* same process: the user range is taken */
	CHECK_EQ(ua_arena_open(path, &o, &b), -EBUSY);
	CHECK_CONTAINS(err, "arena: ");
	CHECK_EQ(ua_arena_open("/dev/shm/uarena-no-such", NULL, &b), -ENOENT);
	ua_arena_destroy(a);
	/* after the creator unmapped, open maps it at the same place with the data */
	REQUIRE_EQ(ua_arena_open(path, NULL, &b), 0);
	CHECK(ua_arena_user_base(b) == p - 0 && p[0] == 9);
	CHECK_EQ(ua_arena_max_entries(b), 8);
	CHECK(ua_arena_alloc_pages(b, NULL, 1, -1, 0) == p + PG);
	ua_arena_destroy(b);
	unlink(path);
}

TEST(arena, attach_rejects_foreign_files)
{
	int fd = memfd_create("not-arena", 0);
	struct ua_arena *a = (void *)1;

	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, 8192) == 0);
	CHECK_EQ(ua_arena_attach(fd, NULL, &a), -EINVAL);
	CHECK(a == NULL);
	CHECK_EQ(ua_arena_attach(-1, NULL, &a), -EBADF);
	close(fd);
}

struct thread_arg {
	struct ua_arena *a;
	int id;
	int bad;
};

static void *alloc_free_worker(void *p)
{
	struct thread_arg *t = p;

	for (int i = 0; i < 2000; i++) {
		uint32_t cnt = 1 + (uint32_t)((i + t->id) % 3);
		uint8_t *m = ua_arena_alloc_pages(t->a, NULL, cnt, -1, 0);

		if (!m)
			continue; /* momentarily full: fine */
		for (uint32_t k = 0; k < cnt; k++)
			if (m[k * PG] != 0)
				t->bad++;
		for (uint32_t k = 0; k < cnt; k++)
			m[k * PG] = (uint8_t)t->id;
		for (uint32_t k = 0; k < cnt; k++)
			if (m[k * PG] != (uint8_t)t->id)
				t->bad++;
		ua_arena_free_pages(t->a, m, cnt);
	}
	return NULL;
}

TEST(arena, threads_never_share_pages)
{
	struct ua_arena *a = make_arena(32, 0, 0, false);
	struct thread_arg args[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ a, i + 1, 0 };
		REQUIRE(pthread_create(&th[i], NULL, alloc_free_worker, &args[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].bad, 0);
	}
	/* everything was given back */
	CHECK(ua_arena_alloc_pages(a, NULL, 32, -1, 0) == ua_arena_user_base(a));
	ua_arena_destroy(a);
}

TEST(arena, mmap_rules_of_the_kernel)
{
	struct ua_arena *a = make_arena(4, 0, 0, false);
	uint8_t *base = ua_arena_user_base(a);
	uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	void *out = (void *)1;
	const int rw = PROT_READ | PROT_WRITE;

	REQUIRE(p == base);
	p[3] = 33;
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG, rw, MAP_SHARED, 0, &out), -EBUSY); /* mapped */
	CHECK(out == NULL);
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG, rw | PROT_EXEC, MAP_SHARED, 0, &out), -EPERM);
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG, rw, MAP_SHARED, (long)PG, &out), -EINVAL);
	CHECK_EQ(ua_arena_mmap(a, base, 5 * PG, rw, MAP_SHARED, 0, &out), -E2BIG);
	CHECK_EQ(ua_arena_mmap(a, base, (size_t)(1ull << 32) + PG, rw, MAP_SHARED, 0, &out), -E2BIG);
	CHECK_EQ(ua_arena_mmap(a, base, 2 * PG, rw, MAP_SHARED, 0, &out), -EINVAL);
	CHECK_EQ(ua_arena_mmap(a, NULL, 4 * PG, rw, MAP_SHARED, 0, &out), -EINVAL);
	CHECK_EQ(ua_arena_mmap(a, base + PG, 4 * PG, rw, MAP_SHARED, 0, &out), -EINVAL);
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG, rw, MAP_PRIVATE, 0, &out), -EINVAL);
	CHECK_EQ(ua_arena_munmap(a, base + PG, PG), -EINVAL); /* no splitting */
	CHECK_EQ(ua_arena_munmap(a, base, 2 * PG), -EINVAL);
	/* MAP_FIXED over the existing view replaces it; contents stay */
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG - 100, rw, MAP_SHARED | MAP_FIXED, 0, &out), 0);
	CHECK(out == base && base[3] == 33);
	/* full munmap, then mmap at the old address: pages intact */
	CHECK_EQ(ua_arena_munmap(a, base, 4 * PG), 0);
	CHECK_EQ(ua_arena_munmap(a, base, 4 * PG), 0); /* nothing left: no-op */
	ua_arena_free_pages(a, NULL, 1); /* no-op, the arena works unmapped */
	CHECK_EQ(ua_probe_load(prog(a, (uintptr_t)base + 3, 0), 1), 33);
	CHECK_EQ(ua_arena_mmap(a, base, 4 * PG, PROT_READ, MAP_SHARED, 0, &out), 0);
	CHECK(out == base && base[3] == 33);
	ua_arena_destroy(a);
}

static struct ua_arena *mmap_child_arena;

static void write_to_read_only_view(void)
{
	uint8_t *base = ua_arena_user_base(mmap_child_arena);
	void *out;

	signal(SIGSEGV, SIG_DFL);
	if (ua_arena_munmap(mmap_child_arena, base, 4 * PG) ||
	    ua_arena_mmap(mmap_child_arena, base, 4 * PG, PROT_READ, MAP_SHARED, 0, &out))
		_exit(1);
	if (((volatile uint8_t *)base)[1] != 0) /* reading is fine */
		_exit(2);
	((volatile uint8_t *)base)[1] = 1;
	_exit(3);
}

static void touch_unmapped_view(void)
{
	uint8_t *base = ua_arena_user_base(mmap_child_arena);

	signal(SIGSEGV, SIG_DFL);
	if (ua_arena_munmap(mmap_child_arena, base, 4 * PG))
		_exit(1);
	((volatile uint8_t *)base)[1] = 1;
	_exit(3);
}

TEST(arena, mmap_read_only_and_unmapped_views_fault)
{
	mmap_child_arena = make_arena(4, 0, 0, false);
	REQUIRE(ua_arena_alloc_pages(mmap_child_arena, NULL, 1, -1, 0) != NULL);
	CHECK_EQ(ua_test_in_child(write_to_read_only_view) & 0x7f, SIGSEGV);
	CHECK_EQ(ua_test_in_child(touch_unmapped_view) & 0x7f, SIGSEGV);
	ua_arena_destroy(mmap_child_arena);
}

/* A host handler that chains, as docs/arena-design.md asks of hosts. */
static struct sigaction chained_old;
static uintptr_t expected_fault;

static void chaining_handler(int sig, siginfo_t *si, void *uc)
{
	if ((uintptr_t)si->si_addr == expected_fault)
		_exit(42);
	chained_old.sa_sigaction(sig, si, uc);
}

static void remap_then_touch_segv_arena(void)
{
	struct ua_arena *a = make_arena(4, UA_F_SEGV_ON_FAULT, 0, segv_no_uffd);
	uint8_t *base = ua_arena_user_base(a);
	volatile uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	struct sigaction sa = { .sa_sigaction = chaining_handler, .sa_flags = SA_SIGINFO };
	void *out;

	expected_fault = (uintptr_t)base + 2 * PG;
	if (sigaction(SIGSEGV, &sa, &chained_old) || !(chained_old.sa_flags & SA_SIGINFO))
		_exit(2);
	if (ua_arena_munmap(a, base, 4 * PG) ||
	    ua_arena_mmap(a, base, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, &out))
		_exit(1);
	p[0] = 1; /* allocated: fine after the remap too */
	((volatile uint8_t *)base)[2 * PG] = 1;
	_exit(3);
}

TEST(arena, mmap_again_keeps_segv_on_fault)
{
	segv_no_uffd = false;
	CHECK_EQ(ua_test_in_child(remap_then_touch_segv_arena), 42 << 8);
	segv_no_uffd = true;
	CHECK_EQ(ua_test_in_child(remap_then_touch_segv_arena), 42 << 8);
}

TEST(arena, guard_accesses_read_zero_checked)
{
	struct ua_arena *a = make_arena(4, 0, 0, true);
	uint8_t *kb = ua_arena_prog_base(a);
	uint32_t lo = (uint32_t)(uintptr_t)ua_arena_user_base(a);
	uint64_t old = 0;

	REQUIRE(ua_arena_alloc_pages(a, NULL, 4, -1, 0) != NULL);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, 0, -32768), 8), 0);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, 0xffffffffull, 32767), 1), 0);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, lo + 4 * PG, 0), 8), 0);
	CHECK(!ua_probe_atomic(ua_arena_prog_addr(kb, lo - 8, 0), 8, UA_XCHG, 1, 0, &old));
	/* an unaligned load straddling the last page and the band beyond */
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(kb, lo + 4 * PG - 4, 0), 8), 0);
	ua_arena_destroy(a);
}

TEST(arena, opts_with_unknown_fields_rejected)
{
	struct {
		struct ua_arena_opts o;
		uint64_t future;
	} big = { .o = { .sz = sizeof(big), .max_entries = 1, .map_flags = UA_F_MMAPABLE },
		  .future = 1 };
	struct ua_arena *a = (void *)1;

	CHECK_EQ(ua_arena_create(&big.o, &a), -EINVAL);
	CHECK(a == NULL);
	big.future = 0; /* zero tail: a newer caller with defaults is fine */
	CHECK_EQ(ua_arena_create(&big.o, &a), 0);
	ua_arena_destroy(a);
}

TEST(arena, attach_validates_size_and_shares_allocator_in_one_process)
{
	struct ua_arena *a = make_arena(8, 0, 0, false), *b = NULL;
	uint8_t *base = ua_arena_user_base(a), page[4096];
	struct stat st;
	int fd2 = memfd_create("copy", 0);

	REQUIRE(fd2 >= 0);
	REQUIRE(fstat(ua_arena_fd(a), &st) == 0);
	REQUIRE(pread(ua_arena_fd(a), page, sizeof(page), 0) == (ssize_t)sizeof(page));
	REQUIRE(pwrite(fd2, page, sizeof(page), 0) == (ssize_t)sizeof(page));
	REQUIRE(ftruncate(fd2, st.st_size - (off_t)PG) == 0);
	CHECK_EQ(ua_arena_attach(fd2, NULL, &b), -EINVAL); /* size disagrees with the header */
	REQUIRE(ftruncate(fd2, st.st_size) == 0);
	CHECK_EQ(ua_arena_attach(fd2, NULL, &b), -EBUSY); /* valid, but the range is in use */
	close(fd2);
	/* once the creator's view is gone, a second handle maps the same pages */
	REQUIRE(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base);
	base[9] = 99;
	REQUIRE_EQ(ua_arena_munmap(a, base, 8 * PG), 0);
	REQUIRE_EQ(ua_arena_attach(ua_arena_fd(a), NULL, &b), 0);
	CHECK(ua_arena_user_base(b) == base && base[9] == 99);
	CHECK(ua_arena_alloc_pages(b, NULL, 1, -1, 0) == base + PG);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base + 2 * PG);
	ua_arena_free_pages(b, base, 1);
	CHECK(ua_arena_alloc_pages(a, base, 1, -1, 0) == base);
	ua_arena_destroy(b);
	ua_arena_destroy(a);
}

TEST(arena, unmappable_map_extra_fails_at_create)
{
	/* The kernel accepts these at create and fails at mmap; uarena maps at create. */
	static const uint64_t addrs[] = { 0x7ffffffff000ull, 0xffff800000000000ull,
					  0xfffffffffffff000ull };
	char err[128];

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		UA_OPTS(ua_arena_opts, o, .max_entries = 1, .map_flags = UA_F_MMAPABLE,
			.map_extra = addrs[i], .err_buf = err, .err_buf_sz = sizeof(err));
		struct ua_arena *a = (void *)1;

		CHECK_EQ(ua_arena_create(&o, &a), -ENOMEM);
		CHECK(a == NULL);
		CHECK_CONTAINS(err, "arena: cannot map user view");
	}
}
