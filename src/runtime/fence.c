/*
 * fence.c - the heavy side of layer 1's asymmetric fence (fence.h).
 *
 * gs__fence_init registers the process for the expedited private
 * membarrier once; if the command is missing or refused (old kernels,
 * seccomp filters, other systems), gs__fence_asym stays false and both
 * sides fall back to sequentially consistent fences, which are correct
 * everywhere and cost the fast path one full fence.
 *
 * Limits: the expedited command interrupts every CPU that runs a thread
 * of this process, a few microseconds on a small machine; the heavy
 * side is meant for rare events such as a pool trim.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/fence.h"
#include "runtime/platform.h"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

_Atomic bool gs__fence_asym;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* GS_NO_MEMBARRIER builds the fallback alone, to test it on Linux. */
#if defined(__linux__) && defined(__NR_membarrier) && \
	!defined(GS_NO_MEMBARRIER)
static long membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

static void init_fn(void)
{
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		return;
	atomic_store_explicit(&gs__fence_asym, true, memory_order_relaxed);
}

void gs__fence_heavy(void)
{
	/*
	 * Once registered, the command cannot fail; if it ever did, the
	 * light sides would be left unordered, which nothing survives.
	 */
	if (atomic_load_explicit(&gs__fence_asym, memory_order_relaxed)) {
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
			gs__misuse("fence", "membarrier failed after "
				   "registering");
		return;
	}
	atomic_thread_fence(memory_order_seq_cst);
}
#else
static void init_fn(void)
{
}

void gs__fence_heavy(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}
#endif

void gs__fence_init(void)
{
	pthread_once(&init_once, init_fn);
}
