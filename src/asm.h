/* SPDX-License-Identifier: MIT */
/*
 * Text assembler for BPF instructions (internal module; the CLI and tests use
 * it). Two syntaxes, one output: struct ua_insn slots as the kernel loads them.
 *
 *  conformance: the bpf_conformance / ubpf syntax of the shared *.data test
 *               vectors ("mov %r0, 1", "ldxw %r0, [%r1+4]", "lock fetch add
 *               [%r10-8], %r1", "call local func1"). Error texts follow the
 *               reference assembler ("Invalid register: %r50").
 *  kernel:      the text the kernel verifier log prints (kernel/bpf/disasm.c),
 *               so a pasted log re-assembles: "r1 = *(u64 *)(r10 -8)",
 *               "if w1 s< w2 goto pc-1", "r2 = atomic64_fetch_add((u64 *)(r1
 *               +0), r2)". A leading "12: (b7) " and a trailing "; comment" are
 *               ignored. ld_imm64 is written "rD = 0x... ll" (LLVM) or
 *               "rD = 0x..." (hex without "ll": the kernel prints ld_imm64 in
 *               hex and mov in decimal, so a hex literal assigned to an rN is
 *               the 2-slot load; "rD = 16" is a mov).
 *  Both accept "label:" lines and label names as jump/call targets.
 *  AUTO: conformance if the text mentions "%r", kernel otherwise.
 */
#ifndef UA_ASM_H
#define UA_ASM_H

#include <stddef.h>

#include <uarena/insn.h>

enum ua_asm_syntax { UA_ASM_AUTO, UA_ASM_KERNEL, UA_ASM_CONFORMANCE };

/* Parses text (many lines; labels allowed). On success returns 0, *out is
 * malloc'd (caller frees; NULL when there are no instructions) and *n_out
 * counts insn slots (ld_imm64 = 2). On error returns -EINVAL (-ENOMEM when
 * out of memory) with "asm: line L: what" in err. */
int ua_asm_parse(const char *text, enum ua_asm_syntax syntax, struct ua_insn **out,
		 size_t *n_out, char *err, size_t err_sz);

/*
 * Rebuilds a program from a verifier log (log_level 1 or 2) or a listing: the
 * "N: (xx) text" lines, the first one for each N, in index order. Every slot
 * must be present (the verifier omits what it never reached: -EINVAL "asm: log
 * has no insn N") and each text must encode to its "(xx)" opcode. Map loads
 * come back as the 64-bit constants the log shows. Other lines are ignored.
 */
int ua_asm_from_log(const char *log, struct ua_insn **out, size_t *n_out, char *err,
		    size_t err_sz);

/* The syntax AUTO resolves to for this text. */
enum ua_asm_syntax ua_asm_detect(const char *text);

#endif
