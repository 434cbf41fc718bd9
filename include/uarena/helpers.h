/* SPDX-License-Identifier: MIT */
/*
 * uarena public API: helpers and kfuncs supplied by the embedder.
 *
 * A BPF program calls helpers by kernel id (`call 6`) and kfuncs by name
 * (`extern ... __ksym`). uarena has built-ins for what arena programs use
 * (map and ring-buffer helpers, bpf_printk, arena page kfuncs, numeric
 * iterators, ...). An embedder adds its own in a helper set, which is handed
 * to the objects that should see them (not process-global: two embedders in
 * one process cannot collide). Entries in a set win over built-ins with the
 * same id or name.
 *
 * A helper receives the running invocation and r1..r5 and returns r0, the
 * BPF calling convention. Pointer arguments are raw program values: arena
 * pointers have their upper 32 bits cleared (cast_kern form) — see
 * ua_exec_arena() — everything else is a host address.
 */
#ifndef UARENA_HELPERS_H
#define UARENA_HELPERS_H

#include <stdint.h>

#include <uarena/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ua_exec;
struct ua_arena;
struct ua_helpers;

typedef uint64_t (*ua_helper_fn)(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				 uint64_t r4, uint64_t r5);

/* An empty set. -ENOMEM. */
UA_API int ua_helpers_new(struct ua_helpers **out);
/* Frees the set; objects using it must be closed first. NULL is a no-op. */
UA_API void ua_helpers_free(struct ua_helpers *set);
/*
 * Adds helper `id` (> 0, the imm of `call id`) named `name` (for messages and
 * disassembly, < 64 bytes). -EINVAL: bad arguments; -EEXIST: id or name
 * already in this set; -ENOMEM. Not thread-safe against running programs:
 * register before opening the objects that use the set.
 */
UA_API int ua_helpers_register(struct ua_helpers *set, int32_t id, const char *name,
			       ua_helper_fn fn);
/* Adds kfunc `name` (matched against `__ksym` externs). Errors as above. */
UA_API int ua_helpers_register_kfunc(struct ua_helpers *set, const char *name, ua_helper_fn fn);

/* Inside a helper: the CPU id of this invocation (bpf_get_smp_processor_id()). */
UA_API uint32_t ua_exec_cpu(const struct ua_exec *ex);
/* Inside a helper: the program's arena, or NULL. */
UA_API struct ua_arena *ua_exec_arena(const struct ua_exec *ex);

#ifdef __cplusplus
}
#endif
#endif
