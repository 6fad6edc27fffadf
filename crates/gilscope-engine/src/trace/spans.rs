//! Trace spans (who did what, on which core, when) and the cheap per-worker recorder.

use serde::{Deserialize, Serialize};

use crate::trace::clock;

/// What a worker was doing during a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SpanState {
    /// Running Python bytecode, holding the GIL.
    Python = 0,
    /// Waiting to take the GIL.
    GilWait = 1,
    /// Native work with the GIL released (array operations, compiled kernels).
    Native = 2,
    /// Blocked in I/O with the GIL released.
    Io = 3,
    /// A process being started.
    Spawn = 4,
    /// Moving data between processes.
    Ipc = 5,
    /// An instant: this worker asked the GIL holder to drop it (zero duration).
    DropRequest = 6,
    /// Observed on a core, where the GIL holder could not be read (real CPython only).
    OnCpu = 7,
    /// Observed asleep, GIL wait or I/O, where the two cannot be told apart (real CPython only).
    Sleeping = 8,
    /// An instant: this worker got the GIL after a starved wait, longer than 3 switch intervals
    /// without ever asking for a drop (zero duration).
    Starved = 9,
    /// Blocked on a lock of the program's own (a `join`, a `Lock`, a `Queue.get`, an `Event`),
    /// with the GIL released: waiting for another thread, not for the GIL.
    LockWait = 10,
    /// Observed on a core without the GIL for one sample, right after holding it or waiting for
    /// it: the GIL changing hands (`take_gil`/`drop_gil`), or the first moment of native work;
    /// from outside the two cannot be told apart (real CPython only).
    Handoff = 11,
}

impl SpanState {
    /// All states, in legend order.
    pub const ALL: [SpanState; 12] = [
        SpanState::Python,
        SpanState::GilWait,
        SpanState::Native,
        SpanState::Io,
        SpanState::Spawn,
        SpanState::Ipc,
        SpanState::DropRequest,
        SpanState::OnCpu,
        SpanState::Sleeping,
        SpanState::Starved,
        SpanState::LockWait,
        SpanState::Handoff,
    ];

    /// Number of states.
    pub const COUNT: usize = 12;

    /// Whether this state is an instant marker rather than a span of time.
    pub fn is_marker(self) -> bool {
        matches!(self, SpanState::DropRequest | SpanState::Starved)
    }

    /// The name used in traces and legends.
    pub fn name(self) -> &'static str {
        match self {
            SpanState::Python => "python",
            SpanState::GilWait => "gil_wait",
            SpanState::Native => "native",
            SpanState::Io => "io",
            SpanState::Spawn => "spawn",
            SpanState::Ipc => "ipc",
            SpanState::DropRequest => "drop_request",
            SpanState::OnCpu => "on_cpu",
            SpanState::Sleeping => "sleeping",
            SpanState::Starved => "starved",
            SpanState::LockWait => "lock_wait",
            SpanState::Handoff => "gil_handoff",
        }
    }

    /// A readable label for legends and hover text.
    pub fn label(self) -> &'static str {
        match self {
            SpanState::Python => "Python (holds GIL)",
            SpanState::GilWait => "waiting for GIL",
            SpanState::Native => "native, GIL released",
            SpanState::Io => "I/O, GIL released",
            SpanState::Spawn => "process start",
            SpanState::Ipc => "data transfer",
            SpanState::DropRequest => "drop request",
            SpanState::OnCpu => "on CPU (GIL not read)",
            SpanState::Sleeping => "sleeping (GIL wait or I/O)",
            SpanState::Starved => "starved GIL wait",
            SpanState::LockWait => "waiting on a lock (join, queue, event)",
            SpanState::Handoff => "GIL hand-off or first native moment (1 sample)",
        }
    }

    /// Whether a core is busy (running our code) in this state.
    pub fn uses_cpu(self) -> bool {
        matches!(
            self,
            SpanState::Python
                | SpanState::Native
                | SpanState::Spawn
                | SpanState::Ipc
                | SpanState::OnCpu
                | SpanState::Handoff
        )
    }

    /// Decodes the wire byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        Self::ALL.get(v as usize).copied()
    }
}

/// Marks a span whose core is unknown.
pub const NO_CPU: u32 = u32::MAX;

/// One interval of one worker in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Start, nanoseconds on `CLOCK_MONOTONIC`.
    pub start_ns: u64,
    /// End, nanoseconds on `CLOCK_MONOTONIC` (equal to start for instants).
    pub end_ns: u64,
    /// Process id.
    pub pid: u32,
    /// Kernel thread id.
    pub tid: u32,
    /// Worker index within the run.
    pub worker: u32,
    /// Core the span started on, or [`NO_CPU`].
    pub cpu: u32,
    /// What the worker was doing.
    pub state: SpanState,
}

impl Span {
    /// Duration in nanoseconds.
    pub fn dur_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// Bytes of one span on the wire.
    pub const WIRE_BYTES: usize = 8 + 8 + 4 + 4 + 4 + 4 + 1;

    /// Appends the little-endian wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.start_ns.to_le_bytes());
        out.extend_from_slice(&self.end_ns.to_le_bytes());
        out.extend_from_slice(&self.pid.to_le_bytes());
        out.extend_from_slice(&self.tid.to_le_bytes());
        out.extend_from_slice(&self.worker.to_le_bytes());
        out.extend_from_slice(&self.cpu.to_le_bytes());
        out.push(self.state as u8);
    }

    /// Reads the wire form written by [`Span::encode`].
    pub fn decode(b: &[u8]) -> Option<Span> {
        if b.len() != Self::WIRE_BYTES {
            return None;
        }
        let u64_at = |i: usize| b.get(i..i + 8)?.try_into().ok().map(u64::from_le_bytes);
        let u32_at = |i: usize| b.get(i..i + 4)?.try_into().ok().map(u32::from_le_bytes);
        let span = Span {
            start_ns: u64_at(0)?,
            end_ns: u64_at(8)?,
            pid: u32_at(16)?,
            tid: u32_at(20)?,
            worker: u32_at(24)?,
            cpu: u32_at(28)?,
            state: SpanState::from_u8(b[32])?,
        };
        (span.end_ns >= span.start_ns).then_some(span)
    }
}

/// How many spans a recorder buffers before it sends a batch.
const BATCH_SPANS: usize = 1024;
/// How long a recorder keeps spans before it sends a batch, in nanoseconds.
const BATCH_NS: u64 = 25_000_000;
/// A span running longer than this re-reads its core, in nanoseconds.
const CPU_RECHECK_NS: u64 = 1_000_000;
/// A new span re-reads its core only if the last read is older than this (a thread rarely moves
/// between cores faster; `sched_getcpu` is a third of a span's recording cost), in nanoseconds.
const CPU_REREAD_NS: u64 = 100_000;

/// Where a recorder sends its batches: the runtime that owns the worker gives it one.
pub trait SpanSink: Send {
    /// Offers one batch without blocking; `false` when it was refused (full or gone).
    fn offer(&self, batch: Vec<Span>) -> bool;
}

/// A boxed sink, as a recorder holds it.
pub type SpanSender = Box<dyn SpanSink>;

/// Records the state changes of one worker thread, cheaply and with bounded memory.
///
/// Time per state is summed exactly even if batches are dropped; a dropped batch is counted.
pub struct Recorder {
    worker: u32,
    pid: u32,
    tid: u32,
    state: Option<SpanState>,
    start_ns: u64,
    cpu: u32,
    cpu_read_ns: u64,
    batch: Vec<Span>,
    last_flush_ns: u64,
    out: Option<SpanSender>,
    totals_ns: [u64; SpanState::COUNT],
    dropped: u64,
    max_gil_wait_ns: u64,
    starvations: u64,
}

impl Recorder {
    /// A recorder for `worker` on the calling thread, sending batches to `out`.
    pub fn new(worker: usize, out: Option<SpanSender>) -> Self {
        Self {
            worker: worker as u32,
            pid: std::process::id(),
            tid: clock::current_tid(),
            state: None,
            start_ns: clock::now_ns(),
            cpu: NO_CPU,
            cpu_read_ns: 0,
            batch: Vec::with_capacity(BATCH_SPANS),
            last_flush_ns: clock::now_ns(),
            out,
            totals_ns: [0; SpanState::COUNT],
            dropped: 0,
            max_gil_wait_ns: 0,
            starvations: 0,
        }
    }

    /// The worker index.
    pub fn worker(&self) -> usize {
        self.worker as usize
    }

    /// Process id and thread id of the recording thread.
    pub fn ids(&self) -> (u32, u32) {
        (self.pid, self.tid)
    }

    /// The state now being recorded.
    pub fn state(&self) -> Option<SpanState> {
        self.state
    }

    /// Ends the current span (if any) now and starts one in `state`.
    pub fn enter(&mut self, state: SpanState) {
        if self.state == Some(state) {
            return;
        }
        self.enter_at(state, clock::now_ns());
    }

    /// Like [`Recorder::enter`], with the instant read earlier by the caller (`now` ≥ the open
    /// span's start): the old GIL closes its Python span at the moment it let the lock go.
    pub fn enter_at(&mut self, state: SpanState, now: u64) {
        if self.state == Some(state) {
            return;
        }
        let now = now.max(self.start_ns);
        self.close_at(now);
        self.state = Some(state);
        self.start_ns = now;
        if now.saturating_sub(self.cpu_read_ns) >= CPU_REREAD_NS {
            self.cpu = clock::current_cpu().unwrap_or(NO_CPU);
            self.cpu_read_ns = now;
        }
        self.maybe_flush(now);
    }

    /// Enters `next`, or [`Recorder::leave`]s when there is none.
    pub fn switch_to(&mut self, next: Option<SpanState>) {
        match next {
            Some(state) => self.enter(state),
            None => self.leave(),
        }
    }

    /// Ends the current span now and records nothing until the next [`Recorder::enter`].
    pub fn leave(&mut self) {
        let now = clock::now_ns();
        self.close_at(now);
        self.state = None;
        self.maybe_flush(now);
    }

    /// Records a zero-length marker such as a drop request.
    pub fn mark(&mut self, state: SpanState) {
        let now = clock::now_ns();
        self.push(Span {
            start_ns: now,
            end_ns: now,
            pid: self.pid,
            tid: self.tid,
            worker: self.worker,
            cpu: clock::current_cpu().unwrap_or(NO_CPU),
            state,
        });
    }

    /// Records a finished span measured elsewhere (for example a process start).
    pub fn record(&mut self, state: SpanState, start_ns: u64, end_ns: u64) {
        self.totals_ns[state as usize] += end_ns.saturating_sub(start_ns);
        self.push(Span {
            start_ns,
            end_ns: end_ns.max(start_ns),
            pid: self.pid,
            tid: self.tid,
            worker: self.worker,
            cpu: NO_CPU,
            state,
        });
    }

    /// Called now and then during long spans: splits the span if the thread moved to another core
    /// and sends batches that have waited long enough.
    pub fn tick(&mut self) {
        let now = clock::now_ns();
        if now.saturating_sub(self.start_ns) >= CPU_RECHECK_NS
            && let Some(state) = self.state
        {
            let cpu = clock::current_cpu().unwrap_or(NO_CPU);
            self.cpu_read_ns = now;
            if cpu != self.cpu {
                self.close_at(now);
                self.state = Some(state);
                self.start_ns = now;
                self.cpu = cpu;
            }
        }
        self.maybe_flush(now);
    }

    /// Sends whatever is buffered.
    pub fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_SPANS));
        self.last_flush_ns = clock::now_ns();
        let Some(out) = &self.out else {
            self.dropped += batch.len() as u64;
            return;
        };
        let n = batch.len() as u64;
        if !out.offer(batch) {
            self.dropped += n;
        }
    }

    /// Notes one finished wait for the GIL; a `starved` one is also marked on the trace.
    pub fn note_gil_wait(&mut self, waited_ns: u64, starved: bool) {
        self.max_gil_wait_ns = self.max_gil_wait_ns.max(waited_ns);
        if starved {
            self.starvations += 1;
            self.mark(SpanState::Starved);
        }
    }

    /// The longest GIL wait so far, ns.
    pub fn max_gil_wait_ns(&self) -> u64 {
        self.max_gil_wait_ns
    }

    /// Starved GIL waits so far.
    pub fn starvations(&self) -> u64 {
        self.starvations
    }

    /// Closes the open span, flushes, and returns the time per state and the dropped count.
    pub fn finish(&mut self) -> ([u64; SpanState::COUNT], u64) {
        self.leave();
        self.flush();
        (self.totals_ns, self.dropped)
    }

    /// Nanoseconds spent so far in each state (closed spans only).
    pub fn totals_ns(&self) -> [u64; SpanState::COUNT] {
        self.totals_ns
    }

    fn close_at(&mut self, now: u64) {
        if let Some(state) = self.state {
            self.totals_ns[state as usize] += now.saturating_sub(self.start_ns);
            self.push(Span {
                start_ns: self.start_ns,
                end_ns: now.max(self.start_ns),
                pid: self.pid,
                tid: self.tid,
                worker: self.worker,
                cpu: self.cpu,
                state,
            });
        }
    }

    fn push(&mut self, span: Span) {
        self.batch.push(span);
        if self.batch.len() >= BATCH_SPANS {
            self.flush();
        }
    }

    fn maybe_flush(&mut self, now: u64) {
        if now.saturating_sub(self.last_flush_ns) >= BATCH_NS {
            self.flush();
        }
    }
}

impl From<gilscope_python::vm::Release> for SpanState {
    fn from(why: gilscope_python::vm::Release) -> Self {
        match why {
            gilscope_python::vm::Release::Native => SpanState::Native,
            gilscope_python::vm::Release::Io => SpanState::Io,
            gilscope_python::vm::Release::Wait => SpanState::LockWait,
        }
    }
}

#[cfg(test)]
mod tests {
    /// A plain channel of batches is a sink for these tests.
    impl SpanSink for crossbeam_channel::Sender<Vec<Span>> {
        fn offer(&self, batch: Vec<Span>) -> bool {
            self.try_send(batch).is_ok()
        }
    }

    use super::*;

    #[test]
    fn wire_round_trip() {
        let s = Span {
            start_ns: 5,
            end_ns: 9,
            pid: 1,
            tid: 2,
            worker: 3,
            cpu: NO_CPU,
            state: SpanState::Ipc,
        };
        let mut buf = Vec::new();
        s.encode(&mut buf);
        assert_eq!(buf.len(), Span::WIRE_BYTES);
        assert_eq!(Span::decode(&buf), Some(s));
        buf[32] = 99;
        assert_eq!(Span::decode(&buf), None);
    }

    #[test]
    fn recorder_merges_repeats_and_counts_time() {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Span>>(8);
        let mut r = Recorder::new(0, Some(Box::new(tx)));
        r.enter(SpanState::Python);
        r.enter(SpanState::Python);
        r.enter(SpanState::GilWait);
        r.mark(SpanState::DropRequest);
        r.enter(SpanState::Python);
        let (totals, dropped) = r.finish();
        assert_eq!(dropped, 0);
        let mut spans = Vec::new();
        while let Ok(b) = rx.try_recv() {
            spans.extend(b);
        }
        let states: Vec<_> = spans.iter().map(|s| s.state).collect();
        assert_eq!(
            states,
            vec![
                SpanState::Python,
                SpanState::DropRequest,
                SpanState::GilWait,
                SpanState::Python
            ]
        );
        let py: u64 = spans
            .iter()
            .filter(|s| s.state == SpanState::Python)
            .map(Span::dur_ns)
            .sum();
        assert_eq!(py, totals[SpanState::Python as usize]);
    }

    #[test]
    fn full_channel_counts_drops() {
        let (tx, _rx) = crossbeam_channel::bounded::<Vec<Span>>(0);
        let mut r = Recorder::new(0, Some(Box::new(tx)));
        r.enter(SpanState::Native);
        r.enter(SpanState::Io);
        let (_, dropped) = r.finish();
        assert_eq!(dropped, 2);
    }
}
