/* SPDX-License-Identifier: MIT */
/*
 * Arena maps and arena globals through the loader (spec §5): the image of
 * .addr_space.1 at offset 0 (libbpf <= 1.6) or at the end (globals_at_end),
 * written through the user view so those pages count as allocated, and
 * programs and host sharing the same bytes.
 */
#include "test.h"
#include "util.h"

#include <uarena.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static uint32_t run_ok(struct ua_object *obj, const char *name)
{
	char err[256] = "";
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	int ret = ua_program_test_run(ua_object_find_program(obj, name), &o);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "run %s: %d %s", name, ret, err);
	REQUIRE_EQ(ret, 0);
	return o.retval;
}

static void check_arena_globals(bool at_end)
{
	char err[256] = "";
	struct ua_object *obj;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.globals_at_end = at_end);
	int ret = ua_object_open(ua_test_bpf_obj_built("loader_arena"), &o, &obj);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "open: %d %s", ret, err);
	REQUIRE_EQ(ret, 0);
	struct ua_map *m = ua_object_find_map(obj, "arena");

	REQUIRE(m != NULL);
	CHECK_EQ(ua_map_type(m), 33);
	CHECK_EQ(ua_map_max_entries(m), 4);
	struct ua_arena *a = ua_map_arena(m);

	REQUIRE(a != NULL);
	size_t sz;
	uint8_t *base = ua_map_mmaped(m, &sz);

	/* map_extra = 1 << 45 is where the user view lives. */
	CHECK_EQ((uintptr_t)base, 1ULL << 45);
	CHECK_EQ((uintptr_t)ua_arena_user_base(a), 1ULL << 45);
	CHECK_EQ(sz, 4 * 4096);
	uint32_t off = run_ok(obj, "where");
	uint64_t page = at_end ? 3 * 4096 : 0;

	/* `initialised` sits in the globals page: offset 0 or the last page. */
	CHECK(off >= page && off < page + 4096);
	int *initialised = (int *)(base + off);

	CHECK_EQ(*initialised, 41);
	CHECK_EQ(run_ok(obj, "bump"), 42);
	CHECK_EQ(run_ok(obj, "bump"), 43);
	CHECK_EQ(*initialised, 43);
	/* The host writes, the program sees it. */
	*initialised = 99;
	CHECK_EQ(run_ok(obj, "bump"), 100);
	/* The globals page is allocated: the allocator must not hand it out again. */
	void *p = ua_arena_alloc_pages(a, base + page, 1, -1, 0);

	CHECK(p == NULL);
	ua_object_close(obj);
}

TEST(loader_arena, globals_at_offset_zero)
{
	check_arena_globals(false);
}

TEST(loader_arena, globals_at_end)
{
	check_arena_globals(true);
}

TEST(loader_arena, globals_without_arena_map_rejected)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_arena_noarena"), &o, &obj), -ENOENT);
	CHECK(obj == NULL);
	CHECK_CONTAINS(err, "ARENA map should be explicitly declared in SEC(\".maps\")");
}

TEST(loader_arena, image_larger_than_arena_rejected)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_arena_small"), &o, &obj), -E2BIG);
	CHECK_CONTAINS(err, "declared ARENA map size (4096) is too small to hold 8192 bytes");
}

TEST(loader_arena, map_syscall_ops_have_kernel_errnos)
{
	char err[256] = "";
	struct ua_object *obj;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_arena"), &o, &obj), 0);
	struct ua_map *m = ua_object_find_map(obj, "arena");
	uint32_t key = 0;
	char val[8], next[8];

	/* spec §1: lookup -EINVAL; update/delete/next -EOPNOTSUPP with NULL key, -EINVAL with one. */
	CHECK_EQ(ua_map_lookup_elem(m, NULL, val), -EINVAL);
	CHECK_EQ(ua_map_update_elem(m, NULL, val, 0), -EOPNOTSUPP);
	CHECK_EQ(ua_map_update_elem(m, &key, val, 0), -EINVAL);
	CHECK_EQ(ua_map_delete_elem(m, NULL), -EOPNOTSUPP);
	CHECK_EQ(ua_map_delete_elem(m, &key), -EINVAL);
	CHECK_EQ(ua_map_get_next_key(m, NULL, next), -EOPNOTSUPP);
	CHECK_EQ(ua_map_get_next_key(m, &key, next), -EINVAL);
	ua_object_close(obj);
}

TEST(loader_arena, second_arena_rejected)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_two_arenas"), &o, &obj), -EINVAL);
	CHECK_CONTAINS(err, "loader: map 'arena2': only single ARENA map is supported");
}

TEST(loader_arena, unsupported_map_type_named)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_lru"), &o, &obj), -EOPNOTSUPP);
	CHECK_CONTAINS(err, "loader: cannot create map 'lru': map: 'lru': map type 9 is not supported");
	/* only_prog: a program that does not use the map loads... */
	o.only_prog = "other";
	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_lru"), &o, &obj), 0);
	CHECK(ua_object_find_map(obj, "lru") == NULL);
	UA_OPTS(ua_test_run_opts, r);
	REQUIRE_EQ(ua_program_test_run(ua_object_find_program(obj, "other"), &r), 0);
	CHECK_EQ(r.retval, 3);
	ua_object_close(obj);
	/* ...and the one that does is refused, naming the map and why. */
	o.only_prog = "use";
	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_lru"), &o, &obj), -EOPNOTSUPP);
	CHECK_CONTAINS(err, "loader: prog 'use' insn ");
	CHECK_CONTAINS(err, "uses map 'lru', which could not be created (loader: cannot create map "
			    "'lru': map: 'lru': map type 9 is not supported)");
}

TEST(loader_arena, relocated_insns_name_maps_and_kfuncs)
{
	char err[256] = "";
	struct ua_object *obj;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "basic_alloc1");
	const char *path = ua_test_bpf_obj_built("arena_verifier");
	int ret = ua_object_open(path, &o, &obj);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "open: %d %s", ret, err);
	REQUIRE_EQ(ret, 0);
	size_t n;
	const struct ua_insn *in = ua_program_insns(ua_object_find_program(obj, "basic_alloc1"), &n);
	int kfuncs = 0, map_fds = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i].code == (UA_JMP | UA_CALL) && in[i].src_reg == UA_PSEUDO_KFUNC_CALL) {
			const char *name = ua_object_kfunc_name(obj, in[i].imm);

			REQUIRE(name != NULL);
			CHECK(!strcmp(name, "bpf_arena_alloc_pages") ||
			      !strcmp(name, "bpf_arena_free_pages"));
			kfuncs++;
		}
		if (in[i].code == (UA_LD | UA_DW | UA_IMM) && in[i].src_reg == UA_PSEUDO_MAP_FD) {
			/* imm = position in map iteration order: the arena. */
			struct ua_map *m = ua_object_next_map(obj, NULL);

			for (int k = 0; k < in[i].imm && m; k++)
				m = ua_object_next_map(obj, m);
			REQUIRE(m != NULL);
			CHECK_EQ(ua_map_type(m), 33);
			map_fds++;
		}
	}
	CHECK(kfuncs >= 3); /* alloc twice, free once at least */
	CHECK(map_fds >= 3);
	CHECK(ua_object_kfunc_name(obj, 1000) == NULL);
	ua_object_close(obj);
}
