/* SPDX-License-Identifier: MIT */
/*
 * The selftests' arena_atomics expectations (spec §6) in one program: every
 * atomic the x86-64 JIT allows on arena memory (W/DW add, and, or, xor,
 * fetch_add, xchg, cmpxchg; fetch_and/or/xor are not allowed, so those are
 * used without their result, which clang compiles to the non-fetch insn).
 * All results live in one arena global struct at arena offset 0 so the host
 * can check them through the user view; the program also checks them and
 * returns the first mismatch (0 = all as the kernel computes).
 */
#include <bpf_helpers.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 10);
} arena SEC(".maps");

struct atomics_state {
	__u64 add64_value, add64_result;
	__u32 add32_value, add32_result;
	__u64 add_stack_value_copy, add_stack_result, add_noreturn_value;
	__s64 sub64_value, sub64_result;
	__s32 sub32_value, sub32_result;
	__s64 sub_noreturn_value;
	__u64 and64_value;
	__u32 and32_value, pad0;
	__u64 or64_value;
	__u32 or32_value, pad1;
	__u64 xor64_value;
	__u32 xor32_value, pad2;
	__u64 cmpxchg64_value, cmpxchg64_result_fail, cmpxchg64_result_succeed;
	__u32 cmpxchg32_value, cmpxchg32_result_fail, cmpxchg32_result_succeed, pad3;
	__u64 xchg64_value, xchg64_result;
	__u32 xchg32_value, xchg32_result;
};

struct atomics_state __arena_global st = {
	.add64_value = 1,
	.add32_value = 1,
	.add_noreturn_value = 1,
	.sub64_value = 1,
	.sub32_value = 1,
	.sub_noreturn_value = 1,
	.and64_value = 0x110ull << 32,
	.and32_value = 0x110,
	.or64_value = 0x110ull << 32,
	.or32_value = 0x110,
	.xor64_value = 0x110ull << 32,
	.xor32_value = 0x110,
	.cmpxchg64_value = 1,
	.cmpxchg32_value = 1,
	.xchg64_value = 1,
	.xchg32_value = 1,
};

SEC("syscall")
int arena_atomics(void *ctx)
{
	__u64 add_stack_value = 1;

	st.add64_result = __sync_fetch_and_add(&st.add64_value, 2);
	st.add32_result = __sync_fetch_and_add(&st.add32_value, 2);
	st.add_stack_result = __sync_fetch_and_add(&add_stack_value, 2);
	st.add_stack_value_copy = add_stack_value;
	__sync_fetch_and_add(&st.add_noreturn_value, 2);

	st.sub64_result = __sync_fetch_and_sub(&st.sub64_value, 2);
	st.sub32_result = __sync_fetch_and_sub(&st.sub32_value, 2);
	__sync_fetch_and_sub(&st.sub_noreturn_value, 2);

	__sync_fetch_and_and(&st.and64_value, 0x011ull << 32);
	__sync_fetch_and_and(&st.and32_value, 0x011);
	__sync_fetch_and_or(&st.or64_value, 0x011ull << 32);
	__sync_fetch_and_or(&st.or32_value, 0x011);
	__sync_fetch_and_xor(&st.xor64_value, 0x011ull << 32);
	__sync_fetch_and_xor(&st.xor32_value, 0x011);

	st.cmpxchg64_result_fail = __sync_val_compare_and_swap(&st.cmpxchg64_value, 0, 3);
	st.cmpxchg64_result_succeed = __sync_val_compare_and_swap(&st.cmpxchg64_value, 1, 2);
	st.cmpxchg32_result_fail = __sync_val_compare_and_swap(&st.cmpxchg32_value, 0, 3);
	st.cmpxchg32_result_succeed = __sync_val_compare_and_swap(&st.cmpxchg32_value, 1, 2);

	st.xchg64_result = __sync_lock_test_and_set(&st.xchg64_value, 2);
	st.xchg32_result = __sync_lock_test_and_set(&st.xchg32_value, 2);

	if (st.add64_value != 3 || st.add64_result != 1)
		return 1;
	if (st.add32_value != 3 || st.add32_result != 1)
		return 2;
	if (st.add_stack_value_copy != 3 || st.add_stack_result != 1)
		return 3;
	if (st.add_noreturn_value != 3)
		return 4;
	if (st.sub64_value != -1 || st.sub64_result != 1 || st.sub32_value != -1 ||
	    st.sub32_result != 1 || st.sub_noreturn_value != -1)
		return 5;
	if (st.and64_value != 0x010ull << 32 || st.and32_value != 0x010)
		return 6;
	if (st.or64_value != 0x111ull << 32 || st.or32_value != 0x111)
		return 7;
	if (st.xor64_value != 0x101ull << 32 || st.xor32_value != 0x101)
		return 8;
	if (st.cmpxchg64_value != 2 || st.cmpxchg64_result_fail != 1 ||
	    st.cmpxchg64_result_succeed != 1)
		return 9;
	if (st.cmpxchg32_value != 2 || st.cmpxchg32_result_fail != 1 ||
	    st.cmpxchg32_result_succeed != 1)
		return 10;
	if (st.xchg64_value != 2 || st.xchg64_result != 1 || st.xchg32_value != 2 ||
	    st.xchg32_result != 1)
		return 11;
	return 0;
}

char _license[] SEC("license") = "GPL";
