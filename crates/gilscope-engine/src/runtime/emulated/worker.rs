//! One interpreted worker: runs the program's entry function on the bytecode interpreter under
//! its interpreter's lock, reporting spans, frames and progress. Threading mode runs several in
//! one process, sharing one module namespace; each child process and each subinterpreter runs
//! one, with its own namespace. Also the main thread's host, which runs the module's top level,
//! `share` and `report`.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use crossbeam_channel::Sender;

use super::{FRAME_EVERY_NS, WorkerJob, WorkerMsg, WorkerResult};
use crate::error::EngineError;
use crate::gil::{Gil, Ticker};
use crate::program::{self, Program, WireValue};
use crate::trace::clock;
use crate::trace::events::GridFrame;
use crate::trace::spans::{Recorder, SpanState};
use gilscope_python::vm::object::set_thread_discipline;
use gilscope_python::vm::value::{ArrayObj, Value};
use gilscope_python::vm::{Globals, Host, Release, Vm, VmError};

/// Longest slice of a `time.sleep` between cancel checks.
const SLEEP_SLICE: Duration = Duration::from_millis(10);

struct InterpHost<'a> {
    gil: &'a Gil,
    job: &'a WorkerJob,
    rec: Recorder,
    tx: Sender<WorkerMsg>,
    steps: u64,
    last_report_ns: u64,
    ticker: Ticker,
    unshown: Option<ArrayObj>,
}

impl InterpHost<'_> {
    /// Progress and a frame, at most every [`FRAME_EVERY_NS`]; a skipped grid is kept (a cheap
    /// view) so that the final state can be shown when the worker ends.
    fn report(&mut self, grid: &ArrayObj) {
        let now = clock::now_ns();
        if now.saturating_sub(self.last_report_ns) < FRAME_EVERY_NS {
            self.unshown = Some(grid.clone());
            return;
        }
        self.unshown = None;
        self.last_report_ns = now;
        let _ = self.tx.try_send(WorkerMsg::Progress {
            worker: self.job.worker,
            iters_done: self.steps,
        });
        if self.job.publish_frames {
            // `steps` updates are done: the last was iteration `iter` (1-based) of `problem`.
            let iters = self.job.iters.max(1) as u64;
            let last = self.steps.saturating_sub(1);
            let (problem, iter) = if self.steps == 0 {
                (0, 0)
            } else {
                (last / iters, last % iters + 1)
            };
            let frame = GridFrame::from_view(
                self.job.worker as u32,
                std::process::id(),
                (self.job.first_problem as u64 + problem) as u32,
                iter as u32,
                grid.to_ndarray().view(),
            );
            let _ = self.tx.try_send(WorkerMsg::Frame(frame));
        }
    }
}

impl Host for InterpHost<'_> {
    fn handle_eval_breaker(&mut self, instructions: u64) -> Result<(), VmError> {
        Ok(self.gil.handle_eval_breaker(
            self.job.worker,
            &mut self.rec,
            instructions,
            &mut self.ticker,
        )?)
    }

    fn tick(&mut self) {
        self.rec.tick();
    }

    fn begin_allow_threads(&mut self, why: Release) {
        self.gil.release(self.job.worker, &mut self.rec, why.into());
    }

    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(self.gil.take(self.job.worker, &mut self.rec)?)
    }

    fn on_state(&mut self, grid: &ArrayObj) -> Result<(), VmError> {
        self.steps += 1;
        self.report(grid);
        Ok(())
    }

    fn sleep(&mut self, secs: f64) -> Result<(), VmError> {
        sleep_cancellable(secs.clamp(0.0, 3600.0), || self.gil.is_cancelled())
    }

    fn write_stdout(&mut self, text: &str) {
        eprint!("[worker {}] {text}", self.job.worker);
    }
}

/// Sleeps `secs` (non-negative) in slices, ending early with `Cancelled` once `cancelled()`.
pub(super) fn sleep_cancellable(secs: f64, cancelled: impl Fn() -> bool) -> Result<(), VmError> {
    let mut left = Duration::from_secs_f64(secs.max(0.0));
    while !left.is_zero() {
        if cancelled() {
            return Err(VmError::Cancelled);
        }
        let d = left.min(SLEEP_SLICE);
        std::thread::sleep(d);
        left -= d;
    }
    Ok(())
}

/// Binds the parameter overrides in a namespace (after the module's top level ran).
pub fn apply_params(globals: &Globals, params: &[(String, WireValue)]) -> Result<(), EngineError> {
    for (name, w) in params {
        let v = w.unpack(globals)?;
        if !globals.set(name, v) {
            return Err(EngineError::Config(format!(
                "the program has no parameter {name}"
            )));
        }
    }
    Ok(())
}

/// Where a worker's module namespace comes from.
pub enum NamespaceSource {
    /// The process's namespace, shared with the other threads (threading mode).
    Shared(Arc<Globals>),
    /// A child process imports the program itself (its start is measured by the parent).
    OwnProcess,
    /// A new subinterpreter imports the program itself; its start is recorded as a span.
    OwnInterpreter,
}

/// Runs one worker on the interpreter, holding `gil` as the job's interpreter build would.
pub fn run_interpreted(
    job: &WorkerJob,
    gil: &Gil,
    namespace: NamespaceSource,
    tx: Sender<WorkerMsg>,
) -> Result<WorkerResult, EngineError> {
    let cpu0 = clock::thread_cpu_ns();
    // Objects this thread makes count their references as the job's interpreter does.
    set_thread_discipline(job.interpreter.refcount());
    let mut host = InterpHost {
        gil,
        job,
        rec: Recorder::new(job.worker, Some(Box::new(tx.clone()))),
        tx,
        steps: 0,
        last_report_ns: 0,
        ticker: Ticker::default(),
        unshown: None,
    };
    // A new thread takes the GIL before running any bytecode.
    gil.take(job.worker, &mut host.rec)?;
    // Everything that makes, copies or drops objects runs before the GIL is let go.
    let outcome = (|| -> Result<(WireValue, u64), EngineError> {
        let globals = match namespace {
            NamespaceSource::Shared(g) => g,
            NamespaceSource::OwnProcess | NamespaceSource::OwnInterpreter => {
                let start = matches!(namespace, NamespaceSource::OwnInterpreter);
                if start {
                    host.rec.enter(SpanState::Spawn);
                }
                let program = Program::load(&job.program)?;
                let g = program.new_globals();
                let mut vm = Vm::new(&mut host, gil.eval_breaker(), Arc::clone(&g));
                vm.run_module(&program.module.code)?;
                apply_params(&g, &job.params)?;
                if start {
                    host.rec.enter(SpanState::Python);
                }
                g
            }
        };
        let entry = program::function(&globals, &job.entry).ok_or_else(|| {
            EngineError::Config(format!("the program has no function {}", job.entry))
        })?;
        let args = job
            .args
            .iter()
            .map(|w| w.unpack(&globals))
            .collect::<Result<Vec<_>, _>>()?;
        let mut vm = Vm::new(&mut host, gil.eval_breaker(), globals);
        let r = vm.call_value(&Value::Function(entry), args);
        let n = vm.instructions();
        // The last state, so the grid shows where the run ended.
        if let Some(last) = vm.host().unshown.take() {
            vm.host().last_report_ns = 0;
            vm.host().report(&last);
        }
        Ok((WireValue::pack(&r?)?, n))
    })();
    if gil.holds(job.worker) {
        gil.drop_gil(job.worker, &mut host.rec, None, false);
    }
    let (returned, instructions) = outcome?;
    let _ = host.tx.try_send(WorkerMsg::Progress {
        worker: job.worker,
        iters_done: host.steps,
    });
    let (max_gil_wait_ns, gil_starvations) = (host.rec.max_gil_wait_ns(), host.rec.starvations());
    let (state_ns, dropped_spans) = host.rec.finish();
    let (pid, tid) = host.rec.ids();
    Ok(WorkerResult {
        worker: job.worker,
        pid,
        tid,
        problem_sums: Vec::new(),
        returned: Some(returned),
        steps: host.steps,
        state_ns: state_ns.to_vec(),
        instructions,
        cpu_ns: clock::thread_cpu_ns().saturating_sub(cpu0),
        dropped_spans,
        gil_switches: 0,
        gil_drop_requests: 0,
        gil_releases: 0,
        max_gil_wait_ns,
        gil_starvations,
    })
}

/// The host of the main thread, which runs the module's top level, `share` and `report` while
/// no worker runs: nothing to contend with, so no GIL and no trace.
pub struct MainHost {
    breaker: AtomicU32,
}

impl MainHost {
    /// A host for the main thread.
    pub fn new() -> Self {
        Self {
            breaker: AtomicU32::new(0),
        }
    }

    /// Runs `f` with an interpreter bound to `globals`.
    pub fn with_vm<R>(
        &mut self,
        globals: &Arc<Globals>,
        f: impl FnOnce(&mut Vm<'_, MainHostRef>) -> R,
    ) -> R {
        let mut h = MainHostRef;
        let mut vm = Vm::new(&mut h, &self.breaker, Arc::clone(globals));
        f(&mut vm)
    }
}

impl Default for MainHost {
    fn default() -> Self {
        Self::new()
    }
}

/// The [`Host`] of the main thread.
pub struct MainHostRef;

impl Host for MainHostRef {
    fn handle_eval_breaker(&mut self, _instructions: u64) -> Result<(), VmError> {
        Ok(())
    }
    fn tick(&mut self) {}
    fn begin_allow_threads(&mut self, _why: Release) {}
    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(())
    }
    fn on_state(&mut self, _grid: &ArrayObj) -> Result<(), VmError> {
        Ok(())
    }
    fn sleep(&mut self, secs: f64) -> Result<(), VmError> {
        sleep_cancellable(secs.clamp(0.0, 3600.0), || false)
    }
    fn write_stdout(&mut self, text: &str) {
        eprint!("{text}");
    }
}
