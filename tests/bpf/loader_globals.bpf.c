// SPDX-License-Identifier: MIT
/* Loader features: .data/.rodata/.bss/custom .data.* globals, several programs
 * in one object, static and global subprograms in .text, kconfig externs. */
#include <bpf_helpers.h>

int data_var = 7;                        /* .data */
const volatile int rodata_var = 100;     /* .rodata */
int bss_var;                             /* .bss */
int custom_var SEC(".data.custom") = 5;  /* .data.custom */
long counters[4];                        /* .bss */

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_NR_CPUS __kconfig;
extern int CONFIG_UARENA_DOES_NOT_EXIST __kconfig __weak;

static __noinline int twice(int x)
{
	return x * 2;
}

static __noinline int add3(int a, int b, int c)
{
	return twice(a) / 2 + b + c;
}

__noinline int global_sum(int n)
{
	int s = 0;

	for (int i = 1; i <= n; i++)
		s += i;
	return s;
}

SEC("syscall")
int read_globals(void *ctx)
{
	/* 7 + 100 + 5 + 0 = 112 on the first run; then bss_var counts runs. */
	int r = data_var + rodata_var + custom_var + bss_var;

	bss_var++;
	counters[1] += 3;
	return r;
}

SEC("syscall")
int calls(void *ctx)
{
	return add3(10, 20, 30) + twice(4) + global_sum(10); /* 60 + 8 + 55 = 123 */
}

SEC("syscall")
int kconfig(void *ctx)
{
	if (CONFIG_UARENA_DOES_NOT_EXIST != 0)
		return -1;
	return (LINUX_KERNEL_VERSION >> 16) * 1000 + CONFIG_NR_CPUS;
}

SEC("xdp")
int xdp_first_byte(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 14 > end)
		return XDP_ABORTED;
	data[0] = 0xaa; /* visible in data_out */
	return data[13] == 0x08 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

/* The subset of struct __sk_buff a tc program reads here (UAPI offsets). */
struct sk_buff_view {
	__u32 len;          /* 0 */
	__u32 pad0[18];
	__u32 data;         /* 76 */
	__u32 data_end;     /* 80 */
};

SEC("tc")
int tc_len(struct sk_buff_view *skb)
{
	unsigned char *data = (void *)(long)skb->data;
	unsigned char *end = (void *)(long)skb->data_end;

	if (data + 20 > end)
		return 2; /* TC_ACT_SHOT */
	return (int)skb->len * 10 + data[19];
}

SEC("syscall")
int printk(void *ctx)
{
	bpf_printk("hello %d %s", 42, "arena");
	return 0;
}

struct sum_args {
	int a, b;
	int sum;
};

SEC("syscall")
int ctx_sum(struct sum_args *args)
{
	args->sum = args->a + args->b;
	return 0;
}

/*
 * The verifier refuses stores to .rodata, and so does uarena's loader: the
 * program is autoload-off ("?"), as selftests mark programs meant to fail,
 * so the rest of the object still loads; `only_prog` loads it to see the refusal.
 */
SEC("?syscall")
int write_rodata(void *ctx)
{
	*(volatile int *)&rodata_var = 5;
	return 0;
}

/* Two runs must never share a CPU id at the same time (the arena spin lock's
 * per-CPU queue nodes rely on it): count overlaps per id. */
unsigned long busy[8];
unsigned long overlaps;
volatile unsigned long spin;

SEC("syscall")
int cpu_exclusive(void *ctx)
{
	unsigned int c = bpf_get_smp_processor_id() & 7;

	if (__sync_fetch_and_add(&busy[c], 1) != 0)
		__sync_fetch_and_add(&overlaps, 1);
	for (int i = 0; i < 200; i++)
		spin++;
	__sync_fetch_and_sub(&busy[c], 1);
	return c;
}
