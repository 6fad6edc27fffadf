//! gilscope's integration tests, in one binary so that the app and its GUI stack link once:
//! each module drives one part (the CLI, the engine's runtimes, the window, exports, lessons,
//! recordings, the example programs, plain scripts on the real CPython, the builds) from the
//! outside, as a user would.

mod common;

mod cli;
mod cpython;
mod docs_style;
mod emulated_scripts;
mod engine;
mod export;
mod faults;
mod gui;
mod lessons;
mod misbehaving;
mod numba;
mod programs;
mod pythons;
mod recordings;
mod script_params;
mod scripts;
mod seeds;
mod tracebacks;
mod variants;
