//! Python's unbounded ints: a value that leaves the 64-bit range becomes a `num-bigint`
//! integer, and comes back to the small form as soon as it fits again, so the fast paths keep
//! their `i64`. Arithmetic, comparison, hashing and formatting follow `Objects/longobject.c`.

use std::cmp::Ordering;
use std::sync::Arc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

use super::VmError;
use super::code::BinOp;
use super::value::Value;

/// The int `b`, small when it fits.
pub fn int_value(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Arc::new(b)),
    }
}

/// The value as an unbounded int, if it is an int (or a bool).
pub fn as_big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Bool(b) => Some(BigInt::from(i64::from(*b))),
        Value::BigInt(b) => Some((**b).clone()),
        _ => None,
    }
}

/// `float(b)`, or CPython's `OverflowError` for an int too large for a float.
pub fn to_float(b: &BigInt) -> Result<f64, VmError> {
    match b.to_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(VmError::py(
            "OverflowError",
            "int too large to convert to float",
        )),
    }
}

fn zero_division() -> VmError {
    VmError::py("ZeroDivisionError", "integer division or modulo by zero")
}

/// `x op y` for ints of any size.
pub fn binary(op: BinOp, x: &BigInt, y: &BigInt) -> Result<Value, VmError> {
    Ok(match op.base() {
        BinOp::ADD => int_value(x + y),
        BinOp::SUB => int_value(x - y),
        BinOp::MUL => int_value(x * y),
        BinOp::FLOOR_DIV => {
            if y.is_zero() {
                return Err(zero_division());
            }
            int_value(x.div_floor(y))
        }
        BinOp::MOD => {
            if y.is_zero() {
                return Err(zero_division());
            }
            int_value(x.mod_floor(y))
        }
        BinOp::TRUE_DIV => {
            if y.is_zero() {
                return Err(VmError::py("ZeroDivisionError", "division by zero"));
            }
            Value::Float(to_float(x)? / to_float(y)?)
        }
        BinOp::POW => {
            if y.is_negative() {
                return Ok(Value::Float(to_float(x)?.powf(to_float(y)?)));
            }
            let e = y.to_u32().ok_or_else(|| {
                VmError::py(
                    "MemoryError",
                    "an exponent this large does not fit in memory",
                )
            })?;
            if x.bits().saturating_mul(u64::from(e)) > 64 * 1024 * 1024 {
                return Err(VmError::py(
                    "MemoryError",
                    "the result would take more than 8 MiB",
                ));
            }
            int_value(num_traits::pow(x.clone(), e as usize))
        }
        BinOp::AND => int_value(x & y),
        BinOp::OR => int_value(x | y),
        BinOp::XOR => int_value(x ^ y),
        BinOp::LSHIFT | BinOp::RSHIFT => {
            if y.is_negative() {
                return Err(VmError::py("ValueError", "negative shift count"));
            }
            let n = y
                .to_usize()
                .ok_or_else(|| VmError::py("OverflowError", "too many digits in integer"))?;
            if op.base() == BinOp::RSHIFT {
                int_value(x >> n)
            } else {
                if x.bits().saturating_add(n as u64) > 64 * 1024 * 1024 {
                    return Err(VmError::py(
                        "MemoryError",
                        "the result would take more than 8 MiB",
                    ));
                }
                int_value(x << n)
            }
        }
        other => {
            return Err(VmError::type_error(format!(
                "unsupported operand type(s) for {}: 'int' and 'int'",
                other.symbol()
            )));
        }
    })
}

/// Orders two ints of any size.
pub fn cmp(x: &BigInt, y: &BigInt) -> Ordering {
    x.cmp(y)
}

/// `hash(b)`: the value modulo 2**61 - 1, signed, -1 made -2.
pub fn hash(b: &BigInt) -> i64 {
    let m = BigInt::from((1u64 << 61) - 1);
    let r = b.abs().mod_floor(&m).to_i64().unwrap_or(0);
    let h = if b.is_negative() { -r } else { r };
    if h == -1 { -2 } else { h }
}
