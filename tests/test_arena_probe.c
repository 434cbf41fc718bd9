/* SPDX-License-Identifier: MIT */
/*
 * The probe path: exact results of every load/store/atomic on good memory,
 * "fault = 0 / dropped / no effect" on PROT_NONE (SIGSEGV) and past-EOF
 * (SIGBUS) memory, registered JIT ranges, and chaining of foreign faults.
 */
#include "test.h"
#include "util.h"

#include "probe.h"

#include <uarena/insn.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void *map_none(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	REQUIRE(p != MAP_FAILED);
	return p;
}

/* A shared mapping of an empty file: touching it raises SIGBUS, not SIGSEGV. */
static void *map_past_eof(void)
{
	int fd = memfd_create("probe-test", 0);
	void *p;

	REQUIRE(fd >= 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	REQUIRE(p != MAP_FAILED);
	return p;
}

TEST(probe, loads_and_stores_every_size)
{
	uint64_t buf[2] = { 0x1122334455667788ull, 0 };

	REQUIRE_EQ(ua_probe_init(), 0);
	CHECK_EQ(ua_probe_load(buf, 1), 0x88);
	CHECK_EQ(ua_probe_load(buf, 2), 0x7788);
	CHECK_EQ(ua_probe_load(buf, 4), 0x55667788);
	CHECK(ua_probe_load(buf, 8) == 0x1122334455667788ull);
	ua_probe_store(&buf[1], 0xffffffffffffffffull, 8);
	ua_probe_store(&buf[1], 0xaabbccddeeff0011ull, 4);
	CHECK(buf[1] == 0xffffffffeeff0011ull);
	ua_probe_store(&buf[1], 0x1234, 2);
	ua_probe_store(&buf[1], 0x99, 1);
	CHECK(buf[1] == 0xffffffffeeff1299ull);
}

TEST(probe, faulting_loads_return_zero_and_stores_are_dropped)
{
	void *none = map_none(), *eof = map_past_eof();
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	REQUIRE_EQ(ua_probe_init(), 0);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(ua_probe_load((char *)none + 8, sizes[i]), 0);
		CHECK_EQ(ua_probe_load((char *)eof + 16, sizes[i]), 0);
		ua_probe_store((char *)none + 8, 0x55, sizes[i]);
		ua_probe_store((char *)eof + 16, 0x55, sizes[i]);
	}
	munmap(none, 4096);
	munmap(eof, 4096);
}

struct atomic_case {
	int32_t op;
	unsigned size;
	uint64_t init, val, cmp;
	uint64_t want_mem, want_old;
	bool fetches;
};

TEST(probe, atomics_exact_results)
{
	static const struct atomic_case cases[] = {
		{ UA_ADD, 8, 1, 2, 0, 3, 0, false },
		{ UA_ADD, 4, 0xffffffffull, 2, 0, 1, 0, false },
		{ UA_ADD | UA_FETCH, 8, 1, 2, 0, 3, 1, true },
		{ UA_ADD | UA_FETCH, 4, 0xfffffffeull, 3, 0, 1, 0xfffffffeull, true },
		{ UA_AND, 8, 0x110ull << 32, 0x011ull << 32, 0, 0x010ull << 32, 0, false },
		{ UA_AND, 4, 0x110, 0x011, 0, 0x010, 0, false },
		{ UA_AND | UA_FETCH, 8, 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0,
		  0x0f000f000f000f00ull, 0xff00ff00ff00ff00ull, true },
		{ UA_AND | UA_FETCH, 4, 0xf0f0f0f0, 0xff00ff00, 0, 0xf000f000, 0xf0f0f0f0, true },
		{ UA_OR, 8, 0x110ull << 32, 0x011ull << 32, 0, 0x111ull << 32, 0, false },
		{ UA_OR, 4, 0x110, 0x011, 0, 0x111, 0, false },
		{ UA_OR | UA_FETCH, 8, 0x100, 0x1ull << 63, 0, 0x8000000000000100ull, 0x100, true },
		{ UA_OR | UA_FETCH, 4, 0x80000000, 0x1, 0, 0x80000001, 0x80000000, true },
		{ UA_XOR, 8, 0x110ull << 32, 0x011ull << 32, 0, 0x101ull << 32, 0, false },
		{ UA_XOR, 4, 0x110, 0x011, 0, 0x101, 0, false },
		{ UA_XOR | UA_FETCH, 8, 0xffffull, 0xff0full, 0, 0x00f0ull, 0xffffull, true },
		{ UA_XOR | UA_FETCH, 4, 0xffffffff, 0xffff0000, 0, 0x0000ffff, 0xffffffff, true },
		{ UA_XCHG, 8, 1, 2, 0, 2, 1, true },
		{ UA_XCHG, 4, 0x87654321, 0x12345678, 0, 0x12345678, 0x87654321, true },
		/* cmpxchg: success (cmp matches) and failure (memory kept, old = memory) */
		{ UA_CMPXCHG, 8, 1, 2, 1, 2, 1, true },
		{ UA_CMPXCHG, 8, 1, 2, 3, 1, 1, true },
		{ UA_CMPXCHG, 4, 0x80000001, 7, 0x80000001, 7, 0x80000001, true },
		/* a 32-bit cmpxchg compares only the low half of r0 */
		{ UA_CMPXCHG, 4, 5, 9, 0xdead00000005ull, 9, 5, true },
		{ UA_CMPXCHG, 4, 5, 9, 6, 5, 5, true },
		{ UA_LOAD_ACQ, 1, 0x1234567890abcdefull, 0, 0, 0x1234567890abcdefull, 0xef, true },
		{ UA_LOAD_ACQ, 2, 0x1234567890abcdefull, 0, 0, 0x1234567890abcdefull, 0xcdef, true },
		{ UA_LOAD_ACQ, 4, 0x1234567890abcdefull, 0, 0, 0x1234567890abcdefull, 0x90abcdef, true },
		{ UA_LOAD_ACQ, 8, 0x1234567890abcdefull, 0, 0, 0x1234567890abcdefull,
		  0x1234567890abcdefull, true },
		{ UA_STORE_REL, 1, ~0ull, 0x12, 0, 0xffffffffffffff12ull, 0, false },
		{ UA_STORE_REL, 2, ~0ull, 0x1234, 0, 0xffffffffffff1234ull, 0, false },
		{ UA_STORE_REL, 4, ~0ull, 0x12345678, 0, 0xffffffff12345678ull, 0, false },
		{ UA_STORE_REL, 8, ~0ull, 0x1234567890abcdefull, 0, 0x1234567890abcdefull, 0, false },
	};
	void *none = map_none();

	REQUIRE_EQ(ua_probe_init(), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct atomic_case *c = &cases[i];
		bool rmw32 = c->size == 4 && c->op != UA_LOAD_ACQ && c->op != UA_STORE_REL;
		uint64_t mem = c->init, old = 0xabababababababab;

		if (rmw32) /* upper half must never be touched by a 32-bit op */
			mem = (0x5a5a5a5aull << 32) | (uint32_t)c->init;
		if (!ua_probe_atomic(&mem, c->size, c->op, c->val, c->cmp, &old)) {
			ua_test_fail(__FILE__, __LINE__, "case %zu: atomic reported a fault", i);
			continue;
		}
		uint64_t want = rmw32 ? (0x5a5a5a5aull << 32) | (uint32_t)c->want_mem : c->want_mem;
		if (mem != want)
			ua_test_fail(__FILE__, __LINE__, "case %zu: mem 0x%" PRIx64 " want 0x%" PRIx64,
				     i, mem, want);
		if (c->fetches ? old != c->want_old : old != 0xabababababababab)
			ua_test_fail(__FILE__, __LINE__, "case %zu: old 0x%" PRIx64, i, old);
		/* the same op on a PROT_NONE page: reports the fault, leaves old alone */
		old = 0xcd;
		if (ua_probe_atomic((char *)none + 64, c->size, c->op, c->val, c->cmp, &old))
			ua_test_fail(__FILE__, __LINE__, "case %zu: fault not reported", i);
		CHECK_EQ(old, 0xcd);
	}
	munmap(none, 4096);
}

TEST(probe, atomics_on_sigbus_memory_report_fault)
{
	void *eof = map_past_eof();
	uint64_t old = 7;

	REQUIRE_EQ(ua_probe_init(), 0);
	CHECK(!ua_probe_atomic(eof, 8, UA_ADD | UA_FETCH, 1, 0, &old));
	CHECK(!ua_probe_atomic(eof, 4, UA_OR | UA_FETCH, 1, 0, &old));
	CHECK(!ua_probe_atomic(eof, 8, UA_CMPXCHG, 1, 0, &old));
	CHECK(!ua_probe_atomic(eof, 2, UA_LOAD_ACQ, 0, 0, &old));
	CHECK(!ua_probe_atomic(eof, 1, UA_STORE_REL, 1, 0, &old));
	CHECK_EQ(old, 7);
	munmap(eof, 4096);
}

static void exit_42(int sig, siginfo_t *info, void *uc)
{
	_exit(sig == SIGSEGV ? 42 : 43);
}

static void foreign_fault_with_host_handler(void)
{
	struct sigaction sa = { .sa_sigaction = exit_42, .sa_flags = SA_SIGINFO };
	volatile int *none = map_none();

	sigaction(SIGSEGV, &sa, NULL);
	if (ua_probe_init())
		_exit(1);
	if (ua_probe_load((const void *)none, 4) != 0) /* ours: fixed up, no exit */
		_exit(2);
	(void)*none; /* the host's: reaches the host handler */
	_exit(3);
}

TEST(probe, foreign_fault_chains_to_previous_handler)
{
	int st = ua_test_in_child(foreign_fault_with_host_handler);

	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 42);
}

static void foreign_fault_default_action(void)
{
	volatile int *none = map_none();

	signal(SIGSEGV, SIG_DFL);
	if (ua_probe_init())
		_exit(1);
	ua_probe_store((void *)none, 1, 8);
	(void)*none;
	_exit(3);
}

TEST(probe, foreign_fault_with_default_action_kills_with_sigsegv)
{
	int st = ua_test_in_child(foreign_fault_default_action);

	CHECK(WIFSIGNALED(st));
	if (WIFSIGNALED(st))
		CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

static uintptr_t jit_fixup(uintptr_t pc, void *uc, void *data)
{
	uintptr_t start = (uintptr_t)data;

	return pc == start ? start + 3 : 0;
}

TEST(probe, registered_code_range_is_fixed_up_by_its_resolver)
{
	/* mov (%rdi),%eax; ret; fixup: mov $42,%eax; ret */
	static const uint8_t code[] = { 0x8b, 0x07, 0xc3, 0xb8, 42, 0, 0, 0, 0xc3 };
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *none = map_none();
	int good = 7;
	int (*fn)(const void *);

	REQUIRE(page != MAP_FAILED);
	memcpy(page, code, sizeof(code));
	REQUIRE(mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0);
	fn = (int (*)(const void *))(void *)page;
	REQUIRE_EQ(ua_probe_init(), 0);
	CHECK_EQ(ua_probe_register_code((uintptr_t)page, (uintptr_t)page + sizeof(code), jit_fixup,
					page), 0);
	CHECK_EQ(ua_probe_register_code(0, 1, jit_fixup, NULL), -EINVAL);
	CHECK_EQ(fn(&good), 7);
	CHECK_EQ(fn(none), 42);
	ua_probe_unregister_code((uintptr_t)page);
	munmap(page, 4096);
	munmap(none, 4096);
}

TEST(probe, load_ok_and_store_ok_report_faults)
{
	uint64_t mem = 0x1122334455667788ull, v = 5;
	void *none = map_none(), *eof = map_past_eof();

	REQUIRE_EQ(ua_probe_init(), 0);
	CHECK(ua_probe_load_ok(&mem, 2, &v));
	CHECK_EQ(v, 0x7788);
	CHECK(ua_probe_store_ok(&mem, 0xab, 1));
	CHECK(mem == 0x11223344556677abull);
	v = 5;
	CHECK(!ua_probe_load_ok(none, 8, &v));
	CHECK(!ua_probe_load_ok(eof, 4, &v));
	CHECK_EQ(v, 5);
	CHECK(!ua_probe_store_ok(none, 1, 8));
	CHECK(!ua_probe_store_ok(eof, 1, 1));
	munmap(none, 4096);
	munmap(eof, 4096);
}
