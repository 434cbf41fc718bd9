/* SPDX-License-Identifier: MIT */
/*
 * Compute-bound benchmark programs as raw BPF, shared by the interpreter
 * benchmarks (bench_interp.c) and the kernel backend's (kernel_jit impls of
 * the same groups, loaded through BPF_PROG_TEST_RUN). Each is verifier-safe:
 * loops are bounded by constant counters the verifier tracks exactly (at most
 * ~400k insns to verify), memory is only the 512-byte stack at constant
 * offsets from r10, r1 (ctx) is ignored, no helpers. Each bench_program
 * records the r0 every engine must return; bench_interp.c checks it against
 * the native C version of the same computation before timing.
 */
#ifndef UA_BENCH_PROGRAMS_H
#define UA_BENCH_PROGRAMS_H

#include <stddef.h>
#include <stdint.h>

#include "insn_build.h"

#define BENCH_LOOP_ITERS 65536
#define BENCH_LCG_MUL 6364136223846793005ull
#define BENCH_LCG_ADD 12345
#define BENCH_FNV_ROUNDS 16
#define BENCH_MEMSUM_ROUNDS 64
#define BENCH_COLLATZ_MAX 500
#define BENCH_CALLS_ITERS 10000

/* r0 = 0; for (i = 0; i < 65536; i++) { r0 += i * (s32)0x9e3779b1; r0 ^= r0 >> 7; } */
static const struct ua_insn prog_loop[] = {
	UA_MOV64_IMM(0, 0),
	UA_MOV64_IMM(2, 0),
	UA_MOV64_REG(3, 2),                            /* 2: loop */
	UA_ALU64_IMM(UA_MUL, 3, (int32_t)0x9e3779b1),
	UA_ALU64_REG(UA_ADD, 0, 3),
	UA_MOV64_REG(4, 0),
	UA_ALU64_IMM(UA_RSH, 4, 7),
	UA_ALU64_REG(UA_XOR, 0, 4),
	UA_ALU64_IMM(UA_ADD, 2, 1),
	UA_JMP_IMM(UA_JLT, 2, BENCH_LOOP_ITERS, -8),
	UA_EXIT_INSN(),
};

/* Fills the 512-byte stack with 64 LCG words (first = 1); r5 = the multiplier. */
#define BENCH_FILL_STACK                                                      \
	UA_LD_IMM64(5, BENCH_LCG_MUL),                                        \
	UA_MOV64_IMM(2, 1),                                                   \
	UA_MOV64_REG(1, 10),                                                  \
	UA_ALU64_IMM(UA_ADD, 1, -512),                                        \
	UA_MOV64_IMM(3, 64),                                                  \
	UA_STX_MEM(UA_DW, 1, 2, 0),                   /* 6: fill loop */      \
	UA_ALU64_REG(UA_MUL, 2, 5),                                           \
	UA_ALU64_IMM(UA_ADD, 2, BENCH_LCG_ADD),                               \
	UA_ALU64_IMM(UA_ADD, 1, 8),                                           \
	UA_ALU64_IMM(UA_SUB, 3, 1),                                           \
	UA_JMP_IMM(UA_JNE, 3, 0, -6)                  /* 11 */

/* FNV-1a (64-bit) over the 512 stack bytes, 16 times in a row. */
static const struct ua_insn prog_fnv1a[] = {
	BENCH_FILL_STACK,
	UA_LD_IMM64(0, 0xcbf29ce484222325ull),        /* 12 */
	UA_LD_IMM64(5, 0x100000001b3ull),             /* 14 */
	UA_MOV64_IMM(6, BENCH_FNV_ROUNDS),            /* 16 */
	UA_MOV64_REG(1, 10),                          /* 17: round */
	UA_ALU64_IMM(UA_ADD, 1, -512),
	UA_MOV64_IMM(3, 512),
	UA_LDX_MEM(UA_B, 4, 1, 0),                    /* 20: byte */
	UA_ALU64_REG(UA_XOR, 0, 4),
	UA_ALU64_REG(UA_MUL, 0, 5),
	UA_ALU64_IMM(UA_ADD, 1, 1),
	UA_ALU64_IMM(UA_SUB, 3, 1),
	UA_JMP_IMM(UA_JNE, 3, 0, -6),
	UA_ALU64_IMM(UA_SUB, 6, 1),                   /* 26 */
	UA_JMP_IMM(UA_JNE, 6, 0, -11),
	UA_EXIT_INSN(),
};

/* Sum of the 64 stack words, 64 rounds, each round also adding its counter. */
static const struct ua_insn prog_memsum[] = {
	BENCH_FILL_STACK,
	UA_MOV64_IMM(0, 0),                           /* 12 */
	UA_MOV64_IMM(6, BENCH_MEMSUM_ROUNDS),
	UA_MOV64_REG(1, 10),                          /* 14: round */
	UA_ALU64_IMM(UA_ADD, 1, -512),
	UA_MOV64_IMM(3, 64),
	UA_LDX_MEM(UA_DW, 4, 1, 0),                   /* 17: word */
	UA_ALU64_REG(UA_ADD, 0, 4),
	UA_ALU64_IMM(UA_ADD, 1, 8),
	UA_ALU64_IMM(UA_SUB, 3, 1),
	UA_JMP_IMM(UA_JNE, 3, 0, -5),
	UA_ALU64_REG(UA_ADD, 0, 6),                   /* 22 */
	UA_ALU64_IMM(UA_SUB, 6, 1),
	UA_JMP_IMM(UA_JNE, 6, 0, -11),
	UA_EXIT_INSN(),
};

/* Total Collatz steps for n = 1..500: branchy ALU code. */
static const struct ua_insn prog_collatz[] = {
	UA_MOV64_IMM(0, 0),
	UA_MOV64_IMM(1, 1),
	UA_MOV64_REG(2, 1),                           /* 2: next n */
	UA_JMP_IMM(UA_JEQ, 2, 1, 9),                  /* 3: step -> 13 */
	UA_ALU64_IMM(UA_ADD, 0, 1),
	UA_MOV64_REG(3, 2),
	UA_ALU64_IMM(UA_AND, 3, 1),
	UA_JMP_IMM(UA_JNE, 3, 0, 2),                  /* -> 10 */
	UA_ALU64_IMM(UA_RSH, 2, 1),
	UA_JMP_A(-7),                                 /* -> 3 */
	UA_ALU64_IMM(UA_MUL, 2, 3),                   /* 10: odd */
	UA_ALU64_IMM(UA_ADD, 2, 1),
	UA_JMP_A(-10),                                /* -> 3 */
	UA_ALU64_IMM(UA_ADD, 1, 1),                   /* 13 */
	UA_JMP_IMM(UA_JLE, 1, BENCH_COLLATZ_MAX, -13), /* -> 2 */
	UA_EXIT_INSN(),
};

/* bpf-to-bpf call overhead: acc += f(i) for i < 10000, f(x) = (x * 3) ^ 0x55. */
static const struct ua_insn prog_calls[] = {
	UA_MOV64_IMM(6, 0),
	UA_MOV64_IMM(7, 0),
	UA_MOV64_REG(1, 7),                           /* 2: loop */
	UA_CALL_REL(5),                               /* -> 9 */
	UA_ALU64_REG(UA_ADD, 6, 0),
	UA_ALU64_IMM(UA_ADD, 7, 1),
	UA_JMP_IMM(UA_JLT, 7, BENCH_CALLS_ITERS, -5), /* -> 2 */
	UA_MOV64_REG(0, 6),
	UA_EXIT_INSN(),
	UA_MOV64_REG(0, 1),                           /* 9: f */
	UA_ALU64_IMM(UA_MUL, 0, 3),
	UA_ALU64_IMM(UA_XOR, 0, 0x55),
	UA_EXIT_INSN(),
};

/* What every engine must return (computed by the native C versions in bench_interp.c). */
#define BENCH_EXPECT_LOOP 0xcb4dde39ba624316ull
#define BENCH_EXPECT_FNV1A 0x12d6c3f35080eae5ull
#define BENCH_EXPECT_MEMSUM 0xb41bc84d23baf020ull
#define BENCH_EXPECT_COLLATZ 26143ull

#define BENCH_EXPECT_CALLS 0x8f09b48ull

struct bench_program {
	const char *name;
	const struct ua_insn *insns;
	size_t n_insns;
	uint64_t expected_r0;
};

#define BENCH_PROGRAM(nm, r0) { #nm, prog_##nm, sizeof(prog_##nm) / sizeof(prog_##nm[0]), r0 }

static const struct bench_program bench_programs[] = {
	BENCH_PROGRAM(loop, BENCH_EXPECT_LOOP),
	BENCH_PROGRAM(fnv1a, BENCH_EXPECT_FNV1A),
	BENCH_PROGRAM(memsum, BENCH_EXPECT_MEMSUM),
	BENCH_PROGRAM(collatz, BENCH_EXPECT_COLLATZ),
	BENCH_PROGRAM(calls, BENCH_EXPECT_CALLS),
};

#endif
