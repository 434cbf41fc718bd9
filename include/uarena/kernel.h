/* SPDX-License-Identifier: MIT */
/*
 * uarena public API: the same object in uarena and in the running kernel.
 *
 * ua_kernel_diff() opens a clang-compiled .bpf.o in uarena, builds its twin
 * in the kernel through raw bpf() (maps with the same contents, the arena's
 * globals, the programs as uarena linked them), runs one program on both
 * with the same input and CPU id, and reports every difference: return
 * value, output packet, map contents, arena pages. It does this once per
 * uarena engine (interpreter, x86-64 JIT), each from a fresh open. Needs root (or CAP_BPF
 * and CAP_PERFMON) and a kernel with BPF arenas (6.9+, reserve_pages 6.17+).
 *
 * CO-RE on kernel structs (struct bpf_map, struct bpf_arena) is resolved
 * to uarena's layout in uarena and to vmlinux's in the kernel twin. The
 * kernel arena sits at the object's map_extra when it has one, else in
 * another 4 GiB window with the same low 32 bits as uarena's (user-form
 * pointers are then compared up to that difference).
 */
#ifndef UARENA_KERNEL_H
#define UARENA_KERNEL_H

#include <stdint.h>
#include <stdio.h>

#include <uarena/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ua_kernel_diff_opts {
	size_t sz;
	const char *prog;        /* program name; NULL = the object's first */
	/* packet for xdp/tc/socket programs; NULL = a fixed 64-byte Ethernet/
	 * IPv4/UDP packet (10.0.0.1:12345 -> 10.0.0.2:53) */
	const void *data_in;
	uint32_t data_size_in;
	/* context for other programs; NULL = for a SYSCALL program, zeroed
	 * bytes up to the furthest ctx access the program makes (none if none) */
	const void *ctx_in;
	uint32_t ctx_size_in;
	uint32_t cpu;            /* CPU id both runs see (default 0) */
	FILE *report;            /* one line per difference; NULL = none */
	char *err_buf;
	size_t err_buf_sz;
	/* UA_KERNEL_DIFF_INTERP | UA_KERNEL_DIFF_JIT; 0 = both. Each engine runs
	 * on its own fresh object and kernel twin; report lines start with the
	 * engine's name ("interp: " or "jit: "). */
	uint32_t engines;
	size_t : 0;
};
#define ua_kernel_diff_opts__last_field engines

#define UA_KERNEL_DIFF_INTERP (1U << 0)
#define UA_KERNEL_DIFF_JIT    (1U << 1)

/*
 * Returns the number of differences over all engines run (0: uarena and the
 * kernel agree), or -errno when a side could not load or run the program
 * (-EPERM: no bpf() rights; -EINVAL: unknown bits in engines; err_buf then
 * names the side and the reason, with the verifier's log for a kernel
 * rejection). The first engine that fails ends the diff.
 */
UA_API int ua_kernel_diff(const char *path, const struct ua_kernel_diff_opts *opts);

/*
 * The programs of a .bpf.o as libbpf finds them (global functions in
 * executable sections other than .text), in symbol table order, without
 * loading anything: what `uarena diff --all` runs. *names is one malloc'd
 * block (free(*names) frees all). Returns their number or -errno (-EINVAL:
 * not an ELF object; err_buf says why).
 */
UA_API int ua_kernel_list_programs(const char *path, char ***names, char *err_buf,
				   size_t err_buf_sz);

#ifdef __cplusplus
}
#endif
#endif
