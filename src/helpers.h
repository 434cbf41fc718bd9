/* SPDX-License-Identifier: MIT */
/*
 * Helper and kfunc registry (owner: progs module). Helpers are found by
 * their kernel id (call imm, src_reg 0), kfuncs by name (the loader resolves
 * `__ksym` externs by name and rewrites the call to a registry index).
 * Embedders add their own through the public API (include/uarena/helpers.h)
 * in a struct ua_helpers set; the *_in() lookups consult that set first, then
 * the built-in table that covers what real arena programs call.
 */
#ifndef UA_HELPERS_H
#define UA_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include <uarena/helpers.h>

#include "exec.h"

struct ua_helper_def {
	const char *name;   /* "bpf_map_lookup_elem", "bpf_arena_alloc_pages" */
	int32_t id;         /* kernel helper id; -1 for kfuncs */
	ua_helper_fn fn;
};

/* Built-ins only. */
const struct ua_helper_def *ua_helper_by_id(int32_t id);
const struct ua_helper_def *ua_kfunc_by_name(const char *name);
/* set (may be NULL) first, then built-ins. */
const struct ua_helper_def *ua_helper_by_id_in(const struct ua_helpers *set, int32_t id);
const struct ua_helper_def *ua_kfunc_by_name_in(const struct ua_helpers *set, const char *name);

/* Kernel limits the helpers enforce. */
#define UA_BPF_MAX_LOOPS (8 * 1024 * 1024) /* bpf_iter_num range, bpf_loop count */
#define UA_TRACE_PRINTK_SIZE 1024          /* bpf_trace_printk output buffer */

/* Built-in tables, one per helpers_*.c file (NULL name ends each). */
extern const struct ua_helper_def ua_helpers_core[];
extern const struct ua_helper_def ua_helpers_printk[];
extern const struct ua_helper_def ua_helpers_map[];
extern const struct ua_helper_def ua_helpers_arena[];

/*
 * Pointer-argument checks shared by the helper files. An address whose upper
 * 32 bits are zero in a program with an arena is an arena pointer; anything
 * else must lie in the run stack or ex->regions (writable for writes), as the
 * interpreter requires for loads and stores — unless bounds checks are off.
 */
bool ua_helper_is_arena_ptr(const struct ua_exec *ex, uint64_t addr);
bool ua_helper_mem_ok(const struct ua_exec *ex, uint64_t addr, uint64_t size, bool write);
/*
 * A map argument (r1 of the map and ring-buffer helpers) is what an ld_imm64
 * BPF_PSEUDO_MAP_FD produced, which the kernel verifier guarantees. Without a
 * verifier a program can pass anything, so a checked run accepts only the
 * start of a read-only map-struct region the loader registered.
 */
bool ua_helper_map_ok(const struct ua_exec *ex, uint64_t map);
/*
 * Copies size bytes from a program pointer: arena memory through the probe
 * path, host memory only when ua_helper_mem_ok(). Returns 0 or -EFAULT with
 * dst zeroed (bpf_probe_read_kernel semantics).
 */
int ua_helper_copy_in(const struct ua_exec *ex, void *dst, uint64_t src, uint64_t size);
/*
 * Copies a NUL-terminated string of at most size bytes (including the NUL).
 * Returns the length with the NUL, or -EFAULT with dst zeroed (size bytes).
 */
long ua_helper_copy_str(const struct ua_exec *ex, char *dst, uint64_t src, uint64_t size);

/* bpf_trace_printk's formatter, exposed for tests: kernel format subset. */
int ua_helper_format_printk(const struct ua_exec *ex, char *out, size_t out_sz, const char *fmt,
			    uint32_t fmt_size, const uint64_t args[3]);

#endif
