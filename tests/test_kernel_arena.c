/* SPDX-License-Identifier: MIT */
/*
 * Differential tests: the real kernel arena against uarena's arena.
 *
 * Model: every scenario is a table of steps (alloc/free/reserve with the
 * kfunc's arguments, host reads/writes through the user view, program-view
 * reads/writes) with the result the spec (measured on Linux 6.18) expects.
 * The same table runs on each backend:
 *   kernel  an arena map driven by a raw SYSCALL program, one kfunc per
 *           BPF_PROG_TEST_RUN (src/kernel/karena.c);
 *   uarena  ua_arena_* (include/uarena/arena.h), program view via ua_probe_*,
 *           once with the default fault path and once forced to the checked
 *           path (no userfaultfd), which must behave identically.
 * Each step's result must equal the expected value on each backend, so the
 * two backends agree with each other step by step. Addresses are given as
 * page offsets from user_vm_start and turned into user-form pointers per
 * backend, so both see the same calls even though their bases differ.
 * The uarena backend is compiled in when include/uarena/arena.h provides
 * the arena API (UA_F_MMAPABLE); until then only the kernel column runs.
 */
#include "test.h"
#include "util.h"

#include "kernel.h"

#include <uarena/arena.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef UA_F_MMAPABLE
#define HAVE_UARENA_ARENA 1
#include "arena.h"
#include "probe.h"
#else
#define HAVE_UARENA_ARENA 0
#endif

#define PAGE 4096
#define MMAPABLE UA_KBPF_F_MMAPABLE

/* ---- backends ---- */

struct arena_params {
	uint32_t max_entries;
	uint32_t key_size, value_size;
	uint32_t map_flags;
	uint64_t map_extra;
	uint32_t numa_node;
};

struct backend {
	const char *name;
	int (*create_errno)(const struct arena_params *p); /* create, destroy: 0 or -errno */
	void *(*open)(const struct arena_params *p);        /* ends the test on failure */
	void (*close)(void *h);
	uint8_t *(*user_base)(void *h);
	uint64_t (*alloc)(void *h, uint64_t addr, uint32_t cnt, int32_t node, uint64_t flags);
	void (*free)(void *h, uint64_t addr, uint32_t cnt);
	int64_t (*reserve)(void *h, uint64_t addr, uint32_t cnt);
	uint64_t (*prog_read)(void *h, uint64_t addr);
	void (*prog_write)(void *h, uint64_t addr, uint64_t value);
	/*
	 * Known divergence, excluded from the SEGV_ON_FAULT test and reported:
	 * uarena's checked fault path (no userfaultfd) cannot stop a host touch
	 * of an unallocated page, so it allocates where the kernel sends SIGSEGV.
	 */
	bool no_host_segv;
};

static int kernel_create_errno(const struct arena_params *p)
{
	struct ua_kbpf_map_attr a = {
		.map_type = UA_KBPF_MAP_TYPE_ARENA, .key_size = p->key_size,
		.value_size = p->value_size, .max_entries = p->max_entries,
		.map_flags = p->map_flags, .map_extra = p->map_extra, .numa_node = p->numa_node,
	};
	int fd = ua_kbpf_map_create(&a, NULL, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void *kernel_open(const struct arena_params *p)
{
	struct ua_karena_attr a = { .max_entries = p->max_entries, .map_flags = p->map_flags,
				    .map_extra = p->map_extra };
	struct ua_karena *ka = NULL;
	char err[1024];
	int ret = ua_karena_create(&a, &ka, err, sizeof(err));

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "kernel arena: %s", err);
	REQUIRE_EQ(ret, 0);
	return ka;
}

static void kernel_close(void *h)
{
	ua_karena_destroy(h);
}

static uint8_t *kernel_user_base(void *h)
{
	return ua_karena_user_base(h);
}

static uint64_t kernel_alloc(void *h, uint64_t addr, uint32_t cnt, int32_t node, uint64_t flags)
{
	uint64_t p = 0;

	REQUIRE_EQ(ua_karena_alloc(h, addr, cnt, node, flags, &p), 0);
	return p;
}

static void kernel_free(void *h, uint64_t addr, uint32_t cnt)
{
	REQUIRE_EQ(ua_karena_free(h, addr, cnt), 0);
}

static int64_t kernel_reserve(void *h, uint64_t addr, uint32_t cnt)
{
	int64_t r = 0;

	REQUIRE_EQ(ua_karena_reserve(h, addr, cnt, &r), 0);
	return r;
}

static uint64_t kernel_prog_read(void *h, uint64_t addr)
{
	uint64_t v = 0;

	REQUIRE_EQ(ua_karena_bpf_read(h, addr, &v), 0);
	return v;
}

static void kernel_prog_write(void *h, uint64_t addr, uint64_t value)
{
	REQUIRE_EQ(ua_karena_bpf_write(h, addr, value), 0);
}

static const struct backend kernel_backend = {
	"kernel", kernel_create_errno, kernel_open, kernel_close, kernel_user_base,
	kernel_alloc, kernel_free, kernel_reserve, kernel_prog_read, kernel_prog_write,
};

#if HAVE_UARENA_ARENA
static int uarena_create_errno(const struct arena_params *p)
{
	UA_OPTS(ua_arena_opts, o, .max_entries = p->max_entries, .key_size = p->key_size,
		.value_size = p->value_size, .map_flags = p->map_flags, .map_extra = p->map_extra,
		.numa_node = (int)p->numa_node);
	struct ua_arena *a = NULL;
	int ret = ua_arena_create(&o, &a);

	if (ret == 0)
		ua_arena_destroy(a);
	return ret;
}

static void *uarena_open_path(const struct arena_params *p, bool no_uffd)
{
	char err[256] = "";
	UA_OPTS(ua_arena_opts, o, .max_entries = p->max_entries, .map_flags = p->map_flags,
		.map_extra = p->map_extra, .no_uffd = no_uffd, .err_buf = err,
		.err_buf_sz = sizeof(err));
	struct ua_arena *a = NULL;
	int ret = ua_arena_create(&o, &a);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "uarena arena: %s", err);
	REQUIRE_EQ(ret, 0);
	REQUIRE_EQ(ua_probe_init(), 0);
	if (no_uffd)
		REQUIRE_EQ(ua_arena_fault_path(a), UA_ARENA_FAULT_CHECKED);
	return a;
}

/* Whichever fault path this host gives (userfaultfd where it works). */
static void *uarena_open(const struct arena_params *p)
{
	return uarena_open_path(p, false);
}

/* The fallback path without userfaultfd must behave identically. */
static void *uarena_checked_open(const struct arena_params *p)
{
	return uarena_open_path(p, true);
}

static void uarena_close(void *h)
{
	ua_arena_destroy(h);
}

static uint8_t *uarena_user_base(void *h)
{
	return ua_arena_user_base(h);
}

static uint64_t uarena_alloc(void *h, uint64_t addr, uint32_t cnt, int32_t node, uint64_t flags)
{
	return (uint64_t)(uintptr_t)ua_arena_alloc_pages(h, (void *)(uintptr_t)addr, cnt, node,
							 flags);
}

static void uarena_free(void *h, uint64_t addr, uint32_t cnt)
{
	ua_arena_free_pages(h, (void *)(uintptr_t)addr, cnt);
}

static int64_t uarena_reserve(void *h, uint64_t addr, uint32_t cnt)
{
	return ua_arena_reserve_pages(h, (void *)(uintptr_t)addr, cnt);
}

/* What a BPF load/store through a cast_kern'ed arena pointer does in uarena. */
static uint64_t uarena_prog_read(void *h, uint64_t addr)
{
	return ua_probe_load(ua_arena_prog_addr(ua_arena_prog_base(h), addr, 0), 8);
}

static void uarena_prog_write(void *h, uint64_t addr, uint64_t value)
{
	ua_probe_store(ua_arena_prog_addr(ua_arena_prog_base(h), addr, 0), value, 8);
}

static const struct backend uarena_backend = {
	"uarena", uarena_create_errno, uarena_open, uarena_close, uarena_user_base,
	uarena_alloc, uarena_free, uarena_reserve, uarena_prog_read, uarena_prog_write,
};

static const struct backend uarena_checked_backend = {
	"uarena-checked", uarena_create_errno, uarena_checked_open, uarena_close,
	uarena_user_base, uarena_alloc, uarena_free, uarena_reserve, uarena_prog_read,
	uarena_prog_write, .no_host_segv = true,
};
#endif

static const struct backend *const backends[] = {
	&kernel_backend,
#if HAVE_UARENA_ARENA
	&uarena_backend,
	&uarena_checked_backend,
#endif
};

/* ---- creation parameters: the same errno from both ---- */

struct create_case {
	const char *what;
	struct arena_params p;
	int want;
};

/*
 * uarena maps the user view at create time (as libbpf does right after
 * create), so a requested map_extra must be free in this process: 1<<45 is
 * above ASan's shadow (which covers 1<<44).
 */
static const struct create_case create_cases[] = {
	{ "1 page", { 1, 0, 0, MMAPABLE, 0, 0 }, 0 },
	{ "key_size 4", { 1, 4, 0, MMAPABLE, 0, 0 }, -EINVAL },
	{ "value_size 8", { 1, 0, 8, MMAPABLE, 0, 0 }, -EINVAL },
	{ "max_entries 0", { 0, 0, 0, MMAPABLE, 0, 0 }, -EINVAL },
	{ "no MMAPABLE", { 1, 0, 0, 0, 0, 0 }, -EINVAL },
	{ "SEGV_ON_FAULT", { 1, 0, 0, MMAPABLE | UA_KBPF_F_SEGV_ON_FAULT, 0, 0 }, 0 },
	{ "NO_USER_CONV", { 1, 0, 0, MMAPABLE | UA_KBPF_F_NO_USER_CONV, 0, 0 }, 0 },
	{ "NUMA_NODE flag, node 0", { 1, 0, 0, MMAPABLE | UA_KBPF_F_NUMA_NODE, 0, 0 }, -EINVAL },
	{ "numa_node 5 without flag", { 1, 0, 0, MMAPABLE, 0, 5 }, 0 },
	{ "RDONLY_PROG", { 1, 0, 0, MMAPABLE | UA_KBPF_F_RDONLY_PROG, 0, 0 }, -EINVAL },
	{ "NO_PREALLOC", { 1, 0, 0, MMAPABLE | UA_KBPF_F_NO_PREALLOC, 0, 0 }, -EINVAL },
	{ "max_entries 1<<20", { 1u << 20, 0, 0, MMAPABLE, 0, 0 }, 0 },
	{ "max_entries (1<<20)+1", { (1u << 20) + 1, 0, 0, MMAPABLE, 0, 0 }, -E2BIG },
	{ "max_entries 0xffffffff", { 0xffffffffu, 0, 0, MMAPABLE, 0, 0 }, -E2BIG },
	{ "map_extra unaligned", { 1, 0, 0, MMAPABLE, (1ull << 40) + 1, 0 }, -EINVAL },
	{ "map_extra ends at 4 GiB boundary",
	  { 2, 0, 0, MMAPABLE, (1ull << 45) - 2 * PAGE, 0 }, 0 },
	{ "map_extra crosses 4 GiB", { 2, 0, 0, MMAPABLE, (1ull << 45) - PAGE, 0 }, -ERANGE },
	{ "order: unaligned before E2BIG",
	  { (1u << 20) + 1, 0, 0, MMAPABLE, (1ull << 40) + 1, 0 }, -EINVAL },
	{ "order: E2BIG before ERANGE",
	  { (1u << 20) + 1, 0, 0, MMAPABLE, (1ull << 45) - PAGE, 0 }, -E2BIG },
	{ "order: NUMA flag before ERANGE",
	  { 2, 0, 0, MMAPABLE | UA_KBPF_F_NUMA_NODE, (1ull << 45) - PAGE, 0 }, -EINVAL },
	{ "order: key_size before E2BIG", { (1u << 20) + 1, 4, 0, MMAPABLE, 0, 0 }, -EINVAL },
};

TEST(kernel_arena, create_params_same_errno)
{
	ua_test_require_kbpf();
	for (size_t i = 0; i < sizeof(create_cases) / sizeof(create_cases[0]); i++) {
		const struct create_case *c = &create_cases[i];

		for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
			int got = backends[b]->create_errno(&c->p);

			if (got != c->want)
				ua_test_fail(__FILE__, __LINE__, "%s: create '%s': expected %d got %d",
					     backends[b]->name, c->what, c->want, got);
		}
	}
}

/* ---- step tables ---- */

enum step_kind {
	ALLOC,      /* want: page index of the result, NUL for NULL */
	FREE,
	RESERVE,    /* want: the kfunc's return value */
	USER_WRITE, /* host store of `value` at the address through the user view */
	USER_READ,  /* want: the 8 bytes the host reads */
	PROG_WRITE, /* BPF-side store (PROBE_MEM32) */
	PROG_READ,  /* want: what the BPF-side load returns */
};

#define NUL (-1)
#define ANON INT64_MIN  /* addr argument NULL */
#define HI32 (1ull << 62) /* flag in addr: different upper 32 bits, same lo32 */
/* The byte offset without the HI32 flag (negative offsets carry no flag). */
#define STEP_OFF(o) ((o) >= 0 ? (o) & ~(int64_t)HI32 : (o))
#define STEP_HI32(o) ((o) >= 0 && ((o) & (int64_t)HI32))

struct step {
	enum step_kind kind;
	int64_t byte_off;   /* from user_vm_start; ANON = NULL; may carry HI32 */
	uint32_t cnt;
	int64_t want;       /* see enum step_kind */
	int32_t node;
	uint64_t flags;     /* alloc flags; USER_WRITE/PROG_WRITE: the value */
};

#define PG(n) ((int64_t)(n) * PAGE)

static uint64_t step_addr(const struct step *s, const uint8_t *base)
{
	uint64_t a;

	if (s->byte_off == ANON)
		return 0;
	a = (uint64_t)(uintptr_t)base + (uint64_t)STEP_OFF(s->byte_off);
	if (STEP_HI32(s->byte_off))
		a ^= 1ull << 40; /* another 4 GiB window: only lo32 may matter */
	return a;
}

static int64_t run_step(const struct backend *be, void *h, const struct step *s)
{
	uint8_t *base = be->user_base(h);
	uint64_t addr = step_addr(s, base), p;

	switch (s->kind) {
	case ALLOC:
		p = be->alloc(h, addr, s->cnt, s->node, s->flags);
		if (!p)
			return NUL;
		/* Result is user form: hi32(user_vm_start) | lo32. */
		if ((p >> 32) != ((uint64_t)(uintptr_t)base >> 32) || (p & (PAGE - 1)))
			return -1000;
		return (int64_t)(p - (uint64_t)(uintptr_t)base) / PAGE;
	case FREE:
		be->free(h, addr, s->cnt);
		return 0;
	case RESERVE:
		return be->reserve(h, addr, s->cnt);
	case USER_WRITE:
		*(volatile uint64_t *)(uintptr_t)addr = s->flags;
		return 0;
	case USER_READ:
		return (int64_t)*(volatile uint64_t *)(uintptr_t)addr;
	case PROG_WRITE:
		be->prog_write(h, addr, s->flags);
		return 0;
	case PROG_READ:
		return (int64_t)be->prog_read(h, addr);
	}
	return -2000;
}

static void run_table_once(const char *scenario, const struct arena_params *p,
			   const struct step *steps, size_t n)
{
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		const struct backend *be = backends[b];
		void *h = be->open(p);

		for (size_t i = 0; i < n; i++) {
			int64_t got = run_step(be, h, &steps[i]);
			char where[48];

			if (got == steps[i].want)
				continue;
			if (steps[i].byte_off == ANON)
				snprintf(where, sizeof(where), "addr NULL");
			else
				snprintf(where, sizeof(where), "byte offset %lld",
					 (long long)STEP_OFF(steps[i].byte_off));
			ua_test_fail(__FILE__, __LINE__,
				     "%s/%s (map_extra 0x%llx) step %zu (kind %d, %s, cnt %u): expected %lld got %lld",
				     be->name, scenario, (unsigned long long)p->map_extra, i,
				     (int)steps[i].kind, where, steps[i].cnt,
				     (long long)steps[i].want, (long long)got);
		}
		be->close(h);
	}
}

/* A 4 GiB-aligned address above ASan's shadow that both processes leave free. */
#define HIGH_4G (1ull << 45)

/*
 * Every table runs twice: with map_extra 0 (the address the backend picks)
 * and with the arena's low-32 range ending exactly at 4 GiB (the
 * verifier_arena selftest layout), where lo32(user_vm_start) != 0 and only
 * the low 32 bits of pointers are used for page offsets.
 */
static void run_table(const char *scenario, const struct arena_params *p, const struct step *steps,
		      size_t n)
{
	struct arena_params high = *p;

	ua_test_require_kbpf();
	run_table_once(scenario, p, steps, n);
	high.map_extra = HIGH_4G - (uint64_t)p->max_entries * PAGE;
	run_table_once(scenario, &high, steps, n);
}

#define RUN_TABLE(name, params, steps) \
	run_table(name, params, steps, sizeof(steps) / sizeof(steps[0]))

/* The spec's best-fit example: free runs [1..4], [10..11], [20..22]. */
TEST(kernel_arena, best_fit_placement)
{
	static const struct arena_params p = { .max_entries = 64, .map_flags = MMAPABLE };
	static const struct step steps[] = {
		{ ALLOC, ANON, 64, 0, -1, 0 },
		{ FREE, PG(1), 4, 0 }, { FREE, PG(10), 2, 0 }, { FREE, PG(20), 3, 0 },
		{ ALLOC, ANON, 2, 10, -1, 0 },
		{ ALLOC, ANON, 1, 20, -1, 0 },
		{ ALLOC, ANON, 3, 1, -1, 0 },
		{ ALLOC, ANON, 4, NUL, -1, 0 },
		{ ALLOC, ANON, 2, 21, -1, 0 },
		{ ALLOC, ANON, 1, 4, -1, 0 },
		{ ALLOC, ANON, 1, NUL, -1, 0 },
	};

	RUN_TABLE("best_fit", &p, steps);
}

TEST(kernel_arena, alloc_argument_rules)
{
	static const struct arena_params p = { .max_entries = 64, .map_flags = MMAPABLE };
	static const struct step steps[] = {
		{ ALLOC, ANON, 1, NUL, -1, 1 },          /* flags != 0 */
		{ ALLOC, ANON, 0, NUL, -1, 0 },          /* page_cnt 0 */
		{ ALLOC, ANON, 65, NUL, -1, 0 },         /* more than the arena */
		{ ALLOC, ANON, 1, NUL, 1, 0 },           /* node 1: offline */
		{ ALLOC, ANON, 1, NUL, -2, 0 },
		{ ALLOC, ANON, 1, 0, 0, 0 },             /* node 0 is fine */
		{ ALLOC, ANON, 64, NUL, -1, 0 },         /* page 0 taken */
		{ ALLOC, PG(5) + 8, 1, NUL, -1, 0 },     /* unaligned */
		{ ALLOC, PG(64), 1, NUL, -1, 0 },        /* at the end */
		{ ALLOC, PG(63), 2, NUL, -1, 0 },        /* crossing the end */
		{ ALLOC, PG(63), 1, 63, -1, 0 },
		{ ALLOC, PG(6) | HI32, 1, 6, -1, 0 },    /* only lo32 counts */
		{ ALLOC, PG(5), 2, NUL, -1, 0 },         /* page 6 taken: no partial success */
		{ ALLOC, PG(5), 1, 5, -1, 0 },           /* ...and page 5 was not claimed */
		{ ALLOC, ANON, 56, 7, -1, 0 },           /* free: 1..4, 7..62 */
		{ ALLOC, ANON, 4, 1, -1, 0 },
		{ ALLOC, ANON, 1, NUL, -1, 0 },
	};

	RUN_TABLE("alloc_rules", &p, steps);
}

TEST(kernel_arena, reserve_quirks)
{
	static const struct arena_params p = { .max_entries = 64, .map_flags = MMAPABLE };
	static const struct step steps[] = {
		{ RESERVE, PG(5), 1, 0 },
		{ ALLOC, PG(5), 1, NUL, -1, 0 },         /* reserved: not at that address */
		{ ALLOC, ANON, 1, 0, -1, 0 },            /* best fit: run [0..4] */
		{ ALLOC, ANON, 5, 6, -1, 0 },            /* [1..4] too small: skips page 5 */
		{ RESERVE, PG(5), 1, -EBUSY },           /* reserved twice */
		{ RESERVE, PG(6), 1, -EBUSY },           /* allocated */
		{ RESERVE, PG(4), 2, -EBUSY },           /* partly reserved */
		{ RESERVE, PG(20) + 100, 1, 0 },         /* unaligned: 0, reserves nothing */
		{ ALLOC, PG(20), 1, 20, -1, 0 },
		{ RESERVE, PG(63), 2, -EINVAL },         /* past the end */
		{ RESERVE, PG(64), 1, -EINVAL },
		{ RESERVE, PG(30), 0, 0 },               /* page_cnt 0 */
		{ ALLOC, PG(30), 1, 30, -1, 0 },
		{ FREE, PG(5), 1, 0 },                   /* free un-reserves */
		{ ALLOC, PG(5), 1, 5, -1, 0 },
		{ RESERVE, PG(40), 3, 0 },
		{ FREE, PG(41), 1, 0 },                  /* free the middle of a reservation */
		{ ALLOC, PG(40), 2, NUL, -1, 0 },
		{ ALLOC, PG(41), 1, 41, -1, 0 },
		{ ALLOC, PG(42), 1, NUL, -1, 0 },
	};

	RUN_TABLE("reserve_quirks", &p, steps);
}

TEST(kernel_arena, free_rounding_and_clipping)
{
	static const struct arena_params p = { .max_entries = 64, .map_flags = MMAPABLE };
	static const struct step steps[] = {
		{ ALLOC, ANON, 64, 0, -1, 0 },
		{ FREE, PG(62), 10, 0 },                 /* clipped to 62..63 */
		{ ALLOC, ANON, 2, 62, -1, 0 },
		{ FREE, PG(40) + 123, 1, 0 },            /* rounded down to page 40 */
		{ ALLOC, ANON, 1, 40, -1, 0 },
		{ FREE, ANON, 1, 0 },                    /* NULL: no-op */
		{ ALLOC, ANON, 1, NUL, -1, 0 },
		{ FREE, PG(10), 0, 0 },                  /* page_cnt 0: no-op */
		{ ALLOC, ANON, 1, NUL, -1, 0 },
		{ FREE, PG(63) + PAGE - 1, 1, 0 },       /* rounds down to 63 */
		{ ALLOC, ANON, 1, 63, -1, 0 },
		{ FREE, PG(10), 1, 0 },
		{ FREE, PG(10), 1, 0 },                  /* double free: harmless */
		{ ALLOC, ANON, 1, 10, -1, 0 },
		{ FREE, PG(20) | HI32, 1, 0 },           /* other hi32: frees the same page */
		{ ALLOC, ANON, 1, 20, -1, 0 },
		{ FREE, PG(30), 4, 0 },
		{ ALLOC, ANON, 4, 30, -1, 0 },
	};

	RUN_TABLE("free_clipping", &p, steps);
}

/*
 * A kernel quirk found by this suite (Linux 6.18.44): when the arena's low-32
 * range ends exactly at 4 GiB, a pointer one past the end has lo32 == 0, and
 * bpf_arena_free_pages() computes its page offset as (u32)(0 - lo32(start))
 * >> PAGE_SHIFT = max_entries: not clipped (the full address it compares is
 * below user_vm_start), so that out-of-range pgoff is put into the range
 * tree and the next alloc(NULL, 1) returns it: a page beyond the arena, at
 * user address hi32(start) | 0. uarena does not copy this (it never hands
 * out a page outside the arena); the test pins both behaviours so a kernel
 * fix or a uarena change is noticed.
 */
TEST(kernel_arena, free_one_past_end_at_4g_quirk)
{
	const uint32_t pages = 64;
	struct arena_params p = { .max_entries = pages, .map_flags = MMAPABLE,
				  .map_extra = HIGH_4G - (uint64_t)pages * PAGE };

	ua_test_require_kbpf();
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		const struct backend *be = backends[b];
		void *h = be->open(&p);
		uint64_t base = (uint64_t)(uintptr_t)be->user_base(h), got;

		REQUIRE_EQ(be->alloc(h, 0, pages, -1, 0), base);
		be->free(h, base + (uint64_t)pages * PAGE, 1);
		got = be->alloc(h, 0, 1, -1, 0);
		if (be == &kernel_backend)
			CHECK_EQ(got, p.map_extra & ~0xffffffffull);
		else
			CHECK_EQ(got, 0);
		be->close(h);
	}
}

/*
 * NULL is not special to reserve (only lo32 counts) but is to free (a full
 * value of 0 is a no-op): with lo32(user_vm_start) == 0, NULL is page 0.
 */
TEST(kernel_arena, null_pointer_quirks_lo32_zero)
{
	static const struct step steps[] = {
		{ RESERVE, ANON, 1, 0 },                 /* NULL = pgoff 0: reserved */
		{ ALLOC, PG(0), 1, NUL, -1, 0 },
		{ FREE, ANON, 1, 0 },                    /* free(NULL): no-op */
		{ ALLOC, PG(0), 1, NUL, -1, 0 },
		{ FREE, PG(0), 1, 0 },                   /* lo32 0, hi32 set: frees */
		{ ALLOC, PG(0), 1, 0, -1, 0 },
		{ RESERVE, ANON, 1, -EBUSY },            /* now allocated */
	};
	const struct arena_params p = { .max_entries = 8, .map_flags = MMAPABLE,
					.map_extra = HIGH_4G };

	ua_test_require_kbpf();
	run_table_once("null_lo32_zero", &p, steps, sizeof(steps) / sizeof(steps[0]));
}

/* With lo32(user_vm_start) near 4 GiB, NULL's pgoff is huge: -EINVAL (verifier_arena). */
TEST(kernel_arena, null_pointer_quirks_range_ending_at_4g)
{
	static const struct step steps[] = {
		{ RESERVE, ANON, 3, -EINVAL },
		{ RESERVE, ANON, 1, -EINVAL },
		{ FREE, ANON, 8, 0 },
		{ ALLOC, ANON, 8, 0, -1, 0 },
	};
	const struct arena_params p = { .max_entries = 8, .map_flags = MMAPABLE,
					.map_extra = HIGH_4G - 8 * PAGE };

	ua_test_require_kbpf();
	run_table_once("null_end_4g", &p, steps, sizeof(steps) / sizeof(steps[0]));
}

/*
 * Host touches vs allocator, and program-view faults: a host access to an
 * unallocated page allocates it (no longer allocatable), a BPF access does
 * not (load 0, store dropped); free drops the contents everywhere.
 */
TEST(kernel_arena, user_and_program_faults)
{
	static const struct arena_params p = { .max_entries = 16, .map_flags = MMAPABLE };
	static const struct step steps[] = {
		{ USER_WRITE, PG(3), 0, 0, 0, 0xabc },
		{ ALLOC, PG(3), 1, NUL, -1, 0 },         /* host-faulted: taken */
		{ PROG_READ, PG(3), 0, 0xabc },          /* shared page */
		{ ALLOC, ANON, 4, 4, -1, 0 },            /* runs [0..2], [4..15] */
		{ ALLOC, ANON, 3, 0, -1, 0 },
		{ USER_READ, PG(12), 0, 0 },             /* a read allocates too */
		{ ALLOC, PG(12), 1, NUL, -1, 0 },
		{ PROG_READ, PG(14) + 8, 0, 0 },         /* unallocated: 0 */
		{ PROG_WRITE, PG(14), 0, 0, 0, 5 },      /* dropped */
		{ PROG_READ, PG(14), 0, 0 },
		{ ALLOC, PG(14), 1, 14, -1, 0 },         /* BPF faults did not allocate */
		{ PROG_WRITE, PG(14) + 16, 0, 0, 0, 77 },
		{ USER_READ, PG(14) + 16, 0, 77 },
		{ USER_WRITE, PG(14) + 24, 0, 0, 0, 0x5555 },
		{ PROG_READ, PG(14) + 24, 0, 0x5555 },
		{ FREE, PG(14), 1, 0 },
		{ PROG_READ, PG(14) + 16, 0, 0 },        /* use after free reads 0 */
		{ USER_READ, PG(14) + 16, 0, 0 },        /* host: a fresh zero page... */
		{ ALLOC, PG(14), 1, NUL, -1, 0 },        /* ...which is taken again */
		{ PROG_READ, PG(15) - 8, 0, 0 },         /* last word of page 14, now zero */
		{ RESERVE, PG(7), 1, -EBUSY },           /* allocated by alloc(4) */
		{ RESERVE, PG(3), 1, -EBUSY },           /* host-faulted */
		{ RESERVE, PG(13), 1, 0 },               /* never touched */
		{ RESERVE, PG(15), 1, 0 },
		{ USER_WRITE, PG(15), 0, 0, 0, 0x77 },   /* reserved: host access allocates */
		{ PROG_READ, PG(15), 0, 0x77 },
		{ ALLOC, PG(15), 1, NUL, -1, 0 },
		{ FREE, PG(15), 1, 0 },
		{ ALLOC, PG(15), 1, 15, -1, 0 },
		{ PROG_READ, PG(15), 0, 0 },             /* fresh pages are zeroed */
		/* Outside the arena's pages but inside the 4 GiB window: fault path. */
		{ PROG_WRITE, PG(20), 0, 0, 0, 9 },
		{ PROG_READ, PG(20), 0, 0 },
		{ PROG_WRITE, -8, 0, 0, 0, 9 },
		{ PROG_READ, -8, 0, 0 },
		{ PROG_READ, PG(15) + PAGE - 8, 0, 0 },  /* last word of the arena */
		{ PROG_WRITE, PG(15) + PAGE - 8, 0, 0, 0, 0x1234 },
		{ USER_READ, PG(15) + PAGE - 8, 0, 0x1234 },
		{ PROG_READ, PG(15) | HI32, 0, 0 },      /* program view: only lo32 matters */
		{ PROG_READ, (PG(15) + PAGE - 8) | HI32, 0, 0x1234 },
	};

	RUN_TABLE("faults", &p, steps);
}

/*
 * SEGV_ON_FAULT: a host touch of an allocated page works, of an unallocated
 * page kills the process with SIGSEGV. In a forked child with the default
 * SIGSEGV action (ASan would otherwise turn the signal into a report).
 */
static void segv_child(const struct backend *be, int touch_allocated_only)
{
	struct arena_params p = { .max_entries = 4,
				  .map_flags = MMAPABLE | UA_KBPF_F_SEGV_ON_FAULT };
	void *h = be->open(&p);
	uint8_t *base = be->user_base(h);
	uint64_t got = be->alloc(h, (uint64_t)(uintptr_t)(base + PAGE), 1, -1, 0);

	if (got != (uint64_t)(uintptr_t)(base + PAGE))
		_exit(3);
	*(volatile uint64_t *)(base + PAGE) = 42;
	if (be->prog_read(h, (uint64_t)(uintptr_t)(base + PAGE)) != 42)
		_exit(4);
	if (touch_allocated_only)
		_exit(0);
	signal(SIGSEGV, SIG_DFL);
	*(volatile uint64_t *)(base + 2 * PAGE) = 1;
	_exit(5);
}

TEST(kernel_arena, segv_on_fault_kills_host_touch)
{
	ua_test_require_kbpf();
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		for (int allocated_only = 1; allocated_only >= backends[b]->no_host_segv;
		     allocated_only--) {
			int status;
			pid_t pid = fork();

			REQUIRE(pid >= 0);
			if (pid == 0)
				segv_child(backends[b], allocated_only);
			REQUIRE(waitpid(pid, &status, 0) == pid);
			if (allocated_only) {
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					ua_test_fail(__FILE__, __LINE__,
						     "%s: touching an allocated page: status 0x%x",
						     backends[b]->name, status);
			} else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
				ua_test_fail(__FILE__, __LINE__,
					     "%s: touching an unallocated page: expected SIGSEGV, status 0x%x",
					     backends[b]->name, status);
			}
		}
	}
}

/* The kernel backend's loop op: every iteration ran, failures are counted. */
TEST(kernel_arena, alloc_free_loop_counts)
{
	struct ua_karena_attr a = { .max_entries = 4 };
	struct ua_karena *ka = NULL;
	uint32_t failed = 99;
	uint64_t p = 0;
	char err[1024];

	ua_test_require_kbpf();
	REQUIRE_EQ(ua_karena_create(&a, &ka, err, sizeof(err)), 0);
	CHECK_EQ(ua_karena_alloc_free_loop(ka, 1000, &failed), 0);
	CHECK_EQ(failed, 0);
	/* The loop freed what it took: the whole arena is still free. */
	CHECK_EQ(ua_karena_alloc(ka, 0, 4, -1, 0, &p), 0);
	CHECK_EQ(p, (uint64_t)(uintptr_t)ua_karena_user_base(ka));
	CHECK_EQ(ua_karena_alloc_free_loop(ka, 10, &failed), 0);
	CHECK_EQ(failed, 10);
	CHECK_EQ(ua_karena_alloc_free_loop(ka, UA_KARENA_LOOP_MAX + 1, &failed), -E2BIG);
	ua_karena_destroy(ka);
}

/* Creating a kernel arena program needs the mapping first, as the verifier says. */
TEST(kernel_arena, karena_create_reports_errors)
{
	struct ua_karena_attr a = { .max_entries = 0 };
	struct ua_karena *ka = (struct ua_karena *)1;
	char err[1024] = "";

	ua_test_require_kbpf();
	CHECK_EQ(ua_karena_create(&a, &ka, err, sizeof(err)), -EINVAL);
	CHECK(ka == NULL);
	CHECK_CONTAINS(err, "kernel: map create 'ua_karena' (type 33)");
	a.max_entries = 2;
	a.map_extra = (1ull << 45) - PAGE;
	CHECK_EQ(ua_karena_create(&a, &ka, err, sizeof(err)), -ERANGE);
}

/* The kernel-side "which pages are taken" scan, and that it leaves the allocator as it was. */
TEST(kernel_arena, next_busy_scan_is_side_effect_free)
{
	struct ua_karena_attr a = { .max_entries = 64 };
	struct ua_karena *ka = NULL;
	uint64_t base, p = 0, pg = 99;
	int64_t r = 0;
	char err[1024];

	ua_test_require_kbpf();
	REQUIRE_EQ(ua_karena_create(&a, &ka, err, sizeof(err)), 0);
	base = (uint64_t)(uintptr_t)ua_karena_user_base(ka);
	REQUIRE_EQ(ua_karena_alloc(ka, base + 5 * PAGE, 1, -1, 0, &p), 0);
	CHECK_EQ(p, base + 5 * PAGE);
	*(volatile uint64_t *)(uintptr_t)(base + 20 * PAGE) = 1;  /* host-faulted */
	REQUIRE_EQ(ua_karena_reserve(ka, base + 40 * PAGE, 1, &r), 0);
	CHECK_EQ(r, 0);

	CHECK_EQ(ua_karena_next_busy(ka, 0, 64, &pg), 0);
	CHECK_EQ(pg, 5);
	CHECK_EQ(ua_karena_next_busy(ka, 6, 64, &pg), 0);
	CHECK_EQ(pg, 20);
	CHECK_EQ(ua_karena_next_busy(ka, 21, 64, &pg), 0);
	CHECK_EQ(pg, 40);
	CHECK_EQ(ua_karena_next_busy(ka, 41, 64, &pg), -ENOENT);
	CHECK_EQ(ua_karena_next_busy(ka, 0, 5, &pg), -ENOENT);

	/* Free pages are still free, the reservation is still there. */
	REQUIRE_EQ(ua_karena_alloc(ka, 0, 1, -1, 0, &p), 0);
	CHECK_EQ(p, base);
	REQUIRE_EQ(ua_karena_reserve(ka, base + 40 * PAGE, 1, &r), 0);
	CHECK_EQ(r, -EBUSY);
	REQUIRE_EQ(ua_karena_alloc(ka, base + 41 * PAGE, 23, -1, 0, &p), 0);
	CHECK_EQ(p, base + 41 * PAGE);
	ua_karena_destroy(ka);
}

/* The load loop sees what the host wrote, and zeros in unallocated pages. */
TEST(kernel_arena, bpf_sum_reads_pages_and_holes)
{
	struct ua_karena_attr a = { .max_entries = 8 };
	struct ua_karena *ka = NULL;
	uint64_t base, p = 0, sum = 1;
	char err[1024];

	ua_test_require_kbpf();
	REQUIRE_EQ(ua_karena_create(&a, &ka, err, sizeof(err)), 0);
	base = (uint64_t)(uintptr_t)ua_karena_user_base(ka);
	REQUIRE_EQ(ua_karena_alloc(ka, 0, 2, -1, 0, &p), 0);
	REQUIRE_EQ(p, base);
	for (unsigned i = 0; i < 1024; i++)
		((volatile uint64_t *)(uintptr_t)base)[i] = i;
	CHECK_EQ(ua_karena_bpf_sum(ka, base, 1024, &sum), 0);
	CHECK_EQ(sum, 1023 * 1024 / 2);
	/* Pages 2..7 were never allocated: every load reads 0, none allocates. */
	CHECK_EQ(ua_karena_bpf_sum(ka, base + 2 * PAGE, 6 * 512, &sum), 0);
	CHECK_EQ(sum, 0);
	REQUIRE_EQ(ua_karena_alloc(ka, 0, 6, -1, 0, &p), 0);
	CHECK_EQ(p, base + 2 * PAGE);
	ua_karena_destroy(ka);
}
