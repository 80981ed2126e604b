/*
 * errgroup.c - gs_errgroup_t: tasks with a shared first error.
 *
 * The group counts its tasks with a waitgroup and keeps its errors under
 * a mutex: first_ (what wait returns) and the list of every failure in
 * the order the tasks failed, each with the argument its task was given.
 * The failure that sets first_ also cancels the group's context, with
 * that error as its cause, outside the mutex; wait cancels it again
 * (a no-op if already done) once every task has returned, so the
 * context is always done after wait.
 *
 * A task that ends its thread without returning is caught by a cleanup
 * handler that records EOWNERDEAD for it and calls done, so wait never
 * hangs on a task that will not come back.
 *
 * Memory orders: every task's end reaches wait through the waitgroup's
 * done/wait edge; the error fields are written and read under mu_.
 *
 * The cap (set_limit) is a semaphore of that many slots: go acquires
 * one (blocking), try_go tries, and the task's end, however it ends,
 * gives it back. A cap may change only while no task holds a slot, as
 * Go's SetLimit demands; tasks started without a cap hold none.
 *
 * Rejected: a fixed-size error list, which would have to drop failures
 * silently. Limits: the list grows by doubling with realloc; when that
 * fails the failure is still counted (gs_errgroup_errors reports the
 * total) and first_ is never lost, but that entry is; the next failure
 * tries to grow the list again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gosync/errgroup.h>

#include "introspect.h"
#include "runtime/executor.h"
#include "runtime/platform.h"

int gs_errgroup_with_ctx(gs_errgroup_t *g, gs_ctx_t *parent)
{
	return gs_ctx_with_cancel(parent, &g->ctx_);
}

gs_ctx_t *gs_errgroup_ctx(gs_errgroup_t *g)
{
	return g->ctx_;
}

/* Records one failure; cancels the context when it is the first. */
static void errgroup_fail(gs_errgroup_t *g, void *arg, int err)
{
	bool first;

	gs_mutex_lock(&g->mu_);
	first = g->first_ == 0;
	if (first)
		g->first_ = err;
	if (g->kept_ == g->caperr_) {
		size_t cap = g->caperr_ ? 2 * g->caperr_ : 8;
		gs_errgroup_error_t *e = realloc(g->errs_, cap * sizeof *e);
		if (e) {
			g->errs_ = e;
			g->caperr_ = cap;
		}
	}
	if (g->kept_ < g->caperr_)
		g->errs_[g->kept_++] = (gs_errgroup_error_t){arg, err};
	g->nerr_++;
	gs_mutex_unlock(&g->mu_);
	if (first && g->ctx_)
		gs_ctx_cancel_cause(g->ctx_, err);
}

struct errgroup_exit {
	gs_errgroup_t *g;
	void *arg;
	bool returned;
	bool slot; /* holds one of the cap's slots */
};

static void errgroup_task_end(void *p)
{
	struct errgroup_exit *x = p;

	if (!x->returned)
		errgroup_fail(x->g, x->arg, EOWNERDEAD);
	if (x->slot)
		gs_semaphore_release(&x->g->slots_, 1);
	gs_waitgroup_done(&x->g->wg_);
}

static void errgroup_run_slot(const struct gs__job *job);

static void errgroup_run(const struct gs__job *job)
{
	struct errgroup_exit x = {job->data, job->arg, false,
				  job->run == errgroup_run_slot};
	int err;

	pthread_cleanup_push(errgroup_task_end, &x);
	err = ((gs_errgroup_fn)job->fn)(x.g->ctx_, job->arg);
	x.returned = true;
	if (err != 0)
		errgroup_fail(x.g, job->arg, err);
	pthread_cleanup_pop(1);
}

/* The same task run, for a task that holds a slot of the cap. */
static void errgroup_run_slot(const struct gs__job *job)
{
	errgroup_run(job);
}

/* Starts a task; slot says whether it took one of the cap's slots. */
static int errgroup_start(gs_errgroup_t *g, gs_errgroup_fn fn, void *arg,
			  bool slot)
{
	struct gs__job job = {slot ? errgroup_run_slot : errgroup_run,
			      (gs__fnptr)fn, arg, g};
	int err;

	gs_waitgroup_add(&g->wg_, 1);
	err = gs__spawn(&job);
	if (err != 0) {
		errgroup_fail(g, arg, err);
		if (slot)
			gs_semaphore_release(&g->slots_, 1);
		gs_waitgroup_done(&g->wg_);
	}
	return err;
}

int gs_errgroup_go(gs_errgroup_t *g, gs_errgroup_fn fn, void *arg)
{
	bool slot = g->limited_;

	if (slot)
		gs_semaphore_acquire(&g->slots_, NULL, 1);
	return errgroup_start(g, fn, arg, slot);
}

bool gs_errgroup_try_go(gs_errgroup_t *g, gs_errgroup_fn fn, void *arg)
{
	bool slot = g->limited_;

	if (slot && !gs_semaphore_try_acquire(&g->slots_, 1))
		return false;
	errgroup_start(g, fn, arg, slot);
	return true;
}

void gs_errgroup_set_limit(gs_errgroup_t *g, int n)
{
	int64_t active = g->limited_ ? gs__semaphore_held(&g->slots_) : 0;

	if (active != 0)
		gs__misuse("errgroup",
			   "limit changed while %lld tasks are active",
			   (long long)active);
	g->limited_ = n >= 0;
	g->slots_ = (gs_semaphore_t)GS_SEMAPHORE_INIT(n >= 0 ? n : 0);
}

int gs_errgroup_wait(gs_errgroup_t *g)
{
	int err;

	gs_waitgroup_wait(&g->wg_);
	gs_mutex_lock(&g->mu_);
	err = g->first_;
	gs_mutex_unlock(&g->mu_);
	if (g->ctx_)
		gs_ctx_cancel_cause(g->ctx_, err);
	return err;
}

size_t gs_errgroup_errors(gs_errgroup_t *g, gs_errgroup_error_t *out,
			  size_t cap)
{
	size_t n, kept;

	gs_mutex_lock(&g->mu_);
	n = g->nerr_;
	kept = g->kept_;
	if (cap > kept)
		cap = kept;
	if (cap)
		memcpy(out, g->errs_, cap * sizeof *out);
	gs_mutex_unlock(&g->mu_);
	return n;
}

void gs_errgroup_destroy(gs_errgroup_t *g)
{
	gs_ctx_unref(g->ctx_);
	free(g->errs_);
	memset(g, 0, sizeof *g);
}
