/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the assembler and disassembler (libFuzzer entry point; the
 * test suite and fuzz/replay.c call it without libFuzzer).
 *
 * Input byte 0 picks the reading; the rest is either text for the assembler
 * (kernel or conformance syntax, or a verifier log) or raw instruction slots. Beyond "no crash,
 * no leak, no hang" (the sanitizers' part), it checks the round-trip
 * property on everything that comes out: each slot that disassembles must
 * re-assemble from its text to the identical bits. A violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "disasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct ua_insn *insns, size_t n, enum ua_disasm_syntax syntax)
{
	struct ua_disasm_opts opts = { .sz = sizeof(opts), .syntax = syntax };
	enum ua_asm_syntax asm_syntax =
		syntax == UA_DISASM_KERNEL ? UA_ASM_KERNEL : UA_ASM_CONFORMANCE;

	for (size_t i = 0; i < n;) {
		struct ua_insn *again = NULL;
		char text[192], err[256] = "";
		size_t got = 0;
		int used = ua_disasm_insn_opts(&insns[i], n - i, text, sizeof(text), &opts);

		if (used < 0) {
			i++;
			continue;
		}
		if (ua_asm_parse(text, asm_syntax, &again, &got, err, sizeof(err)) ||
		    got != (size_t)used || memcmp(again, &insns[i], got * sizeof(*again))) {
			fprintf(stderr, "fuzz_asm: slot %zu '%s' does not re-assemble: %s\n", i, text,
				err);
			abort();
		}
		free(again);
		i += (size_t)used;
	}
}

static void check_both(const struct ua_insn *insns, size_t n)
{
	check_round_trip(insns, n, UA_DISASM_KERNEL);
	check_round_trip(insns, n, UA_DISASM_CONFORMANCE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_insn *insns = NULL;
	enum ua_asm_syntax syntax;
	char err[256], *text;
	size_t n = 0;
	int ret;

	if (size < 1)
		return 0;
	if (data[0] >= 0xf0) { /* raw slots */
		struct ua_insn *raw = malloc((size - 1) / sizeof(*raw) * sizeof(*raw) + 1);

		if (!raw)
			return 0;
		memcpy(raw, data + 1, (size - 1) / sizeof(*raw) * sizeof(*raw));
		check_both(raw, (size - 1) / sizeof(*raw));
		free(raw);
		return 0;
	}
	syntax = data[0] % 4 == 0 ? UA_ASM_KERNEL : data[0] % 4 == 1 ? UA_ASM_CONFORMANCE
								      : UA_ASM_AUTO;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	ret = data[0] % 4 == 3 ? ua_asm_from_log(text, &insns, &n, err, sizeof(err))
			       : ua_asm_parse(text, syntax, &insns, &n, err, sizeof(err));
	if (!ret)
		check_both(insns, n);
	else if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "asm: ", 5))
		abort(); /* every failure explains itself */
	free(insns);
	free(text);
	return 0;
}
