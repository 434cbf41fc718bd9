/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 JIT (internal API; docs/jit.md has the model). A JIT program
 * wraps a prepared program (prog.h): compiling never fails for a valid
 * prepared program — what the JIT cannot run (callbacks, non-x86-64 hosts)
 * makes it fall back to the interpreter with a recorded reason, so
 * ua_jit_run always gives the interpreter's result.
 */
#ifndef UA_JIT_H
#define UA_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prog.h"

struct ua_jit_prog;

/* x86 register numbers (0 = rax .. 15 = r15) for BPF r0..r10; NULL = default map. */
struct ua_jit_opts {
	const uint8_t *regmap;
};

/*
 * Compiles p (which must outlive the result). Returns 0 and *out, or -ENOMEM
 * / -EINVAL (bad regmap) with err filled. A program the JIT does not support
 * still compiles: *out then runs on the interpreter (ua_jit_fallback_reason).
 */
int ua_jit_compile(const struct ua_prog *p, const struct ua_jit_opts *opts, char *err,
		   size_t err_sz, struct ua_jit_prog **out);
void ua_jit_free(struct ua_jit_prog *jp);

/* NULL when compiled to machine code, else why it runs on the interpreter. */
const char *ua_jit_fallback_reason(const struct ua_jit_prog *jp);
/* Bytes of machine code (0 when falling back). */
size_t ua_jit_code_size(const struct ua_jit_prog *jp);

/*
 * Same contract as ua_interp_run (prog.h): 0 and *r0, or -EFAULT/-ETIME/
 * -E2BIG/-EINVAL with ex->err "insn N: ...". Differences: the instruction
 * budget is charged per back-edge (the loop body's length, see docs/jit.md),
 * so -ETIME names the back-edge insn and fires near, not exactly at, the
 * budget.
 */
int ua_jit_run(const struct ua_jit_prog *jp, struct ua_exec *ex, const uint64_t args[5],
	       uint64_t *r0);

/*
 * The dispatcher everything runs prepared programs through: the JIT code
 * attached to p by ua_prog_enable_jit (compiled once, thread-safe, freed by
 * ua_prog_free), else the interpreter. Same contract as ua_interp_run.
 */
int ua_prog_enable_jit(struct ua_prog *p, char *err, size_t err_sz);
int ua_prog_run(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5], uint64_t *r0);
/* NULL when ua_prog_run runs machine code, else why it interprets. */
const char *ua_prog_jit_fallback(const struct ua_prog *p);

/* ua_interp_callback's path while a JIT run is active (ex->jit_run set). */
int ua_jit_callback(struct ua_exec *ex, uint64_t func, const uint64_t args[5], uint64_t *r0);

/* Registers the x86 JIT may give to BPF registers (for shuffled-map tests). */
#define UA_JIT_N_ALLOCATABLE 11
extern const uint8_t ua_jit_allocatable[UA_JIT_N_ALLOCATABLE];

/* W^X executable memory (execmem.c): copy code in, then map it read+exec only. */
void *ua_jit_execmem_alloc(const void *code, size_t len, size_t *mapped_len);
void ua_jit_execmem_free(void *mem, size_t mapped_len);

/* Jump/call fixups resolved in a final pass (labels.c). */
struct ua_jit_labels {
	size_t *pos;     /* label -> code offset (SIZE_MAX = unbound) */
	size_t n, cap;
	struct ua_jit_fixup { size_t at; size_t label; } *fix; /* rel32 at `at` */
	size_t n_fix, cap_fix;
	bool oom;
};
size_t ua_jit_label_new(struct ua_jit_labels *l);
void ua_jit_label_bind(struct ua_jit_labels *l, size_t label, size_t pos);
void ua_jit_label_use(struct ua_jit_labels *l, size_t rel32_at, size_t label);
/* Patches every use; -EINVAL if a label was used but never bound. */
int ua_jit_labels_resolve(struct ua_jit_labels *l, uint8_t *code);
void ua_jit_labels_free(struct ua_jit_labels *l);

#endif
