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

struct flags {
	unsigned int a : 3;
	int b : 5;       /* signed, bits 3..7 */
	unsigned int c : 20;
	unsigned long long d;
} __attribute__((preserve_access_index));

enum colour { RED = 3, GREEN = -7 };

/* Bitfield relocations as bpf_core_read_bitfield uses them, and enum values. */
SEC("syscall")
int bitfields(void *ctx)
{
	/* b: byte_off 0, byte_sz 4, signed, lshift 64-(3+5), rshift 64-5 */
	long r = __builtin_preserve_field_info(((struct flags *)0)->b, 0);      /* 0 */
	r = r * 10 + __builtin_preserve_field_info(((struct flags *)0)->b, 1);  /* 4 */
	r = r * 10 + __builtin_preserve_field_info(((struct flags *)0)->b, 3);  /* 1 */
	r = r * 100 + __builtin_preserve_field_info(((struct flags *)0)->b, 4); /* 56 */
	r = r * 100 + __builtin_preserve_field_info(((struct flags *)0)->b, 5); /* 59 */
	r = r * 10 + __builtin_preserve_field_info(((struct flags *)0)->c, 3);  /* 0 */
	return (int)r;
}

SEC("syscall")
int enumvals(void *ctx)
{
	return __builtin_preserve_enum_value(*(enum colour *)GREEN, 1) * 100 +
	       __builtin_preserve_enum_value(*(enum colour *)RED, 0) * 10 +
	       __builtin_preserve_enum_value(*(enum colour *)RED, 1);
}
