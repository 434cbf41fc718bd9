/* SPDX-License-Identifier: MIT */
/*
 * Prepared programs (owner: interp module): raw insns validated once
 * (isa.c), calls and ld_imm64 pseudo constants resolved once through the
 * caller's resolver, and translated into the interpreter's internal form.
 * A prepared program is immutable, so any number of threads may run it at
 * once, each with its own struct ua_exec.
 */
#ifndef UA_PROG_H
#define UA_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uarena/insn.h>

#include "exec.h"

struct ua_prog;

struct ua_call_resolver {
	/* helper call (src 0): imm = kernel helper id. Return NULL if unknown. */
	ua_helper_fn (*helper)(void *ctx, int32_t id, const char **name);
	/* kfunc call (src 2): imm as in the insn (a registry index set by the loader). */
	ua_helper_fn (*kfunc)(void *ctx, int32_t imm, const char **name);
	/* ld_imm64 with src_reg != 0: produce the 64-bit constant (map pointer, value address...). */
	int (*ld_imm64)(void *ctx, const struct ua_insn insn[2], size_t insn_idx, uint64_t *value);
	void *ctx;
	/* The program has an arena: addr_space_cast is allowed, and at run time
	 * pointers with upper 32 bits zero are arena pointers (see exec.h). */
	bool has_arena;
	/* Reject what the kernel verifier rejects but RFC 9669 defines (shift by an
	 * immediate >= width, division by an immediate 0, callx): see isa.h. */
	bool kernel_strict;
};

/*
 * Validates insns[0..n) (see ua_isa_validate) and resolves every helper,
 * kfunc and pseudo ld_imm64 through res (NULL = none: any call or pseudo
 * ld_imm64 is rejected). callx (conformance-suite extension) resolves its
 * helper at run time through res->helper, so res must outlive the program
 * when the program uses callx. Returns 0 and *out, or -errno with err filled
 * ("isa: insn N: ..." / "prog: insn N: ...").
 */
int ua_prog_prepare(const struct ua_insn *insns, size_t n, const struct ua_call_resolver *res,
		    char *err, size_t err_sz, struct ua_prog **out);
void ua_prog_free(struct ua_prog *p);

size_t ua_prog_insn_count(const struct ua_prog *p);

/*
 * Runs p from insn 0 with r1..r5 = args (NULL = all zero). Returns 0 and
 * sets *r0, or -errno with ex->err "insn N: ...":
 *   -EFAULT  memory access outside the stack/regions (bounds_check on)
 *   -ETIME   ex->insn_budget instructions executed (0 = UA_DEFAULT_INSN_BUDGET)
 *   -E2BIG   bpf-to-bpf call deeper than UA_MAX_CALL_DEPTH frames
 *   -EINVAL  callx to an unknown helper; arena access with no ex->arena
 *   -ENOMEM  no memory for the run stack
 * A helper ends the run early, successfully, by setting ex->exit_now (its
 * return value becomes r0).
 */
#define UA_DEFAULT_INSN_BUDGET (1ull << 32)
int ua_interp_run(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		  uint64_t *r0);

/*
 * Callbacks (bpf_loop, bpf_for_each_map_elem, ...): ld_imm64 with src_reg
 * UA_PSEUDO_FUNC is resolved by prepare itself (the resolver never sees it)
 * to an opaque value naming the subprogram. A helper running on ex calls it
 * with r1..r5 = args through ua_interp_callback(); the callback runs on a
 * fresh stack (the caller's stacks stay accessible), with its own
 * instruction budget, nested at most UA_MAX_CALL_DEPTH deep. On failure the
 * helper should return; the outer run then stops with the callback's error.
 */
int ua_interp_callback(struct ua_exec *ex, uint64_t func, const uint64_t args[5],
		       uint64_t *r0);

/* Dispatch flavours, for tests and benchmarks (ua_interp_run picks the fastest). */
enum ua_interp_dispatch {
	UA_DISPATCH_SWITCH,
	UA_DISPATCH_THREADED, /* computed goto; falls back to switch where unsupported */
	/* Not interpreter flavours: engines for ua_conformance_run (interp.h) and tests. */
	UA_DISPATCH_JIT,          /* x86-64 JIT (jit.h); the interpreter where unsupported */
	UA_DISPATCH_JIT_SHUFFLED, /* the JIT with a scrambled register map */
};
int ua_interp_run_with(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		       uint64_t *r0, enum ua_interp_dispatch how);

#endif
