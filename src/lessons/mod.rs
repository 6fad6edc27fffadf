//! The guided lessons: the story of the source texts in ten steps, each a set of real runs whose
//! results are checked against the lesson's claim on the machine in front of the class.
//!
//! No GUI code here: the app, the CLI (`gilscope lessons --check`) and the tests share it.

pub mod catalogue;
pub mod judge;
pub mod tree;

use std::path::PathBuf;

use serde::Serialize;

use gilscope_engine::config::{RunConfig, Runtime};
use gilscope_engine::error::EngineError;
use gilscope_engine::measure::membw::Bandwidth;
use gilscope_engine::runtime::{CancelToken, run_blocking};
use gilscope_engine::trace::clock;
use gilscope_engine::trace::events::EventSink;
use gilscope_engine::trace::summary::RunSummary;

pub use catalogue::{LESSONS, Lesson, LookHere};

/// How big the lesson's runs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Size {
    /// Small runs for `lessons --check --quick`: the whole set in well under a minute.
    Quick,
    /// Runs long enough to narrate in front of a class (a few seconds each).
    #[default]
    Class,
}

/// One configuration a lesson runs, and how often.
#[derive(Clone, Debug)]
pub struct Trial {
    /// What the judge calls it.
    pub key: &'static str,
    /// What the reader sees (`count.py, 2 threads`).
    pub label: String,
    /// The run.
    pub config: RunConfig,
    /// Runs of it: timings keep the fastest (interference only slows a run), races keep all.
    pub repeats: usize,
}

/// What one trial measured: every run, or why it did not run.
#[derive(Clone, Debug, Serialize)]
pub struct TrialRuns {
    /// The trial's key.
    pub key: &'static str,
    /// The trial's label.
    pub label: String,
    /// Every run, in order.
    pub runs: Vec<RunSummary>,
    /// Why the trial was skipped (a prerequisite missing, e.g. no python3).
    pub skipped: Option<String>,
}

impl TrialRuns {
    /// The fastest run.
    pub fn fastest(&self) -> Option<&RunSummary> {
        self.runs
            .iter()
            .min_by(|a, b| a.wall_secs.total_cmp(&b.wall_secs))
    }

    /// The largest integer the program reported under `key` over all runs.
    pub fn max_result(&self, key: &str) -> Option<i64> {
        self.runs
            .iter()
            .filter_map(|r| r.result[key].as_i64())
            .max()
    }

    /// The smallest integer the program reported under `key` over all runs.
    pub fn min_result(&self, key: &str) -> Option<i64> {
        self.runs
            .iter()
            .filter_map(|r| r.result[key].as_i64())
            .min()
    }
}

/// A lesson's verdict on its claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// What ran agrees with the claim.
    AsExpected,
    /// What ran contradicts the claim, or the machine cannot show it: why, with the figure.
    NotOnThisMachine(String),
}

impl Verdict {
    /// `as expected` or `not on this machine: …`.
    pub fn text(&self) -> String {
        match self {
            Verdict::AsExpected => "as expected".to_owned(),
            Verdict::NotOnThisMachine(why) => format!("not on this machine: {why}"),
        }
    }

    /// Whether the claim held.
    pub fn holds(&self) -> bool {
        *self == Verdict::AsExpected
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// What a lesson found: its claim, the figures measured, and the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The lesson's number (1-based).
    pub number: usize,
    /// Its title.
    pub title: &'static str,
    /// What it expects to see.
    pub claim: &'static str,
    /// What was measured, in figures.
    pub observed: String,
    /// Whether the claim held.
    pub verdict: Verdict,
    /// Every trial, for the app's table (not in the `--json` of `lessons --check`).
    #[serde(skip)]
    pub trials: Vec<TrialRuns>,
    /// This machine's copy bandwidth, where the lesson measured it.
    #[serde(skip)]
    pub bandwidth: Option<Bandwidth>,
}

/// Everything a lesson's judge reads.
pub struct Measured<'a> {
    /// The trials, in the order the lesson listed them.
    pub trials: &'a [TrialRuns],
    /// Cores of this machine.
    pub cores: usize,
    /// The copy bandwidth, where the lesson measured it.
    pub bandwidth: Option<Bandwidth>,
    /// Reports of lessons checked before this one (the decision tree reads its leaves').
    pub earlier: &'a [Report],
}

impl Measured<'_> {
    /// The trial with `key`.
    pub fn trial(&self, key: &str) -> Option<&TrialRuns> {
        self.trials.iter().find(|t| t.key == key)
    }

    /// The fastest wall time of the trial with `key`.
    pub fn secs(&self, key: &str) -> Option<f64> {
        self.trial(key)?.fastest().map(|s| s.wall_secs)
    }

    /// How many times faster `fast` ran than `base` (fastest runs of each).
    pub fn speedup(&self, base: &str, fast: &str) -> Option<f64> {
        Some(self.secs(base)? / self.secs(fast)?.max(1e-9))
    }
}

/// What went wrong running a lesson (a measurement that contradicts the claim is not an error:
/// it is a verdict).
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// No lesson has this number.
    #[error("there is no lesson {0} (lessons are numbered 1 to {max})", max = LESSONS.len())]
    Unknown(usize),
    /// A run failed or was cancelled.
    #[error("lesson {lesson}: {source}")]
    Engine {
        /// The lesson's number.
        lesson: usize,
        /// What failed.
        source: EngineError,
    },
}

impl LessonError {
    /// Whether the user stopped it.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            LessonError::Engine {
                source: EngineError::Cancelled,
                ..
            }
        )
    }
}

/// How lessons run on this machine.
#[derive(Clone, Debug, Default)]
pub struct LessonRunner {
    /// Run sizes.
    pub size: Size,
    /// The program multiprocessing workers run (`None`: this program).
    pub worker_exe: Option<PathBuf>,
    /// The Python of the real-CPython trials.
    pub python: Option<String>,
    /// Publish heat frames (the app shows them; a headless check does not need them).
    pub publish_frames: bool,
}

impl LessonRunner {
    /// Runs lesson `number`'s trials, sending each run to `sink` (the app draws them live),
    /// and judges the claim; `on_trial` sees a trial's runs so far after each of them. `earlier` holds reports already made this session; the decision
    /// tree checks its leaves' lessons itself if they are not there.
    pub fn run(
        &self,
        number: usize,
        sink: Option<&EventSink>,
        cancel: &CancelToken,
        earlier: &[Report],
        on_trial: &mut dyn FnMut(&TrialRuns),
    ) -> Result<Report, LessonError> {
        let lesson = catalogue::lesson(number).ok_or(LessonError::Unknown(number))?;
        let engine = |source| LessonError::Engine {
            lesson: number,
            source,
        };
        let cores = clock::core_count();
        let mut deps: Vec<Report> = Vec::new();
        for &d in lesson.depends_on {
            if !earlier.iter().any(|r| r.number == d) {
                let quick = LessonRunner {
                    size: Size::Quick,
                    ..self.clone()
                };
                deps.push(quick.run(d, sink, cancel, earlier, on_trial)?);
            }
        }
        let bandwidth = if lesson.measures_bandwidth {
            if cancel.is_cancelled() {
                return Err(engine(EngineError::Cancelled));
            }
            Some(gilscope_engine::measure::membw::copy_bandwidth().map_err(engine)?)
        } else {
            None
        };
        let mut done = Vec::new();
        // The trial the lesson shows runs last, so the views end on it.
        let mut trials = catalogue::trials(number, self.size, cores);
        if let Some(i) = trials.iter().position(|t| t.key == lesson.show) {
            let shown = trials.remove(i);
            trials.push(shown);
        }
        let mut planned = Vec::with_capacity(trials.len());
        for trial in trials {
            let mut t = TrialRuns {
                key: trial.key,
                label: trial.label.clone(),
                runs: Vec::new(),
                skipped: None,
            };
            let cfg = RunConfig {
                worker_exe: self.worker_exe.clone(),
                python: self
                    .python
                    .clone()
                    .unwrap_or_else(|| trial.config.python.clone()),
                publish_frames: self.publish_frames,
                ..trial.config
            };
            // A missing python3 or NumPy is said here, before the run, never as a failed run.
            if cfg.runtime == Runtime::Cpython
                && let Err(e) = gilscope_engine::runtime::cpython::preflight(&cfg)
            {
                t.skipped = Some(e.to_string());
            }
            planned.push((cfg, trial.repeats.max(1)));
            done.push(t);
        }
        // Repeats go round the trials (1 thread, 2 threads, 1 thread, …), so a machine that
        // slows down or speeds up during the lesson weighs on every trial alike.
        let rounds = planned.iter().map(|(_, r)| *r).max().unwrap_or(0);
        for round in 0..rounds {
            for ((cfg, repeats), t) in planned.iter().zip(done.iter_mut()) {
                if round >= *repeats || t.skipped.is_some() {
                    continue;
                }
                if cancel.is_cancelled() {
                    return Err(engine(EngineError::Cancelled));
                }
                match run_blocking(cfg, sink, cancel) {
                    Ok(out) => t.runs.push(out.summary),
                    Err(EngineError::Cancelled) => return Err(engine(EngineError::Cancelled)),
                    // The real Python is a guest: its failure is a missing prerequisite, said
                    // as such, never a fake figure; the emulation's failure is an error.
                    Err(e) if cfg.runtime == Runtime::Cpython => t.skipped = Some(e.to_string()),
                    Err(e) => return Err(engine(e)),
                }
                on_trial(t);
            }
        }
        let all_earlier: Vec<Report> = earlier.iter().cloned().chain(deps).collect();
        let m = Measured {
            trials: &done,
            cores,
            bandwidth,
            earlier: &all_earlier,
        };
        let (observed, verdict) = judge::judge(number, &m);
        Ok(Report {
            number,
            title: lesson.title,
            claim: lesson.claim,
            observed,
            verdict,
            trials: done,
            bandwidth,
        })
    }

    /// Runs every lesson in order, each judged with the reports before it.
    pub fn check_all(
        &self,
        cancel: &CancelToken,
        mut on_report: impl FnMut(&Report),
    ) -> Result<Vec<Report>, LessonError> {
        let mut reports: Vec<Report> = Vec::new();
        for lesson in LESSONS.iter() {
            let r = self.run(lesson.number, None, cancel, &reports, &mut |_| {})?;
            on_report(&r);
            reports.push(r);
        }
        Ok(reports)
    }
}
