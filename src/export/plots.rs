//! Plot exports (filled in by the export work).
use crate::engine::events::GridFrame;
use crate::engine::summary::RunSummary;
use crate::engine::sweep::{SeriesStats, SweepSpec};
use crate::view::timeline::TimelineModel;
use anyhow::{Result, bail};
/// Title.
pub fn sweep_title(_s: &SweepSpec) -> String {
    String::new()
}
/// PNG.
pub fn sweep_png(_s: &[SeriesStats], _t: &str, _sp: bool) -> Result<Vec<u8>> {
    bail!("not yet")
}
/// SVG.
pub fn sweep_svg(_s: &[SeriesStats], _t: &str, _sp: bool) -> Result<Vec<u8>> {
    bail!("not yet")
}
/// PNG.
pub fn timeline_png(_m: &TimelineModel, _s: &RunSummary) -> Result<Vec<u8>> {
    bail!("not yet")
}
/// SVG.
pub fn timeline_svg(_m: &TimelineModel, _s: &RunSummary) -> Result<Vec<u8>> {
    bail!("not yet")
}
/// PNG.
pub fn grid_png(_g: &[GridFrame], _s: &RunSummary) -> Result<Vec<u8>> {
    bail!("not yet")
}
