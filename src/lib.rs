//! gilscope: shows, live, why Python threads do or do not use several cores.
//!
//! The workspace is layered so that its folders tell the architecture:
//! - `gilscope-python` (crates/): the compiler to CPython 3.11 bytecode and the VM;
//! - `gilscope-engine` (crates/): the GIL and its builds, the runtimes, trace, heat, measurement;
//! - this crate, the app on top of them:
//!   - [`view`]: plain view models shared by the window and the exports (timeline lanes,
//!     presets, the colour theme);
//!   - [`export`]: files for slides and other tools (PNG, SVG, CSV, Chrome trace JSON);
//!   - [`lessons`]: the guided lessons, each checking its claim against what just ran;
//!   - [`recording`]: `.gilscope` files that show runs and sweeps again, anywhere;
//!   - [`gui`]: the eframe desktop app, which only reads engine events and sends commands;
//!   - [`cli`]: the command-line glue;
//!   - [`usage`]: the bad-input error both the CLI and the app's launcher report.

#![warn(missing_docs)]

pub mod cli;
pub mod export;
pub mod gui;
pub mod lessons;
pub mod recording;
pub mod usage;
pub mod view;
