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
_Thread_local uint32_t gs__thread_number
	__attribute__((tls_model("initial-exec")));

/* The first call on a thread: gs__thread_id (platform.h) is inline. */
uint32_t gs__thread_id_first(void)
{
	uint32_t id;

	do {
		/* Relaxed: uniqueness needs only the atomicity of the add. */
		id = atomic_fetch_add_explicit(&next_id, 1,
					       memory_order_relaxed);
	} while (id == 0);
	gs__thread_number = id;
	return id;
}
