//! The timeline model: turns trace spans into lanes (one per core, one GIL lane per process, one
//! per worker) and lanes into pixel segments for any visible window. Plain code, no egui, so the
//! window and the exports draw the same thing and the arithmetic is unit-tested.

mod bin;
mod lane;
mod model;
mod window;

pub use bin::{CacheKey, Segment, SegmentCache, bin_lane};
pub use lane::{Lane, LaneKind};
pub use model::{DEFAULT_MAX_SPANS, TimelineModel};
pub use window::{MIN_WINDOW_NS, TimeWindow, fmt_rel, tick_step_ns};
