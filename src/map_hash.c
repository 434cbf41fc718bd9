/* SPDX-License-Identifier: MIT */
/*
 * HASH and PERCPU_HASH maps (kernel hashtab.c semantics, preallocated).
 *
 * Model: n_buckets = next power of two >= max_entries, each a singly linked
 * list under its own spin lock; elements come from a pool of max_entries
 * preallocated elements with a free list, so an update never allocates and
 * a full map answers -E2BIG. New elements go to the head of their bucket.
 *
 * get_next_key walks buckets in index order and each list from the head;
 * a key that is no longer present restarts from the first element (the
 * kernel's behaviour), so deleting the current key while iterating is safe
 * and never skips the remaining buckets' elements.
 *
 * Element: {next, hash, key[round_up(key_size, 8)], value} where value is
 * round_up(value_size, 8) bytes per CPU for PERCPU_HASH. The program path
 * returns a pointer into the element, as the kernel does; pool memory is
 * never freed while the map lives, so a stale pointer stays harmless.
 */
#include "map.h"

#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

#define HASH_CREATE_FLAGS ((1U << 0) /* NO_PREALLOC */ | (1U << 1) /* NO_COMMON_LRU */ | \
			   (1U << 2) /* NUMA_NODE */ | (1U << 3) | (1U << 4) | (1U << 7) | \
			   (1U << 8) | (1U << 6) /* ZERO_SEED */)

struct htab_elem {
	struct htab_elem *next;
	uint32_t hash;
	uint32_t pad;
	uint8_t key[]; /* then value(s) */
};

struct bucket {
	atomic_flag lock;
	struct htab_elem *head;
};

struct hash_map {
	struct ua_map map;
	uint32_t n_buckets;
	uint32_t key_sz8, value_sz8;
	size_t elem_size;
	struct bucket *buckets;
	uint8_t *pool;
	struct htab_elem *free_list;
	atomic_flag free_lock;
};

static struct hash_map *to_hash(struct ua_map *m)
{
	return container_of(m, struct hash_map, map);
}

static void spin_lock(atomic_flag *f)
{
	while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
		;
}

static void spin_unlock(atomic_flag *f)
{
	atomic_flag_clear_explicit(f, memory_order_release);
}

/* FNV-1a then a murmur finaliser: stable across runs (no seed), well mixed. */
static uint32_t hash_key(const void *key, uint32_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	return h;
}

static uint8_t *elem_value(const struct hash_map *h, struct htab_elem *e, uint32_t cpu)
{
	return e->key + h->key_sz8 + (size_t)cpu * h->value_sz8;
}

static bool percpu(const struct hash_map *h)
{
	return h->map.type == UA_MAP_PERCPU_HASH;
}

/* n_buckets is a power of two: the low bits of the hash pick the bucket. */
static struct bucket *bucket_of(struct hash_map *h, uint32_t hash)
{
	return &h->buckets[hash & (h->n_buckets - 1)];
}

static struct htab_elem *find(struct hash_map *h, struct bucket *b, uint32_t hash,
			      const void *key, struct htab_elem ***link)
{
	struct htab_elem **pp = &b->head;

	for (struct htab_elem *e = *pp; e; pp = &e->next, e = *pp) {
		if (e->hash == hash && memcmp(e->key, key, h->map.key_size) == 0) {
			if (link)
				*link = pp;
			return e;
		}
	}
	return NULL;
}

static void *hash_lookup(struct ua_map *m, const void *key, uint32_t cpu)
{
	struct hash_map *h = to_hash(m);
	uint32_t hash = hash_key(key, m->key_size);
	struct bucket *b = bucket_of(h, hash);
	struct htab_elem *e;

	spin_lock(&b->lock);
	e = find(h, b, hash, key, NULL);
	spin_unlock(&b->lock);
	return e ? elem_value(h, e, percpu(h) ? cpu % m->nr_cpus : 0) : NULL;
}

static struct htab_elem *pool_get(struct hash_map *h)
{
	struct htab_elem *e;

	spin_lock(&h->free_lock);
	e = h->free_list;
	if (e)
		h->free_list = e->next;
	spin_unlock(&h->free_lock);
	return e;
}

static void pool_put(struct hash_map *h, struct htab_elem *e)
{
	spin_lock(&h->free_lock);
	e->next = h->free_list;
	h->free_list = e;
	spin_unlock(&h->free_lock);
}

/*
 * all_cpus: value holds nr_cpus stride-8 values (user path of a per-CPU
 * map); otherwise value is one value for `cpu` (a new per-CPU element's
 * other CPUs start zeroed, as in the kernel).
 */
static int do_update(struct hash_map *h, const void *key, const void *value, uint64_t flags,
		     uint32_t cpu, bool all_cpus)
{
	struct ua_map *m = &h->map;
	uint32_t hash = hash_key(key, m->key_size);
	struct bucket *b = bucket_of(h, hash);
	struct htab_elem *e;
	int ret = 0;

	if ((flags & ~UA_F_LOCK) > UA_EXIST || (flags & UA_F_LOCK))
		return -EINVAL;
	spin_lock(&b->lock);
	e = find(h, b, hash, key, NULL);
	if (e && (flags & 3) == UA_NOEXIST) {
		ret = -EEXIST;
		goto out;
	}
	if (!e && (flags & 3) == UA_EXIST) {
		ret = -ENOENT;
		goto out;
	}
	if (!e) {
		e = pool_get(h);
		if (!e) {
			ret = -E2BIG;
			goto out;
		}
		memset(e->key, 0, h->elem_size - sizeof(*e));
		memcpy(e->key, key, m->key_size);
		e->hash = hash;
		e->next = b->head;
		b->head = e;
	}
	if (!percpu(h)) {
		memcpy(elem_value(h, e, 0), value, m->value_size);
	} else if (all_cpus) {
		for (uint32_t c = 0; c < m->nr_cpus; c++)
			memcpy(elem_value(h, e, c), (const uint8_t *)value + (size_t)c * h->value_sz8,
			       m->value_size);
	} else {
		memcpy(elem_value(h, e, cpu % m->nr_cpus), value, m->value_size);
	}
out:
	spin_unlock(&b->lock);
	return ret;
}

static int hash_update(struct ua_map *m, const void *key, const void *value, uint64_t flags,
		       uint32_t cpu)
{
	return do_update(to_hash(m), key, value, flags, cpu, false);
}

static int hash_update_user(struct ua_map *m, const void *key, const void *value, uint64_t flags)
{
	return do_update(to_hash(m), key, value, flags, 0, true);
}

static int hash_lookup_user(struct ua_map *m, const void *key, void *value)
{
	struct hash_map *h = to_hash(m);
	uint32_t hash = hash_key(key, m->key_size);
	struct bucket *b = bucket_of(h, hash);
	struct htab_elem *e;

	spin_lock(&b->lock);
	e = find(h, b, hash, key, NULL);
	if (e) {
		if (percpu(h))
			memcpy(value, elem_value(h, e, 0), (size_t)h->value_sz8 * m->nr_cpus);
		else
			memcpy(value, elem_value(h, e, 0), m->value_size);
	}
	spin_unlock(&b->lock);
	return e ? 0 : -ENOENT;
}

static int hash_delete(struct ua_map *m, const void *key)
{
	struct hash_map *h = to_hash(m);
	uint32_t hash = hash_key(key, m->key_size);
	struct bucket *b = bucket_of(h, hash);
	struct htab_elem *e, **link;

	spin_lock(&b->lock);
	e = find(h, b, hash, key, &link);
	if (e)
		*link = e->next;
	spin_unlock(&b->lock);
	if (!e)
		return -ENOENT;
	pool_put(h, e);
	return 0;
}

/* First element at or after bucket idx; copies its key. */
static int first_from(struct hash_map *h, uint32_t idx, void *next_key)
{
	for (; idx < h->n_buckets; idx++) {
		struct bucket *b = &h->buckets[idx];

		spin_lock(&b->lock);
		if (b->head) {
			memcpy(next_key, b->head->key, h->map.key_size);
			spin_unlock(&b->lock);
			return 0;
		}
		spin_unlock(&b->lock);
	}
	return -ENOENT;
}

static int hash_get_next_key(struct ua_map *m, const void *key, void *next_key)
{
	struct hash_map *h = to_hash(m);

	if (!key)
		return first_from(h, 0, next_key);
	uint32_t hash = hash_key(key, m->key_size);
	uint32_t idx = hash & (h->n_buckets - 1);
	struct bucket *b = &h->buckets[idx];
	struct htab_elem *e;

	spin_lock(&b->lock);
	e = find(h, b, hash, key, NULL);
	if (!e) {
		spin_unlock(&b->lock);
		return first_from(h, 0, next_key);
	}
	if (e->next) {
		memcpy(next_key, e->next->key, m->key_size);
		spin_unlock(&b->lock);
		return 0;
	}
	spin_unlock(&b->lock);
	return first_from(h, idx + 1, next_key);
}

static void hash_free(struct ua_map *m)
{
	struct hash_map *h = to_hash(m);

	free(h->buckets);
	free(h->pool);
	free(h);
}

static const struct ua_map_ops hash_ops = {
	.lookup = hash_lookup,
	.update = hash_update,
	.delete = hash_delete,
	.get_next_key = hash_get_next_key,
	.lookup_user = hash_lookup_user,
	.update_user = hash_update_user,
	.free = hash_free,
};

int ua_map_hash_create(const struct ua_map_def *def, char *err, size_t err_sz,
		       struct ua_map **out)
{
	const char *name = def->name ? def->name : "";
	bool is_percpu = def->type == UA_MAP_PERCPU_HASH;
	uint32_t ncpu = is_percpu ? (def->nr_cpus ? def->nr_cpus : 1) : 1;
	struct hash_map *h;

	if (def->key_size == 0 || def->value_size == 0 || def->max_entries == 0 ||
	    (def->map_flags & ~HASH_CREATE_FLAGS))
		return ua_errf(err, err_sz, -EINVAL,
			       "map: '%s': invalid hash attributes (key_size %u, value_size %u, "
			       "max_entries %u, flags 0x%x)",
			       name, def->key_size, def->value_size, def->max_entries, def->map_flags);
	/* Kernel limits (measured on 6.18): key + value below KMALLOC_MAX_SIZE minus the
	 * element header, per-CPU values up to PCPU_MIN_UNIT_SIZE, buckets indexable. */
	if ((uint64_t)def->key_size + def->value_size >= (1U << 22) - 48 ||
	    (is_percpu && UA_ROUND_UP((uint64_t)def->value_size, 8) > 32768) ||
	    def->max_entries > (1U << 27))
		return ua_errf(err, err_sz, -E2BIG, "map: '%s': key, value or max_entries too big",
			       name);
	if ((uint64_t)def->max_entries * (UA_ROUND_UP((uint64_t)def->key_size, 8) +
					  UA_ROUND_UP((uint64_t)def->value_size, 8) * ncpu) >
	    (1ULL << 34))
		return ua_errf(err, err_sz, -ENOMEM, "map: '%s': preallocation too large", name);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	ua_map_init_common(&h->map, def, &hash_ops);
	h->map.nr_cpus = ncpu;
	h->key_sz8 = UA_ROUND_UP(def->key_size, 8);
	h->value_sz8 = UA_ROUND_UP(def->value_size, 8);
	h->elem_size = sizeof(struct htab_elem) + h->key_sz8 + (size_t)h->value_sz8 * ncpu;
	h->n_buckets = 1;
	while (h->n_buckets < def->max_entries)
		h->n_buckets <<= 1;
	h->buckets = calloc(h->n_buckets, sizeof(*h->buckets));
	h->pool = calloc(def->max_entries, h->elem_size);
	if (!h->buckets || !h->pool) {
		hash_free(&h->map);
		return ua_errf(err, err_sz, -ENOMEM, "map: '%s': out of memory", name);
	}
	for (uint32_t i = 0; i < h->n_buckets; i++)
		atomic_flag_clear(&h->buckets[i].lock);
	atomic_flag_clear(&h->free_lock);
	/* Free list in pool order so the first insert takes element 0. */
	for (uint32_t i = def->max_entries; i-- > 0;) {
		struct htab_elem *e = (struct htab_elem *)(h->pool + (size_t)i * h->elem_size);

		e->next = h->free_list;
		h->free_list = e;
	}
	h->map.value_mem = h->pool;
	h->map.value_mem_sz = (size_t)def->max_entries * h->elem_size;
	*out = &h->map;
	return 0;
}
