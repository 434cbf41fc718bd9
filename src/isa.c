/* SPDX-License-Identifier: MIT */
/*
 * BPF instruction table and load-time structural validation.
 *
 * Model: the opcode byte selects a row of isa.def (an operand shape); the
 * remaining fields are then checked per shape the way the Linux verifier does
 * before type tracking (check_alu_op / check_mem / check_subprogs / the
 * reserved-field checks in do_check): fields an encoding does not use must
 * be zero, registers are r0..r10 and r10 is never written. The program-wide
 * pass then checks ld_imm64 pairs, jump/call targets and subprogram shape.
 * Everything else (types, bounds, termination) is the runtime's job: the
 * interpreter checks memory accesses and counts instructions.
 */
#include "isa.h"

#include <stdlib.h>

#include "internal.h"

enum isa_row {
#define UA_ISA_OP(code, name, shape) ISA_ROW_##code,
#include "isa.def"
#undef UA_ISA_OP
	ISA_ROWS
};

static const struct ua_isa_op isa_ops[ISA_ROWS] = {
#define UA_ISA_OP(code, name, shape) [ISA_ROW_##code] = { code, name, UA_SHAPE_##shape },
#include "isa.def"
#undef UA_ISA_OP
};

/* Opcode byte -> row + 1; 0 = not an opcode. */
static const uint8_t isa_index[256] = {
#define UA_ISA_OP(code, name, shape) [code] = ISA_ROW_##code + 1,
#include "isa.def"
#undef UA_ISA_OP
};

const struct ua_isa_op *ua_isa_op(uint8_t code)
{
	unsigned i = isa_index[code];

	return i ? &isa_ops[i - 1] : NULL;
}

static const char *alu_variant(const struct ua_insn *insn, const struct ua_isa_op *op)
{
	bool is64 = UA_CLASS(insn->code) == UA_ALU64;

	if ((UA_OP(insn->code) == UA_DIV || UA_OP(insn->code) == UA_MOD) && insn->off == 1) {
		if (UA_OP(insn->code) == UA_DIV)
			return is64 ? "sdiv" : "sdiv32";
		return is64 ? "smod" : "smod32";
	}
	if (UA_OP(insn->code) == UA_MOV && UA_SRC(insn->code) == UA_X) {
		switch (insn->off) {
		case 1: return "addr_space_cast";
		case 8: return is64 ? "movsx864" : "movsx832";
		case 16: return is64 ? "movsx1664" : "movsx1632";
		case 32: return is64 ? "movsx3264" : op->name;
		}
	}
	return op->name;
}

static const char *end_variant(const struct ua_insn *insn)
{
	static const char *const names[3][3] = {
		{ "le16", "le32", "le64" }, { "be16", "be32", "be64" },
		{ "bswap16", "bswap32", "bswap64" },
	};
	int w = insn->imm == 16 ? 0 : insn->imm == 32 ? 1 : insn->imm == 64 ? 2 : -1;
	int kind = UA_CLASS(insn->code) == UA_ALU64 ? 2 : UA_SRC(insn->code) == UA_TO_BE;

	return w < 0 ? "invalid" : names[kind][w];
}

static const char *atomic_variant(const struct ua_insn *insn)
{
	switch (insn->imm) {
	case UA_ADD: return "lock add";
	case UA_OR: return "lock or";
	case UA_AND: return "lock and";
	case UA_XOR: return "lock xor";
	case UA_ADD | UA_FETCH: return "lock fetch_add";
	case UA_OR | UA_FETCH: return "lock fetch_or";
	case UA_AND | UA_FETCH: return "lock fetch_and";
	case UA_XOR | UA_FETCH: return "lock fetch_xor";
	case UA_XCHG: return "lock xchg";
	case UA_CMPXCHG: return "lock cmpxchg";
	case UA_LOAD_ACQ: return "load_acquire";
	case UA_STORE_REL: return "store_release";
	}
	return "invalid";
}

const char *ua_isa_mnemonic(const struct ua_insn *insn)
{
	const struct ua_isa_op *op = ua_isa_op(insn->code);

	if (!op)
		return "invalid";
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
		return alu_variant(insn, op);
	case UA_SHAPE_ALU_END:
		return end_variant(insn);
	case UA_SHAPE_ATOMIC:
		return atomic_variant(insn);
	case UA_SHAPE_CALL:
		return insn->src_reg == UA_PSEUDO_CALL ? "call local"
		       : insn->src_reg == UA_PSEUDO_KFUNC_CALL ? "call kfunc" : "call";
	default:
		return op->name;
	}
}

/* --- per-insn checks ---------------------------------------------------- */

struct insn_ctx {
	const struct ua_insn *insn;
	size_t idx;
	char *err;
	size_t err_sz;
};

static int bad(const struct insn_ctx *c, const char *what)
{
	return ua_errf(c->err, c->err_sz, -EINVAL, "isa: insn %zu: %s (%s, code 0x%02x)", c->idx,
		       what, ua_isa_mnemonic(c->insn), c->insn->code);
}

static int bad_field(const struct insn_ctx *c, const char *field, long long val)
{
	return ua_errf(c->err, c->err_sz, -EINVAL,
		       "isa: insn %zu: reserved field %s=%lld must be 0 (%s, code 0x%02x)", c->idx,
		       field, val, ua_isa_mnemonic(c->insn), c->insn->code);
}

static int check_src_read(const struct insn_ctx *c, unsigned reg)
{
	if (reg > 10)
		return ua_errf(c->err, c->err_sz, -EINVAL, "isa: insn %zu: invalid register r%u",
			       c->idx, reg);
	return 0;
}

static int check_written(const struct insn_ctx *c, unsigned reg)
{
	if (reg > 10)
		return check_src_read(c, reg);
	if (reg == 10)
		return ua_errf(c->err, c->err_sz, -EINVAL,
			       "isa: insn %zu: frame pointer r10 is read only", c->idx);
	return 0;
}

static int check_alu(const struct insn_ctx *c, unsigned flags)
{
	const struct ua_insn *in = c->insn;
	bool is64 = UA_CLASS(in->code) == UA_ALU64;
	unsigned op = UA_OP(in->code);
	bool x = UA_SRC(in->code) == UA_X;
	int ret;

	if ((ret = check_written(c, in->dst_reg)))
		return ret;
	if (x) {
		if ((ret = check_src_read(c, in->src_reg)))
			return ret;
	} else if (in->src_reg) {
		return bad_field(c, "src_reg", in->src_reg);
	}
	if (op == UA_MOV && x && is64 && in->off == UA_ADDR_SPACE_CAST) {
		if (in->imm != UA_CAST_KERN && in->imm != UA_CAST_USER)
			return bad(c, "addr_space_cast with invalid address spaces");
		if (!(flags & UA_ISA_HAS_ARENA))
			return ua_errf(c->err, c->err_sz, -EINVAL,
				       "isa: insn %zu: addr_space_cast insn can only be used in a "
				       "program that has an associated arena", c->idx);
		return 0;
	}
	if (x && in->imm)
		return bad_field(c, "imm", in->imm);
	if (op == UA_MOV && x) {
		if (in->off != 0 && in->off != 8 && in->off != 16 && !(is64 && in->off == 32))
			return bad(c, "invalid movsx width");
		return 0;
	}
	if (!x && (flags & UA_ISA_KERNEL_STRICT)) {
		int width = is64 ? 64 : 32;

		if ((op == UA_DIV || op == UA_MOD) && in->imm == 0)
			return ua_errf(c->err, c->err_sz, -EINVAL, "isa: insn %zu: div by zero",
				       c->idx);
		if ((op == UA_LSH || op == UA_RSH || op == UA_ARSH) &&
		    (in->imm < 0 || in->imm >= width))
			return ua_errf(c->err, c->err_sz, -EINVAL, "isa: insn %zu: invalid shift %d",
				       c->idx, in->imm);
	}
	if ((op == UA_DIV || op == UA_MOD) && (in->off == 0 || in->off == 1))
		return 0;
	if (in->off)
		return bad_field(c, "off", in->off);
	return 0;
}

static int check_atomic(const struct insn_ctx *c)
{
	const struct ua_insn *in = c->insn;
	unsigned size = UA_SIZE(in->code);
	int ret;

	if ((ret = check_src_read(c, in->dst_reg)) || (ret = check_src_read(c, in->src_reg)))
		return ret;
	switch (in->imm) {
	case UA_LOAD_ACQ:
		/* dst = *(src + off): the destination is dst_reg. */
		return check_written(c, in->dst_reg);
	case UA_STORE_REL:
		return 0;
	case UA_ADD: case UA_OR: case UA_AND: case UA_XOR:
		break;
	case UA_ADD | UA_FETCH: case UA_OR | UA_FETCH: case UA_AND | UA_FETCH:
	case UA_XOR | UA_FETCH: case UA_XCHG:
		if ((ret = check_written(c, in->src_reg)))
			return ret;
		break;
	case UA_CMPXCHG:
		break;
	default:
		return bad(c, "invalid atomic operation");
	}
	if (size != UA_W && size != UA_DW)
		return bad(c, "atomic read-modify-write needs a 32 or 64-bit size");
	return 0;
}

static int check_call(const struct insn_ctx *c)
{
	const struct ua_insn *in = c->insn;

	if (in->dst_reg)
		return bad_field(c, "dst_reg", in->dst_reg);
	switch (in->src_reg) {
	case 0:
	case UA_PSEUDO_CALL:
		if (in->off)
			return bad_field(c, "off", in->off);
		return 0;
	case UA_PSEUDO_KFUNC_CALL:
		return 0; /* off selects a module BTF (fd_array index) */
	}
	return bad(c, "invalid call type (src_reg)");
}

static int check_callx(const struct insn_ctx *c)
{
	const struct ua_insn *in = c->insn;

	if (in->src_reg)
		return bad_field(c, "src_reg", in->src_reg);
	if (in->off)
		return bad_field(c, "off", in->off);
	if (in->dst_reg && in->imm)
		return bad_field(c, "imm", in->imm);
	if (!in->dst_reg && (in->imm < 0 || in->imm > 10))
		return ua_errf(c->err, c->err_sz, -EINVAL, "isa: insn %zu: invalid register r%d",
			       c->idx, in->imm);
	return check_src_read(c, in->dst_reg);
}

static int check_jump(const struct insn_ctx *c, const struct ua_isa_op *op, unsigned flags)
{
	const struct ua_insn *in = c->insn;
	int ret;

	switch (op->shape) {
	case UA_SHAPE_JA:
	case UA_SHAPE_MAY_GOTO:
		if (in->dst_reg || in->src_reg)
			return bad_field(c, in->dst_reg ? "dst_reg" : "src_reg",
					 in->dst_reg ? in->dst_reg : in->src_reg);
		return in->imm ? bad_field(c, "imm", in->imm) : 0;
	case UA_SHAPE_JA32:
		if (in->dst_reg || in->src_reg)
			return bad_field(c, in->dst_reg ? "dst_reg" : "src_reg",
					 in->dst_reg ? in->dst_reg : in->src_reg);
		return in->off ? bad_field(c, "off", in->off) : 0;
	case UA_SHAPE_JCOND_K:
		if (in->src_reg)
			return bad_field(c, "src_reg", in->src_reg);
		return check_src_read(c, in->dst_reg);
	case UA_SHAPE_JCOND_X:
		if (in->imm)
			return bad_field(c, "imm", in->imm);
		if ((ret = check_src_read(c, in->dst_reg)))
			return ret;
		return check_src_read(c, in->src_reg);
	case UA_SHAPE_EXIT:
		if (in->dst_reg || in->src_reg || in->off || in->imm)
			return bad(c, "exit uses reserved fields");
		return 0;
	case UA_SHAPE_CALL:
		return check_call(c);
	case UA_SHAPE_CALLX:
		if (flags & UA_ISA_KERNEL_STRICT)
			return ua_errf(c->err, c->err_sz, -EINVAL,
				       "isa: insn %zu: invalid opcode 0x%02x", c->idx, in->code);
		return check_callx(c);
	default:
		UA_ASSERT(0);
		return bad(c, "not a jump");
	}
}

int ua_isa_check_insn(const struct ua_insn *in, size_t idx, unsigned flags, char *err,
		      size_t err_sz)
{
	const struct insn_ctx c = { in, idx, err, err_sz };
	const struct ua_isa_op *op = ua_isa_op(in->code);
	int ret;

	if (!op)
		return ua_errf(err, err_sz, -EINVAL, "isa: insn %zu: invalid opcode 0x%02x", idx,
			       in->code);
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
		return check_alu(&c, flags);
	case UA_SHAPE_ALU_NEG:
		if (in->src_reg || in->off || in->imm)
			return bad(&c, "neg uses reserved fields");
		return check_written(&c, in->dst_reg);
	case UA_SHAPE_ALU_END:
		if (in->src_reg || in->off)
			return bad(&c, "byte swap uses reserved fields");
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return bad(&c, "byte swap width must be 16, 32 or 64");
		return check_written(&c, in->dst_reg);
	case UA_SHAPE_LD_IMM64:
		if (in->off)
			return bad_field(&c, "off", in->off);
		if (in->src_reg > UA_PSEUDO_MAP_IDX_VALUE)
			return bad(&c, "invalid ld_imm64 pseudo type (src_reg)");
		return check_written(&c, in->dst_reg);
	case UA_SHAPE_LD_LEGACY:
		return bad(&c, "legacy LD_ABS/LD_IND are not supported");
	case UA_SHAPE_LDX:
		if (in->imm)
			return bad_field(&c, "imm", in->imm);
		if ((ret = check_src_read(&c, in->src_reg)))
			return ret;
		return check_written(&c, in->dst_reg);
	case UA_SHAPE_ST:
		if (in->src_reg)
			return bad_field(&c, "src_reg", in->src_reg);
		return check_src_read(&c, in->dst_reg);
	case UA_SHAPE_STX:
		if (in->imm)
			return bad_field(&c, "imm", in->imm);
		if ((ret = check_src_read(&c, in->src_reg)))
			return ret;
		return check_src_read(&c, in->dst_reg);
	case UA_SHAPE_ATOMIC:
		return check_atomic(&c);
	default:
		return check_jump(&c, op, flags);
	}
}

/* --- whole-program checks ---------------------------------------------- */

enum slot_kind {
	SLOT_INSN = 0,
	SLOT_IMM64_HI, /* second half of ld_imm64: never a target */
};

static bool is_unconditional_end(const struct ua_insn *in)
{
	return in->code == (UA_JMP | UA_EXIT) || in->code == (UA_JMP | UA_JA) ||
	       in->code == (UA_JMP32 | UA_JA);
}

static bool is_jump(const struct ua_isa_op *op)
{
	return op->shape == UA_SHAPE_JA || op->shape == UA_SHAPE_JA32 ||
	       op->shape == UA_SHAPE_JCOND_K || op->shape == UA_SHAPE_JCOND_X ||
	       op->shape == UA_SHAPE_MAY_GOTO;
}

/* Marks slots and subprogram starts; checks ld_imm64 pairs and call targets. */
static int scan_slots(const struct ua_insn *insns, size_t n, unsigned flags, uint8_t *slot,
		      uint8_t *starts, char *err, size_t err_sz)
{
	int ret;

	starts[0] = 1;
	for (size_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];

		if ((ret = ua_isa_check_insn(in, i, flags, err, err_sz)))
			return ret;
		if (ua_isa_is_ld_imm64(in)) {
			const struct ua_insn *hi = in + 1;

			if (i + 1 >= n)
				return ua_errf(err, err_sz, -EINVAL,
					       "isa: insn %zu: ld_imm64 is missing its second half", i);
			if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
				return ua_errf(err, err_sz, -EINVAL,
					       "isa: insn %zu: invalid second half of ld_imm64", i + 1);
			/* The kernel's resolve_pseudo_ldimm64: only the *_VALUE forms carry an
			 * offset in the second imm; a map reference itself must leave it 0. */
			if ((in->src_reg == UA_PSEUDO_MAP_FD || in->src_reg == UA_PSEUDO_MAP_IDX) &&
			    hi->imm)
				return ua_errf(err, err_sz, -EINVAL,
					       "isa: insn %zu: unrecognized bpf_ld_imm64 insn "
					       "(%s with nonzero second imm %d)", i,
					       in->src_reg == UA_PSEUDO_MAP_FD ? "map_fd" : "map_idx",
					       hi->imm);
			slot[++i] = SLOT_IMM64_HI;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];
		bool local_call = in->code == (UA_JMP | UA_CALL) && in->src_reg == UA_PSEUDO_CALL;
		bool func_addr = ua_isa_is_ld_imm64(in) && in->src_reg == UA_PSEUDO_FUNC;
		int64_t t;

		if (!local_call && !func_addr)
			continue;
		t = (int64_t)i + 1 + in->imm;
		if (t < 0 || (size_t)t >= n || slot[t] != SLOT_INSN)
			return ua_errf(err, err_sz, -EINVAL,
				       "isa: insn %zu: %s to invalid destination insn %lld", i,
				       local_call ? "call" : "function address", (long long)t);
		starts[t] = 1;
	}
	return 0;
}

int ua_isa_validate(const struct ua_insn *insns, size_t n, unsigned flags, char *err,
		    size_t err_sz)
{
	uint8_t *slot, *starts;
	size_t sub_begin = 0, sub_end = 0;
	int ret;

	if (!insns || n == 0)
		return ua_errf(err, err_sz, -EINVAL, "isa: program has no instructions");
	if (n > UA_ISA_MAX_INSNS)
		return ua_errf(err, err_sz, -E2BIG, "isa: program has %zu insns, limit %u", n,
			       UA_ISA_MAX_INSNS);
	slot = calloc(2 * n + 1, 1);
	if (!slot)
		return ua_errf(err, err_sz, -ENOMEM, "isa: out of memory (%zu insns)", n);
	starts = slot + n;
	starts[n] = 1; /* sentinel: the end closes the last subprogram */
	if ((ret = scan_slots(insns, n, flags, slot, starts, err, err_sz)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];
		const struct ua_isa_op *op = ua_isa_op(in->code);
		int64_t t;

		if (starts[i]) {
			sub_begin = i;
			for (sub_end = i + 1; !starts[sub_end]; sub_end++)
				;
		}
		if (slot[i] == SLOT_INSN && is_jump(op)) {
			t = ua_isa_jump_target(in, i);
			if (t < (int64_t)sub_begin || t >= (int64_t)sub_end) {
				ret = ua_errf(err, err_sz, -EINVAL,
					      "isa: insn %zu: jump out of range (to insn %lld)", i,
					      (long long)t);
				goto out;
			}
			if (slot[t] != SLOT_INSN) {
				ret = ua_errf(err, err_sz, -EINVAL,
					      "isa: insn %zu: jump into the middle of ld_imm64 "
					      "(insn %lld)", i, (long long)t);
				goto out;
			}
		}
		if (starts[i + 1] && (slot[i] != SLOT_INSN || !is_unconditional_end(in))) {
			ret = ua_errf(err, err_sz, -EINVAL,
				      i + 1 == n ? "isa: insn %zu: last insn is not an exit or jmp"
						 : "isa: insn %zu: falls through into the next "
						   "subprogram (no exit or jmp)", i);
			goto out;
		}
	}
	ret = 0;
out:
	free(slot);
	return ret;
}
