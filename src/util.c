/* SPDX-License-Identifier: MIT */
/* Error formatting, opts validation and warn-once: the small shared plumbing. */
#include "internal.h"

#include <uarena/common.h>

#include <stdatomic.h>
#include <stdlib.h>

int ua_errf(char *buf, size_t buf_sz, int err, const char *fmt, ...)
{
	va_list ap;

	if (buf && buf_sz) {
		va_start(ap, fmt);
		vsnprintf(buf, buf_sz, fmt, ap);
		va_end(ap);
	}
	return err;
}

bool ua_opts_valid(const void *opts, size_t known_sz)
{
	const unsigned char *p = opts;
	size_t sz;

	if (!opts)
		return true; /* NULL means all defaults */
	sz = *(const size_t *)opts;

	if (sz < sizeof(size_t))
		return false;
	/* A newer caller may pass fields we do not know: they must be zero. */
	for (size_t i = known_sz; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

void ua_warn_once_at(const char *file, int line, const char *cond)
{
	static atomic_int warned;

	if (atomic_exchange(&warned, 1) == 0)
		fprintf(stderr, "uarena: internal error: %s at %s:%d\n", cond, file, line);
}

const char *ua_strerror(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case -524: /* the kernel-internal ENOTSUPP some map ops return */
		return "operation not supported (ENOTSUPP)";
	default:
		return strerror(-err);
	}
}
