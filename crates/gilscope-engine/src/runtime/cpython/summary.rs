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

/// `gil_source` when the holder was read from the interpreter's memory.
pub(crate) const GIL_OBSERVED: &str = "observed";
/// `gil_source` of a free-threaded build (3.13t, 3.14t): there is no GIL to read.
pub(crate) const GIL_NONE: &str = "none";
/// `gil_source` when the GIL exists but could not be read (the reason says why).
pub(crate) const GIL_UNAVAILABLE: &str = "unavailable";

/// Where the GIL lane of a run comes from, and why not observed when it is not: a
/// free-threaded build has none (said plainly, never as a failure to read); a GIL build is
/// observed only when every process's holder was really read.
pub(crate) fn gil_source(
    gil_enabled: bool,
    read_all: bool,
    first_failure: Option<&str>,
) -> (&'static str, Option<String>) {
    if !gil_enabled {
        return (
            GIL_NONE,
            Some("free-threaded build: there is no GIL, threads run Python in parallel".to_owned()),
        );
    }
    if read_all {
        return (GIL_OBSERVED, None);
    }
    (
        GIL_UNAVAILABLE,
        Some(
            first_failure
                .unwrap_or("the GIL could not be read while the workers ran")
                .to_owned(),
        ),
    )
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
    let read_all =
        !p.gils.is_empty() && failures.is_empty() && p.gils.values().all(|g| g.first.is_some());
    let (source, reason) = gil_source(
        p.info.gil_enabled,
        read_all,
        failures.first().map(|w| w.as_str()),
    );
    if source == GIL_OBSERVED {
        s.gil_switches = p
            .gils
            .values()
            .map(|g| g.last - g.first.unwrap_or(g.last))
            .sum();
    }
    s.gil_source = Some(source.to_owned());
    s.gil_source_reason = reason;
    for (&pid, g) in p.gils {
        if let Some(u) = &g.unreadable {
            s.notes.push(u.note(pid, p.start));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_threaded_build_has_no_gil_rather_than_an_unread_one() {
        // 3.13t/3.14t: `sys._is_gil_enabled()` is False; nothing was read, nothing failed.
        let (source, why) = gil_source(false, false, None);
        assert_eq!(source, GIL_NONE);
        assert!(why.unwrap().starts_with("free-threaded build"));
        // Even a reader error is not the story there.
        assert_eq!(gil_source(false, false, Some("no layout")).0, GIL_NONE);
        assert_eq!(gil_source(true, true, None), (GIL_OBSERVED, None));
        let (source, why) = gil_source(true, false, Some("no layout for 3.12"));
        assert_eq!(source, GIL_UNAVAILABLE);
        assert_eq!(why.as_deref(), Some("no layout for 3.12"));
        assert!(gil_source(true, false, None).1.is_some());
    }
}
