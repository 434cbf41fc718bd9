/* SPDX-License-Identifier: MIT */
/*
 * ARRAY and PERCPU_ARRAY maps (kernel arraymap.c semantics).
 *
 * Storage is max_entries elements of elem_size = round_up(value_size, 8);
 * a per-CPU array has nr_cpus such slots per element, laid out element-major
 * (slot i of CPU c at (i * nr_cpus + c) * elem_size) so a user-space
 * lookup copies one contiguous run. Elements always exist: delete is
 * -EINVAL, update with BPF_NOEXIST is -EEXIST, keys past the end are
 * -E2BIG on update and -ENOENT on lookup. With BPF_F_MMAPABLE the storage
 * is page-aligned anonymous memory the host may use directly
 * (ua_map_mmaped), like the kernel's mmap of an array map.
 *
 * Updates copy without a lock, as the kernel does for arrays (no
 * BPF_F_LOCK support here): concurrent writers to one element may tear.
 */
#include "map.h"

#include "internal.h"

#include <stdlib.h>
#include <sys/mman.h>

#define ARRAY_CREATE_FLAGS ((1U << 2) /* NUMA_NODE */ | (1U << 3) /* RDONLY */ | \
			    (1U << 4) /* WRONLY */ | (1U << 7) /* RDONLY_PROG */ | \
			    (1U << 8) /* WRONLY_PROG */ | (1U << 10) /* MMAPABLE */ | \
			    (1U << 12) /* INNER_MAP */)
#define MAP_F_MMAPABLE (1U << 10)

struct array_map {
	struct ua_map map;
	uint32_t elem_size;
	uint8_t *data;
	size_t data_sz;
	bool mmapped; /* data from mmap (MMAPABLE), else calloc */
};

static struct array_map *to_array(struct ua_map *m)
{
	return container_of(m, struct array_map, map);
}

static uint8_t *slot(struct array_map *a, uint32_t idx, uint32_t cpu)
{
	return a->data + ((size_t)idx * a->map.nr_cpus + cpu) * a->elem_size;
}

static bool percpu(const struct array_map *a)
{
	return a->map.type == UA_MAP_PERCPU_ARRAY;
}

static void *array_lookup(struct ua_map *m, const void *key, uint32_t cpu)
{
	struct array_map *a = to_array(m);
	uint32_t idx;

	memcpy(&idx, key, 4);
	if (idx >= m->max_entries)
		return NULL;
	return slot(a, idx, percpu(a) ? cpu % m->nr_cpus : 0);
}

static int check_update(struct ua_map *m, const void *key, uint64_t flags, uint32_t *idx)
{
	if ((flags & ~UA_F_LOCK) > UA_EXIST)
		return -EINVAL;
	if (flags & UA_F_LOCK)
		return -EINVAL; /* no bpf_spin_lock in values */
	memcpy(idx, key, 4);
	if (*idx >= m->max_entries)
		return -E2BIG;
	if (flags & UA_NOEXIST)
		return -EEXIST; /* all elements exist */
	return 0;
}

static int array_update(struct ua_map *m, const void *key, const void *value, uint64_t flags,
			uint32_t cpu)
{
	struct array_map *a = to_array(m);
	uint32_t idx;
	int ret = check_update(m, key, flags, &idx);

	if (ret)
		return ret;
	memcpy(slot(a, idx, percpu(a) ? cpu % m->nr_cpus : 0), value, m->value_size);
	return 0;
}

static int array_update_user(struct ua_map *m, const void *key, const void *value,
			     uint64_t flags)
{
	struct array_map *a = to_array(m);
	uint32_t idx;
	int ret = check_update(m, key, flags, &idx);

	if (ret)
		return ret;
	if (!percpu(a)) {
		memcpy(slot(a, idx, 0), value, m->value_size);
		return 0;
	}
	/* The user's buffer has round_up(value_size, 8) bytes per CPU. */
	for (uint32_t c = 0; c < m->nr_cpus; c++)
		memcpy(slot(a, idx, c), (const uint8_t *)value + (size_t)c * a->elem_size,
		       m->value_size);
	return 0;
}

static int array_lookup_user(struct ua_map *m, const void *key, void *value)
{
	struct array_map *a = to_array(m);
	uint32_t idx;

	memcpy(&idx, key, 4);
	if (idx >= m->max_entries)
		return -ENOENT;
	if (!percpu(a)) {
		memcpy(value, slot(a, idx, 0), m->value_size);
		return 0;
	}
	for (uint32_t c = 0; c < m->nr_cpus; c++)
		memcpy((uint8_t *)value + (size_t)c * a->elem_size, slot(a, idx, c), a->elem_size);
	return 0;
}

static int array_delete(struct ua_map *m, const void *key)
{
	return -EINVAL;
}

static int array_get_next_key(struct ua_map *m, const void *key, void *next_key)
{
	uint32_t idx, next;

	if (!key) {
		next = 0;
	} else {
		memcpy(&idx, key, 4);
		if (idx >= m->max_entries) {
			next = 0;
		} else {
			if (idx == m->max_entries - 1)
				return -ENOENT;
			next = idx + 1;
		}
	}
	memcpy(next_key, &next, 4);
	return 0;
}

static void array_free(struct ua_map *m)
{
	struct array_map *a = to_array(m);

	if (a->mmapped)
		munmap(a->data, a->data_sz);
	else
		free(a->data);
	free(a);
}

static const struct ua_map_ops array_ops = {
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = array_get_next_key,
	.lookup_user = array_lookup_user,
	.update_user = array_update_user,
	.free = array_free,
};

int ua_map_array_create(const struct ua_map_def *def, char *err, size_t err_sz,
			struct ua_map **out)
{
	const char *name = def->name ? def->name : "";
	bool is_percpu = def->type == UA_MAP_PERCPU_ARRAY;
	uint32_t ncpu = is_percpu ? (def->nr_cpus ? def->nr_cpus : 1) : 1;
	struct array_map *a;

	if (def->key_size != 4 || def->value_size == 0 || def->max_entries == 0 ||
	    (def->map_flags & ~ARRAY_CREATE_FLAGS) ||
	    (is_percpu && (def->map_flags & MAP_F_MMAPABLE)))
		return ua_errf(err, err_sz, -EINVAL,
			       "map: '%s': invalid array attributes (key_size %u, value_size %u, "
			       "max_entries %u, flags 0x%x)",
			       name, def->key_size, def->value_size, def->max_entries, def->map_flags);
	/* Kernel limits (measured on 6.18): value_size <= INT_MAX, per-CPU values
	 * up to PCPU_MIN_UNIT_SIZE (32 KiB). */
	if (def->value_size > INT32_MAX || (is_percpu && UA_ROUND_UP(def->value_size, 8) > 32768))
		return ua_errf(err, err_sz, -E2BIG, "map: '%s': value_size %u too big", name,
			       def->value_size);
	uint32_t elem_size = UA_ROUND_UP(def->value_size, 8);
	uint64_t bytes = (uint64_t)elem_size * def->max_entries * ncpu;

	if (bytes > (1ULL << 34))
		return ua_errf(err, err_sz, -ENOMEM, "map: '%s': %llu bytes of values", name,
			       (unsigned long long)bytes);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	ua_map_init_common(&a->map, def, &array_ops);
	a->map.nr_cpus = ncpu;
	a->elem_size = elem_size;
	if (def->map_flags & MAP_F_MMAPABLE) {
		a->data_sz = UA_ROUND_UP(bytes, 4096);
		a->data = mmap(NULL, a->data_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (a->data == MAP_FAILED) {
			free(a);
			return -ENOMEM;
		}
		a->mmapped = true;
		a->map.mmaped = a->data;
		a->map.mmap_sz = a->data_sz;
	} else {
		a->data_sz = bytes;
		a->data = calloc(1, bytes);
		if (!a->data) {
			free(a);
			return -ENOMEM;
		}
	}
	a->map.value_mem = a->data;
	a->map.value_mem_sz = a->data_sz;
	*out = &a->map;
	return 0;
}
