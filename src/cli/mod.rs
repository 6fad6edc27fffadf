//! The command line: `run`, `sweep`, `bench`, the GUI launcher flags, and the hidden worker entry.

mod bench;
mod commands;
mod exe;
pub mod interrupt;
mod lessons;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use gilscope_engine::config::{Kernel, Mode};

pub use commands::dispatch;

/// gilscope: shows, live, why Python threads do or do not use several cores.
#[derive(Debug, Parser)]
#[command(name = "gilscope", version, about, allow_negative_numbers = true)]
#[command(after_help = "With no subcommand, gilscope opens the desktop app.")]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Open the app with this preset selected.
    #[arg(long, value_name = "NAME", value_parser = preset_names())]
    pub preset: Option<String>,
    /// Open the app at lesson N (1 to 10) of the guided lessons.
    #[arg(long, value_name = "N")]
    pub lesson: Option<i64>,
    /// Open the app with this Python file as the program (a script of your own, unchanged);
    /// with --screenshot, run it to its end, save the window and exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["preset", "lesson"])]
    pub program: Option<PathBuf>,
    /// With --program: who runs it, emulated (gilscope's interpreter) or cpython (your python3,
    /// observed from outside).
    #[arg(long, value_name = "RUNTIME", requires = "program")]
    pub runtime: Option<String>,
    /// With --preset, --lesson or --program: run it to the end, save the whole window as PNG,
    /// and exit.
    #[arg(long, value_name = "FILE")]
    pub screenshot: Option<PathBuf>,
    /// With --screenshot: run the preset's sweep before its run, so the plot is filled too.
    #[arg(long, requires = "screenshot")]
    pub with_sweep: bool,
    /// Open in presentation mode (large text for the back of a room).
    #[arg(long)]
    pub presentation: bool,
    /// The window's inner size, WIDTHxHEIGHT in points (e.g. 1280x720, a projector's).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(f32, f32)>,
    /// With --with-sweep: also write the sweep the window measured as CSV.
    #[arg(long, value_name = "FILE", requires = "with_sweep")]
    pub csv: Option<PathBuf>,
    /// With --screenshot: also write the window's last run summary as JSON (the object
    /// `run --json` prints, with what the app and other programs used meanwhile).
    #[arg(long, value_name = "FILE", requires = "screenshot")]
    pub summary_json: Option<PathBuf>,
    /// Open the app watching this running Python (Stop detaches); with --screenshot, watch it
    /// for 2 s, detach, save the window and exit.
    #[arg(long, value_name = "PID", conflicts_with_all = ["preset", "lesson", "program", "with_sweep"])]
    pub attach: Option<u32>,
    /// Loop through every preset and lesson for MINUTES, as a class would, printing the app's
    /// memory, threads, open files and child processes after each step; exit 1 if any grew.
    #[arg(long, value_name = "MINUTES", value_parser = parse_minutes,
          conflicts_with_all = ["preset", "lesson", "program", "screenshot", "attach"])]
    pub tour: Option<f64>,
}

/// A tour's length: a positive number of minutes, at most a day.
fn parse_minutes(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(m) if m > 0.0 && m <= 1440.0 => Ok(m),
        _ => Err(format!(
            "'{s}' is not a number of minutes between 0 and 1440"
        )),
    }
}

/// Every preset's name, so `--help` lists them all and a wrong one is refused with the list.
fn preset_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::view::presets::Preset::ALL.iter().map(|p| p.name()),
    )
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
    /// Print a Python file's bytecode as `python3 -m dis` does: the module, then each code object.
    Dis(DisArgs),
    /// List the guided lessons, or run them all and check each one's claim (--check).
    Lessons(LessonsArgs),
    /// Show a recording made with --record: its summaries, and the same exports as live.
    Replay(ReplayArgs),
    /// Watch a Python process that is already running (a notebook kernel, a server) from
    /// outside, for a while: its threads, the GIL holder, its cores. It runs on unharmed.
    #[command(allow_negative_numbers = true)]
    Attach(AttachArgs),
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

/// Which Python program runs, shared by `run` and `sweep`.
#[derive(Debug, Args, Clone)]
pub struct ProgramArgs {
    /// A bundled program (heat, count, bank, download, dot) or a path to your own .py file.
    #[arg(long, default_value = "heat", value_name = "NAME|PATH.py")]
    pub program: String,
    /// The function each worker runs (default: the program's ENTRY).
    #[arg(long, value_name = "FUNCTION")]
    pub entry: Option<String>,
    /// Set one of the program's UPPERCASE parameters, e.g. --param N=50000000 (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub param: Vec<String>,
    /// The Python the cpython runtime starts.
    #[arg(long, default_value = "python3", value_name = "PATH")]
    pub python: String,
}

/// `gilscope dis`.
#[derive(Debug, Args)]
pub struct DisArgs {
    /// The Python file (or a bundled program's name).
    pub file: String,
}

/// `gilscope run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The program.
    #[command(flatten)]
    pub program: ProgramArgs,
    /// threading, multiprocessing or native.
    #[arg(long, default_value = "threading")]
    pub mode: String,
    /// python, numpy or io.
    #[arg(long, default_value = "python")]
    pub kernel: String,
    /// The interpreter build: gil (3.11's GIL), free-threaded (3.13t), legacy-gil (≤ 3.1) or
    /// no-gil-unsafe.
    #[arg(long, default_value = "gil")]
    pub interpreter: String,
    /// Who runs the program: emulated (gilscope's interpreter) or cpython (your python3,
    /// observed from outside).
    #[arg(long, default_value = "emulated")]
    pub runtime: String,
    /// Number of workers (threads or processes), NT in the source.
    #[arg(long, default_value_t = 1)]
    pub threads: i64,
    /// Sizes.
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// Print exactly one JSON object on stdout instead of the readable summary.
    #[arg(long)]
    pub json: bool,
    /// Files to write.
    #[command(flatten)]
    pub exports: RunExports,
    /// Record the run (settings, spans, frames, results, machine) to show again with
    /// `gilscope replay` or File → Open recording.
    #[arg(long, value_name = "FILE.gilscope")]
    pub record: Option<PathBuf>,
}

/// `gilscope sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The program.
    #[command(flatten)]
    pub program: ProgramArgs,
    /// Comma-separated mode:kernel series (default: the source graph's three plus native).
    #[arg(long, value_name = "LIST")]
    pub series: Option<String>,
    /// Comma-separated interpreter builds; every series is measured on each (default: gil).
    #[arg(long, value_name = "LIST", default_value = "gil")]
    pub interpreter: String,
    /// Comma-separated runtimes: emulated, cpython (both: the emulation solid, CPython dashed).
    #[arg(long, value_name = "LIST", default_value = "emulated")]
    pub runtime: String,
    /// Thread counts: A-B, N, or a comma list (default: 1 to 2x the cores).
    #[arg(long, value_name = "A-B")]
    pub threads: Option<String>,
    /// A plain script's UPPERCASE constant that sets how many threads (or processes) it starts,
    /// e.g. --thread-param NT: each point of the sweep runs the script with NT set to its count
    #[arg(long, value_name = "NAME")]
    pub thread_param: Option<String>,
    /// Runs per point.
    #[arg(long, default_value_t = 3)]
    pub repeats: i64,
    /// Sizes.
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// Files to write.
    #[command(flatten)]
    pub exports: SweepExports,
    /// Record the sweep (settings, every point, machine) to show again anywhere.
    #[arg(long, value_name = "FILE.gilscope")]
    pub record: Option<PathBuf>,
}

/// The files a run can be written to, for `run` and `replay`.
#[derive(Debug, Args, Clone, Default)]
pub struct RunExports {
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

/// The files a sweep can be written to, for `sweep` and `replay`.
#[derive(Debug, Args, Clone, Default)]
pub struct SweepExports {
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

/// `gilscope replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording.
    pub file: PathBuf,
    /// Print each recorded run's summary as one JSON object, as `run --json` printed it live.
    #[arg(long)]
    pub json: bool,
    /// The last run's files.
    #[command(flatten)]
    pub run_exports: RunExports,
    /// The recorded sweep's files.
    #[command(flatten)]
    pub sweep_exports: SweepExports,
}

/// `gilscope lessons`.
#[derive(Debug, Args)]
pub struct LessonsArgs {
    /// Run every lesson headless and print its verdict ("as expected" or "not on this
    /// machine: …").
    #[arg(long)]
    pub check: bool,
    /// With --check: small runs, the whole set in under a minute.
    #[arg(long, requires = "check")]
    pub quick: bool,
    /// Print JSON: {"lessons": [{"title", "claim", "observed", "verdict"}, …]}.
    #[arg(long)]
    pub json: bool,
    /// With --check: only these lessons, e.g. 1,5,9 (the decision tree checks its leaves).
    #[arg(long, value_name = "LIST", requires = "check")]
    pub only: Option<String>,
    /// The Python of the lessons' real-CPython runs.
    #[arg(long, default_value = "python3", value_name = "PATH")]
    pub python: String,
}

/// `gilscope attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The process id of the running Python.
    pub pid: u32,
    /// How long to watch it, in seconds (it may exit first).
    #[arg(long, default_value_t = 5.0)]
    pub duration_secs: f64,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `gilscope bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

pub use crate::usage::{EXIT_USAGE, UsageError};

/// The exit code for an error from [`dispatch`]: a program that is not valid Python exits 1,
/// as on python3; one gilscope cannot run, and a bad invocation, [`EXIT_USAGE`].
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    use gilscope_engine::EngineError;
    use gilscope_python::compiler::CompileErrorKind;
    if let Some((code, _)) = interrupt::stopped() {
        return code;
    }
    let usage = err.chain().any(|e| {
        e.downcast_ref::<UsageError>().is_some()
            || match e.downcast_ref::<EngineError>() {
                Some(EngineError::Config(_)) => true,
                Some(EngineError::Compile(c)) => c.kind != CompileErrorKind::Syntax,
                _ => false,
            }
    });
    ExitCode::from(if usage { EXIT_USAGE } else { 1 })
}

/// The one line to print for an error: a program's own error (`FILE:LINE: NameError: …`,
/// `FILE:LINE:COL: …`) stands alone, anything else gets the `gilscope: error:` prefix.
pub fn error_line(err: &anyhow::Error) -> String {
    if let Some((_, line)) = interrupt::stopped() {
        return line;
    }
    for e in err.chain() {
        match e.downcast_ref::<gilscope_engine::EngineError>() {
            Some(gilscope_engine::EngineError::Python(m)) => return m.clone(),
            Some(gilscope_engine::EngineError::Compile(c)) => return c.to_string(),
            _ => {}
        }
    }
    format!("gilscope: error: {err:#}")
}

/// Parses `1280x720` into a window size, 640x400 to 7680x4320.
fn parse_size(s: &str) -> Result<(f32, f32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size '{s}' must look like 1280x720"))?;
    let dim = |v: &str, lo: u32, hi: u32| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (lo..=hi).contains(n))
            .ok_or_else(|| format!("size '{s}' must be between 640x400 and 7680x4320"))
    };
    Ok((dim(w, 640, 7680)? as f32, dim(h, 400, 4320)? as f32))
}

/// Splits `NAME=VALUE` parameter flags.
pub fn parse_params(items: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_owned(), v.to_owned())),
            _ => Err(UsageError(format!(
                "--param {item}: expected NAME=VALUE, e.g. --param N=50000000"
            ))),
        })
        .collect()
}

/// Parses a mode name, as a usage error.
pub fn parse_mode(s: &str) -> Result<Mode, UsageError> {
    s.parse()
        .map_err(|e: gilscope_engine::EngineError| UsageError(e.to_string()))
}

/// Parses an interpreter name, as a usage error.
pub fn parse_interpreter(s: &str) -> Result<gilscope_engine::build::Build, UsageError> {
    s.parse()
        .map_err(|e: gilscope_engine::EngineError| UsageError(e.to_string()))
}

/// Parses a kernel name, as a usage error.
pub fn parse_kernel(s: &str) -> Result<Kernel, UsageError> {
    s.parse()
        .map_err(|e: gilscope_engine::EngineError| UsageError(e.to_string()))
}
