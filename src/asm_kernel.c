/* SPDX-License-Identifier: MIT */
/* Kernel verifier-log syntax front end of the assembler (see asm.h). */
#include "asm_int.h"
#include "internal.h"

int asm_kernel_line(struct asm_ctx *c, char *text)
{
	return asm_fail(c, "kernel syntax not implemented yet");
}
