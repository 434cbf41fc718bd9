/* SPDX-License-Identifier: MIT */
/*
 * Maps and the run API. Best of RUNS runs (shared machine).
 *
 * map_hash/lookup_prog_path: ops->lookup on a 1024-entry hash (what
 *   bpf_map_lookup_elem does), keys cycling over the 1024 present keys.
 * map_hash/lookup_user_api: ua_map_lookup_elem (copies the value).
 * map_hash/update_user_api: ua_map_update_elem(BPF_EXIST).
 * test_run/calls_repeat1: one ua_program_test_run per op, a program that
 *   returns at once (the per-call cost: CPU id pool, exec setup, timing).
 * test_run/calls_repeat1000: one call with repeat = 1000, per run.
 */
#include "bench.h"

#include "map.h"

#include <uarena.h>

#include <stdlib.h>

#define ITERS 200000u
#define RUNS 5
#define KEYS 1024u

static struct ua_map *hash_with_keys(void)
{
	struct ua_map_def d = { .name = "b", .type = UA_MAP_HASH, .key_size = 4, .value_size = 8,
				.max_entries = KEYS, .nr_cpus = 1 };
	struct ua_map *m;

	if (ua_map_create(&d, NULL, 0, &m))
		return NULL;
	for (uint32_t k = 0; k < KEYS; k++) {
		uint64_t v = k;

		ua_map_update_elem(m, &k, &v, 0);
	}
	return m;
}

static double best_of(double (*one)(struct ua_map *), struct ua_map *m)
{
	double best = 1e30;

	for (int r = 0; r < RUNS; r++) {
		double ns = one(m);

		if (ns < best)
			best = ns;
	}
	return best;
}

static double one_prog_lookup(struct ua_map *m)
{
	uint64_t t0 = bench_now_ns(), sum = 0;

	for (uint32_t i = 0; i < ITERS; i++) {
		uint32_t k = i % KEYS;
		uint64_t *v = m->ops->lookup(m, &k, 0);

		sum += *v;
	}
	bench_keep(sum);
	return (double)(bench_now_ns() - t0) / ITERS;
}

static double one_user_lookup(struct ua_map *m)
{
	uint64_t t0 = bench_now_ns(), sum = 0, v;

	for (uint32_t i = 0; i < ITERS; i++) {
		uint32_t k = i % KEYS;

		ua_map_lookup_elem(m, &k, &v);
		sum += v;
	}
	bench_keep(sum);
	return (double)(bench_now_ns() - t0) / ITERS;
}

static double one_user_update(struct ua_map *m)
{
	uint64_t t0 = bench_now_ns();

	for (uint32_t i = 0; i < ITERS; i++) {
		uint32_t k = i % KEYS;
		uint64_t v = i;

		ua_map_update_elem(m, &k, &v, UA_EXIST);
	}
	return (double)(bench_now_ns() - t0) / ITERS;
}

static double hash_bench(double (*one)(struct ua_map *))
{
	struct ua_map *m = hash_with_keys();
	double ns;

	if (!m) {
		bench_skip("cannot create hash map");
		return -1;
	}
	ns = best_of(one, m);
	ua_map_free(m);
	return ns;
}

BENCH(map_hash, lookup_prog_path, 0) { return hash_bench(one_prog_lookup); }
BENCH(map_hash, lookup_user_api, 1) { return hash_bench(one_user_lookup); }
BENCH(map_hash, update_user_api, 2) { return hash_bench(one_user_update); }

static struct ua_program *ret0_prog(void)
{
	static const struct ua_insn insns[] = {
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 0, .imm = 0 },
		{ .code = UA_JMP | UA_EXIT },
	};
	struct ua_program *p;

	return ua_program_load_raw(insns, 2, NULL, &p) ? NULL : p;
}

static double test_run_bench(int repeat, unsigned calls)
{
	struct ua_program *p = ret0_prog();
	double best = 1e30;

	if (!p) {
		bench_skip("cannot load raw program");
		return -1;
	}
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = bench_now_ns();

		for (unsigned i = 0; i < calls; i++) {
			UA_OPTS(ua_test_run_opts, o, .repeat = repeat);

			ua_program_test_run(p, &o);
		}
		double ns = (double)(bench_now_ns() - t0) / ((double)calls * repeat);

		if (ns < best)
			best = ns;
	}
	ua_program_free_raw(p);
	return best;
}

BENCH(test_run, calls_repeat1, 0) { return test_run_bench(1, 20000); }
BENCH(test_run, calls_repeat1000, 1) { return test_run_bench(1000, 200); }
