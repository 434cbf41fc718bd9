/* SPDX-License-Identifier: MIT */
/*
 * ISA table and load-time validation: every malformed shape is rejected with
 * -EINVAL and a message naming the insn index, valid extensions are accepted.
 */
#include "insn_build.h"
#include "isa.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct reject_case {
	const char *name;
	struct ua_insn insns[6];
	size_t n;
	unsigned flags;
	const char *msg;
};

static const struct reject_case rejects[] = {
	{ "bad opcode", { UA_INSN(0xff, 0, 0, 0, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid opcode 0xff" },
	{ "jmp32 jcond", { UA_MOV64_IMM(0, 0), UA_INSN(0xe6, 0, 0, 0, 0), UA_EXIT_INSN() }, 3, 0,
	  "isa: insn 1: invalid opcode 0xe6" },
	{ "dst r11", { UA_MOV64_IMM(11, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid register r11" },
	{ "src r12", { UA_MOV64_REG(0, 12), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid register r12" },
	{ "write r10", { UA_MOV64_IMM(0, 0), UA_MOV64_IMM(10, 0), UA_EXIT_INSN() }, 3, 0,
	  "isa: insn 1: frame pointer r10 is read only" },
	{ "ldx into r10", { UA_LDX_MEM(UA_DW, 10, 1, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: frame pointer r10 is read only" },
	{ "alu K with src_reg", { UA_INSN(UA_ALU64 | UA_ADD | UA_K, 0, 1, 0, 1), UA_EXIT_INSN() },
	  2, 0, "isa: insn 0: reserved field src_reg=1 must be 0 (add, code 0x07)" },
	{ "alu X with imm", { UA_INSN(UA_ALU64 | UA_ADD | UA_X, 0, 1, 0, 7), UA_EXIT_INSN() }, 2,
	  0, "isa: insn 0: reserved field imm=7 must be 0 (add, code 0x0f)" },
	{ "add with off", { UA_INSN(UA_ALU | UA_ADD | UA_K, 0, 0, 1, 1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field off=1 must be 0 (add32, code 0x04)" },
	{ "div off 2", { UA_INSN(UA_ALU64 | UA_DIV | UA_K, 0, 0, 2, 1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field off=2 must be 0 (div, code 0x37)" },
	{ "movsx32 in alu32", { UA_MOVSX32_REG(0, 1, 32), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid movsx width (mov32, code 0xbc)" },
	{ "neg with imm", { UA_INSN(UA_ALU64 | UA_NEG, 0, 0, 0, 3), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: neg uses reserved fields (neg, code 0x87)" },
	{ "bswap 8", { UA_BSWAP(0, 8), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: byte swap width must be 16, 32 or 64 (invalid, code 0xd7)" },
	{ "cast without arena", { UA_ADDR_SPACE_CAST_INSN(0, 1, UA_CAST_KERN), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: addr_space_cast insn can only be used in a program that has an "
	  "associated arena" },
	{ "cast bad spaces", { UA_ADDR_SPACE_CAST_INSN(0, 1, 2), UA_EXIT_INSN() }, 2, UA_ISA_HAS_ARENA,
	  "isa: insn 0: addr_space_cast with invalid address spaces (addr_space_cast, code 0xbf)" },
	{ "ld_abs", { UA_INSN(UA_LD | UA_ABS | UA_W, 0, 0, 0, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: legacy LD_ABS/LD_IND are not supported (ldabsw, code 0x20)" },
	{ "ldx with imm", { UA_INSN(UA_LDX | UA_MEM | UA_W, 0, 1, 0, 1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field imm=1 must be 0 (ldxw, code 0x61)" },
	{ "memsx dw", { UA_INSN(UA_LDX | UA_MEMSX | UA_DW, 0, 1, 0, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid opcode 0x99" },
	{ "st with src", { UA_INSN(UA_ST | UA_MEM | UA_W, 10, 1, -4, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field src_reg=1 must be 0 (stw, code 0x62)" },
	{ "atomic bad op", { UA_ATOMIC_OP(UA_DW, 0x20, 10, 1, -8), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid atomic operation (invalid, code 0xdb)" },
	{ "atomic add 8-bit", { UA_ATOMIC_OP(UA_B, UA_ADD, 10, 1, -8), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: atomic read-modify-write needs a 32 or 64-bit size (lock add, code 0xd3)" },
	{ "fetch into r10", { UA_ATOMIC_OP(UA_DW, UA_ADD | UA_FETCH, 1, 10, 0), UA_EXIT_INSN() },
	  2, 0, "isa: insn 0: frame pointer r10 is read only" },
	{ "exit with imm", { UA_INSN(UA_JMP | UA_EXIT, 0, 0, 0, 1) }, 1, 0,
	  "isa: insn 0: exit uses reserved fields (exit, code 0x95)" },
	{ "call bad src", { UA_INSN(UA_JMP | UA_CALL, 0, 3, 0, 1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: invalid call type (src_reg) (call, code 0x85)" },
	{ "ja with imm", { UA_INSN(UA_JMP | UA_JA, 0, 0, 0, 1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field imm=1 must be 0 (ja, code 0x05)" },
	{ "may_goto src 1", { UA_INSN(UA_JMP | UA_JCOND, 0, 1, 0, 0), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: reserved field src_reg=1 must be 0 (may_goto, code 0xe5)" },
	{ "empty", { UA_EXIT_INSN() }, 0, 0, "isa: program has no instructions" },
	{ "jump past end", { UA_JMP_A(1), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: jump out of range (to insn 2)" },
	{ "jump before start", { UA_MOV64_IMM(0, 0), UA_JMP_IMM(UA_JEQ, 0, 0, -3), UA_EXIT_INSN() },
	  3, 0, "isa: insn 1: jump out of range (to insn -1)" },
	{ "gotol past end", { UA_GOTOL(5), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: jump out of range (to insn 6)" },
	{ "jump into ld_imm64", { UA_JMP_A(1), UA_LD_IMM64(0, 1), UA_EXIT_INSN() }, 4, 0,
	  "isa: insn 0: jump into the middle of ld_imm64 (insn 2)" },
	{ "split ld_imm64", { UA_MOV64_IMM(0, 0), UA_INSN(UA_LD | UA_IMM | UA_DW, 0, 0, 0, 1) }, 2,
	  0, "isa: insn 1: ld_imm64 is missing its second half" },
	{ "ld_imm64 bad second", { UA_INSN(UA_LD | UA_IMM | UA_DW, 0, 0, 0, 1),
				   UA_INSN(0x07, 0, 0, 0, 0), UA_EXIT_INSN() }, 3, 0,
	  "isa: insn 1: invalid second half of ld_imm64" },
	{ "ld_imm64 map_fd with offset", { UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_FD, 0x100000003ull),
					   UA_MOV64_IMM(0, 0), UA_EXIT_INSN() }, 4, 0,
	  "isa: insn 0: unrecognized bpf_ld_imm64 insn (map_fd with nonzero second imm 1)" },
	{ "ld_imm64 map_idx with offset", { UA_MOV64_IMM(0, 0),
					    UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_IDX, 0xffffffff00000000ull),
					    UA_EXIT_INSN() }, 4, 0,
	  "isa: insn 1: unrecognized bpf_ld_imm64 insn (map_idx with nonzero second imm -1)" },
	{ "ld_imm64 bad pseudo", { UA_LD_IMM64_RAW(0, 7, 1), UA_EXIT_INSN() }, 3, 0,
	  "isa: insn 0: invalid ld_imm64 pseudo type (src_reg) (lddw, code 0x18)" },
	{ "no exit", { UA_MOV64_IMM(0, 0) }, 1, 0,
	  "isa: insn 0: last insn is not an exit or jmp" },
	{ "ends in ld_imm64", { UA_LD_IMM64(0, 1) }, 2, 0,
	  "isa: insn 1: last insn is not an exit or jmp" },
	{ "call past end", { UA_CALL_REL(5), UA_EXIT_INSN() }, 2, 0,
	  "isa: insn 0: call to invalid destination insn 6" },
	{ "call into ld_imm64", { UA_CALL_REL(2), UA_EXIT_INSN(), UA_LD_IMM64(0, 1),
				  UA_EXIT_INSN() }, 5, 0,
	  "isa: insn 0: call to invalid destination insn 3" },
	{ "subprog falls through", { UA_CALL_REL(2), UA_EXIT_INSN(), UA_MOV64_IMM(0, 1),
				     UA_MOV64_IMM(0, 2), UA_EXIT_INSN() }, 5, 0,
	  "isa: insn 2: falls through into the next subprogram (no exit or jmp)" },
	{ "jump across subprogs", { UA_CALL_REL(2), UA_JMP_A(1), UA_EXIT_INSN(),
				    UA_EXIT_INSN() }, 4, 0,
	  "isa: insn 1: jump out of range (to insn 3)" },
};

TEST(isa, rejects_malformed_with_insn_index)
{
	for (size_t i = 0; i < N(rejects); i++) {
		const struct reject_case *c = &rejects[i];
		char err[256] = "";
		int ret = ua_isa_validate(c->insns, c->n, c->flags, err, sizeof(err));

		if (ret != -EINVAL || strcmp(err, c->msg))
			ua_test_fail(__FILE__, __LINE__, "%s: got %d \"%s\", want -EINVAL \"%s\"",
				     c->name, ret, err, c->msg);
	}
}

/* What UA_ISA_KERNEL_STRICT adds to the checks. */
static const struct {
	struct ua_insn insn;
	const char *msg;
} strict_cases[] = {
	{ UA_ALU32_IMM(UA_LSH, 0, 32), "isa: insn 0: invalid shift 32" },
	{ UA_ALU64_IMM(UA_ARSH, 0, -1), "isa: insn 0: invalid shift -1" },
	{ UA_ALU64_IMM(UA_DIV, 0, 0), "isa: insn 0: div by zero" },
	{ UA_ALU32_SIMM(UA_MOD, 0, 0), "isa: insn 0: div by zero" },
	{ UA_INSN(UA_JMP | UA_CALL | UA_X, 2, 0, 0, 0), "isa: insn 0: invalid opcode 0x8d" },
};

/* BPF_PROG_LOAD as a socket filter with a level-1 log; returns 0 (loaded) or -errno. */
static int kernel_load(const struct ua_insn *insns, size_t n, char *log, size_t log_sz)
{
	int fd = ua_test_kernel_load_filter(insns, n, 1, log, log_sz);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Differential: whatever the validator rejects, the kernel verifier rejects too. */
TEST(isa, kernel_rejects_what_we_reject)
{
	static char log[1 << 16];
	static const struct ua_insn probe[] = { UA_MOV64_IMM(0, 0), UA_EXIT_INSN() };
	int ret = kernel_load(probe, N(probe), log, sizeof(log));

	if (ret == -EPERM || ret == -ENOSYS)
		SKIP("bpf() unavailable: %s", strerror(-ret));
	REQUIRE_EQ(ret, 0);
	for (size_t i = 0; i < N(rejects); i++) {
		const struct reject_case *c = &rejects[i];

		if (c->n == 0 || (c->flags & UA_ISA_HAS_ARENA))
			continue; /* no program / needs an arena map: not a like-for-like load */
		ret = kernel_load(c->insns, c->n, log, sizeof(log));
		if (ret != -EINVAL && ret != -EACCES)
			ua_test_fail(__FILE__, __LINE__, "%s: kernel returned %d (log: %s)", c->name,
				     ret, log);
	}
	/* What kernel_strict adds is what the kernel rejects. */
	for (size_t i = 0; i < N(strict_cases); i++) {
		struct ua_insn prog[3] = { UA_MOV64_IMM(0, 0), strict_cases[i].insn, UA_EXIT_INSN() };

		ret = kernel_load(prog, N(prog), log, sizeof(log));
		if (ret != -EINVAL)
			ua_test_fail(__FILE__, __LINE__, "%s: kernel returned %d (log: %s)",
				     strict_cases[i].msg, ret, log);
	}
}

TEST(isa, accepts_every_extension)
{
	static const struct ua_insn prog[] = {
		UA_ALU64_SIMM(UA_DIV, 0, -1), UA_ALU32_SREG(UA_MOD, 0, 1),
		UA_MOVSX64_REG(1, 2, 32), UA_MOVSX32_REG(1, 2, 16), UA_BSWAP(1, 64),
		UA_ENDIAN_TO_BE(1, 16), UA_LDX_MEMSX(UA_B, 1, 10, -1),
		UA_ATOMIC_OP(UA_W, UA_CMPXCHG, 10, 1, -8), UA_LOAD_ACQ_INSN(UA_B, 1, 10, -8),
		UA_STORE_REL_INSN(UA_H, 10, 1, -8), UA_ADDR_SPACE_CAST_INSN(1, 1, UA_CAST_USER),
		UA_LD_IMM64(3, 0x123456789ull), UA_MAY_GOTO_INSN(0), UA_GOTOL(0),
		UA_JMP32_REG(UA_JSLE, 1, 2, 0), UA_CALL_REL(1), UA_EXIT_INSN(),
		UA_CALL_HELPER(1), UA_CALL_KFUNC(3), UA_EXIT_INSN(),
	};
	char err[256] = "";

	CHECK_EQ(ua_isa_validate(prog, N(prog), UA_ISA_HAS_ARENA, err, sizeof(err)), 0);
	CHECK_STR(err, "");
}

/* Only the *_VALUE pseudo forms may carry an offset in the second imm (kernel rule). */
TEST(isa, ld_imm64_map_forms_second_imm)
{
	static const struct ua_insn prog[] = {
		UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_FD, 3),
		UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_IDX, 0),
		UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_VALUE, 0x0000000700000003ull),
		UA_LD_IMM64_RAW(1, UA_PSEUDO_MAP_IDX_VALUE, 0xffffffff00000001ull),
		UA_MOV64_IMM(0, 0), UA_EXIT_INSN(),
	};
	struct ua_insn bad[N(prog)];
	char err[256] = "";

	CHECK_EQ(ua_isa_validate(prog, N(prog), 0, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	memcpy(bad, prog, sizeof(bad));
	bad[3].imm = 8;
	CHECK_EQ(ua_isa_validate(bad, N(bad), 0, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "isa: insn 2: unrecognized bpf_ld_imm64 insn (map_idx with nonzero second imm 8)");
}

/* RFC 9669 behaviours the kernel rejects but the conformance suite runs. */
TEST(isa, accepts_rfc_leniencies)
{
	static const struct ua_insn prog[] = {
		UA_ALU32_IMM(UA_LSH, 0, 40), UA_ALU64_IMM(UA_DIV, 0, 0), UA_ALU64_IMM(UA_MOD, 0, 0),
		UA_INSN(UA_JMP | UA_CALL | UA_X, 2, 0, 0, 0), UA_EXIT_INSN(),
	};
	char err[256] = "";

	CHECK_EQ(ua_isa_validate(prog, N(prog), 0, err, sizeof(err)), 0);
}


TEST(isa, kernel_strict_rejects_rfc_leniencies)
{
	for (size_t i = 0; i < N(strict_cases); i++) {
		struct ua_insn prog[2] = { strict_cases[i].insn, UA_EXIT_INSN() };
		char err[256] = "";

		CHECK_EQ(ua_isa_validate(prog, 2, 0, err, sizeof(err)), 0);
		CHECK_EQ(ua_isa_validate(prog, 2, UA_ISA_KERNEL_STRICT, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, strict_cases[i].msg);
	}
	{
		struct ua_insn ok[2] = { UA_ALU64_IMM(UA_LSH, 0, 63), UA_EXIT_INSN() };
		char err[256] = "";

		CHECK_EQ(ua_isa_validate(ok, 2, UA_ISA_KERNEL_STRICT, err, sizeof(err)), 0);
	}
}

TEST(isa, too_many_insns_is_e2big)
{
	char err[256] = "";
	static const struct ua_insn one = UA_EXIT_INSN();

	CHECK_EQ(ua_isa_validate(&one, UA_ISA_MAX_INSNS + 1ull, 0, err, sizeof(err)), -E2BIG);
	CHECK_STR(err, "isa: program has 1048577 insns, limit 1048576");
}

TEST(isa, table_and_mnemonics)
{
	unsigned valid = 0;

	for (unsigned c = 0; c < 256; c++) {
		const struct ua_isa_op *op = ua_isa_op((uint8_t)c);

		if (op) {
			valid++;
			CHECK_EQ(op->code, c);
		}
	}
	CHECK_EQ(valid, 129);
	CHECK(ua_isa_op(0x00) == NULL);
	CHECK_STR(ua_isa_op(0xdb)->name, "atomic64");
	CHECK_STR(ua_isa_mnemonic(&UA_ALU32_SREG(UA_DIV, 1, 2)), "sdiv32");
	CHECK_STR(ua_isa_mnemonic(&UA_ALU64_SIMM(UA_MOD, 1, 2)), "smod");
	CHECK_STR(ua_isa_mnemonic(&UA_MOVSX64_REG(1, 2, 8)), "movsx864");
	CHECK_STR(ua_isa_mnemonic(&UA_ADDR_SPACE_CAST_INSN(1, 2, UA_CAST_KERN)), "addr_space_cast");
	CHECK_STR(ua_isa_mnemonic(&UA_ENDIAN_TO_BE(1, 32)), "be32");
	CHECK_STR(ua_isa_mnemonic(&UA_ENDIAN_TO_LE(1, 64)), "le64");
	CHECK_STR(ua_isa_mnemonic(&UA_BSWAP(1, 16)), "bswap16");
	CHECK_STR(ua_isa_mnemonic(&UA_ATOMIC_OP(UA_W, UA_XOR | UA_FETCH, 1, 2, 0)),
		  "lock fetch_xor");
	CHECK_STR(ua_isa_mnemonic(&UA_LOAD_ACQ_INSN(UA_DW, 1, 2, 0)), "load_acquire");
	CHECK_STR(ua_isa_mnemonic(&UA_CALL_REL(1)), "call local");
	CHECK_STR(ua_isa_mnemonic(&UA_CALL_KFUNC(1)), "call kfunc");
	CHECK_STR(ua_isa_mnemonic(&UA_MAY_GOTO_INSN(1)), "may_goto");
	CHECK_STR(ua_isa_mnemonic(&UA_INSN(0xff, 0, 0, 0, 0)), "invalid");
	CHECK_EQ(ua_isa_size_bytes(UA_LDX | UA_MEM | UA_H), 2);
	CHECK_EQ(ua_isa_size_bytes(UA_STX | UA_ATOMIC | UA_DW), 8);
}
