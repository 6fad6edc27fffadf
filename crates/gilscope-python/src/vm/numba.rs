//! Numba's `jit`/`njit` and `prange`, stood in for by the interpreter. gilscope cannot compile
//! to machine code, so a jitted function runs as bytecode, but with the GIL as Numba's
//! compiled code has it: held for the whole call and never let go on a switch request (compiled
//! code has no eval-breaker), or released for the call with `nogil=True`. With
//! `parallel=True`, a `for i in prange(n)` loop in the function is split into one chunk per
//! core, as Numba's parfors are: each chunk runs on a thread of Numba's pool without the GIL,
//! its reduction variables (`total += …`) starting from the identity and summed into the
//! caller's afterwards. Its time is the interpreter's, not Numba's; the run says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::call::Kwargs;
use super::code::{BinOp, Code, Op};
use super::generator::{Exit, FrameState};
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

/// A function of the `numba` module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumbaFn {
    /// `numba.jit`, bare or with options.
    Jit,
    /// `numba.njit` (`jit(nopython=True)`).
    Njit,
    /// What `jit(nogil=…, parallel=…)` returns: the decorator with those options.
    Configured {
        /// `nogil=True`: the GIL is released for the call.
        nogil: bool,
        /// `parallel=True`: `prange` loops are split over Numba's threads.
        parallel: bool,
    },
    /// `numba.prange`: `range`, split over threads inside a `parallel=True` function.
    Prange,
    /// `numba.get_num_threads()`.
    GetNumThreads,
}

impl NumbaFn {
    /// The Python-level name.
    pub fn name(self) -> &'static str {
        match self {
            NumbaFn::Jit | NumbaFn::Configured { .. } => "jit",
            NumbaFn::Njit => "njit",
            NumbaFn::Prange => "prange",
            NumbaFn::GetNumThreads => "get_num_threads",
        }
    }
}

/// `numba.NAME`.
pub fn numba_attr(name: &str) -> Option<Value> {
    let f = match name {
        "jit" => NumbaFn::Jit,
        "njit" => NumbaFn::Njit,
        "prange" => NumbaFn::Prange,
        "get_num_threads" => NumbaFn::GetNumThreads,
        _ => return None,
    };
    Some(Value::Builtin(Builtin::Numba(f)))
}

/// A jitted function (Numba's `CPUDispatcher`).
#[derive(Debug)]
pub struct JitFunc {
    /// The Python function it wraps (`py_func`).
    pub func: Value,
    /// `nogil=True`.
    pub nogil: bool,
    /// `parallel=True`.
    pub parallel: bool,
    /// Whether the run was told, at the first call, how this function ran.
    noted: AtomicBool,
}

impl JitFunc {
    /// `jit(nogil=…, parallel=…)(func)`.
    pub fn new(func: Value, nogil: bool, parallel: bool) -> Self {
        Self {
            func,
            nogil,
            parallel,
            noted: AtomicBool::new(false),
        }
    }

    /// The function's name, for its repr and the run's note.
    pub fn name(&self) -> Arc<str> {
        match &self.func {
            Value::Function(f) => Arc::clone(&f.code.name),
            _ => Arc::from("function"),
        }
    }
}

/// Threads in Numba's pool: `NUMBA_NUM_THREADS`, the machine's cores.
pub fn num_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One chunk of a `prange` loop: the function's frame copied at the loop, to run its share of
/// the iterations and stop where the loop ends.
#[derive(Debug)]
pub struct PrangeChunk {
    frame: FrameState,
}

/// A chunk's index and its frame's locals once its iterations ran (or why it stopped).
pub type ChunkResult = (usize, Result<Vec<Value>, VmError>);

/// How a reduction variable's partial results combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduce {
    /// `+=` or `-=`: partials start at 0 and are added.
    Sum,
    /// `*=`: partials start at 1 and are multiplied.
    Product,
}

/// What the loop body at `ops[body]` writes: per local slot it stores, its reduction (or
/// `None`: private to each iteration). `None` overall where the body mixes the two for one
/// slot, or reduces with an operator Numba's parfors would not.
fn loop_writes(ops: &[Op], body: std::ops::Range<usize>) -> Option<Vec<(u32, Option<Reduce>)>> {
    let mut writes: Vec<(u32, Option<Reduce>)> = Vec::new();
    for j in body {
        let Some(Op::StoreFast(k)) = ops.get(j) else {
            continue;
        };
        let this = match j.checked_sub(1).and_then(|p| ops.get(p)) {
            Some(Op::BinaryOp(b)) if b.0 >= 13 => match b.base() {
                BinOp::ADD | BinOp::SUB => Some(Reduce::Sum),
                BinOp::MUL => Some(Reduce::Product),
                _ => return None,
            },
            _ => None,
        };
        match writes.iter().find(|(s, _)| s == k) {
            Some((_, seen)) if *seen != this => return None,
            Some(_) => {}
            None => writes.push((*k, this)),
        }
    }
    Some(writes)
}

/// The code of `code` with the instructions at `exit` replaced by `return None`, so that a
/// chunk's frame ends where the loop would have gone on.
fn returning_at(code: &Code, exit: usize) -> Code {
    let mut c = code.clone();
    let none = c.consts.len() as u32;
    c.consts.push(Value::None);
    while c.ops.len() < exit + 2 {
        c.ops.push(Op::Nop);
        c.lines.push(None);
        c.positions.push(None);
    }
    c.ops[exit] = Op::LoadConst(none);
    c.ops[exit + 1] = Op::ReturnValue;
    c
}

impl<H: Host> Vm<'_, H> {
    /// Calls a `numba` function.
    pub(super) fn call_numba(
        &mut self,
        f: NumbaFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match f {
            NumbaFn::Prange => {
                let r = self.call_value_kw(&Value::Builtin(Builtin::Range), args, kwargs)?;
                if let (Value::Range { start, stop, step }, Some(_)) = (&r, &self.parallel_code) {
                    self.prange_pending = Some((*start, *stop, *step));
                }
                Ok(r)
            }
            NumbaFn::GetNumThreads => Ok(Value::Int(num_threads() as i64)),
            NumbaFn::Jit | NumbaFn::Njit | NumbaFn::Configured { .. } => {
                let (mut nogil, mut parallel) = match f {
                    NumbaFn::Configured { nogil, parallel } => (nogil, parallel),
                    _ => (false, false),
                };
                for (k, v) in &kwargs {
                    match &**k {
                        "nogil" => nogil = v.truthy()?,
                        "parallel" => parallel = v.truthy()?,
                        // What the interpreter does not need: it runs every function alike.
                        "nopython" | "cache" | "fastmath" | "boundscheck" | "inline"
                        | "error_model" | "forceobj" | "looplift" => {}
                        other => {
                            return Err(VmError::type_error(format!(
                                "jit() got an unexpected keyword argument '{other}'"
                            )));
                        }
                    }
                }
                match args.into_iter().next() {
                    Some(func @ Value::Function(_)) => Ok(Value::Wrapper(Arc::new(
                        super::functools::WrapperObj::Jit(JitFunc::new(func, nogil, parallel)),
                    ))),
                    None => Ok(Value::Builtin(Builtin::Numba(NumbaFn::Configured {
                        nogil,
                        parallel,
                    }))),
                    // A signature string or list (`@jit("f8(f8[:])")`): accepted and unused.
                    Some(Value::Str(_) | Value::List(_) | Value::Tuple(_)) => {
                        Ok(Value::Builtin(Builtin::Numba(NumbaFn::Configured {
                            nogil,
                            parallel,
                        })))
                    }
                    Some(other) => Err(VmError::type_error(format!(
                        "The decorated object is not a function (got type {})",
                        other.type_name()
                    ))),
                }
            }
        }
    }

    /// Calls a jitted function: its bytecode, with the GIL as Numba's machine code has it.
    pub(super) fn call_jit(
        &mut self,
        j: &JitFunc,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        if !j.noted.swap(true, Ordering::Relaxed) {
            let gil = if j.nogil {
                "with the GIL released"
            } else {
                "holding the GIL throughout (compiled code never answers a switch request)"
            };
            let split = if j.parallel {
                format!(
                    ", its prange loops split over {} threads without the GIL",
                    num_threads()
                )
            } else {
                String::new()
            };
            self.host.note(format!(
                "numba: {}() ran in gilscope's interpreter {gil}{split}, as Numba's compiled \
                 code would; its time is the interpreter's, not Numba's",
                j.name()
            ));
        }
        if j.nogil {
            self.begin_allow_threads(Release::Native);
            self.nogil_depth += 1;
        }
        self.compiled_depth += 1;
        let parallel_code = match (&j.func, j.parallel) {
            (Value::Function(f), true) => Some(Arc::clone(&f.code)),
            _ => None,
        };
        let saved = std::mem::replace(&mut self.parallel_code, parallel_code);
        let r = self.call_value_kw(&j.func, args, kwargs);
        self.parallel_code = saved;
        self.compiled_depth -= 1;
        if j.nogil {
            self.nogil_depth -= 1;
            self.end_allow_threads()?;
        }
        r
    }

    /// At a `GET_ITER` of `code`, whether the range on top of the stack is the `prange` just
    /// made in the parallel function this thread runs.
    #[inline]
    pub(super) fn is_prange_loop(&mut self, code: &Arc<Code>, v: &Value) -> bool {
        let Some(r) = self.prange_pending.take() else {
            return false;
        };
        matches!(v, Value::Range { start, stop, step } if (*start, *stop, *step) == r)
            && self
                .parallel_code
                .as_ref()
                .is_some_and(|p| Arc::ptr_eq(p, code))
    }

    /// Runs the `prange` loop whose `FOR_ITER` is at `*pc` over `range`, split into chunks
    /// on Numba's threads; leaves the frame after the loop with the reductions combined.
    /// Returns the range back where the loop cannot be split (it then runs as a plain loop).
    pub(super) fn run_prange(
        &mut self,
        code: &Arc<Code>,
        (start, stop, step): (i64, i64, i64),
        stack: &[Value],
        locals: &mut [Value],
        pc: &mut usize,
    ) -> Result<bool, VmError> {
        let Some(&Op::ForIter(exit)) = code.ops.get(*pc) else {
            return Ok(false);
        };
        let exit = exit as usize;
        let Some(writes) = loop_writes(&code.ops, *pc + 1..exit) else {
            return Ok(false);
        };
        let numeric = |v: &Value| {
            matches!(
                v,
                Value::Int(_) | Value::Float(_) | Value::NpFloat(_) | Value::BigInt(_)
            )
        };
        if writes
            .iter()
            .any(|(k, r)| r.is_some() && !locals.get(*k as usize).is_some_and(numeric))
        {
            return Ok(false);
        }
        let n = super::value::range_len(start, stop, step).max(0);
        let parts = num_threads().min(n as usize);
        if parts < 2 {
            return Ok(false);
        }
        let chunk_code = Arc::new(returning_at(code, exit));
        let bounds = |c: usize| (n as i128 * c as i128 / parts as i128) as i64;
        let mut chunks: Vec<PrangeChunk> = (0..parts)
            .map(|c| {
                let mut l = locals.to_vec();
                for (k, r) in &writes {
                    if let Some(r) = r {
                        l[*k as usize] = Value::Int(i64::from(*r == Reduce::Product));
                    }
                }
                let mut s = stack.to_vec();
                s.push(Value::RangeIter {
                    next: start + bounds(c) * step,
                    stop: start + bounds(c + 1) * step,
                    step,
                });
                PrangeChunk {
                    frame: FrameState {
                        code: Arc::clone(&chunk_code),
                        stack: s,
                        locals: l,
                        pc: *pc,
                    },
                }
            })
            .collect();
        let first = chunks.remove(0);
        let rest = self.host.start_prange(chunks);
        let mut results: Vec<Option<Vec<Value>>> = vec![None; parts];
        results[0] = Some(self.run_prange_chunk(first, false)?);
        match rest {
            Ok(rx) => self.collect_chunks(&rx, &mut results)?,
            Err(chunks) => {
                // No pool here: the caller runs the other chunks in turn.
                for (c, chunk) in chunks.into_iter().enumerate() {
                    results[c + 1] = Some(self.run_prange_chunk(chunk, false)?);
                }
            }
        }
        for (k, r) in &writes {
            let k = *k as usize;
            match r {
                Some(r) => {
                    let op = if *r == Reduce::Sum {
                        BinOp::ADD
                    } else {
                        BinOp::MUL
                    };
                    for part in results.iter().flatten() {
                        let acc = std::mem::replace(&mut locals[k], Value::None);
                        locals[k] = self.binary_op(op, acc, part[k].clone())?;
                    }
                }
                // A private variable keeps what the last iteration left, as after a plain loop.
                None => {
                    if let Some(last) = results.iter().flatten().last() {
                        locals[k] = last[k].clone();
                    }
                }
            }
        }
        *pc = exit;
        Ok(true)
    }

    /// Waits for the chunks Numba's pool runs, checking for cancel.
    fn collect_chunks(
        &mut self,
        rx: &Receiver<ChunkResult>,
        results: &mut [Option<Vec<Value>>],
    ) -> Result<(), VmError> {
        let mut left = results.iter().filter(|r| r.is_none()).count();
        while left > 0 {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok((c, r)) => {
                    if let Some(slot) = results.get_mut(c + 1) {
                        *slot = Some(r?);
                    }
                    left -= 1;
                }
                Err(RecvTimeoutError::Timeout) => self.host.poll_cancel()?,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(VmError::py(
                        "SystemError",
                        "a thread of Numba's pool ended without its chunk",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Runs one chunk of a `prange` loop to the loop's end, as compiled code (no switch
    /// requests answered), `released` where this thread runs without the GIL (a thread of
    /// Numba's pool). Returns the frame's locals.
    pub fn run_prange_chunk(
        &mut self,
        chunk: PrangeChunk,
        released: bool,
    ) -> Result<Vec<Value>, VmError> {
        let mut st = chunk.frame;
        self.compiled_depth += 1;
        self.nogil_depth += u32::from(released);
        let r = self.run_frame(&mut st);
        self.nogil_depth -= u32::from(released);
        self.compiled_depth -= 1;
        match r? {
            Exit::Return(_) => Ok(st.locals),
            Exit::Yield(_) | Exit::Generator => {
                Err(VmError::py("SystemError", "a prange loop may not yield"))
            }
        }
    }
}
