/* SPDX-License-Identifier: MIT */
/*
 * An independent assembler as the oracle: every line below is fed to LLVM's
 * BPF assembler (llvm-mc-19 -show-encoding) and to ours (kernel syntax); the
 * bytes must agree. This pins the encodings of the LLVM spellings we accept
 * (the kernel-log spellings are pinned by test_disasm_kernel.c). SKIPs when
 * llvm-mc-19 is not installed.
 */
#include "asm.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const llvm_lines[] = {
	"r0 = 1", "w0 = -5", "r1 = r2", "w1 = w2", "r0 += 3", "r0 -= r1", "w0 *= 7",
	"r0 /= r1", "r1 s/= r2", "r1 s%= 3", "w1 s/= w2", "r0 |= 16", "r0 &= r1", "r0 <<= 3",
	"w0 >>= w1", "r0 s>>= 1", "r0 ^= -1", "r0 %= 10", "r0 = -r0", "w0 = -w0",
	"r0 = be16 r0", "r0 = le32 r0", "r0 = be64 r0", "r0 = bswap16 r0", "r0 = bswap64 r0",
	"r1 = (s8)r2", "r1 = (s16)r2", "r1 = (s32)r2", "w1 = (s8)w2", "w1 = (s16)w2",
	"r1 = 0x1122334455667788 ll", "r1 = -1 ll", "r2 = 5 ll",
	"r1 = *(u64 *)(r10 - 8)", "r0 = *(u32 *)(r1 + 4)", "r0 = *(u16 *)(r1 + 0)",
	"r0 = *(u8 *)(r1 + 32767)", "r0 = *(s16 *)(r1 + 2)", "r0 = *(s32 *)(r1 - 32768)",
	"r0 = *(s8 *)(r1 + 0)", "*(u32 *)(r1 + 4) = w2", "*(u64 *)(r10 - 8) = r1",
	"*(u8 *)(r1 + 0) = 7", "*(u16 *)(r1 + 2) = -1", "*(u64 *)(r1 + 0) = 9",
	"lock *(u64 *)(r1 + 0) += r2", "lock *(u32 *)(r1 + 8) &= w2",
	"lock *(u64 *)(r1 + 0) |= r2", "lock *(u32 *)(r1 + 0) ^= w2",
	"r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", "w2 = atomic_fetch_and((u32 *)(r1 - 4), w2)",
	"r3 = atomic_fetch_or((u64 *)(r1 + 0), r3)", "w3 = atomic_fetch_xor((u32 *)(r1 + 0), w3)",
	"r0 = xchg_64(r1 + 0, r0)", "w4 = xchg32_32(r1 + 0, w4)",
	"r0 = cmpxchg_64(r1 + 0, r0, r2)", "w0 = cmpxchg32_32(r1 + 0, w0, w2)",
	"if r1 > 5 goto +3", "if r1 == -1 goto +0", "if w1 s< w2 goto -1", "if r1 & r2 goto +2",
	"if w1 != 0 goto +1", "if r1 s>= 0 goto +1", "if r1 s<= r2 goto +1", "if r1 <= 0 goto +1",
	"if w1 >= 7 goto +1", "if r1 s> r2 goto +1", "if w1 < w2 goto +1", "if r1 s< -3 goto +1",
	"goto +2", "goto -1", "may_goto +3", "call 1", "call -1", "callx r2", "exit",
	"r1 = addr_space_cast(r2, 0, 1)", "r1 = addr_space_cast(r2, 1, 0)",
	"r0 = *(u32 *)skb[12]", "r0 = *(u8 *)skb[0]",
};

TEST(asm_llvm, encodings_match_llvm_mc)
{
	char path[] = "/tmp/ua_llvm_XXXXXX", cmd[256], line[512];
	size_t n_lines = sizeof(llvm_lines) / sizeof(llvm_lines[0]), seen = 0;
	int fd = mkstemp(path);
	FILE *f, *p;

	REQUIRE(fd >= 0);
	if (system("command -v llvm-mc-19 >/dev/null 2>&1")) {
		close(fd);
		unlink(path);
		SKIP("llvm-mc-19 not installed");
	}
	f = fdopen(fd, "w");
	REQUIRE(f != NULL);
	for (size_t i = 0; i < n_lines; i++)
		fprintf(f, "%s\n", llvm_lines[i]);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "llvm-mc-19 -triple bpfel -mcpu=v4 -show-encoding %s 2>&1", path);
	p = popen(cmd, "r");
	REQUIRE(p != NULL);
	while (fgets(line, sizeof(line), p)) {
		uint8_t want[16], *got;
		struct ua_insn *insns = NULL;
		char *enc = strstr(line, "# encoding: ["), err[256] = "";
		size_t n_want = 0, n = 0;

		if (strstr(line, "error"))
			ua_test_fail(__FILE__, __LINE__, "llvm-mc: %s", line);
		if (!enc)
			continue;
		for (char *q = enc + 13; n_want < sizeof(want) && (q = strstr(q, "0x")); q += 2)
			want[n_want++] = (uint8_t)strtoul(q, NULL, 16);
		REQUIRE(seen < n_lines);
		if (ua_asm_parse(llvm_lines[seen], UA_ASM_KERNEL, &insns, &n, err, sizeof(err))) {
			ua_test_fail(__FILE__, __LINE__, "'%s': %s", llvm_lines[seen], err);
		} else {
			got = (uint8_t *)insns;
			if (n * 8 != n_want || memcmp(got, want, n_want))
				ua_test_fail(__FILE__, __LINE__, "'%s': llvm-mc and uarena disagree",
					     llvm_lines[seen]);
		}
		free(insns);
		seen++;
	}
	pclose(p);
	unlink(path);
	CHECK_EQ(seen, n_lines);
}
