/*
 * bench_sync.c - the workloads of Go's own sync benchmarks, run on
 * gosync, on pthreads and on GLib in one process, so that the three sit
 * in one table and each gosync row can be set beside Go's figure of the
 * same name (bench/run.sh does that with bench/run_go.sh's output).
 *
 * The workloads are those of Go 1.19's sync tests (mutex_test.go and
 * its neighbours in src/sync), by name:
 *
 *	MutexUncontended  each thread its own padded lock: lock, unlock
 *	Mutex             one lock: lock, unlock
 *	MutexWork         one lock: lock, unlock, then 100 steps of work
 *	RWMutexWrite100   one lock: every 100th op of a thread locks for
 *	RWMutexWrite10    writing (10th), the rest lock for reading
 *	WaitGroupUncontended  each thread its own group: add 1, done, wait
 *	Once              once_do after the first call (the done path)
 *	CondN             N+1 threads meet on one cond each round: each
 *	                  takes the lock and counts itself in; the last
 *	                  broadcasts, the others wait; one op = one round
 *
 * Beside them, rows Go has no benchmark for: MutexUncontended and Once
 * on one thread, and RWMutexReadLock (read lock+unlock, one thread).
 * Multi-thread rows run two threads (Go's GOMAXPROCS on the two cores
 * the anchors used), CondN runs N+1, whatever the core count.
 *
 * Each workload is written once, as a macro over the primitive's calls,
 * and stamped out for each side, so that the three run one loop and a
 * change cannot reach one side and miss the others. The peers are the
 * default pthread_mutex_t, pthread_rwlock_t and pthread_cond_t, and
 * GLib's GMutex, GRWLock, GCond and g_once. Neither pthreads nor GLib
 * has a wait group, so WaitGroupUncontended sets gs_waitgroup beside
 * the counter a C programmer writes instead: a count under a mutex,
 * with a condition variable to wait for zero.
 *
 * Go's benchmarkCond counts its goroutines' start-up in the time; here
 * the threads are created before the clock starts (harness.h), which
 * costs nothing in accuracy: a run lasts about 250 ms. Its Wait has no
 * loop around it, as in Go: Go's Cond and gs_cond never wake a waiter
 * spuriously; pthreads and GLib may, and a spurious wakeup would only
 * shift a thread into the next round, never hang the run.
 *
 * Limits: figures move by up to ~1.5x between runs on a shared machine;
 * CondN with more threads than cores mostly measures the scheduler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gosync/cond.h"
#include "gosync/mutex.h"
#include "gosync/once.h"
#include "gosync/rwmutex.h"
#include "gosync/waitgroup.h"

#ifdef HAVE_GLIB
#include <glib.h>
#endif

#include "harness.h"
#include "loops.h"

#define PAR_THREADS 2
#define SIDES       3

/* Go pads each thread's own lock or group with 128 bytes. */
#define PADDED(type)                                                           \
	struct {                                                               \
		_Alignas(128) type v;                                          \
	}

/* The loops, each stamped out once per side; the lock loops are loops.h's. */

#define WG_LOOP(fn, type, add, done, wait)                                     \
	static void fn(void *ctx, uint64_t n)                                  \
	{                                                                      \
		type *wg = ctx;                                                \
                                                                               \
		for (uint64_t i = 0; i < n; i++) {                             \
			add(wg, 1);                                            \
			done(wg);                                              \
			wait(wg);                                              \
			BARRIER();                                             \
		}                                                              \
	}

/*
 * Go's benchmarkCond, line for line: id counts the threads in this
 * round; -1 says one thread has done its rounds, and the rest stop.
 */
struct cond_ctx {
	void *c;
	void *mu;
	int waiters;
	int id;
};

#define COND_LOOP(fn, ctype, mtype, lock, unlock, wait, broadcast)             \
	static void fn(void *ctx, uint64_t n)                                  \
	{                                                                      \
		struct cond_ctx *r = ctx;                                      \
		ctype *c = r->c;                                               \
		mtype *mu = r->mu;                                             \
                                                                               \
		for (uint64_t i = 0; i < n; i++) {                             \
			lock(mu);                                              \
			if (r->id == -1) {                                     \
				unlock(mu);                                    \
				break;                                         \
			}                                                      \
			r->id++;                                               \
			if (r->id == r->waiters + 1) {                         \
				r->id = 0;                                     \
				broadcast(c);                                  \
			} else {                                               \
				wait(c, mu);                                   \
			}                                                      \
			unlock(mu);                                            \
		}                                                              \
		lock(mu);                                                      \
		r->id = -1;                                                    \
		broadcast(c);                                                  \
		unlock(mu);                                                    \
	}

/* Each run starts a fresh barrier; the last one left id at -1. */
static void cond_reset(void *ctx)
{
	struct cond_ctx *r = ctx;

	r->id = 0;
}

/* gosync. */

/* gs_cond_wait takes no mutex: the cond holds its locker. */
#define wait_gs_cond(c, mu) ((void)(mu), gs_cond_wait(c))

LOCK_LOOP(lock_loop_gs, gs_mutex_t, gs_mutex_lock, gs_mutex_unlock)
WORK_LOOP(work_loop_gs, gs_mutex_t, gs_mutex_lock, gs_mutex_unlock)
LOCK_LOOP(read_loop_gs, gs_rwmutex_t, gs_rwmutex_rlock, gs_rwmutex_runlock)
RW_LOOP(rw_loop_gs, gs_rwmutex_t, gs_rwmutex_rlock, gs_rwmutex_runlock,
        gs_rwmutex_lock, gs_rwmutex_unlock)
WG_LOOP(wg_loop_gs, gs_waitgroup_t, gs_waitgroup_add, gs_waitgroup_done,
        gs_waitgroup_wait)
COND_LOOP(cond_loop_gs, gs_cond_t, gs_mutex_t, gs_mutex_lock, gs_mutex_unlock,
          wait_gs_cond, gs_cond_broadcast)

static void once_fn_gs(void *arg)
{
	(void)arg;
}

static void once_loop_gs(void *ctx, uint64_t n)
{
	gs_once_t *o = ctx;

	for (uint64_t i = 0; i < n; i++) {
		gs_once_do(o, once_fn_gs, NULL);
		BARRIER();
	}
}

static PADDED(gs_mutex_t) mu_own_gs[PAR_THREADS];
static _Alignas(64) gs_mutex_t mu_gs;
static _Alignas(64) gs_rwmutex_t rw_gs;
static PADDED(gs_waitgroup_t) wg_own_gs[PAR_THREADS];
static _Alignas(64) gs_once_t once_gs = GS_ONCE_INIT;
static _Alignas(64) gs_mutex_t cond_mu_gs;
static gs_cond_t cond_gs = GS_COND_INIT(GS_MUTEX_LOCKER(&cond_mu_gs));

/* pthreads. */

#define pt_rdlock   pthread_rwlock_rdlock
#define pt_wrlock   pthread_rwlock_wrlock
#define pt_rwunlock pthread_rwlock_unlock

/* The wait group a C programmer writes: a count, a lock, a condvar. */
struct pt_wg {
	pthread_mutex_t mu;
	pthread_cond_t zero;
	int n;
	int waiters;
};

static void pt_wg_add(struct pt_wg *wg, int delta)
{
	pthread_mutex_lock(&wg->mu);
	wg->n += delta;
	if (wg->n == 0 && wg->waiters > 0)
		pthread_cond_broadcast(&wg->zero);
	pthread_mutex_unlock(&wg->mu);
}

static void pt_wg_done(struct pt_wg *wg)
{
	pt_wg_add(wg, -1);
}

static void pt_wg_wait(struct pt_wg *wg)
{
	pthread_mutex_lock(&wg->mu);
	wg->waiters++;
	while (wg->n != 0)
		pthread_cond_wait(&wg->zero, &wg->mu);
	wg->waiters--;
	pthread_mutex_unlock(&wg->mu);
}

LOCK_LOOP(lock_loop_pt, pthread_mutex_t, pthread_mutex_lock,
          pthread_mutex_unlock)
WORK_LOOP(work_loop_pt, pthread_mutex_t, pthread_mutex_lock,
          pthread_mutex_unlock)
LOCK_LOOP(read_loop_pt, pthread_rwlock_t, pt_rdlock, pt_rwunlock)
RW_LOOP(rw_loop_pt, pthread_rwlock_t, pt_rdlock, pt_rwunlock, pt_wrlock,
        pt_rwunlock)
WG_LOOP(wg_loop_pt, struct pt_wg, pt_wg_add, pt_wg_done, pt_wg_wait)
COND_LOOP(cond_loop_pt, pthread_cond_t, pthread_mutex_t, pthread_mutex_lock,
          pthread_mutex_unlock, pthread_cond_wait, pthread_cond_broadcast)

static void once_fn_pt(void)
{
}

static void once_loop_pt(void *ctx, uint64_t n)
{
	pthread_once_t *o = ctx;

	for (uint64_t i = 0; i < n; i++) {
		pthread_once(o, once_fn_pt);
		BARRIER();
	}
}

static PADDED(pthread_mutex_t) mu_own_pt[PAR_THREADS];
static _Alignas(64) pthread_mutex_t mu_pt = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) pthread_rwlock_t rw_pt = PTHREAD_RWLOCK_INITIALIZER;
static PADDED(struct pt_wg) wg_own_pt[PAR_THREADS];
static _Alignas(64) pthread_once_t once_pt = PTHREAD_ONCE_INIT;
static _Alignas(64) pthread_mutex_t cond_mu_pt = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond_pt = PTHREAD_COND_INITIALIZER;

/* GLib. */

#ifdef HAVE_GLIB
/* The same counter in GLib's types. */
struct gl_wg {
	GMutex mu;
	GCond zero;
	int n;
	int waiters;
};

static void gl_wg_add(struct gl_wg *wg, int delta)
{
	g_mutex_lock(&wg->mu);
	wg->n += delta;
	if (wg->n == 0 && wg->waiters > 0)
		g_cond_broadcast(&wg->zero);
	g_mutex_unlock(&wg->mu);
}

static void gl_wg_done(struct gl_wg *wg)
{
	gl_wg_add(wg, -1);
}

static void gl_wg_wait(struct gl_wg *wg)
{
	g_mutex_lock(&wg->mu);
	wg->waiters++;
	while (wg->n != 0)
		g_cond_wait(&wg->zero, &wg->mu);
	wg->waiters--;
	g_mutex_unlock(&wg->mu);
}

LOCK_LOOP(lock_loop_gl, GMutex, g_mutex_lock, g_mutex_unlock)
WORK_LOOP(work_loop_gl, GMutex, g_mutex_lock, g_mutex_unlock)
LOCK_LOOP(read_loop_gl, GRWLock, g_rw_lock_reader_lock, g_rw_lock_reader_unlock)
RW_LOOP(rw_loop_gl, GRWLock, g_rw_lock_reader_lock, g_rw_lock_reader_unlock,
        g_rw_lock_writer_lock, g_rw_lock_writer_unlock)
WG_LOOP(wg_loop_gl, struct gl_wg, gl_wg_add, gl_wg_done, gl_wg_wait)
COND_LOOP(cond_loop_gl, GCond, GMutex, g_mutex_lock, g_mutex_unlock,
          g_cond_wait, g_cond_broadcast)

static gpointer once_fn_gl(gpointer arg)
{
	return arg;
}

static void once_loop_gl(void *ctx, uint64_t n)
{
	GOnce *o = ctx;

	for (uint64_t i = 0; i < n; i++) {
		gpointer v = g_once(o, once_fn_gl, NULL);

		USE(v);
		BARRIER();
	}
}

/* Statically allocated GLib locks need no init: zero is unlocked. */
static PADDED(GMutex) mu_own_gl[PAR_THREADS];
static _Alignas(64) GMutex mu_gl;
static _Alignas(64) GRWLock rw_gl;
static PADDED(struct gl_wg) wg_own_gl[PAR_THREADS];
static _Alignas(64) GOnce once_gl = G_ONCE_INIT;
static _Alignas(64) GMutex cond_mu_gl;
static GCond cond_gl;

#define GLIB_SIDE(...)       __VA_ARGS__
#define GLIB_ONLY(x, absent) x
#else
#define GLIB_SIDE(...)                                                         \
	{                                                                      \
		.name = NULL                                                   \
	}
#define GLIB_ONLY(x, absent) absent
#endif

/* The contexts the loops run on. */

static const struct rw_ctx rw100_gs = {&rw_gs, 100}, rw10_gs = {&rw_gs, 10};
static const struct rw_ctx rw100_pt = {&rw_pt, 100}, rw10_pt = {&rw_pt, 10};
#ifdef HAVE_GLIB
static const struct rw_ctx rw100_gl = {&rw_gl, 100}, rw10_gl = {&rw_gl, 10};
#endif

static struct cond_ctx cc_gs[4] = {{&cond_gs, &cond_mu_gs, 1, 0},
                                   {&cond_gs, &cond_mu_gs, 2, 0},
                                   {&cond_gs, &cond_mu_gs, 4, 0},
                                   {&cond_gs, &cond_mu_gs, 8, 0}};
static struct cond_ctx cc_pt[4] = {{&cond_pt, &cond_mu_pt, 1, 0},
                                   {&cond_pt, &cond_mu_pt, 2, 0},
                                   {&cond_pt, &cond_mu_pt, 4, 0},
                                   {&cond_pt, &cond_mu_pt, 8, 0}};
#ifdef HAVE_GLIB
static struct cond_ctx cc_gl[4] = {{&cond_gl, &cond_mu_gl, 1, 0},
                                   {&cond_gl, &cond_mu_gl, 2, 0},
                                   {&cond_gl, &cond_mu_gl, 4, 0},
                                   {&cond_gl, &cond_mu_gl, 8, 0}};
#endif

/* The rows: one workload, and each side's name, loop and context. */

struct side {
	const char *name;
	void (*body)(void *ctx, uint64_t n);
	void *ctx;
	size_t stride;
};

struct row {
	const char *group;
	const char *workload;
	int threads;
	/* Every thread runs each op (CondN) rather than sharing them. */
	bool each;
	struct side side[SIDES];
};

enum { GS, PT, GL };

#define OWN(arr) (void *)&(arr)[0].v, sizeof((arr)[0])
#define ONE(obj) (void *)(obj), 0

/* CondN's sides: cond_ctx i holds N waiters on each side's cond. */
#define COND_SIDES(i)                                                          \
	{                                                                      \
		{"gs_cond+gs_mutex", cond_loop_gs, ONE(&cc_gs[i])},            \
		{"pthread_cond+mutex", cond_loop_pt, ONE(&cc_pt[i])},          \
		GLIB_SIDE({"GCond+GMutex", cond_loop_gl, ONE(&cc_gl[i])}),     \
	}

static const struct row rows[] = {
        {"mutex",
         "MutexUncontended",
         1,
         false,
         {{"gs_mutex", lock_loop_gs, OWN(mu_own_gs)},
          {"pthread_mutex", lock_loop_pt, OWN(mu_own_pt)},
          GLIB_SIDE({"GMutex", lock_loop_gl, OWN(mu_own_gl)})}},
        {"mutex",
         "MutexUncontended",
         PAR_THREADS,
         false,
         {{"gs_mutex", lock_loop_gs, OWN(mu_own_gs)},
          {"pthread_mutex", lock_loop_pt, OWN(mu_own_pt)},
          GLIB_SIDE({"GMutex", lock_loop_gl, OWN(mu_own_gl)})}},
        {"mutex",
         "Mutex",
         PAR_THREADS,
         false,
         {{"gs_mutex", lock_loop_gs, ONE(&mu_gs)},
          {"pthread_mutex", lock_loop_pt, ONE(&mu_pt)},
          GLIB_SIDE({"GMutex", lock_loop_gl, ONE(&mu_gl)})}},
        {"mutex",
         "MutexWork",
         PAR_THREADS,
         false,
         {{"gs_mutex", work_loop_gs, ONE(&mu_gs)},
          {"pthread_mutex", work_loop_pt, ONE(&mu_pt)},
          GLIB_SIDE({"GMutex", work_loop_gl, ONE(&mu_gl)})}},
        {"rwmutex",
         "RWMutexReadLock",
         1,
         false,
         {{"gs_rwmutex", read_loop_gs, ONE(&rw_gs)},
          {"pthread_rwlock", read_loop_pt, ONE(&rw_pt)},
          GLIB_SIDE({"GRWLock", read_loop_gl, ONE(&rw_gl)})}},
        {"rwmutex",
         "RWMutexWrite100",
         PAR_THREADS,
         false,
         {{"gs_rwmutex", rw_loop_gs, ONE(&rw100_gs)},
          {"pthread_rwlock", rw_loop_pt, ONE(&rw100_pt)},
          GLIB_SIDE({"GRWLock", rw_loop_gl, ONE(&rw100_gl)})}},
        {"rwmutex",
         "RWMutexWrite10",
         PAR_THREADS,
         false,
         {{"gs_rwmutex", rw_loop_gs, ONE(&rw10_gs)},
          {"pthread_rwlock", rw_loop_pt, ONE(&rw10_pt)},
          GLIB_SIDE({"GRWLock", rw_loop_gl, ONE(&rw10_gl)})}},
        {"waitgroup",
         "WaitGroupUncontended",
         PAR_THREADS,
         false,
         {{"gs_waitgroup", wg_loop_gs, OWN(wg_own_gs)},
          {"pthread mutex+cond counter", wg_loop_pt, OWN(wg_own_pt)},
          GLIB_SIDE({"GMutex+GCond counter", wg_loop_gl, OWN(wg_own_gl)})}},
        {"once",
         "Once",
         1,
         false,
         {{"gs_once", once_loop_gs, ONE(&once_gs)},
          {"pthread_once", once_loop_pt, ONE(&once_pt)},
          GLIB_SIDE({"g_once", once_loop_gl, ONE(&once_gl)})}},
        {"once",
         "Once",
         PAR_THREADS,
         false,
         {{"gs_once", once_loop_gs, ONE(&once_gs)},
          {"pthread_once", once_loop_pt, ONE(&once_pt)},
          GLIB_SIDE({"g_once", once_loop_gl, ONE(&once_gl)})}},
        {"cond", "Cond1", 2, true, COND_SIDES(0)},
        {"cond", "Cond2", 3, true, COND_SIDES(1)},
        {"cond", "Cond4", 5, true, COND_SIDES(2)},
        {"cond", "Cond8", 9, true, COND_SIDES(3)},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Sizes: what each primitive costs in memory, type by type. */

struct size_row {
	const char *primitive;
	const char *type[SIDES];
	size_t bytes[SIDES];
};

static const struct size_row sizes[] = {
        {"Mutex",
         {"gs_mutex_t", "pthread_mutex_t", GLIB_ONLY("GMutex", NULL)},
         {sizeof(gs_mutex_t), sizeof(pthread_mutex_t),
          GLIB_ONLY(sizeof(GMutex), 0)}},
        {"RWMutex",
         {"gs_rwmutex_t", "pthread_rwlock_t", GLIB_ONLY("GRWLock", NULL)},
         {sizeof(gs_rwmutex_t), sizeof(pthread_rwlock_t),
          GLIB_ONLY(sizeof(GRWLock), 0)}},
        {"Cond",
         {"gs_cond_t", "pthread_cond_t", GLIB_ONLY("GCond", NULL)},
         {sizeof(gs_cond_t), sizeof(pthread_cond_t),
          GLIB_ONLY(sizeof(GCond), 0)}},
        {"Once",
         {"gs_once_t", "pthread_once_t", GLIB_ONLY("GOnce", NULL)},
         {sizeof(gs_once_t), sizeof(pthread_once_t),
          GLIB_ONLY(sizeof(GOnce), 0)}},
        {"WaitGroup",
         {"gs_waitgroup_t", "counter (mutex+cond)",
          GLIB_ONLY("counter (GMutex+GCond)", NULL)},
         {sizeof(gs_waitgroup_t), sizeof(struct pt_wg),
          GLIB_ONLY(sizeof(struct gl_wg), 0)}},
};

#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Measuring a row: pthreads, then GLib, then gosync, as bench_core. */

static void measure_row(const struct row *r, const struct bench_opts *o,
                        struct result res[SIDES])
{
	static const int order[SIDES] = {PT, GL, GS};

	for (int k = 0; k < SIDES; k++) {
		const struct side *s = &r->side[order[k]];
		struct bench b = {
		        .name = s->name,
		        .threads = r->threads,
		        .unit = 1,
		        .body = s->body,
		        .ctx = s->ctx,
		        .stride = s->stride,
		        .each = r->each,
		        .before = r->each ? cond_reset : NULL,
		};

		if (s->name == NULL) {
			memset(&res[order[k]], 0, sizeof(res[0]));
			continue;
		}
		res[order[k]] = bench_measure(&b, o->reps, o->target_ns);
	}
}

/* Output: the tables on stdout, and the same as JSON on request. */

#define ROW_FMT "%-21s %-4s %-5s %-16s %-16s %-16s %-13s %s\n"

static void print_row(const struct row *r, const struct result res[SIDES],
                      int cores)
{
	char thr[16], cor[16], f[SIDES][64], rp[64], rg[64];

	snprintf(thr, sizeof(thr), "%dT", r->threads);
	snprintf(cor, sizeof(cor), "%dc", cores);
	for (int k = 0; k < SIDES; k++) {
		if (r->side[k].name != NULL)
			bench_fmt_pair(f[k], sizeof(f[k]), &res[k]);
		else
			snprintf(f[k], sizeof(f[k]), "-");
	}
	bench_fmt_ratios(rp, sizeof(rp), &res[GS], &res[PT]);
	if (r->side[GL].name != NULL)
		bench_fmt_ratios(rg, sizeof(rg), &res[GS], &res[GL]);
	else
		snprintf(rg, sizeof(rg), "-");
	printf(ROW_FMT, r->workload, thr, cor, f[GS], f[PT], f[GL], rp, rg);
	fflush(stdout);
}

static void print_sizes(void)
{
	char cell[SIDES][64];

	printf("\nsizes, bytes (sizeof)\n");
	printf("%-10s %-22s %-26s %s\n", "primitive", "gosync", "pthreads",
	       "GLib");
	for (size_t i = 0; i < NSIZES; i++) {
		for (int k = 0; k < SIDES; k++) {
			if (sizes[i].type[k] == NULL)
				snprintf(cell[k], sizeof(cell[k]), "-");
			else
				snprintf(cell[k], sizeof(cell[k]), "%s %zu",
				         sizes[i].type[k], sizes[i].bytes[k]);
		}
		printf("%-10s %-22s %-26s %s\n", sizes[i].primitive, cell[GS],
		       cell[PT], cell[GL]);
	}
}

/* The results and sizes, for bench_json_write. */
static void record(struct result (*res)[SIDES])
{
	static const char *const side[SIDES] = {"gosync", "pthreads",
	                                        "GLib"};

	for (size_t i = 0; i < NROWS; i++) {
		for (int k = 0; k < SIDES; k++) {
			struct bench_rec rec = {.group = rows[i].group,
			                        .workload = rows[i].workload,
			                        .threads = rows[i].threads,
			                        .impl = rows[i].side[k].name,
			                        .side = side[k],
			                        .go = rows[i].workload};

			if (rec.impl != NULL)
				bench_record(&rec, &res[i][k]);
		}
	}
	for (size_t i = 0; i < NSIZES; i++)
		for (int k = 0; k < SIDES; k++)
			if (sizes[i].type[k] != NULL)
				bench_size(sizes[i].primitive, side[k],
				           sizes[i].type[k], sizes[i].bytes[k]);
}

static void print_header(const struct bench_opts *o, int cores)
{
	printf("bench_sync: Go's sync benchmarks; ns/op, median (min) of %d "
	       "repetition%s of ~%.0f ms, on %d core%s\n",
	       o->reps, o->reps == 1 ? "" : "s", o->target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("multi-thread rows: wall time / all operations of all "
	       "threads (Go's RunParallel)\n");
	printf("CondN: N+1 threads, one op = one round of all of them\n");
	printf("timed after a second thread has existed, so glibc locks "
	       "atomically\n");
	printf("ratios: gosync / peer, median (min); below 1 = gosync "
	       "faster\n");
#ifndef HAVE_GLIB
	bench_skip("GLib: not installed");
#endif
	printf("\n" ROW_FMT, "workload", "thr", "cores", "gosync", "pthreads",
	       "GLib", "gs/pthreads", "gs/GLib");
}

static void print_legend(int cores)
{
	printf("\n(ns/op on %d cores, nproc; peers: pthread_mutex_t, "
	       "pthread_rwlock_t,\n"
	       " pthread_cond_t and pthread_once, all default",
	       cores);
#ifdef HAVE_GLIB
	printf("; GMutex, GRWLock, GCond, g_once");
#endif
	printf(".\n WaitGroupUncontended: pthreads and GLib have no wait "
	       "group; their columns\n"
	       " are a count under a mutex with a condvar for zero, written "
	       "in this benchmark.)\n");
}

static void init_locks(void)
{
	int err;

	for (int i = 0; i < PAR_THREADS; i++) {
		err = pthread_mutex_init(&mu_own_pt[i].v, NULL);
		if (err == 0)
			err = pthread_mutex_init(&wg_own_pt[i].v.mu, NULL);
		if (err == 0)
			err = pthread_cond_init(&wg_own_pt[i].v.zero, NULL);
		if (err != 0)
			bench_die("pthread init", err);
	}
}

/* Runs the first call of each once, so that the rows time the rest. */
static void first_onces(void)
{
	gs_once_do(&once_gs, once_fn_gs, NULL);
	pthread_once(&once_pt, once_fn_pt);
#ifdef HAVE_GLIB
	USE(g_once(&once_gl, once_fn_gl, NULL));
#endif
}

int main(int argc, char **argv)
{
	static struct result res[NROWS][SIDES];
	struct bench_opts o;
	int cores = bench_cores(), rc;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	init_locks();
	bench_go_multithreaded();
	first_onces();

	print_header(&o, cores);
	for (size_t i = 0; i < NROWS; i++) {
		measure_row(&rows[i], &o, res[i]);
		print_row(&rows[i], res[i], cores);
	}
	print_legend(cores);
	print_sizes();
	record(res);
	return bench_json_write(&o);
}
