/* SPDX-License-Identifier: MIT */
/*
 * Example (b) built without clang's address spaces: `__arena` is empty and
 * bpf_arena_common.h writes every cast_kern/cast_user as an explicit
 * addr_space_cast instruction (the selftests' arena_htab_asm). Same
 * results as arena_htab.bpf.o.
 */
#define BPF_ARENA_FORCE_ASM
#include "arena_htab.bpf.c"
