/* SPDX-License-Identifier: MIT */
/*
 * Assembler: text -> struct ua_insn slots, in one pass plus label fixups.
 *
 * Model: each source line is either empty/comment, a "label:" (optionally
 * followed by an instruction), or one instruction. The instruction is encoded
 * immediately; a jump or call naming a label records a fixup (slot index,
 * field) resolved after the last line, so forward references cost nothing.
 * Both syntaxes share the output buffer, the label table, number parsing and
 * the range rules, and differ only in the per-line encoder:
 *
 *   conformance  encode_conformance_line()  mnemonic + comma/space operands
 *   kernel       asm_kernel_line()          C-like statements (asm_kernel.c)
 *
 * Range rules (the shared negative vectors check them): a 32-bit immediate in
 * decimal must fit s32 (2147483648 is rejected), in hex it may use all 32 bits
 * (0xffffffff is -1); a 16-bit offset likewise (decimal s16, hex <= 0xffff);
 * a 64-bit immediate (lddw) may use all 64 bits.
 */
#include "asm.h"
#include "asm_int.h"
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>

/* ---- shared plumbing: output, errors, labels, numbers ---- */

int asm_fail(struct asm_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ua_errf(c->err, c->err_sz, -EINVAL, "asm: line %d: %s", c->line, msg);
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t new_cap;
	void *p;

	if (need <= *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 64;
	while (new_cap < need)
		new_cap *= 2;
	p = realloc(*buf, new_cap * elem);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = new_cap;
	return 0;
}

int asm_emit(struct asm_ctx *c, struct ua_insn insn)
{
	if (grow((void **)&c->insns, &c->cap, c->n + 1, sizeof(insn)))
		return ua_errf(c->err, c->err_sz, -ENOMEM, "asm: out of memory (line %d)",
			       c->line);
	c->insns[c->n++] = insn;
	return 0;
}

int asm_emit_ld_imm64(struct asm_ctx *c, int dst, int src, uint64_t imm)
{
	struct ua_insn lo = { .code = UA_LD | UA_IMM | UA_DW, .dst_reg = dst, .src_reg = src,
			      .imm = (int32_t)(uint32_t)imm };
	struct ua_insn hi = { .imm = (int32_t)(uint32_t)(imm >> 32) };
	int err = asm_emit(c, lo);

	return err ? err : asm_emit(c, hi);
}

static bool is_ident_start(int ch)
{
	return isalpha(ch) || ch == '_' || ch == '.';
}

static bool is_ident_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '.' || ch == '$';
}

/* A label or symbol name at p of length len, as a C identifier (dots allowed
 * for LLVM's .LBB0_1). */
bool asm_is_ident(const char *p, size_t len)
{
	if (!len || !is_ident_start((unsigned char)p[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_ident_char((unsigned char)p[i]))
			return false;
	return true;
}

/* FNV-1a: labels are looked up once per definition and once per fixup, so a
 * hash keeps 100k-label programs linear. */
static uint64_t label_hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	return h;
}

/* Slot of name in the open-addressed index: its entry, or the empty slot
 * where it would go. The index holds label number + 1 (0 = empty). */
static size_t label_slot(const struct asm_ctx *c, const char *name, size_t len)
{
	size_t mask = c->index_cap - 1, i = label_hash(name, len) & mask;

	for (;; i = (i + 1) & mask) {
		const struct asm_label *l;

		if (!c->index[i])
			return i;
		l = &c->labels[c->index[i] - 1];
		if (strlen(l->name) == len && !memcmp(l->name, name, len))
			return i;
	}
}

static struct asm_label *find_label(struct asm_ctx *c, const char *name, size_t len)
{
	size_t i;

	if (!c->index_cap)
		return NULL;
	i = label_slot(c, name, len);
	return c->index[i] ? &c->labels[c->index[i] - 1] : NULL;
}

/* Keeps the index at most half full. */
static int index_reserve(struct asm_ctx *c)
{
	size_t cap = c->index_cap ? c->index_cap * 2 : 64;
	size_t *old = c->index, old_cap = c->index_cap;

	if (c->n_labels + 1 <= c->index_cap / 2)
		return 0;
	c->index = calloc(cap, sizeof(*c->index));
	if (!c->index) {
		c->index = old;
		return -ENOMEM;
	}
	c->index_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i]) {
			const struct asm_label *l = &c->labels[old[i] - 1];

			c->index[label_slot(c, l->name, strlen(l->name))] = old[i];
		}
	}
	free(old);
	return 0;
}

static int define_label(struct asm_ctx *c, const char *name, size_t len)
{
	struct asm_label *prev = find_label(c, name, len);
	char *copy;

	if (prev)
		return asm_fail(c, "Duplicate label (%.*s) (previous declaration at line %d)",
				(int)len, name, prev->line);
	if (grow((void **)&c->labels, &c->cap_labels, c->n_labels + 1, sizeof(*c->labels)) ||
	    index_reserve(c))
		return -ENOMEM;
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	c->labels[c->n_labels++] = (struct asm_label){ copy, c->n, c->line };
	c->index[label_slot(c, name, len)] = c->n_labels;
	return 0;
}

/* Records that the insn about to be emitted (slot c->n) jumps to a label. */
int asm_add_fixup(struct asm_ctx *c, const char *name, size_t len, enum asm_fixup_kind kind)
{
	char *copy;

	if (grow((void **)&c->fixups, &c->cap_fixups, c->n_fixups + 1, sizeof(*c->fixups)))
		return -ENOMEM;
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	c->fixups[c->n_fixups++] = (struct asm_fixup){ copy, c->n, c->line, kind };
	return 0;
}

static int resolve_fixups(struct asm_ctx *c)
{
	for (size_t i = 0; i < c->n_fixups; i++) {
		struct asm_fixup *f = &c->fixups[i];
		struct asm_label *l = find_label(c, f->name, strlen(f->name));
		int64_t delta;
		size_t target;

		c->line = f->line;
		if (l)
			target = l->pc;
		else if (!strcmp(f->name, "exit") && c->first_exit != SIZE_MAX)
			target = c->first_exit; /* the reference assembler's implicit label */
		else
			return asm_fail(c, "Invalid label: %s", f->name);
		delta = (int64_t)target - (int64_t)f->pc - 1;
		if (f->kind == ASM_FIX_OFF) {
			if (delta < INT16_MIN || delta > INT16_MAX)
				return asm_fail(c, "Jump offset out of range: %s (%lld)", f->name,
						(long long)delta);
			c->insns[f->pc].off = (int16_t)delta;
		} else {
			c->insns[f->pc].imm = (int32_t)delta;
		}
	}
	return 0;
}

/* [+-]?(0x[0-9a-fA-F]+|[0-9]+) at *pp; advances past it. No whitespace. */
bool asm_scan_num(const char **pp, struct asm_num *n)
{
	const char *p = *pp;
	uint64_t v = 0;
	int base = 10, digits = 0;

	*n = (struct asm_num){ 0 };
	if (*p == '+' || *p == '-')
		n->neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		n->hex = true;
		p += 2;
	}
	for (;; p++, digits++) {
		int d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			n->overflow = true;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (!digits || is_ident_char((unsigned char)*p))
		return false;
	n->mag = v;
	*pp = p;
	return true;
}

/* Whole-token number: the token must be exactly one number. */
bool asm_parse_num(const char *tok, struct asm_num *n)
{
	const char *p = tok;

	return asm_scan_num(&p, n) && *p == '\0';
}

bool asm_num_imm32(const struct asm_num *n, int32_t *out)
{
	uint64_t pos_max = n->hex ? UINT32_MAX : INT32_MAX;

	if (n->overflow || (n->neg ? n->mag > (uint64_t)INT32_MAX + 1 : n->mag > pos_max))
		return false;
	*out = (int32_t)(uint32_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

bool asm_num_off16(const struct asm_num *n, int16_t *out)
{
	uint64_t pos_max = n->hex ? UINT16_MAX : INT16_MAX;

	if (n->overflow || (n->neg ? n->mag > (uint64_t)INT16_MAX + 1 : n->mag > pos_max))
		return false;
	*out = (int16_t)(uint16_t)(n->neg ? 0 - n->mag : n->mag);
	return true;
}

bool asm_num_imm64(const struct asm_num *n, uint64_t *out)
{
	if (n->overflow || (n->neg && n->mag > (uint64_t)INT64_MAX + 1))
		return false;
	*out = n->neg ? 0 - n->mag : n->mag;
	return true;
}

/* ---- conformance syntax ---- */

#define CONF_MAX_TOKENS 8

struct conf_line {
	const char *mnemonic;
	const char *ops[CONF_MAX_TOKENS];
	int n_ops;
};

/* Splits on blanks and commas; a "[...]" operand may contain blanks. Writes
 * NULs into buf. Returns false on too many tokens. */
static bool conf_tokenize(char *buf, struct conf_line *out)
{
	char *p = buf;
	int n = -1;

	*out = (struct conf_line){ 0 };
	for (;;) {
		char *start;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		start = p;
		if (*p == '[') {
			char *close = strchr(p, ']');

			p = close ? close + 1 : p + strlen(p);
		}
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
		if (n == CONF_MAX_TOKENS - 1)
			return false;
		if (n < 0)
			out->mnemonic = start;
		else
			out->ops[n] = start;
		n++;
	}
	out->n_ops = n < 0 ? 0 : n;
	return true;
}

static int conf_reg(struct asm_ctx *c, const char *tok, int *reg)
{
	struct asm_num n;

	if (tok[0] == '%' && tok[1] == 'r' && isdigit((unsigned char)tok[2]) &&
	    asm_parse_num(tok + 2, &n) && !n.hex && n.mag < UA_MAX_BPF_REG) {
		*reg = (int)n.mag;
		return 0;
	}
	return asm_fail(c, "Invalid register: %s", tok);
}

static int conf_imm32(struct asm_ctx *c, const char *tok, int32_t *imm)
{
	struct asm_num n;

	if (!asm_parse_num(tok, &n))
		return asm_fail(c, "Invalid immediate: %s", tok);
	if (!asm_num_imm32(&n, imm))
		return asm_fail(c, "Immediate out of 32-bit range: %s", tok);
	return 0;
}

/* "[%rN]", "[%rN+off]", "[%rN-off]" (blanks allowed inside). */
static int conf_mem(struct asm_ctx *c, const char *tok, int *reg, int16_t *off)
{
	char buf[64], *p = buf, *q = buf;
	size_t len = strlen(tok);
	char *sign;
	struct asm_num n;

	if (len < 3 || tok[0] != '[' || tok[len - 1] != ']' || len >= sizeof(buf))
		return asm_fail(c, "Failed to decode register and offset: %s", tok);
	for (size_t i = 1; i < len - 1; i++) /* drop blanks: "[%r1 + 4]" */
		if (tok[i] != ' ' && tok[i] != '\t')
			*q++ = tok[i];
	*q = '\0';
	sign = strpbrk(p, "+-");
	*off = 0;
	if (sign) {
		if (!asm_parse_num(sign, &n))
			return asm_fail(c, "Failed to decode register and offset: %s", tok);
		if (!asm_num_off16(&n, off))
			return asm_fail(c, "Offset out of 16-bit range: %s", tok);
		*sign = '\0';
	}
	return conf_reg(c, p, reg);
}

/* A jump target: "+N"/"-N"/"N" (slots after the next insn) or a label. */
static int conf_target(struct asm_ctx *c, const char *tok, enum asm_fixup_kind kind,
		       int32_t *rel)
{
	struct asm_num n;

	*rel = 0;
	if (asm_parse_num(tok, &n)) {
		int16_t off16;

		if (kind == ASM_FIX_OFF ? !asm_num_off16(&n, &off16) || n.hex
					: !asm_num_imm32(&n, rel))
			return asm_fail(c, "Jump offset out of range: %s", tok);
		if (kind == ASM_FIX_OFF)
			*rel = off16;
		return 0;
	}
	if (!asm_is_ident(tok, strlen(tok)))
		return asm_fail(c, "Invalid label: %s", tok);
	return asm_add_fixup(c, tok, strlen(tok), kind);
}

struct conf_alu {
	const char *name;
	uint8_t op;
	int16_t off;
};

static const struct conf_alu conf_alu_ops[] = {
	{ "add", UA_ADD, 0 },  { "sub", UA_SUB, 0 },   { "mul", UA_MUL, 0 },
	{ "div", UA_DIV, 0 },  { "sdiv", UA_DIV, 1 },  { "or", UA_OR, 0 },
	{ "and", UA_AND, 0 },  { "lsh", UA_LSH, 0 },   { "rsh", UA_RSH, 0 },
	{ "neg", UA_NEG, 0 },  { "mod", UA_MOD, 0 },   { "smod", UA_MOD, 1 },
	{ "xor", UA_XOR, 0 },  { "mov", UA_MOV, 0 },   { "arsh", UA_ARSH, 0 },
	{ "movsx8", UA_MOV, 8 }, { "movsx16", UA_MOV, 16 }, { "movsx32", UA_MOV, 32 },
};

static const struct {
	const char *name;
	uint8_t op;
} conf_jmp_ops[] = {
	{ "jeq", UA_JEQ },   { "jgt", UA_JGT },   { "jge", UA_JGE },   { "jset", UA_JSET },
	{ "jne", UA_JNE },   { "jsgt", UA_JSGT }, { "jsge", UA_JSGE }, { "jlt", UA_JLT },
	{ "jle", UA_JLE },   { "jslt", UA_JSLT }, { "jsle", UA_JSLE },
};

static const struct {
	const char *suffix;
	uint8_t size;
} conf_sizes[] = { { "b", UA_B }, { "h", UA_H }, { "w", UA_W }, { "dw", UA_DW } };

static int conf_size(const char *suffix)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_sizes); i++)
		if (!strcmp(suffix, conf_sizes[i].suffix))
			return conf_sizes[i].size;
	return -1;
}

static int conf_want(struct asm_ctx *c, const struct conf_line *l, int n)
{
	if (l->n_ops != n)
		return asm_fail(c, "Invalid number of operands for mnemonic: %s", l->mnemonic);
	return 0;
}

/* Splits "add32" into ("add", 32), "add64"/"add" into ("add", 64). */
static int conf_width(const char *m, char *base, size_t base_sz)
{
	size_t len = strlen(m);
	int width = 64;

	if (len > 2 && (!strcmp(m + len - 2, "32") || !strcmp(m + len - 2, "64"))) {
		width = m[len - 2] == '3' ? 32 : 64;
		len -= 2;
	}
	if (len >= base_sz)
		return -1;
	memcpy(base, m, len);
	base[len] = '\0';
	return width;
}

static int conf_encode_alu(struct asm_ctx *c, const struct conf_line *l, bool *matched)
{
	char base[16];
	int width = conf_width(l->mnemonic, base, sizeof(base));
	const struct conf_alu *op = NULL;
	struct ua_insn insn = { 0 };
	int dst, src, err;

	for (size_t i = 0; width > 0 && i < ARRAY_SIZE(conf_alu_ops); i++)
		if (!strcmp(base, conf_alu_ops[i].name))
			op = &conf_alu_ops[i];
	*matched = op != NULL;
	if (!op)
		return 0;
	insn.code = (width == 32 ? UA_ALU : UA_ALU64) | op->op;
	insn.off = op->off;
	if (op->op == UA_NEG) {
		if ((err = conf_want(c, l, 1)) || (err = conf_reg(c, l->ops[0], &dst)))
			return err;
		insn.dst_reg = dst;
		return asm_emit(c, insn);
	}
	if ((err = conf_want(c, l, 2)) || (err = conf_reg(c, l->ops[0], &dst)))
		return err;
	insn.dst_reg = dst;
	if (l->ops[1][0] == '%') {
		if ((err = conf_reg(c, l->ops[1], &src)))
			return err;
		insn.code |= UA_X;
		insn.src_reg = src;
	} else {
		if (op->op == UA_MOV && op->off)
			return asm_fail(c, "Invalid register: %s", l->ops[1]);
		if ((err = conf_imm32(c, l->ops[1], &insn.imm)))
			return err;
	}
	if (op->op == UA_MOV && op->off && (width == 32 && op->off == 32))
		return asm_fail(c, "Invalid mnemonic: %s", l->mnemonic);
	return asm_emit(c, insn);
}

static int conf_encode_endian(struct asm_ctx *c, const struct conf_line *l, bool *matched)
{
	static const struct {
		const char *prefix;
		uint8_t code;
	} kinds[] = {
		{ "be", UA_ALU | UA_END | UA_TO_BE },
		{ "le", UA_ALU | UA_END | UA_TO_LE },
		{ "swap", UA_ALU64 | UA_END },
		{ "bswap", UA_ALU64 | UA_END },
	};
	const char *m = l->mnemonic;

	*matched = false;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t plen = strlen(kinds[i].prefix);
		const char *bits = m + plen;
		struct ua_insn insn = { .code = kinds[i].code };
		int dst, err;

		if (strncmp(m, kinds[i].prefix, plen) ||
		    (strcmp(bits, "16") && strcmp(bits, "32") && strcmp(bits, "64")))
			continue;
		*matched = true;
		if ((err = conf_want(c, l, 1)) || (err = conf_reg(c, l->ops[0], &dst)))
			return err;
		insn.dst_reg = dst;
		insn.imm = atoi(bits);
		return asm_emit(c, insn);
	}
	return 0;
}

static int conf_encode_ldst(struct asm_ctx *c, const struct conf_line *l, bool *matched)
{
	const char *m = l->mnemonic;
	struct ua_insn insn = { 0 };
	int size, reg, mem_reg, err;
	int16_t off;

	*matched = true;
	if (!strncmp(m, "ldxs", 4) && (size = conf_size(m + 4)) >= 0 && size != UA_DW) {
		insn.code = UA_LDX | UA_MEMSX | size;
	} else if (!strncmp(m, "ldx", 3) && (size = conf_size(m + 3)) >= 0) {
		insn.code = UA_LDX | UA_MEM | size;
	} else if (!strncmp(m, "stx", 3) && (size = conf_size(m + 3)) >= 0) {
		insn.code = UA_STX | UA_MEM | size;
	} else if (!strncmp(m, "st", 2) && (size = conf_size(m + 2)) >= 0) {
		insn.code = UA_ST | UA_MEM | size;
	} else if (!strcmp(m, "lddw")) {
		struct asm_num n;
		uint64_t imm;

		if ((err = conf_want(c, l, 2)) || (err = conf_reg(c, l->ops[0], &reg)))
			return err;
		if (!asm_parse_num(l->ops[1], &n))
			return asm_fail(c, "Invalid immediate: %s", l->ops[1]);
		if (!asm_num_imm64(&n, &imm))
			return asm_fail(c, "Immediate out of 64-bit range: %s", l->ops[1]);
		return asm_emit_ld_imm64(c, reg, 0, imm);
	} else {
		*matched = false;
		return 0;
	}
	if ((err = conf_want(c, l, 2)))
		return err;
	if (UA_CLASS(insn.code) == UA_LDX) {
		if ((err = conf_reg(c, l->ops[0], &reg)) ||
		    (err = conf_mem(c, l->ops[1], &mem_reg, &off)))
			return err;
		insn.dst_reg = reg;
		insn.src_reg = mem_reg;
	} else {
		if ((err = conf_mem(c, l->ops[0], &mem_reg, &off)))
			return err;
		insn.dst_reg = mem_reg;
		if (UA_CLASS(insn.code) == UA_STX) {
			if ((err = conf_reg(c, l->ops[1], &reg)))
				return err;
			insn.src_reg = reg;
		} else if ((err = conf_imm32(c, l->ops[1], &insn.imm))) {
			return err;
		}
	}
	insn.off = off;
	return asm_emit(c, insn);
}

/* lock [fetch] OP[32] [%rD+off], %rS */
static int conf_encode_lock(struct asm_ctx *c, const struct conf_line *l)
{
	static const struct {
		const char *name;
		int32_t imm;
	} ops[] = {
		{ "add", UA_ADD }, { "and", UA_AND }, { "or", UA_OR }, { "xor", UA_XOR },
		{ "xchg", UA_XCHG }, { "cmpxchg", UA_CMPXCHG },
	};
	bool fetch = l->n_ops > 0 && !strcmp(l->ops[0], "fetch");
	int first = fetch ? 1 : 0, dst, src, err, width;
	struct ua_insn insn = { 0 };
	char base[16];
	int16_t off;

	if (l->n_ops - first != 3)
		return asm_fail(c, "Invalid number of operands for lock");
	width = conf_width(l->ops[first], base, sizeof(base));
	insn.imm = -1;
	for (size_t i = 0; width > 0 && i < ARRAY_SIZE(ops); i++)
		if (!strcmp(base, ops[i].name))
			insn.imm = ops[i].imm | (fetch ? UA_FETCH : 0);
	if (insn.imm < 0)
		return asm_fail(c, "Invalid mnemonic: lock %s", l->ops[first]);
	if ((err = conf_mem(c, l->ops[first + 1], &dst, &off)) ||
	    (err = conf_reg(c, l->ops[first + 2], &src)))
		return err;
	insn.code = UA_STX | UA_ATOMIC | (width == 32 ? UA_W : UA_DW);
	insn.dst_reg = dst;
	insn.src_reg = src;
	insn.off = off;
	return asm_emit(c, insn);
}

static int conf_encode_call(struct asm_ctx *c, const struct conf_line *l)
{
	struct ua_insn insn = { .code = UA_JMP | UA_CALL };
	const char *mode = l->n_ops == 2 ? l->ops[0] : "helper";
	const char *target;
	int reg, err;
	int32_t rel;

	if (l->n_ops != 1 && l->n_ops != 2)
		return asm_fail(c, "Invalid number of operands for mnemonic: call");
	target = l->ops[l->n_ops - 1];
	if (!strcmp(mode, "local")) {
		if ((err = conf_target(c, target, ASM_FIX_IMM, &rel)))
			return err;
		insn.src_reg = UA_PSEUDO_CALL;
		insn.imm = rel;
	} else if (!strcmp(mode, "helper") && target[0] == '%') {
		/* callx: the register holding the target in dst (bpf_conformance) */
		if ((err = conf_reg(c, target, &reg)))
			return err;
		insn.code |= UA_X;
		insn.dst_reg = reg;
	} else if (!strcmp(mode, "helper") || !strcmp(mode, "runtime")) {
		if ((err = conf_imm32(c, target, &insn.imm)))
			return err;
		insn.src_reg = mode[0] == 'r' ? UA_PSEUDO_KFUNC_CALL : 0;
	} else {
		return asm_fail(c, "Invalid call mode");
	}
	return asm_emit(c, insn);
}

static int conf_encode_jmp(struct asm_ctx *c, const struct conf_line *l, bool *matched)
{
	const char *m = l->mnemonic;
	struct ua_insn insn = { 0 };
	char base[16];
	int width, reg, err;
	int32_t rel;

	*matched = true;
	if (!strcmp(m, "exit")) {
		if ((err = conf_want(c, l, 0)))
			return err;
		if (c->first_exit == SIZE_MAX)
			c->first_exit = c->n;
		return asm_emit(c, (struct ua_insn){ .code = UA_JMP | UA_EXIT });
	}
	if (!strcmp(m, "call"))
		return conf_encode_call(c, l);
	if (!strcmp(m, "ja") || !strcmp(m, "ja32")) {
		bool wide = m[2] == '3';

		if ((err = conf_want(c, l, 1)) ||
		    (err = conf_target(c, l->ops[0], wide ? ASM_FIX_IMM : ASM_FIX_OFF, &rel)))
			return err;
		insn.code = (wide ? UA_JMP32 : UA_JMP) | UA_JA;
		if (wide)
			insn.imm = rel;
		else
			insn.off = (int16_t)rel;
		return asm_emit(c, insn);
	}
	width = conf_width(m, base, sizeof(base));
	insn.code = 0xff;
	for (size_t i = 0; width > 0 && i < ARRAY_SIZE(conf_jmp_ops); i++)
		if (!strcmp(base, conf_jmp_ops[i].name) && (width == 32 || strlen(base) == strlen(m)))
			insn.code = (width == 32 ? UA_JMP32 : UA_JMP) | conf_jmp_ops[i].op;
	if (insn.code == 0xff) {
		*matched = false;
		return 0;
	}
	if ((err = conf_want(c, l, 3)) || (err = conf_reg(c, l->ops[0], &reg)))
		return err;
	insn.dst_reg = reg;
	if (l->ops[1][0] == '%') {
		if ((err = conf_reg(c, l->ops[1], &reg)))
			return err;
		insn.code |= UA_X;
		insn.src_reg = reg;
	} else if ((err = conf_imm32(c, l->ops[1], &insn.imm))) {
		return err;
	}
	if ((err = conf_target(c, l->ops[2], ASM_FIX_OFF, &rel)))
		return err;
	insn.off = (int16_t)rel;
	return asm_emit(c, insn);
}

static int encode_conformance_line(struct asm_ctx *c, char *text)
{
	struct conf_line l;
	bool matched = false;
	int err;

	if (!conf_tokenize(text, &l))
		return asm_fail(c, "Too many operands");
	if (!l.mnemonic)
		return 0;
	if (!strcmp(l.mnemonic, "lock"))
		return conf_encode_lock(c, &l);
	if ((err = conf_encode_ldst(c, &l, &matched)) || matched)
		return err;
	if ((err = conf_encode_jmp(c, &l, &matched)) || matched)
		return err;
	if ((err = conf_encode_endian(c, &l, &matched)) || matched)
		return err;
	if ((err = conf_encode_alu(c, &l, &matched)) || matched)
		return err;
	return asm_fail(c, "Invalid mnemonic: %s", l.mnemonic);
}

/* ---- driver ---- */

enum ua_asm_syntax ua_asm_detect(const char *text)
{
	return strstr(text, "%r") ? UA_ASM_CONFORMANCE : UA_ASM_KERNEL;
}

/* Strips the comment and surrounding blanks; handles a leading "label:". */
static int asm_line(struct asm_ctx *c, char *line, enum ua_asm_syntax syntax)
{
	char *hash = strchr(line, '#'), *p = line, *end, *colon;

	if (syntax == UA_ASM_CONFORMANCE && hash)
		*hash = '\0';
	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (!*p)
		return 0;
	colon = strchr(p, ':');
	if (colon && asm_is_ident(p, (size_t)(colon - p))) {
		int err = define_label(c, p, (size_t)(colon - p));

		if (err)
			return err;
		p = colon + 1;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
	}
	if (syntax == UA_ASM_CONFORMANCE)
		return encode_conformance_line(c, p);
	return asm_kernel_line(c, p);
}

static void ctx_free_tables(struct asm_ctx *c)
{
	for (size_t i = 0; i < c->n_labels; i++)
		free(c->labels[i].name);
	for (size_t i = 0; i < c->n_fixups; i++)
		free(c->fixups[i].name);
	free(c->labels);
	free(c->fixups);
	free(c->index);
}

int ua_asm_parse(const char *text, enum ua_asm_syntax syntax, struct ua_insn **out,
		 size_t *n_out, char *err_buf, size_t err_sz)
{
	struct asm_ctx c = { .err = err_buf, .err_sz = err_sz, .first_exit = SIZE_MAX };
	const char *p = text;
	char *line = NULL;
	size_t line_cap = 0;
	int err = 0;

	if (!text || !out || !n_out)
		return ua_errf(err_buf, err_sz, -EINVAL, "asm: NULL argument");
	*out = NULL;
	*n_out = 0;
	if (syntax == UA_ASM_AUTO)
		syntax = ua_asm_detect(text);
	if (syntax != UA_ASM_KERNEL && syntax != UA_ASM_CONFORMANCE)
		return ua_errf(err_buf, err_sz, -EINVAL, "asm: unknown syntax %d", (int)syntax);

	while (*p && !err) {
		size_t len = strcspn(p, "\n");

		c.line++;
		if (grow((void **)&line, &line_cap, len + 1, 1)) {
			err = ua_errf(err_buf, err_sz, -ENOMEM, "asm: out of memory (line %d)",
				      c.line);
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		err = asm_line(&c, line, syntax);
		p += len;
		if (*p == '\n')
			p++;
	}
	if (!err)
		err = resolve_fixups(&c);
	free(line);
	ctx_free_tables(&c);
	if (err) {
		free(c.insns);
		return err == -ENOMEM ? ua_errf(err_buf, err_sz, -ENOMEM, "asm: out of memory") : err;
	}
	*out = c.insns;
	*n_out = c.n;
	return 0;
}

/* ---- programs from verifier logs ---- */

struct log_line {
	size_t idx, order;
	uint8_t code;
	const char *text;
	size_t len;
};

static int log_line_cmp(const void *a, const void *b)
{
	const struct log_line *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* "   12: (b7) text" -> idx 12, code 0xb7, text; false for any other line. */
static bool parse_log_line(const char *line, size_t len, struct log_line *out)
{
	const char *p = line, *end = line + len;
	size_t idx = 0;
	int digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && isdigit((unsigned char)*p) && digits < 8; p++, digits++)
		idx = idx * 10 + (size_t)(*p - '0');
	if (!digits || end - p < 7 || memcmp(p, ": (", 3) || !isxdigit((unsigned char)p[3]) ||
	    !isxdigit((unsigned char)p[4]) || p[5] != ')' || p[6] != ' ')
		return false;
	out->idx = idx;
	out->code = (uint8_t)strtoul((char[3]){ p[3], p[4], 0 }, NULL, 16);
	out->text = p + 7;
	out->len = (size_t)(end - (p + 7));
	return true;
}

static int collect_log_lines(const char *log, struct log_line **lines, size_t *n)
{
	size_t cap = 0;

	*lines = NULL;
	*n = 0;
	for (const char *p = log; *p;) {
		size_t len = strcspn(p, "\n");
		struct log_line l;

		if (parse_log_line(p, len, &l)) {
			if (grow((void **)lines, &cap, *n + 1, sizeof(**lines)))
				return -ENOMEM;
			l.order = *n;
			(*lines)[(*n)++] = l;
		}
		p += len + (p[len] == '\n');
	}
	if (*n > 1)
		qsort(*lines, *n, sizeof(**lines), log_line_cmp);
	return 0;
}

/* "asm: line 1: what" -> "what", so the message can name the log's index. */
static const char *after_line_prefix(const char *msg)
{
	const char *p = msg;

	if (strncmp(p, "asm: line ", 10))
		return msg;
	p += 10 + strspn(p + 10, "0123456789");
	return strncmp(p, ": ", 2) ? msg : p + 2;
}

int ua_asm_from_log(const char *log, struct ua_insn **out, size_t *n_out, char *err_buf,
		    size_t err_sz)
{
	struct asm_ctx c = { .err = err_buf, .err_sz = err_sz, .first_exit = SIZE_MAX };
	struct log_line *lines;
	size_t n_lines, prev = SIZE_MAX;
	int err;

	if (!log || !out || !n_out)
		return ua_errf(err_buf, err_sz, -EINVAL, "asm: NULL argument");
	*out = NULL;
	*n_out = 0;
	if ((err = collect_log_lines(log, &lines, &n_lines)))
		return ua_errf(err_buf, err_sz, err, "asm: out of memory");
	for (size_t i = 0; i < n_lines && !err; i++) {
		struct log_line *l = &lines[i];
		struct ua_insn *one = NULL;
		char *text, why[256] = "";
		size_t got = 0;

		if (l->idx == prev)
			continue; /* the same insn seen again on another path */
		prev = l->idx;
		if (l->idx != c.n) {
			err = ua_errf(err_buf, err_sz, -EINVAL,
				      "asm: log has no insn %zu (not reached by the verifier?)", c.n);
			break;
		}
		text = strndup(l->text, l->len);
		if (!text) {
			err = ua_errf(err_buf, err_sz, -ENOMEM, "asm: out of memory");
			break;
		}
		err = ua_asm_parse(text, UA_ASM_KERNEL, &one, &got, why, sizeof(why));
		free(text);
		if (!err && (!got || one[0].code != l->code))
			err = ua_errf(err_buf, err_sz, -EINVAL,
				      "asm: log insn %zu: text does not encode to opcode 0x%02x",
				      l->idx, l->code);
		else if (err)
			err = ua_errf(err_buf, err_sz, err, "asm: log insn %zu: %s", l->idx,
				      after_line_prefix(why));
		for (size_t k = 0; !err && k < got; k++)
			err = asm_emit(&c, one[k]);
		free(one);
	}
	free(lines);
	if (!err && !c.n)
		err = ua_errf(err_buf, err_sz, -EINVAL, "asm: no \"N: (xx) insn\" lines in the log");
	if (err) {
		free(c.insns);
		return err;
	}
	*out = c.insns;
	*n_out = c.n;
	return 0;
}
