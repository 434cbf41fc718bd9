/* SPDX-License-Identifier: MIT */
/*
 * Arena sharing between unrelated processes. The peer is this test runner
 * re-executed (fresh address space: nothing inherited) with
 * UA_ARENA_PEER_SOCK set; a constructor then runs the peer side instead of
 * the tests. The arena fd travels over a UNIX socket with SCM_RIGHTS, the
 * peer attaches, and both sides alloc/write/free/observe, then race each
 * other for the remaining pages.
 */
#include "test.h"

#include "arena.h"
#include "probe.h"

#include <uarena.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ull
#define PEER_PAGES 4096

struct peer_msg {
	uint64_t base;    /* creator's user_vm_start */
	uint64_t value;   /* step-specific */
	int32_t status;   /* 0 = ok, else the failing step */
	uint32_t count;
};

static int send_msg(int sock, const struct peer_msg *m, int fd)
{
	char ctrl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = ctrl;
		mh.msg_controllen = sizeof(ctrl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) == (ssize_t)sizeof(*m) ? 0 : -1;
}

static int recv_msg(int sock, struct peer_msg *m, int *fd)
{
	char ctrl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
			     .msg_controllen = sizeof(ctrl) };
	struct cmsghdr *c;

	if (recvmsg(sock, &mh, 0) != (ssize_t)sizeof(*m))
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (fd && c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

/* Allocates single pages until none is left, marking each; returns the count or -1. */
static int grab_all(struct ua_arena *a, uint8_t marker)
{
	uint8_t *mine[PEER_PAGES];
	int n = 0;

	for (;;) {
		uint8_t *p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);

		if (!p)
			break;
		if (p[0] != 0) /* a fresh page is zero, or someone else owns it */
			return -1;
		p[0] = marker;
		mine[n++] = p;
	}
	for (int i = 0; i < n; i++)
		if (mine[i][0] != marker)
			return -1;
	return n;
}

static int peer_side(int sock)
{
	struct ua_arena *a;
	struct peer_msg m;
	int fd = -1, n;
	uint8_t *base, *p;

	if (recv_msg(sock, &m, &fd) || fd < 0)
		return 10;
	if (ua_arena_attach(fd, NULL, &a))
		return 11;
	close(fd);
	base = ua_arena_user_base(a);
	m.status = 0;
	if ((uintptr_t)base != m.base)
		m.status = 12;
	else if (ua_arena_fault_path(a) != (getenv("UA_ARENA_NO_UFFD") ? UA_ARENA_FAULT_CHECKED
								     : UA_ARENA_FAULT_UFFD))
		m.status = 19;
	else if (*(uint32_t *)base != 0x11223344u)
		m.status = 13;
	else if (ua_probe_load(ua_arena_prog_addr(ua_arena_prog_base(a), m.base, 0), 4) != 0x11223344u)
		m.status = 14;
	p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	if (!m.status && p != base + PG)
		m.status = 15;
	if (!m.status) {
		*(uint32_t *)p = 0xbeef;
		ua_arena_free_pages(a, base, 1); /* the creator's page */
		m.value = (uintptr_t)p;
	}
	if (send_msg(sock, &m, -1) || m.status)
		return m.status ? m.status : 16;
	/* round 2: race the creator for the remaining pages */
	if (recv_msg(sock, &m, NULL))
		return 17;
	n = grab_all(a, 2);
	m.status = n < 0 ? 18 : 0;
	m.count = (uint32_t)(n < 0 ? 0 : n);
	send_msg(sock, &m, -1);
	ua_arena_destroy(a);
	return m.status;
}

__attribute__((constructor)) static void arena_peer_entry(void)
{
	const char *s = getenv("UA_ARENA_PEER_SOCK");

	if (s)
		_exit(peer_side(atoi(s)));
}

static pid_t spawn_peer(int sock, bool no_uffd)
{
	char num[16];
	pid_t pid = fork();

	REQUIRE(pid >= 0);
	if (pid == 0) {
		snprintf(num, sizeof(num), "%d", sock);
		setenv("UA_ARENA_PEER_SOCK", num, 1);
		if (no_uffd)
			setenv("UA_ARENA_NO_UFFD", "1", 1);
		execl("/proc/self/exe", "run", "no-test-has-this-name", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void share_with_peer(bool no_uffd)
{
	struct ua_arena *a = NULL;
	UA_OPTS(ua_arena_opts, o, .max_entries = PEER_PAGES, .map_flags = UA_F_MMAPABLE,
		.no_uffd = no_uffd);
	struct peer_msg m = { 0 };
	int sv[2], st, n;
	uint8_t *base, *p0;
	pid_t pid;

	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	REQUIRE_EQ(ua_arena_create(&o, &a), 0);
	base = ua_arena_user_base(a);
	p0 = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(p0 == base);
	*(uint32_t *)p0 = 0x11223344u;
	pid = spawn_peer(sv[1], no_uffd);
	close(sv[1]);
	m.base = (uintptr_t)base;
	REQUIRE(send_msg(sv[0], &m, ua_arena_fd(a)) == 0);
	REQUIRE(recv_msg(sv[0], &m, NULL) == 0);
	CHECK_EQ(m.status, 0);
	CHECK(m.value == (uintptr_t)base + PG);
	/* the peer's write is visible, its free of our page reached our mappings */
	CHECK_EQ(*(volatile uint32_t *)(base + PG), 0xbeef);
	CHECK_EQ(ua_probe_load(ua_arena_prog_addr(ua_arena_prog_base(a), (uintptr_t)base, 0), 4), 0);
	/* the shared allocator knows page 0 is free again: best fit picks it */
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base);
	CHECK_EQ(*(volatile uint32_t *)base, 0); /* zeroed, not our old value */
	/* round 2: both allocate concurrently until nothing is left */
	REQUIRE(send_msg(sv[0], &m, -1) == 0);
	n = grab_all(a, 1);
	CHECK(n >= 0);
	REQUIRE(recv_msg(sv[0], &m, NULL) == 0);
	CHECK_EQ(m.status, 0);
	CHECK_EQ((uint32_t)n + m.count, PEER_PAGES - 2);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[0]);
	ua_arena_destroy(a);
}

TEST(arena_multiproc, unrelated_process_shares_pages_and_allocator)
{
	share_with_peer(false);
}

TEST(arena_multiproc, unrelated_process_shares_pages_checked_path)
{
	share_with_peer(true);
}

TEST(arena_multiproc, lock_holder_death_is_recovered)
{
	struct ua_arena *a = NULL;
	UA_OPTS(ua_arena_opts, o, .max_entries = 16, .map_flags = UA_F_MMAPABLE);
	uint8_t *base;
	int st;
	pid_t pid;

	REQUIRE_EQ(ua_arena_create(&o, &a), 0);
	base = ua_arena_user_base(a);
	REQUIRE(ua_arena_alloc_pages(a, NULL, 2, -1, 0) == base);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		ua_arena_debug_lock(a); /* dies holding the lock "mid-update" */
		_exit(0);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid);
	/* EOWNERDEAD: the index is rebuilt from the page bitmap; work continues */
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base + 2 * PG);
	ua_arena_free_pages(a, base, 1);
	CHECK(ua_arena_alloc_pages(a, NULL, 1, -1, 0) == base);
	CHECK(ua_arena_alloc_pages(a, base + PG, 1, -1, 0) == NULL);
	ua_arena_destroy(a);
}

TEST(arena_multiproc, checked_segv_on_fault_enables_pages_allocated_elsewhere)
{
	struct ua_arena *a = NULL, *b = NULL;
	UA_OPTS(ua_arena_opts, o, .max_entries = 4, .map_flags = UA_F_MMAPABLE | UA_F_SEGV_ON_FAULT,
		.no_uffd = true);
	UA_OPTS(ua_arena_opts, ao, .no_uffd = true);
	uint8_t *p;
	int st;
	pid_t pid;

	REQUIRE_EQ(ua_arena_create(&o, &a), 0);
	p = ua_arena_alloc_pages(a, NULL, 1, -1, 0);
	REQUIRE(p != NULL);
	p[5] = 0x77;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		/* the child did not inherit the views (DONTFORK): attach; page 0 is
		 * PROT_NONE here until the first touch enables it */
		if (ua_arena_attach(ua_arena_fd(a), &ao, &b))
			_exit(1);
		if (ua_arena_user_base(b) != p || ua_arena_fault_path(b) != UA_ARENA_FAULT_CHECKED)
			_exit(2);
		_exit(((volatile uint8_t *)p)[5] == 0x77 ? 0 : 3);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK_EQ(st, 0);
	ua_arena_destroy(a);
}
