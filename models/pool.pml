/*
 * pool.pml - the slot handshake of src/sync/pool.c, for spin.
 *
 * Spin runs every step in one sequential order, which is what the
 * asymmetric fence buys the C code: the owner's store of busy and its
 * load of claim are ordered against the trimmer's store of claim and
 * its load of busy (layer 1's fence.h). One owner runs get/put rounds
 * on its slot, each on the fast path (busy, then claim) or, when claim
 * is seen, on the slow path under mu; two trimmers empty the slot under
 * mu. The assertion is the promise: nobody touches the slot's cache
 * while anyone else does. A trimmer waiting for busy that never clears
 * would be an invalid end state. Labels name the C functions.
 */
#define ROUNDS 3

bit busy = 0;
bit claim = 0;
bit mu = 0;
byte inside = 0;

inline lock()
{
	atomic { mu == 0 -> mu = 1 }
}

inline unlock()
{
	mu = 0
}

inline touch()
{
	inside++;
	assert(inside == 1);
	inside--
}

proctype owner()
{
	byte r = 0;

	do
	:: r == ROUNDS -> break
	:: else ->
		/* slot_enter */
		busy = 1;
		if
		:: claim == 0 ->
			touch();
			busy = 0        /* slot_leave */
		:: else ->
			busy = 0;       /* slot_leave, then the slow path */
			lock();
			touch();
			unlock()
		fi;
		r++
	od
}

proctype trimmer()
{
	/* gs_pool_trim: claim_slots, the heavy fence, trim_slots */
	lock();
	claim = 1;
	busy == 0;
	touch();
	claim = 0;
	unlock()
}

init
{
	atomic {
		run owner();
		run trimmer();
		run trimmer()
	}
}
