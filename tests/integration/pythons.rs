//! The real-CPython runtime on every CPython this project can get: Debian's 3.13, 3.14 and 3.15
//! in the sid root `scripts/sid-pythons.sh` makes under `target/sid` (as root; elsewhere these
//! skip). A 2-thread count loop runs there, in a root of its own, and gilscope attaches to it
//! from outside: the GIL holder must be read (most of the wall time held, switches counted),
//! and a pure-Python loop must not be drawn as native work.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

const ROOT: &str = "target/sid";

const TWO_THREADS: &str = "import threading, time\n\
def work(until):\n    c = 0\n    while time.monotonic() < until:\n        c += 1\n\
until = time.monotonic() + 4.0\n\
ts = [threading.Thread(target=work, args=(until,)) for _ in range(2)]\n\
[t.start() for t in ts]\n[t.join() for t in ts]\n\
print('finished cleanly')\n";

#[test]
fn the_gil_is_read_right_on_3_13_3_14_and_3_15_in_a_root_of_their_own() {
    let _machine = common::measuring();
    let root = Path::new(ROOT);
    if !root.join("usr/bin/python3.15").exists() {
        common::skip(
            "no sid root with CPython 3.13-3.15 (scripts/sid-pythons.sh makes it, as root)",
        );
        return;
    }
    if !root.join("proc/self").exists() {
        common::skip("/proc is not mounted in target/sid (scripts/check.sh mounts it, as root)");
        return;
    }
    let script = root.join("tmp/gilscope-two-threads.py");
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::write(&script, TWO_THREADS).unwrap();
    for minor in [13, 14, 15] {
        let python = format!("python3.{minor}");
        let py = Command::new("chroot")
            .args([ROOT, &python, "/tmp/gilscope-two-threads.py"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // `chroot` execs the Python: its pid is the child's. Wait for its two threads.
        let tasks =
            || std::fs::read_dir(format!("/proc/{}/task", py.id())).map_or(0, |d| d.count());
        let deadline = Instant::now() + Duration::from_secs(20);
        while tasks() < 3 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .args([
                "attach",
                &py.id().to_string(),
                "--duration-secs",
                "1.5",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{python}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["python_version"].as_str().unwrap_or("").split('.').nth(1),
            Some(minor.to_string().as_str()),
            "{python}: {}",
            v["python_version"]
        );
        assert_eq!(
            v["gil_source"], "observed",
            "{python}: {}",
            v["gil_source_reason"]
        );
        assert!(
            v["gil_switches"].as_u64().unwrap() > 0,
            "{python}: no switches"
        );
        let wall = v["wall_secs"].as_f64().unwrap();
        let workers: Vec<&serde_json::Value> = v["workers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["tid"] != w["pid"])
            .collect();
        assert_eq!(workers.len(), 2, "{python}: {}", v["workers"]);
        let sum = |k: &str| workers.iter().map(|w| w[k].as_f64().unwrap()).sum::<f64>();
        let held = sum("python_secs") / wall;
        assert!(
            held >= 0.6,
            "{python}: the GIL held only {:.0}% of the wall time",
            held * 100.0
        );
        // On a core without the GIL is the hand-off (take_gil, drop_gil) in a pure-Python loop;
        // measured 1.9-5.6% of worker time here, once 12% on a loaded machine. The misreading
        // this guards against drew about 55% as native; the bound keeps a wide margin to both.
        let native = sum("native_secs") / (2.0 * wall);
        assert!(
            native <= 0.20,
            "{python}: {:.1}% of worker time called native",
            native * 100.0
        );
        let done = py.wait_with_output().unwrap();
        assert!(done.status.success(), "{python} did not end cleanly");
        assert_eq!(String::from_utf8_lossy(&done.stdout), "finished cleanly\n");
    }
    let _ = std::fs::remove_file(&script);
}
