//! Helpers the integration tests share: running a command that must succeed, scratch folders,
//! counting what a run left behind (processes, gilscope threads, scratch folders),
//! recording a skip, and one lock for the tests that measure how many cores a run used.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The machine's cores, as the tests of this binary share them: a test whose assertion is a
/// relation between measured times or cores holds it alone, every other test shares it.
static MACHINE: RwLock<()> = RwLock::new(());

/// Takes the whole machine for a measurement: no other test of this binary runs meanwhile.
pub fn measuring() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(|p| p.into_inner())
}

/// Shares the machine with the other tests that do not measure (waits while one measures).
pub fn sharing() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|p| p.into_inner())
}

/// Where skips are written (`GILSCOPE_SKIP_LOG`, else under Cargo's scratch folder):
/// `scripts/check.sh` counts its lines for the closing line.
pub fn skip_log() -> PathBuf {
    std::env::var_os("GILSCOPE_SKIP_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.log"))
}

/// Records that the running test skipped (part of) what it checks, and why: printed, and one
/// line in [`skip_log`].
pub fn skip(reason: impl std::fmt::Display) {
    let test = std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned();
    eprintln!("skipped: {test}: {reason}");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
    {
        let _ = writeln!(f, "{test}: {reason}");
    }
}

/// Runs `cmd` and asserts that it succeeded, showing its stderr if not.
pub fn succeeded(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON `cmd` printed on stdout, after it succeeded.
pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    serde_json::from_slice(&succeeded(cmd).stdout).expect("one JSON value on stdout")
}

/// `gilscope run --runtime RUNTIME --program FILE`, as it ended.
pub fn run_in(runtime: &str, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args(["run", "--runtime", runtime, "--program"])
        .arg(file)
        .output()
        .expect("gilscope starts")
}

/// Asserts that `got` ended as `want` did: the same exit status and stdout.
pub fn assert_ends_as(got: &Output, want: &Output, name: &str) {
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
}

/// The names of a `--json` summary's workers that have one, in lane order.
pub fn worker_names(summary: &serde_json::Value) -> Vec<&str> {
    summary["workers"]
        .as_array()
        .map(|ws| ws.iter().filter_map(|w| w["name"].as_str()).collect())
        .unwrap_or_default()
}

/// The stand-in for Numba (`tests/scripts/numba_stand_in/`) copied into `dir/stand_in/`, the
/// folder to put on python3's `PYTHONPATH`: not beside the script, where it would shadow
/// gilscope's own emulated `numba` as it shadows the real one.
pub fn numba_stand_in(dir: &Path) -> PathBuf {
    let folder = dir.join("stand_in");
    std::fs::create_dir_all(&folder).expect("a folder for the stand-in");
    std::fs::copy(
        "tests/scripts/numba_stand_in/numba.py",
        folder.join("numba.py"),
    )
    .expect("the stand-in copied");
    folder
}

/// A fresh, empty scratch folder for one test of this process.
pub fn scratch_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gilscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch folder");
    d
}

/// The Python with NumPy that `scripts/numpy-venv.sh` makes under target/ (the test script
/// runs it), or `None`, recorded as a skip.
pub fn numpy_python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv-numpy/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(py)
    } else {
        skip(format!(
            "the NumPy comparison: no NumPy at {} (scripts/numpy-venv.sh makes it)",
            py.display()
        ));
        None
    }
}

/// The `.py` files of the folder `dir`, sorted by name.
pub fn py_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
}

/// The processes descended from `root` (children, theirs, ...), from `/proc/*/stat`.
pub fn descendants(root: u32) -> Vec<u32> {
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
pub fn cpu_secs(pid: u32) -> f64 {
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
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The scratch folders the real-CPython runtime of process `pid` has in the temporary folder.
pub fn scratch_folders_of(pid: u32) -> usize {
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
}

/// The threads of this process that gilscope named (`gilscope-…`), from `/proc/self/task`.
pub fn gilscope_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.starts_with("gilscope"))
                })
                .count()
        })
        .unwrap_or(0)
}
