// SPDX-License-Identifier: MIT
/* BTF-defined maps of every supported kind, with key/value given as types
 * or sizes, flags, and map_extra; plus a program that uses one map. */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} hmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 12);
	__uint(max_entries, 3);
	__uint(map_flags, BPF_F_MMAPABLE);
} amap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

/* numa_node is accepted (placement is not modelled); pinning is ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_NUMA_NODE);
	__uint(numa_node, 0);
	__uint(pinning, 1); /* LIBBPF_PIN_BY_NAME */
} pinned SEC(".maps");

SEC("syscall")
int uses_hash(void *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&hmap, &k);

	return v ? (int)*v : -1;
}

/* Per-CPU slot of the running CPU, and a ring buffer record. */
SEC("syscall")
int percpu_and_ringbuf(void *ctx)
{
	__u32 k = 1, cpu = bpf_get_smp_processor_id();
	__u32 *slot = bpf_map_lookup_elem(&pcpu, &k);
	__u64 rec = 0xabcd0000 + cpu;

	if (!slot)
		return -1;
	*slot += 100 + cpu;
	if (bpf_ringbuf_output(&rb, &rec, sizeof(rec), 0))
		return -2;
	return cpu;
}

/* Counts runs per CPU id in the hash map, atomically on the map value. */
SEC("syscall")
int count_per_cpu(void *ctx)
{
	__u32 k = bpf_get_smp_processor_id();
	__u64 *v = bpf_map_lookup_elem(&hmap, &k);

	if (!v) {
		__u64 one = 1;

		return bpf_map_update_elem(&hmap, &k, &one, BPF_NOEXIST);
	}
	__sync_fetch_and_add(v, 1);
	return 0;
}

/* Uses the maps without helpers: loads even without the helper registry. */
SEC("syscall")
int no_helpers(void *ctx)
{
	return 5;
}

char LICENSE[] SEC("license") = "GPL";
