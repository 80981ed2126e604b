/*
 * waitgroup.c - gs_waitgroup_t: wait for a count of tasks to reach zero.
 *
 * State: one 64-bit word and one 32-bit generation.
 *
 *	state_ bits 63..32  counter, signed: tasks outstanding
 *	state_ bits 31..0   waiters: threads registered in wait
 *	gen_                bumped once per release; waiters sleep on it
 *
 * add changes the counter with one atomic add. When that add brings the
 * counter to zero with waiters registered, the adder owns the release:
 * it resets the state to zero, bumps gen_ and wakes every sleeper. A
 * waiter reads gen_ before it registers (compare-and-swap of waiters +
 * 1), so the bump for its round always comes after its read and it can
 * never sleep through it.
 *
 * Misuse, as Go checks it: a counter below zero; a counter raised from
 * zero while waiters are registered, or a state that changes while the
 * releaser owns it ("add called concurrently with wait"); and a woken
 * waiter finding the state non-zero, which means the group was raised
 * for a new round before this wait returned ("reused before previous
 * wait has returned").
 *
 * Memory orders: every add is an acq_rel read-modify-write, so all the
 * dones form one release sequence that the releaser acquires; its
 * release increment of gen_ pairs with the waiters' acquire load, which
 * is how "done synchronises before the wait it releases" holds. The
 * fast path of wait is an acquire load seeing the counter at zero.
 *
 * Rejected: a semaphore posted once per waiter (Go's layout), which
 * needs a count of posts; one generation word wakes everyone with one
 * call.
 *
 * wait_until: a waiter whose deadline passes takes itself out of the
 * waiter count by compare-and-swap, but only while the counter is not
 * zero; at zero a releaser owns the state and the waiter counts as
 * released. Limits: the counter is 32-bit and its overflow is not
 * checked, as in Go.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <gosync/runtime.h>
#include <gosync/waitgroup.h>

#include "runtime/executor.h"
#include "runtime/platform.h"
#include "runtime/wait.h"

/* Pauses a waiter spends watching the counter before it registers. */
#define SPIN 200

#define COUNTER(s) ((int32_t)(uint32_t)((s) >> 32))
#define WAITERS(s) ((uint32_t)(s))

static void waitgroup_release(gs_waitgroup_t *wg, uint64_t seen)
{
	_Atomic uint64_t *st = GS__ATOMIC64(&wg->state_);
	_Atomic uint32_t *gen = GS__ATOMIC32(&wg->gen_);

	if (atomic_load_explicit(st, memory_order_relaxed) != seen)
		gs__misuse("waitgroup", "add called concurrently with wait");
	atomic_store_explicit(st, 0, memory_order_relaxed);
	/* Release: pairs with the acquire load of gen_ in wait. */
	atomic_fetch_add_explicit(gen, 1, memory_order_release);
	gs__wake(gen, GS__WAKE_ALL);
}

void gs_waitgroup_add(gs_waitgroup_t *wg, int delta)
{
	uint64_t add = (uint64_t)(int64_t)delta << 32;
	uint64_t s = atomic_fetch_add_explicit(GS__ATOMIC64(&wg->state_), add,
					       memory_order_acq_rel) +
		     add;
	int32_t v = COUNTER(s);
	uint32_t w = WAITERS(s);

	if (v < 0)
		gs__misuse("waitgroup", "negative counter");
	if (w != 0 && delta > 0 && v == delta)
		gs__misuse("waitgroup", "add called concurrently with wait");
	if (v > 0 || w == 0)
		return;
	waitgroup_release(wg, s);
}

void gs_waitgroup_done(gs_waitgroup_t *wg)
{
	gs_waitgroup_add(wg, -1);
}

/*
 * A waiter whose deadline passed leaves the waiter count, unless its
 * round has been released meanwhile. While the counter reads zero a
 * releaser owns the state and is about to bump gen_, so the waiter waits
 * for that instead of touching the state.
 */
static bool waitgroup_leave(_Atomic uint64_t *st, _Atomic uint32_t *gen,
			    uint32_t g)
{
	for (;;) {
		uint64_t s = atomic_load_explicit(st, memory_order_acquire);

		if (atomic_load_explicit(gen, memory_order_acquire) != g)
			return true;
		if (COUNTER(s) == 0) {
			sched_yield();
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(
			    st, &s, s - 1, memory_order_relaxed,
			    memory_order_relaxed))
			return false;
	}
}

static bool waitgroup_wait_slow(gs_waitgroup_t *wg, int64_t deadline)
{
	_Atomic uint64_t *st = GS__ATOMIC64(&wg->state_);
	_Atomic uint32_t *gen = GS__ATOMIC32(&wg->gen_);
	uint64_t s = atomic_load_explicit(st, memory_order_acquire);

	/* Tasks often end within microseconds: watch before registering. */
	for (int i = 0; i < SPIN && COUNTER(s) != 0 && gs__ncpu() > 1; i++) {
		gs__spin_pause();
		s = atomic_load_explicit(st, memory_order_acquire);
	}
	while (COUNTER(s) != 0) {
		uint32_t g = atomic_load_explicit(gen, memory_order_acquire);

		if (!atomic_compare_exchange_weak_explicit(
			    st, &s, s + 1, memory_order_acq_rel,
			    memory_order_acquire))
			continue;
		while (atomic_load_explicit(gen, memory_order_acquire) == g)
			if (gs__wait(gen, g, deadline) == ETIMEDOUT &&
			    !waitgroup_leave(st, gen, g))
				return false;
		if (atomic_load_explicit(st, memory_order_relaxed) != 0)
			gs__misuse("waitgroup", "reused before previous wait "
						"has returned");
		return true;
	}
	return true;
}

void gs_waitgroup_wait(gs_waitgroup_t *wg)
{
	uint64_t s = atomic_load_explicit(GS__ATOMIC64(&wg->state_),
					  memory_order_acquire);

	if (COUNTER(s) != 0)
		waitgroup_wait_slow(wg, GS_NEVER);
}

bool gs_waitgroup_wait_until(gs_waitgroup_t *wg, int64_t deadline)
{
	uint64_t s = atomic_load_explicit(GS__ATOMIC64(&wg->state_),
					  memory_order_acquire);

	return COUNTER(s) == 0 || waitgroup_wait_slow(wg, deadline);
}

static void waitgroup_done_cleanup(void *wg)
{
	gs_waitgroup_done(wg);
}

static void waitgroup_run(const struct gs__job *job)
{
	pthread_cleanup_push(waitgroup_done_cleanup, job->data);
	((void (*)(void *))job->fn)(job->arg);
	pthread_cleanup_pop(1);
}

int gs_waitgroup_go(gs_waitgroup_t *wg, void (*fn)(void *), void *arg)
{
	struct gs__job job = {waitgroup_run, (gs__fnptr)fn, arg, wg};
	int err;

	gs_waitgroup_add(wg, 1);
	err = gs__spawn(&job);
	if (err != 0)
		gs_waitgroup_done(wg);
	return err;
}
