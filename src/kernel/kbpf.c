/* SPDX-License-Identifier: MIT */
/*
 * Raw bpf(2) wrappers. The model: one function per command, each filling a
 * zeroed copy of the kernel's union bpf_attr and returning the syscall's
 * result with -1/errno folded into -errno.
 *
 * The union below mirrors include/uapi/linux/bpf.h of Linux 6.18 field by
 * field for the commands we use (the installed 6.1 headers lack map_extra's
 * neighbours, fd_array_cnt, arenas...). The kernel accepts any attr size: it
 * zero-fills a shorter one and requires the bytes past its own union to be
 * zero in a longer one, so mirroring only a prefix of each command is safe.
 */
#include "kernel.h"

#include "internal.h"

#include <uarena/common.h>

#include <linux/bpf.h> /* 6.1: only for the layout checks below */
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

enum kbpf_cmd {
	KBPF_MAP_CREATE = 0,
	KBPF_MAP_LOOKUP_ELEM = 1,
	KBPF_MAP_UPDATE_ELEM = 2,
	KBPF_MAP_DELETE_ELEM = 3,
	KBPF_MAP_GET_NEXT_KEY = 4,
	KBPF_PROG_LOAD = 5,
	KBPF_PROG_TEST_RUN = 10,
	KBPF_OBJ_GET_INFO_BY_FD = 15,
	KBPF_BTF_LOAD = 18,
	KBPF_MAP_LOOKUP_AND_DELETE_ELEM = 21,
	KBPF_MAP_FREEZE = 22,
};

#define KBPF_OBJ_NAME_LEN 16
#define ALIGNED_U64 uint64_t __attribute__((aligned(8)))

union kbpf_attr {
	struct { /* BPF_MAP_CREATE */
		uint32_t map_type;
		uint32_t key_size;
		uint32_t value_size;
		uint32_t max_entries;
		uint32_t map_flags;
		uint32_t inner_map_fd;
		uint32_t numa_node;
		char map_name[KBPF_OBJ_NAME_LEN];
		uint32_t map_ifindex;
		uint32_t btf_fd;
		uint32_t btf_key_type_id;
		uint32_t btf_value_type_id;
		uint32_t btf_vmlinux_value_type_id;
		ALIGNED_U64 map_extra;
		int32_t value_type_btf_obj_fd;
		int32_t map_token_fd;
	} map_create;
	struct { /* BPF_MAP_*_ELEM, GET_NEXT_KEY, FREEZE */
		uint32_t map_fd;
		ALIGNED_U64 key;
		ALIGNED_U64 value; /* or next_key */
		ALIGNED_U64 flags;
	} elem;
	struct { /* BPF_PROG_LOAD */
		uint32_t prog_type;
		uint32_t insn_cnt;
		ALIGNED_U64 insns;
		ALIGNED_U64 license;
		uint32_t log_level;
		uint32_t log_size;
		ALIGNED_U64 log_buf;
		uint32_t kern_version;
		uint32_t prog_flags;
		char prog_name[KBPF_OBJ_NAME_LEN];
		uint32_t prog_ifindex;
		uint32_t expected_attach_type;
		uint32_t prog_btf_fd;
		uint32_t func_info_rec_size;
		ALIGNED_U64 func_info;
		uint32_t func_info_cnt;
		uint32_t line_info_rec_size;
		ALIGNED_U64 line_info;
		uint32_t line_info_cnt;
		uint32_t attach_btf_id;
		uint32_t attach_prog_fd;
		uint32_t core_relo_cnt;
		ALIGNED_U64 fd_array;
		ALIGNED_U64 core_relos;
		uint32_t core_relo_rec_size;
		uint32_t log_true_size;
		int32_t prog_token_fd;
		uint32_t fd_array_cnt;
	} prog_load;
	struct { /* BPF_PROG_TEST_RUN */
		uint32_t prog_fd;
		uint32_t retval;
		uint32_t data_size_in;
		uint32_t data_size_out;
		ALIGNED_U64 data_in;
		ALIGNED_U64 data_out;
		uint32_t repeat;
		uint32_t duration;
		uint32_t ctx_size_in;
		uint32_t ctx_size_out;
		ALIGNED_U64 ctx_in;
		ALIGNED_U64 ctx_out;
		uint32_t flags;
		uint32_t cpu;
		uint32_t batch_size;
	} test;
	struct { /* BPF_OBJ_GET_INFO_BY_FD */
		uint32_t bpf_fd;
		uint32_t info_len;
		ALIGNED_U64 info;
	} info;
	struct { /* BPF_BTF_LOAD */
		ALIGNED_U64 btf;
		ALIGNED_U64 btf_log_buf;
		uint32_t btf_size;
		uint32_t btf_log_size;
		uint32_t btf_log_level;
		uint32_t btf_log_true_size;
		uint32_t btf_flags;
		int32_t btf_token_fd;
	} btf_load;
};

/*
 * The fields the installed 6.1 headers know must sit where they put them;
 * the newer ones follow the 6.18 uapi order (offsets computed by hand).
 */
#define SAME_OFFSET(ours, theirs) \
	_Static_assert(offsetof(union kbpf_attr, ours) == offsetof(union bpf_attr, theirs), #ours)
SAME_OFFSET(map_create.map_extra, map_extra);
SAME_OFFSET(prog_load.fd_array, fd_array);
SAME_OFFSET(prog_load.core_relo_rec_size, core_relo_rec_size);
SAME_OFFSET(test.batch_size, test.batch_size);
SAME_OFFSET(info.info, info.info);
SAME_OFFSET(btf_load.btf_log_level, btf_log_level);
_Static_assert(offsetof(union kbpf_attr, prog_load.fd_array_cnt) == 148, "fd_array_cnt");
_Static_assert(offsetof(union kbpf_attr, map_create.map_token_fd) == 76, "map_token_fd");
_Static_assert(offsetof(struct ua_kbpf_map_info, map_extra) ==
	       offsetof(struct bpf_map_info, map_extra), "bpf_map_info map_extra");

static inline uint64_t ptr_to_u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* The raw syscall: fd/0 or -errno. */
static int sys_bpf(enum kbpf_cmd cmd, union kbpf_attr *attr)
{
	long ret = syscall(__NR_bpf, (int)cmd, attr, sizeof(*attr));

	return ret < 0 ? -errno : (int)ret;
}

/* Why the kernel refused, in words a user can act on. */
static const char *explain(int err)
{
	switch (err) {
	case -EPERM:
		return "not permitted: run as root or with CAP_BPF (+CAP_PERFMON for arenas)";
	case -ENOSYS:
		return "bpf() is not available in this kernel";
	case -EOPNOTSUPP:
		return "not supported by this kernel (or its JIT)";
	default:
		return ua_strerror(err);
	}
}

/* An unprivileged arena create cannot be told apart from "no arenas" without this. */
static bool has_bpf_capability(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	const int cap_bpf = 39, cap_sys_admin = 21;

	if (syscall(SYS_capget, &hdr, data) != 0)
		return geteuid() == 0;
	return (data[cap_bpf / 32].effective & (1u << (cap_bpf % 32))) ||
	       (data[cap_sys_admin / 32].effective & (1u << (cap_sys_admin % 32)));
}

int ua_kbpf_available(char *why, size_t why_sz)
{
	struct ua_kbpf_map_attr attr = {
		.map_type = UA_KBPF_MAP_TYPE_ARENA,
		.max_entries = 1,
		.map_flags = UA_KBPF_F_MMAPABLE,
	};
	union kbpf_attr probe;
	int fd;

	/* An all-zero map create separates "no bpf()" (ENOSYS) from "bpf() refused". */
	memset(&probe, 0, sizeof(probe));
	fd = sys_bpf(KBPF_MAP_CREATE, &probe);
	if (fd == -ENOSYS)
		return ua_errf(why, why_sz, -ENOSYS, "kernel: bpf() is not available (ENOSYS)");
	if (fd >= 0)
		close(fd);
	if (!has_bpf_capability())
		return ua_errf(why, why_sz, -EPERM,
			       "kernel: not permitted: bpf() needs root or CAP_BPF (euid %u)",
			       (unsigned)geteuid());

	fd = ua_kbpf_map_create(&attr, NULL, 0);
	if (fd >= 0) {
		close(fd);
		if (why && why_sz)
			why[0] = '\0';
		return 0;
	}
	if (fd == -EINVAL)
		return ua_errf(why, why_sz, -EOPNOTSUPP,
			       "kernel: no BPF_MAP_TYPE_ARENA in this kernel (map create: EINVAL)");
	if (fd == -EOPNOTSUPP)
		return ua_errf(why, why_sz, -EOPNOTSUPP,
			       "kernel: arena maps need a JIT with arena support (EOPNOTSUPP)");
	return ua_errf(why, why_sz, fd, "kernel: arena map create failed: %s", explain(fd));
}

int ua_kbpf_map_create(const struct ua_kbpf_map_attr *a, char *err, size_t err_sz)
{
	union kbpf_attr attr;
	int fd;

	if (!a)
		return ua_errf(err, err_sz, -EINVAL, "kernel: map create: no attributes");
	memset(&attr, 0, sizeof(attr));
	attr.map_create.map_type = a->map_type;
	attr.map_create.key_size = a->key_size;
	attr.map_create.value_size = a->value_size;
	attr.map_create.max_entries = a->max_entries;
	attr.map_create.map_flags = a->map_flags;
	attr.map_create.inner_map_fd = a->inner_map_fd;
	attr.map_create.numa_node = a->numa_node;
	memcpy(attr.map_create.map_name, a->name, sizeof(a->name));
	attr.map_create.map_name[KBPF_OBJ_NAME_LEN - 1] = '\0';
	attr.map_create.btf_fd = a->btf_fd;
	attr.map_create.btf_key_type_id = a->btf_key_type_id;
	attr.map_create.btf_value_type_id = a->btf_value_type_id;
	attr.map_create.btf_vmlinux_value_type_id = a->btf_vmlinux_value_type_id;
	attr.map_create.map_extra = a->map_extra;
	fd = sys_bpf(KBPF_MAP_CREATE, &attr);
	if (fd < 0)
		return ua_errf(err, err_sz, fd, "kernel: map create '%s' (type %u): %s",
			       attr.map_create.map_name, a->map_type, explain(fd));
	return fd;
}

static int map_elem_cmd(enum kbpf_cmd cmd, int map_fd, const void *key, const void *value,
			uint64_t flags)
{
	union kbpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.elem.map_fd = (uint32_t)map_fd;
	attr.elem.key = ptr_to_u64(key);
	attr.elem.value = ptr_to_u64(value);
	attr.elem.flags = flags;
	return sys_bpf(cmd, &attr);
}

int ua_kbpf_map_lookup(int map_fd, const void *key, void *value, uint64_t flags)
{
	return map_elem_cmd(KBPF_MAP_LOOKUP_ELEM, map_fd, key, value, flags);
}

int ua_kbpf_map_update(int map_fd, const void *key, const void *value, uint64_t flags)
{
	return map_elem_cmd(KBPF_MAP_UPDATE_ELEM, map_fd, key, value, flags);
}

int ua_kbpf_map_delete(int map_fd, const void *key)
{
	return map_elem_cmd(KBPF_MAP_DELETE_ELEM, map_fd, key, NULL, 0);
}

int ua_kbpf_map_get_next_key(int map_fd, const void *key, void *next_key)
{
	return map_elem_cmd(KBPF_MAP_GET_NEXT_KEY, map_fd, key, next_key, 0);
}

int ua_kbpf_map_lookup_and_delete(int map_fd, const void *key, void *value)
{
	return map_elem_cmd(KBPF_MAP_LOOKUP_AND_DELETE_ELEM, map_fd, key, value, 0);
}

int ua_kbpf_map_freeze(int map_fd)
{
	return map_elem_cmd(KBPF_MAP_FREEZE, map_fd, NULL, NULL, 0);
}

int ua_kbpf_obj_get_info(int fd, void *info, uint32_t *info_len)
{
	union kbpf_attr attr;
	int ret;

	if (!info || !info_len)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = *info_len;
	attr.info.info = ptr_to_u64(info);
	ret = sys_bpf(KBPF_OBJ_GET_INFO_BY_FD, &attr);
	if (ret == 0)
		*info_len = attr.info.info_len;
	return ret;
}

int ua_kbpf_map_get_info(int map_fd, struct ua_kbpf_map_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return ua_kbpf_obj_get_info(map_fd, info, &len);
}

/*
 * Copies the most useful part of a kernel log after a prefix: the verifier
 * and the BTF checker state the reason on the last lines, so when the buffer
 * is too small the head is dropped, not the tail.
 */
static void append_log_tail(char *err, size_t err_sz, const char *log)
{
	size_t used, room, len;

	if (!err || !err_sz || !log)
		return;
	used = strlen(err);
	if (used + 1 >= err_sz)
		return;
	room = err_sz - used - 1;
	len = strlen(log);
	while (len && (log[len - 1] == '\n' || log[len - 1] == ' '))
		len--;
	if (len > room) {
		log += len - room;
		len = room;
	}
	memcpy(err + used, log, len);
	err[used + len] = '\0';
}

#define KBPF_LOG_SZ (1u << 20)

int ua_kbpf_btf_load(const void *btf, uint32_t btf_size, char *err, size_t err_sz)
{
	union kbpf_attr attr;
	char *log;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.btf_load.btf = ptr_to_u64(btf);
	attr.btf_load.btf_size = btf_size;
	fd = sys_bpf(KBPF_BTF_LOAD, &attr);
	if (fd >= 0 || !err || !err_sz)
		return fd;

	/* Load again with a log: the first attempt keeps the fast path log-free. */
	log = calloc(1, KBPF_LOG_SZ);
	if (!log)
		return ua_errf(err, err_sz, fd, "kernel: BTF load failed: %s", explain(fd));
	memset(&attr, 0, sizeof(attr));
	attr.btf_load.btf = ptr_to_u64(btf);
	attr.btf_load.btf_size = btf_size;
	attr.btf_load.btf_log_buf = ptr_to_u64(log);
	attr.btf_load.btf_log_size = KBPF_LOG_SZ;
	attr.btf_load.btf_log_level = 1;
	fd = sys_bpf(KBPF_BTF_LOAD, &attr);
	if (fd >= 0) {
		/* Accepted the second time: report success, the log is moot. */
		free(log);
		return fd;
	}
	ua_errf(err, err_sz, fd, "kernel: BTF load failed (%s): ", explain(fd));
	append_log_tail(err, err_sz, log);
	free(log);
	return fd;
}

static void fill_prog_load(union kbpf_attr *attr, const struct ua_kbpf_prog_attr *a,
			   char *log, uint32_t log_size, uint32_t log_level)
{
	memset(attr, 0, sizeof(*attr));
	attr->prog_load.prog_type = a->prog_type;
	attr->prog_load.insns = ptr_to_u64(a->insns);
	attr->prog_load.insn_cnt = a->insn_cnt;
	attr->prog_load.license = ptr_to_u64(a->license ? a->license : "GPL");
	attr->prog_load.expected_attach_type = a->expected_attach_type;
	attr->prog_load.prog_flags = a->prog_flags;
	memcpy(attr->prog_load.prog_name, a->name, sizeof(a->name));
	attr->prog_load.prog_name[KBPF_OBJ_NAME_LEN - 1] = '\0';
	attr->prog_load.prog_btf_fd = a->prog_btf_fd;
	attr->prog_load.attach_btf_id = a->attach_btf_id;
	attr->prog_load.func_info = ptr_to_u64(a->func_info);
	attr->prog_load.func_info_rec_size = a->func_info_rec_size;
	attr->prog_load.func_info_cnt = a->func_info_cnt;
	attr->prog_load.line_info = ptr_to_u64(a->line_info);
	attr->prog_load.line_info_rec_size = a->line_info_rec_size;
	attr->prog_load.line_info_cnt = a->line_info_cnt;
	attr->prog_load.fd_array = ptr_to_u64(a->fd_array);
	attr->prog_load.fd_array_cnt = a->fd_array_cnt;
	attr->prog_load.log_buf = ptr_to_u64(log);
	attr->prog_load.log_size = log ? log_size : 0;
	attr->prog_load.log_level = log ? log_level : 0;
}

int ua_kbpf_prog_load(const struct ua_kbpf_prog_attr *a, char *err, size_t err_sz)
{
	union kbpf_attr attr;
	char *log = NULL;
	uint32_t log_size = 0;
	int fd, first_err;

	if (!a || !a->insns || !a->insn_cnt)
		return ua_errf(err, err_sz, -EINVAL, "kernel: prog load: no instructions");
	if (a->log_buf && a->log_size) {
		fill_prog_load(&attr, a, a->log_buf, a->log_size, a->log_level ? a->log_level : 1);
		a->log_buf[0] = '\0';
	} else {
		fill_prog_load(&attr, a, NULL, 0, 0);
	}
	fd = sys_bpf(KBPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;

	/*
	 * Rejected: make sure we have a log to show (load again with one if
	 * needed). The first errno is the answer: a retry whose log overflows
	 * would report -ENOSPC instead.
	 */
	first_err = fd;
	if (a->log_buf && a->log_size) {
		log = a->log_buf;
	} else if (err && err_sz) {
		log_size = KBPF_LOG_SZ;
		log = calloc(1, log_size);
		if (log) {
			fill_prog_load(&attr, a, log, log_size, 1);
			fd = sys_bpf(KBPF_PROG_LOAD, &attr);
			if (fd >= 0) {
				free(log);
				return fd;
			}
			fd = first_err;
		}
	}
	if (fd == -EPERM || fd == -ENOSYS) {
		ua_errf(err, err_sz, fd, "kernel: prog load '%.15s': %s", a->name, explain(fd));
	} else {
		ua_errf(err, err_sz, fd, "kernel: verifier rejected program '%.15s' (%s):\n",
			a->name, ua_strerror(fd));
		append_log_tail(err, err_sz, log);
	}
	if (log != a->log_buf)
		free(log);
	return fd;
}

int ua_kbpf_prog_test_run(int prog_fd, struct ua_kbpf_test_run *run)
{
	union kbpf_attr attr;
	int ret;

	if (!run)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)prog_fd;
	attr.test.data_in = ptr_to_u64(run->data_in);
	attr.test.data_size_in = run->data_size_in;
	attr.test.data_out = ptr_to_u64(run->data_out);
	attr.test.data_size_out = run->data_size_out;
	attr.test.ctx_in = ptr_to_u64(run->ctx_in);
	attr.test.ctx_size_in = run->ctx_size_in;
	attr.test.ctx_out = ptr_to_u64(run->ctx_out);
	attr.test.ctx_size_out = run->ctx_size_out;
	attr.test.repeat = run->repeat;
	attr.test.flags = run->flags;
	attr.test.cpu = run->cpu;
	ret = sys_bpf(KBPF_PROG_TEST_RUN, &attr);
	/* The kernel reports the output sizes even on -ENOSPC (data_out too small). */
	run->data_size_out = attr.test.data_size_out;
	run->ctx_size_out = attr.test.ctx_size_out;
	if (ret == 0) {
		run->retval = attr.test.retval;
		run->duration = attr.test.duration;
	}
	return ret;
}

int ua_kbpf_arena_mmap(int map_fd, void *addr, size_t len, int prot, bool fixed, void **out)
{
	void *p;

	if (!out)
		return -EINVAL;
	/* NOREPLACE: a fixed address already in use is -EEXIST, never silently replaced. */
	p = mmap(addr, len, prot, MAP_SHARED | (fixed ? MAP_FIXED_NOREPLACE : 0), map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (fixed && p != addr) {
		/* Kernels before 4.17 ignore NOREPLACE and treat it as a hint. */
		munmap(p, len);
		return -EEXIST;
	}
	*out = p;
	return 0;
}
