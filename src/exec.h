/* SPDX-License-Identifier: MIT */
/*
 * The execution contract between the interpreter (and later the JIT), the
 * helpers/kfuncs and the loader (owner: interp module; others extend it only
 * additively).
 *
 * One struct ua_exec per running invocation (one per host thread): it carries
 * what the kernel keeps per CPU/task — the arena, the CPU id, the instruction
 * budget, the memory a program may touch — so several threads can run the
 * same prepared program on the same maps and arena at once.
 *
 * Memory classification (no verifier yet): an address whose upper 32 bits are
 * zero, in a program that has an arena, is an arena pointer (cast_kern form):
 * it is accessed at prog_base + lo32 + off through ua_probe_*(). Any other
 * address must lie in the stack or in one of the regions (ctx, packet data,
 * map values, global data); otherwise the run stops with -EFAULT naming the
 * insn, unless bounds checks are off.
 */
#ifndef UA_EXEC_H
#define UA_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uarena/insn.h>

struct ua_exec;
struct ua_arena;
struct ua_prog;

/* Helpers and kfuncs: r1..r5 in, r0 out, as in the BPF calling convention. */
typedef uint64_t (*ua_helper_fn)(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				 uint64_t r4, uint64_t r5);

struct ua_mem_region {
	uintptr_t start, end; /* [start, end) */
	bool writable;
};

struct ua_exec {
	struct ua_arena *arena;   /* NULL when the program uses none */
	uint8_t *arena_base;      /* ua_arena_prog_base(arena), cached */
	uint32_t cpu;             /* bpf_get_smp_processor_id() */
	uint64_t insn_budget;     /* max insns per run; 0 = default */
	bool bounds_check;        /* check non-arena accesses against stack + regions; a
				     zeroed ua_exec has it off, the run APIs should set it */
	const struct ua_mem_region *regions;
	size_t n_regions;
	void *user;               /* the loader's / embedder's per-run data */
	int (*trace)(struct ua_exec *ex, const char *msg, size_t len); /* bpf_printk sink */
	bool exit_now;            /* set by a helper: end the run now, r0 = its return value */
	/* Helper state for this invocation (progs module; zero when ex is created). */
	uintptr_t stack_lo, stack_hi; /* run stack, for helpers' pointer checks; 0 = unknown */
	uint32_t preempt_depth;   /* bpf_preempt_disable() nesting */
	uint32_t irq_depth;       /* bpf_local_irq_save() nesting */
	uint64_t prandom;         /* bpf_get_prandom_u32() state; 0 = not seeded yet */
	char err[256];            /* why a run stopped, "insn N: ..." */
	/* interpreter-private state follows, owned by interp (zero-initialise it) */
	const struct ua_prog *interp_prog; /* the program running on ex (for callbacks) */
	const void *interp_env;            /* its memory environment */
	int interp_abort;                  /* a callback failed: the outer run ends with this */
	unsigned interp_nesting;           /* callback runs in progress */
	const void *jit_run;               /* JIT-private: the innermost JIT run on ex, or NULL */
};

#endif
