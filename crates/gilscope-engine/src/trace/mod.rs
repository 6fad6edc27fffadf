//! What a run leaves behind: the clock, per-thread spans, the core sampler, the events a run
//! sends, and its summary.

pub mod clock;
pub mod events;
pub mod sampler;
pub mod spans;
pub mod summary;
