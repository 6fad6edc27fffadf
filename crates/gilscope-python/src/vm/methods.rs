//! The methods of `str`, `list` and `dict` that teaching code calls (`Objects/unicodeobject.c`,
//! `listobject.c`, `dictobject.c`), with CPython's results and error texts.

use std::sync::Arc;

use super::call::Kwargs;
use super::dict::{DictView, ViewKind};
use super::value::{Builtin, DictObj, ListObj, Value};
use super::{Host, Vm, VmError, format, ops};

/// A method of a built-in type, bound by `LOAD_METHOD` (the object is the first argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `str.encode(encoding='utf-8', errors='strict')`.
    StrEncode,
    /// `bytes.decode(encoding='utf-8', errors='strict')`.
    BytesDecode,
    /// `bytes.hex()`.
    BytesHex,
    /// `str.upper`.
    StrUpper,
    /// `str.lower`.
    StrLower,
    /// `str.title`.
    StrTitle,
    /// `str.capitalize`.
    StrCapitalize,
    /// `str.strip`.
    StrStrip,
    /// `str.lstrip`.
    StrLstrip,
    /// `str.rstrip`.
    StrRstrip,
    /// `str.split`.
    StrSplit,
    /// `str.splitlines`.
    StrSplitlines,
    /// `str.join`.
    StrJoin,
    /// `str.replace`.
    StrReplace,
    /// `str.startswith`.
    StrStartswith,
    /// `str.endswith`.
    StrEndswith,
    /// `str.find`.
    StrFind,
    /// `str.index`.
    StrIndex,
    /// `str.count`.
    StrCount,
    /// `str.format`.
    StrFormat,
    /// `str.isdigit`.
    StrIsdigit,
    /// `str.isalpha`.
    StrIsalpha,
    /// `str.isspace`.
    StrIsspace,
    /// `str.zfill`.
    StrZfill,
    /// `str.ljust`.
    StrLjust,
    /// `str.rjust`.
    StrRjust,
    /// `str.center`.
    StrCenter,
    /// `str.rsplit(sep=None, maxsplit=-1)`.
    StrRsplit,
    /// `str.rfind(sub)`.
    StrRfind,
    /// `str.isalnum()`.
    StrIsalnum,
    /// `str.isupper()`.
    StrIsupper,
    /// `str.islower()`.
    StrIslower,
    /// `list.extend`.
    ListExtend,
    /// `list.pop`.
    ListPop,
    /// `list.insert`.
    ListInsert,
    /// `list.remove`.
    ListRemove,
    /// `list.index`.
    ListIndex,
    /// `list.count`.
    ListCount,
    /// `list.sort`.
    ListSort,
    /// `list.reverse`.
    ListReverse,
    /// `list.clear`.
    ListClear,
    /// `list.copy`.
    ListCopy,
    /// `dict.items`.
    DictItems,
    /// `dict.keys`.
    DictKeys,
    /// `dict.values`.
    DictValues,
    /// `dict.get`.
    DictGet,
    /// `dict.pop`.
    DictPop,
    /// `dict.setdefault`.
    DictSetdefault,
    /// `dict.update`.
    DictUpdate,
    /// `dict.clear`.
    DictClear,
    /// `dict.copy`.
    DictCopy,
}

impl Method {
    /// The method's Python name.
    pub fn name(self) -> &'static str {
        use Method as M;
        match self {
            M::StrUpper => "upper",
            M::StrEncode => "encode",
            M::BytesDecode => "decode",
            M::BytesHex => "hex",
            M::StrLower => "lower",
            M::StrTitle => "title",
            M::StrCapitalize => "capitalize",
            M::StrStrip => "strip",
            M::StrLstrip => "lstrip",
            M::StrRstrip => "rstrip",
            M::StrSplit => "split",
            M::StrSplitlines => "splitlines",
            M::StrJoin => "join",
            M::StrReplace => "replace",
            M::StrStartswith => "startswith",
            M::StrEndswith => "endswith",
            M::StrFind => "find",
            M::StrIndex | M::ListIndex => "index",
            M::StrCount | M::ListCount => "count",
            M::StrFormat => "format",
            M::StrIsdigit => "isdigit",
            M::StrIsalpha => "isalpha",
            M::StrIsspace => "isspace",
            M::StrZfill => "zfill",
            M::StrLjust => "ljust",
            M::StrRjust => "rjust",
            M::StrCenter => "center",
            M::StrRsplit => "rsplit",
            M::StrRfind => "rfind",
            M::StrIsalnum => "isalnum",
            M::StrIsupper => "isupper",
            M::StrIslower => "islower",
            M::ListExtend => "extend",
            M::ListPop | M::DictPop => "pop",
            M::ListInsert => "insert",
            M::ListRemove => "remove",
            M::ListSort => "sort",
            M::ListReverse => "reverse",
            M::ListClear | M::DictClear => "clear",
            M::ListCopy | M::DictCopy => "copy",
            M::DictItems => "items",
            M::DictKeys => "keys",
            M::DictValues => "values",
            M::DictGet => "get",
            M::DictSetdefault => "setdefault",
            M::DictUpdate => "update",
        }
    }
}

/// The method `attr` of a `str`, `list` or `dict` value.
pub fn lookup(v: &Value, attr: &str) -> Option<Method> {
    use Method as M;
    Some(match (v, attr) {
        (Value::Bytes(_), a) => match a {
            "decode" => M::BytesDecode,
            "hex" => M::BytesHex,
            "startswith" => M::StrStartswith,
            "endswith" => M::StrEndswith,
            _ => return None,
        },
        (Value::Str(_), a) => match a {
            "upper" => M::StrUpper,
            "lower" => M::StrLower,
            "title" => M::StrTitle,
            "capitalize" => M::StrCapitalize,
            "strip" => M::StrStrip,
            "lstrip" => M::StrLstrip,
            "rstrip" => M::StrRstrip,
            "split" => M::StrSplit,
            "splitlines" => M::StrSplitlines,
            "join" => M::StrJoin,
            "replace" => M::StrReplace,
            "startswith" => M::StrStartswith,
            "endswith" => M::StrEndswith,
            "find" => M::StrFind,
            "index" => M::StrIndex,
            "count" => M::StrCount,
            "format" => M::StrFormat,
            "isdigit" => M::StrIsdigit,
            "isalpha" => M::StrIsalpha,
            "isspace" => M::StrIsspace,
            "zfill" => M::StrZfill,
            "ljust" => M::StrLjust,
            "rjust" => M::StrRjust,
            "center" => M::StrCenter,
            "rsplit" => M::StrRsplit,
            "rfind" => M::StrRfind,
            "isalnum" => M::StrIsalnum,
            "encode" => M::StrEncode,
            "isupper" => M::StrIsupper,
            "islower" => M::StrIslower,
            _ => return None,
        },
        (Value::List(_), a) => match a {
            "extend" => M::ListExtend,
            "pop" => M::ListPop,
            "insert" => M::ListInsert,
            "remove" => M::ListRemove,
            "index" => M::ListIndex,
            "count" => M::ListCount,
            "sort" => M::ListSort,
            "reverse" => M::ListReverse,
            "clear" => M::ListClear,
            "copy" => M::ListCopy,
            _ => return None,
        },
        (Value::Dict(_), a) => match a {
            "items" => M::DictItems,
            "keys" => M::DictKeys,
            "values" => M::DictValues,
            "get" => M::DictGet,
            "pop" => M::DictPop,
            "setdefault" => M::DictSetdefault,
            "update" => M::DictUpdate,
            "clear" => M::DictClear,
            "copy" => M::DictCopy,
            _ => return None,
        },
        _ => return None,
    })
}

fn args_between(m: Method, args: &[Value], lo: usize, hi: usize) -> Result<(), VmError> {
    let n = args.len();
    if (lo..=hi).contains(&n) {
        return Ok(());
    }
    Err(VmError::type_error(if lo == hi {
        match lo {
            0 => format!("{}() takes no arguments ({n} given)", m.name()),
            1 => format!("{}() takes exactly one argument ({n} given)", m.name()),
            _ => format!("{}() takes exactly {lo} arguments ({n} given)", m.name()),
        }
    } else if n < lo {
        format!(
            "{} expected at least {lo} argument{}, got {n}",
            m.name(),
            if lo == 1 { "" } else { "s" }
        )
    } else {
        format!("{} expected at most {hi} arguments, got {n}", m.name())
    }))
}

fn str_arg(m: Method, v: &Value) -> Result<Arc<str>, VmError> {
    match v {
        Value::Str(s) => Ok(Arc::clone(s)),
        other => Err(VmError::type_error(format!(
            "{}() argument must be str, not {}",
            m.name(),
            other.type_name()
        ))),
    }
}

fn int_arg(v: &Value) -> Result<i64, VmError> {
    v.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            v.type_name()
        ))
    })
}

/// `str.split(sep=None, maxsplit=-1)`.
/// `str.rsplit` with a limit: the splits made from the right (`'a b c'.rsplit(None, 1)` is
/// `['a b', 'c']`).
fn rsplit(s: &str, sep: Option<&str>, maxsplit: usize) -> Result<Vec<Value>, VmError> {
    let mut parts: Vec<&str> = Vec::new();
    match sep {
        Some("") => return Err(VmError::py("ValueError", "empty separator")),
        Some(sep) => parts.extend(s.rsplitn(maxsplit + 1, sep)),
        None => {
            let mut rest = s.trim_end();
            while parts.len() < maxsplit {
                let Some(i) = rest.rfind(char::is_whitespace) else {
                    break;
                };
                let w = rest[i..].chars().next().map_or(1, char::len_utf8);
                parts.push(&rest[i + w..]);
                rest = rest[..i].trim_end();
            }
            if !rest.is_empty() {
                parts.push(rest);
            }
        }
    }
    parts.reverse();
    Ok(parts.into_iter().map(Value::str).collect())
}

fn split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<Value>, VmError> {
    let limit = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    let parts: Vec<String> = match sep {
        Some("") => return Err(VmError::py("ValueError", "empty separator")),
        Some(sep) => {
            let mut out = Vec::new();
            let mut rest = s;
            while out.len() < limit {
                match rest.find(sep) {
                    Some(k) => {
                        out.push(rest[..k].to_owned());
                        rest = &rest[k + sep.len()..];
                    }
                    None => break,
                }
            }
            out.push(rest.to_owned());
            out
        }
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if out.len() == limit {
                    out.push(rest.to_owned());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(rest[..end].to_owned());
                rest = rest[end..].trim_start();
            }
            out
        }
    };
    Ok(parts.iter().map(|p| Value::str(p)).collect())
}

/// Characters `strip` removes: whitespace, or those of `chars`.
fn strip_set(chars: Option<&str>) -> impl Fn(char) -> bool + '_ {
    move |c| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    }
}

fn pad(s: &str, width: i64, fill: char, align: char) -> String {
    let len = s.chars().count() as i64;
    if width <= len {
        return s.to_owned();
    }
    let total = (width - len) as usize;
    let (left, right) = match align {
        '<' => (0, total),
        '>' => (total, 0),
        // str.center puts the odd extra on the left when the length is odd, as CPython does.
        _ => {
            let left = total / 2 + (total & len as usize & 1);
            (left, total - left)
        }
    };
    let f = fill.to_string();
    format!("{}{s}{}", f.repeat(left), f.repeat(right))
}

/// `str.format(*args, **kwargs)`: `{}`, `{0}`, `{name}`, `{x.attr}` not supported, with
/// `!r`/`!s`/`!a` and a format spec.
fn str_format(fmt: &str, args: &[Value], kwargs: &Kwargs) -> Result<String, VmError> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut auto = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => {
                return Err(VmError::py(
                    "ValueError",
                    "Single '}' encountered in format string",
                ));
            }
            '{' => {
                let mut field = String::new();
                let mut depth = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    field.push(c);
                }
                if depth != 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "expected '}' before end of string",
                    ));
                }
                let (head, spec) = match field.find(':') {
                    Some(k) => (&field[..k], &field[k + 1..]),
                    None => (&field[..], ""),
                };
                let (name, conv) = match head.find('!') {
                    Some(k) => (&head[..k], Some(&head[k + 1..])),
                    None => (head, None),
                };
                let v = if name.is_empty() {
                    let v = args.get(auto).cloned().ok_or_else(|| {
                        VmError::py(
                            "IndexError",
                            format!(
                                "Replacement index {auto} out of range for positional args tuple"
                            ),
                        )
                    })?;
                    auto += 1;
                    v
                } else if let Ok(k) = name.parse::<usize>() {
                    args.get(k).cloned().ok_or_else(|| {
                        VmError::py(
                            "IndexError",
                            format!("Replacement index {k} out of range for positional args tuple"),
                        )
                    })?
                } else {
                    kwargs
                        .iter()
                        .find(|(k, _)| &**k == name)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| super::exception::key_error(&Value::str(name)))?
                };
                let v = match conv {
                    None => v,
                    Some("r") => Value::str(&v.repr()),
                    Some("s") => Value::str(&v.to_str()),
                    Some("a") => Value::str(&super::value::ascii_escaped(&v.repr())),
                    Some(other) => {
                        return Err(VmError::py(
                            "ValueError",
                            format!("Unknown conversion specifier {other}"),
                        ));
                    }
                };
                out.push_str(&format::format_value(&v, spec)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl<H: Host> Vm<'_, H> {
    /// Calls method `m` with `args[0]` its object.
    pub(super) fn call_method(
        &mut self,
        m: Method,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use Method as M;
        let Some((this, rest)) = args.split_first() else {
            return Err(VmError::type_error(format!(
                "unbound method {}() needs an argument",
                m.name()
            )));
        };
        if !kwargs.is_empty()
            && !matches!(
                m,
                M::StrFormat
                    | M::ListSort
                    | M::StrSplit
                    | M::DictUpdate
                    | M::StrEncode
                    | M::BytesDecode
            )
        {
            return Err(VmError::type_error(format!(
                "{}() takes no keyword arguments",
                m.name()
            )));
        }
        let kw = |name: &str, at: usize| {
            rest.get(at)
                .or_else(|| kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v))
                .cloned()
        };
        match (this, m) {
            (Value::Str(s), M::StrEncode) => super::bytes::encode(s, kw("encoding", 0).as_ref()),
            (Value::Bytes(b), M::BytesDecode) => {
                super::bytes::decode(b, kw("encoding", 0).as_ref(), kw("errors", 1).as_ref())
            }
            (Value::Bytes(b), M::BytesHex) => Ok(super::bytes::hex(b)),
            (Value::Bytes(b), M::StrStartswith | M::StrEndswith) => {
                let options: Vec<Value> = match rest.first() {
                    Some(Value::Tuple(t)) => t.to_vec(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                let mut hit = false;
                for o in &options {
                    let Value::Bytes(p) = o else {
                        return Err(VmError::type_error(format!(
                            "a bytes-like object is required, not '{}'",
                            o.type_name()
                        )));
                    };
                    hit |= if m == M::StrStartswith {
                        b.starts_with(p)
                    } else {
                        b.ends_with(p)
                    };
                }
                Ok(Value::Bool(hit))
            }
            _ => self.call_method_of(m, this, rest, kwargs),
        }
    }

    fn call_method_of(
        &mut self,
        m: Method,
        this: &Value,
        rest: &[Value],
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match this {
            Value::Str(s) => self.str_method(m, s, rest, kwargs),
            Value::List(l) => self.list_method(m, this, l, rest, kwargs),
            Value::Dict(d) => self.dict_method(m, d, rest, kwargs),
            other => Err(VmError::type_error(format!(
                "descriptor '{}' does not apply to a '{}' object",
                m.name(),
                other.type_name()
            ))),
        }
    }

    fn str_method(
        &mut self,
        m: Method,
        s: &str,
        a: &[Value],
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use Method as M;
        let text = |t: String| Ok(Value::str(&t));
        match m {
            M::StrUpper | M::StrLower | M::StrTitle | M::StrCapitalize => {
                args_between(m, a, 0, 0)?;
                text(match m {
                    M::StrUpper => s.to_uppercase(),
                    M::StrLower => s.to_lowercase(),
                    M::StrCapitalize => {
                        let mut c = s.chars();
                        match c.next() {
                            Some(f) => f
                                .to_uppercase()
                                .chain(c.as_str().to_lowercase().chars())
                                .collect(),
                            None => String::new(),
                        }
                    }
                    _ => {
                        let mut out = String::with_capacity(s.len());
                        let mut prev_cased = false;
                        for ch in s.chars() {
                            if prev_cased {
                                out.extend(ch.to_lowercase());
                            } else {
                                out.extend(ch.to_uppercase());
                            }
                            prev_cased = ch.is_alphabetic();
                        }
                        out
                    }
                })
            }
            M::StrStrip | M::StrLstrip | M::StrRstrip => {
                args_between(m, a, 0, 1)?;
                let chars = match a.first() {
                    None | Some(Value::None) => None,
                    Some(v) => Some(str_arg(m, v)?),
                };
                let f = strip_set(chars.as_deref());
                text(match m {
                    M::StrStrip => s.trim_matches(f).to_owned(),
                    M::StrLstrip => s.trim_start_matches(f).to_owned(),
                    _ => s.trim_end_matches(f).to_owned(),
                })
            }
            M::StrSplit | M::StrRsplit => {
                let mut sep = a.first().cloned();
                let mut maxsplit = a.get(1).cloned();
                for (k, v) in kwargs {
                    match &*k {
                        "sep" => sep = Some(v),
                        "maxsplit" => maxsplit = Some(v),
                        _ => {
                            return Err(VmError::type_error(format!(
                                "split() got an unexpected keyword argument '{k}'"
                            )));
                        }
                    }
                }
                args_between(m, a, 0, 2)?;
                let sep = match sep {
                    None | Some(Value::None) => None,
                    Some(v) => Some(str_arg(m, &v)?),
                };
                let maxsplit = maxsplit.map(|v| int_arg(&v)).transpose()?.unwrap_or(-1);
                if m == M::StrRsplit && maxsplit >= 0 {
                    return Ok(Value::list(rsplit(s, sep.as_deref(), maxsplit as usize)?));
                }
                Ok(Value::list(split(s, sep.as_deref(), maxsplit)?))
            }
            M::StrSplitlines => {
                args_between(m, a, 0, 0)?;
                Ok(Value::list(s.lines().map(Value::str).collect()))
            }
            M::StrJoin => {
                args_between(m, a, 1, 1)?;
                let items = self.iterate(&a[0])?;
                let mut parts = Vec::with_capacity(items.len());
                for (k, it) in items.iter().enumerate() {
                    match it {
                        Value::Str(p) => parts.push(p.to_string()),
                        other => {
                            return Err(VmError::type_error(format!(
                                "sequence item {k}: expected str instance, {} found",
                                other.type_name()
                            )));
                        }
                    }
                }
                text(parts.join(s))
            }
            M::StrReplace => {
                args_between(m, a, 2, 3)?;
                let (old, new) = (str_arg(m, &a[0])?, str_arg(m, &a[1])?);
                let count = a.get(2).map(int_arg).transpose()?.unwrap_or(-1);
                text(if count < 0 {
                    s.replace(&*old, &new)
                } else {
                    s.replacen(&*old, &new, count as usize)
                })
            }
            M::StrStartswith | M::StrEndswith => {
                args_between(m, a, 1, 1)?;
                let options: Vec<Value> = match &a[0] {
                    Value::Tuple(t) => t.to_vec(),
                    v => vec![v.clone()],
                };
                let mut hit = false;
                for o in &options {
                    let p = str_arg(m, o)?;
                    hit |= if m == M::StrStartswith {
                        s.starts_with(&*p)
                    } else {
                        s.ends_with(&*p)
                    };
                }
                Ok(Value::Bool(hit))
            }
            M::StrRfind => {
                args_between(m, a, 1, 1)?;
                let sub = str_arg(m, &a[0])?;
                Ok(Value::Int(match s.rfind(&*sub) {
                    Some(k) => s[..k].chars().count() as i64,
                    None => -1,
                }))
            }
            M::StrIsupper | M::StrIslower => {
                args_between(m, a, 0, 0)?;
                // Cased characters all of one case, and at least one of them.
                let cased = s.chars().any(|c| c.is_uppercase() || c.is_lowercase());
                let ok = if m == M::StrIsupper {
                    !s.chars().any(char::is_lowercase)
                } else {
                    !s.chars().any(char::is_uppercase)
                };
                Ok(Value::Bool(cased && ok))
            }
            M::StrFind | M::StrIndex | M::StrCount => {
                args_between(m, a, 1, 1)?;
                let sub = str_arg(m, &a[0])?;
                if m == M::StrCount {
                    let n = if sub.is_empty() {
                        s.chars().count() + 1
                    } else {
                        s.matches(&*sub).count()
                    };
                    return Ok(Value::Int(n as i64));
                }
                match s.find(&*sub) {
                    Some(k) => Ok(Value::Int(s[..k].chars().count() as i64)),
                    None if m == M::StrFind => Ok(Value::Int(-1)),
                    None => Err(VmError::py("ValueError", "substring not found")),
                }
            }
            M::StrFormat => text(str_format(s, a, &kwargs)?),
            M::StrIsdigit | M::StrIsalpha | M::StrIsspace | M::StrIsalnum => {
                args_between(m, a, 0, 0)?;
                let test: fn(char) -> bool = match m {
                    M::StrIsdigit => |c| c.is_ascii_digit(),
                    M::StrIsalpha => char::is_alphabetic,
                    M::StrIsalnum => char::is_alphanumeric,
                    _ => char::is_whitespace,
                };
                Ok(Value::Bool(!s.is_empty() && s.chars().all(test)))
            }
            M::StrZfill => {
                args_between(m, a, 1, 1)?;
                let width = int_arg(&a[0])?;
                let (sign, digits) = match s.strip_prefix(['-', '+']) {
                    Some(rest) => (&s[..1], rest),
                    None => ("", s),
                };
                let len = s.chars().count() as i64;
                let zeros = (width - len).max(0) as usize;
                text(format!("{sign}{}{digits}", "0".repeat(zeros)))
            }
            M::StrLjust | M::StrRjust | M::StrCenter => {
                args_between(m, a, 1, 2)?;
                let width = int_arg(&a[0])?;
                let fill = match a.get(1) {
                    None => ' ',
                    Some(v) => {
                        let f = str_arg(m, v)?;
                        let mut cs = f.chars();
                        match (cs.next(), cs.next()) {
                            (Some(c), None) => c,
                            _ => {
                                return Err(VmError::type_error(
                                    "The fill character must be exactly one character long",
                                ));
                            }
                        }
                    }
                };
                let align = match m {
                    M::StrLjust => '<',
                    M::StrRjust => '>',
                    _ => '^',
                };
                text(pad(s, width, fill, align))
            }
            other => Err(VmError::type_error(format!(
                "str has no method {}",
                other.name()
            ))),
        }
    }

    fn list_method(
        &mut self,
        m: Method,
        this: &Value,
        l: &ListObj,
        a: &[Value],
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use Method as M;
        match m {
            M::ListExtend => {
                args_between(m, a, 1, 1)?;
                let items = self.iterate(&a[0])?;
                l.lock().extend(items);
                Ok(Value::None)
            }
            M::ListPop => {
                args_between(m, a, 0, 1)?;
                let mut items = l.lock();
                if items.is_empty() {
                    return Err(VmError::py("IndexError", "pop from empty list"));
                }
                let i = match a.first() {
                    Some(v) => int_arg(v)?,
                    None => -1,
                };
                let len = items.len() as i64;
                let k = if i < 0 { i + len } else { i };
                if !(0..len).contains(&k) {
                    return Err(VmError::py("IndexError", "pop index out of range"));
                }
                Ok(items.remove(k as usize))
            }
            M::ListInsert => {
                args_between(m, a, 2, 2)?;
                let i = int_arg(&a[0])?;
                let mut items = l.lock();
                let len = items.len() as i64;
                let k = if i < 0 { (i + len).max(0) } else { i.min(len) };
                items.insert(k as usize, a[1].clone());
                Ok(Value::None)
            }
            M::ListRemove | M::ListIndex | M::ListCount => {
                args_between(m, a, 1, 1)?;
                let mut items = l.lock();
                let pos = items.iter().position(|x| x.py_eq(&a[0]));
                match m {
                    M::ListCount => Ok(Value::Int(
                        items.iter().filter(|x| x.py_eq(&a[0])).count() as i64
                    )),
                    M::ListIndex => match pos {
                        Some(k) => Ok(Value::Int(k as i64)),
                        None => Err(VmError::py(
                            "ValueError",
                            format!("{} is not in list", a[0].repr()),
                        )),
                    },
                    _ => match pos {
                        Some(k) => {
                            items.remove(k);
                            Ok(Value::None)
                        }
                        None => Err(VmError::py("ValueError", "list.remove(x): x not in list")),
                    },
                }
            }
            M::ListSort => {
                args_between(m, a, 0, 0)?;
                let sorted = self.call_collection(Builtin::Sorted, vec![this.clone()], kwargs)?;
                if let Value::List(s) = sorted {
                    let items = s.lock().clone();
                    *l.lock() = items;
                }
                Ok(Value::None)
            }
            M::ListReverse => {
                args_between(m, a, 0, 0)?;
                l.lock().reverse();
                Ok(Value::None)
            }
            M::ListClear => {
                args_between(m, a, 0, 0)?;
                l.lock().clear();
                Ok(Value::None)
            }
            M::ListCopy => {
                args_between(m, a, 0, 0)?;
                Ok(Value::list(l.lock().clone()))
            }
            other => Err(VmError::type_error(format!(
                "list has no method {}",
                other.name()
            ))),
        }
    }

    fn dict_method(
        &mut self,
        m: Method,
        d: &super::object::Obj<DictObj>,
        a: &[Value],
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use Method as M;
        match m {
            M::DictItems | M::DictKeys | M::DictValues => {
                args_between(m, a, 0, 0)?;
                let kind = match m {
                    M::DictItems => ViewKind::Items,
                    M::DictKeys => ViewKind::Keys,
                    _ => ViewKind::Values,
                };
                Ok(Value::DictView(Arc::new(DictView {
                    dict: d.clone(),
                    kind,
                })))
            }
            M::DictGet => {
                args_between(m, a, 1, 2)?;
                let found = d.lock().get(&a[0])?;
                Ok(found.unwrap_or_else(|| a.get(1).cloned().unwrap_or(Value::None)))
            }
            M::DictPop => {
                args_between(m, a, 1, 2)?;
                let removed = d.lock().remove(&a[0])?;
                match removed {
                    Some(v) => Ok(v),
                    None => a
                        .get(1)
                        .cloned()
                        .ok_or_else(|| super::exception::key_error(&a[0])),
                }
            }
            M::DictSetdefault => {
                args_between(m, a, 1, 2)?;
                let mut items = d.lock();
                if let Some(v) = items.get(&a[0])? {
                    return Ok(v);
                }
                let v = a.get(1).cloned().unwrap_or(Value::None);
                items.insert(a[0].clone(), v.clone())?;
                Ok(v)
            }
            M::DictUpdate => {
                args_between(m, a, 0, 1)?;
                let mut pairs: Vec<(Value, Value)> = Vec::new();
                if let Some(src) = a.first() {
                    match src {
                        Value::Dict(o) => pairs.extend(o.lock().pairs()),
                        other => {
                            for item in self.iterate(other)? {
                                match ops::iterate(&item)?.as_slice() {
                                    [k, v] => pairs.push((k.clone(), v.clone())),
                                    _ => {
                                        return Err(VmError::py(
                                            "ValueError",
                                            "dictionary update sequence element has wrong length",
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                pairs.extend(kwargs.into_iter().map(|(k, v)| (Value::Str(k), v)));
                let mut items = d.lock();
                for (k, v) in pairs {
                    items.insert(k, v)?;
                }
                Ok(Value::None)
            }
            M::DictClear => {
                args_between(m, a, 0, 0)?;
                d.lock().clear();
                Ok(Value::None)
            }
            M::DictCopy => {
                args_between(m, a, 0, 0)?;
                let pairs = d.lock().pairs();
                Ok(Value::Dict(super::object::Obj::new(
                    super::value::DictObj::new(pairs)?,
                )))
            }
            other => Err(VmError::type_error(format!(
                "dict has no method {}",
                other.name()
            ))),
        }
    }
}
