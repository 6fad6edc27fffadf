//! The heat-diffusion benchmark of the source texts: its workload and its compiled kernels.

pub mod kernels;
pub mod workload;
