//! The per-core utilisation sampler: reads the cores' CPU times at a fixed period on a named
//! thread.

use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::{Deserialize, Serialize};

use crate::trace::clock;
use crate::trace::cpustat::{busy_between, read_cpu_times};

/// Busy fraction of every core over one sampling period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoreSample {
    /// Start of the period, monotonic nanoseconds.
    pub start_ns: u64,
    /// End of the period, monotonic nanoseconds.
    pub end_ns: u64,
    /// Busy fraction (0 to 1) of each core, by core index.
    pub busy: Vec<f32>,
}

/// A running sampler; stop it to get every sample back.
pub struct Sampler {
    stop: Sender<()>,
    thread: Option<JoinHandle<Vec<CoreSample>>>,
}

impl Sampler {
    /// Starts sampling every `period`; each sample is also passed to `on_sample`.
    pub fn start(
        period: Duration,
        on_sample: impl Fn(&CoreSample) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (stop, stop_rx): (Sender<()>, Receiver<()>) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("gilscope-sampler".to_owned())
            .spawn(move || {
                let mut samples = Vec::new();
                let Some(mut prev) = read_cpu_times() else {
                    return samples;
                };
                let mut prev_ns = clock::now_ns();
                loop {
                    let stopped = !matches!(
                        stop_rx.recv_timeout(period),
                        Err(crossbeam_channel::RecvTimeoutError::Timeout)
                    );
                    if let Some(now) = read_cpu_times() {
                        let now_ns = clock::now_ns();
                        let s = CoreSample {
                            start_ns: prev_ns,
                            end_ns: now_ns,
                            busy: busy_between(&prev, &now),
                        };
                        on_sample(&s);
                        samples.push(s);
                        prev = now;
                        prev_ns = now_ns;
                    }
                    if stopped {
                        return samples;
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the sampler (taking one last sample) and returns all samples.
    pub fn stop(mut self) -> Vec<CoreSample> {
        let _ = self.stop.try_send(());
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Mean busy fraction per core over samples, weighted by their durations.
pub fn mean_busy(samples: &[CoreSample], cores: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; cores];
    let mut total_ns = 0.0f64;
    for s in samples {
        let w = s.end_ns.saturating_sub(s.start_ns) as f64;
        total_ns += w;
        for (acc, &b) in sum.iter_mut().zip(&s.busy) {
            *acc += b as f64 * w;
        }
    }
    if total_ns > 0.0 {
        sum.iter_mut().for_each(|v| *v /= total_ns);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_mean() {
        let s = |a, b, v: f32| CoreSample {
            start_ns: a,
            end_ns: b,
            busy: vec![v],
        };
        let m = mean_busy(&[s(0, 100, 1.0), s(100, 400, 0.0)], 1);
        assert!((m[0] - 0.25).abs() < 1e-9);
    }
}
