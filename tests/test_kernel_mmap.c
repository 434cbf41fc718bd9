/* SPDX-License-Identifier: MIT */
/*
 * The kernel arena's mmap rules (spec §2), checked against the running
 * kernel: they are the reference uarena's user view follows, so a kernel
 * that behaves differently shows up here first. Kernel-only: uarena maps its
 * user view itself at create/attach time and has no mmap entry point.
 */
#include "test.h"
#include "util.h"

#include "kernel.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ul
#define RW (PROT_READ | PROT_WRITE)

static int arena_fd(uint32_t pages, uint64_t map_extra)
{
	struct ua_kbpf_map_attr a = { .map_type = UA_KBPF_MAP_TYPE_ARENA, .max_entries = pages,
				      .map_flags = UA_KBPF_F_MMAPABLE, .map_extra = map_extra };
	int fd;

	ua_test_require_kbpf();
	fd = ua_kbpf_map_create(&a, NULL, 0);
	REQUIRE(fd >= 0);
	return fd;
}

static int raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, void **out)
{
	void *p = mmap(addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

TEST(kernel_mmap, first_mapping_fixes_the_range)
{
	int fd = arena_fd(4, 0);
	void *a = NULL, *b = NULL;

	CHECK_EQ(raw_mmap(NULL, 4 * PAGE, RW, MAP_SHARED, fd, PAGE, &b), -EINVAL);  /* offset */
	CHECK_EQ(raw_mmap(NULL, 4 * PAGE, RW, MAP_PRIVATE, fd, 0, &b), -EINVAL);
	CHECK_EQ(raw_mmap(NULL, (4ul << 30) + PAGE, RW, MAP_SHARED, fd, 0, &b), -E2BIG);
	CHECK_EQ(raw_mmap(NULL, 4 * PAGE, RW | PROT_EXEC, MAP_SHARED, fd, 0, &b), -EPERM);
	REQUIRE_EQ(ua_kbpf_arena_mmap(fd, NULL, 2 * PAGE, RW, false, &a), 0);
	/* The first mapping's length wins: 2 pages now, whatever max_entries says. */
	CHECK_EQ(ua_kbpf_arena_mmap(fd, NULL, 2 * PAGE, RW, false, &b), -EINVAL); /* not at start */
	CHECK_EQ(ua_kbpf_arena_mmap(fd, a, 4 * PAGE, RW, false, &b), -E2BIG);
	CHECK_EQ(ua_kbpf_arena_mmap(fd, a, 1 * PAGE, RW, false, &b), -EINVAL);
	CHECK_EQ(ua_kbpf_arena_mmap(fd, a, 2 * PAGE, RW, false, &b), -EBUSY); /* occupied */
	/* Partial unmaps and one-page mprotects split the VMA: refused. */
	CHECK_EQ(munmap(a, PAGE) == 0 ? 0 : -errno, -EINVAL);
	CHECK_EQ(mprotect(a, PAGE, PROT_READ) == 0 ? 0 : -errno, -EINVAL);
	CHECK_EQ(mprotect(a, 2 * PAGE, PROT_READ | PROT_EXEC) == 0 ? 0 : -errno, -EACCES);
	CHECK_EQ(mprotect(a, 2 * PAGE, PROT_READ) == 0 ? 0 : -errno, 0);
	CHECK_EQ(mprotect(a, 2 * PAGE, RW) == 0 ? 0 : -errno, 0);
	((volatile uint8_t *)a)[PAGE + 5] = 0x5a;
	/* After a full unmap the same range maps again, with the pages intact. */
	REQUIRE_EQ(munmap(a, 2 * PAGE), 0);
	REQUIRE_EQ(ua_kbpf_arena_mmap(fd, a, 2 * PAGE, RW, false, &b), 0);
	CHECK(b == a);
	CHECK_EQ(((volatile uint8_t *)b)[PAGE + 5], 0x5a);
	munmap(b, 2 * PAGE);
	close(fd);
}

TEST(kernel_mmap, map_extra_is_the_only_address)
{
	const uint64_t at = (1ull << 45) - 8 * PAGE;
	int fd = arena_fd(8, at);
	void *p = NULL;

	CHECK_EQ(ua_kbpf_arena_mmap(fd, NULL, 8 * PAGE, RW, false, &p), -EINVAL);
	CHECK_EQ(ua_kbpf_arena_mmap(fd, (void *)(uintptr_t)(at - 8 * PAGE), 8 * PAGE, RW, false, &p),
		 -EINVAL);
	REQUIRE_EQ(ua_kbpf_arena_mmap(fd, (void *)(uintptr_t)at, 8 * PAGE, RW, true, &p), 0);
	CHECK_EQ((uint64_t)(uintptr_t)p, at);
	munmap(p, 8 * PAGE);
	close(fd);
}

/* VM_DONTCOPY: a child does not inherit the mapping but may map the fd again. */
TEST(kernel_mmap, fork_does_not_inherit_the_mapping)
{
	int fd = arena_fd(2, 0);
	void *a = NULL;
	pid_t pid;
	int status;

	REQUIRE_EQ(ua_kbpf_arena_mmap(fd, NULL, 2 * PAGE, RW, false, &a), 0);
	((volatile uint64_t *)a)[0] = 77;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		void *b = NULL;

		if (mincore(a, PAGE, (unsigned char[1]){ 0 }) == 0)
			_exit(2); /* still mapped here */
		if (ua_kbpf_arena_mmap(fd, NULL, 2 * PAGE, RW, false, &b) != -EINVAL)
			_exit(3);
		if (ua_kbpf_arena_mmap(fd, a, 2 * PAGE, RW, false, &b) != 0 || b != a)
			_exit(4);
		if (((volatile uint64_t *)b)[0] != 77)
			_exit(5);
		((volatile uint64_t *)b)[1] = 88; /* shared with the parent */
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(((volatile uint64_t *)a)[1], 88);
	munmap(a, 2 * PAGE);
	close(fd);
}
