//! The `queue` module: `Queue`, `LifoQueue`, `PriorityQueue` and `SimpleQueue`, whose blocking
//! `put` and `get` wait with the GIL released (as `Lib/queue.py`'s condition waits do), with
//! `task_done`/`join` and the `Empty` and `Full` exceptions.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::call::{Kwargs, bind_params};
use super::class::{ClassObj, Native};
use super::code::CmpOp;
use super::exception::{self, builtin_class};
use super::lock::deadline_after;
use super::value::{Builtin, Value};
use super::{Host, Vm, VmError, ops};

/// Which order a queue hands its items out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// First in, first out (`Queue`, `SimpleQueue`).
    Fifo,
    /// Last in, first out (`LifoQueue`).
    Lifo,
    /// Smallest first (`PriorityQueue`).
    Priority,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Value>,
    unfinished: u64,
}

/// A queue.
#[derive(Debug)]
pub struct QueueObj {
    /// Its order.
    pub kind: QueueKind,
    /// `maxsize` (0: unbounded).
    pub maxsize: usize,
    /// Whether it is a `SimpleQueue` (no `task_done`, `join` or bound).
    pub simple: bool,
    state: Mutex<State>,
    changed: Condvar,
}

impl QueueObj {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Items in it now (`qsize`).
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether it holds nothing now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn full(&self, st: &State) -> bool {
        self.maxsize > 0 && st.items.len() >= self.maxsize
    }

    /// Puts `v` if there is room now.
    fn try_put(&self, v: &Value) -> bool {
        let mut st = self.lock();
        if self.full(&st) {
            return false;
        }
        if self.kind == QueueKind::Priority {
            // heapq order: after every item not greater than it.
            let at = st
                .items
                .iter()
                .position(|x| ops::compare(CmpOp::Lt, v, x).unwrap_or(false))
                .unwrap_or(st.items.len());
            st.items.insert(at, v.clone());
        } else {
            st.items.push_back(v.clone());
        }
        st.unfinished += 1;
        self.changed.notify_all();
        true
    }

    /// Takes the next item if there is one now.
    fn try_get(&self) -> Option<Value> {
        let mut st = self.lock();
        let v = match self.kind {
            QueueKind::Lifo => st.items.pop_back(),
            _ => st.items.pop_front(),
        };
        if v.is_some() {
            self.changed.notify_all();
        }
        v
    }

    /// Waits up to `slice` for any change.
    fn wait(&self, slice: Duration) {
        let st = self.lock();
        let _ = self.changed.wait_timeout(st, slice);
    }

    fn task_done(&self) -> Result<(), VmError> {
        let mut st = self.lock();
        if st.unfinished == 0 {
            return Err(VmError::py(
                "ValueError",
                "task_done() called too many times",
            ));
        }
        st.unfinished -= 1;
        self.changed.notify_all();
        Ok(())
    }

    fn all_done(&self) -> bool {
        self.lock().unfinished == 0
    }
}

/// `queue.Empty` (or `queue.Full`): an `Exception` subclass of the module.
pub fn queue_exception(name: &str) -> Arc<ClassObj> {
    static EMPTY: OnceLock<Arc<ClassObj>> = OnceLock::new();
    static FULL: OnceLock<Arc<ClassObj>> = OnceLock::new();
    let (cell, module) = if name == "Full" {
        (&FULL, "queue")
    } else {
        (&EMPTY, "_queue")
    };
    Arc::clone(cell.get_or_init(|| {
        let base = builtin_class("Exception").into_iter().collect();
        Arc::new(ClassObj::in_module(module, name, base, Native::Exception))
    }))
}

fn raise_queue(name: &str) -> VmError {
    exception::raise(exception::new_exception(queue_exception(name), Vec::new()))
}

fn the_queue(args: &[Value], method: &str) -> Result<Arc<QueueObj>, VmError> {
    match args.first() {
        Some(Value::Queue(q)) => Ok(Arc::clone(q)),
        _ => Err(VmError::type_error(format!(
            "descriptor '{method}' requires a 'Queue' object"
        ))),
    }
}

/// `block` and `timeout` of `put`/`get` (`fname`), positional after `skip` values or by keyword.
fn block_timeout(
    fname: &str,
    args: &[Value],
    skip: usize,
    kwargs: Kwargs,
) -> Result<(bool, Option<f64>), VmError> {
    let rest = args.iter().skip(skip).cloned().collect();
    let mut p = bind_params(fname, &["block", "timeout"], 2, rest, kwargs)?.into_iter();
    let (block, timeout) = (p.next().flatten(), p.next().flatten());
    let block = block.map(|v| v.truthy()).transpose()?.unwrap_or(true);
    let timeout = match timeout {
        None | Some(Value::None) => None,
        Some(v) => {
            let t = v
                .as_f64()
                .ok_or_else(|| VmError::type_error("timeout must be a number"))?;
            if t < 0.0 {
                return Err(VmError::py(
                    "ValueError",
                    "'timeout' must be a non-negative number",
                ));
            }
            Some(t)
        }
    };
    Ok((block, timeout))
}

impl Builtin {
    /// Whether this builtin belongs to the `queue` module.
    pub fn is_queue(self) -> bool {
        matches!(
            self,
            Builtin::QueueNew(..)
                | Builtin::QueuePut
                | Builtin::QueuePutNowait
                | Builtin::QueueGet
                | Builtin::QueueGetNowait
                | Builtin::QueueQsize
                | Builtin::QueueEmpty
                | Builtin::QueueFull
                | Builtin::QueueTaskDone
                | Builtin::QueueJoin
        )
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_queue(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match b {
            Builtin::QueueNew(kind, simple) => {
                let names: &[&str] = if simple { &[] } else { &["maxsize"] };
                let maxsize = bind_params(b.name(), names, names.len(), args, kwargs)?
                    .into_iter()
                    .next()
                    .flatten();
                let maxsize = match maxsize {
                    None => 0,
                    Some(v) => v
                        .as_i64()
                        .ok_or_else(|| VmError::type_error("maxsize must be an integer"))?,
                };
                Ok(Value::Queue(Arc::new(QueueObj {
                    kind,
                    maxsize: maxsize.max(0) as usize,
                    simple,
                    state: Mutex::new(State::default()),
                    changed: Condvar::new(),
                })))
            }
            Builtin::QueuePut | Builtin::QueuePutNowait => {
                let q = the_queue(&args, "put")?;
                let item = args.get(1).cloned().ok_or_else(|| {
                    VmError::type_error("put() missing 1 required positional argument: 'item'")
                })?;
                let (block, timeout) = if b == Builtin::QueuePutNowait {
                    (false, None)
                } else {
                    block_timeout("put", &args, 2, kwargs)?
                };
                if q.try_put(&item) {
                    return Ok(Value::None);
                }
                if !block {
                    return Err(raise_queue("Full"));
                }
                // Waits with the GIL released for room, then puts holding it (as `Lib/queue.py`
                // does after its condition wait), trying again if another thread was first.
                let deadline = timeout.map(deadline_after);
                loop {
                    let room = self.wait_released(deadline, |slice| {
                        q.wait(slice);
                        !q.full(&q.lock())
                    })?;
                    if !room {
                        return Err(raise_queue("Full"));
                    }
                    if q.try_put(&item) {
                        return Ok(Value::None);
                    }
                }
            }
            Builtin::QueueGet | Builtin::QueueGetNowait => {
                let q = the_queue(&args, "get")?;
                let (block, timeout) = if b == Builtin::QueueGetNowait {
                    (false, None)
                } else {
                    block_timeout("get", &args, 1, kwargs)?
                };
                if let Some(v) = q.try_get() {
                    return Ok(v);
                }
                if !block {
                    return Err(raise_queue("Empty"));
                }
                // Waits with the GIL released for an item, then takes it holding the GIL: the
                // thread that gets the GIL first gets the item, as in CPython.
                let deadline = timeout.map(deadline_after);
                loop {
                    let ready = self.wait_released(deadline, |slice| {
                        q.wait(slice);
                        !q.is_empty()
                    })?;
                    if !ready {
                        return Err(raise_queue("Empty"));
                    }
                    if let Some(v) = q.try_get() {
                        return Ok(v);
                    }
                }
            }
            Builtin::QueueQsize => Ok(Value::Int(the_queue(&args, "qsize")?.len() as i64)),
            Builtin::QueueEmpty => Ok(Value::Bool(the_queue(&args, "empty")?.is_empty())),
            Builtin::QueueFull => {
                let q = the_queue(&args, "full")?;
                let st = q.lock();
                Ok(Value::Bool(q.full(&st)))
            }
            Builtin::QueueTaskDone => {
                the_queue(&args, "task_done")?.task_done()?;
                Ok(Value::None)
            }
            Builtin::QueueJoin => {
                let q = the_queue(&args, "join")?;
                if !q.all_done() {
                    self.wait_released(None, |slice| {
                        q.wait(slice);
                        q.all_done()
                    })?;
                }
                Ok(Value::None)
            }
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a queue method", other.name()),
            )),
        }
    }
}

/// `queue.NAME`.
pub fn attr(name: &str) -> Option<Value> {
    let b = |b| Some(Value::Builtin(b));
    match name {
        "Queue" => b(Builtin::QueueNew(QueueKind::Fifo, false)),
        "LifoQueue" => b(Builtin::QueueNew(QueueKind::Lifo, false)),
        "PriorityQueue" => b(Builtin::QueueNew(QueueKind::Priority, false)),
        "SimpleQueue" => b(Builtin::QueueNew(QueueKind::Fifo, true)),
        "Empty" | "Full" => Some(Value::Class(queue_exception(name))),
        _ => None,
    }
}

/// The method `name` of a queue.
pub fn method(q: &QueueObj, name: &str) -> Option<Builtin> {
    Some(match name {
        "put" => Builtin::QueuePut,
        "put_nowait" => Builtin::QueuePutNowait,
        "get" => Builtin::QueueGet,
        "get_nowait" => Builtin::QueueGetNowait,
        "qsize" => Builtin::QueueQsize,
        "empty" => Builtin::QueueEmpty,
        "full" if !q.simple => Builtin::QueueFull,
        "task_done" if !q.simple => Builtin::QueueTaskDone,
        "join" if !q.simple => Builtin::QueueJoin,
        _ => return None,
    })
}
