/* SPDX-License-Identifier: MIT */
/*
 * bpf_trace_printk (what bpf_printk() calls): the kernel's format subset
 * (bpf_bprintf_prepare) with its rejections, so a format the kernel refuses
 * with -EINVAL is refused here too:
 *   - the format must hold a NUL within fmt_size and only printable ASCII
 *     or whitespace before it;
 *   - at most 3 conversions (the helper's 3 arguments), `%%` is literal;
 *   - optional flags "0+- " and a width, then one of: d i u x X with
 *     nothing, l or ll before them; c; s (string read safely from program
 *     memory, "" if unreadable); p, px, pK (16 hex digits: uarena does not
 *     hash pointers); pi4 pI4 pi6 pI6 (IP address read from memory).
 * The line goes to ex->trace (the loader's sink) or stderr; the helper
 * returns the formatted length, as the kernel does.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"

#define PRINTK_MAX_ARGS 3

struct out_buf {
	char *p;
	size_t cap, len; /* len counts everything, even what did not fit */
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out_buf *o, const char *fmt, ...)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->p + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void out_char(struct out_buf *o, char c)
{
	if (o->len + 1 < o->cap)
		o->p[o->len] = c;
	o->len++;
}

static int print_ip(const struct ua_exec *ex, struct out_buf *o, char kind, char ver,
		    uint64_t ptr)
{
	uint8_t a[16];

	if (ua_helper_copy_in(ex, a, ptr, ver == '4' ? 4 : 16))
		memset(a, 0, sizeof(a));
	if (ver == '4') {
		if (kind == 'I')
			out_printf(o, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		else
			out_printf(o, "%03u.%03u.%03u.%03u", a[0], a[1], a[2], a[3]);
		return 0;
	}
	for (int g = 0; g < 8; g++) {
		if (kind == 'I')
			out_printf(o, g ? ":%02x%02x" : "%02x%02x", a[2 * g], a[2 * g + 1]);
		else
			out_printf(o, "%02x%02x", a[2 * g], a[2 * g + 1]);
	}
	return 0;
}

/* One conversion starting after '%' at fmt[*i]; advances *i to its last char. */
static int format_one(const struct ua_exec *ex, struct out_buf *o, const char *fmt, size_t *i,
		      uint64_t arg)
{
	char spec[32] = "%";
	size_t s = 1, j = *i;
	int longs = 0;

	while (fmt[j] == '0' || fmt[j] == '+' || fmt[j] == '-' || fmt[j] == ' ') {
		if (s >= 8)
			return -EINVAL;
		spec[s++] = fmt[j++];
	}
	if (fmt[j] >= '1' && fmt[j] <= '9') {
		while (fmt[j] >= '0' && fmt[j] <= '9') {
			if (s >= 16)
				return -EINVAL;
			spec[s++] = fmt[j++];
		}
	}

	if (fmt[j] == 'p') {
		char n1 = fmt[j + 1];

		if (n1 == 'i' || n1 == 'I') {
			if (fmt[j + 2] != '4' && fmt[j + 2] != '6')
				return -EINVAL;
			*i = j + 2;
			return print_ip(ex, o, n1, fmt[j + 2], arg);
		}
		if (n1 && !isspace((unsigned char)n1) && !ispunct((unsigned char)n1) && n1 != 'K' &&
		    n1 != 'x')
			return -EINVAL;
		*i = (n1 == 'K' || n1 == 'x') ? j + 1 : j;
		out_printf(o, "%016" PRIx64, arg);
		return 0;
	}
	if (fmt[j] == 'c' || fmt[j] == 's') {
		char str[UA_TRACE_PRINTK_SIZE];

		spec[s++] = fmt[j];
		spec[s] = '\0';
		*i = j;
		if (fmt[j] == 'c')
			out_printf(o, spec, (int)(uint8_t)arg);
		else {
			if (ua_helper_copy_str(ex, str, arg, sizeof(str)) < 0)
				str[0] = '\0';
			out_printf(o, spec, str);
		}
		return 0;
	}
	while (fmt[j] == 'l' && longs < 2) {
		longs++;
		j++;
	}
	if (fmt[j] != 'd' && fmt[j] != 'i' && fmt[j] != 'u' && fmt[j] != 'x' && fmt[j] != 'X')
		return -EINVAL;
	spec[s++] = 'l';
	spec[s++] = 'l';
	spec[s++] = fmt[j];
	spec[s] = '\0';
	*i = j;
	if (fmt[j] == 'd' || fmt[j] == 'i') {
		long long v = longs ? (long long)(int64_t)arg : (long long)(int32_t)arg;

		out_printf(o, spec, v);
	} else {
		unsigned long long v = longs ? arg : (uint32_t)arg;

		out_printf(o, spec, v);
	}
	return 0;
}

int ua_helper_format_printk(const struct ua_exec *ex, char *out, size_t out_sz, const char *fmt,
			    uint32_t fmt_size, const uint64_t args[3])
{
	struct out_buf o = { .p = out, .cap = out_sz };
	const char *end = memchr(fmt, '\0', fmt_size);
	int n_spec = 0;

	if (!end || !out_sz)
		return -EINVAL;
	for (size_t i = 0; fmt + i < end; i++) {
		unsigned char c = (unsigned char)fmt[i];
		int err;

		if (!isascii(c) || (!isprint(c) && !isspace(c)))
			return -EINVAL;
		if (c != '%') {
			out_char(&o, (char)c);
			continue;
		}
		if (fmt[i + 1] == '%') {
			out_char(&o, '%');
			i++;
			continue;
		}
		if (n_spec >= PRINTK_MAX_ARGS)
			return -EINVAL;
		i++;
		err = format_one(ex, &o, fmt, &i, args[n_spec++]);
		if (err)
			return err;
	}
	out[UA_MIN(o.len, out_sz - 1)] = '\0';
	return (int)UA_MIN(o.len, (size_t)INT32_MAX);
}

/* bpf_trace_printk(fmt, fmt_size, a1, a2, a3) */
static uint64_t bpf_trace_printk(struct ua_exec *ex, uint64_t fmt, uint64_t fmt_size,
				 uint64_t a1, uint64_t a2, uint64_t a3)
{
	char fmt_copy[UA_TRACE_PRINTK_SIZE], line[UA_TRACE_PRINTK_SIZE];
	const uint64_t args[3] = { a1, a2, a3 };
	int n;

	if (fmt_size == 0 || fmt_size > sizeof(fmt_copy))
		return (uint64_t)-EINVAL;
	if (ua_helper_copy_in(ex, fmt_copy, fmt, fmt_size))
		return (uint64_t)-EFAULT;
	n = ua_helper_format_printk(ex, line, sizeof(line), fmt_copy, (uint32_t)fmt_size, args);
	if (n < 0)
		return (uint64_t)(int64_t)n;
	if (ex->trace)
		ex->trace(ex, line, strlen(line));
	else
		fprintf(stderr, "%s%s", line,
			line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
	return (uint64_t)n;
}

const struct ua_helper_def ua_helpers_printk[] = {
	{ "bpf_trace_printk", 6, bpf_trace_printk },
	{ NULL, 0, NULL },
};
