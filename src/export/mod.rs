//! Files for slides and for other tools: plots as PNG and SVG, the trace as Chrome trace-event
//! JSON, sweeps as CSV, summaries as JSON. The CLI and the app write through the same code.

pub mod atomic;
pub mod data;
pub mod plots;

/// A file-name timestamp in UTC, `YYYYMMDD-HHMMSS`.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = plots::today().replace('-', "");
    let t = secs % 86_400;
    format!("{day}-{:02}{:02}{:02}", t / 3600, (t / 60) % 60, t % 60)
}
