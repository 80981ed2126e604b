/*
 * bench_locks_cxx.cpp - the C++ lock peers of bench_locks: the loops of
 * loops.h stamped out on tbb::spin_mutex and tbb::spin_rw_mutex
 * (HAVE_TBB) and on absl::Mutex (HAVE_ABSL), one lock of each kind per
 * implementation, offered to bench_locks.c as the table
 * bench_cxx_locks. Built only where CMake found one of them.
 *
 * Debian builds Abseil without NDEBUG, and so with absl::Mutex's
 * deadlock detection on, which costs each lock a graph update (about 30
 * ns here); bench_cxx_init turns it off, as a release build of Abseil
 * has it, before anything is timed.
 *
 * Limits: the loops call each lock's inline member functions, as a C++
 * caller would; gosync's calls, from C, go out of line into the
 * library, which costs gosync a call per lock and unlock.
 */
#include "loops.h"

#ifdef HAVE_TBB
#include <oneapi/tbb/spin_mutex.h>
#include <oneapi/tbb/spin_rw_mutex.h>
#endif
#ifdef HAVE_ABSL
#include <absl/synchronization/mutex.h>
#endif

namespace {

#ifdef HAVE_TBB
inline void tbb_lock(tbb::spin_mutex *m) { m->lock(); }
inline void tbb_unlock(tbb::spin_mutex *m) { m->unlock(); }
inline void tbb_rlock(tbb::spin_rw_mutex *m) { m->lock_shared(); }
inline void tbb_runlock(tbb::spin_rw_mutex *m) { m->unlock_shared(); }
inline void tbb_wlock(tbb::spin_rw_mutex *m) { m->lock(); }
inline void tbb_wunlock(tbb::spin_rw_mutex *m) { m->unlock(); }

alignas(64) tbb::spin_mutex mu_tbb;
alignas(64) tbb::spin_rw_mutex rw_tbb;
const struct rw_ctx rw100_tbb = {&rw_tbb, 100}, rw10_tbb = {&rw_tbb, 10};

LOCK_LOOP(lock_loop_tbb, tbb::spin_mutex, tbb_lock, tbb_unlock)
WORK_LOOP(work_loop_tbb, tbb::spin_mutex, tbb_lock, tbb_unlock)
LOCK_LOOP(read_loop_tbb, tbb::spin_rw_mutex, tbb_rlock, tbb_runlock)
RW_LOOP(rw_loop_tbb, tbb::spin_rw_mutex, tbb_rlock, tbb_runlock, tbb_wlock,
        tbb_wunlock)
#endif

#ifdef HAVE_ABSL
inline void absl_lock(absl::Mutex *m) { m->Lock(); }
inline void absl_unlock(absl::Mutex *m) { m->Unlock(); }
inline void absl_rlock(absl::Mutex *m) { m->ReaderLock(); }
inline void absl_runlock(absl::Mutex *m) { m->ReaderUnlock(); }

alignas(64) absl::Mutex mu_absl(absl::kConstInit);
alignas(64) absl::Mutex rw_absl(absl::kConstInit);
const struct rw_ctx rw100_absl = {&rw_absl, 100}, rw10_absl = {&rw_absl, 10};

LOCK_LOOP(lock_loop_absl, absl::Mutex, absl_lock, absl_unlock)
WORK_LOOP(work_loop_absl, absl::Mutex, absl_lock, absl_unlock)
LOCK_LOOP(read_loop_absl, absl::Mutex, absl_rlock, absl_runlock)
RW_LOOP(rw_loop_absl, absl::Mutex, absl_rlock, absl_runlock, absl_lock,
        absl_unlock)
#endif

} // namespace

const struct lock_impl bench_cxx_locks[] = {
#ifdef HAVE_TBB
        {"tbb::spin_mutex", "TBB", false, lock_loop_tbb, work_loop_tbb,
         &mu_tbb, nullptr, nullptr, 0},
        {"tbb::spin_rw_mutex", "TBB", true, read_loop_tbb, rw_loop_tbb,
         &rw_tbb, &rw100_tbb, &rw10_tbb, 0},
#endif
#ifdef HAVE_ABSL
        {"absl::Mutex", "Abseil", false, lock_loop_absl, work_loop_absl,
         &mu_absl, nullptr, nullptr, 0},
        {"absl::Mutex", "Abseil", true, read_loop_absl, rw_loop_absl,
         &rw_absl, &rw100_absl, &rw10_absl, 0},
#endif
};

const size_t bench_cxx_nlocks =
        sizeof(bench_cxx_locks) / sizeof(bench_cxx_locks[0]);

void bench_cxx_init(void)
{
#ifdef HAVE_ABSL
	absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}
