/* SPDX-License-Identifier: MIT */
/* Example (d)'s .bss layout, shared by the BPF program and the host. */
#ifndef EXAMPLE_ARENA_ALLOC_H
#define EXAMPLE_ARENA_ALLOC_H

#include "../bpf/include/bpf_arena_common.h"

#define MAX_OBJS 512

struct alloc_globals {
	int n_objs;                      /* set by the host */
	int obj_size;                    /* set by the host */
	__u8 __arena *__arena *objs;     /* published: the arena array of object pointers */
	void __arena *after_free;        /* free_objs: one page allocated after freeing all */
};

#endif
