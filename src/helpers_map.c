/* SPDX-License-Identifier: MIT */
/*
 * Map and ring-buffer helpers: thin, checked adapters onto the map ops
 * (src/map.h). r1 is the struct ua_map an ld_imm64 BPF_PSEUDO_MAP_FD
 * produced (the kernel verifier's CONST_PTR_TO_MAP); with no verifier it is
 * checked against the run's map regions (ua_helper_map_ok), as ring-buffer
 * sample pointers are against writable memory. Key
 * and value pointers are checked (arena or readable host memory) and copied
 * in before the op, so a stray pointer yields -EFAULT instead of a crash.
 * Return values are the kernel's: lookup gives a value pointer or NULL,
 * update/delete 0 or -errno, ring-buffer reserve a sample or NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"
#include "map.h"

/* Keys and values up to this size are staged on the host stack. */
#define STAGE_MAX 512

struct staged {
	uint8_t small[STAGE_MAX];
	uint8_t *p;
};

static int stage(const struct ua_exec *ex, struct staged *s, uint64_t src, uint32_t size)
{
	s->p = size <= STAGE_MAX ? s->small : malloc(size);
	if (!s->p)
		return -ENOMEM;
	if (size && ua_helper_copy_in(ex, s->p, src, size)) {
		if (s->p != s->small)
			free(s->p);
		s->p = NULL;
		return -EFAULT;
	}
	return 0;
}

static void unstage(struct staged *s)
{
	if (s->p && s->p != s->small)
		free(s->p);
}

static uint64_t bpf_map_lookup_elem(struct ua_exec *ex, uint64_t map, uint64_t key, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	struct ua_map *m = (struct ua_map *)(uintptr_t)map;
	struct staged k;
	void *v;

	if (!ua_helper_map_ok(ex, map) || !m->ops->lookup || stage(ex, &k, key, m->key_size))
		return 0;
	v = m->ops->lookup(m, k.p, ex->cpu);
	unstage(&k);
	return (uint64_t)(uintptr_t)v;
}

static uint64_t bpf_map_update_elem(struct ua_exec *ex, uint64_t map, uint64_t key,
				    uint64_t value, uint64_t flags, uint64_t r5)
{
	struct ua_map *m = (struct ua_map *)(uintptr_t)map;
	struct staged k, v;
	int err;

	if (!ua_helper_map_ok(ex, map))
		return (uint64_t)-EINVAL;
	if (!m->ops->update)
		return (uint64_t)-EOPNOTSUPP;
	err = stage(ex, &k, key, m->key_size);
	if (err)
		return (uint64_t)(int64_t)err;
	err = stage(ex, &v, value, m->value_size);
	if (!err) {
		err = m->ops->update(m, k.p, v.p, flags, ex->cpu);
		unstage(&v);
	}
	unstage(&k);
	return (uint64_t)(int64_t)err;
}

static uint64_t bpf_map_delete_elem(struct ua_exec *ex, uint64_t map, uint64_t key, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	struct ua_map *m = (struct ua_map *)(uintptr_t)map;
	struct staged k;
	int err;

	if (!ua_helper_map_ok(ex, map))
		return (uint64_t)-EINVAL;
	if (!m->ops->delete)
		return (uint64_t)-EOPNOTSUPP;
	err = stage(ex, &k, key, m->key_size);
	if (err)
		return (uint64_t)(int64_t)err;
	err = m->ops->delete(m, k.p);
	unstage(&k);
	return (uint64_t)(int64_t)err;
}

static struct ua_map *ringbuf_of(const struct ua_exec *ex, uint64_t map)
{
	struct ua_map *m = (struct ua_map *)(uintptr_t)map;

	return ua_helper_map_ok(ex, map) && m->type == UA_MAP_RINGBUF ? m : NULL;
}

/* A sample's 8-byte header precedes it in writable (ring) memory, 8-aligned for its atomics. */
static bool sample_ok(const struct ua_exec *ex, uint64_t sample)
{
	return sample >= UA_RINGBUF_HDR_SZ && (sample - UA_RINGBUF_HDR_SZ) % 8 == 0 &&
	       !ua_helper_is_arena_ptr(ex, sample) &&
	       ua_helper_mem_ok(ex, sample - UA_RINGBUF_HDR_SZ, UA_RINGBUF_HDR_SZ, true);
}

static uint64_t bpf_ringbuf_reserve(struct ua_exec *ex, uint64_t map, uint64_t size,
				    uint64_t flags, uint64_t r4, uint64_t r5)
{
	struct ua_map *m = ringbuf_of(ex, map);

	return m ? (uint64_t)(uintptr_t)ua_ringbuf_reserve(m, size, flags) : 0;
}

static uint64_t bpf_ringbuf_submit(struct ua_exec *ex, uint64_t sample, uint64_t flags,
				   uint64_t r3, uint64_t r4, uint64_t r5)
{
	if (sample_ok(ex, sample))
		ua_ringbuf_submit((void *)(uintptr_t)sample, flags);
	return 0;
}

static uint64_t bpf_ringbuf_discard(struct ua_exec *ex, uint64_t sample, uint64_t flags,
				    uint64_t r3, uint64_t r4, uint64_t r5)
{
	if (sample_ok(ex, sample))
		ua_ringbuf_discard((void *)(uintptr_t)sample, flags);
	return 0;
}

static uint64_t bpf_ringbuf_output(struct ua_exec *ex, uint64_t map, uint64_t data,
				   uint64_t size, uint64_t flags, uint64_t r5)
{
	struct ua_map *m = ringbuf_of(ex, map);
	struct staged d;
	long ret;

	if (!m)
		return (uint64_t)-EINVAL;
	if (size > UINT32_MAX)
		return (uint64_t)-E2BIG;
	if (stage(ex, &d, data, (uint32_t)size))
		return (uint64_t)-EFAULT;
	ret = ua_ringbuf_output(m, d.p, size, flags);
	unstage(&d);
	return (uint64_t)(int64_t)ret;
}

static uint64_t bpf_ringbuf_query(struct ua_exec *ex, uint64_t map, uint64_t flags, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	struct ua_map *m = ringbuf_of(ex, map);

	return m ? ua_ringbuf_query(m, flags) : 0;
}

const struct ua_helper_def ua_helpers_map[] = {
	{ "bpf_map_lookup_elem", 1, bpf_map_lookup_elem },
	{ "bpf_map_update_elem", 2, bpf_map_update_elem },
	{ "bpf_map_delete_elem", 3, bpf_map_delete_elem },
	{ "bpf_ringbuf_output", 130, bpf_ringbuf_output },
	{ "bpf_ringbuf_reserve", 131, bpf_ringbuf_reserve },
	{ "bpf_ringbuf_submit", 132, bpf_ringbuf_submit },
	{ "bpf_ringbuf_discard", 133, bpf_ringbuf_discard },
	{ "bpf_ringbuf_query", 134, bpf_ringbuf_query },
	{ NULL, 0, NULL },
};
