//! Dynamically typed values of the interpreter, including NumPy-like 2-D float arrays and views.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ndarray::{Array2, ArrayView2, s};

use super::VmError;
use super::code::Code;

/// A built-in (native) function the programs call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `range(stop)` / `range(start, stop)`.
    Range,
    /// `numpy.zeros((n, m))`.
    Zeros,
    /// Reports a finished problem (its grid) to the host.
    Done,
    /// Reports a finished iteration (its grid) to the host.
    Tick,
    /// A blocking receive that releases the GIL (the io kernel).
    Recv,
}

/// A Python slice `start:stop` (step 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceObj {
    /// Start, or `None` for the beginning.
    pub start: Option<i64>,
    /// Stop, or `None` for the end.
    pub stop: Option<i64>,
}

impl SliceObj {
    /// The half-open index range this slice selects in a sequence of `len` items.
    pub fn resolve(&self, len: usize) -> (usize, usize) {
        let n = len as i64;
        let fix = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
        let a = self.start.map_or(0, fix);
        let b = self.stop.map_or(n, fix);
        (a as usize, b.max(a) as usize)
    }
}

/// A 2-D float array or a rectangular view into one, like a NumPy `ndarray` of float64.
#[derive(Debug)]
pub struct ArrayObj {
    /// The shared buffer.
    pub base: Rc<RefCell<Array2<f64>>>,
    /// Rows `[r0, r1)` of the base.
    pub rows: (usize, usize),
    /// Columns `[c0, c1)` of the base.
    pub cols: (usize, usize),
}

impl ArrayObj {
    /// Wraps a freshly computed array (a NumPy temporary).
    pub fn owned(a: Array2<f64>) -> Self {
        let (r, c) = a.dim();
        Self {
            base: Rc::new(RefCell::new(a)),
            rows: (0, r),
            cols: (0, c),
        }
    }

    /// The view's shape.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows.1 - self.rows.0, self.cols.1 - self.cols.0)
    }

    /// Runs `f` on a read-only view of the selected cells.
    pub fn with_view<R>(&self, f: impl FnOnce(ArrayView2<'_, f64>) -> R) -> R {
        let b = self.base.borrow();
        f(b.slice(s![self.rows.0..self.rows.1, self.cols.0..self.cols.1]))
    }

    #[inline(always)]
    fn index(&self, i: i64, j: i64) -> Result<(usize, usize), VmError> {
        let (n, m) = self.shape();
        let fix = |v: i64, len: usize| -> Option<usize> {
            let v = if v < 0 { v + len as i64 } else { v };
            (0..len as i64).contains(&v).then_some(v as usize)
        };
        match (fix(i, n), fix(j, m)) {
            (Some(a), Some(b)) => Ok((self.rows.0 + a, self.cols.0 + b)),
            _ => Err(VmError::Index(format!(
                "index ({i}, {j}) is out of bounds for shape ({n}, {m})"
            ))),
        }
    }

    /// `a[i, j]`.
    #[inline]
    pub fn get(&self, i: i64, j: i64) -> Result<f64, VmError> {
        let (a, b) = self.index(i, j)?;
        Ok(self.base.borrow()[[a, b]])
    }

    /// `a[i, j] = v`.
    #[inline]
    pub fn set(&self, i: i64, j: i64, v: f64) -> Result<(), VmError> {
        let (a, b) = self.index(i, j)?;
        self.base.borrow_mut()[[a, b]] = v;
        Ok(())
    }

    /// `a[rows, cols]` for two slices: a view sharing the buffer.
    pub fn slice(&self, rs: &SliceObj, cs: &SliceObj) -> ArrayObj {
        let (n, m) = self.shape();
        let (r0, r1) = rs.resolve(n);
        let (c0, c1) = cs.resolve(m);
        ArrayObj {
            base: Rc::clone(&self.base),
            rows: (self.rows.0 + r0, self.rows.0 + r1),
            cols: (self.cols.0 + c0, self.cols.0 + c1),
        }
    }

    /// `a[i]`: row `i` as a 1×m view.
    pub fn row(&self, i: i64) -> Result<ArrayObj, VmError> {
        let (r, _) = self.index(i, 0)?;
        Ok(ArrayObj {
            base: Rc::clone(&self.base),
            rows: (r, r + 1),
            cols: self.cols,
        })
    }

    /// `a[...] = v` for a scalar: fills the view.
    pub fn fill(&self, v: f64) {
        let mut b = self.base.borrow_mut();
        b.slice_mut(s![self.rows.0..self.rows.1, self.cols.0..self.cols.1])
            .fill(v);
    }

    /// `a[...] = other`: copies an array of the same shape into the view.
    pub fn assign(&self, other: &ArrayObj) -> Result<(), VmError> {
        if self.shape() != other.shape() {
            return Err(VmError::Type(format!(
                "could not broadcast shape {:?} into {:?}",
                other.shape(),
                self.shape()
            )));
        }
        let src = other.with_view(|v| v.to_owned());
        let mut b = self.base.borrow_mut();
        b.slice_mut(s![self.rows.0..self.rows.1, self.cols.0..self.cols.1])
            .assign(&src);
        Ok(())
    }

    /// Sum of all cells in row-major order (the order `numpy.sum` uses for small arrays).
    pub fn sum(&self) -> f64 {
        self.with_view(|v| v.iter().sum())
    }
}

/// Iteration state over a tuple.
#[derive(Debug)]
pub struct TupleIter {
    /// The items.
    pub items: Rc<[Value]>,
    /// Next position.
    pub pos: Cell<usize>,
}

/// A value on the interpreter's stack.
#[derive(Clone, Debug)]
pub enum Value {
    /// The NULL CPython pushes below a callable.
    Null,
    /// `None`.
    None,
    /// A small int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A 2-tuple of ints, the index `(i, j)`; kept unboxed as CPython's tuple free list would.
    IntPair(i64, i64),
    /// Any other tuple.
    Tuple(Rc<[Value]>),
    /// A slice object.
    Slice(Rc<SliceObj>),
    /// An array or view.
    Array(Rc<ArrayObj>),
    /// A `range` iterator.
    RangeIter {
        /// Next value.
        next: i64,
        /// Exclusive end.
        stop: i64,
    },
    /// A tuple iterator.
    TupleIter(Rc<TupleIter>),
    /// An interpreted function.
    Function(Rc<Code>),
    /// A native function.
    Builtin(Builtin),
}

impl Value {
    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::None => "NoneType",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::IntPair(..) | Value::Tuple(_) => "tuple",
            Value::Slice(_) => "slice",
            Value::Array(_) => "numpy.ndarray",
            Value::RangeIter { .. } => "range_iterator",
            Value::TupleIter(_) => "tuple_iterator",
            Value::Function(_) => "function",
            Value::Builtin(_) => "builtin_function_or_method",
        }
    }

    /// The value as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as an int, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A tuple of floats, as `array_split` hands each worker its boundary values.
    pub fn float_tuple(items: &[f64]) -> Value {
        Value::Tuple(items.iter().map(|&f| Value::Float(f)).collect())
    }
}
