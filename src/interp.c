/* SPDX-License-Identifier: MIT */
/*
 * The BPF interpreter: runs a prepared program (prog.c) on one struct
 * ua_exec. Model:
 *
 * - Registers r0..r10 live in a local array; r10 starts at the top of a
 *   run stack of UA_MAX_CALL_DEPTH frames of UA_STACK_SIZE bytes, and each
 *   bpf-to-bpf call moves it down one frame. The caller's r6..r9 (and its
 *   may_goto count) are saved in a frame record and restored on exit, so a
 *   callee that clobbers them cannot hurt its caller (the kernel's
 *   interpreter gets the same effect from a fresh register file per call).
 * - The run stack is an array on the host thread's stack, which on
 *   Linux is mapped above 4 GiB, so a stack address never has its upper 32
 *   bits zero and is never mistaken for an arena pointer; if it ever were
 *   below 4 GiB, the run takes a mmap()ed stack instead.
 * - Memory: in a program with an arena, a base register whose upper 32 bits
 *   are zero is an arena pointer and goes through ua_probe_*() at
 *   arena_base + lo32 + off (unallocated pages read 0, stores are dropped).
 *   Any other address must lie in an active frame of the run stack (the
 *   current one and its callers'; each frame is zeroed the first time a
 *   run enters it, so no host data ever shows through) or in
 *   ex->regions (writes: writable regions) when ex->bounds_check is set,
 *   else the run stops with -EFAULT "insn N: invalid memory access 0x...
 *   (size S)".
 * - Every executed insn is charged against ex->insn_budget; may_goto counts
 *   down from UA_MAY_GOTO_BUDGET per subprogram invocation, like the
 *   kernel's hidden stack slot.
 *
 * The loop (interp_body.h) is compiled twice: switch dispatch and threaded
 * (computed goto) dispatch; ua_interp_run uses the threaded one.
 */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdlib.h>

#include "interp.h" /* first: declares struct ua_arena for arena.h */

#include "arena.h"
#include "internal.h"
#include "jit.h"
#include "probe.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter's to-le/to-be ops assume a little-endian host"
#endif

/* Kernel BPF_MAX_LOOPS: may_goto falls through this many times per frame. */
#define UA_MAY_GOTO_BUDGET (8ull * 1024 * 1024)
#define RUN_STACK_SIZE (UA_MAX_CALL_DEPTH * UA_STACK_SIZE)

struct mem_env {
	uintptr_t stack_lo;
	size_t stack_len;
	bool bounds_check;
	const struct ua_mem_region *regions;
	size_t n_regions;
	const struct mem_env *outer; /* the run a callback was called from */
	uintptr_t zeroed_lo;         /* frames from here up have been zeroed this run */
};

struct call_frame {
	const struct interp_insn *ret;
	uint64_t saved[4]; /* caller's r6..r9 */
	uint64_t loops_left;
};

__attribute__((format(printf, 4, 5), cold, noinline))
static int run_error(struct ua_exec *ex, int err, size_t idx, const char *fmt, ...)
{
	int len = snprintf(ex->err, sizeof(ex->err), "insn %zu: ", idx);
	va_list ap;

	if (len < 0 || (size_t)len >= sizeof(ex->err))
		return err;
	va_start(ap, fmt);
	vsnprintf(ex->err + len, sizeof(ex->err) - (size_t)len, fmt, ap);
	va_end(ap);
	return err;
}

__attribute__((noinline))
static bool region_ok(const struct mem_env *env, uint64_t a, unsigned size, bool write)
{
	for (size_t i = 0; i < env->n_regions; i++) {
		const struct ua_mem_region *r = &env->regions[i];

		if (a >= r->start && a < r->end && r->end - a >= size)
			return !write || r->writable;
	}
	/* A callback may use pointers into the stacks of the runs that called it. */
	for (const struct mem_env *o = env->outer; o; o = o->outer)
		if (a - o->stack_lo <= o->stack_len - size)
			return true;
	return false;
}

static inline bool mem_ok(const struct mem_env *env, uint64_t a, unsigned size, bool write)
{
	if (likely(a - env->stack_lo <= env->stack_len - size))
		return true;
	if (!env->bounds_check)
		return true;
	return region_ok(env, a, size, write);
}

static inline uint64_t sdiv64(uint64_t d, int64_t s)
{
	if (s == 0)
		return 0;
	if (s == -1)
		return 0 - d; /* INT64_MIN / -1 = INT64_MIN, without overflow */
	return (uint64_t)((int64_t)d / s);
}

static inline uint64_t smod64(uint64_t d, int64_t s)
{
	if (s == 0)
		return d;
	if (s == -1)
		return 0;
	return (uint64_t)((int64_t)d % s);
}

static inline uint32_t sdiv32(uint64_t d, uint64_t s64)
{
	int32_t s = (int32_t)s64;

	if (s == 0)
		return 0;
	if (s == -1)
		return 0 - (uint32_t)d;
	return (uint32_t)((int32_t)d / s);
}

static inline uint32_t smod32(uint64_t d, uint64_t s64)
{
	int32_t s = (int32_t)s64;

	if (s == 0)
		return (uint32_t)d;
	if (s == -1)
		return 0;
	return (uint32_t)((int32_t)d % s);
}

__attribute__((cold, noinline))
static int mem_fault(struct ua_exec *ex, const struct mem_env *env, const struct interp_insn *pc,
		     const uint64_t *reg, size_t idx)
{
	bool is_load = pc->op >= OP_LDX_B && pc->op <= OP_LDXS_W;
	unsigned size;
	uint64_t a;

	if (is_load) {
		static const uint8_t sizes[] = { 1, 2, 4, 8, 1, 2, 4 };

		size = sizes[pc->op - OP_LDX_B];
		a = reg[pc->src] + (int64_t)pc->off;
	} else {
		size = 1u << ((pc->op - OP_ST_B) & 3);
		a = reg[pc->dst] + (int64_t)pc->off;
	}
	if (!is_load && env->bounds_check && region_ok(env, a, size, false))
		return run_error(ex, -EFAULT, idx, "write into read-only memory 0x%llx (size %u)",
				 (unsigned long long)a, size);
	return run_error(ex, -EFAULT, idx, "invalid memory access 0x%llx (size %u)",
			 (unsigned long long)a, size);
}

/* Host-memory atomics: naturally aligned, sequentially consistent like the kernel's. */
bool ua_host_atomic(void *addr, unsigned size, int32_t op, uint64_t val, uint64_t cmp,
			uint64_t *old)
{
#define HOST_ATOMIC(T)                                                        \
	do {                                                                  \
		T *p_ = addr, v_ = (T)val, c_ = (T)cmp;                       \
		switch (op & ~UA_FETCH) {                                     \
		case UA_ADD: *old = __atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); return true; \
		case UA_OR: *old = __atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); return true; \
		case UA_AND: *old = __atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); return true; \
		case UA_XOR: *old = __atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); return true; \
		case UA_XCHG & ~UA_FETCH:                                     \
			*old = __atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); \
			return true;                                          \
		case UA_CMPXCHG & ~UA_FETCH:                                  \
			__atomic_compare_exchange_n(p_, &c_, v_, false, __ATOMIC_SEQ_CST, \
						    __ATOMIC_SEQ_CST);        \
			*old = c_;                                            \
			return true;                                          \
		}                                                             \
		if (op == UA_LOAD_ACQ) {                                      \
			*old = __atomic_load_n(p_, __ATOMIC_ACQUIRE);         \
			return true;                                          \
		}                                                             \
		if (op == UA_STORE_REL) {                                     \
			__atomic_store_n(p_, v_, __ATOMIC_RELEASE);           \
			return true;                                          \
		}                                                             \
	} while (0)

	switch (size) {
	case 1: HOST_ATOMIC(uint8_t); break;
	case 2: HOST_ATOMIC(uint16_t); break;
	case 4: HOST_ATOMIC(uint32_t); break;
	default: HOST_ATOMIC(uint64_t); break;
	}
#undef HOST_ATOMIC
	return false;
}

/*
 * One BPF_STX|BPF_ATOMIC insn. Operands: pointer in dst (src for
 * load-acquire), value in src (r0 is the comparand and result of cmpxchg).
 */
__attribute__((noinline))
static int run_atomic(struct ua_exec *ex, const struct mem_env *env, bool has_arena,
		      const struct interp_insn *pc, uint64_t *reg, size_t idx)
{
	int32_t op = (int32_t)pc->imm;
	unsigned size = pc->size;
	unsigned ptr_reg = op == UA_LOAD_ACQ ? pc->src : pc->dst;
	uint64_t base = reg[ptr_reg], old = 0, val = reg[pc->src];
	bool done;

	if (has_arena && (base >> 32) == 0) {
		if (!ex->arena_base)
			return run_error(ex, -EINVAL, idx,
					 "arena access but no arena is attached to the run");
		done = ua_probe_atomic(ua_arena_prog_addr(ex->arena_base, base, (int16_t)pc->off),
				       size, op, val, reg[0], &old);
		if (!done) {
			/* Kernel fixup: a faulting load yields 0, other registers keep their value. */
			if (op == UA_LOAD_ACQ)
				reg[pc->dst] = 0;
			return 0;
		}
	} else {
		uint64_t a = base + (int64_t)pc->off;
		bool write = op != UA_LOAD_ACQ;

		if (!mem_ok(env, a, size, write))
			return run_error(ex, -EFAULT, idx, "invalid memory access 0x%llx (size %u)",
					 (unsigned long long)a, size);
		if (a & (size - 1))
			return run_error(ex, -EFAULT, idx,
					 "misaligned atomic access 0x%llx (size %u)",
					 (unsigned long long)a, size);
		done = ua_host_atomic((void *)(uintptr_t)a, size, op, val, reg[0], &old);
		if (UA_NEVER(!done))
			return run_error(ex, -EFAULT, idx, "invalid atomic operation 0x%x", op);
	}
	if (op == UA_LOAD_ACQ)
		reg[pc->dst] = old;
	else if (op == UA_CMPXCHG)
		reg[0] = size == 4 ? (uint32_t)old : old;
	else if (op & UA_FETCH)
		reg[pc->src] = size == 4 ? (uint32_t)old : old;
	return 0;
}

/* callx: the helper id is in a register, resolved now through the resolver. */
__attribute__((noinline))
static int run_callx(const struct ua_prog *p, struct ua_exec *ex, const struct interp_insn *pc,
		     uint64_t *reg, size_t idx)
{
	uint64_t id = reg[pc->dst];
	const char *name = NULL;
	ua_helper_fn fn = NULL;

	if (id <= INT32_MAX && p->res.helper)
		fn = p->res.helper(p->res.ctx, (int32_t)id, &name);
	if (!fn)
		return run_error(ex, -EINVAL, idx, "callx to unknown helper id %llu",
				 (unsigned long long)id);
	reg[0] = fn(ex, reg[1], reg[2], reg[3], reg[4], reg[5]);
	return 0;
}

#define INTERP_THREADED 0
#define INTERP_FN run_switch
#include "interp_body.h"
#undef INTERP_THREADED
#undef INTERP_FN

#if defined(__GNUC__)
#define INTERP_THREADED 1
#define INTERP_FN run_threaded
#include "interp_body.h"
#undef INTERP_THREADED
#undef INTERP_FN
#else
#define run_threaded run_switch
#endif

/* One run from insn start on a fresh stack; outer: the run calling a callback. */
static int run_from(const struct ua_prog *p, struct ua_exec *ex, size_t start,
		    const uint64_t args[5], uint64_t *r0, enum ua_interp_dispatch how,
		    const struct mem_env *outer)
{
	uint8_t local_stack[RUN_STACK_SIZE] __attribute__((aligned(16)));
	const struct ua_prog *saved_prog = ex->interp_prog;
	const void *saved_env = ex->interp_env;
	uintptr_t saved_stack_lo = ex->stack_lo, saved_stack_hi = ex->stack_hi;
	uint8_t *stack = local_stack;
	uint64_t reg[UA_MAX_BPF_REG] = { 0 };
	struct mem_env env;
	uint64_t ret0 = 0;
	int ret;

	ex->err[0] = '\0';
	ex->exit_now = false;
	if (UA_NEVER((uintptr_t)local_stack >> 32 == 0)) {
		stack = mmap(NULL, RUN_STACK_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED)
			return run_error(ex, -ENOMEM, 0, "cannot map the run stack");
	}
	/* Only the active frames are accessible: the top one now, more per call. */
	memset(stack + RUN_STACK_SIZE - UA_STACK_SIZE, 0, UA_STACK_SIZE);
	env = (struct mem_env){
		.stack_lo = (uintptr_t)stack + RUN_STACK_SIZE - UA_STACK_SIZE,
		.stack_len = UA_STACK_SIZE,
		.bounds_check = ex->bounds_check,
		.regions = ex->regions,
		.n_regions = ex->regions ? ex->n_regions : 0,
		.outer = outer,
		.zeroed_lo = (uintptr_t)stack + RUN_STACK_SIZE - UA_STACK_SIZE,
	};
	if (args)
		memcpy(&reg[1], args, 5 * sizeof(reg[0]));
	reg[10] = (uintptr_t)stack + RUN_STACK_SIZE;
	ex->interp_prog = p;
	ex->interp_env = &env;
	ex->stack_lo = env.stack_lo;
	ex->stack_hi = env.stack_lo + env.stack_len;
	if (how == UA_DISPATCH_SWITCH)
		ret = run_switch(p, ex, &p->insns[start], reg, &env, &ret0);
	else
		ret = run_threaded(p, ex, &p->insns[start], reg, &env, &ret0);
	ex->interp_prog = saved_prog;
	ex->interp_env = saved_env;
	ex->stack_lo = saved_stack_lo;
	ex->stack_hi = saved_stack_hi;
	if (stack != local_stack)
		munmap(stack, RUN_STACK_SIZE);
	if (r0)
		*r0 = ret ? 0 : ret0;
	return ret;
}

int ua_interp_run_with(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		       uint64_t *r0, enum ua_interp_dispatch how)
{
	if (!p || !ex)
		return -EINVAL;
	ex->interp_abort = 0;
	ex->interp_nesting = 0;
	ex->interp_prog = NULL;
	ex->interp_env = NULL;
	return run_from(p, ex, 0, args, r0, how, NULL);
}

int ua_callback_finish(struct ua_exec *ex, int ret)
{
	if (!ret)
		return 0;
	/* The helper returns to the outer run, which then stops with this error. */
	ex->interp_abort = ret;
	ex->exit_now = true;
	return ret;
}

int ua_callback_target(struct ua_exec *ex, const struct ua_prog *p, uint64_t func, size_t *idx)
{
	uint64_t i = func & INTERP_FUNC_MASK;

	if ((func & ~INTERP_FUNC_MASK) != INTERP_FUNC_TAG || i >= p->n || !p->func_start[i])
		return ua_callback_finish(ex, ua_errf(ex->err, sizeof(ex->err), -EINVAL,
						      "callback 0x%llx is not a function of the program",
						      (unsigned long long)func));
	if (ex->interp_nesting >= UA_MAX_CALL_DEPTH)
		return ua_callback_finish(ex, ua_errf(ex->err, sizeof(ex->err), -E2BIG,
						      "callbacks nested more than %d deep",
						      UA_MAX_CALL_DEPTH));
	*idx = (size_t)i;
	return 0;
}

int ua_interp_callback(struct ua_exec *ex, uint64_t func, const uint64_t args[5],
		       uint64_t *r0)
{
	const struct ua_prog *p = ex ? ex->interp_prog : NULL;
	size_t idx;
	int ret;

	if (ex && ex->jit_run)
		return ua_jit_callback(ex, func, args, r0);
	if (!p)
		return -EINVAL;
	ret = ua_callback_target(ex, p, func, &idx);
	if (ret)
		return ret;
	ex->interp_nesting++;
	ret = run_from(p, ex, idx, args, r0, UA_DISPATCH_THREADED, ex->interp_env);
	ex->interp_nesting--;
	return ua_callback_finish(ex, ret);
}

int ua_interp_run(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5],
		  uint64_t *r0)
{
	return ua_interp_run_with(p, ex, args, r0, UA_DISPATCH_THREADED);
}
