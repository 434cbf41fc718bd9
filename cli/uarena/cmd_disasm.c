/* SPDX-License-Identifier: MIT */
/*
 * `uarena disasm [--hex] [--no-opcode] FILE|-`
 *
 * Prints a listing ("   0: (b7) r0 = 0", the kernel verifier's text) of a
 * file of instructions. Input formats are rows of `inputs`, tried in order:
 * an ELF object (hook for the loader: replace disasm_elf()), hex text (with
 * --hex: the output of `uarena asm --hex`, or a .data -- raw section), and
 * raw little-endian 8-byte slots.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "disasm.h"
#include "internal.h"

struct disasm_cli {
	const char *path;
	bool hex;
	bool no_opcode;
	bool conformance;
};

static void disasm_usage(FILE *out)
{
	fprintf(out,
		"usage: uarena disasm [--hex] [--no-opcode] [--syntax kernel|conformance] FILE|-\n"
		"  Lists the BPF instructions in FILE (raw 8-byte slots; '-' = stdin).\n"
		"  --hex        input is hex bytes (as written by `uarena asm --hex`)\n"
		"  --no-opcode  omit the \"(xx)\" opcode column\n"
		"  --syntax S   kernel (default): the verifier log's text;\n"
		"               conformance: bare bpf_conformance lines for a .data -- asm\n");
}

static int list_insns(const struct disasm_cli *cli, const struct ua_insn *insns, size_t n)
{
	char err[256] = "";
	UA_OPTS(ua_disasm_opts, opts, .no_opcode = cli->no_opcode, .err_buf = err,
		.err_buf_sz = sizeof(err),
		.syntax = cli->conformance ? UA_DISASM_CONFORMANCE : UA_DISASM_KERNEL);
	int ret = ua_disasm_prog(insns, n, stdout, &opts);

	if (fflush(stdout) && !ret)
		ret = -EIO;
	if (ret) {
		fprintf(stderr, "uarena disasm: %s: %s\n", cli->path, err);
		return UA_EXIT_FAIL;
	}
	return UA_EXIT_OK;
}

static bool is_elf(const struct disasm_cli *cli, const uint8_t *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, "\x7f" "ELF", 4);
}

/* Per-program listing of a BPF object (cmd_disasm_elf.c). */
static int disasm_elf(const struct disasm_cli *cli, uint8_t *buf, size_t len)
{
	return ua_cli_disasm_elf(cli->path, buf, len, cli->no_opcode);
}

static bool is_hex_text(const struct disasm_cli *cli, const uint8_t *buf, size_t len)
{
	return cli->hex;
}

static int disasm_hex(const struct disasm_cli *cli, uint8_t *buf, size_t len)
{
	size_t n_bytes = 0, line = 1;
	char *p = (char *)buf;
	int ret;

	/* decode in place: two hex digits per byte, blanks/newlines/# comments between */
	while (*p) {
		if (*p == '#') {
			p += strcspn(p, "\n");
		} else if (isspace((unsigned char)*p)) {
			line += *p++ == '\n';
		} else if (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) &&
			   (!p[2] || isspace((unsigned char)p[2]))) {
			buf[n_bytes++] = (uint8_t)strtoul((char[3]){ p[0], p[1], 0 }, NULL, 16);
			p += 2;
		} else {
			fprintf(stderr, "uarena disasm: %s: line %zu: expected hex byte at '%.*s'\n",
				cli->path, line, (int)UA_MIN(strcspn(p, " \t\r\n"), 16), p);
			return UA_EXIT_FAIL;
		}
	}
	if (n_bytes % sizeof(struct ua_insn)) {
		fprintf(stderr, "uarena disasm: %s: %zu bytes is not a whole number of 8-byte instructions\n",
			cli->path, n_bytes);
		return UA_EXIT_FAIL;
	}
	ret = list_insns(cli, (const struct ua_insn *)(void *)buf, n_bytes / sizeof(struct ua_insn));
	return ret;
}

static bool is_raw(const struct disasm_cli *cli, const uint8_t *buf, size_t len)
{
	return true;
}

static int disasm_raw(const struct disasm_cli *cli, uint8_t *buf, size_t len)
{
	if (len % sizeof(struct ua_insn)) {
		fprintf(stderr, "uarena disasm: %s: %zu bytes is not a whole number of 8-byte instructions\n",
			cli->path, len);
		return UA_EXIT_FAIL;
	}
	return list_insns(cli, (const struct ua_insn *)(void *)buf, len / sizeof(struct ua_insn));
}

static const struct {
	bool (*detect)(const struct disasm_cli *cli, const uint8_t *buf, size_t len);
	int (*list)(const struct disasm_cli *cli, uint8_t *buf, size_t len);
} inputs[] = {
	{ is_elf, disasm_elf },
	{ is_hex_text, disasm_hex },
	{ is_raw, disasm_raw },
};

int ua_cmd_disasm(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "no-opcode", no_argument, NULL, 'n' },
		{ "syntax", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct disasm_cli cli = { 0 };
	uint8_t *buf;
	size_t len;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'x': cli.hex = true; break;
		case 'n': cli.no_opcode = true; break;
		case 's':
			if (strcmp(optarg, "kernel") && strcmp(optarg, "conformance")) {
				fprintf(stderr, "uarena disasm: unknown syntax '%s' (kernel, conformance)\n",
					optarg);
				return UA_EXIT_USAGE;
			}
			cli.conformance = optarg[0] == 'c';
			break;
		case 'h': disasm_usage(stdout); return UA_EXIT_OK;
		default:
			fprintf(stderr, "uarena disasm: bad option '%s'\n", argv[optind - 1]);
			disasm_usage(stderr);
			return UA_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "uarena disasm: expected one input file (or -)\n");
		disasm_usage(stderr);
		return UA_EXIT_USAGE;
	}
	cli.path = argv[optind];
	if ((ret = ua_cli_read_file(cli.path, &buf, &len))) {
		fprintf(stderr, "uarena disasm: %s: %s\n", cli.path, strerror(-ret));
		return UA_EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		if (inputs[i].detect(&cli, buf, len)) {
			ret = inputs[i].list(&cli, buf, len);
			break;
		}
	}
	free(buf);
	return ret;
}
