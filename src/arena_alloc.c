/* SPDX-License-Identifier: MIT */
/*
 * Arena page allocator: Linux's range_tree (kernel/bpf/range_tree.c) rebuilt
 * on flat arrays so it can live in shared memory and be used by every
 * process attached to the arena.
 *
 * The kernel keeps free runs in two rbtrees: by address (to split/merge) and
 * by size, where a run of equal size is inserted to the right of existing
 * ones and the search walks right whenever the run fits. So a lookup for len
 * returns the *smallest* run that fits and, among runs of that size, the one
 * (re)inserted *last*; the allocation starts at that run's first page. Every
 * split or merge re-inserts the pieces, which makes the order observable
 * (free page 5, then page 9, in an otherwise full arena: alloc(1) = 9).
 *
 * Here:
 *  - free_bits (1 bit per page) is the primary state; runs are its maximal
 *    sequences of set bits.
 *  - run_len[first] and run_first[last] describe a run at its two ends.
 *  - head[size] + next/prev form, per size, a list of runs newest first:
 *    "insert" pushes at the head, exactly reproducing the rbtree's tie order.
 *  - size_bits is a 64-ary summary tree over sizes that have runs, so "the
 *    smallest size >= len with a run" costs four word scans.
 * Find, and alloc/free of a whole run are O(1) word operations plus the
 * length of the bit range touched / 64; the fragmented worst case (every
 * other page of 1<<20 used, 512 Ki runs of size 1) costs the same per call.
 *
 * Memory: (1/8 + 4 + 4 + 4 + 4 + 4) bytes per page ~= 20 MiB for 1<<20 pages,
 * in a sparse shared file: only the parts ever touched take memory.
 */
#include "arena_alloc.h"

#include "internal.h"

#define NONE 0u

static uint32_t words_for(uint64_t bits)
{
	return (uint32_t)((bits + 63) / 64);
}

size_t ua_range_tree_state_size(uint32_t npages)
{
	size_t words = words_for(npages), sz;
	uint32_t w = words_for((uint64_t)npages + 1);

	sz = words * 8 + (size_t)npages * 4 * 4 + ((size_t)npages + 1) * 4;
	for (int l = 0; l < ARENA_SIZE_LEVELS; l++) {
		sz += (size_t)w * 8;
		w = words_for(w);
	}
	return UA_ROUND_UP(sz, 64);
}

void ua_range_tree_bind(struct ua_range_tree *al, void *mem, uint32_t npages)
{
	uint8_t *p = mem;
	uint32_t w = words_for((uint64_t)npages + 1);

	al->npages = npages;
	al->free_bits = (uint64_t *)p;
	p += (size_t)words_for(npages) * 8;
	for (int l = 0; l < ARENA_SIZE_LEVELS; l++) {
		al->size_bits[l] = (uint64_t *)p;
		al->size_words[l] = w;
		p += (size_t)w * 8;
		w = words_for(w);
	}
	al->run_len = (uint32_t *)p;
	p += (size_t)npages * 4;
	al->run_first = (uint32_t *)p;
	p += (size_t)npages * 4;
	al->next = (uint32_t *)p;
	p += (size_t)npages * 4;
	al->prev = (uint32_t *)p;
	p += (size_t)npages * 4;
	al->head = (uint32_t *)p;
}

static bool bit_test(const uint64_t *bits, uint64_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

/* Sets or clears bits [first, end). */
static void bits_assign(uint64_t *bits, uint64_t first, uint64_t end, bool on)
{
	while (first < end) {
		uint64_t w = first / 64, lo = first % 64;
		uint64_t n = UA_MIN(64 - lo, end - first);
		uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << lo;

		bits[w] = on ? bits[w] | mask : bits[w] & ~mask;
		first += n;
	}
}

/* First set bit in [from, end), or end. */
static uint64_t next_set(const uint64_t *bits, uint64_t from, uint64_t end)
{
	while (from < end) {
		uint64_t word = bits[from / 64] >> (from % 64);

		if (word)
			return UA_MIN(from + (uint64_t)__builtin_ctzll(word), end);
		from = (from / 64 + 1) * 64;
	}
	return end;
}

/* Last clear bit at or below from, or -1. */
static int64_t prev_clear(const uint64_t *bits, int64_t from)
{
	while (from >= 0) {
		uint64_t word = ~bits[from / 64] << (63 - from % 64);

		if (word)
			return from - __builtin_clzll(word);
		from = (from / 64) * 64 - 1;
	}
	return -1;
}

/* Size-summary tree: level 0 bit s = "some run has size s". */
static void size_mark(struct ua_range_tree *al, uint32_t size, bool on)
{
	uint64_t i = size;

	for (int l = 0; l < ARENA_SIZE_LEVELS; l++) {
		uint64_t *w = &al->size_bits[l][i / 64];
		bool was_empty = *w == 0;

		if (on)
			*w |= 1ull << (i % 64);
		else
			*w &= ~(1ull << (i % 64));
		/* The parent bit changes only when this word flips empty <-> non-empty. */
		if (on ? !was_empty : *w != 0)
			return;
		i /= 64;
	}
}

/* Smallest size >= from that has a run, or 0. */
static uint32_t size_next(const struct ua_range_tree *al, uint64_t from)
{
	int l = 0;
	uint64_t i = from;

	/* Climb until a word holds a set bit at or after i. */
	for (;;) {
		if (l == ARENA_SIZE_LEVELS || i / 64 >= al->size_words[l])
			return 0;
		uint64_t word = al->size_bits[l][i / 64] >> (i % 64);

		if (word) {
			i += (uint64_t)__builtin_ctzll(word);
			break;
		}
		i = i / 64 + 1;
		l++;
	}
	/* Descend to the first set bit below it. */
	while (l > 0) {
		l--;
		i = i * 64 + (uint64_t)__builtin_ctzll(al->size_bits[l][i]);
	}
	return (uint32_t)i;
}

static void run_insert(struct ua_range_tree *al, uint32_t first, uint32_t len)
{
	uint32_t old = al->head[len];

	al->run_len[first] = len;
	al->run_first[first + len - 1] = first;
	al->prev[first] = NONE;
	al->next[first] = old;
	if (old != NONE)
		al->prev[old - 1] = first + 1;
	else
		size_mark(al, len, true);
	al->head[len] = first + 1;
}

static void run_remove(struct ua_range_tree *al, uint32_t first)
{
	uint32_t len = al->run_len[first], nx = al->next[first], pv = al->prev[first];

	if (pv != NONE)
		al->next[pv - 1] = nx;
	else
		al->head[len] = nx;
	if (nx != NONE)
		al->prev[nx - 1] = pv;
	if (al->head[len] == NONE)
		size_mark(al, len, false);
}

void ua_range_tree_init(struct ua_range_tree *al)
{
	if (!al->npages)
		return;
	bits_assign(al->free_bits, 0, al->npages, true);
	run_insert(al, 0, al->npages);
}

void ua_range_tree_rebuild(struct ua_range_tree *al)
{
	uint64_t i = 0, n = al->npages;

	memset(al->head, 0, ((size_t)n + 1) * 4);
	for (int l = 0; l < ARENA_SIZE_LEVELS; l++)
		memset(al->size_bits[l], 0, (size_t)al->size_words[l] * 8);
	while ((i = next_set(al->free_bits, i, n)) < n) {
		uint64_t end = i;

		while (end < n && bit_test(al->free_bits, end))
			end++;
		run_insert(al, (uint32_t)i, (uint32_t)(end - i));
		i = end;
	}
}

int64_t ua_range_tree_find(const struct ua_range_tree *al, uint32_t len, uint32_t *run_len_out)
{
	uint32_t size;

	if (len == 0 || len > al->npages)
		return -1;
	size = size_next(al, len);
	if (!size)
		return -1;
	*run_len_out = size;
	return (int64_t)al->head[size] - 1;
}

uint32_t ua_range_tree_next_free(const struct ua_range_tree *al, uint32_t from)
{
	return (uint32_t)next_set(al->free_bits, from, al->npages);
}

uint32_t ua_range_tree_run_len(const struct ua_range_tree *al, uint32_t first)
{
	return al->run_len[first];
}

bool ua_range_tree_page_free(const struct ua_range_tree *al, uint32_t page)
{
	return page < al->npages && bit_test(al->free_bits, page);
}

bool ua_range_tree_is_free(const struct ua_range_tree *al, uint32_t first, uint32_t len)
{
	uint64_t end = (uint64_t)first + len;

	if (end > al->npages || len == 0)
		return false;
	for (uint64_t i = first; i < end;) {
		uint64_t w = al->free_bits[i / 64] >> (i % 64);
		uint64_t n = UA_MIN(64 - i % 64, end - i);
		uint64_t mask = n == 64 ? ~0ull : (1ull << n) - 1;

		if ((w & mask) != mask)
			return false;
		i += n;
	}
	return true;
}

/* First page of the run holding free page p. */
static uint32_t run_of(const struct ua_range_tree *al, uint32_t p)
{
	if (p == 0 || !bit_test(al->free_bits, p - 1))
		return p;
	return (uint32_t)(prev_clear(al->free_bits, (int64_t)p - 1) + 1);
}

/*
 * range_tree_clear: each run overlapping the range loses the overlap; the
 * pieces left and right of it are re-inserted (left first), as the kernel does.
 */
void ua_range_tree_clear(struct ua_range_tree *al, uint32_t first, uint32_t len)
{
	uint64_t end = UA_MIN((uint64_t)first + len, al->npages), p = first;

	while ((p = next_set(al->free_bits, p, end)) < end) {
		uint32_t rf = run_of(al, (uint32_t)p);
		uint64_t rend = (uint64_t)rf + al->run_len[rf];

		run_remove(al, rf);
		if (rf < first)
			run_insert(al, rf, first - rf);
		if (rend > end)
			run_insert(al, (uint32_t)end, (uint32_t)(rend - end));
		bits_assign(al->free_bits, p, UA_MIN(rend, end), false);
		p = UA_MIN(rend, end);
	}
}

void ua_range_tree_set(struct ua_range_tree *al, uint32_t first, uint32_t len)
{
	uint64_t end = UA_MIN((uint64_t)first + len, al->npages);
	uint32_t lo = first, left_len = 0, right_len = 0;

	if (end <= first || ua_range_tree_is_free(al, first, (uint32_t)(end - first)))
		return;
	ua_range_tree_clear(al, first, (uint32_t)(end - first));
	if (first > 0 && bit_test(al->free_bits, first - 1)) {
		lo = al->run_first[first - 1];
		left_len = al->run_len[lo];
		run_remove(al, lo);
	}
	if (end < al->npages && bit_test(al->free_bits, end)) {
		right_len = al->run_len[end];
		run_remove(al, (uint32_t)end);
	}
	run_insert(al, lo, left_len + (uint32_t)(end - first) + right_len);
	bits_assign(al->free_bits, first, end, true);
}
