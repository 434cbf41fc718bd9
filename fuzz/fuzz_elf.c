/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the ELF/BTF loader (libFuzzer entry point;
 * tests/test_progs_fuzz.c and fuzz/replay.c call it without libFuzzer).
 *
 * The input is a whole object file handed to ua_object_open_mem(). An open
 * either fails with a message in err_buf, or yields an object whose programs
 * and maps can be listed; each prepared program is then run once, as a test
 * run would, but with a small instruction budget (an object's program may
 * loop for ever, which is not a loader bug). Programs in a clang-built
 * object are as hostile as raw bytes: the run must end in a result or an
 * error, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "arena.h"
#include "loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INSN_BUDGET 20000

static int fuzz_trace(void *ctx, const char *msg, size_t len)
{
	return 0;
}

static int fuzz_exec_trace(struct ua_exec *ex, const char *msg, size_t len)
{
	return 0;
}

/* One budgeted run with the object's regions plus a 64-byte ctx/data buffer. */
static void run_prog(struct ua_object *obj, struct ua_program *p)
{
	uint64_t buf[8] = { 0 };
	struct ua_mem_region *regions = calloc(obj->n_regions + 1, sizeof(*regions));
	uint64_t r0;

	if (!regions)
		return;
	memcpy(regions, obj->regions, obj->n_regions * sizeof(*regions));
	regions[obj->n_regions] =
		(struct ua_mem_region){ (uintptr_t)buf, (uintptr_t)buf + sizeof(buf), true };
	struct ua_exec ex = {
		.arena = obj->arena ? obj->arena->arena : NULL,
		.arena_base = obj->arena ? ua_arena_prog_base(obj->arena->arena) : NULL,
		.insn_budget = FUZZ_INSN_BUDGET,
		.bounds_check = true,
		.regions = regions,
		.n_regions = obj->n_regions + 1,
		.trace = fuzz_exec_trace,
	};
	const uint64_t args[5] = { (uintptr_t)buf, sizeof(buf), 0, 0, 0 };

	if (ua_interp_run(p->prog, &ex, args, &r0) && !memchr(ex.err, '\0', sizeof(ex.err)))
		abort();
	free(regions);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_object *obj = NULL;
	char err[512] = "";
	int ret;

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err), .nr_cpus = 1,
		.trace = fuzz_trace, .object_name = "fuzz");
	ret = ua_object_open_mem(data, size, &oo, &obj);
	if (ret) {
		if (ret >= 0 || !err[0] || !memchr(err, '\0', sizeof(err))) {
			fprintf(stderr, "fuzz_elf: open failed (%d) without a reason\n", ret);
			abort();
		}
		return 0;
	}
	for (struct ua_map *m = ua_object_next_map(obj, NULL); m; m = ua_object_next_map(obj, m))
		if (!ua_map_name(m))
			abort();
	for (struct ua_program *p = ua_object_next_program(obj, NULL); p;
	     p = ua_object_next_program(obj, p)) {
		size_t n;

		if (!ua_program_name(p) || !ua_program_section(p))
			abort();
		ua_program_insns(p, &n);
		if (ua_program_prepared(p))
			run_prog(obj, p);
	}
	ua_object_close(obj);
	return 0;
}
