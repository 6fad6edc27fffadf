//! The GIL of CPython ≤ 3.1 (`Python/ceval.c` with `sys.setcheckinterval`): a plain lock that the
//! holder releases and immediately competes for again every 100 instructions.
//!
//! - No timed wait, no drop request, no forced switching: the releasing thread signals the
//!   condition variable and re-acquires at once. On several cores it usually wins before the
//!   woken thread runs, so the waiter wakes, finds the lock taken, and sleeps again (Beazley,
//!   "Inside the Python GIL", 2009: two CPU-bound threads slower than one).
//! - Every release is counted, whether or not another thread got the lock.

use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::{NO_HOLDER, Shared};
use crate::error::EngineError;
use crate::trace::clock;
use crate::trace::spans::{Recorder, SpanState};

struct LockState {
    locked: bool,
    holder: usize,
    waiters: usize,
}

/// The state of one old-style GIL.
pub(super) struct LegacyGil {
    state: Mutex<LockState>,
    cond: Condvar,
    /// Instructions between releases (`sys.setcheckinterval`).
    pub(super) check_interval: u64,
}

impl LegacyGil {
    pub(super) fn new(check_interval: u64) -> Self {
        Self {
            state: Mutex::new(LockState {
                locked: false,
                holder: NO_HOLDER,
                waiters: 0,
            }),
            cond: Condvar::new(),
            check_interval: check_interval.max(1),
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, LockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn wake_all(&self) {
        let _st = self.lock_state();
        self.cond.notify_all();
    }

    pub(super) fn holds(&self, worker: usize) -> bool {
        let st = self.lock_state();
        st.locked && st.holder == worker
    }

    /// `PyThread_acquire_lock(interpreter_lock, 1)`. `released_ns` is when this thread let the
    /// lock go just before (a check-interval cycle): if it must wait now, its Python span ends
    /// there, so no two holders' spans overlap.
    pub(super) fn take(
        &self,
        sh: &Shared,
        worker: usize,
        rec: &mut Recorder,
        released_ns: Option<u64>,
    ) -> Result<(), EngineError> {
        let mut st = self.lock_state();
        if st.locked {
            match released_ns {
                Some(t) => rec.enter_at(SpanState::GilWait, t),
                None => rec.enter(SpanState::GilWait),
            }
            st.waiters += 1;
            let wait_start = clock::now_ns();
            while st.locked {
                if sh.is_cancelled() {
                    st.waiters -= 1;
                    return Err(EngineError::Cancelled);
                }
                st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.waiters -= 1;
            // The old GIL has no drop requests: its long waits are not counted as starved.
            rec.note_gil_wait(clock::now_ns().saturating_sub(wait_start), false);
        }
        st.locked = true;
        if st.holder != worker {
            if st.holder != NO_HOLDER {
                sh.switches.fetch_add(1, Ordering::Relaxed);
            }
            st.holder = worker;
        }
        drop(st);
        rec.enter(SpanState::Python);
        Ok(())
    }

    /// `PyThread_release_lock`: unlocks and signals one waiter if there is one (as
    /// `pthread_cond_signal` does, no wake-up call when nobody waits). Returns the instant of
    /// the release when someone was waiting, so that the releaser's span can end there.
    pub(super) fn release(&self, sh: &Shared) -> Option<u64> {
        let mut st = self.lock_state();
        st.locked = false;
        let released_ns = (st.waiters > 0).then(|| {
            self.cond.notify_one();
            clock::now_ns()
        });
        drop(st);
        sh.releases.fetch_add(1, Ordering::Relaxed);
        released_ns
    }

    /// The check-interval cycle: release, then re-acquire straight away ("other threads may
    /// run now").
    pub(super) fn cycle(
        &self,
        sh: &Shared,
        worker: usize,
        rec: &mut Recorder,
    ) -> Result<(), EngineError> {
        let released_ns = self.release(sh);
        self.take(sh, worker, rec, released_ns)
    }
}
