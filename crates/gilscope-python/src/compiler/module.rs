//! gilscope's conventions for a program's top level: the module namespace's slots, the
//! UPPERCASE parameters, the `__gilscope_state__` functions, and the `__main__` guard left out.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::cfg::Ins;
use super::codegen::CodeGen;
use super::symtable::{ModuleSlots, Scope, targets};
use super::{CompileError, CompiledModule, Ctx, Param, fold};
use crate::vm::code::Op;
use crate::vm::value::Value;

impl Ctx<'_> {
    pub(super) fn module(&self, body: &[Stmt]) -> Result<CompiledModule, CompileError> {
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

/// `if __name__ == "__main__":` (the block gilscope leaves out).
pub(super) fn is_main_guard(s: &Stmt) -> bool {
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

pub(super) fn collect_module_bindings(
    s: &Stmt,
    ns: &mut ModuleSlots,
    imported: &mut HashSet<String>,
) {
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
