//! The one way the engine talks to its caller: a bounded event channel, a latest-frame slot for
//! heat grids, and a waker so a GUI can repaint without polling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use serde::{Deserialize, Serialize};

use crate::config::{RunConfig, Series};
use crate::trace::sampler::CoreSample;
use crate::trace::spans::Span;
use crate::trace::summary::RunSummary;

/// A downsampled snapshot of one worker's grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridFrame {
    /// Worker index.
    pub worker: u32,
    /// Process id of the worker.
    pub pid: u32,
    /// Thread id of the worker.
    pub tid: u32,
    /// Index of the problem being solved.
    pub problem: u32,
    /// Iterations done on that problem.
    pub iter: u32,
    /// Side of the full grid.
    pub grid: u32,
    /// Rows of `cells`.
    pub rows: u32,
    /// Columns of `cells`.
    pub cols: u32,
    /// Cell values, row-major.
    pub cells: Arc<[f32]>,
}

/// Largest side of a published frame; bigger grids are averaged down to it.
pub const FRAME_MAX_SIDE: usize = 160;

impl SweepPoint {
    /// The label of the point's line.
    pub fn label(&self) -> String {
        self.series.label_in(&self.program)
    }
}

impl GridFrame {
    /// Snapshots a grid view, averaging blocks so the frame is at most [`FRAME_MAX_SIDE`] wide.
    pub fn from_view(
        worker: u32,
        pid: u32,
        problem: u32,
        iter: u32,
        v: ndarray::ArrayView2<'_, f64>,
    ) -> Self {
        let tid = crate::trace::clock::current_tid();
        let (n, m) = v.dim();
        let step = n.max(m).div_ceil(FRAME_MAX_SIDE).max(1);
        let rows = n.div_ceil(step);
        let cols = m.div_ceil(step);
        let mut cells = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                let (r0, r1) = (r * step, ((r + 1) * step).min(n));
                let (c0, c1) = (c * step, ((c + 1) * step).min(m));
                let mut acc = 0.0;
                for i in r0..r1 {
                    for j in c0..c1 {
                        acc += v[[i, j]];
                    }
                }
                cells.push((acc / ((r1 - r0) * (c1 - c0)) as f64) as f32);
            }
        }
        Self {
            worker,
            pid,
            tid,
            problem,
            iter,
            grid: n as u32,
            rows: rows as u32,
            cols: cols as u32,
            cells: cells.into(),
        }
    }
}

/// The latest grid of each worker: a slot per worker, overwritten, never queued.
#[derive(Default)]
pub struct FrameSlots {
    inner: Mutex<FrameState>,
    generation: AtomicU64,
}

#[derive(Default)]
struct FrameState {
    run_id: u64,
    frames: Vec<Option<GridFrame>>,
}

impl FrameSlots {
    /// Replaces the worker's frame; a frame of a newer run clears the others.
    pub fn publish(&self, run_id: u64, frame: GridFrame) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if st.run_id != run_id {
            st.run_id = run_id;
            st.frames.clear();
        }
        let w = frame.worker as usize;
        if st.frames.len() <= w {
            st.frames.resize(w + 1, None);
        }
        st.frames[w] = Some(frame);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Clears every slot (a new run starts).
    pub fn reset(&self, run_id: u64) {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        st.run_id = run_id;
        st.frames.clear();
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// A number that changes whenever a slot changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The run id and a copy of the latest frames (cheap: cells are shared).
    pub fn snapshot(&self) -> (u64, Vec<Option<GridFrame>>) {
        let st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (st.run_id, st.frames.clone())
    }
}

/// One measured point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The series measured.
    pub series: Series,
    /// Worker count.
    pub threads: usize,
    /// Repeat index (0-based).
    pub repeat: usize,
    /// Wall time in seconds.
    pub wall_secs: f64,
    /// The run's checksum.
    pub checksum: f64,
    /// The program the point ran.
    #[serde(default)]
    pub program: String,
    /// The program's parameters as overridden for the sweep.
    #[serde(default)]
    pub params: Vec<(String, String)>,
}

/// Something the engine reports.
#[derive(Clone, Debug)]
pub enum EngineEvent {
    /// A run began.
    RunStarted {
        /// Run id.
        run_id: u64,
        /// Its settings.
        config: Box<RunConfig>,
        /// Logical cores of the machine.
        cores: usize,
        /// Start on the monotonic clock, in nanoseconds.
        start_ns: u64,
    },
    /// Trace spans.
    Spans {
        /// Run id.
        run_id: u64,
        /// The spans (any order).
        spans: Vec<Span>,
    },
    /// Iterations done so far.
    Progress {
        /// Run id.
        run_id: u64,
        /// Iterations done, over all problems.
        iters_done: u64,
        /// Iterations in the whole run.
        iters_total: u64,
    },
    /// One per-core utilisation sample.
    CoreSample {
        /// Run id.
        run_id: u64,
        /// The sample.
        sample: CoreSample,
    },
    /// A run finished.
    RunFinished {
        /// Run id.
        run_id: u64,
        /// Its summary.
        summary: Box<RunSummary>,
    },
    /// A run failed or was cancelled.
    RunFailed {
        /// Run id.
        run_id: u64,
        /// The error, readable.
        error: String,
        /// Whether it was a cancel rather than a failure.
        cancelled: bool,
    },
    /// A sweep measured a point.
    SweepPoint(SweepPoint),
    /// A sweep's progress.
    SweepProgress {
        /// Runs done.
        done: usize,
        /// Runs in the sweep.
        total: usize,
        /// Seconds since the sweep started.
        elapsed_secs: f64,
    },
    /// A sweep ended.
    SweepFinished {
        /// Whether it was cancelled.
        cancelled: bool,
        /// Error, if it failed.
        error: Option<String>,
    },
}

/// Called after events are sent so a GUI can repaint.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The engine's end of the event channel. Cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    tx: Sender<EngineEvent>,
    frames: Arc<FrameSlots>,
    waker: Option<Waker>,
    dropped_spans: Arc<AtomicU64>,
}

/// The caller's end of the event channel.
pub struct EventStream {
    /// Events in order.
    pub rx: Receiver<EngineEvent>,
    /// Latest grid per worker.
    pub frames: Arc<FrameSlots>,
    dropped_spans: Arc<AtomicU64>,
}

/// Makes a bounded channel of `capacity` events with an optional waker.
pub fn channel(capacity: usize, waker: Option<Waker>) -> (EventSink, EventStream) {
    let (tx, rx) = bounded(capacity.max(1));
    let frames = Arc::new(FrameSlots::default());
    let dropped = Arc::new(AtomicU64::new(0));
    (
        EventSink {
            tx,
            frames: Arc::clone(&frames),
            waker,
            dropped_spans: Arc::clone(&dropped),
        },
        EventStream {
            rx,
            frames,
            dropped_spans: dropped,
        },
    )
}

impl EventSink {
    /// Sends an event. Streams (spans, progress, samples) are dropped when the channel is full,
    /// spans counted; results wait up to a second for room.
    pub fn send(&self, ev: EngineEvent) {
        let lossy = matches!(
            ev,
            EngineEvent::Spans { .. }
                | EngineEvent::Progress { .. }
                | EngineEvent::CoreSample { .. }
        );
        if lossy {
            if let Err(TrySendError::Full(EngineEvent::Spans { spans, .. })) = self.tx.try_send(ev)
            {
                self.dropped_spans
                    .fetch_add(spans.len() as u64, Ordering::Relaxed);
            }
        } else {
            let _ = self.tx.send_timeout(ev, Duration::from_secs(1));
        }
        self.wake();
    }

    /// Sends an event without ever dropping it: waits for room, in steps of 50 ms, until
    /// `stop()` says to give up (a replay must not lose spans). False if it gave up.
    pub fn send_lossless(&self, mut ev: EngineEvent, stop: impl Fn() -> bool) -> bool {
        loop {
            match self.tx.send_timeout(ev, Duration::from_millis(50)) {
                Ok(()) => {
                    self.wake();
                    return true;
                }
                Err(crossbeam_channel::SendTimeoutError::Timeout(back)) if !stop() => {
                    self.wake();
                    ev = back;
                }
                Err(_) => return false,
            }
        }
    }

    /// Publishes a worker's latest grid.
    pub fn publish_frame(&self, run_id: u64, frame: GridFrame) {
        self.frames.publish(run_id, frame);
        self.wake();
    }

    /// Clears the frames for a new run.
    pub fn reset_frames(&self, run_id: u64) {
        self.frames.reset(run_id);
    }

    /// Asks the reader to look now (a repaint), for results that travel outside the channel.
    pub fn wake(&self) {
        if let Some(w) = &self.waker {
            w();
        }
    }
}

impl EventStream {
    /// Spans the live channel had to drop because the reader fell behind.
    pub fn dropped_spans(&self) -> u64 {
        self.dropped_spans.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_downsample_and_keep_only_the_latest() {
        let big = ndarray::Array2::<f64>::from_elem((1000, 1000), 1.5);
        let f = GridFrame::from_view(0, 1, 0, 0, big.view());
        assert!(f.rows as usize <= FRAME_MAX_SIDE && f.cols as usize <= FRAME_MAX_SIDE);
        assert!(f.cells.iter().all(|&c| c == 1.5));
        let slots = FrameSlots::default();
        slots.publish(1, f.clone());
        let mut g = f.clone();
        g.iter = 9;
        slots.publish(1, g);
        let (_, frames) = slots.snapshot();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].as_ref().map(|f| f.iter), Some(9));
        slots.publish(2, f);
        assert_eq!(slots.snapshot().0, 2);
    }

    #[test]
    fn full_channel_counts_dropped_spans() {
        let (sink, stream) = channel(1, None);
        let span = crate::trace::spans::Span {
            start_ns: 0,
            end_ns: 1,
            pid: 0,
            tid: 0,
            worker: 0,
            cpu: 0,
            state: crate::trace::spans::SpanState::Python,
        };
        sink.send(EngineEvent::Spans {
            run_id: 1,
            spans: vec![span],
        });
        sink.send(EngineEvent::Spans {
            run_id: 1,
            spans: vec![span, span],
        });
        assert_eq!(stream.dropped_spans(), 2);
    }
}
