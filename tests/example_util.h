/* SPDX-License-Identifier: MIT */
/*
 * Shared by the example and program tests: open a BPF object built into
 * $UA_BPF_DIR (build/bpf), run one of its programs, reach its .bss.
 */
#ifndef UA_TEST_EXAMPLE_UTIL_H
#define UA_TEST_EXAMPLE_UTIL_H

#include <stdlib.h>

#include <uarena.h>

#include "test.h"
#include "util.h"

/* Opens NAME.bpf.o with global-data maps named "ex.*"; only_prog may be NULL. */
static inline struct ua_object *open_example(const char *name, const char *only_prog,
					     uint32_t nr_cpus)
{
	const char *path = ua_test_bpf_obj(name);
	char err[512] = "";
	struct ua_object *obj = NULL;
	int ret;

	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.object_name = "ex", .only_prog = only_prog, .nr_cpus = nr_cpus);
	ret = ua_object_open(path, &o, &obj);
	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "open %s: %d (%s)", path, ret, err);
		ua_test_end_now();
	}
	return obj;
}

/* Runs prog with an optional ctx; returns the program's retval, fails the test on a run error. */
static inline uint32_t run_prog(struct ua_object *obj, const char *prog, const void *ctx,
				uint32_t ctx_sz)
{
	char err[512] = "";
	struct ua_program *p = ua_object_find_program(obj, prog);
	int ret;

	if (!p) {
		ua_test_fail(__FILE__, __LINE__, "no program %s", prog);
		ua_test_end_now();
	}
	UA_OPTS(ua_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = ctx_sz, .err_buf = err,
		.err_buf_sz = sizeof(err));
	ret = ua_program_test_run(p, &o);
	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "run %s: %d (%s)", prog, ret, err);
		ua_test_end_now();
	}
	return o.retval;
}

/* Host pointer to the object's .bss ("ex.bss"), at least want bytes. */
static inline void *example_bss(struct ua_object *obj, size_t want)
{
	struct ua_map *m = ua_object_find_map(obj, "ex.bss");
	size_t sz = 0;
	void *p = m ? ua_map_mmaped(m, &sz) : NULL;

	if (!p || sz < want) {
		ua_test_fail(__FILE__, __LINE__, "no .bss map of %zu bytes (got %p, %zu)", want, p,
			     sz);
		ua_test_end_now();
	}
	return p;
}

static inline struct ua_arena *example_arena(struct ua_object *obj)
{
	struct ua_map *m = ua_object_find_map(obj, "arena");
	struct ua_arena *a = m ? ua_map_arena(m) : NULL;

	if (!a) {
		ua_test_fail(__FILE__, __LINE__, "no arena map");
		ua_test_end_now();
	}
	return a;
}

#endif
