/* SPDX-License-Identifier: MIT */
/*
 * `uarena demo [--bpf-dir DIR]`: the arena as memory shared by a BPF program
 * and this process, told as a short story with example (a), arena_list:
 *   1. the host asks (through .bss) for N elements; BPF allocates them in
 *      the arena and links them into a list;
 *   2. the host walks that list with plain C pointers — the arena's user
 *      view — and checks every value and BPF's running sum;
 *   3. the host rewrites the values with plain stores; BPF walks the list
 *      again, sums what the host wrote, and frees it all.
 * Exit 0 when both sides agreed at every step, 1 otherwise.
 *
 * Finding the BPF object: --bpf-dir, else $UA_BPF_DIR, else bpf/ next to the
 * binary (build/uarena -> build/bpf/), else ../bpf/ (build/asan/uarena ->
 * build/bpf/). The object is built by `make` with the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uarena.h>

#include "../../examples/arena_list.h"
#include "cli.h"

#define DEMO_OBJ "arena_list.bpf.o"
#define DEMO_N 5

static int find_object(const char *dir_opt, char *path, size_t sz)
{
	char exe[PATH_MAX], *dir;
	const char *env = getenv("UA_BPF_DIR");
	ssize_t n;

	if (dir_opt) {
		snprintf(path, sz, "%s/%s", dir_opt, DEMO_OBJ);
		return access(path, R_OK) ? -ENOENT : 0;
	}
	if (env && *env) {
		snprintf(path, sz, "%s/%s", env, DEMO_OBJ);
		if (!access(path, R_OK))
			return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	dir = dirname(exe);
	snprintf(path, sz, "%s/bpf/%s", dir, DEMO_OBJ);
	if (!access(path, R_OK))
		return 0;
	snprintf(path, sz, "%s/../bpf/%s", dir, DEMO_OBJ);
	return access(path, R_OK) ? -ENOENT : 0;
}

static int run(struct ua_object *obj, const char *prog)
{
	struct ua_program *p = ua_object_find_program(obj, prog);
	char err[512] = "";
	int e;

	if (!p)
		return -ENOENT;
	UA_OPTS(ua_test_run_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	e = ua_program_test_run(p, &o);
	if (e) {
		fprintf(stderr, "uarena demo: %s: %s\n", prog, err);
		return e;
	}
	return (int)o.retval;
}

static struct elem *elem_of(struct arena_list_node *n)
{
	return (struct elem *)((char *)n - offsetof(struct elem, node));
}

/* Step 2: the host reads what BPF built. Returns the number of disagreements. */
static int host_walk(struct list_globals *g, long *sum)
{
	int bad = 0, i = 0;

	printf("\n2. The host walks the list with plain pointers (no copies, no syscalls):\n");
	*sum = 0;
	for (struct arena_list_node *n = g->list_head->first; n && i <= DEMO_N; n = n->next, i++) {
		struct elem *e = elem_of(n);
		bool ok = e->value == (uint64_t)(DEMO_N - 1 - i);

		printf("     element at %p  value %llu%s\n", (void *)e,
		       (unsigned long long)e->value, ok ? "" : "  <-- unexpected");
		bad += !ok;
		*sum += (long)e->value;
	}
	bad += i != DEMO_N;
	printf("   %d elements, sum %ld; BPF's own running sum in the arena: %ld -> %s\n", i, *sum,
	       g->stats->arena_sum, *sum == g->stats->arena_sum && !bad ? "agree" : "DISAGREE");
	return bad + (*sum != g->stats->arena_sum);
}

static int story(struct ua_object *obj)
{
	struct ua_map *bss = ua_object_find_map(obj, "demo.bss");
	struct ua_map *am = ua_object_find_map(obj, "arena");
	struct ua_arena *a = am ? ua_map_arena(am) : NULL;
	struct list_globals *g = bss ? ua_map_mmaped(bss, NULL) : NULL;
	long sum, host_sum = 0;
	int bad, ret;

	if (!g || !a) {
		fprintf(stderr, "uarena demo: the object lacks its .bss or arena map\n");
		return UA_EXIT_FAIL;
	}
	printf("The arena: %llu bytes, mapped in this process at %p; the BPF program sees\n"
	       "the same pages, and pointers stored in it are valid on both sides.\n",
	       (unsigned long long)ua_arena_size(a), ua_arena_user_base(a));

	g->cnt = DEMO_N;
	printf("\n1. The host asks for %d elements; BPF (arena_list_add) allocates them in the\n"
	       "   arena with bpf_arena_alloc_pages and links them into a list.\n", DEMO_N);
	ret = run(obj, "arena_list_add");
	if (ret) {
		fprintf(stderr, "uarena demo: arena_list_add returned %d\n", ret);
		return UA_EXIT_FAIL;
	}
	printf("   list head at %p\n", (void *)g->list_head);
	bad = host_walk(g, &sum);

	printf("\n3. The host multiplies every value by 100 with plain stores; BPF\n"
	       "   (arena_list_del) walks the list, sums what it finds, and frees it.\n");
	for (struct arena_list_node *n = g->list_head->first; n; n = n->next) {
		elem_of(n)->value *= 100;
		host_sum += (long)elem_of(n)->value;
	}
	ret = run(obj, "arena_list_del");
	printf("   host's sum %ld, BPF's sum %d -> %s; list now %s\n", host_sum, g->list_sum,
	       ret == 0 && host_sum == g->list_sum ? "agree" : "DISAGREE",
	       g->list_head->first ? "NOT empty" : "empty");
	bad += ret != 0 || host_sum != g->list_sum || g->list_head->first != NULL;

	printf("\n%s\n", bad ? "Something disagreed." : "Both sides agreed at every step.");
	return bad ? UA_EXIT_FAIL : UA_EXIT_OK;
}

int ua_cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bpf-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	struct ua_object *obj = NULL;
	char path[PATH_MAX + 64], err[512] = "";
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'h':
			printf("usage: uarena demo [--bpf-dir DIR]\n"
			       "  Shows a BPF program and this process sharing the arena.\n");
			return UA_EXIT_OK;
		default:
			fprintf(stderr, "usage: uarena demo [--bpf-dir DIR]\n");
			return UA_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: uarena demo [--bpf-dir DIR]\n");
		return UA_EXIT_USAGE;
	}
	if (find_object(dir, path, sizeof(path))) {
		fprintf(stderr, "uarena demo: cannot find %s (build it with `make`, or pass "
				"--bpf-dir DIR)\n", DEMO_OBJ);
		return UA_EXIT_FAIL;
	}
	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err),
		.object_name = "demo");
	ret = ua_object_open(path, &oo, &obj);
	if (ret) {
		fprintf(stderr, "uarena demo: %s: %s\n", path, err[0] ? err : ua_strerror(ret));
		return UA_EXIT_FAIL;
	}
	printf("uarena demo: %s\n\n", path);
	ret = story(obj);
	ua_object_close(obj);
	return ret;
}
