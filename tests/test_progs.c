/* SPDX-License-Identifier: MIT */
/*
 * Kernel-style arena programs (tests/bpf/arena_*.bpf.c, spec §6) run in the
 * interpreter: each program returns 0 when every expectation of the kernel
 * selftest it mirrors held, else the number of the first failed check, so a
 * failure names the step. Each case gets a fresh object (fresh arena), as
 * the selftests load one program per test. Plus the arena spin lock under
 * real host threads: the final count must be exactly threads * repeat.
 */
#include <pthread.h>

#include "example_util.h"

static void expect_zero(const char *obj_name, const char *prog)
{
	struct ua_object *obj = open_example(obj_name, prog, 0);
	uint32_t ret = run_prog(obj, prog, NULL, 0);

	if (ret != 0)
		ua_test_fail(__FILE__, __LINE__, "%s/%s returned %u (failed check %u)", obj_name,
			     prog, ret, ret);
	ua_object_close(obj);
}

TEST(progs, verifier_arena_basic_alloc1) { expect_zero("arena_verifier", "basic_alloc1"); }
TEST(progs, verifier_arena_basic_alloc2) { expect_zero("arena_verifier", "basic_alloc2"); }
TEST(progs, verifier_arena_basic_alloc3) { expect_zero("arena_verifier_core", "basic_alloc3"); }
TEST(progs, verifier_arena_basic_reserve1) { expect_zero("arena_verifier", "basic_reserve1"); }
TEST(progs, verifier_arena_basic_reserve2) { expect_zero("arena_verifier", "basic_reserve2"); }
TEST(progs, verifier_arena_reserve_twice) { expect_zero("arena_verifier", "reserve_twice"); }
TEST(progs, verifier_arena_reserve_invalid_region)
{
	expect_zero("arena_verifier", "reserve_invalid_region");
}
TEST(progs, arena_large_big_alloc1) { expect_zero("arena_large", "big_alloc1"); }
TEST(progs, arena_large_big_alloc2_allocator_order) { expect_zero("arena_large", "big_alloc2"); }
TEST(progs, arena_large_access_reserved) { expect_zero("arena_large", "access_reserved"); }
TEST(progs, arena_large_request_partially_reserved)
{
	expect_zero("arena_large", "request_partially_reserved");
}
TEST(progs, arena_large_free_reserved) { expect_zero("arena_large", "free_reserved"); }

/* Mirror of arena_atomics.bpf.c's struct atomics_state (the only arena global: offset 0). */
struct atomics_state {
	uint64_t add64_value, add64_result;
	uint32_t add32_value, add32_result;
	uint64_t add_stack_value_copy, add_stack_result, add_noreturn_value;
	int64_t sub64_value, sub64_result;
	int32_t sub32_value, sub32_result;
	int64_t sub_noreturn_value;
	uint64_t and64_value;
	uint32_t and32_value, pad0;
	uint64_t or64_value;
	uint32_t or32_value, pad1;
	uint64_t xor64_value;
	uint32_t xor32_value, pad2;
	uint64_t cmpxchg64_value, cmpxchg64_result_fail, cmpxchg64_result_succeed;
	uint32_t cmpxchg32_value, cmpxchg32_result_fail, cmpxchg32_result_succeed, pad3;
	uint64_t xchg64_value, xchg64_result;
	uint32_t xchg32_value, xchg32_result;
};

TEST(progs, arena_atomics_expected_values)
{
	struct ua_object *obj = open_example("arena_atomics", NULL, 0);
	struct atomics_state *st = ua_arena_user_base(example_arena(obj));

	/* The initial image, as the loader copied it in. */
	CHECK_EQ(st->add64_value, 1);
	CHECK_EQ(st->and64_value, 0x110ull << 32);
	CHECK_EQ(run_prog(obj, "arena_atomics", NULL, 0), 0);
	CHECK_EQ(st->add64_value, 3);
	CHECK_EQ(st->add64_result, 1);
	CHECK_EQ(st->add32_value, 3);
	CHECK_EQ(st->add32_result, 1);
	CHECK_EQ(st->add_stack_value_copy, 3);
	CHECK_EQ(st->add_stack_result, 1);
	CHECK_EQ(st->add_noreturn_value, 3);
	CHECK_EQ(st->sub64_value, -1);
	CHECK_EQ(st->sub64_result, 1);
	CHECK_EQ(st->sub32_value, -1);
	CHECK_EQ(st->sub32_result, 1);
	CHECK_EQ(st->sub_noreturn_value, -1);
	CHECK_EQ(st->and64_value, 0x010ull << 32);
	CHECK_EQ(st->and32_value, 0x010);
	CHECK_EQ(st->or64_value, 0x111ull << 32);
	CHECK_EQ(st->or32_value, 0x111);
	CHECK_EQ(st->xor64_value, 0x101ull << 32);
	CHECK_EQ(st->xor32_value, 0x101);
	CHECK_EQ(st->cmpxchg64_value, 2);
	CHECK_EQ(st->cmpxchg64_result_fail, 1);
	CHECK_EQ(st->cmpxchg64_result_succeed, 1);
	CHECK_EQ(st->cmpxchg32_value, 2);
	CHECK_EQ(st->cmpxchg32_result_fail, 1);
	CHECK_EQ(st->cmpxchg32_result_succeed, 1);
	CHECK_EQ(st->xchg64_value, 2);
	CHECK_EQ(st->xchg64_result, 1);
	CHECK_EQ(st->xchg32_value, 2);
	CHECK_EQ(st->xchg32_result, 1);
	ua_object_close(obj);
}

TEST(progs, arena_strsearch_glob_over_arena_strings)
{
	struct ua_object *obj = open_example("arena_strsearch", NULL, 0);
	int *n_checked = example_bss(obj, sizeof(int));

	CHECK_EQ(run_prog(obj, "arena_strsearch", NULL, 0), 0);
	CHECK_EQ(*n_checked, 20);
	ua_object_close(obj);
}

struct spin_args {
	int repeat;
	int cs_count;
	int limit;
};

struct spin_thread {
	struct ua_object *obj;
	pthread_barrier_t *start;
	struct spin_args args;
	int run_err;
	uint32_t retval;
	char err[256];
};

static void *spin_worker(void *arg)
{
	struct spin_thread *t = arg;
	struct ua_program *p = ua_object_find_program(t->obj, "spin_lock_test");

	UA_OPTS(ua_test_run_opts, o, .ctx_in = &t->args, .ctx_size_in = sizeof(t->args),
		.err_buf = t->err, .err_buf_sz = sizeof(t->err));
	pthread_barrier_wait(t->start); /* all threads contend from the first iteration */
	t->run_err = p ? ua_program_test_run(p, &o) : -2;
	t->retval = o.retval;
	return NULL;
}

static void spin_lock_threads(int n_threads, int repeat, int cs_count)
{
	struct ua_object *obj = open_example("arena_spin_lock", NULL, (uint32_t)n_threads);
	struct spin_thread t[8];
	pthread_barrier_t start;
	pthread_t tid[8];

	REQUIRE(n_threads <= 8);
	pthread_barrier_init(&start, NULL, (unsigned)n_threads);
	for (int i = 0; i < n_threads; i++) {
		t[i] = (struct spin_thread){ .obj = obj, .start = &start,
					     .args = { repeat, cs_count, 0x7fffffff } };
		REQUIRE_EQ(pthread_create(&tid[i], NULL, spin_worker, &t[i]), 0);
	}
	for (int i = 0; i < n_threads; i++) {
		pthread_join(tid[i], NULL);
		if (t[i].run_err)
			ua_test_fail(__FILE__, __LINE__, "thread %d: %d (%s)", i, t[i].run_err,
				     t[i].err);
		CHECK_EQ((int32_t)t[i].retval, 0);
	}
	CHECK_EQ(run_prog(obj, "read_counter", NULL, 0), (uint32_t)(n_threads * repeat));
	pthread_barrier_destroy(&start);
	ua_object_close(obj);
}

TEST(progs, arena_spin_lock_1_thread)
{
	spin_lock_threads(1, 100, 0);
}

TEST(progs, arena_spin_lock_4_threads_exact_count)
{
	spin_lock_threads(4, 1000, 20);
}

TEST(progs, bpf_loop_callbacks_write_the_arena)
{
	struct ua_object *obj = open_example("arena_loop", NULL, 0);
	uint64_t *squares = ua_arena_user_base(example_arena(obj));

	CHECK_EQ(run_prog(obj, "arena_loop", NULL, 0), 0);
	for (uint64_t i = 0; i < 64; i++)
		CHECK_EQ(squares[i], i <= 40 ? i * i : 0);
	ua_object_close(obj);
}
TEST(progs, arena_base_reads_user_vm_start) { expect_zero("arena_verifier_core", "arena_base_is_page0"); }
