//! The NumPy subset the programs use: `zeros`, `dot`, `random.rand`, `linspace`, `array_split`,
//! `ndarray.sum`, slicing views and whole-array arithmetic. Each operation releases the GIL
//! exactly where NumPy 2.x does, by the rule written beside it:
//!
//! - loops (ufuncs, assignments, reductions) over more than 500 elements
//!   (`NPY_BEGIN_THREADS_THRESHOLDED`); smaller ones keep the GIL;
//! - `zeros` of at least 1024 bytes, whose `calloc` runs with the GIL released
//!   (`npy_alloc_cache_zero`); smaller ones come from NumPy's cache under the GIL;
//! - `dot` (BLAS) and `random.rand` (`with lock, nogil`) always.

use std::sync::atomic::{AtomicU64, Ordering};

use super::code::BinOp;
use super::object::Obj;
use super::value::{ArrayObj, Builtin, SliceObj, Value};
use super::{Host, Vm, VmError};

fn shape_mismatch(a: (usize, usize), b: (usize, usize)) -> VmError {
    VmError::py(
        "ValueError",
        format!(
            "operands could not be broadcast together with shapes ({},{}) ({},{})",
            a.0, a.1, b.0, b.1
        ),
    )
}

#[inline(always)]
fn load(c: &AtomicU64) -> f64 {
    f64::from_bits(c.load(Ordering::Relaxed))
}

#[inline(always)]
fn apply(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::ADD => x + y,
        BinOp::SUB => x - y,
        BinOp::MUL => x * y,
        BinOp::TRUE_DIV => x / y,
        BinOp::POW => x.powf(y),
        BinOp::FLOOR_DIV => (x / y).floor(),
        _ => {
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
    }
}

/// `NPY_BEGIN_THREADS_THRESHOLDED`: a loop over more than this many elements drops the GIL.
pub const LOOP_RELEASE_ABOVE_ELEMENTS: usize = 500;
/// `NBUCKETS`: zeroed allocations of at least this many bytes are made with the GIL released.
pub const ZEROS_RELEASE_FROM_BYTES: usize = 1024;

/// Whether NumPy runs a loop over `elements` without the GIL.
pub fn loop_releases_gil(elements: usize) -> bool {
    elements > LOOP_RELEASE_ABOVE_ELEMENTS
}

/// Whether `numpy.zeros` of `bytes` releases the GIL around its allocation.
pub fn zeros_releases_gil(bytes: usize) -> bool {
    bytes >= ZEROS_RELEASE_FROM_BYTES
}

/// `a op b` where at least one side is an array (a ufunc loop: released above 500 elements).
pub fn binary<H: Host>(
    vm: &mut Vm<'_, H>,
    op: BinOp,
    a: &Value,
    b: &Value,
) -> Result<Value, VmError> {
    let op = op.base();
    if let (BinOp::MATMUL, Value::Array(x), Value::Array(y)) = (op, a, b) {
        return dot(vm, x, y);
    }
    if !matches!(
        op,
        BinOp::ADD
            | BinOp::SUB
            | BinOp::MUL
            | BinOp::TRUE_DIV
            | BinOp::POW
            | BinOp::FLOOR_DIV
            | BinOp::MOD
    ) {
        return Err(VmError::type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        )));
    }
    let out = match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            if x.shape() != y.shape() {
                return Err(shape_mismatch(x.shape(), y.shape()));
            }
            let (n, m) = x.shape();
            let mut out = vm.gil_released_if(loop_releases_gil(n * m), || {
                ArrayObj::from_rows(n, m, |i, out| {
                    let (xr, yr) = (x.row_cells(i), y.row_cells(i));
                    for ((o, a), b) in out.iter_mut().zip(xr).zip(yr) {
                        *o = apply(op, load(a), load(b));
                    }
                })
            })?;
            out.ndim = x.ndim.max(y.ndim);
            out
        }
        (Value::Array(x), s) | (s, Value::Array(x)) => {
            let Some(s) = s.as_f64() else {
                return Err(VmError::type_error(format!(
                    "unsupported operand type(s) for {}: '{}' and '{}'",
                    op.symbol(),
                    a.type_name(),
                    b.type_name()
                )));
            };
            let left = matches!(a, Value::Array(_));
            let (n, m) = x.shape();
            let mut out = vm.gil_released_if(loop_releases_gil(n * m), || {
                ArrayObj::from_fn(n, m, |i, j| {
                    let e = x.at(i, j);
                    if left {
                        apply(op, e, s)
                    } else {
                        apply(op, s, e)
                    }
                })
            })?;
            out.ndim = x.ndim;
            out
        }
        _ => return Err(VmError::type_error("array operation without an array")),
    };
    Ok(Value::Array(Obj::new(out)))
}

/// `numpy.dot(x, y)` (and `x @ y`): a matrix product with the GIL released (BLAS), where a
/// 1-D operand is a vector: the product of two is a float64, of a matrix and a vector 1-D.
fn dot<H: Host>(vm: &mut Vm<'_, H>, x: &ArrayObj, y: &ArrayObj) -> Result<Value, VmError> {
    let (xs, ys) = (x.shape(), y.shape());
    // As matrices: a 1-D left operand is a row, a 1-D right operand a column.
    let yt = if y.ndim == 1 { (ys.1, 1) } else { ys };
    if xs.1 != yt.0 {
        let show = |a: &ArrayObj| {
            let (n, m) = a.shape();
            if a.ndim == 1 {
                format!("({m},)")
            } else {
                format!("({n},{m})")
            }
        };
        return Err(VmError::py(
            "ValueError",
            format!(
                "shapes {} and {} not aligned: {} (dim {}) != {} (dim 0)",
                show(x),
                show(y),
                xs.1,
                x.ndim - 1,
                yt.0
            ),
        ));
    }
    let p = vm.without_gil(|| {
        let ym = y.to_ndarray();
        let ym = if y.ndim == 1 { ym.reversed_axes() } else { ym };
        x.to_ndarray().dot(&ym)
    })?;
    let (n, m) = p.dim();
    Ok(match (x.ndim, y.ndim) {
        (1, 1) => super::npscalar::float64(p[[0, 0]]),
        (_, 1) => {
            let mut a = ArrayObj::from_fn(1, n, |_, j| p[[j, 0]]);
            a.ndim = 1;
            Value::Array(Obj::new(a))
        }
        (1, _) => {
            let mut a = ArrayObj::from_fn(1, m, |_, j| p[[0, j]]);
            a.ndim = 1;
            Value::Array(Obj::new(a))
        }
        _ => Value::Array(Obj::new(ArrayObj::from_fn(n, m, |i, j| p[[i, j]]))),
    })
}

/// `arr[key]` (a cell, a row, or a view).
pub fn subscript(a: &ArrayObj, key: &Value) -> Result<Value, VmError> {
    // A constant index (`a[0, 0]`) is a tuple constant, not the pair BUILD_TUPLE makes.
    if let Value::Tuple(t) = key
        && let [Value::Int(i), Value::Int(j)] = &t[..]
    {
        return subscript(a, &Value::IntPair(*i, *j));
    }
    let all = SliceObj {
        start: None,
        stop: None,
        step: None,
    };
    let contiguous = |s: &SliceObj| {
        if s.is_contiguous() {
            Ok(())
        } else {
            Err(unsupported_index(key))
        }
    };
    match key {
        Value::Slice(rs) => contiguous(rs)?,
        Value::Tuple(t) => {
            for s in t.iter() {
                if let Value::Slice(s) = s {
                    contiguous(s)?;
                }
            }
        }
        _ => {}
    }
    if a.ndim == 1 {
        let m = a.shape().1;
        return match key {
            Value::Int(j) => {
                let k = if *j < 0 { j + m as i64 } else { *j };
                if !(0..m as i64).contains(&k) {
                    return Err(VmError::py(
                        "IndexError",
                        format!("index {j} is out of bounds for axis 0 with size {m}"),
                    ));
                }
                Ok(super::npscalar::float64(a.get(0, k)?))
            }
            Value::Slice(cs) => {
                let mut v = a.slice(&all, cs);
                v.ndim = 1;
                Ok(Value::Array(Obj::new(v)))
            }
            _ => Err(unsupported_index(key)),
        };
    }
    match key {
        Value::IntPair(i, j) => Ok(Value::Float(a.get(*i, *j)?)),
        Value::Int(i) => Ok(Value::Array(Obj::new(a.row(*i)?))),
        Value::Slice(rs) => Ok(Value::Array(Obj::new(a.slice(rs, &all)))),
        Value::Tuple(t) => match &t[..] {
            [Value::Slice(rs), Value::Slice(cs)] => Ok(Value::Array(Obj::new(a.slice(rs, cs)))),
            _ => Err(unsupported_index(key)),
        },
        _ => Err(unsupported_index(key)),
    }
}

/// `numpy.array_split(a, sections)` of an array: views along its first axis, the first
/// `len % sections` one longer.
fn split_array(a: &ArrayObj, sections: &Value) -> Result<Value, VmError> {
    let k = sections
        .as_i64()
        .filter(|&s| s > 0)
        .ok_or_else(|| VmError::py("ValueError", "number sections must be larger than 0."))?
        as usize;
    let (n, m) = a.shape();
    let len = if a.ndim == 1 { m } else { n };
    let (each, extras) = (len / k, len % k);
    let mut out = Vec::with_capacity(k);
    let mut at = 0;
    for s in 0..k {
        let part = each + usize::from(s < extras);
        let span = SliceObj {
            start: Some(at as i64),
            stop: Some((at + part) as i64),
            step: None,
        };
        let all = SliceObj {
            start: None,
            stop: None,
            step: None,
        };
        let mut v = if a.ndim == 1 {
            a.slice(&all, &span)
        } else {
            a.slice(&span, &all)
        };
        v.ndim = a.ndim;
        out.push(Value::Array(Obj::new(v)));
        at += part;
    }
    Ok(Value::list(out))
}

fn unsupported_index(key: &Value) -> VmError {
    VmError::py(
        "IndexError",
        format!(
            "gilscope's arrays take a[i, j], a[i], a[r0:r1] or a[r0:r1, c0:c1], not {}",
            key.repr()
        ),
    )
}

/// `arr[key] = value`.
pub fn store<H: Host>(
    vm: &mut Vm<'_, H>,
    a: &ArrayObj,
    key: &Value,
    value: &Value,
) -> Result<(), VmError> {
    if let Value::Tuple(t) = key
        && let [Value::Int(i), Value::Int(j)] = &t[..]
    {
        return store(vm, a, &Value::IntPair(*i, *j), value);
    }
    if let Value::IntPair(i, j) = key {
        let v = value
            .as_f64()
            .ok_or_else(|| VmError::type_error("array cells hold floats"))?;
        return a.set(*i, *j, v);
    }
    if let (1, Value::Int(j)) = (a.ndim, key) {
        let v = value
            .as_f64()
            .ok_or_else(|| VmError::type_error("array cells hold floats"))?;
        subscript(a, key)?;
        return a.set(0, *j, v);
    }
    let target = match subscript(a, key)? {
        Value::Array(t) => t,
        _ => return Err(unsupported_index(key)),
    };
    let (n, m) = target.shape();
    match value {
        Value::Array(src) => {
            if src.shape() != target.shape() {
                return Err(VmError::py(
                    "ValueError",
                    format!(
                        "could not broadcast input array from shape ({},{}) into shape ({n},{m})",
                        src.shape().0,
                        src.shape().1
                    ),
                ));
            }
            // Read everything first: the source may overlap the target. An array copy
            // (`raw_array_assign_array`): released above 500 elements.
            vm.gil_released_if(loop_releases_gil(n * m), || {
                let cells = src.to_vec();
                for (i, row) in cells.chunks(m.max(1)).enumerate().take(n) {
                    for (c, v) in target.row_cells(i).iter().zip(row) {
                        c.store(v.to_bits(), Ordering::Relaxed);
                    }
                }
            })
        }
        v => {
            let f = v
                .as_f64()
                .ok_or_else(|| VmError::type_error("array cells hold floats"))?;
            // A fill (`raw_array_assign_scalar`): `u[0] = ic` on a 30-cell row keeps the GIL.
            vm.gil_released_if(loop_releases_gil(n * m), || {
                for i in 0..n {
                    for c in target.row_cells(i) {
                        c.store(f.to_bits(), Ordering::Relaxed);
                    }
                }
            })
        }
    }
}

/// NumPy's pairwise summation (`pairwise_sum_DOUBLE`): 8 accumulators up to 128 items, halves
/// above, so `u.sum()` rounds exactly as NumPy's does.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, &x| acc + x)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// Most elements an array of the emulation may hold (2 GiB of float64).
const MAX_ELEMENTS: usize = 1 << 28;

/// A shape `(rows, cols, ndim)`, refused as NumPy refuses it, or with NumPy's `MemoryError`
/// beyond [`MAX_ELEMENTS`].
fn shape_arg(v: &Value) -> Result<(usize, usize, u8), VmError> {
    let (n, m, ndim) = shape_dims(v)?;
    if n.saturating_mul(m) > MAX_ELEMENTS {
        let gib = n as f64 * m as f64 * 8.0 / (1u64 << 30) as f64;
        let shape = if ndim == 1 {
            format!("({m},)")
        } else {
            format!("({n}, {m})")
        };
        return Err(VmError::py(
            "MemoryError",
            format!(
                "Unable to allocate {gib:.2} GiB for an array with shape {shape} and data type float64"
            ),
        ));
    }
    Ok((n, m, ndim))
}

fn shape_dims(v: &Value) -> Result<(usize, usize, u8), VmError> {
    let dim = |v: &Value| -> Result<usize, VmError> {
        match v.as_i64() {
            Some(i) if i < 0 => Err(VmError::py(
                "ValueError",
                "negative dimensions are not allowed",
            )),
            Some(i) => Ok(usize::try_from(i).unwrap_or(usize::MAX)),
            None => Err(VmError::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                v.type_name()
            ))),
        }
    };
    match v {
        Value::IntPair(n, m) => Ok((dim(&Value::Int(*n))?, dim(&Value::Int(*m))?, 2)),
        Value::Int(n) => Ok((1, dim(&Value::Int(*n))?, 1)),
        Value::Tuple(_) | Value::List(_) => {
            let items = super::ops::iterate(v)?;
            match &items[..] {
                [n] => Ok((1, dim(n)?, 1)),
                [n, m] => Ok((dim(n)?, dim(m)?, 2)),
                _ => Err(VmError::py(
                    "ValueError",
                    "gilscope's arrays have one or two dimensions",
                )),
            }
        }
        other => Err(VmError::type_error(format!(
            "'{}' object cannot be interpreted as a shape",
            other.type_name()
        ))),
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let tid = RandomState::new().hash_one(std::thread::current().id());
    (t ^ tid.rotate_left(32)) | 1
}

/// The NumPy functions and array methods.
pub fn call<H: Host>(vm: &mut Vm<'_, H>, b: Builtin, args: Vec<Value>) -> Result<Value, VmError> {
    let array = |v: &Value| -> Result<Obj<ArrayObj>, VmError> {
        match v {
            Value::Array(a) => Ok(a.clone()),
            other => Err(VmError::type_error(format!(
                "expected a numpy.ndarray, got '{}'",
                other.type_name()
            ))),
        }
    };
    let want = |n: usize| -> Result<(), VmError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(VmError::type_error(format!(
                "{}() takes {n} arguments ({} given)",
                b.name(),
                args.len()
            )))
        }
    };
    match b {
        Builtin::NpZeros | Builtin::NpOnes => {
            want(1)?;
            let (n, m, ndim) = shape_arg(&args[0])?;
            let fill = if b == Builtin::NpOnes { 1.0 } else { 0.0 };
            // calloc with the GIL released from 1024 bytes; below, NumPy's cache under the GIL.
            // `ones` is `empty` then a fill: the fill loop releases above 500 elements.
            let bytes = n * m * std::mem::size_of::<f64>();
            let release = if b == Builtin::NpOnes {
                loop_releases_gil(n * m)
            } else {
                zeros_releases_gil(bytes)
            };
            let mut a = vm.gil_released_if(release, || ArrayObj::from_fn(n, m, |_, _| fill))?;
            a.ndim = ndim;
            Ok(Value::Array(Obj::new(a)))
        }
        Builtin::NpRandomRand | Builtin::NpRandomRandn => {
            let normal = b == Builtin::NpRandomRandn;
            let (n, m, ndim) = match args.as_slice() {
                [] => (1, 1, 0),
                [n] if matches!(n, Value::Int(_)) => shape_arg(n)?,
                [_, _] => shape_arg(&Value::Tuple(args.clone().into()))?,
                _ => return Err(VmError::type_error("rand() takes one or two dimensions")),
            };
            let mut state = random_seed();
            let mut a = vm.without_gil(|| {
                ArrayObj::from_fn(n, m, |_, _| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                    if !normal {
                        return u;
                    }
                    // Box-Muller: a second uniform from the same generator.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let v = (state >> 11) as f64 / (1u64 << 53) as f64;
                    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
                })
            })?;
            if ndim == 0 {
                return Ok(super::npscalar::float64(a.at(0, 0)));
            }
            a.ndim = ndim;
            Ok(Value::Array(Obj::new(a)))
        }
        Builtin::NpDot => {
            want(2)?;
            let (x, y) = (array(&args[0])?, array(&args[1])?);
            dot(vm, &x, &y)
        }
        Builtin::ArraySum => {
            want(1)?;
            let a = array(&args[0])?;
            // A reduction loop: released above 500 elements.
            let s = vm.gil_released_if(loop_releases_gil(a.size()), || {
                0.0 + pairwise_sum(&a.to_vec())
            })?;
            Ok(Value::Float(s))
        }
        Builtin::NpArange => {
            let nums: Option<Vec<f64>> = args.iter().map(Value::as_f64).collect();
            let (start, stop, step) = match nums.as_deref() {
                Some([stop]) => (0.0, *stop, 1.0),
                Some([start, stop]) => (*start, *stop, 1.0),
                Some([start, stop, step]) => (*start, *stop, *step),
                _ => return Err(VmError::type_error("arange() takes 1 to 3 numbers")),
            };
            if step == 0.0 {
                return Err(VmError::py("ZeroDivisionError", "division by zero"));
            }
            let n = ((stop - start) / step).ceil().max(0.0);
            if n > 100_000_000.0 {
                return Err(VmError::py(
                    "MemoryError",
                    format!("Unable to allocate an array of {n} elements"),
                ));
            }
            let n = n as usize;
            let bytes = n * std::mem::size_of::<f64>();
            let mut a = vm.gil_released_if(zeros_releases_gil(bytes), || {
                ArrayObj::from_fn(1, n, |_, j| start + j as f64 * step)
            })?;
            a.ndim = 1;
            Ok(Value::Array(Obj::new(a)))
        }
        Builtin::NpLinspace => {
            want(3)?;
            let (Some(start), Some(stop), Some(num)) =
                (args[0].as_f64(), args[1].as_f64(), args[2].as_i64())
            else {
                return Err(VmError::type_error(
                    "linspace(start, stop, num) takes numbers",
                ));
            };
            if !(0..=10_000_000).contains(&num) {
                return Err(VmError::py(
                    "ValueError",
                    format!("Number of samples, {num}, must be non-negative"),
                ));
            }
            let div = (num - 1).max(1) as f64;
            let step = (stop - start) / div;
            let num = num as usize;
            let mut a = ArrayObj::from_fn(1, num, |_, j| {
                if num > 1 && j == num - 1 {
                    stop
                } else {
                    j as f64 * step + start
                }
            });
            a.ndim = 1;
            Ok(Value::Array(Obj::new(a)))
        }
        Builtin::NpArraySplit => {
            want(2)?;
            if let Value::Array(a) = &args[0] {
                return split_array(a, &args[1]);
            }
            let items = super::ops::iterate(&args[0])?;
            let sections = args[1].as_i64().filter(|&s| s > 0).ok_or_else(|| {
                VmError::py("ValueError", "number sections must be larger than 0.")
            })? as usize;
            let (each, extras) = (items.len() / sections, items.len() % sections);
            let mut out = Vec::with_capacity(sections);
            let mut at = 0;
            for k in 0..sections {
                let len = each + usize::from(k < extras);
                out.push(Value::list(items[at..at + len].to_vec()));
                at += len;
            }
            Ok(Value::list(out))
        }
        other => Err(VmError::py(
            "SystemError",
            format!("{} is not a NumPy function", other.name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gil_release_boundaries_are_numpys() {
        // NPY_BEGIN_THREADS_THRESHOLDED: strictly more than 500 elements.
        assert!(
            !loop_releases_gil(30),
            "u[0] = ic on a 30-cell row keeps the GIL"
        );
        assert!(!loop_releases_gil(500));
        assert!(loop_releases_gil(501));
        assert!(
            loop_releases_gil(28 * 28),
            "grid 30's interior (784 cells) releases"
        );
        // npy_alloc_cache_zero: sz < NBUCKETS (1024) comes from the cache, under the GIL.
        assert!(!zeros_releases_gil(127 * 8));
        assert!(zeros_releases_gil(128 * 8));
        assert!(
            zeros_releases_gil(30 * 30 * 8),
            "np.zeros((30, 30)), 7.2 KB, releases"
        );
    }
}
