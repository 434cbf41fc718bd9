/* SPDX-License-Identifier: MIT */
/*
 * A kernel arena driven from user space, one kfunc call per syscall.
 *
 * Model: the arena map is created and mmapped like libbpf does (the verifier
 * refuses arena programs until user_vm_start is known), then one sleepable
 * BPF_PROG_TYPE_SYSCALL program, assembled here from raw instructions, is
 * loaded against it. Each BPF_PROG_TEST_RUN passes a struct op_ctx; the
 * program dispatches on ctx->op, makes exactly one arena kfunc call (or one
 * arena load/store) with the arguments from the ctx, and stores the result in
 * ctx->result. SYSCALL programs get their ctx copied back into ctx_in by the
 * kernel, which is how results come home. Kfunc ids come from vmlinux BTF.
 *
 *   op ALLOC    result = bpf_arena_alloc_pages(map, addr, cnt, node, flags)
 *   op FREE     bpf_arena_free_pages(map, addr, cnt)
 *   op RESERVE  result = (s32)bpf_arena_reserve_pages(map, addr, cnt)
 *   op READ     result = *(u64 __arena *)addr        (PROBE_MEM32 load)
 *   op WRITE    *(u64 __arena *)addr = value          (PROBE_MEM32 store)
 *   op LOOP     cnt times { p = alloc(NULL, 1); if p: free(p, 1) else failed++ }
 *               result = failed, cnt = iterations done (see build_loop).
 *   op SCAN     the first pgoff in [cnt, node) that is not free (see build_scan)
 *   op SUM      result = sum of cnt u64 words from addr (PROBE_MEM32 loads),
 *               cnt = words done (a may_goto loop, for the load benchmark)
 */
#include "kernel.h"

#include "internal.h"

#include <uarena/common.h>

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum karena_op { OP_ALLOC, OP_FREE, OP_RESERVE, OP_READ, OP_WRITE, OP_LOOP, OP_SCAN, OP_SUM };

struct op_ctx {
	uint64_t op;
	uint64_t addr;
	uint64_t cnt;
	int64_t node;
	uint64_t flags_or_value;
	uint64_t result;
};

#define CTX_OFF(f) ((int16_t)offsetof(struct op_ctx, f))

struct ua_karena {
	int map_fd;
	int prog_fd;
	uint8_t *user_base;
	size_t user_size;
	bool owns_map;  /* created by ua_karena_create (else attached) */
};

/* ---- a tiny instruction builder with forward labels ---- */

#define MAX_INSNS 128
#define MAX_LABELS 24

struct builder {
	struct ua_insn insns[MAX_INSNS];
	int n;
	int label_at[MAX_LABELS];
	int fix_insn[MAX_INSNS], fix_label[MAX_INSNS], n_fix;
	bool overflow;
};

static void emit(struct builder *b, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		 int32_t imm)
{
	if (b->n >= MAX_INSNS) {
		b->overflow = true;
		return;
	}
	b->insns[b->n++] = (struct ua_insn){ .code = code, .dst_reg = dst & 0xf,
					     .src_reg = src & 0xf, .off = off, .imm = imm };
}

/* Conditional or unconditional jump to a label bound later. */
static void emit_jmp(struct builder *b, uint8_t code, uint8_t dst, uint8_t src, int32_t imm,
		     int label)
{
	if (b->n_fix < MAX_INSNS) {
		b->fix_insn[b->n_fix] = b->n;
		b->fix_label[b->n_fix++] = label;
	} else {
		b->overflow = true;
	}
	emit(b, code, dst, src, 0, imm);
}

static void bind(struct builder *b, int label)
{
	b->label_at[label] = b->n;
}

static int resolve(struct builder *b)
{
	if (b->overflow)
		return -E2BIG;
	for (int i = 0; i < b->n_fix; i++) {
		int from = b->fix_insn[i], to = b->label_at[b->fix_label[i]];

		if (to < 0)
			return -EINVAL;
		b->insns[from].off = (int16_t)(to - from - 1);
	}
	return 0;
}

static void emit_ld_map_fd(struct builder *b, uint8_t dst, int fd)
{
	emit(b, UA_LD | UA_DW | UA_IMM, dst, UA_PSEUDO_MAP_FD, 0, fd);
	emit(b, 0, 0, 0, 0, 0);
}

static void emit_kfunc(struct builder *b, int btf_id)
{
	emit(b, UA_JMP | UA_CALL, 0, UA_PSEUDO_KFUNC_CALL, 0, btf_id);
}

static void emit_ldx_ctx(struct builder *b, uint8_t dst, uint8_t size, int16_t off)
{
	emit(b, UA_LDX | UA_MEM | size, dst, 6, off, 0);
}

static void emit_mov_imm(struct builder *b, uint8_t dst, int32_t imm)
{
	emit(b, UA_ALU64 | UA_MOV | UA_K, dst, 0, 0, imm);
}

static void emit_mov_reg(struct builder *b, uint8_t dst, uint8_t src)
{
	emit(b, UA_ALU64 | UA_MOV | UA_X, dst, src, 0, 0);
}

static void emit_stx_ctx(struct builder *b, uint8_t src, int16_t off)
{
	emit(b, UA_STX | UA_MEM | UA_DW, 6, src, off, 0);
}

/* An int kfunc return: only the low 32 bits of r0 are defined; sign-extend them. */
static void emit_sext32_r0(struct builder *b)
{
	emit(b, UA_ALU64 | UA_LSH | UA_K, 0, 0, 0, 32);
	emit(b, UA_ALU64 | UA_ARSH | UA_K, 0, 0, 0, 32);
}

/*
 * The head of every loop: leave for done once i >= end (end is an unknown
 * scalar to the verifier) or when may_goto's budget is spent.
 */
static void emit_loop_guard(struct builder *b, uint8_t i, uint8_t end, int done)
{
	emit_jmp(b, UA_JMP | UA_JGE | UA_X, i, end, 0, done);
	emit_jmp(b, UA_JMP | UA_JCOND, 0, UA_MAY_GOTO, 0, done);
}

/* kfunc(arena, the page whose address is in addr_reg, 1 page): free or reserve one page. */
static void emit_one_page_call(struct builder *b, int map_fd, int btf_id, uint8_t addr_reg)
{
	emit_ld_map_fd(b, 1, map_fd);
	emit_mov_reg(b, 2, addr_reg);
	emit_mov_imm(b, 3, 1);
	emit_kfunc(b, btf_id);
}

static void emit_exit0(struct builder *b)
{
	emit_mov_imm(b, 0, 0);
	emit(b, UA_JMP | UA_EXIT, 0, 0, 0, 0);
}

enum {
	L_ALLOC, L_FREE, L_RESERVE, L_READ, L_WRITE, L_LOOP, L_LOOP_HEAD, L_LOOP_FAILED,
	L_LOOP_NEXT, L_LOOP_DONE, L_SCAN, L_SCAN_HEAD, L_SCAN_UNRESERVE, L_SCAN_FOUND,
	L_SCAN_NONE, L_SUM, L_SUM_HEAD, L_SUM_DONE,
};

struct kfunc_ids {
	int alloc, free, reserve;
};

/*
 * The loop's only exit conditions are i >= ctx->cnt (an unknown scalar, so i
 * never becomes precise and the verifier's states converge after a few
 * iterations) and may_goto (the kernel's loop budget, 8M iterations), so the
 * verifier does not walk every iteration. ctx->cnt comes back as the number
 * of iterations actually done, so a budget cut-off cannot go unnoticed.
 */
static void build_loop(struct builder *b, int map_fd, const struct kfunc_ids *k)
{
	bind(b, L_LOOP);
	emit_ldx_ctx(b, 8, UA_DW, CTX_OFF(cnt));
	emit_mov_imm(b, 9, 0);  /* i */
	emit_mov_imm(b, 7, 0);  /* failed */
	bind(b, L_LOOP_HEAD);
	emit_loop_guard(b, 9, 8, L_LOOP_DONE);
	emit_ld_map_fd(b, 1, map_fd);
	emit_mov_imm(b, 2, 0);
	emit_mov_imm(b, 3, 1);
	emit_mov_imm(b, 4, -1);
	emit_mov_imm(b, 5, 0);
	emit_kfunc(b, k->alloc);
	emit_jmp(b, UA_JMP | UA_JEQ | UA_K, 0, 0, 0, L_LOOP_FAILED);
	emit_one_page_call(b, map_fd, k->free, 0);
	emit_jmp(b, UA_JMP | UA_JA, 0, 0, 0, L_LOOP_NEXT);
	bind(b, L_LOOP_FAILED);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 7, 0, 0, 1);
	bind(b, L_LOOP_NEXT);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 9, 0, 0, 1);
	emit_jmp(b, UA_JMP | UA_JA, 0, 0, 0, L_LOOP_HEAD);
	bind(b, L_LOOP_DONE);
	emit_stx_ctx(b, 7, CTX_OFF(result));
	emit_stx_ctx(b, 9, CTX_OFF(cnt));
	emit_exit0(b);
}

/*
 * Which pages are not free, without touching them: the allocator state is
 * not readable, but bpf_arena_reserve_pages(p, 1) answers -EBUSY for an
 * allocated (or reserved) page and 0 for a free one, which it then reserves;
 * bpf_arena_free_pages(p, 1) on that page gives the reservation back (no
 * page is there to free). So the range tree ends as it started. The loop
 * stops at the first busy page (result = its pgoff, -1 if none) and leaves
 * the next pgoff to look at in ctx->cnt (may_goto can stop it early).
 */
static void build_scan(struct builder *b, int map_fd, const struct kfunc_ids *k)
{
	bind(b, L_SCAN);
	emit_ldx_ctx(b, 8, UA_DW, CTX_OFF(cnt));        /* pgoff */
	emit_ldx_ctx(b, 9, UA_DW, CTX_OFF(node));       /* end */
	bind(b, L_SCAN_HEAD);
	emit_loop_guard(b, 8, 9, L_SCAN_NONE);
	emit_mov_reg(b, 7, 8);
	emit(b, UA_ALU64 | UA_LSH | UA_K, 7, 0, 0, 12);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));       /* user-form base */
	emit(b, UA_ALU64 | UA_ADD | UA_X, 7, 2, 0, 0);
	emit_one_page_call(b, map_fd, k->reserve, 7);
	emit_sext32_r0(b);
	emit_jmp(b, UA_JMP | UA_JEQ | UA_K, 0, 0, 0, L_SCAN_UNRESERVE);
	emit_jmp(b, UA_JMP | UA_JEQ | UA_K, 0, 0, -EBUSY, L_SCAN_FOUND);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 8, 0, 0, 1);
	emit_jmp(b, UA_JMP | UA_JA, 0, 0, 0, L_SCAN_HEAD);
	bind(b, L_SCAN_UNRESERVE);
	emit_one_page_call(b, map_fd, k->free, 7);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 8, 0, 0, 1);
	emit_jmp(b, UA_JMP | UA_JA, 0, 0, 0, L_SCAN_HEAD);
	bind(b, L_SCAN_FOUND);
	emit_stx_ctx(b, 8, CTX_OFF(result));
	emit(b, UA_ALU64 | UA_ADD | UA_K, 8, 0, 0, 1);
	emit_stx_ctx(b, 8, CTX_OFF(cnt));
	emit_exit0(b);
	bind(b, L_SCAN_NONE);
	emit_stx_ctx(b, 8, CTX_OFF(cnt));
	emit(b, UA_ST | UA_MEM | UA_DW, 6, 0, CTX_OFF(result), -1);
	emit_exit0(b);
}

static void build_sum(struct builder *b)
{
	bind(b, L_SUM);
	emit_ldx_ctx(b, 7, UA_DW, CTX_OFF(addr));
	emit(b, UA_ALU64 | UA_MOV | UA_X, 7, 7, UA_ADDR_SPACE_CAST, UA_CAST_KERN);
	emit_ldx_ctx(b, 8, UA_DW, CTX_OFF(cnt));
	emit_mov_imm(b, 9, 0);  /* i */
	emit_mov_imm(b, 0, 0);  /* sum */
	bind(b, L_SUM_HEAD);
	emit_loop_guard(b, 9, 8, L_SUM_DONE);
	emit(b, UA_LDX | UA_MEM | UA_DW, 2, 7, 0, 0);
	emit(b, UA_ALU64 | UA_ADD | UA_X, 0, 2, 0, 0);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 7, 0, 0, 8);
	emit(b, UA_ALU64 | UA_ADD | UA_K, 9, 0, 0, 1);
	emit_jmp(b, UA_JMP | UA_JA, 0, 0, 0, L_SUM_HEAD);
	bind(b, L_SUM_DONE);
	emit_stx_ctx(b, 0, CTX_OFF(result));
	emit_stx_ctx(b, 9, CTX_OFF(cnt));
	emit_exit0(b);
}

static int build_program(struct builder *b, int map_fd, const struct kfunc_ids *k)
{
	static const int dispatch[] = { L_ALLOC, L_FREE, L_RESERVE, L_READ, L_WRITE, L_LOOP,
					L_SCAN, L_SUM };

	memset(b, 0, sizeof(*b));
	for (int i = 0; i < MAX_LABELS; i++)
		b->label_at[i] = -1;

	emit_mov_reg(b, 6, 1); /* r6 = ctx */
	emit_ldx_ctx(b, 7, UA_DW, CTX_OFF(op));
	for (int op = 0; op < (int)ARRAY_SIZE(dispatch); op++)
		emit_jmp(b, UA_JMP | UA_JEQ | UA_K, 7, 0, op, dispatch[op]);
	emit_mov_imm(b, 0, 1); /* unknown op: retval 1 */
	emit(b, UA_JMP | UA_EXIT, 0, 0, 0, 0);

	bind(b, L_ALLOC);
	emit_ld_map_fd(b, 1, map_fd);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));
	emit_ldx_ctx(b, 3, UA_W, CTX_OFF(cnt));
	emit_ldx_ctx(b, 4, UA_DW, CTX_OFF(node));
	emit_ldx_ctx(b, 5, UA_DW, CTX_OFF(flags_or_value));
	emit_kfunc(b, k->alloc);
	emit_stx_ctx(b, 0, CTX_OFF(result));
	emit_exit0(b);

	bind(b, L_FREE);
	emit_ld_map_fd(b, 1, map_fd);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));
	emit_ldx_ctx(b, 3, UA_W, CTX_OFF(cnt));
	emit_kfunc(b, k->free);
	emit_exit0(b);

	bind(b, L_RESERVE);
	emit_ld_map_fd(b, 1, map_fd);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));
	emit_ldx_ctx(b, 3, UA_W, CTX_OFF(cnt));
	emit_kfunc(b, k->reserve);
	emit_sext32_r0(b);
	emit_stx_ctx(b, 0, CTX_OFF(result));
	emit_exit0(b);

	bind(b, L_READ);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));
	emit(b, UA_ALU64 | UA_MOV | UA_X, 2, 2, UA_ADDR_SPACE_CAST, UA_CAST_KERN);
	emit(b, UA_LDX | UA_MEM | UA_DW, 0, 2, 0, 0);
	emit_stx_ctx(b, 0, CTX_OFF(result));
	emit_exit0(b);

	bind(b, L_WRITE);
	emit_ldx_ctx(b, 2, UA_DW, CTX_OFF(addr));
	emit(b, UA_ALU64 | UA_MOV | UA_X, 2, 2, UA_ADDR_SPACE_CAST, UA_CAST_KERN);
	emit_ldx_ctx(b, 3, UA_DW, CTX_OFF(flags_or_value));
	emit(b, UA_STX | UA_MEM | UA_DW, 2, 3, 0, 0);
	emit_exit0(b);

	build_loop(b, map_fd, k);
	build_scan(b, map_fd, k);
	build_sum(b);
	return resolve(b);
}

static int resolve_kfuncs(struct kfunc_ids *k, char *err, size_t err_sz)
{
	struct ua_kbtf *btf;
	int ret;

	ret = ua_kbtf_open(NULL, &btf, err, err_sz);
	if (ret)
		return ret;
	k->alloc = ua_kbtf_find(btf, "bpf_arena_alloc_pages", UA_KBTF_KIND_FUNC);
	k->free = ua_kbtf_find(btf, "bpf_arena_free_pages", UA_KBTF_KIND_FUNC);
	k->reserve = ua_kbtf_find(btf, "bpf_arena_reserve_pages", UA_KBTF_KIND_FUNC);
	ua_kbtf_close(btf);
	if (k->alloc < 0 || k->free < 0)
		return ua_errf(err, err_sz, -EOPNOTSUPP,
			       "kernel: vmlinux BTF has no bpf_arena_alloc_pages/free_pages kfuncs");
	if (k->reserve < 0)
		return ua_errf(err, err_sz, -EOPNOTSUPP,
			       "kernel: vmlinux BTF has no bpf_arena_reserve_pages (needs 6.17+)");
	return 0;
}

static int load_program(struct ua_karena *ka, char *err, size_t err_sz)
{
	struct ua_kbpf_prog_attr pa = {
		.prog_type = UA_KBPF_PROG_TYPE_SYSCALL,
		.prog_flags = UA_KBPF_F_SLEEPABLE,
		.name = "ua_karena_ops",
	};
	struct kfunc_ids k;
	struct builder *b;
	int ret;

	ret = resolve_kfuncs(&k, err, err_sz);
	if (ret)
		return ret;
	b = malloc(sizeof(*b));
	if (!b)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for the arena program");
	ret = build_program(b, ka->map_fd, &k);
	if (ret) {
		free(b);
		return ua_errf(err, err_sz, ret, "kernel: arena program does not fit (internal)");
	}
	pa.insns = b->insns;
	pa.insn_cnt = (uint32_t)b->n;
	ret = ua_kbpf_prog_load(&pa, err, err_sz);
	free(b);
	if (ret < 0)
		return ret;
	ka->prog_fd = ret;
	return 0;
}

int ua_karena_create(const struct ua_karena_attr *attr, struct ua_karena **out, char *err,
		     size_t err_sz)
{
	struct ua_kbpf_map_attr ma = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .name = "ua_karena" };
	long page = sysconf(_SC_PAGESIZE);
	struct ua_karena *ka;
	void *base;
	int ret;

	if (!attr || !out)
		return ua_errf(err, err_sz, -EINVAL, "kernel: arena create: no attributes");
	*out = NULL;
	ka = calloc(1, sizeof(*ka));
	if (!ka)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for the arena handle");
	ka->map_fd = ka->prog_fd = -1;
	ka->owns_map = true;

	ma.max_entries = attr->max_entries;
	ma.map_flags = attr->map_flags ? attr->map_flags : UA_KBPF_F_MMAPABLE;
	ma.map_extra = attr->map_extra;
	ret = ua_kbpf_map_create(&ma, err, err_sz);
	if (ret < 0)
		goto out_free;
	ka->map_fd = ret;

	ka->user_size = (size_t)(attr->mmap_pages ? attr->mmap_pages : attr->max_entries) *
			(size_t)page;
	ret = ua_kbpf_arena_mmap(ka->map_fd, (void *)(uintptr_t)attr->map_extra, ka->user_size,
				 PROT_READ | PROT_WRITE, attr->map_extra != 0, &base);
	if (ret) {
		ua_errf(err, err_sz, ret, "kernel: mmap of arena (%zu bytes at 0x%llx): %s",
			ka->user_size, (unsigned long long)attr->map_extra, ua_strerror(ret));
		goto out_free;
	}
	ka->user_base = base;

	ret = load_program(ka, err, err_sz);
	if (ret)
		goto out_free;
	*out = ka;
	return 0;

out_free:
	ua_karena_destroy(ka);
	return ret;
}

int ua_karena_attach(int map_fd, uint8_t *user_base, size_t user_size, struct ua_karena **out,
		     char *err, size_t err_sz)
{
	struct ua_karena *ka;
	int ret;

	if (!out || map_fd < 0 || !user_base)
		return ua_errf(err, err_sz, -EINVAL, "kernel: arena attach: bad arguments");
	*out = NULL;
	ka = calloc(1, sizeof(*ka));
	if (!ka)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: no memory for the arena handle");
	*ka = (struct ua_karena){ .map_fd = map_fd, .prog_fd = -1, .user_base = user_base,
				  .user_size = user_size, .owns_map = false };
	ret = load_program(ka, err, err_sz);
	if (ret) {
		ua_karena_destroy(ka);
		return ret;
	}
	*out = ka;
	return 0;
}

void ua_karena_destroy(struct ua_karena *ka)
{
	if (!ka)
		return;
	if (ka->prog_fd >= 0)
		close(ka->prog_fd);
	if (ka->owns_map && ka->user_base)
		munmap(ka->user_base, ka->user_size);
	if (ka->owns_map && ka->map_fd >= 0)
		close(ka->map_fd);
	free(ka);
}

int ua_karena_map_fd(const struct ua_karena *ka)
{
	return ka->map_fd;
}

uint8_t *ua_karena_user_base(const struct ua_karena *ka)
{
	return ka->user_base;
}

size_t ua_karena_user_size(const struct ua_karena *ka)
{
	return ka->user_size;
}

static int run_op(struct ua_karena *ka, struct op_ctx *ctx)
{
	struct ua_kbpf_test_run run = { .ctx_in = ctx, .ctx_size_in = sizeof(*ctx) };
	int ret;

	ret = ua_kbpf_prog_test_run(ka->prog_fd, &run);
	if (ret)
		return ret;
	/* retval 1 means the program did not know the op: a bug on our side. */
	return run.retval == 0 ? 0 : -EPROTO;
}

int ua_karena_alloc(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt, int32_t node_id,
		    uint64_t flags, uint64_t *result)
{
	struct op_ctx ctx = { .op = OP_ALLOC, .addr = addr, .cnt = page_cnt, .node = node_id,
			      .flags_or_value = flags };
	int ret = run_op(ka, &ctx);

	if (ret == 0 && result)
		*result = ctx.result;
	return ret;
}

int ua_karena_free(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt)
{
	struct op_ctx ctx = { .op = OP_FREE, .addr = addr, .cnt = page_cnt };

	return run_op(ka, &ctx);
}

int ua_karena_reserve(struct ua_karena *ka, uint64_t addr, uint32_t page_cnt, int64_t *result)
{
	struct op_ctx ctx = { .op = OP_RESERVE, .addr = addr, .cnt = page_cnt };
	int ret = run_op(ka, &ctx);

	if (ret == 0 && result)
		*result = (int64_t)ctx.result;
	return ret;
}

int ua_karena_bpf_read(struct ua_karena *ka, uint64_t addr, uint64_t *value)
{
	struct op_ctx ctx = { .op = OP_READ, .addr = addr };
	int ret = run_op(ka, &ctx);

	if (ret == 0 && value)
		*value = ctx.result;
	return ret;
}

int ua_karena_bpf_write(struct ua_karena *ka, uint64_t addr, uint64_t value)
{
	struct op_ctx ctx = { .op = OP_WRITE, .addr = addr, .flags_or_value = value };

	return run_op(ka, &ctx);
}

int ua_karena_alloc_free_loop(struct ua_karena *ka, uint32_t iterations, uint32_t *failed)
{
	struct op_ctx ctx = { .op = OP_LOOP, .cnt = iterations };
	int ret;

	if (iterations > UA_KARENA_LOOP_MAX)
		return -E2BIG;
	ret = run_op(ka, &ctx);
	if (ret)
		return ret;
	/* may_goto's budget ran out before the loop did: the count would lie. */
	if (ctx.cnt != iterations)
		return -ERANGE;
	if (failed)
		*failed = (uint32_t)ctx.result;
	return 0;
}

int ua_karena_next_busy(struct ua_karena *ka, uint64_t start, uint64_t end, uint64_t *pgoff)
{
	struct op_ctx ctx = { .op = OP_SCAN, .addr = (uint64_t)(uintptr_t)ka->user_base,
			      .cnt = start, .node = (int64_t)end };
	int ret;

	for (;;) {
		ret = run_op(ka, &ctx);
		if (ret)
			return ret;
		if (ctx.result != UINT64_MAX) {
			*pgoff = ctx.result;
			return 0;
		}
		if (ctx.cnt >= end)
			return -ENOENT;
		/* may_goto's budget ended this run: go on from where it stopped. */
	}
}

int ua_karena_bpf_sum(struct ua_karena *ka, uint64_t addr, uint32_t words, uint64_t *sum)
{
	struct op_ctx ctx = { .op = OP_SUM, .addr = addr, .cnt = words };
	int ret = run_op(ka, &ctx);

	if (ret)
		return ret;
	if (ctx.cnt != words)
		return -ERANGE; /* may_goto's budget ended the loop early */
	if (sum)
		*sum = ctx.result;
	return 0;
}
