/* SPDX-License-Identifier: MIT */
/*
 * ARENA map: a struct ua_map wrapping a struct ua_arena (arena module).
 * Created like libbpf does right after BPF_MAP_CREATE: the arena maps its
 * user view immediately (at map_extra, or where it chooses), and
 * ua_map_mmaped() returns that view. The syscall-level ops have the
 * kernel's answers (spec §1): lookup -EINVAL, update/delete/get_next_key
 * -EOPNOTSUPP (the generic layer already turned non-NULL keys into -EINVAL).
 */
#include "map.h"

#include "internal.h"

#include <uarena/arena.h>

#include <stdlib.h>


static void *arena_lookup(struct ua_map *m, const void *key, uint32_t cpu) { return NULL; }
static int arena_update(struct ua_map *m, const void *k, const void *v, uint64_t f, uint32_t c)
{
	return -EOPNOTSUPP;
}
static int arena_update_user(struct ua_map *m, const void *k, const void *v, uint64_t f)
{
	return -EOPNOTSUPP;
}
static int arena_lookup_user(struct ua_map *m, const void *k, void *v) { return -EINVAL; }
static int arena_delete(struct ua_map *m, const void *k) { return -EOPNOTSUPP; }
static int arena_next(struct ua_map *m, const void *k, void *n) { return -EOPNOTSUPP; }

static void arena_free(struct ua_map *m)
{
	struct ua_arena_map *a = container_of(m, struct ua_arena_map, map);

	ua_arena_destroy(m->arena);
	free(a);
}

static const struct ua_map_ops arena_ops = {
	.lookup = arena_lookup,
	.update = arena_update,
	.delete = arena_delete,
	.get_next_key = arena_next,
	.lookup_user = arena_lookup_user,
	.update_user = arena_update_user,
	.free = arena_free,
};

int ua_map_arena_create(const struct ua_map_def *def, char *err, size_t err_sz,
			struct ua_map **out)
{
	const char *name = def->name ? def->name : "";
	struct ua_arena_map *a;

	*out = NULL;
	char aerr[200] = "";
	UA_OPTS(ua_arena_opts, o, .max_entries = def->max_entries, .key_size = def->key_size,
		.value_size = def->value_size, .map_flags = def->map_flags,
		.map_extra = def->map_extra, .numa_node = def->numa_node, .err_buf = aerr,
		.err_buf_sz = sizeof(aerr));
	struct ua_arena *arena;
	int ret = ua_arena_create(&o, &arena);

	if (ret)
		return ua_errf(err, err_sz, ret, "map: '%s': %s", name, aerr);
	a = calloc(1, sizeof(*a));
	if (!a) {
		ua_arena_destroy(arena);
		return -ENOMEM;
	}
	ua_map_init_common(&a->map, def, &arena_ops);
	a->map.arena = arena;
	a->map.mmaped = ua_arena_user_base(arena);
	a->map.mmap_sz = ua_arena_size(arena);
	a->user_vm_start = (uintptr_t)a->map.mmaped;
	a->user_vm_end = a->user_vm_start + a->map.mmap_sz;
	*out = &a->map;
	return 0;
}
