/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the disassembler against the running kernel: programs
 * written in kernel syntax are assembled by us, loaded with the verifier log
 * on, and every "N: (xx) text" line the verifier prints must equal our
 * ua_disasm_insn() text for insn N, byte for byte. SKIPs without bpf().
 */
#include "asm.h"
#include "disasm.h"
#include "kernel.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_SIZE (1u << 20)

/* Each program must pass the verifier of a 6.18 kernel as a socket filter. */
static const char *const programs[] = {
	/* ALU, moves, byte swaps, sign extension */
	"r0 = 0\n"
	"w1 = 7\n"
	"r2 = r1\n"
	"w3 = w1\n"
	"r1 += 3\n"
	"r1 += r2\n"
	"w1 -= -5\n"
	"r1 *= r2\n"
	"r1 /= 2\n"
	"r1 s/= r2\n"
	"r1 s%= 3\n"
	"w1 s%= w2\n"
	"r1 |= 16\n"
	"r1 &= 255\n"
	"r1 <<= 3\n"
	"w1 >>= w2\n"
	"r1 s>>= 1\n"
	"r1 ^= -1\n"
	"r1 %= r2\n"
	"r1 = -r1\n"
	"w1 = -w1\n"
	"r1 = be16 r1\n"
	"r1 = le32 r1\n"
	"r1 = be64 r1\n"
	"r1 = bswap16 r1\n"
	"r1 = bswap64 r1\n"
	"r2 = (s8)r1\n"
	"r2 = (s16)r1\n"
	"r2 = (s32)r1\n"
	"w2 = (s8)w1\n"
	"w2 = (s16)w1\n"
	"r1 = 0x1122334455667788\n"
	"r1 = 0x1\n"
	"exit\n",
	/* memory, atomics, acquire/release */
	"r1 = 0x1122334455667788\n"
	"*(u64 *)(r10 -8) = r1\n"
	"*(u32 *)(r10 -16) = r1\n"
	"*(u8 *)(r10 -17) = 7\n"
	"*(u16 *)(r10 -20) = -1\n"
	"*(u64 *)(r10 -32) = 0\n"
	"r3 = *(u64 *)(r10 -8)\n"
	"r3 = *(u32 *)(r10 -16)\n"
	"r3 = *(u16 *)(r10 -20)\n"
	"r3 = *(u8 *)(r10 -17)\n"
	"r3 = *(s16 *)(r10 -20)\n"
	"r3 = *(s8 *)(r10 -17)\n"
	"r3 = *(s32 *)(r10 -16)\n"
	"r2 = 1\n"
	"lock *(u64 *)(r10 -8) += r2\n"
	"lock *(u32 *)(r10 -16) &= r2\n"
	"lock *(u64 *)(r10 -8) |= r2\n"
	"lock *(u32 *)(r10 -16) ^= r2\n"
	"r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)\n"
	"r2 = atomic_fetch_and((u32 *)(r10 -16), r2)\n"
	"r2 = atomic64_fetch_or((u64 *)(r10 -8), r2)\n"
	"r2 = atomic_fetch_xor((u32 *)(r10 -16), r2)\n"
	"r2 = atomic64_xchg((u64 *)(r10 -8), r2)\n"
	"r2 = atomic_xchg((u32 *)(r10 -16), r2)\n"
	"r0 = 0\n"
	"r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)\n"
	"r0 = atomic_cmpxchg((u32 *)(r10 -16), r0, r2)\n"
	"r0 = load_acquire((u64 *)(r10 -8))\n"
	"r0 = load_acquire((u32 *)(r10 -16))\n"
	"r0 = load_acquire((u16 *)(r10 -20))\n"
	"r0 = load_acquire((u8 *)(r10 -17))\n"
	"store_release((u64 *)(r10 -8), r2)\n"
	"store_release((u32 *)(r10 -16), r2)\n"
	"store_release((u16 *)(r10 -20), r2)\n"
	"store_release((u8 *)(r10 -17), r2)\n"
	"r0 = 0\n"
	"exit\n",
	/* jumps, calls, may_goto, bpf-to-bpf */
	"call bpf_get_prandom_u32#7\n"
	"r1 = r0\n"
	"r0 = 0\n"
	"if r1 > 0x5 goto pc+1\n"
	"r0 = 1\n"
	"if w1 s< w0 goto pc+0\n"
	"if r1 == r0 goto pc+1\n"
	"r0 = 2\n"
	"if w1 != 0x0 goto pc+1\n"
	"if r1 s>= 0xffffffff goto pc+1\n"
	"if r1 & 0x4 goto pc+1\n"
	"if w1 <= w0 goto pc+1\n"
	"if r1 s<= r0 goto pc+1\n"
	"if r1 < 0x3 goto pc+1\n"
	"if w1 >= 0x3 goto pc+1\n"
	"if w1 s> w0 goto pc+1\n"
	"gotol pc+0\n"
	"r0 = 4\n"
	"goto pc+0\n"
	"r0 = 5\n"
	"may_goto pc+1\n"
	"r0 = 6\n"
	"call pc+2\n"
	"r0 = 0\n"
	"exit\n"
	"r0 = 1\n"
	"exit\n",
	/* legacy packet loads (cannot mix with bpf-to-bpf calls) */
	"r6 = r1\n"
	"r0 = *(u8 *)skb[12]\n"
	"r0 = *(u16 *)skb[12]\n"
	"r0 = *(u32 *)skb[12]\n"
	"r7 = 0\n"
	"r0 = *(u8 *)skb[r7 + 2]\n"
	"r0 = 0\n"
	"exit\n",
};

/* Level 2: level 1 prints the instructions only when the load fails. */
static int prog_load(const struct ua_insn *insns, size_t n, char *log, size_t log_size)
{
	return ua_test_kernel_load_filter(insns, n, 2, log, log_size);
}

/* Checks every "N: (xx) text" verifier line; returns how many it checked. */
static size_t compare_log(const char *log, const struct ua_insn *insns, size_t n)
{
	size_t checked = 0;

	for (const char *line = log; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		char *end, ours[160], theirs[160];
		unsigned long idx = strtoul(line, &end, 10);
		size_t len;

		if (end == line || strncmp(end, ": (", 3) || end[5] != ')' || end[6] != ' ')
			continue;
		end += 7;
		len = strcspn(end, "\n");
		if (memchr(end, ';', len))
			len = (size_t)((const char *)memchr(end, ';', len) - end);
		while (len && end[len - 1] == ' ')
			len--;
		snprintf(theirs, sizeof(theirs), "%.*s", (int)len, end);
		if (idx >= n) {
			ua_test_fail(__FILE__, __LINE__, "log names insn %lu of %zu", idx, n);
			continue;
		}
		/* the kernel prints the resolved map address; we print the operand */
		if (insns[idx].code == (UA_LD | UA_IMM | UA_DW) && insns[idx].src_reg) {
			checked++;
			continue;
		}
		ua_disasm_insn(&insns[idx], n - idx, ours, sizeof(ours));
		if (strcmp(ours, theirs))
			ua_test_fail(__FILE__, __LINE__, "insn %lu: kernel \"%s\", we \"%s\"", idx,
				     theirs, ours);
		checked++;
	}
	return checked;
}

/* The program rebuilt from its own verifier log is the program. */
static void check_from_log(size_t p, const char *log, const struct ua_insn *insns, size_t n)
{
	struct ua_insn *again = NULL;
	char err[256] = "";
	size_t got = 0;

	if (ua_asm_from_log(log, &again, &got, err, sizeof(err)))
		ua_test_fail(__FILE__, __LINE__, "program %zu: %s", p, err);
	else if (got != n || memcmp(again, insns, n * sizeof(*insns)))
		ua_test_fail(__FILE__, __LINE__, "program %zu: rebuilt from its log, differs", p);
	free(again);
}

TEST(disasm_kernel, verifier_log_matches)
{
	char *log = malloc(LOG_SIZE);
	size_t total = 0;

	REQUIRE(log != NULL);
	for (size_t p = 0; p < sizeof(programs) / sizeof(programs[0]); p++) {
		struct ua_insn *insns;
		char err[256];
		size_t n, checked;
		int fd;

		REQUIRE_EQ(ua_asm_parse(programs[p], UA_ASM_KERNEL, &insns, &n, err, sizeof(err)), 0);
		log[0] = '\0';
		fd = prog_load(insns, n, log, LOG_SIZE);
		if (fd == -EPERM || fd == -ENOSYS) {
			free(insns);
			free(log);
			SKIP("bpf() unavailable: %s", strerror(-fd));
		}
		if (fd < 0) {
			size_t len = strlen(log);

			ua_test_fail(__FILE__, __LINE__, "program %zu rejected (%s): %s", p,
				     strerror(-fd), len > 600 ? log + len - 600 : log);
		} else {
			close(fd);
		}
		checked = compare_log(log, insns, n);
		check_from_log(p, log, insns, n);
		if (checked < n / 2)
			ua_test_fail(__FILE__, __LINE__, "program %zu: only %zu log lines", p, checked);
		total += checked;
		free(insns);
	}
	CHECK(total >= 100);
	free(log);
}

/* addr_space_cast needs a program that references an arena (spec 4.2). */
TEST(disasm_kernel, arena_casts)
{
	struct ua_kbpf_map_attr arena = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = 4,
					  .map_flags = UA_KBPF_F_MMAPABLE, .map_extra = 1ull << 32 };
	struct ua_insn *insns;
	char text[256], err[256], *log = malloc(LOG_SIZE);
	size_t n;
	int map_fd, fd;

	REQUIRE(log != NULL);
	map_fd = ua_kbpf_map_create(&arena, NULL, 0);
	if (map_fd < 0) {
		free(log);
		SKIP("cannot create an arena map: %s", strerror(-map_fd));
	}
	snprintf(text, sizeof(text),
		 "r1 = map[id:%d][0]+0\n"
		 "r2 = addr_space_cast(r1, 0, 1)\n"
		 "r3 = addr_space_cast(r1, 1, 0)\n"
		 "r0 = 0\n"
		 "exit\n", map_fd);
	REQUIRE_EQ(ua_asm_parse(text, UA_ASM_KERNEL, &insns, &n, err, sizeof(err)), 0);
	log[0] = '\0';
	fd = prog_load(insns, n, log, LOG_SIZE);
	if (fd < 0)
		ua_test_fail(__FILE__, __LINE__, "arena program rejected (%s): %s", strerror(-fd), log);
	else
		close(fd);
	CHECK_EQ(compare_log(log, insns, n), 5);
	close(map_fd);
	free(insns);
	free(log);
}
