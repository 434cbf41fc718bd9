/* SPDX-License-Identifier: MIT */
/*
 * RINGBUF map (kernel ringbuf.c semantics and record layout).
 *
 * Memory: one mapping of [control page][consumer_pos page][producer_pos
 * page][data][data again]: the data pages are mapped twice back to back
 * (memfd), so a record that wraps the end of the ring is still contiguous
 * for both the producer and the consumer, exactly like the kernel's vmap.
 *
 * A record is an 8-byte header {u32 len with BUSY (bit 31) while being
 * written and DISCARD (bit 30), u32 pg_off} then the sample, padded to 8.
 * pg_off = pages from the mapping start to the header's page, which is how
 * submit/discard find the ring from the sample pointer alone. Producers are
 * serialised by a spin lock (the kernel's rb->spinlock); the consumer walks
 * from consumer_pos, stopping at the first BUSY record.
 */
#include "map.h"

#include "internal.h"

#include <uarena/object.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define RB_PAGE 4096UL
#define RB_DATA_OFF (3 * RB_PAGE)

struct rb_ctrl { /* lives in the control page */
	struct ua_map *map;
	atomic_flag lock;
	uint64_t mask;
};

struct ringbuf_map {
	struct ua_map map;
	uint8_t *base; /* control page */
	size_t total;
	uint64_t size; /* data bytes (power of two) */
};

static struct ringbuf_map *to_rb(struct ua_map *m)
{
	return container_of(m, struct ringbuf_map, map);
}

static _Atomic uint64_t *cons_pos(uint8_t *base)
{
	return (_Atomic uint64_t *)(base + RB_PAGE);
}

static _Atomic uint64_t *prod_pos(uint8_t *base)
{
	return (_Atomic uint64_t *)(base + 2 * RB_PAGE);
}

static void *rb_lookup(struct ua_map *m, const void *key, uint32_t cpu) { return NULL; }
static int rb_update(struct ua_map *m, const void *k, const void *v, uint64_t f, uint32_t c)
{
	return -UA_ENOTSUPP;
}
static int rb_update_user(struct ua_map *m, const void *k, const void *v, uint64_t f)
{
	return -UA_ENOTSUPP;
}
static int rb_lookup_user(struct ua_map *m, const void *k, void *v) { return -UA_ENOTSUPP; }
static int rb_delete(struct ua_map *m, const void *k) { return -UA_ENOTSUPP; }
static int rb_next(struct ua_map *m, const void *k, void *n) { return -UA_ENOTSUPP; }

static void rb_free(struct ua_map *m)
{
	struct ringbuf_map *r = to_rb(m);

	if (r->base)
		munmap(r->base, r->total);
	free(r);
}

static const struct ua_map_ops ringbuf_ops = {
	.lookup = rb_lookup,
	.update = rb_update,
	.delete = rb_delete,
	.get_next_key = rb_next,
	.lookup_user = rb_lookup_user,
	.update_user = rb_update_user,
	.free = rb_free,
};

static int map_ring(struct ringbuf_map *r)
{
	int fd = memfd_create("uarena-ringbuf", MFD_CLOEXEC);
	uint8_t *p;

	if (fd < 0)
		return -errno;
	r->total = RB_DATA_OFF + 2 * r->size;
	if (ftruncate(fd, (off_t)(RB_DATA_OFF + r->size)) < 0)
		goto fail;
	p = mmap(NULL, r->total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->base = p;
	if (mmap(p, RB_DATA_OFF + r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    MAP_FAILED ||
	    mmap(p + RB_DATA_OFF + r->size, r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, RB_DATA_OFF) == MAP_FAILED)
		goto fail;
	close(fd);
	return 0;
fail:
	close(fd);
	return -ENOMEM;
}

int ua_map_ringbuf_create(const struct ua_map_def *def, char *err, size_t err_sz,
			  struct ua_map **out)
{
	const char *name = def->name ? def->name : "";
	struct ringbuf_map *r;
	uint32_t n = def->max_entries;
	int ret;

	if (def->key_size || def->value_size || n == 0 || (n & (n - 1)) || n % RB_PAGE ||
	    (def->map_flags & ~(1U << 2)))
		return ua_errf(err, err_sz, -EINVAL,
			       "map: '%s': ring buffer needs key/value size 0 and a power-of-2 "
			       "page-multiple max_entries (got %u)",
			       name, n);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ua_map_init_common(&r->map, def, &ringbuf_ops);
	r->size = n;
	ret = map_ring(r);
	if (ret) {
		rb_free(&r->map);
		return ua_errf(err, err_sz, ret, "map: '%s': cannot map %u-byte ring", name, n);
	}
	struct rb_ctrl *c = (struct rb_ctrl *)r->base;

	c->map = &r->map;
	r->map.value_mem = r->base + RB_DATA_OFF; /* both copies of the data pages */
	r->map.value_mem_sz = 2 * r->size;
	c->mask = r->size - 1;
	atomic_flag_clear(&c->lock);
	*out = &r->map;
	return 0;
}

static uint32_t rec_len(uint32_t len)
{
	return UA_ROUND_UP((len & ~(UA_RINGBUF_BUSY_BIT | UA_RINGBUF_DISCARD_BIT)) +
				   UA_RINGBUF_HDR_SZ, 8);
}

void *ua_ringbuf_reserve(struct ua_map *m, uint64_t size, uint64_t flags)
{
	if (!m || m->type != UA_MAP_RINGBUF || flags)
		return NULL;
	struct ringbuf_map *r = to_rb(m);
	struct rb_ctrl *c = (struct rb_ctrl *)r->base;

	if (size > r->size - UA_RINGBUF_HDR_SZ || size > (UA_RINGBUF_DISCARD_BIT - 1))
		return NULL;
	uint32_t len = (uint32_t)size, total = rec_len(len);
	void *sample = NULL;

	while (atomic_flag_test_and_set_explicit(&c->lock, memory_order_acquire))
		;
	uint64_t cons = atomic_load_explicit(cons_pos(r->base), memory_order_acquire);
	uint64_t prod = atomic_load_explicit(prod_pos(r->base), memory_order_relaxed);

	if (prod + total - cons <= c->mask) { /* the kernel never fills the ring completely */
		uint8_t *hdr = r->base + RB_DATA_OFF + (prod & c->mask);
		uint32_t pg_off = (uint32_t)(((uintptr_t)hdr & ~(RB_PAGE - 1)) - (uintptr_t)r->base) /
				  RB_PAGE;

		atomic_store_explicit((_Atomic uint32_t *)hdr, len | UA_RINGBUF_BUSY_BIT,
				      memory_order_relaxed);
		memcpy(hdr + 4, &pg_off, 4);
		atomic_store_explicit(prod_pos(r->base), prod + total, memory_order_release);
		sample = hdr + UA_RINGBUF_HDR_SZ;
	}
	atomic_flag_clear_explicit(&c->lock, memory_order_release);
	return sample;
}

static void commit(void *sample, bool discard)
{
	uint8_t *hdr = (uint8_t *)sample - UA_RINGBUF_HDR_SZ;
	_Atomic uint32_t *lenp = (_Atomic uint32_t *)hdr;
	uint32_t len = atomic_load_explicit(lenp, memory_order_relaxed) & ~UA_RINGBUF_BUSY_BIT;

	if (discard)
		len |= UA_RINGBUF_DISCARD_BIT;
	atomic_store_explicit(lenp, len, memory_order_release);
}

void ua_ringbuf_submit(void *sample, uint64_t flags)
{
	if (sample)
		commit(sample, false);
}

void ua_ringbuf_discard(void *sample, uint64_t flags)
{
	if (sample)
		commit(sample, true);
}

long ua_ringbuf_output(struct ua_map *m, const void *data, uint64_t size, uint64_t flags)
{
	/* Only the wakeup flags (BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) are valid. */
	if (flags & ~3ULL)
		return -EINVAL;
	void *s = ua_ringbuf_reserve(m, size, 0);

	if (!s)
		return -EAGAIN;
	memcpy(s, data, size);
	commit(s, false);
	return 0;
}

uint64_t ua_ringbuf_query(struct ua_map *m, uint64_t flags)
{
	if (!m || m->type != UA_MAP_RINGBUF)
		return 0;
	struct ringbuf_map *r = to_rb(m);
	uint64_t cons = atomic_load(cons_pos(r->base)), prod = atomic_load(prod_pos(r->base));

	switch (flags) {
	case UA_RB_AVAIL_DATA:
		return prod - cons;
	case UA_RB_RING_SIZE:
		return r->size;
	case UA_RB_CONS_POS:
		return cons;
	case UA_RB_PROD_POS:
		return prod;
	default:
		return 0;
	}
}

int ua_ringbuf_consume(struct ua_map *m, ua_ringbuf_sample_fn cb, void *ctx)
{
	if (!m || m->type != UA_MAP_RINGBUF || !cb)
		return -EINVAL;
	struct ringbuf_map *r = to_rb(m);
	uint64_t cons = atomic_load_explicit(cons_pos(r->base), memory_order_acquire);
	int n = 0;

	for (;;) {
		uint64_t prod = atomic_load_explicit(prod_pos(r->base), memory_order_acquire);

		if (cons >= prod)
			break;
		uint8_t *hdr = r->base + RB_DATA_OFF + (cons & (r->size - 1));
		uint32_t len = atomic_load_explicit((_Atomic uint32_t *)hdr, memory_order_acquire);

		if (len & UA_RINGBUF_BUSY_BIT)
			break;
		int stop = 0;

		if (!(len & UA_RINGBUF_DISCARD_BIT)) {
			stop = cb(ctx, hdr + UA_RINGBUF_HDR_SZ, len);
			n++;
		}
		cons += rec_len(len);
		atomic_store_explicit(cons_pos(r->base), cons, memory_order_release);
		if (stop)
			break;
	}
	return n;
}
