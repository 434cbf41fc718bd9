// SPDX-License-Identifier: MIT
/* A strong (non-weak) kconfig extern uarena cannot provide: -ESRCH. */
#include <bpf_helpers.h>

extern int CONFIG_UARENA_NO_SUCH_OPTION __kconfig;

SEC("syscall")
int use(void *ctx)
{
	return CONFIG_UARENA_NO_SUCH_OPTION;
}

char LICENSE[] SEC("license") = "GPL";
