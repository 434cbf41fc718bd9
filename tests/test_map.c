/* SPDX-License-Identifier: MIT */
/*
 * Map semantics, each against the kernel's answers: creation checks,
 * update flags (BPF_ANY/NOEXIST/EXIST), -EEXIST/-ENOENT/-E2BIG, iteration
 * order and deletion during iteration, per-CPU value layout, ring buffer
 * record layout and consumer order, and concurrent hash updates.
 */
#include "test.h"

#include "map.h"

#include <uarena.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static struct ua_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			 uint32_t ncpu)
{
	struct ua_map_def d = { .name = "t", .type = type, .key_size = ks, .value_size = vs,
				.max_entries = max, .map_flags = flags, .nr_cpus = ncpu };
	struct ua_map *m = NULL;
	char err[200];
	int ret = ua_map_create(&d, err, sizeof(err), &m);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "create: %d %s", ret, err);
	REQUIRE(m != NULL);
	return m;
}

static int create_err(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		      uint64_t extra)
{
	struct ua_map_def d = { .name = "bad", .type = type, .key_size = ks, .value_size = vs,
				.max_entries = max, .map_flags = flags, .map_extra = extra };
	struct ua_map *m = NULL;
	char err[200] = "";
	int ret = ua_map_create(&d, err, sizeof(err), &m);

	if (ret) {
		CHECK(m == NULL);
		CHECK_CONTAINS(err, "map: 'bad': ");
	} else {
		ua_map_free(m);
	}
	return ret;
}

TEST(map, create_checks)
{
	CHECK_EQ(create_err(UA_MAP_ARRAY, 8, 4, 1, 0, 0), -EINVAL); /* key must be 4 */
	CHECK_EQ(create_err(UA_MAP_ARRAY, 4, 0, 1, 0, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_ARRAY, 4, 4, 0, 0, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_ARRAY, 4, 4, 1, 1U << 0, 0), -EINVAL); /* NO_PREALLOC */
	CHECK_EQ(create_err(UA_MAP_PERCPU_ARRAY, 4, 4, 1, 1U << 10, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_HASH, 0, 4, 1, 0, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_HASH, 4, 4, 1, 1U << 10, 0), -EINVAL); /* MMAPABLE */
	/* Limits measured on 6.18: */
	CHECK_EQ(create_err(UA_MAP_HASH, 513, 4, 1, 0, 0), 0);
	CHECK_EQ(create_err(UA_MAP_HASH, 4, (1U << 22) - 52, 1, 0, 0), -E2BIG);
	CHECK_EQ(create_err(UA_MAP_HASH, 4, 4, 1U << 28, 0, 0), -E2BIG);
	CHECK_EQ(create_err(UA_MAP_PERCPU_HASH, 4, 32769, 1, 0, 0), -E2BIG);
	CHECK_EQ(create_err(UA_MAP_PERCPU_ARRAY, 4, 32769, 1, 0, 0), -E2BIG);
	CHECK_EQ(create_err(UA_MAP_PERCPU_ARRAY, 4, 32768, 1, 0, 0), 0);
	CHECK_EQ(create_err(UA_MAP_ARRAY, 4, 1U << 31, 1, 0, 0), -E2BIG);
	CHECK_EQ(create_err(UA_MAP_HASH, 4, 4, 1, 0, 4096), -EINVAL); /* map_extra */
	CHECK_EQ(create_err(UA_MAP_RINGBUF, 0, 0, 4096 * 3, 0, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_RINGBUF, 0, 0, 1000, 0, 0), -EINVAL);
	CHECK_EQ(create_err(UA_MAP_RINGBUF, 4, 0, 4096, 0, 0), -EINVAL);
	CHECK_EQ(create_err(99, 4, 4, 1, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(create_err(UA_MAP_RINGBUF, 0, 0, 8192, 0, 0), 0);
}

TEST(map, array_semantics)
{
	struct ua_map *m = mk(UA_MAP_ARRAY, 4, 12, 3, 0, 1);
	uint32_t k = 1, next;
	uint8_t v[12], got[12];

	memset(v, 0x5a, sizeof(v));
	CHECK_EQ(ua_map_lookup_elem(m, &k, got), 0); /* elements always exist, zeroed */
	CHECK_EQ(got[0], 0);
	CHECK_EQ(ua_map_update_elem(m, &k, v, UA_ANY), 0);
	CHECK_EQ(ua_map_update_elem(m, &k, v, UA_EXIST), 0);
	CHECK_EQ(ua_map_update_elem(m, &k, v, UA_NOEXIST), -EEXIST);
	CHECK_EQ(ua_map_update_elem(m, &k, v, 8), -EINVAL);
	CHECK_EQ(ua_map_lookup_elem(m, &k, got), 0);
	CHECK_MEM(got, v, 12);
	k = 3;
	CHECK_EQ(ua_map_update_elem(m, &k, v, UA_ANY), -E2BIG);
	CHECK_EQ(ua_map_lookup_elem(m, &k, got), -ENOENT);
	CHECK_EQ(ua_map_delete_elem(m, &k), -EINVAL);
	CHECK_EQ(ua_map_get_next_key(m, NULL, &next), 0);
	CHECK_EQ(next, 0);
	k = 1;
	CHECK_EQ(ua_map_get_next_key(m, &k, &next), 0);
	CHECK_EQ(next, 2);
	k = 2;
	CHECK_EQ(ua_map_get_next_key(m, &k, &next), -ENOENT);
	k = 77; /* out of range restarts at 0 */
	CHECK_EQ(ua_map_get_next_key(m, &k, &next), 0);
	CHECK_EQ(next, 0);
	CHECK_EQ(ua_map_lookup_elem(m, NULL, got), -EFAULT);
	/* NULL user buffers are bad addresses, not crashes. */
	k = 0;
	CHECK_EQ(ua_map_lookup_elem(m, &k, NULL), -EFAULT);
	CHECK_EQ(ua_map_update_elem(m, &k, NULL, 0), -EFAULT);
	CHECK_EQ(ua_map_get_next_key(m, &k, NULL), -EFAULT);
	CHECK_EQ(ua_map_lookup_elem(NULL, &k, got), -EINVAL);
	ua_map_free(m);
}

TEST(map, mmapable_array_shares_memory)
{
	struct ua_map *m = mk(UA_MAP_ARRAY, 4, 4, 5, 1U << 10, 1);
	size_t sz;
	uint32_t *p = ua_map_mmaped(m, &sz), k = 4, v = 1234, got;

	REQUIRE(p != NULL);
	CHECK_EQ(sz, 4096);
	CHECK_EQ((uintptr_t)p % 4096, 0);
	CHECK_EQ(ua_map_update_elem(m, &k, &v, 0), 0);
	CHECK_EQ(p[8], 1234); /* element stride is round_up(4, 8) = 8 bytes */
	p[2] = 99;
	k = 1;
	CHECK_EQ(ua_map_lookup_elem(m, &k, &got), 0);
	CHECK_EQ(got, 99);
	ua_map_free(m);
}

TEST(map, percpu_array_layout)
{
	struct ua_map *m = mk(UA_MAP_PERCPU_ARRAY, 4, 4, 2, 0, 3);
	uint32_t k = 1, vals[6] = { 10, 0xdead, 20, 0xdead, 30, 0xdead }, got[6];

	CHECK_EQ(ua_map_user_value_size(m), 3 * 8);
	REQUIRE_EQ(ua_map_update_elem(m, &k, vals, 0), 0);
	/* The program path sees only its CPU's slot. */
	CHECK_EQ(*(uint32_t *)m->ops->lookup(m, &k, 0), 10);
	CHECK_EQ(*(uint32_t *)m->ops->lookup(m, &k, 2), 30);
	uint32_t nv = 77;

	REQUIRE_EQ(m->ops->update(m, &k, &nv, 0, 1), 0);
	memset(got, 0xff, sizeof(got));
	REQUIRE_EQ(ua_map_lookup_elem(m, &k, got), 0);
	/* Values concatenated with stride round_up(value_size, 8); padding zero. */
	CHECK_EQ(got[0], 10);
	CHECK_EQ(got[1], 0);
	CHECK_EQ(got[2], 77);
	CHECK_EQ(got[4], 30);
	ua_map_free(m);
}

TEST(map, hash_semantics)
{
	struct ua_map *m = mk(UA_MAP_HASH, 4, 8, 3, 0, 1);
	uint32_t k;
	uint64_t v, got;

	k = 1, v = 100;
	CHECK_EQ(ua_map_lookup_elem(m, &k, &got), -ENOENT);
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_EXIST), -ENOENT);
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_NOEXIST), 0);
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_NOEXIST), -EEXIST);
	v = 101;
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_EXIST), 0);
	CHECK_EQ(ua_map_lookup_elem(m, &k, &got), 0);
	CHECK_EQ(got, 101);
	CHECK_EQ(ua_map_update_elem(m, &k, &v, 3), -EINVAL);
	k = 2;
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_ANY), 0);
	k = 3;
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_ANY), 0);
	k = 4; /* full: the preallocated pool is empty */
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_ANY), -E2BIG);
	k = 3; /* replacing an existing key in a full map works */
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_ANY), 0);
	CHECK_EQ(ua_map_delete_elem(m, &k), 0);
	CHECK_EQ(ua_map_delete_elem(m, &k), -ENOENT);
	k = 4;
	CHECK_EQ(ua_map_update_elem(m, &k, &v, UA_ANY), 0); /* the freed slot is reused */
	ua_map_free(m);
}

TEST(map, hash_iteration_stable_and_delete_safe)
{
	struct ua_map *m = mk(UA_MAP_HASH, 4, 4, 64, 0, 1);
	uint32_t k, v = 0, next, order1[50], order2[50];
	int n1 = 0, n2 = 0;
	bool seen[50] = { 0 };

	for (k = 0; k < 50; k++)
		REQUIRE_EQ(ua_map_update_elem(m, &k, &v, 0), 0);
	for (int ret = ua_map_get_next_key(m, NULL, &next); ret == 0 && n1 < 50;
	     ret = ua_map_get_next_key(m, &order1[n1 - 1], &next))
		order1[n1++] = next;
	CHECK_EQ(n1, 50);
	for (int i = 0; i < n1; i++) {
		CHECK(order1[i] < 50 && !seen[order1[i]]);
		if (order1[i] < 50)
			seen[order1[i]] = true;
	}
	/* Same order again (no seed, no rehash). */
	for (int ret = ua_map_get_next_key(m, NULL, &next); ret == 0 && n2 < 50;
	     ret = ua_map_get_next_key(m, &order2[n2 - 1], &next))
		order2[n2++] = next;
	CHECK_EQ(n2, 50);
	CHECK_MEM(order1, order2, sizeof(order1));
	/* Delete-while-iterating, the classic user-space drain loop: get the next key
	 * before deleting the current one; every element gets visited and deleted. */
	int deleted = 0;
	uint32_t cur;

	if (ua_map_get_next_key(m, NULL, &cur) == 0) {
		for (;;) {
			int ret = ua_map_get_next_key(m, &cur, &next);

			CHECK_EQ(ua_map_delete_elem(m, &cur), 0);
			deleted++;
			if (ret)
				break;
			cur = next;
		}
	}
	CHECK_EQ(deleted, 50);
	CHECK_EQ(ua_map_get_next_key(m, NULL, &next), -ENOENT);
	ua_map_free(m);
}

TEST(map, percpu_hash_layout)
{
	struct ua_map *m = mk(UA_MAP_PERCPU_HASH, 4, 4, 4, 0, 2);
	uint32_t k = 9, one = 5, got[4];

	/* A new element from the program path: the other CPU starts at zero. */
	REQUIRE_EQ(m->ops->update(m, &k, &one, 0, 1), 0);
	memset(got, 0xff, sizeof(got));
	REQUIRE_EQ(ua_map_lookup_elem(m, &k, got), 0);
	CHECK_EQ(got[0], 0);
	CHECK_EQ(got[2], 5);
	uint32_t all[4] = { 1, 0, 2, 0 };

	REQUIRE_EQ(ua_map_update_elem(m, &k, all, UA_EXIST), 0);
	CHECK_EQ(*(uint32_t *)m->ops->lookup(m, &k, 0), 1);
	CHECK_EQ(*(uint32_t *)m->ops->lookup(m, &k, 1), 2);
	ua_map_free(m);
}

struct hash_mt {
	struct ua_map *m;
	uint32_t base;
	int errors;
};

static void *hash_writer(void *argp)
{
	struct hash_mt *a = argp;

	for (uint32_t round = 0; round < 20; round++)
		for (uint32_t i = 0; i < 100; i++) {
			uint32_t k = a->base + i;
			uint64_t v = k * 3ull;

			if (ua_map_update_elem(a->m, &k, &v, 0))
				a->errors++;
			if (round % 2 && ua_map_delete_elem(a->m, &k))
				a->errors++;
		}
	return NULL;
}

TEST(map, hash_concurrent_updates)
{
	struct ua_map *m = mk(UA_MAP_HASH, 4, 8, 400, 0, 1);
	struct hash_mt args[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct hash_mt){ m, (uint32_t)i * 100, 0 };
		pthread_create(&th[i], NULL, hash_writer, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].errors, 0);
	}
	/* Last round (19) deleted everything it inserted. */
	uint32_t next;

	CHECK_EQ(ua_map_get_next_key(m, NULL, &next), -ENOENT);
	for (uint32_t k = 0; k < 400; k++) {
		uint64_t v = k * 3ull;

		REQUIRE_EQ(ua_map_update_elem(m, &k, &v, UA_NOEXIST), 0);
	}
	for (uint32_t k = 0; k < 400; k++) {
		uint64_t got = 0;

		REQUIRE_EQ(ua_map_lookup_elem(m, &k, &got), 0);
		CHECK_EQ(got, k * 3ull);
	}
	ua_map_free(m);
}

struct rb_seen {
	int n;
	uint32_t sizes[8];
	uint8_t first[8];
};

static int rb_cb(void *ctx, const void *data, size_t size)
{
	struct rb_seen *s = ctx;

	s->sizes[s->n] = (uint32_t)size;
	s->first[s->n++] = *(const uint8_t *)data;
	return 0;
}

TEST(map, ringbuf_reserve_submit_discard_consume)
{
	struct ua_map *m = mk(UA_MAP_RINGBUF, 0, 0, 4096, 0, 1);
	struct rb_seen s = { 0 };

	uint8_t *a = ua_ringbuf_reserve(m, 5, 0);
	uint8_t *b = ua_ringbuf_reserve(m, 16, 0);

	REQUIRE(a && b);
	/* Header: len with BUSY, then pg_off; records padded to 8 bytes. */
	uint32_t hdr;

	memcpy(&hdr, a - 8, 4);
	CHECK_EQ(hdr, 5u | UA_RINGBUF_BUSY_BIT);
	CHECK_EQ(b - a, 16); /* 8-byte header + 5 bytes rounded to 8 */
	CHECK(ua_ringbuf_reserve(m, 8, 1) == NULL); /* flags must be 0 */
	a[0] = 'a', b[0] = 'b';
	ua_ringbuf_submit(b, 0);
	/* a is still busy: the consumer stops before it. */
	CHECK_EQ(ua_ringbuf_consume(m, rb_cb, &s), 0);
	ua_ringbuf_discard(a, 0);
	memcpy(&hdr, a - 8, 4);
	CHECK_EQ(hdr, 5u | UA_RINGBUF_DISCARD_BIT);
	CHECK_EQ(ua_ringbuf_consume(m, rb_cb, &s), 1);
	CHECK_EQ(s.sizes[0], 16);
	CHECK_EQ(s.first[0], 'b');
	CHECK_EQ(ua_ringbuf_query(m, UA_RB_AVAIL_DATA), 0);
	CHECK_EQ(ua_ringbuf_query(m, UA_RB_RING_SIZE), 4096);
	CHECK_EQ(ua_ringbuf_query(m, UA_RB_PROD_POS), 16 + 24);
	/* output: too big -> -EAGAIN; bad flags -> -EINVAL. */
	uint8_t big[4096] = { 'z' };

	CHECK_EQ(ua_ringbuf_output(m, big, 4096, 0), -EAGAIN);
	CHECK_EQ(ua_ringbuf_output(m, big, 8, 4), -EINVAL);
	/* Fill, wrapping around the end: records stay contiguous. */
	int ok = 0;

	for (int i = 0; i < 10; i++)
		if (ua_ringbuf_output(m, big, 1000, 0) == 0)
			ok++;
	CHECK_EQ(ok, 4); /* 4 * 1008 fits in 4096 - 0 unconsumed bytes, a 5th does not */
	s.n = 0;
	CHECK_EQ(ua_ringbuf_consume(m, rb_cb, &s), 4);
	CHECK_EQ(s.first[3], 'z');
	CHECK_EQ(ua_ringbuf_output(m, big, 1000, 0), 0); /* wraps */
	/* A record that would fill the ring exactly is refused (new_prod - cons > mask). */
	s.n = 0;
	CHECK_EQ(ua_ringbuf_consume(m, rb_cb, &s), 1);
	CHECK_EQ(ua_ringbuf_output(m, big, 4096 - 8, 0), -EAGAIN);
	CHECK_EQ(ua_ringbuf_output(m, big, 4096 - 16, 0), 0);
	s.n = 0;
	CHECK_EQ(ua_ringbuf_consume(m, rb_cb, &s), 1);
	CHECK_EQ(s.sizes[0], 4096 - 16);
	/* Syscall ops: the kernel's ENOTSUPP (524). */
	char k[4], v[4];

	CHECK_EQ(ua_map_lookup_elem(m, NULL, v), -524);
	CHECK_EQ(ua_map_update_elem(m, NULL, v, 0), -524);
	CHECK_EQ(ua_map_get_next_key(m, NULL, k), -524);
	ua_map_free(m);
}

TEST(map, rdonly_wronly_syscall_access)
{
	struct ua_map *ro = mk(UA_MAP_HASH, 4, 4, 4, 1U << 3, 1); /* BPF_F_RDONLY */
	struct ua_map *wo = mk(UA_MAP_ARRAY, 4, 4, 4, 1U << 4, 1); /* BPF_F_WRONLY */
	uint32_t k = 0, v = 1;

	CHECK_EQ(ua_map_update_elem(ro, &k, &v, 0), -EPERM);
	CHECK_EQ(ua_map_delete_elem(ro, &k), -EPERM);
	CHECK_EQ(ua_map_lookup_elem(ro, &k, &v), -ENOENT);
	/* The program path is not restricted by the syscall flags. */
	CHECK_EQ(ro->ops->update(ro, &k, &v, 0, 0), 0);
	CHECK_EQ(ua_map_lookup_elem(ro, &k, &v), 0);
	CHECK_EQ(ua_map_update_elem(wo, &k, &v, 0), 0);
	CHECK_EQ(ua_map_lookup_elem(wo, &k, &v), -EPERM);
	ua_map_free(ro);
	ua_map_free(wo);
}
