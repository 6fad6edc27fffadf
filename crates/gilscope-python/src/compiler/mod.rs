//! Compiles Python source to the interpreter's bytecode, instruction for instruction what
//! CPython 3.11's compiler emits for the supported subset, on Ruff's parser.
//!
//! The module's top level becomes a `<module>` code object that the VM runs to bind the
//! namespace (`STORE_NAME`, `MAKE_FUNCTION`, `IMPORT_NAME`), exactly as CPython does, the
//! `if __name__ == "__main__":` block included: a script runs it as `__main__`, a gilscope
//! program's workers import the module under another name. Anything outside the subset is one error
//! `FILE:LINE:COL: <construct> is not supported by gilscope's interpreter`.
//!
//! The passes, as in CPython's `Python/compile.c` and RustPython's codegen: `module` applies
//! gilscope's conventions to the top level, `symtable` finds each function's locals, `codegen`
//! holds one code object's emitter, `stmt` and `expr` emit statements and expressions into its
//! control-flow graph, `fold` folds constants, and `cfg` lays the graph out as bytecode.

mod cfg;
mod class;
mod codegen;
mod except;
mod exctable;
mod expr;
mod fold;
mod imports;
mod module;
mod stmt;
mod symtable;
mod unparse;

use std::cell::RefCell;
use std::sync::Arc;

use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextSize};

use crate::vm::code::{Code, Position};
use crate::vm::value::Value;
pub use fold::const_key;
pub use imports::{Loader, SiblingModule};

/// A compile error with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {kind}{message}")]
pub struct CompileError {
    /// The file, as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Whose the fault is.
    pub kind: CompileErrorKind,
    /// What is wrong.
    pub message: String,
}

/// Why a file did not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    /// The file is not valid Python: python3 refuses it too (a SyntaxError).
    Syntax,
    /// Valid Python that gilscope's interpreter does not run yet.
    Unsupported,
    /// A fault of gilscope's compiler.
    Internal,
}

impl std::fmt::Display for CompileErrorKind {
    /// The message's prefix: `SyntaxError: `, `internal error: `, or none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CompileErrorKind::Syntax => "SyntaxError: ",
            CompileErrorKind::Unsupported => "",
            CompileErrorKind::Internal => "internal error: ",
        })
    }
}

/// A module-level UPPERCASE constant: one of the program's parameters.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its value in the file.
    pub default: Value,
    /// Line of its assignment.
    pub line: u32,
    /// Byte offsets `[start, end)` of the assigned value in the source.
    pub value_span: (u32, u32),
}

/// A compiled module: its top-level code, its namespace layout and its parameters.
#[derive(Debug)]
pub struct CompiledModule {
    /// The `<module>` code object; functions are its code constants.
    pub code: Arc<Code>,
    /// Names of the module namespace, in slot order.
    pub namespace: Vec<Arc<str>>,
    /// Per slot: rebound by some function through `global` (read with a lock every time).
    pub shared: Vec<bool>,
    /// UPPERCASE module constants, in file order.
    pub params: Vec<Param>,
    /// Every function, in definition order.
    pub functions: Vec<Arc<Code>>,
    /// The program's sibling `.py` files that some `import` names, compiled into the same
    /// namespace under their own prefix, in the order they were found.
    pub siblings: Vec<SiblingModule>,
}

impl CompiledModule {
    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&Arc<Code>> {
        self.functions.iter().find(|f| &*f.name == name)
    }
}

/// Compiles a whole file that imports no sibling modules of its own.
pub fn compile(source: &str, file: &str) -> Result<CompiledModule, CompileError> {
    compile_with(source, file, &|_: &str| None)
}

/// Compiles a whole file, with `loader` finding the source of a module it imports that is
/// not one of the emulated standard library's (the program's sibling `.py` files).
pub fn compile_with(
    source: &str,
    file: &str,
    loader: &Loader<'_>,
) -> Result<CompiledModule, CompileError> {
    let ns = RefCell::default();
    let siblings = RefCell::default();
    let shared = imports::Shared {
        ns: &ns,
        loader,
        siblings: &siblings,
        waiting: RefCell::default(),
    };
    let mut module = compile_module(source, file, &shared)?;
    module.siblings = siblings.into_inner();
    let ns = ns.borrow();
    module.namespace = ns.names.iter().map(|n| Arc::from(n.as_str())).collect();
    module.shared = ns.names.iter().map(|n| ns.rebound.contains(n)).collect();
    Ok(module)
}

/// Parses and compiles one file into the namespace `shared` holds, under its current prefix.
fn compile_module(
    source: &str,
    file: &str,
    shared: &imports::Shared<'_>,
) -> Result<CompiledModule, CompileError> {
    let index = LineIndex::from_source_text(source);
    let place = Place {
        file,
        source,
        index: &index,
    };
    let parsed = ruff_python_parser::parse_module(source).map_err(|e| {
        place.error(
            e.location.start(),
            CompileErrorKind::Syntax,
            e.error.to_string(),
        )
    })?;
    let module = parsed.into_syntax();
    let symbols = symtable::SymbolTable::build(&module.body);
    if let Some((at, message)) = symbols.first_error() {
        return Err(place.error(*at, CompileErrorKind::Syntax, message.clone()));
    }
    let future_annotations = future_features(&module.body, &place)?;
    let ctx = Ctx {
        future_annotations,
        explicit_globals: symbols.declared_globals(),
        symbols,
        file: Arc::from(file),
        source,
        index: &index,
        ns: shared.ns,
        shared,
        state_funcs: module::state_functions(&module.body),
        functions: RefCell::default(),
    };
    ctx.module(&module.body)
}

/// The features a file's `from __future__ import …` statements ask for (`future_parse`):
/// whether `annotations` is among them. They must open the file (after its docstring); an
/// unknown feature is CPython's SyntaxError.
fn future_features(
    body: &[ruff_python_ast::Stmt],
    place: &Place<'_>,
) -> Result<bool, CompileError> {
    use ruff_python_ast::{Expr, Stmt};
    const KNOWN: [&str; 9] = [
        "nested_scopes",
        "generators",
        "division",
        "absolute_import",
        "with_statement",
        "print_function",
        "unicode_literals",
        "generator_stop",
        "annotations",
    ];
    let error = |node: &dyn Ranged, message: String| {
        place.error(node.start(), CompileErrorKind::Syntax, message)
    };
    let mut annotations = false;
    let mut opening = true;
    for (k, s) in body.iter().enumerate() {
        match s {
            Stmt::ImportFrom(i)
                if i.level == 0
                    && i.module
                        .as_ref()
                        .is_some_and(|m| m.id.as_str() == "__future__") =>
            {
                if !opening {
                    return Err(error(
                        i,
                        "from __future__ imports must occur at the beginning of the file".into(),
                    ));
                }
                for a in &i.names {
                    match a.name.id.as_str() {
                        "annotations" => annotations = true,
                        "braces" => return Err(error(i, "not a chance".into())),
                        known if KNOWN.contains(&known) => {}
                        other => {
                            return Err(error(i, format!("future feature {other} is not defined")));
                        }
                    }
                }
            }
            Stmt::Expr(e) if k == 0 && matches!(&*e.value, Expr::StringLiteral(_)) => {}
            _ => opening = false,
        }
    }
    Ok(annotations)
}

/// A file's text with its line index: where an error at a byte offset is.
struct Place<'a> {
    file: &'a str,
    source: &'a str,
    index: &'a LineIndex,
}

impl Place<'_> {
    /// An error of `kind` at `offset`, with its 1-based line and column.
    fn error(&self, offset: TextSize, kind: CompileErrorKind, message: String) -> CompileError {
        let lc = self.index.line_column(offset, self.source);
        CompileError {
            file: self.file.to_owned(),
            line: lc.line.get() as u32,
            col: lc.column.get() as u32,
            kind,
            message,
        }
    }
}

/// What every code object of one file shares.
struct Ctx<'a> {
    file: Arc<str>,
    source: &'a str,
    index: &'a LineIndex,
    /// Every scope of the file, analysed.
    symbols: symtable::SymbolTable,
    /// The module namespace's slots, which every code object's globals add to.
    ns: &'a RefCell<symtable::ModuleSlots>,
    /// What the program's files share: the namespace, the loader, the siblings compiled.
    shared: &'a imports::Shared<'a>,
    /// The functions named by `__gilscope_state__`.
    state_funcs: Vec<String>,
    /// `from __future__ import annotations`: annotations are kept as their text.
    future_annotations: bool,
    /// Names some `global` statement declares: the module's own code reaches them with
    /// `LOAD_GLOBAL`/`STORE_GLOBAL`, as CPython's symbol table marks them explicitly global.
    explicit_globals: std::collections::HashSet<String>,
    /// Every function compiled so far, in definition order.
    functions: RefCell<Vec<Arc<Code>>>,
}

impl Ctx<'_> {
    fn line(&self, offset: TextSize) -> u32 {
        self.index.line_column(offset, self.source).line.get() as u32
    }

    /// The bytes `start..end` widened to the parentheses just around them (blanks between),
    /// or as they are when none are there.
    fn widened_to_parens(&self, start: TextSize, end: TextSize) -> Option<(u32, u32)> {
        let bytes = self.source.as_bytes();
        let (s, e) = (start.to_usize(), end.to_usize());
        let open = bytes[..s].iter().rposition(|b| !b.is_ascii_whitespace());
        let close = bytes[e..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|k| e + k);
        match (open, close) {
            (Some(o), Some(c)) if bytes[o] == b'(' && bytes[c] == b')' => {
                Some((o as u32, c as u32 + 1))
            }
            _ => Some((start.to_u32(), end.to_u32())),
        }
    }

    /// Where the source bytes `start..end` lie, as lines and 0-based character columns.
    fn position(&self, start: u32, end: u32) -> Position {
        let a = self.index.line_column(TextSize::new(start), self.source);
        let b = self.index.line_column(TextSize::new(end), self.source);
        Position {
            line: a.line.get() as u32,
            end_line: b.line.get() as u32,
            col: a.column.to_zero_indexed() as u32,
            end_col: b.column.to_zero_indexed() as u32,
        }
    }

    /// An error of `kind` at `node`.
    fn error_of(
        &self,
        kind: CompileErrorKind,
        node: &impl Ranged,
        message: impl Into<String>,
    ) -> CompileError {
        let place = Place {
            file: &self.file,
            source: self.source,
            index: self.index,
        };
        place.error(node.start(), kind, message.into())
    }

    /// A SyntaxError at `node`: what CPython's compiler refuses as well.
    fn error(&self, node: &impl Ranged, message: impl Into<String>) -> CompileError {
        self.error_of(CompileErrorKind::Syntax, node, message)
    }

    /// Valid Python at `node` that gilscope does not compile yet.
    fn unsupported(&self, node: &impl Ranged, what: &str) -> CompileError {
        self.error_of(
            CompileErrorKind::Unsupported,
            node,
            format!("{what} is not supported by gilscope's interpreter"),
        )
    }
}
