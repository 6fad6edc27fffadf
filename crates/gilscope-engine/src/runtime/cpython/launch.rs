//! Starting a real CPython on a program: the configuration checked, the program and the driver
//! written to a scratch folder, the child in its own process group (killed unless it ended by
//! itself), and the threads that read its pipes and its announcements.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, bounded};
use serde::Deserialize;

use super::probe::PythonInfo;
use crate::build::Build;
use crate::config::{Mode, RunConfig};
use crate::error::EngineError;
use crate::program::{DRIVER_SOURCE, Program};
use crate::runtime::start::param_overrides;

/// How much of the program's stderr is kept for an error message.
pub(super) const STDERR_KEEP_BYTES: usize = 4096;
/// Largest stdout kept (the program prints one JSON line).
pub(super) const STDOUT_KEEP_BYTES: usize = 1 << 20;

/// A line the driver prints on stderr when gilscope observes it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Announce {
    Worker { worker: usize, pid: u32, tid: u32 },
    Start { start_ns: u64 },
    End { end_ns: u64 },
}

/// A fresh folder holding the program and the driver, removed when dropped.
pub(super) struct Scratch(PathBuf);

impl Scratch {
    pub(super) fn new(run_id: u64) -> Result<Scratch, EngineError> {
        Scratch::new_in(&std::env::temp_dir(), run_id)
    }

    /// A fresh folder under `base` (a Python's own root's `tmp`, where it has one).
    pub(super) fn new_in(base: &std::path::Path, run_id: u64) -> Result<Scratch, EngineError> {
        let dir = base.join(format!("gilscope-cpython-{}-{run_id}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir)
            .map_err(|e| EngineError::io(format!("cannot create {}", dir.display()), e))?;
        Ok(Scratch(dir))
    }

    pub(super) fn write(&self, name: &str, text: &str) -> Result<PathBuf, EngineError> {
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
pub(super) struct Target {
    pub(super) child: Child,
    pub(super) pgid: i32,
    pub(super) done: bool,
}

/// Starts `cmd` (the Python `exe`) in a process group of its own, its stdin empty and its
/// stdout and stderr piped to gilscope.
pub(super) fn spawn_in_group(cmd: &mut Command, exe: &str) -> Result<Target, EngineError> {
    // The processes the script starts (a Pool's workers) are orphaned when it is killed; as a
    // subreaper, gilscope receives them, and reaps them when the run ends
    // ([`wait_for_group_end`]) rather than leaving zombies for the system.
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| EngineError::Spawn {
            exe: exe.to_owned(),
            source,
        })?;
    let pgid = child.id() as i32;
    Ok(Target {
        child,
        pgid,
        done: false,
    })
}

/// What one of the child's pipes delivered: the kept bytes and how many were dropped.
pub(super) type Captured = (Vec<u8>, u64);

/// Reads `pipe` to its end on a thread named `name`, keeping the first `keep_bytes` and
/// draining the rest, so the child never blocks on a full pipe.
pub(super) fn capture(
    name: &str,
    mut pipe: impl Read + Send + 'static,
    keep_bytes: usize,
) -> Result<std::thread::JoinHandle<Captured>, EngineError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut kept = Vec::new();
            let mut dropped = 0u64;
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = keep_bytes.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                        dropped += n.saturating_sub(room) as u64;
                    }
                }
            }
            (kept, dropped)
        })
        .map_err(|e| EngineError::io("could not start a pipe reader", e))
}

impl Target {
    pub(super) fn kill(&mut self) {
        if !self.done {
            // SAFETY: killpg only sends a signal; the group is the child's own (process_group(0)).
            unsafe {
                libc::killpg(self.pgid, libc::SIGKILL);
            }
            let _ = self.child.wait();
            self.done = true;
            wait_for_group_end(self.pgid);
        }
    }
}

/// Reaps the killed group `pgid` and waits (up to a second) until none of it is left: the
/// processes the script started (a Pool's workers) come to gilscope, a subreaper, once their
/// parent is gone, and are reaped here; any other is gone once its own parent reaps it.
pub(super) fn wait_for_group_end(pgid: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let mut status = 0;
        // SAFETY: waits only for children in the group `pgid`, without blocking.
        while unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) } > 0 {}
        // SAFETY: signal 0 only asks whether any process of the group exists.
        let gone = unsafe { libc::killpg(pgid, 0) } != 0;
        if gone || std::time::Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(super) fn check_config(cfg: &RunConfig) -> Result<(), EngineError> {
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
pub(super) struct Readers {
    pub(super) stdout: std::thread::JoinHandle<Captured>,
    pub(super) stderr: std::thread::JoinHandle<()>,
    pub(super) announces: Receiver<Announce>,
    pub(super) tail: Arc<Mutex<String>>,
}

pub(super) fn spawn_readers(child: &mut Child) -> Result<Readers, EngineError> {
    let (out, err) = match (child.stdout.take(), child.stderr.take()) {
        (Some(o), Some(e)) => (o, e),
        _ => {
            return Err(EngineError::Internal(
                "the Python child has no pipes".to_owned(),
            ));
        }
    };
    let stdout = capture("gilscope-cpython-out", out, STDOUT_KEEP_BYTES)?;
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

/// A started Python child with its pipe readers and the files it runs from.
pub(super) struct Launched {
    pub(super) info: PythonInfo,
    pub(super) program: Program,
    // Dropped after `target`: the files outlive the process that reads them.
    pub(super) target: Target,
    pub(super) readers: Readers,
    pub(super) _scratch: Scratch,
}

/// Checks the configuration, writes the program and the driver into a fresh folder and starts
/// the Python on them in its own process group.
pub(super) fn launch(run_id: u64, cfg: &RunConfig) -> Result<Launched, EngineError> {
    check_config(cfg)?;
    cfg.validate()?;
    if super::command::PythonCommand::parse(&cfg.python)?.is_command() {
        return Err(EngineError::Config(format!(
            "--python '{}' is a command: it runs plain scripts as `python FILE` would; gilscope's \
             own programs (with ENTRY) need --python PATH",
            cfg.python
        )));
    }
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
    let mut target = spawn_in_group(
        Command::new(&info.executable)
            .args(&args)
            .current_dir(&scratch.0)
            .env("GILSCOPE_ANNOUNCE", "1"),
        &info.executable,
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
