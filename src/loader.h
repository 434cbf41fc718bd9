/* SPDX-License-Identifier: MIT */
/*
 * Loader internals (owner: loader module): the object and program structs
 * behind the opaque public handles, shared by loader.c (ELF -> object),
 * loader_prog.c (per-program linking and relocation) and object.c (public
 * entry points and test runs).
 */
#ifndef UA_LOADER_H
#define UA_LOADER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uarena/object.h>

#include "btf.h"
#include "elf_reader.h"
#include "exec.h"
#include "helpers.h"
#include "map.h"
#include "prog.h"

/*
 * A CO-RE field relocation resolved against uarena's struct bpf_map /
 * bpf_arena (not the local type): a kernel twin redoes it against vmlinux
 * (src/kernel/kcore.c). path: root struct, then member names, dot-separated
 * ("bpf_arena.map.max_entries").
 */
struct ua_core_kernel_site {
	uint32_t insn;  /* index in the linked program */
	uint32_t kind;  /* UA_CORE_FIELD_* */
	char path[112];
};

struct ua_program {
	struct ua_object *obj;  /* NULL for a raw program */
	char *name;
	char *sec_name;
	enum ua_prog_type type;
	size_t sec_idx;         /* ELF section holding the entry function */
	size_t sec_insn;        /* its first insn within the section */
	size_t sec_len;         /* its insn count */
	struct ua_insn *insns;  /* linked: entry function, then used subprogs */
	size_t n_insns;
	struct ua_prog *prog;   /* prepared; NULL if not prepared */
	bool uses_arena;
	bool autoload;          /* false for SEC("?...") */
	uint32_t max_ctx_offset; /* syscall programs: ctx bytes the entry function touches */
	/* raw programs own these (objects keep them in struct ua_object) */
	ua_trace_fn trace;
	void *trace_ctx;

	/* CO-RE sites on kernel map structs, for a kernel twin (src/kernel/kcore.c) */
	struct ua_core_kernel_site *core_kernel_sites;
	size_t n_core_kernel_sites;
};

struct ua_object {
	char name[64];
	struct ua_map **maps;
	size_t n_maps;
	struct ua_program *progs;
	size_t n_progs;
	const struct ua_helper_def **kfuncs; /* kfunc call imm = index here */
	size_t n_kfuncs;
	struct ua_map *arena;                /* the object's arena map, if any */
	uint64_t arena_data_off;             /* where .addr_space.1 was placed */
	uint32_t nr_cpus;
	ua_trace_fn trace;
	void *trace_ctx;
	const struct ua_helpers *helpers;    /* embedder's helpers, before the built-ins */
	struct ua_arena *raw_arena;          /* raw programs: the caller's arena (not owned) */
	struct ua_mem_region *regions;       /* map values + map structs, for bounds checks */
	size_t n_regions;
	/* CPU id pool for concurrent test runs */
	pthread_mutex_t cpu_lock;
	pthread_cond_t cpu_cond;
	bool *cpu_busy;
};

/*
 * Packet program contexts: the public struct (xdp_md, __sk_buff: at most
 * UA_CTX_PUBLIC_MAX bytes) followed by the real 64-bit packet pointers that
 * rewritten ctx->data/data_end/data_meta loads read (see object.c).
 */
#define UA_CTX_PUBLIC_MAX    192
#define UA_CTX_PTR_DATA      200
#define UA_CTX_PTR_DATA_END  208
#define UA_CTX_PTR_DATA_META 216

/* What loader.c hands to loader_prog.c for one object. */
enum ld_sec_kind {
	LD_SEC_OTHER = 0,
	LD_SEC_PROG,    /* executable code (incl. .text) */
	LD_SEC_MAPS,    /* .maps */
	LD_SEC_DATA,    /* global data: map_idx */
	LD_SEC_ARENA,   /* .addr_space.1 */
};

struct ld_sec {
	enum ld_sec_kind kind;
	const char *name;
	const struct ua_insn *insns; /* LD_SEC_PROG */
	size_t n_insns;
	struct ua_insn *insns_copy;  /* owned aligned copy when the ELF data was misaligned */
	size_t rel_idx;              /* ELF index of its SHT_REL section, 0 = none */
	int map_idx;                 /* LD_SEC_DATA */
};

struct ld_state {
	struct ua_object *obj;
	struct ua_elf elf;
	struct ua_btf *btf;
	struct ua_btf_ext *btf_ext;
	struct ld_sec *secs;          /* indexed by ELF section index */
	size_t maps_sec;              /* .maps index, 0 = none */
	/* .maps symbol offset -> map index */
	struct { uint64_t off; int map_idx; } *map_syms; /* map_idx -1: not created */
	/* With only_prog, a map that cannot be created only fails the programs
	 * that reference it: its name and the reason, by .maps offset. */
	struct { uint64_t off; char name[UA_MAP_NAME_LEN]; char why[200]; int err; } *failed_maps;
	size_t n_failed_maps;
	bool only_prog;
	size_t n_map_syms;
	int kconfig_map;              /* -1 = none */
	int32_t kconfig_datasec;      /* BTF id of DATASEC .kconfig, or -1 */
	uint32_t *kconfig_offs;       /* offset of each .kconfig var in the map */
	char *err;
	size_t err_sz;
};

/* One function copied into a linked program. */
struct ld_piece {
	size_t sec;   /* ELF section */
	size_t start; /* first insn in the section */
	size_t len;
	size_t out;   /* position in the linked program */
};

/* A program being linked (loader_prog.c), then CO-RE-relocated (loader_core.c). */
struct ld_link {
	struct ld_state *ld;
	struct ua_program *prog;
	struct ld_piece *pieces;
	size_t n_pieces;
	struct ua_insn *out;
	size_t n_out, cap_out;
};

int ua_loader_apply_core(struct ld_link *lk);

/*
 * CO-RE arithmetic shared with the kernel twin (src/kernel/kcore.c), which
 * redoes relocations against vmlinux. A field as found in the target BTF:
 * bit_sz 0 = not a bitfield; byte_sz = its size where the target defines it
 * without BTF (uarena's own struct bpf_map), else 0 (resolved from type_id).
 */
struct ua_core_field {
	uint64_t bit_off;
	uint32_t bit_sz;
	uint32_t type_id;
	uint32_t byte_sz;
};
/* libbpf's bpf_core_calc_field_relo for a little-endian target: the value a
 * FIELD_* relocation patches in. -EINVAL / -E2BIG with *why set. */
int ua_core_field_value(const struct ua_btf *btf, const struct ua_core_field *f, uint32_t kind,
			uint64_t *value, const char **why);
/* Patches value into insns[idx] (load/store off, ALU imm, ld_imm64 pair).
 * -ERANGE: an offset over INT16_MAX; -EINVAL: an insn with no such operand. */
int ua_core_patch_insn(struct ua_insn *insns, size_t n, size_t idx, uint64_t value);

/* loader_prog.c: links prog (entry + subprogs), applies relocations and
 * CO-RE, and prepares it. Errors name the program, insn and symbol. */
int ua_loader_link_prog(struct ld_state *ld, struct ua_program *prog);
int ua_loader_prepare_prog(struct ua_object *obj, struct ua_program *prog, char *err,
			   size_t err_sz);
/* object.c */
void ua_object_free(struct ua_object *obj);
int ua_object_build_regions(struct ua_object *obj);

#endif
