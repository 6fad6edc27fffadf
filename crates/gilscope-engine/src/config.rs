//! What a run is: mode, kernel, sizes, GIL switch interval; parsing and validation of each.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::build::Build;
use crate::error::EngineError;

/// How the workers run: the three ways the source texts compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// OS threads in this process sharing one emulated GIL.
    Threading,
    /// Real child processes, each with its own GIL.
    Multiprocessing,
    /// A rayon pool running compiled code, no GIL at all.
    Native,
    /// One OS thread per subinterpreter in this process, each with its own GIL and its own
    /// module (PEP 684/734).
    Interpreters,
}

/// Who runs the Python program: gilscope's own interpreter, or the real CPython on this machine
/// observed from outside.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// gilscope's bytecode interpreter under its emulated GIL.
    #[default]
    Emulated,
    /// The user's `python3` running the same file, observed through `/proc` and its memory.
    Cpython,
}

impl Runtime {
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Emulated => "emulated",
            Runtime::Cpython => "cpython",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "emulated" | "emulation" | "gilscope" => Ok(Runtime::Emulated),
            "cpython" | "python" | "real" => Ok(Runtime::Cpython),
            other => Err(EngineError::Config(format!(
                "unknown runtime '{other}' (expected emulated or cpython)"
            ))),
        }
    }
}

/// What each worker computes per iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// The source's `py_update`, interpreted bytecode that holds the GIL.
    Python,
    /// The source's `num_update`, whole-array operations that release the GIL.
    Numpy,
    /// A blocking wait with the GIL released, a little interpreted work, then `num_update`.
    Io,
    /// Compiled code only (native mode): the STREAM triad `a = b + 3·c` over three arrays of
    /// grid² doubles, far larger than the last-level cache at the default size: memory-bound.
    Stream,
}

impl Mode {
    /// All modes, in the order the app steps through them.
    pub const ALL: [Mode; 4] = [
        Mode::Threading,
        Mode::Multiprocessing,
        Mode::Interpreters,
        Mode::Native,
    ];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Threading => "threading",
            Mode::Multiprocessing => "multiprocessing",
            Mode::Native => "native",
            Mode::Interpreters => "interpreters",
        }
    }

    /// The label of the source graph's series (`Threading`, `MultiProc`…).
    pub fn label(self) -> &'static str {
        match self {
            Mode::Threading => "Threading",
            Mode::Multiprocessing => "MultiProc",
            Mode::Native => "Native",
            Mode::Interpreters => "Interpreters",
        }
    }

    /// Whether every worker has its own interpreter (its own GIL and module).
    pub fn own_interpreter_per_worker(self) -> bool {
        matches!(self, Mode::Multiprocessing | Mode::Interpreters)
    }

    /// Whether the workers of this mode run Python bytecode under a GIL.
    pub fn has_gil(self) -> bool {
        self != Mode::Native
    }
}

impl Kernel {
    /// All kernels, in the order the app lists them.
    pub const ALL: [Kernel; 4] = [Kernel::Python, Kernel::Numpy, Kernel::Io, Kernel::Stream];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Python => "python",
            Kernel::Numpy => "numpy",
            Kernel::Io => "io",
            Kernel::Stream => "stream",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "threading" | "threads" | "thread" => Ok(Mode::Threading),
            "multiprocessing" | "multiproc" | "processes" | "mp" => Ok(Mode::Multiprocessing),
            "native" | "rayon" => Ok(Mode::Native),
            "interpreters" | "subinterpreters" | "interp" => Ok(Mode::Interpreters),
            other => Err(EngineError::Config(format!(
                "unknown mode '{other}' (expected threading, multiprocessing, interpreters or native)"
            ))),
        }
    }
}

impl FromStr for Kernel {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "python" | "py" | "purepy" => Ok(Kernel::Python),
            "numpy" | "num" | "np" => Ok(Kernel::Numpy),
            "io" => Ok(Kernel::Io),
            "stream" | "triad" => Ok(Kernel::Stream),
            other => Err(EngineError::Config(format!(
                "unknown kernel '{other}' (expected python, numpy, io or stream)"
            ))),
        }
    }
}

/// One line of the time-vs-threads graph: a mode, a kernel and an interpreter variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Series {
    /// How the workers run.
    pub mode: Mode,
    /// What they compute.
    pub kernel: Kernel,
    /// Which interpreter build runs them.
    #[serde(default)]
    pub interpreter: Build,
    /// gilscope's interpreter or the real CPython.
    #[serde(default)]
    pub runtime: Runtime,
}

impl Series {
    /// Makes a series on the default (GIL) interpreter, emulated.
    pub fn new(mode: Mode, kernel: Kernel) -> Self {
        Self {
            mode,
            kernel,
            interpreter: Build::Gil,
            runtime: Runtime::Emulated,
        }
    }

    /// The same series on another runtime.
    pub fn in_runtime(self, runtime: Runtime) -> Self {
        Self { runtime, ..self }
    }

    /// The same series on another interpreter.
    pub fn on(self, interpreter: Build) -> Self {
        Self {
            interpreter,
            ..self
        }
    }

    /// ` (free-threaded)` for a variant other than the default, else nothing.
    fn interpreter_suffix(self) -> String {
        if self.runtime == Runtime::Cpython {
            " (real CPython)".to_owned()
        } else if self.mode == Mode::Native || self.interpreter == Build::Gil {
            String::new()
        } else {
            format!(" ({})", self.interpreter.label())
        }
    }

    /// The label of the source graph (`Threading+PurePy`, `MultiProc+NumPy`, `Native`, …), with
    /// the interpreter when it is not the default (`Threading+PurePy (free-threaded)`).
    pub fn label(self) -> String {
        let mode = self.mode.label();
        let base = match (self.mode, self.kernel) {
            (Mode::Native, Kernel::Numpy) => "Native".to_owned(),
            (_, Kernel::Python) => format!("{mode}+PurePy"),
            (_, Kernel::Numpy) => format!("{mode}+NumPy"),
            (_, Kernel::Io) => format!("{mode}+IO"),
            (_, Kernel::Stream) => format!("{mode}+Stream"),
        };
        base + &self.interpreter_suffix()
    }

    /// The label for a run of `program`: the source graph's labels for heat.py, else the mode
    /// and the file (`Threading (count.py)`), since other programs have no kernel.
    pub fn label_in(self, program: &str) -> String {
        if program.is_empty() || program == HEAT {
            return self.label();
        }
        let file = std::path::Path::new(program)
            .file_stem()
            .and_then(|f| f.to_str())
            .unwrap_or(program);
        let suffix = self.interpreter_suffix();
        if suffix.is_empty() {
            format!("{} ({file}.py)", self.mode.label())
        } else {
            let variant = suffix.trim().trim_start_matches('(').trim_end_matches(')');
            format!("{} ({file}.py, {variant})", self.mode.label())
        }
    }

    /// The `mode:kernel` spelling used on the command line.
    pub fn spec(self) -> String {
        format!("{}:{}", self.mode, self.kernel)
    }

    /// The series of the source graph plus native, the default of a sweep.
    pub fn source_graph() -> Vec<Series> {
        vec![
            Series::new(Mode::Threading, Kernel::Python),
            Series::new(Mode::Threading, Kernel::Numpy),
            Series::new(Mode::Multiprocessing, Kernel::Numpy),
            Series::new(Mode::Native, Kernel::Numpy),
        ]
    }
}

impl FromStr for Series {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mode, kernel) = s.split_once(':').ok_or_else(|| {
            EngineError::Config(format!(
                "series '{s}' must be written mode:kernel, e.g. threading:python"
            ))
        })?;
        Ok(Series::new(mode.parse()?, kernel.parse()?))
    }
}

/// Largest number of workers a run may have.
pub const MAX_THREADS: usize = 256;
/// Largest grid side.
pub const MAX_GRID: usize = 20_000;
/// Largest number of problems.
pub const MAX_PROBLEMS: usize = 1_000_000;
/// Largest number of iterations per problem.
pub const MAX_ITERS: usize = 1_000_000;
/// Largest GIL switch interval, in microseconds (10 s).
pub const MAX_SWITCH_INTERVAL_MICROS: u64 = 10_000_000;
/// Largest blocking wait of the io kernel, in microseconds (1 s).
pub const MAX_IO_WAIT_MICROS: u64 = 1_000_000;

/// Everything that defines one run of the benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    /// How the workers run.
    pub mode: Mode,
    /// What they compute.
    pub kernel: Kernel,
    /// Number of workers (threads or processes), `NT` in the source.
    pub threads: usize,
    /// Grid side `N`.
    pub grid: usize,
    /// Number of problems `np`, split over the workers.
    pub problems: usize,
    /// Kernel applications per problem (`Niter`).
    pub iters: usize,
    /// The GIL switch interval (`sys.setswitchinterval`), in microseconds.
    pub switch_interval_micros: u64,
    /// The blocking wait of the io kernel, in microseconds.
    pub io_wait_micros: u64,
    /// Whether workers publish grid frames for display.
    pub publish_frames: bool,
    /// The program started for multiprocessing workers; `None` means this program.
    #[serde(skip)]
    pub worker_exe: Option<PathBuf>,
    /// The Python program: a bundled name (`heat`, `count`, `bank`, `download`, `dot`) or a
    /// path to a `.py` file.
    pub program: String,
    /// The function each worker runs; `None` means the program's `ENTRY`.
    pub entry: Option<String>,
    /// `NAME=VALUE` overrides of the program's UPPERCASE parameters.
    pub params: Vec<(String, String)>,
    /// Which interpreter build runs the bytecode (its lock and reference counting).
    pub interpreter: Build,
    /// gilscope's interpreter, or the real CPython observed from outside.
    pub runtime: Runtime,
    /// The Python the cpython runtime starts (a name on `PATH` or a path).
    pub python: String,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Threading,
            kernel: Kernel::Python,
            threads: 1,
            grid: 30,
            problems: 100,
            iters: 30,
            switch_interval_micros: 5_000,
            io_wait_micros: 2_000,
            publish_frames: true,
            worker_exe: None,
            program: HEAT.to_owned(),
            entry: None,
            params: Vec::new(),
            interpreter: Build::Gil,
            runtime: Runtime::Emulated,
            python: "python3".to_owned(),
        }
    }
}

/// The name of the source benchmark's program.
pub const HEAT: &str = "heat";

impl RunConfig {
    /// Whether the program is the heat benchmark (whose sizes and kernel the config fields set).
    pub fn is_heat(&self) -> bool {
        self.program == HEAT
    }

    /// For the heat program, its `N`, `NP`, `NITER`, `KERNEL` and `IO_WAIT` parameters written into
    /// the matching fields (which the native runner and the progress bar read); otherwise as is.
    pub fn with_heat_params(&self) -> Result<RunConfig, EngineError> {
        let mut c = self.clone();
        if !c.is_heat() {
            return Ok(c);
        }
        let bad =
            |n: &str, v: &str| EngineError::Config(format!("--param {n}: '{v}' is not valid here"));
        let int = |n: &str, v: &str| -> Result<usize, EngineError> {
            v.trim().replace('_', "").parse().map_err(|_| bad(n, v))
        };
        for (name, value) in &self.params {
            match name.as_str() {
                "N" => c.grid = int(name, value)?,
                "NP" => c.problems = int(name, value)?,
                "NITER" => c.iters = int(name, value)?,
                "KERNEL" => c.kernel = value.parse()?,
                "IO_WAIT" => {
                    let secs: f64 = value.trim().parse().map_err(|_| bad(name, value))?;
                    if !(0.0..=MAX_IO_WAIT_MICROS as f64 / 1e6).contains(&secs) {
                        return Err(bad(name, value));
                    }
                    c.io_wait_micros = (secs * 1e6).round() as u64;
                }
                _ => continue,
            }
        }
        c.params
            .retain(|(n, _)| !matches!(n.as_str(), "N" | "NP" | "NITER" | "KERNEL" | "IO_WAIT"));
        Ok(c)
    }

    /// The series (mode and kernel) of this run.
    pub fn series(&self) -> Series {
        Series::new(self.mode, self.kernel)
            .on(self.interpreter)
            .in_runtime(self.runtime)
    }

    /// The switch interval in milliseconds, as `sys.getswitchinterval()` reports it (×1000).
    pub fn switch_interval_ms(&self) -> f64 {
        self.switch_interval_micros as f64 / 1000.0
    }

    /// Whether this run is a plain script: run as `python FILE` would run it, its own threads
    /// (and on the real CPython its processes) the workers, none of gilscope's program
    /// conventions applied.
    pub fn is_script(&self) -> bool {
        crate::program::is_script(&self.program)
    }

    /// Checks every setting and says clearly which one is wrong.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |msg: String| Err(EngineError::Config(msg));
        if self.mode == Mode::Native && !self.is_heat() {
            return bad(format!(
                "native mode runs compiled kernels of heat.py only, not {}",
                self.program
            ));
        }
        if self.kernel == Kernel::Stream
            && (self.mode != Mode::Native || self.runtime != Runtime::Emulated)
        {
            return bad(format!(
                "the stream kernel is compiled code with no Python version: use --mode native \
                 (not {} on the {} runtime)",
                self.mode, self.runtime
            ));
        }
        if self.mode == Mode::Interpreters && self.is_heat() && self.kernel != Kernel::Python {
            return bad(format!(
                "--mode interpreters cannot run the {} kernel: NumPy does not support \
                 subinterpreters (numpy#24755); use --kernel python or --mode multiprocessing",
                self.kernel
            ));
        }
        if self.threads == 0 || self.threads > MAX_THREADS {
            return bad(format!(
                "threads must be between 1 and {MAX_THREADS}, got {}",
                self.threads
            ));
        }
        if self.grid < 3 || self.grid > MAX_GRID {
            return bad(format!(
                "grid must be between 3 and {MAX_GRID}, got {}",
                self.grid
            ));
        }
        if self.problems == 0 || self.problems > MAX_PROBLEMS {
            return bad(format!(
                "problems must be between 1 and {MAX_PROBLEMS}, got {}",
                self.problems
            ));
        }
        if self.iters == 0 || self.iters > MAX_ITERS {
            return bad(format!(
                "iters must be between 1 and {MAX_ITERS}, got {}",
                self.iters
            ));
        }
        if self.switch_interval_micros == 0
            || self.switch_interval_micros > MAX_SWITCH_INTERVAL_MICROS
        {
            return bad(format!(
                "switch interval must be above 0 and at most {} ms, got {} ms",
                MAX_SWITCH_INTERVAL_MICROS / 1000,
                self.switch_interval_ms()
            ));
        }
        if self.io_wait_micros > MAX_IO_WAIT_MICROS {
            return bad(format!(
                "io wait must be at most {} ms, got {} ms",
                MAX_IO_WAIT_MICROS / 1000,
                self.io_wait_micros as f64 / 1000.0
            ));
        }
        let need = self.memory_needed_bytes();
        if let Some(avail) = crate::machine::available_memory_bytes()
            && need > avail / 2
        {
            return bad(format!(
                "grid {} with {} workers needs about {:.1} GiB, more than half of the {:.1} GiB available",
                self.grid,
                self.threads.min(self.problems),
                need as f64 / GIB,
                avail as f64 / GIB
            ));
        }
        Ok(())
    }

    /// Memory the run needs at its peak: one grid per busy worker plus the numpy temporaries.
    pub fn memory_needed_bytes(&self) -> u64 {
        let cells = (self.grid as u64).saturating_mul(self.grid as u64);
        let grids_per_worker = match self.kernel {
            Kernel::Python => 1,
            Kernel::Numpy | Kernel::Io => 5,
            Kernel::Stream => 3,
        };
        cells
            .saturating_mul(8)
            .saturating_mul(grids_per_worker)
            .saturating_mul(self.threads.min(self.problems) as u64)
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Parses a thread range such as `1-8`, `4` or `1,2,4,8` into a sorted list of counts.
pub fn parse_thread_list(s: &str) -> Result<Vec<usize>, EngineError> {
    let bad = || {
        EngineError::Config(format!(
            "thread list '{s}' must look like 1-8, 4 or 1,2,4,8 with counts from 1 to {MAX_THREADS}"
        ))
    };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let a: usize = a.trim().parse().map_err(|_| bad())?;
            let b: usize = b.trim().parse().map_err(|_| bad())?;
            if a == 0 || b < a || b > MAX_THREADS {
                return Err(bad());
            }
            out.extend(a..=b);
        } else {
            let n: usize = part.parse().map_err(|_| bad())?;
            if n == 0 || n > MAX_THREADS {
                return Err(bad());
            }
            out.push(n);
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes_kernels_and_series() {
        assert_eq!("Threading".parse::<Mode>().unwrap(), Mode::Threading);
        assert!("gpu".parse::<Mode>().is_err());
        let s: Series = "multiprocessing:numpy".parse().unwrap();
        assert_eq!(s.label(), "MultiProc+NumPy");
        assert_eq!(
            Series::new(Mode::Threading, Kernel::Python).label(),
            "Threading+PurePy"
        );
        assert_eq!(Series::new(Mode::Native, Kernel::Numpy).label(), "Native");
        assert!("threading".parse::<Series>().is_err());
    }

    #[test]
    fn thread_lists() {
        assert_eq!(parse_thread_list("1-4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_thread_list("8,1,2,2").unwrap(), vec![1, 2, 8]);
        assert!(parse_thread_list("0-3").is_err());
        assert!(parse_thread_list("4-2").is_err());
        assert!(parse_thread_list("x").is_err());
        assert!(parse_thread_list("").is_err());
    }

    #[test]
    fn validation_names_the_bad_setting() {
        let ok = RunConfig::default();
        assert!(ok.validate().is_ok());
        let cases = [
            RunConfig {
                threads: 0,
                ..ok.clone()
            },
            RunConfig {
                threads: 100_000,
                ..ok.clone()
            },
            RunConfig {
                grid: 2,
                ..ok.clone()
            },
            RunConfig {
                problems: 0,
                ..ok.clone()
            },
            RunConfig {
                iters: 0,
                ..ok.clone()
            },
            RunConfig {
                switch_interval_micros: 0,
                ..ok.clone()
            },
        ];
        for c in cases {
            assert!(matches!(c.validate(), Err(EngineError::Config(_))), "{c:?}");
        }
        let huge = RunConfig {
            grid: MAX_GRID,
            threads: 64,
            problems: 64,
            ..ok
        };
        let err = huge.validate().unwrap_err().to_string();
        assert!(err.contains("GiB"), "{err}");
    }
}
