/* SPDX-License-Identifier: MIT */
/*
 * The one BPF instruction decoder/validator (owner: interp module), shared by
 * the interpreter, the JIT, the disassembler and the loader.
 *
 *   byte 0: code = class(0-2) | size/src(3-4) | op/mode(5-7)
 *   byte 1: dst_reg(0-3) | src_reg(4-7)   bytes 2-3: off (s16)  4-7: imm (s32)
 *
 * ua_isa_op() classifies one opcode byte through the table in isa.def;
 * ua_isa_validate() applies the load-time rules the Linux verifier applies
 * before it starts tracking types (reserved fields, registers, jump targets,
 * ld_imm64 pairing, subprogram boundaries, exits), and reports the first
 * violation as "isa: insn N: what".
 *
 * Deliberate leniencies, because RFC 9669 defines the behaviour and the
 * conformance suite exercises it: shift by an immediate >= the operand width
 * (masked at run time) and division/modulo by an immediate zero are accepted
 * (the kernel rejects both at load). callx (0x8d, register in dst_reg, or in
 * imm when dst_reg is 0 as LLVM encodes it) is accepted for the suite's
 * helper-by-register calls. UA_ISA_KERNEL_STRICT rejects all three like the
 * kernel, for programs that must behave as they would there (the loader's).
 * Legacy LD_ABS/LD_IND are rejected.
 */
#ifndef UA_ISA_H
#define UA_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uarena/insn.h>

enum ua_isa_shape {
	UA_SHAPE_ALU_K,     /* dst op= imm (mov: dst = imm) */
	UA_SHAPE_ALU_X,     /* dst op= src (mov: also movsx, addr_space_cast) */
	UA_SHAPE_ALU_NEG,   /* dst = -dst */
	UA_SHAPE_ALU_END,   /* byte order conversion, imm = 16/32/64 */
	UA_SHAPE_LD_IMM64,  /* two slots */
	UA_SHAPE_LD_LEGACY, /* LD_ABS/LD_IND: rejected */
	UA_SHAPE_LDX,       /* dst = *(src + off) */
	UA_SHAPE_ST,        /* *(dst + off) = imm */
	UA_SHAPE_STX,       /* *(dst + off) = src */
	UA_SHAPE_ATOMIC,    /* imm selects the operation */
	UA_SHAPE_JA,        /* pc += off */
	UA_SHAPE_JA32,      /* pc += imm */
	UA_SHAPE_JCOND_K,   /* if (dst op imm) pc += off */
	UA_SHAPE_JCOND_X,   /* if (dst op src) pc += off */
	UA_SHAPE_CALL,
	UA_SHAPE_CALLX,
	UA_SHAPE_EXIT,
	UA_SHAPE_MAY_GOTO,
};

struct ua_isa_op {
	uint8_t code;
	const char *name; /* base mnemonic; see ua_isa_mnemonic() for variants */
	enum ua_isa_shape shape;
};

/* The table row for an opcode byte, or NULL when the byte is not an opcode. */
const struct ua_isa_op *ua_isa_op(uint8_t code);

/* Access size in bytes of a load/store/atomic opcode (1, 2, 4, 8). */
static inline unsigned ua_isa_size_bytes(uint8_t code)
{
	static const unsigned char sizes[4] = { 4, 2, 1, 8 };

	return sizes[(code >> 3) & 3];
}

/*
 * Full mnemonic of a (valid) insn, variants included: "sdiv32", "movsx832",
 * "addr_space_cast", "lock fetch_add", "be16", "call local", "call kfunc".
 * Returns a static string; "invalid" for what ua_isa_check_insn() rejects.
 */
const char *ua_isa_mnemonic(const struct ua_insn *insn);

enum ua_isa_flags {
	UA_ISA_HAS_ARENA = 1u << 0,     /* addr_space_cast allowed */
	UA_ISA_KERNEL_STRICT = 1u << 1, /* also reject what only the kernel rejects:
					   K shifts >= width, K div/mod by 0, callx */
};

/*
 * Checks one insn's encoding in isolation (opcode, reserved fields, register
 * numbers, writes to r10). idx only names the insn in the message.
 * Returns 0 or -EINVAL with "isa: insn N: ..." in err.
 */
int ua_isa_check_insn(const struct ua_insn *insn, size_t idx, unsigned flags, char *err,
		      size_t err_sz);

/*
 * Checks a whole program: every insn as above, ld_imm64 pairs complete,
 * jump and call targets inside the program and inside their subprogram, never
 * into the second slot of ld_imm64, every subprogram ends with exit or ja.
 * Returns 0, -EINVAL (message in err) or -E2BIG (more than UA_ISA_MAX_INSNS).
 */
#define UA_ISA_MAX_INSNS (1u << 20) /* the kernel's BPF_COMPLEXITY_LIMIT_INSNS */
int ua_isa_validate(const struct ua_insn *insns, size_t n, unsigned flags, char *err,
		    size_t err_sz);

/* True for the first slot of ld_imm64. */
static inline bool ua_isa_is_ld_imm64(const struct ua_insn *insn)
{
	return insn->code == (UA_LD | UA_IMM | UA_DW);
}

/* Jump target of a JA/JA32/JCOND/MAY_GOTO insn at idx, or of a local call. */
static inline int64_t ua_isa_jump_target(const struct ua_insn *insn, size_t idx)
{
	if (insn->code == (UA_JMP32 | UA_JA) || insn->code == (UA_JMP | UA_CALL))
		return (int64_t)idx + 1 + insn->imm;
	return (int64_t)idx + 1 + insn->off;
}

#endif
