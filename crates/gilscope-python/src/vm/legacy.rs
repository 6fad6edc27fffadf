//! The old camelCase names teaching code still calls (`currentThread`, `activeCount`,
//! `getName`, `setName`, `isDaemon`, `setDaemon`, `notifyAll`, `isSet`): each does what its
//! new name does and warns as 3.11's `threading` warns — a `DeprecationWarning` shown once per
//! calling line, `FILE:LINE: DeprecationWarning: …` and the line's source, on stderr.

use super::call::Kwargs;
use super::sync::SyncMethod;
use super::value::{Builtin, Value};
use super::{Host, Vm, VmError};

/// An old name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legacy {
    /// `threading.currentThread()`.
    CurrentThread,
    /// `threading.activeCount()`.
    ActiveCount,
    /// `Thread.getName()`.
    GetName,
    /// `Thread.setName(name)`.
    SetName,
    /// `Thread.isDaemon()`.
    IsDaemon,
    /// `Thread.setDaemon(daemonic)`.
    SetDaemon,
    /// `Condition.notifyAll()`.
    NotifyAll,
    /// `Event.isSet()`.
    IsSet,
}

impl Legacy {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            Legacy::CurrentThread => "currentThread",
            Legacy::ActiveCount => "activeCount",
            Legacy::GetName => "getName",
            Legacy::SetName => "setName",
            Legacy::IsDaemon => "isDaemon",
            Legacy::SetDaemon => "setDaemon",
            Legacy::NotifyAll => "notifyAll",
            Legacy::IsSet => "isSet",
        }
    }

    /// The warning 3.11 gives.
    fn warning(self) -> &'static str {
        match self {
            Legacy::CurrentThread => "currentThread() is deprecated, use current_thread() instead",
            Legacy::ActiveCount => "activeCount() is deprecated, use active_count() instead",
            Legacy::GetName => "getName() is deprecated, get the name attribute instead",
            Legacy::SetName => "setName() is deprecated, set the name attribute instead",
            Legacy::IsDaemon => "isDaemon() is deprecated, get the daemon attribute instead",
            Legacy::SetDaemon => "setDaemon() is deprecated, set the daemon attribute instead",
            Legacy::NotifyAll => "notifyAll() is deprecated, use notify_all() instead",
            Legacy::IsSet => "isSet() is deprecated, use is_set() instead",
        }
    }
}

/// The old method `name` of a thread, if it is one.
pub fn thread_method(name: &str) -> Option<Builtin> {
    let l = match name {
        "getName" => Legacy::GetName,
        "setName" => Legacy::SetName,
        "isDaemon" => Legacy::IsDaemon,
        "setDaemon" => Legacy::SetDaemon,
        _ => return None,
    };
    Some(Builtin::Legacy(l))
}

fn one_arg(l: Legacy, args: &[Value]) -> Result<Value, VmError> {
    match args {
        [_, v] => Ok(v.clone()),
        _ => Err(VmError::type_error(format!(
            "{}() takes 2 positional arguments but {} were given",
            l.name(),
            args.len()
        ))),
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_legacy(
        &mut self,
        l: Legacy,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        self.warn("DeprecationWarning", l.warning());
        let this = || {
            args.first()
                .cloned()
                .ok_or_else(|| VmError::type_error(format!("{}() needs its object", l.name())))
        };
        match l {
            Legacy::CurrentThread => self.call_value_kw(
                &Value::Builtin(Builtin::ThreadingCurrentThread),
                args,
                kwargs,
            ),
            Legacy::ActiveCount => {
                self.call_value_kw(&Value::Builtin(Builtin::ThreadingActiveCount), args, kwargs)
            }
            Legacy::GetName => self.get_attr(&this()?, "name"),
            Legacy::IsDaemon => self.get_attr(&this()?, "daemon"),
            Legacy::SetName => {
                let v = one_arg(l, &args)?;
                self.set_attr(&this()?, "name", v)?;
                Ok(Value::None)
            }
            Legacy::SetDaemon => {
                let v = one_arg(l, &args)?;
                self.set_attr(&this()?, "daemon", v)?;
                Ok(Value::None)
            }
            Legacy::NotifyAll => self.call_sync(SyncMethod::NotifyAll, args, kwargs),
            Legacy::IsSet => self.call_sync(SyncMethod::IsSet, args, kwargs),
        }
    }
}
