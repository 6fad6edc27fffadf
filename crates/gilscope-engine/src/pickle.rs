//! What crosses between a script's processes, as pickle would carry it: data by value,
//! module-level functions and classes by name, instances as their class and `__dict__`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use gilscope_python::vm::Globals;
use gilscope_python::vm::class::Instance;
use gilscope_python::vm::mp_shared::SharedObj;
use gilscope_python::vm::multiprocessing::MpObj;
use gilscope_python::vm::object::Obj;
use gilscope_python::vm::value::{ArrayObj, BoundMethod, Builtin, DictObj, StdModule, Value};

/// How deep packing goes before it gives up (pickle's own recursion limit, roughly).
const PACK_DEPTH_MAX: usize = 500;

/// A value as it crosses between processes (pickled in CPython): data by value, functions by
/// name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WireValue {
    /// `None`.
    None,
    /// `...`.
    Ellipsis,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A tuple.
    Tuple(Vec<WireValue>),
    /// A list.
    List(Vec<WireValue>),
    /// A dict, in insertion order.
    Dict(Vec<(WireValue, WireValue)>),
    /// An array.
    Array {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Dimensions (1 or 2).
        ndim: u8,
        /// Cells, row-major.
        cells: Vec<f64>,
    },
    /// A module-level function, by name.
    Function(String),
    /// An imported standard-library module, by name.
    Module(String),
    /// An int too big for 64 bits, in decimal.
    BigInt(String),
    /// A `multiprocessing` queue, value, array, lock or event, by its number in the script's
    /// process (a forked process reaches it there).
    Shared {
        /// Its number.
        id: u64,
        /// Its kind, encoded.
        kind: String,
        /// Its own lock's number and kind (a `Value`'s, an `Array`'s).
        lock: Option<(u64, String)>,
    },
    /// A `range`: start, stop, step.
    Range(i64, i64, i64),
    /// A module-level class of the program, by name.
    Class(String),
    /// An instance of a program's class: its class by name, its `__dict__` by value.
    Instance {
        /// Its class's name in the module.
        class: String,
        /// Its attributes, in insertion order.
        attrs: Vec<(String, WireValue)>,
    },
    /// A method bound to an instance: the instance, and the method's name on its class.
    Method {
        /// The instance.
        this: Box<WireValue>,
        /// The method's name.
        name: String,
    },
    /// A function or class of a standard-library module (`builtins` for the exceptions), by
    /// where it is found, as pickle finds it.
    ModuleAttr {
        /// The module's name.
        module: String,
        /// The attribute.
        attr: String,
    },
}

impl WireValue {
    /// Packs a value; what cannot be pickled is a `TypeError`-like config error.
    pub fn pack(v: &Value) -> Result<WireValue, EngineError> {
        Self::pack_at(v, 0)
    }

    fn pack_at(v: &Value, depth: usize) -> Result<WireValue, EngineError> {
        if depth > PACK_DEPTH_MAX {
            return Err(EngineError::Python(
                "RecursionError: maximum recursion depth exceeded while pickling an object"
                    .to_owned(),
            ));
        }
        let one = |v: &Value| Self::pack_at(v, depth + 1);
        let all = |items: &[Value]| items.iter().map(one).collect::<Result<Vec<_>, _>>();
        Ok(match v {
            Value::None | Value::Null => WireValue::None,
            Value::Ellipsis => WireValue::Ellipsis,
            Value::Bool(b) => WireValue::Bool(*b),
            Value::Int(i) => WireValue::Int(*i),
            Value::Float(f) => WireValue::Float(*f),
            Value::NpFloat(s) => WireValue::Float(s.value),
            Value::Str(s) => WireValue::Str(s.to_string()),
            Value::IntPair(a, b) => WireValue::Tuple(vec![WireValue::Int(*a), WireValue::Int(*b)]),
            Value::Tuple(t) => WireValue::Tuple(all(t)?),
            // Copied out before packing: a container may hold itself (its lock is not
            // reentrant).
            Value::List(l) => {
                let items = l.lock().clone();
                WireValue::List(all(&items)?)
            }
            Value::Dict(d) => {
                let pairs: Vec<(Value, Value)> = d
                    .lock()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                WireValue::Dict(
                    pairs
                        .iter()
                        .map(|(k, v)| Ok((one(k)?, one(v)?)))
                        .collect::<Result<_, EngineError>>()?,
                )
            }
            Value::Array(a) => {
                let (rows, cols) = a.shape();
                WireValue::Array {
                    rows,
                    cols,
                    ndim: a.ndim,
                    cells: a.to_vec(),
                }
            }
            // By reference, as pickle does: the global that binds it (`work.square` for a
            // function of the script's module `work`).
            Value::Function(f) => {
                WireValue::Function(format!("{}{}", f.code.module_prefix, f.code.name))
            }
            Value::Module(m) => WireValue::Module(m.name().to_owned()),
            Value::Mp(m) if let MpObj::Shared(s) = &**m => WireValue::Shared {
                id: s.id,
                kind: s.kind.encode(),
                lock: s.lock.as_ref().map(|l| (l.id, l.kind.encode())),
            },
            Value::BigInt(b) => WireValue::BigInt(b.to_string()),
            Value::Range { start, stop, step } => WireValue::Range(*start, *stop, *step),
            Value::Class(c) if c.user => WireValue::Class(c.global_name()),
            Value::Instance(i) if i.class.user && i.exc.is_none() && i.thread().is_none() => {
                WireValue::Instance {
                    class: i.class.global_name(),
                    attrs: i
                        .attrs()
                        .iter()
                        .map(|(k, v)| Ok((k.to_string(), one(v)?)))
                        .collect::<Result<_, EngineError>>()?,
                }
            }
            Value::Method(m)
                if let Value::Function(f) = &m.func
                    && matches!(m.this, Value::Instance(_)) =>
            {
                WireValue::Method {
                    this: Box::new(one(&m.this)?),
                    name: f.code.name.to_string(),
                }
            }
            other => {
                return Err(EngineError::Python(format!(
                    "TypeError: cannot pickle '{}' object",
                    other.type_name()
                )));
            }
        })
    }

    /// Unpacks a value in a process whose namespace is `globals` (functions are looked up there).
    pub fn unpack(&self, globals: &Globals) -> Result<Value, EngineError> {
        let all = |items: &[WireValue]| {
            items
                .iter()
                .map(|w| w.unpack(globals))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match self {
            WireValue::None => Value::None,
            WireValue::Ellipsis => Value::Ellipsis,
            WireValue::Bool(b) => Value::Bool(*b),
            WireValue::Int(i) => Value::Int(*i),
            WireValue::Float(f) => Value::Float(*f),
            WireValue::Str(s) => Value::str(s),
            WireValue::Tuple(t) => match &all(t)?[..] {
                [Value::Int(a), Value::Int(b)] => Value::IntPair(*a, *b),
                items => Value::Tuple(items.to_vec().into()),
            },
            WireValue::List(l) => Value::list(all(l)?),
            WireValue::Dict(d) => Value::Dict(Obj::new(DictObj::new(
                d.iter()
                    .map(|(k, v)| Ok((k.unpack(globals)?, v.unpack(globals)?)))
                    .collect::<Result<_, EngineError>>()?,
            )?)),
            WireValue::Array {
                rows,
                cols,
                ndim,
                cells,
            } => {
                if cells.len() != rows * cols {
                    return Err(EngineError::Internal("array of the wrong size".to_owned()));
                }
                let mut a = ArrayObj::from_fn(*rows, *cols, |i, j| cells[i * cols + j]);
                a.ndim = *ndim;
                Value::Array(Obj::new(a))
            }
            WireValue::Function(name) => match globals.get(name) {
                Some(f @ Value::Function(_)) => f,
                _ => {
                    return Err(EngineError::Python(format!(
                        "AttributeError: Can't get attribute '{name}' on the program's module"
                    )));
                }
            },
            WireValue::Module(name) => match (StdModule::import(name), globals.module(name)) {
                // One of the script's modules: its globals came with the namespace fork copied.
                (_, Some(m)) => {
                    *m.state.lock().unwrap_or_else(|p| p.into_inner()) =
                        gilscope_python::vm::globals::ModuleState::Ran;
                    Value::Module(m.handle())
                }
                (Some(m), None) => Value::Module(m),
                (None, None) => {
                    return Err(EngineError::Python(format!(
                        "ModuleNotFoundError: No module named '{name}'"
                    )));
                }
            },
            WireValue::Shared { id, kind, lock } => {
                let obj = SharedObj::resolve(*id, kind, lock.clone()).ok_or_else(|| {
                    EngineError::Python(format!(
                        "RuntimeError: shared object {id} is not reachable from this process"
                    ))
                })?;
                Value::Mp(Arc::new(MpObj::Shared(obj)))
            }
            WireValue::Range(start, stop, step) => {
                if *step == 0 {
                    return Err(EngineError::Internal("range with step 0".to_owned()));
                }
                Value::Range {
                    start: *start,
                    stop: *stop,
                    step: *step,
                }
            }
            WireValue::Class(name) => Value::Class(class_named(globals, name)?),
            WireValue::Instance { class, attrs } => {
                let inst = Instance::new(class_named(globals, class)?, Vec::new());
                for (k, w) in attrs {
                    inst.set_attr(k, w.unpack(globals)?);
                }
                Value::Instance(Obj::new(inst))
            }
            WireValue::Method { this, name } => {
                let this = this.unpack(globals)?;
                let func = match &this {
                    Value::Instance(i) => i.class.lookup(name),
                    _ => None,
                };
                match func {
                    Some(func @ Value::Function(_)) => {
                        Value::Method(Arc::new(BoundMethod { this, func }))
                    }
                    _ => {
                        return Err(EngineError::Python(format!(
                            "AttributeError: the instance has no method '{name}'"
                        )));
                    }
                }
            }
            WireValue::ModuleAttr { module, attr } => {
                let found = if module == "builtins" {
                    gilscope_python::vm::exception::builtin_class(attr)
                        .map(Value::Class)
                        .or_else(|| Builtin::lookup(attr).map(Value::Builtin))
                } else {
                    StdModule::import(module).and_then(|m| m.attr(attr))
                };
                found.ok_or_else(|| {
                    EngineError::Python(format!(
                        "AttributeError: Can't get attribute '{attr}' on <module '{module}'>"
                    ))
                })?
            }
            WireValue::BigInt(digits) => digits
                .parse::<num_bigint::BigInt>()
                .map(gilscope_python::vm::bigint::int_value)
                .map_err(|_| EngineError::Internal(format!("bad int {digits}")))?,
        })
    }

    /// The value as JSON, as `json.dumps` would write it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            WireValue::None => J::Null,
            WireValue::Ellipsis => J::String("Ellipsis".to_owned()),
            WireValue::Bool(b) => J::Bool(*b),
            WireValue::Int(i) => J::from(*i),
            WireValue::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            WireValue::Str(s) => J::String(s.clone()),
            WireValue::Tuple(t) | WireValue::List(t) => {
                J::Array(t.iter().map(WireValue::to_json).collect())
            }
            WireValue::Dict(d) => J::Object(
                d.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            WireValue::Str(s) => s.clone(),
                            other => other.to_json().to_string(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
            WireValue::Array { cells, .. } => J::Array(
                cells
                    .iter()
                    .map(|f| serde_json::Number::from_f64(*f).map_or(J::Null, J::Number))
                    .collect(),
            ),
            WireValue::Function(n) => J::String(format!("<function {n}>")),
            WireValue::Range(a, b, c) => J::String(format!("range({a}, {b}, {c})")),
            WireValue::Class(n) => J::String(format!("<class '__main__.{n}'>")),
            WireValue::Instance { class, .. } => J::String(format!("<__main__.{class} object>")),
            WireValue::Method { name, .. } => J::String(format!("<bound method {name}>")),
            WireValue::Module(n) => J::String(format!("<module '{n}'>")),
            WireValue::BigInt(s) => J::String(s.clone()),
            WireValue::ModuleAttr { module, attr } => J::String(format!("<{module}.{attr}>")),
            WireValue::Shared { kind, .. } => J::String(format!("<shared {kind}>")),
        }
    }
}

/// The program's class bound to `name`, as pickle finds a class by name on `__main__`.
fn class_named(
    globals: &Globals,
    name: &str,
) -> Result<Arc<gilscope_python::vm::class::ClassObj>, EngineError> {
    match globals.get(name) {
        Some(Value::Class(c)) => Ok(c),
        _ => Err(EngineError::Python(format!(
            "AttributeError: Can't get attribute '{name}' on <module '__main__'>"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_holding_itself_is_refused_not_a_stack_overflow() {
        let l = Value::list(vec![Value::Int(1)]);
        if let Value::List(inner) = &l {
            inner.lock().push(l.clone());
        }
        let err = WireValue::pack(&l).expect_err("a cycle cannot be packed by value");
        assert!(err.to_string().contains("RecursionError"), "{err}");
        if let Value::List(inner) = &l {
            inner.lock().clear();
        }
    }

    #[test]
    fn a_range_crosses_whole() {
        let r = Value::Range {
            start: 3,
            stop: 30,
            step: 4,
        };
        let w = WireValue::pack(&r).expect("a range packs");
        assert_eq!(w, WireValue::Range(3, 30, 4));
        let text = serde_json::to_string(&w).expect("serialises");
        let back: WireValue = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, w);
    }
}
