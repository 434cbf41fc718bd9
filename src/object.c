/* SPDX-License-Identifier: MIT */
/*
 * Public entry points for objects and programs, and test runs
 * (BPF_PROG_TEST_RUN).
 *
 * A test run builds one struct ua_exec on the calling thread's stack: the
 * object's arena, a CPU id taken from the object's pool of nr_cpus ids (so
 * concurrent runs never share an id — the arena spin lock keeps per-CPU
 * queue nodes in the arena and breaks if two runs share one), the bounds
 * regions (map values and map structs, ctx, packet) and the trace sink.
 *
 * Packet programs read ctx->data/data_end/data_meta with 32-bit loads; the
 * kernel rewrites those loads (convert_ctx_access) into 64-bit loads of the
 * real pointers. loader_prog.c does the same rewrite for the loads whose
 * base is the context on every path, into the UA_CTX_PTR_* slots past the public
 * struct, so the packet can live above 4 GiB where it cannot be mistaken for
 * an arena pointer. Supported ctx fields: xdp_md data, data_end, data_meta,
 * ingress_ifindex (1), rx_queue_index (0); __sk_buff len, data, data_end,
 * data_meta, protocol, mark, priority, ifindex/ingress_ifindex (1), cb[5]
 * (from ctx_in). Other fields read 0.
 */
#include "loader.h"

#include "internal.h"
#include "jit.h"

#include "arena.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void ua_object_free(struct ua_object *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->n_progs; i++) {
		ua_prog_free(obj->progs[i].prog);
		free(obj->progs[i].insns);
		free(obj->progs[i].name);
		free(obj->progs[i].sec_name);
		free(obj->progs[i].core_kernel_sites);
	}
	free(obj->progs);
	for (size_t i = 0; i < obj->n_maps; i++)
		ua_map_free(obj->maps[i]);
	free(obj->maps);
	free(obj->kfuncs);
	free(obj->regions);
	if (obj->cpu_busy) {
		pthread_mutex_destroy(&obj->cpu_lock);
		pthread_cond_destroy(&obj->cpu_cond);
	}
	free(obj->cpu_busy);
	free(obj);
}

void ua_object_close(struct ua_object *obj)
{
	ua_object_free(obj);
}

struct ua_program *ua_object_next_program(const struct ua_object *obj,
					  const struct ua_program *prev)
{
	if (!obj || obj->n_progs == 0)
		return NULL;
	if (!prev)
		return &obj->progs[0];
	size_t i = (size_t)(prev - obj->progs) + 1;

	return i < obj->n_progs ? &obj->progs[i] : NULL;
}

struct ua_program *ua_object_find_program(const struct ua_object *obj, const char *name)
{
	for (size_t i = 0; obj && name && i < obj->n_progs; i++)
		if (!strcmp(obj->progs[i].name, name))
			return &obj->progs[i];
	return NULL;
}

struct ua_map *ua_object_next_map(const struct ua_object *obj, const struct ua_map *prev)
{
	if (!obj || obj->n_maps == 0)
		return NULL;
	if (!prev)
		return obj->maps[0];
	for (size_t i = 0; i + 1 < obj->n_maps; i++)
		if (obj->maps[i] == prev)
			return obj->maps[i + 1];
	return NULL;
}

struct ua_map *ua_object_find_map(const struct ua_object *obj, const char *name)
{
	for (size_t i = 0; obj && name && i < obj->n_maps; i++)
		if (!strcmp(obj->maps[i]->name, name))
			return obj->maps[i];
	return NULL;
}

const char *ua_program_name(const struct ua_program *p) { return p->name; }
const char *ua_program_section(const struct ua_program *p) { return p->sec_name; }
enum ua_prog_type ua_program_type(const struct ua_program *p) { return p->type; }
bool ua_program_prepared(const struct ua_program *p) { return p->prog != NULL; }

const struct ua_insn *ua_program_insns(const struct ua_program *p, size_t *cnt)
{
	if (cnt)
		*cnt = p->n_insns;
	return p->insns;
}

const char *ua_object_kfunc_name(const struct ua_object *obj, int32_t idx)
{
	if (!obj || idx < 0 || (size_t)idx >= obj->n_kfuncs)
		return NULL;
	return obj->kfuncs[idx]->name;
}

/* ---- CPU id pool ---- */

static int cpu_acquire(struct ua_object *obj, bool fixed, uint32_t want, uint32_t *cpu)
{
	if (fixed && want >= obj->nr_cpus)
		return -ENXIO; /* the kernel's answer for an offline/invalid CPU */
	pthread_mutex_lock(&obj->cpu_lock);
	for (;;) {
		if (fixed) {
			if (!obj->cpu_busy[want]) {
				*cpu = want;
				break;
			}
		} else {
			uint32_t i;

			for (i = 0; i < obj->nr_cpus && obj->cpu_busy[i]; i++)
				;
			if (i < obj->nr_cpus) {
				*cpu = i;
				break;
			}
		}
		pthread_cond_wait(&obj->cpu_cond, &obj->cpu_lock);
	}
	obj->cpu_busy[*cpu] = true;
	pthread_mutex_unlock(&obj->cpu_lock);
	return 0;
}

static void cpu_release(struct ua_object *obj, uint32_t cpu)
{
	pthread_mutex_lock(&obj->cpu_lock);
	obj->cpu_busy[cpu] = false;
	pthread_cond_broadcast(&obj->cpu_cond);
	pthread_mutex_unlock(&obj->cpu_lock);
}

/* ---- regions ---- */

/*
 * Map values and map structs (programs read struct bpf_map fields through
 * CO-RE). Built once when the object is complete, so concurrent runs only
 * read it.
 */
int ua_object_build_regions(struct ua_object *obj)
{
	size_t n = 0;

	if (obj->regions)
		return 0;
	obj->regions = calloc(obj->n_maps * 3 + 1, sizeof(*obj->regions));
	if (!obj->regions)
		return -ENOMEM;
	for (size_t i = 0; i < obj->n_maps; i++) {
		struct ua_map *m = obj->maps[i];

		size_t sz = m->type == UA_MAP_ARENA_TYPE ? sizeof(struct ua_arena_map) : sizeof(*m);

		obj->regions[n++] = (struct ua_mem_region){ (uintptr_t)m, (uintptr_t)m + sz, false };
		/* BPF_F_RDONLY_PROG (.rodata, .kconfig): program stores fault, as the
		 * verifier would refuse them. */
		if (m->mmaped && m->type != UA_MAP_ARENA_TYPE)
			obj->regions[n++] = (struct ua_mem_region){
				(uintptr_t)m->mmaped, (uintptr_t)m->mmaped + m->mmap_sz,
				!(m->map_flags & (1U << 7))
			};
		if (m->value_mem && m->value_mem != m->mmaped)
			obj->regions[n++] = (struct ua_mem_region){
				(uintptr_t)m->value_mem, (uintptr_t)m->value_mem + m->value_mem_sz, true
			};
	}
	obj->n_regions = n;
	return 0;
}

/* ---- test run ---- */

static bool is_packet_prog(enum ua_prog_type t)
{
	return t == UA_PROG_TYPE_XDP || t == UA_PROG_TYPE_SCHED_CLS ||
	       t == UA_PROG_TYPE_SCHED_ACT || t == UA_PROG_TYPE_SOCKET_FILTER;
}

#define PKT_HEADROOM 256 /* XDP_PACKET_HEADROOM */
#define CTX_BUF_SZ 256   /* packet contexts: public struct + pointer slots */
#define CTX_MAX_IN 65535 /* the kernel's limit for other programs' ctx_in (U16_MAX) */

struct run_env {
	struct ua_program *prog;
	struct ua_mem_region regions[64];
	size_t n_regions;
	uint8_t *pkt;      /* mmap()ed: always above 4 GiB on x86-64 Linux */
	size_t pkt_map_sz;
	uint64_t ctx[CTX_BUF_SZ / 8];
	uint8_t *big_ctx;  /* non-packet ctx_in, copied (the kernel copies it too) */
	uint32_t ctx_len;  /* bytes of context handed back in ctx_out */
	bool raw_conv;     /* raw convention (r1 = data, r2 = length) */
	uint32_t raw_len;  /* its bytes of pkt, handed back in data_out */
};

static int trace_to_sink(struct ua_exec *ex, const char *msg, size_t len)
{
	struct run_env *env = ex->user;
	struct ua_program *p = env->prog;
	ua_trace_fn fn = p->obj ? p->obj->trace : p->trace;
	void *ctx = p->obj ? p->obj->trace_ctx : p->trace_ctx;

	if (fn)
		return fn(ctx, msg, len);
	fwrite(msg, 1, len, stderr);
	return 0;
}

static void add_region(struct run_env *env, const void *p, size_t len, bool w)
{
	if (env->n_regions < ARRAY_SIZE(env->regions) && p && len)
		env->regions[env->n_regions++] =
			(struct ua_mem_region){ (uintptr_t)p, (uintptr_t)p + len, w };
}

static int setup_packet(struct run_env *env, const struct ua_test_run_opts *o, uint64_t *r1)
{
	uint32_t len = o->data_size_in;
	uint8_t *ctx8 = (uint8_t *)env->ctx;

	if (!o->data_in || len < 14)
		return -EINVAL; /* the kernel wants at least an Ethernet header */
	env->pkt_map_sz = UA_ROUND_UP(PKT_HEADROOM + (size_t)len, 4096);
	env->pkt = mmap(NULL, env->pkt_map_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (env->pkt == MAP_FAILED) {
		env->pkt = NULL;
		return -ENOMEM;
	}
	uint8_t *data = env->pkt + PKT_HEADROOM;

	memcpy(data, o->data_in, len);
	add_region(env, env->pkt, env->pkt_map_sz, true);
	if (o->ctx_in && o->ctx_size_in)
		memcpy(ctx8, o->ctx_in, UA_MIN(o->ctx_size_in, (uint32_t)UA_CTX_PUBLIC_MAX));
	uint64_t d = (uintptr_t)data, de = (uintptr_t)(data + len);

	if (env->prog->type == UA_PROG_TYPE_XDP) {
		uint32_t one = 1, zero = 0;

		memcpy(ctx8 + 12, &one, 4);  /* ingress_ifindex */
		memcpy(ctx8 + 16, &zero, 4); /* rx_queue_index */
	} else {
		uint32_t one = 1;

		memcpy(ctx8 + 0, &len, 4);   /* len */
		memcpy(ctx8 + 40, &one, 4);  /* ifindex */
		memcpy(ctx8 + 36, &one, 4);  /* ingress_ifindex */
	}
	memcpy(ctx8 + UA_CTX_PTR_DATA, &d, 8);
	memcpy(ctx8 + UA_CTX_PTR_DATA_END, &de, 8);
	memcpy(ctx8 + UA_CTX_PTR_DATA_META, &d, 8);
	add_region(env, env->ctx, sizeof(env->ctx), true);
	env->ctx_len = UA_CTX_PUBLIC_MAX;
	*r1 = (uintptr_t)env->ctx;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int run_once_loop(struct ua_program *p, struct ua_exec *ex, struct run_env *env,
			 const uint64_t args[5], int repeat, bool jit, uint64_t *r0, char *err,
			 size_t err_sz)
{
	for (int i = 0; i < repeat; i++) {
		int ret = jit ? ua_prog_run(p->prog, ex, args, r0) : ua_interp_run(p->prog, ex, args, r0);

		if (ret)
			return ua_errf(err, err_sz, ret, "run: prog '%s': %s", p->name, ex->err);
	}
	return 0;
}

static int copy_out(struct run_env *env, struct ua_test_run_opts *o, char *err, size_t err_sz)
{
	if (env->raw_conv && o->data_out) {
		uint32_t cap = o->data_size_out;

		o->data_size_out = env->raw_len;
		memcpy(o->data_out, env->pkt, UA_MIN(cap, env->raw_len));
		if (env->raw_len > cap)
			return ua_errf(err, err_sz, -ENOSPC, "run: data_out holds %u of %u bytes", cap,
				       env->raw_len);
	} else if (env->pkt && o->data_out) {
		uint8_t *ctx8 = (uint8_t *)env->ctx;
		uint64_t d, de;

		memcpy(&d, ctx8 + UA_CTX_PTR_DATA, 8);
		memcpy(&de, ctx8 + UA_CTX_PTR_DATA_END, 8);
		size_t len = de > d ? (size_t)(de - d) : 0;
		uint32_t cap = o->data_size_out;

		o->data_size_out = (uint32_t)len;
		if (len > cap) {
			memcpy(o->data_out, (void *)(uintptr_t)d, cap);
			return ua_errf(err, err_sz, -ENOSPC, "run: data_out holds %u of %zu bytes", cap,
				       len);
		}
		memcpy(o->data_out, (void *)(uintptr_t)d, len);
	}
	if (o->ctx_out && o->ctx_size_out && env->ctx_len) {
		uint32_t n = UA_MIN(o->ctx_size_out, env->ctx_len);

		memcpy(o->ctx_out, env->big_ctx ? env->big_ctx : (uint8_t *)env->ctx, n);
		o->ctx_size_out = n;
	}
	return 0;
}

static void free_env(struct run_env *env)
{
	if (env->pkt)
		munmap(env->pkt, env->pkt_map_sz);
	free(env->big_ctx);
	free(env);
}

/* r1 (and r2) for the three conventions: packet ctx, raw data + length, ctx_in. */
static int setup_input(struct run_env *env, const struct ua_test_run_opts *o, uint64_t args[5],
		       char *err, size_t err_sz)
{
	struct ua_program *p = env->prog;

	if (is_packet_prog(p->type)) {
		int ret = setup_packet(env, o, &args[0]);

		if (ret)
			return ua_errf(err, err_sz, ret, "run: prog '%s': packet programs need data_in "
				       "of at least 14 bytes", p->name);
	} else if (!p->sec_name[0] || !strcmp(p->sec_name, ".text")) {
		env->raw_conv = true;
		if (!o->data_in || !o->data_size_in)
			return 0;
		env->pkt_map_sz = UA_ROUND_UP((size_t)o->data_size_in, 4096);
		env->pkt = mmap(NULL, env->pkt_map_sz, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (env->pkt == MAP_FAILED) {
			env->pkt = NULL;
			return -ENOMEM;
		}
		memcpy(env->pkt, o->data_in, o->data_size_in);
		add_region(env, env->pkt, env->pkt_map_sz, true);
		env->raw_len = o->data_size_in;
		args[0] = (uintptr_t)env->pkt;
		args[1] = o->data_size_in;
	} else if (o->ctx_in && o->ctx_size_in) {
		env->big_ctx = malloc(o->ctx_size_in);
		if (!env->big_ctx)
			return -ENOMEM;
		memcpy(env->big_ctx, o->ctx_in, o->ctx_size_in);
		add_region(env, env->big_ctx, o->ctx_size_in, true);
		env->ctx_len = o->ctx_size_in;
		args[0] = (uintptr_t)env->big_ctx;
	}
	return 0;
}

/* Runs `repeat` times with the exec state for this call; fills retval/duration/outputs. */
static int run_with_cpu(struct run_env *env, struct ua_test_run_opts *o, const uint64_t args[5],
			uint32_t cpu, char *err, size_t err_sz)
{
	struct ua_program *p = env->prog;
	struct ua_object *obj = p->obj;
	struct ua_exec ex;
	uint64_t r0 = 0;
	/* The object's regions first, then this run's (ctx, packet). */
	struct ua_mem_region *all = calloc(obj->n_regions + env->n_regions + 1, sizeof(*all));
	int ret;

	if (!all)
		return -ENOMEM;
	memcpy(all, obj->regions, obj->n_regions * sizeof(*all));
	memcpy(all + obj->n_regions, env->regions, env->n_regions * sizeof(*all));
	memset(&ex, 0, sizeof(ex));
	ex.cpu = cpu;
	ex.bounds_check = true;
	ex.regions = all;
	ex.n_regions = obj->n_regions + env->n_regions;
	ex.user = env;
	ex.trace = trace_to_sink;
	if (obj->arena || obj->raw_arena) {
		ex.arena = obj->arena ? obj->arena->arena : obj->raw_arena;
		ex.arena_base = ua_arena_prog_base(ex.arena);
	}
	int repeat = o->repeat > 0 ? o->repeat : 1;
	uint64_t t0 = now_ns();

	ret = run_once_loop(p, &ex, env, args, repeat, o->flags & UA_F_TEST_RUN_JIT, &r0, err,
			    err_sz);
	uint64_t dt = (now_ns() - t0) / (uint64_t)repeat;

	if (!ret) {
		o->retval = (uint32_t)r0;
		o->duration = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
		ret = copy_out(env, o, err, err_sz);
	}
	free(all);
	return ret;
}

int ua_program_test_run(struct ua_program *p, struct ua_test_run_opts *o)
{
	char *err = OPTS_GET(o, err_buf, NULL);
	size_t err_sz = OPTS_GET(o, err_buf_sz, 0);
	struct run_env *env;
	uint64_t args[5] = { 0 };
	uint32_t cpu;
	int ret;

	if (!p || !o || !OPTS_VALID(o, ua_test_run_opts))
		return ua_errf(err, err_sz, -EINVAL, "run: invalid arguments");
	if (!p->prog)
		return ua_errf(err, err_sz, -ENOENT, "run: prog '%s' is not prepared", p->name);
	if (o->ctx_size_in > CTX_MAX_IN || (o->ctx_size_in && !o->ctx_in) ||
	    (is_packet_prog(p->type) && o->ctx_size_in > UA_CTX_PUBLIC_MAX))
		return ua_errf(err, err_sz, -EINVAL, "run: bad ctx_in (%u bytes)", o->ctx_size_in);
	/* bpf_prog_test_run_syscall: the ctx must cover every byte the program may touch. */
	if (p->type == UA_PROG_TYPE_SYSCALL && o->ctx_size_in < p->max_ctx_offset)
		return ua_errf(err, err_sz, -EINVAL, "run: prog '%s' accesses ctx up to byte %u but "
			       "ctx_size_in is %u (the kernel refuses this run)", p->name,
			       p->max_ctx_offset, o->ctx_size_in);
	if (o->flags & UA_F_TEST_RUN_JIT) {
		ret = ua_prog_enable_jit(p->prog, err, err_sz);
		if (ret)
			return ret;
	}
	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	env->prog = p;
	ret = setup_input(env, o, args, err, err_sz);
	if (ret) {
		free_env(env);
		return ret;
	}
	ret = cpu_acquire(p->obj, o->flags & UA_F_TEST_RUN_ON_CPU, o->cpu, &cpu);
	if (ret) {
		free_env(env);
		return ua_errf(err, err_sz, ret, "run: cpu %u out of range (nr_cpus %u)", o->cpu,
			       p->obj->nr_cpus);
	}
	ret = run_with_cpu(env, o, args, cpu, err, err_sz);
	cpu_release(p->obj, cpu);
	free_env(env);
	return ret;
}

/* ---- raw mode ---- */

int ua_program_load_raw(const struct ua_insn *insns, size_t n, const struct ua_raw_opts *opts,
			struct ua_program **out)
{
	char *err = OPTS_GET(opts, err_buf, NULL);
	size_t err_sz = OPTS_GET(opts, err_buf_sz, 0);
	struct ua_object *obj;
	struct ua_program *p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	if (!out || !insns || !n)
		return ua_errf(err, err_sz, -EINVAL, "loader: raw program: no instructions");
	*out = NULL;
	if (!OPTS_VALID(opts, ua_raw_opts))
		return ua_errf(err, err_sz, -EINVAL, "loader: invalid opts");
	/* A raw program owns a map-less object: its CPU pool and trace sink. */
	obj = calloc(1, sizeof(*obj));
	p = obj ? calloc(1, sizeof(*p)) : NULL;
	if (!p) {
		free(obj);
		return -ENOMEM;
	}
	obj->progs = p;
	obj->n_progs = 1;
	p->autoload = true;
	snprintf(obj->name, sizeof(obj->name), "raw");
	obj->nr_cpus = ncpu > 0 ? (uint32_t)ncpu : 1;
	obj->trace = OPTS_GET(opts, trace, NULL);
	obj->trace_ctx = OPTS_GET(opts, trace_ctx, NULL);
	obj->helpers = OPTS_GET(opts, helpers, NULL);
	obj->raw_arena = OPTS_GET(opts, arena, NULL);
	obj->cpu_busy = calloc(obj->nr_cpus, sizeof(bool));
	p->obj = obj;
	const char *name = OPTS_GET(opts, name, NULL);

	p->name = strdup(name ? name : "raw");
	p->sec_name = strdup("");
	p->insns = malloc(n * sizeof(*insns));
	if (!obj->cpu_busy || !p->name || !p->sec_name || !p->insns) {
		free(obj->cpu_busy);
		obj->cpu_busy = NULL;
		ua_object_free(obj);
		return -ENOMEM;
	}
	pthread_mutex_init(&obj->cpu_lock, NULL);
	pthread_cond_init(&obj->cpu_cond, NULL);
	memcpy(p->insns, insns, n * sizeof(*insns));
	p->n_insns = n;
	ret = ua_loader_prepare_prog(obj, p, err, err_sz);
	if (!ret)
		ret = ua_object_build_regions(obj);
	if (ret) {
		ua_object_free(obj);
		return ret;
	}
	*out = p;
	return 0;
}

void ua_program_free_raw(struct ua_program *p)
{
	if (p && p->obj && p->obj->progs == p && !p->sec_name[0])
		ua_object_free(p->obj);
}
