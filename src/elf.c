/* SPDX-License-Identifier: MIT */
/*
 * ELF readers: libelf parses headers; we add the checks libelf leaves to
 * the caller (section data inside the file, string indexes inside their
 * table, symbol and relocation indexes inside their sections), so the
 * loader can trust every pointer it gets.
 */
#include "elf_reader.h"

#include "internal.h"

#include <pthread.h>

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* elf_version() sets libelf's process-wide state; do it once, thread-safely. */
static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static void elf_init(void)
{
	elf_version(EV_CURRENT);
}

int ua_elf_open_mem(const void *buf, size_t size, char *err, size_t err_sz, struct ua_elf *out)
{
	GElf_Ehdr eh;
	Elf *elf;

	memset(out, 0, sizeof(*out));
	pthread_once(&elf_once, elf_init);
	if (!buf || size < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return ua_errf(err, err_sz, -EINVAL, "elf: not an ELF file (%zu bytes)", size);
	elf = elf_memory((char *)buf, size);
	if (!elf)
		return ua_errf(err, err_sz, -EINVAL, "elf: %s", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		elf_end(elf);
		return ua_errf(err, err_sz, -EINVAL, "elf: cannot read the ELF header");
	}
	const char *why = NULL;

	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		why = "not a 64-bit object";
	else if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		why = "not little-endian";
	else if (eh.e_type != ET_REL)
		why = "not a relocatable object (ET_REL)";
	else if (eh.e_machine != EM_BPF)
		why = "wrong machine (not EM_BPF)";
	if (why) {
		elf_end(elf);
		return ua_errf(err, err_sz, -EINVAL, "elf: %s (machine %u, type %u)", why,
			       eh.e_machine, eh.e_type);
	}
	if (elf_getshdrnum(elf, &out->n_sections) || elf_getshdrstrndx(elf, &out->shstrndx) ||
	    out->shstrndx >= out->n_sections) {
		elf_end(elf);
		return ua_errf(err, err_sz, -EINVAL, "elf: bad section header table");
	}
	out->elf = elf;
	/* The symbol table (at most one in a relocatable object). */
	for (size_t i = 1; i < out->n_sections; i++) {
		struct ua_elf_sec s;

		if (ua_elf_section(out, i, &s)) {
			ua_elf_close(out);
			return ua_errf(err, err_sz, -EINVAL, "elf: section %zu: bad header or data", i);
		}
		if (s.shdr.sh_type != SHT_SYMTAB)
			continue;
		if (s.shdr.sh_link == 0 || s.shdr.sh_link >= out->n_sections ||
		    s.shdr.sh_entsize != sizeof(Elf64_Sym)) {
			ua_elf_close(out);
			return ua_errf(err, err_sz, -EINVAL, "elf: section %zu: bad symbol table", i);
		}
		out->symtab_idx = i;
		out->strtab_idx = s.shdr.sh_link;
		out->n_syms = s.size / sizeof(Elf64_Sym);
		out->symdata = elf_getdata(elf_getscn(elf, i), NULL);
	}
	if (!out->symtab_idx) {
		ua_elf_close(out);
		return ua_errf(err, err_sz, -EINVAL, "elf: no symbol table");
	}
	return 0;
}

void ua_elf_close(struct ua_elf *e)
{
	if (e->elf)
		elf_end(e->elf);
	memset(e, 0, sizeof(*e));
}

int ua_elf_section(const struct ua_elf *e, size_t idx, struct ua_elf_sec *out)
{
	Elf_Scn *scn;
	Elf_Data *d;

	memset(out, 0, sizeof(*out));
	if (idx == 0 || idx >= e->n_sections)
		return -EINVAL;
	scn = elf_getscn(e->elf, idx);
	if (!scn || !gelf_getshdr(scn, &out->shdr))
		return -EINVAL;
	out->idx = idx;
	out->name = elf_strptr(e->elf, e->shstrndx, out->shdr.sh_name);
	if (!out->name)
		return -EINVAL;
	out->size = out->shdr.sh_size;
	if (out->shdr.sh_type == SHT_NOBITS || out->size == 0)
		return 0;
	/* libelf checks that [sh_offset, +sh_size) lies inside the image. */
	d = elf_getdata(scn, NULL);
	if (!d || d->d_size != out->size || !d->d_buf)
		return -EINVAL;
	out->data = d->d_buf;
	return 0;
}

int ua_elf_symbol(const struct ua_elf *e, size_t idx, GElf_Sym *sym, const char **name)
{
	if (idx >= e->n_syms || !e->symdata || !gelf_getsym(e->symdata, (int)idx, sym))
		return -EINVAL;
	const char *n = elf_strptr(e->elf, e->strtab_idx, sym->st_name);

	if (!n)
		return -EINVAL;
	if (name)
		*name = n;
	return 0;
}

size_t ua_elf_rel_count(const struct ua_elf_sec *rel_sec)
{
	return rel_sec->shdr.sh_entsize == sizeof(Elf64_Rel) ? rel_sec->size / sizeof(Elf64_Rel) : 0;
}

int ua_elf_rel(const struct ua_elf_sec *rel_sec, size_t i, GElf_Rel *out)
{
	if (i >= ua_elf_rel_count(rel_sec) || !rel_sec->data)
		return -EINVAL;
	memcpy(out, (const uint8_t *)rel_sec->data + i * sizeof(Elf64_Rel), sizeof(*out));
	return 0;
}
