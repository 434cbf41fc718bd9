/* SPDX-License-Identifier: MIT */
/*
 * Benchmark contract. A benchmark is a function registered with
 * BENCH(group, impl) that measures one implementation of one workload and
 * returns nanoseconds per operation (or a negative value, after calling
 * bench_skip(), when it cannot run here, e.g. no bpf()). bench/main.c runs
 * them all in one process and prints, per group, each impl's ns/op and its
 * ratio to the group's first-registered impl (registration order = file
 * order), so every ratio comes from one run on one machine.
 */
#ifndef UA_BENCH_H
#define UA_BENCH_H

#include <stdint.h>
#include <time.h>

struct ua_bench {
	const char *group;
	const char *impl;
	double (*fn)(void);
	int order; /* impl order inside a group: lower first (the baseline) */
};

void ua_bench_register(const struct ua_bench *b);
/* Records why a benchmark could not run; the caller then returns -1. */
void bench_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* order: 0 for the impl that the group's ratios are relative to. */
#define BENCH(group, impl, order)                                             \
	static double ua_bench_fn_##group##_##impl(void);                     \
	__attribute__((constructor)) static void ua_bench_reg_##group##_##impl(void) \
	{                                                                     \
		static const struct ua_bench b = { #group, #impl,             \
			ua_bench_fn_##group##_##impl, order };                \
		ua_bench_register(&b);                                        \
	}                                                                     \
	static double ua_bench_fn_##group##_##impl(void)

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Keeps the compiler from deleting a computation whose result is unused. */
#define bench_keep(x) __asm__ volatile("" : : "r"(x) : "memory")

#endif
