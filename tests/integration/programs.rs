//! Programs from Python source: the `dis` command against CPython 3.11's golden listing, each program's result
//! against a known value (and against `python3` itself where it is installed), the race the GIL
//! does not prevent, and one clear line for what the interpreter does not support.

use crate::common;

use std::path::Path;
use std::process::Command;

use gilscope_engine::config::{Mode, RunConfig};
use gilscope_engine::program::Program;
use gilscope_engine::runtime::{CancelToken, run_blocking};
use gilscope_engine::trace::spans::SpanState;
use gilscope_engine::trace::summary::RunSummary;

fn exe() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_gilscope").into()
}

/// `<code object f at 0x7f...` differs per process: compare without the address.
fn without_addresses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find(" at 0x") {
        out.push_str(&rest[..p]);
        let tail = &rest[p + 6..];
        let end = tail
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(tail.len());
        out.push_str(" at 0xADDR");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_dis_command_prints_the_golden_listing() {
    let _machine = common::sharing();
    let out = Command::new(exe())
        .args(["dis", "assets/programs/bank.py"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let golden = std::fs::read_to_string("tests/golden/bank.dis").unwrap();
    assert_eq!(
        without_addresses(&String::from_utf8_lossy(&out.stdout)),
        without_addresses(&golden)
    );
}

fn run(
    program: &str,
    mode: Mode,
    threads: usize,
    entry: Option<&str>,
    params: &[(&str, &str)],
) -> RunSummary {
    let cfg = RunConfig {
        mode,
        threads,
        program: program.to_owned(),
        entry: entry.map(str::to_owned),
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        publish_frames: false,
        worker_exe: Some(exe()),
        ..RunConfig::default()
    };
    run_blocking(&cfg, None, &CancelToken::new())
        .unwrap_or_else(|e| panic!("{program} {mode} x{threads}: {e}"))
        .summary
}

#[test]
fn count_totals_are_exact_in_every_mode() {
    let _machine = common::sharing();
    for (mode, threads) in [
        (Mode::Threading, 1),
        (Mode::Threading, 2),
        (Mode::Threading, 3),
        (Mode::Multiprocessing, 2),
    ] {
        let s = run("count", mode, threads, None, &[("N", "100_003")]);
        assert_eq!(s.result["total"], 100_003, "{mode} x{threads}");
        assert_eq!(s.workers.len(), threads);
        assert!(
            s.instructions > 100_003 * 5,
            "every increment is interpreted"
        );
    }
}

#[test]
fn threads_of_one_process_never_run_python_at_once_but_processes_do() {
    let _machine = common::measuring();
    let cfg = |mode| RunConfig {
        mode,
        threads: 2,
        program: "count".to_owned(),
        params: vec![("N".to_owned(), "3000000".to_owned())],
        switch_interval_micros: 1000,
        publish_frames: false,
        worker_exe: Some(exe()),
        ..RunConfig::default()
    };
    let overlap = |mode| {
        let out = run_blocking(&cfg(mode), None, &CancelToken::new()).unwrap();
        let py: Vec<_> = out
            .spans
            .iter()
            .filter(|s| s.state == SpanState::Python)
            .collect();
        let mut both_ns = 0u64;
        for a in py.iter().filter(|s| s.worker == 0) {
            for b in py.iter().filter(|s| s.worker == 1) {
                let (lo, hi) = (a.start_ns.max(b.start_ns), a.end_ns.min(b.end_ns));
                both_ns += hi.saturating_sub(lo);
            }
        }
        (both_ns, out.summary.gil_switches)
    };
    let (threads_both, switches) = overlap(Mode::Threading);
    assert_eq!(threads_both, 0, "two threads held one GIL at the same time");
    assert!(switches > 0, "the GIL never changed hands");
    let (procs_both, _) = overlap(Mode::Multiprocessing);
    if gilscope_engine::trace::clock::core_count() >= 2 {
        assert!(
            procs_both > 0,
            "two processes never ran Python at the same time"
        );
    }
}

#[test]
fn bank_inplace_loses_nothing_under_the_gil_but_a_call_between_read_and_write_does() {
    let _machine = common::measuring();
    let params = [("DEPOSITS", "400000")];
    let inplace = run("bank", Mode::Threading, 2, Some("deposit_inplace"), &params);
    assert_eq!(inplace.result["expected"], 800_000);
    assert_eq!(
        inplace.result["lost"], 0,
        "3.11 only switches at the backward jump"
    );
    assert_eq!(inplace.result["final"], 800_000);
    let cfg = RunConfig {
        threads: 2,
        program: "bank".to_owned(),
        entry: Some("deposit_with_call".to_owned()),
        params: vec![("DEPOSITS".to_owned(), "400000".to_owned())],
        switch_interval_micros: 500,
        publish_frames: false,
        ..RunConfig::default()
    };
    let with_call = run_blocking(&cfg, None, &CancelToken::new())
        .unwrap()
        .summary;
    assert!(with_call.gil_switches > 0);
    let lost = with_call.result["lost"].as_i64().unwrap();
    assert!(
        lost > 0,
        "a switch at add()'s RESUME loses the other thread's deposits"
    );
    assert_eq!(
        with_call.result["final"].as_i64().unwrap() + lost,
        800_000,
        "final + lost = expected"
    );
    // Processes have their own globals: the parent's balance never moves, as in CPython.
    let procs = run(
        "bank",
        Mode::Multiprocessing,
        2,
        None,
        &[("DEPOSITS", "1000")],
    );
    assert_eq!(procs.result["final"], 0);
    assert_eq!(procs.result["lost"], 2000);
}

#[test]
fn downloads_overlap_their_waits() {
    let _machine = common::measuring();
    let one = run("download", Mode::Threading, 1, None, &[("LATENCY", "0.05")]);
    let four = run("download", Mode::Threading, 4, None, &[("LATENCY", "0.05")]);
    for s in [&one, &four] {
        assert_eq!(s.result["downloads"], 4);
        assert_eq!(s.result["bytes"], 72);
    }
    let io = |s: &RunSummary| s.workers.iter().map(|w| w.io_secs).sum::<f64>();
    // Each download really waits with the GIL released, four in all, in either case.
    assert!(io(&one) >= 4.0 * 0.05 * 0.95, "{}", io(&one));
    assert!(io(&four) >= 4.0 * 0.05 * 0.95, "{}", io(&four));
    // Four threads wait at once: the run is far shorter than the sum of the waits.
    assert!(
        four.wall_secs < io(&four) * 0.75,
        "{} vs {}",
        four.wall_secs,
        io(&four)
    );
}

#[test]
fn numpy_dot_releases_the_gil() {
    let _machine = common::sharing();
    let s = run(
        "dot",
        Mode::Threading,
        2,
        None,
        &[("SIZE", "120"), ("PRODUCTS", "4")],
    );
    assert_eq!(s.result["products"], 4);
    assert_eq!(s.result["size"], 120);
    assert!(
        s.workers.iter().all(|w| w.native_secs > 0.0),
        "np.dot ran with the GIL released"
    );
}

#[test]
fn heat_checksum_is_the_same_in_every_mode_and_matches_numpy_rounding() {
    let _machine = common::sharing();
    let mut seen = Vec::new();
    for (mode, threads) in [
        (Mode::Threading, 1),
        (Mode::Threading, 3),
        (Mode::Multiprocessing, 2),
        (Mode::Native, 2),
    ] {
        let s = run("heat", mode, threads, None, &[("NP", "5"), ("NITER", "4")]);
        seen.push(s.checksum);
    }
    assert!(seen.iter().all(|&c| c == seen[0]), "{seen:?}");
    // Measured with CPython 3.11.7 + NumPy 2.4.6: python3 assets/programs/heat.py
    //   --threads 2 --param NP=6 --param NITER=5  ->  628.2488157924216
    let s = run(
        "heat",
        Mode::Threading,
        2,
        None,
        &[("NP", "6"), ("NITER", "5")],
    );
    assert_eq!(s.checksum, 628.2488157924216);
}

/// Runs `python3 assets/programs/X.py ...` and returns its JSON result, or why it could not.
/// The `result` python3 reports for `args`, or why python3 could not be started (a python3
/// that starts and fails is a test failure, not a skip).
fn cpython_result(args: &[&str]) -> Result<serde_json::Value, String> {
    let out = Command::new("python3")
        .args(args)
        .output()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    assert!(
        out.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().expect("python3 printed a result line");
    let v: serde_json::Value = serde_json::from_str(last).expect("the result line is JSON");
    Ok(v["result"].clone())
}

#[test]
fn results_match_real_cpython_where_it_is_installed() {
    let _machine = common::sharing();
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 3] = [
        (
            "count",
            &["--threads", "3", "--param", "N=12345"],
            &[("N", "12345")],
        ),
        (
            "bank",
            &[
                "--mode",
                "multiprocessing",
                "--threads",
                "2",
                "--param",
                "DEPOSITS=500",
            ],
            &[("DEPOSITS", "500")],
        ),
        (
            "download",
            &["--threads", "2", "--param", "LATENCY=0.01"],
            &[("LATENCY", "0.01")],
        ),
    ];
    for (program, args, params) in cases {
        let file = format!("assets/programs/{program}.py");
        let mut full = vec![file.as_str()];
        full.extend_from_slice(args);
        let want = match cpython_result(&full) {
            Ok(v) => v,
            Err(why) => {
                common::skip(format!("the CPython comparison of {program}: {why}"));
                continue;
            }
        };
        let mode = if args.contains(&"multiprocessing") {
            Mode::Multiprocessing
        } else {
            Mode::Threading
        };
        let threads: usize = args[args.iter().position(|a| *a == "--threads").unwrap() + 1]
            .parse()
            .unwrap();
        let got = run(program, mode, threads, None, params);
        assert_eq!(got.result, want, "{program}");
    }
}

fn compile_error(src: &str) -> String {
    match Program::from_source("bad", "bad.py", src) {
        Ok(_) => panic!("compiled: {src}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unsupported_constructs_are_one_line_with_file_line_and_column() {
    let _machine = common::sharing();
    let cases = [
        (
            "match x:\n    case 1:\n        pass\n",
            "bad.py:1:1: a match statement is not supported",
        ),
        (
            "def f():\n    try:\n        pass\n    except* E:\n        pass\n",
            "bad.py:2:5: except* is not supported",
        ),
        (
            "async def f(n):\n    return [x async for x in n]\n",
            "bad.py:2:15: an async comprehension is not supported",
        ),
        (
            "def f(x):\n    print(*x, sep='')\n    match x:\n        case 1:\n            pass\n",
            "bad.py:3:5: a match statement is not supported",
        ),
    ];
    for (src, want) in cases {
        let got = compile_error(src);
        assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        assert!(got.ends_with("by gilscope's interpreter"), "{got}");
        assert_eq!(got.lines().count(), 1);
    }
    let syntax = compile_error("def f(x)\n    return x\n");
    assert!(syntax.starts_with("bad.py:1:9: SyntaxError: "), "{syntax}");
    assert_eq!(syntax.lines().count(), 1);
    // CPython's SyntaxError texts for await, yield from and import * in the wrong place.
    for (src, want) in [
        (
            "await x\n",
            "bad.py:1:1: SyntaxError: 'await' outside function",
        ),
        (
            "def f():\n    from os import *\n",
            "bad.py:2:5: SyntaxError: import * only allowed at module level",
        ),
        (
            "'doc'\nimport os\nfrom __future__ import annotations\n",
            "bad.py:3:1: SyntaxError: from __future__ imports must occur at the beginning of the file",
        ),
        (
            "from __future__ import annotations, flying_cars\n",
            "bad.py:1:1: SyntaxError: future feature flying_cars is not defined",
        ),
        (
            "from __future__ import braces\n",
            "bad.py:1:1: SyntaxError: not a chance",
        ),
        (
            "def f():\n    await x\n",
            "bad.py:2:5: SyntaxError: 'await' outside async function",
        ),
        (
            "async def f():\n    yield from x\n",
            "bad.py:2:5: SyntaxError: 'yield from' inside async function",
        ),
        (
            "def f(lock):\n    async with lock:\n        pass\n",
            "bad.py:2:5: SyntaxError: 'async with' outside async function",
        ),
        (
            "def f(it):\n    async for x in it:\n        pass\n",
            "bad.py:2:5: SyntaxError: 'async for' outside async function",
        ),
        (
            "async def f():\n    yield 1\n    return 2\n",
            "bad.py:3:5: SyntaxError: 'return' with value in async generator",
        ),
    ] {
        assert_eq!(compile_error(src), want);
    }
}

fn write_program(dir: &Path, name: &str, src: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, src).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn a_teachers_own_program_runs_and_its_errors_are_one_line() {
    let _machine = common::sharing();
    let dir = tempdir();
    let ok = write_program(
        &dir,
        "mine.py",
        "STEPS = 1000\nENTRY = \"work\"\n\ndef work():\n    t = 0\n    for i in range(STEPS):\n        t += i\n    return t\n\ndef report(results):\n    return {\"sum\": results[0], \"line\": f\"{results[0]:,} in {STEPS!r} steps, {0.5:>7.1%}|\"}\n",
    );
    let v = common::json_of(Command::new(exe()).args([
        "run",
        "--program",
        &ok,
        "--threads",
        "1",
        "--param",
        "STEPS=100",
        "--json",
    ]));
    assert_eq!(v["result"]["sum"], 4950);
    // What python3.11 prints for the same f-string.
    assert_eq!(v["result"]["line"], "4,950 in 100 steps,   50.0%|");
    assert_eq!(v["entry"], "work");

    // A Python exception at run time: one line FILE:LINE: NameError: ..., exit 1.
    let bad = write_program(
        &dir,
        "oops.py",
        "ENTRY = \"work\"\n\ndef work():\n    return missing + 1\n",
    );
    let out = Command::new(exe())
        .args(["run", "--program", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        format!("{bad}:4: NameError: name 'missing' is not defined")
    );

    // Division by zero in a helper reports the helper's line.
    let zero = write_program(
        &dir,
        "zero.py",
        "ENTRY = \"work\"\n\ndef div(a):\n    return a // 0\n\ndef work():\n    return div(3)\n",
    );
    let out = Command::new(exe())
        .args(["run", "--program", &zero])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("{zero}:4: ZeroDivisionError: integer division or modulo by zero")
    );

    // The driver calls ENTRY with no arguments (no share()): CPython's TypeError, at the def.
    let args = write_program(
        &dir,
        "args.py",
        "ENTRY = \"work\"\n\n\ndef work(n):\n    return n\n",
    );
    let out = Command::new(exe())
        .args(["run", "--program", &args])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("{args}:4: TypeError: work() missing 1 required positional argument: 'n'")
    );

    // A compile error: one line FILE:LINE:COL, exit 2, before anything runs.
    let cls = write_program(&dir, "cls.py", "match 1:\n    case 1:\n        pass\n");
    let out = Command::new(exe())
        .args(["run", "--program", &cls])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("{cls}:1:1: a match statement is not supported")),
        "{err}"
    );
}

#[test]
fn bad_program_arguments_are_usage_errors() {
    let _machine = common::sharing();
    let cases: [&[&str]; 6] = [
        &["run", "--program", "nope"],
        &["run", "--program", "count", "--param", "X=1"],
        &["run", "--program", "count", "--param", "N=abc"],
        &["run", "--program", "count", "--param", "N"],
        &["run", "--program", "count", "--entry", "missing"],
        &["run", "--program", "count", "--mode", "native"],
    ];
    for args in cases {
        let out = Command::new(exe()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "gilscope-programs-{}-{}",
        std::process::id(),
        gilscope_engine::trace::clock::now_ns()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
