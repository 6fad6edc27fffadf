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
            let got = Command::new(exe())
                .args(["run", "--runtime", runtime, "--program"])
                .arg(file)
                .output()
                .unwrap();
            let name = format!("{} ({runtime})", file.display());
            let got_last = last_error_line(&got.stderr);
            assert_eq!(
                got.status.code(),
                want.status.code(),
                "{name}: {}",
                String::from_utf8_lossy(&got.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout),
                "{name}"
            );
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
