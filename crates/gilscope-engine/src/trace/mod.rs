//! What a run leaves behind: the clock, the cores' CPU times and their sampler, per-thread
//! spans, the events a run sends, and its summary.

pub mod clock;
pub mod cpustat;
pub mod events;
pub mod sampler;
pub mod spans;
pub mod summary;
