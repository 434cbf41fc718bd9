/* SPDX-License-Identifier: MIT */
/*
 * BTF parser: validate once, then read without checks.
 *
 * ua_btf_parse() copies the blob into an aligned buffer, walks the type
 * section once to record where each record starts (type_offs[id - start_id])
 * and checks every record against the section bounds, then checks every
 * string offset and every referenced type id against the final counts. After
 * that, accessors index type_offs directly; a malformed blob is rejected
 * with "btf: type N (kind K): what" instead of being read out of bounds.
 *
 * Split BTF: ids continue at base->type_cnt, string offsets at the base's
 * string length (the kernel's convention for module BTF).
 */
#include "btf.h"

#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct btf_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len;
	uint32_t str_off, str_len;
};

struct ua_btf {
	void *raw;             /* owned copy of the blob (8-aligned by malloc) */
	const uint8_t *types;  /* type section inside raw */
	const char *strs;      /* string section inside raw */
	uint32_t str_len;
	uint32_t *type_offs;   /* byte offset of each own type in types */
	uint32_t n_own;        /* types defined by this blob */
	uint32_t start_id;     /* 1, or base's type_cnt for split BTF */
	uint32_t start_str;    /* 0, or base's total string length */
	const struct ua_btf *base;
};

/* Bytes that follow struct ua_btf_type for a record, or -1 for an unknown kind. */
static long type_extra_size(const struct ua_btf_type *t)
{
	unsigned vlen = ua_btf_vlen(t);

	switch (ua_btf_kind(t)) {
	case UA_BTF_KIND_FWD:
	case UA_BTF_KIND_PTR:
	case UA_BTF_KIND_TYPEDEF:
	case UA_BTF_KIND_VOLATILE:
	case UA_BTF_KIND_CONST:
	case UA_BTF_KIND_RESTRICT:
	case UA_BTF_KIND_FUNC:
	case UA_BTF_KIND_FLOAT:
	case UA_BTF_KIND_TYPE_TAG:
		return 0;
	case UA_BTF_KIND_INT:
	case UA_BTF_KIND_VAR:
	case UA_BTF_KIND_DECL_TAG:
		return 4;
	case UA_BTF_KIND_ARRAY:
		return sizeof(struct ua_btf_array);
	case UA_BTF_KIND_STRUCT:
	case UA_BTF_KIND_UNION:
		return (long)vlen * sizeof(struct ua_btf_member);
	case UA_BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct ua_btf_enum);
	case UA_BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct ua_btf_param);
	case UA_BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct ua_btf_var_secinfo);
	case UA_BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct ua_btf_enum64);
	default:
		return -1;
	}
}

uint32_t ua_btf_type_cnt(const struct ua_btf *btf)
{
	return btf->start_id + btf->n_own;
}

const struct ua_btf_type *ua_btf_type_by_id(const struct ua_btf *btf, uint32_t id)
{
	if (id == 0)
		return NULL;
	if (id < btf->start_id)
		return btf->base ? ua_btf_type_by_id(btf->base, id) : NULL;
	if (id - btf->start_id >= btf->n_own)
		return NULL;
	return (const struct ua_btf_type *)(btf->types + btf->type_offs[id - btf->start_id]);
}

const char *ua_btf_str(const struct ua_btf *btf, uint32_t off)
{
	if (off < btf->start_str)
		return btf->base ? ua_btf_str(btf->base, off) : NULL;
	if (off - btf->start_str >= btf->str_len)
		return NULL;
	return btf->strs + (off - btf->start_str);
}

static uint32_t total_str_len(const struct ua_btf *btf)
{
	return btf->start_str + btf->str_len;
}

int32_t ua_btf_find_by_name_kind(const struct ua_btf *btf, const char *name, unsigned kind)
{
	if (btf->base) {
		int32_t id = ua_btf_find_by_name_kind(btf->base, name, kind);

		if (id > 0)
			return id;
	}
	for (uint32_t i = 0; i < btf->n_own; i++) {
		const struct ua_btf_type *t = (const void *)(btf->types + btf->type_offs[i]);

		if (ua_btf_kind(t) != kind)
			continue;
		const char *n = ua_btf_str(btf, t->name_off);

		if (n && strcmp(n, name) == 0)
			return (int32_t)(btf->start_id + i);
	}
	return -ENOENT;
}

static bool is_modifier(unsigned kind)
{
	return kind == UA_BTF_KIND_TYPEDEF || kind == UA_BTF_KIND_CONST ||
	       kind == UA_BTF_KIND_VOLATILE || kind == UA_BTF_KIND_RESTRICT ||
	       kind == UA_BTF_KIND_TYPE_TAG;
}

uint32_t ua_btf_skip_mods(const struct ua_btf *btf, uint32_t id)
{
	/* Validation rejects reference cycles only indirectly, so bound the walk. */
	for (int depth = 0; depth < 64; depth++) {
		const struct ua_btf_type *t = ua_btf_type_by_id(btf, id);

		if (!t || !is_modifier(ua_btf_kind(t)))
			return id;
		id = t->type;
	}
	return 0;
}

int64_t ua_btf_resolve_size(const struct ua_btf *btf, uint32_t id)
{
	uint64_t mult = 1;

	for (int depth = 0; depth < 64; depth++) {
		const struct ua_btf_type *t = ua_btf_type_by_id(btf, id);

		if (!t)
			return -EINVAL;
		switch (ua_btf_kind(t)) {
		case UA_BTF_KIND_INT:
		case UA_BTF_KIND_STRUCT:
		case UA_BTF_KIND_UNION:
		case UA_BTF_KIND_ENUM:
		case UA_BTF_KIND_ENUM64:
		case UA_BTF_KIND_DATASEC:
		case UA_BTF_KIND_FLOAT:
			mult *= t->size;
			return mult > INT64_MAX ? -E2BIG : (int64_t)mult;
		case UA_BTF_KIND_PTR:
			mult *= 8;
			return mult > INT64_MAX ? -E2BIG : (int64_t)mult;
		case UA_BTF_KIND_ARRAY:
			mult *= ua_btf_array_info(t)->nelems;
			if (mult > UINT32_MAX)
				return -E2BIG;
			id = ua_btf_array_info(t)->type;
			break;
		case UA_BTF_KIND_VAR:
		case UA_BTF_KIND_TYPEDEF:
		case UA_BTF_KIND_CONST:
		case UA_BTF_KIND_VOLATILE:
		case UA_BTF_KIND_RESTRICT:
		case UA_BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return -EINVAL;
		}
	}
	return -ELOOP;
}

static int check_header(const void *data, size_t size, struct btf_header *h, char *err,
			size_t err_sz)
{
	if (size < sizeof(*h))
		return ua_errf(err, err_sz, -EINVAL, "btf: blob of %zu bytes is shorter than the header",
			       size);
	memcpy(h, data, sizeof(*h));
	if (h->magic == 0x9FEB)
		return ua_errf(err, err_sz, -EOPNOTSUPP, "btf: big-endian BTF is not supported");
	if (h->magic != UA_BTF_MAGIC)
		return ua_errf(err, err_sz, -EINVAL, "btf: bad magic 0x%04x", h->magic);
	if (h->version != 1)
		return ua_errf(err, err_sz, -EINVAL, "btf: unsupported version %u", h->version);
	if (h->flags)
		return ua_errf(err, err_sz, -EINVAL, "btf: unsupported flags 0x%x", h->flags);
	if (h->hdr_len < sizeof(*h) || h->hdr_len > size)
		return ua_errf(err, err_sz, -EINVAL, "btf: bad header length %u", h->hdr_len);
	/* A longer header (newer format) is fine only if its extra bytes are zero. */
	for (size_t i = sizeof(*h); i < h->hdr_len; i++)
		if (((const uint8_t *)data)[i])
			return ua_errf(err, err_sz, -EINVAL, "btf: unknown non-zero header field");
	uint64_t payload = size - h->hdr_len;

	if ((uint64_t)h->type_off + h->type_len > payload ||
	    (uint64_t)h->str_off + h->str_len > payload)
		return ua_errf(err, err_sz, -EINVAL,
			       "btf: section out of bounds (types %u+%u, strings %u+%u, payload %llu)",
			       h->type_off, h->type_len, h->str_off, h->str_len,
			       (unsigned long long)payload);
	if (h->type_off % 4 || h->type_len % 4)
		return ua_errf(err, err_sz, -EINVAL, "btf: type section not 4-byte aligned");
	if (h->type_off < h->str_off ? (uint64_t)h->type_off + h->type_len > h->str_off
				      : (uint64_t)h->str_off + h->str_len > h->type_off)
		return ua_errf(err, err_sz, -EINVAL, "btf: type and string sections overlap");
	return 0;
}

/* Records each type's offset; checks each record fits. */
static int index_types(struct ua_btf *btf, uint32_t type_len, char *err, size_t err_sz)
{
	size_t cap = 0;
	uint32_t off = 0;

	while (off < type_len) {
		uint32_t id = btf->start_id + btf->n_own;

		if (type_len - off < sizeof(struct ua_btf_type))
			return ua_errf(err, err_sz, -EINVAL, "btf: type %u: truncated record", id);
		const struct ua_btf_type *t = (const void *)(btf->types + off);
		long extra = type_extra_size(t);

		if (extra < 0)
			return ua_errf(err, err_sz, -EINVAL, "btf: type %u: unknown kind %u", id,
				       ua_btf_kind(t));
		if ((uint64_t)type_len - off - sizeof(*t) < (uint64_t)extra)
			return ua_errf(err, err_sz, -EINVAL,
				       "btf: type %u (kind %u): %ld bytes of data past the type section",
				       id, ua_btf_kind(t), extra);
		if (btf->n_own == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			uint32_t *n = realloc(btf->type_offs, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			btf->type_offs = n;
			cap = ncap;
		}
		if (id == UINT32_MAX >> 1)
			return ua_errf(err, err_sz, -E2BIG, "btf: too many types");
		btf->type_offs[btf->n_own++] = off;
		off += sizeof(*t) + (uint32_t)extra;
	}
	return 0;
}

static bool str_ok(const struct ua_btf *btf, uint32_t off)
{
	return off < total_str_len(btf);
}

#define BAD(fmt, ...) \
	ua_errf(err, err_sz, -EINVAL, "btf: type %u (kind %u): " fmt, id, kind, ##__VA_ARGS__)

/* Every name offset and referenced id of one record is in range. */
static int check_type(const struct ua_btf *btf, uint32_t id, char *err, size_t err_sz)
{
	const struct ua_btf_type *t = ua_btf_type_by_id(btf, id);
	unsigned kind = ua_btf_kind(t), vlen = ua_btf_vlen(t);
	uint32_t cnt = ua_btf_type_cnt(btf);

	if (!str_ok(btf, t->name_off))
		return BAD("name offset %u out of range", t->name_off);
	switch (kind) {
	case UA_BTF_KIND_PTR:
	case UA_BTF_KIND_TYPEDEF:
	case UA_BTF_KIND_VOLATILE:
	case UA_BTF_KIND_CONST:
	case UA_BTF_KIND_RESTRICT:
	case UA_BTF_KIND_TYPE_TAG:
	case UA_BTF_KIND_FUNC:
	case UA_BTF_KIND_FUNC_PROTO:
	case UA_BTF_KIND_VAR:
	case UA_BTF_KIND_DECL_TAG:
		if (t->type >= cnt)
			return BAD("references type %u (only %u types)", t->type, cnt);
		if (t->type == id && kind != UA_BTF_KIND_FUNC_PROTO)
			return BAD("references itself");
		break;
	default:
		break;
	}
	switch (kind) {
	case UA_BTF_KIND_ARRAY: {
		const struct ua_btf_array *a = ua_btf_array_info(t);

		if (a->type >= cnt || a->index_type >= cnt)
			return BAD("array element/index type out of range");
		if (a->type == id)
			return BAD("array of itself");
		break;
	}
	case UA_BTF_KIND_STRUCT:
	case UA_BTF_KIND_UNION:
		for (unsigned i = 0; i < vlen; i++) {
			const struct ua_btf_member *m = &ua_btf_members(t)[i];

			if (!str_ok(btf, m->name_off) || m->type >= cnt)
				return BAD("member %u: name or type out of range", i);
			if (m->type == id)
				return BAD("member %u contains the struct itself", i);
		}
		break;
	case UA_BTF_KIND_ENUM:
	case UA_BTF_KIND_ENUM64:
		for (unsigned i = 0; i < vlen; i++) {
			uint32_t noff = kind == UA_BTF_KIND_ENUM
						? ua_btf_enums(t)[i].name_off
						: ((const struct ua_btf_enum64 *)(t + 1))[i].name_off;

			if (!str_ok(btf, noff))
				return BAD("enumerator %u: name out of range", i);
		}
		break;
	case UA_BTF_KIND_FUNC_PROTO:
		for (unsigned i = 0; i < vlen; i++)
			if (!str_ok(btf, ua_btf_params(t)[i].name_off) ||
			    ua_btf_params(t)[i].type >= cnt)
				return BAD("param %u: name or type out of range", i);
		break;
	case UA_BTF_KIND_DATASEC:
		for (unsigned i = 0; i < vlen; i++) {
			const struct ua_btf_var_secinfo *v = &ua_btf_secinfos(t)[i];

			if (v->type >= cnt || v->type == 0)
				return BAD("variable %u: type %u out of range", i, v->type);
			/* Object files leave size/offsets 0 for the loader to fix up. */
			if (t->size && (uint64_t)v->offset + v->size > t->size)
				return BAD("variable %u at %u+%u past section size %u", i, v->offset,
					   v->size, t->size);
		}
		break;
	case UA_BTF_KIND_INT: {
		uint32_t info = ua_btf_int_info(t);

		if ((info & 0xff) > 128 || t->size > 16 || t->size == 0)
			return BAD("bad int encoding 0x%x size %u", info, t->size);
		break;
	}
	default:
		break;
	}
	return 0;
}
#undef BAD

int ua_btf_parse(const void *data, size_t size, const struct ua_btf *base, char *err,
		 size_t err_sz, struct ua_btf **out)
{
	struct btf_header h;
	struct ua_btf *btf;
	int ret;

	*out = NULL;
	if (!data)
		return ua_errf(err, err_sz, -EINVAL, "btf: no data");
	ret = check_header(data, size, &h, err, err_sz);
	if (ret)
		return ret;
	btf = calloc(1, sizeof(*btf));
	if (!btf)
		return -ENOMEM;
	btf->raw = malloc(size ? size : 1);
	if (!btf->raw) {
		ret = -ENOMEM;
		goto out_free;
	}
	memcpy(btf->raw, data, size);
	btf->types = (const uint8_t *)btf->raw + h.hdr_len + h.type_off;
	btf->strs = (const char *)btf->raw + h.hdr_len + h.str_off;
	btf->str_len = h.str_len;
	btf->base = base;
	btf->start_id = base ? ua_btf_type_cnt(base) : 1;
	btf->start_str = base ? total_str_len(base) : 0;
	/* Strings: NUL-terminated; a standalone blob starts with the empty string. */
	if (h.str_len == 0 ? !base : btf->strs[h.str_len - 1] != '\0') {
		ret = ua_errf(err, err_sz, -EINVAL, "btf: string section not NUL-terminated");
		goto out_free;
	}
	if (!base && btf->strs[0] != '\0') {
		ret = ua_errf(err, err_sz, -EINVAL, "btf: string section must start with \"\"");
		goto out_free;
	}
	if ((uintptr_t)btf->types % 4) { /* hdr_len not a multiple of 4 */
		ret = ua_errf(err, err_sz, -EINVAL, "btf: misaligned type section");
		goto out_free;
	}
	ret = index_types(btf, h.type_len, err, err_sz);
	if (ret)
		goto out_free;
	for (uint32_t i = 0; i < btf->n_own; i++) {
		ret = check_type(btf, btf->start_id + i, err, err_sz);
		if (ret)
			goto out_free;
	}
	*out = btf;
	return 0;
out_free:
	ua_btf_free(btf);
	return ret;
}

int ua_btf_load_file(const char *path, const struct ua_btf *base, char *err, size_t err_sz,
		     struct ua_btf **out)
{
	struct stat st;
	void *buf = NULL;
	size_t got = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ua_errf(err, err_sz, -errno, "btf: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = ua_errf(err, err_sz, -errno, "btf: cannot stat %s", path);
		goto out;
	}
	/* sysfs reports the real size; pseudo files reporting 0 are read to EOF. */
	size_t cap = st.st_size > 0 ? (size_t)st.st_size : 1 << 20;

	for (;;) {
		if (got == cap || !buf) {
			void *n = realloc(buf, got == cap ? cap *= 2 : cap);

			if (!n) {
				ret = -ENOMEM;
				goto out;
			}
			buf = n;
		}
		ssize_t r = read(fd, (char *)buf + got, cap - got);

		if (r < 0) {
			ret = ua_errf(err, err_sz, -errno, "btf: read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	ret = ua_btf_parse(buf, got, base, err, err_sz, out);
out:
	free(buf);
	close(fd);
	return ret;
}

void ua_btf_free(struct ua_btf *btf)
{
	if (!btf)
		return;
	free(btf->type_offs);
	free(btf->raw);
	free(btf);
}

/* ---- .BTF.ext ---- */

struct btf_ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len; /* present when hdr_len >= 32 */
};

int ua_btf_ext_parse(const void *data, size_t size, const struct ua_btf *btf, char *err,
		     size_t err_sz, struct ua_btf_ext **out)
{
	struct btf_ext_header h = { 0 };
	struct ua_btf_ext *ext;
	const size_t min_hdr = offsetof(struct btf_ext_header, core_relo_off);
	int ret;

	*out = NULL;
	if (!data || size < min_hdr) /* no data: a NOBITS section claiming a size */
		return ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext shorter than its header");
	memcpy(&h, data, UA_MIN(size, sizeof(h)));
	if (h.magic != UA_BTF_MAGIC || h.version != 1)
		return ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext bad magic/version");
	if (h.hdr_len < min_hdr || h.hdr_len > size)
		return ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext bad header length %u", h.hdr_len);
	if (h.hdr_len < sizeof(h))
		h.core_relo_off = h.core_relo_len = 0;
	ext = calloc(1, sizeof(*ext));
	if (!ext)
		return -ENOMEM;
	if (h.core_relo_len == 0) {
		*out = ext;
		return 0;
	}
	uint64_t payload = size - h.hdr_len;

	if ((uint64_t)h.core_relo_off + h.core_relo_len > payload || h.core_relo_len < 4 ||
	    h.core_relo_off % 4) {
		ret = ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext CO-RE section out of bounds");
		goto out_free;
	}
	ext->data = malloc(h.core_relo_len);
	if (!ext->data) {
		ret = -ENOMEM;
		goto out_free;
	}
	memcpy(ext->data, (const uint8_t *)data + h.hdr_len + h.core_relo_off, h.core_relo_len);
	const uint8_t *p = ext->data, *end = p + h.core_relo_len;
	uint32_t rec_size;

	memcpy(&rec_size, p, 4);
	p += 4;
	if (rec_size < sizeof(struct ua_btf_core_relo) || rec_size % 4) {
		ret = ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext CO-RE record size %u", rec_size);
		goto out_free;
	}
	if (rec_size != sizeof(struct ua_btf_core_relo)) {
		/* Our views index records as an array of the known layout. */
		ret = ua_errf(err, err_sz, -EOPNOTSUPP,
			      "btf: .BTF.ext CO-RE record size %u not supported", rec_size);
		goto out_free;
	}
	while (p < end) {
		uint32_t name_off, num;

		if (end - p < 8) {
			ret = ua_errf(err, err_sz, -EINVAL, "btf: .BTF.ext truncated section header");
			goto out_free;
		}
		memcpy(&name_off, p, 4);
		memcpy(&num, p + 4, 4);
		p += 8;
		const char *name = ua_btf_str(btf, name_off);

		if (!name || num == 0 || (uint64_t)num * rec_size > (uint64_t)(end - p)) {
			ret = ua_errf(err, err_sz, -EINVAL,
				      "btf: .BTF.ext CO-RE section %u: bad name or %u records", ext->n_secs,
				      num);
			goto out_free;
		}
		struct ua_btf_ext_sec *n = realloc(ext->secs, (ext->n_secs + 1) * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out_free;
		}
		ext->secs = n;
		n[ext->n_secs++] = (struct ua_btf_ext_sec){ name, (const void *)p, num };
		p += (size_t)num * rec_size;
	}
	*out = ext;
	return 0;
out_free:
	ua_btf_ext_free(ext);
	return ret;
}

void ua_btf_ext_free(struct ua_btf_ext *ext)
{
	if (!ext)
		return;
	free(ext->secs);
	free(ext->data);
	free(ext);
}
