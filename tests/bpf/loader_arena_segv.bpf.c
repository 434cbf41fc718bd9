// SPDX-License-Identifier: MIT
/*
 * Arena globals in an arena whose user view faults with SIGSEGV instead of
 * allocating (BPF_F_SEGV_ON_FAULT): the loader must place the initial image
 * without faulting (libbpf's plain copy would crash its process here).
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT);
	__uint(max_entries, 4);
} arena SEC(".maps");

int __arena_global initialised = 41;

SEC("syscall")
int bump(void *ctx)
{
	return ++initialised;
}

char LICENSE[] SEC("license") = "GPL";
