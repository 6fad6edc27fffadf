//! What an emulated run adds up to: its summary from the coordinator's results and spans, the
//! GIL counters, the core samples, and the program's `report` (or heat's checksum).

use super::coordinator::{Coordinator, GilCounts};
use super::prepare::{Prepared, report};
use super::script::ScriptRun;
use super::wire::WorkerResult;
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::heat::workload;
use crate::program::WireValue;
use crate::trace::sampler::{self, CoreSample};
use crate::trace::spans::SpanState;
use crate::trace::summary::{RunSummary, WorkerSummary};

/// The run's summary; an error when a worker never reported its result.
pub(super) fn summarize(
    cfg: &RunConfig,
    prep: Option<&Prepared>,
    coord: &Coordinator,
    counts: GilCounts,
    cores: usize,
    wall_secs: f64,
    core_samples: &[CoreSample],
) -> Result<RunSummary, EngineError> {
    let mut summary = RunSummary::for_config(cfg);
    summary.wall_secs = wall_secs;
    summary.cores = cores;
    summary.core_busy = sampler::mean_busy(core_samples, cores);
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
        let problems = if prep.is_some() {
            if cfg.is_heat() {
                (r.steps / cfg.iters.max(1) as u64) as usize
            } else {
                0
            }
        } else {
            r.problem_sums.len()
        };
        summary.workers.push(worker_summary(coord, w, r, problems));
    }
    let result = match prep {
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
    Ok(summary)
}

/// One worker's line of the summary: its times by state, from its own recorder and from the
/// spans measured outside it (process start, the final transfer).
fn worker_summary(
    coord: &Coordinator,
    w: usize,
    r: &WorkerResult,
    problems: usize,
) -> WorkerSummary {
    let secs = |st: SpanState| r.state_ns.get(st as usize).copied().unwrap_or(0) as f64 / 1e9;
    let traced_secs = |st: SpanState| {
        coord
            .spans
            .iter()
            .filter(|s| s.worker as usize == w && s.state == st)
            .fold(0.0, |acc, s| acc + s.dur_ns() as f64 / 1e9)
    };
    WorkerSummary {
        id: w,
        pid: r.pid,
        tid: r.tid,
        cpu_secs: r.cpu_ns as f64 / 1e9,
        python_secs: secs(SpanState::Python),
        gil_wait_secs: secs(SpanState::GilWait),
        native_secs: secs(SpanState::Native),
        io_secs: secs(SpanState::Io),
        lock_wait_secs: secs(SpanState::LockWait),
        handoff_secs: 0.0,
        spawn_secs: traced_secs(SpanState::Spawn),
        ipc_secs: traced_secs(SpanState::Ipc),
        max_gil_wait_secs: r.max_gil_wait_ns as f64 / 1e9,
        instructions: r.instructions,
        problems,
        name: None,
    }
}

/// A script's summary: every thread it started as a worker, named as Python named it, and
/// what it printed with its exit status.
pub(super) fn summarize_script(
    cfg: &RunConfig,
    coord: &Coordinator,
    run: ScriptRun,
    cores: usize,
    wall_secs: f64,
    core_samples: &[CoreSample],
) -> RunSummary {
    let mut summary = RunSummary::for_config(cfg);
    summary.wall_secs = wall_secs;
    summary.cores = cores;
    summary.core_busy = sampler::mean_busy(core_samples, cores);
    summary.gil_switches = run.counts.switches;
    summary.gil_drop_requests = run.counts.drop_requests;
    summary.gil_releases = run.counts.releases;
    for (w, r) in coord.results.iter().enumerate() {
        let Some(r) = r else { continue };
        summary.gil_starvations += r.gil_starvations;
        summary.instructions += r.instructions;
        // A forked process reports its own GIL's counters (the script's threads report none).
        summary.gil_switches += r.gil_switches;
        summary.gil_drop_requests += r.gil_drop_requests;
        summary.gil_releases += r.gil_releases;
        let mut line = worker_summary(coord, w, r, 0);
        line.name = run.names.get(w).cloned();
        summary.workers.push(line);
    }
    summary.threads = summary.workers.len();
    summary.program = std::path::Path::new(&cfg.program)
        .file_stem()
        .map_or_else(|| cfg.program.clone(), |s| s.to_string_lossy().into_owned());
    summary.entry = String::new();
    summary.checksum = f64::NAN;
    summary.dropped_events = coord.dropped;
    summary.program_output = Some(run.output);
    summary.notes = run.notes;
    summary
}
