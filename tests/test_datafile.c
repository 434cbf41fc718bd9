/* SPDX-License-Identifier: MIT */
/* The .data reader: every section kind decoded exactly, and every malformed
 * shape rejected with the line it came from. */
#include "datafile.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>

TEST(datafile, all_sections)
{
	const char *text = "# header comment\n"
			   "-- asm\n"
			   "# comment kept for line numbers\n"
			   "mov %r0, 1\n"
			   "exit\n"
			   "-- raw\n"
			   "0xb700000001000000\n"
			   "95 00 00 00 00 00 00 00\n"
			   "-- mem\n"
			   "aa bb\n"
			   "0x11 22\n"
			   "-- result\n"
			   "0x8977665544332211\n"
			   "-- no register offset\n"
			   "call instruction\n"
			   "-- c\n"
			   "int x;\n";
	static const uint8_t want_mem[] = { 0xaa, 0xbb, 0x11, 0x22 };
	struct ua_datafile df;
	char err[256] = "";

	REQUIRE_EQ(ua_datafile_parse_text(text, "t.data", &df, err, sizeof(err)), 0);
	CHECK_STR(df.asm_text, "# comment kept for line numbers\nmov %r0, 1\nexit\n");
	CHECK_EQ(df.asm_line, 3);
	CHECK(df.has_raw);
	REQUIRE_EQ(df.n_raw, 2);
	CHECK_EQ(df.raw[0], 0xb700000001000000ull);
	CHECK_EQ(df.raw[1], 0x95);
	REQUIRE_EQ(df.mem_len, 4);
	CHECK_MEM(df.mem, want_mem, 4);
	CHECK(df.has_result);
	CHECK_EQ(df.result, 0x8977665544332211ull);
	CHECK(!df.has_error);
	CHECK(df.error == NULL);
	CHECK(df.no_register_offset);
	CHECK_STR(df.no_register_offset_reason, "call instruction");
	CHECK_STR(df.c_text, "int x;\n");
	ua_datafile_free(&df);
	REQUIRE_EQ(ua_datafile_parse_text("-- asm\nexit\n-- result\n# r0\n0x10 # sixteen\n"
					  "-- c\n#include <x.h>\n", "c.data", &df, err, sizeof(err)), 0);
	CHECK_EQ(df.result, 16);
	CHECK_STR(df.c_text, "#include <x.h>\n");
	ua_datafile_free(&df);
	CHECK(df.asm_text == NULL);
}

/* bpf_conformance reads each raw token as one 64-bit word, hex or decimal. */
TEST(datafile, raw_words)
{
	struct ua_datafile df;
	char err[256] = "";

	REQUIRE_EQ(ua_datafile_parse_text("-- raw\n0x00000001000000b7 149\n-- result\n1\n", "w.data",
					  &df, err, sizeof(err)), 0);
	REQUIRE_EQ(df.n_raw, 2);
	CHECK_EQ(df.raw[0], 0x00000001000000b7ull);
	CHECK_EQ(df.raw[1], 0x95);
	ua_datafile_free(&df);
}

TEST(datafile, error_sections)
{
	struct ua_datafile df;
	char err[256] = "";

	REQUIRE_EQ(ua_datafile_parse_text("-- raw\n95 00 00 00 00 00 00 00\n-- error\n", "e.data",
					  &df, err, sizeof(err)), 0);
	CHECK(df.has_error);
	CHECK_STR(df.error, "");
	CHECK(!df.has_result);
	CHECK(df.asm_text == NULL);
	ua_datafile_free(&df);
	REQUIRE_EQ(ua_datafile_parse_text("-- asm\nlock\n-- error\nInvalid number of operands for lock",
					  "e.data", &df, err, sizeof(err)), 0);
	CHECK_STR(df.error, "Invalid number of operands for lock");
	CHECK_STR(df.asm_text, "lock\n");
	ua_datafile_free(&df);
	REQUIRE_EQ(ua_datafile_parse_text("-- asm\r\nexit\r\n-- result\r\n17\r\n", "crlf.data", &df,
					  err, sizeof(err)), 0);
	CHECK_STR(df.asm_text, "exit\n");
	CHECK_EQ(df.result, 17);
	ua_datafile_free(&df);
}

static void check_bad(const char *text, const char *want)
{
	struct ua_datafile df;
	char err[256] = "";

	CHECK_EQ(ua_datafile_parse_text(text, "bad.data", &df, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, want);
	CHECK(df.asm_text == NULL && df.raw == NULL && df.mem == NULL);
}

TEST(datafile, rejects)
{
	check_bad("", "datafile: bad.data:0: no -- asm or -- raw section");
	check_bad("# c\n-- result\n0x0\n", "datafile: bad.data:3: no -- asm or -- raw section");
	check_bad("-- asm\nexit\n", "datafile: bad.data:2: no -- result or -- error section");
	check_bad("-- asm\n-- Unknown directive\n-- error\nx\n",
		  "datafile: bad.data:2: unknown section '-- Unknown directive'");
	check_bad("-- asm\nexit\n-- asm\n", "datafile: bad.data:3: repeated section '-- asm'");
	check_bad("-- raw\n95 00 00\n-- result\n0\n",
		  "datafile: bad.data:2: -- raw holds 3 bytes, not a multiple of 8");
	check_bad("-- raw\n0xzz\n-- result\n0\n",
		  "datafile: bad.data:2: bad instruction word '0xzz' in -- raw");
	check_bad("-- asm\nexit\n-- mem\n0g\n-- result\n0\n",
		  "datafile: bad.data:4: bad hex byte '0g' in -- mem");
	check_bad("-- asm\nexit\n-- result\nlots\n",
		  "datafile: bad.data:4: -- result must be one hex (0x) or decimal number");
	check_bad("-- asm\nexit\n-- result\n1\n2\n",
		  "datafile: bad.data:4: -- result must be one hex (0x) or decimal number");
	check_bad("stray\n-- asm\nexit\n", "datafile: bad.data:1: text outside any section");
	/* line numbers stay exact across comments and blank lines */
	check_bad("-- asm\nexit\n-- raw\n# comment\n\n95 00 00 00 00 00 00 00\n\n0xq1\n-- result\n0\n",
		  "datafile: bad.data:8: bad instruction word '0xq1' in -- raw");
	check_bad("-- asm\nexit\n-- result\n\n# why\n7 # seven\n8\n",
		  "datafile: bad.data:6: -- result must be one hex (0x) or decimal number");
}

TEST(datafile, missing_file)
{
	struct ua_datafile df;
	char err[256] = "";

	CHECK_EQ(ua_datafile_parse("/nonexistent/x.data", &df, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "datafile: /nonexistent/x.data: No such file or directory");
}
