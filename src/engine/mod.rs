//! The engine: the heat-diffusion benchmark run under an emulated CPython GIL, with no GUI code.
//!
//! A run is described by a [`RunConfig`], executed by [`runner::run_blocking`] (or on a
//! background thread with [`runner::start_run`]) and reported through an [`events::EventSink`].

pub mod bench;
pub mod clock;
pub mod compiler;
pub mod config;
pub mod error;
pub mod events;
pub mod gil;
pub mod kernels;
pub mod membw;
pub mod observer;
pub mod program;
pub mod pyvm;
pub mod runner;
pub mod sampler;
pub mod summary;
pub mod sweep;
pub mod trace;
pub mod variants;
pub mod workload;

pub use config::{Kernel, Mode, RunConfig, Series};
pub use error::EngineError;
pub use events::{EngineEvent, EventSink, EventStream};
pub use summary::{RunOutcome, RunSummary, WorkerSummary};
pub use trace::{Span, SpanState};
