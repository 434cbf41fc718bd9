/* SPDX-License-Identifier: MIT */
/*
 * ELF readers and the BTF of real clang objects: indexes out of range are
 * refused, the .maps DATASEC and CO-RE records are where clang puts them.
 */
#include "test.h"
#include "util.h"

#include "btf.h"
#include "elf_reader.h"

#include <errno.h>
#include <stdlib.h>

static int find_section(struct ua_elf *e, const char *name, struct ua_elf_sec *out)
{
	for (size_t i = 1; i < e->n_sections; i++)
		if (ua_elf_section(e, i, out) == 0 && !strcmp(out->name, name))
			return 0;
	return -ENOENT;
}

TEST(elf, readers_refuse_out_of_range)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_globals", &size);
	struct ua_elf e;
	struct ua_elf_sec s;
	GElf_Sym sym;
	GElf_Rel rel;
	const char *name;

	REQUIRE_EQ(ua_elf_open_mem(buf, size, NULL, 0, &e), 0);
	CHECK(e.n_sections > 5);
	CHECK_EQ(ua_elf_section(&e, 0, &s), -EINVAL);
	CHECK_EQ(ua_elf_section(&e, e.n_sections, &s), -EINVAL);
	CHECK_EQ(ua_elf_symbol(&e, e.n_syms, &sym, &name), -EINVAL);
	REQUIRE_EQ(find_section(&e, ".bss", &s), 0);
	CHECK(s.data == NULL); /* NOBITS */
	CHECK_EQ(s.size, 120);
	REQUIRE_EQ(find_section(&e, ".relsyscall", &s), 0);
	size_t n = ua_elf_rel_count(&s);

	CHECK(n > 0);
	CHECK_EQ(ua_elf_rel(&s, 0, &rel), 0);
	CHECK_EQ(ua_elf_rel(&s, n, &rel), -EINVAL);
	REQUIRE_EQ(find_section(&e, "xdp", &s), 0);
	CHECK_EQ(s.shdr.sh_flags & SHF_EXECINSTR, SHF_EXECINSTR);
	ua_elf_close(&e);
	free(buf);
}

TEST(elf, btf_of_a_clang_object)
{
	size_t size;
	uint8_t *buf = ua_test_read_bpf_obj("loader_core", &size);
	struct ua_elf e;
	struct ua_elf_sec s, sx;
	struct ua_btf *btf;
	struct ua_btf_ext *ext;
	char err[200];

	REQUIRE_EQ(ua_elf_open_mem(buf, size, NULL, 0, &e), 0);
	REQUIRE_EQ(find_section(&e, ".BTF", &s), 0);
	REQUIRE_EQ(ua_btf_parse(s.data, s.size, NULL, err, sizeof(err), &btf), 0);
	int32_t ds = ua_btf_find_by_name_kind(btf, ".maps", UA_BTF_KIND_DATASEC);

	REQUIRE(ds > 0);
	const struct ua_btf_type *sec = ua_btf_type_by_id(btf, (uint32_t)ds);

	CHECK_EQ(ua_btf_vlen(sec), 1);
	const struct ua_btf_type *var = ua_btf_type_by_id(btf, ua_btf_secinfos(sec)[0].type);

	CHECK_STR(ua_btf_name(btf, var), "arr");
	/* struct pair { int a; long b; char c[3]; int d; } is 24 bytes */
	int32_t pair = ua_btf_find_by_name_kind(btf, "pair", UA_BTF_KIND_STRUCT);

	REQUIRE(pair > 0);
	CHECK_EQ(ua_btf_resolve_size(btf, (uint32_t)pair), 24);
	REQUIRE_EQ(find_section(&e, ".BTF.ext", &sx), 0);
	REQUIRE_EQ(ua_btf_ext_parse(sx.data, sx.size, btf, err, sizeof(err), &ext), 0);
	/* All in section "syscall": offsets() 2 byte offsets, map_max_entries 1,
	 * bitfields() 6 field infos (1 byte offset), enumvals() 3 enum values. */
	uint32_t total = 0, offsets = 0, enums = 0;

	for (uint32_t i = 0; i < ext->n_secs; i++) {
		CHECK_STR(ext->secs[i].sec_name, "syscall");
		total += ext->secs[i].n_relos;
		for (uint32_t r = 0; r < ext->secs[i].n_relos; r++) {
			offsets += ext->secs[i].relos[r].kind == UA_CORE_FIELD_BYTE_OFFSET;
			enums += ext->secs[i].relos[r].kind == UA_CORE_ENUMVAL_VALUE ||
				 ext->secs[i].relos[r].kind == UA_CORE_ENUMVAL_EXISTS;
		}
	}
	CHECK_EQ(total, 12);
	CHECK_EQ(offsets, 4);
	CHECK_EQ(enums, 3);
	/* A truncated .BTF.ext is refused. */
	ua_btf_ext_free(ext);
	CHECK_EQ(ua_btf_ext_parse(sx.data, sx.size - 3, btf, err, sizeof(err), &ext), -EINVAL);
	CHECK_CONTAINS(err, "btf: .BTF.ext");
	ua_btf_free(btf);
	ua_elf_close(&e);
	free(buf);
}
