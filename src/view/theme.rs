//! Every colour gilscope draws with, in one place: span states, workers, series, the heat-map
//! scale, and the light (slides) and dark (projector) backgrounds.

use gilscope_engine::build::Build;
use gilscope_engine::config::{Kernel, Mode, Series};
use gilscope_engine::trace::spans::SpanState;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Linear mix: `t = 0` is `self`, `t = 1` is `other`.
    pub fn mix(self, other: Rgb, t: f32) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let m = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Colour of a span state; the same in every view and export.
pub fn state_color(state: SpanState) -> Rgb {
    match state {
        SpanState::Python => Rgb(0x2e, 0x9d, 0x4f), // green: running Python, holds the GIL
        SpanState::GilWait => Rgb(0xe0, 0x4b, 0x3c), // red: waiting for the GIL
        SpanState::Native => Rgb(0x2f, 0x7f, 0xd8), // blue: native, GIL released
        SpanState::Io => Rgb(0xf2, 0xb1, 0x34),     // amber: blocked in I/O
        SpanState::Spawn => Rgb(0x8e, 0x5c, 0xc7),  // violet: process start
        SpanState::Ipc => Rgb(0xd9, 0x5f, 0xb0),    // pink: data transfer
        SpanState::DropRequest => Rgb(0x20, 0x20, 0x20), // marker
        SpanState::OnCpu => Rgb(0x4f, 0x8f, 0x7f),  // grey-green: on a core, holder unknown
        SpanState::Sleeping => Rgb(0xb4, 0xa6, 0x8c), // grey-amber: asleep, reason unknown
        SpanState::Starved => Rgb(0x7a, 0x0e, 0x0e), // marker: a starved wait ended
        SpanState::LockWait => Rgb(0x17, 0xbe, 0xcf), // cyan: waiting on the program's own lock
        SpanState::Handoff => Rgb(0x8e, 0xd1, 0xfc), // sky blue: GIL hand-off, or native's start
    }
}

/// Colour of a merged pixel whose states are too fine to show one by one.
pub const MIXED: Rgb = Rgb(0x9a, 0x8f, 0x7e);

/// Alarm text: a result that would corrupt memory in a real interpreter (refcount drift).
pub const ALARM: Rgb = Rgb(0xd6, 0x27, 0x28);

/// A claim that held ("as expected").
pub const GOOD: Rgb = Rgb(0x1a, 0x7f, 0x37);

/// A lesson's "look here" callout: an orange no state or worker uses.
pub const CALLOUT: Rgb = Rgb(0xe6, 0x55, 0x00);

/// Categorical colours for workers (GIL holder lanes, heat-grid labels).
/// Worker identity (GIL holder, lane titles): neutral slates and stones, alternating dark and
/// light, disjoint from the saturated state colours so a holder is never read as a state.
/// Segments wide enough also carry the worker's number ("w0").
const WORKER_PALETTE: [Rgb; 10] = [
    Rgb(0x2f, 0x3e, 0x56),
    Rgb(0xa9, 0xb4, 0xc2),
    Rgb(0x5a, 0x4a, 0x3c),
    Rgb(0xcf, 0xc6, 0xb2),
    Rgb(0x5c, 0x5c, 0x3a),
    Rgb(0x60, 0x6a, 0xb0),
    Rgb(0x4b, 0x3f, 0x5a),
    Rgb(0xb8, 0xb0, 0xd0),
    Rgb(0x3f, 0x55, 0x55),
    Rgb(0x26, 0x4d, 0x40),
];

/// Text that reads on a background of colour `c` (black on light, white on dark).
pub fn text_on(c: Rgb) -> Rgb {
    let luma = 0.299 * f32::from(c.0) + 0.587 * f32::from(c.1) + 0.114 * f32::from(c.2);
    if luma > 140.0 {
        Rgb(0x10, 0x10, 0x10)
    } else {
        Rgb(0xf5, 0xf5, 0xf5)
    }
}

/// Colour of worker `i`.
pub fn worker_color(i: usize) -> Rgb {
    WORKER_PALETTE[i % WORKER_PALETTE.len()]
}

/// Colour of a line of the time-vs-threads graph.
pub fn series_color(s: Series) -> Rgb {
    let base = mode_kernel_color(s);
    // Other interpreter builds of the same series: the same hue, shifted so the lines differ.
    match s.interpreter {
        Build::Gil => base,
        Build::FreeThreaded => base.mix(Rgb(0x00, 0xb0, 0x60), 0.55),
        Build::LegacyGil => base.mix(Rgb(0x30, 0x20, 0x10), 0.5),
        Build::NoGilUnsafe => base.mix(Rgb(0xe0, 0x00, 0xc0), 0.55),
    }
}

fn mode_kernel_color(s: Series) -> Rgb {
    match (s.mode, s.kernel) {
        (Mode::Interpreters, _) => Rgb(0x00, 0x80, 0x80),
        (Mode::Threading, Kernel::Python) => Rgb(0xd6, 0x27, 0x28),
        (Mode::Threading, Kernel::Numpy) => Rgb(0x1f, 0x77, 0xb4),
        (Mode::Multiprocessing, Kernel::Numpy) => Rgb(0x2c, 0xa0, 0x2c),
        (Mode::Multiprocessing, Kernel::Python) => Rgb(0xff, 0x7f, 0x0e),
        (Mode::Native, Kernel::Numpy) => Rgb(0x40, 0x40, 0x40),
        (Mode::Native, Kernel::Python) => Rgb(0x8c, 0x56, 0x4b),
        (Mode::Threading, Kernel::Io) => Rgb(0x94, 0x67, 0xbd),
        (Mode::Multiprocessing, Kernel::Io) => Rgb(0x17, 0xbe, 0xcf),
        (Mode::Native, Kernel::Io) => Rgb(0xbc, 0xbd, 0x22),
        (_, Kernel::Stream) => Rgb(0x7f, 0x3c, 0x8d),
    }
}

/// The heat-map scale (cold to hot), sampled at `t` in `[0, 1]`.
pub fn heat_color(t: f32) -> Rgb {
    // Stops of an "inferno"-like perceptual scale.
    const STOPS: [Rgb; 6] = [
        Rgb(0x00, 0x00, 0x04),
        Rgb(0x42, 0x0a, 0x68),
        Rgb(0x93, 0x26, 0x67),
        Rgb(0xdd, 0x51, 0x3a),
        Rgb(0xfc, 0xa5, 0x0a),
        Rgb(0xfc, 0xff, 0xa4),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f32;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    STOPS[i].mix(STOPS[i + 1], x - i as f32)
}

/// The value range of the heat map: the grids hold values from 0 to the largest boundary, 2.
pub const HEAT_RANGE: (f32, f32) = (0.0, 2.0);

/// Gamma of the heat scale: below 1 it lifts faint heat, so a large grid after a few
/// iterations is not all black.
pub const HEAT_GAMMA: f32 = 0.4;

/// Position on the heat scale (0 to 1) of a cell value.
pub fn heat_t(value: f32) -> f32 {
    let (lo, hi) = HEAT_RANGE;
    ((value - lo) / (hi - lo)).clamp(0.0, 1.0).powf(HEAT_GAMMA)
}

/// The cell value at position `t` of the heat scale (inverse of [`heat_t`]).
pub fn heat_value(t: f32) -> f32 {
    let (lo, hi) = HEAT_RANGE;
    lo + (hi - lo) * t.clamp(0.0, 1.0).powf(1.0 / HEAT_GAMMA)
}

/// Background, text and idle colours of one theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Page background.
    pub background: Rgb,
    /// Lane background where nothing of ours ran (idle).
    pub idle: Rgb,
    /// Text.
    pub text: Rgb,
    /// Weak text and grid lines.
    pub weak: Rgb,
}

/// White background, for slides and exports.
pub const LIGHT: Palette = Palette {
    background: Rgb(0xff, 0xff, 0xff),
    idle: Rgb(0xee, 0xee, 0xee),
    text: Rgb(0x1a, 0x1a, 0x1a),
    weak: Rgb(0x88, 0x88, 0x88),
};

/// Dark background, for a projector in a dim room.
pub const DARK: Palette = Palette {
    background: Rgb(0x1b, 0x1b, 0x1f),
    idle: Rgb(0x2c, 0x2c, 0x33),
    text: Rgb(0xee, 0xee, 0xee),
    weak: Rgb(0x80, 0x80, 0x88),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_series_have_distinct_colours() {
        let states: Vec<Rgb> = SpanState::ALL.iter().map(|&s| state_color(s)).collect();
        for (i, a) in states.iter().enumerate() {
            assert!(states[i + 1..].iter().all(|b| b != a));
        }
        let series: Vec<Rgb> = Series::source_graph()
            .into_iter()
            .map(series_color)
            .collect();
        assert!(series.windows(2).all(|w| w[0] != w[1]));
        assert_eq!(heat_color(0.0), Rgb(0, 0, 4));
        assert_eq!(heat_color(1.0), Rgb(0xfc, 0xff, 0xa4));
        assert!((heat_value(heat_t(0.3)) - 0.3).abs() < 1e-5);
        assert!(heat_t(0.02) > 0.1, "faint heat is visible");
        assert_eq!(Rgb(0, 0, 0).mix(Rgb(200, 100, 50), 0.5), Rgb(100, 50, 25));
    }

    #[test]
    fn worker_identity_never_reads_as_a_state() {
        let dist = |a: Rgb, b: Rgb| {
            let d = |x: u8, y: u8| (f32::from(x) - f32::from(y)).powi(2);
            (d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)).sqrt()
        };
        for w in 0..10 {
            for st in SpanState::ALL {
                let c = worker_color(w);
                assert!(
                    dist(c, state_color(st)) > 50.0,
                    "worker {w} looks like {st:?}"
                );
                assert!(
                    dist(c, MIXED) > 50.0 && dist(c, LIGHT.idle) > 50.0,
                    "worker {w}"
                );
            }
        }
    }
}
