//! What every runtime does at a run's start: announce it, start the per-core sampler, and
//! compute the program parameters a configuration sets.

use std::time::Duration;

use crate::config::RunConfig;
use crate::error::EngineError;
use crate::trace::events::{EngineEvent, EventSink};
use crate::trace::sampler::Sampler;

/// Period of the per-core sampler.
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(100);

/// Tells the sink a run started (fresh frames, `RunStarted`) and starts the per-core sampler
/// that forwards its samples: the start every runtime makes.
pub(crate) fn announce_start(
    run_id: u64,
    cfg: &RunConfig,
    sink: Option<&EventSink>,
    cores: usize,
    start_ns: u64,
) -> Result<Sampler, EngineError> {
    if let Some(sink) = sink {
        sink.reset_frames(run_id);
        sink.send(EngineEvent::RunStarted {
            run_id,
            config: Box::new(cfg.clone()),
            cores,
            start_ns,
        });
    }
    let sampler_sink = sink.cloned();
    Sampler::start(SAMPLE_PERIOD, move |s| {
        if let Some(sink) = &sampler_sink {
            sink.send(EngineEvent::CoreSample {
                run_id,
                sample: s.clone(),
            });
        }
    })
    .map_err(|e| EngineError::io("could not start the core sampler", e))
}

/// The parameters a configuration sets: the heat program's sizes and kernel from the config
/// fields, then the user's `--param` values.
pub(crate) fn param_overrides(cfg: &RunConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if cfg.is_heat() {
        out.push(("N".to_owned(), cfg.grid.to_string()));
        out.push(("NP".to_owned(), cfg.problems.to_string()));
        out.push(("NITER".to_owned(), cfg.iters.to_string()));
        out.push(("KERNEL".to_owned(), cfg.kernel.name().to_owned()));
        out.push((
            "IO_WAIT".to_owned(),
            format!("{}", cfg.io_wait_micros as f64 / 1e6),
        ));
    }
    out.extend(cfg.params.iter().cloned());
    out
}
