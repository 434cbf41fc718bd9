/* SPDX-License-Identifier: MIT */
/*
 * Preparing a program: validate (isa.c), resolve calls and pseudo ld_imm64
 * constants through the caller's resolver, translate each insn to the
 * interpreter's internal op (interp.h). Decisions the run loop would
 * otherwise repeat per execution are taken here once: K shift counts are
 * masked to the operand width, division/modulo by an immediate zero become
 * the moves RFC 9669 defines them to be, jump offsets become absolute.
 */
#include "prog.h"

#include <stdlib.h>

#include "internal.h"
#include "interp.h"
#include "isa.h"
#include "jit.h"
#include "probe.h"

/* ALU op nibble -> {K, X} internal ops, per width. */
#define ALU_ROW(nib, name, W) [(nib) >> 4] = { OP_##name##W##_K, OP_##name##W##_X }
#define ALU_TABLE(W)                                                          \
	{ ALU_ROW(UA_ADD, ADD, W), ALU_ROW(UA_SUB, SUB, W), ALU_ROW(UA_MUL, MUL, W), \
	  ALU_ROW(UA_DIV, DIV, W), ALU_ROW(UA_OR, OR, W), ALU_ROW(UA_AND, AND, W), \
	  ALU_ROW(UA_LSH, LSH, W), ALU_ROW(UA_RSH, RSH, W), ALU_ROW(UA_MOD, MOD, W), \
	  ALU_ROW(UA_XOR, XOR, W), ALU_ROW(UA_MOV, MOV, W), ALU_ROW(UA_ARSH, ARSH, W) }
static const uint8_t alu64_ops[16][2] = ALU_TABLE(64);
static const uint8_t alu32_ops[16][2] = ALU_TABLE(32);

#define JMP_ROW(nib, name, W) [(nib) >> 4] = { OP_##name##W##_K, OP_##name##W##_X }
#define JMP_TABLE(W)                                                          \
	{ JMP_ROW(UA_JEQ, JEQ, W), JMP_ROW(UA_JGT, JGT, W), JMP_ROW(UA_JGE, JGE, W), \
	  JMP_ROW(UA_JSET, JSET, W), JMP_ROW(UA_JNE, JNE, W), JMP_ROW(UA_JSGT, JSGT, W), \
	  JMP_ROW(UA_JSGE, JSGE, W), JMP_ROW(UA_JLT, JLT, W), JMP_ROW(UA_JLE, JLE, W), \
	  JMP_ROW(UA_JSLT, JSLT, W), JMP_ROW(UA_JSLE, JSLE, W) }
static const uint8_t jmp64_ops[16][2] = JMP_TABLE(64);
static const uint8_t jmp32_ops[16][2] = JMP_TABLE(32);

static void translate_alu(const struct ua_insn *in, struct interp_insn *out)
{
	bool is64 = UA_CLASS(in->code) == UA_ALU64;
	bool x = UA_SRC(in->code) == UA_X;
	unsigned op = UA_OP(in->code);
	unsigned mask = is64 ? 63 : 31;

	if (op == UA_NEG) {
		out->op = is64 ? OP_NEG64 : OP_NEG32;
		return;
	}
	if (op == UA_MOV && x && in->off) {
		switch (in->off) {
		case UA_ADDR_SPACE_CAST:
			out->op = in->imm == UA_CAST_USER ? OP_CAST_USER : OP_CAST_KERN;
			return;
		case 8: out->op = is64 ? OP_MOVSX8_64 : OP_MOVSX8_32; return;
		case 16: out->op = is64 ? OP_MOVSX16_64 : OP_MOVSX16_32; return;
		default: out->op = OP_MOVSX32_64; return;
		}
	}
	out->op = (is64 ? alu64_ops : alu32_ops)[op >> 4][x];
	if ((op == UA_DIV || op == UA_MOD) && in->off == 1)
		out->op += (is64 ? OP_SDIV64_K - OP_DIV64_K : OP_SDIV32_K - OP_DIV32_K);
	if (x)
		return;
	if (op == UA_LSH || op == UA_RSH || op == UA_ARSH)
		out->imm &= mask;
	if ((op == UA_DIV || op == UA_MOD) && in->imm == 0) {
		/* RFC 9669: x / 0 = 0, x % 0 = x (32-bit forms zero-extend). */
		if (op == UA_DIV) {
			out->op = is64 ? OP_MOV64_K : OP_MOV32_K;
			out->imm = 0;
		} else {
			out->op = is64 ? OP_MOV64_X : OP_MOV32_X;
			out->src = in->dst_reg;
		}
	}
}

static void translate_end(const struct ua_insn *in, struct interp_insn *out)
{
	unsigned w = in->imm == 16 ? 0 : in->imm == 32 ? 1 : 2;

	if (UA_CLASS(in->code) == UA_ALU64)
		out->op = OP_BSWAP16 + w;
	else if (UA_SRC(in->code) == UA_TO_BE)
		out->op = OP_BE16 + w;
	else
		out->op = OP_LE16 + w;
}

static void translate_mem(const struct ua_insn *in, struct interp_insn *out)
{
	/* size bits: W=0, H=1, B=2, DW=3 -> internal order B, H, W, DW */
	static const uint8_t order[4] = { 2, 1, 0, 3 };
	unsigned s = order[UA_SIZE(in->code) >> 3];

	switch (UA_CLASS(in->code)) {
	case UA_LDX:
		out->op = (UA_MODE(in->code) == UA_MEMSX ? OP_LDXS_B : OP_LDX_B) + s;
		break;
	case UA_ST:
		out->op = OP_ST_B + s;
		break;
	default:
		if (UA_MODE(in->code) == UA_ATOMIC) {
			out->op = OP_ATOMIC;
			out->size = (uint8_t)ua_isa_size_bytes(in->code);
		} else {
			out->op = OP_STX_B + s;
		}
	}
}

struct prep {
	const struct ua_insn *insns;
	const struct ua_call_resolver *res;
	uint8_t *func_start;
	char *err;
	size_t err_sz;
};

static int resolve_call(const struct prep *pp, size_t i, struct interp_insn *out)
{
	const struct ua_insn *in = &pp->insns[i];
	const char *name = NULL;
	ua_helper_fn fn = NULL;

	if (in->src_reg == UA_PSEUDO_CALL) {
		out->op = OP_CALL_LOCAL;
		out->off = (int32_t)ua_isa_jump_target(in, i);
		return 0;
	}
	if (in->src_reg == 0) {
		if (pp->res && pp->res->helper)
			fn = pp->res->helper(pp->res->ctx, in->imm, &name);
		if (!fn)
			return ua_errf(pp->err, pp->err_sz, -EINVAL,
				       "prog: insn %zu: unknown helper id %d", i, in->imm);
	} else {
		if (pp->res && pp->res->kfunc)
			fn = pp->res->kfunc(pp->res->ctx, in->imm, &name);
		if (!fn)
			return ua_errf(pp->err, pp->err_sz, -EINVAL,
				       "prog: insn %zu: unknown kfunc %d", i, in->imm);
	}
	out->op = OP_CALL_HELPER;
	out->fn = fn;
	return 0;
}

static int resolve_ld_imm64(const struct prep *pp, size_t i, struct interp_insn *out)
{
	const struct ua_insn *in = &pp->insns[i];
	uint64_t value = (uint64_t)(uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
	int ret;

	out->op = OP_LD_IMM64;
	if (in->src_reg == UA_PSEUDO_FUNC) {
		size_t target = (size_t)((int64_t)i + 1 + in->imm); /* checked by isa.c */

		pp->func_start[target] = 1;
		out->u64 = INTERP_FUNC_TAG | target;
		return 0;
	}
	if (in->src_reg) {
		if (!pp->res || !pp->res->ld_imm64)
			return ua_errf(pp->err, pp->err_sz, -EINVAL,
				       "prog: insn %zu: ld_imm64 pseudo form %u needs a loader", i,
				       in->src_reg);
		ret = pp->res->ld_imm64(pp->res->ctx, in, i, &value);
		if (ret)
			return ua_errf(pp->err, pp->err_sz, ret < 0 ? ret : -EINVAL,
				       "prog: insn %zu: cannot resolve ld_imm64 pseudo form %u", i,
				       in->src_reg);
	}
	out->u64 = value;
	return 0;
}

static int translate(const struct prep *pp, size_t i, struct interp_insn *out)
{
	const struct ua_insn *in = &pp->insns[i];
	const struct ua_isa_op *op = ua_isa_op(in->code);

	out->dst = in->dst_reg;
	out->src = in->src_reg;
	out->off = in->off;
	out->imm = in->imm;
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
	case UA_SHAPE_ALU_NEG:
		translate_alu(in, out);
		return 0;
	case UA_SHAPE_ALU_END:
		translate_end(in, out);
		return 0;
	case UA_SHAPE_LD_IMM64:
		return resolve_ld_imm64(pp, i, out);
	case UA_SHAPE_LDX:
	case UA_SHAPE_ST:
	case UA_SHAPE_STX:
	case UA_SHAPE_ATOMIC:
		translate_mem(in, out);
		return 0;
	case UA_SHAPE_JA:
	case UA_SHAPE_JA32:
		out->op = OP_JA;
		out->off = (int32_t)ua_isa_jump_target(in, i);
		return 0;
	case UA_SHAPE_MAY_GOTO:
		out->op = OP_MAY_GOTO;
		out->off = (int32_t)ua_isa_jump_target(in, i);
		return 0;
	case UA_SHAPE_JCOND_K:
	case UA_SHAPE_JCOND_X:
		out->op = (UA_CLASS(in->code) == UA_JMP ? jmp64_ops : jmp32_ops)
			[UA_OP(in->code) >> 4][UA_SRC(in->code) == UA_X];
		out->off = (int32_t)ua_isa_jump_target(in, i);
		return 0;
	case UA_SHAPE_CALL:
		return resolve_call(pp, i, out);
	case UA_SHAPE_CALLX:
		out->op = OP_CALLX;
		out->dst = in->dst_reg ? in->dst_reg : (uint8_t)in->imm;
		return 0;
	case UA_SHAPE_EXIT:
		out->op = OP_EXIT;
		return 0;
	case UA_SHAPE_LD_LEGACY:
		break;
	}
	return ua_errf(pp->err, pp->err_sz, -EINVAL, "prog: insn %zu: cannot translate 0x%02x", i,
		       in->code);
}

int ua_prog_prepare(const struct ua_insn *insns, size_t n, const struct ua_call_resolver *res,
		    char *err, size_t err_sz, struct ua_prog **out)
{
	struct prep pp = { insns, res, NULL, err, err_sz };
	bool has_arena = res && res->has_arena;
	struct ua_prog *p;
	int ret;

	if (!out)
		return ua_errf(err, err_sz, -EINVAL, "prog: no output pointer");
	*out = NULL;
	ret = ua_isa_validate(insns, n,
			      (has_arena ? UA_ISA_HAS_ARENA : 0) |
			      (res && res->kernel_strict ? UA_ISA_KERNEL_STRICT : 0), err, err_sz);
	if (ret)
		return ret;
	if (has_arena && (ret = ua_probe_init()))
		return ua_errf(err, err_sz, ret, "prog: cannot install the arena fault handler");
	p = calloc(1, sizeof(*p) + n * sizeof(p->insns[0]));
	if (!p)
		return ua_errf(err, err_sz, -ENOMEM, "prog: out of memory (%zu insns)", n);
	p->func_start = calloc(n, 1);
	if (!p->func_start) {
		free(p);
		return ua_errf(err, err_sz, -ENOMEM, "prog: out of memory (%zu insns)", n);
	}
	pp.func_start = p->func_start;
	p->n = n;
	p->has_arena = has_arena;
	if (res)
		p->res = *res;
	for (size_t i = 0; i < n; i++) {
		ret = translate(&pp, i, &p->insns[i]);
		if (ret) {
			ua_prog_free(p);
			return ret;
		}
		if (p->insns[i].op == OP_LD_IMM64)
			i++; /* the second slot stays OP_INVALID */
	}
	*out = p;
	return 0;
}

void ua_prog_free(struct ua_prog *p)
{
	if (!p)
		return;
	ua_jit_free(p->jit);
	free(p->func_start);
	free(p);
}

size_t ua_prog_insn_count(const struct ua_prog *p)
{
	return p ? p->n : 0;
}
