//! The lock that serialises one interpreter's bytecode, for each interpreter variant: CPython
//! 3.11's GIL ([`ceval`]), the pre-3.2 GIL ([`legacy`]), or none at all (free-threaded builds),
//! behind one front that the workers call at the same places whatever the variant.

mod ceval;
mod legacy;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::build::{Build, LockKind};
use crate::error::EngineError;
use crate::trace::spans::{Recorder, SpanState};

/// Eval-breaker bit: a waiter asks the holder to drop the GIL.
pub const BREAK_DROP_REQUEST: u32 = 1;
/// Eval-breaker bit: the run is cancelled; every worker should stop at its next checkpoint.
pub const BREAK_CANCEL: u32 = 2;
/// Eval-breaker bit, always set under the old GIL: every checkpoint counts instructions
/// towards the next check-interval release (3.1's `_Py_Ticker`).
pub const BREAK_TICKER: u32 = 4;

const NO_HOLDER: usize = usize::MAX;

/// What every lock kind shares: the eval breaker and the counters.
struct Shared {
    eval_breaker: AtomicU32,
    switches: AtomicU64,
    drop_requests: AtomicU64,
    releases: AtomicU64,
}

impl Shared {
    fn is_cancelled(&self) -> bool {
        self.eval_breaker.load(Ordering::Relaxed) & BREAK_CANCEL != 0
    }
}

enum Imp {
    Ceval(ceval::CevalGil),
    Legacy(legacy::LegacyGil),
    Absent,
}

/// One interpreter's lock (one per process, or per subinterpreter).
pub struct Gil {
    sh: Shared,
    imp: Imp,
}

/// Where a worker stands towards the old GIL's check interval.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ticker {
    last_release_instructions: u64,
}

impl Gil {
    /// A free 3.11 GIL with the given switch interval (CPython's default is 5000 µs).
    pub fn new(switch_interval_micros: u64) -> Self {
        Self::for_variant(Build::Gil, switch_interval_micros)
    }

    /// The lock of `variant` (the switch interval only matters to the 3.11 GIL).
    pub fn for_variant(variant: Build, switch_interval_micros: u64) -> Self {
        let (imp, breaker) = match variant.lock() {
            LockKind::Ceval => (Imp::Ceval(ceval::CevalGil::new(switch_interval_micros)), 0),
            LockKind::Legacy { check_interval } => (
                Imp::Legacy(legacy::LegacyGil::new(check_interval)),
                BREAK_TICKER,
            ),
            LockKind::None => (Imp::Absent, 0),
        };
        Self {
            sh: Shared {
                eval_breaker: AtomicU32::new(breaker),
                switches: AtomicU64::new(0),
                drop_requests: AtomicU64::new(0),
                releases: AtomicU64::new(0),
            },
            imp,
        }
    }

    /// The switch interval in seconds (`sys.getswitchinterval`); CPython's default for a build
    /// without the 3.11 GIL, where nothing reads it.
    pub fn switch_interval_secs(&self) -> f64 {
        match &self.imp {
            Imp::Ceval(g) => g.interval_ns() as f64 / 1e9,
            _ => 0.005,
        }
    }

    /// `sys.setswitchinterval(secs)`: the 3.11 GIL's interval from now on (at least 1 µs).
    pub fn set_switch_interval_secs(&self, secs: f64) {
        if let Imp::Ceval(g) = &self.imp {
            g.set_interval_ns((secs * 1e9) as u64);
        }
    }

    /// Whether there is a lock at all (false for the free-threaded variants).
    pub fn exists(&self) -> bool {
        !matches!(self.imp, Imp::Absent)
    }

    /// The eval breaker the interpreter polls at its checkpoints.
    pub fn eval_breaker(&self) -> &AtomicU32 {
        &self.sh.eval_breaker
    }

    /// Asks every worker of this interpreter to stop at its next checkpoint.
    pub fn cancel(&self) {
        self.sh
            .eval_breaker
            .fetch_or(BREAK_CANCEL, Ordering::SeqCst);
        match &self.imp {
            Imp::Ceval(g) => g.wake_all(),
            Imp::Legacy(g) => g.wake_all(),
            Imp::Absent => {}
        }
    }

    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.sh.is_cancelled()
    }

    /// Times the holder changed from one thread to another.
    pub fn switches(&self) -> u64 {
        self.sh.switches.load(Ordering::Relaxed)
    }

    /// Times a waiter timed out and asked for a drop (3.11 GIL only).
    pub fn drop_requests(&self) -> u64 {
        self.sh.drop_requests.load(Ordering::Relaxed)
    }

    /// Times a holder let the lock go, whether or not another thread took it.
    pub fn releases(&self) -> u64 {
        self.sh.releases.load(Ordering::Relaxed)
    }

    /// Whether `worker` holds the lock now (false when there is none).
    pub fn holds(&self, worker: usize) -> bool {
        match &self.imp {
            Imp::Ceval(g) => g.holds(worker),
            Imp::Legacy(g) => g.holds(worker),
            Imp::Absent => false,
        }
    }

    #[cfg(test)]
    fn is_locked(&self) -> bool {
        match &self.imp {
            Imp::Ceval(g) => g.is_locked(),
            _ => false,
        }
    }

    /// `take_gil`: blocks until `worker` may run bytecode; records waiting and then Python time.
    pub fn take(&self, worker: usize, rec: &mut Recorder) -> Result<(), EngineError> {
        match &self.imp {
            Imp::Ceval(g) => g.take(&self.sh, worker, rec),
            Imp::Legacy(g) => g.take(&self.sh, worker, rec, None),
            Imp::Absent => {
                if self.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
                rec.enter(SpanState::Python);
                Ok(())
            }
        }
    }

    /// `drop_gil`: releases the lock, recording `next` from that instant; if a drop was
    /// requested (`forced`, 3.11 only), waits until another thread took it.
    pub fn drop_gil(
        &self,
        worker: usize,
        rec: &mut Recorder,
        next: Option<SpanState>,
        forced: bool,
    ) {
        match &self.imp {
            Imp::Ceval(g) => g.drop_gil(&self.sh, worker, rec, next, forced),
            Imp::Legacy(g) => {
                rec.switch_to(next);
                g.release(&self.sh);
            }
            Imp::Absent => rec.switch_to(next),
        }
    }

    /// The eval-breaker handler run at a checkpoint: stop on cancel; under the 3.11 GIL drop and
    /// re-take on request; under the old GIL release and re-take once `instructions` (the
    /// thread's count so far) passed the check interval since the last release.
    pub fn handle_eval_breaker(
        &self,
        worker: usize,
        rec: &mut Recorder,
        instructions: u64,
        ticker: &mut Ticker,
    ) -> Result<(), EngineError> {
        let bits = self.sh.eval_breaker.load(Ordering::SeqCst);
        if bits & BREAK_CANCEL != 0 {
            return Err(EngineError::Cancelled);
        }
        match &self.imp {
            Imp::Ceval(g) if bits & BREAK_DROP_REQUEST != 0 => {
                g.on_drop_request(&self.sh, worker, rec)
            }
            Imp::Legacy(g)
                if instructions.saturating_sub(ticker.last_release_instructions)
                    >= g.check_interval =>
            {
                ticker.last_release_instructions = instructions;
                g.cycle(&self.sh, worker, rec)
            }
            _ => Ok(()),
        }
    }

    /// `Py_BEGIN_ALLOW_THREADS`: releases the lock for native work or I/O recorded as `state`.
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
        assert_eq!(gil.releases(), 2);
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
        gil.handle_eval_breaker(0, &mut rec, 0, &mut Ticker::default())
            .unwrap();
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
        while gil.is_locked() && !gil.is_cancelled() {
            gil.cancel();
        }
        assert!(matches!(
            waiter.join().unwrap(),
            Err(EngineError::Cancelled)
        ));
    }

    #[test]
    fn legacy_gil_releases_every_check_interval_and_never_asks_for_a_drop() {
        let gil = Gil::for_variant(Build::LegacyGil, 5000);
        assert_ne!(gil.eval_breaker().load(Ordering::SeqCst) & BREAK_TICKER, 0);
        let mut rec = Recorder::new(0, None);
        let mut ticker = Ticker::default();
        gil.take(0, &mut rec).unwrap();
        // Checkpoints every 7 instructions, like the count loop's back-edge.
        let mut n = 0;
        for _ in 0..1000 {
            n += 7;
            gil.handle_eval_breaker(0, &mut rec, n, &mut ticker)
                .unwrap();
        }
        // 7000 instructions: one release per ≥ 100, each at the first checkpoint after.
        assert_eq!(gil.releases(), 7000 / 105);
        assert!(gil.holds(0));
        assert_eq!(gil.drop_requests(), 0);
        assert_eq!(gil.switches(), 0);
    }

    #[test]
    fn legacy_gil_cancel_wakes_a_waiter() {
        let gil = Arc::new(Gil::for_variant(Build::LegacyGil, 5000));
        let mut rec = Recorder::new(0, None);
        gil.take(0, &mut rec).unwrap();
        let g2 = Arc::clone(&gil);
        let waiter = std::thread::spawn(move || {
            let mut r = Recorder::new(1, None);
            g2.take(1, &mut r)
        });
        gil.cancel();
        // The waiter may still be on its way into the wait: cancel until it has answered.
        while !waiter.is_finished() {
            gil.cancel();
            std::thread::yield_now();
        }
        assert!(matches!(
            waiter.join().unwrap(),
            Err(EngineError::Cancelled)
        ));
    }

    #[test]
    fn no_gil_never_blocks_and_counts_nothing() {
        let gil = Arc::new(Gil::for_variant(Build::FreeThreaded, 5000));
        assert!(!gil.exists());
        let mut a = Recorder::new(0, None);
        let mut b = Recorder::new(1, None);
        gil.take(0, &mut a).unwrap();
        gil.take(1, &mut b).unwrap();
        assert!(!gil.holds(0) && !gil.holds(1));
        gil.release(0, &mut a, SpanState::Io);
        assert_eq!((gil.switches(), gil.releases()), (0, 0));
    }
}
