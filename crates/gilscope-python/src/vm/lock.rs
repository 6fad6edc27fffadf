//! `threading.Lock` and `threading.RLock`: a lock that a blocked `acquire` waits for with the
//! GIL released (as `PyThread_acquire_lock_timed` under `Py_BEGIN_ALLOW_THREADS` does), and the
//! context-manager methods that make `with lock:` work.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::call::{Kwargs, bind_params};
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

const WAIT_SLICE: Duration = Duration::from_millis(10);

#[derive(Debug, Default)]
struct Held {
    owner: Option<ThreadId>,
    count: u32,
}

/// A lock; reentrant for an `RLock`.
#[derive(Debug, Default)]
pub struct LockObj {
    /// Whether the owning thread may acquire it again (`RLock`).
    pub reentrant: bool,
    held: Mutex<Held>,
    freed: Condvar,
}

impl LockObj {
    /// A new, unlocked lock.
    pub fn new(reentrant: bool) -> Self {
        Self {
            reentrant,
            ..Self::default()
        }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the lock if it is free (or ours, for an `RLock`).
    pub(super) fn try_acquire(&self) -> bool {
        let me = std::thread::current().id();
        let mut h = self.held();
        if h.count == 0 {
            h.owner = Some(me);
            h.count = 1;
            true
        } else if self.reentrant && h.owner == Some(me) {
            h.count += 1;
            true
        } else {
            false
        }
    }

    /// Waits up to `slice` for the lock to be freed, then tries once more.
    pub(super) fn wait_and_try(&self, slice: Duration) -> bool {
        {
            let h = self.held();
            if h.count != 0 {
                let _ = self.freed.wait_timeout(h, slice);
            }
        }
        self.try_acquire()
    }

    /// Whether it is held by anyone.
    pub fn locked(&self) -> bool {
        self.held().count != 0
    }

    pub(super) fn release(&self) -> Result<(), VmError> {
        let me = std::thread::current().id();
        let mut h = self.held();
        if h.count == 0 {
            return Err(VmError::py(
                "RuntimeError",
                if self.reentrant {
                    "cannot release un-acquired lock"
                } else {
                    "release unlocked lock"
                },
            ));
        }
        if self.reentrant && h.owner != Some(me) {
            return Err(VmError::py(
                "RuntimeError",
                "cannot release un-acquired lock",
            ));
        }
        h.count -= 1;
        if h.count == 0 {
            h.owner = None;
            self.freed.notify_one();
        }
        Ok(())
    }

    /// Whether the calling thread holds it (an `RLock`'s `_is_owned`; for a `Lock`, whether it
    /// is held at all, as `Condition` checks a plain lock).
    pub(super) fn owned(&self) -> bool {
        let h = self.held();
        h.count != 0 && (!self.reentrant || h.owner == Some(std::thread::current().id()))
    }

    /// `_release_save`: lets the lock go entirely, returning the recursion count to restore.
    pub(super) fn release_all(&self) -> u32 {
        let mut h = self.held();
        let n = h.count;
        h.count = 0;
        h.owner = None;
        self.freed.notify_one();
        n
    }

    /// `_acquire_restore` once the lock is ours again: its recursion count back.
    pub(super) fn restore_count(&self, n: u32) {
        self.held().count = n.max(1);
    }

    /// `repr`: `<unlocked _thread.lock object>`.
    pub fn repr(&self) -> String {
        let state = if self.locked() { "locked" } else { "unlocked" };
        if self.reentrant {
            format!("<{state} _thread.RLock object>")
        } else {
            format!("<{state} _thread.lock object>")
        }
    }
}

/// The instant `secs` seconds from now (capped, so that a huge timeout stays representable).
pub(super) fn deadline_after(secs: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(secs.clamp(0.0, 1e9))
}

impl Builtin {
    /// Whether this builtin is a lock's constructor or method.
    pub fn is_lock(self) -> bool {
        matches!(
            self,
            Builtin::ThreadingLock
                | Builtin::ThreadingRLock
                | Builtin::LockAcquire
                | Builtin::LockRelease
                | Builtin::LockLocked
                | Builtin::LockEnter
                | Builtin::LockExit
        )
    }
}

fn the_lock(args: &[Value], method: &str) -> Result<std::sync::Arc<LockObj>, VmError> {
    match args.first() {
        Some(Value::Lock(l)) => Ok(l.clone()),
        _ => Err(VmError::type_error(format!(
            "descriptor '{method}' requires a 'lock' object"
        ))),
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_lock(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match b {
            Builtin::ThreadingLock | Builtin::ThreadingRLock => {
                if !args.is_empty() || !kwargs.is_empty() {
                    return Err(VmError::type_error(format!(
                        "{}() takes no arguments",
                        b.name()
                    )));
                }
                Ok(Value::Lock(std::sync::Arc::new(LockObj::new(
                    b == Builtin::ThreadingRLock,
                ))))
            }
            Builtin::LockAcquire | Builtin::LockEnter => {
                let lock = the_lock(&args, "acquire")?;
                let (mut blocking, mut timeout) = (true, -1.0);
                if b == Builtin::LockAcquire {
                    let rest: Vec<Value> = args.into_iter().skip(1).collect();
                    let mut p = bind_params("acquire", &["blocking", "timeout"], 2, rest, kwargs)?
                        .into_iter();
                    if let Some(v) = p.next().flatten() {
                        blocking = v.truthy()?;
                    }
                    if let Some(v) = p.next().flatten() {
                        timeout = v
                            .as_f64()
                            .ok_or_else(|| VmError::type_error("timeout must be a number"))?;
                    }
                    if !blocking && timeout != -1.0 {
                        return Err(VmError::py(
                            "ValueError",
                            "can't specify a timeout for a non-blocking call",
                        ));
                    }
                    if timeout < 0.0 && timeout != -1.0 {
                        return Err(VmError::py(
                            "ValueError",
                            "timeout value must be a non-negative number",
                        ));
                    }
                }
                let got = self.acquire(&lock, blocking, timeout)?;
                Ok(Value::Bool(got))
            }
            Builtin::LockRelease | Builtin::LockExit => {
                the_lock(&args, "release")?.release()?;
                Ok(Value::None)
            }
            Builtin::LockLocked => Ok(Value::Bool(the_lock(&args, "locked")?.locked())),
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a lock method", other.name()),
            )),
        }
    }

    /// Takes `lock`: at once if it is free, else (when `blocking`) waiting with the GIL released
    /// for at most `timeout_secs` (-1: for ever, until the run is cancelled).
    pub(super) fn acquire(
        &mut self,
        lock: &LockObj,
        blocking: bool,
        timeout_secs: f64,
    ) -> Result<bool, VmError> {
        if lock.try_acquire() {
            return Ok(true);
        }
        if !blocking {
            return Ok(false);
        }
        let deadline = (timeout_secs >= 0.0).then(|| deadline_after(timeout_secs));
        self.wait_released(deadline, |slice| lock.wait_and_try(slice))
    }

    /// Waits with the GIL released (`Py_BEGIN_ALLOW_THREADS`, counted as a lock wait) until
    /// `attempt(slice)` succeeds, `deadline` passes (false) or the run is cancelled.
    pub(super) fn wait_released(
        &mut self,
        deadline: Option<Instant>,
        mut attempt: impl FnMut(Duration) -> bool,
    ) -> Result<bool, VmError> {
        self.begin_allow_threads(Release::Wait);
        let got = loop {
            let slice = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Ok(false);
                    }
                    left.min(WAIT_SLICE)
                }
                None => WAIT_SLICE,
            };
            if attempt(slice) {
                break Ok(true);
            }
            if let Err(e) = self.host.poll_cancel() {
                break Err(e);
            }
        };
        self.end_allow_threads()?;
        got
    }
}
