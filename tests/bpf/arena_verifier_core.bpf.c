/* SPDX-License-Identifier: MIT */
/*
 * verifier_arena's basic_alloc3: the page count comes from the arena map
 * itself, read through CO-RE (struct bpf_map.max_entries on &arena), and
 * allocating the whole arena must succeed; arena_base() reads user_vm_start
 * the same way. Separate object so a loader without CO-RE-on-maps support
 * does not block the other arena tests.
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 10);
} arena SEC(".maps");

SEC("syscall")
int basic_alloc3(void *ctx)
{
	struct bpf_map *map = (struct bpf_map *)&arena;
	volatile char __arena *pages;

	pages = bpf_arena_alloc_pages(map, NULL, map->max_entries, NUMA_NO_NODE, 0);
	if (!pages)
		return 1;
	return 0;
}

char _license[] SEC("license") = "GPL";

/* arena_base() (CO-RE read of user_vm_start) is where page 0 lives. */
SEC("syscall")
int arena_base_is_page0(void *ctx)
{
	void __arena *base = arena_base(&arena);
	void __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!p)
		return 1;
	if (p != base)
		return 2;
	/* basic_reserve2 as the selftest writes it. */
	bpf_arena_free_pages(&arena, p, 1);
	if (bpf_arena_reserve_pages(&arena, base, 1))
		return 3;
	if (bpf_arena_alloc_pages(&arena, base, 1, NUMA_NO_NODE, 0))
		return 4;
	return 0;
}
