// SPDX-License-Identifier: MIT
/* Arena globals without a declared ARENA map: the loader must refuse. */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

int __arena_global orphan = 1;

SEC("syscall")
int use(void *ctx)
{
	return orphan;
}

char LICENSE[] SEC("license") = "GPL";
