/* SPDX-License-Identifier: MIT */
/*
 * `uarena run OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N]
 *              [--interp|--jit] [--json]`
 * `uarena run --raw FILE.bin|OBJ [--section NAME] [--data FILE] [--repeat N] [--json]`
 *
 * BPF_PROG_TEST_RUN from the command line, over the public API only: opens
 * the object (preparing just the chosen program, so an unsupported sibling
 * does not get in the way), feeds the packet/context files, and prints the
 * return value, the average duration and the output packet. bpf_printk
 * lines go to stderr. --json prints one object for scripts:
 *   {"prog":"x","retval":0,"duration_ns":12,"repeat":1,"data_out":"0a0b.."}
 * --raw runs bare instructions instead (cmd_run_raw.c): r1 = the --data
 * buffer, r2 = its length; the buffer as the program left it is printed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "cli.h"

struct run_cli {
	const char *obj_path, *prog, *data_path, *ctx_path, *section;
	int repeat;
	uint32_t arena_pages;
	bool json, jit, raw;
};

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: uarena run OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N]\n"
		"                  [--interp|--jit] [--json]\n"
		"       uarena run --raw FILE.bin|OBJ [--section NAME] [--arena PAGES] [--data FILE]\n"
		"                  [--repeat N] [--json]\n"
		"  Runs one program of a BPF object (default: the first) once or N times.\n"
		"  --data FILE  packet input for xdp/tc/socket programs (output is printed)\n"
		"  --ctx FILE   context bytes (r1) for other programs\n"
		"  --raw        bare instructions (a flat .bin, or an ELF section as is):\n"
		"               r1 = the --data buffer, r2 = its length (ubpf/rbpf convention)\n"
		"  --section S  with --raw on an ELF object: the section to run (default .text)\n"
		"  --arena N    with --raw: give the program an arena of N pages\n"
		"  --repeat N   run N times; duration is the average per run\n"
		"  --jit        run on the x86-64 JIT (programs it cannot run are interpreted)\n"
		"  --json       machine-readable output\n");
}

static int parse_run_args(int argc, char **argv, struct run_cli *cli)
{
	static const struct option longopts[] = {
		{ "prog", required_argument, NULL, 'p' },   { "data", required_argument, NULL, 'd' },
		{ "ctx", required_argument, NULL, 'c' },    { "repeat", required_argument, NULL, 'r' },
		{ "interp", no_argument, NULL, 'i' },       { "jit", no_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },         { "help", no_argument, NULL, 'h' },
		{ "raw", no_argument, NULL, 'R' },          { "section", required_argument, NULL, 's' },
		{ "arena", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long num;
	int c;

	*cli = (struct run_cli){ .repeat = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': cli->prog = optarg; break;
		case 'd': cli->data_path = optarg; break;
		case 'c': cli->ctx_path = optarg; break;
		case 'i': cli->jit = false; break;
		case 'j': cli->jit = true; break;
		case 'J': cli->json = true; break;
		case 'R': cli->raw = true; break;
		case 's': cli->section = optarg; break;
		case 'a':
			if (!ua_cli_parse_uint(optarg, 1, UINT32_MAX, &num)) {
				fprintf(stderr, "uarena run: --arena needs a positive page count\n");
				return UA_EXIT_USAGE;
			}
			cli->arena_pages = (uint32_t)num;
			break;
		case 'r':
			if (!ua_cli_parse_uint(optarg, 1, INT_MAX, &num)) {
				fprintf(stderr, "uarena run: --repeat needs a positive count\n");
				return UA_EXIT_USAGE;
			}
			cli->repeat = (int)num;
			break;
		case 'h': run_usage(stdout); return -1;
		default: run_usage(stderr); return UA_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		run_usage(stderr);
		return UA_EXIT_USAGE;
	}
	cli->obj_path = argv[optind];
	if (cli->raw ? (cli->prog || cli->ctx_path) : (cli->section || cli->arena_pages)) {
		fprintf(stderr, "uarena run: %s\n", cli->raw ? "--prog and --ctx do not apply to --raw"
							    : "--section and --arena need --raw");
		return UA_EXIT_USAGE;
	}
	return 0;
}

static void print_hex(FILE *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
}

static void print_dump(const uint8_t *p, size_t n)
{
	for (size_t off = 0; off < n; off += 16) {
		printf("  %04zx:", off);
		for (size_t i = off; i < off + 16 && i < n; i++)
			printf(" %02x", p[i]);
		printf("\n");
	}
}

static int report(const struct run_cli *cli, const char *name, const struct ua_test_run_opts *o,
		  const uint8_t *data_out)
{
	if (cli->json) {
		printf("{\"prog\":\"%s\",\"retval\":%" PRIu32 ",\"retval_signed\":%" PRId32
		       ",\"duration_ns\":%" PRIu32 ",\"repeat\":%d",
		       name, o->retval, (int32_t)o->retval, o->duration, cli->repeat);
		if (cli->data_path) {
			printf(",\"data_out\":\"");
			print_hex(stdout, data_out, o->data_size_out);
			printf("\"");
		}
		printf("}\n");
		return UA_EXIT_OK;
	}
	printf("prog %s: retval %" PRIu32 " (%" PRId32 ", 0x%" PRIx32 ")\n", name, o->retval,
	       (int32_t)o->retval, o->retval);
	printf("duration: %" PRIu32 " ns per run (%d run%s, %s)\n", o->duration,
	       cli->repeat, cli->repeat == 1 ? "" : "s", cli->jit ? "jit" : "interpreter");
	if (cli->data_path) {
		printf("data_out: %" PRIu32 " bytes\n", o->data_size_out);
		print_dump(data_out, o->data_size_out);
	}
	return UA_EXIT_OK;
}

static int run_one(const struct run_cli *cli, struct ua_program *p)
{
	uint8_t *data = NULL, *ctx = NULL, *out = NULL;
	size_t data_len = 0, ctx_len = 0, out_cap = 0;
	char err[512] = "";
	int ret = UA_EXIT_FAIL, e;

	if (!p) {
		fprintf(stderr, "uarena run: %s: no program %s\n", cli->obj_path,
			cli->prog ? cli->prog : "in the object");
		return UA_EXIT_FAIL;
	}
	if (cli->data_path && (e = ua_cli_read_file(cli->data_path, &data, &data_len))) {
		fprintf(stderr, "uarena run: %s: %s\n", cli->data_path, strerror(-e));
		goto out;
	}
	if (cli->ctx_path && (e = ua_cli_read_file(cli->ctx_path, &ctx, &ctx_len))) {
		fprintf(stderr, "uarena run: %s: %s\n", cli->ctx_path, strerror(-e));
		goto out;
	}
	if (data_len > UINT32_MAX / 2 || ctx_len > UINT32_MAX) {
		fprintf(stderr, "uarena run: input too large\n");
		goto out;
	}
	out_cap = data_len + 4096; /* room for programs that grow the packet */
	out = calloc(1, out_cap);
	if (!out)
		goto out;
	UA_OPTS(ua_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)data_len,
		.data_out = data ? out : NULL, .data_size_out = data ? (uint32_t)out_cap : 0,
		.ctx_in = ctx, .ctx_size_in = (uint32_t)ctx_len, .repeat = cli->repeat,
		.flags = cli->jit ? UA_F_TEST_RUN_JIT : 0,
		.err_buf = err, .err_buf_sz = sizeof(err));
	e = ua_program_test_run(p, &o);
	if (e) {
		fprintf(stderr, "uarena run: %s: %s (%s)\n", ua_program_name(p),
			err[0] ? err : "run failed", ua_strerror(e));
		goto out;
	}
	ret = report(cli, ua_program_name(p), &o, out);
out:
	free(data);
	free(ctx);
	free(out);
	return ret;
}

int ua_cmd_run(int argc, char **argv)
{
	struct ua_object *obj = NULL;
	struct run_cli cli;
	char err[512] = "";
	int ret = parse_run_args(argc, argv, &cli);

	if (ret)
		return ret < 0 ? UA_EXIT_OK : ret;
	if (cli.raw) {
		struct ua_program *raw = NULL;
		struct ua_arena *arena = NULL;

		ret = ua_cli_load_raw(cli.obj_path, cli.section, cli.arena_pages, &raw, &arena);
		if (ret)
			return ret;
		ret = run_one(&cli, raw);
		ua_program_free_raw(raw);
		ua_arena_destroy(arena);
		return ret;
	}
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = cli.prog);
	ret = ua_object_open(cli.obj_path, &oo, &obj);
	if (ret) {
		fprintf(stderr, "uarena run: %s: %s\n", cli.obj_path, err[0] ? err : ua_strerror(ret));
		return UA_EXIT_FAIL;
	}
	ret = run_one(&cli, cli.prog ? ua_object_find_program(obj, cli.prog)
				     : ua_object_next_program(obj, NULL));
	ua_object_close(obj);
	return ret;
}
