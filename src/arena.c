/* SPDX-License-Identifier: MIT */
/*
 * BPF arena in user space (Linux 6.18 semantics).
 *
 * Address model, with numbers from a real run: a 16-page arena created with
 * map_extra 0 gets user_vm_start = 0x7f3a40000000 (chosen so that
 * [start, start + 64 KiB) does not cross a 4 GiB boundary). The program view
 * is a PROT_NONE reservation of 4 GiB + 64 KiB at, say, 0x7f2b3fff8000;
 * kern_vm_start = reservation + 32 KiB = 0x7f2b40000000. A BPF pointer value
 * p (any upper 32 bits) with insn offset off is accessed at
 *     kern_vm_start + (u32)p + (s16)off
 * so user address 0x7f3a40003010 (page 3) is program address
 * 0x7f2b40000000 + 0x40003010 = 0x7f2b80003010. The 16 pages live at
 * kern_vm_start + lo32(user_vm_start) = 0x7f2b80000000; everything else in
 * the 4 GiB band, and 32 KiB each side (the s16 off range), is PROT_NONE.
 *
 * Memory: one shared file per arena (memfd, or a /dev/shm file for named
 * arenas) = [header | data pages]. The header holds the parameters, the
 * user_vm_start every process must use, a process-shared robust mutex and
 * the allocator state (arena_alloc.c). Data page p is at file offset
 * hdr_size + p * PAGE_SIZE and is mapped twice: MAP_SHARED at user_vm_start +
 * p * PAGE_SIZE (user view) and inside the program view as above.
 *  - alloc = allocator bookkeeping + fallocate() to materialise zeroed pages;
 *  - free  = fallocate(PUNCH_HOLE): the page leaves every mapping of every
 *    process at once (the kernel's zap_pages) and memory is really freed;
 *  - a host touch of a hole in the user view allocates a page (shmem fault),
 *    as the kernel's arena_vm_fault does; the allocator learns of such pages
 *    with lseek(SEEK_DATA) before it hands a free range out or checks one;
 *  - the program view is registered with userfaultfd (MISSING, SIGBUS
 *    feature): a program access to a hole raises SIGBUS instead of
 *    allocating, and the probe fixup turns it into "read 0 / drop write".
 *    Allocated pages are mapped normally: no cost on the hot path.
 *  - SEGV_ON_FAULT: the user view is registered the same way and the probe
 *    module delivers that SIGBUS as SIGSEGV, as the kernel would.
 * Without userfaultfd (seccomp, old kernels) the "checked" path is used: the
 * probe routines ask this module whether the page is backed before touching
 * it (see arena_page_backed). Costs and races: docs/arena-design.md.
 */
#include "arena.h"

#include "arena_alloc.h"
#include "internal.h"
#include "probe.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The s16 insn offset reaches 32 KiB either side of the 4 GiB band. */
#define GUARD_SZ (1ull << 16)
#define SZ_4G (1ull << 32)
#define KERN_VM_SZ (SZ_4G + GUARD_SZ)
#define ARENA_MAGIC 0x414e455241415555ull /* "UUAARENA" */
#define ARENA_VERSION 1
#define VALID_FLAGS (UA_F_MMAPABLE | UA_F_SEGV_ON_FAULT | UA_F_NO_USER_CONV)

/* Start of the shared file. Fixed-size fields only: every process reads it. */
struct arena_shared {
	_Atomic uint64_t magic; /* written last by the creator */
	uint32_t version;
	uint32_t page_size;
	uint64_t hdr_size;      /* data pages start here (page aligned) */
	uint64_t user_vm_start;
	uint64_t map_flags;
	uint64_t map_extra;
	uint32_t max_entries;
	_Atomic uint32_t in_update; /* allocator being modified: rebuild if the holder dies */
	int64_t known_blocks;   /* st_blocks when the last locked operation ended */
	uint64_t backed_off;    /* bitmap: page materialised by alloc (checked fault path) */
	uint64_t alloc_off;     /* arena_alloc state */
	pthread_mutex_t lock;
};

struct ua_arena {
	int fd;
	int uffd; /* -1 on the checked path */
	struct arena_shared *hdr;
	uint64_t hdr_size;
	struct ua_range_tree alloc;
	_Atomic uint64_t *backed;
	uint64_t page_size;
	uint64_t size; /* bytes of data */
	uint32_t max_entries;
	uint64_t flags;
	uint64_t user_vm_start;
	uint8_t *user_base;     /* user_vm_start; stays valid while unmapped */
	bool user_mapped;       /* this process has the user view mapped */
	int user_prot;          /* its protection (PROT_READ or READ|WRITE) */
	uint8_t *prog_area; /* the 4 GiB + guard reservation */
	uint8_t *prog_base; /* kern_vm_start */
	enum ua_arena_fault_path fault_path;
	bool segv_range_registered;
	/* checked path + SEGV_ON_FAULT: user view PROT_NONE except enabled pages */
	bool segv_checked;
	_Atomic bool segv_enforced;
};

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t hi32(uint64_t v)
{
	return v & ~0xffffffffull;
}

/* Kernel create checks, in kernel order (arena_map_alloc). */
static int check_create_params(const struct ua_arena_opts *o, char *eb, size_t ebsz)
{
	uint64_t pg = page_size(), vm_range;

	if (o->key_size || o->value_size)
		return ua_errf(eb, ebsz, -EINVAL, "arena: key_size and value_size must be 0 (%u, %u)",
			       o->key_size, o->value_size);
	if (!o->max_entries)
		return ua_errf(eb, ebsz, -EINVAL, "arena: max_entries must be > 0 (max_entries)");
	if (!(o->map_flags & UA_F_MMAPABLE))
		return ua_errf(eb, ebsz, -EINVAL, "arena: UA_F_MMAPABLE is required (map_flags 0x%llx)",
			       (unsigned long long)o->map_flags);
	if (o->map_flags & ~(uint64_t)VALID_FLAGS)
		return ua_errf(eb, ebsz, -EINVAL, "arena: unsupported map flags 0x%llx (map_flags)",
			       (unsigned long long)(o->map_flags & ~(uint64_t)VALID_FLAGS));
	if (o->map_extra & (pg - 1))
		return ua_errf(eb, ebsz, -EINVAL, "arena: map_extra 0x%llx is not page aligned (map_extra)",
			       (unsigned long long)o->map_extra);
	vm_range = (uint64_t)o->max_entries * pg;
	if (vm_range > SZ_4G)
		return ua_errf(eb, ebsz, -E2BIG, "arena: %u pages exceed 4 GiB (max_entries)",
			       o->max_entries);
	if (o->map_extra && hi32(o->map_extra) != hi32(o->map_extra + vm_range - 1))
		return ua_errf(eb, ebsz, -ERANGE,
			       "arena: user range 0x%llx + 0x%llx crosses a 4 GiB boundary (map_extra)",
			       (unsigned long long)o->map_extra, (unsigned long long)vm_range);
	return 0;
}

/* ---- locking: a robust mutex in the shared header ---- */

static void arena_lock(struct ua_arena *a)
{
	int err = pthread_mutex_lock(&a->hdr->lock);

	if (err == EOWNERDEAD) {
		/*
		 * A process died holding the lock. free_bits is the primary state;
		 * if it died mid-update the run index may disagree with it, so
		 * recompute the index from the bits (see docs/arena-design.md).
		 */
		if (atomic_load(&a->hdr->in_update))
			ua_range_tree_rebuild(&a->alloc);
		atomic_store(&a->hdr->in_update, 0);
		pthread_mutex_consistent(&a->hdr->lock);
	} else {
		UA_NEVER(err != 0);
	}
	atomic_store(&a->hdr->in_update, 1);
}

void ua_arena_debug_lock(struct ua_arena *a)
{
	arena_lock(a);
}

static int64_t file_blocks(const struct ua_arena *a)
{
	struct stat st;

	return fstat(a->fd, &st) ? -1 : (int64_t)st.st_blocks;
}

static void arena_unlock(struct ua_arena *a)
{
	/* Any growth from now on, until the next locked operation, is a host fault. */
	a->hdr->known_blocks = file_blocks(a);
	atomic_store(&a->hdr->in_update, 0);
	pthread_mutex_unlock(&a->hdr->lock);
}

/* ---- views ---- */

static int map_user_view(struct ua_arena *a, uint64_t want, char *eb, size_t ebsz)
{
	int prot = PROT_READ | PROT_WRITE;
	uint8_t *p;

	if (want) {
		p = mmap((void *)(uintptr_t)want, a->size, prot, MAP_SHARED | MAP_FIXED_NOREPLACE,
			 a->fd, (off_t)a->hdr_size);
		if (p == MAP_FAILED)
			return ua_errf(eb, ebsz, errno == EEXIST ? -EBUSY : -errno,
				       "arena: cannot map user view at 0x%llx (%s)",
				       (unsigned long long)want, strerror(errno));
		if ((uint64_t)(uintptr_t)p != want) {
			munmap(p, a->size);
			return ua_errf(eb, ebsz, -EBUSY, "arena: user range 0x%llx is occupied (mmap)",
				       (unsigned long long)want);
		}
	} else {
		/* As the kernel's get_unmapped_area hook: 2*len, moved up to 4 GiB if crossing. */
		uint8_t *res = mmap(NULL, 2 * a->size, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uint64_t start;

		if (res == MAP_FAILED)
			return ua_errf(eb, ebsz, -errno, "arena: no room for the user view (%s)",
				       strerror(errno));
		start = (uint64_t)(uintptr_t)res;
		if (hi32(start) != hi32(start + a->size - 1))
			start = hi32(start) + SZ_4G;
		p = mmap((void *)(uintptr_t)start, a->size, prot, MAP_SHARED | MAP_FIXED, a->fd,
			 (off_t)a->hdr_size);
		if (p == MAP_FAILED) {
			int err = -errno;

			munmap(res, 2 * a->size);
			return ua_errf(eb, ebsz, err, "arena: cannot map user view (%s)", strerror(-err));
		}
		if (p > res)
			munmap(res, (size_t)(p - res));
		if (p + a->size < res + 2 * a->size)
			munmap(p + a->size, (size_t)(res + 2 * a->size - (p + a->size)));
	}
	/* The kernel's arena VMA is VM_DONTCOPY: a child must attach again. */
	madvise(p, a->size, MADV_DONTFORK);
	a->user_base = p;
	a->user_vm_start = (uint64_t)(uintptr_t)p;
	a->user_mapped = true;
	a->user_prot = prot;
	return 0;
}

static int map_prog_view(struct ua_arena *a, char *eb, size_t ebsz)
{
	uint8_t *area, *data;

	area = mmap(NULL, KERN_VM_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return ua_errf(eb, ebsz, -ENOMEM, "arena: cannot reserve the 4 GiB program view (%s)",
			       strerror(errno));
	a->prog_area = area;
	a->prog_base = area + GUARD_SZ / 2;
	data = a->prog_base + (uint32_t)a->user_vm_start;
	if (mmap(data, a->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, a->fd,
		 (off_t)a->hdr_size) == MAP_FAILED)
		return ua_errf(eb, ebsz, -errno, "arena: cannot map the program view (%s)",
			       strerror(errno));
	madvise(area, KERN_VM_SZ, MADV_DONTFORK);
	return 0;
}

static bool arena_page_backed(void *data, uintptr_t addr);
static bool arena_user_fix(void *data, uintptr_t addr);

static int uffd_register(int uffd, void *start, uint64_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

/* userfaultfd in SIGBUS mode over the program view (and a SEGV_ON_FAULT user view). */
static int setup_uffd(struct ua_arena *a)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MISSING_SHMEM,
	};

	/* User-mode-only faults need no privilege even with vm.unprivileged_userfaultfd=0. */
	a->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (a->uffd < 0 && errno == EINVAL)
		a->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (a->uffd < 0)
		return -errno;
	if (ioctl(a->uffd, UFFDIO_API, &api))
		return -errno;
	return uffd_register(a->uffd, a->prog_base + (uint32_t)a->user_vm_start, a->size);
}


/*
 * SEGV_ON_FAULT for this process's user view (after every (re)mapping): the
 * uffd path registers the view (host touch of a hole → SIGBUS → SIGSEGV); the
 * checked path keeps it PROT_NONE except for enabled pages.
 */
static int arm_user_view(struct ua_arena *a, char *eb, size_t ebsz)
{
	int err;

	if (!(a->flags & UA_F_SEGV_ON_FAULT))
		return 0;
	if (a->fault_path == UA_ARENA_FAULT_UFFD) {
		err = uffd_register(a->uffd, a->user_base, a->size);
		if (err)
			return ua_errf(eb, ebsz, err, "arena: cannot register the user view (%s)",
				       strerror(-err));
	} else {
		if (mprotect(a->user_base, a->size, PROT_NONE))
			return ua_errf(eb, ebsz, -errno, "arena: cannot protect the user view (%s)",
				       strerror(errno));
		a->segv_checked = true;
		atomic_store(&a->segv_enforced, true);
	}
	err = ua_probe_register_segv_range((uintptr_t)a->user_base,
					   (uintptr_t)a->user_base + a->size,
					   a->segv_checked ? arena_user_fix : NULL, a);
	if (err)
		return ua_errf(eb, ebsz, err, "arena: too many SEGV_ON_FAULT arenas (%d)", err);
	a->segv_range_registered = true;
	return 0;
}

static int setup_fault_path(struct ua_arena *a, bool no_uffd, char *eb, size_t ebsz)
{
	int err = ua_probe_init();

	if (err)
		return ua_errf(eb, ebsz, err, "arena: cannot install the fault handler (%s)",
			       strerror(-err));
	if (!no_uffd && getenv("UA_ARENA_NO_UFFD") && atoi(getenv("UA_ARENA_NO_UFFD")))
		no_uffd = true;
	a->fault_path = UA_ARENA_FAULT_UFFD;
	if (no_uffd || setup_uffd(a)) {
		if (a->uffd >= 0)
			close(a->uffd);
		a->uffd = -1;
		a->fault_path = UA_ARENA_FAULT_CHECKED;
		uint8_t *data = a->prog_base + (uint32_t)a->user_vm_start;

		err = ua_probe_register_checked((uintptr_t)data, (uintptr_t)data + a->size,
						arena_page_backed, a);
		if (err)
			return ua_errf(eb, ebsz, err, "arena: too many arenas on the checked path (%d)",
				       err);
	}
	return arm_user_view(a, eb, ebsz);
}

static int map_header(struct ua_arena *a, char *eb, size_t ebsz)
{
	void *h = mmap(NULL, a->hdr_size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);

	if (h == MAP_FAILED)
		return ua_errf(eb, ebsz, -errno, "arena: cannot map the header (%s)", strerror(errno));
	a->hdr = h;
	return 0;
}

/* The header layout is a function of max_entries alone. */
static uint64_t backed_offset(void)
{
	return UA_ROUND_UP(sizeof(struct arena_shared), 64);
}

static uint64_t alloc_offset(uint32_t max_entries)
{
	return backed_offset() + UA_ROUND_UP(((uint64_t)max_entries + 63) / 64 * 8, 64);
}

static uint64_t header_size(uint32_t max_entries)
{
	return UA_ROUND_UP(alloc_offset(max_entries) + ua_range_tree_state_size(max_entries),
			   page_size());
}

/* Offsets are recomputed, never read back: a bad file cannot point us elsewhere. */
static void bind_shared(struct ua_arena *a)
{
	ua_range_tree_bind(&a->alloc, (uint8_t *)a->hdr + alloc_offset(a->max_entries),
			 a->max_entries);
	a->backed = (_Atomic uint64_t *)((uint8_t *)a->hdr + backed_offset());
}

static struct ua_arena *arena_new(void)
{
	struct ua_arena *a = calloc(1, sizeof(*a));

	if (a) {
		a->fd = -1;
		a->uffd = -1;
		a->page_size = page_size();
	}
	return a;
}

static int init_header(struct ua_arena *a, const struct ua_arena_opts *o)
{
	struct arena_shared *h = a->hdr;
	pthread_mutexattr_t attr;
	int err;

	h->version = ARENA_VERSION;
	h->page_size = (uint32_t)a->page_size;
	h->hdr_size = a->hdr_size;
	h->map_flags = o->map_flags;
	h->map_extra = o->map_extra;
	h->max_entries = o->max_entries;
	h->backed_off = backed_offset();
	h->alloc_off = alloc_offset(o->max_entries);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	err = pthread_mutex_init(&h->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err)
		return -err;
	bind_shared(a);
	ua_range_tree_init(&a->alloc);
	return 0;
}

int ua_arena_create(const struct ua_arena_opts *opts, struct ua_arena **out)
{
	char *eb = OPTS_GET(opts, err_buf, NULL);
	size_t ebsz = OPTS_GET(opts, err_buf_sz, 0);
	const char *path = OPTS_GET(opts, path, NULL);
	struct ua_arena_opts o = { 0 };
	struct ua_arena *a;
	int err;

	if (!out)
		return ua_errf(eb, ebsz, -EINVAL, "arena: out is NULL (create)");
	*out = NULL;
	if (!OPTS_VALID(opts, ua_arena_opts))
		return ua_errf(eb, ebsz, -EINVAL, "arena: unknown non-zero opts fields (opts)");
	o.max_entries = OPTS_GET(opts, max_entries, 0);
	o.key_size = OPTS_GET(opts, key_size, 0);
	o.value_size = OPTS_GET(opts, value_size, 0);
	o.map_flags = OPTS_GET(opts, map_flags, 0);
	o.map_extra = OPTS_GET(opts, map_extra, 0);
	err = check_create_params(&o, eb, ebsz);
	if (err)
		return err;
	a = arena_new();
	if (!a)
		return ua_errf(eb, ebsz, -ENOMEM, "arena: out of memory (create)");
	a->max_entries = o.max_entries;
	a->flags = o.map_flags;
	a->size = (uint64_t)o.max_entries * a->page_size;
	a->hdr_size = header_size(o.max_entries);
	if (path)
		a->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	else
		a->fd = memfd_create("uarena", MFD_CLOEXEC);
	if (a->fd < 0) {
		err = ua_errf(eb, ebsz, -errno, "arena: cannot create the shared file (%s: %s)",
			      path ? path : "memfd", strerror(errno));
		goto out_free;
	}
	if (ftruncate(a->fd, (off_t)(a->hdr_size + a->size))) {
		err = ua_errf(eb, ebsz, -errno, "arena: cannot size the shared file (%s)",
			      strerror(errno));
		goto out_destroy;
	}
	err = map_header(a, eb, ebsz);
	if (!err)
		err = init_header(a, &o);
	if (!err)
		err = map_user_view(a, o.map_extra, eb, ebsz);
	if (!err) {
		a->hdr->user_vm_start = a->user_vm_start;
		err = map_prog_view(a, eb, ebsz);
	}
	if (!err)
		err = setup_fault_path(a, OPTS_GET(opts, no_uffd, false), eb, ebsz);
	if (err)
		goto out_destroy;
	atomic_store_explicit(&a->hdr->magic, ARENA_MAGIC, memory_order_release);
	*out = a;
	return 0;

out_destroy:
	if (path)
		unlink(path);
	ua_arena_destroy(a);
	return err;
out_free:
	free(a);
	return err;
}

/* Reads and validates the creator's parameters from the first page. */
static int read_params(struct ua_arena *a, char *eb, size_t ebsz)
{
	struct stat st;
	struct arena_shared *h;
	int err = 0;

	if (fstat(a->fd, &st))
		return ua_errf(eb, ebsz, -errno, "arena: fstat failed (%s)", strerror(errno));
	if ((uint64_t)st.st_size < a->page_size)
		return ua_errf(eb, ebsz, -EINVAL, "arena: file too small for an arena (attach)");
	h = mmap(NULL, a->page_size, PROT_READ, MAP_SHARED, a->fd, 0);
	if (h == MAP_FAILED)
		return ua_errf(eb, ebsz, -errno, "arena: cannot map the header (%s)", strerror(errno));
	if (atomic_load_explicit(&h->magic, memory_order_acquire) != ARENA_MAGIC ||
	    h->version != ARENA_VERSION || h->page_size != a->page_size) {
		err = ua_errf(eb, ebsz, -EINVAL, "arena: not a uarena arena or another version (attach)");
	} else {
		a->max_entries = h->max_entries;
		a->flags = h->map_flags;
		a->hdr_size = h->hdr_size;
		a->user_vm_start = h->user_vm_start;
		a->size = (uint64_t)a->max_entries * a->page_size;
		if (!a->max_entries || a->max_entries > UA_ARENA_MAX_PAGES ||
		    (a->flags & ~(uint64_t)VALID_FLAGS) || !(a->flags & UA_F_MMAPABLE) ||
		    !a->user_vm_start || (a->user_vm_start & (a->page_size - 1)) ||
		    hi32(a->user_vm_start) != hi32(a->user_vm_start + a->size - 1) ||
		    (uint64_t)st.st_size != a->hdr_size + a->size ||
		    a->hdr_size != header_size(a->max_entries))
			err = ua_errf(eb, ebsz, -EINVAL, "arena: inconsistent header (attach)");
	}
	munmap(h, a->page_size);
	return err;
}

int ua_arena_attach(int fd, const struct ua_arena_opts *opts, struct ua_arena **out)
{
	char *eb = OPTS_GET(opts, err_buf, NULL);
	size_t ebsz = OPTS_GET(opts, err_buf_sz, 0);
	struct ua_arena *a;
	int err;

	if (!out)
		return ua_errf(eb, ebsz, -EINVAL, "arena: out is NULL (attach)");
	*out = NULL;
	if (!OPTS_VALID(opts, ua_arena_opts))
		return ua_errf(eb, ebsz, -EINVAL, "arena: unknown non-zero opts fields (opts)");
	a = arena_new();
	if (!a)
		return ua_errf(eb, ebsz, -ENOMEM, "arena: out of memory (attach)");
	a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (a->fd < 0) {
		err = ua_errf(eb, ebsz, -errno, "arena: bad fd %d (%s)", fd, strerror(errno));
		free(a);
		return err;
	}
	err = read_params(a, eb, ebsz);
	if (!err)
		err = map_header(a, eb, ebsz);
	if (!err) {
		bind_shared(a);
		err = map_user_view(a, a->user_vm_start, eb, ebsz);
	}
	if (!err)
		err = map_prog_view(a, eb, ebsz);
	if (!err)
		err = setup_fault_path(a, OPTS_GET(opts, no_uffd, false), eb, ebsz);
	if (err) {
		ua_arena_destroy(a);
		return err;
	}
	*out = a;
	return 0;
}

int ua_arena_open(const char *path, const struct ua_arena_opts *opts, struct ua_arena **out)
{
	char *eb = OPTS_GET(opts, err_buf, NULL);
	size_t ebsz = OPTS_GET(opts, err_buf_sz, 0);
	int fd, err;

	if (!path)
		return ua_errf(eb, ebsz, -EINVAL, "arena: path is NULL (open)");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ua_errf(eb, ebsz, -errno, "arena: cannot open %s (%s)", path, strerror(errno));
	err = ua_arena_attach(fd, opts, out);
	close(fd);
	return err;
}

void ua_arena_destroy(struct ua_arena *a)
{
	if (!a)
		return;
	if (a->segv_range_registered)
		ua_probe_unregister_segv_range((uintptr_t)a->user_base);
	if (a->fault_path == UA_ARENA_FAULT_CHECKED && a->prog_base)
		ua_probe_unregister_checked((uintptr_t)(a->prog_base + (uint32_t)a->user_vm_start));
	if (a->uffd >= 0)
		close(a->uffd);
	if (a->prog_area)
		munmap(a->prog_area, KERN_VM_SZ);
	if (a->user_mapped)
		munmap(a->user_base, a->size);
	if (a->hdr)
		munmap(a->hdr, a->hdr_size);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

/* ---- the kernel's mmap rules for the user view ---- */

static void disarm_user_view(struct ua_arena *a)
{
	if (a->segv_range_registered)
		ua_probe_unregister_segv_range((uintptr_t)a->user_base);
	a->segv_range_registered = false;
}

int ua_arena_munmap(struct ua_arena *a, void *addr, size_t len)
{
	uint64_t start = (uintptr_t)addr, end;

	if (!a || (start & (a->page_size - 1)) || !len)
		return -EINVAL;
	end = start + UA_ROUND_UP((uint64_t)len, a->page_size);
	if (!a->user_mapped || end <= a->user_vm_start || start >= a->user_vm_start + a->size)
		return 0; /* not the arena's range: nothing of ours to unmap */
	/* Linux 6.18.44 refuses to split an arena VMA. */
	if (start > a->user_vm_start || end < a->user_vm_start + a->size)
		return -EINVAL;
	disarm_user_view(a);
	munmap(a->user_base, a->size);
	a->user_mapped = false;
	return 0;
}

int ua_arena_mmap(struct ua_arena *a, void *addr, size_t len, int prot, int flags, long offset,
		  void **out)
{
	uint64_t rlen;
	uint8_t *p;
	int err;

	if (!a || !out)
		return -EINVAL;
	*out = NULL;
	if (prot & PROT_EXEC) /* the map fd lives on a noexec mount */
		return -EPERM;
	if (prot & ~(PROT_READ | PROT_WRITE))
		return -EINVAL;
	rlen = UA_ROUND_UP((uint64_t)len, a->page_size);
	/* arena's get_unmapped_area hook, then the mmap hook, in kernel order */
	if (offset)
		return -EINVAL;
	if (!len || rlen > SZ_4G || rlen > a->size)
		return len ? -E2BIG : -EINVAL;
	if (rlen != a->size || (uintptr_t)addr != a->user_vm_start)
		return -EINVAL;
	if ((flags & MAP_TYPE) != MAP_SHARED && (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (a->user_mapped && !(flags & MAP_FIXED))
		return -EBUSY;
	if (a->user_mapped)
		disarm_user_view(a);
	p = mmap(a->user_base, a->size, prot,
		 MAP_SHARED | (a->user_mapped ? MAP_FIXED : MAP_FIXED_NOREPLACE), a->fd,
		 (off_t)a->hdr_size);
	if (p == MAP_FAILED) {
		err = errno == EEXIST ? -EBUSY : -errno;
		if (a->user_mapped) /* MAP_FIXED failed: the old view is gone either way */
			a->user_mapped = false;
		return err;
	}
	if (p != a->user_base) {
		munmap(p, a->size);
		return -EBUSY;
	}
	madvise(p, a->size, MADV_DONTFORK);
	a->user_mapped = true;
	a->user_prot = prot;
	err = arm_user_view(a, NULL, 0);
	if (err) {
		munmap(p, a->size);
		a->user_mapped = false;
		return err;
	}
	*out = p;
	return 0;
}

/* ---- pages ---- */

static uint32_t compute_pgoff(const struct ua_arena *a, uint64_t uaddr)
{
	return (uint32_t)((uint32_t)uaddr - (uint32_t)a->user_vm_start) / (uint32_t)a->page_size;
}

static off_t data_off(const struct ua_arena *a, uint64_t page)
{
	return (off_t)(a->hdr_size + page * a->page_size);
}

/*
 * The kernel marks a page used when host code first touches it. We find such
 * pages in the file (a host touch creates an uptodate shmem page; pages that
 * alloc materialised and nobody touched read as holes, and are not free
 * anyway) and mark them used now. Returns whether any free page was marked.
 */
static bool sync_host_faults(struct ua_arena *a, uint32_t first, uint32_t end)
{
	off_t pos = data_off(a, first), stop = data_off(a, end);
	bool marked = false;

	while (pos < stop) {
		off_t d = lseek(a->fd, pos, SEEK_DATA), h;
		uint64_t q, qe;

		if (d < 0 || d >= stop)
			break;
		h = lseek(a->fd, d, SEEK_HOLE);
		if (h < 0 || h > stop)
			h = stop;
		q = ((uint64_t)d - a->hdr_size) / a->page_size;
		qe = ((uint64_t)h - a->hdr_size + a->page_size - 1) / a->page_size;
		for (uint64_t p = q; p < qe && !marked; p++)
			marked = ua_range_tree_page_free(&a->alloc, (uint32_t)p);
		ua_range_tree_clear(&a->alloc, (uint32_t)q, (uint32_t)(qe - q));
		pos = data_off(a, qe);
	}
	return marked;
}

/*
 * Placement fidelity: the kernel marks a host-faulted page used at fault
 * time, which can change which run is the best fit even when the fault is
 * in another run. Only host faults grow the file outside our locked
 * operations, so if st_blocks moved since the last one, visit every free
 * run (one SEEK_DATA each) and mark what host code faulted in. Bounded to
 * SYNC_MAX_RUNS runs so a heavily fragmented arena does not pay 512 Ki
 * syscalls; beyond that only candidate runs are checked (sync_host_faults).
 */
#define SYNC_MAX_RUNS 4096

static void sync_all_host_faults(struct ua_arena *a)
{
	uint32_t p = 0, n = a->max_entries;

	if (file_blocks(a) == a->hdr->known_blocks)
		return;
	for (unsigned runs = 0; runs < SYNC_MAX_RUNS; runs++) {
		uint32_t end;

		p = ua_range_tree_next_free(&a->alloc, p);
		if (p >= n)
			break;
		end = p + ua_range_tree_run_len(&a->alloc, p);
		sync_host_faults(a, p, end);
		p = end;
	}
}

static void set_backed(struct ua_arena *a, uint32_t first, uint32_t cnt, bool on)
{
	for (uint64_t p = first; p < (uint64_t)first + cnt; p++) {
		uint64_t bit = 1ull << (p % 64);

		if (on)
			atomic_fetch_or_explicit(&a->backed[p / 64], bit, memory_order_release);
		else
			atomic_fetch_and_explicit(&a->backed[p / 64], ~bit, memory_order_release);
	}
}

/*
 * Checked path + SEGV_ON_FAULT: this process's user view is readable only
 * where it enabled allocated pages. Each protection boundary is a VMA; when
 * the kernel refuses more (vm.max_map_count) enforcement is given up for
 * this process (the view becomes RW) rather than breaking allocated pages.
 */
static void user_view_protect(struct ua_arena *a, uint64_t first, uint32_t cnt, bool enable)
{
	if (!atomic_load(&a->segv_enforced) || !a->user_mapped)
		return;
	if (mprotect(a->user_base + first * a->page_size, cnt * a->page_size,
		     enable ? a->user_prot : PROT_NONE)) {
		atomic_store(&a->segv_enforced, false);
		mprotect(a->user_base, a->size, a->user_prot);
	}
}

/* Signal handler side of the above: enables an allocated page on first touch. */
static bool arena_user_fix(void *data, uintptr_t addr)
{
	struct ua_arena *a = data;
	uint64_t page = (addr - (uintptr_t)a->user_base) / a->page_size;

	if (!atomic_load(&a->segv_enforced) || page >= a->max_entries ||
	    !(atomic_load_explicit(&a->backed[page / 64], memory_order_acquire) >> (page % 64) & 1))
		return false;
	user_view_protect(a, page, 1, true);
	return true;
}

void *ua_arena_alloc_pages(struct ua_arena *a, void *addr, uint32_t page_cnt, int node_id,
			   uint64_t flags)
{
	uint64_t uaddr = (uintptr_t)addr, uaddr32;
	int64_t pgoff = 0;
	uint32_t run_len;

	if (!a || flags || !page_cnt)
		return NULL;
	/* One NUMA node, as on the reference machine: -1 (NUMA_NO_NODE) and 0. */
	if (node_id != -1 && node_id != 0)
		return NULL;
	if (page_cnt > a->max_entries)
		return NULL;
	if (uaddr) {
		if (uaddr & (a->page_size - 1))
			return NULL;
		pgoff = compute_pgoff(a, uaddr);
		if (pgoff > (int64_t)a->max_entries - page_cnt)
			return NULL;
	}
	arena_lock(a);
	sync_all_host_faults(a);
	if (uaddr) {
		sync_host_faults(a, (uint32_t)pgoff, (uint32_t)pgoff + page_cnt);
		if (!ua_range_tree_is_free(&a->alloc, (uint32_t)pgoff, page_cnt))
			goto out_fail;
	} else {
		do {
			pgoff = ua_range_tree_find(&a->alloc, page_cnt, &run_len);
			if (pgoff < 0)
				goto out_fail;
		} while (sync_host_faults(a, (uint32_t)pgoff, (uint32_t)pgoff + run_len));
	}
	ua_range_tree_clear(&a->alloc, (uint32_t)pgoff, page_cnt);
	/* Materialise zeroed pages so program-view stores land. */
	if (fallocate(a->fd, 0, data_off(a, (uint64_t)pgoff), (off_t)(page_cnt * a->page_size))) {
		ua_range_tree_set(&a->alloc, (uint32_t)pgoff, page_cnt);
		goto out_fail;
	}
	set_backed(a, (uint32_t)pgoff, page_cnt, true);
	if (a->segv_checked)
		user_view_protect(a, (uint64_t)pgoff, page_cnt, true);
	arena_unlock(a);
	uaddr32 = (uint32_t)(a->user_vm_start + (uint64_t)pgoff * a->page_size);
	return (void *)(uintptr_t)(hi32(a->user_vm_start) | uaddr32);

out_fail:
	arena_unlock(a);
	return NULL;
}

void ua_arena_free_pages(struct ua_arena *a, void *ptr, uint32_t page_cnt)
{
	uint64_t uaddr, full, end, cnt, pgoff;

	if (!a || !page_cnt || !ptr)
		return;
	uaddr = (uint32_t)(uintptr_t)ptr & ~(a->page_size - 1);
	full = hi32(a->user_vm_start) + uaddr;
	end = UA_MIN(a->user_vm_start + a->size, full + (uint64_t)page_cnt * a->page_size);
	/*
	 * Below user_vm_start the kernel's pgoff wraps and it marks pgoffs past
	 * the arena free (spec open question 5): ignored here.
	 */
	if (full >= end || full < a->user_vm_start)
		return;
	cnt = (end - full) / a->page_size;
	pgoff = (full - a->user_vm_start) / a->page_size;
	arena_lock(a);
	ua_range_tree_set(&a->alloc, (uint32_t)pgoff, (uint32_t)cnt);
	set_backed(a, (uint32_t)pgoff, (uint32_t)cnt, false);
	if (a->segv_checked)
		user_view_protect(a, pgoff, (uint32_t)cnt, false);
	/* Drops the pages from every mapping in every process and frees them. */
	fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, data_off(a, pgoff),
		  (off_t)(cnt * a->page_size));
	arena_unlock(a);
}

int ua_arena_reserve_pages(struct ua_arena *a, void *ptr, uint32_t page_cnt)
{
	uint64_t uaddr = (uintptr_t)ptr;
	uint64_t pgoff;
	int err = 0;

	if (!a)
		return -EINVAL;
	if (!page_cnt)
		return 0;
	if (uaddr & (a->page_size - 1))
		return 0; /* the kernel's quirk: nothing reserved, success */
	pgoff = compute_pgoff(a, uaddr);
	if (pgoff + page_cnt > a->max_entries)
		return -EINVAL;
	arena_lock(a);
	sync_all_host_faults(a);
	sync_host_faults(a, (uint32_t)pgoff, (uint32_t)(pgoff + page_cnt));
	if (!ua_range_tree_is_free(&a->alloc, (uint32_t)pgoff, page_cnt))
		err = -EBUSY;
	else
		ua_range_tree_clear(&a->alloc, (uint32_t)pgoff, page_cnt);
	arena_unlock(a);
	return err;
}

/*
 * Checked fault path: may the probe touch the program-view page at addr?
 * Yes if alloc materialised it (backed bit) or host code faulted it in
 * (SEEK_DATA finds it). Called from the probe routines, never from a handler.
 */
static bool arena_page_backed(void *data, uintptr_t addr)
{
	struct ua_arena *a = data;
	uint64_t page = (addr - (uintptr_t)(a->prog_base + (uint32_t)a->user_vm_start)) /
			a->page_size;
	off_t d;

	if (page >= a->max_entries)
		return true; /* outside the data: PROT_NONE, the probe faults safely */
	if (atomic_load_explicit(&a->backed[page / 64], memory_order_acquire) >> (page % 64) & 1)
		return true;
	d = lseek(a->fd, data_off(a, page), SEEK_DATA);
	return d >= 0 && d < data_off(a, page + 1);
}

/* ---- casts and accessors ---- */

uint64_t ua_arena_cast_user(const struct ua_arena *a, uint64_t v)
{
	uint32_t lo = (uint32_t)v;

	if (!a || (a->flags & UA_F_NO_USER_CONV))
		return lo;
	return lo ? hi32(a->user_vm_start) | lo : 0;
}

void *ua_arena_user_base(const struct ua_arena *a)
{
	return a ? a->user_base : NULL;
}

uint64_t ua_arena_size(const struct ua_arena *a)
{
	return a ? a->size : 0;
}

int ua_arena_fd(const struct ua_arena *a)
{
	return a ? a->fd : -EINVAL;
}

uint64_t ua_arena_flags(const struct ua_arena *a)
{
	return a ? a->flags : 0;
}

uint32_t ua_arena_max_entries(const struct ua_arena *a)
{
	return a ? a->max_entries : 0;
}

enum ua_arena_fault_path ua_arena_fault_path(const struct ua_arena *a)
{
	return a ? a->fault_path : (enum ua_arena_fault_path)0;
}

uint8_t *ua_arena_prog_base(const struct ua_arena *a)
{
	return a ? a->prog_base : NULL;
}
