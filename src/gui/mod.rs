//! The desktop app (eframe): reads engine events, draws the views, sends commands.

pub mod app;
pub mod command;
pub mod exports;
pub mod panels;
pub mod session;
pub mod settings;
pub mod theme;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

pub use app::{AppOptions, GilscopeApp};

use crate::usage::UsageError;
use crate::view::presets::Preset;

/// How the app is opened from the command line.
#[derive(Clone, Debug, Default)]
pub struct LaunchOptions {
    /// A preset name.
    pub preset: Option<String>,
    /// A lesson number, as typed.
    pub lesson: Option<i64>,
    /// Save a screenshot here after running the preset, then exit.
    pub screenshot: Option<PathBuf>,
    /// In screenshot mode, run the preset's sweep first.
    pub with_sweep: bool,
    /// With `with_sweep`: write the sweep the window measured here as CSV.
    pub sweep_csv: Option<PathBuf>,
    /// In screenshot mode: write the last run's summary here as JSON.
    pub summary_json: Option<PathBuf>,
    /// The window's inner size in points (default 1600×1000).
    pub size: Option<(f32, f32)>,
    /// Start in presentation mode.
    pub presentation: bool,
    /// Start watching this running Python.
    pub attach: Option<u32>,
    /// Loop through the presets and lessons for this many minutes, then exit.
    pub tour_minutes: Option<f64>,
    /// A Python file to open as the program.
    pub program: Option<PathBuf>,
    /// With `program`: the runtime, as typed.
    pub runtime: Option<String>,
}

/// Whether a display server is reachable by name.
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Parses a preset name, as a usage error.
pub fn parse_preset(name: &str) -> Result<Preset, UsageError> {
    Preset::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
        UsageError(format!(
            "unknown preset '{name}' (expected one of: {})",
            names.join(", ")
        ))
    })
}

/// How many of the window's outputs go to standard output (`-`): the CSV, the summary.
fn outputs_to_stdout(opts: &LaunchOptions) -> usize {
    [&opts.sweep_csv, &opts.summary_json]
        .iter()
        .filter(|p| p.as_deref() == Some(std::path::Path::new("-")))
        .count()
}

/// Opens the window; in screenshot mode, returns once the PNG is saved.
pub fn launch(opts: LaunchOptions) -> Result<ExitCode> {
    let preset = opts.preset.as_deref().map(parse_preset).transpose()?;
    let max = crate::lessons::LESSONS.len();
    let lesson = opts
        .lesson
        .map(|n| {
            usize::try_from(n)
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| UsageError(format!("--lesson {n}: lessons are numbered 1 to {max}")))
        })
        .transpose()?;
    if opts.screenshot.is_some()
        && preset.is_none()
        && lesson.is_none()
        && opts.attach.is_none()
        && opts.program.is_none()
    {
        return Err(UsageError(
            "--screenshot needs --preset NAME, --lesson N, --program FILE or --attach PID"
                .to_owned(),
        )
        .into());
    }
    let runtime = opts
        .runtime
        .as_deref()
        .map(|r| {
            r.parse::<gilscope_engine::config::Runtime>()
                .map_err(|e| UsageError(format!("--runtime {r}: {e}")))
        })
        .transpose()?;
    let program = opts
        .program
        .as_deref()
        .map(|p| {
            // A file that cannot be read fails before the window opens; one that does not
            // compile is shown in the window (and fails a screenshot with its error).
            std::fs::read_to_string(p)
                .map_err(|e| UsageError(format!("cannot read program {}: {e}", p.display())))?;
            Ok::<String, UsageError>(
                std::fs::canonicalize(p)
                    .unwrap_or_else(|_| p.to_path_buf())
                    .display()
                    .to_string(),
            )
        })
        .transpose()?;
    if let Some(pid) = opts.attach
        && std::fs::metadata(format!("/proc/{pid}")).is_err()
    {
        return Err(UsageError(format!("--attach {pid}: there is no process {pid}")).into());
    }
    if outputs_to_stdout(&opts) > 1 {
        return Err(UsageError(
            "--csv - and --summary-json - cannot both have standard output".to_owned(),
        )
        .into());
    }
    for p in opts
        .screenshot
        .iter()
        .chain(opts.sweep_csv.iter())
        .chain(opts.summary_json.iter())
    {
        // Fail before opening a window if a file cannot be written.
        crate::export::atomic::PendingFile::create(p)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", p.display())))?;
    }
    if !has_display() {
        bail!(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); use the command line instead: gilscope run --help"
        );
    }
    let result: app::ShotResult = Arc::default();
    let shot = opts.screenshot.clone();
    let app_opts = AppOptions {
        preset,
        lesson,
        screenshot: opts.screenshot.clone(),
        with_sweep: opts.with_sweep,
        sweep_csv: opts.sweep_csv.clone(),
        summary_json: opts.summary_json.clone(),
        presentation: opts.presentation,
        screenshot_result: Some(Arc::clone(&result)),
        fresh_settings: opts.screenshot.is_some() || opts.tour_minutes.is_some(),
        worker_exe: None,
        attach: opts.attach,
        tour_minutes: opts.tour_minutes,
        program,
        runtime,
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("gilscope")
            .with_inner_size(opts.size.map_or([1600.0, 1000.0], |(w, h)| [w, h]))
            .with_min_inner_size([640.0, 400.0]),
        // `--size` is what the user asked for now: a size saved by an earlier launch does not
        // override it.
        persist_window: shot.is_none() && opts.tour_minutes.is_none() && opts.size.is_none(),
        ..Default::default()
    };
    eframe::run_native(
        "gilscope",
        native,
        Box::new(move |cc| Ok(Box::new(GilscopeApp::new(cc, app_opts)))),
    )
    .map_err(|e| anyhow!("could not open the window: {e}"))?;
    if opts.tour_minutes.is_some() {
        let outcome = result.lock().map(|r| r.clone()).unwrap_or(None);
        return match outcome {
            Some(Ok(())) => Ok(ExitCode::SUCCESS),
            // The figures and the verdict are printed; what grew is the tour's failure.
            Some(Err(_)) => Ok(ExitCode::FAILURE),
            None => bail!("the window closed before the tour ended"),
        };
    }
    let Some(path) = shot else {
        return Ok(ExitCode::SUCCESS);
    };
    let outcome = result.lock().map(|r| r.clone()).unwrap_or(None);
    match outcome {
        Some(Ok(())) => {
            // With `--csv -` or `--summary-json -` stdout carries that: the confirmation goes to
            // stderr then. A reader that closed the pipe is an error of that output, never a panic.
            let line = format!("saved {}", path.display());
            if outputs_to_stdout(&opts) > 0 {
                eprintln!("{line}");
            } else {
                use std::io::Write;
                writeln!(std::io::stdout(), "{line}").context("could not write to stdout")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(e)) => bail!("screenshot failed: {e}"),
        None => bail!("the window closed before the screenshot was taken"),
    }
}
