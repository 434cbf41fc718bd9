/* SPDX-License-Identifier: MIT */
/*
 * Raw programs through the public API (ua_program_load_raw): the buffer the
 * program modified comes back in data_out, an embedder helper set and a
 * caller's arena are honoured, and what raw mode does not have (maps,
 * kfuncs, an arena when none was given) is refused with the reason.
 */
#include <errno.h>

#include <uarena.h>

#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t times_three(struct ua_exec *ex, uint64_t a, uint64_t r2, uint64_t r3, uint64_t r4,
			    uint64_t r5)
{
	return a * 3;
}

TEST(progs_raw, data_out_and_embedder_helper)
{
	/* data[0] = helper_20000(data[0]); return data[0] + r2 */
	static const struct ua_insn insns[] = {
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 6, .src_reg = 1 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 7, .src_reg = 2 },
		{ .code = UA_LDX | UA_MEM | UA_B, .dst_reg = 1, .src_reg = 6 },
		{ .code = UA_JMP | UA_CALL, .imm = 20000 },
		{ .code = UA_STX | UA_MEM | UA_B, .dst_reg = 6, .src_reg = 0 },
		{ .code = UA_ALU64 | UA_ADD | UA_X, .dst_reg = 0, .src_reg = 7 },
		{ .code = UA_JMP | UA_EXIT },
	};
	uint8_t in[3] = { 14, 1, 2 }, out[3] = { 0 }, small[2] = { 0 };
	struct ua_helpers *set = NULL;
	struct ua_program *p = NULL;
	char err[256] = "";

	UA_OPTS(ua_raw_opts, plain, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_load_raw(insns, N(insns), &plain, &p), -EINVAL);
	CHECK_STR(err, "loader: prog 'raw': prog: insn 3: unknown helper id 20000");
	REQUIRE_EQ(ua_helpers_new(&set), 0);
	REQUIRE_EQ(ua_helpers_register(set, 20000, "times_three", times_three), 0);
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err), .helpers = set,
		.name = "tripler");
	REQUIRE_EQ(ua_program_load_raw(insns, N(insns), &ro, &p), 0);
	CHECK_STR(ua_program_name(p), "tripler");
	UA_OPTS(ua_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in), .data_out = out,
		.data_size_out = sizeof(out), .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 42 + 3);
	CHECK_EQ(o.data_size_out, 3);
	CHECK_EQ(out[0], 42);
	CHECK_EQ(out[1], 1);
	CHECK_EQ(out[2], 2);
	CHECK_EQ(in[0], 14); /* the caller's input is copied, not written */
	UA_OPTS(ua_test_run_opts, o2, .data_in = in, .data_size_in = sizeof(in), .data_out = small,
		.data_size_out = sizeof(small), .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(p, &o2), -ENOSPC);
	CHECK_EQ(o2.data_size_out, 3);
	CHECK_EQ(small[0], 42);
	CHECK_STR(err, "run: data_out holds 2 of 3 bytes");
	ua_program_free_raw(p);
	ua_helpers_free(set);
}

TEST(progs_raw, caller_arena)
{
	/* r1 = 32-bit arena offset from the input; *(u64 *)cast(r1) = 0x1234; return it back. */
	static const struct ua_insn insns[] = {
		{ .code = UA_LDX | UA_MEM | UA_W, .dst_reg = 3, .src_reg = 1 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 3, .src_reg = 3, .off = UA_ADDR_SPACE_CAST,
		  .imm = 1 }, /* as(1) -> as(0): cast_user */
		{ .code = UA_ST | UA_MEM | UA_DW, .dst_reg = 3, .off = 8, .imm = 0x1234 },
		{ .code = UA_LDX | UA_MEM | UA_DW, .dst_reg = 0, .src_reg = 3, .off = 8 },
		{ .code = UA_JMP | UA_EXIT },
	};
	struct ua_arena *a = NULL;
	struct ua_program *p = NULL;
	char err[256] = "";
	uint8_t *page;
	uint32_t off;

	UA_OPTS(ua_raw_opts, none, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_load_raw(insns, N(insns), &none, &p), -EINVAL);
	CHECK_CONTAINS(err, "insn 1: addr_space_cast insn can only be used in a program that has "
			    "an associated arena");
	UA_OPTS(ua_arena_opts, ao, .max_entries = 4, .map_flags = UA_F_MMAPABLE);
	REQUIRE_EQ(ua_arena_create(&ao, &a), 0);
	page = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(page != NULL);
	off = (uint32_t)(uintptr_t)page;
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err), .arena = a);
	REQUIRE_EQ(ua_program_load_raw(insns, N(insns), &ro, &p), 0);
	err[0] = '\0';
	UA_OPTS(ua_test_run_opts, o, .data_in = &off, .data_size_in = sizeof(off), .err_buf = err,
		.err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(p, &o), 0);
	CHECK_STR(err, "");
	CHECK_EQ(o.retval, 0x1234);
	CHECK_EQ(*(uint64_t *)(page + 8), 0x1234); /* the host sees the program's store */
	ua_program_free_raw(p);
	ua_arena_destroy(a);
}
