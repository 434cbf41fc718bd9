/* SPDX-License-Identifier: MIT */
/*
 * `uarena diff OBJ [--prog NAME | --all] [--data FILE] [--ctx FILE] [--cpu N]
 *               [--engine interp|jit|both] [--json]`
 *
 * Runs one program of a BPF object in uarena and in the running kernel
 * (raw bpf(), needs root) with the same input, and prints every difference:
 * return value, output packet, map contents, arena pages, one per line,
 * starting with the uarena engine it concerns ("interp: " or "jit: "; each
 * engine runs on a fresh object against a fresh kernel twin).
 * Exit status: 0 both agree, 1 they differ, 2 error (usage, no bpf() rights
 * or arenas, a side could not load or run the program: the reason, with the
 * verifier's log for a kernel rejection, goes to stderr, or into "error"
 * with --json). --json prints one object on stdout:
 *   {"object":..,"prog":..,"status":"agree"|"differ"|"error",
 *    "differences":["ENGINE: line",..],"error":null|"message",
 *    "engine":"interp"|"jit"|"both"}
 * --all diffs every program (as libbpf finds them), each in a fresh object
 * and kernel twin: text output puts "== NAME" before each, --json prints one
 * object per line; the exit status is the worst of them.
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
		"usage: uarena diff OBJ [--prog NAME | --all] [--data FILE] [--ctx FILE] [--cpu N]\n"
		"                   [--engine interp|jit|both] [--json]\n"
		"  Runs a program in uarena and in the kernel and compares the results.\n"
		"  --all        every program of OBJ, each on a fresh object (worst exit status)\n"
		"  --data FILE  packet input for xdp/tc/socket programs (default: a 64-byte\n"
		"               Ethernet/IPv4/UDP packet)\n"
		"  --ctx FILE   context bytes (r1) for other programs (default: zeroes, as\n"
		"               many as a syscall program reads)\n"
		"  --cpu N      CPU id both runs see (default 0)\n"
		"  --engine E   uarena engine(s) compared with the kernel: interp, jit or both\n"
		"               (default both; report lines name the engine)\n"
		"  --json       one JSON object (per line with --all): status, differences, error\n"
		"  Exit status: 0 agree, 1 differ, 2 error.\n");
}

static void json_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The report lines as a JSON array (each line without its newline). */
static void json_lines(const char *report)
{
	const char *p = report, *nl;
	bool first = true;

	putchar('[');
	while (p && *p) {
		nl = strchr(p, '\n');
		if (!first)
			putchar(',');
		first = false;
		json_string(p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl ? nl + 1 : NULL;
	}
	putchar(']');
}

static const char *engine_name(uint32_t engines)
{
	return engines == UA_KERNEL_DIFF_INTERP ? "interp" : engines == UA_KERNEL_DIFF_JIT ? "jit"
											 : "both";
}

static void json_report(const char *obj, const char *prog, uint32_t engines, int n,
			const char *report, const char *err)
{
	printf("{\"object\":");
	json_string(obj, strlen(obj));
	printf(",\"prog\":");
	if (prog)
		json_string(prog, strlen(prog));
	else
		printf("null");
	printf(",\"status\":\"%s\",\"differences\":", n < 0 ? "error" : n ? "differ" : "agree");
	json_lines(n < 0 ? NULL : report);
	printf(",\"error\":");
	if (n < 0)
		json_string(err, strlen(err));
	else
		printf("null");
	printf(",\"engine\":\"%s\"}\n", engine_name(engines));
}

struct diff_input {
	const char *obj;
	uint8_t *data, *ctx;
	size_t data_len, ctx_len;
	uint32_t cpu;
	uint32_t engines; /* UA_KERNEL_DIFF_* */
	bool json, all;
};

/* One program (NULL = the object's first): prints its result; returns differences or -errno. */
static int diff_one(const struct diff_input *in, const char *prog)
{
	char err[8192] = "", *report = NULL;
	size_t report_len = 0;
	/* The report is buffered so that a late error does not leave half of it printed. */
	FILE *report_f = open_memstream(&report, &report_len);
	int n;

	if (!report_f) {
		fprintf(stderr, "uarena diff: no memory\n");
		return -ENOMEM;
	}
	UA_OPTS(ua_kernel_diff_opts, o, .prog = prog, .data_in = in->data,
		.data_size_in = (uint32_t)in->data_len, .ctx_in = in->ctx,
		.ctx_size_in = (uint32_t)in->ctx_len, .cpu = in->cpu, .engines = in->engines,
		.report = report_f,
		.err_buf = err, .err_buf_sz = sizeof(err));
	n = ua_kernel_diff(in->obj, &o);
	fclose(report_f);
	if (n < 0 && !err[0])
		snprintf(err, sizeof(err), "%s", ua_strerror(n));
	if (in->json) {
		json_report(in->obj, prog, in->engines, n, report, err);
	} else {
		if (in->all)
			printf("== %s\n", prog);
		fflush(stdout);
		if (n < 0) {
			fprintf(stderr, "uarena diff: %s: %s\n", in->obj, err);
		} else {
			fputs(report ? report : "", stdout);
			if (n > 0)
				printf("%d difference%s between uarena and the kernel\n", n,
				       n == 1 ? "" : "s");
			else
				printf("uarena and the kernel agree\n");
		}
		fflush(stdout);
	}
	free(report);
	return n;
}

/* --all: every program; the worst outcome decides the exit status. */
static int diff_all(const struct diff_input *in)
{
	char err[512] = "", **names = NULL;
	int n = ua_kernel_list_programs(in->obj, &names, err, sizeof(err)), worst = UA_EXIT_OK;

	if (n < 0) {
		if (in->json)
			json_report(in->obj, NULL, in->engines, n, NULL, err);
		else
			fprintf(stderr, "uarena diff: %s: %s\n", in->obj, err[0] ? err : ua_strerror(n));
		return UA_EXIT_USAGE;
	}
	if (n == 0) {
		if (in->json)
			json_report(in->obj, NULL, in->engines, -ENOENT, NULL,
				    "no programs in the object");
		else
			fprintf(stderr, "uarena diff: %s: no programs in the object\n", in->obj);
		free(names);
		return UA_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		int r = diff_one(in, names[i]);

		if (r < 0)
			worst = UA_EXIT_USAGE;
		else if (r > 0 && worst == UA_EXIT_OK)
			worst = UA_EXIT_FAIL;
	}
	free(names);
	return worst;
}

int ua_cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prog", required_argument, NULL, 'p' }, { "data", required_argument, NULL, 'd' },
		{ "ctx", required_argument, NULL, 'c' },  { "cpu", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },       { "all", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },       { "engine", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = NULL, *data_path = NULL, *ctx_path = NULL;
	struct diff_input in = { 0 };
	unsigned long cpu = 0;
	int c, ret = UA_EXIT_USAGE, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': prog = optarg; break;
		case 'd': data_path = optarg; break;
		case 'c': ctx_path = optarg; break;
		case 'C':
			if (!ua_cli_parse_uint(optarg, 0, 4095, &cpu)) {
				fprintf(stderr, "uarena diff: --cpu needs a CPU number\n");
				return UA_EXIT_USAGE;
			}
			break;
		case 'E':
			if (!strcmp(optarg, "interp")) {
				in.engines = UA_KERNEL_DIFF_INTERP;
			} else if (!strcmp(optarg, "jit")) {
				in.engines = UA_KERNEL_DIFF_JIT;
			} else if (!strcmp(optarg, "both")) {
				in.engines = UA_KERNEL_DIFF_INTERP | UA_KERNEL_DIFF_JIT;
			} else {
				fprintf(stderr, "uarena diff: --engine needs interp, jit or both\n");
				return UA_EXIT_USAGE;
			}
			break;
		case 'J': in.json = true; break;
		case 'A': in.all = true; break;
		case 'h': diff_usage(stdout); return UA_EXIT_OK;
		default: diff_usage(stderr); return UA_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (in.all && prog)) {
		diff_usage(stderr);
		return UA_EXIT_USAGE;
	}
	in.obj = argv[optind];
	if (!in.engines)
		in.engines = UA_KERNEL_DIFF_INTERP | UA_KERNEL_DIFF_JIT;
	in.cpu = (uint32_t)cpu;
	if (data_path && (n = ua_cli_read_file(data_path, &in.data, &in.data_len))) {
		fprintf(stderr, "uarena diff: %s: %s\n", data_path, strerror(-n));
		goto out;
	}
	if (ctx_path && (n = ua_cli_read_file(ctx_path, &in.ctx, &in.ctx_len))) {
		fprintf(stderr, "uarena diff: %s: %s\n", ctx_path, strerror(-n));
		goto out;
	}
	if (in.data_len > UINT32_MAX / 2 || in.ctx_len > UINT32_MAX) {
		fprintf(stderr, "uarena diff: input too large\n");
		goto out;
	}
	if (in.all) {
		ret = diff_all(&in);
	} else {
		n = diff_one(&in, prog);
		ret = n < 0 ? UA_EXIT_USAGE : n > 0 ? UA_EXIT_FAIL : UA_EXIT_OK;
	}
out:
	free(in.data);
	free(in.ctx);
	return ret;
}
