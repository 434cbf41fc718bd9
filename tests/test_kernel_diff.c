/* SPDX-License-Identifier: MIT */
/*
 * uarena vs kernel on a clang-compiled object (the engine of `uarena diff`):
 * examples/arena_alloc.bpf.o, a page-fragment allocator on the arena kfuncs,
 * run on both sides; every map value and arena page must agree (user-form
 * pointers up to the arena base), and a planted difference must be reported.
 */
#include "test.h"

#include "kernel.h"

#include <uarena.h>
#include <uarena/object.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static const char *bpf_path(const char *name)
{
	static char path[512];
	const char *dir = getenv("UA_BPF_DIR");

	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir ? dir : "build/bpf", name);
	if (access(path, R_OK) != 0)
		SKIP("%s not built (make bpf)", path);
	return path;
}

/* The example's .bss layout, shared with the BPF program. */
#include "../examples/arena_alloc.h"

struct diff_env {
	struct ua_object *obj;
	struct ua_kdiff *d;
	struct alloc_globals *bss;
	uint64_t ubase, kbase;
};

static void setup(struct diff_env *e, int n_objs, int obj_size)
{
	char err[2048] = "", why[256];
	const char *path = bpf_path("arena_alloc");
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	struct ua_map *bss, *arena;
	size_t sz = 0;
	int ret;

	if (ua_kbpf_available(why, sizeof(why)) != 0)
		SKIP("bpf(): %s", why);
	ret = ua_object_open(path, &o, &e->obj);
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "open: %s", err);
	REQUIRE_EQ(ret, 0);
	bss = ua_object_find_map(e->obj, "arena_al.bss");
	arena = ua_object_find_map(e->obj, "arena");
	REQUIRE(bss && arena);
	e->bss = ua_map_mmaped(bss, &sz);
	REQUIRE(e->bss && sz >= sizeof(struct alloc_globals));
	e->bss->n_objs = n_objs;
	e->bss->obj_size = obj_size;
	e->ubase = (uint64_t)(uintptr_t)ua_map_mmaped(arena, NULL);

	ret = ua_kdiff_create(e->obj, path, NULL, &e->d, err, sizeof(err));
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "kdiff: %s", err);
	REQUIRE_EQ(ret, 0);
	e->kbase = ua_kdiff_kernel_arena_base(e->d);
	CHECK_EQ((uint32_t)e->kbase, (uint32_t)e->ubase);
	CHECK(e->kbase >> 32 != e->ubase >> 32);
}

static void teardown(struct diff_env *e)
{
	ua_kdiff_destroy(e->d);
	ua_object_close(e->obj);
}

/* The kernel twin keeps the object's map order. */
static uint32_t map_index(const struct ua_object *obj, const char *name)
{
	uint32_t i = 0;

	for (struct ua_map *m = ua_object_next_map(obj, NULL); m; m = ua_object_next_map(obj, m), i++)
		if (!strcmp(ua_map_name(m), name))
			return i;
	ua_test_fail(__FILE__, __LINE__, "no map '%s'", name);
	ua_test_end_now();
}

/* Runs prog on both sides with CPU id 0; both must return `want`. */
static void run_both(struct diff_env *e, const char *prog, uint32_t want)
{
	char err[256] = "";
	UA_OPTS(ua_test_run_opts, uo, .err_buf = err, .err_buf_sz = sizeof(err),
		.flags = UA_F_TEST_RUN_ON_CPU, .cpu = 0);
	struct ua_kbpf_test_run kr = { 0 };
	struct ua_program *p = ua_object_find_program(e->obj, prog);

	REQUIRE(p != NULL);
	REQUIRE_EQ(ua_program_test_run(p, &uo), 0);
	REQUIRE_EQ(ua_kdiff_kernel_test_run(e->d, prog, 0, &kr), 0);
	CHECK_EQ(uo.retval, want);
	CHECK_EQ(kr.retval, want);
}

/* Differences found, with the report kept for the failure message. */
static int compare(struct diff_env *e, char **report)
{
	size_t len = 0;
	FILE *f = open_memstream(report, &len);
	int n;

	REQUIRE(f != NULL);
	n = ua_kdiff_compare(e->d, f);
	fclose(f);
	return n;
}

TEST(kernel_diff, arena_alloc_agrees_with_kernel)
{
	struct diff_env e;
	struct alloc_globals kbss = { 0 };
	uint32_t key = 0;
	char *report = NULL;
	int n;

	setup(&e, 100, 48);
	n = compare(&e, &report);
	CHECK_EQ(n, 0);
	if (n)
		printf("before run:\n%s", report);
	free(report);

	run_both(&e, "alloc_objs", 0);
	n = compare(&e, &report);
	CHECK_EQ(n, 0);
	if (n)
		printf("after alloc_objs:\n%s", report);
	free(report);

	run_both(&e, "free_objs", 0);
	n = compare(&e, &report);
	CHECK_EQ(n, 0);
	if (n)
		printf("after free_objs:\n%s", report);
	free(report);

	/* after_free: the same page offset on both sides, each in its own arena. */
	REQUIRE_EQ(ua_kbpf_map_lookup(ua_kobj_map_fd(ua_kdiff_kobj(e.d), map_index(e.obj, "arena_al.bss")),
				      &key, &kbss, 0), 0);
	CHECK(e.bss->after_free != NULL);
	CHECK_EQ((uint64_t)(uintptr_t)e.bss->after_free - e.ubase,
		 (uint64_t)(uintptr_t)kbss.after_free - e.kbase);
	CHECK_EQ((uint64_t)(uintptr_t)kbss.objs - e.kbase, (uint64_t)(uintptr_t)e.bss->objs - e.ubase);
	teardown(&e);
}

TEST(kernel_diff, planted_differences_are_reported)
{
	struct diff_env e;
	char *report = NULL;
	int n;

	setup(&e, 10, 64);
	run_both(&e, "alloc_objs", 0);
	/* Change one byte of the first object (arena) and one bss field in uarena only. */
	REQUIRE(e.bss->after_free == NULL);
	e.bss->obj_size = 65;
	*((volatile uint8_t *)(uintptr_t)e.ubase + 4096 * 2 + 5) ^= 0xff;
	n = compare(&e, &report);
	CHECK_EQ(n, 2);
	CHECK_CONTAINS(report, "map 'arena_al.bss' key 0: differs at byte 0: uarena 0a 00 00 00 41");
	CHECK_CONTAINS(report, "arena page 2: differs at byte 0: uarena");
	free(report);
	teardown(&e);
}
