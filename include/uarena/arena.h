/* SPDX-License-Identifier: MIT */
/*
 * uarena public API: the BPF arena (BPF_MAP_TYPE_ARENA) in user space.
 *
 * An arena is up to 4 GiB of pages shared by BPF programs and host code,
 * with Linux 6.18 semantics: creation rules and errnos, one user address
 * range (the "user view", dereferenced directly by the host), the program
 * view (4 GiB + guard; program accesses to unallocated pages read 0 and drop
 * writes), bpf_arena_alloc_pages/free_pages/reserve_pages semantics and
 * addr_space_cast. Several unrelated processes may share one arena
 * (ua_arena_attach / ua_arena_open); all of them map it at the same user
 * address, and the allocator state lives in the shared memory itself.
 * See docs/arena-design.md.
 */
#ifndef UARENA_ARENA_H
#define UARENA_ARENA_H

#include <stdbool.h>

#include <uarena/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Map flags (uapi values). Only the first three are valid for an arena. */
#define UA_F_NO_PREALLOC    (1U << 0)
#define UA_F_NUMA_NODE      (1U << 2)
#define UA_F_RDONLY_PROG    (1U << 7)
#define UA_F_MMAPABLE       (1U << 10)
#define UA_F_SEGV_ON_FAULT  (1U << 17)
#define UA_F_NO_USER_CONV   (1U << 18)

#define UA_MAP_TYPE_ARENA   33
#define UA_ARENA_MAX_PAGES  (1U << 20) /* 4 GiB of 4 KiB pages */

struct ua_arena;

struct ua_arena_opts {
	size_t sz;
	uint32_t max_entries;  /* pages */
	uint32_t key_size;     /* must be 0 */
	uint32_t value_size;   /* must be 0 */
	uint64_t map_flags;    /* UA_F_MMAPABLE required */
	uint64_t map_extra;    /* requested user address, 0 = chosen by uarena */
	int numa_node;         /* ignored, as by the kernel (bookkeeping placement only) */
	/*
	 * create: a file to create (O_EXCL; e.g. "/dev/shm/name") instead of an
	 * anonymous memfd, so other processes can ua_arena_open() it. The file
	 * outlives the arena until unlinked (like a pinned map).
	 */
	const char *path;
	/* Force the checked fault path even where userfaultfd works (tests). */
	bool no_uffd;
	char *err_buf;
	size_t err_buf_sz;
	size_t : 0;
};
#define ua_arena_opts__last_field err_buf_sz

/*
 * BPF_MAP_CREATE for an arena: the kernel's checks in kernel order (-EINVAL,
 * -E2BIG, -ERANGE), then maps the user view at map_extra (-EBUSY if that
 * range is occupied) or at an address that does not cross 4 GiB.
 */
UA_API int ua_arena_create(const struct ua_arena_opts *opts, struct ua_arena **out);
/*
 * Attaches to an arena created by another process: fd from ua_arena_fd()
 * (e.g. received with SCM_RIGHTS; it is duplicated, the caller keeps its
 * own). Maps the user view at the creator's address (-EBUSY if occupied).
 * opts: only err_buf/err_buf_sz/no_uffd are read; NULL is fine.
 */
UA_API int ua_arena_attach(int fd, const struct ua_arena_opts *opts, struct ua_arena **out);
/* ua_arena_attach() of a file created with opts.path. */
UA_API int ua_arena_open(const char *path, const struct ua_arena_opts *opts,
			 struct ua_arena **out);
/* Unmaps this process's views; pages live on while another process or the path holds them. */
UA_API void ua_arena_destroy(struct ua_arena *a);

/*
 * mmap()/munmap() of the arena fd with the kernel's arena rules (spec §2),
 * for host code that manages its user view: ua_arena_munmap() of the whole
 * view removes it from this process (later touches fault like after
 * munmap; a partial range → -EINVAL, as 6.18.44 refuses splits);
 * ua_arena_mmap() maps it again, only at user_vm_start with the full
 * length: PROT_EXEC → -EPERM, offset != 0 → -EINVAL, len > size → -E2BIG,
 * other len or addr → -EINVAL, MAP_PRIVATE → -EINVAL, already mapped
 * without MAP_FIXED → -EBUSY. PROT_READ-only and PROT_NONE views are allowed.
 * prot/flags are mmap(2)'s.
 */
UA_API int ua_arena_mmap(struct ua_arena *a, void *addr, size_t len, int prot, int flags,
			 long offset, void **out);
UA_API int ua_arena_munmap(struct ua_arena *a, void *addr, size_t len);

/*
 * bpf_arena_alloc_pages(): returns the user-form address of page_cnt fresh
 * zeroed pages, or NULL exactly where the kernel returns NULL (flags != 0,
 * page_cnt 0 or too big, node_id not -1/0, unaligned or out-of-range addr,
 * any page at addr taken, no free run). addr NULL = best fit. Only the low
 * 32 bits of addr matter. Thread- and process-safe.
 */
UA_API void *ua_arena_alloc_pages(struct ua_arena *a, void *addr, uint32_t page_cnt,
				  int node_id, uint64_t flags);
/* bpf_arena_free_pages(): NULL/0 no-op, rounds down, clips at the end, un-reserves. */
UA_API void ua_arena_free_pages(struct ua_arena *a, void *ptr, uint32_t page_cnt);
/* bpf_arena_reserve_pages(): 0, -EINVAL (past the end) or -EBUSY; unaligned ptr → 0. */
UA_API int ua_arena_reserve_pages(struct ua_arena *a, void *ptr, uint32_t page_cnt);

/* addr_space_cast(v, 1, 0): lo32 0 → 0, else hi32(user_vm_start) | lo32 (NO_USER_CONV: lo32). */
UA_API uint64_t ua_arena_cast_user(const struct ua_arena *a, uint64_t v);
/* addr_space_cast(v, 0, 1): (u32)v. */
static inline uint64_t ua_arena_cast_kern(uint64_t v)
{
	return (uint32_t)v;
}

/* user_vm_start as a pointer the host can dereference. */
UA_API void *ua_arena_user_base(const struct ua_arena *a);
/* Bytes: max_entries * page size. */
UA_API uint64_t ua_arena_size(const struct ua_arena *a);
/* The shared file descriptor to pass to another process (owned by the arena). */
UA_API int ua_arena_fd(const struct ua_arena *a);
UA_API uint64_t ua_arena_flags(const struct ua_arena *a);
UA_API uint32_t ua_arena_max_entries(const struct ua_arena *a);

enum ua_arena_fault_path {
	/* userfaultfd SIGBUS on holes of the program view: zero hot-path cost. */
	UA_ARENA_FAULT_UFFD = 1,
	/* No userfaultfd: program accesses are checked against the allocator first. */
	UA_ARENA_FAULT_CHECKED = 2,
};
/* Which fault-handling path this process uses for the arena. */
UA_API enum ua_arena_fault_path ua_arena_fault_path(const struct ua_arena *a);

#ifdef __cplusplus
}
#endif
#endif
