//! Files for slides and for other tools: plots as PNG and SVG, the trace as Chrome trace-event
//! JSON, sweeps as CSV, summaries as JSON. The CLI and the app write through the same code.

pub mod atomic;
pub mod data;
pub mod plots;
