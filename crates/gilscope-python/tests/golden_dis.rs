//! The compiler against CPython 3.11 itself: every code object of every bundled program, of the
//! construct files and of the source texts' example scripts disassembles exactly as
//! `python3.11 -m dis` printed it into `tests/golden/` (`tests/golden/regen.sh` makes them anew).
//! Needs nothing but this crate.

use std::path::{Path, PathBuf};

use gilscope_python::compiler::compile;
use gilscope_python::vm::code::disassemble_recursive;

/// The workspace's top folder, where `assets/` and `tests/golden/` live.
fn top() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
fn every_function_disassembles_exactly_as_cpython_311_dis() {
    let files = [
        "assets/programs/heat.py",
        "assets/programs/count.py",
        "assets/programs/bank.py",
        "assets/programs/download.py",
        "assets/programs/dot.py",
        "assets/programs/refcount.py",
        "tests/golden/constructs.py",
        "tests/golden/calls.py",
        "tests/golden/scopes.py",
        "tests/golden/generators.py",
        "tests/golden/exceptions.py",
        "tests/golden/classes.py",
        "tests/golden/sets.py",
        "tests/golden/coroutines.py",
        "tests/golden/unpacking.py",
        "tests/golden/processes.py",
        "tests/golden/shared_objects.py",
        "tests/golden/bytes_text.py",
        "tests/golden/legacy_names.py",
        "tests/golden/logging_threads.py",
        "tests/golden/stdlib_tools.py",
        "tests/golden/async_sync.py",
        "tests/golden/async_cancel.py",
        "tests/golden/async_waiting.py",
        "tests/golden/spawned.py",
        "tests/golden/annotations.py",
        "tests/golden/annotated.py",
        "tests/golden/percent_format.py",
        "tests/golden/future_annotations.py",
        "tests/golden/async_iteration.py",
        "tests/golden/bigints.py",
    ];
    // The source texts' example scripts, whose listings are `seed-NAME.dis`.
    let seeds = [
        "tests/scripts/asyncio_downloads.py",
        "tests/scripts/blot.py",
        "tests/scripts/count_pool.py",
        "tests/scripts/count_threads.py",
        "tests/scripts/download.py",
        "tests/scripts/numba_prange.py",
        "tests/scripts/numpy_dot.py",
        "tests/scripts/sum_squares.py",
    ];
    // A script and its own modules, whose listings lie beside them.
    let imports = [
        "tests/golden/imports/main.py",
        "tests/golden/imports/helper.py",
        "tests/golden/imports/shapes.py",
        "tests/golden/imports/cycle_a.py",
        "tests/golden/imports/cycle_b.py",
        "tests/golden/imports/broken_on_import.py",
        "tests/golden/imports/star.py",
        "tests/golden/imports/star_lib.py",
        "tests/golden/imports/pooled.py",
    ];
    for f in files.into_iter().chain(seeds).chain(imports) {
        let source = std::fs::read_to_string(top().join(f)).unwrap();
        let module = compile(&source, f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let got = without_addresses(&disassemble_recursive(&module.code));
        let stem = Path::new(f).file_stem().unwrap().to_str().unwrap();
        let name = if f.starts_with("tests/scripts/") {
            format!("seed-{stem}")
        } else if f.starts_with("tests/golden/imports/") {
            format!("imports/{stem}")
        } else {
            stem.to_owned()
        };
        let golden =
            std::fs::read_to_string(top().join(format!("tests/golden/{name}.dis"))).unwrap();
        let want = without_addresses(&golden);
        if got != want {
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{f}: first difference at line {}:\n  gilscope: {:?}\n  cpython:  {:?}",
                first + 1,
                got.lines().nth(first),
                want.lines().nth(first)
            );
        }
        assert!(want.contains("RESUME"), "{name}.dis is empty");
    }
}
