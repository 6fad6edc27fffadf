//! The symbol table of a function: which names it assigns (locals) and which it declares
//! global, refusing what the interpreter cannot run.

use std::collections::{BTreeSet, HashSet};

use ruff_python_ast::{Expr, Stmt};

use super::{CompileError, Ctx};

impl Ctx<'_> {
    /// Collects a function body's assigned names and global declarations, refusing what the
    /// interpreter cannot run.
    pub(super) fn scan(&self, s: &Stmt, sym: &mut Symbols) -> Result<(), CompileError> {
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

pub(super) fn targets(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|x| targets(x, out)),
        Expr::List(l) => l.elts.iter().for_each(|x| targets(x, out)),
        _ => {}
    }
}

#[derive(Default)]
pub(super) struct Symbols {
    pub(super) globals: BTreeSet<String>,
    pub(super) assigned: BTreeSet<String>,
}

pub(super) enum Scope {
    Module,
    Function(HashSet<String>),
}

/// The module namespace: a slot per name bound at top level or declared global anywhere, and
/// which of them some function rebinds.
#[derive(Default)]
pub(super) struct ModuleSlots {
    pub(super) names: Vec<String>,
    pub(super) rebound: HashSet<String>,
}

impl ModuleSlots {
    pub(super) fn add(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(p) => p as u32,
            None => {
                self.names.push(name.to_owned());
                (self.names.len() - 1) as u32
            }
        }
    }
}
