/*
 * mutex.pml - the state machine of src/sync/mutex.c, for spin.
 *
 * The same words as the C code: state (LOCKED, WOKEN, STARVING and the
 * waiter count from bit 3) and sema, the count of wake permits. Each
 * labelled step names the C function it mirrors. Sleeping is a guard
 * that blocks until a permit is there, so a lost wakeup shows up as a
 * deadlock (an invalid end state). Time is a free choice: a waiter may
 * find it waited over 1 ms (starving) and a timed waiter may find its
 * deadline passed at any moment it could in C.
 *
 * Checked: mutual exclusion (the assert in the critical section), no
 * deadlock, and, once every thread is done, a free mutex with no permit
 * left over.
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
	bool ok, starving, awoke;
	byte round, r;

	r = 0;
	do
	:: r == ROUNDS -> break
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
			new = new & ~WOKEN
		:: else
		fi;
		cas(old, new, ok);
		if
		:: !ok -> goto loop
		:: else
		fi;
		if
		:: (old & (LOCKED | STARVING)) == 0 -> goto critical
		:: else
		fi;

		/* gs__sema_take: sleep for a permit, or time out */
		if
		:: atomic { sema > 0 -> sema-- }
		:: timed -> goto leave
		fi;
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

		/* gs_mutex_unlock */
		atomic { state = state - LOCKED; new = state };
		assert(((new + LOCKED) & LOCKED) != 0);
		if
		:: new == 0
		:: new != 0 && (new & STARVING) != 0 ->
			sema++ /* mutex_unlock_slow: hand off */
		:: new != 0 && (new & STARVING) == 0 ->
			old = new;
			goto wake_one
		fi;
		goto next;
	wake_one:
		/* wake_one */
		do
		:: NWAITERS(old) == 0 ||
		   (old & (LOCKED | WOKEN | STARVING)) != 0 -> break
		:: else ->
			cas(old, (old - WAITER) | WOKEN, ok);
			if
			:: ok -> sema++; break
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
	assert(state == 0 && sema == 0)
}
