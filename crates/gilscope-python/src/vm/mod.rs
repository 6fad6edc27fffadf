//! A stack-based bytecode interpreter for the instructions CPython 3.11 compiles a program's
//! functions to (see [`crate::compiler`]), polling the GIL's eval breaker exactly where
//! 3.11 does: `RESUME`, `JUMP_BACKWARD`, `POP_JUMP_BACKWARD_IF_*`, and `CALL` once a C function
//! returns (a call of a Python function checks at the callee's `RESUME`).

pub mod asyncio;
mod asyncio_sync;
mod attrs;
pub mod bigint;
mod builtins;
pub mod bytes;
mod call;
pub mod class;
pub mod code;
pub mod collections;
mod coroutine;
pub mod dict;
pub mod exception;
pub mod file;
mod format;
pub mod functools;
pub mod futures;
pub mod generator;
pub mod globals;
pub mod legacy;
pub mod lock;
pub mod logging;
pub mod memory;
pub mod methods;
pub mod modules;
pub mod mp_shared;
pub mod multiprocessing;
mod namedtuple;
pub mod npscalar;
pub mod numba;
mod numpy;
pub mod object;
mod ops;
pub mod queue;
pub mod random;
pub mod set;
pub mod set_methods;
mod small_builtins;
pub mod sync;
pub mod thread;
mod threading;
pub mod timer;
pub mod traceback;
pub mod urllib;
mod user_modules;
pub mod value;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub use call::Kwargs;
use code::{BinOp, Code, Op};
use generator::{Exit, FrameState, GenObj, Resume, Sent};
pub use globals::Globals;
use object::Obj;
use value::{ArrayObj, Builtin, CellObj, Function, StdModule, Value};

pub use numpy::pairwise_sum;

/// Pushes onto a frame's value stack, always inlined: the dispatch loop is too large for the
/// compiler to inline `Vec::push` into it by itself, and the call (with the value passed through
/// memory) took a tenth of heat.py's kernel.
#[inline(always)]
fn push(stack: &mut Vec<Value>, v: Value) {
    if stack.len() == stack.capacity() {
        grow(stack);
    }
    let len = stack.len();
    // SAFETY: `len < capacity` (ensured just above), so the slot at `len` is allocated and holds
    // no value; it is written before the length is raised to cover it.
    unsafe {
        stack.as_mut_ptr().add(len).write(v);
        stack.set_len(len + 1);
    }
}

/// Makes room on a value stack (rare: a frame's stack is made with room for most code).
#[cold]
#[inline(never)]
fn grow(stack: &mut Vec<Value>) {
    stack.reserve(16);
}

/// `clone` with the eval loop's common cases inlined (numbers, index pairs, arrays).
#[inline(always)]
fn fast_clone(v: &Value) -> Value {
    match v {
        Value::Float(f) => Value::Float(*f),
        Value::Int(i) => Value::Int(*i),
        Value::IntPair(a, b) => Value::IntPair(*a, *b),
        Value::Array(a) => Value::Array(a.clone()),
        other => other.clone(),
    }
}

/// Whether a value owns no heap object, so dropping it is a no-op.
#[inline(always)]
fn is_inline(v: &Value) -> bool {
    matches!(
        v,
        Value::Null | Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_)
    )
}

/// `a op b` on constants (for the compiler's folding); `None` where Python would raise.
pub fn fold_binary(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    ops::binary(op, a, b).ok()
}

/// `v[i]` on constants (for the compiler's folding); `None` where Python would raise.
pub fn fold_subscript(v: &Value, i: &Value) -> Option<Value> {
    ops::subscript(v, i).ok()
}

/// How deep Python calls may nest by default (CPython's default recursion limit).
pub const MAX_DEPTH: usize = 1000;

/// The stack an interpreter thread should be started with: room for the default recursion
/// limit's Python frames (each nests several Rust calls); reserved, not committed, until used.
pub const STACK_BYTES: usize = 64 << 20;

/// Stack kept free below the deepest Python call: past it, a `RecursionError` is raised
/// whatever the limit says, never a stack overflow.
const STACK_RESERVE_BYTES: usize = 256 << 10;

/// CPython's `RecursionError` once calls nest `limit` deep or the thread's stack runs low.
fn recursion_check(depth: usize, limit: usize) -> Result<(), VmError> {
    if depth >= limit || stacker::remaining_stack().is_some_and(|r| r < STACK_RESERVE_BYTES) {
        return Err(VmError::py(
            "RecursionError",
            "maximum recursion depth exceeded",
        ));
    }
    Ok(())
}

/// Why interpretation stopped early.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The run was cancelled at a checkpoint.
    #[error("cancelled")]
    Cancelled,
    /// A Python exception, with the file and line where it was raised once known (boxed, so
    /// that the eval loop's `Result` stays two words).
    #[error("{}", fmt_py(&.0.exc, &.0.msg, &.0.at))]
    Py(Box<PyException>),
    /// The host failed (for example a pipe to the parent broke); the host's own error inside.
    #[error("{0}")]
    Host(Box<dyn std::error::Error + Send + Sync>),
}

/// A Python exception raised by the program.
#[derive(Debug, Clone)]
pub struct PyException {
    /// The exception type's name (`NameError`, `TypeError`…).
    pub exc: Arc<str>,
    /// Its message.
    pub msg: String,
    /// `(file, line)` of the instruction that raised it.
    pub at: Option<(Arc<str>, u32)>,
    /// The frames it unwound, innermost first.
    pub traceback: Vec<traceback::TraceEntry>,
    /// The exception object, once a handler saw it or the program raised one.
    pub value: Option<Value>,
}

fn fmt_py(exc: &str, msg: &str, at: &Option<(Arc<str>, u32)>) -> String {
    match at {
        Some((file, line)) => format!("{file}:{line}: {exc}: {msg}"),
        None => format!("{exc}: {msg}"),
    }
}

impl VmError {
    /// A Python exception of type `exc`.
    pub fn py(exc: &'static str, msg: impl Into<String>) -> Self {
        VmError::Py(Box::new(PyException {
            exc: Arc::from(exc),
            msg: msg.into(),
            at: None,
            traceback: Vec::new(),
            value: None,
        }))
    }

    /// A `TypeError`.
    pub fn type_error(msg: impl Into<String>) -> Self {
        Self::py("TypeError", msg)
    }

    /// Located at `pc` of `code`, and that frame added to the traceback.
    fn traced(self, code: &Code, pc: usize) -> Self {
        let mut e = self.locate(code, pc);
        if let VmError::Py(p) = &mut e {
            p.traceback.push(traceback::TraceEntry {
                file: Arc::clone(&code.filename),
                line: code.line_at(pc),
                function: Arc::clone(&code.name),
                position: code.position_at(pc),
            });
        }
        e
    }

    fn locate(mut self, code: &Code, pc: usize) -> Self {
        if let VmError::Py(e) = &mut self
            && e.at.is_none()
        {
            e.at = Some((Arc::clone(&code.filename), code.line_at(pc)));
        }
        self
    }
}

/// Why the GIL is released around a piece of work (`Py_BEGIN_ALLOW_THREADS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Native work: NumPy's inner loops, BLAS.
    Native,
    /// A blocking wait: `time.sleep`, I/O.
    Io,
    /// Waiting for another thread of the program: a `join`, a lock, a queue.
    Wait,
}

/// What the interpreter needs from the thread that runs it: the GIL and the reporting hooks.
pub trait Host {
    /// Runs the eval-breaker handler: drop and re-take the GIL on request, stop on cancel;
    /// `instructions` is the thread's count so far (the old GIL releases every 100).
    fn handle_eval_breaker(&mut self, instructions: u64) -> Result<(), VmError>;
    /// Called every few thousand checkpoints, for cheap housekeeping.
    fn tick(&mut self);
    /// `Py_BEGIN_ALLOW_THREADS`: release the GIL for work of kind `why`.
    fn begin_allow_threads(&mut self, why: Release);
    /// `Py_END_ALLOW_THREADS`: take the GIL back.
    fn end_allow_threads(&mut self) -> Result<(), VmError>;
    /// A function marked as reporting the program's state returned; `grid` is its first argument.
    fn on_state(&mut self, grid: &ArrayObj) -> Result<(), VmError>;
    /// A blocking wait of `secs` seconds (called with the GIL released).
    fn sleep(&mut self, secs: f64) -> Result<(), VmError>;
    /// Text the program wrote to its standard output (`print` adds its own `end`).
    fn write_stdout(&mut self, text: &str);
    /// Starts `thread` on a new OS thread that runs its target (called holding the GIL).
    fn start_thread(&mut self, _thread: &Obj<thread::ThreadObj>) -> Result<(), VmError> {
        Err(VmError::py("RuntimeError", "can't start new thread"))
    }
    /// The next `N` of a `Thread-N` name: `threading._counter`, one count per program run.
    fn next_thread_number(&mut self) -> u64 {
        1
    }
    /// Called while blocked with the GIL released (a `join`): an error stops the wait.
    fn poll_cancel(&mut self) -> Result<(), VmError> {
        Ok(())
    }
    /// Text the program wrote to its standard error.
    fn write_stderr(&mut self, text: &str) {
        self.write_stdout(text);
    }
    /// `sys.argv`.
    fn argv(&self) -> Vec<String> {
        Vec::new()
    }
    /// `sys.getswitchinterval()`: the GIL's switch interval in seconds.
    fn switch_interval_secs(&self) -> f64 {
        0.005
    }
    /// `sys.setswitchinterval(secs)`.
    fn set_switch_interval_secs(&mut self, _secs: f64) {}
    /// The next `N` of a `ThreadPoolExecutor-N` name, counted from 0 in each run.
    fn next_executor_number(&mut self) -> u64 {
        0
    }
    /// CPU time of the calling interpreter thread (`time.thread_time`), where the host counts it.
    fn thread_cpu_secs(&mut self) -> Option<f64> {
        None
    }
    /// CPU time of the program's threads (`time.process_time`), where the host counts it.
    fn process_cpu_secs(&mut self) -> Option<f64> {
        None
    }
    /// The next `N` of an asyncio `Task-N` name, counted from 1 in each run.
    fn next_task_number(&mut self) -> u64 {
        1
    }
    /// Every thread the program started, the main thread first (`threading.enumerate`).
    fn threads(&self) -> Vec<Obj<thread::ThreadObj>> {
        Vec::new()
    }
    /// Starts one worker process per name, forked (as Linux's `fork` start method does) from
    /// the program's state now: its module namespace `globals`.
    fn start_processes(
        &mut self,
        _names: Vec<String>,
        _kind: multiprocessing::ForkKind,
        _globals: &Arc<Globals>,
    ) -> Result<Arc<dyn multiprocessing::Processes>, VmError> {
        Err(VmError::py(
            "NotImplementedError",
            "this run cannot start worker processes (multiprocessing needs a plain script)",
        ))
    }
    /// `multiprocessing.get_start_method()`: the method processes start by, fixed (to `fork`
    /// when none was set) if `fix`; `None` while none is set and `fix` is false.
    fn start_method(&mut self, _fix: bool) -> Option<String> {
        Some("fork".to_owned())
    }
    /// `multiprocessing.set_start_method(method, force)`.
    fn set_start_method(&mut self, _method: &str, _force: bool) -> Result<(), VmError> {
        Ok(())
    }
    /// The next `N` of a `Process-N` or `ForkPoolWorker-N` name: one count per program run.
    fn next_process_number(&mut self) -> u64 {
        1
    }
    /// `sys._is_gil_enabled()`, on the builds that have it (`None`: 3.11, which has not).
    fn is_gil_enabled(&self) -> Option<bool> {
        None
    }
    /// Line `line` of the program's file `file`, for a warning.
    fn source_line(&self, _file: &str, _line: u32) -> Option<String> {
        None
    }
    /// `multiprocessing.current_process().name`: `MainProcess`, or a worker's own name.
    fn process_name(&self) -> String {
        "MainProcess".to_owned()
    }
    /// Numba's threading layer: starts each chunk of a `prange` loop on a thread of its pool,
    /// which runs without the GIL and answers on the channel with the chunk's index; the
    /// chunks given back where the host has no such pool (the caller then runs them itself).
    fn start_prange(
        &mut self,
        chunks: Vec<numba::PrangeChunk>,
    ) -> Result<std::sync::mpsc::Receiver<numba::ChunkResult>, Vec<numba::PrangeChunk>> {
        Err(chunks)
    }
    /// A note, shown with the run's results, on what gilscope stood in for (Numba's
    /// compiled code, run in the interpreter).
    fn note(&mut self, _text: String) {}
}

/// The interpreter state of one thread.
pub struct Vm<'a, H: Host> {
    host: &'a mut H,
    breaker: &'a AtomicU32,
    globals: Arc<Globals>,
    snapshot: Vec<Value>,
    /// The namespace's generation when `snapshot` was taken.
    snapshot_generation: u64,
    instructions: u64,
    checkpoints: u64,
    depth: usize,
    /// The names `KW_NAMES` gave the next `CALL`'s last arguments.
    kwnames: Option<Arc<[Value]>>,
    /// The `threading.Thread` this interpreter runs, once the host says.
    current_thread: Option<Obj<thread::ThreadObj>>,
    /// The exception being handled (`tstate->exc_info`), `None` outside handlers.
    exc_info: Value,
    /// The event loop `asyncio.run` is running on this thread.
    running_loop: Option<Box<asyncio::EventLoop>>,
    /// A warning a builtin gave, shown with its caller's line once the call returns.
    pending_warning: Option<(&'static str, &'static str)>,
    /// Calls into Numba-compiled code under way: switch requests go unanswered.
    compiled_depth: u32,
    /// Calls under way that run without the GIL (Numba's `nogil`, a thread of its pool):
    /// releasing and taking the GIL are no-ops.
    nogil_depth: u32,
    /// The code of the `parallel=True` function running, whose `prange` loops are split.
    parallel_code: Option<Arc<Code>>,
    /// The range the last `prange()` call in that function made, for its `GET_ITER`.
    prange_pending: Option<(i64, i64, i64)>,
}

const TICK_EVERY_CHECKPOINTS: u64 = 4096;

fn underflow() -> VmError {
    VmError::py("SystemError", "stack underflow")
}

impl<'a, H: Host> Vm<'a, H> {
    /// An interpreter for one thread of the process whose module namespace is `globals`.
    pub fn new(host: &'a mut H, breaker: &'a AtomicU32, globals: Arc<Globals>) -> Self {
        let (snapshot_generation, snapshot) = globals.snapshot();
        Self {
            host,
            breaker,
            globals,
            snapshot,
            snapshot_generation,
            instructions: 0,
            checkpoints: 0,
            depth: 0,
            kwnames: None,
            current_thread: None,
            exc_info: Value::None,
            running_loop: None,
            pending_warning: None,
            compiled_depth: 0,
            nogil_depth: 0,
            parallel_code: None,
            prange_pending: None,
        }
    }

    /// `Py_BEGIN_ALLOW_THREADS`, unless this thread already runs without the GIL.
    pub(super) fn begin_allow_threads(&mut self, why: Release) {
        if self.nogil_depth == 0 {
            self.host.begin_allow_threads(why);
        }
    }

    /// `Py_END_ALLOW_THREADS`, unless this thread runs without the GIL.
    pub(super) fn end_allow_threads(&mut self) -> Result<(), VmError> {
        if self.nogil_depth == 0 {
            self.host.end_allow_threads()
        } else {
            Ok(())
        }
    }

    /// `warnings.warn(message, category, stacklevel=2)`: shown at the calling line.
    pub(super) fn warn(&mut self, category: &'static str, message: &'static str) {
        self.pending_warning = Some((category, message));
    }

    /// Shows the pending warning for the call at instruction `at` of `code`, once per line
    /// (the default action), as `warnings.formatwarning` writes it.
    fn emit_warning(&mut self, code: &Code, at: usize) {
        let Some((category, message)) = self.pending_warning.take() else {
            return;
        };
        let line = code.line_at(at);
        if !self.globals.first_warning(line, message) {
            return;
        }
        let mut text = format!("{}:{line}: {category}: {message}\n", code.filename);
        if let Some(src) = self.host.source_line(&code.filename, line) {
            let src = src.trim();
            if !src.is_empty() {
                text.push_str(&format!("  {src}\n"));
            }
        }
        self.host.write_stderr(&text);
    }

    /// Makes `t` what `threading.current_thread()` returns here.
    pub fn set_current_thread(&mut self, t: Obj<thread::ThreadObj>) {
        self.current_thread = Some(t);
    }

    /// Instructions executed so far.
    pub fn instructions(&self) -> u64 {
        self.instructions
    }

    /// The host.
    pub fn host(&mut self) -> &mut H {
        self.host
    }

    /// An eval-breaker checkpoint; `executed` are this frame's instructions not yet added to
    /// the thread's count.
    #[inline(always)]
    fn checkpoint(&mut self, executed: u64) -> Result<(), VmError> {
        if self.breaker.load(Ordering::Relaxed) != 0 {
            if self.compiled_depth == 0 {
                self.host
                    .handle_eval_breaker(self.instructions + executed)?;
            } else {
                // Compiled code has no eval-breaker: only a stop is seen.
                self.host.poll_cancel()?;
            }
        }
        self.checkpoints += 1;
        if self.checkpoints.is_multiple_of(TICK_EVERY_CHECKPOINTS) {
            self.host.tick();
        }
        Ok(())
    }

    /// Runs a module's top-level code, filling its namespace.
    pub fn run_module(&mut self, code: &Arc<Code>) -> Result<(), VmError> {
        self.frame(code, Vec::new())?;
        (self.snapshot_generation, self.snapshot) = self.globals.snapshot();
        Ok(())
    }

    /// Calls a callable value with positional arguments.
    pub fn call_value(&mut self, callable: &Value, args: Vec<Value>) -> Result<Value, VmError> {
        self.call_value_kw(callable, args, Vec::new())
    }

    /// Calls a callable value with positional and keyword arguments.
    pub fn call_value_kw(
        &mut self,
        callable: &Value,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match callable {
            // Called by the host (the driver): an error raised before the callee's first
            // instruction (a wrong argument count) is placed at its `def`.
            Value::Function(f) if self.depth == 0 => self
                .call_function(f, args, kwargs)
                .map_err(|e| e.locate(&f.code, 0)),
            Value::Function(f) => self.call_function(f, args, kwargs),
            Value::Builtin(b) => {
                let r = self.call_builtin(*b, args, kwargs);
                self.checkpoint(0)?;
                r
            }
            Value::Method(m) => {
                let mut with_self = Vec::with_capacity(args.len() + 1);
                with_self.push(m.this.clone());
                with_self.extend(args);
                self.call_value_kw(&m.func, with_self, kwargs)
            }
            Value::Class(c) if c.is_exception() && !c.user => match kwargs.first() {
                Some((k, _)) => Err(VmError::type_error(format!(
                    "{}() takes no keyword arguments (got '{k}')",
                    c.name
                ))),
                None => Ok(exception::new_exception(Arc::clone(c), args)),
            },
            Value::Class(c) => {
                let c = Arc::clone(c);
                self.instantiate(&c, args, kwargs)
            }
            Value::Descriptor(_) => Err(VmError::type_error("'property' object is not callable")),
            Value::Wrapper(w) => {
                let w = Arc::clone(w);
                self.call_wrapper(&w, args, kwargs)
            }
            Value::Instance(i) if i.class.user_method("__call__").is_some() => {
                let Some(f) = i.class.user_method("__call__") else {
                    return Err(VmError::type_error("not callable"));
                };
                let mut with_self = Vec::with_capacity(args.len() + 1);
                with_self.push(callable.clone());
                with_self.extend(args);
                self.call_value_kw(&f, with_self, kwargs)
            }
            other => Err(VmError::type_error(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_function(
        &mut self,
        f: &Obj<Function>,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let code = &f.code;
        let locals = call::bind(f, args, kwargs)?;
        let state = if code.reports_state {
            match locals.first() {
                Some(Value::Array(a)) => Some(a.clone()),
                _ => None,
            }
        } else {
            None
        };
        let r = self.nested_frame(code, locals);
        if let (Ok(_), Some(grid)) = (&r, state) {
            self.host.on_state(&grid)?;
        }
        r
    }

    /// Executes one frame of `code` with its locals.
    fn frame(&mut self, code: &Arc<Code>, locals: Vec<Value>) -> Result<Value, VmError> {
        let mut st = FrameState {
            code: Arc::clone(code),
            stack: Vec::with_capacity(16),
            locals,
            pc: 0,
        };
        match self.run_frame(&mut st)? {
            Exit::Return(v) => Ok(v),
            Exit::Generator => Ok(Value::Generator(Obj::new(GenObj::new(st)))),
            Exit::Yield(_) => Err(VmError::py("SystemError", "yield outside a generator")),
        }
    }

    /// A frame one call deeper (a function, or a class body with its namespace in the extra
    /// last slot), or CPython's `RecursionError` at the recursion limit.
    pub(super) fn nested_frame(
        &mut self,
        code: &Arc<Code>,
        locals: Vec<Value>,
    ) -> Result<Value, VmError> {
        recursion_check(self.depth + 1, self.globals.recursion_limit())?;
        self.depth += 1;
        let r = self.frame(code, locals);
        self.depth -= 1;
        r
    }

    /// Runs a frame from where it stands until it returns, yields or becomes a generator.
    fn run_frame(&mut self, st: &mut FrameState) -> Result<Exit, VmError> {
        self.run_frame_with(st, None)
    }

    /// Runs a frame; with `thrown`, the frame resumes by raising it where it stopped (the
    /// `YIELD_VALUE` before its `pc`), as `gen_send_ex` with `exc` does.
    fn run_frame_with(
        &mut self,
        st: &mut FrameState,
        mut thrown: Option<VmError>,
    ) -> Result<Exit, VmError> {
        let code = Arc::clone(&st.code);
        let ops = &code.ops[..];
        let mut executed = 0u64;
        // The frame's registers live in locals while it runs (kept in machine registers, not
        // written back through `st` at every instruction), and go back into `st` at the end.
        let mut pc = st.pc;
        let mut stack = std::mem::take(&mut st.stack);
        let mut locals = std::mem::take(&mut st.locals);
        let result = loop {
            let (op, step) = match thrown.take() {
                Some(e) => (Op::YieldValue, Err(e)),
                None => {
                    let Some(&op) = ops.get(pc) else {
                        break Err(VmError::py("SystemError", "fell off the end of the code"));
                    };
                    pc += 1;
                    executed += 1;
                    let step =
                        self.step(op, &code, &mut stack, &mut locals, &mut pc, &mut executed);
                    (op, step)
                }
            };
            if let Err(e) = step {
                // The frame joins the traceback where the error was raised (`PyTraceBack_Here`);
                // a re-raise goes straight to the unwinding, as in ceval.c.
                let at = pc - 1;
                let e = if matches!(op, Op::Reraise(_) | Op::RaiseVarargs(0) | Op::EndAsyncFor) {
                    e.locate(&code, at)
                } else {
                    e.traced(&code, at)
                };
                match e {
                    VmError::Py(mut p) => {
                        if p.value.is_none() && !matches!(self.exc_info, Value::None) {
                            let v = exception::caught(&p);
                            exception::set_context(&v, &self.exc_info);
                            p.value = Some(v);
                        }
                        let Some(h) = code.handler_at(at) else {
                            break Err(VmError::Py(p));
                        };
                        // exception_unwind: the stack cut to the handler's depth, lasti and
                        // the exception pushed, and on at the handler.
                        let exc = exception::caught(&p);
                        stack.truncate(h.depth as usize);
                        if h.lasti {
                            stack.push(Value::Int(i64::from(at as u32)));
                        }
                        stack.push(exc);
                        pc = h.target as usize;
                        self.kwnames = None;
                        continue;
                    }
                    other => break Err(other),
                }
            }
            if matches!(op, Op::ReturnValue | Op::YieldValue | Op::ReturnGenerator) {
                break match op {
                    Op::ReturnGenerator => Ok(Exit::Generator),
                    Op::YieldValue => stack.pop().map(Exit::Yield).ok_or_else(underflow),
                    _ => stack.pop().map(Exit::Return).ok_or_else(underflow),
                };
            }
        };
        st.pc = pc;
        st.stack = stack;
        st.locals = locals;
        self.instructions += executed;
        self.kwnames = None;
        result
    }

    /// Resumes a generator (sending `None`): its next value, or `None` once it is done.
    pub fn gen_next(&mut self, g: &GenObj) -> Result<Option<Value>, VmError> {
        Ok(match self.gen_send(g, Value::None)? {
            Sent::Yielded(v) => Some(v),
            Sent::Returned(_) | Sent::Exhausted => None,
        })
    }

    /// `gen_send_ex`: resumes a generator or coroutine with `value` as the result of the
    /// `yield` it stopped at.
    pub fn gen_send(&mut self, g: &GenObj, value: Value) -> Result<Sent, VmError> {
        let mut st = match g.take() {
            Resume::Frame(f) => f,
            Resume::Running => {
                return Err(VmError::py(
                    "ValueError",
                    format!("{} already executing", g.kind_name()),
                ));
            }
            Resume::Finished => return Ok(Sent::Exhausted),
        };
        // Just started: the frame stands at the POP_TOP after RETURN_GENERATOR.
        let just_started = st.pc > 0 && st.code.ops.get(st.pc - 1) == Some(&Op::ReturnGenerator);
        if just_started && !matches!(value, Value::None) {
            g.put_back(Some(st));
            return Err(VmError::type_error(format!(
                "can't send non-None value to a just-started {}",
                g.kind_name()
            )));
        }
        if let Err(e) = recursion_check(self.depth + 1, self.globals.recursion_limit()) {
            g.put_back(Some(st));
            return Err(e);
        }
        // The value sent in: the `yield` expression's value.
        st.stack.push(value);
        self.resume(g, st, None)
    }

    /// `generator.throw(exc)`: raises `exc` where the generator stopped (in what it delegates
    /// to first, for a `yield from` or an `await` of a generator), as `_gen_throw` does.
    pub fn gen_throw(&mut self, g: &GenObj, exc: Value) -> Result<Sent, VmError> {
        let mut st = match g.take() {
            Resume::Frame(f) => f,
            Resume::Running => {
                return Err(VmError::py(
                    "ValueError",
                    format!("{} already executing", g.kind_name()),
                ));
            }
            Resume::Finished => return Err(exception::raise(exc)),
        };
        let delegating = matches!(
            st.code.ops.get(st.pc),
            Some(Op::ResumeAfterYieldFrom | Op::ResumeAfterAwait)
        );
        let mut thrown = exception::raise(exc.clone());
        if delegating && let Some(Value::Generator(sub)) = st.stack.last().cloned() {
            g.put_back(Some(st));
            match self.gen_throw(&sub, exc) {
                Ok(Sent::Yielded(v)) => return Ok(Sent::Yielded(v)),
                // The delegate caught it and finished: the outer leaves its SEND loop with
                // the delegate's value ("termination repetition of SEND loop").
                Ok(done @ (Sent::Returned(_) | Sent::Exhausted)) => {
                    let v = match done {
                        Sent::Returned(v) => v,
                        _ => Value::None,
                    };
                    if let Resume::Frame(mut f) = g.take() {
                        let send_at = f.pc.checked_sub(2);
                        if let Some(Op::Send(exit)) = send_at.and_then(|k| f.code.ops.get(k)) {
                            f.pc = *exit as usize;
                            f.stack.pop();
                        }
                        g.put_back(Some(f));
                    }
                    return self.gen_send(g, v);
                }
                Err(e) => thrown = e,
            }
            st = match g.take() {
                Resume::Frame(f) => f,
                _ => return Err(thrown),
            };
        }
        self.resume(g, st, Some(thrown))
    }

    /// Runs a generator's frame one call deeper (raising `thrown` where it stopped, if any),
    /// and keeps the frame in the generator if it yielded.
    fn resume(
        &mut self,
        g: &GenObj,
        mut st: FrameState,
        thrown: Option<VmError>,
    ) -> Result<Sent, VmError> {
        self.depth += 1;
        let r = self.run_frame_with(&mut st, thrown);
        self.depth -= 1;
        match r {
            Ok(Exit::Yield(v)) => {
                g.put_back(Some(st));
                Ok(Sent::Yielded(v))
            }
            Ok(Exit::Return(v)) => {
                g.put_back(None);
                Ok(Sent::Returned(v))
            }
            Ok(Exit::Generator) => {
                g.put_back(None);
                Ok(Sent::Returned(Value::None))
            }
            Err(e) => {
                g.put_back(None);
                Err(e)
            }
        }
    }

    /// `generator.close()`: `GeneratorExit` thrown in, so its `finally` blocks run; a
    /// generator that yields again is a `RuntimeError`, as in CPython.
    pub fn gen_close(&mut self, g: &GenObj) -> Result<(), VmError> {
        let suspended_in_body = match g.take() {
            Resume::Frame(f) => {
                let started = !(f.pc > 0 && f.code.ops.get(f.pc - 1) == Some(&Op::ReturnGenerator));
                g.put_back(Some(f));
                started
            }
            Resume::Running => {
                return Err(VmError::py(
                    "ValueError",
                    format!("{} already executing", g.kind_name()),
                ));
            }
            Resume::Finished => {
                g.put_back(None);
                false
            }
        };
        if !suspended_in_body {
            g.close();
            return Ok(());
        }
        let Some(class) = exception::builtin_class("GeneratorExit") else {
            g.close();
            return Ok(());
        };
        match self.gen_throw(g, exception::new_exception(class, Vec::new())) {
            Ok(Sent::Yielded(_)) => {
                g.close();
                Err(VmError::py(
                    "RuntimeError",
                    format!("{} ignored GeneratorExit", g.kind_name()),
                ))
            }
            Ok(_) => Ok(()),
            Err(VmError::Py(p)) if matches!(&*p.exc, "GeneratorExit" | "StopIteration") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The items of an iterable, a generator run to its end included.
    pub(crate) fn iterate(&mut self, v: &Value) -> Result<Vec<Value>, VmError> {
        match v {
            Value::Generator(g) => {
                let mut out = Vec::new();
                while let Some(x) = self.gen_next(g)? {
                    out.push(x);
                    if (out.len() as u32).is_multiple_of(builtins::POLL_EVERY_ITEMS) {
                        self.host.poll_cancel()?;
                    }
                }
                Ok(out)
            }
            Value::Instance(_) => {
                let it = match self.call_dunder(v, "__iter__", Vec::new()) {
                    Some(r) => r?,
                    None => {
                        return Err(VmError::type_error(format!(
                            "'{}' object is not iterable",
                            attrs::instance_type(v)
                        )));
                    }
                };
                if !matches!(it, Value::Instance(_)) {
                    return self.iterate(&it);
                }
                let mut out = Vec::new();
                loop {
                    if (out.len() as u32 + 1).is_multiple_of(builtins::POLL_EVERY_ITEMS) {
                        self.host.poll_cancel()?;
                    }
                    match self.call_dunder(&it, "__next__", Vec::new()) {
                        Some(Ok(x)) => out.push(x),
                        Some(Err(VmError::Py(p))) if &*p.exc == "StopIteration" => break,
                        Some(Err(e)) => return Err(e),
                        None => {
                            return Err(VmError::type_error(format!(
                                "iter() returned non-iterator of type '{}'",
                                attrs::instance_type(&it)
                            )));
                        }
                    }
                }
                Ok(out)
            }
            other => ops::iterate(other),
        }
    }

    /// Executes one instruction (the body of the eval loop): the instructions of hot loops
    /// here, inlined into it; the rest in [`Self::step_cold`], kept out of line so that the
    /// loop stays small enough for the compiler to keep its pushes and pops inline.
    #[inline(always)]
    fn step(
        &mut self,
        op: Op,
        code: &Arc<Code>,
        stack: &mut Vec<Value>,
        locals: &mut [Value],
        pc: &mut usize,
        executed: &mut u64,
    ) -> Result<(), VmError> {
        match op {
            Op::Resume | Op::ResumeAfterYield | Op::ResumeAfterYieldFrom | Op::ResumeAfterAwait => {
                self.checkpoint(*executed)?;
            }
            Op::ReturnGenerator | Op::YieldValue => {}
            Op::LoadFast(n) => match &locals[n as usize] {
                Value::Null => {
                    return Err(VmError::py(
                        "UnboundLocalError",
                        format!(
                            "cannot access local variable '{}' where it is not associated with a value",
                            code.varnames[n as usize]
                        ),
                    ));
                }
                v => push(stack, fast_clone(v)),
            },
            Op::StoreFast(n) => {
                // Swapped in place (no copy of the value through a temporary), and the old
                // value dropped only if it owns something (the count loop's `STORE_FAST
                // count` replaces an int by an int).
                let top = stack.last_mut().ok_or_else(underflow)?;
                std::mem::swap(&mut locals[n as usize], top);
                if is_inline(top) {
                    std::mem::forget(stack.pop());
                } else {
                    stack.pop();
                }
            }
            Op::LoadConst(n) => push(stack, fast_clone(&code.consts[n as usize])),
            Op::LoadGlobal(n) => {
                let v = self.load_global(code, n >> 1)?;
                if n & 1 == 1 {
                    push(stack, Value::Null);
                }
                push(stack, v);
            }
            Op::PushNull => push(stack, Value::Null),
            Op::PopTop => {
                stack.pop().ok_or_else(underflow)?;
            }
            Op::Nop | Op::Precall(_) | Op::ExtendedArg(_) => {}
            Op::BinaryOp(bop) => {
                // Fast paths (like CPython's specialised BINARY_OP_*_FLOAT/INT), in place on
                // the two stack slots.
                let base = bop.base();
                let [.., a, b] = &mut stack[..] else {
                    return Err(underflow());
                };
                let done = match (Some(a), &*b) {
                    (Some(Value::Float(x)), Value::Float(y)) if ops::float_fast(base, *y) => {
                        *x = ops::float_op(base, *x, *y);
                        true
                    }
                    (Some(top @ Value::Int(_)), Value::Float(y)) if ops::float_fast(base, *y) => {
                        if let Value::Int(x) = *top {
                            *top = Value::Float(ops::float_op(base, x as f64, *y));
                        }
                        true
                    }
                    (Some(Value::Float(x)), Value::Int(y)) if ops::float_fast(base, *y as f64) => {
                        *x = ops::float_op(base, *x, *y as f64);
                        true
                    }
                    (Some(Value::Int(x)), Value::Int(y)) if ops::int_fast(base) => {
                        match ops::int_fast_op(base, *x, *y) {
                            Some(r) => {
                                *x = r;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                if done {
                    // `b` was a number: nothing to drop.
                    std::mem::forget(stack.pop());
                    return Ok(());
                }
                // A NumPy scalar's `+ - * /` (`numpy.float64`'s number slots): the result, a new
                // scalar object, replaces the left operand's slot.
                if let [.., a, b] = &mut stack[..]
                    && let Some(r) = npscalar::arith(base, a, b)
                {
                    *a = r;
                    stack.pop();
                    return Ok(());
                }
                let b = stack.pop().ok_or_else(underflow)?;
                let a = stack.pop().ok_or_else(underflow)?;
                if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
                    self.instructions += *executed;
                    *executed = 0;
                    let r = match self.binary_dunder(base, &a, &b) {
                        Some(r) => r?,
                        None => {
                            return Err(ops::unsupported(
                                bop,
                                &attrs::instance_type(&a),
                                &attrs::instance_type(&b),
                            ));
                        }
                    };
                    push(stack, r);
                    return Ok(());
                }
                let r = self.binary_op(bop, a, b)?;
                push(stack, r);
            }
            Op::BinarySubscr => {
                if let [.., container, key] = &mut stack[..]
                    && let (Value::Array(arr), Value::IntPair(i, j)) = (&*container, &*key)
                {
                    // NumPy returns a new numpy.float64 object for every element read; it
                    // takes the array's slot.
                    *container = npscalar::float64(arr.get(*i, *j)?);
                    // The key was an unboxed pair of ints: nothing to drop.
                    std::mem::forget(stack.pop());
                    return Ok(());
                }
                let key = stack.pop().ok_or_else(underflow)?;
                let container = stack.pop().ok_or_else(underflow)?;
                if let Some(r) = self.call_dunder(&container, "__getitem__", vec![key.clone()]) {
                    push(stack, r?);
                    return Ok(());
                }
                let got = match (ops::subscript(&container, &key), &container) {
                    // `__missing__`: a Counter's 0, a defaultdict's factory.
                    (Err(VmError::Py(p)), Value::Dict(d)) if &*p.exc == "KeyError" => {
                        match self.dict_missing(d, &key)? {
                            Some(v) => v,
                            None => return Err(VmError::Py(p)),
                        }
                    }
                    (r, _) => r?,
                };
                push(stack, got);
            }
            Op::StoreSubscr => {
                if let (
                    Some(Value::IntPair(i, j)),
                    Some(Value::Array(arr)),
                    Some(Value::Float(v)),
                ) = (
                    stack.last(),
                    stack.len().checked_sub(2).and_then(|k| stack.get(k)),
                    stack.len().checked_sub(3).and_then(|k| stack.get(k)),
                ) {
                    arr.set(*i, *j, *v)?;
                    stack.truncate(stack.len() - 3);
                    return Ok(());
                }
                if let (
                    Some(Value::IntPair(i, j)),
                    Some(Value::Array(arr)),
                    Some(Value::NpFloat(s)),
                ) = (
                    stack.last(),
                    stack.len().checked_sub(2).and_then(|k| stack.get(k)),
                    stack.len().checked_sub(3).and_then(|k| stack.get(k)),
                ) {
                    arr.set(*i, *j, s.value)?;
                    stack.truncate(stack.len() - 3);
                    return Ok(());
                }
                let key = stack.pop().ok_or_else(underflow)?;
                let container = stack.pop().ok_or_else(underflow)?;
                let value = stack.pop().ok_or_else(underflow)?;
                if let Some(r) =
                    self.call_dunder(&container, "__setitem__", vec![key.clone(), value.clone()])
                {
                    r?;
                    return Ok(());
                }
                self.store_subscr(&container, &key, value)?;
            }
            Op::BuildTuple(2) => {
                // `u[i, j]`'s index: two ints become an unboxed pair, no allocation
                // (CPython takes the tuple from its free list), in the first int's slot.
                if let [.., a, b] = &mut stack[..]
                    && let (Value::Int(i), Value::Int(j)) = (&*a, &*b)
                {
                    *a = Value::IntPair(*i, *j);
                    // `b` was an int: nothing to drop.
                    std::mem::forget(stack.pop());
                    return Ok(());
                }
                let b = stack.pop().ok_or_else(underflow)?;
                let a = stack.pop().ok_or_else(underflow)?;
                push(
                    stack,
                    match (a, b) {
                        (Value::Int(a), Value::Int(b)) => Value::IntPair(a, b),
                        (a, b) => Value::Tuple(Arc::from([a, b])),
                    },
                );
            }
            Op::CompareOp(c) => {
                let b = stack.pop().ok_or_else(underflow)?;
                let a = stack.pop().ok_or_else(underflow)?;
                let r = if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
                    self.instructions += *executed;
                    *executed = 0;
                    self.rich_compare(c, &a, &b)?
                } else {
                    ops::compare(c, &a, &b)?
                };
                push(stack, Value::Bool(r));
            }
            Op::GetIter => {
                let v = stack.pop().ok_or_else(underflow)?;
                if self.prange_pending.is_some()
                    && self.is_prange_loop(code, &v)
                    && let Value::Range { start, stop, step } = v
                    && self.run_prange(code, (start, stop, step), stack, locals, pc)?
                {
                    return Ok(());
                }
                let it = self.get_iter(v)?;
                push(stack, it);
            }
            Op::ForIter(target) => {
                // A range iterator's next int goes straight into its stack slot.
                if let Some(Value::RangeIter { next, stop, step }) = stack.last_mut() {
                    match coroutine::range_next(next, *stop, *step) {
                        Some(v) => push(stack, Value::Int(v)),
                        None => {
                            stack.pop();
                            *pc = target as usize;
                        }
                    }
                    return Ok(());
                }
                let next = match stack.last_mut() {
                    Some(it) => self.iter_next(it)?,
                    None => return Err(underflow()),
                };
                match next {
                    Some(v) => push(stack, v),
                    None => {
                        stack.pop();
                        *pc = target as usize;
                    }
                }
            }
            Op::JumpForward(t) => *pc = t as usize,
            Op::JumpBackward(t) => {
                self.checkpoint(*executed)?;
                *pc = t as usize;
            }
            Op::PopJumpForwardIfFalse(t) | Op::PopJumpBackwardIfFalse(t) => {
                let v = stack.pop().ok_or_else(underflow)?;
                if !v.truthy()? {
                    *pc = t as usize;
                    if matches!(op, Op::PopJumpBackwardIfFalse(_)) {
                        self.checkpoint(*executed)?;
                    }
                }
            }
            Op::PopJumpForwardIfTrue(t) | Op::PopJumpBackwardIfTrue(t) => {
                let v = stack.pop().ok_or_else(underflow)?;
                if v.truthy()? {
                    *pc = t as usize;
                    if matches!(op, Op::PopJumpBackwardIfTrue(_)) {
                        self.checkpoint(*executed)?;
                    }
                }
            }
            Op::PopJumpForwardIfNone(t) | Op::PopJumpBackwardIfNone(t) => {
                let v = stack.pop().ok_or_else(underflow)?;
                if matches!(v, Value::None) {
                    *pc = t as usize;
                    if matches!(op, Op::PopJumpBackwardIfNone(_)) {
                        self.checkpoint(*executed)?;
                    }
                }
            }
            Op::PopJumpForwardIfNotNone(t) | Op::PopJumpBackwardIfNotNone(t) => {
                let v = stack.pop().ok_or_else(underflow)?;
                if !matches!(v, Value::None) {
                    *pc = t as usize;
                    if matches!(op, Op::PopJumpBackwardIfNotNone(_)) {
                        self.checkpoint(*executed)?;
                    }
                }
            }
            Op::JumpIfFalseOrPop(t) => {
                let top = stack.last().ok_or_else(underflow)?;
                if top.truthy()? {
                    stack.pop();
                } else {
                    *pc = t as usize;
                }
            }
            Op::JumpIfTrueOrPop(t) => {
                let top = stack.last().ok_or_else(underflow)?;
                if top.truthy()? {
                    *pc = t as usize;
                } else {
                    stack.pop();
                }
            }
            Op::LoadAttr(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let name = &code.names[n as usize];
                let a = match &v {
                    Value::Module(StdModule::Sys) if &**name == "argv" => {
                        Value::list(self.host.argv().iter().map(|a| Value::str(a)).collect())
                    }
                    Value::Module(StdModule::Sys) => self.get_attr(&v, name)?,
                    Value::Local(l) => l.get(name).ok_or_else(|| {
                        VmError::py(
                            "AttributeError",
                            format!("'_thread._local' object has no attribute '{name}'"),
                        )
                    })?,
                    Value::Instance(_)
                    | Value::Class(_)
                    | Value::Super(_)
                    | Value::Descriptor(_)
                    | Value::Module(StdModule::User { .. }) => {
                        self.instructions += *executed;
                        *executed = 0;
                        self.get_attr(&v, name)?
                    }
                    _ => ops::load_attr(&v, name)?,
                };
                push(stack, a);
            }
            Op::LoadMethod(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let name = &code.names[n as usize];
                if matches!(v, Value::Instance(_) | Value::Class(_) | Value::Super(_)) {
                    self.instructions += *executed;
                    *executed = 0;
                    match self.load_method(&v, name)? {
                        (f, Some(this)) => {
                            push(stack, f);
                            push(stack, this);
                        }
                        (attr, None) => {
                            push(stack, Value::Null);
                            push(stack, attr);
                        }
                    }
                    return Ok(());
                }
                match ops::method(&v, name) {
                    Some(m) => {
                        push(stack, Value::Builtin(m));
                        push(stack, v);
                    }
                    None => {
                        let attr = match &v {
                            Value::Module(StdModule::Sys | StdModule::User { .. }) => {
                                self.get_attr(&v, name)?
                            }
                            _ => ops::load_attr(&v, name)?,
                        };
                        push(stack, Value::Null);
                        push(stack, attr);
                    }
                }
            }
            Op::Call(n) => {
                let n = n as usize;
                if stack.len() < n + 2 {
                    return Err(underflow());
                }
                let mut args = stack.split_off(stack.len() - n);
                let second = stack.pop().ok_or_else(underflow)?;
                let first = stack.pop().ok_or_else(underflow)?;
                let kwargs = match self.kwnames.take() {
                    Some(names) => {
                        let values = args.split_off(args.len().saturating_sub(names.len()));
                        names
                            .iter()
                            .zip(values)
                            .map(|(k, v)| match k {
                                Value::Str(s) => (Arc::clone(s), v),
                                _ => (Arc::from(""), v),
                            })
                            .collect()
                    }
                    None => Vec::new(),
                };
                let callable = match first {
                    Value::Null => second,
                    meth => {
                        args.insert(0, second);
                        meth
                    }
                };
                if matches!(callable, Value::Builtin(Builtin::Super)) && args.is_empty() {
                    // Zero-argument super(): the `__class__` cell and the first argument.
                    let names = code.localsplus_names();
                    let class = names
                        .iter()
                        .position(|n| &**n == "__class__")
                        .and_then(|k| match &locals[k] {
                            Value::Cell(c) => Some(c.get()),
                            _ => None,
                        });
                    let first = (code.argcount > 0).then(|| locals[0].clone());
                    push(stack, attrs::make_super(class, first)?);
                    return Ok(());
                }
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value_kw(&callable, args, kwargs)?;
                if self.pending_warning.is_some() {
                    self.emit_warning(code, *pc - 1);
                }
                push(stack, r);
            }
            _ => return self.step_cold(op, code, stack, locals, pc, executed),
        }
        Ok(())
    }

    /// The instructions [`Self::step`] leaves out of its inline body.
    #[inline(never)]
    fn step_cold(
        &mut self,
        op: Op,
        code: &Arc<Code>,
        stack: &mut Vec<Value>,
        locals: &mut [Value],
        pc: &mut usize,
        executed: &mut u64,
    ) -> Result<(), VmError> {
        match op {
            Op::GetAwaitable(_) => {
                let v = stack.pop().ok_or_else(underflow)?;
                stack.push(self.get_awaitable(v)?);
            }
            Op::GetAiter => {
                let v = stack.pop().ok_or_else(underflow)?;
                stack.push(self.get_aiter(v)?);
            }
            Op::GetAnext => {
                let it = stack.last().ok_or_else(underflow)?.clone();
                stack.push(self.get_anext(&it)?);
            }
            Op::EndAsyncFor => {
                let exc = stack.pop().ok_or_else(underflow)?;
                match exception::builtin_class("StopAsyncIteration") {
                    Some(stop) if exception::matches(&exc, &Value::Class(Arc::clone(&stop)))? => {
                        stack.pop().ok_or_else(underflow)?;
                    }
                    _ => return Err(exception::raise(exc)),
                }
            }
            Op::AsyncGenWrap => {}
            Op::GetYieldFromIter => {
                let v = stack.pop().ok_or_else(underflow)?;
                stack.push(match v {
                    Value::Generator(g) if g.is_coroutine => {
                        return Err(VmError::type_error(
                            "cannot 'yield from' a coroutine object in a non-coroutine generator",
                        ));
                    }
                    g @ Value::Generator(_) => g,
                    other => self.get_iter(other)?,
                });
            }
            Op::Send(target) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let recv = stack.last_mut().ok_or_else(underflow)?;
                match self.send_into(recv, v)? {
                    Sent::Yielded(y) => stack.push(y),
                    Sent::Returned(r) => {
                        stack.pop();
                        stack.push(r);
                        *pc = target as usize;
                    }
                    Sent::Exhausted => {
                        return Err(VmError::py(
                            "RuntimeError",
                            "cannot reuse already awaited coroutine",
                        ));
                    }
                }
            }
            Op::JumpBackwardNoInterrupt(target) => *pc = target as usize,
            // The eval loop ends the run of the frame at these.
            Op::StoreGlobal(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                self.globals
                    .store(code.global_slots[n as usize] as usize, v);
            }
            Op::LoadName(n) if code.is_class_body => {
                let name = &code.names[n as usize];
                match class_ns(locals).and_then(|ns| ns_get(&ns, name)) {
                    Some(v) => stack.push(v),
                    None => {
                        let slot = code.global_slots[n as usize] as usize;
                        let v = match self.globals.load(slot) {
                            Value::Null => self.load_global(code, n)?,
                            v => v,
                        };
                        stack.push(v);
                    }
                }
            }
            Op::StoreName(n) if code.is_class_body => {
                let v = stack.pop().ok_or_else(underflow)?;
                let ns = class_ns(locals)
                    .ok_or_else(|| VmError::py("SystemError", "no class namespace"))?;
                let key = Value::Str(Arc::clone(&code.names[n as usize]));
                ns.lock().insert(key, v)?;
            }
            Op::LoadName(n) => {
                let slot = code.global_slots[n as usize] as usize;
                let v = match self.globals.load(slot) {
                    Value::Null => self.load_global(code, n)?,
                    v => v,
                };
                stack.push(v);
            }
            Op::StoreName(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                self.globals
                    .store(code.global_slots[n as usize] as usize, v);
            }
            Op::BuildTuple(n) => {
                let n = n as usize;
                if stack.len() < n {
                    return Err(underflow());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Value::Tuple(items.into()));
            }
            Op::BuildList(n) => {
                let n = n as usize;
                if stack.len() < n {
                    return Err(underflow());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Value::list(items));
            }
            Op::ListExtend(n) => {
                let it = stack.pop().ok_or_else(underflow)?;
                let items = self.iterate(&it)?;
                match stack
                    .len()
                    .checked_sub(n as usize)
                    .and_then(|k| stack.get(k))
                {
                    Some(Value::List(l)) => l.lock().extend(items),
                    _ => return Err(underflow()),
                }
            }
            Op::BuildMap(n) => {
                let n = 2 * n as usize;
                if stack.len() < n {
                    return Err(underflow());
                }
                let flat = stack.split_off(stack.len() - n);
                let pairs = flat
                    .chunks(2)
                    .map(|kv| (kv[0].clone(), kv[1].clone()))
                    .collect();
                stack.push(Value::Dict(Obj::new(value::DictObj::new(pairs)?)));
            }
            Op::BuildConstKeyMap(n) => {
                let keys = stack.pop().ok_or_else(underflow)?;
                let n = n as usize;
                let Value::Tuple(keys) = keys else {
                    return Err(VmError::py("SystemError", "bad BUILD_CONST_KEY_MAP keys"));
                };
                if stack.len() < n || keys.len() != n {
                    return Err(underflow());
                }
                let vals = stack.split_off(stack.len() - n);
                let pairs = keys.iter().cloned().zip(vals).collect();
                stack.push(Value::Dict(Obj::new(value::DictObj::new(pairs)?)));
            }
            Op::BuildSlice(n) => {
                let step = if n == 3 {
                    Some(stack.pop().ok_or_else(underflow)?)
                } else {
                    None
                };
                let stop = stack.pop().ok_or_else(underflow)?;
                let start = stack.pop().ok_or_else(underflow)?;
                let step = match step {
                    Some(s) => ops::slice_bound(&s)?,
                    None => None,
                };
                if step == Some(0) {
                    return Err(VmError::py("ValueError", "slice step cannot be zero"));
                }
                stack.push(Value::Slice(Arc::new(value::SliceObj {
                    start: ops::slice_bound(&start)?,
                    stop: ops::slice_bound(&stop)?,
                    step,
                })));
            }
            Op::UnpackEx(counts) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let mut items = self.iterate(&v)?;
                let (before, after) = ((counts & 0xff) as usize, (counts >> 8) as usize);
                if items.len() < before + after {
                    return Err(VmError::py(
                        "ValueError",
                        format!(
                            "not enough values to unpack (expected at least {}, got {})",
                            before + after,
                            items.len()
                        ),
                    ));
                }
                // The first target ends on top: the last `after` items, the starred list,
                // then the first `before`, each pushed in reverse.
                let tail = items.split_off(items.len() - after);
                let middle = items.split_off(before);
                stack.extend(tail.into_iter().rev());
                stack.push(Value::list(middle));
                stack.extend(items.into_iter().rev());
            }
            Op::DictUpdate(n) => {
                let update = stack.pop().ok_or_else(underflow)?;
                let at = stack.len().checked_sub(n as usize).ok_or_else(underflow)?;
                let Some(Value::Dict(target)) = stack.get(at) else {
                    return Err(VmError::py("SystemError", "DICT_UPDATE without a dict"));
                };
                let Value::Dict(src) = &update else {
                    return Err(VmError::type_error(format!(
                        "'{}' object is not a mapping",
                        update.type_name()
                    )));
                };
                let pairs = src.lock().pairs();
                let mut t = target.lock();
                for (k, v) in pairs {
                    t.insert(k, v)?;
                }
            }
            Op::UnpackSequence(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let items = match v {
                    Value::IntPair(a, b) => vec![Value::Int(a), Value::Int(b)],
                    other => self.iterate(&other)?,
                };
                if items.len() != n as usize {
                    return Err(VmError::py(
                        "ValueError",
                        if items.len() < n as usize {
                            format!(
                                "not enough values to unpack (expected {n}, got {})",
                                items.len()
                            )
                        } else {
                            format!("too many values to unpack (expected {n})")
                        },
                    ));
                }
                stack.extend(items.into_iter().rev());
            }
            Op::Swap(n) => {
                let len = stack.len();
                let k = len.checked_sub(n as usize).ok_or_else(underflow)?;
                stack.swap(k, len - 1);
            }
            Op::Copy(n) => {
                let k = stack.len().checked_sub(n as usize).ok_or_else(underflow)?;
                let v = stack[k].clone();
                stack.push(v);
            }
            Op::UnaryNegative | Op::UnaryPositive | Op::UnaryNot | Op::UnaryInvert => {
                let v = stack.pop().ok_or_else(underflow)?;
                stack.push(ops::unary(op, v)?);
            }
            Op::IsOp(invert) => {
                let b = stack.pop().ok_or_else(underflow)?;
                let a = stack.pop().ok_or_else(underflow)?;
                stack.push(Value::Bool(ops::is_same(&a, &b) != (invert == 1)));
            }
            Op::ContainsOp(invert) => {
                let b = stack.pop().ok_or_else(underflow)?;
                let a = stack.pop().ok_or_else(underflow)?;
                stack.push(Value::Bool(ops::contains(&b, &a)? != (invert == 1)));
            }
            Op::KwNames(k) => match &code.consts[k as usize] {
                Value::Tuple(t) => self.kwnames = Some(Arc::clone(t)),
                _ => return Err(VmError::py("SystemError", "KW_NAMES without a tuple")),
            },
            Op::CallFunctionEx(flags) => {
                let kwargs = if flags & 1 == 1 {
                    Some(stack.pop().ok_or_else(underflow)?)
                } else {
                    None
                };
                let callargs = stack.pop().ok_or_else(underflow)?;
                let callable = stack.pop().ok_or_else(underflow)?;
                // The NULL that `PUSH_NULL` left below the callable.
                stack.pop().ok_or_else(underflow)?;
                let fname = callable_name(&callable);
                let args = match callargs {
                    Value::Tuple(t) => t.to_vec(),
                    it @ (Value::Generator(_) | Value::Instance(_)) => self.iterate(&it)?,
                    other => ops::iterate(&other).map_err(|_| {
                        VmError::type_error(format!(
                            "{fname}() argument after * must be an iterable, not {}",
                            other.type_name()
                        ))
                    })?,
                };
                let kwargs = match kwargs {
                    Some(d) => call::kwargs_of(&fname, &d)?,
                    None => Vec::new(),
                };
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value_kw(&callable, args, kwargs)?;
                stack.push(r);
                self.checkpoint(0)?;
            }
            Op::ListAppend(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                match stack
                    .len()
                    .checked_sub(n as usize)
                    .and_then(|k| stack.get(k))
                {
                    Some(Value::List(l)) => l.lock().push(v),
                    _ => return Err(VmError::py("SystemError", "LIST_APPEND without a list")),
                }
            }
            Op::BuildSet(n) => {
                let n = n as usize;
                if stack.len() < n {
                    return Err(underflow());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Value::Set(Obj::new(set::SetObj::from_items(false, items)?)));
            }
            Op::SetAdd(n) | Op::SetUpdate(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let items = if matches!(op, Op::SetUpdate(_)) {
                    self.iterate(&v)?
                } else {
                    vec![v]
                };
                match stack
                    .len()
                    .checked_sub(n as usize)
                    .and_then(|k| stack.get(k))
                {
                    Some(Value::Set(s)) => {
                        for it in items {
                            s.add(it)?;
                        }
                    }
                    _ => return Err(VmError::py("SystemError", "SET_ADD without a set")),
                }
            }
            Op::ListToTuple => match stack.pop().ok_or_else(underflow)? {
                Value::List(l) => {
                    let items = l.lock().clone();
                    stack.push(Value::Tuple(items.into()));
                }
                _ => return Err(VmError::py("SystemError", "LIST_TO_TUPLE without a list")),
            },
            Op::DictMerge(n) => {
                let update = stack.pop().ok_or_else(underflow)?;
                let fname = stack
                    .len()
                    .checked_sub(n as usize + 2)
                    .and_then(|k| stack.get(k))
                    .map(callable_name)
                    .unwrap_or_default();
                let pairs = call::kwargs_of(&fname, &update)?;
                match stack
                    .len()
                    .checked_sub(n as usize)
                    .and_then(|k| stack.get(k))
                {
                    Some(Value::Dict(d)) => {
                        let mut items = d.lock();
                        for (k, v) in pairs {
                            let key = Value::Str(k);
                            if items.contains(&key)? {
                                return Err(VmError::type_error(format!(
                                    "{fname}() got multiple values for keyword argument {}",
                                    key.repr()
                                )));
                            }
                            items.insert(key, v)?;
                        }
                    }
                    _ => return Err(VmError::py("SystemError", "DICT_MERGE without a dict")),
                }
            }
            Op::MapAdd(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                let k = stack.pop().ok_or_else(underflow)?;
                match stack
                    .len()
                    .checked_sub(n as usize)
                    .and_then(|i| stack.get(i))
                {
                    Some(Value::Dict(d)) => d.lock().insert(k, v)?,
                    _ => return Err(VmError::py("SystemError", "MAP_ADD without a dict")),
                }
            }
            Op::MakeFunction(flags) => {
                let code_v = stack.pop().ok_or_else(underflow)?;
                let closure = if flags & 8 != 0 {
                    match stack.pop().ok_or_else(underflow)? {
                        Value::Tuple(t) => t.to_vec(),
                        _ => return Err(VmError::py("SystemError", "bad closure")),
                    }
                } else {
                    Vec::new()
                };
                let annotations = if flags & 4 != 0 {
                    // `(name, value, name, value, …)`, made the function's `__annotations__`.
                    let pairs = match stack.pop().ok_or_else(underflow)? {
                        Value::Tuple(t) => t
                            .chunks(2)
                            .filter_map(|p| match p {
                                [k, v] => Some((k.clone(), v.clone())),
                                _ => None,
                            })
                            .collect(),
                        _ => return Err(VmError::py("SystemError", "bad annotations")),
                    };
                    Value::Dict(Obj::new(value::DictObj::new(pairs)?))
                } else {
                    Value::None
                };
                let kwdefaults = if flags & 2 != 0 {
                    call::kwargs_of("MAKE_FUNCTION", &stack.pop().ok_or_else(underflow)?)?
                } else {
                    Vec::new()
                };
                let defaults = if flags & 1 == 1 {
                    match stack.pop().ok_or_else(underflow)? {
                        Value::Tuple(t) => t.to_vec(),
                        Value::IntPair(a, b) => vec![Value::Int(a), Value::Int(b)],
                        _ => return Err(VmError::py("SystemError", "bad defaults")),
                    }
                } else {
                    Vec::new()
                };
                let Value::Code(c) = code_v else {
                    return Err(VmError::py("SystemError", "MAKE_FUNCTION without code"));
                };
                stack.push(Value::Function(Obj::new(Function {
                    code: c,
                    defaults,
                    kwdefaults,
                    closure,
                    annotations,
                })));
            }
            Op::ImportName(n) => {
                let _fromlist = stack.pop().ok_or_else(underflow)?;
                let level = stack.pop().ok_or_else(underflow)?;
                let name = &code.names[n as usize];
                if matches!(level, Value::Int(l) if l > 0) {
                    // A script, and a module imported from its folder, have no package.
                    return Err(VmError::py(
                        "ImportError",
                        "attempted relative import with no known parent package",
                    ));
                }
                if let Some(m) = self.import_sibling(name)? {
                    stack.push(Value::Module(m));
                    return Ok(());
                }
                let top = name.split('.').next().unwrap_or(name);
                StdModule::import(name).ok_or_else(|| {
                    VmError::py(
                        "ModuleNotFoundError",
                        if value::is_stdlib_module(top) {
                            format!(
                                "No module named '{name}' (gilscope's interpreter does not \
                                 emulate it yet)"
                            )
                        } else {
                            format!("No module named '{name}'")
                        },
                    )
                })?;
                let m = if name.contains('.') && matches!(_fromlist, Value::None) {
                    StdModule::import(top)
                } else {
                    StdModule::import(name)
                };
                stack.push(Value::Module(m.unwrap_or(StdModule::Opaque("?"))));
            }
            Op::ImportStar => {
                let m = stack.pop().ok_or_else(underflow)?;
                self.import_star(&m, &code.module_prefix)?;
            }
            Op::ImportFrom(n) => {
                let m = stack.last().ok_or_else(underflow)?;
                let name = &code.names[n as usize];
                let found = match m {
                    Value::Module(StdModule::User { .. }) => self.get_attr(&m.clone(), name),
                    _ => ops::load_attr(m, name),
                };
                let v = found.map_err(|_| {
                    let from = match m {
                        Value::Module(StdModule::User { name, file, .. }) => {
                            format!("'{name}' ({file})")
                        }
                        Value::Module(m) => format!("'{}'", m.name()),
                        _ => "'?'".to_owned(),
                    };
                    VmError::py(
                        "ImportError",
                        format!("cannot import name '{name}' from {from}"),
                    )
                })?;
                stack.push(v);
            }
            Op::FormatValue(flags) => {
                let spec = if flags & 4 != 0 {
                    match stack.pop().ok_or_else(underflow)? {
                        Value::Str(s) => s,
                        _ => return Err(VmError::py("SystemError", "format spec is not a str")),
                    }
                } else {
                    Arc::from("")
                };
                let v = stack.pop().ok_or_else(underflow)?;
                let v = match (flags & 3, &v) {
                    (1, _) => Value::str(&self.display(&v, false)?),
                    (2, _) => Value::str(&self.display(&v, true)?),
                    (3, _) => Value::str(&value::ascii_escaped(&self.display(&v, true)?)),
                    (_, Value::Instance(_)) => Value::str(&self.display(&v, false)?),
                    _ => v,
                };
                let s = match (&v, spec.is_empty()) {
                    (Value::Str(_), true) => v,
                    _ => Value::str(&format::format_value(&v, &spec)?),
                };
                stack.push(s);
            }
            Op::BuildString(n) => {
                let n = n as usize;
                if stack.len() < n {
                    return Err(underflow());
                }
                let mut out = String::new();
                for v in stack.drain(stack.len() - n..) {
                    out.push_str(&v.to_str());
                }
                stack.push(Value::str(&out));
            }
            Op::MakeCell(n) => {
                let slot = &mut locals[n as usize];
                *slot = Value::Cell(Arc::new(CellObj::new(std::mem::take(slot))));
            }
            // The closure's cells were put in their slots when the frame was made.
            Op::CopyFreeVars(_) => {}
            Op::LoadClosure(n) => stack.push(locals[n as usize].clone()),
            Op::LoadDeref(n) => {
                let v = match &locals[n as usize] {
                    Value::Cell(c) => c.get(),
                    _ => Value::Null,
                };
                if matches!(v, Value::Null) {
                    let name = code
                        .localsplus_names()
                        .get(n as usize)
                        .map_or_else(String::new, |s| s.to_string());
                    let free = code.freevars.iter().any(|f| **f == *name);
                    return Err(if free {
                        VmError::py(
                            "NameError",
                            format!(
                                "cannot access free variable '{name}' where it is not \
                                 associated with a value in enclosing scope"
                            ),
                        )
                    } else {
                        VmError::py(
                            "UnboundLocalError",
                            format!(
                                "cannot access local variable '{name}' where it is not \
                                 associated with a value"
                            ),
                        )
                    });
                }
                stack.push(v);
            }
            Op::StoreDeref(n) => {
                let v = stack.pop().ok_or_else(underflow)?;
                match &locals[n as usize] {
                    Value::Cell(c) => c.set(v),
                    _ => return Err(VmError::py("SystemError", "STORE_DEREF without a cell")),
                }
            }
            Op::ReturnValue => {}
            Op::PushExcInfo => {
                let exc = stack.pop().ok_or_else(underflow)?;
                let prev = std::mem::replace(&mut self.exc_info, exc.clone());
                stack.push(prev);
                stack.push(exc);
            }
            Op::PopExcept => self.exc_info = stack.pop().ok_or_else(underflow)?,
            Op::Reraise(_) => {
                let exc = stack.pop().ok_or_else(underflow)?;
                return Err(exception::raise(exc));
            }
            Op::CheckExcMatch => {
                let of = stack.pop().ok_or_else(underflow)?;
                let m = exception::matches(stack.last().ok_or_else(underflow)?, &of)?;
                stack.push(Value::Bool(m));
            }
            Op::RaiseVarargs(n) => return Err(self.raise_varargs(n, stack)),
            Op::LoadAssertionError => match exception::builtin_class("AssertionError") {
                Some(c) => stack.push(Value::Class(c)),
                None => return Err(VmError::py("SystemError", "no AssertionError")),
            },
            Op::BeforeWith if matches!(stack.last(), Some(Value::Instance(_))) => {
                let mgr = stack.pop().ok_or_else(underflow)?;
                let (Value::Instance(i), true) = (&mgr, true) else {
                    return Err(underflow());
                };
                let (Some(enter), Some(exit)) = (
                    i.class.user_method("__enter__"),
                    i.class.user_method("__exit__"),
                ) else {
                    return Err(VmError::type_error(format!(
                        "'{}' object does not support the context manager protocol",
                        i.class.name
                    )));
                };
                stack.push(Value::Method(Arc::new(value::BoundMethod {
                    this: mgr.clone(),
                    func: exit,
                })));
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value(&enter, vec![mgr])?;
                stack.push(r);
            }
            Op::BeforeAsyncWith => {
                let mgr = stack.pop().ok_or_else(underflow)?;
                let (enter, exit) = match &mgr {
                    Value::Instance(i) => (
                        i.class.user_method("__aenter__"),
                        i.class.user_method("__aexit__"),
                    ),
                    other => (
                        ops::method(other, "__aenter__").map(Value::Builtin),
                        ops::method(other, "__aexit__").map(Value::Builtin),
                    ),
                };
                let (Some(enter), Some(exit)) = (enter, exit) else {
                    return Err(VmError::type_error(format!(
                        "'{}' object does not support the asynchronous context manager protocol",
                        attrs::instance_type(&mgr)
                    )));
                };
                stack.push(Value::Method(Arc::new(value::BoundMethod {
                    this: mgr.clone(),
                    func: exit,
                })));
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value(&enter, vec![mgr])?;
                stack.push(r);
            }
            Op::BeforeWith => {
                let mgr = stack.pop().ok_or_else(underflow)?;
                let (Some(enter), Some(exit)) = (
                    ops::method(&mgr, "__enter__"),
                    ops::method(&mgr, "__exit__"),
                ) else {
                    return Err(VmError::type_error(format!(
                        "'{}' object does not support the context manager protocol",
                        mgr.type_name()
                    )));
                };
                stack.push(Value::Method(Arc::new(value::BoundMethod {
                    this: mgr.clone(),
                    func: Value::Builtin(exit),
                })));
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value(&Value::Builtin(enter), vec![mgr])?;
                stack.push(r);
            }
            Op::WithExceptStart => {
                // [__exit__, lasti, previous exception, exception]
                let len = stack.len();
                let (Some(exit), Some(val)) = (
                    len.checked_sub(4).and_then(|k| stack.get(k)).cloned(),
                    stack.last().cloned(),
                ) else {
                    return Err(underflow());
                };
                let ty = match &val {
                    Value::Instance(i) => Value::Class(Arc::clone(&i.class)),
                    _ => Value::None,
                };
                self.instructions += *executed;
                *executed = 0;
                let r = self.call_value(&exit, vec![ty, val, Value::None])?;
                stack.push(r);
            }
            Op::DeleteFast(n) => {
                let slot = &mut locals[n as usize];
                if matches!(slot, Value::Null) {
                    return Err(VmError::py(
                        "UnboundLocalError",
                        format!(
                            "cannot access local variable '{}' where it is not associated with a value",
                            code.varnames[n as usize]
                        ),
                    ));
                }
                *slot = Value::Null;
            }
            Op::DeleteName(n) if code.is_class_body => {
                let ns = class_ns(locals)
                    .ok_or_else(|| VmError::py("SystemError", "no class namespace"))?;
                let name = &code.names[n as usize];
                let key = Value::Str(Arc::clone(name));
                if ns.lock().remove(&key)?.is_none() {
                    return Err(VmError::py(
                        "NameError",
                        format!("name '{name}' is not defined"),
                    ));
                }
            }
            Op::LoadBuildClass => stack.push(Value::Builtin(Builtin::BuildClass)),
            Op::SetupAnnotations => {
                if code.is_class_body {
                    let ns = class_ns(locals)
                        .ok_or_else(|| VmError::py("SystemError", "no class namespace"))?;
                    let key = Value::str("__annotations__");
                    let mut ns = ns.lock();
                    if ns.get(&key)?.is_none() {
                        ns.insert(key, value::DictObj::new_value())?;
                    }
                } else if let Some(slot) = self.globals.slot("__annotations__")
                    && matches!(self.globals.load(slot), Value::Null)
                {
                    self.globals.store(slot, value::DictObj::new_value());
                }
            }
            Op::LoadClassDeref(n) => {
                let name = code
                    .localsplus_names()
                    .get(n as usize)
                    .cloned()
                    .unwrap_or_else(|| Arc::from("?"));
                let v = match class_ns(locals).and_then(|ns| ns_get(&ns, &name)) {
                    Some(v) => v,
                    None => match &locals[n as usize] {
                        Value::Cell(c) => c.get(),
                        _ => Value::Null,
                    },
                };
                if matches!(v, Value::Null) {
                    return Err(VmError::py(
                        "NameError",
                        format!(
                            "cannot access free variable '{name}' where it is not associated \
                             with a value in enclosing scope"
                        ),
                    ));
                }
                stack.push(v);
            }
            Op::StoreAttr(n) => {
                let obj = stack.pop().ok_or_else(underflow)?;
                let v = stack.pop().ok_or_else(underflow)?;
                self.set_attr(&obj, &code.names[n as usize], v)?;
            }
            Op::DeleteAttr(n) => {
                let obj = stack.pop().ok_or_else(underflow)?;
                self.del_attr(&obj, &code.names[n as usize])?;
            }
            Op::DeleteName(n) | Op::DeleteGlobal(n) => {
                let slot = code.global_slots[n as usize] as usize;
                if matches!(self.globals.load(slot), Value::Null) {
                    return Err(VmError::py(
                        "NameError",
                        format!("name '{}' is not defined", code.names[n as usize]),
                    ));
                }
                self.globals.store(slot, Value::Null);
            }
            Op::DeleteDeref(n) => match &locals[n as usize] {
                Value::Cell(c) => c.set(Value::Null),
                _ => return Err(VmError::py("SystemError", "DELETE_DEREF without a cell")),
            },
            Op::DeleteSubscr => {
                let key = stack.pop().ok_or_else(underflow)?;
                let container = stack.pop().ok_or_else(underflow)?;
                ops::delete_subscr(&container, &key)?;
            }
            _ => {
                return Err(VmError::py(
                    "SystemError",
                    format!("{op:?} reached step_cold"),
                ));
            }
        }
        Ok(())
    }

    /// `RAISE_VARARGS n`: the exception to raise, its cause and context set.
    fn raise_varargs(&mut self, n: u32, stack: &mut Vec<Value>) -> VmError {
        let cause = if n == 2 { stack.pop() } else { None };
        let exc = if n >= 1 { stack.pop() } else { None };
        let Some(exc) = exc else {
            return match &self.exc_info {
                Value::None => VmError::py("RuntimeError", "No active exception to reraise"),
                v => exception::raise(v.clone()),
            };
        };
        let exc = match exception::to_exception(exc) {
            Ok(e) => e,
            Err(e) => return e,
        };
        if let Some(c) = cause {
            let c = match c {
                Value::None => None,
                c => match exception::to_exception(c) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        return VmError::type_error(
                            "exception causes must derive from BaseException",
                        );
                    }
                },
            };
            exception::set_cause(&exc, c);
        }
        exception::set_context(&exc, &self.exc_info);
        exception::raise(exc)
    }

    #[inline(always)]
    fn load_global(&mut self, code: &Code, name: u32) -> Result<Value, VmError> {
        let slot = code.global_slots[name as usize] as usize;
        let v = if self.globals.is_shared(slot) {
            self.globals.load(slot)
        } else {
            if self.globals.generation() != self.snapshot_generation {
                (self.snapshot_generation, self.snapshot) = self.globals.snapshot();
            }
            fast_clone(&self.snapshot[slot])
        };
        match v {
            Value::Null => match Builtin::lookup(&code.names[name as usize]) {
                Some(b) => Ok(Value::Builtin(b)),
                None if let Some(c) = exception::builtin_class(&code.names[name as usize]) => {
                    Ok(Value::Class(c))
                }
                None if &*code.names[name as usize] == "NotImplemented" => {
                    Ok(Value::NotImplemented)
                }
                None if &*code.names[name as usize] == "Ellipsis" => Ok(Value::Ellipsis),
                None => Err(VmError::py(
                    "NameError",
                    format!("name '{}' is not defined", code.names[name as usize]),
                )),
            },
            v => Ok(v),
        }
    }

    /// Runs `f` with the GIL released, recorded as native work (NumPy's inner loops).
    fn without_gil<R>(&mut self, f: impl FnOnce() -> R) -> Result<R, VmError> {
        self.begin_allow_threads(Release::Native);
        let r = f();
        self.end_allow_threads()?;
        Ok(r)
    }

    /// Runs `f` with the GIL released when `release` (NumPy's rule for this operation says
    /// so), else holding it.
    fn gil_released_if<R>(&mut self, release: bool, f: impl FnOnce() -> R) -> Result<R, VmError> {
        if release {
            self.without_gil(f)
        } else {
            Ok(f())
        }
    }

    /// `a op b`; `op` as written (`+=` is named so in an error), computed as its base.
    fn binary_op(&mut self, op: BinOp, a: Value, b: Value) -> Result<Value, VmError> {
        let base = op.base();
        match (&a, &b) {
            (Value::Array(_), _) | (_, Value::Array(_)) => numpy::binary(self, base, &a, &b),
            (Value::NpFloat(_), _) | (_, Value::NpFloat(_)) => npscalar::binary(base, &a, &b),
            (Value::Set(x), Value::Set(y)) => set_methods::binary(base, x, y),
            _ => ops::binary(op, &a, &b),
        }
    }

    fn store_subscr(
        &mut self,
        container: &Value,
        key: &Value,
        value: Value,
    ) -> Result<(), VmError> {
        match container {
            Value::Array(arr) => numpy::store(self, arr, key, &value),
            Value::Mp(m) => match &**m {
                multiprocessing::MpObj::Shared(s) => mp_shared::store(s, key, value),
                _ => Err(VmError::type_error(format!(
                    "'{}' object does not support item assignment",
                    m.type_name()
                ))),
            },
            Value::List(l) => {
                if let Value::Slice(s) = key {
                    let new = self.iterate(&value)?;
                    return ops::store_slice(l, s, new);
                }
                let mut items = l.lock();
                let len = items.len();
                let i = key.as_i64().ok_or_else(|| {
                    VmError::type_error(format!(
                        "list indices must be integers or slices, not {}",
                        key.type_name()
                    ))
                })?;
                let k = ops::seq_index(i, len).ok_or_else(|| {
                    VmError::py("IndexError", "list assignment index out of range")
                })?;
                items[k] = value;
                Ok(())
            }
            Value::Dict(d) => d.lock().insert(key.clone(), value),
            other => Err(VmError::type_error(format!(
                "'{}' object does not support item assignment",
                other.type_name()
            ))),
        }
    }

    fn call_builtin(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        if b.is_threading() {
            return self.call_threading(b, args, kwargs);
        }
        if b.is_lock() {
            return self.call_lock(b, args, kwargs);
        }
        if let Some(r) = self.call_class_builtin(b, &args, &kwargs) {
            return r;
        }
        if let Builtin::Method(m) = b {
            return self.call_method(m, args, kwargs);
        }
        if b.is_futures() {
            return self.call_futures(b, args, kwargs);
        }
        if let Builtin::Asyncio(f) = b {
            return self.call_asyncio(f, args, kwargs);
        }
        if let Builtin::Collections(f) = b {
            return self.call_collections(f, args, kwargs);
        }
        if let Builtin::Mp(f) = b {
            return self.call_mp(f, args, kwargs);
        }
        if let Builtin::Urllib(f) = b {
            return self.call_urllib(f, args, kwargs);
        }
        if let Builtin::Legacy(f) = b {
            return self.call_legacy(f, args, kwargs);
        }
        if let Builtin::Logging(f) = b {
            return self.call_logging(f, args, kwargs);
        }
        if let Builtin::Tools(f) = b {
            return self.call_tools(f, args, kwargs);
        }
        if let Builtin::Numba(f) = b {
            return self.call_numba(f, args, kwargs);
        }
        if let Builtin::Heapq(f) = b {
            return self.call_heapq(f, args, kwargs);
        }
        if let Builtin::NamedTuple(f) = b {
            return self.call_namedtuple(f, args, kwargs);
        }
        if let Builtin::AsyncPrim(f) = b {
            return self.call_async_prim(f, args, kwargs);
        }
        if b == Builtin::SysIsGilEnabled {
            return Ok(Value::Bool(self.host.is_gil_enabled().unwrap_or(true)));
        }
        if b == Builtin::Open {
            return self.open_file(args, kwargs);
        }
        if let Builtin::File(f) = b {
            return self.call_file(f, args);
        }
        if matches!(b, Builtin::GenSend | Builtin::GenClose | Builtin::GenThrow) {
            return self.call_gen_method(b, args);
        }
        if small_builtins::is_small(b) {
            if let Some((k, _)) = kwargs.first() {
                return Err(VmError::type_error(format!(
                    "{}() takes no keyword arguments (got '{k}')",
                    b.name()
                )));
            }
            return small_builtins::call(b, &args);
        }
        match b {
            Builtin::ThreadingTimer => return self.new_timer(args, kwargs),
            Builtin::TimerRun => return self.timer_run(args),
            Builtin::TimerCancel => return self.timer_cancel(&args),
            Builtin::ThreadingLocal => {
                return Ok(Value::Local(Arc::new(timer::LocalObj::default())));
            }
            Builtin::Random(f) => return self.call_random(f, args, kwargs),
            Builtin::Sync(m) => return self.call_sync(m, args, kwargs),
            Builtin::SyncNew(kind) => return self.new_sync(kind, &args),
            Builtin::ThreadingMainThread => {
                return Ok(self
                    .host
                    .threads()
                    .first()
                    .cloned()
                    .map_or(Value::None, Value::Thread));
            }
            Builtin::ThreadingActiveCount | Builtin::ThreadingEnumerate => {
                let alive: Vec<Value> = self
                    .host
                    .threads()
                    .into_iter()
                    .filter(|t| t.state() == thread::ThreadState::Started)
                    .map(Value::Thread)
                    .collect();
                return Ok(if b == Builtin::ThreadingActiveCount {
                    Value::Int(alive.len() as i64)
                } else {
                    Value::list(alive)
                });
            }
            _ => {}
        }
        if b.is_set() {
            return self.call_set(b, args, kwargs);
        }
        if b.is_queue() {
            return self.call_queue(b, args, kwargs);
        }
        if let Builtin::Module(f) = b {
            return self.call_module_func(f, args, kwargs);
        }
        if b == Builtin::BuildClass {
            return self.build_class(args, kwargs);
        }
        if b == Builtin::ThreadInit {
            return self.thread_init(args, kwargs);
        }
        if b == Builtin::ProcessInit {
            return self.process_init(args, kwargs);
        }
        if b.is_collection_builtin() {
            return self.call_collection(b, args, kwargs);
        }
        if b != Builtin::Print
            && let Some((k, _)) = kwargs.first()
        {
            return Err(VmError::type_error(format!(
                "{}() got an unexpected keyword argument '{k}'",
                b.name()
            )));
        }
        match b {
            Builtin::TimeCpu { process, ns } => {
                if !args.is_empty() {
                    return Err(VmError::type_error(format!(
                        "{}() takes no arguments ({} given)",
                        b.name(),
                        args.len()
                    )));
                }
                let secs = if process {
                    self.host.process_cpu_secs()
                } else {
                    self.host.thread_cpu_secs()
                };
                let secs = secs.ok_or_else(|| {
                    VmError::py(
                        "NotImplementedError",
                        format!("time.{}() is not available in this mode", b.name()),
                    )
                })?;
                Ok(if ns {
                    Value::Int((secs * 1e9).round() as i64)
                } else {
                    Value::Float(secs)
                })
            }
            Builtin::TimeSleep => {
                let secs = match args.as_slice() {
                    [v] => v.as_f64().ok_or_else(|| {
                        VmError::type_error(format!(
                            "'{}' object cannot be interpreted as a number",
                            v.type_name()
                        ))
                    })?,
                    _ => return Err(VmError::type_error("sleep() takes exactly one argument")),
                };
                if secs.is_nan() || secs < 0.0 {
                    return Err(VmError::py(
                        "ValueError",
                        "sleep length must be non-negative",
                    ));
                }
                self.begin_allow_threads(Release::Io);
                let r = self.host.sleep(secs);
                self.end_allow_threads()?;
                r?;
                Ok(Value::None)
            }
            Builtin::Print => {
                let mut sep = Arc::from(" ");
                let mut end = Arc::from("\n");
                let mut file = Value::None;
                for (k, v) in kwargs {
                    let slot = match &*k {
                        "sep" => &mut sep,
                        "end" => &mut end,
                        "flush" => continue,
                        "file" => {
                            file = v;
                            continue;
                        }
                        _ => {
                            return Err(VmError::type_error(format!(
                                "'{k}' is an invalid keyword argument for print()"
                            )));
                        }
                    };
                    match v {
                        Value::Str(s) => *slot = s,
                        Value::None => {}
                        other => {
                            return Err(VmError::type_error(format!(
                                "{k} must be None or a string, not {}",
                                other.type_name()
                            )));
                        }
                    }
                }
                let mut items: Vec<String> = Vec::with_capacity(args.len());
                for a in &args {
                    items.push(self.display(a, false)?);
                }
                let mut text = items.join(&sep);
                text.push_str(&end);
                match file {
                    Value::None | Value::Module(StdModule::SysStdout) => {
                        self.host.write_stdout(&text);
                    }
                    Value::Module(StdModule::SysStderr) => self.host.write_stderr(&text),
                    // Any other file: its own `write`, as print calls it.
                    f => {
                        let write = self.get_attr(&f, "write")?;
                        self.call_value(&write, vec![Value::str(&text)])?;
                    }
                }
                Ok(Value::None)
            }
            Builtin::NpZeros
            | Builtin::NpOnes
            | Builtin::NpRandomRandn
            | Builtin::NpDot
            | Builtin::NpRandomRand
            | Builtin::ArraySum
            | Builtin::NpLinspace
            | Builtin::NpArange
            | Builtin::NpArraySplit => numpy::call(self, b, args),
            other => {
                // The builtins below take their iterables whole: a generator is run first.
                let mut whole = Vec::with_capacity(args.len());
                for a in args {
                    whole.push(match a {
                        Value::Generator(_) | Value::Instance(_) => Value::list(self.iterate(&a)?),
                        a => a,
                    });
                }
                ops::call_builtin(other, whole)
            }
        }
    }
}

/// A class body's namespace: the extra slot after its locals.
fn class_ns(locals: &[Value]) -> Option<Obj<value::DictObj>> {
    match locals.last() {
        Some(Value::Dict(d)) => Some(d.clone()),
        _ => None,
    }
}

/// `ns[name]` of a class namespace.
fn ns_get(ns: &value::DictObj, name: &str) -> Option<Value> {
    ns.lock()
        .iter()
        .find(|(k, _)| matches!(k, Value::Str(s) if &**s == name))
        .map(|(_, v)| v.clone())
}

/// The name CPython's call errors give a callable (`f` in "f() got …").
fn callable_name(v: &Value) -> String {
    match v {
        Value::Function(f) => f.code.name.to_string(),
        Value::Builtin(b) => b.name().to_owned(),
        other => other.type_name().to_owned(),
    }
}
