/*
 * bench_locks.c - gs_mutex and gs_rwmutex on the lock rows of
 * shared/reference/anchors.md, beside the lock peers found when the
 * program was built: pthreads always; Concurrency Kit's
 * ck_spinlock_fas, ck_rwlock and ck_brlock where its headers are
 * (HAVE_CK); tbb::spin_mutex and tbb::spin_rw_mutex (HAVE_TBB) and
 * absl::Mutex (HAVE_ABSL), whose loops are C++ and live in
 * bench_locks_cxx.cpp. A peer that was not found is skipped with a
 * line saying so.
 *
 * The rows are Go's workloads by name, as bench_sync's are, so that
 * bench/run.sh sets Go's figure beside them: MutexUncontended (one
 * thread), Mutex and MutexWork (two), RWMutexReadLock (one),
 * RWMutexWrite100 and RWMutexWrite10 (two). Every implementation runs
 * the one loop of loops.h, each on a lock of its own, with the method
 * of harness.h, gosync first in each row and then the peers in the
 * order above.
 *
 * Limits: the spinlocks (ck_spinlock_fas, tbb's, ck_rwlock, ck_brlock)
 * never sleep, so on a machine with fewer cores than threads a holder
 * that is preempted makes its waiters spin out their time slices, and
 * the two-thread rows on two shared cores move more than the rest;
 * ck_brlock's readers are registered once, one per thread slot, as its
 * contract asks; figures move by up to ~1.5x between runs.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gosync/mutex.h"
#include "gosync/rwmutex.h"

#ifdef HAVE_CK
#include <ck_brlock.h>
#include <ck_rwlock.h>
#include <ck_spinlock.h>
#endif

#include "harness.h"
#include "loops.h"

#define PAR_THREADS 2

/* gosync. */

static _Alignas(64) gs_mutex_t mu_gs;
static _Alignas(64) gs_rwmutex_t rw_gs;
static const struct rw_ctx rw100_gs = {&rw_gs, 100}, rw10_gs = {&rw_gs, 10};

LOCK_LOOP(lock_loop_gs, gs_mutex_t, gs_mutex_lock, gs_mutex_unlock)
WORK_LOOP(work_loop_gs, gs_mutex_t, gs_mutex_lock, gs_mutex_unlock)
LOCK_LOOP(read_loop_gs, gs_rwmutex_t, gs_rwmutex_rlock, gs_rwmutex_runlock)
RW_LOOP(rw_loop_gs, gs_rwmutex_t, gs_rwmutex_rlock, gs_rwmutex_runlock,
        gs_rwmutex_lock, gs_rwmutex_unlock)

/* pthreads, default attributes. */

static _Alignas(64) pthread_mutex_t mu_pt = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) pthread_rwlock_t rw_pt = PTHREAD_RWLOCK_INITIALIZER;
static const struct rw_ctx rw100_pt = {&rw_pt, 100}, rw10_pt = {&rw_pt, 10};

LOCK_LOOP(lock_loop_pt, pthread_mutex_t, pthread_mutex_lock,
          pthread_mutex_unlock)
WORK_LOOP(work_loop_pt, pthread_mutex_t, pthread_mutex_lock,
          pthread_mutex_unlock)
LOCK_LOOP(read_loop_pt, pthread_rwlock_t, pthread_rwlock_rdlock,
          pthread_rwlock_unlock)
RW_LOOP(rw_loop_pt, pthread_rwlock_t, pthread_rwlock_rdlock,
        pthread_rwlock_unlock, pthread_rwlock_wrlock, pthread_rwlock_unlock)

/* Concurrency Kit. */

#ifdef HAVE_CK
static _Alignas(64) ck_spinlock_fas_t mu_fas = CK_SPINLOCK_FAS_INITIALIZER;
static _Alignas(64) ck_rwlock_t rw_ck = CK_RWLOCK_INITIALIZER;
static const struct rw_ctx rw100_ck = {&rw_ck, 100}, rw10_ck = {&rw_ck, 10};

LOCK_LOOP(lock_loop_fas, ck_spinlock_fas_t, ck_spinlock_fas_lock,
          ck_spinlock_fas_unlock)
WORK_LOOP(work_loop_fas, ck_spinlock_fas_t, ck_spinlock_fas_lock,
          ck_spinlock_fas_unlock)
LOCK_LOOP(read_loop_ck, ck_rwlock_t, ck_rwlock_read_lock,
          ck_rwlock_read_unlock)
RW_LOOP(rw_loop_ck, ck_rwlock_t, ck_rwlock_read_lock, ck_rwlock_read_unlock,
        ck_rwlock_write_lock, ck_rwlock_write_unlock)

/* A brlock reader is per thread: thread i reads through slot i. */
struct brl {
	_Alignas(128) ck_brlock_t *lock;
	ck_brlock_reader_t reader;
};

static ck_brlock_t brlock;
static struct brl brl[PAR_THREADS];
static const struct rw_ctx brl100[PAR_THREADS] = {{&brl[0], 100},
                                                  {&brl[1], 100}};
static const struct rw_ctx brl10[PAR_THREADS] = {{&brl[0], 10},
                                                 {&brl[1], 10}};

#define brl_rlock(b)   ck_brlock_read_lock((b)->lock, &(b)->reader)
#define brl_runlock(b) ck_brlock_read_unlock(&(b)->reader)
#define brl_lock(b)    ck_brlock_write_lock((b)->lock)
#define brl_unlock(b)  ck_brlock_write_unlock((b)->lock)

LOCK_LOOP(read_loop_brl, struct brl, brl_rlock, brl_runlock)
RW_LOOP(rw_loop_brl, struct brl, brl_rlock, brl_runlock, brl_lock,
        brl_unlock)

static void init_brlock(void)
{
	ck_brlock_init(&brlock);
	for (int i = 0; i < PAR_THREADS; i++) {
		brl[i].lock = &brlock;
		ck_brlock_read_register(&brlock, &brl[i].reader);
	}
}
#endif

static const struct lock_impl c_locks[] = {
        {"gs_mutex", "gosync", false, lock_loop_gs, work_loop_gs, &mu_gs,
         NULL, NULL, 0},
        {"gs_rwmutex", "gosync", true, read_loop_gs, rw_loop_gs, &rw_gs,
         &rw100_gs, &rw10_gs, 0},
        {"pthread_mutex", "pthreads", false, lock_loop_pt, work_loop_pt,
         &mu_pt, NULL, NULL, 0},
        {"pthread_rwlock", "pthreads", true, read_loop_pt, rw_loop_pt,
         &rw_pt, &rw100_pt, &rw10_pt, 0},
#ifdef HAVE_CK
        {"ck_spinlock_fas", "CK", false, lock_loop_fas, work_loop_fas,
         &mu_fas, NULL, NULL, 0},
        {"ck_rwlock", "CK", true, read_loop_ck, rw_loop_ck, &rw_ck,
         &rw100_ck, &rw10_ck, 0},
        {"ck_brlock", "CK", true, read_loop_brl, rw_loop_brl, &brl[0],
         &brl100[0], &brl10[0], sizeof(brl100[0])},
#endif
};

#define NC_LOCKS (sizeof(c_locks) / sizeof(c_locks[0]))

#ifndef HAVE_CXX_LOCKS
/* No C++ part was built: the table of its locks is empty. */
const struct lock_impl bench_cxx_locks[1];
const size_t bench_cxx_nlocks = 0;

void bench_cxx_init(void)
{
}
#endif

/* The rows: a workload, its threads, and which loop on which context. */

enum loop { ONE_ON_CTX, TWO_ON_CTX, TWO_ON_RW100, TWO_ON_RW10 };

struct row {
	const char *workload;
	bool rw;
	int threads;
	enum loop loop;
};

static const struct row rows[] = {
        {"MutexUncontended", false, 1, ONE_ON_CTX},
        {"Mutex", false, PAR_THREADS, ONE_ON_CTX},
        {"MutexWork", false, PAR_THREADS, TWO_ON_CTX},
        {"RWMutexReadLock", true, 1, ONE_ON_CTX},
        {"RWMutexWrite100", true, PAR_THREADS, TWO_ON_RW100},
        {"RWMutexWrite10", true, PAR_THREADS, TWO_ON_RW10},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static struct bench row_bench(const struct row *r, const struct lock_impl *l)
{
	struct bench b = {.name = l->name, .threads = r->threads, .unit = 1};

	switch (r->loop) {
	case ONE_ON_CTX:
		b.body = l->one;
		b.ctx = l->ctx;
		break;
	case TWO_ON_CTX:
		b.body = l->two;
		b.ctx = l->ctx;
		break;
	case TWO_ON_RW100:
	case TWO_ON_RW10:
		b.body = l->two;
		b.ctx = (void *)(r->loop == TWO_ON_RW100 ? l->rw100 : l->rw10);
		b.stride = l->stride;
		break;
	}
	return b;
}

#define ROW_FMT "%-17s %-4s %-5s %-20s %-9s %-17s %s\n"

/* Measures, prints and keeps one implementation on one row. */
static void run_one(const struct row *r, const struct lock_impl *l,
                    const struct bench_opts *o, int cores,
                    struct result *gs)
{
	struct bench b = row_bench(r, l);
	struct result res = bench_measure(&b, o->reps, o->target_ns);
	struct bench_rec rec = {.group = r->rw ? "rwmutex" : "mutex",
	                        .workload = r->workload,
	                        .threads = r->threads,
	                        .impl = l->name,
	                        .side = l->side,
	                        .go = r->workload};
	char thr[16], cor[16], f[64], q[64] = "-";

	if (strcmp(l->side, "gosync") == 0)
		*gs = res;
	else
		bench_fmt_ratios(q, sizeof(q), gs, &res);
	snprintf(thr, sizeof(thr), "%dT", r->threads);
	snprintf(cor, sizeof(cor), "%dc", cores);
	bench_fmt_pair(f, sizeof(f), &res);
	printf(ROW_FMT, r->workload, thr, cor, l->name, l->side, f, q);
	fflush(stdout);
	bench_record(&rec, &res);
}

static void skips(void)
{
#ifndef HAVE_CK
	bench_skip("CK: not installed (ck_spinlock_fas, ck_rwlock, ck_brlock)");
#endif
#ifndef HAVE_TBB
	bench_skip("TBB: not installed, or no C++ compiler "
	           "(tbb::spin_mutex, tbb::spin_rw_mutex)");
#endif
#ifndef HAVE_ABSL
	bench_skip("Abseil: not installed, or no C++ compiler (absl::Mutex)");
#endif
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	int cores = bench_cores(), rc;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	bench_go_multithreaded();
	bench_cxx_init();
#ifdef HAVE_CK
	init_brlock();
#endif

	printf("bench_locks: the lock rows of the anchors; ns/op, median (min) "
	       "of %d repetition%s\nof ~%.0f ms, on %d core%s\n",
	       o.reps, o.reps == 1 ? "" : "s", o.target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("2T rows: %d threads, wall time / all operations of both "
	       "(Go's RunParallel)\n",
	       PAR_THREADS);
	printf("ratio: gosync / peer, median (min); below 1 = gosync "
	       "faster\n");
	skips();
	printf("\n" ROW_FMT, "workload", "thr", "cores", "implementation",
	       "side", "ns/op", "ratio");

	for (size_t i = 0; i < NROWS; i++) {
		struct result gs = {0};

		for (size_t k = 0; k < NC_LOCKS; k++)
			if (c_locks[k].rw == rows[i].rw)
				run_one(&rows[i], &c_locks[k], &o, cores, &gs);
		for (size_t k = 0; k < bench_cxx_nlocks; k++)
			if (bench_cxx_locks[k].rw == rows[i].rw)
				run_one(&rows[i], &bench_cxx_locks[k], &o,
				        cores, &gs);
	}
	printf("\n(ns/op on %d cores, nproc; every lock runs loops.h's loop, "
	       "on a lock of its own)\n",
	       cores);
	return bench_json_write(&o);
}
