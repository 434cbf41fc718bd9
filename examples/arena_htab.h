/* SPDX-License-Identifier: MIT */
/* Example (b)'s .bss layout, shared by the BPF program and the host. */
#ifndef EXAMPLE_ARENA_HTAB_H
#define EXAMPLE_ARENA_HTAB_H

#include "../bpf/include/bpf_arena_htab.h"

#define N_KEYS 1000

struct htab_globals {
	htab_t *htab;      /* user-form pointer to the table, published last */
	int lookup_errors; /* BPF-side lookups that disagreed */
};

#endif
