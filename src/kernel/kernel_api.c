/* SPDX-License-Identifier: MIT */
/*
 * The public face of the kernel backend (include/uarena/kernel.h): one call
 * that runs a program in uarena and in the kernel and reports differences.
 * Model: open in uarena (only the chosen program prepared), build the kernel
 * twin from that (src/kernel/kdiff.c), run both with the same input pinned
 * to the same CPU id, compare return values, output packets, then maps and
 * arena pages. That is done once per uarena engine (interpreter, then JIT),
 * each from a fresh open and a fresh twin since a run changes maps and the
 * arena; each engine's report lines carry its name as a prefix.
 */
#include "kernel.h"

#include "elf_reader.h"
#include "internal.h"

#include <uarena/kernel.h>
#include <uarena/object.h>

#include <stdlib.h>

#define OUT_SLACK 4096 /* room for programs that grow the packet */
#define CTX_MAX 65535  /* the kernel's limit on a SYSCALL program's ctx */

/*
 * The default packet of xdp/tc/socket programs run without --data: Ethernet,
 * IPv4 10.0.0.1 -> 10.0.0.2, UDP 12345 -> 53, 22 payload bytes; 64 bytes.
 */
static const uint8_t default_packet[64] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,       /* Ethernet */
	0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0x66, 0xb8, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
	0x30, 0x39, 0x00, 0x35, 0, 30, 0, 0,                               /* UDP */
	'u', 'a', 'r', 'e', 'n', 'a', ' ', 'd', 'i', 'f', 'f', ' ',
	'p', 'a', 'c', 'k', 'e', 't', 0, 0, 0, 0,
};

static bool is_packet_prog(enum ua_prog_type type)
{
	return type == UA_PROG_TYPE_XDP || type == UA_PROG_TYPE_SCHED_CLS ||
	       type == UA_PROG_TYPE_SCHED_ACT || type == UA_PROG_TYPE_SOCKET_FILTER;
}

/*
 * Bytes of ctx a SYSCALL program reads or writes: the end of the furthest
 * access through r1 as it was at entry (or a mov64 copy of it), tracked in
 * one linear pass that forgets a register when it is overwritten and r1-r5
 * at a call. A subprogram's r1 counts as the ctx too (it often is; a larger
 * ctx than needed is harmless). The kernel refuses a test run with a smaller
 * ctx (its verifier records the same maximum), uarena would fault.
 */
static uint32_t ctx_bytes_used(const struct ua_program *p)
{
	size_t n = 0;
	const struct ua_insn *insns = ua_program_insns(p, &n);
	uint32_t ctx_regs = 1u << 1, need = 0;
	bool *subprog = insns && n ? calloc(n, sizeof(*subprog)) : NULL;

	for (size_t i = 0; subprog && i < n; i++) {
		int64_t target = (int64_t)i + insns[i].imm + 1;

		if (insns[i].code == (UA_JMP | UA_CALL) && insns[i].src_reg == UA_PSEUDO_CALL &&
		    target > 0 && target < (int64_t)n)
			subprog[target] = true;
	}
	for (size_t i = 0; insns && i < n; i++) {
		const struct ua_insn *in = &insns[i];
		uint8_t cls = UA_CLASS(in->code);
		static const uint8_t size_bytes[4] = { 4, 2, 1, 8 };
		uint32_t size = size_bytes[(in->code >> 3) & 3];
		uint8_t base = cls == UA_LDX ? in->src_reg : in->dst_reg;

		if (subprog && subprog[i])
			ctx_regs = 1u << 1;
		if ((cls == UA_LDX || cls == UA_ST || cls == UA_STX) && (ctx_regs & (1u << base)) &&
		    in->off >= 0 && (uint32_t)in->off + size > need)
			need = (uint32_t)in->off + size;
		ctx_regs = ua_kctx_regs_after(in, ctx_regs);
		if (in->code == (UA_LD | UA_DW | UA_IMM))
			i++;
	}
	free(subprog);
	return need > CTX_MAX ? CTX_MAX : need;
}

struct runs {
	struct ua_test_run_opts u;
	struct ua_kbpf_test_run k;
	uint8_t *uout, *kout;
	void *zero_ctx; /* the default ctx of a SYSCALL program run without one */
	char uerr[512];
};

static int run_both(struct ua_kdiff *d, struct ua_program *p, const struct ua_kernel_diff_opts *o,
		    bool jit, struct runs *r, char *err, size_t err_sz)
{
	const char *name = ua_program_name(p);
	uint32_t data_sz = OPTS_GET(o, data_size_in, 0), cap;
	const void *data = OPTS_GET(o, data_in, NULL);
	const void *ctx = OPTS_GET(o, ctx_in, NULL);
	uint32_t ctx_sz = OPTS_GET(o, ctx_size_in, 0);
	uint32_t cpu = OPTS_GET(o, cpu, 0);
	int ret;

	if (!data && is_packet_prog(ua_program_type(p))) {
		data = default_packet;
		data_sz = sizeof(default_packet);
	}
	if (!ctx && ua_program_type(p) == UA_PROG_TYPE_SYSCALL) {
		ctx_sz = ctx_bytes_used(p);
		if (ctx_sz && !(ctx = r->zero_ctx = calloc(1, ctx_sz)))
			return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
	}
	cap = data_sz + OUT_SLACK;

	r->uout = calloc(1, cap);
	r->kout = calloc(1, cap);
	if (!r->uout || !r->kout)
		return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
	r->u = (struct ua_test_run_opts){
		.sz = sizeof(r->u), .data_in = data, .data_size_in = data_sz,
		.data_out = data ? r->uout : NULL, .data_size_out = data ? cap : 0,
		.ctx_in = ctx, .ctx_size_in = ctx_sz,
		.flags = UA_F_TEST_RUN_ON_CPU | (jit ? UA_F_TEST_RUN_JIT : 0), .cpu = cpu,
		.err_buf = r->uerr, .err_buf_sz = sizeof(r->uerr),
	};
	/* SYSCALL programs get their ctx written back: give the kernel a copy. */
	void *kctx = NULL;

	if (r->u.ctx_size_in) {
		kctx = malloc(r->u.ctx_size_in);
		if (!kctx)
			return ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
		memcpy(kctx, r->u.ctx_in, r->u.ctx_size_in);
	}
	r->k = (struct ua_kbpf_test_run){
		.data_in = data, .data_size_in = data_sz,
		.data_out = data ? r->kout : NULL, .data_size_out = data ? cap : 0,
		.ctx_in = kctx, .ctx_size_in = r->u.ctx_size_in,
	};
	ret = ua_program_test_run(p, &r->u);
	if (ret) {
		free(kctx);
		return ua_errf(err, err_sz, ret, "uarena: prog '%s' did not run (%s): %s", name,
			       jit ? "jit" : "interp", r->uerr[0] ? r->uerr : ua_strerror(ret));
	}
	ret = ua_kdiff_kernel_test_run(d, name, cpu, &r->k);
	free(kctx);
	if (ret)
		return ua_errf(err, err_sz, ret, "kernel: prog '%s' did not run: BPF_PROG_TEST_RUN %s",
			       name, ua_strerror(ret));
	return 0;
}

static int compare_runs(const struct runs *r, const char *name, FILE *out)
{
	int diffs = 0;

	if (r->u.retval != r->k.retval) {
		fprintf(out, "prog '%s': retval uarena %u (%d), kernel %u (%d)\n", name, r->u.retval,
			(int32_t)r->u.retval, r->k.retval, (int32_t)r->k.retval);
		diffs++;
	}
	if (r->u.data_size_out != r->k.data_size_out) {
		fprintf(out, "prog '%s': packet out uarena %u bytes, kernel %u bytes\n", name,
			r->u.data_size_out, r->k.data_size_out);
		diffs++;
	} else {
		for (uint32_t i = 0; i < r->u.data_size_out; i++) {
			if (r->uout[i] != r->kout[i]) {
				fprintf(out, "prog '%s': packet out differs at byte %u: uarena %02x, kernel %02x\n",
					name, i, r->uout[i], r->kout[i]);
				diffs++;
				break;
			}
		}
	}
	return diffs;
}

/* Copies text to out with prefix before every line. */
static void prefix_lines(FILE *out, const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		fprintf(out, "%s%.*s\n", prefix, (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
		p = nl ? nl + 1 : NULL;
	}
}

/*
 * One engine against a kernel twin of its own: programs change their maps
 * and the arena, so each engine starts from a fresh open of the object and
 * a fresh twin. Report lines go to out (may be NULL) prefixed "ENGINE: ".
 */
static int diff_engine(const char *path, const char *prog, const struct ua_kernel_diff_opts *opts,
		       bool jit, FILE *out, char *err, size_t err_sz)
{
	struct ua_object *obj = NULL;
	struct ua_kdiff *d = NULL;
	struct ua_program *p;
	struct runs r = { 0 };
	char *report = NULL;
	size_t report_len = 0;
	FILE *buf = NULL;
	int ret, diffs;

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = err_sz, .only_prog = prog);
	ret = ua_object_open(path, &oo, &obj);
	if (ret)
		return ret;
	p = prog ? ua_object_find_program(obj, prog) : ua_object_next_program(obj, NULL);
	if (!p || !ua_program_prepared(p)) {
		ret = ua_errf(err, err_sz, -ENOENT, "kernel: diff: %s: no program %s", path,
			      prog ? prog : "in the object");
		goto out;
	}
	ret = ua_kdiff_create(obj, path, ua_program_name(p), &d, err, err_sz);
	if (ret)
		goto out;
	ret = run_both(d, p, opts, jit, &r, err, err_sz);
	if (ret)
		goto out;
	buf = open_memstream(&report, &report_len);
	if (!buf) {
		ret = ua_errf(err, err_sz, -ENOMEM, "kernel: diff: no memory");
		goto out;
	}
	diffs = compare_runs(&r, ua_program_name(p), buf);
	ret = ua_kdiff_compare(d, buf);
	if (ret >= 0)
		ret += diffs;
	else
		ua_errf(err, err_sz, ret, "kernel: diff: comparing state: %s", ua_strerror(ret));
	fclose(buf);
	if (ret >= 0 && out)
		prefix_lines(out, jit ? "jit: " : "interp: ", report);
	free(report);
out:
	free(r.uout);
	free(r.kout);
	free(r.zero_ctx);
	ua_kdiff_destroy(d);
	ua_object_close(obj);
	return ret;
}

int ua_kernel_diff(const char *path, const struct ua_kernel_diff_opts *opts)
{
	char *err = OPTS_GET(opts, err_buf, NULL);
	size_t err_sz = OPTS_GET(opts, err_buf_sz, 0);
	const char *prog = OPTS_GET(opts, prog, NULL);
	FILE *out = OPTS_GET(opts, report, NULL);
	uint32_t engines = OPTS_GET(opts, engines, 0);
	char why[256];
	int ret, total = 0;

	if (!OPTS_VALID(opts, ua_kernel_diff_opts))
		return ua_errf(err, err_sz, -EINVAL, "kernel: diff: bad opts (unknown fields set)");
	if (!path)
		return ua_errf(err, err_sz, -EINVAL, "kernel: diff: no object path");
	if (engines & ~(UA_KERNEL_DIFF_INTERP | UA_KERNEL_DIFF_JIT))
		return ua_errf(err, err_sz, -EINVAL, "kernel: diff: unknown engines 0x%x", engines);
	if (!engines)
		engines = UA_KERNEL_DIFF_INTERP | UA_KERNEL_DIFF_JIT;
	ret = ua_kbpf_available(why, sizeof(why));
	if (ret)
		return ua_errf(err, err_sz, ret, "%s", why);
	for (int jit = 0; jit < 2; jit++) {
		if (!(engines & (jit ? UA_KERNEL_DIFF_JIT : UA_KERNEL_DIFF_INTERP)))
			continue;
		ret = diff_engine(path, prog, opts, jit, out, err, err_sz);
		if (ret < 0)
			return ret;
		total += ret;
	}
	return total;
}

/* A program as libbpf finds one: global FUNC in an executable section other than .text. */
static bool is_program_symbol(const struct ua_elf *elf, size_t idx, const char **name)
{
	struct ua_elf_sec sec;
	GElf_Sym sym;

	return ua_elf_symbol(elf, idx, &sym, name) == 0 && *name && **name &&
	       GELF_ST_TYPE(sym.st_info) == STT_FUNC && GELF_ST_BIND(sym.st_info) == STB_GLOBAL &&
	       ua_elf_section(elf, sym.st_shndx, &sec) == 0 && sec.name &&
	       (sec.shdr.sh_flags & SHF_EXECINSTR) && strcmp(sec.name, ".text") != 0;
}

int ua_kernel_list_programs(const char *path, char ***names_out, char *err, size_t err_sz)
{
	struct ua_elf elf;
	uint8_t *buf = NULL;
	size_t len = 0, n = 0, bytes = 0;
	const char *name;
	char **names, *strs;
	int ret;

	if (!path || !names_out)
		return ua_errf(err, err_sz, -EINVAL, "kernel: list programs: no path");
	*names_out = NULL;
	ret = ua_kfile_read(path, &buf, &len);
	if (ret)
		return ua_errf(err, err_sz, ret, "kernel: cannot read %s: %s", path, ua_strerror(ret));
	ret = ua_elf_open_mem(buf, len, err, err_sz, &elf);
	if (ret) {
		free(buf);
		return ret;
	}
	for (size_t i = 1; i < elf.n_syms; i++)
		if (is_program_symbol(&elf, i, &name)) {
			n++;
			bytes += strlen(name) + 1;
		}
	/* One block: the pointer array, then the strings. */
	names = malloc((n + 1) * sizeof(*names) + bytes);
	if (!names) {
		ret = ua_errf(err, err_sz, -ENOMEM, "kernel: list programs: no memory");
	} else {
		strs = (char *)(names + n + 1);
		n = 0;
		for (size_t i = 1; i < elf.n_syms; i++)
			if (is_program_symbol(&elf, i, &name)) {
				names[n++] = strs;
				strs = stpcpy(strs, name) + 1;
			}
		names[n] = NULL;
		*names_out = names;
		ret = (int)n;
	}
	ua_elf_close(&elf);
	free(buf);
	return ret;
}
