/* SPDX-License-Identifier: MIT */
/*
 * A program the kernel's verifier rejects and uarena loads (uarena checks
 * memory at run time, it is not a verifier): `uarena diff` must say so with
 * the verifier's reason (tests/test_kernel_every.c).
 */
#include <bpf_helpers.h>

/* A number used as a pointer: "R0 invalid mem access 'scalar'". */
SEC("syscall")
__attribute__((naked)) int deref_scalar(void *ctx)
{
	asm volatile("r0 = 4096; r0 = *(u64 *)(r0 + 0); exit;");
}

char _license[] SEC("license") = "GPL";
