//! Expression codegen: conditions that jump without building a bool, comparisons, calls,
//! subscripts, displays and operators, as CPython 3.11's `compiler_visit_expr` emits them.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;

use super::cfg::{self, Ins, Jump};
use super::codegen::{CodeGen, Comp, Scope};
use super::{CompileError, fold};
use crate::vm::code::{BinOp, CmpOp, Op};
use crate::vm::value::Value;

/// CPython's `STACK_USE_GUIDELINE`: beyond it, calls and displays build their containers
/// one item at a time.
const STACK_USE_GUIDELINE: usize = 30;

impl CodeGen<'_, '_> {
    /// `compiler_add_yield_from`: the loop that drives a sub-iterator (`yield from`) or an
    /// awaitable (`await`): `SEND` to the exit once it returns, else yield what it yielded and
    /// send the next value in.
    pub(super) fn yield_from(&mut self, is_await: bool) {
        let (start, exit) = (self.cfg.new_block(), self.cfg.new_block());
        self.cfg.use_block(start);
        self.jump(Jump::Send, exit);
        self.emit(Op::YieldValue);
        self.emit(if is_await {
            Op::ResumeAfterAwait
        } else {
            Op::ResumeAfterYieldFrom
        });
        self.jump(Jump::NoInterrupt, start);
        self.cfg.use_block(exit);
    }

    /// `compiler_dict`: runs of `key: value` pairs become maps (`compiler_subdict`), merged
    /// with each `**mapping` by `DICT_UPDATE`.
    fn dict_display(&mut self, items: &[ast::DictItem]) -> Result<(), CompileError> {
        let (mut have_dict, mut elements) = (false, 0usize);
        for (i, item) in items.iter().enumerate() {
            if item.key.is_none() {
                if elements > 0 {
                    self.subdict(&items[i - elements..i])?;
                    if have_dict {
                        self.emit(Op::DictUpdate(1));
                    }
                    have_dict = true;
                    elements = 0;
                }
                if !have_dict {
                    self.emit(Op::BuildMap(0));
                    have_dict = true;
                }
                self.expr(&item.value)?;
                self.emit(Op::DictUpdate(1));
            } else if elements * 2 > STACK_USE_GUIDELINE {
                self.subdict(&items[i - elements..=i])?;
                if have_dict {
                    self.emit(Op::DictUpdate(1));
                }
                have_dict = true;
                elements = 0;
            } else {
                elements += 1;
            }
        }
        if elements > 0 {
            self.subdict(&items[items.len() - elements..])?;
            if have_dict {
                self.emit(Op::DictUpdate(1));
            }
            have_dict = true;
        }
        if !have_dict {
            self.emit(Op::BuildMap(0));
        }
        Ok(())
    }

    /// `compiler_subdict`: one map of `key: value` pairs (constant keys: `BUILD_CONST_KEY_MAP`;
    /// too many for the stack: built one `MAP_ADD` at a time).
    fn subdict(&mut self, items: &[ast::DictItem]) -> Result<(), CompileError> {
        let n = items.len();
        let big = n * 2 > STACK_USE_GUIDELINE;
        let keys: Vec<&Expr> = items.iter().filter_map(|i| i.key.as_ref()).collect();
        if n > 1
            && !big
            && let Some(kt) = fold::constant_tuple(&keys)
        {
            for item in items {
                self.expr(&item.value)?;
            }
            self.emit_const(kt);
            self.emit(Op::BuildConstKeyMap(n as u32));
            return Ok(());
        }
        if big {
            self.emit(Op::BuildMap(0));
        }
        for item in items {
            if let Some(k) = &item.key {
                self.expr(k)?;
            }
            self.expr(&item.value)?;
            if big {
                self.emit(Op::MapAdd(1));
            }
        }
        if !big {
            self.emit(Op::BuildMap(n as u32));
        }
        Ok(())
    }

    // ---- conditions ----

    /// `compiler_jump_if`: jump to `next` when `e` is `cond`, without building a bool.
    pub(super) fn jump_if(
        &mut self,
        e: &Expr,
        next: cfg::BlockId,
        cond: bool,
    ) -> Result<(), CompileError> {
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
                let saved = self.loc();
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
                self.comparand(&c.comparators[n], c.ops[n], true)?;
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
                self.restore_loc(saved);
                return Ok(());
            }
            _ => {}
        }
        self.expr(e)?;
        let saved = self.loc();
        self.set_loc(e);
        self.jump(if cond { Jump::IfTrue } else { Jump::IfFalse }, next);
        self.restore_loc(saved);
        Ok(())
    }

    pub(super) fn compare_op(&mut self, op: ast::CmpOp) {
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

    pub(super) fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        let saved = self.loc();
        self.set_loc(e);
        if let Expr::Generator(g) = e
            && !g.parenthesized
        {
            // A call's only argument: CPython's node takes the call's parentheses.
            self.span = self.ctx.widened_to_parens(g.start(), g.end());
        }
        let r = self.expr_inner(e);
        self.restore_loc(saved);
        r
    }

    pub(super) fn expr_inner(&mut self, e: &Expr) -> Result<(), CompileError> {
        if let Some(v) = fold::constant(e) {
            self.emit_const(v);
            return Ok(());
        }
        match e {
            Expr::Name(n) => self.load_name(n.id.as_str(), false),
            // `optimize_format`: `'%s: %r' % (a, b)` is compiled as the f-string it means.
            Expr::BinOp(b) if let Some(parts) = percent_as_fstring(b) => {
                self.joined_str(&parts)?;
            }
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
                    self.comparand(&c.comparators[0], c.ops[0], true)?;
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
                    self.comparand(&c.comparators[n], c.ops[n], true)?;
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
            Expr::Dict(d) => self.dict_display(&d.items)?,
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
            Expr::Lambda(l) => {
                let parent = self.parent("<lambda>");
                let code = self.ctx.lambda(l, &parent)?;
                self.make_closure(l.parameters.as_deref(), None, code)?;
            }
            Expr::ListComp(x) => self.comprehension(e, Comp::List, &x.generators, &x.elt, None)?,
            Expr::DictComp(x) => {
                let Some(key) = x.key.as_deref() else {
                    return Err(self
                        .ctx
                        .error(x, "dict unpacking cannot be used in dict comprehension"));
                };
                self.comprehension(e, Comp::Dict, &x.generators, key, Some(&x.value))?;
            }
            Expr::SetComp(x) => self.comprehension(e, Comp::Set, &x.generators, &x.elt, None)?,
            Expr::Generator(x) => {
                self.comprehension(e, Comp::Generator, &x.generators, &x.elt, None)?;
            }
            Expr::Await(x) => {
                match self.scope {
                    Scope::Function(info) if info.coroutine => {}
                    Scope::Function(_) => {
                        return Err(self.ctx.error(x, "'await' outside async function"));
                    }
                    Scope::Module | Scope::Class(_) => {
                        return Err(self.ctx.error(x, "'await' outside function"));
                    }
                }
                self.expr(&x.value)?;
                self.await_awaitable(0);
            }
            Expr::Yield(y) => {
                if matches!(self.scope, Scope::Module) {
                    return Err(self.ctx.error(y, "'yield' outside function"));
                }
                let async_gen = matches!(self.scope, Scope::Function(info) if info.coroutine);
                match &y.value {
                    Some(v) => self.expr(v)?,
                    None => self.emit_const(Value::None),
                }
                if async_gen {
                    self.emit(Op::AsyncGenWrap);
                }
                self.emit(Op::YieldValue);
                self.emit(Op::ResumeAfterYield);
            }
            Expr::YieldFrom(x) => {
                match self.scope {
                    Scope::Module | Scope::Class(_) => {
                        return Err(self.ctx.error(x, "'yield' outside function"));
                    }
                    Scope::Function(info) if info.coroutine => {
                        return Err(self.ctx.error(x, "'yield from' inside async function"));
                    }
                    Scope::Function(_) => {}
                }
                self.expr(&x.value)?;
                self.emit(Op::GetYieldFromIter);
                self.emit_const(Value::None);
                self.yield_from(false);
            }
            Expr::Named(x) => {
                self.expr(&x.value)?;
                self.emit(Op::Copy(1));
                self.store_target(&x.target)?;
            }
            Expr::Set(x) => self.set_display(&x.elts)?,
            Expr::FString(x) => {
                let mut parts = Vec::new();
                for part in x.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => push_literal(&mut parts, &l.value),
                        ast::FStringPart::FString(f) => joined_parts(&f.elements, &mut parts),
                    }
                }
                self.joined_str(&parts)?;
            }
            Expr::TString(x) => return Err(self.ctx.unsupported(x, "a t-string")),
            Expr::Starred(x) => return Err(self.ctx.unsupported(x, "a starred expression")),
            Expr::EllipsisLiteral(x) => return Err(self.ctx.unsupported(x, "Ellipsis")),
            Expr::NumberLiteral(x) => return Err(self.ctx.unsupported(x, "this number literal")),
            other => return Err(self.ctx.unsupported(other, "this expression")),
        }
        Ok(())
    }

    /// `compiler_comprehension` in the enclosing code: the inner function made, called on the
    /// outermost iterable's iterator.
    fn comprehension(
        &mut self,
        e: &Expr,
        kind: Comp,
        gens: &[ast::Comprehension],
        elt: &Expr,
        val: Option<&Expr>,
    ) -> Result<(), CompileError> {
        if let Some(g) = gens.iter().find(|g| g.is_async) {
            return Err(self.ctx.unsupported(g, "an async comprehension"));
        }
        let name = match kind {
            Comp::List => "<listcomp>",
            Comp::Set => "<setcomp>",
            Comp::Dict => "<dictcomp>",
            Comp::Generator => "<genexpr>",
        };
        let parent = self.parent(name);
        let code = self.ctx.comprehension(e, kind, gens, elt, val, &parent)?;
        self.make_closure(None, None, code)?;
        self.expr_iter(&gens[0].iter)?;
        self.emit(Op::GetIter);
        self.emit(Op::Precall(0));
        self.emit(Op::Call(0));
        Ok(())
    }

    /// `compiler_sync_comprehension_generator`: loop `index` of a comprehension (inside its
    /// own code object), `depth` loops deep, the element added after the last.
    pub(super) fn comprehension_generator(
        &mut self,
        gens: &[ast::Comprehension],
        index: usize,
        mut depth: u32,
        elt: &Expr,
        val: Option<&Expr>,
        kind: Comp,
    ) -> Result<(), CompileError> {
        let (start, if_cleanup, anchor) = (
            self.cfg.new_block(),
            self.cfg.new_block(),
            self.cfg.new_block(),
        );
        let g = &gens[index];
        let mut looped = true;
        if index == 0 {
            // The outermost iterator arrives as the argument `.0`.
            self.emit(Op::LoadFast(0));
        } else {
            // `for y in [f(x)]` binds without a loop.
            let one = match &g.iter {
                Expr::List(l) => &l.elts[..],
                Expr::Tuple(t) => &t.elts[..],
                _ => &[],
            };
            if let [only] = one
                && !matches!(only, Expr::Starred(_))
            {
                self.expr(only)?;
                looped = false;
            } else {
                self.expr_iter(&g.iter)?;
                self.emit(Op::GetIter);
            }
        }
        if looped {
            depth += 1;
            self.cfg.use_block(start);
            self.jump(Jump::ForIter, anchor);
            let body = self.cfg.new_block();
            self.cfg.use_block(body);
        }
        // `VISIT(c, expr, gen->target)` puts the location back afterwards: what follows (the
        // append of a comprehension written over several lines) is on the comprehension's line.
        let saved = self.loc();
        self.store_target(&g.target)?;
        self.restore_loc(saved);
        for cond in &g.ifs {
            self.jump_if(cond, if_cleanup, false)?;
        }
        if index + 1 < gens.len() {
            self.comprehension_generator(gens, index + 1, depth, elt, val, kind)?;
        } else {
            self.expr(elt)?;
            match (kind, val) {
                (Comp::Dict, Some(v)) => {
                    self.expr(v)?;
                    self.emit(Op::MapAdd(depth + 1));
                }
                (Comp::Generator, _) => {
                    self.emit(Op::YieldValue);
                    self.emit(Op::ResumeAfterYield);
                    self.emit(Op::PopTop);
                }
                (Comp::Set, _) => self.emit(Op::SetAdd(depth + 1)),
                _ => self.emit(Op::ListAppend(depth + 1)),
            }
        }
        self.cfg.use_block(if_cleanup);
        if looped {
            self.jump(Jump::Always, start);
            self.cfg.use_block(anchor);
        }
        Ok(())
    }

    /// `compiler_joined_str`: each part, then `BUILD_STRING` unless there is exactly one; past
    /// `STACK_USE_GUIDELINE` parts, `''.join([...])` built part by part.
    fn joined_str(&mut self, parts: &[JoinedPart<'_>]) -> Result<(), CompileError> {
        let big = parts.len() > STACK_USE_GUIDELINE;
        if big {
            self.emit_const(Value::str(""));
            let k = self.name_index("join");
            self.emit(Op::LoadMethod(k));
            self.emit(Op::BuildList(0));
        }
        // 3.11 places a replacement field's FORMAT_VALUE at the whole f-string.
        let whole = self.span;
        for p in parts {
            self.joined_part(p, whole)?;
            if big {
                self.emit(Op::ListAppend(1));
            }
        }
        if big {
            self.emit(Op::Precall(1));
            self.emit(Op::Call(1));
        } else if parts.len() != 1 {
            self.emit(Op::BuildString(parts.len() as u32));
        }
        Ok(())
    }

    /// One part of an f-string: its text, or its value formatted (`compiler_formatted_value`).
    fn joined_part(
        &mut self,
        p: &JoinedPart<'_>,
        whole: Option<(u32, u32)>,
    ) -> Result<(), CompileError> {
        match p {
            JoinedPart::Literal(s) => self.emit_const(Value::str(s)),
            // The constants `optimize_format` makes have no location: they take the line
            // of the instruction before them.
            JoinedPart::PercentLiteral(s) => {
                let k = self.add_const(Value::str(s));
                self.cfg.push(Ins::Op(Op::LoadConst(k)), None);
            }
            JoinedPart::Percent {
                arg,
                conversion,
                spec,
            } => {
                self.expr(arg)?;
                let mut flags = *conversion;
                if let Some(spec) = spec {
                    let k = self.add_const(Value::str(spec));
                    self.cfg.push(Ins::Op(Op::LoadConst(k)), None);
                    flags |= 4;
                }
                self.set_loc(*arg);
                self.emit(Op::FormatValue(flags));
            }
            JoinedPart::Formatted(f) => {
                // `compiler_formatted_value`: the value, then the spec, then FORMAT_VALUE.
                self.expr(&f.expression)?;
                let mut flags = match f.conversion {
                    ast::ConversionFlag::None
                        if f.debug_text.is_some() && f.format_spec.is_none() =>
                    {
                        2
                    }
                    ast::ConversionFlag::None => 0,
                    ast::ConversionFlag::Str => 1,
                    ast::ConversionFlag::Repr => 2,
                    ast::ConversionFlag::Ascii => 3,
                };
                if let Some(spec) = &f.format_spec {
                    let mut inner = Vec::new();
                    joined_parts(&spec.elements, &mut inner);
                    self.joined_str(&inner)?;
                    flags |= 4;
                }
                self.set_loc(&**f);
                self.span = whole;
                self.emit(Op::FormatValue(flags));
            }
        }
        Ok(())
    }

    pub(super) fn subscript_key(&mut self, key: &Expr) -> Result<(), CompileError> {
        self.expr(key)
    }

    pub(super) fn sequence(&mut self, elts: &[Expr], list: bool) -> Result<(), CompileError> {
        self.starunpack(elts, 0, !list)
    }

    /// A set display: `BUILD_SET`, or (three constants or more) `SET_UPDATE` of a frozenset.
    fn set_display(&mut self, elts: &[Expr]) -> Result<(), CompileError> {
        let n = elts.len();
        let refs: Vec<&Expr> = elts.iter().collect();
        if n > 2
            && let Some(Value::Tuple(t)) = fold::constant_tuple(&refs)
        {
            let frozen = self.frozenset_const(&t, &elts[0])?;
            self.emit(Op::BuildSet(0));
            self.emit_const(frozen);
            self.emit(Op::SetUpdate(1));
            return Ok(());
        }
        let big = n > STACK_USE_GUIDELINE;
        if !big && !elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            for e in elts {
                self.expr(e)?;
            }
            self.emit(Op::BuildSet(n as u32));
            return Ok(());
        }
        let mut built = false;
        if big {
            self.emit(Op::BuildSet(0));
            built = true;
        }
        for (i, e) in elts.iter().enumerate() {
            if let Expr::Starred(s) = e {
                if !built {
                    self.emit(Op::BuildSet(i as u32));
                    built = true;
                }
                self.expr(&s.value)?;
                self.emit(Op::SetUpdate(1));
            } else {
                self.expr(e)?;
                if built {
                    self.emit(Op::SetAdd(1));
                }
            }
        }
        Ok(())
    }

    /// `starunpack_helper`: a tuple (`tuple`) or a list of `pushed` items already on the stack
    /// and then `elts`, starred ones unpacked.
    pub(super) fn starunpack(
        &mut self,
        elts: &[Expr],
        pushed: usize,
        tuple: bool,
    ) -> Result<(), CompileError> {
        let n = elts.len();
        let refs: Vec<&Expr> = elts.iter().collect();
        if n > 2
            && let Some(t) = fold::constant_tuple(&refs)
        {
            if tuple && pushed == 0 {
                self.emit_const(t);
            } else {
                self.emit(Op::BuildList(pushed as u32));
                self.emit_const(t);
                self.emit(Op::ListExtend(1));
                if tuple {
                    self.emit(Op::ListToTuple);
                }
            }
            return Ok(());
        }
        let big = n + pushed > STACK_USE_GUIDELINE;
        let seen_star = elts.iter().any(|e| matches!(e, Expr::Starred(_)));
        if !seen_star && !big {
            for e in elts {
                self.expr(e)?;
            }
            let k = (n + pushed) as u32;
            self.emit(if tuple {
                Op::BuildTuple(k)
            } else {
                Op::BuildList(k)
            });
            return Ok(());
        }
        let mut built = false;
        if big {
            self.emit(Op::BuildList(pushed as u32));
            built = true;
        }
        for (i, e) in elts.iter().enumerate() {
            if let Expr::Starred(s) = e {
                if !built {
                    self.emit(Op::BuildList((i + pushed) as u32));
                    built = true;
                }
                self.expr(&s.value)?;
                self.emit(Op::ListExtend(1));
            } else {
                self.expr(e)?;
                if built {
                    self.emit(Op::ListAppend(1));
                }
            }
        }
        if tuple {
            self.emit(Op::ListToTuple);
        }
        Ok(())
    }

    /// `compiler_call`: a method call (`maybe_optimize_method_call`) where it may be one, else
    /// the callable with a NULL below it, then the arguments by `call_helper`.
    pub(super) fn call(&mut self, c: &ast::ExprCall) -> Result<(), CompileError> {
        let args = &c.arguments.args[..];
        let keywords = &c.arguments.keywords[..];
        let simple = !args.iter().any(|a| matches!(a, Expr::Starred(_)))
            && keywords.iter().all(|k| k.arg.is_some());
        let n_args = args.len() + keywords.len();
        match &*c.func {
            Expr::Attribute(a)
                if !self.is_import_originated(&a.value)
                    && simple
                    && n_args + usize::from(!keywords.is_empty()) < STACK_USE_GUIDELINE =>
            {
                self.expr(&a.value)?;
                // `update_start_location_to_match_attr`: a method on a later line than its
                // object is placed at the method's name.
                let attr_line = self.ctx.line(a.end());
                let start = if self.ctx.line(a.start()) == attr_line {
                    a.start()
                } else {
                    a.attr.start()
                };
                self.set_loc_range(start, a.end());
                let k = self.name_index(a.attr.id.as_str());
                self.emit(Op::LoadMethod(k));
                for arg in args {
                    self.expr(arg)?;
                }
                self.keyword_values(keywords)?;
                // The call, too, is placed at the method's name when that is on a later line.
                let call_start = if self.ctx.line(c.start()) == attr_line {
                    c.start()
                } else {
                    a.attr.start()
                };
                self.set_loc_range(call_start, c.end());
                self.emit(Op::Precall(n_args as u32));
                self.emit(Op::Call(n_args as u32));
                return Ok(());
            }
            Expr::Name(name) => {
                self.set_loc(&*c.func);
                self.load_name(name.id.as_str(), true);
            }
            other => {
                self.set_loc(other);
                self.emit(Op::PushNull);
                self.set_loc(c);
                self.expr(other)?;
            }
        }
        self.set_loc(c);
        self.call_helper(0, args, keywords)
    }

    /// `compiler_call_helper`: the arguments of a call whose callable (and `pushed` arguments)
    /// are on the stack; `CALL` with `KW_NAMES` where it can, else `CALL_FUNCTION_EX`.
    pub(super) fn call_helper(
        &mut self,
        pushed: usize,
        args: &[Expr],
        keywords: &[ast::Keyword],
    ) -> Result<(), CompileError> {
        let mut seen = std::collections::HashSet::new();
        for k in keywords {
            if let Some(name) = &k.arg
                && !seen.insert(name.id.as_str())
            {
                return Err(self
                    .ctx
                    .error(k, format!("keyword argument repeated: {}", name.id)));
            }
        }
        let simple = args.len() + keywords.len() * 2 <= STACK_USE_GUIDELINE
            && !args.iter().any(|a| matches!(a, Expr::Starred(_)))
            && keywords.iter().all(|k| k.arg.is_some());
        if simple {
            for arg in args {
                self.expr(arg)?;
            }
            self.keyword_values(keywords)?;
            let n = (pushed + args.len() + keywords.len()) as u32;
            self.emit(Op::Precall(n));
            self.emit(Op::Call(n));
            return Ok(());
        }
        match args {
            [Expr::Starred(s)] if pushed == 0 => self.expr(&s.value)?,
            _ => self.starunpack(args, pushed, true)?,
        }
        if !keywords.is_empty() {
            let mut have_dict = false;
            let mut seen = 0;
            for (i, kw) in keywords.iter().enumerate() {
                if kw.arg.is_some() {
                    seen += 1;
                    continue;
                }
                if seen > 0 {
                    self.subkwargs(&keywords[i - seen..i])?;
                    if have_dict {
                        self.emit(Op::DictMerge(1));
                    }
                    have_dict = true;
                    seen = 0;
                }
                if !have_dict {
                    self.emit(Op::BuildMap(0));
                    have_dict = true;
                }
                self.expr(&kw.value)?;
                self.emit(Op::DictMerge(1));
            }
            if seen > 0 {
                self.subkwargs(&keywords[keywords.len() - seen..])?;
                if have_dict {
                    self.emit(Op::DictMerge(1));
                }
            }
        }
        self.emit(Op::CallFunctionEx(u32::from(!keywords.is_empty())));
        Ok(())
    }

    /// The values of plain keyword arguments, then `KW_NAMES` with their names
    /// (`compiler_call_simple_kw_helper`).
    fn keyword_values(&mut self, keywords: &[ast::Keyword]) -> Result<(), CompileError> {
        if keywords.is_empty() {
            return Ok(());
        }
        let mut names = Vec::with_capacity(keywords.len());
        for k in keywords {
            self.expr(&k.value)?;
            names.push(Value::str(k.arg.as_ref().map_or("", |a| a.id.as_str())));
        }
        let k = self.add_const(Value::Tuple(names.into()));
        self.emit(Op::KwNames(k));
        Ok(())
    }

    /// `compiler_subkwargs`: a dict of the plain keyword arguments `keywords`.
    fn subkwargs(&mut self, keywords: &[ast::Keyword]) -> Result<(), CompileError> {
        let n = keywords.len();
        let big = n * 2 > STACK_USE_GUIDELINE;
        let name = |k: &ast::Keyword| Value::str(k.arg.as_ref().map_or("", |a| a.id.as_str()));
        if n > 1 && !big {
            for k in keywords {
                self.expr(&k.value)?;
            }
            let keys: Vec<Value> = keywords.iter().map(name).collect();
            self.emit_const(Value::Tuple(keys.into()));
            self.emit(Op::BuildConstKeyMap(n as u32));
            return Ok(());
        }
        if big {
            self.cfg.push(Ins::Op(Op::BuildMap(0)), None);
        }
        for k in keywords {
            self.emit_const(name(k));
            self.expr(&k.value)?;
            if big {
                self.cfg.push(Ins::Op(Op::MapAdd(1)), None);
            }
        }
        if !big {
            self.emit(Op::BuildMap(n as u32));
        }
        Ok(())
    }

    /// Whether `e` is a name bound by a module-level import (CPython then uses `LOAD_ATTR`, not
    /// `LOAD_METHOD`, for `e.f(...)`).
    pub(super) fn is_import_originated(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.imported.contains(n.id.as_str()) && !self.is_local(n.id.as_str()))
    }
}

/// One value of an f-string as CPython 3.11's parser joins it: adjacent literals merged.
enum JoinedPart<'a> {
    Literal(String),
    Formatted(&'a ast::InterpolatedElement),
    /// The text between the units of a `%`-format made an f-string.
    PercentLiteral(String),
    /// A `%s`, `%r` or `%a` unit of a `%`-format made an f-string: the argument, the
    /// conversion (1, 2, 3) and the spec its width and precision make.
    Percent {
        arg: &'a Expr,
        conversion: u32,
        spec: Option<String>,
    },
}

/// `optimize_format` (`Python/ast_opt.c`, 3.11): `STR % (a, b)`, with a constant string, a
/// tuple display without `*` and only `%s`, `%r`, `%a` units (flags, width and precision
/// allowed) whose count is the tuple's, is the f-string `f'{a!s}{b!r}'` with the literals
/// between (`%%` as `%`). `None` for anything else, compiled as a `%` operation.
fn percent_as_fstring(b: &ast::ExprBinOp) -> Option<Vec<JoinedPart<'_>>> {
    if b.op != ast::Operator::Mod {
        return None;
    }
    let (Some(Value::Str(fmt)), Expr::Tuple(t)) = (fold::constant(&b.left), &*b.right) else {
        return None;
    };
    if t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) || fold::constant(&b.right).is_some() {
        return None;
    }
    let chars: Vec<char> = fmt.chars().collect();
    let mut parts = Vec::new();
    let (mut pos, mut used) = (0, 0);
    loop {
        // `parse_literal`: up to the next lone `%`.
        let start = pos;
        let mut literal = String::new();
        while pos < chars.len() {
            if chars[pos] != '%' {
                literal.push(chars[pos]);
                pos += 1;
            } else if chars.get(pos + 1) == Some(&'%') {
                literal.push('%');
                pos += 2;
            } else {
                break;
            }
        }
        if pos > start {
            parts.push(JoinedPart::PercentLiteral(literal));
        }
        if pos >= chars.len() {
            break;
        }
        // More units than items: left to the `%` operation (and its TypeError).
        let arg = t.elts.get(used)?;
        pos += 1;
        // `simple_format_arg_parse`: flags, width, precision, then the conversion.
        let mut next = || -> Option<char> {
            let c = chars.get(pos).copied();
            pos += 1;
            c
        };
        let mut ljust = false;
        let mut ch = next();
        while let Some(c @ ('-' | '+' | ' ' | '#' | '0')) = ch {
            ljust |= c == '-';
            ch = next();
        }
        let mut width: Option<u64> = None;
        while let Some(d) = ch.and_then(|c| c.to_digit(10)) {
            width = Some(
                width
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            ch = next();
        }
        let mut prec: Option<u64> = None;
        if ch == Some('.') {
            ch = next();
            prec = Some(0);
            while let Some(d) = ch.and_then(|c| c.to_digit(10)) {
                prec = Some(
                    prec.unwrap_or(0)
                        .checked_mul(10)?
                        .checked_add(u64::from(d))?,
                );
                ch = next();
            }
        }
        let conversion = match ch {
            Some('s') => 1,
            Some('r') => 2,
            Some('a') => 3,
            _ => return None, // any other unit, or the string ends
        };
        let mut spec = String::new();
        if !ljust && width.is_some_and(|w| w > 0) {
            spec.push('>');
        }
        if let Some(w) = width {
            spec.push_str(&w.to_string());
        }
        if let Some(p) = prec {
            spec.push_str(&format!(".{p}"));
        }
        parts.push(JoinedPart::Percent {
            arg,
            conversion,
            spec: (!spec.is_empty()).then_some(spec),
        });
        used += 1;
    }
    (used == t.elts.len()).then_some(parts)
}

fn push_literal(parts: &mut Vec<JoinedPart<'_>>, s: &str) {
    if s.is_empty() {
        return;
    }
    match parts.last_mut() {
        Some(JoinedPart::Literal(l)) => l.push_str(s),
        _ => parts.push(JoinedPart::Literal(s.to_owned())),
    }
}

/// The parts of one f-string's elements; `{x=}` adds its text `x=` as a literal.
fn joined_parts<'a>(
    elements: &'a ast::InterpolatedStringElements,
    parts: &mut Vec<JoinedPart<'a>>,
) {
    for e in elements.iter() {
        match e {
            ast::InterpolatedStringElement::Literal(l) => push_literal(parts, &l.value),
            ast::InterpolatedStringElement::Interpolation(f) => {
                if let Some(d) = &f.debug_text {
                    push_literal(
                        parts,
                        &format!("{}{}{}", d.leading(), d.expression(), d.trailing()),
                    );
                }
                parts.push(JoinedPart::Formatted(f));
            }
        }
    }
}

pub(super) fn binop(op: ast::Operator) -> BinOp {
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
