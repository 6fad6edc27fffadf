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

#[test]
fn ctrl_c_and_sigterm_stop_a_script_that_never_ends_leaving_nothing_behind() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
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
                    let tree = common::descendants(pid);
                    common::cpu_secs(pid) + tree.iter().map(|&p| common::cpu_secs(p)).sum::<f64>()
                };
                while busy() < 0.5 && std::time::Instant::now() < deadline {
                    std::thread::yield_now();
                }
                let tree = common::descendants(pid);
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
                let left: Vec<u32> = tree
                    .iter()
                    .copied()
                    .filter(|&p| common::exists(p))
                    .collect();
                assert!(left.is_empty(), "{name}: left running {left:?} of {tree:?}");
                assert_eq!(
                    common::scratch_folders_of(pid),
                    0,
                    "{name}: its scratch folder was left"
                );
                eprintln!(
                    "{name}: stopped in {took_ms:.0} ms, {} processes under it, none left",
                    tree.len()
                );
            }
        }
    }
}
