// SPDX-License-Identifier: MIT
/* Two ARENA maps in one object: libbpf refuses, so does uarena. */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena2 SEC(".maps");

SEC("syscall")
int use(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
