//! One interpreted worker: runs `calc` on the bytecode interpreter under a GIL, reporting spans,
//! frames and progress. Threading mode runs several in one process; each child process runs one.

use std::time::Duration;

use crossbeam_channel::Sender;

use super::{FRAME_EVERY_NS, WorkerJob, WorkerMsg, WorkerResult};
use crate::engine::clock;
use crate::engine::error::EngineError;
use crate::engine::events::GridFrame;
use crate::engine::gil::Gil;
use crate::engine::pyvm::programs::Program;
use crate::engine::pyvm::value::{ArrayObj, Value};
use crate::engine::pyvm::{Host, Vm, VmError};
use crate::engine::trace::{Recorder, SpanState};

struct InterpHost<'a> {
    gil: &'a Gil,
    job: &'a WorkerJob,
    rec: Recorder,
    tx: Sender<WorkerMsg>,
    problem_sums: Vec<(usize, f64)>,
    iter_in_problem: u32,
    iters_done: u64,
    last_report_ns: u64,
}

impl InterpHost<'_> {
    fn problem_index(&self) -> usize {
        self.job.first_problem + self.problem_sums.len()
    }

    fn report(&mut self, grid: &ArrayObj, force: bool) {
        let now = clock::now_ns();
        if !force && now.saturating_sub(self.last_report_ns) < FRAME_EVERY_NS {
            return;
        }
        self.last_report_ns = now;
        let _ = self.tx.try_send(WorkerMsg::Progress {
            worker: self.job.worker,
            iters_done: self.iters_done,
        });
        if self.job.publish_frames {
            let frame = grid.with_view(|v| {
                GridFrame::from_view(
                    self.job.worker as u32,
                    std::process::id(),
                    self.problem_index() as u32,
                    self.iter_in_problem,
                    v,
                )
            });
            let _ = self.tx.try_send(WorkerMsg::Frame(frame));
        }
    }
}

impl Host for InterpHost<'_> {
    fn handle_eval_breaker(&mut self) -> Result<(), VmError> {
        Ok(self
            .gil
            .handle_eval_breaker(self.job.worker, &mut self.rec)?)
    }

    fn tick(&mut self) {
        self.rec.tick();
    }

    fn begin_allow_threads(&mut self, state: SpanState) {
        self.gil.release(self.job.worker, &mut self.rec, state);
    }

    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(self.gil.take(self.job.worker, &mut self.rec)?)
    }

    fn on_iteration(&mut self, grid: &ArrayObj) -> Result<(), VmError> {
        self.iters_done += 1;
        self.iter_in_problem += 1;
        self.report(grid, false);
        Ok(())
    }

    fn on_problem_done(&mut self, grid: &ArrayObj) -> Result<(), VmError> {
        let k = self.problem_index();
        self.problem_sums.push((k, grid.sum()));
        self.iter_in_problem = 0;
        Ok(())
    }

    fn io_wait(&mut self) -> Result<(), VmError> {
        let mut left = Duration::from_micros(self.job.io_wait_micros);
        let slice = Duration::from_millis(10);
        while !left.is_zero() {
            if self.gil.is_cancelled() {
                return Err(VmError::Cancelled);
            }
            let d = left.min(slice);
            std::thread::sleep(d);
            left -= d;
        }
        Ok(())
    }
}

/// Runs one worker's problems on the interpreter, holding `gil` as CPython would.
pub fn run_interpreted(
    job: &WorkerJob,
    gil: &Gil,
    tx: Sender<WorkerMsg>,
) -> Result<WorkerResult, EngineError> {
    let cpu0 = clock::thread_cpu_ns();
    let program = Program::new();
    let mut host = InterpHost {
        gil,
        job,
        rec: Recorder::new(job.worker, Some(tx.clone())),
        tx,
        problem_sums: Vec::with_capacity(job.ics.len()),
        iter_in_problem: 0,
        iters_done: 0,
        last_report_ns: 0,
    };
    // A new thread takes the GIL before running any bytecode.
    gil.take(job.worker, &mut host.rec)?;
    let update = Value::Function(program.update_fn(job.kernel));
    let args = vec![
        Value::Int(job.grid as i64),
        Value::Int(job.iters as i64),
        update,
        Value::float_tuple(&job.ics),
    ];
    let mut vm = Vm::new(&mut host, gil.eval_breaker(), program.globals());
    let result = vm.call(&program.calc, args);
    let instructions = vm.instructions();
    drop(vm);
    if gil.holds(job.worker) {
        gil.drop_gil(job.worker, &mut host.rec, None, false);
    }
    result?;
    let _ = host.tx.try_send(WorkerMsg::Progress {
        worker: job.worker,
        iters_done: host.iters_done,
    });
    let (state_ns, dropped_spans) = host.rec.finish();
    let (pid, tid) = host.rec.ids();
    Ok(WorkerResult {
        worker: job.worker,
        pid,
        tid,
        problem_sums: host.problem_sums,
        state_ns: state_ns.to_vec(),
        instructions,
        cpu_ns: clock::thread_cpu_ns().saturating_sub(cpu0),
        dropped_spans,
        gil_switches: 0,
        gil_drop_requests: 0,
    })
}
