//! An annotation as the string `from __future__ import annotations` stores (CPython's
//! `Python/ast_unparse.c`): names, attributes, subscripts, `|` unions, constants, calls,
//! tuples and lists, with its spacing and parentheses; a rarer expression keeps its source text.

use ruff_python_ast::{self as ast, Expr, Number, Operator};
use ruff_text_size::Ranged;

use crate::vm::value::Value;

/// `ast_unparse.c`'s precedence levels, lowest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Tuple,
    Test,
    Or,
    And,
    Not,
    Cmp,
    BitOr,
    BitXor,
    BitAnd,
    Shift,
    Arith,
    Term,
    Factor,
    Power,
    Atom,
}

impl Prec {
    /// The next level up.
    fn up(self) -> Prec {
        use Prec::*;
        match self {
            Tuple => Test,
            Test => Or,
            Or => And,
            And => Not,
            Not => Cmp,
            Cmp => BitOr,
            BitOr => BitXor,
            BitXor => BitAnd,
            BitAnd => Shift,
            Shift => Arith,
            Arith => Term,
            Term => Factor,
            Factor => Power,
            Power | Atom => Atom,
        }
    }
}

/// The text of annotation `e` (whose source is `source`), as `ast.unparse` would give it.
pub(super) fn annotation(e: &Expr, source: &str) -> String {
    let mut out = String::new();
    if write(e, Prec::Test, source, &mut out).is_none() {
        out = source
            .get(e.start().to_usize()..e.end().to_usize())
            .unwrap_or_default()
            .to_owned();
    }
    out
}

/// The operator's text and precedence.
fn operator(op: Operator) -> (&'static str, Prec) {
    match op {
        Operator::Add => (" + ", Prec::Arith),
        Operator::Sub => (" - ", Prec::Arith),
        Operator::Mult => (" * ", Prec::Term),
        Operator::MatMult => (" @ ", Prec::Term),
        Operator::Div => (" / ", Prec::Term),
        Operator::Mod => (" % ", Prec::Term),
        Operator::FloorDiv => (" // ", Prec::Term),
        Operator::Pow => (" ** ", Prec::Power),
        Operator::LShift => (" << ", Prec::Shift),
        Operator::RShift => (" >> ", Prec::Shift),
        Operator::BitOr => (" | ", Prec::BitOr),
        Operator::BitXor => (" ^ ", Prec::BitXor),
        Operator::BitAnd => (" & ", Prec::BitAnd),
    }
}

/// Writes `items` separated by `, `.
fn list(items: &[Expr], source: &str, out: &mut String) -> Option<()> {
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        write(item, Prec::Test, source, out)?;
    }
    Some(())
}

/// Writes `e` at precedence `level` (parenthesized when its own is lower); `None` for an
/// expression this does not render.
fn write(e: &Expr, level: Prec, source: &str, out: &mut String) -> Option<()> {
    match e {
        Expr::Name(n) => out.push_str(n.id.as_str()),
        Expr::NoneLiteral(_) => out.push_str("None"),
        Expr::BooleanLiteral(b) => out.push_str(if b.value { "True" } else { "False" }),
        Expr::EllipsisLiteral(_) => out.push_str("..."),
        Expr::StringLiteral(s) => out.push_str(&Value::str(s.value.to_str()).repr()),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => out.push_str(&i.to_string()),
            Number::Float(f) => out.push_str(&Value::Float(*f).repr()),
            Number::Complex { .. } => return None,
        },
        Expr::Attribute(a) => {
            write(&a.value, Prec::Atom, source, out)?;
            out.push('.');
            out.push_str(a.attr.id.as_str());
        }
        Expr::Subscript(s) => {
            write(&s.value, Prec::Atom, source, out)?;
            out.push('[');
            match &*s.slice {
                Expr::Tuple(t) if !t.elts.is_empty() => {
                    list(&t.elts, source, out)?;
                    if t.elts.len() == 1 {
                        out.push(',');
                    }
                }
                other => write(other, Prec::Tuple, source, out)?,
            }
            out.push(']');
        }
        Expr::BinOp(b) => {
            let (text, prec) = operator(b.op);
            let paren = level > prec;
            // `**` binds to the right, the others to the left.
            let (left, right) = if prec == Prec::Power {
                (prec.up(), prec)
            } else {
                (prec, prec.up())
            };
            if paren {
                out.push('(');
            }
            write(&b.left, left, source, out)?;
            out.push_str(text);
            write(&b.right, right, source, out)?;
            if paren {
                out.push(')');
            }
        }
        Expr::UnaryOp(u) => {
            let (text, prec) = match u.op {
                ast::UnaryOp::Not => ("not ", Prec::Not),
                ast::UnaryOp::Invert => ("~", Prec::Factor),
                ast::UnaryOp::USub => ("-", Prec::Factor),
                ast::UnaryOp::UAdd => ("+", Prec::Factor),
            };
            let paren = level > prec;
            if paren {
                out.push('(');
            }
            out.push_str(text);
            write(&u.operand, prec, source, out)?;
            if paren {
                out.push(')');
            }
        }
        Expr::Tuple(t) => {
            let paren = level > Prec::Tuple || t.elts.is_empty();
            if paren {
                out.push('(');
            }
            list(&t.elts, source, out)?;
            if t.elts.len() == 1 {
                out.push(',');
            }
            if paren {
                out.push(')');
            }
        }
        Expr::List(l) => {
            out.push('[');
            list(&l.elts, source, out)?;
            out.push(']');
        }
        Expr::Call(c) => {
            write(&c.func, Prec::Atom, source, out)?;
            out.push('(');
            let mut first = true;
            for a in c.arguments.args.iter() {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                write(a, Prec::Test, source, out)?;
            }
            for k in c.arguments.keywords.iter() {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                match &k.arg {
                    Some(name) => {
                        out.push_str(name.id.as_str());
                        out.push('=');
                    }
                    None => out.push_str("**"),
                }
                write(&k.value, Prec::Test, source, out)?;
            }
            out.push(')');
        }
        Expr::Starred(s) => {
            out.push('*');
            write(&s.value, Prec::BitOr, source, out)?;
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unparse(src: &str) -> String {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let ruff_python_ast::Stmt::Expr(e) = &parsed.syntax().body[0] else {
            panic!("not an expression: {src}");
        };
        annotation(&e.value, src)
    }

    #[test]
    fn annotations_read_as_ast_unparse_writes_them() {
        // What python3.11 -c 'import ast; print(ast.unparse(ast.parse(SRC)))' prints.
        for (src, want) in [
            ("dict[str,int]", "dict[str, int]"),
            ("list[ dict [str , int] ]", "list[dict[str, int]]"),
            ("C|None", "C | None"),
            ("'C'", "'C'"),
            ("\"it's\"", "\"it's\""),
            ("Optional[str]", "Optional[str]"),
            ("tuple[int, ...]", "tuple[int, ...]"),
            ("tuple[()]", "tuple[()]"),
            ("tuple[int,]", "tuple[int,]"),
            ("1+2*3", "1 + 2 * 3"),
            ("(1+2)*3", "(1 + 2) * 3"),
            ("2**-1", "2 ** (-1)"),
            ("a.b.c[d]", "a.b.c[d]"),
            ("Callable[[int, str], None]", "Callable[[int, str], None]"),
            ("f(x, k=1, *a, **kw)", "f(x, *a, k=1, **kw)"),
            ("0x10", "16"),
            ("1.5e3", "1500.0"),
        ] {
            assert_eq!(unparse(src), want, "{src}");
        }
    }
}
