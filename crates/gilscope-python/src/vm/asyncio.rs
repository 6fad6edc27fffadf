//! `asyncio` for one thread: `run`, `sleep`, `gather`, `create_task`, `current_task` and
//! `Task`, on an event loop that runs as `Lib/asyncio/base_events.py`'s `_run_once` does: the
//! handles ready at the start of an iteration run in order, a finished future wakes its waiters
//! through `call_soon` (so they run in the next iteration), and with nothing ready the loop
//! waits, GIL released, until the next timer is due.
//!
//! Tasks drive their coroutines with `send(None)`, as `Task.__step` does; an awaited future that
//! is not done yields itself up the chain of `SEND`s to the task, which waits on it.
//! `Task.cancel` throws `CancelledError` into the task's coroutine at its next step, after
//! cancelling what it awaits (a task, a gather's children, a sleep), as `Task.cancel` and
//! `__step` do; `wait_for` cancels its task at the timeout and raises `TimeoutError` once it has
//! ended; `wait` gives `(done, pending)` once its `return_when` holds or its timeout passes, and
//! `as_completed` one awaitable per future, filled in the order they finish. Left out: the cancelling of tasks still pending when `run`'s main coroutine returns
//! (they are dropped).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::call::{Kwargs, bind_params};
use super::exception;
use super::generator::Sent;
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

/// How often a loop waiting on a thread (`to_thread`) looks whether it is done, in seconds.
const EXTERNAL_POLL_SECS: f64 = 0.001;

/// A function of the `asyncio` module, or a method of its `Task`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncFn {
    /// `asyncio.run(main)`.
    Run,
    /// `asyncio.sleep(delay, result=None)`.
    Sleep,
    /// `asyncio.gather(*aws, return_exceptions=False)`.
    Gather,
    /// `asyncio.create_task(coro, *, name=None)`.
    CreateTask,
    /// `asyncio.current_task()`.
    CurrentTask,
    /// `Task.done()`.
    Done,
    /// `Task.result()`.
    Result,
    /// `Task.exception()`.
    Exception,
    /// `Task.get_name()`.
    GetName,
    /// `asyncio.to_thread(func, /, *args, **kwargs)`.
    ToThread,
    /// `asyncio.wait_for(aw, timeout)`.
    WaitFor,
    /// `Task.cancel(msg=None)`.
    Cancel,
    /// `Future.cancelled()`.
    Cancelled,
    /// `asyncio.wait(aws, *, timeout=None, return_when=ALL_COMPLETED)`.
    Wait,
    /// `asyncio.as_completed(aws)`.
    AsCompleted,
}

impl AsyncFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            AsyncFn::Run => "run",
            AsyncFn::Sleep => "sleep",
            AsyncFn::Gather => "gather",
            AsyncFn::CreateTask => "create_task",
            AsyncFn::CurrentTask => "current_task",
            AsyncFn::Done => "done",
            AsyncFn::Result => "result",
            AsyncFn::Exception => "exception",
            AsyncFn::GetName => "get_name",
            AsyncFn::ToThread => "to_thread",
            AsyncFn::WaitFor => "wait_for",
            AsyncFn::Cancel => "cancel",
            AsyncFn::Cancelled => "cancelled",
            AsyncFn::Wait => "wait",
            AsyncFn::AsCompleted => "as_completed",
        }
    }
}

/// `asyncio.<attr>`.
pub fn attr(name: &str) -> Option<Value> {
    let f = match name {
        "run" => AsyncFn::Run,
        "sleep" => AsyncFn::Sleep,
        "gather" => AsyncFn::Gather,
        "create_task" | "ensure_future" => AsyncFn::CreateTask,
        "current_task" => AsyncFn::CurrentTask,
        "to_thread" => AsyncFn::ToThread,
        "wait_for" => AsyncFn::WaitFor,
        "wait" => AsyncFn::Wait,
        "as_completed" => AsyncFn::AsCompleted,
        "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED" => return Some(Value::str(name)),
        "CancelledError" => return Some(Value::Class(cancelled_error_class())),
        // 3.11: `asyncio.TimeoutError` is the built-in `TimeoutError`.
        "TimeoutError" => return exception::builtin_class("TimeoutError").map(Value::Class),
        other => return super::asyncio_sync::attr(other),
    };
    Some(Value::Builtin(Builtin::Asyncio(f)))
}

/// The method of an awaitable `LOAD_METHOD` binds.
pub fn method(f: &AsyncObj, name: &str) -> Option<Builtin> {
    let m = match (&f.kind, name) {
        (_, "done") => AsyncFn::Done,
        (_, "result") => AsyncFn::Result,
        (_, "exception") => AsyncFn::Exception,
        (Kind::Task { .. }, "get_name") => AsyncFn::GetName,
        (Kind::Task { .. } | Kind::Future, "cancel") => AsyncFn::Cancel,
        (_, "cancelled") => AsyncFn::Cancelled,
        _ => return None,
    };
    Some(Builtin::Asyncio(m))
}

/// What an awaitable is.
#[derive(Debug)]
pub enum Kind {
    /// `asyncio.sleep(delay, result)`: done once its timer fires.
    Sleep {
        /// The delay.
        delay_secs: f64,
        /// What `await` gives back.
        result: Value,
    },
    /// A `Task` running a coroutine.
    Task {
        /// The coroutine object.
        coro: Value,
        /// `Task-N`, or the name given.
        name: String,
    },
    /// A plain future (`loop.create_future()`): done when a primitive sets it.
    Future,
    /// `gather`'s future: done when all its children are (or one fails).
    Gather {
        /// The futures gathered, in argument order.
        children: Vec<Arc<AsyncObj>>,
        /// Whether exceptions become results instead of failing the gather.
        return_exceptions: bool,
    },
    /// `wait_for(aw, timeout)`'s future: what `aw` gives, or `TimeoutError` once `aw`, cancelled
    /// at the timeout, has ended.
    WaitFor {
        /// The task (or future) waited for.
        inner: Arc<AsyncObj>,
    },
    /// `asyncio.wait`'s future: `(done, pending)` once `return_when` holds or the timeout passed.
    Wait {
        /// The futures waited for.
        children: Vec<Arc<AsyncObj>>,
        /// `FIRST_COMPLETED`, `FIRST_EXCEPTION` or `ALL_COMPLETED`.
        return_when: ReturnWhen,
    },
}

/// When `asyncio.wait` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// `FIRST_COMPLETED`.
    FirstCompleted,
    /// `FIRST_EXCEPTION` (or all completed).
    FirstException,
    /// `ALL_COMPLETED`.
    AllCompleted,
}

/// `as_completed`'s results: a plain future per awaitable, filled in the order they finish.
#[derive(Debug)]
struct Completions {
    slots: Vec<Arc<AsyncObj>>,
    next: Mutex<usize>,
}

/// `asyncio.exceptions.CancelledError` (a `BaseException` since 3.8).
pub fn cancelled_error_class() -> Arc<super::class::ClassObj> {
    static CLASS: std::sync::OnceLock<Arc<super::class::ClassObj>> = std::sync::OnceLock::new();
    Arc::clone(CLASS.get_or_init(|| {
        let base = exception::builtin_class("BaseException")
            .into_iter()
            .collect();
        Arc::new(super::class::ClassObj::in_module(
            "asyncio.exceptions",
            "CancelledError",
            base,
            super::class::Native::Exception,
        ))
    }))
}

fn is_cancelled_error(e: &Value) -> bool {
    matches!(e, Value::Instance(i) if Arc::ptr_eq(&i.class, &cancelled_error_class()))
}

#[derive(Debug)]
enum Waiter {
    Task(Arc<AsyncObj>),
    Gather(Arc<AsyncObj>),
    WaitFor(Arc<AsyncObj>),
    Wait(Arc<AsyncObj>),
    AsCompleted(Arc<Completions>),
}

impl Waiter {
    /// The handle that wakes this waiter once `done` has finished.
    fn wake(self, done: &Arc<AsyncObj>) -> Handle {
        match self {
            Waiter::Task(t) => Handle::Step(t),
            Waiter::Gather(g) => Handle::GatherDone(g, Arc::clone(done)),
            Waiter::WaitFor(w) => Handle::WaitForDone(w),
            Waiter::Wait(w) => Handle::WaitDone(w),
            Waiter::AsCompleted(c) => Handle::Completed(c, Arc::clone(done)),
        }
    }
}

#[derive(Debug, Default)]
struct FutState {
    /// The result, or the exception object, once done.
    outcome: Option<Result<Value, Value>>,
    /// A sleep's timer is set.
    armed: bool,
    waiters: Vec<Waiter>,
    /// Children of a gather that have finished.
    finished_children: usize,
    /// What a task waits on (`_fut_waiter`), while it waits.
    awaiting: Option<Arc<AsyncObj>>,
    /// A task's next step throws `CancelledError` in (`_must_cancel`).
    must_cancel: bool,
    /// A `wait_for` whose timeout passed.
    timed_out: bool,
}

/// An asyncio future: a task, a gather, or a sleep.
#[derive(Debug)]
pub struct AsyncObj {
    /// What it is.
    pub kind: Kind,
    state: Mutex<FutState>,
}

impl AsyncObj {
    pub(super) fn new(kind: Kind) -> Arc<Self> {
        Arc::new(Self {
            kind,
            state: Mutex::new(FutState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn outcome(&self) -> Option<Result<Value, Value>> {
        self.lock().outcome.clone()
    }

    /// The Python type name.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Sleep { .. } => "coroutine",
            Kind::Task { .. } => "Task",
            Kind::Gather { .. } => "_GatheringFuture",
            Kind::Future => "Future",
            Kind::WaitFor { .. } | Kind::Wait { .. } => "coroutine",
        }
    }

    /// `repr()`, as asyncio writes it (without the coroutine's address).
    pub fn repr(&self) -> String {
        let outcome = self.outcome();
        let state = if outcome.is_some() {
            "finished"
        } else {
            "pending"
        };
        match &self.kind {
            Kind::Sleep { .. } => "<coroutine object sleep>".to_owned(),
            Kind::Task { coro, name } => {
                let r = match outcome {
                    Some(Ok(v)) => format!(" result={}", v.repr()),
                    Some(Err(e)) => format!(" exception={}", e.repr()),
                    None => String::new(),
                };
                format!("<Task {state} name='{name}' coro={}{r}>", coro.repr())
            }
            Kind::Gather { .. } => format!("<_GatheringFuture {state}>"),
            Kind::WaitFor { .. } => "<coroutine object wait_for>".to_owned(),
            Kind::Wait { .. } => "<coroutine object wait>".to_owned(),
            Kind::Future => match outcome {
                Some(Ok(v)) => format!("<Future finished result={}>", v.repr()),
                Some(Err(e)) => format!("<Future finished exception={}>", e.repr()),
                None => "<Future pending>".to_owned(),
            },
        }
    }
}

enum Handle {
    /// `Task.__step` (or `__wakeup`).
    Step(Arc<AsyncObj>),
    /// A sleep's timer fired.
    Fire(Arc<AsyncObj>),
    /// `gather`'s `_done_callback` for one child.
    GatherDone(Arc<AsyncObj>, Arc<AsyncObj>),
    /// The future a `wait_for` waits for is done.
    WaitForDone(Arc<AsyncObj>),
    /// One of the futures an `asyncio.wait` waits for is done.
    WaitDone(Arc<AsyncObj>),
    /// One of the futures of an `as_completed` is done: it fills the next slot.
    Completed(Arc<Completions>, Arc<AsyncObj>),
}

struct Timer {
    at: Instant,
    seq: u64,
    fut: Arc<AsyncObj>,
}

impl PartialEq for Timer {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timer {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// A running event loop (one per thread that is inside `asyncio.run`).
#[derive(Default)]
pub struct EventLoop {
    ready: VecDeque<Handle>,
    timers: BinaryHeap<Reverse<Timer>>,
    seq: u64,
    current: Option<Arc<AsyncObj>>,
    /// The loop's default executor (`ThreadPoolExecutor(thread_name_prefix='asyncio')`), once
    /// `to_thread` needs it.
    executor: Option<Value>,
    /// Futures waiting for a thread's call (`wrap_future`): done when it is.
    external: Vec<(Arc<AsyncObj>, Arc<super::futures::FutureObj>)>,
}

fn no_loop() -> VmError {
    VmError::py("RuntimeError", "no running event loop")
}

impl<H: Host> Vm<'_, H> {
    fn event_loop(&mut self) -> Result<&mut EventLoop, VmError> {
        self.running_loop.as_deref_mut().ok_or_else(no_loop)
    }

    fn call_soon(&mut self, h: Handle) -> Result<(), VmError> {
        self.event_loop()?.ready.push_back(h);
        Ok(())
    }

    /// `loop.call_later`: `fut`'s timer fires in `secs` (at most 10^9 s; none or NaN: now),
    /// after the timers set before it for the same moment.
    fn call_later(&mut self, secs: f64, fut: &Arc<AsyncObj>) -> Result<(), VmError> {
        let secs = if secs.is_nan() {
            0.0
        } else {
            secs.clamp(0.0, 1e9)
        };
        let el = self.event_loop()?;
        el.seq += 1;
        let timer = Timer {
            at: Instant::now() + Duration::from_secs_f64(secs),
            seq: el.seq,
            fut: Arc::clone(fut),
        };
        el.timers.push(Reverse(timer));
        Ok(())
    }

    /// Marks `f` done and schedules its waiters.
    pub(super) fn finish(
        &mut self,
        f: &Arc<AsyncObj>,
        outcome: Result<Value, Value>,
    ) -> Result<(), VmError> {
        let waiters = {
            let mut st = f.lock();
            if st.outcome.is_some() {
                return Ok(());
            }
            st.outcome = Some(outcome);
            std::mem::take(&mut st.waiters)
        };
        for w in waiters {
            self.call_soon(w.wake(f))?;
        }
        Ok(())
    }

    fn add_waiter(&mut self, f: &Arc<AsyncObj>, w: Waiter) -> Result<(), VmError> {
        let mut st = f.lock();
        if st.outcome.is_none() {
            st.waiters.push(w);
            return Ok(());
        }
        drop(st);
        self.call_soon(w.wake(f))
    }

    fn new_task(&mut self, coro: Value, name: Option<String>) -> Result<Arc<AsyncObj>, VmError> {
        if !matches!(&coro, Value::Generator(g) if g.is_coroutine) {
            return Err(VmError::type_error(format!(
                "a coroutine was expected, got {}",
                coro.repr()
            )));
        }
        // 3.11 counts every task, named or not.
        let number = self.host.next_task_number();
        let name = name.unwrap_or_else(|| format!("Task-{number}"));
        let t = AsyncObj::new(Kind::Task { coro, name });
        self.call_soon(Handle::Step(Arc::clone(&t)))?;
        Ok(t)
    }

    /// One step of `await` on an asyncio future: its result once done, else it yields itself
    /// (a sleep first sets its timer).
    pub(super) fn await_step(&mut self, f: &Arc<AsyncObj>) -> Result<Sent, VmError> {
        if let Some(out) = f.outcome() {
            return match out {
                Ok(v) => Ok(Sent::Returned(v)),
                Err(e) => Err(exception::raise(e)),
            };
        }
        if let Kind::Sleep { delay_secs, result } = &f.kind {
            let first = !std::mem::replace(&mut f.lock().armed, true);
            if first {
                if *delay_secs <= 0.0 {
                    // `sleep(0)`: a bare yield, the task goes to the back of the ready queue.
                    f.lock().outcome = Some(Ok(result.clone()));
                    return Ok(Sent::Yielded(Value::None));
                }
                self.call_later(*delay_secs, f)?;
            }
        }
        Ok(Sent::Yielded(Value::Awaitable(Arc::clone(f))))
    }

    fn task_step(&mut self, task: &Arc<AsyncObj>) -> Result<(), VmError> {
        let Kind::Task {
            coro: Value::Generator(g),
            ..
        } = &task.kind
        else {
            return Ok(());
        };
        let must_cancel = {
            let mut st = task.lock();
            if st.outcome.is_some() {
                return Ok(());
            }
            st.awaiting = None;
            std::mem::take(&mut st.must_cancel)
        };
        let prev = self.event_loop()?.current.replace(Arc::clone(task));
        let r = if must_cancel {
            let exc = exception::new_exception(cancelled_error_class(), Vec::new());
            self.gen_throw(g, exc)
        } else {
            self.gen_send(g, Value::None)
        };
        self.event_loop()?.current = prev;
        match r {
            Ok(Sent::Yielded(Value::Awaitable(f))) => {
                task.lock().awaiting = Some(Arc::clone(&f));
                self.add_waiter(&f, Waiter::Task(Arc::clone(task)))
            }
            Ok(Sent::Yielded(Value::None)) => self.call_soon(Handle::Step(Arc::clone(task))),
            Ok(Sent::Yielded(other)) => {
                let class = exception::builtin_class("RuntimeError")
                    .ok_or_else(|| VmError::py("SystemError", "no RuntimeError"))?;
                let msg = Value::str(&format!("Task got bad yield: {}", other.repr()));
                self.finish(task, Err(exception::new_exception(class, vec![msg])))
            }
            Ok(Sent::Returned(v)) => self.finish(task, Ok(v)),
            Ok(Sent::Exhausted) => self.finish(task, Ok(Value::None)),
            Err(VmError::Py(p)) => {
                let exc = exception::caught(&p);
                self.finish(task, Err(exc))?;
                if matches!(&*p.exc, "SystemExit" | "KeyboardInterrupt") {
                    return Err(VmError::Py(p));
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn gather_done(&mut self, outer: &Arc<AsyncObj>, child: &Arc<AsyncObj>) -> Result<(), VmError> {
        let Kind::Gather {
            children,
            return_exceptions,
        } = &outer.kind
        else {
            return Ok(());
        };
        let finished = {
            let mut st = outer.lock();
            st.finished_children += 1;
            if st.outcome.is_some() {
                return Ok(());
            }
            st.finished_children
        };
        if !return_exceptions && let Some(Err(e)) = child.outcome() {
            return self.finish(outer, Err(e));
        }
        if finished < children.len() {
            return Ok(());
        }
        let results = children
            .iter()
            .map(|c| match c.outcome() {
                Some(Ok(v) | Err(v)) => v,
                None => Value::None,
            })
            .collect();
        self.finish(outer, Ok(Value::list(results)))
    }

    /// `_run_once`: waits for the first timer if nothing is ready, moves the due timers to the
    /// ready queue, and runs the handles ready now.
    fn run_once(&mut self) -> Result<(), VmError> {
        let el = self.event_loop()?;
        if el.ready.is_empty() {
            let mut wait_secs = match el.timers.peek() {
                Some(Reverse(t)) => t.at.saturating_duration_since(Instant::now()).as_secs_f64(),
                // Nothing can wake this loop: it waits, as python3's does, until stopped.
                None => 1.0,
            };
            // A thread's result wakes the loop (its self-pipe in CPython): look often.
            if !el.external.is_empty() {
                wait_secs = wait_secs.min(EXTERNAL_POLL_SECS);
            }
            if wait_secs > 0.0 {
                self.begin_allow_threads(Release::Io);
                let r = self.host.sleep(wait_secs);
                self.end_allow_threads()?;
                r?;
            }
        }
        let el = self.event_loop()?;
        let finished: Vec<_> = {
            let (done, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut el.external)
                .into_iter()
                .partition(|(_, f)| f.done());
            el.external = pending;
            done
        };
        for (fut, thread_future) in finished {
            let outcome = match thread_future.outcome() {
                Some((r, _)) => r,
                None => Ok(Value::None),
            };
            self.finish(&fut, outcome)?;
        }
        let el = self.event_loop()?;
        let now = Instant::now();
        while el.timers.peek().is_some_and(|Reverse(t)| t.at <= now) {
            if let Some(Reverse(t)) = el.timers.pop() {
                el.ready.push_back(Handle::Fire(t.fut));
            }
        }
        for _ in 0..el.ready.len() {
            let Some(h) = self.event_loop()?.ready.pop_front() else {
                break;
            };
            match h {
                Handle::Step(t) => self.task_step(&t)?,
                Handle::Fire(f) => match &f.kind {
                    Kind::WaitFor { inner } => self.wait_for_timeout(&f, inner)?,
                    Kind::Wait { .. } => self.wait_check(&f, true)?,
                    Kind::Sleep { result, .. } => self.finish(&f, Ok(result.clone()))?,
                    _ => self.finish(&f, Ok(Value::None))?,
                },
                Handle::GatherDone(outer, child) => self.gather_done(&outer, &child)?,
                Handle::WaitForDone(outer) => self.wait_for_done(&outer)?,
                Handle::WaitDone(outer) => self.wait_check(&outer, false)?,
                Handle::Completed(c, child) => {
                    let k = {
                        let mut next = c.next.lock().unwrap_or_else(|p| p.into_inner());
                        *next += 1;
                        *next - 1
                    };
                    if let Some(slot) = c.slots.get(k) {
                        let outcome = child.outcome().unwrap_or(Ok(Value::None));
                        self.finish(slot, outcome)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn asyncio_run(&mut self, coro: Value) -> Result<Value, VmError> {
        if self.running_loop.is_some() {
            return Err(VmError::py(
                "RuntimeError",
                "asyncio.run() cannot be called from a running event loop",
            ));
        }
        if !matches!(&coro, Value::Generator(g) if g.is_coroutine) {
            return Err(VmError::py(
                "ValueError",
                format!("a coroutine was expected, got {}", coro.repr()),
            ));
        }
        self.running_loop = Some(Box::default());
        let r = (|| {
            let main = self.new_task(coro, None)?;
            while main.outcome().is_none() {
                self.run_once()?;
            }
            // `loop.shutdown_default_executor()`: the threads `to_thread` used are joined.
            if let Some(e) = self.event_loop()?.executor.take() {
                self.call_value(&Value::Builtin(Builtin::ExecutorShutdown), vec![e])?;
            }
            match main.outcome() {
                Some(Ok(v)) => Ok(v),
                Some(Err(e)) => Err(exception::raise(e)),
                None => Ok(Value::None),
            }
        })();
        self.running_loop = None;
        r
    }

    /// `Future.cancel()` / `Task.cancel()`: false if it is done. A task's next step throws
    /// `CancelledError` into its coroutine; what it awaits is cancelled first (a task, a
    /// gather's children, a `wait_for`'s task), and a sleep or a plain future ends cancelled.
    fn cancel(&mut self, f: &Arc<AsyncObj>) -> Result<bool, VmError> {
        if f.outcome().is_some() {
            return Ok(false);
        }
        match &f.kind {
            Kind::Task { .. } => {
                let awaited = {
                    let mut st = f.lock();
                    st.must_cancel = true;
                    st.awaiting.take()
                };
                // A task waiting on a pending future is woken to take the CancelledError; one
                // without (just made, or already woken) has its step queued.
                if let Some(w) = awaited
                    && w.outcome().is_none()
                {
                    w.lock()
                        .waiters
                        .retain(|x| !matches!(x, Waiter::Task(t) if Arc::ptr_eq(t, f)));
                    self.cancel(&w)?;
                    self.call_soon(Handle::Step(Arc::clone(f)))?;
                }
                Ok(true)
            }
            Kind::Gather { children, .. } => {
                let mut any = false;
                for c in children.clone() {
                    any |= self.cancel(&c)?;
                }
                Ok(any)
            }
            Kind::WaitFor { inner } => {
                let inner = Arc::clone(inner);
                self.cancel(&inner)
            }
            // Cancelling `wait()` leaves the futures it waits for running.
            Kind::Wait { .. } => {
                let exc = exception::new_exception(cancelled_error_class(), Vec::new());
                self.finish(f, Err(exc))?;
                Ok(true)
            }
            Kind::Sleep { .. } | Kind::Future => {
                let exc = exception::new_exception(cancelled_error_class(), Vec::new());
                self.finish(f, Err(exc))?;
                Ok(true)
            }
        }
    }

    /// `wait_for(aw, timeout)`: a future for `aw` (a coroutine becomes a task), with its timer
    /// set now; without a timeout, `aw` itself.
    fn wait_for(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let mut p = bind_params("wait_for", &["fut", "timeout"], 2, args, kwargs)?.into_iter();
        let aw = p.next().flatten().ok_or_else(|| {
            VmError::type_error(
                "wait_for() missing 2 required positional arguments: 'fut' and 'timeout'",
            )
        })?;
        let timeout = p.next().flatten().ok_or_else(|| {
            VmError::type_error("wait_for() missing 1 required positional argument: 'timeout'")
        })?;
        let inner = match aw {
            Value::Awaitable(f) => f,
            c @ Value::Generator(_) => self.new_task(c, None)?,
            other => {
                return Err(VmError::type_error(format!(
                    "An asyncio.Future, a coroutine or an awaitable is required, not {}",
                    other.type_name()
                )));
            }
        };
        if matches!(inner.kind, Kind::Sleep { .. }) {
            // A bare sleep is wrapped in a task there: its timer starts now.
            self.await_step(&inner)?;
        }
        let timeout_secs = match timeout {
            Value::None => return Ok(Value::Awaitable(inner)),
            t => t.as_f64().ok_or_else(|| {
                VmError::type_error(format!(
                    "'<=' not supported between instances of '{}' and 'int'",
                    t.type_name()
                ))
            })?,
        };
        let outer = AsyncObj::new(Kind::WaitFor {
            inner: Arc::clone(&inner),
        });
        self.add_waiter(&inner, Waiter::WaitFor(Arc::clone(&outer)))?;
        self.call_later(timeout_secs, &outer)?;
        Ok(Value::Awaitable(outer))
    }

    /// A `wait_for`'s timeout: its task is cancelled, and the `wait_for` ends once it has.
    fn wait_for_timeout(
        &mut self,
        outer: &Arc<AsyncObj>,
        inner: &Arc<AsyncObj>,
    ) -> Result<(), VmError> {
        if outer.outcome().is_some() {
            return Ok(());
        }
        outer.lock().timed_out = true;
        self.cancel(inner)?;
        Ok(())
    }

    /// The future a `wait_for` waits for is done: its outcome, or `TimeoutError` (from the
    /// `CancelledError`) where the timeout cancelled it.
    fn wait_for_done(&mut self, outer: &Arc<AsyncObj>) -> Result<(), VmError> {
        let Kind::WaitFor { inner } = &outer.kind else {
            return Ok(());
        };
        let outcome = inner.outcome().unwrap_or(Ok(Value::None));
        let timed_out = outer.lock().timed_out;
        match outcome {
            Err(e) if timed_out && is_cancelled_error(&e) => {
                let class = exception::builtin_class("TimeoutError")
                    .ok_or_else(|| VmError::py("SystemError", "no TimeoutError"))?;
                let t = exception::new_exception(class, Vec::new());
                exception::set_cause(&t, Some(e));
                self.finish(outer, Err(t))
            }
            other => self.finish(outer, other),
        }
    }

    /// The futures of `asyncio.wait`/`as_completed`: tasks and futures as they are; a
    /// coroutine is refused by `wait` (3.11) and made a task by `as_completed`.
    fn futures_of(&mut self, what: &str, aws: &Value) -> Result<Vec<Arc<AsyncObj>>, VmError> {
        let items = self.iterate(aws)?;
        if items.is_empty() && what == "wait" {
            return Err(VmError::py("ValueError", "Set of Tasks/Futures is empty."));
        }
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            out.push(match it {
                Value::Awaitable(f) => {
                    if matches!(f.kind, Kind::Sleep { .. }) {
                        self.await_step(&f)?;
                    }
                    f
                }
                c @ Value::Generator(_) if what == "as_completed" => self.new_task(c, None)?,
                Value::Generator(_) => {
                    return Err(VmError::type_error(
                        "Passing coroutines is forbidden, use tasks explicitly.",
                    ));
                }
                other => {
                    return Err(VmError::type_error(format!(
                        "expect a list of futures, not {}",
                        other.type_name()
                    )));
                }
            });
        }
        Ok(out)
    }

    /// `asyncio.wait(aws, *, timeout=None, return_when=ALL_COMPLETED)`.
    fn wait(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let mut p =
            bind_params("wait", &["fs", "timeout", "return_when"], 1, args, kwargs)?.into_iter();
        let fs = p.next().flatten().ok_or_else(|| {
            VmError::type_error("wait() missing 1 required positional argument: 'fs'")
        })?;
        let timeout = p.next().flatten().unwrap_or(Value::None);
        let return_when = match p.next().flatten().map(|v| v.to_str()) {
            None => ReturnWhen::AllCompleted,
            Some(s) if s == "ALL_COMPLETED" => ReturnWhen::AllCompleted,
            Some(s) if s == "FIRST_COMPLETED" => ReturnWhen::FirstCompleted,
            Some(s) if s == "FIRST_EXCEPTION" => ReturnWhen::FirstException,
            Some(s) => {
                return Err(VmError::py(
                    "ValueError",
                    format!("Invalid return_when value: {s}"),
                ));
            }
        };
        let children = self.futures_of("wait", &fs)?;
        let outer = AsyncObj::new(Kind::Wait {
            children: children.clone(),
            return_when,
        });
        for c in &children {
            self.add_waiter(c, Waiter::Wait(Arc::clone(&outer)))?;
        }
        if let Some(secs) = timeout.as_f64() {
            self.call_later(secs, &outer)?;
        }
        Ok(Value::Awaitable(outer))
    }

    /// Whether an `asyncio.wait` may return now (or `timed_out`): then `(done, pending)`.
    fn wait_check(&mut self, outer: &Arc<AsyncObj>, timed_out: bool) -> Result<(), VmError> {
        let Kind::Wait {
            children,
            return_when,
        } = &outer.kind
        else {
            return Ok(());
        };
        if outer.outcome().is_some() {
            return Ok(());
        }
        let (done, pending): (Vec<_>, Vec<_>) =
            children.iter().partition(|c| c.outcome().is_some());
        let failed = done.iter().any(|c| matches!(c.outcome(), Some(Err(_))));
        let ready = timed_out
            || pending.is_empty()
            || (*return_when == ReturnWhen::FirstCompleted && !done.is_empty())
            || (*return_when == ReturnWhen::FirstException && failed);
        if !ready {
            return Ok(());
        }
        let set = |fs: Vec<&Arc<AsyncObj>>| -> Result<Value, VmError> {
            let items = fs.into_iter().map(|f| Value::Awaitable(Arc::clone(f)));
            Ok(Value::Set(super::object::Obj::new(
                super::set::SetObj::from_items(false, items)?,
            )))
        };
        let pair = Value::Tuple(Arc::from([set(done)?, set(pending)?]));
        self.finish(outer, Ok(pair))
    }

    /// `asyncio.as_completed(aws)`: one awaitable per future, in the order they finish.
    fn as_completed(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let mut p = bind_params("as_completed", &["fs", "timeout"], 1, args, kwargs)?.into_iter();
        let fs = p.next().flatten().ok_or_else(|| {
            VmError::type_error("as_completed() missing 1 required positional argument: 'fs'")
        })?;
        if !matches!(p.next().flatten(), None | Some(Value::None)) {
            return Err(VmError::py(
                "NotImplementedError",
                "as_completed(timeout=...) is not supported by gilscope's asyncio",
            ));
        }
        let children = self.futures_of("as_completed", &fs)?;
        let c = Arc::new(Completions {
            slots: children
                .iter()
                .map(|_| AsyncObj::new(Kind::Future))
                .collect(),
            next: Mutex::new(0),
        });
        for child in &children {
            self.add_waiter(child, Waiter::AsCompleted(Arc::clone(&c)))?;
        }
        let slots = c.slots.iter().map(|s| Value::Awaitable(Arc::clone(s)));
        Ok(Value::list(slots.collect()))
    }

    fn gather(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let mut return_exceptions = false;
        for (k, v) in kwargs {
            if &*k != "return_exceptions" {
                return Err(VmError::type_error(format!(
                    "gather() got an unexpected keyword argument '{k}'"
                )));
            }
            return_exceptions = v.truthy()?;
        }
        self.event_loop()?;
        let mut children: Vec<Arc<AsyncObj>> = Vec::with_capacity(args.len());
        for a in args {
            let f = match a {
                Value::Awaitable(f) => f,
                c @ Value::Generator(_) => self.new_task(c, None)?,
                other => {
                    return Err(VmError::type_error(format!(
                        "An asyncio.Future, a coroutine or an awaitable is required, not {}",
                        other.type_name()
                    )));
                }
            };
            children.push(f);
        }
        let outer = AsyncObj::new(Kind::Gather {
            children: children.clone(),
            return_exceptions,
        });
        if children.is_empty() {
            self.finish(&outer, Ok(Value::list(Vec::new())))?;
        }
        for c in &children {
            if matches!(c.kind, Kind::Sleep { .. }) {
                // A bare sleep given to gather is wrapped in a task there; its timer starts now.
                self.await_step(c)?;
            }
            self.add_waiter(c, Waiter::Gather(Arc::clone(&outer)))?;
        }
        Ok(Value::Awaitable(outer))
    }

    /// Calls an `asyncio` function or `Task` method.
    pub(super) fn call_asyncio(
        &mut self,
        f: AsyncFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let this = |args: &[Value]| match args.first() {
            Some(Value::Awaitable(a)) => Ok(Arc::clone(a)),
            _ => Err(VmError::type_error(format!("{}() needs a Task", f.name()))),
        };
        match f {
            AsyncFn::Run => {
                let mut p = bind_params("run", &["main", "debug"], 2, args, kwargs)?.into_iter();
                let coro = p.next().flatten().ok_or_else(|| {
                    VmError::type_error("run() missing 1 required positional argument: 'main'")
                })?;
                self.asyncio_run(coro)
            }
            AsyncFn::Sleep => {
                let mut p =
                    bind_params("sleep", &["delay", "result"], 2, args, kwargs)?.into_iter();
                let delay = p.next().flatten().ok_or_else(|| {
                    VmError::type_error("sleep() missing 1 required positional argument: 'delay'")
                })?;
                let delay_secs = delay.as_f64().ok_or_else(|| {
                    VmError::type_error(format!(
                        "'<=' not supported between instances of '{}' and 'int'",
                        delay.type_name()
                    ))
                })?;
                let result = p.next().flatten().unwrap_or(Value::None);
                Ok(Value::Awaitable(AsyncObj::new(Kind::Sleep {
                    delay_secs,
                    result,
                })))
            }
            AsyncFn::Gather => self.gather(args, kwargs),
            AsyncFn::CreateTask => {
                let mut p =
                    bind_params("create_task", &["coro", "name"], 1, args, kwargs)?.into_iter();
                let coro = p.next().flatten().ok_or_else(|| {
                    VmError::type_error(
                        "create_task() missing 1 required positional argument: 'coro'",
                    )
                })?;
                let name = match p.next().flatten() {
                    None | Some(Value::None) => None,
                    Some(v) => Some(v.to_str()),
                };
                if let Value::Awaitable(a) = coro {
                    return Ok(Value::Awaitable(a));
                }
                Ok(Value::Awaitable(self.new_task(coro, name)?))
            }
            AsyncFn::CurrentTask => Ok(self
                .event_loop()?
                .current
                .clone()
                .map_or(Value::None, Value::Awaitable)),
            AsyncFn::Done => Ok(Value::Bool(this(&args)?.outcome().is_some())),
            AsyncFn::Result | AsyncFn::Exception => match this(&args)?.outcome() {
                None => Err(VmError::py(
                    "asyncio.exceptions.InvalidStateError",
                    if f == AsyncFn::Result {
                        "Result is not set."
                    } else {
                        "Exception is not set."
                    },
                )),
                Some(Ok(v)) if f == AsyncFn::Result => Ok(v),
                Some(Ok(_)) => Ok(Value::None),
                Some(Err(e)) if f == AsyncFn::Result => Err(exception::raise(e)),
                Some(Err(e)) => Ok(e),
            },
            AsyncFn::ToThread => {
                let mut it = args.into_iter();
                let func = it.next().ok_or_else(|| {
                    VmError::type_error(
                        "to_thread() missing 1 required positional argument: 'func'",
                    )
                })?;
                let executor = match self.event_loop()?.executor.clone() {
                    Some(e) => e,
                    None => {
                        let e = self.call_value_kw(
                            &Value::Builtin(Builtin::ThreadPoolExecutor),
                            Vec::new(),
                            vec![(Arc::from("thread_name_prefix"), Value::str("asyncio"))],
                        )?;
                        self.event_loop()?.executor = Some(e.clone());
                        e
                    }
                };
                let mut call = vec![executor, func];
                call.extend(it);
                let Value::Future(thread_future) =
                    self.call_value_kw(&Value::Builtin(Builtin::ExecutorSubmit), call, kwargs)?
                else {
                    return Err(VmError::py("SystemError", "submit made no future"));
                };
                let fut = AsyncObj::new(Kind::Future);
                self.event_loop()?
                    .external
                    .push((Arc::clone(&fut), thread_future));
                Ok(Value::Awaitable(fut))
            }
            AsyncFn::WaitFor => self.wait_for(args, kwargs),
            AsyncFn::Wait => self.wait(args, kwargs),
            AsyncFn::AsCompleted => self.as_completed(args, kwargs),
            AsyncFn::Cancel => {
                let f = this(&args)?;
                Ok(Value::Bool(self.cancel(&f)?))
            }
            AsyncFn::Cancelled => Ok(Value::Bool(matches!(
                this(&args)?.outcome(),
                Some(Err(e)) if is_cancelled_error(&e)
            ))),
            AsyncFn::GetName => match &this(&args)?.kind {
                Kind::Task { name, .. } => Ok(Value::str(name)),
                _ => Ok(Value::None),
            },
        }
    }
}
