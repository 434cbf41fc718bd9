// SPDX-License-Identifier: MIT
/*
 * A program storing into .rodata (BPF_F_RDONLY_PROG): the kernel verifier
 * refuses it at load ("write into map forbidden"); so does uarena's loader.
 * read_limit only reads it and loads fine on its own (only_prog).
 */
#include <bpf_helpers.h>

const volatile int limit = 5;
const volatile long table[4] = { 1, 2, 3, 4 };

SEC("syscall")
int poke(void *ctx)
{
	*(volatile long *)&table[2] = 7;
	return limit;
}

SEC("syscall")
int read_limit(void *ctx)
{
	return limit + table[3];
}

char LICENSE[] SEC("license") = "GPL";
