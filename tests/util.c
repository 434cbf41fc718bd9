/* SPDX-License-Identifier: MIT */
/*
 * Shared test plumbing (see util.h). Tools run by fork+execv with stdout and
 * stderr sent to temporary files, not pipes: a tool writing more than a pipe
 * holds while we wait for it could never block, and the files are read back
 * once it has exited.
 */
#include "util.h"

#include "kernel.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

const char *ua_test_bpf_dir(void)
{
	const char *d = getenv("UA_BPF_DIR");

	return d && *d ? d : "build/bpf";
}

const char *ua_test_bpf_obj(const char *name)
{
	static char paths[8][512];
	static unsigned next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s.bpf.o", ua_test_bpf_dir(), name);
	return p;
}

const char *ua_test_bpf_obj_built(const char *name)
{
	const char *path = ua_test_bpf_obj(name);

	if (access(path, R_OK) != 0)
		SKIP("%s not built (make bpf)", path);
	return path;
}

uint8_t *ua_test_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(len ? (size_t)len : 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
		*size = (size_t)len;
	}
	fclose(f);
	return buf;
}

uint8_t *ua_test_read_bpf_obj(const char *name, size_t *size)
{
	const char *path = ua_test_bpf_obj(name);
	uint8_t *buf;

	if (access(path, R_OK) != 0)
		SKIP("%s not built (make bpf)", path);
	buf = ua_test_read_file(path, size);
	REQUIRE(buf != NULL);
	return buf;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t ua_test_list_data_files(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d)
		SKIP("no conformance vectors at %s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".data")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			REQUIRE(names);
			names[n] = strdup(e->d_name);
			REQUIRE(names[n++]);
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	return n;
}

int ua_test_in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	REQUIRE(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	return status;
}

void ua_test_require_kbpf(void)
{
	char why[256];

	if (ua_kbpf_available(why, sizeof(why)) != 0)
		SKIP("bpf(): %s", why);
}

int ua_test_kernel_load_filter(const struct ua_insn *insns, size_t n, uint32_t log_level,
			       char *log, size_t log_sz)
{
	struct ua_kbpf_prog_attr a = { .prog_type = UA_KBPF_PROG_TYPE_SOCKET_FILTER,
				       .insns = insns, .insn_cnt = (uint32_t)n };

	if (log_level) {
		a.log_level = log_level;
		a.log_buf = log;
		a.log_size = (uint32_t)log_sz;
		return ua_kbpf_prog_load(&a, NULL, 0);
	}
	if (log && log_sz)
		log[0] = '\0';
	return ua_kbpf_prog_load(&a, log, log_sz);
}

static void read_back(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t got;

	*len = 0;
	lseek(fd, 0, SEEK_SET);
	while (*len + 1 < cap && (got = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)got;
	buf[*len] = '\0';
}

/* A temporary file, already unlinked: it lives as long as the descriptor. */
static int anon_file(void)
{
	char name[] = "/tmp/ua_test_io_XXXXXX";
	int fd = mkstemp(name);

	if (fd >= 0)
		unlink(name);
	return fd;
}

void ua_test_run_tool(struct ua_test_cmd *r, const char *tool, const char *const *args,
		      const void *in, size_t in_len)
{
	char path[4096];
	const char *argv[16] = { path };
	int in_fd = in ? anon_file() : open("/dev/null", O_RDONLY);
	int out_fd = anon_file(), err_fd = anon_file();
	size_t i, err_len;
	pid_t pid;

	REQUIRE(in_fd >= 0 && out_fd >= 0 && err_fd >= 0);
	snprintf(path, sizeof(path), "%s/%s", ua_test_build_dir(), tool);
	if (access(path, X_OK))
		SKIP("%s not built", path);
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (in) {
		REQUIRE(write(in_fd, in, in_len) == (ssize_t)in_len);
		lseek(in_fd, 0, SEEK_SET);
	}
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	REQUIRE(waitpid(pid, &r->status, 0) == pid);
	r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
	read_back(out_fd, r->out, sizeof(r->out), &r->out_len);
	read_back(err_fd, r->err, sizeof(r->err), &err_len);
	close(in_fd);
	close(out_fd);
	close(err_fd);
}
