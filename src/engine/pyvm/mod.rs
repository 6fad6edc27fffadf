//! A small stack-based bytecode interpreter whose instruction stream mirrors what CPython 3.11
//! executes for the benchmark's functions, polling the GIL's eval breaker at the same points.

pub mod code;
pub mod programs;
pub mod value;

use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use ndarray::Array2;

use crate::engine::error::EngineError;
use crate::engine::trace::SpanState;
use code::{Attr, BinOp, Code, Op};
use value::{ArrayObj, Builtin, SliceObj, TupleIter, Value};

/// Why interpretation stopped early.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The run was cancelled at a checkpoint.
    #[error("cancelled")]
    Cancelled,
    /// A `TypeError`.
    #[error("TypeError: {0}")]
    Type(String),
    /// An `IndexError`.
    #[error("IndexError: {0}")]
    Index(String),
    /// Broken bytecode (stack underflow, bad local).
    #[error("SystemError: {0}")]
    System(String),
    /// The host failed (for example a pipe to the parent broke).
    #[error("{0}")]
    Host(String),
}

impl From<VmError> for EngineError {
    fn from(e: VmError) -> Self {
        match e {
            VmError::Cancelled => EngineError::Cancelled,
            other => EngineError::Vm(other.to_string()),
        }
    }
}

impl From<EngineError> for VmError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Cancelled => VmError::Cancelled,
            other => VmError::Host(other.to_string()),
        }
    }
}

/// What the interpreter needs from the thread that runs it: the GIL and the reporting hooks.
pub trait Host {
    /// Runs the eval-breaker handler: drop and re-take the GIL on request, stop on cancel.
    fn handle_eval_breaker(&mut self) -> Result<(), VmError>;
    /// Called every few thousand checkpoints, for cheap housekeeping.
    fn tick(&mut self);
    /// `Py_BEGIN_ALLOW_THREADS`: release the GIL for work recorded as `state`.
    fn begin_allow_threads(&mut self, state: SpanState);
    /// `Py_END_ALLOW_THREADS`: take the GIL back.
    fn end_allow_threads(&mut self) -> Result<(), VmError>;
    /// A finished iteration of the current problem.
    fn on_iteration(&mut self, grid: &ArrayObj) -> Result<(), VmError>;
    /// A finished problem.
    fn on_problem_done(&mut self, grid: &ArrayObj) -> Result<(), VmError>;
    /// The blocking wait of the io kernel (called with the GIL released).
    fn io_wait(&mut self) -> Result<(), VmError>;
}

/// The interpreter state of one thread.
pub struct Vm<'a, H: Host> {
    host: &'a mut H,
    breaker: &'a AtomicU32,
    globals: Vec<Value>,
    instructions: u64,
    checkpoints: u64,
}

const TICK_EVERY_CHECKPOINTS: u64 = 4096;

fn underflow() -> VmError {
    VmError::System("stack underflow".to_owned())
}

impl<'a, H: Host> Vm<'a, H> {
    /// An interpreter with the given globals (see [`programs::Program::globals`]).
    pub fn new(host: &'a mut H, breaker: &'a AtomicU32, globals: Vec<Value>) -> Self {
        Self {
            host,
            breaker,
            globals,
            instructions: 0,
            checkpoints: 0,
        }
    }

    /// Instructions executed so far.
    pub fn instructions(&self) -> u64 {
        self.instructions
    }

    /// The host.
    pub fn host(&mut self) -> &mut H {
        self.host
    }

    #[inline(always)]
    fn checkpoint(&mut self) -> Result<(), VmError> {
        if self.breaker.load(Ordering::Relaxed) != 0 {
            self.host.handle_eval_breaker()?;
        }
        self.checkpoints += 1;
        if self.checkpoints.is_multiple_of(TICK_EVERY_CHECKPOINTS) {
            self.host.tick();
        }
        Ok(())
    }

    /// Calls an interpreted function with positional arguments.
    pub fn call(&mut self, code: &Rc<Code>, args: Vec<Value>) -> Result<Value, VmError> {
        if args.len() != code.argcount {
            return Err(VmError::Type(format!(
                "{}() takes {} positional arguments but {} were given",
                code.name,
                code.argcount,
                args.len()
            )));
        }
        let mut locals = args;
        locals.resize(code.varnames.len(), Value::Null);
        let mut stack: Vec<Value> = Vec::with_capacity(16);
        let ops = &code.ops[..];
        let mut pc = 0usize;
        let mut executed = 0u64;
        let result = loop {
            let Some(&op) = ops.get(pc) else {
                break Err(VmError::System("fell off the end of the code".to_owned()));
            };
            pc += 1;
            executed += 1;
            match op {
                Op::Resume => self.checkpoint()?,
                Op::LoadFast(n) => match locals.get(n as usize) {
                    Some(Value::Null) | None => {
                        break Err(VmError::System(format!("unbound local {n}")));
                    }
                    Some(v) => stack.push(v.clone()),
                },
                Op::StoreFast(n) => {
                    let v = stack.pop().ok_or_else(underflow)?;
                    match locals.get_mut(n as usize) {
                        Some(slot) => *slot = v,
                        None => break Err(VmError::System(format!("bad local {n}"))),
                    }
                }
                Op::LoadConst(n) => match code.consts.get(n as usize) {
                    Some(v) => stack.push(v.clone()),
                    None => break Err(VmError::System(format!("bad constant {n}"))),
                },
                Op::LoadGlobal { idx, null } => {
                    if null {
                        stack.push(Value::Null);
                    }
                    match self.globals.get(idx as usize) {
                        Some(v) => stack.push(v.clone()),
                        None => break Err(VmError::System(format!("bad global {idx}"))),
                    }
                }
                Op::PushNull => stack.push(Value::Null),
                Op::LoadAttr(Attr::Shape) => {
                    let v = stack.pop().ok_or_else(underflow)?;
                    let Value::Array(a) = v else {
                        break Err(VmError::Type(format!(
                            "'{}' object has no attribute 'shape'",
                            v.type_name()
                        )));
                    };
                    let (n, m) = a.shape();
                    stack.push(Value::IntPair(n as i64, m as i64));
                }
                Op::UnpackSequence(n) => {
                    let v = stack.pop().ok_or_else(underflow)?;
                    match (v, n) {
                        (Value::IntPair(a, b), 2) => {
                            stack.push(Value::Int(b));
                            stack.push(Value::Int(a));
                        }
                        (Value::Tuple(t), n) if t.len() == n as usize => {
                            stack.extend(t.iter().rev().cloned());
                        }
                        (v, n) => {
                            break Err(VmError::Type(format!(
                                "cannot unpack {} into {n} values",
                                v.type_name()
                            )));
                        }
                    }
                }
                Op::BinaryOp(bop) => {
                    let b = stack.pop().ok_or_else(underflow)?;
                    // Fast paths (like CPython's specialised BINARY_OP_*_FLOAT/INT): in place.
                    match (stack.last_mut(), &b) {
                        (Some(Value::Float(x)), Value::Float(y)) => {
                            *x = float_op(bop, *x, *y);
                            continue;
                        }
                        (Some(Value::Int(x)), Value::Float(y)) if bop != BinOp::TrueDiv => {
                            let r = float_op(bop, *x as f64, *y);
                            if let Some(top) = stack.last_mut() {
                                *top = Value::Float(r);
                            }
                            continue;
                        }
                        (Some(Value::Int(x)), Value::Int(y)) if bop != BinOp::TrueDiv => {
                            if let Some(r) = int_op(bop, *x, *y) {
                                *x = r;
                                continue;
                            }
                        }
                        _ => {}
                    }
                    let a = stack.pop().ok_or_else(underflow)?;
                    stack.push(self.binary_op(bop, a, b)?);
                }
                Op::BinarySubscr => {
                    let key = stack.pop().ok_or_else(underflow)?;
                    if let (Value::IntPair(i, j), Some(Value::Array(arr))) = (&key, stack.last()) {
                        let v = arr.get(*i, *j)?;
                        if let Some(top) = stack.last_mut() {
                            *top = Value::Float(v);
                        }
                        continue;
                    }
                    let container = stack.pop().ok_or_else(underflow)?;
                    stack.push(subscript(&container, &key)?);
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
                        continue;
                    }
                    let key = stack.pop().ok_or_else(underflow)?;
                    let container = stack.pop().ok_or_else(underflow)?;
                    let value = stack.pop().ok_or_else(underflow)?;
                    self.store_subscr(&container, &key, value)?;
                }
                Op::BuildTuple(2) => {
                    let b = stack.pop().ok_or_else(underflow)?;
                    let a = stack.pop().ok_or_else(underflow)?;
                    let v = match (a, b) {
                        (Value::Int(a), Value::Int(b)) => Value::IntPair(a, b),
                        (a, b) => Value::Tuple(Rc::from([a, b])),
                    };
                    stack.push(v);
                }
                Op::BuildTuple(n) => {
                    let n = n as usize;
                    if stack.len() < n {
                        break Err(underflow());
                    }
                    let items = stack.split_off(stack.len() - n);
                    stack.push(Value::Tuple(items.into()));
                }
                Op::BuildSlice(2) => {
                    let stop = stack.pop().ok_or_else(underflow)?;
                    let start = stack.pop().ok_or_else(underflow)?;
                    let bound = |v: &Value| -> Result<Option<i64>, VmError> {
                        match v {
                            Value::None => Ok(None),
                            Value::Int(i) => Ok(Some(*i)),
                            other => Err(VmError::Type(format!(
                                "slice indices must be integers or None, not {}",
                                other.type_name()
                            ))),
                        }
                    };
                    stack.push(Value::Slice(Rc::new(SliceObj {
                        start: bound(&start)?,
                        stop: bound(&stop)?,
                    })));
                }
                Op::BuildSlice(n) => {
                    break Err(VmError::System(format!("BUILD_SLICE {n} is not supported")));
                }
                Op::GetIter => {
                    let v = stack.pop().ok_or_else(underflow)?;
                    let it = match v {
                        it @ (Value::RangeIter { .. } | Value::TupleIter(_)) => it,
                        Value::Tuple(items) => Value::TupleIter(Rc::new(TupleIter {
                            items,
                            pos: std::cell::Cell::new(0),
                        })),
                        other => {
                            break Err(VmError::Type(format!(
                                "'{}' object is not iterable",
                                other.type_name()
                            )));
                        }
                    };
                    stack.push(it);
                }
                Op::ForIter(target) => {
                    let next = match stack.last_mut() {
                        Some(Value::RangeIter { next, stop }) => {
                            if *next < *stop {
                                let v = *next;
                                *next += 1;
                                Some(Value::Int(v))
                            } else {
                                None
                            }
                        }
                        Some(Value::TupleIter(it)) => {
                            let p = it.pos.get();
                            it.pos.set(p + 1);
                            it.items.get(p).cloned()
                        }
                        _ => break Err(VmError::System("FOR_ITER without iterator".to_owned())),
                    };
                    match next {
                        Some(v) => stack.push(v),
                        None => {
                            stack.pop();
                            pc = target as usize;
                        }
                    }
                }
                Op::JumpBackward(target) => {
                    self.checkpoint()?;
                    pc = target as usize;
                }
                Op::Precall(_) => {}
                Op::Call(n) => {
                    self.checkpoint()?;
                    let n = n as usize;
                    if stack.len() < n + 2 {
                        break Err(underflow());
                    }
                    let args = stack.split_off(stack.len() - n);
                    let callable = stack.pop().ok_or_else(underflow)?;
                    let _null = stack.pop();
                    self.instructions += executed;
                    executed = 0;
                    let r = self.call_value(callable, args)?;
                    stack.push(r);
                }
                Op::PopTop => {
                    stack.pop().ok_or_else(underflow)?;
                }
                Op::ReturnValue => break Ok(stack.pop().unwrap_or(Value::None)),
            }
        };
        self.instructions += executed;
        result
    }

    fn call_value(&mut self, callable: Value, args: Vec<Value>) -> Result<Value, VmError> {
        match callable {
            Value::Function(code) => self.call(&code, args),
            Value::Builtin(b) => self.call_builtin(b, &args),
            other => Err(VmError::Type(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_builtin(&mut self, b: Builtin, args: &[Value]) -> Result<Value, VmError> {
        let array_arg = || match args {
            [Value::Array(a)] => Ok(Rc::clone(a)),
            _ => Err(VmError::Type("expected one array argument".to_owned())),
        };
        match b {
            Builtin::Range => {
                let (start, stop) = match args {
                    [s] => (0, s.as_i64()),
                    [a, s] => (a.as_i64().unwrap_or(i64::MAX), s.as_i64()),
                    _ => (0, None),
                };
                match stop {
                    Some(stop) if start != i64::MAX => Ok(Value::RangeIter { next: start, stop }),
                    _ => Err(VmError::Type(
                        "range() takes 1 or 2 int arguments".to_owned(),
                    )),
                }
            }
            Builtin::Zeros => {
                let shape = match args {
                    [Value::IntPair(n, m)] if *n >= 0 && *m >= 0 => (*n as usize, *m as usize),
                    _ => return Err(VmError::Type("zeros() takes a shape (n, m)".to_owned())),
                };
                Ok(Value::Array(Rc::new(ArrayObj::owned(Array2::zeros(shape)))))
            }
            Builtin::Tick => {
                self.host.on_iteration(&*array_arg()?)?;
                Ok(Value::None)
            }
            Builtin::Done => {
                self.host.on_problem_done(&*array_arg()?)?;
                Ok(Value::None)
            }
            Builtin::Recv => {
                self.host.begin_allow_threads(SpanState::Io);
                let r = self.host.io_wait();
                self.host.end_allow_threads()?;
                r?;
                Ok(Value::Int(0))
            }
        }
    }

    /// Runs array work with the GIL released, as NumPy's inner loops do.
    fn without_gil<R>(&mut self, f: impl FnOnce() -> R) -> Result<R, VmError> {
        self.host.begin_allow_threads(SpanState::Native);
        let r = f();
        self.host.end_allow_threads()?;
        Ok(r)
    }

    fn binary_op(&mut self, op: BinOp, a: Value, b: Value) -> Result<Value, VmError> {
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => {
                let r = match op {
                    BinOp::Add => x.checked_add(*y),
                    BinOp::Sub => x.checked_sub(*y),
                    BinOp::Mul => x.checked_mul(*y),
                    BinOp::TrueDiv => {
                        if *y == 0 {
                            return Err(VmError::Type("division by zero".to_owned()));
                        }
                        return Ok(Value::Float(*x as f64 / *y as f64));
                    }
                };
                r.map(Value::Int)
                    .ok_or_else(|| VmError::Type("integer overflow".to_owned()))
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.shape() != y.shape() {
                    return Err(VmError::Type(format!(
                        "operands could not be broadcast together with shapes {:?} {:?}",
                        x.shape(),
                        y.shape()
                    )));
                }
                let (x, y) = (Rc::clone(x), Rc::clone(y));
                let out = self.without_gil(|| {
                    x.with_view(|vx| {
                        y.with_view(|vy| match op {
                            BinOp::Add => &vx + &vy,
                            BinOp::Sub => &vx - &vy,
                            BinOp::Mul => &vx * &vy,
                            BinOp::TrueDiv => &vx / &vy,
                        })
                    })
                })?;
                Ok(Value::Array(Rc::new(ArrayObj::owned(out))))
            }
            (Value::Array(x), s) | (s, Value::Array(x)) => {
                let Some(s) = s.as_f64() else {
                    return Err(VmError::Type(format!(
                        "unsupported operand type for array: '{}'",
                        s.type_name()
                    )));
                };
                let array_left = matches!(a, Value::Array(_));
                let x = Rc::clone(x);
                let out = self.without_gil(|| {
                    x.with_view(|v| match (op, array_left) {
                        (BinOp::Add, _) => v.mapv(|e| e + s),
                        (BinOp::Mul, _) => v.mapv(|e| e * s),
                        (BinOp::Sub, true) => v.mapv(|e| e - s),
                        (BinOp::Sub, false) => v.mapv(|e| s - e),
                        (BinOp::TrueDiv, true) => v.mapv(|e| e / s),
                        (BinOp::TrueDiv, false) => v.mapv(|e| s / e),
                    })
                })?;
                Ok(Value::Array(Rc::new(ArrayObj::owned(out))))
            }
            _ => {
                let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                    return Err(VmError::Type(format!(
                        "unsupported operand types: '{}' and '{}'",
                        a.type_name(),
                        b.type_name()
                    )));
                };
                Ok(Value::Float(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::TrueDiv => x / y,
                }))
            }
        }
    }

    fn store_subscr(
        &mut self,
        container: &Value,
        key: &Value,
        value: Value,
    ) -> Result<(), VmError> {
        let Value::Array(arr) = container else {
            return Err(VmError::Type(format!(
                "'{}' object does not support item assignment",
                container.type_name()
            )));
        };
        match (key, &value) {
            (Value::IntPair(i, j), v) => {
                let v = v
                    .as_f64()
                    .ok_or_else(|| VmError::Type("array cells hold floats".to_owned()))?;
                arr.set(*i, *j, v)
            }
            (Value::Int(i), v) => {
                let row = arr.row(*i)?;
                self.assign_into(&row, v)
            }
            (Value::Tuple(t), v) => match &t[..] {
                [Value::Slice(rs), Value::Slice(cs)] => {
                    let view = arr.slice(rs, cs);
                    self.assign_into(&view, v)
                }
                _ => Err(VmError::Type("unsupported index".to_owned())),
            },
            _ => Err(VmError::Type(format!(
                "array indices must be ints or slices, not {}",
                key.type_name()
            ))),
        }
    }

    fn assign_into(&mut self, target: &ArrayObj, value: &Value) -> Result<(), VmError> {
        match value {
            Value::Array(src) => {
                let src = Rc::clone(src);
                self.without_gil(|| target.assign(&src))?
            }
            v => {
                let f = v
                    .as_f64()
                    .ok_or_else(|| VmError::Type("array cells hold floats".to_owned()))?;
                self.without_gil(|| target.fill(f))
            }
        }
    }
}

#[inline(always)]
fn float_op(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::TrueDiv => x / y,
    }
}

#[inline(always)]
fn int_op(op: BinOp, x: i64, y: i64) -> Option<i64> {
    match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::TrueDiv => None,
    }
}

fn subscript(container: &Value, key: &Value) -> Result<Value, VmError> {
    let Value::Array(arr) = container else {
        return Err(VmError::Type(format!(
            "'{}' object is not subscriptable",
            container.type_name()
        )));
    };
    match key {
        Value::IntPair(i, j) => Ok(Value::Float(arr.get(*i, *j)?)),
        Value::Int(i) => Ok(Value::Array(Rc::new(arr.row(*i)?))),
        Value::Tuple(t) => match &t[..] {
            [Value::Slice(rs), Value::Slice(cs)] => Ok(Value::Array(Rc::new(arr.slice(rs, cs)))),
            _ => Err(VmError::Type("unsupported index".to_owned())),
        },
        other => Err(VmError::Type(format!(
            "array indices must be ints or slices, not {}",
            other.type_name()
        ))),
    }
}
