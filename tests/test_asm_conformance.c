/* SPDX-License-Identifier: MIT */
/*
 * Conformance-syntax assembler: exact encodings of every mnemonic family, the
 * error texts (with line numbers), and the shared vectors: every positive
 * vector assembles (and matches its -- raw image when it has one), every
 * assembler-level negative vector is rejected.
 */
#include "asm.h"
#include "datafile.h"
#include "disasm.h"
#include "isa.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

#include <uarena/common.h>

/* Assembles text and requires exactly one or two slots; returns slot 0/1. */
static struct ua_insn asm1(const char *text, struct ua_insn *second)
{
	struct ua_insn *out = NULL, first;
	char err[256] = "";
	size_t n = 0;
	int ret = ua_asm_parse(text, UA_ASM_CONFORMANCE, &out, &n, err, sizeof(err));

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "'%s': %d %s", text, ret, err);
	REQUIRE_EQ(ret, 0);
	REQUIRE(n == 1 || (n == 2 && second));
	first = out[0];
	if (second)
		*second = out[1];
	free(out);
	return first;
}

#define CHECK_INSN(text, c, d, s, o, i)                                       \
	do {                                                                  \
		struct ua_insn ___x = asm1(text, NULL);                       \
		CHECK_EQ(___x.code, c);                                       \
		CHECK_EQ(___x.dst_reg, d);                                    \
		CHECK_EQ(___x.src_reg, s);                                    \
		CHECK_EQ(___x.off, o);                                        \
		CHECK_EQ(___x.imm, i);                                        \
	} while (0)

static void check_error(const char *text, int want_ret, const char *want_msg)
{
	struct ua_insn *out = (struct ua_insn *)1;
	char err[256] = "";
	size_t n = 99;
	int ret = ua_asm_parse(text, UA_ASM_CONFORMANCE, &out, &n, err, sizeof(err));

	CHECK_EQ(ret, want_ret);
	CHECK_STR(err, want_msg);
	CHECK(out == NULL);
	CHECK_EQ(n, 0);
}

TEST(asm_conf, alu)
{
	CHECK_INSN("mov %r0, 1", 0xb7, 0, 0, 0, 1);
	CHECK_INSN("mov64 %r0, 1", 0xb7, 0, 0, 0, 1);
	CHECK_INSN("mov32 %r9, -1", 0xb4, 9, 0, 0, -1);
	CHECK_INSN("mov %r1, %r10", 0xbf, 1, 10, 0, 0);
	CHECK_INSN("add32 %r2, %r3", 0x0c, 2, 3, 0, 0);
	CHECK_INSN("sub %r2, 0x7fffffff", 0x17, 2, 0, 0, 0x7fffffff);
	CHECK_INSN("mul %r2, 0xffffffff", 0x27, 2, 0, 0, -1);
	CHECK_INSN("div32 %r2, 3", 0x34, 2, 0, 0, 3);
	CHECK_INSN("sdiv %r2, %r4", 0x3f, 2, 4, 1, 0);
	CHECK_INSN("sdiv32 %r2, -3", 0x34, 2, 0, 1, -3);
	CHECK_INSN("or %r0, -2147483648", 0x47, 0, 0, 0, INT32_MIN);
	CHECK_INSN("and32 %r0, 0xff", 0x54, 0, 0, 0, 0xff);
	CHECK_INSN("lsh %r0, 63", 0x67, 0, 0, 0, 63);
	CHECK_INSN("rsh32 %r0, %r1", 0x7c, 0, 1, 0, 0);
	CHECK_INSN("neg %r3", 0x87, 3, 0, 0, 0);
	CHECK_INSN("neg32 %r3", 0x84, 3, 0, 0, 0);
	CHECK_INSN("mod %r3, 7", 0x97, 3, 0, 0, 7);
	CHECK_INSN("smod32 %r3, %r5", 0x9c, 3, 5, 1, 0);
	CHECK_INSN("xor %r3, 5", 0xa7, 3, 0, 0, 5);
	CHECK_INSN("arsh32 %r3, 5", 0xc4, 3, 0, 0, 5);
	CHECK_INSN("movsx832 %r2, %r1", 0xbc, 2, 1, 8, 0);
	CHECK_INSN("movsx1632 %r2, %r1", 0xbc, 2, 1, 16, 0);
	CHECK_INSN("movsx864 %r2, %r1", 0xbf, 2, 1, 8, 0);
	CHECK_INSN("movsx1664 %r2, %r1", 0xbf, 2, 1, 16, 0);
	CHECK_INSN("movsx3264 %r2, %r1", 0xbf, 2, 1, 32, 0);
}

TEST(asm_conf, endian)
{
	CHECK_INSN("be16 %r0", 0xdc, 0, 0, 0, 16);
	CHECK_INSN("be64 %r1", 0xdc, 1, 0, 0, 64);
	CHECK_INSN("le32 %r0", 0xd4, 0, 0, 0, 32);
	CHECK_INSN("swap16 %r0", 0xd7, 0, 0, 0, 16);
	CHECK_INSN("bswap64 %r2", 0xd7, 2, 0, 0, 64);
}

TEST(asm_conf, load_store)
{
	struct ua_insn hi, lo;

	CHECK_INSN("ldxw %r0, [%r1+4]", 0x61, 0, 1, 4, 0);
	CHECK_INSN("ldxdw %r0, [%r10-8]", 0x79, 0, 10, -8, 0);
	CHECK_INSN("ldxb %r0, [%r1]", 0x71, 0, 1, 0, 0);
	CHECK_INSN("ldxh %r0, [%r1 + 0x7fff]", 0x69, 0, 1, 0x7fff, 0);
	CHECK_INSN("ldxsb %r0, [%r10-1]", 0x91, 0, 10, -1, 0);
	CHECK_INSN("ldxsh %r0, [%r10-2]", 0x89, 0, 10, -2, 0);
	CHECK_INSN("ldxsw %r0, [%r10-4]", 0x81, 0, 10, -4, 0);
	CHECK_INSN("stb [%r1+2], 7", 0x72, 1, 0, 2, 7);
	CHECK_INSN("sth [%r1+2], -1", 0x6a, 1, 0, 2, -1);
	CHECK_INSN("stw [%r1-0x8000], 0x11", 0x62, 1, 0, -0x8000, 0x11);
	CHECK_INSN("stdw [%r1+0xffff], 0", 0x7a, 1, 0, -1, 0);
	CHECK_INSN("stxdw [%r10-8], %r1", 0x7b, 10, 1, -8, 0);
	CHECK_INSN("stxb [%r10-8], %r9", 0x73, 10, 9, -8, 0);
	lo = asm1("lddw %r1, 0x1122334455667788", &hi);
	CHECK_EQ(lo.code, 0x18);
	CHECK_EQ(lo.dst_reg, 1);
	CHECK_EQ((uint32_t)lo.imm, 0x55667788);
	CHECK_EQ(hi.code, 0);
	CHECK_EQ((uint32_t)hi.imm, 0x11223344);
	lo = asm1("lddw %r1, -2", &hi);
	CHECK_EQ(lo.imm, -2);
	CHECK_EQ(hi.imm, -1);
	lo = asm1("lddw %r1, 0xffffffffffffffff", &hi);
	CHECK_EQ(lo.imm, -1);
	CHECK_EQ(hi.imm, -1);
}

TEST(asm_conf, atomics)
{
	CHECK_INSN("lock add [%r10-8], %r1", 0xdb, 10, 1, -8, 0x00);
	CHECK_INSN("lock add32 [%r10-4], %r1", 0xc3, 10, 1, -4, 0x00);
	CHECK_INSN("lock fetch add [%r10-8], %r1", 0xdb, 10, 1, -8, 0x01);
	CHECK_INSN("lock or [%r1], %r2", 0xdb, 1, 2, 0, 0x40);
	CHECK_INSN("lock fetch and32 [%r1+4], %r2", 0xc3, 1, 2, 4, 0x51);
	CHECK_INSN("lock fetch xor [%r1], %r2", 0xdb, 1, 2, 0, 0xa1);
	CHECK_INSN("lock xchg [%r10-8], %r1", 0xdb, 10, 1, -8, 0xe1);
	CHECK_INSN("lock xchg32 [%r10-8], %r1", 0xc3, 10, 1, -8, 0xe1);
	CHECK_INSN("lock cmpxchg [%r10-8], %r1", 0xdb, 10, 1, -8, 0xf1);
}

TEST(asm_conf, jumps_and_calls)
{
	CHECK_INSN("ja +1", 0x05, 0, 0, 1, 0);
	CHECK_INSN("ja -1", 0x05, 0, 0, -1, 0);
	CHECK_INSN("ja32 +70000", 0x06, 0, 0, 0, 70000);
	CHECK_INSN("jeq %r1, 0, +2", 0x15, 1, 0, 2, 0);
	CHECK_INSN("jne %r1, %r2, -3", 0x5d, 1, 2, -3, 0);
	CHECK_INSN("jsle32 %r1, -5, +0", 0xd6, 1, 0, 0, -5);
	CHECK_INSN("jset32 %r1, %r9, +7", 0x4e, 1, 9, 7, 0);
	CHECK_INSN("jlt %r1, 0xffffffff, +1", 0xa5, 1, 0, 1, -1);
	CHECK_INSN("call 5", 0x85, 0, 0, 0, 5);
	CHECK_INSN("call helper 1", 0x85, 0, 0, 0, 1);
	CHECK_INSN("call runtime 77", 0x85, 0, 2, 0, 77);
	CHECK_INSN("call local +3", 0x85, 0, 1, 0, 3);
	CHECK_INSN("call %r2", 0x8d, 2, 0, 0, 0);
	CHECK_INSN("exit", 0x95, 0, 0, 0, 0);
}

TEST(asm_conf, labels)
{
	const char *text = "mov %r0, 0\n"
			   "loop:\n"
			   "add %r0, 1\n"
			   "jlt %r0, 10, loop\n"
			   "ja32 done\n"
			   "call local func\n"
			   "lddw %r1, 1\n"
			   "done: exit\n"
			   "func:\n"
			   "jeq %r1, 0, exit  # implicit label of the first exit\n"
			   "exit\n";
	struct ua_insn *out;
	size_t n;
	char err[256] = "";

	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_CONFORMANCE, &out, &n, err, sizeof(err)), 0);
	REQUIRE_EQ(n, 10);
	CHECK_EQ(out[2].off, -2); /* slot 2 -> slot 1 */
	CHECK_EQ(out[3].imm, 3);  /* slot 3 -> slot 7 */
	CHECK_EQ(out[4].imm, 3);  /* call at 4 -> func at 8 */
	CHECK_EQ(out[8].off, -2); /* jeq at 8 -> first exit at 7 */
	free(out);
}

TEST(asm_conf, errors)
{
	check_error("mov %r0, 1\nor %r0, %r50\n", -EINVAL, "asm: line 2: Invalid register: %r50");
	check_error("or %r0, %r11", -EINVAL, "asm: line 1: Invalid register: %r11");
	check_error("ldxq %r0, %r1", -EINVAL, "asm: line 1: Invalid mnemonic: ldxq");
	check_error("\n\nlock", -EINVAL, "asm: line 3: Invalid number of operands for lock");
	check_error("lock or [%r10-8]", -EINVAL, "asm: line 1: Invalid number of operands for lock");
	check_error("lock nand [%r10-8], %r1", -EINVAL, "asm: line 1: Invalid mnemonic: lock nand");
	check_error("lddw %r0", -EINVAL, "asm: line 1: Invalid number of operands for mnemonic: lddw");
	check_error("exit %r0", -EINVAL, "asm: line 1: Invalid number of operands for mnemonic: exit");
	check_error("ja NOT_A_LABEL\nexit", -EINVAL, "asm: line 1: Invalid label: NOT_A_LABEL");
	check_error("ldxb %r0, %r1", -EINVAL, "asm: line 1: Failed to decode register and offset: %r1");
	check_error("ldxb %r0, [%r1+0x10000]", -EINVAL,
		    "asm: line 1: Offset out of 16-bit range: [%r1+0x10000]");
	check_error("ldxb %r0, [%r1+32768]", -EINVAL,
		    "asm: line 1: Offset out of 16-bit range: [%r1+32768]");
	check_error("mov32 %r0, 2147483648", -EINVAL,
		    "asm: line 1: Immediate out of 32-bit range: 2147483648");
	check_error("mov32 %r0, -2147483649", -EINVAL,
		    "asm: line 1: Immediate out of 32-bit range: -2147483649");
	check_error("mov32 %r0, 0x100000000", -EINVAL,
		    "asm: line 1: Immediate out of 32-bit range: 0x100000000");
	check_error("lddw %r0, 0x10000000000000000", -EINVAL,
		    "asm: line 1: Immediate out of 64-bit range: 0x10000000000000000");
	check_error("mov %r0, 12abc", -EINVAL, "asm: line 1: Invalid immediate: 12abc");
	check_error("ja +32768", -EINVAL, "asm: line 1: Jump offset out of range: +32768");
	check_error("x:\nexit\nx:\n", -EINVAL,
		    "asm: line 3: Duplicate label (x) (previous declaration at line 1)");
	check_error("call", -EINVAL, "asm: line 1: Invalid number of operands for mnemonic: call");
	check_error("call magic 3", -EINVAL, "asm: line 1: Invalid call mode");
	check_error("movsx3232 %r1, %r2", -EINVAL, "asm: line 1: Invalid mnemonic: movsx3232");
	check_error("movsx864 %r1, 3", -EINVAL, "asm: line 1: Invalid register: 3");
}

TEST(asm_conf, empty_and_comments)
{
	struct ua_insn *out = (struct ua_insn *)1;
	size_t n = 5;

	CHECK_EQ(ua_asm_parse("# only a comment\n\n   \n", UA_ASM_CONFORMANCE, &out, &n, NULL, 0), 0);
	CHECK(out == NULL);
	CHECK_EQ(n, 0);
	CHECK_EQ(ua_asm_detect("mov %r0, 1"), UA_ASM_CONFORMANCE);
	CHECK_EQ(ua_asm_detect("r0 = 1"), UA_ASM_KERNEL);
}

/* Runs fn on every *.data file of dir, in name order; returns how many it saw. */
static int for_each_datafile(const char *dir, void (*fn)(const char *path))
{
	char **names, path[4096];
	size_t n = ua_test_list_data_files(dir, &names);

	for (size_t i = 0; i < n; i++) {
		REQUIRE(snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path));
		fn(path);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

/* The program printed in either syntax assembles back to the same bits. */
static void check_relisting(const char *path, const struct ua_insn *insns, size_t n)
{
	static const enum ua_disasm_syntax syntaxes[] = { UA_DISASM_KERNEL, UA_DISASM_CONFORMANCE };

	for (size_t i = 0; i < 2; i++) {
		UA_OPTS(ua_disasm_opts, opts, .syntax = syntaxes[i]);
		struct ua_insn *again = NULL;
		char *text = NULL, err[256] = "";
		size_t len = 0, got = 0;
		FILE *f = open_memstream(&text, &len);

		REQUIRE(f != NULL);
		if (ua_disasm_prog(insns, n, f, &opts))
			ua_test_fail(__FILE__, __LINE__, "%s: does not disassemble", path);
		fclose(f);
		if (ua_asm_parse(text, UA_ASM_AUTO, &again, &got, err, sizeof(err)) || got != n ||
		    memcmp(again, insns, n * sizeof(*insns)))
			ua_test_fail(__FILE__, __LINE__, "%s: listing %zu does not re-assemble: %s",
				     path, i, err);
		free(again);
		free(text);
	}
}

static void check_positive_vector(const char *path)
{
	struct ua_datafile df;
	struct ua_insn *out = NULL;
	char err[512] = "";
	size_t n = 0;
	int ret = ua_datafile_parse(path, &df, err, sizeof(err));

	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "%s", err);
		return;
	}
	CHECK(df.asm_text != NULL);
	ret = ua_asm_parse(df.asm_text, UA_ASM_AUTO, &out, &n, err, sizeof(err));
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
	else if (!n)
		ua_test_fail(__FILE__, __LINE__, "%s: no instructions", path);
	if (!ret && df.has_raw && (n != df.n_raw || memcmp(out, df.raw, n * 8)))
		ua_test_fail(__FILE__, __LINE__, "%s: assembled image differs from -- raw", path);
	if (!ret)
		check_relisting(path, out, n);
	free(out);
	ua_datafile_free(&df);
}

TEST(asm_conf, shared_vectors_all_assemble)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/conformance", ua_test_shared_dir());
	CHECK(for_each_datafile(dir, check_positive_vector) >= 300);
}

/*
 * The negative vectors: each must be rejected by the layer that owns it.
 * Assembler-level ones fail here (we match the reference text where the file
 * gives one); datafile-level ones fail to parse; the rest assemble/decode
 * fine and are rejected by the validator or give a wrong result at run time
 * (the conformance suite of the interpreter covers those).
 */
static const struct {
	const char *file;
	const char *datafile_error; /* NULL: the file parses */
	const char *asm_error;      /* NULL: assembles (rejected later) */
} negative_vectors[] = {
	{ "empty.data", "no -- asm or -- raw section", NULL },
	{ "empty_instructions.data", "no -- asm or -- raw section", NULL },
	{ "invalid_unknown_directive.data", "unknown section '-- Unknown directive'", NULL },
	{ "invalid_imm32_dec_range.data", NULL, "asm: line 2: Immediate out of 32-bit range: 2147483648" },
	{ "invalid_imm32_hex_range.data", NULL, "asm: line 2: Immediate out of 32-bit range: 0x100000000" },
	{ "invalid_label.data", NULL, "asm: line 1: Invalid label: NOT_A_LABEL" },
	{ "invalid_lock.data", NULL, "asm: line 1: Invalid number of operands for lock" },
	{ "invalid_lock2.data", NULL, "asm: line 1: Invalid number of operands for lock" },
	{ "invalid_mnemonic.data", NULL, "asm: line 2: Invalid mnemonic: ldxq" },
	{ "invalid_offset.data", NULL, "asm: line 1: Failed to decode register and offset: %r1" },
	{ "invalid_offset_range.data", NULL, "asm: line 2: Offset out of 16-bit range: [%r1+0x10000]" },
	{ "invalid_operand_count.data", NULL, "asm: line 1: Invalid number of operands for mnemonic: lddw" },
	{ "invalid_register.data", NULL, "asm: line 1: Invalid register: %r50" },
};

TEST(asm_conf, shared_negative_vectors)
{
	for (size_t i = 0; i < sizeof(negative_vectors) / sizeof(negative_vectors[0]); i++) {
		struct ua_datafile df;
		struct ua_insn *out = NULL;
		char path[4096], err[512] = "";
		size_t n;
		int ret;

		snprintf(path, sizeof(path), "%s/conformance/negative/%s", ua_test_shared_dir(),
			 negative_vectors[i].file);
		ret = ua_datafile_parse(path, &df, err, sizeof(err));
		if (ret == -ENOENT)
			SKIP("no negative vectors at %s", path);
		if (negative_vectors[i].datafile_error) {
			CHECK_EQ(ret, -EINVAL);
			CHECK_CONTAINS(err, negative_vectors[i].datafile_error);
			continue;
		}
		REQUIRE_EQ(ret, 0);
		ret = ua_asm_parse(df.asm_text, UA_ASM_CONFORMANCE, &out, &n, err, sizeof(err));
		CHECK_EQ(ret, -EINVAL);
		CHECK_STR(err, negative_vectors[i].asm_error);
		/* where the file names the expected error, ours contains it */
		if (df.has_error && *df.error)
			CHECK_CONTAINS(err, df.error);
		free(out);
		ua_datafile_free(&df);
	}
}

/*
 * Every negative vector is rejected before it could run: by the .data reader,
 * the assembler or the shared ISA validator -- except the two whose failure
 * is only visible at run time (they are the interpreter suite's): error.data
 * reads r0 before writing it, and incorrect_return_value_high_bits.data
 * expects a wrong result.
 */
static int negatives_rejected;

static void check_negative_rejected(const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	struct ua_datafile df;
	struct ua_insn *insns = NULL;
	char err[512] = "";
	size_t n = 0;
	bool rejected;

	if (!strcmp(base, "error.data") || !strcmp(base, "incorrect_return_value_high_bits.data"))
		return;
	if (ua_datafile_parse(path, &df, err, sizeof(err))) {
		negatives_rejected++;
		return;
	}
	if (df.has_raw) {
		insns = malloc(df.n_raw * sizeof(*insns) + 1);
		REQUIRE(insns != NULL);
		memcpy(insns, df.raw, df.n_raw * sizeof(*insns));
		n = df.n_raw;
		rejected = ua_isa_validate(insns, n, UA_ISA_HAS_ARENA, err, sizeof(err)) == -EINVAL;
	} else {
		rejected = ua_asm_parse(df.asm_text, UA_ASM_CONFORMANCE, &insns, &n, err,
					sizeof(err)) == -EINVAL ||
			   ua_isa_validate(insns, n, UA_ISA_HAS_ARENA, err, sizeof(err)) == -EINVAL;
	}
	if (!rejected)
		ua_test_fail(__FILE__, __LINE__, "%s: accepted", path);
	negatives_rejected += rejected;
	free(insns);
	ua_datafile_free(&df);
}

TEST(asm_conf, every_negative_vector_rejected)
{
	char dir[4096];
	int files;

	snprintf(dir, sizeof(dir), "%s/conformance/negative", ua_test_shared_dir());
	files = for_each_datafile(dir, check_negative_rejected);
	CHECK_EQ(negatives_rejected, files - 2);
	CHECK(files >= 60);
}
