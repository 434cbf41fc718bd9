/* SPDX-License-Identifier: MIT */
/*
 * Malformed objects: a corpus generated from a good clang-compiled object
 * by truncation, byte corruption and targeted edits (wrong machine, bad
 * relocations, broken BTF, missing .BTF). Each targeted case must be
 * rejected with its errno and a message naming what is wrong; every corpus
 * entry must be rejected or loaded cleanly, never crash (the suite runs
 * under ASan+UBSan).
 */
#include "test.h"
#include "util.h"

#include <uarena.h>

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static Elf64_Shdr *shdr(uint8_t *buf, unsigned i)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	return (Elf64_Shdr *)(buf + eh->e_shoff + (size_t)i * eh->e_shentsize);
}

static Elf64_Shdr *find_sec(uint8_t *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	const char *strs = (const char *)buf + shdr(buf, eh->e_shstrndx)->sh_offset;

	for (unsigned i = 1; i < eh->e_shnum; i++)
		if (!strcmp(strs + shdr(buf, i)->sh_name, name))
			return shdr(buf, i);
	return NULL;
}

static int open_mem(const uint8_t *buf, size_t size, char *err, size_t err_sz, const char *only)
{
	struct ua_object *obj = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = err_sz, .only_prog = only,
		.nr_cpus = 2);
	int ret = ua_object_open_mem(buf, size, &o, &obj);

	if (ret == 0)
		ua_object_close(obj);
	else if (obj)
		ua_test_fail(__FILE__, __LINE__, "failed open left an object");
	return ret;
}

TEST(elf_bad, good_object_loads)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	char err[256] = "";

	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "calls"), 0);
	free(buf);
}

TEST(elf_bad, every_truncation_rejected)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	char err[256];
	int accepted = 0;

	/* Section headers sit at the end of the file: any cut loses some. */
	for (size_t cut = 0; cut < size; cut += (cut < 256 ? 1 : 37)) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, buf, cut);
		err[0] = 0;
		if (open_mem(copy, cut, err, sizeof(err), NULL) == 0)
			accepted++;
		else
			CHECK(err[0] != 0); /* every rejection says why */
		free(copy);
	}
	CHECK_EQ(accepted, 0);
	free(buf);
}

/* headers_only: mutate only the ELF header and the section header table. */
static void corrupt_many(const char *name, bool headers_only)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj(name, &size);
	uint8_t *copy = malloc(size);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char err[256];
	int rejected = 0;

	for (int round = 0; round < 400; round++) {
		memcpy(copy, buf, size);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t pos = (size_t)(seed >> 33) % size;

			if (headers_only) {
				uint64_t shoff = ((Elf64_Ehdr *)buf)->e_shoff;
				size_t span = sizeof(Elf64_Ehdr) + (size - shoff);

				pos = (size_t)(seed >> 33) % span;
				if (pos >= sizeof(Elf64_Ehdr))
					pos = shoff + (pos - sizeof(Elf64_Ehdr));
			}

			copy[pos] ^= (uint8_t)(1u << ((seed >> 20) & 7)) | (uint8_t)(seed >> 56);
		}
		err[0] = 0;
		int ret = open_mem(copy, size, err, sizeof(err), NULL);

		if (ret) {
			rejected++;
			CHECK(err[0] != 0 || ret == -ENOMEM);
		}
	}
	/* Most single-bit flips land in DWARF/strings and are harmless; some must be caught. */
	CHECK(rejected > 0);
	free(copy);
	free(buf);
}

TEST(elf_bad, random_corruption_never_crashes)
{
	corrupt_many("loader_globals", false);
	corrupt_many("loader_core", false);  /* BTF maps, CO-RE records */
	corrupt_many("loader_arena", false); /* arena map, .addr_space.1 */
	corrupt_many("loader_globals", true);
	corrupt_many("loader_arena", true);
}

TEST(elf_bad, not_elf_wrong_class_wrong_machine)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	char err[256];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	CHECK_EQ(open_mem((const uint8_t *)"hello world, not an object", 26, err, sizeof(err), NULL),
		 -EINVAL);
	CHECK_CONTAINS(err, "elf: not an ELF file (26 bytes)");
	eh->e_machine = EM_X86_64;
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "elf: wrong machine (not EM_BPF) (machine 62");
	eh->e_machine = 247;
	eh->e_type = ET_EXEC;
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "not a relocatable object");
	eh->e_type = ET_REL;
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "elf: ");
	free(buf);
}

TEST(elf_bad, relocation_out_of_range)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	char err[256];
	Elf64_Shdr *rel = find_sec(buf, ".relsyscall");

	REQUIRE(rel != NULL);
	Elf64_Rel *r = (Elf64_Rel *)(buf + rel->sh_offset);

	r[0].r_offset = 0x100000;
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "read_globals"), -EINVAL);
	CHECK_CONTAINS(err, "loader: prog 'read_globals': relocation 0 at offset 1048576 out of "
			    "range (section syscall)");
	r[0].r_offset = 3; /* not on an instruction boundary */
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "read_globals"), -EINVAL);
	CHECK_CONTAINS(err, "out of range (section syscall)");
	free(buf);
}

TEST(elf_bad, relocation_against_unknown_symbol)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	char err[256];
	Elf64_Shdr *rel = find_sec(buf, ".relsyscall");
	Elf64_Shdr *symtab = find_sec(buf, ".symtab");

	REQUIRE(rel && symtab);
	Elf64_Rel *r = (Elf64_Rel *)(buf + rel->sh_offset);
	Elf64_Sym *syms = (Elf64_Sym *)(buf + symtab->sh_offset);
	const char *strs = (const char *)buf + shdr(buf, symtab->sh_link)->sh_offset;
	size_t lic = 0, nsyms = symtab->sh_size / sizeof(Elf64_Sym);

	for (size_t i = 1; i < nsyms; i++)
		if (!strcmp(strs + syms[i].st_name, "LICENSE"))
			lic = i;
	REQUIRE(lic != 0);
	/* Point the first ld_imm64 relocation of read_globals at LICENSE (section license). */
	r[0].r_info = ELF64_R_INFO(lic, ELF64_R_TYPE(r[0].r_info));
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "read_globals"), -EINVAL);
	CHECK_CONTAINS(err, "loader: prog 'read_globals' insn ");
	CHECK_CONTAINS(err, "relocation against unknown symbol 'LICENSE' (section license)");
	/* A program that does not use that relocation still loads. */
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "calls"), 0);
	/* A symbol index past the table spoils the whole section... */
	r[0].r_info = ELF64_R_INFO(nsyms + 5, ELF64_R_TYPE(r[0].r_info));
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "read_globals"), -EINVAL);
	CHECK_CONTAINS(err, "against bad symbol");
	/* ...but not programs in other sections. */
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), "xdp_first_byte"), 0);
	free(buf);
}

TEST(elf_bad, broken_btf_and_missing_btf)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_core", &size);
	char err[256];
	Elf64_Shdr *btf = find_sec(buf, ".BTF");

	REQUIRE(btf != NULL);
	uint8_t *b = buf + btf->sh_offset;

	b[0] ^= 0xff; /* magic */
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "btf: bad magic");
	b[0] ^= 0xff;
	uint32_t type_len;

	memcpy(&type_len, b + 12, 4);
	type_len += 0x1000000; /* type section past the blob */
	memcpy(b + 12, &type_len, 4);
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "btf: section out of bounds");
	type_len -= 0x1000000;
	memcpy(b + 12, &type_len, 4);
	/* Rename .BTF: the .maps section can no longer be understood. */
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	char *name = (char *)buf + shdr(buf, eh->e_shstrndx)->sh_offset + btf->sh_name;

	name[3] = 'X';
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "loader: .BTF.ext without .BTF");
	Elf64_Shdr *ext = find_sec(buf, ".BTF.ext");

	REQUIRE(ext != NULL);
	((char *)buf + shdr(buf, eh->e_shstrndx)->sh_offset + ext->sh_name)[1] = 'X';
	CHECK_EQ(open_mem(buf, size, err, sizeof(err), NULL), -EINVAL);
	CHECK_CONTAINS(err, "loader: section .maps needs .BTF (compile with -g)");
	free(buf);
}

TEST(elf_bad, missing_file)
{
	char err[256];
	struct ua_object *obj;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));

	CHECK_EQ(ua_object_open("/nonexistent/x.bpf.o", &o, &obj), -ENOENT);
	CHECK_CONTAINS(err, "loader: cannot open /nonexistent/x.bpf.o");
}

static int errno_by_name(const char *n)
{
	static const struct {
		const char *name;
		int err;
	} t[] = { { "EINVAL", EINVAL }, { "ENOENT", ENOENT }, { "E2BIG", E2BIG },
		  { "ERANGE", ERANGE }, { "EOPNOTSUPP", EOPNOTSUPP }, { "ESRCH", ESRCH } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, n))
			return t[i].err;
	return 0;
}

/* tests/elf-bad/ (.elf files): checked-in malformed objects (regenerate with gen.py), each with
 * the errno and message MANIFEST expects. New fuzz findings go there too. */
TEST(elf_bad, checked_in_corpus)
{
	FILE *f = fopen("tests/elf-bad/MANIFEST", "r");
	char line[512];
	int n = 0;

	if (!f)
		SKIP("tests/elf-bad/MANIFEST not found (run from the source tree)");
	while (fgets(line, sizeof(line), f)) {
		char file[128], ename[32], path[300], err[256] = "";
		int msg_at = 0;

		if (line[0] == '#' || sscanf(line, "%127s %31s %n", file, ename, &msg_at) < 2)
			continue;
		char *msg = line + msg_at;

		msg[strcspn(msg, "\n")] = '\0';
		snprintf(path, sizeof(path), "tests/elf-bad/%s", file);
		struct ua_object *obj = NULL;
		UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
		int ret = ua_object_open(path, &o, &obj);

		if (ret != -errno_by_name(ename))
			ua_test_fail(__FILE__, __LINE__, "%s: expected -%s got %d (%s)", file, ename, ret,
				     err);
		CHECK(obj == NULL);
		if (!strstr(err, msg))
			ua_test_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", file, err,
				     msg);
		n++;
	}
	fclose(f);
	CHECK_EQ(n, 9);
}
