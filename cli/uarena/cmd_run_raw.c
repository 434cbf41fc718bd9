/* SPDX-License-Identifier: MIT */
/*
 * `uarena run --raw`: loads bare instructions for the raw convention
 * (r1 = the --data buffer, r2 = its length), as other user-space runtimes
 * run them, so the same bytes can be compared and benchmarked.
 *
 * FILE is either a flat image of 8-byte instruction slots (a `.bin`, e.g.
 * from `uarena asm -o`) or an ELF object, whose --section (default .text)
 * is taken as is from its first instruction: relocations are not applied,
 * which is what raw mode means (bpf-to-bpf calls inside the section still
 * work, they are relative). The ELF is read with bounds checks on every
 * header field, since the file is untrusted. --arena N gives the program
 * an arena of N pages (addr_space_cast allowed, 32-bit arena pointers).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "cli.h"

static int raw_trace(void *ctx, const char *msg, size_t len)
{
	fwrite(msg, 1, len, stderr);
	return 0;
}

/* Finds section `want` in an ELF64 little-endian image: its bytes in [*off, *off + *size). */
static int elf_section(const uint8_t *buf, size_t len, const char *want, size_t *off,
		       size_t *size, const char **why)
{
	Elf64_Ehdr eh;
	Elf64_Shdr strsh;

	if (len < sizeof(eh)) {
		*why = "truncated ELF header";
		return -EINVAL;
	}
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > len ||
	    (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum || eh.e_shstrndx >= eh.e_shnum) {
		*why = "not a little-endian ELF64 object with readable section headers";
		return -EINVAL;
	}
	memcpy(&strsh, buf + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strsh));
	if (strsh.sh_offset > len || strsh.sh_size > len - strsh.sh_offset) {
		*why = "section name table out of the file";
		return -EINVAL;
	}
	for (size_t i = 1; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		const char *name;

		memcpy(&sh, buf + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strsh.sh_size)
			continue;
		name = (const char *)buf + strsh.sh_offset + sh.sh_name;
		if (!memchr(name, '\0', strsh.sh_size - sh.sh_name) || strcmp(name, want))
			continue;
		if (sh.sh_type != SHT_PROGBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset) {
			*why = "section holds no instructions in the file";
			return -EINVAL;
		}
		*off = sh.sh_offset;
		*size = sh.sh_size;
		return 0;
	}
	*why = "no such section";
	return -ENOENT;
}

int ua_cli_load_raw(const char *path, const char *section, uint32_t arena_pages,
		    struct ua_program **out, struct ua_arena **arena)
{
	uint8_t *buf = NULL;
	size_t len = 0, off = 0, size;
	struct ua_insn *insns = NULL;
	const char *why = NULL;
	char err[512] = "";
	int e;

	if ((e = ua_cli_read_file(path, &buf, &len))) {
		fprintf(stderr, "uarena run: %s: %s\n", path, strerror(-e));
		return UA_EXIT_FAIL;
	}
	size = len;
	if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG)) {
		if (!section)
			section = ".text";
		if (elf_section(buf, len, section, &off, &size, &why)) {
			fprintf(stderr, "uarena run: %s: section %s: %s\n", path, section, why);
			free(buf);
			return UA_EXIT_FAIL;
		}
	} else if (section) {
		fprintf(stderr, "uarena run: %s: --section needs an ELF object\n", path);
		free(buf);
		return UA_EXIT_USAGE;
	}
	if (size == 0 || size % sizeof(struct ua_insn)) {
		fprintf(stderr, "uarena run: %s: %zu bytes of code, not a positive multiple of 8\n",
			path, size);
		free(buf);
		return UA_EXIT_FAIL;
	}
	insns = malloc(size); /* aligned copy: the file offset may be odd */
	if (!insns) {
		free(buf);
		return UA_EXIT_FAIL;
	}
	memcpy(insns, buf + off, size);
	free(buf);
	*arena = NULL;
	if (arena_pages) {
		UA_OPTS(ua_arena_opts, ao, .max_entries = arena_pages, .map_flags = UA_F_MMAPABLE);

		if ((e = ua_arena_create(&ao, arena))) {
			fprintf(stderr, "uarena run: arena of %u pages: %s\n", arena_pages,
				ua_strerror(e));
			free(insns);
			return UA_EXIT_FAIL;
		}
	}
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err), .trace = raw_trace,
		.name = section, .arena = *arena);
	e = ua_program_load_raw(insns, size / sizeof(*insns), &ro, out);
	free(insns);
	if (e) {
		ua_arena_destroy(*arena);
		*arena = NULL;
		fprintf(stderr, "uarena run: %s: %s\n", path, err[0] ? err : ua_strerror(e));
		return UA_EXIT_FAIL;
	}
	return UA_EXIT_OK;
}
