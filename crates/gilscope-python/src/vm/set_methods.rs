//! The methods and operators of `set` and `frozenset` (`add`, `discard`, `union`, `|`, `&`,
//! `-`, `^`, `issubset`…), and the `set()` and `frozenset()` constructors.

use super::call::Kwargs;
use super::code::BinOp;
use super::object::Obj;
use super::set::SetObj;
use super::value::{Builtin, Value};
use super::{Host, Vm, VmError};

/// A method of a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetMethod {
    /// `set.add(x)`.
    Add,
    /// `set.remove(x)`.
    Remove,
    /// `set.discard(x)`.
    Discard,
    /// `set.pop()`.
    Pop,
    /// `set.clear()`.
    Clear,
    /// `set.update(*others)`.
    Update,
    /// `set.union(*others)`.
    Union,
    /// `set.intersection(*others)`.
    Intersection,
    /// `set.difference(*others)`.
    Difference,
    /// `set.symmetric_difference(other)`.
    SymmetricDifference,
    /// `set.issubset(other)`.
    Issubset,
    /// `set.issuperset(other)`.
    Issuperset,
    /// `set.isdisjoint(other)`.
    Isdisjoint,
    /// `set.copy()`.
    Copy,
}

impl SetMethod {
    /// The method's Python name.
    pub fn name(self) -> &'static str {
        use SetMethod as M;
        match self {
            M::Add => "add",
            M::Remove => "remove",
            M::Discard => "discard",
            M::Pop => "pop",
            M::Clear => "clear",
            M::Update => "update",
            M::Union => "union",
            M::Intersection => "intersection",
            M::Difference => "difference",
            M::SymmetricDifference => "symmetric_difference",
            M::Issubset => "issubset",
            M::Issuperset => "issuperset",
            M::Isdisjoint => "isdisjoint",
            M::Copy => "copy",
        }
    }
}

/// The method `name` of set `s` (a frozenset has no mutating ones).
pub fn lookup(s: &SetObj, name: &str) -> Option<Builtin> {
    use SetMethod as M;
    let m = match name {
        "add" => M::Add,
        "remove" => M::Remove,
        "discard" => M::Discard,
        "pop" => M::Pop,
        "clear" => M::Clear,
        "update" => M::Update,
        "union" => M::Union,
        "intersection" => M::Intersection,
        "difference" => M::Difference,
        "symmetric_difference" => M::SymmetricDifference,
        "issubset" => M::Issubset,
        "issuperset" => M::Issuperset,
        "isdisjoint" => M::Isdisjoint,
        "copy" => M::Copy,
        _ => return None,
    };
    let mutates = matches!(
        m,
        M::Add | M::Remove | M::Discard | M::Pop | M::Clear | M::Update
    );
    (!(s.frozen && mutates)).then_some(Builtin::SetMethod(m))
}

fn new_set(frozen: bool, items: impl IntoIterator<Item = Value>) -> Result<Value, VmError> {
    Ok(Value::Set(Obj::new(SetObj::from_items(frozen, items)?)))
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` of two sets (the result has the left one's kind).
pub fn binary(op: BinOp, a: &SetObj, b: &SetObj) -> Result<Value, VmError> {
    let (x, y) = (a.items(), b.items());
    let frozen = a.frozen;
    match op.base() {
        BinOp::OR => new_set(frozen, x.into_iter().chain(y)),
        BinOp::AND => {
            let mut out = Vec::new();
            for v in x {
                if b.contains(&v)? {
                    out.push(v);
                }
            }
            new_set(frozen, out)
        }
        BinOp::SUB => {
            let mut out = Vec::new();
            for v in x {
                if !b.contains(&v)? {
                    out.push(v);
                }
            }
            new_set(frozen, out)
        }
        BinOp::XOR => {
            let mut out = Vec::new();
            for v in x {
                if !b.contains(&v)? {
                    out.push(v);
                }
            }
            for v in y {
                if !a.contains(&v)? {
                    out.push(v);
                }
            }
            new_set(frozen, out)
        }
        other => Err(VmError::type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            other.symbol(),
            if a.frozen { "frozenset" } else { "set" },
            if b.frozen { "frozenset" } else { "set" }
        ))),
    }
}

impl Builtin {
    /// Whether this builtin is a set constructor or method.
    pub fn is_set(self) -> bool {
        matches!(self, Builtin::SetNew(_) | Builtin::SetMethod(_))
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_set(
        &mut self,
        b: Builtin,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        if !kwargs.is_empty() {
            return Err(VmError::type_error(format!(
                "{}() takes no keyword arguments",
                b.name()
            )));
        }
        match b {
            Builtin::SetNew(frozen) => match args.as_slice() {
                [] => new_set(frozen, Vec::new()),
                [it] => {
                    let items = self.iterate(it)?;
                    new_set(frozen, items)
                }
                _ => Err(VmError::type_error(format!(
                    "{} expected at most 1 argument, got {}",
                    b.name(),
                    args.len()
                ))),
            },
            Builtin::SetMethod(m) => {
                let Some((Value::Set(s), rest)) = args.split_first() else {
                    return Err(VmError::type_error(format!(
                        "descriptor '{}' requires a 'set' object",
                        m.name()
                    )));
                };
                self.set_method(m, s, rest)
            }
            other => Err(VmError::py(
                "SystemError",
                format!("{} is not a set method", other.name()),
            )),
        }
    }

    fn set_method(&mut self, m: SetMethod, s: &Obj<SetObj>, a: &[Value]) -> Result<Value, VmError> {
        use SetMethod as M;
        let one = |a: &[Value]| -> Result<Value, VmError> {
            match a {
                [v] => Ok(v.clone()),
                _ => Err(VmError::type_error(format!(
                    "{}() takes exactly one argument ({} given)",
                    m.name(),
                    a.len()
                ))),
            }
        };
        let mut others = Vec::with_capacity(a.len());
        if matches!(
            m,
            M::Update
                | M::Union
                | M::Intersection
                | M::Difference
                | M::SymmetricDifference
                | M::Issubset
                | M::Issuperset
                | M::Isdisjoint
        ) {
            for o in a {
                let items = self.iterate(o)?;
                others.push(SetObj::from_items(true, items)?);
            }
        }
        match m {
            M::Add => {
                s.add(one(a)?)?;
                Ok(Value::None)
            }
            M::Remove => {
                let v = one(a)?;
                if s.discard(&v)? {
                    Ok(Value::None)
                } else {
                    Err(super::exception::key_error(&v))
                }
            }
            M::Discard => {
                s.discard(&one(a)?)?;
                Ok(Value::None)
            }
            M::Pop => s
                .pop()
                .ok_or_else(|| super::exception::key_error(&Value::str("pop from an empty set"))),
            M::Clear => {
                s.clear();
                Ok(Value::None)
            }
            M::Update => {
                for o in &others {
                    for v in o.items() {
                        s.add(v)?;
                    }
                }
                Ok(Value::None)
            }
            M::Union | M::Intersection | M::Difference | M::SymmetricDifference => {
                let op = match m {
                    M::Union => BinOp::OR,
                    M::Intersection => BinOp::AND,
                    M::Difference => BinOp::SUB,
                    _ => BinOp::XOR,
                };
                let mut acc = Value::Set(Obj::new(SetObj::from_items(s.frozen, s.items())?));
                for o in &others {
                    let Value::Set(cur) = &acc else { break };
                    let next = binary(op, cur, o)?;
                    acc = next;
                }
                Ok(acc)
            }
            M::Issubset | M::Issuperset | M::Isdisjoint => {
                let [o] = others.as_slice() else {
                    return Err(VmError::type_error(format!(
                        "{}() takes exactly one argument ({} given)",
                        m.name(),
                        a.len()
                    )));
                };
                let mine = s.items();
                Ok(Value::Bool(match m {
                    M::Issubset => mine.iter().all(|v| o.contains(v).unwrap_or(false)),
                    M::Issuperset => o.items().iter().all(|v| s.contains(v).unwrap_or(false)),
                    _ => !mine.iter().any(|v| o.contains(v).unwrap_or(false)),
                }))
            }
            M::Copy => new_set(s.frozen, s.items()),
        }
    }
}
