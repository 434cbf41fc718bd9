/* SPDX-License-Identifier: MIT */
/*
 * The bpf_conformance plugin semantics (Alan-Jowett/bpf_conformance and
 * the ubpf plugin it was written against): the program gets r1 = the test's
 * memory and r2 = its length; helper 5 is "unwind", which returns its
 * argument and, when that argument is 0, ends the program with r0 = 0 (ubpf's
 * unwind_stack_extension_index). No other helper exists. The memory is a
 * private mapping so the vector cannot touch anything else with bounds
 * checks on, and so its address is above 4 GiB like every host pointer.
 */
#include <sys/mman.h>

#include "interp.h"

#include "internal.h"
#include "jit.h"

static uint64_t unwind_helper(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
			      uint64_t r4, uint64_t r5)
{
	if (r1 == 0)
		ex->exit_now = true;
	return r1;
}

static ua_helper_fn conformance_helper(void *ctx, int32_t id, const char **name)
{
	if (id != UA_CONFORMANCE_UNWIND_HELPER)
		return NULL;
	*name = "unwind";
	return unwind_helper;
}

/* A register map unlike the default one: every BPF register moves. */
static const uint8_t shuffled_regmap[UA_MAX_BPF_REG] = { 13, 3, 1, 9, 5, 0, 2, 6, 7, 8, 14 };

static int run_engine(struct ua_prog *prog, struct ua_exec *ex, const uint64_t args[5],
		      uint64_t *r0, enum ua_interp_dispatch how, char *err, size_t err_sz)
{
	struct ua_jit_opts jo = { how == UA_DISPATCH_JIT_SHUFFLED ? shuffled_regmap : NULL };
	struct ua_jit_prog *jp;
	int ret;

	if (how != UA_DISPATCH_JIT && how != UA_DISPATCH_JIT_SHUFFLED)
		return ua_interp_run_with(prog, ex, args, r0, how);
	if (how == UA_DISPATCH_JIT) { /* the dispatcher every other user goes through */
		ret = ua_prog_enable_jit(prog, err, err_sz);
		return ret ? ret : ua_prog_run(prog, ex, args, r0);
	}
	ret = ua_jit_compile(prog, &jo, err, err_sz, &jp);
	if (ret)
		return ret;
	ret = ua_jit_run(jp, ex, args, r0);
	ua_jit_free(jp);
	return ret;
}

int ua_conformance_run(const struct ua_insn *insns, size_t n, const uint8_t *mem, size_t mem_len,
		       enum ua_interp_dispatch how, bool bounds_check, uint64_t *r0, char *err,
		       size_t err_sz)
{
	const struct ua_call_resolver res = { .helper = conformance_helper };
	struct ua_exec ex = { .bounds_check = bounds_check };
	struct ua_mem_region region;
	size_t map_len = UA_ROUND_UP(mem_len ? mem_len : 1, 4096);
	struct ua_prog *prog = NULL;
	uint64_t args[5] = { 0 };
	uint8_t *copy;
	int ret;

	ret = ua_prog_prepare(insns, n, &res, err, err_sz, &prog);
	if (ret)
		return ret;
	copy = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED) {
		ua_prog_free(prog);
		return ua_errf(err, err_sz, -ENOMEM, "conformance: cannot map %zu bytes of memory",
			       mem_len);
	}
	if (mem_len)
		memcpy(copy, mem, mem_len);
	region = (struct ua_mem_region){ (uintptr_t)copy, (uintptr_t)copy + mem_len, true };
	ex.regions = &region;
	ex.n_regions = 1;
	args[0] = mem_len ? (uintptr_t)copy : 0;
	args[1] = mem_len;
	ret = run_engine(prog, &ex, args, r0, how, err, err_sz);
	if (ret)
		ua_errf(err, err_sz, ret, "%s", ex.err);
	munmap(copy, map_len);
	ua_prog_free(prog);
	return ret;
}
