/* SPDX-License-Identifier: MIT */
/* `uarena-conformance`: bpf_conformance plugin (implemented by the interpreter module). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "uarena-conformance: not implemented yet\n");
	return 1;
}
