//! Native mode: a rayon pool of exactly `threads` threads running the compiled kernels, no GIL.
//! Every pool thread solves its own `array_split` chunk of the problems, the same split the
//! threading and multiprocessing modes use, so every worker is busy for the whole run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Sender, bounded};
use ndarray::Array2;

use super::{
    Coordinator, FRAME_EVERY_NS, GilCounts, WORKER_CHANNEL, WorkerJob, WorkerMsg, WorkerResult,
    Workers,
};
use crate::config::{Kernel, RunConfig};
use crate::error::EngineError;
use crate::runtime::job::CancelToken;
use crate::trace::clock;

/// A finished grid's sum, rounded as NumPy's `u.sum()` rounds it.
fn grid_sum(u: &Array2<f64>) -> f64 {
    match u.as_slice() {
        Some(cells) => 0.0 + gilscope_python::vm::pairwise_sum(cells),
        None => 0.0 + gilscope_python::vm::pairwise_sum(&u.iter().copied().collect::<Vec<_>>()),
    }
}
use crate::heat::kernels;
use crate::trace::events::GridFrame;
use crate::trace::spans::{Recorder, SpanState};

struct PoolWorker {
    rec: Recorder,
    cpu0_ns: u64,
    sums: Vec<(usize, f64)>,
    iters_done: u64,
    last_report_ns: u64,
}

struct Shared {
    cfg: RunConfig,
    stop: Arc<AtomicBool>,
    workers: Vec<Mutex<Option<PoolWorker>>>,
    tx: Sender<WorkerMsg>,
}

impl Shared {
    fn worker(&self) -> (usize, MutexGuard<'_, Option<PoolWorker>>) {
        let w = rayon::current_thread_index()
            .unwrap_or(0)
            .min(self.workers.len() - 1);
        (w, self.workers[w].lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn enter(&self, state: Option<SpanState>) {
        let (_, mut g) = self.worker();
        if let Some(pw) = g.as_mut() {
            match state {
                Some(s) => pw.rec.enter(s),
                None => pw.rec.leave(),
            }
        }
    }

    fn io_wait(&self) -> Result<(), EngineError> {
        if self.cfg.kernel != Kernel::Io {
            return Ok(());
        }
        self.enter(Some(SpanState::Io));
        let mut left = Duration::from_micros(self.cfg.io_wait_micros);
        while !left.is_zero() {
            if self.stop.load(Ordering::Relaxed) {
                return Err(EngineError::Cancelled);
            }
            let d = left.min(Duration::from_millis(10));
            std::thread::sleep(d);
            left -= d;
        }
        Ok(())
    }

    /// Counts an iteration and, now and then, reports progress and the grid.
    fn after_iteration(
        &self,
        k: usize,
        iter: usize,
        u: ndarray::ArrayView2<'_, f64>,
    ) -> Result<(), EngineError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        let (w, mut g) = self.worker();
        let Some(pw) = g.as_mut() else { return Ok(()) };
        pw.iters_done += 1;
        let now = clock::now_ns();
        if now.saturating_sub(pw.last_report_ns) >= FRAME_EVERY_NS {
            pw.last_report_ns = now;
            let _ = self.tx.try_send(WorkerMsg::Progress {
                worker: w,
                iters_done: pw.iters_done,
            });
            if self.cfg.publish_frames {
                let f =
                    GridFrame::from_view(w as u32, std::process::id(), k as u32, iter as u32, u);
                let _ = self.tx.try_send(WorkerMsg::Frame(f));
            }
        }
        Ok(())
    }

    fn record_sum(&self, k: usize, sum: f64) {
        let (_, mut g) = self.worker();
        if let Some(pw) = g.as_mut() {
            pw.sums.push((k, sum));
        }
    }

    /// One whole problem on the calling pool thread (coarse-grained).
    fn solve(&self, k: usize, ic: f64) -> Result<(), EngineError> {
        if self.cfg.kernel == Kernel::Stream {
            return self.stream(k, ic);
        }
        let n = self.cfg.grid;
        let mut u = kernels::initial_grid(n, ic);
        let mut scratch = u.clone();
        for it in 0..self.cfg.iters {
            self.io_wait()?;
            self.enter(Some(SpanState::Native));
            match self.cfg.kernel {
                Kernel::Python => kernels::gauss_seidel_sweep(&mut u),
                Kernel::Numpy | Kernel::Io | Kernel::Stream => {
                    kernels::jacobi_step(u.view(), scratch.view_mut());
                    std::mem::swap(&mut u, &mut scratch);
                }
            }
            self.after_iteration(k, it + 1, u.view())?;
        }
        self.enter(None);
        self.record_sum(k, grid_sum(&u));
        Ok(())
    }

    /// One problem of the memory-bound kernel: `iters` STREAM triads over three grid² arrays.
    fn stream(&self, k: usize, ic: f64) -> Result<(), EngineError> {
        let n = self.cfg.grid;
        self.enter(Some(SpanState::Native));
        let mut arrays = kernels::StreamArrays::new(n, ic);
        for it in 0..self.cfg.iters {
            self.enter(Some(SpanState::Native));
            arrays.triad();
            self.after_iteration(k, it + 1, arrays.a.view())?;
        }
        self.enter(None);
        self.record_sum(k, arrays.sum());
        Ok(())
    }
}

struct NativeWorkers(Arc<AtomicBool>);

impl Workers for NativeWorkers {
    fn cancel(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn drive(shared: &Shared, jobs: &[WorkerJob], pool: &rayon::ThreadPool) -> Result<(), EngineError> {
    let tx = shared.tx.clone();
    pool.broadcast(|ctx| {
        if let Some(slot) = shared.workers.get(ctx.index()) {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(PoolWorker {
                rec: Recorder::new(ctx.index(), Some(Box::new(tx.clone()))),
                cpu0_ns: clock::thread_cpu_ns(),
                sums: Vec::new(),
                iters_done: 0,
                last_report_ns: 0,
            });
        }
    });
    // Each pool thread takes the chunk of its index, as each thread or process does elsewhere.
    let results: Vec<Result<(), EngineError>> = pool.broadcast(|ctx| {
        let Some(job) = jobs.get(ctx.index()) else {
            return Ok(());
        };
        for (j, &ic) in job.ics.iter().enumerate() {
            shared.solve(job.first_problem + j, ic)?;
        }
        Ok(())
    });
    let result: Result<(), EngineError> = results.into_iter().collect();
    let finished: Vec<Option<WorkerResult>> = pool.broadcast(|ctx| {
        let mut g = shared
            .workers
            .get(ctx.index())?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut pw = g.take()?;
        let (state_ns, dropped_spans) = pw.rec.finish();
        let (pid, tid) = pw.rec.ids();
        let _ = tx.try_send(WorkerMsg::Progress {
            worker: ctx.index(),
            iters_done: pw.iters_done,
        });
        Some(WorkerResult {
            worker: ctx.index(),
            pid,
            tid,
            problem_sums: std::mem::take(&mut pw.sums),
            returned: None,
            steps: 0,
            state_ns: state_ns.to_vec(),
            instructions: 0,
            cpu_ns: clock::thread_cpu_ns().saturating_sub(pw.cpu0_ns),
            dropped_spans,
            gil_switches: 0,
            gil_drop_requests: 0,
            gil_releases: 0,
            max_gil_wait_ns: 0,
            gil_starvations: 0,
        })
    });
    result?;
    for r in finished.into_iter().flatten() {
        let _ = tx.send(WorkerMsg::Done(Box::new(r)));
    }
    Ok(())
}

/// Runs the problems on a rayon pool of `cfg.threads` threads.
pub(super) fn run(
    cfg: &RunConfig,
    jobs: Vec<WorkerJob>,
    coord: &mut Coordinator<'_>,
    cancel: &CancelToken,
) -> Result<GilCounts, EngineError> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = bounded(WORKER_CHANNEL);
    let threads = cfg.threads;
    let shared = Shared {
        cfg: cfg.clone(),
        stop: Arc::clone(&stop),
        workers: (0..threads).map(|_| Mutex::new(None)).collect(),
        tx: tx.clone(),
    };
    drop(tx);
    let driver = std::thread::Builder::new()
        .name("gilscope-native".to_owned())
        .spawn(move || -> Result<(), EngineError> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("gilscope-native-{i}"))
                .build()
                .map_err(|e| {
                    EngineError::Internal(format!("could not build the thread pool: {e}"))
                })?;
            // A failure goes to the coordinator as the worker's own message, while it still
            // listens; the channel closes when this thread ends.
            match drive(&shared, &jobs, &pool) {
                Ok(()) | Err(EngineError::Cancelled) => {}
                Err(error) => {
                    let _ = shared.tx.send(WorkerMsg::Failed {
                        worker: 0,
                        pid: std::process::id(),
                        error,
                    });
                }
            }
            Ok(())
        })
        .map_err(|e| EngineError::io("could not start the native driver", e))?;
    coord.pump(&rx, cancel, &mut NativeWorkers(stop));
    match driver.join() {
        Ok(Ok(())) | Ok(Err(EngineError::Cancelled)) => {}
        Ok(Err(e)) => coord.fail(e),
        Err(_) => coord.fail(EngineError::Internal(
            "the native driver panicked".to_owned(),
        )),
    }
    Ok(GilCounts::default())
}
