/* SPDX-License-Identifier: MIT */
/*
 * The helper/kfunc registry and the pointer checks every helper shares.
 *
 * Lookup order: the embedder's set (struct ua_helpers, owned by whoever
 * opens objects with it — never process-global), then the built-in tables
 * (helpers_core.c, helpers_map.c, helpers_arena.c). A set is a plain array
 * searched linearly: it holds a handful of entries and lookups happen once
 * per call site at load time, never per executed call.
 *
 * Pointer model for helper arguments (mirrors the interpreter's): in a
 * program with an arena, a value with upper 32 bits zero is an arena pointer
 * (cast_kern form) and is read through the fault-tolerant probe path; any
 * other value is a host address that must lie in the run stack or a region
 * the loader registered (ctx, packet, map values, global data).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "helpers.h"
#include "internal.h"
#include "map.h"
#include "probe.h"

#define UA_HELPER_NAME_MAX 64

struct ua_helpers {
	struct ua_helper_def *defs;
	size_t n, cap;
};

static const struct ua_helper_def *const builtin_tables[] = {
	ua_helpers_core,
	ua_helpers_printk,
	ua_helpers_map,
	ua_helpers_arena,
};

const struct ua_helper_def *ua_helper_by_id(int32_t id)
{
	if (id <= 0)
		return NULL;
	for (size_t t = 0; t < ARRAY_SIZE(builtin_tables); t++)
		for (const struct ua_helper_def *d = builtin_tables[t]; d->name; d++)
			if (d->id == id)
				return d;
	return NULL;
}

const struct ua_helper_def *ua_kfunc_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t t = 0; t < ARRAY_SIZE(builtin_tables); t++)
		for (const struct ua_helper_def *d = builtin_tables[t]; d->name; d++)
			if (d->id < 0 && !strcmp(d->name, name))
				return d;
	return NULL;
}

const struct ua_helper_def *ua_helper_by_id_in(const struct ua_helpers *set, int32_t id)
{
	if (set)
		for (size_t i = 0; i < set->n; i++)
			if (set->defs[i].id == id)
				return &set->defs[i];
	return ua_helper_by_id(id);
}

const struct ua_helper_def *ua_kfunc_by_name_in(const struct ua_helpers *set, const char *name)
{
	if (set && name)
		for (size_t i = 0; i < set->n; i++)
			if (set->defs[i].id < 0 && !strcmp(set->defs[i].name, name))
				return &set->defs[i];
	return ua_kfunc_by_name(name);
}

int ua_helpers_new(struct ua_helpers **out)
{
	struct ua_helpers *set;

	if (!out)
		return -EINVAL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	*out = set;
	return 0;
}

void ua_helpers_free(struct ua_helpers *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		free((char *)set->defs[i].name);
	free(set->defs);
	free(set);
}

static int helpers_add(struct ua_helpers *set, int32_t id, const char *name, ua_helper_fn fn)
{
	struct ua_helper_def *defs;
	char *copy;

	if (!set || !name || !fn || !name[0] || strlen(name) >= UA_HELPER_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < set->n; i++) {
		if ((id > 0 && set->defs[i].id == id) || !strcmp(set->defs[i].name, name))
			return -EEXIST;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;

		defs = realloc(set->defs, cap * sizeof(*defs));
		if (!defs)
			return -ENOMEM;
		set->defs = defs;
		set->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	set->defs[set->n++] = (struct ua_helper_def){ .name = copy, .id = id, .fn = fn };
	return 0;
}

int ua_helpers_register(struct ua_helpers *set, int32_t id, const char *name, ua_helper_fn fn)
{
	if (id <= 0)
		return -EINVAL;
	return helpers_add(set, id, name, fn);
}

int ua_helpers_register_kfunc(struct ua_helpers *set, const char *name, ua_helper_fn fn)
{
	return helpers_add(set, -1, name, fn);
}

uint32_t ua_exec_cpu(const struct ua_exec *ex)
{
	return ex ? ex->cpu : 0;
}

struct ua_arena *ua_exec_arena(const struct ua_exec *ex)
{
	return ex ? ex->arena : NULL;
}

bool ua_helper_is_arena_ptr(const struct ua_exec *ex, uint64_t addr)
{
	return ex->arena && ex->arena_base && (addr >> 32) == 0;
}

bool ua_helper_mem_ok(const struct ua_exec *ex, uint64_t addr, uint64_t size, bool write)
{
	if (size == 0)
		return true;
	if (addr + size < addr)
		return false;
	if (ex->stack_hi && addr >= ex->stack_lo && addr + size <= ex->stack_hi)
		return true;
	for (size_t i = 0; ex->regions && i < ex->n_regions; i++) {
		const struct ua_mem_region *r = &ex->regions[i];

		if (addr >= r->start && addr < r->end && r->end - addr >= size)
			return !write || r->writable;
	}
	/*
	 * Unchecked runs trust the program like the interpreter does; so does a
	 * run whose stack range is unknown, since stack pointers are then
	 * indistinguishable from stray ones.
	 */
	return !ex->bounds_check || (!ex->stack_hi && addr >> 32);
}

bool ua_helper_map_ok(const struct ua_exec *ex, uint64_t map)
{
	if (!map)
		return false;
	if (!ex->bounds_check)
		return true;
	for (size_t i = 0; ex->regions && i < ex->n_regions; i++) {
		const struct ua_mem_region *r = &ex->regions[i];
		uintptr_t sz = r->end - r->start;

		if (r->start == map && !r->writable &&
		    (sz == sizeof(struct ua_map) || sz == sizeof(struct ua_arena_map)))
			return true;
	}
	return false;
}

/* The arena's user view is not kernel memory: bpf_probe_read_kernel fails there. */
static bool in_arena_user_view(const struct ua_exec *ex, uint64_t addr, uint64_t size)
{
	uint64_t base, len;

	if (!ex->arena)
		return false;
	base = (uintptr_t)ua_arena_user_base(ex->arena);
	len = ua_arena_size(ex->arena);
	return addr < base + len && addr + size > base;
}

/* Loads one byte of arena memory; false when the page is absent. */
static bool arena_byte(const struct ua_exec *ex, uint64_t addr, uint8_t *out)
{
	uint64_t v;

	if (!ua_probe_atomic(ua_arena_prog_addr(ex->arena_base, addr, 0), 1, UA_LOAD_ACQ, 0, 0, &v))
		return false;
	*out = (uint8_t)v;
	return true;
}

int ua_helper_copy_in(const struct ua_exec *ex, void *dst, uint64_t src, uint64_t size)
{
	uint8_t *d = dst;

	if (ua_helper_is_arena_ptr(ex, src)) {
		if (src + size > (1ull << 32))
			goto fault;
		for (uint64_t i = 0; i < size; i++)
			if (!arena_byte(ex, src + i, &d[i]))
				goto fault;
		return 0;
	}
	if (!src || in_arena_user_view(ex, src, size) || !ua_helper_mem_ok(ex, src, size, false))
		goto fault;
	memcpy(dst, (const void *)(uintptr_t)src, size);
	return 0;
fault:
	memset(dst, 0, size);
	return -EFAULT;
}

long ua_helper_copy_str(const struct ua_exec *ex, char *dst, uint64_t src, uint64_t size)
{
	bool arena = ua_helper_is_arena_ptr(ex, src);
	uint64_t i;

	if (size == 0)
		return 0;
	for (i = 0; i + 1 < size; i++) {
		uint8_t c;

		if (arena) {
			if (src + i >= (1ull << 32) || !arena_byte(ex, src + i, &c))
				goto fault;
		} else {
			if (!src || in_arena_user_view(ex, src + i, 1) ||
			    !ua_helper_mem_ok(ex, src + i, 1, false))
				goto fault;
			c = *(const uint8_t *)(uintptr_t)(src + i);
		}
		dst[i] = (char)c;
		if (!c)
			return (long)i + 1;
	}
	dst[i] = '\0';
	return (long)i + 1;
fault:
	memset(dst, 0, size);
	return -EFAULT;
}
