/* SPDX-License-Identifier: MIT */
/*
 * The raw bpf() layer against the running kernel: every wrapper's success
 * values and exact errnos, the verifier log in the error buffer, the
 * unprivileged path, vmlinux BTF kfunc lookup. Each test needing bpf() skips
 * with the probe's reason when this process cannot use it.
 */
#include "test.h"
#include "util.h"

#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) \
	((struct ua_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) INSN(UA_ALU64 | UA_MOV | UA_K, d, 0, 0, i)
#define EXIT()          INSN(UA_JMP | UA_EXIT, 0, 0, 0, 0)
#define N_INSNS(a)      ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static int create_arena(uint32_t pages, uint32_t flags, uint64_t map_extra)
{
	struct ua_kbpf_map_attr a = {
		.map_type = UA_KBPF_MAP_TYPE_ARENA,
		.max_entries = pages,
		.map_flags = flags,
		.map_extra = map_extra,
	};

	return ua_kbpf_map_create(&a, NULL, 0);
}

TEST(kernel, available_means_arena_create_works)
{
	char why[256] = "untouched";
	int fd;

	if (ua_kbpf_available(why, sizeof(why)) != 0) {
		/* The reason must say something a user can act on. */
		CHECK_CONTAINS(why, "kernel: ");
		SKIP("bpf(): %s", why);
	}
	CHECK_STR(why, "");
	fd = create_arena(1, UA_KBPF_F_MMAPABLE, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

/* As nobody, bpf() must report -EPERM with a sentence that says what to do. */
TEST(kernel, unprivileged_gets_eperm_with_reason)
{
	pid_t pid;
	int status;

	ua_test_require_kbpf();
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char why[256], err[256];
		int code = 0;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		if (ua_kbpf_available(why, sizeof(why)) != -EPERM)
			code |= 1;
		if (!strstr(why, "CAP_BPF"))
			code |= 2;
		struct ua_kbpf_map_attr a = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = 1,
					      .map_flags = UA_KBPF_F_MMAPABLE, .name = "nobody" };
		if (ua_kbpf_map_create(&a, err, sizeof(err)) != -EPERM)
			code |= 4;
		if (!strstr(err, "kernel: map create 'nobody'") || !strstr(err, "not permitted"))
			code |= 8;
		_exit(code);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

TEST(kernel, arena_map_syscall_ops_errnos)
{
	uint64_t key = 0, value = 0;
	int fd;

	ua_test_require_kbpf();
	fd = create_arena(4, UA_KBPF_F_MMAPABLE, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(ua_kbpf_map_lookup(fd, NULL, &value, 0), -EINVAL);
	CHECK_EQ(ua_kbpf_map_lookup(fd, &key, &value, 0), -EINVAL);
	CHECK_EQ(ua_kbpf_map_update(fd, NULL, &value, 0), -EOPNOTSUPP);
	CHECK_EQ(ua_kbpf_map_update(fd, &key, &value, 0), -EINVAL);
	CHECK_EQ(ua_kbpf_map_delete(fd, NULL), -EOPNOTSUPP);
	CHECK_EQ(ua_kbpf_map_delete(fd, &key), -EINVAL);
	CHECK_EQ(ua_kbpf_map_get_next_key(fd, NULL, &key), -EOPNOTSUPP);
	CHECK_EQ(ua_kbpf_map_get_next_key(fd, &key, &key), -EINVAL);
	CHECK_EQ(ua_kbpf_map_lookup_and_delete(fd, NULL, &value), -UA_KBPF_ENOTSUPP);
	close(fd);
}

TEST(kernel, arena_freeze_blocks_writable_mmap)
{
	void *p = NULL;
	int fd;

	ua_test_require_kbpf();
	fd = create_arena(2, UA_KBPF_F_MMAPABLE, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(ua_kbpf_map_freeze(fd), 0);
	CHECK_EQ(ua_kbpf_arena_mmap(fd, NULL, 2 * 4096, PROT_READ | PROT_WRITE, false, &p), -EPERM);
	CHECK_EQ(ua_kbpf_arena_mmap(fd, NULL, 2 * 4096, PROT_READ, false, &p), 0);
	if (p)
		munmap(p, 2 * 4096);
	close(fd);
}

TEST(kernel, arena_map_info_reports_creation_params)
{
	struct ua_kbpf_map_info info;
	uint64_t extra = 1ull << 40;
	int fd;

	ua_test_require_kbpf();
	fd = create_arena(16, UA_KBPF_F_MMAPABLE | UA_KBPF_F_SEGV_ON_FAULT, extra);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(ua_kbpf_map_get_info(fd, &info), 0);
	CHECK_EQ(info.type, UA_KBPF_MAP_TYPE_ARENA);
	CHECK_EQ(info.key_size, 0);
	CHECK_EQ(info.value_size, 0);
	CHECK_EQ(info.max_entries, 16);
	CHECK_EQ(info.map_flags, UA_KBPF_F_MMAPABLE | UA_KBPF_F_SEGV_ON_FAULT);
	CHECK_EQ(info.map_extra, extra);
	CHECK(info.id != 0);
	close(fd);
}

TEST(kernel, hash_map_elem_ops)
{
	struct ua_kbpf_map_attr a = { .map_type = UA_KBPF_MAP_TYPE_HASH, .key_size = 4,
				      .value_size = 8, .max_entries = 2, .name = "h" };
	uint32_t k1 = 1, k2 = 2, k3 = 3, next = 0;
	uint64_t v = 0;
	int fd;

	ua_test_require_kbpf();
	fd = ua_kbpf_map_create(&a, NULL, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(ua_kbpf_map_lookup(fd, &k1, &v, 0), -ENOENT);
	CHECK_EQ(ua_kbpf_map_update(fd, &k1, &(uint64_t){ 111 }, UA_KBPF_EXIST), -ENOENT);
	CHECK_EQ(ua_kbpf_map_update(fd, &k1, &(uint64_t){ 111 }, UA_KBPF_NOEXIST), 0);
	CHECK_EQ(ua_kbpf_map_update(fd, &k1, &(uint64_t){ 112 }, UA_KBPF_NOEXIST), -EEXIST);
	CHECK_EQ(ua_kbpf_map_update(fd, &k2, &(uint64_t){ 222 }, UA_KBPF_ANY), 0);
	CHECK_EQ(ua_kbpf_map_update(fd, &k3, &(uint64_t){ 333 }, UA_KBPF_ANY), -E2BIG);
	CHECK_EQ(ua_kbpf_map_lookup(fd, &k1, &v, 0), 0);
	CHECK_EQ(v, 111);
	CHECK_EQ(ua_kbpf_map_get_next_key(fd, NULL, &next), 0);
	CHECK(next == 1 || next == 2);
	CHECK_EQ(ua_kbpf_map_delete(fd, &k2), 0);
	CHECK_EQ(ua_kbpf_map_delete(fd, &k2), -ENOENT);
	CHECK_EQ(ua_kbpf_map_get_next_key(fd, &k1, &next), -ENOENT);
	close(fd);
}

TEST(kernel, map_create_error_names_map)
{
	struct ua_kbpf_map_attr a = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = 0,
				      .map_flags = UA_KBPF_F_MMAPABLE, .name = "bad_arena" };
	char err[256] = "";

	ua_test_require_kbpf();
	CHECK_EQ(ua_kbpf_map_create(&a, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "kernel: map create 'bad_arena' (type 33)");
}

/* A rejected program: the verifier's reason must reach the caller's buffer. */
TEST(kernel, verifier_rejection_shows_log)
{
	const struct ua_insn insns[] = {
		INSN(UA_ALU64 | UA_MOV | UA_X, 0, 2, 0, 0), /* r0 = r2: r2 never written */
		EXIT(),
	};
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER,
					.insns = insns, .insn_cnt = 2, .name = "uninit" };
	char err[512] = "";
	char log[4096];

	ua_test_require_kbpf();
	CHECK_EQ(ua_kbpf_prog_load(&pa, err, sizeof(err)), -EACCES);
	CHECK_CONTAINS(err, "kernel: verifier rejected program 'uninit' (");
	CHECK_CONTAINS(err, "R2 !read_ok");

	/* With a caller log buffer, the full log lands there too. */
	pa.log_buf = log;
	pa.log_size = sizeof(log);
	err[0] = '\0';
	CHECK_EQ(ua_kbpf_prog_load(&pa, err, sizeof(err)), -EACCES);
	CHECK_CONTAINS(log, "R2 !read_ok");
	CHECK_CONTAINS(err, "R2 !read_ok");
}

/* A tiny error buffer keeps the end of the log (where the reason is), NUL-terminated. */
TEST(kernel, verifier_log_tail_fits_small_buffer)
{
	const struct ua_insn insns[] = { INSN(UA_ALU64 | UA_MOV | UA_X, 0, 3, 0, 0), EXIT() };
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER,
					.insns = insns, .insn_cnt = 2, .name = "small" };
	char err[80];

	ua_test_require_kbpf();
	memset(err, 'x', sizeof(err));
	CHECK_EQ(ua_kbpf_prog_load(&pa, err, sizeof(err)), -EACCES);
	CHECK_EQ(strlen(err), sizeof(err) - 1);
}

TEST(kernel, prog_load_rejects_empty_program)
{
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER };
	char err[128] = "";

	CHECK_EQ(ua_kbpf_prog_load(&pa, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel: prog load: no instructions");
}

TEST(kernel, test_run_socket_filter_retval_and_data)
{
	const struct ua_insn insns[] = { MOV64_IMM(0, 42), EXIT() };
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER,
					.insns = insns, .insn_cnt = 2, .name = "ret42" };
	uint8_t in[64], out[128], want[64];
	struct ua_kbpf_test_run run = { .data_in = in, .data_size_in = sizeof(in),
					.data_out = out, .data_size_out = sizeof(out),
					.repeat = 100 };
	char err[256];
	int fd;

	ua_test_require_kbpf();
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	fd = ua_kbpf_prog_load(&pa, err, sizeof(err));
	REQUIRE(fd >= 0);
	CHECK_EQ(ua_kbpf_prog_test_run(fd, &run), 0);
	CHECK_EQ(run.retval, 42);
	CHECK_EQ(run.data_size_out, sizeof(in));
	/* Not an L2 program type: the kernel hands back the Ethernet header zeroed. */
	memcpy(want, in, sizeof(in));
	memset(want, 0, 14);
	CHECK_MEM(out, want, sizeof(want));
	close(fd);
}

/* XDP: the packet comes back as the program left it; XDP_PASS = 2. */
TEST(kernel, test_run_xdp_reads_packet)
{
	const struct ua_insn insns[] = {
		INSN(UA_LDX | UA_MEM | UA_W, 2, 1, 0, 0),  /* r2 = ctx->data */
		INSN(UA_LDX | UA_MEM | UA_W, 3, 1, 4, 0),  /* r3 = ctx->data_end */
		INSN(UA_ALU64 | UA_MOV | UA_X, 4, 2, 0, 0),
		INSN(UA_ALU64 | UA_ADD | UA_K, 4, 0, 0, 2),
		INSN(UA_JMP | UA_JGT | UA_X, 4, 3, 3, 0),  /* too short: return 0 */
		INSN(UA_LDX | UA_MEM | UA_B, 0, 2, 0, 0),  /* r0 = data[0] */
		INSN(UA_ST | UA_MEM | UA_B, 2, 0, 1, 0x77), /* data[1] = 0x77 */
		EXIT(),
		MOV64_IMM(0, 0),
		EXIT(),
	};
	struct ua_kbpf_prog_attr pa = { .prog_type = UA_KBPF_PROG_TYPE_XDP, .insns = insns,
					.insn_cnt = N_INSNS(insns), .name = "xdp_first" };
	uint8_t in[64] = { 2, 1, 3 }, out[64], want[64];
	struct ua_kbpf_test_run run = { .data_in = in, .data_size_in = sizeof(in),
					.data_out = out, .data_size_out = sizeof(out) };
	char err[512] = "";
	int fd;

	ua_test_require_kbpf();
	fd = ua_kbpf_prog_load(&pa, err, sizeof(err));
	CHECK_STR(err, "");
	REQUIRE(fd >= 0);
	CHECK_EQ(ua_kbpf_prog_test_run(fd, &run), 0);
	CHECK_EQ(run.retval, 2);
	CHECK_EQ(run.data_size_out, 64);
	memcpy(want, in, sizeof(in));
	want[1] = 0x77;
	CHECK_MEM(out, want, sizeof(want));
	close(fd);
}

TEST(kernel, vmlinux_kfunc_ids)
{
	struct ua_kbtf *btf = NULL;
	char err[256] = "";
	int alloc_id, free_id, iter_id;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		SKIP("no /sys/kernel/btf/vmlinux (kernel built without BTF)");
	REQUIRE_EQ(ua_kbtf_open(NULL, &btf, err, sizeof(err)), 0);
	alloc_id = ua_kbtf_find(btf, "bpf_arena_alloc_pages", UA_KBTF_KIND_FUNC);
	free_id = ua_kbtf_find(btf, "bpf_arena_free_pages", UA_KBTF_KIND_FUNC);
	iter_id = ua_kbtf_find(btf, "bpf_iter_num_new", UA_KBTF_KIND_FUNC);
	CHECK(alloc_id > 0);
	CHECK(free_id > 0);
	CHECK(iter_id > 0);
	CHECK(alloc_id != free_id);
	CHECK_EQ(ua_kbtf_find(btf, "no_such_kfunc_in_vmlinux", UA_KBTF_KIND_FUNC), -ENOENT);
	/* A name that exists as a struct is not a FUNC. */
	CHECK_EQ(ua_kbtf_find(btf, "bpf_arena", UA_KBTF_KIND_FUNC), -ENOENT);
	CHECK(ua_kbtf_find(btf, "bpf_arena", 4 /* STRUCT */) > 0);
	ua_kbtf_close(btf);

	CHECK_EQ(ua_kbtf_vmlinux_kfunc_id("bpf_arena_alloc_pages", err, sizeof(err)), alloc_id);
	CHECK_EQ(ua_kbtf_vmlinux_kfunc_id("nope_kfunc", err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "kernel: kfunc 'nope_kfunc' not found in vmlinux BTF");
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Corrupt BTF files are rejected with -EINVAL at open, never read out of bounds. */
TEST(kernel, kbtf_rejects_corrupt_files)
{
	char path[] = "/tmp/ua_kbtf_XXXXXX";
	struct ua_kbtf *btf = (struct ua_kbtf *)1;
	char err[256];
	int tmp = mkstemp(path);
	/* header (24 bytes) + one INT type (12 + 4 bytes) + strings "\0int" */
	uint32_t file[6 + 4 + 2];

	REQUIRE(tmp >= 0);
	close(tmp);
	write_file(path, "hello", 5);
	CHECK_EQ(ua_kbtf_open(path, &btf, err, sizeof(err)), -EINVAL);
	CHECK(btf == NULL);

	memset(file, 0, sizeof(file));
	file[0] = 0x0001eB9F;       /* magic, version 1 */
	file[1] = 24;               /* hdr_len */
	file[2] = 0;                /* type_off */
	file[3] = 16;               /* type_len */
	file[4] = 16;               /* str_off */
	file[5] = 5;                /* str_len */
	file[6] = 1;                /* name_off: "int" */
	file[7] = 1u << 24;         /* kind INT */
	file[8] = 4;                /* size */
	file[9] = (1u << 24) | 32;  /* signed, 32 bits */
	memcpy(&file[10], "\0int", 5);
	write_file(path, file, sizeof(file));
	REQUIRE_EQ(ua_kbtf_open(path, &btf, err, sizeof(err)), 0);
	CHECK_EQ(ua_kbtf_find(btf, "int", 1), 1);
	CHECK_EQ(ua_kbtf_find(btf, "int", UA_KBTF_KIND_FUNC), -ENOENT);
	ua_kbtf_close(btf);

	file[3] = 12;               /* the INT's 4-byte trailer cut off */
	file[4] = 12;
	write_file(path, file, sizeof(file));
	CHECK_EQ(ua_kbtf_open(path, &btf, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "btf: ");

	file[3] = 16;
	file[4] = 16;
	file[5] = 1000;             /* strings past the end */
	write_file(path, file, sizeof(file));
	CHECK_EQ(ua_kbtf_open(path, &btf, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "btf: ");
	CHECK_EQ(ua_kbtf_open("/nonexistent/btf", &btf, err, sizeof(err)), -ENOENT);
	unlink(path);
}

TEST(kernel, btf_load_valid_and_invalid)
{
	/* One type: int (4 bytes, signed, 32 bits), name "int". */
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
		uint32_t t_name, t_info, t_size, t_int;
		char strs[5];
	} __attribute__((packed)) btf = {
		0xeB9F, 1, 0, 24, 0, 16, 16, 5, 1, 1u << 24, 4, (1u << 24) | 32, "\0int",
	};
	char err[512] = "";
	int fd;

	ua_test_require_kbpf();
	fd = ua_kbpf_btf_load(&btf, sizeof(btf), err, sizeof(err));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	btf.t_info = 31u << 24; /* unknown kind */
	CHECK_EQ(ua_kbpf_btf_load(&btf, sizeof(btf), err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "kernel: BTF load failed (");
	CHECK_CONTAINS(err, "Invalid kind");
}

/* Missing arguments are -EINVAL from the wrappers themselves, never a crash. */
TEST(kernel, wrappers_reject_missing_arguments)
{
	struct ua_kbpf_map_info info;
	uint32_t len = 0;
	void *p = NULL;
	char err[128] = "";

	CHECK_EQ(ua_kbpf_prog_test_run(0, NULL), -EINVAL);
	CHECK_EQ(ua_kbpf_obj_get_info(0, NULL, &len), -EINVAL);
	CHECK_EQ(ua_kbpf_obj_get_info(0, &info, NULL), -EINVAL);
	CHECK_EQ(ua_kbpf_arena_mmap(0, NULL, 4096, PROT_READ, false, NULL), -EINVAL);
	CHECK_EQ(ua_kbpf_map_create(NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel: map create: no attributes");
	CHECK_EQ(ua_kbpf_prog_load(NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(ua_kbtf_find(NULL, "x", UA_KBTF_KIND_FUNC), -EINVAL);
	CHECK_EQ(ua_kbtf_open(NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(ua_karena_create(NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(ua_kobj_load(NULL, NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel: object load: bad description");
	CHECK_EQ(ua_kdiff_create(NULL, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	/* A bad fd is the kernel's -EBADF, passed through as is (needs bpf() rights). */
	if (ua_kbpf_available(err, sizeof(err)) != 0)
		return;
	CHECK_EQ(ua_kbpf_map_freeze(-1), -EBADF);
	CHECK_EQ(ua_kbpf_arena_mmap(-1, NULL, 4096, PROT_READ, false, &p), -EBADF);
}
