/* SPDX-License-Identifier: MIT */
/*
 * BTF parser (owner: loader module). Parsing only, no policy: the loader
 * (BTF-defined maps, CO-RE), the kernel backend (vmlinux kfunc ids) and the
 * CLI read types through these accessors.
 *
 * Model: a .BTF blob is a header, a type section (a sequence of variable
 * length records: struct ua_btf_type followed by kind-specific data) and a
 * string section. Type ids are implicit: the first record is id 1 (id 0 is
 * void). ua_btf_parse() copies the blob, validates every record (bounds,
 * kinds, string offsets, referenced ids) and builds an id -> record index, so
 * the accessors never need to check bounds again. Split BTF (module BTF on
 * top of vmlinux) continues the base's ids and string offsets.
 *
 * .BTF.ext (func/line info, CO-RE relocations) is parsed by
 * ua_btf_ext_parse(); only CO-RE relocation records are kept.
 */
#ifndef UA_BTF_H
#define UA_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UA_BTF_MAGIC 0xeB9F

enum {
	UA_BTF_KIND_UNKN = 0,
	UA_BTF_KIND_INT = 1,
	UA_BTF_KIND_PTR = 2,
	UA_BTF_KIND_ARRAY = 3,
	UA_BTF_KIND_STRUCT = 4,
	UA_BTF_KIND_UNION = 5,
	UA_BTF_KIND_ENUM = 6,
	UA_BTF_KIND_FWD = 7,
	UA_BTF_KIND_TYPEDEF = 8,
	UA_BTF_KIND_VOLATILE = 9,
	UA_BTF_KIND_CONST = 10,
	UA_BTF_KIND_RESTRICT = 11,
	UA_BTF_KIND_FUNC = 12,
	UA_BTF_KIND_FUNC_PROTO = 13,
	UA_BTF_KIND_VAR = 14,
	UA_BTF_KIND_DATASEC = 15,
	UA_BTF_KIND_FLOAT = 16,
	UA_BTF_KIND_DECL_TAG = 17,
	UA_BTF_KIND_TYPE_TAG = 18,
	UA_BTF_KIND_ENUM64 = 19,
	UA_BTF_KIND_MAX = 19,
};

/* Same layout as the kernel's struct btf_type. */
struct ua_btf_type {
	uint32_t name_off;
	uint32_t info; /* vlen: bits 0-15, kind: bits 24-28, kind_flag: bit 31 */
	union {
		uint32_t size; /* INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64 */
		uint32_t type; /* PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO, VAR, DECL_TAG */
	};
};

struct ua_btf_member { uint32_t name_off, type, offset; /* bits, or bitfield-encoded with kflag */ };
struct ua_btf_array { uint32_t type, index_type, nelems; };
struct ua_btf_param { uint32_t name_off, type; };
struct ua_btf_enum { uint32_t name_off; int32_t val; };
struct ua_btf_enum64 { uint32_t name_off, val_lo32, val_hi32; };
struct ua_btf_var { uint32_t linkage; };
struct ua_btf_var_secinfo { uint32_t type, offset, size; };
struct ua_btf_decl_tag { int32_t component_idx; };

static inline unsigned ua_btf_kind(const struct ua_btf_type *t) { return (t->info >> 24) & 0x1f; }
static inline unsigned ua_btf_vlen(const struct ua_btf_type *t) { return t->info & 0xffff; }
static inline bool ua_btf_kflag(const struct ua_btf_type *t) { return t->info >> 31; }
/* INT encoding word: bits 0-7 nr_bits, 16-23 offset, 24-27 encoding (1 signed, 2 char, 4 bool). */
static inline uint32_t ua_btf_int_info(const struct ua_btf_type *t) { return *(const uint32_t *)(t + 1); }
static inline const struct ua_btf_member *ua_btf_members(const struct ua_btf_type *t)
{
	return (const struct ua_btf_member *)(t + 1);
}
static inline const struct ua_btf_array *ua_btf_array_info(const struct ua_btf_type *t)
{
	return (const struct ua_btf_array *)(t + 1);
}
static inline const struct ua_btf_param *ua_btf_params(const struct ua_btf_type *t)
{
	return (const struct ua_btf_param *)(t + 1);
}
static inline const struct ua_btf_enum *ua_btf_enums(const struct ua_btf_type *t)
{
	return (const struct ua_btf_enum *)(t + 1);
}
static inline const struct ua_btf_var_secinfo *ua_btf_secinfos(const struct ua_btf_type *t)
{
	return (const struct ua_btf_var_secinfo *)(t + 1);
}
static inline const struct ua_btf_var *ua_btf_var_info(const struct ua_btf_type *t)
{
	return (const struct ua_btf_var *)(t + 1);
}
/* Bit offset of member m of a struct/union t (bitfield-aware). */
static inline uint32_t ua_btf_member_bit_offset(const struct ua_btf_type *t, uint32_t m_offset)
{
	return ua_btf_kflag(t) ? (m_offset & 0xffffff) : m_offset;
}

struct ua_btf;

/*
 * Parses and validates a .BTF blob (copied; data need not stay alive).
 * base: NULL, or the base BTF of a split BTF (must outlive the result).
 * Errors: -EINVAL (malformed, message says what and where: "btf: type 12:
 * ..."), -EOPNOTSUPP (foreign endianness), -ENOMEM.
 */
int ua_btf_parse(const void *data, size_t size, const struct ua_btf *base, char *err,
		 size_t err_sz, struct ua_btf **out);
/* Reads a raw BTF file (e.g. /sys/kernel/btf/vmlinux) and parses it. */
int ua_btf_load_file(const char *path, const struct ua_btf *base, char *err, size_t err_sz,
		     struct ua_btf **out);
void ua_btf_free(struct ua_btf *btf);

/* Number of type ids including void and the base's types: valid ids are [0, cnt). */
uint32_t ua_btf_type_cnt(const struct ua_btf *btf);
/* NULL for id 0 (void) and out-of-range ids. */
const struct ua_btf_type *ua_btf_type_by_id(const struct ua_btf *btf, uint32_t id);
/* NULL when off is outside the string section(s). */
const char *ua_btf_str(const struct ua_btf *btf, uint32_t off);
static inline const char *ua_btf_name(const struct ua_btf *btf, const struct ua_btf_type *t)
{
	return t ? ua_btf_str(btf, t->name_off) : NULL;
}
/* First id with this name and kind (searching the base first), or -ENOENT. */
int32_t ua_btf_find_by_name_kind(const struct ua_btf *btf, const char *name, unsigned kind);
/* Follows TYPEDEF/CONST/VOLATILE/RESTRICT/TYPE_TAG; returns the id reached (0 = void). */
uint32_t ua_btf_skip_mods(const struct ua_btf *btf, uint32_t id);
/* Size in bytes of a sized type (following modifiers and arrays), or -EINVAL. */
int64_t ua_btf_resolve_size(const struct ua_btf *btf, uint32_t id);

/* .BTF.ext: CO-RE relocation records, grouped by the ELF section they patch. */
struct ua_btf_core_relo {
	uint32_t insn_off;      /* byte offset of the insn within its section */
	uint32_t type_id;       /* local root type */
	uint32_t access_str_off; /* "0:1:2" accessor string in .BTF strings */
	uint32_t kind;          /* enum ua_core_relo_kind */
};
struct ua_btf_ext_sec {
	const char *sec_name; /* points into the owning struct ua_btf's strings */
	const struct ua_btf_core_relo *relos;
	uint32_t n_relos;
};
struct ua_btf_ext {
	struct ua_btf_ext_sec *secs;
	uint32_t n_secs;
	void *data; /* owned copy */
};
enum ua_core_relo_kind {
	UA_CORE_FIELD_BYTE_OFFSET = 0,
	UA_CORE_FIELD_BYTE_SIZE = 1,
	UA_CORE_FIELD_EXISTS = 2,
	UA_CORE_FIELD_SIGNED = 3,
	UA_CORE_FIELD_LSHIFT_U64 = 4,
	UA_CORE_FIELD_RSHIFT_U64 = 5,
	UA_CORE_TYPE_ID_LOCAL = 6,
	UA_CORE_TYPE_ID_TARGET = 7,
	UA_CORE_TYPE_EXISTS = 8,
	UA_CORE_TYPE_SIZE = 9,
	UA_CORE_ENUMVAL_EXISTS = 10,
	UA_CORE_ENUMVAL_VALUE = 11,
	UA_CORE_TYPE_MATCHES = 12,
};
/* Parses .BTF.ext against its .BTF (for section names). -EINVAL when malformed. */
int ua_btf_ext_parse(const void *data, size_t size, const struct ua_btf *btf, char *err,
		     size_t err_sz, struct ua_btf_ext **out);
void ua_btf_ext_free(struct ua_btf_ext *ext);

#endif
