/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for program preparation and the interpreter (libFuzzer entry
 * point; tests/test_progs_fuzz.c and fuzz/replay.c call it without
 * libFuzzer). There is no verifier in front of the interpreter, so hostile
 * instructions must be refused by ua_prog_prepare() or stopped at run time
 * (-EFAULT, -ETIME, ...) -- never crash, hang or touch host memory outside
 * the run stack, the input buffer and the arena.
 *
 * Input: byte 0 chooses the setup (bit 0: arena attached, bit 1: kernel_strict),
 * byte 1 the input buffer length (r1 points to it, r2 = its length: the raw
 * convention), then that many input bytes, then instruction slots. Calls
 * resolve to every built-in helper by id; kfunc calls (src_reg 2) to the
 * non-map kfuncs by imm index; ld_imm64 BPF_PSEUDO_MAP_VALUE on map 0 to an
 * arena address. A prepare failure must say why ("isa: " / "prog: ").
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "arena.h"
#include "helpers.h"
#include "prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INSN_BUDGET 20000
#define FUZZ_ARENA_PAGES 4

/* Kfuncs a program can reach without a map pointer from the loader. */
static const char *const fuzz_kfuncs[] = {
	"bpf_arena_alloc_pages", "bpf_arena_free_pages", "bpf_arena_reserve_pages",
	"bpf_iter_num_new",      "bpf_iter_num_next",    "bpf_iter_num_destroy",
	"bpf_preempt_disable",   "bpf_preempt_enable",   "bpf_local_irq_save",
	"bpf_local_irq_restore",
};

static ua_helper_fn fuzz_helper(void *ctx, int32_t id, const char **name)
{
	const struct ua_helper_def *d = ua_helper_by_id(id);

	if (!d)
		return NULL;
	*name = d->name;
	return d->fn;
}

static ua_helper_fn fuzz_kfunc(void *ctx, int32_t imm, const char **name)
{
	const struct ua_helper_def *d;

	if (imm < 0 || (size_t)imm >= sizeof(fuzz_kfuncs) / sizeof(fuzz_kfuncs[0]))
		return NULL;
	d = ua_kfunc_by_name(fuzz_kfuncs[imm]);
	if (!d)
		return NULL;
	*name = d->name;
	return d->fn;
}

static int fuzz_ld_imm64(void *ctx, const struct ua_insn insn[2], size_t idx, uint64_t *value)
{
	struct ua_arena *a = ctx;
	uint32_t off = (uint32_t)insn[1].imm;

	if (!a || insn[0].src_reg != UA_PSEUDO_MAP_VALUE || insn[0].imm != 0 ||
	    off > ua_arena_size(a))
		return -EINVAL;
	*value = (uintptr_t)ua_arena_user_base(a) + off;
	return 0;
}

static int prog_trace(struct ua_exec *ex, const char *msg, size_t len)
{
	return 0; /* printk output is formatted, then dropped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_arena *arena = NULL;
	struct ua_prog *prog = NULL;
	struct ua_insn *insns;
	uint8_t *input;
	size_t in_len, n;
	char err[256] = "";
	int ret;

	if (size < 2)
		return 0;
	in_len = data[1];
	if (size < 2 + in_len)
		return 0;
	n = (size - 2 - in_len) / sizeof(struct ua_insn);
	insns = malloc(n * sizeof(*insns) + 1);
	input = malloc(in_len + 1);
	if (!insns || !input)
		goto out;
	memcpy(input, data + 2, in_len);
	memcpy(insns, data + 2 + in_len, n * sizeof(*insns));
	if (data[0] & 1) {
		UA_OPTS(ua_arena_opts, ao, .max_entries = FUZZ_ARENA_PAGES,
			.map_flags = UA_F_MMAPABLE);

		if (ua_arena_create(&ao, &arena))
			goto out;
	}
	struct ua_call_resolver res = {
		.helper = fuzz_helper,
		.kfunc = fuzz_kfunc,
		.ld_imm64 = fuzz_ld_imm64,
		.ctx = arena,
		.has_arena = arena != NULL,
		.kernel_strict = data[0] & 2,
	};
	ret = ua_prog_prepare(insns, n, &res, err, sizeof(err), &prog);
	if (ret) {
		if (!memchr(err, '\0', sizeof(err)) || (strncmp(err, "isa: ", 5) &&
							strncmp(err, "prog: ", 6))) {
			fprintf(stderr, "fuzz_prog: prepare failed (%d) without a reason: '%.*s'\n",
				ret, (int)sizeof(err), err);
			abort();
		}
		goto out;
	}
	struct ua_mem_region regions[1] = { { (uintptr_t)input, (uintptr_t)input + in_len, true } };
	struct ua_exec ex = {
		.arena = arena,
		.arena_base = arena ? ua_arena_prog_base(arena) : NULL,
		.insn_budget = FUZZ_INSN_BUDGET,
		.bounds_check = true,
		.regions = regions,
		.n_regions = in_len ? 1 : 0,
		.trace = prog_trace,
	};
	const uint64_t args[5] = { in_len ? (uintptr_t)input : 0, in_len, 0, 0, 0 };
	uint64_t r0;

	ret = ua_interp_run(prog, &ex, args, &r0);
	if (ret && !memchr(ex.err, '\0', sizeof(ex.err)))
		abort();
out:
	ua_prog_free(prog);
	ua_arena_destroy(arena);
	free(insns);
	free(input);
	return 0;
}
