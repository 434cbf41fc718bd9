/* SPDX-License-Identifier: MIT */
/*
 * For the diff engine's fault-injection test (tests/test_kernel_every.c):
 * copies a word from a never-allocated arena page (the kernel's fixup makes
 * it 0) into an allocated page and into .bss, so a broken fault path shows
 * up in an arena page and in a map, not only in the return value. Agrees
 * with the kernel when uarena is not broken.
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

__u64 copied;

SEC("syscall")
int copy_unallocated(void *ctx)
{
	__u64 __arena *dst, *src;

	dst = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!dst)
		return 1;
	src = (__u64 __arena *)((char __arena *)dst + 8 * PAGE_SIZE);
	dst[1] = *(volatile __u64 __arena *)src;
	copied = dst[1];
	return 0;
}

char _license[] SEC("license") = "GPL";
