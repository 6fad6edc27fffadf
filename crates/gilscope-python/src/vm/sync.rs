//! `threading`'s other synchronisation objects, after `Lib/threading.py`: `Event`, `Semaphore`
//! and `BoundedSemaphore`, `Condition` (over a `Lock` or `RLock`, waiters woken first come first
//! served) and `Barrier`. Every blocking wait is made with the GIL released, and what it waits
//! for is taken again holding the GIL, as the Python-level originals do.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::call::Kwargs;
use super::lock::{LockObj, deadline_after};
use super::object::lock;
use super::value::{Builtin, Value};
use super::{Host, Vm, VmError};

/// A state behind a mutex with a condition variable to wait on its changes.
#[derive(Debug, Default)]
pub struct Watched<T> {
    state: Mutex<T>,
    changed: Condvar,
}

impl<T> Watched<T> {
    pub(super) fn get(&self) -> MutexGuard<'_, T> {
        lock(&self.state)
    }

    /// Waits up to `slice` for a change unless `ready` already holds; then `ready` again.
    pub(super) fn wait_until(&self, slice: Duration, ready: impl Fn(&T) -> bool) -> bool {
        let st = self.get();
        if ready(&st) {
            return true;
        }
        let (st, _) = self
            .changed
            .wait_timeout(st, slice)
            .unwrap_or_else(|p| p.into_inner());
        ready(&st)
    }

    pub(super) fn notify(&self) {
        self.changed.notify_all();
    }
}

/// One of the synchronisation objects.
#[derive(Debug)]
pub enum SyncObj {
    /// `threading.Event`: a flag.
    Event(Watched<bool>),
    /// `threading.Semaphore` (with its bound for a `BoundedSemaphore`).
    Semaphore {
        /// The counter.
        value: Watched<i64>,
        /// The initial value a `BoundedSemaphore` may not exceed.
        bound: Option<i64>,
    },
    /// `threading.Condition`: its lock and the waiters' tickets (issued, released).
    Condition {
        /// The lock (an `RLock` unless one was given).
        lock: Arc<LockObj>,
        /// Tickets issued to waiters and tickets released by `notify`, in order.
        tickets: Watched<(u64, u64)>,
    },
    /// `threading.Barrier`: parties, and (waiting, generation).
    Barrier {
        /// How many threads must wait.
        parties: i64,
        /// How many wait now, and which round it is.
        state: Watched<(i64, u64)>,
    },
}

impl SyncObj {
    /// Its class name.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncObj::Event(_) => "Event",
            SyncObj::Semaphore { bound: None, .. } => "Semaphore",
            SyncObj::Semaphore { .. } => "BoundedSemaphore",
            SyncObj::Condition { .. } => "Condition",
            SyncObj::Barrier { .. } => "Barrier",
        }
    }
}

/// What a method of a synchronisation object does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMethod {
    /// `Event.set()`.
    Set,
    /// `Event.clear()`.
    Clear,
    /// `Event.is_set()`.
    IsSet,
    /// `Event.wait`, `Condition.wait`, `Barrier.wait`.
    Wait,
    /// `Condition.wait_for(predicate, timeout=None)`.
    WaitFor,
    /// `acquire` (and `__enter__`).
    Acquire,
    /// `release` (and `__exit__`).
    Release,
    /// `Condition.notify(n=1)`.
    Notify,
    /// `Condition.notify_all()` (and `notifyAll`).
    NotifyAll,
}

impl SyncMethod {
    /// The method's Python name.
    pub fn name(self) -> &'static str {
        match self {
            SyncMethod::Set => "set",
            SyncMethod::Clear => "clear",
            SyncMethod::IsSet => "is_set",
            SyncMethod::Wait => "wait",
            SyncMethod::WaitFor => "wait_for",
            SyncMethod::Acquire => "acquire",
            SyncMethod::Release => "release",
            SyncMethod::Notify => "notify",
            SyncMethod::NotifyAll => "notify_all",
        }
    }
}

/// The method `name` of `o`.
pub fn method(o: &SyncObj, name: &str) -> Option<Builtin> {
    use SyncMethod as M;
    let m = match (o, name) {
        (SyncObj::Event(_), "set") => M::Set,
        (SyncObj::Event(_), "clear") => M::Clear,
        (SyncObj::Event(_), "is_set") => M::IsSet,
        (SyncObj::Event(_), "isSet") => {
            return Some(Builtin::Legacy(super::legacy::Legacy::IsSet));
        }
        (SyncObj::Event(_) | SyncObj::Condition { .. } | SyncObj::Barrier { .. }, "wait") => {
            M::Wait
        }
        (SyncObj::Condition { .. }, "wait_for") => M::WaitFor,
        (SyncObj::Condition { .. }, "notify") => M::Notify,
        (SyncObj::Condition { .. }, "notify_all") => M::NotifyAll,
        (SyncObj::Condition { .. }, "notifyAll") => {
            return Some(Builtin::Legacy(super::legacy::Legacy::NotifyAll));
        }
        (SyncObj::Semaphore { .. } | SyncObj::Condition { .. }, "acquire" | "__enter__") => {
            M::Acquire
        }
        (SyncObj::Semaphore { .. } | SyncObj::Condition { .. }, "release" | "__exit__") => {
            M::Release
        }
        _ => return None,
    };
    Some(Builtin::Sync(m))
}

/// A wait's `timeout`: positional at `at` or by keyword; `None` waits for ever.
pub(super) fn timeout_arg(
    args: &[Value],
    at: usize,
    kwargs: &Kwargs,
) -> Result<Option<f64>, VmError> {
    let v = args.get(at).or_else(|| {
        kwargs
            .iter()
            .find(|(k, _)| &**k == "timeout")
            .map(|(_, v)| v)
    });
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(|t| Some(t.max(0.0)))
            .ok_or_else(|| VmError::type_error("timeout must be a number")),
    }
}

fn not_owned() -> VmError {
    VmError::py("RuntimeError", "cannot wait on un-acquired lock")
}

impl<H: Host> Vm<'_, H> {
    /// `threading.Event()`, `Semaphore(value=1)`, `BoundedSemaphore(value=1)`,
    /// `Condition(lock=None)`, `Barrier(parties)`.
    pub(super) fn new_sync(&mut self, kind: &str, args: &[Value]) -> Result<Value, VmError> {
        let int_arg = |v: Option<&Value>, default: i64| -> Result<i64, VmError> {
            match v {
                None => Ok(default),
                Some(v) => v.as_i64().ok_or_else(|| {
                    VmError::type_error(format!(
                        "'{}' object cannot be interpreted as an integer",
                        v.type_name()
                    ))
                }),
            }
        };
        let o = match kind {
            "Event" => SyncObj::Event(Watched::default()),
            "Semaphore" | "BoundedSemaphore" => {
                let v = int_arg(args.first(), 1)?;
                if v < 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "semaphore initial value must be >= 0",
                    ));
                }
                SyncObj::Semaphore {
                    value: Watched {
                        state: Mutex::new(v),
                        changed: Condvar::new(),
                    },
                    bound: (kind == "BoundedSemaphore").then_some(v),
                }
            }
            "Condition" => {
                let lock = match args.first() {
                    None | Some(Value::None) => Arc::new(LockObj::new(true)),
                    Some(Value::Lock(l)) => Arc::clone(l),
                    Some(other) => {
                        return Err(VmError::type_error(format!(
                            "Condition() needs a Lock or an RLock, not {}",
                            other.type_name()
                        )));
                    }
                };
                SyncObj::Condition {
                    lock,
                    tickets: Watched::default(),
                }
            }
            _ => {
                let parties = int_arg(args.first(), 0)?;
                if parties < 1 {
                    return Err(VmError::py("ValueError", "parties must be > 0"));
                }
                SyncObj::Barrier {
                    parties,
                    state: Watched::default(),
                }
            }
        };
        Ok(Value::Sync(Arc::new(o)))
    }

    pub(super) fn call_sync(
        &mut self,
        m: SyncMethod,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use SyncMethod as M;
        let Some(Value::Sync(o)) = args.first().cloned() else {
            return Err(VmError::type_error(format!(
                "descriptor '{}' needs a threading object",
                m.name()
            )));
        };
        match (&*o, m) {
            (SyncObj::Event(flag), M::Set) => {
                *flag.get() = true;
                flag.notify();
                Ok(Value::None)
            }
            (SyncObj::Event(flag), M::Clear) => {
                *flag.get() = false;
                Ok(Value::None)
            }
            (SyncObj::Event(flag), M::IsSet) => Ok(Value::Bool(*flag.get())),
            (SyncObj::Event(flag), M::Wait) => {
                if *flag.get() {
                    return Ok(Value::Bool(true));
                }
                let deadline = timeout_arg(&args, 1, &kwargs)?.map(deadline_after);
                let set = self.wait_released(deadline, |slice| flag.wait_until(slice, |f| *f))?;
                Ok(Value::Bool(set))
            }
            (SyncObj::Semaphore { value, .. }, M::Acquire) => {
                let blocking = match args.get(1) {
                    Some(v) if m == M::Acquire && !matches!(v, Value::Instance(_)) => v.truthy()?,
                    _ => true,
                };
                let deadline = timeout_arg(&args, 2, &kwargs)?.map(deadline_after);
                loop {
                    {
                        let mut v = value.get();
                        if *v > 0 {
                            *v -= 1;
                            return Ok(Value::Bool(true));
                        }
                    }
                    if !blocking {
                        return Ok(Value::Bool(false));
                    }
                    if !self.wait_released(deadline, |slice| value.wait_until(slice, |v| *v > 0))? {
                        return Ok(Value::Bool(false));
                    }
                }
            }
            (SyncObj::Semaphore { value, bound }, M::Release) => {
                let mut v = value.get();
                if let Some(b) = bound
                    && *v >= *b
                {
                    return Err(VmError::py(
                        "ValueError",
                        "Semaphore released too many times",
                    ));
                }
                *v += 1;
                value.notify();
                Ok(Value::None)
            }
            (SyncObj::Condition { lock, .. }, M::Acquire) => {
                let got = self.acquire(lock, true, -1.0)?;
                Ok(Value::Bool(got))
            }
            (SyncObj::Condition { lock, .. }, M::Release) => {
                lock.release()?;
                Ok(Value::None)
            }
            (SyncObj::Condition { lock, tickets }, M::Wait) => {
                if !lock.owned() {
                    return Err(not_owned());
                }
                let timeout = timeout_arg(&args, 1, &kwargs)?;
                Ok(Value::Bool(self.condition_wait(lock, tickets, timeout)?))
            }
            (SyncObj::Condition { lock, tickets }, M::WaitFor) => {
                if !lock.owned() {
                    return Err(not_owned());
                }
                let pred = args.get(1).cloned().ok_or_else(|| {
                    VmError::type_error(
                        "wait_for() missing 1 required positional argument: 'predicate'",
                    )
                })?;
                let timeout = timeout_arg(&args, 2, &kwargs)?;
                let deadline = timeout.map(deadline_after);
                loop {
                    let r = self.call_value(&pred, Vec::new())?;
                    if r.truthy()? {
                        return Ok(r);
                    }
                    let left = deadline.map(|d| {
                        d.saturating_duration_since(std::time::Instant::now())
                            .as_secs_f64()
                    });
                    if left.is_some_and(|l| l <= 0.0) {
                        return Ok(r);
                    }
                    self.condition_wait(lock, tickets, left)?;
                }
            }
            (SyncObj::Condition { lock, tickets }, M::Notify | M::NotifyAll) => {
                if !lock.owned() {
                    return Err(VmError::py(
                        "RuntimeError",
                        "cannot notify on un-acquired lock",
                    ));
                }
                let n = if m == M::NotifyAll {
                    u64::MAX
                } else {
                    match args.get(1) {
                        Some(v) => v.as_i64().unwrap_or(1).max(0) as u64,
                        None => 1,
                    }
                };
                {
                    let mut t = tickets.get();
                    t.1 = t.1.saturating_add(n).min(t.0);
                }
                tickets.notify();
                Ok(Value::None)
            }
            (SyncObj::Barrier { parties, state }, M::Wait) => {
                let deadline = timeout_arg(&args, 1, &kwargs)?.map(deadline_after);
                let (index, generation) = {
                    let mut st = state.get();
                    let index = st.0;
                    st.0 += 1;
                    if st.0 == *parties {
                        st.0 = 0;
                        st.1 += 1;
                        state.notify();
                        return Ok(Value::Int(index));
                    }
                    (index, st.1)
                };
                if !self.wait_released(deadline, |slice| {
                    state.wait_until(slice, |s| s.1 != generation)
                })? {
                    return Err(VmError::py("threading.BrokenBarrierError", ""));
                }
                Ok(Value::Int(index))
            }
            (o, m) => Err(VmError::type_error(format!(
                "'{}' object has no method '{}'",
                o.kind(),
                m.name()
            ))),
        }
    }

    /// `Condition.wait`: a ticket, the lock released entirely, the wait for `notify` to reach
    /// the ticket (with the GIL released), then the lock taken again with its count.
    fn condition_wait(
        &mut self,
        lock: &Arc<LockObj>,
        tickets: &Watched<(u64, u64)>,
        timeout: Option<f64>,
    ) -> Result<bool, VmError> {
        let ticket = {
            let mut t = tickets.get();
            t.0 += 1;
            t.0 - 1
        };
        let count = lock.release_all();
        let deadline = timeout.map(deadline_after);
        let notified = self.wait_released(deadline, |slice| {
            tickets.wait_until(slice, |t| t.1 > ticket)
        });
        if !matches!(notified, Ok(true)) {
            // Timed out: the ticket is withdrawn unless notify reached it meanwhile.
            let mut t = tickets.get();
            if t.1 <= ticket {
                t.1 += 1;
            }
        }
        let got = self.acquire(lock, true, -1.0)?;
        if got {
            lock.restore_count(count);
        }
        notified
    }
}
