/* SPDX-License-Identifier: MIT */
/*
 * Reader for ubpf / bpf_conformance ".data" test vectors (test-only code).
 *
 * A file is a sequence of "-- NAME" sections; '#' lines outside asm are
 * comments. Sections:
 *   -- asm                 assembler text (conformance syntax), kept verbatim
 *                          (comments and blank lines too, so the assembler's
 *                          "line L" is file line asm_line + L - 1)
 *   -- raw                 instructions: "0x..."/decimal tokens are one 64-bit
 *                          slot each (little-endian insn image); lines of
 *                          two-digit hex bytes ("07 00 01 00 ...") are bytes,
 *                          8 per slot
 *   -- mem                 hex bytes of the input memory
 *   -- result              expected r0 (hex with 0x, or decimal)
 *   -- error               expected error text (may be empty: "must fail")
 *   -- c                   source the vector came from (kept, unused)
 *   -- no register offset  reason the vector cannot run with shifted
 *                          registers (kept as a flag plus text)
 * An unknown "-- NAME", a repeated section, or a file with neither asm nor raw,
 * or with neither result nor error, is rejected with -EINVAL and
 * "datafile: PATH:LINE: what". When both asm and raw exist (lddw.data), the
 * caller chooses; the reference runner uses raw.
 */
#ifndef UA_TEST_DATAFILE_H
#define UA_TEST_DATAFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ua_datafile {
	char *asm_text;   /* NULL when there is no asm section */
	int asm_line;     /* file line of the asm section's first line */
	uint64_t *raw;    /* NULL when there is no raw section */
	size_t n_raw;
	bool has_raw;
	uint8_t *mem;     /* NULL when there is no mem section (or it is empty) */
	size_t mem_len;
	bool has_result;
	uint64_t result;
	bool has_error;
	char *error;      /* "" for an empty error section; NULL if none */
	bool no_register_offset;
	char *no_register_offset_reason;
	char *c_text;
};

int ua_datafile_parse(const char *path, struct ua_datafile *out, char *err, size_t err_sz);
/* Same, from text already in memory; path only names it in messages. */
int ua_datafile_parse_text(const char *text, const char *path, struct ua_datafile *out,
			   char *err, size_t err_sz);
void ua_datafile_free(struct ua_datafile *df);

#endif
