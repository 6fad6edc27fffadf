//! Runtime state of one app session (never persisted): the engine link, the run or sweep going
//! on, the timeline, sweep points, results and messages.

use std::time::Instant;

use crate::view::timeline::{TimeWindow, TimelineModel};
use gilscope_engine::config::{RunConfig, Series};
use gilscope_engine::runtime::RunHandle;
use gilscope_engine::trace::events::{EngineEvent, EventSink, EventStream, GridFrame, SweepPoint};
use gilscope_engine::trace::summary::RunSummary;

/// What the background job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// One run.
    Run,
    /// A sweep of runs.
    Sweep,
    /// A lesson's trials.
    Lesson,
    /// A recording shown again.
    Replay,
    /// A running Python watched from outside (Stop detaches).
    Attach,
}

/// A side panel that folds by itself while presenting, unless the user says otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fold {
    /// What the user asked for with the top bar's button; `None`: fold by itself.
    pub wanted: Option<bool>,
    /// Whether the panel is folded away this frame.
    pub folded: bool,
}

impl Fold {
    /// Decides this frame's state: shown as the user asked, else unless it `folds_by_itself`;
    /// whether it is shown.
    pub fn decide(&mut self, folds_by_itself: bool) -> bool {
        self.folded = !self.wanted.unwrap_or(!folds_by_itself);
        !self.folded
    }

    /// The top bar's button: the other state than this frame's, from now on.
    pub fn toggle(&mut self) {
        self.wanted = Some(self.folded);
    }
}

/// What a lesson's thread reports, outside the engine's event channel.
#[derive(Debug)]
pub enum LessonMsg {
    /// One trial finished.
    Trial(crate::lessons::TrialRuns),
    /// The lesson finished: its report, or why it could not run.
    Done(Result<crate::lessons::Report, crate::lessons::LessonError>),
}

/// The lessons of this session: reports so far and the one running.
#[derive(Default)]
pub struct LessonState {
    /// The latest report of each lesson run this session.
    pub reports: Vec<crate::lessons::Report>,
    /// The lesson whose trials are running.
    pub running: Option<usize>,
    /// Its trials finished so far.
    pub trials: Vec<crate::lessons::TrialRuns>,
    /// Where its thread reports.
    pub rx: Option<crossbeam_channel::Receiver<LessonMsg>>,
}

impl LessonState {
    /// The latest report of lesson `n`.
    pub fn report(&self, n: usize) -> Option<&crate::lessons::Report> {
        self.reports.iter().rev().find(|r| r.number == n)
    }
}

/// Where the views were drawn last frame, for the lessons' "look here" callouts.
#[derive(Clone, Copy, Debug, Default)]
pub struct CalloutTargets {
    /// The core lanes of the timeline.
    pub core_lanes: Option<egui::Rect>,
    /// The GIL lanes.
    pub gil_lanes: Option<egui::Rect>,
    /// The worker lanes.
    pub worker_lanes: Option<egui::Rect>,
    /// The figures of the last run.
    pub figures: Option<egui::Rect>,
    /// The lesson's table.
    pub table: Option<egui::Rect>,
    /// The decision tree.
    pub tree: Option<egui::Rect>,
}

/// The run being captured for File → Save recording, and the last one finished.
#[derive(Default)]
pub struct Capture {
    /// The live run's settings and start.
    pub live: Option<(u64, RunConfig, u64)>,
    /// Its spans so far (up to [`CAPTURE_MAX_SPANS`]).
    pub spans: Vec<gilscope_engine::trace::spans::Span>,
    /// Its core samples.
    pub core_samples: Vec<gilscope_engine::trace::sampler::CoreSample>,
    /// Its heat frames, thinned.
    pub frames: crate::recording::capture::FrameThinner,
    /// Spans beyond the cap, not captured.
    pub spans_missed: u64,
    /// The last finished run, ready to save.
    pub last: Option<crate::recording::RecordedRun>,
    /// The sweep of the points shown, ready to save.
    pub sweep_spec: Option<gilscope_engine::measure::sweep::SweepSpec>,
}

/// Spans a capture holds (about 80 MB); a longer run is saved without its oldest detail.
pub const CAPTURE_MAX_SPANS: usize = 2_000_000;

/// The run the engine is executing now.
#[derive(Clone, Debug)]
pub struct LiveRun {
    /// Engine run id.
    pub run_id: u64,
    /// Its settings.
    pub config: RunConfig,
    /// Iterations done and in total.
    pub progress: (u64, u64),
    /// When it started (for the elapsed time shown).
    pub started: Instant,
}

/// A sweep's progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepProgress {
    /// Runs done.
    pub done: usize,
    /// Runs in all.
    pub total: usize,
    /// Seconds so far.
    pub elapsed_secs: f64,
}

impl SweepProgress {
    /// Seconds left, estimated from the mean time per run so far.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.done > 0)
            .then(|| self.elapsed_secs / self.done as f64 * (self.total - self.done) as f64)
    }
}

/// How the timeline is being looked at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineView {
    /// The window shown when not following.
    pub window: TimeWindow,
    /// Follow the live edge.
    pub follow: bool,
}

/// Everything that lives only while the app runs.
pub struct Session {
    /// Cores of this machine.
    pub cores: usize,
    /// The engine's end of the event channel (cloned into each job).
    pub sink: EventSink,
    /// Where engine events arrive.
    pub events: EventStream,
    /// The background job, if any.
    pub job: Option<(JobKind, RunHandle)>,
    /// The run going on.
    pub live: Option<LiveRun>,
    /// The latest finished run.
    pub last_summary: Option<RunSummary>,
    /// The latest run was stopped: what it was and after how long (shown instead of an older
    /// run's figures).
    pub cancelled: Option<String>,
    /// Runs started again by "repeat until Stop".
    pub repeats_done: u64,
    /// A run ended by itself with "repeat until Stop" on: start it again once the job is gone.
    pub repeat_pending: bool,
    /// The kind of the job started last (still known after the job was reaped).
    pub last_job: Option<JobKind>,
    /// The controls panel's folding (a lesson or a narrow window, while presenting).
    pub controls: Fold,
    /// The figures panel's folding (a narrow window, while presenting).
    pub figures: Fold,
    /// The settings of the run started last (for its 1-thread baseline).
    pub last_config: Option<gilscope_engine::config::RunConfig>,
    /// Finished runs, newest last (bounded).
    pub history: Vec<RunSummary>,
    /// The timeline of the current or latest run.
    pub timeline: Option<TimelineModel>,
    /// How it is looked at.
    pub timeline_view: TimelineView,
    /// The timeline's pixel segments, reused while the view and the data stay the same.
    pub timeline_segments: crate::view::timeline::SegmentCache,
    /// Sweep points measured.
    pub sweep_points: Vec<SweepPoint>,
    /// The sweep's progress.
    pub sweep_progress: Option<SweepProgress>,
    /// The latest grid of each worker.
    pub frames: Vec<Option<GridFrame>>,
    /// Frame-slot generation last copied.
    pub frames_generation: u64,
    /// An error to show.
    pub error: Option<String>,
    /// A run that would take long, waiting for the user's yes: the forecast shown.
    pub confirm: Option<String>,
    /// A short message (e.g. where a file was saved).
    pub notice: Option<String>,
    /// Runs finished since launch (for tests and the screenshot mode).
    pub runs_finished: usize,
    /// Sweeps finished since launch.
    pub sweeps_finished: usize,
    /// The program of the current settings, compiled once per choice.
    pub program: LoadedProgram,
    /// The path typed into "Open program".
    pub open_path: String,
    /// Why the last "Open program" failed (a compile error with line and column).
    pub open_error: Option<String>,
    /// Parameter fields as typed, and why a value was rejected.
    pub param_fields: Vec<ParamField>,
    /// The program those fields belong to.
    pub param_fields_program: String,
    /// The lessons.
    pub lessons: LessonState,
    /// Where the callouts point.
    pub targets: CalloutTargets,
    /// What File → Save recording saves.
    pub capture: Capture,
    /// The path typed into File → Save/Open recording.
    pub recording_path: String,
    /// The machine of the recording shown, if one is.
    pub replayed_from: Option<String>,
    /// The Python processes found on this machine the last time the user looked (Attach).
    pub pythons: Option<Vec<gilscope_engine::runtime::cpython::PythonProcess>>,
    /// What the last script run printed, as the console shows it.
    pub console: Option<crate::gui::panels::console::ConsoleView>,
}

/// A program as the settings name it, compiled (or why it does not compile).
#[derive(Default)]
pub struct LoadedProgram {
    /// The `program` setting it was loaded for.
    pub spec: String,
    /// The compiled program, or the error line.
    pub loaded: Option<Result<std::sync::Arc<gilscope_engine::program::Program>, String>>,
    /// Whether `spec` is a plain script (no `ENTRY`), read once per choice.
    pub script: Option<(String, bool)>,
}

impl LoadedProgram {
    /// Whether `spec` is a plain script, which runs on the real CPython as `python FILE`.
    pub fn is_script(&mut self, spec: &str) -> bool {
        match &self.script {
            Some((s, v)) if s == spec => *v,
            _ => {
                let v = gilscope_engine::program::is_script(spec);
                self.script = Some((spec.to_owned(), v));
                v
            }
        }
    }

    /// The program for `spec`, compiling it if the choice changed.
    pub fn get(
        &mut self,
        spec: &str,
    ) -> Result<&std::sync::Arc<gilscope_engine::program::Program>, &str> {
        if self.spec != spec || self.loaded.is_none() {
            self.spec = spec.to_owned();
            self.loaded = Some(
                gilscope_engine::program::Program::load(spec)
                    .map(std::sync::Arc::new)
                    .map_err(|e| e.to_string()),
            );
        }
        match self.loaded.as_ref() {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.as_str()),
            None => Err("not loaded"),
        }
    }
}

/// One parameter's text field.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamField {
    /// The parameter.
    pub name: String,
    /// What is typed.
    pub text: String,
    /// Why the text was rejected, if it was.
    pub rejected: Option<String>,
}

/// Finished runs kept for the figures.
const HISTORY: usize = 200;

impl Session {
    /// A fresh session around an event channel.
    pub fn new(sink: EventSink, events: EventStream) -> Self {
        Self {
            cores: gilscope_engine::trace::clock::core_count(),
            sink,
            events,
            job: None,
            live: None,
            last_summary: None,
            cancelled: None,
            repeats_done: 0,
            repeat_pending: false,
            last_job: None,
            last_config: None,
            controls: Fold::default(),
            figures: Fold::default(),
            confirm: None,
            history: Vec::new(),
            timeline: None,
            timeline_view: TimelineView {
                window: TimeWindow::new(0.0, 1e9),
                follow: true,
            },
            timeline_segments: Default::default(),
            sweep_points: Vec::new(),
            sweep_progress: None,
            frames: Vec::new(),
            frames_generation: 0,
            error: None,
            notice: None,
            runs_finished: 0,
            sweeps_finished: 0,
            program: LoadedProgram::default(),
            open_path: String::new(),
            open_error: None,
            param_fields: Vec::new(),
            param_fields_program: String::new(),
            lessons: LessonState::default(),
            targets: CalloutTargets::default(),
            capture: Capture::default(),
            recording_path: "gilscope-run.gilscope".to_owned(),
            replayed_from: None,
            pythons: None,
            console: None,
        }
    }

    /// Whether a run or sweep is going on.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// What the background job is, if any.
    pub fn job_kind(&self) -> Option<JobKind> {
        self.job.as_ref().map(|(k, _)| *k)
    }

    /// Applies one engine event to the state.
    pub fn handle_event(&mut self, ev: EngineEvent) {
        match ev {
            EngineEvent::RunStarted {
                run_id,
                config,
                cores,
                start_ns,
            } => {
                // The console shows this run's output once it ends, never an older run's.
                self.console = None;
                self.timeline = Some(
                    TimelineModel::new(cores, start_ns, Some(config.mode))
                        .with_interpreter(config.interpreter),
                );
                self.timeline_view.follow = true;
                self.frames.clear();
                self.cancelled = None;
                self.capture.live = Some((run_id, (*config).clone(), start_ns));
                self.capture.spans.clear();
                self.capture.core_samples.clear();
                self.capture.frames = Default::default();
                self.capture.spans_missed = 0;
                self.live = Some(LiveRun {
                    run_id,
                    config: *config,
                    progress: (0, 0),
                    started: Instant::now(),
                });
            }
            EngineEvent::Spans { run_id, spans } => {
                if self.is_live(run_id)
                    && let Some(t) = &mut self.timeline
                {
                    t.push_spans(&spans);
                    let room = CAPTURE_MAX_SPANS.saturating_sub(self.capture.spans.len());
                    self.capture.spans_missed += spans.len().saturating_sub(room) as u64;
                    self.capture
                        .spans
                        .extend_from_slice(&spans[..spans.len().min(room)]);
                }
            }
            EngineEvent::Progress {
                run_id,
                iters_done,
                iters_total,
            } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.run_id == run_id) {
                    live.progress = (iters_done, iters_total);
                }
            }
            EngineEvent::CoreSample { run_id, sample } => {
                if self.is_live(run_id)
                    && let Some(t) = &mut self.timeline
                {
                    self.capture.core_samples.push(sample.clone());
                    t.core_samples.push(sample);
                }
            }
            EngineEvent::RunFinished {
                run_id,
                mut summary,
            } => {
                if let Some(t) = self
                    .timeline
                    .as_mut()
                    .filter(|_| self.live.as_ref().is_some_and(|l| l.run_id == run_id))
                {
                    t.end_ns = Some(t.start_ns + (summary.wall_secs * 1e9) as u64);
                    t.engine_dropped = summary.dropped_events;
                    t.name_workers(&summary.workers);
                    t.prepare();
                    self.timeline_view.window = t.full_window();
                    self.timeline_view.follow = false;
                }
                if let Some((id, config, start_ns)) = self.capture.live.take()
                    && id == run_id
                {
                    let mut spans = std::mem::take(&mut self.capture.spans);
                    spans.sort_by_key(|s| s.start_ns);
                    let outcome = gilscope_engine::trace::summary::RunOutcome {
                        summary: (*summary).clone(),
                        spans,
                        core_samples: std::mem::take(&mut self.capture.core_samples),
                        start_ns,
                        end_ns: start_ns + (summary.wall_secs * 1e9) as u64,
                    };
                    let frames = std::mem::take(&mut self.capture.frames).into_frames(start_ns);
                    self.capture.last = Some(crate::recording::RecordedRun::new(
                        &config, &outcome, frames,
                    ));
                }
                if let Some(out) = &summary.program_output {
                    self.console = Some(crate::gui::panels::console::ConsoleView::of(
                        self.runs_finished + 1,
                        out,
                    ));
                }
                // The history keeps figures, not up to megabytes of a script's output each:
                // the output is moved aside while the summary is copied, not copied and dropped.
                let output = summary
                    .program_output
                    .as_mut()
                    .map(|o| (std::mem::take(&mut o.stdout), std::mem::take(&mut o.stderr)));
                self.history.push((*summary).clone());
                if let (Some(o), Some((stdout, stderr))) = (summary.program_output.as_mut(), output)
                {
                    (o.stdout, o.stderr) = (stdout, stderr);
                }
                if self.history.len() > HISTORY {
                    self.history.remove(0);
                }
                self.last_summary = Some(*summary);
                self.live = None;
                self.runs_finished += 1;
            }
            EngineEvent::RunFailed {
                error, cancelled, ..
            } => {
                if cancelled {
                    self.cancelled = self.live.as_ref().map(|l| {
                        format!(
                            "{} · {} workers · stopped after {:.1} s",
                            l.config.series().label_in(&l.config.program),
                            l.config.threads,
                            l.started.elapsed().as_secs_f64()
                        )
                    });
                } else {
                    self.error = Some(error);
                }
                self.last_summary = None;
                if let Some(t) = &mut self.timeline {
                    t.end_ns = Some(t.last_ns);
                    t.prepare();
                    self.timeline_view.window = t.full_window();
                    self.timeline_view.follow = false;
                }
                self.live = None;
            }
            EngineEvent::SweepPoint(p) => self.sweep_points.push(p),
            EngineEvent::SweepProgress {
                done,
                total,
                elapsed_secs,
            } => {
                self.sweep_progress = Some(SweepProgress {
                    done,
                    total,
                    elapsed_secs,
                });
            }
            EngineEvent::SweepFinished { error, .. } => {
                if let Some(e) = error {
                    self.error = Some(e);
                }
                self.sweep_progress = None;
                self.sweeps_finished += 1;
            }
        }
    }

    fn is_live(&self, run_id: u64) -> bool {
        self.live.as_ref().is_some_and(|l| l.run_id == run_id)
    }

    /// The last finished 1-thread run like `run`, for speedups: `None` where there is none.
    pub fn baseline_secs(&self, run: &RunSummary) -> Option<f64> {
        let series = Series::new(run.mode?, run.kernel?)
            .on(run.interpreter)
            .in_runtime(run.runtime);
        // The same program, parameters, entry, sizes, runtime (and Python), build, mode's
        // kernel and switch interval, on this machine: only the thread count differs.
        let same = |s: &RunSummary| {
            s.mode == run.mode
                && s.kernel == run.kernel
                && s.interpreter == run.interpreter
                && s.runtime == run.runtime
                && s.python_version == run.python_version
                && s.program == run.program
                && s.params == run.params
                && s.entry == run.entry
                && s.grid == run.grid
                && s.problems == run.problems
                && s.iters == run.iters
                && s.switch_interval_ms == run.switch_interval_ms
                && s.cores == run.cores
        };
        self.history
            .iter()
            .rev()
            .find(|s| s.threads == 1 && same(s))
            .map(|s| s.wall_secs)
            .or_else(|| {
                // A sweep's point is like only if it ran the same program and parameters.
                // (An older recording's points name no program: heat.py's.)
                let program = |p: &str| {
                    if p.is_empty() {
                        gilscope_engine::config::HEAT.to_owned()
                    } else {
                        p.to_owned()
                    }
                };
                let like: Vec<_> = self
                    .sweep_points
                    .iter()
                    .filter(|p| program(&p.program) == program(&run.program))
                    .filter(|p| p.params == run.params)
                    .cloned()
                    .collect();
                gilscope_engine::measure::sweep::aggregate(&like)
                    .into_iter()
                    .find(|st| st.series == series)
                    .and_then(|st| st.points.into_iter().find(|p| p.threads == 1))
                    .map(|p| p.median_secs)
            })
    }

    /// Ends the job if its thread has finished.
    pub fn reap_job(&mut self) {
        if self.job.as_ref().is_some_and(|(_, h)| h.is_finished())
            && let Some((_, h)) = self.job.take()
        {
            h.join();
        }
    }
}
