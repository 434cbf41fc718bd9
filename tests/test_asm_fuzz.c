/* SPDX-License-Identifier: MIT */
/*
 * Replays the fuzz corpus (fuzz/corpus-asm, seeds and past crashes) through
 * the fuzz target inside the sanitized test runner, so every regression the
 * fuzzer found stays fixed. The target aborts on a round-trip violation.
 */
#define LLVMFuzzerTestOneInput fuzz_asm_one_input
#include "../fuzz/fuzz_asm.c"
#undef LLVMFuzzerTestOneInput

#include "test.h"

#include <dirent.h>

TEST(asm_fuzz, corpus_replays)
{
	const char *dir = "fuzz/corpus-asm";
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;

	if (!d)
		SKIP("no corpus at %s (run from the source root)", dir);
	while ((e = readdir(d))) {
		char path[4096];
		uint8_t buf[65536];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		f = fopen(path, "rb");
		REQUIRE(f != NULL);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fuzz_asm_one_input(buf, len);
		files++;
	}
	closedir(d);
	CHECK(files >= 10);
}

/* Fixed inputs the fuzzer found: each used to crash or break the round trip. */
TEST(asm_fuzz, regressions)
{
	static const uint8_t map_idx_offset[] = { /* offset printed %u, was parsed as s32 */
		0xf0, 0x18, 0x61, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x10, 0x20, 0xcf, 0xce,
	};
	struct ua_insn *out, slots[2];
	char text[64], err[128] = "";
	size_t n;
	int ret;

	fuzz_asm_one_input(map_idx_offset, sizeof(map_idx_offset));
	memcpy(slots, map_idx_offset + 1, sizeof(slots));
	CHECK_EQ(ua_disasm_insn(slots, 2, text, sizeof(text)), 2);
	CHECK_STR(text, "r1 = map[idx:2]+3469680656");
	ret = ua_asm_parse(text, UA_ASM_KERNEL, &out, &n, err, sizeof(err));

	CHECK_STR(err, "");
	REQUIRE_EQ(ret, 0);
	CHECK_EQ(n, 2);
	CHECK_EQ((uint32_t)out[1].imm, 3469680656u);
	free(out);
	fuzz_asm_one_input((const uint8_t *)"\x01" "call\n", 6); /* read ops[-1] */
}
