/*
 * gosync/runtime.h - time and tasks: the clock that every deadline reads,
 * and gs_go, the C form of Go's go statement.
 */
#ifndef GOSYNC_RUNTIME_H
#define GOSYNC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Durations and deadlines are int64_t nanoseconds. */
#define GS_NANOSECOND  ((int64_t)1)
#define GS_MICROSECOND ((int64_t)1000)
#define GS_MILLISECOND ((int64_t)1000000)
#define GS_SECOND      ((int64_t)1000000000)

/*
 * GS_NEVER is a deadline that never comes. Every _until function accepts
 * it, and so does any deadline past the clock's range.
 */
#define GS_NEVER INT64_MAX

/*
 * gs_now reads the monotonic clock, in nanoseconds from an arbitrary
 * origin. Deadlines passed to the _until functions are values of this
 * clock: gs_now() + 5 * GS_MILLISECOND is five milliseconds from now.
 * Never blocks; never fails.
 */
int64_t gs_now(void);

/*
 * gs_go runs fn(arg) on a pool thread and returns without waiting for it.
 *
 * The pool keeps about as many threads running tasks as there are CPUs,
 * so a burst of small tasks costs a queue push each. A pool thread that
 * blocks in any gosync wait lets another take the queue, and a task
 * that has waited over a millisecond while no queued task made progress
 * (every thread stuck in read(), sleep() or a foreign lock) gets a new
 * thread; so a task that blocks never keeps the others from running for
 * long, and tasks that wait on each other all run. Threads left idle
 * for a while retire by themselves. A child process after fork starts
 * with an empty pool and may use gs_go.
 *
 * The call of gs_go synchronises before fn starts. fn may block, call
 * gs_go, and use every part of gosync. If fn ends its thread without
 * returning (pthread_exit), the pool replaces the thread.
 *
 * Returns 0, ENOMEM when the task cannot be recorded, or EAGAIN when no
 * thread can be had (the cap is reached or the system refuses one) and
 * no thread is running to come for the task; on an error fn will not
 * run. Limit: at the cap, a task accepted because a thread was running
 * waits for that thread to come back; if that thread then blocks
 * waiting for the task (a task that spawns a child and waits for it,
 * with the cap at 1), neither runs. Keep the cap above the depth of
 * such waits.
 */
int gs_go(void (*fn)(void *arg), void *arg);

/*
 * gs_go_set_max_threads caps the pool's threads at n (n > 0; with a
 * smaller n, threads above it retire when they next finish a task or
 * reach their idle timeout) and returns the previous cap; n <= 0 only
 * reads it. The cap starts as the environment
 * variable GS_MAX_THREADS, or 10000.
 */
int gs_go_set_max_threads(int n);

#ifdef __cplusplus
}
#endif

#endif
