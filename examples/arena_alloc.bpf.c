/* SPDX-License-Identifier: MIT */
/*
 * Example (d): an object allocator built on the page kfuncs (bpf_alloc from
 * bpf_arena_alloc.h). alloc_objs allocates `n_objs` objects of `obj_size`
 * bytes, fills object k with the byte (k & 0xff) and records their user-form
 * addresses in the arena array `objs`; the host checks alignment, disjointness,
 * contents and the per-page object counts. free_objs frees them all (each
 * page goes back to the arena when its count hits 0) and then allocates one
 * page, returned in `after_free`, which must be the lowest page used before.
 */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
} arena SEC(".maps");

#include <bpf_experimental.h>
#include <bpf_arena_alloc.h>

#define MAX_OBJS 512

int n_objs;                     /* .bss, set by the host */
int obj_size;                   /* .bss, set by the host */
void __arena *after_free;       /* .bss, result of free_objs */
__u8 __arena *__arena objs[MAX_OBJS];

SEC("syscall")
int alloc_objs(void *ctx)
{
	int k, b;

	if (n_objs > MAX_OBJS)
		return 1;
	for (k = 0; k < n_objs && can_loop; k++) {
		__u8 __arena *o = bpf_alloc(obj_size);

		if (!o)
			return 2;
		for (b = 0; b < obj_size && can_loop; b++)
			o[b] = k & 0xff;
		objs[k & (MAX_OBJS - 1)] = o;
	}
	return 0;
}

SEC("syscall")
int free_objs(void *ctx)
{
	int k;

	for (k = 0; k < n_objs && can_loop; k++) {
		bpf_free(objs[k & (MAX_OBJS - 1)]);
		objs[k & (MAX_OBJS - 1)] = NULL;
	}
	after_free = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
