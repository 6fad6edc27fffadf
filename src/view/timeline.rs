//! The timeline model: turns trace spans into lanes (one per core, one GIL lane per process, one
//! per worker) and lanes into pixel segments for any visible window. Plain code, no egui, so the
//! window and the exports draw the same thing and the arithmetic is unit-tested.

use std::sync::OnceLock;

use crate::view::theme::{MIXED, Rgb, state_color, worker_color};
use gilscope_engine::build::Interpreter;
use gilscope_engine::config::Mode;
use gilscope_engine::trace::sampler::CoreSample;
use gilscope_engine::trace::spans::{NO_CPU, Span, SpanState};
use gilscope_engine::trace::summary::RunOutcome;

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
    spans: Vec<Span>,
    sorted: bool,
    max_dur_ns: u64,
    categories: usize,
    summary: OnceLock<Option<Summary>>,
}

/// Buckets of a lane summary.
const SUMMARY_BUCKETS: usize = 16_384;

/// Prefix sums of a lane's coverage per category at a fixed bucket width, so a frame whose
/// pixels are much wider than the spans costs O(pixels), not O(spans).
#[derive(Clone, Debug)]
struct Summary {
    start_ns: f64,
    bucket_ns: f64,
    buckets: usize,
    ncat: usize,
    /// `(buckets + 1) × ncat` running totals, in bucket units.
    cum: Vec<f32>,
}

impl Summary {
    fn build(lane: &Lane, ncat: usize) -> Option<Summary> {
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
    fn at(&self, x: f64, c: usize) -> f32 {
        let x = x.clamp(0.0, self.buckets as f64);
        let i = (x.floor() as usize).min(self.buckets - 1);
        let lo = self.cum[i * self.ncat + c];
        let hi = self.cum[(i + 1) * self.ncat + c];
        lo + (x - i as f64) as f32 * (hi - lo)
    }
}

impl Lane {
    fn new(kind: LaneKind, label: String) -> Self {
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
    fn category_count(&self) -> usize {
        self.categories
    }

    fn push(&mut self, s: Span) {
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

    fn prepare(&mut self) {
        if !self.sorted {
            self.spans.sort_by_key(|s| s.start_ns);
            self.sorted = true;
        }
    }

    fn trim_before(&mut self, cutoff_ns: u64) -> usize {
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

/// The visible time range, in nanoseconds on the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeWindow {
    /// Left edge.
    pub start_ns: f64,
    /// Right edge.
    pub end_ns: f64,
}

/// Narrowest window a zoom may reach: 2 µs.
pub const MIN_WINDOW_NS: f64 = 2_000.0;

impl TimeWindow {
    /// A window from `start` to `end` (never empty).
    pub fn new(start_ns: f64, end_ns: f64) -> Self {
        let end_ns = end_ns.max(start_ns + 1.0);
        Self { start_ns, end_ns }
    }

    /// Width in nanoseconds.
    pub fn width_ns(&self) -> f64 {
        self.end_ns - self.start_ns
    }

    /// The x pixel of time `t` in a lane `width_px` wide.
    pub fn x_of(&self, t_ns: f64, width_px: f32) -> f32 {
        ((t_ns - self.start_ns) / self.width_ns() * width_px as f64) as f32
    }

    /// The time at x pixel `x` in a lane `width_px` wide.
    pub fn t_of(&self, x: f32, width_px: f32) -> f64 {
        self.start_ns + x as f64 / width_px.max(1.0) as f64 * self.width_ns()
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the time at `anchor` (0 = left, 1 = right) fixed.
    pub fn zoom(&mut self, anchor: f64, factor: f64) {
        let anchor = anchor.clamp(0.0, 1.0);
        let t = self.start_ns + anchor * self.width_ns();
        let w = (self.width_ns() / factor.max(1e-6)).max(MIN_WINDOW_NS);
        self.start_ns = t - anchor * w;
        self.end_ns = self.start_ns + w;
    }

    /// Moves by `dx_px` pixels of a lane `width_px` wide (positive moves back in time).
    pub fn pan_px(&mut self, dx_px: f32, width_px: f32) {
        let dt = dx_px as f64 / width_px.max(1.0) as f64 * self.width_ns();
        self.start_ns -= dt;
        self.end_ns -= dt;
    }
}

/// A run of pixels drawn in one colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// Left pixel (inclusive).
    pub x0: f32,
    /// Right pixel (exclusive).
    pub x1: f32,
    /// Colour to draw.
    pub color: Rgb,
    /// The category shown, or `None` where several were merged into the summary colour.
    pub category: Option<usize>,
}

/// How strongly a pixel is coloured for the share of it that spans cover.
fn coverage_level(cov: f32) -> f32 {
    match cov {
        c if c >= 0.75 => 1.0,
        c if c >= 0.5 => 0.8,
        c if c >= 0.25 => 0.6,
        _ => 0.4,
    }
}

/// Bins the lane's spans into `width_px` pixels of `window`. Each pixel takes the colour of the
/// category covering most of it, or the summary colour when none dominates; spans shorter than a
/// pixel still colour it (lighter when they cover little of it). Adjacent equal pixels merge.
pub fn bin_lane(lane: &Lane, window: &TimeWindow, width_px: usize, idle: Rgb) -> Vec<Segment> {
    bin_lane_with(lane, window, width_px, idle, true)
}

/// [`bin_lane`], optionally without the prefix-sum shortcut (to check one against the other).
fn bin_lane_with(
    lane: &Lane,
    window: &TimeWindow,
    width_px: usize,
    idle: Rgb,
    allow_summary: bool,
) -> Vec<Segment> {
    if width_px == 0 {
        return Vec::new();
    }
    let ns_per_px = window.width_ns() / width_px as f64;
    let t0 = window.start_ns.max(0.0) as u64;
    let t1 = window.end_ns.max(0.0).ceil() as u64;
    let visible = lane.visible(t0, t1);
    let ncat = lane.category_count();
    let mut bins = vec![0f32; width_px * ncat];
    // Many more spans than pixels: read coverage from the lane's prefix sums.
    let summary = (allow_summary && visible.len() > 2 * width_px)
        .then(|| {
            lane.summary
                .get_or_init(|| Summary::build(lane, ncat))
                .as_ref()
        })
        .flatten()
        .filter(|sm| sm.ncat == ncat && ns_per_px >= 4.0 * sm.bucket_ns);
    if let Some(sm) = summary {
        let per_px = ns_per_px / sm.bucket_ns;
        let x0 = (window.start_ns - sm.start_ns) / sm.bucket_ns;
        for c in 0..ncat {
            // Each pixel edge is read once: the right edge of one pixel is the left of the next.
            let mut left = sm.at(x0, c);
            for px in 0..width_px {
                let right = sm.at(x0 + (px + 1) as f64 * per_px, c);
                bins[px * ncat + c] = ((right - left) / per_px as f32).max(0.0);
                left = right;
            }
        }
        return segments_from_bins(lane, &bins, ncat, width_px, idle);
    }
    for s in visible {
        if s.state.is_marker() || s.end_ns <= s.start_ns {
            continue;
        }
        let a = ((s.start_ns as f64 - window.start_ns) / ns_per_px).max(0.0);
        let b = ((s.end_ns as f64 - window.start_ns) / ns_per_px).min(width_px as f64);
        if b <= a {
            continue;
        }
        let cat = lane.category(s).min(ncat - 1);
        let first = a.floor() as usize;
        let last = (b.ceil() as usize).min(width_px);
        for px in first..last {
            let cov = (b.min(px as f64 + 1.0) - a.max(px as f64)).max(0.0) as f32;
            bins[px * ncat + cat] += cov;
        }
    }
    segments_from_bins(lane, &bins, ncat, width_px, idle)
}

/// Colours pixels from their per-category coverage and merges equal neighbours.
fn segments_from_bins(
    lane: &Lane,
    bins: &[f32],
    ncat: usize,
    width_px: usize,
    idle: Rgb,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for px in 0..width_px {
        let cell = &bins[px * ncat..(px + 1) * ncat];
        let total: f32 = cell.iter().sum();
        if total <= 1e-6 {
            continue;
        }
        let (best, &best_cov) = cell
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        let (category, base) = if best_cov >= 0.75 * total {
            (Some(best), lane.category_color(best))
        } else {
            (None, MIXED)
        };
        let color = idle.mix(base, coverage_level(total.min(1.0)));
        let x = px as f32;
        match out.last_mut() {
            Some(seg) if seg.x1 == x && seg.color == color && seg.category == category => {
                seg.x1 = x + 1.0
            }
            _ => out.push(Segment {
                x0: x,
                x1: x + 1.0,
                color,
                category,
            }),
        }
    }
    out
}

/// A "nice" tick step (1, 2 or 5 × 10^k ns) for about `target` ticks over `width_ns`.
pub fn tick_step_ns(width_ns: f64, target: f64) -> f64 {
    let raw = (width_ns / target.max(1.0)).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A time relative to the run start, readable (`850 µs`, `12.5 ms`, `1.20 s`).
pub fn fmt_rel(ns: f64) -> String {
    let a = ns.abs();
    if a < 1e6 {
        format!("{:.0} µs", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// All lanes of one run, fed span by span.
#[derive(Clone, Debug)]
pub struct TimelineModel {
    /// Run start, monotonic ns.
    pub start_ns: u64,
    /// Run end, once finished.
    pub end_ns: Option<u64>,
    /// Latest span end seen.
    pub last_ns: u64,
    /// The mode of the run (decides whether GIL lanes exist).
    pub mode: Option<Mode>,
    /// Whether the run's interpreter has a GIL at all (not for free-threaded builds).
    pub interpreter_has_gil: bool,
    /// One lane per core of the machine.
    pub core_lanes: Vec<Lane>,
    /// One lane per GIL (process).
    pub gil_lanes: Vec<Lane>,
    /// One lane per worker, by worker index.
    pub worker_lanes: Vec<Lane>,
    /// Per-core busy samples.
    pub core_samples: Vec<CoreSample>,
    /// Drop-request instants.
    pub drop_requests: Vec<Span>,
    /// Instants where a starved GIL wait ended.
    pub starvations: Vec<Span>,
    /// Which states any span so far had (legends show only those).
    pub seen_states: [bool; SpanState::COUNT],
    /// Spans held now.
    pub span_count: usize,
    /// Old spans let go to keep memory bounded.
    pub trimmed: u64,
    /// Spans the engine reported as dropped.
    pub engine_dropped: u64,
    max_spans: usize,
}

/// Spans the model holds before it lets the oldest half go.
pub const DEFAULT_MAX_SPANS: usize = 1_000_000;

impl TimelineModel {
    /// An empty timeline for a machine with `cores` cores.
    pub fn new(cores: usize, start_ns: u64, mode: Option<Mode>) -> Self {
        Self {
            start_ns,
            end_ns: None,
            last_ns: start_ns,
            mode,
            interpreter_has_gil: true,
            core_lanes: (0..cores.max(1) as u32)
                .map(|c| Lane::new(LaneKind::Core(c), format!("Core {c}")))
                .collect(),
            gil_lanes: Vec::new(),
            worker_lanes: Vec::new(),
            core_samples: Vec::new(),
            drop_requests: Vec::new(),
            starvations: Vec::new(),
            seen_states: [false; SpanState::COUNT],
            span_count: 0,
            trimmed: 0,
            engine_dropped: 0,
            max_spans: DEFAULT_MAX_SPANS,
        }
    }

    /// The timeline of a run on `interpreter`: no GIL lanes for a build without a GIL.
    pub fn with_interpreter(mut self, interpreter: Interpreter) -> Self {
        self.interpreter_has_gil = interpreter.has_gil();
        self
    }

    /// The GIL lane a span of a worker belongs to.
    fn gil_key(&self, s: &Span) -> LaneKind {
        LaneKind::Gil {
            pid: s.pid,
            interp: (self.mode == Some(Mode::Interpreters)).then_some(s.worker),
        }
    }

    /// Sets how many spans are held before trimming (for tests and benchmarks).
    pub fn with_max_spans(mut self, max_spans: usize) -> Self {
        self.max_spans = max_spans.max(16);
        self
    }

    /// The model of a finished run.
    pub fn from_outcome(o: &RunOutcome) -> Self {
        let mut m = Self::new(o.summary.cores, o.start_ns, o.summary.mode)
            .with_interpreter(o.summary.interpreter);
        m.push_spans(&o.spans);
        m.core_samples = o.core_samples.clone();
        m.end_ns = Some(o.end_ns);
        m.last_ns = m.last_ns.max(o.end_ns);
        m.engine_dropped = o.summary.dropped_events;
        m.prepare();
        m
    }

    fn worker_label(&self, s: &Span) -> String {
        match self.mode {
            Some(Mode::Multiprocessing) => format!("worker {} · pid {}", s.worker, s.pid),
            Some(Mode::Interpreters) => format!("interpreter {} · tid {}", s.worker, s.tid),
            _ => format!("worker {} · tid {}", s.worker, s.tid),
        }
    }

    /// Adds spans (any order).
    pub fn push_spans(&mut self, spans: &[Span]) {
        for s in spans {
            self.last_ns = self.last_ns.max(s.end_ns);
            self.seen_states[s.state as usize] = true;
            match s.state {
                SpanState::DropRequest => {
                    self.drop_requests.push(*s);
                    continue;
                }
                SpanState::Starved => {
                    self.starvations.push(*s);
                    continue;
                }
                _ => {}
            }
            let w = s.worker as usize;
            while self.worker_lanes.len() <= w {
                let i = self.worker_lanes.len() as u32;
                self.worker_lanes
                    .push(Lane::new(LaneKind::Worker(i), format!("worker {i}")));
            }
            if self.worker_lanes[w].spans.is_empty() || s.state != SpanState::Spawn {
                let label = self.worker_label(s);
                self.worker_lanes[w].label = label;
            }
            self.worker_lanes[w].push(*s);
            self.span_count += 1;
            if s.state.uses_cpu() && s.cpu != NO_CPU {
                let c = s.cpu as usize;
                while self.core_lanes.len() <= c {
                    let i = self.core_lanes.len() as u32;
                    self.core_lanes
                        .push(Lane::new(LaneKind::Core(i), format!("Core {i}")));
                }
                self.core_lanes[c].push(*s);
                self.span_count += 1;
            }
            if s.state == SpanState::Python
                && self.interpreter_has_gil
                && self.mode.is_none_or(Mode::has_gil)
            {
                let key = self.gil_key(s);
                let lane = match self.gil_lanes.iter().position(|l| l.kind == key) {
                    Some(i) => i,
                    None => {
                        let label = match key {
                            LaneKind::Gil {
                                interp: Some(k), ..
                            } => format!("GIL · interpreter {k}"),
                            _ => format!("GIL · pid {}", s.pid),
                        };
                        self.gil_lanes.push(Lane::new(key, label));
                        self.gil_lanes.len() - 1
                    }
                };
                self.gil_lanes[lane].push(*s);
                self.span_count += 1;
            }
        }
        if self.span_count > self.max_spans {
            self.trim();
        }
    }

    /// Lets the older half of the spans go.
    fn trim(&mut self) {
        self.prepare();
        let oldest = self
            .lanes_mut()
            .filter_map(|l| l.spans.first().map(|s| s.start_ns))
            .min()
            .unwrap_or(self.start_ns);
        let cutoff = oldest + self.last_ns.saturating_sub(oldest) / 2;
        let mut removed = 0;
        for lane in self.lanes_mut() {
            removed += lane.trim_before(cutoff);
        }
        self.drop_requests.retain(|s| s.start_ns >= cutoff);
        self.starvations.retain(|s| s.start_ns >= cutoff);
        self.span_count -= removed;
        self.trimmed += removed as u64;
    }

    fn lanes_mut(&mut self) -> impl Iterator<Item = &mut Lane> {
        self.core_lanes
            .iter_mut()
            .chain(self.gil_lanes.iter_mut())
            .chain(self.worker_lanes.iter_mut())
    }

    /// Sorts lanes that received spans out of order; call before drawing.
    pub fn prepare(&mut self) {
        for lane in self.lanes_mut() {
            lane.prepare();
        }
    }

    /// Lanes in display order: cores, then for each process its GIL and its workers.
    pub fn display_lanes(&self) -> Vec<&Lane> {
        let mut out: Vec<&Lane> = self.core_lanes.iter().collect();
        let key_of = |l: &Lane| {
            l.spans
                .iter()
                .find(|s| s.state != SpanState::Spawn)
                .or(l.spans.first())
                .map_or(
                    LaneKind::Gil {
                        pid: 0,
                        interp: None,
                    },
                    |s| self.gil_key(s),
                )
        };
        let mut workers: Vec<&Lane> = self.worker_lanes.iter().collect();
        workers.sort_by_key(|l| (key_of(l), l.kind));
        let mut placed_gil = vec![false; self.gil_lanes.len()];
        for w in workers {
            let key = key_of(w);
            if let Some(i) = self.gil_lanes.iter().position(|g| g.kind == key)
                && !placed_gil[i]
            {
                placed_gil[i] = true;
                out.push(&self.gil_lanes[i]);
            }
            out.push(w);
        }
        for (i, g) in self.gil_lanes.iter().enumerate() {
            if !placed_gil[i] {
                out.push(g);
            }
        }
        out
    }

    /// The whole run: from its start to its end (or the latest span).
    pub fn full_window(&self) -> TimeWindow {
        let end = self.end_ns.unwrap_or(self.last_ns).max(self.start_ns);
        TimeWindow::new(self.start_ns as f64, end as f64)
    }

    /// The last `secs` seconds up to the latest span.
    pub fn live_window(&self, secs: f64) -> TimeWindow {
        let end = self.last_ns as f64;
        TimeWindow::new(end - secs * 1e9, end)
    }

    /// Busy fraction of core `c` per sample overlapping `window`: `(x0, x1, busy)` in pixels.
    pub fn busy_segments(
        &self,
        c: usize,
        window: &TimeWindow,
        width_px: f32,
    ) -> Vec<(f32, f32, f32)> {
        self.core_samples
            .iter()
            .filter(|s| (s.end_ns as f64) > window.start_ns && (s.start_ns as f64) < window.end_ns)
            .filter_map(|s| {
                let busy = *s.busy.get(c)?;
                let x0 = window.x_of(s.start_ns as f64, width_px).max(0.0);
                let x1 = window.x_of(s.end_ns as f64, width_px).min(width_px);
                (x1 > x0).then_some((x0, x1, busy))
            })
            .collect()
    }

    /// Pixels of GIL hand-offs (holder changed) on the GIL lane `gil`, one per pixel.
    pub fn handoff_pixels(&self, gil: LaneKind, window: &TimeWindow, width_px: f32) -> Vec<f32> {
        let Some(lane) = self.gil_lanes.iter().find(|l| l.kind == gil) else {
            return Vec::new();
        };
        let vis = lane.visible(
            window.start_ns.max(0.0) as u64,
            window.end_ns.max(0.0) as u64,
        );
        let mut out: Vec<f32> = Vec::new();
        for pair in vis.windows(2) {
            if pair[0].worker != pair[1].worker {
                let x = window.x_of(pair[1].start_ns as f64, width_px).floor();
                if (0.0..width_px).contains(&x) && out.last() != Some(&x) {
                    out.push(x);
                }
            }
        }
        out
    }

    /// Every span of the run (worker lanes and drop requests), sorted by start: the trace.
    pub fn trace_spans(&self) -> Vec<Span> {
        let mut v: Vec<Span> = self
            .worker_lanes
            .iter()
            .flat_map(|l| l.spans.iter().copied())
            .collect();
        v.extend_from_slice(&self.drop_requests);
        v.extend_from_slice(&self.starvations);
        v.sort_by_key(|s| (s.start_ns, s.worker));
        v
    }

    /// Pixels where a starved GIL wait of `worker` ended, one per pixel.
    pub fn starvation_pixels(&self, worker: u32, window: &TimeWindow, width_px: f32) -> Vec<f32> {
        instant_pixels(
            self.starvations.iter().filter(|s| s.worker == worker),
            window,
            width_px,
        )
    }

    /// Whether the legend should list `state`: every time-span state that normal runs make,
    /// plus the observer's on-CPU and sleeping only when they occur.
    pub fn legend_shows(&self, state: SpanState) -> bool {
        match state {
            SpanState::DropRequest | SpanState::Starved => false,
            SpanState::OnCpu | SpanState::Sleeping => self.seen_states[state as usize],
            _ => true,
        }
    }

    /// Pixels of drop requests made to the GIL of lane `gil`, one per pixel.
    pub fn drop_request_pixels(
        &self,
        gil: LaneKind,
        window: &TimeWindow,
        width_px: f32,
    ) -> Vec<f32> {
        instant_pixels(
            self.drop_requests.iter().filter(|s| self.gil_key(s) == gil),
            window,
            width_px,
        )
    }
}

/// The visible pixel columns of instants (drop requests, starved waits), one per pixel, sorted.
fn instant_pixels<'a>(
    instants: impl Iterator<Item = &'a Span>,
    window: &TimeWindow,
    width_px: f32,
) -> Vec<f32> {
    let mut out: Vec<f32> = instants
        .map(|s| window.x_of(s.start_ns as f64, width_px).floor())
        .filter(|x| (0.0..width_px).contains(x))
        .collect();
    out.sort_by(|a, b| a.total_cmp(b));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::theme::LIGHT;

    fn span(worker: u32, cpu: u32, state: SpanState, a: u64, b: u64) -> Span {
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

    fn lane_of(spans: &[Span]) -> Lane {
        let mut l = Lane::new(LaneKind::Worker(0), "w".into());
        for s in spans {
            l.push(*s);
        }
        l.prepare();
        l
    }

    #[test]
    fn a_long_span_fills_its_pixels_in_its_colour() {
        let l = lane_of(&[span(0, 0, SpanState::Python, 0, 1000)]);
        let segs = bin_lane(&l, &TimeWindow::new(0.0, 1000.0), 10, LIGHT.idle);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].x0, segs[0].x1), (0.0, 10.0));
        assert_eq!(segs[0].color, state_color(SpanState::Python));
        assert_eq!(segs[0].category, Some(SpanState::Python as usize));
    }

    #[test]
    fn tiny_spans_are_merged_not_dropped() {
        // 100 alternating 1 ns spans inside one 1000 ns pixel: neither state dominates.
        let spans: Vec<Span> = (0..100)
            .map(|i| {
                let st = if i % 2 == 0 {
                    SpanState::Python
                } else {
                    SpanState::Native
                };
                span(0, 0, st, i * 10, i * 10 + 1)
            })
            .collect();
        let l = lane_of(&spans);
        let segs = bin_lane(&l, &TimeWindow::new(0.0, 1000.0), 1, LIGHT.idle);
        assert_eq!(segs.len(), 1, "the pixel is drawn");
        assert_eq!(segs[0].category, None, "as the summary colour");
        // A single tiny span in a wide pixel is still visible, in a light tint of its colour.
        let l = lane_of(&[span(0, 0, SpanState::GilWait, 500, 501)]);
        let segs = bin_lane(&l, &TimeWindow::new(0.0, 10_000.0), 2, LIGHT.idle);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].category, Some(SpanState::GilWait as usize));
        assert_ne!(segs[0].color, state_color(SpanState::GilWait));
    }

    #[test]
    fn the_summary_path_draws_what_the_direct_path_draws() {
        // 40,000 spans alternating 9 µs Python / 1 µs waiting, then 40 ms of I/O.
        let mut spans = Vec::new();
        for i in 0..20_000u64 {
            spans.push(span(
                0,
                0,
                SpanState::Python,
                i * 10_000,
                i * 10_000 + 9_000,
            ));
            spans.push(span(
                0,
                0,
                SpanState::GilWait,
                i * 10_000 + 9_000,
                i * 10_000 + 10_000,
            ));
        }
        spans.push(span(0, 0, SpanState::Io, 200_000_000, 240_000_000));
        let l = lane_of(&spans);
        let w = TimeWindow::new(0.0, 240_000_000.0);
        let fast = bin_lane(&l, &w, 600, LIGHT.idle);
        assert!(l.summary.get().is_some(), "the summary was used");
        let slow = bin_lane_with(&l, &w, 600, LIGHT.idle, false);
        let colour_at = |segs: &[Segment], x: f32| {
            segs.iter()
                .find(|s| s.x0 <= x && x < s.x1)
                .map(|s| s.category)
        };
        for x in [10.0, 250.0, 450.0, 520.0, 599.0] {
            assert_eq!(colour_at(&fast, x), colour_at(&slow, x), "pixel {x}");
        }
        assert_eq!(
            colour_at(&fast, 10.0),
            Some(Some(SpanState::Python as usize))
        );
        assert_eq!(colour_at(&fast, 520.0), Some(Some(SpanState::Io as usize)));
        assert_eq!(colour_at(&fast, 580.0), Some(Some(SpanState::Io as usize)));
    }

    #[test]
    fn spans_are_clipped_to_the_window() {
        let l = lane_of(&[
            span(0, 0, SpanState::Python, 0, 100),
            span(0, 0, SpanState::Native, 100, 300),
            span(0, 0, SpanState::Io, 900, 2000),
        ]);
        let segs = bin_lane(&l, &TimeWindow::new(200.0, 1200.0), 10, LIGHT.idle);
        assert_eq!(
            segs.first().map(|s| (s.x0, s.category)),
            Some((0.0, Some(SpanState::Native as usize)))
        );
        let io = segs.last().unwrap();
        assert_eq!((io.x0, io.x1), (7.0, 10.0));
        assert!(segs.iter().all(|s| s.x1 <= 10.0));
        assert!(
            l.visible(2001, 3000).is_empty(),
            "nothing after the last span"
        );
        assert!(l.visible(0, 50).iter().all(|s| s.start_ns < 50));
    }

    #[test]
    fn zoom_keeps_the_anchor_and_pan_moves_by_pixels() {
        let mut w = TimeWindow::new(0.0, 1_000_000.0);
        let anchor_t = w.t_of(250.0, 1000.0);
        w.zoom(0.25, 2.0);
        assert!((w.width_ns() - 500_000.0).abs() < 1e-6);
        assert!((w.t_of(250.0, 1000.0) - anchor_t).abs() < 1e-6);
        w.pan_px(100.0, 1000.0);
        assert!((w.t_of(350.0, 1000.0) - anchor_t).abs() < 1e-6);
        w.zoom(0.5, 1e12);
        assert!((w.width_ns() - MIN_WINDOW_NS).abs() < 1e-9);
        assert!((w.x_of(w.start_ns, 800.0)).abs() < 1e-6);
    }

    #[test]
    fn model_builds_core_gil_and_worker_lanes() {
        let mut m = TimelineModel::new(2, 0, Some(Mode::Threading));
        m.push_spans(&[
            span(1, 1, SpanState::GilWait, 0, 50),
            span(0, 0, SpanState::Python, 0, 50),
            span(1, 1, SpanState::Python, 50, 100),
            span(0, 0, SpanState::GilWait, 50, 100),
            span(1, NO_CPU, SpanState::DropRequest, 40, 40),
        ]);
        m.prepare();
        let labels: Vec<&str> = m.display_lanes().iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Core 0",
                "Core 1",
                "GIL · pid 7",
                "worker 0 · tid 100",
                "worker 1 · tid 101"
            ]
        );
        assert_eq!(
            m.core_lanes[0].spans().len(),
            1,
            "waiting does not use a core"
        );
        let w = TimeWindow::new(0.0, 100.0);
        let gil = LaneKind::Gil {
            pid: 7,
            interp: None,
        };
        assert_eq!(m.handoff_pixels(gil, &w, 100.0), vec![50.0]);
        assert_eq!(m.drop_request_pixels(gil, &w, 100.0), vec![40.0]);
        let shares = m.worker_lanes[0].state_secs(0, 100);
        assert!(
            shares[SpanState::Python as usize] > 0.0 && shares[SpanState::GilWait as usize] > 0.0
        );
        assert_eq!(
            m.worker_lanes[1].span_at(75, 0).map(|s| s.state),
            Some(SpanState::Python)
        );
    }

    #[test]
    fn memory_is_bounded_by_trimming_old_spans() {
        let mut m = TimelineModel::new(1, 0, Some(Mode::Native)).with_max_spans(100);
        for i in 0..1000u64 {
            m.push_spans(&[span(0, 0, SpanState::Native, i * 10, i * 10 + 5)]);
        }
        assert!(m.span_count <= 100);
        assert!(m.trimmed > 0);
        m.prepare();
        assert!(
            m.worker_lanes[0].spans().last().unwrap().start_ns == 9990,
            "newest kept"
        );
    }
}
