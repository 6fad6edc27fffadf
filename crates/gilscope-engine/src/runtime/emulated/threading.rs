//! Threading mode: one named OS thread per worker in this process, all sharing one GIL and one
//! module namespace. Also the thread pump that the subinterpreters mode reuses.

use std::sync::Arc;

use crossbeam_channel::bounded;

use super::{
    Coordinator, GilCounts, NamespaceSource, WORKER_CHANNEL, WorkerJob, WorkerMsg, Workers,
    run_interpreted,
};
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::gil::Gil;
use crate::runtime::job::CancelToken;
use gilscope_python::vm::Globals;

/// Runs the jobs on threads under one lock; returns its counters.
pub(super) fn run(
    cfg: &RunConfig,
    jobs: Vec<WorkerJob>,
    globals: &Arc<Globals>,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<GilCounts, EngineError> {
    let gil = Arc::new(Gil::for_variant(
        cfg.interpreter,
        cfg.switch_interval_micros,
    ));
    let gils = vec![Arc::clone(&gil); jobs.len()];
    run_threads(
        jobs,
        gils,
        || NamespaceSource::Shared(Arc::clone(globals)),
        coord,
        cancel,
    )?;
    Ok(GilCounts::of(&gil))
}

/// Starts one named thread per job, job `k` under `gils[k]` in the namespace `namespace()`
/// gives, pumps their messages into `coord` and joins them.
pub(super) fn run_threads(
    jobs: Vec<WorkerJob>,
    gils: Vec<Arc<Gil>>,
    namespace: impl Fn() -> NamespaceSource,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<(), EngineError> {
    let (tx, rx) = bounded(WORKER_CHANNEL);
    let mut threads = Vec::with_capacity(jobs.len());
    let mut spawn_error = None;
    for (job, worker_gil) in jobs.into_iter().zip(gils.iter().cloned()) {
        let ns = namespace();
        let tx = tx.clone();
        let name = format!("gilscope-py-{}", job.worker);
        let spawned = std::thread::Builder::new()
            .name(name)
            .stack_size(gilscope_python::vm::STACK_BYTES)
            .spawn(move || {
                let msg = match run_interpreted(&job, &worker_gil, ns, tx.clone()) {
                    Ok(r) => WorkerMsg::Done(Box::new(r)),
                    Err(error) => WorkerMsg::Failed {
                        worker: job.worker,
                        pid: std::process::id(),
                        error,
                    },
                };
                let _ = tx.send(msg);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                spawn_error = Some(EngineError::io("could not start a worker thread", e));
                gils.iter().for_each(|g| g.cancel());
                break;
            }
        }
    }
    drop(tx);
    coord.pump(&rx, cancel, &mut ThreadWorkers(gils));
    for t in threads {
        if t.join().is_err() {
            coord.fail(EngineError::Internal("a worker thread panicked".to_owned()));
        }
    }
    match spawn_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct ThreadWorkers(Vec<Arc<Gil>>);

impl Workers for ThreadWorkers {
    fn cancel(&mut self) {
        self.0.iter().for_each(|g| g.cancel());
    }
}
