/* SPDX-License-Identifier: MIT */
/*
 * JIT internals shared by the translator (x86_64.c) and the run time
 * (runtime.c): the per-run state the generated code addresses through r15,
 * the compiled program, and the C slow paths the code calls.
 */
#ifndef UA_JIT_INT_H
#define UA_JIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "interp.h"
#include "jit.h"

/* Same as the interpreter's (kernel BPF_MAX_LOOPS): may_goto falls through this often per frame. */
#define JIT_MAY_GOTO_BUDGET (8ull * 1024 * 1024)

/*
 * One run's state; generated code keeps its address in r15. regs[] is the
 * register file whenever C code runs (slow paths spill every BPF register
 * before the call and reload them after it, so C may read and write them).
 */
struct jit_run {
	uint64_t regs[UA_MAX_BPF_REG];
	uint64_t entry_rsp;  /* rsp after the prologue: error exits unwind to it */
	uint64_t budget;     /* instructions left, charged at back-edges */
	uint64_t loops_left; /* may_goto count-down of the current frame */
	uintptr_t stack_lo;  /* active frames: [stack_lo, stack_lo + stack_len) */
	uint64_t stack_len;
	/* The last region a load / a store passed the slow check in (length 0:
	 * none yet): checked inline next, so packet and map value accesses stay
	 * out of C after the first one. */
	uintptr_t load_lo, store_lo;
	uint64_t load_len, store_len;
	uint8_t *arena_base;
	struct ua_exec *ex;
	const struct ua_jit_prog *jp;
	const struct jit_run *outer; /* the run whose helper called this callback */
	uintptr_t start;     /* code address of the first insn (0 or a callback) */
	uintptr_t zeroed_lo; /* frames from here up were zeroed this run */
	uint32_t depth;      /* bpf-to-bpf calls in progress */
	int32_t status;      /* the error an exit through the error path returns */
};

/* An arena access that may fault: resume after it; loads zero their destination. */
struct jit_extable {
	uint32_t pc, resume;
	int32_t greg; /* ucontext gregs index of the load's destination, -1 for stores */
	/* Plain LDX/LDXS: bytes loaded and sign extension, for test fault injection
	 * (ua_probe_faulting_load_result); 0 for other accesses, which never inject. */
	uint8_t load_size;
	bool load_sign;
};

struct ua_jit_prog {
	const struct ua_prog *prog;
	const char *fallback; /* non-NULL: runs on the interpreter, this is why */
	int (*entry)(struct jit_run *run);
	void *code;
	size_t code_len, mapped_len;
	struct jit_extable *ext;
	size_t n_ext;
	uint32_t *insn_off; /* code offset of every insn (callback entries) */
	bool registered; /* code range known to the fault handler */
};

/* Reasons a cold stub ends the run (jit_fail). */
enum jit_fail_kind { JIT_FAIL_BUDGET, JIT_FAIL_NO_ARENA, JIT_FAIL_DEPTH };

/* Slow paths called from generated code: 0 to continue, else -errno (run->status set). */
int ua_jit_fail(struct jit_run *run, uint64_t kind, uint64_t idx);
int ua_jit_mem_slow(struct jit_run *run, uint64_t addr, uint64_t size_write, uint64_t idx);
int ua_jit_zero_frame(struct jit_run *run, uint64_t unused1, uint64_t unused2, uint64_t unused3);
int ua_jit_atomic(struct jit_run *run, uint64_t idx);
int ua_jit_callx(struct jit_run *run, uint64_t idx);
int ua_jit_cast_user(struct jit_run *run, uint64_t idx);

#endif
