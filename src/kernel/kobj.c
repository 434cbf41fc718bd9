/* SPDX-License-Identifier: MIT */
/*
 * Loading an object description into the kernel: the kernel half of
 * `uarena diff` (the ELF loader produces the description, this file turns it
 * into kernel objects the way libbpf's bpf_object__load does, in order):
 *
 *   1. BTF (optional) -> btf fd, used as prog_btf_fd with func/line info;
 *   2. maps in description order; an arena is mmapped right away (the
 *      verifier refuses arena programs until user_vm_start is known) and its
 *      image copied in through the user view, which faults those pages in
 *      (so bpf_arena_alloc_pages will not hand them out, as with libbpf;
 *      a SEGV_ON_FAULT arena gets them allocated BPF-side first);
 *      ARRAY maps get key 0 = init and are frozen when asked (.rodata);
 *   3. each program: a private copy of its instructions with relocations
 *      applied (map fds and map values into ld_imm64, vmlinux BTF ids into
 *      kfunc calls), then BPF_PROG_LOAD with the verifier log on failure.
 * Every relocation is checked against the instruction it patches before the
 * kernel sees it, and errors say which map/program/instruction.
 */
#include "kernel.h"

#include "internal.h"

#include <uarena/common.h>

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct kobj_map {
	int fd;
	uint8_t *arena;      /* user mapping of an arena map */
	size_t arena_size;
};

struct ua_kobj {
	struct kobj_map *maps;
	uint32_t n_maps;
	int *prog_fds;
	uint32_t n_progs;
	int btf_fd;
};

/*
 * A SEGV_ON_FAULT arena's user view does not fault pages in: a write to an
 * unallocated page is SIGSEGV (libbpf's plain copy would crash here). The
 * image's pages are allocated first, BPF-side, at their exact addresses
 * (user_base = user_vm_start), as uarena's loader does for its own arena.
 */
static int alloc_image_pages(int fd, const struct ua_kobj_map_desc *d, uint64_t user_base,
			     size_t size, uint32_t idx, const char *name, char *err, size_t err_sz)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), first = d->init_offset / pg;
	uint64_t end = (d->init_offset + d->init_size + pg - 1) / pg, got = 0;
	struct ua_karena *ka = NULL;
	int ret;

	if (!(d->attr.map_flags & UA_KBPF_F_SEGV_ON_FAULT) || !d->init || !d->init_size)
		return 0;
	ret = ua_karena_attach(fd, (uint8_t *)(uintptr_t)user_base, size, &ka, err, err_sz);
	if (!ret)
		ret = ua_karena_alloc(ka, user_base + first * pg, (uint32_t)(end - first), -1, 0, &got);
	ua_karena_destroy(ka);
	if (!ret && got != user_base + first * pg)
		ret = -ENOMEM;
	if (ret)
		return ua_errf(err, err_sz, ret, "kernel: map %u '%s': allocating the image's pages "
			       "of a SEGV_ON_FAULT arena: %s", idx, name, ua_strerror(ret));
	return 0;
}

/* The child's half of map_arena: map at the fixed address, copy the image, leave. */
_Noreturn static void arena_child(int fd, const struct ua_kobj_map_desc *d, uint64_t at,
				   size_t size)
{
	void *base;

	if (ua_kbpf_arena_mmap(fd, (void *)(uintptr_t)at, size, PROT_READ | PROT_WRITE, true,
			       &base) != 0 || (uint64_t)(uintptr_t)base != at)
		_exit(1);
	if (d->init)
		memcpy((uint8_t *)base + d->init_offset, d->init, d->init_size);
	_exit(0);
}

/*
 * mmap (which fixes user_vm_start) and the image copy through the user view
 * (which faults those pages in, as with libbpf). With mmap_in_child this
 * happens in a short-lived child: for an address this process cannot map
 * (e.g. uarena's own arena sits there). The kernel keeps user_vm_start and
 * the pages after the child's mapping is gone; this process has no mapping.
 */
static int map_arena(struct kobj_map *m, const struct ua_kobj_map_desc *d,
		     const struct ua_kbpf_map_attr *attr, uint32_t idx, char *err, size_t err_sz)
{
	size_t size = (size_t)attr->max_entries * (size_t)sysconf(_SC_PAGESIZE);
	int ret, status;
	void *base;
	pid_t pid;

	m->arena_size = size;
	if (d->init && (d->init_offset > size || d->init_size > size - d->init_offset))
		return ua_errf(err, err_sz, -E2BIG,
			       "kernel: map %u '%s': arena image (%u bytes at %llu) exceeds the arena",
			       idx, attr->name, d->init_size, (unsigned long long)d->init_offset);
	if (!d->mmap_in_child) {
		ret = ua_kbpf_arena_mmap(m->fd, (void *)(uintptr_t)attr->map_extra, size,
					 PROT_READ | PROT_WRITE, attr->map_extra != 0, &base);
		if (ret)
			return ua_errf(err, err_sz, ret, "kernel: map %u '%s': mmap of arena: %s",
				       idx, attr->name, ua_strerror(ret));
		m->arena = base;
		ret = alloc_image_pages(m->fd, d, (uint64_t)(uintptr_t)base, size, idx, attr->name,
					err, err_sz);
		if (ret)
			return ret;
		if (d->init)
			memcpy(m->arena + d->init_offset, d->init, d->init_size);
		return 0;
	}
	if (!attr->map_extra)
		return ua_errf(err, err_sz, -EINVAL,
			       "kernel: map %u '%s': mapping in a child needs map_extra", idx,
			       attr->name);
	/* map_extra fixed user_vm_start at creation: the pages can be allocated before the mmap. */
	ret = alloc_image_pages(m->fd, d, attr->map_extra, size, idx, attr->name, err, err_sz);
	if (ret)
		return ret;
	pid = fork();
	if (pid < 0)
		return ua_errf(err, err_sz, -errno, "kernel: map %u '%s': fork: %s", idx, attr->name,
			       strerror(errno));
	if (pid == 0)
		arena_child(m->fd, d, attr->map_extra, size);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ua_errf(err, err_sz, -errno, "kernel: map %u: waitpid", idx);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ua_errf(err, err_sz, -EBUSY,
			       "kernel: map %u '%s': mmap of arena at 0x%llx failed in the child", idx,
			       attr->name, (unsigned long long)attr->map_extra);
	return 0;
}

static int create_map(struct kobj_map *m, const struct ua_kobj_map_desc *d, uint32_t idx,
		      char *err, size_t err_sz)
{
	struct ua_kbpf_map_attr attr = d->attr;
	uint32_t key = 0;
	int ret;

	memset(attr.name, 0, sizeof(attr.name));
	if (d->name)
		snprintf(attr.name, sizeof(attr.name), "%s", d->name);
	ret = ua_kbpf_map_create(&attr, err, err_sz);
	if (ret < 0)
		return ret;
	m->fd = ret;

	if (attr.map_type == UA_KBPF_MAP_TYPE_ARENA) {
		ret = map_arena(m, d, &attr, idx, err, err_sz);
		if (ret)
			return ret;
	} else if (d->init) {
		uint8_t *value;

		if (d->init_size > attr.value_size || attr.key_size != sizeof(key))
			return ua_errf(err, err_sz, -EINVAL,
				       "kernel: map %u '%s': initial value of %u bytes does not fit (key %u, value %u)",
				       idx, attr.name, d->init_size, attr.key_size,
				       attr.value_size);
		value = calloc(1, attr.value_size);
		if (!value)
			return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for map %u", idx);
		memcpy(value, d->init, d->init_size);
		ret = ua_kbpf_map_update(m->fd, &key, value, UA_KBPF_ANY);
		free(value);
		if (ret)
			return ua_errf(err, err_sz, ret, "kernel: map %u '%s': initial value: %s", idx,
				       attr.name, ua_strerror(ret));
	}
	if (d->freeze) {
		ret = ua_kbpf_map_freeze(m->fd);
		if (ret)
			return ua_errf(err, err_sz, ret, "kernel: map %u '%s': freeze: %s", idx,
				       attr.name, ua_strerror(ret));
	}
	return 0;
}

static bool is_ld_imm64(const struct ua_insn *insns, uint32_t cnt, uint32_t idx)
{
	return idx + 1 < cnt && insns[idx].code == (UA_LD | UA_DW | UA_IMM) &&
	       insns[idx + 1].code == 0;
}

static int apply_reloc(struct ua_kobj *ko, const struct ua_kobj_prog_desc *p, struct ua_insn *insns,
		       const struct ua_kobj_reloc *r, struct ua_kbtf **vmlinux, char *err,
		       size_t err_sz)
{
	const char *name = p->name ? p->name : "";
	uint32_t i = r->insn_idx;
	int id;

	if (i >= p->insn_cnt)
		return ua_errf(err, err_sz, -EINVAL,
			       "kernel: prog '%s': relocation at insn %u past the end (%u insns)",
			       name, i, p->insn_cnt);
	switch (r->kind) {
	case UA_KOBJ_RELOC_MAP_FD:
	case UA_KOBJ_RELOC_MAP_VALUE:
		if (!is_ld_imm64(insns, p->insn_cnt, i))
			return ua_errf(err, err_sz, -EINVAL,
				       "kernel: prog '%s' insn %u: map relocation on a non-ld_imm64 insn (code 0x%02x)",
				       name, i, insns[i].code);
		if (r->map_idx >= ko->n_maps)
			return ua_errf(err, err_sz, -EINVAL,
				       "kernel: prog '%s' insn %u: map index %u out of range (%u maps)",
				       name, i, r->map_idx, ko->n_maps);
		insns[i].imm = ko->maps[r->map_idx].fd;
		if (r->kind == UA_KOBJ_RELOC_MAP_FD) {
			insns[i].src_reg = UA_PSEUDO_MAP_FD;
			insns[i + 1].imm = 0;
		} else {
			insns[i].src_reg = UA_PSEUDO_MAP_VALUE;
			insns[i + 1].imm = (int32_t)r->value_off;
		}
		return 0;
	case UA_KOBJ_RELOC_KFUNC:
		if (insns[i].code != (UA_JMP | UA_CALL))
			return ua_errf(err, err_sz, -EINVAL,
				       "kernel: prog '%s' insn %u: kfunc relocation on a non-call insn (code 0x%02x)",
				       name, i, insns[i].code);
		if (!r->kfunc)
			return ua_errf(err, err_sz, -EINVAL, "kernel: prog '%s' insn %u: kfunc without a name",
				       name, i);
		if (!*vmlinux) {
			int ret = ua_kbtf_open(NULL, vmlinux, err, err_sz);

			if (ret)
				return ret;
		}
		id = ua_kbtf_find(*vmlinux, r->kfunc, UA_KBTF_KIND_FUNC);
		if (id < 0)
			return ua_errf(err, err_sz, id,
				       "kernel: prog '%s' insn %u: kfunc '%s' not found in vmlinux BTF",
				       name, i, r->kfunc);
		insns[i].src_reg = UA_PSEUDO_KFUNC_CALL;
		insns[i].off = 0;
		insns[i].imm = id;
		return 0;
	}
	return ua_errf(err, err_sz, -EINVAL, "kernel: prog '%s' insn %u: unknown relocation kind %d",
		       name, i, (int)r->kind);
}

static int load_prog(struct ua_kobj *ko, const struct ua_kobj_prog_desc *p,
		     struct ua_kbtf **vmlinux, char *err, size_t err_sz)
{
	struct ua_kbpf_prog_attr pa = {
		.prog_type = p->prog_type,
		.insn_cnt = p->insn_cnt,
		.expected_attach_type = p->expected_attach_type,
		.prog_flags = p->prog_flags,
		.prog_btf_fd = ko->btf_fd >= 0 ? (uint32_t)ko->btf_fd : 0,
		.func_info = p->func_info,
		.func_info_rec_size = p->func_info_rec_size,
		.func_info_cnt = p->func_info_cnt,
		.line_info = p->line_info,
		.line_info_rec_size = p->line_info_rec_size,
		.line_info_cnt = p->line_info_cnt,
	};
	struct ua_insn *insns;
	int ret = 0;

	if (!p->insns || !p->insn_cnt)
		return ua_errf(err, err_sz, -EINVAL, "kernel: prog '%s': no instructions",
			       p->name ? p->name : "");
	insns = malloc(sizeof(*insns) * p->insn_cnt);
	if (!insns)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for prog '%s'", p->name);
	memcpy(insns, p->insns, sizeof(*insns) * p->insn_cnt);
	for (uint32_t r = 0; r < p->n_relocs && !ret; r++)
		ret = apply_reloc(ko, p, insns, &p->relocs[r], vmlinux, err, err_sz);
	if (!ret) {
		if (p->name)
			snprintf(pa.name, sizeof(pa.name), "%s", p->name);
		pa.insns = insns;
		ret = ua_kbpf_prog_load(&pa, err, err_sz);
	}
	free(insns);
	return ret;
}

int ua_kobj_load(const struct ua_kobj_desc *desc, struct ua_kobj **out, char *err, size_t err_sz)
{
	struct ua_kbtf *vmlinux = NULL;
	struct ua_kobj *ko;
	int ret = 0;

	if (!desc || !out || (desc->n_maps && !desc->maps) || (desc->n_progs && !desc->progs))
		return ua_errf(err, err_sz, -EINVAL, "kernel: object load: bad description");
	*out = NULL;
	ko = calloc(1, sizeof(*ko));
	if (!ko)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for the object");
	ko->btf_fd = -1;
	ko->maps = calloc(desc->n_maps ? desc->n_maps : 1, sizeof(*ko->maps));
	ko->prog_fds = calloc(desc->n_progs ? desc->n_progs : 1, sizeof(*ko->prog_fds));
	if (!ko->maps || !ko->prog_fds) {
		ret = ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for the object");
		goto out_close;
	}
	for (uint32_t i = 0; i < desc->n_maps; i++)
		ko->maps[i].fd = -1;
	for (uint32_t i = 0; i < desc->n_progs; i++)
		ko->prog_fds[i] = -1;
	ko->n_maps = desc->n_maps;
	ko->n_progs = desc->n_progs;

	if (desc->btf) {
		ret = ua_kbpf_btf_load(desc->btf, desc->btf_size, err, err_sz);
		if (ret < 0)
			goto out_close;
		ko->btf_fd = ret;
		ret = 0;
	}
	for (uint32_t i = 0; i < desc->n_maps && !ret; i++)
		ret = create_map(&ko->maps[i], &desc->maps[i], i, err, err_sz);
	for (uint32_t i = 0; i < desc->n_progs && !ret; i++) {
		ret = load_prog(ko, &desc->progs[i], &vmlinux, err, err_sz);
		if (ret >= 0) {
			ko->prog_fds[i] = ret;
			ret = 0;
		}
	}
	ua_kbtf_close(vmlinux);
	if (ret)
		goto out_close;
	*out = ko;
	return 0;

out_close:
	ua_kobj_close(ko);
	return ret;
}

void ua_kobj_close(struct ua_kobj *ko)
{
	if (!ko)
		return;
	for (uint32_t i = 0; ko->prog_fds && i < ko->n_progs; i++)
		if (ko->prog_fds[i] >= 0)
			close(ko->prog_fds[i]);
	for (uint32_t i = 0; ko->maps && i < ko->n_maps; i++) {
		if (ko->maps[i].arena)
			munmap(ko->maps[i].arena, ko->maps[i].arena_size);
		if (ko->maps[i].fd >= 0)
			close(ko->maps[i].fd);
	}
	if (ko->btf_fd >= 0)
		close(ko->btf_fd);
	free(ko->maps);
	free(ko->prog_fds);
	free(ko);
}

int ua_kobj_map_fd(const struct ua_kobj *ko, uint32_t map_idx)
{
	return map_idx < ko->n_maps ? ko->maps[map_idx].fd : -ENOENT;
}

int ua_kobj_prog_fd(const struct ua_kobj *ko, uint32_t prog_idx)
{
	return prog_idx < ko->n_progs ? ko->prog_fds[prog_idx] : -ENOENT;
}

uint8_t *ua_kobj_arena_base(const struct ua_kobj *ko, uint32_t map_idx, size_t *size)
{
	if (map_idx >= ko->n_maps || !ko->maps[map_idx].arena)
		return NULL;
	if (size)
		*size = ko->maps[map_idx].arena_size;
	return ko->maps[map_idx].arena;
}

int ua_kobj_test_run(struct ua_kobj *ko, uint32_t prog_idx, struct ua_kbpf_test_run *run)
{
	if (prog_idx >= ko->n_progs)
		return -ENOENT;
	return ua_kbpf_prog_test_run(ko->prog_fds[prog_idx], run);
}
