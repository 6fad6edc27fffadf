//! Measuring: the benchmarks behind `gilscope bench`, thread-count sweeps, and this machine's
//! copy bandwidth.

pub mod bench;
pub mod membw;
pub mod sweep;
