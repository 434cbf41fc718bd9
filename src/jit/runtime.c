/* SPDX-License-Identifier: MIT */
/*
 * The JIT's run time: ua_jit_run sets up a run exactly like the interpreter
 * (a run stack of UA_MAX_CALL_DEPTH frames on the host thread's stack, the
 * top frame zeroed, r1..r5 = args, r10 = top of stack) and enters the code;
 * the slow paths the code calls keep the interpreter's semantics and error
 * messages word for word (memory checks against the stack and ex->regions,
 * atomics, callx, cast_user, call depth), so both engines fail the same way.
 */
#include "jit_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "internal.h"
#include "probe.h"

#define RUN_STACK_SIZE (UA_MAX_CALL_DEPTH * UA_STACK_SIZE)

__attribute__((format(printf, 3, 4), cold))
static int run_error(struct jit_run *run, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->ex->err, sizeof(run->ex->err), fmt, ap);
	va_end(ap);
	run->status = err;
	return err;
}

int ua_jit_fail(struct jit_run *run, uint64_t kind, uint64_t idx)
{
	uint64_t budget = run->ex->insn_budget ? run->ex->insn_budget : UA_DEFAULT_INSN_BUDGET;

	if (kind == JIT_FAIL_DEPTH)
		return run_error(run, -E2BIG, "insn %llu: the call stack of %u frames is too deep",
				 (unsigned long long)idx, run->depth + 2);
	if (kind == JIT_FAIL_BUDGET)
		return run_error(run, -ETIME, "insn %llu: instruction budget of %llu exhausted",
				 (unsigned long long)idx, (unsigned long long)budget);
	return run_error(run, -EINVAL, "insn %llu: arena access but no arena is attached to the run",
			 (unsigned long long)idx);
}

static bool region_ok(const struct ua_exec *ex, uint64_t a, unsigned size, bool write)
{
	for (size_t i = 0; ex->regions && i < ex->n_regions; i++) {
		const struct ua_mem_region *r = &ex->regions[i];

		if (a >= r->start && a < r->end && r->end - a >= size)
			return !write || r->writable;
	}
	return false;
}

static bool mem_ok(const struct jit_run *run, uint64_t a, unsigned size, bool write)
{
	if (a - run->stack_lo <= run->stack_len - size)
		return true;
	if (!run->ex->bounds_check || region_ok(run->ex, a, size, write))
		return true;
	/* A callback may use pointers into the stacks of the runs that called it. */
	for (const struct jit_run *o = run->outer; o; o = o->outer)
		if (a - o->stack_lo <= o->stack_len - size)
			return true;
	return false;
}

/* Remembers the region a checked access found, for the inline check. */
static void cache_region(struct jit_run *run, uint64_t a, unsigned size, bool write)
{
	const struct ua_exec *ex = run->ex;

	if (!ex->bounds_check) { /* everything is allowed */
		run->load_lo = run->store_lo = 0;
		run->load_len = run->store_len = UINT64_MAX;
		return;
	}
	for (size_t i = 0; ex->regions && i < ex->n_regions; i++) {
		const struct ua_mem_region *r = &ex->regions[i];

		if (a >= r->start && a < r->end && r->end - a >= size) {
			if (write) {
				run->store_lo = r->start;
				run->store_len = r->end - r->start;
			} else {
				run->load_lo = r->start;
				run->load_len = r->end - r->start;
			}
			return;
		}
	}
}

int ua_jit_mem_slow(struct jit_run *run, uint64_t addr, uint64_t size_write, uint64_t idx)
{
	unsigned size = size_write & 0xff;
	bool write = size_write & 0x100;

	if (mem_ok(run, addr, size, write)) {
		cache_region(run, addr, size, write);
		return 0;
	}
	if (write && region_ok(run->ex, addr, size, false))
		return run_error(run, -EFAULT,
				 "insn %llu: write into read-only memory 0x%llx (size %u)",
				 (unsigned long long)idx, (unsigned long long)addr, size);
	return run_error(run, -EFAULT, "insn %llu: invalid memory access 0x%llx (size %u)",
			 (unsigned long long)idx, (unsigned long long)addr, size);
}

/* A callee's frame is zeroed the first time this run reaches it, like the interpreter. */
int ua_jit_zero_frame(struct jit_run *run, uint64_t unused1, uint64_t unused2, uint64_t unused3)
{
	memset((void *)run->stack_lo, 0, UA_STACK_SIZE);
	run->zeroed_lo = run->stack_lo;
	return 0;
}

int ua_jit_atomic(struct jit_run *run, uint64_t idx)
{
	const struct interp_insn *in = &run->jp->prog->insns[idx];
	int32_t op = (int32_t)in->imm;
	unsigned size = in->size;
	uint64_t *reg = run->regs;
	uint64_t base = reg[op == UA_LOAD_ACQ ? in->src : in->dst], old = 0, val = reg[in->src];
	bool done;

	if (run->jp->prog->has_arena && (base >> 32) == 0) {
		if (!run->arena_base)
			return run_error(run, -EINVAL,
					 "insn %llu: arena access but no arena is attached to the run",
					 (unsigned long long)idx);
		done = ua_probe_atomic(ua_arena_prog_addr(run->arena_base, base, (int16_t)in->off),
				       size, op, val, reg[0], &old);
		if (!done) {
			if (op == UA_LOAD_ACQ)
				reg[in->dst] = 0;
			return 0;
		}
	} else {
		uint64_t a = base + (int64_t)in->off;

		if (!mem_ok(run, a, size, op != UA_LOAD_ACQ))
			return run_error(run, -EFAULT,
					 "insn %llu: invalid memory access 0x%llx (size %u)",
					 (unsigned long long)idx, (unsigned long long)a, size);
		if (a & (size - 1))
			return run_error(run, -EFAULT,
					 "insn %llu: misaligned atomic access 0x%llx (size %u)",
					 (unsigned long long)idx, (unsigned long long)a, size);
		cache_region(run, a, size, op != UA_LOAD_ACQ);
		done = ua_host_atomic((void *)(uintptr_t)a, size, op, val, reg[0], &old);
		if (UA_NEVER(!done))
			return run_error(run, -EFAULT, "insn %llu: invalid atomic operation 0x%x",
					 (unsigned long long)idx, op);
	}
	if (op == UA_LOAD_ACQ)
		reg[in->dst] = old;
	else if (op == UA_CMPXCHG)
		reg[0] = size == 4 ? (uint32_t)old : old;
	else if (op & UA_FETCH)
		reg[in->src] = size == 4 ? (uint32_t)old : old;
	return 0;
}

int ua_jit_callx(struct jit_run *run, uint64_t idx)
{
	const struct ua_prog *p = run->jp->prog;
	uint64_t *reg = run->regs;
	uint64_t id = reg[p->insns[idx].dst];
	const char *name = NULL;
	ua_helper_fn fn = NULL;

	if (id <= INT32_MAX && p->res.helper)
		fn = p->res.helper(p->res.ctx, (int32_t)id, &name);
	if (!fn)
		return run_error(run, -EINVAL, "insn %llu: callx to unknown helper id %llu",
				 (unsigned long long)idx, (unsigned long long)id);
	reg[0] = fn(run->ex, reg[1], reg[2], reg[3], reg[4], reg[5]);
	return 0;
}

int ua_jit_cast_user(struct jit_run *run, uint64_t idx)
{
	const struct interp_insn *in = &run->jp->prog->insns[idx];

	if (!run->ex->arena)
		return run_error(run, -EINVAL,
				 "insn %llu: arena access but no arena is attached to the run",
				 (unsigned long long)idx);
	run->regs[in->dst] = ua_arena_cast_user(run->ex->arena, run->regs[in->src]);
	return 0;
}

/* The interpreter runs what the code cannot: see ua_jit_fallback_reason. */
static bool needs_interpreter(const struct ua_jit_prog *jp, const struct ua_exec *ex)
{
	if (jp->fallback)
		return true;
	/* Checked fault path: touching an unbacked page of a shared file would
	 * allocate it, so every access must ask the probe first. */
	return jp->prog->has_arena && ex->arena &&
	       ua_arena_fault_path(ex->arena) == UA_ARENA_FAULT_CHECKED;
}

/* One run from insn start on a fresh stack; outer: the run calling a callback. */
static int run_from(const struct ua_jit_prog *jp, struct ua_exec *ex, size_t start,
		    const uint64_t args[5], uint64_t *r0, const struct jit_run *outer)
{
	uint8_t stack[RUN_STACK_SIZE] __attribute__((aligned(16)));
	uintptr_t saved_stack_lo = ex->stack_lo, saved_stack_hi = ex->stack_hi;
	uintptr_t top = (uintptr_t)stack + RUN_STACK_SIZE;
	const void *saved_run = ex->jit_run;
	struct jit_run run;
	int ret;

	/* A stack below 4 GiB would look like an arena pointer. */
	if (UA_NEVER(outer && (uintptr_t)stack >> 32 == 0))
		return -EFAULT;
	ex->err[0] = '\0';
	ex->exit_now = false;
	memset(stack + RUN_STACK_SIZE - UA_STACK_SIZE, 0, UA_STACK_SIZE);
	run = (struct jit_run){
		.budget = ex->insn_budget ? ex->insn_budget : UA_DEFAULT_INSN_BUDGET,
		.loops_left = JIT_MAY_GOTO_BUDGET,
		.stack_lo = top - UA_STACK_SIZE,
		.stack_len = UA_STACK_SIZE,
		.arena_base = ex->arena_base,
		.ex = ex,
		.jp = jp,
		.outer = outer,
		.start = (uintptr_t)jp->code + jp->insn_off[start],
		.zeroed_lo = top - UA_STACK_SIZE,
	};
	if (args)
		memcpy(&run.regs[1], args, 5 * sizeof(run.regs[0]));
	run.regs[10] = top;
	ex->stack_lo = run.stack_lo;
	ex->stack_hi = top;
	ex->jit_run = &run;
	ret = jp->entry(&run);
	ex->jit_run = saved_run;
	ex->stack_lo = saved_stack_lo;
	ex->stack_hi = saved_stack_hi;
	if (!ret && ex->interp_abort)
		ret = ex->interp_abort; /* a callback failed inside a helper */
	if (r0)
		*r0 = ret ? 0 : run.regs[0];
	return ret;
}

int ua_jit_run(const struct ua_jit_prog *jp, struct ua_exec *ex, const uint64_t args[5],
	       uint64_t *r0)
{
	uint8_t probe;

	if (!jp || !ex)
		return -EINVAL;
	/* A stack below 4 GiB would look like an arena pointer: the interpreter maps one. */
	if (needs_interpreter(jp, ex) || (uintptr_t)&probe >> 32 == 0)
		return ua_interp_run(jp->prog, ex, args, r0);
	ex->interp_abort = 0;
	ex->interp_nesting = 0;
	ex->interp_prog = NULL;
	ex->interp_env = NULL;
	return run_from(jp, ex, 0, args, r0, NULL);
}

/* ua_interp_callback while a JIT run is active: same checks, same messages. */
int ua_jit_callback(struct ua_exec *ex, uint64_t func, const uint64_t args[5], uint64_t *r0)
{
	const struct jit_run *run = ex->jit_run;
	size_t idx;
	int ret;

	ret = ua_callback_target(ex, run->jp->prog, func, &idx);
	if (ret)
		return ret;
	ex->interp_nesting++;
	ret = run_from(run->jp, ex, idx, args, r0, run);
	ex->interp_nesting--;
	return ua_callback_finish(ex, ret);
}
