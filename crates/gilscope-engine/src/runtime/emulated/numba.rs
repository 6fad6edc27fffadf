//! Numba's threading layer in the emulation: a pool of native threads, one lane each, started
//! at the script's first `prange` loop and kept to its end, that run the loops' chunks in the
//! interpreter without ever taking the GIL (as Numba's workqueue threads run compiled code).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};

use super::WorkerMsg;
use super::script::{ScriptHost, Shared};
use crate::trace::clock;
use crate::trace::spans::SpanState;
use gilscope_python::vm::numba::{ChunkResult, PrangeChunk};
use gilscope_python::vm::object::{RefcountDiscipline, set_thread_discipline};
use gilscope_python::vm::{Vm, VmError};

/// One chunk to run, and where its result goes.
type Job = (usize, PrangeChunk, Sender<ChunkResult>);

/// The pool's threads, each fed its chunks on a channel of its own.
pub(super) struct NumbaPool {
    feeds: Vec<SyncSender<Job>>,
}

/// Chunks a pool thread may have queued (a loop gives it one).
const FEED_DEPTH: usize = 4;

impl NumbaPool {
    /// Starts `threads` pool threads on lanes of their own, named `numba-worker-N`.
    pub(super) fn start(shared: &Arc<Shared>, threads: usize) -> Result<Self, VmError> {
        let mut feeds = Vec::with_capacity(threads);
        for n in 1..=threads {
            let lane = shared.next_worker.fetch_add(1, Ordering::Relaxed);
            shared
                .other_lanes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((lane, format!("numba-worker-{n}")));
            let (tx, rx) = sync_channel(FEED_DEPTH);
            let sh = Arc::clone(shared);
            let h = std::thread::Builder::new()
                .name(format!("gilscope-numba-{n}"))
                .stack_size(gilscope_python::vm::STACK_BYTES)
                .spawn(move || serve(sh, lane, rx))
                .map_err(|e| VmError::Host(Box::new(e)))?;
            shared
                .handles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h);
            feeds.push(tx);
        }
        Ok(Self { feeds })
    }

    /// Hands the chunks out, one pool thread each in turn; results come on the channel. A
    /// chunk whose thread is gone is dropped with its sender, so that the channel closes and
    /// the caller hears of it.
    pub(super) fn submit(&self, chunks: Vec<PrangeChunk>) -> Receiver<ChunkResult> {
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, chunk) in chunks.into_iter().enumerate() {
            if let Some(feed) = self.feeds.get(i % self.feeds.len().max(1)) {
                let _ = feed.send((i, chunk, tx.clone()));
            }
        }
        rx
    }
}

/// A pool thread: each chunk in a fresh interpreter, without the GIL, drawn as native work;
/// idle between chunks. Ends when the pool is dropped, with its lane's result.
fn serve(shared: Arc<Shared>, lane: usize, jobs: Receiver<Job>) {
    let cpu0 = clock::thread_cpu_ns();
    shared.cpu.enter(lane);
    // Compiled code keeps no Python reference counts; the interpreter standing in for it
    // counts atomically, so that it races with nothing.
    set_thread_discipline(RefcountDiscipline::Biased);
    let mut host = ScriptHost::new(Arc::clone(&shared), lane);
    let mut instructions = 0;
    while let Ok((i, chunk, reply)) = jobs.recv() {
        host.rec.enter(SpanState::Native);
        let r = {
            let mut vm = Vm::new(
                &mut host,
                shared.gil.eval_breaker(),
                Arc::clone(&shared.globals),
            );
            let r = vm.run_prange_chunk(chunk, true);
            instructions += vm.instructions();
            r
        };
        host.rec.leave();
        let _ = reply.send((i, r));
    }
    shared.cpu.leave(lane);
    let result = host.finish(instructions, cpu0);
    let _ = shared.tx.send(WorkerMsg::Done(Box::new(result)));
}
