//! asyncio's synchronisation primitives and queue (`Lock`, `Event`, `Semaphore`,
//! `BoundedSemaphore`, `Queue`), on the thread's event loop: a task that must wait awaits a
//! plain future the primitive keeps, and the one that lets it go on sets that future, as
//! `asyncio/locks.py` and `asyncio/queues.py` do. A released lock (or semaphore slot, or a
//! queue item) goes to the first waiter, who resumes holding it: no task barges ahead, as in
//! CPython, whose waiters list keeps a newcomer out while one is being woken.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use super::asyncio::{AsyncObj, Kind};
use super::call::Kwargs;
use super::class::{ClassObj, Native};
use super::exception::{self, builtin_class};
use super::object::lock;
use super::value::{Builtin, Value};
use super::{Host, Vm, VmError};

/// What a primitive is, and its state.
#[derive(Debug)]
enum State {
    Lock {
        locked: bool,
    },
    Event {
        set: bool,
    },
    Semaphore {
        value: i64,
        bound: Option<i64>,
    },
    Queue {
        items: VecDeque<Value>,
        maxsize: usize,
        /// Putters waiting for room, with their items.
        putters: VecDeque<(Arc<AsyncObj>, Value)>,
        unfinished: usize,
        joiners: Vec<Arc<AsyncObj>>,
    },
}

/// An asyncio `Lock`, `Event`, `Semaphore` or `Queue`.
#[derive(Debug)]
pub struct PrimObj {
    state: Mutex<State>,
    /// The tasks' futures waiting on it, first come first served.
    waiters: Mutex<VecDeque<Arc<AsyncObj>>>,
}

impl PrimObj {
    /// The Python type name.
    pub fn type_name(&self) -> &'static str {
        match &*lock(&self.state) {
            State::Lock { .. } => "Lock",
            State::Event { .. } => "Event",
            State::Semaphore { bound: Some(_), .. } => "BoundedSemaphore",
            State::Semaphore { .. } => "Semaphore",
            State::Queue { .. } => "Queue",
        }
    }

    /// `repr()`, as asyncio writes it.
    pub fn repr(&self) -> String {
        let waiters = lock(&self.waiters).len();
        let extra = if waiters > 0 {
            format!(", waiters:{waiters}")
        } else {
            String::new()
        };
        match &*lock(&self.state) {
            State::Lock { locked } => format!(
                "<asyncio.locks.Lock object [{}{extra}]>",
                if *locked { "locked" } else { "unlocked" }
            ),
            State::Event { set } => format!(
                "<asyncio.locks.Event object [{}{extra}]>",
                if *set { "set" } else { "unset" }
            ),
            State::Semaphore { value, .. } => format!(
                "<asyncio.locks.Semaphore object [{},value:{value}{extra}]>",
                if *value == 0 { "locked" } else { "unlocked" }
            ),
            State::Queue { items, maxsize, .. } => {
                let shown: Vec<String> = items.iter().map(Value::repr).collect();
                format!(
                    "<Queue maxsize={maxsize} _queue=[{}] tasks={}>",
                    shown.join(", "),
                    items.len()
                )
            }
        }
    }
}

/// A method of an asyncio primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimFn {
    /// `asyncio.Lock()`.
    NewLock,
    /// `asyncio.Event()`.
    NewEvent,
    /// `asyncio.Semaphore(value=1)`.
    NewSemaphore,
    /// `asyncio.BoundedSemaphore(value=1)`.
    NewBoundedSemaphore,
    /// `asyncio.Queue(maxsize=0)`.
    NewQueue,
    /// `acquire()`.
    Acquire,
    /// `release()`.
    Release,
    /// `locked()`.
    Locked,
    /// `__aenter__()`.
    Aenter,
    /// `__aexit__(*exc)`.
    Aexit,
    /// `Event.set()`.
    Set,
    /// `Event.clear()`.
    Clear,
    /// `Event.is_set()`.
    IsSet,
    /// `Event.wait()`.
    Wait,
    /// `Queue.put(item)`.
    Put,
    /// `Queue.get()`.
    Get,
    /// `Queue.put_nowait(item)`.
    PutNowait,
    /// `Queue.get_nowait()`.
    GetNowait,
    /// `Queue.qsize()`.
    Qsize,
    /// `Queue.empty()`.
    Empty,
    /// `Queue.full()`.
    Full,
    /// `Queue.task_done()`.
    TaskDone,
    /// `Queue.join()`.
    Join,
}

impl PrimFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            PrimFn::NewLock => "Lock",
            PrimFn::NewEvent => "Event",
            PrimFn::NewSemaphore => "Semaphore",
            PrimFn::NewBoundedSemaphore => "BoundedSemaphore",
            PrimFn::NewQueue => "Queue",
            PrimFn::Acquire => "acquire",
            PrimFn::Release => "release",
            PrimFn::Locked => "locked",
            PrimFn::Aenter => "__aenter__",
            PrimFn::Aexit => "__aexit__",
            PrimFn::Set => "set",
            PrimFn::Clear => "clear",
            PrimFn::IsSet => "is_set",
            PrimFn::Wait => "wait",
            PrimFn::Put => "put",
            PrimFn::Get => "get",
            PrimFn::PutNowait => "put_nowait",
            PrimFn::GetNowait => "get_nowait",
            PrimFn::Qsize => "qsize",
            PrimFn::Empty => "empty",
            PrimFn::Full => "full",
            PrimFn::TaskDone => "task_done",
            PrimFn::Join => "join",
        }
    }
}

/// `asyncio.NAME` for the primitives and the queue's exceptions.
pub fn attr(name: &str) -> Option<Value> {
    let f = match name {
        "Lock" => PrimFn::NewLock,
        "Event" => PrimFn::NewEvent,
        "Semaphore" => PrimFn::NewSemaphore,
        "BoundedSemaphore" => PrimFn::NewBoundedSemaphore,
        "Queue" => PrimFn::NewQueue,
        "QueueEmpty" | "QueueFull" => return queue_error(name).map(Value::Class),
        _ => return None,
    };
    Some(Value::Builtin(Builtin::AsyncPrim(f)))
}

/// The method `name` of a primitive.
pub fn method(p: &PrimObj, name: &str) -> Option<Builtin> {
    let is_queue = matches!(&*lock(&p.state), State::Queue { .. });
    let is_event = matches!(&*lock(&p.state), State::Event { .. });
    let f = match (is_queue, is_event, name) {
        (true, _, "put") => PrimFn::Put,
        (true, _, "get") => PrimFn::Get,
        (true, _, "put_nowait") => PrimFn::PutNowait,
        (true, _, "get_nowait") => PrimFn::GetNowait,
        (true, _, "qsize") => PrimFn::Qsize,
        (true, _, "empty") => PrimFn::Empty,
        (true, _, "full") => PrimFn::Full,
        (true, _, "task_done") => PrimFn::TaskDone,
        (true, _, "join") => PrimFn::Join,
        (false, true, "set") => PrimFn::Set,
        (false, true, "clear") => PrimFn::Clear,
        (false, true, "is_set") => PrimFn::IsSet,
        (false, true, "wait") => PrimFn::Wait,
        (false, false, "acquire") => PrimFn::Acquire,
        (false, false, "release") => PrimFn::Release,
        (false, false, "locked") => PrimFn::Locked,
        (false, false, "__aenter__") => PrimFn::Aenter,
        (false, false, "__aexit__") => PrimFn::Aexit,
        _ => return None,
    };
    Some(Builtin::AsyncPrim(f))
}

/// `asyncio.QueueEmpty` / `asyncio.QueueFull`.
fn queue_error(name: &str) -> Option<Arc<ClassObj>> {
    static EMPTY: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    static FULL: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    let cell = match name {
        "QueueEmpty" => &EMPTY,
        "QueueFull" => &FULL,
        _ => return None,
    };
    cell.get_or_init(|| {
        let base = builtin_class("Exception")?;
        Some(Arc::new(ClassObj::in_module(
            "asyncio.queues",
            name,
            vec![base],
            Native::Exception,
        )))
    })
    .clone()
}

fn raise_queue(name: &str) -> VmError {
    match queue_error(name) {
        Some(c) => exception::raise(exception::new_exception(c, Vec::new())),
        None => VmError::py("RuntimeError", name),
    }
}

fn the_prim(args: &[Value]) -> Result<Arc<PrimObj>, VmError> {
    match args.first() {
        Some(Value::AsyncPrim(p)) => Ok(Arc::clone(p)),
        _ => Err(VmError::type_error(
            "descriptor requires an asyncio primitive",
        )),
    }
}

impl<H: Host> Vm<'_, H> {
    /// A future already done with `v` (`await` on it does not yield).
    fn ready(&mut self, v: Value) -> Result<Value, VmError> {
        let f = AsyncObj::new(Kind::Future);
        self.finish(&f, Ok(v))?;
        Ok(Value::Awaitable(f))
    }

    /// A future this primitive's next waker will set.
    fn pending(&mut self, p: &PrimObj) -> Value {
        let f = AsyncObj::new(Kind::Future);
        lock(&p.waiters).push_back(Arc::clone(&f));
        Value::Awaitable(f)
    }

    /// The first waiter, given `v`.
    fn wake_first(&mut self, p: &PrimObj, v: Value) -> Result<bool, VmError> {
        let first = lock(&p.waiters).pop_front();
        match first {
            Some(f) => {
                self.finish(&f, Ok(v))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    pub(super) fn call_async_prim(
        &mut self,
        f: PrimFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let new = |state: State| {
            Ok(Value::AsyncPrim(Arc::new(PrimObj {
                state: Mutex::new(state),
                waiters: Mutex::new(VecDeque::new()),
            })))
        };
        let count_arg = |name: &str, dflt: i64| -> Result<i64, VmError> {
            match args
                .first()
                .or_else(|| kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v))
            {
                None => Ok(dflt),
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| VmError::type_error(format!("{name} must be an integer"))),
            }
        };
        match f {
            PrimFn::NewLock => return new(State::Lock { locked: false }),
            PrimFn::NewEvent => return new(State::Event { set: false }),
            PrimFn::NewSemaphore | PrimFn::NewBoundedSemaphore => {
                let value = count_arg("value", 1)?;
                if value < 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "Semaphore initial value must be >= 0",
                    ));
                }
                let bound = (f == PrimFn::NewBoundedSemaphore).then_some(value);
                return new(State::Semaphore { value, bound });
            }
            PrimFn::NewQueue => {
                let maxsize = count_arg("maxsize", 0)?.max(0) as usize;
                return new(State::Queue {
                    items: VecDeque::new(),
                    maxsize,
                    putters: VecDeque::new(),
                    unfinished: 0,
                    joiners: Vec::new(),
                });
            }
            _ => {}
        }
        let p = the_prim(&args)?;
        let item = args.get(1).cloned().unwrap_or(Value::None);
        let waiting = !lock(&p.waiters).is_empty();
        enum Then {
            Ready(Value),
            Wait,
            Wake(Value),
            Raise(VmError),
            Plain(Value),
        }
        let then = {
            let mut st = lock(&p.state);
            match (&mut *st, f) {
                (State::Lock { locked }, PrimFn::Acquire | PrimFn::Aenter) => {
                    let v = if f == PrimFn::Aenter {
                        Value::None
                    } else {
                        Value::Bool(true)
                    };
                    if !*locked && !waiting {
                        *locked = true;
                        Then::Ready(v)
                    } else {
                        Then::Wait
                    }
                }
                (State::Lock { locked }, PrimFn::Release | PrimFn::Aexit) => {
                    if !*locked {
                        Then::Raise(VmError::py("RuntimeError", "Lock is not acquired."))
                    } else if waiting {
                        // The lock passes to the first waiter, still locked.
                        Then::Wake(Value::Bool(true))
                    } else {
                        *locked = false;
                        Then::Plain(Value::None)
                    }
                }
                (State::Lock { locked }, PrimFn::Locked) => Then::Plain(Value::Bool(*locked)),
                (State::Semaphore { value, .. }, PrimFn::Acquire | PrimFn::Aenter) => {
                    let v = if f == PrimFn::Aenter {
                        Value::None
                    } else {
                        Value::Bool(true)
                    };
                    if *value > 0 && !waiting {
                        *value -= 1;
                        Then::Ready(v)
                    } else {
                        Then::Wait
                    }
                }
                (State::Semaphore { value, bound }, PrimFn::Release | PrimFn::Aexit) => {
                    if bound.is_some_and(|b| *value >= b) {
                        Then::Raise(VmError::py(
                            "ValueError",
                            "BoundedSemaphore released too many times",
                        ))
                    } else if waiting {
                        Then::Wake(Value::Bool(true))
                    } else {
                        *value += 1;
                        Then::Plain(Value::None)
                    }
                }
                (State::Semaphore { value, .. }, PrimFn::Locked) => {
                    Then::Plain(Value::Bool(*value == 0 || waiting))
                }
                (State::Event { set }, PrimFn::Set) => {
                    *set = true;
                    Then::Wake(Value::Bool(true))
                }
                (State::Event { set }, PrimFn::Clear) => {
                    *set = false;
                    Then::Plain(Value::None)
                }
                (State::Event { set }, PrimFn::IsSet) => Then::Plain(Value::Bool(*set)),
                (State::Event { set }, PrimFn::Wait) => {
                    if *set {
                        Then::Ready(Value::Bool(true))
                    } else {
                        Then::Wait
                    }
                }
                (
                    State::Queue {
                        items,
                        maxsize,
                        putters,
                        unfinished,
                        ..
                    },
                    PrimFn::Put | PrimFn::PutNowait,
                ) => {
                    let full = *maxsize > 0 && items.len() >= *maxsize;
                    if waiting && items.is_empty() {
                        // A getter is waiting: the item is its.
                        *unfinished += 1;
                        Then::Wake(item)
                    } else if !full {
                        items.push_back(item);
                        *unfinished += 1;
                        if f == PrimFn::Put {
                            Then::Ready(Value::None)
                        } else {
                            Then::Plain(Value::None)
                        }
                    } else if f == PrimFn::PutNowait {
                        Then::Raise(raise_queue("QueueFull"))
                    } else {
                        let fut = AsyncObj::new(Kind::Future);
                        putters.push_back((Arc::clone(&fut), item));
                        Then::Plain(Value::Awaitable(fut))
                    }
                }
                (
                    State::Queue {
                        items,
                        putters,
                        unfinished,
                        ..
                    },
                    PrimFn::Get | PrimFn::GetNowait,
                ) => {
                    match items.pop_front() {
                        Some(v) => {
                            // Room for the first putter waiting.
                            if let Some((fut, x)) = putters.pop_front() {
                                items.push_back(x);
                                *unfinished += 1;
                                drop(st);
                                self.finish(&fut, Ok(Value::None))?;
                                return if f == PrimFn::Get {
                                    self.ready(v)
                                } else {
                                    Ok(v)
                                };
                            }
                            if f == PrimFn::Get {
                                Then::Ready(v)
                            } else {
                                Then::Plain(v)
                            }
                        }
                        None if f == PrimFn::GetNowait => Then::Raise(raise_queue("QueueEmpty")),
                        None => Then::Wait,
                    }
                }
                (State::Queue { items, .. }, PrimFn::Qsize) => {
                    Then::Plain(Value::Int(items.len() as i64))
                }
                (State::Queue { items, .. }, PrimFn::Empty) => {
                    Then::Plain(Value::Bool(items.is_empty()))
                }
                (State::Queue { items, maxsize, .. }, PrimFn::Full) => {
                    Then::Plain(Value::Bool(*maxsize > 0 && items.len() >= *maxsize))
                }
                (
                    State::Queue {
                        unfinished,
                        joiners,
                        ..
                    },
                    PrimFn::TaskDone,
                ) => {
                    if *unfinished == 0 {
                        Then::Raise(VmError::py(
                            "ValueError",
                            "task_done() called too many times",
                        ))
                    } else {
                        *unfinished -= 1;
                        let done = if *unfinished == 0 {
                            std::mem::take(joiners)
                        } else {
                            Vec::new()
                        };
                        drop(st);
                        for j in done {
                            self.finish(&j, Ok(Value::None))?;
                        }
                        return Ok(Value::None);
                    }
                }
                (
                    State::Queue {
                        unfinished,
                        joiners,
                        ..
                    },
                    PrimFn::Join,
                ) => {
                    if *unfinished == 0 {
                        Then::Ready(Value::None)
                    } else {
                        let fut = AsyncObj::new(Kind::Future);
                        joiners.push(Arc::clone(&fut));
                        Then::Plain(Value::Awaitable(fut))
                    }
                }
                (_, other) => Then::Raise(VmError::type_error(format!(
                    "'{}' object has no method '{}'",
                    p.type_name(),
                    other.name()
                ))),
            }
        };
        match then {
            Then::Ready(v) => self.ready(v),
            Then::Wait => Ok(self.pending(&p)),
            // `__aexit__` is a coroutine: awaited, it gives False.
            Then::Plain(_) if f == PrimFn::Aexit => self.ready(Value::Bool(false)),
            Then::Plain(v) => Ok(v),
            Then::Raise(e) => Err(e),
            Then::Wake(v) => {
                if f == PrimFn::Set {
                    // An event wakes every waiter.
                    while self.wake_first(&p, v.clone())? {}
                    return Ok(Value::None);
                }
                self.wake_first(&p, v)?;
                match f {
                    PrimFn::Aexit => self.ready(Value::Bool(false)),
                    PrimFn::Put => self.ready(Value::None),
                    _ => Ok(Value::None),
                }
            }
        }
    }
}
