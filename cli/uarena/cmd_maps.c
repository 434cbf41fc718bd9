/* SPDX-License-Identifier: MIT */
/*
 * `uarena maps OBJ [--run PROG] [--json]`
 *
 * Lists an object's maps — type, key/value sizes, max_entries, flags — and
 * their contents, optionally after running one program first (so a program
 * that fills a map can be inspected). Contents go through the public user
 * path (ua_map_get_next_key / ua_map_lookup_elem, like bpftool map dump),
 * capped at MAX_ENTRIES entries and MAX_BYTES bytes per value. Arenas are
 * described (user address, size, fault path) but not dumped: reading an
 * arena page from the host would allocate it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uarena.h>

#include "cli.h"

#define MAX_ENTRIES 64
#define MAX_BYTES 256

struct maps_cli {
	const char *obj_path, *run_prog;
	bool json;
};

static const char *map_type_name(uint32_t t)
{
	static const char *const names[] = {
		[1] = "hash",       [2] = "array",     [5] = "percpu_hash", [6] = "percpu_array",
		[9] = "lru_hash",   [22] = "queue",    [23] = "stack",      [27] = "ringbuf",
		[30] = "bloom_filter", [33] = "arena",
	};

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "unknown";
}

static void hex(const uint8_t *p, size_t n, bool json)
{
	size_t shown = n < MAX_BYTES ? n : MAX_BYTES;

	for (size_t i = 0; i < shown; i++)
		printf(json ? "%02x" : (i ? " %02x" : "%02x"), p[i]);
	if (shown < n)
		printf(json ? "" : " ... (%zu bytes)", n);
}

/* Dumps up to MAX_ENTRIES key/value pairs; prints nothing for maps without keys. */
static void dump_entries(const struct maps_cli *cli, struct ua_map *m)
{
	size_t ksz = ua_map_key_size(m), vsz = ua_map_value_size(m);
	uint8_t *key, *next, *val;
	bool first = true;
	int n = 0;

	if (ksz == 0 || ua_map_type(m) == 33 || ua_map_type(m) == 27)
		return;
	key = calloc(1, ksz);
	next = calloc(1, ksz);
	/* per-CPU maps return one rounded value per CPU: leave generous room */
	val = calloc(1, (vsz + 8) * 1024);
	if (!key || !next || !val)
		goto out;
	printf(cli->json ? ",\"entries\":[" : "");
	for (void *prev = NULL; n < MAX_ENTRIES && !ua_map_get_next_key(m, prev, next); n++) {
		memcpy(key, next, ksz);
		prev = key;
		if (ua_map_lookup_elem(m, key, val))
			continue;
		if (cli->json) {
			printf("%s{\"key\":\"", first ? "" : ",");
			hex(key, ksz, true);
			printf("\",\"value\":\"");
			hex(val, vsz, true);
			printf("\"}");
		} else {
			printf("    key: ");
			hex(key, ksz, false);
			printf("  value: ");
			hex(val, vsz, false);
			printf("\n");
		}
		first = false;
	}
	printf(cli->json ? "]" : "");
	if (!cli->json && n == MAX_ENTRIES)
		printf("    ... (first %d entries shown)\n", MAX_ENTRIES);
out:
	free(key);
	free(next);
	free(val);
}

static void describe(const struct maps_cli *cli, struct ua_map *m, bool first)
{
	uint32_t type = ua_map_type(m);
	struct ua_arena *a = ua_map_arena(m);

	if (cli->json)
		printf("%s{\"name\":\"%s\",\"type\":\"%s\",\"type_id\":%" PRIu32
		       ",\"key_size\":%" PRIu32 ",\"value_size\":%" PRIu32
		       ",\"max_entries\":%" PRIu32 ",\"flags\":%" PRIu32,
		       first ? "" : ",", ua_map_name(m), map_type_name(type), type,
		       ua_map_key_size(m), ua_map_value_size(m), ua_map_max_entries(m),
		       ua_map_flags(m));
	else
		printf("%s: %s (type %" PRIu32 ") key %" PRIu32 " value %" PRIu32
		       " max_entries %" PRIu32 " flags 0x%" PRIx32 "\n",
		       ua_map_name(m), map_type_name(type), type, ua_map_key_size(m),
		       ua_map_value_size(m), ua_map_max_entries(m), ua_map_flags(m));
	if (a) {
		const char *path = ua_arena_fault_path(a) == UA_ARENA_FAULT_UFFD ? "uffd" : "checked";

		if (cli->json)
			printf(",\"user_base\":\"%p\",\"size\":%" PRIu64 ",\"fault_path\":\"%s\"",
			       ua_arena_user_base(a), ua_arena_size(a), path);
		else
			printf("    arena: user view at %p, %" PRIu64 " bytes, fault path %s\n",
			       ua_arena_user_base(a), ua_arena_size(a), path);
	}
	dump_entries(cli, m);
	if (cli->json)
		printf("}");
}

static int run_first(const struct maps_cli *cli, struct ua_object *obj)
{
	struct ua_program *p = ua_object_find_program(obj, cli->run_prog);
	char err[512] = "";
	int e;

	if (!p) {
		fprintf(stderr, "uarena maps: %s: no program %s\n", cli->obj_path, cli->run_prog);
		return UA_EXIT_FAIL;
	}
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	e = ua_program_test_run(p, &o);
	if (e) {
		fprintf(stderr, "uarena maps: run %s: %s\n", cli->run_prog,
			err[0] ? err : ua_strerror(e));
		return UA_EXIT_FAIL;
	}
	if (!cli->json)
		printf("ran %s: retval %" PRIu32 "\n", cli->run_prog, o.retval);
	return UA_EXIT_OK;
}

int ua_cmd_maps(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct maps_cli cli = { 0 };
	struct ua_object *obj = NULL;
	char err[512] = "";
	bool first = true;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': cli.run_prog = optarg; break;
		case 'J': cli.json = true; break;
		case 'h':
			printf("usage: uarena maps OBJ [--run PROG] [--json]\n"
			       "  Lists the maps of OBJ and their contents (after running PROG).\n");
			return UA_EXIT_OK;
		default:
			fprintf(stderr, "usage: uarena maps OBJ [--run PROG] [--json]\n");
			return UA_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: uarena maps OBJ [--run PROG] [--json]\n");
		return UA_EXIT_USAGE;
	}
	cli.obj_path = argv[optind];
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = cli.run_prog);
	ret = ua_object_open(cli.obj_path, &oo, &obj);
	if (ret) {
		fprintf(stderr, "uarena maps: %s: %s\n", cli.obj_path, err[0] ? err : ua_strerror(ret));
		return UA_EXIT_FAIL;
	}
	ret = cli.run_prog ? run_first(&cli, obj) : UA_EXIT_OK;
	if (ret == UA_EXIT_OK) {
		printf(cli.json ? "{\"maps\":[" : "");
		for (struct ua_map *m = ua_object_next_map(obj, NULL); m;
		     m = ua_object_next_map(obj, m), first = false)
			describe(&cli, m, first);
		printf(cli.json ? "]}\n" : "");
	}
	ua_object_close(obj);
	return ret;
}
