//! What the eval loop does with classes and instances: `__build_class__`, calling a class
//! (`__init__`), attribute get/set/delete with methods bound and descriptors applied, `super()`,
//! and the dunder methods a program defines (`__repr__`, `__eq__`, `__len__`, `__iter__`…)
//! called where CPython's slots would call them.

use std::sync::Arc;

use super::call::Kwargs;
use super::class::{
    ClassObj, Descriptor, Instance, Native, SuperObj, object_class, process_class, thread_class,
};
use super::code::{BinOp, CmpOp};
use super::collections::{CollFn, DictKind};
use super::multiprocessing::MpFn;
use super::object::Obj;
use super::thread::ThreadObj;
use super::value::{BoundMethod, Builtin, DictObj, StdModule, Value};
use super::{Host, Vm, VmError, ops};

fn bound(this: Value, func: Value) -> Value {
    Value::Method(Arc::new(BoundMethod { this, func }))
}

fn no_attr(v: &Value, name: &str) -> VmError {
    let what = match v {
        Value::Instance(i) => format!("'{}' object", i.class.name),
        Value::Class(c) => format!("type object '{}'", c.name),
        other => format!("'{}' object", other.type_name()),
    };
    VmError::py(
        "AttributeError",
        format!("{what} has no attribute '{name}'"),
    )
}

/// The dunder names of `BINARY_OP`'s operators, plain and reflected.
fn binop_dunders(op: BinOp) -> (&'static str, &'static str) {
    const NAMES: [(&str, &str); 13] = [
        ("__add__", "__radd__"),
        ("__and__", "__rand__"),
        ("__floordiv__", "__rfloordiv__"),
        ("__lshift__", "__rlshift__"),
        ("__matmul__", "__rmatmul__"),
        ("__mul__", "__rmul__"),
        ("__mod__", "__rmod__"),
        ("__or__", "__ror__"),
        ("__pow__", "__rpow__"),
        ("__rshift__", "__rrshift__"),
        ("__sub__", "__rsub__"),
        ("__truediv__", "__rtruediv__"),
        ("__xor__", "__rxor__"),
    ];
    NAMES[(op.base().0 % 13) as usize]
}

/// The dunder of a comparison, and the one tried on the other operand.
fn cmp_dunders(op: CmpOp) -> (&'static str, &'static str) {
    match op {
        CmpOp::Lt => ("__lt__", "__gt__"),
        CmpOp::Le => ("__le__", "__ge__"),
        CmpOp::Eq => ("__eq__", "__eq__"),
        CmpOp::Ne => ("__ne__", "__ne__"),
        CmpOp::Gt => ("__gt__", "__lt__"),
        CmpOp::Ge => ("__ge__", "__le__"),
    }
}

/// The class a base expression names (`threading.Thread` included).
fn base_class(v: &Value) -> Result<Arc<ClassObj>, VmError> {
    match v {
        Value::Class(c) => Ok(Arc::clone(c)),
        Value::Builtin(Builtin::ThreadingThread) => Ok(thread_class()),
        Value::Builtin(Builtin::Mp(MpFn::Process)) => Ok(process_class()),
        Value::Builtin(Builtin::Object) => Ok(object_class()),
        other => Err(VmError::type_error(format!(
            "bases must be types, not {}",
            other.type_name()
        ))),
    }
}

impl<H: Host> Vm<'_, H> {
    /// `__build_class__(func, name, *bases)`: runs the body in a new namespace, makes the class
    /// and fills the `__class__` cell its methods' `super()` reads.
    pub(super) fn build_class(
        &mut self,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        if let Some((k, _)) = kwargs.iter().find(|(k, _)| &**k != "metaclass") {
            return Err(VmError::type_error(format!(
                "__init_subclass__() takes no keyword arguments (got '{k}')"
            )));
        }
        let mut it = args.into_iter();
        let (Some(Value::Function(body)), Some(Value::Str(name))) = (it.next(), it.next()) else {
            return Err(VmError::type_error(
                "__build_class__: func must be a function",
            ));
        };
        let bases = it.map(|b| base_class(&b)).collect::<Result<Vec<_>, _>>()?;
        let ns = Obj::new(DictObj::default());
        let mut locals = super::call::bind(&body, Vec::new(), Vec::new())?;
        locals.push(Value::Dict(ns.clone()));
        let cell = self.nested_frame(&body.code, locals)?;
        let dict: Vec<(Arc<str>, Value)> = ns
            .lock()
            .iter()
            .filter_map(|(k, v)| match k {
                Value::Str(s) => Some((Arc::clone(s), v.clone())),
                _ => None,
            })
            .collect();
        let class = Arc::new(ClassObj::user(&name, bases, dict)?);
        if let Value::Cell(c) = cell {
            c.set(Value::Class(Arc::clone(&class)));
        }
        Ok(Value::Class(class))
    }

    /// Calls a class: a new instance, then `__init__` (a `Thread` subclass's thread is made by
    /// `Thread.__init__`).
    pub(super) fn instantiate(
        &mut self,
        c: &Arc<ClassObj>,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let inst = Value::Instance(Obj::new(Instance::new(Arc::clone(c), args.clone())));
        match c.lookup("__init__") {
            Some(init @ (Value::Function(_) | Value::Builtin(Builtin::NamedTuple(_)))) => {
                let mut with_self = Vec::with_capacity(args.len() + 1);
                with_self.push(inst.clone());
                with_self.extend(args);
                let r = self.call_value_kw(&init, with_self, kwargs)?;
                if !matches!(r, Value::None) {
                    return Err(VmError::type_error(format!(
                        "__init__() should return None, not '{}'",
                        r.type_name()
                    )));
                }
            }
            _ => match c.native {
                Native::Exception => {}
                Native::Thread => {
                    let mut with_self = vec![inst.clone()];
                    with_self.extend(args);
                    self.thread_init(with_self, kwargs)?;
                }
                Native::Process => {
                    let mut with_self = vec![inst.clone()];
                    with_self.extend(args);
                    self.process_init(with_self, kwargs)?;
                }
                Native::Plain => {
                    if !args.is_empty() || !kwargs.is_empty() {
                        return Err(VmError::type_error(format!(
                            "{}() takes no arguments",
                            c.name
                        )));
                    }
                }
            },
        }
        Ok(inst)
    }

    /// `Thread.__init__(self, group=None, target=None, name=None, args=(), kwargs=None, *,
    /// daemon=None)` for a subclass's instance: its thread runs the class's `run` when the
    /// class overrides it.
    pub(super) fn thread_init(
        &mut self,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let mut it = args.into_iter();
        let Some(Value::Instance(inst)) = it.next() else {
            return Err(VmError::type_error(
                "Thread.__init__() needs a Thread instance",
            ));
        };
        let made = self.call_threading(Builtin::ThreadingThread, it.collect(), kwargs)?;
        let Value::Thread(t) = made else {
            return Err(VmError::py("SystemError", "Thread() made no thread"));
        };
        let t = match inst.class.user_method("run") {
            Some(run) => Obj::new(ThreadObj::new(
                bound(Value::Instance(inst.clone()), run),
                Vec::new(),
                Vec::new(),
                Some(t.name()),
                t.daemon.load(std::sync::atomic::Ordering::Relaxed),
                0,
            )),
            None => t,
        };
        inst.set_thread(t);
        Ok(Value::None)
    }

    /// `obj.name` for classes, instances and `super()`.
    pub(super) fn get_attr(&mut self, v: &Value, name: &str) -> Result<Value, VmError> {
        match v {
            Value::Instance(i) => {
                if let Some(a) = i.attr(name) {
                    return Ok(a);
                }
                if let Some(found) = i.class.lookup(name) {
                    return self.bind_found(found, v, &i.class);
                }
                if let Some(t) = i.thread() {
                    let tv = Value::Thread(t);
                    if let Ok(a) = ops::load_attr(&tv, name) {
                        return Ok(a);
                    }
                }
                if let Some(p) = self.process_of(i)? {
                    let pv = Value::Mp(p);
                    if let Ok(a) = ops::load_attr(&pv, name) {
                        return Ok(a);
                    }
                }
                match name {
                    "__class__" => Ok(Value::Class(Arc::clone(&i.class))),
                    "__dict__" => Err(no_attr(v, name)),
                    _ if i.exc.is_some() => ops::load_attr(v, name),
                    _ => Err(no_attr(v, name)),
                }
            }
            Value::Class(c) => match c.lookup(name) {
                Some(Value::Descriptor(d)) => match &*d {
                    Descriptor::Static(f) => Ok(f.clone()),
                    Descriptor::ClassMethod(f) => Ok(bound(v.clone(), f.clone())),
                    Descriptor::Property { .. } => Ok(Value::Descriptor(d.clone())),
                },
                Some(found) => Ok(found),
                None => match name {
                    "__name__" | "__qualname__" => Ok(Value::Str(Arc::clone(&c.name))),
                    "__mro__" => {
                        let mut m = vec![v.clone()];
                        m.extend(c.mro.iter().map(|x| Value::Class(Arc::clone(x))));
                        Ok(Value::Tuple(m.into()))
                    }
                    "__bases__" => Ok(Value::Tuple(
                        c.bases
                            .iter()
                            .map(|x| Value::Class(Arc::clone(x)))
                            .collect(),
                    )),
                    _ => Err(no_attr(v, name)),
                },
            },
            Value::Super(s) => {
                let class = match &s.this {
                    Value::Instance(i) => Arc::clone(&i.class),
                    Value::Class(c) => Arc::clone(c),
                    _ => return Err(no_attr(v, name)),
                };
                if let Some(found) = class.lookup_after(&s.class, name) {
                    return self.bind_found(found, &s.this, &class);
                }
                // The built-in bases' own methods.
                let native = match name {
                    "__init__" => Some(match class.native {
                        Native::Exception => Builtin::ExcInit,
                        Native::Thread => Builtin::ThreadInit,
                        Native::Process => Builtin::ProcessInit,
                        Native::Plain => Builtin::ObjectInit,
                    }),
                    "__str__" | "__repr__" => Some(Builtin::ObjectRepr),
                    _ => None,
                };
                match native {
                    Some(b) => Ok(bound(s.this.clone(), Value::Builtin(b))),
                    None => Err(VmError::py(
                        "AttributeError",
                        format!("'super' object has no attribute '{name}'"),
                    )),
                }
            }
            Value::Descriptor(d) => match (&**d, name) {
                (Descriptor::Property { .. }, "setter") => {
                    Ok(bound(v.clone(), Value::Builtin(Builtin::PropertySetter)))
                }
                _ => Err(no_attr(v, name)),
            },
            Value::Module(m @ StdModule::User { .. }) => self.sibling_attr(*m, name),
            // `sys._is_gil_enabled` exists on the builds that have it (3.13 and later).
            Value::Module(StdModule::Sys) if name == "_is_gil_enabled" => {
                match self.host.is_gil_enabled() {
                    Some(_) => Ok(Value::Builtin(Builtin::SysIsGilEnabled)),
                    None => Err(VmError::py(
                        "AttributeError",
                        "module 'sys' has no attribute '_is_gil_enabled'",
                    )),
                }
            }
            other => ops::load_attr(other, name),
        }
    }

    /// A class attribute found for `this`: functions bound, descriptors applied.
    fn bind_found(
        &mut self,
        found: Value,
        this: &Value,
        class: &Arc<ClassObj>,
    ) -> Result<Value, VmError> {
        match found {
            Value::Function(_) | Value::Builtin(Builtin::NamedTuple(_)) => {
                Ok(bound(this.clone(), found))
            }
            Value::Descriptor(d) => match &*d {
                Descriptor::Static(f) => Ok(f.clone()),
                Descriptor::ClassMethod(f) => Ok(bound(Value::Class(Arc::clone(class)), f.clone())),
                Descriptor::Property { fget, .. } => self.call_value(fget, vec![this.clone()]),
            },
            other => Ok(other),
        }
    }

    /// `obj.name = value`.
    pub(super) fn set_attr(
        &mut self,
        obj: &Value,
        name: &str,
        value: Value,
    ) -> Result<(), VmError> {
        match obj {
            Value::Instance(i) => {
                if let Some(Value::Descriptor(d)) = i.class.lookup(name)
                    && let Descriptor::Property { fset, .. } = &*d
                {
                    return match fset {
                        Some(f) => self.call_value(f, vec![obj.clone(), value]).map(|_| ()),
                        None => Err(VmError::py(
                            "AttributeError",
                            format!("can't set attribute '{name}'"),
                        )),
                    };
                }
                // A Thread subclass's `name` and `daemon` are its thread's.
                if let Some(t) = i.thread()
                    && matches!(name, "daemon" | "name")
                {
                    return self.set_attr(&Value::Thread(t), name, value);
                }
                if matches!(name, "daemon" | "name")
                    && let Some(p) = self.process_of(i)?
                {
                    return self.set_attr(&Value::Mp(p), name, value);
                }
                i.set_attr(name, value);
                Ok(())
            }
            Value::Class(c) => {
                c.set(name, value);
                Ok(())
            }
            Value::Local(l) => {
                l.set(name, value);
                Ok(())
            }
            Value::Mp(m) => {
                if m.set_attr(name, &value)? {
                    Ok(())
                } else {
                    Err(no_attr(obj, name))
                }
            }
            Value::Module(m @ StdModule::User { .. }) => self.set_sibling_attr(*m, name, value),
            Value::Thread(t) => match name {
                "daemon" => {
                    t.daemon
                        .store(value.truthy()?, std::sync::atomic::Ordering::Relaxed);
                    Ok(())
                }
                "name" => {
                    *t.name.lock().unwrap_or_else(|p| p.into_inner()) = Arc::from(value.to_str());
                    Ok(())
                }
                _ => Err(no_attr(obj, name)),
            },
            other => Err(no_attr(other, name)),
        }
    }

    /// `del obj.name`.
    pub(super) fn del_attr(&mut self, obj: &Value, name: &str) -> Result<(), VmError> {
        match obj {
            Value::Instance(i) if i.del_attr(name) => Ok(()),
            other => Err(no_attr(other, name)),
        }
    }

    /// `LOAD_METHOD` on a class, an instance or `super()`: the function and its `self` when
    /// the name is a plain method, else the attribute alone.
    pub(super) fn load_method(
        &mut self,
        v: &Value,
        name: &str,
    ) -> Result<(Value, Option<Value>), VmError> {
        match v {
            Value::Instance(i) if i.attr(name).is_none() => {
                if let Some(f @ Value::Function(_)) = i.class.lookup(name) {
                    return Ok((f, Some(v.clone())));
                }
                if i.class.lookup(name).is_none()
                    && let Some(t) = i.thread()
                {
                    let tv = Value::Thread(t);
                    if let Some(m) = ops::method(&tv, name) {
                        return Ok((Value::Builtin(m), Some(tv)));
                    }
                }
                Ok((self.get_attr(v, name)?, None))
            }
            _ => Ok((self.get_attr(v, name)?, None)),
        }
    }

    /// Calls `obj.name(*args)` if the object's class (a program's) defines it.
    pub(super) fn call_dunder(
        &mut self,
        obj: &Value,
        name: &str,
        args: Vec<Value>,
    ) -> Option<Result<Value, VmError>> {
        let Value::Instance(i) = obj else {
            return None;
        };
        let f = i.class.user_method(name)?;
        let mut with_self = Vec::with_capacity(args.len() + 1);
        with_self.push(obj.clone());
        with_self.extend(args);
        Some(self.call_value(&f, with_self))
    }

    /// `repr(v)` / `str(v)` with a program's `__repr__` and `__str__`, inside containers too.
    pub(super) fn display(&mut self, v: &Value, as_repr: bool) -> Result<String, VmError> {
        match v {
            Value::Instance(i) if i.class.user => {
                let r = if as_repr {
                    self.call_dunder(v, "__repr__", Vec::new())
                } else {
                    match self.call_dunder(v, "__str__", Vec::new()) {
                        Some(r) => Some(r),
                        None => self.call_dunder(v, "__repr__", Vec::new()),
                    }
                };
                match r {
                    Some(r) => match r? {
                        Value::Str(s) => Ok(s.to_string()),
                        other => Err(VmError::type_error(format!(
                            "__{}__ returned non-string (type {})",
                            if as_repr { "repr" } else { "str" },
                            other.type_name()
                        ))),
                    },
                    None if i.exc.is_some() => Ok(if as_repr { i.exc_repr() } else { i.exc_str() }),
                    None => Ok(format!("<__main__.{} object>", i.class.name)),
                }
            }
            Value::List(l) if holds_instance(v) && !l.lock().is_empty() => {
                let items = l.lock().clone();
                Ok(format!("[{}]", self.display_items(&items)?))
            }
            Value::Tuple(t) if holds_instance(v) => {
                let inner = self.display_items(t)?;
                Ok(if t.len() == 1 {
                    format!("({inner},)")
                } else {
                    format!("({inner})")
                })
            }
            Value::Dict(d) if holds_instance(v) => {
                let pairs = d.lock().pairs();
                let mut parts = Vec::with_capacity(pairs.len());
                for (k, x) in &pairs {
                    parts.push(format!(
                        "{}: {}",
                        self.display(k, true)?,
                        self.display(x, true)?
                    ));
                }
                Ok(format!("{{{}}}", parts.join(", ")))
            }
            other if as_repr => Ok(other.repr()),
            other => Ok(other.to_str()),
        }
    }

    /// The builtins about classes and objects (`isinstance`, `type`, `getattr`, `super`,
    /// `property`…), and `len`/`str`/`repr` of an instance; `None` for any other call.
    pub(super) fn call_class_builtin(
        &mut self,
        b: Builtin,
        args: &[Value],
        kwargs: &Kwargs,
    ) -> Option<Result<Value, VmError>> {
        let arity = |lo: usize, hi: usize| -> Result<(), VmError> {
            if !kwargs.is_empty() {
                return Err(VmError::type_error(format!(
                    "{}() takes no keyword arguments",
                    b.name()
                )));
            }
            if (lo..=hi).contains(&args.len()) {
                Ok(())
            } else {
                Err(VmError::type_error(format!(
                    "{}() takes {} arguments ({} given)",
                    b.name(),
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo} to {hi}")
                    },
                    args.len()
                )))
            }
        };
        let r = match b {
            Builtin::Object => arity(0, 0)
                .map(|()| Value::Instance(Obj::new(Instance::new(object_class(), Vec::new())))),
            Builtin::Super => {
                arity(2, 2).and_then(|()| make_super(Some(args[0].clone()), Some(args[1].clone())))
            }
            Builtin::StaticMethod => arity(1, 1)
                .map(|()| Value::Descriptor(Arc::new(Descriptor::Static(args[0].clone())))),
            Builtin::ClassMethod => arity(1, 1)
                .map(|()| Value::Descriptor(Arc::new(Descriptor::ClassMethod(args[0].clone())))),
            Builtin::Property => arity(1, 2).map(|()| {
                Value::Descriptor(Arc::new(Descriptor::Property {
                    fget: args[0].clone(),
                    fset: args.get(1).cloned(),
                }))
            }),
            Builtin::PropertySetter => arity(2, 2).and_then(|()| match &args[0] {
                Value::Descriptor(d) => match &**d {
                    Descriptor::Property { fget, .. } => {
                        Ok(Value::Descriptor(Arc::new(Descriptor::Property {
                            fget: fget.clone(),
                            fset: Some(args[1].clone()),
                        })))
                    }
                    _ => Err(VmError::type_error("setter of a non-property")),
                },
                _ => Err(VmError::type_error("setter of a non-property")),
            }),
            Builtin::Isinstance => {
                arity(2, 2).and_then(|()| isinstance(&args[0], &args[1]).map(Value::Bool))
            }
            Builtin::Type => arity(1, 1).map(|()| type_of(&args[0])),
            Builtin::Hasattr => arity(2, 2).map(|()| {
                let name = args[1].to_str();
                Value::Bool(self.get_attr(&args[0], &name).is_ok())
            }),
            Builtin::Getattr => arity(2, 3).and_then(|()| {
                let name = args[1].to_str();
                match (self.get_attr(&args[0], &name), args.get(2)) {
                    (Ok(v), _) => Ok(v),
                    (Err(VmError::Py(p)), Some(d)) if &*p.exc == "AttributeError" => Ok(d.clone()),
                    (Err(e), _) => Err(e),
                }
            }),
            Builtin::Setattr => arity(3, 3).and_then(|()| {
                let name = args[1].to_str();
                self.set_attr(&args[0], &name, args[2].clone())
                    .map(|()| Value::None)
            }),
            Builtin::Hash => {
                arity(1, 1).and_then(|()| super::set::py_hash(&args[0]).map(Value::Int))
            }
            Builtin::ExcInit => exc_init(args),
            Builtin::ObjectInit => Ok(Value::None),
            Builtin::ObjectRepr => arity(1, 1).map(|()| match &args[0] {
                Value::Instance(i) if i.exc.is_some() => Value::str(&i.exc_str()),
                Value::Instance(i) => Value::str(&format!("<__main__.{} object>", i.class.name)),
                other => Value::str(&other.repr()),
            }),
            Builtin::Len if matches!(args, [Value::Instance(_)]) => {
                match self.call_dunder(&args[0], "__len__", Vec::new()) {
                    Some(r) => r,
                    None => Err(VmError::type_error(format!(
                        "object of type '{}' has no len()",
                        instance_type(&args[0])
                    ))),
                }
            }
            Builtin::Str | Builtin::Repr
                if args.len() == 1 && kwargs.is_empty() && holds_instance(&args[0]) =>
            {
                self.display(&args[0], b == Builtin::Repr)
                    .map(|s| Value::str(&s))
            }
            _ => return None,
        };
        Some(r)
    }

    fn display_items(&mut self, items: &[Value]) -> Result<String, VmError> {
        let mut parts = Vec::with_capacity(items.len());
        for x in items {
            parts.push(self.display(x, true)?);
        }
        Ok(parts.join(", "))
    }

    /// A comparison with a program's rich-comparison methods (and the reflected one), else
    /// the built-in rule.
    pub(super) fn rich_compare(
        &mut self,
        op: CmpOp,
        a: &Value,
        b: &Value,
    ) -> Result<bool, VmError> {
        let (name, reflected) = cmp_dunders(op);
        for (x, y, n) in [(a, b, name), (b, a, reflected)] {
            if let Some(r) = self.call_dunder(x, n, vec![y.clone()]) {
                let r = r?;
                if !matches!(r, Value::NotImplemented) {
                    return r.truthy();
                }
            }
        }
        match op {
            CmpOp::Eq | CmpOp::Ne
                if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) =>
            {
                Ok(ops::is_same(a, b) == (op == CmpOp::Eq))
            }
            _ if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) => {
                Err(VmError::type_error(format!(
                    "'{}' not supported between instances of '{}' and '{}'",
                    op.symbol(),
                    instance_type(a),
                    instance_type(b)
                )))
            }
            _ => ops::compare(op, a, b),
        }
    }

    /// A binary operator with a program's `__add__` (or the reflected `__radd__`), if any.
    pub(super) fn binary_dunder(
        &mut self,
        op: BinOp,
        a: &Value,
        b: &Value,
    ) -> Option<Result<Value, VmError>> {
        let (name, reflected) = binop_dunders(op);
        if let Some(r) = self.call_dunder(a, name, vec![b.clone()]) {
            match r {
                Ok(Value::NotImplemented) => {}
                other => return Some(other),
            }
        }
        match self.call_dunder(b, reflected, vec![a.clone()]) {
            Some(Ok(Value::NotImplemented)) | None => None,
            other => other,
        }
    }
}

/// Whether `v` is (or holds, in a list or tuple) an instance of a program's class.
fn holds_instance(v: &Value) -> bool {
    match v {
        Value::Instance(i) => i.class.user,
        Value::List(l) => l.lock().iter().any(holds_instance),
        Value::Tuple(t) => t.iter().any(holds_instance),
        Value::Dict(d) => d.lock().iter().any(|(_, x)| holds_instance(x)),
        _ => false,
    }
}

/// `type(v)`: an instance's class, or the builtin that makes values like it.
pub(super) fn type_of(v: &Value) -> Value {
    match v {
        Value::Instance(i) => Value::Class(Arc::clone(&i.class)),
        Value::Int(_) => Value::Builtin(Builtin::Int),
        Value::Float(_) => Value::Builtin(Builtin::Float),
        Value::Str(_) => Value::Builtin(Builtin::Str),
        Value::Bytes(_) => Value::Builtin(Builtin::Bytes),
        Value::Bool(_) => Value::Builtin(Builtin::Bool),
        Value::List(_) => Value::Builtin(Builtin::List),
        Value::Tuple(_) | Value::IntPair(..) => Value::Builtin(Builtin::Tuple),
        Value::Dict(d) => match d.kind {
            DictKind::Plain => Value::Builtin(Builtin::Dict),
            DictKind::Counter => Value::Builtin(Builtin::Collections(CollFn::Counter)),
            DictKind::Default(_) => Value::Builtin(Builtin::Collections(CollFn::DefaultDict)),
        },
        Value::Deque(_) => Value::Builtin(Builtin::Collections(CollFn::Deque)),
        Value::Thread(_) => Value::Builtin(Builtin::ThreadingThread),
        Value::Set(s) => Value::Builtin(Builtin::SetNew(s.frozen)),
        Value::Range { .. } => Value::Builtin(Builtin::Range),
        Value::Class(_) => Value::Builtin(Builtin::Type),
        other => Value::Class(type_class(other.type_name())),
    }
}

/// The class standing for a built-in type that has no constructor here (`NoneType`,
/// `function`, `generator`…): one per name, so `type(a) is type(b)` holds.
fn type_class(name: &'static str) -> Arc<ClassObj> {
    static CLASSES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, Arc<ClassObj>>>,
    > = std::sync::OnceLock::new();
    let mut map = CLASSES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    Arc::clone(
        map.entry(name)
            .or_insert_with(|| Arc::new(ClassObj::builtin(name, Vec::new(), Native::Plain))),
    )
}

/// The type name CPython's messages give an operand.
pub(super) fn instance_type(v: &Value) -> String {
    match v {
        Value::Instance(i) => i.class.name.to_string(),
        other => other.type_name().to_owned(),
    }
}

/// `super()` in a method: the class from the `__class__` cell and the first argument.
pub(super) fn make_super(class: Option<Value>, first: Option<Value>) -> Result<Value, VmError> {
    let first = match first {
        Some(Value::Cell(c)) => c.get(),
        Some(v) => v,
        None => Value::Null,
    };
    match (class, first) {
        (Some(Value::Class(class)), this) if !matches!(this, Value::Null) => {
            Ok(Value::Super(Arc::new(SuperObj { class, this })))
        }
        (Some(Value::Class(_)), _) => Err(VmError::py("RuntimeError", "super(): no arguments")),
        _ => Err(VmError::py(
            "RuntimeError",
            "super(): __class__ cell not found",
        )),
    }
}

/// `BaseException.__init__(self, *args)`.
pub(super) fn exc_init(args: &[Value]) -> Result<Value, VmError> {
    match args.split_first() {
        Some((Value::Instance(i), rest)) => {
            if let Some(e) = &i.exc {
                e.set_args(rest.to_vec());
            }
            Ok(Value::None)
        }
        _ => Err(VmError::type_error(
            "descriptor '__init__' requires an exception",
        )),
    }
}

/// Whether `v` is an instance of `class` (`isinstance`).
pub(super) fn isinstance(v: &Value, class: &Value) -> Result<bool, VmError> {
    match class {
        Value::Tuple(items) => {
            for c in items.iter() {
                if isinstance(v, c)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Class(c) => Ok(match v {
            Value::Instance(i) => i.class.is_subclass_of(c),
            _ => Arc::ptr_eq(c, &object_class()),
        }),
        Value::Builtin(b) => Ok(match (b, v) {
            (Builtin::Int, Value::Int(_) | Value::Bool(_)) => true,
            (Builtin::Float, Value::Float(_) | Value::NpFloat(_)) => true,
            (Builtin::Str, Value::Str(_)) => true,
            (Builtin::Bytes, Value::Bytes(_)) => true,
            (Builtin::Bool, Value::Bool(_)) => true,
            (Builtin::List, Value::List(_)) => true,
            (Builtin::Tuple, Value::Tuple(_) | Value::IntPair(..)) => true,
            (Builtin::Dict, Value::Dict(_)) => true,
            (Builtin::SetNew(frozen), Value::Set(s)) => s.frozen == *frozen,
            (Builtin::Collections(CollFn::Deque), Value::Deque(_)) => true,
            (Builtin::Collections(CollFn::Counter), Value::Dict(d)) => {
                matches!(d.kind, DictKind::Counter)
            }
            (Builtin::Collections(CollFn::DefaultDict), Value::Dict(d)) => {
                matches!(d.kind, DictKind::Default(_))
            }
            (Builtin::ThreadingThread, Value::Thread(_)) => true,
            (Builtin::ThreadingThread, Value::Instance(i)) => i.class.native == Native::Thread,
            (Builtin::Mp(MpFn::Process), Value::Instance(i)) => i.class.native == Native::Process,
            (Builtin::Mp(MpFn::Process), Value::Mp(m)) => {
                matches!(&**m, super::multiprocessing::MpObj::Process(_))
            }
            (Builtin::Object, _) => true,
            _ => false,
        }),
        other => Err(VmError::type_error(format!(
            "isinstance() arg 2 must be a type, a tuple of types, or a union, not {}",
            other.type_name()
        ))),
    }
}
