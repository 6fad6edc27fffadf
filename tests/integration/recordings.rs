//! Recordings: a recorded run replays with the live run's checksum, wall time and switch count,
//! its exports render, and damaged files are one line and exit 2.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
}

fn record(dir: &Path) -> (PathBuf, serde_json::Value) {
    let file = dir.join("run.gilscope");
    let live = common::json_of(
        exe()
            .args(["run", "--threads", "2", "--kernel", "numpy", "--grid", "60"])
            .args(["--problems", "40", "--json", "--record"])
            .arg(&file),
    );
    (file, live)
}

#[test]
fn a_recorded_run_replays_with_its_figures_and_exports() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("rec-replay");
    let (file, live) = record(&dir);
    let replayed = common::json_of(exe().arg("replay").arg(&file).arg("--json"));
    for key in [
        "checksum",
        "wall_secs",
        "gil_switches",
        "gil_releases",
        "workers",
        "result",
    ] {
        assert_eq!(replayed[key], live[key], "{key}");
    }
    assert!(live["gil_switches"].as_u64().unwrap() > 0);
    let (png, svg, grid, trace) = (
        dir.join("t.png"),
        dir.join("t.svg"),
        dir.join("g.png"),
        dir.join("t.json"),
    );
    let out = common::succeeded(
        exe()
            .arg("replay")
            .arg(&file)
            .arg("--timeline-png")
            .arg(&png)
            .arg("--timeline-svg")
            .arg(&svg)
            .arg("--grid-png")
            .arg(&grid)
            .arg("--trace")
            .arg(&trace),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("recorded on "), "{text}");
    for p in [&png, &grid] {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display());
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(t["traceEvents"].as_array().is_some_and(|e| !e.is_empty()));
}

#[test]
fn damaged_recordings_are_one_line_and_exit_2() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("rec-damaged");
    let (file, _) = record(&dir);
    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.join("truncated.gilscope");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut newer_bytes = bytes.clone();
    newer_bytes[12..16].copy_from_slice(&99u32.to_le_bytes());
    let newer = dir.join("newer.gilscope");
    std::fs::write(&newer, &newer_bytes).unwrap();
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0xff;
    let corrupt = dir.join("corrupt.gilscope");
    std::fs::write(&corrupt, &flipped).unwrap();
    let text = dir.join("notes.gilscope");
    std::fs::write(&text, "just some text\n").unwrap();
    for (path, says) in [
        (&truncated, "truncated"),
        (&newer, "newer"),
        (&corrupt, "corrupt"),
        (&text, "not a gilscope recording"),
        (&dir, "directory"),
    ] {
        let out = exe().arg("replay").arg(path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(says), "{}: {err}", path.display());
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_recorded_sweep_replays_to_the_same_csv() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("rec-sweep");
    let (file, live_csv) = (dir.join("s.gilscope"), dir.join("live.csv"));
    common::succeeded(
        exe()
            .args([
                "sweep",
                "--threads",
                "1-2",
                "--repeats",
                "1",
                "--problems",
                "10",
            ])
            .args([
                "--series",
                "threading:python,multiprocessing:python",
                "--record",
            ])
            .arg(&file)
            .arg("--csv")
            .arg(&live_csv),
    );
    let replay_csv = dir.join("replay.csv");
    let svg = dir.join("s.svg");
    common::succeeded(
        exe()
            .arg("replay")
            .arg(&file)
            .arg("--csv")
            .arg(&replay_csv)
            .arg("--svg")
            .arg(&svg),
    );
    assert_eq!(
        std::fs::read_to_string(&replay_csv).unwrap(),
        std::fs::read_to_string(&live_csv).unwrap()
    );
    assert!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .contains("Threading+PurePy")
    );
    // A sweep has no run: run exports are refused before anything is written.
    let png = dir.join("nope.png");
    let out = exe()
        .arg("replay")
        .arg(&file)
        .arg("--timeline-png")
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!png.exists());
}

#[test]
fn standard_output_carries_one_output_alone() {
    let _machine = common::sharing();
    // `--record -`: the recording alone on stdout (the readable report goes to stderr).
    let out = common::succeeded(exe().args([
        "run",
        "--threads",
        "2",
        "--problems",
        "10",
        "--record",
        "-",
    ]));
    assert_eq!(&out.stdout[..12], b"\x89GILSCOPE\r\n\x1a");
    let dir = common::scratch_dir("rec-stdout");
    let file = dir.join("piped.gilscope");
    std::fs::write(&file, &out.stdout).unwrap();
    let replayed = common::json_of(exe().arg("replay").arg(&file).arg("--json"));
    assert!(replayed["wall_secs"].as_f64().unwrap() > 0.0);
    // A replayed timeline at `-`: a PNG and nothing else.
    let png = common::succeeded(exe().arg("replay").arg(&file).args(["--timeline-png", "-"]));
    assert_eq!(&png.stdout[..8], b"\x89PNG\r\n\x1a\n");
    assert!(String::from_utf8_lossy(&png.stderr).contains("recorded on"));
    // Two claims on stdout are refused before any work.
    for args in [
        vec!["run", "--json", "--record", "-"],
        vec!["run", "--trace", "-", "--timeline-png", "-"],
        vec!["sweep", "--csv", "-", "--record", "-"],
    ] {
        let out = exe().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("standard output"));
    }
}
