//! Threading mode: one named OS thread per worker in this process, all sharing one GIL and one
//! module namespace.

use std::sync::Arc;

use crossbeam_channel::bounded;

use super::{
    CancelToken, Coordinator, WORKER_CHANNEL, WorkerJob, WorkerMsg, Workers, run_interpreted,
};
use crate::engine::config::RunConfig;
use crate::engine::error::EngineError;
use crate::engine::gil::Gil;
use crate::engine::pyvm::Globals;

/// Runs the jobs on threads; returns the GIL's (switches, drop requests).
pub(super) fn run(
    cfg: &RunConfig,
    jobs: Vec<WorkerJob>,
    globals: &Arc<Globals>,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<(u64, u64), EngineError> {
    let gil = Arc::new(Gil::new(cfg.switch_interval_micros));
    let (tx, rx) = bounded(WORKER_CHANNEL);
    let mut threads = Vec::with_capacity(jobs.len());
    let mut spawn_error = None;
    for job in jobs {
        let worker_gil = Arc::clone(&gil);
        let globals = Arc::clone(globals);
        let tx = tx.clone();
        let name = format!("gilscope-py-{}", job.worker);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let msg = match run_interpreted(&job, &worker_gil, Some(globals), tx.clone()) {
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
                gil.cancel();
                break;
            }
        }
    }
    drop(tx);
    coord.pump(&rx, cancel, &mut ThreadWorkers(Arc::clone(&gil)));
    for t in threads {
        if t.join().is_err() {
            coord.fail(EngineError::Vm("a worker thread panicked".to_owned()));
        }
    }
    if let Some(e) = spawn_error {
        return Err(e);
    }
    Ok((gil.switches(), gil.drop_requests()))
}

struct ThreadWorkers(Arc<Gil>);

impl Workers for ThreadWorkers {
    fn cancel(&mut self) {
        self.0.cancel();
    }
}
