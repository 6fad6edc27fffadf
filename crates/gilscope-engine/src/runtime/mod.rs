//! The runtimes a run can use, and what they share: [`emulated`] (gilscope's VM under an
//! emulated GIL, in threads, child processes, subinterpreters or a native pool) and [`cpython`]
//! (the user's python, observed from outside). This room owns the dispatch between them, run
//! ids, cancel tokens and background jobs ([`job`]), and the start every runtime announces
//! ([`start`]).

pub mod cpython;
pub mod emulated;
pub mod job;
pub mod start;

use crate::config::{RunConfig, Runtime};
use crate::error::EngineError;
use crate::trace::events::{EngineEvent, EventSink};
use crate::trace::host_load;
use crate::trace::summary::RunOutcome;

pub use job::{CancelToken, RunHandle, next_run_id, spawn_job};

/// Runs one configuration to the end on the calling thread, reporting to `sink` if given.
pub fn run_blocking(
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    let run_id = next_run_id();
    let before = host_load::sample();
    let result = cfg.with_heat_params().and_then(|cfg| match cfg.runtime {
        Runtime::Emulated => emulated::run_emulated(run_id, &cfg, sink, cancel),
        Runtime::Cpython => cpython::run_cpython(run_id, &cfg, sink, cancel),
    });
    let result = result.map(|mut outcome| {
        outcome.summary.params = cfg.params.clone();
        outcome
    });
    finish(run_id, sink, with_host_load(before, result))
}

/// The outcome with what the host process and other programs used meanwhile.
fn with_host_load(
    before: Option<host_load::HostLoad>,
    result: Result<RunOutcome, EngineError>,
) -> Result<RunOutcome, EngineError> {
    result.map(|mut outcome| {
        host_load::attribute(before, host_load::sample(), &mut outcome.summary);
        outcome
    })
}

/// Watches the running Python `pid` on the calling thread until `duration_secs` pass, it
/// exits, or `cancel` (which detaches: the summary of what was seen still comes), reporting to
/// `sink` as a run does.
pub fn attach_blocking(
    pid: u32,
    duration_secs: f64,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    let run_id = next_run_id();
    let before = host_load::sample();
    let result = cpython::attach(run_id, pid, duration_secs, sink, cancel);
    finish(run_id, sink, with_host_load(before, result))
}

/// Tells `sink` how run `run_id` ended, and hands the result on.
fn finish(
    run_id: u64,
    sink: Option<&EventSink>,
    result: Result<RunOutcome, EngineError>,
) -> Result<RunOutcome, EngineError> {
    if let Some(sink) = sink {
        match &result {
            Ok(outcome) => sink.send(EngineEvent::RunFinished {
                run_id,
                summary: Box::new(outcome.summary.clone()),
            }),
            Err(e) => sink.send(EngineEvent::RunFailed {
                run_id,
                error: e.to_string(),
                cancelled: matches!(e, EngineError::Cancelled),
            }),
        }
    }
    result
}

/// Starts a run on a named background thread; its events go to `sink`.
pub fn start_run(cfg: RunConfig, sink: EventSink) -> Result<RunHandle, EngineError> {
    spawn_job("gilscope-run", move |cancel| {
        let _ = run_blocking(&cfg, Some(&sink), &cancel);
    })
}
