/* SPDX-License-Identifier: MIT */
/*
 * Kernel BTF lookup: type name -> type id in /sys/kernel/btf/vmlinux (or any
 * raw BTF file), which is what a kfunc call needs (imm = BTF id of the FUNC).
 *
 * Model: the file is read once into memory; a lookup walks the type section
 * from id 1, stepping over each type's kind-specific trailer, and compares
 * names in the string section. vmlinux has ~150k types, so one walk costs a
 * few milliseconds — fine for program loads, which resolve a handful of
 * kfuncs. Every offset is bounds-checked: a corrupt file gives -EINVAL, never
 * a read outside the buffer.
 *
 * This is a deliberately minimal scanner for the kernel backend; the loader's
 * general BTF parser (src/btf.h, branch `loader`) can replace the internals
 * of ua_kbtf_find() later without changing src/kernel.h.
 */
#include "kernel.h"

#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BTF_MAGIC 0xeB9F
#define BTF_MAX_SIZE (256u << 20)

struct btf_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off;
	uint32_t type_len;
	uint32_t str_off;
	uint32_t str_len;
};

struct btf_type {
	uint32_t name_off;
	uint32_t info; /* vlen: bits 0-15, kind: bits 24-28, kind_flag: bit 31 */
	uint32_t size_or_type;
};

enum {
	KIND_INT = 1, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD,
	KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_FUNC_PROTO,
	KIND_VAR, KIND_DATASEC, KIND_FLOAT, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64,
};

struct ua_kbtf {
	uint8_t *data;
	size_t size;
	const uint8_t *types;  /* type section */
	uint32_t types_len;
	const char *strs;      /* string section */
	uint32_t strs_len;
};

/* Bytes following struct btf_type for this kind; -1 for an unknown kind. */
static long trailer_size(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case KIND_INT: case KIND_VAR: case KIND_DECL_TAG:
		return 4;
	case KIND_PTR: case KIND_FWD: case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
	case KIND_RESTRICT: case KIND_FUNC: case KIND_FLOAT: case KIND_TYPE_TAG:
		return 0;
	case KIND_ARRAY:
		return 12;
	case KIND_STRUCT: case KIND_UNION: case KIND_DATASEC: case KIND_ENUM64:
		return 12l * vlen;
	case KIND_ENUM: case KIND_FUNC_PROTO:
		return 8l * vlen;
	default:
		return -1;
	}
}

static int parse_header(struct ua_kbtf *btf, char *err, size_t err_sz)
{
	struct btf_header hdr;

	if (btf->size < sizeof(hdr))
		return ua_errf(err, err_sz, -EINVAL, "kernel: BTF too short (%zu bytes)", btf->size);
	memcpy(&hdr, btf->data, sizeof(hdr));
	if (hdr.magic != BTF_MAGIC)
		return ua_errf(err, err_sz, -EINVAL, "kernel: not BTF (magic 0x%x)", hdr.magic);
	if (hdr.hdr_len < sizeof(hdr) || hdr.hdr_len > btf->size ||
	    (uint64_t)hdr.hdr_len + hdr.type_off + hdr.type_len > btf->size ||
	    (uint64_t)hdr.hdr_len + hdr.str_off + hdr.str_len > btf->size || hdr.str_len == 0)
		return ua_errf(err, err_sz, -EINVAL, "kernel: BTF sections out of bounds (header)");
	btf->types = btf->data + hdr.hdr_len + hdr.type_off;
	btf->types_len = hdr.type_len;
	btf->strs = (const char *)btf->data + hdr.hdr_len + hdr.str_off;
	btf->strs_len = hdr.str_len;
	if (btf->strs[btf->strs_len - 1] != '\0')
		return ua_errf(err, err_sz, -EINVAL, "kernel: BTF string section not terminated");
	return 0;
}

static int read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t err_sz)
{
	size_t cap = 1u << 20, len = 0;
	uint8_t *buf = NULL, *nbuf;
	int fd, ret = 0;
	ssize_t n;

	/* sysfs reports a size but read()s are what count: grow until EOF. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ua_errf(err, err_sz, -errno, "kernel: cannot open BTF %s: %s", path,
			       strerror(errno));
	for (;;) {
		if (!buf || len == cap) {
			if (buf)
				cap *= 2;
			if (cap > BTF_MAX_SIZE) {
				ret = ua_errf(err, err_sz, -E2BIG, "kernel: BTF %s too large", path);
				break;
			}
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				ret = ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for BTF");
				break;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = ua_errf(err, err_sz, -errno, "kernel: reading BTF %s: %s", path,
				      strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*data = buf;
	*size = len;
	return 0;
}

int ua_kbtf_open(const char *path, struct ua_kbtf **out, char *err, size_t err_sz)
{
	struct ua_kbtf *btf;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		path = "/sys/kernel/btf/vmlinux";
	btf = calloc(1, sizeof(*btf));
	if (!btf)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for BTF");
	ret = read_file(path, &btf->data, &btf->size, err, err_sz);
	if (ret == 0)
		ret = parse_header(btf, err, err_sz);
	if (ret) {
		ua_kbtf_close(btf);
		return ret;
	}
	*out = btf;
	return 0;
}

void ua_kbtf_close(struct ua_kbtf *btf)
{
	if (!btf)
		return;
	free(btf->data);
	free(btf);
}

int ua_kbtf_find(const struct ua_kbtf *btf, const char *name, unsigned kind)
{
	uint32_t off = 0, id = 1;
	struct btf_type t;
	long extra;

	if (!btf || !name)
		return -EINVAL;
	while (off + sizeof(t) <= btf->types_len) {
		memcpy(&t, btf->types + off, sizeof(t));
		extra = trailer_size((t.info >> 24) & 0x1f, t.info & 0xffff);
		if (extra < 0 || off + sizeof(t) + (uint64_t)extra > btf->types_len)
			return -EINVAL;
		if (((t.info >> 24) & 0x1f) == kind && t.name_off < btf->strs_len &&
		    strcmp(btf->strs + t.name_off, name) == 0)
			return (int)id;
		off += sizeof(t) + (uint32_t)extra;
		id++;
	}
	return -ENOENT;
}

int ua_kbtf_vmlinux_kfunc_id(const char *name, char *err, size_t err_sz)
{
	struct ua_kbtf *btf;
	int id;

	id = ua_kbtf_open(NULL, &btf, err, err_sz);
	if (id)
		return id;
	id = ua_kbtf_find(btf, name, UA_KBTF_KIND_FUNC);
	ua_kbtf_close(btf);
	if (id == -ENOENT)
		return ua_errf(err, err_sz, id, "kernel: kfunc '%s' not found in vmlinux BTF", name);
	if (id < 0)
		return ua_errf(err, err_sz, id, "kernel: vmlinux BTF is corrupt (looking for '%s')",
			       name);
	return id;
}
