/* SPDX-License-Identifier: MIT */
/*
 * JIT labels: every jump and call is emitted with a zero rel32 and recorded
 * as a fixup against a label; labels (one per BPF insn plus local ones inside
 * an insn's sequence) are bound as code is emitted, and one final pass
 * patches every rel32. All jumps are rel32, so code size never depends on the
 * distance and one pass suffices (ubpf's "patchable relatives").
 */
#include "jit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t cap2;
	void *q;

	if (need <= *cap)
		return true;
	cap2 = *cap ? *cap * 2 : 256;
	while (cap2 < need)
		cap2 *= 2;
	q = realloc(*p, cap2 * elem);
	if (!q)
		return false;
	*p = q;
	*cap = cap2;
	return true;
}

size_t ua_jit_label_new(struct ua_jit_labels *l)
{
	if (l->oom || !grow((void **)&l->pos, &l->cap, l->n + 1, sizeof(*l->pos))) {
		l->oom = true;
		return 0;
	}
	l->pos[l->n] = SIZE_MAX;
	return l->n++;
}

void ua_jit_label_bind(struct ua_jit_labels *l, size_t label, size_t pos)
{
	if (!l->oom && label < l->n)
		l->pos[label] = pos;
}

void ua_jit_label_use(struct ua_jit_labels *l, size_t rel32_at, size_t label)
{
	if (l->oom || !grow((void **)&l->fix, &l->cap_fix, l->n_fix + 1, sizeof(*l->fix))) {
		l->oom = true;
		return;
	}
	l->fix[l->n_fix++] = (struct ua_jit_fixup){ rel32_at, label };
}

int ua_jit_labels_resolve(struct ua_jit_labels *l, uint8_t *code)
{
	if (l->oom)
		return -ENOMEM;
	for (size_t i = 0; i < l->n_fix; i++) {
		const struct ua_jit_fixup *f = &l->fix[i];
		int64_t rel;
		int32_t rel32;

		if (f->label >= l->n || l->pos[f->label] == SIZE_MAX)
			return -EINVAL;
		rel = (int64_t)l->pos[f->label] - (int64_t)(f->at + 4);
		if (rel < INT32_MIN || rel > INT32_MAX)
			return -E2BIG;
		rel32 = (int32_t)rel;
		memcpy(code + f->at, &rel32, 4);
	}
	return 0;
}

void ua_jit_labels_free(struct ua_jit_labels *l)
{
	free(l->pos);
	free(l->fix);
	memset(l, 0, sizeof(*l));
}
