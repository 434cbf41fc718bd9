/* SPDX-License-Identifier: MIT */
/*
 * arena_spin_lock (spec §6): each run takes the arena qspinlock `repeat`
 * times and increments `counter` inside it (up to `limit`, never past it),
 * spinning `cs_count` iterations between reading and writing the counter so
 * that any failure of mutual exclusion loses updates. Parameters come in through the ctx, so N host threads
 * can run it at once; read_counter returns the final count.
 */
#include <bpf_helpers.h>
#include <bpf_experimental.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 100);
} arena SEC(".maps");

#include <bpf_arena_spin_lock.h>

struct spin_args {
	int repeat;
	int cs_count;
	int limit;
};

arena_spinlock_t __arena lock;
int __arena counter;

SEC("syscall")
int spin_lock_test(struct spin_args *args)
{
	int repeat = args->repeat, cs_count = args->cs_count, limit = args->limit;
	int ret = -2;

	bpf_repeat(repeat) {
		int i;

		if (arena_spin_lock(&lock))
			return -1;
		if (counter != limit) {
			/* Read, dawdle, write: without mutual exclusion updates get lost. */
			int c = counter;

			bpf_for(i, 0, cs_count)
				barrier();
			counter = c + 1;
		}
		ret = 0;
		arena_spin_unlock(&lock);
	}
	return ret;
}

SEC("syscall")
int read_counter(void *ctx)
{
	return counter;
}

char _license[] SEC("license") = "GPL";
