//! One-click settings for a class: the three series of the source graph, and the demos of the
//! source texts as programs (count loop, bank race, downloads, NumPy dot), I/O-bound threads and
//! native code.

use gilscope_engine::build::Build;
use gilscope_engine::config::{Kernel, Mode, RunConfig, Runtime, Series};

/// A named set of settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Threading with the pure-Python kernel: the flat-or-rising line of the source graph.
    ThreadingPurePy,
    /// Threading with NumPy: falls, then levels off.
    ThreadingNumpy,
    /// Multiprocessing with NumPy: like threading, slightly faster.
    MultiprocNumpy,
    /// The count loop of the GIL text (`count.py`): 1 vs 2 threads, and processes.
    CountLoop,
    /// The bank race of seed 003 (`bank.py`): the GIL does not protect your data.
    BankRace,
    /// Seed 001's downloads (`download.py`): blocking waits release the GIL.
    Downloads,
    /// Seed 001's NumPy demo (`dot.py`): `np.dot` releases the GIL.
    NumpyDot,
    /// I/O-bound threads: threading works.
    IoThreads,
    /// Compiled code on a rayon pool, no GIL.
    Native,
    /// Pure-Python threads on the free-threaded build (3.13t): every core busy, no GIL lane.
    FreeThreaded,
    /// refcount.py with the GIL simply deleted: seed 001's box, reference counts drift.
    RefcountRace,
    /// Subinterpreters (3.12+): one GIL per interpreter, all in one process.
    Subinterpreters,
    /// count.py on this machine's real python3, observed from outside, beside the emulation.
    RealCpython,
    /// heat.py at a 20 ms switch interval: NumPy's brief releases starve the waiting thread.
    Starvation,
}

impl Preset {
    /// Every preset, in menu order.
    pub const ALL: [Preset; 14] = [
        Preset::ThreadingPurePy,
        Preset::ThreadingNumpy,
        Preset::MultiprocNumpy,
        Preset::CountLoop,
        Preset::BankRace,
        Preset::Downloads,
        Preset::NumpyDot,
        Preset::IoThreads,
        Preset::Native,
        Preset::FreeThreaded,
        Preset::RefcountRace,
        Preset::Subinterpreters,
        Preset::RealCpython,
        Preset::Starvation,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::ThreadingPurePy => "threading-purepy",
            Preset::ThreadingNumpy => "threading-numpy",
            Preset::MultiprocNumpy => "multiproc-numpy",
            Preset::CountLoop => "count-loop",
            Preset::BankRace => "bank-race",
            Preset::Downloads => "downloads",
            Preset::NumpyDot => "numpy-dot",
            Preset::IoThreads => "io-threads",
            Preset::Native => "native",
            Preset::FreeThreaded => "free-threaded",
            Preset::RefcountRace => "refcount-race",
            Preset::Subinterpreters => "subinterpreters",
            Preset::RealCpython => "real-cpython",
            Preset::Starvation => "starvation",
        }
    }

    /// The button label.
    pub fn label(self) -> &'static str {
        match self {
            Preset::ThreadingPurePy => "Threading+PurePy",
            Preset::ThreadingNumpy => "Threading+NumPy",
            Preset::MultiprocNumpy => "MultiProc+NumPy",
            Preset::CountLoop => "Count loop (count.py)",
            Preset::BankRace => "Bank race (bank.py)",
            Preset::Downloads => "Downloads (download.py)",
            Preset::NumpyDot => "NumPy dot (dot.py)",
            Preset::IoThreads => "I/O-bound threads",
            Preset::Native => "Native (no GIL)",
            Preset::FreeThreaded => "Free-threaded (3.13t)",
            Preset::RefcountRace => "Refcount race (no GIL)",
            Preset::Subinterpreters => "Subinterpreters",
            Preset::RealCpython => "Real CPython (count.py)",
            Preset::Starvation => "GIL starvation (20 ms)",
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
                threads: two,
                program: "count".to_owned(),
                params: vec![("N".to_owned(), "20000000".to_owned())],
                ..base
            },
            Preset::BankRace => RunConfig {
                threads: two,
                program: "bank".to_owned(),
                entry: Some("deposit_with_call".to_owned()),
                ..base
            },
            Preset::Downloads => RunConfig {
                threads: 4,
                program: "download".to_owned(),
                ..base
            },
            Preset::NumpyDot => RunConfig {
                threads: two,
                program: "dot".to_owned(),
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
            Preset::FreeThreaded => RunConfig {
                threads: two,
                problems: 40,
                interpreter: Build::FreeThreaded,
                ..base
            },
            Preset::RefcountRace => RunConfig {
                threads: two,
                program: "refcount".to_owned(),
                params: vec![("CALLS".to_owned(), "1000000".to_owned())],
                interpreter: Build::NoGilUnsafe,
                ..base
            },
            Preset::Subinterpreters => RunConfig {
                mode: Mode::Interpreters,
                threads: two,
                problems: 40,
                ..base
            },
            Preset::RealCpython => RunConfig {
                threads: two,
                program: "count".to_owned(),
                params: vec![("N".to_owned(), "20000000".to_owned())],
                runtime: Runtime::Cpython,
                ..base
            },
            Preset::Starvation => RunConfig {
                threads: two,
                problems: 60,
                switch_interval_micros: 20_000,
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
            // Seed 001: 2 threads 0.89x, 4 processes 3.57x.
            Preset::CountLoop => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                ],
                4,
            ),
            Preset::BankRace => (vec![t(Mode::Threading, Kernel::Python)], 2),
            Preset::Downloads => (vec![t(Mode::Threading, Kernel::Python)], 4),
            Preset::NumpyDot => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                ],
                (2 * cores).max(2),
            ),
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
            Preset::FreeThreaded => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Threading, Kernel::Python).on(Build::FreeThreaded),
                ],
                (2 * cores).max(2),
            ),
            Preset::RefcountRace => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Threading, Kernel::Python).on(Build::NoGilUnsafe),
                ],
                2,
            ),
            Preset::Subinterpreters => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Interpreters, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                ],
                (2 * cores).max(2),
            ),
            Preset::Starvation => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                ],
                2,
            ),
            Preset::RealCpython => (
                vec![
                    t(Mode::Threading, Kernel::Python),
                    t(Mode::Multiprocessing, Kernel::Python),
                    t(Mode::Threading, Kernel::Python).in_runtime(Runtime::Cpython),
                    t(Mode::Multiprocessing, Kernel::Python).in_runtime(Runtime::Cpython),
                ],
                2,
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
