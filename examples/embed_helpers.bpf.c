/* SPDX-License-Identifier: MIT */
/*
 * Example: calling functions the embedding application provides. host_mix
 * is a helper the host registers under id 10000 (kernel ids end near 220);
 * host_note is a kfunc the host registers by name. Neither exists in the
 * kernel: this program is for an application that embeds uarena with a
 * helper set (include/uarena/helpers.h, ua_object_open_opts.helpers).
 */
#include <bpf_helpers.h>

static __u64 (* const host_mix)(__u64 a, __u64 b) = (void *)10000;
extern __u64 host_note(__u64 v) __ksym;

SEC("syscall")
int use_host_functions(void *ctx)
{
	__u64 m = host_mix(6, 7);

	return (int)host_note(m + bpf_get_smp_processor_id());
}

char _license[] SEC("license") = "GPL";
