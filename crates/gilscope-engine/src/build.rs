//! CPython builds: which lock (if any) serialises the bytecode, and how objects count their
//! references. Each build is real behaviour of the VM, never a factor on a time.
//!
//! | build | lock | reference counts |
//! |---|---|---|
//! | `gil` (CPython 3.2–3.12, the default 3.13+ build) | [`crate::gil`]'s 3.11 GIL | plain load+store, safe under the GIL |
//! | `free-threaded` (PEP 703, 3.13t/3.14t) | none | biased: the owner thread plain, others atomic |
//! | `legacy-gil` (CPython ≤ 3.1) | released and retaken every 100 instructions | plain |
//! | `no-gil-unsafe` (the GIL simply deleted) | none | plain, racing: counts drift |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
pub use gilscope_python::vm::object::RefcountDiscipline;

/// The check interval of the old GIL (`sys.setcheckinterval`, default 100 instructions).
pub const LEGACY_CHECK_INTERVAL_INSTRUCTIONS: u64 = 100;

/// Which Python interpreter build runs the bytecode.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Build {
    /// CPython 3.11's GIL: timed waits, drop requests, forced switching.
    #[default]
    Gil,
    /// The free-threaded build (PEP 703): no GIL, biased reference counting, per-object locks.
    FreeThreaded,
    /// The GIL of CPython ≤ 3.1: released and retaken every 100 instructions, no forced switch.
    LegacyGil,
    /// What deleting the GIL without anything else would do: plain counts race and drift.
    NoGilUnsafe,
}

/// What serialises the bytecode of one interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    /// `Python/ceval_gil.c` of 3.11.
    Ceval,
    /// The pre-3.2 GIL: a plain lock released every `check_interval` instructions.
    Legacy {
        /// Instructions between releases.
        check_interval: u64,
    },
    /// No lock at all.
    None,
}

impl Build {
    /// Every variant, in the order the app lists them.
    pub const ALL: [Build; 4] = [
        Build::Gil,
        Build::FreeThreaded,
        Build::LegacyGil,
        Build::NoGilUnsafe,
    ];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Build::Gil => "gil",
            Build::FreeThreaded => "free-threaded",
            Build::LegacyGil => "legacy-gil",
            Build::NoGilUnsafe => "no-gil-unsafe",
        }
    }

    /// The label used in series names and the app (`GIL`, `free-threaded`…).
    pub fn label(self) -> &'static str {
        match self {
            Build::Gil => "GIL",
            Build::FreeThreaded => "free-threaded",
            Build::LegacyGil => "legacy GIL",
            Build::NoGilUnsafe => "no GIL, unsafe",
        }
    }

    /// The CPython versions this variant stands for.
    pub fn versions(self) -> &'static str {
        match self {
            Build::Gil => "CPython 3.2–3.14 (new GIL of 2009, 3.11 rules)",
            Build::FreeThreaded => "CPython 3.13t/3.14t (PEP 703, 2023; PEP 779, 2025)",
            Build::LegacyGil => "CPython ≤ 3.1 (sys.setcheckinterval, until 2009)",
            Build::NoGilUnsafe => "no CPython: a thought experiment",
        }
    }

    /// The lock this variant runs the bytecode under.
    pub fn lock(self) -> LockKind {
        match self {
            Build::Gil => LockKind::Ceval,
            Build::LegacyGil => LockKind::Legacy {
                check_interval: LEGACY_CHECK_INTERVAL_INSTRUCTIONS,
            },
            Build::FreeThreaded | Build::NoGilUnsafe => LockKind::None,
        }
    }

    /// Whether threads of one interpreter are serialised by a GIL.
    pub fn has_gil(self) -> bool {
        self.lock() != LockKind::None
    }

    /// How objects count references.
    pub fn refcount(self) -> RefcountDiscipline {
        match self {
            Build::FreeThreaded => RefcountDiscipline::Biased,
            _ => RefcountDiscipline::Plain,
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Build {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "gil" | "default" => Ok(Build::Gil),
            "free-threaded" | "freethreaded" | "nogil" | "3.13t" | "ft" => Ok(Build::FreeThreaded),
            "legacy-gil" | "legacy" | "old-gil" => Ok(Build::LegacyGil),
            "no-gil-unsafe" | "unsafe" => Ok(Build::NoGilUnsafe),
            other => Err(EngineError::Config(format!(
                "unknown interpreter '{other}' (expected gil, free-threaded, legacy-gil or no-gil-unsafe)"
            ))),
        }
    }
}

/// Parses a comma-separated list of interpreters (`gil,free-threaded`), without repeats.
pub fn parse_interpreter_list(s: &str) -> Result<Vec<Build>, EngineError> {
    crate::names::parse_name_list(
        s,
        "an interpreter list needs at least one of gil, free-threaded, legacy-gil, no-gil-unsafe",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lists_parse() {
        for i in Build::ALL {
            assert_eq!(i.name().parse::<Build>().unwrap(), i);
        }
        assert!("gill".parse::<Build>().is_err());
        assert_eq!(
            parse_interpreter_list("gil, free-threaded,gil").unwrap(),
            vec![Build::Gil, Build::FreeThreaded]
        );
        assert!(parse_interpreter_list(" , ").is_err());
    }

    #[test]
    fn only_the_gil_builds_serialise_bytecode() {
        assert!(Build::Gil.has_gil() && Build::LegacyGil.has_gil());
        assert!(!Build::FreeThreaded.has_gil() && !Build::NoGilUnsafe.has_gil());
        assert_eq!(Build::FreeThreaded.refcount(), RefcountDiscipline::Biased);
        assert_eq!(Build::NoGilUnsafe.refcount(), RefcountDiscipline::Plain);
    }
}
