/* SPDX-License-Identifier: MIT */
/*
 * uarena public API: BPF objects (clang-compiled .bpf.o), their programs and
 * maps, and running programs (BPF_PROG_TEST_RUN style). Modelled on libbpf.
 *
 * Lifecycle: ua_object_open() parses the ELF, creates every map (arena user
 * view mapped, global data copied in, arena globals written through the user
 * view) and prepares the programs: there is no separate load step. With
 * opts.only_prog only that program (and what it uses) is linked and
 * prepared, so one unsupported program does not block the others (a BTF
 * map that cannot be created is then left out and fails only the programs
 * that reference it); the other programs are still listed, and
 * ua_program_test_run() on them returns -ENOENT. Without only_prog, any program that cannot be prepared
 * fails the open (as libbpf's load does), except programs in "?sec"
 * sections (libbpf's autoload off), which are listed but not prepared.
 *
 * Errors: negative errno; opts.err_buf receives "loader: prog 'foo' insn
 * 12: what (section .text)". Like the verifier, a program storing through a
 * .rodata/.kconfig address is refused (-EACCES, "write into map forbidden").
 */
#ifndef UARENA_OBJECT_H
#define UARENA_OBJECT_H

#include <stdbool.h>

#include <uarena/common.h>
#include <uarena/insn.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ua_object;
struct ua_program;
struct ua_map;
struct ua_arena;
struct ua_helpers;

/* bpf_printk sink: msg is the formatted line (no trailing NUL guaranteed, len given). */
typedef int (*ua_trace_fn)(void *ctx, const char *msg, size_t len);

struct ua_object_open_opts {
	size_t sz;
	char *err_buf;
	size_t err_buf_sz;
	/* Number of CPUs per-CPU maps have slots for and the limit on concurrent
	 * test runs (each run gets its own CPU id). 0 = online CPUs. */
	uint32_t nr_cpus;
	/* Prepare only this program (by function name); NULL = all. */
	const char *only_prog;
	/* Place arena globals at the end of the arena (libbpf 1.7+) instead of offset 0. */
	bool globals_at_end;
	/* bpf_printk output; NULL = stderr. */
	ua_trace_fn trace;
	void *trace_ctx;
	/* Prefix of global-data map names ("obj" in "obj.bss"); NULL = from the path. */
	const char *object_name;
	/* Embedder helpers/kfuncs (include/uarena/helpers.h), consulted before the
	 * built-ins; must outlive the object. NULL = built-ins only. */
	const struct ua_helpers *helpers;
	size_t : 0;
};
#define ua_object_open_opts__last_field helpers

UA_API int ua_object_open(const char *path, const struct ua_object_open_opts *opts,
			  struct ua_object **out);
UA_API int ua_object_open_mem(const void *buf, size_t size, const struct ua_object_open_opts *opts,
			      struct ua_object **out);
UA_API void ua_object_close(struct ua_object *obj);

/* Iteration: pass NULL to get the first; returns NULL after the last. */
UA_API struct ua_program *ua_object_next_program(const struct ua_object *obj,
						 const struct ua_program *prev);
UA_API struct ua_program *ua_object_find_program(const struct ua_object *obj, const char *name);
UA_API struct ua_map *ua_object_next_map(const struct ua_object *obj, const struct ua_map *prev);
UA_API struct ua_map *ua_object_find_map(const struct ua_object *obj, const char *name);

/* Kernel program type ids (uapi enum bpf_prog_type). */
enum ua_prog_type {
	UA_PROG_TYPE_UNSPEC = 0,
	UA_PROG_TYPE_SOCKET_FILTER = 1,
	UA_PROG_TYPE_KPROBE = 2,
	UA_PROG_TYPE_SCHED_CLS = 3,
	UA_PROG_TYPE_SCHED_ACT = 4,
	UA_PROG_TYPE_TRACEPOINT = 5,
	UA_PROG_TYPE_XDP = 6,
	UA_PROG_TYPE_PERF_EVENT = 7,
	UA_PROG_TYPE_RAW_TRACEPOINT = 17,
	UA_PROG_TYPE_TRACING = 26,
	UA_PROG_TYPE_STRUCT_OPS = 27,
	UA_PROG_TYPE_SYSCALL = 31,
};

UA_API const char *ua_program_name(const struct ua_program *p);
UA_API const char *ua_program_section(const struct ua_program *p);
UA_API enum ua_prog_type ua_program_type(const struct ua_program *p);
/* Whether the program was prepared (runnable). */
UA_API bool ua_program_prepared(const struct ua_program *p);
/*
 * The relocated instructions (subprograms appended), as they run. Map
 * references are the kernel's ld_imm64 pseudo forms with imm = the map's
 * position in ua_object_next_map() order (where the kernel has an fd);
 * kfunc calls have src_reg BPF_PSEUDO_KFUNC_CALL and imm = an index for
 * ua_object_kfunc_name(). CO-RE accesses to struct bpf_map/bpf_arena are
 * resolved against uarena's layout, not the kernel's.
 */
UA_API const struct ua_insn *ua_program_insns(const struct ua_program *p, size_t *cnt);
/* Name of the kfunc a relocated call's imm refers to; NULL if out of range. */
UA_API const char *ua_object_kfunc_name(const struct ua_object *obj, int32_t idx);

UA_API const char *ua_map_name(const struct ua_map *m);
UA_API uint32_t ua_map_type(const struct ua_map *m);
UA_API uint32_t ua_map_key_size(const struct ua_map *m);
UA_API uint32_t ua_map_value_size(const struct ua_map *m);
UA_API uint32_t ua_map_max_entries(const struct ua_map *m);
UA_API uint32_t ua_map_flags(const struct ua_map *m);
/* The arena behind an ARENA map, else NULL. */
UA_API struct ua_arena *ua_map_arena(const struct ua_map *m);
/* Host pointer to the map's memory: mmapable ARRAY, global data, arena user view. */
UA_API void *ua_map_mmaped(const struct ua_map *m, size_t *size);

/*
 * The bpf() map commands, with the kernel's errnos. Per-CPU maps exchange
 * nr_cpus values, each rounded up to 8 bytes, concatenated.
 */
UA_API int ua_map_lookup_elem(struct ua_map *m, const void *key, void *value);
UA_API int ua_map_update_elem(struct ua_map *m, const void *key, const void *value,
			      uint64_t flags);
UA_API int ua_map_delete_elem(struct ua_map *m, const void *key);
UA_API int ua_map_get_next_key(struct ua_map *m, const void *key, void *next_key);

/*
 * Ring buffer consumer: calls cb for each submitted (not discarded) sample
 * in order, stops at a sample still being written or when cb returns
 * non-zero. Returns the number of samples consumed or -errno.
 */
typedef int (*ua_ringbuf_sample_fn)(void *ctx, const void *data, size_t size);
UA_API int ua_ringbuf_consume(struct ua_map *m, ua_ringbuf_sample_fn cb, void *ctx);

/*
 * BPF_PROG_TEST_RUN. Packet programs (xdp, tc/sched_cls, socket; data_in of
 * at least 14 bytes): data_in is copied to a buffer above 4 GiB after 256
 * bytes of headroom; the context is a struct xdp_md (data, data_end,
 * data_meta, ingress_ifindex = 1, rx_queue_index = 0) or struct __sk_buff
 * (len, data, data_end, data_meta, ifindex = ingress_ifindex = 1; other
 * fields from ctx_in, up to 192 bytes) with 32-bit data fields as in the
 * UAPI (the loader rewrites those loads to the real pointers, as the
 * verifier does); data_out receives the (possibly modified) packet, ctx_out
 * the context. Other programs: r1 = a copy of ctx_in (up to 64 KiB, NULL
 * when none), copied back to ctx_out; programs in .text or raw programs:
 * r1 = a copy of data_in, r2 = data_size_in (data_out receives the buffer as
 * the program left it). repeat: run count (0 = 1; unlike the kernel, also for
 * syscall programs); duration = average ns per run. Syscall programs: as in
 * the kernel, ctx_size_in below the furthest ctx byte the entry function
 * loads or stores (the verifier's max_ctx_offset) is -EINVAL, no ctx included.
 */
struct ua_test_run_opts {
	size_t sz;
	const void *data_in;
	void *data_out;
	uint32_t data_size_in;
	uint32_t data_size_out; /* in: capacity of data_out, out: bytes written */
	const void *ctx_in;
	void *ctx_out;
	uint32_t ctx_size_in;
	uint32_t ctx_size_out;
	uint32_t retval;   /* out */
	int repeat;
	uint32_t duration; /* out, ns per run */
	uint32_t flags;    /* UA_F_TEST_RUN_ON_CPU: run with CPU id `cpu` */
	uint32_t cpu;
	char *err_buf;
	size_t err_buf_sz;
	size_t : 0;
};
#define ua_test_run_opts__last_field err_buf_sz
#define UA_F_TEST_RUN_ON_CPU (1U << 0)
/* Run on the x86-64 JIT (compiled on first use, kept with the program);
 * what the JIT cannot run (callbacks, non-x86-64 hosts) is interpreted. */
#define UA_F_TEST_RUN_JIT (1U << 1)

/*
 * Thread-safe: each call gets its own execution state and a CPU id unique
 * among concurrent calls on the same object (waits while all nr_cpus ids
 * are in use). Errors: -ENOENT (program not prepared), -EINVAL (bad opts, or
 * a syscall program's ctx too small),
 * -ENOSPC (data_out too small, as the kernel), -EFAULT/-ETIME (run stopped:
 * err_buf says where).
 */
UA_API int ua_program_test_run(struct ua_program *p, struct ua_test_run_opts *opts);

/*
 * Raw mode (ubpf/rbpf convention): bare instructions run with r1 = data_in,
 * r2 = data_size_in via ua_program_test_run(); data_out (if given) receives
 * the buffer as the program left it (data_size_in bytes; r1 = NULL and no
 * output without data_in). Helper calls (by kernel id) resolve against
 * opts.helpers, then the built-ins; there are no maps (map helpers return
 * NULL/-EINVAL), no kfuncs and no pseudo ld_imm64. With opts.arena, the
 * program is an arena program: addr_space_cast is allowed and pointers with
 * the upper 32 bits zero are offsets into that arena (the caller keeps it
 * alive until ua_program_free_raw()). Free with ua_program_free_raw().
 * An object without any SEC() program sections gets the same convention:
 * each global function in its .text is listed as a program (section
 * ".text", type UNSPEC).
 */
struct ua_raw_opts {
	size_t sz;
	char *err_buf;
	size_t err_buf_sz;
	ua_trace_fn trace;
	void *trace_ctx;
	/* Embedder helpers, consulted before the built-ins; NULL = built-ins only. */
	const struct ua_helpers *helpers;
	/* The arena the program's arena pointers refer to; NULL = none. */
	struct ua_arena *arena;
	/* Name reported by ua_program_name(); NULL = "raw". */
	const char *name;
	size_t : 0;
};
#define ua_raw_opts__last_field name
UA_API int ua_program_load_raw(const struct ua_insn *insns, size_t n, const struct ua_raw_opts *opts,
			       struct ua_program **out);
UA_API void ua_program_free_raw(struct ua_program *p);

#ifdef __cplusplus
}
#endif
#endif
