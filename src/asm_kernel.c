/* SPDX-License-Identifier: MIT */
/*
 * Kernel verifier-log syntax front end of the assembler (grammar in asm.h).
 *
 * Model: a recursive-descent scan over one statement with a cursor. The first
 * token picks the statement family (exit, goto/gotol/may_goto, call/callx,
 * if, lock, store_release, "*(" store, or a register being assigned); each
 * family parses exactly the text disasm.c prints for it, plus the LLVM
 * spellings that differ only in blanks ("r10 - 8", "goto +3", "ll").
 * Blanks are optional between tokens; a statement must end at end of line.
 */
#include "asm_int.h"
#include "disasm.h"
#include "internal.h"

#include <ctype.h>

struct cur {
	const char *p;
	struct asm_ctx *c;
};

static void skip_ws(struct cur *s)
{
	while (isspace((unsigned char)*s->p))
		s->p++;
}

/* Consumes str (after blanks) if it is next; a word must not run on. */
static bool lit(struct cur *s, const char *str)
{
	size_t len = strlen(str);

	skip_ws(s);
	if (strncmp(s->p, str, len))
		return false;
	if (isalnum((unsigned char)str[len - 1]) &&
	    (isalnum((unsigned char)s->p[len]) || s->p[len] == '_'))
		return false;
	s->p += len;
	return true;
}

static int expected(struct cur *s, const char *what)
{
	skip_ws(s);
	if (!*s->p)
		return asm_fail(s->c, "expected %s at end of line", what);
	return asm_fail(s->c, "expected %s at '%.24s'", what, s->p);
}

static int need(struct cur *s, const char *str)
{
	return lit(s, str) ? 0 : expected(s, str);
}

/* rN or wN at the cursor: its number and letter; false (cursor unmoved) if none. */
static bool try_reg(struct cur *s, int *reg, char *kind)
{
	const char *p;
	int n = 0, digits = 0;

	skip_ws(s);
	p = s->p;
	if (*p != 'r' && *p != 'w')
		return false;
	for (p++; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
		n = n * 10 + (*p - '0');
	if (!digits || isalnum((unsigned char)*p) || *p == '_')
		return false;
	*kind = s->p[0];
	*reg = n;
	s->p = p;
	return true;
}

static int reg(struct cur *s, int *regno, char *kind)
{
	const char *at;

	skip_ws(s);
	at = s->p;
	if (!try_reg(s, regno, kind))
		return expected(s, "register");
	if (*regno >= UA_MAX_BPF_REG)
		return asm_fail(s->c, "invalid register %.*s", (int)(s->p - at), at);
	return 0;
}

/* A register of the given kind ('r' or 'w'). */
static int reg_of(struct cur *s, int *regno, char want)
{
	char kind;
	int err = reg(s, regno, &kind);

	if (!err && kind != want)
		return asm_fail(s->c, "expected %c%d, not %c%d (register width)", want, *regno, kind,
				*regno);
	return err;
}

static bool try_num(struct cur *s, struct asm_num *n)
{
	skip_ws(s);
	return asm_scan_num(&s->p, n);
}

/* A number operand; *at is where its text starts (for range errors). */
static int number(struct cur *s, struct asm_num *n, const char **at)
{
	skip_ws(s);
	*at = s->p;
	return try_num(s, n) ? 0 : expected(s, "number");
}

static int imm32(struct cur *s, int32_t *out)
{
	const char *at;
	struct asm_num n;
	int err = number(s, &n, &at);

	if (err)
		return err;
	if (!asm_num_imm32(&n, out))
		return asm_fail(s->c, "Immediate out of 32-bit range: %.*s", (int)(s->p - at), at);
	return 0;
}

/* An unsigned 32-bit operand (map ids, offsets): the disassembler prints %u. */
static int uimm32(struct cur *s, int32_t *out)
{
	const char *at;
	struct asm_num n;
	int err = number(s, &n, &at);

	if (err)
		return err;
	if (n.neg || n.overflow || n.mag > UINT32_MAX)
		return asm_fail(s->c, "Immediate out of unsigned 32-bit range: %.*s",
				(int)(s->p - at), at);
	*out = (int32_t)(uint32_t)n.mag;
	return 0;
}

/* "+4", "-8", "- 8", "+0x10"; nothing (before ')') means 0. */
static int offset16(struct cur *s, int16_t *off)
{
	const char *at;
	struct asm_num n;
	bool neg;

	skip_ws(s);
	*off = 0;
	if (*s->p == ')')
		return 0;
	at = s->p;
	if (*s->p != '+' && *s->p != '-')
		return expected(s, "+/- offset");
	neg = *s->p++ == '-';
	skip_ws(s);
	if (!try_num(s, &n) || n.neg)
		return expected(s, "offset");
	n.neg = neg;
	if (!asm_num_off16(&n, off))
		return asm_fail(s->c, "Offset out of 16-bit range: %.*s", (int)(s->p - at), at);
	return 0;
}

/* "u8".."u64" (and "s8".."s32" when sx is non-NULL); returns the size bits. */
static int mem_type(struct cur *s, bool *sx)
{
	static const struct {
		const char *name;
		int size;
		bool sx;
	} types[] = {
		{ "u8", UA_B, false },  { "u16", UA_H, false }, { "u32", UA_W, false },
		{ "u64", UA_DW, false }, { "s8", UA_B, true },   { "s16", UA_H, true },
		{ "s32", UA_W, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if ((types[i].sx && !sx) || !lit(s, types[i].name))
			continue;
		if (sx)
			*sx = types[i].sx;
		return types[i].size;
	}
	return expected(s, sx ? "u8/u16/u32/u64/s8/s16/s32" : "u8/u16/u32/u64");
}

/* "(SIZE *)(rN +off)" after the leading '(' or "*(" was consumed. */
static int mem_operand(struct cur *s, bool *sx, int *size, int *base, int16_t *off)
{
	int err;

	if ((*size = mem_type(s, sx)) < 0)
		return *size;
	if ((err = need(s, "*")) || (err = need(s, ")")) || (err = need(s, "(")) ||
	    (err = reg_of(s, base, 'r')) || (err = offset16(s, off)))
		return err;
	return need(s, ")");
}

/* "pc+3", "+3", "-3", "3" or a label; kind says where the distance goes. */
static int target(struct cur *s, enum asm_fixup_kind kind, int32_t *rel)
{
	const char *at;
	struct asm_num n;
	int16_t off16;

	skip_ws(s);
	*rel = 0;
	if (!strncmp(s->p, "pc", 2) && (s->p[2] == '+' || s->p[2] == '-'))
		s->p += 2;
	at = s->p;
	if (try_num(s, &n)) {
		if (n.hex || (kind == ASM_FIX_OFF ? !asm_num_off16(&n, &off16)
						  : !asm_num_imm32(&n, rel)))
			return asm_fail(s->c, "Jump offset out of range: %.*s", (int)(s->p - at), at);
		if (kind == ASM_FIX_OFF)
			*rel = off16;
		return 0;
	}
	while (isalnum((unsigned char)*s->p) || *s->p == '_' || *s->p == '.' || *s->p == '$')
		s->p++;
	if (!asm_is_ident(at, (size_t)(s->p - at)))
		return expected(s, "jump target (pc+N or label)");
	return asm_add_fixup(s->c, at, (size_t)(s->p - at), kind);
}

static int jump_stmt(struct cur *s, uint8_t code, enum asm_fixup_kind kind, int src_reg)
{
	struct ua_insn insn = { .code = code, .src_reg = src_reg };
	int32_t rel;
	int err = target(s, kind, &rel);

	if (err)
		return err;
	if (kind == ASM_FIX_OFF)
		insn.off = (int16_t)rel;
	else
		insn.imm = rel;
	return asm_emit(s->c, insn);
}

static const char *const cond_ops[16] = {
	[UA_JEQ >> 4] = "==",  [UA_JGT >> 4] = ">",   [UA_JGE >> 4] = ">=",
	[UA_JSET >> 4] = "&",  [UA_JNE >> 4] = "!=",  [UA_JSGT >> 4] = "s>",
	[UA_JSGE >> 4] = "s>=", [UA_JLT >> 4] = "<",  [UA_JLE >> 4] = "<=",
	[UA_JSLT >> 4] = "s<", [UA_JSLE >> 4] = "s<=",
};

/* if rD OP rS|imm goto T */
static int if_stmt(struct cur *s)
{
	struct ua_insn insn = { 0 };
	size_t best_len = 0;
	int dst, src, err;
	int32_t rel;
	char kind;

	if ((err = reg(s, &dst, &kind)))
		return err;
	skip_ws(s);
	for (int i = 0; i < 16; i++) { /* longest match: "s>=" before "s>" */
		size_t len = cond_ops[i] ? strlen(cond_ops[i]) : 0;

		if (len > best_len && !strncmp(s->p, cond_ops[i], len)) {
			best_len = len;
			insn.code = (uint8_t)(i << 4);
		}
	}
	if (!best_len)
		return expected(s, "comparison operator");
	s->p += best_len;
	insn.code |= kind == 'w' ? UA_JMP32 : UA_JMP;
	insn.dst_reg = dst;
	skip_ws(s);
	if (*s->p == 'r' || *s->p == 'w') {
		if ((err = reg_of(s, &src, kind)))
			return err;
		insn.code |= UA_X;
		insn.src_reg = src;
	} else if ((err = imm32(s, &insn.imm))) {
		return err;
	}
	if ((err = need(s, "goto")) || (err = target(s, ASM_FIX_OFF, &rel)))
		return err;
	insn.off = (int16_t)rel;
	return asm_emit(s->c, insn);
}

/* call pc+N | call LABEL | call NAME#ID | call ID | call NAME (a helper) */
static int call_stmt(struct cur *s)
{
	struct ua_insn insn = { .code = UA_JMP | UA_CALL };
	const char *name;
	size_t len;
	int err;

	skip_ws(s);
	if (isdigit((unsigned char)*s->p) || *s->p == '-' || *s->p == '+') {
		if ((err = imm32(s, &insn.imm)))
			return err;
		return asm_emit(s->c, insn);
	}
	if (!strncmp(s->p, "pc", 2) && (s->p[2] == '+' || s->p[2] == '-')) {
		insn.src_reg = UA_PSEUDO_CALL;
		if ((err = target(s, ASM_FIX_IMM, &insn.imm)))
			return err;
		return asm_emit(s->c, insn);
	}
	name = s->p;
	while (*s->p && !isspace((unsigned char)*s->p) && *s->p != '#')
		s->p++;
	len = (size_t)(s->p - name);
	if (!len)
		return expected(s, "call target");
	if (*s->p == '#') {
		const char *id_name;
		int32_t helper;

		s->p++;
		if ((err = imm32(s, &insn.imm)))
			return err;
		/* A helper's own name or the kernel's "unknown" mean a helper call;
		 * any other name is a kfunc ("kernel-function" or its BTF name). */
		id_name = ua_disasm_helper_name(insn.imm);
		if ((id_name && strlen(id_name) == len && !memcmp(id_name, name, len)) ||
		    (len == 7 && !memcmp(name, "unknown", 7)))
			return asm_emit(s->c, insn);
		helper = ua_disasm_helper_id(name, len);
		if (helper >= 0)
			return asm_fail(s->c, "%.*s is helper #%d, not #%d", (int)len, name, helper,
					insn.imm);
		insn.src_reg = UA_PSEUDO_KFUNC_CALL;
		return asm_emit(s->c, insn);
	}
	if ((insn.imm = ua_disasm_helper_id(name, len)) >= 0)
		return asm_emit(s->c, insn);
	if (!asm_is_ident(name, len))
		return expected(s, "call target");
	insn.src_reg = UA_PSEUDO_CALL; /* a label: bpf-to-bpf call */
	insn.imm = 0;
	if ((err = asm_add_fixup(s->c, name, len, ASM_FIX_IMM)))
		return err;
	return asm_emit(s->c, insn);
}

/* The register an atomic names: rN, or wN in a 32-bit operation (LLVM). */
static int atomic_reg(struct cur *s, int *regno, int size)
{
	char kind;
	int err = reg(s, regno, &kind);

	if (!err && kind == 'w' && size != UA_W)
		return asm_fail(s->c, "w%d in a 64-bit atomic", *regno);
	return err;
}

/* Where every atomic form ends: insn already holds the operation (imm) and src_reg. */
static int emit_atomic(struct cur *s, struct ua_insn insn, int size, int base, int16_t off)
{
	insn.code = UA_STX | UA_ATOMIC | size;
	insn.dst_reg = base;
	insn.off = off;
	return asm_emit(s->c, insn);
}

/* lock *(SZ *)(rD +off) OP= rS */
static int lock_stmt(struct cur *s)
{
	static const struct {
		const char *op;
		int32_t imm;
	} ops[] = { { "+=", UA_ADD }, { "&=", UA_AND }, { "|=", UA_OR }, { "^=", UA_XOR } };
	struct ua_insn insn = { .imm = -1 };
	int size, base, src, err;
	int16_t off;

	if ((err = need(s, "*")) || (err = need(s, "(")) ||
	    (err = mem_operand(s, NULL, &size, &base, &off)))
		return err;
	for (size_t i = 0; i < ARRAY_SIZE(ops) && insn.imm < 0; i++)
		if (lit(s, ops[i].op))
			insn.imm = ops[i].imm;
	if (insn.imm < 0)
		return expected(s, "+=, &=, |= or ^=");
	if ((err = atomic_reg(s, &src, size)))
		return err;
	insn.src_reg = src;
	return emit_atomic(s, insn, size, base, off);
}

/* store_release((SZ *)(rD +off), rS) */
static int store_release_stmt(struct cur *s)
{
	struct ua_insn insn = { .imm = UA_STORE_REL };
	int size, base, src, err;
	int16_t off;
	char kind;

	if ((err = need(s, "(")) || (err = need(s, "(")) ||
	    (err = mem_operand(s, NULL, &size, &base, &off)) || (err = need(s, ",")) ||
	    (err = reg(s, &src, &kind)) || (err = need(s, ")")))
		return err;
	if (kind == 'w' && size == UA_DW)
		return asm_fail(s->c, "w%d in a 64-bit atomic", src);
	insn.src_reg = src;
	return emit_atomic(s, insn, size, base, off);
}

/* *(SZ *)(rD +off) = rS|wS|imm */
static int store_stmt(struct cur *s)
{
	struct ua_insn insn = { 0 };
	int size, base, src, err;
	int16_t off;
	char kind;

	if ((err = mem_operand(s, NULL, &size, &base, &off)) || (err = need(s, "=")))
		return err;
	insn.dst_reg = base;
	insn.off = off;
	if (try_reg(s, &src, &kind)) {
		if (src >= UA_MAX_BPF_REG)
			return asm_fail(s->c, "invalid register %c%d", kind, src);
		insn.code = UA_STX | UA_MEM | size;
		insn.src_reg = src;
	} else {
		if ((err = imm32(s, &insn.imm)))
			return err;
		insn.code = UA_ST | UA_MEM | size;
	}
	return asm_emit(s->c, insn);
}

/* "[r0,] rS)" after the memory operand of a fetch/xchg/cmpxchg; checks the
 * registers the encoding implies (result in src, or in r0 for cmpxchg). */
static int atomic_tail(struct cur *s, struct ua_insn *insn, int dst, int size)
{
	int src, old, err;

	if (insn->imm == UA_CMPXCHG) {
		if ((err = atomic_reg(s, &old, size)) || (err = need(s, ",")))
			return err;
		if (old != 0 || dst != 0)
			return asm_fail(s->c, "cmpxchg compares and returns in r0");
	}
	if ((err = atomic_reg(s, &src, size)) || (err = need(s, ")")))
		return err;
	if (insn->imm != UA_CMPXCHG && src != dst)
		return asm_fail(s->c, "atomic fetch returns into its source register (r%d, not r%d)",
				src, dst);
	insn->src_reg = src;
	return 0;
}

/* After "rD = atomic[64]_": fetch_OP / xchg / cmpxchg forms. */
static int atomic_rhs(struct cur *s, int dst, char kind, bool is64)
{
	static const struct {
		const char *name;
		int32_t imm;
	} ops[] = {
		{ "fetch_add", UA_ADD | UA_FETCH }, { "fetch_and", UA_AND | UA_FETCH },
		{ "fetch_or", UA_OR | UA_FETCH },   { "fetch_xor", UA_XOR | UA_FETCH },
		{ "xchg", UA_XCHG },                 { "cmpxchg", UA_CMPXCHG },
	};
	struct ua_insn insn = { .imm = -1 };
	int size, base, err;
	int16_t off;

	for (size_t i = 0; i < ARRAY_SIZE(ops) && insn.imm < 0; i++)
		if (lit(s, ops[i].name))
			insn.imm = ops[i].imm;
	if (insn.imm < 0)
		return expected(s, "fetch_add/fetch_and/fetch_or/fetch_xor/xchg/cmpxchg");
	if ((err = need(s, "(")) || (err = need(s, "(")) ||
	    (err = mem_operand(s, NULL, &size, &base, &off)) || (err = need(s, ",")))
		return err;
	/* The type decides the width; LLVM writes atomic_fetch_add((u64 *)...)
	 * where the kernel prints atomic64_, so only a contradiction fails. */
	if (is64 && size != UA_DW)
		return asm_fail(s->c, "atomic64 needs a u64 operand");
	if (size != UA_DW && size != UA_W)
		return asm_fail(s->c, "atomic read-modify-write needs a u32 or u64 operand");
	if (kind == 'w' && size != UA_W)
		return asm_fail(s->c, "w%d in a 64-bit atomic", dst);
	if ((err = atomic_tail(s, &insn, dst, size)))
		return err;
	return emit_atomic(s, insn, size, base, off);
}

/* LLVM's spellings: rD = xchg_64(rB + off, rD), wD = xchg32_32(...),
 * r0 = cmpxchg_64(rB + off, r0, rS), w0 = cmpxchg32_32(...). */
static int llvm_xchg_rhs(struct cur *s, int dst, char kind, bool *matched)
{
	static const struct {
		const char *name;
		int32_t imm;
		int size;
	} forms[] = {
		{ "xchg_64", UA_XCHG, UA_DW },       { "xchg32_32", UA_XCHG, UA_W },
		{ "cmpxchg_64", UA_CMPXCHG, UA_DW }, { "cmpxchg32_32", UA_CMPXCHG, UA_W },
	};
	struct ua_insn insn = { .imm = -1 };
	int size = 0, base, err;
	int16_t off;

	for (size_t i = 0; i < ARRAY_SIZE(forms) && insn.imm < 0; i++) {
		if (lit(s, forms[i].name)) {
			insn.imm = forms[i].imm;
			size = forms[i].size;
		}
	}
	*matched = insn.imm >= 0;
	if (!*matched)
		return 0;
	if ((kind == 'w') != (size == UA_W))
		return asm_fail(s->c, "%c%d does not match the operation's width", kind, dst);
	if ((err = need(s, "(")) || (err = reg_of(s, &base, 'r')) || (err = offset16(s, &off)) ||
	    (err = need(s, ",")) || (err = atomic_tail(s, &insn, dst, size)))
		return err;
	return emit_atomic(s, insn, size, base, off);
}

/* After "rD =": "*(SZ *)(rS +off)" or "*(SZ *)skb[...]" */
static int load_rhs(struct cur *s, int dst)
{
	struct ua_insn insn = { 0 };
	int size, base, err;
	bool sx;
	int16_t off;

	if ((size = mem_type(s, &sx)) < 0)
		return size;
	if ((err = need(s, "*")) || (err = need(s, ")")))
		return err;
	if (lit(s, "skb")) { /* legacy packet access: r0 only */
		char kind;

		if (dst != 0 || sx)
			return asm_fail(s->c, "skb loads write r0 with an unsigned type");
		if ((err = need(s, "[")))
			return err;
		insn.code = UA_LD | UA_ABS | size;
		if (try_reg(s, &base, &kind)) {
			if (base >= UA_MAX_BPF_REG || kind != 'r')
				return asm_fail(s->c, "invalid register %c%d", kind, base);
			if ((err = need(s, "+")))
				return err;
			insn.code = UA_LD | UA_IND | size;
			insn.src_reg = base;
		}
		if ((err = imm32(s, &insn.imm)) || (err = need(s, "]")))
			return err;
		return asm_emit(s->c, insn);
	}
	if ((err = need(s, "(")) || (err = reg_of(s, &base, 'r')) || (err = offset16(s, &off)) ||
	    (err = need(s, ")")))
		return err;
	if (sx && size == UA_DW)
		return asm_fail(s->c, "no sign-extending 64-bit load");
	insn.code = UA_LDX | (sx ? UA_MEMSX : UA_MEM) | size;
	insn.dst_reg = dst;
	insn.src_reg = base;
	insn.off = off;
	return asm_emit(s->c, insn);
}

/* After "rD =": map[id:N], map[id:N][0]+OFF, map[idx:N], map[idx:N]+OFF,
 * subprog[+N], btf_id[N]. */
static int pseudo_rhs(struct cur *s, int dst)
{
	int32_t imm, hi = 0;
	int src, err;

	if (lit(s, "subprog")) {
		int32_t rel;

		if ((err = need(s, "[")) || (err = target(s, ASM_FIX_IMM, &rel)) ||
		    (err = need(s, "]")))
			return err;
		return asm_emit_ld_imm64(s->c, dst, UA_PSEUDO_FUNC, (uint32_t)rel);
	}
	if (lit(s, "btf_id")) {
		if ((err = need(s, "[")) || (err = uimm32(s, &imm)) || (err = need(s, "]")))
			return err;
		return asm_emit_ld_imm64(s->c, dst, UA_PSEUDO_BTF_ID, (uint32_t)imm);
	}
	if ((err = need(s, "map")) || (err = need(s, "[")))
		return err;
	if (lit(s, "id"))
		src = UA_PSEUDO_MAP_FD;
	else if (lit(s, "idx"))
		src = UA_PSEUDO_MAP_IDX;
	else
		return expected(s, "id: or idx:");
	if ((err = need(s, ":")) || (err = uimm32(s, &imm)) || (err = need(s, "]")))
		return err;
	if (src == UA_PSEUDO_MAP_FD && lit(s, "[")) {
		if ((err = need(s, "0")) || (err = need(s, "]")) || (err = need(s, "+")) ||
		    (err = uimm32(s, &hi)))
			return err;
		src = UA_PSEUDO_MAP_VALUE;
	} else if (src == UA_PSEUDO_MAP_IDX && lit(s, "+")) {
		if ((err = uimm32(s, &hi)))
			return err;
		src = UA_PSEUDO_MAP_IDX_VALUE;
	}
	return asm_emit_ld_imm64(s->c, dst, src,
				 ((uint64_t)(uint32_t)hi << 32) | (uint32_t)imm);
}

/* After "rD = " / "wD = ": a number (mov imm, or ld_imm64 for rD with hex/ll). */
static int const_rhs(struct cur *s, int dst, char kind)
{
	const char *at = s->p;
	struct asm_num n;
	struct ua_insn insn = { .dst_reg = dst };
	bool ll;

	if (!try_num(s, &n))
		return expected(s, "register, number or expression");
	ll = lit(s, "ll");
	if (kind == 'r' && (ll || (n.hex && !n.neg))) {
		uint64_t v;

		if (!asm_num_imm64(&n, &v))
			return asm_fail(s->c, "Immediate out of 64-bit range: %.*s", (int)(s->p - at),
					at);
		return asm_emit_ld_imm64(s->c, dst, 0, v);
	}
	if (ll)
		return asm_fail(s->c, "ll needs a 64-bit register");
	if (!asm_num_imm32(&n, &insn.imm))
		return asm_fail(s->c, "Immediate out of 32-bit range: %.*s", (int)(s->p - at), at);
	insn.code = (kind == 'w' ? UA_ALU : UA_ALU64) | UA_MOV | UA_K;
	return asm_emit(s->c, insn);
}

/* After "rD =": every right-hand side that is not "rS"/"imm". */
static int special_rhs(struct cur *s, int dst, char kind, bool *matched)
{
	static const struct {
		const char *prefix;
		uint8_t code;
	} swaps[] = {
		{ "bswap", UA_ALU64 | UA_END }, { "be", UA_ALU | UA_END | UA_TO_BE },
		{ "le", UA_ALU | UA_END | UA_TO_LE },
	};
	int src, err;

	*matched = true;
	skip_ws(s);
	for (size_t i = 0; i < ARRAY_SIZE(swaps); i++) {
		size_t len = strlen(swaps[i].prefix);
		struct ua_insn insn = { .code = swaps[i].code, .dst_reg = dst };
		int bits = 0;

		if (strncmp(s->p, swaps[i].prefix, len) || !isdigit((unsigned char)s->p[len]))
			continue;
		s->p += len;
		while (isdigit((unsigned char)*s->p) && bits < 100)
			bits = bits * 10 + (*s->p++ - '0');
		if (bits != 16 && bits != 32 && bits != 64)
			return asm_fail(s->c, "byte swap width must be 16, 32 or 64");
		if (kind != 'r' || (err = reg_of(s, &src, 'r')))
			return kind != 'r' ? asm_fail(s->c, "byte swaps are written rD = be16 rD") : err;
		if (src != dst)
			return asm_fail(s->c, "byte swap works in place (r%d = ... r%d)", dst, dst);
		insn.imm = bits;
		return asm_emit(s->c, insn);
	}
	if (*s->p == '-') {
		struct ua_insn insn = { .code = (kind == 'w' ? UA_ALU : UA_ALU64) | UA_NEG,
					.dst_reg = dst };
		const char *minus = s->p++;

		skip_ws(s);
		if (!(*s->p == 'r' || *s->p == 'w')) { /* a negative constant */
			s->p = minus;
			*matched = false;
			return 0;
		}
		if ((err = reg_of(s, &src, kind)))
			return err;
		if (src != dst)
			return asm_fail(s->c, "negation works in place (%c%d = -%c%d)", kind, dst, kind,
					dst);
		return asm_emit(s->c, insn);
	}
	if (lit(s, "*")) {
		if (kind != 'r' || (err = need(s, "(")))
			return kind != 'r' ? asm_fail(s->c, "loads write a 64-bit register") : err;
		return load_rhs(s, dst);
	}
	if (kind == 'r' && lit(s, "addr_space_cast")) {
		struct ua_insn insn = { .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = dst,
					.off = UA_ADDR_SPACE_CAST };
		int32_t dst_as, src_as;

		if ((err = need(s, "(")) || (err = reg_of(s, &src, 'r')) || (err = need(s, ",")) ||
		    (err = imm32(s, &dst_as)) || (err = need(s, ",")) || (err = imm32(s, &src_as)) ||
		    (err = need(s, ")")))
			return err;
		if (dst_as < 0 || dst_as > 0xffff || src_as < 0 || src_as > 0xffff)
			return asm_fail(s->c, "address spaces are 0..65535");
		insn.src_reg = src;
		insn.imm = (int32_t)(((uint32_t)dst_as << 16) | (uint32_t)src_as);
		return asm_emit(s->c, insn);
	}
	if (lit(s, "load_acquire")) { /* LLVM 21 writes wD for the narrow sizes */
		struct ua_insn insn = { .imm = UA_LOAD_ACQ, .dst_reg = dst };
		int size, base;
		int16_t off;

		if ((err = need(s, "(")) || (err = need(s, "(")) ||
		    (err = mem_operand(s, NULL, &size, &base, &off)) || (err = need(s, ")")))
			return err;
		if (kind == 'w' && size == UA_DW)
			return asm_fail(s->c, "w%d in a 64-bit atomic", dst);
		insn.code = UA_STX | UA_ATOMIC | size;
		insn.src_reg = base;
		insn.off = off;
		return asm_emit(s->c, insn);
	}
	if (lit(s, "atomic64_") || lit(s, "atomic_"))
		return atomic_rhs(s, dst, kind, s->p[-2] == '4');
	if ((err = llvm_xchg_rhs(s, dst, kind, matched)) || *matched)
		return err;
	*matched = true;
	if (kind == 'r' && (!strncmp(s->p, "map[", 4) || !strncmp(s->p, "subprog[", 8) ||
			    !strncmp(s->p, "btf_id[", 7)))
		return pseudo_rhs(s, dst);
	*matched = false;
	return 0;
}

static const struct {
	const char *op;
	uint8_t code;
	int16_t off;
} alu_assign_ops[] = { /* longest first where one is a prefix of another */
	{ "s>>=", UA_ARSH, 0 }, { "s/=", UA_DIV, 1 }, { "s%=", UA_MOD, 1 },
	{ "<<=", UA_LSH, 0 },   { ">>=", UA_RSH, 0 }, { "+=", UA_ADD, 0 },
	{ "-=", UA_SUB, 0 },    { "*=", UA_MUL, 0 },  { "/=", UA_DIV, 0 },
	{ "|=", UA_OR, 0 },     { "&=", UA_AND, 0 },  { "%=", UA_MOD, 0 },
	{ "^=", UA_XOR, 0 },    { "=", UA_MOV, 0 },
};

/* rD OP= rS | rD OP= imm | rD = <rhs> */
static int assign_stmt(struct cur *s)
{
	struct ua_insn insn = { 0 };
	int dst, src, err, i = -1;
	char kind;

	if ((err = reg(s, &dst, &kind)))
		return err;
	for (size_t k = 0; k < ARRAY_SIZE(alu_assign_ops) && i < 0; k++)
		if (lit(s, alu_assign_ops[k].op))
			i = (int)k;
	if (i < 0)
		return expected(s, "assignment operator");
	insn.code = (kind == 'w' ? UA_ALU : UA_ALU64) | alu_assign_ops[i].code;
	insn.dst_reg = dst;
	insn.off = alu_assign_ops[i].off;
	if (alu_assign_ops[i].code == UA_MOV) {
		bool matched;
		static const struct {
			const char *cast;
			int16_t bits;
		} casts[] = { { "(s8)", 8 }, { "(s16)", 16 }, { "(s32)", 32 } };

		if ((err = special_rhs(s, dst, kind, &matched)) || matched)
			return err;
		for (size_t k = 0; k < ARRAY_SIZE(casts); k++)
			if (lit(s, casts[k].cast))
				insn.off = casts[k].bits;
		if (insn.off == 32 && kind == 'w')
			return asm_fail(s->c, "(s32) needs a 64-bit destination");
		skip_ws(s);
		if (!insn.off && *s->p != 'r' && *s->p != 'w')
			return const_rhs(s, dst, kind);
	}
	skip_ws(s);
	if (*s->p == 'r' || *s->p == 'w') {
		if ((err = reg_of(s, &src, kind)))
			return err;
		insn.code |= UA_X;
		insn.src_reg = src;
		return asm_emit(s->c, insn);
	}
	if (insn.off && alu_assign_ops[i].code == UA_MOV)
		return expected(s, "register");
	if ((err = imm32(s, &insn.imm)))
		return err;
	return asm_emit(s->c, insn);
}

static int statement(struct cur *s)
{
	int err, dst;

	if (lit(s, "exit"))
		return asm_emit(s->c, (struct ua_insn){ .code = UA_JMP | UA_EXIT });
	if (lit(s, "goto"))
		return jump_stmt(s, UA_JMP | UA_JA, ASM_FIX_OFF, 0);
	if (lit(s, "gotol"))
		return jump_stmt(s, UA_JMP32 | UA_JA, ASM_FIX_IMM, 0);
	if (lit(s, "may_goto"))
		return jump_stmt(s, UA_JMP | UA_JCOND, ASM_FIX_OFF, UA_MAY_GOTO);
	if (lit(s, "callx")) {
		if ((err = reg_of(s, &dst, 'r')))
			return err;
		return asm_emit(s->c, (struct ua_insn){ .code = UA_JMP | UA_CALL | UA_X,
							.dst_reg = dst });
	}
	if (lit(s, "call"))
		return call_stmt(s);
	if (lit(s, "if"))
		return if_stmt(s);
	if (lit(s, "lock"))
		return lock_stmt(s);
	if (lit(s, "store_release"))
		return store_release_stmt(s);
	if (lit(s, "*")) {
		if ((err = need(s, "(")))
			return err;
		return store_stmt(s);
	}
	skip_ws(s);
	if (*s->p == 'r' || *s->p == 'w')
		return assign_stmt(s);
	return asm_fail(s->c, "unknown instruction '%.24s'", s->p);
}

/* Drops "12: " and "(b7) " (verifier log / bpftool listing) and "; ..." or
 * "// ..." comments. */
static char *strip_decorations(char *text)
{
	char *p = text, *q;

	for (q = p; isdigit((unsigned char)*q); q++)
		;
	if (q > p && *q == ':')
		p = q + 1;
	while (isspace((unsigned char)*p))
		p++;
	if (p[0] == '(' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
	    p[3] == ')')
		p += 4;
	if ((q = strchr(p, ';')))
		*q = '\0';
	if ((q = strstr(p, "//")))
		*q = '\0';
	return p;
}

int asm_kernel_line(struct asm_ctx *c, char *text)
{
	struct cur s = { strip_decorations(text), c };
	size_t before = c->n;
	int err;

	skip_ws(&s);
	if (!*s.p)
		return 0;
	err = statement(&s);
	if (err)
		return err;
	skip_ws(&s);
	if (*s.p) {
		c->n = before; /* the statement is not what it looked like */
		return asm_fail(c, "unexpected '%.24s' after instruction", s.p);
	}
	if (c->n > before && c->insns[before].code == (UA_JMP | UA_EXIT) &&
	    c->first_exit == SIZE_MAX)
		c->first_exit = before;
	return 0;
}
