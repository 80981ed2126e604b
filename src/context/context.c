/*
 * context.c - the cancellation tree behind gs_ctx_t.
 *
 * Promise: a context is done once it is cancelled, once its deadline
 * passes, or once its parent is done; err and cause never change after
 * they are set; when a cancel returns, every descendant is done.
 *
 * Each context has:
 *
 *	refs      references: users, each child, a pending deadline timer
 *	done      0, then 1 for ever; waiters sleep on it (layer 1)
 *	err       0, then ECANCELED or ETIMEDOUT; cause beside it
 *	mu        guards children and the move from not done to done
 *	children  the children still linked here; each child's linked
 *	          flag and sibling pointers are guarded by this mu
 *
 * Cancelling takes mu, sets cause, err and done (in that order, done
 * with release), wakes waiters, detaches the whole children list, and
 * cancels each detached child, all with mu held: a second cancel of the
 * same context waits for mu and so returns only after the whole subtree
 * is done. Each detached child is held by a reference meanwhile, and
 * those references are dropped only after mu is released, because a
 * child freed by its last unref unlinks itself from its parent under
 * the parent's mu. A child whose last reference is already gone is
 * skipped: it is being freed and, with no reference left, has no
 * children of its own. Finally the context unlinks itself from its
 * parent and stops its timer. Locks are taken parent before child.
 *
 * Registration and cancellation cannot miss each other: a new child
 * takes the parent's mu, and either finds err set (the parent is done,
 * so the child is cancelled at once with the parent's err and cause) or
 * links itself before the parent can detach its list.
 *
 * A context is freed by its last unref, which first unlinks it from its
 * parent (under the parent's mu), then drops its reference to the
 * parent. A pending timer holds a reference, dropped by whichever of the
 * timer and a cancel's successful timer stop comes first, so a context
 * with a deadline lives at most until the deadline.
 *
 * Memory orders: done is stored with release after err and cause, and
 * read with acquire, so a thread that sees done sees why. Reference
 * counts use acq_rel on the decrement so the freeing thread sees every
 * other user's last writes.
 *
 * Rejected: cascading with the parent's mutex released, which lets a
 * second canceller return while the first is still cancelling the
 * children. Limits: a cancel recurses once per level of the tree, so a
 * chain deeper than the stack allows would overflow it.
 */
#include <errno.h>
#include <stdlib.h>

#include <gosync/context.h>
#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "introspect.h"
#include "runtime/platform.h"
#include "runtime/timer.h"
#include "runtime/wait.h"

struct gs_ctx {
	_Atomic uint32_t refs;
	_Atomic uint32_t done;
	_Atomic int err;
	_Atomic int cause;
	gs_mutex_t mu;
	gs_ctx_t *parent; /* NULL below the background context */
	gs_ctx_t *children;
	gs_ctx_t *next, *prev; /* siblings, under parent->mu */
	bool linked;           /* under parent->mu */
	bool cancellable;
	bool has_timer;
	int64_t deadline; /* GS_NEVER for none */
	struct gs__timer timer;
};

static gs_ctx_t background = {.deadline = GS_NEVER};

gs_ctx_t *gs_ctx_background(void)
{
	return &background;
}

static gs_ctx_t *ctx_or_background(gs_ctx_t *ctx)
{
	return ctx ? ctx : &background;
}

gs_ctx_t *gs_ctx_ref(gs_ctx_t *ctx)
{
	if (ctx && ctx != &background)
		atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
	return ctx;
}

/* Adds a reference unless the last one is gone; under the parent's mu. */
static bool ctx_tryref(gs_ctx_t *ctx)
{
	uint32_t r = atomic_load_explicit(&ctx->refs, memory_order_relaxed);

	while (r != 0)
		if (atomic_compare_exchange_weak_explicit(
			    &ctx->refs, &r, r + 1, memory_order_relaxed,
			    memory_order_relaxed))
			return true;
	return false;
}

static void unlink_from_parent(gs_ctx_t *ctx)
{
	gs_ctx_t *p = ctx->parent;

	if (!p)
		return;
	gs_mutex_lock(&p->mu);
	if (ctx->linked) {
		if (ctx->prev)
			ctx->prev->next = ctx->next;
		else
			p->children = ctx->next;
		if (ctx->next)
			ctx->next->prev = ctx->prev;
		ctx->linked = false;
	}
	gs_mutex_unlock(&p->mu);
}

void gs_ctx_unref(gs_ctx_t *ctx)
{
	if (!ctx || ctx == &background)
		return;
	/* Acq_rel: the freeing thread must see every user's last writes. */
	if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) !=
	    1)
		return;
	unlink_from_parent(ctx);
	gs_ctx_unref(ctx->parent);
	free(ctx);
}

/* Marks ctx done; returns the detached children, each holding a ref. */
static gs_ctx_t *ctx_finish_locked(gs_ctx_t *ctx, int err, int cause)
{
	gs_ctx_t *c, *next, *cascade = NULL;

	atomic_store_explicit(&ctx->cause, cause, memory_order_relaxed);
	atomic_store_explicit(&ctx->err, err, memory_order_relaxed);
	/* Release: pairs with the acquire loads of done; err comes along. */
	atomic_store_explicit(&ctx->done, 1, memory_order_release);
	gs__wake(&ctx->done, GS__WAKE_ALL);
	for (c = ctx->children; c; c = next) {
		next = c->next;
		c->linked = false;
		if (ctx_tryref(c)) {
			c->next = cascade;
			cascade = c;
		}
	}
	ctx->children = NULL;
	return cascade;
}

static void ctx_cancel(gs_ctx_t *ctx, int err, int cause, bool unlink)
{
	gs_ctx_t *c, *next, *cascade;

	gs_mutex_lock(&ctx->mu);
	if (atomic_load_explicit(&ctx->err, memory_order_relaxed) != 0) {
		gs_mutex_unlock(&ctx->mu);
		return;
	}
	cascade = ctx_finish_locked(ctx, err, cause);
	/*
	 * With mu held, so that another cancel of ctx, which waits for mu
	 * before it sees err set, returns only once the children are done.
	 */
	for (c = cascade; c; c = c->next)
		ctx_cancel(c, err, cause, false);
	gs_mutex_unlock(&ctx->mu);

	/* Only now: a child freed here unlinks from ctx, taking mu. */
	for (c = cascade; c; c = next) {
		next = c->next;
		gs_ctx_unref(c);
	}
	if (unlink)
		unlink_from_parent(ctx);
	if (ctx->has_timer && gs__timer_stop(&ctx->timer))
		gs_ctx_unref(ctx);
}

void gs_ctx_cancel_cause(gs_ctx_t *ctx, int cause)
{
	if (!ctx || !ctx->cancellable)
		gs__misuse("context",
			   "cancel of a context that cannot be cancelled");
	ctx_cancel(ctx, ECANCELED, cause ? cause : ECANCELED, true);
}

void gs_ctx_cancel(gs_ctx_t *ctx)
{
	gs_ctx_cancel_cause(ctx, 0);
}

/* Links a new child under parent, or cancels it if parent is done. */
static void ctx_propagate(gs_ctx_t *parent, gs_ctx_t *child)
{
	int err, cause;

	gs_mutex_lock(&parent->mu);
	err = atomic_load_explicit(&parent->err, memory_order_relaxed);
	cause = atomic_load_explicit(&parent->cause, memory_order_relaxed);
	if (err == 0) {
		child->next = parent->children;
		child->prev = NULL;
		if (child->next)
			child->next->prev = child;
		parent->children = child;
		child->linked = true;
	}
	gs_mutex_unlock(&parent->mu);
	if (err != 0)
		ctx_cancel(child, err, cause, false);
}

static void ctx_timer_fired(void *arg)
{
	gs_ctx_t *ctx = arg;

	ctx_cancel(ctx, ETIMEDOUT, ETIMEDOUT, true);
	gs_ctx_unref(ctx);
}

/*
 * Starts c's timer unless c is done already (its parent was cancelled
 * while c was being made); with mu held, so that a cancel either comes
 * first and is seen, or comes after and finds the timer to stop.
 */
static int ctx_arm_timer(gs_ctx_t *c)
{
	int err = 0;
	bool done;

	gs_mutex_lock(&c->mu);
	done = atomic_load_explicit(&c->err, memory_order_relaxed) != 0;
	if (!done)
		err = gs__timer_start(&c->timer, c->deadline, ctx_timer_fired,
				      c);
	gs_mutex_unlock(&c->mu);
	if (done)
		gs_ctx_unref(c); /* the timer's reference, never used */
	return err;
}

/*
 * Makes a cancellable child of parent. Everything a concurrent cancel of
 * the parent reads is set before the child is linked, and the timer
 * starts only after, so a cascade that reaches the child first just
 * finds no timer pending yet; the timer then fires into a done context.
 */
static int ctx_new(gs_ctx_t *parent, int64_t deadline, gs_ctx_t **out)
{
	gs_ctx_t *c = calloc(1, sizeof *c);
	int err = 0;

	if (!c)
		return ENOMEM;
	parent = ctx_or_background(parent);
	atomic_init(&c->refs, 1);
	c->cancellable = true;
	c->deadline = parent->deadline < deadline ? parent->deadline : deadline;
	c->has_timer = c->deadline < parent->deadline;
	if (c->has_timer)
		atomic_init(&c->refs, 2); /* the timer's reference */
	if (parent != &background) {
		c->parent = gs_ctx_ref(parent);
		ctx_propagate(parent, c);
	}
	if (c->has_timer && c->deadline <= gs_now()) {
		ctx_cancel(c, ETIMEDOUT, ETIMEDOUT, true);
		gs_ctx_unref(c);
	} else if (c->has_timer) {
		err = ctx_arm_timer(c);
	}
	if (err != 0) {
		gs_ctx_unref(c);
		gs_ctx_unref(c);
		return err;
	}
	*out = c;
	return 0;
}

int gs_ctx_with_cancel(gs_ctx_t *parent, gs_ctx_t **out)
{
	return ctx_new(parent, GS_NEVER, out);
}

int gs_ctx_with_deadline(gs_ctx_t *parent, int64_t deadline,
			 gs_ctx_t **out)
{
	return ctx_new(parent, deadline, out);
}

int gs_ctx_with_timeout(gs_ctx_t *parent, int64_t timeout, gs_ctx_t **out)
{
	int64_t now = gs_now();
	int64_t deadline = timeout > GS_NEVER - now ? GS_NEVER : now + timeout;

	return gs_ctx_with_deadline(parent, deadline, out);
}

int gs_ctx_err(gs_ctx_t *ctx)
{
	ctx = ctx_or_background(ctx);
	if (!atomic_load_explicit(&ctx->done, memory_order_acquire))
		return 0;
	return atomic_load_explicit(&ctx->err, memory_order_relaxed);
}

int gs_ctx_cause(gs_ctx_t *ctx)
{
	ctx = ctx_or_background(ctx);
	if (!atomic_load_explicit(&ctx->done, memory_order_acquire))
		return 0;
	return atomic_load_explicit(&ctx->cause, memory_order_relaxed);
}

bool gs_ctx_deadline(gs_ctx_t *ctx, int64_t *deadline)
{
	ctx = ctx_or_background(ctx);
	if (ctx->deadline == GS_NEVER)
		return false;
	*deadline = ctx->deadline;
	return true;
}

bool gs_ctx_done(gs_ctx_t *ctx)
{
	ctx = ctx_or_background(ctx);
	return atomic_load_explicit(&ctx->done, memory_order_acquire) != 0;
}

bool gs_ctx_wait_until(gs_ctx_t *ctx, int64_t deadline)
{
	ctx = ctx_or_background(ctx);
	while (!atomic_load_explicit(&ctx->done, memory_order_acquire))
		if (gs__wait(&ctx->done, 0, deadline) == ETIMEDOUT)
			return gs_ctx_done(ctx);
	return true;
}

void gs_ctx_wait(gs_ctx_t *ctx)
{
	gs_ctx_wait_until(ctx, GS_NEVER);
}

size_t gs__ctx_nchildren(gs_ctx_t *ctx)
{
	size_t n = 0;

	ctx = ctx_or_background(ctx);
	gs_mutex_lock(&ctx->mu);
	for (gs_ctx_t *c = ctx->children; c; c = c->next)
		n++;
	gs_mutex_unlock(&ctx->mu);
	return n;
}

unsigned gs__ctx_refs(gs_ctx_t *ctx)
{
	return atomic_load(&ctx->refs);
}
