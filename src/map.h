/* SPDX-License-Identifier: MIT */
/*
 * Map core (owner: loader module). Every map type is one file exporting one
 * ops table (the kernel's arena.c pattern); struct ua_map is what an
 * ld_imm64 BPF_PSEUDO_MAP_FD resolves to (a host pointer) and what helpers
 * receive in r1. Errors mirror the kernel's map syscalls exactly.
 */
#ifndef UA_MAP_H
#define UA_MAP_H

#include <stdint.h>

struct ua_map;
struct ua_exec;

struct ua_map_ops {
	/* Returns a pointer to the value (for the current CPU's slot in per-CPU maps) or NULL. */
	void *(*lookup)(struct ua_map *m, const void *key, uint32_t cpu);
	int (*update)(struct ua_map *m, const void *key, const void *value, uint64_t flags,
		      uint32_t cpu);
	int (*delete)(struct ua_map *m, const void *key);
	int (*get_next_key)(struct ua_map *m, const void *key, void *next_key);
};

#endif
