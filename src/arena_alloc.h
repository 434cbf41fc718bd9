/* SPDX-License-Identifier: MIT */
/*
 * Arena page allocator (internal to the arena module): the kernel's
 * range_tree (v6.13+) semantics over position-independent arrays that live in
 * the arena's shared header, so every attached process sees one allocator.
 * The caller serialises all calls (the arena's process-shared mutex).
 */
#ifndef UA_ARENA_ALLOC_H
#define UA_ARENA_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARENA_SIZE_LEVELS 4 /* 64^4 sizes > 1<<20 pages */

/* A process-local view of the shared state (pointers into the mapping). */
struct ua_range_tree {
	uint32_t npages;
	uint64_t *free_bits;  /* bit set = page is FREE (in a run) */
	uint32_t *run_len;    /* at a run's first page: its length */
	uint32_t *run_first;  /* at a run's last page: its first page */
	uint32_t *next, *prev; /* same-size list links (page + 1, 0 = none), at first page */
	uint32_t *head;       /* per size: newest run's first page + 1 (0 = none) */
	uint64_t *size_bits[ARENA_SIZE_LEVELS]; /* level 0: size has runs; level k+1 summarises k */
	uint32_t size_words[ARENA_SIZE_LEVELS];
};

/* Bytes of shared memory the state needs for npages (zero-filled = empty). */
size_t ua_range_tree_state_size(uint32_t npages);
/* Points a view at the state stored at mem (any address, any process). */
void ua_range_tree_bind(struct ua_range_tree *al, void *mem, uint32_t npages);
/* Fresh zeroed state: all pages free. */
void ua_range_tree_init(struct ua_range_tree *al);
/* Recomputes the run index from free_bits (after a holder of the lock died). */
void ua_range_tree_rebuild(struct ua_range_tree *al);

/*
 * range_tree_find: first page of the best-fit run for len (smallest run that
 * fits; among equal sizes the most recently inserted, as the kernel's size
 * rbtree orders them), -1 if none. *run_len_out = that run's length.
 */
int64_t ua_range_tree_find(const struct ua_range_tree *al, uint32_t len, uint32_t *run_len_out);
/* is_range_tree_set: every page of [first, first+len) is free. */
bool ua_range_tree_is_free(const struct ua_range_tree *al, uint32_t first, uint32_t len);
/* range_tree_clear: marks [first, first+len) used (reserved/allocated). */
void ua_range_tree_clear(struct ua_range_tree *al, uint32_t first, uint32_t len);
/* range_tree_set: marks [first, first+len) free, merging neighbours. */
void ua_range_tree_set(struct ua_range_tree *al, uint32_t first, uint32_t len);
/* First free page >= from (the start of a run when from is not inside one), or npages. */
uint32_t ua_range_tree_next_free(const struct ua_range_tree *al, uint32_t from);
/* Length of the run starting at first (first must start a run). */
uint32_t ua_range_tree_run_len(const struct ua_range_tree *al, uint32_t first);
/* Whether page is free. */
bool ua_range_tree_page_free(const struct ua_range_tree *al, uint32_t page);

#endif
