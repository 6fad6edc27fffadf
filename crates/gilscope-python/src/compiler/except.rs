//! Statements that raise, catch and clean up, as CPython 3.11's `compiler_try_except`,
//! `compiler_try_finally`, `compiler_with`, `compiler_assert` and the `raise` and `del` cases
//! of `compiler_visit_stmt` emit them, and the frame-block unwinding (`compiler_unwind_fblock`)
//! that `return`, `break` and `continue` do on their way out of them.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::CompileError;
use super::cfg::{BlockId, Ins, Jump, Setup};
use super::codegen::{CodeGen, FBlock, Scope};
use crate::vm::code::Op;
use crate::vm::value::Value;

/// The loop a `break` or `continue` leaves: its start, its exit, and whether it is a `for`.
pub(super) struct LoopExit {
    pub(super) top: BlockId,
    pub(super) exit: BlockId,
    pub(super) is_for: bool,
}

impl CodeGen<'_, '_> {
    /// `compiler_unwind_fblock`: undoes one frame block; `preserve_tos` keeps a return value on
    /// top of the stack across it.
    fn unwind_fblock(&mut self, fb: &FBlock, preserve_tos: bool) -> Result<(), CompileError> {
        let swap = |cg: &mut Self| {
            if preserve_tos {
                cg.emit(Op::Swap(2));
            }
        };
        match fb {
            FBlock::WhileLoop { .. } | FBlock::ExceptionHandler => {}
            FBlock::ForLoop { .. } | FBlock::PopValue => {
                swap(self);
                self.emit(Op::PopTop);
            }
            FBlock::TryExcept => self.emit_ins(Ins::PopBlock),
            FBlock::FinallyTry(body) => {
                self.emit_ins(Ins::PopBlock);
                if preserve_tos {
                    self.fblocks.push(FBlock::PopValue);
                }
                self.stmts(body)?;
                if preserve_tos {
                    self.fblocks.pop();
                }
                self.set_line(None);
            }
            FBlock::FinallyEnd => {
                swap(self);
                self.emit(Op::PopTop);
                swap(self);
                self.emit_ins(Ins::PopBlock);
                self.emit(Op::PopExcept);
            }
            FBlock::With(line) | FBlock::AsyncWith(line) => {
                self.set_line(*line);
                self.emit_ins(Ins::PopBlock);
                swap(self);
                self.call_exit_with_nones();
                if matches!(fb, FBlock::AsyncWith(_)) {
                    self.await_awaitable(2);
                }
                self.emit(Op::PopTop);
                self.set_line(None);
            }
            FBlock::HandlerCleanup(name) => {
                if name.is_some() {
                    self.emit_ins(Ins::PopBlock);
                }
                swap(self);
                self.emit_ins(Ins::PopBlock);
                self.emit(Op::PopExcept);
                if let Some(n) = name {
                    self.emit_const(Value::None);
                    self.store_name(n);
                    self.delete_name(n);
                }
            }
        }
        Ok(())
    }

    /// `compiler_unwind_fblock_stack`: unwinds every frame block (for `return`), or those inside
    /// the innermost loop when `to_loop` (for `break` and `continue`), and returns that loop.
    pub(super) fn unwind_fblock_stack(
        &mut self,
        preserve_tos: bool,
        to_loop: bool,
    ) -> Result<Option<LoopExit>, CompileError> {
        let Some(top) = self.fblocks.last().cloned() else {
            return Ok(None);
        };
        if to_loop {
            match top {
                FBlock::WhileLoop { top, exit } => {
                    return Ok(Some(LoopExit {
                        top,
                        exit,
                        is_for: false,
                    }));
                }
                FBlock::ForLoop { top, exit } => {
                    return Ok(Some(LoopExit {
                        top,
                        exit,
                        is_for: true,
                    }));
                }
                _ => {}
            }
        }
        self.fblocks.pop();
        let r = self
            .unwind_fblock(&top, preserve_tos)
            .and_then(|()| self.unwind_fblock_stack(preserve_tos, to_loop));
        self.fblocks.push(top);
        r
    }

    /// `break` and `continue`: the frame blocks inside the loop undone, then the jump.
    pub(super) fn loop_exit(&mut self, s: &Stmt, is_break: bool) -> Result<(), CompileError> {
        self.emit(Op::Nop);
        let saved = self.loc();
        let Some(lp) = self.unwind_fblock_stack(false, true)? else {
            self.restore_loc(saved);
            return Err(self.ctx.error(
                s,
                if is_break {
                    "'break' outside loop"
                } else {
                    "'continue' not properly in loop"
                },
            ));
        };
        if is_break {
            if lp.is_for {
                self.emit(Op::PopTop);
            }
            self.jump(Jump::Always, lp.exit);
        } else {
            self.jump(Jump::Always, lp.top);
        }
        Ok(())
    }

    fn call_exit_with_nones(&mut self) {
        for _ in 0..3 {
            self.emit_const(Value::None);
        }
        self.emit(Op::Precall(2));
        self.emit(Op::Call(2));
    }

    /// `POP_EXCEPT_AND_RERAISE`: `COPY 3`, `POP_EXCEPT`, `RERAISE 1`.
    fn pop_except_and_reraise(&mut self) {
        self.emit(Op::Copy(3));
        self.emit(Op::PopExcept);
        self.emit(Op::Reraise(1));
    }

    /// A `try` statement.
    pub(super) fn try_stmt(&mut self, t: &ast::StmtTry) -> Result<(), CompileError> {
        if t.is_star {
            return Err(self.ctx.unsupported(t, "except*"));
        }
        if t.finalbody.is_empty() {
            self.try_except(t)
        } else {
            self.try_finally(t)
        }
    }

    fn try_finally(&mut self, t: &ast::StmtTry) -> Result<(), CompileError> {
        let (body, end, exit, cleanup) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.emit_ins(Ins::Setup(Setup::Finally, end));
        self.cfg.use_block(body);
        self.fblocks.push(FBlock::FinallyTry(t.finalbody.to_vec()));
        if t.handlers.is_empty() {
            self.stmts(&t.body)?;
        } else {
            self.try_except(t)?;
        }
        self.cfg.push(Ins::PopBlock, None);
        self.fblocks.pop();
        self.stmts(&t.finalbody)?;
        self.jump_noline(Jump::Always, exit);
        self.cfg.use_block(end);
        self.set_line(None);
        self.emit_ins(Ins::Setup(Setup::Cleanup, cleanup));
        self.emit(Op::PushExcInfo);
        self.fblocks.push(FBlock::FinallyEnd);
        self.stmts(&t.finalbody)?;
        self.fblocks.pop();
        self.emit(Op::Reraise(0));
        self.cfg.use_block(cleanup);
        self.pop_except_and_reraise();
        self.cfg.use_block(exit);
        Ok(())
    }

    fn try_except(&mut self, t: &ast::StmtTry) -> Result<(), CompileError> {
        let (body, mut except, end, cleanup) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        self.emit_ins(Ins::Setup(Setup::Finally, except));
        self.cfg.use_block(body);
        self.fblocks.push(FBlock::TryExcept);
        self.stmts(&t.body)?;
        self.fblocks.pop();
        self.cfg.push(Ins::PopBlock, None);
        self.stmts(&t.orelse)?;
        self.jump_noline(Jump::Always, end);
        self.cfg.use_block(except);
        self.set_line(None);
        self.emit_ins(Ins::Setup(Setup::Cleanup, cleanup));
        self.emit(Op::PushExcInfo);
        self.fblocks.push(FBlock::ExceptionHandler);
        let n = t.handlers.len();
        for (i, h) in t.handlers.iter().enumerate() {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            self.set_loc(h);
            if h.type_.is_none() && i + 1 < n {
                return Err(self.ctx.error(h, "default 'except:' must be last"));
            }
            except = self.cfg.new_block();
            if let Some(ty) = &h.type_ {
                let saved = self.loc();
                self.expr(ty)?;
                self.restore_loc(saved);
                self.emit(Op::CheckExcMatch);
                self.jump(Jump::IfFalse, except);
            }
            match &h.name {
                Some(name) => {
                    let name = name.id.to_string();
                    let (cleanup_end, cleanup_body) = (self.cfg.new_block(), self.cfg.new_block());
                    self.store_name(&name);
                    self.emit_ins(Ins::Setup(Setup::Cleanup, cleanup_end));
                    self.cfg.use_block(cleanup_body);
                    self.fblocks
                        .push(FBlock::HandlerCleanup(Some(name.clone())));
                    self.stmts(&h.body)?;
                    self.fblocks.pop();
                    self.set_line(None);
                    self.emit_ins(Ins::PopBlock);
                    self.emit_ins(Ins::PopBlock);
                    self.emit(Op::PopExcept);
                    self.emit_const(Value::None);
                    self.store_name(&name);
                    self.delete_name(&name);
                    self.jump(Jump::Always, end);
                    self.cfg.use_block(cleanup_end);
                    self.set_line(None);
                    self.emit_const(Value::None);
                    self.store_name(&name);
                    self.delete_name(&name);
                    self.emit(Op::Reraise(1));
                }
                None => {
                    let cleanup_body = self.cfg.new_block();
                    self.emit(Op::PopTop);
                    self.cfg.use_block(cleanup_body);
                    self.fblocks.push(FBlock::HandlerCleanup(None));
                    self.stmts(&h.body)?;
                    self.fblocks.pop();
                    self.set_line(None);
                    self.emit_ins(Ins::PopBlock);
                    self.emit(Op::PopExcept);
                    self.jump(Jump::Always, end);
                }
            }
            self.cfg.use_block(except);
        }
        self.set_line(None);
        self.fblocks.pop();
        self.emit(Op::Reraise(0));
        self.cfg.use_block(cleanup);
        self.pop_except_and_reraise();
        self.cfg.use_block(end);
        Ok(())
    }

    /// `GET_AWAITABLE where`, then `ADD_YIELD_FROM(c, 1)`: awaits what is on the stack.
    pub(super) fn await_awaitable(&mut self, r#where: u32) {
        self.emit(Op::GetAwaitable(r#where));
        self.emit_const(Value::None);
        self.yield_from(true);
    }

    /// `compiler_with` (and `compiler_async_with`), one item at a time (`pos`), the body
    /// inside the last.
    pub(super) fn with_stmt(&mut self, w: &ast::StmtWith, pos: usize) -> Result<(), CompileError> {
        if w.is_async {
            match self.scope {
                Scope::Function(info) if info.coroutine => {}
                _ => return Err(self.ctx.error(w, "'async with' outside async function")),
            }
        }
        let Some(item) = w.items.get(pos) else {
            return self.stmts(&w.body);
        };
        let (block, fin, exit, cleanup) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        let stmt_line = Some(self.ctx.line(w.start()));
        self.set_line(stmt_line);
        self.expr(&item.context_expr)?;
        self.set_line(stmt_line);
        if w.is_async {
            self.emit(Op::BeforeAsyncWith);
            self.await_awaitable(1);
        } else {
            self.emit(Op::BeforeWith);
        }
        self.emit_ins(Ins::Setup(Setup::With, fin));
        self.cfg.use_block(block);
        self.fblocks.push(if w.is_async {
            FBlock::AsyncWith(stmt_line)
        } else {
            FBlock::With(stmt_line)
        });
        match &item.optional_vars {
            Some(v) => self.store_target(v)?,
            None => self.emit(Op::PopTop),
        }
        if pos + 1 == w.items.len() {
            self.stmts(&w.body)?;
        } else {
            self.with_stmt(w, pos + 1)?;
        }
        self.set_line(None);
        self.emit_ins(Ins::PopBlock);
        self.fblocks.pop();
        self.set_line(stmt_line);
        self.call_exit_with_nones();
        if w.is_async {
            self.await_awaitable(2);
        }
        self.emit(Op::PopTop);
        self.jump(Jump::Always, exit);
        self.cfg.use_block(fin);
        self.emit_ins(Ins::Setup(Setup::Cleanup, cleanup));
        self.emit(Op::PushExcInfo);
        self.emit(Op::WithExceptStart);
        if w.is_async {
            self.await_awaitable(2);
        }
        // compiler_with_except_finish
        self.set_line(None);
        let done = self.cfg.new_block();
        self.jump(Jump::IfTrue, done);
        self.emit(Op::Reraise(2));
        self.cfg.use_block(cleanup);
        self.pop_except_and_reraise();
        self.cfg.use_block(done);
        self.emit(Op::PopTop);
        self.emit_ins(Ins::PopBlock);
        self.emit(Op::PopExcept);
        self.emit(Op::PopTop);
        self.emit(Op::PopTop);
        self.cfg.use_block(exit);
        Ok(())
    }

    /// `raise`, `raise exc`, `raise exc from cause`.
    pub(super) fn raise_stmt(&mut self, r: &ast::StmtRaise) -> Result<(), CompileError> {
        let mut n = 0;
        if let Some(exc) = &r.exc {
            self.expr(exc)?;
            n += 1;
            if let Some(cause) = &r.cause {
                self.expr(cause)?;
                n += 1;
            }
        }
        self.set_loc(r);
        self.emit(Op::RaiseVarargs(n));
        Ok(())
    }

    /// `compiler_assert`.
    pub(super) fn assert_stmt(&mut self, a: &ast::StmtAssert) -> Result<(), CompileError> {
        let end = self.cfg.new_block();
        self.jump_if(&a.test, end, true)?;
        // 3.11's `compiler_jump_if` leaves a comparison's place behind: the assertion is
        // raised there; after any other test, at the statement.
        let place: &dyn Ranged = match &*a.test {
            Expr::Compare(c) => c,
            _ => a,
        };
        self.set_loc(&place.range());
        self.emit(Op::LoadAssertionError);
        if let Some(msg) = &a.msg {
            self.expr(msg)?;
            self.set_loc(&place.range());
            self.emit(Op::Precall(0));
            self.emit(Op::Call(0));
        }
        self.emit(Op::RaiseVarargs(1));
        self.cfg.use_block(end);
        Ok(())
    }

    /// `del` of names, subscripts and tuples of them.
    pub(super) fn delete_target(&mut self, t: &Expr) -> Result<(), CompileError> {
        let saved = self.loc();
        self.set_loc(t);
        match t {
            Expr::Name(n) => self.delete_name(n.id.as_str()),
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.subscript_key(&s.slice)?;
                self.set_loc(t);
                self.emit(Op::DeleteSubscr);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for e in elts {
                    self.delete_target(e)?;
                }
            }
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                self.set_loc(t);
                let k = self.name_index(a.attr.id.as_str());
                self.emit(Op::DeleteAttr(k));
            }
            other => return Err(self.ctx.error(other, "cannot delete this expression")),
        }
        self.restore_loc(saved);
        Ok(())
    }
}
