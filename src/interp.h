/* SPDX-License-Identifier: MIT */
/*
 * Interpreter internals shared by prog.c (translation) and interp.c (run).
 *
 * A prepared program is an array of 16-byte struct interp_insn, one per
 * original slot (ld_imm64's second slot becomes OP_INVALID and is never
 * reached), so an index into it is the original insn index used in every
 * message. Each insn carries an internal op (one per behaviour: "add64 with
 * an immediate", "ldx 4 bytes", "jeq32 with a register") so the run loop
 * never re-decodes; jump offsets are made absolute, immediates are sign-
 * extended, shift counts pre-masked, helpers resolved to function pointers.
 */
#ifndef UA_INTERP_H
#define UA_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prog.h"

#define INTERP_ALU_OPS(X, W)                                                  \
	X(ADD##W##_K) X(ADD##W##_X) X(SUB##W##_K) X(SUB##W##_X)               \
	X(MUL##W##_K) X(MUL##W##_X) X(DIV##W##_K) X(DIV##W##_X)               \
	X(SDIV##W##_K) X(SDIV##W##_X) X(MOD##W##_K) X(MOD##W##_X)             \
	X(SMOD##W##_K) X(SMOD##W##_X) X(OR##W##_K) X(OR##W##_X)               \
	X(AND##W##_K) X(AND##W##_X) X(LSH##W##_K) X(LSH##W##_X)               \
	X(RSH##W##_K) X(RSH##W##_X) X(ARSH##W##_K) X(ARSH##W##_X)             \
	X(XOR##W##_K) X(XOR##W##_X) X(MOV##W##_K) X(MOV##W##_X)               \
	X(MOVSX8_##W) X(MOVSX16_##W) X(NEG##W)

#define INTERP_JMP_OPS(X, W)                                                  \
	X(JEQ##W##_K) X(JEQ##W##_X) X(JGT##W##_K) X(JGT##W##_X)               \
	X(JGE##W##_K) X(JGE##W##_X) X(JSET##W##_K) X(JSET##W##_X)             \
	X(JNE##W##_K) X(JNE##W##_X) X(JSGT##W##_K) X(JSGT##W##_X)             \
	X(JSGE##W##_K) X(JSGE##W##_X) X(JLT##W##_K) X(JLT##W##_X)             \
	X(JLE##W##_K) X(JLE##W##_X) X(JSLT##W##_K) X(JSLT##W##_X)             \
	X(JSLE##W##_K) X(JSLE##W##_X)

/* Every internal op, once: the enum, the threaded jump table and the names. */
#define INTERP_OPS(X)                                                         \
	X(INVALID)                                                            \
	INTERP_ALU_OPS(X, 64) X(MOVSX32_64)                                   \
	INTERP_ALU_OPS(X, 32)                                                 \
	X(LE16) X(LE32) X(LE64) X(BE16) X(BE32) X(BE64)                       \
	X(BSWAP16) X(BSWAP32) X(BSWAP64)                                      \
	X(CAST_KERN) X(CAST_USER) X(LD_IMM64)                                 \
	X(LDX_B) X(LDX_H) X(LDX_W) X(LDX_DW) X(LDXS_B) X(LDXS_H) X(LDXS_W)    \
	X(ST_B) X(ST_H) X(ST_W) X(ST_DW) X(STX_B) X(STX_H) X(STX_W) X(STX_DW) \
	X(ATOMIC)                                                             \
	X(JA) INTERP_JMP_OPS(X, 64) INTERP_JMP_OPS(X, 32)                     \
	X(CALL_HELPER) X(CALL_LOCAL) X(CALLX) X(EXIT) X(MAY_GOTO)

enum interp_op {
#define INTERP_ENUM(name) OP_##name,
	INTERP_OPS(INTERP_ENUM)
#undef INTERP_ENUM
	OP_COUNT
};

struct interp_insn {
	uint8_t op;   /* enum interp_op */
	uint8_t dst;
	uint8_t src;
	uint8_t size; /* atomics: access size in bytes */
	int32_t off;  /* memory offset; for jumps and local calls: absolute target */
	union {
		int64_t imm;    /* sign-extended immediate (atomics: the operation) */
		uint64_t u64;   /* ld_imm64 value */
		ua_helper_fn fn; /* resolved helper/kfunc */
	};
};

/* ld_imm64 PSEUDO_FUNC value: tag | insn index (never a valid address). */
#define INTERP_FUNC_TAG 0xbf0f000000000000ull
#define INTERP_FUNC_MASK 0x00000000ffffffffull

struct ua_prog {
	size_t n;
	bool has_arena;
	uint8_t *func_start; /* n flags: insn i is a PSEUDO_FUNC target */
	struct ua_call_resolver res; /* kept for callx */
	struct ua_jit_prog *jit;     /* attached by ua_prog_enable_jit (jit.h), or NULL */
	struct interp_insn insns[];
};


#endif

/*
 * Callbacks (bpf_loop and friends), one contract for both engines.
 * ua_callback_target checks that func is a PSEUDO_FUNC value of p and that
 * callbacks are nested at most UA_MAX_CALL_DEPTH deep: 0 and *idx (the
 * callback's first insn), or the error, already recorded as below.
 * ua_callback_finish turns a callback's result into the helper's: 0, or the
 * error the outer run then stops with (ex->err says why).
 */
int ua_callback_target(struct ua_exec *ex, const struct ua_prog *p, uint64_t func, size_t *idx);
int ua_callback_finish(struct ua_exec *ex, int ret);

/*
 * A BPF_STX|BPF_ATOMIC operation (op = insn imm) on host memory (stack, map
 * values), shared by the interpreter and the JIT's slow path so both engines
 * give one semantics. Returns false for an op it does not know.
 */
bool ua_host_atomic(void *addr, unsigned size, int32_t op, uint64_t val, uint64_t cmp,
		    uint64_t *old);

/*
 * The bpf_conformance plugin contract (interp_conformance.c), shared by
 * `uarena-conformance` and the in-process test of every vector: runs insns
 * with r1 = a private copy of mem, r2 = mem_len, helper 5 = the suite's
 * "unwind" helper (returns its argument and ends the program when that is
 * 0); with bounds_check, the memory copy and the stack are the only
 * accessible regions. Returns 0 and *r0, or -errno with the reason in err.
 */
#define UA_CONFORMANCE_UNWIND_HELPER 5
int ua_conformance_run(const struct ua_insn *insns, size_t n, const uint8_t *mem, size_t mem_len,
		       enum ua_interp_dispatch how, bool bounds_check, uint64_t *r0, char *err,
		       size_t err_sz);
