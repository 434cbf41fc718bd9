/* SPDX-License-Identifier: MIT */
/*
 * The `uarena` command table and the small helpers commands share.
 *
 * Each command lives in its own cmd_NAME.c and exports one entry point
 * declared here; main.c lists it in its table (one row). An entry point gets
 * argv with argv[0] = the command name and returns the process exit code:
 * 0 success, 1 failure (message on stderr), 2 usage error.
 */
#ifndef UA_CLI_H
#define UA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { UA_EXIT_OK = 0, UA_EXIT_FAIL = 1, UA_EXIT_USAGE = 2 };

struct ua_cli_cmd {
	const char *name;
	const char *args;    /* usage synopsis after the name */
	const char *summary; /* one line for `uarena --help` */
	int (*run)(int argc, char **argv);
};

int ua_cmd_asm(int argc, char **argv);
int ua_cmd_disasm(int argc, char **argv);
int ua_cmd_run(int argc, char **argv);
int ua_cmd_maps(int argc, char **argv);
int ua_cmd_demo(int argc, char **argv);
int ua_cmd_diff(int argc, char **argv);
int ua_cmd_bench(int argc, char **argv);
/* ELF objects for `uarena disasm`: per-program listing (cmd_disasm_elf.c). */
int ua_cli_disasm_elf(const char *path, const uint8_t *buf, size_t len, bool no_opcode);

/* `uarena run --raw`: a flat instruction image, or an ELF's section (NULL =
 * .text), loaded as a raw program; with arena_pages, on a new arena of that
 * many pages (*arena, destroy it after the program). Returns an exit code,
 * messages on stderr. */
struct ua_program;
struct ua_arena;
int ua_cli_load_raw(const char *path, const char *section, uint32_t arena_pages,
		    struct ua_program **out, struct ua_arena **arena);

/* Parses a decimal number in [min, max]: digits only, no sign, nothing after.
 * Returns false (without touching *out) for anything else, overflow included. */
bool ua_cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Reads a whole file ("-" = stdin) into a NUL-terminated malloc'd buffer
 * (*len excludes the NUL). Returns 0 or a negative errno. */
int ua_cli_read_file(const char *path, uint8_t **buf, size_t *len);

#endif
