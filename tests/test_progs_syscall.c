/* SPDX-License-Identifier: MIT */
/*
 * SEC("syscall") test runs against the kernel's rule (net/bpf/test_run.c,
 * bpf_prog_test_run_syscall): ctx_size_in below the program's
 * max_ctx_offset is -EINVAL before anything runs. Checked on uarena with
 * exact errnos and messages, then the same instructions in the kernel
 * (SKIP without bpf()): both sides must accept and refuse the same runs.
 * Also the verifier's load-time refusal of stores into .rodata.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <uarena.h>

#include "kernel.h"
#include "test.h"
#include "util.h"

struct args {
	int32_t a, b;
	int64_t out;
};

static struct ua_object *open_syscall_ctx(void)
{
	const char *path = ua_test_bpf_obj_built("loader_syscall_ctx");
	struct ua_object *obj = NULL;
	char err[256] = "";

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	if (ua_object_open(path, &oo, &obj)) {
		ua_test_fail(__FILE__, __LINE__, "open %s: %s", path, err);
		ua_test_end_now();
	}
	return obj;
}

static int run(struct ua_object *obj, const char *prog, struct args *ctx, uint32_t ctx_size,
	       uint32_t *retval, char *err, size_t err_sz)
{
	struct args out = { 0 };
	UA_OPTS(ua_test_run_opts, o, .ctx_in = ctx_size ? ctx : NULL, .ctx_size_in = ctx_size,
		.ctx_out = ctx_size ? &out : NULL, .ctx_size_out = ctx_size ? ctx_size : 0,
		.err_buf = err, .err_buf_sz = err_sz);
	int ret = ua_program_test_run(ua_object_find_program(obj, prog), &o);

	*retval = o.retval;
	if (!ret && ctx_size)
		memcpy(ctx, &out, ctx_size);
	return ret;
}

TEST(progs_syscall, ctx_smaller_than_accessed_is_einval)
{
	struct ua_object *obj = open_syscall_ctx();
	struct args a = { .a = 4, .b = 2 };
	char err[256] = "";
	uint32_t rv = 0;

	CHECK_EQ(run(obj, "read_ab", NULL, 0, &rv, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "run: prog 'read_ab' accesses ctx up to byte 8 but ctx_size_in is 0 "
		       "(the kernel refuses this run)");
	CHECK_EQ(run(obj, "read_ab", &a, 4, &rv, err, sizeof(err)), -EINVAL);
	CHECK_EQ(run(obj, "read_ab", &a, 8, &rv, err, sizeof(err)), 0);
	CHECK_EQ(rv, 42);

	CHECK_EQ(run(obj, "write_out", &a, 8, &rv, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "up to byte 16 but ctx_size_in is 8");
	CHECK_EQ(run(obj, "write_out", &a, sizeof(a), &rv, err, sizeof(err)), 0);
	CHECK_EQ(a.out, 1004);

	CHECK_EQ(run(obj, "no_ctx", NULL, 0, &rv, err, sizeof(err)), 0);
	CHECK_EQ(rv, 5);
	/* An access on one path only still counts, as the verifier walks every path. */
	CHECK_EQ(run(obj, "ctx_on_one_path", NULL, 0, &rv, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "up to byte 8 but ctx_size_in is 0");
	CHECK_EQ(run(obj, "ctx_on_one_path", &a, 8, &rv, err, sizeof(err)), 0);
	CHECK_EQ(rv, 3);
	ua_object_close(obj);
}

/* The same linked instructions in the kernel: same accept/refuse verdict for each size. */
TEST(progs_syscall, kernel_agrees_on_ctx_sizes)
{
	static const char *const progs[] = { "read_ab", "write_out", "no_ctx", "ctx_on_one_path" };
	static const uint32_t sizes[] = { 0, 4, 8, 12, 16 };
	struct ua_object *obj;

	ua_test_require_kbpf();
	obj = open_syscall_ctx();
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct ua_kbpf_prog_attr pa = { .prog_type = UA_PROG_TYPE_SYSCALL,
						.prog_flags = UA_KBPF_F_SLEEPABLE };
		size_t n;
		char err[1024] = "";
		int fd;

		pa.insns = ua_program_insns(ua_object_find_program(obj, progs[i]), &n);
		pa.insn_cnt = (uint32_t)n;
		snprintf(pa.name, sizeof(pa.name), "ua_sc_%zu", i);
		fd = ua_kbpf_prog_load(&pa, err, sizeof(err));
		if (fd < 0) {
			ua_test_fail(__FILE__, __LINE__, "%s: %s", progs[i], err);
			continue;
		}
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct args kctx = { .a = 4, .b = 2 }, uctx = kctx;
			struct ua_kbpf_test_run kr = { .ctx_in = sizes[s] ? &kctx : NULL,
						       .ctx_size_in = sizes[s] };
			uint32_t urv = 0;
			int kret = ua_kbpf_prog_test_run(fd, &kr);
			int uret = run(obj, progs[i], &uctx, sizes[s], &urv, err, sizeof(err));

			if (kret != uret || (!kret && (kr.retval != urv || kctx.out != uctx.out)))
				ua_test_fail(__FILE__, __LINE__, "%s ctx %u: kernel %d (retval %u, out "
					     "%lld), uarena %d (retval %u, out %lld)", progs[i],
					     sizes[s], kret, kr.retval, (long long)kctx.out, uret, urv,
					     (long long)uctx.out);
		}
		close(fd);
	}
	ua_object_close(obj);
}

/* A store into .rodata is refused at load with the verifier's words; a reader loads alone. */
TEST(progs_syscall, rodata_store_refused_at_load)
{
	const char *path = ua_test_bpf_obj_built("loader_rodata_write");
	struct ua_object *obj = NULL;
	char err[512] = "";

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_object_open(path, &oo, &obj), -EACCES);
	CHECK(obj == NULL);
	CHECK_STR(err, "loader: prog 'poke' insn 2: write into map forbidden, value_size=40 off=24 "
		       "size=8 (map loader_r.rodata is read-only for programs)");

	UA_OPTS(ua_object_open_opts, only, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "read_limit");
	REQUIRE_EQ(ua_object_open(path, &only, &obj), 0);
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(ua_object_find_program(obj, "read_limit"), &o), 0);
	CHECK_EQ(o.retval, 5 + 4);
	ua_object_close(obj);
}
