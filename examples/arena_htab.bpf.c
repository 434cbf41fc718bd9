/* SPDX-License-Identifier: MIT */
/*
 * Example (b): BPF builds a hash table in the arena, the host queries it
 * through the user view with the same definitions (bpf_arena_htab.h).
 * Keys 0..N_KEYS-1 are inserted with value = key, then all replaced with
 * value = 2*key + 1 (the old elements are unlinked and freed), so the host
 * can tell a replaced entry from a stale one.
 */
#include <bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 100);
} arena SEC(".maps");

#include <bpf_experimental.h>
#include <bpf_arena_htab.h>
#include "arena_htab.h"

struct htab_globals g;
struct htab __arena htab;

SEC("syscall")
int arena_htab_build(void *ctx)
{
	int i;

	if (htab_init(&htab))
		return 1;
	bpf_for(i, 0, N_KEYS) {
		if (htab_update_elem(&htab, i, i))
			return 2;
	}
	bpf_for(i, 0, N_KEYS) {
		if (htab_update_elem(&htab, i, 2 * i + 1))
			return 3;
	}
	bpf_for(i, 0, N_KEYS) {
		if (htab_lookup_elem(&htab, i) != 2 * i + 1)
			g.lookup_errors++;
	}
	g.htab = &htab;
	return 0;
}

char _license[] SEC("license") = "GPL";
