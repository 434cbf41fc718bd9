/* SPDX-License-Identifier: MIT */
/*
 * `uarena-conformance`: a bpf_conformance plugin. Protocol (the suite's
 * runner starts the plugin once per test vector):
 *   argv[1] (optional)  the test memory as space-separated hex bytes
 *   --program HEX       the program as hex bytes (else one line on stdin)
 *   --jit | --interpret execution engine: the x86-64 JIT (docs/jit.md) or
 *                       the interpreter (default)
 * On success prints r0 as hex ("%lx") and exits 0; on failure prints the
 * error text on stdout (the runner compares it with the vector's "-- error")
 * and exits 1.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* Parses hex bytes separated by whitespace; returns the count or -1. */
static long parse_hex(const char *text, uint8_t **out)
{
	size_t cap = strlen(text) / 2 + 1, n = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -1;
	while (*text) {
		int hi, lo;

		if (isspace((unsigned char)*text)) {
			text++;
			continue;
		}
		if (!isxdigit((unsigned char)text[0]) || !isxdigit((unsigned char)text[1]))
			goto fail;
		hi = isdigit((unsigned char)text[0]) ? text[0] - '0' : tolower(text[0]) - 'a' + 10;
		lo = isdigit((unsigned char)text[1]) ? text[1] - '0' : tolower(text[1]) - 'a' + 10;
		buf[n++] = (uint8_t)(hi << 4 | lo);
		text += 2;
		if (*text && !isspace((unsigned char)*text))
			goto fail;
	}
	*out = buf;
	return (long)n;
fail:
	free(buf);
	return -1;
}

static char *read_stdin(void)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t got;

	while (buf && (got = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += got;
		if (cap - len - 1 == 0) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	const char *mem_text = NULL, *prog_text = NULL;
	char *stdin_text = NULL, err[256] = "";
	uint8_t *mem = NULL, *code = NULL;
	long mem_len = 0, code_len;
	uint64_t r0 = 0;
	enum ua_interp_dispatch how = UA_DISPATCH_THREADED;
	int ret = -EINVAL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--program") && i + 1 < argc)
			prog_text = argv[++i];
		else if (!strcmp(argv[i], "--jit"))
			how = UA_DISPATCH_JIT;
		else if (!strcmp(argv[i], "--interpret"))
			how = UA_DISPATCH_THREADED;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			continue; /* unknown plugin options are ignored, like other plugins */
		else if (!mem_text)
			mem_text = argv[i];
	}
	if (mem_text && (mem_len = parse_hex(mem_text, &mem)) < 0) {
		snprintf(err, sizeof(err), "invalid memory hex");
		goto out;
	}
	if (!prog_text)
		prog_text = stdin_text = read_stdin();
	if (!prog_text || (code_len = parse_hex(prog_text, &code)) < 0) {
		snprintf(err, sizeof(err), "invalid program hex");
		goto out;
	}
	if (code_len % (long)sizeof(struct ua_insn)) {
		snprintf(err, sizeof(err), "program length %ld is not a multiple of 8", code_len);
		goto out;
	}
	ret = ua_conformance_run((const struct ua_insn *)code, (size_t)code_len / 8, mem,
				 (size_t)mem_len, how, true, &r0, err, sizeof(err));
out:
	if (ret)
		printf("%s\n", err);
	else
		printf("%llx\n", (unsigned long long)r0);
	free(mem);
	free(code);
	free(stdin_text);
	return ret ? 1 : 0;
}
