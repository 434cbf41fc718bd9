/* SPDX-License-Identifier: MIT */
/*
 * W^X code buffers: the JIT emits into ordinary heap memory, then the code is
 * copied into a fresh private mapping that is made read+exec before anything
 * runs it. No mapping is ever writable and executable at once.
 */
#include "jit.h"

#include <sys/mman.h>
#include <string.h>

void *ua_jit_execmem_alloc(const void *code, size_t len, size_t *mapped_len)
{
	size_t page = 4096, map_len = (len + page - 1) / page * page;
	void *mem;

	if (!len)
		return NULL;
	mem = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	memcpy(mem, code, len);
	if (mprotect(mem, map_len, PROT_READ | PROT_EXEC)) {
		munmap(mem, map_len);
		return NULL;
	}
	*mapped_len = map_len;
	return mem;
}

void ua_jit_execmem_free(void *mem, size_t mapped_len)
{
	if (mem)
		munmap(mem, mapped_len);
}
