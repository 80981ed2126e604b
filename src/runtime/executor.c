/*
 * executor.c - the pool of threads that runs gs_go's tasks.
 *
 * Promise: a task given to gs__spawn runs soon on some pool thread and
 * never waits for ever behind a task that blocks; a burst of small tasks
 * costs a queue push each, not a thread each.
 *
 * The pool keeps about as many threads running tasks as there are CPUs
 * (target). Under one mutex (pool.mu) it holds:
 *
 *	queue      FIFO of jobs not yet taken, each stamped when queued
 *	idle       LIFO of idle threads; the most recently idle one is
 *	           claimed first, so the rest reach their idle timeout and
 *	           retire
 *	running    threads running a task and not asleep in a gosync wait
 *	free       recycled job nodes, so a steady stream does not malloc
 *
 * gs__spawn queues the job, then makes sure a thread will come for it:
 * it claims an idle thread if there is one, starts a new thread if fewer
 * than target are running, and otherwise leaves the job to the running
 * threads, which take the next job each time they finish one.
 *
 * Two things stop a blocked task from stalling the queue. A pool thread
 * about to sleep in any gosync wait tells the pool through the wait
 * layer's hook (gs__wait_hook); the pool counts it out of running and,
 * if jobs wait, claims or starts a thread in its place. A task blocked
 * elsewhere (read(), sleep(), a pthread lock) is invisible to the hook,
 * so a monitor thread, awake only while jobs wait, starts a thread
 * whenever the oldest queued job has waited more than MONITOR_NS.
 *
 * Threads are capped (gs_go_set_max_threads, or GS_MAX_THREADS in the
 * environment, read once). When a job can get no thread at all, because
 * every thread is blocked and none can be started, gs__spawn takes the
 * job back and returns EAGAIN rather than let it wait for ever.
 *
 * An idle thread first spins a few microseconds on its own wake word,
 * then sleeps on it; claiming a spinning thread needs no system call.
 * After fork the child's pool is empty and starts again on first use.
 *
 * Memory orders: the queue and counts are ordered by the mutex; the wake
 * word's release store by the claimer pairs with the idle thread's
 * acquire load.
 *
 * Rejected: a thread per task (30 us a task here, and unbounded), and a
 * fixed pool with no growth (tasks that wait on each other deadlock once
 * every thread blocks). Limits: a task blocked outside gosync delays the
 * queue by up to MONITOR_NS before a thread is added; at the cap, queued
 * jobs wait for a running thread to come back; each blocked task holds
 * a thread, so ten thousand blocked tasks hold ten thousand threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include <gosync/runtime.h>

#include "runtime/executor.h"
#include "runtime/platform.h"
#include "runtime/wait.h"

#define FREE_MAX 1024
#define IDLE_SPIN 200 /* about 5 us of pauses here */
#define MONITOR_NS GS_MILLISECOND
#define DEFAULT_MAX_THREADS 10000

struct node {
	struct node *next;
	uint64_t seq;
	int64_t queued_at;
	struct gs__job job;
};

struct worker {
	_Atomic uint32_t wake; /* 0 idle, 1 claimed */
	bool spinning;         /* under pool.mu */
	struct worker *next, *prev;
};

static struct {
	pthread_mutex_t mu;
	struct node *head, **tailp;
	struct node *free;
	int nfree, nqueued;
	uint64_t seq;
	struct worker *idle;
	int nthreads, nidle, nrunning;
	int max_threads; /* 0 until first use reads the environment */
	uint64_t created;
	int64_t idle_timeout;
	uint64_t ntaken; /* jobs ever taken off the queue */
	bool monitor_started, monitor_asleep;
	_Atomic uint32_t monitor_word;
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, &pool.head, NULL, 0, 0, 0,
	  NULL, 0, 0, 0, 0, 0, 2 * GS_SECOND, 0, false, false, 0};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

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

/* The child of a fork has none of the parent's threads: start afresh. */
static void pool_after_fork(void)
{
	struct node *n, *next;

	pthread_mutex_init(&pool.mu, NULL);
	for (n = pool.head; n; n = next) {
		next = n->next;
		free(n);
	}
	pool.head = NULL;
	pool.tailp = &pool.head;
	pool.nqueued = 0;
	pool.idle = NULL;
	pool.nthreads = pool.nidle = pool.nrunning = 0;
	pool.monitor_started = pool.monitor_asleep = false;
}

/* fork holds the pool's mutex, so the child's copy is consistent. */
static void pool_before_fork(void)
{
	pthread_mutex_lock(&pool.mu);
}

static void pool_parent_after_fork(void)
{
	pthread_mutex_unlock(&pool.mu);
}

static void pool_init(void)
{
	const char *env = getenv("GS_MAX_THREADS");
	int n = env ? atoi(env) : 0;

	pthread_atfork(pool_before_fork, pool_parent_after_fork,
		       pool_after_fork);
	pthread_mutex_lock(&pool.mu);
	if (pool.max_threads == 0)
		pool.max_threads = n > 0 ? n : DEFAULT_MAX_THREADS;
	pthread_mutex_unlock(&pool.mu);
}

static struct node *queue_pop_locked(void)
{
	struct node *n = pool.head;

	if (n) {
		pool.head = n->next;
		if (!pool.head)
			pool.tailp = &pool.head;
		pool.nqueued--;
		pool.ntaken++;
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

/* Takes back a job that no thread will come for, if still queued. */
static bool queue_remove_locked(struct node *n, uint64_t seq)
{
	struct node **pp;

	for (pp = &pool.head; *pp; pp = &(*pp)->next) {
		if (*pp != n || n->seq != seq)
			continue;
		*pp = n->next;
		if (!*pp)
			pool.tailp = pp;
		pool.nqueued--;
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

static void *worker_main(void *arg);

/* Claims the most recently idle thread; false if none is idle. */
static bool claim_idle_locked(void)
{
	struct worker *w = pool.idle;

	if (!w)
		return false;
	idle_remove_locked(w);
	pool.nrunning++;
	/* Release: pairs with the acquire load in worker_idle. */
	atomic_store_explicit(&w->wake, 1, memory_order_release);
	if (!w->spinning)
		gs__wake(&w->wake, 1);
	return true;
}

/* Starts a thread, counted as running; called locked, returns locked. */
static int start_thread_locked(void)
{
	int err;

	if (pool.nthreads >= pool.max_threads)
		return EAGAIN;
	pool.nthreads++;
	pool.nrunning++;
	pool.created++;
	pthread_mutex_unlock(&pool.mu);
	err = gs__thread_create(worker_main, NULL);
	pthread_mutex_lock(&pool.mu);
	if (err != 0) {
		pool.nthreads--;
		pool.nrunning--;
	}
	return err;
}

/* Makes sure a thread will come for the queue; called locked. */
static int add_thread_locked(void)
{
	if (claim_idle_locked())
		return 0;
	return start_thread_locked();
}

static void worker_block_hook(bool blocking)
{
	pthread_mutex_lock(&pool.mu);
	if (!blocking) {
		pool.nrunning++;
	} else if (--pool.nrunning < gs__ncpu() && pool.nqueued > 0) {
		add_thread_locked();
	}
	pthread_mutex_unlock(&pool.mu);
}

static void worker_died(void *arg)
{
	(void)arg;
	/* The job ended the thread (pthread_exit): count it gone. */
	gs__wait_hook = NULL;
	pthread_mutex_lock(&pool.mu);
	pool.nthreads--;
	pool.nrunning--;
	if (pool.nqueued > 0 && pool.nrunning < gs__ncpu())
		add_thread_locked();
	pthread_mutex_unlock(&pool.mu);
}

/* Runs queued jobs until the queue is empty; called and returns locked. */
static void worker_drain_locked(void)
{
	struct node *n;
	struct gs__job job;

	while ((n = queue_pop_locked()) != NULL) {
		job = n->job;
		node_free_locked(n);
		pthread_mutex_unlock(&pool.mu);
		gs__wait_hook = worker_block_hook;
		job.run(&job);
		gs__wait_hook = NULL;
		pthread_mutex_lock(&pool.mu);
	}
}

/* Waits to be claimed; false when the idle timeout retired the thread. */
static bool worker_idle(struct worker *w)
{
	int64_t deadline;

	for (int i = 0; i < IDLE_SPIN && w->spinning; i++) {
		/* Acquire: pairs with the release in claim_idle_locked. */
		if (atomic_load_explicit(&w->wake, memory_order_acquire))
			return true;
		gs__spin_pause();
	}
	pthread_mutex_lock(&pool.mu);
	w->spinning = false;
	deadline = gs_now() + pool.idle_timeout;
	pthread_mutex_unlock(&pool.mu);
	while (!atomic_load_explicit(&w->wake, memory_order_acquire)) {
		if (gs__wait(&w->wake, 0, deadline) != ETIMEDOUT)
			continue;
		pthread_mutex_lock(&pool.mu);
		if (atomic_load_explicit(&w->wake, memory_order_relaxed)) {
			pthread_mutex_unlock(&pool.mu);
			return true;
		}
		idle_remove_locked(w);
		pool.nthreads--;
		pthread_mutex_unlock(&pool.mu);
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
	pthread_mutex_lock(&pool.mu);
	while (alive) {
		worker_drain_locked();
		pool.nrunning--;
		if (pool.nthreads > pool.max_threads) {
			/* Above a lowered cap: retire instead of idling. */
			pool.nthreads--;
			pthread_mutex_unlock(&pool.mu);
			break;
		}
		atomic_store_explicit(&w.wake, 0, memory_order_relaxed);
		w.spinning = gs__ncpu() > 1;
		w.prev = NULL;
		w.next = pool.idle;
		if (w.next)
			w.next->prev = &w;
		pool.idle = &w;
		pool.nidle++;
		pthread_mutex_unlock(&pool.mu);
		alive = worker_idle(&w);
		if (alive)
			pthread_mutex_lock(&pool.mu);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * The monitor: while jobs wait, looks every MONITOR_NS whether the
 * oldest has waited longer than that with no job taken meanwhile (every
 * thread is stuck, or busy for that long), and adds a thread if so. It
 * sleeps on monitor_word while the queue is empty.
 */
static void *monitor_main(void *arg)
{
	uint64_t taken = 0;

	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		uint32_t seen = atomic_load(&pool.monitor_word);
		int64_t now = gs_now(), until = GS_NEVER;

		if (pool.head) {
			if (now - pool.head->queued_at > MONITOR_NS &&
			    pool.ntaken == taken)
				add_thread_locked();
			taken = pool.ntaken;
			until = now + MONITOR_NS;
		}
		pool.monitor_asleep = until == GS_NEVER;
		pthread_mutex_unlock(&pool.mu);
		gs__wait(&pool.monitor_word, seen, until);
		pthread_mutex_lock(&pool.mu);
		pool.monitor_asleep = false;
	}
	return NULL;
}

/* Makes the monitor watch the queue, starting it the first time. */
static void poke_monitor_locked(void)
{
	if (!pool.monitor_started) {
		pool.monitor_started =
			gs__thread_create(monitor_main, NULL) == 0;
		return;
	}
	if (!pool.monitor_asleep)
		return; /* already polling */
	pool.monitor_asleep = false;
	atomic_fetch_add(&pool.monitor_word, 1);
	gs__wake(&pool.monitor_word, 1);
}

static struct node *node_get_locked(void)
{
	struct node *n = pool.free;

	if (n) {
		pool.free = n->next;
		pool.nfree--;
		return n;
	}
	pthread_mutex_unlock(&pool.mu);
	n = malloc(sizeof *n);
	pthread_mutex_lock(&pool.mu);
	return n;
}

int gs__spawn(const struct gs__job *job)
{
	struct node *n;
	uint64_t seq;
	int err = 0;

	pthread_once(&atfork_once, pool_init);
	pthread_mutex_lock(&pool.mu);
	n = node_get_locked();
	if (!n) {
		pthread_mutex_unlock(&pool.mu);
		return ENOMEM;
	}
	n->job = *job;
	n->next = NULL;
	n->seq = seq = ++pool.seq;
	n->queued_at = gs_now();
	*pool.tailp = n;
	pool.tailp = &n->next;
	pool.nqueued++;
	if (pool.nrunning < gs__ncpu()) {
		if (!claim_idle_locked())
			err = start_thread_locked();
	} else {
		/* Left to the running threads; the monitor watches them. */
		poke_monitor_locked();
	}
	/* A job no thread will come for goes back to the caller. */
	if (pool.nrunning == 0 && queue_remove_locked(n, seq)) {
		pthread_mutex_unlock(&pool.mu);
		return err == ENOMEM ? ENOMEM : EAGAIN;
	}
	pthread_mutex_unlock(&pool.mu);
	return 0;
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

int gs_go_set_max_threads(int n)
{
	int old;

	pthread_once(&atfork_once, pool_init);
	pthread_mutex_lock(&pool.mu);
	old = pool.max_threads;
	if (n > 0)
		pool.max_threads = n;
	pthread_mutex_unlock(&pool.mu);
	return old;
}

void gs__executor_stats(int *threads, int *idle, uint64_t *created)
{
	pthread_mutex_lock(&pool.mu);
	*threads = pool.nthreads;
	*idle = pool.nidle;
	*created = pool.created;
	pthread_mutex_unlock(&pool.mu);
}

void gs__executor_set_idle_timeout(int64_t ns)
{
	pthread_mutex_lock(&pool.mu);
	pool.idle_timeout = ns;
	pthread_mutex_unlock(&pool.mu);
}
