//! NumPy's scalar objects (`numpy.float64`), modelled as the work NumPy really does: reading
//! `u[i, j]` from an ndarray makes a new heap object with its own reference count, and
//! arithmetic on one looks the operation up in its type's number table, converts the other
//! operand, and allocates a new object for the result. Python floats and ints never get here.

use super::VmError;
use super::code::BinOp;
use super::object::Obj;
use super::ops;
use super::value::Value;

/// A scalar type's number methods (`tp_as_number` of `numpy.float64`).
pub struct NpScalarType {
    /// The type's name.
    pub name: &'static str,
    /// `nb_add`, `nb_subtract`, `nb_multiply`, `nb_true_divide` on the unboxed values.
    pub number: [fn(f64, f64) -> f64; 4],
}

impl std::fmt::Debug for NpScalarType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// `numpy.float64`: IEEE double arithmetic, division by zero gives inf or nan as in NumPy.
pub static FLOAT64: NpScalarType = NpScalarType {
    name: "numpy.float64",
    number: [|a, b| a + b, |a, b| a - b, |a, b| a * b, |a, b| a / b],
};

/// One NumPy scalar object.
#[derive(Debug)]
pub struct NpScalar {
    /// Its value.
    pub value: f64,
    /// Its type, through which its arithmetic is dispatched.
    pub ty: &'static NpScalarType,
}

/// A new `numpy.float64` object (`PyArrayScalar_New`): one allocation.
#[inline]
pub fn float64(value: f64) -> Value {
    Value::NpFloat(Obj::new(NpScalar {
        value,
        ty: &FLOAT64,
    }))
}

/// `a op b` for `+ - * /` where either side is a NumPy scalar and the other a number (the
/// interpreter's fast path); `None` for anything else, which [`binary`] handles.
#[inline(always)]
pub fn arith(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    let number = |v: &Value| match v {
        Value::NpFloat(s) => Some(s.value),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    let ty = match (a, b) {
        (Value::NpFloat(s), _) | (_, Value::NpFloat(s)) => s.ty,
        _ => return None,
    };
    let k = number_slot(op)?;
    Some(float64((ty.number[k])(number(a)?, number(b)?)))
}

/// The index in [`NpScalarType::number`] of `+ - * /`; `None` for the other operators.
#[inline(always)]
fn number_slot(op: BinOp) -> Option<usize> {
    match op {
        BinOp::ADD => Some(0),
        BinOp::SUB => Some(1),
        BinOp::MUL => Some(2),
        BinOp::TRUE_DIV => Some(3),
        _ => None,
    }
}

/// `a op b` where either side is a NumPy scalar.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, VmError> {
    let op = op.base();
    let ty = match (a, b) {
        (Value::NpFloat(s), _) | (_, Value::NpFloat(s)) => s.ty,
        _ => return ops::binary(op, a, b),
    };
    // The other operand is converted to the scalar's type, as NumPy's scalar math does.
    let convert = |v: &Value| -> Result<f64, VmError> {
        match v {
            Value::NpFloat(s) => Ok(s.value),
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            Value::Bool(b) => Ok(f64::from(u8::from(*b))),
            other => Err(VmError::type_error(format!(
                "unsupported operand type(s) for {}: '{}' and '{}'",
                op.symbol(),
                a.type_name(),
                other.type_name()
            ))),
        }
    };
    let (x, y) = (convert(a)?, convert(b)?);
    match number_slot(op) {
        Some(k) => Ok(float64((ty.number[k])(x, y))),
        // The rest (//, %, **) with Python float semantics, the result boxed again.
        None => match ops::binary(op, &Value::Float(x), &Value::Float(y))? {
            Value::Float(r) => Ok(float64(r)),
            other => Ok(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_math_boxes_every_result_and_matches_float_math() {
        let a = float64(1.5);
        let r = binary(BinOp::MUL, &a, &Value::Float(0.01)).unwrap();
        let Value::NpFloat(s) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(s.value, 1.5 * 0.01);
        assert_eq!(s.refcount(), 1);
        let q = binary(BinOp::TRUE_DIV, &r, &Value::Int(0)).unwrap();
        assert_eq!(
            q.as_f64(),
            Some(f64::INFINITY),
            "NumPy divides by zero to inf"
        );
        assert!(binary(BinOp::ADD, &a, &Value::str("x")).is_err());
        // The fast path gives what the general one gives, and leaves the rest to it.
        for op in [BinOp::ADD, BinOp::SUB, BinOp::MUL, BinOp::TRUE_DIV] {
            let fast = arith(op, &a, &Value::Float(0.25)).unwrap();
            assert_eq!(
                fast.as_f64(),
                binary(op, &a, &Value::Float(0.25)).unwrap().as_f64()
            );
        }
        assert!(arith(BinOp::POW, &a, &a).is_none());
        assert!(arith(BinOp::ADD, &a, &Value::str("x")).is_none());
        assert!(arith(BinOp::ADD, &Value::Float(1.0), &Value::Float(2.0)).is_none());
        assert_eq!(r.type_name(), "numpy.float64");
    }
}
