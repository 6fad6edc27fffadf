//! Runs in the background: the cancel token every runtime polls, run ids, and the named thread
//! a job runs on with its handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use crate::error::EngineError;

/// A flag that asks a run to stop.
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, unset token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether a stop was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh run id (every run has one; replays take one to show recorded runs through the live
/// events).
pub fn next_run_id() -> u64 {
    NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed)
}

/// A run going on in the background.
pub struct RunHandle {
    cancel: CancelToken,
    thread: Option<JoinHandle<()>>,
}

impl RunHandle {
    /// Asks the run to stop; events tell when it has.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the background thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the background thread.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts `job` on a named background thread with its own cancel token.
pub fn spawn_job(
    name: &str,
    job: impl FnOnce(CancelToken) + Send + 'static,
) -> Result<RunHandle, EngineError> {
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || job(c2))
        .map_err(|e| EngineError::io("could not start the run thread", e))?;
    Ok(RunHandle {
        cancel,
        thread: Some(thread),
    })
}
