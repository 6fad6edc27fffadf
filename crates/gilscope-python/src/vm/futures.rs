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
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::call::{Kwargs, bind_params};
use super::exception::{self, builtin_class};
use super::lock::deadline_after;
use super::object::Obj;
use super::object::lock;
use super::sync::timeout_arg;
use super::thread::ThreadObj;
use super::value::{BoundMethod, Builtin, SeqIter, Value};
use super::{Host, Vm, VmError};

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
    /// `add_done_callback`'s functions not called yet.
    callbacks: Mutex<Vec<Value>>,
}

static COMPLETIONS: AtomicU64 = AtomicU64::new(0);

impl FutureObj {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(FutState::Pending),
            changed: Condvar::new(),
            callbacks: Mutex::new(Vec::new()),
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

    pub(super) fn outcome(&self) -> Option<(Result<Value, Value>, u64)> {
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
                | Builtin::FuturesWait
                | Builtin::FutureAddDoneCallback
                | Builtin::FutureRunning
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
                // A process pool's future is finished off the interpreter: its callbacks run
                // here, when the script first waits on it.
                self.run_callbacks(&f)?;
                match (f.outcome(), b) {
                    (Some((Ok(v), _)), Builtin::FutureResult) => Ok(v),
                    (Some((Err(exc), _)), Builtin::FutureResult) => Err(exception::raise(exc)),
                    (Some((Ok(_), _)), _) => Ok(Value::None),
                    (Some((Err(exc), _)), _) => Ok(exc),
                    (None, _) => Err(timeout_error()),
                }
            }
            Builtin::FutureDone => Ok(Value::Bool(the_future(&args)?.done())),
            Builtin::FutureRunning => Ok(Value::Bool(matches!(
                *lock(&the_future(&args)?.state),
                FutState::Running
            ))),
            Builtin::FutureAddDoneCallback => {
                let f = the_future(&args)?;
                let cb = args.get(1).cloned().ok_or_else(|| {
                    VmError::type_error(
                        "add_done_callback() missing 1 required positional argument: 'fn'",
                    )
                })?;
                // A future already done calls it at once, in this thread.
                lock(&f.callbacks).push(cb);
                if f.done() {
                    self.run_callbacks(&f)?;
                }
                Ok(Value::None)
            }
            Builtin::FuturesWait => self.wait_futures(args, kwargs),
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

    /// `Future._invoke_callbacks`, in the thread that finished it: an exception in one is
    /// reported as `concurrent.futures` logs it, and the next is called.
    pub(super) fn run_callbacks(&mut self, f: &Arc<FutureObj>) -> Result<(), VmError> {
        let callbacks = std::mem::take(&mut *lock(&f.callbacks));
        for cb in callbacks {
            match self.call_value(&cb, vec![Value::Future(Arc::clone(f))]) {
                Ok(_) => {}
                Err(VmError::Py(p)) => {
                    let text = format!(
                        "exception calling callback for {}\n{}\n",
                        f.repr(),
                        super::traceback::exception_line(&p)
                    );
                    self.host.write_stderr(&text);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// `concurrent.futures.wait(fs, timeout=None, return_when=ALL_COMPLETED)`: the sets of
    /// those done and not done, once the condition holds or the time is up.
    fn wait_futures(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let names = ["fs", "timeout", "return_when"];
        let mut p = bind_params("wait", &names, 3, args, kwargs)?.into_iter();
        let fs = p.next().flatten().ok_or_else(|| {
            VmError::type_error("wait() missing 1 required positional argument: 'fs'")
        })?;
        let timeout = timeout_of(p.next().flatten().as_ref())?;
        let when = match p.next().flatten() {
            Some(Value::Str(s)) => s.to_string(),
            _ => "ALL_COMPLETED".to_owned(),
        };
        let mut futures = Vec::new();
        for v in self.iterate(&fs)? {
            match v {
                Value::Future(f) => futures.push(f),
                other => {
                    return Err(VmError::type_error(format!(
                        "wait() needs futures, not {}",
                        other.type_name()
                    )));
                }
            }
        }
        let holds = |fs: &[Arc<FutureObj>]| match when.as_str() {
            "FIRST_COMPLETED" => fs.iter().any(|f| f.done()) || fs.is_empty(),
            "FIRST_EXCEPTION" => {
                fs.iter().all(|f| f.done())
                    || fs.iter().any(|f| matches!(f.outcome(), Some((Err(_), _))))
            }
            _ => fs.iter().all(|f| f.done()),
        };
        if !holds(&futures) {
            let deadline = timeout.map(deadline_after);
            let watch = futures.clone();
            self.wait_released(deadline, |slice| {
                if let Some(f) = watch.iter().find(|f| !f.done()) {
                    f.wait(slice.min(Duration::from_millis(5)));
                }
                holds(&watch)
            })?;
        }
        let (done, not_done): (Vec<_>, Vec<_>) = futures.into_iter().partition(|f| f.done());
        for f in &done {
            self.run_callbacks(f)?;
        }
        let set = |fs: Vec<Arc<FutureObj>>| -> Result<Value, VmError> {
            Ok(Value::Set(Obj::new(super::set::SetObj::from_items(
                false,
                fs.into_iter().map(Value::Future).collect::<Vec<_>>(),
            )?)))
        };
        Ok(Value::Tuple(Arc::from([set(done)?, set(not_done)?])))
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
            self.run_callbacks(&it.future)?;
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
        "wait" => b(Builtin::FuturesWait),
        "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED" => Some(Value::str(name)),
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
        (Value::Future(_), "add_done_callback") => Builtin::FutureAddDoneCallback,
        (Value::Future(_), "running") => Builtin::FutureRunning,
        _ => return None,
    })
}
