/* SPDX-License-Identifier: MIT */
/*
 * CO-RE relocations (.BTF.ext) of a linked program, libbpf's semantics
 * against our own target description.
 *
 * Target = the local type, except struct bpf_map and struct bpf_arena: a
 * map pointer in a program points at our struct ua_map / ua_arena_map, so
 * their fields (max_entries, key_size, ..., user_vm_start) resolve to our
 * layout — the verifier_arena selftests read arena->map.max_entries and
 * arena_base() reads user_vm_start through CO-RE. Field byte offset/size/
 * existence/signedness and bitfield shifts follow libbpf's
 * bpf_core_calc_field_relo (little-endian); type and enum-value kinds
 * answer for the local type.
 */
#include "loader.h"

#include "internal.h"

#include <stdlib.h>

#define LERR(ld, e, ...) ua_errf((ld)->err, (ld)->err_sz, (e), "loader: " __VA_ARGS__)
#define INSN_LD_IMM64 (UA_LD | UA_DW | UA_IMM)

/* Our struct ua_map / ua_arena_map fields that programs read as struct bpf_map / bpf_arena. */
static int target_map_field(const char *type, const char *field, uint32_t *off, uint32_t *size)
{
	static const struct {
		const char *type, *name;
		uint32_t off, size;
	} fields[] = {
		{ "bpf_map", "map_type", offsetof(struct ua_map, type), 4 },
		{ "bpf_map", "key_size", offsetof(struct ua_map, key_size), 4 },
		{ "bpf_map", "value_size", offsetof(struct ua_map, value_size), 4 },
		{ "bpf_map", "max_entries", offsetof(struct ua_map, max_entries), 4 },
		{ "bpf_map", "map_flags", offsetof(struct ua_map, map_flags), 4 },
		{ "bpf_map", "map_extra", offsetof(struct ua_map, map_extra), 8 },
		{ "bpf_arena", "map", offsetof(struct ua_arena_map, map), sizeof(struct ua_map) },
		{ "bpf_arena", "user_vm_start", offsetof(struct ua_arena_map, user_vm_start), 8 },
		{ "bpf_arena", "user_vm_end", offsetof(struct ua_arena_map, user_vm_end), 8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(fields[i].type, type) && !strcmp(fields[i].name, field)) {
			*off = fields[i].off;
			*size = fields[i].size;
			return 0;
		}
	return -ENOENT;
}

/* One "member index" step of an access string on struct/union t. */
static int core_member_step(struct ld_state *ld, const struct ua_btf_type *t, unsigned long idx,
			    struct ua_core_field *f, const char **why)
{
	const struct ua_btf *btf = ld->btf;

	if (idx >= ua_btf_vlen(t)) {
		*why = "member index out of range";
		return -EINVAL;
	}
	const struct ua_btf_member *m = &ua_btf_members(t)[idx];
	const char *sname = ua_btf_name(btf, t), *mname = ua_btf_str(btf, m->name_off);
	uint32_t toff, tsize;

	f->type_id = ua_btf_skip_mods(btf, m->type);
	f->bit_sz = ua_btf_kflag(t) ? m->offset >> 24 : 0;
	f->byte_sz = 0;
	if (sname && (!strcmp(sname, "bpf_map") || !strcmp(sname, "bpf_arena"))) {
		if (target_map_field(sname, mname, &toff, &tsize)) {
			*why = "struct bpf_map/bpf_arena field not provided by uarena";
			return -ESRCH;
		}
		f->bit_off += (uint64_t)toff * 8;
		f->bit_sz = 0;
		f->byte_sz = tsize;
		return 0;
	}
	f->bit_off += ua_btf_member_bit_offset(t, m->offset);
	return 0;
}

/*
 * Walks access string "0:1:2" from root type_id (first index: array index
 * on the root; then member/element indexes) through our target layout,
 * which is the local one except for struct bpf_map/bpf_arena.
 */
static int core_walk(struct ld_state *ld, uint32_t type_id, const char *spec,
		     struct ua_core_field *f, const char **why)
{
	const struct ua_btf *btf = ld->btf;
	uint32_t id = ua_btf_skip_mods(btf, type_id);
	int64_t sz = ua_btf_resolve_size(btf, id);
	char *end;
	unsigned long idx = strtoul(spec, &end, 10);

	if (end == spec || sz < 0) {
		*why = "bad access string or root type";
		return -EINVAL;
	}
	*f = (struct ua_core_field){ .bit_off = idx * (uint64_t)sz * 8, .type_id = id };
	while (*end == ':') {
		spec = end + 1;
		idx = strtoul(spec, &end, 10);
		if (end == spec) {
			*why = "bad access string";
			return -EINVAL;
		}
		const struct ua_btf_type *t = ua_btf_type_by_id(btf, f->type_id);
		int ret;

		if (t && (ua_btf_kind(t) == UA_BTF_KIND_STRUCT || ua_btf_kind(t) == UA_BTF_KIND_UNION)) {
			ret = core_member_step(ld, t, idx, f, why);
			if (ret)
				return ret;
		} else if (t && ua_btf_kind(t) == UA_BTF_KIND_ARRAY) {
			f->type_id = ua_btf_skip_mods(btf, ua_btf_array_info(t)->type);
			sz = ua_btf_resolve_size(btf, f->type_id);
			if (sz < 0) {
				*why = "unsized array element";
				return -EINVAL;
			}
			f->bit_off += idx * (uint64_t)sz * 8;
			f->bit_sz = 0;
			f->byte_sz = 0;
		} else {
			*why = "access into a non-composite type";
			return -EINVAL;
		}
	}
	if (f->bit_off / 8 > INT32_MAX) {
		*why = "offset too large";
		return -ERANGE;
	}
	return 0;
}

int ua_core_field_value(const struct ua_btf *btf, const struct ua_core_field *f, uint32_t kind,
			uint64_t *value, const char **why)
{
	const struct ua_btf_type *mt = ua_btf_type_by_id(btf, f->type_id);
	int64_t msz = f->byte_sz ? f->byte_sz : ua_btf_resolve_size(btf, f->type_id);
	uint64_t bit_sz = f->bit_sz, byte_sz, byte_off;

	if (msz <= 0) {
		*why = "field of unknown size";
		return -EINVAL;
	}
	byte_sz = (uint64_t)msz;
	if (!bit_sz) {
		byte_off = f->bit_off / 8;
		bit_sz = byte_sz * 8;
	} else {
		/* The smallest naturally aligned load that covers the bitfield. */
		byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		while (f->bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8) {
				*why = "bitfield straddles 8 bytes";
				return -E2BIG;
			}
			byte_sz *= 2;
			byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		}
	}
	switch (kind) {
	case UA_CORE_FIELD_BYTE_OFFSET:
		*value = byte_off;
		return 0;
	case UA_CORE_FIELD_BYTE_SIZE:
		*value = byte_sz;
		return 0;
	case UA_CORE_FIELD_EXISTS:
		*value = 1;
		return 0;
	case UA_CORE_FIELD_SIGNED:
		*value = mt && ((ua_btf_kind(mt) == UA_BTF_KIND_INT && (ua_btf_int_info(mt) >> 24) & 1) ||
				((ua_btf_kind(mt) == UA_BTF_KIND_ENUM ||
				  ua_btf_kind(mt) == UA_BTF_KIND_ENUM64) && ua_btf_kflag(mt)));
		return 0;
	case UA_CORE_FIELD_LSHIFT_U64:
		*value = 64 - (f->bit_off + bit_sz - byte_off * 8);
		return 0;
	default: /* UA_CORE_FIELD_RSHIFT_U64 */
		*value = 64 - bit_sz;
		return 0;
	}
}

/* ENUMVAL_EXISTS / ENUMVAL_VALUE: access string = enumerator index in the local enum. */
static int core_enumval(struct ld_state *ld, uint32_t type_id, const char *spec, uint32_t kind,
			uint64_t *value, const char **why)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(ld->btf, ua_btf_skip_mods(ld->btf, type_id));
	char *end;
	unsigned long idx = strtoul(spec, &end, 10);

	if (!t || end == spec ||
	    (ua_btf_kind(t) != UA_BTF_KIND_ENUM && ua_btf_kind(t) != UA_BTF_KIND_ENUM64) ||
	    idx >= ua_btf_vlen(t)) {
		*why = "not an enumerator of an enum";
		return -EINVAL;
	}
	if (kind == UA_CORE_ENUMVAL_EXISTS)
		*value = 1;
	else if (ua_btf_kind(t) == UA_BTF_KIND_ENUM)
		*value = (uint64_t)(int64_t)ua_btf_enums(t)[idx].val;
	else
		*value = ((uint64_t)((const struct ua_btf_enum64 *)(t + 1))[idx].val_hi32 << 32) |
			 ((const struct ua_btf_enum64 *)(t + 1))[idx].val_lo32;
	return 0;
}

int ua_core_patch_insn(struct ua_insn *insns, size_t n, size_t idx, uint64_t value)
{
	struct ua_insn *in = &insns[idx];
	uint8_t cls = UA_CLASS(in->code);

	if (cls == UA_LDX || cls == UA_ST || cls == UA_STX) {
		if (value > INT16_MAX)
			return -ERANGE;
		in->off = (int16_t)value;
	} else if (in->code == INSN_LD_IMM64 && idx + 1 < n) {
		in[0].imm = (int32_t)(uint32_t)value;
		in[1].imm = (int32_t)(uint32_t)(value >> 32);
	} else if (cls == UA_ALU || cls == UA_ALU64) {
		in->imm = (int32_t)value;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* The value a CO-RE relocation patches in, against our target description. */
static int core_value(struct ld_state *ld, const struct ua_btf_core_relo *cr, const char *spec,
		      uint64_t *value, const char **why)
{
	struct ua_core_field f;
	int ret;

	switch (cr->kind) {
	case UA_CORE_FIELD_BYTE_OFFSET:
	case UA_CORE_FIELD_BYTE_SIZE:
	case UA_CORE_FIELD_EXISTS:
	case UA_CORE_FIELD_SIGNED:
	case UA_CORE_FIELD_LSHIFT_U64:
	case UA_CORE_FIELD_RSHIFT_U64:
		ret = core_walk(ld, cr->type_id, spec, &f, why);
		if (ret == -ESRCH && cr->kind == UA_CORE_FIELD_EXISTS) {
			*value = 0;
			return 0;
		}
		return ret ? ret : ua_core_field_value(ld->btf, &f, cr->kind, value, why);
	case UA_CORE_TYPE_EXISTS:
	case UA_CORE_TYPE_MATCHES:
		*value = 1;
		return 0;
	case UA_CORE_TYPE_SIZE: {
		int64_t sz = ua_btf_resolve_size(ld->btf, cr->type_id);

		if (sz < 0) {
			*why = "type has no size";
			return -EINVAL;
		}
		*value = (uint64_t)sz;
		return 0;
	}
	case UA_CORE_TYPE_ID_LOCAL:
	case UA_CORE_TYPE_ID_TARGET:
		*value = cr->type_id;
		return 0;
	case UA_CORE_ENUMVAL_EXISTS:
	case UA_CORE_ENUMVAL_VALUE:
		return core_enumval(ld, cr->type_id, spec, cr->kind, value, why);
	default:
		*why = "relocation kind not supported";
		return -EOPNOTSUPP;
	}
}

/*
 * Field relocations rooted at struct bpf_map / bpf_arena through members
 * only: their path by member names, kept in the program for the kernel twin.
 * Others are left alone (0, nothing recorded); the only error is -ENOMEM.
 */
static int record_kernel_site(struct ld_state *ld, struct ua_program *prog,
			      const struct ua_btf_core_relo *cr, const char *spec, size_t insn)
{
	const struct ua_btf *btf = ld->btf;
	uint32_t id = ua_btf_skip_mods(btf, cr->type_id);
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, id);
	const char *root = ua_btf_name(btf, t);
	struct ua_core_kernel_site site = { .insn = (uint32_t)insn, .kind = cr->kind };
	size_t len;
	char *end;

	if (cr->kind > UA_CORE_FIELD_RSHIFT_U64 || !root ||
	    (strcmp(root, "bpf_map") && strcmp(root, "bpf_arena")) || strtoul(spec, &end, 10) != 0)
		return 0;
	len = (size_t)snprintf(site.path, sizeof(site.path), "%s", root);
	while (*end == ':') {
		unsigned long idx = strtoul(end + 1, &end, 10);
		const char *mname;

		if (!t || (ua_btf_kind(t) != UA_BTF_KIND_STRUCT && ua_btf_kind(t) != UA_BTF_KIND_UNION) ||
		    idx >= ua_btf_vlen(t))
			return 0;
		mname = ua_btf_str(btf, ua_btf_members(t)[idx].name_off);
		if (!mname || !*mname || len + 1 + strlen(mname) >= sizeof(site.path))
			return 0;
		len += (size_t)snprintf(site.path + len, sizeof(site.path) - len, ".%s", mname);
		t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, ua_btf_members(t)[idx].type));
	}
	struct ua_core_kernel_site *n = realloc(prog->core_kernel_sites,
						(prog->n_core_kernel_sites + 1) * sizeof(*n));

	if (!n)
		return LERR(ld, -ENOMEM, "no memory");
	n[prog->n_core_kernel_sites++] = site;
	prog->core_kernel_sites = n;
	return 0;
}

int ua_loader_apply_core(struct ld_link *lk)
{
	struct ld_state *ld = lk->ld;

	if (!ld->btf_ext)
		return 0;
	for (size_t p = 0; p < lk->n_pieces; p++) {
		const struct ld_piece *pc = &lk->pieces[p];
		const char *secname = ld->secs[pc->sec].name;

		for (uint32_t s = 0; s < ld->btf_ext->n_secs; s++) {
			const struct ua_btf_ext_sec *es = &ld->btf_ext->secs[s];

			if (strcmp(es->sec_name, secname))
				continue;
			for (uint32_t r = 0; r < es->n_relos; r++) {
				const struct ua_btf_core_relo *cr = &es->relos[r];
				size_t k = cr->insn_off / 8;

				if (cr->insn_off % 8 || k < pc->start || k >= pc->start + pc->len)
					continue;
				size_t out_idx = pc->out + (k - pc->start);
				const char *spec = ua_btf_str(ld->btf, cr->access_str_off);
				const char *why = "";
				uint64_t value;
				int ret;

				if (!spec || !ua_btf_type_by_id(ld->btf, cr->type_id))
					return LERR(ld, -EINVAL, "prog '%s' insn %zu: bad CO-RE record",
						    lk->prog->name, out_idx);
				ret = core_value(ld, cr, spec, &value, &why);
				if (ret)
					return LERR(ld, ret, "prog '%s' insn %zu: CO-RE relocation (kind "
						    "%u, access '%s'): %s", lk->prog->name, out_idx,
						    cr->kind, spec, why);
				ret = ua_core_patch_insn(lk->out, lk->n_out, out_idx, value);
				if (ret == -ERANGE)
					return LERR(ld, ret, "prog '%s' insn %zu: CO-RE offset %llu too "
						    "large", lk->prog->name, out_idx,
						    (unsigned long long)value);
				if (ret)
					return LERR(ld, ret, "prog '%s' insn %zu: CO-RE relocation on insn "
						    "code 0x%02x", lk->prog->name, out_idx,
						    lk->out[out_idx].code);
				ret = record_kernel_site(ld, lk->prog, cr, spec, out_idx);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}
