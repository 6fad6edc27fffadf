//! Constant folding as CPython 3.11's AST optimizer does it (`-1`, `2*3`, `1/3`, tuples of
//! constants), and the keys that make equal constants share one `co_consts` slot.

use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Number};

use crate::vm::code::BinOp;
use crate::vm::value::Value;

/// CPython's limit on folded strings and tuples.
const MAX_FOLDED_LEN: usize = 4096;

/// The constant an expression folds to, if it does.
pub fn constant(e: &Expr) -> Option<Value> {
    match e {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().map(Value::Int),
            Number::Float(f) => Some(Value::Float(*f)),
            Number::Complex { .. } => None,
        },
        Expr::StringLiteral(s) => Some(Value::str(s.value.to_str())),
        Expr::BytesLiteral(b) => {
            let bytes: Vec<u8> = b.value.bytes().collect();
            Some(Value::Bytes(Arc::from(bytes)))
        }
        Expr::BooleanLiteral(b) => Some(Value::Bool(b.value)),
        Expr::NoneLiteral(_) => Some(Value::None),
        Expr::EllipsisLiteral(_) => Some(Value::Ellipsis),
        Expr::Tuple(t) => constant_tuple(&t.elts.iter().collect::<Vec<_>>()),
        Expr::UnaryOp(u) => {
            let v = constant(&u.operand)?;
            match u.op {
                ast::UnaryOp::Not => v.truthy().ok().map(|b| Value::Bool(!b)),
                ast::UnaryOp::USub => match v {
                    Value::Float(f) => Some(Value::Float(-f)),
                    // `0 - v`: an int of any size (`-(2 ** 63)` is a 64-bit int again).
                    Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => {
                        crate::vm::fold_binary(BinOp::SUB, &Value::Int(0), &v)
                    }
                    _ => None,
                },
                ast::UnaryOp::UAdd => match v {
                    Value::Float(_) | Value::Int(_) => Some(v),
                    Value::Bool(b) => Some(Value::Int(i64::from(b))),
                    _ => None,
                },
                // `~v` is `-1 - v`.
                ast::UnaryOp::Invert => match v {
                    Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => {
                        crate::vm::fold_binary(BinOp::SUB, &Value::Int(-1), &v)
                    }
                    _ => None,
                },
            }
        }
        Expr::BinOp(b) => {
            let (l, r) = (constant(&b.left)?, constant(&b.right)?);
            fold_binop(b.op, &l, &r)
        }
        // `fold_subscr`: a constant indexed by a constant, where that succeeds.
        Expr::Subscript(s) => {
            let (v, i) = (constant(&s.value)?, constant(&s.slice)?);
            match (&v, &i) {
                (Value::Str(_) | Value::Bytes(_) | Value::Tuple(_), Value::Int(_)) => {
                    crate::vm::fold_subscript(&v, &i)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A tuple constant, when every item is constant.
pub fn constant_tuple(items: &[&Expr]) -> Option<Value> {
    let vals: Option<Vec<Value>> = items.iter().map(|e| constant(e)).collect();
    Some(Value::Tuple(vals?.into()))
}

/// Whether a statement expression is a constant (compiled to a `NOP`).
pub fn is_literal(e: &Expr) -> bool {
    constant(e).is_some()
}

fn fold_binop(op: ast::Operator, l: &Value, r: &Value) -> Option<Value> {
    use ast::Operator as O;
    let is_num = |v: &Value| {
        matches!(
            v,
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_)
        )
    };
    if is_num(l) && is_num(r) {
        let bop = match op {
            O::Add => BinOp::ADD,
            O::Sub => BinOp::SUB,
            O::Mult => BinOp::MUL,
            O::Div => BinOp::TRUE_DIV,
            O::FloorDiv => BinOp::FLOOR_DIV,
            O::Mod => BinOp::MOD,
            O::Pow => BinOp::POW,
            O::LShift => BinOp::LSHIFT,
            O::RShift => BinOp::RSHIFT,
            O::BitAnd => BinOp::AND,
            O::BitOr => BinOp::OR,
            O::BitXor => BinOp::XOR,
            O::MatMult => return None,
        };
        if int_result_too_big(bop, l, r) {
            return None;
        }
        let either_float = matches!(l, Value::Float(_)) || matches!(r, Value::Float(_));
        if either_float
            && matches!(
                bop,
                BinOp::AND | BinOp::OR | BinOp::XOR | BinOp::LSHIFT | BinOp::RSHIFT
            )
        {
            return None;
        }
        return crate::vm::fold_binary(bop, l, r);
    }
    match (op, l, r) {
        (O::Add, Value::Str(a), Value::Str(b)) if a.len() + b.len() <= MAX_FOLDED_LEN => {
            Some(Value::Str(Arc::from(format!("{a}{b}"))))
        }
        (O::Mult, Value::Str(s), n) | (O::Mult, n, Value::Str(s)) => {
            let k = usize::try_from(n.as_i64()?).ok()?;
            (s.len() * k <= MAX_FOLDED_LEN).then(|| Value::Str(Arc::from(s.repeat(k))))
        }
        (O::Add, Value::Bytes(a), Value::Bytes(b)) if a.len() + b.len() <= MAX_FOLDED_LEN => {
            Some(Value::Bytes([&a[..], &b[..]].concat().into()))
        }
        (O::Mult, Value::Bytes(s), n) | (O::Mult, n, Value::Bytes(s)) => {
            let k = usize::try_from(n.as_i64()?).ok()?;
            (s.len() * k <= MAX_FOLDED_LEN).then(|| Value::Bytes(s.repeat(k).into()))
        }
        (O::Add, Value::Tuple(a), Value::Tuple(b)) if a.len() + b.len() <= MAX_FOLDED_LEN => {
            Some(Value::Tuple(a.iter().chain(b.iter()).cloned().collect()))
        }
        _ => None,
    }
}

/// CPython's `MAX_INT_SIZE`: the optimizer folds no int operation whose result may pass
/// this many bits.
const MAX_INT_BITS: u64 = 128;

/// The bits of an int constant's magnitude (`_PyLong_NumBits`), `None` for other values.
fn int_bits(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => Some(u64::from(64 - i.unsigned_abs().leading_zeros())),
        Value::Bool(b) => Some(u64::from(*b)),
        Value::BigInt(b) => Some(b.bits()),
        _ => None,
    }
}

/// `safe_multiply`, `safe_power` and `safe_lshift` of `ast_opt.c`: an int result that could
/// pass [`MAX_INT_BITS`] is left to run time (`2 ** 101` is not folded, and
/// `10 ** 3010000` is never computed by the compiler).
fn int_result_too_big(op: BinOp, l: &Value, r: &Value) -> bool {
    let (Some(lb), Some(rb)) = (int_bits(l), int_bits(r)) else {
        return false;
    };
    if lb == 0 || rb == 0 {
        return false;
    }
    let negative = |v: &Value| match v {
        Value::Int(i) => *i < 0,
        Value::BigInt(b) => b.sign() == num_bigint::Sign::Minus,
        _ => false,
    };
    // The exponent or shift as a size: one too large for a machine word is too large.
    let amount = |v: &Value| match v {
        Value::Int(i) => u64::try_from(*i).unwrap_or(u64::MAX),
        Value::Bool(b) => u64::from(*b),
        _ => u64::MAX,
    };
    match op {
        BinOp::MUL => lb + rb > MAX_INT_BITS,
        BinOp::POW if !negative(r) => lb > MAX_INT_BITS / amount(r).max(1),
        BinOp::LSHIFT if !negative(r) => {
            let shift = amount(r);
            shift > MAX_INT_BITS || lb > MAX_INT_BITS - shift
        }
        _ => false,
    }
}

/// A key under which equal constants share a slot: type and value (so `1`, `1.0` and `True`
/// stay apart, as in CPython).
pub fn const_key(v: &Value) -> String {
    match v {
        Value::None => "N".to_owned(),
        Value::Bool(b) => format!("b{b}"),
        Value::Int(i) => format!("i{i}"),
        Value::Float(f) => format!("f{:x}", f.to_bits()),
        Value::Str(s) => format!("s{s}"),
        Value::Bytes(b) => format!("y{b:?}"),
        Value::Tuple(t) => {
            let inner: Vec<String> = t.iter().map(const_key).collect();
            format!("t({})", inner.join(","))
        }
        Value::Code(c) => format!("c{:p}", Arc::as_ptr(c)),
        Value::Set(s) => {
            let mut inner: Vec<String> = s.items().iter().map(const_key).collect();
            inner.sort();
            format!("F({})", inner.join(","))
        }
        other => format!("?{}", other.repr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::compile;

    /// Every constant of a code object and of the code objects under it.
    fn constants(code: &crate::vm::code::Code, out: &mut Vec<Value>) {
        for c in &code.consts {
            if let Value::Code(inner) = c {
                constants(inner, out);
            }
            out.push(c.clone());
        }
    }

    #[test]
    fn huge_int_results_are_left_to_run_time_as_cpython_leaves_them() {
        // Found by fuzzing the compiler: folding `10 ** 3010000` took it over ten seconds.
        let src = "a = 10 ** 3010000\nb = 7 << 100000\nc = 3 ** 81 * 3 ** 81\nd = 2 ** 101\ne = -(2 ** 63)\n";
        let module = compile(src, "big.py").unwrap();
        let mut all = Vec::new();
        constants(&module.code, &mut all);
        for v in &all {
            assert!(
                int_bits(v).is_none_or(|b| b <= MAX_INT_BITS),
                "folded {}",
                v.repr()
            );
        }
        // What fits is still folded: -(2 ** 63) is one constant.
        assert!(all.iter().any(|v| matches!(v, Value::Int(i64::MIN))));
    }
}
