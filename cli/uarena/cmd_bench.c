/* SPDX-License-Identifier: MIT */
/*
 * `uarena bench OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N] [--jit] [--json]`
 * `uarena bench --raw FILE.bin|OBJ [--section NAME] [--data FILE] [--repeat N] [--json]`
 *
 * Times test runs: each program of the object (or the one named) runs N
 * times (default 10000) through ua_program_test_run(), and the average
 * ns per run is printed with the return value. Programs that cannot run
 * with the given input (a packet program without --data, a syscall program
 * that reads its ctx) are listed with the reason instead. This is the
 * command-line way to compare with other runtimes on the same bytes; the
 * numbers are wall-clock averages on a shared machine, not `make bench`.
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

#define BENCH_DEFAULT_REPEAT 10000

struct bench_cli {
	const char *path, *prog, *data_path, *ctx_path, *section;
	int repeat;
	bool json, raw, jit;
};

static void bench_usage(FILE *out)
{
	fprintf(out,
		"usage: uarena bench OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--repeat N] [--jit]\n"
		"                    [--json]\n"
		"       uarena bench --raw FILE.bin|OBJ [--section NAME] [--data FILE] [--repeat N]\n"
		"                    [--jit] [--json]\n"
		"  Runs each program (or NAME) N times (default %d) and prints ns per run.\n"
		"  --data FILE  packet for xdp/tc/socket programs; r1 buffer for raw/.text ones\n"
		"  --ctx FILE   context bytes (r1) for other programs\n"
		"  --raw        bare instructions, as `uarena run --raw`\n"
		"  --jit        run x86-64 machine code instead of the interpreter\n",
		BENCH_DEFAULT_REPEAT);
}

static int parse_bench_args(int argc, char **argv, struct bench_cli *cli)
{
	static const struct option longopts[] = {
		{ "prog", required_argument, NULL, 'p' },    { "data", required_argument, NULL, 'd' },
		{ "repeat", required_argument, NULL, 'r' },  { "json", no_argument, NULL, 'J' },
		{ "raw", no_argument, NULL, 'R' },           { "section", required_argument, NULL, 's' },
		{ "ctx", required_argument, NULL, 'c' },     { "help", no_argument, NULL, 'h' },
		{ "jit", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long num;
	int c;

	*cli = (struct bench_cli){ .repeat = BENCH_DEFAULT_REPEAT };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': cli->prog = optarg; break;
		case 'd': cli->data_path = optarg; break;
		case 'c': cli->ctx_path = optarg; break;
		case 'J': cli->json = true; break;
		case 'R': cli->raw = true; break;
		case 'j': cli->jit = true; break;
		case 's': cli->section = optarg; break;
		case 'r':
			if (!ua_cli_parse_uint(optarg, 1, INT_MAX, &num)) {
				fprintf(stderr, "uarena bench: --repeat needs a positive count\n");
				return UA_EXIT_USAGE;
			}
			cli->repeat = (int)num;
			break;
		case 'h': bench_usage(stdout); return -1;
		default: bench_usage(stderr); return UA_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 ||
	    (cli->raw ? cli->prog || cli->ctx_path : cli->section != NULL)) {
		bench_usage(stderr);
		return UA_EXIT_USAGE;
	}
	cli->path = argv[optind];
	return 0;
}

/* One program: a row (or JSON element). Returns true when it ran. */
struct bench_input {
	uint8_t *data, *ctx;
	size_t data_len, ctx_len;
};

static bool bench_one(const struct bench_cli *cli, struct ua_program *p,
		      const struct bench_input *in, bool first)
{
	const uint8_t *data = in->data;
	size_t data_len = in->data_len;
	uint8_t *out = calloc(1, data_len + 4096);
	char err[512] = "";
	int e;

	UA_OPTS(ua_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)data_len,
		.data_out = data ? out : NULL, .data_size_out = data ? (uint32_t)data_len + 4096 : 0,
		.ctx_in = in->ctx, .ctx_size_in = (uint32_t)in->ctx_len, .repeat = cli->repeat,
		.flags = cli->jit ? UA_F_TEST_RUN_JIT : 0, .err_buf = err, .err_buf_sz = sizeof(err));
	e = out ? ua_program_test_run(p, &o) : -ENOMEM;
	free(out);
	if (cli->json) {
		printf("%s{\"prog\":\"%s\"", first ? "" : ",", ua_program_name(p));
		if (e)
			printf(",\"error\":%d}", e);
		else
			printf(",\"ns_per_run\":%" PRIu32 ",\"retval\":%" PRIu32 "}", o.duration,
			       o.retval);
	} else if (e) {
		printf("  %-24s %12s  %s\n", ua_program_name(p), "-",
		       err[0] ? err : ua_strerror(e));
	} else {
		printf("  %-24s %12" PRIu32 "  %" PRIu32 "\n", ua_program_name(p), o.duration,
		       o.retval);
	}
	return e == 0;
}

int ua_cmd_bench(int argc, char **argv)
{
	struct bench_cli cli;
	struct ua_object *obj = NULL;
	struct ua_program *raw = NULL;
	struct ua_arena *arena = NULL;
	struct bench_input in = { 0 };
	char err[512] = "";
	int ret = parse_bench_args(argc, argv, &cli), ran = 0, listed = 0;

	if (ret)
		return ret < 0 ? UA_EXIT_OK : ret;
	if ((cli.data_path && (ret = ua_cli_read_file(cli.data_path, &in.data, &in.data_len))) ||
	    (cli.ctx_path && (ret = ua_cli_read_file(cli.ctx_path, &in.ctx, &in.ctx_len)))) {
		fprintf(stderr, "uarena bench: %s: %s\n", in.data || !cli.data_path ? cli.ctx_path
										 : cli.data_path,
			strerror(-ret));
		free(in.data);
		return UA_EXIT_FAIL;
	}
	if (in.data_len > UINT32_MAX / 2 || in.ctx_len > UINT32_MAX) {
		fprintf(stderr, "uarena bench: input too large\n");
		free(in.data);
		free(in.ctx);
		return UA_EXIT_FAIL;
	}
	if (cli.raw) {
		ret = ua_cli_load_raw(cli.path, cli.section, 0, &raw, &arena);
	} else {
		UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err),
			.only_prog = cli.prog);
		ret = ua_object_open(cli.path, &oo, &obj);
		if (ret)
			fprintf(stderr, "uarena bench: %s: %s\n", cli.path,
				err[0] ? err : ua_strerror(ret));
		ret = ret ? UA_EXIT_FAIL : 0;
	}
	if (ret) {
		free(in.data);
		free(in.ctx);
		return ret;
	}
	if (cli.json)
		printf("{\"repeat\":%d,\"engine\":\"%s\",\"progs\":[", cli.repeat,
		       cli.jit ? "jit" : "interpreter");
	else
		printf("%s: %d run%s per program (%s)\n  %-24s %12s  %s\n", cli.path,
		       cli.repeat, cli.repeat == 1 ? "" : "s", cli.jit ? "JIT" : "interpreter",
		       "prog", "ns/run", "retval");
	for (struct ua_program *p = raw ? raw : ua_object_next_program(obj, NULL); p;
	     p = raw ? NULL : ua_object_next_program(obj, p)) {
		if (cli.prog && strcmp(ua_program_name(p), cli.prog))
			continue;
		if (!ua_program_prepared(p))
			continue;
		ran += bench_one(&cli, p, &in, listed == 0);
		listed++;
	}
	if (cli.json)
		printf("]}\n");
	if (!listed)
		fprintf(stderr, "uarena bench: %s: no program %s\n", cli.path,
			cli.prog ? cli.prog : "to run");
	ua_program_free_raw(raw);
	ua_arena_destroy(arena);
	ua_object_close(obj);
	free(in.data);
	free(in.ctx);
	return listed && ran ? UA_EXIT_OK : UA_EXIT_FAIL;
}
