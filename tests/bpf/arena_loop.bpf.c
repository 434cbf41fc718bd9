/* SPDX-License-Identifier: MIT */
/*
 * bpf_loop over arena memory: the callback writes i*i into an arena array
 * and stops when it reaches `stop_at`, so the return value (calls made) and
 * the array contents are both exact. Also the kernel's argument checks.
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
} arena SEC(".maps");

#define N 64
__u64 __arena squares[N];

struct loop_ctx {
	int stop_at;
	int calls;
};

static int fill(__u32 i, struct loop_ctx *c)
{
	c->calls++;
	squares[i & (N - 1)] = (__u64)i * i;
	return i == (__u32)c->stop_at;
}

SEC("syscall")
int arena_loop(void *ctx)
{
	struct loop_ctx c = { .stop_at = 40 };
	long r;

	r = bpf_loop(N, fill, &c, 0);
	if (r != 41 || c.calls != 41)
		return 1;
	c.stop_at = -1;
	r = bpf_loop(10, fill, &c, 0);
	if (r != 10 || c.calls != 51)
		return 2;
	if (bpf_loop(1, fill, &c, 1) != -22) /* flags */
		return 3;
	if (bpf_loop(8 * 1024 * 1024 + 1, fill, &c, 0) != -7) /* E2BIG */
		return 4;
	if (bpf_loop(0, fill, &c, 0) != 0 || c.calls != 51)
		return 5;
	return 0;
}

char _license[] SEC("license") = "GPL";
