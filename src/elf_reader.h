/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked ELF readers over libelf (owner: loader module; named
 * elf_reader.h because -Isrc would make <elf.h> inside libelf.h find a
 * src/elf.h). No policy:
 * they answer "what is section i / symbol j" and refuse anything that would
 * read outside the file; the loader decides what the sections mean.
 */
#ifndef UA_ELF_READER_H
#define UA_ELF_READER_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>

struct ua_elf {
	Elf *elf;
	size_t shstrndx;
	size_t n_sections;
	size_t symtab_idx;  /* 0 = none */
	size_t strtab_idx;  /* string table of the symtab */
	size_t n_syms;
	Elf_Data *symdata;
};

struct ua_elf_sec {
	size_t idx;
	const char *name;
	GElf_Shdr shdr;
	const void *data; /* NULL for SHT_NOBITS or empty */
	size_t size;      /* sh_size (also for NOBITS) */
};

/*
 * Opens an in-memory relocatable eBPF object (the buffer must outlive it).
 * Rejects, with "elf: ..." messages: not ELF, not 64-bit little-endian,
 * not ET_REL, machine != EM_BPF (-EINVAL); sections that do not fit (-EINVAL).
 */
int ua_elf_open_mem(const void *buf, size_t size, char *err, size_t err_sz, struct ua_elf *out);
void ua_elf_close(struct ua_elf *e);
/* Section idx (1 <= idx < n_sections); -EINVAL if unreadable. */
int ua_elf_section(const struct ua_elf *e, size_t idx, struct ua_elf_sec *out);
/* Symbol idx; name "" if none. -EINVAL if idx out of range or name unreadable. */
int ua_elf_symbol(const struct ua_elf *e, size_t idx, GElf_Sym *sym, const char **name);
/* Relocation i of a SHT_REL section; -EINVAL if out of range. */
int ua_elf_rel(const struct ua_elf_sec *rel_sec, size_t i, GElf_Rel *out);
size_t ua_elf_rel_count(const struct ua_elf_sec *rel_sec);

#endif
