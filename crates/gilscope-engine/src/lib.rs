//! The engine: Python programs run under an emulated CPython GIL or on a real CPython, traced and
//! measured, with no GUI code.
//!
//! Its rooms, from the ground up: [`error`], [`machine`] and [`build`] (the CPython builds), [`config`] (what
//! a run is), [`trace`] (clock, spans, core sampler, events, summary), [`gil`] (the locks),
//! [`heat`] (the heat-diffusion benchmark), [`program`] (gilscope's program conventions on top of
//! the interpreter crate), [`runtime`] (the emulated and the real-CPython runtime) and
//! [`measure`] (benchmarks and sweeps). A run is described by a [`RunConfig`], executed by
//! [`runtime::run_blocking`] (or on a background thread with [`runtime::start_run`]) and
//! reported through an [`trace::events::EventSink`].

#![warn(missing_docs)]

pub mod build;
pub mod config;
pub mod error;
pub mod gil;
pub mod heat;
pub mod machine;
pub mod measure;
pub mod names;
pub mod pickle;
pub mod program;
pub mod runtime;
pub mod trace;

pub use config::{Kernel, Mode, RunConfig, Series};
pub use error::EngineError;
pub use trace::events::{EngineEvent, EventSink, EventStream};
pub use trace::spans::{Span, SpanState};
pub use trace::summary::{RunOutcome, RunSummary, WorkerSummary};
