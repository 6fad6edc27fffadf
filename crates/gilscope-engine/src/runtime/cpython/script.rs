//! A plain script on the real CPython, run as `python FILE` would run it (its own `__main__`,
//! working folder, environment and output) and observed from outside: every thread and child
//! process it starts is found in `/proc` as it appears and becomes a worker lane, named as Python
//! names it by a start-up hook on the child's path that changes nothing the program sees.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use serde::Deserialize;

use super::command::PythonCommand;
use super::launch::{Scratch, Target, capture, spawn_in_group};
use super::probe::{PythonInfo, probe};
use super::procfs::{ThreadFiles, task_ids};
use super::summary::{SummaryParts, summarize};
use super::thread_names::{NamesWanted, ProcessNames};
use super::watch::{ProcGil, Ticks, Watched, read_gils, sample_all};
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::runtime::job::CancelToken;
use crate::runtime::start::announce_start;
use crate::trace::clock;
use crate::trace::events::EventSink;
use crate::trace::spans::{Span, SpanState};
use crate::trace::summary::{ProgramOutput, RunOutcome};

/// The start-up hook, written as `sitecustomize.py` into a folder on the child's path.
const HOOK_SOURCE: &str = include_str!("../../../../../assets/programs/gilscope_sitecustomize.py");
/// The start of a script with `--param` overrides: `python -c PARAMS_START FILE PARAMS_JSON`.
const PARAMS_START: &str = include_str!("../../../../../assets/programs/gilscope_params.py");
/// How often the process tree is searched for new threads and children.
const DISCOVER_EVERY_NS: u64 = 5_000_000;
/// How often an attached process is checked for having ended or replaced its program (exec).
const EXEC_CHECK_NS: u64 = 100_000_000;
/// How long after the start a GIL that could not be read is tried again.
const GIL_RETRY_NS: u64 = 2_000_000_000;
/// Most threads followed at once; more are left unobserved (and said so in the summary).
const MAX_WORKERS: usize = 4096;

/// One line of the hook's thread file.
#[derive(Debug, Deserialize)]
struct Named {
    pid: u32,
    tid: u32,
    name: String,
}

/// The script's threads as found so far, and their Python names.
struct Tree {
    root: u32,
    workers: Vec<Option<Watched>>,
    known: HashSet<(u32, u32)>,
    processes: Vec<u32>,
    gils: BTreeMap<u32, ProcGil>,
    names: HashMap<(u32, u32), String>,
    names_file: Option<PathBuf>,
    /// Child processes that were not Pythons when found.
    ignored: HashSet<u32>,
    /// The names file, kept open once it exists.
    names_handle: Option<std::fs::File>,
    names_read: usize,
    gil_enabled: bool,
    minor: (u32, u32),
    unfollowed: usize,
    /// Whether the process was running before gilscope looked (attach).
    attached: bool,
    /// Names read from the processes' memory (attach: no hook reports them).
    memory_names: Option<ProcessNames>,
    /// When observation began, monotonic ns.
    started_ns: u64,
}

impl Tree {
    /// Adds every thread and child process not seen yet: those the hook reported (which catches a
    /// process too short-lived for a scan of `/proc`), then those `/proc` lists.
    fn discover(&mut self, now: u64) {
        let before = self.workers.len();
        // A process's GIL that could not be read yet, for its first seconds.
        if now.saturating_sub(self.started_ns) < GIL_RETRY_NS {
            for (&pid, g) in self.gils.iter_mut() {
                g.retry(pid, self.gil_enabled, self.minor);
            }
        }
        for (pid, tid) in self.read_names() {
            if !self.processes.contains(&pid) {
                self.processes.push(pid);
            }
            if self.known.insert((pid, tid)) {
                self.add_thread(pid, tid, now);
            }
        }
        // Each followed thread's `children` file stays open and is read again (a fresh open,
        // read and close of each, every 5 ms, was most of the observer's own cost).
        let mut i = 0;
        while i < self.processes.len() {
            let pid = self.processes[i];
            i += 1;
            for tid in task_ids(pid) {
                if self.known.insert((pid, tid)) {
                    self.add_thread(pid, tid, now);
                }
            }
            let kids: Vec<u32> = self
                .workers
                .iter_mut()
                .flatten()
                .filter(|w| w.pid == pid)
                .flat_map(Watched::children)
                .collect();
            for child in kids {
                if !self.processes.contains(&child) && !self.ignored.contains(&child) {
                    // A Python the program started (a fork, a spawn) is followed; a program it
                    // ran that is not a Python (`ls`, a pyenv shim's helpers) is not a lane.
                    if super::find::runs_python(child) {
                        self.processes.push(child);
                    } else {
                        self.ignored.insert(child);
                    }
                }
            }
        }
        if let Some(m) = self.memory_names.as_mut() {
            let appeared = self.workers.len() > before;
            let wanted = NamesWanted::Scan { appeared };
            m.refresh(now, wanted, &self.gils, self.minor, &mut self.names);
        }
    }

    fn add_thread(&mut self, pid: u32, tid: u32, now: u64) {
        if self.workers.len() >= MAX_WORKERS {
            self.unfollowed += 1;
            return;
        }
        let mut files = ThreadFiles::open(pid, tid).ok();
        let syscall_readable = files.as_mut().is_some_and(|f| f.can_read_syscall());
        // An attached process's threads have a past: count their CPU from now on.
        let on_cpu_base_ns = if self.attached {
            files.as_mut().and_then(|f| f.on_cpu_ns()).unwrap_or(0)
        } else {
            0
        };
        let alive = files.is_some();
        self.workers.push(Some(Watched {
            worker: self.workers.len() as u32,
            pid,
            tid,
            files,
            open: None,
            last_ns: now,
            state_ns: [0; SpanState::COUNT],
            on_cpu_ns: 0,
            on_cpu_base_ns,
            alive,
            syscall_readable,
            asleep: None,
            children_at_cpu_ns: None,
            stopped_ns: 0,
        }));
        let (gil_enabled, minor) = (self.gil_enabled, self.minor);
        self.gils
            .entry(pid)
            .or_insert_with(|| ProcGil::open(pid, gil_enabled, minor));
    }

    /// Names each thread from its `comm` where the OS knows a name other than the program's
    /// (CPython 3.14+ gives the OS a thread's Python name, cut to 15 bytes).
    fn name_from_comm(&mut self) {
        for w in self.workers.iter().flatten() {
            let comm = |tid: u32| {
                std::fs::read_to_string(format!("/proc/{}/task/{tid}/comm", w.pid))
                    .map(|c| c.trim().to_owned())
                    .ok()
            };
            if w.tid == w.pid {
                self.names
                    .entry((w.pid, w.tid))
                    .or_insert_with(|| "MainThread".to_owned());
            } else if let (Some(name), Some(main)) = (comm(w.tid), comm(w.pid))
                && name != main
            {
                self.names.entry((w.pid, w.tid)).or_insert(name);
            }
        }
    }

    /// Reads the names the hook reported since the last read; returns their threads.
    fn read_names(&mut self) -> Vec<(u32, u32)> {
        use std::os::unix::fs::FileExt;
        let mut seen = Vec::new();
        if self.names_handle.is_none() {
            self.names_handle = self
                .names_file
                .as_ref()
                .and_then(|p| std::fs::File::open(p).ok());
        }
        let Some(file) = self.names_handle.as_ref() else {
            return seen;
        };
        // Only what was appended since the last read.
        let mut new = Vec::new();
        let mut buf = [0u8; 8192];
        let mut at = self.names_read as u64;
        while let Ok(n) = file.read_at(&mut buf, at)
            && n > 0
        {
            new.extend_from_slice(&buf[..n]);
            at += n as u64;
        }
        // Only whole lines: a line being written is read next time.
        let Some(end) = new.iter().rposition(|&b| b == b'\n') else {
            return seen;
        };
        for line in new[..end].split(|&b| b == b'\n') {
            if let Ok(n) = serde_json::from_slice::<Named>(line) {
                seen.push((n.pid, n.tid));
                self.names.insert((n.pid, n.tid), n.name);
            }
        }
        self.names_read += end + 1;
        seen
    }
}

/// The exit code python3 would report for `status`: its code, or 128 + the signal.
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Starts `python FILE` in its own process group, with the hook's folder on its path; with
/// `params`, through [`PARAMS_START`], which rewrites those constants first.
fn start(
    info: &PythonInfo,
    python: &PythonCommand,
    file: &Path,
    params: &[(String, String)],
    scratch: &Scratch,
) -> Result<(Target, PathBuf), EngineError> {
    let hook_dir = scratch.write("sitecustomize.py", HOOK_SOURCE)?;
    let hook_dir = hook_dir.parent().map(Path::to_path_buf).unwrap_or_default();
    let names_file = hook_dir.join("threads.jsonl");
    // What the Python sees: the script and the hook's folder inside its root, if it has one.
    let (file_seen, hook_seen) = (python.inside(file)?, python.inside(&hook_dir)?);
    let python_path = match std::env::var_os("PYTHONPATH") {
        Some(old) if !old.is_empty() => {
            let mut p = hook_seen.clone().into_os_string();
            p.push(":");
            p.push(old);
            p
        }
        _ => hook_seen.clone().into_os_string(),
    };
    // A command (`chroot DIR python3.14`) runs as given; a path runs as the real binary it
    // named (not a pyenv shim).
    let mut cmd = if python.is_command() {
        python.command()
    } else {
        Command::new(&info.executable)
    };
    let file = file_seen.as_path();
    if params.is_empty() {
        cmd.arg(file);
    } else {
        let map: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        cmd.arg("-c")
            .arg(PARAMS_START)
            .arg(file)
            .arg(serde_json::Value::Object(map).to_string());
    }
    let target = spawn_in_group(
        cmd.env("PYTHONPATH", python_path)
            .env("GILSCOPE_THREADS_FILE", hook_seen.join("threads.jsonl")),
        &info.executable,
    )?;
    Ok((target, names_file))
}

/// How an observation ends.
enum End {
    /// The observed child exited with this status.
    Exited(ExitStatus),
    /// The attached process is gone, or the observation's time is up.
    Detached,
}

/// What one observation of a process tree gathered.
struct Observed {
    spans: Vec<Span>,
    intervals: Vec<u64>,
    observer_cpu_ns: u64,
    start_ns: u64,
    end_ns: u64,
    core_samples: Vec<crate::trace::sampler::CoreSample>,
    cores: usize,
    end: End,
}

/// Follows `tree` at 1 kHz, streaming spans to `sink`, until `until` says the observation ends
/// (or on cancel, after `on_cancel`).
fn observe(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
    tree: &mut Tree,
    mut until: impl FnMut(u64) -> Result<Option<End>, EngineError>,
    on_cancel: impl FnOnce(),
) -> Result<Observed, EngineError> {
    let cores = clock::core_count();
    let start_ns = clock::now_ns();
    let core_sampler = announce_start(run_id, cfg, sink, cores, start_ns)?;
    let observer_cpu0 = clock::thread_cpu_ns();
    let mut spans: Vec<Span> = Vec::new();
    let mut last_discover = 0u64;
    let mut ticks = Ticks::start();
    let end = loop {
        if cancel.is_cancelled() {
            on_cancel();
            return Err(EngineError::Cancelled);
        }
        let now = clock::now_ns();
        if now.saturating_sub(last_discover) >= DISCOVER_EVERY_NS {
            tree.discover(now);
            last_discover = now;
        }
        read_gils(&mut tree.gils, now);
        sample_all(&mut tree.workers, &tree.gils, now, &mut spans);
        ticks.tick(now, run_id, sink, &spans);
        if let Some(end) = until(now)? {
            break end;
        }
        ticks.sleep();
    };
    let end_ns = clock::now_ns();
    let observer_cpu_ns = clock::thread_cpu_ns().saturating_sub(observer_cpu0);
    for w in tree.workers.iter_mut().flatten().filter(|w| w.alive) {
        w.finish(&mut spans);
    }
    let core_samples = core_sampler.stop();
    ticks.flush(run_id, sink, &spans);
    Ok(Observed {
        spans,
        intervals: ticks.intervals,
        observer_cpu_ns,
        start_ns,
        end_ns,
        core_samples,
        cores,
        end,
    })
}

/// The outcome of an observation: its summary, named as `program_name`.
fn outcome_of(
    cfg: &RunConfig,
    info: &PythonInfo,
    tree: &Tree,
    o: Observed,
    program_name: String,
    output: Option<ProgramOutput>,
) -> Result<RunOutcome, EngineError> {
    let mut outcome = summarize(SummaryParts {
        cfg,
        info,
        program_name,
        entry: String::new(),
        names: &tree.names,
        output,
        result: serde_json::Value::Null,
        workers: &tree.workers,
        gils: &tree.gils,
        spans: o.spans,
        core_samples: o.core_samples,
        cores: o.cores,
        start: o.start_ns,
        end: o.end_ns,
        observer_cpu_ns: o.observer_cpu_ns,
        observed_secs: (o.end_ns - o.start_ns) as f64 / 1e9,
        intervals: o.intervals,
    })?;
    if tree.unfollowed > 0 {
        outcome.summary.gil_source_reason = Some(format!(
            "{} threads beyond the first {MAX_WORKERS} were not followed",
            tree.unfollowed
        ));
    }
    // A process stopped while watched (its threads all stop together): said, not hidden.
    for &pid in &tree.processes {
        let stopped_ns = tree
            .workers
            .iter()
            .flatten()
            .filter(|w| w.pid == pid)
            .map(|w| w.stopped_ns)
            .max()
            .unwrap_or(0);
        if stopped_ns >= super::watch::PERIOD_NS {
            outcome.summary.notes.push(format!(
                "process {pid} was stopped (SIGSTOP, Ctrl-Z or a debugger) for {:.2} s: none of \
                 its threads could run, and the GIL stayed with the thread that held it",
                stopped_ns as f64 / 1e9
            ));
        }
    }
    Ok(outcome)
}

impl Tree {
    /// A tree rooted at `root`, named from the hook's `names_file` when there is one.
    fn new(root: u32, names_file: Option<PathBuf>, info: &PythonInfo) -> Tree {
        let attached = names_file.is_none();
        Tree {
            root,
            workers: Vec::new(),
            known: HashSet::new(),
            processes: vec![root],
            gils: BTreeMap::new(),
            names: HashMap::new(),
            names_file,
            ignored: HashSet::new(),
            names_handle: None,
            names_read: 0,
            gil_enabled: info.gil_enabled,
            minor: info.minor(),
            unfollowed: 0,
            attached,
            memory_names: attached.then(ProcessNames::default),
            started_ns: clock::now_ns(),
        }
    }
}

/// Runs the script `cfg.program` on `cfg.python` and observes it to its end.
pub(super) fn run_script(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    let info = probe(&cfg.python)?;
    let python = PythonCommand::parse(&cfg.python)?;
    let file = PathBuf::from(cfg.program.trim());
    let scratch = Scratch::new_in(&python.scratch_base(), run_id)?;
    let (mut target, names_file) = start(&info, &python, &file, &cfg.params, &scratch)?;
    let pid = target.child.id();
    let (out_pipe, err_pipe) = (target.child.stdout.take(), target.child.stderr.take());
    let target = std::cell::RefCell::new(target);
    let (Some(out_pipe), Some(err_pipe)) = (out_pipe, err_pipe) else {
        return Err(EngineError::Internal(
            "the Python child has no pipes".to_owned(),
        ));
    };
    let stdout = capture(
        "gilscope-script-stdout",
        out_pipe,
        ProgramOutput::KEEP_BYTES,
    )?;
    let stderr = capture(
        "gilscope-script-stderr",
        err_pipe,
        ProgramOutput::KEEP_BYTES,
    )?;
    let mut tree = Tree::new(pid, Some(names_file), &info);
    let observed = observe(
        run_id,
        cfg,
        sink,
        cancel,
        &mut tree,
        |_| {
            let mut t = target.borrow_mut();
            match t.child.try_wait() {
                Ok(Some(status)) => {
                    t.done = true;
                    Ok(Some(End::Exited(status)))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(EngineError::io("lost the Python child", e)),
            }
        },
        || target.borrow_mut().kill(),
    )?;
    // What the script left running ends with it, as its process group.
    // SAFETY: killpg only sends a signal to the script's own group (process_group(0)).
    unsafe {
        libc::killpg(tree.root as i32, libc::SIGKILL);
    }
    super::launch::wait_for_group_end(tree.root as i32);
    // Threads that lived and ended between two scans still get their (empty) lanes.
    tree.discover(observed.end_ns);
    let (out, out_dropped) = stdout.join().unwrap_or_default();
    let (err, err_dropped) = stderr.join().unwrap_or_default();
    let status = match observed.end {
        End::Exited(s) => s,
        End::Detached => {
            return Err(EngineError::Internal(
                "the script's observation ended before it exited".to_owned(),
            ));
        }
    };
    let output = ProgramOutput {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        exit_code: exit_code(status),
        dropped_bytes: out_dropped + err_dropped,
    };
    let program_name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("script")
        .to_owned();
    outcome_of(cfg, &info, &tree, observed, program_name, Some(output))
}

/// Observes the running Python process `pid`, which gilscope did not start, for up to
/// `duration_secs` (or until it exits, or `cancel`, which detaches: what was seen is still
/// summed up). Nothing is written into it and no signal is sent: it runs on as before.
pub fn attach(
    run_id: u64,
    pid: u32,
    duration_secs: f64,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    let exe = format!("/proc/{pid}/exe");
    if std::fs::metadata(format!("/proc/{pid}")).is_err() {
        return Err(EngineError::Config(format!("there is no process {pid}")));
    }
    // Nothing of it is run: its files (read inside its own root, a chroot or a container)
    // must hold a CPython runtime, its memory must be readable, and its version comes from
    // there.
    let runtime = super::gil_reader::runtime_address(pid).map_err(|why| {
        EngineError::Config(format!(
            "process {pid} is not a CPython gilscope can read: {why}"
        ))
    })?;
    let mut probe_byte = [0u8; 1];
    if let Err(why) = super::gil_reader::read_remote(pid, runtime, &mut probe_byte) {
        return Err(EngineError::Config(format!(
            "{why} (it needs the same user and /proc/sys/kernel/yama/ptrace_scope 0, or root \
             / CAP_SYS_PTRACE)"
        )));
    }
    let (version, free_threaded) =
        super::gil_reader::identify(pid, runtime).map_err(EngineError::Config)?;
    let info = PythonInfo {
        executable: std::fs::read_link(&exe)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| exe.clone()),
        version,
        gil_enabled: !free_threaded,
        numpy: None,
        implementation: "cpython".to_owned(),
    };
    super::probe::check_version(&exe, &info)?;
    let cfg = RunConfig {
        runtime: crate::config::Runtime::Cpython,
        program: format!("pid {pid}"),
        python: exe.clone(),
        ..RunConfig::default()
    };
    let mut tree = Tree::new(pid, None, &info);
    let started_ns = clock::now_ns();
    let deadline_ns = started_ns + (duration_secs.max(0.0) * 1e9) as u64;
    // Stopping an attach detaches: the observation ends as when its time is up.
    let never = CancelToken::new();
    // A process that replaces its program (exec) is no longer the Python that was attached:
    // its program is checked every EXEC_CHECK_NS and the watch ends there.
    let program = std::fs::read_link(&exe).ok();
    let (mut checked_ns, mut replaced, mut gone) = (started_ns, None, false);
    let observed = observe(
        run_id,
        &cfg,
        sink,
        &never,
        &mut tree,
        |now| {
            if now.saturating_sub(checked_ns) >= EXEC_CHECK_NS {
                checked_ns = now;
                // Ended: gone, or a zombie its parent has not reaped yet.
                gone = std::fs::read(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|b| super::procfs::parse_stat(&b))
                    .is_none_or(|s| matches!(s.state, b'Z' | b'X'));
                let current = std::fs::read_link(&exe).ok();
                if !gone && current.is_some() && current != program {
                    replaced = current.map(|p| (p, now));
                }
            }
            let end = gone || replaced.is_some() || now >= deadline_ns || cancel.is_cancelled();
            Ok(end.then_some(End::Detached))
        },
        || {},
    )?;
    if let Some(m) = tree.memory_names.as_mut() {
        let now = clock::now_ns();
        m.refresh(
            now,
            NamesWanted::Final,
            &tree.gils,
            tree.minor,
            &mut tree.names,
        );
    }
    tree.name_from_comm();
    let mut outcome = outcome_of(&cfg, &info, &tree, observed, format!("pid {pid}"), None)?;
    outcome.summary.mode = None;
    outcome.summary.kernel = None;
    outcome.summary.threads = outcome.summary.workers.len();
    outcome.summary.attached_pid = Some(pid);
    if let Some((program, at_ns)) = replaced {
        outcome.summary.notes.push(format!(
            "process {pid} replaced its program with {} (exec) {:.2} s into the watch: it was no \
             longer a Python, and the watch ended there",
            program.display(),
            at_ns.saturating_sub(started_ns) as f64 / 1e9
        ));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_reports_lines_the_tree_parses() {
        let dir = std::env::temp_dir().join(format!("gilscope-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("threads.jsonl");
        std::fs::write(
            &file,
            "{\"pid\": 5, \"tid\": 6, \"name\": \"MainThread\"}\n{\"pid\": 5, \"tid\": 7, \"name\": \"Thread-1 (w\\\"x)\"}\n{\"pid\": 5, \"ti",
        )
        .unwrap();
        let mut tree = Tree {
            root: 5,
            workers: Vec::new(),
            known: HashSet::new(),
            processes: Vec::new(),
            gils: BTreeMap::new(),
            names: HashMap::new(),
            names_file: Some(file.clone()),
            ignored: HashSet::new(),
            names_handle: None,
            names_read: 0,
            gil_enabled: true,
            minor: (3, 11),
            unfollowed: 0,
            attached: false,
            memory_names: None,
            started_ns: 0,
        };
        tree.read_names();
        assert_eq!(
            tree.names.get(&(5, 6)).map(String::as_str),
            Some("MainThread")
        );
        assert_eq!(
            tree.names.get(&(5, 7)).map(String::as_str),
            Some("Thread-1 (w\"x)")
        );
        assert_eq!(tree.names.len(), 2, "the unfinished line waits");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn signals_end_as_128_plus_the_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
