//! One row of the timeline: a lane's spans kept sorted, and the prefix sums that let a frame
//! much wider in time than its spans be drawn in O(pixels).

use std::sync::OnceLock;

use crate::view::theme::{MIXED, Rgb, state_color, worker_color};
use gilscope_engine::trace::spans::{Span, SpanState};

/// What a lane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaneKind {
    /// A core: who ran on it, in which state.
    Core(u32),
    /// A GIL (one per process, or per subinterpreter): who holds it.
    Gil {
        /// The process.
        pid: u32,
        /// The worker whose subinterpreter owns this GIL, in interpreters mode.
        interp: Option<u32>,
    },
    /// A worker thread or process: its state over time.
    Worker(u32),
}

/// One row of the timeline.
#[derive(Clone, Debug)]
pub struct Lane {
    /// What it shows.
    pub kind: LaneKind,
    /// Its label (`Core 0`, `GIL · pid 123`, `worker 1 · tid 456`).
    pub label: String,
    pub(super) spans: Vec<Span>,
    pub(super) sorted: bool,
    pub(super) max_dur_ns: u64,
    pub(super) categories: usize,
    pub(super) summary: OnceLock<Option<Summary>>,
}

/// Buckets of a lane summary.
const SUMMARY_BUCKETS: usize = 16_384;

/// Prefix sums of a lane's coverage per category at a fixed bucket width, so a frame whose
/// pixels are much wider than the spans costs O(pixels), not O(spans).
#[derive(Clone, Debug)]
pub(super) struct Summary {
    pub(super) start_ns: f64,
    pub(super) bucket_ns: f64,
    pub(super) buckets: usize,
    pub(super) ncat: usize,
    /// `(buckets + 1) × ncat` running totals, in bucket units.
    pub(super) cum: Vec<f32>,
}

impl Summary {
    pub(super) fn build(lane: &Lane, ncat: usize) -> Option<Summary> {
        let first = lane.spans.first()?.start_ns as f64;
        let last = lane.spans.iter().map(|s| s.end_ns).max()? as f64;
        let buckets = SUMMARY_BUCKETS;
        let bucket_ns = ((last - first) / buckets as f64).max(1.0);
        let mut cov = vec![0f32; buckets * ncat];
        for s in &lane.spans {
            if s.state.is_marker() || s.end_ns <= s.start_ns {
                continue;
            }
            let a = (s.start_ns as f64 - first) / bucket_ns;
            let b = ((s.end_ns as f64 - first) / bucket_ns).min(buckets as f64);
            let cat = lane.category(s).min(ncat - 1);
            let mut i = (a.floor() as usize).min(buckets - 1);
            while (i as f64) < b && i < buckets {
                let part = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0) as f32;
                cov[i * ncat + cat] += part;
                i += 1;
            }
        }
        let mut cum = vec![0f32; (buckets + 1) * ncat];
        for i in 0..buckets {
            for c in 0..ncat {
                cum[(i + 1) * ncat + c] = cum[i * ncat + c] + cov[i * ncat + c];
            }
        }
        Some(Summary {
            start_ns: first,
            bucket_ns,
            buckets,
            ncat,
            cum,
        })
    }

    /// Coverage of category `c` from the start up to bucket position `x`.
    pub(super) fn at(&self, x: f64, c: usize) -> f32 {
        let x = x.clamp(0.0, self.buckets as f64);
        let i = (x.floor() as usize).min(self.buckets - 1);
        let lo = self.cum[i * self.ncat + c];
        let hi = self.cum[(i + 1) * self.ncat + c];
        lo + (x - i as f64) as f32 * (hi - lo)
    }
}

impl Lane {
    pub(super) fn new(kind: LaneKind, label: String) -> Self {
        Self {
            kind,
            label,
            spans: Vec::new(),
            sorted: true,
            max_dur_ns: 0,
            categories: match kind {
                LaneKind::Gil { .. } => 1,
                _ => SpanState::COUNT,
            },
            summary: OnceLock::new(),
        }
    }

    /// Number of categories of this lane (states, or on a GIL lane the workers).
    pub(super) fn category_count(&self) -> usize {
        self.categories
    }

    pub(super) fn push(&mut self, s: Span) {
        if self.spans.last().is_some_and(|l| s.start_ns < l.start_ns) {
            self.sorted = false;
        }
        self.max_dur_ns = self.max_dur_ns.max(s.dur_ns());
        if matches!(self.kind, LaneKind::Gil { .. }) {
            self.categories = self.categories.max(s.worker as usize + 1);
        }
        self.spans.push(s);
        self.summary = OnceLock::new();
    }

    pub(super) fn prepare(&mut self) {
        if !self.sorted {
            self.spans.sort_by_key(|s| s.start_ns);
            self.sorted = true;
        }
    }

    pub(super) fn trim_before(&mut self, cutoff_ns: u64) -> usize {
        self.prepare();
        let n = self
            .spans
            .partition_point(|s| s.end_ns < cutoff_ns && s.start_ns < cutoff_ns);
        self.spans.drain(..n);
        self.summary = OnceLock::new();
        n
    }

    /// All spans, sorted by start (call [`TimelineModel::prepare`] after pushing).
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The spans that may overlap `[t0, t1)`.
    pub fn visible(&self, t0_ns: u64, t1_ns: u64) -> &[Span] {
        let lo = self
            .spans
            .partition_point(|s| s.start_ns.saturating_add(self.max_dur_ns) < t0_ns);
        let hi = self.spans.partition_point(|s| s.start_ns < t1_ns);
        &self.spans[lo..hi.max(lo)]
    }

    /// The category a span has in this lane: its state, or on a GIL lane its worker.
    pub fn category(&self, s: &Span) -> usize {
        match self.kind {
            LaneKind::Gil { .. } => s.worker as usize,
            _ => s.state as usize,
        }
    }

    /// The colour of a category of this lane.
    pub fn category_color(&self, cat: usize) -> Rgb {
        match self.kind {
            LaneKind::Gil { .. } => worker_color(cat),
            _ => SpanState::from_u8(cat as u8).map_or(MIXED, state_color),
        }
    }

    /// The span under time `t_ns`, or the nearest one within `tolerance_ns`.
    pub fn span_at(&self, t_ns: u64, tolerance_ns: u64) -> Option<&Span> {
        let near = self.visible(
            t_ns.saturating_sub(tolerance_ns),
            t_ns.saturating_add(tolerance_ns + 1),
        );
        let dist = |s: &Span| {
            if t_ns < s.start_ns {
                s.start_ns - t_ns
            } else {
                t_ns.saturating_sub(s.end_ns)
            }
        };
        near.iter()
            .filter(|s| !s.state.is_marker() && dist(s) <= tolerance_ns)
            .min_by_key(|s| (dist(s), u64::MAX - s.dur_ns()))
    }

    /// Seconds per state within `[t0, t1)`.
    pub fn state_secs(&self, t0_ns: u64, t1_ns: u64) -> [f64; SpanState::COUNT] {
        let mut out = [0.0; SpanState::COUNT];
        for s in self.visible(t0_ns, t1_ns) {
            let a = s.start_ns.max(t0_ns);
            let b = s.end_ns.min(t1_ns);
            if b > a {
                out[s.state as usize] += (b - a) as f64 / 1e9;
            }
        }
        out
    }
}

#[cfg(test)]
pub(super) mod fixtures {
    //! Spans and lanes for the timeline's unit tests.
    use super::*;

    pub fn span(worker: u32, cpu: u32, state: SpanState, a: u64, b: u64) -> Span {
        Span {
            start_ns: a,
            end_ns: b,
            pid: 7,
            tid: 100 + worker,
            worker,
            cpu,
            state,
        }
    }

    pub fn lane_of(spans: &[Span]) -> Lane {
        let mut l = Lane::new(LaneKind::Worker(0), "w".into());
        for s in spans {
            l.push(*s);
        }
        l.prepare();
        l
    }
}
