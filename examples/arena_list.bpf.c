/* SPDX-License-Identifier: MIT */
/*
 * Example (a): BPF builds a linked list in the arena; the host walks it with
 * plain pointers. arena_list_add pushes `cnt` elements (value = 0..cnt-1)
 * allocated with the page-fragment allocator, keeping arena_sum and test_val
 * in arena globals; arena_list_del walks, sums and frees them all. Elements
 * store user-form pointers (clang emits cast_user), so `list_head` in .bss is
 * a valid host pointer into the arena's user view.
 */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 100);
} arena SEC(".maps");

#include <bpf_arena_alloc.h>
#include <bpf_arena_list.h>

struct elem {
	struct arena_list_node node;
	__u64 value;
};

struct arena_list_head __arena *list_head; /* .bss: where the host starts walking */
int list_sum;                              /* .bss: sum seen by arena_list_del */
int cnt;                                   /* .bss: set by the host before add */

long __arena arena_sum;
int __arena test_val = 1;
struct arena_list_head __arena global_head;

SEC("syscall")
int arena_list_add(void *ctx)
{
	__u64 i;

	list_head = &global_head;
	for (i = 0; i < (__u64)cnt && can_loop; i++) {
		struct elem __arena *n = bpf_alloc(sizeof(*n));

		if (!n)
			return 1;
		test_val++;
		n->value = i;
		arena_sum += i;
		list_add_head(&n->node, list_head);
	}
	return 0;
}

SEC("syscall")
int arena_list_del(void *ctx)
{
	struct elem __arena *n;
	int sum = 0;

	list_for_each_entry(n, list_head, node) {
		sum += n->value;
		arena_sum -= n->value;
		list_del(&n->node);
		bpf_free(n);
	}
	list_sum = sum;
	return 0;
}

char _license[] SEC("license") = "GPL";
