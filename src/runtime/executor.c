/*
 * executor.c - the pool of threads that runs gs_go's tasks.
 *
 * Promise: a task given to gs__spawn runs soon on some pool thread, and
 * never waits behind a task that blocks. The rule that gives this: each
 * queued job is matched, at the moment it is queued, with a thread that
 * will come for it: an idle thread that the spawner claims, or a new
 * thread that the spawner starts. Threads finishing a job take the next
 * queued one before going idle, so a claimed thread may find the queue
 * already emptied by another; it then just goes idle again. A job is
 * therefore never left in the queue while every thread is blocked.
 *
 * Structure, all under one mutex (pool.mu):
 *
 *	queue      FIFO of jobs waiting for a thread
 *	idle       LIFO of idle threads; the most recently idle thread is
 *	           claimed first, so the threads that keep missing out are
 *	           the ones that reach their idle timeout and retire
 *	free       recycled job nodes, so a steady stream of tasks does
 *	           not call malloc
 *
 * An idle thread first spins for a few microseconds watching its own
 * wake word, then sleeps on it. A spawner that claims a spinning thread
 * needs no system call; one that claims a sleeping thread wakes it. The
 * spinning flag changes only under the mutex, so the spawner's choice
 * between the two is never wrong.
 *
 * Memory orders: the queue is ordered by the mutex; the wake word's
 * release store by the spawner pairs with the acquire load by the idle
 * thread, and the thread then takes the mutex before touching the queue
 * anyway.
 *
 * Rejected: a fixed number of threads with one shared queue, which is
 * cheaper per task but lets tasks that wait on each other deadlock once
 * every thread blocks. Limits: the pool grows by a thread whenever every
 * thread is busy, with no cap, and nothing learns when a pool thread
 * blocks; threads do not survive fork, and a child process must not use
 * gs_go.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "runtime/executor.h"
#include "runtime/platform.h"
#include "runtime/wait.h"

#define FREE_MAX 1024
#define IDLE_SPIN 2000

struct node {
	struct node *next;
	uint64_t seq;
	struct gs__job job;
};

struct worker {
	_Atomic uint32_t wake; /* 0 idle, 1 claimed */
	bool spinning;         /* under pool.mu */
	struct worker *next, *prev;
};

static struct {
	gs_mutex_t mu;
	struct node *head, **tailp;
	struct node *free;
	int nfree;
	uint64_t seq;
	struct worker *idle;
	int nthreads, nidle;
	uint64_t created;
	int64_t idle_timeout;
} pool = {GS_MUTEX_INIT, NULL, &pool.head, NULL, 0, 0, NULL, 0, 0, 0,
	  2 * GS_SECOND};

int gs__thread_create(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int err;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

static struct node *queue_pop_locked(void)
{
	struct node *n = pool.head;

	if (n) {
		pool.head = n->next;
		if (!pool.head)
			pool.tailp = &pool.head;
	}
	return n;
}

static void node_free_locked(struct node *n)
{
	if (pool.nfree >= FREE_MAX) {
		free(n);
		return;
	}
	n->next = pool.free;
	pool.free = n;
	pool.nfree++;
}

/* Takes back a job whose thread could not be started, if still queued. */
static bool queue_remove_locked(struct node *n, uint64_t seq)
{
	struct node **pp;

	for (pp = &pool.head; *pp; pp = &(*pp)->next) {
		if (*pp != n || n->seq != seq)
			continue;
		*pp = n->next;
		if (!*pp)
			pool.tailp = pp;
		node_free_locked(n);
		return true;
	}
	return false;
}

static void idle_remove_locked(struct worker *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		pool.idle = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pool.nidle--;
}

static void worker_died(void *arg)
{
	(void)arg;
	/* The job ended the thread (pthread_exit): count it gone. */
	gs_mutex_lock(&pool.mu);
	pool.nthreads--;
	gs_mutex_unlock(&pool.mu);
}

/* Runs queued jobs until the queue is empty; called and returns locked. */
static void worker_drain_locked(void)
{
	struct node *n;
	struct gs__job job;

	while ((n = queue_pop_locked()) != NULL) {
		job = n->job;
		node_free_locked(n);
		gs_mutex_unlock(&pool.mu);
		job.run(&job);
		gs_mutex_lock(&pool.mu);
	}
}

/* Waits to be claimed; false when the idle timeout retired the thread. */
static bool worker_idle(struct worker *w)
{
	int64_t deadline;

	for (int i = 0; i < IDLE_SPIN; i++) {
		/* Acquire: pairs with the release store in gs__spawn. */
		if (atomic_load_explicit(&w->wake, memory_order_acquire))
			return true;
		gs__spin_pause();
	}
	gs_mutex_lock(&pool.mu);
	w->spinning = false;
	deadline = gs_now() + pool.idle_timeout;
	gs_mutex_unlock(&pool.mu);
	while (!atomic_load_explicit(&w->wake, memory_order_acquire)) {
		if (gs__wait(&w->wake, 0, deadline) != ETIMEDOUT)
			continue;
		gs_mutex_lock(&pool.mu);
		if (atomic_load_explicit(&w->wake, memory_order_relaxed)) {
			gs_mutex_unlock(&pool.mu);
			return true;
		}
		idle_remove_locked(w);
		pool.nthreads--;
		gs_mutex_unlock(&pool.mu);
		return false;
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker w = {0, false, NULL, NULL};
	bool alive = true;

	(void)arg;
	pthread_cleanup_push(worker_died, NULL);
	gs_mutex_lock(&pool.mu);
	while (alive) {
		worker_drain_locked();
		atomic_store_explicit(&w.wake, 0, memory_order_relaxed);
		w.spinning = gs__ncpu() > 1;
		w.prev = NULL;
		w.next = pool.idle;
		if (w.next)
			w.next->prev = &w;
		pool.idle = &w;
		pool.nidle++;
		gs_mutex_unlock(&pool.mu);
		alive = worker_idle(&w);
		if (alive)
			gs_mutex_lock(&pool.mu);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

/* Claims an idle thread for the job just queued, or starts one. */
static int spawn_thread_locked(struct node *n, uint64_t seq)
{
	struct worker *w = pool.idle;
	bool spinning;
	int err;

	if (w) {
		idle_remove_locked(w);
		spinning = w->spinning;
		/* Release: pairs with the acquire load in worker_idle. */
		atomic_store_explicit(&w->wake, 1, memory_order_release);
		if (!spinning)
			gs__wake(&w->wake, 1);
		gs_mutex_unlock(&pool.mu);
		return 0;
	}
	pool.nthreads++;
	pool.created++;
	gs_mutex_unlock(&pool.mu);
	err = gs__thread_create(worker_main, NULL);
	if (err == 0)
		return 0;
	gs_mutex_lock(&pool.mu);
	pool.nthreads--;
	/* A thread that finished its job may have taken ours already. */
	if (!queue_remove_locked(n, seq))
		err = 0;
	gs_mutex_unlock(&pool.mu);
	return err == ENOMEM ? ENOMEM : err ? EAGAIN : 0;
}

int gs__spawn(const struct gs__job *job)
{
	struct node *n;
	uint64_t seq;

	gs_mutex_lock(&pool.mu);
	n = pool.free;
	if (n) {
		pool.free = n->next;
		pool.nfree--;
	} else {
		gs_mutex_unlock(&pool.mu);
		n = malloc(sizeof *n);
		if (!n)
			return ENOMEM;
		gs_mutex_lock(&pool.mu);
	}
	n->job = *job;
	n->next = NULL;
	n->seq = seq = ++pool.seq;
	*pool.tailp = n;
	pool.tailp = &n->next;
	return spawn_thread_locked(n, seq);
}

static void go_run(const struct gs__job *job)
{
	((void (*)(void *))job->fn)(job->arg);
}

int gs_go(void (*fn)(void *), void *arg)
{
	struct gs__job job = {go_run, (gs__fnptr)fn, arg, NULL};

	return gs__spawn(&job);
}

void gs__executor_stats(int *threads, int *idle, uint64_t *created)
{
	gs_mutex_lock(&pool.mu);
	*threads = pool.nthreads;
	*idle = pool.nidle;
	*created = pool.created;
	gs_mutex_unlock(&pool.mu);
}

void gs__executor_set_idle_timeout(int64_t ns)
{
	gs_mutex_lock(&pool.mu);
	pool.idle_timeout = ns;
	gs_mutex_unlock(&pool.mu);
}
