/* SPDX-License-Identifier: MIT */
/*
 * The object loader: a clang-compiled .bpf.o becomes a struct ua_object
 * (libbpf's bpf_object__open + load in one step).
 *
 * Order of work, as libbpf: classify sections (code, .maps, global data,
 * .addr_space.1, relocation sections); parse .BTF/.BTF.ext; create maps —
 * BTF-defined maps from the ".maps" DATASEC, one single-element ARRAY per
 * global-data section ("obj.bss", "obj.data", "obj.rodata", "obj.data.foo";
 * the name is the object name truncated so the whole fits in 15 chars, as
 * libbpf does), a "obj.kconfig" map for .kconfig externs; then the arena
 * image (.addr_space.1) is copied into the arena's user view at offset 0
 * (libbpf <= 1.6) or at the end (globals_at_end, libbpf 1.7+), which
 * allocates those pages; then every program is discovered (each STT_FUNC in
 * a code section other than .text), linked and relocated (loader_prog.c)
 * and prepared. With only_prog, the other programs are listed but neither
 * linked nor prepared, so what they use cannot make the object fail;
 * without it, programs in "?sec" sections (libbpf's autoload off) are not.
 */
#include "loader.h"

#include "internal.h"
#include <uarena/arena.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define ARENA_SEC ".addr_space.1"
#define MAP_F_MMAPABLE (1U << 10)
#define MAP_F_RDONLY_PROG (1U << 7)

#define LERR(ld, e, ...) ua_errf((ld)->err, (ld)->err_sz, (e), "loader: " __VA_ARGS__)

static const struct {
	const char *prefix;
	enum ua_prog_type type;
	bool exact; /* "xdp" but also "xdp/..." / "xdp.frags" through the prefix rule */
} sec_defs[] = {
	{ "syscall", UA_PROG_TYPE_SYSCALL, true },
	{ "xdp", UA_PROG_TYPE_XDP, false },
	{ "tc", UA_PROG_TYPE_SCHED_CLS, false },
	{ "classifier", UA_PROG_TYPE_SCHED_CLS, false },
	{ "action", UA_PROG_TYPE_SCHED_ACT, false },
	{ "socket", UA_PROG_TYPE_SOCKET_FILTER, false },
	{ "raw_tp", UA_PROG_TYPE_RAW_TRACEPOINT, false },
	{ "raw_tracepoint", UA_PROG_TYPE_RAW_TRACEPOINT, false },
	{ "tp_btf", UA_PROG_TYPE_TRACING, false },
	{ "tp", UA_PROG_TYPE_TRACEPOINT, false },
	{ "tracepoint", UA_PROG_TYPE_TRACEPOINT, false },
	{ "kprobe", UA_PROG_TYPE_KPROBE, false },
	{ "kretprobe", UA_PROG_TYPE_KPROBE, false },
	{ "uprobe", UA_PROG_TYPE_KPROBE, false },
	{ "uretprobe", UA_PROG_TYPE_KPROBE, false },
	{ "ksyscall", UA_PROG_TYPE_KPROBE, false },
	{ "perf_event", UA_PROG_TYPE_PERF_EVENT, false },
	{ "fentry", UA_PROG_TYPE_TRACING, false },
	{ "fexit", UA_PROG_TYPE_TRACING, false },
	{ "fmod_ret", UA_PROG_TYPE_TRACING, false },
	{ "iter", UA_PROG_TYPE_TRACING, false },
	{ "iter.s", UA_PROG_TYPE_TRACING, false },
	{ "struct_ops", UA_PROG_TYPE_STRUCT_OPS, false },
	{ "struct_ops.s", UA_PROG_TYPE_STRUCT_OPS, false },
};

/* libbpf's rule: the section name equals the prefix or continues with '/', '.' or '+'. */
static enum ua_prog_type prog_type_of(const char *sec)
{
	for (size_t i = 0; i < ARRAY_SIZE(sec_defs); i++) {
		size_t n = strlen(sec_defs[i].prefix);

		if (strncmp(sec, sec_defs[i].prefix, n) != 0)
			continue;
		if (sec[n] == '\0' || (!sec_defs[i].exact && (sec[n] == '/' || sec[n] == '.')))
			return sec_defs[i].type;
	}
	return UA_PROG_TYPE_UNSPEC;
}

static bool is_data_sec(const char *name)
{
	static const char *const pfx[] = { ".data", ".rodata", ".bss" };

	for (size_t i = 0; i < ARRAY_SIZE(pfx); i++) {
		size_t n = strlen(pfx[i]);

		if (strncmp(name, pfx[i], n) == 0 && (name[n] == '\0' || name[n] == '.'))
			return true;
	}
	return false;
}

static int add_map(struct ld_state *ld, const struct ua_map_def *def)
{
	struct ua_object *obj = ld->obj;
	struct ua_map **n, *m;
	char merr[200] = "";
	int ret;

	for (size_t i = 0; i < obj->n_maps; i++)
		if (strcmp(obj->maps[i]->name, def->name) == 0)
			return LERR(ld, -EEXIST, "map '%s' defined twice", def->name);
	n = realloc(obj->maps, (obj->n_maps + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	obj->maps = n;
	ret = ua_map_create(def, merr, sizeof(merr), &m);
	if (ret)
		return LERR(ld, ret, "cannot create map '%s': %s", def->name, merr);
	obj->maps[obj->n_maps] = m;
	return (int)obj->n_maps++;
}

/* __uint(name, N) is `int (*name)[N]`: the value is the array's element count. */
static int btf_uint_member(const struct ua_btf *btf, uint32_t type, uint32_t *val)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, type));

	if (!t || ua_btf_kind(t) != UA_BTF_KIND_PTR)
		return -EINVAL;
	t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, t->type));
	if (!t || ua_btf_kind(t) != UA_BTF_KIND_ARRAY)
		return -EINVAL;
	*val = ua_btf_array_info(t)->nelems;
	return 0;
}

/* __ulong(name, V) is an anonymous enum whose single enumerator is V. */
static int btf_ulong_member(const struct ua_btf *btf, uint32_t type, uint64_t *val)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, type));

	if (!t || ua_btf_vlen(t) < 1)
		return -EINVAL;
	if (ua_btf_kind(t) == UA_BTF_KIND_ENUM) {
		*val = (uint32_t)ua_btf_enums(t)[0].val;
		return 0;
	}
	if (ua_btf_kind(t) == UA_BTF_KIND_ENUM64) {
		const struct ua_btf_enum64 *e = (const void *)(t + 1);

		*val = ((uint64_t)e->val_hi32 << 32) | e->val_lo32;
		return 0;
	}
	return -EINVAL;
}

/* __type(name, T) is `T *name`: the size of T. */
static int btf_type_member(const struct ua_btf *btf, uint32_t type, uint32_t *size)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, type));
	int64_t sz;

	if (!t || ua_btf_kind(t) != UA_BTF_KIND_PTR)
		return -EINVAL;
	sz = ua_btf_resolve_size(btf, t->type);
	if (sz < 0 || sz > UINT32_MAX)
		return -EINVAL;
	*size = (uint32_t)sz;
	return 0;
}

static int parse_map_def(struct ld_state *ld, const char *name, uint32_t struct_id,
			 struct ua_map_def *def)
{
	const struct ua_btf *btf = ld->btf;
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, ua_btf_skip_mods(btf, struct_id));

	memset(def, 0, sizeof(*def));
	def->name = name;
	def->nr_cpus = ld->obj->nr_cpus;
	if (!t || ua_btf_kind(t) != UA_BTF_KIND_STRUCT)
		return LERR(ld, -EINVAL, "map '%s': definition is not a struct (section .maps)", name);
	for (unsigned i = 0; i < ua_btf_vlen(t); i++) {
		const struct ua_btf_member *m = &ua_btf_members(t)[i];
		const char *mn = ua_btf_str(btf, m->name_off);
		uint32_t v = 0;
		int ret = 0;

		if (!strcmp(mn, "type"))
			ret = btf_uint_member(btf, m->type, &def->type);
		else if (!strcmp(mn, "max_entries"))
			ret = btf_uint_member(btf, m->type, &def->max_entries);
		else if (!strcmp(mn, "map_flags"))
			ret = btf_uint_member(btf, m->type, &def->map_flags);
		else if (!strcmp(mn, "numa_node"))
			ret = btf_uint_member(btf, m->type, &v), def->numa_node = (int)v;
		else if (!strcmp(mn, "key_size"))
			ret = btf_uint_member(btf, m->type, &def->key_size);
		else if (!strcmp(mn, "value_size"))
			ret = btf_uint_member(btf, m->type, &def->value_size);
		else if (!strcmp(mn, "key"))
			ret = btf_type_member(btf, m->type, &def->key_size);
		else if (!strcmp(mn, "value"))
			ret = btf_type_member(btf, m->type, &def->value_size);
		else if (!strcmp(mn, "map_extra"))
			ret = btf_ulong_member(btf, m->type, &def->map_extra);
		else if (!strcmp(mn, "pinning"))
			ret = 0; /* pinning has no meaning without a BPF filesystem */
		else
			return LERR(ld, -EOPNOTSUPP, "map '%s': unsupported attribute '%s' (section .maps)",
				    name, mn);
		if (ret)
			return LERR(ld, -EINVAL, "map '%s': malformed attribute '%s' (section .maps)",
				    name, mn);
	}
	return 0;
}

static int find_elf_symbol(struct ld_state *ld, const char *name, size_t shndx, GElf_Sym *out)
{
	for (size_t i = 1; i < ld->elf.n_syms; i++) {
		const char *n;

		if (ua_elf_symbol(&ld->elf, i, out, &n) == 0 && out->st_shndx == shndx &&
		    !strcmp(n, name))
			return 0;
	}
	return -ENOENT;
}

static int remember_failed_map(struct ld_state *ld, const char *name, uint64_t off, int err)
{
	void *n = realloc(ld->failed_maps, (ld->n_failed_maps + 1) * sizeof(*ld->failed_maps));

	if (!n)
		return -ENOMEM;
	ld->failed_maps = n;
	ld->failed_maps[ld->n_failed_maps].off = off;
	ld->failed_maps[ld->n_failed_maps].err = err;
	snprintf(ld->failed_maps[ld->n_failed_maps].name, UA_MAP_NAME_LEN, "%s", name);
	snprintf(ld->failed_maps[ld->n_failed_maps].why, sizeof(ld->failed_maps->why), "%s",
		 ld->err ? ld->err : "");
	ld->n_failed_maps++;
	if (ld->err && ld->err_sz)
		ld->err[0] = '\0';
	return 0;
}

static int create_btf_maps(struct ld_state *ld)
{
	const struct ua_btf *btf = ld->btf;
	int32_t ds;

	if (!ld->maps_sec)
		return 0;
	if (!btf)
		return LERR(ld, -EINVAL, "section .maps needs .BTF (compile with -g)");
	ds = ua_btf_find_by_name_kind(btf, ".maps", UA_BTF_KIND_DATASEC);
	if (ds < 0)
		return LERR(ld, -EINVAL, "no BTF DATASEC for section .maps");
	const struct ua_btf_type *sec = ua_btf_type_by_id(btf, (uint32_t)ds);
	unsigned n = ua_btf_vlen(sec);

	ld->map_syms = calloc(n ? n : 1, sizeof(*ld->map_syms));
	if (!ld->map_syms)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct ua_btf_var_secinfo *vi = &ua_btf_secinfos(sec)[i];
		const struct ua_btf_type *var = ua_btf_type_by_id(btf, vi->type);
		struct ua_map_def def;
		int idx, ret;

		if (ua_btf_kind(var) != UA_BTF_KIND_VAR)
			return LERR(ld, -EINVAL, ".maps entry %u is not a variable", i);
		const char *name = ua_btf_name(btf, var);

		ret = parse_map_def(ld, name, var->type, &def);
		if (ret)
			return ret;
		if (def.type == UA_MAP_ARENA_TYPE && ld->obj->arena)
			return LERR(ld, -EINVAL, "map '%s': only single ARENA map is supported", name);
		/* clang leaves DATASEC offsets 0 in objects: the symbol has the real one. */
		GElf_Sym sym;

		if (find_elf_symbol(ld, name, ld->maps_sec, &sym))
			return LERR(ld, -EINVAL, "map '%s': no symbol in section .maps", name);
		idx = add_map(ld, &def);
		if (idx < 0 && idx != -ENOMEM && ld->only_prog && def.type != UA_MAP_ARENA_TYPE) {
			ret = remember_failed_map(ld, name, sym.st_value, idx);
			if (ret)
				return ret;
			continue;
		}
		if (idx < 0)
			return idx;
		if (def.type == UA_MAP_ARENA_TYPE)
			ld->obj->arena = ld->obj->maps[idx];
		ld->map_syms[ld->n_map_syms].off = sym.st_value;
		ld->map_syms[ld->n_map_syms++].map_idx = idx;
	}
	return 0;
}

/*
 * libbpf's internal map name: the suffix counts as at least 7 characters,
 * so .bss/.data/.rodata all get the same 8-character object prefix
 * ("loader_g.bss"), and the whole fits in BPF_OBJ_NAME_LEN - 1 = 15; then
 * characters the kernel refuses become '_'.
 */
static void data_map_name(const char *obj_name, const char *sec, char *out, size_t out_sz)
{
	size_t sfx = UA_MAX((size_t)7, strlen(sec)), pfx = 0;

	if (sfx < 15)
		pfx = UA_MIN(15 - sfx, strlen(obj_name));
	snprintf(out, out_sz, "%.*s%.*s", (int)pfx, obj_name, (int)(15 - pfx), sec);
	for (char *p = out; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '.')
			*p = '_';
}

static int create_data_map(struct ld_state *ld, const struct ua_elf_sec *s)
{
	char name[UA_MAP_NAME_LEN];
	struct ua_map_def def = { 0 };
	bool rodata = strncmp(s->name, ".rodata", 7) == 0;
	int idx;

	data_map_name(ld->obj->name, s->name, name, sizeof(name));
	def.name = name;
	def.type = UA_MAP_ARRAY;
	def.key_size = 4;
	def.value_size = (uint32_t)s->size;
	def.max_entries = 1;
	def.map_flags = MAP_F_MMAPABLE | (rodata ? MAP_F_RDONLY_PROG : 0);
	if (s->size == 0 || s->size > (1U << 22))
		return LERR(ld, -E2BIG, "global data section %s has size %zu", s->name, s->size);
	idx = add_map(ld, &def);
	if (idx < 0)
		return idx;
	struct ua_map *m = ld->obj->maps[idx];

	if (s->data)
		memcpy(m->mmaped, s->data, s->size);
	m->frozen = rodata; /* libbpf freezes .rodata after load */
	ld->secs[s->idx].kind = LD_SEC_DATA;
	ld->secs[s->idx].map_idx = idx;
	return 0;
}

static uint64_t kconfig_value(struct ld_state *ld, const char *name, bool *found)
{
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;

	*found = true;
	if (!strcmp(name, "LINUX_KERNEL_VERSION")) {
		if (uname(&u) == 0)
			sscanf(u.release, "%u.%u.%u", &a, &b, &c);
		return ((uint64_t)a << 16) + (b << 8) + (c > 255 ? 255 : c);
	}
	if (!strcmp(name, "CONFIG_NR_CPUS"))
		return ld->obj->nr_cpus; /* the runtime's CPU count, not the kernel's build limit */
	if (!strcmp(name, "CONFIG_BPF_SYSCALL") || !strcmp(name, "CONFIG_BPF_JIT") ||
	    !strcmp(name, "CONFIG_BPF_EVENTS"))
		return 1; /* y */
	if (!strcmp(name, "LINUX_HAS_BPF_COOKIE") || !strcmp(name, "LINUX_HAS_SYSCALL_WRAPPER"))
		return 1;
	*found = false;
	return 0;
}

static bool elf_sym_is_weak(struct ld_state *ld, const char *name)
{
	for (size_t i = 1; i < ld->elf.n_syms; i++) {
		GElf_Sym sym;
		const char *n;

		if (ua_elf_symbol(&ld->elf, i, &sym, &n) == 0 && !strcmp(n, name))
			return GELF_ST_BIND(sym.st_info) == STB_WEAK;
	}
	return false;
}

/* .kconfig externs live in a DATASEC of that name; we fill a map laid out by it. */
static int create_kconfig_map(struct ld_state *ld)
{
	const struct ua_btf *btf = ld->btf;
	char name[UA_MAP_NAME_LEN];
	int32_t ds;
	int idx;

	ld->kconfig_map = -1;
	ld->kconfig_datasec = -1;
	if (!btf)
		return 0;
	ds = ua_btf_find_by_name_kind(btf, ".kconfig", UA_BTF_KIND_DATASEC);
	if (ds < 0)
		return 0;
	const struct ua_btf_type *sec = ua_btf_type_by_id(btf, (uint32_t)ds);
	unsigned n = ua_btf_vlen(sec);
	uint32_t size = 0;

	/* Our own layout (libbpf also lays externs out itself): each value
	 * naturally aligned, in declaration order. */
	ld->kconfig_offs = calloc(n ? n : 1, sizeof(*ld->kconfig_offs));
	if (!ld->kconfig_offs)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		uint32_t vs = ua_btf_secinfos(sec)[i].size;
		uint32_t align = vs >= 8 ? 8 : vs >= 4 ? 4 : vs >= 2 ? 2 : 1;

		size = UA_ROUND_UP(size, align);
		ld->kconfig_offs[i] = size;
		size += vs;
	}
	if (size == 0)
		return 0;
	data_map_name(ld->obj->name, ".kconfig", name, sizeof(name));
	struct ua_map_def def = { .name = name, .type = UA_MAP_ARRAY, .key_size = 4,
				  .value_size = size, .max_entries = 1,
				  .map_flags = MAP_F_MMAPABLE | MAP_F_RDONLY_PROG };

	idx = add_map(ld, &def);
	if (idx < 0)
		return idx;
	struct ua_map *m = ld->obj->maps[idx];

	for (unsigned i = 0; i < ua_btf_vlen(sec); i++) {
		const struct ua_btf_var_secinfo *vi = &ua_btf_secinfos(sec)[i];
		const char *vn = ua_btf_name(btf, ua_btf_type_by_id(btf, vi->type));
		bool found;
		uint64_t v = kconfig_value(ld, vn, &found);

		if (!found && !elf_sym_is_weak(ld, vn))
			return LERR(ld, -ESRCH, "extern (kconfig) '%s': value not found", vn);
		if (!found)
			continue; /* __weak and unknown: stays zero, as libbpf does */
		if (vi->size > 8)
			return LERR(ld, -EINVAL, "extern (kconfig) '%s': %u-byte value", vn, vi->size);
		memcpy((uint8_t *)m->mmaped + ld->kconfig_offs[i], &v, vi->size); /* little-endian */
	}
	m->frozen = true;
	ld->kconfig_map = idx;
	ld->kconfig_datasec = ds;
	return 0;
}

static int load_arena_image(struct ld_state *ld, const struct ua_elf_sec *s, bool at_end)
{
	struct ua_map *a = ld->obj->arena;

	if (!a)
		return LERR(ld, -ENOENT,
			    "to use global __arena variables the ARENA map should be explicitly "
			    "declared in SEC(\".maps\") (section %s)", ARENA_SEC);
	uint64_t img = UA_ROUND_UP((uint64_t)s->size, 4096), size = a->mmap_sz;

	if (img > size)
		return LERR(ld, -E2BIG, "declared ARENA map size (%llu) is too small to hold %zu bytes "
			    "of global __arena variables", (unsigned long long)size, s->size);
	ld->obj->arena_data_off = at_end ? size - img : 0;
	/*
	 * The pages count as allocated (spec §5), as after libbpf's copy through
	 * the user view. They are allocated first rather than by that copy's
	 * faults: with BPF_F_SEGV_ON_FAULT a fault would kill this process.
	 */
	if (img && !ua_arena_alloc_pages(a->arena, (uint8_t *)a->mmaped + ld->obj->arena_data_off,
					 (uint32_t)(img / 4096), -1, 0))
		return LERR(ld, -ENOMEM, "cannot allocate %llu arena pages for global __arena "
			    "variables", (unsigned long long)(img / 4096));
	if (s->data)
		memcpy((uint8_t *)a->mmaped + ld->obj->arena_data_off, s->data, s->size);
	else
		memset((uint8_t *)a->mmaped + ld->obj->arena_data_off, 0, s->size);
	ld->secs[s->idx].kind = LD_SEC_ARENA;
	return 0;
}

static int classify_sections(struct ld_state *ld, const struct ua_object_open_opts *opts)
{
	struct ua_elf *e = &ld->elf;
	int ret;

	ld->secs = calloc(e->n_sections, sizeof(*ld->secs));
	if (!ld->secs)
		return -ENOMEM;
	for (size_t i = 1; i < e->n_sections; i++) {
		struct ua_elf_sec s;

		if (ua_elf_section(e, i, &s))
			return LERR(ld, -EINVAL, "section %zu: unreadable", i);
		ld->secs[i].name = s.name;
		if (s.shdr.sh_type == SHT_REL) {
			if (s.shdr.sh_info == 0 || s.shdr.sh_info >= e->n_sections ||
			    s.shdr.sh_link != e->symtab_idx || s.shdr.sh_entsize != sizeof(Elf64_Rel))
				return LERR(ld, -EINVAL, "relocation section %s: bad header", s.name);
			continue; /* attached below, once every target is known */
		}
		if (!strcmp(s.name, ".BTF")) {
			if (ld->btf) /* which one would the types come from? */
				return LERR(ld, -EINVAL, "section %zu: a second .BTF section", i);
			ret = ua_btf_parse(s.data, s.size, NULL, ld->err, ld->err_sz, &ld->btf);
			if (ret)
				return ret;
		} else if (s.shdr.sh_type == SHT_PROGBITS && (s.shdr.sh_flags & SHF_EXECINSTR)) {
			if (s.size % sizeof(struct ua_insn))
				return LERR(ld, -EINVAL, "section %s: size %zu is not a multiple of 8",
					    s.name, s.size);
			ld->secs[i].kind = LD_SEC_PROG;
			ld->secs[i].insns = s.data;
			/* A hand-made ELF (or a buffer at an odd address) can place code at
			 * any offset; instructions are read as structs, so copy them. */
			if ((uintptr_t)s.data % _Alignof(struct ua_insn)) {
				ld->secs[i].insns_copy = malloc(s.size ? s.size : 1);
				if (!ld->secs[i].insns_copy)
					return -ENOMEM;
				memcpy(ld->secs[i].insns_copy, s.data, s.size);
				ld->secs[i].insns = ld->secs[i].insns_copy;
			}
			ld->secs[i].n_insns = s.size / sizeof(struct ua_insn);
		} else if (!strcmp(s.name, ".maps")) {
			ld->maps_sec = i;
			ld->secs[i].kind = LD_SEC_MAPS;
		}
	}
	for (size_t i = 1; i < e->n_sections; i++) {
		struct ua_elf_sec s;

		if (ua_elf_section(e, i, &s) || s.shdr.sh_type != SHT_REL)
			continue;
		if (ld->secs[s.shdr.sh_info].kind == LD_SEC_PROG)
			ld->secs[s.shdr.sh_info].rel_idx = i;
	}
	/* .BTF.ext after .BTF: it names sections through BTF strings. */
	for (size_t i = 1; i < e->n_sections; i++) {
		struct ua_elf_sec s;

		if (ua_elf_section(e, i, &s) || strcmp(s.name, ".BTF.ext"))
			continue;
		if (!ld->btf)
			return LERR(ld, -EINVAL, ".BTF.ext without .BTF");
		if (ld->btf_ext)
			return LERR(ld, -EINVAL, "section %zu: a second .BTF.ext section", i);
		ret = ua_btf_ext_parse(s.data, s.size, ld->btf, ld->err, ld->err_sz, &ld->btf_ext);
		if (ret)
			return ret;
	}
	ret = create_btf_maps(ld);
	if (ret)
		return ret;
	for (size_t i = 1; i < e->n_sections; i++) {
		struct ua_elf_sec s;

		if (ua_elf_section(e, i, &s))
			continue;
		if ((s.shdr.sh_flags & SHF_EXECINSTR) || (s.shdr.sh_type != SHT_PROGBITS &&
							  s.shdr.sh_type != SHT_NOBITS))
			continue;
		if (!strcmp(s.name, ARENA_SEC))
			ret = load_arena_image(ld, &s, OPTS_GET(opts, globals_at_end, false));
		else if (is_data_sec(s.name) && s.size > 0)
			ret = create_data_map(ld, &s);
		if (ret)
			return ret;
	}
	return create_kconfig_map(ld);
}

/*
 * text_mode: the object has no program sections (plain `clang -target bpf`
 * code without SEC()): its global .text functions become programs run with
 * the raw convention (r1 = data, r2 = length), like ubpf/rbpf run .text.
 */
static int add_programs(struct ld_state *ld, bool text_mode)
{
	struct ua_object *obj = ld->obj;
	struct ua_elf *e = &ld->elf;

	for (size_t i = 1; i < e->n_syms; i++) {
		GElf_Sym sym;
		const char *name;

		if (ua_elf_symbol(e, i, &sym, &name))
			return LERR(ld, -EINVAL, "symbol %zu: unreadable", i);
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= e->n_sections || ld->secs[sym.st_shndx].kind != LD_SEC_PROG)
			continue;
		const struct ld_sec *sec = &ld->secs[sym.st_shndx];

		if (!strcmp(sec->name, ".text") != text_mode)
			continue; /* .text holds subprograms */
		if (text_mode && GELF_ST_BIND(sym.st_info) != STB_GLOBAL)
			continue;
		if (sym.st_value % 8 || sym.st_size % 8 || sym.st_size == 0 ||
		    sym.st_value / 8 + sym.st_size / 8 > sec->n_insns)
			return LERR(ld, -EINVAL, "prog '%s': bad symbol bounds (section %s)", name,
				    sec->name);
		struct ua_program *n = realloc(obj->progs, (obj->n_progs + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		obj->progs = n;
		struct ua_program *p = &obj->progs[obj->n_progs++];

		memset(p, 0, sizeof(*p));
		p->obj = obj;
		p->name = strdup(name);
		p->sec_name = strdup(sec->name);
		if (!p->name || !p->sec_name)
			return -ENOMEM;
		/* libbpf: SEC("?xdp") is an xdp program that is not loaded by default. */
		p->autoload = sec->name[0] != '?';
		p->type = prog_type_of(sec->name + !p->autoload);
		p->sec_idx = sym.st_shndx;
		p->sec_insn = sym.st_value / 8;
		p->sec_len = sym.st_size / 8;
	}
	return 0;
}

static void object_name_from(const char *path, char *out, size_t out_sz)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");

	snprintf(out, out_sz, "%.*s", (int)n, base);
}

static uint32_t online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (uint32_t)n : 1;
}

static int object_init(struct ua_object *obj, const struct ua_object_open_opts *opts,
		       const char *default_name)
{
	const char *name = OPTS_GET(opts, object_name, NULL);

	if (name)
		snprintf(obj->name, sizeof(obj->name), "%s", name);
	else
		object_name_from(default_name, obj->name, sizeof(obj->name));
	obj->nr_cpus = OPTS_GET(opts, nr_cpus, 0);
	if (!obj->nr_cpus)
		obj->nr_cpus = online_cpus();
	obj->trace = OPTS_GET(opts, trace, NULL);
	obj->trace_ctx = OPTS_GET(opts, trace_ctx, NULL);
	obj->helpers = OPTS_GET(opts, helpers, NULL);
	obj->cpu_busy = calloc(obj->nr_cpus, sizeof(bool));
	if (!obj->cpu_busy)
		return -ENOMEM;
	pthread_mutex_init(&obj->cpu_lock, NULL);
	pthread_cond_init(&obj->cpu_cond, NULL);
	return 0;
}

static void ld_cleanup(struct ld_state *ld)
{
	ua_btf_ext_free(ld->btf_ext);
	ua_btf_free(ld->btf);
	for (size_t i = 0; ld->secs && i < ld->elf.n_sections; i++)
		free(ld->secs[i].insns_copy);
	ua_elf_close(&ld->elf);
	free(ld->secs);
	free(ld->map_syms);
	free(ld->failed_maps);
	free(ld->kconfig_offs);
}

static int load_object(struct ld_state *ld, const void *buf, size_t size,
		       const struct ua_object_open_opts *opts)
{
	const char *only = OPTS_GET(opts, only_prog, NULL);
	int ret;

	ret = ua_elf_open_mem(buf, size, ld->err, ld->err_sz, &ld->elf);
	if (ret)
		return ret;
	ret = classify_sections(ld, opts);
	if (ret)
		return ret;
	ret = add_programs(ld, false);
	if (!ret && ld->obj->n_progs == 0)
		ret = add_programs(ld, true);
	if (ret)
		return ret;
	if (only && !ua_object_find_program(ld->obj, only))
		return LERR(ld, -ENOENT, "no program named '%s'", only);
	for (size_t i = 0; i < ld->obj->n_progs; i++) {
		struct ua_program *p = &ld->obj->progs[i];

		if (only ? strcmp(p->name, only) != 0 : !p->autoload)
			continue;
		ret = ua_loader_link_prog(ld, p);
		if (ret)
			return ret;
		ret = ua_loader_prepare_prog(ld->obj, p, ld->err, ld->err_sz);
		if (ret)
			return ret;
	}
	return 0;
}

int ua_object_open_mem(const void *buf, size_t size, const struct ua_object_open_opts *opts,
		       struct ua_object **out)
{
	char *err = OPTS_GET(opts, err_buf, NULL);
	size_t err_sz = OPTS_GET(opts, err_buf_sz, 0);
	struct ld_state ld = { .err = err, .err_sz = err_sz,
			       .only_prog = OPTS_GET(opts, only_prog, NULL) != NULL };
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (err && err_sz)
		err[0] = '\0';
	if (!OPTS_VALID(opts, ua_object_open_opts))
		return ua_errf(err, err_sz, -EINVAL, "loader: invalid opts");
	ld.obj = calloc(1, sizeof(*ld.obj));
	if (!ld.obj)
		return -ENOMEM;
	ret = object_init(ld.obj, opts, "obj");
	if (!ret)
		ret = load_object(&ld, buf, size, opts);
	if (!ret)
		ret = ua_object_build_regions(ld.obj);
	ld_cleanup(&ld);
	if (ret) {
		ua_object_free(ld.obj);
		if (ret == -ENOMEM && err && err_sz && !err[0])
			ua_errf(err, err_sz, ret, "loader: out of memory");
		return ret;
	}
	*out = ld.obj;
	return 0;
}

int ua_object_open(const char *path, const struct ua_object_open_opts *opts,
		   struct ua_object **out)
{
	char *err = OPTS_GET(opts, err_buf, NULL);
	size_t err_sz = OPTS_GET(opts, err_buf_sz, 0);
	struct stat st;
	void *buf;
	int fd, ret;

	if (!out || !path)
		return -EINVAL;
	*out = NULL;
	if (!OPTS_VALID(opts, ua_object_open_opts))
		return ua_errf(err, err_sz, -EINVAL, "loader: invalid opts");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ua_errf(err, err_sz, -errno, "loader: cannot open %s: %s", path,
			       strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (1LL << 30)) {
		close(fd);
		return ua_errf(err, err_sz, -EINVAL, "loader: %s: empty or unreadable", path);
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;

	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, (char *)buf + got, (size_t)st.st_size - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	/* The object name defaults to the file's basename, as libbpf's does. */
	struct ua_object_open_opts o = { .sz = sizeof(o) };

	if (opts)
		memcpy(&o, opts, UA_MIN(opts->sz, sizeof(o)));
	o.sz = sizeof(o);
	char name[64];

	if (!o.object_name) {
		object_name_from(path, name, sizeof(name));
		o.object_name = name;
	}
	ret = ua_object_open_mem(buf, got, &o, out);
	free(buf);
	return ret;
}
