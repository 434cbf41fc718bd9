/* SPDX-License-Identifier: MIT */
/*
 * `uarena diff OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--cpu N]`
 *
 * Runs one program of a BPF object in uarena and in the running kernel
 * (raw bpf(), needs root) with the same input, and prints every difference:
 * return value, output packet, map contents, arena pages. Exit status 0 when
 * both agree, 1 when they differ or a side could not run the program.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "cli.h"

static void diff_usage(FILE *out)
{
	fprintf(out,
		"usage: uarena diff OBJ [--prog NAME] [--data FILE] [--ctx FILE] [--cpu N]\n"
		"  Runs a program in uarena and in the kernel and compares the results.\n"
		"  --data FILE  packet input for xdp/tc/socket programs\n"
		"  --ctx FILE   context bytes (r1) for other programs\n"
		"  --cpu N      CPU id both runs see (default 0)\n");
}

int ua_cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prog", required_argument, NULL, 'p' }, { "data", required_argument, NULL, 'd' },
		{ "ctx", required_argument, NULL, 'c' },  { "cpu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	const char *prog = NULL, *data_path = NULL, *ctx_path = NULL;
	uint8_t *data = NULL, *ctx = NULL;
	size_t data_len = 0, ctx_len = 0;
	unsigned long cpu = 0;
	char err[4096] = "", *end;
	int c, ret = UA_EXIT_FAIL, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': prog = optarg; break;
		case 'd': data_path = optarg; break;
		case 'c': ctx_path = optarg; break;
		case 'C':
			errno = 0;
			cpu = strtoul(optarg, &end, 10);
			if (errno || *end || cpu > 4095) {
				fprintf(stderr, "uarena diff: --cpu needs a CPU number\n");
				return UA_EXIT_USAGE;
			}
			break;
		case 'h': diff_usage(stdout); return UA_EXIT_OK;
		default: diff_usage(stderr); return UA_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		diff_usage(stderr);
		return UA_EXIT_USAGE;
	}
	if (data_path && (n = ua_cli_read_file(data_path, &data, &data_len))) {
		fprintf(stderr, "uarena diff: %s: %s\n", data_path, strerror(-n));
		goto out;
	}
	if (ctx_path && (n = ua_cli_read_file(ctx_path, &ctx, &ctx_len))) {
		fprintf(stderr, "uarena diff: %s: %s\n", ctx_path, strerror(-n));
		goto out;
	}
	if (data_len > UINT32_MAX / 2 || ctx_len > UINT32_MAX) {
		fprintf(stderr, "uarena diff: input too large\n");
		goto out;
	}
	UA_OPTS(ua_kernel_diff_opts, o, .prog = prog, .data_in = data,
		.data_size_in = (uint32_t)data_len, .ctx_in = ctx, .ctx_size_in = (uint32_t)ctx_len,
		.cpu = (uint32_t)cpu, .report = stdout, .err_buf = err, .err_buf_sz = sizeof(err));
	n = ua_kernel_diff(argv[optind], &o);
	if (n < 0) {
		fprintf(stderr, "uarena diff: %s: %s\n", argv[optind], err[0] ? err : ua_strerror(n));
	} else if (n > 0) {
		printf("%d difference%s between uarena and the kernel\n", n, n == 1 ? "" : "s");
	} else {
		printf("uarena and the kernel agree\n");
		ret = UA_EXIT_OK;
	}
out:
	free(data);
	free(ctx);
	return ret;
}
