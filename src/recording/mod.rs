//! Recordings (`.gilscope` files): everything needed to show runs and sweeps again anywhere, with
//! no noise: settings, spans, core samples, decimated heat frames, results and the machine.
//!
//! The file is a magic header, a format version, the uncompressed length, then zlib-compressed
//! JSON (whose Adler-32 catches corruption). Loading never holds more than the declared length,
//! itself capped at [`MAX_UNCOMPRESSED_BYTES`]. No GUI code here.

pub mod capture;
pub mod replay;

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use gilscope_engine::config::RunConfig;
use gilscope_engine::measure::sweep::SweepSpec;
use gilscope_engine::trace::events::{GridFrame, SweepPoint};
use gilscope_engine::trace::sampler::CoreSample;
use gilscope_engine::trace::spans::Span;
use gilscope_engine::trace::summary::{RunOutcome, RunSummary};

/// The first bytes of every recording (PNG-style: a high byte, a name, CR LF, ^Z, LF, so a
/// text-mode transfer that mangles line ends is caught).
pub const MAGIC: &[u8; 12] = b"\x89GILSCOPE\r\n\x1a";
/// The format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The largest recording this build loads, uncompressed.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 1 << 30;
/// Heat frames kept per worker and run (decimated evenly beyond that).
pub const MAX_FRAMES_PER_WORKER: usize = 120;
/// File name ending of recordings.
pub const EXTENSION: &str = "gilscope";

const HEADER_BYTES: usize = MAGIC.len() + 4 + 8;

/// Why a recording could not be read or written: one line each.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Not a recording at all.
    #[error("{0}: not a gilscope recording (no gilscope header)")]
    NotARecording(String),
    /// Written by a newer gilscope.
    #[error(
        "{path}: recording format {found} is newer than this gilscope reads (up to {FORMAT_VERSION}); update gilscope"
    )]
    Newer {
        /// The file.
        path: String,
        /// Its format version.
        found: u32,
    },
    /// Shorter than its header says.
    #[error("{0}: the recording is truncated")]
    Truncated(String),
    /// Damaged content.
    #[error("{path}: the recording is corrupt ({why})")]
    Corrupt {
        /// The file.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// Larger than this build loads.
    #[error(
        "{path}: the recording would take {bytes} bytes in memory, more than the {MAX_UNCOMPRESSED_BYTES} this build loads"
    )]
    TooLarge {
        /// The file.
        path: String,
        /// Its declared uncompressed size.
        bytes: u64,
    },
    /// Nothing to record.
    #[error("there is no finished run or sweep to record")]
    Empty,
}

/// The machine a recording was made on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Machine {
    /// Logical cores.
    pub cores: usize,
    /// The CPU's model name, where the platform says.
    pub cpu_model: String,
    /// The operating system (name and release where known).
    pub os: String,
    /// The CPU architecture.
    pub arch: String,
    /// The gilscope version that recorded.
    pub gilscope_version: String,
    /// The Python the runs used: the emulated CPython, or the real one's version.
    pub python: String,
}

impl Machine {
    /// This machine, now; `python` names the interpreter of the recorded runs.
    pub fn this(python: &str) -> Self {
        Self {
            cores: gilscope_engine::trace::clock::core_count(),
            cpu_model: cpu_model(),
            os: os_name(),
            arch: std::env::consts::ARCH.to_owned(),
            gilscope_version: env!("CARGO_PKG_VERSION").to_owned(),
            python: python.to_owned(),
        }
    }

    /// One line: `2 cores · AMD EPYC · Debian 12 · x86_64`.
    pub fn line(&self) -> String {
        format!(
            "{} cores · {} · {} · {} · {}",
            self.cores, self.cpu_model, self.os, self.arch, self.python
        )
    }
}

#[cfg(target_os = "linux")]
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

#[cfg(not(target_os = "linux"))]
fn cpu_model() -> String {
    "CPU model not read on this platform".to_owned()
}

#[cfg(target_os = "linux")]
fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .map_or_else(|| "Linux".to_owned(), |n| format!("Linux ({n})"))
}

#[cfg(not(target_os = "linux"))]
fn os_name() -> String {
    std::env::consts::OS.to_owned()
}

/// One heat frame as recorded: when, and the frame the live run published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedFrame {
    /// Nanoseconds after the run's start.
    pub at_ns: u64,
    /// The frame itself.
    #[serde(flatten)]
    pub frame: GridFrame,
}

/// One run as recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordedRun {
    /// Its settings.
    pub config: RunConfig,
    /// Its summary, exactly as the live run printed it.
    pub summary: RunSummary,
    /// Every span, sorted by start.
    pub spans: Vec<Span>,
    /// Core samples.
    pub core_samples: Vec<CoreSample>,
    /// Monotonic start, ns (on the recording machine's clock).
    pub start_ns: u64,
    /// Monotonic end, ns.
    pub end_ns: u64,
    /// Heat frames, decimated to at most [`MAX_FRAMES_PER_WORKER`] per worker.
    pub frames: Vec<RecordedFrame>,
}

impl RecordedRun {
    /// Records a finished run with its frames.
    pub fn new(config: &RunConfig, outcome: &RunOutcome, frames: Vec<RecordedFrame>) -> Self {
        Self {
            config: RunConfig {
                worker_exe: None,
                ..config.clone()
            },
            summary: outcome.summary.clone(),
            spans: outcome.spans.clone(),
            core_samples: outcome.core_samples.clone(),
            start_ns: outcome.start_ns,
            end_ns: outcome.end_ns,
            frames: decimate(frames),
        }
    }

    /// The run as the engine returned it, for the exports.
    pub fn outcome(&self) -> RunOutcome {
        RunOutcome {
            summary: self.summary.clone(),
            spans: self.spans.clone(),
            core_samples: self.core_samples.clone(),
            start_ns: self.start_ns,
            end_ns: self.end_ns,
        }
    }

    /// The last frame of each worker (what the live run's grid PNG shows).
    pub fn final_frames(&self) -> Vec<GridFrame> {
        let mut last: Vec<Option<&RecordedFrame>> = Vec::new();
        for f in &self.frames {
            let w = f.frame.worker as usize;
            if last.len() <= w {
                last.resize(w + 1, None);
            }
            last[w] = Some(f);
        }
        last.into_iter()
            .flatten()
            .map(|f| f.frame.clone())
            .collect()
    }
}

/// Keeps at most [`MAX_FRAMES_PER_WORKER`] frames per worker, evenly spaced, always the last.
pub fn decimate(mut frames: Vec<RecordedFrame>) -> Vec<RecordedFrame> {
    frames.sort_by_key(|f| (f.frame.worker, f.at_ns));
    let mut out = Vec::new();
    for chunk in frames.chunk_by(|a, b| a.frame.worker == b.frame.worker) {
        let n = chunk.len();
        if n <= MAX_FRAMES_PER_WORKER {
            out.extend_from_slice(chunk);
            continue;
        }
        for k in 0..MAX_FRAMES_PER_WORKER {
            let i = (k * (n - 1)) / (MAX_FRAMES_PER_WORKER - 1);
            out.push(chunk[i].clone());
        }
    }
    out.sort_by_key(|f| f.at_ns);
    out
}

/// A sweep as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedSweep {
    /// What was measured.
    pub spec: SweepSpec,
    /// Every point, in the order measured.
    pub points: Vec<SweepPoint>,
    /// Seconds the sweep took.
    pub wall_secs: f64,
}

/// A whole recording.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recording {
    /// Where it was made.
    pub machine: Machine,
    /// When, in seconds since 1970.
    pub created_unix_secs: u64,
    /// Runs, in order.
    pub runs: Vec<RecordedRun>,
    /// A sweep, if one was recorded.
    pub sweep: Option<RecordedSweep>,
}

impl Recording {
    /// An empty recording of this machine, now.
    pub fn new(python: &str) -> Self {
        Self {
            machine: Machine::this(python),
            created_unix_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            runs: Vec::new(),
            sweep: None,
        }
    }

    /// The file's bytes: header, then the compressed JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordingError> {
        if self.runs.is_empty() && self.sweep.is_none() {
            return Err(RecordingError::Empty);
        }
        let json = serde_json::to_vec(self).map_err(|e| RecordingError::Corrupt {
            path: "recording".to_owned(),
            why: e.to_string(),
        })?;
        let mut out = Vec::with_capacity(HEADER_BYTES + json.len() / 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
        z.write_all(&json)
            .and_then(|_| z.finish())
            .map_err(|source| RecordingError::Io {
                path: "recording".to_owned(),
                source,
            })
    }

    /// Reads a recording from `bytes` (named `path` in messages).
    pub fn from_reader(path: &str, mut r: impl Read) -> Result<Self, RecordingError> {
        let io = |source| RecordingError::Io {
            path: path.to_owned(),
            source,
        };
        let mut header = [0u8; HEADER_BYTES];
        let mut got = 0;
        while got < HEADER_BYTES {
            match r.read(&mut header[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            }
        }
        if got < MAGIC.len() || &header[..MAGIC.len()] != MAGIC {
            return Err(RecordingError::NotARecording(path.to_owned()));
        }
        if got < HEADER_BYTES {
            return Err(RecordingError::Truncated(path.to_owned()));
        }
        let word = |a: usize, b: usize| &header[a..b];
        let version = u32::from_le_bytes(
            word(MAGIC.len(), MAGIC.len() + 4)
                .try_into()
                .map_err(|_| RecordingError::Truncated(path.to_owned()))?,
        );
        if version > FORMAT_VERSION {
            return Err(RecordingError::Newer {
                path: path.to_owned(),
                found: version,
            });
        }
        if version == 0 {
            return Err(RecordingError::Corrupt {
                path: path.to_owned(),
                why: "format version 0".to_owned(),
            });
        }
        let declared = u64::from_le_bytes(
            word(MAGIC.len() + 4, HEADER_BYTES)
                .try_into()
                .map_err(|_| RecordingError::Truncated(path.to_owned()))?,
        );
        if declared > MAX_UNCOMPRESSED_BYTES {
            return Err(RecordingError::TooLarge {
                path: path.to_owned(),
                bytes: declared,
            });
        }
        // Never more than the declared length in memory, whatever the stream holds.
        let mut json = Vec::with_capacity(declared.min(64 << 20) as usize);
        let mut z = flate2::read::ZlibDecoder::new(r).take(declared + 1);
        match z.read_to_end(&mut json) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(RecordingError::Truncated(path.to_owned()));
            }
            Err(e) => {
                return Err(RecordingError::Corrupt {
                    path: path.to_owned(),
                    why: e.to_string(),
                });
            }
        }
        if (json.len() as u64) < declared {
            return Err(RecordingError::Truncated(path.to_owned()));
        }
        if json.len() as u64 > declared {
            return Err(RecordingError::Corrupt {
                path: path.to_owned(),
                why: "more data than the header declares".to_owned(),
            });
        }
        let mut rec: Recording =
            serde_json::from_slice(&json).map_err(|e| RecordingError::Corrupt {
                path: path.to_owned(),
                why: e.to_string(),
            })?;
        rec.check().map_err(|why| RecordingError::Corrupt {
            path: path.to_owned(),
            why,
        })?;
        Ok(rec)
    }

    /// Puts every run's spans in order and checks that every time lies within its run, so a
    /// replay's pace is bounded by the runs' real lengths.
    fn check(&mut self) -> Result<(), String> {
        const SLACK_NS: u64 = 1_000_000_000;
        const LONGEST_NS: u64 = 7 * 24 * 3600 * 1_000_000_000;
        if self.runs.is_empty() && self.sweep.is_none() {
            return Err("it holds no run and no sweep".to_owned());
        }
        for (i, run) in self.runs.iter_mut().enumerate() {
            let len = run
                .end_ns
                .checked_sub(run.start_ns)
                .filter(|&l| l <= LONGEST_NS);
            let Some(len) = len else {
                return Err(format!("run {} has no valid start and end", i + 1));
            };
            let end = run.end_ns.saturating_add(SLACK_NS);
            run.spans.sort_by_key(|s| s.start_ns);
            let bad_span = run
                .spans
                .iter()
                .any(|s| s.start_ns < run.start_ns || s.start_ns > end || s.end_ns < s.start_ns);
            let bad_sample = run.core_samples.iter().any(|c| c.end_ns > end);
            let bad_frame = run.frames.iter().any(|f| {
                f.at_ns > len.saturating_add(SLACK_NS)
                    || f.frame.cells.len()
                        != (f.frame.rows as usize).saturating_mul(f.frame.cols as usize)
            });
            if bad_span || bad_sample || bad_frame {
                return Err(format!("run {} has times outside the run", i + 1));
            }
            run.frames.sort_by_key(|f| f.at_ns);
        }
        Ok(())
    }

    /// Loads the recording at `path`.
    pub fn load(path: &Path) -> Result<Self, RecordingError> {
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| RecordingError::Io {
            path: name.clone(),
            source,
        })?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(RecordingError::Io {
                path: name,
                source: std::io::Error::other("is a directory"),
            });
        }
        Self::from_reader(&name, std::io::BufReader::new(f))
    }

    /// The run the views show: the last one.
    pub fn last_run(&self) -> Option<&RecordedRun> {
        self.runs.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recording {
        let mut r = Recording::new("emulated CPython 3.11");
        let summary = RunSummary {
            wall_secs: 1.25,
            checksum: 42.5,
            gil_switches: 17,
            ..RunSummary::default()
        };
        r.runs.push(RecordedRun {
            summary,
            spans: vec![Span {
                start_ns: 10,
                end_ns: 20,
                pid: 1,
                tid: 2,
                worker: 0,
                cpu: 1,
                state: gilscope_engine::trace::spans::SpanState::Python,
            }],
            frames: vec![RecordedFrame {
                at_ns: 5,
                frame: GridFrame {
                    worker: 0,
                    pid: 1,
                    tid: 2,
                    problem: 0,
                    iter: 3,
                    grid: 30,
                    rows: 2,
                    cols: 2,
                    cells: vec![0.0, 0.5, 1.0, 0.25].into(),
                },
            }],
            ..RecordedRun::default()
        });
        r
    }

    #[test]
    fn a_recording_reads_back_identical() {
        let r = sample();
        let bytes = r.to_bytes().unwrap();
        assert_eq!(&bytes[..MAGIC.len()], MAGIC);
        let back = Recording::from_reader("x", bytes.as_slice()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn damaged_files_are_refused_with_their_reason() {
        let bytes = sample().to_bytes().unwrap();
        for cut in [5, HEADER_BYTES - 1, HEADER_BYTES + 3, bytes.len() - 1] {
            let e = Recording::from_reader("x", &bytes[..cut]).unwrap_err();
            assert!(
                matches!(
                    e,
                    RecordingError::Truncated(_) | RecordingError::NotARecording(_)
                ),
                "cut at {cut}: {e}"
            );
        }
        let mut newer = bytes.clone();
        newer[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(matches!(
            Recording::from_reader("x", newer.as_slice()),
            Err(RecordingError::Newer { .. })
        ));
        let mut flipped = bytes.clone();
        let mid = HEADER_BYTES + (bytes.len() - HEADER_BYTES) / 2;
        flipped[mid] ^= 0x55;
        assert!(Recording::from_reader("x", flipped.as_slice()).is_err());
        let mut huge = bytes.clone();
        huge[MAGIC.len() + 4..HEADER_BYTES].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Recording::from_reader("x", huge.as_slice()),
            Err(RecordingError::TooLarge { .. })
        ));
        assert!(matches!(
            Recording::from_reader("x", &b"hello world, not a recording"[..]),
            Err(RecordingError::NotARecording(_))
        ));
    }

    #[test]
    fn decimation_keeps_the_last_frame_and_bounds_the_count() {
        let frames: Vec<RecordedFrame> = (0..1000)
            .map(|i| RecordedFrame {
                at_ns: i,
                frame: GridFrame {
                    worker: (i % 2) as u32,
                    pid: 0,
                    tid: 0,
                    problem: 0,
                    iter: i as u32,
                    grid: 3,
                    rows: 1,
                    cols: 1,
                    cells: vec![i as f32].into(),
                },
            })
            .collect();
        let kept = decimate(frames);
        assert_eq!(kept.len(), 2 * MAX_FRAMES_PER_WORKER);
        assert!(kept.iter().any(|f| f.frame.iter == 999));
        assert!(kept.iter().any(|f| f.frame.iter == 998));
    }
}
