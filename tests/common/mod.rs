//! Helpers the integration tests share: running a command that must succeed, and scratch
//! folders. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

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

/// A fresh, empty scratch folder for one test of this process.
pub fn scratch_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gilscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch folder");
    d
}
