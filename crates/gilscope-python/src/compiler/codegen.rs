//! The code generator's core: one `CodeGen` per code object, with its constants, names and
//! locals, the control-flow graph it emits into, and the function definitions it compiles.

use std::collections::HashSet;
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::cfg::{self, Cfg, Ins, Jump};
use super::symtable::{ScopeInfo, ScopeKind, Sym};
use super::{CompileError, Ctx, const_key, fold};
use crate::vm::code::{Code, Op};
use crate::vm::value::Value;

/// How a code object's names resolve: the module's through its namespace, a function's (or
/// lambda's, or comprehension's) by its analysed scope.
#[derive(Clone, Copy)]
pub(super) enum Scope<'c> {
    Module,
    /// A class body: its names go through the class namespace (`LOAD_NAME`).
    Class(&'c ScopeInfo),
    Function(&'c ScopeInfo),
}

/// What a nested code object takes from the code that defines it.
pub(super) struct Parent<'p> {
    /// Names the module imported (calls to them are not the program's own functions).
    pub(super) imported: &'p HashSet<String>,
    /// The new code object's `__qualname__`.
    pub(super) qualname: String,
}

/// A function's parameter names in `co_varnames` order: positional-only, positional,
/// keyword-only, then `*args` and `**kwargs` (`symtable_visit_arguments`).
fn param_names(p: &ast::Parameters) -> Vec<String> {
    let mut params: Vec<String> = p
        .posonlyargs
        .iter()
        .chain(&p.args)
        .chain(&p.kwonlyargs)
        .map(|a| a.parameter.name.id.to_string())
        .collect();
    params.extend(p.vararg.iter().map(|v| v.name.id.to_string()));
    params.extend(p.kwarg.iter().map(|v| v.name.id.to_string()));
    params
}

impl<'a> Ctx<'a> {
    /// The analysed scope of the node starting at `node`.
    pub(super) fn scope_of(&self, node: &impl Ranged) -> Result<&ScopeInfo, CompileError> {
        self.symbols.scope(node.start()).ok_or_else(|| {
            self.error_of(
                super::CompileErrorKind::Internal,
                node,
                "a scope the symbol table missed",
            )
        })
    }

    /// A code generator for a function-like scope with parameters `p` (and their counts).
    pub(super) fn scoped<'c>(
        &'c self,
        node: &impl Ranged,
        name: &str,
        firstlineno: u32,
        p: Option<&ast::Parameters>,
        parent: &Parent<'_>,
    ) -> Result<CodeGen<'c, 'a>, CompileError> {
        let info = self.scope_of(node)?;
        let params = p.map(param_names).unwrap_or_default();
        for (k, pname) in params.iter().enumerate() {
            if params[..k].contains(pname) {
                return Err(self.error(
                    node,
                    format!("duplicate argument '{pname}' in function definition"),
                ));
            }
        }
        {
            let mut ns = self.ns.borrow_mut();
            for g in info.rebound_globals() {
                ns.mark_rebound(g);
            }
            for g in info.declared_globals() {
                ns.add(g);
            }
        }
        let scope = if info.kind == Some(ScopeKind::Class) {
            Scope::Class(info)
        } else {
            Scope::Function(info)
        };
        let mut cg = CodeGen::new(self, name, firstlineno, scope, &params);
        cg.imported = parent.imported.clone();
        cg.qualname = parent.qualname.clone();
        if let Some(p) = p {
            cg.argcount = p.posonlyargs.len() + p.args.len();
            cg.posonlyargcount = p.posonlyargs.len();
            cg.kwonlyargcount = p.kwonlyargs.len();
            cg.varargs = p.vararg.is_some();
            cg.varkeywords = p.kwarg.is_some();
        }
        Ok(cg)
    }

    pub(super) fn function(
        &self,
        f: &ast::StmtFunctionDef,
        parent: &Parent<'_>,
    ) -> Result<Arc<Code>, CompileError> {
        // `compiler_function`: a decorated function's code starts at its first decorator.
        let line = self.line(f.start());
        let mut cg = self.scoped(f, f.name.id.as_str(), line, Some(&f.parameters), parent)?;
        let body = &f.body[..];
        let (doc, rest) = match body.first() {
            Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::StringLiteral(_)) => {
                (fold::constant(&e.value), &body[1..])
            }
            _ => (None, body),
        };
        cg.add_const(doc.unwrap_or(Value::None));
        cg.set_line(Some(line));
        cg.emit(Op::Resume);
        for s in rest {
            cg.stmt(s)?;
        }
        cg.set_line(None);
        cg.emit_const(Value::None);
        cg.emit(Op::ReturnValue);
        let reports = self.state_funcs.iter().any(|n| n == f.name.id.as_str());
        let code = Arc::new(cg.finish(reports));
        self.functions.borrow_mut().push(Arc::clone(&code));
        Ok(code)
    }

    /// `compiler_lambda`: the body's value returned; `None` first among the constants, so
    /// that a lambda has no docstring.
    pub(super) fn lambda(
        &self,
        l: &ast::ExprLambda,
        parent: &Parent<'_>,
    ) -> Result<Arc<Code>, CompileError> {
        let line = self.line(l.start());
        let mut cg = self.scoped(l, "<lambda>", line, l.parameters.as_deref(), parent)?;
        cg.add_const(Value::None);
        cg.set_line(Some(line));
        cg.emit(Op::Resume);
        cg.expr(&l.body)?;
        cg.set_loc(&*l.body);
        cg.emit(Op::ReturnValue);
        Ok(Arc::new(cg.finish(false)))
    }

    /// `compiler_comprehension`'s inner code object: `.0` (the outermost iterator) as its
    /// argument, the loops, and the built container returned.
    pub(super) fn comprehension(
        &self,
        e: &Expr,
        kind: Comp,
        gens: &[ast::Comprehension],
        elt: &Expr,
        val: Option<&Expr>,
        parent: &Parent<'_>,
    ) -> Result<Arc<Code>, CompileError> {
        let line = self.line(e.start());
        let name = match kind {
            Comp::List => "<listcomp>",
            Comp::Set => "<setcomp>",
            Comp::Dict => "<dictcomp>",
            Comp::Generator => "<genexpr>",
        };
        let mut cg = self.scoped(e, name, line, None, parent)?;
        cg.varnames = vec![".0".to_owned()];
        cg.argcount = 1;
        cg.set_line(Some(line));
        cg.emit(Op::Resume);
        match kind {
            Comp::List => cg.emit(Op::BuildList(0)),
            Comp::Set => cg.emit(Op::BuildSet(0)),
            Comp::Dict => cg.emit(Op::BuildMap(0)),
            Comp::Generator => {}
        }
        cg.comprehension_generator(gens, 0, 0, elt, val, kind)?;
        if kind == Comp::Generator {
            cg.set_line(None);
            cg.emit_const(Value::None);
        }
        cg.emit(Op::ReturnValue);
        Ok(Arc::new(cg.finish(false)))
    }
}

/// What a comprehension builds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Comp {
    List,
    Set,
    Dict,
    Generator,
}

/// A frame block (`fblockinfo`): what `return`, `break` and `continue` must undo on their way
/// out of a loop, a `try`, a handler or a `with`.
#[derive(Clone)]
pub(super) enum FBlock {
    /// A `while` loop (`continue` goes to `top`, `break` to `exit`).
    WhileLoop {
        top: cfg::BlockId,
        exit: cfg::BlockId,
    },
    /// A `for` loop; its iterator is on the stack.
    ForLoop {
        top: cfg::BlockId,
        exit: cfg::BlockId,
    },
    /// A `try` body with handlers.
    TryExcept,
    /// A `try` body with a `finally`, whose statements run again on the way out.
    FinallyTry(Vec<Stmt>),
    /// A `finally` body run for an exception.
    FinallyEnd,
    /// A `with` body; `__exit__` is on the stack. The line is the `with` statement's.
    With(Option<u32>),
    /// An `async with` body; `__aexit__` is on the stack.
    AsyncWith(Option<u32>),
    /// An `except` body, with the name it binds.
    HandlerCleanup(Option<String>),
    /// A value kept on the stack under a `finally` body run by a `return`.
    PopValue,
    /// The handlers of a `try`.
    ExceptionHandler,
}

/// Emits one code object.
pub(super) struct CodeGen<'c, 'a> {
    pub(super) ctx: &'c Ctx<'a>,
    pub(super) name: String,
    pub(super) firstlineno: u32,
    pub(super) scope: Scope<'c>,
    /// The scope's cells then its free variables, sorted each: `LOAD_DEREF`'s raw numbering
    /// until `finish` maps it into the frame's locals (`fix_cell_offsets`).
    pub(super) derefs: Vec<String>,
    pub(super) argcount: usize,
    pub(super) posonlyargcount: usize,
    pub(super) kwonlyargcount: usize,
    pub(super) varargs: bool,
    pub(super) varkeywords: bool,
    pub(super) cfg: Cfg,
    pub(super) consts: Vec<Value>,
    pub(super) names: Vec<String>,
    pub(super) varnames: Vec<String>,
    pub(super) line: Option<u32>,
    /// The source bytes of the node compiling now (`u_col_offset`…), while `line` is its line.
    pub(super) span: Option<(u32, u32)>,
    pub(super) fblocks: Vec<FBlock>,
    pub(super) imported: HashSet<String>,
    /// `co_qualname`: `C.method`, `f.<locals>.g`.
    pub(super) qualname: String,
}

impl<'c, 'a> CodeGen<'c, 'a> {
    pub(super) fn new(
        ctx: &'c Ctx<'a>,
        name: &str,
        firstlineno: u32,
        scope: Scope<'c>,
        params: &[String],
    ) -> Self {
        let derefs = match scope {
            Scope::Module => Vec::new(),
            Scope::Class(info) | Scope::Function(info) => {
                let mut d = info.cellvars();
                d.extend(info.freevars());
                d
            }
        };
        Self {
            ctx,
            name: name.to_owned(),
            firstlineno,
            scope,
            derefs,
            argcount: params.len(),
            posonlyargcount: 0,
            kwonlyargcount: 0,
            varargs: false,
            varkeywords: false,
            cfg: Cfg::new(),
            consts: Vec::new(),
            names: Vec::new(),
            varnames: params.to_vec(),
            line: Some(firstlineno),
            span: None,
            fblocks: Vec::new(),
            imported: HashSet::new(),
            qualname: name.to_owned(),
        }
    }

    pub(super) fn emit(&mut self, op: Op) {
        self.cfg.push_spanned(Ins::Op(op), self.line, self.span);
    }

    pub(super) fn jump(&mut self, kind: Jump, target: cfg::BlockId) {
        self.cfg.push(Ins::Jump(kind, target), self.line);
    }

    pub(super) fn jump_noline(&mut self, kind: Jump, target: cfg::BlockId) {
        self.cfg.push(Ins::Jump(kind, target), None);
    }

    pub(super) fn add_const(&mut self, v: Value) -> u32 {
        let key = const_key(&v);
        match self.consts.iter().position(|c| const_key(c) == key) {
            Some(p) => p as u32,
            None => {
                self.consts.push(v);
                (self.consts.len() - 1) as u32
            }
        }
    }

    pub(super) fn emit_const(&mut self, v: Value) {
        let k = self.add_const(v);
        self.emit(Op::LoadConst(k));
    }

    pub(super) fn name_index(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.names.push(name.to_owned());
                (self.names.len() - 1) as u32
            }
        }
    }

    pub(super) fn var_index(&mut self, name: &str) -> u32 {
        match self.varnames.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.varnames.push(name.to_owned());
                (self.varnames.len() - 1) as u32
            }
        }
    }

    /// How this code object reaches `name`; `None` at module level (names go through the
    /// namespace, `LOAD_NAME`).
    pub(super) fn sym(&self, name: &str) -> Option<Sym> {
        match self.scope {
            Scope::Module if self.ctx.explicit_globals.contains(name) => Some(Sym::GlobalExplicit),
            Scope::Module => None,
            Scope::Class(info) => match info.sym(name) {
                Sym::Local | Sym::GlobalImplicit => None,
                other => Some(other),
            },
            Scope::Function(info) => Some(info.sym(name)),
        }
    }

    /// The `__qualname__` of a code object named `name` defined here (`compiler_set_qualname`).
    pub(super) fn child_qualname(&self, name: &str) -> String {
        match self.scope {
            Scope::Module => name.to_owned(),
            Scope::Class(_) => format!("{}.{name}", self.qualname),
            Scope::Function(_) => format!("{}.<locals>.{name}", self.qualname),
        }
    }

    /// How a code object defined here is made: what it inherits, under its qualified name.
    pub(super) fn parent(&self, name: &str) -> Parent<'_> {
        Parent {
            imported: &self.imported,
            qualname: self.child_qualname(name),
        }
    }

    pub(super) fn is_local(&self, name: &str) -> bool {
        matches!(self.sym(name), Some(Sym::Local | Sym::Cell | Sym::Free))
    }

    /// The raw `LOAD_DEREF` number of a cell or free variable.
    pub(super) fn deref_index(&self, name: &str) -> u32 {
        self.derefs
            .iter()
            .position(|n| n == name)
            .unwrap_or_default() as u32
    }

    pub(super) fn load_name(&mut self, name: &str, null: bool) {
        match self.sym(name) {
            None => {
                if null {
                    self.emit(Op::PushNull);
                }
                let k = self.name_index(name);
                self.emit(Op::LoadName(k));
            }
            Some(Sym::Local) => {
                if null {
                    self.emit(Op::PushNull);
                }
                let k = self.var_index(name);
                self.emit(Op::LoadFast(k));
            }
            Some(Sym::Cell | Sym::Free) => {
                if null {
                    self.emit(Op::PushNull);
                }
                let k = self.deref_index(name);
                if matches!(self.scope, Scope::Class(_)) {
                    self.emit(Op::LoadClassDeref(k));
                } else {
                    self.emit(Op::LoadDeref(k));
                }
            }
            Some(Sym::GlobalExplicit | Sym::GlobalImplicit) => {
                let k = self.name_index(name);
                self.emit(Op::LoadGlobal(k << 1 | u32::from(null)));
            }
        }
    }

    pub(super) fn store_name(&mut self, name: &str) {
        match self.sym(name) {
            None => {
                let k = self.name_index(name);
                self.emit(Op::StoreName(k));
            }
            Some(Sym::Local) => {
                let k = self.var_index(name);
                self.emit(Op::StoreFast(k));
            }
            Some(Sym::Cell | Sym::Free) => {
                let k = self.deref_index(name);
                self.emit(Op::StoreDeref(k));
            }
            Some(Sym::GlobalExplicit | Sym::GlobalImplicit) => {
                let k = self.name_index(name);
                self.emit(Op::StoreGlobal(k));
            }
        }
    }

    /// `compiler_nameop(…, Del)`.
    pub(super) fn delete_name(&mut self, name: &str) {
        match self.sym(name) {
            None => {
                let k = self.name_index(name);
                self.emit(Op::DeleteName(k));
            }
            Some(Sym::Local) => {
                let k = self.var_index(name);
                self.emit(Op::DeleteFast(k));
            }
            Some(Sym::Cell | Sym::Free) => {
                let k = self.deref_index(name);
                self.emit(Op::DeleteDeref(k));
            }
            Some(Sym::GlobalExplicit | Sym::GlobalImplicit) => {
                let k = self.name_index(name);
                self.emit(Op::DeleteGlobal(k));
            }
        }
    }

    /// Appends a pseudo-instruction (a block push or `POP_BLOCK`) at the current line.
    pub(super) fn emit_ins(&mut self, ins: Ins) {
        self.cfg.push(ins, self.line);
    }

    /// An annotation's value: the expression, or under `from __future__ import annotations`
    /// its text.
    pub(super) fn annotation(&mut self, ann: &Expr) -> Result<(), CompileError> {
        if self.ctx.future_annotations {
            let text = super::unparse::annotation(ann, self.ctx.source);
            self.emit_const(Value::str(&text));
            Ok(())
        } else {
            self.expr(ann)
        }
    }

    /// Makes `node` the location of what is emitted next (`SET_LOC`).
    pub(super) fn set_loc(&mut self, node: &impl Ranged) {
        self.line = Some(self.ctx.line(node.start()));
        self.span = Some((node.start().to_u32(), node.end().to_u32()));
    }

    /// Makes the source bytes `start..end` the location of what is emitted next.
    pub(super) fn set_loc_range(&mut self, start: TextSize, end: TextSize) {
        self.line = Some(self.ctx.line(start));
        self.span = Some((start.to_u32(), end.to_u32()));
    }

    /// Sets only the line of what is emitted next: its columns are unknown.
    pub(super) fn set_line(&mut self, line: Option<u32>) {
        self.line = line;
        self.span = None;
    }

    /// The current location, to put back with [`CodeGen::restore_loc`].
    pub(super) fn loc(&self) -> (Option<u32>, Option<(u32, u32)>) {
        (self.line, self.span)
    }

    /// Puts back a location taken with [`CodeGen::loc`].
    pub(super) fn restore_loc(&mut self, (line, span): (Option<u32>, Option<(u32, u32)>)) {
        self.line = line;
        self.span = span;
    }

    pub(super) fn finish(mut self, reports_state: bool) -> Code {
        let (cellvars, freevars) = match self.scope {
            Scope::Module => (Vec::new(), Vec::new()),
            Scope::Class(info) | Scope::Function(info) => (info.cellvars(), info.freevars()),
        };
        // `build_cellfixedoffsets` + `fix_cell_offsets`: a cell that is a parameter lives in
        // the parameter's slot; the other cells, then the free variables, follow the locals.
        let nlocals = self.varnames.len();
        let mut fixed = Vec::with_capacity(self.derefs.len());
        let mut dropped = 0;
        for (i, name) in self.derefs.iter().enumerate() {
            match self.varnames.iter().position(|v| v == name) {
                Some(k) if i < cellvars.len() => {
                    fixed.push(k as u32);
                    dropped += 1;
                }
                _ => fixed.push((nlocals + i - dropped) as u32),
            }
        }
        // `insert_prefix_instructions`: COPY_FREE_VARS, then a MAKE_CELL per cell in slot order.
        // A generator's frame becomes the generator object first (RETURN_GENERATOR, POP_TOP).
        let mut prefix = Vec::new();
        if !freevars.is_empty() {
            prefix.push((Op::CopyFreeVars(freevars.len() as u32), None));
        }
        let mut cell_slots: Vec<u32> = fixed[..cellvars.len()].to_vec();
        cell_slots.sort_unstable();
        prefix.extend(cell_slots.into_iter().map(|k| (Op::MakeCell(k), None)));
        let is_coroutine = matches!(self.scope, Scope::Function(info) if info.coroutine);
        let is_generator =
            is_coroutine || matches!(self.scope, Scope::Function(info) if info.generator);
        if is_generator {
            prefix.push((Op::ReturnGenerator, Some(self.firstlineno)));
            prefix.push((Op::PopTop, None));
        }
        self.cfg.map_derefs(&fixed);
        self.cfg.prepend(&prefix);
        let mut consts = self.consts;
        let super::cfg::Assembled {
            ops,
            lines,
            spans,
            exception_table,
        } = self.cfg.assemble(&mut consts, is_generator);
        let positions = spans
            .iter()
            .map(|s| s.map(|(start, end)| self.ctx.position(start, end)))
            .collect();
        let (global_slots, module_prefix) = {
            let mut ns = self.ctx.ns.borrow_mut();
            let slots = self.names.iter().map(|n| ns.add(n)).collect();
            (slots, Arc::from(ns.prefix.as_str()))
        };
        Code {
            name: Arc::from(self.name.as_str()),
            filename: Arc::clone(&self.ctx.file),
            firstlineno: self.firstlineno,
            argcount: self.argcount,
            posonlyargcount: self.posonlyargcount,
            kwonlyargcount: self.kwonlyargcount,
            varargs: self.varargs,
            varkeywords: self.varkeywords,
            varnames: self
                .varnames
                .iter()
                .map(|s| Arc::from(s.as_str()))
                .collect(),
            names: self.names.iter().map(|s| Arc::from(s.as_str())).collect(),
            global_slots,
            module_prefix,
            cellvars: cellvars.iter().map(|s| Arc::from(s.as_str())).collect(),
            freevars: freevars.iter().map(|s| Arc::from(s.as_str())).collect(),
            consts,
            ops,
            lines,
            positions,
            reports_state,
            is_generator,
            is_coroutine,
            is_async_generator: is_coroutine
                && matches!(self.scope, Scope::Function(info) if info.generator),
            exception_table,
            qualname: Arc::from(self.qualname.as_str()),
            is_class_body: matches!(self.scope, Scope::Class(_)),
        }
    }

    /// `compiler_function`'s part in the enclosing code: the decorators, the function made
    /// (`make_closure`), the decorators applied innermost first, and the store of its name.
    pub(super) fn make_function(
        &mut self,
        f: &ast::StmtFunctionDef,
        code: Arc<Code>,
    ) -> Result<(), CompileError> {
        let saved = self.loc();
        for d in &f.decorator_list {
            self.expr(&d.expression)?;
        }
        // Ruff's range of a decorated def starts at its first decorator; CPython's line is the
        // `def` line.
        self.set_line(Some(self.ctx.line(f.name.start())));
        self.make_closure(Some(&f.parameters), f.returns.as_deref(), code)?;
        for d in f.decorator_list.iter().rev() {
            self.set_loc(&d.expression);
            self.emit(Op::Precall(0));
            self.emit(Op::Call(0));
        }
        self.set_line(Some(self.ctx.line(f.name.start())));
        self.store_name(f.name.id.as_str());
        self.restore_loc(saved);
        Ok(())
    }

    /// Defaults, keyword-only defaults, annotations and the closure of a function whose code
    /// is `code`, then `MAKE_FUNCTION`.
    pub(super) fn make_closure(
        &mut self,
        p: Option<&ast::Parameters>,
        returns: Option<&Expr>,
        code: Arc<Code>,
    ) -> Result<(), CompileError> {
        let saved = self.loc();
        let empty = ast::Parameters::default();
        let p = p.unwrap_or(&empty);
        let defaults: Vec<&Expr> = p
            .posonlyargs
            .iter()
            .chain(&p.args)
            .filter_map(|a| a.default.as_deref())
            .collect();
        let mut flags = 0;
        if !defaults.is_empty() {
            // `compiler_visit_defaults`; the optimizer folds a tuple of constants.
            for d in &defaults {
                self.expr(d)?;
            }
            self.restore_loc(saved);
            self.emit(Op::BuildTuple(defaults.len() as u32));
            flags |= 1;
        }
        // `compiler_visit_kwonlydefaults`
        let mut kw_keys = Vec::new();
        for a in &p.kwonlyargs {
            if let Some(d) = &a.default {
                kw_keys.push(Value::str(a.parameter.name.id.as_str()));
                self.expr(d)?;
            }
        }
        if !kw_keys.is_empty() {
            let n = kw_keys.len() as u32;
            self.restore_loc(saved);
            self.emit_const(Value::Tuple(kw_keys.into()));
            self.emit(Op::BuildConstKeyMap(n));
            flags |= 2;
        }
        // `compiler_visit_annotations`: positional (before positional-only, as 3.11 does),
        // `*args`, keyword-only, `**kwargs`, then the return annotation.
        let mut annotated: Vec<(&str, &Expr)> = Vec::new();
        for a in p.args.iter().chain(&p.posonlyargs) {
            if let Some(ann) = &a.parameter.annotation {
                annotated.push((a.parameter.name.id.as_str(), ann));
            }
        }
        if let Some(v) = &p.vararg
            && let Some(ann) = &v.annotation
        {
            annotated.push((v.name.id.as_str(), ann));
        }
        for a in &p.kwonlyargs {
            if let Some(ann) = &a.parameter.annotation {
                annotated.push((a.parameter.name.id.as_str(), ann));
            }
        }
        if let Some(v) = &p.kwarg
            && let Some(ann) = &v.annotation
        {
            annotated.push((v.name.id.as_str(), ann));
        }
        if let Some(r) = returns {
            annotated.push(("return", r));
        }
        if !annotated.is_empty() {
            for (name, ann) in &annotated {
                self.restore_loc(saved);
                self.emit_const(Value::str(name));
                self.annotation(ann)?;
            }
            self.restore_loc(saved);
            self.emit(Op::BuildTuple((annotated.len() * 2) as u32));
            flags |= 4;
        }
        self.restore_loc(saved);
        if !code.freevars.is_empty() {
            for name in code.freevars.iter() {
                let k = self.deref_index(name);
                self.emit(Op::LoadClosure(k));
            }
            self.emit(Op::BuildTuple(code.freevars.len() as u32));
            flags |= 8;
        }
        self.emit_const(Value::Code(code));
        self.emit(Op::MakeFunction(flags));
        Ok(())
    }
}
