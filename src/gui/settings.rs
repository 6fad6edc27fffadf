//! Settings that persist between launches (eframe storage, `serde(default)`), apart from the
//! runtime state of a session.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use gilscope_engine::build::Build;
use gilscope_engine::config::{RunConfig, Series};

/// What the user chose, remembered across launches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The run the Run button starts.
    pub run: RunConfig,
    /// The lines a sweep measures.
    pub sweep_series: Vec<Series>,
    /// A sweep goes from 1 to this many threads.
    pub sweep_max_threads: usize,
    /// Runs per sweep point.
    pub sweep_repeats: usize,
    /// The interpreter builds a sweep runs each series on (one line per series and build).
    pub sweep_interpreters: Vec<Build>,
    /// Dark theme (for projectors) instead of light.
    pub dark: bool,
    /// Presentation scale: large fonts for a projector.
    pub presentation: bool,
    /// Seconds the live timeline shows.
    pub live_window_secs: f64,
    /// Plot speedup instead of wall time.
    pub plot_speedup: bool,
    /// Where exports go; `None` means the pictures folder or the current folder.
    pub export_dir: Option<PathBuf>,
    /// Whether the teaching panel is open.
    pub show_teaching: bool,
    /// Start a run again when it ends, until Stop (a live picture to narrate over). Not kept
    /// between launches: a new launch never starts running by itself.
    #[serde(skip)]
    pub repeat_runs: bool,
    /// The lesson open in the Lessons panel (1-based), if any.
    pub lesson: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        let cores = gilscope_engine::trace::clock::core_count();
        Self {
            run: RunConfig {
                threads: 2,
                problems: 40,
                ..RunConfig::default()
            },
            sweep_series: Series::source_graph(),
            sweep_max_threads: (2 * cores).max(2),
            sweep_repeats: 3,
            sweep_interpreters: vec![Build::Gil],
            dark: false,
            presentation: false,
            live_window_secs: 2.0,
            plot_speedup: false,
            export_dir: None,
            show_teaching: true,
            repeat_runs: false,
            lesson: None,
        }
    }
}

impl Settings {
    /// The export folder: the setting, else `~/Pictures/gilscope`, else the current folder.
    pub fn export_folder(&self) -> PathBuf {
        if let Some(d) = &self.export_dir {
            return d.clone();
        }
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .map(|h| h.join("Pictures"))
            .filter(|p| p.is_dir())
            .map(|p| p.join("gilscope"))
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_or_partial_settings_load_with_defaults() {
        let s: Settings = serde_json::from_str(r#"{"dark": true, "run": {"threads": 3}}"#).unwrap();
        assert!(s.dark);
        assert_eq!(s.run.threads, 3);
        assert_eq!(s.run.grid, 30);
        assert_eq!(s.sweep_repeats, 3);
        let back: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn repeating_runs_is_not_remembered_for_the_next_launch() {
        let s = Settings {
            repeat_runs: true,
            ..Settings::default()
        };
        let next: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert!(!next.repeat_runs);
    }
}
