// SPDX-License-Identifier: MIT
/*
 * SEC("syscall") programs and their ctx: the kernel refuses a test run whose
 * ctx_size_in is smaller than the furthest ctx byte the program touches
 * (the verifier's max_ctx_offset), including no ctx at all.
 */
#include <bpf_helpers.h>

struct args {
	int a;
	int b;
	long out;
};

SEC("syscall")
int read_ab(struct args *ctx)           /* touches [0, 8) */
{
	return ctx->a * 10 + ctx->b;
}

SEC("syscall")
int write_out(struct args *ctx)         /* touches [0, 4) and [8, 16) */
{
	ctx->out = ctx->a + 1000;
	return 0;
}

SEC("syscall")
int no_ctx(void *ctx)                   /* touches nothing */
{
	return 5;
}

SEC("syscall")
int ctx_on_one_path(struct args *ctx)   /* [4, 8) on one path only: still counts */
{
	if (bpf_get_prandom_u32() == 12345)
		return ctx->b;
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
