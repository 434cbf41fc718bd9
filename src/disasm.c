/* SPDX-License-Identifier: MIT */
/*
 * Disassembler (format contract in disasm.h).
 *
 * Model: the opcode byte picks an operand shape from the shared ISA table
 * (isa.def via ua_isa_op(), owned by the interpreter); printable() then checks
 * that every field the printed text does not carry is zero, so that the text
 * is a faithful, reversible picture of the encoding (asm(disasm(x)) == x is a
 * test); format_insn() prints the kernel's text for the shape. Validity in the
 * verifier's sense (r10 writes, atomics on B/H) is not this module's job: a
 * wrong but representable insn prints, so a bad program can be read.
 */
#include "disasm.h"
#include "internal.h"
#include "isa.h"

#include <stdarg.h>

/* Helper ids 0..211 as include/uapi/linux/bpf.h __BPF_FUNC_MAPPER (6.18). */
static const char *const helper_names[] = {
	"bpf_unspec", "bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_map_delete_elem",
	"bpf_probe_read", "bpf_ktime_get_ns", "bpf_trace_printk", "bpf_get_prandom_u32",
	"bpf_get_smp_processor_id", "bpf_skb_store_bytes", "bpf_l3_csum_replace",
	"bpf_l4_csum_replace", "bpf_tail_call", "bpf_clone_redirect", "bpf_get_current_pid_tgid",
	"bpf_get_current_uid_gid", "bpf_get_current_comm", "bpf_get_cgroup_classid",
	"bpf_skb_vlan_push", "bpf_skb_vlan_pop", "bpf_skb_get_tunnel_key",
	"bpf_skb_set_tunnel_key", "bpf_perf_event_read", "bpf_redirect", "bpf_get_route_realm",
	"bpf_perf_event_output", "bpf_skb_load_bytes", "bpf_get_stackid", "bpf_csum_diff",
	"bpf_skb_get_tunnel_opt", "bpf_skb_set_tunnel_opt", "bpf_skb_change_proto",
	"bpf_skb_change_type", "bpf_skb_under_cgroup", "bpf_get_hash_recalc",
	"bpf_get_current_task", "bpf_probe_write_user", "bpf_current_task_under_cgroup",
	"bpf_skb_change_tail", "bpf_skb_pull_data", "bpf_csum_update", "bpf_set_hash_invalid",
	"bpf_get_numa_node_id", "bpf_skb_change_head", "bpf_xdp_adjust_head",
	"bpf_probe_read_str", "bpf_get_socket_cookie", "bpf_get_socket_uid", "bpf_set_hash",
	"bpf_setsockopt", "bpf_skb_adjust_room", "bpf_redirect_map", "bpf_sk_redirect_map",
	"bpf_sock_map_update", "bpf_xdp_adjust_meta", "bpf_perf_event_read_value",
	"bpf_perf_prog_read_value", "bpf_getsockopt", "bpf_override_return",
	"bpf_sock_ops_cb_flags_set", "bpf_msg_redirect_map", "bpf_msg_apply_bytes",
	"bpf_msg_cork_bytes", "bpf_msg_pull_data", "bpf_bind", "bpf_xdp_adjust_tail",
	"bpf_skb_get_xfrm_state", "bpf_get_stack", "bpf_skb_load_bytes_relative",
	"bpf_fib_lookup", "bpf_sock_hash_update", "bpf_msg_redirect_hash", "bpf_sk_redirect_hash",
	"bpf_lwt_push_encap", "bpf_lwt_seg6_store_bytes", "bpf_lwt_seg6_adjust_srh",
	"bpf_lwt_seg6_action", "bpf_rc_repeat", "bpf_rc_keydown", "bpf_skb_cgroup_id",
	"bpf_get_current_cgroup_id", "bpf_get_local_storage", "bpf_sk_select_reuseport",
	"bpf_skb_ancestor_cgroup_id", "bpf_sk_lookup_tcp", "bpf_sk_lookup_udp", "bpf_sk_release",
	"bpf_map_push_elem", "bpf_map_pop_elem", "bpf_map_peek_elem", "bpf_msg_push_data",
	"bpf_msg_pop_data", "bpf_rc_pointer_rel", "bpf_spin_lock", "bpf_spin_unlock",
	"bpf_sk_fullsock", "bpf_tcp_sock", "bpf_skb_ecn_set_ce", "bpf_get_listener_sock",
	"bpf_skc_lookup_tcp", "bpf_tcp_check_syncookie", "bpf_sysctl_get_name",
	"bpf_sysctl_get_current_value", "bpf_sysctl_get_new_value", "bpf_sysctl_set_new_value",
	"bpf_strtol", "bpf_strtoul", "bpf_sk_storage_get", "bpf_sk_storage_delete",
	"bpf_send_signal", "bpf_tcp_gen_syncookie", "bpf_skb_output", "bpf_probe_read_user",
	"bpf_probe_read_kernel", "bpf_probe_read_user_str", "bpf_probe_read_kernel_str",
	"bpf_tcp_send_ack", "bpf_send_signal_thread", "bpf_jiffies64", "bpf_read_branch_records",
	"bpf_get_ns_current_pid_tgid", "bpf_xdp_output", "bpf_get_netns_cookie",
	"bpf_get_current_ancestor_cgroup_id", "bpf_sk_assign", "bpf_ktime_get_boot_ns",
	"bpf_seq_printf", "bpf_seq_write", "bpf_sk_cgroup_id", "bpf_sk_ancestor_cgroup_id",
	"bpf_ringbuf_output", "bpf_ringbuf_reserve", "bpf_ringbuf_submit", "bpf_ringbuf_discard",
	"bpf_ringbuf_query", "bpf_csum_level", "bpf_skc_to_tcp6_sock", "bpf_skc_to_tcp_sock",
	"bpf_skc_to_tcp_timewait_sock", "bpf_skc_to_tcp_request_sock", "bpf_skc_to_udp6_sock",
	"bpf_get_task_stack", "bpf_load_hdr_opt", "bpf_store_hdr_opt", "bpf_reserve_hdr_opt",
	"bpf_inode_storage_get", "bpf_inode_storage_delete", "bpf_d_path", "bpf_copy_from_user",
	"bpf_snprintf_btf", "bpf_seq_printf_btf", "bpf_skb_cgroup_classid", "bpf_redirect_neigh",
	"bpf_per_cpu_ptr", "bpf_this_cpu_ptr", "bpf_redirect_peer", "bpf_task_storage_get",
	"bpf_task_storage_delete", "bpf_get_current_task_btf", "bpf_bprm_opts_set",
	"bpf_ktime_get_coarse_ns", "bpf_ima_inode_hash", "bpf_sock_from_file", "bpf_check_mtu",
	"bpf_for_each_map_elem", "bpf_snprintf", "bpf_sys_bpf", "bpf_btf_find_by_name_kind",
	"bpf_sys_close", "bpf_timer_init", "bpf_timer_set_callback", "bpf_timer_start",
	"bpf_timer_cancel", "bpf_get_func_ip", "bpf_get_attach_cookie", "bpf_task_pt_regs",
	"bpf_get_branch_snapshot", "bpf_trace_vprintk", "bpf_skc_to_unix_sock",
	"bpf_kallsyms_lookup_name", "bpf_find_vma", "bpf_loop", "bpf_strncmp", "bpf_get_func_arg",
	"bpf_get_func_ret", "bpf_get_func_arg_cnt", "bpf_get_retval", "bpf_set_retval",
	"bpf_xdp_get_buff_len", "bpf_xdp_load_bytes", "bpf_xdp_store_bytes",
	"bpf_copy_from_user_task", "bpf_skb_set_tstamp", "bpf_ima_file_hash", "bpf_kptr_xchg",
	"bpf_map_lookup_percpu_elem", "bpf_skc_to_mptcp_sock", "bpf_dynptr_from_mem",
	"bpf_ringbuf_reserve_dynptr", "bpf_ringbuf_submit_dynptr", "bpf_ringbuf_discard_dynptr",
	"bpf_dynptr_read", "bpf_dynptr_write", "bpf_dynptr_data",
	"bpf_tcp_raw_gen_syncookie_ipv4", "bpf_tcp_raw_gen_syncookie_ipv6",
	"bpf_tcp_raw_check_syncookie_ipv4", "bpf_tcp_raw_check_syncookie_ipv6",
	"bpf_ktime_get_tai_ns", "bpf_user_ringbuf_drain", "bpf_cgrp_storage_get",
	"bpf_cgrp_storage_delete",
};

const char *ua_disasm_helper_name(int32_t id)
{
	return id >= 0 && (size_t)id < ARRAY_SIZE(helper_names) ? helper_names[id] : NULL;
}

int32_t ua_disasm_helper_id(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(helper_names); i++)
		if (strlen(helper_names[i]) == len && !memcmp(helper_names[i], name, len))
			return (int32_t)i;
	return -1;
}

/* Indexed by BPF_OP >> 4, as kernel/bpf/disasm.c bpf_alu_string/bpf_jmp_string. */
static const char *const alu_ops[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian",
};
static const char *const jmp_ops[16] = {
	"jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=",
};
/* Indexed by BPF_SIZE >> 3. */
static const char *const ldst_types[4] = { "u32", "u16", "u8", "u64" };
static const char *const ldsx_types[4] = { "s32", "s16", "s8", NULL };

static bool is_div_mod(uint8_t code)
{
	return UA_OP(code) == UA_DIV || UA_OP(code) == UA_MOD;
}

static bool atomic_imm_known(int32_t imm, uint8_t size)
{
	switch (imm) {
	case UA_LOAD_ACQ:
	case UA_STORE_REL:
		return true;
	case UA_ADD: case UA_AND: case UA_OR: case UA_XOR:
	case UA_ADD | UA_FETCH: case UA_AND | UA_FETCH: case UA_OR | UA_FETCH:
	case UA_XOR | UA_FETCH: case UA_XCHG: case UA_CMPXCHG:
		return size == UA_W || size == UA_DW;
	}
	return false;
}

static bool alu_printable(const struct ua_insn *in, enum ua_isa_shape shape)
{
	bool is64 = UA_CLASS(in->code) == UA_ALU64;
	uint8_t op = UA_OP(in->code);

	if (shape == UA_SHAPE_ALU_K)
		return !in->src_reg && (!in->off || (in->off == 1 && is_div_mod(in->code)));
	if (op == UA_MOV && is64 && in->off == UA_ADDR_SPACE_CAST)
		return true; /* both address spaces are printed, imm is fully shown */
	if (in->imm)
		return false;
	if (op == UA_MOV)
		return !in->off || in->off == 8 || in->off == 16 || (is64 && in->off == 32);
	return !in->off || (in->off == 1 && is_div_mod(in->code));
}

/* Only ld_imm64 forms whose operands the text carries are printable. */
static bool ld_imm64_printable(const struct ua_insn *in, size_t n_avail)
{
	const struct ua_insn *hi = in + 1;

	if (n_avail < 2 || in->off || hi->code || hi->dst_reg || hi->src_reg || hi->off)
		return false;
	switch (in->src_reg) {
	case 0:
	case UA_PSEUDO_MAP_VALUE:
	case UA_PSEUDO_MAP_IDX_VALUE:
		return true;
	case UA_PSEUDO_MAP_FD:
	case UA_PSEUDO_BTF_ID:
	case UA_PSEUDO_FUNC:
	case UA_PSEUDO_MAP_IDX:
		return hi->imm == 0;
	}
	return false;
}

static bool printable(const struct ua_insn *in, size_t n_avail, const struct ua_isa_op *op)
{
	if (in->dst_reg >= UA_MAX_BPF_REG || in->src_reg >= UA_MAX_BPF_REG)
		return false;
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
		return alu_printable(in, op->shape);
	case UA_SHAPE_ALU_NEG:
		return !in->src_reg && !in->off && !in->imm;
	case UA_SHAPE_ALU_END:
		return !in->src_reg && !in->off && (in->imm == 16 || in->imm == 32 || in->imm == 64);
	case UA_SHAPE_LD_IMM64:
		return ld_imm64_printable(in, n_avail);
	case UA_SHAPE_LD_LEGACY:
		return !in->dst_reg && !in->off && (UA_MODE(in->code) == UA_IND || !in->src_reg);
	case UA_SHAPE_LDX:
	case UA_SHAPE_STX:
		return !in->imm;
	case UA_SHAPE_ST:
		return !in->src_reg;
	case UA_SHAPE_ATOMIC:
		return atomic_imm_known(in->imm, UA_SIZE(in->code));
	case UA_SHAPE_JA:
	case UA_SHAPE_MAY_GOTO:
		return !in->dst_reg && !in->src_reg && !in->imm;
	case UA_SHAPE_JA32:
		return !in->dst_reg && !in->src_reg && !in->off;
	case UA_SHAPE_JCOND_K:
		return !in->src_reg;
	case UA_SHAPE_JCOND_X:
		return !in->imm;
	case UA_SHAPE_CALL:
		return !in->dst_reg && !in->off && in->src_reg <= UA_PSEUDO_KFUNC_CALL;
	case UA_SHAPE_CALLX:
		return !in->src_reg && !in->off && !in->imm;
	case UA_SHAPE_EXIT:
		return !in->dst_reg && !in->src_reg && !in->off && !in->imm;
	}
	return false;
}

struct text {
	char *buf;
	size_t sz, len;
	bool overflow;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->sz - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->sz - t->len) {
		t->overflow = true;
		t->len = t->sz - 1;
	} else {
		t->len += (size_t)n;
	}
}

static void format_alu(struct text *t, const struct ua_insn *in, enum ua_isa_shape shape)
{
	char r = UA_CLASS(in->code) == UA_ALU ? 'w' : 'r';
	uint8_t op = UA_OP(in->code);
	const char *op_str = alu_ops[op >> 4];

	if (op == UA_DIV && in->off == 1)
		op_str = "s/=";
	else if (op == UA_MOD && in->off == 1)
		op_str = "s%=";
	if (shape == UA_SHAPE_ALU_END) {
		if (UA_CLASS(in->code) == UA_ALU64)
			put(t, "r%d = bswap%d r%d", in->dst_reg, in->imm, in->dst_reg);
		else
			put(t, "r%d = %s%d r%d", in->dst_reg,
			    UA_SRC(in->code) == UA_TO_BE ? "be" : "le", in->imm, in->dst_reg);
	} else if (shape == UA_SHAPE_ALU_NEG) {
		put(t, "%c%d = -%c%d", r, in->dst_reg, r, in->dst_reg);
	} else if (op == UA_MOV && r == 'r' && shape == UA_SHAPE_ALU_X &&
		   in->off == UA_ADDR_SPACE_CAST) {
		put(t, "r%d = addr_space_cast(r%d, %u, %u)", in->dst_reg, in->src_reg,
		    (uint32_t)in->imm >> 16, (uint16_t)in->imm);
	} else if (shape == UA_SHAPE_ALU_X) {
		const char *sx = "";

		if (op == UA_MOV)
			sx = in->off == 8 ? "(s8)" : in->off == 16 ? "(s16)" : in->off == 32 ? "(s32)" : "";
		put(t, "%c%d %s %s%c%d", r, in->dst_reg, op_str, sx, r, in->src_reg);
	} else {
		put(t, "%c%d %s %d", r, in->dst_reg, op_str, in->imm);
	}
}

static void format_ld_imm64(struct text *t, const struct ua_insn *in)
{
	uint64_t imm = ((uint64_t)(uint32_t)in[1].imm << 32) | (uint32_t)in->imm;

	put(t, "r%d = ", in->dst_reg);
	switch (in->src_reg) {
	case UA_PSEUDO_MAP_FD:
		put(t, "map[id:%u]", (uint32_t)in->imm);
		break;
	case UA_PSEUDO_MAP_VALUE:
		put(t, "map[id:%u][0]+%u", (uint32_t)in->imm, (uint32_t)in[1].imm);
		break;
	case UA_PSEUDO_MAP_IDX:
		put(t, "map[idx:%u]", (uint32_t)in->imm);
		break;
	case UA_PSEUDO_MAP_IDX_VALUE:
		put(t, "map[idx:%u]+%u", (uint32_t)in->imm, (uint32_t)in[1].imm);
		break;
	case UA_PSEUDO_FUNC:
		put(t, "subprog[%+d]", in->imm);
		break;
	case UA_PSEUDO_BTF_ID:
		put(t, "btf_id[%u]", (uint32_t)in->imm);
		break;
	default:
		put(t, "0x%llx", (unsigned long long)imm);
	}
}

static void format_mem(struct text *t, const struct ua_insn *in)
{
	uint8_t size = UA_SIZE(in->code) >> 3;

	switch (UA_CLASS(in->code)) {
	case UA_LDX:
		put(t, "r%d = *(%s *)(r%d %+d)", in->dst_reg,
		    UA_MODE(in->code) == UA_MEMSX ? ldsx_types[size] : ldst_types[size],
		    in->src_reg, in->off);
		break;
	case UA_ST:
		put(t, "*(%s *)(r%d %+d) = %d", ldst_types[size], in->dst_reg, in->off, in->imm);
		break;
	case UA_LD: /* legacy packet loads */
		if (UA_MODE(in->code) == UA_ABS)
			put(t, "r0 = *(%s *)skb[%d]", ldst_types[size], in->imm);
		else
			put(t, "r0 = *(%s *)skb[r%d + %d]", ldst_types[size], in->src_reg, in->imm);
		break;
	default:
		put(t, "*(%s *)(r%d %+d) = r%d", ldst_types[size], in->dst_reg, in->off,
		    in->src_reg);
	}
}

static void format_atomic(struct text *t, const struct ua_insn *in)
{
	static const char *const fetch_names[16] = {
		[UA_ADD >> 4] = "add", [UA_AND >> 4] = "and", [UA_OR >> 4] = "or",
		[UA_XOR >> 4] = "xor",
	};
	const char *type = ldst_types[UA_SIZE(in->code) >> 3];
	const char *w64 = UA_SIZE(in->code) == UA_DW ? "64" : "";

	switch (in->imm) {
	case UA_LOAD_ACQ:
		put(t, "r%d = load_acquire((%s *)(r%d %+d))", in->dst_reg, type, in->src_reg,
		    in->off);
		break;
	case UA_STORE_REL:
		put(t, "store_release((%s *)(r%d %+d), r%d)", type, in->dst_reg, in->off,
		    in->src_reg);
		break;
	case UA_CMPXCHG:
		put(t, "r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)", w64, type, in->dst_reg,
		    in->off, in->src_reg);
		break;
	case UA_XCHG:
		put(t, "r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)", in->src_reg, w64, type,
		    in->dst_reg, in->off, in->src_reg);
		break;
	default:
		if (in->imm & UA_FETCH)
			put(t, "r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)", in->src_reg, w64,
			    fetch_names[(in->imm & 0xf0) >> 4], type, in->dst_reg, in->off,
			    in->src_reg);
		else
			put(t, "lock *(%s *)(r%d %+d) %s r%d", type, in->dst_reg, in->off,
			    alu_ops[in->imm >> 4], in->src_reg);
	}
}

static void format_call(struct text *t, const struct ua_insn *in,
			const struct ua_disasm_opts *opts)
{
	ua_disasm_call_name_fn cb = OPTS_GET(opts, call_name, NULL);
	const char *name = NULL;

	/* The kernel's __func_get_name order: helper table, callback, fallback. */
	if (in->src_reg == 0)
		name = ua_disasm_helper_name(in->imm);
	if (!name && cb && in->src_reg != UA_PSEUDO_CALL)
		name = cb(OPTS_GET(opts, ctx, NULL), in);
	if (in->src_reg == UA_PSEUDO_CALL)
		put(t, "call pc%+d", in->imm);
	else
		put(t, "call %s#%d", name ? name : in->src_reg ? "kernel-function" : "unknown",
		    in->imm);
}

static void format_jmp(struct text *t, const struct ua_insn *in, enum ua_isa_shape shape,
		       const struct ua_disasm_opts *opts)
{
	char r = UA_CLASS(in->code) == UA_JMP32 ? 'w' : 'r';
	const char *op = jmp_ops[UA_OP(in->code) >> 4];

	switch (shape) {
	case UA_SHAPE_JA:
		put(t, "goto pc%+d", in->off);
		break;
	case UA_SHAPE_JA32:
		put(t, "gotol pc%+d", in->imm);
		break;
	case UA_SHAPE_MAY_GOTO:
		put(t, "may_goto pc%+d", in->off);
		break;
	case UA_SHAPE_EXIT:
		put(t, "exit");
		break;
	case UA_SHAPE_CALL:
		format_call(t, in, opts);
		break;
	case UA_SHAPE_CALLX:
		put(t, "callx r%d", in->dst_reg);
		break;
	case UA_SHAPE_JCOND_X:
		put(t, "if %c%d %s %c%d goto pc%+d", r, in->dst_reg, op, r, in->src_reg, in->off);
		break;
	default:
		put(t, "if %c%d %s 0x%x goto pc%+d", r, in->dst_reg, op, (uint32_t)in->imm, in->off);
	}
}

/* ---- conformance syntax: the bpf_conformance assembler's mnemonics ---- */

static const char *const conf_alu_names[16] = {
	"add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor", "mov", "arsh",
};
static const char *const conf_jmp_names[16] = {
	"ja", "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", NULL, NULL, "jlt", "jle",
	"jslt", "jsle",
};
static const char *const conf_sizes[4] = { "w", "h", "b", "dw" };

/* "[%rN+off]" / "[%rN-off]" / "[%rN]" */
static void conf_mem(struct text *t, int reg, int16_t off)
{
	if (off)
		put(t, "[%%r%d%+d]", reg, off);
	else
		put(t, "[%%r%d]", reg);
}

static int conf_alu(struct text *t, const struct ua_insn *in, enum ua_isa_shape shape)
{
	const char *w = UA_CLASS(in->code) == UA_ALU ? "32" : "";
	uint8_t op = UA_OP(in->code);
	const char *name = conf_alu_names[op >> 4];

	if (shape == UA_SHAPE_ALU_END) {
		put(t, "%s%d %%r%d",
		    UA_CLASS(in->code) == UA_ALU64 ? "bswap" : UA_SRC(in->code) == UA_TO_BE ? "be" : "le",
		    in->imm, in->dst_reg);
		return 1;
	}
	if (shape == UA_SHAPE_ALU_NEG) {
		put(t, "neg%s %%r%d", w, in->dst_reg);
		return 1;
	}
	if (in->off == 1 && (op == UA_DIV || op == UA_MOD))
		name = op == UA_DIV ? "sdiv" : "smod";
	if (shape == UA_SHAPE_ALU_K) {
		put(t, "%s%s %%r%d, %d", name, w, in->dst_reg, in->imm);
		return 1;
	}
	if (op == UA_MOV && in->off == UA_ADDR_SPACE_CAST && !*w)
		return -EINVAL; /* no conformance spelling for addr_space_cast */
	if (op == UA_MOV && in->off)
		put(t, "movsx%d%s %%r%d, %%r%d", in->off, *w ? "32" : "64", in->dst_reg, in->src_reg);
	else
		put(t, "%s%s %%r%d, %%r%d", name, w, in->dst_reg, in->src_reg);
	return 1;
}

static int conf_memory(struct text *t, const struct ua_insn *in, enum ua_isa_shape shape)
{
	const char *size = conf_sizes[UA_SIZE(in->code) >> 3];

	switch (shape) {
	case UA_SHAPE_LD_IMM64:
		if (in->src_reg)
			return -EINVAL; /* pseudo loads have no conformance spelling */
		put(t, "lddw %%r%d, 0x%llx", in->dst_reg,
		    (unsigned long long)(((uint64_t)(uint32_t)in[1].imm << 32) | (uint32_t)in->imm));
		return 2;
	case UA_SHAPE_LDX:
		put(t, "ldx%s%s %%r%d, ", UA_MODE(in->code) == UA_MEMSX ? "s" : "", size, in->dst_reg);
		conf_mem(t, in->src_reg, in->off);
		return 1;
	case UA_SHAPE_ST:
		put(t, "st%s ", size);
		conf_mem(t, in->dst_reg, in->off);
		put(t, ", %d", in->imm);
		return 1;
	case UA_SHAPE_STX:
		put(t, "stx%s ", size);
		conf_mem(t, in->dst_reg, in->off);
		put(t, ", %%r%d", in->src_reg);
		return 1;
	default: { /* atomics */
		const char *w = UA_SIZE(in->code) == UA_W ? "32" : "";

		if (in->imm == UA_LOAD_ACQ || in->imm == UA_STORE_REL)
			return -EINVAL;
		if (in->imm == UA_XCHG || in->imm == UA_CMPXCHG)
			put(t, "lock %s%s ", in->imm == UA_XCHG ? "xchg" : "cmpxchg", w);
		else
			put(t, "lock %s%s%s ", in->imm & UA_FETCH ? "fetch " : "",
			    conf_alu_names[(in->imm & 0xf0) >> 4], w);
		conf_mem(t, in->dst_reg, in->off);
		put(t, ", %%r%d", in->src_reg);
		return 1;
	}
	}
}

static int conf_jump(struct text *t, const struct ua_insn *in, enum ua_isa_shape shape)
{
	const char *w = UA_CLASS(in->code) == UA_JMP32 ? "32" : "";
	const char *name = conf_jmp_names[UA_OP(in->code) >> 4];

	switch (shape) {
	case UA_SHAPE_JA:
		put(t, "ja %+d", in->off);
		return 1;
	case UA_SHAPE_JA32:
		put(t, "ja32 %+d", in->imm);
		return 1;
	case UA_SHAPE_EXIT:
		put(t, "exit");
		return 1;
	case UA_SHAPE_CALLX:
		put(t, "call %%r%d", in->dst_reg);
		return 1;
	case UA_SHAPE_CALL:
		if (in->src_reg == UA_PSEUDO_CALL)
			put(t, "call local %+d", in->imm);
		else
			put(t, "call %s%d", in->src_reg ? "runtime " : "", in->imm);
		return 1;
	case UA_SHAPE_JCOND_K:
		put(t, "%s%s %%r%d, %d, %+d", name, w, in->dst_reg, in->imm, in->off);
		return 1;
	case UA_SHAPE_JCOND_X:
		put(t, "%s%s %%r%d, %%r%d, %+d", name, w, in->dst_reg, in->src_reg, in->off);
		return 1;
	default:
		return -EINVAL; /* may_goto has no conformance spelling */
	}
}

static int format_conformance(struct text *t, const struct ua_insn *in,
			      const struct ua_isa_op *op)
{
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
	case UA_SHAPE_ALU_NEG:
	case UA_SHAPE_ALU_END:
		return conf_alu(t, in, op->shape);
	case UA_SHAPE_LD_IMM64:
	case UA_SHAPE_LDX:
	case UA_SHAPE_ST:
	case UA_SHAPE_STX:
	case UA_SHAPE_ATOMIC:
		return conf_memory(t, in, op->shape);
	case UA_SHAPE_LD_LEGACY:
		return -EINVAL;
	default:
		return conf_jump(t, in, op->shape);
	}
}

static int format_insn(struct text *t, const struct ua_insn *in, size_t n_avail,
		       const struct ua_disasm_opts *opts)
{
	const struct ua_isa_op *op = ua_isa_op(in->code);

	if (!n_avail || !op || !printable(in, n_avail, op))
		return -EINVAL;
	if (OPTS_GET(opts, syntax, UA_DISASM_KERNEL) == UA_DISASM_CONFORMANCE)
		return format_conformance(t, in, op);
	switch (op->shape) {
	case UA_SHAPE_ALU_K:
	case UA_SHAPE_ALU_X:
	case UA_SHAPE_ALU_NEG:
	case UA_SHAPE_ALU_END:
		format_alu(t, in, op->shape);
		break;
	case UA_SHAPE_LD_IMM64:
		format_ld_imm64(t, in);
		return 2;
	case UA_SHAPE_ATOMIC:
		format_atomic(t, in);
		break;
	case UA_SHAPE_LD_LEGACY:
	case UA_SHAPE_LDX:
	case UA_SHAPE_ST:
	case UA_SHAPE_STX:
		format_mem(t, in);
		break;
	default:
		format_jmp(t, in, op->shape, opts);
	}
	return 1;
}

int ua_disasm_insn_opts(const struct ua_insn *insn, size_t n_avail, char *buf, size_t sz,
			const struct ua_disasm_opts *opts)
{
	struct text t = { buf, sz, 0, false };
	int ret;

	if (!insn || !buf || !sz || !OPTS_VALID(opts, ua_disasm_opts))
		return -EINVAL;
	buf[0] = '\0';
	ret = format_insn(&t, insn, n_avail, opts);
	if (ret < 0) {
		snprintf(buf, sz, "invalid");
		return ret;
	}
	return t.overflow ? -ENOSPC : ret;
}

int ua_disasm_insn(const struct ua_insn *insn, size_t n_avail, char *buf, size_t sz)
{
	return ua_disasm_insn_opts(insn, n_avail, buf, sz, NULL);
}

int ua_disasm_prog(const struct ua_insn *insns, size_t n, FILE *out,
		   const struct ua_disasm_opts *opts)
{
	bool no_opcode = OPTS_GET(opts, no_opcode, false);
	bool conformance = OPTS_GET(opts, syntax, UA_DISASM_KERNEL) == UA_DISASM_CONFORMANCE;
	char *err_buf = OPTS_GET(opts, err_buf, NULL);
	size_t err_sz = OPTS_GET(opts, err_buf_sz, 0);
	int result = 0;

	if ((!insns && n) || !out || !OPTS_VALID(opts, ua_disasm_opts))
		return ua_errf(err_buf, err_sz, -EINVAL, "disasm: invalid arguments");
	for (size_t i = 0; i < n;) {
		const struct ua_insn *in = &insns[i];
		char text[192];
		int used = ua_disasm_insn_opts(in, n - i, text, sizeof(text), opts);

		if (used < 0) {
			snprintf(text, sizeof(text), "%sinvalid: dst=%d src=%d off=%d imm=%d",
				 conformance ? "# " : "", in->dst_reg, in->src_reg, in->off, in->imm);
			if (!result)
				result = ua_errf(err_buf, err_sz, -EINVAL,
						 "disasm: insn %zu: cannot decode (code 0x%02x)", i,
						 in->code);
			used = 1;
		}
		if (conformance)
			fprintf(out, "%s\n", text);
		else if (no_opcode)
			fprintf(out, "%4zu: %s\n", i, text);
		else
			fprintf(out, "%4zu: (%02x) %s\n", i, in->code, text);
		i += (size_t)used;
	}
	if (ferror(out))
		return ua_errf(err_buf, err_sz, -EIO, "disasm: write failed");
	return result;
}
