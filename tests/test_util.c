/* SPDX-License-Identifier: MIT */
/* The shared plumbing: error formatting and opts validation. */
#include "test.h"

#include "internal.h"

#include <uarena.h>

struct demo_opts {
	size_t sz;
	int a;
	long b;
	size_t : 0;
};
#define demo_opts__last_field b

TEST(util, errf_formats_and_returns_err)
{
	char buf[32];

	CHECK_EQ(ua_errf(buf, sizeof(buf), -EINVAL, "arena: bad %s (%d)", "flags", 7), -EINVAL);
	CHECK_STR(buf, "arena: bad flags (7)");
	CHECK_EQ(ua_errf(NULL, 0, -E2BIG, "ignored"), -E2BIG);
	/* Truncation still NUL-terminates. */
	CHECK_EQ(ua_errf(buf, 4, -ENOMEM, "abcdef"), -ENOMEM);
	CHECK_STR(buf, "abc");
}

TEST(util, opts_valid_rejects_unknown_nonzero_tail)
{
	struct {
		struct demo_opts o;
		long extra;
	} bigger;
	UA_OPTS(demo_opts, o, .a = 3);

	CHECK_EQ(o.sz, sizeof(struct demo_opts));
	CHECK_EQ(o.a, 3);
	CHECK(OPTS_VALID(&o, demo_opts));
	CHECK_EQ(OPTS_GET(&o, b, 42), 0);

	memset(&bigger, 0, sizeof(bigger));
	bigger.o.sz = sizeof(bigger);
	CHECK(OPTS_VALID(&bigger.o, demo_opts));
	bigger.extra = 1;
	CHECK(!OPTS_VALID(&bigger.o, demo_opts));

	/* An older caller that knows only `a`: b reads as the fallback. */
	o.sz = offsetofend(struct demo_opts, a);
	CHECK_EQ(OPTS_GET(&o, b, 42), 42);
	o.sz = 4;
	CHECK(!OPTS_VALID(&o, demo_opts));
}

TEST(util, strerror_names_kernel_enotsupp)
{
	CHECK_STR(ua_strerror(-524), "operation not supported (ENOTSUPP)");
	CHECK_STR(ua_strerror(-EINVAL), strerror(EINVAL));
}
