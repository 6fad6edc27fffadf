//! A process a script forked (a pool's worker, a `Process`), in the child gilscope: the
//! script's namespace rebuilt from what `fork` copied, then its tasks run one at a time on its
//! main thread under its own GIL, each answer, span and line of output sent back to the script.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};

use super::protocol::write_msg;
use super::script::{Output, ProgramCpu, ScriptHost, Shared};
use super::{
    ForkJob, ForkReply, ForkTask, RemoteError, RpcCall, RpcOutcome, RpcReply, ToChild, WorkerJob,
    WorkerMsg,
};
use crate::error::EngineError;
use crate::gil::Gil;
use crate::program::{Program, WireValue};
use crate::trace::clock;
use gilscope_python::vm::code::Code;
use gilscope_python::vm::exception;
use gilscope_python::vm::functools::WrapperObj;
use gilscope_python::vm::modules::system_exit_status;
use gilscope_python::vm::mp_shared::{self, OpOutcome, Owner, RemoteObjects, SharedOp};
use gilscope_python::vm::numba::JitFunc;
use gilscope_python::vm::object::lock;
use gilscope_python::vm::object::{Obj, set_thread_discipline};
use gilscope_python::vm::thread::ThreadObj;
use gilscope_python::vm::value::{Builtin, Function, Value};
use gilscope_python::vm::{Globals, PyException, Vm, VmError};

/// How long one wait for the next task lasts between cancel checks.
const TASK_WAIT_SLICE: Duration = Duration::from_millis(10);

/// The code object of a module-level function: a constant of the module's code.
/// The top-level code that defines the global `name`: the program's own, or a sibling
/// module's for a name of its namespace (`work.square`).
fn module_of<'p>(program: &'p Program, name: &str) -> &'p Arc<Code> {
    name.split_once('.')
        .and_then(|(module, _)| program.module.siblings.iter().find(|s| &*s.name == module))
        .map_or(&program.module.code, |s| &s.code)
}

fn find_code(module: &Arc<Code>, qualname: &str, firstlineno: u32) -> Option<Arc<Code>> {
    let codes = || {
        module.consts.iter().filter_map(|c| match c {
            Value::Code(code) if &*code.qualname == qualname => Some(code),
            _ => None,
        })
    };
    codes()
        .find(|c| c.firstlineno == firstlineno)
        .or_else(|| codes().next())
        .cloned()
}

/// The namespace `fork` copied: the functions remade first (the data may name them); the
/// indices of the globals that could not be unpacked yet (instances of classes not remade).
fn rebuild(
    program: &Program,
    fork: &ForkJob,
    globals: &Globals,
) -> Result<Vec<usize>, EngineError> {
    for d in &fork.defs {
        let Some(code) = find_code(module_of(program, &d.name), &d.qualname, d.firstlineno) else {
            continue;
        };
        let f = Function {
            code,
            defaults: d
                .defaults
                .iter()
                .map(|w| w.unpack(globals))
                .collect::<Result<_, _>>()?,
            kwdefaults: d
                .kwdefaults
                .iter()
                .map(|(k, w)| Ok((Arc::from(k.as_str()), w.unpack(globals)?)))
                .collect::<Result<_, EngineError>>()?,
            closure: Vec::new(),
            annotations: Value::None,
        };
        let f = Value::Function(Obj::new(f));
        let v = match d.jit {
            Some((nogil, parallel)) => {
                Value::Wrapper(Arc::new(WrapperObj::Jit(JitFunc::new(f, nogil, parallel))))
            }
            None => f,
        };
        globals.set(&d.name, v);
    }
    let mut later = Vec::new();
    for (i, (name, w)) in fork.globals.iter().enumerate() {
        match w.unpack(globals) {
            Ok(v) => {
                globals.set(name, v);
            }
            Err(_) => later.push(i),
        }
    }
    Ok(later)
}

/// The module-level classes `fork` copied, remade by running their bodies again over their
/// bases (a base first, whatever the order), then the globals that needed them.
fn rebuild_classes<H: gilscope_python::vm::Host>(
    vm: &mut Vm<'_, H>,
    program: &Program,
    fork: &ForkJob,
    globals: &Globals,
    later: &[usize],
) {
    let mut todo: Vec<_> = fork.classes.iter().collect();
    while !todo.is_empty() {
        let before = todo.len();
        todo.retain(|c| {
            let Some(code) = find_code(module_of(program, &c.name), &c.class_name, 0) else {
                return false;
            };
            let Ok(bases) = c
                .bases
                .iter()
                .map(|b| b.unpack(globals))
                .collect::<Result<Vec<_>, _>>()
            else {
                return true;
            };
            let body = Value::Function(Obj::new(Function {
                code,
                defaults: Vec::new(),
                kwdefaults: Vec::new(),
                closure: Vec::new(),
                annotations: Value::None,
            }));
            let mut args = vec![body, Value::str(&c.class_name)];
            args.extend(bases);
            if let Ok(class) = vm.call_value(&Value::Builtin(Builtin::BuildClass), args) {
                globals.set(&c.name, class);
            }
            false
        });
        if todo.len() == before {
            break;
        }
    }
    for &i in later {
        if let Some((name, w)) = fork.globals.get(i)
            && let Ok(v) = w.unpack(globals)
        {
            globals.set(name, v);
        }
    }
}

/// An engine error met while unpacking (`"AttributeError: Can't get attribute …"`) as the
/// exception the task raises.
fn remote_of_engine(e: &EngineError) -> RemoteError {
    let text = e.to_string();
    let (type_name, msg) = match text.split_once(": ") {
        Some((t, m)) if !t.contains(' ') => (t.to_owned(), m.to_owned()),
        _ => ("RuntimeError".to_owned(), text),
    };
    RemoteError {
        type_name,
        args: vec![WireValue::Str(msg)],
        traceback: String::new(),
    }
}

fn remote_of_py(e: &PyException) -> RemoteError {
    let args = match exception::caught(e) {
        Value::Instance(i) => i
            .args()
            .iter()
            .map(|a| WireValue::pack(a).unwrap_or_else(|_| WireValue::Str(a.to_str())))
            .collect(),
        _ => vec![WireValue::Str(e.msg.clone())],
    };
    RemoteError {
        type_name: e.exc.to_string(),
        args,
        traceback: String::new(),
    }
}

/// A task's values, or the exception that stopped it (with the raised one, when Python's).
type TaskResult = Result<Vec<WireValue>, (RemoteError, Option<PyException>)>;

/// Runs one task's calls; `Err` carries the exception a call raised (and stops the task).
fn run_task<H: gilscope_python::vm::Host>(
    vm: &mut Vm<'_, H>,
    globals: &Globals,
    task: &ForkTask,
) -> Result<TaskResult, VmError> {
    let func = match task.func.unpack(globals) {
        Ok(f) => f,
        Err(e) => return Ok(Err((remote_of_engine(&e), None))),
    };
    let mut out = Vec::with_capacity(task.calls.len());
    for (args, kwargs) in &task.calls {
        let unpacked = args
            .iter()
            .map(|a| a.unpack(globals))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|args| {
                let kw = kwargs
                    .iter()
                    .map(|(k, w)| Ok((Arc::from(k.as_str()), w.unpack(globals)?)))
                    .collect::<Result<Vec<_>, EngineError>>()?;
                Ok((args, kw))
            });
        let (args, kwargs) = match unpacked {
            Ok(a) => a,
            Err(e) => return Ok(Err((remote_of_engine(&e), None))),
        };
        match vm.call_value_kw(&func, args, kwargs) {
            Ok(v) => match WireValue::pack(&v) {
                Ok(w) => out.push(w),
                Err(e) => return Ok(Err((remote_of_engine(&e), None))),
            },
            Err(VmError::Py(e)) => return Ok(Err((remote_of_py(&e), Some(*e)))),
            Err(other) => return Err(other),
        }
    }
    Ok(Ok(out))
}

/// The objects the script shares, reached from here: each operation a call to the script's
/// process over the pipes, answered on stdin.
#[derive(Debug)]
struct ChildRpc {
    /// The way out to the script (taken when the process ends, so that its writer ends).
    tx: Mutex<Option<Sender<WorkerMsg>>>,
    globals: Arc<Globals>,
    next: AtomicU64,
    /// The calls waiting for their answer, and where it goes (dropped at the pipe's end).
    pending: Mutex<Option<HashMap<u64, Sender<RpcOutcome>>>>,
}

impl ChildRpc {
    fn answered(&self, reply: RpcReply) {
        let waiting = lock(&self.pending)
            .as_mut()
            .and_then(|p| p.remove(&reply.call));
        if let Some(w) = waiting {
            let _ = w.send(reply.outcome);
        }
    }

    /// The script closed the pipe: no call will be answered.
    fn hang_up(&self) {
        lock(&self.pending).take();
    }
}

/// The exception an answer carries, raised here.
fn raised(e: &RemoteError) -> VmError {
    let msg = e.args.first().map_or_else(String::new, |a| match a {
        WireValue::Str(s) => s.clone(),
        other => other.to_json().to_string(),
    });
    match exception::builtin_class(&e.type_name) {
        Some(c) => exception::raise(exception::new_exception(c, vec![Value::str(&msg)])),
        None => VmError::py("RuntimeError", msg),
    }
}

impl RemoteObjects for ChildRpc {
    fn call(
        &self,
        id: u64,
        op: &SharedOp,
        owner: Owner,
        wait: Duration,
    ) -> Result<OpOutcome, VmError> {
        let (name, value, index) = op.parts();
        let value = match value {
            Some(v) => Some(WireValue::pack(v).map_err(|e| {
                let text = e.to_string();
                VmError::py(
                    "TypeError",
                    text.strip_prefix("TypeError: ").unwrap_or(&text),
                )
            })?),
            None => None,
        };
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        let (reply_tx, reply_rx) = bounded(1);
        match lock(&self.pending).as_mut() {
            Some(p) => p.insert(call, reply_tx),
            None => return Err(VmError::py("EOFError", "the script's process is gone")),
        };
        let msg = WorkerMsg::Call(RpcCall {
            call,
            object: id,
            op: name.to_owned(),
            value,
            index,
            owner,
            wait_micros: wait.as_micros().min(u128::from(u64::MAX)) as u64,
        });
        let sent = lock(&self.tx)
            .as_ref()
            .is_some_and(|tx| tx.send(msg).is_ok());
        if !sent {
            return Err(VmError::py("EOFError", "the script's process is gone"));
        }
        match reply_rx.recv() {
            Ok(RpcOutcome::Done(w)) => w
                .unpack(&self.globals)
                .map(OpOutcome::Done)
                .map_err(|e| VmError::py("RuntimeError", e.to_string())),
            Ok(RpcOutcome::WouldBlock) => Ok(OpOutcome::WouldBlock),
            Ok(RpcOutcome::Raised(e)) => Err(raised(&e)),
            Err(_) => Err(VmError::py("EOFError", "the script's process is gone")),
        }
    }
}

/// Reads the script's lines (tasks, and the answers to this process's calls) until it
/// closes the pipe.
fn spawn_stdin_reader(
    tasks: Sender<ForkTask>,
    rpc: Arc<ChildRpc>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("gilscope-fork-stdin".to_owned())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            loop {
                line.clear();
                match stdin.lock().read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                match serde_json::from_str::<ToChild>(&line) {
                    Ok(ToChild::Task(t)) => {
                        if tasks.send(t).is_err() {
                            break;
                        }
                    }
                    Ok(ToChild::Reply(r)) => rpc.answered(r),
                    Err(e) => {
                        eprintln!("gilscope worker: malformed line from the script: {e}");
                        break;
                    }
                }
            }
            rpc.hang_up();
        })
}

/// The forked process's life: returns its exit code (a `Process`'s `exitcode`).
pub(super) fn serve(job: WorkerJob, fork: ForkJob) -> i32 {
    let ready_ns = clock::now_ns();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let hello = WorkerMsg::Hello {
        worker: job.worker,
        pid: std::process::id(),
        tid: clock::current_tid(),
        ready_ns,
    };
    if write_msg(&mut out, &hello)
        .and_then(|_| out.flush())
        .is_err()
    {
        return 3;
    }
    let Some((tx, writer)) = super::process::spawn_writer(out) else {
        return 2;
    };
    let code = match Program::load(&job.program) {
        Ok(program) => run(&job, &fork, program, tx),
        Err(e) => {
            let _ = tx.send(WorkerMsg::Output {
                to_stderr: true,
                text: format!("gilscope: {e}\n"),
            });
            drop(tx);
            2
        }
    };
    let _ = writer.join();
    code
}

fn run(job: &WorkerJob, fork: &ForkJob, program: Program, tx: Sender<WorkerMsg>) -> i32 {
    let program = Arc::new(program);
    let spawned = !fork.start_method.is_empty() && fork.start_method != "fork";
    let globals = if spawned {
        program.globals_named("__mp_main__")
    } else {
        program.new_main_globals()
    };
    let rpc = Arc::new(ChildRpc {
        tx: Mutex::new(Some(tx.clone())),
        globals: Arc::clone(&globals),
        next: AtomicU64::new(1),
        pending: Mutex::new(Some(HashMap::new())),
    });
    mp_shared::set_remote(Arc::clone(&rpc) as Arc<dyn RemoteObjects>);
    let (task_tx, task_rx) = bounded::<ForkTask>(64);
    // The reader blocks on stdin until the script closes it; it ends with the process.
    if spawn_stdin_reader(task_tx, Arc::clone(&rpc)).is_err() {
        return 2;
    }
    let code = serve_tasks(job, fork, program, &globals, &tx, task_rx);
    lock(&rpc.tx).take();
    code
}

/// Runs the tasks as they come, on this thread under the process's GIL, until the script
/// closes the pipe; returns the exit code.
fn serve_tasks(
    job: &WorkerJob,
    fork: &ForkJob,
    program: Arc<Program>,
    globals: &Arc<Globals>,
    tx: &Sender<WorkerMsg>,
    task_rx: crossbeam_channel::Receiver<ForkTask>,
) -> i32 {
    let later = match rebuild(&program, fork, globals) {
        Ok(later) => later,
        Err(e) => {
            let _ = tx.send(WorkerMsg::Output {
                to_stderr: true,
                text: format!("gilscope: {e}\n"),
            });
            return 2;
        }
    };
    let gil = Arc::new(Gil::for_variant(
        job.interpreter,
        job.switch_interval_micros,
    ));
    let main = Obj::new(ThreadObj::main());
    let shared = Arc::new(Shared {
        gil: Arc::clone(&gil),
        globals: Arc::clone(globals),
        program,
        tx: tx.clone(),
        discipline: job.interpreter.refcount(),
        next_worker: AtomicUsize::new(job.worker),
        fixed_lane: Some(job.worker),
        thread_counter: AtomicU64::new(0),
        executor_counter: AtomicU64::new(0),
        task_counter: AtomicU64::new(1),
        process_counter: AtomicU64::new(0),
        process_name: fork.name.clone(),
        start_method: Mutex::new(Some(if fork.start_method.is_empty() {
            "fork".to_owned()
        } else {
            fork.start_method.clone()
        })),
        cpu: ProgramCpu::default(),
        handles: Arc::new(Mutex::new(Vec::new())),
        threads: Arc::new(Mutex::new(vec![(job.worker, main.clone())])),
        other_lanes: Arc::new(Mutex::new(Vec::new())),
        fork: None,
        forks: Arc::new(Mutex::new(Vec::new())),
        output: Arc::new(Mutex::new(Output::forwarded(tx.clone()))),
        numba: Mutex::new(None),
        notes: Arc::new(Mutex::new(Vec::new())),
    });
    let cpu0 = clock::thread_cpu_ns();
    set_thread_discipline(shared.discipline);
    let mut host = ScriptHost::new(Arc::clone(&shared), job.worker);
    let mut instructions = 0;
    let mut code_out = 0;
    let mut code = 0;
    if gil.take(job.worker, &mut host.rec).is_ok() {
        let mut vm = Vm::new(&mut host, gil.eval_breaker(), Arc::clone(globals));
        vm.set_current_thread(main.clone());
        rebuild_classes(&mut vm, &shared.program, fork, globals, &later);
        // A spawned child imports the script afresh, as `__mp_main__`: its `__main__` block
        // does not run, its module-level code (prints included) does.
        if !fork.start_method.is_empty() && fork.start_method != "fork" {
            let code = Arc::clone(&shared.program.module.code);
            match vm.run_module(&code) {
                Ok(()) => {}
                Err(VmError::Py(e)) => {
                    shared.output().write(true, &shared.traceback(&e));
                    code_out = 1;
                }
                Err(_) => code_out = 130,
            }
        }
        code = code_out;
        loop {
            if code != 0 {
                break;
            }
            // `inqueue.get()`: a blocking read, with the GIL released.
            let mut next = None;
            let mut closed = false;
            let waited = vm
                .host()
                .wait_released(|| match task_rx.recv_timeout(TASK_WAIT_SLICE) {
                    Ok(t) => {
                        next = Some(t);
                        true
                    }
                    Err(RecvTimeoutError::Timeout) => false,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        true
                    }
                });
            let Some(task) = next.filter(|_| waited.is_ok() && !closed) else {
                if waited.is_err() {
                    code = 130;
                }
                break;
            };
            let outcome = match run_task(&mut vm, globals, &task) {
                Ok(o) => o,
                Err(VmError::Cancelled) => {
                    code = 130;
                    break;
                }
                Err(e) => {
                    let text = format!("gilscope: {e}\n");
                    shared.output().write(true, &text);
                    Err((
                        RemoteError {
                            type_name: "RuntimeError".to_owned(),
                            args: vec![WireValue::Str(e.to_string())],
                            traceback: String::new(),
                        },
                        None,
                    ))
                }
            };
            if fork.is_process
                && let Err((_, Some(e))) = &outcome
            {
                // `BaseProcess._bootstrap`: SystemExit sets the exit code, any other exception
                // is printed under the process's name and exits 1.
                code = match system_exit_status(e) {
                    Some((status, text)) => {
                        if let Some(t) = text {
                            shared.output().write(true, &t);
                        }
                        status
                    }
                    None => {
                        let report = format!("Process {}:\n{}", fork.name, shared.traceback(e));
                        shared.output().write(true, &report);
                        1
                    }
                };
            }
            let reply = ForkReply {
                id: task.id,
                outcome: outcome.map_err(|(mut r, e)| {
                    if let Some(e) = e {
                        r.traceback = shared.traceback(&e);
                    }
                    r
                }),
            };
            if tx.send(WorkerMsg::TaskDone(reply)).is_err() {
                break;
            }
        }
        instructions = vm.instructions();
        drop(vm);
        if code != 130 && host.wait_for_threads().is_err() {
            code = 130;
        }
        if gil.holds(job.worker) {
            gil.drop_gil(job.worker, &mut host.rec, None, false);
        }
    }
    gil.cancel();
    let mut result = host.finish(instructions, cpu0);
    result.gil_switches = gil.switches();
    result.gil_drop_requests = gil.drop_requests();
    result.gil_releases = gil.releases();
    result.cpu_ns = clock::process_cpu_ns();
    let _ = tx.send(WorkerMsg::Done(Box::new(result)));
    let threads: Vec<_> =
        std::mem::take(&mut *shared.handles.lock().unwrap_or_else(|p| p.into_inner()));
    for t in threads {
        let _ = t.join();
    }
    code
}
