/* SPDX-License-Identifier: MIT */
/*
 * CO-RE for kernel twins: field relocations on struct bpf_map / bpf_arena
 * redone against vmlinux.
 *
 * uarena's loader resolves those relocations to its own struct ua_map /
 * ua_arena_map (a map pointer in a uarena program points there) and records
 * each site by member names (struct ua_core_kernel_site, src/loader.h). The
 * twin's copy of the linked instructions gets the kernel's answer instead,
 * computed as libbpf computes it (bpf_core_calc_field_relo, little-endian):
 * members found by name, through anonymous struct/union members as libbpf
 * does. A member vmlinux lacks is an error except for FIELD_EXISTS (0).
 */
#include "kernel.h"

#include "btf.h"
#include "internal.h"
#include "loader.h"

#include <stdlib.h>

struct kfield {
	uint64_t bit_off;
	uint32_t bit_sz;  /* 0: not a bitfield */
	uint32_t type_id;
};

/* Member `name` of struct/union id, directly or inside anonymous members. */
static bool find_member(const struct ua_btf *btf, uint32_t id, const char *name, int depth,
			struct kfield *f)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, id));

	if (!t || depth > 8 ||
	    (ua_btf_kind(t) != UA_BTF_KIND_STRUCT && ua_btf_kind(t) != UA_BTF_KIND_UNION))
		return false;
	for (unsigned i = 0; i < ua_btf_vlen(t); i++) {
		const struct ua_btf_member *m = &ua_btf_members(t)[i];
		const char *mname = ua_btf_str(btf, m->name_off);
		uint64_t off = ua_btf_member_bit_offset(t, m->offset);

		if (mname && !strcmp(mname, name)) {
			f->bit_off += off;
			f->bit_sz = ua_btf_kflag(t) ? m->offset >> 24 : 0;
			f->type_id = ua_btf_skip_mods(btf, m->type);
			return true;
		}
		if (!mname || !*mname) {
			struct kfield inner = { f->bit_off + off, 0, 0 };

			if (find_member(btf, m->type, name, depth + 1, &inner)) {
				*f = inner;
				return true;
			}
		}
	}
	return false;
}

/* Resolves "root.member.member" in vmlinux; -ESRCH when a name is missing. */
static int resolve_path(const struct ua_btf *btf, const char *path, struct kfield *f)
{
	char buf[sizeof(((struct ua_core_kernel_site *)0)->path)], *save = NULL, *tok;
	int32_t root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save);
	root = tok ? ua_btf_find_by_name_kind(btf, tok, UA_BTF_KIND_STRUCT) : -EINVAL;
	if (root < 0)
		return -ESRCH;
	*f = (struct kfield){ 0, 0, (uint32_t)root };
	while ((tok = strtok_r(NULL, ".", &save)))
		if (!find_member(btf, f->type_id, tok, 0, f))
			return -ESRCH;
	return 0;
}

/* libbpf's bpf_core_calc_field_relo for the field found. */
static int field_value(const struct ua_btf *btf, const struct kfield *f, uint32_t kind,
		       uint64_t *value)
{
	const struct ua_btf_type *mt = ua_btf_type_by_id(btf, f->type_id);
	int64_t msz = ua_btf_resolve_size(btf, f->type_id);
	uint64_t bit_sz = f->bit_sz, byte_sz, byte_off;

	if (msz <= 0)
		return -EINVAL;
	byte_sz = (uint64_t)msz;
	if (!bit_sz) {
		byte_off = f->bit_off / 8;
		bit_sz = byte_sz * 8;
	} else {
		byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		while (f->bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8)
				return -E2BIG;
			byte_sz *= 2;
			byte_off = f->bit_off / 8 / byte_sz * byte_sz;
		}
	}
	switch (kind) {
	case UA_CORE_FIELD_BYTE_OFFSET: *value = byte_off; break;
	case UA_CORE_FIELD_BYTE_SIZE: *value = byte_sz; break;
	case UA_CORE_FIELD_EXISTS: *value = 1; break;
	case UA_CORE_FIELD_SIGNED:
		*value = mt && ((ua_btf_kind(mt) == UA_BTF_KIND_INT && (ua_btf_int_info(mt) >> 24) & 1) ||
				((ua_btf_kind(mt) == UA_BTF_KIND_ENUM ||
				  ua_btf_kind(mt) == UA_BTF_KIND_ENUM64) && ua_btf_kflag(mt)));
		break;
	case UA_CORE_FIELD_LSHIFT_U64: *value = 64 - (f->bit_off + bit_sz - byte_off * 8); break;
	default: *value = 64 - bit_sz; break;
	}
	return 0;
}

static int patch(struct ua_insn *insns, uint32_t n, uint32_t idx, uint64_t value)
{
	struct ua_insn *in = &insns[idx];
	uint8_t cls = UA_CLASS(in->code);

	if (cls == UA_LDX || cls == UA_ST || cls == UA_STX) {
		if (value > INT16_MAX)
			return -ERANGE;
		in->off = (int16_t)value;
	} else if (in->code == (UA_LD | UA_DW | UA_IMM) && idx + 1 < n) {
		in[0].imm = (int32_t)(uint32_t)value;
		in[1].imm = (int32_t)(uint32_t)(value >> 32);
	} else if (cls == UA_ALU || cls == UA_ALU64) {
		in->imm = (int32_t)value;
	} else {
		return -EINVAL;
	}
	return 0;
}

int ua_kcore_redo(const struct ua_program *p, struct ua_insn *insns, uint32_t n,
		  struct ua_kbtf **vmlinux, char *err, size_t err_sz)
{
	for (size_t i = 0; i < p->n_core_kernel_sites; i++) {
		const struct ua_core_kernel_site *s = &p->core_kernel_sites[i];
		struct kfield f;
		uint64_t value = 0;
		int ret;

		if (s->insn >= n)
			return ua_errf(err, err_sz, -EINVAL, "kernel: prog '%s' insn %u: CO-RE site "
				       "outside the program", p->name, s->insn);
		if (!*vmlinux && (ret = ua_kbtf_open(NULL, vmlinux, err, err_sz)))
			return ret;
		ret = resolve_path(ua_kbtf_btf(*vmlinux), s->path, &f);
		if (ret == -ESRCH && s->kind == UA_CORE_FIELD_EXISTS)
			ret = 0;
		else if (!ret)
			ret = field_value(ua_kbtf_btf(*vmlinux), &f, s->kind, &value);
		if (!ret)
			ret = patch(insns, n, s->insn, value);
		if (ret)
			return ua_errf(err, err_sz, ret, "kernel: prog '%s' insn %u: CO-RE '%s' (kind %u) "
				       "against vmlinux: %s", p->name, s->insn, s->path, s->kind,
				       ua_strerror(ret));
	}
	return 0;
}
