/* SPDX-License-Identifier: MIT */
/*
 * `uarena asm [--syntax kernel|conformance|auto] [--hex] [-o OUT] [FILE|-]`
 *
 * Assembles text (kernel verifier-log syntax or the bpf_conformance syntax,
 * detected when not given) and writes the instruction image: raw little-endian
 * 8-byte slots, or with --hex one slot per line as hex bytes ("b7 00 00 00 01
 * 00 00 00"), the format of a .data file's -- raw section and of
 * `uarena disasm --hex` input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "cli.h"
#include "isa.h"

static void asm_usage(FILE *out)
{
	fprintf(out,
		"usage: uarena asm [--syntax kernel|conformance|auto] [--from-log] [--hex] [--check]\n"
		"                  [-o OUT] [FILE|-]\n"
		"  Assembles BPF text from FILE (default: stdin) into instructions.\n"
		"  --syntax S   kernel: verifier-log text (r0 = 1, if r1 > 0x5 goto pc+3)\n"
		"               conformance: bpf_conformance text (mov %%r0, 1)\n"
		"               auto (default): conformance when the text uses %%rN\n"
		"  --hex        write hex bytes, one instruction per line\n"
		"  --from-log   FILE is a verifier log (or a disasm listing): rebuild the\n"
		"               program from its \"N: (xx) insn\" lines\n"
		"  --check      also apply the load-time checks (registers, reserved fields,\n"
		"               jump targets, ld_imm64 pairs) and fail on a violation\n"
		"  -o OUT       write to OUT instead of stdout\n");
}

static int write_image(FILE *out, const struct ua_insn *insns, size_t n, bool hex)
{
	if (!hex)
		return fwrite(insns, sizeof(*insns), n, out) == n ? 0 : -EIO;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = (const uint8_t *)&insns[i];

		fprintf(out, "%02x %02x %02x %02x %02x %02x %02x %02x\n", b[0], b[1], b[2], b[3],
			b[4], b[5], b[6], b[7]);
	}
	return ferror(out) ? -EIO : 0;
}

static bool parse_syntax(const char *name, enum ua_asm_syntax *syntax)
{
	if (!strcmp(name, "kernel"))
		*syntax = UA_ASM_KERNEL;
	else if (!strcmp(name, "conformance"))
		*syntax = UA_ASM_CONFORMANCE;
	else if (!strcmp(name, "auto"))
		*syntax = UA_ASM_AUTO;
	else
		return false;
	return true;
}

int ua_cmd_asm(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "syntax", required_argument, NULL, 's' },
		{ "hex", no_argument, NULL, 'x' },
		{ "check", no_argument, NULL, 'c' },
		{ "from-log", no_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum ua_asm_syntax syntax = UA_ASM_AUTO;
	const char *in_path = "-", *out_path = NULL;
	struct ua_insn *insns = NULL;
	uint8_t *text = NULL;
	char err[512];
	bool hex = false, check = false, from_log = false;
	size_t len, n;
	FILE *out;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!parse_syntax(optarg, &syntax)) {
				fprintf(stderr, "uarena asm: unknown syntax '%s' (kernel, conformance, auto)\n",
					optarg);
				return UA_EXIT_USAGE;
			}
			break;
		case 'x': hex = true; break;
		case 'c': check = true; break;
		case 'l': from_log = true; break;
		case 'o': out_path = optarg; break;
		case 'h': asm_usage(stdout); return UA_EXIT_OK;
		default:
			fprintf(stderr, "uarena asm: bad option '%s'\n", argv[optind - 1]);
			asm_usage(stderr);
			return UA_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "uarena asm: one input file at most\n");
		return UA_EXIT_USAGE;
	}
	if (optind < argc)
		in_path = argv[optind];

	if ((ret = ua_cli_read_file(in_path, &text, &len))) {
		fprintf(stderr, "uarena asm: %s: %s\n", in_path, strerror(-ret));
		return UA_EXIT_FAIL;
	}
	if (strlen((char *)text) != len) {
		fprintf(stderr, "uarena asm: %s: binary input (NUL byte); expected text\n", in_path);
		free(text);
		return UA_EXIT_FAIL;
	}
	if (from_log)
		ret = ua_asm_from_log((char *)text, &insns, &n, err, sizeof(err));
	else
		ret = ua_asm_parse((char *)text, syntax, &insns, &n, err, sizeof(err));
	free(text);
	if (ret) {
		fprintf(stderr, "uarena asm: %s: %s\n", in_path, err);
		return UA_EXIT_FAIL;
	}
	if (check && (ret = ua_isa_validate(insns, n, UA_ISA_HAS_ARENA, err, sizeof(err)))) {
		fprintf(stderr, "uarena asm: %s: %s\n", in_path, err);
		free(insns);
		return UA_EXIT_FAIL;
	}
	out = out_path ? fopen(out_path, hex ? "w" : "wb") : stdout;
	if (!out) {
		fprintf(stderr, "uarena asm: %s: %s\n", out_path, strerror(errno));
		free(insns);
		return UA_EXIT_FAIL;
	}
	ret = write_image(out, insns, n, hex);
	if (out_path && fclose(out))
		ret = -EIO;
	else if (!out_path && fflush(out))
		ret = -EIO;
	free(insns);
	if (ret) {
		fprintf(stderr, "uarena asm: %s: write failed\n", out_path ? out_path : "stdout");
		return UA_EXIT_FAIL;
	}
	return UA_EXIT_OK;
}
