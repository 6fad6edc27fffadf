//! Collects a run's heat frames while it runs (the engine keeps only the latest per worker), so
//! a recording can show the grid evolving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use gilscope_engine::trace::clock;
use gilscope_engine::trace::events::EventStream;

use super::RecordedFrame;

/// How often the collector looks for new frames (the live app repaints at about this rate).
pub const FRAME_PERIOD: Duration = Duration::from_millis(50);

/// A named thread that drains a run's events and copies each new frame with its time.
pub struct FrameCollector {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<FrameThinner>>,
}

impl FrameCollector {
    /// Starts collecting from `stream`.
    pub fn start(stream: EventStream) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("gilscope-record".to_owned())
            .spawn(move || {
                let mut seen = 0;
                let mut kept = FrameThinner::default();
                loop {
                    let done = flag.load(Ordering::Acquire);
                    // The events themselves are in the run's outcome; drain so nothing blocks.
                    while stream.rx.try_recv().is_ok() {}
                    let generation = stream.frames.generation();
                    if generation != seen {
                        seen = generation;
                        let now = clock::now_ns();
                        let (_, latest) = stream.frames.snapshot();
                        for f in latest.into_iter().flatten() {
                            kept.offer(now, f);
                        }
                    }
                    if done {
                        return kept;
                    }
                    std::thread::sleep(FRAME_PERIOD);
                }
            })?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops and returns the frames, timed from `start_ns` (the run's start).
    pub fn finish(mut self, start_ns: u64) -> Vec<RecordedFrame> {
        self.stop.store(true, Ordering::Release);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
            .into_frames(start_ns)
    }
}

/// One worker's frames, thinned as they come so memory stays bounded on a long run: once
/// twice the recorded maximum is held, every other frame goes and only every other new one is
/// taken.
#[derive(Default)]
struct Kept {
    frames: Vec<(u64, gilscope_engine::trace::events::GridFrame)>,
    last: Option<(u32, u32)>,
    latest: Option<(u64, gilscope_engine::trace::events::GridFrame)>,
    stride: usize,
    offered: usize,
}

impl Kept {
    fn offer(&mut self, now: u64, f: gilscope_engine::trace::events::GridFrame) {
        if self.last == Some((f.problem, f.iter)) {
            return;
        }
        self.last = Some((f.problem, f.iter));
        self.latest = Some((now, f.clone()));
        self.offered += 1;
        let stride = self.stride.max(1);
        if !self.offered.is_multiple_of(stride) {
            return;
        }
        self.frames.push((now, f));
        if self.frames.len() >= 2 * super::MAX_FRAMES_PER_WORKER {
            let mut i = 0usize;
            self.frames.retain(|_| {
                i += 1;
                i.is_multiple_of(2)
            });
            self.stride = stride * 2;
        }
    }
}

/// Every worker's thinned frames.
#[derive(Default)]
pub struct FrameThinner {
    workers: Vec<Kept>,
}

impl FrameThinner {
    /// Offers a worker's frame seen at `now_ns` (a repeat of the last one is ignored).
    pub fn offer(&mut self, now_ns: u64, f: gilscope_engine::trace::events::GridFrame) {
        let w = f.worker as usize;
        if self.workers.len() <= w {
            self.workers.resize_with(w + 1, Kept::default);
        }
        self.workers[w].offer(now_ns, f);
    }

    /// The frames kept, timed from `start_ns`, each worker's final one included.
    pub fn into_frames(self, start_ns: u64) -> Vec<RecordedFrame> {
        let mut v: Vec<RecordedFrame> = self
            .workers
            .into_iter()
            .flat_map(Kept::into_frames)
            .map(|(at, frame)| RecordedFrame {
                at_ns: at.saturating_sub(start_ns),
                frame,
            })
            .collect();
        v.sort_by_key(|f| f.at_ns);
        v
    }
}

impl Kept {
    /// The kept frames, always ending with the worker's final one.
    fn into_frames(mut self) -> Vec<(u64, gilscope_engine::trace::events::GridFrame)> {
        if let Some((at, f)) = self.latest.take()
            && self
                .frames
                .last()
                .is_none_or(|(_, g)| (g.problem, g.iter) != (f.problem, f.iter))
        {
            self.frames.push((at, f));
        }
        self.frames
    }
}

impl Drop for FrameCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
