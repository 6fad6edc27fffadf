//! `collections`: `deque` (a double-ended queue with an optional `maxlen`), and the two dict
//! kinds teaching code counts and groups with, `Counter` and `defaultdict` (dicts whose
//! missing keys read as 0, or are filled in by the factory), printed as CPython prints them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::call::Kwargs;
use super::object::Obj;
use super::value::{Builtin, DictObj, Value};
use super::{Host, Vm, VmError};

/// What kind of dict a dict object is.
#[derive(Clone, Debug, Default)]
pub enum DictKind {
    /// A plain `dict`.
    #[default]
    Plain,
    /// `collections.Counter`: a missing key counts 0.
    Counter,
    /// `collections.defaultdict(factory)`: a missing key gets `factory()`.
    Default(Value),
}

/// A function of `collections`, or a method of its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollFn {
    /// `collections.deque(iterable=(), maxlen=None)`.
    Deque,
    /// `collections.Counter(iterable_or_mapping=None, **kwds)`.
    Counter,
    /// `collections.defaultdict(default_factory=None, ...)`.
    DefaultDict,
    /// `deque.append(x)`.
    Append,
    /// `deque.appendleft(x)`.
    AppendLeft,
    /// `deque.pop()`.
    Pop,
    /// `deque.popleft()`.
    PopLeft,
    /// `deque.extend(iterable)`.
    Extend,
    /// `deque.extendleft(iterable)`.
    ExtendLeft,
    /// `deque.rotate(n=1)`.
    Rotate,
    /// `deque.clear()`.
    Clear,
    /// `Counter.most_common([n])`.
    MostCommon,
    /// `Counter.update(iterable_or_mapping)`: adds the counts.
    CounterUpdate,
    /// `Counter.subtract(iterable_or_mapping)`.
    Subtract,
    /// `Counter.elements()`.
    Elements,
    /// `Counter.total()`.
    Total,
}

impl CollFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            CollFn::Deque => "deque",
            CollFn::Counter => "Counter",
            CollFn::DefaultDict => "defaultdict",
            CollFn::Append => "append",
            CollFn::AppendLeft => "appendleft",
            CollFn::Pop => "pop",
            CollFn::PopLeft => "popleft",
            CollFn::Extend => "extend",
            CollFn::ExtendLeft => "extendleft",
            CollFn::Rotate => "rotate",
            CollFn::Clear => "clear",
            CollFn::MostCommon => "most_common",
            CollFn::CounterUpdate => "update",
            CollFn::Subtract => "subtract",
            CollFn::Elements => "elements",
            CollFn::Total => "total",
        }
    }
}

/// `collections.<name>`.
pub fn attr(name: &str) -> Option<Value> {
    let f = match name {
        "deque" => CollFn::Deque,
        "Counter" => CollFn::Counter,
        "defaultdict" => CollFn::DefaultDict,
        "namedtuple" => {
            return Some(Value::Builtin(Builtin::NamedTuple(
                super::namedtuple::NtFn::Make,
            )));
        }
        _ => return None,
    };
    Some(Value::Builtin(Builtin::Collections(f)))
}

/// The method of a deque, or of a Counter, `LOAD_METHOD` binds (`None`: look further).
pub fn method(v: &Value, name: &str) -> Option<Builtin> {
    let f = match (v, name) {
        (Value::Deque(_), "append") => CollFn::Append,
        (Value::Deque(_), "appendleft") => CollFn::AppendLeft,
        (Value::Deque(_), "pop") => CollFn::Pop,
        (Value::Deque(_), "popleft") => CollFn::PopLeft,
        (Value::Deque(_), "extend") => CollFn::Extend,
        (Value::Deque(_), "extendleft") => CollFn::ExtendLeft,
        (Value::Deque(_), "rotate") => CollFn::Rotate,
        (Value::Deque(_), "clear") => CollFn::Clear,
        (Value::Dict(d), n) if matches!(d.kind, DictKind::Counter) => match n {
            "most_common" => CollFn::MostCommon,
            "update" => CollFn::CounterUpdate,
            "subtract" => CollFn::Subtract,
            "elements" => CollFn::Elements,
            "total" => CollFn::Total,
            _ => return None,
        },
        _ => return None,
    };
    Some(Builtin::Collections(f))
}

/// A `collections.deque`.
#[derive(Debug)]
pub struct DequeObj {
    items: Mutex<VecDeque<Value>>,
    /// `maxlen`: appending beyond it drops from the other end.
    pub maxlen: Option<usize>,
}

impl DequeObj {
    /// Locks the items.
    pub fn lock(&self) -> MutexGuard<'_, VecDeque<Value>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, v: Value, left: bool) {
        let mut d = self.lock();
        if self.maxlen == Some(0) {
            return;
        }
        if left {
            d.push_front(v);
        } else {
            d.push_back(v);
        }
        if let Some(m) = self.maxlen
            && d.len() > m
        {
            if left {
                d.pop_back();
            } else {
                d.pop_front();
            }
        }
    }

    /// `deque([1, 2])`, or `deque([1, 2], maxlen=3)`.
    pub fn repr(&self, item: impl Fn(&Value) -> String) -> String {
        let items: Vec<String> = self.lock().iter().map(item).collect();
        match self.maxlen {
            Some(m) => format!("deque([{}], maxlen={m})", items.join(", ")),
            None => format!("deque([{}])", items.join(", ")),
        }
    }
}

/// Counter's order for `most_common` and its repr: by count, largest first, ties in insertion
/// order.
fn by_count(d: &DictObj) -> Vec<(Value, Value)> {
    let mut pairs = d.lock().pairs();
    pairs.sort_by(|(_, a), (_, b)| {
        let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
        b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal)
    });
    pairs
}

/// The repr of a Counter or defaultdict, given its plain dict repr.
pub fn dict_repr(d: &DictObj, item: impl Fn(&Value) -> String) -> Option<String> {
    match &d.kind {
        DictKind::Plain => None,
        DictKind::Counter => {
            let pairs = by_count(d);
            if pairs.is_empty() {
                return Some("Counter()".to_owned());
            }
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", item(k), item(v)))
                .collect();
            Some(format!("Counter({{{}}})", body.join(", ")))
        }
        DictKind::Default(f) => {
            let body: Vec<String> = d
                .lock()
                .iter()
                .map(|(k, v)| format!("{}: {}", item(k), item(v)))
                .collect();
            let factory = match f {
                Value::None => "None".to_owned(),
                f => item(f),
            };
            Some(format!("defaultdict({factory}, {{{}}})", body.join(", ")))
        }
    }
}

impl<H: Host> Vm<'_, H> {
    /// `d[key]` for a key a Counter or defaultdict lacks: 0, or the factory's value (stored).
    pub(super) fn dict_missing(
        &mut self,
        d: &Obj<DictObj>,
        key: &Value,
    ) -> Result<Option<Value>, VmError> {
        match &d.kind {
            DictKind::Plain | DictKind::Default(Value::None) => Ok(None),
            DictKind::Counter => Ok(Some(Value::Int(0))),
            DictKind::Default(f) => {
                let v = self.call_value(f, Vec::new())?;
                d.lock().insert(key.clone(), v.clone())?;
                Ok(Some(v))
            }
        }
    }

    /// Adds (or, `sign` -1, subtracts) the counts of an iterable's items or a mapping's values.
    fn count_into(&mut self, d: &DictObj, src: &Value, sign: i64) -> Result<(), VmError> {
        let pairs: Vec<(Value, Value)> = match src {
            Value::Dict(m) => m.lock().pairs(),
            other => self
                .iterate(other)?
                .into_iter()
                .map(|k| (k, Value::Int(1)))
                .collect(),
        };
        for (k, n) in pairs {
            let old = d.lock().get(&k)?.unwrap_or(Value::Int(0));
            let add = if sign < 0 {
                self.binary_op(super::code::BinOp::SUB, old, n)?
            } else {
                self.binary_op(super::code::BinOp::ADD, old, n)?
            };
            d.lock().insert(k, add)?;
        }
        Ok(())
    }

    /// Calls a `collections` function or method.
    pub(super) fn call_collections(
        &mut self,
        f: CollFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let name = f.name();
        match f {
            CollFn::Deque => {
                let mut p =
                    super::call::bind_params(name, &["iterable", "maxlen"], 2, args, kwargs)?
                        .into_iter();
                let items = match p.next().flatten() {
                    Some(it) => self.iterate(&it)?,
                    None => Vec::new(),
                };
                let maxlen = match p.next().flatten() {
                    None | Some(Value::None) => None,
                    Some(v) => match v.as_i64() {
                        Some(m) if m >= 0 => Some(m as usize),
                        Some(_) => {
                            return Err(VmError::py("ValueError", "maxlen must be non-negative"));
                        }
                        None => return Err(VmError::type_error("an integer is required")),
                    },
                };
                let d = DequeObj {
                    items: Mutex::new(VecDeque::new()),
                    maxlen,
                };
                for v in items {
                    d.push(v, false);
                }
                Ok(Value::Deque(Arc::new(d)))
            }
            CollFn::Counter => {
                let d = Obj::new(DictObj::with_kind(DictKind::Counter));
                if args.len() > 1 {
                    return Err(VmError::type_error(format!(
                        "expected at most 1 argument, got {}",
                        args.len()
                    )));
                }
                if let Some(src) = args.first() {
                    self.count_into(&d, src, 1)?;
                }
                for (k, v) in kwargs {
                    d.lock().insert(Value::Str(k), v)?;
                }
                Ok(Value::Dict(d))
            }
            CollFn::DefaultDict => {
                let mut args = args.into_iter();
                let factory = args.next().unwrap_or(Value::None);
                let d = Obj::new(DictObj::with_kind(DictKind::Default(factory)));
                if let Some(src) = args.next() {
                    let pairs = match &src {
                        Value::Dict(m) => m.lock().pairs(),
                        other => self
                            .iterate(other)?
                            .into_iter()
                            .map(|kv| match super::ops::iterate(&kv)?.as_slice() {
                                [k, v] => Ok((k.clone(), v.clone())),
                                _ => Err(VmError::py(
                                    "ValueError",
                                    "dictionary update sequence element has wrong length",
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    };
                    for (k, v) in pairs {
                        d.lock().insert(k, v)?;
                    }
                }
                for (k, v) in kwargs {
                    d.lock().insert(Value::Str(k), v)?;
                }
                Ok(Value::Dict(d))
            }
            _ => self.call_collection_method(f, args),
        }
    }

    fn call_collection_method(&mut self, f: CollFn, args: Vec<Value>) -> Result<Value, VmError> {
        let name = f.name();
        let mut args = args.into_iter();
        let this = args.next();
        let rest: Vec<Value> = args.collect();
        let arity = |lo: usize, hi: usize| {
            if (lo..=hi).contains(&rest.len()) {
                Ok(())
            } else {
                Err(VmError::type_error(format!(
                    "{name}() takes {} argument{} ({} given)",
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo} to {hi}")
                    },
                    if hi == 1 { "" } else { "s" },
                    rest.len()
                )))
            }
        };
        match this {
            Some(Value::Deque(q)) => {
                match f {
                    CollFn::Append | CollFn::AppendLeft => {
                        arity(1, 1)?;
                        q.push(rest[0].clone(), f == CollFn::AppendLeft);
                    }
                    CollFn::Pop | CollFn::PopLeft => {
                        arity(0, 0)?;
                        let mut d = q.lock();
                        let v = if f == CollFn::PopLeft {
                            d.pop_front()
                        } else {
                            d.pop_back()
                        };
                        return v
                            .ok_or_else(|| VmError::py("IndexError", "pop from an empty deque"));
                    }
                    CollFn::Extend | CollFn::ExtendLeft => {
                        arity(1, 1)?;
                        for v in self.iterate(&rest[0])? {
                            q.push(v, f == CollFn::ExtendLeft);
                        }
                    }
                    CollFn::Rotate => {
                        arity(0, 1)?;
                        let n = rest
                            .first()
                            .map_or(Some(1), Value::as_i64)
                            .ok_or_else(|| VmError::type_error("rotate() needs an integer"))?;
                        let mut d = q.lock();
                        let len = d.len() as i64;
                        if len > 0 {
                            let k = n.rem_euclid(len) as usize;
                            d.rotate_right(k);
                        }
                    }
                    CollFn::Clear => {
                        arity(0, 0)?;
                        q.lock().clear();
                    }
                    _ => {}
                }
                Ok(Value::None)
            }
            Some(Value::Dict(d)) => match f {
                CollFn::MostCommon => {
                    arity(0, 1)?;
                    let mut pairs = by_count(&d);
                    if let Some(n) = rest.first().and_then(Value::as_i64) {
                        pairs.truncate(n.max(0) as usize);
                    }
                    Ok(Value::list(
                        pairs
                            .into_iter()
                            .map(|(k, v)| Value::Tuple(Arc::from([k, v])))
                            .collect(),
                    ))
                }
                CollFn::CounterUpdate | CollFn::Subtract => {
                    arity(0, 1)?;
                    if let Some(src) = rest.first() {
                        self.count_into(&d, src, if f == CollFn::Subtract { -1 } else { 1 })?;
                    }
                    Ok(Value::None)
                }
                CollFn::Elements => {
                    arity(0, 0)?;
                    let mut out = Vec::new();
                    for (k, v) in d.lock().iter() {
                        for _ in 0..v.as_i64().unwrap_or(0).max(0) {
                            out.push(k.clone());
                        }
                    }
                    Ok(Value::list(out))
                }
                CollFn::Total => {
                    arity(0, 0)?;
                    let values: Vec<Value> = d.lock().iter().map(|(_, v)| v.clone()).collect();
                    let mut total = Value::Int(0);
                    for v in values {
                        total = self.binary_op(super::code::BinOp::ADD, total, v)?;
                    }
                    Ok(total)
                }
                _ => Err(VmError::type_error(format!("{name}() needs a deque"))),
            },
            _ => Err(VmError::type_error(format!(
                "descriptor '{name}' needs a collections object"
            ))),
        }
    }
}
