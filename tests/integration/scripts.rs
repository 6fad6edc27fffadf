//! Plain scripts on the real CPython, as a user pastes them (the source texts' examples in
//! `tests/scripts/`, loop counts shrunk in a copy): they run as `python3 FILE` runs them, with
//! its output and exit status, and every thread and process they start is a named lane.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

pub(crate) fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gilscope"))
}

/// Whether `python3` can be used, recording a skip if not.
pub(crate) fn have_python() -> bool {
    match gilscope_engine::runtime::cpython::probe("python3") {
        Ok(_) => true,
        Err(e) => {
            common::skip(format!("no usable python3 ({e})"));
            false
        }
    }
}

/// A copy of `tests/scripts/NAME` in `dir`, with each `(from, to)` replaced once.
pub(crate) fn copy_script(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let src = std::fs::read_to_string(Path::new("tests/scripts").join(name)).unwrap();
    let mut text = src.clone();
    for (from, to) in edits {
        assert!(text.contains(from), "{name} has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn gilscope_json(file: &Path) -> (Output, serde_json::Value) {
    let out = Command::new(exe())
        .args(["run", "--runtime", "cpython", "--json", "--program"])
        .arg(file)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON object on stdout ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, v)
}

/// Each line's words before the first number: what a timing-free comparison can check.
pub(crate) fn shape(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            l.split(|c: char| c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn the_texts_count_loop_runs_unchanged_with_pythons_output_and_a_lane_per_thread() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("script-count");
    let file = copy_script(
        &dir,
        "count_threads.py",
        &[("n = 50_000_000", "n = 3_000_000")],
    );
    let want = Command::new("python3").arg(&file).output().unwrap();
    assert!(want.status.success());
    let (out, v) = gilscope_json(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let po = &v["program_output"];
    assert_eq!(po["exit_code"], 0);
    let got = po["stdout"].as_str().unwrap();
    assert_eq!(
        shape(got),
        shape(&String::from_utf8_lossy(&want.stdout)),
        "{got}"
    );
    assert!(got.contains("Two threads:"), "{got}");
    let names = common::worker_names(&v);
    for n in [
        "MainThread",
        "Thread-1 (cpu_bound_task)",
        "Thread-2 (cpu_bound_task)",
    ] {
        assert!(names.contains(&n), "{n} not among {names:?}");
    }
    // The two workers took turns holding the GIL: it changed hands, and they ran Python.
    assert_eq!(v["gil_source"], "observed", "{}", v["gil_source_reason"]);
    assert!(v["gil_switches"].as_u64().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_script_ends_with_pythons_status_and_traceback() {
    let _machine = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("script-fail");
    let exits = dir.join("exits.py");
    std::fs::write(&exits, "print('before')\nraise SystemExit(3)\n").unwrap();
    let out = Command::new(exe())
        .args(["run", "--runtime", "cpython", "--program"])
        .arg(&exits)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n");

    let raises = dir.join("raises.py");
    std::fs::write(&raises, "def f():\n    return 1 // 0\n\nf()\n").unwrap();
    let want = Command::new("python3").arg(&raises).output().unwrap();
    let out = Command::new(exe())
        .args(["run", "--runtime", "cpython", "--program"])
        .arg(&raises)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), want.status.code());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&*String::from_utf8_lossy(&want.stderr)),
        "python3's traceback comes first, unchanged:\n{err}"
    );
    assert!(err.contains("ZeroDivisionError"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pools_worker_processes_each_get_lanes() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("script-pool");
    let file = copy_script(
        &dir,
        "count_pool.py",
        &[("n = 50_000_000", "n = 2_000_000")],
    );
    let (out, v) = gilscope_json(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = v["program_output"]["stdout"].as_str().unwrap();
    assert!(stdout.contains("Four processes:"), "{stdout}");
    let pids: std::collections::BTreeSet<u64> = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["pid"].as_u64().unwrap())
        .collect();
    // The script's own process and Pool(4)'s four workers.
    assert!(pids.len() >= 5, "processes seen: {pids:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_script_takes_only_its_own_constants_and_no_entry() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("script-no-params");
    let file = dir.join("plain.py");
    std::fs::write(&file, "print('hi')\n").unwrap();
    for (args, says) in [
        (
            ["--param", "N=3"],
            "has no parameter N (its parameters: none)",
        ),
        (["--entry", "main"], "plain script"),
    ] {
        let out = Command::new(exe())
            .args(["run", "--runtime", "cpython"])
            .args(args)
            .arg("--program")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn waiting_on_a_queue_or_a_join_is_not_waiting_for_the_gil() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("script-queue");
    let file = dir.join("queue_demo.py");
    std::fs::write(
        &file,
        "import queue, threading, time\n\
         q = queue.Queue()\n\
         def consumer():\n    while q.get() is not None:\n        pass\n\
         def producer():\n    for i in range(6):\n        time.sleep(0.05)\n        q.put(i)\n    q.put(None)\n\
         c = threading.Thread(target=consumer, name='consumer')\n\
         p = threading.Thread(target=producer, name='producer')\n\
         c.start(); p.start(); c.join(); p.join()\n\
         print('done')\n",
    )
    .unwrap();
    let (out, v) = gilscope_json(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["program_output"]["stdout"], "done\n");
    let worker = |name: &str| {
        v["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("no lane named {name}: {}", v["workers"]))
            .clone()
    };
    let secs = |w: &serde_json::Value, k: &str| w[k].as_f64().unwrap();
    // 0.3 s of waiting each: the consumer on the queue's lock, the producer in sleep, the main
    // thread in join; none of it is the GIL.
    let consumer = worker("consumer");
    assert!(secs(&consumer, "lock_wait_secs") > 0.2, "{consumer}");
    assert!(secs(&consumer, "gil_wait_secs") < 0.05, "{consumer}");
    let producer = worker("producer");
    assert!(secs(&producer, "io_secs") > 0.2, "{producer}");
    let main = worker("MainThread");
    assert!(secs(&main, "lock_wait_secs") > 0.2, "{main}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attach_watches_a_running_python_and_leaves_it_running() {
    let _machine = common::measuring();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("attach");
    let file = dir.join("two_threads.py");
    std::fs::write(
        &file,
        "import threading, time\n\
         def work(until):\n    c = 0\n    while time.monotonic() < until:\n        c += 1\n\
         until = time.monotonic() + 4.0\n\
         ts = [threading.Thread(target=work, args=(until,)) for _ in range(2)]\n\
         [t.start() for t in ts]\n[t.join() for t in ts]\n\
         print('finished cleanly')\n",
    )
    .unwrap();
    let mut py = Command::new("python3")
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The threads are started once python3 has imported threading and run two lines: wait
    // until /proc lists three tasks.
    let tasks = || std::fs::read_dir(format!("/proc/{}/task", py.id())).map_or(0, |d| d.count());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tasks() < 3 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let out = Command::new(exe())
        .args([
            "attach",
            &py.id().to_string(),
            "--duration-secs",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && err.contains("cannot read the memory") {
        common::skip(format!("attach: {}", err.trim()));
        let _ = py.kill();
        let _ = py.wait();
        return;
    }
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["attached_pid"], py.id());
    assert!(
        v["workers"].as_array().unwrap().len() >= 3,
        "{}",
        v["workers"]
    );
    assert_eq!(v["gil_source"], "observed", "{}", v["gil_source_reason"]);
    assert!(v["gil_switches"].as_u64().unwrap() > 0);
    let wall = v["wall_secs"].as_f64().unwrap();
    assert!((1.8..3.5).contains(&wall), "watched for {wall} s");
    // Each thread named as Python names it (read from `threading._active` in its memory).
    let mut names = common::worker_names(&v);
    names.sort_unstable();
    assert_eq!(
        names,
        ["MainThread", "Thread-1 (work)", "Thread-2 (work)"],
        "{}",
        v["workers"]
    );
    // The process was left to run to its own clean end.
    let done = py.wait_with_output().unwrap();
    assert!(done.status.success());
    assert_eq!(String::from_utf8_lossy(&done.stdout), "finished cleanly\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attach_refuses_what_it_cannot_watch_in_one_line() {
    let _machine = common::sharing();
    for (args, says) in [
        (vec!["attach", "4000000000"], "no process"),
        (
            vec!["attach", &std::process::id().to_string()],
            "not a CPython",
        ),
        (vec!["attach", "1", "--duration-secs", "-1"], "duration"),
    ] {
        let out = Command::new(exe()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
