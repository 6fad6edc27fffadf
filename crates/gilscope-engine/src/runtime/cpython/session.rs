//! One observed run of a real CPython (Linux): start it in its own process group, follow its
//! workers at 1 kHz, turn the samples into spans, and kill the group if the run is cancelled
//! or gilscope gives up on it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, bounded};
use serde::Deserialize;

use super::gil_reader::{GilReader, GilState};
use super::probe::PythonInfo;
use super::procfs::{SYS_FUTEX, Sample, ThreadFiles};
use crate::build::Build;
use crate::config::{Mode, RunConfig};
use crate::error::EngineError;
use crate::program::{DRIVER_SOURCE, Program};
use crate::runtime::CancelToken;
use crate::runtime::start::{announce_start, param_overrides};
use crate::trace::clock;
use crate::trace::events::{EngineEvent, EventSink};
use crate::trace::sampler;
use crate::trace::spans::{NO_CPU, Span, SpanState};
use crate::trace::summary::{ObserverCost, RunOutcome, RunSummary, WorkerSummary};

/// How often every worker is sampled.
const PERIOD_NS: u64 = 1_000_000;
/// How often spans go to the sink.
const FLUSH_EVERY_NS: u64 = 50_000_000;
/// How much of the program's stderr is kept for an error message.
const STDERR_KEEP_BYTES: usize = 4096;
/// Largest stdout kept (the program prints one JSON line).
const STDOUT_KEEP_BYTES: usize = 1 << 20;

/// A line the driver prints on stderr when gilscope observes it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Announce {
    Worker { worker: usize, pid: u32, tid: u32 },
    Start { start_ns: u64 },
    End { end_ns: u64 },
}

/// A fresh folder holding the program and the driver, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(run_id: u64) -> Result<Scratch, EngineError> {
        let dir =
            std::env::temp_dir().join(format!("gilscope-cpython-{}-{run_id}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir)
            .map_err(|e| EngineError::io(format!("cannot create {}", dir.display()), e))?;
        Ok(Scratch(dir))
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, EngineError> {
        let p = self.0.join(name);
        std::fs::write(&p, text)
            .map_err(|e| EngineError::io(format!("cannot write {}", p.display()), e))?;
        Ok(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Python child and its process group, killed unless it ended by itself.
struct Target {
    child: Child,
    pgid: i32,
    done: bool,
}

impl Target {
    fn kill(&mut self) {
        if !self.done {
            // SAFETY: killpg only sends a signal; the group is the child's own (process_group(0)).
            unsafe {
                libc::killpg(self.pgid, libc::SIGKILL);
            }
            let _ = self.child.wait();
            self.done = true;
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One worker as observed.
struct Watched {
    worker: u32,
    pid: u32,
    tid: u32,
    /// `None` when the thread had already ended before it could be opened (a run shorter than
    /// the sampling period): it counts as a worker with nothing observed.
    files: Option<ThreadFiles>,
    open: Option<(SpanState, u64, u32)>,
    last_ns: u64,
    state_ns: [u64; SpanState::COUNT],
    on_cpu_ns: u64,
    alive: bool,
    syscall_readable: bool,
}

/// One process's GIL as observed.
struct ProcGil {
    reader: Result<GilReader, String>,
    first: Option<u64>,
    last: u64,
    now: Option<GilState>,
}

fn check_config(cfg: &RunConfig) -> Result<(), EngineError> {
    if !matches!(cfg.mode, Mode::Threading | Mode::Multiprocessing) {
        return Err(EngineError::Config(format!(
            "--runtime cpython runs threading and multiprocessing; {} mode is the emulation's",
            cfg.mode
        )));
    }
    if cfg.interpreter != Build::Gil {
        return Err(EngineError::Config(
            "--interpreter picks a build of the emulation; for a real free-threaded CPython pass \
             --python python3.13t"
                .to_owned(),
        ));
    }
    if !std::path::Path::new("/proc/self/task").is_dir() {
        return Err(EngineError::Config(
            "the cpython runtime needs /proc, which this system does not have".to_owned(),
        ));
    }
    Ok(())
}

/// The threads reading the child's pipes, and what they deliver.
struct Readers {
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<()>,
    announces: Receiver<Announce>,
    tail: Arc<Mutex<String>>,
}

fn spawn_readers(child: &mut Child) -> Result<Readers, EngineError> {
    let (mut out, err) = match (child.stdout.take(), child.stderr.take()) {
        (Some(o), Some(e)) => (o, e),
        _ => {
            return Err(EngineError::Internal(
                "the Python child has no pipes".to_owned(),
            ));
        }
    };
    let stdout = std::thread::Builder::new()
        .name("gilscope-cpython-out".to_owned())
        .spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut out)
                .take(STDOUT_KEEP_BYTES as u64)
                .read_to_end(&mut buf);
            // Drain the rest so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut out, &mut std::io::sink());
            String::from_utf8_lossy(&buf).into_owned()
        })
        .map_err(|e| EngineError::io("could not start a pipe reader", e))?;
    let (tx, rx) = bounded(1024);
    let tail = Arc::new(Mutex::new(String::new()));
    let tail2 = Arc::clone(&tail);
    let stderr = std::thread::Builder::new()
        .name("gilscope-cpython-err".to_owned())
        .spawn(move || {
            let mut r = BufReader::new(err);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                match line.strip_prefix("gilscope:").map(serde_json::from_str) {
                    Some(Ok(a)) => {
                        let _ = tx.send(a);
                    }
                    _ => {
                        if let Ok(mut t) = tail2.lock() {
                            t.push_str(&line);
                            if t.len() > STDERR_KEEP_BYTES {
                                let cut = t.len() - STDERR_KEEP_BYTES;
                                let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i));
                                t.drain(..cut.unwrap_or(0));
                            }
                        }
                    }
                }
                line.clear();
            }
        })
        .map_err(|e| EngineError::io("could not start a pipe reader", e))?;
    Ok(Readers {
        stdout,
        stderr,
        announces: rx,
        tail,
    })
}

/// What a sample means, given the GIL (`None`: not observable) and the system call.
fn classify(s: Sample, tid: u32, gil: Option<Option<u32>>, syscall: Option<i64>) -> SpanState {
    let running = s.state == b'R';
    match gil {
        Some(holder) if holder == Some(tid) => SpanState::Python,
        Some(_) if running => SpanState::Native,
        // A worker asleep on a futex waits for a lock: the GIL, which may be free for an
        // instant while the waiter is being woken.
        Some(_) => match syscall {
            Some(SYS_FUTEX) => SpanState::GilWait,
            Some(_) => SpanState::Io,
            None => SpanState::Sleeping,
        },
        None if running => SpanState::OnCpu,
        None => SpanState::Sleeping,
    }
}

impl Watched {
    fn close(&mut self, at_ns: u64, out: &mut Vec<Span>) {
        if let Some((state, start, cpu)) = self.open.take() {
            let end = at_ns.max(start);
            self.state_ns[state as usize] += end - start;
            out.push(Span {
                start_ns: start,
                end_ns: end,
                pid: self.pid,
                tid: self.tid,
                worker: self.worker,
                cpu,
                state,
            });
        }
    }

    fn observe(&mut self, state: SpanState, cpu: u32, now: u64, out: &mut Vec<Span>) {
        let cpu = if state.uses_cpu() { cpu } else { NO_CPU };
        match self.open {
            Some((s, _, c)) if s == state && c == cpu => {}
            _ => {
                self.close(now, out);
                self.open = Some((state, now, cpu));
            }
        }
        self.last_ns = now;
    }
}

fn sleep_until(t_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (t_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (t_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: a plain absolute sleep on the monotonic clock; `ts` outlives the call.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        );
    }
}

/// A started Python child with its pipe readers and the files it runs from.
struct Launched {
    info: PythonInfo,
    program: Program,
    // Dropped after `target`: the files outlive the process that reads them.
    target: Target,
    readers: Readers,
    _scratch: Scratch,
}

/// Checks the configuration, writes the program and the driver into a fresh folder and starts
/// the Python on them in its own process group.
fn launch(run_id: u64, cfg: &RunConfig) -> Result<Launched, EngineError> {
    check_config(cfg)?;
    cfg.validate()?;
    let (info, program) = super::probe::preflight(cfg)?;
    let scratch = Scratch::new(run_id)?;
    scratch.write("gilscope_driver.py", DRIVER_SOURCE)?;
    let file = scratch.write(&format!("{}.py", program.name), &program.source)?;
    let mut args: Vec<String> = vec![
        file.display().to_string(),
        "--mode".to_owned(),
        cfg.mode.name().to_owned(),
        "--threads".to_owned(),
        cfg.threads.to_string(),
        "--switch-interval-ms".to_owned(),
        format!("{}", cfg.switch_interval_ms()),
    ];
    if let Some(e) = &cfg.entry {
        args.extend(["--entry".to_owned(), e.clone()]);
    }
    for (n, v) in param_overrides(cfg) {
        args.extend(["--param".to_owned(), format!("{n}={v}")]);
    }
    let child = Command::new(&info.executable)
        .args(&args)
        .current_dir(&scratch.0)
        .env("GILSCOPE_ANNOUNCE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| EngineError::Spawn {
            exe: info.executable.clone(),
            source,
        })?;
    let pgid = child.id() as i32;
    let mut target = Target {
        child,
        pgid,
        done: false,
    };
    let readers = spawn_readers(&mut target.child)?;
    Ok(Launched {
        info,
        program,
        target,
        readers,
        _scratch: scratch,
    })
}

/// The workers' wall time of `cfg` on the real CPython with nobody watching (the driver's own
/// start and end instants): the baseline of the observer's cost.
pub fn unobserved_wall_secs(run_id: u64, cfg: &RunConfig) -> Result<f64, EngineError> {
    let mut l = launch(run_id, cfg)?;
    let status = l
        .target
        .child
        .wait()
        .map_err(|e| EngineError::io("lost the Python child", e))?;
    l.target.done = true;
    let _ = l.readers.stderr.join();
    let (mut start, mut end) = (None, None);
    while let Ok(a) = l.readers.announces.try_recv() {
        match a {
            Announce::Start { start_ns } => start = Some(start_ns),
            Announce::End { end_ns } => end = Some(end_ns),
            Announce::Worker { .. } => {}
        }
    }
    match (status.success(), start, end) {
        (true, Some(a), Some(b)) => Ok(b.saturating_sub(a) as f64 / 1e9),
        _ => Err(EngineError::Worker {
            worker: 0,
            pid: l.target.pgid as u32,
            message: format!("{} did not finish cleanly ({status})", l.program.file),
        }),
    }
}

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
    let mut unsent = 0usize;
    let mut last_flush = spawned_ns;
    let mut intervals: Vec<u64> = Vec::new();
    let mut prev_tick = 0u64;
    let mut next = clock::now_ns() + PERIOD_NS;
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
                        alive,
                        syscall_readable,
                    };
                    // A child process's start: from the driver's start to its announcement.
                    if cfg.mode == Mode::Multiprocessing
                        && let Some(t0) = start_ns
                    {
                        w.open = Some((SpanState::Spawn, t0.min(now), NO_CPU));
                        w.close(now, &mut spans);
                    }
                    *slot = Some(w);
                    gils.entry(pid).or_insert_with(|| ProcGil {
                        reader: if info.gil_enabled {
                            GilReader::open(pid, info.minor())
                        } else {
                            Err("a free-threaded build has no GIL".to_owned())
                        },
                        first: None,
                        last: 0,
                        now: None,
                    });
                }
            }
        }
        let now = clock::now_ns();
        for g in gils.values_mut() {
            g.now = g.reader.as_ref().ok().and_then(|r| r.read().ok());
            if let Some(st) = g.now {
                g.first.get_or_insert(st.switch_number);
                g.last = st.switch_number;
            }
        }
        for slot in workers.iter_mut() {
            let Some(w) = slot.as_mut().filter(|w| w.alive) else {
                continue;
            };
            let Some(files) = w.files.as_mut() else {
                continue;
            };
            match files.sample() {
                Some(s) => {
                    let gil = gils.get(&w.pid).and_then(|g| g.now).map(|g| g.holder_tid);
                    let sys = (s.state != b'R' && w.syscall_readable)
                        .then(|| files.syscall())
                        .flatten();
                    if let Some(ns) = files.on_cpu_ns() {
                        w.on_cpu_ns = ns;
                    }
                    let state = classify(s, w.tid, gil, sys);
                    w.observe(state, s.cpu, now, &mut spans);
                }
                None => {
                    w.alive = false;
                    w.close(w.last_ns, &mut spans);
                }
            }
        }
        if prev_tick != 0 {
            intervals.push(now - prev_tick);
        }
        prev_tick = now;
        if let Some(sink) = sink
            && now.saturating_sub(last_flush) >= FLUSH_EVERY_NS
            && spans.len() > unsent
        {
            sink.send(EngineEvent::Spans {
                run_id,
                spans: spans[unsent..].to_vec(),
            });
            unsent = spans.len();
            last_flush = now;
        }
        match target.child.try_wait() {
            Ok(Some(status)) => {
                target.done = true;
                break status;
            }
            Ok(None) => {}
            Err(e) => return Err(EngineError::io("lost the Python child", e)),
        }
        sleep_until(next);
        next += PERIOD_NS;
        let t = clock::now_ns();
        if next < t {
            next = t + PERIOD_NS;
        }
    };
    let observer_cpu_ns = clock::thread_cpu_ns().saturating_sub(observer_cpu0);
    let final_ns = clock::now_ns();
    let observed_secs = (final_ns - spawned_ns) as f64 / 1e9;
    for w in workers.iter_mut().flatten().filter(|w| w.alive) {
        w.close(w.last_ns, &mut spans);
    }
    let core_samples = core_sampler.stop();
    let out = stdout.join().unwrap_or_default();
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
    if let Some(sink) = sink
        && spans.len() > unsent
    {
        sink.send(EngineEvent::Spans {
            run_id,
            spans: spans[unsent..].to_vec(),
        });
    }
    let start = start_ns.unwrap_or(spawned_ns);
    let end = end_ns.unwrap_or(final_ns).max(start);
    summarize(SummaryParts {
        cfg,
        info: &info,
        program: &program,
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
        intervals,
    })
}

struct SummaryParts<'a> {
    cfg: &'a RunConfig,
    info: &'a PythonInfo,
    program: &'a Program,
    result: serde_json::Value,
    workers: &'a [Option<Watched>],
    gils: &'a BTreeMap<u32, ProcGil>,
    spans: Vec<Span>,
    core_samples: Vec<crate::trace::sampler::CoreSample>,
    cores: usize,
    start: u64,
    end: u64,
    observer_cpu_ns: u64,
    observed_secs: f64,
    intervals: Vec<u64>,
}

fn summarize(p: SummaryParts<'_>) -> Result<RunOutcome, EngineError> {
    let mut s = RunSummary::for_config(p.cfg);
    s.program = p.program.name.clone();
    s.entry = p
        .cfg
        .entry
        .clone()
        .or_else(|| p.program.default_entry())
        .unwrap_or_default();
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
            spawn_secs: secs(SpanState::Spawn),
            ipc_secs: 0.0,
            max_gil_wait_secs: 0.0,
            instructions: 0,
            problems: 0,
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
    fn samples_are_classified_without_guessing() {
        let run = Sample {
            state: b'R',
            cpu: 1,
        };
        let sleep = Sample {
            state: b'S',
            cpu: 1,
        };
        assert_eq!(classify(run, 7, Some(Some(7)), None), SpanState::Python);
        assert_eq!(classify(run, 7, Some(Some(8)), None), SpanState::Native);
        assert_eq!(classify(run, 7, Some(None), None), SpanState::Native);
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some(SYS_FUTEX)),
            SpanState::GilWait
        );
        assert_eq!(classify(sleep, 7, Some(Some(8)), Some(0)), SpanState::Io);
        assert_eq!(classify(sleep, 7, Some(Some(8)), None), SpanState::Sleeping);
        // Without the GIL nothing is called Python or a GIL wait.
        assert_eq!(classify(run, 7, None, None), SpanState::OnCpu);
        assert_eq!(
            classify(sleep, 7, None, Some(SYS_FUTEX)),
            SpanState::Sleeping
        );
    }

    #[test]
    fn announcements_parse() {
        let w: Announce = serde_json::from_str(r#"{"worker": 1, "pid": 5, "tid": 6}"#).unwrap();
        assert!(matches!(
            w,
            Announce::Worker {
                worker: 1,
                pid: 5,
                tid: 6
            }
        ));
        let s: Announce = serde_json::from_str(r#"{"start_ns": 9, "pid": 5}"#).unwrap();
        assert!(matches!(s, Announce::Start { start_ns: 9, .. }));
        let e: Announce = serde_json::from_str(r#"{"end_ns": 10}"#).unwrap();
        assert!(matches!(e, Announce::End { end_ns: 10 }));
    }
}
