//! The small standard-library modules teaching code imports besides `threading` and `time`:
//! `sys` (exit, argv, the switch interval, version_info, stdout/stderr), `os` and `os.path`,
//! and `math`, with CPython's results and error texts.

use std::sync::Arc;

use super::call::Kwargs;
use super::exception;
use super::value::{Builtin, StdModule, Value};
use super::{Host, Vm, VmError};

/// A function of one of these modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModFunc {
    /// `sys.exit([status])`.
    SysExit,
    /// `sys.getswitchinterval()`.
    SysGetswitchinterval,
    /// `sys.setswitchinterval(interval)`.
    SysSetswitchinterval,
    /// `sys.getrecursionlimit()`.
    SysGetrecursionlimit,
    /// `sys.setrecursionlimit(n)`.
    SysSetrecursionlimit,
    /// `sys.stdout.write(s)`.
    StdoutWrite,
    /// `sys.stderr.write(s)`.
    StderrWrite,
    /// `sys.stdout.flush()` / `sys.stderr.flush()`.
    StreamFlush,
    /// `os.cpu_count()`.
    OsCpuCount,
    /// `os.getpid()`.
    OsGetpid,
    /// `os.getppid()`.
    OsGetppid,
    /// `os.getenv(key, default=None)`.
    OsGetenv,
    /// `os.path.join(a, *p)`.
    PathJoin,
    /// `os.path.exists(path)`.
    PathExists,
    /// `os.remove(path)` / `os.unlink(path)`.
    OsRemove,
    /// `os.path.basename(p)`.
    PathBasename,
    /// `os.path.dirname(p)`.
    PathDirname,
    /// A one-argument float function of `math` (`sqrt`, `sin`, `log`…).
    Math1(MathFn),
    /// `math.floor(x)`.
    MathFloor,
    /// `math.ceil(x)`.
    MathCeil,
    /// `math.pow(x, y)`.
    MathPow,
    /// `math.hypot(*coordinates)`.
    MathHypot,
    /// `math.isqrt(n)`.
    MathIsqrt,
    /// `math.factorial(n)`.
    MathFactorial,
    /// `math.gcd(*integers)`.
    MathGcd,
    /// `math.isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0)`.
    MathIsclose,
    /// `math.log(x[, base])`.
    MathLog,
}

/// The float functions of `math` that take one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    /// `math.sqrt`.
    Sqrt,
    /// `math.exp`.
    Exp,
    /// `math.log2`.
    Log2,
    /// `math.log10`.
    Log10,
    /// `math.sin`.
    Sin,
    /// `math.cos`.
    Cos,
    /// `math.tan`.
    Tan,
    /// `math.atan`.
    Atan,
    /// `math.fabs`.
    Fabs,
    /// `math.degrees`.
    Degrees,
    /// `math.radians`.
    Radians,
}

impl ModFunc {
    /// The function's Python name.
    pub fn name(self) -> &'static str {
        use ModFunc as F;
        match self {
            F::SysExit => "exit",
            F::SysGetswitchinterval => "getswitchinterval",
            F::SysSetswitchinterval => "setswitchinterval",
            F::SysGetrecursionlimit => "getrecursionlimit",
            F::SysSetrecursionlimit => "setrecursionlimit",
            F::StdoutWrite | F::StderrWrite => "write",
            F::StreamFlush => "flush",
            F::OsCpuCount => "cpu_count",
            F::OsGetpid => "getpid",
            F::OsGetppid => "getppid",
            F::OsGetenv => "getenv",
            F::PathJoin => "join",
            F::PathExists => "exists",
            F::OsRemove => "remove",
            F::PathBasename => "basename",
            F::PathDirname => "dirname",
            F::Math1(m) => match m {
                MathFn::Sqrt => "sqrt",
                MathFn::Exp => "exp",
                MathFn::Log2 => "log2",
                MathFn::Log10 => "log10",
                MathFn::Sin => "sin",
                MathFn::Cos => "cos",
                MathFn::Tan => "tan",
                MathFn::Atan => "atan",
                MathFn::Fabs => "fabs",
                MathFn::Degrees => "degrees",
                MathFn::Radians => "radians",
            },
            F::MathFloor => "floor",
            F::MathCeil => "ceil",
            F::MathPow => "pow",
            F::MathHypot => "hypot",
            F::MathIsqrt => "isqrt",
            F::MathFactorial => "factorial",
            F::MathGcd => "gcd",
            F::MathIsclose => "isclose",
            F::MathLog => "log",
        }
    }
}

/// `module.attr` of these modules (`sys.argv` and the like that need the host are the VM's).
pub fn attr(m: StdModule, attr: &str) -> Option<Value> {
    use ModFunc as F;
    let f = |x| Some(Value::Builtin(Builtin::Module(x)));
    match (m, attr) {
        (StdModule::Sys, "exit") => f(F::SysExit),
        (StdModule::Sys, "getswitchinterval") => f(F::SysGetswitchinterval),
        (StdModule::Sys, "setswitchinterval") => f(F::SysSetswitchinterval),
        (StdModule::Sys, "getrecursionlimit") => f(F::SysGetrecursionlimit),
        (StdModule::Sys, "setrecursionlimit") => f(F::SysSetrecursionlimit),
        (StdModule::Sys, "stdout") => Some(Value::Module(StdModule::SysStdout)),
        (StdModule::Sys, "stderr") => Some(Value::Module(StdModule::SysStderr)),
        (StdModule::Sys, "version_info") => Some(Value::Tuple(Arc::from([
            Value::Int(3),
            Value::Int(11),
            Value::Int(7),
            Value::str("final"),
            Value::Int(0),
        ]))),
        (StdModule::Sys, "version") => {
            Some(Value::str("3.11.7 (gilscope's emulated CPython 3.11)"))
        }
        (StdModule::Sys, "platform") => Some(Value::str(std::env::consts::OS)),
        (StdModule::Sys, "maxsize") => Some(Value::Int(i64::MAX)),
        (StdModule::SysStdout, "write") => f(F::StdoutWrite),
        (StdModule::SysStderr, "write") => f(F::StderrWrite),
        (StdModule::SysStdout | StdModule::SysStderr, "flush") => f(F::StreamFlush),
        (StdModule::Os, "cpu_count") => f(F::OsCpuCount),
        (StdModule::Os, "getpid") => f(F::OsGetpid),
        (StdModule::Os, "getppid") => f(F::OsGetppid),
        (StdModule::Os, "getenv") => f(F::OsGetenv),
        // A snapshot of the process's environment (writes to it are not seen by `getenv`).
        (StdModule::Os, "environ") => super::value::DictObj::new(
            std::env::vars()
                .map(|(k, v)| (Value::str(&k), Value::str(&v)))
                .collect(),
        )
        .ok()
        .map(|d| Value::Dict(super::object::Obj::new(d))),
        (StdModule::Os, "path") => Some(Value::Module(StdModule::OsPath)),
        (StdModule::Os, "sep") => Some(Value::str("/")),
        (StdModule::OsPath, "join") => f(F::PathJoin),
        (StdModule::OsPath, "exists") => f(F::PathExists),
        (StdModule::Os, "remove" | "unlink") => f(F::OsRemove),
        (StdModule::OsPath, "basename") => f(F::PathBasename),
        (StdModule::OsPath, "dirname") => f(F::PathDirname),
        (StdModule::Math, name) => math_attr(name),
        _ => None,
    }
}

fn math_attr(name: &str) -> Option<Value> {
    use ModFunc as F;
    let f = |x| Some(Value::Builtin(Builtin::Module(x)));
    let one = |m| f(F::Math1(m));
    match name {
        "pi" => Some(Value::Float(std::f64::consts::PI)),
        "e" => Some(Value::Float(std::f64::consts::E)),
        "tau" => Some(Value::Float(std::f64::consts::TAU)),
        "inf" => Some(Value::Float(f64::INFINITY)),
        "nan" => Some(Value::Float(f64::NAN)),
        "sqrt" => one(MathFn::Sqrt),
        "exp" => one(MathFn::Exp),
        "log2" => one(MathFn::Log2),
        "log10" => one(MathFn::Log10),
        "sin" => one(MathFn::Sin),
        "cos" => one(MathFn::Cos),
        "tan" => one(MathFn::Tan),
        "atan" => one(MathFn::Atan),
        "fabs" => one(MathFn::Fabs),
        "degrees" => one(MathFn::Degrees),
        "radians" => one(MathFn::Radians),
        "floor" => f(F::MathFloor),
        "ceil" => f(F::MathCeil),
        "pow" => f(F::MathPow),
        "hypot" => f(F::MathHypot),
        "isqrt" => f(F::MathIsqrt),
        "factorial" => f(F::MathFactorial),
        "gcd" => f(F::MathGcd),
        "isclose" => f(F::MathIsclose),
        "log" => f(F::MathLog),
        _ => None,
    }
}

fn float_of(name: &str, v: &Value) -> Result<f64, VmError> {
    v.as_f64().ok_or_else(|| {
        VmError::type_error(format!(
            "must be real number, not {} (in math.{name})",
            v.type_name()
        ))
    })
}

fn int_of(v: &Value) -> Result<i64, VmError> {
    v.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            v.type_name()
        ))
    })
}

fn math_domain() -> VmError {
    VmError::py("ValueError", "math domain error")
}

fn exactly(f: ModFunc, args: &[Value], n: usize) -> Result<(), VmError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(VmError::type_error(format!(
            "{}() takes exactly {} argument{} ({} given)",
            f.name(),
            if n == 1 {
                "one".to_owned()
            } else {
                n.to_string()
            },
            if n == 1 { "" } else { "s" },
            args.len()
        )))
    }
}

/// Whether a float result that is a whole number comes back as an int (`floor`, `ceil`).
fn to_int(x: f64) -> Result<Value, VmError> {
    if x.is_nan() {
        return Err(VmError::py(
            "ValueError",
            "cannot convert float NaN to integer",
        ));
    }
    if x.is_infinite() {
        return Err(VmError::py(
            "OverflowError",
            "cannot convert float infinity to integer",
        ));
    }
    if x.abs() >= 9.2e18 {
        return Err(VmError::py(
            "OverflowError",
            "integers this large are not supported by gilscope's interpreter yet",
        ));
    }
    Ok(Value::Int(x as i64))
}

impl<H: Host> Vm<'_, H> {
    /// Calls a module function.
    pub(super) fn call_module_func(
        &mut self,
        f: ModFunc,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use ModFunc as F;
        if !kwargs.is_empty() && f != F::MathIsclose {
            return Err(VmError::type_error(format!(
                "{}() takes no keyword arguments",
                f.name()
            )));
        }
        match f {
            F::SysExit => {
                if args.len() > 1 {
                    return Err(VmError::type_error(format!(
                        "exit expected at most 1 argument, got {}",
                        args.len()
                    )));
                }
                let class = exception::builtin_class("SystemExit")
                    .ok_or_else(|| VmError::py("SystemError", "no SystemExit"))?;
                Err(exception::raise(exception::new_exception(class, args)))
            }
            F::SysGetswitchinterval => {
                exactly(f, &args, 0)?;
                Ok(Value::Float(self.host.switch_interval_secs()))
            }
            F::SysSetswitchinterval => {
                exactly(f, &args, 1)?;
                let secs = float_of("setswitchinterval", &args[0])?;
                if secs <= 0.0 {
                    return Err(VmError::py(
                        "ValueError",
                        "switch interval must be strictly positive",
                    ));
                }
                self.host.set_switch_interval_secs(secs);
                Ok(Value::None)
            }
            F::SysGetrecursionlimit => {
                exactly(f, &args, 0)?;
                Ok(Value::Int(self.globals.recursion_limit() as i64))
            }
            F::SysSetrecursionlimit => {
                exactly(f, &args, 1)?;
                let n = int_of(&args[0])?;
                if n < 1 {
                    return Err(VmError::py(
                        "ValueError",
                        "recursion limit must be greater or equal than 1",
                    ));
                }
                // The frames running now, the module's own included.
                let depth = self.depth + 1;
                if n as usize <= depth {
                    return Err(VmError::py(
                        "RecursionError",
                        format!(
                            "cannot set the recursion limit to {n} at the recursion depth {depth}: the limit is too low"
                        ),
                    ));
                }
                self.globals.set_recursion_limit(n as usize);
                Ok(Value::None)
            }
            F::StdoutWrite | F::StderrWrite => {
                exactly(f, &args, 1)?;
                let Value::Str(s) = &args[0] else {
                    return Err(VmError::type_error(format!(
                        "write() argument must be str, not {}",
                        args[0].type_name()
                    )));
                };
                if f == F::StdoutWrite {
                    self.host.write_stdout(s);
                } else {
                    self.host.write_stderr(s);
                }
                Ok(Value::Int(s.chars().count() as i64))
            }
            F::StreamFlush => Ok(Value::None),
            F::OsCpuCount => Ok(std::thread::available_parallelism()
                .map(|n| Value::Int(n.get() as i64))
                .unwrap_or(Value::None)),
            F::OsGetpid => Ok(Value::Int(i64::from(std::process::id()))),
            F::OsGetppid => Ok(Value::Int(i64::from(parent_pid()))),
            F::OsGetenv => {
                if args.is_empty() || args.len() > 2 {
                    return Err(VmError::type_error("getenv() takes 1 or 2 arguments"));
                }
                let key = args[0].to_str();
                Ok(match std::env::var(&key) {
                    Ok(v) => Value::str(&v),
                    Err(_) => args.get(1).cloned().unwrap_or(Value::None),
                })
            }
            F::PathJoin => {
                let mut out = String::new();
                for a in &args {
                    let Value::Str(p) = a else {
                        return Err(VmError::type_error(format!(
                            "join() argument must be str, bytes, or os.PathLike object, not '{}'",
                            a.type_name()
                        )));
                    };
                    if p.starts_with('/') {
                        out = p.to_string();
                    } else if out.is_empty() || out.ends_with('/') {
                        out.push_str(p);
                    } else {
                        out.push('/');
                        out.push_str(p);
                    }
                }
                Ok(Value::str(&out))
            }
            F::PathExists => {
                exactly(f, &args, 1)?;
                Ok(Value::Bool(
                    std::path::Path::new(&args[0].to_str()).exists(),
                ))
            }
            F::OsRemove => {
                exactly(f, &args, 1)?;
                let path = args[0].to_str();
                std::fs::remove_file(&path).map_err(|e| super::file::os_error(&e, &path))?;
                Ok(Value::None)
            }
            F::PathBasename | F::PathDirname => {
                exactly(f, &args, 1)?;
                let p = args[0].to_str();
                let (dir, base) = match p.rfind('/') {
                    Some(k) => (&p[..k], &p[k + 1..]),
                    None => ("", &p[..]),
                };
                let dir = if dir.is_empty() && p.starts_with('/') {
                    "/"
                } else {
                    dir
                };
                Ok(Value::str(if f == F::PathBasename { base } else { dir }))
            }
            F::Math1(m) => {
                exactly(f, &args, 1)?;
                let x = float_of(f.name(), &args[0])?;
                let r = match m {
                    MathFn::Sqrt if x < 0.0 => return Err(math_domain()),
                    MathFn::Sqrt => x.sqrt(),
                    MathFn::Exp => x.exp(),
                    MathFn::Log2 | MathFn::Log10 if x <= 0.0 => return Err(math_domain()),
                    MathFn::Log2 => x.log2(),
                    MathFn::Log10 => x.log10(),
                    MathFn::Sin => x.sin(),
                    MathFn::Cos => x.cos(),
                    MathFn::Tan => x.tan(),
                    MathFn::Atan => x.atan(),
                    MathFn::Fabs => x.abs(),
                    MathFn::Degrees => x.to_degrees(),
                    MathFn::Radians => x.to_radians(),
                };
                if r.is_infinite() && x.is_finite() {
                    return Err(VmError::py("OverflowError", "math range error"));
                }
                Ok(Value::Float(r))
            }
            F::MathFloor | F::MathCeil => {
                exactly(f, &args, 1)?;
                if let Some(i) = args[0].as_i64() {
                    return Ok(Value::Int(i));
                }
                let x = float_of(f.name(), &args[0])?;
                to_int(if f == F::MathFloor {
                    x.floor()
                } else {
                    x.ceil()
                })
            }
            F::MathPow => {
                exactly(f, &args, 2)?;
                let (x, y) = (float_of("pow", &args[0])?, float_of("pow", &args[1])?);
                if x < 0.0 && y.fract() != 0.0 {
                    return Err(math_domain());
                }
                Ok(Value::Float(x.powf(y)))
            }
            F::MathHypot => {
                let mut sum = 0.0;
                for a in &args {
                    let x = float_of("hypot", a)?;
                    sum += x * x;
                }
                Ok(Value::Float(sum.sqrt()))
            }
            F::MathIsqrt => {
                exactly(f, &args, 1)?;
                let n = int_of(&args[0])?;
                if n < 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "isqrt() argument must be nonnegative",
                    ));
                }
                let mut r = (n as f64).sqrt() as i64;
                while r.saturating_mul(r) > n {
                    r -= 1;
                }
                while (r + 1).saturating_mul(r + 1) <= n {
                    r += 1;
                }
                Ok(Value::Int(r))
            }
            F::MathFactorial => {
                exactly(f, &args, 1)?;
                let n = int_of(&args[0])?;
                if n < 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "factorial() not defined for negative values",
                    ));
                }
                let mut acc: i64 = 1;
                for k in 2..=n {
                    acc = acc.checked_mul(k).ok_or_else(|| {
                        VmError::py(
                            "OverflowError",
                            "integers this large are not supported by gilscope's interpreter yet",
                        )
                    })?;
                }
                Ok(Value::Int(acc))
            }
            F::MathGcd => {
                let mut g: i64 = 0;
                for a in &args {
                    let mut x = int_of(a)?.abs();
                    let mut y = g;
                    while y != 0 {
                        (x, y) = (y, x % y);
                    }
                    g = x;
                }
                Ok(Value::Int(g))
            }
            F::MathIsclose => {
                exactly(f, &args, 2)?;
                let (a, b) = (
                    float_of("isclose", &args[0])?,
                    float_of("isclose", &args[1])?,
                );
                let (mut rel, mut abs) = (1e-9, 0.0);
                for (k, v) in &kwargs {
                    match &**k {
                        "rel_tol" => rel = float_of("isclose", v)?,
                        "abs_tol" => abs = float_of("isclose", v)?,
                        other => {
                            return Err(VmError::type_error(format!(
                                "isclose() got an unexpected keyword argument '{other}'"
                            )));
                        }
                    }
                }
                if a == b {
                    return Ok(Value::Bool(true));
                }
                let diff = (a - b).abs();
                Ok(Value::Bool(
                    diff <= (rel * b.abs()).max(rel * a.abs()) || diff <= abs,
                ))
            }
            F::MathLog => {
                if args.is_empty() || args.len() > 2 {
                    return Err(VmError::type_error(format!(
                        "log expected 1 or 2 arguments, got {}",
                        args.len()
                    )));
                }
                let x = float_of("log", &args[0])?;
                if x <= 0.0 {
                    return Err(math_domain());
                }
                match args.get(1) {
                    None => Ok(Value::Float(x.ln())),
                    Some(b) => {
                        let b = float_of("log", b)?;
                        if b <= 0.0 || b == 1.0 {
                            return Err(math_domain());
                        }
                        Ok(Value::Float(x.ln() / b.ln()))
                    }
                }
            }
        }
    }
}

#[cfg(unix)]
fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_pid() -> u32 {
    0
}

/// The exit status of an uncaught `SystemExit` and what it prints: `sys.exit()` and
/// `sys.exit(None)` are 0, `sys.exit(n)` is n, anything else is printed to stderr and is 1.
pub fn system_exit_status(e: &super::PyException) -> Option<(i32, Option<String>)> {
    let Some(Value::Instance(i)) = &e.value else {
        return (&*e.exc == "SystemExit").then_some((1, None));
    };
    let class = exception::builtin_class("SystemExit")?;
    if !i.class.is_subclass_of(&class) {
        return None;
    }
    let args = i.args();
    Some(match &args[..] {
        [] | [Value::None] => (0, None),
        [Value::Int(n)] => ((*n & 0xff) as i32, None),
        [Value::Bool(b)] => (i32::from(*b), None),
        [other] => (1, Some(format!("{}\n", other.to_str()))),
        _ => (
            1,
            Some(format!("{}\n", Value::Tuple(args.clone().into()).repr())),
        ),
    })
}
