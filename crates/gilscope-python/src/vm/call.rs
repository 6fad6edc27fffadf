//! Binding a call's arguments to a Python function's parameters, as CPython's
//! `initialize_locals` does: positional, then keywords by name, then defaults, with `*args`
//! and `**kwargs` collecting the rest, and CPython's `TypeError` texts for what does not fit.

use std::sync::Arc;

use super::VmError;
use super::code::Code;
use super::object::Obj;
use super::value::{DictObj, Function, Value};

/// Keyword arguments of one call, in the order given.
pub type Kwargs = Vec<(Arc<str>, Value)>;

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`, as CPython lists missing arguments.
fn name_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The locals of a new frame of `f` called with `args` and `kwargs`: every parameter bound,
/// the other locals unbound (NULL).
pub fn bind(f: &Function, mut args: Vec<Value>, kwargs: Kwargs) -> Result<Vec<Value>, VmError> {
    let code: &Code = &f.code;
    let name = &code.qualname;
    let npos = code.argcount;
    let nkwonly = code.kwonlyargcount;
    let nparams = npos + nkwonly + usize::from(code.varargs) + usize::from(code.varkeywords);
    let mut locals = vec![Value::Null; code.nlocalsplus().max(nparams)];

    // Positional arguments, the surplus into *args.
    let have = args.len();
    if have > npos && !code.varargs {
        let given_kw = kwargs
            .iter()
            .filter(|(k, _)| code.varnames[npos..npos + nkwonly].contains(k))
            .count();
        let first_default = npos - f.defaults.len().min(npos);
        let takes = if f.defaults.is_empty() {
            format!("{npos} positional argument{}", plural(npos))
        } else {
            format!("from {first_default} to {npos} positional arguments")
        };
        let given = if given_kw > 0 {
            format!(
                "{have} positional argument{} (and {given_kw} keyword-only argument{})",
                plural(have),
                plural(given_kw)
            )
        } else {
            format!("{have}")
        };
        let were = if have == 1 && given_kw == 0 {
            "was"
        } else {
            "were"
        };
        return Err(VmError::type_error(format!(
            "{name}() takes {takes} but {given} {were} given"
        )));
    }
    let surplus = if have > npos {
        args.split_off(npos)
    } else {
        Vec::new()
    };
    for (slot, v) in locals.iter_mut().zip(args) {
        *slot = v;
    }
    let mut at = npos + nkwonly;
    if code.varargs {
        locals[at] = Value::Tuple(surplus.into());
        at += 1;
    }
    let kwdict = code.varkeywords.then(|| Obj::new(DictObj::default()));
    if let Some(d) = &kwdict {
        locals[at] = Value::Dict(d.clone());
    }

    // Keywords by name; the positional-only names only through **kwargs.
    let mut posonly_passed = Vec::new();
    for (key, value) in kwargs {
        let found = code.varnames[..npos + nkwonly]
            .iter()
            .position(|n| **n == *key);
        match found {
            Some(k) if k >= code.posonlyargcount => {
                if !matches!(locals[k], Value::Null) {
                    return Err(VmError::type_error(format!(
                        "{name}() got multiple values for argument '{key}'"
                    )));
                }
                locals[k] = value;
            }
            _ => match &kwdict {
                Some(d) => d.lock().insert(Value::Str(key), value)?,
                None if found.is_some() => posonly_passed.push(key),
                None => {
                    return Err(VmError::type_error(format!(
                        "{name}() got an unexpected keyword argument '{key}'"
                    )));
                }
            },
        }
    }
    if !posonly_passed.is_empty() {
        let names: Vec<&str> = posonly_passed.iter().map(|s| &**s).collect();
        return Err(VmError::type_error(format!(
            "{name}() got some positional-only arguments passed as keyword arguments: '{}'",
            names.join(", ")
        )));
    }

    // Defaults for the positional parameters left, then for the keyword-only ones.
    let first_default = npos - f.defaults.len().min(npos);
    let mut missing = Vec::new();
    for (k, slot) in locals.iter_mut().enumerate().take(npos) {
        if matches!(slot, Value::Null) {
            if k >= first_default {
                *slot = f.defaults[k - first_default].clone();
            } else {
                missing.push(&*code.varnames[k]);
            }
        }
    }
    if !missing.is_empty() {
        return Err(VmError::type_error(format!(
            "{name}() missing {} required positional argument{}: {}",
            missing.len(),
            plural(missing.len()),
            name_list(&missing)
        )));
    }
    for (slot, pname) in locals[npos..npos + nkwonly]
        .iter_mut()
        .zip(&code.varnames[npos..npos + nkwonly])
    {
        if matches!(slot, Value::Null) {
            match f.kwdefaults.iter().find(|(n, _)| n == pname) {
                Some((_, v)) => *slot = v.clone(),
                None => missing.push(&**pname),
            }
        }
    }
    if !missing.is_empty() {
        return Err(VmError::type_error(format!(
            "{name}() missing {} required keyword-only argument{}: {}",
            missing.len(),
            plural(missing.len()),
            name_list(&missing)
        )));
    }
    // COPY_FREE_VARS: the closure's cells take the last slots.
    let first_free = locals.len() - f.closure.len().min(locals.len());
    for (slot, cell) in locals[first_free..].iter_mut().zip(&f.closure) {
        *slot = cell.clone();
    }
    Ok(locals)
}

/// The keyword arguments a `**` mapping gives, refusing keys that are not strings.
pub fn kwargs_of(name: &str, mapping: &Value) -> Result<Kwargs, VmError> {
    match mapping {
        Value::Dict(d) => d
            .lock()
            .iter()
            .map(|(k, v)| match k {
                Value::Str(s) => Ok((Arc::clone(s), v.clone())),
                _ => Err(VmError::type_error("keywords must be strings")),
            })
            .collect(),
        other => Err(VmError::type_error(format!(
            "{name}() argument after ** must be a mapping, not {}",
            other.type_name()
        ))),
    }
}

/// Binds a builtin's arguments to its parameter names, as a Python signature would:
/// positional first (at most `max_positional`), then keywords; each unknown keyword is an error.
pub(super) fn bind_params(
    fname: &str,
    names: &[&str],
    max_positional: usize,
    args: Vec<Value>,
    kwargs: Kwargs,
) -> Result<Vec<Option<Value>>, VmError> {
    if args.len() > max_positional {
        return Err(VmError::type_error(format!(
            "{fname}() takes at most {max_positional} positional arguments ({} given)",
            args.len()
        )));
    }
    let mut out: Vec<Option<Value>> = vec![None; names.len()];
    for (slot, v) in out.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kwargs {
        let Some(i) = names.iter().position(|n| **n == *k) else {
            return Err(VmError::type_error(format!(
                "{fname}() got an unexpected keyword argument '{k}'"
            )));
        };
        if out[i].is_some() {
            return Err(VmError::type_error(format!(
                "{fname}() got multiple values for argument '{k}'"
            )));
        }
        out[i] = Some(v);
    }
    Ok(out)
}
