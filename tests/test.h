/* SPDX-License-Identifier: MIT */
/*
 * The test runner's contract. A test is a function registered with TEST();
 * the runner (tests/run.c) forks a child per test so a crash, a signal or a
 * hang in one test cannot take the others down, then prints one line per
 * failure and, last, "N passed, M failed, K skipped".
 *
 * CHECK* record a failure and continue; REQUIRE* record it and end the test.
 * SKIP(fmt, ...) ends the test as skipped, with the reason printed.
 */
#ifndef UA_TEST_H
#define UA_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct ua_test {
	const char *suite;
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
};

void ua_test_register(const struct ua_test *t);
void ua_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void ua_test_end_now(void);
_Noreturn void ua_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Directory holding build outputs (BPF objects etc.), from $UA_BUILD_DIR or "build". */
const char *ua_test_build_dir(void);
/* Path of the read-only shared data (../shared), from $UA_SHARED_DIR or "../shared". */
const char *ua_test_shared_dir(void);

#define TEST(suite, name)                                                     \
	static void ua_test_fn_##suite##_##name(void);                        \
	__attribute__((constructor)) static void ua_test_reg_##suite##_##name(void) \
	{                                                                     \
		static const struct ua_test t = { #suite, #name,              \
			ua_test_fn_##suite##_##name, __FILE__, __LINE__ };    \
		ua_test_register(&t);                                         \
	}                                                                     \
	static void ua_test_fn_##suite##_##name(void)

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond))                                                  \
			ua_test_fail(__FILE__, __LINE__, "expected %s", #cond); \
	} while (0)

/* Integer equality, printed in decimal and hex on failure. */
#define CHECK_EQ(got, want)                                                   \
	do {                                                                  \
		long long ___g = (long long)(got), ___w = (long long)(want);  \
		if (___g != ___w)                                             \
			ua_test_fail(__FILE__, __LINE__,                      \
				"%s: expected %lld (0x%llx) got %lld (0x%llx)", \
				#got, ___w, (unsigned long long)___w, ___g,   \
				(unsigned long long)___g);                    \
	} while (0)

#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		const char *___g = (got), *___w = (want);                     \
		if (!___g || strcmp(___g, ___w) != 0)                         \
			ua_test_fail(__FILE__, __LINE__,                      \
				"%s: expected \"%s\" got \"%s\"", #got, ___w, \
				___g ? ___g : "(null)");                      \
	} while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                           \
	do {                                                                  \
		const char *___h = (hay), *___n = (needle);                   \
		if (!___h || !strstr(___h, ___n))                             \
			ua_test_fail(__FILE__, __LINE__,                      \
				"%s: expected to contain \"%s\", got \"%s\"", \
				#hay, ___n, ___h ? ___h : "(null)");          \
	} while (0)

#define CHECK_MEM(got, want, len)                                             \
	do {                                                                  \
		if (memcmp((got), (want), (len)) != 0)                        \
			ua_test_fail(__FILE__, __LINE__,                      \
				"%s: %zu bytes differ from %s", #got,         \
				(size_t)(len), #want);                        \
	} while (0)

#define REQUIRE(cond)                                                         \
	do {                                                                  \
		if (!(cond)) {                                                \
			ua_test_fail(__FILE__, __LINE__, "required %s", #cond); \
			ua_test_end_now();                                    \
		}                                                             \
	} while (0)

#define REQUIRE_EQ(got, want)                                                 \
	do {                                                                  \
		long long ___g2 = (long long)(got), ___w2 = (long long)(want); \
		if (___g2 != ___w2) {                                         \
			ua_test_fail(__FILE__, __LINE__,                      \
				"%s: expected %lld got %lld", #got, ___w2, ___g2); \
			ua_test_end_now();                                    \
		}                                                             \
	} while (0)

#define SKIP(...) ua_test_skip(__VA_ARGS__)

#endif
