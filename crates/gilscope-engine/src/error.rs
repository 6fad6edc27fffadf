//! The engine's error type.

use gilscope_python::compiler::CompileError;
use gilscope_python::vm::VmError;
use thiserror::Error;

/// Everything that can go wrong in the engine.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A setting is out of range or malformed; the message says which and why.
    #[error("{0}")]
    Config(String),
    /// The run was cancelled before it finished.
    #[error("run cancelled")]
    Cancelled,
    /// A worker process could not be started.
    #[error("could not start worker process {exe}: {source}")]
    Spawn {
        /// The program that was started.
        exe: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A worker (thread or process) failed or died.
    #[error("worker {worker} (pid {pid}) failed: {message}")]
    Worker {
        /// Worker index.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// What happened.
        message: String,
    },
    /// A worker process sent bytes that are not a valid frame of the protocol.
    #[error("worker {worker} (pid {pid}) sent malformed data: {message}")]
    Protocol {
        /// Worker index.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// What was wrong.
        message: String,
    },
    /// gilscope itself failed: a thread of its own panicked, a pool or pipe it needs was missing.
    /// Never the program's fault.
    #[error("internal error: {0}")]
    Internal(String),
    /// A message for a worker process could not be encoded.
    #[error("could not encode a message for a worker: {0}")]
    Encode(#[from] serde_json::Error),
    /// The program raised a Python exception: `FILE:LINE: NameError: …`.
    #[error("{0}")]
    Python(String),
    /// A plain script measured by a sweep did not end with status 0, so its time means
    /// nothing: what it printed last on stderr, and where.
    #[error("{file} exited with status {status} at {threads} thread(s){runtime}: {last_line}")]
    ScriptFailed {
        /// The script.
        file: String,
        /// Its exit status.
        status: i32,
        /// The sweep's thread count for that run.
        threads: usize,
        /// `" on the real CPython"`, or empty for the emulation.
        runtime: &'static str,
        /// The last line it wrote to stderr.
        last_line: String,
    },
    /// The program could not be compiled: `FILE:LINE:COL: …` (bad input, exit code 2).
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl EngineError {
    /// Wraps an I/O error with a note of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<VmError> for EngineError {
    fn from(e: VmError) -> Self {
        match e {
            VmError::Cancelled => EngineError::Cancelled,
            VmError::Py(_) => EngineError::Python(e.to_string()),
            VmError::Host(inner) => match inner.downcast::<EngineError>() {
                Ok(engine) => *engine,
                Err(other) => EngineError::Internal(other.to_string()),
            },
        }
    }
}

impl From<EngineError> for VmError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Cancelled => VmError::Cancelled,
            other => VmError::Host(Box::new(other)),
        }
    }
}
