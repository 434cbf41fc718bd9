// SPDX-License-Identifier: MIT
/* More arena globals than the declared arena holds: -E2BIG. */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

char __arena_global big[8192] = { 1 };

SEC("syscall")
int use(void *ctx)
{
	return big[0];
}

char LICENSE[] SEC("license") = "GPL";
