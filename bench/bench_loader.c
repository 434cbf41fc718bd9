/* SPDX-License-Identifier: MIT */
/*
 * Object loading: ua_object_open + ua_object_close of clang-built objects
 * from $UA_BPF_DIR (build/bpf), best of RUNS runs of ITERS each: ELF and
 * BTF parsing, map creation (arena included: create + user view), linking,
 * relocation and preparation of every program.
 *
 * object_open/loader_globals: six programs, five global-data maps, kconfig.
 * object_open/arena_htab: arena map (100 pages) + an arena hash table program.
 */
#include "bench.h"

#include <uarena.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ITERS 50
#define RUNS 3

static double open_close(const char *name)
{
	char path[512];
	const char *dir = getenv("UA_BPF_DIR");
	double best = 1e30;

	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir ? dir : "build/bpf", name);
	if (access(path, R_OK) != 0) {
		bench_skip("%s not built", path);
		return -1;
	}
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = bench_now_ns();

		for (int i = 0; i < ITERS; i++) {
			struct ua_object *obj;

			if (ua_object_open(path, NULL, &obj)) {
				bench_skip("%s does not load", path);
				return -1;
			}
			ua_object_close(obj);
		}
		double ns = (double)(bench_now_ns() - t0) / ITERS;

		if (ns < best)
			best = ns;
	}
	return best;
}

BENCH(object_open, loader_globals, 0) { return open_close("loader_globals"); }
BENCH(object_open, arena_htab, 1) { return open_close("arena_htab"); }
