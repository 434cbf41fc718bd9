/* SPDX-License-Identifier: MIT */
/*
 * Example programs as workloads (progs module):
 *   xdp_kv_packet — per-packet cost of examples/xdp_arena_kv.bpf.o on a
 *     table hit, run by ua_program_test_run(repeat), against the same lookup
 *     written in C over the same arena table (the interpreter's overhead on a
 *     realistic packet program, arena loads included).
 *   arena_list_add — per-element cost of examples/arena_list.bpf.o building
 *     a 1000-element list (bpf_alloc + arena kfunc + 5 arena stores per elem).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <uarena.h>

#include "../examples/arena_list.h"
#include "../examples/xdp_arena_kv.h"
#include "bench.h"

static struct ua_object *open_obj(const char *name, const char *object_name)
{
	const char *dir = getenv("UA_BPF_DIR");
	char path[512], err[512] = "";
	struct ua_object *obj = NULL;

	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir && *dir ? dir : "build/bpf", name);
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.object_name = object_name);
	if (ua_object_open(path, &o, &obj)) {
		bench_skip("%s: %s", path, err);
		return NULL;
	}
	return obj;
}

static const uint8_t bench_ip[4] = { 10, 1, 2, 3 };

static void fill_table(struct kv_table *t)
{
	uint32_t saddr, h;

	memcpy(&saddr, bench_ip, 4);
	h = kv_hash(saddr);
	t->default_verdict = 2;
	t->slot[h & (KV_SLOTS - 1)] = (struct kv_entry){ .saddr = saddr, .verdict = 1 };
}

static void make_pkt(uint8_t pkt[42])
{
	memset(pkt, 0, 42);
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	memcpy(pkt + 26, bench_ip, 4);
}

static double xdp_kv(uint32_t flags)
{
	struct ua_object *obj = open_obj("xdp_arena_kv", "bench");
	uint8_t pkt[42], out[64];
	double ns;

	if (!obj)
		return -1;
	fill_table(ua_arena_user_base(ua_map_arena(ua_object_find_map(obj, "arena"))));
	make_pkt(pkt);
	UA_OPTS(ua_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		.data_out = out, .data_size_out = sizeof(out), .repeat = 200000, .flags = flags);
	if (ua_program_test_run(ua_object_find_program(obj, "xdp_kv_filter"), &o) ||
	    o.retval != 1) {
		bench_skip("xdp run failed");
		ua_object_close(obj);
		return -1;
	}
	ns = o.duration;
	ua_object_close(obj);
	return ns;
}

BENCH(xdp_kv_packet, uarena, 0) { return xdp_kv(0); }
BENCH(xdp_kv_packet, uarena_jit, 2) { return xdp_kv(UA_F_TEST_RUN_JIT); }

/* The program's logic in C, on the same kind of table. */
__attribute__((noinline)) static uint32_t native_filter(struct kv_table *t, const uint8_t *data,
							const uint8_t *end)
{
	uint32_t saddr, h;

	if (data + 34 > end)
		return 1;
	if (((data[12] << 8) | data[13]) != 0x0800)
		return 2;
	memcpy(&saddr, data + 26, 4);
	h = kv_hash(saddr);
	for (uint32_t i = 0; i < KV_MAX_PROBE; i++) {
		struct kv_entry *e = &t->slot[(h + i) & (KV_SLOTS - 1)];

		if (e->saddr == saddr) {
			__atomic_fetch_add(&e->hits, 1, __ATOMIC_RELAXED);
			return e->verdict;
		}
		if (!e->saddr)
			break;
	}
	__atomic_fetch_add(&t->misses, 1, __ATOMIC_RELAXED);
	return t->default_verdict;
}

BENCH(xdp_kv_packet, native, 1)
{
	struct kv_table *t = calloc(1, sizeof(*t));
	const int n = 2000000;
	uint8_t pkt[42];
	uint64_t t0, sum = 0;

	if (!t)
		return -1;
	fill_table(t);
	make_pkt(pkt);
	t0 = bench_now_ns();
	for (int i = 0; i < n; i++)
		sum += native_filter(t, pkt, pkt + sizeof(pkt));
	bench_keep(sum);
	free(t);
	return (double)(bench_now_ns() - t0) / n;
}

static double list_add(uint32_t flags)
{
	struct ua_object *obj = open_obj("arena_list", "bench");
	struct list_globals *g;
	double ns = -1;

	if (!obj)
		return -1;
	g = ua_map_mmaped(ua_object_find_map(obj, "bench.bss"), NULL);
	g->cnt = 1000;
	UA_OPTS(ua_test_run_opts, o, .flags = flags);
	if (ua_program_test_run(ua_object_find_program(obj, "arena_list_add"), &o) || o.retval)
		bench_skip("arena_list_add failed");
	else
		ns = (double)o.duration / 1000;
	ua_object_close(obj);
	return ns;
}

BENCH(arena_list_add, uarena, 0) { return list_add(0); }
BENCH(arena_list_add, uarena_jit, 1) { return list_add(UA_F_TEST_RUN_JIT); }
