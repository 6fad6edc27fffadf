//! `format(value, spec)`: Python's format-specification mini-language for int, bool, float and
//! str, as f-strings' `FORMAT_VALUE` and `format()` use it (`{x:.2f}`, `{n:,}`, `{s:>8}`).

use super::VmError;
use super::value::{Value, float_repr, python_exponent};

/// A parsed `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alternate: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn invalid() -> VmError {
    VmError::py("ValueError", "Invalid format specifier")
}

fn parse(spec: &str) -> Result<Spec, VmError> {
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|&c| is_align(c)) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c) = chars.get(i)
        && matches!(c, '+' | '-' | ' ')
    {
        s.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        s.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let digits = |i: &mut usize| -> Option<usize> {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        (start < *i).then(|| chars[start..*i].iter().collect::<String>().parse().ok())?
    };
    s.width = digits(&mut i).unwrap_or(0);
    if let Some(&c) = chars.get(i)
        && matches!(c, ',' | '_')
    {
        s.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        s.precision = Some(
            digits(&mut i)
                .ok_or_else(|| VmError::py("ValueError", "Format specifier missing precision"))?,
        );
    }
    if let Some(&c) = chars.get(i) {
        s.ty = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err(invalid());
    }
    Ok(s)
}

/// Python's `format(value, spec)` for the interpreter's values.
pub fn format_value(v: &Value, spec: &str) -> Result<String, VmError> {
    if spec.is_empty() {
        return Ok(v.to_str());
    }
    let s = parse(spec)?;
    match v {
        Value::Bool(b) if s.ty.is_none() => Ok(pad(&s, if *b { "True" } else { "False" }, '<')),
        Value::Int(_) | Value::Bool(_) => {
            let i = v.as_i64().unwrap_or(0);
            match s.ty {
                None | Some('d' | 'n' | 'b' | 'o' | 'x' | 'X' | 'c') => format_int(&s, i),
                Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => format_float(&s, i as f64),
                Some(t) => Err(unknown_code(t, "int")),
            }
        }
        Value::BigInt(b) => match s.ty {
            None | Some('d' | 'n') => {
                let digits = b.magnitude().to_string();
                let digits = match s.grouping {
                    Some(g) => group(&digits, g, 3),
                    None => digits,
                };
                Ok(numeric(
                    &s,
                    sign_of(&s, b.sign() == num_bigint::Sign::Minus),
                    &digits,
                ))
            }
            Some(t @ ('b' | 'o' | 'x' | 'X')) => {
                let (radix, prefix) = match t {
                    'b' => (2, "0b"),
                    'o' => (8, "0o"),
                    'x' => (16, "0x"),
                    _ => (16, "0X"),
                };
                let mut digits = b.magnitude().to_str_radix(radix);
                if t == 'X' {
                    digits = digits.to_uppercase();
                }
                let digits = match s.grouping {
                    Some(g) => group(&digits, g, 4),
                    None => digits,
                };
                let prefix = if s.alternate { prefix } else { "" };
                let negative = b.sign() == num_bigint::Sign::Minus;
                Ok(numeric(
                    &s,
                    &format!("{}{prefix}", sign_of(&s, negative)),
                    &digits,
                ))
            }
            Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => {
                format_float(&s, super::bigint::to_float(b)?)
            }
            Some(t) => Err(unknown_code(t, "int")),
        },
        Value::Float(_) | Value::NpFloat(_) => format_float(&s, v.as_f64().unwrap_or(0.0)),
        Value::Str(text) => {
            if !matches!(s.ty, None | Some('s')) {
                return Err(unknown_code(s.ty.unwrap_or('s'), "str"));
            }
            if s.sign.is_some() {
                return Err(VmError::py(
                    "ValueError",
                    "Sign not allowed in string format specifier",
                ));
            }
            let cut: String = match s.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.to_string(),
            };
            Ok(pad(&s, &cut, '<'))
        }
        other => Err(VmError::type_error(format!(
            "unsupported format string passed to {}.__format__",
            other.type_name()
        ))),
    }
}

fn unknown_code(t: char, ty: &str) -> VmError {
    VmError::py(
        "ValueError",
        format!("Unknown format code '{t}' for object of type '{ty}'"),
    )
}

/// Inserts `sep` every three digits (four for `_` with hex, octal and binary).
fn group(digits: &str, sep: char, every: usize) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / every);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (n - k).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn sign_of(s: &Spec, negative: bool) -> &'static str {
    match (negative, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

fn format_int(s: &Spec, i: i64) -> Result<String, VmError> {
    if s.precision.is_some() {
        return Err(VmError::py(
            "ValueError",
            "Precision not allowed in integer format specifier",
        ));
    }
    let mag = i.unsigned_abs();
    let (digits, prefix, every) = match s.ty {
        Some('b') => (format!("{mag:b}"), "0b", 4),
        Some('o') => (format!("{mag:o}"), "0o", 4),
        Some('x') => (format!("{mag:x}"), "0x", 4),
        Some('X') => (format!("{mag:X}"), "0X", 4),
        Some('c') => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| VmError::py("OverflowError", "%c arg not in range(0x110000)"))?;
            return Ok(pad(s, &c.to_string(), '<'));
        }
        _ => (mag.to_string(), "", 3),
    };
    let digits = match s.grouping {
        Some(g) => group(&digits, g, every),
        None => digits,
    };
    let prefix = if s.alternate { prefix } else { "" };
    Ok(numeric(
        s,
        &format!("{}{prefix}", sign_of(s, i < 0)),
        &digits,
    ))
}

/// `1.5e3` in Python's layout `1.5e+03`.
/// Drops trailing zeros (and a bare point) from the mantissa, as `%g` does.
fn strip_zeros(s: &str) -> String {
    match s.find(['e', 'E']) {
        Some(at) if s[..at].contains('.') => {
            let m = s[..at].trim_end_matches('0').trim_end_matches('.');
            format!("{m}{}", &s[at..])
        }
        None if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_owned(),
        _ => s.to_owned(),
    }
}

/// `%g`: fixed or scientific by the exponent, `p` significant digits.
fn general(x: f64, p: usize, alternate: bool, upper: bool) -> String {
    let p = p.max(1);
    let sci = format!("{:.*e}", p - 1, x);
    let exp: i32 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let out = if -4 <= exp && exp < p as i32 {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, x)
    } else {
        python_exponent(&sci, upper)
    };
    if alternate { out } else { strip_zeros(&out) }
}

fn format_float(s: &Spec, x: f64) -> Result<String, VmError> {
    if let Some(t) = s.ty
        && !matches!(t, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%')
    {
        return Err(unknown_code(t, "float"));
    }
    let negative = x.is_sign_negative() && !x.is_nan();
    let a = x.abs();
    let upper = matches!(s.ty, Some('E' | 'F' | 'G'));
    let body = if !a.is_finite() {
        let t = if a.is_nan() { "nan" } else { "inf" };
        if upper {
            t.to_uppercase()
        } else {
            t.to_owned()
        }
    } else {
        match s.ty {
            Some('f' | 'F') => format!("{:.*}", s.precision.unwrap_or(6), a),
            Some('e' | 'E') => {
                python_exponent(&format!("{:.*e}", s.precision.unwrap_or(6), a), upper)
            }
            Some('g' | 'G') => general(a, s.precision.unwrap_or(6), s.alternate, upper),
            Some('%') => format!("{:.*}%", s.precision.unwrap_or(6), a * 100.0),
            _ => match s.precision {
                None => float_repr(a),
                Some(p) => {
                    let g = general(a, p, s.alternate, false);
                    if g.contains(['.', 'e']) {
                        g
                    } else {
                        format!("{g}.0")
                    }
                }
            },
        }
    };
    let body = match s.grouping {
        Some(sep) => {
            let end = body.find(['.', 'e', '%']).unwrap_or(body.len());
            if body[..end].bytes().all(|b| b.is_ascii_digit()) {
                format!("{}{}", group(&body[..end], sep, 3), &body[end..])
            } else {
                body
            }
        }
        None => body,
    };
    Ok(numeric(s, sign_of(s, negative), &body))
}

/// A number's sign, prefix and digits padded to the width (right-aligned by default; `0` and
/// `=` pad between the sign and the digits).
fn numeric(s: &Spec, sign: &str, digits: &str) -> String {
    let len = sign.chars().count() + digits.chars().count();
    if s.width <= len {
        return format!("{sign}{digits}");
    }
    let (fill, align) = match (s.fill, s.align, s.zero) {
        (f, Some(a), _) => (f.unwrap_or(' '), a),
        (_, None, true) => ('0', '='),
        (_, None, false) => (' ', '>'),
    };
    if align == '=' {
        let pad: String = std::iter::repeat_n(fill, s.width - len).collect();
        return format!("{sign}{pad}{digits}");
    }
    let spec = Spec {
        fill: Some(fill),
        align: Some(align),
        width: s.width,
        ..Spec::default()
    };
    pad(&spec, &format!("{sign}{digits}"), '>')
}

/// `text` padded to the width by the spec's fill and alignment (`default` when it has none).
fn pad(s: &Spec, text: &str, default: char) -> String {
    let len = text.chars().count();
    if s.width <= len {
        return text.to_owned();
    }
    let fill = s.fill.unwrap_or(if s.zero && s.align.is_none() {
        '0'
    } else {
        ' '
    });
    let n = s.width - len;
    let (left, right) = match s.align.unwrap_or(default) {
        '>' | '=' => (n, 0),
        '^' => (n / 2, n - n / 2),
        _ => (0, n),
    };
    let rep = |k| std::iter::repeat_n(fill, k).collect::<String>();
    format!("{}{text}{}", rep(left), rep(right))
}

/// `fmt % args`, printf-style (`Objects/unicodeobject.c`'s `PyUnicode_Format`): `%s`, `%r`,
/// `%d`, `%f`, `%e`, `%g`, `%x`, `%o`, `%c`, `%%`, with flags, width, precision and `%(name)s`
/// keys from a dict.
pub fn percent_format(fmt: &str, args: &Value) -> Result<String, VmError> {
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        Value::IntPair(a, b) => vec![Value::Int(*a), Value::Int(*b)],
        other => vec![other.clone()],
    };
    let mapping = matches!(args, Value::Dict(_));
    let mut next = 0usize;
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    let incomplete = || VmError::py("ValueError", "incomplete format");
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut name = String::new();
            let mut depth = 1;
            for c in chars.by_ref() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                name.push(c);
            }
            key = Some(name);
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ #0".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() {
                width.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    p.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            precision = Some(if p.is_empty() { "0".to_owned() } else { p });
        }
        let ty = chars.next().ok_or_else(incomplete)?;
        if ty == '%' {
            out.push('%');
            continue;
        }
        let v = match &key {
            Some(k) => match args {
                Value::Dict(d) => d
                    .lock()
                    .iter()
                    .find(|(x, _)| matches!(x, Value::Str(s) if **s == **k))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| super::exception::key_error(&Value::str(k)))?,
                _ => return Err(VmError::type_error("format requires a mapping")),
            },
            None => {
                let v = if mapping && items.len() == 1 && next == 0 {
                    items[0].clone()
                } else {
                    items.get(next).cloned().ok_or_else(|| {
                        VmError::type_error("not enough arguments for format string")
                    })?
                };
                next += 1;
                v
            }
        };
        let numeric = !matches!(ty, 's' | 'r' | 'a' | 'c');
        let align = if flags.contains('-') {
            "<"
        } else if flags.contains('0') && numeric {
            ""
        } else {
            ">"
        };
        let sign = if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        };
        let alt = if flags.contains('#') { "#" } else { "" };
        let zero = if align.is_empty() { "0" } else { "" };
        let prec = precision.map(|p| format!(".{p}")).unwrap_or_default();
        let text = match ty {
            's' | 'r' | 'a' => {
                let s = match ty {
                    's' => v.to_str(),
                    'r' => v.repr(),
                    _ => super::value::ascii_escaped(&v.repr()),
                };
                format_value(&Value::str(&s), &format!("{align}{width}{prec}"))?
            }
            'c' => {
                let s = match &v {
                    Value::Str(s) if s.chars().count() == 1 => s.to_string(),
                    other => {
                        let i = other
                            .as_i64()
                            .ok_or_else(|| VmError::type_error("%c requires int or char"))?;
                        u32::try_from(i)
                            .ok()
                            .and_then(char::from_u32)
                            .map(String::from)
                            .ok_or_else(|| {
                                VmError::py("OverflowError", "%c arg not in range(0x110000)")
                            })?
                    }
                };
                format_value(&Value::str(&s), &format!("{align}{width}"))?
            }
            'd' | 'i' | 'u' => {
                let n = match &v {
                    Value::Float(f) => Value::Int(f.trunc() as i64),
                    Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => v.clone(),
                    other => {
                        return Err(VmError::type_error(format!(
                            "%{ty} format: a real number is required, not {}",
                            other.type_name()
                        )));
                    }
                };
                format_value(&n, &format!("{align}{sign}{zero}{width}d"))?
            }
            'x' | 'X' | 'o' => {
                if v.as_i64().is_none() && !matches!(v, Value::BigInt(_)) {
                    return Err(VmError::type_error(format!(
                        "%{ty} format: an integer is required, not {}",
                        v.type_name()
                    )));
                }
                format_value(&v, &format!("{align}{sign}{alt}{zero}{width}{ty}"))?
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let f = v.as_f64().ok_or_else(|| {
                    VmError::type_error(format!("must be real number, not {}", v.type_name()))
                })?;
                let prec = if prec.is_empty() {
                    ".6".to_owned()
                } else {
                    prec
                };
                format_value(
                    &Value::Float(f),
                    &format!("{align}{sign}{alt}{zero}{width}{prec}{ty}"),
                )?
            }
            other => {
                return Err(VmError::py(
                    "ValueError",
                    format!(
                        "unsupported format character '{other}' (0x{:x})",
                        u32::from(other)
                    ),
                ));
            }
        };
        out.push_str(&text);
    }
    // Arguments left over: an error for a tuple (a lone value is always used up).
    if !mapping && next < items.len() {
        return Err(VmError::type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Value, spec: &str) -> String {
        format_value(&v, spec).unwrap()
    }

    #[test]
    fn the_specs_teaching_code_writes_format_as_python_does() {
        // Each expectation is what python3.11 prints for format(value, spec).
        assert_eq!(f(Value::Float(1.23456), ".2f"), "1.23");
        assert_eq!(f(Value::Float(2.0), ".2f"), "2.00");
        assert_eq!(f(Value::Int(1234567), ","), "1,234,567");
        assert_eq!(f(Value::Int(-1234567), "_"), "-1_234_567");
        assert_eq!(f(Value::Float(1234567.891), ",.2f"), "1,234,567.89");
        assert_eq!(f(Value::str("ab"), ">8"), "      ab");
        assert_eq!(f(Value::str("ab"), "*^7"), "**ab***");
        assert_eq!(f(Value::Int(42), "05d"), "00042");
        assert_eq!(f(Value::Int(-42), "06"), "-00042");
        assert_eq!(f(Value::Int(255), "#x"), "0xff");
        assert_eq!(f(Value::Int(5), "b"), "101");
        assert_eq!(f(Value::Float(0.256), ".1%"), "25.6%");
        assert_eq!(f(Value::Float(12345.678), ".3e"), "1.235e+04");
        assert_eq!(f(Value::Float(0.0001234), "g"), "0.0001234");
        assert_eq!(f(Value::Float(123456789.0), "g"), "1.23457e+08");
        assert_eq!(f(Value::Float(1.0), ".3"), "1.0");
        assert_eq!(f(Value::Float(1234.5), ".2"), "1.2e+03");
        assert_eq!(f(Value::Float(1.5), "8.2f"), "    1.50");
        assert_eq!(f(Value::Float(-1.5), "+.1f"), "-1.5");
        assert_eq!(f(Value::Float(1.5), "+.1f"), "+1.5");
        assert_eq!(f(Value::Int(7), ".2f"), "7.00");
        assert_eq!(f(Value::Bool(true), ">6"), "  True");
        assert_eq!(f(Value::Int(3), "<4"), "3   ");
        assert_eq!(f(Value::str("hello"), ".3"), "hel");
    }

    #[test]
    fn bad_specs_raise_python_s_errors() {
        let e = format_value(&Value::str("x"), "d").unwrap_err().to_string();
        assert!(
            e.contains("Unknown format code 'd' for object of type 'str'"),
            "{e}"
        );
        let e = format_value(&Value::Int(1), ".2d").unwrap_err().to_string();
        assert!(e.contains("Precision not allowed"), "{e}");
        let e = format_value(&Value::Float(1.0), "2..f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Format specifier missing precision"), "{e}");
        let e = format_value(&Value::Float(1.0), ".2fx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Invalid format specifier"), "{e}");
    }
}
