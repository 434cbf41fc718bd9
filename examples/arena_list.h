/* SPDX-License-Identifier: MIT */
/*
 * Example (a)'s layout, shared by the BPF program and the host: the .bss
 * struct the host reads through the global-data map, and the list element.
 * Pointers are user-form, so on the host they are plain pointers.
 */
#ifndef EXAMPLE_ARENA_LIST_H
#define EXAMPLE_ARENA_LIST_H

#include "../bpf/include/bpf_arena_list.h"

struct elem {
	struct arena_list_node node;
	__u64 value;
};

struct list_stats {
	long arena_sum; /* sum of live values, kept by BPF */
	int test_val;   /* 1 + number of elements ever added */
};

/* The program's only .bss variable, so it sits at offset 0 of "<obj>.bss". */
struct list_globals {
	struct arena_list_head __arena *list_head; /* published by arena_list_add */
	struct list_stats __arena *stats;          /* published by arena_list_add */
	int list_sum;                              /* set by arena_list_del */
	int cnt;                                   /* set by the host before add */
};

#endif
