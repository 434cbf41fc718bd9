/* SPDX-License-Identifier: MIT */
/*
 * Assembler and disassembler throughput, ns per instruction, on a 10k-slot
 * program mixing every instruction family (the disassembler's own listing of
 * a repeated sample, so both directions see the same text).
 * Groups: asm (kernel text vs conformance text), disasm (one insn at a time
 * into a buffer vs a whole listing to a FILE).
 */
#include "asm.h"
#include "bench.h"
#include "disasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPS 500

static const char sample_kernel[] =
	"r1 = *(u64 *)(r10 -8)\n*(u32 *)(r1 +4) = r2\nr0 += r1\nw0 = w1\nr0 = -1\n"
	"r1 = 0x1122334455667788\nif r1 > 0x5 goto pc+3\nif w1 s< w2 goto pc-1\n"
	"goto pc+2\ncall bpf_map_lookup_elem#1\nr0 = be16 r0\nr1 = (s8)r2\n"
	"r0 = *(s16 *)(r1 +2)\nlock *(u64 *)(r1 +0) += r2\n"
	"r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\nr1 s/= r2\nexit\n";
static const char sample_conformance[] =
	"ldxdw %r1, [%r10-8]\nstxw [%r1+4], %r2\nadd %r0, %r1\nmov32 %r0, %r1\nmov %r0, -1\n"
	"lddw %r1, 0x1122334455667788\njgt %r1, 5, +3\njslt32 %r1, %r2, -1\n"
	"ja +2\ncall 1\nbe16 %r0\nmovsx864 %r1, %r2\n"
	"ldxsh %r0, [%r1+2]\nlock add [%r1], %r2\n"
	"lock fetch add [%r1], %r2\nsdiv %r1, %r2\nexit\n";

static char *repeat(const char *sample, size_t times)
{
	size_t len = strlen(sample);
	char *text = malloc(len * times + 1);

	if (!text)
		return NULL;
	for (size_t i = 0; i < times; i++)
		memcpy(text + i * len, sample, len);
	text[len * times] = '\0';
	return text;
}

static double time_asm(const char *sample, enum ua_asm_syntax syntax)
{
	char *text = repeat(sample, 600);
	struct ua_insn *insns = NULL;
	size_t n = 0;
	uint64_t start;
	double ns;

	if (!text || ua_asm_parse(text, syntax, &insns, &n, NULL, 0)) {
		bench_skip("asm setup failed");
		free(text);
		return -1;
	}
	free(insns);
	start = bench_now_ns();
	for (int r = 0; r < REPS / 10; r++) {
		ua_asm_parse(text, syntax, &insns, &n, NULL, 0);
		bench_keep(insns);
		free(insns);
	}
	ns = (double)(bench_now_ns() - start) / (REPS / 10) / (double)n;
	free(text);
	return ns;
}

BENCH(asm, kernel_text, 0)
{
	return time_asm(sample_kernel, UA_ASM_KERNEL);
}

BENCH(asm, conformance_text, 1)
{
	return time_asm(sample_conformance, UA_ASM_CONFORMANCE);
}

static struct ua_insn *sample_program(size_t *n)
{
	char *text = repeat(sample_kernel, 600);
	struct ua_insn *insns = NULL;

	if (!text || ua_asm_parse(text, UA_ASM_KERNEL, &insns, n, NULL, 0))
		insns = NULL;
	free(text);
	return insns;
}

BENCH(disasm, insn_to_buffer, 0)
{
	size_t n;
	struct ua_insn *insns = sample_program(&n);
	char buf[160];
	uint64_t start;
	double ns;

	if (!insns) {
		bench_skip("asm setup failed");
		return -1;
	}
	start = bench_now_ns();
	for (int r = 0; r < REPS / 10; r++) {
		for (size_t i = 0; i < n;) {
			int used = ua_disasm_insn(&insns[i], n - i, buf, sizeof(buf));

			bench_keep(buf[0]);
			i += used > 0 ? (size_t)used : 1;
		}
	}
	ns = (double)(bench_now_ns() - start) / (REPS / 10) / (double)n;
	free(insns);
	return ns;
}

BENCH(disasm, listing_to_file, 1)
{
	size_t n;
	struct ua_insn *insns = sample_program(&n);
	FILE *devnull = fopen("/dev/null", "w");
	uint64_t start;
	double ns;

	if (!insns || !devnull) {
		bench_skip("setup failed");
		free(insns);
		if (devnull)
			fclose(devnull);
		return -1;
	}
	start = bench_now_ns();
	for (int r = 0; r < REPS / 10; r++)
		ua_disasm_prog(insns, n, devnull, NULL);
	ns = (double)(bench_now_ns() - start) / (REPS / 10) / (double)n;
	fclose(devnull);
	free(insns);
	return ns;
}
