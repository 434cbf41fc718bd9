// SPDX-License-Identifier: MIT
/* libbpf's autoload-off prefix: SEC("?syscall") programs are listed but only
 * prepared when asked for by name. */
#include <bpf_helpers.h>

extern int bpf_uarena_no_such_kfunc(int x) __ksym;

SEC("?syscall")
int optional_bad(void *ctx)
{
	return bpf_uarena_no_such_kfunc(1);
}

SEC("syscall")
int always(void *ctx)
{
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
