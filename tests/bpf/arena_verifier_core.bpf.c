/* SPDX-License-Identifier: MIT */
/*
 * verifier_arena's basic_alloc3: the page count comes from the arena map
 * itself, read through CO-RE (struct bpf_map.max_entries on &arena), and
 * allocating the whole arena must succeed. Separate object so a loader
 * without CO-RE-on-maps support does not block the other arena tests.
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
