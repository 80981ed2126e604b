/*
 * timer.c - one thread, started by the first timer, runs every timer
 * function at its deadline.
 *
 * Pending timers sit in a binary min-heap on their deadline, under one
 * mutex; each timer records its heap slot so that stop is O(log n).
 * The thread sleeps on a sequence word until the earliest deadline;
 * starting a timer that becomes the new earliest bumps the word and
 * wakes it, so it re-reads the heap and sleeps less.
 *
 * A due timer leaves the heap before its function runs, with the mutex
 * released, so the function may start or stop other timers; stop
 * returning false tells the owner that the function has run or is
 * running and that the owner must not free what it uses (contexts use a
 * reference for that).
 *
 * Memory orders: the heap is ordered by the mutex; the sequence word is
 * only a wake-up hint and may be relaxed, since the thread takes the
 * mutex before looking at the heap.
 *
 * Rejected: a thread per timer (costly, and a contended deadline storm
 * creates hundreds) and a timing wheel (cheaper inserts, but coarse and
 * more code than a program with thousands of timers needs). Limits: all
 * timer functions share one thread, so a slow one delays the rest; the
 * thread never exits once started.
 */
#include <errno.h>
#include <stdlib.h>

#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "runtime/executor.h"
#include "runtime/timer.h"
#include "runtime/wait.h"

static struct {
	gs_mutex_t mu;
	struct gs__timer **heap;
	size_t len, cap;
	bool started;
	_Atomic uint32_t seq;
} timers = {GS_MUTEX_INIT, NULL, 0, 0, false, 0};

static void heap_set(size_t i, struct gs__timer *t)
{
	timers.heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(size_t i)
{
	struct gs__timer *t = timers.heap[i];

	while (i > 0 && timers.heap[(i - 1) / 2]->when > t->when) {
		heap_set(i, timers.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct gs__timer *t = timers.heap[i];
	size_t c;

	while ((c = 2 * i + 1) < timers.len) {
		if (c + 1 < timers.len &&
		    timers.heap[c + 1]->when < timers.heap[c]->when)
			c++;
		if (timers.heap[c]->when >= t->when)
			break;
		heap_set(i, timers.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void heap_remove_locked(struct gs__timer *t)
{
	size_t i = t->slot - 1;
	struct gs__timer *last = timers.heap[--timers.len];

	t->slot = 0;
	if (last == t)
		return;
	heap_set(i, last);
	heap_up(i);
	heap_down(last->slot - 1);
}

static void *timer_main(void *arg)
{
	(void)arg;
	gs_mutex_lock(&timers.mu);
	for (;;) {
		int64_t now = gs_now();
		struct gs__timer *t = timers.len ? timers.heap[0] : NULL;

		if (t && t->when <= now) {
			heap_remove_locked(t);
			gs_mutex_unlock(&timers.mu);
			t->fn(t->arg);
			gs_mutex_lock(&timers.mu);
			continue;
		}
		/* Read under the mutex: once it is released t may be freed. */
		int64_t until = t ? t->when : GS_NEVER;
		uint32_t seq = atomic_load_explicit(&timers.seq,
						    memory_order_relaxed);
		gs_mutex_unlock(&timers.mu);
		gs__wait(&timers.seq, seq, until);
		gs_mutex_lock(&timers.mu);
	}
	return NULL;
}

static int timer_grow_locked(void)
{
	size_t cap = timers.cap ? 2 * timers.cap : 64;
	struct gs__timer **h = realloc(timers.heap, cap * sizeof *h);

	if (!h)
		return ENOMEM;
	timers.heap = h;
	timers.cap = cap;
	return 0;
}

int gs__timer_start(struct gs__timer *t, int64_t when, void (*fn)(void *),
		    void *arg)
{
	int err = 0;

	gs_mutex_lock(&timers.mu);
	if (!timers.started) {
		err = gs__thread_create(timer_main, NULL);
		timers.started = err == 0;
	}
	if (err == 0 && timers.len == timers.cap)
		err = timer_grow_locked();
	if (err != 0) {
		gs_mutex_unlock(&timers.mu);
		return err == ENOMEM ? ENOMEM : EAGAIN;
	}
	t->when = when;
	t->fn = fn;
	t->arg = arg;
	heap_set(timers.len++, t);
	heap_up(timers.len - 1);
	if (t->slot == 1) {
		atomic_fetch_add_explicit(&timers.seq, 1, memory_order_relaxed);
		gs__wake(&timers.seq, 1);
	}
	gs_mutex_unlock(&timers.mu);
	return 0;
}

bool gs__timer_stop(struct gs__timer *t)
{
	bool pending;

	gs_mutex_lock(&timers.mu);
	pending = t->slot != 0;
	if (pending)
		heap_remove_locked(t);
	gs_mutex_unlock(&timers.mu);
	return pending;
}
