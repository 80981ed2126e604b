/*
 * counter.c - the RWMutex bug hunt: a shared counter, wrong twice, then
 * right.
 *
 * A counter guarded by a gs_rwmutex_t is incremented by 100 concurrent
 * workers, three ways:
 *
 *	mismatched  the first draft: read lock, get, set, then the *write*
 *	            unlock. gosync catches the mismatched pair and aborts
 *	            with "gs: rwmutex: unlock of unlocked rwmutex", as Go
 *	            panics. That variant runs in a child process, whose
 *	            death and stderr line the parent reports.
 *	racy        the unlock fixed, and only that: get under the read
 *	            lock, set under the write lock. Each half is safe, the
 *	            increment is not: workers that read the same value write
 *	            the same value back, and increments are lost.
 *	fixed       get and set under one write lock: exactly 100.
 *
 * The workers run with gs_waitgroup_go and start together: each checks
 * in on a waitgroup, then waits for a starting gun, a context that main
 * cancels once all have checked in (Go's close(start)). In the racy
 * variant a short pause between get and set, standing for the work a
 * real caller does there, lets other workers read the stale value; it
 * makes the loss show on every run rather than now and then. No variant
 * has a data race: every access is under a lock, which is why no race
 * detector finds the racy one.
 *
 * Usage: counter [mismatched|racy|fixed]; with no argument it runs all
 * three, the first in a child. The exit status is 0 when each variant
 * behaved as described (the child aborted with the line, the racy count
 * fell short, the fixed count reached 100).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <gosync.h>

#define WORKERS     100
#define MISUSE_LINE "gs: rwmutex: unlock of unlocked rwmutex"

struct counter {
	gs_rwmutex_t mu;
	int n;
};

static int counter_get(struct counter *c)
{
	gs_rwmutex_rlock(&c->mu);
	int n = c->n;
	gs_rwmutex_runlock(&c->mu);
	return n;
}

static void counter_set(struct counter *c, int n)
{
	gs_rwmutex_lock(&c->mu);
	c->n = n;
	gs_rwmutex_unlock(&c->mu);
}

/* Bug 1: a read lock released with the write unlock. */
static void incr_mismatched(struct counter *c)
{
	gs_rwmutex_rlock(&c->mu);
	int n = c->n;
	c->n = n + 1;
	gs_rwmutex_unlock(&c->mu); /* aborts: this is not the read unlock */
}

/* The work a real caller does between reading and writing. */
static void pause_briefly(void)
{
	struct timespec ts = {0, 200 * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Bug 2: each half locked, the increment as a whole not. */
static void incr_racy(struct counter *c)
{
	int n = counter_get(c);

	pause_briefly();
	counter_set(c, n + 1);
}

/* The fix: one write lock around the get and the set. */
static void incr_fixed(struct counter *c)
{
	gs_rwmutex_lock(&c->mu);
	c->n++;
	gs_rwmutex_unlock(&c->mu);
}

/* One run: WORKERS workers, released together, increment once each. */
struct run {
	struct counter c;
	void (*incr)(struct counter *c);
	gs_waitgroup_t ready;
	gs_ctx_t *gun;
};

static void worker(void *arg)
{
	struct run *r = arg;

	gs_waitgroup_done(&r->ready);
	gs_ctx_wait(r->gun);
	r->incr(&r->c);
}

static int run_workers(void (*incr)(struct counter *c))
{
	struct run r = {{GS_RWMUTEX_INIT, 0}, incr, GS_WAITGROUP_INIT, 0};
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int err;

	if ((err = gs_ctx_with_cancel(NULL, &r.gun)) != 0) {
		fprintf(stderr, "counter: context: %s\n", strerror(err));
		exit(1);
	}
	gs_waitgroup_add(&r.ready, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		if ((err = gs_waitgroup_go(&wg, worker, &r)) != 0) {
			fprintf(stderr, "counter: worker %d: %s\n", i,
				strerror(err));
			exit(1);
		}
	gs_waitgroup_wait(&r.ready);
	gs_ctx_cancel(r.gun); /* the starting gun */
	gs_waitgroup_wait(&wg);
	gs_ctx_unref(r.gun);
	return r.c.n;
}

/* Runs the mismatched increment here; it does not come back. */
_Noreturn static void run_mismatched(void)
{
	struct counter c = {GS_RWMUTEX_INIT, 0};

	incr_mismatched(&c);
	printf("counter: mismatched: unlock returned, count %d\n", c.n);
	exit(1);
}

/* Runs the mismatched increment in a child and reports how it died. */
static bool check_mismatched(void)
{
	char line[256];
	size_t len = 0;
	ssize_t got;
	int fds[2], status;
	pid_t pid;

	fflush(NULL);
	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		perror("counter: child");
		exit(1);
	}
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		run_mismatched();
	}
	close(fds[1]);
	while (len < sizeof line - 1 &&
	       ((got = read(fds[0], line + len, sizeof line - 1 - len)) > 0 ||
		(got < 0 && errno == EINTR)))
		if (got > 0)
			len += (size_t)got;
	close(fds[0]);
	line[len] = 0;
	line[strcspn(line, "\n")] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
	printf("counter: mismatched: rlock then unlock, in a child: %s\n",
	       aborted ? "killed by SIGABRT" : "not killed");
	printf("counter: mismatched: its stderr: %s\n", line);
	return aborted && strcmp(line, MISUSE_LINE) == 0;
}

static bool check_racy(void)
{
	int n = run_workers(incr_racy);

	printf("counter: racy: get under rlock, set under lock, %d workers: "
	       "count %d, %d increments lost\n",
	       WORKERS, n, WORKERS - n);
	return n < WORKERS;
}

static bool check_fixed(void)
{
	int n = run_workers(incr_fixed);

	printf("counter: fixed: one write lock around get and set, "
	       "%d workers: count %d, %d lost\n",
	       WORKERS, n, WORKERS - n);
	return n == WORKERS;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	bool ok;

	if (strcmp(mode, "mismatched") == 0) {
		run_mismatched();
	} else if (strcmp(mode, "racy") == 0) {
		ok = check_racy();
	} else if (strcmp(mode, "fixed") == 0) {
		ok = check_fixed();
	} else if (strcmp(mode, "all") == 0) {
		/* The child first, before this process has any threads. */
		ok = check_mismatched();
		ok = check_racy() && ok;
		ok = check_fixed() && ok;
	} else {
		fprintf(stderr, "usage: counter [mismatched|racy|fixed]\n");
		return 2;
	}
	return ok ? 0 : 1;
}
