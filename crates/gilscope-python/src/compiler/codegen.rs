//! The code generator's core: one `CodeGen` per code object, with its constants, names and
//! locals, the control-flow graph it emits into, and the function definitions it compiles.

use std::collections::HashSet;
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::cfg::{self, Cfg, Ins, Jump};
use super::symtable::{Scope, Symbols};
use super::{CompileError, Ctx, const_key, fold};
use crate::vm::code::{Code, Op};
use crate::vm::value::Value;

impl Ctx<'_> {
    pub(super) fn function(
        &self,
        f: &ast::StmtFunctionDef,
        imported: &HashSet<String>,
    ) -> Result<Arc<Code>, CompileError> {
        if f.is_async {
            return Err(self.unsupported(f, "async def"));
        }
        if !f.decorator_list.is_empty() {
            return Err(self.unsupported(&f.decorator_list[0], "a decorator"));
        }
        let p = &f.parameters;
        // `co_varnames` starts with the parameters: positional-only, positional, keyword-only,
        // then `*args` and `**kwargs` (`symtable_visit_arguments`).
        let mut params: Vec<String> = p
            .posonlyargs
            .iter()
            .chain(&p.args)
            .chain(&p.kwonlyargs)
            .map(|a| a.parameter.name.id.to_string())
            .collect();
        params.extend(p.vararg.iter().map(|v| v.name.id.to_string()));
        params.extend(p.kwarg.iter().map(|v| v.name.id.to_string()));
        for (k, name) in params.iter().enumerate() {
            if params[..k].contains(name) {
                return Err(self.error(
                    &**p,
                    format!("duplicate argument '{name}' in function definition"),
                ));
            }
        }
        // Symbols: parameters and assigned names are local, unless declared global.
        let mut sym = Symbols::default();
        for s in &f.body {
            self.scan(s, &mut sym)?;
        }
        {
            let mut ns = self.ns.borrow_mut();
            for g in &sym.globals {
                if sym.assigned.contains(g) {
                    ns.rebound.insert(g.clone());
                }
                ns.add(g);
            }
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
        cg.argcount = p.posonlyargs.len() + p.args.len();
        cg.posonlyargcount = p.posonlyargs.len();
        cg.kwonlyargcount = p.kwonlyargs.len();
        cg.varargs = p.vararg.is_some();
        cg.varkeywords = p.kwarg.is_some();
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
        let reports = self.state_funcs.iter().any(|n| n == f.name.id.as_str());
        let code = Arc::new(cg.finish(reports));
        self.functions.borrow_mut().push(Arc::clone(&code));
        Ok(code)
    }
}

/// Loop context for `break` / `continue`.
pub(super) struct LoopCtx {
    pub(super) top: cfg::BlockId,
    pub(super) exit: cfg::BlockId,
    pub(super) is_for: bool,
}

/// Emits one code object.
pub(super) struct CodeGen<'c, 'a> {
    pub(super) ctx: &'c Ctx<'a>,
    pub(super) name: String,
    pub(super) firstlineno: u32,
    pub(super) scope: Scope,
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
    pub(super) loops: Vec<LoopCtx>,
    pub(super) imported: HashSet<String>,
}

impl<'c, 'a> CodeGen<'c, 'a> {
    pub(super) fn new(
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
            posonlyargcount: 0,
            kwonlyargcount: 0,
            varargs: false,
            varkeywords: false,
            cfg: Cfg::new(),
            consts: Vec::new(),
            names: Vec::new(),
            varnames: params.to_vec(),
            line: Some(firstlineno),
            loops: Vec::new(),
            imported: HashSet::new(),
        }
    }

    pub(super) fn emit(&mut self, op: Op) {
        self.cfg.push(Ins::Op(op), self.line);
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

    pub(super) fn is_local(&self, name: &str) -> bool {
        matches!(&self.scope, Scope::Function(l) if l.contains(name))
    }

    pub(super) fn load_name(&mut self, name: &str, null: bool) {
        match &self.scope {
            Scope::Module if self.ctx.explicit_globals.contains(name) => {
                let k = self.name_index(name);
                self.emit(Op::LoadGlobal(k << 1 | u32::from(null)));
            }
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

    pub(super) fn store_name(&mut self, name: &str) {
        match &self.scope {
            Scope::Module if self.ctx.explicit_globals.contains(name) => {
                let k = self.name_index(name);
                self.emit(Op::StoreGlobal(k));
            }
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

    pub(super) fn set_loc(&mut self, node: &impl Ranged) {
        self.line = Some(self.ctx.line(node.start()));
    }

    pub(super) fn finish(self, reports_state: bool) -> Code {
        let mut consts = self.consts;
        let (ops, lines) = self.cfg.assemble(&mut consts);
        let global_slots = {
            let mut ns = self.ctx.ns.borrow_mut();
            self.names.iter().map(|n| ns.add(n)).collect()
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
            consts,
            ops,
            lines,
            reports_state,
        }
    }

    /// `compiler_function`'s part in the enclosing code: defaults, keyword-only defaults and
    /// annotations, then `MAKE_FUNCTION` and the store of its name.
    pub(super) fn make_function(
        &mut self,
        f: &ast::StmtFunctionDef,
        code: Arc<Code>,
    ) -> Result<(), CompileError> {
        self.set_loc(f);
        let p = &f.parameters;
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
        if let Some(r) = &f.returns {
            annotated.push(("return", r));
        }
        if !annotated.is_empty() {
            for (name, ann) in &annotated {
                self.emit_const(Value::str(name));
                self.expr(ann)?;
            }
            self.emit(Op::BuildTuple((annotated.len() * 2) as u32));
            flags |= 4;
        }
        self.emit_const(Value::Code(code));
        self.emit(Op::MakeFunction(flags));
        self.store_name(f.name.id.as_str());
        Ok(())
    }
}
