//! Python semantics of the operations on non-array values: arithmetic, comparisons, indexing,
//! iteration, attributes and the small builtins.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::VmError;
use super::code::{BinOp, CmpOp, Op};
use super::object::Obj;
use super::value::{Builtin, SeqIter, Value, range_len};

fn overflow() -> VmError {
    VmError::py(
        "OverflowError",
        "int result does not fit in 64 bits (gilscope's ints are 64-bit)",
    )
}

/// Whether a float op has an in-place fast path (a division only by a non-zero divisor).
#[inline(always)]
pub fn float_fast(op: BinOp, y: f64) -> bool {
    matches!(op, BinOp::ADD | BinOp::SUB | BinOp::MUL) || (op == BinOp::TRUE_DIV && y != 0.0)
}

/// `x op y` on floats for the fast-path operators.
#[inline(always)]
pub fn float_op(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::ADD => x + y,
        BinOp::SUB => x - y,
        BinOp::TRUE_DIV => x / y,
        _ => x * y,
    }
}

/// Whether an int op has an in-place fast path.
#[inline(always)]
pub fn int_fast(op: BinOp) -> bool {
    matches!(op, BinOp::ADD | BinOp::SUB | BinOp::MUL)
}

/// `x op y` on ints for the fast-path operators; `None` on overflow.
#[inline(always)]
pub fn int_fast_op(op: BinOp, x: i64, y: i64) -> Option<i64> {
    match op {
        BinOp::ADD => x.checked_add(y),
        BinOp::SUB => x.checked_sub(y),
        _ => x.checked_mul(y),
    }
}

fn int_binary(op: BinOp, x: i64, y: i64) -> Result<Value, VmError> {
    match int_binary_small(op, x, y) {
        // A result outside 64 bits: the same operation on unbounded ints.
        Err(VmError::Py(p)) if &*p.exc == "OverflowError" => super::bigint::binary(
            op,
            &num_bigint::BigInt::from(x),
            &num_bigint::BigInt::from(y),
        ),
        r => r,
    }
}

fn int_binary_small(op: BinOp, x: i64, y: i64) -> Result<Value, VmError> {
    let zero = || VmError::py("ZeroDivisionError", "integer division or modulo by zero");
    Ok(Value::Int(match op {
        BinOp::ADD => x.checked_add(y).ok_or_else(overflow)?,
        BinOp::SUB => x.checked_sub(y).ok_or_else(overflow)?,
        BinOp::MUL => x.checked_mul(y).ok_or_else(overflow)?,
        BinOp::TRUE_DIV => {
            if y == 0 {
                return Err(VmError::py("ZeroDivisionError", "division by zero"));
            }
            return Ok(Value::Float(x as f64 / y as f64));
        }
        BinOp::FLOOR_DIV => {
            if y == 0 {
                return Err(zero());
            }
            let q = x.checked_div(y).ok_or_else(overflow)?;
            if x % y != 0 && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::MOD => {
            if y == 0 {
                return Err(zero());
            }
            let r = x.checked_rem(y).unwrap_or(0);
            if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::POW => {
            if y < 0 {
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            let e = u32::try_from(y).map_err(|_| overflow())?;
            x.checked_pow(e).ok_or_else(overflow)?
        }
        BinOp::AND => x & y,
        BinOp::OR => x | y,
        BinOp::XOR => x ^ y,
        BinOp::LSHIFT | BinOp::RSHIFT => {
            if y < 0 {
                return Err(VmError::py("ValueError", "negative shift count"));
            }
            if op == BinOp::RSHIFT {
                x >> y.min(63)
            } else {
                let r = x.checked_shl(u32::try_from(y).map_err(|_| overflow())?);
                match r {
                    Some(r) if r >> y.min(63) == x => r,
                    _ => return Err(overflow()),
                }
            }
        }
        _ => return Err(unsupported(op, "int", "int")),
    }))
}

fn float_binary(op: BinOp, x: f64, y: f64) -> Result<Value, VmError> {
    Ok(Value::Float(match op {
        BinOp::ADD => x + y,
        BinOp::SUB => x - y,
        BinOp::MUL => x * y,
        BinOp::TRUE_DIV => {
            if y == 0.0 {
                return Err(VmError::py("ZeroDivisionError", "float division by zero"));
            }
            x / y
        }
        BinOp::FLOOR_DIV => {
            if y == 0.0 {
                return Err(VmError::py(
                    "ZeroDivisionError",
                    "float floor division by zero",
                ));
            }
            (x / y).floor()
        }
        BinOp::MOD => {
            if y == 0.0 {
                return Err(VmError::py("ZeroDivisionError", "float modulo"));
            }
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::POW => x.powf(y),
        _ => return Err(unsupported(op, "float", "float")),
    }))
}

/// The TypeError of `a op b` for operand types `a` and `b`, in CPython's words (a sequence's
/// `+` and `*` have their own).
pub(super) fn unsupported(op: BinOp, a: &str, b: &str) -> VmError {
    let base = op.base();
    let text = match (a, b) {
        ("str" | "list" | "tuple", _) if base == BinOp::ADD => {
            format!("can only concatenate {a} (not \"{b}\") to {a}")
        }
        ("bytes" | "bytearray", _) if base == BinOp::ADD => format!("can't concat {b} to {a}"),
        ("str" | "list" | "tuple" | "bytes", "str" | "list" | "tuple" | "float" | "bytes")
            if base == BinOp::MUL =>
        {
            format!("can't multiply sequence by non-int of type '{b}'")
        }
        // `x ** y` fails as `pow()` would (`x **= y` keeps its own name).
        _ if op == BinOp::POW => {
            format!("unsupported operand type(s) for ** or pow(): '{a}' and '{b}'")
        }
        _ => format!(
            "unsupported operand type(s) for {}: '{a}' and '{b}'",
            op.symbol()
        ),
    };
    VmError::type_error(text)
}

/// `a op b` for every type but arrays.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, VmError> {
    let written = op;
    let op = op.base();
    match (a, b) {
        (Value::Int(_) | Value::Bool(_), Value::Int(_) | Value::Bool(_)) => {
            int_binary(op, a.as_i64().unwrap_or(0), b.as_i64().unwrap_or(0))
        }
        (Value::BigInt(_), Value::Int(_) | Value::Bool(_) | Value::BigInt(_))
        | (Value::Int(_) | Value::Bool(_), Value::BigInt(_)) => {
            match (super::bigint::as_big(a), super::bigint::as_big(b)) {
                (Some(x), Some(y)) => super::bigint::binary(op, &x, &y),
                _ => Err(unsupported(op, a.type_name(), b.type_name())),
            }
        }
        (Value::BigInt(x), Value::Float(y)) => float_binary(op, super::bigint::to_float(x)?, *y),
        (Value::Float(x), Value::BigInt(y)) => float_binary(op, *x, super::bigint::to_float(y)?),
        (
            Value::Float(_) | Value::Int(_) | Value::Bool(_),
            Value::Float(_) | Value::Int(_) | Value::Bool(_),
        ) => float_binary(op, a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0)),
        (Value::Str(f), args) if op == BinOp::MOD => {
            Ok(Value::str(&super::format::percent_format(f, args)?))
        }
        (Value::Str(x), Value::Str(y)) if op == BinOp::ADD => {
            Ok(Value::Str(Arc::from(format!("{x}{y}"))))
        }
        (Value::Bytes(x), Value::Bytes(y)) if op == BinOp::ADD => {
            Ok(super::bytes::new([&x[..], &y[..]].concat()))
        }
        (Value::Bytes(x), n) | (n, Value::Bytes(x)) if op == BinOp::MUL && n.as_i64().is_some() => {
            let k = n.as_i64().unwrap_or(0).max(0) as usize;
            super::memory::check(x.len(), k)?;
            Ok(super::bytes::new(x.repeat(k)))
        }
        (Value::Str(s), n) | (n, Value::Str(s)) if op == BinOp::MUL && n.as_i64().is_some() => {
            let k = n.as_i64().unwrap_or(0).max(0) as usize;
            super::memory::check(s.len(), k)?;
            Ok(Value::Str(Arc::from(s.repeat(k))))
        }
        (Value::List(x), Value::List(y)) if op == BinOp::ADD => {
            let mut items = x.lock().clone();
            items.extend(y.lock().iter().cloned());
            Ok(Value::list(items))
        }
        (Value::List(l), n) | (n, Value::List(l)) if op == BinOp::MUL && n.as_i64().is_some() => {
            let k = n.as_i64().unwrap_or(0).max(0) as usize;
            let items = l.lock().clone();
            let mut out = super::memory::vec_with_capacity(items.len().saturating_mul(k))?;
            for _ in 0..k {
                out.extend(items.iter().cloned());
            }
            Ok(Value::list(out))
        }
        (Value::Tuple(_) | Value::IntPair(..), Value::Tuple(_) | Value::IntPair(..))
            if op == BinOp::ADD =>
        {
            let mut items = iterate(a)?;
            items.extend(iterate(b)?);
            Ok(Value::Tuple(items.into()))
        }
        // `int | None`, `list[int] | str` (PEP 604): a union of types, stood in for by
        // `object`, as annotations use it.
        (x, y) if op == BinOp::OR && is_type_like(x, true) && is_type_like(y, true) => {
            Ok(Value::Builtin(Builtin::Object))
        }
        _ => Err(unsupported(written, a.type_name(), b.type_name())),
    }
}

/// Whether `v` is a class (a built-in type, a program's or a library's class), or `None`
/// where `none_too`: what a type annotation is made of.
fn is_type_like(v: &Value, none_too: bool) -> bool {
    match v {
        Value::Builtin(b) => b.is_type(),
        Value::Class(_) => true,
        Value::None => none_too,
        _ => false,
    }
}

/// `-x`, `+x`, `not x`, `~x`.
pub fn unary(op: Op, v: Value) -> Result<Value, VmError> {
    let bad = |name: &str, v: &Value| {
        VmError::type_error(format!(
            "bad operand type for unary {name}: '{}'",
            v.type_name()
        ))
    };
    match op {
        Op::UnaryNot => Ok(Value::Bool(!v.truthy()?)),
        Op::UnaryNegative => match v {
            Value::Float(f) => Ok(Value::Float(-f)),
            Value::NpFloat(s) => Ok(super::npscalar::float64(-s.value)),
            ref i if i.as_i64().is_some() => {
                let x = i.as_i64().unwrap_or(0);
                Ok(match x.checked_neg() {
                    Some(n) => Value::Int(n),
                    None => super::bigint::int_value(-num_bigint::BigInt::from(x)),
                })
            }
            Value::BigInt(b) => Ok(super::bigint::int_value(-(*b).clone())),
            other => Err(bad("-", &other)),
        },
        Op::UnaryPositive => match v {
            Value::Float(_) | Value::Int(_) | Value::NpFloat(_) => Ok(v),
            Value::Bool(b) => Ok(Value::Int(i64::from(b))),
            other => Err(bad("+", &other)),
        },
        _ => match v.as_i64() {
            Some(i) => Ok(Value::Int(!i)),
            None => Err(bad("~", &v)),
        },
    }
}

/// `a < b` and friends.
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, VmError> {
    use std::cmp::Ordering as O;
    match op {
        CmpOp::Eq => return Ok(a.py_eq(b)),
        CmpOp::Ne => return Ok(!a.py_eq(b)),
        _ => {}
    }
    let seq = |v: &Value| match v {
        Value::Tuple(_) | Value::IntPair(..) => Some((iterate(v).unwrap_or_default(), true)),
        Value::List(l) => Some((l.lock().clone(), false)),
        _ => None,
    };
    if let (Value::Set(x), Value::Set(y)) = (a, b) {
        // Subset order.
        let sub = |p: &super::set::SetObj, q: &super::set::SetObj| {
            p.items().iter().all(|v| q.contains(v).unwrap_or(false))
        };
        return Ok(match op {
            CmpOp::Le => sub(x, y),
            CmpOp::Lt => x.len() < y.len() && sub(x, y),
            CmpOp::Ge => sub(y, x),
            _ => y.len() < x.len() && sub(y, x),
        });
    }
    if let (Some((x, xt)), Some((y, yt))) = (seq(a), seq(b))
        && xt == yt
    {
        // Lexicographic: the first unequal items decide, else the lengths.
        for (p, q) in x.iter().zip(&y) {
            if !p.py_eq(q) {
                return compare(op, p, q);
            }
        }
        let (n, m) = (x.len(), y.len());
        return Ok(match op {
            CmpOp::Lt => n < m,
            CmpOp::Le => n <= m,
            CmpOp::Gt => n > m,
            _ => n >= m,
        });
    }
    let ord = match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        // An unbounded int against an int compares exactly (as_f64 would round).
        (Value::BigInt(_), _) | (_, Value::BigInt(_))
            if let (Some(x), Some(y)) = (super::bigint::as_big(a), super::bigint::as_big(b)) =>
        {
            Some(super::bigint::cmp(&x, &y))
        }
        _ => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => match (a.as_f64(), b.as_f64()) {
                // None when a NaN is involved: every ordering comparison is then false.
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => {
                    return Err(VmError::type_error(format!(
                        "'{}' not supported between instances of '{}' and '{}'",
                        op.symbol(),
                        a.type_name(),
                        b.type_name()
                    )));
                }
            },
        },
    };
    let Some(ord) = ord else { return Ok(false) };
    Ok(match op {
        CmpOp::Lt => ord == O::Less,
        CmpOp::Le => ord != O::Greater,
        CmpOp::Gt => ord == O::Greater,
        _ => ord != O::Less,
    })
}

/// `a is b`: identity for objects; None, bools and CPython's cached small ints are singletons.
pub fn is_same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y && (-5..=256).contains(x),
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Module(x), Value::Module(y)) => x == y,
        // Every heap object: the same object.
        (a, b) => a.heap_addr().is_some() && a.heap_addr() == b.heap_addr(),
    }
}

/// `item in container`.
pub fn contains(container: &Value, item: &Value) -> Result<bool, VmError> {
    match container {
        Value::Mp(m) if let super::multiprocessing::MpObj::Shared(s) = &**m => {
            super::mp_shared::proxy(s, "__contains__", vec![item.clone()])?.truthy()
        }
        Value::Bytes(b) => super::bytes::contains(b, item),
        Value::Str(s) => match item {
            Value::Str(sub) => Ok(s.contains(&**sub)),
            other => Err(VmError::type_error(format!(
                "'in <string>' requires string as left operand, not {}",
                other.type_name()
            ))),
        },
        Value::Dict(d) => Ok(d.lock().iter().any(|(k, _)| k.py_eq(item))),
        Value::Set(s) => s.contains(item),
        Value::DictView(v) => v.contains(item),
        Value::Range { start, stop, step } => Ok(match item.as_i64() {
            Some(i) => {
                let n = range_len(*start, *stop, *step);
                let off = i - start;
                n > 0 && off % step == 0 && (0..n).contains(&(off / step))
            }
            None => false,
        }),
        other => Ok(iterate(other)?.iter().any(|v| v.py_eq(item))),
    }
}

/// The items a value iterates over (tuples, lists, ranges, strs, dict keys).
pub fn iterate(v: &Value) -> Result<Vec<Value>, VmError> {
    Ok(match v {
        Value::Bytes(b) => b.iter().map(|&c| Value::Int(i64::from(c))).collect(),
        Value::Mp(m) if let super::multiprocessing::MpObj::Shared(s) = &**m => {
            super::mp_shared::items(s)?
        }
        Value::Tuple(t) => t.to_vec(),
        Value::IntPair(a, b) => vec![Value::Int(*a), Value::Int(*b)],
        Value::List(l) => l.lock().clone(),
        Value::Deque(q) => q.lock().iter().cloned().collect(),
        Value::File(f) => f.remaining_lines()?,
        Value::DictView(v) => v.items(),
        Value::Dict(d) => d.lock().iter().map(|(k, _)| k.clone()).collect(),
        Value::Set(s) => s.items(),
        Value::Range { start, stop, step } => {
            let n = range_len(*start, *stop, *step);
            super::memory::check(n.max(0) as usize, std::mem::size_of::<Value>())?;
            (0..n).map(|k| Value::Int(start + k * step)).collect()
        }
        Value::Str(s) => s.chars().map(|c| Value::str(&c.to_string())).collect(),
        Value::Array(a) => array_rows(a)?,
        Value::SeqIter(it) => std::iter::from_fn(|| seq_next(it)).collect(),
        Value::RangeIter { next, stop, step } => {
            let n = range_len(*next, *stop, *step);
            super::memory::check(n.max(0) as usize, std::mem::size_of::<Value>())?;
            (0..n).map(|k| Value::Int(next + k * step)).collect()
        }
        other => {
            return Err(VmError::type_error(format!(
                "'{}' object is not iterable",
                other.type_name()
            )));
        }
    })
}

/// The rows of an array, as 1-row views.
pub fn array_rows(a: &super::value::ArrayObj) -> Result<Vec<Value>, VmError> {
    let (n, m) = a.shape();
    if a.ndim == 1 {
        return (0..m as i64)
            .map(|j| Ok(super::npscalar::float64(a.get(0, j)?)))
            .collect();
    }
    (0..n as i64)
        .map(|i| a.row(i).map(|r| Value::Array(Obj::new(r))))
        .collect()
}

/// The next item of a sequence iterator.
pub fn seq_next(it: &SeqIter) -> Option<Value> {
    let p = it.pos.fetch_add(1, Ordering::Relaxed);
    match &it.seq {
        Value::Tuple(t) => t.get(p).cloned(),
        Value::List(l) => l.lock().get(p).cloned(),
        Value::IntPair(a, b) => [*a, *b].get(p).map(|&i| Value::Int(i)),
        // A lazy arithmetic sequence (`itertools.count`): item `p`, while inside the bounds.
        Value::Range { start, stop, step } => {
            let v = i64::try_from(p)
                .ok()
                .and_then(|p| p.checked_mul(*step))
                .and_then(|d| start.checked_add(d))?;
            let inside = if *step > 0 { v < *stop } else { v > *stop };
            inside.then_some(Value::Int(v))
        }
        _ => None,
    }
}

/// A Python index (negative counts from the end) into a sequence of `len` items.
pub fn seq_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// A slice bound: an int or None.
pub fn slice_bound(v: &Value) -> Result<Option<i64>, VmError> {
    match v {
        Value::None => Ok(None),
        v if v.as_i64().is_some() => Ok(v.as_i64()),
        other => Err(VmError::type_error(format!(
            "slice indices must be integers or None, not {}",
            other.type_name()
        ))),
    }
}

/// `container[key]` for every type but arrays (arrays are views, see the numpy module).
/// `del container[key]` for lists and dicts.
pub fn delete_subscr(container: &Value, key: &Value) -> Result<(), VmError> {
    match container {
        Value::Mp(m) if let super::multiprocessing::MpObj::Shared(s) = &**m => {
            super::mp_shared::proxy(s, "__delitem__", vec![key.clone()]).map(|_| ())
        }
        Value::List(l) => {
            let mut items = l.lock();
            if let Value::Slice(s) = key {
                if s.is_contiguous() {
                    let (a, b) = s.resolve(items.len());
                    items.drain(a..b.max(a));
                } else {
                    let mut at = s.positions(items.len());
                    at.sort_unstable();
                    for k in at.into_iter().rev() {
                        items.remove(k);
                    }
                }
                return Ok(());
            }
            let i = key.as_i64().ok_or_else(|| {
                VmError::type_error(format!(
                    "list indices must be integers or slices, not {}",
                    key.type_name()
                ))
            })?;
            let k = seq_index(i, items.len())
                .ok_or_else(|| VmError::py("IndexError", "list assignment index out of range"))?;
            items.remove(k);
            Ok(())
        }
        Value::Dict(d) => match d.lock().remove(key)? {
            Some(_) => Ok(()),
            None => Err(super::exception::key_error(key)),
        },
        other => Err(VmError::type_error(format!(
            "'{}' object does not support item deletion",
            other.type_name()
        ))),
    }
}

/// The items a slice selects, in its order.
fn sliced<T: Clone>(items: &[T], s: &super::value::SliceObj) -> Vec<T> {
    if s.is_contiguous() {
        let (a, b) = s.resolve(items.len());
        return items[a..b].to_vec();
    }
    s.positions(items.len())
        .into_iter()
        .map(|k| items[k].clone())
        .collect()
}

/// `list[slice] = items`: a run of one step is replaced by any number of items; an extended
/// slice takes exactly as many as it selects.
pub fn store_slice(
    l: &super::object::Obj<super::value::ListObj>,
    s: &super::value::SliceObj,
    new: Vec<Value>,
) -> Result<(), VmError> {
    let mut items = l.lock();
    if s.is_contiguous() {
        let (a, b) = s.resolve(items.len());
        items.splice(a..b, new);
        return Ok(());
    }
    let at = s.positions(items.len());
    if at.len() != new.len() {
        return Err(VmError::py(
            "ValueError",
            format!(
                "attempt to assign sequence of size {} to extended slice of size {}",
                new.len(),
                at.len()
            ),
        ));
    }
    for (k, v) in at.into_iter().zip(new) {
        items[k] = v;
    }
    Ok(())
}

/// `container[key]`.
pub fn subscript(container: &Value, key: &Value) -> Result<Value, VmError> {
    if let Value::Mp(m) = container
        && let super::multiprocessing::MpObj::Shared(s) = &**m
    {
        return super::mp_shared::subscript(s, key);
    }
    let index = |len: usize, what: &str| -> Result<usize, VmError> {
        let i = key.as_i64().ok_or_else(|| {
            VmError::type_error(format!(
                "{what} indices must be integers or slices, not {}",
                key.type_name()
            ))
        })?;
        seq_index(i, len)
            .ok_or_else(|| VmError::py("IndexError", format!("{what} index out of range")))
    };
    match container {
        Value::Array(a) => super::numpy::subscript(a, key),
        Value::List(l) => {
            let items = l.lock();
            if let Value::Slice(s) = key {
                return Ok(Value::list(sliced(&items, s)));
            }
            Ok(items[index(items.len(), "list")?].clone())
        }
        Value::Tuple(_) | Value::IntPair(..) => {
            let items = iterate(container)?;
            if let Value::Slice(s) = key {
                return Ok(Value::Tuple(sliced(&items, s).into()));
            }
            Ok(items[index(items.len(), "tuple")?].clone())
        }
        Value::Bytes(b) => super::bytes::subscript(b, key, sliced),
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            if let Value::Slice(sl) = key {
                return Ok(Value::str(
                    &sliced(&chars, sl).into_iter().collect::<String>(),
                ));
            }
            Ok(Value::str(
                &chars[index(chars.len(), "string")?].to_string(),
            ))
        }
        Value::Dict(d) => d
            .lock()
            .get(key)?
            .ok_or_else(|| super::exception::key_error(key)),
        Value::Deque(q) => {
            let items = q.lock();
            let k = index(items.len(), "deque")?;
            Ok(items[k].clone())
        }
        // `list[int]`, `dict[str, int]` (PEP 585): a generic alias, stood in for by the type
        // itself, as annotations use it.
        Value::Builtin(b) if b.is_type() => Ok(container.clone()),
        other => Err(VmError::type_error(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

/// `value.attr`.
pub fn load_attr(v: &Value, attr: &str) -> Result<Value, VmError> {
    let found = match (v, attr) {
        (Value::Array(a), "shape") => {
            let (n, m) = a.shape();
            Some(if a.ndim == 1 {
                Value::Tuple(Arc::from([Value::Int(m as i64)]))
            } else {
                Value::IntPair(n as i64, m as i64)
            })
        }
        (Value::Array(a), "size") => Some(Value::Int(a.size() as i64)),
        (Value::Module(m), attr) => m.attr(attr),
        (Value::Class(c), "__name__" | "__qualname__") => Some(Value::Str(Arc::clone(&c.name))),
        (Value::File(f), "closed") => Some(Value::Bool(f.closed())),
        (Value::Mp(m), attr) if m.attr(attr).is_some() => m.attr(attr),
        (Value::Http(r), attr) => r.attr(attr),
        (Value::Logger(l), "name") => Some(Value::str(&l.name)),
        (Value::Wrapper(w), attr) => w.attr(attr),
        (Value::Function(f), "__name__") => Some(Value::Str(Arc::clone(&f.code.name))),
        (Value::Function(f), "__qualname__") => Some(Value::Str(Arc::clone(&f.code.qualname))),
        (Value::Function(_), "__module__") => Some(Value::str("__main__")),
        (Value::Function(f), "__annotations__") => match &f.annotations {
            Value::None => super::value::DictObj::new(Vec::new())
                .ok()
                .map(|d| Value::Dict(super::object::Obj::new(d))),
            d => Some(d.clone()),
        },
        (Value::Function(f), "__defaults__") => Some(if f.defaults.is_empty() {
            Value::None
        } else {
            Value::Tuple(f.defaults.clone().into())
        }),
        (Value::Builtin(Builtin::Tools(super::functools::ToolFn::Chain)), "from_iterable") => Some(
            Value::Builtin(Builtin::Tools(super::functools::ToolFn::ChainFromIterable)),
        ),
        (Value::File(f), "name") => Some(Value::str(&f.name)),
        (Value::File(f), "mode") => Some(Value::str(&f.mode)),
        (Value::Builtin(b), "__name__" | "__qualname__") => Some(Value::str(b.name())),
        (Value::Instance(i), "args") if i.exc.is_some() => Some(Value::Tuple(i.args().into())),
        (Value::Instance(i), "value")
            if super::exception::builtin_class("StopIteration")
                .is_some_and(|c| i.class.is_subclass_of(&c)) =>
        {
            Some(i.args().first().cloned().unwrap_or(Value::None))
        }
        (Value::Instance(i), "__cause__") if i.exc.is_some() => {
            Some(i.cause().unwrap_or(Value::None))
        }
        (Value::Instance(i), "__context__") if i.exc.is_some() => {
            Some(i.context().unwrap_or(Value::None))
        }
        (Value::Instance(i), "__class__") => Some(Value::Class(Arc::clone(&i.class))),
        (Value::Generator(_) | Value::AsyncGenNext(_), "__class__") => {
            Some(super::attrs::type_of(v))
        }
        (Value::Instance(i), "__traceback__") if i.exc.is_some() => Some(Value::None),
        (Value::Thread(t), "name") => Some(Value::Str(t.name())),
        (Value::Thread(t), "daemon") => Some(Value::Bool(
            t.daemon.load(std::sync::atomic::Ordering::Relaxed),
        )),
        (Value::Thread(t), "ident" | "native_id") => {
            match t.ident.load(std::sync::atomic::Ordering::Relaxed) {
                0 => Some(Value::None),
                id => Some(Value::Int(id as i64)),
            }
        }
        _ => method(v, attr).map(|m| {
            Value::Method(Arc::new(super::value::BoundMethod {
                this: v.clone(),
                func: Value::Builtin(m),
            }))
        }),
    };
    found.ok_or_else(|| match v {
        Value::Module(m) => VmError::py(
            "AttributeError",
            format!(
                "module '{}' has no attribute '{attr}' in gilscope's interpreter",
                m.name()
            ),
        ),
        other => VmError::py(
            "AttributeError",
            format!("'{}' object has no attribute '{attr}'", other.type_name()),
        ),
    })
}

/// The method `LOAD_METHOD` binds, if `attr` names one.
pub fn method(v: &Value, attr: &str) -> Option<Builtin> {
    match (v, attr) {
        (Value::List(_), "append") => Some(Builtin::ListAppend),
        (Value::Array(_), "sum") => Some(Builtin::ArraySum),
        (Value::Thread(_), "start") => Some(Builtin::ThreadStart),
        (Value::Thread(_), "join") => Some(Builtin::ThreadJoin),
        (Value::Thread(_), "is_alive") => Some(Builtin::ThreadIsAlive),
        (Value::Thread(_), name) if super::legacy::thread_method(name).is_some() => {
            super::legacy::thread_method(name)
        }
        (Value::Thread(t), "cancel") if super::timer::is_timer(t) => Some(Builtin::TimerCancel),
        (Value::Lock(_), "acquire") => Some(Builtin::LockAcquire),
        (Value::Lock(_), "release") => Some(Builtin::LockRelease),
        (Value::Lock(_), "locked") => Some(Builtin::LockLocked),
        (Value::Lock(_), "__enter__") => Some(Builtin::LockEnter),
        (Value::Lock(_), "__exit__") => Some(Builtin::LockExit),
        (Value::Queue(q), name) => super::queue::method(q, name),
        (Value::Mp(m), name) => super::multiprocessing::method(m, name),
        (Value::Http(_), name) => super::urllib::method(name),
        (Value::Logger(_), name) => super::logging::method(name),
        (Value::Wrapper(w), name) => super::functools::method(w, name),
        (Value::AsyncPrim(p), name) => super::asyncio_sync::method(p, name),
        (Value::Awaitable(a), name) => super::asyncio::method(a, name),
        (Value::Generator(_), name) => super::coroutine::method(name),
        (Value::File(_), name) => super::file::method(name),
        (Value::Set(s), name) => super::set_methods::lookup(s, name),
        (Value::Sync(o), name) => super::sync::method(o, name),
        (Value::Executor(_) | Value::Future(_), name) => super::futures::method(v, name),
        // A deque's, or a Counter's own before the dict methods.
        _ => super::collections::method(v, attr)
            .or_else(|| super::methods::lookup(v, attr).map(Builtin::Method)),
    }
}

fn arity(name: &str, args: &[Value], lo: usize, hi: usize) -> Result<(), VmError> {
    if (lo..=hi).contains(&args.len()) {
        Ok(())
    } else {
        Err(VmError::type_error(format!(
            "{name}() takes {} arguments ({} given)",
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo} to {hi}")
            },
            args.len()
        )))
    }
}

fn int_arg(name: &str, v: &Value) -> Result<i64, VmError> {
    v.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer (in {name})",
            v.type_name()
        ))
    })
}

/// The builtins that touch no arrays and need no host.
pub fn call_builtin(b: Builtin, args: Vec<Value>) -> Result<Value, VmError> {
    match b {
        Builtin::SysGetrefcount => {
            arity("getrefcount", &args, 1, 1)?;
            // The argument itself holds one reference, as in CPython.
            let n = match &args[0] {
                Value::List(o) => o.refcount(),
                Value::Dict(o) => o.refcount(),
                Value::Function(o) => o.refcount(),
                Value::Array(o) => o.refcount(),
                other => {
                    return Err(VmError::type_error(format!(
                        "gilscope models the reference counts of lists, dicts, functions and \
                         arrays, not of '{}' objects",
                        other.type_name()
                    )));
                }
            };
            Ok(Value::Int(n))
        }
        Builtin::Range => {
            arity("range", &args, 1, 3)?;
            let ints: Vec<i64> = args
                .iter()
                .map(|a| int_arg("range", a))
                .collect::<Result<_, _>>()?;
            let (start, stop, step) = match ints[..] {
                [stop] => (0, stop, 1),
                [start, stop] => (start, stop, 1),
                [start, stop, step] => (start, stop, step),
                _ => (0, 0, 1),
            };
            if step == 0 {
                return Err(VmError::py("ValueError", "range() arg 3 must not be zero"));
            }
            Ok(Value::Range { start, stop, step })
        }
        Builtin::Len => {
            arity("len", &args, 1, 1)?;
            let n = match &args[0] {
                Value::Str(s) => s.chars().count(),
                Value::Bytes(b) => b.len(),
                Value::Mp(m) if let super::multiprocessing::MpObj::Shared(s) = &**m => {
                    super::mp_shared::items(s)?.len()
                }
                Value::List(l) => l.lock().len(),
                Value::Dict(d) => d.lock().len(),
                Value::Deque(q) => q.lock().len(),
                Value::DictView(v) => v.len(),
                Value::Set(s) => s.len(),
                Value::Range { start, stop, step } => range_len(*start, *stop, *step) as usize,
                Value::Array(a) => {
                    let (n, m) = a.shape();
                    if a.ndim == 1 { m } else { n }
                }
                v @ (Value::Tuple(_) | Value::IntPair(..)) => iterate(v)?.len(),
                other => {
                    return Err(VmError::type_error(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    )));
                }
            };
            Ok(Value::Int(n as i64))
        }
        Builtin::Abs => {
            arity("abs", &args, 1, 1)?;
            match &args[0] {
                Value::Float(f) => Ok(Value::Float(f.abs())),
                v => Ok(Value::Int(
                    int_arg("abs", v)?.checked_abs().ok_or_else(overflow)?,
                )),
            }
        }
        Builtin::Int if args.is_empty() => Ok(Value::Int(0)),
        Builtin::Float if args.is_empty() => Ok(Value::Float(0.0)),
        Builtin::Int => {
            arity("int", &args, 1, 1)?;
            match &args[0] {
                Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => {
                    Ok(Value::Int(f.trunc() as i64))
                }
                Value::Float(_) => Err(overflow()),
                Value::Str(s) => s
                    .trim()
                    .replace('_', "")
                    .parse()
                    .map(Value::Int)
                    .map_err(|_| {
                        VmError::py(
                            "ValueError",
                            format!("invalid literal for int() with base 10: {}", args[0].repr()),
                        )
                    }),
                v => Ok(Value::Int(int_arg("int", v)?)),
            }
        }
        Builtin::Float => {
            arity("float", &args, 1, 1)?;
            match &args[0] {
                Value::Str(s) => s.trim().parse().map(Value::Float).map_err(|_| {
                    VmError::py(
                        "ValueError",
                        format!("could not convert string to float: {}", args[0].repr()),
                    )
                }),
                v => v.as_f64().map(Value::Float).ok_or_else(|| {
                    VmError::type_error(format!(
                        "float() argument must be a string or a real number, not '{}'",
                        v.type_name()
                    ))
                }),
            }
        }
        Builtin::TimePerfCounter | Builtin::TimeMonotonic => {
            arity(b.name(), &args, 0, 0)?;
            Ok(Value::Float(monotonic_ns() as f64 / 1e9))
        }
        Builtin::TimePerfCounterNs | Builtin::TimeMonotonicNs => {
            arity(b.name(), &args, 0, 0)?;
            Ok(Value::Int(monotonic_ns() as i64))
        }
        Builtin::TimeTime | Builtin::TimeTimeNs => {
            arity(b.name(), &args, 0, 0)?;
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            Ok(if b == Builtin::TimeTime {
                Value::Float(since.as_secs_f64())
            } else {
                Value::Int(since.as_nanos() as i64)
            })
        }
        Builtin::ListAppend => {
            arity("append", &args, 2, 2)?;
            match &args[0] {
                Value::List(l) => {
                    l.lock().push(args[1].clone());
                    Ok(Value::None)
                }
                _ => Err(VmError::type_error("append needs a list")),
            }
        }
        other => Err(VmError::py(
            "SystemError",
            format!("{} needs the host", other.name()),
        )),
    }
}

/// Nanoseconds on a monotonic clock since the first reading in this process (CPython's
/// `perf_counter` and `monotonic` have an undefined start too).
fn monotonic_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}
