//! The coordinator: drains the workers' channel into spans, frames, progress and results,
//! forwards them to the event sink, and stops every worker on cancel or on the first failure.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::wire::{WorkerMsg, WorkerResult};
use super::{MAX_TRACE_SPANS, PROGRESS_EVERY_NS};

/// Most workers one run keeps results for (a script may start any number of threads).
const MAX_WORKERS: usize = 1 << 20;
use crate::config::RunConfig;
use crate::error::EngineError;
use crate::runtime::job::CancelToken;
use crate::trace::clock;
use crate::trace::events::{EngineEvent, EventSink};
use crate::trace::spans::{NO_CPU, Span, SpanState};

/// The GIL counters of the locks a mode's runner owns (children report their own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GilCounts {
    /// Holder changes.
    pub switches: u64,
    /// Drop requests.
    pub drop_requests: u64,
    /// Releases.
    pub releases: u64,
}

impl std::ops::Add for GilCounts {
    type Output = GilCounts;
    fn add(self, o: GilCounts) -> GilCounts {
        GilCounts {
            switches: self.switches + o.switches,
            drop_requests: self.drop_requests + o.drop_requests,
            releases: self.releases + o.releases,
        }
    }
}

impl GilCounts {
    /// The counters of one lock.
    pub fn of(gil: &crate::gil::Gil) -> Self {
        Self {
            switches: gil.switches(),
            drop_requests: gil.drop_requests(),
            releases: gil.releases(),
        }
    }
}

/// The workers of one mode, as the coordinator's pump sees them.
pub(crate) trait Workers {
    /// Stops every worker as soon as possible.
    fn cancel(&mut self);
    /// Sees a message before the coordinator handles it.
    fn on_msg(&mut self, _coord: &mut Coordinator<'_>, _msg: &WorkerMsg) {}
}

/// Gathers what the workers of one run send.
pub(crate) struct Coordinator<'a> {
    pub(super) run_id: u64,
    pub(super) sink: Option<&'a EventSink>,
    pub(super) spans: Vec<Span>,
    pub(super) dropped: u64,
    pub(super) iters_done: Vec<u64>,
    pub(super) iters_total: u64,
    pub(super) last_progress_ns: u64,
    pub(super) results: Vec<Option<WorkerResult>>,
    pub(super) failure: Option<EngineError>,
    pub(super) spawn_started_ns: Vec<u64>,
}

impl<'a> Coordinator<'a> {
    pub(super) fn new(run_id: u64, cfg: &RunConfig, sink: Option<&'a EventSink>) -> Self {
        Self {
            run_id,
            sink,
            spans: Vec::new(),
            dropped: 0,
            iters_done: vec![0; cfg.threads],
            iters_total: if cfg.is_heat() {
                (cfg.problems * cfg.iters) as u64
            } else {
                0
            },
            last_progress_ns: 0,
            results: vec![None; cfg.threads],
            failure: None,
            spawn_started_ns: vec![0; cfg.threads],
        }
    }

    pub(super) fn add_spans(&mut self, spans: Vec<Span>) {
        let room = MAX_TRACE_SPANS.saturating_sub(self.spans.len());
        let keep = spans.len().min(room);
        self.dropped += (spans.len() - keep) as u64;
        self.spans.extend_from_slice(&spans[..keep]);
        if let Some(sink) = self.sink {
            sink.send(EngineEvent::Spans {
                run_id: self.run_id,
                spans,
            });
        }
    }

    /// Records the run's first failure. Once the user has stopped the run, what the stopped
    /// workers report as they are killed (a child's pipe cut inside a frame) is the stop's
    /// doing, and the run ends as cancelled.
    pub(super) fn fail(&mut self, error: EngineError) {
        if self.failure.is_none() {
            self.failure = Some(error);
        }
    }

    pub(super) fn handle(&mut self, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Hello {
                worker,
                pid,
                tid,
                ready_ns,
            } => {
                let start_ns = self
                    .spawn_started_ns
                    .get(worker)
                    .copied()
                    .unwrap_or(ready_ns);
                self.add_spans(vec![Span {
                    start_ns,
                    end_ns: ready_ns.max(start_ns),
                    pid,
                    tid,
                    worker: worker as u32,
                    cpu: NO_CPU,
                    state: SpanState::Spawn,
                }]);
            }
            WorkerMsg::Spans(spans) => self.add_spans(spans),
            WorkerMsg::Frame(frame) => {
                if let Some(sink) = self.sink {
                    sink.publish_frame(self.run_id, frame);
                }
            }
            WorkerMsg::Progress { worker, iters_done } => {
                if let Some(slot) = self.iters_done.get_mut(worker) {
                    *slot = iters_done;
                }
                self.report_progress(false);
            }
            WorkerMsg::Done(result) => {
                let w = result.worker;
                self.dropped += result.dropped_spans;
                // A script's threads are numbered as they start, beyond any count given.
                if w >= self.results.len() && w < MAX_WORKERS {
                    self.results.resize(w + 1, None);
                }
                if let Some(slot) = self.results.get_mut(w) {
                    *slot = Some(*result);
                }
            }
            WorkerMsg::Failed { error, .. } => self.fail(error),
            // A forked process's replies and output go to the script, never here.
            WorkerMsg::Eof { .. }
            | WorkerMsg::TaskDone(_)
            | WorkerMsg::Call(_)
            | WorkerMsg::Output { .. } => {}
        }
    }

    pub(super) fn report_progress(&mut self, force: bool) {
        let now = clock::now_ns();
        if !force && now.saturating_sub(self.last_progress_ns) < PROGRESS_EVERY_NS {
            return;
        }
        self.last_progress_ns = now;
        if let Some(sink) = self.sink {
            sink.send(EngineEvent::Progress {
                run_id: self.run_id,
                iters_done: self.iters_done.iter().sum::<u64>().min(self.iters_total),
                iters_total: self.iters_total,
            });
        }
    }

    /// Receives until every sender is gone; tells `workers` to stop once when the token is set
    /// or a worker fails, and shows it each message before handling it.
    pub(super) fn pump(
        &mut self,
        rx: &Receiver<WorkerMsg>,
        cancel: &CancelToken,
        workers: &mut dyn Workers,
    ) {
        let mut cancel_sent = false;
        loop {
            if !cancel_sent && (cancel.is_cancelled() || self.failure.is_some()) {
                cancel_sent = true;
                if self.failure.is_none() {
                    self.failure = Some(EngineError::Cancelled);
                }
                workers.cancel();
            }
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(msg) => {
                    workers.on_msg(self, &msg);
                    self.handle(msg);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }
}
