/* SPDX-License-Identifier: MIT */
/*
 * `uarena asm` / `uarena disasm` as a user runs them: exact output bytes and
 * listings, exit codes 0/1/2, and the error text on stderr.
 */
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* `uarena ARGS...` with in_len bytes of in on stdin; RUN for a string. */
#define RUN_BYTES(r, in, in_len, ...)                                                    \
	ua_test_run_tool(r, "uarena", (const char *const[]){ __VA_ARGS__, NULL }, in, in_len)
#define RUN(r, in, ...) RUN_BYTES(r, in, strlen(in), __VA_ARGS__)

TEST(asm_cli, asm_raw_and_hex)
{
	static const uint8_t want[] = { 0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0 };
	struct ua_test_cmd r;

	RUN(&r, "mov %r0, 1\nexit\n", "asm");
	CHECK_EQ(r.status, 0);
	REQUIRE_EQ(r.out_len, 16);
	CHECK_MEM(r.out, want, 16);
	CHECK_STR(r.err, "");

	RUN(&r, "r0 = 1\nexit\n", "asm", "--syntax", "kernel", "--hex", "-");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "b7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n");

	/* --check applies the ISA validator */
	RUN(&r, "r10 = 1\nexit\n", "asm", "--check", "--hex");
	CHECK_EQ(r.status, 1);
	CHECK_EQ(r.out_len, 0);
	CHECK_STR(r.err, "uarena asm: -: isa: insn 0: frame pointer r10 is read only\n");
	RUN(&r, "r10 = 1\nexit\n", "asm", "--hex");
	CHECK_EQ(r.status, 0);

	/* a verifier log in, the program out */
	RUN(&r, "0: R1=ctx() R10=fp0\n0: (b7) r0 = 1   ; R0=1\n1: (95) exit\nprocessed 2 insns\n",
	    "asm", "--from-log", "--hex");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "b7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n");

	/* options may follow the file */
	RUN(&r, "exit\n", "asm", "-", "--hex");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "95 00 00 00 00 00 00 00\n");
}

TEST(asm_cli, asm_errors_and_usage)
{
	struct ua_test_cmd r;

	RUN(&r, "r0 = 1\nr0 = frob\n", "asm");
	CHECK_EQ(r.status, 1);
	CHECK_EQ(r.out_len, 0);
	CHECK_STR(r.err, "uarena asm: -: asm: line 2: expected register, number or expression at 'frob'\n");

	RUN(&r, "", "asm", "--syntax", "intel");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena asm: unknown syntax 'intel' (kernel, conformance, auto)\n");

	RUN(&r, "", "asm", "/nonexistent/prog.s");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena asm: /nonexistent/prog.s: No such file or directory\n");

	RUN(&r, "", "asm", "--bogus");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "uarena asm: bad option '--bogus'\n");

	RUN(&r, "", "asm", "a", "b");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena asm: one input file at most\n");

	RUN(&r, "", "frobnicate");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.err, "uarena: unknown command 'frobnicate' (try uarena --help)\n");

	RUN(&r, "", "--help");
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "  asm      ");
	CHECK_CONTAINS(r.out, "  disasm   ");
}

TEST(asm_cli, disasm_listing)
{
	static const uint8_t prog[] = {
		0x18, 0x01, 0, 0, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11,
		0x79, 0xa1, 0xf8, 0xff, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0,
	};
	struct ua_test_cmd r;

	RUN_BYTES(&r, prog, sizeof(prog), "disasm", "-");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "   0: (18) r1 = 0x1122334455667788\n"
			 "   2: (79) r1 = *(u64 *)(r10 -8)\n"
			 "   3: (95) exit\n");

	RUN(&r, "b7 00 00 00 01 00 00 00 # mov\n95 00 00 00 00 00 00 00\n", "disasm", "--hex",
	    "--no-opcode", "-");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "   0: r0 = 1\n   1: exit\n");
}

TEST(asm_cli, disasm_errors)
{
	static const uint8_t bad[] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0 };
	struct ua_test_cmd r;

	RUN_BYTES(&r, bad, 12, "disasm", "-");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena disasm: -: 12 bytes is not a whole number of 8-byte instructions\n");

	RUN_BYTES(&r, bad, sizeof(bad), "disasm", "-");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "   0: (ff) invalid: dst=0 src=0 off=0 imm=0\n   1: (95) exit\n");
	CHECK_STR(r.err, "uarena disasm: -: disasm: insn 0: cannot decode (code 0xff)\n");

	RUN(&r, "b7 00 zz\n", "disasm", "--hex", "-");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena disasm: -: line 1: expected hex byte at 'zz'\n");

	RUN(&r, "\x7f" "ELF", "disasm", "-");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "uarena disasm: -: elf: not an ELF file (4 bytes)\n");

	RUN(&r, "", "disasm");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "uarena disasm: expected one input file (or -)\n");
}

/* Text -> asm -> disasm -> asm gives the same bytes, through the tool. */
TEST(asm_cli, pipeline_round_trip)
{
	const char *text = "r1 = 0x1122334455667788\n"
			   "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\n"
			   "if w1 s< w2 goto pc-1\n"
			   "exit\n";
	struct ua_test_cmd a, d, b;

	RUN(&a, text, "asm", "--hex");
	REQUIRE_EQ(a.status, 0);
	RUN(&d, a.out, "disasm", "--hex", "-");
	REQUIRE_EQ(d.status, 0);
	CHECK_STR(d.out, "   0: (18) r1 = 0x1122334455667788\n"
			 "   2: (db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\n"
			 "   3: (ce) if w1 s< w2 goto pc-1\n"
			 "   4: (95) exit\n");
	RUN(&b, d.out, "asm", "--hex");
	REQUIRE_EQ(b.status, 0);
	CHECK_STR(b.out, a.out);

	/* the same program as bare conformance lines, and back */
	RUN(&d, a.out, "disasm", "--hex", "--syntax", "conformance", "-");
	REQUIRE_EQ(d.status, 0);
	CHECK_STR(d.out, "lddw %r1, 0x1122334455667788\n"
			 "lock fetch add [%r1], %r2\n"
			 "jslt32 %r1, %r2, -1\n"
			 "exit\n");
	RUN(&b, d.out, "asm", "--hex");
	REQUIRE_EQ(b.status, 0);
	CHECK_STR(b.out, a.out);

	RUN(&d, a.out, "disasm", "--syntax", "intel", "-");
	CHECK_EQ(d.status, 2);
	CHECK_STR(d.err, "uarena disasm: unknown syntax 'intel' (kernel, conformance)\n");
}
