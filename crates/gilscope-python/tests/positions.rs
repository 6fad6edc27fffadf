//! The compiler's instruction positions (`co_positions`, what a traceback's carets are drawn
//! from) against CPython 3.11's own: for every instruction that can raise, in every code object
//! of the construct files, the seed scripts and the traceback scripts, a position gilscope
//! gives is python3's. Skips, with a line, where python3 is not CPython 3.11.

use std::path::{Path, PathBuf};
use std::process::Command;

use gilscope_python::compiler::compile;
use gilscope_python::vm::code::Code;
use gilscope_python::vm::value::Value;

/// The workspace's top folder.
fn top() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Prints every instruction of every code object, depth first as `dis` lists them:
/// `OPNAME line end_line col end_col` with the columns in characters, `-` where unknown.
const DUMP: &str = r#"
import sys
src = open(sys.argv[1], encoding="utf-8").read()
lines = src.splitlines()
def chars(line, col):
    if line is None or col is None or line < 1 or line > len(lines):
        return None
    return len(lines[line - 1].encode()[:col].decode(errors="replace"))
def walk(co):
    import dis
    for i in dis.get_instructions(co):
        if i.opname in ("EXTENDED_ARG", "CACHE"):
            continue
        p = i.positions
        c0, c1 = chars(p.lineno, p.col_offset), chars(p.end_lineno, p.end_col_offset)
        cells = [p.lineno, p.end_lineno, c0, c1]
        print(i.opname, *["-" if x is None else x for x in cells])
    for c in co.co_consts:
        if hasattr(c, "co_code"):
            walk(c)
walk(compile(src, sys.argv[1], "exec"))
"#;

/// The same listing from gilscope's compiler.
fn ours(code: &Code, out: &mut Vec<String>) {
    for (pc, op) in code.ops.iter().enumerate() {
        if op.opname() == "EXTENDED_ARG" {
            continue;
        }
        let cells = match code.position_at(pc) {
            Some(p) => format!("{} {} {} {}", p.line, p.end_line, p.col, p.end_col),
            None => "?".to_owned(),
        };
        out.push(format!("{} {cells}", op.opname()));
    }
    for c in &code.consts {
        if let Value::Code(inner) = c {
            ours(inner, out);
        }
    }
}

/// The instructions whose failure a traceback points at.
const RAISING: &[&str] = &[
    "CALL",
    "BINARY_OP",
    "BINARY_SUBSCR",
    "STORE_SUBSCR",
    "LOAD_ATTR",
    "LOAD_METHOD",
    "STORE_ATTR",
    "COMPARE_OP",
    "CONTAINS_OP",
    "LOAD_GLOBAL",
    "LOAD_NAME",
    "UNPACK_SEQUENCE",
    "GET_ITER",
    "FORMAT_VALUE",
    "IMPORT_NAME",
    "RAISE_VARARGS",
];

#[test]
fn raising_instructions_sit_where_cpython_311_puts_them() {
    let is_311 = Command::new("python3")
        .args(["-c", "import sys; assert sys.version_info[:2] == (3, 11)"])
        .status()
        .is_ok_and(|s| s.success());
    if !is_311 {
        // Counted with the other skips where the test script keeps them.
        let line = "positions: python3 is not CPython 3.11\n";
        eprint!("skipped: {line}");
        if let Some(log) = std::env::var_os("GILSCOPE_SKIP_LOG") {
            use std::io::Write as _;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log);
            let _ = file.and_then(|mut f| f.write_all(line.as_bytes()));
        }
        return;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        "tests/golden",
        "tests/scripts",
        "tests/tracebacks",
        "assets/programs",
    ] {
        for e in std::fs::read_dir(top().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut checked, mut unknown, mut wrong) = (0, 0, Vec::new());
    let (mut compared, mut differing) = (0, 0);
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let Ok(module) = compile(&source, &file.display().to_string()) else {
            continue;
        };
        let dump = Command::new("python3")
            .arg("-c")
            .arg(DUMP)
            .arg(file)
            .output()
            .unwrap();
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let want: Vec<String> = String::from_utf8_lossy(&dump.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let mut got = Vec::new();
        ours(&module.code, &mut got);
        let names = |v: &[String]| {
            v.iter()
                .map(|l| l.split(' ').next().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        };
        // Files outside the golden listings may differ in their instructions (the listings
        // test says which must not); their positions cannot be paired.
        if names(&got) != names(&want) {
            differing += 1;
            continue;
        }
        compared += 1;
        for (g, w) in got.iter().zip(&want) {
            let op = g.split(' ').next().unwrap_or("");
            if !RAISING.contains(&op) || w.contains('-') {
                continue;
            }
            if g.ends_with('?') {
                unknown += 1;
            } else if g != w {
                wrong.push(format!("{}: {g} (python3: {w})", file.display()));
            } else {
                checked += 1;
            }
        }
    }
    println!(
        "positions: {compared} files compared ({differing} with other instructions), \
         {checked} as python3's, {unknown} unknown, {} wrong",
        wrong.len()
    );
    assert!(compared >= 40, "only {compared} files compared");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 500, "only {checked} positions checked");
    assert!(
        unknown * 20 <= checked,
        "{unknown} unknown of {}",
        checked + unknown
    );
}
