/* SPDX-License-Identifier: MIT */
/*
 * Bounded loops the verifier (and uarena's interpreter) accept without
 * unrolling: open-coded numeric iterators (bpf_for, bpf_repeat) on the
 * bpf_iter_num kfuncs, and may_goto-based escapes (can_loop, cond_break).
 * may_goto (opcode 0xe5) jumps once the per-frame budget of BPF_MAX_LOOPS
 * (8M) is spent, so every loop using these terminates.
 */
#ifndef UA_BPF_EXPERIMENTAL_H
#define UA_BPF_EXPERIMENTAL_H

#include "bpf_helpers.h"

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;

/*
 * for (i = start; i < end; i++) through an iterator: the iterator lives on
 * the stack and is destroyed by the cleanup attribute when the loop ends,
 * by break or by return. The explicit reference to bpf_iter_num_destroy
 * makes clang emit its BTF/extern even though only cleanup() calls it.
 */
#define bpf_for(i, start, end)                                                     \
	for (struct bpf_iter_num ___it __attribute__((aligned(8),                  \
						      cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) =                                       \
		     (bpf_iter_num_new(&___it, (start), (end)),                    \
		      (void)bpf_iter_num_destroy, (void *)0);                      \
	     ({                                                                    \
		     int *___t = bpf_iter_num_next(&___it);                        \
		     (___t && ((i) = *___t, (i) >= (start) && (i) < (end)));       \
	     });)

/* Runs the body N times (N < 0 or > BPF_MAX_LOOPS: not at all). */
#define bpf_repeat(N)                                                              \
	for (struct bpf_iter_num ___it __attribute__((aligned(8),                  \
						      cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) =                                       \
		     (bpf_iter_num_new(&___it, 0, (N)),                            \
		      (void)bpf_iter_num_destroy, (void *)0);                      \
	     bpf_iter_num_next(&___it);)

#ifdef __BPF_FEATURE_MAY_GOTO
/* True while the current frame's loop budget lasts. */
#define can_loop                                                               \
	({                                                                     \
		__label__ l_break, l_continue;                                 \
		bool ret = true;                                               \
		asm volatile goto("may_goto %l[l_break]" :::: l_break);        \
		goto l_continue;                                               \
	l_break:                                                               \
		ret = false;                                                   \
	l_continue:;                                                           \
		ret;                                                           \
	})

/* Leaves the enclosing loop once the budget is spent. */
#define cond_break                                                             \
	({                                                                     \
		__label__ l_break, l_continue;                                 \
		asm volatile goto("may_goto %l[l_break]" :::: l_break);        \
		goto l_continue;                                               \
	l_break:                                                               \
		break;                                                         \
	l_continue:;                                                           \
	})

/* Jumps to `label` once the budget is spent (for loops that must clean up). */
#define cond_break_label(label)                                                \
	({ asm volatile goto("may_goto %l[" #label "]" :::: label); })
#else
#error "uarena's bpf_experimental.h needs clang >= 19 (may_goto)"
#endif

#endif
