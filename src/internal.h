/* SPDX-License-Identifier: MIT */
/*
 * Internal conventions shared by every module (never installed).
 *
 * UA_ASSERT(x): a proven invariant; compiled out unless UA_DEBUG.
 * UA_NEVER(x):  believed impossible but defended in release builds: evaluates
 *               to true (so the caller can return -EFAULT) and warns once.
 * OPTS_VALID / OPTS_GET: read a caller's opts struct the libbpf way, so an
 *               older caller (smaller sz) and a newer caller (unknown trailing
 *               fields, which must be zero) both work.
 */
#ifndef UA_INTERNAL_H
#define UA_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define UA_HIDDEN __attribute__((visibility("hidden")))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define UA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define UA_MAX(a, b) ((a) > (b) ? (a) : (b))
#define UA_ROUND_UP(x, a) ((((x) + (a) - 1) / (a)) * (a))

#ifdef UA_DEBUG
#include <assert.h>
#define UA_ASSERT(x) assert(x)
#else
#define UA_ASSERT(x) ((void)0)
#endif

UA_HIDDEN void ua_warn_once_at(const char *file, int line, const char *cond);
#define UA_NEVER(x)                                                   \
	({                                                            \
		bool ___r = !!(x);                                    \
		if (unlikely(___r))                                   \
			ua_warn_once_at(__FILE__, __LINE__, #x);      \
		___r;                                                 \
	})

/* Formats "module: message" into a caller buffer (may be NULL/0); returns err. */
UA_HIDDEN int ua_errf(char *buf, size_t buf_sz, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

UA_HIDDEN bool ua_opts_valid(const void *opts, size_t known_sz);
#define OPTS_VALID(opts, type) \
	ua_opts_valid((opts), offsetofend(struct type, type##__last_field))
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#define OPTS_HAS(opts, field) \
	ua_opts_has((opts), offsetofend(__typeof__(*(opts)), field))
/* Functions, not inline tests, so `&local_opts` does not trip -Waddress. */
static inline bool ua_opts_has(const void *opts, size_t need)
{
	return opts && *(const size_t *)opts >= need;
}
#define OPTS_GET(opts, field, fallback) \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))

#endif
