/*
 * wait.h - layer 1: sleep on a 32-bit word until another thread wakes it.
 *
 * Every blocking type in gosync sleeps here, so porting gosync means
 * porting this one interface, and deadlines work everywhere at once.
 * Two implementations exist: wait_futex.c (Linux futex) and
 * wait_parking.c (a parking lot over pthread mutexes and condition
 * variables, chosen by the GS_WAIT_FALLBACK build option).
 *
 * The contract is the futex's: gs__wait returns at once, with EAGAIN,
 * if *word is not expected when it looks, and otherwise sleeps until a
 * gs__wake on the same word, the deadline, or a spurious wakeup. A
 * waker that changes the word and then calls gs__wake never loses a
 * sleeper: the check of the word and the start of the sleep are one
 * atomic step with respect to gs__wake. Callers therefore always loop,
 * re-reading the word.
 *
 * gs__wait is not a cancellation point: a thread cancelled while it
 * sleeps here goes on sleeping, and the cancel takes effect at its next
 * cancellation point after the wait returns. Every gosync wait counts
 * its sleeper somewhere (a waiter count, a list entry on the stack), and
 * a thread that vanished mid-wait would leave that count wrong for
 * good.
 */
#ifndef GS_RUNTIME_WAIT_H
#define GS_RUNTIME_WAIT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GS__WAKE_ALL INT_MAX

/*
 * gs__wait sleeps while *word == expected, until deadline (a gs_now()
 * value, GS_NEVER for none). Returns 0 after a wakeup (possibly
 * spurious), EAGAIN if *word differed, ETIMEDOUT once the deadline has
 * passed.
 */
int gs__wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline);

/* gs__wake wakes up to n sleepers on word (GS__WAKE_ALL for all). */
void gs__wake(_Atomic uint32_t *word, int n);

/*
 * gs__wait_hook, when a thread sets it, is called with true just before
 * that thread sleeps in gs__wait and with false once it wakes. The
 * executor (layer 3) sets it on its pool threads to learn that one
 * blocks, so that another can take the queue; layer 1 knows nothing
 * more about it. The hook must not sleep in gs__wait itself.
 */
extern _Thread_local void (*gs__wait_hook)(bool blocking);

/*
 * The word of a public struct is declared as a plain uint32_t so that
 * the headers stay valid C++; the library treats it as the atomic object
 * of the same size and alignment it is.
 */
#define GS__ATOMIC32(p) ((_Atomic uint32_t *)(void *)(p))
#define GS__ATOMIC64(p) ((_Atomic uint64_t *)(void *)(p))

#endif
