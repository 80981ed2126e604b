/*
 * thread.c - gs__thread_id: a small number naming the calling thread,
 * for owner checks such as the once's recursion check.
 *
 * Numbers come from a global counter the first time a thread asks, and
 * are not reused, so 2^32 threads would wrap; at one new thread a
 * microsecond that takes over an hour of nothing but thread creation,
 * and a wrap can only make a recursion check miss, never fire wrongly
 * for two live threads unless they also collide, which needs 2^32 more.
 */
#include <stdatomic.h>

#include "runtime/platform.h"

static _Atomic uint32_t next_id = 1;
static _Thread_local uint32_t my_id;

uint32_t gs__thread_id(void)
{
	uint32_t id = my_id;

	if (id != 0)
		return id;
	do {
		/* Relaxed: uniqueness needs only the atomicity of the add. */
		id = atomic_fetch_add_explicit(&next_id, 1,
					       memory_order_relaxed);
	} while (id == 0);
	my_id = id;
	return id;
}
