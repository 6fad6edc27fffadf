//! The small builtins of `Python/bltinmodule.c` that teaching code calls: `chr`, `ord`, `hex`,
//! `oct`, `bin`, `divmod`, `pow`, `id`, `format`, `callable` and `issubclass`.

use super::code::BinOp;
use super::value::{Builtin, Value};
use super::{VmError, ops};

/// Whether `b` is one of these builtins.
pub fn is_small(b: Builtin) -> bool {
    matches!(
        b,
        Builtin::Chr
            | Builtin::Ord
            | Builtin::Hex
            | Builtin::Oct
            | Builtin::Bin
            | Builtin::Divmod
            | Builtin::Pow
            | Builtin::Id
            | Builtin::Format
            | Builtin::Callable
            | Builtin::Issubclass
    )
}

fn exactly(b: Builtin, args: &[Value], lo: usize, hi: usize) -> Result<(), VmError> {
    if (lo..=hi).contains(&args.len()) {
        return Ok(());
    }
    Err(VmError::type_error(if lo == hi && lo == 1 {
        format!(
            "{}() takes exactly one argument ({} given)",
            b.name(),
            args.len()
        )
    } else if lo == hi {
        format!("{} expected {lo} arguments, got {}", b.name(), args.len())
    } else {
        format!(
            "{} expected at most {hi} arguments, got {}",
            b.name(),
            args.len()
        )
    }))
}

fn int_of(v: &Value) -> Result<i64, VmError> {
    v.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            v.type_name()
        ))
    })
}

/// Calls one of these builtins.
pub fn call(b: Builtin, args: &[Value]) -> Result<Value, VmError> {
    match b {
        Builtin::Chr => {
            exactly(b, args, 1, 1)?;
            let i = int_of(&args[0])?;
            u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .map(|c| Value::str(&c.to_string()))
                .ok_or_else(|| VmError::py("ValueError", "chr() arg not in range(0x110000)"))
        }
        Builtin::Ord => {
            exactly(b, args, 1, 1)?;
            match &args[0] {
                Value::Str(s) => {
                    let mut cs = s.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => Ok(Value::Int(i64::from(u32::from(c)))),
                        _ => Err(VmError::type_error(format!(
                            "ord() expected a character, but string of length {} found",
                            s.chars().count()
                        ))),
                    }
                }
                other => Err(VmError::type_error(format!(
                    "ord() expected string of length 1, but {} found",
                    other.type_name()
                ))),
            }
        }
        Builtin::Hex | Builtin::Oct | Builtin::Bin => {
            exactly(b, args, 1, 1)?;
            if !matches!(args[0], Value::Int(_) | Value::Bool(_) | Value::BigInt(_)) {
                return Err(VmError::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    args[0].type_name()
                )));
            }
            let spec = match b {
                Builtin::Hex => "#x",
                Builtin::Oct => "#o",
                _ => "#b",
            };
            Ok(Value::str(&super::format::format_value(&args[0], spec)?))
        }
        Builtin::Divmod => {
            exactly(b, args, 2, 2)?;
            let q = ops::binary(BinOp::FLOOR_DIV, &args[0], &args[1])?;
            let r = ops::binary(BinOp::MOD, &args[0], &args[1])?;
            Ok(Value::Tuple(std::sync::Arc::from([q, r])))
        }
        Builtin::Pow => {
            exactly(b, args, 2, 3)?;
            match args.get(2) {
                None | Some(Value::None) => ops::binary(BinOp::POW, &args[0], &args[1]),
                Some(m) => {
                    let (x, e, m) = (
                        super::bigint::as_big(&args[0]),
                        super::bigint::as_big(&args[1]),
                        super::bigint::as_big(m),
                    );
                    match (x, e, m) {
                        (Some(x), Some(e), Some(m)) if e.sign() != num_bigint::Sign::Minus => {
                            if m == num_bigint::BigInt::from(0) {
                                return Err(VmError::py(
                                    "ValueError",
                                    "pow() 3rd argument cannot be 0",
                                ));
                            }
                            let r = x.modpow(&e, &m);
                            let r = if r.sign() != m.sign() && r != num_bigint::BigInt::from(0) {
                                r + &m
                            } else {
                                r
                            };
                            Ok(super::bigint::int_value(r))
                        }
                        _ => Err(VmError::type_error(
                            "pow() 3rd argument not allowed unless all arguments are integers",
                        )),
                    }
                }
            }
        }
        Builtin::Id => {
            exactly(b, args, 1, 1)?;
            // Values held inline (small ints, floats, None) have no heap address here: their
            // identity is their value, so equal ones share an id, as CPython's cached ones do.
            let id = match args[0].heap_addr() {
                Some(a) => a as i64 & 0x7fff_ffff_ffff,
                None => super::set::py_hash(&args[0])?,
            };
            Ok(Value::Int(id))
        }
        Builtin::Format => {
            exactly(b, args, 1, 2)?;
            let spec = match args.get(1) {
                None => String::new(),
                Some(Value::Str(s)) => s.to_string(),
                Some(other) => {
                    return Err(VmError::type_error(format!(
                        "format() argument 2 must be str, not {}",
                        other.type_name()
                    )));
                }
            };
            Ok(Value::str(&super::format::format_value(&args[0], &spec)?))
        }
        Builtin::Callable => {
            exactly(b, args, 1, 1)?;
            Ok(Value::Bool(match &args[0] {
                Value::Function(_)
                | Value::Builtin(_)
                | Value::Method(_)
                | Value::Class(_)
                | Value::Wrapper(_) => true,
                Value::Instance(i) => i.class.user_method("__call__").is_some(),
                _ => false,
            }))
        }
        Builtin::Issubclass => {
            exactly(b, args, 2, 2)?;
            let Value::Class(c) = &args[0] else {
                return Err(VmError::type_error("issubclass() arg 1 must be a class"));
            };
            let of: Vec<Value> = match &args[1] {
                Value::Tuple(t) => t.to_vec(),
                v => vec![v.clone()],
            };
            for o in of {
                match o {
                    Value::Class(k) if c.is_subclass_of(&k) => return Ok(Value::Bool(true)),
                    Value::Class(_) => {}
                    Value::Builtin(Builtin::Object) => return Ok(Value::Bool(true)),
                    // The built-in types (`int`, `str`…): a program's class derives from none.
                    Value::Builtin(b) if b.is_type() => {}
                    _ => {
                        return Err(VmError::type_error(
                            "issubclass() arg 2 must be a class, a tuple of classes, or a union",
                        ));
                    }
                }
            }
            Ok(Value::Bool(false))
        }
        other => Err(VmError::py(
            "SystemError",
            format!("{} is not a small builtin", other.name()),
        )),
    }
}
