/* SPDX-License-Identifier: MIT */
/*
 * Map core: creation dispatch by type, the generic checks the kernel's
 * syscall layer makes before a type sees the request, and the public
 * user-space entry points (the BPF_MAP_*_ELEM commands).
 *
 * The user path copies values; per-CPU maps exchange nr_cpus slots of
 * round_up(value_size, 8) bytes. A type without lookup_user/update_user is
 * served through its program-path ops with CPU 0.
 */
#include "map.h"

#include "internal.h"

#include <uarena/object.h>

#include <stdlib.h>

void ua_map_init_common(struct ua_map *m, const struct ua_map_def *def,
			const struct ua_map_ops *ops)
{
	m->ops = ops;
	snprintf(m->name, sizeof(m->name), "%s", def->name ? def->name : "");
	m->type = def->type;
	m->key_size = def->key_size;
	m->value_size = def->value_size;
	m->max_entries = def->max_entries;
	m->map_flags = def->map_flags;
	m->map_extra = def->map_extra;
	m->nr_cpus = def->nr_cpus ? def->nr_cpus : 1;
}

bool ua_map_is_percpu(const struct ua_map *m)
{
	return m->type == UA_MAP_PERCPU_ARRAY || m->type == UA_MAP_PERCPU_HASH;
}

size_t ua_map_user_value_size(const struct ua_map *m)
{
	if (ua_map_is_percpu(m))
		return (size_t)UA_ROUND_UP(m->value_size, 8) * m->nr_cpus;
	return m->value_size;
}

int ua_map_create(const struct ua_map_def *def, char *err, size_t err_sz, struct ua_map **out)
{
	const char *name = def->name ? def->name : "";

	*out = NULL;
	/* Generic syscall layer: map_extra only for bloom filters and arenas. */
	if (def->map_extra && def->type != UA_MAP_ARENA_TYPE)
		return ua_errf(err, err_sz, -EINVAL, "map: '%s': map_extra is only valid for arena maps",
			       name);
	switch (def->type) {
	case UA_MAP_ARRAY:
	case UA_MAP_PERCPU_ARRAY:
		return ua_map_array_create(def, err, err_sz, out);
	case UA_MAP_HASH:
	case UA_MAP_PERCPU_HASH:
		return ua_map_hash_create(def, err, err_sz, out);
	case UA_MAP_RINGBUF:
		return ua_map_ringbuf_create(def, err, err_sz, out);
	case UA_MAP_ARENA_TYPE:
		return ua_map_arena_create(def, err, err_sz, out);
	default:
		return ua_errf(err, err_sz, -EOPNOTSUPP, "map: '%s': map type %u is not supported", name,
			       def->type);
	}
}

void ua_map_free(struct ua_map *m)
{
	if (m)
		m->ops->free(m);
}

/* ---- public API ---- */

const char *ua_map_name(const struct ua_map *m) { return m->name; }
uint32_t ua_map_type(const struct ua_map *m) { return m->type; }
uint32_t ua_map_key_size(const struct ua_map *m) { return m->key_size; }
uint32_t ua_map_value_size(const struct ua_map *m) { return m->value_size; }
uint32_t ua_map_max_entries(const struct ua_map *m) { return m->max_entries; }
uint32_t ua_map_flags(const struct ua_map *m) { return m->map_flags; }
struct ua_arena *ua_map_arena(const struct ua_map *m) { return m->arena; }

void *ua_map_mmaped(const struct ua_map *m, size_t *size)
{
	if (size)
		*size = m->mmaped ? m->mmap_sz : 0;
	return m->mmaped;
}

/* The generic key copy: a map without keys takes only a NULL key. */
static int check_key(const struct ua_map *m, const void *key)
{
	if (m->key_size == 0)
		return key ? -EINVAL : 0;
	return key ? 0 : -EFAULT;
}

/* BPF_F_RDONLY / BPF_F_WRONLY: the syscall side's access mode (map_get_sys_perms). */
#define MAP_F_RDONLY (1U << 3)
#define MAP_F_WRONLY (1U << 4)

int ua_map_lookup_elem(struct ua_map *m, const void *key, void *value)
{
	int ret;

	if (!m)
		return -EINVAL;
	if (m->map_flags & MAP_F_WRONLY)
		return -EPERM;
	ret = check_key(m, key);
	if (ret)
		return ret;
	if (!value && m->value_size)
		return m->type == UA_MAP_ARENA_TYPE ? -EINVAL : -EFAULT;
	if (m->ops->lookup_user)
		return m->ops->lookup_user(m, key, value);
	void *p = m->ops->lookup(m, key, 0);

	if (!p)
		return -ENOENT;
	memcpy(value, p, m->value_size);
	return 0;
}

/* What update and delete from the user side both require: a key, a writable map. */
static int check_user_write(const struct ua_map *m, const void *key)
{
	int ret;

	if (!m)
		return -EINVAL;
	ret = check_key(m, key);
	if (ret)
		return ret;
	if (m->frozen || (m->map_flags & MAP_F_RDONLY))
		return -EPERM;
	return 0;
}

int ua_map_update_elem(struct ua_map *m, const void *key, const void *value, uint64_t flags)
{
	int ret = check_user_write(m, key);

	if (ret)
		return ret;
	if (!value && m->value_size)
		return -EFAULT;
	if (m->ops->update_user)
		return m->ops->update_user(m, key, value, flags);
	return m->ops->update(m, key, value, flags, 0);
}

int ua_map_delete_elem(struct ua_map *m, const void *key)
{
	int ret = check_user_write(m, key);

	return ret ? ret : m->ops->delete(m, key);
}

int ua_map_get_next_key(struct ua_map *m, const void *key, void *next_key)
{
	if (!m)
		return -EINVAL;
	if (m->key_size == 0 && key)
		return -EINVAL;
	if (!next_key && m->key_size)
		return -EFAULT;
	return m->ops->get_next_key(m, key, next_key);
}
