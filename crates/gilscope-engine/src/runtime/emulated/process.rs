//! Multiprocessing mode: real child processes (this program re-executed with a hidden worker
//! subcommand), each running the interpreter under its own GIL, talking over pipes.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, bounded};

use super::protocol::{read_msg, write_msg};
use super::{
    Coordinator, GilCounts, NamespaceSource, WORKER_CHANNEL, WorkerJob, WorkerMsg, Workers,
    run_interpreted,
};
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::gil::Gil;
use crate::runtime::job::CancelToken;
use crate::trace::clock;
use crate::trace::spans::{Span, SpanState};

/// The hidden subcommand a worker process is started with.
pub const WORKER_ARG: &str = "__worker";
/// How much of a child's stderr is kept for error messages.
const STDERR_KEEP_BYTES: usize = 4096;

struct ChildSlot {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stderr_tail: Arc<Mutex<String>>,
    finished: bool,
    reaped: bool,
}

struct ProcessWorkers {
    slots: Vec<ChildSlot>,
}

impl ProcessWorkers {
    fn kill_all(&mut self) {
        for s in &mut self.slots {
            if !s.reaped {
                let _ = s.child.kill();
                let _ = s.child.wait();
                s.reaped = true;
            }
        }
    }
}

impl Workers for ProcessWorkers {
    fn cancel(&mut self) {
        self.kill_all();
    }

    fn on_msg(&mut self, coord: &mut Coordinator<'_>, msg: &WorkerMsg) {
        match msg {
            WorkerMsg::Done(r) => {
                if let Some(s) = self.slots.get_mut(r.worker) {
                    s.finished = true;
                }
            }
            WorkerMsg::Eof { worker } => {
                let Some(s) = self.slots.get_mut(*worker) else {
                    return;
                };
                if s.reaped {
                    // We stopped it ourselves (cancel, or another worker failed first).
                    return;
                }
                let status = s.child.wait().ok();
                s.reaped = true;
                let clean = status.is_some_and(|st| st.success());
                if !s.finished || !clean {
                    let how =
                        status.map_or_else(|| "vanished".to_owned(), |st| format!("exited ({st})"));
                    let tail = s
                        .stderr_tail
                        .lock()
                        .map(|t| t.trim().lines().last().unwrap_or("").to_owned())
                        .unwrap_or_default();
                    let note = if tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {tail}")
                    };
                    coord.fail(EngineError::Worker {
                        worker: *worker,
                        pid: s.pid,
                        message: format!("process {how} before finishing its problems{note}"),
                    });
                }
            }
            _ => {}
        }
    }
}

impl Drop for ProcessWorkers {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn spawn_reader(
    worker: usize,
    pid: u32,
    stdout: impl Read + Send + 'static,
    tx: Sender<WorkerMsg>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("gilscope-child-{worker}"))
        .spawn(move || {
            let mut r = BufReader::with_capacity(1 << 16, stdout);
            loop {
                match read_msg(&mut r, worker, pid) {
                    Ok(Some(msg)) => {
                        if tx.send(msg).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        let _ = tx.send(WorkerMsg::Failed { worker, pid, error });
                        break;
                    }
                }
            }
            let _ = tx.send(WorkerMsg::Eof { worker });
        })
}

fn spawn_stderr_tail(
    worker: usize,
    stderr: impl Read + Send + 'static,
    tail: Arc<Mutex<String>>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("gilscope-child-{worker}-err"))
        .spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                if let Ok(mut t) = tail.lock() {
                    t.push_str(&line);
                    if t.len() > STDERR_KEEP_BYTES {
                        let cut = t.len() - STDERR_KEEP_BYTES;
                        let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(0);
                        t.drain(..cut);
                    }
                }
                line.clear();
            }
        })
}

/// Runs each job in a child process; returns the summed GIL (switches, drop requests), which
/// the children report themselves.
pub(super) fn run(
    cfg: &RunConfig,
    jobs: Vec<WorkerJob>,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<GilCounts, EngineError> {
    let exe = match &cfg.worker_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| EngineError::io("could not find this program to start workers", e))?,
    };
    let (tx, rx) = bounded(WORKER_CHANNEL);
    let mut workers = ProcessWorkers { slots: Vec::new() };
    let mut threads = Vec::new();
    for job in &jobs {
        if cancel.is_cancelled() {
            break;
        }
        let w = job.worker;
        coord.spawn_started_ns[w] = clock::now_ns();
        let mut child = Command::new(&exe)
            .arg(WORKER_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| EngineError::Spawn {
                exe: exe.display().to_string(),
                source,
            })?;
        let pid = child.id();
        let mut stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let tail = Arc::new(Mutex::new(String::new()));
        // The job goes out as one JSON line; a child that cannot take it shows up at EOF.
        if let Some(pipe) = stdin.as_mut() {
            let line = serde_json::to_string(job)?;
            let _ = pipe
                .write_all(line.as_bytes())
                .and_then(|_| pipe.write_all(b"\n"));
            let _ = pipe.flush();
        }
        workers.slots.push(ChildSlot {
            child,
            pid,
            stdin,
            stderr_tail: Arc::clone(&tail),
            finished: false,
            reaped: false,
        });
        if let Some(out) = stdout {
            threads.push(
                spawn_reader(w, pid, out, tx.clone())
                    .map_err(|e| EngineError::io("could not start a pipe reader", e))?,
            );
        }
        if let Some(err) = stderr {
            threads.push(
                spawn_stderr_tail(w, err, tail)
                    .map_err(|e| EngineError::io("could not start a pipe reader", e))?,
            );
        }
    }
    drop(tx);
    coord.pump(&rx, cancel, &mut workers);
    workers.kill_all();
    for s in &mut workers.slots {
        s.stdin.take();
    }
    for t in threads {
        let _ = t.join();
    }
    // The children report their own GIL counters in their results.
    Ok(GilCounts::default())
}

/// The thread that writes a child's messages to its stdout, in order; a write that fails (the
/// parent is gone) ends the process. Joined, it gives the stream back. `None`: it could not
/// start (said on stderr).
pub(super) fn spawn_writer(
    mut out: BufWriter<std::io::Stdout>,
) -> Option<(Sender<WorkerMsg>, JoinHandle<BufWriter<std::io::Stdout>>)> {
    let (tx, rx) = bounded::<WorkerMsg>(WORKER_CHANNEL);
    let writer = std::thread::Builder::new()
        .name("gilscope-child-writer".to_owned())
        .spawn(move || {
            for msg in rx {
                if write_msg(&mut out, &msg).and_then(|_| out.flush()).is_err() {
                    std::process::exit(3);
                }
            }
            out
        });
    match writer {
        Ok(w) => Some((tx, w)),
        Err(_) => {
            eprintln!("gilscope worker: could not start the writer thread");
            None
        }
    }
}

/// Entry point of a worker process: reads one job on stdin, runs it, answers on stdout.
/// Returns the process exit code.
pub fn worker_main() -> i32 {
    let ready_ns = clock::now_ns();
    let pid = std::process::id();
    let tid = clock::current_tid();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let stdin = std::io::stdin();
    let mut line = String::new();
    if let Err(e) = stdin.lock().read_line(&mut line) {
        eprintln!("gilscope worker: could not read the job: {e}");
        return 2;
    }
    let job: WorkerJob = match serde_json::from_str(&line) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("gilscope worker: malformed job: {e}");
            return 2;
        }
    };
    if let Some(fork) = job.fork.clone() {
        return super::forked_child::serve(job, fork);
    }
    let job_read_ns = clock::now_ns();
    let hello = WorkerMsg::Hello {
        worker: job.worker,
        pid,
        tid,
        ready_ns,
    };
    let ipc_span = |start_ns: u64, end_ns: u64| Span {
        start_ns,
        end_ns,
        pid,
        tid,
        worker: job.worker as u32,
        cpu: clock::current_cpu().unwrap_or(crate::trace::spans::NO_CPU),
        state: SpanState::Ipc,
    };
    let first = [
        hello,
        WorkerMsg::Spans(vec![ipc_span(ready_ns, job_read_ns)]),
    ];
    for m in &first {
        if write_msg(&mut out, m).and_then(|_| out.flush()).is_err() {
            return 3;
        }
    }
    // If the parent goes away, stdin closes: stop at once rather than compute for nobody.
    let _ = std::thread::Builder::new()
        .name("gilscope-parent-watch".to_owned())
        .spawn(move || {
            let mut sink = Vec::new();
            let _ = stdin.lock().read_to_end(&mut sink);
            std::process::exit(3);
        });

    let Some((tx, writer)) = spawn_writer(out) else {
        return 2;
    };
    let gil = Gil::for_variant(job.interpreter, job.switch_interval_micros);
    let result = run_interpreted(&job, &gil, NamespaceSource::OwnProcess, tx.clone());
    let ipc_start = clock::now_ns();
    let (last, code) = match result {
        Ok(mut r) => {
            r.gil_switches = gil.switches();
            r.gil_drop_requests = gil.drop_requests();
            r.gil_releases = gil.releases();
            r.cpu_ns = clock::process_cpu_ns();
            (WorkerMsg::Done(Box::new(r)), 0)
        }
        Err(error) => (
            WorkerMsg::Failed {
                worker: job.worker,
                pid,
                error,
            },
            1,
        ),
    };
    let _ = tx.send(last);
    drop(tx);
    let Ok(mut out) = writer.join() else {
        return 3;
    };
    // The result's transfer, measured around serialising and writing it.
    let span = ipc_span(ipc_start, clock::now_ns());
    let _ = write_msg(&mut out, &WorkerMsg::Spans(vec![span])).and_then(|_| out.flush());
    code
}
