//! The emulated runtime: prepares a program, starts the workers of the chosen mode (threads,
//! child processes, subinterpreters or a native pool), gathers their spans, frames, progress and
//! results, and reports through the event sink.
//!
//! `prepare` readies the program, one module per mode starts its workers (`threading`,
//! `process` with its `protocol`, `interpreters`, `native`), each running `worker`;
//! they speak in the `wire` types to the `coordinator`, and `summarize` adds the run up.

mod coordinator;
mod fork;
mod forked_child;
mod interpreters;
mod native;
mod numba;
mod prepare;
pub mod process;
pub mod protocol;
mod script;
mod summarize;
mod threading;
mod wire;
mod worker;

use crate::config::{Mode, RunConfig};
use crate::error::EngineError;
use crate::heat::workload;
use crate::runtime::job::CancelToken;
use crate::runtime::start::announce_start;
use crate::trace::clock;
use crate::trace::events::EventSink;
use crate::trace::summary::RunOutcome;

pub(crate) use coordinator::{Coordinator, GilCounts, Workers};
pub use process::worker_main;
pub use wire::{
    ForkClass, ForkDef, ForkJob, ForkReply, ForkTask, RemoteError, RpcCall, RpcOutcome, RpcReply,
    ToChild, WorkerJob, WorkerMsg, WorkerResult,
};
pub use worker::{MainHost, NamespaceSource, run_interpreted};

/// Most spans one run keeps for its trace; more are counted as dropped.
pub const MAX_TRACE_SPANS: usize = 2_000_000;
/// Capacity of the channel from workers to the coordinator.
const WORKER_CHANNEL: usize = 4096;
/// How often the coordinator reports progress, in nanoseconds.
const PROGRESS_EVERY_NS: u64 = 50_000_000;
/// How often workers publish a grid frame, in nanoseconds.
pub const FRAME_EVERY_NS: u64 = 50_000_000;

/// Runs `cfg` in the emulation to its end (or to cancel), streaming to `sink`.
pub(crate) fn run_emulated(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    // validate() also refuses native mode for programs other than heat.py.
    cfg.validate()?;
    if cfg.is_script() {
        return run_script(run_id, cfg, sink, cancel);
    }
    let prep = if cfg.mode == Mode::Native {
        None
    } else {
        Some(prepare::prepare(cfg)?)
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

    let wall_secs = (end_ns - start_ns) as f64 / 1e9;
    let summary = summarize::summarize(
        cfg,
        prep.as_ref(),
        &coord,
        counts,
        cores,
        wall_secs,
        &core_samples,
    )?;
    Ok(outcome(&mut coord, summary, core_samples, start_ns, end_ns))
}

/// Runs a plain script as `python FILE` would, in threading mode (its own threads are the
/// workers).
fn run_script(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    if cfg.mode != Mode::Threading {
        return Err(EngineError::Config(format!(
            "{} is a plain script: the emulation runs it with the threads it starts itself \
             (--mode threading), not in --mode {}",
            cfg.program,
            cfg.mode.name()
        )));
    }
    let cores = clock::core_count();
    let start_ns = clock::now_ns();
    let sampler = announce_start(run_id, cfg, sink, cores, start_ns)?;
    let mut coord = Coordinator::new(run_id, cfg, sink);
    let run = script::run(cfg, &mut coord, cancel);
    let end_ns = clock::now_ns();
    let core_samples = sampler.stop();
    let run = run?;
    if let Some(err) = coord.failure.take() {
        return Err(err);
    }
    let wall_secs = (end_ns - start_ns) as f64 / 1e9;
    let summary = summarize::summarize_script(cfg, &coord, run, cores, wall_secs, &core_samples);
    Ok(outcome(&mut coord, summary, core_samples, start_ns, end_ns))
}

/// The run's outcome: its summary, the spans the coordinator kept (in time order) and the
/// core samples.
fn outcome(
    coord: &mut Coordinator<'_>,
    summary: crate::trace::summary::RunSummary,
    core_samples: Vec<crate::trace::sampler::CoreSample>,
    start_ns: u64,
    end_ns: u64,
) -> RunOutcome {
    let mut spans = std::mem::take(&mut coord.spans);
    spans.sort_by_key(|s| (s.start_ns, s.worker));
    RunOutcome {
        summary,
        spans,
        core_samples,
        start_ns,
        end_ns,
    }
}
