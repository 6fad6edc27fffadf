//! What a finished run reports: per-worker times, GIL counters, core use, checksum.

use serde::{Deserialize, Serialize};

use crate::build::Build;
use crate::config::{Kernel, Mode, RunConfig, Runtime};
use crate::trace::sampler::CoreSample;
use crate::trace::spans::Span;

/// Time and counts of one worker (a thread or a process).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// Worker index.
    pub id: usize,
    /// Process id.
    pub pid: u32,
    /// Kernel thread id.
    pub tid: u32,
    /// CPU time the worker consumed, in seconds (thread or process CPU clock).
    pub cpu_secs: f64,
    /// Seconds running Python while holding the GIL.
    pub python_secs: f64,
    /// Seconds waiting for the GIL.
    pub gil_wait_secs: f64,
    /// Seconds in native work with the GIL released.
    pub native_secs: f64,
    /// Seconds blocked in I/O with the GIL released.
    pub io_secs: f64,
    /// Seconds blocked on the program's own locks (`join`, `Lock`, `Queue.get`), GIL released.
    #[serde(default)]
    pub lock_wait_secs: f64,
    /// Seconds seen on a core without the GIL for a single sample after holding or waiting for
    /// it: the GIL changing hands, or the first moment of native work (real CPython only).
    #[serde(default)]
    pub handoff_secs: f64,
    /// Seconds spent starting the worker's process.
    pub spawn_secs: f64,
    /// Seconds moving data between processes.
    pub ipc_secs: f64,
    /// The longest single wait for the GIL, in seconds.
    #[serde(default)]
    pub max_gil_wait_secs: f64,
    /// Bytecode instructions executed.
    pub instructions: u64,
    /// Problems solved.
    pub problems: usize,
    /// The thread's name as Python gave it (`MainThread`, `Thread-1 (work)`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What a script printed and how it ended, for a script run on the real CPython.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgramOutput {
    /// Its standard output (the first [`ProgramOutput::KEEP_BYTES`] bytes).
    pub stdout: String,
    /// Its standard error (the first [`ProgramOutput::KEEP_BYTES`] bytes).
    pub stderr: String,
    /// Its exit status: the code it exited with, or 128 + the signal that ended it.
    pub exit_code: i32,
    /// Bytes of output beyond what was kept, on both streams together.
    pub dropped_bytes: u64,
}

impl ProgramOutput {
    /// How much of each stream is kept.
    pub const KEEP_BYTES: usize = 4 << 20;
}

/// The result of one run, as `gilscope run --json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSummary {
    /// How the workers ran.
    pub mode: Option<Mode>,
    /// What they computed.
    pub kernel: Option<Kernel>,
    /// Number of workers.
    pub threads: usize,
    /// Grid side.
    pub grid: usize,
    /// Number of problems.
    pub problems: usize,
    /// Iterations per problem.
    pub iters: usize,
    /// GIL switch interval in milliseconds.
    pub switch_interval_ms: f64,
    /// Wall-clock time of the whole run (start of workers to last join), in seconds.
    pub wall_secs: f64,
    /// Sum over all problems of the sum of all cells of the final grid.
    pub checksum: f64,
    /// Times a GIL changed hands between threads, summed over processes.
    pub gil_switches: u64,
    /// Times a waiter asked the holder to drop the GIL, summed over processes.
    pub gil_drop_requests: u64,
    /// Times a holder let the GIL go (on request, for I/O or native work, or every check
    /// interval under the old GIL), whether or not another thread took it.
    pub gil_releases: u64,
    /// Starved GIL waits: longer than 3 switch intervals and ended without a drop request
    /// (the holder kept letting go briefly and taking the GIL back).
    pub gil_starvations: u64,
    /// The interpreter build that ran the bytecode.
    pub interpreter: Build,
    /// Whether the workers' bytecode ran under a GIL (false for free-threaded builds and native).
    pub gil_enabled: bool,
    /// Trace spans lost (never silently): recorded totals stay exact.
    pub dropped_events: u64,
    /// Bytecode instructions executed by all workers.
    pub instructions: u64,
    /// Logical cores of the machine.
    pub cores: usize,
    /// Mean busy fraction of each core during the run (0 to 1), from the per-core sampler.
    pub core_busy: Vec<f64>,
    /// CPU seconds the process hosting the run used besides its own workers during the run
    /// (the app's drawing, the CLI, the real runtime's observer); `None` without `/proc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_cpu_secs: Option<f64>,
    /// CPU seconds every other program on the machine used during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_cpu_secs: Option<f64>,
    /// Per worker.
    pub workers: Vec<WorkerSummary>,
    /// The program that ran (`heat`, `count`… or a file's stem).
    pub program: String,
    /// The program's parameters as overridden for the run (`N=20000000`), in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(String, String)>,
    /// Its entry function.
    pub entry: String,
    /// The program's own result, with the keys its `report` returns (as CPython prints them).
    pub result: serde_json::Value,
    /// Who ran the program: gilscope's interpreter or the real CPython.
    pub runtime: Runtime,
    /// The real CPython's version (`3.11.7`), for the cpython runtime.
    pub python_version: Option<String>,
    /// Whether the real CPython had its GIL (`sys._is_gil_enabled()` on 3.13+, else true).
    pub python_gil_enabled: Option<bool>,
    /// Where the GIL lane comes from on the cpython runtime: `observed` (read from the
    /// interpreter's memory), `none` (a free-threaded build has no GIL) or `unavailable`.
    pub gil_source: Option<String>,
    /// Why the GIL was not observed, when it was not.
    pub gil_source_reason: Option<String>,
    /// What observing the real CPython cost.
    pub observer: Option<ObserverCost>,
    /// The process observed by `gilscope attach` (not started by gilscope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_pid: Option<u32>,
    /// A script's output and exit status (scripts on the real CPython only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_output: Option<ProgramOutput>,
    /// What the results must be read with, in words, to show beside them: what gilscope stood
    /// in for (Numba's compiled code, run by the interpreter), or what befell an observed
    /// process (stopped, replaced by another program).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The observer's own cost and sampling, for the cpython runtime.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObserverCost {
    /// Samples taken of every worker.
    pub samples: u64,
    /// Median interval between samples, µs (target 1000).
    pub median_interval_micros: f64,
    /// CPU time the observer thread used, s.
    pub cpu_secs: f64,
    /// Its CPU time over the time it observed, from starting the Python to its exit (cores).
    pub cpu_share: f64,
}

impl RunSummary {
    /// A summary with the run's settings filled in.
    pub fn for_config(cfg: &RunConfig) -> Self {
        Self {
            mode: Some(cfg.mode),
            kernel: Some(cfg.kernel),
            threads: cfg.threads,
            grid: cfg.grid,
            problems: cfg.problems,
            iters: cfg.iters,
            switch_interval_ms: cfg.switch_interval_ms(),
            interpreter: cfg.interpreter,
            runtime: cfg.runtime,
            gil_enabled: cfg.mode.has_gil() && cfg.interpreter.has_gil(),
            ..Self::default()
        }
    }

    /// Cores the workers kept busy on average: their CPU time over the wall time.
    pub fn cores_used_by_workers(&self) -> f64 {
        // A fold from +0.0: `sum` of no workers is -0.0, printed "-0.00".
        let cpu = self.workers.iter().fold(0.0, |a, w| a + w.cpu_secs);
        if self.wall_secs > 0.0 {
            cpu / self.wall_secs
        } else {
            0.0
        }
    }

    /// Cores busy on average on the whole machine (the sum of the per-core busy fractions).
    pub fn cores_busy(&self) -> f64 {
        self.core_busy.iter().sum()
    }

    /// Seconds all workers held the GIL, summed.
    pub fn python_secs(&self) -> f64 {
        self.workers.iter().map(|w| w.python_secs).sum()
    }

    /// Share of the workers' time spent waiting for the GIL (0 to 1).
    pub fn gil_wait_share(&self) -> f64 {
        let wait: f64 = self.workers.iter().map(|w| w.gil_wait_secs).sum();
        let total = self.wall_secs * self.workers.len() as f64;
        if total > 0.0 {
            (wait / total).min(1.0)
        } else {
            0.0
        }
    }
}

/// Everything a run produced: the summary plus the full trace.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// The summary.
    pub summary: RunSummary,
    /// All recorded spans, sorted by start.
    pub spans: Vec<Span>,
    /// Per-core samples taken during the run.
    pub core_samples: Vec<CoreSample>,
    /// Start of the run on the monotonic clock, in nanoseconds.
    pub start_ns: u64,
    /// End of the run on the monotonic clock, in nanoseconds.
    pub end_ns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_no_workers_used_no_cores_not_minus_zero() {
        let s = RunSummary {
            wall_secs: 0.5,
            ..RunSummary::default()
        };
        assert_eq!(format!("{:.2}", s.cores_used_by_workers()), "0.00");
    }
}
