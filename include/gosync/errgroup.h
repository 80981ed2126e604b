/*
 * gosync/errgroup.h - gs_errgroup_t, golang.org/x/sync/errgroup: a group
 * of tasks working on parts of one job, with the first error kept and,
 * for a group made with a context, that context cancelled by it.
 *
 * The all-zero group (GS_ERRGROUP_INIT) has no context: its tasks are
 * given NULL, a context that is never done. gs_errgroup_with_ctx gives
 * the group a context of its own, cancelled by the first failing task or
 * when wait returns, whichever is first. A group serves one job; call
 * gs_errgroup_destroy after the last wait to free what it holds.
 *
 *	gs_errgroup_t g = GS_ERRGROUP_INIT;
 *	gs_errgroup_with_ctx(&g, NULL);
 *	gs_errgroup_go(&g, fetch, "a");
 *	gs_errgroup_go(&g, fetch, "b");
 *	int err = gs_errgroup_wait(&g);
 *	gs_errgroup_destroy(&g);
 */
#ifndef GOSYNC_ERRGROUP_H
#define GOSYNC_ERRGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "mutex.h"
#include "semaphore.h"
#include "waitgroup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A task: returns 0 or a positive errno; ctx is the group's context. */
typedef int (*gs_errgroup_fn)(gs_ctx_t *ctx, void *arg);

/* One failed task: the argument it was given and what it returned. */
typedef struct gs_errgroup_error {
	void *arg;
	int err;
} gs_errgroup_error_t;

typedef struct gs_errgroup {
	/* Private; every field below belongs to errgroup.c. */
	gs_waitgroup_t wg_;
	gs_ctx_t *ctx_;
	gs_mutex_t mu_;
	int first_;
	size_t nerr_;
	size_t kept_;
	size_t caperr_;
	gs_errgroup_error_t *errs_;
	bool limited_;
	gs_semaphore_t slots_;
} gs_errgroup_t;

#define GS_ERRGROUP_INIT                                                    \
	{GS_WAITGROUP_INIT, 0, GS_MUTEX_INIT, 0, 0, 0, 0, 0, false,         \
	 GS_SEMAPHORE_INIT(0)}

/*
 * gs_errgroup_with_ctx gives g a context derived from parent (NULL for
 * none), which its tasks receive and which gs_errgroup_ctx returns. Call
 * it once, before the first go. Returns 0 or ENOMEM.
 */
int gs_errgroup_with_ctx(gs_errgroup_t *g, gs_ctx_t *parent);

/*
 * gs_errgroup_ctx returns the group's context, owned by the group and
 * valid until gs_errgroup_destroy (gs_ctx_ref it to keep it longer), or
 * NULL for a group without one.
 */
gs_ctx_t *gs_errgroup_ctx(gs_errgroup_t *g);

/*
 * gs_errgroup_go runs fn(ctx, arg) on a pool thread (see gs_go). The
 * first non-zero result of any task becomes the group's error and
 * cancels the group's context with that error as its cause. A task that
 * ends its thread without returning counts as EOWNERDEAD.
 *
 * With a cap set, blocks until fewer than the cap run.
 *
 * Returns 0, or EAGAIN/ENOMEM when no thread can be had; that error is
 * then also recorded as this task's result, so wait reports it.
 */
int gs_errgroup_go(gs_errgroup_t *g, gs_errgroup_fn fn, void *arg);

/*
 * gs_errgroup_set_limit caps the tasks running at once at n: go then
 * blocks while n tasks run, and try_go fails. n < 0 removes the cap;
 * n == 0 makes go block for ever and try_go always fail, as in Go.
 * Changing the cap while tasks started under a cap still run aborts
 * with "gs: errgroup: limit changed while N tasks are active"; tasks
 * started with no cap are not counted.
 */
void gs_errgroup_set_limit(gs_errgroup_t *g, int n);

/*
 * gs_errgroup_try_go is gs_errgroup_go that returns false, without
 * running fn, when the group is at its cap; true when fn was started
 * (or its failure to get a thread recorded, as go does).
 */
bool gs_errgroup_try_go(gs_errgroup_t *g, gs_errgroup_fn fn, void *arg);

/*
 * gs_errgroup_wait blocks until every task has returned, cancels the
 * group's context (with the first error as cause, or ECANCELED), and
 * returns the first error, or 0. Every task's return synchronises
 * before wait returns. Calling it again returns the same value.
 */
int gs_errgroup_wait(gs_errgroup_t *g);

/*
 * gs_errgroup_errors copies up to cap of the failed tasks, in the order
 * they failed, into out (which may be NULL when cap is 0) and returns
 * how many failed in all. After wait the list is complete; during the
 * run it holds the failures recorded so far. An entry that could not be
 * recorded for lack of memory is still counted, and the first error is
 * never lost.
 */
size_t gs_errgroup_errors(gs_errgroup_t *g, gs_errgroup_error_t *out,
			  size_t cap);

/*
 * gs_errgroup_destroy frees the group's context reference and error
 * list; call it after the last wait. The group is then all-zero again.
 */
void gs_errgroup_destroy(gs_errgroup_t *g);

#ifdef __cplusplus
}
#endif

#endif
