//! Programs: the demos in `assets/programs/` (built into the binary) or a teacher's own `.py`,
//! compiled once, with their UPPERCASE parameters, their entry function, and the values that
//! cross between processes (arguments in, results out) the way pickling would carry them.
//!
//! A program is a module with UPPERCASE parameters, `ENTRY` (the name of the function each
//! worker runs), and optionally `share(k, workers)` (the arguments of worker `k`) and
//! `report(results)` (the result dict, from the workers' return values in order).

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use gilscope_python::compiler::{self, CompiledModule};
use gilscope_python::vm::Globals;
use gilscope_python::vm::mp_shared::SharedObj;
use gilscope_python::vm::multiprocessing::MpObj;
use gilscope_python::vm::object::Obj;
use gilscope_python::vm::value::{ArrayObj, DictObj, Function, StdModule, Value};

/// The demos of the source texts, as shipped in `assets/programs/`.
pub const BUNDLED: [(&str, &str); 6] = [
    ("heat", include_str!("../../../assets/programs/heat.py")),
    ("count", include_str!("../../../assets/programs/count.py")),
    ("bank", include_str!("../../../assets/programs/bank.py")),
    (
        "download",
        include_str!("../../../assets/programs/download.py"),
    ),
    ("dot", include_str!("../../../assets/programs/dot.py")),
    (
        "refcount",
        include_str!("../../../assets/programs/refcount.py"),
    ),
];

/// The shared `__main__` driver the bundled programs import under CPython.
pub const DRIVER_SOURCE: &str = include_str!("../../../assets/programs/gilscope_driver.py");

/// Largest program file gilscope reads.
const MAX_SOURCE_BYTES: u64 = 1 << 20;

/// A compiled program.
#[derive(Debug)]
pub struct Program {
    /// Short name (`heat`, or the file stem).
    pub name: String,
    /// The file as shown in messages and listings (`assets/programs/heat.py` or the path given).
    pub file: String,
    /// Its source text.
    pub source: String,
    /// The compiled module.
    pub module: CompiledModule,
}

/// Whether `spec` names a plain script rather than a gilscope program: a path to a `.py` file
/// with no top-level `ENTRY = …` (gilscope's programs name their worker function so). The real
/// CPython runs a script as `python FILE` would, without gilscope's compiler or driver.
pub fn is_script(spec: &str) -> bool {
    let spec = spec.trim();
    if BUNDLED.iter().any(|(n, _)| *n == spec) {
        return false;
    }
    let Ok(src) = std::fs::read_to_string(spec) else {
        return false;
    };
    !src.lines().any(|l| {
        l.strip_prefix("ENTRY")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

impl Program {
    /// Loads a bundled program by name (`heat`) or a `.py` file by path.
    pub fn load(spec: &str) -> Result<Program, EngineError> {
        let spec = spec.trim();
        if let Some((name, src)) = BUNDLED.iter().find(|(n, _)| *n == spec) {
            return Self::from_source(name, &format!("assets/programs/{name}.py"), src);
        }
        let path = Path::new(spec);
        if path.extension().and_then(|e| e.to_str()) != Some("py") {
            let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
            return Err(EngineError::Config(format!(
                "unknown program '{spec}' (expected {} or a path to a .py file)",
                names.join(", ")
            )));
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| EngineError::Config(format!("cannot read program {spec}: {e}")))?;
        if !meta.is_file() {
            return Err(EngineError::Config(format!(
                "program {spec} is not a regular file"
            )));
        }
        if meta.len() > MAX_SOURCE_BYTES {
            return Err(EngineError::Config(format!(
                "program {spec} is larger than {} KiB",
                MAX_SOURCE_BYTES / 1024
            )));
        }
        let src = std::fs::read_to_string(path)
            .map_err(|e| EngineError::Config(format!("cannot read program {spec}: {e}")))?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("program");
        Self::from_source(stem, spec, &src)
    }

    /// Compiles source text.
    pub fn from_source(name: &str, file: &str, source: &str) -> Result<Program, EngineError> {
        let module = compiler::compile(source, file)?;
        Ok(Program {
            name: name.to_owned(),
            file: file.to_owned(),
            source: source.to_owned(),
            module,
        })
    }

    /// A plain script with `NAME=VALUE` overrides of its UPPERCASE constants: each top-level
    /// `NAME = constant` of the source rewritten to the new value (of the constant's type),
    /// then compiled again. The lines stay where they were.
    pub fn with_script_params(
        &self,
        overrides: &[(String, String)],
    ) -> Result<Program, EngineError> {
        let values = self.parse_params(overrides)?;
        let mut edits: Vec<((u32, u32), String)> = Vec::new();
        for (name, v) in &values {
            for p in self.module.params.iter().filter(|p| &p.name == name) {
                edits.push((p.value_span, v.repr()));
            }
        }
        edits.sort_by_key(|((start, _), _)| std::cmp::Reverse(*start));
        let mut source = self.source.clone();
        for ((start, end), text) in edits {
            let range = start as usize..end as usize;
            if source.get(range.clone()).is_none() {
                return Err(EngineError::Config(format!(
                    "{}: could not rewrite a parameter's value",
                    self.file
                )));
            }
            source.replace_range(range, &text);
        }
        Self::from_source(&self.name, &self.file, &source)
    }

    /// Whether the module's top level imports `module` (or a submodule of it).
    pub fn imports(&self, module: &str) -> bool {
        let code = &self.module.code;
        code.ops.iter().any(|op| match op {
            gilscope_python::vm::code::Op::ImportName(n) => {
                code.names.get(*n as usize).is_some_and(|name| {
                    name.as_ref() == module || name.starts_with(&format!("{module}."))
                })
            }
            _ => false,
        })
    }

    /// The default entry function: the `ENTRY` constant.
    pub fn default_entry(&self) -> Option<String> {
        self.module
            .params
            .iter()
            .find(|p| p.name == "ENTRY")
            .and_then(|p| match &p.default {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            })
    }

    /// Parses `NAME=VALUE` overrides with the types of the parameters' defaults.
    pub fn parse_params(
        &self,
        overrides: &[(String, String)],
    ) -> Result<Vec<(String, Value)>, EngineError> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for (name, text) in overrides {
            let Some(p) = self.module.params.iter().find(|p| &p.name == name) else {
                let known: Vec<&str> = self.module.params.iter().map(|p| p.name.as_str()).collect();
                return Err(EngineError::Config(format!(
                    "{} has no parameter {name} (its parameters: {})",
                    self.file,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            let bad = || {
                EngineError::Config(format!(
                    "--param {name}: '{text}' is not a valid {}",
                    p.default.type_name()
                ))
            };
            let clean = text.trim().replace('_', "");
            let v = match &p.default {
                Value::Bool(_) => match text.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => Value::Bool(true),
                    "0" | "false" | "no" => Value::Bool(false),
                    _ => return Err(bad()),
                },
                Value::Int(_) => Value::Int(clean.parse().map_err(|_| bad())?),
                Value::Float(_) => {
                    let f: f64 = clean.parse().map_err(|_| bad())?;
                    if !f.is_finite() {
                        return Err(bad());
                    }
                    Value::Float(f)
                }
                _ => Value::str(text),
            };
            out.retain(|(n, _)| n != name);
            out.push((name.clone(), v));
        }
        Ok(out)
    }

    /// A fresh namespace for one process of this program (before its top level runs), imported
    /// as a module: its `__name__` is the program's name, so its `__main__` block does not run.
    pub fn new_globals(&self) -> Arc<Globals> {
        self.globals_named(&self.name)
    }

    /// A fresh namespace for the program run as a script: `__name__` is `"__main__"`.
    pub fn new_main_globals(&self) -> Arc<Globals> {
        self.globals_named("__main__")
    }

    /// A fresh namespace for the program run as module `name`.
    pub fn globals_named(&self, name: &str) -> Arc<Globals> {
        let g = Globals::new(self.module.namespace.clone(), self.module.shared.clone());
        // The slots exist only where the module reads them.
        g.set("__name__", Value::str(name));
        g.set("__file__", Value::str(&self.file));
        Arc::new(g)
    }
}

/// A value as it crosses between processes (pickled in CPython): data by value, functions by
/// name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WireValue {
    /// `None`.
    None,
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
        let all = |items: &[Value]| {
            items
                .iter()
                .map(WireValue::pack)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match v {
            Value::None | Value::Null => WireValue::None,
            Value::Bool(b) => WireValue::Bool(*b),
            Value::Int(i) => WireValue::Int(*i),
            Value::Float(f) => WireValue::Float(*f),
            Value::NpFloat(s) => WireValue::Float(s.value),
            Value::Str(s) => WireValue::Str(s.to_string()),
            Value::IntPair(a, b) => WireValue::Tuple(vec![WireValue::Int(*a), WireValue::Int(*b)]),
            Value::Tuple(t) => WireValue::Tuple(all(t)?),
            Value::List(l) => WireValue::List(all(&l.lock())?),
            Value::Dict(d) => WireValue::Dict(
                d.lock()
                    .iter()
                    .map(|(k, v)| Ok((WireValue::pack(k)?, WireValue::pack(v)?)))
                    .collect::<Result<_, EngineError>>()?,
            ),
            Value::Array(a) => {
                let (rows, cols) = a.shape();
                WireValue::Array {
                    rows,
                    cols,
                    ndim: a.ndim,
                    cells: a.to_vec(),
                }
            }
            Value::Function(f) => WireValue::Function(f.code.name.to_string()),
            Value::Module(m) => WireValue::Module(m.name().to_owned()),
            Value::Mp(m) if let MpObj::Shared(s) = &**m => WireValue::Shared {
                id: s.id,
                kind: s.kind.encode(),
                lock: s.lock.as_ref().map(|l| (l.id, l.kind.encode())),
            },
            Value::BigInt(b) => WireValue::BigInt(b.to_string()),
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
            WireValue::Module(name) => Value::Module(StdModule::import(name).ok_or_else(|| {
                EngineError::Python(format!("ModuleNotFoundError: No module named '{name}'"))
            })?),
            WireValue::Shared { id, kind, lock } => {
                let obj = SharedObj::resolve(*id, kind, lock.clone()).ok_or_else(|| {
                    EngineError::Python(format!(
                        "RuntimeError: shared object {id} is not reachable from this process"
                    ))
                })?;
                Value::Mp(Arc::new(MpObj::Shared(obj)))
            }
            WireValue::ModuleAttr { module, attr } => {
                let found = if module == "builtins" {
                    gilscope_python::vm::exception::builtin_class(attr).map(Value::Class)
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
            WireValue::Module(n) => J::String(format!("<module '{n}'>")),
            WireValue::BigInt(s) => J::String(s.clone()),
            WireValue::ModuleAttr { module, attr } => J::String(format!("<{module}.{attr}>")),
            WireValue::Shared { kind, .. } => J::String(format!("<shared {kind}>")),
        }
    }
}

/// The function a name binds in a namespace.
pub fn function(globals: &Globals, name: &str) -> Option<Obj<Function>> {
    match globals.get(name) {
        Some(Value::Function(f)) => Some(f),
        _ => None,
    }
}
