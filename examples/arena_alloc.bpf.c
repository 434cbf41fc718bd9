/* SPDX-License-Identifier: MIT */
/*
 * Example (d): an object allocator built on the page kfuncs (bpf_alloc from
 * bpf_arena_alloc.h). alloc_objs allocates `n_objs` objects of `obj_size`
 * bytes, fills object k with the byte (k & 0xff) and records their user-form
 * addresses in the arena array `objs`; the host checks alignment, disjointness,
 * contents and the per-page object counts. free_objs frees them all (each
 * page goes back to the arena when its count hits 0) and then allocates one
 * page, published in `after_free`, which must be the lowest page used before.
 */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
} arena SEC(".maps");

#include <bpf_experimental.h>
#include <bpf_arena_alloc.h>
#include "arena_alloc.h"

struct alloc_globals g;
__u8 __arena *__arena objs[MAX_OBJS];

SEC("syscall")
int alloc_objs(void *ctx)
{
	int k, b;

	if (g.n_objs > MAX_OBJS)
		return 1;
	g.objs = objs;
	for (k = 0; k < g.n_objs && can_loop; k++) {
		__u8 __arena *o = bpf_alloc(g.obj_size);

		if (!o)
			return 2;
		for (b = 0; b < g.obj_size && can_loop; b++)
			o[b] = k & 0xff;
		objs[k & (MAX_OBJS - 1)] = o;
	}
	return 0;
}

SEC("syscall")
int free_objs(void *ctx)
{
	int k;

	for (k = 0; k < g.n_objs && can_loop; k++) {
		bpf_free(objs[k & (MAX_OBJS - 1)]);
		objs[k & (MAX_OBJS - 1)] = NULL;
	}
	g.after_free = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
