//! Exceptions as objects: classes (the built-in hierarchy of `Objects/exceptions.c`), their
//! instances with `args`, `__traceback__`, `__context__` and `__cause__`, and the moves
//! between an exception in flight (a [`PyException`] in a `VmError`) and one a handler holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::class::{ClassObj, Instance, Native, object_class};
use super::object::Obj;
use super::object::lock;
use super::traceback::TraceEntry;
use super::value::Value;
use super::{PyException, VmError};

/// What an exception instance carries besides its class.
#[derive(Debug, Default)]
pub struct ExcState {
    args: Mutex<Vec<Value>>,
    traceback: Mutex<Vec<TraceEntry>>,
    context: Mutex<Option<Value>>,
    cause: Mutex<Option<Value>>,
    suppress_context: AtomicBool,
}

impl ExcState {
    /// The state of a new exception called with `args`.
    pub fn new(args: Vec<Value>) -> Self {
        Self {
            args: Mutex::new(args),
            ..Self::default()
        }
    }

    /// `BaseException.__init__(*args)`: sets `args`.
    pub fn set_args(&self, args: Vec<Value>) {
        *lock(&self.args) = args;
    }
}

impl Instance {
    /// `args`, or nothing for a non-exception.
    pub fn args(&self) -> Vec<Value> {
        self.exc
            .as_ref()
            .map(|e| lock(&e.args).clone())
            .unwrap_or_default()
    }

    /// `str(exc)`: nothing, the one argument as str (a `KeyError`'s as its repr), or the
    /// tuple of arguments.
    pub fn exc_str(&self) -> String {
        let args = self.args();
        match &args[..] {
            [] => String::new(),
            [one] if builtin_class("KeyError").is_some_and(|k| self.class.is_subclass_of(&k)) => {
                one.repr()
            }
            [one] => one.to_str(),
            _ => Value::Tuple(args.into()).repr(),
        }
    }

    /// `repr(exc)`: `ValueError('bad')`.
    pub fn exc_repr(&self) -> String {
        let args = self.args();
        let inner: Vec<String> = args.iter().map(Value::repr).collect();
        format!("{}({})", self.class.name, inner.join(", "))
    }

    /// `__context__`.
    pub fn context(&self) -> Option<Value> {
        self.exc.as_ref().and_then(|e| lock(&e.context).clone())
    }

    /// `__cause__`.
    pub fn cause(&self) -> Option<Value> {
        self.exc.as_ref().and_then(|e| lock(&e.cause).clone())
    }

    /// `__suppress_context__` (set by `raise … from …`).
    pub fn suppress_context(&self) -> bool {
        self.exc
            .as_ref()
            .is_some_and(|e| e.suppress_context.load(Ordering::Relaxed))
    }

    /// The frames it has unwound so far, innermost first.
    pub fn traceback(&self) -> Vec<TraceEntry> {
        self.exc
            .as_ref()
            .map(|e| lock(&e.traceback).clone())
            .unwrap_or_default()
    }
}

/// `BaseException` and its subclasses, child then parent.
const HIERARCHY: &[(&str, &str)] = &[
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("ArithmeticError", "Exception"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("FloatingPointError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("BufferError", "Exception"),
    ("EOFError", "Exception"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("MemoryError", "Exception"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("OSError", "Exception"),
    ("BlockingIOError", "OSError"),
    ("ChildProcessError", "OSError"),
    ("ConnectionError", "OSError"),
    ("BrokenPipeError", "ConnectionError"),
    ("ConnectionAbortedError", "ConnectionError"),
    ("ConnectionRefusedError", "ConnectionError"),
    ("ConnectionResetError", "ConnectionError"),
    ("FileExistsError", "OSError"),
    ("FileNotFoundError", "OSError"),
    ("InterruptedError", "OSError"),
    ("IsADirectoryError", "OSError"),
    ("NotADirectoryError", "OSError"),
    ("PermissionError", "OSError"),
    // io.UnsupportedOperation (also a ValueError in CPython; one base here).
    ("UnsupportedOperation", "OSError"),
    ("ProcessLookupError", "OSError"),
    // pickle's (`_pickle.PicklingError`): what a process pool raises for a lambda.
    ("PickleError", "Exception"),
    ("PicklingError", "PickleError"),
    ("TimeoutError", "OSError"),
    ("ReferenceError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("StopIteration", "Exception"),
    ("StopAsyncIteration", "Exception"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("TabError", "IndentationError"),
    ("SystemError", "Exception"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("UnicodeDecodeError", "UnicodeError"),
    ("UnicodeEncodeError", "UnicodeError"),
    ("Warning", "Exception"),
    ("DeprecationWarning", "Warning"),
    ("PendingDeprecationWarning", "Warning"),
    ("RuntimeWarning", "Warning"),
    ("UserWarning", "Warning"),
    ("FutureWarning", "Warning"),
];

fn classes() -> &'static HashMap<&'static str, Arc<ClassObj>> {
    static CLASSES: OnceLock<HashMap<&'static str, Arc<ClassObj>>> = OnceLock::new();
    CLASSES.get_or_init(|| {
        let mut map: HashMap<&'static str, Arc<ClassObj>> = HashMap::new();
        map.insert(
            "BaseException",
            Arc::new(ClassObj::builtin(
                "BaseException",
                vec![object_class()],
                Native::Exception,
            )),
        );
        for &(name, parent) in HIERARCHY {
            let bases = map.get(parent).cloned().into_iter().collect();
            map.insert(
                name,
                Arc::new(ClassObj::builtin(name, bases, Native::Exception)),
            );
        }
        for (alias, of) in [("EnvironmentError", "OSError"), ("IOError", "OSError")] {
            if let Some(c) = map.get(of).cloned() {
                map.insert(alias, c);
            }
        }
        map
    })
}

/// The built-in exception class named `name`, if there is one.
pub fn builtin_class(name: &str) -> Option<Arc<ClassObj>> {
    classes().get(name).cloned()
}

/// A new instance of exception class `class` with `args`.
pub fn new_exception(class: Arc<ClassObj>, args: Vec<Value>) -> Value {
    Value::Instance(Obj::new(Instance::new(class, args)))
}

/// The exception object of an exception in flight, made on first need; the frames unwound
/// so far become its `__traceback__`.
pub fn caught(p: &PyException) -> Value {
    let v = match &p.value {
        Some(v) => v.clone(),
        None => {
            let class = builtin_class(&p.exc)
                .or_else(|| builtin_class("Exception"))
                .unwrap_or_else(|| {
                    Arc::new(ClassObj::builtin(&p.exc, Vec::new(), Native::Exception))
                });
            let args = if p.msg.is_empty() {
                Vec::new()
            } else {
                vec![Value::str(&p.msg)]
            };
            new_exception(class, args)
        }
    };
    if let Value::Instance(i) = &v
        && let Some(e) = &i.exc
    {
        *lock(&e.traceback) = p.traceback.clone();
    }
    v
}

/// A built-in exception (`StopIteration`…) made with `args` and raised.
pub fn raise_builtin(name: &'static str, args: Vec<Value>) -> VmError {
    match builtin_class(name) {
        Some(c) => raise(new_exception(c, args)),
        None => VmError::py(name, args.first().map(Value::repr).unwrap_or_default()),
    }
}

/// `KeyError(key)`, raised: its `args` hold the key itself, its text the key's repr.
pub fn key_error(key: &Value) -> VmError {
    raise_builtin("KeyError", vec![key.clone()])
}

/// An exception object raised (again): in flight with the traceback it carries.
pub fn raise(v: Value) -> VmError {
    match &v {
        Value::Instance(i) if i.exc.is_some() => VmError::Py(Box::new(PyException {
            exc: i.class.qualified_name(),
            msg: i.exc_str(),
            at: None,
            traceback: i.traceback(),
            value: Some(v.clone()),
        })),
        _ => VmError::type_error("exceptions must derive from BaseException"),
    }
}

/// `raise X`: a class is called with no arguments; an instance is raised as it is.
pub fn to_exception(v: Value) -> Result<Value, VmError> {
    match v {
        Value::Class(c) if c.is_exception() => Ok(new_exception(c, Vec::new())),
        v @ Value::Instance(_) if matches!(&v, Value::Instance(i) if i.exc.is_some()) => Ok(v),
        _ => Err(VmError::type_error(
            "exceptions must derive from BaseException",
        )),
    }
}

/// Sets `__context__` of `exc` to the exception being handled, as raising inside a handler
/// does (never to itself).
pub fn set_context(exc: &Value, handled: &Value) {
    if let Value::Instance(i) = exc
        && let Some(e) = &i.exc
        && matches!(handled, Value::Instance(_))
        && !super::ops::is_same(exc, handled)
    {
        let mut ctx = lock(&e.context);
        if ctx.is_none() {
            *ctx = Some(handled.clone());
        }
    }
}

/// `raise exc from cause`: `__cause__` set, `__suppress_context__` true.
pub fn set_cause(exc: &Value, cause: Option<Value>) {
    if let Value::Instance(i) = exc
        && let Some(e) = &i.exc
    {
        *lock(&e.cause) = cause;
        e.suppress_context.store(true, Ordering::Relaxed);
    }
}

/// `CHECK_EXC_MATCH`: whether `exc` is an instance of `of`, a class or a tuple of classes.
pub fn matches(exc: &Value, of: &Value) -> Result<bool, VmError> {
    let Value::Instance(i) = exc else {
        return Ok(false);
    };
    match of {
        Value::Class(c) if c.is_exception() => Ok(i.class.is_subclass_of(c)),
        Value::Tuple(items) => {
            for it in items.iter() {
                if matches(exc, it)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Err(VmError::type_error(
            "catching classes that do not inherit from BaseException is not allowed",
        )),
    }
}
