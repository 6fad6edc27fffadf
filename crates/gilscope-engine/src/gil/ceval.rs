//! The GIL of `Python/ceval_gil.c` (3.11–3.13), the default interpreter's lock.
//!
//! - A `locked` flag guarded by a mutex, with a condition variable `cond` that waiters sleep on.
//! - A waiter sleeps at most one switch interval; if it wakes by timeout while the GIL is still
//!   held and no switch happened meanwhile, it sets the drop request (the eval breaker).
//! - The holder looks at the eval breaker only at checkpoints the interpreter offers (function
//!   entry, loop back-edges, calls); it is never pre-empted.
//! - FORCE_SWITCHING: a holder that drops on request waits on `switch_cond` until another thread has
//!   taken the GIL, so it cannot take it straight back.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::{BREAK_DROP_REQUEST, NO_HOLDER, Shared};
use crate::trace::clock;

/// A wait longer than this many switch intervals that never asked for a drop is starved.
pub const STARVED_AFTER_INTERVALS: u64 = 3;
use crate::error::EngineError;
use crate::trace::spans::{Recorder, SpanState};

struct GilState {
    locked: bool,
    switch_number: u64,
}

/// The state of one 3.11 GIL.
pub(super) struct CevalGil {
    state: Mutex<GilState>,
    cond: Condvar,
    switch_mutex: Mutex<()>,
    switch_cond: Condvar,
    last_holder: AtomicUsize,
    /// The switch interval (`sys.setswitchinterval` changes it while the program runs).
    interval_ns: AtomicU64,
}

impl CevalGil {
    pub(super) fn new(switch_interval_micros: u64) -> Self {
        Self {
            state: Mutex::new(GilState {
                locked: false,
                switch_number: 0,
            }),
            cond: Condvar::new(),
            switch_mutex: Mutex::new(()),
            switch_cond: Condvar::new(),
            last_holder: AtomicUsize::new(NO_HOLDER),
            interval_ns: AtomicU64::new(switch_interval_micros.max(1).saturating_mul(1000)),
        }
    }

    /// The switch interval now.
    fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns())
    }

    /// `sys.setswitchinterval`: waiters from now on wait this long before asking for a drop.
    pub(super) fn set_interval_ns(&self, ns: u64) {
        self.interval_ns.store(ns.max(1000), Ordering::Relaxed);
    }

    fn lock_state(&self) -> MutexGuard<'_, GilState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn wake_all(&self) {
        // Taking each mutex before notifying closes the window between a waiter's check and wait.
        {
            let _st = self.lock_state();
            self.cond.notify_all();
        }
        let _sw = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
        self.switch_cond.notify_all();
    }

    pub(super) fn holds(&self, worker: usize) -> bool {
        let st = self.lock_state();
        st.locked && self.last_holder.load(Ordering::SeqCst) == worker
    }

    #[cfg(test)]
    pub(super) fn is_locked(&self) -> bool {
        self.lock_state().locked
    }

    /// `take_gil`: blocks until `worker` holds the GIL; records waiting and then Python time.
    pub(super) fn take(
        &self,
        sh: &Shared,
        worker: usize,
        rec: &mut Recorder,
    ) -> Result<(), EngineError> {
        let mut st = self.lock_state();
        let mut waited = None;
        if st.locked {
            rec.enter(SpanState::GilWait);
            let wait_start = clock::now_ns();
            // Whether one of this waiter's timed waits ran out with the GIL still held: only
            // then does it ask for a drop.
            let mut timed_out_held = false;
            while st.locked {
                if sh.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
                let saved_switchnum = st.switch_number;
                let (guard, res) = self
                    .cond
                    .wait_timeout(st, self.interval())
                    .unwrap_or_else(|p| p.into_inner());
                st = guard;
                if res.timed_out() && st.locked && st.switch_number == saved_switchnum {
                    timed_out_held = true;
                    let before = sh
                        .eval_breaker
                        .fetch_or(BREAK_DROP_REQUEST, Ordering::SeqCst);
                    if before & BREAK_DROP_REQUEST == 0 {
                        sh.drop_requests.fetch_add(1, Ordering::Relaxed);
                        rec.mark(SpanState::DropRequest);
                    }
                }
            }
            waited = Some((clock::now_ns().saturating_sub(wait_start), timed_out_held));
        }
        // _ready: the switch mutex must be held while last_holder changes (see `drop_gil`).
        let switch_guard = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
        st.locked = true;
        let last = self.last_holder.load(Ordering::SeqCst);
        if last != worker {
            self.last_holder.store(worker, Ordering::SeqCst);
            st.switch_number += 1;
            if last != NO_HOLDER {
                sh.switches.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.switch_cond.notify_all();
        drop(switch_guard);
        // The new holder resets a pending drop request: it was meant for the previous holder.
        sh.eval_breaker
            .fetch_and(!BREAK_DROP_REQUEST, Ordering::SeqCst);
        drop(st);
        if let Some((waited_ns, timed_out_held)) = waited {
            // Starved: the holder let go for a moment (an allocation, a short NumPy call) and
            // took the GIL back before this thread ran, again and again; each wake-up restarted
            // the full timed wait, so it never asked for a turn.
            let starved =
                !timed_out_held && waited_ns > STARVED_AFTER_INTERVALS * self.interval_ns();
            rec.note_gil_wait(waited_ns, starved);
        }
        rec.enter(SpanState::Python);
        Ok(())
    }

    pub(super) fn interval_ns(&self) -> u64 {
        self.interval_ns.load(Ordering::Relaxed)
    }

    /// `drop_gil`: releases the GIL, recording `next` from that instant; if a drop was requested
    /// (`forced`), waits until another thread took it.
    pub(super) fn drop_gil(
        &self,
        sh: &Shared,
        worker: usize,
        rec: &mut Recorder,
        next: Option<SpanState>,
        forced: bool,
    ) {
        // Close the Python span before the lock is free, so no two spans of holders overlap.
        rec.switch_to(next);
        {
            let mut st = self.lock_state();
            st.locked = false;
            self.cond.notify_one();
        }
        sh.releases.fetch_add(1, Ordering::Relaxed);
        if forced {
            // FORCE_SWITCHING: do not grab the GIL straight back.
            let guard = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
            if self.last_holder.load(Ordering::SeqCst) == worker && !sh.is_cancelled() {
                sh.eval_breaker
                    .fetch_and(!BREAK_DROP_REQUEST, Ordering::SeqCst);
                // CPython waits without a timeout; a bound keeps a cancelled run from hanging.
                let _ = self
                    .switch_cond
                    .wait_timeout(guard, self.interval().max(Duration::from_millis(50)));
            }
        }
    }

    /// The eval-breaker handler run at a checkpoint on a drop request: drop and re-take.
    pub(super) fn on_drop_request(
        &self,
        sh: &Shared,
        worker: usize,
        rec: &mut Recorder,
    ) -> Result<(), EngineError> {
        self.drop_gil(sh, worker, rec, Some(SpanState::GilWait), true);
        self.take(sh, worker, rec)
    }
}
