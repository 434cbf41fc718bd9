// SPDX-License-Identifier: MIT
/* A map type uarena does not implement (LRU hash): a clear -EOPNOTSUPP for
 * the object, and with only_prog, only for the program that uses it. */
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
	int k = 0, *v = bpf_map_lookup_elem(&lru, &k);

	return v ? *v : 0;
}

SEC("syscall")
int other(void *ctx)
{
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
