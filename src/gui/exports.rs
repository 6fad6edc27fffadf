//! The app's exports: renders a view with the same code as the CLI and writes it, timestamped,
//! to the export folder; or copies an image to the clipboard.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::command::ExportTarget;
use super::session::Session;
use super::settings::Settings;
use crate::export::{atomic, data, plots};
use gilscope_engine::measure::sweep::{SweepSpec, aggregate};
use gilscope_engine::trace::summary::{RunOutcome, RunSummary};

fn summary(session: &Session) -> Result<&RunSummary> {
    session
        .last_summary
        .as_ref()
        .ok_or_else(|| anyhow!("no finished run yet: press Run first"))
}

fn outcome(session: &Session) -> Result<RunOutcome> {
    let s = summary(session)?;
    let m = session
        .timeline
        .as_ref()
        .ok_or_else(|| anyhow!("no timeline yet: press Run first"))?;
    Ok(RunOutcome {
        summary: s.clone(),
        spans: m.trace_spans(),
        core_samples: m.core_samples.clone(),
        start_ns: m.start_ns,
        end_ns: m.end_ns.unwrap_or(m.last_ns),
    })
}

/// File name stem and extension of a target.
pub fn file_name(target: ExportTarget) -> (&'static str, &'static str) {
    match target {
        ExportTarget::SweepPng => ("time-vs-threads", "png"),
        ExportTarget::SweepSvg => ("time-vs-threads", "svg"),
        ExportTarget::SweepCsv => ("sweep", "csv"),
        ExportTarget::TimelinePng => ("timeline", "png"),
        ExportTarget::TimelineSvg => ("timeline", "svg"),
        ExportTarget::GridPng => ("heat-grid", "png"),
        ExportTarget::TraceJson => ("trace", "json"),
        ExportTarget::SummaryJson => ("summary", "json"),
    }
}

/// The bytes of an export.
pub fn render(session: &Session, settings: &Settings, target: ExportTarget) -> Result<Vec<u8>> {
    let sweep = || -> Result<(Vec<gilscope_engine::measure::sweep::SeriesStats>, String)> {
        if session.sweep_points.is_empty() {
            bail!("no sweep yet: press Run sweep first");
        }
        let spec = SweepSpec {
            series: settings.sweep_series.clone(),
            threads: vec![1],
            repeats: settings.sweep_repeats,
            base: settings.run.clone(),
            warmup: false,
            thread_param: None,
        };
        Ok((
            aggregate(&session.sweep_points),
            plots::sweep_title(&spec, settings.plot_speedup),
        ))
    };
    let timeline = || -> Result<crate::view::timeline::TimelineModel> {
        let mut m = session
            .timeline
            .clone()
            .ok_or_else(|| anyhow!("no timeline yet: press Run first"))?;
        m.prepare();
        Ok(m)
    };
    match target {
        ExportTarget::SweepPng => {
            let (stats, title) = sweep()?;
            plots::sweep_png(&stats, &title, settings.plot_speedup, session.cores)
        }
        ExportTarget::SweepSvg => {
            let (stats, title) = sweep()?;
            plots::sweep_svg(&stats, &title, settings.plot_speedup, session.cores)
        }
        ExportTarget::SweepCsv => {
            sweep()?;
            Ok(data::sweep_csv(&session.sweep_points).into_bytes())
        }
        ExportTarget::TimelinePng => plots::timeline_png(&timeline()?, summary(session)?),
        ExportTarget::TimelineSvg => plots::timeline_svg(&timeline()?, summary(session)?),
        ExportTarget::GridPng => {
            let frames: Vec<_> = session.frames.iter().flatten().cloned().collect();
            plots::grid_png(&frames, summary(session)?)
        }
        ExportTarget::TraceJson => Ok(data::chrome_trace_json(&outcome(session)?).into_bytes()),
        ExportTarget::SummaryJson => Ok(data::summary_json(summary(session)?).into_bytes()),
    }
}

/// Renders and writes an export into `folder` with a timestamped name; returns the path.
pub fn export(
    session: &Session,
    settings: &Settings,
    target: ExportTarget,
    folder: &Path,
) -> Result<PathBuf> {
    let bytes = render(session, settings, target)?;
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let (stem, ext) = file_name(target);
    let path = folder.join(format!(
        "gilscope-{stem}-{}.{ext}",
        crate::export::timestamp()
    ));
    atomic::write_atomic(&path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Copies a rendered PNG to the clipboard, where the platform allows.
pub fn copy_image(
    clipboard: &mut Option<arboard::Clipboard>,
    session: &Session,
    settings: &Settings,
    target: ExportTarget,
) -> Result<()> {
    let png = render(session, settings, target)?;
    let img = image::load_from_memory(&png)
        .context("could not decode the image")?
        .to_rgba8();
    let board = match clipboard {
        Some(b) => b,
        None => clipboard
            .insert(arboard::Clipboard::new().context("there is no clipboard to copy to here")?),
    };
    board
        .set_image(arboard::ImageData {
            width: img.width() as usize,
            height: img.height() as usize,
            bytes: std::borrow::Cow::Owned(img.into_raw()),
        })
        .context("the clipboard refused the image")?;
    Ok(())
}
