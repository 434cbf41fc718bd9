/* SPDX-License-Identifier: MIT */
/*
 * uarena vs kernel on one object: the engine behind `uarena diff`.
 *
 * Model: the caller opens a .bpf.o with ua_object_open() (and may set global
 * data). ua_kdiff_create() then builds the same object in the kernel from
 * what uarena loaded: maps in the object's order (so the linked programs'
 * ld_imm64 map indexes carry over unchanged), their current contents, the
 * arena's globals image, and the programs' linked instructions, whose
 * pseudo forms (map index in ld_imm64, kfunc table index in calls) become
 * ua_kobj relocations (src/kernel/kobj.c). The caller runs the program on
 * both sides, then ua_kdiff_compare() reports every difference in map
 * contents and arena pages.
 *
 * Addresses: a kernel arena and a uarena arena cannot share a user address
 * in one process. An object that fixes the address (map_extra) gets it in
 * the kernel too, mapped by a short-lived child (describe_arena); otherwise
 * the kernel arena goes to another 4 GiB window with the same low 32 bits as
 * uarena's user_vm_start. Arena
 * semantics depend only on the low 32 bits, so both sides make the same
 * placement decisions, and a user-form pointer differs only in its upper 32
 * bits: the comparison treats 8-byte words equal when they are equal or are
 * both user-form pointers into their own arena with the same low 32 bits.
 *
 * Arena pages are compared where either side has one (compare_arena); the
 * kernel's are read through the program view (BPF-side loads, which never
 * allocate) by a straight-line SYSCALL program that copies one page into
 * its ctx per test run, uarena's through its user view, only where the page
 * exists already.
 */
#include "kernel.h"

#include "elf_reader.h"
#include "internal.h"
#include "loader.h"
#include "map.h"

#include <uarena/arena.h>
#include <uarena/object.h>

#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_SZ 4096u
#define WORDS_PER_PAGE (PAGE_SZ / 8)
#define ARENA_SEC ".addr_space.1"

struct ua_kdiff {
	struct ua_object *obj;
	struct ua_kobj *ko;
	uint32_t *kprog_of;      /* object program index -> kobj program index, or UINT32_MAX */
	int arena_idx;           /* index of the arena map, -1 = none */
	uint64_t ubase, kbase;   /* user_vm_start on each side */
	size_t arena_size;
	int reader_fd;           /* kernel page reader program */
	uint8_t *image;          /* heap copy of the arena globals image */
	struct ua_karena *kops;  /* kernel allocator scan (which pages are taken) */
};

/* ---- the object's arena image size (the loader does not keep it) ---- */

int ua_kfile_read(const char *path, uint8_t **buf_out, size_t *len_out)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*buf_out = NULL;
	*len_out = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*buf_out = buf;
	*len_out = len;
	return 0;
}

static int arena_image_size(const char *path, size_t *out, char *err, size_t err_sz)
{
	struct ua_elf elf;
	struct ua_elf_sec sec;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*out = 0;
	ret = ua_kfile_read(path, &buf, &len);
	if (ret)
		return ua_errf(err, err_sz, ret, "kernel: diff: cannot read %s: %s", path,
			       ua_strerror(ret));
	ret = ua_elf_open_mem(buf, len, err, err_sz, &elf);
	if (ret) {
		free(buf);
		return ret;
	}
	for (size_t i = 1; i < elf.n_sections; i++)
		if (ua_elf_section(&elf, i, &sec) == 0 && sec.name && !strcmp(sec.name, ARENA_SEC))
			*out = sec.size;
	ua_elf_close(&elf);
	free(buf);
	return 0;
}

/* Bytes of one value as user space sees it on each side (all CPUs' slots for per-CPU maps). */
struct value_shape {
	uint32_t slot;            /* per-CPU: value_size rounded up to 8; else value_size */
	uint32_t u_slots, k_slots; /* 1, or each side's CPU count */
};

/* ---- kernel arena placement ---- */

static bool range_free(uint64_t addr, size_t len)
{
	void *p = mmap((void *)(uintptr_t)addr, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, len);
	return (uint64_t)(uintptr_t)p == addr;
}

/* Another 4 GiB window, same low 32 bits as uarena's user_vm_start. */
static int pick_kernel_base(uint64_t ubase, size_t len, uint64_t *out)
{
	for (uint64_t hi = 0x2000; hi < 0x7f00; hi += 0x11) {
		uint64_t addr = (hi << 32) | (uint32_t)ubase;

		if (addr >> 32 != ubase >> 32 && range_free(addr, len)) {
			*out = addr;
			return 0;
		}
	}
	return -ENOMEM;
}

/* ---- object -> kernel description ---- */

/* Kernel map names: at most 15 chars of [A-Za-z0-9_.]. */
static void kernel_name(char dst[16], const char *src)
{
	size_t n = strlen(src), start = n > 15 ? n - 15 : 0, i;

	for (i = 0; i < 15 && src[start + i]; i++) {
		char c = src[start + i];

		dst[i] = (c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			  (c >= 'A' && c <= 'Z')) ? c : '_';
	}
	dst[i] = '\0';
}

static bool is_global_data(const struct ua_map *m)
{
	return m->type == UA_MAP_ARRAY && m->max_entries == 1 && m->mmaped;
}

/*
 * The kernel arena's address. The object fixed one (map_extra): the kernel
 * arena gets the same, mapped and filled in a child process since uarena's
 * arena occupies it here (uarena's views are MADV_DONTFORK, so the child has
 * the range free); the image is copied to the heap first for the same
 * reason. Otherwise: another 4 GiB window, same low 32 bits.
 */
static int describe_arena(struct ua_kdiff *d, const struct ua_map *m, struct ua_kobj_map_desc *md,
			  size_t image_size, char *err, size_t err_sz)
{
	const struct ua_object *obj = d->obj;
	int ret;

	d->ubase = (uint64_t)(uintptr_t)m->mmaped;
	d->arena_size = m->mmap_sz;
	if (m->map_extra) {
		d->kbase = m->map_extra;
		md->mmap_in_child = true;
	} else {
		ret = pick_kernel_base(d->ubase, d->arena_size, &d->kbase);
		if (ret)
			return ua_errf(err, err_sz, ret,
				       "kernel: diff: no free 4 GiB window for the kernel arena");
	}
	md->attr.map_extra = d->kbase;
	if (!image_size)
		return 0;
	if (image_size > d->arena_size - obj->arena_data_off)
		return ua_errf(err, err_sz, -E2BIG, "kernel: diff: arena image larger than the arena");
	d->image = malloc(image_size);
	if (!d->image)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
	memcpy(d->image, (const uint8_t *)m->mmaped + obj->arena_data_off, image_size);
	md->init = d->image;
	md->init_size = (uint32_t)image_size;
	md->init_offset = obj->arena_data_off;
	return 0;
}

static int describe_maps(struct ua_kdiff *d, struct ua_kobj_map_desc *maps, char (*names)[16],
			 size_t image_size, char *err, size_t err_sz)
{
	struct ua_object *obj = d->obj;

	for (size_t i = 0; i < obj->n_maps; i++) {
		const struct ua_map *m = obj->maps[i];
		struct ua_kobj_map_desc *md = &maps[i];

		kernel_name(names[i], m->name);
		md->name = names[i];
		md->attr = (struct ua_kbpf_map_attr){
			.map_type = m->type, .key_size = m->key_size, .value_size = m->value_size,
			.max_entries = m->max_entries, .map_flags = m->map_flags,
			.map_extra = m->map_extra,
		};
		if (m->type == UA_MAP_PERCPU_ARRAY || m->type == UA_MAP_PERCPU_HASH)
			md->attr.value_size = m->value_size; /* per element; contents not copied */
		if (m->type == UA_MAP_ARENA_TYPE) {
			int ret = describe_arena(d, m, md, image_size, err, err_sz);

			if (ret)
				return ret;
			d->arena_idx = (int)i;
		} else if (is_global_data(m)) {
			md->init = m->mmaped;
			md->init_size = m->value_size;
			md->freeze = m->frozen;
		}
	}
	return 0;
}

/* The kernel's ctx offset of the loader's private 64-bit packet pointer slot, or -1. */
static int kernel_ctx_off(enum ua_prog_type type, int16_t slot)
{
	bool xdp = type == UA_PROG_TYPE_XDP;

	switch (slot) {
	case UA_CTX_PTR_DATA:
		return xdp ? 0 : 76;
	case UA_CTX_PTR_DATA_END:
		return xdp ? 4 : 80;
	case UA_CTX_PTR_DATA_META:
		return xdp ? 8 : 140;
	}
	return -1;
}

uint32_t ua_kctx_regs_after(const struct ua_insn *in, uint32_t ctx_regs)
{
	uint8_t cls = UA_CLASS(in->code);

	if (in->code == (UA_ALU64 | UA_MOV | UA_X) && in->off == 0)
		return ctx_regs & (1u << in->src_reg) ? ctx_regs | 1u << in->dst_reg
						     : ctx_regs & ~(1u << in->dst_reg);
	if (in->code == (UA_JMP | UA_CALL))
		return ctx_regs & ~0x3fu;
	if (cls == UA_LDX || cls == UA_ALU || cls == UA_ALU64 || cls == UA_LD)
		return ctx_regs & ~(1u << in->dst_reg);
	return ctx_regs;
}

/*
 * Undoes the loader's packet-context rewrite (loader_prog.c turns the u32
 * ctx->data/data_end/data_meta loads into 64-bit loads of private slots):
 * the kernel converts those loads itself. Only loads from a register known
 * to hold the ctx are touched: r1 at entry and its mov64 copies, forgotten
 * when overwritten or at a call, in one linear pass like the loader's.
 */
static void restore_ctx_loads(enum ua_prog_type type, struct ua_insn *insns, size_t n)
{
	uint32_t ctx_regs = 1u << 1;

	if (type != UA_PROG_TYPE_XDP && type != UA_PROG_TYPE_SCHED_CLS &&
	    type != UA_PROG_TYPE_SCHED_ACT && type != UA_PROG_TYPE_SOCKET_FILTER)
		return;
	for (size_t i = 0; i < n; i++) {
		struct ua_insn *in = &insns[i];
		int off;

		if (in->code == (UA_LDX | UA_DW | UA_MEM) && (ctx_regs & (1u << in->src_reg)) &&
		    (off = kernel_ctx_off(type, in->off)) >= 0) {
			in->code = UA_LDX | UA_W | UA_MEM;
			in->off = (int16_t)off;
		}
		ctx_regs = ua_kctx_regs_after(in, ctx_regs);
	}
}

static bool is_ld_imm64_map(const struct ua_insn *in)
{
	return in->code == (UA_LD | UA_DW | UA_IMM) &&
	       (in->src_reg == UA_PSEUDO_MAP_FD || in->src_reg == UA_PSEUDO_MAP_VALUE);
}

static int describe_prog(const struct ua_object *obj, const struct ua_program *p,
			 struct ua_kobj_prog_desc *pd, struct ua_kobj_reloc **relocs_out,
			 struct ua_insn **insns_out, struct ua_kbtf **vmlinux, char *err,
			 size_t err_sz)
{
	struct ua_kobj_reloc *relocs;
	struct ua_insn *insns;
	uint32_t n = 0;
	const char *sec = p->sec_name ? p->sec_name : "";
	int ret;

	relocs = calloc(p->n_insns ? p->n_insns : 1, sizeof(*relocs));
	insns = calloc(p->n_insns ? p->n_insns : 1, sizeof(*insns));
	if (!relocs || !insns) {
		free(relocs);
		free(insns);
		return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
	}
	memcpy(insns, p->insns, p->n_insns * sizeof(*insns));
	restore_ctx_loads(p->type, insns, p->n_insns);
	ret = ua_kcore_redo(p, insns, (uint32_t)p->n_insns, vmlinux, err, err_sz);
	if (ret) {
		free(relocs);
		free(insns);
		return ret;
	}
	for (size_t i = 0; i < p->n_insns; i++) {
		const struct ua_insn *in = &p->insns[i];

		if (is_ld_imm64_map(in) && i + 1 < p->n_insns) {
			relocs[n++] = (struct ua_kobj_reloc){
				.insn_idx = (uint32_t)i,
				.kind = in->src_reg == UA_PSEUDO_MAP_FD ? UA_KOBJ_RELOC_MAP_FD
									: UA_KOBJ_RELOC_MAP_VALUE,
				.map_idx = (uint32_t)in->imm,
				.value_off = (uint32_t)in[1].imm,
			};
			i++;
		} else if (in->code == (UA_JMP | UA_CALL) && in->src_reg == UA_PSEUDO_KFUNC_CALL) {
			if (in->imm < 0 || (size_t)in->imm >= obj->n_kfuncs) {
				free(relocs);
				free(insns);
				return ua_errf(err, err_sz, -EINVAL,
					       "kernel: diff: prog '%s' insn %zu: kfunc index %d unknown",
					       p->name, i, in->imm);
			}
			relocs[n++] = (struct ua_kobj_reloc){ .insn_idx = (uint32_t)i,
							      .kind = UA_KOBJ_RELOC_KFUNC,
							      .kfunc = obj->kfuncs[in->imm]->name };
		}
	}
	*pd = (struct ua_kobj_prog_desc){
		.name = p->name,
		.prog_type = (uint32_t)p->type,
		.insns = insns,
		.insn_cnt = (uint32_t)p->n_insns,
		.relocs = relocs,
		.n_relocs = n,
	};
	/* libbpf's sleepable sections: syscall and every "*.s" section. */
	if (p->type == UA_PROG_TYPE_SYSCALL || strstr(sec, ".s/") ||
	    (strlen(sec) > 2 && !strcmp(sec + strlen(sec) - 2, ".s")))
		pd->prog_flags = UA_KBPF_F_SLEEPABLE;
	*relocs_out = relocs;
	*insns_out = insns;
	return 0;
}

/* func_info for a program with callbacks (src/kernel/kfuncinfo.c); *need_btf set then. */
static int add_func_info(struct ua_kfuncinfo *fi, struct ua_kobj_prog_desc *pd,
			 struct ua_kbpf_func_info **recs, bool *need_btf, char *err, size_t err_sz)
{
	uint32_t cnt = 0;
	int ret = ua_kfuncinfo_add_prog(fi, pd->name, pd->insns, pd->insn_cnt, recs, &cnt);

	if (ret)
		return ua_errf(err, err_sz, ret, "kernel: diff: prog '%s': func_info: %s", pd->name,
			       ua_strerror(ret));
	if (cnt) {
		pd->func_info = *recs;
		pd->func_info_rec_size = sizeof(**recs);
		pd->func_info_cnt = cnt;
		*need_btf = true;
	}
	return 0;
}

static struct value_shape value_shape(const struct ua_map *m);

/*
 * ARRAY/HASH and per-CPU maps that are not global data: copy the entries the
 * host put there (per-CPU: the CPUs both sides have; the kernel's others 0).
 */
static int copy_entries(struct ua_kdiff *d, char *err, size_t err_sz)
{
	for (size_t i = 0; i < d->obj->n_maps; i++) {
		struct ua_map *m = d->obj->maps[i];
		struct value_shape vs = value_shape(m);
		size_t val_sz = (size_t)UA_MAX(vs.u_slots, vs.k_slots) * vs.slot;
		int fd = ua_kobj_map_fd(d->ko, (uint32_t)i), ret = 0;
		uint8_t *key, *next, *val;
		bool first = true;

		if ((m->type != UA_MAP_ARRAY && m->type != UA_MAP_HASH &&
		     m->type != UA_MAP_PERCPU_ARRAY && m->type != UA_MAP_PERCPU_HASH) ||
		    is_global_data(m))
			continue;
		key = calloc(1, m->key_size);
		next = calloc(1, m->key_size);
		val = calloc(1, val_sz + 1);
		if (!key || !next || !val)
			ret = ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
		while (!ret && ua_map_get_next_key(m, first ? NULL : key, next) == 0) {
			first = false;
			memcpy(key, next, m->key_size);
			memset(val, 0, val_sz);
			if (ua_map_lookup_elem(m, key, val) == 0) {
				if (vs.u_slots > vs.k_slots)
					memset(val + (size_t)vs.k_slots * vs.slot, 0,
					       (size_t)(vs.u_slots - vs.k_slots) * vs.slot);
				ret = ua_kbpf_map_update(fd, key, val, UA_KBPF_ANY);
			}
			if (ret)
				ret = ua_errf(err, err_sz, ret, "kernel: diff: map '%s': copy: %s",
					      m->name, ua_strerror(ret));
		}
		free(key);
		free(next);
		free(val);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- reading kernel arena pages without allocating them ---- */

static int load_reader(struct ua_kdiff *d, char *err, size_t err_sz)
{
	/*
	 * r6 = ctx; r7 = cast_kern(ctx->addr); ctx->words[w] = r7[w] for 512
	 * words. Straight-line: ctx stores need constant offsets from r6. The
	 * ld_imm64 of the arena associates it with the program (cast_kern needs
	 * one); r1 is not used after it.
	 */
	size_t n = 5 + 2 * WORDS_PER_PAGE + 2;
	struct ua_insn *p = calloc(n, sizeof(*p)), *q = p;
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SYSCALL,
					.prog_flags = UA_KBPF_F_SLEEPABLE, .name = "ua_kdiff_read" };
	int fd;

	if (!p)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
	*q++ = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 6, .src_reg = 1 };
	*q++ = (struct ua_insn){ .code = UA_LDX | UA_MEM | UA_DW, .dst_reg = 7, .src_reg = 6 };
	*q++ = (struct ua_insn){ .code = UA_LD | UA_DW | UA_IMM, .dst_reg = 1,
				 .src_reg = UA_PSEUDO_MAP_FD,
				 .imm = ua_kobj_map_fd(d->ko, (uint32_t)d->arena_idx) };
	*q++ = (struct ua_insn){ 0 };
	*q++ = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_X, .dst_reg = 7, .src_reg = 7,
				 .off = UA_ADDR_SPACE_CAST, .imm = UA_CAST_KERN };
	for (unsigned w = 0; w < WORDS_PER_PAGE; w++) {
		*q++ = (struct ua_insn){ .code = UA_LDX | UA_MEM | UA_DW, .dst_reg = 0, .src_reg = 7,
					 .off = (int16_t)(8 * w) };
		*q++ = (struct ua_insn){ .code = UA_STX | UA_MEM | UA_DW, .dst_reg = 6, .src_reg = 0,
					 .off = (int16_t)(8 + 8 * w) };
	}
	*q++ = (struct ua_insn){ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 0 };
	*q++ = (struct ua_insn){ .code = UA_JMP | UA_EXIT };
	UA_ASSERT((size_t)(q - p) == n);
	pa.insns = p;
	pa.insn_cnt = (uint32_t)n;
	fd = ua_kbpf_prog_load(&pa, err, err_sz);
	free(p);
	if (fd < 0)
		return fd;
	d->reader_fd = fd;
	return 0;
}

static int kernel_page(struct ua_kdiff *d, uint64_t pgoff, uint64_t words[WORDS_PER_PAGE])
{
	uint64_t ctx[1 + WORDS_PER_PAGE] = { d->kbase + pgoff * PAGE_SZ };
	struct ua_kbpf_test_run run = { .ctx_in = ctx, .ctx_size_in = sizeof(ctx) };
	int ret = ua_kbpf_prog_test_run(d->reader_fd, &run);

	if (ret == 0)
		memcpy(words, ctx + 1, PAGE_SZ);
	return ret;
}

/* ---- public entry points ---- */

int ua_kdiff_create(struct ua_object *obj, const char *path, const char *only_prog,
		    struct ua_kdiff **out, char *err, size_t err_sz)
{
	struct ua_kobj_map_desc *maps = NULL;
	struct ua_kobj_prog_desc *progs = NULL;
	struct ua_kobj_reloc **relocs = NULL;
	struct ua_insn **insns = NULL;
	char (*names)[16] = NULL;
	struct ua_kobj_desc desc = { 0 };
	struct ua_kfuncinfo *fi = NULL;
	struct ua_kbtf *vmlinux = NULL;
	struct ua_kbpf_func_info **fi_recs = NULL;
	void *fi_btf = NULL;
	uint32_t fi_btf_size = 0;
	bool need_btf = false;
	struct ua_kdiff *d;
	size_t image = 0;
	uint32_t n_progs = 0;
	int ret;

	if (!obj || !out)
		return ua_errf(err, err_sz, -EINVAL, "kernel: diff: no object");
	*out = NULL;
	if (path) {
		ret = arena_image_size(path, &image, err, err_sz);
		if (ret)
			return ret;
	}
	d = calloc(1, sizeof(*d));
	maps = calloc(obj->n_maps + 1, sizeof(*maps));
	names = calloc(obj->n_maps + 1, sizeof(*names));
	progs = calloc(obj->n_progs + 1, sizeof(*progs));
	relocs = calloc(obj->n_progs + 1, sizeof(*relocs));
	insns = calloc(obj->n_progs + 1, sizeof(*insns));
	fi_recs = calloc(obj->n_progs + 1, sizeof(*fi_recs));
	if (!d || !maps || !names || !progs || !relocs || !insns || !fi_recs ||
	    ua_kfuncinfo_create(&fi)) {
		ret = ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
		goto out;
	}
	d->obj = obj;
	d->arena_idx = -1;
	d->reader_fd = -1;
	d->kprog_of = calloc(obj->n_progs + 1, sizeof(*d->kprog_of));
	if (!d->kprog_of) {
		ret = ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
		goto out;
	}
	ret = describe_maps(d, maps, names, image, err, err_sz);
	for (size_t i = 0; i < obj->n_progs && !ret; i++) {
		const struct ua_program *p = &obj->progs[i];

		d->kprog_of[i] = UINT32_MAX;
		if (!p->prog || (only_prog && strcmp(p->name, only_prog)))
			continue;
		ret = describe_prog(obj, p, &progs[n_progs], &relocs[n_progs], &insns[n_progs],
				    &vmlinux, err, err_sz);
		if (!ret)
			ret = add_func_info(fi, &progs[n_progs], &fi_recs[n_progs], &need_btf, err,
					    err_sz);
		if (!ret)
			d->kprog_of[i] = n_progs++;
	}
	if (!ret && need_btf && (ret = ua_kfuncinfo_raw(fi, &fi_btf, &fi_btf_size)))
		ret = ua_errf(err, err_sz, ret, "kernel: diff: no memory");
	if (!ret && only_prog && !n_progs)
		ret = ua_errf(err, err_sz, -ENOENT, "kernel: diff: no prepared program '%s'", only_prog);
	if (ret)
		goto out;
	desc = (struct ua_kobj_desc){ .maps = maps, .n_maps = (uint32_t)obj->n_maps,
				      .progs = progs, .n_progs = n_progs,
				      .btf = fi_btf, .btf_size = fi_btf_size };
	ret = ua_kobj_load(&desc, &d->ko, err, err_sz);
	if (!ret)
		ret = copy_entries(d, err, err_sz);
	if (!ret && d->arena_idx >= 0) {
		ret = load_reader(d, err, err_sz);
		if (!ret)
			ret = ua_karena_attach(ua_kobj_map_fd(d->ko, (uint32_t)d->arena_idx),
					       (uint8_t *)(uintptr_t)d->kbase, d->arena_size,
					       &d->kops, err, err_sz);
	}
out:
	for (uint32_t i = 0; relocs && i <= n_progs; i++)
		free(relocs[i]);
	for (uint32_t i = 0; insns && i <= n_progs; i++)
		free(insns[i]);
	for (uint32_t i = 0; fi_recs && i <= n_progs; i++)
		free(fi_recs[i]);
	free(fi_recs);
	free(fi_btf);
	ua_kfuncinfo_destroy(fi);
	ua_kbtf_close(vmlinux);
	free(relocs);
	free(insns);
	free(progs);
	free(names);
	free(maps);
	if (ret) {
		ua_kdiff_destroy(d);
		return ret;
	}
	*out = d;
	return 0;
}

void ua_kdiff_destroy(struct ua_kdiff *d)
{
	if (!d)
		return;
	if (d->reader_fd >= 0)
		close(d->reader_fd);
	ua_karena_destroy(d->kops);
	ua_kobj_close(d->ko);
	free(d->image);
	free(d->kprog_of);
	free(d);
}

struct ua_kobj *ua_kdiff_kobj(const struct ua_kdiff *d)
{
	return d->ko;
}

int ua_kdiff_kernel_prog(const struct ua_kdiff *d, const char *name)
{
	for (size_t i = 0; i < d->obj->n_progs; i++)
		if (!strcmp(d->obj->progs[i].name, name))
			return d->kprog_of[i] == UINT32_MAX ? -ENOENT : (int)d->kprog_of[i];
	return -ENOENT;
}

/*
 * Programs that index per-CPU data in the arena (bpf_arena_alloc.h keeps a
 * page-fragment cursor per CPU) only match uarena when both run with the
 * same CPU id. BPF_F_TEST_RUN_ON_CPU is only for raw tracepoints; SYSCALL,
 * XDP and skb programs run on the calling CPU, so the calling thread is
 * pinned for the call.
 */
int ua_kdiff_kernel_test_run(struct ua_kdiff *d, const char *name, uint32_t cpu,
			     struct ua_kbpf_test_run *run)
{
	int idx = ua_kdiff_kernel_prog(d, name), ret;
	cpu_set_t old, one;

	if (idx < 0)
		return idx;
	if (sched_getaffinity(0, sizeof(old), &old) != 0)
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		return -errno;
	ret = ua_kobj_test_run(d->ko, (uint32_t)idx, run);
	sched_setaffinity(0, sizeof(old), &old);
	return ret;
}

uint64_t ua_kdiff_kernel_arena_base(const struct ua_kdiff *d)
{
	return d->kbase;
}

/* Equal, or both user-form pointers into their own arena with the same lo32. */
static bool words_match(const struct ua_kdiff *d, uint64_t u, uint64_t k)
{
	if (u == k)
		return true;
	return d->arena_idx >= 0 && (uint32_t)u == (uint32_t)k && u >> 32 == d->ubase >> 32 &&
	       k >> 32 == d->kbase >> 32;
}

/* Index of the first differing 8-byte word (tail bytes compared exactly), or -1. */
static long first_diff(const struct ua_kdiff *d, const uint8_t *u, const uint8_t *k, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t a, b;

		memcpy(&a, u + i, 8);
		memcpy(&b, k + i, 8);
		if (!words_match(d, a, b))
			return (long)i;
	}
	for (; i < len; i++)
		if (u[i] != k[i])
			return (long)i;
	return -1;
}

static void report_bytes(FILE *out, const char *what, const uint8_t *u, const uint8_t *k,
			 size_t len, long at)
{
	size_t end = UA_MIN(len, (size_t)at + 8);

	fprintf(out, "%s: differs at byte %ld: uarena", what, at);
	for (size_t i = (size_t)at; i < end; i++)
		fprintf(out, " %02x", u[i]);
	fprintf(out, ", kernel");
	for (size_t i = (size_t)at; i < end; i++)
		fprintf(out, " %02x", k[i]);
	fputc('\n', out);
}

/* The kernel's possible CPUs (per-CPU map values from user space have one slot each). */
static uint32_t kernel_possible_cpus(void)
{
	char buf[128] = "";
	unsigned long lo, hi, n = 0;
	char *p = buf, *end;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	while (*p >= '0' && *p <= '9') {
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		n += hi >= lo ? hi - lo + 1 : 0;
		p = *end == ',' ? end + 1 : end;
	}
	return n ? (uint32_t)n : 1;
}

static struct value_shape value_shape(const struct ua_map *m)
{
	struct value_shape vs = { m->value_size, 1, 1 };

	if (ua_map_is_percpu(m)) {
		vs.slot = (m->value_size + 7) & ~7u;
		vs.u_slots = m->nr_cpus ? m->nr_cpus : 1;
		vs.k_slots = kernel_possible_cpus();
	}
	return vs;
}

/*
 * One value on both sides: per-CPU maps slot by slot over the CPUs both
 * sides have; a CPU only one side has must hold zeroes there.
 */
static int compare_value(const struct ua_kdiff *d, const struct value_shape *vs, const char *what,
			 const uint8_t *uv, const uint8_t *kv, FILE *out)
{
	uint32_t both = UA_MIN(vs->u_slots, vs->k_slots), most = UA_MAX(vs->u_slots, vs->k_slots);
	char slot_what[160];
	long at;

	for (uint32_t c = 0; c < most; c++) {
		const uint8_t *a = uv + (size_t)c * vs->slot, *b = kv + (size_t)c * vs->slot;
		static const uint8_t zero[8];

		if (c >= both) {
			const uint8_t *only = c < vs->u_slots ? a : b;

			for (uint32_t i = 0; i < vs->slot; i += 8)
				if (memcmp(only + i, zero, UA_MIN(8u, vs->slot - i))) {
					fprintf(out, "%s cpu %u: only %s has this CPU, and not zeroes there\n",
						what, c, c < vs->u_slots ? "uarena" : "the kernel");
					return 1;
				}
			continue;
		}
		at = first_diff(d, a, b, vs->slot);
		if (at < 0)
			continue;
		if (vs->u_slots > 1 || vs->k_slots > 1)
			snprintf(slot_what, sizeof(slot_what), "%s cpu %u", what, c);
		else
			snprintf(slot_what, sizeof(slot_what), "%s", what);
		report_bytes(out, slot_what, a, b, vs->slot, at);
		return 1;
	}
	return 0;
}

static int compare_map(struct ua_kdiff *d, size_t idx, FILE *out)
{
	struct ua_map *m = d->obj->maps[idx];
	struct value_shape vs = value_shape(m);
	int fd = ua_kobj_map_fd(d->ko, (uint32_t)idx), diffs = 0, ku, kk;
	uint8_t *key = calloc(1, m->key_size + 1), *next = calloc(1, m->key_size + 1);
	uint8_t *uv = calloc(UA_MAX(vs.u_slots, vs.k_slots), vs.slot + 1);
	uint8_t *kv = calloc(UA_MAX(vs.u_slots, vs.k_slots), vs.slot + 1);
	bool first = true, hash = m->type == UA_MAP_HASH || m->type == UA_MAP_PERCPU_HASH;
	char what[128];

	if (!key || !next || !uv || !kv) {
		diffs = -ENOMEM;
		goto out;
	}
	/* Every uarena key must have the same value in the kernel... */
	while (ua_map_get_next_key(m, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, m->key_size);
		memset(uv, 0, (size_t)UA_MAX(vs.u_slots, vs.k_slots) * vs.slot);
		memset(kv, 0, (size_t)UA_MAX(vs.u_slots, vs.k_slots) * vs.slot);
		ku = ua_map_lookup_elem(m, key, uv);
		kk = ua_kbpf_map_lookup(fd, key, kv, 0);
		snprintf(what, sizeof(what), "map '%s' key %u", m->name,
			 m->key_size >= 4 ? *(uint32_t *)key : key[0]);
		if (ku != kk) {
			fprintf(out, "%s: uarena lookup %d, kernel %d\n", what, ku, kk);
			diffs++;
		} else if (ku == 0) {
			diffs += compare_value(d, &vs, what, uv, kv, out);
		}
	}
	/* ...and the kernel must have no key uarena lacks (hash maps). */
	first = true;
	while (hash && ua_kbpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, m->key_size);
		if (ua_map_lookup_elem(m, key, uv) == -ENOENT) {
			fprintf(out, "map '%s': key %u only in the kernel\n", m->name,
				m->key_size >= 4 ? *(uint32_t *)key : key[0]);
			diffs++;
		}
	}
out:
	free(key);
	free(next);
	free(uv);
	free(kv);
	return diffs;
}

/* ---- ring buffers: the samples both sides produced, in order ---- */

#define RB_BUSY_BIT    (1u << 31)
#define RB_DISCARD_BIT (1u << 30)
#define RB_HDR_SZ      8u

struct samples {
	uint8_t **data;
	uint32_t *len;
	size_t n, cap;
};

static int samples_add(void *ctx, const void *data, size_t size)
{
	struct samples *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint8_t **nd = realloc(s->data, cap * sizeof(*nd));

		if (nd)
			s->data = nd;
		uint32_t *nl = realloc(s->len, cap * sizeof(*nl));

		if (nl)
			s->len = nl;
		if (!nd || !nl)
			return -ENOMEM;
		s->cap = cap;
	}
	s->data[s->n] = malloc(size ? size : 1);
	if (!s->data[s->n])
		return -ENOMEM;
	memcpy(s->data[s->n], data, size);
	s->len[s->n++] = (uint32_t)size;
	return 0;
}

static void samples_free(struct samples *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
	free(s->data);
	free(s->len);
}

/*
 * Drains the kernel ring buffer as a user-space consumer does (libbpf's
 * ring_buffer__consume): consumer position page writable at offset 0, the
 * producer page and the data area (mapped twice) read-only after it.
 */
static int kernel_ringbuf_drain(int fd, uint32_t size, struct samples *s)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *cons_map, *prod_map;
	int ret = 0;

	cons_map = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons_map == MAP_FAILED)
		return -errno;
	prod_map = mmap(NULL, (size_t)pg + 2 * (size_t)size, PROT_READ, MAP_SHARED, fd, pg);
	if (prod_map == MAP_FAILED) {
		ret = -errno;
		munmap(cons_map, (size_t)pg);
		return ret;
	}
	_Atomic uint64_t *cons_pos = cons_map, *prod_pos = prod_map;
	const uint8_t *data = (const uint8_t *)prod_map + pg;
	uint64_t cons = atomic_load_explicit(cons_pos, memory_order_acquire);
	uint64_t prod = atomic_load_explicit(prod_pos, memory_order_acquire);

	while (!ret && cons < prod) {
		const uint8_t *hdr = data + (cons & (size - 1));
		uint32_t len = atomic_load_explicit((_Atomic uint32_t *)hdr, memory_order_acquire);

		if (len & RB_BUSY_BIT)
			break;
		if (!(len & RB_DISCARD_BIT))
			ret = samples_add(s, hdr + RB_HDR_SZ, len);
		len &= ~(RB_BUSY_BIT | RB_DISCARD_BIT);
		cons += (len + RB_HDR_SZ + 7) & ~7ull;
		atomic_store_explicit(cons_pos, cons, memory_order_release);
	}
	munmap(prod_map, (size_t)pg + 2 * (size_t)size);
	munmap(cons_map, (size_t)pg);
	return ret;
}

/* Consumes both ring buffers (the comparison is the consumer) and compares the samples. */
static int compare_ringbuf(struct ua_kdiff *d, size_t idx, FILE *out)
{
	struct ua_map *m = d->obj->maps[idx];
	struct samples us = { 0 }, ks = { 0 };
	char what[128];
	int ret, diffs = 0;
	long at;

	ret = ua_ringbuf_consume(m, samples_add, &us);
	if (ret >= 0 && us.n != (size_t)ret)
		ret = -ENOMEM; /* a callback failed and stopped the consumer */
	if (ret >= 0)
		ret = kernel_ringbuf_drain(ua_kobj_map_fd(d->ko, (uint32_t)idx), m->max_entries, &ks);
	if (ret < 0)
		goto out;
	if (us.n != ks.n) {
		fprintf(out, "map '%s': uarena %zu samples, kernel %zu samples\n", m->name, us.n, ks.n);
		diffs++;
	}
	for (size_t i = 0; i < UA_MIN(us.n, ks.n); i++) {
		snprintf(what, sizeof(what), "map '%s' sample %zu", m->name, i);
		if (us.len[i] != ks.len[i]) {
			fprintf(out, "%s: uarena %u bytes, kernel %u bytes\n", what, us.len[i], ks.len[i]);
			diffs++;
		} else if ((at = first_diff(d, us.data[i], ks.data[i], us.len[i])) >= 0) {
			report_bytes(out, what, us.data[i], ks.data[i], us.len[i], at);
			diffs++;
		}
	}
	ret = diffs;
out:
	samples_free(&us);
	samples_free(&ks);
	return ret;
}

/*
 * Pages worth reading: those the kernel's allocator has taken (scan program)
 * and those resident in uarena's shared file (mincore on its user view: an
 * allocated or host-touched page exists in the file, a free one does not).
 * Every other page reads as zeros on both sides, so it cannot differ.
 */
static int compare_arena(struct ua_kdiff *d, FILE *out)
{
	uint64_t uw[WORDS_PER_PAGE], kw[WORDS_PER_PAGE], pages = d->arena_size / PAGE_SZ;
	uint64_t pg = 0, kbusy = 0;
	bool kbusy_known = false;
	const uint8_t *ubase = (const uint8_t *)(uintptr_t)d->ubase;
	unsigned char *resident = malloc(pages ? pages : 1);
	int diffs = 0, ret = 0;
	char what[96];
	long at;

	if (!resident)
		return -ENOMEM;
	if (mincore((void *)(uintptr_t)d->ubase, d->arena_size, resident) != 0) {
		free(resident);
		return -errno;
	}
	while (pg < pages) {
		uint64_t next;

		if (!kbusy_known || kbusy < pg) {
			kbusy_known = true;
			ret = ua_karena_next_busy(d->kops, pg, pages, &kbusy);
			if (ret == -ENOENT)
				kbusy = pages;
			else if (ret)
				break;
			ret = 0;
		}
		next = kbusy;
		for (uint64_t u = pg; u < next; u++)
			if (resident[u] & 1) {
				next = u;
				break;
			}
		if (next >= pages)
			break;
		ret = kernel_page(d, next, kw);
		if (ret)
			break;
		if (resident[next] & 1)
			memcpy(uw, ubase + next * PAGE_SZ, PAGE_SZ);
		else
			memset(uw, 0, PAGE_SZ);
		at = first_diff(d, (const uint8_t *)uw, (const uint8_t *)kw, PAGE_SZ);
		if (at >= 0) {
			snprintf(what, sizeof(what), "arena page %llu", (unsigned long long)next);
			report_bytes(out, what, (const uint8_t *)uw, (const uint8_t *)kw, PAGE_SZ, at);
			diffs++;
		}
		pg = next + 1;
	}
	free(resident);
	return ret ? ret : diffs;
}

int ua_kdiff_compare(struct ua_kdiff *d, FILE *out)
{
	int diffs = 0, ret;

	for (size_t i = 0; i < d->obj->n_maps; i++) {
		uint32_t type = d->obj->maps[i]->type;

		if (type == UA_MAP_ARRAY || type == UA_MAP_HASH || type == UA_MAP_PERCPU_ARRAY ||
		    type == UA_MAP_PERCPU_HASH || type == UA_MAP_RINGBUF) {
			ret = type == UA_MAP_RINGBUF ? compare_ringbuf(d, i, out) : compare_map(d, i, out);
			if (ret < 0)
				return ret;
			diffs += ret;
		} else if (type != UA_MAP_ARENA_TYPE) {
			fprintf(out, "map '%s': type %u not compared\n", d->obj->maps[i]->name, type);
		}
	}
	if (d->arena_idx >= 0) {
		ret = compare_arena(d, out);
		if (ret < 0)
			return ret;
		diffs += ret;
	}
	return diffs;
}
