/* SPDX-License-Identifier: MIT */
/*
 * Interpreter throughput on the compute-bound programs of programs.h, each
 * against the same computation in C compiled natively (-O2): groups
 * interp_<program> with impls native (the baseline), interp (threaded
 * dispatch, what ua_interp_run uses), interp_switch and jit (the x86-64 JIT
 * through ua_prog_run; kernel_jit comes from bench_kernel_progs.c). Each impl first
 * checks that it returns the program's expected r0, so a ratio never
 * compares different work. The native inputs come through volatiles so the
 * compiler cannot fold the whole computation to a constant.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#include "interp.h"
#include "jit.h"
#include "programs.h"

#define BENCH_MIN_NS (200ull * 1000 * 1000)

static volatile uint64_t seed_one = 1, loop_iters = BENCH_LOOP_ITERS;

/* Calls fn in batches until BENCH_MIN_NS have passed; returns ns per call. */
static double time_calls(uint64_t (*fn)(const void *), const void *arg)
{
	uint64_t start = bench_now_ns(), calls = 0, now;

	do {
		for (int i = 0; i < 64; i++)
			bench_keep(fn(arg));
		calls += 64;
		now = bench_now_ns();
	} while (now - start < BENCH_MIN_NS);
	return (double)(now - start) / (double)calls;
}

static uint64_t native_loop(const void *unused)
{
	uint64_t r0 = 0, n = loop_iters;

	for (uint64_t i = 0; i < n; i++) {
		r0 += i * (uint64_t)(int64_t)(int32_t)0x9e3779b1u;
		r0 ^= r0 >> 7;
	}
	return r0;
}

static void fill_stack(uint8_t buf[512])
{
	uint64_t x = seed_one;

	for (int i = 0; i < 64; i++) {
		memcpy(buf + 8 * i, &x, 8);
		x = x * BENCH_LCG_MUL + BENCH_LCG_ADD;
	}
}

static uint64_t native_fnv1a(const void *unused)
{
	uint8_t buf[512];
	uint64_t h = 0xcbf29ce484222325ull;

	fill_stack(buf);
	for (int r = BENCH_FNV_ROUNDS; r; r--)
		for (int i = 0; i < 512; i++) {
			h ^= buf[i];
			h *= 0x100000001b3ull;
		}
	return h;
}

static uint64_t native_memsum(const void *unused)
{
	uint8_t buf[512];
	uint64_t sum = 0;

	fill_stack(buf);
	for (uint64_t r = BENCH_MEMSUM_ROUNDS; r; r--) {
		for (int i = 0; i < 64; i++) {
			uint64_t w;

			memcpy(&w, buf + 8 * i, 8);
			sum += w;
		}
		sum += r;
	}
	return sum;
}

static uint64_t native_collatz(const void *unused)
{
	uint64_t total = 0;

	for (uint64_t n = seed_one; n <= BENCH_COLLATZ_MAX; n++) {
		uint64_t x = n;

		while (x != 1) {
			total++;
			x = (x & 1) ? x * 3 + 1 : x >> 1;
		}
	}
	return total;
}

__attribute__((noinline)) static uint64_t calls_f(uint64_t x)
{
	return (x * 3) ^ 0x55;
}

static uint64_t native_calls(const void *unused)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < BENCH_CALLS_ITERS * seed_one; i++)
		acc += calls_f(i);
	return acc;
}

struct interp_arg {
	struct ua_prog *prog;
	enum ua_interp_dispatch how;
};

static uint64_t interp_call(const void *arg)
{
	const struct interp_arg *a = arg;
	struct ua_exec ex = { .bounds_check = true };
	uint64_t r0 = 0;

	if (a->how == UA_DISPATCH_JIT ? ua_prog_run(a->prog, &ex, NULL, &r0)
				      : ua_interp_run_with(a->prog, &ex, NULL, &r0, a->how))
		return ~0ull;
	return r0;
}

static const struct bench_program *find_program(const char *name)
{
	for (size_t i = 0; i < sizeof(bench_programs) / sizeof(bench_programs[0]); i++)
		if (!strcmp(bench_programs[i].name, name))
			return &bench_programs[i];
	return NULL;
}

/* Prepares insns for how: the JIT variant must really run machine code. */
static int prepare_for(const struct ua_insn *insns, size_t n, enum ua_interp_dispatch how,
		       struct ua_prog **out)
{
	char err[256];

	if (ua_prog_prepare(insns, n, NULL, err, sizeof(err), out)) {
		bench_skip("%s", err);
		return -1;
	}
	if (how == UA_DISPATCH_JIT &&
	    (ua_prog_enable_jit(*out, err, sizeof(err)) || ua_prog_jit_fallback(*out))) {
		bench_skip("jit: %s", ua_prog_jit_fallback(*out));
		ua_prog_free(*out);
		return -1;
	}
	return 0;
}

static double bench_native(const char *name, uint64_t (*fn)(const void *))
{
	const struct bench_program *bp = find_program(name);

	if (fn(NULL) != bp->expected_r0) {
		bench_skip("native %s returned 0x%llx, want 0x%llx", name,
			   (unsigned long long)fn(NULL), (unsigned long long)bp->expected_r0);
		return -1;
	}
	return time_calls(fn, NULL);
}

static double bench_interp(const char *name, enum ua_interp_dispatch how)
{
	const struct bench_program *bp = find_program(name);
	struct interp_arg arg = { NULL, how };
	double ns;
	uint64_t r0;

	if (prepare_for(bp->insns, bp->n_insns, how, &arg.prog))
		return -1;
	r0 = interp_call(&arg);
	if (r0 != bp->expected_r0) {
		bench_skip("interp %s returned 0x%llx, want 0x%llx", name, (unsigned long long)r0,
			   (unsigned long long)bp->expected_r0);
		ua_prog_free(arg.prog);
		return -1;
	}
	ns = time_calls(interp_call, &arg);
	ua_prog_free(arg.prog);
	return ns;
}

#define INTERP_GROUP(prog)                                                    \
	BENCH(interp_##prog, native, 0) { return bench_native(#prog, native_##prog); } \
	BENCH(interp_##prog, interp, 1) { return bench_interp(#prog, UA_DISPATCH_THREADED); } \
	BENCH(interp_##prog, interp_switch, 2) { return bench_interp(#prog, UA_DISPATCH_SWITCH); } \
	BENCH(interp_##prog, jit, 3) { return bench_interp(#prog, UA_DISPATCH_JIT); }

INTERP_GROUP(loop)
INTERP_GROUP(fnv1a)
INTERP_GROUP(memsum)
INTERP_GROUP(collatz)
INTERP_GROUP(calls)

/* Fixed cost of one run (stack setup, dispatch entry/exit): mov r0, 1; exit. */
static uint64_t native_empty(const void *unused)
{
	return seed_one;
}

static double bench_empty(enum ua_interp_dispatch how)
{
	static const struct ua_insn prog[] = { UA_MOV64_IMM(0, 1), UA_EXIT_INSN() };
	struct interp_arg arg = { NULL, how };
	double ns;

	if (prepare_for(prog, 2, how, &arg.prog))
		return -1;
	ns = time_calls(interp_call, &arg);
	ua_prog_free(arg.prog);
	return ns;
}

BENCH(interp_empty, native, 0) { return time_calls(native_empty, NULL); }
BENCH(interp_empty, interp, 1) { return bench_empty(UA_DISPATCH_THREADED); }
BENCH(interp_empty, jit, 3) { return bench_empty(UA_DISPATCH_JIT); }
