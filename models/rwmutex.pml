/*
 * rwmutex.pml - the state machine of src/sync/rwmutex.c, for spin.
 *
 * The same words as the C code: readers (readers_, minus MAX while a
 * writer is announced), departing (departing_), the two permit counts,
 * grant (grant_) and unlocks (unlocks_). The writers' mutex w_ is
 * checked on its own in mutex.pml; here it is a plain lock that a timed
 * writer may also fail to get. Sleeping is a blocking guard, so a lost
 * wakeup is a deadlock; each timed thread may find its deadline passed
 * whenever the C code looks at the clock. Labels name the C functions.
 *
 * Checked with three threads in two line-ups (WRITERS writers, the rest
 * readers; one writer and one reader timed): a writer alone inside, no
 * reader beside a writer, no deadlock, and everything back at zero once
 * all are done.
 */
#define MAX      8
#define ROUNDS   2
#define NONE     0
#define GRANTED  1
#define ABANDONED 2
#ifndef WRITERS
#define WRITERS  1
#endif

int readers = 0;
int departing = 0;
byte writer_sem = 0;
byte reader_sem = 0;
byte grant = NONE;
byte unlocks = 0;
bit w = 0;
byte rin = 0;
byte win = 0;
byte finished = 0;

/* write_release: the writer's unlock, or its completion for it */
inline write_release(r)
{
	atomic { readers = readers + MAX; r = readers };
	assert(r < MAX);
	atomic { reader_sem = reader_sem + r };
	unlocks = (unlocks + 1) % 4;
	w = 0
}

proctype writer(bool timed)
{
	int r;
	byte n = 0;

	do
	:: n == ROUNDS -> break
	:: else ->
		/* gs_rwmutex_lock_until: w_ */
		if
		:: atomic { w == 0 -> w = 1 }
		:: timed -> goto next
		fi;
		grant = NONE;
		atomic { r = readers; readers = readers - MAX };
		if
		:: r == 0 -> goto critical
		:: else
		fi;
		atomic { departing = departing + r; r = departing };
		if
		:: r == 0 -> goto critical
		:: else
		fi;
		/* gs__sema_take(writer_sem) or time out */
		if
		:: atomic { writer_sem > 0 -> writer_sem-- } -> goto critical
		:: timed ->
			atomic {
				if
				:: grant == NONE -> grant = ABANDONED;
					goto next
				:: else
				fi
			};
			atomic { writer_sem > 0 -> writer_sem-- };
			goto critical
		fi;
	critical:
		win++;
		assert(win == 1 && rin == 0);
		win--;
		/* gs_rwmutex_unlock */
		write_release(r);
	next:
		n++
	od;
	finished++
}

proctype reader(bool timed)
{
	int r, c;
	byte n = 0, seen;

	do
	:: n == ROUNDS -> break
	:: else ->
		if
		:: !timed ->
			/* gs_rwmutex_rlock */
			atomic { readers = readers + 1; r = readers };
			if
			:: r < 0 -> atomic { reader_sem > 0 -> reader_sem-- }
			:: else
			fi
		:: timed ->
			/* gs_rwmutex_rlock_until: tryrlock, then sleep */
		retry:
			seen = unlocks;
			c = readers;
			do
			:: c < 0 -> break
			:: else ->
				atomic {
					if
					:: readers == c ->
						readers = c + 1;
						goto critical
					:: else -> c = readers
					fi
				}
			od;
			if
			:: atomic { unlocks != seen } -> goto retry
			:: true -> goto next /* deadline passed */
			fi
		fi;
	critical:
		rin++;
		assert(win == 0);
		rin--;
		/* gs_rwmutex_runlock */
		atomic { readers = readers - 1; r = readers };
		if
		:: r >= 0
		:: r < 0 ->
			/* runlock_slow */
			assert(r + 1 != 0 && r + 1 != -MAX);
			atomic { departing = departing - 1; c = departing };
			if
			:: c != 0
			:: c == 0 ->
				atomic {
					if
					:: grant == NONE -> grant = GRANTED;
						writer_sem++;
						c = 1
					:: else -> c = 0
					fi
				};
				if
				:: c == 0 -> write_release(r)
				:: else
				fi
			fi
		fi;
	next:
		n++
	od;
	finished++
}

init
{
	atomic {
		run writer(true);
		if
		:: WRITERS == 2 -> run writer(false)
		:: else -> run reader(false)
		fi;
		run reader(true)
	}
	finished == 3;
	assert(readers == 0 && departing == 0 && w == 0);
	assert(writer_sem == 0 && reader_sem == 0)
}
