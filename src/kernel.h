/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend (owner: kernel module): raw bpf(2) without libbpf, so
 * the same program can run in uarena and in the real kernel and the results
 * can be compared (tests/test_kernel_arena.c, `uarena diff`, benchmarks).
 *
 * Three layers, each usable alone:
 *   ua_kbpf_*   one wrapper per bpf() command. Attribute structs below carry
 *               the fields of the 6.18 uapi union bpf_attr (linux-libc-dev 6.1
 *               predates arenas, so src/kernel/kbpf.c mirrors the layout
 *               itself). Every wrapper returns a new fd / 0 on success and
 *               -errno (never -1) on failure; where a person reads the reason,
 *               a caller buffer (err, err_sz) gets "kernel: what (where)", and
 *               a verifier rejection copies the verifier log into it.
 *   ua_kbtf_*   kernel BTF: vmlinux type ids by name, for kfunc calls
 *               (BPF_PSEUDO_KFUNC_CALL, imm = id, off = 0 for vmlinux); an
 *               adapter over the loader's BTF parser (src/btf.h).
 *   ua_karena_* one kernel arena plus a small SEC("syscall")-type program
 *               built from raw instructions that performs one arena kfunc
 *               (alloc/free/reserve) or one BPF-side access per
 *               BPF_PROG_TEST_RUN. This is how the differential tests drive
 *               the kernel's allocator with exactly the calls uarena sees.
 */
#ifndef UA_KERNEL_H
#define UA_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uarena/insn.h>

/* uapi constants newer than the installed headers (values from 6.18 uapi). */
#define UA_KBPF_MAP_TYPE_ARRAY      2
#define UA_KBPF_MAP_TYPE_HASH       1
#define UA_KBPF_MAP_TYPE_ARENA      33
#define UA_KBPF_F_NO_PREALLOC       (1u << 0)
#define UA_KBPF_F_NUMA_NODE         (1u << 2)
#define UA_KBPF_F_RDONLY_PROG       (1u << 7)
#define UA_KBPF_F_MMAPABLE          (1u << 10)
#define UA_KBPF_F_SEGV_ON_FAULT     (1u << 17)
#define UA_KBPF_F_NO_USER_CONV      (1u << 18)
#define UA_KBPF_PROG_TYPE_SOCKET_FILTER 1
#define UA_KBPF_PROG_TYPE_SCHED_CLS 3
#define UA_KBPF_PROG_TYPE_XDP       6
#define UA_KBPF_PROG_TYPE_SYSCALL   31
#define UA_KBPF_F_SLEEPABLE         (1u << 4) /* prog_flags */
#define UA_KBPF_ANY                 0
#define UA_KBPF_NOEXIST             1
#define UA_KBPF_EXIST               2
#define UA_KBPF_ENOTSUPP            524 /* kernel-internal errno some map ops return */

/*
 * Probe: can this process use bpf() with arenas? Returns 0, or -errno with a
 * sentence in why: -EPERM (not root / no CAP_BPF), -ENOSYS (no bpf()),
 * -EOPNOTSUPP (kernel without BPF_MAP_TYPE_ARENA or without arena JIT support).
 */
int ua_kbpf_available(char *why, size_t why_sz);

struct ua_kbpf_map_attr {
	uint32_t map_type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t inner_map_fd;
	uint32_t numa_node;
	char name[16];
	uint32_t btf_fd;
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	uint32_t btf_vmlinux_value_type_id;
	uint64_t map_extra;
};

/* Returns the map fd or -errno (message in err names the map and the cause). */
int ua_kbpf_map_create(const struct ua_kbpf_map_attr *attr, char *err, size_t err_sz);
int ua_kbpf_map_lookup(int map_fd, const void *key, void *value, uint64_t flags);
int ua_kbpf_map_update(int map_fd, const void *key, const void *value, uint64_t flags);
int ua_kbpf_map_delete(int map_fd, const void *key);
int ua_kbpf_map_get_next_key(int map_fd, const void *key, void *next_key);
int ua_kbpf_map_lookup_and_delete(int map_fd, const void *key, void *value);
int ua_kbpf_map_freeze(int map_fd);

/* The fields of struct bpf_map_info up to map_extra (6.18 layout). */
struct ua_kbpf_map_info {
	uint32_t type;
	uint32_t id;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	char name[16];
	uint32_t ifindex;
	uint32_t btf_vmlinux_value_type_id;
	uint64_t netns_dev;
	uint64_t netns_ino;
	uint32_t btf_id;
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	uint32_t btf_vmlinux_id;
	uint64_t map_extra;
};

/* BPF_OBJ_GET_INFO_BY_FD: *info_len in = buffer size, out = bytes the kernel filled. */
int ua_kbpf_obj_get_info(int fd, void *info, uint32_t *info_len);
int ua_kbpf_map_get_info(int map_fd, struct ua_kbpf_map_info *info);

/* BPF_BTF_LOAD; on failure the kernel's BTF log (level 1) is copied into err. */
int ua_kbpf_btf_load(const void *btf, uint32_t btf_size, char *err, size_t err_sz);

struct ua_kbpf_prog_attr {
	uint32_t prog_type;
	const struct ua_insn *insns;
	uint32_t insn_cnt;
	const char *license;           /* NULL = "GPL" (kfuncs need a GPL program) */
	uint32_t expected_attach_type;
	uint32_t prog_flags;           /* e.g. UA_KBPF_F_SLEEPABLE */
	char name[16];
	uint32_t prog_btf_fd;
	uint32_t attach_btf_id;
	/* .BTF.ext func/line info records (need prog_btf_fd), passed through as is. */
	const void *func_info;
	uint32_t func_info_rec_size, func_info_cnt;
	const void *line_info;
	uint32_t line_info_rec_size, line_info_cnt;
	const int *fd_array;           /* kfunc module BTF fds (kfunc call off = index) */
	uint32_t fd_array_cnt;         /* 0: fd_array only indexed, not pre-bound */
	uint32_t log_level;            /* 0: retry with level 1 only when loading fails */
	char *log_buf;                 /* optional: the full verifier log */
	uint32_t log_size;
};

/*
 * BPF_PROG_LOAD. Returns the prog fd or -errno. When the verifier rejects the
 * program, err gets "kernel: verifier rejected program 'name' (-EACCES):" and
 * the tail of the verifier log (the part that says why).
 */
int ua_kbpf_prog_load(const struct ua_kbpf_prog_attr *attr, char *err, size_t err_sz);

struct ua_kbpf_test_run {
	const void *data_in;
	uint32_t data_size_in;
	void *data_out;
	uint32_t data_size_out;  /* in: buffer size; out: bytes the program produced */
	void *ctx_in;            /* SYSCALL programs: the kernel writes the ctx back here */
	uint32_t ctx_size_in;
	void *ctx_out;
	uint32_t ctx_size_out;   /* in: buffer size; out: bytes written */
	uint32_t repeat;
	uint32_t flags;
	uint32_t cpu;
	uint32_t retval;         /* out */
	uint32_t duration;       /* out: average ns per run, measured by the kernel */
};

/* BPF_PROG_TEST_RUN. */
int ua_kbpf_prog_test_run(int prog_fd, struct ua_kbpf_test_run *run);

/*
 * mmap of an arena map (MAP_SHARED, offset 0). addr NULL lets the kernel
 * choose; with fixed, MAP_FIXED_NOREPLACE is passed (an address in use is
 * -EEXIST, never replaced). Returns 0 and *out, or -errno.
 */
int ua_kbpf_arena_mmap(int map_fd, void *addr, size_t len, int prot, bool fixed, void **out);

/* ---- kernel BTF ---- */

struct ua_kbtf;

/* Reads a raw BTF file (default /sys/kernel/btf/vmlinux when path is NULL). */
int ua_kbtf_open(const char *path, struct ua_kbtf **out, char *err, size_t err_sz);
void ua_kbtf_close(struct ua_kbtf *btf);
/* Type id of the first type of that BTF kind (12 = FUNC) and name; -ENOENT if none. */
int ua_kbtf_find(const struct ua_kbtf *btf, const char *name, unsigned kind);
#define UA_KBTF_KIND_FUNC 12
/* The parsed BTF behind kb (src/btf.h), for lookups beyond names. */
struct ua_btf;
const struct ua_btf *ua_kbtf_btf(const struct ua_kbtf *kb);
/* Convenience: one open + lookup of a vmlinux FUNC (kfunc) id. */
int ua_kbtf_vmlinux_kfunc_id(const char *name, char *err, size_t err_sz);

/* ---- kernel arena driven by a raw syscall program ---- */

struct ua_karena;

struct ua_karena_attr {
	uint32_t max_entries;
	uint32_t map_flags;      /* 0 = UA_KBPF_F_MMAPABLE */
	uint64_t map_extra;
	uint32_t mmap_pages;     /* user mapping length in pages; 0 = max_entries */
};

/* Creates the arena map, mmaps it (at map_extra when set) and loads the op program. */
int ua_karena_create(const struct ua_karena_attr *attr, struct ua_karena **out, char *err,
		     size_t err_sz);
/*
 * The op program against an arena map someone else created and mmapped (at
 * user_base); the handle does not own the map or the mapping.
 */
int ua_karena_attach(int map_fd, uint8_t *user_base, size_t user_size, struct ua_karena **out,
		     char *err, size_t err_sz);
void ua_karena_destroy(struct ua_karena *ka);
int ua_karena_map_fd(const struct ua_karena *ka);
/* The user mapping (user_vm_start) and its length in bytes. */
uint8_t *ua_karena_user_base(const struct ua_karena *ka);
size_t ua_karena_user_size(const struct ua_karena *ka);

/*
 * The kfuncs, run inside the kernel by the op program. Each returns 0 and the
 * kfunc's result, or -errno when the program could not run.
 * alloc: *result = the returned user-form pointer (0 = NULL).
 * reserve: *result = the kfunc's int return value (0, -EINVAL, -EBUSY).
 */
int ua_karena_alloc(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt, int32_t node_id,
		    uint64_t flags, uint64_t *result);
int ua_karena_free(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt);
int ua_karena_reserve(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt, int64_t *result);
/* A BPF-side 8-byte load/store through an arena pointer (cast_kern + PROBE_MEM32). */
int ua_karena_bpf_read(struct ua_karena *ka, uint64_t addr, uint64_t *value);
int ua_karena_bpf_write(struct ua_karena *ka, uint64_t addr, uint64_t value);
/*
 * Runs `iterations` alloc(1)+free pairs in one program run (a may_goto loop
 * in the program, so the syscall cost is paid once). *failed counts allocs
 * that returned NULL. iterations must be <= UA_KARENA_LOOP_MAX (-E2BIG);
 * -ERANGE if the kernel's loop budget stopped the loop early.
 */
#define UA_KARENA_LOOP_MAX (1u << 20)
int ua_karena_alloc_free_loop(struct ua_karena *ka, uint32_t iterations, uint32_t *failed);
/*
 * The first page offset in [start, end) that is not free (allocated, user-
 * faulted or reserved), found inside the kernel without touching any page
 * and leaving the allocator as it was; -ENOENT when all are free.
 */
int ua_karena_next_busy(struct ua_karena *ka, uint64_t start, uint64_t end, uint64_t *pgoff);
/*
 * Sum of `words` consecutive u64 BPF-side loads from addr (user form) in one
 * program run: the kernel's program-view load path, for benchmarks and for
 * checking that unallocated pages read as 0. -ERANGE if may_goto's budget
 * (8M iterations) ended the loop early.
 */
int ua_karena_bpf_sum(struct ua_karena *ka, uint64_t addr, uint32_t words, uint64_t *sum);

/* ---- an object description loaded into the kernel (for `uarena diff`) ---- */

/*
 * What the ELF loader knows about an object, in kernel terms: maps with
 * their creation attributes and initial contents, programs with their raw
 * instructions and the relocations the kernel needs (map fds, map values,
 * kfunc BTF ids). ua_kobj_load() does what libbpf does at load time:
 * uploads BTF, creates maps (an arena is mmapped at map_extra or where the
 * kernel chooses, its image copied in through the user view — which faults
 * those pages in, as with libbpf), fills and freezes global-data maps,
 * patches the instructions and loads every program.
 */
struct ua_kobj_map_desc {
	const char *name;
	struct ua_kbpf_map_attr attr;  /* name is taken from `name` */
	const void *init;              /* ARRAY: value of key 0; ARENA: image; NULL = none */
	uint32_t init_size;
	uint64_t init_offset;          /* ARENA: byte offset of the image (arena_data_off) */
	bool freeze;                   /* .rodata: freeze after filling (libbpf does) */
	/*
	 * ARENA with map_extra: mmap and copy the image in a short-lived child,
	 * for an address this process cannot map (uarena's own arena is there);
	 * ua_kobj_arena_base() is then NULL, the pages live on in the kernel.
	 */
	bool mmap_in_child;
};

enum ua_kobj_reloc_kind {
	UA_KOBJ_RELOC_MAP_FD,     /* ld_imm64: imm = map fd (src_reg PSEUDO_MAP_FD) */
	UA_KOBJ_RELOC_MAP_VALUE,  /* ld_imm64: imm = map fd, insn[1].imm = offset */
	UA_KOBJ_RELOC_KFUNC,      /* call: src_reg PSEUDO_KFUNC_CALL, imm = vmlinux BTF id */
};

struct ua_kobj_reloc {
	uint32_t insn_idx;
	enum ua_kobj_reloc_kind kind;
	uint32_t map_idx;          /* MAP_FD, MAP_VALUE */
	uint32_t value_off;        /* MAP_VALUE */
	const char *kfunc;         /* KFUNC: name looked up in vmlinux BTF */
};

struct ua_kobj_prog_desc {
	const char *name;
	uint32_t prog_type;
	uint32_t expected_attach_type;
	uint32_t prog_flags;
	const struct ua_insn *insns;
	uint32_t insn_cnt;
	const struct ua_kobj_reloc *relocs;
	uint32_t n_relocs;
	/* .BTF.ext records for this program (optional; need desc->btf). */
	const void *func_info;
	uint32_t func_info_rec_size, func_info_cnt;
	const void *line_info;
	uint32_t line_info_rec_size, line_info_cnt;
};

struct ua_kobj_desc {
	const struct ua_kobj_map_desc *maps;
	uint32_t n_maps;
	const struct ua_kobj_prog_desc *progs;
	uint32_t n_progs;
	const void *btf;           /* the object's .BTF, optional */
	uint32_t btf_size;
};

struct ua_kobj;

/* Errors name the map, program, instruction or kfunc: "kernel: prog 'p' insn 4: ...". */
int ua_kobj_load(const struct ua_kobj_desc *desc, struct ua_kobj **out, char *err,
		 size_t err_sz);
void ua_kobj_close(struct ua_kobj *ko);
int ua_kobj_map_fd(const struct ua_kobj *ko, uint32_t map_idx);
int ua_kobj_prog_fd(const struct ua_kobj *ko, uint32_t prog_idx);
/* The arena's user mapping (NULL when map_idx is not an arena or was mapped in a child). */
uint8_t *ua_kobj_arena_base(const struct ua_kobj *ko, uint32_t map_idx, size_t *size);
int ua_kobj_test_run(struct ua_kobj *ko, uint32_t prog_idx, struct ua_kbpf_test_run *run);

/* ---- func_info for twins of programs with callbacks (src/kernel/kfuncinfo.c) ---- */

/* struct bpf_func_info */
struct ua_kbpf_func_info {
	uint32_t insn_off;
	uint32_t type_id;
};

/*
 * A BTF of static `int f(void)` FUNCs, one per subprogram of the programs
 * added, for their func_info (the verifier demands it for callbacks).
 */
struct ua_kfuncinfo;

int ua_kfuncinfo_create(struct ua_kfuncinfo **out);
void ua_kfuncinfo_destroy(struct ua_kfuncinfo *b);
/*
 * Programs with a BPF_PSEUDO_FUNC (callback) get one FUNC per subprogram and
 * *recs (malloc'd, *cnt records, rec size 8); others get NULL, 0. -EINVAL
 * for a call or callback target outside the program, -ENOMEM.
 */
int ua_kfuncinfo_add_prog(struct ua_kfuncinfo *b, const char *name, const struct ua_insn *insns,
			  uint32_t n, struct ua_kbpf_func_info **recs, uint32_t *cnt);
/* The raw BTF (header, types, strings), malloc'd. */
int ua_kfuncinfo_raw(const struct ua_kfuncinfo *b, void **raw, uint32_t *size);

/* ---- CO-RE on struct bpf_map / bpf_arena redone against vmlinux (src/kernel/kcore.c) ---- */

struct ua_program;
/*
 * Patches insns (a copy of p's n linked instructions) with the kernel's
 * answer for each CO-RE site the loader resolved to uarena's own map
 * structs. *vmlinux is opened on first need (caller closes it).
 */
int ua_kcore_redo(const struct ua_program *p, struct ua_insn *insns, uint32_t n,
		  struct ua_kbtf **vmlinux, char *err, size_t err_sz);

/*
 * One step of the linear "which registers hold the ctx" pass that the kernel
 * side uses to size a default ctx and to undo packet-ctx rewrites: a mov64
 * copies the ctx, any other write to a register forgets it, a call forgets
 * r0-r5. Not path-sensitive (the loader's ctx_dataflow is).
 */
uint32_t ua_kctx_regs_after(const struct ua_insn *in, uint32_t ctx_regs);

/* ---- uarena vs kernel on one loaded object (`uarena diff`), src/kernel/kdiff.c ---- */

/* A whole file in a malloc'd buffer (*buf NULL on error); -errno. */
int ua_kfile_read(const char *path, uint8_t **buf, size_t *len);

struct ua_object;
struct ua_kdiff;

/*
 * Builds the kernel twin of obj as it is now (maps and their contents, the
 * arena's globals image read from path's .addr_space.1 size, prepared
 * programs; only `only_prog` when not NULL). The kernel arena gets the same
 * low 32 bits of user_vm_start as uarena's, in another 4 GiB window.
 */
int ua_kdiff_create(struct ua_object *obj, const char *path, const char *only_prog,
		    struct ua_kdiff **out, char *err, size_t err_sz);
void ua_kdiff_destroy(struct ua_kdiff *d);
struct ua_kobj *ua_kdiff_kobj(const struct ua_kdiff *d);
/* kobj program index of the object's program `name`, or -ENOENT. */
int ua_kdiff_kernel_prog(const struct ua_kdiff *d, const char *name);
uint64_t ua_kdiff_kernel_arena_base(const struct ua_kdiff *d);
/*
 * Runs the kernel twin of program `name` with CPU id `cpu` (what
 * bpf_get_smp_processor_id() returns), to match a uarena run on that CPU id:
 * the calling thread is pinned to that CPU for the call.
 */
int ua_kdiff_kernel_test_run(struct ua_kdiff *d, const char *name, uint32_t cpu,
			     struct ua_kbpf_test_run *run);
/*
 * Compares ARRAY/HASH map contents and every arena page (program-view reads,
 * no allocation) after the caller ran programs on both sides. Words that are
 * user-form pointers into each side's own arena with equal low 32 bits count
 * as equal. Writes one line per difference to out; returns their number or
 * -errno.
 */
int ua_kdiff_compare(struct ua_kdiff *d, FILE *out);

#endif
