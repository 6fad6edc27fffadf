//! The desktop app (filled in by the GUI work).
use std::path::PathBuf;
use std::process::ExitCode;
/// How the app is opened.
pub struct LaunchOptions {
    /// Preset.
    pub preset: Option<String>,
    /// Screenshot.
    pub screenshot: Option<PathBuf>,
}
/// Opens the window.
pub fn launch(_o: LaunchOptions) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
