/* SPDX-License-Identifier: MIT */
/*
 * An hlist in the arena (the selftests' bpf_arena_list.h model): `next`
 * points at the next node, `pprev` at the previous node's `next` field (or
 * the head's `first`), so deletion needs no walk. Every stored pointer is
 * user-form, so the host walks the list with plain loads; shared by BPF and
 * host C.
 */
#ifndef UA_BPF_ARENA_LIST_H
#define UA_BPF_ARENA_LIST_H

#include "bpf_arena_common.h"

struct arena_list_node;
typedef struct arena_list_node __arena arena_list_node_t;

struct arena_list_node {
	arena_list_node_t *next;
	arena_list_node_t *__arena *pprev;
};

struct arena_list_head {
	struct arena_list_node __arena *first;
};
typedef struct arena_list_head __arena arena_list_head_t;

#define list_entry(ptr, type, member) arena_container_of(ptr, type, member)

#define list_entry_safe(ptr, type, member)                                     \
	({                                                                     \
		typeof(*ptr) *___ptr = (ptr);                                  \
		___ptr ? ({ cast_kern(___ptr); list_entry(___ptr, type, member); }) \
		       : NULL;                                                 \
	})

#ifdef __BPF__
#include "bpf_experimental.h"

/* Walks the list; the body may delete `pos`. Bounded by may_goto. */
#define list_for_each_entry(pos, head, member)                                 \
	for (void *___tmp = (pos = list_entry_safe((head)->first, typeof(*(pos)), \
						   member),                    \
			    (void *)0);                                        \
	     pos && ({ ___tmp = (void *)pos->member.next; 1; }) && can_loop;   \
	     pos = list_entry_safe((void __arena *)___tmp, typeof(*(pos)), member))

static inline void list_add_head(arena_list_node_t *n, arena_list_head_t *h)
{
	arena_list_node_t *first = h->first, *__arena *tmp;

	cast_user(first);
	cast_kern(n);
	WRITE_ONCE(n->next, first);
	cast_kern(first);
	if (first) {
		tmp = &n->next;
		cast_user(tmp);
		WRITE_ONCE(first->pprev, tmp);
	}
	cast_user(n);
	WRITE_ONCE(h->first, n);

	tmp = &h->first;
	cast_user(tmp);
	cast_kern(n);
	WRITE_ONCE(n->pprev, tmp);
}

static inline void __list_del(arena_list_node_t *n)
{
	arena_list_node_t *next = n->next;
	arena_list_node_t *__arena *pprev = n->pprev;

	cast_user(next);
	cast_kern(pprev);
	WRITE_ONCE(*pprev, next);
	if (next) {
		cast_user(pprev);
		cast_kern(next);
		WRITE_ONCE(next->pprev, pprev);
	}
}

#define LIST_POISON1 ((void __arena *)0x100)
#define LIST_POISON2 ((void __arena *)0x122)

static inline void list_del(arena_list_node_t *n)
{
	__list_del(n);
	n->next = LIST_POISON1;
	n->pprev = LIST_POISON2;
}
#endif

#endif
