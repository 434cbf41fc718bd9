/* SPDX-License-Identifier: MIT */
/*
 * A page-fragment allocator inside the arena (the selftests' bpf_alloc /
 * bpf_free model): each CPU bump-allocates downwards inside its current page;
 * the last 8 bytes of every page count the live objects in it, and the page
 * goes back to the arena (bpf_arena_free_pages) when that count drops to 0.
 * Objects are 8-byte aligned and smaller than PAGE_SIZE - 8.
 *
 * Per-CPU state lives in arena globals, so two concurrent runs must never
 * share a CPU id (uarena gives each concurrent run its own). The arena map
 * must be called `arena` unless UA_ARENA_MAP names another one.
 */
#ifndef UA_BPF_ARENA_ALLOC_H
#define UA_BPF_ARENA_ALLOC_H

#include "bpf_arena_common.h"

#ifndef UA_ARENA_MAP
#define UA_ARENA_MAP arena
#endif
#ifndef UA_ARENA_ALLOC_MAX_CPUS
#define UA_ARENA_ALLOC_MAX_CPUS 128
#endif

#ifndef round_up
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#endif

#ifdef __BPF__
static void __arena *__arena page_frag_cur_page[UA_ARENA_ALLOC_MAX_CPUS];
static int __arena page_frag_cur_offset[UA_ARENA_ALLOC_MAX_CPUS];

static inline void __arena *bpf_alloc(unsigned int size)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 __arena *obj_cnt;
	void __arena *page;
	int __arena *cur_offset;
	int offset;

	if (cpu >= UA_ARENA_ALLOC_MAX_CPUS)
		return NULL;
	page = page_frag_cur_page[cpu];
	cur_offset = &page_frag_cur_offset[cpu];
	size = round_up(size, 8);
	if (size >= PAGE_SIZE - 8)
		return NULL;
	if (!page) {
refill:
		page = bpf_arena_alloc_pages(&UA_ARENA_MAP, NULL, 1, NUMA_NO_NODE, 0);
		if (!page)
			return NULL;
		cast_kern(page);
		page_frag_cur_page[cpu] = page;
		*cur_offset = PAGE_SIZE - 8;
		obj_cnt = page + PAGE_SIZE - 8;
		*obj_cnt = 0;
	} else {
		cast_kern(page);
		obj_cnt = page + PAGE_SIZE - 8;
	}

	offset = *cur_offset - size;
	if (offset < 0)
		goto refill;

	(*obj_cnt)++;
	*cur_offset = offset;
	return page + offset;
}

static inline void bpf_free(void __arena *addr)
{
	__u64 __arena *obj_cnt;

	addr = (void __arena *)(((long)addr) & ~(PAGE_SIZE - 1));
	obj_cnt = addr + PAGE_SIZE - 8;
	if (--(*obj_cnt) == 0)
		bpf_arena_free_pages(&UA_ARENA_MAP, addr, 1);
}
#endif

#endif
