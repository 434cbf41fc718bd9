/* SPDX-License-Identifier: MIT */
/*
 * Loading an object description into the kernel (the kernel half of
 * `uarena diff`): maps with initial contents, an arena with an image,
 * relocated ld_imm64/kfunc instructions, test run, reading results back;
 * and each malformed description rejected with a message naming the place.
 */
#include "test.h"
#include "util.h"

#include "kernel.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) \
	((struct ua_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LD_IMM64(d)   INSN(UA_LD | UA_DW | UA_IMM, d, 0, 0, 0), INSN(0, 0, 0, 0, 0)
#define MOV_K(d, i)   INSN(UA_ALU64 | UA_MOV | UA_K, d, 0, 0, i)
#define MOV_X(d, s)   INSN(UA_ALU64 | UA_MOV | UA_X, d, s, 0, 0)
#define LDX_DW(d, s, o) INSN(UA_LDX | UA_MEM | UA_DW, d, s, o, 0)
#define STX_DW(d, s, o) INSN(UA_STX | UA_MEM | UA_DW, d, s, o, 0)
#define CALL()        INSN(UA_JMP | UA_CALL, 0, 0, 0, 0)
#define EXIT()        INSN(UA_JMP | UA_EXIT, 0, 0, 0, 0)

/*
 * p = bpf_arena_alloc_pages(&arena, NULL, 1, -1, 0);
 * bss[1] = p; *(u64 __arena *)p = rodata[0] + bss[0];
 */
static const struct ua_insn prog_insns[] = {
	LD_IMM64(1),                  /* 0: r1 = &arena */
	MOV_K(2, 0), MOV_K(3, 1), MOV_K(4, -1), MOV_K(5, 0),
	CALL(),                       /* 6: bpf_arena_alloc_pages */
	MOV_X(6, 0),
	LD_IMM64(1),                  /* 8: r1 = &bss[1] */
	STX_DW(1, 6, 0),
	LD_IMM64(2),                  /* 11: r2 = &rodata[0] */
	LDX_DW(3, 2, 0),
	LD_IMM64(7),                  /* 14: r7 = &bss[0] */
	LDX_DW(4, 7, 0),
	INSN(UA_ALU64 | UA_ADD | UA_X, 3, 4, 0, 0),
	INSN(UA_ALU64 | UA_MOV | UA_X, 6, 6, UA_ADDR_SPACE_CAST, UA_CAST_KERN),
	STX_DW(6, 3, 0),
	MOV_K(0, 0),
	EXIT(),
};

static const struct ua_kobj_reloc prog_relocs[] = {
	{ 0, UA_KOBJ_RELOC_MAP_FD, 0, 0, NULL },
	{ 6, UA_KOBJ_RELOC_KFUNC, 0, 0, "bpf_arena_alloc_pages" },
	{ 8, UA_KOBJ_RELOC_MAP_VALUE, 1, 8, NULL },
	{ 11, UA_KOBJ_RELOC_MAP_VALUE, 2, 0, NULL },
	{ 14, UA_KOBJ_RELOC_MAP_VALUE, 1, 0, NULL },
};

static const uint64_t bss_init[1] = { 7 };
static const uint64_t rodata_init[1] = { 1000 };
static const char arena_image[] = "hello, arena";

static void fill_desc(struct ua_kobj_desc *d, struct ua_kobj_map_desc *maps,
		      struct ua_kobj_prog_desc *prog)
{
	maps[0] = (struct ua_kobj_map_desc){
		.name = "arena",
		.attr = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = 4,
			  .map_flags = UA_KBPF_F_MMAPABLE },
		.init = arena_image, .init_size = sizeof(arena_image),
	};
	maps[1] = (struct ua_kobj_map_desc){
		.name = "obj.bss",
		.attr = { .map_type = UA_KBPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 16,
			  .max_entries = 1 },
		.init = bss_init, .init_size = sizeof(bss_init),
	};
	maps[2] = (struct ua_kobj_map_desc){
		.name = "obj.rodata",
		.attr = { .map_type = UA_KBPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
			  .max_entries = 1, .map_flags = UA_KBPF_F_RDONLY_PROG },
		.init = rodata_init, .init_size = sizeof(rodata_init), .freeze = true,
	};
	*prog = (struct ua_kobj_prog_desc){
		.name = "alloc_store",
		.prog_type = UA_KBPF_PROG_TYPE_SYSCALL,
		.prog_flags = UA_KBPF_F_SLEEPABLE,
		.insns = prog_insns,
		.insn_cnt = sizeof(prog_insns) / sizeof(prog_insns[0]),
		.relocs = prog_relocs,
		.n_relocs = sizeof(prog_relocs) / sizeof(prog_relocs[0]),
	};
	*d = (struct ua_kobj_desc){ .maps = maps, .n_maps = 3, .progs = prog, .n_progs = 1 };
}

TEST(kernel_obj, load_run_and_read_back)
{
	struct ua_kobj_map_desc maps[3];
	struct ua_kobj_prog_desc prog;
	struct ua_kobj_desc desc;
	struct ua_kobj *ko = NULL;
	uint64_t ctx[2] = { 0 }, bss[2] = { 0 };
	struct ua_kbpf_test_run run = { .ctx_in = ctx, .ctx_size_in = sizeof(ctx) };
	uint32_t key = 0;
	size_t arena_size = 0;
	uint8_t *arena;
	char err[2048] = "";

	ua_test_require_kbpf();
	fill_desc(&desc, maps, &prog);
	if (ua_kobj_load(&desc, &ko, err, sizeof(err)) != 0)
		ua_test_fail(__FILE__, __LINE__, "load: %s", err);
	REQUIRE(ko != NULL);
	arena = ua_kobj_arena_base(ko, 0, &arena_size);
	REQUIRE(arena != NULL);
	CHECK_EQ(arena_size, 4 * 4096);
	CHECK(ua_kobj_arena_base(ko, 1, NULL) == NULL);
	/* The image went in through the user view. */
	CHECK_STR((const char *)arena, "hello, arena");

	REQUIRE_EQ(ua_kobj_test_run(ko, 0, &run), 0);
	CHECK_EQ(run.retval, 0);
	REQUIRE_EQ(ua_kbpf_map_lookup(ua_kobj_map_fd(ko, 1), &key, bss, 0), 0);
	CHECK_EQ(bss[0], 7);
	/* Page 0 was faulted in by the image copy, so the allocation got page 1. */
	CHECK_EQ(bss[1], (uint64_t)(uintptr_t)(arena + 4096));
	CHECK_EQ(*(uint64_t *)(arena + 4096), 1007);
	/* .rodata is frozen: user space cannot change it any more. */
	CHECK_EQ(ua_kbpf_map_update(ua_kobj_map_fd(ko, 2), &key, &(uint64_t){ 1 }, 0), -EPERM);
	CHECK_EQ(ua_kobj_test_run(ko, 1, &run), -ENOENT);
	CHECK_EQ(ua_kobj_map_fd(ko, 3), -ENOENT);
	ua_kobj_close(ko);
}

struct bad_case {
	const char *what;
	struct ua_kobj_reloc reloc;
	int want;
	const char *msg;
};

TEST(kernel_obj, bad_relocations_are_named)
{
	static const struct bad_case cases[] = {
		{ "unknown kfunc", { 6, UA_KOBJ_RELOC_KFUNC, 0, 0, "bpf_no_such_kfunc" }, -ENOENT,
		  "kernel: prog 'alloc_store' insn 6: kfunc 'bpf_no_such_kfunc' not found in vmlinux BTF" },
		{ "kfunc on a mov", { 7, UA_KOBJ_RELOC_KFUNC, 0, 0, "bpf_arena_alloc_pages" }, -EINVAL,
		  "kernel: prog 'alloc_store' insn 7: kfunc relocation on a non-call insn (code 0xbf)" },
		{ "map on a call", { 6, UA_KOBJ_RELOC_MAP_FD, 0, 0, NULL }, -EINVAL,
		  "kernel: prog 'alloc_store' insn 6: map relocation on a non-ld_imm64 insn (code 0x85)" },
		{ "second half of ld_imm64", { 1, UA_KOBJ_RELOC_MAP_FD, 0, 0, NULL }, -EINVAL,
		  "insn 1: map relocation on a non-ld_imm64 insn" },
		{ "map index", { 0, UA_KOBJ_RELOC_MAP_FD, 9, 0, NULL }, -EINVAL,
		  "kernel: prog 'alloc_store' insn 0: map index 9 out of range (3 maps)" },
		{ "past the end", { 500, UA_KOBJ_RELOC_MAP_FD, 0, 0, NULL }, -EINVAL,
		  "kernel: prog 'alloc_store': relocation at insn 500 past the end (22 insns)" },
	};
	struct ua_kobj_map_desc maps[3];
	struct ua_kobj_prog_desc prog;
	struct ua_kobj_desc desc;
	struct ua_kobj_reloc relocs[sizeof(prog_relocs) / sizeof(prog_relocs[0]) + 1];

	ua_test_require_kbpf();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ua_kobj *ko = (struct ua_kobj *)1;
		char err[512] = "";

		fill_desc(&desc, maps, &prog);
		memcpy(relocs, prog_relocs, sizeof(prog_relocs));
		relocs[prog.n_relocs] = cases[i].reloc;
		prog.relocs = relocs;
		prog.n_relocs++;
		CHECK_EQ(ua_kobj_load(&desc, &ko, err, sizeof(err)), cases[i].want);
		CHECK(ko == NULL);
		CHECK_CONTAINS(err, cases[i].msg);
	}
}

/* A verifier rejection of an object program carries the log, and the maps are released. */
TEST(kernel_obj, verifier_rejection_names_program)
{
	struct ua_kobj_map_desc maps[3];
	struct ua_kobj_prog_desc prog;
	struct ua_kobj_desc desc;
	struct ua_kobj *ko = NULL;
	char err[1024] = "";

	ua_test_require_kbpf();
	fill_desc(&desc, maps, &prog);
	/* Arena kfuncs need a sleepable program on 6.18; XDP programs are not. */
	prog.prog_type = UA_KBPF_PROG_TYPE_XDP;
	prog.prog_flags = 0;
	CHECK_EQ(ua_kobj_load(&desc, &ko, err, sizeof(err)), -EACCES);
	CHECK_CONTAINS(err, "kernel: verifier rejected program 'alloc_store'");
	CHECK_CONTAINS(err, "program must be sleepable to call sleepable kfunc bpf_arena_alloc_pages");
}

TEST(kernel_obj, arena_image_must_fit)
{
	struct ua_kobj_map_desc maps[3];
	struct ua_kobj_prog_desc prog;
	struct ua_kobj_desc desc;
	struct ua_kobj *ko = NULL;
	char err[512] = "";

	ua_test_require_kbpf();
	fill_desc(&desc, maps, &prog);
	maps[0].init_offset = 4 * 4096 - 4;
	CHECK_EQ(ua_kobj_load(&desc, &ko, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "kernel: map 0 'arena': arena image (13 bytes at 16380) exceeds the arena");
	maps[0].init_offset = 4 * 4096 - sizeof(arena_image);
	REQUIRE_EQ(ua_kobj_load(&desc, &ko, err, sizeof(err)), 0);
	CHECK_STR((const char *)ua_kobj_arena_base(ko, 0, NULL) + 4 * 4096 - sizeof(arena_image),
		  "hello, arena");
	ua_kobj_close(ko);
}

/*
 * An arena whose map_extra this process already uses (uarena's own arena
 * when diffing): a plain load refuses to replace the mapping (-EEXIST), and
 * mmap_in_child maps and fills it from a child instead.
 */
TEST(kernel_obj, arena_mapped_in_child_when_the_address_is_taken)
{
	const uint64_t at = (1ull << 45) + (3ull << 32);
	struct ua_kobj_map_desc maps[3];
	struct ua_kobj_prog_desc prog;
	struct ua_kobj_desc desc;
	struct ua_kobj *ko = NULL;
	uint64_t ctx[2] = { 0 }, bss[2] = { 0 };
	struct ua_kbpf_test_run run = { .ctx_in = ctx, .ctx_size_in = sizeof(ctx) };
	uint32_t key = 0;
	char err[2048] = "";
	void *taken;

	ua_test_require_kbpf();
	taken = mmap((void *)(uintptr_t)at, 4 * 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	REQUIRE(taken == (void *)(uintptr_t)at);
	REQUIRE_EQ(madvise(taken, 4 * 4096, MADV_DONTFORK), 0);
	fill_desc(&desc, maps, &prog);
	maps[0].attr.map_extra = at;

	CHECK_EQ(ua_kobj_load(&desc, &ko, err, sizeof(err)), -EEXIST);
	CHECK_CONTAINS(err, "kernel: map 0 'arena': mmap of arena: ");

	maps[0].mmap_in_child = true;
	if (ua_kobj_load(&desc, &ko, err, sizeof(err)) != 0)
		ua_test_fail(__FILE__, __LINE__, "load: %s", err);
	REQUIRE(ko != NULL);
	CHECK(ua_kobj_arena_base(ko, 0, NULL) == NULL);
	REQUIRE_EQ(ua_kobj_test_run(ko, 0, &run), 0);
	REQUIRE_EQ(ua_kbpf_map_lookup(ua_kobj_map_fd(ko, 1), &key, bss, 0), 0);
	/* The child's image copy took page 0; the allocation is page 1 at map_extra. */
	CHECK_EQ(bss[1], at + 4096);
	/* Our own mapping is still there, untouched. */
	CHECK_EQ(mprotect(taken, 4 * 4096, PROT_NONE), 0);
	ua_kobj_close(ko);
	munmap(taken, 4 * 4096);
}
