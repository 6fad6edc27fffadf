//! `threading.Timer` and `threading.local`, after `Lib/threading.py` and `Lib/_threading_local.py`:
//! a timer is a thread that waits its interval on an event (with the GIL released) and then calls
//! its function unless cancelled; a `local` holds one attribute namespace per thread.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use super::call::{Kwargs, bind_params};
use super::lock::deadline_after;
use super::object::Obj;
use super::sync::SyncObj;
use super::thread::ThreadObj;
use super::value::{BoundMethod, Builtin, Value};
use super::{Host, Vm, VmError};

/// One thread's attributes of a `local`.
type Attrs = Vec<(Arc<str>, Value)>;

/// A `threading.local`: each thread's attributes.
#[derive(Debug, Default)]
pub struct LocalObj {
    per_thread: Mutex<Vec<(ThreadId, Attrs)>>,
}

impl LocalObj {
    fn lock(&self) -> MutexGuard<'_, Vec<(ThreadId, Attrs)>> {
        self.per_thread.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The calling thread's attribute `name`.
    pub fn get(&self, name: &str) -> Option<Value> {
        let me = std::thread::current().id();
        self.lock()
            .iter()
            .find(|(t, _)| *t == me)
            .and_then(|(_, attrs)| attrs.iter().find(|(k, _)| &**k == name))
            .map(|(_, v)| v.clone())
    }

    /// Sets the calling thread's attribute `name`.
    pub fn set(&self, name: &str, v: Value) {
        let me = std::thread::current().id();
        let mut all = self.lock();
        let attrs = match all.iter().position(|(t, _)| *t == me) {
            Some(k) => &mut all[k].1,
            None => {
                all.push((me, Vec::new()));
                let last = all.len() - 1;
                &mut all[last].1
            }
        };
        match attrs.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = v,
            None => attrs.push((Arc::from(name), v)),
        }
    }
}

/// The pieces of a timer's thread target: its event, interval, function and arguments.
fn timer_parts(target: &Value) -> Option<(Arc<SyncObj>, Vec<Value>)> {
    match target {
        Value::Method(m) if matches!(m.func, Value::Builtin(Builtin::TimerRun)) => match &m.this {
            Value::Tuple(t) => match t.first() {
                Some(Value::Sync(e)) => Some((Arc::clone(e), t.to_vec())),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

impl<H: Host> Vm<'_, H> {
    /// `threading.Timer(interval, function, args=None, kwargs=None)`: a thread (`Thread-N`)
    /// that is not started yet.
    pub(super) fn new_timer(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let names = ["interval", "function", "args", "kwargs"];
        let mut p = bind_params("Timer", &names, 4, args, kwargs)?.into_iter();
        let mut next = || p.next().flatten();
        let (Some(interval), Some(function), targs, tkwargs) = (next(), next(), next(), next())
        else {
            return Err(VmError::type_error(
                "Timer() missing required arguments: 'interval' and 'function'",
            ));
        };
        let secs = interval
            .as_f64()
            .ok_or_else(|| VmError::type_error("Timer interval must be a number"))?;
        let targs = match targs {
            None | Some(Value::None) => Value::Tuple(Arc::from([])),
            Some(v) => Value::Tuple(super::ops::iterate(&v)?.into()),
        };
        let tkwargs = tkwargs.unwrap_or(Value::None);
        let Value::Sync(event) = self.new_sync("Event", &[])? else {
            return Err(VmError::py("SystemError", "no event for the timer"));
        };
        let n = self.host.next_thread_number();
        let target = Value::Method(Arc::new(BoundMethod {
            this: Value::Tuple(Arc::from([
                Value::Sync(event),
                Value::Float(secs),
                function,
                targs,
                tkwargs,
            ])),
            func: Value::Builtin(Builtin::TimerRun),
        }));
        Ok(Value::Thread(Obj::new(ThreadObj::new(
            target,
            Vec::new(),
            Vec::new(),
            Some(Arc::from(format!("Thread-{n}"))),
            false,
            0,
        ))))
    }

    /// A timer thread's body: wait for the interval or a cancel, then call the function.
    pub(super) fn timer_run(&mut self, args: Vec<Value>) -> Result<Value, VmError> {
        let Some(Value::Tuple(t)) = args.first() else {
            return Err(VmError::py("SystemError", "a timer without its parts"));
        };
        let [
            Value::Sync(event),
            Value::Float(secs),
            function,
            targs,
            tkwargs,
        ] = &t[..]
        else {
            return Err(VmError::py("SystemError", "a timer without its parts"));
        };
        let SyncObj::Event(flag) = &**event else {
            return Err(VmError::py("SystemError", "a timer without its event"));
        };
        let cancelled = *flag.get()
            || self.wait_released(Some(deadline_after(*secs)), |slice| {
                flag.wait_until(slice, |f| *f)
            })?;
        if !cancelled {
            let call_args = super::ops::iterate(targs)?;
            let kw = match tkwargs {
                Value::None => Vec::new(),
                d => super::call::kwargs_of("Timer", d)?,
            };
            self.call_value_kw(function, call_args, kw)?;
        }
        *flag.get() = true;
        Ok(Value::None)
    }

    /// `Timer.cancel()`.
    pub(super) fn timer_cancel(&mut self, args: &[Value]) -> Result<Value, VmError> {
        let Some(Value::Thread(t)) = args.first() else {
            return Err(VmError::type_error("cancel() needs a Timer"));
        };
        let Some((event, _)) = timer_parts(&t.target) else {
            return Err(VmError::py(
                "AttributeError",
                "'Thread' object has no attribute 'cancel'",
            ));
        };
        if let SyncObj::Event(flag) = &*event {
            *flag.get() = true;
            flag.notify();
        }
        Ok(Value::None)
    }
}

/// Whether `t` is a timer's thread (it has `cancel`).
pub fn is_timer(t: &ThreadObj) -> bool {
    timer_parts(&t.target).is_some()
}
