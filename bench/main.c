/* SPDX-License-Identifier: MIT */
/*
 * `make bench`: runs every registered benchmark once, then prints a table of
 * ns/op and ratios per group. Usage: run [FILTER...] (substring of group/impl).
 * Lines are machine-readable: "group impl ns/op ratio".
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BENCH 256

static const struct ua_bench *benches[MAX_BENCH];
static double results[MAX_BENCH];
static int n_benches;

void ua_bench_register(const struct ua_bench *b)
{
	if (n_benches < MAX_BENCH)
		benches[n_benches++] = b;
}

void bench_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  skipped: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmp_bench(const void *a, const void *b)
{
	const struct ua_bench *x = *(const struct ua_bench *const *)a;
	const struct ua_bench *y = *(const struct ua_bench *const *)b;
	int c = strcmp(x->group, y->group);

	return c ? c : x->order - y->order;
}

static int selected(const struct ua_bench *b, int argc, char **argv)
{
	char full[256];

	if (argc < 2)
		return 1;
	snprintf(full, sizeof(full), "%s/%s", b->group, b->impl);
	for (int i = 1; i < argc; i++)
		if (strstr(full, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *group = NULL;
	double base = 0;

	qsort(benches, n_benches, sizeof(benches[0]), cmp_bench);
	for (int i = 0; i < n_benches; i++) {
		results[i] = -1;
		if (!selected(benches[i], argc, argv))
			continue;
		fprintf(stderr, "running %s/%s\n", benches[i]->group, benches[i]->impl);
		results[i] = benches[i]->fn();
	}
	printf("%-28s %-22s %14s %10s\n", "group", "impl", "ns/op", "ratio");
	for (int i = 0; i < n_benches; i++) {
		const struct ua_bench *b = benches[i];

		if (!selected(b, argc, argv))
			continue;
		if (!group || strcmp(group, b->group)) {
			group = b->group;
			base = results[i];
		}
		if (results[i] < 0)
			printf("%-28s %-22s %14s %10s\n", b->group, b->impl, "skipped", "-");
		else if (base > 0)
			printf("%-28s %-22s %14.2f %10.2f\n", b->group, b->impl, results[i],
			       results[i] / base);
		else
			printf("%-28s %-22s %14.2f %10s\n", b->group, b->impl, results[i], "-");
	}
	printf("ratio = ns/op relative to the first impl of the group (lower is faster)\n");
	return 0;
}
