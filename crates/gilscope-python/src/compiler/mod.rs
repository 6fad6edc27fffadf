//! Compiles Python source to the interpreter's bytecode, instruction for instruction what
//! CPython 3.11's compiler emits for the supported subset, on Ruff's parser.
//!
//! The module's top level becomes a `<module>` code object that the VM runs to bind the
//! namespace (`STORE_NAME`, `MAKE_FUNCTION`, `IMPORT_NAME`), exactly as CPython does; an
//! `if __name__ == "__main__":` block is left out, since gilscope drives the workers itself and a
//! program's `__name__` is never `"__main__"` here. Anything outside the subset is one error
//! `FILE:LINE:COL: <construct> is not supported by gilscope's interpreter`.

mod cfg;
mod fold;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextSize};

use crate::vm::code::{BinOp, CmpOp, Code, Op};
use crate::vm::value::Value;
use cfg::{Cfg, Ins, Jump};
pub use fold::const_key;

/// A compile error with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct CompileError {
    /// The file, as given.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
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
}

impl CompiledModule {
    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&Arc<Code>> {
        self.functions.iter().find(|f| &*f.name == name)
    }
}

/// Compiles a whole file.
pub fn compile(source: &str, file: &str) -> Result<CompiledModule, CompileError> {
    let index = LineIndex::from_source_text(source);
    let at = |offset: TextSize| {
        let lc = index.line_column(offset, source);
        (lc.line.get() as u32, lc.column.get() as u32)
    };
    let parsed = ruff_python_parser::parse_module(source).map_err(|e| {
        let (line, col) = at(e.location.start());
        CompileError {
            file: file.to_owned(),
            line,
            col,
            message: e.error.to_string(),
        }
    })?;
    let module = parsed.into_syntax();
    let ctx = Ctx {
        file: Arc::from(file),
        source,
        index: &index,
    };
    ctx.module(&module.body)
}

/// What every code object of one file shares.
struct Ctx<'a> {
    file: Arc<str>,
    source: &'a str,
    index: &'a LineIndex,
}

impl Ctx<'_> {
    fn line(&self, offset: TextSize) -> u32 {
        self.index.line_column(offset, self.source).line.get() as u32
    }

    fn error(&self, node: &impl Ranged, message: impl Into<String>) -> CompileError {
        let lc = self.index.line_column(node.start(), self.source);
        CompileError {
            file: self.file.to_string(),
            line: lc.line.get() as u32,
            col: lc.column.get() as u32,
            message: message.into(),
        }
    }

    fn unsupported(&self, node: &impl Ranged, what: &str) -> CompileError {
        self.error(
            node,
            format!("{what} is not supported by gilscope's interpreter"),
        )
    }

    fn module(&self, body: &[Stmt]) -> Result<CompiledModule, CompileError> {
        let body: Vec<&Stmt> = body.iter().filter(|s| !is_main_guard(s)).collect();
        // The module namespace: every name bound at top level or declared global anywhere.
        let mut ns = ModuleSlots::default();
        let mut imported = HashSet::new();
        let mut state_funcs = Vec::new();
        let mut params = Vec::new();
        for s in &body {
            collect_module_bindings(s, &mut ns, &mut imported);
            if let Stmt::Assign(a) = s
                && let [Expr::Name(n)] = &a.targets[..]
            {
                if n.id.as_str() == "__gilscope_state__" {
                    state_funcs = string_tuple(&a.value);
                }
                if is_param_name(n.id.as_str())
                    && let Some(v) = fold::constant(&a.value)
                    && matches!(
                        v,
                        Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bool(_)
                    )
                {
                    params.push(Param {
                        name: n.id.to_string(),
                        default: v,
                        line: self.line(a.start()),
                    });
                }
            }
        }
        let mut functions = Vec::new();
        let mut cg = CodeGen::new(self, "<module>", 1, Scope::Module, &[]);
        cg.cfg.push(Ins::Op(Op::Resume), Some(0));
        cg.imported = imported;
        for s in &body {
            if let Stmt::FunctionDef(f) = s {
                let code = self.function(f, &cg.imported, &state_funcs, &mut ns)?;
                functions.push(Arc::clone(&code));
                cg.make_function(f, code)?;
            } else {
                cg.stmt(s)?;
            }
        }
        cg.line = None;
        cg.emit_const(Value::None);
        cg.emit(Op::ReturnValue);
        let code = cg.finish(&mut ns, false);
        let shared = ns.names.iter().map(|n| ns.rebound.contains(n)).collect();
        Ok(CompiledModule {
            code: Arc::new(code),
            namespace: ns.names.iter().map(|n| Arc::from(n.as_str())).collect(),
            shared,
            params,
            functions,
        })
    }

    fn function(
        &self,
        f: &ast::StmtFunctionDef,
        imported: &HashSet<String>,
        state_funcs: &[String],
        ns: &mut ModuleSlots,
    ) -> Result<Arc<Code>, CompileError> {
        if f.is_async {
            return Err(self.unsupported(f, "async def"));
        }
        if !f.decorator_list.is_empty() {
            return Err(self.unsupported(&f.decorator_list[0], "a decorator"));
        }
        if f.returns.is_some() {
            return Err(self.unsupported(f, "a return annotation"));
        }
        let p = &f.parameters;
        if !p.posonlyargs.is_empty() || !p.kwonlyargs.is_empty() {
            return Err(self.unsupported(&**p, "a positional-only or keyword-only parameter"));
        }
        if let Some(v) = p.vararg.as_ref().or(p.kwarg.as_ref()) {
            return Err(self.unsupported(&**v, "*args or **kwargs"));
        }
        let mut params = Vec::new();
        for a in &p.args {
            if a.parameter.annotation.is_some() {
                return Err(self.unsupported(&a.parameter, "a parameter annotation"));
            }
            params.push(a.parameter.name.id.to_string());
        }
        // Symbols: parameters and assigned names are local, unless declared global.
        let mut sym = Symbols::default();
        for s in &f.body {
            self.scan(s, &mut sym)?;
        }
        for g in &sym.globals {
            if sym.assigned.contains(g) {
                ns.rebound.insert(g.clone());
            }
            ns.add(g);
        }
        let locals: HashSet<String> = sym
            .assigned
            .iter()
            .filter(|n| !sym.globals.contains(*n))
            .cloned()
            .chain(params.iter().cloned())
            .collect();
        let line = self.line(f.start());
        let mut cg = CodeGen::new(
            self,
            f.name.id.as_str(),
            line,
            Scope::Function(locals),
            &params,
        );
        cg.imported = imported.clone();
        let body = &f.body[..];
        let (doc, rest) = match body.first() {
            Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::StringLiteral(_)) => {
                (fold::constant(&e.value), &body[1..])
            }
            _ => (None, body),
        };
        cg.add_const(doc.unwrap_or(Value::None));
        cg.line = Some(line);
        cg.emit(Op::Resume);
        for s in rest {
            cg.stmt(s)?;
        }
        cg.line = None;
        cg.emit_const(Value::None);
        cg.emit(Op::ReturnValue);
        let reports = state_funcs.iter().any(|n| n == f.name.id.as_str());
        Ok(Arc::new(cg.finish(ns, reports)))
    }

    /// Collects a function body's assigned names and global declarations, refusing what the
    /// interpreter cannot run.
    fn scan(&self, s: &Stmt, sym: &mut Symbols) -> Result<(), CompileError> {
        match s {
            Stmt::Global(g) => {
                for n in &g.names {
                    sym.globals.insert(n.id.to_string());
                }
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    targets(t, &mut sym.assigned);
                }
            }
            Stmt::AugAssign(a) => targets(&a.target, &mut sym.assigned),
            Stmt::For(f) => {
                targets(&f.target, &mut sym.assigned);
                for b in f.body.iter().chain(&f.orelse) {
                    self.scan(b, sym)?;
                }
            }
            Stmt::While(w) => {
                for b in w.body.iter().chain(&w.orelse) {
                    self.scan(b, sym)?;
                }
            }
            Stmt::If(i) => {
                for b in &i.body {
                    self.scan(b, sym)?;
                }
                for c in &i.elif_else_clauses {
                    for b in &c.body {
                        self.scan(b, sym)?;
                    }
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name);
                    let top = bound.id.split('.').next().unwrap_or_default();
                    sym.assigned.insert(top.to_owned());
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    sym.assigned
                        .insert(a.asname.as_ref().unwrap_or(&a.name).id.to_string());
                }
            }
            Stmt::FunctionDef(f) => return Err(self.unsupported(f, "a nested function")),
            _ => {}
        }
        Ok(())
    }
}

fn targets(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|x| targets(x, out)),
        Expr::List(l) => l.elts.iter().for_each(|x| targets(x, out)),
        _ => {}
    }
}

fn is_param_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn string_tuple(e: &Expr) -> Vec<String> {
    match fold::constant(e) {
        Some(Value::Tuple(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::Str(s)) => vec![s.to_string()],
        _ => Vec::new(),
    }
}

/// `if __name__ == "__main__":` (the block gilscope leaves out).
fn is_main_guard(s: &Stmt) -> bool {
    let Stmt::If(i) = s else { return false };
    let Expr::Compare(c) = &*i.test else {
        return false;
    };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    c.ops.len() == 1
        && c.ops[0] == ast::CmpOp::Eq
        && ((is_name(&c.left) && is_main(&c.comparators[0]))
            || (is_main(&c.left) && is_name(&c.comparators[0])))
}

fn collect_module_bindings(s: &Stmt, ns: &mut ModuleSlots, imported: &mut HashSet<String>) {
    let mut names = BTreeSet::new();
    match s {
        Stmt::Assign(a) => a.targets.iter().for_each(|t| targets(t, &mut names)),
        Stmt::AugAssign(a) => targets(&a.target, &mut names),
        Stmt::For(f) => targets(&f.target, &mut names),
        Stmt::FunctionDef(f) => {
            names.insert(f.name.id.to_string());
        }
        Stmt::Import(i) => {
            for a in &i.names {
                let bound = match &a.asname {
                    Some(x) => x.id.to_string(),
                    None => a.name.id.split('.').next().unwrap_or_default().to_owned(),
                };
                imported.insert(bound.clone());
                names.insert(bound);
            }
        }
        Stmt::ImportFrom(i) => {
            for a in &i.names {
                let bound = a.asname.as_ref().unwrap_or(&a.name).id.to_string();
                imported.insert(bound.clone());
                names.insert(bound);
            }
        }
        _ => {}
    }
    for n in names {
        ns.add(&n);
    }
}

#[derive(Default)]
struct ModuleSlots {
    names: Vec<String>,
    rebound: HashSet<String>,
}

impl ModuleSlots {
    fn add(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.names.push(name.to_owned());
                (self.names.len() - 1) as u32
            }
        }
    }
}

#[derive(Default)]
struct Symbols {
    globals: BTreeSet<String>,
    assigned: BTreeSet<String>,
}

enum Scope {
    Module,
    Function(HashSet<String>),
}

/// Loop context for `break` / `continue`.
struct LoopCtx {
    top: cfg::BlockId,
    exit: cfg::BlockId,
    is_for: bool,
}

/// Emits one code object.
struct CodeGen<'c, 'a> {
    ctx: &'c Ctx<'a>,
    name: String,
    firstlineno: u32,
    scope: Scope,
    argcount: usize,
    cfg: Cfg,
    consts: Vec<Value>,
    names: Vec<String>,
    varnames: Vec<String>,
    line: Option<u32>,
    loops: Vec<LoopCtx>,
    imported: HashSet<String>,
}

impl<'c, 'a> CodeGen<'c, 'a> {
    fn new(
        ctx: &'c Ctx<'a>,
        name: &str,
        firstlineno: u32,
        scope: Scope,
        params: &[String],
    ) -> Self {
        Self {
            ctx,
            name: name.to_owned(),
            firstlineno,
            scope,
            argcount: params.len(),
            cfg: Cfg::new(),
            consts: Vec::new(),
            names: Vec::new(),
            varnames: params.to_vec(),
            line: Some(firstlineno),
            loops: Vec::new(),
            imported: HashSet::new(),
        }
    }

    fn emit(&mut self, op: Op) {
        self.cfg.push(Ins::Op(op), self.line);
    }

    fn jump(&mut self, kind: Jump, target: cfg::BlockId) {
        self.cfg.push(Ins::Jump(kind, target), self.line);
    }

    fn jump_noline(&mut self, kind: Jump, target: cfg::BlockId) {
        self.cfg.push(Ins::Jump(kind, target), None);
    }

    fn add_const(&mut self, v: Value) -> u32 {
        let key = const_key(&v);
        match self.consts.iter().position(|c| const_key(c) == key) {
            Some(p) => p as u32,
            None => {
                self.consts.push(v);
                (self.consts.len() - 1) as u32
            }
        }
    }

    fn emit_const(&mut self, v: Value) {
        let k = self.add_const(v);
        self.emit(Op::LoadConst(k));
    }

    fn name_index(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.names.push(name.to_owned());
                (self.names.len() - 1) as u32
            }
        }
    }

    fn var_index(&mut self, name: &str) -> u32 {
        match self.varnames.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.varnames.push(name.to_owned());
                (self.varnames.len() - 1) as u32
            }
        }
    }

    fn is_local(&self, name: &str) -> bool {
        matches!(&self.scope, Scope::Function(l) if l.contains(name))
    }

    fn load_name(&mut self, name: &str, null: bool) {
        match &self.scope {
            Scope::Module => {
                if null {
                    self.emit(Op::PushNull);
                }
                let k = self.name_index(name);
                self.emit(Op::LoadName(k));
            }
            Scope::Function(_) if self.is_local(name) => {
                if null {
                    self.emit(Op::PushNull);
                }
                let k = self.var_index(name);
                self.emit(Op::LoadFast(k));
            }
            Scope::Function(_) => {
                let k = self.name_index(name);
                self.emit(Op::LoadGlobal(k << 1 | u32::from(null)));
            }
        }
    }

    fn store_name(&mut self, name: &str) {
        match &self.scope {
            Scope::Module => {
                let k = self.name_index(name);
                self.emit(Op::StoreName(k));
            }
            Scope::Function(_) if self.is_local(name) => {
                let k = self.var_index(name);
                self.emit(Op::StoreFast(k));
            }
            Scope::Function(_) => {
                let k = self.name_index(name);
                self.emit(Op::StoreGlobal(k));
            }
        }
    }

    fn set_loc(&mut self, node: &impl Ranged) {
        self.line = Some(self.ctx.line(node.start()));
    }

    fn finish(self, ns: &mut ModuleSlots, reports_state: bool) -> Code {
        let consts = &self.consts;
        let truthy = |k: u32| consts.get(k as usize).and_then(|v| v.truthy().ok());
        let is_none = |k: u32| matches!(consts.get(k as usize), Some(Value::None));
        let (ops, lines) = self.cfg.assemble(&truthy, &is_none);
        let global_slots = self.names.iter().map(|n| ns.add(n)).collect();
        Code {
            name: Arc::from(self.name.as_str()),
            filename: Arc::clone(&self.ctx.file),
            firstlineno: self.firstlineno,
            argcount: self.argcount,
            varnames: self
                .varnames
                .iter()
                .map(|s| Arc::from(s.as_str()))
                .collect(),
            names: self.names.iter().map(|s| Arc::from(s.as_str())).collect(),
            global_slots,
            consts: self.consts,
            ops,
            lines,
            reports_state,
        }
    }

    fn make_function(
        &mut self,
        f: &ast::StmtFunctionDef,
        code: Arc<Code>,
    ) -> Result<(), CompileError> {
        self.set_loc(f);
        let defaults: Vec<&Expr> = f
            .parameters
            .args
            .iter()
            .filter_map(|a| a.default.as_deref())
            .collect();
        let mut flags = 0;
        if !defaults.is_empty() {
            match fold::constant_tuple(&defaults) {
                Some(t) => self.emit_const(t),
                None => {
                    for d in &defaults {
                        self.expr(d)?;
                    }
                    self.emit(Op::BuildTuple(defaults.len() as u32));
                }
            }
            flags = 1;
        }
        self.emit_const(Value::Code(code));
        self.emit(Op::MakeFunction(flags));
        self.store_name(f.name.id.as_str());
        Ok(())
    }

    // ---- statements ----

    fn stmts(&mut self, body: &[Stmt]) -> Result<(), CompileError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
        self.set_loc(s);
        match s {
            Stmt::Expr(e) => {
                if fold::is_literal(&e.value) {
                    self.emit(Op::Nop);
                } else {
                    self.expr(&e.value)?;
                    self.emit(Op::PopTop);
                }
            }
            Stmt::Pass(_) | Stmt::Global(_) => {
                if matches!(s, Stmt::Pass(_)) {
                    self.emit(Op::Nop);
                }
            }
            Stmt::Assign(a) => {
                self.expr(&a.value)?;
                let n = a.targets.len();
                for (k, t) in a.targets.iter().enumerate() {
                    if k + 1 < n {
                        self.emit(Op::Copy(1));
                    }
                    self.store_target(t)?;
                }
            }
            Stmt::AugAssign(a) => self.aug_assign(a)?,
            Stmt::Return(r) => self.ret(r)?,
            Stmt::If(i) => self.if_stmt(&i.test, &i.body, &i.elif_else_clauses)?,
            Stmt::While(w) => self.while_stmt(w)?,
            Stmt::For(f) => self.for_stmt(f)?,
            Stmt::Break(b) => {
                let Some(l) = self.loops.last() else {
                    return Err(self.ctx.error(b, "'break' outside loop"));
                };
                let (exit, is_for) = (l.exit, l.is_for);
                if is_for {
                    self.emit(Op::PopTop);
                }
                self.jump(Jump::Always, exit);
            }
            Stmt::Continue(c) => {
                let Some(l) = self.loops.last() else {
                    return Err(self.ctx.error(c, "'continue' not properly in loop"));
                };
                let top = l.top;
                self.jump(Jump::Always, top);
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    self.emit_const(Value::Int(0));
                    self.emit_const(Value::None);
                    let k = self.name_index(a.name.id.as_str());
                    self.emit(Op::ImportName(k));
                    match &a.asname {
                        Some(alias) => {
                            if a.name.id.contains('.') {
                                // `import a.b as c` binds the submodule.
                                for part in a.name.id.split('.').skip(1) {
                                    let k = self.name_index(part);
                                    self.emit(Op::ImportFrom(k));
                                    self.emit(Op::Swap(2));
                                    self.emit(Op::PopTop);
                                }
                            }
                            self.store_name(alias.id.as_str());
                        }
                        None => {
                            let top = a.name.id.split('.').next().unwrap_or_default().to_owned();
                            self.store_name(&top);
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                if i.level != 0 {
                    return Err(self.ctx.unsupported(i, "a relative import"));
                }
                if i.names.iter().any(|a| a.name.id.as_str() == "*") {
                    return Err(self.ctx.unsupported(i, "import *"));
                }
                let module = i
                    .module
                    .as_ref()
                    .map(|m| m.id.to_string())
                    .unwrap_or_default();
                self.emit_const(Value::Int(0));
                let names: Vec<Value> = i
                    .names
                    .iter()
                    .map(|a| Value::str(a.name.id.as_str()))
                    .collect();
                self.emit_const(Value::Tuple(names.into()));
                let k = self.name_index(&module);
                self.emit(Op::ImportName(k));
                for a in &i.names {
                    let k = self.name_index(a.name.id.as_str());
                    self.emit(Op::ImportFrom(k));
                    self.store_name(a.asname.as_ref().unwrap_or(&a.name).id.as_str());
                }
                self.emit(Op::PopTop);
            }
            Stmt::FunctionDef(f) => return Err(self.ctx.unsupported(f, "a nested function")),
            Stmt::ClassDef(c) => return Err(self.ctx.unsupported(c, "a class")),
            Stmt::With(w) => return Err(self.ctx.unsupported(w, "a with statement")),
            Stmt::Try(t) => return Err(self.ctx.unsupported(t, "a try statement")),
            Stmt::Raise(r) => return Err(self.ctx.unsupported(r, "a raise statement")),
            Stmt::Assert(a) => return Err(self.ctx.unsupported(a, "an assert statement")),
            Stmt::Delete(d) => return Err(self.ctx.unsupported(d, "a del statement")),
            Stmt::Match(m) => return Err(self.ctx.unsupported(m, "a match statement")),
            Stmt::Nonlocal(n) => return Err(self.ctx.unsupported(n, "nonlocal")),
            Stmt::AnnAssign(a) => return Err(self.ctx.unsupported(a, "an annotated assignment")),
            Stmt::TypeAlias(t) => return Err(self.ctx.unsupported(t, "a type alias")),
            Stmt::IpyEscapeCommand(i) => return Err(self.ctx.unsupported(i, "an IPython escape")),
        }
        Ok(())
    }

    fn store_target(&mut self, t: &Expr) -> Result<(), CompileError> {
        match t {
            Expr::Name(n) => {
                self.set_loc(t);
                self.store_name(n.id.as_str());
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                if elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
                    return Err(self.ctx.unsupported(t, "starred assignment"));
                }
                let saved = self.line;
                self.set_loc(t);
                self.emit(Op::UnpackSequence(elts.len() as u32));
                for e in elts {
                    self.store_target(e)?;
                }
                self.line = saved;
            }
            Expr::Subscript(s) => {
                let saved = self.line;
                self.set_loc(t);
                self.expr(&s.value)?;
                self.subscript_key(&s.slice)?;
                self.set_loc(t);
                self.emit(Op::StoreSubscr);
                self.line = saved;
            }
            Expr::Attribute(a) => return Err(self.ctx.unsupported(a, "assigning an attribute")),
            other => return Err(self.ctx.error(other, "cannot assign to this expression")),
        }
        Ok(())
    }

    fn aug_assign(&mut self, a: &ast::StmtAugAssign) -> Result<(), CompileError> {
        let op = binop(a.op).inplace();
        match &*a.target {
            Expr::Name(n) => {
                self.set_loc(&*a.target);
                self.load_name(n.id.as_str(), false);
                self.set_loc(a);
                self.expr(&a.value)?;
                self.set_loc(a);
                self.emit(Op::BinaryOp(op));
                self.set_loc(&*a.target);
                self.store_name(n.id.as_str());
            }
            Expr::Subscript(s) => {
                self.set_loc(&*a.target);
                self.expr(&s.value)?;
                self.subscript_key(&s.slice)?;
                self.emit(Op::Copy(2));
                self.emit(Op::Copy(2));
                self.emit(Op::BinarySubscr);
                self.set_loc(a);
                self.expr(&a.value)?;
                self.set_loc(a);
                self.emit(Op::BinaryOp(op));
                self.set_loc(&*a.target);
                self.emit(Op::Swap(3));
                self.emit(Op::Swap(2));
                self.emit(Op::StoreSubscr);
            }
            other => {
                return Err(self
                    .ctx
                    .unsupported(other, "this augmented assignment target"));
            }
        }
        Ok(())
    }

    fn ret(&mut self, r: &ast::StmtReturn) -> Result<(), CompileError> {
        if matches!(self.scope, Scope::Module) {
            return Err(self.ctx.error(r, "'return' outside function"));
        }
        let folded = r.value.as_deref().and_then(fold::constant);
        let preserve_tos = r.value.is_some() && folded.is_none();
        if preserve_tos {
            if let Some(v) = &r.value {
                self.expr(v)?;
            }
        } else if let Some(v) = &r.value {
            self.set_loc(&**v);
            self.emit(Op::Nop);
        }
        let value_line = r.value.as_ref().map(|v| self.ctx.line(v.start()));
        let stmt_line = self.ctx.line(r.start());
        if value_line != Some(stmt_line) {
            self.set_loc(r);
            self.emit(Op::Nop);
        }
        let for_loops = self.loops.iter().filter(|l| l.is_for).count();
        for _ in 0..for_loops {
            if preserve_tos {
                self.emit(Op::Swap(2));
            }
            self.emit(Op::PopTop);
        }
        match folded {
            Some(v) if !preserve_tos => self.emit_const(v),
            _ if r.value.is_none() => self.emit_const(Value::None),
            _ => {}
        }
        self.emit(Op::ReturnValue);
        Ok(())
    }

    fn if_stmt(
        &mut self,
        test: &Expr,
        body: &[Stmt],
        clauses: &[ast::ElifElseClause],
    ) -> Result<(), CompileError> {
        let end = self.cfg.new_block();
        let next = if clauses.is_empty() {
            end
        } else {
            self.cfg.new_block()
        };
        self.jump_if(test, next, false)?;
        self.stmts(body)?;
        if let Some((first, rest)) = clauses.split_first() {
            self.jump_noline(Jump::Always, end);
            self.cfg.use_block(next);
            match &first.test {
                Some(t) => {
                    self.set_loc(first);
                    self.if_stmt(t, &first.body, rest)?;
                }
                None => self.stmts(&first.body)?,
            }
        }
        self.cfg.use_block(end);
        Ok(())
    }

    fn while_stmt(&mut self, w: &ast::StmtWhile) -> Result<(), CompileError> {
        let (top, body, anchor) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.cfg.use_block(top);
        self.loops.push(LoopCtx {
            top,
            exit: anchor,
            is_for: false,
        });
        self.jump_if(&w.test, anchor, false)?;
        self.cfg.use_block(body);
        self.stmts(&w.body)?;
        self.set_loc(w);
        self.jump_if(&w.test, body, true)?;
        self.loops.pop();
        self.cfg.use_block(anchor);
        self.stmts(&w.orelse)?;
        Ok(())
    }

    fn for_stmt(&mut self, f: &ast::StmtFor) -> Result<(), CompileError> {
        if f.is_async {
            return Err(self.ctx.unsupported(f, "async for"));
        }
        let (start, body, cleanup, end) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.loops.push(LoopCtx {
            top: start,
            exit: end,
            is_for: true,
        });
        self.expr_iter(&f.iter)?;
        self.set_loc(f);
        self.emit(Op::GetIter);
        self.cfg.use_block(start);
        self.jump(Jump::ForIter, cleanup);
        self.cfg.use_block(body);
        self.store_target(&f.target)?;
        self.stmts(&f.body)?;
        self.jump_noline(Jump::Always, start);
        self.cfg.use_block(cleanup);
        self.loops.pop();
        self.stmts(&f.orelse)?;
        self.cfg.use_block(end);
        Ok(())
    }

    /// The iterable of a `for`: a list display there is folded to a tuple, as CPython does.
    fn expr_iter(&mut self, e: &Expr) -> Result<(), CompileError> {
        if let Expr::List(l) = e
            && let Some(t) = fold::constant_tuple(&l.elts.iter().collect::<Vec<_>>())
        {
            self.set_loc(e);
            self.emit_const(t);
            return Ok(());
        }
        self.expr(e)
    }

    // ---- conditions ----

    /// `compiler_jump_if`: jump to `next` when `e` is `cond`, without building a bool.
    fn jump_if(&mut self, e: &Expr, next: cfg::BlockId, cond: bool) -> Result<(), CompileError> {
        match e {
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not && fold::constant(e).is_none() => {
                return self.jump_if(&u.operand, next, !cond);
            }
            Expr::BoolOp(b) => {
                let cond2 = b.op == ast::BoolOp::Or;
                let next2 = if cond2 != cond {
                    self.cfg.new_block()
                } else {
                    next
                };
                let n = b.values.len() - 1;
                for v in &b.values[..n] {
                    self.jump_if(v, next2, cond2)?;
                }
                self.jump_if(&b.values[n], next, cond)?;
                if next2 != next {
                    self.cfg.use_block(next2);
                }
                return Ok(());
            }
            Expr::If(i) => {
                let (end, next2) = (self.cfg.new_block(), self.cfg.new_block());
                self.jump_if(&i.test, next2, false)?;
                self.jump_if(&i.body, next, cond)?;
                self.jump_noline(Jump::Always, end);
                self.cfg.use_block(next2);
                self.jump_if(&i.orelse, next, cond)?;
                self.cfg.use_block(end);
                return Ok(());
            }
            Expr::Compare(c) if c.ops.len() > 1 => {
                let saved = self.line;
                self.set_loc(e);
                let cleanup = self.cfg.new_block();
                self.expr(&c.left)?;
                let n = c.ops.len() - 1;
                for k in 0..n {
                    self.expr(&c.comparators[k])?;
                    self.set_loc(e);
                    self.emit(Op::Swap(2));
                    self.emit(Op::Copy(2));
                    self.compare_op(c.ops[k]);
                    self.jump(Jump::IfFalse, cleanup);
                }
                self.expr(&c.comparators[n])?;
                self.set_loc(e);
                self.compare_op(c.ops[n]);
                self.jump(if cond { Jump::IfTrue } else { Jump::IfFalse }, next);
                let end = self.cfg.new_block();
                self.jump_noline(Jump::Always, end);
                self.cfg.use_block(cleanup);
                self.emit(Op::PopTop);
                if !cond {
                    self.jump_noline(Jump::Always, next);
                }
                self.cfg.use_block(end);
                self.line = saved;
                return Ok(());
            }
            _ => {}
        }
        self.expr(e)?;
        let saved = self.line;
        self.set_loc(e);
        self.jump(if cond { Jump::IfTrue } else { Jump::IfFalse }, next);
        self.line = saved;
        Ok(())
    }

    fn compare_op(&mut self, op: ast::CmpOp) {
        use ast::CmpOp as C;
        self.emit(match op {
            C::Eq => Op::CompareOp(CmpOp::Eq),
            C::NotEq => Op::CompareOp(CmpOp::Ne),
            C::Lt => Op::CompareOp(CmpOp::Lt),
            C::LtE => Op::CompareOp(CmpOp::Le),
            C::Gt => Op::CompareOp(CmpOp::Gt),
            C::GtE => Op::CompareOp(CmpOp::Ge),
            C::Is => Op::IsOp(0),
            C::IsNot => Op::IsOp(1),
            C::In => Op::ContainsOp(0),
            C::NotIn => Op::ContainsOp(1),
        });
    }

    // ---- expressions ----

    fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        let saved = self.line;
        self.set_loc(e);
        let r = self.expr_inner(e);
        self.line = saved;
        r
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<(), CompileError> {
        if let Some(v) = fold::constant(e) {
            self.emit_const(v);
            return Ok(());
        }
        match e {
            Expr::Name(n) => self.load_name(n.id.as_str(), false),
            Expr::BinOp(b) => {
                self.expr(&b.left)?;
                self.expr(&b.right)?;
                self.emit(Op::BinaryOp(binop(b.op)));
            }
            Expr::UnaryOp(u) => {
                self.expr(&u.operand)?;
                self.emit(match u.op {
                    ast::UnaryOp::Not => Op::UnaryNot,
                    ast::UnaryOp::USub => Op::UnaryNegative,
                    ast::UnaryOp::UAdd => Op::UnaryPositive,
                    ast::UnaryOp::Invert => Op::UnaryInvert,
                });
            }
            Expr::Compare(c) => {
                self.expr(&c.left)?;
                if c.ops.len() == 1 {
                    self.expr(&c.comparators[0])?;
                    self.compare_op(c.ops[0]);
                } else {
                    let cleanup = self.cfg.new_block();
                    let n = c.ops.len() - 1;
                    for k in 0..n {
                        self.expr(&c.comparators[k])?;
                        self.emit(Op::Swap(2));
                        self.emit(Op::Copy(2));
                        self.compare_op(c.ops[k]);
                        self.jump(Jump::IfFalseOrPop, cleanup);
                    }
                    self.expr(&c.comparators[n])?;
                    self.compare_op(c.ops[n]);
                    let end = self.cfg.new_block();
                    self.jump_noline(Jump::Always, end);
                    self.cfg.use_block(cleanup);
                    self.emit(Op::Swap(2));
                    self.emit(Op::PopTop);
                    self.cfg.use_block(end);
                }
            }
            Expr::BoolOp(b) => {
                let kind = if b.op == ast::BoolOp::And {
                    Jump::IfFalseOrPop
                } else {
                    Jump::IfTrueOrPop
                };
                let end = self.cfg.new_block();
                let n = b.values.len() - 1;
                for v in &b.values[..n] {
                    self.expr(v)?;
                    self.jump(kind, end);
                }
                self.expr(&b.values[n])?;
                self.cfg.use_block(end);
            }
            Expr::If(i) => {
                let (end, next) = (self.cfg.new_block(), self.cfg.new_block());
                self.jump_if(&i.test, next, false)?;
                self.expr(&i.body)?;
                self.jump_noline(Jump::Always, end);
                self.cfg.use_block(next);
                self.expr(&i.orelse)?;
                self.cfg.use_block(end);
            }
            Expr::Call(c) => self.call(c)?,
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let k = self.name_index(a.attr.id.as_str());
                self.emit(Op::LoadAttr(k));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.subscript_key(&s.slice)?;
                self.set_loc(e);
                self.emit(Op::BinarySubscr);
            }
            Expr::Tuple(t) => self.sequence(&t.elts, false)?,
            Expr::List(l) => self.sequence(&l.elts, true)?,
            Expr::Dict(d) => {
                let mut keys = Vec::new();
                for item in &d.items {
                    match &item.key {
                        Some(k) => keys.push(k),
                        None => {
                            return Err(self.ctx.unsupported(&item.value, "** in a dict display"));
                        }
                    }
                }
                let n = keys.len() as u32;
                let const_keys = if n > 1 {
                    fold::constant_tuple(&keys)
                } else {
                    None
                };
                match const_keys {
                    Some(kt) => {
                        for item in &d.items {
                            self.expr(&item.value)?;
                        }
                        self.emit_const(kt);
                        self.emit(Op::BuildConstKeyMap(n));
                    }
                    None => {
                        for item in &d.items {
                            if let Some(k) = &item.key {
                                self.expr(k)?;
                            }
                            self.expr(&item.value)?;
                        }
                        self.emit(Op::BuildMap(n));
                    }
                }
            }
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper] {
                    match part {
                        Some(p) => self.expr(p)?,
                        None => self.emit_const(Value::None),
                    }
                }
                match &s.step {
                    Some(st) => {
                        self.expr(st)?;
                        self.emit(Op::BuildSlice(3));
                    }
                    None => self.emit(Op::BuildSlice(2)),
                }
            }
            Expr::Lambda(l) => return Err(self.ctx.unsupported(l, "a lambda")),
            Expr::ListComp(x) => return Err(self.ctx.unsupported(x, "a list comprehension")),
            Expr::SetComp(x) => return Err(self.ctx.unsupported(x, "a set comprehension")),
            Expr::DictComp(x) => return Err(self.ctx.unsupported(x, "a dict comprehension")),
            Expr::Generator(x) => return Err(self.ctx.unsupported(x, "a generator expression")),
            Expr::Await(x) => return Err(self.ctx.unsupported(x, "await")),
            Expr::Yield(x) => return Err(self.ctx.unsupported(x, "yield")),
            Expr::YieldFrom(x) => return Err(self.ctx.unsupported(x, "yield from")),
            Expr::Named(x) => return Err(self.ctx.unsupported(x, "an assignment expression (:=)")),
            Expr::Set(x) => return Err(self.ctx.unsupported(x, "a set display")),
            Expr::FString(x) => return Err(self.ctx.unsupported(x, "an f-string")),
            Expr::TString(x) => return Err(self.ctx.unsupported(x, "a t-string")),
            Expr::Starred(x) => return Err(self.ctx.unsupported(x, "a starred expression")),
            Expr::BytesLiteral(x) => return Err(self.ctx.unsupported(x, "a bytes literal")),
            Expr::EllipsisLiteral(x) => return Err(self.ctx.unsupported(x, "Ellipsis")),
            Expr::NumberLiteral(x) => return Err(self.ctx.unsupported(x, "this number literal")),
            other => return Err(self.ctx.unsupported(other, "this expression")),
        }
        Ok(())
    }

    fn subscript_key(&mut self, key: &Expr) -> Result<(), CompileError> {
        self.expr(key)
    }

    fn sequence(&mut self, elts: &[Expr], list: bool) -> Result<(), CompileError> {
        if elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            return Err(self
                .ctx
                .unsupported(&elts[0], "unpacking with * in a display"));
        }
        let refs: Vec<&Expr> = elts.iter().collect();
        if list
            && elts.len() > 2
            && let Some(t) = fold::constant_tuple(&refs)
        {
            self.emit(Op::BuildList(0));
            self.emit_const(t);
            self.emit(Op::ListExtend(1));
            return Ok(());
        }
        for e in elts {
            self.expr(e)?;
        }
        let n = elts.len() as u32;
        self.emit(if list {
            Op::BuildList(n)
        } else {
            Op::BuildTuple(n)
        });
        Ok(())
    }

    fn call(&mut self, c: &ast::ExprCall) -> Result<(), CompileError> {
        if let Some(k) = c.arguments.keywords.first() {
            return Err(self.ctx.unsupported(k, "a keyword argument"));
        }
        if let Some(s) = c
            .arguments
            .args
            .iter()
            .find(|a| matches!(a, Expr::Starred(_)))
        {
            return Err(self.ctx.unsupported(s, "*args in a call"));
        }
        let n = c.arguments.args.len() as u32;
        match &*c.func {
            Expr::Attribute(a) if !self.is_import_originated(&a.value) => {
                self.expr(&a.value)?;
                self.line = Some(self.ctx.line(a.attr.start()));
                let k = self.name_index(a.attr.id.as_str());
                self.emit(Op::LoadMethod(k));
                for arg in &c.arguments.args {
                    self.expr(arg)?;
                }
                self.set_loc(&*c.func);
                self.line = Some(self.ctx.line(c.start()));
            }
            Expr::Name(name) => {
                self.set_loc(&*c.func);
                self.load_name(name.id.as_str(), true);
                self.line = Some(self.ctx.line(c.start()));
                for arg in &c.arguments.args {
                    self.expr(arg)?;
                }
            }
            other => {
                self.set_loc(other);
                self.emit(Op::PushNull);
                self.line = Some(self.ctx.line(c.start()));
                self.expr(other)?;
                for arg in &c.arguments.args {
                    self.expr(arg)?;
                }
            }
        }
        self.line = Some(self.ctx.line(c.start()));
        self.emit(Op::Precall(n));
        self.emit(Op::Call(n));
        Ok(())
    }

    /// Whether `e` is a name bound by a module-level import (CPython then uses `LOAD_ATTR`, not
    /// `LOAD_METHOD`, for `e.f(...)`).
    fn is_import_originated(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.imported.contains(n.id.as_str()) && !self.is_local(n.id.as_str()))
    }
}

fn binop(op: ast::Operator) -> BinOp {
    use ast::Operator as O;
    match op {
        O::Add => BinOp::ADD,
        O::Sub => BinOp::SUB,
        O::Mult => BinOp::MUL,
        O::MatMult => BinOp::MATMUL,
        O::Div => BinOp::TRUE_DIV,
        O::Mod => BinOp::MOD,
        O::Pow => BinOp::POW,
        O::LShift => BinOp::LSHIFT,
        O::RShift => BinOp::RSHIFT,
        O::BitOr => BinOp::OR,
        O::BitXor => BinOp::XOR,
        O::BitAnd => BinOp::AND,
        O::FloorDiv => BinOp::FLOOR_DIV,
    }
}
