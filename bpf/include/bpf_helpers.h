/* SPDX-License-Identifier: MIT */
/*
 * The libbpf bpf_helpers.h vocabulary for uarena programs: section and
 * BTF-map macros, attributes, and the helper calls. A helper is a constant
 * function pointer whose value is the kernel's helper id, so clang emits
 * `call ID` (src_reg 0) — the same encoding the kernel verifier and uarena's
 * registry (src/helpers.c) resolve. kfuncs are `extern ... __ksym` and are
 * resolved by name at load time.
 */
#ifndef UA_BPF_HELPERS_H
#define UA_BPF_HELPERS_H

#include "bpf_types.h"

#define SEC(name) __attribute__((section(name), used))

/* BTF-defined maps: struct { __uint(type, ...); __type(key, ...); } m SEC(".maps"); */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#define ___bpf_concat(a, b) ____bpf_concat(a, b)
#define ____bpf_concat(a, b) a##b

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#define __hidden __attribute__((visibility("hidden")))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __kptr __attribute__((btf_type_tag("kptr")))
/* Global-function argument that points into the arena (verifier types it PTR_TO_ARENA). */
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))

#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) ((*(volatile typeof(x) *)&(x)) = (val))
#endif
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member)                                        \
	({                                                                     \
		void *__mptr = (void *)(ptr);                                  \
		((type *)(__mptr - offsetof(type, member)));                   \
	})
#endif

/* Helpers by kernel id (include/uapi/linux/bpf.h, ___BPF_FUNC_MAPPER). */
static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (* const bpf_map_update_elem)(void *map, const void *key, const void *value,
					  __u64 flags) = (void *)2;
static long (* const bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static long (* const bpf_probe_read)(void *dst, __u32 size, const void *src) = (void *)4;
static __u64 (* const bpf_ktime_get_ns)(void) = (void *)5;
static long (* const bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u32 (* const bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (* const bpf_get_smp_processor_id)(void) = (void *)8;
static __u64 (* const bpf_get_current_pid_tgid)(void) = (void *)14;
static __u64 (* const bpf_get_current_uid_gid)(void) = (void *)15;
static long (* const bpf_get_numa_node_id)(void) = (void *)42;
static long (* const bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static long (* const bpf_probe_read_kernel_str)(void *dst, __u32 size,
						const void *src) = (void *)115;
static __u64 (* const bpf_ktime_get_boot_ns)(void) = (void *)125;
static long (* const bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size,
					 __u64 flags) = (void *)130;
static void *(* const bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (* const bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (* const bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;
static __u64 (* const bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)134;
static __u64 (* const bpf_ktime_get_coarse_ns)(void) = (void *)160;
static long (* const bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx,
			       __u64 flags) = (void *)181;

/*
 * bpf_printk("fmt", args...): the format lives on the stack (or .rodata) and
 * at most three arguments go through bpf_trace_printk, as in libbpf.
 */
#define ___bpf_nth(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, _a, _b, _c, N, ...) N
#define ___bpf_narg(...) ___bpf_nth(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define bpf_printk(fmt, ...)                                                   \
	({                                                                     \
		static const char ____fmt[] = fmt;                             \
		_Static_assert(___bpf_narg(__VA_ARGS__) <= 3,                  \
			       "bpf_printk takes at most 3 arguments");        \
		bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__);     \
	})

/* Kfuncs every context may call (kernel/bpf/helpers.c). */
extern void bpf_preempt_disable(void) __ksym __weak;
extern void bpf_preempt_enable(void) __ksym __weak;
extern void bpf_local_irq_save(unsigned long *flags) __ksym __weak;
extern void bpf_local_irq_restore(unsigned long *flags) __ksym __weak;

#endif
