//! Statement codegen: assignments, `if`, `while`, `for`, `return`, imports and the rest of
//! what a function body may hold, as CPython 3.11's `compiler_visit_stmt` emits them.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::cfg::{Ins, Jump, Setup};
use super::codegen::Scope;
use super::codegen::{CodeGen, FBlock};
use super::expr::binop;
use super::{CompileError, fold};
use crate::vm::code::Op;
use crate::vm::value::Value;

impl CodeGen<'_, '_> {
    // ---- statements ----

    pub(super) fn stmts(&mut self, body: &[Stmt]) -> Result<(), CompileError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    pub(super) fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
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
            Stmt::Break(_) => self.loop_exit(s, true)?,
            Stmt::Continue(_) => self.loop_exit(s, false)?,
            Stmt::Import(i) => {
                for a in &i.names {
                    self.ctx.require_sibling(a.name.id.as_str())?;
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
                let module = i
                    .module
                    .as_ref()
                    .map(|m| m.id.to_string())
                    .unwrap_or_default();
                if i.level == 0 {
                    self.ctx.require_sibling(&module)?;
                }
                // A relative import's level: a script has no package, so the VM refuses it as
                // CPython does, after the same bytecode.
                self.emit_const(Value::Int(i64::from(i.level)));
                let names: Vec<Value> = i
                    .names
                    .iter()
                    .map(|a| Value::str(a.name.id.as_str()))
                    .collect();
                self.emit_const(Value::Tuple(names.into()));
                let k = self.name_index(&module);
                self.emit(Op::ImportName(k));
                if i.names.iter().any(|a| a.name.id.as_str() == "*") {
                    if !matches!(self.scope, Scope::Module) {
                        return Err(self.ctx.error(i, "import * only allowed at module level"));
                    }
                    self.emit(Op::ImportStar);
                    return Ok(());
                }
                for a in &i.names {
                    let k = self.name_index(a.name.id.as_str());
                    self.emit(Op::ImportFrom(k));
                    self.store_name(a.asname.as_ref().unwrap_or(&a.name).id.as_str());
                }
                self.emit(Op::PopTop);
            }
            Stmt::FunctionDef(f) => {
                let parent = self.parent(f.name.id.as_str());
                let code = self.ctx.function(f, &parent)?;
                self.make_function(f, code)?;
            }
            Stmt::ClassDef(c) => self.class_def(c)?,
            Stmt::With(w) => self.with_stmt(w, 0)?,
            Stmt::Try(t) => self.try_stmt(t)?,
            Stmt::Raise(r) => self.raise_stmt(r)?,
            Stmt::Assert(a) => self.assert_stmt(a)?,
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.delete_target(t)?;
                }
            }
            Stmt::Match(m) => return Err(self.ctx.unsupported(m, "a match statement")),
            Stmt::Nonlocal(_) => {}
            Stmt::AnnAssign(a) => self.ann_assign(a)?,
            Stmt::TypeAlias(t) => return Err(self.ctx.unsupported(t, "a type alias")),
            Stmt::IpyEscapeCommand(i) => return Err(self.ctx.unsupported(i, "an IPython escape")),
        }
        Ok(())
    }

    pub(super) fn store_target(&mut self, t: &Expr) -> Result<(), CompileError> {
        match t {
            Expr::Name(n) => {
                self.set_loc(t);
                self.store_name(n.id.as_str());
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                // `unpack_helper`: UNPACK_EX at the first starred target, else UNPACK_SEQUENCE.
                let stars: Vec<usize> = elts
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| matches!(e, Expr::Starred(_)))
                    .map(|(i, _)| i)
                    .collect();
                let saved = self.loc();
                self.set_loc(t);
                match stars[..] {
                    [] => self.emit(Op::UnpackSequence(elts.len() as u32)),
                    [i] => {
                        if i >= 1 << 8 {
                            return Err(self
                                .ctx
                                .error(t, "too many expressions in star-unpacking assignment"));
                        }
                        self.emit(Op::UnpackEx((i + ((elts.len() - i - 1) << 8)) as u32));
                    }
                    _ => {
                        return Err(self
                            .ctx
                            .error(t, "multiple starred expressions in assignment"));
                    }
                }
                for e in elts {
                    match e {
                        Expr::Starred(s) => self.store_target(&s.value)?,
                        e => self.store_target(e)?,
                    }
                }
                self.restore_loc(saved);
            }
            Expr::Subscript(s) => {
                let saved = self.loc();
                self.set_loc(t);
                self.expr(&s.value)?;
                self.subscript_key(&s.slice)?;
                self.set_loc(t);
                self.emit(Op::StoreSubscr);
                self.restore_loc(saved);
            }
            Expr::Attribute(a) => {
                let saved = self.loc();
                self.set_loc(t);
                self.expr(&a.value)?;
                self.set_loc(t);
                let k = self.name_index(a.attr.id.as_str());
                self.emit(Op::StoreAttr(k));
                self.restore_loc(saved);
            }
            other => return Err(self.ctx.error(other, "cannot assign to this expression")),
        }
        Ok(())
    }

    /// `compiler_annassign`: the assignment first; a simple name's annotation, in a module or
    /// class, into `__annotations__`; a target's object (and a subscript's key) evaluated when
    /// nothing is assigned; a complex target's annotation evaluated last, in a module or class.
    /// In a function an annotation is never evaluated.
    pub(super) fn ann_assign(&mut self, a: &ast::StmtAnnAssign) -> Result<(), CompileError> {
        let annotated_here = matches!(self.scope, Scope::Module | Scope::Class(_));
        if let Some(v) = &a.value {
            self.expr(v)?;
            self.store_target(&a.target)?;
        }
        match &*a.target {
            Expr::Name(n) => {
                if a.simple && annotated_here {
                    self.set_loc(a);
                    self.annotation(&a.annotation)?;
                    self.set_loc(a);
                    let k = self.name_index("__annotations__");
                    self.emit(Op::LoadName(k));
                    self.emit_const(Value::str(n.id.as_str()));
                    self.emit(Op::StoreSubscr);
                }
            }
            Expr::Attribute(at) => {
                if a.value.is_none() {
                    self.ann_check(&at.value)?;
                }
            }
            Expr::Subscript(s) => {
                if a.value.is_none() {
                    self.ann_check(&s.value)?;
                    match &*s.slice {
                        Expr::Slice(sl) => {
                            for part in [&sl.lower, &sl.upper, &sl.step].into_iter().flatten() {
                                self.ann_check(part)?;
                            }
                        }
                        Expr::Tuple(t) => {
                            for e in &t.elts {
                                self.ann_check(e)?;
                            }
                        }
                        other => self.ann_check(other)?,
                    }
                }
            }
            other => return Err(self.ctx.unsupported(other, "this annotated target")),
        }
        // `check_annotation`: under the annotations future, a complex target's is not run.
        if !a.simple && annotated_here && !self.ctx.future_annotations {
            self.ann_check(&a.annotation)?;
        }
        Ok(())
    }

    /// `check_ann_expr`: evaluates `e` and drops it.
    fn ann_check(&mut self, e: &Expr) -> Result<(), CompileError> {
        self.expr(e)?;
        self.emit(Op::PopTop);
        Ok(())
    }

    pub(super) fn aug_assign(&mut self, a: &ast::StmtAugAssign) -> Result<(), CompileError> {
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
            Expr::Attribute(at) => {
                self.set_loc(&*a.target);
                self.expr(&at.value)?;
                self.emit(Op::Copy(1));
                let k = self.name_index(at.attr.id.as_str());
                self.emit(Op::LoadAttr(k));
                self.set_loc(a);
                self.expr(&a.value)?;
                self.set_loc(a);
                self.emit(Op::BinaryOp(op));
                self.set_loc(&*a.target);
                self.emit(Op::Swap(2));
                self.emit(Op::StoreAttr(k));
            }
            other => {
                return Err(self
                    .ctx
                    .unsupported(other, "this augmented assignment target"));
            }
        }
        Ok(())
    }

    pub(super) fn ret(&mut self, r: &ast::StmtReturn) -> Result<(), CompileError> {
        if matches!(self.scope, Scope::Module) {
            return Err(self.ctx.error(r, "'return' outside function"));
        }
        if r.value.is_some()
            && matches!(self.scope, Scope::Function(info) if info.coroutine && info.generator)
        {
            return Err(self.ctx.error(r, "'return' with value in async generator"));
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
        self.unwind_fblock_stack(preserve_tos, false)?;
        match folded {
            Some(v) if !preserve_tos => self.emit_const(v),
            _ if r.value.is_none() => self.emit_const(Value::None),
            _ => {}
        }
        self.emit(Op::ReturnValue);
        Ok(())
    }

    pub(super) fn if_stmt(
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

    pub(super) fn while_stmt(&mut self, w: &ast::StmtWhile) -> Result<(), CompileError> {
        let (top, body, anchor) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.cfg.use_block(top);
        self.fblocks.push(FBlock::WhileLoop { top, exit: anchor });
        self.jump_if(&w.test, anchor, false)?;
        self.cfg.use_block(body);
        self.stmts(&w.body)?;
        self.set_loc(w);
        self.jump_if(&w.test, body, true)?;
        self.fblocks.pop();
        self.cfg.use_block(anchor);
        self.stmts(&w.orelse)?;
        Ok(())
    }

    pub(super) fn for_stmt(&mut self, f: &ast::StmtFor) -> Result<(), CompileError> {
        if f.is_async {
            return self.async_for_stmt(f);
        }
        let (start, body, cleanup, end) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.fblocks.push(FBlock::ForLoop {
            top: start,
            exit: end,
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
        self.fblocks.pop();
        self.stmts(&f.orelse)?;
        self.cfg.use_block(end);
        Ok(())
    }

    /// `compiler_async_for`: `__anext__` awaited under a handler whose `END_ASYNC_FOR` ends
    /// the loop at `StopAsyncIteration`.
    fn async_for_stmt(&mut self, f: &ast::StmtFor) -> Result<(), CompileError> {
        match self.scope {
            Scope::Function(info) if info.coroutine => {}
            _ => return Err(self.ctx.error(f, "'async for' outside async function")),
        }
        let (start, except, end) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.expr(&f.iter)?;
        self.emit(Op::GetAiter);
        self.cfg.use_block(start);
        self.fblocks.push(FBlock::ForLoop {
            top: start,
            exit: end,
        });
        self.emit_ins(Ins::Setup(Setup::Finally, except));
        self.emit(Op::GetAnext);
        self.emit_const(Value::None);
        self.yield_from(true);
        self.emit_ins(Ins::PopBlock);
        self.store_target(&f.target)?;
        self.stmts(&f.body)?;
        self.jump_noline(Jump::Always, start);
        self.fblocks.pop();
        self.cfg.use_block(except);
        // The END_ASYNC_FOR follows the `for`, not its body: it takes the iterable's line.
        self.set_loc(&*f.iter);
        self.emit(Op::EndAsyncFor);
        self.stmts(&f.orelse)?;
        self.cfg.use_block(end);
        Ok(())
    }

    /// The iterable of a `for` (or the right side of `in`), as the AST optimizer's `fold_iter`
    /// leaves it: a list display becomes a tuple, a set display of constants a frozenset.
    pub(super) fn expr_iter(&mut self, e: &Expr) -> Result<(), CompileError> {
        match e {
            Expr::List(l) if !l.elts.iter().any(|x| matches!(x, Expr::Starred(_))) => {
                let saved = self.loc();
                self.set_loc(e);
                match fold::constant_tuple(&l.elts.iter().collect::<Vec<_>>()) {
                    Some(t) => self.emit_const(t),
                    None => self.sequence(&l.elts, false)?,
                }
                self.restore_loc(saved);
                Ok(())
            }
            Expr::Set(s) => match fold::constant_tuple(&s.elts.iter().collect::<Vec<_>>()) {
                Some(Value::Tuple(t)) => {
                    let frozen = self.frozenset_const(&t, e)?;
                    let saved = self.loc();
                    self.set_loc(e);
                    self.emit_const(frozen);
                    self.restore_loc(saved);
                    Ok(())
                }
                _ => self.expr(e),
            },
            _ => self.expr(e),
        }
    }

    /// A frozenset constant as the compiler stores it: built from the items, then built again
    /// from its own order (`merge_consts_recursive`), so it iterates as CPython's does.
    pub(super) fn frozenset_const(
        &self,
        items: &[Value],
        at: &Expr,
    ) -> Result<Value, CompileError> {
        use crate::vm::set::SetObj;
        let unhashable = |_| {
            self.ctx.error_of(
                super::CompileErrorKind::Internal,
                at,
                "an unhashable constant in a set display",
            )
        };
        let first = SetObj::from_items(true, items.iter().cloned()).map_err(unhashable)?;
        let again = SetObj::from_items(true, first.items()).map_err(unhashable)?;
        Ok(Value::Set(crate::vm::object::Obj::new(again)))
    }

    /// A comparison's operand: the last one of an `in`/`not in` is folded as `fold_compare`
    /// folds it.
    pub(super) fn comparand(
        &mut self,
        e: &Expr,
        op: ast::CmpOp,
        last: bool,
    ) -> Result<(), CompileError> {
        if last && matches!(op, ast::CmpOp::In | ast::CmpOp::NotIn) {
            self.expr_iter(e)
        } else {
            self.expr(e)
        }
    }
}
