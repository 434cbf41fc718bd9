/* SPDX-License-Identifier: MIT */
/*
 * Built-in helpers and kfuncs that need nothing but the invocation state:
 * clocks, random numbers, CPU/task identity, the numeric open-coded
 * iterator (bpf_for / bpf_repeat), bpf_loop callbacks, preemption and IRQ "disabling" (no-ops
 * in user space, but nesting is tracked per invocation so misuse is
 * reported), and bpf_probe_read_kernel{,_str} against memory the program
 * may legitimately read.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"
#include "prog.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t bpf_ktime_get_ns(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				 uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t bpf_ktime_get_boot_ns(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				      uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t bpf_ktime_get_coarse_ns(struct ua_exec *ex, uint64_t r1, uint64_t r2,
					uint64_t r3, uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

/*
 * Per-invocation xorshift64* state, seeded on first use from getrandom()
 * (the kernel uses a per-CPU prandom state; nothing may rely on the sequence).
 */
static uint64_t bpf_get_prandom_u32(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	uint64_t x = ex->prandom;

	if (!x) {
		if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
			x = clock_ns(CLOCK_MONOTONIC) ^ ((uint64_t)ex->cpu << 32);
		x |= 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ex->prandom = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint64_t bpf_get_smp_processor_id(struct ua_exec *ex, uint64_t r1, uint64_t r2,
					 uint64_t r3, uint64_t r4, uint64_t r5)
{
	return ex->cpu;
}

static uint64_t bpf_get_numa_node_id(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				     uint64_t r4, uint64_t r5)
{
	return 0;
}

/* tgid (process id) in the upper half, thread id in the lower, as in the kernel. */
static uint64_t bpf_get_current_pid_tgid(struct ua_exec *ex, uint64_t r1, uint64_t r2,
					 uint64_t r3, uint64_t r4, uint64_t r5)
{
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

static uint64_t bpf_get_current_uid_gid(struct ua_exec *ex, uint64_t r1, uint64_t r2,
					uint64_t r3, uint64_t r4, uint64_t r5)
{
	return (uint64_t)getgid() << 32 | getuid();
}

/* bpf_probe_read_kernel(dst, size, src): -EFAULT and dst zeroed when src is unreadable. */
static uint64_t bpf_probe_read_kernel(struct ua_exec *ex, uint64_t dst, uint64_t size,
				      uint64_t src, uint64_t r4, uint64_t r5)
{
	size = (uint32_t)size;
	if (!dst || ua_helper_is_arena_ptr(ex, dst) || !ua_helper_mem_ok(ex, dst, size, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)ua_helper_copy_in(ex, (void *)(uintptr_t)dst, src, size);
}

/* Length including the NUL, or -EFAULT with dst zeroed. */
static uint64_t bpf_probe_read_kernel_str(struct ua_exec *ex, uint64_t dst, uint64_t size,
					  uint64_t src, uint64_t r4, uint64_t r5)
{
	size = (uint32_t)size;
	if (!dst || ua_helper_is_arena_ptr(ex, dst) || !ua_helper_mem_ok(ex, dst, size, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)ua_helper_copy_str(ex, (char *)(uintptr_t)dst, src, size);
}

/*
 * Numeric iterator, kernel/bpf/bpf_iter.c: the 8-byte state {int cur; int
 * end;} lives in the program's stack. Ranges are [start, end); start > end
 * is -EINVAL and more than BPF_MAX_LOOPS elements is -E2BIG, both leaving an
 * iterator whose next() returns NULL at once. Arithmetic wraps like the
 * kernel's (built with -fno-strict-overflow).
 */
struct iter_num_state {
	int32_t cur, end;
};

/*
 * The verifier only accepts an iterator (or irq flag) in a whole 8-byte stack
 * slot ("cannot pass in iter at an offset=-4"); stack frames are 8-aligned, so a
 * misaligned pointer is one the kernel would not have loaded. It is refused
 * here rather than dereferenced (a misaligned struct access is UB in C).
 */
static bool stack_obj_misaligned(uint64_t it)
{
	return it % 8 != 0;
}

static struct iter_num_state *iter_state(struct ua_exec *ex, uint64_t it)
{
	if (!it || stack_obj_misaligned(it) || ua_helper_is_arena_ptr(ex, it) ||
	    !ua_helper_mem_ok(ex, it, sizeof(struct iter_num_state), true))
		return NULL;
	return (struct iter_num_state *)(uintptr_t)it;
}

static uint64_t bpf_iter_num_new(struct ua_exec *ex, uint64_t it, uint64_t start64,
				 uint64_t end64, uint64_t r4, uint64_t r5)
{
	struct iter_num_state *s = iter_state(ex, it);
	int32_t start = (int32_t)start64, end = (int32_t)end64;

	if (!s)
		return (uint64_t)(stack_obj_misaligned(it) ? -EINVAL : -EFAULT);
	if (start > end) {
		s->cur = s->end = 0;
		return (uint64_t)-EINVAL;
	}
	if ((int64_t)end - (int64_t)start > UA_BPF_MAX_LOOPS) {
		s->cur = s->end = 0;
		return (uint64_t)-E2BIG;
	}
	s->cur = (int32_t)((uint32_t)start - 1);
	s->end = end;
	return 0;
}

static uint64_t bpf_iter_num_next(struct ua_exec *ex, uint64_t it, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	struct iter_num_state *s = iter_state(ex, it);
	int32_t next;

	if (!s)
		return 0;
	next = (int32_t)((uint32_t)s->cur + 1);
	if ((int64_t)next >= s->end) {
		s->cur = s->end = 0;
		return 0;
	}
	s->cur = next;
	return (uint64_t)(uintptr_t)&s->cur;
}

static uint64_t bpf_iter_num_destroy(struct ua_exec *ex, uint64_t it, uint64_t r2, uint64_t r3,
				     uint64_t r4, uint64_t r5)
{
	struct iter_num_state *s = iter_state(ex, it);

	if (s)
		s->cur = s->end = 0;
	return 0;
}

/*
 * Preemption and IRQs cannot be disabled from user space, and a run is never
 * migrated mid-way anyway (its CPU id is fixed). The kernel verifier rejects
 * unbalanced pairs; at run time we keep the nesting so an enable without a
 * disable is reported (trace line) instead of wrapping the counter.
 */
static void report(struct ua_exec *ex, const char *msg)
{
	if (ex->trace)
		ex->trace(ex, msg, strlen(msg));
}

static uint64_t bpf_preempt_disable(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	ex->preempt_depth++;
	return 0;
}

static uint64_t bpf_preempt_enable(struct ua_exec *ex, uint64_t r1, uint64_t r2, uint64_t r3,
				   uint64_t r4, uint64_t r5)
{
	if (ex->preempt_depth == 0)
		report(ex, "bpf_preempt_enable: preemption was not disabled");
	else
		ex->preempt_depth--;
	return 0;
}

/* *flags receives the nesting level it must be restored from (kernel: saved EFLAGS). */
static uint64_t bpf_local_irq_save(struct ua_exec *ex, uint64_t flags, uint64_t r2, uint64_t r3,
				   uint64_t r4, uint64_t r5)
{
	if (!flags || stack_obj_misaligned(flags) || ua_helper_is_arena_ptr(ex, flags) ||
	    !ua_helper_mem_ok(ex, flags, sizeof(uint64_t), true))
		return 0;
	*(uint64_t *)(uintptr_t)flags = ex->irq_depth++;
	return 0;
}

static uint64_t bpf_local_irq_restore(struct ua_exec *ex, uint64_t flags, uint64_t r2,
				      uint64_t r3, uint64_t r4, uint64_t r5)
{
	uint64_t level;

	if (!flags || stack_obj_misaligned(flags) || ua_helper_is_arena_ptr(ex, flags) ||
	    !ua_helper_mem_ok(ex, flags, sizeof(uint64_t), false))
		return 0;
	level = *(const uint64_t *)(uintptr_t)flags;
	if (ex->irq_depth == 0 || level != ex->irq_depth - 1)
		report(ex, "bpf_local_irq_restore: flags do not match the innermost irq_save");
	else
		ex->irq_depth--;
	return 0;
}

/*
 * bpf_loop(nr_loops, callback, ctx, flags): calls callback(i, ctx) until it
 * returns non-zero (then i + 1 is returned) or nr_loops calls were made.
 * Kernel checks first: flags != 0 -> -EINVAL, nr_loops > BPF_MAX_LOOPS ->
 * -E2BIG. A callback that faults ends the outer run with its error.
 */
static uint64_t bpf_loop(struct ua_exec *ex, uint64_t nr_loops, uint64_t callback,
			 uint64_t callback_ctx, uint64_t flags, uint64_t r5)
{
	uint32_t n = (uint32_t)nr_loops, i;

	if (flags)
		return (uint64_t)-EINVAL;
	if (n > UA_BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	for (i = 0; i < n; i++) {
		const uint64_t args[5] = { i, callback_ctx, 0, 0, 0 };
		uint64_t ret = 0;
		int err = ua_interp_callback(ex, callback, args, &ret);

		if (err)
			return (uint64_t)(int64_t)err;
		if (ret)
			return (uint64_t)i + 1;
	}
	return i;
}

const struct ua_helper_def ua_helpers_core[] = {
	{ "bpf_loop", 181, bpf_loop },
	{ "bpf_probe_read", 4, bpf_probe_read_kernel },
	{ "bpf_ktime_get_ns", 5, bpf_ktime_get_ns },
	{ "bpf_get_prandom_u32", 7, bpf_get_prandom_u32 },
	{ "bpf_get_smp_processor_id", 8, bpf_get_smp_processor_id },
	{ "bpf_get_current_pid_tgid", 14, bpf_get_current_pid_tgid },
	{ "bpf_get_current_uid_gid", 15, bpf_get_current_uid_gid },
	{ "bpf_get_numa_node_id", 42, bpf_get_numa_node_id },
	{ "bpf_probe_read_str", 45, bpf_probe_read_kernel_str },
	{ "bpf_probe_read_kernel", 113, bpf_probe_read_kernel },
	{ "bpf_probe_read_kernel_str", 115, bpf_probe_read_kernel_str },
	{ "bpf_ktime_get_boot_ns", 125, bpf_ktime_get_boot_ns },
	{ "bpf_ktime_get_coarse_ns", 160, bpf_ktime_get_coarse_ns },
	{ "bpf_iter_num_new", -1, bpf_iter_num_new },
	{ "bpf_iter_num_next", -1, bpf_iter_num_next },
	{ "bpf_iter_num_destroy", -1, bpf_iter_num_destroy },
	{ "bpf_preempt_disable", -1, bpf_preempt_disable },
	{ "bpf_preempt_enable", -1, bpf_preempt_enable },
	{ "bpf_local_irq_save", -1, bpf_local_irq_save },
	{ "bpf_local_irq_restore", -1, bpf_local_irq_restore },
	{ NULL, 0, NULL },
};
