//! Tracebacks as python3 prints them: each script of `tests/tracebacks/` ends with an uncaught
//! exception, and the emulation's stderr (before gilscope's own summary) is python3's, line for
//! line, the 3.11 carets under the failing expression included.

use std::process::Command;

use crate::common;
use crate::scripts::have_python;

#[test]
fn uncaught_exceptions_print_python3s_traceback_with_its_carets() {
    let _shared = common::sharing();
    if !have_python() {
        return;
    }
    let files = common::py_files("tests/tracebacks");
    assert!(files.len() >= 20, "{files:?}");
    let mut with_carets = 0;
    for file in &files {
        let want = Command::new("python3").arg(file).output().unwrap();
        let got = common::run_in("emulated", file);
        let name = file.display().to_string();
        common::assert_ends_as(&got, &want, &name);
        let got_err = String::from_utf8_lossy(&got.stderr);
        let got_err = got_err.split("--- gilscope:").next().unwrap_or_default();
        let want_err = String::from_utf8_lossy(&want.stderr);
        assert_eq!(got_err, want_err, "{name}");
        if want_err
            .lines()
            .any(|l| l.trim_start().starts_with(['^', '~']))
        {
            with_carets += 1;
        }
    }
    // Most of them show carets: the test would pass vacuously if none did.
    assert!(
        with_carets >= 15,
        "{with_carets} of {} with carets",
        files.len()
    );
}
