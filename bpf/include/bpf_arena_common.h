/* SPDX-License-Identifier: MIT */
/*
 * Arena pointers for BPF C (the selftests' bpf_arena_common.h vocabulary).
 *
 * `__arena` puts a pointer in address space 1; clang then emits
 * addr_space_cast itself: cast_kern (as1 -> as0, keep the low 32 bits)
 * before every dereference and cast_user (as0 -> as1, add the arena's upper
 * 32 bits) whenever a pointer is stored. So pointers stored *in* the arena
 * are always user-form addresses the host can follow directly. The explicit
 * cast_kern()/cast_user() macros are for BPF_ARENA_FORCE_ASM builds, where
 * `__arena` is empty and the casts are written out as inline asm.
 *
 * Compiled as host C (no __BPF__), the same structs have plain pointers, so
 * a header describing arena data structures can be shared by both sides.
 */
#ifndef UA_BPF_ARENA_COMMON_H
#define UA_BPF_ARENA_COMMON_H

#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif

#ifdef __BPF__

#include "bpf_helpers.h"

#if defined(__BPF_FEATURE_ADDR_SPACE_CAST) && !defined(BPF_ARENA_FORCE_ASM)
#define __arena __attribute__((address_space(1)))
#define __arena_global __attribute__((address_space(1)))
#define cast_kern(ptr) /* emitted by clang */
#define cast_user(ptr) /* emitted by clang */
#else
#define __arena
#define __arena_global SEC(".addr_space.1")
/* rX = addr_space_cast(rX, dst_as, src_as): imm = dst_as << 16 | src_as. */
#define bpf_addr_space_cast(var, dst_as, src_as)                               \
	asm volatile(".byte 0xBF;                 \
		      .ifc %[reg], r0;            \
		      .byte 0x00;                 \
		      .endif;                     \
		      .ifc %[reg], r1;            \
		      .byte 0x11;                 \
		      .endif;                     \
		      .ifc %[reg], r2;            \
		      .byte 0x22;                 \
		      .endif;                     \
		      .ifc %[reg], r3;            \
		      .byte 0x33;                 \
		      .endif;                     \
		      .ifc %[reg], r4;            \
		      .byte 0x44;                 \
		      .endif;                     \
		      .ifc %[reg], r5;            \
		      .byte 0x55;                 \
		      .endif;                     \
		      .ifc %[reg], r6;            \
		      .byte 0x66;                 \
		      .endif;                     \
		      .ifc %[reg], r7;            \
		      .byte 0x77;                 \
		      .endif;                     \
		      .ifc %[reg], r8;            \
		      .byte 0x88;                 \
		      .endif;                     \
		      .ifc %[reg], r9;            \
		      .byte 0x99;                 \
		      .endif;                     \
		      .short %[off];              \
		      .long %[as]"                \
		     : [reg] "+r"(var)                                         \
		     : [off] "i"(1), [as] "i"((dst_as << 16) | src_as));
#define cast_kern(ptr) bpf_addr_space_cast(ptr, 0, 1)
#define cast_user(ptr) bpf_addr_space_cast(ptr, 1, 0)
#endif

/* Arena kfuncs (kernel/bpf/arena.c); `map` is &arena, the SEC(".maps") arena. */
void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt, int node_id,
				    __u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;
int bpf_arena_reserve_pages(void *map, void __arena *addr, __u32 page_cnt) __ksym __weak;

#ifndef __VMLINUX_H__
/*
 * Just the fields arena programs read through CO-RE (field names matter, not
 * offsets): basic_alloc3 reads map.max_entries, arena_base() user_vm_start.
 */
struct bpf_map {
	__u32 max_entries;
} __attribute__((preserve_access_index));

struct bpf_arena {
	struct bpf_map map;
	__u64 user_vm_start;
	__u64 user_vm_end;
} __attribute__((preserve_access_index));
#endif

/* The arena's first user address (user_vm_start) as an arena pointer. */
#define arena_base(map) ((void __arena *)((struct bpf_arena *)(map))->user_vm_start)

#else /* host C sharing arena data-structure definitions */

#include <linux/types.h>

#define __arena
#define __arena_global
#define __arg_arena
#define cast_kern(ptr)
#define cast_user(ptr)

#endif /* __BPF__ */

#ifndef arena_container_of
#define arena_container_of(ptr, type, member)                                  \
	({                                                                     \
		void __arena *__mptr = (void __arena *)(ptr);                  \
		((type *)((char __arena *)__mptr - __builtin_offsetof(type, member))); \
	})
#endif

#endif
