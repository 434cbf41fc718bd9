// SPDX-License-Identifier: MIT
/* One program calls a kfunc uarena does not know; the other is fine, so
 * only_prog = "fine" must load. */
#include <bpf_helpers.h>

extern int bpf_uarena_no_such_kfunc(int x) __ksym;

SEC("syscall")
int bad(void *ctx)
{
	return bpf_uarena_no_such_kfunc(1);
}

SEC("syscall")
int fine(void *ctx)
{
	return 42;
}

char LICENSE[] SEC("license") = "GPL";
