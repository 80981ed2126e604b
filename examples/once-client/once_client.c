/*
 * once_client.c - a client made lazily, on first use, by many threads:
 * with gs_once_do against a mutex, and with gs_once_try when making it
 * can fail.
 *
 * Part 1, gs_once_do against a mutex. Both getters make the client on
 * the first call and return it on every call; both make exactly one.
 * The once's done path is one acquire load, inline; the mutex getter
 * takes and releases the lock on every call, and its threads contend
 * for one cache line. Each thread times its own loop from a common
 * starting gun; the figure printed is the slowest thread's loop over
 * its calls, so it includes any wait for the others. It is one short
 * run on whatever machine runs it (the CPU count is printed beside it),
 * not a benchmark: bench/ has those.
 *
 * Part 2, gs_once_try. The connect fails the first FAILS times with
 * ECONNREFUSED, as a server that is not up yet would, and takes a while
 * each time. Four callers arrive during the first attempt: all four get
 * its error, and the attempt runs once. The next caller tries again and
 * fails; the one after it connects. From then on every call returns 0
 * at once and the connect is never called again.
 *
 * Usage: once_client [--calls N] [--threads T] (defaults 1000000 and 4).
 * The exit status is 0 when every promise above held: one client made
 * by each getter, every caller of the first attempt given its error, a
 * retry on each later call until success, no call after it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gosync.h>

#define FAILS      2
#define CONNECT_NS (50 * GS_MILLISECOND)
#define CALLERS    4

struct client {
	int id;
};

static atomic_int clients_made;

static struct client *client_new(void)
{
	struct client *c = malloc(sizeof *c);

	if (c == NULL) {
		perror("once-client: malloc");
		exit(1);
	}
	c->id = atomic_fetch_add(&clients_made, 1) + 1;
	return c;
}

/* The client through gs_once_do. */
static gs_once_t once_client_once = GS_ONCE_INIT;
static struct client *once_client;

static void make_once_client(void *arg)
{
	(void)arg;
	once_client = client_new();
}

static struct client *get_once_client(void)
{
	gs_once_do(&once_client_once, make_once_client, NULL);
	return once_client;
}

/* The same client through a mutex and a NULL check. */
static gs_mutex_t locked_client_mu = GS_MUTEX_INIT;
static struct client *locked_client;

static struct client *get_locked_client(void)
{
	gs_mutex_lock(&locked_client_mu);
	if (locked_client == NULL)
		locked_client = client_new();
	struct client *c = locked_client;
	gs_mutex_unlock(&locked_client_mu);
	return c;
}

/*
 * Callers released together: each checks in on ready, waits for the
 * gun (a context main cancels), then runs fn(r, i).
 */
struct crowd {
	int threads;
	void (*fn)(struct crowd *r, int i);
	gs_waitgroup_t ready;
	gs_ctx_t *gun;
	long calls;
	struct client *(*get)(void);
	int64_t loop_ns[64];
	int results[64];
};

struct seat {
	struct crowd *r;
	int i;
};

static void crowd_member(void *arg)
{
	struct seat *s = arg;

	gs_waitgroup_done(&s->r->ready);
	gs_ctx_wait(s->r->gun);
	s->r->fn(s->r, s->i);
}

static void crowd_run(struct crowd *r)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	struct seat seats[64];
	int err;

	r->ready = (gs_waitgroup_t)GS_WAITGROUP_INIT;
	if ((err = gs_ctx_with_cancel(NULL, &r->gun)) != 0) {
		fprintf(stderr, "once-client: context: %s\n", strerror(err));
		exit(1);
	}
	gs_waitgroup_add(&r->ready, r->threads);
	for (int i = 0; i < r->threads; i++) {
		seats[i] = (struct seat){r, i};
		if ((err = gs_waitgroup_go(&wg, crowd_member, &seats[i]))) {
			fprintf(stderr, "once-client: thread: %s\n",
				strerror(err));
			exit(1);
		}
	}
	gs_waitgroup_wait(&r->ready);
	gs_ctx_cancel(r->gun);
	gs_waitgroup_wait(&wg);
	gs_ctx_unref(r->gun);
}

/* Part 1: the getter in a loop, timed by the thread itself. */
static void get_in_loop(struct crowd *r, int i)
{
	uintptr_t sum = 0;
	int64_t start = gs_now();

	for (long k = 0; k < r->calls; k++)
		sum += (uintptr_t)r->get();
	r->loop_ns[i] = gs_now() - start;
	r->results[i] = sum != 0;
}

static bool time_getter(const char *name, struct client *(*get)(void),
			int threads, long calls)
{
	struct crowd r = {.threads = threads, .fn = get_in_loop,
			  .calls = calls, .get = get};
	int before = atomic_load(&clients_made);
	int64_t slowest = 0;

	crowd_run(&r);
	for (int i = 0; i < threads; i++)
		if (r.loop_ns[i] > slowest)
			slowest = r.loop_ns[i];
	int made = atomic_load(&clients_made) - before;
	printf("once-client: %-10s %d client made, slowest thread %.1f ms, "
	       "%.1f ns a call\n",
	       name, made, slowest / 1e6, (double)slowest / (double)calls);
	return made == 1;
}

/* Part 2: a connect that fails the first FAILS times. */
static gs_once_t conn_once = GS_ONCE_INIT;
static atomic_int connect_attempts;
static struct client *conn;
static gs_waitgroup_t first_callers = GS_WAITGROUP_INIT;

static int connect_server(void *arg)
{
	int n = atomic_fetch_add(&connect_attempts, 1) + 1;

	(void)arg;
	/*
	 * The first attempt lasts until all its callers have come, and
	 * long enough after that for each to be inside gs_once_try even
	 * on a loaded machine.
	 */
	if (n == 1) {
		gs_waitgroup_wait_until(&first_callers,
					gs_now() + 10 * GS_SECOND);
		gs_ctx_wait_until(NULL, gs_now() + 4 * CONNECT_NS);
	}
	gs_ctx_wait_until(NULL, gs_now() + CONNECT_NS);
	if (n <= FAILS)
		return ECONNREFUSED;
	conn = client_new();
	return 0;
}

static int get_conn(void)
{
	return gs_once_try(&conn_once, connect_server, NULL);
}

static void first_caller(struct crowd *r, int i)
{
	gs_waitgroup_done(&first_callers);
	r->results[i] = get_conn();
}

static void later_caller(struct crowd *r, int i)
{
	r->results[i] = 0;
	for (long k = 0; k < r->calls; k++)
		if (get_conn() != 0)
			r->results[i]++;
}

static const char *result_name(int err)
{
	return err == 0 ? "ok" : strerror(err);
}

static bool try_connect(void)
{
	struct crowd r = {.threads = CALLERS, .fn = first_caller};
	bool ok = true;
	int err, got_error = 0;

	printf("once-client: gs_once_try: the connect fails the first %d "
	       "times, %lld ms each (the first waits for its callers too)\n",
	       FAILS, (long long)(CONNECT_NS / GS_MILLISECOND));
	gs_waitgroup_add(&first_callers, CALLERS);
	crowd_run(&r);
	for (int i = 0; i < CALLERS; i++)
		got_error += r.results[i] == ECONNREFUSED;
	printf("once-client: %d callers at once: %d of %d got \"%s\", "
	       "connect attempts %d\n",
	       CALLERS, got_error, CALLERS, strerror(ECONNREFUSED),
	       atomic_load(&connect_attempts));
	ok = got_error == CALLERS && atomic_load(&connect_attempts) == 1;

	for (int call = 1; call <= FAILS; call++) {
		err = get_conn();
		printf("once-client: next caller: %s, connect attempts %d\n",
		       result_name(err), atomic_load(&connect_attempts));
		ok = ok && err == (call < FAILS ? ECONNREFUSED : 0);
	}

	r = (struct crowd){.threads = CALLERS, .fn = later_caller,
			   .calls = 1000};
	crowd_run(&r);
	int failed = 0;
	for (int i = 0; i < CALLERS; i++)
		failed += r.results[i];
	printf("once-client: then %d threads x %ld calls: %d failed, "
	       "connect attempts %d\n",
	       CALLERS, r.calls, failed, atomic_load(&connect_attempts));
	return ok && failed == 0 && atomic_load(&connect_attempts) == FAILS + 1;
}

int main(int argc, char **argv)
{
	long calls = 1000000;
	int threads = 4;

	bool usage = false;

	for (int i = 1; i < argc && !usage; i += 2) {
		if (i + 1 == argc)
			usage = true;
		else if (strcmp(argv[i], "--calls") == 0)
			calls = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else
			usage = true;
	}
	if (usage || calls < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: once_client [--calls N] "
				"[--threads T (1 to 64)]\n");
		return 2;
	}

	printf("once-client: lazy client, %d threads x %ld calls, %ld CPUs\n",
	       threads, calls, sysconf(_SC_NPROCESSORS_ONLN));
	bool ok = time_getter("gs_once_do", get_once_client, threads, calls);
	ok = time_getter("mutex", get_locked_client, threads, calls) && ok;
	ok = try_connect() && ok;
	printf("once-client: %s\n", ok ? "every promise held" : "FAILED");
	return ok ? 0 : 1;
}
