//! `collections.namedtuple`: a class of the script's whose instances hold their fields as
//! attributes and behave as the tuple of them — `Point(x=1, y=2)` as repr, indexing and
//! slicing, unpacking and iteration, `len`, `==` and `<` as tuples compare, `_fields`,
//! `_asdict()`, `_replace(**changes)` — and that a class may derive from to add methods.
//! (Unlike CPython's, an instance is not an `isinstance` of `tuple`, and it hashes by identity.)

use std::sync::Arc;

use super::call::Kwargs;
use super::class::{ClassObj, object_class};
use super::code::CmpOp;
use super::object::Obj;
use super::value::{Builtin, DictObj, SeqIter, Value};
use super::{Host, Vm, VmError};

/// A method a named tuple's class has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NtFn {
    /// `collections.namedtuple(typename, field_names, *, defaults=None, rename=False)`.
    Make,
    /// `__init__` (CPython's `__new__`): binds the fields.
    Init,
    /// `__repr__`.
    Repr,
    /// `__getitem__`.
    GetItem,
    /// `__iter__`.
    Iter,
    /// `__len__`.
    Len,
    /// `__eq__`.
    Eq,
    /// `__lt__`.
    Lt,
    /// `_asdict()`.
    AsDict,
    /// `_replace(**changes)`.
    Replace,
}

impl NtFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            NtFn::Make => "namedtuple",
            NtFn::Init => "__new__",
            NtFn::Repr => "__repr__",
            NtFn::GetItem => "__getitem__",
            NtFn::Iter => "__iter__",
            NtFn::Len => "__len__",
            NtFn::Eq => "__eq__",
            NtFn::Lt => "__lt__",
            NtFn::AsDict => "_asdict",
            NtFn::Replace => "_replace",
        }
    }
}

fn field_names(v: &Value) -> Result<Vec<String>, VmError> {
    let names: Vec<String> = match v {
        Value::Str(s) => s
            .replace(',', " ")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        other => super::ops::iterate(other)?
            .into_iter()
            .map(|n| match n {
                Value::Str(s) => Ok(s.to_string()),
                other => Err(VmError::type_error(format!(
                    "Type names and field names must be strings, not {}",
                    other.type_name()
                ))),
            })
            .collect::<Result<_, _>>()?,
    };
    for (k, n) in names.iter().enumerate() {
        let valid = n
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid {
            return Err(VmError::py(
                "ValueError",
                format!("Type names and field names must be valid identifiers: '{n}'"),
            ));
        }
        if n.starts_with('_') {
            return Err(VmError::py(
                "ValueError",
                format!("Field names cannot start with an underscore: '{n}'"),
            ));
        }
        if names[..k].contains(n) {
            return Err(VmError::py(
                "ValueError",
                format!("Encountered duplicate field name: '{n}'"),
            ));
        }
    }
    Ok(names)
}

/// The named-tuple class an instance belongs to: its fields and their defaults.
fn fields_of(obj: &Value) -> Option<(Arc<ClassObj>, Vec<Arc<str>>)> {
    let Value::Instance(i) = obj else { return None };
    let fields = match i.class.lookup("_fields")? {
        Value::Tuple(t) => t
            .iter()
            .filter_map(|f| match f {
                Value::Str(s) => Some(Arc::clone(s)),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    Some((Arc::clone(&i.class), fields))
}

fn values_of(obj: &Value) -> Result<Vec<Value>, VmError> {
    let (Some((_, fields)), Value::Instance(i)) = (fields_of(obj), obj) else {
        return Err(VmError::type_error(
            "a named tuple's method needs its instance",
        ));
    };
    Ok(fields
        .iter()
        .map(|f| i.attr(f).unwrap_or(Value::None))
        .collect())
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_namedtuple(
        &mut self,
        f: NtFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match f {
            NtFn::Make => self.make_namedtuple(args, kwargs),
            NtFn::Init => {
                let this = args.first().cloned().unwrap_or(Value::None);
                let (Some((class, fields)), Value::Instance(inst)) = (fields_of(&this), &this)
                else {
                    return Err(VmError::type_error("__new__ needs a named tuple"));
                };
                let defaults: Vec<Value> = match class.lookup("_field_defaults_values") {
                    Some(Value::Tuple(t)) => t.to_vec(),
                    _ => Vec::new(),
                };
                let given = &args[1..];
                let name = &class.name;
                if given.len() > fields.len() {
                    return Err(VmError::type_error(format!(
                        "{name}.__new__() takes {} positional arguments but {} were given",
                        fields.len() + 1,
                        given.len() + 1
                    )));
                }
                let mut slots: Vec<Option<Value>> = given.iter().cloned().map(Some).collect();
                slots.resize(fields.len(), None);
                for (k, v) in kwargs {
                    match fields.iter().position(|f| **f == *k) {
                        Some(p) if slots[p].is_some() => {
                            return Err(VmError::type_error(format!(
                                "{name}.__new__() got multiple values for argument '{k}'"
                            )));
                        }
                        Some(p) => slots[p] = Some(v),
                        None => {
                            return Err(VmError::type_error(format!(
                                "{name}.__new__() got an unexpected keyword argument '{k}'"
                            )));
                        }
                    }
                }
                let first_default = fields.len() - defaults.len();
                let mut missing = Vec::new();
                for (p, slot) in slots.iter_mut().enumerate() {
                    if slot.is_none() {
                        match p.checked_sub(first_default) {
                            Some(d) => *slot = Some(defaults[d].clone()),
                            None => missing.push(format!("'{}'", fields[p])),
                        }
                    }
                }
                if !missing.is_empty() {
                    let list = match missing.len() {
                        1 => missing[0].clone(),
                        n => format!("{} and {}", missing[..n - 1].join(", "), missing[n - 1]),
                    };
                    return Err(VmError::type_error(format!(
                        "{name}.__new__() missing {} required positional argument{}: {list}",
                        missing.len(),
                        if missing.len() == 1 { "" } else { "s" }
                    )));
                }
                for (field, v) in fields.iter().zip(slots) {
                    inst.set_attr(field, v.unwrap_or(Value::None));
                }
                Ok(Value::None)
            }
            NtFn::Repr => {
                let this = args.first().cloned().unwrap_or(Value::None);
                let (Some((class, fields)), values) = (fields_of(&this), values_of(&this)?) else {
                    return Err(VmError::type_error("__repr__ needs a named tuple"));
                };
                let mut parts = Vec::with_capacity(fields.len());
                for (f, v) in fields.iter().zip(&values) {
                    parts.push(format!("{f}={}", self.display(v, true)?));
                }
                Ok(Value::str(&format!("{}({})", class.name, parts.join(", "))))
            }
            NtFn::GetItem => {
                let values = values_of(args.first().unwrap_or(&Value::None))?;
                let key = args.get(1).cloned().unwrap_or(Value::None);
                super::ops::subscript(&Value::Tuple(values.into()), &key)
            }
            NtFn::Iter => Ok(Value::SeqIter(Arc::new(SeqIter {
                seq: Value::Tuple(values_of(args.first().unwrap_or(&Value::None))?.into()),
                pos: Default::default(),
            }))),
            NtFn::Len => Ok(Value::Int(
                values_of(args.first().unwrap_or(&Value::None))?.len() as i64,
            )),
            NtFn::Eq | NtFn::Lt => {
                let a = Value::Tuple(values_of(args.first().unwrap_or(&Value::None))?.into());
                let b = match args.get(1) {
                    Some(o @ Value::Instance(_)) if fields_of(o).is_some() => {
                        Value::Tuple(values_of(o)?.into())
                    }
                    Some(t @ (Value::Tuple(_) | Value::IntPair(..))) => t.clone(),
                    _ => return Ok(Value::NotImplemented),
                };
                if f == NtFn::Eq {
                    Ok(Value::Bool(self.rich_compare(CmpOp::Eq, &a, &b)?))
                } else {
                    Ok(Value::Bool(self.less_than(&a, &b)?))
                }
            }
            NtFn::AsDict => {
                let this = args.first().cloned().unwrap_or(Value::None);
                let (Some((_, fields)), values) = (fields_of(&this), values_of(&this)?) else {
                    return Err(VmError::type_error("_asdict needs a named tuple"));
                };
                let pairs = fields
                    .iter()
                    .map(|f| Value::Str(Arc::clone(f)))
                    .zip(values)
                    .collect();
                Ok(Value::Dict(Obj::new(DictObj::new(pairs)?)))
            }
            NtFn::Replace => {
                let this = args.first().cloned().unwrap_or(Value::None);
                let (Some((class, fields)), mut values) = (fields_of(&this), values_of(&this)?)
                else {
                    return Err(VmError::type_error("_replace needs a named tuple"));
                };
                for (k, v) in kwargs {
                    match fields.iter().position(|f| **f == *k) {
                        Some(p) => values[p] = v,
                        None => {
                            return Err(VmError::py(
                                "ValueError",
                                format!("Got unexpected field names: ['{k}']"),
                            ));
                        }
                    }
                }
                self.call_value(&Value::Class(class), values)
            }
        }
    }

    fn make_namedtuple(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let names = ["typename", "field_names", "rename", "defaults", "module"];
        let mut p = super::call::bind_params("namedtuple", &names, 2, args, kwargs)?.into_iter();
        let typename = match p.next().flatten() {
            Some(Value::Str(s)) => s.to_string(),
            _ => {
                return Err(VmError::type_error(
                    "namedtuple() missing required argument 'typename'",
                ));
            }
        };
        let fields = field_names(&p.next().flatten().ok_or_else(|| {
            VmError::type_error("namedtuple() missing required argument 'field_names'")
        })?)?;
        let _rename = p.next();
        let defaults = match p.next().flatten() {
            None | Some(Value::None) => Vec::new(),
            Some(d) => self.iterate(&d)?,
        };
        if defaults.len() > fields.len() {
            return Err(VmError::type_error(
                "Got more default values than field names",
            ));
        }
        let m = |f| Value::Builtin(Builtin::NamedTuple(f));
        let field_tuple = Value::Tuple(fields.iter().map(|f| Value::str(f)).collect());
        let first_default = fields.len() - defaults.len();
        let field_defaults = Value::Dict(Obj::new(DictObj::new(
            fields[first_default..]
                .iter()
                .map(|f| Value::str(f))
                .zip(defaults.iter().cloned())
                .collect(),
        )?));
        let dict = vec![
            (Arc::from("_fields"), field_tuple),
            (Arc::from("_field_defaults"), field_defaults),
            (
                Arc::from("_field_defaults_values"),
                Value::Tuple(defaults.into()),
            ),
            (Arc::from("__init__"), m(NtFn::Init)),
            (Arc::from("__repr__"), m(NtFn::Repr)),
            (Arc::from("__getitem__"), m(NtFn::GetItem)),
            (Arc::from("__iter__"), m(NtFn::Iter)),
            (Arc::from("__len__"), m(NtFn::Len)),
            (Arc::from("__eq__"), m(NtFn::Eq)),
            (Arc::from("__lt__"), m(NtFn::Lt)),
            (Arc::from("_asdict"), m(NtFn::AsDict)),
            (Arc::from("_replace"), m(NtFn::Replace)),
        ];
        let class = ClassObj::user(&typename, vec![object_class()], dict)?;
        Ok(Value::Class(Arc::new(class)))
    }
}
