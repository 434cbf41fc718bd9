/* SPDX-License-Identifier: MIT */
/*
 * Example (a): BPF builds a linked list in the arena; the host walks it with
 * plain pointers. arena_list_add pushes `cnt` elements (value = 0..cnt-1)
 * allocated with the page-fragment allocator and keeps running stats in the
 * arena; arena_list_del walks, sums and frees them all. Elements store
 * user-form pointers (clang emits cast_user), so what BPF publishes in .bss
 * are valid host pointers into the arena's user view.
 */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 100);
} arena SEC(".maps");

#include <bpf_experimental.h>
#include <bpf_arena_alloc.h>
#include "arena_list.h"

struct list_globals g;

struct list_stats __arena stats = { .test_val = 1 };
struct arena_list_head __arena global_head;

SEC("syscall")
int arena_list_add(void *ctx)
{
	__u64 i;

	g.list_head = &global_head;
	g.stats = &stats;
	for (i = 0; i < (__u64)g.cnt && can_loop; i++) {
		struct elem __arena *n = bpf_alloc(sizeof(*n));

		if (!n)
			return 1;
		stats.test_val++;
		n->value = i;
		stats.arena_sum += i;
		list_add_head(&n->node, g.list_head);
	}
	return 0;
}

SEC("syscall")
int arena_list_del(void *ctx)
{
	struct elem __arena *n;
	int sum = 0;

	list_for_each_entry(n, g.list_head, node) {
		sum += n->value;
		stats.arena_sum -= n->value;
		list_del(&n->node);
		bpf_free(n);
	}
	g.list_sum = sum;
	return 0;
}

char _license[] SEC("license") = "GPL";
