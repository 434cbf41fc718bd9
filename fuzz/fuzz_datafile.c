/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the .data reader (tests/datafile.c, compiled in here since
 * it is test-only code) and, through it, the assembler on whatever -- asm
 * text a file holds. A parse either succeeds with consistent fields or fails
 * with a "datafile: " message; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/datafile.c"
#include "asm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_datafile df;
	struct ua_insn *insns = NULL;
	char err[512] = "", *text = malloc(size + 1);
	size_t n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ua_datafile_parse_text(text, "fuzz.data", &df, err, sizeof(err))) {
		if (strncmp(err, "datafile: ", 10))
			abort();
	} else {
		if ((!df.asm_text && !df.has_raw) || (!df.has_result && !df.has_error) ||
		    (df.n_raw && !df.raw) || (df.mem_len && !df.mem))
			abort();
		if (df.asm_text && !ua_asm_parse(df.asm_text, UA_ASM_AUTO, &insns, &n, err,
						 sizeof(err)))
			free(insns);
		ua_datafile_free(&df);
	}
	free(text);
	return 0;
}
