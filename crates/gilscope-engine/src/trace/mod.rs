//! What a run leaves behind: the clock, the cores' CPU times and their sampler, per-thread
//! spans, the events a run sends, what else used the machine meanwhile, and its summary.

pub mod clock;
pub mod cpustat;
pub mod events;
pub mod host_load;
pub mod sampler;
pub mod spans;
pub mod summary;
