/* SPDX-License-Identifier: MIT */
/*
 * The examples end to end: each BPF program is loaded with the object API,
 * run in the interpreter, and the host checks what it built by reading the
 * arena through its user view with plain pointers (and changes it, to show
 * the BPF side sees host stores too). Values are exact.
 */
#include <errno.h>
#include <stddef.h>

#include "../examples/arena_alloc.h"
#include "../examples/arena_htab.h"
#include "../examples/arena_list.h"
#include "example_util.h"

#include <linux/types.h>
#include "../examples/xdp_arena_kv.h"

static bool in_arena(struct ua_arena *a, const void *p, size_t len)
{
	uintptr_t base = (uintptr_t)ua_arena_user_base(a);

	return (uintptr_t)p >= base && (uintptr_t)p + len <= base + ua_arena_size(a);
}

static void check_list(int cnt)
{
	struct ua_object *obj = open_example("arena_list", NULL, 0);
	struct ua_arena *a = example_arena(obj);
	struct list_globals *g = example_bss(obj, sizeof(*g));
	struct arena_list_node *n, **pprev;
	long expect_sum = (long)cnt * (cnt - 1) / 2, sum = 0;
	int count = 0;

	g->cnt = cnt;
	CHECK_EQ(run_prog(obj, "arena_list_add", NULL, 0), 0);
	REQUIRE(g->list_head != NULL);
	REQUIRE(in_arena(a, g->list_head, sizeof(*g->list_head)));
	REQUIRE(in_arena(a, g->stats, sizeof(*g->stats)));

	/* Walk what BPF built: newest first, values cnt-1 down to 0, pprev links exact. */
	pprev = &g->list_head->first;
	for (n = g->list_head->first; n && count <= cnt; n = n->next) {
		struct elem *e = (struct elem *)((char *)n - offsetof(struct elem, node));

		REQUIRE(in_arena(a, e, sizeof(*e)));
		CHECK_EQ(e->value, cnt - 1 - count);
		CHECK(n->pprev == pprev);
		pprev = &n->next;
		sum += (long)e->value;
		count++;
	}
	CHECK_EQ(count, cnt);
	CHECK_EQ(sum, expect_sum);
	CHECK_EQ(g->stats->arena_sum, expect_sum);
	CHECK_EQ(g->stats->test_val, cnt + 1);

	/* A host store into an element is what the BPF side sums next. */
	((struct elem *)((char *)g->list_head->first - offsetof(struct elem, node)))->value += 1000;
	CHECK_EQ(run_prog(obj, "arena_list_del", NULL, 0), 0);
	CHECK_EQ(g->list_sum, expect_sum + 1000);
	CHECK(g->list_head->first == NULL);
	CHECK_EQ(g->stats->arena_sum, -1000);
	ua_object_close(obj);
}

TEST(examples, arena_list_1)
{
	check_list(1);
}

TEST(examples, arena_list_1000)
{
	check_list(1000);
}

static void check_htab(const char *obj_name)
{
	struct ua_object *obj = open_example(obj_name, NULL, 0);
	struct ua_arena *a = example_arena(obj);
	struct htab_globals *g = example_bss(obj, sizeof(*g));
	int value = -1, elems = 0;

	CHECK_EQ(run_prog(obj, "arena_htab_build", NULL, 0), 0);
	CHECK_EQ(g->lookup_errors, 0);
	REQUIRE(g->htab != NULL && in_arena(a, g->htab, sizeof(*g->htab)));
	CHECK_EQ(g->htab->n_buckets, 2 * 4096 / (int)sizeof(struct htab_bucket));
	REQUIRE(in_arena(a, g->htab->buckets, 2 * 4096));
	for (int k = 0; k < N_KEYS; k++) {
		value = -1;
		CHECK_EQ(htab_lookup_elem(g->htab, k, &value), 0);
		CHECK_EQ(value, 2 * k + 1);
	}
	CHECK_EQ(htab_lookup_elem(g->htab, N_KEYS, &value), -1);
	CHECK_EQ(htab_lookup_elem(g->htab, -1, &value), -1);
	/* Replaced elements were unlinked: exactly one per key remains. */
	for (int b = 0; b < g->htab->n_buckets; b++)
		for (struct arena_list_node *n = g->htab->buckets[b].head.first; n; n = n->next)
			elems++;
	CHECK_EQ(elems, N_KEYS);
	ua_object_close(obj);
}

TEST(examples, arena_htab_built_by_bpf_queried_by_host)
{
	check_htab("arena_htab");
}

/* Same program with explicit addr_space_cast instructions (BPF_ARENA_FORCE_ASM). */
TEST(examples, arena_htab_asm_casts)
{
	check_htab("arena_htab_asm");
}

/* Ethernet + IPv4 header (+ 8 bytes of UDP) from saddr, as bytes. */
static size_t make_packet(uint8_t *pkt, uint16_t proto, const uint8_t saddr[4])
{
	memset(pkt, 0, 42);
	memcpy(pkt, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	pkt[12] = proto >> 8;
	pkt[13] = proto & 0xff;
	pkt[14] = 0x45;
	pkt[14 + 3] = 28;
	pkt[14 + 8] = 64;
	pkt[14 + 9] = 17;
	memcpy(pkt + 14 + 12, saddr, 4);
	memcpy(pkt + 14 + 16, "\x0a\x00\x00\xfe", 4);
	return 42;
}

static uint32_t run_xdp(struct ua_object *obj, const uint8_t *pkt, size_t len)
{
	uint8_t out[128];
	char err[256] = "";
	struct ua_program *p = ua_object_find_program(obj, "xdp_kv_filter");
	int ret;

	REQUIRE(p != NULL);
	UA_OPTS(ua_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		.data_out = out, .data_size_out = sizeof(out), .err_buf = err,
		.err_buf_sz = sizeof(err));
	ret = ua_program_test_run(p, &o);
	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "xdp run: %d (%s)", ret, err);
		ua_test_end_now();
	}
	return o.retval;
}

/* Inserts like the BPF side looks up: linear probing from kv_hash(). */
static struct kv_entry *kv_insert(struct kv_table *t, const uint8_t ip[4], uint32_t verdict)
{
	uint32_t saddr, h;

	memcpy(&saddr, ip, 4);
	h = kv_hash(saddr);
	for (uint32_t i = 0; i < KV_MAX_PROBE; i++) {
		struct kv_entry *e = &t->slot[(h + i) & (KV_SLOTS - 1)];

		if (e->saddr == 0 || e->saddr == saddr) {
			e->saddr = saddr;
			e->verdict = verdict;
			t->entries_used++;
			return e;
		}
	}
	return NULL;
}

TEST(examples, xdp_reads_host_filled_arena_table)
{
	struct ua_object *obj = open_example("xdp_arena_kv", NULL, 0);
	struct kv_table *t = ua_arena_user_base(example_arena(obj));
	static const uint8_t ip_drop[4] = { 10, 0, 0, 1 }, ip_tx[4] = { 10, 0, 0, 2 },
			     ip_other[4] = { 192, 168, 1, 7 }, ip_unknown[4] = { 172, 16, 0, 9 };
	struct kv_entry *e_drop, *e_tx, *e_other;
	uint8_t pkt[64];
	size_t len;

	/* The host fills the table with plain stores through the user view. */
	t->default_verdict = 2; /* XDP_PASS */
	REQUIRE((e_drop = kv_insert(t, ip_drop, 1 /* XDP_DROP */)) != NULL);
	REQUIRE((e_tx = kv_insert(t, ip_tx, 3 /* XDP_TX */)) != NULL);
	REQUIRE((e_other = kv_insert(t, ip_other, 1)) != NULL);

	len = make_packet(pkt, 0x0800, ip_drop);
	CHECK_EQ(run_xdp(obj, pkt, len), 1);
	CHECK_EQ(run_xdp(obj, pkt, len), 1);
	len = make_packet(pkt, 0x0800, ip_tx);
	CHECK_EQ(run_xdp(obj, pkt, len), 3);
	len = make_packet(pkt, 0x0800, ip_other);
	CHECK_EQ(run_xdp(obj, pkt, len), 1);
	len = make_packet(pkt, 0x0800, ip_unknown);
	CHECK_EQ(run_xdp(obj, pkt, len), 2);
	len = make_packet(pkt, 0x0806, ip_drop); /* ARP: not looked up */
	CHECK_EQ(run_xdp(obj, pkt, len), 2);
	len = make_packet(pkt, 0x0800, ip_tx);
	CHECK_EQ(run_xdp(obj, pkt, 20), 1); /* IPv4 header cut short: drop, no lookup */
	{
		/* Shorter than an Ethernet header: refused before running, like the kernel. */
		struct ua_program *p = ua_object_find_program(obj, "xdp_kv_filter");
		UA_OPTS(ua_test_run_opts, o, .data_in = pkt, .data_size_in = 10);
		CHECK_EQ(ua_program_test_run(p, &o), -EINVAL);
	}

	/* What BPF counted, read back by the host. */
	CHECK_EQ(e_drop->hits, 2);
	CHECK_EQ(e_tx->hits, 1);
	CHECK_EQ(e_other->hits, 1);
	CHECK_EQ(t->misses, 1);

	/* A host update is the next packet's verdict. */
	e_drop->verdict = 2;
	len = make_packet(pkt, 0x0800, ip_drop);
	CHECK_EQ(run_xdp(obj, pkt, len), 2);
	CHECK_EQ(e_drop->hits, 3);
	ua_object_close(obj);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

TEST(examples, bpf_allocator_on_page_kfuncs)
{
	struct ua_object *obj = open_example("arena_alloc", NULL, 0);
	struct ua_arena *a = example_arena(obj);
	struct alloc_globals *g = example_bss(obj, sizeof(*g));
	const int n = 300, size = 24, per_page = (4096 - 8) / 24; /* 170 */
	uintptr_t sorted[300], first_page;

	g->n_objs = n;
	g->obj_size = size;
	CHECK_EQ(run_prog(obj, "alloc_objs", NULL, 0), 0);
	REQUIRE(g->objs != NULL && in_arena(a, g->objs, MAX_OBJS * sizeof(void *)));

	/* Bump-down inside a page: object 0 sits right below the page's counter. */
	first_page = (uintptr_t)g->objs[0] & ~(uintptr_t)4095;
	CHECK_EQ((uintptr_t)g->objs[0], first_page + 4096 - 8 - size);
	CHECK_EQ((uintptr_t)g->objs[per_page], first_page + 4096 + 4096 - 8 - size);
	for (int k = 0; k < n; k++) {
		uint8_t *o = g->objs[k];

		REQUIRE(in_arena(a, o, size));
		CHECK_EQ((uintptr_t)o % 8, 0);
		for (int b = 0; b < size; b++)
			if (o[b] != (k & 0xff)) {
				CHECK_EQ(o[b], k & 0xff);
				break;
			}
		sorted[k] = (uintptr_t)o;
	}
	qsort(sorted, n, sizeof(sorted[0]), cmp_ptr);
	for (int k = 1; k < n; k++)
		CHECK(sorted[k] - sorted[k - 1] >= (uintptr_t)size);
	/* Each page's last 8 bytes count its live objects. */
	CHECK_EQ(*(uint64_t *)(first_page + 4096 - 8), per_page);
	CHECK_EQ(*(uint64_t *)(first_page + 2 * 4096 - 8), n - per_page);

	CHECK_EQ(run_prog(obj, "free_objs", NULL, 0), 0);
	/* Both pages went back to the arena: the lowest is handed out again. */
	CHECK_EQ((uintptr_t)g->after_free, first_page);
	ua_object_close(obj);
}
