//! Class statements as CPython 3.11's `compiler_class` compiles them: the body as a code object
//! that fills the class namespace (`__module__`, `__qualname__`, `__doc__`, the methods, and
//! `__classcell__` when a method uses `super()`), called by `__build_class__` with the bases.

use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::codegen::{CodeGen, Parent};
use super::{CompileError, Ctx, fold};
use crate::vm::code::{Code, Op};
use crate::vm::value::Value;

impl Ctx<'_> {
    /// The class body's code object.
    fn class_body(
        &self,
        c: &ast::StmtClassDef,
        parent: &Parent<'_>,
    ) -> Result<Arc<Code>, CompileError> {
        // A decorated class's code starts at its first decorator, as a function's does.
        let firstlineno = self.line(c.start());
        let mut cg = self.scoped(c, c.name.id.as_str(), firstlineno, None, parent)?;
        cg.set_line(Some(firstlineno));
        cg.emit(Op::Resume);
        cg.load_name("__name__", false);
        cg.store_name("__module__");
        let qualname = cg.qualname.clone();
        cg.emit_const(Value::str(&qualname));
        cg.store_name("__qualname__");
        let body = &c.body[..];
        if super::module::find_ann(body) {
            cg.emit(Op::SetupAnnotations);
        }
        let rest = match body.first() {
            Some(Stmt::Expr(e)) if matches!(&*e.value, Expr::StringLiteral(_)) => {
                cg.set_loc(&*e.value);
                cg.emit_const(fold::constant(&e.value).unwrap_or(Value::None));
                cg.set_line(None);
                cg.store_name("__doc__");
                &body[1..]
            }
            _ => body,
        };
        for s in rest {
            cg.stmt(s)?;
        }
        cg.set_line(None);
        if cg.derefs.first().is_some_and(|d| d == "__class__") {
            // The cell every `super()` of the methods reads, handed to `__build_class__`.
            let k = cg.deref_index("__class__");
            cg.emit(Op::LoadClosure(k));
            cg.emit(Op::Copy(1));
            cg.store_name("__classcell__");
        } else {
            cg.emit_const(Value::None);
        }
        cg.emit(Op::ReturnValue);
        Ok(Arc::new(cg.finish(false)))
    }
}

impl CodeGen<'_, '_> {
    /// `class Name(bases, **keywords): body`, decorated: `__build_class__(func, 'Name', *bases)`
    /// stored under its name.
    pub(super) fn class_def(&mut self, c: &ast::StmtClassDef) -> Result<(), CompileError> {
        if c.type_params.is_some() {
            return Err(self.ctx.unsupported(c, "a generic class"));
        }
        let saved = self.loc();
        for d in &c.decorator_list {
            self.expr(&d.expression)?;
        }
        let name = c.name.id.as_str();
        let parent = self.parent(name);
        let code = self.ctx.class_body(c, &parent)?;
        let class_line = Some(self.ctx.line(c.name.start()));
        self.set_line(class_line);
        self.emit(Op::PushNull);
        self.emit(Op::LoadBuildClass);
        self.make_closure(None, None, code)?;
        self.set_line(class_line);
        self.emit_const(Value::str(name));
        let (args, keywords) = match &c.arguments {
            Some(a) => (&a.args[..], &a.keywords[..]),
            None => (&[][..], &[][..]),
        };
        self.call_helper(2, args, keywords)?;
        for d in c.decorator_list.iter().rev() {
            self.set_loc(&d.expression);
            self.emit(Op::Precall(0));
            self.emit(Op::Call(0));
        }
        self.set_line(class_line);
        self.store_name(name);
        self.restore_loc(saved);
        Ok(())
    }
}
