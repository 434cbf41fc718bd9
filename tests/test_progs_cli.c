/* SPDX-License-Identifier: MIT */
/*
 * `uarena run`, `uarena maps`, `uarena demo` and `uarena disasm OBJ` as a
 * user runs them on the example objects: exit codes, the exact lines that
 * carry results (retval, JSON fields, map rows, listing headers), and the
 * error text on stderr.
 */
#include "test.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

#include <uarena.h>

/* `uarena ARGS...` with stdin from /dev/null. */
#define UARENA(r, ...) \
	ua_test_run_tool(r, "uarena", (const char *const[]){ __VA_ARGS__, NULL }, NULL, 0)

TEST(progs_cli, run_prints_retval_and_json)
{
	struct ua_test_cmd r;

	UARENA(&r, "run", ua_test_bpf_obj("arena_verifier"), "--prog", "basic_alloc1");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "prog basic_alloc1: retval 0 (0, 0x0)\n");
	CHECK_CONTAINS(r.out, " ns per run (1 run, interpreter)\n");

	UARENA(&r, "run", ua_test_bpf_obj("arena_verifier"), "--prog", "basic_alloc2", "--json", "--repeat",
	       "3", "--jit");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"prog\":\"basic_alloc2\",\"retval\":0,\"retval_signed\":0,");
	CHECK_CONTAINS(r.out, "\"repeat\":3}\n");
	CHECK_STR(r.err, ""); /* --jit runs the JIT: no fallback notice */
}

TEST(progs_cli, run_xdp_with_packet_file)
{
	static const unsigned char arp[16] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1 };
	char pkt[] = "/tmp/ua_pcli_pkt_XXXXXX";
	int fd = mkstemp(pkt);
	struct ua_test_cmd r;

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, arp, sizeof(arp)) == (ssize_t)sizeof(arp));
	close(fd);
	UARENA(&r, "run", ua_test_bpf_obj("xdp_arena_kv"), "--data", pkt);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "prog xdp_kv_filter: retval 2 (2, 0x2)\n");
	CHECK_CONTAINS(r.out, "data_out: 16 bytes\n  0000: 02 00 00 00 00 02 02 00 00 00 00 01 08 06 00 01\n");
	UARENA(&r, "run", ua_test_bpf_obj("xdp_arena_kv"), "--data", pkt, "--json");
	CHECK_CONTAINS(r.out, "\"data_out\":\"02000000000202000000000108060001\"}\n");
	unlink(pkt);
}

TEST(progs_cli, run_errors)
{
	struct ua_test_cmd r;

	UARENA(&r, "run", "/nonexistent.bpf.o");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena run: /nonexistent.bpf.o: loader: cannot open /nonexistent.bpf.o: "
			 "No such file or directory\n");
	UARENA(&r, "run", ua_test_bpf_obj("arena_verifier"), "--repeat", "0");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --repeat needs a positive count\n");
	UARENA(&r, "run");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "usage: uarena run OBJ");
	UARENA(&r, "run", ua_test_bpf_obj("xdp_arena_kv"), "--data", "/nonexistent.pkt");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena run: /nonexistent.pkt: No such file or directory\n");
}

TEST(progs_cli, maps_after_run)
{
	struct ua_test_cmd r;

	UARENA(&r, "maps", ua_test_bpf_obj("arena_strsearch"), "--run", "arena_strsearch");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "ran arena_strsearch: retval 0\n");
	CHECK_CONTAINS(r.out, "arena: arena (type 33) key 0 value 0 max_entries 4 flags 0x400\n");
	CHECK_CONTAINS(r.out, "    arena: user view at 0x");
	CHECK_CONTAINS(r.out, ", 16384 bytes, fault path ");
	/* .bss holds n_checked = 20 after the run. */
	CHECK_CONTAINS(r.out, "array (type 2) key 4 value 4 max_entries 1 flags 0x400\n"
			      "    key: 00 00 00 00  value: 14 00 00 00\n");

	UARENA(&r, "maps", ua_test_bpf_obj("arena_strsearch"), "--json");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"maps\":[{\"name\":\"arena\",\"type\":\"arena\",\"type_id\":33,"
			      "\"key_size\":0,\"value_size\":0,\"max_entries\":4,\"flags\":1024,");
	CHECK_CONTAINS(r.out, "\"entries\":[{\"key\":\"00000000\",\"value\":\"00000000\"}]}]}\n");
}

TEST(progs_cli, demo_agrees)
{
	struct ua_test_cmd r;

	UARENA(&r, "demo", "--bpf-dir", ua_test_bpf_dir());
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "5 elements, sum 10; BPF's own running sum in the arena: 10 -> agree\n");
	CHECK_CONTAINS(r.out, "host's sum 1000, BPF's sum 1000 -> agree; list now empty\n");
	CHECK_CONTAINS(r.out, "Both sides agreed at every step.\n");
	CHECK_STR(r.err, "");

	UARENA(&r, "demo", "--bpf-dir", "/nonexistent");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena demo: cannot find arena_list.bpf.o (build it with `make`, or pass "
			 "--bpf-dir DIR)\n");
}

TEST(progs_cli, disasm_elf_lists_each_program)
{
	struct ua_test_cmd r;

	UARENA(&r, "disasm", ua_test_bpf_obj("arena_list"));
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "arena_list_add (section syscall, ");
	CHECK_CONTAINS(r.out, "\narena_list_del (section syscall, ");
	CHECK_CONTAINS(r.out, "   0: (");
	CHECK_CONTAINS(r.out, "addr_space_cast(");
}

/* Writes bytes to a fresh temp file; returns its path (static storage, 4 slots). */
static const char *temp_file(const void *bytes, size_t len)
{
	static char paths[4][32];
	static int next;
	char *p = paths[next++ % 4];
	int fd;

	snprintf(p, 32, "/tmp/ua_pcli_raw_XXXXXX");
	fd = mkstemp(p);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, bytes, len) == (ssize_t)len);
	close(fd);
	return p;
}

TEST(progs_cli, run_raw_bin_with_data)
{
	/* r0 = data[0]; data[1] = len; r0 += data[2]; exit */
	static const struct ua_insn prog[] = {
		{ .code = UA_LDX | UA_MEM | UA_B, .dst_reg = 0, .src_reg = 1, .off = 0 },
		{ .code = UA_STX | UA_MEM | UA_B, .dst_reg = 1, .src_reg = 2, .off = 1 },
		{ .code = UA_LDX | UA_MEM | UA_B, .dst_reg = 3, .src_reg = 1, .off = 2 },
		{ .code = UA_ALU64 | UA_ADD | UA_X, .dst_reg = 0, .src_reg = 3 },
		{ .code = UA_JMP | UA_EXIT },
	};
	static const uint8_t data[] = { 5, 0, 7 };
	const char *bin = temp_file(prog, sizeof(prog)), *dat = temp_file(data, sizeof(data));
	struct ua_test_cmd r;

	UARENA(&r, "run", "--raw", bin, "--data", dat);
	CHECK_STR(r.err, "");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "prog raw: retval 12 (12, 0xc)\n");
	CHECK_CONTAINS(r.out, "data_out: 3 bytes\n  0000: 05 03 07\n");
	UARENA(&r, "run", "--raw", bin, "--data", dat, "--json", "--repeat", "5");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"prog\":\"raw\",\"retval\":12,\"retval_signed\":12,\"duration_ns\":");
	CHECK_CONTAINS(r.out, ",\"repeat\":5,\"data_out\":\"050307\"}\n");
	unlink(bin);
	unlink(dat);
}

TEST(progs_cli, run_raw_elf_sections)
{
	static const uint8_t data[] = { 1, 2, 3, 250 };
	const char *dat = temp_file(data, sizeof(data));
	char want[512];
	struct ua_test_cmd r;

	/* .text as is: checksum() = 2 * (1 + 2 + 3 + 250), its call to weight() is relative. */
	UARENA(&r, "run", "--raw", ua_test_bpf_obj("loader_text_only"), "--data", dat);
	CHECK_STR(r.err, "");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "prog .text: retval 512 (512, 0x200)\n");

	/* An arena program needs --arena; its unrelocated globals then read as 0. */
	UARENA(&r, "run", "--raw", ua_test_bpf_obj("loader_arena"), "--section", "syscall");
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "prog 'syscall': isa: insn 2: addr_space_cast insn can only be used "
			      "in a program that has an associated arena\n");
	UARENA(&r, "run", "--raw", ua_test_bpf_obj("loader_arena"), "--section", "syscall", "--arena", "4");
	CHECK_STR(r.err, "");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "prog syscall: retval 1 (1, 0x1)\n");

	UARENA(&r, "run", "--raw", ua_test_bpf_obj("loader_arena"), "--section", "nope");
	CHECK_EQ(r.status, 1);
	snprintf(want, sizeof(want), "uarena run: %s: section nope: no such section\n",
		 ua_test_bpf_obj("loader_arena"));
	CHECK_STR(r.err, want);
	unlink(dat);
}

TEST(progs_cli, run_raw_errors)
{
	static const uint8_t twelve[12] = { 0xb7 };
	static const uint8_t bad_op[8] = { 0xff };
	const char *odd = temp_file(twelve, sizeof(twelve)), *bad = temp_file(bad_op, sizeof(bad_op));
	char want[256];
	struct ua_test_cmd r;

	UARENA(&r, "run", "--raw", odd);
	CHECK_EQ(r.status, 1);
	snprintf(want, sizeof(want), "uarena run: %s: 12 bytes of code, not a positive multiple of 8\n",
		 odd);
	CHECK_STR(r.err, want);
	UARENA(&r, "run", "--raw", bad);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "loader: prog 'raw': isa: insn 0: ");
	UARENA(&r, "run", "--raw", odd, "--section", ".text");
	CHECK_EQ(r.status, 2);
	snprintf(want, sizeof(want), "uarena run: %s: --section needs an ELF object\n", odd);
	CHECK_STR(r.err, want);
	UARENA(&r, "run", ua_test_bpf_obj("loader_arena"), "--section", "syscall");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --section and --arena need --raw\n");
	UARENA(&r, "run", "--raw", odd, "--prog", "x");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --prog and --ctx do not apply to --raw\n");
	UARENA(&r, "run", "--raw", odd, "--arena", "0");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --arena needs a positive page count\n");
	unlink(odd);
	unlink(bad);
}

TEST(progs_cli, bench_programs_and_raw)
{
	static const uint32_t args[4] = { 4, 2, 0, 0 };
	static const struct ua_insn r42[] = {
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 0, .imm = 42 },
		{ .code = UA_JMP | UA_EXIT },
	};
	const char *ctx = temp_file(args, sizeof(args)), *bin = temp_file(r42, sizeof(r42));
	struct ua_test_cmd r;

	/* Without a ctx, programs that read it are listed with the kernel's refusal. */
	UARENA(&r, "bench", ua_test_bpf_obj("loader_syscall_ctx"), "--repeat", "3");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, ": 3 runs per program (interpreter)\n"
			      "  prog                           ns/run  retval\n"
			      "  read_ab                             -  run: prog 'read_ab' accesses ctx "
			      "up to byte 8 but ctx_size_in is 0 (the kernel refuses this run)\n");
	CHECK_CONTAINS(r.out, "  5\n");
	UARENA(&r, "bench", ua_test_bpf_obj("loader_syscall_ctx"), "--ctx", ctx, "--prog", "read_ab", "--json",
	       "--repeat", "2");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"repeat\":2,\"engine\":\"interpreter\",\"progs\":[{\"prog\":\"read_ab\",\"ns_per_run\":");
	CHECK_CONTAINS(r.out, ",\"retval\":42}]}\n");
	UARENA(&r, "bench", ua_test_bpf_obj("loader_syscall_ctx"), "--ctx", ctx, "--prog", "read_ab", "--jit",
	       "--repeat", "2");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, ": 2 runs per program (JIT)\n");
	CHECK_CONTAINS(r.out, "  42\n");
	UARENA(&r, "bench", ua_test_bpf_obj("loader_syscall_ctx"), "--prog", "read_ab");
	CHECK_EQ(r.status, 1); /* nothing ran */

	UARENA(&r, "bench", "--raw", bin, "--json", "--repeat", "4");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"repeat\":4,\"engine\":\"interpreter\",\"progs\":[{\"prog\":\"raw\",\"ns_per_run\":");
	CHECK_CONTAINS(r.out, ",\"retval\":42}]}\n");
	UARENA(&r, "bench", "--raw", bin, "--prog", "x");
	CHECK_EQ(r.status, 2);

	/* Counts that do not fit are usage errors, not wrapped (2^32 + 1 once ran once). */
	UARENA(&r, "bench", "--raw", bin, "--repeat", "4294967297");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena bench: --repeat needs a positive count\n");
	UARENA(&r, "run", "--raw", bin, "--repeat", "-1");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --repeat needs a positive count\n");
	UARENA(&r, "run", "--raw", bin, "--arena", "4294967296");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena run: --arena needs a positive page count\n");
	unlink(ctx);
	unlink(bin);
}
