/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator against a direct transcription of the kernel's
 * range_tree (kernel/bpf/range_tree.c): a list of runs, each stamped when
 * (re)inserted; find = smallest run that fits, newest stamp among equals.
 * Random alloc / alloc-at / free / reserve sequences must give the same
 * placement and the same free pages after every step.
 */
#include "test.h"

#include "arena_alloc.h"

#include <stdlib.h>

#define NPAGES 203 /* not a multiple of 64: exercises the tail word */

struct ref_run {
	uint32_t first, len;
	uint64_t stamp;
};

struct ref {
	struct ref_run runs[NPAGES];
	int n;
	uint64_t clock;
};

static void ref_insert(struct ref *r, uint32_t first, uint32_t len)
{
	r->runs[r->n++] = (struct ref_run){ first, len, ++r->clock };
}

static void ref_remove(struct ref *r, int i)
{
	r->runs[i] = r->runs[--r->n];
}

/* Lowest-starting run overlapping [first, last], or -1 (range_it_iter_first). */
static int ref_first_overlap(const struct ref *r, uint32_t first, uint32_t last)
{
	int best = -1;

	for (int i = 0; i < r->n; i++) {
		const struct ref_run *x = &r->runs[i];

		if (x->first <= last && x->first + x->len - 1 >= first &&
		    (best < 0 || x->first < r->runs[best].first))
			best = i;
	}
	return best;
}

static int64_t ref_find(const struct ref *r, uint32_t len)
{
	int best = -1;

	for (int i = 0; i < r->n; i++) {
		const struct ref_run *x = &r->runs[i];

		if (x->len < len)
			continue;
		if (best < 0 || x->len < r->runs[best].len ||
		    (x->len == r->runs[best].len && x->stamp > r->runs[best].stamp))
			best = i;
	}
	return best < 0 ? -1 : (int64_t)r->runs[best].first;
}

static bool ref_is_set(const struct ref *r, uint32_t first, uint32_t len)
{
	int i = ref_first_overlap(r, first, first + len - 1);

	return i >= 0 && r->runs[i].first <= first &&
	       r->runs[i].first + r->runs[i].len >= first + len;
}

static void ref_clear(struct ref *r, uint32_t first, uint32_t len)
{
	uint32_t last = first + len - 1;
	int i;

	while ((i = ref_first_overlap(r, first, last)) >= 0) {
		struct ref_run x = r->runs[i];
		uint32_t xlast = x.first + x.len - 1;

		ref_remove(r, i);
		if (x.first < first && xlast > last) {
			ref_insert(r, x.first, first - x.first);
			ref_insert(r, last + 1, xlast - last);
		} else if (x.first < first) {
			ref_insert(r, x.first, first - x.first);
		} else if (xlast > last) {
			ref_insert(r, last + 1, xlast - last);
			break;
		}
	}
}

static void ref_set(struct ref *r, uint32_t first, uint32_t len)
{
	uint32_t last = first + len - 1;
	int left = -1, right = -1;

	if (ref_is_set(r, first, len))
		return;
	ref_clear(r, first, len);
	for (int i = 0; i < r->n; i++) {
		if (r->runs[i].first + r->runs[i].len == first)
			left = i;
		if (r->runs[i].first == last + 1)
			right = i;
	}
	uint32_t lo = first, total = len;
	if (left >= 0) {
		lo = r->runs[left].first;
		total += r->runs[left].len;
	}
	if (right >= 0)
		total += r->runs[right].len;
	/* remove the higher index first so the lower one stays valid */
	if (left > right) {
		ref_remove(r, left);
		if (right >= 0)
			ref_remove(r, right);
	} else {
		if (right >= 0)
			ref_remove(r, right);
		if (left >= 0)
			ref_remove(r, left);
	}
	ref_insert(r, lo, total);
}

static bool ref_page_free(const struct ref *r, uint32_t p)
{
	return ref_first_overlap(r, p, p) >= 0;
}

static void *state_mem(void)
{
	void *m = calloc(1, ua_range_tree_state_size(NPAGES));

	REQUIRE(m);
	return m;
}

TEST(arena_alloc, matches_kernel_range_tree_on_random_sequences)
{
	struct ua_range_tree al;
	struct ref ref = { .n = 0 };
	void *mem = state_mem();
	unsigned seed = 12345, ties = 0;

	ua_range_tree_bind(&al, mem, NPAGES);
	ua_range_tree_init(&al);
	ref_insert(&ref, 0, NPAGES);
	for (int step = 0; step < 40000; step++) {
		int op = rand_r(&seed) % 9;
		uint32_t len = 1 + (uint32_t)(rand_r(&seed) % (rand_r(&seed) % 8 ? 6 : 60));
		uint32_t at = (uint32_t)(rand_r(&seed) % NPAGES), run_len;
		int64_t got, want;

		if (at + len > NPAGES)
			len = NPAGES - at;
		switch (op) {
		case 0: case 1: case 2: /* alloc(NULL, len) */
			got = ua_range_tree_find(&al, len, &run_len);
			want = ref_find(&ref, len);
			if (got >= 0) {
				int same = 0;

				for (int i = 0; i < ref.n; i++)
					same += ref.runs[i].len == run_len;
				ties += same > 1;
			}
			if (got != want) {
				ua_test_fail(__FILE__, __LINE__, "step %d find(%u): got %lld want %lld",
					     step, len, (long long)got, (long long)want);
				goto out;
			}
			if (got >= 0) {
				ua_range_tree_clear(&al, (uint32_t)got, len);
				ref_clear(&ref, (uint32_t)got, len);
			}
			break;
		case 3: /* alloc at address / reserve: all-or-nothing */
			if (ua_range_tree_is_free(&al, at, len) != ref_is_set(&ref, at, len)) {
				ua_test_fail(__FILE__, __LINE__, "step %d is_free(%u, %u) differs", step,
					     at, len);
				goto out;
			}
			if (ref_is_set(&ref, at, len)) {
				ua_range_tree_clear(&al, at, len);
				ref_clear(&ref, at, len);
			}
			break;
		case 5: /* a host fault: one page marked used, free or not */
			ua_range_tree_clear(&al, at, 1);
			ref_clear(&ref, at, 1);
			break;
		default: /* free, possibly over free, reserved or partly free pages */
			ua_range_tree_set(&al, at, len);
			ref_set(&ref, at, len);
			break;
		}
		for (uint32_t p = 0; p < NPAGES; p++) {
			if (ua_range_tree_page_free(&al, p) != ref_page_free(&ref, p)) {
				ua_test_fail(__FILE__, __LINE__, "step %d: page %u free state differs",
					     step, p);
				goto out;
			}
		}
	}
out:
	/* the sequence must have exercised the tie order, or it proves little */
	CHECK(ties > 500);
	free(mem);
}

TEST(arena_alloc, rebuild_recovers_runs_from_bits)
{
	struct ua_range_tree al;
	void *mem = state_mem();
	uint32_t run_len;

	ua_range_tree_bind(&al, mem, NPAGES);
	ua_range_tree_init(&al);
	ua_range_tree_clear(&al, 0, 10);
	ua_range_tree_clear(&al, 12, 3);
	ua_range_tree_clear(&al, 20, NPAGES - 20);
	/* free runs now [10..11] and [15..19]; scribble over the index */
	memset(al.run_len, 0xff, NPAGES * 4);
	memset(al.head, 0, (NPAGES + 1) * 4);
	ua_range_tree_rebuild(&al);
	CHECK_EQ(ua_range_tree_find(&al, 2, &run_len), 10);
	CHECK_EQ(run_len, 2);
	CHECK_EQ(ua_range_tree_find(&al, 3, &run_len), 15);
	CHECK_EQ(ua_range_tree_find(&al, 6, &run_len), -1);
	ua_range_tree_set(&al, 12, 3); /* merges [10..19] */
	CHECK_EQ(ua_range_tree_find(&al, 10, &run_len), 10);
	free(mem);
}

TEST(arena_alloc, full_size_arena_summary_levels)
{
	/* 1<<20 pages: sizes up to 1<<20 go through all four summary levels */
	const uint32_t n = 1u << 20;
	void *mem = calloc(1, ua_range_tree_state_size(n));
	struct ua_range_tree al;
	uint32_t run_len;

	REQUIRE(mem);
	ua_range_tree_bind(&al, mem, n);
	ua_range_tree_init(&al);
	CHECK_EQ(ua_range_tree_find(&al, n, &run_len), 0);
	CHECK_EQ(ua_range_tree_find(&al, n + 1, &run_len), -1);
	ua_range_tree_clear(&al, 1, 1); /* runs [0] and [2..n-1] */
	CHECK_EQ(ua_range_tree_find(&al, 1, &run_len), 0);
	CHECK_EQ(ua_range_tree_find(&al, 2, &run_len), 2);
	CHECK_EQ(run_len, n - 2);
	CHECK_EQ(ua_range_tree_find(&al, n - 1, &run_len), -1);
	ua_range_tree_set(&al, 1, 1);
	CHECK_EQ(ua_range_tree_find(&al, n, &run_len), 0);
	free(mem);
}
