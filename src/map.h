/* SPDX-License-Identifier: MIT */
/*
 * Map core (owner: loader module). Every map type is one file exporting one
 * ops table (the kernel's arena.c pattern); struct ua_map is what an
 * ld_imm64 BPF_PSEUDO_MAP_FD resolves to (a host pointer) and what helpers
 * receive in r1. Errors mirror the kernel's map syscalls exactly.
 *
 * Two access paths, as in the kernel:
 *  - program path (helpers): ops->lookup returns a pointer into the map's
 *    storage (the current CPU's slot for per-CPU maps); ops->update/delete
 *    take one value.
 *  - user path (ua_map_lookup_elem & co, the syscall equivalents): values
 *    are copied; per-CPU maps exchange all CPUs' values concatenated, each
 *    rounded up to 8 bytes (ua_map_user_value_size()).
 * Thread safety: every op may be called from any number of threads at once.
 */
#ifndef UA_MAP_H
#define UA_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ua_map;
struct ua_exec;
struct ua_arena;

/* Kernel map type ids (uapi enum bpf_map_type). */
enum {
	UA_MAP_HASH = 1,
	UA_MAP_ARRAY = 2,
	UA_MAP_PERCPU_HASH = 5,
	UA_MAP_PERCPU_ARRAY = 6,
	UA_MAP_RINGBUF = 27,
	UA_MAP_ARENA_TYPE = 33,
};

/* Update flags (uapi). */
#define UA_ANY     0ULL
#define UA_NOEXIST 1ULL
#define UA_EXIST   2ULL
#define UA_F_LOCK  4ULL

/* The kernel-internal ENOTSUPP some map ops return to user space. */
#define UA_ENOTSUPP 524

struct ua_map_ops {
	/* Returns a pointer to the value (for the current CPU's slot in per-CPU maps) or NULL. */
	void *(*lookup)(struct ua_map *m, const void *key, uint32_t cpu);
	int (*update)(struct ua_map *m, const void *key, const void *value, uint64_t flags,
		      uint32_t cpu);
	int (*delete)(struct ua_map *m, const void *key);
	int (*get_next_key)(struct ua_map *m, const void *key, void *next_key);
	/* User path; NULL means "copy through lookup/update". Per-CPU maps: all CPUs. */
	int (*lookup_user)(struct ua_map *m, const void *key, void *value);
	int (*update_user)(struct ua_map *m, const void *key, const void *value, uint64_t flags);
	void (*free)(struct ua_map *m);
};

/* What a map is created from: BTF map definition or a global-data section. */
struct ua_map_def {
	const char *name;
	uint32_t type;
	uint32_t key_size, value_size, max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
	int numa_node;
	uint32_t nr_cpus; /* per-CPU maps: number of slots */
};

#define UA_MAP_NAME_LEN 64

struct ua_map {
	const struct ua_map_ops *ops;
	char name[UA_MAP_NAME_LEN];
	uint32_t type;
	uint32_t key_size, value_size, max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
	uint32_t nr_cpus;
	struct ua_arena *arena; /* UA_MAP_ARENA_TYPE only */
	void *mmaped;           /* ARRAY with MMAPABLE / global data / arena user view; else NULL */
	size_t mmap_sz;
	bool frozen;            /* read-only for user-space updates (.rodata after load) */
	/* Storage that program-path pointers (lookup, ringbuf reserve) point into:
	 * the run's bounds checks allow it. */
	void *value_mem;
	size_t value_mem_sz;
};

/*
 * An ARENA map: what BPF programs see as struct bpf_arena (CO-RE reads of
 * map.max_entries and user_vm_start/end are resolved to these fields).
 */
struct ua_arena_map {
	struct ua_map map;
	uint64_t user_vm_start;
	uint64_t user_vm_end;
};

/* Creates a map of def->type with the kernel's checks; -EINVAL etc. + message. */
int ua_map_create(const struct ua_map_def *def, char *err, size_t err_sz, struct ua_map **out);
void ua_map_free(struct ua_map *m);
/* Per-CPU maps: bytes a user-space lookup/update exchanges; others: value_size. */
size_t ua_map_user_value_size(const struct ua_map *m);
bool ua_map_is_percpu(const struct ua_map *m);
/* Fills the generic fields; used by each type's create. */
void ua_map_init_common(struct ua_map *m, const struct ua_map_def *def,
			const struct ua_map_ops *ops);

/* Per-type constructors (src/map_<type>.c). */
int ua_map_array_create(const struct ua_map_def *def, char *err, size_t err_sz, struct ua_map **out);
int ua_map_hash_create(const struct ua_map_def *def, char *err, size_t err_sz, struct ua_map **out);
int ua_map_ringbuf_create(const struct ua_map_def *def, char *err, size_t err_sz,
			  struct ua_map **out);
int ua_map_arena_create(const struct ua_map_def *def, char *err, size_t err_sz, struct ua_map **out);

/*
 * Ring buffer, for the bpf_ringbuf_* helpers (kernel semantics): a sample
 * is preceded by an 8-byte header {u32 len | BUSY(1<<31) | DISCARD(1<<30),
 * u32 pg_off}; submit/discard find the buffer from the sample alone.
 */
#define UA_RINGBUF_BUSY_BIT    (1U << 31)
#define UA_RINGBUF_DISCARD_BIT (1U << 30)
#define UA_RINGBUF_HDR_SZ      8
/* Query flags for ua_ringbuf_query (BPF_RB_*). */
#define UA_RB_AVAIL_DATA 0
#define UA_RB_RING_SIZE  1
#define UA_RB_CONS_POS   2
#define UA_RB_PROD_POS   3
void *ua_ringbuf_reserve(struct ua_map *m, uint64_t size, uint64_t flags);
void ua_ringbuf_submit(void *sample, uint64_t flags);
void ua_ringbuf_discard(void *sample, uint64_t flags);
long ua_ringbuf_output(struct ua_map *m, const void *data, uint64_t size, uint64_t flags);
uint64_t ua_ringbuf_query(struct ua_map *m, uint64_t flags);

#endif
