//! What else used the machine while a run was measured: the process hosting the engine (the
//! app's drawing, the CLI, the real runtime's observer) and every other program, from `/proc`,
//! so that a summary can say when its figures may be low, and by how much.

use crate::trace::cpustat::read_cpu_times;
use crate::trace::summary::RunSummary;

/// The CPU counters at one moment, in clock ticks (`USER_HZ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostLoad {
    /// This process's user + system time.
    process_ticks: u64,
    /// Every core's busy time (all programs).
    machine_busy_ticks: u64,
}

/// Clock ticks per second, as `/proc` counts them.
#[cfg(unix)]
fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// Clock ticks per second: there is no `/proc` to count them here.
#[cfg(not(unix))]
fn ticks_per_sec() -> f64 {
    100.0
}

/// Parses this process's user + system ticks from a `/proc/PID/stat` line.
fn process_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut f = after.split_whitespace().skip(11);
    Some(f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?)
}

/// The counters now, where `/proc` has them.
pub fn sample() -> Option<HostLoad> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    Some(HostLoad {
        process_ticks: process_ticks(&stat)?,
        machine_busy_ticks: read_cpu_times()?.0.iter().map(|&(busy, _)| busy).sum(),
    })
}

/// Fills `app_cpu_secs` and `other_cpu_secs` of `summary` from the counters `before` and
/// `after` its run: this process's CPU less its own workers' (threads in it), and the machine's
/// busy time less this process and every worker (child processes too). `None` where `/proc`
/// could not be read.
pub fn attribute(before: Option<HostLoad>, after: Option<HostLoad>, summary: &mut RunSummary) {
    let (Some(a), Some(b)) = (before, after) else {
        return;
    };
    let hz = ticks_per_sec();
    let process = b.process_ticks.saturating_sub(a.process_ticks) as f64 / hz;
    let machine = b.machine_busy_ticks.saturating_sub(a.machine_busy_ticks) as f64 / hz;
    let me = std::process::id();
    let (inside, outside): (Vec<_>, Vec<_>) = summary.workers.iter().partition(|w| w.pid == me);
    let inside: f64 = inside.iter().map(|w| w.cpu_secs).sum();
    let outside: f64 = outside.iter().map(|w| w.cpu_secs).sum();
    summary.app_cpu_secs = Some((process - inside).max(0.0));
    summary.other_cpu_secs = Some((machine - process - outside).max(0.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_user_plus_system_ticks() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 3 0";
        assert_eq!(process_ticks(line), Some(42));
        assert_eq!(process_ticks("garbage"), None);
    }

    #[test]
    fn the_host_and_the_rest_of_the_machine_are_told_apart_from_the_workers() {
        use crate::trace::summary::WorkerSummary;
        let hz = ticks_per_sec();
        let mut s = RunSummary {
            workers: vec![
                WorkerSummary {
                    pid: std::process::id(),
                    cpu_secs: 1.0,
                    ..WorkerSummary::default()
                },
                WorkerSummary {
                    pid: 1,
                    cpu_secs: 2.0,
                    ..WorkerSummary::default()
                },
            ],
            ..RunSummary::default()
        };
        let before = HostLoad {
            process_ticks: 0,
            machine_busy_ticks: 0,
        };
        // The process used 1.5 s (1.0 of it its worker thread), the machine 4.0 s in all.
        let after = HostLoad {
            process_ticks: (1.5 * hz) as u64,
            machine_busy_ticks: (4.0 * hz) as u64,
        };
        attribute(Some(before), Some(after), &mut s);
        assert!((s.app_cpu_secs.unwrap() - 0.5).abs() < 1e-9);
        assert!((s.other_cpu_secs.unwrap() - 0.5).abs() < 1e-9);
        attribute(None, Some(after), &mut s);
    }
}
