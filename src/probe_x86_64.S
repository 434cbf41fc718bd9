/* SPDX-License-Identifier: MIT */
/*
 * Probe routines: the only instructions that touch arena program-view memory
 * on behalf of the interpreter. Each instruction that may fault is recorded in
 * the ua_probe_extable section as a pair of PC-relative offsets
 * (faulting instruction, fixup), like the kernel's exception table; the
 * SIGSEGV/SIGBUS handler in probe.c looks the faulting RIP up there and
 * resumes at the fixup, which returns "faulted" (0 / false) to the C caller.
 *
 * A locked read-modify-write that faults has had no effect, so "fault → no
 * effect" needs no undo. Loads are plain MOVs: x86-64 TSO makes every aligned
 * load an acquire and every store a release, so LOAD_ACQ / STORE_REL need no
 * fence (the call itself is a compiler barrier for the C caller).
 *
 * SysV ABI: rdi = addr, rsi = 2nd arg, rdx = 3rd, rcx = 4th; result in rax.
 */
#if defined(__x86_64__)

	.text

/* Records the next instruction as able to fault, resuming at \fixup. */
.macro EXT fixup, insn:vararg
990:	\insn
	.pushsection ua_probe_extable, "a"
	.balign 4
	.long 990b - .
	.long \fixup - .
	.popsection
.endm

.macro FUNC name
	.globl \name
	.hidden \name
	.type \name, @function
	.balign 16
\name:
.endm

.macro ENDF name
	.size \name, . - \name
.endm

/* uint64_t ua_probe_asm_ldN(const void *addr): a fault returns 0. */
FUNC ua_probe_asm_ld1
	EXT 1f, movzbl (%rdi), %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_ld1

FUNC ua_probe_asm_ld2
	EXT 1f, movzwl (%rdi), %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_ld2

FUNC ua_probe_asm_ld4
	EXT 1f, movl (%rdi), %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_ld4

FUNC ua_probe_asm_ld8
	EXT 1f, movq (%rdi), %rax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_ld8

/*
 * Test-only fault injection (ua_probe_inject_faulting_load): the handler
 * resumes a faulting ldN here instead of at its fixup, with rax already set
 * to the injected value. ldN faults on its first instruction, before any
 * push, so this ret returns to ldN's caller.
 */
FUNC ua_probe_asm_inject_ret
	ret
ENDF ua_probe_asm_inject_ret

/* void ua_probe_asm_stN(void *addr, uint64_t val): a fault drops the store. */
FUNC ua_probe_asm_st1
	EXT 1f, movb %sil, (%rdi)
1:	ret
ENDF ua_probe_asm_st1

FUNC ua_probe_asm_st2
	EXT 1f, movw %si, (%rdi)
1:	ret
ENDF ua_probe_asm_st2

FUNC ua_probe_asm_st4
	EXT 1f, movl %esi, (%rdi)
1:	ret
ENDF ua_probe_asm_st4

FUNC ua_probe_asm_st8
	EXT 1f, movq %rsi, (%rdi)
1:	ret
ENDF ua_probe_asm_st8

/* bool ua_probe_asm_ldchkN(const void *addr, uint64_t *out): false on fault, *out untouched. */
.macro LDCHK n, insn:vararg
FUNC ua_probe_asm_ldchk\n
	EXT 1f, \insn
	movq %rax, (%rsi)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_ldchk\n
.endm
LDCHK 1, movzbl (%rdi), %eax
LDCHK 2, movzwl (%rdi), %eax
LDCHK 4, movl (%rdi), %eax
LDCHK 8, movq (%rdi), %rax

/* bool ua_probe_asm_stchkN(void *addr, uint64_t val): false on fault. */
.macro STCHK n, insn:vararg
FUNC ua_probe_asm_stchk\n
	EXT 1f, \insn
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_stchk\n
.endm
STCHK 1, movb %sil, (%rdi)
STCHK 2, movw %si, (%rdi)
STCHK 4, movl %esi, (%rdi)
STCHK 8, movq %rsi, (%rdi)

/* bool ua_probe_asm_OPN(void *addr, uint64_t val): locked RMW without fetch. */
.macro RMW name, insn:vararg
FUNC ua_probe_asm_\name
	EXT 1f, \insn
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_\name
.endm
RMW add4, lock addl %esi, (%rdi)
RMW add8, lock addq %rsi, (%rdi)
RMW and4, lock andl %esi, (%rdi)
RMW and8, lock andq %rsi, (%rdi)
RMW or4,  lock orl %esi, (%rdi)
RMW or8,  lock orq %rsi, (%rdi)
RMW xor4, lock xorl %esi, (%rdi)
RMW xor8, lock xorq %rsi, (%rdi)

/*
 * bool ua_probe_asm_xaddN / xchgN(void *addr, uint64_t val, uint64_t *old):
 * *old = previous value (zero-extended), written only on success.
 */
FUNC ua_probe_asm_xadd4
	movl %esi, %eax
	EXT 1f, lock xaddl %eax, (%rdi)
	movq %rax, (%rdx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_xadd4

FUNC ua_probe_asm_xadd8
	movq %rsi, %rax
	EXT 1f, lock xaddq %rax, (%rdi)
	movq %rax, (%rdx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_xadd8

FUNC ua_probe_asm_xchg4
	movl %esi, %eax
	EXT 1f, xchgl %eax, (%rdi)
	movq %rax, (%rdx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_xchg4

FUNC ua_probe_asm_xchg8
	movq %rsi, %rax
	EXT 1f, xchgq %rax, (%rdi)
	movq %rax, (%rdx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_xchg8

/*
 * bool ua_probe_asm_cmpxchgN(void *addr, uint64_t expected, uint64_t new,
 *                            uint64_t *old): *old = value found in memory.
 */
FUNC ua_probe_asm_cmpxchg4
	movl %esi, %eax
	EXT 1f, lock cmpxchgl %edx, (%rdi)
	movl %eax, %eax
	movq %rax, (%rcx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_cmpxchg4

FUNC ua_probe_asm_cmpxchg8
	movq %rsi, %rax
	EXT 1f, lock cmpxchgq %rdx, (%rdi)
	movq %rax, (%rcx)
	movl $1, %eax
	ret
1:	xorl %eax, %eax
	ret
ENDF ua_probe_asm_cmpxchg8

#endif /* __x86_64__ */

	.section .note.GNU-stack, "", @progbits
