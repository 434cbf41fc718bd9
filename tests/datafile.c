/* SPDX-License-Identifier: MIT */
/*
 * ".data" test-vector reader (format in datafile.h). One pass over the lines:
 * a "-- " line switches the current section, other lines are appended to that
 * section's text; the sections are decoded (hex, numbers) at the end, so every
 * error can name the line it came from.
 */
#include "datafile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum df_section { DF_NONE, DF_ASM, DF_RAW, DF_MEM, DF_RESULT, DF_ERROR, DF_C, DF_NOREG, DF_N };

static const char *const section_names[DF_N] = {
	[DF_ASM] = "asm",     [DF_RAW] = "raw", [DF_MEM] = "mem",
	[DF_RESULT] = "result", [DF_ERROR] = "error", [DF_C] = "c",
	[DF_NOREG] = "no register offset",
};

struct df_text {
	char *buf;
	size_t len, cap;
	bool present;
	int first_line;
};

struct df_parse {
	const char *path;
	char *err;
	size_t err_sz;
	struct df_text sec[DF_N];
};

static int df_fail(struct df_parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int df_fail(struct df_parse *p, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->err_sz)
		snprintf(p->err, p->err_sz, "datafile: %s:%d: %s", p->path, line, msg);
	return -EINVAL;
}

static int text_append(struct df_text *t, const char *s, size_t len)
{
	if (t->len + len + 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char *nb;

		while (cap < t->len + len + 2)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (!nb)
			return -ENOMEM;
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int section_by_name(const char *name)
{
	for (int i = DF_ASM; i < DF_N; i++)
		if (!strcmp(name, section_names[i]))
			return i;
	return -1;
}

/* Every line of a decoded section is numbered from its first line. */
static bool parse_u64(const char *tok, uint64_t *v)
{
	char *end;
	bool hex = tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');

	if (!isxdigit((unsigned char)tok[hex ? 2 : 0]))
		return false;
	errno = 0;
	*v = strtoull(tok, &end, hex ? 16 : 10);
	return !errno && *end == '\0';
}

static bool is_hex_byte(const char *tok)
{
	return strlen(tok) == 2 && isxdigit((unsigned char)tok[0]) &&
	       isxdigit((unsigned char)tok[1]);
}

static int push_byte(uint8_t **buf, size_t *len, size_t *cap, uint8_t b)
{
	if (*len == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		uint8_t *nb = realloc(*buf, nc);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	(*buf)[(*len)++] = b;
	return 0;
}

/* The next line of a section's text with its comment cut and blanks trimmed,
 * skipping empty ones; *lineno follows the file. NULL at the end. */
static char *next_content_line(char **cursor, int *lineno)
{
	while (*cursor && **cursor) {
		char *line = *cursor, *nl = strchr(line, '\n'), *hash;

		*cursor = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		(*lineno)++;
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		line = trim(line);
		if (*line)
			return line;
	}
	return NULL;
}

static bool line_is_all_bytes(const char *line)
{
	const char *p = line;

	while (*p) {
		size_t len = strcspn(p, " \t");

		if (len != 2 || !isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return false;
		p += len;
		p += strspn(p, " \t");
	}
	return true;
}

/* Decodes raw (words or byte lines) or mem (bytes) into a byte image. */
static int decode_bytes(struct df_parse *p, enum df_section s, uint8_t **out, size_t *out_len)
{
	struct df_text *t = &p->sec[s];
	char *cursor = t->buf, *line;
	size_t len = 0, cap = 0;
	int lineno = t->first_line - 1, err = 0;

	*out = NULL;
	*out_len = 0;
	while (!err && (line = next_content_line(&cursor, &lineno))) {
		bool all_bytes = s == DF_MEM || line_is_all_bytes(line);
		char *save_tok = NULL, *tok;

		for (tok = strtok_r(line, " \t", &save_tok); tok && !err;
		     tok = strtok_r(NULL, " \t", &save_tok)) {
			uint64_t v;

			if (all_bytes) {
				if (!is_hex_byte(tok) && !(parse_u64(tok, &v) && v <= 0xff && tok[1] == 'x'))
					err = df_fail(p, lineno, "bad hex byte '%s' in -- %s", tok,
						      section_names[s]);
				else
					err = push_byte(out, &len, &cap,
							(uint8_t)strtoul(tok, NULL, 16));
				continue;
			}
			if (!parse_u64(tok, &v)) {
				err = df_fail(p, lineno, "bad instruction word '%s' in -- raw", tok);
				continue;
			}
			for (int i = 0; i < 8 && !err; i++)
				err = push_byte(out, &len, &cap, (uint8_t)(v >> (8 * i)));
		}
	}
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	*out_len = len;
	return 0;
}

/* The content lines of a section joined by newlines ("" when none). */
static char *section_content(struct df_text *t, int *first, int *n_lines)
{
	char *cursor = t->buf, *line, *out = strdup("");
	int lineno = t->first_line - 1;
	size_t len = 0;

	*n_lines = 0;
	*first = t->first_line;
	while (out && (line = next_content_line(&cursor, &lineno))) {
		size_t add = strlen(line);
		char *grown = realloc(out, len + add + 2);

		if (!grown) {
			free(out);
			return NULL;
		}
		out = grown;
		if (len)
			out[len++] = '\n';
		memcpy(out + len, line, add + 1);
		len += add;
		if (!(*n_lines)++)
			*first = lineno;
	}
	return out;
}

static int decode(struct df_parse *p, struct ua_datafile *df, int last_line)
{
	int err;

	if (!p->sec[DF_ASM].present && !p->sec[DF_RAW].present)
		return df_fail(p, last_line, "no -- asm or -- raw section");
	if (!p->sec[DF_RESULT].present && !p->sec[DF_ERROR].present)
		return df_fail(p, last_line, "no -- result or -- error section");
	if (p->sec[DF_ASM].present) {
		df->asm_text = p->sec[DF_ASM].buf ? p->sec[DF_ASM].buf : strdup("");
		p->sec[DF_ASM].buf = NULL;
		df->asm_line = p->sec[DF_ASM].first_line;
		if (!df->asm_text)
			return -ENOMEM;
	}
	if (p->sec[DF_RAW].present && p->sec[DF_RAW].buf) {
		uint8_t *bytes;
		size_t n;

		if ((err = decode_bytes(p, DF_RAW, &bytes, &n)))
			return err;
		if (n % 8) {
			free(bytes);
			return df_fail(p, p->sec[DF_RAW].first_line,
				       "-- raw holds %zu bytes, not a multiple of 8", n);
		}
		df->raw = (uint64_t *)(void *)bytes; /* realloc'd memory: aligned */
		df->n_raw = n / 8;
	}
	df->has_raw = p->sec[DF_RAW].present;
	if (p->sec[DF_MEM].present && p->sec[DF_MEM].buf &&
	    (err = decode_bytes(p, DF_MEM, &df->mem, &df->mem_len)))
		return err;
	if (p->sec[DF_RESULT].present) {
		int first, lines;
		char *v = section_content(&p->sec[DF_RESULT], &first, &lines);
		bool ok = v && lines == 1 && parse_u64(v, &df->result);

		free(v);
		if (!ok)
			return df_fail(p, first, "-- result must be one hex (0x) or decimal number");
		df->has_result = true;
	}
	if (p->sec[DF_ERROR].present) {
		int first, lines;

		df->error = section_content(&p->sec[DF_ERROR], &first, &lines);
		df->has_error = true;
		if (!df->error)
			return -ENOMEM;
	}
	if (p->sec[DF_NOREG].present) {
		int first, lines;

		df->no_register_offset = true;
		df->no_register_offset_reason = section_content(&p->sec[DF_NOREG], &first, &lines);
		if (!df->no_register_offset_reason)
			return -ENOMEM;
	}
	if (p->sec[DF_C].buf) {
		df->c_text = p->sec[DF_C].buf;
		p->sec[DF_C].buf = NULL;
	}
	return 0;
}

int ua_datafile_parse_text(const char *text, const char *path, struct ua_datafile *df,
			   char *err_buf, size_t err_sz)
{
	struct df_parse p = { .path = path ? path : "<text>", .err = err_buf, .err_sz = err_sz };
	enum df_section cur = DF_NONE;
	const char *s = text;
	int lineno = 0, err = 0;

	memset(df, 0, sizeof(*df));
	while (*s && !err) {
		size_t len = strcspn(s, "\n");
		char line[4096];

		lineno++;
		if (len >= sizeof(line)) {
			err = df_fail(&p, lineno, "line longer than %zu bytes", sizeof(line) - 1);
			break;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		s += len + (s[len] == '\n');

		if (!strncmp(line, "--", 2)) {
			int sec = section_by_name(trim(line + 2));

			if (sec < 0)
				err = df_fail(&p, lineno, "unknown section '%s'", trim(line));
			else if (p.sec[sec].present)
				err = df_fail(&p, lineno, "repeated section '-- %s'", section_names[sec]);
			else {
				cur = (enum df_section)sec;
				p.sec[cur].present = true;
				p.sec[cur].first_line = lineno + 1;
			}
			continue;
		}
		if (cur != DF_NONE) { /* verbatim, so every line keeps its number */
			err = text_append(&p.sec[cur], line, strlen(line));
			continue;
		}
		if (*trim(line) && line[0] != '#')
			err = df_fail(&p, lineno, "text outside any section");
	}
	if (!err)
		err = decode(&p, df, lineno);
	for (int i = 0; i < DF_N; i++)
		free(p.sec[i].buf);
	if (err) {
		ua_datafile_free(df);
		if (err == -ENOMEM && err_buf && err_sz)
			snprintf(err_buf, err_sz, "datafile: %s: out of memory", p.path);
	}
	return err;
}

int ua_datafile_parse(const char *path, struct ua_datafile *out, char *err_buf, size_t err_sz)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	int err;

	memset(out, 0, sizeof(*out));
	if (!f) {
		err = -errno;
		if (err_buf && err_sz)
			snprintf(err_buf, err_sz, "datafile: %s: %s", path, strerror(-err));
		return err;
	}
	do {
		if (cap - len < 4096) {
			char *nt = realloc(text, cap ? cap * 2 : 8192);

			if (!nt) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = nt;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(text + len, 1, cap - len - 1, f);
		len += got;
	} while (got);
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		if (err_buf && err_sz)
			snprintf(err_buf, err_sz, "datafile: %s: NUL byte in file", path);
		return -EINVAL;
	}
	err = ua_datafile_parse_text(text, path, out, err_buf, err_sz);
	free(text);
	return err;
}

void ua_datafile_free(struct ua_datafile *df)
{
	if (!df)
		return;
	free(df->asm_text);
	free(df->raw);
	free(df->mem);
	free(df->error);
	free(df->no_register_offset_reason);
	free(df->c_text);
	memset(df, 0, sizeof(*df));
}
