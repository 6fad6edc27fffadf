//! The emulated runtime: prepares a program, starts the workers of the chosen mode (threads,
//! child processes, subinterpreters or a native pool), gathers their spans, frames, progress and
//! results, and reports through the event sink.

mod interpreters;
mod native;
pub mod process;
pub mod protocol;
mod threading;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde::{Deserialize, Serialize};

use crate::build::Build;
use crate::config::{Kernel, Mode, RunConfig};
use crate::error::EngineError;
use crate::heat::workload;
use crate::program::{Program, WireValue};
use crate::runtime::CancelToken;
use crate::runtime::start::{announce_start, param_overrides};
use crate::trace::clock;
use crate::trace::events::{EngineEvent, EventSink, GridFrame};
use crate::trace::sampler;
use crate::trace::spans::{NO_CPU, Span, SpanState};
use crate::trace::summary::{RunOutcome, RunSummary, WorkerSummary};
use gilscope_python::vm::Globals;
use gilscope_python::vm::value::Value;

pub use process::worker_main;
pub use worker::{MainHost, NamespaceSource, run_interpreted};

/// Most spans one run keeps for its trace; more are counted as dropped.
pub const MAX_TRACE_SPANS: usize = 2_000_000;
/// Capacity of the channel from workers to the coordinator.
const WORKER_CHANNEL: usize = 4096;
/// How often the coordinator reports progress, in nanoseconds.
const PROGRESS_EVERY_NS: u64 = 50_000_000;
/// How often workers publish a grid frame, in nanoseconds.
pub const FRAME_EVERY_NS: u64 = 50_000_000;

/// One worker's assignment, as sent to a child process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerJob {
    /// Worker index.
    pub worker: usize,
    /// Run id (for frames).
    pub run_id: u64,
    /// Kernel to run.
    pub kernel: Kernel,
    /// Grid side.
    pub grid: usize,
    /// Iterations per problem.
    pub iters: usize,
    /// Index of the first problem.
    pub first_problem: usize,
    /// Boundary values of its problems.
    pub ics: Vec<f64>,
    /// GIL switch interval, µs.
    pub switch_interval_micros: u64,
    /// io kernel wait, µs.
    pub io_wait_micros: u64,
    /// Whether to publish grid frames.
    pub publish_frames: bool,
    /// The program: a bundled name or a path.
    #[serde(default)]
    pub program: String,
    /// Parameter values bound after the module's top level ran.
    #[serde(default)]
    pub params: Vec<(String, WireValue)>,
    /// The function the worker runs.
    #[serde(default)]
    pub entry: String,
    /// Its arguments (from the program's `share`).
    #[serde(default)]
    pub args: Vec<WireValue>,
    /// The interpreter build that runs it.
    #[serde(default)]
    pub interpreter: Build,
}

impl WorkerJob {
    fn new(cfg: &RunConfig, run_id: u64, chunk: workload::Chunk) -> Self {
        Self {
            worker: chunk.worker,
            run_id,
            kernel: cfg.kernel,
            grid: cfg.grid,
            iters: cfg.iters,
            first_problem: chunk.first_problem,
            ics: chunk.ics,
            switch_interval_micros: cfg.switch_interval_micros,
            io_wait_micros: cfg.io_wait_micros,
            publish_frames: cfg.publish_frames,
            program: cfg.program.clone(),
            params: Vec::new(),
            entry: String::new(),
            args: Vec::new(),
            interpreter: cfg.interpreter,
        }
    }
}

/// What a worker reports when it is done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerResult {
    /// Worker index.
    pub worker: usize,
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// `(problem index, sum of its final grid)` for each problem solved (native mode).
    pub problem_sums: Vec<(usize, f64)>,
    /// What the entry function returned (interpreted modes).
    #[serde(default)]
    pub returned: Option<WireValue>,
    /// Calls of the program's state functions (heat: kernel applications).
    #[serde(default)]
    pub steps: u64,
    /// Nanoseconds per [`SpanState`].
    pub state_ns: Vec<u64>,
    /// Bytecode instructions executed.
    pub instructions: u64,
    /// CPU time of the worker, ns.
    pub cpu_ns: u64,
    /// Spans the worker could not deliver.
    pub dropped_spans: u64,
    /// GIL switches of the worker's own process (process mode only).
    pub gil_switches: u64,
    /// GIL drop requests of the worker's own process (process mode only).
    pub gil_drop_requests: u64,
    /// GIL releases of the worker's own interpreter (process and interpreters modes).
    #[serde(default)]
    pub gil_releases: u64,
    /// The worker's longest wait for the GIL, ns.
    #[serde(default)]
    pub max_gil_wait_ns: u64,
    /// Its starved GIL waits (longer than 3 switch intervals, never asking for a drop).
    #[serde(default)]
    pub gil_starvations: u64,
}

/// A message from a worker (or a child's pipe reader) to the coordinator.
#[derive(Debug)]
pub enum WorkerMsg {
    /// A child process is up.
    Hello {
        /// Worker index.
        worker: usize,
        /// Its pid.
        pid: u32,
        /// Its main thread id.
        tid: u32,
        /// When its `main` started, monotonic ns.
        ready_ns: u64,
    },
    /// A batch of spans.
    Spans(Vec<Span>),
    /// A grid snapshot.
    Frame(GridFrame),
    /// Iterations done by one worker so far.
    Progress {
        /// Worker index.
        worker: usize,
        /// Iterations done.
        iters_done: u64,
    },
    /// The worker finished.
    Done(Box<WorkerResult>),
    /// The worker failed.
    Failed {
        /// Worker index.
        worker: usize,
        /// Its pid.
        pid: u32,
        /// What went wrong.
        error: EngineError,
    },
    /// A child's output pipe closed.
    Eof {
        /// Worker index.
        worker: usize,
    },
}

/// A worker's recorder sends its span batches to the coordinator as [`WorkerMsg::Spans`].
impl crate::trace::spans::SpanSink for crossbeam_channel::Sender<WorkerMsg> {
    fn offer(&self, batch: Vec<Span>) -> bool {
        self.try_send(WorkerMsg::Spans(batch)).is_ok()
    }
}

/// The GIL counters of the locks a mode's runner owns (children report their own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GilCounts {
    /// Holder changes.
    pub switches: u64,
    /// Drop requests.
    pub drop_requests: u64,
    /// Releases.
    pub releases: u64,
}

impl std::ops::Add for GilCounts {
    type Output = GilCounts;
    fn add(self, o: GilCounts) -> GilCounts {
        GilCounts {
            switches: self.switches + o.switches,
            drop_requests: self.drop_requests + o.drop_requests,
            releases: self.releases + o.releases,
        }
    }
}

impl GilCounts {
    /// The counters of one lock.
    pub fn of(gil: &crate::gil::Gil) -> Self {
        Self {
            switches: gil.switches(),
            drop_requests: gil.drop_requests(),
            releases: gil.releases(),
        }
    }
}

/// The workers of one mode, as the coordinator's pump sees them.
pub(crate) trait Workers {
    /// Stops every worker as soon as possible.
    fn cancel(&mut self);
    /// Sees a message before the coordinator handles it.
    fn on_msg(&mut self, _coord: &mut Coordinator<'_>, _msg: &WorkerMsg) {}
}

/// Gathers what the workers of one run send.
pub(crate) struct Coordinator<'a> {
    run_id: u64,
    sink: Option<&'a EventSink>,
    spans: Vec<Span>,
    dropped: u64,
    iters_done: Vec<u64>,
    iters_total: u64,
    last_progress_ns: u64,
    results: Vec<Option<WorkerResult>>,
    failure: Option<EngineError>,
    spawn_started_ns: Vec<u64>,
}

impl<'a> Coordinator<'a> {
    fn new(run_id: u64, cfg: &RunConfig, sink: Option<&'a EventSink>) -> Self {
        Self {
            run_id,
            sink,
            spans: Vec::new(),
            dropped: 0,
            iters_done: vec![0; cfg.threads],
            iters_total: if cfg.is_heat() {
                (cfg.problems * cfg.iters) as u64
            } else {
                0
            },
            last_progress_ns: 0,
            results: vec![None; cfg.threads],
            failure: None,
            spawn_started_ns: vec![0; cfg.threads],
        }
    }

    fn add_spans(&mut self, spans: Vec<Span>) {
        let room = MAX_TRACE_SPANS.saturating_sub(self.spans.len());
        let keep = spans.len().min(room);
        self.dropped += (spans.len() - keep) as u64;
        self.spans.extend_from_slice(&spans[..keep]);
        if let Some(sink) = self.sink {
            sink.send(EngineEvent::Spans {
                run_id: self.run_id,
                spans,
            });
        }
    }

    fn fail(&mut self, error: EngineError) {
        if self.failure.is_none() || matches!(self.failure, Some(EngineError::Cancelled)) {
            self.failure = Some(error);
        }
    }

    fn handle(&mut self, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Hello {
                worker,
                pid,
                tid,
                ready_ns,
            } => {
                let start_ns = self
                    .spawn_started_ns
                    .get(worker)
                    .copied()
                    .unwrap_or(ready_ns);
                self.add_spans(vec![Span {
                    start_ns,
                    end_ns: ready_ns.max(start_ns),
                    pid,
                    tid,
                    worker: worker as u32,
                    cpu: NO_CPU,
                    state: SpanState::Spawn,
                }]);
            }
            WorkerMsg::Spans(spans) => self.add_spans(spans),
            WorkerMsg::Frame(frame) => {
                if let Some(sink) = self.sink {
                    sink.publish_frame(self.run_id, frame);
                }
            }
            WorkerMsg::Progress { worker, iters_done } => {
                if let Some(slot) = self.iters_done.get_mut(worker) {
                    *slot = iters_done;
                }
                self.report_progress(false);
            }
            WorkerMsg::Done(result) => {
                let w = result.worker;
                self.dropped += result.dropped_spans;
                if let Some(slot) = self.results.get_mut(w) {
                    *slot = Some(*result);
                }
            }
            WorkerMsg::Failed { error, .. } => self.fail(error),
            WorkerMsg::Eof { .. } => {}
        }
    }

    fn report_progress(&mut self, force: bool) {
        let now = clock::now_ns();
        if !force && now.saturating_sub(self.last_progress_ns) < PROGRESS_EVERY_NS {
            return;
        }
        self.last_progress_ns = now;
        if let Some(sink) = self.sink {
            sink.send(EngineEvent::Progress {
                run_id: self.run_id,
                iters_done: self.iters_done.iter().sum::<u64>().min(self.iters_total),
                iters_total: self.iters_total,
            });
        }
    }

    /// Receives until every sender is gone; tells `workers` to stop once when the token is set
    /// or a worker fails, and shows it each message before handling it.
    fn pump(&mut self, rx: &Receiver<WorkerMsg>, cancel: &CancelToken, workers: &mut dyn Workers) {
        let mut cancel_sent = false;
        loop {
            if !cancel_sent && (cancel.is_cancelled() || self.failure.is_some()) {
                cancel_sent = true;
                if self.failure.is_none() {
                    self.failure = Some(EngineError::Cancelled);
                }
                workers.cancel();
            }
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(msg) => {
                    workers.on_msg(self, &msg);
                    self.handle(msg);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }
}

/// A program ready to run: compiled, its namespace in this process initialised, every worker's
/// arguments computed by its `share`.
struct Prepared {
    program: Program,
    globals: Arc<Globals>,
    entry: String,
    params: Vec<(String, WireValue)>,
    args: Vec<Vec<WireValue>>,
}

fn prepare(cfg: &RunConfig) -> Result<Prepared, EngineError> {
    // The main thread's objects count references as the run's interpreter does.
    gilscope_python::vm::object::set_thread_discipline(cfg.interpreter.refcount());
    let program = Program::load(&cfg.program)?;
    if cfg.mode == Mode::Interpreters && !cfg.is_heat() && program.imports("numpy") {
        return Err(EngineError::Config(format!(
            "--mode interpreters cannot run {}: it imports NumPy, which does not support \
             subinterpreters (numpy#24755); use --mode multiprocessing",
            program.file
        )));
    }
    let values = program.parse_params(&param_overrides(cfg))?;
    let entry = cfg
        .entry
        .clone()
        .or_else(|| {
            values
                .iter()
                .rev()
                .find(|(n, _)| n == "ENTRY")
                .map(|(_, v)| v.to_str())
        })
        .or_else(|| program.default_entry())
        .ok_or_else(|| {
            EngineError::Config(format!(
                "{} names no entry function: pass --entry or set ENTRY",
                program.file
            ))
        })?;
    let globals = program.new_globals();
    let mut main = MainHost::new();
    let params: Vec<(String, WireValue)> = values
        .iter()
        .map(|(n, v)| Ok((n.clone(), WireValue::pack(v)?)))
        .collect::<Result<_, EngineError>>()?;
    main.with_vm(&globals, |vm| vm.run_module(&program.module.code))?;
    worker::apply_params(&globals, &params)?;
    if crate::program::function(&globals, &entry).is_none() {
        return Err(EngineError::Config(format!(
            "{} has no function {entry} (--entry)",
            program.file
        )));
    }
    let share = crate::program::function(&globals, "share");
    let mut args = Vec::with_capacity(cfg.threads);
    for k in 0..cfg.threads {
        let a = match &share {
            Some(f) => {
                let call = vec![Value::Int(k as i64), Value::Int(cfg.threads as i64)];
                let v = main.with_vm(&globals, |vm| {
                    vm.call_value(&Value::Function(f.clone()), call)
                })?;
                match v {
                    Value::Tuple(t) => t
                        .iter()
                        .map(WireValue::pack)
                        .collect::<Result<Vec<_>, _>>()?,
                    Value::IntPair(a, b) => vec![WireValue::Int(a), WireValue::Int(b)],
                    other => {
                        return Err(EngineError::Python(format!(
                            "TypeError: share() must return a tuple of arguments, not {}",
                            other.type_name()
                        )));
                    }
                }
            }
            None => Vec::new(),
        };
        args.push(a);
    }
    Ok(Prepared {
        program,
        globals,
        entry,
        params,
        args,
    })
}

/// Runs the program's `report` on the workers' return values, in this process's namespace.
fn report(prep: &Prepared, returned: &[WireValue]) -> Result<WireValue, EngineError> {
    let values = returned
        .iter()
        .map(|w| w.unpack(&prep.globals))
        .collect::<Result<Vec<_>, _>>()?;
    match crate::program::function(&prep.globals, "report") {
        Some(f) => {
            let mut main = MainHost::new();
            let r = main.with_vm(&prep.globals, |vm| {
                vm.call_value(&Value::Function(f), vec![Value::list(values)])
            })?;
            WireValue::pack(&r)
        }
        None => Ok(WireValue::Dict(vec![(
            WireValue::Str("results".to_owned()),
            WireValue::List(returned.to_vec()),
        )])),
    }
}

pub(crate) fn run_emulated(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    // validate() also refuses native mode for programs other than heat.py.
    cfg.validate()?;
    let prep = if cfg.mode == Mode::Native {
        None
    } else {
        Some(prepare(cfg)?)
    };
    let cores = clock::core_count();
    let start_ns = clock::now_ns();
    let sampler = announce_start(run_id, cfg, sink, cores, start_ns)?;

    let jobs: Vec<WorkerJob> = workload::chunks(cfg)
        .into_iter()
        .map(|c| {
            let mut job = WorkerJob::new(cfg, run_id, c);
            if let Some(p) = &prep {
                job.entry = p.entry.clone();
                job.params = p.params.clone();
                job.args = p.args.get(job.worker).cloned().unwrap_or_default();
            }
            job
        })
        .collect();
    let mut coord = Coordinator::new(run_id, cfg, sink);
    let counts = match (cfg.mode, &prep) {
        (Mode::Threading, Some(p)) => threading::run(cfg, jobs, &p.globals, &mut coord, cancel)?,
        (Mode::Multiprocessing, _) => process::run(cfg, jobs, &mut coord, cancel)?,
        (Mode::Interpreters, _) => interpreters::run(jobs, &mut coord, cancel)?,
        _ => native::run(cfg, jobs, &mut coord, cancel)?,
    };
    let end_ns = clock::now_ns();
    let core_samples = sampler.stop();
    coord.report_progress(true);
    if let Some(err) = coord.failure.take() {
        return Err(err);
    }

    let mut summary = RunSummary::for_config(cfg);
    summary.wall_secs = (end_ns - start_ns) as f64 / 1e9;
    summary.cores = cores;
    summary.core_busy = sampler::mean_busy(&core_samples, cores);
    summary.gil_switches = counts.switches;
    summary.gil_drop_requests = counts.drop_requests;
    summary.gil_releases = counts.releases;
    let mut sums = vec![None; cfg.problems];
    let mut returned = Vec::with_capacity(coord.results.len());
    for (w, r) in coord.results.iter().enumerate() {
        let Some(r) = r else {
            return Err(EngineError::Worker {
                worker: w,
                pid: 0,
                message: "finished without reporting a result".to_owned(),
            });
        };
        summary.gil_switches += r.gil_switches;
        summary.gil_drop_requests += r.gil_drop_requests;
        summary.gil_releases += r.gil_releases;
        summary.gil_starvations += r.gil_starvations;
        summary.instructions += r.instructions;
        for &(k, s) in &r.problem_sums {
            if let Some(slot) = sums.get_mut(k) {
                *slot = Some(s);
            }
        }
        returned.push(r.returned.clone().unwrap_or(WireValue::None));
        let secs = |st: SpanState| r.state_ns.get(st as usize).copied().unwrap_or(0) as f64 / 1e9;
        // Process start and the final result transfer are measured outside the worker's recorder.
        let traced_secs = |st: SpanState| {
            coord
                .spans
                .iter()
                .filter(|s| s.worker as usize == w && s.state == st)
                .fold(0.0, |acc, s| acc + s.dur_ns() as f64 / 1e9)
        };
        let problems = if prep.is_some() {
            if cfg.is_heat() {
                (r.steps / cfg.iters.max(1) as u64) as usize
            } else {
                0
            }
        } else {
            r.problem_sums.len()
        };
        summary.workers.push(WorkerSummary {
            id: w,
            pid: r.pid,
            tid: r.tid,
            cpu_secs: r.cpu_ns as f64 / 1e9,
            python_secs: secs(SpanState::Python),
            gil_wait_secs: secs(SpanState::GilWait),
            native_secs: secs(SpanState::Native),
            io_secs: secs(SpanState::Io),
            spawn_secs: traced_secs(SpanState::Spawn),
            ipc_secs: traced_secs(SpanState::Ipc),
            max_gil_wait_secs: r.max_gil_wait_ns as f64 / 1e9,
            instructions: r.instructions,
            problems,
        });
    }
    let result = match &prep {
        Some(p) => {
            summary.entry = p.entry.clone();
            summary.program = p.program.name.clone();
            report(p, &returned)?
        }
        None => {
            let sums: Option<Vec<f64>> = sums.into_iter().collect();
            let sums = sums.ok_or_else(|| EngineError::Worker {
                worker: 0,
                pid: 0,
                message: "some problems were never reported".to_owned(),
            })?;
            summary.program = "heat".to_owned();
            summary.entry = "calc".to_owned();
            WireValue::Dict(vec![(
                WireValue::Str("checksum".to_owned()),
                WireValue::Float(workload::checksum(&sums)),
            )])
        }
    };
    summary.result = result.to_json();
    summary.checksum = summary.result["checksum"].as_f64().unwrap_or(f64::NAN);
    summary.dropped_events = coord.dropped;
    let mut spans = std::mem::take(&mut coord.spans);
    spans.sort_by_key(|s| (s.start_ns, s.worker));
    Ok(RunOutcome {
        summary,
        spans,
        core_samples,
        start_ns,
        end_ns,
    })
}
