/* SPDX-License-Identifier: MIT */
/*
 * Built-in helpers and kfuncs called directly with a hand-made invocation
 * (struct ua_exec), the way the interpreter calls them: registry lookups,
 * embedder sets, iterator bounds, printk formatting and rejections, pointer
 * checks, arena kfuncs on a real arena, map and ring-buffer helpers on real
 * maps. Expected values are the kernel's (kernel/bpf/{helpers,bpf_iter,
 * arena}.c, kernel/trace/bpf_trace.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <uarena.h>

#include "arena.h"
#include "helpers.h"
#include "map.h"
#include "probe.h"
#include "test.h"
#include "util.h"

static uint64_t fake_stack[64]; /* stands in for the run stack */

static void exec_init(struct ua_exec *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->bounds_check = true;
	ex->stack_lo = (uintptr_t)fake_stack;
	ex->stack_hi = (uintptr_t)fake_stack + sizeof(fake_stack);
}

static uint64_t call(struct ua_exec *ex, const char *name, uint64_t r1, uint64_t r2, uint64_t r3,
		     uint64_t r4, uint64_t r5)
{
	const struct ua_helper_def *d = ua_kfunc_by_name(name);

	for (int32_t id = 1; !d && id < 256; id++) {
		d = ua_helper_by_id(id);
		if (d && strcmp(d->name, name))
			d = NULL;
	}
	if (!d) {
		ua_test_fail(__FILE__, __LINE__, "no helper %s", name);
		ua_test_end_now();
	}
	return d->fn(ex, r1, r2, r3, r4, r5);
}

#define P(x) ((uint64_t)(uintptr_t)(x))

TEST(helpers, registry_ids_and_names)
{
	CHECK_STR(ua_helper_by_id(1)->name, "bpf_map_lookup_elem");
	CHECK_STR(ua_helper_by_id(6)->name, "bpf_trace_printk");
	CHECK_STR(ua_helper_by_id(8)->name, "bpf_get_smp_processor_id");
	CHECK_STR(ua_helper_by_id(113)->name, "bpf_probe_read_kernel");
	CHECK_STR(ua_helper_by_id(131)->name, "bpf_ringbuf_reserve");
	CHECK(ua_helper_by_id(0) == NULL);
	CHECK(ua_helper_by_id(-1) == NULL);
	CHECK(ua_helper_by_id(100000) == NULL);
	CHECK_EQ(ua_kfunc_by_name("bpf_arena_alloc_pages")->id, -1);
	CHECK(ua_kfunc_by_name("bpf_iter_num_next") != NULL);
	CHECK(ua_kfunc_by_name("bpf_preempt_disable") != NULL);
	CHECK(ua_kfunc_by_name("bpf_map_lookup_elem") == NULL); /* a helper, not a kfunc */
	CHECK(ua_kfunc_by_name("bpf_no_such_kfunc") == NULL);
	CHECK(ua_kfunc_by_name(NULL) == NULL);
}

static uint64_t my_helper(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			  uint64_t r5)
{
	return r1 + r2 + ex->cpu;
}

static uint64_t my_printk(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			  uint64_t r5)
{
	return 4242;
}

TEST(helpers, embedder_set_wins_and_rejects_duplicates)
{
	struct ua_helpers *set;
	struct ua_exec ex;

	REQUIRE_EQ(ua_helpers_new(&set), 0);
	CHECK_EQ(ua_helpers_register(set, 1000, "my_helper", my_helper), 0);
	CHECK_EQ(ua_helpers_register(set, 6, "my_printk", my_printk), 0);
	CHECK_EQ(ua_helpers_register_kfunc(set, "my_kfunc", my_helper), 0);
	CHECK_EQ(ua_helpers_register(set, 1000, "other", my_helper), -EEXIST);
	CHECK_EQ(ua_helpers_register(set, 1001, "my_helper", my_helper), -EEXIST);
	CHECK_EQ(ua_helpers_register_kfunc(set, "my_kfunc", my_helper), -EEXIST);
	CHECK_EQ(ua_helpers_register(set, 0, "zero", my_helper), -EINVAL);
	CHECK_EQ(ua_helpers_register(set, 5, "", my_helper), -EINVAL);
	CHECK_EQ(ua_helpers_register(set, 5, "x", NULL), -EINVAL);
	CHECK_EQ(ua_helpers_register(NULL, 5, "x", my_helper), -EINVAL);

	exec_init(&ex);
	ex.cpu = 3;
	CHECK_EQ(ua_helper_by_id_in(set, 1000)->fn(&ex, 10, 20, 0, 0, 0), 33);
	CHECK_EQ(ua_helper_by_id_in(set, 6)->fn(&ex, 0, 0, 0, 0, 0), 4242);
	CHECK_STR(ua_helper_by_id_in(set, 1)->name, "bpf_map_lookup_elem"); /* built-in */
	CHECK(ua_helper_by_id(1000) == NULL);                              /* not global */
	CHECK(ua_kfunc_by_name_in(set, "my_kfunc")->fn == my_helper);
	CHECK(ua_kfunc_by_name_in(set, "my_helper") == NULL); /* helpers are not kfuncs */
	CHECK(ua_kfunc_by_name_in(NULL, "bpf_arena_free_pages") != NULL);
	CHECK_EQ(ua_exec_cpu(&ex), 3);
	CHECK(ua_exec_arena(&ex) == NULL);
	ua_helpers_free(set);
	ua_helpers_free(NULL);
}

TEST(helpers, iter_num_ranges_like_the_kernel)
{
	struct ua_exec ex;
	uint64_t it = P(&fake_stack[0]);
	int32_t *v;

	exec_init(&ex);
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, 0, 3, 0, 0), 0);
	for (int want = 0; want < 3; want++) {
		v = (int32_t *)(uintptr_t)call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0);
		REQUIRE(v != NULL);
		CHECK_EQ(*v, want);
	}
	CHECK_EQ(call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0), 0);
	CHECK_EQ(fake_stack[0], 0); /* exhausted: state cleared */

	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, 5, 5, 0, 0), 0); /* empty */
	CHECK_EQ(call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0), 0);

	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, 4, 3, 0, 0), -EINVAL);
	CHECK_EQ(fake_stack[0], 0);
	CHECK_EQ(call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0), 0);

	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, 0, 8 * 1024 * 1024 + 1, 0, 0), -E2BIG);
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, (uint32_t)-10,
			       8 * 1024 * 1024 - 10, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, (uint32_t)INT32_MIN,
			       (uint32_t)INT32_MAX, 0, 0), -E2BIG);

	/* INT32_MIN start: cur = start - 1 wraps, next still yields INT32_MIN first. */
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, (uint32_t)INT32_MIN,
			       (uint32_t)(INT32_MIN + 2), 0, 0), 0);
	v = (int32_t *)(uintptr_t)call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0);
	REQUIRE(v != NULL);
	CHECK_EQ(*v, INT32_MIN);

	call(&ex, "bpf_iter_num_destroy", it, 0, 0, 0, 0);
	CHECK_EQ(fake_stack[0], 0);

	/* An iterator outside the stack and regions is refused, not written. */
	uint64_t outside = 0x1122334455667788ull;
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", P(&outside), 0, 3, 0, 0), -EFAULT);
	CHECK_EQ(outside, 0x1122334455667788ull);
	CHECK_EQ(call(&ex, "bpf_iter_num_next", P(&outside), 0, 0, 0, 0), 0);
}

/*
 * Regression (loader fuzzing, UBSan): a program passing r10 - 4 as the
 * iterator made bpf_iter_num_* access a misaligned struct. The kernel's
 * verifier refuses such a slot with -EINVAL; so does new() here, writing
 * nothing, and next()/destroy() leave the bytes alone.
 */
TEST(helpers, iter_num_misaligned_stack_slot_is_einval)
{
	struct ua_exec ex;
	uint8_t *slot = (uint8_t *)&fake_stack[2];

	exec_init(&ex);
	memset(fake_stack, 0xab, sizeof(fake_stack));
	for (int mis = 1; mis < 8; mis++) {
		uint64_t it = P(slot + mis);

		CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", it, 0, 3, 0, 0), -EINVAL);
		CHECK_EQ(call(&ex, "bpf_iter_num_next", it, 0, 0, 0, 0), 0);
		call(&ex, "bpf_iter_num_destroy", it, 0, 0, 0, 0);
		call(&ex, "bpf_local_irq_save", it, 0, 0, 0, 0);
		call(&ex, "bpf_local_irq_restore", it, 0, 0, 0, 0);
	}
	for (size_t i = 0; i < sizeof(fake_stack); i++)
		CHECK_EQ(((uint8_t *)fake_stack)[i], 0xab);
	CHECK_EQ(ex.irq_depth, 0);
	/* The aligned slot next to it still works. */
	CHECK_EQ((int64_t)call(&ex, "bpf_iter_num_new", P(slot), 7, 8, 0, 0), 0);
	int32_t *v = (int32_t *)(uintptr_t)call(&ex, "bpf_iter_num_next", P(slot), 0, 0, 0, 0);
	REQUIRE(v != NULL);
	CHECK_EQ(*v, 7);
	memset(fake_stack, 0, sizeof(fake_stack));
}

static int fmt(char *out, size_t out_sz, const char *f, uint64_t a, uint64_t b, uint64_t c)
{
	struct ua_exec ex;
	const uint64_t args[3] = { a, b, c };

	exec_init(&ex);
	ex.bounds_check = false;
	return ua_helper_format_printk(&ex, out, out_sz, f, (uint32_t)strlen(f) + 1, args);
}

TEST(helpers, printk_format_subset)
{
	char out[256];
	uint8_t ip4[4] = { 10, 0, 2, 15 };
	uint8_t ip6[16] = { 0xfe, 0x80, [15] = 1 };

	CHECK_EQ(fmt(out, sizeof(out), "a=%d b=%u c=%x", (uint32_t)-5, 7, 255), 13);
	CHECK_STR(out, "a=-5 b=7 c=ff");
	CHECK_EQ(fmt(out, sizeof(out), "%d %u", 0x100000005ull, (uint64_t)-1, 0), 12);
	CHECK_STR(out, "5 4294967295");
	CHECK_EQ(fmt(out, sizeof(out), "%ld %lu %lx", (uint64_t)-2, 1ull << 40, 0xabcdef0123ull),
		 27);
	CHECK_STR(out, "-2 1099511627776 abcdef0123");
	CHECK_EQ(fmt(out, sizeof(out), "%lld|%llu|%llX", (uint64_t)-1, 18446744073709551615ull,
		     0xdeadbeefcafeull), 36);
	CHECK_STR(out, "-1|18446744073709551615|DEADBEEFCAFE");
	fmt(out, sizeof(out), "[%5d][%-4i][%05x]", 42, 7, 0xab);
	CHECK_STR(out, "[   42][7   ][000ab]");
	fmt(out, sizeof(out), "[% d][%+d][%-+4d]", 3, 3, 3);
	CHECK_STR(out, "[ 3][+3][+3  ]");
	fmt(out, sizeof(out), "%c%c%c 100%%", 'a', 'b', 'c');
	CHECK_STR(out, "abc 100%");
	fmt(out, sizeof(out), "<%s> <%5s>", P("arena"), P("ok"), 0);
	CHECK_STR(out, "<arena> <   ok>");
	fmt(out, sizeof(out), "%p %px", 0xffff888812345678ull, 0x10, 0);
	CHECK_STR(out, "ffff888812345678 0000000000000010");
	fmt(out, sizeof(out), "%pI4 %pi4", P(ip4), P(ip4), 0);
	CHECK_STR(out, "10.0.2.15 010.000.002.015");
	fmt(out, sizeof(out), "%pI6|%pi6", P(ip6), P(ip6), 0);
	CHECK_STR(out, "fe80:0000:0000:0000:0000:0000:0000:0001|fe800000000000000000000000000001");
	/* Output longer than the buffer: truncated, full length returned. */
	CHECK_EQ(fmt(out, 6, "%d-%d", 12345, 67890, 0), 11);
	CHECK_STR(out, "12345");

	/* Kernel rejections (bpf_bprintf_prepare): -EINVAL. */
	CHECK_EQ(fmt(out, sizeof(out), "%d %d %d %d", 1, 2, 3), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "%z", 1, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "%lf", 1, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "%lllx", 1, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "%pZ", 1, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "%pi5", 1, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "bell\a", 0, 0, 0), -EINVAL);
	CHECK_EQ(fmt(out, sizeof(out), "caf\xc3\xa9", 0, 0, 0), -EINVAL);

	struct ua_exec ex;
	const uint64_t none[3] = { 0 };
	exec_init(&ex);
	CHECK_EQ(ua_helper_format_printk(&ex, out, sizeof(out), "no nul", 6, none), -EINVAL);
	CHECK_EQ(ua_helper_format_printk(&ex, out, sizeof(out), "x\0%q", 4, none), 1);
	CHECK_STR(out, "x");
}

struct trace_capture {
	char line[256];
	int calls;
};

static struct trace_capture captured;

static int capture_trace(struct ua_exec *ex, const char *msg, size_t len)
{
	captured.calls++;
	snprintf(captured.line, sizeof(captured.line), "%.*s", (int)len, msg);
	return 0;
}

TEST(helpers, trace_printk_reads_format_and_strings_safely)
{
	struct ua_exec ex;
	static const char f1[] = "cpu %d says %s";
	static const char word[] = "hi";
	struct ua_mem_region regions[] = {
		{ (uintptr_t)f1, (uintptr_t)f1 + sizeof(f1), false },
		{ (uintptr_t)word, (uintptr_t)word + sizeof(word), false },
	};
	uint64_t secret = 0x41414141;

	exec_init(&ex);
	ex.regions = regions;
	ex.n_regions = 2;
	ex.trace = capture_trace;
	memset(&captured, 0, sizeof(captured));

	CHECK_EQ(call(&ex, "bpf_trace_printk", P(f1), sizeof(f1), 2, P(word), 0), 13);
	CHECK_STR(captured.line, "cpu 2 says hi");
	/* A %s pointer outside every region prints "", never host memory. */
	CHECK_EQ(call(&ex, "bpf_trace_printk", P(f1), sizeof(f1), 1, P(&secret), 0), 11);
	CHECK_STR(captured.line, "cpu 1 says ");
	/* A format outside every region: -EFAULT, nothing printed. */
	captured.calls = 0;
	CHECK_EQ((int64_t)call(&ex, "bpf_trace_printk", P(&secret), 8, 0, 0, 0), -EFAULT);
	CHECK_EQ((int64_t)call(&ex, "bpf_trace_printk", P(f1), 0, 0, 0, 0), -EINVAL);
	CHECK_EQ(captured.calls, 0);
}

TEST(helpers, probe_read_kernel_host_memory)
{
	struct ua_exec ex;
	static const char src[] = "hello";
	uint64_t unlisted = 0x1234;
	struct ua_mem_region regions[] = {
		{ (uintptr_t)src, (uintptr_t)src + sizeof(src), false },
	};
	char *dst = (char *)&fake_stack[8];

	exec_init(&ex);
	ex.regions = regions;
	ex.n_regions = 1;

	memset(dst, 'x', 16);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 6, P(src), 0, 0), 0);
	CHECK_MEM(dst, "hello", 6);
	memset(dst, 'x', 16);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 8, P(&unlisted), 0, 0),
		 -EFAULT);
	CHECK_MEM(dst, "\0\0\0\0\0\0\0\0x", 9); /* zeroed exactly size bytes */
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 7, P(src), 0, 0), -EFAULT);
	/* dst outside the stack and regions: refused. */
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(&unlisted), 4, P(src), 0, 0),
		 -EFAULT);
	CHECK_EQ(unlisted, 0x1234);

	memset(dst, 'x', 16);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel_str", P(dst), 16, P(src), 0, 0), 6);
	CHECK_STR(dst, "hello");
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel_str", P(dst), 4, P(src), 0, 0), 4);
	CHECK_STR(dst, "hel");
	memset(dst, 'x', 16);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel_str", P(dst), 4, P(&unlisted), 0, 0),
		 -EFAULT);
	CHECK_MEM(dst, "\0\0\0\0x", 5);
}

static struct ua_arena *make_arena(uint32_t pages)
{
	UA_OPTS(ua_arena_opts, o, .max_entries = pages, .map_flags = UA_F_MMAPABLE);
	struct ua_arena *a = NULL;
	int err = ua_arena_create(&o, &a);

	if (err)
		SKIP("arena create failed: %d", err);
	return a;
}

TEST(helpers, arena_kfuncs_and_probe_read_through_arena)
{
	struct ua_arena *a = make_arena(4);
	struct ua_exec ex;
	uint8_t *user = ua_arena_user_base(a);
	uint64_t lo, p0, p1, p2;
	char *dst = (char *)&fake_stack[8];

	REQUIRE_EQ(ua_probe_init(), 0);
	exec_init(&ex);
	ex.arena = a;
	ex.arena_base = ua_arena_prog_base(a);
	CHECK(ua_exec_arena(&ex) == a);

	p0 = call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, (uint64_t)-1, 0);
	CHECK_EQ(p0, P(user));
	p1 = call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, 0, 0);
	CHECK_EQ(p1, P(user) + 4096);
	CHECK_EQ(call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, 0, 1), 0);      /* flags */
	CHECK_EQ(call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, 1, 0), 0);      /* node 1 */
	CHECK_EQ(call(&ex, "bpf_arena_alloc_pages", 0, 0, 5, (uint64_t)-1, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_arena_reserve_pages", 0, p1, 1, 0, 0), -EBUSY);
	CHECK_EQ((int64_t)call(&ex, "bpf_arena_reserve_pages", 0, p1 + 4096, 1, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_arena_reserve_pages", 0, p1 + 4096, 3, 0, 0), -EINVAL);
	p2 = call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, (uint64_t)-1, 0);
	CHECK_EQ(p2, P(user) + 3 * 4096); /* page 2 is reserved */

	/* probe_read with an arena pointer (cast_kern form: lo32) goes through the probe path. */
	memcpy(user + 4096 + 100, "arena!", 7);
	lo = (uint32_t)(p1 + 100);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 7, lo, 0, 0), 0);
	CHECK_STR(dst, "arena!");
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel_str", P(dst), 16, lo, 0, 0), 7);
	/* The user-form pointer is not kernel memory. */
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 7, p1 + 100, 0, 0), -EFAULT);

	call(&ex, "bpf_arena_free_pages", 0, p1, 1, 0, 0);
	memset(dst, 'x', 8);
	CHECK_EQ((int64_t)call(&ex, "bpf_probe_read_kernel", P(dst), 7, lo, 0, 0), -EFAULT);
	CHECK_MEM(dst, "\0\0\0\0\0\0\0x", 8);
	CHECK_EQ(call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, (uint64_t)-1, 0), p1);

	/* Without an arena: NULL and -EINVAL, no crash. */
	ex.arena = NULL;
	ex.arena_base = NULL;
	CHECK_EQ(call(&ex, "bpf_arena_alloc_pages", 0, 0, 1, (uint64_t)-1, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_arena_reserve_pages", 0, 0, 1, 0, 0), -EINVAL);
	call(&ex, "bpf_arena_free_pages", 0, p0, 1, 0, 0);
	ua_arena_destroy(a);
}

/* Registers a map the way the loader does: its struct read-only, its storage writable. */
static void exec_add_map(struct ua_exec *ex, struct ua_mem_region *regions, size_t *n,
			 struct ua_map *m)
{
	regions[(*n)++] = (struct ua_mem_region){ (uintptr_t)m, (uintptr_t)m + sizeof(*m), false };
	if (m->value_mem)
		regions[(*n)++] = (struct ua_mem_region){
			(uintptr_t)m->value_mem, (uintptr_t)m->value_mem + m->value_mem_sz, true
		};
	ex->regions = regions;
	ex->n_regions = *n;
}

TEST(helpers, map_helpers_on_a_hash_map)
{
	struct ua_mem_region regions[4];
	size_t n_regions = 0;
	struct ua_map_def def = { .name = "h", .type = UA_MAP_HASH, .key_size = 4,
				  .value_size = 8, .max_entries = 2, .nr_cpus = 1 };
	struct ua_exec ex;
	struct ua_map *m;
	char err[128];
	uint32_t *key = (uint32_t *)&fake_stack[0];
	uint64_t *val = &fake_stack[1];
	uint64_t *v, stray_key = 1;

	REQUIRE_EQ(ua_map_create(&def, err, sizeof(err), &m), 0);
	exec_init(&ex);
	*key = 7;
	/* A map the run does not know (no verifier vouches for r1): refused. */
	CHECK_EQ(call(&ex, "bpf_map_lookup_elem", P(m), P(key), 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 0, 0), -EINVAL);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m) + 1, P(key), P(val), 0, 0),
		 -EINVAL);
	exec_add_map(&ex, regions, &n_regions, m);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m) + 8, P(key), P(val), 0, 0),
		 -EINVAL);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_delete_elem", P(key), P(key), 0, 0, 0), -EINVAL);
	*val = 0xabcdef;
	CHECK_EQ(call(&ex, "bpf_map_lookup_elem", P(m), P(key), 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 0, 0), 0);
	v = (uint64_t *)(uintptr_t)call(&ex, "bpf_map_lookup_elem", P(m), P(key), 0, 0, 0);
	REQUIRE(v != NULL);
	CHECK_EQ(*v, 0xabcdef);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 1, 0), -EEXIST);
	*key = 8;
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 2, 0), -ENOENT);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 0, 0), 0);
	*key = 9;
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(key), P(val), 0, 0), -E2BIG);
	*key = 7;
	CHECK_EQ((int64_t)call(&ex, "bpf_map_delete_elem", P(m), P(key), 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_delete_elem", P(m), P(key), 0, 0, 0), -ENOENT);
	/* Keys outside the stack/regions: refused before the map sees them. */
	CHECK_EQ(call(&ex, "bpf_map_lookup_elem", P(m), P(&stray_key), 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_update_elem", P(m), P(&stray_key), P(val), 0, 0),
		 -EFAULT);
	CHECK_EQ((int64_t)call(&ex, "bpf_map_delete_elem", P(m), P(&stray_key), 0, 0, 0), -EFAULT);
	ua_map_free(m);
}

static int count_sample(void *ctx, const void *data, size_t size)
{
	uint64_t *sum = ctx;

	*sum += size * 1000 + ((const uint8_t *)data)[0];
	return 0;
}

TEST(helpers, ringbuf_helpers)
{
	struct ua_map_def def = { .name = "rb", .type = UA_MAP_RINGBUF, .max_entries = 4096 };
	struct ua_map_def hdef = { .name = "h", .type = UA_MAP_HASH, .key_size = 4,
				   .value_size = 8, .max_entries = 2, .nr_cpus = 1 };
	struct ua_mem_region regions[4];
	size_t n_regions = 0;
	struct ua_exec ex;
	struct ua_map *rb, *h;
	char err[128];
	uint8_t *s;
	uint64_t sum = 0;

	REQUIRE_EQ(ua_map_create(&def, err, sizeof(err), &rb), 0);
	REQUIRE_EQ(ua_map_create(&hdef, err, sizeof(err), &h), 0);
	exec_init(&ex);
	CHECK_EQ(call(&ex, "bpf_ringbuf_reserve", P(rb), 16, 0, 0, 0), 0); /* not registered */
	exec_add_map(&ex, regions, &n_regions, rb);
	exec_add_map(&ex, regions, &n_regions, h);
	/* A sample pointer outside writable memory, or misaligned: ignored, not written. */
	uint64_t stray[2] = { 0x5555, 0x6666 };
	call(&ex, "bpf_ringbuf_submit", P(&stray[1]), 0, 0, 0, 0);
	call(&ex, "bpf_ringbuf_discard", P(&fake_stack[1]) + 3, 0, 0, 0, 0);
	CHECK_EQ(stray[0], 0x5555);
	s = (uint8_t *)(uintptr_t)call(&ex, "bpf_ringbuf_reserve", P(rb), 16, 0, 0, 0);
	REQUIRE(s != NULL);
	s[0] = 7;
	call(&ex, "bpf_ringbuf_submit", P(s), 0, 0, 0, 0);
	s = (uint8_t *)(uintptr_t)call(&ex, "bpf_ringbuf_reserve", P(rb), 8, 0, 0, 0);
	REQUIRE(s != NULL);
	call(&ex, "bpf_ringbuf_discard", P(s), 0, 0, 0, 0);
	((uint8_t *)fake_stack)[0] = 9;
	CHECK_EQ((int64_t)call(&ex, "bpf_ringbuf_output", P(rb), P(fake_stack), 3, 0, 0), 0);
	CHECK_EQ(call(&ex, "bpf_ringbuf_query", P(rb), 1 /* RING_SIZE */, 0, 0, 0), 4096);
	/* 16 + 8 + 8 (3 rounded) data bytes plus three 8-byte headers. */
	CHECK_EQ(call(&ex, "bpf_ringbuf_query", P(rb), 0 /* AVAIL_DATA */, 0, 0, 0), 56);
	CHECK_EQ(ua_ringbuf_consume(rb, count_sample, &sum), 2);
	CHECK_EQ(sum, 16 * 1000 + 7 + 3 * 1000 + 9);
	/* Not a ring buffer: NULL / -EINVAL, as a verifier would never allow. */
	CHECK_EQ(call(&ex, "bpf_ringbuf_reserve", P(h), 16, 0, 0, 0), 0);
	CHECK_EQ((int64_t)call(&ex, "bpf_ringbuf_output", P(h), P(fake_stack), 3, 0, 0), -EINVAL);
	ua_map_free(h);
	ua_map_free(rb);
}

TEST(helpers, identity_clock_and_random)
{
	struct ua_exec ex;
	uint64_t t1, t2, first, distinct = 0;

	exec_init(&ex);
	ex.cpu = 5;
	CHECK_EQ(call(&ex, "bpf_get_smp_processor_id", 0, 0, 0, 0, 0), 5);
	CHECK_EQ(call(&ex, "bpf_get_current_pid_tgid", 0, 0, 0, 0, 0),
		 (uint64_t)getpid() << 32 | (uint32_t)gettid());
	CHECK_EQ(call(&ex, "bpf_get_current_uid_gid", 0, 0, 0, 0, 0),
		 (uint64_t)getgid() << 32 | getuid());
	CHECK_EQ(call(&ex, "bpf_get_numa_node_id", 0, 0, 0, 0, 0), 0);
	t1 = call(&ex, "bpf_ktime_get_ns", 0, 0, 0, 0, 0);
	t2 = call(&ex, "bpf_ktime_get_ns", 0, 0, 0, 0, 0);
	CHECK(t1 > 0 && t2 >= t1);
	first = call(&ex, "bpf_get_prandom_u32", 0, 0, 0, 0, 0);
	CHECK(first <= UINT32_MAX);
	CHECK(ex.prandom != 0);
	for (int i = 0; i < 16; i++)
		distinct += call(&ex, "bpf_get_prandom_u32", 0, 0, 0, 0, 0) != first;
	CHECK(distinct > 0);
}

TEST(helpers, preempt_and_irq_nesting)
{
	struct ua_exec ex;
	uint64_t *f1 = &fake_stack[0], *f2 = &fake_stack[1];

	exec_init(&ex);
	ex.trace = capture_trace;
	memset(&captured, 0, sizeof(captured));
	call(&ex, "bpf_preempt_disable", 0, 0, 0, 0, 0);
	call(&ex, "bpf_preempt_disable", 0, 0, 0, 0, 0);
	CHECK_EQ(ex.preempt_depth, 2);
	call(&ex, "bpf_preempt_enable", 0, 0, 0, 0, 0);
	call(&ex, "bpf_preempt_enable", 0, 0, 0, 0, 0);
	CHECK_EQ(ex.preempt_depth, 0);
	CHECK_EQ(captured.calls, 0);
	call(&ex, "bpf_preempt_enable", 0, 0, 0, 0, 0);
	CHECK_EQ(ex.preempt_depth, 0);
	CHECK_EQ(captured.calls, 1);
	CHECK_CONTAINS(captured.line, "preemption was not disabled");

	call(&ex, "bpf_local_irq_save", P(f1), 0, 0, 0, 0);
	call(&ex, "bpf_local_irq_save", P(f2), 0, 0, 0, 0);
	CHECK_EQ(ex.irq_depth, 2);
	CHECK_EQ(*f1, 0);
	CHECK_EQ(*f2, 1);
	call(&ex, "bpf_local_irq_restore", P(f1), 0, 0, 0, 0); /* out of order */
	CHECK_EQ(captured.calls, 2);
	CHECK_CONTAINS(captured.line, "innermost irq_save");
	call(&ex, "bpf_local_irq_restore", P(f2), 0, 0, 0, 0);
	call(&ex, "bpf_local_irq_restore", P(f1), 0, 0, 0, 0);
	CHECK_EQ(ex.irq_depth, 0);
	CHECK_EQ(captured.calls, 2);
}

static uint64_t host_mix(struct ua_exec *ex, uint64_t a, uint64_t b, uint64_t r3, uint64_t r4,
			 uint64_t r5)
{
	return a * 10 + b;
}

static uint64_t host_note_calls;

static uint64_t host_note(struct ua_exec *ex, uint64_t v, uint64_t r2, uint64_t r3, uint64_t r4,
			  uint64_t r5)
{
	host_note_calls++;
	return v + 1000;
}

static int open_embed(const struct ua_helpers *set, struct ua_object **obj, char *err, size_t n)
{
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = n, .helpers = set);
	return ua_object_open(ua_test_bpf_obj("embed_helpers"), &o, obj);
}

TEST(helpers, embedder_helpers_reach_a_loaded_program)
{
	struct ua_helpers *set;
	struct ua_object *obj = NULL;
	char err[512] = "";

	/* Without the set the kfunc is unknown, by name. */
	CHECK_EQ(open_embed(NULL, &obj, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "host_note");

	REQUIRE_EQ(ua_helpers_new(&set), 0);
	REQUIRE_EQ(ua_helpers_register(set, 10000, "host_mix", host_mix), 0);
	REQUIRE_EQ(ua_helpers_register_kfunc(set, "host_note", host_note), 0);
	err[0] = '\0';
	REQUIRE_EQ(open_embed(set, &obj, err, sizeof(err)), 0);
	UA_OPTS(ua_test_run_opts, o, .flags = UA_F_TEST_RUN_ON_CPU, .cpu = 0, .err_buf = err,
		.err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(ua_object_find_program(obj, "use_host_functions"), &o), 0);
	CHECK_EQ(o.retval, 6 * 10 + 7 + 1000);
	CHECK_EQ(host_note_calls, 1);
	ua_object_close(obj);
	ua_helpers_free(set);
}
