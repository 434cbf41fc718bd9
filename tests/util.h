/* SPDX-License-Identifier: MIT */
/*
 * Plumbing the test files share: where the clang-built BPF objects are,
 * reading whole files, listing the conformance vectors, running code in a
 * child, the kernel (skipping without bpf(), loading socket filters) and
 * running one of our command-line tools with its output captured. A failure
 * of the test's own setup ends the test here (SKIP when something is not
 * built or not permitted, REQUIRE otherwise); results a test asserts on are
 * returned (ua_test_read_file, ua_test_kernel_load_filter, wait statuses).
 */
#ifndef UA_TEST_UTIL_H
#define UA_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* $UA_BPF_DIR, or "build/bpf" when it is unset or empty. */
const char *ua_test_bpf_dir(void);

/*
 * "<bpf dir>/NAME.bpf.o". The result lives in one of a few rotating static
 * buffers, so a handful of paths can be held at once (one test = one process).
 */
const char *ua_test_bpf_obj(const char *name);

/* ua_test_bpf_obj, but the test is skipped when that object was not built. */
const char *ua_test_bpf_obj_built(const char *name);

/* The whole file in malloc'd memory (caller frees); NULL with errno set if unreadable. */
uint8_t *ua_test_read_file(const char *path, size_t *size);

/* The whole object NAME.bpf.o; skips the test when it was not built. */
uint8_t *ua_test_read_bpf_obj(const char *name, size_t *size);

/*
 * The names of the *.data files in dir (not paths), sorted, in *names (the
 * caller frees each and the array); returns the count. Skips the test when
 * dir cannot be opened.
 */
size_t ua_test_list_data_files(const char *dir, char ***names);

/* Runs fn in a forked child that then exits 0; returns the child's wait status. */
int ua_test_in_child(void (*fn)(void));

/* Skips the test, with the backend's reason, unless bpf() can create arenas here. */
void ua_test_require_kbpf(void);

struct ua_insn;

/*
 * Loads insns into the kernel as a GPL socket filter (ua_kbpf_prog_load);
 * returns the fd or -errno. log_level >= 1: the verifier log at that level
 * is left in log (also after a successful load). log_level 0: no log is
 * asked for (long verifications overflow any buffer), and a failed load
 * leaves the backend's message with the log's tail in log (may be NULL).
 */
int ua_test_kernel_load_filter(const struct ua_insn *insns, size_t n, uint32_t log_level,
			       char *log, size_t log_sz);

/* What a tool run left behind: its exit status (128 + signal if killed) and streams. */
struct ua_test_cmd {
	int status;
	char out[16384];
	size_t out_len; /* stdout may hold NUL bytes (raw `uarena asm` output) */
	char err[4096];
};

/*
 * Runs $UA_BUILD_DIR/TOOL with args (NULL-terminated, at most 14), stdin
 * from in/in_len (in == NULL: /dev/null); skips the test when the tool was
 * not built. Output beyond the buffers is cut, always NUL-terminated.
 */
void ua_test_run_tool(struct ua_test_cmd *r, const char *tool, const char *const *args,
		      const void *in, size_t in_len);

#endif
