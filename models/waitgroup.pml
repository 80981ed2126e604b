/*
 * waitgroup.pml - the state machine of src/sync/waitgroup.c, for spin.
 *
 * The same words as the C code: state (the counter, here in units of W,
 * and the waiter count below it) and gen, bumped at each release. A
 * sleep is a guard on gen, so a lost wakeup is a deadlock. One thread
 * adds and finishes work in rounds, following Go's rule (a new round
 * only after the waits of the last one returned); one waits, one waits
 * with a deadline that may pass whenever the C code looks. The misuse
 * checks of the C code are asserts here: a correct program never trips
 * them. Labels name the C functions.
 */
#define W        16
#define COUNTER(s) ((s) / W)
#define WAITERS(s) ((s) % W)
#define ROUNDS   2

int state = 0;
byte gen = 0;
byte started = 0;
byte returned = 0;

/* gs_waitgroup_add */
inline add(delta)
{
	atomic { state = state + (delta) * W; s = state };
	assert(COUNTER(s) >= 0);                 /* negative counter */
	assert(!(WAITERS(s) != 0 && (delta) > 0 && COUNTER(s) == (delta)));
	if
	:: COUNTER(s) > 0 || WAITERS(s) == 0
	:: else ->
		/* waitgroup_release */
		assert(state == s);              /* add during wait */
		state = 0;
		gen = (gen + 1) % 4
	fi
}

proctype worker()
{
	int s;
	byte r = 0;

	do
	:: r == ROUNDS -> break
	:: else ->
		add(1);
		started++;
		add(-1);
		r++;
		returned == 2 * r /* the rule for reuse */
	od
}

proctype waiter(bool timed)
{
	int s;
	byte g, r = 0;

	do
	:: r == ROUNDS -> break
	:: else ->
		started > r;
		/* waitgroup_wait_slow */
		s = state;
	loop:
		if
		:: COUNTER(s) == 0 -> goto out
		:: else
		fi;
		g = gen;
		atomic {
			if
			:: state == s -> state = s + 1
			:: else -> s = state; goto loop
			fi
		};
		if
		:: atomic { gen != g } -> goto released
		:: timed -> goto leave
		fi;
	leave:
		/* waitgroup_leave */
		s = state;
		if
		:: gen != g -> goto released
		:: else
		fi;
		if
		:: COUNTER(s) == 0 -> atomic { gen != g }; goto released
		:: else
		fi;
		atomic {
			if
			:: state == s -> state = s - 1; goto out
			:: else
			fi
		};
		goto leave;
	released:
		assert(state == 0); /* reused before wait returned */
	out:
		returned++;
		r++
	od
}

init
{
	atomic {
		run worker();
		run waiter(false);
		run waiter(true)
	}
	_nr_pr == 1;
	assert(state == 0)
}
