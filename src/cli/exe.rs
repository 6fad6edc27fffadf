//! Where this program is, so that multiprocessing workers can be started as child processes.

use std::path::PathBuf;

/// The path of this program, for multiprocessing workers (`None` when it cannot be found).
pub fn self_exe() -> Option<PathBuf> {
    std::env::current_exe().ok().filter(|p| p.exists())
}
