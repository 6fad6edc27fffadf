//! What the user can ask for; every button and shortcut becomes one of these.

use crate::view::presets::Preset;

/// A file the app can export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    /// Time-vs-threads plot as PNG.
    SweepPng,
    /// Time-vs-threads plot as SVG.
    SweepSvg,
    /// Sweep points as CSV.
    SweepCsv,
    /// Timeline as PNG.
    TimelinePng,
    /// Timeline as SVG.
    TimelineSvg,
    /// Heat grids as PNG.
    GridPng,
    /// Trace as Chrome trace-event JSON.
    TraceJson,
    /// Run summary as JSON.
    SummaryJson,
}

/// An action on the app.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// Start a run with the current settings.
    Run,
    /// Stop the run or sweep going on.
    Stop,
    /// Start a sweep with the current settings.
    RunSweep,
    /// Run the last run's settings on one thread: the like run a speedup is measured against.
    RunBaseline,
    /// Forget the sweep points.
    ClearSweep,
    /// Clear the console until the next run.
    ClearConsole,
    /// Start the run that the long-run warning asked about.
    ConfirmRun,
    /// Drop the run the long-run warning asked about.
    CancelRun,
    /// Measure the current sweep's threading and multiprocessing series on the real CPython
    /// too, added to the plot beside the emulated lines.
    CompareWithCpython,
    /// Apply a preset.
    ApplyPreset(Preset),
    /// Step the mode forward (+1) or back (-1).
    StepMode(i32),
    /// Step the kernel forward (+1) or back (-1).
    StepKernel(i32),
    /// Show the whole run in the timeline.
    FitTimeline,
    /// Follow the live edge of the timeline.
    FollowLive,
    /// Freeze the timeline where it is (the run goes on).
    PauseTimeline,
    /// Write a file.
    Export(ExportTarget),
    /// Copy the heat grid or a plot image to the clipboard (where the platform allows).
    CopyImage(ExportTarget),
    /// Close the error message.
    DismissError,
    /// Choose a bundled program (index into `program::BUNDLED`).
    SelectProgram(usize),
    /// Open the `.py` file whose path is typed in the session.
    OpenProgram,
    /// Open lesson N (1-based) and set up its run.
    OpenLesson(usize),
    /// Go to the next (+1) or previous (-1) lesson.
    StepLesson(i32),
    /// Close the lessons panel.
    CloseLessons,
    /// Run the open lesson's trials and judge its claim.
    RunLesson,
    /// Save the last run and the sweep shown to the path typed in the session.
    SaveRecording,
    /// Open the recording at the path typed in the session and replay it at its real pace.
    OpenRecording,
    /// Show or fold the controls panel (over its folding while presenting).
    ToggleControls,
    /// Show or fold the figures panel (over its folding while presenting).
    ToggleFigures,
    /// Full screen on or off (F11).
    ToggleFullscreen,
    /// Look for the Python processes running on this machine.
    ListPythons,
    /// Watch the running Python with this pid until Stop (which detaches) or it exits.
    Attach(u32),
}
