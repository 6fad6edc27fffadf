//! The app: drains engine events in one place, draws the panels in another, and acts only
//! through [`Command`]s. Its background jobs start in `jobs`, its keys are read in `keys`, and
//! the screenshot mode drives it from `screenshot`.

mod jobs;
mod keys;
mod screenshot;
mod tour;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::command::Command;
use super::panels;
use super::session::{JobKind, Session};
use super::settings::Settings;
use crate::view::presets::Preset;
use gilscope_engine::config::{Kernel, Mode, RunConfig};
use gilscope_engine::trace::events;
pub use screenshot::ShotResult;
use screenshot::{ScreenshotJob, ShotPhase};

/// Repaint period while a run streams: caps the UI at 20 frames per second, smooth enough for a
/// scrolling timeline and cheap enough not to disturb the measurement.
pub const LIVE_REPAINT: Duration = Duration::from_millis(50);
/// Repaint period during a sweep (4 frames per second: the window takes little from the workers).
pub const SWEEP_REPAINT: Duration = Duration::from_millis(250);
/// Repaint period while a lesson measures on a software renderer (Xvfb's llvmpipe, a VM
/// without a GPU): there one frame at 1920×1080 costs a core's worth of time, which two-worker
/// trials on a 2-core machine would lose; the picture then updates every two seconds.
pub const SOFTWARE_LESSON_REPAINT: Duration = Duration::from_millis(2000);
/// Repaint period while a run or an attach is measured on a software renderer: a frame there
/// costs tens of milliseconds of CPU that the workers would lose (2 frames per second).
pub const SOFTWARE_RUN_REPAINT: Duration = Duration::from_millis(500);
/// Most events handled in one frame, so a flood never freezes the UI.
const MAX_EVENTS_PER_FRAME: usize = 4096;

/// How the app is opened.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// A preset to select at start.
    pub preset: Option<Preset>,
    /// A lesson to open at start (its run replaces the preset's).
    pub lesson: Option<usize>,
    /// Save a screenshot here once the preset has run, then close.
    pub screenshot: Option<PathBuf>,
    /// In screenshot mode, run the preset's sweep before its run.
    pub with_sweep: bool,
    /// In screenshot mode, write the sweep the window measured here as CSV.
    pub sweep_csv: Option<PathBuf>,
    /// In screenshot mode, write the last run's summary here as JSON.
    pub summary_json: Option<PathBuf>,
    /// Start in presentation mode.
    pub presentation: bool,
    /// Where the screenshot mode reports success or failure.
    pub screenshot_result: Option<ShotResult>,
    /// Ignore stored settings (tests, screenshots).
    pub fresh_settings: bool,
    /// The program multiprocessing workers run; `None` means this program.
    pub worker_exe: Option<PathBuf>,
    /// A running Python to watch from the start.
    pub attach: Option<u32>,
    /// Loop through the presets and lessons for this many minutes, printing what the app
    /// holds, then close (reporting to `screenshot_result`).
    pub tour_minutes: Option<f64>,
    /// A Python file to open as the program (its path).
    pub program: Option<String>,
    /// The runtime to run it on.
    pub runtime: Option<gilscope_engine::config::Runtime>,
}

/// The gilscope window.
pub struct GilscopeApp {
    /// Persisted settings.
    pub settings: Settings,
    /// Runtime state.
    pub session: Session,
    heat: panels::heat::HeatTextures,
    shot: Option<ScreenshotJob>,
    tour: Option<tour::TourJob>,
    persist: bool,
    pending: Vec<Command>,
    worker_exe: Option<PathBuf>,
    repaint_ms: Arc<AtomicU64>,
    software_renderer: Option<bool>,
    /// The system clipboard, once used: kept open, since on X11 the copied image is served
    /// from here for as long as it lives.
    clipboard: Option<arboard::Clipboard>,
}

impl GilscopeApp {
    /// Builds the app, restoring settings unless told not to.
    pub fn new(cc: &eframe::CreationContext<'_>, opts: AppOptions) -> Self {
        let ctx = cc.egui_ctx.clone();
        let repaint_ms = Arc::new(AtomicU64::new(LIVE_REPAINT.as_millis() as u64));
        let period = Arc::clone(&repaint_ms);
        // Engine events only schedule a repaint, and at most twice per repaint period: every
        // request also wakes the window's event loop, and thousands of wake-ups a second (one
        // per span batch) would take a core from the workers being measured. A skipped request
        // is covered by the one before it, which already scheduled a repaint within the period.
        let last_wake_ns = Arc::new(AtomicU64::new(0));
        let waker: events::Waker = Arc::new(move || {
            let period_ms = period.load(Ordering::Relaxed);
            let now = gilscope_engine::trace::clock::now_ns();
            let last = last_wake_ns.load(Ordering::Relaxed);
            if now.saturating_sub(last) >= period_ms * 500_000 {
                last_wake_ns.store(now, Ordering::Relaxed);
                ctx.request_repaint_after(Duration::from_millis(period_ms));
            }
        });
        let (sink, stream) = events::channel(8192, Some(waker));
        let mut settings: Settings = if opts.fresh_settings {
            // Fresh also means egui's own memory (panel widths, scroll positions): screenshots
            // and tests must not depend on what an earlier session left behind.
            cc.egui_ctx.memory_mut(|m| *m = egui::Memory::default());
            Settings::default()
        } else {
            cc.storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default()
        };
        // A saved window shows what was run, not a tooltip under wherever the display server
        // left its pointer.
        if opts.screenshot.is_some() {
            cc.egui_ctx
                .all_styles_mut(|s| s.interaction.tooltip_delay = f32::INFINITY);
        }
        let session = Session::new(sink, stream);
        settings.presentation |= opts.presentation;
        if let Some(p) = opts.preset {
            apply_preset(&mut settings, p, session.cores);
        }
        if let Some(path) = &opts.program {
            select_program(&mut settings, path);
            settings.run.runtime = opts.runtime.unwrap_or_default();
        }
        let shot = opts.screenshot.map(|path| ScreenshotJob {
            path,
            with_sweep: opts.with_sweep || opts.preset == Some(Preset::CountLoop),
            sweep_csv: opts.sweep_csv.clone(),
            summary_json: opts.summary_json.clone(),
            phase: if opts.lesson.is_some() {
                ShotPhase::Lesson
            } else if let Some(pid) = opts.attach {
                ShotPhase::Attach(pid, None)
            } else if opts.program.is_some() {
                ShotPhase::Run
            } else {
                ShotPhase::Sweep
            },
            started: false,
            rx: None,
            deadline: Instant::now() + Duration::from_secs(600),
            opened: Instant::now(),
            result: opts.screenshot_result.clone().unwrap_or_default(),
        });
        let tour = opts.tour_minutes.map(|minutes| {
            tour::TourJob::new(minutes, opts.screenshot_result.clone().unwrap_or_default())
        });
        super::theme::apply(&cc.egui_ctx, settings.dark, settings.presentation);
        let mut app = Self {
            settings,
            session,
            heat: panels::heat::HeatTextures::default(),
            persist: shot.is_none() && tour.is_none() && !opts.fresh_settings,
            shot,
            tour,
            pending: Vec::new(),
            worker_exe: opts.worker_exe.or_else(|| std::env::current_exe().ok()),
            repaint_ms,
            software_renderer: None,
            clipboard: None,
        };
        if let Some(n) = opts.lesson {
            app.open_lesson(n);
        }
        if let Some(pid) = opts.attach
            && app.shot.is_none()
        {
            app.pending.push(Command::ListPythons);
            app.pending.push(Command::Attach(pid));
        }
        app
    }

    /// Queues a command, as a button would.
    pub fn command(&mut self, cmd: Command) {
        self.pending.push(cmd);
    }

    /// The one place engine events are read.
    fn drain_events(&mut self) {
        let finished_before = self.session.runs_finished;
        for _ in 0..MAX_EVENTS_PER_FRAME {
            match self.session.events.rx.try_recv() {
                Ok(ev) => self.session.handle_event(ev),
                Err(_) => break,
            }
        }
        // Repeat until Stop: a run that ended by itself starts again, so a lesson can be
        // narrated over a live picture; Stop (a cancelled run) ends the loop.
        if self.settings.repeat_runs
            && self.session.last_job == Some(JobKind::Run)
            && self.session.runs_finished > finished_before
            && self.session.cancelled.is_none()
            && self.shot.is_none()
        {
            self.session.repeat_pending = true;
        }
        let generation = self.session.events.frames.generation();
        if generation != self.session.frames_generation {
            self.session.frames_generation = generation;
            let (_, frames) = self.session.events.frames.snapshot();
            if self.session.capture.live.is_some() {
                let now = gilscope_engine::trace::clock::now_ns();
                for f in frames.iter().flatten() {
                    self.session.capture.frames.offer(now, f.clone());
                }
            }
            self.session.frames = frames;
            self.heat.dirty = true;
        }
        let msgs: Vec<super::session::LessonMsg> = match &self.session.lessons.rx {
            Some(rx) => rx.try_iter().collect(),
            None => Vec::new(),
        };
        for msg in msgs {
            match msg {
                super::session::LessonMsg::Trial(t) => {
                    let trials = &mut self.session.lessons.trials;
                    match trials.iter_mut().find(|o| o.key == t.key) {
                        Some(o) => *o = t,
                        None => trials.push(t),
                    }
                }
                super::session::LessonMsg::Done(result) => {
                    self.session.lessons.running = None;
                    self.session.lessons.rx = None;
                    match result {
                        Ok(r) => {
                            self.session
                                .lessons
                                .reports
                                .retain(|o| o.number != r.number);
                            self.session.lessons.reports.push(r);
                        }
                        Err(e) if e.is_cancelled() => {
                            self.session.notice = Some("lesson stopped".to_owned());
                        }
                        Err(e) => self.session.error = Some(e.to_string()),
                    }
                }
            }
        }
        self.session.reap_job();
        if self.session.repeat_pending && !self.session.busy() {
            self.session.repeat_pending = false;
            self.session.repeats_done += 1;
            self.pending.push(Command::Run);
        }
    }

    fn run_config(&self) -> RunConfig {
        RunConfig {
            worker_exe: self.worker_exe.clone(),
            ..self.settings.run.clone()
        }
    }

    /// Carries out one command.
    fn apply(&mut self, ctx: &egui::Context, cmd: Command) {
        match cmd {
            Command::Run => self.start_run(),
            Command::RunSweep => self.start_sweep(false),
            Command::RunBaseline => self.start_baseline(),
            Command::ToggleControls => self.session.controls.toggle(),
            Command::ToggleFigures => self.session.figures.toggle(),
            Command::ConfirmRun => self.start_run_checked(true),
            Command::CancelRun => self.session.confirm = None,
            Command::CompareWithCpython => self.start_sweep(true),
            Command::Stop => {
                self.session.repeat_pending = false;
                if let Some((_, h)) = &self.session.job {
                    h.cancel();
                }
            }
            Command::ClearConsole => {
                if let Some(c) = &mut self.session.console {
                    c.cleared = true;
                }
            }
            Command::ClearSweep => {
                if self.session.job_kind() != Some(JobKind::Sweep) {
                    self.session.sweep_points.clear();
                }
            }
            Command::ApplyPreset(p) => {
                if !self.session.busy() {
                    apply_preset(&mut self.settings, p, self.session.cores);
                }
            }
            Command::StepMode(d) => {
                if !self.session.busy() {
                    self.settings.run.mode = step(&Mode::ALL, self.settings.run.mode, d);
                }
            }
            Command::StepKernel(d) => {
                if !self.session.busy() {
                    self.settings.run.kernel = step(&Kernel::ALL, self.settings.run.kernel, d);
                }
            }
            Command::FitTimeline => {
                if let Some(t) = &self.session.timeline {
                    self.session.timeline_view.window = t.full_window();
                    self.session.timeline_view.follow = false;
                }
            }
            Command::FollowLive => self.session.timeline_view.follow = true,
            Command::PauseTimeline => {
                if let Some(t) = &self.session.timeline {
                    if self.session.timeline_view.follow {
                        self.session.timeline_view.window = if self.session.live.is_some() {
                            t.live_window(self.settings.live_window_secs)
                        } else {
                            t.full_window()
                        };
                    }
                    self.session.timeline_view.follow = false;
                }
            }
            Command::Export(target) => {
                let folder = self.settings.export_folder();
                match super::exports::export(&self.session, &self.settings, target, &folder) {
                    Ok(path) => {
                        self.session.notice = Some(format!("saved {}", path.display()));
                        self.session.error = None;
                    }
                    Err(e) => self.session.error = Some(format!("export failed: {e:#}")),
                }
            }
            Command::CopyImage(target) => {
                let copied = super::exports::copy_image(
                    &mut self.clipboard,
                    &self.session,
                    &self.settings,
                    target,
                );
                match copied {
                    Ok(()) => {
                        self.session.notice = Some("image copied to the clipboard".to_owned())
                    }
                    Err(e) => self.session.error = Some(format!("copy failed: {e:#}")),
                }
            }
            Command::DismissError => self.session.error = None,
            Command::SelectProgram(i) => {
                if let Some((name, _)) = gilscope_engine::program::BUNDLED.get(i)
                    && !self.session.busy()
                {
                    select_program(&mut self.settings, name);
                }
            }
            Command::OpenLesson(n) => self.open_lesson(n),
            Command::StepLesson(d) => {
                let max = crate::lessons::LESSONS.len() as i64;
                let cur = self.settings.lesson.map_or(0, |n| n as i64);
                let next = if cur == 0 {
                    1
                } else {
                    (cur + d as i64).clamp(1, max)
                };
                self.open_lesson(next as usize);
            }
            Command::CloseLessons => self.settings.lesson = None,
            Command::RunLesson => self.start_lesson(),
            Command::SaveRecording => self.save_recording(),
            Command::OpenRecording => self.open_recording(),
            Command::ToggleFullscreen => {
                let full = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
            }
            Command::ListPythons => {
                self.session.pythons = Some(gilscope_engine::runtime::cpython::running_pythons());
            }
            Command::Attach(pid) => self.start_attach(pid),
            Command::OpenProgram => {
                if !self.session.busy() {
                    let path = self.session.open_path.trim().to_owned();
                    // A plain script opens as it is (the real CPython runs any; the emulation
                    // says at Run what it cannot compile); a gilscope program must compile.
                    let opened = if gilscope_engine::program::is_script(&path) {
                        Ok(())
                    } else {
                        gilscope_engine::program::Program::load(&path).map(|_| ())
                    };
                    match opened {
                        Ok(_) => {
                            self.session.open_error = None;
                            select_program(&mut self.settings, &path);
                        }
                        Err(e) => self.session.open_error = Some(e.to_string()),
                    }
                }
            }
        }
    }

    /// Opens lesson `n` and, when nothing runs, sets up the run it shows.
    fn open_lesson(&mut self, n: usize) {
        if crate::lessons::catalogue::lesson(n).is_none() {
            return;
        }
        self.settings.lesson = Some(n);
        if !self.session.busy()
            && let Some(cfg) = crate::lessons::catalogue::shown_config(n, self.session.cores)
        {
            self.settings.run = RunConfig {
                python: self.settings.run.python.clone(),
                ..cfg
            };
        }
    }

    /// File → Save recording: the last finished run and the sweep shown.
    fn save_recording(&mut self) {
        let path = PathBuf::from(self.session.recording_path.trim());
        let mut rec = crate::recording::Recording::new("emulated CPython 3.11");
        if let Some(run) = &self.session.capture.last {
            if let Some(v) = &run.summary.python_version {
                rec.machine.python = format!("CPython {v}");
            }
            rec.runs.push(run.clone());
        }
        if !self.session.sweep_points.is_empty() {
            let spec = self.session.capture.sweep_spec.clone().unwrap_or_else(|| {
                gilscope_engine::measure::sweep::SweepSpec::default_for(self.settings.run.clone())
            });
            rec.sweep = Some(crate::recording::RecordedSweep {
                spec,
                points: self.session.sweep_points.clone(),
                wall_secs: 0.0,
            });
        }
        let res = rec.to_bytes().map_err(|e| e.to_string()).and_then(|bytes| {
            crate::export::atomic::write_atomic(&path, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        });
        match res {
            Ok(()) => {
                self.session.notice = Some(format!("saved recording {}", path.display()));
                self.session.error = None;
            }
            Err(e) => self.session.error = Some(e),
        }
    }
}

fn step<T: Copy + PartialEq>(all: &[T], cur: T, d: i32) -> T {
    let n = all.len() as i32;
    let i = all.iter().position(|&x| x == cur).unwrap_or(0) as i32;
    all[((i + d).rem_euclid(n)) as usize]
}

/// Makes `spec` (a bundled name or a path) the program of the run, with its own defaults.
pub fn select_program(settings: &mut Settings, spec: &str) {
    if settings.run.program != spec {
        settings.run.program = spec.to_owned();
        settings.run.entry = None;
        settings.run.params.clear();
    }
}

/// Applies a preset to the settings: the run, and the sweep it compares.
pub fn apply_preset(settings: &mut Settings, p: Preset, cores: usize) {
    settings.run = p.config(cores);
    let (series, max) = p.sweep(cores);
    // The sweep measures every ticked series on every ticked interpreter.
    settings.sweep_interpreters = Vec::new();
    settings.sweep_series = Vec::new();
    for s in series {
        if !settings.sweep_interpreters.contains(&s.interpreter) {
            settings.sweep_interpreters.push(s.interpreter);
        }
        let plain = s.on(gilscope_engine::build::Build::Gil);
        if !settings.sweep_series.contains(&plain) {
            settings.sweep_series.push(plain);
        }
    }
    settings.sweep_max_threads = max;
    if matches!(p, Preset::CountLoop | Preset::Downloads | Preset::NumpyDot) {
        settings.sweep_repeats = 1;
    }
}

impl eframe::App for GilscopeApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        if self.software_renderer.is_none() {
            self.software_renderer = Some(software_renderer(frame));
        }
        self.drain_events();
        self.keyboard(ctx);
        self.drive_screenshot(ctx);
        self.drive_tour(ctx);
        for cmd in std::mem::take(&mut self.pending) {
            self.apply(ctx, cmd);
        }
        super::theme::apply(ctx, self.settings.dark, self.settings.presentation);
        // Sweeps and lessons measure: repaint less so the window takes little from the workers.
        let software = self.software_renderer == Some(true);
        let period = match self.session.job_kind() {
            Some(JobKind::Lesson) if software => SOFTWARE_LESSON_REPAINT,
            Some(JobKind::Sweep | JobKind::Lesson) => SWEEP_REPAINT,
            // A run is measured too: where the CPU draws the window, it gets a few frames a
            // second, and the view catches up when the run ends.
            Some(JobKind::Run | JobKind::Attach) if software => SOFTWARE_RUN_REPAINT,
            _ => LIVE_REPAINT,
        };
        self.repaint_ms
            .store(period.as_millis() as u64, Ordering::Relaxed);
        if self.session.busy() {
            ctx.request_repaint_after(period);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut cmds = Vec::new();
        panels::draw(
            ui,
            &mut self.settings,
            &mut self.session,
            &mut self.heat,
            &mut cmds,
        );
        self.pending.extend(cmds);
        if !self.pending.is_empty() {
            ui.ctx().request_repaint();
        }
    }

    fn persist_egui_memory(&self) -> bool {
        self.persist
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(storage, eframe::APP_KEY, &self.settings);
        }
    }
}

/// Whether the window is drawn by a CPU rasteriser (Mesa's llvmpipe or softpipe).
fn software_renderer(frame: &eframe::Frame) -> bool {
    use eframe::glow::HasContext;
    frame.gl().is_some_and(|gl| {
        // SAFETY: a plain query of a string the context owns, on the thread that owns the
        // context, between frames.
        let name = unsafe { gl.get_parameter_string(eframe::glow::RENDERER) };
        let name = name.to_ascii_lowercase();
        name.contains("llvmpipe") || name.contains("softpipe") || name.contains("software")
    })
}

/// `42 s`, `3.5 min`, `2.1 h`.
fn fmt_duration(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 5400.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}
