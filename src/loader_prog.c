/* SPDX-License-Identifier: MIT */
/*
 * Per-program linking, relocation and preparation.
 *
 * Linking (libbpf's bpf_object__reloc_code): the program starts as its
 * entry function's instructions; every bpf-to-bpf call (call with src_reg
 * BPF_PSEUDO_CALL) targets section-relative insn `sym_off/8 + imm + 1`
 * (with a relocation: sym_off = symbol value; without: the call's own
 * section and position). The function containing the target is appended
 * once (a "piece"), and the call's imm is rewritten relative to the
 * appended copy. Pieces are processed in order, so subprograms calling
 * subprograms are appended too, and only what is used is appended.
 *
 * Data relocations rewrite ld_imm64 into the kernel's pseudo forms, with
 * imm = index of the map in the object (our "fd"):
 *   symbol in .maps            -> BPF_PSEUDO_MAP_FD
 *   symbol in a data section   -> BPF_PSEUDO_MAP_VALUE, off = sym + addend
 *   symbol in .addr_space.1    -> BPF_PSEUDO_MAP_VALUE on the arena,
 *                                 off = arena_data_off + sym + addend
 *   undefined .kconfig extern  -> BPF_PSEUDO_MAP_VALUE on obj.kconfig
 * kfunc calls (undefined __ksym functions) become BPF_PSEUDO_KFUNC_CALL with
 * imm = index into obj->kfuncs, resolved by name through ua_kfunc_by_name.
 *
 * CO-RE relocations are applied by loader_core.c once the program is linked.
 */
#include "loader.h"

#include "internal.h"

#include <stdlib.h>

#define LERR(ld, e, ...) ua_errf((ld)->err, (ld)->err_sz, (e), "loader: " __VA_ARGS__)
#define INSN_LD_IMM64 (UA_LD | UA_DW | UA_IMM)
#define INSN_CALL (UA_JMP | UA_CALL)

/* The function symbol in section sec containing insn idx. */
static int find_func(struct ld_state *ld, size_t sec, size_t idx, size_t *start, size_t *len)
{
	for (size_t i = 1; i < ld->elf.n_syms; i++) {
		GElf_Sym s;

		if (ua_elf_symbol(&ld->elf, i, &s, NULL) || s.st_shndx != sec ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_size == 0)
			continue;
		size_t b = s.st_value / 8, n = s.st_size / 8;

		if (idx >= b && idx < b + n && b + n <= ld->secs[sec].n_insns) {
			*start = b;
			*len = n;
			return 0;
		}
	}
	return -ENOENT;
}

static int add_piece(struct ld_link *lk, size_t sec, size_t start, size_t len, size_t *out_pos)
{
	for (size_t i = 0; i < lk->n_pieces; i++) {
		if (lk->pieces[i].sec == sec && lk->pieces[i].start == start) {
			*out_pos = lk->pieces[i].out;
			return 0;
		}
	}
	struct ld_piece *np = realloc(lk->pieces, (lk->n_pieces + 1) * sizeof(*np));

	if (!np)
		return -ENOMEM;
	lk->pieces = np;
	if (lk->n_out + len > lk->cap_out) {
		size_t cap = UA_MAX(lk->cap_out * 2, lk->n_out + len);
		struct ua_insn *no = realloc(lk->out, cap * sizeof(*no));

		if (!no)
			return -ENOMEM;
		lk->out = no;
		lk->cap_out = cap;
	}
	memcpy(lk->out + lk->n_out, lk->ld->secs[sec].insns + start, len * sizeof(struct ua_insn));
	np[lk->n_pieces++] = (struct ld_piece){ sec, start, len, lk->n_out };
	*out_pos = lk->n_out;
	lk->n_out += len;
	return 0;
}

/* Relocation for section-relative insn k of sec, if any: symbol index. */
static int find_rel(struct ld_state *ld, size_t sec, size_t k, size_t *sym_idx)
{
	struct ua_elf_sec rs;

	if (!ld->secs[sec].rel_idx || ua_elf_section(&ld->elf, ld->secs[sec].rel_idx, &rs))
		return 0;
	size_t n = ua_elf_rel_count(&rs);

	for (size_t i = 0; i < n; i++) {
		GElf_Rel r;

		if (ua_elf_rel(&rs, i, &r))
			return -EINVAL;
		if (r.r_offset == k * 8) {
			*sym_idx = GELF_R_SYM(r.r_info);
			return 1;
		}
	}
	return 0;
}

/* Every relocation must hit an insn of its section: checked once per section. */
static int check_rels(struct ld_state *ld, size_t sec, const char *pname)
{
	struct ua_elf_sec rs;

	if (!ld->secs[sec].rel_idx || ua_elf_section(&ld->elf, ld->secs[sec].rel_idx, &rs))
		return 0;
	for (size_t i = 0; i < ua_elf_rel_count(&rs); i++) {
		GElf_Rel r;

		if (ua_elf_rel(&rs, i, &r))
			return LERR(ld, -EINVAL, "prog '%s': unreadable relocation %zu (section %s)",
				    pname, i, ld->secs[sec].name);
		if (r.r_offset % 8 || r.r_offset / 8 >= ld->secs[sec].n_insns)
			return LERR(ld, -EINVAL,
				    "prog '%s': relocation %zu at offset %llu out of range (section %s)",
				    pname, i, (unsigned long long)r.r_offset, ld->secs[sec].name);
		if (GELF_R_SYM(r.r_info) >= ld->elf.n_syms)
			return LERR(ld, -EINVAL,
				    "prog '%s': relocation %zu against bad symbol %llu (section %s)",
				    pname, i, (unsigned long long)GELF_R_SYM(r.r_info),
				    ld->secs[sec].name);
	}
	return 0;
}

static int kfunc_index(struct ld_state *ld, const char *name, int32_t *idx)
{
	struct ua_object *obj = ld->obj;
	const struct ua_helper_def *d = ua_kfunc_by_name_in(obj->helpers, name);

	if (!d)
		return -ENOENT;
	for (size_t i = 0; i < obj->n_kfuncs; i++)
		if (obj->kfuncs[i] == d) {
			*idx = (int32_t)i;
			return 0;
		}
	const struct ua_helper_def **n = realloc(obj->kfuncs, (obj->n_kfuncs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	obj->kfuncs = n;
	n[obj->n_kfuncs] = d;
	*idx = (int32_t)obj->n_kfuncs++;
	return 0;
}

static int kconfig_offset(struct ld_state *ld, const char *name, uint32_t *off)
{
	if (ld->kconfig_datasec < 0)
		return -ENOENT;
	const struct ua_btf_type *sec = ua_btf_type_by_id(ld->btf, (uint32_t)ld->kconfig_datasec);

	for (unsigned i = 0; i < ua_btf_vlen(sec); i++) {
		const struct ua_btf_var_secinfo *vi = &ua_btf_secinfos(sec)[i];

		if (!strcmp(ua_btf_name(ld->btf, ua_btf_type_by_id(ld->btf, vi->type)), name)) {
			*off = ld->kconfig_offs[i];
			return 0;
		}
	}
	return -ENOENT;
}

#define RERR(e, fmt, ...) \
	LERR(ld, e, "prog '%s' insn %zu: " fmt, lk->prog->name, out_idx, ##__VA_ARGS__)

/*
 * ld_imm64 of a function address (bpf_loop callbacks): like libbpf, the
 * target function is linked into the program as a subprogram and the insn
 * becomes src_reg BPF_PSEUDO_FUNC with imm = target - insn - 1.
 */
static int reloc_func_ptr(struct ld_link *lk, size_t out_idx, const GElf_Sym *sym, const char *sname)
{
	struct ld_state *ld = lk->ld;
	struct ua_insn *in = &lk->out[out_idx];
	size_t tsec = sym->st_shndx, fstart, flen, fout;
	int64_t byte = (int64_t)sym->st_value + in[0].imm, tidx = byte / 8;
	int ret;

	if (byte < 0 || byte % 8 || (size_t)tidx >= ld->secs[tsec].n_insns ||
	    find_func(ld, tsec, (size_t)tidx, &fstart, &flen))
		return RERR(-EINVAL, "function pointer to '%s' names no function", sname);
	ret = add_piece(lk, tsec, fstart, flen, &fout);
	if (ret)
		return ret;
	in = &lk->out[out_idx]; /* add_piece may move out */
	in[0].src_reg = UA_PSEUDO_FUNC;
	in[0].imm = (int32_t)((int64_t)fout + (tidx - (int64_t)fstart) - (int64_t)out_idx - 1);
	in[1].imm = 0;
	return 0;
}

/* ld_imm64 at out[out_idx] relocated against symbol sym (name sname). */
static int reloc_ld_imm64(struct ld_link *lk, size_t out_idx, const GElf_Sym *sym, const char *sname,
			  const char *secname)
{
	struct ld_state *ld = lk->ld;
	struct ua_insn *in = &lk->out[out_idx];
	size_t shndx = sym->st_shndx;

	if (shndx == SHN_UNDEF) {
		uint32_t off, addend = (uint32_t)in[0].imm;

		if (ld->kconfig_map >= 0 && kconfig_offset(ld, sname, &off) == 0) {
			in[0].src_reg = UA_PSEUDO_MAP_VALUE;
			in[0].imm = ld->kconfig_map;
			in[1].imm = (int32_t)(off + addend);
			return 0;
		}
		return RERR(-EOPNOTSUPP, "extern variable '%s' is not supported (section %s)", sname,
			    secname);
	}
	if (shndx >= ld->elf.n_sections)
		return RERR(-EINVAL, "relocation against symbol '%s' in bad section %zu", sname, shndx);
	const struct ld_sec *ts = &ld->secs[shndx];
	uint64_t off = sym->st_value + (uint32_t)in[0].imm;

	switch (ts->kind) {
	case LD_SEC_MAPS:
		for (size_t i = 0; i < ld->n_map_syms; i++) {
			if (ld->map_syms[i].off == sym->st_value) {
				in[0].src_reg = UA_PSEUDO_MAP_FD;
				in[0].imm = ld->map_syms[i].map_idx;
				in[1].imm = 0;
				return 0;
			}
		}
		for (size_t i = 0; i < ld->n_failed_maps; i++)
			if (ld->failed_maps[i].off == sym->st_value)
				return RERR(ld->failed_maps[i].err, "uses map '%s', which could not be "
					    "created (%s)", ld->failed_maps[i].name,
					    ld->failed_maps[i].why);
		return RERR(-EINVAL, "relocation against unknown map symbol '%s' (section %s)", sname,
			    secname);
	case LD_SEC_DATA:
		in[0].src_reg = UA_PSEUDO_MAP_VALUE;
		in[0].imm = ts->map_idx;
		in[1].imm = (int32_t)off;
		return 0;
	case LD_SEC_ARENA:
		lk->prog->uses_arena = true;
		off += ld->obj->arena_data_off;
		if (off > UINT32_MAX)
			return RERR(-ERANGE, "arena offset of '%s' out of range", sname);
		in[0].src_reg = UA_PSEUDO_MAP_VALUE;
		in[0].imm = -1; /* the object's arena; found by the resolver */
		for (size_t i = 0; i < ld->obj->n_maps; i++)
			if (ld->obj->maps[i] == ld->obj->arena)
				in[0].imm = (int32_t)i;
		in[1].imm = (int32_t)(uint32_t)off;
		return 0;
	case LD_SEC_PROG:
		return reloc_func_ptr(lk, out_idx, sym, sname);
	default:
		return RERR(-EINVAL, "relocation against unknown symbol '%s' (section %s)", sname,
			    ts->name ? ts->name : "?");
	}
}

static int reloc_call(struct ld_link *lk, size_t out_idx, const struct ld_piece *pc, size_t k,
		      bool has_rel, const GElf_Sym *sym, const char *sname)
{
	struct ld_state *ld = lk->ld;
	struct ua_insn *in = &lk->out[out_idx];
	const char *secname = ld->secs[pc->sec].name;

	if (has_rel && sym->st_shndx == SHN_UNDEF) {
		int32_t idx;
		int ret = kfunc_index(ld, sname, &idx);

		if (ret == -ENOENT)
			return RERR(-ENOENT, "unknown kfunc '%s' (section %s)", sname, secname);
		if (ret)
			return ret;
		in->src_reg = UA_PSEUDO_KFUNC_CALL;
		in->imm = idx;
		in->off = 0;
		return 0;
	}
	if (in->src_reg != UA_PSEUDO_CALL)
		return has_rel ? RERR(-EINVAL, "relocation against '%s' on a helper call (section %s)",
				      sname, secname)
			       : 0;
	size_t tsec = has_rel ? sym->st_shndx : pc->sec;
	int64_t tidx = has_rel ? (int64_t)(sym->st_value / 8) + in->imm + 1
			       : (int64_t)k + in->imm + 1;

	if (tsec >= ld->elf.n_sections || ld->secs[tsec].kind != LD_SEC_PROG || tidx < 0 ||
	    (size_t)tidx >= ld->secs[tsec].n_insns)
		return RERR(-EINVAL, "call target out of range (section %s)", secname);
	size_t fstart, flen, fout;

	if (find_func(ld, tsec, (size_t)tidx, &fstart, &flen))
		return RERR(-EINVAL, "call into no function at insn %lld of section %s",
			    (long long)tidx, ld->secs[tsec].name);
	int ret = add_piece(lk, tsec, fstart, flen, &fout);

	if (ret)
		return ret;
	in = &lk->out[out_idx]; /* add_piece may move out */
	in->imm = (int32_t)((int64_t)fout + (tidx - (int64_t)fstart) - (int64_t)out_idx - 1);
	return 0;
}

static int reloc_piece(struct ld_link *lk, size_t pi)
{
	struct ld_state *ld = lk->ld;
	struct ld_piece pc = lk->pieces[pi];
	const char *secname = ld->secs[pc.sec].name;

	for (size_t k = pc.start; k < pc.start + pc.len; k++) {
		size_t out_idx = pc.out + (k - pc.start), sym_idx = 0;
		struct ua_insn *in = &lk->out[out_idx];
		int has = find_rel(ld, pc.sec, k, &sym_idx), ret;
		GElf_Sym sym = { 0 };
		const char *sname = "";

		if (has < 0)
			return has;
		if (has && ua_elf_symbol(&ld->elf, sym_idx, &sym, &sname))
			return RERR(-EINVAL, "relocation against unreadable symbol %zu", sym_idx);
		if (in->code == INSN_CALL) {
			ret = reloc_call(lk, out_idx, &pc, k, has, &sym, sname);
		} else if (in->code == INSN_LD_IMM64) {
			if (k + 1 >= pc.start + pc.len)
				return RERR(-EINVAL, "ld_imm64 at the end of the function");
			ret = has ? reloc_ld_imm64(lk, out_idx, &sym, sname, secname) : 0;
			k++;
		} else {
			ret = has ? RERR(-EINVAL, "relocation against '%s' on insn code 0x%02x "
					 "(section %s)", sname, in->code, secname)
				  : 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

#undef RERR

/* ---- packet context loads (the verifier's convert_ctx_access, simplified) ---- */

static int ctx_ptr_slot(enum ua_prog_type type, int16_t off)
{
	if (type == UA_PROG_TYPE_XDP) {
		switch (off) {
		case 0: return UA_CTX_PTR_DATA;
		case 4: return UA_CTX_PTR_DATA_END;
		case 8: return UA_CTX_PTR_DATA_META;
		}
	} else {
		switch (off) {
		case 76: return UA_CTX_PTR_DATA;
		case 80: return UA_CTX_PTR_DATA_END;
		case 140: return UA_CTX_PTR_DATA_META;
		}
	}
	return -1;
}

/* Which registers and 8-byte stack slots (bit i: r10 - 8 * (i + 1)) hold the ctx. */
struct ctx_state {
	uint64_t slots;
	uint16_t regs;
};

static int stack_slot(const struct ua_insn *in)
{
	return in->off < 0 && -(int)in->off <= 64 * 8 ? (-(int)in->off - 1) / 8 : -1;
}

static struct ctx_state ctx_transfer(const struct ua_insn *in, struct ctx_state st)
{
	uint8_t cls = UA_CLASS(in->code);
	bool src_ctx = st.regs & (1u << in->src_reg);
	int slot = stack_slot(in);

	if (in->code == (UA_STX | UA_DW | UA_MEM) && in->dst_reg == 10 && in->off % 8 == 0 &&
	    slot >= 0) {
		st.slots = src_ctx ? st.slots | (1ull << slot) : st.slots & ~(1ull << slot);
	} else if ((cls == UA_ST || cls == UA_STX) && in->dst_reg == 10) {
		if (slot >= 0) /* a partial overwrite: no longer a whole ctx pointer */
			st.slots &= ~(1ull << slot);
	} else if (in->code == (UA_LDX | UA_DW | UA_MEM) && in->src_reg == 10 && in->off % 8 == 0 &&
		   slot >= 0 && (st.slots & (1ull << slot))) {
		st.regs |= 1u << in->dst_reg;
	} else if (in->code == (UA_ALU64 | UA_MOV | UA_X) && in->off == 0) {
		st.regs = src_ctx ? st.regs | (1u << in->dst_reg) : st.regs & ~(1u << in->dst_reg);
	} else if (in->code == (UA_JMP | UA_CALL) || (cls == UA_LD && (UA_MODE(in->code) == UA_ABS ||
									 UA_MODE(in->code) == UA_IND))) {
		st.regs &= ~0x3fu; /* r0-r5 clobbered; r6-r9 and our stack survive */
	} else if (cls == UA_ALU || cls == UA_ALU64 || cls == UA_LDX || cls == UA_LD) {
		st.regs &= ~(1u << in->dst_reg);
	} else if (in->code == (UA_STX | UA_ATOMIC | UA_DW) || in->code == (UA_STX | UA_ATOMIC | UA_W)) {
		if (in->imm & UA_FETCH) /* fetch forms write src_reg (cmpxchg: r0) */
			st.regs &= ~(1u << (in->imm == UA_CMPXCHG ? 0 : in->src_reg));
	}
	return st;
}

/* Successors of insn i inside [0, n): fall-through and/or jump target. */
static int ctx_successors(const struct ua_insn *insns, size_t n, size_t i, size_t succ[2])
{
	const struct ua_insn *in = &insns[i];
	uint8_t cls = UA_CLASS(in->code), op = UA_OP(in->code);
	int64_t next = (int64_t)i + 1, target = -1;
	int k = 0;

	if (in->code == (UA_LD | UA_DW | UA_IMM))
		next = (int64_t)i + 2;
	if (cls == UA_JMP || cls == UA_JMP32) {
		if (op == UA_EXIT)
			return 0;
		if (op == UA_JA) {
			next = -1;
			target = (int64_t)i + 1 + (cls == UA_JMP32 ? in->imm : in->off);
		} else if (op != UA_CALL) {
			target = (int64_t)i + 1 + in->off;
		}
	}
	if (next >= 0 && (size_t)next < n)
		succ[k++] = (size_t)next;
	if (target >= 0 && (size_t)target < n)
		succ[k++] = (size_t)target;
	return k;
}

/*
 * Which registers/slots hold the ctx before each insn of the entry function:
 * r1 at entry; copies (mov64, spill/fill of 8-byte stack slots) propagate
 * it, any other write or a call kills it. must: on every path (meet =
 * intersection); else on some path (meet = union). Returns -ENOMEM or 0.
 */
static int ctx_dataflow(const struct ua_insn *insns, size_t n, bool must, struct ctx_state **st_out,
			bool **reached_out)
{
	struct ctx_state *st = calloc(n ? n : 1, sizeof(*st));
	bool *reached = calloc(n ? n : 1, sizeof(*reached));
	bool changed = true;

	if (!st || !reached) {
		free(st);
		free(reached);
		return -ENOMEM;
	}
	if (n) {
		st[0] = (struct ctx_state){ .regs = 1u << 1 };
		reached[0] = true;
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			size_t succ[2];
			struct ctx_state out;

			if (!reached[i])
				continue;
			out = ctx_transfer(&insns[i], st[i]);
			for (int k = ctx_successors(insns, n, i, succ); k-- > 0;) {
				struct ctx_state *t = &st[succ[k]];
				struct ctx_state m = must ? (struct ctx_state){ t->slots & out.slots,
										t->regs & out.regs }
							  : (struct ctx_state){ t->slots | out.slots,
										t->regs | out.regs };

				if (!reached[succ[k]]) {
					*t = out;
					reached[succ[k]] = changed = true;
				} else if (m.slots != t->slots || m.regs != t->regs) {
					*t = m;
					changed = true;
				}
			}
		}
	}
	*st_out = st;
	*reached_out = reached;
	return 0;
}

/*
 * Turns `rX = *(u32 *)(ctx + data)` into a 64-bit load of the real pointer.
 * Without a verifier, a must-dataflow over the entry function finds the
 * registers that hold the ctx on every path; only loads whose base is the
 * ctx on all paths are rewritten.
 */
static int rewrite_ctx_loads(struct ua_program *prog, struct ua_insn *insns, size_t n)
{
	struct ctx_state *st;
	bool *reached;
	int ret = ctx_dataflow(insns, n, true, &st, &reached);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct ua_insn *in = &insns[i];
		int slot;

		if (reached[i] && in->code == (UA_LDX | UA_W | UA_MEM) &&
		    (st[i].regs & (1u << in->src_reg)) && (slot = ctx_ptr_slot(prog->type, in->off)) >= 0) {
			in->code = UA_LDX | UA_DW | UA_MEM;
			in->off = (int16_t)slot;
		}
	}
	free(st);
	free(reached);
	return 0;
}

static int access_size(uint8_t code)
{
	switch (UA_SIZE(code)) {
	case UA_B: return 1;
	case UA_H: return 2;
	case UA_W: return 4;
	default: return 8;
	}
}

/*
 * The verifier's prog->aux->max_ctx_offset: the end of the furthest ctx byte
 * a load or store may touch (the kernel refuses a syscall test run whose
 * ctx_size_in is smaller). Accesses through the ctx on any path of the
 * entry function count; ones in subprograms or through helpers do not.
 */
static int ctx_max_offset(const struct ua_insn *insns, size_t n, uint32_t *max_off)
{
	struct ctx_state *st;
	bool *reached;
	int ret = ctx_dataflow(insns, n, false, &st, &reached);

	if (ret)
		return ret;
	*max_off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];
		uint8_t cls = UA_CLASS(in->code), mode = UA_MODE(in->code);
		int base = cls == UA_LDX ? in->src_reg : in->dst_reg;
		int64_t end = (int64_t)in->off + access_size(in->code);

		if (!reached[i] || !(st[i].regs & (1u << base)) ||
		    !(cls == UA_LDX || cls == UA_ST || cls == UA_STX) ||
		    (mode != UA_MEM && mode != UA_MEMSX))
			continue;
		if (end > (int64_t)*max_off)
			*max_off = (uint32_t)end;
	}
	free(st);
	free(reached);
	return 0;
}

/*
 * Stores into a BPF_F_RDONLY_PROG map (.rodata, .kconfig) through the
 * address an ld_imm64 produced: the verifier refuses the program at load
 * ("write into map forbidden"), so the loader does too, instead of letting
 * the run fault later. A forward scan tracks which registers hold such an
 * address (+ constant offset); everything is forgotten at jump targets and
 * calls, so only stores that are certain are reported (others still fault
 * at run time: the region is read-only).
 */
struct rdonly_base {
	int map;     /* map index, -1 = not a read-only map address */
	int64_t off;
};

static int check_rdonly_stores(struct ld_state *ld, const struct ua_program *prog)
{
	const struct ua_insn *insns = prog->insns;
	size_t n = prog->n_insns;
	struct rdonly_base reg[UA_MAX_BPF_REG];
	bool *target = calloc(n ? n : 1, sizeof(*target));

	if (!target)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t cls = UA_CLASS(insns[i].code);

		if ((cls == UA_JMP || cls == UA_JMP32) && UA_OP(insns[i].code) != UA_CALL &&
		    UA_OP(insns[i].code) != UA_EXIT) {
			int64_t t = (int64_t)i + 1 +
				    (cls == UA_JMP32 && UA_OP(insns[i].code) == UA_JA ? insns[i].imm
										  : insns[i].off);
			if (t >= 0 && (size_t)t < n)
				target[t] = true;
		}
	}
	for (int r = 0; r < UA_MAX_BPF_REG; r++)
		reg[r].map = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ua_insn *in = &insns[i];
		uint8_t cls = UA_CLASS(in->code), dst = in->dst_reg & 0xf;

		if (target[i])
			for (int r = 0; r < UA_MAX_BPF_REG; r++)
				reg[r].map = -1;
		if (dst >= UA_MAX_BPF_REG)
			continue;
		if (in->code == INSN_LD_IMM64 && i + 1 < n) {
			const struct ua_map *m = in->src_reg == UA_PSEUDO_MAP_VALUE && in->imm >= 0 &&
							 (size_t)in->imm < ld->obj->n_maps
						 ? ld->obj->maps[in->imm] : NULL;

			reg[dst] = (struct rdonly_base){ m && (m->map_flags & (1U << 7)) ? in->imm : -1,
							 (uint32_t)in[1].imm };
			i++;
		} else if ((cls == UA_ST || cls == UA_STX) && reg[dst].map >= 0 &&
			   (UA_MODE(in->code) == UA_MEM || UA_MODE(in->code) == UA_ATOMIC)) {
			const struct ua_map *m = ld->obj->maps[reg[dst].map];
			int size = access_size(in->code);

			free(target);
			return LERR(ld, -EACCES, "prog '%s' insn %zu: write into map forbidden, "
				    "value_size=%u off=%lld size=%d (map %s is read-only for programs)",
				    prog->name, i, m->value_size, (long long)(reg[dst].off + in->off),
				    size, m->name);
		} else if (in->code == (UA_ALU64 | UA_MOV | UA_X) && in->off == 0) {
			reg[dst] = in->src_reg < UA_MAX_BPF_REG ? reg[in->src_reg]
								 : (struct rdonly_base){ -1, 0 };
		} else if (in->code == (UA_ALU64 | UA_ADD | UA_K) && reg[dst].map >= 0) {
			reg[dst].off += in->imm;
		} else if (in->code == INSN_CALL) {
			for (int r = 0; r <= 5; r++)
				reg[r].map = -1;
		} else if (cls == UA_ALU || cls == UA_ALU64 || cls == UA_LDX || cls == UA_LD ||
			   (cls == UA_STX && UA_MODE(in->code) == UA_ATOMIC)) {
			reg[cls == UA_STX ? 0 : dst].map = -1; /* cmpxchg/fetch write r0/src */
			if (cls == UA_STX && in->src_reg < UA_MAX_BPF_REG)
				reg[in->src_reg].map = -1;
		}
	}
	free(target);
	return 0;
}

int ua_loader_link_prog(struct ld_state *ld, struct ua_program *prog)
{
	struct ld_link lk = { .ld = ld, .prog = prog };
	size_t pos;
	int ret;

	ret = add_piece(&lk, prog->sec_idx, prog->sec_insn, prog->sec_len, &pos);
	for (size_t i = 0; !ret && i < lk.n_pieces; i++) {
		ret = check_rels(ld, lk.pieces[i].sec, prog->name);
		if (!ret)
			ret = reloc_piece(&lk, i);
	}
	if (!ret)
		ret = ua_loader_apply_core(&lk);
	free(lk.pieces);
	if (ret) {
		free(lk.out);
		return ret;
	}
	prog->insns = lk.out;
	prog->n_insns = lk.n_out;
	if ((ret = check_rdonly_stores(ld, prog)))
		return ret;
	if (prog->type == UA_PROG_TYPE_SYSCALL &&
	    (ret = ctx_max_offset(prog->insns, prog->sec_len, &prog->max_ctx_offset)))
		return ret;
	if (prog->type == UA_PROG_TYPE_XDP || prog->type == UA_PROG_TYPE_SCHED_CLS ||
	    prog->type == UA_PROG_TYPE_SCHED_ACT || prog->type == UA_PROG_TYPE_SOCKET_FILTER)
		return rewrite_ctx_loads(prog, prog->insns, prog->sec_len);
	return 0;
}

/* ---- preparation: the interpreter's resolver ---- */

static ua_helper_fn resolve_helper(void *ctx, int32_t id, const char **name)
{
	const struct ua_program *prog = ctx;
	const struct ua_helper_def *d =
		ua_helper_by_id_in(prog && prog->obj ? prog->obj->helpers : NULL, id);

	if (!d)
		return NULL;
	*name = d->name;
	return d->fn;
}

static ua_helper_fn resolve_kfunc(void *ctx, int32_t imm, const char **name)
{
	struct ua_program *prog = ctx;
	struct ua_object *obj = prog->obj;

	if (!obj || imm < 0 || (size_t)imm >= obj->n_kfuncs)
		return NULL;
	*name = obj->kfuncs[imm]->name;
	return obj->kfuncs[imm]->fn;
}

static int resolve_ld_imm64(void *ctx, const struct ua_insn insn[2], size_t insn_idx,
			    uint64_t *value)
{
	struct ua_program *prog = ctx;
	struct ua_object *obj = prog->obj;
	struct ua_map *m;
	uint32_t off = (uint32_t)insn[1].imm;

	if (!obj || insn[0].imm < 0 || (size_t)insn[0].imm >= obj->n_maps)
		return -EINVAL;
	m = obj->maps[insn[0].imm];
	switch (insn[0].src_reg) {
	case UA_PSEUDO_MAP_FD:
		*value = (uintptr_t)m;
		return 0;
	case UA_PSEUDO_MAP_VALUE:
		if (m->type == UA_MAP_ARENA_TYPE) {
			/* A user-form address, as the kernel's arena_map_direct_value_addr. */
			if (off > m->mmap_sz)
				return -ERANGE;
			*value = (uintptr_t)m->mmaped + off;
			return 0;
		}
		if (!m->mmaped || m->max_entries != 1)
			return -EINVAL;
		if (off >= m->value_size)
			return -EPERM;
		*value = (uintptr_t)m->mmaped + off;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int ua_loader_prepare_prog(struct ua_object *obj, struct ua_program *prog, char *err,
			   size_t err_sz)
{
	struct ua_call_resolver res = {
		.helper = resolve_helper,
		.kfunc = resolve_kfunc,
		.ld_imm64 = resolve_ld_imm64,
		.ctx = prog,
		.has_arena = obj && (obj->arena || obj->raw_arena),
	};
	char perr[200] = "";
	int ret = ua_prog_prepare(prog->insns, prog->n_insns, &res, perr, sizeof(perr), &prog->prog);

	if (ret)
		return ua_errf(err, err_sz, ret, "loader: prog '%s': %s", prog->name, perr);
	return 0;
}
