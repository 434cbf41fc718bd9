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
	CHECK_STR(r.err, "uarena run: no JIT yet; running in the interpreter\n");
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
