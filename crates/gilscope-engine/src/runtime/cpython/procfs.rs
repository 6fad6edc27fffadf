//! One observed thread's `/proc` files, kept open and re-read at offset 0: its scheduler state
//! and core (`stat`), its on-CPU time (`schedstat`) and the system call it sleeps in
//! (`syscall`, same user only).

use std::fs::File;
use std::os::unix::fs::FileExt;

/// `futex` on x86-64: a CPython thread waiting for the GIL sleeps in it.
#[cfg(target_arch = "x86_64")]
pub const SYS_FUTEX: i64 = 202;
/// `futex` on aarch64.
#[cfg(not(target_arch = "x86_64"))]
pub const SYS_FUTEX: i64 = 98;

/// What one read of a thread's `stat` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// `R` (running or runnable), `S`/`D` (asleep), …
    pub state: u8,
    /// The core it last ran on (field 39).
    pub cpu: u32,
}

/// The open `/proc` files of one thread.
pub struct ThreadFiles {
    stat: File,
    schedstat: Option<File>,
    syscall: Option<File>,
    children: Option<File>,
    buf: Vec<u8>,
}

impl ThreadFiles {
    /// Opens the files of thread `tid` of process `pid`.
    pub fn open(pid: u32, tid: u32) -> std::io::Result<ThreadFiles> {
        let dir = format!("/proc/{pid}/task/{tid}");
        Ok(ThreadFiles {
            stat: File::open(format!("{dir}/stat"))?,
            schedstat: File::open(format!("{dir}/schedstat")).ok(),
            syscall: File::open(format!("{dir}/syscall")).ok(),
            children: File::open(format!("{dir}/children")).ok(),
            buf: vec![0; 1024],
        })
    }

    fn read(file: &File, buf: &mut [u8]) -> Option<usize> {
        match file.read_at(buf, 0) {
            Ok(n) if n > 0 => Some(n),
            _ => None,
        }
    }

    /// The thread's state and core; `None` once it has exited.
    pub fn sample(&mut self) -> Option<Sample> {
        let n = Self::read(&self.stat, &mut self.buf)?;
        parse_stat(&self.buf[..n])
    }

    /// `schedstat`'s on-CPU nanoseconds and the number of times the thread was put on a CPU
    /// (it changes only when the thread runs).
    pub fn schedstat(&mut self) -> Option<(u64, u64)> {
        let n = Self::read(self.schedstat.as_ref()?, &mut self.buf)?;
        let text = std::str::from_utf8(&self.buf[..n]).ok()?;
        let mut f = text.split_whitespace();
        let on_cpu = f.next()?.parse().ok()?;
        let slices = f.nth(1)?.parse().ok()?;
        Some((on_cpu, slices))
    }

    /// The child processes this thread started (its open `children` file read again).
    pub fn children(&mut self) -> Vec<u32> {
        let Some(f) = self.children.as_ref() else {
            return Vec::new();
        };
        let mut text = Vec::new();
        let mut at = 0;
        while let Ok(n) = f.read_at(&mut self.buf, at)
            && n > 0
        {
            text.extend_from_slice(&self.buf[..n]);
            at += n as u64;
        }
        String::from_utf8_lossy(&text)
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect()
    }

    /// Nanoseconds the thread has run on a core.
    pub fn on_cpu_ns(&mut self) -> Option<u64> {
        self.schedstat().map(|(ns, _)| ns)
    }

    /// The system call the thread is blocked in and its first argument (for `futex`, the
    /// address of the word it waits on), when they can be read.
    pub fn syscall_and_arg(&mut self) -> Option<(i64, u64)> {
        let n = Self::read(self.syscall.as_ref()?, &mut self.buf)?;
        parse_syscall(&self.buf[..n])
    }

    /// Whether the system call can be read at all (a running thread's file says `running`;
    /// another user's cannot be read).
    pub fn can_read_syscall(&mut self) -> bool {
        match &self.syscall {
            Some(f) => Self::read(f, &mut self.buf).is_some(),
            None => false,
        }
    }
}

/// Whether process `pid` exists and has not ended (a zombie has ended).
pub fn is_live(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|b| parse_stat(&b))
        .is_some_and(|s| s.state != b'Z' && s.state != b'X')
}

/// The thread ids of process `pid` (`/proc/PID/task`), empty once it has exited.
pub fn task_ids(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut tids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    tids
}

/// Parses a `syscall` line (`202 0x7f01 0x80 …`): the call's number and its first argument.
pub fn parse_syscall(b: &[u8]) -> Option<(i64, u64)> {
    let text = std::str::from_utf8(b).ok()?;
    let mut fields = text.split_whitespace();
    let nr = fields.next()?.parse().ok()?;
    let arg = fields.next()?;
    let arg = u64::from_str_radix(arg.strip_prefix("0x").unwrap_or(arg), 16).ok()?;
    Some((nr, arg))
}

/// Parses a `stat` line: the command may hold spaces and parentheses, so fields are counted
/// from the last `)`.
pub fn parse_stat(b: &[u8]) -> Option<Sample> {
    let close = b.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(&b[close + 1..]).ok()?;
    let mut fields = rest.split_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // Field 3 was the state; field 39 (processor) is 36 further on.
    let cpu = fields.nth(35)?.parse().ok()?;
    Some(Sample { state, cpu })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_odd_command_names() {
        let mut line = String::from("4242 (python3 (x) y) R 1 2 3 4 5 6");
        for f in 10..=52 {
            line.push_str(&format!(" {}", if f == 39 { 7 } else { f }));
        }
        assert_eq!(
            parse_stat(line.as_bytes()),
            Some(Sample {
                state: b'R',
                cpu: 7
            })
        );
        assert_eq!(parse_stat(b"1 (x) S 1 2"), None);
    }

    #[test]
    fn syscall_lines_give_the_call_and_its_first_argument() {
        assert_eq!(
            parse_syscall(b"202 0x7f0a00001230 0x189 0x0 0x0\n"),
            Some((202, 0x7f0a_0000_1230))
        );
        assert_eq!(parse_syscall(b"running\n"), None);
        assert_eq!(parse_syscall(b"-1 0x7ffc 0x1\n"), Some((-1, 0x7ffc)));
    }

    #[test]
    fn our_own_tasks_and_a_child_are_listed() {
        let pid = std::process::id();
        let tid = crate::trace::clock::current_tid();
        // Reading /proc/PID/task while other threads of this test binary end can skip an
        // entry (the directory is read by position): one of a few listings must have us.
        assert!((0..5).any(|_| task_ids(pid).contains(&tid)));
        if std::fs::metadata(format!("/proc/{pid}/task/{tid}/children")).is_err() {
            eprintln!(
                "skipped: this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)"
            );
            return;
        }
        // The thread's `children` file, opened before the child exists, lists it when read
        // again (the observer keeps these files open).
        let mut files = ThreadFiles::open(pid, tid).unwrap();
        assert!(!files.children().contains(&0));
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = files.children().contains(&child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found, "the child started by this thread is listed");
        assert!(task_ids(u32::MAX).is_empty());
    }

    #[test]
    fn our_own_thread_is_readable() {
        let pid = std::process::id();
        let tid = crate::trace::clock::current_tid();
        let mut f = ThreadFiles::open(pid, tid).unwrap();
        let s = f.sample().unwrap();
        assert_eq!(s.state, b'R', "a thread reading its own stat is running");
        assert!(s.cpu < 4096);
        // A fresh thread's on-CPU time may still read 0; the file must parse.
        assert!(f.on_cpu_ns().is_some());
    }
}
