/* test_context.c - gs_ctx_t: cancellation, deadlines, the tree. */
#include <gosync/context.h>
#include <gosync/waitgroup.h>
#include <gosync/runtime.h>

#include <poll.h>

#include "harness.h"
#include "context/ctxwait.h"
#include "introspect.h"

static gs_ctx_t *child_of(gs_ctx_t *parent)
{
	gs_ctx_t *c;

	CHECK(gs_ctx_with_cancel(parent, &c) == 0, "with_cancel failed");
	return c;
}

TEST(ctx_background_is_never_done)
{
	gs_ctx_t *bg = gs_ctx_background();
	int64_t d;

	CHECK(bg != NULL, "background is NULL");
	CHECK(!gs_ctx_done(bg) && gs_ctx_err(bg) == 0, "background is done");
	CHECK(!gs_ctx_deadline(bg, &d), "background has a deadline");
	CHECK(!gs_ctx_wait_until(bg, gs_now() + 10 * GS_MILLISECOND),
	      "wait on background returned done");
	CHECK(!gs_ctx_done(NULL) && gs_ctx_err(NULL) == 0, "NULL is done");
}

TEST(ctx_cancel_makes_it_and_its_children_done_with_canceled)
{
	gs_ctx_t *c1 = child_of(NULL);
	gs_ctx_t *c2 = child_of(c1);

	CHECK(!gs_ctx_done(c1) && gs_ctx_err(c2) == 0, "done before cancel");
	CHECK(!gs_ctx_wait_until(c2, gs_now() + GS_MILLISECOND),
	      "wait returned before cancel");
	gs_ctx_cancel(c1);
	CHECK(gs_ctx_err(c1) == ECANCELED && gs_ctx_err(c2) == ECANCELED,
	      "errs %d %d", gs_ctx_err(c1), gs_ctx_err(c2));
	CHECK(gs_ctx_wait_until(c2, GS_NEVER), "wait on done ctx failed");
	CHECK(gs__ctx_nchildren(c1) == 0, "children left after cancel");
	gs_ctx_unref(c2);
	gs_ctx_unref(c1);
}

TEST(ctx_cancel_returns_with_every_descendant_done)
{
	gs_ctx_t *chain[10], *fan[100];

	chain[0] = child_of(NULL);
	for (int i = 1; i < 10; i++)
		chain[i] = child_of(chain[i - 1]);
	for (int i = 0; i < 100; i++)
		fan[i] = child_of(chain[5]);
	CHECK(gs__ctx_nchildren(chain[5]) == 101, "%zu children",
	      gs__ctx_nchildren(chain[5]));
	gs_ctx_cancel(chain[0]);
	for (int i = 0; i < 10; i++)
		CHECK(gs_ctx_err(chain[i]) == ECANCELED, "level %d: err %d", i,
		      gs_ctx_err(chain[i]));
	for (int i = 0; i < 100; i++)
		CHECK(gs_ctx_done(fan[i]), "fan child %d not done", i);
	for (int i = 0; i < 100; i++)
		gs_ctx_unref(fan[i]);
	for (int i = 9; i >= 0; i--)
		gs_ctx_unref(chain[i]);
}

TEST(ctx_cancelled_child_leaves_its_parent)
{
	gs_ctx_t *p = child_of(NULL);
	gs_ctx_t *a = child_of(p), *b = child_of(p);

	CHECK(gs__ctx_nchildren(p) == 2, "%zu children", gs__ctx_nchildren(p));
	gs_ctx_cancel(a);
	CHECK(gs__ctx_nchildren(p) == 1, "%zu children after cancel",
	      gs__ctx_nchildren(p));
	CHECK(!gs_ctx_done(p), "parent done after a child's cancel");
	gs_ctx_unref(a);
	gs_ctx_unref(b); /* released without cancel: unlinked too */
	CHECK(gs__ctx_nchildren(p) == 0, "%zu children after release",
	      gs__ctx_nchildren(p));
	gs_ctx_cancel(p);
	gs_ctx_unref(p);
}

TEST(ctx_timeout_is_done_with_deadline_exceeded)
{
	gs_ctx_t *c;
	int64_t start = gs_now(), d;

	CHECK(gs_ctx_with_timeout(NULL, 30 * GS_MILLISECOND, &c) == 0,
	      "with_timeout failed");
	CHECK(gs_ctx_deadline(c, &d) && d >= start + 30 * GS_MILLISECOND,
	      "deadline missing or early");
	gs_ctx_wait(c);
	int64_t took = gs_now() - start;
	CHECK(took >= 30 * GS_MILLISECOND && took < 2 * GS_SECOND,
	      "done after %lld ns", (long long)took);
	CHECK(gs_ctx_err(c) == ETIMEDOUT && gs_ctx_cause(c) == ETIMEDOUT,
	      "err %d cause %d", gs_ctx_err(c), gs_ctx_cause(c));
	gs_ctx_unref(c);
}

TEST(ctx_child_with_later_deadline_ends_at_the_parents)
{
	gs_ctx_t *p, *c;
	int64_t dp, dc;

	CHECK(gs_ctx_with_timeout(NULL, 20 * GS_MILLISECOND, &p) == 0, "p");
	CHECK(gs_ctx_with_timeout(p, 60 * GS_SECOND, &c) == 0, "c");
	CHECK(gs_ctx_deadline(p, &dp) && gs_ctx_deadline(c, &dc) && dp == dc,
	      "child's deadline is not the parent's");
	CHECK(gs_ctx_wait_until(c, gs_now() + 5 * GS_SECOND),
	      "child not done by the parent's deadline");
	CHECK(gs_ctx_err(c) == ETIMEDOUT, "err %d", gs_ctx_err(c));
	gs_ctx_unref(c);
	gs_ctx_unref(p);
}

TEST(ctx_timeout_cancelled_first_reports_canceled)
{
	gs_ctx_t *c;

	CHECK(gs_ctx_with_timeout(NULL, 60 * GS_SECOND, &c) == 0, "timeout");
	gs_ctx_cancel(c);
	CHECK(gs_ctx_err(c) == ECANCELED, "err %d", gs_ctx_err(c));
	gs_ctx_unref(c); /* the stopped timer's reference is gone too */
}

TEST(ctx_past_deadline_is_done_at_once)
{
	gs_ctx_t *a, *b;

	CHECK(gs_ctx_with_deadline(NULL, gs_now() - GS_SECOND, &a) == 0, "a");
	CHECK(gs_ctx_with_timeout(NULL, 0, &b) == 0, "b");
	CHECK(gs_ctx_err(a) == ETIMEDOUT && gs_ctx_err(b) == ETIMEDOUT,
	      "errs %d %d", gs_ctx_err(a), gs_ctx_err(b));
	gs_ctx_unref(a);
	gs_ctx_unref(b);
}

TEST(ctx_extreme_deadline_never_wraps_into_the_past)
{
	gs_ctx_t *a, *b;

	CHECK(gs_ctx_with_deadline(NULL, INT64_MAX, &a) == 0, "a");
	CHECK(gs_ctx_with_timeout(NULL, INT64_MAX, &b) == 0, "b");
	CHECK(!gs_ctx_wait_until(a, gs_now() + 200 * GS_MILLISECOND) &&
		      !gs_ctx_done(b),
	      "a far deadline fired");
	gs_ctx_cancel(a);
	gs_ctx_cancel(b);
	gs_ctx_unref(a);
	gs_ctx_unref(b);
}

TEST(ctx_child_of_a_cancelled_parent_is_done_with_its_cause)
{
	gs_ctx_t *p = child_of(NULL), *c;

	gs_ctx_cancel_cause(p, EPIPE);
	c = child_of(p);
	CHECK(gs_ctx_err(c) == ECANCELED && gs_ctx_cause(c) == EPIPE,
	      "err %d cause %d", gs_ctx_err(c), gs_ctx_cause(c));
	CHECK(gs__ctx_nchildren(p) == 0, "done parent kept a child");
	gs_ctx_unref(c);
	gs_ctx_unref(p);
}

TEST(ctx_first_cancellation_wins)
{
	gs_ctx_t *c = child_of(NULL);

	gs_ctx_cancel_cause(c, EPIPE);
	gs_ctx_cancel_cause(c, ENOENT);
	gs_ctx_cancel(c);
	CHECK(gs_ctx_cause(c) == EPIPE && gs_ctx_err(c) == ECANCELED,
	      "cause %d err %d", gs_ctx_cause(c), gs_ctx_err(c));
	gs_ctx_unref(c);
}

struct race {
	gs_ctx_t *parent, *child;
	gun_t gun;
};

static void *race_cancel(void *arg)
{
	struct race *r = arg;

	gun_wait(&r->gun);
	gs_ctx_cancel_cause(r->parent, EPIPE);
	return NULL;
}

static void *race_child(void *arg)
{
	struct race *r = arg;

	gun_wait(&r->gun);
	r->child = child_of(r->parent);
	return NULL;
}

TEST(ctx_child_created_while_its_parent_cancels_ends_cancelled)
{
	for (int round = 0; round < 3000; round++) {
		struct race r = {child_of(NULL), NULL, {0}};
		pthread_t a, b;

		gun_init(&r.gun, 2);
		a = start_thread(race_cancel, &r);
		b = start_thread(race_child, &r);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		CHECK(gs_ctx_err(r.child) == ECANCELED &&
			      gs_ctx_cause(r.child) == EPIPE,
		      "round %d: err %d cause %d", round,
		      gs_ctx_err(r.child), gs_ctx_cause(r.child));
		CHECK(gs__ctx_nchildren(r.parent) == 0,
		      "round %d: parent kept a child", round);
		gs_ctx_unref(r.child);
		gs_ctx_unref(r.parent);
	}
}

struct mono {
	gs_ctx_t *ctx;
	gun_t gun;
};

static void *watch_err(void *arg)
{
	struct mono *m = arg;
	int e;

	gun_wait(&m->gun);
	while (!gs_ctx_done(m->ctx))
		CHECK(gs_ctx_err(m->ctx) == 0 || gs_ctx_done(m->ctx),
		      "err set before done");
	e = gs_ctx_err(m->ctx);
	CHECK(e == ECANCELED || e == ETIMEDOUT, "done but err is %d", e);
	for (int i = 0; i < 1000; i++)
		CHECK(gs_ctx_err(m->ctx) == e, "err changed from %d to %d", e,
		      gs_ctx_err(m->ctx));
	return NULL;
}

static void *random_cancel(void *arg)
{
	struct mono *m = arg;
	int64_t end = gs_now() + rand() % 50000;

	gun_wait(&m->gun);
	while (gs_now() < end)
		;
	gs_ctx_cancel(m->ctx);
	return NULL;
}

TEST(ctx_err_never_changes_once_set)
{
	for (int round = 0; round < 300; round++) {
		struct mono m = {NULL, {0}};
		pthread_t t[3];

		CHECK(gs_ctx_with_timeout(NULL, rand() % 50000, &m.ctx) == 0,
		      "timeout");
		gun_init(&m.gun, 3);
		t[0] = start_thread(watch_err, &m);
		t[1] = start_thread(watch_err, &m);
		t[2] = start_thread(random_cancel, &m);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		int e = gs_ctx_err(m.ctx);
		CHECK(e == ECANCELED || e == ETIMEDOUT, "final err %d", e);
		gs_ctx_unref(m.ctx);
	}
}

static void cancel_background(void *arg)
{
	(void)arg;
	gs_ctx_cancel(gs_ctx_background());
}

TEST(ctx_cancel_of_background_aborts)
{
	expect_death(cancel_background, NULL,
		     "gs: context: cancel of a context that cannot be "
		     "cancelled");
}

TEST(ctx_released_with_pending_timer_is_freed_by_it)
{
	gs_ctx_t *c;

	CHECK(gs_ctx_with_timeout(NULL, 5 * GS_MILLISECOND, &c) == 0, "t");
	gs_ctx_ref(c);
	gs_ctx_unref(c);
	gs_ctx_unref(c); /* the timer still holds it; LSan checks the free */
	test_sleep_ms(50);
}

struct cascade {
	gs_ctx_t *p, *c, *kids[50];
	gun_t gun;
	int same;
};

static void *cancel_c_or_p(void *arg)
{
	struct cascade *r = arg;

	gun_wait(&r->gun);
	gs_ctx_cancel(r->same ? r->p : r->c);
	return NULL;
}

static void *cancel_p_and_check(void *arg)
{
	struct cascade *r = arg;
	int not_done = 0;

	gun_wait(&r->gun);
	gs_ctx_cancel(r->p);
	for (int i = 0; i < 50; i++)
		not_done += !gs_ctx_done(r->kids[i]);
	not_done += !gs_ctx_done(r->c);
	return (void *)(intptr_t)not_done;
}

TEST(ctx_concurrent_cancels_return_with_every_descendant_done)
{
	for (int round = 0; round < 1000; round++) {
		struct cascade r;
		pthread_t a, b;
		void *not_done;

		r.p = child_of(NULL);
		r.c = child_of(r.p);
		for (int i = 0; i < 50; i++)
			r.kids[i] = child_of(r.c);
		r.same = round & 1;
		gun_init(&r.gun, 2);
		a = start_thread(cancel_c_or_p, &r);
		b = start_thread(cancel_p_and_check, &r);
		pthread_join(a, NULL);
		pthread_join(b, &not_done);
		CHECK(not_done == NULL, "round %d: %d not done after cancel",
		      round, (int)(intptr_t)not_done);
		for (int i = 0; i < 50; i++)
			gs_ctx_unref(r.kids[i]);
		gs_ctx_unref(r.c);
		gs_ctx_unref(r.p);
	}
}

TEST(ctx_deadline_child_of_a_cancelled_parent_holds_nothing_after_release)
{
	gs_ctx_t *p = child_of(NULL), *c;

	gs_ctx_cancel(p);
	for (int i = 0; i < 100; i++) {
		CHECK(gs_ctx_with_timeout(p, 3600 * GS_SECOND, &c) == 0, "t");
		CHECK(gs_ctx_err(c) == ECANCELED, "child not done");
		gs_ctx_cancel(c);
		gs_ctx_unref(c);
	}
	CHECK(gs__ctx_refs(p) == 1, "the parent holds %u references",
	      gs__ctx_refs(p));
	gs_ctx_unref(p);
}

static const char key_a, key_b;

TEST(ctx_values_innermost_wins_missing_is_null_and_cancel_keeps_them)
{
	gs_ctx_t *c1, *v1, *v2, *c2, *v3;

	CHECK(gs_ctx_with_cancel(NULL, &c1) == 0, "c1");
	CHECK(gs_ctx_with_value(c1, &key_a, "a1", &v1) == 0, "v1");
	CHECK(gs_ctx_with_value(v1, &key_b, "b1", &v2) == 0, "v2");
	CHECK(gs_ctx_with_cancel(v2, &c2) == 0, "c2");
	CHECK(gs_ctx_with_value(c2, &key_a, "a2", &v3) == 0, "v3");
	CHECK(strcmp(gs_ctx_value(v3, &key_a), "a2") == 0, "inner a");
	CHECK(strcmp(gs_ctx_value(v3, &key_b), "b1") == 0, "outer b");
	CHECK(strcmp(gs_ctx_value(c2, &key_a), "a1") == 0, "a below c2");
	CHECK(gs_ctx_value(c1, &key_a) == NULL, "a above its context");
	CHECK(gs_ctx_value(NULL, &key_a) == NULL, "a in background");
	CHECK(gs__ctx_nchildren(c1) == 1, "c2 is not linked under c1");
	gs_ctx_cancel(c1);
	CHECK(gs_ctx_err(v1) == ECANCELED && gs_ctx_err(v3) == ECANCELED &&
		      gs_ctx_err(c2) == ECANCELED,
	      "value contexts did not follow the cancel");
	CHECK(strcmp(gs_ctx_value(v3, &key_b), "b1") == 0,
	      "values lost by the cancel");
	gs_ctx_unref(v3);
	gs_ctx_unref(c2);
	gs_ctx_unref(v2);
	gs_ctx_unref(v1);
	gs_ctx_unref(c1);
}

static void value_with_nil_key(void *arg)
{
	gs_ctx_t *c;

	(void)arg;
	gs_ctx_with_value(NULL, NULL, "x", &c);
}

static void cancel_value_ctx(void *arg)
{
	gs_ctx_t *c;

	(void)arg;
	gs_ctx_with_value(NULL, &key_a, "x", &c);
	gs_ctx_cancel(c);
}

TEST(ctx_nil_key_and_cancel_of_a_value_context_abort)
{
	expect_death(value_with_nil_key, NULL, "gs: context: nil key");
	expect_death(cancel_value_ctx, NULL,
		     "gs: context: cancel of a context that cannot be "
		     "cancelled");
}

TEST(ctx_without_cancel_keeps_values_and_is_never_done)
{
	gs_ctx_t *p, *v, *w, *c;
	int64_t d;

	CHECK(gs_ctx_with_timeout(NULL, 10 * GS_MILLISECOND, &p) == 0, "p");
	CHECK(gs_ctx_with_value(p, &key_a, "a", &v) == 0, "v");
	CHECK(gs_ctx_without_cancel(v, &w) == 0, "w");
	CHECK(gs_ctx_with_cancel(w, &c) == 0, "c");
	CHECK(!gs_ctx_deadline(w, &d), "without_cancel has a deadline");
	gs_ctx_cancel_cause(p, EPIPE);
	CHECK(gs_ctx_err(w) == 0 && gs_ctx_cause(w) == 0 && !gs_ctx_done(w),
	      "without_cancel followed its parent");
	CHECK(gs_ctx_err(c) == 0, "its child followed the parent");
	CHECK(!gs_ctx_wait_until(w, gs_now() + 20 * GS_MILLISECOND),
	      "wait on without_cancel returned done");
	CHECK(strcmp(gs_ctx_value(c, &key_a), "a") == 0, "value lost");
	gs_ctx_cancel(c);
	gs_ctx_unref(c);
	gs_ctx_unref(w);
	gs_ctx_unref(v);
	gs_ctx_unref(p);
}

TEST(ctx_deadline_cause_is_reported_when_the_deadline_passes)
{
	gs_ctx_t *a, *b;

	CHECK(gs_ctx_with_timeout_cause(NULL, 5 * GS_MILLISECOND, EPIPE, &a) ==
		      0,
	      "a");
	CHECK(gs_ctx_with_deadline_cause(NULL, gs_now() - 1, ENOENT, &b) == 0,
	      "b");
	gs_ctx_wait(a);
	CHECK(gs_ctx_err(a) == ETIMEDOUT && gs_ctx_cause(a) == EPIPE,
	      "a: err %d cause %d", gs_ctx_err(a), gs_ctx_cause(a));
	CHECK(gs_ctx_err(b) == ETIMEDOUT && gs_ctx_cause(b) == ENOENT,
	      "b: err %d cause %d", gs_ctx_err(b), gs_ctx_cause(b));
	gs_ctx_unref(a);
	gs_ctx_unref(b);
}

static atomic_int after_calls;
static gs_waitgroup_t after_wg;

static void after_fn(void *arg)
{
	(void)arg;
	atomic_fetch_add(&after_calls, 1);
	gs_waitgroup_done(&after_wg);
}

TEST(ctx_after_func_runs_once_after_cancel_timeout_or_at_once)
{
	gs_ctx_t *c, *t, *done;
	gs_ctx_after_t *s1, *s2;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "c");
	gs_waitgroup_add(&after_wg, 3);
	CHECK(gs_ctx_after_func(c, after_fn, NULL, &s1) == 0, "after c");
	test_sleep_ms(20);
	CHECK(atomic_load(&after_calls) == 0, "ran before the cancel");
	gs_ctx_cancel(c);
	CHECK(gs_ctx_with_timeout(NULL, 5 * GS_MILLISECOND, &t) == 0, "t");
	CHECK(gs_ctx_after_func(t, after_fn, NULL, NULL) == 0, "after t");
	CHECK(gs_ctx_with_cancel(NULL, &done) == 0, "done");
	gs_ctx_cancel(done);
	CHECK(gs_ctx_after_func(done, after_fn, NULL, &s2) == 0, "after d");
	gs_waitgroup_wait(&after_wg);
	CHECK(atomic_load(&after_calls) == 3, "%d calls",
	      atomic_load(&after_calls));
	CHECK(!gs_ctx_stop(s1) && !gs_ctx_stop(s2), "stopped a run function");
	gs_ctx_unref(c);
	gs_ctx_unref(t);
	gs_ctx_unref(done);
}

TEST(ctx_after_func_stopped_before_cancel_never_runs)
{
	gs_ctx_t *c;
	gs_ctx_after_t *s;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "c");
	CHECK(gs_ctx_after_func(c, after_fn, NULL, &s) == 0, "after");
	CHECK(gs_ctx_stop(s), "stop before the cancel failed");
	gs_ctx_cancel(c);
	test_sleep_ms(20);
	CHECK(atomic_load(&after_calls) == 0, "a stopped function ran");
	gs_ctx_unref(c);
}

static gate_t after_gate = GATE_INIT;

static void after_blocks(void *arg)
{
	(void)arg;
	gate_wait(&after_gate);
	atomic_fetch_add(&after_calls, 1);
	gs_waitgroup_done(&after_wg);
}

TEST(ctx_cancel_does_not_wait_for_the_after_func)
{
	gs_ctx_t *c;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "c");
	gs_waitgroup_add(&after_wg, 1);
	CHECK(gs_ctx_after_func(c, after_blocks, NULL, NULL) == 0, "after");
	gs_ctx_cancel(c); /* returns although the function blocks */
	CHECK(atomic_load(&after_calls) == 0, "ran to the end already");
	gate_open(&after_gate);
	gs_waitgroup_wait(&after_wg);
	gs_ctx_unref(c);
}

struct after_race {
	gs_ctx_t *c;
	gs_ctx_after_t *s;
	gun_t gun;
	bool stopped;
};

static void *race_stop(void *arg)
{
	struct after_race *r = arg;

	gun_wait(&r->gun);
	r->stopped = gs_ctx_stop(r->s);
	return NULL;
}

static void *race_cancel_ctx(void *arg)
{
	struct after_race *r = arg;

	gun_wait(&r->gun);
	gs_ctx_cancel(r->c);
	return NULL;
}

static void after_count(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

TEST(ctx_after_func_racing_stop_runs_exactly_when_stop_fails)
{
	for (int round = 0; round < 2000; round++) {
		struct after_race r;
		atomic_int ran = 0;
		pthread_t a, b;

		CHECK(gs_ctx_with_cancel(NULL, &r.c) == 0, "c");
		CHECK(gs_ctx_after_func(r.c, after_count, &ran, &r.s) == 0,
		      "after");
		gun_init(&r.gun, 2);
		a = start_thread(race_stop, &r);
		b = start_thread(race_cancel_ctx, &r);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		if (!r.stopped)
			CHECK(wait_for_int(&ran, 1, 5000) == 1,
			      "round %d: neither stopped nor ran", round);
		CHECK(atomic_load(&ran) == (r.stopped ? 0 : 1),
		      "round %d: stopped %d but ran %d", round, r.stopped,
		      atomic_load(&ran));
		gs_ctx_unref(r.c);
	}
}

TEST(ctx_fd_turns_readable_once_done)
{
	gs_ctx_t *c, *v;
	struct pollfd p;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "c");
	CHECK(gs_ctx_with_value(c, &key_a, "a", &v) == 0, "v");
	p.fd = gs_ctx_fd(v);
	p.events = POLLIN;
	CHECK(p.fd >= 0, "no fd: %s", strerror(errno));
	CHECK(gs_ctx_fd(c) == p.fd, "the value context has an fd of its own");
	CHECK(poll(&p, 1, 20) == 0, "readable before the cancel");
	gs_ctx_cancel(c);
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN),
	      "not readable after the cancel");
	CHECK(poll(&p, 1, 0) == 1, "readable only once");
	gs_ctx_unref(v);
	gs_ctx_unref(c);
}

TEST(ctx_fd_of_a_done_context_is_readable_at_once)
{
	gs_ctx_t *c;
	struct pollfd p;

	CHECK(gs_ctx_with_timeout(NULL, 0, &c) == 0, "c");
	p.fd = gs_ctx_fd(c);
	p.events = POLLIN;
	CHECK(p.fd >= 0 && poll(&p, 1, 0) == 1, "not readable");
	p.fd = gs_ctx_fd(NULL);
	CHECK(p.fd >= 0 && poll(&p, 1, 10) == 0, "background fd readable");
	gs_ctx_unref(c);
}

struct grant {
	_Atomic uint32_t word;
	gs_ctx_t *ctx;
	int64_t deadline;
	int result;
	bool granted;
	gun_t gun;
};

static void *word_waiter(void *arg)
{
	struct grant *g = arg;

	gun_wait(&g->gun);
	g->result = gs__ctx_wait_word(&g->word, g->ctx, g->deadline);
	return NULL;
}

static void *word_granter(void *arg)
{
	struct grant *g = arg;

	gun_wait(&g->gun);
	g->granted = gs__ctx_grant(&g->word);
	return NULL;
}

static void *word_canceller(void *arg)
{
	struct grant *g = arg;

	gun_wait(&g->gun);
	gs_ctx_cancel(g->ctx);
	return NULL;
}

TEST(ctxwait_grant_cancel_and_deadline_each_end_the_wait)
{
	struct grant g = {0, NULL, GS_NEVER, -1, false, {0}};
	pthread_t w;

	/* A grant: 0. */
	CHECK(gs_ctx_with_cancel(NULL, &g.ctx) == 0, "ctx");
	gun_init(&g.gun, 1);
	w = start_thread(word_waiter, &g);
	test_sleep_ms(10);
	CHECK(gs__ctx_grant(&g.word), "the grant failed");
	pthread_join(w, NULL);
	CHECK(g.result == 0, "granted wait returned %d", g.result);

	/* The context ends: its error, and a later grant fails. */
	atomic_store(&g.word, GS__WAITING);
	gun_init(&g.gun, 1);
	w = start_thread(word_waiter, &g);
	test_sleep_ms(10);
	gs_ctx_cancel_cause(g.ctx, EPIPE);
	pthread_join(w, NULL);
	CHECK(g.result == ECANCELED, "cancelled wait returned %d", g.result);
	CHECK(!gs__ctx_grant(&g.word), "granted to a waiter that left");
	gs_ctx_unref(g.ctx);

	/* The deadline: ETIMEDOUT, and a later grant fails. */
	atomic_store(&g.word, GS__WAITING);
	g.ctx = NULL;
	g.deadline = gs_now() + 10 * GS_MILLISECOND;
	gun_init(&g.gun, 1);
	w = start_thread(word_waiter, &g);
	pthread_join(w, NULL);
	CHECK(g.result == ETIMEDOUT, "timed-out wait returned %d", g.result);
	CHECK(!gs__ctx_grant(&g.word), "granted to a waiter that timed out");
}

TEST(ctxwait_done_context_returns_at_once)
{
	_Atomic uint32_t word = GS__WAITING;
	gs_ctx_t *c;

	CHECK(gs_ctx_with_timeout(NULL, 0, &c) == 0, "ctx");
	CHECK(gs__ctx_wait_word(&word, c, GS_NEVER) == ETIMEDOUT, "result");
	CHECK(!gs__ctx_grant(&word), "granted after giving up");
	gs_ctx_unref(c);
}

TEST(ctxwait_grant_racing_cancel_has_exactly_one_winner)
{
	for (int round = 0; round < 3000; round++) {
		struct grant g = {0, NULL, GS_NEVER, -1, false, {0}};
		pthread_t t[3];

		CHECK(gs_ctx_with_cancel(NULL, &g.ctx) == 0, "ctx");
		gun_init(&g.gun, 3);
		t[0] = start_thread(word_waiter, &g);
		t[1] = start_thread(word_granter, &g);
		t[2] = start_thread(word_canceller, &g);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		CHECK((g.result == 0) == g.granted,
		      "round %d: result %d but granted %d", round, g.result,
		      g.granted);
		CHECK(g.result == 0 || g.result == ECANCELED,
		      "round %d: result %d", round, g.result);
		CHECK(gs__ctx_nchildren(g.ctx) == 0, "children?");
		gs_ctx_unref(g.ctx);
	}
}

TEST(ctx_parent_cancel_ends_cancel_timer_and_value_children_alike)
{
	gs_ctx_t *p, *cc, *tc, *vc, *vcc, *late;

	CHECK(gs_ctx_with_cancel(NULL, &p) == 0, "p");
	CHECK(gs_ctx_with_cancel(p, &cc) == 0, "cancel child");
	CHECK(gs_ctx_with_timeout(p, 3600 * GS_SECOND, &tc) == 0, "timer");
	CHECK(gs_ctx_with_value(p, &key_a, "v", &vc) == 0, "value child");
	CHECK(gs_ctx_with_cancel(vc, &vcc) == 0, "child of the value");
	CHECK(gs__ctx_nchildren(p) == 3, "%zu linked, expected 3",
	      gs__ctx_nchildren(p));
	gs_ctx_cancel(p);
	CHECK(gs_ctx_err(cc) == ECANCELED && gs_ctx_err(tc) == ECANCELED &&
		      gs_ctx_err(vc) == ECANCELED &&
		      gs_ctx_err(vcc) == ECANCELED,
	      "a child was not cancelled");
	CHECK(gs__ctx_nchildren(p) == 0, "children left after the cancel");
	CHECK(gs_ctx_with_cancel(p, &late) == 0 && gs_ctx_done(late),
	      "a child made afterwards is not done at once");
	gs_ctx_unref(late);
	gs_ctx_unref(vcc);
	gs_ctx_unref(vc);
	gs_ctx_unref(tc);
	gs_ctx_unref(cc);
	CHECK(gs__ctx_refs(p) == 1, "parent still referenced %u times",
	      gs__ctx_refs(p));
	gs_ctx_unref(p);
}

TEST_MAIN()
