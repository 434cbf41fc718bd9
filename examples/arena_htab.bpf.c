/* SPDX-License-Identifier: MIT */
/*
 * Example (b): BPF builds a hash table in the arena, the host queries it
 * through the user view with the same definitions (bpf_arena_htab.h).
 * Keys 0..N_KEYS-1 are inserted with value = key, then all replaced with
 * value = 2*key + 1 (the old elements are unlinked and freed), so the host
 * can tell a replaced entry from a stale one. The table itself comes from
 * bpf_alloc, so the same source also builds with BPF_ARENA_FORCE_ASM
 * (arena_htab_asm.bpf.c: explicit cast_kern/cast_user instructions instead
 * of clang's address-space casts).
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

SEC("syscall")
int arena_htab_build(void *ctx)
{
	htab_t *htab = bpf_alloc(sizeof(*htab));
	int i;

	if (!htab)
		return 1;
	cast_kern(htab);
	if (htab_init(htab))
		return 1;
	bpf_for(i, 0, N_KEYS) {
		if (htab_update_elem(htab, i, i))
			return 2;
	}
	bpf_for(i, 0, N_KEYS) {
		if (htab_update_elem(htab, i, 2 * i + 1))
			return 3;
	}
	bpf_for(i, 0, N_KEYS) {
		if (htab_lookup_elem(htab, i) != 2 * i + 1)
			g.lookup_errors++;
	}
	cast_user(htab);
	g.htab = htab;
	return 0;
}

char _license[] SEC("license") = "GPL";
