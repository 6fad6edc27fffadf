//! A plain script's UPPERCASE constants as parameters: `--param NT=3` rewrites `NT = 1` before
//! the script runs, in the emulation and on the real CPython alike (where the Python's own
//! parser does it), and a sweep can take one as its thread axis (`--thread-param NT`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use crate::scripts::{exe, have_python};

const SCRIPT: &str = r#"import sys
import threading

NT = 1
LABEL = "run"


def work(k, out):
    out.append(k * k)


out = []
threads = [threading.Thread(target=work, args=(k, out)) for k in range(NT)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(LABEL, NT, sorted(out), __name__, __file__ == sys.argv[0], threading.active_count())
if len(sys.argv) > 1:
    raise ValueError(sys.argv[1])
"#;

fn script(dir: &Path) -> PathBuf {
    let p = dir.join("threads_param.py");
    std::fs::write(&p, SCRIPT).unwrap();
    p
}

fn run(runtime: &str, file: &Path, params: &[&str]) -> Output {
    let mut cmd = Command::new(exe());
    cmd.args(["run", "--runtime", runtime, "--program"])
        .arg(file);
    for p in params {
        cmd.args(["--param", p]);
    }
    cmd.output().unwrap()
}

#[test]
fn a_param_sets_a_scripts_constant_in_both_runtimes() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let dir = common::scratch_dir("script-params-both");
    let file = script(&dir);
    for runtime in ["emulated", "cpython"] {
        let out = run(runtime, &file, &["NT=3", "LABEL=sweep"]);
        assert!(
            out.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "sweep 3 [0, 1, 4] __main__ True 1\n",
            "{runtime}"
        );
        let unknown = run(runtime, &file, &["NX=3"]);
        assert_eq!(unknown.status.code(), Some(2), "{runtime}");
        let err = String::from_utf8_lossy(&unknown.stderr);
        assert!(
            err.contains("has no parameter NX (its parameters: "),
            "{runtime}: {err}"
        );
        let bad = run(runtime, &file, &["NT=many"]);
        assert_eq!(bad.status.code(), Some(2), "{runtime}");
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("--param NT: 'many' is not a valid int"),
            "{runtime}"
        );
    }
    // The real CPython with a parameter: the script's own traceback, nothing of the start.
    let raising = dir.join("raising.py");
    std::fs::write(
        &raising,
        SCRIPT
            .replace("len(sys.argv) > 1", "NT > 2")
            .replace("raise ValueError(sys.argv[1])", "raise ValueError(NT)"),
    )
    .unwrap();
    let want = Command::new("python3").arg(&raising).output().unwrap();
    assert!(want.status.success());
    let out = run("cpython", &raising, &["NT=3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let tb: Vec<&str> = err
        .lines()
        .take_while(|l| !l.starts_with("--- gilscope"))
        .collect();
    assert_eq!(tb[0], "Traceback (most recent call last):", "{err}");
    assert!(
        tb[1].contains("raising.py\", line 20, in <module>"),
        "{err}"
    );
    assert_eq!(tb.last(), Some(&"ValueError: 3"), "{err}");
    assert!(!err.contains("<string>"), "{err}");
}

#[test]
fn a_sweep_takes_a_scripts_constant_as_its_thread_axis() {
    let _shared = common::sharing();
    let dir = common::scratch_dir("script-sweep");
    let file = script(&dir);
    let csv = dir.join("points.csv");
    let out = Command::new(exe())
        .args(["sweep", "--program"])
        .arg(&file)
        .args([
            "--thread-param",
            "NT",
            "--threads",
            "1,3",
            "--repeats",
            "1",
            "--csv",
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].contains(",1,") && rows[1].contains(",3,"), "{text}");
    // Without the axis, the sweep says what to name; a program's sweep refuses it.
    let missing = Command::new(exe())
        .args(["sweep", "--program"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--thread-param"));
    let program = Command::new(exe())
        .args(["sweep", "--program", "count", "--thread-param", "NT"])
        .output()
        .unwrap();
    assert_eq!(program.status.code(), Some(2));
}
