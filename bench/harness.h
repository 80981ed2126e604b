/*
 * harness.h - the timing and the JSON output that gosync's benchmarks
 * share, so that every row of every bench_* program is measured one
 * way, the way shared/reference/anchors.md measured its peers, and
 * written in one schema (gosync-bench/1, below bench_fmt_ratios).
 *
 * Method:
 *
 * - ns per operation, median (min) of 5 repetitions of about 250 ms
 *   each, after a calibration that grows the operation count until a
 *   run lasts a tenth of that and then scales it to the full length;
 * - a multi-thread benchmark either follows Go's RunParallel rule, all
 *   threads drawing operations from one shared count in grains of about
 *   100 us of work (at most 10,000 operations), or, where every thread
 *   must run each operation (Go's benchmarkCond, where one operation is
 *   a round that all of them take part in), lets each thread run the
 *   whole count; either way ns/op is wall time over the count;
 * - a shared count rather than a fixed share each keeps an unfair lock
 *   from stretching the run by starving one thread at the end;
 * - threads are created before the clock starts and released together
 *   by one flag, so thread creation is never timed;
 * - the clock is CLOCK_MONOTONIC; nothing is pinned.
 *
 * A benchmark body runs n operations through the primitive's
 * out-of-line functions, with BARRIER() in every iteration so that
 * nothing is folded away even under link-time optimisation.
 *
 * Limits: figures on a shared or throttled machine move by up to ~1.5x
 * between runs; trust min for the best case and the median for the
 * typical one, and compare ratios rather than absolute times.
 */
#ifndef GOSYNC_BENCH_HARNESS_H
#define GOSYNC_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_REPS_FULL       5
#define BENCH_TARGET_FULL_NS  250000000.0
#define BENCH_REPS_QUICK      1
#define BENCH_TARGET_QUICK_NS 20000000.0

/* The most threads one benchmark may run (Go's Cond8 needs 9). */
#define BENCH_MAX_THREADS 16

/* Go's local work: foo *= 2; foo /= 2, this many times. */
#define BENCH_WORK_ITERS 100

/* Keeps a loop iteration from being merged with its neighbours. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* Makes x opaque: the compiler must compute it and cannot predict it. */
#define HIDE(x) __asm__ __volatile__("" : "+r"(x))

/* Consumes x, so that the work that made it is not dead. */
#define USE(x) __asm__ __volatile__("" : : "r"(x))

struct bench {
	const char *name;
	/* 1, or that many threads started together. */
	int threads;
	/* The operation count is always a multiple of unit. */
	uint64_t unit;
	void (*body)(void *ctx, uint64_t n);
	/* Thread i runs body on ctx + i * stride: 0 shares one context. */
	void *ctx;
	size_t stride;
	/* Every thread runs all n operations instead of sharing them. */
	bool each;
	/* If set, called on ctx before every timed run, outside the clock. */
	void (*before)(void *ctx);
	/*
	 * If set, called after before with the run's operation count, also
	 * outside the clock: for state that depends on n (a fresh map for
	 * every unit operations of the run).
	 */
	void (*prepare)(void *ctx, uint64_t n);
	/* If not 0, no run is longer than this many operations. */
	uint64_t max_n;
};

struct result {
	double median;
	double min;
	uint64_t n;
};

struct bench_opts {
	int reps;
	double target_ns;
	const char *json;
};

/* The program's name, for messages; set by bench_parse_args. */
extern const char *bench_prog;

/* bench_die prints "PROG: what: strerror(err)" and exits with 1. */
void bench_die(const char *what, int err);

int64_t bench_now_ns(void);

/* bench_cores returns the CPUs this process may run on, as nproc does. */
int bench_cores(void);

/*
 * bench_go_multithreaded starts and joins one thread. glibc takes its
 * locks with plain loads and stores, not atomics, for as long as the
 * process has never had a second thread, and pthread_mutex then costs a
 * third of its real price. Every program that needs a lock has threads,
 * so this runs before anything is timed and leaves glibc on its atomic
 * path for good.
 */
void bench_go_multithreaded(void);

/* The spawn rows' batch: tasks submitted before each wait. */
#define BENCH_TASK_BATCH 10000

/*
 * Bodies shared by the spawn rows: n no-op threads created and joined
 * one by one (ctx unused), and n no-op tasks through gs_waitgroup_go on
 * the group ctx, waited for once a batch.
 */
void bench_body_pthread_spawn(void *ctx, uint64_t n);
void bench_body_waitgroup_go(void *ctx, uint64_t n);

/*
 * bench_parse_args reads --quick, --json FILE and --help into o. It
 * returns -1 to go on, or the exit status main should return (0 after
 * --help, 2 after a bad argument, with the usage on stderr).
 */
int bench_parse_args(int argc, char **argv, struct bench_opts *o);

/* bench_measure calibrates b, then times it reps times (reps <= 5). */
struct result bench_measure(const struct bench *b, int reps, double target);

/*
 * Formatting: three significant digits below 1,000, whole nanoseconds
 * grouped by thousands above; a pair is "median (min)"; ratios keep
 * their trailing zeros, so that a column of them lines up.
 */
void bench_fmt_num(char *buf, size_t len, double v);
void bench_fmt_pair(char *buf, size_t len, const struct result *r);
void bench_fmt_ratio(char *buf, size_t len, double r);
void bench_fmt_ratios(char *buf, size_t len, const struct result *a,
                      const struct result *b);

/*
 * Results as JSON, schema "gosync-bench/1": the one layout that every
 * program's --json FILE takes and that bench/run.sh and bench/report.sh
 * read, so that a new program joins the CSV and the report by calling
 * bench_record for what it measured and bench_json_write at the end.
 *
 *	{
 *	  "schema": "gosync-bench/1",
 *	  "program": "bench_sync",
 *	  "cores": 2,
 *	  "repetitions": 5,
 *	  "target_ms": 250,
 *	  "results": [
 *	    {"group": "mutex", "workload": "Mutex", "threads": 2,
 *	     "implementation": "gs_mutex", "side": "gosync",
 *	     "median_ns": 12.5, "min_ns": 11.9, "ops": 20000000,
 *	     "unit": "ns/op", "go": "Mutex", "target_ns": 0,
 *	     "target_go": 0},
 *	    ...
 *	  ],
 *	  "sizes": [
 *	    {"primitive": "Mutex", "side": "gosync", "type": "gs_mutex_t",
 *	     "bytes": 8},
 *	    ...
 *	  ],
 *	  "skipped": ["GLib: not installed"]
 *	}
 *
 * A result is one implementation measured on one row; a row is the
 * workload and thread count it shares with the other implementations
 * of its group, the table it belongs to in the report. side is
 * "gosync" for the library and the peer's family otherwise ("pthreads",
 * "GLib", "CK", "TBB", "Abseil", "POSIX"); the report divides the first
 * gosync result of a row by each other result of the row. go names the
 * Go benchmark of the same workload, as bench/run_go.sh names it ("" for
 * none), whose figure on the same thread count the report sets beside
 * the row; target_ns is the most the gosync median should take and
 * target_go the most gosync / Go should be (0: no target). ops is the
 * operation count of each timed repetition (samples, for a latency).
 * sizes are sizeof figures; skipped says which peers were left out and
 * why. Every result, size and skip sits on one line of its own, so
 * that a line-based reader (awk, grep) takes each whole.
 */
struct bench_rec {
	/* The table: "mutex", "rwmutex", "spawn", ... */
	const char *group;
	const char *workload;
	int threads;
	/* What ran: "gs_mutex", "pthread_mutex", "GMutex", ... */
	const char *impl;
	/* "gosync", or the peer's family. */
	const char *side;
	/* Go's benchmark of the workload, or NULL. */
	const char *go;
	/* NULL means "ns/op". */
	const char *unit;
	/* Targets of a gosync result; 0 for none. */
	double target_ns;
	double target_go;
};

/*
 * bench_record keeps one result for the JSON; the strings are copied.
 * bench_size keeps one size. bench_skip prints "PROG: WHAT, skipped"
 * and keeps WHAT for the JSON's skipped list.
 */
void bench_record(const struct bench_rec *rec, const struct result *r);
void bench_size(const char *primitive, const char *side, const char *type,
                size_t bytes);
void bench_skip(const char *what);

/*
 * bench_json_write writes what was kept to o->json, if --json was
 * given, and returns main's exit status: 0, or 1 after a message.
 */
int bench_json_write(const struct bench_opts *o);

/*
 * bench_json_side writes one side of a row as a JSON object: the
 * layout before gosync-bench/1, kept for programs not yet moved to
 * bench_record; run.sh leaves a file in that layout out of the report.
 */
void bench_json_side(FILE *f, const char *name, const struct result *r);

/*
 * bench_local_work is Go's local work; foo lives on between calls. It is
 * hidden from the optimiser after each step, so that both steps are
 * computed in a register, as Go's compiler computes them.
 */
static inline void bench_local_work(int *foo)
{
	int v = *foo;

	for (int j = 0; j < BENCH_WORK_ITERS; j++) {
		v *= 2;
		HIDE(v);
		v /= 2;
		HIDE(v);
	}
	*foo = v;
}

#endif
