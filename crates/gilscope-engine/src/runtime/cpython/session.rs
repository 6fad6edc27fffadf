//! One observed run of a real CPython (Linux): launch it, follow its workers at 1 kHz, turn the
//! samples into spans as they come, and kill the group if the run is cancelled or gilscope gives
//! up on it.

use std::collections::BTreeMap;

use super::procfs::ThreadFiles;
use crate::config::{Mode, RunConfig};
use crate::error::EngineError;
use crate::runtime::job::CancelToken;
use crate::runtime::start::announce_start;
use crate::trace::clock;
use crate::trace::events::EventSink;
use crate::trace::spans::{NO_CPU, Span, SpanState};
use crate::trace::summary::RunOutcome;

use super::launch::{Announce, Launched, Readers, launch};
use super::summary::{SummaryParts, summarize};
use super::watch::{ProcGil, Ticks, Watched, read_gils, sample_all};

/// Runs and observes one configuration.
pub fn run(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    let Launched {
        info,
        program,
        mut target,
        readers,
        _scratch,
    } = launch(run_id, cfg)?;
    let pgid = target.pgid;
    let Readers {
        stdout,
        stderr,
        announces,
        tail,
    } = readers;
    let cores = clock::core_count();
    let spawned_ns = clock::now_ns();
    let core_sampler = announce_start(run_id, cfg, sink, cores, spawned_ns)?;

    let observer_cpu0 = clock::thread_cpu_ns();
    let mut workers: Vec<Option<Watched>> = (0..cfg.threads).map(|_| None).collect();
    let mut gils: BTreeMap<u32, ProcGil> = BTreeMap::new();
    let (mut start_ns, mut end_ns) = (None, None);
    let mut spans: Vec<Span> = Vec::new();
    let mut ticks = Ticks::start();
    let exit = loop {
        if cancel.is_cancelled() {
            target.kill();
            return Err(EngineError::Cancelled);
        }
        while let Ok(a) = announces.try_recv() {
            match a {
                Announce::Start { start_ns: t, .. } => start_ns = Some(t),
                Announce::End { end_ns: t } => end_ns = Some(t),
                Announce::Worker { worker, pid, tid } => {
                    let Some(slot) = workers.get_mut(worker) else {
                        continue;
                    };
                    let mut files = ThreadFiles::open(pid, tid).ok();
                    let now = clock::now_ns();
                    let syscall_readable = files.as_mut().is_some_and(|f| f.can_read_syscall());
                    let alive = files.is_some();
                    let mut w = Watched {
                        worker: worker as u32,
                        pid,
                        tid,
                        files,
                        open: None,
                        last_ns: now,
                        state_ns: [0; SpanState::COUNT],
                        on_cpu_ns: 0,
                        on_cpu_base_ns: 0,
                        alive,
                        syscall_readable,
                        asleep: None,
                        children_at_cpu_ns: None,
                        stopped_ns: 0,
                    };
                    // A child process's start: from the driver's start to its announcement.
                    if cfg.mode == Mode::Multiprocessing
                        && let Some(t0) = start_ns
                    {
                        w.open = Some((SpanState::Spawn, t0.min(now), NO_CPU));
                        w.close(now, &mut spans);
                    }
                    *slot = Some(w);
                    gils.entry(pid)
                        .or_insert_with(|| ProcGil::open(pid, info.gil_enabled, info.minor()));
                }
            }
        }
        let now = clock::now_ns();
        read_gils(&mut gils, now);
        sample_all(&mut workers, &gils, now, &mut spans);
        ticks.tick(now, run_id, sink, &spans);
        match target.child.try_wait() {
            Ok(Some(status)) => {
                target.done = true;
                break status;
            }
            Ok(None) => {}
            Err(e) => return Err(EngineError::io("lost the Python child", e)),
        }
        ticks.sleep();
    };
    let observer_cpu_ns = clock::thread_cpu_ns().saturating_sub(observer_cpu0);
    let final_ns = clock::now_ns();
    let observed_secs = (final_ns - spawned_ns) as f64 / 1e9;
    for w in workers.iter_mut().flatten().filter(|w| w.alive) {
        w.finish(&mut spans);
    }
    let core_samples = core_sampler.stop();
    let (out, _) = stdout.join().unwrap_or_default();
    let out = String::from_utf8_lossy(&out);
    let _ = stderr.join();
    let stderr_tail = tail.lock().map(|t| t.clone()).unwrap_or_default();
    if !exit.success() {
        let last = stderr_tail.trim().lines().last().unwrap_or("").to_owned();
        return Err(EngineError::Worker {
            worker: 0,
            pid: pgid as u32,
            message: format!(
                "{} {} exited ({exit}){}",
                info.executable,
                program.file,
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            ),
        });
    }
    let result = out
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v.get("result").cloned())
        .ok_or_else(|| EngineError::Worker {
            worker: 0,
            pid: pgid as u32,
            message: format!("{} printed no result line", program.file),
        })?;
    ticks.flush(run_id, sink, &spans);
    let start = start_ns.unwrap_or(spawned_ns);
    let end = end_ns.unwrap_or(final_ns).max(start);
    summarize(SummaryParts {
        cfg,
        info: &info,
        program_name: program.name.clone(),
        entry: cfg
            .entry
            .clone()
            .or_else(|| program.default_entry())
            .unwrap_or_default(),
        names: &std::collections::HashMap::new(),
        output: None,
        result,
        workers: &workers,
        gils: &gils,
        spans,
        core_samples,
        cores,
        start,
        end,
        observer_cpu_ns,
        observed_secs,
        intervals: ticks.intervals,
    })
}
