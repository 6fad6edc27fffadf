//! Command-line tests: the JSON summary, the Chrome trace, the sweep CSV, and bad input.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gilscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("gilscope runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gilscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn run_json_has_every_field_and_the_trace_parses() {
    let _machine = common::sharing();
    let trace = tmp("trace.json");
    let out = gilscope(&[
        "run",
        "--mode",
        "threading",
        "--kernel",
        "numpy",
        "--threads",
        "2",
        "--grid",
        "20",
        "--problems",
        "6",
        "--iters",
        "4",
        "--json",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "mode",
        "kernel",
        "threads",
        "grid",
        "problems",
        "iters",
        "switch_interval_ms",
        "wall_secs",
        "checksum",
        "gil_switches",
        "gil_drop_requests",
        "dropped_events",
        "workers",
        "core_busy",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["mode"], "threading");
    assert_eq!(v["switch_interval_ms"], 5.0);
    let workers = v["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2);
    for key in [
        "id",
        "pid",
        "cpu_secs",
        "python_secs",
        "gil_wait_secs",
        "native_secs",
        "io_secs",
    ] {
        assert!(workers[0].get(key).is_some(), "missing workers[].{key}");
    }
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    let events = t["traceEvents"].as_array().unwrap();
    let complete: Vec<_> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert!(!complete.is_empty());
    for e in &complete {
        assert!(
            e["ts"].is_number()
                && e["dur"].is_number()
                && e["pid"].is_number()
                && e["tid"].is_number()
        );
        assert!(e["args"].get("cpu").is_some());
    }
    assert!(complete.iter().any(|e| e["name"] == "python"));
    assert!(complete.iter().any(|e| e["name"] == "native"));
}

#[test]
fn readable_summary_names_the_series() {
    let _machine = common::sharing();
    let out = gilscope(&[
        "run",
        "--mode",
        "native",
        "--kernel",
        "python",
        "--threads",
        "2",
        "--problems",
        "4",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Native+PurePy") && text.contains("wall time") && text.contains("checksum"),
        "{text}"
    );
}

#[test]
fn sweep_writes_csv_with_equal_checksums() {
    let _machine = common::sharing();
    let csv = tmp("sweep.csv");
    let out = gilscope(&[
        "sweep",
        "--series",
        "threading:numpy,native:numpy",
        "--threads",
        "1-2",
        "--repeats",
        "2",
        "--grid",
        "16",
        "--problems",
        "4",
        "--iters",
        "3",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("series,mode,kernel,interpreter,runtime,threads,repeat,wall_secs,checksum")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 2 * 2);
    assert!(
        rows.iter().all(|r| r[8] == rows[0][8]),
        "checksum depends on mode or threads"
    );
    assert!(
        rows.iter().any(|r| r[0] == "Threading+NumPy") && rows.iter().any(|r| r[0] == "Native")
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("Threading+NumPy"), "{table}");
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = gilscope(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?} -> {err}");
    assert!(
        err.to_lowercase().contains(needle),
        "{args:?}: '{err}' should mention '{needle}'"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty(), "no output on bad input");
}

#[test]
fn bad_input_exits_with_code_2_and_a_clear_message() {
    let _machine = common::sharing();
    assert_usage_error(&["run", "--threads", "0"], "threads");
    assert_usage_error(&["run", "--threads", "-3"], "threads");
    assert_usage_error(&["run", "--threads", "100000"], "threads");
    assert_usage_error(&["run", "--grid", "2"], "grid");
    assert_usage_error(&["run", "--grid", "-5"], "grid");
    assert_usage_error(
        &[
            "run",
            "--grid",
            "20000",
            "--threads",
            "64",
            "--problems",
            "64",
            "--kernel",
            "numpy",
        ],
        "gib",
    );
    assert_usage_error(&["run", "--mode", "gpu"], "mode");
    assert_usage_error(&["run", "--kernel", "fortran"], "kernel");
    assert_usage_error(&["run", "--switch-interval-ms", "-1"], "switch");
    assert_usage_error(&["run", "--switch-interval-ms", "0"], "switch");
    assert_usage_error(&["run", "--problems", "0"], "problems");
    assert_usage_error(&["run", "--threads", "abc"], "threads");
    assert_usage_error(&["sweep", "--series", "threading"], "mode:kernel");
    assert_usage_error(&["sweep", "--threads", "3-1"], "thread");
    assert_usage_error(&["run", "--frobnicate"], "frobnicate");
}

#[test]
fn unwritable_output_is_a_usage_error_and_leaves_no_file() {
    let _machine = common::sharing();
    let missing = Path::new("/nonexistent-dir/trace.json");
    assert_usage_error(
        &["run", "--trace", missing.to_str().unwrap()],
        "cannot write",
    );
    let dir = tmp("is-a-dir");
    std::fs::create_dir_all(&dir).unwrap();
    assert_usage_error(&["run", "--trace", dir.to_str().unwrap()], "cannot write");
    assert_usage_error(
        &[
            "sweep",
            "--csv",
            "/proc/nope/x.csv",
            "--threads",
            "1",
            "--repeats",
            "1",
        ],
        "cannot write",
    );
    assert!(!missing.exists());
}

#[test]
fn without_a_display_the_app_says_so() {
    let _machine = common::sharing();
    let out = gilscope(&[]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("display") && err.contains("gilscope run"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn help_lists_every_preset_and_attach_needs_a_live_process() {
    let _machine = common::sharing();
    let help = String::from_utf8_lossy(&gilscope(&["--help"]).stdout).to_string();
    for p in gilscope::view::presets::Preset::ALL {
        assert!(help.contains(p.name()), "--help lacks {}: {help}", p.name());
    }
    // A pid with no process is refused before any window is looked for.
    let out = gilscope(&["--attach", "4000000000"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no process 4000000000"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let out = gilscope(&["--attach", "1", "--lesson", "2"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--attach with --lesson is a usage error"
    );
}

/// Outputs land where they are pointed, as with `cp` and `tee`: through symlinks, into FIFOs,
/// on standard output; a full device is an error naming the path; a directory is refused before
/// the run; no temporary file is ever left behind.
#[cfg(unix)]
#[test]
fn outputs_follow_symlinks_write_fifos_and_stdout_and_refuse_directories() {
    let _machine = common::sharing();
    use std::os::unix::fs::FileTypeExt;
    let dir = tmp("outputs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let small = ["--program", "count", "--param", "N=1000"];

    // A symlink: the file it names gets the bytes; the link stays a link.
    let real = dir.join("real.json");
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let mut args = vec!["run", "--trace", link.to_str().unwrap()];
    args.extend(small);
    let out = gilscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert!(trace.is_object() || trace.is_array());

    // A FIFO: written directly, read by whoever listens.
    let fifo = dir.join("pipe.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let mut args = vec!["run", "--trace", fifo.to_str().unwrap()];
    args.extend(small);
    let out = gilscope(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = reader.join().unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&got).is_ok());
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // `-`: standard output.
    let mut args = vec!["sweep", "--threads", "1", "--repeats", "1", "--csv", "-"];
    args.extend(small);
    let out = gilscope(&args);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("series,mode,kernel,interpreter,runtime,threads,repeat,wall_secs,checksum")
    );

    // ENOSPC through a symlink to /dev/full: one line naming the path, non-zero, nothing left.
    let full = dir.join("full.json");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    let mut args = vec!["run", "--trace", full.to_str().unwrap()];
    args.extend(small);
    let out = gilscope(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("full.json") && err.contains("No space left"),
        "{err}"
    );

    // A directory: refused before the run, exit 2.
    let mut args = vec!["run", "--trace", dir.to_str().unwrap()];
    args.extend(small);
    let out = gilscope(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    assert!(out.stdout.is_empty(), "nothing ran");

    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["full.json", "link.json", "pipe.json", "real.json"],
        "no temporary files"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
