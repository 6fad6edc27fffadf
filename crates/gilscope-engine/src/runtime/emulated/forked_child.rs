//! A process a script forked (a pool's worker, a `Process`), in the child gilscope: the
//! script's namespace rebuilt from what `fork` copied, then its tasks run one at a time on its
//! main thread under its own GIL, each answer, span and line of output sent back to the script.

use std::io::{BufRead, BufWriter, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};

use super::protocol::write_msg;
use super::script::{Output, ProgramCpu, ScriptHost, Shared};
use super::{ForkJob, ForkReply, ForkTask, RemoteError, WORKER_CHANNEL, WorkerJob, WorkerMsg};
use crate::error::EngineError;
use crate::gil::Gil;
use crate::program::{Program, WireValue};
use crate::trace::clock;
use gilscope_python::vm::code::Code;
use gilscope_python::vm::exception;
use gilscope_python::vm::modules::system_exit_status;
use gilscope_python::vm::object::{Obj, set_thread_discipline};
use gilscope_python::vm::thread::ThreadObj;
use gilscope_python::vm::value::{Function, Value};
use gilscope_python::vm::{Globals, PyException, Vm, VmError};

/// How long one wait for the next task lasts between cancel checks.
const TASK_WAIT_SLICE: Duration = Duration::from_millis(10);

/// The code object of a module-level function: a constant of the module's code.
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

/// The namespace `fork` copied: the functions remade first (the data may name them).
fn rebuild(program: &Program, fork: &ForkJob, globals: &Globals) -> Result<(), EngineError> {
    for d in &fork.defs {
        let Some(code) = find_code(&program.module.code, &d.qualname, d.firstlineno) else {
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
        };
        globals.set(&d.name, Value::Function(Obj::new(f)));
    }
    for (name, w) in &fork.globals {
        if let Ok(v) = w.unpack(globals) {
            globals.set(name, v);
        }
    }
    Ok(())
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

/// Reads the tasks, one JSON line each, until the script closes the pipe.
fn spawn_task_reader(tx: Sender<ForkTask>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("gilscope-fork-tasks".to_owned())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            loop {
                line.clear();
                match stdin.lock().read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                match serde_json::from_str::<ForkTask>(&line) {
                    Ok(t) => {
                        if tx.send(t).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        eprintln!("gilscope worker: malformed task: {e}");
                        break;
                    }
                }
            }
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
    let (tx, rx) = bounded::<WorkerMsg>(WORKER_CHANNEL);
    let writer = std::thread::Builder::new()
        .name("gilscope-child-writer".to_owned())
        .spawn(move || {
            for msg in rx {
                if write_msg(&mut out, &msg).and_then(|_| out.flush()).is_err() {
                    std::process::exit(3);
                }
            }
        });
    let Ok(writer) = writer else {
        eprintln!("gilscope worker: could not start the writer thread");
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
    let globals = program.new_main_globals();
    if let Err(e) = rebuild(&program, fork, &globals) {
        let _ = tx.send(WorkerMsg::Output {
            to_stderr: true,
            text: format!("gilscope: {e}\n"),
        });
        return 2;
    }
    let gil = Arc::new(Gil::for_variant(
        job.interpreter,
        job.switch_interval_micros,
    ));
    let main = Obj::new(ThreadObj::main());
    let shared = Arc::new(Shared {
        gil: Arc::clone(&gil),
        globals: Arc::clone(&globals),
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
        cpu: ProgramCpu::default(),
        handles: Arc::new(Mutex::new(Vec::new())),
        threads: Arc::new(Mutex::new(vec![(job.worker, main.clone())])),
        process_lanes: Arc::new(Mutex::new(Vec::new())),
        fork: None,
        forks: Arc::new(Mutex::new(Vec::new())),
        output: Arc::new(Mutex::new(Output::forwarded(tx.clone()))),
    });
    let (task_tx, task_rx) = bounded::<ForkTask>(64);
    // The reader blocks on stdin until the script closes it; it ends with the process.
    if spawn_task_reader(task_tx).is_err() {
        return 2;
    }
    let cpu0 = clock::thread_cpu_ns();
    set_thread_discipline(shared.discipline);
    let mut host = ScriptHost::new(Arc::clone(&shared), job.worker);
    let mut instructions = 0;
    let mut code = 0;
    if gil.take(job.worker, &mut host.rec).is_ok() {
        let mut vm = Vm::new(&mut host, gil.eval_breaker(), Arc::clone(&globals));
        vm.set_current_thread(main.clone());
        loop {
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
            let outcome = match run_task(&mut vm, &globals, &task) {
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
