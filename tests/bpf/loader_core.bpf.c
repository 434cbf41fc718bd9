// SPDX-License-Identifier: MIT
/* CO-RE field offsets: on a local struct (resolved to its own layout) and on
 * struct bpf_map, whose layout is uarena's (max_entries read from a map). */
#include <bpf_helpers.h>

struct pair {
	int a;
	long b;
	char c[3];
	int d;
} __attribute__((preserve_access_index));

struct bpf_map {
	unsigned int max_entries;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 37);
} arr SEC(".maps");

SEC("syscall")
int offsets(void *ctx)
{
	/* b at 8, d at 20 */
	return __builtin_preserve_field_info(((struct pair *)0)->b, 0) * 100 +
	       __builtin_preserve_field_info(((struct pair *)0)->d, 0);
}

SEC("syscall")
int map_max_entries(void *ctx)
{
	struct bpf_map *m = (struct bpf_map *)&arr;

	return m->max_entries;
}

char LICENSE[] SEC("license") = "GPL";
