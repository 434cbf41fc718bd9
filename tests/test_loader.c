/* SPDX-License-Identifier: MIT */
/*
 * The object loader end to end: clang-compiled objects from tests/bpf/
 * loaded with ua_object_open, their maps and programs inspected, and
 * programs run with ua_program_test_run — exact return values and memory.
 */
#include "test.h"
#include "util.h"

#include <uarena.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct ua_object *open_ok(const char *name, const char *only)
{
	static char err[256];
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 4,
		.only_prog = only);
	int ret = ua_object_open(ua_test_bpf_obj_built(name), &o, &obj);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "open %s: %d %s", name, ret, err);
	REQUIRE_EQ(ret, 0);
	return obj;
}

static int run(struct ua_object *obj, const char *prog, uint32_t *retval)
{
	char err[256] = "";
	struct ua_program *p = ua_object_find_program(obj, prog);
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	int ret;

	if (!p)
		return -ENOENT;
	ret = ua_program_test_run(p, &o);
	if (ret)
		fprintf(stderr, "run %s: %d %s\n", prog, ret, err);
	*retval = o.retval;
	return ret;
}

TEST(loader, globals_maps_and_names)
{
	struct ua_object *obj = open_ok("loader_globals", "read_globals");
	struct ua_map *bss = ua_object_find_map(obj, "loader_g.bss");
	struct ua_map *data = ua_object_find_map(obj, "loader_g.data");
	struct ua_map *ro = ua_object_find_map(obj, "loader_g.rodata");
	struct ua_map *custom = ua_object_find_map(obj, "loa.data.custom");
	uint32_t key = 0, retval = 0;
	int vals[64];

	/* libbpf naming: 8-char object prefix (suffix counted as >= 7), 15 chars max. */
	REQUIRE(bss && data && ro && custom);
	CHECK_EQ(ua_map_type(bss), 2);
	CHECK_EQ(ua_map_max_entries(bss), 1);
	CHECK_EQ(ua_map_key_size(bss), 4);
	/* bss_var at 0, counters[4] at 8, busy[8] at 40, overlaps at 104, spin at 112 */
	CHECK_EQ(ua_map_value_size(bss), 120);
	CHECK_EQ(ua_map_value_size(data), 4);
	CHECK(ua_map_flags(ro) & (1U << 7)); /* BPF_F_RDONLY_PROG */
	REQUIRE_EQ(ua_map_lookup_elem(data, &key, vals), 0);
	CHECK_EQ(vals[0], 7);
	REQUIRE(ua_map_value_size(ro) <= sizeof(vals));
	REQUIRE_EQ(ua_map_lookup_elem(ro, &key, vals), 0);
	CHECK_EQ(vals[0], 100);
	/* .rodata is frozen: user-space updates are refused like a frozen map. */
	CHECK_EQ(ua_map_update_elem(ro, &key, vals, 0), -EPERM);

	REQUIRE_EQ(run(obj, "read_globals", &retval), 0);
	CHECK_EQ(retval, 112);
	REQUIRE_EQ(run(obj, "read_globals", &retval), 0);
	CHECK_EQ(retval, 113);
	/* The host sees the program's .bss writes through the mmaped value. */
	size_t sz;
	int *bssp = ua_map_mmaped(bss, &sz);

	REQUIRE(bssp != NULL);
	CHECK_EQ(bssp[0], 2);
	long *counters = (long *)((char *)bssp + 8);

	CHECK_EQ(counters[1], 6);
	/* And the program sees host writes. */
	vals[0] = 1000;
	REQUIRE_EQ(ua_map_update_elem(data, &key, vals, 0), 0);
	REQUIRE_EQ(run(obj, "read_globals", &retval), 0);
	CHECK_EQ(retval, 1000 + 100 + 5 + 2);
	ua_object_close(obj);
}

TEST(loader, programs_listed_with_sections_and_types)
{
	struct ua_object *obj = open_ok("loader_globals", "calls");
	const char *names[16];
	int types[16], n = 0;

	for (struct ua_program *p = ua_object_next_program(obj, NULL); p && n < 16;
	     p = ua_object_next_program(obj, p)) {
		names[n] = ua_program_name(p);
		types[n++] = ua_program_type(p);
	}
	/* global_sum lives in .text: a subprogram, not a program. */
	REQUIRE_EQ(n, 9);
	CHECK_STR(names[0], "read_globals");
	CHECK_STR(names[3], "xdp_first_byte");
	CHECK_EQ(types[0], UA_PROG_TYPE_SYSCALL);
	CHECK_EQ(types[3], UA_PROG_TYPE_XDP);
	CHECK_STR(ua_program_section(ua_object_find_program(obj, "xdp_first_byte")), "xdp");
	/* only_prog: only "calls" is prepared. */
	CHECK(ua_program_prepared(ua_object_find_program(obj, "calls")));
	CHECK(!ua_program_prepared(ua_object_find_program(obj, "read_globals")));
	struct ua_program *rg = ua_object_find_program(obj, "read_globals");
	UA_OPTS(ua_test_run_opts, o);

	CHECK_EQ(ua_program_test_run(rg, &o), -ENOENT);
	ua_object_close(obj);
}

TEST(loader, subprogram_calls_are_linked)
{
	struct ua_object *obj = open_ok("loader_globals", "calls");
	uint32_t retval = 0;
	size_t n_insns;
	const struct ua_insn *insns = ua_program_insns(ua_object_find_program(obj, "calls"),
							&n_insns);

	REQUIRE_EQ(run(obj, "calls", &retval), 0);
	CHECK_EQ(retval, 123);
	/* Every pseudo call lands on an insn inside the linked program. */
	for (size_t i = 0; i < n_insns; i++)
		if (insns[i].code == (UA_JMP | UA_CALL) && insns[i].src_reg == UA_PSEUDO_CALL)
			CHECK((int64_t)i + insns[i].imm + 1 < (int64_t)n_insns);
	ua_object_close(obj);
}

TEST(loader, kconfig_externs)
{
	struct ua_object *obj = open_ok("loader_globals", "kconfig");
	struct utsname u;
	unsigned major = 0;
	uint32_t retval = 0;

	uname(&u);
	sscanf(u.release, "%u", &major);
	REQUIRE_EQ(run(obj, "kconfig", &retval), 0);
	CHECK_EQ(retval, major * 1000 + 4); /* nr_cpus = 4 from the opts */
	ua_object_close(obj);
}

TEST(loader, xdp_packet_and_data_out)
{
	struct ua_object *obj = open_ok("loader_globals", "xdp_first_byte");
	struct ua_program *p = ua_object_find_program(obj, "xdp_first_byte");
	uint8_t pkt[60] = { 0 }, out[64];
	char err[256] = "";

	pkt[13] = 0x08;
	UA_OPTS(ua_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .data_out = out,
		.data_size_out = sizeof(out), .err_buf = err, .err_buf_sz = sizeof(err));
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 2); /* XDP_PASS */
	CHECK_EQ(o.data_size_out, 60);
	CHECK_EQ(out[0], 0xaa);
	CHECK_EQ(pkt[0], 0); /* data_in untouched */
	pkt[13] = 0x06;
	o.data_size_out = sizeof(out);
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 1); /* XDP_DROP */
	/* data_out too small: -ENOSPC, as the kernel. */
	o.data_size_out = 10;
	CHECK_EQ(ua_program_test_run(p, &o), -ENOSPC);
	CHECK_EQ(o.data_size_out, 60);
	/* Too short a packet is refused. */
	o.data_size_in = 10;
	CHECK_EQ(ua_program_test_run(p, &o), -EINVAL);
	ua_object_close(obj);
}

TEST(loader, core_field_offsets)
{
	struct ua_object *obj = open_ok("loader_core", NULL);
	uint32_t retval = 0;

	REQUIRE_EQ(run(obj, "offsets", &retval), 0);
	CHECK_EQ(retval, 8 * 100 + 20);
	REQUIRE_EQ(run(obj, "map_max_entries", &retval), 0);
	CHECK_EQ(retval, 37);
	ua_object_close(obj);
}

TEST(loader, btf_defined_maps)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 3,
		.only_prog = "none-such");

	/* only_prog naming a missing program is an error. */
	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_maps"), &o, &obj), -ENOENT);
	CHECK_CONTAINS(err, "loader: no program named 'none-such'");
	o.only_prog = "no_helpers";
	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_maps"), &o, &obj), 0);
	struct ua_map *h = ua_object_find_map(obj, "hmap"), *a = ua_object_find_map(obj, "amap");
	struct ua_map *pc = ua_object_find_map(obj, "pcpu"), *rb = ua_object_find_map(obj, "rb");

	REQUIRE(h && a && pc && rb);
	CHECK_EQ(ua_map_type(h), 1);
	CHECK_EQ(ua_map_key_size(h), 4);
	CHECK_EQ(ua_map_value_size(h), 8);
	CHECK_EQ(ua_map_max_entries(h), 16);
	CHECK_EQ(ua_map_value_size(a), 12);
	CHECK_EQ(ua_map_flags(a), 1U << 10);
	size_t sz;

	CHECK(ua_map_mmaped(a, &sz) != NULL);
	CHECK_EQ(sz, 4096);
	CHECK_EQ(ua_map_type(pc), 6);
	CHECK_EQ(ua_map_type(rb), 27);
	CHECK_EQ(ua_map_max_entries(rb), 4096);
	struct ua_map *pin = ua_object_find_map(obj, "pinned");

	REQUIRE(pin != NULL);
	CHECK_EQ(ua_map_flags(pin), 1U << 2); /* BPF_F_NUMA_NODE kept */
	CHECK_EQ(ua_map_value_size(pin), 8);
	uint32_t k = 1;
	uint64_t v = 77;
	uint32_t retval;

	REQUIRE_EQ(ua_map_update_elem(h, &k, &v, 0), 0);
	REQUIRE_EQ(run(obj, "no_helpers", &retval), 0);
	CHECK_EQ(retval, 5);
	ua_object_close(obj);
}

TEST(loader, program_with_map_helper)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "uses_hash");
	int ret = ua_object_open(ua_test_bpf_obj_built("loader_maps"), &o, &obj);

	REQUIRE_EQ(ret, 0);
	struct ua_map *h = ua_object_find_map(obj, "hmap");
	uint32_t k = 1, retval = 0;
	uint64_t v = 77;

	REQUIRE_EQ(run(obj, "uses_hash", &retval), 0);
	CHECK_EQ(retval, (uint32_t)-1); /* not there yet */
	REQUIRE_EQ(ua_map_update_elem(h, &k, &v, 0), 0);
	REQUIRE_EQ(run(obj, "uses_hash", &retval), 0);
	CHECK_EQ(retval, 77);
	ua_object_close(obj);
}

TEST(loader, unknown_kfunc_named_only_prog_skips_it)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_bad_kfunc"), &o, &obj), -ENOENT);
	CHECK(obj == NULL);
	CHECK_CONTAINS(err, "loader: prog 'bad' insn ");
	CHECK_CONTAINS(err, "unknown kfunc 'bpf_uarena_no_such_kfunc' (section syscall)");
	o.only_prog = "fine";
	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_bad_kfunc"), &o, &obj), 0);
	uint32_t retval = 0;

	REQUIRE_EQ(run(obj, "fine", &retval), 0);
	CHECK_EQ(retval, 42);
	ua_object_close(obj);
}

struct mt_arg {
	struct ua_program *p;
	int fails;
};

static void *mt_runner(void *argp)
{
	struct mt_arg *a = argp;

	for (int i = 0; i < 200; i++) {
		UA_OPTS(ua_test_run_opts, o);

		if (ua_program_test_run(a->p, &o) || o.retval != 123)
			a->fails++;
	}
	return NULL;
}

TEST(loader, concurrent_test_runs)
{
	struct ua_object *obj = open_ok("loader_globals", "calls");
	struct mt_arg args[6];
	pthread_t th[6];

	for (int i = 0; i < 6; i++) {
		args[i] = (struct mt_arg){ ua_object_find_program(obj, "calls"), 0 };
		pthread_create(&th[i], NULL, mt_runner, &args[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].fails, 0);
	}
	ua_object_close(obj);
}

TEST(loader, raw_mode_r1_data_r2_len)
{
	/* r0 = r2 + first byte of data: ldxb r0, [r1]; add r0, r2; exit */
	struct ua_insn insns[] = {
		{ .code = UA_LDX | UA_B | UA_MEM, .dst_reg = 0, .src_reg = 1 },
		{ .code = UA_ALU64 | UA_ADD | UA_X, .dst_reg = 0, .src_reg = 2 },
		{ .code = UA_JMP | UA_EXIT },
	};
	struct ua_program *p;
	uint8_t data[5] = { 40, 1, 2, 3, 4 };
	char err[128] = "";
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err));

	REQUIRE_EQ(ua_program_load_raw(insns, 3, &ro, &p), 0);
	UA_OPTS(ua_test_run_opts, o, .data_in = data, .data_size_in = sizeof(data), .repeat = 3);
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 45);
	ua_program_free_raw(p);
	/* Invalid code is rejected with the interpreter's reason. */
	struct ua_insn bad[] = { { .code = 0xff } };

	CHECK(ua_program_load_raw(bad, 1, &ro, &p) < 0);
	CHECK_CONTAINS(err, "loader: prog 'raw': ");
}

static int collect(void *ctx, const void *data, size_t size)
{
	uint64_t *out = ctx;

	if (size == 8)
		memcpy(&out[out[0]++ + 1], data, 8);
	return 0;
}

TEST(loader, percpu_slot_and_ringbuf_from_program)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 3,
		.only_prog = "percpu_and_ringbuf");

	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_maps"), &o, &obj), 0);
	struct ua_program *p = ua_object_find_program(obj, "percpu_and_ringbuf");
	UA_OPTS(ua_test_run_opts, r, .flags = UA_F_TEST_RUN_ON_CPU, .cpu = 2, .err_buf = err,
		.err_buf_sz = sizeof(err));

	REQUIRE_EQ(ua_program_test_run(p, &r), 0);
	CHECK_EQ(r.retval, 2);
	r.cpu = 0;
	REQUIRE_EQ(ua_program_test_run(p, &r), 0);
	CHECK_EQ(r.retval, 0);
	r.cpu = 3; /* only CPUs 0..2 exist */
	CHECK_EQ(ua_program_test_run(p, &r), -ENXIO);
	uint32_t k = 1, vals[6];

	REQUIRE_EQ(ua_map_lookup_elem(ua_object_find_map(obj, "pcpu"), &k, vals), 0);
	CHECK_EQ(vals[0], 100);
	CHECK_EQ(vals[2], 0);
	CHECK_EQ(vals[4], 102);
	uint64_t got[4] = { 0 };

	CHECK_EQ(ua_ringbuf_consume(ua_object_find_map(obj, "rb"), collect, got), 2);
	CHECK_EQ(got[0], 2);
	CHECK_EQ(got[1], 0xabcd0002);
	CHECK_EQ(got[2], 0xabcd0000);
	ua_object_close(obj);
}

TEST(loader, tc_skb_len_and_data)
{
	struct ua_object *obj = open_ok("loader_globals", "tc_len");
	struct ua_program *p = ua_object_find_program(obj, "tc_len");
	uint8_t pkt[40] = { 0 };

	pkt[19] = 7;
	UA_OPTS(ua_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));
	CHECK_EQ(ua_program_type(p), UA_PROG_TYPE_SCHED_CLS);
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 40 * 10 + 7);
	o.data_size_in = 16; /* data + 20 > data_end */
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 2);
	ua_object_close(obj);
}

struct trace_buf {
	char text[256];
	size_t len;
};

static int trace_sink(void *ctx, const char *msg, size_t len)
{
	struct trace_buf *t = ctx;

	if (t->len + len < sizeof(t->text)) {
		memcpy(t->text + t->len, msg, len);
		t->len += len;
		t->text[t->len] = 0;
	}
	return 0;
}

TEST(loader, printk_goes_to_trace_sink)
{
	struct trace_buf t = { "", 0 };
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "printk", .trace = trace_sink, .trace_ctx = &t);
	int ret = ua_object_open(ua_test_bpf_obj_built("loader_globals"), &o, &obj);

	REQUIRE_EQ(ret, 0);
	uint32_t retval = 1;

	REQUIRE_EQ(run(obj, "printk", &retval), 0);
	CHECK_EQ(retval, 0);
	CHECK_CONTAINS(t.text, "hello 42 arena");
	ua_object_close(obj);
}

TEST(loader, unknown_strong_kconfig_rejected)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_kconfig_bad"), &o, &obj), -ESRCH);
	CHECK_CONTAINS(err, "loader: extern (kconfig) 'CONFIG_UARENA_NO_SUCH_OPTION': value not found");
}

TEST(loader, syscall_ctx_in_and_out)
{
	struct ua_object *obj = open_ok("loader_globals", "ctx_sum");
	int in[3] = { 30, 12, 0 }, out[3] = { 0 };
	UA_OPTS(ua_test_run_opts, o, .ctx_in = in, .ctx_size_in = sizeof(in), .ctx_out = out,
		.ctx_size_out = sizeof(out));

	REQUIRE_EQ(ua_program_test_run(ua_object_find_program(obj, "ctx_sum"), &o), 0);
	CHECK_EQ(out[0], 30);
	CHECK_EQ(out[2], 42);
	CHECK_EQ(o.ctx_size_out, sizeof(out));
	CHECK_EQ(in[2], 0); /* ctx_in is copied, not written */
	ua_object_close(obj);
}

TEST(loader, rodata_is_read_only_for_programs)
{
	struct ua_object *obj = NULL;
	char err[256] = "";
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "write_rodata");

	/* A direct store is refused at load, as by the verifier. */
	CHECK_EQ(ua_object_open(ua_test_bpf_obj("loader_globals"), &oo, &obj), -EACCES);
	CHECK_STR(err, "loader: prog 'write_rodata' insn 2: write into map forbidden, value_size=16 "
		       "off=0 size=4 (map loader_g.rodata is read-only for programs)");
	obj = open_ok("loader_globals", "read_globals");
	uint32_t key = 0;
	struct ua_map *ro = ua_object_find_map(obj, "loader_g.rodata");
	int v[64] = { 0 };

	REQUIRE(ua_map_value_size(ro) <= sizeof(v));
	REQUIRE_EQ(ua_map_lookup_elem(ro, &key, v), 0);
	CHECK_EQ(v[0], 100);
	ua_object_close(obj);
}

TEST(loader, autoload_off_sections)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	uint32_t retval = 0;

	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_autoload"), &o, &obj), 0);
	struct ua_program *opt = ua_object_find_program(obj, "optional_bad");

	REQUIRE(opt != NULL);
	CHECK_STR(ua_program_section(opt), "?syscall");
	CHECK_EQ(ua_program_type(opt), UA_PROG_TYPE_SYSCALL);
	CHECK(!ua_program_prepared(opt));
	REQUIRE_EQ(run(obj, "always", &retval), 0);
	CHECK_EQ(retval, 7);
	ua_object_close(obj);
	o.only_prog = "optional_bad";
	CHECK_EQ(ua_object_open(ua_test_bpf_obj_built("loader_autoload"), &o, &obj), -ENOENT);
	CHECK_CONTAINS(err, "unknown kfunc 'bpf_uarena_no_such_kfunc' (section ?syscall)");
}

TEST(loader, text_only_object_runs_raw_convention)
{
	struct ua_object *obj = open_ok("loader_text_only", NULL);
	struct ua_program *p = ua_object_find_program(obj, "checksum");
	uint8_t data[4] = { 1, 2, 3, 4 };

	REQUIRE(p != NULL);
	CHECK_STR(ua_program_section(p), ".text");
	CHECK(ua_object_find_program(obj, "weight") == NULL); /* static: a subprogram */
	UA_OPTS(ua_test_run_opts, o, .data_in = data, .data_size_in = sizeof(data));
	REQUIRE_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 20);
	ua_object_close(obj);
}

TEST(loader, core_bitfields_and_enum_values)
{
	struct ua_object *obj = open_ok("loader_core", NULL);
	uint32_t retval = 0;

	REQUIRE_EQ(run(obj, "bitfields", &retval), 0);
	/* byte_off 0, byte_sz 4, signed 1, lshift 56, rshift 59, c unsigned 0 */
	CHECK_EQ(retval, ((((0 * 10 + 4) * 10 + 1) * 100 + 56) * 100 + 59) * 10 + 0);
	REQUIRE_EQ(run(obj, "enumvals", &retval), 0);
	CHECK_EQ((int32_t)retval, -7 * 100 + 1 * 10 + 3);
	ua_object_close(obj);
}

struct count_arg {
	struct ua_program *p;
	int fails;
};

static void *count_runner(void *argp)
{
	struct count_arg *a = argp;

	for (int i = 0; i < 500; i++) {
		UA_OPTS(ua_test_run_opts, o);

		if (ua_program_test_run(a->p, &o) || o.retval != 0)
			a->fails++;
	}
	return NULL;
}

TEST(loader, concurrent_runs_update_hash_per_cpu)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 3,
		.only_prog = "count_per_cpu");

	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_maps"), &o, &obj), 0);
	struct count_arg args[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct count_arg){ ua_object_find_program(obj, "count_per_cpu"), 0 };
		pthread_create(&th[i], NULL, count_runner, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].fails, 0);
	}
	/* Runs sharing a CPU id never overlap, so no increment is lost: exactly 2000,
	 * spread over CPU ids 0..2 only. */
	struct ua_map *h = ua_object_find_map(obj, "hmap");
	uint64_t total = 0, v;
	uint32_t k, next;
	int keys = 0;

	for (int ret = ua_map_get_next_key(h, NULL, &next); ret == 0;
	     ret = ua_map_get_next_key(h, &k, &next)) {
		k = next;
		CHECK(k < 3);
		REQUIRE_EQ(ua_map_lookup_elem(h, &k, &v), 0);
		total += v;
		keys++;
	}
	CHECK(keys >= 1 && keys <= 3);
	CHECK_EQ(total, 2000);
	ua_object_close(obj);
}

struct excl_arg {
	struct ua_program *p;
	int fails;
	uint32_t max_cpu;
};

static void *excl_runner(void *argp)
{
	struct excl_arg *a = argp;

	for (int i = 0; i < 300; i++) {
		UA_OPTS(ua_test_run_opts, o);

		if (ua_program_test_run(a->p, &o))
			a->fails++;
		if (o.retval > a->max_cpu)
			a->max_cpu = o.retval;
	}
	return NULL;
}

TEST(loader, concurrent_runs_never_share_a_cpu_id)
{
	char err[256] = "";
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 2,
		.only_prog = "cpu_exclusive");

	REQUIRE_EQ(ua_object_open(ua_test_bpf_obj_built("loader_globals"), &o, &obj), 0);
	struct excl_arg args[6];
	pthread_t th[6];

	for (int i = 0; i < 6; i++) {
		args[i] = (struct excl_arg){ ua_object_find_program(obj, "cpu_exclusive"), 0, 0 };
		pthread_create(&th[i], NULL, excl_runner, &args[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(args[i].fails, 0);
		CHECK(args[i].max_cpu < 2); /* ids come from the pool of nr_cpus = 2 */
	}
	/* overlaps is the .bss word after busy[8] (bss_var, counters[4], busy[8], overlaps). */
	struct ua_map *bss = ua_object_find_map(obj, "loader_g.bss");
	size_t sz;
	const uint8_t *p = ua_map_mmaped(bss, &sz);

	REQUIRE(p != NULL);
	uint64_t overlaps;

	REQUIRE(sz >= 8 + 32 + 64 + 8);
	memcpy(&overlaps, p + 8 + 32 + 64, 8);
	CHECK_EQ(overlaps, 0);
	uint64_t busy[8];

	memcpy(busy, p + 8 + 32, sizeof(busy));
	for (int i = 0; i < 8; i++)
		CHECK_EQ(busy[i], 0);
	ua_object_close(obj);
}
