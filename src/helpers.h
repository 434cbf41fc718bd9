/* SPDX-License-Identifier: MIT */
/*
 * Helper and kfunc registry (owner: progs module). Helpers are found by
 * their kernel id (call imm, src_reg 0), kfuncs by name (the loader resolves
 * `__ksym` externs by name and rewrites the call to a registry index).
 * Embedders add their own through the public API; the built-in table covers
 * what real arena programs call.
 */
#ifndef UA_HELPERS_H
#define UA_HELPERS_H

#include <stdint.h>

#include "exec.h"

struct ua_helper_def {
	const char *name;   /* "bpf_map_lookup_elem", "bpf_arena_alloc_pages" */
	int32_t id;         /* kernel helper id; -1 for kfuncs */
	ua_helper_fn fn;
};

const struct ua_helper_def *ua_helper_by_id(int32_t id);
const struct ua_helper_def *ua_kfunc_by_name(const char *name);

#endif
