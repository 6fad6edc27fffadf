//! Starting the window's background jobs (a run, a sweep, a lesson, a replay): each is checked,
//! then started through one `start_job`, which names its thread and keeps its handle.

use std::path::PathBuf;

use crossbeam_channel::bounded;

use super::GilscopeApp;
use super::fmt_duration;
use crate::gui::session::{JobKind, LessonMsg, SweepProgress};
use gilscope_engine::config::{MAX_THREADS, Mode, RunConfig, Runtime, Series};
use gilscope_engine::measure::sweep::{SweepSpec, run_sweep};
use gilscope_engine::runtime::{self, CancelToken, spawn_job};

/// The longest an attach from the window lasts without a Stop (an hour).
const ATTACH_MAX_SECS: f64 = 3600.0;

impl JobKind {
    /// The name of the job's thread.
    fn thread_name(self) -> &'static str {
        match self {
            JobKind::Run => "gilscope-run",
            JobKind::Sweep => "gilscope-sweep",
            JobKind::Lesson => "gilscope-lesson",
            JobKind::Replay => "gilscope-replay",
            JobKind::Attach => "gilscope-attach",
        }
    }
}

impl GilscopeApp {
    /// Starts `body` as the window's one background job of `kind`; false (with the error shown)
    /// when its thread could not be started.
    fn start_job(
        &mut self,
        kind: JobKind,
        body: impl FnOnce(CancelToken) + Send + 'static,
    ) -> bool {
        match spawn_job(kind.thread_name(), body) {
            Ok(h) => {
                self.session.error = None;
                self.session.job = Some((kind, h));
                self.session.last_job = Some(kind);
                true
            }
            Err(e) => {
                self.session.error = Some(format!("{e:#}"));
                false
            }
        }
    }

    pub(super) fn start_run(&mut self) {
        self.start_run_checked(false);
    }

    /// Starts the run; unless `confirmed`, a run forecast to take over a minute first asks.
    pub(super) fn start_run_checked(&mut self, confirmed: bool) {
        if self.session.busy() {
            return;
        }
        let cfg = self.run_config();
        if !confirmed
            && cfg.validate().is_ok()
            && let Some(secs) = gilscope_engine::measure::bench::forecast_secs(&cfg)
            && secs > gilscope_engine::measure::bench::LONG_RUN_SECS
        {
            self.session.confirm = Some(format!(
                "This run would take about {} on this machine (measured: its kernel on a 30×30 grid, scaled to grid {} × {} iterations × {} problems over {} workers).",
                fmt_duration(secs),
                cfg.grid,
                cfg.iters,
                cfg.problems,
                cfg.threads
            ));
            return;
        }
        self.session.confirm = None;
        if let Err(e) = cfg.validate() {
            self.session.error = Some(format!("{e:#}"));
            return;
        }
        self.launch_run(cfg);
    }

    /// Runs the last run's settings on one thread: the like run its speedup needs.
    pub(super) fn start_baseline(&mut self) {
        if self.session.busy() {
            return;
        }
        let Some(mut cfg) = self.session.last_config.clone() else {
            return;
        };
        cfg.threads = 1;
        if let Err(e) = cfg.validate() {
            self.session.error = Some(format!("{e:#}"));
            return;
        }
        self.launch_run(cfg);
    }

    /// Starts `cfg` as the run shown, remembering its settings.
    fn launch_run(&mut self, cfg: gilscope_engine::config::RunConfig) {
        let sink = self.session.sink.clone();
        self.session.last_config = Some(cfg.clone());
        self.start_job(JobKind::Run, move |cancel| {
            let _ = runtime::run_blocking(&cfg, Some(&sink), &cancel);
        });
    }

    /// Starts watching the running Python `pid` (a process gilscope did not start) until Stop,
    /// which detaches, or until it exits; its lanes stream in as a run's do.
    pub(super) fn start_attach(&mut self, pid: u32) {
        if self.session.busy() {
            return;
        }
        let sink = self.session.sink.clone();
        self.start_job(JobKind::Attach, move |cancel| {
            let _ = runtime::attach_blocking(pid, ATTACH_MAX_SECS, Some(&sink), &cancel);
        });
    }

    /// Starts a sweep of the ticked series; with `real_python`, of their CPython versions,
    /// added to the points already plotted.
    pub(super) fn start_sweep(&mut self, real_python: bool) {
        if self.session.busy() {
            return;
        }
        let max = self.settings.sweep_max_threads.clamp(1, MAX_THREADS);
        let interpreters = match self.settings.sweep_interpreters.as_slice() {
            [] => vec![self.settings.run.interpreter],
            list => list.to_vec(),
        };
        let mut series: Vec<Series> = interpreters
            .iter()
            .flat_map(|&i| self.settings.sweep_series.iter().map(move |s| s.on(i)))
            .collect();
        if real_python {
            // CPython runs threads and processes of its own build; the rest is the emulation's.
            series = series
                .into_iter()
                .filter(|s| {
                    matches!(s.mode, Mode::Threading | Mode::Multiprocessing)
                        && s.interpreter == gilscope_engine::build::Build::Gil
                })
                .map(|s| s.in_runtime(Runtime::Cpython))
                .collect();
            if series.is_empty() {
                self.session.error = Some(
                    "tick a threading or multiprocessing series on the gil interpreter to compare with real Python"
                        .to_owned(),
                );
                return;
            }
        }
        let spec = SweepSpec {
            series,
            threads: (1..=max).collect(),
            repeats: self.settings.sweep_repeats.max(1),
            // No heat frames while measuring: the window should take little from the workers.
            base: RunConfig {
                publish_frames: false,
                ..self.run_config()
            },
            warmup: true,
            thread_param: None,
        };
        if let Err(e) = spec.validate() {
            self.session.error = Some(format!("{e:#}"));
            return;
        }
        if !real_python {
            self.session.sweep_points.clear();
        }
        self.session.capture.sweep_spec = Some(SweepSpec {
            base: RunConfig {
                worker_exe: None,
                ..spec.base.clone()
            },
            ..spec.clone()
        });
        self.session.sweep_progress = Some(SweepProgress {
            done: 0,
            total: spec.total_runs(),
            elapsed_secs: 0.0,
        });
        let sink = self.session.sink.clone();
        self.start_job(JobKind::Sweep, move |cancel| {
            let _ = run_sweep(&spec, Some(&sink), &cancel, |_| {});
        });
    }

    /// Runs the open lesson's trials on a named thread; each run streams to the views and the
    /// report comes back on a bounded channel.
    pub(super) fn start_lesson(&mut self) {
        let Some(n) = self.settings.lesson else {
            return;
        };
        if self.session.busy() || crate::lessons::catalogue::lesson(n).is_none() {
            return;
        }
        let runner = crate::lessons::LessonRunner {
            size: crate::lessons::Size::Class,
            worker_exe: self.worker_exe.clone(),
            python: Some(self.settings.run.python.clone()),
            publish_frames: true,
        };
        let earlier = self.session.lessons.reports.clone();
        let sink = self.session.sink.clone();
        let (tx, rx) = bounded(64);
        let started = self.start_job(JobKind::Lesson, move |cancel| {
            let result = runner.run(n, Some(&sink), &cancel, &earlier, &mut |t| {
                let _ = tx.send(LessonMsg::Trial(t.clone()));
                sink.wake();
            });
            let _ = tx.send(LessonMsg::Done(result));
            sink.wake();
        });
        if started {
            self.session.lessons.running = Some(n);
            self.session.lessons.trials.clear();
            self.session.lessons.rx = Some(rx);
        }
    }

    /// File → Open recording: load it, then replay it through the live events at its pace.
    pub(super) fn open_recording(&mut self) {
        if self.session.busy() {
            return;
        }
        let path = PathBuf::from(self.session.recording_path.trim());
        let rec = match crate::recording::Recording::load(&path) {
            Ok(r) => r,
            Err(e) => {
                self.session.error = Some(e.to_string());
                return;
            }
        };
        self.session.replayed_from = Some(rec.machine.line());
        self.session.sweep_points.clear();
        if let Some(s) = &rec.sweep {
            self.session.capture.sweep_spec = Some(s.spec.clone());
        }
        let sink = self.session.sink.clone();
        if self.start_job(JobKind::Replay, move |cancel| {
            crate::recording::replay::replay(
                &rec,
                &sink,
                &cancel,
                crate::recording::replay::Pace::RealTime,
            );
        }) {
            self.session.notice = Some(format!("replaying {}", path.display()));
        }
    }
}
