/* SPDX-License-Identifier: MIT */
/*
 * A queued spin lock in arena memory (the kernel qspinlock algorithm, as in
 * the selftests' bpf_arena_spin_lock.h), usable by BPF programs running
 * concurrently on several CPUs — or, in uarena, several host threads.
 *
 * Lock word (32 bits): bits 0-7 locked byte, bit 8 pending, bits 16-17
 * queue-node index, bits 18-31 tail CPU + 1. Fast path: cmpxchg 0 -> locked.
 * Slow path: a second comer sets `pending` and spins on the owner; everyone
 * else queues an MCS node from its CPU's slot in `qnodes` (in the arena, one
 * row per CPU, 4 nesting levels) and spins on its own node, so waiters do not
 * hammer the lock word. Every spin is bounded by may_goto: a lock that is not
 * acquired within the budget returns -ETIMEDOUT instead of hanging, which is
 * why callers must test the result (`if (arena_spin_lock(l)) fail;`).
 *
 * Ordering: clang-19 has no load-acquire/store-release instructions, so
 * acquire/release are plain accesses with compiler barriers; that is correct
 * on x86-64 (TSO), where the kernel's own header does the same, and the
 * lock-word transitions themselves are atomic cmpxchg (full barriers).
 */
#ifndef UA_BPF_ARENA_SPIN_LOCK_H
#define UA_BPF_ARENA_SPIN_LOCK_H

#include "bpf_arena_common.h"
#include "bpf_experimental.h"

#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

extern unsigned long CONFIG_NR_CPUS __kconfig __weak;

struct __qspinlock {
	union {
		int val;
		struct {
			u8 locked;
			u8 pending;
		};
		struct {
			u16 locked_pending;
			u16 tail;
		};
	};
};
#define arena_spinlock_t struct __qspinlock

struct arena_mcs_spinlock {
	struct arena_mcs_spinlock __arena *next;
	int locked;
	int count;
};

struct arena_qnode {
	struct arena_mcs_spinlock mcs;
};

#define _Q_MAX_NODES 4
#define _Q_PENDING_LOOPS 1
#define _Q_MAX_CPUS 1024

#define _Q_LOCKED_OFFSET 0
#define _Q_LOCKED_MASK 0xffU
#define _Q_PENDING_OFFSET 8
#define _Q_PENDING_MASK 0xff00U
#define _Q_TAIL_IDX_OFFSET 16
#define _Q_TAIL_IDX_MASK (3U << _Q_TAIL_IDX_OFFSET)
#define _Q_TAIL_CPU_OFFSET 18
#define _Q_TAIL_CPU_MASK (~0U << _Q_TAIL_CPU_OFFSET)
#define _Q_TAIL_MASK (_Q_TAIL_IDX_MASK | _Q_TAIL_CPU_MASK)
#define _Q_LOCKED_VAL (1U << _Q_LOCKED_OFFSET)
#define _Q_PENDING_VAL (1U << _Q_PENDING_OFFSET)
#define _Q_LOCKED_PENDING_MASK (_Q_LOCKED_MASK | _Q_PENDING_MASK)

struct arena_qnode __arena qnodes[_Q_MAX_CPUS][_Q_MAX_NODES];

/* cmpxchg that reports success and refreshes *old with what it found. */
#define arena_try_cmpxchg(ptr, oldp, new)                                      \
	({                                                                     \
		typeof(*(oldp)) ___expect = *(oldp);                           \
		typeof(*(oldp)) ___found =                                     \
			__sync_val_compare_and_swap((ptr), ___expect, (new));  \
		*(oldp) = ___found;                                            \
		___found == ___expect;                                         \
	})

#define arena_load_acquire(p) ({ typeof(*(p) + 0) ___v = READ_ONCE(*(p)); barrier(); ___v; })
#define arena_store_release(p, v) ({ barrier(); WRITE_ONCE(*(p), (v)); })

/* Spins until cond (over VAL = *ptr) holds; jumps to label when the budget ends. */
#define arena_cond_load_label(ptr, cond_expr, label)                           \
	({                                                                     \
		typeof(*(ptr) + 0) VAL;                                          \
		for (;;) {                                                     \
			VAL = arena_load_acquire(ptr);                         \
			if (cond_expr)                                         \
				break;                                         \
			cond_break_label(label);                               \
		}                                                              \
		VAL;                                                           \
	})

static inline u32 encode_tail(int cpu, int idx)
{
	return ((u32)(cpu + 1) << _Q_TAIL_CPU_OFFSET) | ((u32)idx << _Q_TAIL_IDX_OFFSET);
}

static inline struct arena_mcs_spinlock __arena *decode_tail(u32 tail)
{
	u32 cpu = (tail >> _Q_TAIL_CPU_OFFSET) - 1;
	u32 idx = (tail & _Q_TAIL_IDX_MASK) >> _Q_TAIL_IDX_OFFSET;

	return &qnodes[cpu][idx].mcs;
}

/* Swaps the tail code in, keeping locked/pending; returns the previous word. */
static __always_inline u32 xchg_tail(arena_spinlock_t __arena *lock, u32 tail)
{
	u32 old = READ_ONCE(lock->val), new;

	do {
		new = (old & _Q_LOCKED_PENDING_MASK) | tail;
		cond_break_label(out);
	} while (!arena_try_cmpxchg((u32 __arena *)&lock->val, &old, new));
	return old;
out:
	bpf_printk("arena_spin_lock: xchg_tail ran out of loop budget");
	return old;
}

static __always_inline u32 fetch_set_pending_acquire(arena_spinlock_t __arena *lock)
{
	u32 old = READ_ONCE(lock->val), new;

	do {
		new = old | _Q_PENDING_VAL;
		cond_break_label(out);
	} while (!arena_try_cmpxchg((u32 __arena *)&lock->val, &old, new));
	return old;
out:
	bpf_printk("arena_spin_lock: set_pending ran out of loop budget");
	return old;
}

static __always_inline int arena_spin_trylock(arena_spinlock_t __arena *lock)
{
	u32 val = READ_ONCE(lock->val);

	if (val)
		return 0;
	return arena_try_cmpxchg((u32 __arena *)&lock->val, &val, _Q_LOCKED_VAL);
}

__noinline int arena_spin_lock_slowpath(arena_spinlock_t __arena *lock __arg_arena, u32 val)
{
	struct arena_mcs_spinlock __arena *prev, *next, *node0, *node;
	int ret = -ETIMEDOUT;
	u32 old, tail, cpu;
	int idx;

	/* A pending->locked hand-over in progress: wait for it, briefly. */
	if (val == _Q_PENDING_VAL) {
		int cnt = _Q_PENDING_LOOPS;

		val = arena_cond_load_label((u32 __arena *)&lock->val,
					    VAL != _Q_PENDING_VAL || !cnt--, release_err);
	}
	if (val & ~_Q_LOCKED_MASK)
		goto queue;

	/* 0,0,* -> 0,1,*: become the pending waiter. */
	val = fetch_set_pending_acquire(lock);
	if (val & ~_Q_LOCKED_MASK) {
		/* Someone else is pending or queued: undo ours (if we set it) and queue. */
		if (!(val & _Q_PENDING_MASK))
			WRITE_ONCE(lock->pending, 0);
		goto queue;
	}
	/* 0,1,1 -> *,1,0: wait for the owner to leave, then take over. */
	if (val & _Q_LOCKED_MASK)
		arena_cond_load_label(&lock->locked, !VAL, release_err);
	WRITE_ONCE(lock->locked_pending, _Q_LOCKED_VAL);
	return 0;

queue:
	cpu = bpf_get_smp_processor_id();
	if (cpu >= _Q_MAX_CPUS)
		return -EOPNOTSUPP;
	node0 = &qnodes[cpu][0].mcs;
	idx = node0->count++;
	tail = encode_tail(cpu, idx);
	/* More nesting than nodes (NMI in NMI...): give up rather than corrupt. */
	if (idx >= _Q_MAX_NODES) {
		ret = -EBUSY;
		goto release_node_err;
	}
	node = &qnodes[cpu][idx].mcs;
	barrier();
	node->locked = 0;
	node->next = NULL;

	if (arena_spin_trylock(lock))
		goto release;
	barrier();

	old = xchg_tail(lock, tail);
	next = NULL;
	if (old & _Q_TAIL_MASK) {
		prev = decode_tail(old);
		WRITE_ONCE(prev->next, node);
		arena_cond_load_label(&node->locked, VAL, release_node_err);
		next = READ_ONCE(node->next);
	}

	/* Head of the queue: wait for owner and pending to go away. */
	val = arena_cond_load_label((u32 __arena *)&lock->val,
				    !(VAL & _Q_LOCKED_PENDING_MASK), release_node_err);
	/* Alone in the queue: clear the tail while taking the lock. */
	if ((val & _Q_TAIL_MASK) == tail) {
		if (arena_try_cmpxchg((u32 __arena *)&lock->val, &val, _Q_LOCKED_VAL))
			goto release;
	}
	WRITE_ONCE(lock->locked, _Q_LOCKED_VAL);
	if (!next)
		next = arena_cond_load_label(&node->next, VAL, release_node_err);
	arena_store_release(&next->locked, 1);

release:
	barrier();
	node0->count--;
	return 0;
release_node_err:
	barrier();
	node0->count--;
release_err:
	return ret;
}

/* 0 when locked; negative errno (-ETIMEDOUT, -EBUSY, -EOPNOTSUPP) otherwise. */
static __always_inline int arena_spin_lock(arena_spinlock_t __arena *lock)
{
	u32 val = 0;
	int ret;

	if (CONFIG_NR_CPUS > _Q_MAX_CPUS)
		return -EOPNOTSUPP;
	bpf_preempt_disable();
	if (likely(arena_try_cmpxchg((u32 __arena *)&lock->val, &val, _Q_LOCKED_VAL)))
		return 0;
	ret = arena_spin_lock_slowpath(lock, val);
	if (ret)
		bpf_preempt_enable();
	return ret;
}

static __always_inline void arena_spin_unlock(arena_spinlock_t __arena *lock)
{
	arena_store_release(&lock->locked, 0);
	bpf_preempt_enable();
}

#define arena_spin_lock_irqsave(lock, flags)                                   \
	({                                                                     \
		int __ret;                                                     \
		bpf_local_irq_save(&(flags));                                  \
		__ret = arena_spin_lock((lock));                               \
		if (__ret)                                                     \
			bpf_local_irq_restore(&(flags));                       \
		(__ret);                                                       \
	})

#define arena_spin_unlock_irqrestore(lock, flags)                              \
	({                                                                     \
		arena_spin_unlock((lock));                                     \
		bpf_local_irq_restore(&(flags));                               \
	})

#endif
