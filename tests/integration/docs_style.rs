//! Scripts written as the Python docs, PyMOTW and tutorials write them (a race and its fix,
//! conditions, queues, semaphores, events, thread subclasses, locals, timers, executors and
//! pools), in `tests/docs_style/`: each prints what python3 prints, and ends as it ends, in the
//! emulation and on the real CPython.

use std::process::Command;

use crate::common;
use crate::scripts::have_python;

#[test]
fn docs_style_scripts_print_what_python3_prints_in_both_runtimes() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let files = common::py_files("tests/docs_style");
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        let want = Command::new("python3").arg(file).output().unwrap();
        assert!(
            want.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&want.stderr)
        );
        for runtime in ["emulated", "cpython"] {
            let got = common::run_in(runtime, file);
            common::assert_ends_as(&got, &want, &format!("{} on {runtime}", file.display()));
        }
    }
}
