/*
 * bench_xsync.c - the x/sync primitives that bench_runtime leaves out:
 * gs_semaphore_t on x/sync's own semaphore benchmarks and beside POSIX
 * sem_t, and gs_singleflight_do with one caller and with eight.
 *
 * The method is harness.h's, the one shared/reference/anchors.md used
 * for the peers: ns/op, median (min) of repeated runs, multi-thread
 * rows by Go's RunParallel rule. Every row names the Go benchmark of
 * its workload, so that bench/run.sh can set Go's figure, run on the
 * same machine by run_go.sh, beside it:
 *
 *	NewSeq/Weighted-C      x/sync: a semaphore of size C made and
 *	                       dropped; Go's stays on the stack, so the C
 *	                       one is an initialised local as well
 *	AcquireSeq/Weighted-acquire-C-S-N, ...-tryAcquire-C-S-N
 *	                       x/sync: on one semaphore of size C, N
 *	                       acquires (or try_acquires) of weight S, then
 *	                       N releases; one op is the whole round, and
 *	                       no round ever has to wait
 *	acquire+release        acquire 1 of a size-1 semaphore and release
 *	                       it, beside sem_wait+sem_post; the workload of
 *	                       AcquireSeq/Weighted-acquire-1-1-1, whose Go
 *	                       figure run.sh sets beside it
 *	singleflight.Do/distinct-keys
 *	                       one caller, a new key each call, so every do
 *	                       leads its own flight
 *	singleflight.Do/one-key-8g
 *	                       eight threads calling do on one key; ns per
 *	                       do call, wall time over the calls of all
 *
 * x/sync has no singleflight benchmark upstream, so the Go side of the
 * two singleflight rows is bench/go/xsync's own, written to match these.
 * The function of a flight stores a static value and returns at once
 * on both sides; a key is the call counter's eight bytes, as Go's is.
 * Go's acquires pass context.Background(), and so do these, through
 * gs_ctx_background(). C has no garbage collector, so each do also
 * releases its result; Go pays for its call records in its collector
 * instead, inside the timed span too.
 *
 * Limits: figures move by up to ~1.5x between runs on a shared machine;
 * the eight-caller row runs eight threads whatever the core count, so
 * on two cores it mostly measures how the lock behaves when its holder
 * is preempted; with a function that returns at once few callers find
 * a flight still running, so it times the table's lock more than the
 * sharing of a result.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gosync/context.h"
#include "gosync/semaphore.h"
#include "gosync/singleflight.h"

#include "harness.h"

#define SF_CALLERS 8

/* The targets: sem_t's and Go's singleflight in the anchors. */
#define SEM_TARGET_NS       7.72
#define SEM_GO_ANCHOR_NS    14.9
#define SF_KEYS_TARGET_NS   201.0
#define SF_ONEKEY_TARGET_NS 316.0

enum section { SEMAPHORE, SINGLEFLIGHT };

/* Which closing target line judges a row. */
enum target { NO_TARGET, SEM_TARGET, SF_KEYS_TARGET, SF_ONEKEY_TARGET };

struct row {
	const char *workload;
	enum section section;
	const struct bench *gs;
	/* NULL where C has no peer. */
	const struct bench *peer;
	/* The Go benchmark of the same workload, as run_go.sh names it. */
	const char *go;
	enum target target;
};

static void fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_prog, what);
	exit(1);
}

/* Semaphore: x/sync's NewSeq and AcquireSeq, and a sem_t beside it. */

struct seq {
	gs_semaphore_t sem;
	int64_t size;
	int count;
};

static void body_new(void *ctx, uint64_t n)
{
	int64_t size = *(const int64_t *)ctx;

	for (uint64_t i = 0; i < n; i++) {
		gs_semaphore_t s = GS_SEMAPHORE_INIT(size);

		/* The compiler must build s, but it never leaves the stack. */
		__asm__ __volatile__("" : : "r"(&s) : "memory");
		HIDE(size);
	}
}

/* Go's acquireN: count acquires of size, then count releases. */
static void body_acquire(void *ctx, uint64_t n)
{
	struct seq *q = ctx;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		for (int j = 0; j < q->count; j++) {
			err = gs_semaphore_acquire(&q->sem,
			                           gs_ctx_background(),
			                           q->size);
			if (err != 0)
				bench_die("gs_semaphore_acquire", err);
		}
		for (int j = 0; j < q->count; j++)
			gs_semaphore_release(&q->sem, q->size);
		BARRIER();
	}
}

/* Go's tryAcquireN: as acquireN, and every try must succeed. */
static void body_try_acquire(void *ctx, uint64_t n)
{
	struct seq *q = ctx;

	for (uint64_t i = 0; i < n; i++) {
		for (int j = 0; j < q->count; j++)
			if (!gs_semaphore_try_acquire(&q->sem, q->size))
				fail("gs_semaphore_try_acquire failed on a "
				     "free semaphore");
		for (int j = 0; j < q->count; j++)
			gs_semaphore_release(&q->sem, q->size);
		BARRIER();
	}
}

static sem_t posix_sem;

static void body_sem_t(void *ctx, uint64_t n)
{
	sem_t *s = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (sem_wait(s) != 0)
			bench_die("sem_wait", errno);
		if (sem_post(s) != 0)
			bench_die("sem_post", errno);
		BARRIER();
	}
}

/* Singleflight: a flight returns one static value at once. */

static int sf_value;

static int flight(void *arg, void **value)
{
	(void)arg;
	*value = &sf_value;
	return 0;
}

static void sf_check(int err, const gs_singleflight_result_t *r)
{
	if (err != 0)
		bench_die("gs_singleflight_do", err);
	if (r->value != &sf_value)
		fail("gs_singleflight_do: the flight's value is lost");
}

static gs_singleflight_t sf_keys = GS_SINGLEFLIGHT_INIT(NULL, NULL);
static gs_singleflight_t sf_onekey = GS_SINGLEFLIGHT_INIT(NULL, NULL);

/* The count goes on between runs, so that a key is never used twice. */
static uint64_t sf_next_key;

static void body_sf_keys(void *ctx, uint64_t n)
{
	gs_singleflight_t *g = ctx;
	gs_singleflight_result_t r;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t key = sf_next_key++;

		err = gs_singleflight_do(g, &key, sizeof(key), flight, NULL,
		                         &r);
		sf_check(err, &r);
		gs_singleflight_release(&r);
	}
}

static void body_sf_onekey(void *ctx, uint64_t n)
{
	gs_singleflight_t *g = ctx;
	gs_singleflight_result_t r;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		err = gs_singleflight_do(g, "k", 1, flight, NULL, &r);
		sf_check(err, &r);
		gs_singleflight_release(&r);
	}
}

/* The benchmarks and the rows that use them. */

static const int64_t new_sizes[] = {1, 128};

#define NEW_BENCH(i)                                                           \
	{                                                                      \
		.name = "gs_semaphore", .threads = 1, .unit = 1,               \
		.body = body_new, .ctx = (void *)&new_sizes[i]                 \
	}

static const struct bench b_new[] = {NEW_BENCH(0), NEW_BENCH(1)};

/* x/sync's cases, size/weight/count, in the order Go runs them. */
#define SEQ(c, s, k) {GS_SEMAPHORE_INIT(c), (s), (k)}

static struct seq seqs[] = {
        SEQ(1, 1, 1),  SEQ(2, 1, 1),   SEQ(16, 1, 1),   SEQ(128, 1, 1),
        SEQ(2, 2, 1),  SEQ(16, 2, 8),  SEQ(128, 2, 64), SEQ(2, 1, 2),
        SEQ(16, 8, 2), SEQ(128, 64, 2), SEQ(1, 1, 1),
};

/* The last entry is the acquire+release row's own semaphore. */
#define SEQ_PLAIN 10

#define SEQ_BENCH(i, fn)                                                       \
	{                                                                      \
		.name = "gs_semaphore", .threads = 1, .unit = 1, .body = fn,   \
		.ctx = &seqs[i]                                                \
	}
#define SEQ_PAIR(i) SEQ_BENCH(i, body_acquire), SEQ_BENCH(i, body_try_acquire)

static const struct bench b_seq[] = {
        SEQ_PAIR(0), SEQ_PAIR(1), SEQ_PAIR(2), SEQ_PAIR(3), SEQ_PAIR(4),
        SEQ_PAIR(5), SEQ_PAIR(6), SEQ_PAIR(7), SEQ_PAIR(8), SEQ_PAIR(9),
};

static const struct bench b_plain = SEQ_BENCH(SEQ_PLAIN, body_acquire);
static const struct bench b_sem_t = {
        .name = "sem_t", .threads = 1, .unit = 1, .body = body_sem_t,
        .ctx = &posix_sem};
static const struct bench b_sf_keys = {
        .name = "gs_singleflight", .threads = 1, .unit = 1,
        .body = body_sf_keys, .ctx = &sf_keys};
static const struct bench b_sf_onekey = {
        .name = "gs_singleflight", .threads = SF_CALLERS, .unit = 1,
        .body = body_sf_onekey, .ctx = &sf_onekey};

#define NEW_ROW(name, i)                                                       \
	{"NewSeq/" name, SEMAPHORE, &b_new[i], NULL, "NewSeq/" name,           \
	 NO_TARGET}
#define SEQ_ROW(name, i)                                                       \
	{"AcquireSeq/" name, SEMAPHORE, &b_seq[i], NULL, "AcquireSeq/" name,   \
	 NO_TARGET}
#define SEQ_ROWS(case, i)                                                      \
	SEQ_ROW("Weighted-acquire-" case, 2 * (i)),                            \
	        SEQ_ROW("Weighted-tryAcquire-" case, 2 * (i) + 1)

static const struct row rows[] = {
        NEW_ROW("Weighted-1", 0),
        NEW_ROW("Weighted-128", 1),
        SEQ_ROWS("1-1-1", 0),
        SEQ_ROWS("2-1-1", 1),
        SEQ_ROWS("16-1-1", 2),
        SEQ_ROWS("128-1-1", 3),
        SEQ_ROWS("2-2-1", 4),
        SEQ_ROWS("16-2-8", 5),
        SEQ_ROWS("128-2-64", 6),
        SEQ_ROWS("2-1-2", 7),
        SEQ_ROWS("16-8-2", 8),
        SEQ_ROWS("128-64-2", 9),
        {"acquire+release", SEMAPHORE, &b_plain, &b_sem_t,
         "AcquireSeq/Weighted-acquire-1-1-1", SEM_TARGET},
        {"singleflight.Do/distinct-keys", SINGLEFLIGHT, &b_sf_keys, NULL,
         "singleflight.Do/distinct-keys", SF_KEYS_TARGET},
        {"singleflight.Do/one-key-8g", SINGLEFLIGHT, &b_sf_onekey, NULL,
         "singleflight.Do/one-key-8g", SF_ONEKEY_TARGET},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Output: the tables on stdout, and the same rows as JSON on request. */

#define ROW_FMT "%-39s %-4s %-5s %-15s %-6s %-13s %s\n"

static void print_header(const struct bench_opts *o, int cores)
{
	printf("bench_xsync: ns/op, median (min) of %d repetition%s of "
	       "~%.0f ms, on %d core%s\n",
	       o->reps, o->reps == 1 ? "" : "s", o->target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("%dT rows: %d threads, wall time / all operations of all "
	       "(Go's RunParallel)\n",
	       SF_CALLERS, SF_CALLERS);
	printf("timed after a second thread has existed, so glibc locks "
	       "atomically\n");
	printf("each row runs the workload of the Go benchmark of its name "
	       "(acquire+release:\nAcquireSeq/Weighted-acquire-1-1-1's); "
	       "run.sh sets Go's beside it\n");
}

static void print_section(enum section s)
{
	switch (s) {
	case SEMAPHORE:
		printf("\nsemaphore, one thread (x/sync's NewSeq and "
		       "AcquireSeq; an AcquireSeq-C-S-N op\nis a round of N "
		       "acquires of weight S on a semaphore of size C, then N "
		       "releases)\nratio: gosync / peer, median (min); below "
		       "1 = gosync faster\n\n");
		break;
	case SINGLEFLIGHT:
		printf("\nsingleflight do, per call, each result released; "
		       "the flight returns at once\n\n");
		break;
	}
	printf(ROW_FMT, "workload", "thr", "cores", "gosync", "peer",
	       "peer ns/op", "ratio");
}

static void print_row(const struct row *r, const struct result *gs,
                      const struct result *peer, int cores)
{
	char thr[16], cor[16], g[64], p[64] = "-", q[64] = "-";

	snprintf(thr, sizeof(thr), "%dT", r->gs->threads);
	snprintf(cor, sizeof(cor), "%dc", cores);
	bench_fmt_pair(g, sizeof(g), gs);
	if (r->peer != NULL) {
		bench_fmt_pair(p, sizeof(p), peer);
		bench_fmt_ratios(q, sizeof(q), gs, peer);
	}
	printf(ROW_FMT, r->workload, thr, cor, g,
	       r->peer != NULL ? r->peer->name : "-", p, q);
	fflush(stdout);
}

/* The row a target line judges; every target has exactly one. */
static size_t target_row(enum target t)
{
	size_t i = 0;

	while (rows[i].target != t)
		i++;
	return i;
}

static const char *verdict(const struct result *r, double want)
{
	return r->median <= want ? "met" : "missed";
}

static void print_targets(const struct result *gs, const struct result *peer)
{
	size_t s = target_row(SEM_TARGET), k = target_row(SF_KEYS_TARGET);
	size_t one = target_row(SF_ONEKEY_TARGET);
	char v[32], w[32];

	bench_fmt_num(v, sizeof(v), gs[s].median);
	bench_fmt_num(w, sizeof(w), peer[s].median);
	printf("target: semaphore acquire+release <= %.1f ns (sem_t, "
	       "anchors; Go's Weighted %.1f),\n        median: %s %s "
	       "(sem_t in this run %s)\n",
	       SEM_TARGET_NS, SEM_GO_ANCHOR_NS, v,
	       verdict(&gs[s], SEM_TARGET_NS), w);
	bench_fmt_num(v, sizeof(v), gs[k].median);
	printf("target: singleflight do <= %.0f ns on distinct keys (Go, "
	       "anchors), median: %s %s\n",
	       SF_KEYS_TARGET_NS, v, verdict(&gs[k], SF_KEYS_TARGET_NS));
	bench_fmt_num(v, sizeof(v), gs[one].median);
	printf("target: singleflight do <= %.0f ns per call, %d callers on "
	       "one key (Go, anchors),\n        median: %s %s\n",
	       SF_ONEKEY_TARGET_NS, SF_CALLERS, v,
	       verdict(&gs[one], SF_ONEKEY_TARGET_NS));
	printf("target: the ratios against Go's figures, run on this "
	       "machine, are run.sh's\n");
}

/* The rows for bench_json_write, with the targets print_targets judges. */
static void record_row(const struct row *r, const struct result *gs,
                       const struct result *peer)
{
	static const char *const group[] = {"semaphore", "singleflight"};
	static const double target_ns[] = {
	        [NO_TARGET] = 0,
	        [SEM_TARGET] = SEM_TARGET_NS,
	        [SF_KEYS_TARGET] = SF_KEYS_TARGET_NS,
	        [SF_ONEKEY_TARGET] = SF_ONEKEY_TARGET_NS,
	};
	struct bench_rec rec = {
	        .group = group[r->section],
	        .workload = r->workload,
	        .threads = r->gs->threads,
	        .impl = r->gs->name,
	        .side = "gosync",
	        .go = r->go,
	        .target_ns = target_ns[r->target],
	        .target_go = r->section == SINGLEFLIGHT ? 1 : 0,
	};

	bench_record(&rec, gs);
	if (r->peer == NULL)
		return;
	rec.impl = r->peer->name;
	rec.side = "POSIX";
	rec.target_ns = 0;
	rec.target_go = 0;
	bench_record(&rec, peer);
}

int main(int argc, char **argv)
{
	static struct result gs[NROWS], peer[NROWS];
	struct bench_opts o;
	int cores = bench_cores(), rc;
	enum section at = SEMAPHORE;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	bench_go_multithreaded();
	if (sem_init(&posix_sem, 0, 1) != 0)
		bench_die("sem_init", errno);

	print_header(&o, cores);
	for (size_t i = 0; i < NROWS; i++) {
		if (i == 0 || rows[i].section != at) {
			at = rows[i].section;
			print_section(at);
		}
		/* The peer right before its row, in the same conditions. */
		if (rows[i].peer != NULL)
			peer[i] = bench_measure(rows[i].peer, o.reps,
			                        o.target_ns);
		gs[i] = bench_measure(rows[i].gs, o.reps, o.target_ns);
		print_row(&rows[i], &gs[i], &peer[i], cores);
		record_row(&rows[i], &gs[i], &peer[i]);
	}
	printf("\n(ns/op on %d cores, nproc; peer: POSIX sem_t, sem_wait+"
	       "sem_post; the Go side of\n the singleflight rows is bench/go/"
	       "xsync's own benchmark, of the others\n x/sync's upstream "
	       "ones)\n",
	       cores);
	print_targets(gs, peer);
	gs_singleflight_destroy(&sf_keys);
	gs_singleflight_destroy(&sf_onekey);
	sem_destroy(&posix_sem);
	return bench_json_write(&o);
}
