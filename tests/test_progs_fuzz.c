/* SPDX-License-Identifier: MIT */
/*
 * Replays the loader and interpreter fuzz corpora (fuzz/corpus-elf,
 * fuzz/corpus-prog: seeds and every crash the fuzzers found) through the
 * fuzz targets inside the sanitized test runner, so each fix stays fixed.
 * The targets abort on a crash-free but wrong outcome (a failure without a
 * reason); ASan/UBSan catch the rest.
 */
#define LLVMFuzzerTestOneInput fuzz_elf_one_input
#include "../fuzz/fuzz_elf.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_prog_one_input
#include "../fuzz/fuzz_prog.c"
#undef LLVMFuzzerTestOneInput

#include "test.h"
#include "util.h"

#include <dirent.h>

static int replay_dir(const char *dir, int (*one)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		static uint8_t buf[1 << 16];
		char path[4096];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		one(buf, len);
		files++;
	}
	closedir(d);
	return files;
}

TEST(progs_fuzz, elf_corpus_replays)
{
	int files = replay_dir("fuzz/corpus-elf", fuzz_elf_one_input);

	if (files < 0)
		SKIP("no corpus at fuzz/corpus-elf (run from the source root)");
	CHECK(files >= 6);
}

TEST(progs_fuzz, prog_corpus_replays)
{
	int files = replay_dir("fuzz/corpus-prog", fuzz_prog_one_input);

	if (files < 0)
		SKIP("no corpus at fuzz/corpus-prog (run from the source root)");
	CHECK(files >= 10);
}

static size_t read_corpus(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!f)
		return 0;
	len = fread(buf, 1, cap, f);
	fclose(f);
	return len;
}

/*
 * Regression (fuzz_elf, UBSan): code at an offset not a multiple of 4 made
 * the linker read struct ua_insn through a misaligned pointer. The object
 * here sits one byte into the buffer, so every section does; the program
 * must still run and give its usual result.
 */
TEST(progs_fuzz, elf_misaligned_code_section_runs)
{
	static uint8_t buf[8192];
	struct ua_object *obj = NULL;
	char err[256] = "";
	size_t len = read_corpus("fuzz/corpus-elf/loader_arena.elf", buf + 1, sizeof(buf) - 1);

	if (!len)
		SKIP("no corpus at fuzz/corpus-elf (run from the source root)");
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	REQUIRE_EQ(ua_object_open_mem(buf + 1, len, &oo, &obj), 0);
	struct ua_program *p = ua_object_find_program(obj, "bump");

	REQUIRE(p != NULL);
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ(o.retval, 42);
	ua_object_close(obj);
	fuzz_elf_one_input(buf + 1, len);
}

/*
 * Regression (fuzz_prog, UBSan): bpf_map_lookup_elem trusted r1 as a map, as
 * the verifier would have guaranteed; a raw program passing any number made
 * it read a host struct at that address. Now an unknown map gives NULL and
 * -EINVAL, and a stray ring-buffer sample is ignored.
 */
TEST(progs_fuzz, map_helpers_refuse_a_forged_map)
{
	const struct ua_insn insns[] = {
		{ .code = UA_LD | UA_DW | UA_IMM, .dst_reg = 1, .imm = (int32_t)0x9abcdef1 },
		{ .imm = 0x12345678 },
		{ .code = UA_ST | UA_MEM | UA_DW, .dst_reg = 10, .off = -8, .imm = 7 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 2, .src_reg = 10 },
		{ .code = UA_ALU64 | UA_ADD | UA_K, .dst_reg = 2, .imm = -8 },
		{ .code = UA_JMP | UA_CALL, .imm = 1 },  /* lookup(forged, key) -> NULL */
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 6, .src_reg = 0 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 1, .src_reg = 10 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 2, .src_reg = 10 },
		{ .code = UA_ALU64 | UA_ADD | UA_K, .dst_reg = 2, .imm = -8 },
		{ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 3, .src_reg = 2 },
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 4, .imm = 0 },
		{ .code = UA_JMP | UA_CALL, .imm = 2 },  /* update(r10, ...) -> -EINVAL */
		{ .code = UA_ALU64 | UA_ADD | UA_X, .dst_reg = 0, .src_reg = 6 },
		{ .code = UA_JMP | UA_EXIT },
	};
	struct ua_program *p = NULL;
	char err[256] = "";

	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err));
	REQUIRE_EQ(ua_program_load_raw(insns, sizeof(insns) / sizeof(insns[0]), &ro, &p), 0);
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(p, &o), 0);
	CHECK_EQ((int32_t)o.retval, -EINVAL);
	ua_program_free_raw(p);
}

/* Regression (fuzz_elf, LeakSanitizer): a second .BTF section replaced the first, leaking it. */
TEST(progs_fuzz, elf_second_btf_section_is_refused)
{
	static uint8_t buf[8192];
	struct ua_object *obj = NULL;
	char err[256] = "";
	size_t len = read_corpus("fuzz/corpus-elf/regress-two-btf-sections", buf, sizeof(buf));

	if (!len)
		SKIP("no corpus at fuzz/corpus-elf (run from the source root)");
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_object_open_mem(buf, len, &oo, &obj), -EINVAL);
	CHECK_CONTAINS(err, ": a second .BTF section");
	CHECK(obj == NULL);
}

/*
 * Regression (fuzz_elf, SEGV): arena globals were copied in through the
 * arena's user view, relying on its faults to allocate the pages; with
 * BPF_F_SEGV_ON_FAULT that fault killed the process. The pages are now
 * allocated first (and still count as allocated).
 */
TEST(progs_fuzz, arena_globals_with_segv_on_fault)
{
	const char *path = ua_test_bpf_obj_built("loader_arena_segv");
	struct ua_object *obj = NULL;
	char err[256] = "";

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	REQUIRE_EQ(ua_object_open(path, &oo, &obj), 0);
	struct ua_map *m = ua_object_find_map(obj, "arena");

	REQUIRE(m != NULL);
	CHECK_EQ(ua_map_flags(m), (1U << 10) | (1U << 17)); /* MMAPABLE | SEGV_ON_FAULT */
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_program_test_run(ua_object_find_program(obj, "bump"), &o), 0);
	CHECK_EQ(o.retval, 42);
	CHECK_EQ(*(int *)ua_arena_user_base(ua_map_arena(m)), 42); /* allocated, host-visible */
	ua_object_close(obj);
}

/* Regression (fuzz_elf, UBSan): a .BTF.ext of type NOBITS has a size but no data to read. */
TEST(progs_fuzz, elf_btf_ext_without_data_is_refused)
{
	size_t len = 0;
	uint8_t *buf = ua_test_read_file("fuzz/corpus-elf/regress-btf-ext-nobits", &len);
	struct ua_object *obj = NULL;
	char err[256] = "";

	if (!buf)
		SKIP("no corpus at fuzz/corpus-elf (run from the source root)");
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	CHECK_EQ(ua_object_open_mem(buf, len, &oo, &obj), -EINVAL);
	CHECK_STR(err, "btf: .BTF.ext shorter than its header");
	CHECK(obj == NULL);
	free(buf);
}
