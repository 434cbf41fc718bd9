/* SPDX-License-Identifier: MIT */
/*
 * Disassembler and kernel-syntax assembler, checked against each other:
 *  - every form prints exactly the kernel's verifier-log text and that text
 *    assembles back to the same bits (a table of both directions);
 *  - an exhaustive sweep over every opcode of the shared ISA table and a grid
 *    of field values: whatever the ISA validator accepts must print, and
 *    whatever prints must re-assemble to the identical slot(s);
 *  - listings, callbacks, and the invalid/truncated cases.
 */
#include "asm.h"
#include "disasm.h"
#include "isa.h"
#include "test.h"

#include <uarena/common.h>

#include <errno.h>
#include <stdlib.h>

#define I(c, d, s, o, i) ((struct ua_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static const struct {
	struct ua_insn insn[2];
	const char *text;
} forms[] = {
	{ { I(0xb7, 0, 0, 0, 0) }, "r0 = 0" },
	{ { I(0xb7, 1, 0, 0, -1) }, "r1 = -1" },
	{ { I(0xb4, 2, 0, 0, 7) }, "w2 = 7" },
	{ { I(0xbf, 1, 10, 0, 0) }, "r1 = r10" },
	{ { I(0xbc, 0, 1, 0, 0) }, "w0 = w1" },
	{ { I(0x07, 0, 0, 0, 3) }, "r0 += 3" },
	{ { I(0x0f, 0, 1, 0, 0) }, "r0 += r1" },
	{ { I(0x14, 3, 0, 0, -5) }, "w3 -= -5" },
	{ { I(0x2f, 3, 4, 0, 0) }, "r3 *= r4" },
	{ { I(0x37, 3, 0, 0, 2) }, "r3 /= 2" },
	{ { I(0x3f, 1, 2, 1, 0) }, "r1 s/= r2" },
	{ { I(0x97, 1, 0, 1, 3) }, "r1 s%= 3" },
	{ { I(0x9c, 1, 2, 1, 0) }, "w1 s%= w2" },
	{ { I(0x47, 1, 0, 0, 0x10) }, "r1 |= 16" },
	{ { I(0x57, 1, 0, 0, 0xff) }, "r1 &= 255" },
	{ { I(0x67, 0, 0, 0, 3) }, "r0 <<= 3" },
	{ { I(0x7c, 0, 1, 0, 0) }, "w0 >>= w1" },
	{ { I(0xc7, 0, 0, 0, 1) }, "r0 s>>= 1" },
	{ { I(0xa7, 0, 0, 0, -1) }, "r0 ^= -1" },
	{ { I(0x87, 0, 0, 0, 0) }, "r0 = -r0" },
	{ { I(0x84, 5, 0, 0, 0) }, "w5 = -w5" },
	{ { I(0xdc, 0, 0, 0, 16) }, "r0 = be16 r0" },
	{ { I(0xd4, 0, 0, 0, 32) }, "r0 = le32 r0" },
	{ { I(0xd7, 0, 0, 0, 64) }, "r0 = bswap64 r0" },
	{ { I(0xbf, 1, 2, 8, 0) }, "r1 = (s8)r2" },
	{ { I(0xbf, 1, 2, 32, 0) }, "r1 = (s32)r2" },
	{ { I(0xbc, 1, 2, 16, 0) }, "w1 = (s16)w2" },
	{ { I(0xbf, 1, 2, 1, 1) }, "r1 = addr_space_cast(r2, 0, 1)" },
	{ { I(0xbf, 1, 2, 1, 1 << 16) }, "r1 = addr_space_cast(r2, 1, 0)" },
	{ { I(0x18, 1, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344) }, "r1 = 0x1122334455667788" },
	{ { I(0x18, 1, 0, 0, 1), I(0, 0, 0, 0, 0) }, "r1 = 0x1" },
	{ { I(0x18, 1, 0, 0, -1), I(0, 0, 0, 0, -1) }, "r1 = 0xffffffffffffffff" },
	{ { I(0x18, 1, 1, 0, 5), I(0, 0, 0, 0, 0) }, "r1 = map[id:5]" },
	{ { I(0x18, 2, 2, 0, 5), I(0, 0, 0, 0, 8) }, "r2 = map[id:5][0]+8" },
	{ { I(0x18, 1, 5, 0, 0), I(0, 0, 0, 0, 0) }, "r1 = map[idx:0]" },
	{ { I(0x18, 1, 6, 0, 2), I(0, 0, 0, 0, 16) }, "r1 = map[idx:2]+16" },
	{ { I(0x18, 1, 4, 0, 3), I(0, 0, 0, 0, 0) }, "r1 = subprog[+3]" },
	{ { I(0x18, 1, 3, 0, 77), I(0, 0, 0, 0, 0) }, "r1 = btf_id[77]" },
	{ { I(0x79, 1, 10, -8, 0) }, "r1 = *(u64 *)(r10 -8)" },
	{ { I(0x61, 0, 1, 4, 0) }, "r0 = *(u32 *)(r1 +4)" },
	{ { I(0x69, 0, 1, 0, 0) }, "r0 = *(u16 *)(r1 +0)" },
	{ { I(0x71, 0, 1, 0x7fff, 0) }, "r0 = *(u8 *)(r1 +32767)" },
	{ { I(0x89, 0, 1, 2, 0) }, "r0 = *(s16 *)(r1 +2)" },
	{ { I(0x81, 0, 1, -32768, 0) }, "r0 = *(s32 *)(r1 -32768)" },
	{ { I(0x91, 0, 1, 0, 0) }, "r0 = *(s8 *)(r1 +0)" },
	{ { I(0x63, 1, 2, 4, 0) }, "*(u32 *)(r1 +4) = r2" },
	{ { I(0x7b, 10, 1, -8, 0) }, "*(u64 *)(r10 -8) = r1" },
	{ { I(0x72, 1, 0, 0, 7) }, "*(u8 *)(r1 +0) = 7" },
	{ { I(0x6a, 1, 0, 2, -1) }, "*(u16 *)(r1 +2) = -1" },
	{ { I(0xdb, 1, 2, 0, 0x00) }, "lock *(u64 *)(r1 +0) += r2" },
	{ { I(0xc3, 1, 2, 8, 0x50) }, "lock *(u32 *)(r1 +8) &= r2" },
	{ { I(0xdb, 1, 2, 0, 0x40) }, "lock *(u64 *)(r1 +0) |= r2" },
	{ { I(0xdb, 1, 2, 0, 0xa0) }, "lock *(u64 *)(r1 +0) ^= r2" },
	{ { I(0xdb, 1, 2, 0, 0x01) }, "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)" },
	{ { I(0xc3, 1, 2, -4, 0x51) }, "r2 = atomic_fetch_and((u32 *)(r1 -4), r2)" },
	{ { I(0xdb, 1, 3, 0, 0x41) }, "r3 = atomic64_fetch_or((u64 *)(r1 +0), r3)" },
	{ { I(0xdb, 1, 3, 0, 0xa1) }, "r3 = atomic64_fetch_xor((u64 *)(r1 +0), r3)" },
	{ { I(0xdb, 1, 0, 0, 0xe1) }, "r0 = atomic64_xchg((u64 *)(r1 +0), r0)" },
	{ { I(0xc3, 1, 4, 0, 0xe1) }, "r4 = atomic_xchg((u32 *)(r1 +0), r4)" },
	{ { I(0xdb, 1, 2, 0, 0xf1) }, "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)" },
	{ { I(0xc3, 1, 2, 0, 0xf1) }, "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)" },
	{ { I(0xdb, 0, 1, 0, 0x100) }, "r0 = load_acquire((u64 *)(r1 +0))" },
	{ { I(0xd3, 0, 1, 3, 0x100) }, "r0 = load_acquire((u8 *)(r1 +3))" },
	{ { I(0xdb, 1, 2, 0, 0x110) }, "store_release((u64 *)(r1 +0), r2)" },
	{ { I(0xcb, 1, 2, -2, 0x110) }, "store_release((u16 *)(r1 -2), r2)" },
	{ { I(0x25, 1, 0, 3, 5) }, "if r1 > 0x5 goto pc+3" },
	{ { I(0x15, 1, 0, 0, -1) }, "if r1 == 0xffffffff goto pc+0" },
	{ { I(0xce, 1, 2, -1, 0) }, "if w1 s< w2 goto pc-1" },
	{ { I(0x4d, 1, 2, 2, 0) }, "if r1 & r2 goto pc+2" },
	{ { I(0x56, 1, 0, 1, 0) }, "if w1 != 0x0 goto pc+1" },
	{ { I(0x75, 1, 0, 1, 0) }, "if r1 s>= 0x0 goto pc+1" },
	{ { I(0xdd, 1, 2, 1, 0) }, "if r1 s<= r2 goto pc+1" },
	{ { I(0xb5, 1, 0, 1, 0) }, "if r1 <= 0x0 goto pc+1" },
	{ { I(0x05, 0, 0, 2, 0) }, "goto pc+2" },
	{ { I(0x05, 0, 0, -1, 0) }, "goto pc-1" },
	{ { I(0x06, 0, 0, 0, 70000) }, "gotol pc+70000" },
	{ { I(0xe5, 0, 0, 3, 0) }, "may_goto pc+3" },
	{ { I(0x85, 0, 0, 0, 1) }, "call bpf_map_lookup_elem#1" },
	{ { I(0x85, 0, 0, 0, 211) }, "call bpf_cgrp_storage_delete#211" },
	{ { I(0x85, 0, 0, 0, 9999) }, "call unknown#9999" },
	{ { I(0x85, 0, 1, 0, 3) }, "call pc+3" },
	{ { I(0x85, 0, 1, 0, -7) }, "call pc-7" },
	{ { I(0x85, 0, 2, 0, 12345) }, "call kernel-function#12345" },
	{ { I(0x8d, 2, 0, 0, 0) }, "callx r2" },
	{ { I(0x95, 0, 0, 0, 0) }, "exit" },
	{ { I(0x20, 0, 0, 0, 12) }, "r0 = *(u32 *)skb[12]" },
	{ { I(0x48, 0, 3, 0, 4) }, "r0 = *(u16 *)skb[r3 + 4]" },
};

static void check_asm_eq(const char *text, const struct ua_insn *want, size_t n_want)
{
	struct ua_insn *out = NULL;
	char err[256] = "";
	size_t n = 0;
	int ret = ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err));

	if (ret) {
		ua_test_fail(__FILE__, __LINE__, "asm '%s': %d %s", text, ret, err);
	} else if (n != n_want || memcmp(out, want, n * sizeof(*out))) {
		ua_test_fail(__FILE__, __LINE__,
			     "asm '%s': got %zu slots, first %02x %d %d %d %d; want %02x %d %d %d %d",
			     text, n, n ? out[0].code : 0, n ? out[0].dst_reg : 0,
			     n ? out[0].src_reg : 0, n ? out[0].off : 0, n ? out[0].imm : 0,
			     want[0].code, want[0].dst_reg, want[0].src_reg, want[0].off, want[0].imm);
	}
	free(out);
}

TEST(disasm, every_form_both_ways)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t slots = forms[i].insn[0].code == 0x18 ? 2 : 1;
		char buf[128];
		int ret = ua_disasm_insn(forms[i].insn, slots, buf, sizeof(buf));

		CHECK_EQ(ret, (int)slots);
		CHECK_STR(buf, forms[i].text);
		check_asm_eq(forms[i].text, forms[i].insn, slots);
	}
}

/* Spellings the kernel does not print but LLVM and people write. */
TEST(disasm, asm_accepts_llvm_spellings)
{
	static const struct {
		const char *text;
		struct ua_insn insn[2];
		size_t n;
	} alt[] = {
		{ "r1 = *(u64 *)(r10 - 8)", { I(0x79, 1, 10, -8, 0) }, 1 },
		{ "*(u32 *)(r1 + 4) = w2", { I(0x63, 1, 2, 4, 0) }, 1 },
		{ "if r1 > 5 goto +3", { I(0x25, 1, 0, 3, 5) }, 1 },
		{ "r1 = 0x1122334455667788 ll", { I(0x18, 1, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344) }, 2 },
		{ "r1 = 5 ll", { I(0x18, 1, 0, 0, 5), I(0, 0, 0, 0, 0) }, 2 },
		{ "r1 = -1 ll", { I(0x18, 1, 0, 0, -1), I(0, 0, 0, 0, -1) }, 2 },
		{ "r0 = -0x10", { I(0xb7, 0, 0, 0, -16) }, 1 },
		{ "w0 = 0xffffffff", { I(0xb4, 0, 0, 0, -1) }, 1 },
		{ "call 5", { I(0x85, 0, 0, 0, 5) }, 1 },
		{ "call bpf_map_lookup_elem", { I(0x85, 0, 0, 0, 1) }, 1 },
		{ "call bpf_arena_alloc_pages#100", { I(0x85, 0, 2, 0, 100) }, 1 },
		{ "r2 = atomic_fetch_add((u64 *)(r1 +0), r2)", { I(0xdb, 1, 2, 0, 1) }, 1 },
		{ "  12: (b7) r0 = 0     ; R0_w=0", { I(0xb7, 0, 0, 0, 0) }, 1 },
		{ "r0 = 1 // comment", { I(0xb7, 0, 0, 0, 1) }, 1 },
		{ "w0 = load_acquire((u8 *)(r1 + 3))", { I(0xd3, 0, 1, 3, 0x100) }, 1 },
		{ "store_release((u16 *)(r1 - 2), w2)", { I(0xcb, 1, 2, -2, 0x110) }, 1 },
	};

	for (size_t i = 0; i < sizeof(alt) / sizeof(alt[0]); i++)
		check_asm_eq(alt[i].text, alt[i].insn, alt[i].n);
}

static void check_kernel_error(const char *text, const char *want)
{
	struct ua_insn *out = NULL;
	char err[256] = "";
	size_t n = 0;

	CHECK_EQ(ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, want);
	CHECK(out == NULL);
}

TEST(disasm, kernel_syntax_errors)
{
	check_kernel_error("r0 = 0\nr11 = 1", "asm: line 2: invalid register r11");
	check_kernel_error("r0 += w1", "asm: line 1: expected r1, not w1 (register width)");
	check_kernel_error("r0 = 2147483648", "asm: line 1: Immediate out of 32-bit range: 2147483648");
	check_kernel_error("r0 = 0x10000000000000000",
			   "asm: line 1: Immediate out of 64-bit range: 0x10000000000000000");
	check_kernel_error("r0 = *(u64 *)(r1 +32768)",
			   "asm: line 1: Offset out of 16-bit range: +32768");
	check_kernel_error("r0 = *(u128 *)(r1 +0)",
			   "asm: line 1: expected u8/u16/u32/u64/s8/s16/s32 at 'u128 *)(r1 +0)'");
	check_kernel_error("goto pc+32768", "asm: line 1: Jump offset out of range: +32768");
	check_kernel_error("goto nowhere", "asm: line 1: Invalid label: nowhere");
	check_kernel_error("frobnicate r0", "asm: line 1: unknown instruction 'frobnicate r0'");
	check_kernel_error("exit now", "asm: line 1: unexpected 'now' after instruction");
	check_kernel_error("if r1 ~ 3 goto pc+1",
			   "asm: line 1: expected comparison operator at '~ 3 goto pc+1'");
	check_kernel_error("if r1 > 3", "asm: line 1: expected goto at end of line");
	check_kernel_error("r0 = be16 r1", "asm: line 1: byte swap works in place (r0 = ... r0)");
	check_kernel_error("r0 = be8 r0", "asm: line 1: byte swap width must be 16, 32 or 64");
	check_kernel_error("r0 = -r1", "asm: line 1: negation works in place (r0 = -r0)");
	check_kernel_error("r1 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
			   "asm: line 1: atomic fetch returns into its source register (r2, not r1)");
	check_kernel_error("r0 = atomic64_fetch_add((u32 *)(r1 +0), r0)",
			   "asm: line 1: atomic64 needs a u64 operand");
	check_kernel_error("r0 = atomic_xchg((u8 *)(r1 +0), r0)",
			   "asm: line 1: atomic read-modify-write needs a u32 or u64 operand");
	check_kernel_error("r1 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
			   "asm: line 1: cmpxchg compares and returns in r0");
	check_kernel_error("call bpf_map_lookup_elem#2",
			   "asm: line 1: bpf_map_lookup_elem is helper #1, not #2");
	check_kernel_error("w1 = (s32)w2", "asm: line 1: (s32) needs a 64-bit destination");
	check_kernel_error("w1 = 1 ll", "asm: line 1: ll needs a 64-bit register");
	check_kernel_error("r0 = *(s64 *)(r1 +0)",
			   "asm: line 1: expected u8/u16/u32/u64/s8/s16/s32 at 's64 *)(r1 +0)'");
	check_kernel_error("r0 = xchg32_32(r1 + 0, r0)",
			   "asm: line 1: r0 does not match the operation's width");
	check_kernel_error("lock *(u64 *)(r1 +0) += w2", "asm: line 1: w2 in a 64-bit atomic");
	check_kernel_error("w2 = atomic_fetch_add((u64 *)(r1 +0), w2)",
			   "asm: line 1: w2 in a 64-bit atomic");
	check_kernel_error("w0 = load_acquire((u64 *)(r1 +0))", "asm: line 1: w0 in a 64-bit atomic");
	check_kernel_error("store_release((u64 *)(r1 +0), w2)", "asm: line 1: w2 in a 64-bit atomic");
	check_kernel_error("l:\nl:\n", "asm: line 2: Duplicate label (l) (previous declaration at line 1)");
}

TEST(disasm, kernel_labels)
{
	const char *text = "start:\n"
			   "  r0 = 0\n"
			   "loop: r0 += 1\n"
			   "  if r0 < 10 goto loop\n"
			   "  gotol done\n"
			   "  call helper_fn\n"
			   "  r1 = subprog[helper_fn]\n"
			   "done:\n"
			   "  exit\n"
			   "helper_fn:\n"
			   "  may_goto start\n"
			   "  exit\n";
	struct ua_insn *out;
	size_t n;
	char err[256] = "";

	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err)), 0);
	REQUIRE_EQ(n, 10);
	CHECK_EQ(out[2].off, -2);          /* if at 2 -> loop at 1 */
	CHECK_EQ(out[3].imm, 3);           /* gotol at 3 -> done at 7 */
	CHECK_EQ(out[4].src_reg, UA_PSEUDO_CALL);
	CHECK_EQ(out[4].imm, 3);           /* call at 4 -> helper_fn at 8 */
	CHECK_EQ(out[5].src_reg, UA_PSEUDO_FUNC);
	CHECK_EQ(out[5].imm, 2);           /* ld_imm64 at 5 -> 8 */
	CHECK_EQ(out[8].code, 0xe5);
	CHECK_EQ(out[8].off, -9);          /* may_goto at 8 -> start at 0 */
	free(out);
}

TEST(disasm, invalid_encodings)
{
	static const struct ua_insn bad[] = {
		I(0x07, 0, 1, 0, 1),  /* ALU K with src_reg */
		I(0x0f, 0, 0, 0, 1),  /* ALU X with imm */
		I(0x07, 0, 0, 1, 1),  /* add with off */
		I(0xb7, 11, 0, 0, 0), /* r11 */
		I(0xbf, 0, 1, 7, 0),  /* movsx width 7 */
		I(0xbc, 0, 1, 32, 0), /* 32-bit movsx from s32 */
		I(0xdc, 0, 0, 0, 8),  /* be8 */
		I(0x95, 0, 0, 0, 1),  /* exit with imm */
		I(0x05, 1, 0, 0, 0),  /* ja with dst */
		I(0x85, 1, 0, 0, 1),  /* call with dst */
		I(0x85, 0, 3, 0, 1),  /* call type 3 */
		I(0xd3, 1, 2, 0, 0),  /* atomic add on u8 */
		I(0xdb, 1, 2, 0, 0x02), /* unknown atomic op */
		I(0xff, 0, 0, 0, 0),  /* not an opcode */
		I(0x00, 0, 0, 0, 0),  /* bare second half */
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(ua_disasm_insn(&bad[i], 1, buf, sizeof(buf)), -EINVAL);
		CHECK_STR(buf, "invalid");
	}
	/* ld_imm64 needs its second slot, with nothing but imm set */
	struct ua_insn ld[2] = { I(0x18, 1, 0, 0, 1), I(0, 0, 0, 0, 0) };

	CHECK_EQ(ua_disasm_insn(ld, 1, buf, sizeof(buf)), -EINVAL);
	ld[1].off = 1;
	CHECK_EQ(ua_disasm_insn(ld, 2, buf, sizeof(buf)), -EINVAL);
	ld[1] = I(0, 0, 0, 0, 1);
	ld[0].src_reg = UA_PSEUDO_MAP_FD; /* map fd with an offset: no text for it */
	CHECK_EQ(ua_disasm_insn(ld, 2, buf, sizeof(buf)), -EINVAL);
	/* too small a buffer */
	CHECK_EQ(ua_disasm_insn(&forms[0].insn[0], 1, buf, 4), -ENOSPC);
	CHECK_STR(buf, "r0 ");
}

static const char *name_kfunc(void *ctx, const struct ua_insn *insn)
{
	(void)ctx;
	return insn->src_reg == UA_PSEUDO_KFUNC_CALL && insn->imm == 42 ? "bpf_arena_alloc_pages"
									 : NULL;
}

TEST(disasm, listing)
{
	static const struct ua_insn prog[] = {
		I(0x18, 1, 0, 0, 1), I(0, 0, 0, 0, 0), I(0x85, 0, 2, 0, 42), I(0xff, 1, 2, 3, 4),
		I(0x95, 0, 0, 0, 0),
	};
	char *text = NULL, err[128] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	REQUIRE(f != NULL);
	UA_OPTS(ua_disasm_opts, opts, .call_name = name_kfunc, .err_buf = err,
		.err_buf_sz = sizeof(err));
	CHECK_EQ(ua_disasm_prog(prog, 5, f, &opts), -EINVAL);
	fclose(f);
	CHECK_STR(text, "   0: (18) r1 = 0x1\n"
			"   2: (85) call bpf_arena_alloc_pages#42\n"
			"   3: (ff) invalid: dst=1 src=2 off=3 imm=4\n"
			"   4: (95) exit\n");
	CHECK_STR(err, "disasm: insn 3: cannot decode (code 0xff)");
	free(text);

	f = open_memstream(&text, &len);
	REQUIRE(f != NULL);
	UA_OPTS(ua_disasm_opts, bare, .no_opcode = true);
	CHECK_EQ(ua_disasm_prog(prog, 3, f, &bare), 0);
	fclose(f);
	CHECK_STR(text, "   0: r1 = 0x1\n   2: call kernel-function#42\n");
	free(text);
}

/* A listing re-assembles to the same program (the "(xx)" and "N:" are skipped). */
TEST(disasm, listing_reassembles)
{
	struct ua_insn prog[sizeof(forms) / sizeof(forms[0]) * 2];
	struct ua_insn *out = NULL;
	size_t n = 0, got = 0, len = 0;
	char *text = NULL, err[256] = "";
	FILE *f;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		prog[n++] = forms[i].insn[0];
		if (forms[i].insn[0].code == 0x18)
			prog[n++] = forms[i].insn[1];
	}
	f = open_memstream(&text, &len);
	REQUIRE(f != NULL);
	REQUIRE_EQ(ua_disasm_prog(prog, n, f, NULL), 0);
	fclose(f);
	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_AUTO, &out, &got, err, sizeof(err)), 0);
	CHECK_EQ(got, n);
	CHECK(got == n && !memcmp(out, prog, n * sizeof(*prog)));
	free(out);
	free(text);
}

/*
 * Encodings the ISA validator accepts that have no text of their own: the
 * kernel rejects ld_imm64 map fd/idx with a non-zero second imm ("unrecognized
 * bpf_ld_imm64 insn") and ignores it for subprog addresses; callx with the
 * register in imm is an old LLVM encoding (LLVM 19 puts it in dst_reg).
 */
static bool validator_lenient(const struct ua_insn *in)
{
	if (in->code == 0x18)
		return in[1].imm && (in->src_reg == UA_PSEUDO_MAP_FD || in->src_reg == UA_PSEUDO_MAP_IDX ||
				     in->src_reg == UA_PSEUDO_FUNC || in->src_reg == UA_PSEUDO_BTF_ID);
	return in->code == 0x8d && !in->dst_reg && in->imm;
}

/*
 * The exhaustive round trip: every opcode in isa.def x a grid of field
 * values. Validator-accepted => printable; printable => asm(text) == bits.
 */
TEST(disasm, round_trip_every_opcode)
{
	static const int regs[] = { 0, 1, 10, 11 };
	static const int16_t offs[] = { 0, 1, -1, 8, 16, 32, 0x7fff, -0x8000 };
	static const int32_t imms[] = {
		0, 1, -1, 16, 32, 64, 0x100, 0x110, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x40,
		0x50, 0xa0, 1 << 16, INT32_MIN, INT32_MAX,
	};
	unsigned opcodes = 0, printed_opcodes = 0, conf_opcodes = 0;
	size_t printed = 0, valid = 0;
	UA_OPTS(ua_disasm_opts, conf, .syntax = UA_DISASM_CONFORMANCE);

	for (int code = 0; code < 256; code++) {
		bool any = false, any_conf = false;

		if (!ua_isa_op((uint8_t)code))
			continue;
		opcodes++;
		for (size_t d = 0; d < 4; d++)
		for (size_t s = 0; s < 4; s++)
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
		for (size_t m = 0; m < sizeof(imms) / sizeof(imms[0]); m++) {
			struct ua_insn in[2] = { I(code, regs[d], regs[s], offs[o], imms[m]),
						 I(0, 0, 0, 0, imms[(m + 3) % 20]) };
			bool is_valid = !ua_isa_check_insn(in, 0, UA_ISA_HAS_ARENA, NULL, 0) &&
					!validator_lenient(in);
			struct ua_insn *out = NULL;
			char text[160], err[256] = "";
			size_t n = 0;
			int used = ua_disasm_insn(in, 2, text, sizeof(text));

			valid += is_valid;
			if (used < 0) {
				if (is_valid)
					ua_test_fail(__FILE__, __LINE__,
						     "valid insn %02x %d %d %d %d does not print",
						     code, regs[d], regs[s], offs[o], imms[m]);
				continue;
			}
			any = true;
			printed++;
			if (ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err)) ||
			    n != (size_t)used || memcmp(out, in, n * sizeof(*in)))
				ua_test_fail(__FILE__, __LINE__,
					     "%02x %d %d %d %d -> '%s' -> %s", code, regs[d],
					     regs[s], offs[o], imms[m], text,
					     *err ? err : "different bits");
			free(out);
			out = NULL;
			/* the same for the conformance spelling, where one exists */
			used = ua_disasm_insn_opts(in, 2, text, sizeof(text), &conf);
			if (used < 0)
				continue;
			any_conf = true;
			if (ua_asm_parse(text, UA_ASM_CONFORMANCE, &out, &n, err, sizeof(err)) ||
			    n != (size_t)used || memcmp(out, in, n * sizeof(*in)))
				ua_test_fail(__FILE__, __LINE__,
					     "conformance %02x %d %d %d %d -> '%s' -> %s", code,
					     regs[d], regs[s], offs[o], imms[m], text,
					     *err ? err : "different bits");
			free(out);
		}
		printed_opcodes += any;
		conf_opcodes += any_conf;
		if (!any)
			ua_test_fail(__FILE__, __LINE__, "opcode 0x%02x never printed", code);
	}
	CHECK_EQ(opcodes, 129); /* rows of isa.def */
	CHECK_EQ(printed_opcodes, opcodes);
	/* all but 6 legacy packet loads, may_goto, and the u8/u16 atomics
	 * (load-acquire/store-release only), which have no conformance spelling */
	CHECK_EQ(conf_opcodes, opcodes - 9);
	CHECK(valid > 1000);
	CHECK(printed >= valid);
}

/* Thousands of labels (the hash index grows several times), each jumped to
 * from far away, forwards and backwards. */
TEST(disasm, many_labels)
{
	enum { N = 5000 };
	size_t cap = (size_t)N * 48, len = 0, n = 0;
	char *text = malloc(cap), err[256] = "";
	struct ua_insn *out = NULL;

	REQUIRE(text != NULL);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "L%d:\n if r0 > 0x5 goto L%d\n", i,
					(i * 7919) % N);
	REQUIRE(len < cap);
	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err)), 0);
	REQUIRE_EQ(n, N);
	for (int i = 0; i < N; i++)
		if (out[i].off != (i * 7919) % N - i - 1)
			ua_test_fail(__FILE__, __LINE__, "insn %d: off %d", i, out[i].off);
	free(out);
	free(text);
}

TEST(disasm, conformance_syntax_forms)
{
	static const struct {
		struct ua_insn insn[2];
		const char *text;
	} conf_forms[] = {
		{ { I(0xb7, 0, 0, 0, -1) }, "mov %r0, -1" },
		{ { I(0xbc, 1, 2, 0, 0) }, "mov32 %r1, %r2" },
		{ { I(0x3f, 1, 2, 1, 0) }, "sdiv %r1, %r2" },
		{ { I(0x94, 1, 0, 1, 3) }, "smod32 %r1, 3" },
		{ { I(0xbf, 1, 2, 32, 0) }, "movsx3264 %r1, %r2" },
		{ { I(0xbc, 1, 2, 8, 0) }, "movsx832 %r1, %r2" },
		{ { I(0x84, 3, 0, 0, 0) }, "neg32 %r3" },
		{ { I(0xdc, 0, 0, 0, 16) }, "be16 %r0" },
		{ { I(0xd7, 0, 0, 0, 32) }, "bswap32 %r0" },
		{ { I(0x18, 1, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344) }, "lddw %r1, 0x1122334455667788" },
		{ { I(0x79, 0, 10, -8, 0) }, "ldxdw %r0, [%r10-8]" },
		{ { I(0x91, 0, 1, 0, 0) }, "ldxsb %r0, [%r1]" },
		{ { I(0x62, 1, 0, 4, 7) }, "stw [%r1+4], 7" },
		{ { I(0x73, 10, 1, -1, 0) }, "stxb [%r10-1], %r1" },
		{ { I(0xdb, 10, 1, -8, 0x01) }, "lock fetch add [%r10-8], %r1" },
		{ { I(0xc3, 10, 1, -8, 0x40) }, "lock or32 [%r10-8], %r1" },
		{ { I(0xc3, 10, 1, -8, 0xf1) }, "lock cmpxchg32 [%r10-8], %r1" },
		{ { I(0xdb, 10, 1, -8, 0xe1) }, "lock xchg [%r10-8], %r1" },
		{ { I(0x05, 0, 0, -2, 0) }, "ja -2" },
		{ { I(0x06, 0, 0, 0, 70000) }, "ja32 +70000" },
		{ { I(0x1d, 1, 2, 3, 0) }, "jeq %r1, %r2, +3" },
		{ { I(0xd6, 1, 0, 0, -5) }, "jsle32 %r1, -5, +0" },
		{ { I(0x85, 0, 0, 0, 5) }, "call 5" },
		{ { I(0x85, 0, 1, 0, 2) }, "call local +2" },
		{ { I(0x85, 0, 2, 0, 9) }, "call runtime 9" },
		{ { I(0x8d, 2, 0, 0, 0) }, "call %r2" },
		{ { I(0x95, 0, 0, 0, 0) }, "exit" },
	};
	static const struct ua_insn unspellable[] = {
		I(0xe5, 0, 0, 1, 0), I(0xbf, 1, 2, 1, 1), I(0xdb, 0, 1, 0, 0x100),
		I(0xdb, 1, 2, 0, 0x110), I(0x20, 0, 0, 0, 1),
	};
	UA_OPTS(ua_disasm_opts, conf, .syntax = UA_DISASM_CONFORMANCE);
	char buf[96];

	for (size_t i = 0; i < sizeof(conf_forms) / sizeof(conf_forms[0]); i++) {
		size_t slots = conf_forms[i].insn[0].code == 0x18 ? 2 : 1;
		struct ua_insn *out = NULL;
		size_t n = 0;

		CHECK_EQ(ua_disasm_insn_opts(conf_forms[i].insn, slots, buf, sizeof(buf), &conf),
			 (int)slots);
		CHECK_STR(buf, conf_forms[i].text);
		CHECK_EQ(ua_asm_parse(conf_forms[i].text, UA_ASM_CONFORMANCE, &out, &n, NULL, 0), 0);
		CHECK(n == slots && !memcmp(out, conf_forms[i].insn, n * sizeof(*out)));
		free(out);
	}
	for (size_t i = 0; i < sizeof(unspellable) / sizeof(unspellable[0]); i++)
		CHECK_EQ(ua_disasm_insn_opts(&unspellable[i], 1, buf, sizeof(buf), &conf), -EINVAL);
}

TEST(disasm, conformance_listing_is_bare)
{
	static const struct ua_insn prog[] = { I(0xb7, 0, 0, 0, 1), I(0xe5, 0, 0, 0, 0),
					       I(0x95, 0, 0, 0, 0) };
	char *text = NULL, err[128] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	REQUIRE(f != NULL);
	UA_OPTS(ua_disasm_opts, conf, .syntax = UA_DISASM_CONFORMANCE, .err_buf = err,
		.err_buf_sz = sizeof(err));
	CHECK_EQ(ua_disasm_prog(prog, 3, f, &conf), -EINVAL);
	fclose(f);
	CHECK_STR(text, "mov %r0, 1\n# invalid: dst=0 src=0 off=0 imm=0\nexit\n");
	CHECK_STR(err, "disasm: insn 1: cannot decode (code 0xe5)");
	free(text);
}

TEST(disasm, program_from_verifier_log)
{
	static const char log[] =
		"func#0 @0\n"
		"Live regs before insn:\n"
		"      0: .......... (b7) r0 = 0\n"
		"0: R1=ctx() R10=fp0\n"
		"0: (b7) r0 = 0                        ; R0=0\n"
		"1: (18) r1 = 0x1122334455667788       ; R1=0x1122334455667788\n"
		"3: (25) if r1 > 0x5 goto pc+1\n"
		"4: (95) exit\n"
		"from 3 to 5: R0=0 R1=0x1122334455667788 R10=fp0\n"
		"5: (b7) r0 = 1\n"
		"6: (95) exit\n"
		"3: (25) if r1 > 0x5 goto pc+1\n"
		"processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0\n";
	static const struct ua_insn want[] = {
		I(0xb7, 0, 0, 0, 0), I(0x18, 1, 0, 0, 0x55667788), I(0, 0, 0, 0, 0x11223344),
		I(0x25, 1, 0, 1, 5), I(0x95, 0, 0, 0, 0), I(0xb7, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0),
	};
	struct ua_insn *out = NULL;
	char err[256] = "";
	size_t n = 0;

	REQUIRE_EQ(ua_asm_from_log(log, &out, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 7);
	CHECK(n == 7 && !memcmp(out, want, sizeof(want)));
	free(out);

	CHECK_EQ(ua_asm_from_log("0: (b7) r0 = 0\n2: (95) exit\n", &out, &n, err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "asm: log has no insn 1 (not reached by the verifier?)");
	CHECK(out == NULL);
	CHECK_EQ(ua_asm_from_log("0: (b7) r0 = r1\n", &out, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "asm: log insn 0: text does not encode to opcode 0xb7");
	CHECK_EQ(ua_asm_from_log("0: (b7) r0 = frob\n", &out, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "asm: log insn 0: expected register, number or expression at 'frob'");
	CHECK_EQ(ua_asm_from_log("processed 0 insns\n", &out, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "asm: no \"N: (xx) insn\" lines in the log");
}
