/* SPDX-License-Identifier: MIT */
/*
 * The single test runner. Usage: run [-v] [--no-fork] [FILTER...]
 * A test runs when "suite/name" contains any FILTER (all when none).
 * Each test runs in a forked child with a time limit, so crashes and hangs are
 * reported as failures of that test; --no-fork runs in-process for debugging.
 * Exit codes of a child: 0 passed, 1 failed, 77 skipped.
 */
#include "test.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 4096
#define SKIP_EXIT 77
#define TEST_TIMEOUT_S 300

static const struct ua_test *tests[MAX_TESTS];
static int n_tests;
static int failures_in_test;
static bool in_child;
static const struct ua_test *current;

void ua_test_register(const struct ua_test *t)
{
	if (n_tests == MAX_TESTS) {
		fprintf(stderr, "run: too many tests (raise MAX_TESTS)\n");
		exit(2);
	}
	tests[n_tests++] = t;
}

void ua_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	failures_in_test++;
	fprintf(stdout, "%s:%d %s/%s: ", file, line, current->suite, current->name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static _Noreturn void finish(int code)
{
	fflush(stdout);
	fflush(stderr);
	if (in_child)
		_exit(code);
	exit(code);
}

void ua_test_end_now(void)
{
	finish(1);
}

void ua_test_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "SKIP %s/%s: ", current->suite, current->name);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	finish(failures_in_test ? 1 : SKIP_EXIT);
}

const char *ua_test_build_dir(void)
{
	const char *d = getenv("UA_BUILD_DIR");
	return d && *d ? d : "build";
}

const char *ua_test_shared_dir(void)
{
	const char *d = getenv("UA_SHARED_DIR");
	return d && *d ? d : "../shared";
}

static bool selected(const struct ua_test *t, int argc, char **argv, int first)
{
	char full[256];

	if (first >= argc)
		return true;
	snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
	for (int i = first; i < argc; i++)
		if (strstr(full, argv[i]))
			return true;
	return false;
}

static int run_in_child(const struct ua_test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("run: fork");
		return 1;
	}
	if (pid == 0) {
		in_child = true;
		alarm(TEST_TIMEOUT_S);
		t->fn();
		finish(failures_in_test ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	printf("%s:%d %s/%s: killed by signal %d (%s)\n", t->file, t->line, t->suite,
	       t->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
	return 1;
}

static int cmp_tests(const void *a, const void *b)
{
	const struct ua_test *x = *(const struct ua_test *const *)a;
	const struct ua_test *y = *(const struct ua_test *const *)b;
	int c = strcmp(x->suite, y->suite);

	return c ? c : strcmp(x->file, y->file) ? strcmp(x->file, y->file) : x->line - y->line;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0, first = 1;
	bool fork_each = true, verbose = false;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "--no-fork"))
			fork_each = false;
		else if (!strcmp(argv[first], "-v"))
			verbose = true;
		else {
			fprintf(stderr, "usage: %s [-v] [--no-fork] [FILTER...]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	qsort(tests, n_tests, sizeof(tests[0]), cmp_tests);
	for (int i = 0; i < n_tests; i++) {
		const struct ua_test *t = tests[i];
		int rc;

		if (!selected(t, argc, argv, first))
			continue;
		current = t;
		failures_in_test = 0;
		if (verbose)
			printf("RUN  %s/%s\n", t->suite, t->name);
		if (fork_each) {
			rc = run_in_child(t);
		} else {
			t->fn();
			rc = failures_in_test ? 1 : 0;
		}
		if (rc == 0)
			passed++;
		else if (rc == SKIP_EXIT)
			skipped++;
		else {
			failed++;
			printf("FAIL %s/%s\n", t->suite, t->name);
		}
	}
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
