//! `multiprocessing` and `concurrent.futures.ProcessPoolExecutor`: `Pool` (map, starmap, imap,
//! imap_unordered, apply, apply_async, map_async, starmap_async, close, join, terminate, use as
//! a context manager), `Process` (start, join, is_alive, exitcode, pid, name, daemon,
//! terminate, kill), `cpu_count`, `current_process`, `get_start_method`/`set_start_method`.
//!
//! The processes are the host's ([`Processes`]): real child processes that start, as Linux's
//! default `fork` starts them, from the program's state at that moment, each under a GIL of its
//! own. What crosses between them is pickled, as CPython pickles it: data by value, module-level
//! functions by name. Every wait for a child (a result, a `join`) is made with the GIL released.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::call::{Kwargs, bind_params, kwargs_of};
use super::exception::{self, builtin_class};
use super::futures::FutureObj;
use super::lock::deadline_after;
use super::mp_shared::{SharedKind, SharedObj, SharedOp};
use super::object::lock;
use super::sync::timeout_arg;
use super::value::{Builtin, SeqIter, Value};
use super::{Host, Vm, VmError};

/// What a task's calls returned, in order, or the exception one of them raised.
pub type TaskOutcome = Result<Vec<Value>, Value>;

/// One call of a task: its positional and keyword arguments.
pub type TaskCall = (Vec<Value>, Kwargs);

static COMPLETIONS: AtomicU64 = AtomicU64::new(0);

/// A task handed to worker processes (a chunk of a `map`, an `apply`, a `submit`), and its
/// outcome once a worker has run it.
#[derive(Debug, Default)]
pub struct PoolTask {
    state: Mutex<Option<(TaskOutcome, u64)>>,
    changed: Condvar,
    /// The `ProcessPoolExecutor` future it completes.
    future: Option<Arc<FutureObj>>,
}

impl PoolTask {
    /// A task whose outcome is waited for by its own handle.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn for_future(future: Arc<FutureObj>) -> Arc<Self> {
        Arc::new(Self {
            future: Some(future),
            ..Self::default()
        })
    }

    /// Records the outcome (the host calls it once a worker has answered, or has died).
    pub fn finish(&self, outcome: TaskOutcome) {
        if let Some(f) = &self.future {
            f.finish(match &outcome {
                Ok(v) => Ok(v.first().cloned().unwrap_or(Value::None)),
                Err(e) => Err(e.clone()),
            });
        }
        let seq = COMPLETIONS.fetch_add(1, Ordering::Relaxed);
        *lock(&self.state) = Some((outcome, seq));
        self.changed.notify_all();
    }

    /// Whether it has an outcome.
    pub fn is_done(&self) -> bool {
        lock(&self.state).is_some()
    }

    fn outcome(&self) -> Option<(TaskOutcome, u64)> {
        lock(&self.state).clone()
    }

    fn wait(&self, slice: Duration) -> bool {
        let st = lock(&self.state);
        if st.is_some() {
            return true;
        }
        let (st, _) = self
            .changed
            .wait_timeout(st, slice)
            .unwrap_or_else(|p| p.into_inner());
        st.is_some()
    }
}

/// Worker processes the host started for the program: a pool's, a `Process`'s, an executor's.
pub trait Processes: Send + Sync + fmt::Debug {
    /// Queues `task`: `func` called with each of `calls`, in order, in one of the processes.
    fn submit(
        &self,
        func: &Value,
        calls: Vec<TaskCall>,
        task: Arc<PoolTask>,
    ) -> Result<(), VmError>;
    /// No more tasks: each process exits once the queue is done (`Pool.close`).
    fn close(&self);
    /// Stops every process now (`terminate`, SIGTERM); their unfinished tasks never end.
    fn terminate(&self);
    /// Waits up to `slice` for every process to exit; whether they all have.
    fn wait_exited(&self, slice: Duration) -> bool;
    /// The processes' ids, in start order.
    fn pids(&self) -> Vec<u32>;
    /// Each process's exit code once it has exited (negative: the signal that killed it).
    fn exit_codes(&self) -> Vec<Option<i32>>;
}

/// What the processes a host starts are for: what happens to their exceptions, and at exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkKind {
    /// A `Pool`'s workers: tasks' exceptions go back to the caller; terminated at exit.
    Pool,
    /// A `ProcessPoolExecutor`'s workers: as a pool's, but their queue is finished at exit.
    Executor,
    /// A `Process`: its target's exception is printed there and sets its exit code; joined at
    /// exit unless a daemon, which is terminated.
    Process {
        /// `daemon=True`.
        daemon: bool,
    },
}

/// Which library made a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// `multiprocessing.Pool`.
    Pool,
    /// `concurrent.futures.ProcessPoolExecutor`.
    Executor,
}

/// A `multiprocessing.Pool` or a `ProcessPoolExecutor`.
#[derive(Debug)]
pub struct PoolObj {
    /// Which one.
    pub kind: PoolKind,
    /// Its worker processes.
    procs: Arc<dyn Processes>,
    /// How many.
    pub size: usize,
    /// `close()` (or `shutdown`) was called.
    closed: AtomicBool,
    /// `terminate()` was called.
    terminated: AtomicBool,
}

/// A `multiprocessing.Process` (or the `MainProcess` that `current_process()` returns there).
#[derive(Debug)]
pub struct ProcessObj {
    name: Mutex<Arc<str>>,
    target: Value,
    args: Vec<Value>,
    kwargs: Kwargs,
    daemon: AtomicBool,
    /// Its child once started (`None` for the process the program itself runs in).
    child: Mutex<Option<Arc<dyn Processes>>>,
    /// The pid of the process this object stands for when it is the one running.
    own_pid: Option<u32>,
}

impl ProcessObj {
    /// Its name.
    pub fn name(&self) -> Arc<str> {
        Arc::clone(&lock(&self.name))
    }

    fn child(&self) -> Option<Arc<dyn Processes>> {
        lock(&self.child).clone()
    }

    fn pid(&self) -> Value {
        match (self.own_pid, self.child()) {
            (Some(p), _) => Value::Int(i64::from(p)),
            (None, Some(c)) => c
                .pids()
                .first()
                .map_or(Value::None, |p| Value::Int(i64::from(*p))),
            (None, None) => Value::None,
        }
    }

    fn exitcode(&self) -> Value {
        match self.child() {
            Some(c) => c
                .exit_codes()
                .first()
                .copied()
                .flatten()
                .map_or(Value::None, |c| Value::Int(i64::from(c))),
            None => Value::None,
        }
    }

    fn is_alive(&self) -> bool {
        self.own_pid.is_some() || (self.child().is_some() && matches!(self.exitcode(), Value::None))
    }

    /// `repr(p)`, as `BaseProcess.__repr__` writes it.
    pub fn repr(&self) -> String {
        let status = match (self.own_pid, self.child(), self.exitcode()) {
            (Some(_), ..) => "started".to_owned(),
            (None, None, _) => "initial".to_owned(),
            (None, Some(_), Value::None) => "started".to_owned(),
            (None, Some(_), Value::Int(0)) => "stopped".to_owned(),
            (None, Some(_), code) => format!("stopped exitcode={}", code.repr()),
        };
        let daemon = if self.daemon.load(Ordering::Relaxed) {
            " daemon"
        } else {
            ""
        };
        format!("<Process name='{}' {status}{daemon}>", self.name())
    }
}

/// The handle `apply_async` and `map_async` return (`multiprocessing.pool.AsyncResult`).
#[derive(Debug)]
pub struct AsyncResultObj {
    tasks: Vec<Arc<PoolTask>>,
    /// One value (`apply_async`) or the list of all (`map_async`).
    single: bool,
}

/// A multiprocessing object.
#[derive(Debug)]
pub enum MpObj {
    /// A pool of worker processes.
    Pool(PoolObj),
    /// A process.
    Process(ProcessObj),
    /// A pending result.
    Result(AsyncResultObj),
    /// A queue, value, array, lock or event shared between processes.
    Shared(Arc<SharedObj>),
    /// A `Manager()`: it makes dicts, lists and the rest, shared (its name, `SyncManager-N`).
    Manager(String),
}

impl MpObj {
    /// The Python type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            MpObj::Pool(p) if p.kind == PoolKind::Executor => "ProcessPoolExecutor",
            MpObj::Pool(_) => "Pool",
            MpObj::Process(_) => "Process",
            MpObj::Result(r) if r.single => "ApplyResult",
            MpObj::Result(_) => "MapResult",
            MpObj::Shared(s) => s.kind.type_name(),
            MpObj::Manager(_) => "SyncManager",
        }
    }

    /// `repr()`.
    pub fn repr(&self) -> String {
        match self {
            MpObj::Pool(p) if p.kind == PoolKind::Executor => {
                "<concurrent.futures.process.ProcessPoolExecutor object>".to_owned()
            }
            MpObj::Pool(p) => {
                let state = if p.terminated.load(Ordering::Relaxed) {
                    "TERMINATE"
                } else if p.closed.load(Ordering::Relaxed) {
                    "CLOSE"
                } else {
                    "RUN"
                };
                format!(
                    "<multiprocessing.pool.Pool state={state} pool_size={}>",
                    p.size
                )
            }
            MpObj::Process(p) => p.repr(),
            MpObj::Result(_) => format!("<multiprocessing.pool.{} object>", self.type_name()),
            MpObj::Shared(s) => s.repr(),
            MpObj::Manager(_) => "<multiprocessing.managers.SyncManager object>".to_owned(),
        }
    }

    /// `obj.name` for the data attributes (`p.name`, `p.pid`, `p.exitcode`, `p.daemon`).
    pub fn attr(&self, name: &str) -> Option<Value> {
        match (self, name) {
            (MpObj::Process(p), "name") => Some(Value::Str(p.name())),
            (MpObj::Process(p), "pid" | "ident") => Some(p.pid()),
            (MpObj::Process(p), "exitcode") => Some(p.exitcode()),
            (MpObj::Process(p), "daemon") => Some(Value::Bool(p.daemon.load(Ordering::Relaxed))),
            (MpObj::Pool(p), "_processes") => Some(Value::Int(p.size as i64)),
            (MpObj::Shared(s), "value") if matches!(s.kind, SharedKind::Value { .. }) => {
                s.read(&SharedOp::Load).ok()
            }
            _ => None,
        }
    }

    /// `obj.name = value` for the attributes that may be set; `false` when `name` is not one.
    pub fn set_attr(&self, name: &str, v: &Value) -> Result<bool, VmError> {
        match (self, name) {
            (MpObj::Process(p), "name") => match v {
                Value::Str(s) => {
                    *lock(&p.name) = Arc::clone(s);
                    Ok(true)
                }
                _ => Err(VmError::type_error("name must be a string")),
            },
            (MpObj::Shared(s), "value") if matches!(s.kind, SharedKind::Value { .. }) => {
                s.run(&SharedOp::Store(v.clone()), Duration::ZERO)?;
                Ok(true)
            }
            (MpObj::Process(p), "daemon") => {
                if p.child().is_some() {
                    return Err(VmError::py("AssertionError", "process has already started"));
                }
                p.daemon.store(v.truthy()?, Ordering::Relaxed);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// A function or method of `multiprocessing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MpFn {
    /// `multiprocessing.Pool(processes=None, initializer=None, initargs=(), maxtasksperchild=None)`.
    Pool,
    /// `multiprocessing.Process(group=None, target=None, name=None, args=(), kwargs={}, *, daemon=None)`.
    Process,
    /// `concurrent.futures.ProcessPoolExecutor(max_workers=None, ...)`.
    Executor,
    /// `multiprocessing.cpu_count()`.
    CpuCount,
    /// `multiprocessing.current_process()`.
    CurrentProcess,
    /// `multiprocessing.parent_process()`.
    ParentProcess,
    /// `multiprocessing.active_children()`.
    ActiveChildren,
    /// `multiprocessing.get_start_method(allow_none=False)`.
    GetStartMethod,
    /// `multiprocessing.set_start_method(method, force=False)`.
    SetStartMethod,
    /// `Pool.map(func, iterable, chunksize=None)`.
    Map,
    /// `Pool.starmap(func, iterable, chunksize=None)`.
    Starmap,
    /// `Pool.imap(func, iterable, chunksize=1)`.
    Imap,
    /// `Pool.imap_unordered(func, iterable, chunksize=1)`.
    ImapUnordered,
    /// `Pool.map_async(func, iterable, chunksize=None)`.
    MapAsync,
    /// `Pool.starmap_async(func, iterable, chunksize=None)`.
    StarmapAsync,
    /// `Pool.apply(func, args=(), kwds={})`.
    Apply,
    /// `Pool.apply_async(func, args=(), kwds={})`.
    ApplyAsync,
    /// `Pool.close()`.
    Close,
    /// `Pool.join()`.
    Join,
    /// `Pool.terminate()`.
    Terminate,
    /// `Pool.__enter__()` / `ProcessPoolExecutor.__enter__()`.
    Enter,
    /// `Pool.__exit__(...)`: terminates; `ProcessPoolExecutor.__exit__`: shuts down, waiting.
    Exit,
    /// `ProcessPoolExecutor.submit(fn, /, *args, **kwargs)`.
    Submit,
    /// `ProcessPoolExecutor.map(fn, *iterables, timeout=None, chunksize=1)`.
    ExecutorMap,
    /// `ProcessPoolExecutor.shutdown(wait=True, *, cancel_futures=False)`.
    Shutdown,
    /// `Process.start()`.
    Start,
    /// `Process.join(timeout=None)`.
    ProcessJoin,
    /// `Process.is_alive()`.
    IsAlive,
    /// `Process.terminate()` / `Process.kill()`.
    ProcessTerminate,
    /// `AsyncResult.get(timeout=None)`.
    Get,
    /// `AsyncResult.wait(timeout=None)`.
    Wait,
    /// `AsyncResult.ready()`.
    Ready,
    /// `AsyncResult.successful()`.
    Successful,
    /// `multiprocessing.Queue(maxsize=0)`.
    Queue,
    /// `multiprocessing.JoinableQueue(maxsize=0)`.
    JoinableQueue,
    /// `multiprocessing.SimpleQueue()`.
    SimpleQueue,
    /// `multiprocessing.Value(typecode, *args, lock=True)`.
    Value,
    /// `multiprocessing.Array(typecode, size_or_initializer, *, lock=True)`.
    Array,
    /// `multiprocessing.Lock()`.
    Lock,
    /// `multiprocessing.RLock()`.
    RLock,
    /// `multiprocessing.Event()`.
    Event,
    /// A method of a shared object.
    Shared(SharedFn),
    /// `multiprocessing.Manager()`.
    Manager,
    /// `multiprocessing.Pipe(duplex=True)`.
    Pipe,
    /// `manager.dict(...)`.
    ManagerDict,
    /// `manager.list(...)`.
    ManagerList,
    /// `manager.__enter__()`, `start()`.
    ManagerEnter,
    /// `manager.__exit__(...)`, `shutdown()`.
    ManagerExit,
}

/// A method of a shared queue, value, array, lock or event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedFn {
    /// `Queue.put(obj, block=True, timeout=None)`.
    Put,
    /// `Queue.put_nowait(obj)`.
    PutNowait,
    /// `Queue.get(block=True, timeout=None)`.
    Get,
    /// `Queue.get_nowait()`.
    GetNowait,
    /// `Queue.qsize()`.
    Qsize,
    /// `Queue.empty()`.
    Empty,
    /// `Queue.full()`.
    Full,
    /// `Queue.close()`, `join_thread()`, `cancel_join_thread()`: nothing to do here.
    Close,
    /// `JoinableQueue.task_done()`.
    TaskDone,
    /// `JoinableQueue.join()`.
    Join,
    /// `get_lock()`.
    GetLock,
    /// `get_obj()`.
    GetObj,
    /// `acquire(block=True, timeout=None)`.
    Acquire,
    /// `release()`.
    Release,
    /// `__enter__()`.
    Enter,
    /// `__exit__(*exc)`.
    Exit,
    /// `Event.set()`.
    Set,
    /// `Event.clear()`.
    Clear,
    /// `Event.is_set()`.
    IsSet,
    /// `Event.wait(timeout=None)`.
    Wait,
    /// A method of a manager's dict or list, run where the object lives.
    Proxy(&'static str),
    /// `Connection.poll(timeout=0)`.
    Poll,
}

impl SharedFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            SharedFn::Put => "put",
            SharedFn::PutNowait => "put_nowait",
            SharedFn::Get => "get",
            SharedFn::GetNowait => "get_nowait",
            SharedFn::Qsize => "qsize",
            SharedFn::Empty => "empty",
            SharedFn::Full => "full",
            SharedFn::Close => "close",
            SharedFn::TaskDone => "task_done",
            SharedFn::Join => "join",
            SharedFn::GetLock => "get_lock",
            SharedFn::GetObj => "get_obj",
            SharedFn::Acquire => "acquire",
            SharedFn::Release => "release",
            SharedFn::Enter => "__enter__",
            SharedFn::Exit => "__exit__",
            SharedFn::Set => "set",
            SharedFn::Clear => "clear",
            SharedFn::IsSet => "is_set",
            SharedFn::Wait => "wait",
            SharedFn::Proxy(m) => m,
            SharedFn::Poll => "poll",
        }
    }
}

impl MpFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            MpFn::Pool => "Pool",
            MpFn::Process => "Process",
            MpFn::Executor => "ProcessPoolExecutor",
            MpFn::CpuCount => "cpu_count",
            MpFn::CurrentProcess => "current_process",
            MpFn::ParentProcess => "parent_process",
            MpFn::ActiveChildren => "active_children",
            MpFn::GetStartMethod => "get_start_method",
            MpFn::SetStartMethod => "set_start_method",
            MpFn::Map => "map",
            MpFn::Starmap => "starmap",
            MpFn::Imap => "imap",
            MpFn::ImapUnordered => "imap_unordered",
            MpFn::MapAsync => "map_async",
            MpFn::StarmapAsync => "starmap_async",
            MpFn::Apply => "apply",
            MpFn::ApplyAsync => "apply_async",
            MpFn::Close => "close",
            MpFn::Join | MpFn::ProcessJoin => "join",
            MpFn::Terminate | MpFn::ProcessTerminate => "terminate",
            MpFn::Enter => "__enter__",
            MpFn::Exit => "__exit__",
            MpFn::Submit => "submit",
            MpFn::ExecutorMap => "map",
            MpFn::Shutdown => "shutdown",
            MpFn::Start => "start",
            MpFn::IsAlive => "is_alive",
            MpFn::Get => "get",
            MpFn::Wait => "wait",
            MpFn::Ready => "ready",
            MpFn::Successful => "successful",
            MpFn::Queue => "Queue",
            MpFn::JoinableQueue => "JoinableQueue",
            MpFn::SimpleQueue => "SimpleQueue",
            MpFn::Value => "Value",
            MpFn::Array => "Array",
            MpFn::Lock => "Lock",
            MpFn::RLock => "RLock",
            MpFn::Event => "Event",
            MpFn::Shared(f) => f.name(),
            MpFn::Manager => "Manager",
            MpFn::Pipe => "Pipe",
            MpFn::ManagerDict => "dict",
            MpFn::ManagerList => "list",
            MpFn::ManagerEnter => "__enter__",
            MpFn::ManagerExit => "__exit__",
        }
    }
}

/// `multiprocessing.NAME`.
pub fn attr(name: &str) -> Option<Value> {
    let f = match name {
        "Pool" => MpFn::Pool,
        "Process" => MpFn::Process,
        "cpu_count" => MpFn::CpuCount,
        "current_process" => MpFn::CurrentProcess,
        "parent_process" => MpFn::ParentProcess,
        "active_children" => MpFn::ActiveChildren,
        "get_start_method" => MpFn::GetStartMethod,
        "set_start_method" => MpFn::SetStartMethod,
        "Queue" => MpFn::Queue,
        "JoinableQueue" => MpFn::JoinableQueue,
        "SimpleQueue" => MpFn::SimpleQueue,
        "Value" => MpFn::Value,
        "Array" => MpFn::Array,
        "Lock" => MpFn::Lock,
        "RLock" => MpFn::RLock,
        "Event" => MpFn::Event,
        "Manager" => MpFn::Manager,
        "Pipe" => MpFn::Pipe,
        "TimeoutError" => return builtin_class("TimeoutError").map(Value::Class),
        _ => return None,
    };
    Some(Value::Builtin(Builtin::Mp(f)))
}

/// The method `name` of a multiprocessing object.
pub fn method(m: &MpObj, name: &str) -> Option<Builtin> {
    let f = match (m, name) {
        (MpObj::Pool(p), _) if p.kind == PoolKind::Executor => match name {
            "submit" => MpFn::Submit,
            "map" => MpFn::ExecutorMap,
            "shutdown" => MpFn::Shutdown,
            "__enter__" => MpFn::Enter,
            "__exit__" => MpFn::Exit,
            _ => return None,
        },
        (MpObj::Pool(_), _) => match name {
            "map" => MpFn::Map,
            "starmap" => MpFn::Starmap,
            "imap" => MpFn::Imap,
            "imap_unordered" => MpFn::ImapUnordered,
            "map_async" => MpFn::MapAsync,
            "starmap_async" => MpFn::StarmapAsync,
            "apply" => MpFn::Apply,
            "apply_async" => MpFn::ApplyAsync,
            "close" => MpFn::Close,
            "join" => MpFn::Join,
            "terminate" => MpFn::Terminate,
            "__enter__" => MpFn::Enter,
            "__exit__" => MpFn::Exit,
            _ => return None,
        },
        (MpObj::Process(_), _) => match name {
            "start" => MpFn::Start,
            "join" => MpFn::ProcessJoin,
            "is_alive" => MpFn::IsAlive,
            "terminate" | "kill" => MpFn::ProcessTerminate,
            _ => return None,
        },
        (MpObj::Shared(s), _) => {
            return shared_method(s, name).map(|f| Builtin::Mp(MpFn::Shared(f)));
        }
        (MpObj::Manager(_), _) => match name {
            "dict" => MpFn::ManagerDict,
            "list" => MpFn::ManagerList,
            "Queue" | "JoinableQueue" => MpFn::Queue,
            "Value" => MpFn::Value,
            "Array" => MpFn::Array,
            "Lock" => MpFn::Lock,
            "RLock" => MpFn::RLock,
            "Event" => MpFn::Event,
            "__enter__" | "start" => MpFn::ManagerEnter,
            "__exit__" | "shutdown" => MpFn::ManagerExit,
            _ => return None,
        },
        (MpObj::Result(_), _) => match name {
            "get" => MpFn::Get,
            "wait" => MpFn::Wait,
            "ready" => MpFn::Ready,
            "successful" => MpFn::Successful,
            _ => return None,
        },
    };
    Some(Builtin::Mp(f))
}

/// The methods each kind of shared object has.
fn shared_method(s: &SharedObj, name: &str) -> Option<SharedFn> {
    use SharedFn as F;
    let f = match (&s.kind, name) {
        (SharedKind::Queue { .. }, "put") => F::Put,
        (SharedKind::Queue { simple: false, .. }, "put_nowait") => F::PutNowait,
        (SharedKind::Queue { .. }, "get") => F::Get,
        (SharedKind::Queue { simple: false, .. }, "get_nowait") => F::GetNowait,
        (SharedKind::Queue { simple: false, .. }, "qsize") => F::Qsize,
        (SharedKind::Queue { .. }, "empty") => F::Empty,
        (SharedKind::Queue { simple: false, .. }, "full") => F::Full,
        (SharedKind::Queue { .. }, "close" | "join_thread" | "cancel_join_thread") => F::Close,
        (SharedKind::Queue { joinable: true, .. }, "task_done") => F::TaskDone,
        (SharedKind::Queue { joinable: true, .. }, "join") => F::Join,
        (SharedKind::Value { .. } | SharedKind::Array { .. }, "get_lock") => F::GetLock,
        (SharedKind::Value { .. } | SharedKind::Array { .. }, "get_obj") => F::GetObj,
        (
            SharedKind::Value { .. } | SharedKind::Array { .. } | SharedKind::Lock { .. },
            "acquire",
        ) => F::Acquire,
        (
            SharedKind::Value { .. } | SharedKind::Array { .. } | SharedKind::Lock { .. },
            "release",
        ) => F::Release,
        (
            SharedKind::Value { .. } | SharedKind::Array { .. } | SharedKind::Lock { .. },
            "__enter__",
        ) => F::Enter,
        (
            SharedKind::Value { .. } | SharedKind::Array { .. } | SharedKind::Lock { .. },
            "__exit__",
        ) => F::Exit,
        (SharedKind::Event, "set") => F::Set,
        (SharedKind::Event, "clear") => F::Clear,
        (SharedKind::Event, "is_set") => F::IsSet,
        (SharedKind::Event, "wait") => F::Wait,
        (SharedKind::Conn, "send") => F::PutNowait,
        (SharedKind::Conn, "recv") => F::Get,
        (SharedKind::Conn, "poll") => F::Poll,
        (SharedKind::Conn, "close") => F::Close,
        (SharedKind::Dict | SharedKind::List, n) if !n.starts_with('_') => {
            F::Proxy(super::mp_shared::proxy_method(n)?)
        }
        _ => return None,
    };
    Some(f)
}

fn this(args: &[Value]) -> Result<Arc<MpObj>, VmError> {
    match args.first() {
        Some(Value::Mp(m)) => Ok(Arc::clone(m)),
        _ => Err(VmError::type_error(
            "descriptor requires a multiprocessing object",
        )),
    }
}

fn the_pool(m: &MpObj) -> Result<&PoolObj, VmError> {
    match m {
        MpObj::Pool(p) => Ok(p),
        _ => Err(VmError::type_error("descriptor requires a 'Pool' object")),
    }
}

fn the_process(m: &MpObj) -> Result<&ProcessObj, VmError> {
    match m {
        MpObj::Process(p) => Ok(p),
        _ => Err(VmError::type_error(
            "descriptor requires a 'Process' object",
        )),
    }
}

fn the_result(m: &MpObj) -> Result<&AsyncResultObj, VmError> {
    match m {
        MpObj::Result(r) => Ok(r),
        _ => Err(VmError::type_error(
            "descriptor requires an 'AsyncResult' object",
        )),
    }
}

fn timeout_error() -> VmError {
    match builtin_class("TimeoutError") {
        Some(c) => exception::raise(exception::new_exception(c, Vec::new())),
        None => VmError::py("TimeoutError", ""),
    }
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A positive count argument (`processes`, `max_workers`), or the machine's CPU count.
fn count_arg(v: Option<Value>, what: &str) -> Result<usize, VmError> {
    match v {
        None | Some(Value::None) => Ok(cpu_count()),
        Some(v) => {
            let n = v
                .as_i64()
                .ok_or_else(|| VmError::type_error(format!("{what} must be an integer")))?;
            if n < 1 {
                Err(VmError::py(
                    "ValueError",
                    if what == "max_workers" {
                        "max_workers must be greater than 0"
                    } else {
                        "Number of processes must be at least 1"
                    },
                ))
            } else {
                Ok(n as usize)
            }
        }
    }
}

impl<H: Host> Vm<'_, H> {
    /// `Process(group=None, target=None, name=None, args=(), kwargs={}, *, daemon=None)`;
    /// unnamed, it is `{class}-{N}` (`Process-1`, a subclass's `Squarer-1`).
    fn new_process(
        &mut self,
        class: &str,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<ProcessObj, VmError> {
        let names = ["group", "target", "name", "args", "kwargs", "daemon"];
        let mut p = bind_params("Process", &names, 5, args, kwargs)?.into_iter();
        let _group = p.next();
        let target = p.next().flatten().unwrap_or(Value::None);
        let name = p.next().flatten();
        let call_args = match p.next().flatten() {
            Some(a) => self.iterate(&a)?,
            None => Vec::new(),
        };
        let call_kwargs = match p.next().flatten() {
            Some(Value::None) | None => Vec::new(),
            Some(v) => kwargs_of("Process", &v)?,
        };
        let daemon = match p.next().flatten() {
            Some(v) => v.truthy()?,
            None => false,
        };
        // `BaseProcess.__init__` counts every process, named or not.
        let number = self.host.next_process_number();
        let name: Arc<str> = match name {
            Some(Value::Str(s)) => s,
            _ => Arc::from(format!("{class}-{number}")),
        };
        Ok(ProcessObj {
            name: Mutex::new(name),
            target,
            args: call_args,
            kwargs: call_kwargs,
            daemon: AtomicBool::new(daemon),
            child: Mutex::new(None),
            own_pid: None,
        })
    }

    /// `Process.__init__(self, …)` for a subclass's instance: its process runs the class's
    /// `run` (the instance crosses to the child as pickle carries it) when the class
    /// overrides it, else the target.
    pub(super) fn process_init(
        &mut self,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let mut it = args.into_iter();
        let Some(Value::Instance(inst)) = it.next() else {
            return Err(VmError::type_error(
                "Process.__init__() needs a Process instance",
            ));
        };
        let mut p = self.new_process(&inst.class.name, it.collect(), kwargs)?;
        if let Some(run) = inst.class.user_method("run") {
            p.target = Value::Method(Arc::new(super::value::BoundMethod {
                this: Value::Instance(inst.clone()),
                func: run,
            }));
            p.args.clear();
            p.kwargs.clear();
        }
        inst.set_process(Arc::new(MpObj::Process(p)));
        Ok(Value::None)
    }

    /// The process a `Process` subclass's instance stands for: the one its `__init__` made,
    /// or, in the child it was carried to, the process running it.
    pub(super) fn process_of(
        &mut self,
        i: &super::class::Instance,
    ) -> Result<Option<Arc<MpObj>>, VmError> {
        if i.class.native != super::class::Native::Process {
            return Ok(None);
        }
        if let Some(p) = i.process() {
            return Ok(Some(p));
        }
        match self.call_mp(MpFn::CurrentProcess, Vec::new(), Vec::new())? {
            Value::Mp(p) => {
                i.set_process(Arc::clone(&p));
                Ok(Some(p))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn call_mp(
        &mut self,
        f: MpFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match f {
            MpFn::Pool | MpFn::Executor => {
                let (size, kind, prefix) = if f == MpFn::Pool {
                    let names = ["processes", "initializer", "initargs", "maxtasksperchild"];
                    let p = bind_params("Pool", &names, 4, args, kwargs)?;
                    let size = count_arg(p.into_iter().next().flatten(), "processes")?;
                    (size, PoolKind::Pool, "PoolWorker")
                } else {
                    let names = ["max_workers", "mp_context", "initializer", "initargs"];
                    let p = bind_params("ProcessPoolExecutor", &names, 4, args, kwargs)?;
                    let size = count_arg(p.into_iter().next().flatten(), "max_workers")?;
                    (size, PoolKind::Executor, "Process")
                };
                // `ForkPoolWorker-1`, `SpawnProcess-2`…: the context's Process class names them.
                let method = self
                    .host
                    .start_method(true)
                    .unwrap_or_else(|| "fork".to_owned());
                let context = match method.as_str() {
                    "spawn" => "Spawn",
                    "forkserver" => "ForkServer",
                    _ => "Fork",
                };
                let names = (0..size)
                    .map(|_| format!("{context}{prefix}-{}", self.host.next_process_number()))
                    .collect();
                let globals = Arc::clone(&self.globals);
                let fork = match kind {
                    PoolKind::Pool => ForkKind::Pool,
                    PoolKind::Executor => ForkKind::Executor,
                };
                let procs = self.host.start_processes(names, fork, &globals)?;
                Ok(Value::Mp(Arc::new(MpObj::Pool(PoolObj {
                    kind,
                    procs,
                    size,
                    closed: AtomicBool::new(false),
                    terminated: AtomicBool::new(false),
                }))))
            }
            MpFn::Process => Ok(Value::Mp(Arc::new(MpObj::Process(
                self.new_process("Process", args, kwargs)?,
            )))),
            MpFn::Queue
            | MpFn::JoinableQueue
            | MpFn::SimpleQueue
            | MpFn::Value
            | MpFn::Array
            | MpFn::Lock
            | MpFn::RLock
            | MpFn::Event => {
                // A manager's methods make the same objects as the module's functions, as
                // proxies (which a pool's tasks may take).
                let managed =
                    matches!(args.first(), Some(Value::Mp(m)) if matches!(&**m, MpObj::Manager(_)));
                let args = if managed { args[1..].to_vec() } else { args };
                let made = self.new_shared(f, args, kwargs)?;
                if managed
                    && let Value::Mp(m) = &made
                    && let MpObj::Shared(s) = &**m
                {
                    s.set_managed();
                }
                Ok(made)
            }
            MpFn::Manager => {
                // The manager's server process is counted as CPython counts it.
                let name = format!("SyncManager-{}", self.host.next_process_number());
                Ok(Value::Mp(Arc::new(MpObj::Manager(name))))
            }
            MpFn::Pipe => {
                let duplex = match args.first().or_else(|| kwargs.first().map(|(_, v)| v)) {
                    Some(v) => v.truthy()?,
                    None => true,
                };
                let (a, b) = SharedObj::pipe(duplex);
                let end = |s| Value::Mp(Arc::new(MpObj::Shared(s)));
                Ok(Value::Tuple(Arc::from([end(a), end(b)])))
            }
            MpFn::ManagerEnter => Ok(args.first().cloned().unwrap_or(Value::None)),
            MpFn::ManagerExit => Ok(Value::Bool(false)),
            MpFn::ManagerDict | MpFn::ManagerList => {
                let kind = if f == MpFn::ManagerDict {
                    SharedKind::Dict
                } else {
                    SharedKind::List
                };
                let obj = SharedObj::new(kind);
                let init = args.get(1).cloned();
                match (f, init) {
                    (MpFn::ManagerDict, Some(v)) => {
                        super::mp_shared::proxy(&obj, "update", vec![v])?;
                    }
                    (MpFn::ManagerList, Some(v)) => {
                        let items = self.iterate(&v)?;
                        super::mp_shared::proxy(&obj, "extend", vec![Value::list(items)])?;
                    }
                    _ => {}
                }
                if f == MpFn::ManagerDict && !kwargs.is_empty() {
                    let d = Value::Dict(super::object::Obj::new(super::value::DictObj::new(
                        kwargs
                            .into_iter()
                            .map(|(k, v)| (Value::Str(k), v))
                            .collect(),
                    )?));
                    super::mp_shared::proxy(&obj, "update", vec![d])?;
                }
                Ok(Value::Mp(Arc::new(MpObj::Shared(obj))))
            }
            MpFn::Shared(sf) => self.call_shared(sf, args, kwargs),
            MpFn::CpuCount => Ok(Value::Int(cpu_count() as i64)),
            MpFn::CurrentProcess => Ok(Value::Mp(Arc::new(MpObj::Process(ProcessObj {
                name: Mutex::new(Arc::from(self.host.process_name())),
                target: Value::None,
                args: Vec::new(),
                kwargs: Vec::new(),
                daemon: AtomicBool::new(false),
                child: Mutex::new(None),
                own_pid: Some(std::process::id()),
            })))),
            MpFn::ParentProcess => Ok(Value::None),
            MpFn::ActiveChildren => Ok(Value::list(Vec::new())),
            MpFn::GetStartMethod => {
                let allow_none = match args.first().or_else(|| kwargs.first().map(|(_, v)| v)) {
                    Some(v) => v.truthy()?,
                    None => false,
                };
                Ok(self
                    .host
                    .start_method(!allow_none)
                    .map_or(Value::None, |m| Value::str(&m)))
            }
            MpFn::SetStartMethod => {
                let force = match args
                    .get(1)
                    .or_else(|| kwargs.iter().find(|(k, _)| &**k == "force").map(|(_, v)| v))
                {
                    Some(v) => v.truthy()?,
                    None => false,
                };
                match args.first() {
                    Some(Value::Str(s)) if matches!(&**s, "fork" | "spawn" | "forkserver") => {
                        self.host.set_start_method(s, force)?;
                        Ok(Value::None)
                    }
                    Some(Value::Str(s)) => Err(VmError::py(
                        "ValueError",
                        format!("cannot find context for '{s}'"),
                    )),
                    _ => Err(VmError::type_error(
                        "set_start_method() missing 1 required positional argument: 'method'",
                    )),
                }
            }
            MpFn::Map | MpFn::Starmap | MpFn::MapAsync | MpFn::StarmapAsync => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let names = [
                    "func",
                    "iterable",
                    "chunksize",
                    "callback",
                    "error_callback",
                ];
                let mut p = bind_params(
                    f.name(),
                    &names,
                    5,
                    args.into_iter().skip(1).collect(),
                    kwargs,
                )?
                .into_iter();
                let (func, iterable, chunksize) =
                    (p.next().flatten(), p.next().flatten(), p.next().flatten());
                let (Some(func), Some(iterable)) = (func, iterable) else {
                    return Err(VmError::type_error(format!(
                        "{}() missing required arguments: 'func' and 'iterable'",
                        f.name()
                    )));
                };
                let star = matches!(f, MpFn::Starmap | MpFn::StarmapAsync);
                let items = self.iterate(&iterable)?;
                let calls = self.calls_of(items, star)?;
                let chunk = match chunksize {
                    None | Some(Value::None) => {
                        // `Pool._map_async`: four chunks per process, rounded up.
                        let (q, r) = (calls.len() / (pool.size * 4), calls.len() % (pool.size * 4));
                        q + usize::from(r != 0)
                    }
                    Some(v) => {
                        v.as_i64().filter(|n| *n >= 1).ok_or_else(|| {
                            VmError::py("ValueError", "Chunksize must be 1+, not 0")
                        })? as usize
                    }
                };
                let tasks = self.submit_chunks(pool, &func, calls, chunk.max(1))?;
                let result = AsyncResultObj {
                    tasks,
                    single: false,
                };
                if matches!(f, MpFn::MapAsync | MpFn::StarmapAsync) {
                    return Ok(Value::Mp(Arc::new(MpObj::Result(result))));
                }
                self.result_get(&result, None)
            }
            MpFn::Imap | MpFn::ImapUnordered => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let names = ["func", "iterable", "chunksize"];
                let mut p = bind_params(
                    f.name(),
                    &names,
                    3,
                    args.into_iter().skip(1).collect(),
                    kwargs,
                )?
                .into_iter();
                let (Some(func), Some(iterable)) = (p.next().flatten(), p.next().flatten()) else {
                    return Err(VmError::type_error(format!(
                        "{}() missing required arguments: 'func' and 'iterable'",
                        f.name()
                    )));
                };
                let chunk = p
                    .next()
                    .flatten()
                    .and_then(|v| v.as_i64())
                    .unwrap_or(1)
                    .max(1);
                let items = self.iterate(&iterable)?;
                let calls = self.calls_of(items, false)?;
                let tasks = self.submit_chunks(pool, &func, calls, chunk as usize)?;
                let mut done = Vec::with_capacity(tasks.len());
                for t in &tasks {
                    let (outcome, seq) = self.task_outcome(t, None)?;
                    done.push((seq, outcome));
                }
                if f == MpFn::ImapUnordered {
                    done.sort_by_key(|(seq, _)| *seq);
                }
                let mut values = Vec::new();
                for (_, outcome) in done {
                    values.extend(outcome.map_err(exception::raise)?);
                }
                Ok(Value::SeqIter(Arc::new(SeqIter {
                    seq: Value::list(values),
                    pos: Default::default(),
                })))
            }
            MpFn::Apply | MpFn::ApplyAsync => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let names = ["func", "args", "kwds", "callback", "error_callback"];
                let mut p = bind_params(
                    f.name(),
                    &names,
                    5,
                    args.into_iter().skip(1).collect(),
                    kwargs,
                )?
                .into_iter();
                let Some(func) = p.next().flatten() else {
                    return Err(VmError::type_error(format!(
                        "{}() missing 1 required positional argument: 'func'",
                        f.name()
                    )));
                };
                let call_args = match p.next().flatten() {
                    Some(a) => self.iterate(&a)?,
                    None => Vec::new(),
                };
                let call_kwargs = match p.next().flatten() {
                    Some(Value::None) | None => Vec::new(),
                    Some(v) => kwargs_of(f.name(), &v)?,
                };
                let tasks = self.submit_chunks(pool, &func, vec![(call_args, call_kwargs)], 1)?;
                let result = AsyncResultObj {
                    tasks,
                    single: true,
                };
                if f == MpFn::ApplyAsync {
                    return Ok(Value::Mp(Arc::new(MpObj::Result(result))));
                }
                self.result_get(&result, None)
            }
            MpFn::Close => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                pool.closed.store(true, Ordering::Relaxed);
                pool.procs.close();
                Ok(Value::None)
            }
            MpFn::Join => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                if !pool.closed.load(Ordering::Relaxed) && !pool.terminated.load(Ordering::Relaxed)
                {
                    return Err(VmError::py("ValueError", "Pool is still running"));
                }
                let procs = Arc::clone(&pool.procs);
                self.wait_released(None, |slice| procs.wait_exited(slice))?;
                Ok(Value::None)
            }
            MpFn::Terminate => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                self.terminate_pool(pool)?;
                Ok(Value::None)
            }
            MpFn::Enter => {
                let m = this(&args)?;
                if let MpObj::Pool(p) = &*m
                    && p.terminated.load(Ordering::Relaxed)
                {
                    return Err(VmError::py("ValueError", "Pool not running"));
                }
                Ok(Value::Mp(m))
            }
            MpFn::Exit => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                match pool.kind {
                    PoolKind::Pool => self.terminate_pool(pool)?,
                    PoolKind::Executor => self.shutdown(pool, true)?,
                }
                Ok(Value::Bool(false))
            }
            MpFn::Submit => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let mut rest = args.into_iter().skip(1);
                let func = rest.next().ok_or_else(|| {
                    VmError::type_error("submit expected at least 1 argument, got 0")
                })?;
                if pool.closed.load(Ordering::Relaxed) {
                    return Err(VmError::py(
                        "RuntimeError",
                        "cannot schedule new futures after shutdown",
                    ));
                }
                let future = Arc::new(FutureObj::new());
                let task = PoolTask::for_future(Arc::clone(&future));
                pool.procs
                    .submit(&func, vec![(rest.collect(), kwargs)], task)?;
                Ok(Value::Future(future))
            }
            MpFn::ExecutorMap => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let mut rest = args.into_iter().skip(1);
                let func = rest.next().ok_or_else(|| {
                    VmError::type_error("map() missing 1 required positional argument: 'fn'")
                })?;
                let mut timeout = None;
                let mut chunk = 1;
                for (k, v) in &kwargs {
                    match &**k {
                        "timeout" => timeout = v.as_f64(),
                        "chunksize" => {
                            chunk = v.as_i64().filter(|n| *n >= 1).ok_or_else(|| {
                                VmError::py("ValueError", "chunksize must be >= 1.")
                            })? as usize;
                        }
                        other => {
                            return Err(VmError::type_error(format!(
                                "map() got an unexpected keyword argument '{other}'"
                            )));
                        }
                    }
                }
                let cols = rest
                    .map(|it| self.iterate(&it))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = cols.iter().map(Vec::len).min().unwrap_or(0);
                let calls = (0..n)
                    .map(|k| (cols.iter().map(|c| c[k].clone()).collect(), Vec::new()))
                    .collect();
                let tasks = self.submit_chunks(pool, &func, calls, chunk)?;
                let result = AsyncResultObj {
                    tasks,
                    single: false,
                };
                let values = self.result_get(&result, timeout)?;
                Ok(Value::SeqIter(Arc::new(SeqIter {
                    seq: values,
                    pos: Default::default(),
                })))
            }
            MpFn::Shutdown => {
                let m = this(&args)?;
                let pool = the_pool(&m)?;
                let wait = match (args.get(1), kwargs.iter().find(|(k, _)| &**k == "wait")) {
                    (_, Some((_, v))) | (Some(v), None) => v.truthy()?,
                    (None, None) => true,
                };
                self.shutdown(pool, wait)?;
                Ok(Value::None)
            }
            MpFn::Start => {
                let m = this(&args)?;
                let p = the_process(&m)?;
                if p.child().is_some() || p.own_pid.is_some() {
                    return Err(VmError::py(
                        "AssertionError",
                        "cannot start a process twice",
                    ));
                }
                let globals = Arc::clone(&self.globals);
                self.host.start_method(true);
                let kind = ForkKind::Process {
                    daemon: p.daemon.load(Ordering::Relaxed),
                };
                let child =
                    self.host
                        .start_processes(vec![p.name().to_string()], kind, &globals)?;
                let task = PoolTask::new();
                if !matches!(p.target, Value::None) {
                    child.submit(&p.target, vec![(p.args.clone(), p.kwargs.clone())], task)?;
                }
                child.close();
                *lock(&p.child) = Some(child);
                Ok(Value::None)
            }
            MpFn::ProcessJoin => {
                let m = this(&args)?;
                let p = the_process(&m)?;
                let timeout = timeout_arg(&args, 1, &kwargs)?;
                let Some(child) = p.child() else {
                    return Err(VmError::py(
                        "AssertionError",
                        "can only join a started process",
                    ));
                };
                let deadline = timeout.map(deadline_after);
                self.wait_released(deadline, |slice| child.wait_exited(slice))?;
                Ok(Value::None)
            }
            MpFn::IsAlive => {
                let m = this(&args)?;
                Ok(Value::Bool(the_process(&m)?.is_alive()))
            }
            MpFn::ProcessTerminate => {
                let m = this(&args)?;
                if let Some(c) = the_process(&m)?.child() {
                    c.terminate();
                }
                Ok(Value::None)
            }
            MpFn::Get => {
                let m = this(&args)?;
                let r = the_result(&m)?;
                let timeout = timeout_arg(&args, 1, &kwargs)?;
                self.result_get(r, timeout)
            }
            MpFn::Wait => {
                let m = this(&args)?;
                let r = the_result(&m)?;
                let deadline = timeout_arg(&args, 1, &kwargs)?.map(deadline_after);
                for t in &r.tasks {
                    if !t.is_done() && !self.wait_released(deadline, |slice| t.wait(slice))? {
                        break;
                    }
                }
                Ok(Value::None)
            }
            MpFn::Ready => {
                let m = this(&args)?;
                Ok(Value::Bool(
                    the_result(&m)?.tasks.iter().all(|t| t.is_done()),
                ))
            }
            MpFn::Successful => {
                let m = this(&args)?;
                let r = the_result(&m)?;
                if !r.tasks.iter().all(|t| t.is_done()) {
                    return Err(VmError::py("ValueError", format!("{} not ready", m.repr())));
                }
                Ok(Value::Bool(
                    r.tasks
                        .iter()
                        .all(|t| matches!(t.outcome(), Some((Ok(_), _)))),
                ))
            }
        }
    }

    /// The calls of a `map`'s items: one argument each, or (`starmap`) each item's elements.
    fn calls_of(&mut self, items: Vec<Value>, star: bool) -> Result<Vec<TaskCall>, VmError> {
        items
            .into_iter()
            .map(|it| Ok((if star { self.iterate(&it)? } else { vec![it] }, Vec::new())))
            .collect()
    }

    /// Hands `calls` to the pool in chunks of `chunk`, one task each.
    fn submit_chunks(
        &mut self,
        pool: &PoolObj,
        func: &Value,
        calls: Vec<TaskCall>,
        chunk: usize,
    ) -> Result<Vec<Arc<PoolTask>>, VmError> {
        if pool.closed.load(Ordering::Relaxed) || pool.terminated.load(Ordering::Relaxed) {
            return Err(VmError::py("ValueError", "Pool not running"));
        }
        let mut tasks = Vec::new();
        let mut calls = calls.into_iter().peekable();
        while calls.peek().is_some() {
            let part: Vec<TaskCall> = calls.by_ref().take(chunk).collect();
            let task = PoolTask::new();
            pool.procs.submit(func, part, Arc::clone(&task))?;
            tasks.push(task);
        }
        Ok(tasks)
    }

    /// A task's outcome, waited for with the GIL released.
    fn task_outcome(
        &mut self,
        t: &Arc<PoolTask>,
        deadline: Option<std::time::Instant>,
    ) -> Result<(TaskOutcome, u64), VmError> {
        if !t.is_done() && !self.wait_released(deadline, |slice| t.wait(slice))? {
            return Err(timeout_error());
        }
        t.outcome().ok_or_else(timeout_error)
    }

    /// `AsyncResult.get`: the value (or the list of values), or the first exception raised.
    fn result_get(&mut self, r: &AsyncResultObj, timeout: Option<f64>) -> Result<Value, VmError> {
        let deadline = timeout.map(deadline_after);
        let mut values = Vec::new();
        for t in &r.tasks {
            let (outcome, _) = self.task_outcome(t, deadline)?;
            values.extend(outcome.map_err(exception::raise)?);
        }
        Ok(if r.single {
            values.into_iter().next().unwrap_or(Value::None)
        } else {
            Value::list(values)
        })
    }

    /// `Pool.terminate`: the workers are stopped and waited for.
    fn terminate_pool(&mut self, pool: &PoolObj) -> Result<(), VmError> {
        pool.terminated.store(true, Ordering::Relaxed);
        pool.procs.terminate();
        let procs = Arc::clone(&pool.procs);
        self.wait_released(None, |slice| procs.wait_exited(slice))?;
        Ok(())
    }

    /// `ProcessPoolExecutor.shutdown`: no more work; with `wait`, the queue is run to its end.
    fn shutdown(&mut self, pool: &PoolObj, wait: bool) -> Result<(), VmError> {
        pool.closed.store(true, Ordering::Relaxed);
        pool.procs.close();
        if wait {
            let procs = Arc::clone(&pool.procs);
            self.wait_released(None, |slice| procs.wait_exited(slice))?;
        }
        Ok(())
    }
}
