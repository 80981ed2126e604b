/*
 * fence.h - asymmetric fences for layer 1: a light side that costs the
 * fast path nothing but a compiler barrier, and a heavy side, taken
 * rarely, that makes every thread of the process behave as if it had
 * run a full fence at that moment.
 *
 * The pair stands in for two sequentially consistent fences in a
 * Dekker-style handshake (store mine, fence, load theirs): either the
 * heavy side sees the light side's store, or the light side's later
 * load sees the heavy side's store. On Linux the heavy side is
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED); where the kernel lacks
 * it or refuses it, both sides become real sequentially consistent
 * fences, decided once by gs__fence_init.
 *
 * Limits: the light side orders only against a heavy side; between two
 * light sides it is no fence at all.
 */
#ifndef GS_RUNTIME_FENCE_H
#define GS_RUNTIME_FENCE_H

#include <stdatomic.h>
#include <stdbool.h>

/*
 * True once gs__fence_init found the expedited membarrier usable.
 * Hidden, so that position-independent code reads it directly rather
 * than through the global offset table.
 */
extern _Atomic bool gs__fence_asym __attribute__((visibility("hidden")));

/*
 * gs__fence_init decides, once per process, which of the two forms the
 * fences take; it must run before the first light fence. Thread-safe.
 */
void gs__fence_init(void);

/* gs__fence_light is the fast path's side of the handshake. */
static inline void gs__fence_light(void)
{
	/*
	 * Relaxed: the flag is set once, before any handshake starts, by
	 * gs__fence_init, whose pthread_once orders it for every caller.
	 */
	if (atomic_load_explicit(&gs__fence_asym, memory_order_relaxed))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

/* gs__fence_heavy is the rare side; it may enter the kernel. */
void gs__fence_heavy(void);

#endif
