/* SPDX-License-Identifier: MIT */
/*
 * The one run entry point for prepared programs: ua_prog_run uses the JIT
 * code attached to the program (ua_prog_enable_jit) and the interpreter
 * otherwise. Attaching is lazy and lock-free: the first caller compiles and
 * publishes with a compare-and-swap; a racing compile is freed, so every
 * thread ends up running the same code.
 */
#include "jit_int.h"

#include <errno.h>

#include "internal.h"

int ua_prog_enable_jit(struct ua_prog *p, char *err, size_t err_sz)
{
	struct ua_jit_prog *jp = NULL, *expected = NULL;
	int ret;

	if (!p)
		return -EINVAL;
	if (__atomic_load_n(&p->jit, __ATOMIC_ACQUIRE))
		return 0;
	ret = ua_jit_compile(p, NULL, err, err_sz, &jp);
	if (ret)
		return ret;
	if (!__atomic_compare_exchange_n(&p->jit, &expected, jp, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		ua_jit_free(jp);
	return 0;
}

const char *ua_prog_jit_fallback(const struct ua_prog *p)
{
	const struct ua_jit_prog *jp = __atomic_load_n(&p->jit, __ATOMIC_ACQUIRE);

	return jp ? ua_jit_fallback_reason(jp) : "the program was not JIT-compiled";
}

int ua_prog_run(const struct ua_prog *p, struct ua_exec *ex, const uint64_t args[5], uint64_t *r0)
{
	const struct ua_jit_prog *jp = p ? __atomic_load_n(&p->jit, __ATOMIC_ACQUIRE) : NULL;

	if (jp)
		return ua_jit_run(jp, ex, args, r0);
	return ua_interp_run(p, ex, args, r0);
}
