/* SPDX-License-Identifier: MIT */
/*
 * Fault-tolerant access to arena program-view memory: the one path through
 * which every BPF arena load, store and atomic goes (interpreter today, JIT
 * code registers its own ranges with the same fault handler later).
 *
 * Kernel model (PROBE_MEM32 + exception table): a load from an unallocated
 * arena page or a guard region yields 0, a store is dropped, an atomic has no
 * effect; the host process never crashes and no memory is allocated.
 * Implementation (owner: arena module): small assembly routines whose
 * faulting instructions have fixup entries; a SIGSEGV/SIGBUS handler installed
 * by ua_probe_init() redirects a fault inside them to the fixup and chains any
 * other fault to the previously installed handler.
 */
#ifndef UA_PROBE_H
#define UA_PROBE_H

#include <stdbool.h>
#include <stdint.h>

/* Installs the fault handler once per process (idempotent, thread-safe). */
int ua_probe_init(void);

/* size is 1, 2, 4 or 8. Loads zero-extend; a faulting load returns 0. */
uint64_t ua_probe_load(const void *addr, unsigned size);
/* A faulting store is dropped. */
void ua_probe_store(void *addr, uint64_t val, unsigned size);

/*
 * Same as ua_probe_load/store but report whether the access faulted (false:
 * *val untouched / nothing stored), for runtimes that emit the 6.18 BPF
 * stream message "ERROR: Arena READ|WRITE access at unmapped address".
 */
bool ua_probe_load_ok(const void *addr, unsigned size, uint64_t *val);
bool ua_probe_store_ok(void *addr, uint64_t val, unsigned size);

/*
 * BPF_STX|BPF_ATOMIC semantics at addr. op is the insn imm: UA_ADD, UA_AND,
 * UA_OR, UA_XOR (each optionally | UA_FETCH), UA_XCHG, UA_CMPXCHG (cmp = r0),
 * UA_LOAD_ACQ (result in *old), UA_STORE_REL (stores val). size is 4 or 8
 * (1, 2, 4, 8 for load-acquire/store-release).
 * Returns true when the access completed (*old = previous value for FETCH,
 * XCHG, CMPXCHG, LOAD_ACQ); false when it faulted: nothing changed, *old untouched.
 */
bool ua_probe_atomic(void *addr, unsigned size, int32_t op, uint64_t val, uint64_t cmp,
		     uint64_t *old);

/*
 * Machine-code ranges (e.g. JIT output) whose faults are fixed up: resolver
 * gets the faulting pc and returns the pc to resume at (0 = not ours). It is
 * called from the signal handler: it must be async-signal-safe.
 */
typedef uintptr_t (*ua_fault_resolver)(uintptr_t pc, void *ucontext, void *data);
int ua_probe_register_code(uintptr_t start, uintptr_t end, ua_fault_resolver fn, void *data);
void ua_probe_unregister_code(uintptr_t start);

/*
 * Host address ranges (user views of SEGV_ON_FAULT arenas) where a fault on
 * an unallocated page must reach the host as SIGSEGV/SEGV_MAPERR, as the
 * kernel's arena fault handler delivers it. uffd path: the view is registered
 * with userfaultfd in SIGBUS mode and fix is NULL. Checked path: the view is
 * PROT_NONE where this process has not enabled pages yet; on SIGSEGV the
 * handler calls fix(data, addr), which enables the page and returns true when
 * it is allocated (the access is retried). fix must be async-signal-safe.
 */
typedef bool (*ua_probe_segv_fix_fn)(void *data, uintptr_t addr);
int ua_probe_register_segv_range(uintptr_t start, uintptr_t end, ua_probe_segv_fix_fn fix,
				 void *data);
void ua_probe_unregister_segv_range(uintptr_t start);

/*
 * Checked path (no userfaultfd): before touching an address in [start, end)
 * the probe asks fn(data, addr) whether the page is backed; if not, a load
 * returns 0, a store is dropped, an atomic fails, without touching memory
 * (touching a hole of a shared file would allocate a page). Costs one
 * relaxed load on the hot path while no checked range is registered.
 */
typedef bool (*ua_probe_check_fn)(void *data, uintptr_t addr);
int ua_probe_register_checked(uintptr_t start, uintptr_t end, ua_probe_check_fn fn, void *data);
void ua_probe_unregister_checked(uintptr_t start);

/*
 * Test-only fault injection, for the differential tests that must prove they
 * catch a broken arena (tests/test_kernel_every.c): while on, an arena load
 * through ua_probe_load() that faults (unallocated or reserved page, guard)
 * returns `value` truncated to the load size instead of 0, on both the
 * userfaultfd and the checked path, in the interpreter and (through
 * ua_probe_faulting_load_result in its fault resolver) in JIT code.
 * Process-wide, like the fault handler it lives in; costs nothing until a
 * load faults. Never used outside tests.
 */
void ua_probe_inject_faulting_load(bool on, uint64_t value);
/* What a faulting arena load of size bytes returns: 0, or the injected value truncated. */
uint64_t ua_probe_faulting_load_result(unsigned size);

#endif
