//! The real-CPython runtime: runs a program's `.py` file on the user's `python3`, unchanged, and
//! observes it from outside, emitting the engine's own events (spans, core samples, the run's
//! summary), so every view draws CPython exactly as it draws the emulation.
//!
//! - A plain script runs as `python FILE` would (`script`): its threads and child processes are
//!   found in `/proc` as they appear, and named by a start-up hook on its path.
//! - A gilscope program (one with `ENTRY`) runs under the shared driver (`launch`, `session`).
//! - Workers are found from one line each that the shared driver prints when gilscope asks
//!   (`GILSCOPE_ANNOUNCE=1`): worker index, pid, native thread id.
//! - Every millisecond each worker's `/proc/PID/task/TID/stat` gives its state and core, and the
//!   GIL holder is read from the interpreter's memory ([`gil_reader`]); a sleeping thread's
//!   system call tells a GIL wait (futex) from I/O.
//! - Where memory cannot be read, the GIL lane is left out and the summary says why: nothing is
//!   guessed.

mod command;
mod probe;

#[cfg(target_os = "linux")]
mod find;
#[cfg(target_os = "linux")]
pub mod gil_reader;
#[cfg(target_os = "linux")]
mod launch;
#[cfg(target_os = "linux")]
mod procfs;
#[cfg(target_os = "linux")]
mod script;
#[cfg(target_os = "linux")]
mod session;
#[cfg(target_os = "linux")]
mod summary;
#[cfg(target_os = "linux")]
pub mod thread_names;
#[cfg(target_os = "linux")]
mod watch;

pub use command::PythonCommand;
#[cfg(target_os = "linux")]
pub use find::{PythonProcess, running_pythons};
pub use probe::{MIN_VERSION, PythonInfo, preflight, probe};

/// A running Python process, as the platform shows it.
#[cfg(not(target_os = "linux"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonProcess {
    /// Its process id.
    pub pid: u32,
    /// The file that holds its interpreter.
    pub interpreter: String,
    /// Its command line.
    pub command: String,
}

/// Attaching is not supported on this platform: no Python process is listed.
#[cfg(not(target_os = "linux"))]
pub fn running_pythons() -> Vec<PythonProcess> {
    Vec::new()
}

use crate::config::RunConfig;
use crate::error::EngineError;
use crate::runtime::job::CancelToken;
use crate::trace::events::EventSink;
use crate::trace::summary::RunOutcome;

/// The workers' wall time of `cfg` on the real CPython with no observer (the baseline of the
/// observer's cost).
pub fn unobserved_wall_secs(cfg: &RunConfig) -> Result<f64, EngineError> {
    #[cfg(target_os = "linux")]
    {
        launch::unobserved_wall_secs(u64::MAX / 2, cfg)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cfg;
        Err(EngineError::Config(
            "the cpython runtime is not supported on this platform yet".to_owned(),
        ))
    }
}

/// Observes the running Python process `pid` for up to `duration_secs` (see `gilscope attach`).
pub fn attach(
    run_id: u64,
    pid: u32,
    duration_secs: f64,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    #[cfg(target_os = "linux")]
    {
        script::attach(run_id, pid, duration_secs, sink, cancel)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (run_id, pid, duration_secs, sink, cancel);
        Err(EngineError::Config(
            "attaching to a running Python is not supported on this platform (it reads Linux's \
             /proc and process_vm_readv)"
                .to_owned(),
        ))
    }
}

/// Runs `cfg` on the real CPython `cfg.python` and observes it.
pub fn run_cpython(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
) -> Result<RunOutcome, EngineError> {
    #[cfg(target_os = "linux")]
    {
        if cfg.is_script() {
            script::run_script(run_id, cfg, sink, cancel)
        } else {
            session::run(run_id, cfg, sink, cancel)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (run_id, cfg, sink, cancel);
        Err(EngineError::Config(
            "the cpython runtime is not supported on this platform yet (it observes through \
             Linux's /proc; macOS and Windows are not supported); the emulated runtime works here"
                .to_owned(),
        ))
    }
}
