//! A plain script in the emulation, run as `python FILE` would run it: its module as
//! `__main__` on the main thread (worker 0, `MainThread`), every `threading.Thread` it starts a
//! worker of its own under the one GIL from the moment it starts, what it prints kept as its
//! output, and its exit status as python3's. Waiting in `start()`, `join()` and at the end of
//! the program for the threads not yet done is a lock wait, with the GIL released.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded};

use super::fork::{ForkContext, Forked};
use super::numba::NumbaPool;
use super::worker::sleep_cancellable;
use super::{Coordinator, GilCounts, WORKER_CHANNEL, WorkerJob, WorkerMsg, WorkerResult, Workers};
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::gil::{Gil, Ticker};
use crate::program::Program;
use crate::runtime::job::CancelToken;
use crate::trace::clock;
use crate::trace::spans::Recorder;
use crate::trace::summary::ProgramOutput;
use gilscope_python::vm::modules::system_exit_status;
use gilscope_python::vm::multiprocessing::{ForkKind, Processes};
use gilscope_python::vm::numba::{ChunkResult, PrangeChunk};
use gilscope_python::vm::object::{Obj, RefcountDiscipline, set_thread_discipline};
use gilscope_python::vm::thread::{ThreadObj, ThreadState};
use gilscope_python::vm::value::{ArrayObj, Value};
use gilscope_python::vm::{Globals, Host, Release, Vm, VmError, traceback};

/// Longest slice of a wait (`start`, the end of the program, `time.sleep`) between cancel checks.
const WAIT_SLICE: Duration = Duration::from_millis(10);

/// What a script's run leaves besides its spans.
pub(super) struct ScriptRun {
    /// The counters of the script's GIL.
    pub(super) counts: GilCounts,
    /// What it printed and its exit status.
    pub(super) output: ProgramOutput,
    /// The Python name of each worker's thread, by worker index.
    pub(super) names: Vec<String>,
    /// What gilscope stood in for (Numba's compiled code).
    pub(super) notes: Vec<String>,
}

/// The script's standard output and error as it writes them, each kept up to
/// [`ProgramOutput::KEEP_BYTES`].
#[derive(Default)]
pub(super) struct Output {
    stdout: String,
    stderr: String,
    dropped_bytes: u64,
    /// In a forked process: the channel to the script, where its output goes instead.
    forward: Option<Sender<WorkerMsg>>,
}

impl Output {
    /// Output sent on to the script that forked this process.
    pub(super) fn forwarded(tx: Sender<WorkerMsg>) -> Self {
        Self {
            forward: Some(tx),
            ..Self::default()
        }
    }

    /// Keeps (or forwards) `text` written to standard output or error.
    pub(super) fn write(&mut self, to_stderr: bool, text: &str) {
        if let Some(tx) = &self.forward {
            let _ = tx.send(WorkerMsg::Output {
                to_stderr,
                text: text.to_owned(),
            });
            return;
        }
        let buf = if to_stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        let room = ProgramOutput::KEEP_BYTES.saturating_sub(buf.len());
        if text.len() <= room {
            buf.push_str(text);
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            buf.push_str(&text[..cut]);
            self.dropped_bytes += (text.len() - cut) as u64;
        }
    }
}

/// The CPU time of the program's threads: the clocks of those running, and what those that
/// ended used. It leaves out gilscope's own threads (the window, the coordinator).
#[derive(Default)]
pub(super) struct ProgramCpu {
    inner: Mutex<(Vec<(usize, clock::ThreadClock)>, u64)>,
}

impl ProgramCpu {
    fn lock(&self) -> MutexGuard<'_, (Vec<(usize, clock::ThreadClock)>, u64)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The calling thread (worker `worker`) starts counting.
    pub(super) fn enter(&self, worker: usize) {
        if let Some(c) = clock::ThreadClock::current() {
            self.lock().0.push((worker, c));
        }
    }

    /// The calling thread ends: its clock's last reading is kept.
    pub(super) fn leave(&self, worker: usize) {
        let mut g = self.lock();
        g.0.retain(|(w, _)| *w != worker);
        g.1 += clock::thread_cpu_ns();
    }

    fn total_ns(&self) -> u64 {
        let g = self.lock();
        g.1 + g.0.iter().map(|(_, c)| c.cpu_ns()).sum::<u64>()
    }
}

/// The threads a script started, in start order, each with its worker index.
pub(super) type ThreadList = Arc<Mutex<Vec<(usize, Obj<ThreadObj>)>>>;

/// What every thread of the script shares.
pub(super) struct Shared {
    pub(super) gil: Arc<Gil>,
    pub(super) globals: Arc<Globals>,
    pub(super) program: Arc<Program>,
    pub(super) tx: Sender<WorkerMsg>,
    pub(super) discipline: RefcountDiscipline,
    pub(super) next_worker: AtomicUsize,
    /// In a forked process: the one lane all its threads draw on.
    pub(super) fixed_lane: Option<usize>,
    /// `threading._counter`: numbers the threads named `Thread-N`.
    pub(super) thread_counter: AtomicU64,
    /// `ThreadPoolExecutor._counter`: the `N` of `ThreadPoolExecutor-N`, from 0 in each run.
    pub(super) executor_counter: AtomicU64,
    pub(super) task_counter: AtomicU64,
    /// `multiprocessing.process._process_counter`: numbers `Process-N` and `ForkPoolWorker-N`.
    pub(super) process_counter: AtomicU64,
    /// `current_process().name`.
    pub(super) process_name: String,
    /// `multiprocessing`'s context: the start method, once fixed.
    pub(super) start_method: Mutex<Option<String>>,
    /// The program's CPU time (`time.process_time`).
    pub(super) cpu: ProgramCpu,
    pub(super) handles: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Every thread started, in start order with its worker index (the main thread first).
    pub(super) threads: ThreadList,
    /// The lanes that are not the script's threads, with their names: the processes it
    /// started, and the threads of Numba's pool.
    pub(super) other_lanes: Arc<Mutex<Vec<(usize, String)>>>,
    /// Numba's pool, once a `prange` loop needed it.
    pub(super) numba: Mutex<Option<NumbaPool>>,
    /// What gilscope stood in for, to show with the results.
    pub(super) notes: Arc<Mutex<Vec<String>>>,
    /// How to start processes (`None` in a forked process: it cannot fork again).
    pub(super) fork: Option<ForkContext>,
    /// The process groups started, to finish at exit and to stop on cancel.
    pub(super) forks: Arc<Mutex<Vec<Arc<Forked>>>>,
    pub(super) output: Arc<Mutex<Output>>,
}

impl Shared {
    pub(super) fn output(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn threads(&self) -> MutexGuard<'_, Vec<(usize, Obj<ThreadObj>)>> {
        self.threads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends Numba's pool, if one started: its threads finish their lanes.
    fn end_numba_pool(&self) {
        drop(self.numba.lock().unwrap_or_else(|p| p.into_inner()).take());
    }

    fn forks(&self) -> MutexGuard<'_, Vec<Arc<Forked>>> {
        self.forks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The traceback of `e` as CPython prints it, with the program's source lines.
    pub(super) fn traceback(&self, e: &gilscope_python::vm::PyException) -> String {
        traceback::format(e, &|f, line| self.program.source_line(f, line))
    }
}

/// The host of one thread of the script.
pub(super) struct ScriptHost {
    pub(super) shared: Arc<Shared>,
    worker: usize,
    pub(super) rec: Recorder,
    ticker: Ticker,
}

impl ScriptHost {
    pub(super) fn new(shared: Arc<Shared>, worker: usize) -> Self {
        let rec = Recorder::new(worker, Some(Box::new(shared.tx.clone())));
        Self {
            shared,
            worker,
            rec,
            ticker: Ticker::default(),
        }
    }

    /// `threading._shutdown`: waits, with the GIL released, for every thread that is not a
    /// daemon to end, including those they start meanwhile.
    pub(super) fn wait_for_threads(&mut self) -> Result<(), VmError> {
        let pending = |sh: &Shared| {
            sh.threads()
                .iter()
                .skip(1)
                .map(|(_, t)| t)
                .find(|t| {
                    t.state() != ThreadState::Finished
                        && !t.daemon.load(std::sync::atomic::Ordering::Relaxed)
                })
                .cloned()
        };
        let Some(mut next) = pending(&self.shared) else {
            return Ok(());
        };
        let shared = Arc::clone(&self.shared);
        self.wait_released(|| {
            if next.wait_finished(WAIT_SLICE) {
                match pending(&shared) {
                    Some(t) => next = t,
                    None => return true,
                }
            }
            false
        })
    }

    /// Waits with the GIL released (a lock wait) until `done()`, which itself waits at most
    /// [`WAIT_SLICE`], checking for cancel between its calls.
    pub(super) fn wait_released(&mut self, mut done: impl FnMut() -> bool) -> Result<(), VmError> {
        self.begin_allow_threads(Release::Wait);
        let waited = loop {
            if done() {
                break Ok(());
            }
            if let Err(e) = self.poll_cancel() {
                break Err(e);
            }
        };
        self.end_allow_threads()?;
        waited
    }

    /// `multiprocessing`'s exit handler: pools terminated, daemon processes too; processes
    /// and executors waited for, with the GIL released.
    pub(super) fn finish_processes(&mut self) -> Result<(), VmError> {
        let forks: Vec<Arc<Forked>> = self.shared.forks().clone();
        for f in &forks {
            if matches!(f.kind, ForkKind::Pool | ForkKind::Process { daemon: true }) {
                f.terminate();
            } else {
                f.close();
            }
        }
        for f in forks {
            self.wait_released(|| f.wait_exited(WAIT_SLICE))?;
        }
        Ok(())
    }

    /// The worker's result, once its thread is done.
    pub(super) fn finish(mut self, instructions: u64, cpu0: u64) -> WorkerResult {
        let (max_gil_wait_ns, gil_starvations) =
            (self.rec.max_gil_wait_ns(), self.rec.starvations());
        let (state_ns, dropped_spans) = self.rec.finish();
        let (pid, tid) = self.rec.ids();
        WorkerResult {
            worker: self.worker,
            pid,
            tid,
            state_ns: state_ns.to_vec(),
            instructions,
            cpu_ns: clock::thread_cpu_ns().saturating_sub(cpu0),
            dropped_spans,
            max_gil_wait_ns,
            gil_starvations,
            ..WorkerResult::default()
        }
    }
}

impl Host for ScriptHost {
    fn handle_eval_breaker(&mut self, instructions: u64) -> Result<(), VmError> {
        Ok(self.shared.gil.handle_eval_breaker(
            self.worker,
            &mut self.rec,
            instructions,
            &mut self.ticker,
        )?)
    }

    fn tick(&mut self) {
        self.rec.tick();
    }

    fn begin_allow_threads(&mut self, why: Release) {
        self.shared
            .gil
            .release(self.worker, &mut self.rec, why.into());
    }

    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(self.shared.gil.take(self.worker, &mut self.rec)?)
    }

    fn on_state(&mut self, _grid: &ArrayObj) -> Result<(), VmError> {
        Ok(())
    }

    fn sleep(&mut self, secs: f64) -> Result<(), VmError> {
        let gil = &self.shared.gil;
        sleep_cancellable(secs.clamp(0.0, 1e6), || gil.is_cancelled())
    }

    fn write_stdout(&mut self, text: &str) {
        self.shared.output().write(false, text);
    }

    fn write_stderr(&mut self, text: &str) {
        self.shared.output().write(true, text);
    }

    fn argv(&self) -> Vec<String> {
        vec![self.shared.program.file.clone()]
    }

    fn switch_interval_secs(&self) -> f64 {
        self.shared.gil.switch_interval_secs()
    }

    fn set_switch_interval_secs(&mut self, secs: f64) {
        self.shared.gil.set_switch_interval_secs(secs);
    }

    fn next_thread_number(&mut self) -> u64 {
        self.shared.thread_counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn threads(&self) -> Vec<Obj<ThreadObj>> {
        self.shared
            .threads()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }

    fn next_process_number(&mut self) -> u64 {
        self.shared.process_counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn process_name(&self) -> String {
        self.shared.process_name.clone()
    }

    fn start_method(&mut self, fix: bool) -> Option<String> {
        let mut m = self
            .shared
            .start_method
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if fix && m.is_none() {
            *m = Some("fork".to_owned());
        }
        m.clone()
    }

    fn set_start_method(&mut self, method: &str, force: bool) -> Result<(), VmError> {
        let mut m = self
            .shared
            .start_method
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if m.is_some() && !force {
            return Err(VmError::py("RuntimeError", "context has already been set"));
        }
        *m = Some(method.to_owned());
        Ok(())
    }

    fn is_gil_enabled(&self) -> Option<bool> {
        // The free-threaded builds are 3.13t's: the function exists there and says False.
        (!self.shared.gil.exists()).then_some(false)
    }

    fn source_line(&self, file: &str, line: u32) -> Option<String> {
        self.shared.program.source_line(file, line)
    }

    fn start_processes(
        &mut self,
        names: Vec<String>,
        kind: ForkKind,
        globals: &Arc<Globals>,
    ) -> Result<Arc<dyn Processes>, VmError> {
        let method = self.start_method(true).unwrap_or_else(|| "fork".to_owned());
        let Some(ctx) = &self.shared.fork else {
            return Err(VmError::py(
                "NotImplementedError",
                "a process gilscope forked cannot start processes of its own",
            ));
        };
        let lanes: Vec<(usize, String)> = names
            .into_iter()
            .map(|n| (self.shared.next_worker.fetch_add(1, Ordering::Relaxed), n))
            .collect();
        self.shared
            .other_lanes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(lanes.iter().cloned());
        let (forked, readers) = Forked::start(ctx, lanes, globals, kind, &method)?;
        self.shared
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(readers);
        self.shared.forks().push(Arc::clone(&forked));
        Ok(forked)
    }

    fn next_executor_number(&mut self) -> u64 {
        self.shared.executor_counter.fetch_add(1, Ordering::Relaxed)
    }

    fn next_task_number(&mut self) -> u64 {
        self.shared.task_counter.fetch_add(1, Ordering::Relaxed)
    }

    fn thread_cpu_secs(&mut self) -> Option<f64> {
        Some(clock::thread_cpu_ns() as f64 / 1e9)
    }

    fn process_cpu_secs(&mut self) -> Option<f64> {
        Some(self.shared.cpu.total_ns() as f64 / 1e9)
    }

    fn poll_cancel(&mut self) -> Result<(), VmError> {
        if self.shared.gil.is_cancelled() {
            Err(VmError::Cancelled)
        } else {
            Ok(())
        }
    }

    fn start_prange(
        &mut self,
        chunks: Vec<PrangeChunk>,
    ) -> Result<std::sync::mpsc::Receiver<ChunkResult>, Vec<PrangeChunk>> {
        // A forked process draws on one lane: its loops run on its own thread.
        if self.shared.fixed_lane.is_some() {
            return Err(chunks);
        }
        let mut pool = self.shared.numba.lock().unwrap_or_else(|p| p.into_inner());
        if pool.is_none() {
            let threads = gilscope_python::vm::numba::num_threads()
                .saturating_sub(1)
                .max(1);
            *pool = NumbaPool::start(&self.shared, threads).ok();
        }
        match pool.as_ref() {
            Some(p) => Ok(p.submit(chunks)),
            None => Err(chunks),
        }
    }

    fn note(&mut self, text: String) {
        let mut notes = self.shared.notes.lock().unwrap_or_else(|p| p.into_inner());
        if !notes.contains(&text) {
            notes.push(text);
        }
    }

    fn start_thread(&mut self, thread: &Obj<ThreadObj>) -> Result<(), VmError> {
        let worker = match self.shared.fixed_lane {
            Some(lane) => lane,
            None => self.shared.next_worker.fetch_add(1, Ordering::Relaxed),
        };
        self.shared.threads().push((worker, thread.clone()));
        let shared = Arc::clone(&self.shared);
        let t = thread.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("gilscope-py-{worker}"))
            .stack_size(gilscope_python::vm::STACK_BYTES)
            .spawn(move || run_thread(shared, worker, t));
        match spawned {
            Ok(h) => self
                .shared
                .handles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h),
            Err(_) => {
                thread.mark_finished();
                return Err(VmError::py("RuntimeError", "can't start new thread"));
            }
        }
        // `Thread.start` waits for `_started`, with the GIL released: the new thread takes it
        // first and runs until the switch interval hands it back.
        self.wait_released(|| thread.wait_booted(WAIT_SLICE))
    }
}

/// The body of a thread the script started: its target under the GIL, CPython's report of an
/// exception that escapes it, then its result to the coordinator.
fn run_thread(shared: Arc<Shared>, worker: usize, thread: Obj<ThreadObj>) {
    let cpu0 = clock::thread_cpu_ns();
    shared.cpu.enter(worker);
    set_thread_discipline(shared.discipline);
    let mut host = ScriptHost::new(Arc::clone(&shared), worker);
    let mut instructions = 0;
    if shared.gil.take(worker, &mut host.rec).is_ok() {
        thread
            .ident
            .store(u64::from(clock::current_tid()), Ordering::Relaxed);
        thread.mark_booted();
        let mut vm = Vm::new(
            &mut host,
            shared.gil.eval_breaker(),
            Arc::clone(&shared.globals),
        );
        vm.set_current_thread(thread.clone());
        let r = match &thread.target {
            Value::None => Ok(Value::None),
            target => vm.call_value_kw(target, thread.args.clone(), thread.kwargs.clone()),
        };
        instructions = vm.instructions();
        // A thread that raises SystemExit ends quietly (threading's excepthook ignores it).
        if let Err(VmError::Py(e)) = &r
            && system_exit_status(e).is_none()
        {
            let report = format!(
                "Exception in thread {}:\n{}",
                thread.name(),
                shared.traceback(e)
            );
            shared.output().write(true, &report);
        }
        if shared.gil.holds(worker) {
            shared.gil.drop_gil(worker, &mut host.rec, None, false);
        }
    }
    shared.cpu.leave(worker);
    thread.mark_finished();
    let result = host.finish(instructions, cpu0);
    let _ = shared.tx.send(WorkerMsg::Done(Box::new(result)));
}

/// The main thread: the module as `__main__`, a traceback and status 1 if it raises, then the
/// wait for the threads that are not daemons. Returns the exit status.
fn run_main(shared: Arc<Shared>, main: Obj<ThreadObj>) -> i32 {
    let cpu0 = clock::thread_cpu_ns();
    shared.cpu.enter(0);
    set_thread_discipline(shared.discipline);
    let mut host = ScriptHost::new(Arc::clone(&shared), 0);
    let mut instructions = 0;
    let status = match shared.gil.take(0, &mut host.rec) {
        Ok(()) => {
            main.ident
                .store(u64::from(clock::current_tid()), Ordering::Relaxed);
            let mut vm = Vm::new(
                &mut host,
                shared.gil.eval_breaker(),
                Arc::clone(&shared.globals),
            );
            vm.set_current_thread(main.clone());
            let code = Arc::clone(&shared.program.module.code);
            let r = vm.run_module(&code);
            instructions = vm.instructions();
            let mut status = match r {
                Ok(()) => 0,
                Err(VmError::Py(e)) if let Some((code, text)) = system_exit_status(&e) => {
                    if let Some(t) = text {
                        shared.output().write(true, &t);
                    }
                    code
                }
                Err(VmError::Py(e)) => {
                    let tb = shared.traceback(&e);
                    shared.output().write(true, &tb);
                    1
                }
                Err(VmError::Cancelled) => 130,
                Err(VmError::Host(e)) => {
                    shared.output().write(true, &format!("gilscope: {e}\n"));
                    1
                }
            };
            if status != 130 && host.wait_for_threads().is_err() {
                status = 130;
            }
            if status != 130 && host.finish_processes().is_err() {
                status = 130;
            }
            shared.end_numba_pool();
            if shared.gil.holds(0) {
                shared.gil.drop_gil(0, &mut host.rec, None, false);
            }
            status
        }
        Err(_) => 130,
    };
    main.mark_finished();
    // Daemon threads still running end with the program.
    shared.gil.cancel();
    shared.end_numba_pool();
    let result = host.finish(instructions, cpu0);
    let _ = shared.tx.send(WorkerMsg::Done(Box::new(result)));
    status
}

/// The script's workers, as the coordinator stops them: its threads and its processes.
struct ScriptWorkers(Arc<Gil>, Arc<Mutex<Vec<Arc<Forked>>>>);

impl Workers for ScriptWorkers {
    fn cancel(&mut self) {
        self.0.cancel();
        for f in self.1.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            f.kill();
        }
    }
}

/// `os.path.normpath` of an absolute path: `.` dropped, `..` taking off the part before it.
fn normalized(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Runs the script `cfg.program` to its end (or to cancel), its spans and results into `coord`.
pub(super) fn run(
    cfg: &RunConfig,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<ScriptRun, EngineError> {
    // `python FILE` names the file by `os.path.abspath(FILE)` (`__file__`, tracebacks):
    // absolute, `.` and `..` folded away, symbolic links left as they are.
    let spec = std::path::absolute(&cfg.program)
        .ok()
        .map(|p| normalized(&p))
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| cfg.program.clone());
    let mut program = Program::load(&spec)?;
    if !cfg.params.is_empty() {
        program = program.with_script_params(&cfg.params)?;
    }
    let program = Arc::new(program);
    let gil = Arc::new(Gil::for_variant(
        cfg.interpreter,
        cfg.switch_interval_micros,
    ));
    let (tx, rx) = bounded(WORKER_CHANNEL);
    let handles = Arc::new(Mutex::new(Vec::new()));
    let main = Obj::new(ThreadObj::main());
    let threads = Arc::new(Mutex::new(vec![(0, main.clone())]));
    let other_lanes = Arc::new(Mutex::new(Vec::new()));
    let forks = Arc::new(Mutex::new(Vec::new()));
    let output = Arc::new(Mutex::new(Output::default()));
    let notes = Arc::new(Mutex::new(Vec::new()));
    let exe = match &cfg.worker_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| EngineError::io("could not find this program to start workers", e))?,
    };
    let mut job = WorkerJob::for_fork(cfg, coord.run_id);
    job.program = spec.clone();
    let to_output = Arc::clone(&output);
    let fork = ForkContext {
        code_names: program.module.code.names.clone(),
        exe,
        job,
        tx: tx.clone(),
        output: Arc::new(move |to_stderr: bool, text: &str| {
            to_output
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write(to_stderr, text);
        }),
    };
    let shared = Arc::new(Shared {
        gil: Arc::clone(&gil),
        globals: program.new_main_globals(),
        program,
        tx,
        discipline: cfg.interpreter.refcount(),
        next_worker: AtomicUsize::new(1),
        fixed_lane: None,
        thread_counter: AtomicU64::new(0),
        executor_counter: AtomicU64::new(0),
        task_counter: AtomicU64::new(1),
        process_counter: AtomicU64::new(0),
        process_name: "MainProcess".to_owned(),
        start_method: Mutex::new(None),
        cpu: ProgramCpu::default(),
        handles: Arc::clone(&handles),
        threads: Arc::clone(&threads),
        other_lanes: Arc::clone(&other_lanes),
        fork: Some(fork),
        forks: Arc::clone(&forks),
        output: Arc::clone(&output),
        numba: Mutex::new(None),
        notes: Arc::clone(&notes),
    });
    let main_thread = std::thread::Builder::new()
        .name("gilscope-py-0".to_owned())
        .stack_size(gilscope_python::vm::STACK_BYTES)
        .spawn(move || run_main(shared, main))
        .map_err(|e| EngineError::io("could not start the script's main thread", e))?;
    // The channel closes once every thread is done with the shared state.
    coord.pump(
        &rx,
        cancel,
        &mut ScriptWorkers(Arc::clone(&gil), Arc::clone(&forks)),
    );
    let main_result = main_thread.join();
    let started: Vec<JoinHandle<()>> =
        std::mem::take(&mut *handles.lock().unwrap_or_else(|p| p.into_inner()));
    let mut panicked = None;
    for t in started {
        if let Err(payload) = t.join() {
            panicked.get_or_insert(panic_text(payload.as_ref()));
        }
    }
    // A panic is gilscope's fault, never the script's: said as such, not passed off as an exit
    // status of the script.
    let status = match main_result {
        Ok(status) => status,
        Err(payload) => {
            panicked = Some(panic_text(payload.as_ref()));
            1
        }
    };
    if let Some(why) = panicked {
        return Err(EngineError::Internal(format!(
            "gilscope's interpreter failed on this script ({why}); this is a bug of gilscope's, \
             not of the script"
        )));
    }
    let mut named: Vec<(usize, String)> = threads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(w, t)| (*w, t.name().to_string()))
        .collect();
    named.extend(
        other_lanes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned(),
    );
    let mut names = vec![String::new(); named.iter().map(|(w, _)| w + 1).max().unwrap_or(0)];
    for (w, n) in named {
        names[w] = n;
    }
    let out = std::mem::take(&mut *output.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(ScriptRun {
        counts: GilCounts::of(&gil),
        output: ProgramOutput {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: status,
            dropped_bytes: out.dropped_bytes,
        },
        names,
        notes: std::mem::take(&mut *notes.lock().unwrap_or_else(|p| p.into_inner())),
    })
}

/// The message of a panic's payload (a `&str` or a `String`, as `panic!` makes them).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panics_message_is_read_from_either_payload() {
        let caught = std::thread::spawn(|| panic!("index out of bounds: {}", 3)).join();
        let payload = caught.expect_err("the thread panicked");
        assert_eq!(
            super::panic_text(payload.as_ref()),
            "index out of bounds: 3"
        );
        let caught = std::thread::spawn(|| std::panic::panic_any("plain")).join();
        assert_eq!(
            super::panic_text(caught.expect_err("panicked").as_ref()),
            "plain"
        );
        let caught = std::thread::spawn(|| std::panic::panic_any(7u8)).join();
        assert_eq!(
            super::panic_text(caught.expect_err("panicked").as_ref()),
            "a panic"
        );
    }
}
