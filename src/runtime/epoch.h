/*
 * epoch.h - layer 3: epoch-based memory reclamation, for what later
 * layers free while readers may still hold it (the map's nodes and
 * tables).
 *
 * A reader brackets its lock-free reads with gs__epoch_enter and
 * gs__epoch_exit; a writer that unlinks an object hands it to
 * gs__epoch_retire instead of freeing it, and it is freed once no reader
 * that could have seen it is still inside. Threads join by themselves
 * on first use and leave at thread exit; nobody registers.
 */
#ifndef GS_RUNTIME_EPOCH_H
#define GS_RUNTIME_EPOCH_H

#include <stddef.h>

/*
 * gs__epoch_enter starts a read-side section on the calling thread;
 * sections nest. Never blocks; returns ENOMEM (and the section is not
 * entered) only when the thread's record cannot be allocated on first
 * use, 0 otherwise.
 */
int gs__epoch_enter(void);

/* gs__epoch_exit ends the innermost section of the calling thread. */
void gs__epoch_exit(void);

/*
 * gs__epoch_retire arranges for free_fn(p) to run once every section
 * that was open when it was called has ended. Called inside or outside
 * a section. If no memory is left to record it, it waits for the readers
 * (gs__epoch_barrier) and frees p at once, so nothing is ever lost.
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
