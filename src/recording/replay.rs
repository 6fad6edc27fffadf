//! Replays a recording through the engine's own events, so every view and export of the app
//! shows it exactly as it showed the live run: at the recorded pace, or at once.

use std::time::{Duration, Instant};

use gilscope_engine::runtime::{CancelToken, next_run_id};
use gilscope_engine::trace::events::{EngineEvent, EventSink};

use super::{RecordedRun, Recording};

/// How fast a replay goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// As fast as the receiver takes the events (then scrub the finished timeline).
    Instant,
    /// At the speed the runs were recorded.
    RealTime,
}

/// Span batches of a replay cover this much recorded time each (what a live run sends at a time).
const BATCH_NS: u64 = 20_000_000;

/// Sends every run of `rec` (then its sweep) to `sink` at `pace`. Returns false if cancelled.
pub fn replay(rec: &Recording, sink: &EventSink, cancel: &CancelToken, pace: Pace) -> bool {
    for run in &rec.runs {
        if !replay_run(run, sink, cancel, pace) {
            return false;
        }
    }
    if let Some(sweep) = &rec.sweep {
        let total = sweep.points.len();
        for (i, p) in sweep.points.iter().enumerate() {
            let stop = || cancel.is_cancelled();
            if !sink.send_lossless(EngineEvent::SweepPoint(p.clone()), stop)
                || !sink.send_lossless(
                    EngineEvent::SweepProgress {
                        done: i + 1,
                        total,
                        elapsed_secs: sweep.wall_secs * (i + 1) as f64 / total.max(1) as f64,
                    },
                    stop,
                )
            {
                return false;
            }
        }
        sink.send_lossless(
            EngineEvent::SweepFinished {
                cancelled: false,
                error: None,
            },
            || cancel.is_cancelled(),
        );
    }
    !cancel.is_cancelled()
}

fn replay_run(run: &RecordedRun, sink: &EventSink, cancel: &CancelToken, pace: Pace) -> bool {
    let run_id = next_run_id();
    let stop = || cancel.is_cancelled();
    sink.reset_frames(run_id);
    if !sink.send_lossless(
        EngineEvent::RunStarted {
            run_id,
            config: Box::new(run.config.clone()),
            cores: run.summary.cores,
            start_ns: run.start_ns,
        },
        stop,
    ) {
        return false;
    }
    let t0 = Instant::now();
    let (mut si, mut ci, mut fi) = (0, 0, 0);
    let mut edge = run.start_ns;
    while si < run.spans.len() || ci < run.core_samples.len() || fi < run.frames.len() {
        edge = edge.saturating_add(BATCH_NS);
        if pace == Pace::RealTime {
            let due = Duration::from_nanos(edge.saturating_sub(run.start_ns));
            while t0.elapsed() < due {
                if stop() {
                    return false;
                }
                std::thread::sleep((due - t0.elapsed()).min(Duration::from_millis(20)));
            }
        }
        // Spans end up where they start: the batch holds every span that ended by the edge.
        let from = si;
        while si < run.spans.len() && run.spans[si].start_ns <= edge {
            si += 1;
        }
        if si > from
            && !sink.send_lossless(
                EngineEvent::Spans {
                    run_id,
                    spans: run.spans[from..si].to_vec(),
                },
                stop,
            )
        {
            return false;
        }
        while ci < run.core_samples.len() && run.core_samples[ci].end_ns <= edge {
            let sample = run.core_samples[ci].clone();
            if !sink.send_lossless(EngineEvent::CoreSample { run_id, sample }, stop) {
                return false;
            }
            ci += 1;
        }
        while fi < run.frames.len() && run.start_ns + run.frames[fi].at_ns <= edge {
            sink.publish_frame(run_id, run.frames[fi].frame.clone());
            fi += 1;
        }
    }
    sink.send_lossless(
        EngineEvent::RunFinished {
            run_id,
            summary: Box::new(run.summary.clone()),
        },
        stop,
    )
}
