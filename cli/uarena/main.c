/* SPDX-License-Identifier: MIT */
/*
 * `uarena`: command-line front end over the library. main() only dispatches:
 * each command is one row of `commands` and one cmd_NAME.c (see cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct ua_cli_cmd commands[] = {
	{ "asm", "[--syntax kernel|conformance] [--from-log] [--hex] [--check] [-o OUT] [FILE|-]",
	  "assemble BPF text into raw instructions", ua_cmd_asm },
	{ "disasm", "[--hex] [--no-opcode] [--syntax kernel|conformance] FILE|-",
	  "disassemble raw BPF instructions",
	  ua_cmd_disasm },
	{ "run", "OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N] [--jit] [--json]\n"
		 "           run --raw FILE.bin|OBJ [--section NAME] [--arena N] [--data FILE] ...",
	  "run a program of a BPF object (BPF_PROG_TEST_RUN)", ua_cmd_run },
	{ "maps", "OBJ [--run PROG] [--json]", "list an object's maps and their contents",
	  ua_cmd_maps },
	{ "demo", "[--bpf-dir DIR]", "a BPF program and this process sharing the arena",
	  ua_cmd_demo },
	{ "diff", "OBJ [--prog NAME | --all] [--data FILE] [--ctx FILE] [--cpu N] [--json]",
	  "run a program in uarena and in the kernel, print the differences", ua_cmd_diff },
	{ "bench", "[--raw] OBJ|FILE.bin [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N] [--json]",
	  "time repeated test runs of each program (ns per run)", ua_cmd_bench },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: uarena COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n           %s\n", commands[i].name, commands[i].args,
			commands[i].summary);
	fprintf(out, "\n`uarena COMMAND --help` describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return UA_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return UA_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "uarena: unknown command '%s' (try uarena --help)\n", argv[1]);
	return UA_EXIT_USAGE;
}
