//! Sweeps: wall time as a function of thread count, one series per mode and kernel, repeated;
//! and the aggregation (median, spread, speedup) every view of a sweep uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{MAX_THREADS, RunConfig, Series};
use crate::error::EngineError;
use crate::runtime::{CancelToken, run_blocking};
use crate::trace::clock;
use crate::trace::events::{EngineEvent, EventSink, SweepPoint};

/// What a sweep measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// The lines of the graph.
    pub series: Vec<Series>,
    /// Thread counts, ascending.
    pub threads: Vec<usize>,
    /// Runs per point.
    pub repeats: usize,
    /// Sizes and switch interval shared by every run (mode, kernel and threads are overridden).
    pub base: RunConfig,
    /// Run each series once first and discard it (caches, page faults, a process's first
    /// start), so that no series' first point pays for warming up.
    #[serde(default)]
    pub warmup: bool,
    /// A plain script's constant that is the thread axis (`NT`): each run sets it to the
    /// point's thread count, as `--param NT=4` would.
    #[serde(default)]
    pub thread_param: Option<String>,
}

impl SweepSpec {
    /// The source graph's series plus native, threads 1 to 2× the cores, 3 repeats.
    pub fn default_for(base: RunConfig) -> Self {
        let max = (2 * clock::core_count()).clamp(2, MAX_THREADS);
        Self {
            series: Series::source_graph(),
            threads: (1..=max).collect(),
            repeats: 3,
            base,
            warmup: true,
            thread_param: None,
        }
    }

    /// Number of runs the sweep makes.
    pub fn total_runs(&self) -> usize {
        self.series.len() * self.threads.len() * self.repeats
    }

    /// Checks the sweep and every run it will make.
    pub fn validate(&self) -> Result<(), EngineError> {
        if self.series.is_empty() {
            return Err(EngineError::Config(
                "a sweep needs at least one series".to_owned(),
            ));
        }
        if self.threads.is_empty() {
            return Err(EngineError::Config(
                "a sweep needs at least one thread count".to_owned(),
            ));
        }
        if self.repeats == 0 || self.repeats > 100 {
            return Err(EngineError::Config(format!(
                "repeats must be between 1 and 100, got {}",
                self.repeats
            )));
        }
        for &t in &self.threads {
            for &s in &self.series {
                self.config(s, t).validate()?;
            }
        }
        Ok(())
    }

    /// The configuration of one run of the sweep.
    pub fn config(&self, series: Series, threads: usize) -> RunConfig {
        let mut cfg = RunConfig {
            mode: series.mode,
            kernel: series.kernel,
            interpreter: series.interpreter,
            runtime: series.runtime,
            threads,
            ..self.base.clone()
        };
        if let Some(name) = &self.thread_param {
            cfg.params.retain(|(n, _)| n != name);
            cfg.params.push((name.clone(), threads.to_string()));
        }
        cfg
    }
}

/// Runs the sweep, thread count by thread count, series interleaved, so that slow drift of the
/// machine affects every series alike. Each point goes to `sink` as it is measured.
pub fn run_sweep(
    spec: &SweepSpec,
    sink: Option<&EventSink>,
    cancel: &CancelToken,
    mut on_point: impl FnMut(&SweepPoint),
) -> Result<Vec<SweepPoint>, EngineError> {
    let result = (|| {
        spec.validate()?;
        let total = spec.total_runs();
        let t0 = clock::now_ns();
        if spec.warmup {
            for &series in &spec.series {
                if cancel.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
                run_blocking(&spec.config(series, spec.threads[0]), None, cancel)?;
            }
        }
        let mut points = Vec::with_capacity(total);
        for &threads in &spec.threads {
            for repeat in 0..spec.repeats {
                for &series in &spec.series {
                    if cancel.is_cancelled() {
                        return Err(EngineError::Cancelled);
                    }
                    let outcome = run_blocking(&spec.config(series, threads), sink, cancel)?;
                    if let Some(po) = &outcome.summary.program_output
                        && po.exit_code != 0
                    {
                        return Err(EngineError::ScriptFailed {
                            file: spec.base.program.clone(),
                            status: po.exit_code,
                            threads,
                            runtime: if series.runtime == crate::config::Runtime::Cpython {
                                " on the real CPython"
                            } else {
                                ""
                            },
                            last_line: po.stderr.lines().last().unwrap_or("").trim().to_owned(),
                        });
                    }
                    let p = SweepPoint {
                        program: spec.base.program.clone(),
                        params: spec.base.params.clone(),
                        series,
                        threads,
                        repeat,
                        wall_secs: outcome.summary.wall_secs,
                        checksum: outcome.summary.checksum,
                    };
                    on_point(&p);
                    points.push(p.clone());
                    if let Some(sink) = sink {
                        sink.send(EngineEvent::SweepPoint(p));
                        sink.send(EngineEvent::SweepProgress {
                            done: points.len(),
                            total,
                            elapsed_secs: (clock::now_ns() - t0) as f64 / 1e9,
                        });
                    }
                }
            }
        }
        Ok(points)
    })();
    if let Some(sink) = sink {
        sink.send(EngineEvent::SweepFinished {
            cancelled: matches!(result, Err(EngineError::Cancelled)),
            error: match &result {
                Err(EngineError::Cancelled) | Ok(_) => None,
                Err(e) => Some(e.to_string()),
            },
        });
    }
    result
}

/// The repeats of one series at one thread count, summarised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointStats {
    /// Worker count.
    pub threads: usize,
    /// Median wall time, seconds.
    pub median_secs: f64,
    /// Fastest repeat, seconds.
    pub min_secs: f64,
    /// Slowest repeat, seconds.
    pub max_secs: f64,
    /// Number of repeats.
    pub repeats: usize,
    /// Median time at 1 thread divided by this median, if 1 thread was measured.
    pub speedup: Option<f64>,
}

/// One line of the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesStats {
    /// The series.
    pub series: Series,
    /// The program it ran.
    #[serde(default)]
    pub program: String,
    /// Its points, by ascending thread count.
    pub points: Vec<PointStats>,
}

impl SeriesStats {
    /// The label of the line.
    pub fn label(&self) -> String {
        self.series.label_in(&self.program)
    }
}

/// The median of a non-empty list (mean of the middle two for even lengths).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Groups points by series and thread count: median, spread, speedup against 1 thread.
pub fn aggregate(all: &[SweepPoint]) -> Vec<SeriesStats> {
    let points = all;
    let mut by: BTreeMap<Series, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    let mut order: Vec<Series> = Vec::new();
    for p in points {
        if !order.contains(&p.series) {
            order.push(p.series);
        }
        by.entry(p.series)
            .or_default()
            .entry(p.threads)
            .or_default()
            .push(p.wall_secs);
    }
    order
        .into_iter()
        .map(|series| {
            let per = &by[&series];
            let base = per.get(&1).map(|v| median(v));
            let points = per
                .iter()
                .map(|(&threads, v)| {
                    let m = median(v);
                    PointStats {
                        threads,
                        median_secs: m,
                        min_secs: v.iter().copied().fold(f64::INFINITY, f64::min),
                        max_secs: v.iter().copied().fold(0.0, f64::max),
                        repeats: v.len(),
                        speedup: base.filter(|_| m > 0.0).map(|b| b / m),
                    }
                })
                .collect();
            let program = all
                .iter()
                .find(|p| p.series == series)
                .map(|p| p.program.clone())
                .unwrap_or_default();
            SeriesStats {
                series,
                program,
                points,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Kernel, Mode};

    #[test]
    fn aggregates_medians_and_speedups() {
        let s = Series::new(Mode::Threading, Kernel::Numpy);
        let p = |threads, wall_secs| SweepPoint {
            series: s,
            program: String::new(),
            params: Vec::new(),
            threads,
            repeat: 0,
            wall_secs,
            checksum: 0.0,
        };
        let stats = aggregate(&[p(1, 4.0), p(1, 2.0), p(1, 3.0), p(2, 1.0), p(2, 2.0)]);
        assert_eq!(stats.len(), 1);
        let pts = &stats[0].points;
        assert_eq!(pts[0].median_secs, 3.0);
        assert_eq!(pts[1].median_secs, 1.5);
        assert_eq!(pts[1].speedup, Some(2.0));
        assert_eq!((pts[0].min_secs, pts[0].max_secs), (2.0, 4.0));
    }

    #[test]
    fn sweep_validation() {
        let mut spec = SweepSpec::default_for(RunConfig::default());
        assert!(spec.validate().is_ok());
        spec.repeats = 0;
        assert!(spec.validate().is_err());
        spec.repeats = 1;
        spec.base.grid = 1;
        assert!(spec.validate().is_err());
    }
}
