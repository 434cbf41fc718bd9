// SPDX-License-Identifier: MIT
/* A map type uarena does not implement (LRU hash): a clear -EOPNOTSUPP. */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, int);
	__type(value, int);
	__uint(max_entries, 8);
} lru SEC(".maps");

SEC("syscall")
int use(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
