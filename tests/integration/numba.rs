//! Numba and NumPy in the emulation: the text's `prange` example runs, its loop split over a
//! pool of threads that never take the GIL; jitted functions give what plain Python gives
//! (checked against python3 with a stand-in `numba` module beside the script); the run says
//! that the interpreter stood in for Numba's compiler; NumPy as the seeds use it prints what
//! real NumPy prints.

use std::path::Path;
use std::process::Command;

use gilscope_engine::config::RunConfig;
use gilscope_engine::runtime::{CancelToken, run_blocking};
use gilscope_engine::trace::summary::RunSummary;

use crate::common;
use crate::scripts::copy_script;

fn run(file: &Path) -> RunSummary {
    let cfg = RunConfig {
        program: file.to_str().unwrap().to_owned(),
        worker_exe: Some(env!("CARGO_BIN_EXE_gilscope").into()),
        ..RunConfig::default()
    };
    run_blocking(&cfg, None, &CancelToken::new())
        .unwrap()
        .summary
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn the_texts_prange_loop_runs_on_numbas_pool_without_the_gil() {
    let _machine = common::measuring();
    let dir = common::scratch_dir("numba-prange");
    let file = copy_script(
        &dir,
        "numba_prange.py",
        &[("np.random.rand(10_000_000)", "np.random.rand(200_000)")],
    );
    let s = run(&file);
    let po = s.program_output.as_ref().unwrap();
    assert_eq!(po.exit_code, 0, "{}", po.stderr);
    let line = po.stdout.trim_end();
    assert!(
        line.starts_with("Time: ") && line.ends_with('s') && line.contains('.'),
        "{line:?}"
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("numba: parallel_sum_squares()") && n.contains("interpreter")),
        "{:?}",
        s.notes
    );
    let names: Vec<_> = s.workers.iter().filter_map(|w| w.name.as_deref()).collect();
    if cores() < 2 {
        common::skip("the prange split: one core, so Numba's pool has no thread to split over");
        assert_eq!(names, ["MainThread"]);
        return;
    }
    let pool: Vec<String> = (1..cores()).map(|n| format!("numba-worker-{n}")).collect();
    assert_eq!(names[0], "MainThread");
    assert_eq!(names[1..], pool[..], "{names:?}");
    // The pool's threads ran the loop as native work: never holding or waiting for the GIL,
    // which the calling thread held throughout (compiled code lets no switch happen).
    for w in &s.workers[1..] {
        assert!(w.native_secs > 0.0, "{w:?}");
        assert_eq!(w.python_secs, 0.0, "{w:?}");
        assert_eq!(w.gil_wait_secs, 0.0, "{w:?}");
        assert!(w.instructions > 100_000, "{w:?}");
    }
    assert!(s.workers[0].python_secs > 0.0);
    assert_eq!(s.gil_switches, 0);
}

#[test]
fn jitted_functions_give_what_plain_python_gives() {
    let _shared = common::sharing();
    let Some(py) = common::numpy_python() else {
        return;
    };
    let dir = common::scratch_dir("numba-kernels");
    let file = copy_script(&dir, "numba_kernels.py", &[]);
    let stand_in = common::numba_stand_in(&dir);
    let want = Command::new(py)
        .env("PYTHONPATH", &stand_in)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        want.status.success(),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    let s = run(&file);
    let po = s.program_output.as_ref().unwrap();
    assert_eq!(po.exit_code, 0, "{}", po.stderr);
    assert_eq!(po.stdout, String::from_utf8_lossy(&want.stdout));
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("count_down()") && n.contains("GIL released")),
        "{:?}",
        s.notes
    );
}

#[test]
fn numpy_as_the_seeds_use_it_prints_what_numpy_prints() {
    let _shared = common::sharing();
    let Some(py) = common::numpy_python() else {
        return;
    };
    let file = Path::new("tests/scripts/numpy_basics.py");
    let want = Command::new(py).arg(file).output().unwrap();
    assert!(
        want.status.success(),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    let s = run(file);
    let po = s.program_output.as_ref().unwrap();
    assert_eq!(po.exit_code, 0, "{}", po.stderr);
    assert_eq!(po.stdout, String::from_utf8_lossy(&want.stdout));
}
