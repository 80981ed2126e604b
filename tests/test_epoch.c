/* test_epoch.c - epoch reclamation: nothing freed under a reader. */
#include <gosync/runtime.h>

#include "harness.h"
#include "runtime/epoch.h"

static atomic_int freed;

static void count_free(void *p)
{
	atomic_fetch_add(&freed, 1);
	free(p);
}

static gate_t inside = GATE_INIT, leave = GATE_INIT;

static void *hold_a_section(void *arg)
{
	(void)arg;
	CHECK(gs__epoch_enter() == 0, "enter");
	gate_open(&inside);
	gate_wait(&leave);
	gs__epoch_exit();
	return NULL;
}

TEST(epoch_frees_nothing_retired_while_a_reader_is_inside)
{
	pthread_t r = start_thread(hold_a_section, NULL);

	gate_wait(&inside);
	for (int i = 0; i < 10000; i++)
		gs__epoch_retire(malloc(16), count_free);
	CHECK(atomic_load(&freed) == 0, "%d freed under a reader",
	      atomic_load(&freed));
	gate_open(&leave);
	pthread_join(r, NULL);
	gs__epoch_barrier();
	CHECK(atomic_load(&freed) == 10000 && gs__epoch_pending() == 0,
	      "%d freed, %zu pending after the reader left",
	      atomic_load(&freed), gs__epoch_pending());
}

struct obj {
	long magic;
	long serial;
};

#define MAGIC 0x5eed5eedL

static _Atomic(struct obj *) shared;
static atomic_int stop;

static void free_obj(void *p)
{
	struct obj *o = p;

	o->magic = 0; /* a reader that still sees it would notice */
	free(o);
}

static void *reader(void *arg)
{
	long reads = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		CHECK(gs__epoch_enter() == 0, "enter");
		struct obj *o = atomic_load_explicit(&shared,
						     memory_order_acquire);
		CHECK(o->magic == MAGIC, "read a freed object");
		reads += o->serial & 1;
		gs__epoch_exit();
	}
	return (void *)reads;
}

TEST(epoch_frees_under_concurrent_readers_without_use_after_free)
{
	pthread_t t[3];
	struct obj *o = malloc(sizeof *o);

	*o = (struct obj){MAGIC, 0};
	atomic_store(&shared, o);
	for (int i = 0; i < 3; i++)
		t[i] = start_thread(reader, NULL);
	for (long i = 1; i <= 200000; i++) {
		struct obj *n = malloc(sizeof *n);
		*n = (struct obj){MAGIC, i};
		struct obj *old = atomic_exchange_explicit(
			&shared, n, memory_order_acq_rel);
		gs__epoch_retire(old, free_obj);
		CHECK(gs__epoch_pending() < 100000,
		      "%zu objects waiting: garbage is not bounded",
		      gs__epoch_pending());
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	gs__epoch_barrier();
	free_obj(atomic_load(&shared));
	CHECK(gs__epoch_pending() == 0, "%zu left", gs__epoch_pending());
}

static void *retire_and_exit(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		gs__epoch_retire(malloc(8), count_free);
	return NULL;
}

TEST(epoch_garbage_of_an_exited_thread_is_freed_by_others)
{
	pthread_t t = start_thread(retire_and_exit, NULL);

	pthread_join(t, NULL);
	gs__epoch_barrier();
	CHECK(atomic_load(&freed) == 100, "%d of 100 freed",
	      atomic_load(&freed));
}

TEST(epoch_sections_nest)
{
	CHECK(gs__epoch_enter() == 0 && gs__epoch_enter() == 0, "enter");
	gs__epoch_exit();
	gs__epoch_exit();
	gs__epoch_barrier(); /* outside every section: must not abort */
}

static void exit_unentered(void *arg)
{
	(void)arg;
	gs__epoch_exit();
}

TEST(epoch_exit_without_enter_aborts)
{
	expect_death(exit_unentered, NULL, "gs: epoch: exit without enter");
}

TEST_MAIN()
