/* SPDX-License-Identifier: MIT */
/*
 * Our own data-driven assembler cases, tests/data/asm-*.data: each assembles
 * (AUTO syntax) to exactly its -- raw image, or fails with exactly its
 * -- error text. Their -- result values were checked on Linux 6.18 with
 * BPF_PROG_TEST_RUN, so an interpreter suite may run them too.
 */
#include "asm.h"
#include "datafile.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>

static void check_vector(const char *path)
{
	struct ua_datafile df;
	struct ua_insn *insns = NULL;
	char err[512] = "";
	size_t n = 0;
	int ret;

	if (ua_datafile_parse(path, &df, err, sizeof(err))) {
		ua_test_fail(__FILE__, __LINE__, "%s", err);
		return;
	}
	REQUIRE(df.asm_text != NULL);
	ret = ua_asm_parse(df.asm_text, UA_ASM_AUTO, &insns, &n, err, sizeof(err));
	if (df.has_error) {
		if (!ret)
			ua_test_fail(__FILE__, __LINE__, "%s: assembled, expected '%s'", path, df.error);
		else if (strcmp(err, df.error))
			ua_test_fail(__FILE__, __LINE__, "%s: error '%s', expected '%s'", path, err,
				     df.error);
	} else if (ret) {
		ua_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
	} else if (!df.has_raw) {
		ua_test_fail(__FILE__, __LINE__, "%s: no -- raw to compare with", path);
	} else if (n != df.n_raw || memcmp(insns, df.raw, n * sizeof(*insns))) {
		ua_test_fail(__FILE__, __LINE__, "%s: %zu slots differ from -- raw (%zu)", path, n,
			     df.n_raw);
	}
	free(insns);
	ua_datafile_free(&df);
}

TEST(asm_data, vectors)
{
	struct dirent **names;
	int n = scandir("tests/data", &names, NULL, alphasort), seen = 0;

	if (n < 0)
		SKIP("no tests/data (run from the source root)");
	for (int i = 0; i < n; i++) {
		char path[512];

		if (!strncmp(names[i]->d_name, "asm-", 4) && strstr(names[i]->d_name, ".data") &&
		    snprintf(path, sizeof(path), "tests/data/%s", names[i]->d_name) < (int)sizeof(path)) {
			check_vector(path);
			seen++;
		}
		free(names[i]);
	}
	free(names);
	CHECK_EQ(seen, 6);
}
