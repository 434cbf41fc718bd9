/* SPDX-License-Identifier: MIT */
/*
 * The kernel selftests' verifier_arena cases (spec §6), rewritten: a 2-page
 * arena whose user range ends exactly at a 4 GiB boundary (lo32 of the last
 * byte is 0xffffffff), so one page past the end wraps lo32 to 0 and one page
 * before the start is a guard. Each program returns 0 when every expectation
 * held, else the number of the first failed check.
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

#define EBUSY 16
#define EINVAL 22

#define ARENA_PAGES 2
#define ARENA_BASE ((1ull << 44) | (0xffffffffull - PAGE_SIZE * ARENA_PAGES + 1))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ARENA_PAGES);
	__ulong(map_extra, ARENA_BASE);
} arena SEC(".maps");

SEC("syscall")
int basic_alloc1(void *ctx)
{
	volatile int __arena *page1, *page2, *no_page, *page3;

	page1 = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page1)
		return 1;
	*page1 = 1;
	page2 = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page2)
		return 2;
	*page2 = 2;
	no_page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (no_page)
		return 3;
	if (*page1 != 1)
		return 4;
	if (*page2 != 2)
		return 5;
	bpf_arena_free_pages(&arena, (void __arena *)page2, 1);
	if (*page1 != 1)
		return 6;
	if (*page2 != 0) /* use after free reads 0 */
		return 7;
	page3 = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page3)
		return 8;
	*page3 = 3;
	if (page2 != page3)
		return 9;
	if (*page1 != 1)
		return 10;
	/* A user-form address: page 0's low 32 bits, and upper bits set (hi32 of
	 * user_vm_start, which a relocated twin of this arena may choose). */
	if ((__u32)(__u64)page1 != (__u32)ARENA_BASE || !((__u64)page1 >> 32))
		return 11;
	return 0;
}

SEC("syscall")
int basic_alloc2(void *ctx)
{
	volatile char __arena *page1, *page2, *page3, *page4;

	page1 = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);
	if (!page1)
		return 1;
	page2 = page1 + PAGE_SIZE;
	page3 = page1 + PAGE_SIZE * 2; /* lo32 wraps to 0: outside the arena */
	page4 = page1 - PAGE_SIZE;     /* below the start: outside */
	*page1 = 1;
	*page2 = 2;
	*page3 = 3;
	*page4 = 4;
	if (*page1 != 1)
		return 1;
	if (*page2 != 2)
		return 2;
	if (*page3 != 0)
		return 3;
	if (*page4 != 0)
		return 4;
	bpf_arena_free_pages(&arena, (void __arena *)page1, 2);
	if (*page1 != 0)
		return 5;
	if (*page2 != 0)
		return 6;
	if (*page3 != 0)
		return 7;
	if (*page4 != 0)
		return 8;
	return 0;
}

SEC("syscall")
int basic_reserve1(void *ctx)
{
	char __arena *page;
	int ret;

	page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page)
		return 1;
	page += PAGE_SIZE;
	ret = bpf_arena_reserve_pages(&arena, page, 1);
	if (ret)
		return 2;
	/* Neither at the reserved address nor anywhere (only 2 pages). */
	if (bpf_arena_alloc_pages(&arena, page, 1, NUMA_NO_NODE, 0))
		return 3;
	if (bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0))
		return 4;
	return 0;
}

SEC("syscall")
int basic_reserve2(void *ctx)
{
	char __arena *page = (char __arena *)ARENA_BASE;
	int ret;

	ret = bpf_arena_reserve_pages(&arena, page, 1);
	if (ret)
		return 1;
	if (bpf_arena_alloc_pages(&arena, page, 1, NUMA_NO_NODE, 0))
		return 2;
	return 0;
}

SEC("syscall")
int reserve_twice(void *ctx)
{
	char __arena *page = (char __arena *)ARENA_BASE;
	int ret;

	ret = bpf_arena_reserve_pages(&arena, page, 1);
	if (ret)
		return 1;
	ret = bpf_arena_reserve_pages(&arena, page, 1);
	if (ret != -EBUSY)
		return 2;
	return 0;
}

SEC("syscall")
int reserve_invalid_region(void *ctx)
{
	char __arena *page = (char __arena *)ARENA_BASE;
	int ret;

	/* NULL is lo32 0: a pgoff far past this arena's end. */
	ret = bpf_arena_reserve_pages(&arena, NULL, 3);
	if (ret != -EINVAL)
		return 1;
	ret = bpf_arena_reserve_pages(&arena, page, 3);
	if (ret != -EINVAL)
		return 2;
	ret = bpf_arena_reserve_pages(&arena, page, 4096);
	if (ret != -EINVAL)
		return 3;
	ret = bpf_arena_reserve_pages(&arena, page, (1ULL << 32) - 1);
	if (ret != -EINVAL)
		return 4;
	return 0;
}

char _license[] SEC("license") = "GPL";
