/* SPDX-License-Identifier: MIT */
/*
 * Disassembler: struct ua_insn -> the text the Linux verifier log prints
 * (kernel/bpf/disasm.c print_bpf_insn, 6.18), so our output and a kernel log
 * line up token for token, and ua_asm_parse(UA_ASM_KERNEL) reads it back.
 *
 * Where the kernel prints no operand the text needs (it hides pseudo ld_imm64
 * operands behind "0x0"), we print bpftool's forms instead: "map[id:N]",
 * "map[id:N][0]+OFF", "map[idx:N]", "map[idx:N]+OFF", "subprog[+N]", and our
 * own "btf_id[N]"; the conformance suite's callx prints "callx rN".
 *
 * Program listings use bpftool's layout "%4d: (%02x) text" (the verifier log
 * has "%d: (%02x) text"); ld_imm64 is one line and consumes two indices.
 */
#ifndef UA_DISASM_H
#define UA_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <uarena/common.h>
#include <uarena/insn.h>

enum ua_disasm_syntax {
	UA_DISASM_KERNEL = 0,  /* the verifier log's text (default) */
	UA_DISASM_CONFORMANCE, /* bpf_conformance assembler text; listings are bare
				* lines (no index/opcode), ready for a .data -- asm.
				* No spelling: may_goto, addr_space_cast, load-acquire,
				* store-release, pseudo ld_imm64, legacy packet loads
				* (-EINVAL; "# invalid..." in listings) */
};

/* Names a call: return NULL to fall back to the built-in helper table
 * (helpers) or "kernel-function" (kfuncs). The kernel's cb_call. */
typedef const char *(*ua_disasm_call_name_fn)(void *ctx, const struct ua_insn *insn);

struct ua_disasm_opts {
	size_t sz;
	ua_disasm_call_name_fn call_name;
	void *ctx;
	bool no_opcode;  /* listing without the "(xx) " column */
	char *err_buf;   /* names the first slot that could not be printed */
	size_t err_buf_sz;
	enum ua_disasm_syntax syntax;
	size_t :0;
};
#define ua_disasm_opts__last_field syntax

/*
 * Text of the insn at insn[0] (insn[1] too for ld_imm64; n_avail slots are
 * readable) into buf. Returns the slots consumed (1 or 2), or -EINVAL when the
 * encoding is not an instruction the text can represent (unknown opcode,
 * register > r10, a reserved field set, truncated ld_imm64); buf then holds
 * "invalid". -ENOSPC when buf is too small.
 */
int ua_disasm_insn(const struct ua_insn *insn, size_t n_avail, char *buf, size_t sz);
int ua_disasm_insn_opts(const struct ua_insn *insn, size_t n_avail, char *buf, size_t sz,
			const struct ua_disasm_opts *opts);

/*
 * Writes a listing, one line per instruction. A slot that cannot be printed
 * is listed as "(xx) invalid: dst=D src=S off=O imm=I" and the walk goes on.
 * Returns 0, -EINVAL if any slot was invalid (first one named in err_buf), or
 * -EIO when writing fails.
 */
int ua_disasm_prog(const struct ua_insn *insns, size_t n, FILE *out,
		   const struct ua_disasm_opts *opts);

/* Kernel helper names by id ("bpf_map_lookup_elem" = 1), as the verifier
 * prints them; NULL for ids past the table. */
const char *ua_disasm_helper_name(int32_t id);
/* Reverse lookup; -1 when the name is not a helper. */
int32_t ua_disasm_helper_id(const char *name, size_t len);

#endif
