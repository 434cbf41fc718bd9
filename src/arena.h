/* SPDX-License-Identifier: MIT */
/*
 * Arena internals other modules use (owner: arena module). The public part
 * (create/attach/destroy, alloc/free/reserve with kfunc semantics, casts) is
 * in include/uarena/arena.h.
 *
 * Program view: a reservation of 4 GiB + guard; the host address of a BPF
 * arena access is prog_base + (u32)ptr + (s16)off — always inside the
 * reservation, so it can be handed to ua_probe_*() as is.
 */
#ifndef UA_ARENA_INTERNAL_H
#define UA_ARENA_INTERNAL_H

#include <stdint.h>

#include <uarena/arena.h>

/* kern_vm_start: base of the program view. */
uint8_t *ua_arena_prog_base(const struct ua_arena *a);

/* Host address for a program arena access: prog_base + lo32(ptr) + off. */
static inline void *ua_arena_prog_addr(uint8_t *prog_base, uint64_t ptr, int16_t off)
{
	return prog_base + (uint32_t)ptr + (int64_t)off;
}

/*
 * Test hook: takes the arena's shared lock and marks the allocator as being
 * modified, then returns without releasing it, so a test process can exit
 * "mid-operation" and the next locker exercises the EOWNERDEAD recovery.
 */
void ua_arena_debug_lock(struct ua_arena *a);

#endif
