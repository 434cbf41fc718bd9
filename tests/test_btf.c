/* SPDX-License-Identifier: MIT */
/*
 * BTF parser: hand-built blobs with exact expected ids/sizes, every
 * malformation rejected with -EINVAL and a message naming the type, and
 * the running kernel's vmlinux BTF as a large real input.
 */
#include "test.h"

#include "btf.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* A tiny blob builder: types are u32 words, strings a byte array. */
struct blob {
	uint32_t types[64];
	unsigned n_types_words;
	char strs[256];
	unsigned str_len;
};

static uint32_t add_str(struct blob *b, const char *s)
{
	uint32_t off = b->str_len;

	memcpy(b->strs + off, s, strlen(s) + 1);
	b->str_len += (unsigned)strlen(s) + 1;
	return off;
}

static void add_words(struct blob *b, const uint32_t *w, unsigned n)
{
	memcpy(b->types + b->n_types_words, w, n * 4);
	b->n_types_words += n;
}

#define INFO(kind, vlen) (((uint32_t)(kind) << 24) | (vlen))

/* Serialises header + types + strings; returns malloc'd buffer. */
static uint8_t *build(const struct blob *b, size_t *size)
{
	uint32_t tl = b->n_types_words * 4;
	size_t sz = 24 + tl + b->str_len;
	uint8_t *p = calloc(1, sz);
	uint32_t hdr[6] = { 0x0001eB9F | 0, 24, 0, tl, tl, b->str_len };

	hdr[0] = 0xeB9F | (1u << 16); /* magic, version 1, flags 0 */
	memcpy(p, hdr, 24);
	memcpy(p + 24, b->types, tl);
	memcpy(p + 24 + tl, b->strs, b->str_len);
	*size = sz;
	return p;
}

/* id 1: int "int" 4 bytes; id 2: struct "pair" { int a; int b[3]; }; id 3: array of 3 int;
 * id 4: typedef "pair_t" -> 2; id 5: const -> 4. */
static void std_blob(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	add_str(b, "");
	uint32_t n_int = add_str(b, "int"), n_pair = add_str(b, "pair"), n_a = add_str(b, "a"),
		 n_b = add_str(b, "b"), n_t = add_str(b, "pair_t");
	uint32_t t1[] = { n_int, INFO(UA_BTF_KIND_INT, 0), 4, (1u << 24) | 32 };
	uint32_t t2[] = { n_pair, INFO(UA_BTF_KIND_STRUCT, 2), 16, n_a, 1, 0, n_b, 3, 32 };
	uint32_t t3[] = { 0, INFO(UA_BTF_KIND_ARRAY, 0), 0, 1, 1, 3 };
	uint32_t t4[] = { n_t, INFO(UA_BTF_KIND_TYPEDEF, 0), 2 };
	uint32_t t5[] = { 0, INFO(UA_BTF_KIND_CONST, 0), 4 };

	add_words(b, t1, 4);
	add_words(b, t2, 9);
	add_words(b, t3, 6);
	add_words(b, t4, 3);
	add_words(b, t5, 3);
}

TEST(btf, parses_hand_built_blob)
{
	struct blob b;
	struct ua_btf *btf;
	char err[128] = "";
	size_t sz;

	std_blob(&b);
	uint8_t *raw = build(&b, &sz);

	REQUIRE_EQ(ua_btf_parse(raw, sz, NULL, err, sizeof(err), &btf), 0);
	free(raw); /* the parser keeps its own copy */
	CHECK_EQ(ua_btf_type_cnt(btf), 6);
	CHECK(ua_btf_type_by_id(btf, 0) == NULL);
	CHECK(ua_btf_type_by_id(btf, 6) == NULL);
	CHECK_EQ(ua_btf_find_by_name_kind(btf, "pair", UA_BTF_KIND_STRUCT), 2);
	CHECK_EQ(ua_btf_find_by_name_kind(btf, "pair", UA_BTF_KIND_UNION), -ENOENT);
	CHECK_EQ(ua_btf_find_by_name_kind(btf, "pair_t", UA_BTF_KIND_TYPEDEF), 4);
	CHECK_EQ(ua_btf_skip_mods(btf, 5), 2);
	CHECK_EQ(ua_btf_resolve_size(btf, 5), 16);
	CHECK_EQ(ua_btf_resolve_size(btf, 3), 12);
	const struct ua_btf_type *s = ua_btf_type_by_id(btf, 2);

	CHECK_EQ(ua_btf_vlen(s), 2);
	CHECK_STR(ua_btf_str(btf, ua_btf_members(s)[1].name_off), "b");
	CHECK_EQ(ua_btf_members(s)[1].offset, 32);
	CHECK(ua_btf_str(btf, 1000) == NULL);
	ua_btf_free(btf);
}

static void expect_bad(const uint8_t *raw, size_t sz, int want, const char *msg)
{
	struct ua_btf *btf = (void *)1;
	char err[160] = "";

	CHECK_EQ(ua_btf_parse(raw, sz, NULL, err, sizeof(err), &btf), want);
	CHECK(btf == NULL);
	CHECK_CONTAINS(err, msg);
}

TEST(btf, rejects_malformed_blobs)
{
	struct blob b;
	size_t sz;

	std_blob(&b);
	uint8_t *raw = build(&b, &sz);

	/* Every truncation is rejected, never read past the end (ASan watches). */
	for (size_t cut = 0; cut < sz; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct ua_btf *btf;

		memcpy(copy, raw, cut);
		CHECK(ua_btf_parse(copy, cut, NULL, NULL, 0, &btf) < 0);
		free(copy);
	}
	expect_bad(raw, 10, -EINVAL, "btf: blob of 10 bytes is shorter than the header");
	raw[0] = 0x12;
	expect_bad(raw, sz, -EINVAL, "btf: bad magic");
	raw[0] = 0xeb, raw[1] = 0x9f; /* big-endian byte order */
	expect_bad(raw, sz, -EOPNOTSUPP, "big-endian");
	free(raw);

	/* Member type id out of range. */
	std_blob(&b);
	b.types[4 + 4] = 99;
	raw = build(&b, &sz);
	expect_bad(raw, sz, -EINVAL, "btf: type 2 (kind 4): member 0: name or type out of range");
	free(raw);

	/* Unknown kind 31. */
	std_blob(&b);
	b.types[1] = INFO(31, 0);
	raw = build(&b, &sz);
	expect_bad(raw, sz, -EINVAL, "btf: type 1: unknown kind 31");
	free(raw);

	/* Name offset past the strings. */
	std_blob(&b);
	b.types[0] = 5000;
	raw = build(&b, &sz);
	expect_bad(raw, sz, -EINVAL, "btf: type 1 (kind 1): name offset 5000 out of range");
	free(raw);

	/* vlen claims more members than the section holds. */
	std_blob(&b);
	b.types[5] = INFO(UA_BTF_KIND_STRUCT, 200);
	raw = build(&b, &sz);
	expect_bad(raw, sz, -EINVAL, "btf: type 2 (kind 4): 2400 bytes of data past the type section");
	free(raw);

	/* Self-referencing typedef. */
	std_blob(&b);
	b.types[4 + 9 + 6 + 2] = 4;
	raw = build(&b, &sz);
	expect_bad(raw, sz, -EINVAL, "btf: type 4 (kind 8): references itself");
	free(raw);
}

TEST(btf, modifier_cycle_terminates)
{
	struct blob b;
	size_t sz;
	struct ua_btf *btf;

	memset(&b, 0, sizeof(b));
	add_str(&b, "");
	uint32_t t1[] = { 0, INFO(UA_BTF_KIND_CONST, 0), 2 };
	uint32_t t2[] = { 0, INFO(UA_BTF_KIND_VOLATILE, 0), 1 };

	add_words(&b, t1, 3);
	add_words(&b, t2, 3);
	uint8_t *raw = build(&b, &sz);

	REQUIRE_EQ(ua_btf_parse(raw, sz, NULL, NULL, 0, &btf), 0);
	CHECK_EQ(ua_btf_skip_mods(btf, 1), 0);
	CHECK_EQ(ua_btf_resolve_size(btf, 1), -ELOOP);
	ua_btf_free(btf);
	free(raw);
}

TEST(btf, vmlinux_kfuncs_found)
{
	struct ua_btf *btf;
	char err[160];
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		SKIP("no /sys/kernel/btf/vmlinux");
	ret = ua_btf_load_file("/sys/kernel/btf/vmlinux", NULL, err, sizeof(err), &btf);
	REQUIRE_EQ(ret, 0);
	CHECK(ua_btf_type_cnt(btf) > 10000);
	int32_t id = ua_btf_find_by_name_kind(btf, "bpf_arena_alloc_pages", UA_BTF_KIND_FUNC);

	REQUIRE(id > 0);
	const struct ua_btf_type *f = ua_btf_type_by_id(btf, (uint32_t)id);
	const struct ua_btf_type *proto = ua_btf_type_by_id(btf, f->type);

	CHECK_EQ(ua_btf_kind(proto), UA_BTF_KIND_FUNC_PROTO);
	CHECK_EQ(ua_btf_vlen(proto), 5); /* map, addr, page_cnt, node_id, flags */
	int32_t sid = ua_btf_find_by_name_kind(btf, "bpf_map", UA_BTF_KIND_STRUCT);

	CHECK(sid > 0);
	ua_btf_free(btf);
}

TEST(btf, missing_file_is_enoent)
{
	struct ua_btf *btf;
	char err[160];

	CHECK_EQ(ua_btf_load_file("/nonexistent/btf", NULL, err, sizeof(err), &btf), -ENOENT);
	CHECK_CONTAINS(err, "btf: cannot open /nonexistent/btf");
}
