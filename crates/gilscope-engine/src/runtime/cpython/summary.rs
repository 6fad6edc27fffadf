//! What an observed run adds up to: per-worker times from the watched states, the GIL's
//! holders and switches where memory could be read, and the observer's own cost.

use std::collections::{BTreeMap, HashMap};

use super::probe::PythonInfo;
use crate::build::Build;
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::trace::sampler;
use crate::trace::spans::{Span, SpanState};
use crate::trace::summary::{ObserverCost, ProgramOutput, RunOutcome, RunSummary, WorkerSummary};

use super::watch::{ProcGil, Watched};

/// Everything an observed run's summary is made of.
pub(super) struct SummaryParts<'a> {
    pub(super) cfg: &'a RunConfig,
    pub(super) info: &'a PythonInfo,
    /// The program's name (a bundled program's, or the file's stem).
    pub(super) program_name: String,
    /// The worker function of a gilscope program; empty for a script.
    pub(super) entry: String,
    /// Python's names of the threads, by (pid, tid), where the start-up hook reported them.
    pub(super) names: &'a HashMap<(u32, u32), String>,
    /// A script's output and exit status.
    pub(super) output: Option<ProgramOutput>,
    pub(super) result: serde_json::Value,
    pub(super) workers: &'a [Option<Watched>],
    pub(super) gils: &'a BTreeMap<u32, ProcGil>,
    pub(super) spans: Vec<Span>,
    pub(super) core_samples: Vec<crate::trace::sampler::CoreSample>,
    pub(super) cores: usize,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) observer_cpu_ns: u64,
    pub(super) observed_secs: f64,
    pub(super) intervals: Vec<u64>,
}

/// The run's outcome: its summary, its spans sorted by start, its core samples.
pub(super) fn summarize(p: SummaryParts<'_>) -> Result<RunOutcome, EngineError> {
    let mut s = RunSummary::for_config(p.cfg);
    s.program = p.program_name;
    s.entry = p.entry;
    s.program_output = p.output;
    if s.program_output.is_some() {
        // A script starts its own threads: its settings are not gilscope's.
        s.mode = None;
        s.kernel = None;
        s.threads = p.workers.len();
    }
    s.wall_secs = (p.end - p.start) as f64 / 1e9;
    s.cores = p.cores;
    s.core_busy = sampler::mean_busy(&p.core_samples, p.cores);
    s.checksum = p.result["checksum"].as_f64().unwrap_or(f64::NAN);
    s.result = p.result;
    s.python_version = Some(p.info.version_string());
    s.python_gil_enabled = Some(p.info.gil_enabled);
    if !p.info.gil_enabled {
        s.interpreter = Build::FreeThreaded;
        s.gil_enabled = false;
    }
    let failures: Vec<&String> = p
        .gils
        .values()
        .filter_map(|g| g.reader.as_ref().err())
        .collect();
    let observed =
        !p.gils.is_empty() && failures.is_empty() && p.gils.values().all(|g| g.first.is_some());
    if observed {
        s.gil_source = Some("observed".to_owned());
        s.gil_switches = p
            .gils
            .values()
            .map(|g| g.last - g.first.unwrap_or(g.last))
            .sum();
    } else {
        s.gil_source = Some("unavailable".to_owned());
        s.gil_source_reason = Some(match failures.first() {
            Some(why) => (*why).clone(),
            None => "the GIL could not be read while the workers ran".to_owned(),
        });
    }
    for (k, w) in p.workers.iter().enumerate() {
        let Some(w) = w else {
            return Err(EngineError::Worker {
                worker: k,
                pid: 0,
                message: "the program never started this worker (was it run by gilscope's driver?)"
                    .to_owned(),
            });
        };
        let secs = |st: SpanState| w.state_ns[st as usize] as f64 / 1e9;
        s.workers.push(WorkerSummary {
            id: k,
            pid: w.pid,
            tid: w.tid,
            cpu_secs: w.on_cpu_ns as f64 / 1e9,
            python_secs: secs(SpanState::Python) + secs(SpanState::OnCpu),
            gil_wait_secs: secs(SpanState::GilWait),
            native_secs: secs(SpanState::Native),
            io_secs: secs(SpanState::Io) + secs(SpanState::Sleeping),
            lock_wait_secs: secs(SpanState::LockWait),
            handoff_secs: secs(SpanState::Handoff),
            spawn_secs: secs(SpanState::Spawn),
            ipc_secs: 0.0,
            max_gil_wait_secs: 0.0,
            instructions: 0,
            problems: 0,
            name: p.names.get(&(w.pid, w.tid)).cloned(),
        });
    }
    let mut intervals = p.intervals;
    intervals.sort_unstable();
    let observed = p.observed_secs.max(1e-9);
    s.observer = Some(ObserverCost {
        samples: intervals.len() as u64 + 1,
        median_interval_micros: intervals
            .get(intervals.len() / 2)
            .map_or(0.0, |&n| n as f64 / 1e3),
        cpu_secs: p.observer_cpu_ns as f64 / 1e9,
        cpu_share: p.observer_cpu_ns as f64 / 1e9 / observed,
    });
    let mut spans = p.spans;
    spans.sort_by_key(|s| (s.start_ns, s.worker));
    Ok(RunOutcome {
        summary: s,
        spans,
        core_samples: p.core_samples,
        start_ns: p.start,
        end_ns: p.end,
    })
}
