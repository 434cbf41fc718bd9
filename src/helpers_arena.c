/* SPDX-License-Identifier: MIT */
/*
 * The arena kfuncs (kernel/bpf/arena.c, Linux 6.18): thin wrappers over the
 * arena's public page API, which implements the kernel's NULL/errno rules.
 * A program has at most one arena ("Only one arena per program"), so the
 * arena is the invocation's ex->arena; the map argument is what the verifier
 * checked it against and is not needed again. Pointer arguments keep only
 * their low 32 bits' meaning, as in the kernel; results are user-form
 * addresses (what the host sees).
 */
#include <errno.h>

#include "arena.h"
#include "helpers.h"

/* void __arena *bpf_arena_alloc_pages(map, addr, page_cnt, node_id, flags) */
static uint64_t bpf_arena_alloc_pages(struct ua_exec *ex, uint64_t map, uint64_t addr,
				      uint64_t page_cnt, uint64_t node_id, uint64_t flags)
{
	if (!ex->arena)
		return 0;
	return (uint64_t)(uintptr_t)ua_arena_alloc_pages(ex->arena, (void *)(uintptr_t)addr,
							 (uint32_t)page_cnt, (int32_t)node_id,
							 flags);
}

/* void bpf_arena_free_pages(map, ptr, page_cnt) */
static uint64_t bpf_arena_free_pages(struct ua_exec *ex, uint64_t map, uint64_t ptr,
				     uint64_t page_cnt, uint64_t r4, uint64_t r5)
{
	if (ex->arena)
		ua_arena_free_pages(ex->arena, (void *)(uintptr_t)ptr, (uint32_t)page_cnt);
	return 0;
}

/* int bpf_arena_reserve_pages(map, ptr, page_cnt) */
static uint64_t bpf_arena_reserve_pages(struct ua_exec *ex, uint64_t map, uint64_t ptr,
					uint64_t page_cnt, uint64_t r4, uint64_t r5)
{
	if (!ex->arena)
		return (uint64_t)-EINVAL;
	return (uint64_t)(int64_t)ua_arena_reserve_pages(ex->arena, (void *)(uintptr_t)ptr,
							 (uint32_t)page_cnt);
}

const struct ua_helper_def ua_helpers_arena[] = {
	{ "bpf_arena_alloc_pages", -1, bpf_arena_alloc_pages },
	{ "bpf_arena_free_pages", -1, bpf_arena_free_pages },
	{ "bpf_arena_reserve_pages", -1, bpf_arena_reserve_pages },
	{ NULL, 0, NULL },
};
