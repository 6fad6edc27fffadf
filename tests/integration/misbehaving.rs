//! Scripts that misbehave (`tests/misbehaving/`: runaway recursion, allocations that can't be
//! had, an exception in a worker thread, `sys.exit(N)` and `SystemExit`, an uncaught exception
//! with a cause, 2000 threads, daemon threads at exit, a lock taken twice with a timeout, a
//! syntax error) end in both runtimes as they end on python3: the same output, exit status and
//! last line of the traceback, never a stack overflow or an abort of gilscope.

use std::process::Command;

use crate::common;
use crate::scripts::{exe, have_python};

/// The last line a run wrote to stderr before gilscope's own summary.
fn last_error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .take_while(|l| !l.starts_with("--- gilscope"))
        .last()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn misbehaving_scripts_end_as_they_end_on_python3() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let files = common::py_files("tests/misbehaving");
    assert!(files.len() >= 11);
    for file in &files {
        let want = Command::new("python3").arg(file).output().unwrap();
        let want_last = last_error_line(&want.stderr);
        for runtime in ["emulated", "cpython"] {
            let got = common::run_in(runtime, file);
            let name = format!("{} ({runtime})", file.display());
            let got_last = last_error_line(&got.stderr);
            common::assert_ends_as(&got, &want, &name);
            if want_last.starts_with("SyntaxError:") && runtime == "emulated" {
                // gilscope's one line: the place, then Ruff's words for what is wrong.
                assert!(
                    got_last.contains("syntax_error.py:3:") && got_last.contains(": SyntaxError: "),
                    "{name}: {got_last}"
                );
            } else {
                assert_eq!(got_last, want_last, "{name}");
            }
        }
    }
    // The runaway recursion's traceback counts its repeated frames as CPython does.
    let got = Command::new(exe())
        .args(["run", "--program", "tests/misbehaving/runaway_recursion.py"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        err.contains("  [Previous line repeated 996 more times]\n"),
        "{err}"
    );
}

/// The processes descended from `root` (children, theirs, ...), from `/proc/*/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let after = &stat[stat.rfind(')').unwrap_or(0) + 1..];
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// CPU seconds `pid` has used (user + system), 0 once it is gone.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = &stat[stat.rfind(')').map_or(stat.len(), |i| i + 1)..];
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

/// Whether `pid` still exists (a zombie counts: it was left behind).
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn ctrl_c_and_sigterm_stop_a_script_that_never_ends_leaving_nothing_behind() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let scratch_of = |pid: u32| -> usize {
        std::fs::read_dir(std::env::temp_dir())
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with(&format!("gilscope-cpython-{pid}-"))
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    for file in common::py_files("tests/stop") {
        for runtime in ["emulated", "cpython"] {
            for (signal, status) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
                let name = format!("{} ({runtime}, signal {signal})", file.display());
                let child = Command::new(exe())
                    .args(["run", "--runtime", runtime, "--program"])
                    .arg(&file)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let pid = child.id();
                // Running: its processes have spun for a while (a whole core's worth or more).
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                let busy = || {
                    let tree = descendants(pid);
                    cpu_secs(pid) + tree.iter().map(|&p| cpu_secs(p)).sum::<f64>()
                };
                while busy() < 0.5 && std::time::Instant::now() < deadline {
                    std::thread::yield_now();
                }
                let tree = descendants(pid);
                let started = std::time::Instant::now();
                // SAFETY: a signal to the child this test started.
                unsafe {
                    libc::kill(pid as i32, signal);
                }
                let out = child.wait_with_output().unwrap();
                let took_ms = started.elapsed().as_secs_f64() * 1e3;
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(status), "{name}: {err}");
                assert!(err.contains("gilscope: stopped by"), "{name}: {err}");
                // Wide: the benchmark times cancels; this catches a hang.
                assert!(took_ms < 5000.0, "{name}: {took_ms:.0} ms to stop");
                let left: Vec<u32> = tree.iter().copied().filter(|&p| exists(p)).collect();
                assert!(left.is_empty(), "{name}: left running {left:?} of {tree:?}");
                assert_eq!(scratch_of(pid), 0, "{name}: its scratch folder was left");
                eprintln!(
                    "{name}: stopped in {took_ms:.0} ms, {} processes under it, none left",
                    tree.len()
                );
            }
        }
    }
}
