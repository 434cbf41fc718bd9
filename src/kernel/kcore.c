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

/* Member `name` of struct/union id, directly or inside anonymous members. */
static bool find_member(const struct ua_btf *btf, uint32_t id, const char *name, int depth,
			struct ua_core_field *f)
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
			struct ua_core_field inner = { f->bit_off + off, 0, 0, 0 };

			if (find_member(btf, m->type, name, depth + 1, &inner)) {
				*f = inner;
				return true;
			}
		}
	}
	return false;
}

/* Resolves "root.member.member" in vmlinux; -ESRCH when a name is missing. */
static int resolve_path(const struct ua_btf *btf, const char *path, struct ua_core_field *f)
{
	char buf[sizeof(((struct ua_core_kernel_site *)0)->path)], *save = NULL, *tok;
	int32_t root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save);
	root = tok ? ua_btf_find_by_name_kind(btf, tok, UA_BTF_KIND_STRUCT) : -EINVAL;
	if (root < 0)
		return -ESRCH;
	*f = (struct ua_core_field){ .type_id = (uint32_t)root };
	while ((tok = strtok_r(NULL, ".", &save)))
		if (!find_member(btf, f->type_id, tok, 0, f))
			return -ESRCH;
	return 0;
}

/* libbpf's bpf_core_calc_field_relo for the field found. */
int ua_kcore_redo(const struct ua_program *p, struct ua_insn *insns, uint32_t n,
		  struct ua_kbtf **vmlinux, char *err, size_t err_sz)
{
	for (size_t i = 0; i < p->n_core_kernel_sites; i++) {
		const struct ua_core_kernel_site *s = &p->core_kernel_sites[i];
		struct ua_core_field f;
		const char *why = "";
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
			ret = ua_core_field_value(ua_kbtf_btf(*vmlinux), &f, s->kind, &value, &why);
		if (!ret)
			ret = ua_core_patch_insn(insns, n, s->insn, value);
		if (ret)
			return ua_errf(err, err_sz, ret, "kernel: prog '%s' insn %u: CO-RE '%s' (kind %u) "
				       "against vmlinux: %s", p->name, s->insn, s->path, s->kind,
				       ua_strerror(ret));
	}
	return 0;
}
