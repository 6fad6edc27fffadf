//! `concurrent.futures` for threads: `ThreadPoolExecutor` (submit, map, shutdown, use as a
//! context manager), `Future` (result, exception, done) and `as_completed`. Workers are threads
//! the host starts, named as `Lib/concurrent/futures/thread.py` names them
//! (`ThreadPoolExecutor-0_0`), spawned one per submit until `max_workers` while none is idle;
//! every wait (for work, for a result) is made with the GIL released.
//!
//! Two simplifications, both visible only in timing: `map` and `as_completed` wait for all their
//! futures before handing out the first result, and the workers are daemon threads (an executor
//! that is never shut down does not keep the program alive; CPython's would finish its queue).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::call::{Kwargs, bind_params};
use super::exception::{self, builtin_class};
use super::lock::deadline_after;
use super::object::Obj;
use super::sync::timeout_arg;
use super::thread::ThreadObj;
use super::value::{BoundMethod, Builtin, SeqIter, Value};
use super::{Host, Vm, VmError};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where a future stands.
#[derive(Debug, Clone)]
enum FutState {
    Pending,
    Running,
    /// Finished: the result, or the exception object; with its completion order.
    Done(Result<Value, Value>, u64),
}

/// A `concurrent.futures.Future`.
#[derive(Debug)]
pub struct FutureObj {
    state: Mutex<FutState>,
    changed: Condvar,
}

static COMPLETIONS: AtomicU64 = AtomicU64::new(0);

impl FutureObj {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(FutState::Pending),
            changed: Condvar::new(),
        }
    }

    fn set_running(&self) {
        *lock(&self.state) = FutState::Running;
    }

    pub(super) fn finish(&self, r: Result<Value, Value>) {
        let seq = COMPLETIONS.fetch_add(1, Ordering::Relaxed);
        *lock(&self.state) = FutState::Done(r, seq);
        self.changed.notify_all();
    }

    /// Whether it has finished.
    pub fn done(&self) -> bool {
        matches!(*lock(&self.state), FutState::Done(..))
    }

    fn outcome(&self) -> Option<(Result<Value, Value>, u64)> {
        match &*lock(&self.state) {
            FutState::Done(r, seq) => Some((r.clone(), *seq)),
            _ => None,
        }
    }

    fn wait(&self, slice: Duration) -> bool {
        let st = lock(&self.state);
        if matches!(*st, FutState::Done(..)) {
            return true;
        }
        let (st, _) = self
            .changed
            .wait_timeout(st, slice)
            .unwrap_or_else(|p| p.into_inner());
        matches!(*st, FutState::Done(..))
    }

    /// `repr`: `<Future at 0x… state=finished returned int>`.
    pub fn repr(&self) -> String {
        match &*lock(&self.state) {
            FutState::Pending => "<Future state=pending>".to_owned(),
            FutState::Running => "<Future state=running>".to_owned(),
            FutState::Done(Ok(v), _) => {
                format!("<Future state=finished returned {}>", v.type_name())
            }
            FutState::Done(Err(e), _) => {
                format!("<Future state=finished raised {}>", e.type_name())
            }
        }
    }
}

struct WorkItem {
    future: Arc<FutureObj>,
    func: Value,
    args: Vec<Value>,
    kwargs: Kwargs,
}

impl std::fmt::Debug for WorkItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkItem")
    }
}

#[derive(Debug, Default)]
struct ExecState {
    queue: VecDeque<WorkItem>,
    shutdown: bool,
    idle: usize,
    threads: Vec<Obj<ThreadObj>>,
}

/// A `ThreadPoolExecutor`.
#[derive(Debug)]
pub struct ExecutorObj {
    /// `max_workers`.
    pub max_workers: usize,
    /// The worker threads' name prefix (`ThreadPoolExecutor-0`).
    pub prefix: String,
    state: Mutex<ExecState>,
    changed: Condvar,
}

impl ExecutorObj {
    fn take(&self) -> Option<WorkItem> {
        lock(&self.state).queue.pop_front()
    }

    fn is_shutdown(&self) -> bool {
        lock(&self.state).shutdown
    }

    fn has_work_or_shutdown(&self) -> bool {
        let st = lock(&self.state);
        !st.queue.is_empty() || st.shutdown
    }

    fn wait(&self, slice: Duration) {
        let st = lock(&self.state);
        if st.queue.is_empty() && !st.shutdown {
            let _ = self.changed.wait_timeout(st, slice);
        }
    }
}

fn the_executor(args: &[Value]) -> Result<Arc<ExecutorObj>, VmError> {
    match args.first() {
        Some(Value::Executor(e)) => Ok(Arc::clone(e)),
        _ => Err(VmError::type_error(
            "descriptor requires a 'ThreadPoolExecutor' object",
        )),
    }
}

fn the_future(args: &[Value]) -> Result<Arc<FutureObj>, VmError> {
    match args.first() {
        Some(Value::Future(f)) => Ok(Arc::clone(f)),
        _ => Err(VmError::type_error("descriptor requires a 'Future' object")),
    }
}

fn timeout_of(v: Option<&Value>) -> Result<Option<f64>, VmError> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| VmError::type_error("timeout must be a number")),
    }
}

fn timeout_error() -> VmError {
    match builtin_class("TimeoutError") {
        Some(c) => exception::raise(exception::new_exception(c, Vec::new())),
        None => VmError::py("TimeoutError", ""),
    }
}

impl Builtin {
    /// Whether this builtin belongs to `concurrent.futures`.
    pub fn is_futures(self) -> bool {
        matches!(
            self,
            Builtin::ThreadPoolExecutor
                | Builtin::ExecutorSubmit
                | Builtin::ExecutorMap
                | Builtin::ExecutorShutdown
                | Builtin::ExecutorEnter
                | Builtin::ExecutorExit
                | Builtin::ExecutorWork
                | Builtin::FutureResult
                | Builtin::FutureException
                | Builtin::FutureDone
                | Builtin::AsCompleted
        )
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_futures(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match b {
            Builtin::ThreadPoolExecutor => {
                let names = [
                    "max_workers",
                    "thread_name_prefix",
                    "initializer",
                    "initargs",
                ];
                let mut p = bind_params("ThreadPoolExecutor", &names, 4, args, kwargs)?.into_iter();
                let (max, prefix) = (p.next().flatten(), p.next().flatten());
                let max_workers = match max {
                    None | Some(Value::None) => {
                        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                        (cpus + 4).min(32)
                    }
                    Some(v) => {
                        let n = v
                            .as_i64()
                            .ok_or_else(|| VmError::type_error("max_workers must be an integer"))?;
                        if n <= 0 {
                            return Err(VmError::py(
                                "ValueError",
                                "max_workers must be greater than 0",
                            ));
                        }
                        n as usize
                    }
                };
                let prefix = match prefix {
                    Some(Value::Str(s)) if !s.is_empty() => s.to_string(),
                    _ => format!("ThreadPoolExecutor-{}", self.host.next_executor_number()),
                };
                Ok(Value::Executor(Arc::new(ExecutorObj {
                    max_workers,
                    prefix,
                    state: Mutex::new(ExecState::default()),
                    changed: Condvar::new(),
                })))
            }
            Builtin::ExecutorSubmit => {
                let e = the_executor(&args)?;
                let mut rest = args.into_iter().skip(1);
                let func = rest.next().ok_or_else(|| {
                    VmError::type_error("submit expected at least 1 argument, got 0")
                })?;
                Ok(Value::Future(self.submit(
                    &e,
                    func,
                    rest.collect(),
                    kwargs,
                )?))
            }
            Builtin::ExecutorMap => {
                let e = the_executor(&args)?;
                let mut rest = args.into_iter().skip(1);
                let func = rest.next().ok_or_else(|| {
                    VmError::type_error("map() missing 1 required positional argument: 'fn'")
                })?;
                let mut timeout = None;
                for (k, v) in &kwargs {
                    match &**k {
                        "timeout" => timeout = timeout_of(Some(v))?,
                        "chunksize" => {}
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
                let mut futures = Vec::with_capacity(n);
                for k in 0..n {
                    let call_args = cols.iter().map(|c| c[k].clone()).collect();
                    futures.push(self.submit(&e, func.clone(), call_args, Vec::new())?);
                }
                let deadline = timeout.map(deadline_after);
                let mut results = Vec::with_capacity(n);
                for f in futures {
                    if !f.done() && !self.wait_released(deadline, |slice| f.wait(slice))? {
                        return Err(timeout_error());
                    }
                    match f.outcome() {
                        Some((Ok(v), _)) => results.push(v),
                        Some((Err(exc), _)) => return Err(exception::raise(exc)),
                        None => return Err(timeout_error()),
                    }
                }
                Ok(Value::SeqIter(Arc::new(SeqIter {
                    seq: Value::list(results),
                    pos: Default::default(),
                })))
            }
            Builtin::ExecutorShutdown | Builtin::ExecutorExit => {
                let e = the_executor(&args)?;
                let wait = match (b, args.get(1), kwargs.iter().find(|(k, _)| &**k == "wait")) {
                    (Builtin::ExecutorShutdown, _, Some((_, v))) => v.truthy()?,
                    (Builtin::ExecutorShutdown, Some(v), _) => v.truthy()?,
                    _ => true,
                };
                let threads = {
                    let mut st = lock(&e.state);
                    st.shutdown = true;
                    st.threads.clone()
                };
                e.changed.notify_all();
                if wait {
                    for t in threads {
                        if t.state() != super::thread::ThreadState::Finished {
                            self.wait_released(None, |slice| t.wait_finished(slice))?;
                        }
                    }
                }
                Ok(if b == Builtin::ExecutorExit {
                    Value::Bool(false)
                } else {
                    Value::None
                })
            }
            Builtin::ExecutorEnter => Ok(args.first().cloned().unwrap_or(Value::None)),
            Builtin::ExecutorWork => {
                let e = the_executor(&args)?;
                self.work(&e)
            }
            Builtin::FutureResult | Builtin::FutureException => {
                let f = the_future(&args)?;
                let timeout = timeout_arg(&args, 1, &kwargs)?;
                if !f.done() {
                    let deadline = timeout.map(deadline_after);
                    if !self.wait_released(deadline, |slice| f.wait(slice))? {
                        return Err(timeout_error());
                    }
                }
                match (f.outcome(), b) {
                    (Some((Ok(v), _)), Builtin::FutureResult) => Ok(v),
                    (Some((Err(exc), _)), Builtin::FutureResult) => Err(exception::raise(exc)),
                    (Some((Ok(_), _)), _) => Ok(Value::None),
                    (Some((Err(exc), _)), _) => Ok(exc),
                    (None, _) => Err(timeout_error()),
                }
            }
            Builtin::FutureDone => Ok(Value::Bool(the_future(&args)?.done())),
            Builtin::AsCompleted => {
                let Some(fs) = args.first() else {
                    return Err(VmError::type_error(
                        "as_completed() missing 1 required positional argument: 'fs'",
                    ));
                };
                let timeout = timeout_arg(&args, 1, &kwargs)?;
                let deadline = timeout.map(deadline_after);
                let mut done = Vec::new();
                for v in self.iterate(fs)? {
                    let Value::Future(f) = &v else {
                        return Err(VmError::type_error("as_completed() needs futures"));
                    };
                    if !f.done() && !self.wait_released(deadline, |slice| f.wait(slice))? {
                        return Err(timeout_error());
                    }
                    let seq = f.outcome().map_or(u64::MAX, |(_, s)| s);
                    done.push((seq, v.clone()));
                }
                done.sort_by_key(|(seq, _)| *seq);
                Ok(Value::SeqIter(Arc::new(SeqIter {
                    seq: Value::list(done.into_iter().map(|(_, v)| v).collect()),
                    pos: Default::default(),
                })))
            }
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a concurrent.futures function", other.name()),
            )),
        }
    }

    /// `submit`: queues the call and starts a worker when none is idle and there is room.
    fn submit(
        &mut self,
        e: &Arc<ExecutorObj>,
        func: Value,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Arc<FutureObj>, VmError> {
        let future = Arc::new(FutureObj::new());
        let spawn = {
            let mut st = lock(&e.state);
            if st.shutdown {
                return Err(VmError::py(
                    "RuntimeError",
                    "cannot schedule new futures after shutdown",
                ));
            }
            st.queue.push_back(WorkItem {
                future: Arc::clone(&future),
                func,
                args,
                kwargs,
            });
            if st.idle > 0 {
                st.idle -= 1;
                None
            } else if st.threads.len() < e.max_workers {
                let name = format!("{}_{}", e.prefix, st.threads.len());
                let t = Obj::new(ThreadObj::new(
                    Value::Method(Arc::new(BoundMethod {
                        this: Value::Executor(Arc::clone(e)),
                        func: Value::Builtin(Builtin::ExecutorWork),
                    })),
                    Vec::new(),
                    Vec::new(),
                    Some(Arc::from(name)),
                    true,
                    0,
                ));
                st.threads.push(t.clone());
                Some(t)
            } else {
                None
            }
        };
        e.changed.notify_all();
        if let Some(t) = spawn {
            t.mark_started();
            self.host.start_thread(&t)?;
        }
        Ok(future)
    }

    /// A worker's loop: takes calls from the executor's queue until it is shut down and empty.
    fn work(&mut self, e: &Arc<ExecutorObj>) -> Result<Value, VmError> {
        loop {
            // The next call is taken holding the GIL (a `work_queue.get` in CPython); the wait
            // for one is made with it released.
            let Some(it) = e.take() else {
                if e.is_shutdown() {
                    return Ok(Value::None);
                }
                self.wait_released(None, |slice| {
                    e.wait(slice);
                    e.has_work_or_shutdown()
                })?;
                continue;
            };
            it.future.set_running();
            match self.call_value_kw(&it.func, it.args, it.kwargs) {
                Ok(v) => it.future.finish(Ok(v)),
                Err(VmError::Py(p)) => it.future.finish(Err(exception::caught(&p))),
                Err(other) => {
                    it.future.finish(Err(Value::None));
                    return Err(other);
                }
            }
            lock(&e.state).idle += 1;
        }
    }
}

/// `concurrent.futures.NAME`.
pub fn attr(name: &str) -> Option<Value> {
    let b = |b| Some(Value::Builtin(b));
    match name {
        "ThreadPoolExecutor" => b(Builtin::ThreadPoolExecutor),
        "ProcessPoolExecutor" => b(Builtin::Mp(super::multiprocessing::MpFn::Executor)),
        "as_completed" => b(Builtin::AsCompleted),
        "TimeoutError" => builtin_class("TimeoutError").map(Value::Class),
        _ => None,
    }
}

/// The method `name` of an executor or a future.
pub fn method(v: &Value, name: &str) -> Option<Builtin> {
    Some(match (v, name) {
        (Value::Executor(_), "submit") => Builtin::ExecutorSubmit,
        (Value::Executor(_), "map") => Builtin::ExecutorMap,
        (Value::Executor(_), "shutdown") => Builtin::ExecutorShutdown,
        (Value::Executor(_), "__enter__") => Builtin::ExecutorEnter,
        (Value::Executor(_), "__exit__") => Builtin::ExecutorExit,
        (Value::Future(_), "result") => Builtin::FutureResult,
        (Value::Future(_), "exception") => Builtin::FutureException,
        (Value::Future(_), "done") => Builtin::FutureDone,
        _ => return None,
    })
}
