/*
 * loops.h - the lock loops of Go's sync benchmarks, written once as
 * macros over a lock's calls and stamped out for each implementation,
 * so that bench_sync, bench_locks and its C++ part run one loop body
 * and a change cannot reach one side and miss another. They are valid
 * C11 and C++17, for the C++ peers' loops.
 *
 *	LOCK_LOOP  lock, unlock (Go's Mutex, MutexUncontended; with a
 *	           reader's calls, RWMutexReadLock)
 *	WORK_LOOP  lock, unlock, then Go's 100 steps of local work
 *	           (MutexWork)
 *	RW_LOOP    Go's benchmarkRWMutex with localWork 0: every ratio-th
 *	           op of a thread locks for writing, the rest for reading
 *	           (RWMutexWrite100, RWMutexWrite10), on a struct rw_ctx
 *
 * Also struct lock_impl, one implementation of bench_locks' rows.
 */
#ifndef GOSYNC_BENCH_LOOPS_H
#define GOSYNC_BENCH_LOOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#ifdef __cplusplus
#define BENCH_THREAD_LOCAL thread_local
#else
#define BENCH_THREAD_LOCAL _Thread_local
#endif

#define LOCK_LOOP(fn, type, lock, unlock)                                      \
	static void fn(void *ctx, uint64_t n)                                  \
	{                                                                      \
		type *m = (type *)ctx;                                         \
                                                                               \
		for (uint64_t i = 0; i < n; i++) {                             \
			lock(m);                                               \
			unlock(m);                                             \
			BARRIER();                                             \
		}                                                              \
	}

/* Go's foo starts at 0 and 0 * 2 / 2 keeps it there: any call may reset. */
#define WORK_LOOP(fn, type, lock, unlock)                                      \
	static void fn(void *ctx, uint64_t n)                                  \
	{                                                                      \
		type *m = (type *)ctx;                                         \
		int foo = 0;                                                   \
                                                                               \
		for (uint64_t i = 0; i < n; i++) {                             \
			lock(m);                                               \
			unlock(m);                                             \
			bench_local_work(&foo);                                \
		}                                                              \
		USE(foo);                                                      \
	}

/*
 * Go's benchmarkRWMutex with localWork 0. Its foo counts a goroutine's
 * operations over the whole run, across the grains the harness hands
 * out, so it lives in the thread; the workers are new threads in every
 * run, so it starts at 0 in each, as Go's does. The ratio is a run-time
 * value, as Go's captured writeRatio is, so both divide.
 */
struct rw_ctx {
	void *rw;
	int ratio;
};

static BENCH_THREAD_LOCAL int rw_foo __attribute__((unused));

#define RW_LOOP(fn, type, rlock, runlock, lock, unlock)                        \
	static void fn(void *ctx, uint64_t n)                                  \
	{                                                                      \
		const struct rw_ctx *c = (const struct rw_ctx *)ctx;           \
		type *rw = (type *)c->rw;                                      \
		int ratio = c->ratio, foo = rw_foo;                            \
                                                                               \
		HIDE(ratio);                                                   \
		for (uint64_t i = 0; i < n; i++) {                             \
			foo++;                                                 \
			if (foo % ratio == 0) {                                \
				lock(rw);                                      \
				unlock(rw);                                    \
			} else {                                               \
				rlock(rw);                                     \
				runlock(rw);                                   \
			}                                                      \
			BARRIER();                                             \
		}                                                              \
		rw_foo = foo;                                                  \
	}

/*
 * One implementation of bench_locks' rows. A mutex runs one on ctx for
 * MutexUncontended (1 thread) and Mutex (2), two on ctx for MutexWork;
 * an rwmutex runs one on ctx for RWMutexReadLock (1 thread) and two on
 * rw100 and rw10 for RWMutexWrite100 and RWMutexWrite10, thread i on
 * the rw_ctx stride bytes after thread 0's (0: all on one).
 */
struct lock_impl {
	const char *name;
	/* "gosync", or the peer's family. */
	const char *side;
	bool rw;
	void (*one)(void *ctx, uint64_t n);
	void (*two)(void *ctx, uint64_t n);
	void *ctx;
	const struct rw_ctx *rw100, *rw10;
	size_t stride;
};

/* The C++ peers' implementations, from bench_locks_cxx.cpp. */
#ifdef __cplusplus
extern "C" {
#endif
extern const struct lock_impl bench_cxx_locks[];
extern const size_t bench_cxx_nlocks;
/* Sets the C++ peers up as a release build would run them. */
void bench_cxx_init(void);
#ifdef __cplusplus
}
#endif

#endif
