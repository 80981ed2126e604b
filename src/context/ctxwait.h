/*
 * ctxwait.h - layer 4: gosync waits that also end when a context is
 * done, for the semaphore and singleflight.
 *
 * A waiter sleeps on a word of its own. It starts WAITING; the
 * primitive moves it to GRANTED when it hands the waiter what it waits
 * for (gs__ctx_grant), and the context, or the waiter's own deadline,
 * moves it to GAVE_UP. Each move is a compare-and-swap from WAITING, so
 * exactly one wins: a primitive whose grant fails knows the waiter has
 * left and serves the next one, and a waiter that finds GRANTED owns the
 * grant even if its context ended at the same moment. Both sides wake
 * the word, so no wakeup is lost whichever comes first.
 */
#ifndef GS_CONTEXT_CTXWAIT_H
#define GS_CONTEXT_CTXWAIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gosync/context.h>

enum { GS__WAITING = 0, GS__GRANTED = 1, GS__GAVE_UP = 2 };

/*
 * gs__ctx_grant moves word from WAITING to GRANTED and wakes it; false
 * if the waiter gave up first. Release: the grantor's writes are visible
 * to the waiter.
 */
bool gs__ctx_grant(_Atomic uint32_t *word);

/* A registration of a waiter's word with a context; caller-owned. */
struct gs__ctx_watch {
	struct gs__ctx_watch *next, *prev; /* under the context's mu */
	_Atomic uint32_t *word;
	struct gs_ctx *src; /* NULL when the context can never be done */
	bool linked;
};

/*
 * gs__ctx_watch registers word with ctx: once ctx is done the word
 * moves from WAITING to GAVE_UP and is woken. Returns 0, or the
 * context's error if it is done already (then nothing is registered). A
 * NULL or never-done context registers nothing and returns 0.
 */
int gs__ctx_watch(gs_ctx_t *ctx, struct gs__ctx_watch *w,
		  _Atomic uint32_t *word);

/* gs__ctx_unwatch removes the registration, if the context has not. */
void gs__ctx_unwatch(struct gs__ctx_watch *w);

/*
 * gs__ctx_wait_word sleeps until word leaves WAITING (a grant, or ctx
 * done) or the deadline passes, and makes sure it has left: 0 when it
 * was granted, else ctx's error or ETIMEDOUT, with the word GAVE_UP so
 * that no later grant can succeed. A grant that raced with the end of
 * the context wins if it came first; the caller then owns it.
 */
int gs__ctx_wait_word(_Atomic uint32_t *word, gs_ctx_t *ctx,
		      int64_t deadline);

#endif
