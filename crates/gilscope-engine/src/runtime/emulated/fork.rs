//! The processes a script starts (`multiprocessing.Pool`, `Process`, `ProcessPoolExecutor`),
//! seen from the script: each a child gilscope (the hidden worker subcommand) handed what
//! `fork` would have copied — the module namespace as it is now, what of it can be pickled —
//! and then its tasks, one at a time, as a pool's workers take them from its queue. Each child
//! is a lane of its own under its own GIL; its spans go to the coordinator, its output to the
//! script's, its answers to the task that waits for them.

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use crossbeam_channel::Sender;

use super::process::WORKER_ARG;
use super::protocol::read_msg;
use super::{
    ForkJob, ForkReply, ForkTask, RemoteError, RpcCall, RpcOutcome, RpcReply, ToChild, WorkerJob,
    WorkerMsg,
};
use crate::program::WireValue;
use crate::trace::clock;
use crate::trace::spans::{NO_CPU, Span, SpanState};
use gilscope_python::vm::class::{ClassObj, Native, object_class, process_class, thread_class};
use gilscope_python::vm::exception;
use gilscope_python::vm::functools::WrapperObj;
use gilscope_python::vm::mp_shared::{OpOutcome, SharedKind, SharedObj, SharedOp};
use gilscope_python::vm::multiprocessing::{ForkKind, MpObj, PoolTask, Processes, TaskCall};
use gilscope_python::vm::object::lock;
use gilscope_python::vm::value::{Builtin, Function, StdModule, Value};
use gilscope_python::vm::{Globals, VmError};

/// Longest a child's call waits here before it is answered "not yet" (it asks again).
const CALL_WAIT_MAX_MICROS: u64 = 10_000;

/// Where a child's output goes: `(to_stderr, text)`.
pub(super) type OutputFn = Arc<dyn Fn(bool, &str) + Send + Sync>;

/// One child's pipe, as its reader takes it.
struct ChildPipe {
    /// Its index in the group.
    index: usize,
    /// Its lane.
    worker: usize,
    pid: u32,
    /// When it was started, monotonic ns.
    spawn_ns: u64,
    stdout: std::process::ChildStdout,
}

/// What the script gives the processes it starts.
pub(super) struct ForkContext {
    /// This program, to start as a worker.
    pub exe: std::path::PathBuf,
    /// The job every child starts from (program, build, switch interval).
    pub job: WorkerJob,
    /// The coordinator's channel, for the children's spans and results.
    pub tx: Sender<WorkerMsg>,
    /// The names the module's code uses (where its imported functions are looked for).
    pub code_names: Vec<Arc<str>>,
    /// Where the children's output goes: the script's own output.
    pub output: OutputFn,
}

/// A task waiting for a child, or running in one.
struct Pending {
    id: u64,
    line: String,
    task: Arc<PoolTask>,
}

#[derive(Default)]
struct ChildState {
    /// The task it runs now.
    running: Option<Pending>,
    /// Its exit code, once it exited (negative: the signal).
    exit: Option<i32>,
}

struct ForkChild {
    pid: u32,
    stdin: Mutex<Option<ChildStdin>>,
    process: Mutex<Child>,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    children: Vec<ChildState>,
    closed: bool,
    terminated: bool,
    next_id: u64,
}

/// A group of forked children that share one task queue.
pub(super) struct Forked {
    /// What they are for (what becomes of them at the script's exit).
    pub(super) kind: ForkKind,
    children: Vec<ForkChild>,
    queue: Mutex<Queue>,
    changed: Condvar,
    /// The script's namespace, where answers are unpacked (functions are found by name there).
    globals: Arc<Globals>,
}

impl std::fmt::Debug for Forked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} forked processes>", self.children.len())
    }
}

/// How deep the search for shared objects goes (packing itself refuses deeper values).
const SHARED_DEPTH_MAX: usize = 500;

/// A shared object in `v` or in the containers it holds (what pickle would meet).
fn shared_in(v: &Value) -> Option<Arc<MpObj>> {
    shared_at(v, 0)
}

fn shared_at(v: &Value, depth: usize) -> Option<Arc<MpObj>> {
    if depth > SHARED_DEPTH_MAX {
        return None;
    }
    let inner = |x: &Value| shared_at(x, depth + 1);
    match v {
        // What a manager made (its dict, list, Queue…) are proxies, which pickle, as do pipe
        // ends; the rest must be inherited.
        Value::Mp(m)
            if matches!(&**m, MpObj::Shared(s)
                if !s.is_managed()
                    && !matches!(s.kind, SharedKind::Dict | SharedKind::List | SharedKind::Conn)) =>
        {
            Some(Arc::clone(m))
        }
        Value::Tuple(items) => items.iter().find_map(inner),
        // Copied out first: a container may hold itself (its lock is not reentrant).
        Value::List(l) => {
            let items = l.lock().clone();
            items.iter().find_map(inner)
        }
        Value::Dict(d) => {
            let pairs: Vec<(Value, Value)> = d
                .lock()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            pairs
                .iter()
                .find_map(|(k, v)| inner(k).or_else(|| inner(v)))
        }
        Value::Instance(i) => i.attrs().iter().find_map(|(_, v)| inner(v)),
        Value::Method(m) => inner(&m.this),
        _ => None,
    }
}

/// Packs a module-level function by name, as pickle does: it must be reachable as
/// `__main__.<qualname>`, or as `<module>.<qualname>` of one of the script's own modules.
fn pack_callable(func: &Value) -> Result<WireValue, VmError> {
    match func {
        Value::Function(f) => {
            let q = &*f.code.qualname;
            if q.contains("<locals>") {
                Err(VmError::py(
                    "AttributeError",
                    format!("Can't pickle local object '{q}'"),
                ))
            } else if q.contains('<') || q.contains('.') {
                Err(VmError::py(
                    "PicklingError",
                    format!("Can't pickle <function {q}>: attribute lookup {q} on __main__ failed"),
                ))
            } else {
                // A function of one of the script's modules is found there (`work.square`).
                Ok(WireValue::Function(f.code.global_name()))
            }
        }
        // A bound method pickles as its instance and the method's name (a `Process`
        // subclass's `run`).
        Value::Method(_) => pack(func),
        other => Err(VmError::py(
            "TypeError",
            format!(
                "cannot pickle '{}' object (gilscope's processes take module-level functions)",
                other.type_name()
            ),
        )),
    }
}

fn pack(v: &Value) -> Result<WireValue, VmError> {
    match v {
        Value::Function(_) => pack_callable(v),
        other => WireValue::pack(other).map_err(|e| {
            let text = e.to_string();
            let msg = text.strip_prefix("TypeError: ").unwrap_or(&text);
            VmError::py("TypeError", msg)
        }),
    }
}

/// The standard-library modules a script's names may come from.
const STD_MODULES: &[&str] = &[
    "time",
    "threading",
    "multiprocessing",
    "os",
    "os.path",
    "sys",
    "math",
    "queue",
    "random",
    "concurrent.futures",
    "asyncio",
    "collections",
    "numpy",
    "numpy.random",
    "numba",
];

/// Where a built-in function (or exception class) bound in the namespace comes from: the
/// module attribute, among the names the module's code uses, that is the same object.
fn module_attr(v: &Value, names: &[Arc<str>]) -> Option<WireValue> {
    if let Value::Class(c) = v
        && exception::builtin_class(&c.name).is_some_and(|b| Arc::ptr_eq(&b, c))
    {
        return Some(WireValue::ModuleAttr {
            module: "builtins".to_owned(),
            attr: c.name.to_string(),
        });
    }
    let Value::Builtin(b) = v else { return None };
    // A builtin under another name (`prange = range`): pickle finds it on `builtins`.
    if Builtin::lookup(b.name()) == Some(*b) {
        return Some(WireValue::ModuleAttr {
            module: "builtins".to_owned(),
            attr: b.name().to_owned(),
        });
    }
    for module in STD_MODULES {
        let Some(m) = StdModule::import(module) else {
            continue;
        };
        for attr in names {
            if matches!(m.attr(attr), Some(Value::Builtin(x)) if x == *b) {
                return Some(WireValue::ModuleAttr {
                    module: (*module).to_owned(),
                    attr: attr.to_string(),
                });
            }
        }
    }
    None
}

/// Where a class's base is found by the child: a program's class by name, a library's where
/// its module keeps it; `None` for one that cannot be found there.
fn base_wire(b: &Arc<ClassObj>) -> Option<WireValue> {
    let attr = |module: &str, attr: &str| {
        Some(WireValue::ModuleAttr {
            module: module.to_owned(),
            attr: attr.to_owned(),
        })
    };
    if Arc::ptr_eq(b, &process_class()) {
        attr("multiprocessing", "Process")
    } else if Arc::ptr_eq(b, &thread_class()) {
        attr("threading", "Thread")
    } else if b.user {
        Some(WireValue::Class(b.name.to_string()))
    } else if exception::builtin_class(&b.name).is_some_and(|x| Arc::ptr_eq(&x, b)) {
        attr("builtins", &b.name)
    } else {
        None
    }
}

/// A program's module-level class as the child remakes it, if its bases can be found there.
fn fork_class(name: &str, c: &ClassObj) -> Option<super::ForkClass> {
    if !c.user || c.module.is_some() {
        return None;
    }
    let object = object_class();
    let bases = c
        .bases
        .iter()
        .filter(|b| !Arc::ptr_eq(b, &object))
        .map(base_wire)
        .collect::<Option<Vec<_>>>()?;
    Some(super::ForkClass {
        name: name.to_owned(),
        class_name: c.name.to_string(),
        bases,
    })
}

/// The module namespace as `fork` copies it: module-level functions as their definitions
/// (code by qualified name, defaults by value), the rest by value where it can be pickled.
pub(super) fn snapshot(globals: &Globals, code_names: &[Arc<str>]) -> ForkJob {
    let mut defs = Vec::new();
    let mut values = Vec::new();
    let mut classes = Vec::new();
    for (slot, name) in globals.names().iter().enumerate() {
        let v = globals.load(slot);
        let def = |f: &Function, jit: Option<(bool, bool)>| {
            let packed: Option<Vec<WireValue>> = f.defaults.iter().map(|d| pack(d).ok()).collect();
            let kw: Option<Vec<(String, WireValue)>> = f
                .kwdefaults
                .iter()
                .map(|(k, d)| pack(d).ok().map(|w| (k.to_string(), w)))
                .collect();
            match (packed, kw, f.closure.is_empty()) {
                (Some(defaults), Some(kwdefaults), true) => Some(super::ForkDef {
                    name: name.to_string(),
                    qualname: f.code.qualname.to_string(),
                    firstlineno: f.code.firstlineno,
                    defaults,
                    kwdefaults,
                    jit,
                }),
                _ => None,
            }
        };
        // A name bound to what another file defined (`from helper import Point`): a
        // reference to its own global, made in the child once that exists.
        let elsewhere = |home: String| (home != **name).then_some(home);
        match &v {
            Value::Null => {}
            Value::Function(f) => match elsewhere(f.code.global_name()) {
                Some(home) => values.push((name.to_string(), WireValue::Function(home))),
                None => defs.extend(def(f, None)),
            },
            Value::Class(c) if c.user => match elsewhere(c.global_name()) {
                Some(home) => values.push((name.to_string(), WireValue::Class(home))),
                None => classes.extend(fork_class(name, c)),
            },
            Value::Wrapper(w)
                if let WrapperObj::Jit(j) = &**w
                    && let Value::Function(f) = &j.func =>
            {
                defs.extend(def(f, Some((j.nogil, j.parallel))));
            }
            other => {
                if let Some(w) = WireValue::pack(other)
                    .ok()
                    .or_else(|| module_attr(other, code_names))
                {
                    values.push((name.to_string(), w));
                }
            }
        }
    }
    ForkJob {
        name: String::new(),
        defs,
        globals: values,
        classes,
        is_process: false,
        start_method: String::new(),
    }
}

/// The class of the `__cause__` that carries a child's traceback, named as CPython prints it.
fn remote_traceback_class(kind: ForkKind) -> Option<Arc<ClassObj>> {
    static POOL: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    static EXECUTOR: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    let (cell, module, name) = match kind {
        ForkKind::Executor => (&EXECUTOR, "concurrent.futures.process", "_RemoteTraceback"),
        _ => (&POOL, "multiprocessing.pool", "RemoteTraceback"),
    };
    cell.get_or_init(|| {
        let base = exception::builtin_class("Exception")?;
        Some(Arc::new(ClassObj::in_module(
            module,
            name,
            vec![base],
            Native::Exception,
        )))
    })
    .clone()
}

/// The exception a child's answer carries, made in the script; its `__cause__` carries the
/// child's traceback, as `multiprocessing.pool.ExceptionWithTraceback` does.
fn remote_exception(e: &RemoteError, globals: &Globals, kind: ForkKind) -> Value {
    let exc = made_exception(e, globals);
    if !e.traceback.is_empty()
        && let Some(c) = remote_traceback_class(kind)
    {
        let text = format!("\n\"\"\"\n{}\"\"\"", e.traceback);
        exception::set_cause(
            &exc,
            Some(exception::new_exception(c, vec![Value::str(&text)])),
        );
    }
    exc
}

fn made_exception(e: &RemoteError, globals: &Globals) -> Value {
    let args = e
        .args
        .iter()
        .map(|a| a.unpack(globals).unwrap_or(Value::None))
        .collect();
    let class =
        exception::builtin_class(&e.type_name).or_else(|| match globals.get(&e.type_name) {
            Some(Value::Class(c)) if c.is_exception() => Some(c),
            _ => None,
        });
    match class {
        Some(c) => exception::new_exception(c, args),
        None => {
            let text = format!("{}: {}", e.type_name, args_text(&args));
            let base = exception::builtin_class("Exception");
            base.map_or(Value::None, |c| {
                exception::new_exception(c, vec![Value::str(&text)])
            })
        }
    }
}

fn args_text(args: &[Value]) -> String {
    args.iter()
        .map(Value::to_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn broken(what: &str) -> Value {
    let text = format!(
        "A process in the process pool was terminated abruptly while the task was running \
         ({what})"
    );
    exception::builtin_class("RuntimeError").map_or(Value::None, |c| {
        exception::new_exception(c, vec![Value::str(&text)])
    })
}

impl Forked {
    /// Starts one child per name, each forked from `globals` as it is now. Returns the group
    /// and the handles of its pipe readers (for the script to join).
    pub(super) fn start(
        ctx: &ForkContext,
        lanes: Vec<(usize, String)>,
        globals: &Arc<Globals>,
        kind: ForkKind,
        start_method: &str,
    ) -> Result<(Arc<Forked>, Vec<std::thread::JoinHandle<()>>), VmError> {
        let is_process = matches!(kind, ForkKind::Process { .. });
        // Spawn and forkserver children import the module afresh: nothing is copied.
        let mut base = snapshot(globals, &ctx.code_names);
        if start_method != "fork" {
            base.defs.clear();
            base.globals.clear();
            base.classes.clear();
        }
        base.start_method = start_method.to_owned();
        let mut children = Vec::new();
        let mut spawned = Vec::new();
        for (worker, name) in &lanes {
            let mut job = ctx.job.clone();
            job.worker = *worker;
            job.fork = Some(ForkJob {
                name: name.clone(),
                is_process,
                ..base.clone()
            });
            let line = serde_json::to_string(&job)
                .map_err(|e| VmError::py("OSError", format!("could not pack the fork: {e}")))?;
            let spawn_ns = clock::now_ns();
            let mut process = Command::new(&ctx.exe)
                .arg(WORKER_ARG)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| {
                    VmError::py(
                        "OSError",
                        format!("[Errno {}] fork failed: {e}", e.raw_os_error().unwrap_or(0)),
                    )
                })?;
            let mut stdin = process.stdin.take();
            if let Some(pipe) = stdin.as_mut() {
                let _ = pipe
                    .write_all(line.as_bytes())
                    .and_then(|_| pipe.write_all(b"\n"))
                    .and_then(|_| pipe.flush());
            }
            let stdout = process.stdout.take();
            let pid = process.id();
            children.push(ForkChild {
                pid,
                stdin: Mutex::new(stdin),
                process: Mutex::new(process),
            });
            spawned.push((*worker, pid, spawn_ns, stdout));
        }
        let n = children.len();
        let forked = Arc::new(Forked {
            kind,
            children,
            queue: Mutex::new(Queue {
                children: (0..n).map(|_| ChildState::default()).collect(),
                ..Queue::default()
            }),
            changed: Condvar::new(),
            globals: Arc::clone(globals),
        });
        let mut readers = Vec::new();
        for (index, (worker, pid, spawn_ns, stdout)) in spawned.into_iter().enumerate() {
            let Some(stdout) = stdout else { continue };
            let me = Arc::clone(&forked);
            let tx = ctx.tx.clone();
            let output = Arc::clone(&ctx.output);
            let pipe = ChildPipe {
                index,
                worker,
                pid,
                spawn_ns,
                stdout,
            };
            let h = std::thread::Builder::new()
                .name(format!("gilscope-fork-{worker}"))
                .spawn(move || me.read_child(pipe, &tx, &*output));
            match h {
                Ok(h) => readers.push(h),
                Err(_) => {
                    forked.terminate();
                    return Err(VmError::py("RuntimeError", "can't start new thread"));
                }
            }
        }
        Ok((forked, readers))
    }

    /// Reads child `index`'s pipe to its end: spans to the coordinator, output to the script,
    /// answers to their tasks; then waits for it and records its exit code.
    fn read_child(
        &self,
        pipe: ChildPipe,
        tx: &Sender<WorkerMsg>,
        output: &(dyn Fn(bool, &str) + Send + Sync),
    ) {
        let ChildPipe {
            index,
            worker,
            pid,
            spawn_ns,
            stdout,
        } = pipe;
        let mut r = BufReader::with_capacity(1 << 16, stdout);
        loop {
            let msg = match read_msg(&mut r, worker, pid) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    output(true, &format!("gilscope: process {pid}: {e}\n"));
                    break;
                }
            };
            match msg {
                WorkerMsg::Hello {
                    pid, tid, ready_ns, ..
                } => {
                    let span = Span {
                        start_ns: spawn_ns,
                        end_ns: ready_ns.max(spawn_ns),
                        pid,
                        tid,
                        worker: worker as u32,
                        cpu: NO_CPU,
                        state: SpanState::Spawn,
                    };
                    let _ = tx.send(WorkerMsg::Spans(vec![span]));
                }
                WorkerMsg::TaskDone(reply) => self.answer(index, &reply),
                WorkerMsg::Call(call) => self.serve_call(index, &call),
                WorkerMsg::Output { to_stderr, text } => output(to_stderr, &text),
                WorkerMsg::Failed { error, .. } => {
                    output(true, &format!("gilscope: process {pid}: {error}\n"));
                }
                other => {
                    let _ = tx.send(other);
                }
            }
        }
        let status = lock(&self.children[index].process).wait().ok();
        let code = status.map_or(-1, |s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| -s.signal().unwrap_or(0))
        });
        let mut q = lock(&self.queue);
        let state = &mut q.children[index];
        state.exit = Some(code);
        if let Some(p) = state.running.take()
            && !q.terminated
        {
            p.task.finish(Err(broken(&format!("exit code {code}"))));
        }
        drop(q);
        self.changed.notify_all();
    }

    /// A child's operation on a shared object: run here (waiting at most a slice), the
    /// answer written back on its stdin.
    fn serve_call(&self, index: usize, call: &RpcCall) {
        let outcome = self.run_call(call).unwrap_or_else(|e| {
            RpcOutcome::Raised(RemoteError {
                type_name: "RuntimeError".to_owned(),
                args: vec![WireValue::Str(e)],
                traceback: String::new(),
            })
        });
        let reply = ToChild::Reply(RpcReply {
            call: call.call,
            outcome,
        });
        if let Ok(line) = serde_json::to_string(&reply)
            && let Some(pipe) = lock(&self.children[index].stdin).as_mut()
        {
            let _ = pipe
                .write_all(line.as_bytes())
                .and_then(|_| pipe.write_all(b"\n"))
                .and_then(|_| pipe.flush());
        }
    }

    fn run_call(&self, call: &RpcCall) -> Result<RpcOutcome, String> {
        let obj = SharedObj::resolve(call.object, "", None)
            .ok_or_else(|| format!("shared object {} is gone", call.object))?;
        let value = match &call.value {
            Some(w) => Some(w.unpack(&self.globals).map_err(|e| e.to_string())?),
            None => None,
        };
        let op = SharedOp::from_parts(&call.op, value, call.index)
            .ok_or_else(|| format!("unknown operation {}", call.op))?;
        let wait = Duration::from_micros(call.wait_micros.min(CALL_WAIT_MAX_MICROS));
        Ok(match obj.run_as(&op, call.owner, wait) {
            Ok(OpOutcome::Done(v)) => RpcOutcome::Done(pack(&v).map_err(|e| e.to_string())?),
            Ok(OpOutcome::WouldBlock) => RpcOutcome::WouldBlock,
            Err(VmError::Py(e)) => RpcOutcome::Raised(RemoteError {
                type_name: e.exc.to_string(),
                args: vec![WireValue::Str(e.msg.clone())],
                traceback: String::new(),
            }),
            Err(other) => return Err(other.to_string()),
        })
    }

    /// A child's answer: its task gets the outcome, and the child its next task.
    fn answer(&self, index: usize, reply: &ForkReply) {
        let mut q = lock(&self.queue);
        let Some(p) = q.children[index].running.take() else {
            return;
        };
        if p.id != reply.id {
            q.children[index].running = Some(p);
            return;
        }
        let outcome = match &reply.outcome {
            Ok(values) => values
                .iter()
                .map(|w| w.unpack(&self.globals))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| broken(&e.to_string())),
            Err(e) => Err(remote_exception(e, &self.globals, self.kind)),
        };
        p.task.finish(outcome);
        self.dispatch(&mut q);
        drop(q);
        self.changed.notify_all();
    }

    /// Hands queued tasks to idle children; once closed and drained, closes their stdin.
    fn dispatch(&self, q: &mut Queue) {
        for (i, child) in self.children.iter().enumerate() {
            if q.children[i].running.is_some() || q.children[i].exit.is_some() {
                continue;
            }
            match q.pending.pop_front() {
                Some(p) => {
                    let sent = lock(&child.stdin).as_mut().is_some_and(|pipe| {
                        pipe.write_all(p.line.as_bytes())
                            .and_then(|_| pipe.write_all(b"\n"))
                            .and_then(|_| pipe.flush())
                            .is_ok()
                    });
                    if sent {
                        q.children[i].running = Some(p);
                    } else {
                        q.pending.push_front(p);
                    }
                }
                None if q.closed => {
                    lock(&child.stdin).take();
                }
                None => {}
            }
        }
    }

    fn signal_all(&self, signal: i32) {
        let q = lock(&self.queue);
        for (i, c) in self.children.iter().enumerate() {
            if q.children[i].exit.is_none() {
                // SAFETY: kill(2) on a pid we started and have not reaped.
                unsafe {
                    libc::kill(c.pid as libc::pid_t, signal);
                }
            }
        }
    }

    /// Stops every child at once (the run's cancel).
    pub(super) fn kill(&self) {
        lock(&self.queue).terminated = true;
        self.signal_all(libc::SIGKILL);
    }
}

impl Processes for Forked {
    fn submit(
        &self,
        func: &Value,
        calls: Vec<TaskCall>,
        task: Arc<PoolTask>,
    ) -> Result<(), VmError> {
        let func_value = func.clone();
        let func = pack_callable(func)?;
        // A pool's tasks are pickled: what is shared must come through fork instead.
        if !matches!(self.kind, ForkKind::Process { .. })
            && let Some(m) = calls
                .iter()
                .flat_map(|(a, k)| a.iter().chain(k.iter().map(|(_, v)| v)))
                .chain(std::iter::once(&func_value))
                .find_map(shared_in)
        {
            let name = match m.type_name() {
                "SynchronizedArray" => "SynchronizedArray",
                "Synchronized" => "Synchronized",
                "Lock" | "RLock" => "Lock",
                _ => "Queue",
            };
            return Err(VmError::py(
                "RuntimeError",
                format!(
                    "{name} objects should only be shared between processes through inheritance"
                ),
            ));
        }
        let calls = calls
            .iter()
            .map(|(args, kwargs)| {
                Ok((
                    args.iter().map(pack).collect::<Result<Vec<_>, VmError>>()?,
                    kwargs
                        .iter()
                        .map(|(k, v)| Ok((k.to_string(), pack(v)?)))
                        .collect::<Result<Vec<_>, VmError>>()?,
                ))
            })
            .collect::<Result<Vec<_>, VmError>>()?;
        let mut q = lock(&self.queue);
        let id = q.next_id;
        q.next_id += 1;
        let line = serde_json::to_string(&ToChild::Task(ForkTask { id, func, calls }))
            .map_err(|e| VmError::py("TypeError", format!("cannot pickle the task: {e}")))?;
        q.pending.push_back(Pending { id, line, task });
        self.dispatch(&mut q);
        Ok(())
    }

    fn close(&self) {
        let mut q = lock(&self.queue);
        q.closed = true;
        self.dispatch(&mut q);
    }

    /// Busy children get SIGTERM, as CPython's `terminate` sends; idle ones have their pipe
    /// closed and end at once on their own, their spans delivered.
    fn terminate(&self) {
        let mut q = lock(&self.queue);
        q.terminated = true;
        q.closed = true;
        q.pending.clear();
        for (i, c) in self.children.iter().enumerate() {
            let state = &q.children[i];
            if state.exit.is_some() {
                continue;
            }
            if state.running.is_some() {
                // SAFETY: kill(2) on a pid we started and have not reaped.
                unsafe {
                    libc::kill(c.pid as libc::pid_t, libc::SIGTERM);
                }
            } else {
                lock(&c.stdin).take();
            }
        }
    }

    fn wait_exited(&self, slice: Duration) -> bool {
        let q = lock(&self.queue);
        if q.children.iter().all(|c| c.exit.is_some()) {
            return true;
        }
        let (q, _) = self
            .changed
            .wait_timeout(q, slice)
            .unwrap_or_else(|p| p.into_inner());
        q.children.iter().all(|c| c.exit.is_some())
    }

    fn pids(&self) -> Vec<u32> {
        self.children.iter().map(|c| c.pid).collect()
    }

    fn exit_codes(&self) -> Vec<Option<i32>> {
        lock(&self.queue).children.iter().map(|c| c.exit).collect()
    }
}
