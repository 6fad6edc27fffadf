//! What the coordinator and its workers say to each other: a worker's job, its result, and the
//! messages it sends while it runs (the same shapes cross a child process's pipe as JSON).

use serde::{Deserialize, Serialize};

use crate::build::Build;
use crate::config::{Kernel, RunConfig};
use crate::error::EngineError;
use crate::heat::workload;
use crate::program::WireValue;
use crate::trace::events::GridFrame;
use crate::trace::spans::Span;

/// One worker's assignment, as sent to a child process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerJob {
    /// Worker index.
    pub worker: usize,
    /// Run id (for frames).
    pub run_id: u64,
    /// Kernel to run.
    pub kernel: Kernel,
    /// Grid side.
    pub grid: usize,
    /// Iterations per problem.
    pub iters: usize,
    /// Index of the first problem.
    pub first_problem: usize,
    /// Boundary values of its problems.
    pub ics: Vec<f64>,
    /// GIL switch interval, µs.
    pub switch_interval_micros: u64,
    /// io kernel wait, µs.
    pub io_wait_micros: u64,
    /// Whether to publish grid frames.
    pub publish_frames: bool,
    /// The program: a bundled name or a path.
    #[serde(default)]
    pub program: String,
    /// Parameter values bound after the module's top level ran.
    #[serde(default)]
    pub params: Vec<(String, WireValue)>,
    /// The function the worker runs.
    #[serde(default)]
    pub entry: String,
    /// Its arguments (from the program's `share`).
    #[serde(default)]
    pub args: Vec<WireValue>,
    /// The interpreter build that runs it.
    #[serde(default)]
    pub interpreter: Build,
    /// Set when the worker is a script's own process (`multiprocessing`), forked from it.
    #[serde(default)]
    pub fork: Option<ForkJob>,
}

/// A process a script starts (a `Pool`'s worker, a `Process`): what `fork` would have copied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkJob {
    /// Its name (`ForkPoolWorker-1`, `Process-1`).
    pub name: String,
    /// Its module-level functions when it was forked.
    pub defs: Vec<ForkDef>,
    /// The rest of its module namespace then: what could be pickled.
    pub globals: Vec<(String, WireValue)>,
    /// Its module-level classes then, remade in the child by running their bodies again.
    #[serde(default)]
    pub classes: Vec<ForkClass>,
    /// A `Process` (its target's exception is printed there, and sets its exit code), not a
    /// pool's worker (whose tasks' exceptions go back to the caller).
    pub is_process: bool,
    /// `fork` (the namespace above is the child's), or `spawn`/`forkserver` (the child runs
    /// the module afresh as `__mp_main__`, without its `__main__` block).
    #[serde(default)]
    pub start_method: String,
}

/// A module-level function as a forked process remakes it: its code found by qualified name
/// (and first line) in the same file's compiled module, its defaults by value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkDef {
    /// The global name it is bound to.
    pub name: String,
    /// Its code's `co_qualname`.
    pub qualname: String,
    /// Its code's `co_firstlineno`.
    pub firstlineno: u32,
    /// Its positional defaults.
    pub defaults: Vec<WireValue>,
    /// Its keyword-only defaults.
    pub kwdefaults: Vec<(String, WireValue)>,
    /// Numba's `(nogil, parallel)` where the global is the function jitted (a dispatcher,
    /// which pickles by reference as the function does).
    #[serde(default)]
    pub jit: Option<(bool, bool)>,
}

/// A module-level class as a forked process remakes it: its body's code found by name in the
/// same file's compiled module and run again, over its bases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkClass {
    /// The global name it is bound to.
    pub name: String,
    /// Its `__name__` (its body's `co_qualname`).
    pub class_name: String,
    /// Its bases: the program's classes by name, the library's by where they are found.
    pub bases: Vec<WireValue>,
}

/// One call of a task as it crosses: positional arguments, then keyword arguments by name.
pub type WireCall = (Vec<WireValue>, Vec<(String, WireValue)>);

/// A task for a forked process, one JSON line on its stdin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkTask {
    /// Its number, echoed in the reply.
    pub id: u64,
    /// The function to call.
    pub func: WireValue,
    /// Its calls: positional and keyword arguments.
    pub calls: Vec<WireCall>,
}

/// An exception raised in a forked process, as it crosses back (pickled in CPython).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoteError {
    /// Its type's name.
    pub type_name: String,
    /// Its arguments (as `str` where they cannot be pickled).
    pub args: Vec<WireValue>,
    /// Its traceback as the process printed it (a pool's `RemoteTraceback`), if any.
    #[serde(default)]
    pub traceback: String,
}

/// A forked process's operation on an object its script shares (a queue's `put`, a value's
/// read), run in the script's process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcCall {
    /// Its number, echoed in the reply.
    pub call: u64,
    /// The shared object's number.
    pub object: u64,
    /// The operation's name.
    pub op: String,
    /// Its value operand.
    pub value: Option<WireValue>,
    /// Its index operand.
    pub index: Option<i64>,
    /// The calling process and thread (a lock's owner).
    pub owner: (u32, u64),
    /// How long it may wait there, µs.
    pub wait_micros: u64,
}

/// What a shared object's operation did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RpcOutcome {
    /// It finished with this result.
    Done(WireValue),
    /// It would have to wait longer.
    WouldBlock,
    /// It raised.
    Raised(RemoteError),
}

/// The script's answer to an [`RpcCall`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcReply {
    /// The call's number.
    pub call: u64,
    /// What it did.
    pub outcome: RpcOutcome,
}

/// A line the script writes to a forked process's stdin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToChild {
    /// A task to run.
    Task(ForkTask),
    /// The answer to one of its calls.
    Reply(RpcReply),
}

/// A forked process's answer to one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkReply {
    /// The task's number.
    pub id: u64,
    /// What its calls returned, or the exception one raised.
    pub outcome: Result<Vec<WireValue>, RemoteError>,
}

impl WorkerJob {
    pub(super) fn new(cfg: &RunConfig, run_id: u64, chunk: workload::Chunk) -> Self {
        Self {
            worker: chunk.worker,
            run_id,
            kernel: cfg.kernel,
            grid: cfg.grid,
            iters: cfg.iters,
            first_problem: chunk.first_problem,
            ics: chunk.ics,
            switch_interval_micros: cfg.switch_interval_micros,
            io_wait_micros: cfg.io_wait_micros,
            publish_frames: cfg.publish_frames,
            program: cfg.program.clone(),
            params: Vec::new(),
            entry: String::new(),
            args: Vec::new(),
            interpreter: cfg.interpreter,
            fork: None,
        }
    }
}

impl WorkerJob {
    /// The job a script's forked processes start from: the run's build and switch interval.
    pub(super) fn for_fork(cfg: &RunConfig, run_id: u64) -> Self {
        Self::new(
            cfg,
            run_id,
            workload::Chunk {
                worker: 0,
                first_problem: 0,
                ics: Vec::new(),
            },
        )
    }
}

/// What a worker reports when it is done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerResult {
    /// Worker index.
    pub worker: usize,
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// `(problem index, sum of its final grid)` for each problem solved (native mode).
    pub problem_sums: Vec<(usize, f64)>,
    /// What the entry function returned (interpreted modes).
    #[serde(default)]
    pub returned: Option<WireValue>,
    /// Calls of the program's state functions (heat: kernel applications).
    #[serde(default)]
    pub steps: u64,
    /// Nanoseconds per [`SpanState`].
    pub state_ns: Vec<u64>,
    /// Bytecode instructions executed.
    pub instructions: u64,
    /// CPU time of the worker, ns.
    pub cpu_ns: u64,
    /// Spans the worker could not deliver.
    pub dropped_spans: u64,
    /// GIL switches of the worker's own process (process mode only).
    pub gil_switches: u64,
    /// GIL drop requests of the worker's own process (process mode only).
    pub gil_drop_requests: u64,
    /// GIL releases of the worker's own interpreter (process and interpreters modes).
    #[serde(default)]
    pub gil_releases: u64,
    /// The worker's longest wait for the GIL, ns.
    #[serde(default)]
    pub max_gil_wait_ns: u64,
    /// Its starved GIL waits (longer than 3 switch intervals, never asking for a drop).
    #[serde(default)]
    pub gil_starvations: u64,
}

/// A message from a worker (or a child's pipe reader) to the coordinator.
#[derive(Debug)]
pub enum WorkerMsg {
    /// A child process is up.
    Hello {
        /// Worker index.
        worker: usize,
        /// Its pid.
        pid: u32,
        /// Its main thread id.
        tid: u32,
        /// When its `main` started, monotonic ns.
        ready_ns: u64,
    },
    /// A batch of spans.
    Spans(Vec<Span>),
    /// A grid snapshot.
    Frame(GridFrame),
    /// Iterations done by one worker so far.
    Progress {
        /// Worker index.
        worker: usize,
        /// Iterations done.
        iters_done: u64,
    },
    /// The worker finished.
    Done(Box<WorkerResult>),
    /// The worker failed.
    Failed {
        /// Worker index.
        worker: usize,
        /// Its pid.
        pid: u32,
        /// What went wrong.
        error: EngineError,
    },
    /// A forked process answered a task.
    TaskDone(ForkReply),
    /// A forked process operates on a shared object.
    Call(RpcCall),
    /// What a forked process's program wrote to its standard output or error.
    Output {
        /// To standard error.
        to_stderr: bool,
        /// The text.
        text: String,
    },
    /// A child's output pipe closed.
    Eof {
        /// Worker index.
        worker: usize,
    },
}

/// A worker's recorder sends its span batches to the coordinator as [`WorkerMsg::Spans`].
impl crate::trace::spans::SpanSink for crossbeam_channel::Sender<WorkerMsg> {
    fn offer(&self, batch: Vec<Span>) -> bool {
        self.try_send(WorkerMsg::Spans(batch)).is_ok()
    }
}
