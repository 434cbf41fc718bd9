/* SPDX-License-Identifier: MIT */
/*
 * Assembler internals shared by the syntax front ends (asm.c: driver, labels,
 * numbers, conformance syntax; asm_kernel.c: kernel verifier-log syntax).
 */
#ifndef UA_ASM_INT_H
#define UA_ASM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uarena/insn.h>

enum asm_fixup_kind {
	ASM_FIX_OFF, /* label distance goes into insn.off (jumps) */
	ASM_FIX_IMM, /* ... into insn.imm (gotol, bpf-to-bpf call, ld_imm64 func) */
};

struct asm_label {
	char *name;
	size_t pc;
	int line;
};

struct asm_fixup {
	char *name;
	size_t pc;
	int line;
	enum asm_fixup_kind kind;
};

struct asm_ctx {
	struct ua_insn *insns;
	size_t n, cap;
	struct asm_label *labels;
	size_t n_labels, cap_labels;
	size_t *index; /* open-addressed hash of labels: label number + 1, 0 = empty */
	size_t index_cap;
	struct asm_fixup *fixups;
	size_t n_fixups, cap_fixups;
	size_t first_exit; /* SIZE_MAX until the first exit insn */
	int line;
	char *err;
	size_t err_sz;
};

/* A literal as written: magnitude, sign and base decide the range rules. */
struct asm_num {
	uint64_t mag;
	bool neg, hex, overflow;
};

int asm_fail(struct asm_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int asm_emit(struct asm_ctx *c, struct ua_insn insn);
int asm_emit_ld_imm64(struct asm_ctx *c, int dst, int src, uint64_t imm);
int asm_add_fixup(struct asm_ctx *c, const char *name, size_t len, enum asm_fixup_kind kind);
bool asm_is_ident(const char *p, size_t len);
bool asm_scan_num(const char **pp, struct asm_num *n);
bool asm_parse_num(const char *tok, struct asm_num *n);
bool asm_num_imm32(const struct asm_num *n, int32_t *out);
bool asm_num_off16(const struct asm_num *n, int16_t *out);
bool asm_num_imm64(const struct asm_num *n, uint64_t *out);

/* Encodes one kernel-syntax statement (label and blanks already stripped). */
int asm_kernel_line(struct asm_ctx *c, char *text);

#endif
