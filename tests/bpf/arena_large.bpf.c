/* SPDX-License-Identifier: MIT */
/*
 * verifier_arena_large cases (spec §6) on a 4 GiB arena (1<<20 pages, no
 * map_extra). The arena global `page` array occupies page 0 (globals at
 * offset 0, faulted in by the loader), so the first anonymous alloc is page 1.
 * Return 0 = all checks held, else the failed step.
 */
#include <bpf_helpers.h>
#include <bpf_experimental.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1u << 20);
} arena SEC(".maps");

#define PAGE_CNT 100
__u8 __arena *__arena page[PAGE_CNT];
__u8 __arena *base;

SEC("syscall")
int big_alloc1(void *ctx)
{
	volatile char __arena *page1, *page2, *no_page, *page3;
	void __arena *first;

	first = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!first)
		return 1;
	/* lo32 of the last page: 4 GiB - PAGE_SIZE relative to a 4 GiB-aligned base. */
	page1 = (void __arena *)(((__u64)first & ~0xffffffffull) | (0x100000000ull - PAGE_SIZE));
	page1 = bpf_arena_alloc_pages(&arena, (void __arena *)page1, 1, NUMA_NO_NODE, 0);
	if (!page1)
		return 2;
	*page1 = 1;
	page2 = page1 + PAGE_SIZE; /* lo32 wraps to 0: the globals' page */
	if (bpf_arena_alloc_pages(&arena, (void __arena *)page2, 1, NUMA_NO_NODE, 0))
		return 3;
	no_page = page1 - PAGE_SIZE;
	if (*no_page != 0)
		return 4;
	bpf_arena_free_pages(&arena, (void __arena *)page1, 1);
	if (*page1 != 0) /* use after free reads 0 */
		return 5;
	page3 = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page3)
		return 6;
	if ((__u64)page3 != (__u64)first + PAGE_SIZE) /* lowest free page */
		return 7;
	return 0;
}

SEC("syscall")
int access_reserved(void *ctx)
{
	volatile char __arena *p;
	void __arena *first;

	first = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!first)
		return 1;
	p = (char __arena *)first + 16384ull * PAGE_SIZE;
	if (bpf_arena_reserve_pages(&arena, (void __arena *)p, 4))
		return 2;
	*p = 0x55; /* a store to a reserved page is dropped */
	if (*p != 0)
		return 3;
	if (*(p + 3 * PAGE_SIZE + 17) != 0)
		return 4;
	return 0;
}

SEC("syscall")
int request_partially_reserved(void *ctx)
{
	char __arena *p;
	void __arena *first;

	first = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!first)
		return 1;
	p = (char __arena *)first + 4096ull * PAGE_SIZE;
	if (bpf_arena_reserve_pages(&arena, p + 3 * PAGE_SIZE, 4))
		return 2;
	if (bpf_arena_alloc_pages(&arena, p, 5, NUMA_NO_NODE, 0))
		return 3;
	/* The free pages below the reservation are still allocatable. */
	if (!bpf_arena_alloc_pages(&arena, p, 3, NUMA_NO_NODE, 0))
		return 4;
	return 0;
}

SEC("syscall")
int free_reserved(void *ctx)
{
	char __arena *p, *q;
	void __arena *first;

	first = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!first)
		return 1;
	p = (char __arena *)first + 32768ull * PAGE_SIZE;
	q = bpf_arena_alloc_pages(&arena, p, 2, NUMA_NO_NODE, 0);
	if (!q)
		return 2;
	if (bpf_arena_reserve_pages(&arena, p + 2 * PAGE_SIZE, 2))
		return 3;
	/* Frees one allocated and one reserved page: both become free. */
	bpf_arena_free_pages(&arena, p + PAGE_SIZE, 2);
	if (!bpf_arena_alloc_pages(&arena, p + PAGE_SIZE, 2, NUMA_NO_NODE, 0))
		return 4;
	return 0;
}

/* Allocates page_cnt runs; first pass: sequential; later: only even gaps below max_idx. */
static __noinline int alloc_pages(int page_cnt, int pages_atonce, bool first_pass, int max_idx,
				  int step)
{
	__u8 __arena *pg;
	int i, pg_idx;

	for (i = 0; i < page_cnt; i++) {
		pg = bpf_arena_alloc_pages(&arena, NULL, pages_atonce, NUMA_NO_NODE, 0);
		if (!pg)
			return step;
		pg_idx = (unsigned long)(pg - base) / PAGE_SIZE;
		if (first_pass) {
			if (pg_idx != i)
				return step + 100;
		} else {
			if (pg_idx >= max_idx || (pg_idx & 1))
				return step + 200;
		}
		*pg = pg_idx;
		page[pg_idx] = pg;
		cond_break;
	}
	return 0;
}

SEC("syscall")
int big_alloc2(void *ctx)
{
	__u8 __arena *pg;
	int i, err;

	base = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!base)
		return 1;
	bpf_arena_free_pages(&arena, (void __arena *)base, 1);

	err = alloc_pages(PAGE_CNT, 1, true, PAGE_CNT, 2);
	if (err)
		return err;
	for (i = 0; i < PAGE_CNT; i += 2) {
		pg = page[i];
		if (*pg != i)
			return 3;
		bpf_arena_free_pages(&arena, (void __arena *)pg, 1);
		page[i] = NULL;
		barrier();
		cond_break;
	}
	err = alloc_pages(PAGE_CNT / 2, 1, false, PAGE_CNT, 4);
	if (err)
		return err;
	for (i = 0; i < PAGE_CNT; i += 4) {
		pg = page[i];
		if (*pg != i)
			return 5;
		bpf_arena_free_pages(&arena, (void __arena *)pg, 2);
		page[i] = NULL;
		barrier();
		cond_break;
	}
	err = alloc_pages(PAGE_CNT / 4, 2, false, PAGE_CNT, 6);
	if (err)
		return err;
	for (i = 0; i < PAGE_CNT; i += 2) {
		pg = page[i];
		if (*pg != i)
			return 7;
		cond_break;
	}
	pg = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!pg)
		return 8;
	if ((pg - base) / PAGE_SIZE < PAGE_CNT)
		return 9;
	return 0;
}

char _license[] SEC("license") = "GPL";
