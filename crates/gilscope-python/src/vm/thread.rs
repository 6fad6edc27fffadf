//! `threading.Thread` objects: what to run, the name CPython gives them, and the state a
//! `join` waits on. The host starts the OS thread; the object only records what happened.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::call::Kwargs;
use super::value::Value;

/// Where a thread is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Made, not started.
    Initial,
    /// `start()` was called; running or about to.
    Started,
    /// Its target returned or raised.
    Finished,
}

/// A `threading.Thread`.
#[derive(Debug)]
pub struct ThreadObj {
    /// The callable `run` calls (`None` for a thread that does nothing).
    pub target: Value,
    /// Positional arguments of the target.
    pub args: Vec<Value>,
    /// Keyword arguments of the target.
    pub kwargs: Kwargs,
    /// The thread's name (`Thread-1 (work)` unless given).
    pub name: Mutex<Arc<str>>,
    /// Whether the program may end while it runs.
    pub daemon: AtomicBool,
    /// `threading.get_ident()` of the running thread, 0 before it starts.
    pub ident: AtomicU64,
    state: Mutex<ThreadState>,
    /// Set by the new thread once it runs Python code (`Thread._started`).
    booted: AtomicBool,
    changed: Condvar,
}

impl ThreadObj {
    /// A new, unstarted thread; `name` None gives CPython's `Thread-N (target)`, `N` being
    /// `number` (`threading._counter`'s next value).
    pub fn new(
        target: Value,
        args: Vec<Value>,
        kwargs: Kwargs,
        name: Option<Arc<str>>,
        daemon: bool,
        number: u64,
    ) -> Self {
        let name = name.unwrap_or_else(|| {
            let n = number;
            match &target {
                Value::Function(f) => Arc::from(format!("Thread-{n} ({})", f.code.name)),
                Value::Builtin(b) => Arc::from(format!("Thread-{n} ({})", b.name())),
                _ => Arc::from(format!("Thread-{n}")),
            }
        });
        Self {
            target,
            args,
            kwargs,
            name: Mutex::new(name),
            daemon: AtomicBool::new(daemon),
            ident: AtomicU64::new(0),
            state: Mutex::new(ThreadState::Initial),
            booted: AtomicBool::new(false),
            changed: Condvar::new(),
        }
    }

    /// The main thread of a process, already running.
    pub fn main() -> Self {
        let t = Self::new(
            Value::None,
            Vec::new(),
            Vec::new(),
            Some(Arc::from("MainThread")),
            false,
            0,
        );
        *t.lock_state() = ThreadState::Started;
        t
    }

    fn lock_state(&self) -> MutexGuard<'_, ThreadState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Its name now.
    pub fn name(&self) -> Arc<str> {
        Arc::clone(&self.name.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Its state now.
    pub fn state(&self) -> ThreadState {
        *self.lock_state()
    }

    /// Marks it started; false if it had been started before.
    pub fn mark_started(&self) -> bool {
        let mut s = self.lock_state();
        if *s != ThreadState::Initial {
            return false;
        }
        *s = ThreadState::Started;
        true
    }

    /// Marks it finished and wakes every `join`.
    pub fn mark_finished(&self) {
        let mut s = self.lock_state();
        *s = ThreadState::Finished;
        self.booted.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    /// Called by the new thread once it holds the GIL: wakes the `start()` that waits for it.
    pub fn mark_booted(&self) {
        let _s = self.lock_state();
        self.booted.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    /// Waits up to `slice` for the new thread to boot; whether it has.
    pub fn wait_booted(&self, slice: Duration) -> bool {
        let s = self.lock_state();
        if self.booted.load(Ordering::Acquire) {
            return true;
        }
        let _ = self
            .changed
            .wait_timeout(s, slice)
            .unwrap_or_else(|p| p.into_inner());
        self.booted.load(Ordering::Acquire)
    }

    /// Waits up to `slice` for it to finish; whether it has.
    pub fn wait_finished(&self, slice: Duration) -> bool {
        let s = self.lock_state();
        if *s == ThreadState::Finished {
            return true;
        }
        let (s, _) = self
            .changed
            .wait_timeout(s, slice)
            .unwrap_or_else(|p| p.into_inner());
        *s == ThreadState::Finished
    }

    /// `repr(thread)`, as CPython's `Thread.__repr__` builds it.
    pub fn repr(&self) -> String {
        let mut status = match self.state() {
            ThreadState::Initial => "initial",
            ThreadState::Started => "started",
            ThreadState::Finished => "stopped",
        }
        .to_owned();
        if self.daemon.load(Ordering::Relaxed) {
            status.push_str(" daemon");
        }
        let ident = self.ident.load(Ordering::Relaxed);
        if ident != 0 {
            status.push_str(&format!(" {ident}"));
        }
        format!("<Thread({}, {status})>", self.name())
    }
}
