/* SPDX-License-Identifier: MIT */
/*
 * The kernel-style arena programs (tests/bpf/arena_*.bpf.c) run in the real
 * kernel as well (through the kernel module's diff engine): each must return
 * 0 there too, and the arena contents must agree with uarena's afterwards.
 * The list and hash-table examples run the same way: what BPF builds in the
 * arena is byte-identical (pointers up to the arena base) in the kernel.
 * This is what makes the expectations in test_progs.c kernel facts rather
 * than our reading of the selftests. SKIPs without bpf().
 *
 * Not here, because the kernel twin (src/kernel/kdiff.c) cannot express them
 * yet: programs using CO-RE on map structs (arena_verifier_core: the twin
 * runs uarena's relocated instructions, whose field offsets describe
 * uarena's struct bpf_map), and programs needing BTF func_info (bpf_loop
 * callbacks in arena_loop: the twin loads without .BTF.ext).
 */
#include "test.h"
#include "util.h"

#include "kernel.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uarena.h>

#include "../examples/arena_list.h"

typedef void (*prep_fn)(struct ua_object *obj);

/*
 * Opens obj_name, lets prep set inputs (the twin copies the maps as they are),
 * builds the kernel twin, runs each of progs (NULL-terminated) on both sides
 * with CPU id 0 — all must return 0 — and compares maps and arena pages.
 */
static void run_sequence(const char *obj_name, const char *const *progs, bool compare,
			 prep_fn prep)
{
	const char *path = ua_test_bpf_obj(obj_name);
	char err[2048] = "", *report = NULL;
	struct ua_object *obj = NULL;
	struct ua_kdiff *d = NULL;
	struct ua_kbpf_test_run kr = { 0 };
	size_t len = 0;
	FILE *f;
	int ret, n;

	ua_test_require_kbpf();
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = progs[1] ? NULL : progs[0]);
	ret = ua_object_open(path, &o, &obj);
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "open %s: %s", path, err);
	REQUIRE_EQ(ret, 0);
	if (prep)
		prep(obj);
	ret = ua_kdiff_create(obj, path, progs[1] ? NULL : progs[0], &d, err, sizeof(err));
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "kernel twin of %s: %s", path, err);
	REQUIRE_EQ(ret, 0);

	for (const char *const *prog = progs; *prog; prog++) {
		UA_OPTS(ua_test_run_opts, uo, .err_buf = err, .err_buf_sz = sizeof(err),
			.flags = UA_F_TEST_RUN_ON_CPU, .cpu = 0);
		REQUIRE_EQ(ua_program_test_run(ua_object_find_program(obj, *prog), &uo), 0);
		REQUIRE_EQ(ua_kdiff_kernel_test_run(d, *prog, 0, &kr), 0);
		if (uo.retval || kr.retval)
			ua_test_fail(__FILE__, __LINE__,
				     "%s: uarena returned %u, kernel %u (0 = all checks held)", *prog,
				     uo.retval, kr.retval);
	}

	if (compare) {
		f = open_memstream(&report, &len);
		REQUIRE(f != NULL);
		n = ua_kdiff_compare(d, f);
		fclose(f);
		if (n != 0)
			ua_test_fail(__FILE__, __LINE__, "%s: %d differences after the run:\n%s",
				     obj_name, n, report ? report : "");
		free(report);
	}
	ua_kdiff_destroy(d);
	ua_object_close(obj);
}

static void run_both(const char *obj_name, const char *prog, bool compare)
{
	const char *const progs[] = { prog, NULL };

	run_sequence(obj_name, progs, compare, NULL);
}

/* Return values and the whole arena compared. */
static void both_return_zero(const char *obj_name, const char *prog)
{
	run_both(obj_name, prog, true);
}

/*
 * 4 GiB arenas: return values only — comparing every page of a 1M-page arena
 * through program-view reads takes minutes.
 */
static void both_return_zero_large(const char *obj_name, const char *prog)
{
	run_both(obj_name, prog, false);
}

TEST(progs_kernel, basic_alloc1) { both_return_zero("arena_verifier", "basic_alloc1"); }
TEST(progs_kernel, basic_alloc2) { both_return_zero("arena_verifier", "basic_alloc2"); }
TEST(progs_kernel, basic_reserve1) { both_return_zero("arena_verifier", "basic_reserve1"); }
TEST(progs_kernel, basic_reserve2) { both_return_zero("arena_verifier", "basic_reserve2"); }
TEST(progs_kernel, reserve_twice) { both_return_zero("arena_verifier", "reserve_twice"); }
TEST(progs_kernel, reserve_invalid_region)
{
	both_return_zero("arena_verifier", "reserve_invalid_region");
}
TEST(progs_kernel, big_alloc1) { both_return_zero_large("arena_large", "big_alloc1"); }
TEST(progs_kernel, big_alloc2) { both_return_zero_large("arena_large", "big_alloc2"); }
TEST(progs_kernel, access_reserved) { both_return_zero_large("arena_large", "access_reserved"); }
TEST(progs_kernel, request_partially_reserved)
{
	both_return_zero_large("arena_large", "request_partially_reserved");
}
TEST(progs_kernel, free_reserved) { both_return_zero_large("arena_large", "free_reserved"); }
TEST(progs_kernel, arena_atomics) { both_return_zero("arena_atomics", "arena_atomics"); }
TEST(progs_kernel, arena_strsearch) { both_return_zero("arena_strsearch", "arena_strsearch"); }

/* The examples, as sequences: what BPF builds in the arena is the same in the kernel. */
static void list_prep(struct ua_object *obj)
{
	struct ua_map *bss = NULL;

	for (struct ua_map *m = ua_object_next_map(obj, NULL); m; m = ua_object_next_map(obj, m))
		if (strstr(ua_map_name(m), ".bss"))
			bss = m;
	REQUIRE(bss != NULL);
	((struct list_globals *)ua_map_mmaped(bss, NULL))->cnt = 100;
}

TEST(progs_kernel, example_arena_list)
{
	const char *const progs[] = { "arena_list_add", "arena_list_del", NULL };

	run_sequence("arena_list", progs, true, list_prep);
}

TEST(progs_kernel, example_arena_htab)
{
	const char *const progs[] = { "arena_htab_build", NULL };

	run_sequence("arena_htab", progs, true, NULL);
}

TEST(progs_kernel, example_arena_htab_asm)
{
	const char *const progs[] = { "arena_htab_build", NULL };

	run_sequence("arena_htab_asm", progs, true, NULL);
}
