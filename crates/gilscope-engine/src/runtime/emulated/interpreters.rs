//! Subinterpreters mode (PEP 684/734, `concurrent.interpreters` in 3.14): one OS thread per
//! interpreter, all in this process, each with its own GIL and its own module.
//!
//! Each interpreter imports the program afresh (compile and top level, recorded as its start
//! span) and gets its arguments copied in, as `Interpreter.call` shares data by pickling, but
//! without a process. Results are copied out the same way.

use std::sync::Arc;

use super::threading::run_threads;
use super::{Coordinator, GilCounts, NamespaceSource, WorkerJob};
use crate::error::EngineError;
use crate::gil::Gil;
use crate::runtime::job::CancelToken;

/// Runs each job in its own interpreter; returns the counters summed over their GILs.
pub(super) fn run(
    jobs: Vec<WorkerJob>,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<GilCounts, EngineError> {
    let gils: Vec<Arc<Gil>> = jobs
        .iter()
        .map(|j| Arc::new(Gil::for_variant(j.interpreter, j.switch_interval_micros)))
        .collect();
    run_threads(
        jobs,
        gils.clone(),
        || NamespaceSource::OwnInterpreter,
        coord,
        cancel,
    )?;
    Ok(gils
        .iter()
        .fold(GilCounts::default(), |acc, g| acc + GilCounts::of(g)))
}
