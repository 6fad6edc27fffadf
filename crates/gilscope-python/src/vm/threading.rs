//! The `threading` module's functions and `Thread`'s methods: making a thread, starting it
//! through the host, and `join`, which waits with the GIL released as CPython's does.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::call::{Kwargs, bind_params};
use super::object::Obj;
use super::thread::{ThreadObj, ThreadState};
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

/// Longest wait of a `join` between cancel checks.
const JOIN_SLICE: Duration = Duration::from_millis(10);

impl Builtin {
    /// Whether this is one of `threading`'s functions or `Thread`'s methods.
    pub fn is_threading(self) -> bool {
        matches!(
            self,
            Builtin::ThreadingThread
                | Builtin::ThreadingCurrentThread
                | Builtin::ThreadingGetIdent
                | Builtin::ThreadStart
                | Builtin::ThreadJoin
                | Builtin::ThreadIsAlive
        )
    }
}

fn the_thread(args: &[Value], method: &str) -> Result<Obj<ThreadObj>, VmError> {
    match args.first() {
        Some(Value::Thread(t)) => Ok(t.clone()),
        _ => Err(VmError::type_error(format!(
            "descriptor '{method}' requires a 'Thread' object"
        ))),
    }
}

impl<H: Host> Vm<'_, H> {
    /// The thread this interpreter runs (a main thread is made for a host that never said).
    pub(super) fn current(&mut self) -> Obj<ThreadObj> {
        self.current_thread
            .get_or_insert_with(|| Obj::new(ThreadObj::main()))
            .clone()
    }

    pub(super) fn call_threading(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match b {
            Builtin::ThreadingThread => {
                let names = ["group", "target", "name", "args", "kwargs", "daemon"];
                let mut p = bind_params("Thread", &names, 5, args, kwargs)?.into_iter();
                let mut next = || p.next().flatten();
                let (group, target, name, targs, tkwargs, daemon) =
                    (next(), next(), next(), next(), next(), next());
                if !matches!(group, None | Some(Value::None)) {
                    return Err(VmError::py(
                        "AssertionError",
                        "group argument must be None for now",
                    ));
                }
                let target = target.unwrap_or(Value::None);
                let name = match name {
                    None | Some(Value::None) => None,
                    Some(v) => Some(Arc::from(v.to_str())),
                };
                let targs = match targs {
                    None => Vec::new(),
                    Some(v) => super::ops::iterate(&v)?,
                };
                let tkwargs = match tkwargs {
                    None | Some(Value::None) => Vec::new(),
                    Some(v) => super::call::kwargs_of("Thread", &v)?,
                };
                // A thread is a daemon when its creator is, unless told.
                let daemon = match daemon {
                    None | Some(Value::None) => self.current().daemon.load(Ordering::Relaxed),
                    Some(v) => v.truthy()?,
                };
                let number = if name.is_none() {
                    self.host.next_thread_number()
                } else {
                    0
                };
                Ok(Value::Thread(Obj::new(ThreadObj::new(
                    target, targs, tkwargs, name, daemon, number,
                ))))
            }
            Builtin::ThreadingCurrentThread => Ok(Value::Thread(self.current())),
            Builtin::ThreadingGetIdent => Ok(Value::Int(
                self.current().ident.load(Ordering::Relaxed) as i64,
            )),
            Builtin::ThreadStart => {
                let t = the_thread(&args, "start")?;
                if !t.mark_started() {
                    return Err(VmError::py(
                        "RuntimeError",
                        "threads can only be started once",
                    ));
                }
                self.host.start_thread(&t)?;
                Ok(Value::None)
            }
            Builtin::ThreadIsAlive => {
                let t = the_thread(&args, "is_alive")?;
                Ok(Value::Bool(t.state() == ThreadState::Started))
            }
            Builtin::ThreadJoin => {
                let t = the_thread(&args, "join")?;
                let rest = args.into_iter().skip(1).collect();
                let p = bind_params("join", &["timeout"], 1, rest, kwargs)?;
                let timeout = match p.into_iter().next().flatten() {
                    None | Some(Value::None) => None,
                    Some(v) => Some(v.as_f64().ok_or_else(|| {
                        VmError::type_error(format!(
                            "'{}' object cannot be interpreted as a number",
                            v.type_name()
                        ))
                    })?),
                };
                match t.state() {
                    ThreadState::Initial => {
                        return Err(VmError::py(
                            "RuntimeError",
                            "cannot join thread before it is started",
                        ));
                    }
                    ThreadState::Finished => return Ok(Value::None),
                    ThreadState::Started => {}
                }
                if self
                    .current_thread
                    .as_ref()
                    .is_some_and(|c| Obj::ptr_eq(c, &t))
                {
                    return Err(VmError::py("RuntimeError", "cannot join current thread"));
                }
                self.join_thread(&t, timeout)?;
                Ok(Value::None)
            }
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a threading function", other.name()),
            )),
        }
    }

    /// Waits for `t` to finish, at most `timeout_secs`, with the GIL released.
    fn join_thread(&mut self, t: &ThreadObj, timeout_secs: Option<f64>) -> Result<(), VmError> {
        let deadline = timeout_secs.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
        self.begin_allow_threads(Release::Wait);
        let waited = loop {
            let slice = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Ok(());
                    }
                    left.min(JOIN_SLICE)
                }
                None => JOIN_SLICE,
            };
            if t.wait_finished(slice) {
                break Ok(());
            }
            if let Err(e) = self.host.poll_cancel() {
                break Err(e);
            }
        };
        self.end_allow_threads()?;
        waited
    }
}
