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
 *	done      a one-shot event (runtime/event.h): set once done, for
 *	          ever; a cancel with nobody waiting makes no system call
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
#include <stdatomic.h>
#include <stdlib.h>

#include <gosync/context.h>
#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "context/ctxwait.h"
#include "introspect.h"
#include "runtime/event.h"
#include "runtime/executor.h"
#include "runtime/notify_fd.h"
#include "runtime/platform.h"
#include "runtime/timer.h"
#include "runtime/wait.h"

enum kind {
	BACKGROUND, /* the root: never done */
	CANCEL,     /* with_cancel, with_deadline: done by its own cancel */
	VALUE,      /* with_value: done when its source is */
	DETACHED,   /* without_cancel: never done, values kept */
};

struct gs_ctx {
	_Atomic uint32_t refs;
	_Atomic uint32_t done;
	_Atomic int err;
	_Atomic int cause;
	gs_mutex_t mu;
	enum kind kind;
	gs_ctx_t *parent; /* referenced; values are looked up along it */
	gs_ctx_t *source; /* whose done, err, cause and deadline this shows */
	gs_ctx_t *link;   /* the CANCEL context listing this one, or NULL */
	gs_ctx_t *children;    /* CANCEL contexts linked here, under mu */
	gs_ctx_t *next, *prev; /* siblings, under link->mu */
	bool linked;           /* under link->mu */
	bool has_timer;
	int timeout_cause;
	int64_t deadline; /* GS_NEVER for none */
	const void *key;  /* VALUE only */
	void *value;
	struct gs_ctx_after *afters; /* pending after functions, under mu */
	struct gs__ctx_watch *watchers; /* waiting words, under mu */
	struct gs__notify_fd fd;     /* opened by gs_ctx_fd, under mu */
	struct gs__timer timer;
};

/*
 * An after function's registration: linked in its context's list while
 * pending, and owned by two references, the registration's (dropped
 * once it ran or was stopped, with the context reference it holds) and
 * the caller's handle (dropped by gs_ctx_stop).
 */
struct gs_ctx_after {
	struct gs_ctx_after *next, *prev; /* under ctx->mu */
	bool linked;                      /* under ctx->mu */
	_Atomic uint32_t state;
	_Atomic uint32_t refs;
	void (*fn)(void *arg);
	void *arg;
	gs_ctx_t *ctx;
};

enum { AFTER_PENDING = 0, AFTER_FIRED = 1, AFTER_STOPPED = 2 };


static gs_ctx_t background = {.kind = BACKGROUND,
			      .source = &background,
			      .deadline = GS_NEVER,
			      .fd = {-1, -1}};

gs_ctx_t *gs_ctx_background(void)
{
	return &background;
}

static gs_ctx_t *ctx_or_background(gs_ctx_t *ctx)
{
	return ctx ? ctx : &background;
}

/* The context whose state ctx shows: itself for CANCEL. */
static gs_ctx_t *source_of(gs_ctx_t *ctx)
{
	return ctx_or_background(ctx)->source;
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
	gs_ctx_t *p = ctx->link;

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
	gs__notify_fd_close(&ctx->fd);
	gs_ctx_unref(ctx->parent);
	free(ctx);
}

static void after_release(struct gs_ctx_after *a)
{
	if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
		free(a);
}

/* The registration is over (ran or stopped): its references go. */
static void after_done(struct gs_ctx_after *a)
{
	gs_ctx_unref(a->ctx);
	after_release(a);
}

static void after_run(const struct gs__job *job)
{
	struct gs_ctx_after *a = job->data;

	a->fn(a->arg);
	after_done(a);
}

/* Runs fired registrations on threads of their own, or here if none. */
static void after_fire(struct gs_ctx_after *a)
{
	struct gs_ctx_after *next;

	for (; a; a = next) {
		struct gs__job job = {after_run, NULL, NULL, a};

		next = a->next;
		if (gs__spawn(&job) != 0) {
			a->fn(a->arg);
			after_done(a);
		}
	}
}

/*
 * Takes the pending after functions that this cancel fires; a stop that
 * won the race for one unlinks it itself, once it gets mu.
 */
static struct gs_ctx_after *afters_take_locked(gs_ctx_t *ctx)
{
	struct gs_ctx_after *a, *next, *fired = NULL;
	uint32_t pending;

	for (a = ctx->afters; a; a = next) {
		next = a->next;
		a->linked = false;
		pending = AFTER_PENDING;
		if (atomic_compare_exchange_strong(&a->state, &pending,
						   AFTER_FIRED)) {
			a->next = fired;
			fired = a;
		}
	}
	ctx->afters = NULL;
	return fired;
}

/* Marks ctx done; returns the detached children, each holding a ref. */
static gs_ctx_t *ctx_finish_locked(gs_ctx_t *ctx, int err, int cause)
{
	gs_ctx_t *c, *next, *cascade = NULL;

	atomic_store_explicit(&ctx->cause, cause, memory_order_relaxed);
	atomic_store_explicit(&ctx->err, err, memory_order_relaxed);
	/* Release: pairs with the acquire loads of done; err comes along. */
	gs__event_set(&ctx->done);
	if (ctx->fd.rfd >= 0)
		gs__notify_fd_signal(&ctx->fd);
	for (struct gs__ctx_watch *w = ctx->watchers; w; w = w->next) {
		uint32_t waiting = GS__WAITING;

		w->linked = false;
		if (atomic_compare_exchange_strong(w->word, &waiting,
						   GS__GAVE_UP))
			gs__wake(w->word, GS__WAKE_ALL);
	}
	ctx->watchers = NULL;
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
	struct gs_ctx_after *fired;

	gs_mutex_lock(&ctx->mu);
	if (atomic_load_explicit(&ctx->err, memory_order_relaxed) != 0) {
		gs_mutex_unlock(&ctx->mu);
		return;
	}
	cascade = ctx_finish_locked(ctx, err, cause);
	fired = afters_take_locked(ctx);
	/*
	 * With mu held, so that another cancel of ctx, which waits for mu
	 * before it sees err set, returns only once the children are done.
	 */
	for (c = cascade; c; c = c->next)
		ctx_cancel(c, err, cause, false);
	gs_mutex_unlock(&ctx->mu);

	after_fire(fired);
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
	if (!ctx || ctx->kind != CANCEL)
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

	ctx_cancel(ctx, ETIMEDOUT, ctx->timeout_cause, true);
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
static int ctx_new(gs_ctx_t *parent, int64_t deadline, int cause,
		   gs_ctx_t **out)
{
	gs_ctx_t *c = calloc(1, sizeof *c);
	gs_ctx_t *link;
	int err = 0;

	if (!c)
		return ENOMEM;
	parent = ctx_or_background(parent);
	link = parent->source;
	atomic_init(&c->refs, 1);
	c->kind = CANCEL;
	c->source = c;
	c->fd.rfd = c->fd.wfd = -1;
	c->timeout_cause = cause ? cause : ETIMEDOUT;
	c->deadline = parent->deadline < deadline ? parent->deadline : deadline;
	c->has_timer = c->deadline < parent->deadline;
	if (c->has_timer)
		atomic_init(&c->refs, 2); /* the timer's reference */
	if (parent != &background)
		c->parent = gs_ctx_ref(parent);
	if (link != &background) {
		c->link = link;
		ctx_propagate(link, c);
	}
	if (c->has_timer && c->deadline <= gs_now()) {
		ctx_cancel(c, ETIMEDOUT, c->timeout_cause, true);
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
	return ctx_new(parent, GS_NEVER, 0, out);
}

int gs_ctx_with_deadline(gs_ctx_t *parent, int64_t deadline,
			 gs_ctx_t **out)
{
	return ctx_new(parent, deadline, 0, out);
}

int gs_ctx_with_deadline_cause(gs_ctx_t *parent, int64_t deadline,
			       int cause, gs_ctx_t **out)
{
	return ctx_new(parent, deadline, cause, out);
}

/* A context that shows another's state and adds only a value or none. */
static int ctx_wrap(gs_ctx_t *parent, enum kind kind, gs_ctx_t **out)
{
	gs_ctx_t *c = calloc(1, sizeof *c);

	if (!c)
		return ENOMEM;
	parent = ctx_or_background(parent);
	atomic_init(&c->refs, 1);
	c->kind = kind;
	c->fd.rfd = c->fd.wfd = -1;
	c->parent = parent == &background ? NULL : gs_ctx_ref(parent);
	c->source = kind == DETACHED ? &background : parent->source;
	c->deadline = c->source == &background ? GS_NEVER : parent->deadline;
	*out = c;
	return 0;
}

int gs_ctx_with_value(gs_ctx_t *parent, const void *key, void *value,
		      gs_ctx_t **out)
{
	int err;

	if (!key)
		gs__misuse("context", "nil key");
	err = ctx_wrap(parent, VALUE, out);
	if (err == 0) {
		(*out)->key = key;
		(*out)->value = value;
	}
	return err;
}

int gs_ctx_without_cancel(gs_ctx_t *parent, gs_ctx_t **out)
{
	return ctx_wrap(parent, DETACHED, out);
}

void *gs_ctx_value(gs_ctx_t *ctx, const void *key)
{
	for (gs_ctx_t *c = ctx; c && c != &background; c = c->parent)
		if (c->kind == VALUE && c->key == key)
			return c->value;
	return NULL;
}

static int64_t deadline_after(int64_t timeout)
{
	int64_t now = gs_now();

	return timeout > GS_NEVER - now ? GS_NEVER : now + timeout;
}

int gs_ctx_with_timeout(gs_ctx_t *parent, int64_t timeout, gs_ctx_t **out)
{
	return ctx_new(parent, deadline_after(timeout), 0, out);
}

int gs_ctx_with_timeout_cause(gs_ctx_t *parent, int64_t timeout, int cause,
			      gs_ctx_t **out)
{
	return ctx_new(parent, deadline_after(timeout), cause, out);
}

int gs_ctx_after_func(gs_ctx_t *ctx, void (*fn)(void *arg), void *arg,
		      gs_ctx_after_t **stop)
{
	gs_ctx_t *src = source_of(ctx);
	struct gs_ctx_after *a = calloc(1, sizeof *a);
	bool done;

	if (!a)
		return ENOMEM;
	atomic_init(&a->refs, stop ? 2 : 1);
	a->fn = fn;
	a->arg = arg;
	a->ctx = gs_ctx_ref(src);
	if (stop)
		*stop = a;
	if (src == &background) {
		if (!stop)
			after_done(a); /* can never run, nobody can stop it */
		return 0;
	}
	gs_mutex_lock(&src->mu);
	done = atomic_load_explicit(&src->err, memory_order_relaxed) != 0;
	if (!done) {
		a->next = src->afters;
		if (a->next)
			a->next->prev = a;
		src->afters = a;
		a->linked = true;
	}
	gs_mutex_unlock(&src->mu);
	if (done) {
		atomic_store(&a->state, AFTER_FIRED);
		after_fire(a);
	}
	return 0;
}

bool gs_ctx_stop(gs_ctx_after_t *a)
{
	uint32_t pending = AFTER_PENDING;
	bool stopped;
	gs_ctx_t *src;

	if (!a)
		return false;
	stopped = atomic_compare_exchange_strong(&a->state, &pending,
						 AFTER_STOPPED);
	if (stopped) {
		src = a->ctx;
		gs_mutex_lock(&src->mu);
		if (a->linked) {
			if (a->prev)
				a->prev->next = a->next;
			else
				src->afters = a->next;
			if (a->next)
				a->next->prev = a->prev;
			a->linked = false;
		}
		gs_mutex_unlock(&src->mu);
		after_done(a);
	}
	after_release(a);
	return stopped;
}

int gs_ctx_fd(gs_ctx_t *ctx)
{
	gs_ctx_t *src = source_of(ctx);
	int fd, err = 0;

	gs_mutex_lock(&src->mu);
	if (src->fd.rfd < 0) {
		err = gs__notify_fd_open(&src->fd);
		if (err == 0 && gs__event_is_set(&src->done))
			gs__notify_fd_signal(&src->fd);
	}
	fd = src->fd.rfd;
	gs_mutex_unlock(&src->mu);
	if (err != 0)
		errno = err;
	return err ? -1 : fd;
}

int gs_ctx_err(gs_ctx_t *ctx)
{
	ctx = source_of(ctx);
	if (!gs__event_is_set(&ctx->done))
		return 0;
	return atomic_load_explicit(&ctx->err, memory_order_relaxed);
}

int gs_ctx_cause(gs_ctx_t *ctx)
{
	ctx = source_of(ctx);
	if (!gs__event_is_set(&ctx->done))
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
	ctx = source_of(ctx);
	return gs__event_is_set(&ctx->done);
}

bool gs_ctx_wait_until(gs_ctx_t *ctx, int64_t deadline)
{
	return gs__event_wait(&source_of(ctx)->done, deadline);
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

int gs__ctx_watch(gs_ctx_t *ctx, struct gs__ctx_watch *w,
		  _Atomic uint32_t *word)
{
	gs_ctx_t *src = source_of(ctx);
	int err;

	w->word = word;
	w->linked = false;
	w->src = NULL;
	if (src == &background)
		return 0;
	gs_mutex_lock(&src->mu);
	err = atomic_load_explicit(&src->err, memory_order_relaxed);
	if (err == 0) {
		w->src = src;
		w->prev = NULL;
		w->next = src->watchers;
		if (w->next)
			w->next->prev = w;
		src->watchers = w;
		w->linked = true;
	}
	gs_mutex_unlock(&src->mu);
	return err;
}

void gs__ctx_unwatch(struct gs__ctx_watch *w)
{
	gs_ctx_t *src = w->src;

	if (!src)
		return;
	gs_mutex_lock(&src->mu);
	if (w->linked) {
		if (w->prev)
			w->prev->next = w->next;
		else
			src->watchers = w->next;
		if (w->next)
			w->next->prev = w->prev;
		w->linked = false;
	}
	gs_mutex_unlock(&src->mu);
}

bool gs__ctx_grant(_Atomic uint32_t *word)
{
	uint32_t waiting = GS__WAITING;

	/* Release: pairs with the waiter's acquire load. */
	if (!atomic_compare_exchange_strong_explicit(
		    word, &waiting, GS__GRANTED, memory_order_release,
		    memory_order_relaxed))
		return false;
	gs__wake(word, GS__WAKE_ALL);
	return true;
}

int gs__ctx_wait_word(_Atomic uint32_t *word, gs_ctx_t *ctx,
		      int64_t deadline)
{
	struct gs__ctx_watch w;
	int err = gs__ctx_watch(ctx, &w, word);
	uint32_t v = GS__WAITING;

	/* Acquire: pairs with the release of gs__ctx_grant. */
	while (err == 0 &&
	       (v = atomic_load_explicit(word, memory_order_acquire)) ==
		       GS__WAITING)
		if (gs__wait(word, GS__WAITING, deadline) == ETIMEDOUT)
			err = ETIMEDOUT;
	gs__ctx_unwatch(&w);
	if (v == GS__WAITING) {
		/* Leave for good, unless a grant got in first. */
		if (!atomic_compare_exchange_strong_explicit(
			    word, &v, GS__GAVE_UP, memory_order_acquire,
			    memory_order_acquire) &&
		    v == GS__GRANTED)
			return 0;
	}
	if (v == GS__GRANTED)
		return 0;
	return err ? err : gs_ctx_err(ctx);
}
