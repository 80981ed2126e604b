/*
 * epoch.h - layer 3: epoch-based memory reclamation, for what later
 * layers free while readers may still hold it (the map's nodes and
 * tables).
 *
 * A reader brackets its lock-free reads with gs__epoch_enter and
 * gs__epoch_exit; a writer that unlinks an object hands it to
 * gs__epoch_retire (or, allocation-free, gs__epoch_retire_entry)
 * instead of freeing it, and it is freed once no reader that could have
 * seen it is still inside. Threads join by themselves on first use and
 * leave at thread exit; nobody registers.
 *
 * Enter and exit are inline: after a thread's first call they are a
 * thread-local depth count and a store of the thread's epoch word, with
 * no fence where the system has an asymmetric barrier (epoch.c says
 * why that is enough).
 */
#ifndef GS_RUNTIME_EPOCH_H
#define GS_RUNTIME_EPOCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/fence.h"
#include <stdint.h>

#include "runtime/platform.h"

/*
 * What an object to be freed later carries inside itself, so that
 * retiring it needs no allocation. fn frees the object that holds it.
 */
struct gs__epoch_entry {
	struct gs__epoch_entry *next;
	void (*fn)(struct gs__epoch_entry *e);
};

/* The part of a thread's record that the inline fast paths touch. */
struct gs__epoch_record {
	_Atomic uint64_t local; /* 0 outside, else the epoch entered in */
	unsigned depth;         /* section nesting, owner only */
};

extern _Atomic uint64_t gs__epoch_now;
extern _Thread_local struct gs__epoch_record *gs__epoch_self
	__attribute__((tls_model("initial-exec")));

int gs__epoch_enter_slow(void);

/*
 * gs__epoch_enter starts a read-side section on the calling thread;
 * sections nest. Never blocks; returns ENOMEM (and the section is not
 * entered) only when the thread's record cannot be allocated on first
 * use, 0 otherwise.
 */
static inline int gs__epoch_enter(void)
{
	struct gs__epoch_record *r = gs__epoch_self;

	if (__builtin_expect(r == NULL, 0))
		return gs__epoch_enter_slow();
	if (r->depth++ == 0) {
		uint64_t now = atomic_load_explicit(&gs__epoch_now,
						    memory_order_relaxed);

		atomic_store_explicit(&r->local, now, memory_order_relaxed);
		/*
		 * The store must be seen before this section's loads: the
		 * light side of the fence pair whose heavy side is in
		 * epoch.c's try_advance (runtime/fence.h).
		 */
		gs__fence_light();
	}
	return 0;
}

/* gs__epoch_exit ends the innermost section of the calling thread. */
static inline void gs__epoch_exit(void)
{
	struct gs__epoch_record *r = gs__epoch_self;

	if (__builtin_expect(r == NULL || r->depth == 0, 0))
		gs__misuse("epoch", "exit without enter");
	if (--r->depth == 0)
		/* Release: this section's loads happen before any free. */
		atomic_store_explicit(&r->local, 0, memory_order_release);
}

/*
 * gs__epoch_retire_entry arranges for e->fn(e) to run, with fn as
 * given, once every section that was open when it was called has ended.
 * Called inside or outside a section; never allocates, never blocks.
 */
void gs__epoch_retire_entry(struct gs__epoch_entry *e,
			    void (*fn)(struct gs__epoch_entry *e));

/*
 * gs__epoch_retire is the same for an object with no entry inside: it
 * allocates one. If no memory is left for it, it waits for the readers
 * (gs__epoch_barrier) and frees p at once, which is misuse inside a
 * section (the caller would wait for itself).
 */
void gs__epoch_retire(void *p, void (*free_fn)(void *p));

/*
 * gs__epoch_barrier waits until every section open when it was called
 * has ended and frees what that allows. Must not be called inside a
 * section.
 */
void gs__epoch_barrier(void);

/* Objects retired and not yet freed, over all threads (for tests). */
size_t gs__epoch_pending(void);

#endif
