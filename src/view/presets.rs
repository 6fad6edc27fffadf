//! One-click settings for a class: the three series of the source graph, the count-loop demo,
//! I/O-bound threads, and native code.

use crate::engine::config::{Kernel, Mode, RunConfig, Series};

/// A named set of settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Threading with the pure-Python kernel: the flat-or-rising line of the source graph.
    ThreadingPurePy,
    /// Threading with NumPy: falls, then levels off.
    ThreadingNumpy,
    /// Multiprocessing with NumPy: like threading, slightly faster.
    MultiprocNumpy,
    /// The count loop of the GIL text: 1 vs 2 pure-Python threads.
    CountLoop,
    /// I/O-bound threads: threading works.
    IoThreads,
    /// Compiled code on a rayon pool, no GIL.
    Native,
}

impl Preset {
    /// Every preset, in menu order.
    pub const ALL: [Preset; 6] = [
        Preset::ThreadingPurePy,
        Preset::ThreadingNumpy,
        Preset::MultiprocNumpy,
        Preset::CountLoop,
        Preset::IoThreads,
        Preset::Native,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::ThreadingPurePy => "threading-purepy",
            Preset::ThreadingNumpy => "threading-numpy",
            Preset::MultiprocNumpy => "multiproc-numpy",
            Preset::CountLoop => "count-loop",
            Preset::IoThreads => "io-threads",
            Preset::Native => "native",
        }
    }

    /// The button label.
    pub fn label(self) -> &'static str {
        match self {
            Preset::ThreadingPurePy => "Threading+PurePy",
            Preset::ThreadingNumpy => "Threading+NumPy",
            Preset::MultiprocNumpy => "MultiProc+NumPy",
            Preset::CountLoop => "Count loop: 1 vs 2 threads",
            Preset::IoThreads => "I/O-bound threads",
            Preset::Native => "Native (no GIL)",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Preset> {
        Self::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// The run this preset sets up, for a machine with `cores` cores.
    pub fn config(self, cores: usize) -> RunConfig {
        let base = RunConfig::default();
        let two = 2usize;
        match self {
            Preset::ThreadingPurePy => RunConfig {
                mode: Mode::Threading,
                kernel: Kernel::Python,
                threads: two,
                problems: 40,
                ..base
            },
            Preset::ThreadingNumpy => RunConfig {
                mode: Mode::Threading,
                kernel: Kernel::Numpy,
                threads: two,
                grid: 200,
                problems: 40,
                ..base
            },
            Preset::MultiprocNumpy => RunConfig {
                mode: Mode::Multiprocessing,
                kernel: Kernel::Numpy,
                threads: two,
                grid: 200,
                problems: 40,
                ..base
            },
            Preset::CountLoop => RunConfig {
                mode: Mode::Threading,
                kernel: Kernel::Python,
                threads: two,
                problems: 20,
                ..base
            },
            Preset::IoThreads => RunConfig {
                mode: Mode::Threading,
                kernel: Kernel::Io,
                threads: 4,
                problems: 40,
                iters: 20,
                ..base
            },
            Preset::Native => RunConfig {
                mode: Mode::Native,
                kernel: Kernel::Numpy,
                threads: cores.max(1),
                grid: 512,
                problems: 8,
                iters: 60,
                ..base
            },
        }
    }

    /// The series a sweep of this preset compares, and up to how many threads. Each list only
    /// holds series that finish in seconds at the preset's sizes (pure Python at grid 200 would
    /// take minutes).
    pub fn sweep(self, cores: usize) -> (Vec<Series>, usize) {
        let t = |m, k| Series::new(m, k);
        match self {
            Preset::ThreadingPurePy => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                ],
                (2 * cores).max(2),
            ),
            Preset::ThreadingNumpy | Preset::MultiprocNumpy => (
                vec![
                    t(Mode::Threading, Kernel::Numpy),
                    t(Mode::Multiprocessing, Kernel::Numpy),
                    t(Mode::Native, Kernel::Numpy),
                ],
                (2 * cores).max(2),
            ),
            Preset::CountLoop => (vec![t(Mode::Threading, Kernel::Python)], 2),
            Preset::IoThreads => (
                vec![
                    t(Mode::Threading, Kernel::Io),
                    t(Mode::Threading, Kernel::Python),
                ],
                (4 * cores).max(4),
            ),
            Preset::Native => (
                vec![
                    t(Mode::Native, Kernel::Numpy),
                    t(Mode::Threading, Kernel::Numpy),
                ],
                (2 * cores).max(2),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_named() {
        for p in Preset::ALL {
            assert_eq!(Preset::from_name(p.name()), Some(p));
            assert!(p.config(2).validate().is_ok(), "{p:?}");
            assert!(!p.sweep(2).0.is_empty());
        }
        assert_eq!(Preset::from_name("nope"), None);
    }
}
