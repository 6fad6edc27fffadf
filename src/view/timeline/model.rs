//! The timeline model: all lanes of one run (cores, one GIL per process, one per worker), fed span
//! by span, bounded in memory, and queried for what a frame shows.

use super::lane::{Lane, LaneKind};
use super::window::TimeWindow;
use gilscope_engine::build::Build;
use gilscope_engine::config::Mode;
use gilscope_engine::trace::sampler::CoreSample;
use gilscope_engine::trace::spans::{NO_CPU, Span, SpanState};
use gilscope_engine::trace::summary::{RunOutcome, WorkerSummary};

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
    pub fn with_interpreter(mut self, interpreter: Build) -> Self {
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
        m.name_workers(&o.summary.workers);
        m.prepare();
        m
    }

    /// Labels worker lanes with the names Python gave their threads, where the run knows them
    /// (`MainThread · tid 12`; with several processes, `Thread-1 (work) · pid 7 · tid 12`).
    pub fn name_workers(&mut self, workers: &[WorkerSummary]) {
        let several = workers.windows(2).any(|p| p[0].pid != p[1].pid);
        for w in workers {
            let Some(name) = &w.name else { continue };
            if let Some(lane) = self.worker_lanes.get_mut(w.id) {
                lane.label = if several {
                    format!("{name} · pid {} · tid {}", w.pid, w.tid)
                } else {
                    format!("{name} · tid {}", w.tid)
                };
            }
        }
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

    /// How many cores the workers kept busy over the last `secs` seconds up to the latest span:
    /// their on-CPU spans (Python, native, process start, data transfer) over the window, the
    /// workers' own load and nothing else of the machine's. Lanes are read from their newest
    /// span back (they arrive in order, give or take a batch).
    pub fn workers_busy(&self, secs: f64) -> f64 {
        let (start, end) = (self.last_ns as f64 - secs * 1e9, self.last_ns as f64);
        let mut busy_ns = 0.0;
        for lane in &self.worker_lanes {
            for s in lane.spans.iter().rev() {
                // A batch may arrive out of order: stop a second before the window.
                if (s.end_ns as f64) < start - 1e9 {
                    break;
                }
                if s.state.uses_cpu() {
                    let overlap = (s.end_ns as f64).min(end) - (s.start_ns as f64).max(start);
                    busy_ns += overlap.max(0.0);
                }
            }
        }
        busy_ns / (secs * 1e9)
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
            SpanState::OnCpu | SpanState::Sleeping | SpanState::LockWait | SpanState::Handoff => {
                self.seen_states[state as usize]
            }
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
    use super::super::lane::fixtures::span;
    use super::*;

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
