/* SPDX-License-Identifier: MIT */
/*
 * Example (c): an XDP program consults a key/value table that the *host*
 * filled in the arena. Ethernet + IPv4 packets are looked up by source
 * address: a hit returns the entry's verdict and bumps its hit counter, a
 * miss returns the table's default verdict; non-IPv4 frames pass, frames too
 * short for their headers are dropped. No kfuncs: XDP programs may not
 * allocate, the host owns the table.
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

#include "xdp_arena_kv.h"

struct kv_table __arena table;

#define ETH_HLEN 14
#define ETH_P_IP 0x0800

SEC("xdp")
int xdp_kv_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u32 saddr, h, i;
	__u16 proto;

	if (data + ETH_HLEN + 20 > data_end) {
		if (data + ETH_HLEN <= data_end &&
		    ((eth[12] << 8) | eth[13]) != ETH_P_IP)
			return XDP_PASS;
		return XDP_DROP;
	}
	proto = (eth[12] << 8) | eth[13];
	if (proto != ETH_P_IP)
		return XDP_PASS;
	__builtin_memcpy(&saddr, eth + ETH_HLEN + 12, 4);

	h = kv_hash(saddr);
	for (i = 0; i < KV_MAX_PROBE; i++) {
		struct kv_entry __arena *e = &table.slot[(h + i) & (KV_SLOTS - 1)];

		if (e->saddr == saddr) {
			__sync_fetch_and_add(&e->hits, 1);
			return e->verdict;
		}
		if (e->saddr == 0)
			break;
	}
	__sync_fetch_and_add(&table.misses, 1);
	return table.default_verdict;
}

char _license[] SEC("license") = "GPL";
