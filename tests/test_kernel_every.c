/* SPDX-License-Identifier: MIT */
/*
 * The `uarena diff` issue's acceptance tests: every program of every built
 * object, run in uarena (interpreter and JIT, each on a fresh object) and in
 * the kernel through ua_kernel_diff() with the default input for its type,
 * must agree, except the programs listed in
 * `exclusions` with the reason; a deliberately broken arena (fault injection
 * in the probe path) must be reported; per-CPU maps and ring buffers are
 * compared; `uarena diff --json` and its exit status.
 *
 * Programs are found the way libbpf finds them (ua_kernel_list_programs:
 * global FUNC symbols in executable sections other than .text), in every
 * *.bpf.o of UA_BPF_DIR, so
 * a new object or program is covered without editing this file; one that
 * does not agree fails here until it agrees or gets an exclusion entry.
 */
#include "test.h"
#include "util.h"

#include "btf.h"
#include "kernel.h"
#include "loader.h"
#include "map.h"
#include "probe.h"

#include <uarena.h>
#include <uarena/object.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* ua_kernel_diff() with the default input; the report and error kept. */
struct outcome {
	int n;              /* differences, or -errno */
	char *report;
	char err[8192];
};

static void diff_engines(const char *path, const char *prog, uint32_t cpu, uint32_t engines,
			 struct outcome *o)
{
	size_t len = 0;
	FILE *f = open_memstream(&o->report, &len);

	REQUIRE(f != NULL);
	o->err[0] = '\0';
	UA_OPTS(ua_kernel_diff_opts, opts, .prog = prog, .cpu = cpu, .report = f,
		.err_buf = o->err, .err_buf_sz = sizeof(o->err), .engines = engines);
	o->n = ua_kernel_diff(path, &opts);
	fclose(f);
}

/* Both engines (the default): the interpreter's lines, then the JIT's. */
static void diff_prog(const char *path, const char *prog, uint32_t cpu, struct outcome *o)
{
	diff_engines(path, prog, cpu, 0, o);
}

/* ---- fault injection: a broken uarena must be caught ---- */

/*
 * arena_large/access_reserved reads a byte of a reserved page and returns 3
 * unless it reads 0, as the kernel's fixup makes it. With the injection on,
 * uarena's faulting loads return 0xdeadbeef (0xef for the byte): the diff
 * must name exactly that difference, on each engine (the interpreter's probe
 * and the JIT's fault resolver inject separately); with it off, agreement.
 */
TEST(kernel_every, injected_arena_fault_is_reported)
{
	char path[512];
	struct outcome o = { 0 };

	ua_test_require_kbpf();
	snprintf(path, sizeof(path), "%s", ua_test_bpf_obj_built("arena_large"));

	ua_probe_inject_faulting_load(true, 0xdeadbeef);
	diff_prog(path, "access_reserved", 0, &o);
	ua_probe_inject_faulting_load(false, 0);
	CHECK_EQ(o.n, 2);
	CHECK_STR(o.report, "interp: prog 'access_reserved': retval uarena 3 (3), kernel 0 (0)\n"
			    "jit: prog 'access_reserved': retval uarena 3 (3), kernel 0 (0)\n");
	if (o.n < 0)
		printf("error: %s\n", o.err);
	free(o.report);

	/* The JIT alone: its own code faulted (userfaultfd path, no interpreter fallback). */
	ua_probe_inject_faulting_load(true, 0xdeadbeef);
	diff_engines(path, "access_reserved", 0, UA_KERNEL_DIFF_JIT, &o);
	ua_probe_inject_faulting_load(false, 0);
	CHECK_EQ(o.n, 1);
	CHECK_STR(o.report, "jit: prog 'access_reserved': retval uarena 3 (3), kernel 0 (0)\n");
	free(o.report);

	diff_prog(path, "access_reserved", 0, &o);
	CHECK_EQ(o.n, 0);
	CHECK_STR(o.report, "");
	free(o.report);
}

/*
 * The same breakage where it lands in memory: kdiff_fault_copy copies a word
 * of a never-allocated page into an allocated one and into .bss. Injected,
 * both are reported, byte for byte; not injected, all agree.
 */
TEST(kernel_every, injected_arena_fault_is_reported_in_maps_and_pages)
{
	const char *path = ua_test_bpf_obj_built("kdiff_fault_copy");
	struct outcome o = { 0 };

	ua_test_require_kbpf();
	/* Both fault paths: userfaultfd (default here), then the checked one. */
	for (int checked = 0; checked < 2; checked++) {
		if (checked)
			REQUIRE_EQ(setenv("UA_ARENA_NO_UFFD", "1", 1), 0);
		ua_probe_inject_faulting_load(true, 0xdeadbeef);
		diff_prog(path, "copy_unallocated", 0, &o);
		ua_probe_inject_faulting_load(false, 0);
		/* The checked path runs JIT programs on the interpreter (docs/jit.md). */
		CHECK_EQ(o.n, 4);
		CHECK_STR(o.report, "interp: map 'kdiff_fa.bss' key 0: differs at byte 0: "
				    "uarena ef be ad de 00 00 00 00, kernel 00 00 00 00 00 00 00 00\n"
				    "interp: arena page 0: differs at byte 8: "
				    "uarena ef be ad de 00 00 00 00, kernel 00 00 00 00 00 00 00 00\n"
				    "jit: map 'kdiff_fa.bss' key 0: differs at byte 0: "
				    "uarena ef be ad de 00 00 00 00, kernel 00 00 00 00 00 00 00 00\n"
				    "jit: arena page 0: differs at byte 8: "
				    "uarena ef be ad de 00 00 00 00, kernel 00 00 00 00 00 00 00 00\n");
		if (o.n < 0)
			printf("error: %s\n", o.err);
		free(o.report);

		diff_prog(path, "copy_unallocated", 0, &o);
		CHECK_EQ(o.n, 0);
		CHECK_STR(o.report, "");
		free(o.report);
	}
}

/* ---- every program of every object ---- */

enum expect {
	DIFFERS,         /* both run; the report contains `match` */
	UARENA_REFUSES,  /* uarena does not load or run it: error contains `match` */
	KERNEL_REFUSES,  /* the kernel's verifier rejects it: its log contains `match` */
	REFUSED,         /* one side refuses it (whichever comes first): error contains `match` */
};

struct exclusion {
	const char *object, *prog;
	enum expect expect;
	const char *match;
	const char *reason;
};

/*
 * The programs that do not agree, each with why. An entry that stops
 * matching what happens (fixed, or failing differently) fails the test, so
 * the list stays the true one.
 */
static const struct exclusion exclusions[] = {
	{ "arena_loop", "arena_loop", DIFFERS, "prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)",
	  "kernel quirk: inlined bpf_loop sets -E2BIG with a 32-bit mov (0xfffffff9); "
	  "uarena returns the helper's sign-extended -7" },
	{ "embed_helpers", "use_host_functions", UARENA_REFUSES, "unknown kfunc 'host_note'",
	  "by design: calls kfuncs an embedder registers (examples/embed); the kernel has none" },
	{ "loader_arena_noarena", "use", UARENA_REFUSES,
	  "the ARENA map should be explicitly declared",
	  "by design: __arena globals without an arena map (libbpf refuses it too)" },
	{ "loader_arena_small", "use", UARENA_REFUSES, "too small to hold 8192 bytes",
	  "by design: arena smaller than its globals (libbpf refuses it too)" },
	{ "loader_autoload", "optional_bad", UARENA_REFUSES, "unknown kfunc 'bpf_uarena_no_such_kfunc'",
	  "by design: a deliberately unresolvable kfunc (libbpf refuses it too)" },
	{ "loader_bad_kfunc", "bad", UARENA_REFUSES, "unknown kfunc 'bpf_uarena_no_such_kfunc'",
	  "by design: a deliberately unresolvable kfunc (libbpf refuses it too)" },
	{ "kdiff_kernel_rejects", "deref_scalar", KERNEL_REFUSES, "R0 invalid mem access 'scalar'",
	  "deliberately: uarena is not a verifier, it faults at run time (-EFAULT)" },
	{ "loader_globals", "write_rodata", REFUSED, "write into map forbidden",
	  "a .rodata store: the kernel's verifier refuses it at load (uarena's loader too, "
	  "on the progs branch)" },
	{ "loader_kconfig_bad", "use", UARENA_REFUSES, "value not found",
	  "by design: a kconfig extern no kernel has (libbpf refuses it too)" },
	{ "loader_lru", "use", UARENA_REFUSES, "map type 9 is not supported",
	  "uarena has no LRU hash map" },
	{ "loader_rodata_write", "poke", UARENA_REFUSES, "write into map forbidden",
	  "by design: a .rodata store, refused at load as the kernel's verifier does" },
	{ "loader_two_arenas", "use", UARENA_REFUSES, "only single ARENA map is supported",
	  "by design: one arena per object, as libbpf and the verifier require" },
};

#define N_EXCLUSIONS (sizeof(exclusions) / sizeof(exclusions[0]))

static const char *expect_name(enum expect e)
{
	switch (e) {
	case DIFFERS: return "differs";
	case UARENA_REFUSES: return "uarena refuses";
	case KERNEL_REFUSES: return "kernel refuses";
	case REFUSED: return "refused";
	}
	return "?";
}

static const struct exclusion *find_exclusion(const char *object, const char *prog, bool *used)
{
	for (size_t i = 0; i < N_EXCLUSIONS; i++)
		if (!strcmp(exclusions[i].object, object) && !strcmp(exclusions[i].prog, prog)) {
			used[i] = true;
			return &exclusions[i];
		}
	return NULL;
}

/* The outcome is what the exclusion says; otherwise the failure says what happened. */
static void check_excluded(const struct exclusion *x, const struct outcome *o)
{
	bool ok = false;

	switch (x->expect) {
	case DIFFERS: {
		/* No exclusion is engine-specific: each engine must differ the same way. */
		char interp[512], jit[512];

		snprintf(interp, sizeof(interp), "interp: %s", x->match);
		snprintf(jit, sizeof(jit), "jit: %s", x->match);
		ok = o->n > 0 && strstr(o->report, interp) && strstr(o->report, jit);
		break;
	}
	case UARENA_REFUSES:
		ok = o->n < 0 && (!strncmp(o->err, "loader:", 7) || !strncmp(o->err, "uarena:", 7)) &&
		     strstr(o->err, x->match);
		break;
	case KERNEL_REFUSES:
		ok = o->n < 0 && strstr(o->err, "kernel: verifier rejected") && strstr(o->err, x->match);
		break;
	case REFUSED:
		ok = o->n < 0 && strstr(o->err, x->match);
		break;
	}
	if (!ok)
		ua_test_fail(__FILE__, __LINE__,
			     "%s/%s: excluded as '%s' (%s) but: %d, report: %s, error: %s", x->object,
			     x->prog, expect_name(x->expect), x->match, o->n, o->report, o->err);
}

/* Diffs each program of an object; returns their number. */
static int for_each_prog(const char *path, const char *object, bool *used, int *agreed,
			 int *excluded)
{
	char err[256] = "", **names = NULL;
	int n = ua_kernel_list_programs(path, &names, err, sizeof(err));

	if (n < 0) {
		ua_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct outcome o = { 0 };
		const struct exclusion *x;

		diff_prog(path, names[i], 0, &o);
		x = find_exclusion(object, names[i], used);
		if (x) {
			check_excluded(x, &o);
			(*excluded)++;
		} else if (o.n != 0) {
			ua_test_fail(__FILE__, __LINE__, "%s/%s: %s%s", object, names[i],
				     o.n < 0 ? o.err : "differs:\n", o.n < 0 ? "" : o.report);
		} else {
			(*agreed)++;
		}
		free(o.report);
	}
	free(names);
	return n;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

TEST(kernel_every, every_program_agrees_or_is_listed)
{
	bool used[N_EXCLUSIONS] = { false };
	struct dirent **ents = NULL;
	int n_ents, objects = 0, progs = 0, agreed = 0, excluded = 0;

	ua_test_require_kbpf();
	n_ents = scandir(ua_test_bpf_dir(), &ents, NULL, by_name);
	if (n_ents < 0)
		SKIP("%s: %s (make bpf)", ua_test_bpf_dir(), strerror(errno));
	for (int i = 0; i < n_ents; i++) {
		char path[768], object[256];
		size_t nl = strlen(ents[i]->d_name);

		if (nl > 6 && !strcmp(ents[i]->d_name + nl - 6, ".bpf.o") && nl - 6 < sizeof(object)) {
			snprintf(object, sizeof(object), "%.*s", (int)(nl - 6), ents[i]->d_name);
			snprintf(path, sizeof(path), "%s/%s", ua_test_bpf_dir(), ents[i]->d_name);
			objects++;
			progs += for_each_prog(path, object, used, &agreed, &excluded);
		}
		free(ents[i]);
	}
	free(ents);
	if (!objects)
		SKIP("no *.bpf.o in %s (make bpf)", ua_test_bpf_dir());
	/* An entry whose object is not built here (another branch's) is not stale. */
	for (size_t i = 0; i < N_EXCLUSIONS; i++)
		if (!used[i] && access(ua_test_bpf_obj(exclusions[i].object), R_OK) == 0)
			ua_test_fail(__FILE__, __LINE__, "exclusion %s/%s: no such program (stale entry)",
				     exclusions[i].object, exclusions[i].prog);
	CHECK_EQ(agreed + excluded, progs);
	printf("kernel_every: %d objects, %d programs: %d agree with the kernel on the interpreter "
	       "and the JIT, %d excluded:\n",
	       objects, progs, agreed, excluded);
	for (size_t i = 0; i < N_EXCLUSIONS; i++) {
		char name[128];

		if (!used[i])
			continue;
		snprintf(name, sizeof(name), "%s/%s", exclusions[i].object, exclusions[i].prog);
		printf("  %-40s %-15s %s\n", name, expect_name(exclusions[i].expect),
		       exclusions[i].reason);
	}
}

/* ---- per-CPU maps and ring buffers ---- */

static void run_on_both(struct ua_object *obj, struct ua_kdiff *d, const char *prog, uint32_t cpu,
			uint32_t want)
{
	UA_OPTS(ua_test_run_opts, uo, .flags = UA_F_TEST_RUN_ON_CPU, .cpu = cpu);
	struct ua_kbpf_test_run kr = { 0 };

	REQUIRE_EQ(ua_program_test_run(ua_object_find_program(obj, prog), &uo), 0);
	REQUIRE_EQ(ua_kdiff_kernel_test_run(d, prog, cpu, &kr), 0);
	CHECK_EQ(uo.retval, want);
	CHECK_EQ(kr.retval, want);
}

static int compare_report(struct ua_kdiff *d, char **report)
{
	size_t len = 0;
	FILE *f = open_memstream(report, &len);
	int n;

	REQUIRE(f != NULL);
	n = ua_kdiff_compare(d, f);
	fclose(f);
	return n;
}

/*
 * loader_maps/percpu_and_ringbuf on CPU id 1 adds 101 to its per-CPU slot
 * and emits one ring buffer sample on each side: equal. A uarena-only change
 * of CPU 1's slot and an extra uarena sample are then the two differences.
 */
TEST(kernel_every, percpu_and_ringbuf_compared)
{
	char path[512], err[2048] = "", *report = NULL;
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err));
	struct ua_object *obj = NULL;
	struct ua_kdiff *d = NULL;
	struct ua_map *pcpu, *rb;
	uint64_t slots[64] = { 0 }, extra = 0x1122334455667788ull;
	uint32_t key = 1;
	int n;

	ua_test_require_kbpf();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP("needs 2 CPUs");
	snprintf(path, sizeof(path), "%s", ua_test_bpf_obj_built("loader_maps"));
	REQUIRE_EQ(ua_object_open(path, &o, &obj), 0);
	if (ua_kdiff_create(obj, path, NULL, &d, err, sizeof(err)))
		ua_test_fail(__FILE__, __LINE__, "kernel twin: %s", err);
	REQUIRE(d != NULL);
	pcpu = ua_object_find_map(obj, "pcpu");
	rb = ua_object_find_map(obj, "rb");
	REQUIRE(pcpu && rb && ua_map_value_size(pcpu) == 4);

	run_on_both(obj, d, "percpu_and_ringbuf", 1, 1);
	n = compare_report(d, &report);
	CHECK_EQ(n, 0);
	CHECK_STR(report, "");
	free(report);

	run_on_both(obj, d, "percpu_and_ringbuf", 1, 1);
	REQUIRE_EQ(ua_map_lookup_elem(pcpu, &key, slots), 0);
	CHECK_EQ(slots[1], 202u); /* two runs on CPU 1, slots are 8 bytes apart */
	slots[1] = 7;
	REQUIRE_EQ(ua_map_update_elem(pcpu, &key, slots, 0), 0);
	REQUIRE_EQ(ua_ringbuf_output(rb, &extra, sizeof(extra), 0), 0);
	n = compare_report(d, &report);
	CHECK_EQ(n, 2);
	CHECK_STR(report, "map 'pcpu' key 1 cpu 1: differs at byte 0: uarena 07 00 00 00 00 00 00 00, "
			  "kernel ca 00 00 00 00 00 00 00\n"
			  "map 'rb': uarena 2 samples, kernel 1 samples\n");
	free(report);
	ua_kdiff_destroy(d);
	ua_object_close(obj);
}

/* ---- CO-RE on kernel structs in the twin ---- */

/* The loader records the bpf_map field read; the twin gets vmlinux's offset for it. */
TEST(kernel_every, core_map_field_uses_vmlinux_offset_in_twin)
{
	char path[512], err[1024] = "";
	UA_OPTS(ua_object_open_opts, o, .err_buf = err, .err_buf_sz = sizeof(err),
		.only_prog = "map_max_entries");
	struct ua_object *obj = NULL;
	struct ua_program *p;
	struct ua_kbtf *vmlinux = NULL;
	struct ua_insn *copy;
	const struct ua_btf *kb;
	const struct ua_btf_type *t;
	uint32_t want = UINT32_MAX, insn;
	int32_t id;

	ua_test_require_kbpf();
	snprintf(path, sizeof(path), "%s", ua_test_bpf_obj_built("loader_core"));
	REQUIRE_EQ(ua_object_open(path, &o, &obj), 0);
	p = ua_object_find_program(obj, "map_max_entries");
	REQUIRE(p != NULL);
	REQUIRE_EQ(p->n_core_kernel_sites, 1u);
	CHECK_STR(p->core_kernel_sites[0].path, "bpf_map.max_entries");
	CHECK_EQ(p->core_kernel_sites[0].kind, (uint32_t)UA_CORE_FIELD_BYTE_OFFSET);
	insn = p->core_kernel_sites[0].insn;
	REQUIRE(insn < p->n_insns);
	CHECK_EQ((size_t)p->insns[insn].off, offsetof(struct ua_map, max_entries));

	REQUIRE_EQ(ua_kbtf_open(NULL, &vmlinux, err, sizeof(err)), 0);
	kb = ua_kbtf_btf(vmlinux);
	id = ua_btf_find_by_name_kind(kb, "bpf_map", UA_BTF_KIND_STRUCT);
	REQUIRE(id > 0);
	t = ua_btf_type_by_id(kb, (uint32_t)id);
	for (unsigned i = 0; i < ua_btf_vlen(t); i++)
		if (!strcmp(ua_btf_str(kb, ua_btf_members(t)[i].name_off), "max_entries"))
			want = ua_btf_member_bit_offset(t, ua_btf_members(t)[i].offset) / 8;
	REQUIRE(want != UINT32_MAX);
	copy = malloc(p->n_insns * sizeof(*copy));
	REQUIRE(copy != NULL);
	memcpy(copy, p->insns, p->n_insns * sizeof(*copy));
	REQUIRE_EQ(ua_kcore_redo(p, copy, (uint32_t)p->n_insns, &vmlinux, err, sizeof(err)), 0);
	CHECK_EQ((uint32_t)copy[insn].off, want);
	for (size_t i = 0; i < p->n_insns; i++)
		if (i != insn)
			CHECK_MEM(&copy[i], &p->insns[i], sizeof(*copy));
	free(copy);
	ua_kbtf_close(vmlinux);
	ua_object_close(obj);
}

/* ---- `uarena diff`: JSON, exit status ---- */

/* `uarena diff ARGS...` (NULL-terminated); stdout and stderr kept apart. */
#define DIFF_CLI(r, ...) \
	ua_test_run_tool((r), "uarena", (const char *const[]){ "diff", __VA_ARGS__, NULL }, NULL, 0)

TEST(kernel_every, cli_json_and_exit_status)
{
	static struct ua_test_cmd r;
	char want[1024];
	const char *maps = ua_test_bpf_obj_built("loader_maps");
	const char *loop = ua_test_bpf_obj_built("arena_loop");
	const char *rejects = ua_test_bpf_obj_built("kdiff_kernel_rejects");

	ua_test_require_kbpf();
	DIFF_CLI(&r, maps, "--prog", "percpu_and_ringbuf", "--cpu", "1", "--json");
	CHECK_EQ(r.status, 0);
	snprintf(want, sizeof(want),
		 "{\"object\":\"%s\",\"prog\":\"percpu_and_ringbuf\","
		 "\"status\":\"agree\",\"differences\":[],\"error\":null,\"engine\":\"both\"}\n",
		 maps);
	CHECK_STR(r.out, want);
	CHECK_STR(r.err, "");

	/* The kernel's inlined bpf_loop quirk: a real difference, exit 1. */
	DIFF_CLI(&r, loop, "--json");
	CHECK_EQ(r.status, 1);
	snprintf(want, sizeof(want),
		 "{\"object\":\"%s\",\"prog\":null,\"status\":\"differ\",\"differences\":"
		 "[\"interp: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\","
		 "\"jit: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\"],"
		 "\"error\":null,\"engine\":\"both\"}\n", loop);
	CHECK_STR(r.out, want);
	DIFF_CLI(&r, loop);
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "interp: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\n"
			 "jit: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\n"
			 "2 differences between uarena and the kernel\n");
	/* One engine: only its line, and JSON names it. */
	DIFF_CLI(&r, loop, "--engine", "jit");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "jit: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\n"
			 "1 difference between uarena and the kernel\n");
	DIFF_CLI(&r, loop, "--engine", "interp", "--json");
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "[\"interp: prog 'arena_loop': retval uarena 0 (0), kernel 4 (4)\"],"
			      "\"error\":null,\"engine\":\"interp\"}\n");
	DIFF_CLI(&r, loop, "--engine", "vm");
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, "uarena diff: --engine needs interp, jit or both\n");

	/* A verifier rejection: exit 2, the log in "error" (stderr without --json). */
	DIFF_CLI(&r, rejects, "--json");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.out, "\"status\":\"error\",\"differences\":[],\"error\":\"kernel: "
			      "verifier rejected program 'deref_scalar' (Permission denied):\\n");
	CHECK_CONTAINS(r.out, "R0 invalid mem access 'scalar'");
	DIFF_CLI(&r, rejects);
	CHECK_EQ(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK_CONTAINS(r.err, "uarena diff: ");
	CHECK_CONTAINS(r.err, "1: (79) r0 = *(u64 *)(r0 +0)\nR0 invalid mem access 'scalar'\n");
	/* A uarena refusal: exit 2 as well, the loader's reason. */
	DIFF_CLI(&r, ua_test_bpf_obj_built("loader_globals"), "--prog", "write_rodata");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "write into map forbidden");
	DIFF_CLI(&r, "--bogus");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "usage: uarena diff");
}

/* Each test runs in its own process: this one gives up root for good. */
TEST(kernel_every, cli_unprivileged_is_an_error_with_the_reason)
{
	static struct ua_test_cmd r;
	const char *obj = ua_test_bpf_obj_built("arena_list");

	if (setgid(65534) != 0 || setuid(65534) != 0)
		SKIP("cannot drop privileges");
	DIFF_CLI(&r, obj, "--json");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.out, "\"status\":\"error\"");
	CHECK_CONTAINS(r.out, "CAP_BPF");
	DIFF_CLI(&r, obj);
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "CAP_BPF");
}

/* ---- a kernel quirk the every-program test found ---- */

/*
 * bpf_loop(8M + 1, cb, NULL, flags) >> 32: the helper returns -E2BIG
 * sign-extended (0xffffffff); the verifier's inlined bpf_loop (flags == 0)
 * sets it with a 32-bit mov (0). uarena follows the helper both times. Also
 * shows the twin's synthesized func_info is what the verifier needs.
 */
#define LOOP_PROG_LEN 10

/* return bpf_loop(8M + 1, callback, NULL, flags) >> 32; the callback returns 0. */
static void loop_prog(struct ua_insn prog[LOOP_PROG_LEN], int32_t flags)
{
	const struct ua_insn insns[LOOP_PROG_LEN] = {
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 1, .imm = 8 * 1024 * 1024 + 1 },
		{ .code = UA_LD | UA_DW | UA_IMM, .dst_reg = 2, .src_reg = UA_PSEUDO_FUNC, .imm = 6 },
		{ 0 },
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 3, .imm = 0 },
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 4, .imm = flags },
		{ .code = UA_JMP | UA_CALL, .imm = 181 }, /* bpf_loop */
		{ .code = UA_ALU64 | UA_RSH | UA_K, .dst_reg = 0, .imm = 32 },
		{ .code = UA_JMP | UA_EXIT },
		{ .code = UA_ALU64 | UA_MOV | UA_K, .dst_reg = 0, .imm = 0 }, /* callback */
		{ .code = UA_JMP | UA_EXIT },
	};

	memcpy(prog, insns, sizeof(insns));
}

static uint32_t kernel_loop_e2big_hi(int32_t flags)
{
	struct ua_insn prog[LOOP_PROG_LEN];
	char err[4096] = "";
	struct ua_kfuncinfo *fi = NULL;
	struct ua_kbpf_func_info *recs = NULL;
	uint32_t cnt = 0, btf_size = 0;
	void *btf = NULL;
	struct ua_kbpf_test_run run = { 0 };
	int btf_fd, prog_fd;

	loop_prog(prog, flags);
	REQUIRE_EQ(ua_kfuncinfo_create(&fi), 0);
	REQUIRE_EQ(ua_kfuncinfo_add_prog(fi, "loop_e2big", prog, LOOP_PROG_LEN, &recs, &cnt), 0);
	REQUIRE_EQ(cnt, 2u);
	CHECK_EQ(recs[0].insn_off, 0u);
	CHECK_EQ(recs[1].insn_off, 8u);
	REQUIRE_EQ(ua_kfuncinfo_raw(fi, &btf, &btf_size), 0);
	btf_fd = ua_kbpf_btf_load(btf, btf_size, err, sizeof(err));
	if (btf_fd < 0)
		ua_test_fail(__FILE__, __LINE__, "btf: %s", err);
	REQUIRE(btf_fd >= 0);
	struct ua_kbpf_prog_attr pa = {
		.prog_type = UA_KBPF_PROG_TYPE_SYSCALL, .prog_flags = UA_KBPF_F_SLEEPABLE,
		.insns = prog, .insn_cnt = LOOP_PROG_LEN, .name = "loop_e2big",
		.prog_btf_fd = (uint32_t)btf_fd, .func_info = recs,
		.func_info_rec_size = sizeof(*recs), .func_info_cnt = cnt,
	};
	prog_fd = ua_kbpf_prog_load(&pa, err, sizeof(err));
	if (prog_fd < 0)
		ua_test_fail(__FILE__, __LINE__, "load: %s", err);
	REQUIRE(prog_fd >= 0);
	REQUIRE_EQ(ua_kbpf_prog_test_run(prog_fd, &run), 0);
	close(prog_fd);
	close(btf_fd);
	free(btf);
	free(recs);
	ua_kfuncinfo_destroy(fi);
	return run.retval;
}

static uint32_t uarena_loop_e2big_hi(int32_t flags)
{
	struct ua_insn prog[LOOP_PROG_LEN];
	char err[256] = "";
	UA_OPTS(ua_raw_opts, ro, .err_buf = err, .err_buf_sz = sizeof(err));
	UA_OPTS(ua_test_run_opts, run, .err_buf = err, .err_buf_sz = sizeof(err));
	struct ua_program *p = NULL;
	int ret;

	loop_prog(prog, flags);
	ret = ua_program_load_raw(prog, LOOP_PROG_LEN, &ro, &p);

	if (ret)
		ua_test_fail(__FILE__, __LINE__, "raw load: %s", err);
	REQUIRE_EQ(ret, 0);
	ret = ua_program_test_run(p, &run);
	if (ret)
		ua_test_fail(__FILE__, __LINE__, "raw run: %s", err);
	ua_program_free_raw(p);
	return run.retval;
}

TEST(kernel_every, inlined_bpf_loop_e2big_is_32bit_kernel_quirk)
{
	ua_test_require_kbpf();
	CHECK_EQ(kernel_loop_e2big_hi(0), 0u);          /* inlined: 32-bit mov */
	CHECK_EQ(kernel_loop_e2big_hi(1), 0xffffffffu); /* helper: -EINVAL, sign-extended */
	CHECK_EQ(uarena_loop_e2big_hi(0), 0xffffffffu);
	CHECK_EQ(uarena_loop_e2big_hi(1), 0xffffffffu);
}

/* ---- listing programs, `uarena diff --all` ---- */

TEST(kernel_every, list_programs_as_libbpf_finds_them)
{
	char path[512], err[256] = "", **names = NULL;
	int n;

	snprintf(path, sizeof(path), "%s", ua_test_bpf_obj_built("loader_globals"));
	n = ua_kernel_list_programs(path, &names, err, sizeof(err));
	REQUIRE_EQ(n, 9);
	CHECK_STR(names[0], "read_globals");
	CHECK_STR(names[1], "calls");
	CHECK_STR(names[2], "kconfig");
	CHECK_STR(names[3], "xdp_first_byte");
	CHECK_STR(names[4], "tc_len");
	CHECK_STR(names[5], "printk");
	CHECK_STR(names[6], "ctx_sum");
	CHECK_STR(names[7], "write_rodata");
	CHECK_STR(names[8], "cpu_exclusive");
	CHECK(names[9] == NULL);
	free(names);

	/* .text-only objects have no programs in libbpf's sense. */
	snprintf(path, sizeof(path), "%s", ua_test_bpf_obj_built("loader_text_only"));
	CHECK_EQ(ua_kernel_list_programs(path, &names, err, sizeof(err)), 0);
	CHECK(names != NULL && names[0] == NULL);
	free(names);

	CHECK_EQ(ua_kernel_list_programs("/nonexistent.bpf.o", &names, err, sizeof(err)), -ENOENT);
	CHECK(names == NULL);
	CHECK_EQ(ua_kernel_list_programs("/proc/self/status", &names, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not an ELF");
}

TEST(kernel_every, cli_all_programs)
{
	static struct ua_test_cmd r;
	const char *large = ua_test_bpf_obj_built("arena_large");
	int lines = 0;

	ua_test_require_kbpf();
	DIFF_CLI(&r, large, "--all");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "== big_alloc1\nuarena and the kernel agree\n"
			 "== access_reserved\nuarena and the kernel agree\n"
			 "== request_partially_reserved\nuarena and the kernel agree\n"
			 "== free_reserved\nuarena and the kernel agree\n"
			 "== big_alloc2\nuarena and the kernel agree\n");

	/* One JSON line per program; a verifier rejection makes the whole run exit 2. */
	DIFF_CLI(&r, ua_test_bpf_obj_built("loader_globals"), "--all", "--json");
	CHECK_EQ(r.status, 2);
	for (const char *p = r.out; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_EQ(lines, 9);
	CHECK_CONTAINS(r.out, "\"prog\":\"calls\",\"status\":\"agree\"");
	CHECK_CONTAINS(r.out, "\"prog\":\"write_rodata\",\"status\":\"error\"");

	DIFF_CLI(&r, ua_test_bpf_obj_built("loader_text_only"), "--all");
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "no programs in the object");
	DIFF_CLI(&r, large, "--all", "--prog", "big_alloc1");
	CHECK_EQ(r.status, 2);
}

/* ---- SEGV_ON_FAULT arena images in the twin ---- */

/*
 * A SEGV_ON_FAULT arena's user view does not fault pages in: the twin must
 * allocate the image's pages before copying (a plain copy is SIGSEGV, which
 * would end this test). The image (16 bytes from 8 before page 1) then reads
 * back through the kernel's user view, and exactly pages 0 and 1 are taken.
 */
TEST(kernel_every, segv_on_fault_arena_image_is_allocated_first)
{
	static const uint64_t image[2] = { 0, 0x4142434445464748ull };
	struct ua_kobj_map_desc map = {
		.name = "arena",
		.attr = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = 4,
			  .map_flags = UA_KBPF_F_MMAPABLE | UA_KBPF_F_SEGV_ON_FAULT },
		.init = image, .init_size = sizeof(image), .init_offset = 4096 - 8,
	};
	struct ua_kobj_desc desc = { .maps = &map, .n_maps = 1 };
	struct ua_kobj *ko = NULL;
	struct ua_karena *ka = NULL;
	char err[1024] = "";
	uint64_t busy = 0, word = 0;
	uint8_t *base;
	size_t size = 0;

	ua_test_require_kbpf();
	if (ua_kobj_load(&desc, &ko, err, sizeof(err)))
		ua_test_fail(__FILE__, __LINE__, "load: %s", err);
	REQUIRE(ko != NULL);
	base = ua_kobj_arena_base(ko, 0, &size);
	REQUIRE(base != NULL && size == 4 * 4096);
	memcpy(&word, base + 4096, 8);
	CHECK_EQ(word, 0x4142434445464748ull);
	REQUIRE_EQ(ua_karena_attach(ua_kobj_map_fd(ko, 0), base, size, &ka, err, sizeof(err)), 0);
	/* The image straddles pages 0 and 1: both allocated, nothing beyond. */
	CHECK_EQ(ua_karena_next_busy(ka, 0, 4, &busy), 0);
	CHECK_EQ(busy, 0u);
	CHECK_EQ(ua_karena_next_busy(ka, 1, 4, &busy), 0);
	CHECK_EQ(busy, 1u);
	CHECK_EQ(ua_karena_next_busy(ka, 2, 4, &busy), -ENOENT);
	ua_karena_destroy(ka);
	ua_kobj_close(ko);
}
