//! Engine tests: checksums against an independent reference, GIL invariants read from the trace,
//! multiprocessing failure handling. All hold on 2 cores and on many.

use crate::common;
use std::time::{Duration, Instant};

use gilscope_engine::EngineError;
use gilscope_engine::config::{Kernel, Mode, RunConfig};
use gilscope_engine::runtime::{CancelToken, run_blocking, spawn_job};
use gilscope_engine::trace::events::{EngineEvent, channel};
use gilscope_engine::trace::spans::{Span, SpanState};

fn exe() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_gilscope").into()
}

fn cfg(mode: Mode, kernel: Kernel, threads: usize) -> RunConfig {
    RunConfig {
        mode,
        kernel,
        threads,
        grid: 12,
        problems: 7,
        iters: 5,
        io_wait_micros: 200,
        publish_frames: true,
        worker_exe: Some(exe()),
        ..RunConfig::default()
    }
}

/// The source's py_update, written plainly on nested vectors.
fn reference_in_place(u: &mut [Vec<f64>]) {
    let (dx2, dy2) = (0.1 * 0.1, 0.1 * 0.1);
    let n = u.len();
    for i in 1..n - 1 {
        for j in 1..n - 1 {
            u[i][j] = ((u[i + 1][j] + u[i - 1][j]) * dy2 + (u[i][j + 1] + u[i][j - 1]) * dx2)
                / (2.0 * (dx2 + dy2));
        }
    }
}

/// The source's num_update (right-hand side from the old grid), written plainly.
fn reference_jacobi(u: &mut [Vec<f64>]) {
    let (dx2, dy2) = (0.1 * 0.1, 0.1 * 0.1);
    let old = u.to_vec();
    let n = u.len();
    for i in 1..n - 1 {
        for j in 1..n - 1 {
            u[i][j] = ((old[i + 1][j] + old[i - 1][j]) * dy2
                + (old[i][j + 1] + old[i][j - 1]) * dx2)
                / (2.0 * (dx2 + dy2));
        }
    }
}

fn reference_checksum(c: &RunConfig) -> f64 {
    let p = c.problems;
    let mut total = 0.0;
    for k in 0..p {
        let ic = if k == p - 1 {
            2.0
        } else {
            1.0 + k as f64 * (1.0 / (p - 1) as f64)
        };
        let mut u = vec![vec![0.0; c.grid]; c.grid];
        u[0].iter_mut().for_each(|v| *v = ic);
        for _ in 0..c.iters {
            match c.kernel {
                Kernel::Python => reference_in_place(&mut u),
                Kernel::Numpy | Kernel::Io => reference_jacobi(&mut u),
                Kernel::Stream => panic!("the stream kernel has its own test"),
            }
        }
        total += u.iter().flatten().sum::<f64>();
    }
    total
}

#[test]
fn checksums_agree_across_modes_threads_and_the_reference() {
    let _machine = common::sharing();
    for kernel in Kernel::ALL.into_iter().filter(|&k| k != Kernel::Stream) {
        let want = reference_checksum(&cfg(Mode::Threading, kernel, 1));
        // NumPy refuses subinterpreters, so they run the pure-Python kernel only.
        for mode in Mode::ALL
            .into_iter()
            .filter(|&m| m != Mode::Interpreters || kernel == Kernel::Python)
        {
            for threads in [1, 2, 3, 8] {
                let c = cfg(mode, kernel, threads);
                let got = run_blocking(&c, None, &CancelToken::new())
                    .unwrap()
                    .summary
                    .checksum;
                assert_eq!(got, want, "{mode}:{kernel} with {threads} threads");
            }
        }
    }
    // The in-place and the Jacobi updates really differ.
    assert_ne!(
        reference_checksum(&cfg(Mode::Threading, Kernel::Python, 1)),
        reference_checksum(&cfg(Mode::Threading, Kernel::Numpy, 1))
    );
}

#[test]
fn native_workers_each_solve_their_array_split_chunk() {
    let _machine = common::sharing();
    for grid in [30, 300] {
        let mut c = cfg(Mode::Native, Kernel::Numpy, 2);
        c.grid = grid;
        c.problems = 8;
        c.iters = 2;
        let s = run_blocking(&c, None, &CancelToken::new()).unwrap().summary;
        let problems: Vec<usize> = s.workers.iter().map(|w| w.problems).collect();
        assert_eq!(
            problems,
            vec![4, 4],
            "grid {grid}: every worker gets half the problems"
        );
        assert!(
            s.workers.iter().all(|w| w.native_secs > 0.0),
            "grid {grid}: both worked"
        );
    }
}

#[test]
fn native_split_keeps_the_checksum() {
    let _machine = common::sharing();
    let mut c = cfg(Mode::Native, Kernel::Numpy, 2);
    c.grid = 300;
    c.problems = 2;
    c.iters = 3;
    let want = reference_checksum(&c);
    assert_eq!(
        run_blocking(&c, None, &CancelToken::new())
            .unwrap()
            .summary
            .checksum,
        want
    );
}

fn overlaps(a: &Span, b: &Span) -> bool {
    a.start_ns < b.end_ns && b.start_ns < a.end_ns
}

fn python_spans(spans: &[Span]) -> Vec<Span> {
    spans
        .iter()
        .copied()
        .filter(|s| s.state == SpanState::Python && s.dur_ns() > 0)
        .collect()
}

#[test]
fn threading_python_spans_never_overlap_and_the_gil_switches() {
    let _machine = common::measuring();
    let mut c = cfg(Mode::Threading, Kernel::Python, 2);
    c.grid = 30;
    c.problems = 6;
    c.iters = 30;
    let out = run_blocking(&c, None, &CancelToken::new()).unwrap();
    let mut py = python_spans(&out.spans);
    py.sort_by_key(|s| s.start_ns);
    assert!(py.iter().any(|s| s.worker == 0) && py.iter().any(|s| s.worker == 1));
    for w in py.windows(2) {
        assert!(
            w[1].start_ns >= w[0].end_ns,
            "GIL held twice at once: {:?} {:?}",
            w[0],
            w[1]
        );
    }
    let held_ns: u64 = py.iter().map(Span::dur_ns).sum();
    assert!(
        held_ns as f64 / 1e9 <= out.summary.wall_secs,
        "GIL time exceeds wall time"
    );
    assert!(
        out.summary.gil_switches > 0,
        "two Python threads must hand the GIL over"
    );
    assert!(
        out.summary.gil_drop_requests > 0,
        "hand-offs come from timed-out waits"
    );
    let wait: f64 = out.summary.workers.iter().map(|w| w.gil_wait_secs).sum();
    assert!(wait > 0.0);
    assert_eq!(out.summary.dropped_events, 0);
}

#[test]
fn multiprocessing_python_spans_overlap_across_processes() {
    let _machine = common::measuring();
    let mut c = cfg(Mode::Multiprocessing, Kernel::Python, 2);
    c.grid = 30;
    c.problems = 16; // ~0.2 s per child: the two overlap even if one starts late
    c.iters = 30;
    let out = run_blocking(&c, None, &CancelToken::new()).unwrap();
    let pids: std::collections::BTreeSet<u32> = out.summary.workers.iter().map(|w| w.pid).collect();
    assert_eq!(pids.len(), 2, "two child processes");
    assert!(!pids.contains(&std::process::id()));
    let py = python_spans(&out.spans);
    let a: Vec<_> = py.iter().filter(|s| s.worker == 0).collect();
    let b: Vec<_> = py.iter().filter(|s| s.worker == 1).collect();
    assert!(
        a.iter().any(|x| b.iter().any(|y| overlaps(x, y))),
        "each process has its own GIL"
    );
    assert!(
        out.spans
            .iter()
            .any(|s| s.state == SpanState::Spawn && s.dur_ns() > 0)
    );
    assert!(out.spans.iter().any(|s| s.state == SpanState::Ipc));
    assert_eq!(
        out.summary.gil_switches, 0,
        "one thread per process never switches"
    );
}

#[test]
fn numpy_kernel_releases_the_gil_inside_array_operations() {
    let _machine = common::measuring();
    let out = run_blocking(
        &cfg(Mode::Threading, Kernel::Numpy, 2),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(out.spans.iter().any(|s| s.state == SpanState::Native));
    let w = &out.summary.workers[0];
    assert!(w.native_secs > 0.0 && w.python_secs > 0.0);
    let io = run_blocking(
        &cfg(Mode::Threading, Kernel::Io, 2),
        None,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(io.summary.workers.iter().all(|w| w.io_secs > 0.0));
}

/// Pids of the workers, taken from spawn spans as they stream in.
fn wait_for_child_pids(stream: &gilscope_engine::EventStream, n: usize) -> Vec<u32> {
    let mut pids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids.len() < n && Instant::now() < deadline {
        if let Ok(EngineEvent::Spans { spans, .. }) =
            stream.rx.recv_timeout(Duration::from_millis(100))
        {
            for s in spans {
                if s.state == SpanState::Python && !pids.contains(&s.pid) {
                    pids.push(s.pid);
                }
            }
        }
    }
    pids
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn long_mp_run() -> RunConfig {
    let mut c = cfg(Mode::Multiprocessing, Kernel::Python, 2);
    c.grid = 60;
    c.problems = 2;
    c.iters = 100_000;
    c
}

/// Starts `cfg` on a background thread: its handle, its event stream, and where its result lands.
fn start_in_background(
    cfg: RunConfig,
) -> (
    gilscope_engine::runtime::RunHandle,
    gilscope_engine::EventStream,
    crossbeam_channel::Receiver<Result<gilscope_engine::RunOutcome, EngineError>>,
) {
    let (sink, stream) = channel(10_000, None);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = spawn_job("test-run", move |cancel| {
        let _ = tx.send(run_blocking(&cfg, Some(&sink), &cancel));
    })
    .unwrap();
    (handle, stream, rx)
}

#[test]
fn a_killed_child_is_an_error_not_a_hang() {
    let _machine = common::sharing();
    let (handle, stream, rx) = start_in_background(long_mp_run());
    let pids = wait_for_child_pids(&stream, 2);
    assert_eq!(pids.len(), 2, "children started");
    // SAFETY: plain kill(2) on a child pid we just read from its own trace.
    unsafe { libc::kill(pids[0] as i32, libc::SIGKILL) };
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the run ends");
    match result {
        Err(EngineError::Worker { message, .. }) => {
            assert!(message.contains("signal"), "{message}")
        }
        other => panic!("expected a worker error, got {other:?}"),
    }
    handle.join();
    assert!(pids.iter().all(|&p| !alive(p)), "no child left behind");
}

#[test]
fn a_cancelled_multiprocessing_run_leaves_no_child() {
    let _machine = common::sharing();
    let (handle, stream, rx) = start_in_background(long_mp_run());
    let pids = wait_for_child_pids(&stream, 2);
    assert_eq!(pids.len(), 2);
    let t = Instant::now();
    handle.cancel();
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the run ends");
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "cancel took {:?}",
        t.elapsed()
    );
    handle.join();
    assert!(pids.iter().all(|&p| !alive(p)), "no child left behind");
}

#[test]
fn cancel_stops_threading_and_native_runs() {
    let _machine = common::sharing();
    for mode in [Mode::Threading, Mode::Native] {
        let mut c = cfg(mode, Kernel::Python, 2);
        c.grid = 200;
        c.problems = 4;
        c.iters = 100_000;
        let (handle, stream, rx) = start_in_background(c);
        // Wait until work is visibly under way.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(EngineEvent::Spans { .. }) =
                stream.rx.recv_timeout(Duration::from_millis(100))
            {
                break;
            }
        }
        let t = Instant::now();
        handle.cancel();
        let result = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the run ends");
        assert!(
            matches!(result, Err(EngineError::Cancelled)),
            "{mode}: {result:?}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{mode}: cancel took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn a_child_that_sends_garbage_is_reported() {
    let _machine = common::sharing();
    let mut c = cfg(Mode::Multiprocessing, Kernel::Python, 1);
    c.worker_exe = Some("/usr/bin/yes".into());
    let err = run_blocking(&c, None, &CancelToken::new()).unwrap_err();
    assert!(matches!(err, EngineError::Protocol { .. }), "{err}");
    c.worker_exe = Some("/nonexistent/gilscope".into());
    assert!(matches!(
        run_blocking(&c, None, &CancelToken::new()),
        Err(EngineError::Spawn { .. })
    ));
}

#[test]
fn events_stream_the_run() {
    let _machine = common::sharing();
    let (sink, stream) = channel(100_000, None);
    let out = run_blocking(
        &cfg(Mode::Threading, Kernel::Python, 2),
        Some(&sink),
        &CancelToken::new(),
    )
    .unwrap();
    let events: Vec<EngineEvent> = stream.rx.try_iter().collect();
    assert!(matches!(
        events.first(),
        Some(EngineEvent::RunStarted { .. })
    ));
    assert!(matches!(
        events.last(),
        Some(EngineEvent::RunFinished { .. })
    ));
    let streamed: usize = events
        .iter()
        .map(|e| {
            if let EngineEvent::Spans { spans, .. } = e {
                spans.len()
            } else {
                0
            }
        })
        .sum();
    assert_eq!(streamed, out.spans.len());
    let (_, frames) = stream.frames.snapshot();
    assert!(!frames.is_empty(), "latest-frame slot filled");
}

#[test]
fn bad_configs_are_rejected_before_any_work() {
    let _machine = common::sharing();
    let bad = RunConfig {
        threads: 0,
        ..RunConfig::default()
    };
    assert!(matches!(
        run_blocking(&bad, None, &CancelToken::new()),
        Err(EngineError::Config(_))
    ));
}

#[test]
fn numpys_brief_releases_starve_a_waiter_at_20_ms_but_the_count_loop_does_not() {
    let _machine = common::sharing();
    // heat.py: np.zeros((30, 30)) and u.sum() let go of the GIL for a moment once a problem;
    // the holder takes it back before the waiter runs, and the waiter's 20 ms wait restarts.
    // 10 iterations per problem: a release every ~6 ms alone, still well under 20 ms when the
    // other tests of this binary slow it down (a slower run would time out and ask for a drop).
    let heat = RunConfig {
        threads: 2,
        problems: 120,
        iters: 10,
        switch_interval_micros: 20_000,
        publish_frames: false,
        ..RunConfig::default()
    };
    // On a busy machine the holder is sometimes preempted inside its brief release and the
    // waiter gets the GIL: try a few runs, stop at the first starved one.
    let mut out = run_blocking(&heat, None, &CancelToken::new()).unwrap();
    for _ in 0..3 {
        if out.summary.gil_starvations > 0 {
            break;
        }
        out = run_blocking(&heat, None, &CancelToken::new()).unwrap();
    }
    let s = &out.summary;
    assert!(s.gil_starvations > 0, "no starved wait at 20 ms: {s:?}");
    let longest = s
        .workers
        .iter()
        .map(|w| w.max_gil_wait_secs)
        .fold(0.0, f64::max);
    assert!(
        longest > 0.060,
        "longest wait {longest:.3} s is not over 3 intervals"
    );
    assert!(
        out.spans.iter().any(|sp| sp.state == SpanState::Starved),
        "starved waits are marked on the trace"
    );
    // The count loop never lets go: every wait times out and asks for a drop.
    let count = RunConfig {
        threads: 2,
        program: "count".to_owned(),
        params: vec![("N".to_owned(), "6000000".to_owned())],
        switch_interval_micros: 20_000,
        publish_frames: false,
        ..RunConfig::default()
    };
    let c = run_blocking(&count, None, &CancelToken::new())
        .unwrap()
        .summary;
    assert_eq!(c.gil_starvations, 0, "{c:?}");
    assert!(c.gil_drop_requests > 0);
}

#[test]
fn the_stream_kernel_is_native_only_and_its_checksum_is_the_triads() {
    let _machine = common::sharing();
    let c = |threads| RunConfig {
        mode: Mode::Native,
        kernel: Kernel::Stream,
        grid: 64,
        problems: 4,
        iters: 3,
        threads,
        ..RunConfig::default()
    };
    // a = b + 3c with b = ic and c[i][j] = ((7i + 13j) mod 97) / 97, summed per problem.
    let p = 4;
    let mut want = 0.0;
    for k in 0..p {
        let ic = if k == p - 1 {
            2.0
        } else {
            1.0 + k as f64 * (1.0 / (p - 1) as f64)
        };
        for i in 0..64 {
            for j in 0..64 {
                want += ic + 3.0 * (((i * 7 + j * 13) % 97) as f64 / 97.0);
            }
        }
    }
    for threads in [1, 2, 3] {
        let got = run_blocking(&c(threads), None, &CancelToken::new())
            .unwrap()
            .summary
            .checksum;
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{threads} threads: {got} vs {want}"
        );
    }
    for mode in [Mode::Threading, Mode::Multiprocessing, Mode::Interpreters] {
        let e = RunConfig { mode, ..c(1) }
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--mode native"), "{e}");
    }
}
