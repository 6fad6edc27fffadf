//! Faults of an observed real CPython: the process is stopped (SIGSTOP) while watched, replaces
//! its program (exec), exits before the watch's time is up, or forks 200 children. The view
//! ends or goes on with a line that says what happened; it never hangs, and the process runs
//! on as it would have.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::scripts::{exe, have_python};

/// python3 running `source` from a file in `dir`, once it has started its threads.
fn start(dir: &std::path::Path, name: &str, source: &str, threads: usize) -> Child {
    let file = dir.join(name);
    std::fs::write(&file, source).unwrap();
    let py = Command::new("python3")
        .arg(&file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let tasks = || std::fs::read_dir(format!("/proc/{}/task", py.id())).map_or(0, |d| d.count());
    let deadline = Instant::now() + Duration::from_secs(20);
    while tasks() < threads + 1 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    py
}

/// `gilscope attach PID --duration-secs SECS --json`, started now.
fn attach(pid: u32, secs: &str) -> Child {
    Command::new(exe())
        .args([
            "attach",
            &pid.to_string(),
            "--duration-secs",
            secs,
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The attach's JSON, or `None` (a skip) where memory cannot be read here.
fn finish(watch: Child) -> Option<serde_json::Value> {
    let out = watch.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && err.contains("cannot read the memory") {
        common::skip(format!("attach: {}", err.trim()));
        return None;
    }
    assert!(out.status.success(), "{err}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

const COUNTING: &str = "import threading, time, os, sys\n\
def work(until):\n    c = 0\n    while time.monotonic() < until:\n        c += 1\n\
until = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 3)\n\
ts = [threading.Thread(target=work, args=(until,)) for _ in range(2)]\n\
[t.start() for t in ts]\n[t.join() for t in ts]\n";

#[test]
fn a_process_stopped_while_watched_is_said_to_be_stopped_and_runs_on() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("fault-stop");
    let source = format!("{COUNTING}print('finished cleanly')\n");
    let mut py = start(&dir, "stopped.py", &source, 2);
    let pid = py.id();
    let watch = attach(pid, "2");
    // The fault itself: the process is stopped for about half a second during the watch.
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: signals to the child this test started.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(pid as i32, libc::SIGCONT) };
    let Some(v) = finish(watch) else {
        let _ = py.kill();
        let _ = py.wait();
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let notes = v["notes"].to_string();
    assert!(notes.contains("was stopped"), "{notes}");
    assert_eq!(v["gil_source"], "observed", "{}", v["gil_source_reason"]);
    // The GIL stayed with one holder throughout: still most of the wall time held.
    let held: f64 = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["python_secs"].as_f64().unwrap())
        .sum::<f64>();
    assert!(
        held / v["wall_secs"].as_f64().unwrap() > 0.6,
        "held {held} s"
    );
    let done = py.wait_with_output().unwrap();
    assert!(done.status.success());
    assert_eq!(String::from_utf8_lossy(&done.stdout), "finished cleanly\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_process_that_execs_or_exits_ends_the_watch_early_with_a_line() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("fault-exec");
    for (name, tail, says) in [
        (
            "execs.py",
            "os.execv('/bin/sleep', ['sleep', '3'])\n",
            Some("(exec)"),
        ),
        ("exits.py", "sys.exit(0)\n", None),
    ] {
        let source = format!("{COUNTING}{tail}");
        let mut py = start(&dir, name, &source, 2);
        let started = Instant::now();
        let Some(v) = finish(attach(py.id(), "8")) else {
            let _ = py.kill();
            let _ = py.wait();
            break;
        };
        // The counting lasts 3 s: the watch ended soon after, not at its 8 s.
        let wall = v["wall_secs"].as_f64().unwrap();
        assert!(wall < 6.0, "{name}: watched {wall} s");
        assert!(started.elapsed() < Duration::from_secs(7), "{name}");
        let notes = v["notes"].to_string();
        match says {
            Some(text) => assert!(notes.contains(text), "{name}: {notes}"),
            None => assert!(v["notes"].is_null(), "{name}: {notes}"),
        }
        let done = py.wait_with_output().unwrap();
        assert!(done.status.success(), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_script_that_forks_200_children_runs_to_its_end_observed() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("fault-fork");
    let file = dir.join("forks.py");
    std::fs::write(
        &file,
        "import os, time\n\
         kids = []\n\
         for i in range(200):\n    pid = os.fork()\n    if pid == 0:\n        time.sleep(0.2)\n        os._exit(i % 7)\n    kids.append(pid)\n\
         codes = [os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids]\n\
         print('forked and reaped', len(kids), sum(codes))\n",
    )
    .unwrap();
    let want = Command::new("python3").arg(&file).output().unwrap();
    let v = common::json_of(
        Command::new(exe())
            .args(["run", "--runtime", "cpython", "--json", "--program"])
            .arg(&file),
    );
    assert_eq!(
        v["program_output"]["stdout"],
        String::from_utf8_lossy(&want.stdout).as_ref()
    );
    // The children that lived long enough to be seen are lanes of their own processes.
    let pids: std::collections::HashSet<u64> = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["pid"].as_u64().unwrap())
        .collect();
    assert!(pids.len() > 100, "{} processes seen", pids.len());
    let _ = std::fs::remove_dir_all(&dir);
}
