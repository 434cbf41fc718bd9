/* SPDX-License-Identifier: MIT */
/*
 * uarena public API: conventions shared by every module.
 *
 * Errors: every function returns 0 (or a non-negative count) on success and a
 * negative errno on failure, like the kernel and libbpf. Where a human will
 * read the reason, the call takes a caller-owned buffer through its opts
 * (err_buf, err_buf_sz); it is always NUL-terminated and reads
 * "module: what (where)". Nothing is heap-allocated for errors.
 *
 * Opts structs follow libbpf: the first field is `size_t sz`, the struct ends
 * with `size_t :0;`, and callers initialise them with UA_OPTS(), which zeroes
 * the struct and fills in sz. A NULL opts pointer means "all defaults".
 */
#ifndef UARENA_COMMON_H
#define UARENA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UA_VERSION_MAJOR 0
#define UA_VERSION_MINOR 1

#define UA_API __attribute__((visibility("default")))

/* Declares and zero-initialises an opts struct with its size filled in. */
#define UA_OPTS(type, name, ...)                                              \
	struct type name = ({                                                 \
		__builtin_memset(&name, 0, sizeof(struct type));              \
		(struct type){ .sz = sizeof(struct type), __VA_ARGS__ };      \
	})

/* Human-readable text for a negative errno returned by any ua_ call. */
UA_API const char *ua_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
