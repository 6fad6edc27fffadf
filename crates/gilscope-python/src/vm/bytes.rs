//! `bytes`, as far as I/O code needs it: literals, `len`, indexing (an int) and slicing,
//! iteration, `+`, `in`, comparison and hashing, `decode`, `hex`, `startswith`/`endswith`,
//! `str.encode`, and `bytes(n)` / `bytes(iterable_of_ints)` / `bytes(str, encoding)`.

use std::sync::Arc;

use super::VmError;
use super::value::{SliceObj, Value};

/// A new bytes value.
pub fn new(b: Vec<u8>) -> Value {
    Value::Bytes(Arc::from(b))
}

/// `b[i]` (an int) or `b[a:b:c]` (bytes).
pub fn subscript(
    b: &[u8],
    key: &Value,
    sliced: impl Fn(&[u8], &SliceObj) -> Vec<u8>,
) -> Result<Value, VmError> {
    if let Value::Slice(s) = key {
        return Ok(new(sliced(b, s)));
    }
    let i = key.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "byte indices must be integers or slices, not {}",
            key.type_name()
        ))
    })?;
    let k = if i < 0 { i + b.len() as i64 } else { i };
    if !(0..b.len() as i64).contains(&k) {
        return Err(VmError::py("IndexError", "index out of range"));
    }
    Ok(Value::Int(i64::from(b[k as usize])))
}

/// `sub in b`: a bytes substring or an int byte.
pub fn contains(b: &[u8], item: &Value) -> Result<bool, VmError> {
    match item {
        Value::Bytes(sub) => Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &**sub)),
        v => match v.as_i64() {
            Some(n) if (0..256).contains(&n) => Ok(b.contains(&(n as u8))),
            Some(_) => Err(VmError::py("ValueError", "byte must be in range(0, 256)")),
            None => Err(VmError::type_error(format!(
                "a bytes-like object is required, not '{}'",
                v.type_name()
            ))),
        },
    }
}

fn check_encoding(encoding: Option<&Value>) -> Result<(), VmError> {
    match encoding {
        None => Ok(()),
        Some(Value::Str(e)) => {
            let e = e.to_ascii_lowercase().replace('_', "-");
            if matches!(
                &*e,
                "utf-8" | "utf8" | "ascii" | "us-ascii" | "latin-1" | "latin1" | "iso-8859-1"
            ) {
                Ok(())
            } else {
                Err(VmError::py("LookupError", format!("unknown encoding: {e}")))
            }
        }
        Some(v) => Err(VmError::type_error(format!(
            "decode() argument 'encoding' must be str, not {}",
            v.type_name()
        ))),
    }
}

fn is_latin1(encoding: Option<&Value>) -> bool {
    matches!(encoding, Some(Value::Str(e)) if matches!(&*e.to_ascii_lowercase().replace('_', "-"), "latin-1" | "latin1" | "iso-8859-1"))
}

/// `b.decode(encoding='utf-8', errors='strict')`.
pub fn decode(
    b: &[u8],
    encoding: Option<&Value>,
    errors: Option<&Value>,
) -> Result<Value, VmError> {
    check_encoding(encoding)?;
    if is_latin1(encoding) {
        return Ok(Value::str(
            &b.iter().map(|&c| char::from(c)).collect::<String>(),
        ));
    }
    let ascii = matches!(encoding, Some(Value::Str(e)) if e.to_ascii_lowercase().contains("ascii"));
    let lenient = matches!(errors, Some(Value::Str(e)) if matches!(&**e, "replace" | "ignore"));
    if ascii
        && !lenient
        && let Some(pos) = b.iter().position(|c| *c >= 0x80)
    {
        return Err(VmError::py(
            "UnicodeDecodeError",
            format!(
                "'ascii' codec can't decode byte 0x{:02x} in position {pos}: ordinal not in range(128)",
                b[pos]
            ),
        ));
    }
    match std::str::from_utf8(b) {
        Ok(s) => Ok(Value::str(s)),
        Err(_) if lenient => Ok(Value::str(&String::from_utf8_lossy(b))),
        Err(e) => {
            let pos = e.valid_up_to();
            Err(VmError::py(
                "UnicodeDecodeError",
                format!(
                    "'utf-8' codec can't decode byte 0x{:02x} in position {pos}: invalid start byte",
                    b[pos]
                ),
            ))
        }
    }
}

/// `s.encode(encoding='utf-8', errors='strict')`.
pub fn encode(s: &str, encoding: Option<&Value>) -> Result<Value, VmError> {
    check_encoding(encoding)?;
    if is_latin1(encoding) {
        let mut out = Vec::with_capacity(s.len());
        for (pos, c) in s.chars().enumerate() {
            let n = u32::from(c);
            if n > 0xff {
                return Err(VmError::py(
                    "UnicodeEncodeError",
                    format!(
                        "'latin-1' codec can't encode character '\\u{n:04x}' in position {pos}: ordinal not in range(256)"
                    ),
                ));
            }
            out.push(n as u8);
        }
        return Ok(new(out));
    }
    Ok(new(s.as_bytes().to_vec()))
}

/// `b.hex()`.
pub fn hex(b: &[u8]) -> Value {
    use std::fmt::Write;
    let mut out = String::with_capacity(b.len() * 2);
    for c in b {
        let _ = write!(out, "{c:02x}");
    }
    Value::str(&out)
}

/// `bytes(x)`: zeros for an int, the ints of an iterable, a str encoded.
pub fn construct(items: Option<Vec<Value>>, count: Option<i64>) -> Result<Value, VmError> {
    if let Some(n) = count {
        if n < 0 {
            return Err(VmError::py("ValueError", "negative count"));
        }
        return Ok(new(vec![0; n as usize]));
    }
    let mut out = Vec::new();
    for v in items.unwrap_or_default() {
        match v.as_i64() {
            Some(n) if (0..256).contains(&n) => out.push(n as u8),
            Some(_) => return Err(VmError::py("ValueError", "bytes must be in range(0, 256)")),
            None => {
                return Err(VmError::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    v.type_name()
                )));
            }
        }
    }
    Ok(new(out))
}
