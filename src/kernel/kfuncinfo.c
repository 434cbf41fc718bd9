/* SPDX-License-Identifier: MIT */
/*
 * func_info for kernel twins of programs with callbacks.
 *
 * The verifier refuses an ld_imm64 BPF_PSEUDO_FUNC (a bpf_loop /
 * bpf_for_each_map_elem callback) unless the program was loaded with BTF
 * func_info, one record per subprogram, and the callback's FUNC is static
 * ("missing btf func_info", "callback function not static"). uarena's loader
 * links subprograms into the program and does not keep the object's .BTF.ext
 * records, so the twin gets a small BTF of its own instead of a sanitised
 * copy of the object's (which libbpf would have to fix up: DATASEC sizes,
 * .ksyms externs): one `int` type, one `int (void)` prototype and a static
 * FUNC per subprogram. Static subprograms are verified in their caller's
 * context, exactly as the kernel verifies a program loaded without BTF.
 *
 * Subprogram starts are found as the verifier finds them
 * (add_subprog_and_kfunc): insn 0, every BPF-to-BPF call target and every
 * BPF_PSEUDO_FUNC target.
 */
#include "kernel.h"

#include "internal.h"

#include <stdlib.h>

#define BTF_MAGIC 0xeb9f
#define BTF_KIND_INT 1
#define BTF_KIND_FUNC 12
#define BTF_KIND_FUNC_PROTO 13
#define BTF_INT_SIGNED (1u << 24)
#define TYPE_INT 1   /* type ids in the built BTF */
#define TYPE_PROTO 2

struct btf_header {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

struct ua_kfuncinfo {
	uint32_t *types;     /* 3 words per type; INT adds its encoding word */
	size_t n_words, cap_words;
	char *strs;
	size_t str_len, str_cap;
	uint32_t next_id;
};

static int push_words(struct ua_kfuncinfo *b, const uint32_t *w, size_t n)
{
	if (b->n_words + n > b->cap_words) {
		size_t cap = (b->cap_words + n) * 2;
		uint32_t *nt = realloc(b->types, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		b->types = nt;
		b->cap_words = cap;
	}
	memcpy(b->types + b->n_words, w, n * sizeof(*w));
	b->n_words += n;
	return 0;
}

/* Offset of a new string in the string section, or -ENOMEM. */
static long push_str(struct ua_kfuncinfo *b, const char *s)
{
	size_t len = strlen(s) + 1;
	long off = (long)b->str_len;

	if (b->str_len + len > b->str_cap) {
		size_t cap = (b->str_len + len) * 2;
		char *ns = realloc(b->strs, cap);

		if (!ns)
			return -ENOMEM;
		b->strs = ns;
		b->str_cap = cap;
	}
	memcpy(b->strs + b->str_len, s, len);
	b->str_len += len;
	return off;
}

int ua_kfuncinfo_create(struct ua_kfuncinfo **out)
{
	struct ua_kfuncinfo *b = calloc(1, sizeof(*b));
	long int_name;
	int ret;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	if (push_str(b, "") < 0 || (int_name = push_str(b, "int")) < 0) {
		ua_kfuncinfo_destroy(b);
		return -ENOMEM;
	}
	const uint32_t words[] = {
		(uint32_t)int_name, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED | 32, /* int */
		0, BTF_KIND_FUNC_PROTO << 24, TYPE_INT,                        /* int (void) */
	};
	ret = push_words(b, words, ARRAY_SIZE(words));
	if (ret) {
		ua_kfuncinfo_destroy(b);
		return ret;
	}
	b->next_id = TYPE_PROTO + 1;
	*out = b;
	return 0;
}

void ua_kfuncinfo_destroy(struct ua_kfuncinfo *b)
{
	if (!b)
		return;
	free(b->types);
	free(b->strs);
	free(b);
}

static bool needs_func_info(const struct ua_insn *insns, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i++)
		if (insns[i].code == (UA_LD | UA_DW | UA_IMM) && insns[i].src_reg == UA_PSEUDO_FUNC)
			return true;
	return false;
}

/* Marks subprogram starts in `start` (n entries); -EINVAL for a target outside. */
static int mark_subprogs(const struct ua_insn *insns, uint32_t n, bool *start)
{
	start[0] = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];
		bool call = in->code == (UA_JMP | UA_CALL) && in->src_reg == UA_PSEUDO_CALL;
		bool func = in->code == (UA_LD | UA_DW | UA_IMM) && in->src_reg == UA_PSEUDO_FUNC;
		int64_t target = (int64_t)i + in->imm + 1;

		if (!call && !func)
			continue;
		if (target < 0 || target >= n)
			return -EINVAL;
		start[target] = true;
	}
	return 0;
}

int ua_kfuncinfo_add_prog(struct ua_kfuncinfo *b, const char *name, const struct ua_insn *insns,
			  uint32_t n, struct ua_kbpf_func_info **recs, uint32_t *cnt)
{
	struct ua_kbpf_func_info *out = NULL;
	uint32_t k = 0;
	bool *start;
	int ret;

	*recs = NULL;
	*cnt = 0;
	if (!n || !needs_func_info(insns, n))
		return 0;
	start = calloc(n, sizeof(*start));
	if (!start)
		return -ENOMEM;
	ret = mark_subprogs(insns, n, start);
	for (uint32_t i = 0; i < n && !ret; i++)
		k += start[i];
	if (!ret && !(out = calloc(k, sizeof(*out))))
		ret = -ENOMEM;
	k = 0;
	for (uint32_t i = 0; i < n && !ret; i++) {
		char fname[96];
		long name_off;

		if (!start[i])
			continue;
		if (i)
			snprintf(fname, sizeof(fname), "%s_sub%u", name, i);
		else
			snprintf(fname, sizeof(fname), "%s", name);
		name_off = push_str(b, fname);
		if (name_off < 0) {
			ret = -ENOMEM;
			break;
		}
		/* vlen 0: BTF_FUNC_STATIC */
		const uint32_t words[] = { (uint32_t)name_off, BTF_KIND_FUNC << 24, TYPE_PROTO };

		ret = push_words(b, words, ARRAY_SIZE(words));
		out[k++] = (struct ua_kbpf_func_info){ .insn_off = i, .type_id = b->next_id++ };
	}
	free(start);
	if (ret) {
		free(out);
		return ret;
	}
	*recs = out;
	*cnt = k;
	return 0;
}

int ua_kfuncinfo_raw(const struct ua_kfuncinfo *b, void **raw, uint32_t *size)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = 1, .hdr_len = sizeof(h), .type_off = 0,
		.type_len = (uint32_t)(b->n_words * 4), .str_off = (uint32_t)(b->n_words * 4),
		.str_len = (uint32_t)b->str_len,
	};
	size_t total = sizeof(h) + b->n_words * 4 + b->str_len;
	uint8_t *p = malloc(total);

	if (!p)
		return -ENOMEM;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), b->types, b->n_words * 4);
	memcpy(p + sizeof(h) + b->n_words * 4, b->strs, b->str_len);
	*raw = p;
	*size = (uint32_t)total;
	return 0;
}
