//! Pixel binning: a lane's spans in a window become runs of coloured pixels, and a cache keeps
//! them while nothing the frame depends on changes.

use super::lane::{Lane, Summary};
use super::window::TimeWindow;
use crate::view::theme::{MIXED, Rgb};

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
pub(super) fn bin_lane_with(
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

/// What cached segments were computed for: a frame that differs in any of these re-bins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheKey {
    /// The window's edges, in whole nanoseconds.
    pub window_ns: (u64, u64),
    /// The lanes' width in pixels.
    pub width_px: usize,
    /// Spans the model held.
    pub spans: usize,
    /// The model's latest span end.
    pub last_ns: u64,
    /// The idle colour the pixels were mixed with.
    pub idle: Rgb,
}

/// Segments of every lane for one window, reused while nothing changes.
#[derive(Default)]
pub struct SegmentCache {
    key: Option<CacheKey>,
    segments: Vec<Vec<Segment>>,
}

impl SegmentCache {
    /// The segments of `lanes` for `key`, binned anew only when the key or the lane count changed.
    pub fn get<'a>(
        &mut self,
        key: CacheKey,
        lanes: impl ExactSizeIterator<Item = &'a Lane>,
        window: &TimeWindow,
    ) -> &[Vec<Segment>] {
        if self.key != Some(key) || self.segments.len() != lanes.len() {
            self.segments = lanes
                .map(|l| bin_lane(l, window, key.width_px, key.idle))
                .collect();
            self.key = Some(key);
        }
        &self.segments
    }
}

#[cfg(test)]
mod tests {
    use super::super::lane::fixtures::{lane_of, span};
    use super::*;
    use crate::view::theme::{LIGHT, state_color};
    use gilscope_engine::trace::spans::{Span, SpanState};

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
}
