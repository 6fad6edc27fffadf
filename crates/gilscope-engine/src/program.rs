//! Programs: the demos in `assets/programs/` (built into the binary) or a teacher's own `.py`,
//! compiled once, with their UPPERCASE parameters, their entry function, and the values that
//! cross between processes (arguments in, results out) the way pickling would carry them.
//!
//! A program is a module with UPPERCASE parameters, `ENTRY` (the name of the function each
//! worker runs), and optionally `share(k, workers)` (the arguments of worker `k`) and
//! `report(results)` (the result dict, from the workers' return values in order).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::EngineError;
use gilscope_python::compiler::{self, CompiledModule};
use gilscope_python::vm::Globals;
use gilscope_python::vm::object::Obj;
use gilscope_python::vm::value::{Function, Value};

pub use crate::pickle::WireValue;

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
    /// The folder an `import` of a sibling `.py` file looks in (the script's, symlinks
    /// resolved, as CPython's `sys.path[0]`); none for a bundled program.
    pub folder: Option<PathBuf>,
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
        let folder = std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        Self::compile(stem, spec, &src, folder)
    }

    /// Compiles source text that imports no sibling files.
    pub fn from_source(name: &str, file: &str, source: &str) -> Result<Program, EngineError> {
        Self::compile(name, file, source, None)
    }

    /// Compiles source text whose `import`s look for sibling files in `folder`.
    fn compile(
        name: &str,
        file: &str,
        source: &str,
        folder: Option<PathBuf>,
    ) -> Result<Program, EngineError> {
        let loader = |module: &str| folder.as_deref().and_then(|f| read_sibling(f, module));
        let module = compiler::compile_with(source, file, &loader)?;
        Ok(Program {
            name: name.to_owned(),
            file: file.to_owned(),
            source: source.to_owned(),
            module,
            folder,
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
        Self::compile(&self.name, &self.file, &source, self.folder.clone())
    }

    /// Line `line` of `file`, the program's own or one of its sibling modules'.
    pub fn source_line(&self, file: &str, line: u32) -> Option<String> {
        if file == self.file {
            return gilscope_python::vm::traceback::line_of(&self.source, line);
        }
        let m = self.module.siblings.iter().find(|m| &*m.file == file)?;
        gilscope_python::vm::traceback::line_of(&m.source, line)
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
        let siblings = self.module.siblings.iter().map(|m| {
            (
                Arc::clone(&m.name),
                Arc::clone(&m.file),
                Arc::clone(&m.code),
            )
        });
        let g = Globals::new(self.module.namespace.clone(), self.module.shared.clone())
            .with_modules(siblings);
        // The slots exist only where the module reads them.
        g.set("__name__", Value::str(name));
        g.set("__file__", Value::str(&self.file));
        Arc::new(g)
    }
}

/// The source of module `name` from `folder/name.py`, with its path as CPython shows it; none
/// when there is no such regular file of a readable size.
fn read_sibling(folder: &Path, name: &str) -> Option<(String, String)> {
    let path = folder.join(format!("{name}.py"));
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let source = std::fs::read_to_string(&path).ok()?;
    Some((path.to_string_lossy().into_owned(), source))
}

/// The function a name binds in a namespace.
pub fn function(globals: &Globals, name: &str) -> Option<Obj<Function>> {
    match globals.get(name) {
        Some(Value::Function(f)) => Some(f),
        _ => None,
    }
}
