/* SPDX-License-Identifier: MIT */
/*
 * Fault handler for the probe path (see probe.h for the contract).
 *
 * Model: arena program-view memory is a 4 GiB + 64 KiB reservation whose
 * unallocated parts fault — PROT_NONE guards raise SIGSEGV, holes of the
 * shared file raise SIGBUS (userfaultfd MISSING + UFFD_FEATURE_SIGBUS). Only
 * the routines in probe_x86_64.S touch that memory, and each of their
 * faulting instructions has an exception-table entry. The handler resumes a
 * faulting probe at its fixup; JIT code registered with
 * ua_probe_register_code() is asked through its resolver; a SIGBUS on a
 * registered SEGV_ON_FAULT user view is turned into the SIGSEGV the kernel
 * would deliver; anything else is chained to the handler that was installed
 * before ours (ASan's, the host's, or the default action), so the host's own
 * crashes still crash.
 *
 * Process-global state is unavoidable here: signal dispositions are per
 * process. The registries are fixed arrays of atomically published slots so
 * the handler reads them without locks (async-signal-safe).
 */
#include "probe.h"

#include "internal.h"

#include <uarena/insn.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "probe path: only x86-64 is implemented (probe_x86_64.S)"
#endif

struct extable_entry {
	int32_t insn; /* faulting instruction, relative to this field */
	int32_t fixup; /* resume address, relative to this field */
};

extern const struct extable_entry __start_ua_probe_extable[] UA_HIDDEN;
extern const struct extable_entry __stop_ua_probe_extable[] UA_HIDDEN;

/* The assembly routines (probe_x86_64.S). */
UA_HIDDEN uint64_t ua_probe_asm_ld1(const void *a);
UA_HIDDEN uint64_t ua_probe_asm_ld2(const void *a);
UA_HIDDEN uint64_t ua_probe_asm_ld4(const void *a);
UA_HIDDEN uint64_t ua_probe_asm_ld8(const void *a);
UA_HIDDEN void ua_probe_asm_st1(void *a, uint64_t v);
UA_HIDDEN void ua_probe_asm_st2(void *a, uint64_t v);
UA_HIDDEN void ua_probe_asm_st4(void *a, uint64_t v);
UA_HIDDEN void ua_probe_asm_st8(void *a, uint64_t v);
UA_HIDDEN void ua_probe_asm_inject_ret(void);
UA_HIDDEN bool ua_probe_asm_ldchk1(const void *a, uint64_t *out);
UA_HIDDEN bool ua_probe_asm_ldchk2(const void *a, uint64_t *out);
UA_HIDDEN bool ua_probe_asm_ldchk4(const void *a, uint64_t *out);
UA_HIDDEN bool ua_probe_asm_ldchk8(const void *a, uint64_t *out);
UA_HIDDEN bool ua_probe_asm_stchk1(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_stchk2(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_stchk4(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_stchk8(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_add4(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_add8(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_and4(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_and8(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_or4(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_or8(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_xor4(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_xor8(void *a, uint64_t v);
UA_HIDDEN bool ua_probe_asm_xadd4(void *a, uint64_t v, uint64_t *old);
UA_HIDDEN bool ua_probe_asm_xadd8(void *a, uint64_t v, uint64_t *old);
UA_HIDDEN bool ua_probe_asm_xchg4(void *a, uint64_t v, uint64_t *old);
UA_HIDDEN bool ua_probe_asm_xchg8(void *a, uint64_t v, uint64_t *old);
UA_HIDDEN bool ua_probe_asm_cmpxchg4(void *a, uint64_t expect, uint64_t nv, uint64_t *old);
UA_HIDDEN bool ua_probe_asm_cmpxchg8(void *a, uint64_t expect, uint64_t nv, uint64_t *old);

#define MAX_CODE_RANGES 64
#define MAX_SEGV_RANGES 256

struct code_range {
	_Atomic uintptr_t start; /* 0 = free slot */
	uintptr_t end;
	ua_fault_resolver fn;
	void *data;
};

struct segv_range {
	_Atomic uintptr_t start; /* 0 = free slot */
	_Atomic uintptr_t end;
	ua_probe_segv_fix_fn fix;
	void *data;
};

struct checked_range {
	_Atomic uintptr_t start; /* 0 = free slot */
	uintptr_t end;
	ua_probe_check_fn fn;
	void *data;
};

static struct code_range code_ranges[MAX_CODE_RANGES];
static struct checked_range checked_ranges[MAX_CODE_RANGES];
static _Atomic int checked_count;
static struct segv_range segv_ranges[MAX_SEGV_RANGES];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Test-only fault injection (probe.h); read only on the fault paths. */
static _Atomic bool inject_on;
static _Atomic uint64_t inject_value;

static struct sigaction prev_segv, prev_bus;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

static uintptr_t extable_lookup(uintptr_t pc)
{
	const struct extable_entry *e;

	for (e = __start_ua_probe_extable; e < __stop_ua_probe_extable; e++) {
		if ((uintptr_t)&e->insn + (intptr_t)e->insn == pc)
			return (uintptr_t)&e->fixup + (intptr_t)e->fixup;
	}
	return 0;
}

static uintptr_t code_range_lookup(uintptr_t pc, void *uc)
{
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		uintptr_t start = atomic_load_explicit(&code_ranges[i].start, memory_order_acquire);

		if (start && pc >= start && pc < code_ranges[i].end)
			return code_ranges[i].fn(pc, uc, code_ranges[i].data);
	}
	return 0;
}

static struct segv_range *find_segv_range(uintptr_t addr)
{
	for (int i = 0; i < MAX_SEGV_RANGES; i++) {
		uintptr_t start = atomic_load_explicit(&segv_ranges[i].start, memory_order_acquire);

		if (start && addr >= start &&
		    addr < atomic_load_explicit(&segv_ranges[i].end, memory_order_relaxed))
			return &segv_ranges[i];
	}
	return NULL;
}

static void on_fault(int sig, siginfo_t *info, void *ucv);

/*
 * Hands a fault we do not own to whoever would have received it without us.
 * A default or ignored disposition is restored and the fault re-raised, so
 * the process dies with the original signal (and core) as it would have.
 */
static void deliver(int sig, siginfo_t *info, void *ucv, const struct sigaction *act)
{
	if (act->sa_flags & SA_SIGINFO) {
		if (act->sa_sigaction != on_fault) {
			act->sa_sigaction(sig, info, ucv);
			return;
		}
	} else if (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
		act->sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
	/* A kernel-generated fault re-faults on return; anything else must be re-sent. */
	if (info->si_code <= 0 || info->si_signo != sig)
		raise(sig);
}

/*
 * SEGV_ON_FAULT: the kernel's arena fault handler answers a host touch of an
 * unallocated page with SIGSEGV. Ours sees a userfaultfd SIGBUS; it is passed
 * to the SIGSEGV handler currently in force (the host may have installed one
 * after us), with the siginfo a kernel SEGV_MAPERR would carry.
 */
static void deliver_as_segv(siginfo_t *info, void *ucv)
{
	struct sigaction cur;
	siginfo_t si = *info;
	sigset_t set;

	si.si_signo = SIGSEGV;
	si.si_code = SEGV_MAPERR;
	sigaction(SIGSEGV, NULL, &cur);
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
		cur = prev_segv;
	if (cur.sa_flags & SA_SIGINFO) {
		cur.sa_sigaction(SIGSEGV, &si, ucv);
		return;
	}
	if (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN) {
		cur.sa_handler(SIGSEGV);
		return;
	}
	signal(SIGSEGV, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGSEGV);
}

/* The injected result of a faulting plain load (0 without injection), by size. */
uint64_t ua_probe_faulting_load_result(unsigned size)
{
	uint64_t v;

	if (likely(!atomic_load_explicit(&inject_on, memory_order_relaxed)))
		return 0;
	v = atomic_load_explicit(&inject_value, memory_order_relaxed);
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* pc faulted in a plain ldN: set rax to the injected value, true. Others: false. */
static bool inject_load_fault(uintptr_t pc, ucontext_t *uc)
{
	const uintptr_t loads[4] = { (uintptr_t)ua_probe_asm_ld1, (uintptr_t)ua_probe_asm_ld2,
				     (uintptr_t)ua_probe_asm_ld4, (uintptr_t)ua_probe_asm_ld8 };

	for (unsigned i = 0; i < 4; i++)
		if (pc == loads[i]) {
			uc->uc_mcontext.gregs[REG_RAX] = (greg_t)ua_probe_faulting_load_result(1u << i);
			return true;
		}
	return false;
}

void ua_probe_inject_faulting_load(bool on, uint64_t value)
{
	atomic_store_explicit(&inject_value, value, memory_order_relaxed);
	atomic_store_explicit(&inject_on, on, memory_order_release);
}

static void on_fault(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t resume = 0;
	struct segv_range *sr = NULL;

	if (info->si_code > 0) { /* raised by a fault, not sent by kill() */
		resume = extable_lookup(pc);
		if (!resume)
			resume = code_range_lookup(pc, ucv);
	}
	if (resume && atomic_load_explicit(&inject_on, memory_order_relaxed) &&
	    inject_load_fault(pc, uc))
		resume = (uintptr_t)ua_probe_asm_inject_ret;
	if (resume) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume;
	} else if (info->si_code > 0 && (sr = find_segv_range((uintptr_t)info->si_addr))) {
		/* checked path: an allocated page this process had not enabled yet */
		if (!(sig == SIGSEGV && sr->fix && sr->fix(sr->data, (uintptr_t)info->si_addr)))
			deliver_as_segv(info, ucv);
	} else {
		deliver(sig, info, ucv, sig == SIGSEGV ? &prev_segv : &prev_bus);
	}
	errno = saved_errno;
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &prev_segv) || sigaction(SIGBUS, &sa, &prev_bus))
		init_err = -errno;
}

int ua_probe_init(void)
{
	pthread_once(&init_once, install_handlers);
	return init_err;
}

static bool checked_allows_slow(uintptr_t addr, unsigned size)
{
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		struct checked_range *r = &checked_ranges[i];
		uintptr_t start = atomic_load_explicit(&r->start, memory_order_acquire);

		if (!start || addr + size <= start || addr >= r->end)
			continue;
		/* An unaligned access may straddle two pages: both must be backed. */
		if (addr >= start && !r->fn(r->data, addr))
			return false;
		if (addr + size - 1 < r->end && !r->fn(r->data, addr + size - 1))
			return false;
	}
	return true;
}

/* True unless addr lies in a checked range and is not backed. */
static inline bool checked_allows(const void *addr, unsigned size)
{
	if (likely(!atomic_load_explicit(&checked_count, memory_order_relaxed)))
		return true;
	return checked_allows_slow((uintptr_t)addr, size);
}

uint64_t ua_probe_load(const void *addr, unsigned size)
{
	if (unlikely(!checked_allows(addr, size)))
		return ua_probe_faulting_load_result(size);
	switch (size) {
	case 1: return ua_probe_asm_ld1(addr);
	case 2: return ua_probe_asm_ld2(addr);
	case 4: return ua_probe_asm_ld4(addr);
	case 8: return ua_probe_asm_ld8(addr);
	}
	UA_NEVER(true);
	return 0;
}

void ua_probe_store(void *addr, uint64_t val, unsigned size)
{
	if (unlikely(!checked_allows(addr, size)))
		return;
	switch (size) {
	case 1: ua_probe_asm_st1(addr, val); return;
	case 2: ua_probe_asm_st2(addr, val); return;
	case 4: ua_probe_asm_st4(addr, val); return;
	case 8: ua_probe_asm_st8(addr, val); return;
	}
	UA_NEVER(true);
}

static bool load_checked(const void *addr, unsigned size, uint64_t *out)
{
	switch (size) {
	case 1: return ua_probe_asm_ldchk1(addr, out);
	case 2: return ua_probe_asm_ldchk2(addr, out);
	case 4: return ua_probe_asm_ldchk4(addr, out);
	case 8: return ua_probe_asm_ldchk8(addr, out);
	}
	return false;
}

static bool store_checked(void *addr, uint64_t val, unsigned size)
{
	switch (size) {
	case 1: return ua_probe_asm_stchk1(addr, val);
	case 2: return ua_probe_asm_stchk2(addr, val);
	case 4: return ua_probe_asm_stchk4(addr, val);
	case 8: return ua_probe_asm_stchk8(addr, val);
	}
	return false;
}

bool ua_probe_load_ok(const void *addr, unsigned size, uint64_t *val)
{
	if (unlikely(!checked_allows(addr, size)))
		return false;
	if (UA_NEVER(size != 1 && size != 2 && size != 4 && size != 8))
		return false;
	return load_checked(addr, size, val);
}

bool ua_probe_store_ok(void *addr, uint64_t val, unsigned size)
{
	if (unlikely(!checked_allows(addr, size)))
		return false;
	if (UA_NEVER(size != 1 && size != 2 && size != 4 && size != 8))
		return false;
	return store_checked(addr, val, size);
}

static uint64_t apply_bitop(int32_t op, uint64_t cur, uint64_t val)
{
	switch (op) {
	case UA_AND: return cur & val;
	case UA_OR:  return cur | val;
	default:     return cur ^ val;
	}
}

/*
 * x86 has no fetching AND/OR/XOR: a CMPXCHG loop. Either access may fault
 * (the page can be freed between them); then nothing was written.
 */
static bool fetch_bitop(void *addr, unsigned size, int32_t op, uint64_t val, uint64_t *old)
{
	uint64_t mask = size == 4 ? 0xffffffffull : ~0ull;
	uint64_t cur, seen;

	if (!load_checked(addr, size, &cur))
		return false;
	for (;;) {
		uint64_t next = apply_bitop(op, cur, val) & mask;
		bool ok = size == 4 ? ua_probe_asm_cmpxchg4(addr, cur, next, &seen)
				    : ua_probe_asm_cmpxchg8(addr, cur, next, &seen);

		if (!ok)
			return false;
		if (seen == cur) {
			*old = cur;
			return true;
		}
		cur = seen;
	}
}

static bool rmw_no_fetch(void *addr, bool wide, int32_t op, uint64_t val)
{
	switch (op) {
	case UA_ADD: return wide ? ua_probe_asm_add8(addr, val) : ua_probe_asm_add4(addr, val);
	case UA_AND: return wide ? ua_probe_asm_and8(addr, val) : ua_probe_asm_and4(addr, val);
	case UA_OR:  return wide ? ua_probe_asm_or8(addr, val) : ua_probe_asm_or4(addr, val);
	case UA_XOR: return wide ? ua_probe_asm_xor8(addr, val) : ua_probe_asm_xor4(addr, val);
	}
	return false;
}

bool ua_probe_atomic(void *addr, unsigned size, int32_t op, uint64_t val, uint64_t cmp,
		     uint64_t *old)
{
	bool wide = size == 8;
	uint64_t tmp;

	if (unlikely(!checked_allows(addr, size)))
		return false;
	if (op == UA_LOAD_ACQ || op == UA_STORE_REL) {
		if (UA_NEVER(size != 1 && size != 2 && size != 4 && size != 8))
			return false;
		if (op == UA_STORE_REL)
			return store_checked(addr, val, size);
		if (!load_checked(addr, size, &tmp))
			return false;
		*old = tmp;
		return true;
	}
	if (UA_NEVER(size != 4 && size != 8))
		return false;
	switch (op) {
	case UA_ADD: case UA_AND: case UA_OR: case UA_XOR:
		return rmw_no_fetch(addr, wide, op, val);
	case UA_ADD | UA_FETCH:
		return wide ? ua_probe_asm_xadd8(addr, val, old) : ua_probe_asm_xadd4(addr, val, old);
	case UA_AND | UA_FETCH: case UA_OR | UA_FETCH: case UA_XOR | UA_FETCH:
		return fetch_bitop(addr, size, op & ~UA_FETCH, val, old);
	case UA_XCHG:
		return wide ? ua_probe_asm_xchg8(addr, val, old) : ua_probe_asm_xchg4(addr, val, old);
	case UA_CMPXCHG:
		return wide ? ua_probe_asm_cmpxchg8(addr, cmp, val, old)
			    : ua_probe_asm_cmpxchg4(addr, cmp, val, old);
	}
	UA_NEVER(true);
	return false;
}

int ua_probe_register_code(uintptr_t start, uintptr_t end, ua_fault_resolver fn, void *data)
{
	int err = -ENOSPC;

	if (!start || end <= start || !fn)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		if (atomic_load_explicit(&code_ranges[i].start, memory_order_relaxed))
			continue;
		code_ranges[i].end = end;
		code_ranges[i].fn = fn;
		code_ranges[i].data = data;
		atomic_store_explicit(&code_ranges[i].start, start, memory_order_release);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&registry_lock);
	return err;
}

void ua_probe_unregister_code(uintptr_t start)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		if (start && atomic_load_explicit(&code_ranges[i].start, memory_order_relaxed) == start)
			atomic_store_explicit(&code_ranges[i].start, 0, memory_order_release);
	}
	pthread_mutex_unlock(&registry_lock);
}

int ua_probe_register_segv_range(uintptr_t start, uintptr_t end, ua_probe_segv_fix_fn fix,
				 void *data)
{
	int err = -ENOSPC;

	if (!start || end <= start)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_SEGV_RANGES; i++) {
		if (atomic_load_explicit(&segv_ranges[i].start, memory_order_relaxed))
			continue;
		atomic_store_explicit(&segv_ranges[i].end, end, memory_order_relaxed);
		segv_ranges[i].fix = fix;
		segv_ranges[i].data = data;
		atomic_store_explicit(&segv_ranges[i].start, start, memory_order_release);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&registry_lock);
	return err;
}

void ua_probe_unregister_segv_range(uintptr_t start)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_SEGV_RANGES; i++) {
		if (start && atomic_load_explicit(&segv_ranges[i].start, memory_order_relaxed) == start)
			atomic_store_explicit(&segv_ranges[i].start, 0, memory_order_release);
	}
	pthread_mutex_unlock(&registry_lock);
}

int ua_probe_register_checked(uintptr_t start, uintptr_t end, ua_probe_check_fn fn, void *data)
{
	int err = -ENOSPC;

	if (!start || end <= start || !fn)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		if (atomic_load_explicit(&checked_ranges[i].start, memory_order_relaxed))
			continue;
		checked_ranges[i].end = end;
		checked_ranges[i].fn = fn;
		checked_ranges[i].data = data;
		atomic_store_explicit(&checked_ranges[i].start, start, memory_order_release);
		atomic_fetch_add(&checked_count, 1);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&registry_lock);
	return err;
}

void ua_probe_unregister_checked(uintptr_t start)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CODE_RANGES; i++) {
		if (start && atomic_load_explicit(&checked_ranges[i].start, memory_order_relaxed) == start) {
			atomic_store_explicit(&checked_ranges[i].start, 0, memory_order_release);
			atomic_fetch_sub(&checked_count, 1);
		}
	}
	pthread_mutex_unlock(&registry_lock);
}
