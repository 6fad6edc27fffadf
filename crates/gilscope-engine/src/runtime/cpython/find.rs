//! Finds the CPython processes running on this machine that `attach` could watch (a notebook
//! kernel, a server, a class's script): their pid, the interpreter file and command line, read
//! from `/proc` without touching them.

use std::fs;

/// A running Python process, as `/proc` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonProcess {
    /// Its process id.
    pub pid: u32,
    /// The file that holds its interpreter (`python3.11`, `libpython3.14.so.1.0`).
    pub interpreter: String,
    /// Its command line, arguments joined by spaces (shortened to [`COMMAND_MAX_CHARS`]).
    pub command: String,
}

/// How much of a command line is kept.
pub const COMMAND_MAX_CHARS: usize = 160;

/// The interpreter file named in a `/proc/PID/maps` text: the first mapping of a `python3…`
/// or `libpython3…` file.
pub fn interpreter_in_maps(maps: &str) -> Option<String> {
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter_map(|p| p.rsplit('/').next())
        .find(|name| name.starts_with("libpython3") || name.starts_with("python3"))
        .map(str::to_owned)
}

/// Whether process `pid` runs a CPython now: its binary is a `python…`, or it maps a
/// `libpython3…` (an embedding program). A process gone meanwhile is not.
pub fn runs_python(pid: u32) -> bool {
    let exe_is_python = std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("python"))
    });
    exe_is_python
        || std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .is_ok_and(|m| interpreter_in_maps(&m).is_some())
}

/// The Python processes of this machine whose memory map this user can read, newest first,
/// this process excluded.
pub fn running_pythons() -> Vec<PythonProcess> {
    let me = std::process::id();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<PythonProcess> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let maps = fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
            let interpreter = interpreter_in_maps(&maps)?;
            let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let mut command: String = String::from_utf8_lossy(&raw)
                .split('\0')
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if command.chars().count() > COMMAND_MAX_CHARS {
                command = command.chars().take(COMMAND_MAX_CHARS - 1).collect();
                command.push('…');
            }
            Some(PythonProcess {
                pid,
                interpreter,
                command,
            })
        })
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.pid));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_is_named_by_its_mapped_file() {
        let maps = "55d0-55d1 r--p 00000000 08:01 1 /usr/bin/bash\n\
                    7f00-7f01 r--p 00000000 08:01 2 /usr/lib/libpython3.14.so.1.0\n\
                    7f02-7f03 r-xp 00001000 08:01 2 /usr/lib/libpython3.14.so.1.0\n";
        assert_eq!(
            interpreter_in_maps(maps).as_deref(),
            Some("libpython3.14.so.1.0")
        );
        assert_eq!(
            interpreter_in_maps("400000-401000 r-xp 0 08:01 3 /opt/py/bin/python3.9\n").as_deref(),
            Some("python3.9")
        );
        assert_eq!(
            interpreter_in_maps("400000-401000 r-xp 0 08:01 3 /bin/sh\n"),
            None
        );
    }

    #[test]
    fn a_running_python_is_found_and_this_process_is_not() {
        let Ok(mut child) = std::process::Command::new("python3")
            .args(["-c", "import time; time.sleep(30)"])
            .spawn()
        else {
            eprintln!("skipped: no python3 here");
            return;
        };
        // Its maps name the interpreter once it has exec'd python3 (a pyenv shim execs a few
        // programs on the way, in the same pid).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut seen = None;
        while seen.is_none() && std::time::Instant::now() < deadline {
            seen = running_pythons()
                .into_iter()
                .find(|p| p.pid == child.id() && p.command.contains("time.sleep(30)"));
            std::thread::yield_now();
        }
        let python_runs = runs_python(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let p = seen.expect("the python3 child is listed");
        assert!(python_runs, "a python3 process runs Python");
        if let Ok(mut other) = std::process::Command::new("sleep").arg("5").spawn() {
            // Once `sleep` has exec'd, it is no Python (before, it is a copy of this test).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let exe_is_sleep = || {
                std::fs::read_link(format!("/proc/{}/exe", other.id()))
                    .is_ok_and(|e| e.ends_with("sleep"))
            };
            while !exe_is_sleep() && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            assert!(!runs_python(other.id()), "sleep is not a Python");
            let _ = other.kill();
            let _ = other.wait();
        }
        assert!(p.interpreter.contains("python3"), "{p:?}");
        assert!(
            running_pythons()
                .iter()
                .all(|p| p.pid != std::process::id())
        );
    }
}
