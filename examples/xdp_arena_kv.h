/* SPDX-License-Identifier: MIT */
/*
 * Example (c)'s shared layout: a table the host fills with plain stores
 * through the arena's user view and an XDP program reads per packet. It is
 * the only arena global, so it sits at offset 0 of the arena (libbpf <= 1.6
 * placement). Open addressing on the IPv4 source address, linear probing.
 */
#ifndef XDP_ARENA_KV_H
#define XDP_ARENA_KV_H

#define KV_SLOTS 256 /* power of two */
#define KV_MAX_PROBE 8

struct kv_entry {
	__u32 saddr;   /* network byte order; 0 = empty slot */
	__u32 verdict; /* XDP_PASS, XDP_DROP, ... */
	__u64 hits;    /* incremented by BPF with an atomic add */
};

struct kv_table {
	__u32 default_verdict;
	__u32 entries_used;
	__u64 misses;
	struct kv_entry slot[KV_SLOTS];
};

static inline __u32 kv_hash(__u32 saddr)
{
	return (saddr * 2654435761u) >> 24; /* top 8 bits of a Fibonacci hash */
}

#endif
