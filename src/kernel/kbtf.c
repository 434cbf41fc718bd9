/* SPDX-License-Identifier: MIT */
/*
 * Kernel BTF lookup: type name -> type id in /sys/kernel/btf/vmlinux (or any
 * raw BTF file), which is what a kfunc call needs (imm = BTF id of the FUNC,
 * off = 0 for vmlinux).
 *
 * Model: a thin adapter over the loader's validating parser (src/btf.h): the
 * file is read and checked once (every record bounds-checked, so a corrupt
 * file gives -EINVAL, never a read outside the buffer), then each lookup is
 * a name+kind search. The kernel backend keeps its own small interface so
 * its callers do not depend on the parser's wider API.
 */
#include "kernel.h"

#include "btf.h"
#include "internal.h"

#include <stdlib.h>

struct ua_kbtf {
	struct ua_btf *btf;
};

int ua_kbtf_open(const char *path, struct ua_kbtf **out, char *err, size_t err_sz)
{
	struct ua_kbtf *kb;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for BTF");
	ret = ua_btf_load_file(path ? path : "/sys/kernel/btf/vmlinux", NULL, err, err_sz,
			       &kb->btf);
	if (ret) {
		free(kb);
		return ret;
	}
	*out = kb;
	return 0;
}

void ua_kbtf_close(struct ua_kbtf *kb)
{
	if (!kb)
		return;
	ua_btf_free(kb->btf);
	free(kb);
}

const struct ua_btf *ua_kbtf_btf(const struct ua_kbtf *kb)
{
	return kb ? kb->btf : NULL;
}

int ua_kbtf_find(const struct ua_kbtf *kb, const char *name, unsigned kind)
{
	if (!kb || !name)
		return -EINVAL;
	return ua_btf_find_by_name_kind(kb->btf, name, kind);
}

int ua_kbtf_vmlinux_kfunc_id(const char *name, char *err, size_t err_sz)
{
	struct ua_kbtf *kb;
	int id;

	id = ua_kbtf_open(NULL, &kb, err, err_sz);
	if (id)
		return id;
	id = ua_kbtf_find(kb, name, UA_KBTF_KIND_FUNC);
	ua_kbtf_close(kb);
	if (id == -ENOENT)
		return ua_errf(err, err_sz, id, "kernel: kfunc '%s' not found in vmlinux BTF", name);
	return id;
}
