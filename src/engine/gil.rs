//! The emulated GIL, modelled on CPython's `Python/ceval_gil.c` (3.11–3.13).
//!
//! - A `locked` flag guarded by a mutex, with a condition variable `cond` that waiters sleep on.
//! - A waiter sleeps at most one switch interval; if it wakes by timeout while the GIL is still
//!   held and no switch happened meanwhile, it sets the drop request (the eval breaker).
//! - The holder looks at the eval breaker only at checkpoints the interpreter offers (function
//!   entry, loop back-edges, calls); it is never pre-empted.
//! - FORCE_SWITCHING: a holder that drops on request waits on `switch_cond` until another thread has
//!   taken the GIL, so it cannot take it straight back.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::engine::error::EngineError;
use crate::engine::trace::{Recorder, SpanState};

/// Eval-breaker bit: a waiter asks the holder to drop the GIL.
pub const BREAK_DROP_REQUEST: u32 = 1;
/// Eval-breaker bit: the run is cancelled; every worker should stop at its next checkpoint.
pub const BREAK_CANCEL: u32 = 2;

const NO_HOLDER: usize = usize::MAX;

struct GilState {
    locked: bool,
    switch_number: u64,
}

/// One process's global interpreter lock.
pub struct Gil {
    state: Mutex<GilState>,
    cond: Condvar,
    switch_mutex: Mutex<()>,
    switch_cond: Condvar,
    last_holder: AtomicUsize,
    eval_breaker: AtomicU32,
    interval: Duration,
    switches: AtomicU64,
    drop_requests: AtomicU64,
}

impl Gil {
    /// A free GIL with the given switch interval (CPython's default is 5000 µs).
    pub fn new(switch_interval_micros: u64) -> Self {
        Self {
            state: Mutex::new(GilState {
                locked: false,
                switch_number: 0,
            }),
            cond: Condvar::new(),
            switch_mutex: Mutex::new(()),
            switch_cond: Condvar::new(),
            last_holder: AtomicUsize::new(NO_HOLDER),
            eval_breaker: AtomicU32::new(0),
            interval: Duration::from_micros(switch_interval_micros.max(1)),
            switches: AtomicU64::new(0),
            drop_requests: AtomicU64::new(0),
        }
    }

    /// The eval breaker the interpreter polls at its checkpoints.
    pub fn eval_breaker(&self) -> &AtomicU32 {
        &self.eval_breaker
    }

    /// Asks every worker of this process to stop at its next checkpoint.
    pub fn cancel(&self) {
        self.eval_breaker.fetch_or(BREAK_CANCEL, Ordering::SeqCst);
        // Taking each mutex before notifying closes the window between a waiter's check and wait.
        {
            let _st = self.lock_state();
            self.cond.notify_all();
        }
        let _sw = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
        self.switch_cond.notify_all();
    }

    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.eval_breaker.load(Ordering::Relaxed) & BREAK_CANCEL != 0
    }

    /// Times the holder changed from one thread to another.
    pub fn switches(&self) -> u64 {
        self.switches.load(Ordering::Relaxed)
    }

    /// Times a waiter timed out and asked for a drop.
    pub fn drop_requests(&self) -> u64 {
        self.drop_requests.load(Ordering::Relaxed)
    }

    /// Whether `worker` holds the GIL now.
    pub fn holds(&self, worker: usize) -> bool {
        let st = self.lock_state();
        st.locked && self.last_holder.load(Ordering::SeqCst) == worker
    }

    fn lock_state(&self) -> MutexGuard<'_, GilState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `take_gil`: blocks until `worker` holds the GIL; records waiting and then Python time.
    pub fn take(&self, worker: usize, rec: &mut Recorder) -> Result<(), EngineError> {
        let mut st = self.lock_state();
        if st.locked {
            rec.enter(SpanState::GilWait);
            while st.locked {
                if self.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
                let saved_switchnum = st.switch_number;
                let (guard, res) = self
                    .cond
                    .wait_timeout(st, self.interval)
                    .unwrap_or_else(|p| p.into_inner());
                st = guard;
                if res.timed_out() && st.locked && st.switch_number == saved_switchnum {
                    let before = self
                        .eval_breaker
                        .fetch_or(BREAK_DROP_REQUEST, Ordering::SeqCst);
                    if before & BREAK_DROP_REQUEST == 0 {
                        self.drop_requests.fetch_add(1, Ordering::Relaxed);
                        rec.mark(SpanState::DropRequest);
                    }
                }
            }
        }
        // _ready: the switch mutex must be held while last_holder changes (see `drop`).
        let switch_guard = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
        st.locked = true;
        let last = self.last_holder.load(Ordering::SeqCst);
        if last != worker {
            self.last_holder.store(worker, Ordering::SeqCst);
            st.switch_number += 1;
            if last != NO_HOLDER {
                self.switches.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.switch_cond.notify_all();
        drop(switch_guard);
        // The new holder resets a pending drop request: it was meant for the previous holder.
        self.eval_breaker
            .fetch_and(!BREAK_DROP_REQUEST, Ordering::SeqCst);
        drop(st);
        rec.enter(SpanState::Python);
        Ok(())
    }

    /// `drop_gil`: releases the GIL, recording `next` from that instant; if a drop was requested
    /// (`forced`), waits until another thread took it.
    pub fn drop_gil(
        &self,
        worker: usize,
        rec: &mut Recorder,
        next: Option<SpanState>,
        forced: bool,
    ) {
        // Close the Python span before the lock is free, so no two spans of holders overlap.
        match next {
            Some(state) => rec.enter(state),
            None => rec.leave(),
        }
        {
            let mut st = self.lock_state();
            st.locked = false;
            self.cond.notify_one();
        }
        if forced {
            // FORCE_SWITCHING: do not grab the GIL straight back.
            let guard = self.switch_mutex.lock().unwrap_or_else(|p| p.into_inner());
            if self.last_holder.load(Ordering::SeqCst) == worker && !self.is_cancelled() {
                self.eval_breaker
                    .fetch_and(!BREAK_DROP_REQUEST, Ordering::SeqCst);
                // CPython waits without a timeout; a bound keeps a cancelled run from hanging.
                let _ = self
                    .switch_cond
                    .wait_timeout(guard, self.interval.max(Duration::from_millis(50)));
            }
        }
    }

    /// The eval-breaker handler run at a checkpoint: drop and re-take on request, stop on cancel.
    pub fn handle_eval_breaker(
        &self,
        worker: usize,
        rec: &mut Recorder,
    ) -> Result<(), EngineError> {
        let bits = self.eval_breaker.load(Ordering::SeqCst);
        if bits & BREAK_CANCEL != 0 {
            return Err(EngineError::Cancelled);
        }
        if bits & BREAK_DROP_REQUEST != 0 {
            self.drop_gil(worker, rec, Some(SpanState::GilWait), true);
            self.take(worker, rec)?;
        }
        Ok(())
    }

    /// `Py_BEGIN_ALLOW_THREADS`: releases the GIL for native work or I/O recorded as `state`.
    pub fn release(&self, worker: usize, rec: &mut Recorder, state: SpanState) {
        self.drop_gil(worker, rec, Some(state), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn single_thread_takes_and_releases_without_switches() {
        let gil = Gil::new(5000);
        let mut rec = Recorder::new(0, None);
        gil.take(0, &mut rec).unwrap();
        gil.release(0, &mut rec, SpanState::Native);
        gil.take(0, &mut rec).unwrap();
        gil.drop_gil(0, &mut rec, None, false);
        assert_eq!(gil.switches(), 0);
        assert_eq!(gil.drop_requests(), 0);
    }

    #[test]
    fn waiter_sets_drop_request_after_interval_and_gets_the_gil() {
        let gil = Arc::new(Gil::new(1000));
        let mut rec = Recorder::new(0, None);
        gil.take(0, &mut rec).unwrap();
        let g2 = Arc::clone(&gil);
        let waiter = std::thread::spawn(move || {
            let mut r = Recorder::new(1, None);
            g2.take(1, &mut r).unwrap();
            g2.drop_gil(1, &mut r, None, false);
        });
        // The holder polls its eval breaker like the interpreter does at back-edges.
        let mut polls = 0u64;
        while gil.eval_breaker().load(Ordering::SeqCst) & BREAK_DROP_REQUEST == 0 {
            polls += 1;
            std::hint::spin_loop();
        }
        assert!(polls > 0);
        gil.handle_eval_breaker(0, &mut rec).unwrap();
        waiter.join().unwrap();
        assert!(gil.drop_requests() >= 1);
        assert!(
            gil.switches() >= 2,
            "1 -> 0 -> 1 hand-offs: {}",
            gil.switches()
        );
        gil.drop_gil(0, &mut rec, None, false);
    }

    #[test]
    fn cancel_wakes_waiters() {
        let gil = Arc::new(Gil::new(5_000_000));
        let mut rec = Recorder::new(0, None);
        gil.take(0, &mut rec).unwrap();
        let g2 = Arc::clone(&gil);
        let waiter = std::thread::spawn(move || {
            let mut r = Recorder::new(1, None);
            g2.take(1, &mut r)
        });
        while gil.lock_state().locked && !gil.is_cancelled() {
            gil.cancel();
        }
        assert!(matches!(
            waiter.join().unwrap(),
            Err(EngineError::Cancelled)
        ));
    }
}
