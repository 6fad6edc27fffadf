//! The builtins teaching code loops with: `enumerate`, `zip`, `sorted`, `sum`, `map`,
//! `filter`, `any`, `all`, `reversed` and the constructors `list`, `tuple`, `dict`, `str`,
//! `bool`, with `round`, `repr`, `iter` and `next`. The iterators they return are taken whole, as a list would
//! be (their items are what CPython's lazy iterators would yield).

use std::cmp::Ordering;
use std::sync::Arc;

use super::call::Kwargs;
use super::code::{BinOp, CmpOp};
use super::ops;
use super::value::{Builtin, DictObj, SeqIter, Value};
use super::{Host, Vm, VmError};
use crate::vm::object::Obj;

impl Builtin {
    /// Whether this builtin is one of this file's.
    pub fn is_collection_builtin(self) -> bool {
        matches!(
            self,
            Builtin::Enumerate
                | Builtin::Zip
                | Builtin::Sorted
                | Builtin::Min
                | Builtin::Max
                | Builtin::Sum
                | Builtin::List
                | Builtin::Tuple
                | Builtin::Dict
                | Builtin::Str
                | Builtin::Bytes
                | Builtin::Bool
                | Builtin::Round
                | Builtin::Any
                | Builtin::All
                | Builtin::Reversed
                | Builtin::Repr
                | Builtin::Map
                | Builtin::Filter
                | Builtin::Next
                | Builtin::Iter
        )
    }
}

/// An iterator over `items`.
fn iterator(items: Vec<Value>) -> Value {
    Value::SeqIter(Arc::new(SeqIter {
        seq: Value::list(items),
        pos: Default::default(),
    }))
}

fn one_arg(name: &str, args: &[Value]) -> Result<(), VmError> {
    if args.len() == 1 {
        Ok(())
    } else {
        Err(VmError::type_error(format!(
            "{name}() takes exactly one argument ({} given)",
            args.len()
        )))
    }
}

fn no_keywords(name: &str, kwargs: &Kwargs) -> Result<(), VmError> {
    match kwargs.first() {
        Some((k, _)) => Err(VmError::type_error(format!(
            "{name}() got an unexpected keyword argument '{k}'"
        ))),
        None => Ok(()),
    }
}

/// Takes the keyword `name` out of `kwargs`.
fn take_kw(kwargs: &mut Kwargs, name: &str) -> Option<Value> {
    let k = kwargs.iter().position(|(k, _)| &**k == name)?;
    Some(kwargs.remove(k).1)
}

/// How many items a builtin's loop (`sum`, `list` of a generator) takes between looks at a
/// stop request: a few microseconds of work.
pub(super) const POLL_EVERY_ITEMS: u32 = 4096;

/// `a < b` as a sort order (Python's sorts use only `<`).
impl<H: Host> Vm<'_, H> {
    /// `a < b` as `sorted`, `min` and `max` ask it: an instance's `__lt__` (or the reflected
    /// `__gt__`), tuples holding instances item by item, anything else by value.
    pub(super) fn less_than(&mut self, a: &Value, b: &Value) -> Result<bool, VmError> {
        match (a, b) {
            (Value::Instance(_), _) | (_, Value::Instance(_)) => self.rich_compare(CmpOp::Lt, a, b),
            (Value::Tuple(x), Value::Tuple(y))
                if x.iter()
                    .chain(y.iter())
                    .any(|v| matches!(v, Value::Instance(_) | Value::Tuple(_))) =>
            {
                for (p, q) in x.iter().zip(y.iter()) {
                    if !p.py_eq(q) {
                        return self.less_than(p, q);
                    }
                }
                Ok(x.len() < y.len())
            }
            _ => ops::compare(CmpOp::Lt, a, b),
        }
    }

    fn order(&mut self, a: &Value, b: &Value, err: &mut Option<VmError>) -> Ordering {
        if err.is_some() {
            return Ordering::Equal;
        }
        let r = match self.less_than(a, b) {
            Ok(true) => Ok(Ordering::Less),
            Ok(false) => self.less_than(b, a).map(|gt| {
                if gt {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            }),
            Err(e) => Err(e),
        };
        r.unwrap_or_else(|e| {
            err.get_or_insert(e);
            Ordering::Equal
        })
    }

    /// `min`/`max` (`iterable` or several arguments, `key=`, `default=`): the first of the
    /// smallest (largest) items, as CPython keeps it.
    fn min_max(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        mut kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let name = b.name();
        let key = take_kw(&mut kwargs, "key").filter(|k| !matches!(k, Value::None));
        let default = take_kw(&mut kwargs, "default");
        no_keywords(name, &kwargs)?;
        let items = match args.len() {
            0 => {
                return Err(VmError::type_error(format!(
                    "{name} expected at least 1 argument, got 0"
                )));
            }
            1 => self.iterate(&args[0])?,
            _ if default.is_some() => {
                return Err(VmError::type_error(format!(
                    "Cannot specify a default for {name}() with multiple positional arguments"
                )));
            }
            _ => args,
        };
        let mut best: Option<(Value, Value)> = None;
        for v in items {
            let k = match &key {
                Some(f) => self.call_value(f, vec![v.clone()])?,
                None => v.clone(),
            };
            best = Some(match best {
                None => (v, k),
                Some((bv, bk)) => {
                    let better = if b == Builtin::Min {
                        self.less_than(&k, &bk)?
                    } else {
                        self.less_than(&bk, &k)?
                    };
                    if better { (v, k) } else { (bv, bk) }
                }
            });
        }
        match (best, default) {
            (Some((v, _)), _) => Ok(v),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(VmError::py(
                "ValueError",
                format!("{name}() arg is an empty sequence"),
            )),
        }
    }

    pub(super) fn call_collection(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        mut kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let name = b.name();
        match b {
            Builtin::Enumerate => {
                let start = take_kw(&mut kwargs, "start");
                no_keywords(name, &kwargs)?;
                let (it, start) = match (args.as_slice(), start) {
                    ([it], s) => (it, s),
                    ([it, s], None) => (it, Some(s.clone())),
                    _ => {
                        return Err(VmError::type_error(
                            "enumerate() missing required argument 'iterable'",
                        ));
                    }
                };
                let start = match start {
                    None => 0,
                    Some(v) => v.as_i64().ok_or_else(|| {
                        VmError::type_error(format!(
                            "'{}' object cannot be interpreted as an integer",
                            v.type_name()
                        ))
                    })?,
                };
                let items = self
                    .iterate(it)?
                    .into_iter()
                    .enumerate()
                    .map(|(k, v)| Value::Tuple(Arc::from([Value::Int(start + k as i64), v])))
                    .collect();
                Ok(iterator(items))
            }
            Builtin::Zip => {
                let strict = take_kw(&mut kwargs, "strict")
                    .map(|v| v.truthy())
                    .transpose()?
                    .unwrap_or(false);
                no_keywords(name, &kwargs)?;
                let cols = args
                    .iter()
                    .map(|c| self.iterate(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = cols.iter().map(Vec::len).min().unwrap_or(0);
                if strict && cols.iter().any(|c| c.len() != n) {
                    return Err(VmError::py(
                        "ValueError",
                        "zip() arguments have different lengths",
                    ));
                }
                let items = (0..n)
                    .map(|i| Value::Tuple(cols.iter().map(|c| c[i].clone()).collect()))
                    .collect();
                Ok(iterator(items))
            }
            Builtin::Min | Builtin::Max => self.min_max(b, args, kwargs),
            Builtin::Sorted => {
                let key = take_kw(&mut kwargs, "key").filter(|k| !matches!(k, Value::None));
                let reverse = take_kw(&mut kwargs, "reverse")
                    .map(|v| v.truthy())
                    .transpose()?
                    .unwrap_or(false);
                no_keywords(name, &kwargs)?;
                one_arg(name, &args)?;
                let items = self.iterate(&args[0])?;
                let keys = match &key {
                    Some(f) => items
                        .iter()
                        .map(|v| self.call_value(f, vec![v.clone()]))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => items.clone(),
                };
                let mut idx: Vec<usize> = (0..items.len()).collect();
                let mut err = None;
                idx.sort_by(|&i, &j| {
                    if reverse {
                        self.order(&keys[j], &keys[i], &mut err)
                    } else {
                        self.order(&keys[i], &keys[j], &mut err)
                    }
                });
                if let Some(e) = err {
                    return Err(e);
                }
                Ok(Value::list(
                    idx.into_iter().map(|i| items[i].clone()).collect(),
                ))
            }
            Builtin::Sum => {
                let start = take_kw(&mut kwargs, "start");
                no_keywords(name, &kwargs)?;
                let (it, start) = match (args.as_slice(), start) {
                    ([it], s) => (it, s.unwrap_or(Value::Int(0))),
                    ([it, s], None) => (it, s.clone()),
                    _ => {
                        return Err(VmError::type_error(format!(
                            "sum() takes at most 2 arguments ({} given)",
                            args.len()
                        )));
                    }
                };
                if matches!(start, Value::Str(_)) {
                    return Err(VmError::type_error(
                        "sum() can't sum strings [use ''.join(seq) instead]",
                    ));
                }
                // Item by item, as CPython's C loop: no list of a huge range is made, the GIL
                // stays held throughout (no eval breaker inside a builtin), and a stop is
                // still seen every few thousand items.
                let mut total = start;
                let Ok(mut iter) = self.get_iter(it.clone()) else {
                    for v in self.iterate(it)? {
                        total = self.binary_op(BinOp::ADD, total, v)?;
                    }
                    return Ok(total);
                };
                let mut seen = 0u32;
                while let Some(v) = self.iter_next(&mut iter)? {
                    total = match (&total, &v) {
                        (Value::Int(a), Value::Int(b)) if let Some(t) = a.checked_add(*b) => {
                            Value::Int(t)
                        }
                        _ => self.binary_op(BinOp::ADD, total, v)?,
                    };
                    seen = seen.wrapping_add(1);
                    if seen.is_multiple_of(POLL_EVERY_ITEMS) {
                        self.host.poll_cancel()?;
                    }
                }
                Ok(total)
            }
            Builtin::List | Builtin::Tuple => {
                no_keywords(name, &kwargs)?;
                let items = match args.as_slice() {
                    [] => Vec::new(),
                    [it] => self.iterate(it)?,
                    _ => {
                        return Err(VmError::type_error(format!(
                            "{name} expected at most 1 argument, got {}",
                            args.len()
                        )));
                    }
                };
                Ok(if b == Builtin::List {
                    Value::list(items)
                } else {
                    Value::Tuple(items.into())
                })
            }
            Builtin::Dict => {
                let mut pairs = Vec::new();
                match args.as_slice() {
                    [] => {}
                    [Value::Dict(d)] => pairs.extend(d.lock().iter().cloned()),
                    [it] => {
                        for item in self.iterate(it)? {
                            match self.iterate(&item)?.as_slice() {
                                [k, v] => pairs.push((k.clone(), v.clone())),
                                other => {
                                    return Err(VmError::py(
                                        "ValueError",
                                        format!(
                                            "dictionary update sequence element has length \
                                             {}; 2 is required",
                                            other.len()
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                    _ => {
                        return Err(VmError::type_error(format!(
                            "dict expected at most 1 argument, got {}",
                            args.len()
                        )));
                    }
                }
                pairs.extend(kwargs.into_iter().map(|(k, v)| (Value::Str(k), v)));
                Ok(Value::Dict(Obj::new(DictObj::new(pairs)?)))
            }
            Builtin::Bytes => {
                let encoding = take_kw(&mut kwargs, "encoding");
                no_keywords(name, &kwargs)?;
                match (args.as_slice(), encoding) {
                    ([], _) => super::bytes::construct(None, None),
                    ([Value::Str(s)], Some(enc)) => super::bytes::encode(s, Some(&enc)),
                    ([Value::Str(s), enc @ Value::Str(_)], None) => {
                        super::bytes::encode(s, Some(enc))
                    }
                    ([Value::Str(_)], None) => {
                        Err(VmError::type_error("string argument without an encoding"))
                    }
                    ([Value::Bytes(b)], _) => Ok(Value::Bytes(Arc::clone(b))),
                    ([v], _) if v.as_i64().is_some() && !matches!(v, Value::Bool(_)) => {
                        super::bytes::construct(None, v.as_i64())
                    }
                    ([v], _) => {
                        let items = self.iterate(v)?;
                        super::bytes::construct(Some(items), None)
                    }
                    _ => Err(VmError::type_error(format!(
                        "bytes() takes at most 3 arguments ({} given)",
                        args.len()
                    ))),
                }
            }
            Builtin::Str | Builtin::Repr | Builtin::Bool => {
                no_keywords(name, &kwargs)?;
                match (b, args.as_slice()) {
                    (Builtin::Str, []) => Ok(Value::str("")),
                    (Builtin::Bool, []) => Ok(Value::Bool(false)),
                    (Builtin::Str, [v]) => Ok(Value::str(&v.to_str())),
                    (Builtin::Repr, [v]) => Ok(Value::str(&v.repr())),
                    (Builtin::Bool, [v]) => Ok(Value::Bool(v.truthy()?)),
                    _ => Err(VmError::type_error(format!(
                        "{name}() takes at most 1 argument ({} given)",
                        args.len()
                    ))),
                }
            }
            Builtin::Round => {
                let nd = take_kw(&mut kwargs, "ndigits");
                no_keywords(name, &kwargs)?;
                let (x, nd) = match (args.as_slice(), nd) {
                    ([x], nd) => (x, nd),
                    ([x, nd], None) => (x, Some(nd.clone())),
                    _ => return Err(VmError::type_error("round() takes 1 or 2 arguments")),
                };
                round(x, nd)
            }
            Builtin::Any | Builtin::All => {
                no_keywords(name, &kwargs)?;
                one_arg(name, &args)?;
                let want = b == Builtin::Any;
                for v in self.iterate(&args[0])? {
                    if v.truthy()? == want {
                        return Ok(Value::Bool(want));
                    }
                }
                Ok(Value::Bool(!want))
            }
            Builtin::Reversed => {
                no_keywords(name, &kwargs)?;
                one_arg(name, &args)?;
                // Dicts and their views are reversible since 3.8; iterators are not.
                if matches!(
                    args[0],
                    Value::SeqIter(_) | Value::Generator(_) | Value::Set(_)
                ) {
                    return Err(VmError::type_error(format!(
                        "'{}' object is not reversible",
                        args[0].type_name()
                    )));
                }
                let mut items = self.iterate(&args[0])?;
                items.reverse();
                Ok(iterator(items))
            }
            Builtin::Map => {
                no_keywords(name, &kwargs)?;
                let Some((f, its)) = args.split_first() else {
                    return Err(VmError::type_error(
                        "map() must have at least two arguments.",
                    ));
                };
                if its.is_empty() {
                    return Err(VmError::type_error(
                        "map() must have at least two arguments.",
                    ));
                }
                let cols = its
                    .iter()
                    .map(|c| self.iterate(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = cols.iter().map(Vec::len).min().unwrap_or(0);
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let call = cols.iter().map(|c| c[i].clone()).collect();
                    out.push(self.call_value(f, call)?);
                }
                Ok(iterator(out))
            }
            Builtin::Filter => {
                no_keywords(name, &kwargs)?;
                let [f, it] = args.as_slice() else {
                    return Err(VmError::type_error(format!(
                        "filter expected 2 arguments, got {}",
                        args.len()
                    )));
                };
                let mut out = Vec::new();
                for v in self.iterate(it)? {
                    let keep = match f {
                        Value::None => v.truthy()?,
                        f => self.call_value(f, vec![v.clone()])?.truthy()?,
                    };
                    if keep {
                        out.push(v);
                    }
                }
                Ok(iterator(out))
            }
            Builtin::Iter => {
                no_keywords(name, &kwargs)?;
                one_arg(name, &args)?;
                match &args[0] {
                    it @ (Value::SeqIter(_) | Value::Generator(_)) => Ok(it.clone()),
                    v => Ok(iterator(self.iterate(v)?)),
                }
            }
            Builtin::Next => {
                no_keywords(name, &kwargs)?;
                let (it, default) = match args.as_slice() {
                    [it] => (it, None),
                    [it, d] => (it, Some(d.clone())),
                    _ => {
                        return Err(VmError::type_error(format!(
                            "next expected at most 2 arguments, got {}",
                            args.len()
                        )));
                    }
                };
                let next = match it {
                    Value::SeqIter(s) => ops::seq_next(s),
                    Value::Generator(g) => {
                        let g = g.clone();
                        self.gen_next(&g)?
                    }
                    other => {
                        return Err(VmError::type_error(format!(
                            "'{}' object is not an iterator",
                            other.type_name()
                        )));
                    }
                };
                match (next, default) {
                    (Some(v), _) => Ok(v),
                    (None, Some(d)) => Ok(d),
                    (None, None) => Err(VmError::py("StopIteration", "")),
                }
            }
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a collection builtin", other.name()),
            )),
        }
    }
}

/// `round(x[, ndigits])`: an int without digits (ties to even), else a float.
fn round(x: &Value, ndigits: Option<Value>) -> Result<Value, VmError> {
    let nd = match &ndigits {
        None | Some(Value::None) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            VmError::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                v.type_name()
            ))
        })?),
    };
    match (x, nd) {
        (Value::Int(i), _) => Ok(Value::Int(*i)),
        (Value::Bool(b), _) => Ok(Value::Int(i64::from(*b))),
        (v, None) => {
            let f = v.as_f64().ok_or_else(|| {
                VmError::type_error(format!(
                    "type {} doesn't define __round__ method",
                    v.type_name()
                ))
            })?;
            if !f.is_finite() {
                return Err(VmError::py(
                    if f.is_nan() {
                        "ValueError"
                    } else {
                        "OverflowError"
                    },
                    if f.is_nan() {
                        "cannot convert float NaN to integer"
                    } else {
                        "cannot convert float infinity to integer"
                    },
                ));
            }
            Ok(Value::Int(f.round_ties_even() as i64))
        }
        (v, Some(n)) => {
            let f = v.as_f64().ok_or_else(|| {
                VmError::type_error(format!(
                    "type {} doesn't define __round__ method",
                    v.type_name()
                ))
            })?;
            // Through the shortest decimal text, as CPython's correctly rounded `round` does.
            let text = format!("{:.*}", n.clamp(0, 300) as usize, f);
            let r: f64 = if n >= 0 {
                text.parse().unwrap_or(f)
            } else {
                let p = 10f64.powi((-n) as i32);
                (f / p).round_ties_even() * p
            };
            Ok(Value::Float(r))
        }
    }
}
