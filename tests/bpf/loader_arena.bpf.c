// SPDX-License-Identifier: MIT
/* Arena globals in .addr_space.1: the loader copies their initial image
 * into the arena through the user view and relocates ld_imm64 to
 * user_vm_start + offset (+ the placement offset). */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
#ifdef __BPF__
	__ulong(map_extra, 0x200000000000ULL); /* 1 << 45: above ASan's shadow */
#endif
} arena SEC(".maps");

int __arena_global initialised = 41;
long __arena_global counter;
char __arena_global buf[16];

SEC("syscall")
int bump(void *ctx)
{
	counter += 10;
	buf[3] = 'x';
	return ++initialised;
}

/* Where the program sees the arena start and its first global. */
SEC("syscall")
int where(void *ctx)
{
	unsigned long base = (unsigned long)arena_base(&arena);

	return (int)((unsigned long)&initialised - base);
}

char LICENSE[] SEC("license") = "GPL";
