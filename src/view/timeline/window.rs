//! The visible time range: zoom, pan, pixel/time conversion, tick steps and time labels.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
