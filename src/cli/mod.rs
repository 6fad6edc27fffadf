//! The command line: `run`, `sweep`, `bench`, the GUI launcher flags, and the hidden worker entry.

mod bench;
mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::engine::config::{Kernel, Mode};

pub use commands::dispatch;

/// gilscope: shows, live, why Python threads do or do not use several cores.
#[derive(Debug, Parser)]
#[command(name = "gilscope", version, about, allow_negative_numbers = true)]
#[command(after_help = "With no subcommand, gilscope opens the desktop app.")]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Open the app with this preset selected (threading-purepy, threading-numpy,
    /// multiproc-numpy, count-loop, io-threads, native).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// With --preset: run it to the end, save the whole window as PNG, and exit.
    #[arg(long, value_name = "FILE", requires = "preset")]
    pub screenshot: Option<PathBuf>,
    /// With --screenshot: run the preset's sweep before its run, so the plot is filled too.
    #[arg(long, requires = "screenshot")]
    pub with_sweep: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the benchmark once and print a summary.
    #[command(allow_negative_numbers = true)]
    Run(RunArgs),
    /// Measure wall time against thread count for several series.
    #[command(allow_negative_numbers = true)]
    Sweep(SweepArgs),
    /// Print the engine's benchmark figures (ns per cell, ns per instruction, speedups).
    Bench(BenchArgs),
    /// Internal: a multiprocessing worker (reads a job on stdin).
    #[command(name = "__worker", hide = true)]
    Worker,
}

/// Sizes shared by `run` and `sweep`.
#[derive(Debug, Args, Clone)]
pub struct SizeArgs {
    /// Grid side N (the source uses 30).
    #[arg(long, default_value_t = 30)]
    pub grid: i64,
    /// Number of problems, split over the workers (the source uses 100).
    #[arg(long, default_value_t = 100)]
    pub problems: i64,
    /// Kernel applications per problem (the source uses 30).
    #[arg(long, default_value_t = 30)]
    pub iters: i64,
    /// GIL switch interval in milliseconds (CPython's default is 5).
    #[arg(long, default_value_t = 5.0)]
    pub switch_interval_ms: f64,
    /// Blocking wait of the io kernel in milliseconds.
    #[arg(long, default_value_t = 2.0)]
    pub io_wait_ms: f64,
}

/// `gilscope run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// threading, multiprocessing or native.
    #[arg(long, default_value = "threading")]
    pub mode: String,
    /// python, numpy or io.
    #[arg(long, default_value = "python")]
    pub kernel: String,
    /// Number of workers (threads or processes), NT in the source.
    #[arg(long, default_value_t = 1)]
    pub threads: i64,
    /// Sizes.
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// Print exactly one JSON object on stdout instead of the readable summary.
    #[arg(long)]
    pub json: bool,
    /// Write the trace as Chrome trace-event JSON (opens in Perfetto).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the timeline as PNG.
    #[arg(long, value_name = "FILE")]
    pub timeline_png: Option<PathBuf>,
    /// Write the timeline as SVG.
    #[arg(long, value_name = "FILE")]
    pub timeline_svg: Option<PathBuf>,
    /// Write the final heat grids as PNG.
    #[arg(long, value_name = "FILE")]
    pub grid_png: Option<PathBuf>,
}

/// `gilscope sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Comma-separated mode:kernel series (default: the source graph's three plus native).
    #[arg(long, value_name = "LIST")]
    pub series: Option<String>,
    /// Thread counts: A-B, N, or a comma list (default: 1 to 2x the cores).
    #[arg(long, value_name = "A-B")]
    pub threads: Option<String>,
    /// Runs per point.
    #[arg(long, default_value_t = 3)]
    pub repeats: i64,
    /// Sizes.
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// Write every run as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the time-vs-threads plot as PNG.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Write the time-vs-threads plot as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Plot speedup instead of time.
    #[arg(long)]
    pub speedup: bool,
}

/// `gilscope bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Exit code of bad input (as clap uses).
pub const EXIT_USAGE: u8 = 2;

/// An error caused by the user's input: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error from [`dispatch`].
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    let usage = err.chain().any(|e| {
        e.downcast_ref::<UsageError>().is_some()
            || matches!(
                e.downcast_ref::<crate::engine::EngineError>(),
                Some(crate::engine::EngineError::Config(_))
            )
    });
    ExitCode::from(if usage { EXIT_USAGE } else { 1 })
}

/// Parses a mode name, as a usage error.
pub fn parse_mode(s: &str) -> Result<Mode, UsageError> {
    s.parse()
        .map_err(|e: crate::engine::EngineError| UsageError(e.to_string()))
}

/// Parses a kernel name, as a usage error.
pub fn parse_kernel(s: &str) -> Result<Kernel, UsageError> {
    s.parse()
        .map_err(|e: crate::engine::EngineError| UsageError(e.to_string()))
}
