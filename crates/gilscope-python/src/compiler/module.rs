//! gilscope's conventions for a program's top level: the module namespace's slots, the
//! UPPERCASE parameters, the `__gilscope_state__` functions, and the `__main__` guard left out.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::cfg::Ins;
use super::codegen::{CodeGen, Scope};
use super::symtable::{ModuleSlots, targets};
use super::{CompileError, CompiledModule, Ctx, Param, fold};
use crate::vm::code::Op;
use crate::vm::value::Value;

impl Ctx<'_> {
    pub(super) fn module(&self, body: &[Stmt]) -> Result<CompiledModule, CompileError> {
        // The module namespace: every name bound at top level (in any block of it) or declared
        // global anywhere.
        let mut imported = HashSet::new();
        let mut params = Vec::new();
        let annotated = find_ann(body);
        if annotated {
            self.ns.borrow_mut().add("__annotations__");
        }
        for s in body {
            collect_module_bindings(s, &mut self.ns.borrow_mut(), &mut imported);
            if let Stmt::Assign(a) = s
                && let [Expr::Name(n)] = &a.targets[..]
                && is_param_name(n.id.as_str())
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
                    value_span: (a.value.start().to_u32(), a.value.end().to_u32()),
                });
            }
        }
        let mut cg = CodeGen::new(self, "<module>", 1, Scope::Module, &[]);
        cg.cfg.push(Ins::Op(Op::Resume), Some(0));
        cg.imported = imported;
        // `compiler_body`: every annotated module has `__annotations__`, made on the first
        // statement's line.
        if annotated {
            cg.set_loc(&body[0]);
            cg.emit(Op::SetupAnnotations);
        }
        // `compiler_body`: a docstring is stored as `__doc__`.
        let rest = match body.first() {
            Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::StringLiteral(_)) => {
                cg.set_loc(&body[0]);
                cg.expr(&e.value)?;
                cg.store_name("__doc__");
                &body[1..]
            }
            _ => body,
        };
        cg.stmts(rest)?;
        cg.set_line(None);
        cg.emit_const(Value::None);
        cg.emit(Op::ReturnValue);
        let code = cg.finish(false);
        let ns = self.ns.borrow();
        let shared = ns.names.iter().map(|n| ns.rebound.contains(n)).collect();
        Ok(CompiledModule {
            code: Arc::new(code),
            namespace: ns.names.iter().map(|n| Arc::from(n.as_str())).collect(),
            shared,
            params,
            functions: self.functions.borrow().clone(),
            siblings: Vec::new(),
        })
    }
}

/// Whether a module's or class's statements annotate a name anywhere outside nested functions
/// and classes (`find_ann`): then the body starts with `SETUP_ANNOTATIONS`.
pub(super) fn find_ann(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::AnnAssign(_) => true,
        Stmt::For(f) => find_ann(&f.body) || find_ann(&f.orelse),
        Stmt::While(w) => find_ann(&w.body) || find_ann(&w.orelse),
        Stmt::If(i) => find_ann(&i.body) || i.elif_else_clauses.iter().any(|c| find_ann(&c.body)),
        Stmt::With(w) => find_ann(&w.body),
        Stmt::Try(t) => {
            t.handlers.iter().any(|h| {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                find_ann(&h.body)
            }) || find_ann(&t.body)
                || find_ann(&t.finalbody)
                || find_ann(&t.orelse)
        }
        _ => false,
    })
}

/// The functions a module names in `__gilscope_state__ = (...)`.
pub(super) fn state_functions(body: &[Stmt]) -> Vec<String> {
    body.iter()
        .find_map(|s| match s {
            Stmt::Assign(a) => match &a.targets[..] {
                [Expr::Name(n)] if n.id.as_str() == "__gilscope_state__" => {
                    Some(string_tuple(&a.value))
                }
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_default()
}

pub(super) fn is_param_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

pub(super) fn string_tuple(e: &Expr) -> Vec<String> {
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

pub(super) fn collect_module_bindings(
    s: &Stmt,
    ns: &mut ModuleSlots,
    imported: &mut HashSet<String>,
) {
    let mut names = BTreeSet::new();
    let mut inner = |body: &[Stmt]| {
        for b in body {
            collect_module_bindings(b, ns, imported);
        }
    };
    match s {
        Stmt::If(i) => {
            inner(&i.body);
            for c in &i.elif_else_clauses {
                inner(&c.body);
            }
        }
        Stmt::While(w) => {
            inner(&w.body);
            inner(&w.orelse);
        }
        Stmt::With(w) => {
            inner(&w.body);
            for item in &w.items {
                if let Some(v) = &item.optional_vars {
                    targets(v, &mut names);
                }
            }
        }
        Stmt::Try(t) => {
            inner(&t.body);
            for h in &t.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                inner(&h.body);
                if let Some(n) = &h.name {
                    names.insert(n.id.to_string());
                }
            }
            inner(&t.orelse);
            inner(&t.finalbody);
        }
        Stmt::Assign(a) => a.targets.iter().for_each(|t| targets(t, &mut names)),
        Stmt::AugAssign(a) => targets(&a.target, &mut names),
        Stmt::AnnAssign(a) => targets(&a.target, &mut names),
        Stmt::For(f) => {
            targets(&f.target, &mut names);
            inner(&f.body);
            inner(&f.orelse);
        }
        Stmt::FunctionDef(f) => {
            names.insert(f.name.id.to_string());
        }
        Stmt::ClassDef(c) => {
            names.insert(c.name.id.to_string());
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
            for a in i.names.iter().filter(|a| a.name.id.as_str() != "*") {
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
