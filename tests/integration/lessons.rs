//! The lessons: each verdict follows its measurements (a contradicting measurement is reported
//! as such), and `gilscope lessons` lists, checks and refuses bad input as the CLI promises.

use crate::common;

use std::process::Command;

use gilscope::lessons::judge::judge;
use gilscope::lessons::{LESSONS, Measured, Report, TrialRuns, Verdict};
use gilscope_engine::trace::summary::{RunSummary, WorkerSummary};

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
}

/// A run of `threads` workers that took `wall_secs` and kept `busy` cores busy.
fn run(threads: usize, wall_secs: f64, busy: f64) -> RunSummary {
    RunSummary {
        threads,
        wall_secs,
        workers: vec![WorkerSummary {
            cpu_secs: busy * wall_secs,
            ..WorkerSummary::default()
        }],
        ..RunSummary::default()
    }
}

fn trial(key: &'static str, runs: Vec<RunSummary>) -> TrialRuns {
    TrialRuns {
        key,
        label: key.to_owned(),
        runs,
        skipped: None,
    }
}

fn with_result(mut s: RunSummary, result: serde_json::Value) -> RunSummary {
    s.result = result;
    s
}

fn verdict(number: usize, trials: &[TrialRuns], cores: usize) -> (String, Verdict) {
    judge(
        number,
        &Measured {
            trials,
            cores,
            bandwidth: None,
            earlier: &[],
        },
    )
}

#[test]
fn one_core_busy_holds_when_threads_do_not_gain_and_says_so_when_they_do() {
    let _machine = common::sharing();
    let flat = [
        trial("t1", vec![run(1, 1.0, 1.0)]),
        trial("t2", vec![run(2, 1.03, 1.0)]),
    ];
    let (observed, v) = verdict(1, &flat, 2);
    assert_eq!(v, Verdict::AsExpected, "{observed}");
    assert!(observed.contains("0.97x"), "{observed}");

    // A measurement that contradicts the claim: two threads twice as fast on two cores.
    let parallel = [
        trial("t1", vec![run(1, 1.0, 1.0)]),
        trial("t2", vec![run(2, 0.5, 2.0)]),
    ];
    let (_, v) = verdict(1, &parallel, 2);
    let Verdict::NotOnThisMachine(why) = v else {
        panic!("a 2x gain must not pass as one core busy")
    };
    assert!(why.contains("2.00x"), "{why}");
}

#[test]
fn the_fastest_of_repeated_runs_is_judged() {
    let _machine = common::sharing();
    // One slow 1-thread run (the host stole a core) must not fake a gain.
    let t = [
        trial("t1", vec![run(1, 3.0, 1.0), run(1, 1.0, 1.0)]),
        trial("t2", vec![run(2, 1.02, 1.0)]),
    ];
    assert_eq!(verdict(1, &t, 2).1, Verdict::AsExpected);
}

#[test]
fn processes_cannot_be_shown_on_one_core_and_a_weak_gain_is_reported() {
    let _machine = common::sharing();
    let t = [
        trial("mp1", vec![run(1, 1.0, 1.0)]),
        trial("mpn", vec![run(2, 0.55, 1.9)]),
    ];
    assert_eq!(verdict(2, &t, 2).1, Verdict::AsExpected);
    let (_, one_core) = verdict(2, &t, 1);
    assert!(
        one_core
            .text()
            .starts_with("not on this machine: this machine has 1 core")
    );
    let weak = [
        trial("mp1", vec![run(1, 1.0, 1.0)]),
        trial("mpn", vec![run(2, 0.95, 1.0)]),
    ];
    assert!(!verdict(2, &weak, 2).1.holds());
}

#[test]
fn the_bank_and_refcount_lessons_read_the_programs_results() {
    let _machine = common::sharing();
    let bank = |inline_lost: i64, call_lost: i64| {
        [
            trial(
                "inplace",
                vec![with_result(
                    run(2, 0.1, 1.0),
                    serde_json::json!({"expected": 1000, "final": 1000 - inline_lost, "lost": inline_lost}),
                )],
            ),
            trial(
                "withcall",
                vec![with_result(
                    run(2, 0.1, 1.0),
                    serde_json::json!({"expected": 1000, "final": 1000 - call_lost, "lost": call_lost}),
                )],
            ),
        ]
    };
    assert_eq!(verdict(6, &bank(0, 300), 2).1, Verdict::AsExpected);
    assert!(
        !verdict(6, &bank(5, 300), 2).1.holds(),
        "inline must lose nothing"
    );
    assert!(
        !verdict(6, &bank(0, 0), 2).1.holds(),
        "the call must lose some"
    );

    let rc = |with_gil: i64, without: i64| {
        [
            trial(
                "gil",
                vec![with_result(
                    run(2, 0.1, 1.0),
                    serde_json::json!({"refcount_drift": with_gil}),
                )],
            ),
            trial(
                "unsafe",
                vec![with_result(
                    run(2, 0.1, 1.0),
                    serde_json::json!({"refcount_drift": without}),
                )],
            ),
        ]
    };
    assert_eq!(verdict(7, &rc(0, -17), 2).1, Verdict::AsExpected);
    assert!(!verdict(7, &rc(3, -17), 2).1.holds());
    assert!(!verdict(7, &rc(0, 0), 2).1.holds());
}

#[test]
fn a_missing_measurement_is_said_never_guessed() {
    let _machine = common::sharing();
    let (observed, v) = verdict(3, &[trial("dl1", vec![run(1, 2.0, 0.0)])], 2);
    assert!(observed.starts_with("nothing to judge"), "{observed}");
    assert!(!v.holds());
}

#[test]
fn the_tree_holds_only_when_every_leaf_lesson_held() {
    let _machine = common::sharing();
    let report = |number: usize, verdict: Verdict| Report {
        number,
        title: LESSONS[number - 1].title,
        claim: LESSONS[number - 1].claim,
        observed: String::new(),
        verdict,
        trials: Vec::new(),
        bandwidth: None,
    };
    let all: Vec<Report> = [2, 3, 4, 8, 9]
        .into_iter()
        .map(|n| report(n, Verdict::AsExpected))
        .collect();
    let judged = |earlier: &[Report]| {
        judge(
            10,
            &Measured {
                trials: &[],
                cores: 2,
                bandwidth: None,
                earlier,
            },
        )
    };
    assert_eq!(judged(&all).1, Verdict::AsExpected);
    let mut one_failed = all.clone();
    one_failed[2] = report(4, Verdict::NotOnThisMachine("grid 200 gained 1.0x".into()));
    let Verdict::NotOnThisMachine(why) = judged(&one_failed).1 else {
        panic!("a failed leaf must fail the tree")
    };
    assert!(
        why.contains("lesson 4") && why.contains("grid 200 gained 1.0x"),
        "{why}"
    );
    assert!(
        !judged(&all[..3]).1.holds(),
        "a leaf that did not run is not proven"
    );
}

#[test]
fn lessons_lists_ten_in_the_source_order() {
    let _machine = common::sharing();
    let v = common::json_of(exe().args(["lessons", "--json"]));
    let titles: Vec<&str> = v["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 10);
    assert_eq!(titles[0], "One core busy");
    assert_eq!(titles[5], "The GIL protects the interpreter, not your data");
    assert_eq!(titles[9], "Which tool for which task");
}

#[test]
fn the_quick_check_gives_one_verdict_per_lesson() {
    let _machine = common::measuring();
    let v = common::json_of(exe().args(["lessons", "--check", "--quick", "--json"]));
    let lessons = v["lessons"].as_array().unwrap();
    assert_eq!(lessons.len(), 10);
    for l in lessons {
        for key in ["title", "claim", "observed", "verdict"] {
            assert!(
                l[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} in {l}"
            );
        }
        let verdict = l["verdict"].as_str().unwrap();
        assert!(
            verdict == "as expected" || verdict.starts_with("not on this machine: "),
            "{verdict}"
        );
    }
    // Claims that rest on counts, not on timings, hold on any machine: downloads overlap,
    // updates are lost through a call, and reference counts drift without the GIL.
    for n in [3, 6, 7] {
        assert_eq!(
            lessons[n - 1]["verdict"],
            "as expected",
            "lesson {n}: {}",
            lessons[n - 1]["observed"]
        );
    }
}

#[test]
fn bad_lesson_arguments_are_one_line_and_exit_2() {
    let _machine = common::sharing();
    for args in [
        vec!["lessons", "--check", "--only", "11"],
        vec!["lessons", "--check", "--only", "0,x"],
        vec!["lessons", "--quick"],
        vec!["--lesson", "0"],
        vec!["--lesson", "11"],
        vec!["--screenshot", "/tmp/never-written.png"],
        vec!["--program", "no-such-script.py"],
        vec![
            "--program",
            "tests/stop/long_builtin.py",
            "--runtime",
            "jython",
        ],
        vec!["--runtime", "cpython"],
        vec![
            "--program",
            "tests/stop/long_builtin.py",
            "--preset",
            "native",
        ],
        vec!["--tour", "0"],
        vec!["--tour", "many"],
        vec!["--tour", "1", "--lesson", "2"],
    ] {
        let out = exe().args(&args).env_remove("DISPLAY").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            err.lines()
                .filter(|l| l.starts_with("error:") || l.starts_with("gilscope:"))
                .count()
                == 1,
            "{args:?}: one error line: {err}"
        );
    }
    assert!(!std::path::Path::new("/tmp/never-written.png").exists());
}
