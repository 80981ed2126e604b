/*
 * mutex.pml - the state machine of src/sync/mutex.c, for spin.
 *
 * The same words as the C code: state (LOCKED, WOKEN, STARVING and the
 * waiter count from bit 3) and sema, the count of wake permits, with
 * the ordered semaphore of src/runtime/semqueue.c beside it: queue holds
 * the sleepers' pids in order, and granted[p] is sleeper p's grant. A
 * step that C takes with the semaphore's bucket lock held is one atomic
 * step here. Each labelled step names the C function it mirrors.
 * Sleeping is a guard that blocks until the sleeper is granted, so a
 * lost wakeup shows up as a deadlock (an invalid end state). Time is a
 * free choice: a waiter may find it waited over 1 ms (starving) and a
 * timed waiter may find its
 * deadline passed at any moment it could in C. The two untimed threads
 * lock twice each, the timed one once, which keeps the search near 30
 * million states.
 *
 * Checked: mutual exclusion (the assert in the critical section), no
 * deadlock, and, once every thread is done, a free mutex with no permit
 * left over and nobody queued.
 */
#define LOCKED   1
#define WOKEN    2
#define STARVING 4
#define WAITER   8
#define NWAITERS(s) ((s) / WAITER)
#define ROUNDS   2

int state = 0;
byte sema = 0;
byte inside = 0;
byte finished = 0;
#define NPROCS 4 /* init and three users, by pid */
byte queue[NPROCS];
byte qlen = 0;
bool granted[NPROCS];
hidden byte j; /* scratch of the atomic steps below, dead between them */

/* gs__semq_acquire, with the bucket locked: take, or queue. */
inline semq_queue(front, took)
{
	atomic {
		if
		:: sema > 0 -> sema--; took = true
		:: else ->
			took = false;
			granted[_pid] = false;
			if
			:: front ->
				j = qlen;
				do
				:: j > 0 -> queue[j] = queue[j - 1]; j--
				:: else -> break
				od;
				queue[0] = _pid
			:: else -> queue[qlen] = _pid
			fi;
			qlen++
		fi
	}
}

/* gs__semq_link: queue without taking a permit, unless one is there. */
inline semq_link(front, linked)
{
	atomic {
		if
		:: sema == 0 ->
			granted[_pid] = false;
			if
			:: front ->
				j = qlen;
				do
				:: j > 0 -> queue[j] = queue[j - 1]; j--
				:: else -> break
				od;
				queue[0] = _pid
			:: else -> queue[qlen] = _pid
			fi;
			qlen++;
			linked = true
		:: else -> linked = false
		fi
	}
}

/* gs__semq_acquire after its deadline, bucket locked: granted, or out. */
inline semq_leave(took)
{
	atomic {
		if
		:: granted[_pid] -> took = true
		:: else ->
			took = false;
			j = 0;
			do
			:: queue[j] == _pid -> break
			:: else -> j++
			od;
			do
			:: j + 1 < qlen -> queue[j] = queue[j + 1]; j++
			:: else -> break
			od;
			qlen--
		fi
	}
}

/* gs__semq_release: to the head of the queue, or to the count. */
inline semq_release()
{
	atomic {
		if
		:: qlen > 0 ->
			granted[queue[0]] = true;
			j = 0;
			do
			:: j + 1 < qlen -> queue[j] = queue[j + 1]; j++
			:: else -> break
			od;
			qlen--
		:: else -> sema++
		fi
	}
}

inline cas(old, new, ok)
{
	atomic {
		if
		:: state == old -> state = new; ok = true
		:: else -> old = state; ok = false
		fi
	}
}

proctype user(bool timed)
{
	int old, new, delta;
	bool ok, starving, awoke, took, requeue, linked, wake;
	byte round, r;

	r = 0;
	do
	:: r == (timed -> 1 : ROUNDS) -> break
	:: else ->
		/* gs_mutex_lock: the fast path */
		old = 0;
		cas(old, LOCKED, ok);
		if
		:: ok -> goto critical
		:: else
		fi;

		/* mutex_lock_slow */
		old = state; starving = false; awoke = false; round = 0;
		requeue = false; linked = false;
	loop:
		/* mutex_lock_slow: spin while held in normal mode */
		if
		:: (old & (LOCKED | STARVING)) == LOCKED && round < 1 ->
			if
			:: !awoke && (old & WOKEN) == 0 && NWAITERS(old) != 0 ->
				cas(old, old | WOKEN, ok);
				if
				:: ok -> awoke = true
				:: else
				fi
			:: else
			fi;
			round++;
			old = state;
			goto loop
		:: else
		fi;
		new = old;
		if
		:: (old & STARVING) == 0 -> new = new | LOCKED
		:: else
		fi;
		if
		:: (old & (LOCKED | STARVING)) != 0 ->
			if
			:: timed -> goto give_up /* deadline passed */
			:: true
			fi;
			new = new + WAITER
		:: else
		fi;
		if
		:: starving && (old & LOCKED) != 0 -> new = new | STARVING
		:: else
		fi;
		if
		:: awoke ->
			assert((new & WOKEN) != 0); /* inconsistent state */
			new = new & ~WOKEN;
			/* an awake waiter queues before its CAS */
			if
			:: (old & LOCKED) != 0 -> semq_link(requeue, linked)
			:: else
			fi
		:: else
		fi;
		cas(old, new, ok);
		if
		:: !ok ->
			if
			:: linked ->
				/* gs__semq_unlink: no permit can have come */
				semq_leave(took);
				assert(!took);
				linked = false
			:: else
			fi;
			goto loop
		:: else
		fi;
		if
		:: (old & (LOCKED | STARVING)) == 0 -> goto critical
		:: else
		fi;

		/*
		 * gs__semq_acquire: at the back the first time, the front
		 * after that; then sleep for the grant, or time out.
		 */
		if
		:: linked -> took = false; linked = false
		:: else -> semq_queue(requeue, took)
		fi;
		requeue = true;
		if
		:: took
		:: !took ->
			if
			:: granted[_pid]
			:: timed ->
				semq_leave(took);
				if
				:: took
				:: else -> goto leave
				fi
			fi
		fi;
		took = false;
	woken:
		if
		:: starving = true /* waited over 1 ms */
		:: true
		fi;
		old = state;
		if
		:: (old & STARVING) != 0 ->
			/* take_handoff */
			assert((old & (LOCKED | WOKEN)) == 0 &&
			       NWAITERS(old) != 0);
			delta = LOCKED - WAITER;
			if
			:: !starving || NWAITERS(old) == 1 ->
				delta = delta - STARVING
			:: else
			fi;
			state = state + delta;
			goto critical
		:: else
		fi;
		awoke = true;
		round = 0;
		goto loop;

	leave:
		/* leave_queue */
		if
		:: atomic { sema > 0 -> sema-- } -> goto woken
		:: atomic {
			sema == 0 && NWAITERS(state) != 0 &&
			(state & (STARVING | LOCKED)) != STARVING ->
			old = state
		   }
		fi;
		new = old - WAITER;
		if
		:: NWAITERS(new) == 0 -> new = new & ~STARVING
		:: else
		fi;
		cas(old, new, ok);
		if
		:: ok -> goto next /* ETIMEDOUT */
		:: else -> goto leave
		fi;

	give_up:
		/* give_up: drop WOKEN if this waiter owns it, wake another */
		if
		:: !awoke -> goto next
		:: else
		fi;
		old = state;
		do
		:: cas(old, old & ~WOKEN, ok);
			if
			:: ok -> break
			:: else
			fi
		od;
		old = old & ~WOKEN;
		goto wake_one;

	critical:
		inside++;
		assert(inside == 1);
		inside--;

		/*
		 * gs_mutex_unlock, mutex_unlock_slow: one CAS clears LOCKED
		 * and, in normal mode, takes a waiter to wake; then only the
		 * permit's release touches the mutex.
		 */
		atomic {
			assert((state & LOCKED) != 0);
			new = state - LOCKED;
			wake = (new & (WOKEN | STARVING)) == 0 &&
			       NWAITERS(new) != 0;
			if
			:: wake -> new = (new - WAITER) | WOKEN
			:: else
			fi;
			state = new
		};
		if
		:: wake || (new & STARVING) != 0 -> semq_release()
		:: else
		fi;
		wake = false;
		goto next;
	wake_one:
		/* wake_one */
		do
		:: NWAITERS(old) == 0 ||
		   (old & (LOCKED | WOKEN | STARVING)) != 0 -> break
		:: else ->
			cas(old, (old - WAITER) | WOKEN, ok);
			if
			:: ok -> semq_release(); break
			:: else
			fi
		od;
	next:
		r++
	od;
	finished++
}

init
{
	atomic {
		run user(false);
		run user(false);
		run user(true)
	}
	finished == 3;
	assert(state == 0 && sema == 0 && qlen == 0)
}
