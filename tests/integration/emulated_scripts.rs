//! Plain scripts in the emulation, as a user pastes them: the module runs as `__main__`, the
//! threads it starts are the workers (named as Python names them), and its output, traceback
//! and exit status are python3's.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use crate::scripts::{copy_script, exe, have_python, shape};

fn emulated(file: &Path, json: bool) -> Output {
    let mut cmd = Command::new(exe());
    cmd.args(["run", "--program"]).arg(file);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

#[test]
fn the_texts_count_loop_runs_in_the_emulation_with_a_lane_per_thread() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("emulated-count");
    let file = copy_script(
        &dir,
        "count_threads.py",
        &[("n = 50_000_000", "n = 1_000_000")],
    );
    let want = Command::new("python3").arg(&file).output().unwrap();
    let out = emulated(&file, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let po = &v["program_output"];
    assert_eq!(po["exit_code"], 0);
    let got = po["stdout"].as_str().unwrap();
    assert_eq!(
        shape(got),
        shape(&String::from_utf8_lossy(&want.stdout)),
        "{got}"
    );
    let workers = v["workers"].as_array().unwrap();
    let names = common::worker_names(&v);
    assert_eq!(
        names,
        [
            "MainThread",
            "Thread-1 (cpu_bound_task)",
            "Thread-2 (cpu_bound_task)"
        ]
    );
    // The two threads took turns under the GIL: it changed hands, each ran Python and waited
    // for it, and the main thread waited in join() (a lock wait, not a GIL wait).
    assert!(v["gil_switches"].as_u64().unwrap() > 0, "{v}");
    for w in &workers[1..] {
        assert!(w["python_secs"].as_f64().unwrap() > 0.0, "{w}");
        assert!(w["gil_wait_secs"].as_f64().unwrap() > 0.0, "{w}");
    }
    assert!(workers[0]["lock_wait_secs"].as_f64().unwrap() > 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keywords_threads_and_a_failing_thread_print_what_python3_prints() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("emulated-calls");
    let file = dir.join("calls.py");
    std::fs::write(
        &file,
        r#"import threading

def work(n, step=1, *rest, scale=2, label="w", **opts):
    total = 0
    for i in range(0, n, step):
        total += i
    print(label, total * scale, rest, opts, sep=" | ", end=";\n")
    return total

def boom(x):
    return x // 0

def only(a, /, b, *, c):
    return a + b + c

work(10)
work(10, 2, 7, 8, label="b", extra=1)
work(*[5, 1], **{"label": "c"})
print(only(1, b=2, c=3), only(1, 2, c=4))
t = threading.Thread(target=work, args=(4,), kwargs={"label": "t"})
print(t.is_alive(), t.name)
t.start()
t.join()
print(t.is_alive(), threading.current_thread().name)
b = threading.Thread(target=boom, args=(3,), name="bad")
b.start()
b.join()
print("after the failed thread")
print(f"{len('abc'):>4}|")
work(1, 2, 3, step=4)
"#,
    )
    .unwrap();
    let want = Command::new("python3").arg(&file).output().unwrap();
    let got = emulated(&file, false);
    common::assert_ends_as(&got, &want, &file.display().to_string());
    let err = String::from_utf8_lossy(&got.stderr);
    let want_err = String::from_utf8_lossy(&want.stderr);
    // The thread's report and the main thread's traceback, as python3 prints them, but for
    // threading.py's own frames and their carets.
    for line in want_err.lines().filter(|l| {
        !l.contains("threading.py")
            && !l.contains("self.run()")
            && !l.contains("self._target(")
            && !l.trim().chars().all(|c| c == '^' || c == '~')
    }) {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    assert!(err.contains("TypeError: work() got multiple values for argument 'step'"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_script_that_raises_ends_with_status_1_and_its_traceback() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("emulated-raise");
    let file = dir.join("raises.py");
    std::fs::write(
        &file,
        "def f(n):\n    return n // 0\n\nprint('before')\nf(3)\nprint('never')\n",
    )
    .unwrap();
    let out = emulated(&file, false);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "Traceback (most recent call last):\n  File \"{f}\", line 5, in <module>\n    f(3)\n  \
         File \"{f}\", line 2, in f\n    return n // 0\n           ~~^^~~\nZeroDivisionError: integer division or \
         modulo by zero\n",
        f = file.display()
    );
    assert!(err.starts_with(&want), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_construct_files_print_what_python3_prints() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    for name in [
        "calls",
        "scopes",
        "generators",
        "exceptions",
        "classes",
        "methods",
        "modules",
        "queues",
        "futures",
        "sets",
        "syncs",
        "bigints",
        "randoms",
        "coroutines",
        "unpacking",
        "counting",
        "files",
        "processes",
        "shared_objects",
        "bytes_text",
        "stdlib_tools",
        "async_sync",
        "async_cancel",
        "async_waiting",
        "spawned",
        "annotations",
        "annotated",
        "percent_format",
        "future_annotations",
        "async_iteration",
    ] {
        let file = Path::new("tests/golden").join(format!("{name}.py"));
        let want = Command::new("python3").arg(&file).output().unwrap();
        let got = emulated(&file, false);
        common::assert_ends_as(&got, &want, name);
    }
}

#[test]
fn a_script_imports_its_own_modules_as_python3_does() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    // Run from another folder: the modules are found beside the script, not in the cwd.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/imports/main.py");
    let want = Command::new("python3")
        .arg(&file)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let got = Command::new(exe())
        .args(["run", "--program"])
        .arg(&file)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    common::assert_ends_as(&got, &want, "imports/main.py");
    // The traceback runs through the sibling module's frame, with its source line.
    let err = String::from_utf8_lossy(&got.stderr);
    let traceback = err.split("--- gilscope:").next().unwrap_or_default();
    assert_eq!(traceback, String::from_utf8_lossy(&want.stderr));
    assert!(
        traceback.contains("shapes.py\", line 10, in fail"),
        "{traceback}"
    );
    // `from m import *`: the public names, or those of `__all__`; a pool whose workers run
    // the modules' functions and make their classes' instances.
    for name in ["star.py", "pooled.py"] {
        let file = file.with_file_name(name);
        let want = Command::new("python3").arg(&file).output().unwrap();
        common::assert_ends_as(&emulated(&file, false), &want, name);
    }
}

#[test]
fn each_run_numbers_its_threads_from_one_as_a_new_python_would() {
    use gilscope_engine::config::RunConfig;
    use gilscope_engine::runtime::{CancelToken, run_blocking};
    let _machine = common::sharing();
    let dir = common::scratch_dir("emulated-names");
    let file = dir.join("names.py");
    std::fs::write(
        &file,
        "import threading\nt = threading.Thread(target=print, args=('hi',))\nt.start()\nt.join()\n",
    )
    .unwrap();
    let cfg = RunConfig {
        program: file.to_str().unwrap().to_owned(),
        ..RunConfig::default()
    };
    // Two runs in one process (as the app makes them): each is a new program.
    for _ in 0..2 {
        let out = run_blocking(&cfg, None, &CancelToken::new()).unwrap();
        let names: Vec<_> = out
            .summary
            .workers
            .iter()
            .filter_map(|w| w.name.clone())
            .collect();
        assert_eq!(names, ["MainThread", "Thread-1 (print)"]);
        let po = out.summary.program_output.unwrap();
        assert_eq!(po.stdout, "hi\n");
        assert_eq!(po.exit_code, 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_texts_pool_runs_in_the_emulation_with_a_process_lane_per_worker() {
    use gilscope_engine::config::RunConfig;
    use gilscope_engine::runtime::{CancelToken, run_blocking};
    use gilscope_engine::trace::spans::SpanState;
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("emulated-pool");
    let file = copy_script(
        &dir,
        "count_pool.py",
        &[("n = 50_000_000", "n = 1_000_000")],
    );
    let want = Command::new("python3").arg(&file).output().unwrap();
    let cfg = RunConfig {
        program: file.to_str().unwrap().to_owned(),
        worker_exe: Some(env!("CARGO_BIN_EXE_gilscope").into()),
        ..RunConfig::default()
    };
    let out = run_blocking(&cfg, None, &CancelToken::new()).unwrap();
    let po = out.summary.program_output.as_ref().unwrap();
    assert_eq!(po.exit_code, 0, "{}", po.stderr);
    assert_eq!(
        shape(&po.stdout),
        shape(&String::from_utf8_lossy(&want.stdout))
    );
    let workers = &out.summary.workers;
    let names: Vec<_> = workers.iter().filter_map(|w| w.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "MainThread",
            "ForkPoolWorker-1",
            "ForkPoolWorker-2",
            "ForkPoolWorker-3",
            "ForkPoolWorker-4"
        ]
    );
    // Five processes, each its own pid; the main one waited in pool.map (a lock wait) while
    // the four ran the loop as Python under GILs of their own.
    let pids: std::collections::BTreeSet<u32> = workers.iter().map(|w| w.pid).collect();
    assert_eq!(pids.len(), 5, "{pids:?}");
    assert!(workers[0].lock_wait_secs > 0.0);
    let main_pid = workers[0].pid;
    for w in &workers[1..] {
        assert!(w.python_secs > 0.0, "{w:?}");
        let spans: Vec<_> = out
            .spans
            .iter()
            .filter(|s| s.worker as usize == w.id && s.state == SpanState::Python)
            .collect();
        assert!(!spans.is_empty(), "no Python spans for {w:?}");
        assert!(spans.iter().all(|s| s.pid == w.pid && s.pid != main_pid));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stopping_a_script_stops_the_processes_it_started() {
    use gilscope_engine::EngineError;
    use gilscope_engine::config::RunConfig;
    use gilscope_engine::runtime::{run_blocking, spawn_job};
    use gilscope_engine::trace::events::{EngineEvent, channel};
    use gilscope_engine::trace::spans::SpanState;
    use std::time::{Duration, Instant};
    let _machine = common::sharing();
    let dir = common::scratch_dir("emulated-pool-stop");
    let file = dir.join("forever.py");
    std::fs::write(
        &file,
        "from multiprocessing import Pool, Process\n\
         def spin(n):\n    while True:\n        n += 1\n\
         if __name__ == '__main__':\n    p = Process(target=spin, args=(0,))\n    p.start()\n\
         \x20   with Pool(2) as pool:\n        pool.map(spin, [1, 2])\n",
    )
    .unwrap();
    let cfg = RunConfig {
        program: file.to_str().unwrap().to_owned(),
        worker_exe: Some(env!("CARGO_BIN_EXE_gilscope").into()),
        ..RunConfig::default()
    };
    let (sink, stream) = channel(10_000, None);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = spawn_job("test-run", move |cancel| {
        let _ = tx.send(run_blocking(&cfg, Some(&sink), &cancel));
    })
    .unwrap();
    // The three children announce themselves with their start-up spans.
    let me = std::process::id();
    let mut pids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids.len() < 3 && Instant::now() < deadline {
        if let Ok(EngineEvent::Spans { spans, .. }) =
            stream.rx.recv_timeout(Duration::from_millis(100))
        {
            for s in spans {
                if s.state == SpanState::Spawn && s.pid != me && !pids.contains(&s.pid) {
                    pids.push(s.pid);
                }
            }
        }
    }
    assert_eq!(pids.len(), 3, "children started: {pids:?}");
    let t = Instant::now();
    handle.cancel();
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the run ends");
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    handle.join();
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    assert!(pids.iter().all(|&p| !alive(p)), "no child left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A local HTTP server that answers every GET after `delay`, each on a thread of its own;
/// returns its URL. It serves until the test process ends.
pub(crate) fn slow_http_server(delay: std::time::Duration) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::Builder::new()
        .name("test-http".to_owned())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    std::thread::sleep(delay);
                    let body = "hello";
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        })
        .unwrap();
    url
}

#[test]
fn the_texts_downloads_wait_with_the_gil_released_and_overlap_in_threads() {
    use gilscope_engine::config::RunConfig;
    use gilscope_engine::runtime::{CancelToken, run_blocking};
    use gilscope_engine::trace::spans::SpanState;
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    let url = slow_http_server(std::time::Duration::from_millis(60));
    let dir = common::scratch_dir("emulated-download");
    let file = copy_script(&dir, "download.py", &[("http://example.com", &url)]);
    let want = Command::new("python3").arg(&file).output().unwrap();
    let cfg = RunConfig {
        program: file.to_str().unwrap().to_owned(),
        ..RunConfig::default()
    };
    let out = run_blocking(&cfg, None, &CancelToken::new()).unwrap();
    let po = out.summary.program_output.as_ref().unwrap();
    assert_eq!(po.exit_code, 0, "{}", po.stderr);
    assert_eq!(
        shape(&po.stdout),
        shape(&String::from_utf8_lossy(&want.stdout))
    );
    // Each download thread waited on the network with the GIL released, and those waits
    // overlapped: I/O needs no core, so this holds on one core as on many.
    let io: Vec<_> = out
        .spans
        .iter()
        .filter(|s| s.state == SpanState::Io && s.worker > 0)
        .collect();
    let threads: std::collections::BTreeSet<u32> = io.iter().map(|s| s.worker).collect();
    assert_eq!(threads.len(), 4, "{threads:?}");
    let overlapping = io.iter().any(|a| {
        io.iter()
            .any(|b| a.worker != b.worker && a.start_ns < b.end_ns && b.start_ns < a.end_ns)
    });
    assert!(overlapping, "the four waits never overlapped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn old_thread_names_warn_and_logging_prints_as_python3_does_on_stderr() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    for (name, expect) in [
        (
            "legacy_names",
            "DeprecationWarning: getName() is deprecated",
        ),
        ("logging_threads", "(my_service) Starting service"),
    ] {
        let file = Path::new("tests/golden").join(format!("{name}.py"));
        let want = Command::new("python3").arg(&file).output().unwrap();
        let got = emulated(&file, false);
        common::assert_ends_as(&got, &want, name);
        let want_err = String::from_utf8_lossy(&want.stderr);
        assert!(want_err.contains(expect), "{name}: {want_err}");
        // What the program wrote to stderr comes first, as python3 wrote it; gilscope's
        // summary follows.
        let err = String::from_utf8_lossy(&got.stderr);
        assert!(err.starts_with(&*want_err), "{name}:\n{err}");
    }
}

#[test]
fn sys_is_gil_enabled_exists_only_on_the_free_threaded_builds() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("emulated-gil-enabled");
    let file = dir.join("gil.py");
    std::fs::write(
        &file,
        "import sys\nprint(hasattr(sys, '_is_gil_enabled'))\n\
         if hasattr(sys, '_is_gil_enabled'):\n    print(sys._is_gil_enabled())\n",
    )
    .unwrap();
    for (build, want) in [
        ("gil", "False\n"),
        ("legacy-gil", "False\n"),
        ("free-threaded", "True\nFalse\n"),
        ("no-gil-unsafe", "True\nFalse\n"),
    ] {
        let out = Command::new(exe())
            .args(["run", "--interpreter", build, "--program"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{build}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{build}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_thousand_threads_that_each_sleep_each_get_a_lane() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("emulated-2000");
    let file = dir.join("many.py");
    std::fs::write(
        &file,
        "import threading, time\ndone = []\nlock = threading.Lock()\n\
         def work(i):\n    time.sleep(0.01)\n    with lock:\n        done.append(i)\n\
         threads = [threading.Thread(target=work, args=(i,)) for i in range(2000)]\n\
         for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\n\
         print(len(done), sorted(done) == list(range(2000)), threading.active_count())\n",
    )
    .unwrap();
    let want = Command::new("python3").arg(&file).output().unwrap();
    let out = emulated(&file, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["program_output"]["stdout"].as_str().unwrap(),
        String::from_utf8_lossy(&want.stdout)
    );
    let workers = v["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2001);
    assert_eq!(workers[2000]["name"], "Thread-2000 (work)");
    let _ = std::fs::remove_dir_all(&dir);
}
