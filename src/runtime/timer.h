/*
 * timer.h - layer 3: one lazily started thread that runs functions at
 * deadlines, for contexts with deadlines.
 */
#ifndef GS_RUNTIME_TIMER_H
#define GS_RUNTIME_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A timer, owned by its user; its fields belong to timer.c. */
struct gs__timer {
	int64_t when;
	void (*fn)(void *arg);
	void *arg;
	size_t slot; /* index in the heap + 1; 0 when not pending */
};

/*
 * gs__timer_start arranges for fn(arg) to run on the timer thread once
 * gs_now() >= when. fn must be short and must not block: it delays every
 * other timer. Returns 0, ENOMEM, or EAGAIN when the timer thread cannot
 * be started; t must not be pending already.
 */
int gs__timer_start(struct gs__timer *t, int64_t when,
		    void (*fn)(void *arg), void *arg);

/*
 * gs__timer_stop cancels t: true if it was pending and now will never
 * run; false if it already ran or is running.
 */
bool gs__timer_stop(struct gs__timer *t);

#endif
