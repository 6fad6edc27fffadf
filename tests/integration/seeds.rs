//! The source texts' eight example scripts (`tests/scripts/`, copies of the project's seed
//! scripts), as a user pastes them: loop counts shrunk in a copy, `download.py` pointed at a
//! local HTTP server. Each runs unchanged in the emulation and on the real CPython, ends with
//! python3's exit status, prints python3's lines (numbers aside), and has a lane for every
//! thread and process it starts. The NumPy and Numba ones run on the venv
//! `scripts/numpy-venv.sh` makes; without Numba there, the real run of `numba_prange.py` uses
//! the stand-in on its PYTHONPATH and says so as a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::emulated_scripts::slow_http_server;
use crate::scripts::{copy_script, exe, have_python, shape};

/// One seed script: its edits for a test-sized run, what it imports, and its lanes.
struct Seed {
    name: &'static str,
    edits: Vec<(&'static str, String)>,
    needs_numpy: bool,
    needs_numba: bool,
    /// Lanes (threads, main included) the script starts, at least.
    lanes: usize,
    /// Processes among them (the script's own included).
    processes: usize,
}

fn seeds(url: &str) -> Vec<Seed> {
    let seed = |name, edits: &[(&'static str, &str)], numpy, numba, lanes, processes| Seed {
        name,
        edits: edits.iter().map(|(a, b)| (*a, (*b).to_owned())).collect(),
        needs_numpy: numpy,
        needs_numba: numba,
        lanes,
        processes,
    };
    vec![
        seed(
            "blot.py",
            &[("blot(np=100,", "blot(np=4,")],
            true,
            false,
            2,
            1,
        ),
        seed(
            "count_threads.py",
            &[("n = 50_000_000", "n = 1_000_000")],
            false,
            false,
            3,
            1,
        ),
        seed(
            "count_pool.py",
            &[("n = 50_000_000", "n = 1_000_000")],
            false,
            false,
            5,
            5,
        ),
        Seed {
            name: "download.py",
            edits: vec![("http://example.com", url.to_owned())],
            needs_numpy: false,
            needs_numba: false,
            lanes: 5,
            processes: 1,
        },
        seed(
            "numpy_dot.py",
            &[("np.random.rand(1000, 1000)", "np.random.rand(60, 60)")],
            true,
            false,
            3,
            1,
        ),
        seed(
            "sum_squares.py",
            &[("n = 10_000_000", "n = 100_000")],
            true,
            false,
            1,
            1,
        ),
        seed(
            "numba_prange.py",
            &[("np.random.rand(10_000_000)", "np.random.rand(100_000)")],
            true,
            true,
            1,
            1,
        ),
        seed("asyncio_downloads.py", &[], false, false, 1, 1),
    ]
}

/// Whether `py` imports `module`.
fn imports(py: &Path, module: &str) -> bool {
    Command::new(py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_texts_eight_scripts_run_unchanged_in_both_runtimes_with_a_lane_per_thread() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let numpy_py = common::numpy_python();
    let url = slow_http_server(std::time::Duration::from_millis(30));
    let dir = common::scratch_dir("seeds");
    let mut ran = 0;
    for seed in seeds(&url) {
        let python: PathBuf = if seed.needs_numpy {
            match &numpy_py {
                Some(p) => p.clone(),
                None => continue,
            }
        } else {
            PathBuf::from("python3")
        };
        let edits: Vec<(&str, &str)> = seed.edits.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let file = copy_script(&dir, seed.name, &edits);
        let mut stand_in = None;
        if seed.needs_numba && !imports(&python, "numba") {
            common::skip(format!(
                "{}: no Numba in {} (scripts/numpy-venv.sh installs it); python3 and the real \
                 runtime use the stand-in on their PYTHONPATH",
                seed.name,
                python.display()
            ));
            stand_in = Some(common::numba_stand_in(&dir));
        }
        let path = stand_in.clone().unwrap_or_default();
        let want = Command::new(&python)
            .env("PYTHONPATH", &path)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            want.status.success(),
            "{} on {}: {}",
            seed.name,
            python.display(),
            String::from_utf8_lossy(&want.stderr)
        );
        let want_shape = shape(&String::from_utf8_lossy(&want.stdout));
        for runtime in ["emulated", "cpython"] {
            let out = Command::new(exe())
                .env("PYTHONPATH", &path)
                .args(["run", "--runtime", runtime, "--json", "--python"])
                .arg(&python)
                .arg("--program")
                .arg(&file)
                .output()
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "{} on {runtime}: one JSON object ({e}); stderr: {}",
                    seed.name,
                    String::from_utf8_lossy(&out.stderr)
                )
            });
            let po = &v["program_output"];
            assert_eq!(
                po["exit_code"].as_i64(),
                Some(0),
                "{} on {runtime}: {}",
                seed.name,
                po["stderr"]
            );
            assert_eq!(
                shape(po["stdout"].as_str().unwrap_or("")),
                want_shape,
                "{} on {runtime}",
                seed.name
            );
            let workers = v["workers"].as_array().unwrap();
            let names: Vec<&str> = workers
                .iter()
                .map(|w| w["name"].as_str().unwrap_or(""))
                .collect();
            assert!(
                workers.len() >= seed.lanes,
                "{} on {runtime}: lanes {names:?}",
                seed.name
            );
            assert_eq!(names[0], "MainThread", "{} on {runtime}", seed.name);
            let pids: std::collections::BTreeSet<u64> =
                workers.iter().filter_map(|w| w["pid"].as_u64()).collect();
            assert!(
                pids.len() >= seed.processes,
                "{} on {runtime}: {} processes, {names:?}",
                seed.name,
                pids.len()
            );
        }
        let _ = std::fs::remove_file(dir.join("numba.py"));
        ran += 1;
    }
    assert!(ran >= 4, "only {ran} of the eight ran");
    let _ = std::fs::remove_dir_all(&dir);
}
