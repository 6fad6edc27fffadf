//! Classes and their instances, as `Objects/typeobject.c` and `Python/bltinmodule.c`'s
//! `__build_class__` make them: a class namespace filled by running the body, the C3 method
//! resolution order, attribute lookup (instance, then the classes in MRO order, functions bound
//! as methods), `super()`, and the built-in bases a program may derive from (`object`, the
//! exceptions, `threading.Thread`).

use std::sync::{Arc, Mutex, OnceLock};

use super::VmError;
use super::exception::ExcState;
use super::multiprocessing::MpObj;
use super::object::Obj;
use super::object::lock;
use super::thread::ThreadObj;
use super::value::Value;

/// What a built-in class brings to its instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    /// Nothing (`object`, a program's own class).
    Plain,
    /// `BaseException` and its subclasses: `args`, traceback, cause and context.
    Exception,
    /// `threading.Thread`: a thread the instance starts.
    Thread,
    /// `multiprocessing.Process`: a process the instance starts.
    Process,
}

/// A class.
#[derive(Debug)]
pub struct ClassObj {
    /// `__name__`.
    pub name: Arc<str>,
    /// `__bases__`.
    pub bases: Vec<Arc<ClassObj>>,
    /// `__mro__` after the class itself.
    pub mro: Vec<Arc<ClassObj>>,
    /// The class namespace: methods and class attributes.
    dict: Mutex<Vec<(Arc<str>, Value)>>,
    /// The built-in behaviour its instances inherit.
    pub native: Native,
    /// Whether a program defined it (its instances print as `<__main__.Name object>`).
    pub user: bool,
    /// The module of a library class (`urllib.error`), as tracebacks name it.
    pub module: Option<Arc<str>>,
}

/// C3 linearisation of `bases` (each with its own MRO), or `None` when there is none.
fn c3(bases: &[Arc<ClassObj>]) -> Option<Vec<Arc<ClassObj>>> {
    let mut seqs: Vec<Vec<Arc<ClassObj>>> = bases
        .iter()
        .map(|b| {
            let mut s = vec![Arc::clone(b)];
            s.extend(b.mro.iter().cloned());
            s
        })
        .collect();
    seqs.push(bases.to_vec());
    let mut out = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Some(out);
        }
        let head = seqs.iter().find_map(|s| {
            let h = &s[0];
            let in_tail = seqs
                .iter()
                .any(|t| t[1..].iter().any(|x| Arc::ptr_eq(x, h)));
            (!in_tail).then(|| Arc::clone(h))
        })?;
        for s in &mut seqs {
            if Arc::ptr_eq(&s[0], &head) {
                s.remove(0);
            }
        }
        out.push(head);
    }
}

impl ClassObj {
    /// A built-in class deriving from `bases`.
    pub fn builtin(name: &str, bases: Vec<Arc<ClassObj>>, native: Native) -> Self {
        let mro = c3(&bases).unwrap_or_default();
        Self {
            name: Arc::from(name),
            bases,
            mro,
            dict: Mutex::new(Vec::new()),
            native,
            user: false,
            module: None,
        }
    }

    /// A library module's class (`urllib.error.URLError`): tracebacks print it qualified.
    pub fn in_module(module: &str, name: &str, bases: Vec<Arc<ClassObj>>, native: Native) -> Self {
        Self {
            module: Some(Arc::from(module)),
            ..Self::builtin(name, bases, native)
        }
    }

    /// The global that binds a program's class, as pickle finds it: its name, under its
    /// module's prefix when one of the script's modules defined it (`helper.Point`), read off
    /// one of its methods.
    pub fn global_name(&self) -> String {
        let prefix = self
            .dict
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find_map(|(_, v)| match v {
                Value::Function(f) => Some(Arc::clone(&f.code.module_prefix)),
                _ => None,
            });
        format!("{}{}", prefix.as_deref().unwrap_or(""), self.name)
    }

    /// The name a traceback prints: `module.Name` for a library module's class.
    pub fn qualified_name(&self) -> Arc<str> {
        match &self.module {
            Some(m) => Arc::from(format!("{m}.{}", self.name)),
            None => Arc::clone(&self.name),
        }
    }

    /// A program's class, or the `TypeError` CPython gives for bases with no consistent MRO.
    pub fn user(
        name: &str,
        bases: Vec<Arc<ClassObj>>,
        dict: Vec<(Arc<str>, Value)>,
    ) -> Result<Self, VmError> {
        let bases = if bases.is_empty() {
            vec![object_class()]
        } else {
            bases
        };
        let mro = c3(&bases).ok_or_else(|| {
            VmError::type_error(
                "Cannot create a consistent method resolution order (MRO) for bases",
            )
        })?;
        let native = mro
            .iter()
            .map(|c| c.native)
            .find(|n| *n != Native::Plain)
            .unwrap_or(Native::Plain);
        Ok(Self {
            name: Arc::from(name),
            bases,
            mro,
            dict: Mutex::new(dict),
            native,
            user: true,
            module: None,
        })
    }

    /// Whether `self` is `other` or derives from it (`issubclass`).
    pub fn is_subclass_of(&self, other: &ClassObj) -> bool {
        std::ptr::eq(self, other) || self.mro.iter().any(|c| std::ptr::eq(&**c, other))
    }

    /// Whether instances of this class can be raised.
    pub fn is_exception(&self) -> bool {
        self.native == Native::Exception
    }

    /// `name` in this class's own namespace.
    pub fn own(&self, name: &str) -> Option<Value> {
        lock(&self.dict)
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.clone())
    }

    /// `name` looked up along the MRO (the class, then its ancestors).
    pub fn lookup(&self, name: &str) -> Option<Value> {
        self.own(name)
            .or_else(|| self.mro.iter().find_map(|c| c.own(name)))
    }

    /// `name` looked up along the MRO after `after` (what `super()` searches).
    pub fn lookup_after(&self, after: &ClassObj, name: &str) -> Option<Value> {
        let mut chain = std::iter::once(self).chain(self.mro.iter().map(|c| &**c));
        chain.find(|c| std::ptr::eq(*c, after))?;
        chain.find_map(|c| c.own(name))
    }

    /// Sets a class attribute.
    pub fn set(&self, name: &str, v: Value) {
        let mut d = lock(&self.dict);
        match d.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = v,
            None => d.push((Arc::from(name), v)),
        }
    }

    /// Whether a program's code defines `name` somewhere along the MRO (a dunder to call).
    pub fn user_method(&self, name: &str) -> Option<Value> {
        match self.lookup(name) {
            // A named tuple's methods are the interpreter's, in the class like a program's.
            Some(
                f @ (Value::Function(_) | Value::Builtin(super::value::Builtin::NamedTuple(_))),
            ) => Some(f),
            _ => None,
        }
    }
}

/// An instance of a class.
#[derive(Debug)]
pub struct Instance {
    /// Its class.
    pub class: Arc<ClassObj>,
    /// The exception state, for instances of exception classes.
    pub exc: Option<ExcState>,
    /// The thread, for instances of a `threading.Thread` subclass, once `__init__` made it.
    pub thread: Mutex<Option<Obj<ThreadObj>>>,
    /// The process, for instances of a `multiprocessing.Process` subclass, once `__init__`
    /// made it.
    process: Mutex<Option<Arc<MpObj>>>,
    attrs: Mutex<Vec<(Arc<str>, Value)>>,
}

impl Instance {
    /// A new instance of `class` (exception state made for an exception class).
    pub fn new(class: Arc<ClassObj>, args: Vec<Value>) -> Self {
        let exc = class.is_exception().then(|| ExcState::new(args));
        Self {
            class,
            exc,
            thread: Mutex::new(None),
            process: Mutex::new(None),
            attrs: Mutex::new(Vec::new()),
        }
    }

    /// An instance attribute (`__dict__[name]`).
    pub fn attr(&self, name: &str) -> Option<Value> {
        lock(&self.attrs)
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.clone())
    }

    /// Sets an instance attribute.
    pub fn set_attr(&self, name: &str, v: Value) {
        let mut a = lock(&self.attrs);
        match a.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = v,
            None => a.push((Arc::from(name), v)),
        }
    }

    /// Removes an instance attribute; whether it was there.
    pub fn del_attr(&self, name: &str) -> bool {
        let mut a = lock(&self.attrs);
        let before = a.len();
        a.retain(|(k, _)| &**k != name);
        a.len() != before
    }

    /// The thread of a `Thread` subclass's instance.
    pub fn thread(&self) -> Option<Obj<ThreadObj>> {
        lock(&self.thread).clone()
    }

    /// Sets the thread of a `Thread` subclass's instance.
    pub fn set_thread(&self, t: Obj<ThreadObj>) {
        *lock(&self.thread) = Some(t);
    }

    /// The process of a `Process` subclass's instance, once made.
    pub fn process(&self) -> Option<Arc<MpObj>> {
        lock(&self.process).clone()
    }

    /// Sets the process of a `Process` subclass's instance.
    pub fn set_process(&self, p: Arc<MpObj>) {
        *lock(&self.process) = Some(p);
    }

    /// The instance's `__dict__`, in insertion order.
    pub fn attrs(&self) -> Vec<(Arc<str>, Value)> {
        lock(&self.attrs).clone()
    }
}

/// `super()` bound: look up after `class` in the MRO of `this`'s class.
#[derive(Debug)]
pub struct SuperObj {
    /// The class whose method called `super()`.
    pub class: Arc<ClassObj>,
    /// The instance (or class) it was called on.
    pub this: Value,
}

/// `staticmethod`, `classmethod` and `property` objects in a class namespace.
#[derive(Debug)]
pub enum Descriptor {
    /// `@staticmethod`: called without the instance.
    Static(Value),
    /// `@classmethod`: called with the class.
    ClassMethod(Value),
    /// `@property`: the getter called on attribute access, the setter on assignment.
    Property {
        /// The getter.
        fget: Value,
        /// The setter, once `@x.setter` gave one.
        fset: Option<Value>,
    },
}

/// `object`, the root of every class.
pub fn object_class() -> Arc<ClassObj> {
    static OBJECT: OnceLock<Arc<ClassObj>> = OnceLock::new();
    Arc::clone(
        OBJECT.get_or_init(|| Arc::new(ClassObj::builtin("object", Vec::new(), Native::Plain))),
    )
}

/// `multiprocessing.Process` as a base class.
pub fn process_class() -> Arc<ClassObj> {
    static PROCESS: OnceLock<Arc<ClassObj>> = OnceLock::new();
    Arc::clone(PROCESS.get_or_init(|| {
        Arc::new(ClassObj::in_module(
            "multiprocessing.context",
            "Process",
            vec![object_class()],
            Native::Process,
        ))
    }))
}

/// `threading.Thread` as a base class.
pub fn thread_class() -> Arc<ClassObj> {
    static THREAD: OnceLock<Arc<ClassObj>> = OnceLock::new();
    Arc::clone(THREAD.get_or_init(|| {
        Arc::new(ClassObj::builtin(
            "Thread",
            vec![object_class()],
            Native::Thread,
        ))
    }))
}
