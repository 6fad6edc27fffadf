//! The iteration protocol the eval loop drives: `GET_ITER`, the next item `FOR_ITER` takes,
//! and what `yield from` and `await` add to it: `GET_YIELD_FROM_ITER`'s and `GET_AWAITABLE`'s
//! iterators and `SEND`, as `Python/ceval.c` and `Objects/genobject.c` run them in 3.11.

use std::sync::Arc;

use super::exception;
use super::generator::Sent;
use super::value::{Builtin, SeqIter, Value};
use super::{Host, Vm, VmError, attrs, ops};

/// A range iterator's next int, advancing it in place (`rangeiter_next`).
#[inline(always)]
pub(super) fn range_next(next: &mut i64, stop: i64, step: i64) -> Option<i64> {
    let more = if step > 0 { *next < stop } else { *next > stop };
    if !more {
        return None;
    }
    let v = *next;
    *next = next.saturating_add(step);
    Some(v)
}

/// The method of a generator or coroutine `LOAD_METHOD` binds.
pub fn method(name: &str) -> Option<Builtin> {
    match name {
        "send" => Some(Builtin::GenSend),
        "close" => Some(Builtin::GenClose),
        "throw" => Some(Builtin::GenThrow),
        _ => None,
    }
}

fn stop_iteration(value: Value) -> VmError {
    let args = if matches!(value, Value::None) {
        Vec::new()
    } else {
        vec![value]
    };
    exception::raise_builtin("StopIteration", args)
}

impl<H: Host> Vm<'_, H> {
    /// `GET_AITER`: an async generator itself, or what an object's `__aiter__` returns.
    pub(super) fn get_aiter(&mut self, v: Value) -> Result<Value, VmError> {
        match v {
            Value::Generator(g) if g.is_async_gen => Ok(Value::Generator(g)),
            v => match self.call_dunder(&v, "__aiter__", Vec::new()) {
                Some(r) => r,
                None => Err(VmError::type_error(format!(
                    "'async for' requires an object with __aiter__ method, got {}",
                    attrs::instance_type(&v)
                ))),
            },
        }
    }

    /// `GET_ANEXT`: the awaitable of the next item of an asynchronous iterator.
    pub(super) fn get_anext(&mut self, it: &Value) -> Result<Value, VmError> {
        match it {
            Value::Generator(g) if g.is_async_gen => Ok(Value::AsyncGenNext(g.clone())),
            _ => match self.call_dunder(it, "__anext__", Vec::new()) {
                Some(r) => {
                    let next = r?;
                    self.get_awaitable(next).map_err(|_| {
                        VmError::type_error("'async for' received an invalid object from __anext__")
                    })
                }
                None => Err(VmError::type_error(format!(
                    "'async for' requires an iterator with __anext__ method, got {}",
                    attrs::instance_type(it)
                ))),
            },
        }
    }

    /// `send` (the next yielded value, or `StopIteration` with the returned one) and `close`
    /// (here: marks a suspended generator finished without running its `finally` blocks).
    pub(super) fn call_gen_method(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
    ) -> Result<Value, VmError> {
        let (Some(Value::Generator(g)), n) = (args.first(), args.len()) else {
            return Err(VmError::type_error(format!(
                "{}() needs a generator",
                b.name()
            )));
        };
        let g = g.clone();
        match (b, n) {
            (Builtin::GenSend, 2) => match self.gen_send(&g, args[1].clone())? {
                Sent::Yielded(v) => Ok(v),
                Sent::Returned(v) => Err(stop_iteration(v)),
                Sent::Exhausted if g.is_coroutine => Err(VmError::py(
                    "RuntimeError",
                    "cannot reuse already awaited coroutine",
                )),
                Sent::Exhausted => Err(stop_iteration(Value::None)),
            },
            (Builtin::GenClose, 1) => {
                self.gen_close(&g)?;
                Ok(Value::None)
            }
            (Builtin::GenThrow, 2..=4) => {
                // throw(exc), or the old throw(type, value=None, traceback=None).
                let exc = match (&args[1], args.get(2)) {
                    (Value::Class(c), Some(v)) if !matches!(v, Value::None) => match v {
                        Value::Instance(_) => v.clone(),
                        other => exception::new_exception(Arc::clone(c), vec![other.clone()]),
                    },
                    (v, _) => exception::to_exception(v.clone())?,
                };
                match self.gen_throw(&g, exc)? {
                    Sent::Yielded(v) => Ok(v),
                    Sent::Returned(v) => Err(stop_iteration(v)),
                    Sent::Exhausted => Err(stop_iteration(Value::None)),
                }
            }
            (_, n) => Err(VmError::type_error(format!(
                "{}() takes exactly {} argument{} ({} given)",
                b.name(),
                if b == Builtin::GenSend { "one" } else { "no" },
                if b == Builtin::GenSend { "" } else { "s" },
                n - 1
            ))),
        }
    }

    /// `iter(v)` as `GET_ITER` makes it: `__iter__` for instances, else the built-in iterator.
    pub(super) fn get_iter(&mut self, v: Value) -> Result<Value, VmError> {
        if let Some(r) = self.call_dunder(&v, "__iter__", Vec::new()) {
            return r;
        }
        Ok(match v {
            Value::Range { start, stop, step } => Value::RangeIter {
                next: start,
                stop,
                step,
            },
            it @ (Value::RangeIter { .. } | Value::SeqIter(_) | Value::Generator(_)) => it,
            seq @ (Value::Tuple(_) | Value::List(_) | Value::IntPair(..)) => {
                Value::SeqIter(Arc::new(SeqIter {
                    seq,
                    pos: Default::default(),
                }))
            }
            Value::Array(a) => Value::SeqIter(Arc::new(SeqIter {
                seq: Value::list(ops::array_rows(&a)?),
                pos: Default::default(),
            })),
            Value::File(f) => Value::SeqIter(Arc::new(SeqIter {
                seq: Value::list(f.remaining_lines()?),
                pos: Default::default(),
            })),
            v @ (Value::Str(_)
            | Value::Bytes(_)
            | Value::Mp(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::Deque(_)
            | Value::DictView(_)) => Value::SeqIter(Arc::new(SeqIter {
                seq: Value::list(ops::iterate(&v)?),
                pos: Default::default(),
            })),
            other => {
                return Err(VmError::type_error(format!(
                    "'{}' object is not iterable",
                    other.type_name()
                )));
            }
        })
    }

    /// `tp_iternext`: the iterator's next item, or `None` once it is exhausted (a range
    /// iterator advances in place).
    pub(super) fn iter_next(&mut self, it: &mut Value) -> Result<Option<Value>, VmError> {
        match it {
            Value::RangeIter { next, stop, step } => {
                Ok(range_next(next, *stop, *step).map(Value::Int))
            }
            Value::SeqIter(s) => Ok(ops::seq_next(s)),
            Value::Generator(g) => {
                let g = g.clone();
                self.gen_next(&g)
            }
            Value::Instance(_) => {
                let it = it.clone();
                match self.call_dunder(&it, "__next__", Vec::new()) {
                    Some(Ok(v)) => Ok(Some(v)),
                    Some(Err(VmError::Py(p))) if &*p.exc == "StopIteration" => Ok(None),
                    Some(Err(e)) => Err(e),
                    None => Err(VmError::type_error(format!(
                        "'{}' object is not an iterator",
                        attrs::instance_type(&it)
                    ))),
                }
            }
            other => Err(VmError::type_error(format!(
                "'{}' object is not an iterator",
                other.type_name()
            ))),
        }
    }

    /// `SEND`'s step: `value` into the sub-iterator `recv` (a generator's or coroutine's
    /// `send`, an asyncio awaitable's step, or `next` for any other iterator, as `SEND` does
    /// when the value is `None`).
    pub(super) fn send_into(&mut self, recv: &mut Value, value: Value) -> Result<Sent, VmError> {
        match recv {
            Value::Generator(g) => {
                let g = g.clone();
                self.gen_send(&g, value)
            }
            Value::Awaitable(f) => {
                let f = Arc::clone(f);
                self.await_step(&f)
            }
            // `async_gen_asend_send`: the async generator runs to its next `yield` (the
            // awaitable's result) or passes an inner `await`'s value up to the loop.
            Value::AsyncGenNext(g) => {
                let g = g.clone();
                match self.gen_send(&g, value)? {
                    Sent::Yielded(v) if g.suspended_at_async_yield() => Ok(Sent::Returned(v)),
                    Sent::Yielded(v) => Ok(Sent::Yielded(v)),
                    Sent::Returned(_) | Sent::Exhausted => {
                        Err(exception::raise_builtin("StopAsyncIteration", Vec::new()))
                    }
                }
            }
            it if matches!(value, Value::None) => Ok(match self.iter_next(it)? {
                Some(v) => Sent::Yielded(v),
                None => Sent::Returned(Value::None),
            }),
            other => Err(VmError::py(
                "AttributeError",
                format!("'{}' object has no attribute 'send'", other.type_name()),
            )),
        }
    }

    /// `GET_AWAITABLE`'s `_PyCoro_GetAwaitableIter`: a coroutine or asyncio awaitable itself,
    /// or what an object's `__await__` returns.
    pub(super) fn get_awaitable(&mut self, v: Value) -> Result<Value, VmError> {
        match v {
            Value::Generator(g) if g.is_coroutine => Ok(Value::Generator(g)),
            a @ Value::Awaitable(_) => Ok(a),
            v @ Value::Instance(_) => match self.call_dunder(&v, "__await__", Vec::new()) {
                Some(r) => match r? {
                    Value::Generator(g) if g.is_coroutine => {
                        Err(VmError::type_error("__await__() returned a coroutine"))
                    }
                    it @ (Value::Generator(_) | Value::SeqIter(_) | Value::Instance(_)) => Ok(it),
                    other => Err(VmError::type_error(format!(
                        "__await__() returned non-iterator of type '{}'",
                        other.type_name()
                    ))),
                },
                None => Err(VmError::type_error(format!(
                    "object {} can't be used in 'await' expression",
                    attrs::instance_type(&v)
                ))),
            },
            other => Err(VmError::type_error(format!(
                "object {} can't be used in 'await' expression",
                other.type_name()
            ))),
        }
    }
}
