//! `logging`, as threading examples use it (PyMOTW's print `%(threadName)s` on every line):
//! `basicConfig(level, format, datefmt, stream, filename, filemode, force)`, the module's
//! `debug`/`info`/`warning`/`error`/`critical`/`exception`/`log`, `getLogger(name)` with the
//! same methods and `setLevel`, and the level constants. A record's fields are CPython's:
//! `name`, `levelname`, `levelno`, `message`, `threadName`, `thread`, `processName`,
//! `process`, `asctime`, `created`, `msecs`, `relativeCreated`. Without `basicConfig`, the
//! module's functions configure the root logger as CPython's do (`%(levelname)s:%(name)s:%(message)s`
//! on stderr, from `WARNING`); a named logger with no configuration prints the bare message of
//! warnings and worse, as `logging.lastResort` does.

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::call::Kwargs;
use super::object::Obj;
use super::value::{Builtin, DictObj, StdModule, Value};
use super::{Host, Vm, VmError};

/// `logging.BASIC_FORMAT`.
const BASIC_FORMAT: &str = "%(levelname)s:%(name)s:%(message)s";

/// Where records go once configured.
#[derive(Debug, Clone)]
enum Sink {
    Stderr,
    Stdout,
    File(std::path::PathBuf),
}

/// The logging configuration of one program run.
#[derive(Debug)]
pub struct LogState {
    /// The root logger's level.
    root_level: u32,
    /// The root's handler: its format, date format and sink (`None`: not configured).
    handler: Option<(String, Option<String>, Sink)>,
    /// The levels set on named loggers (0: inherit the root's).
    levels: Vec<(String, u32)>,
    /// When the run's logging started (`relativeCreated`).
    start_secs: f64,
}

impl Default for LogState {
    fn default() -> Self {
        Self {
            root_level: 30,
            handler: None,
            levels: Vec::new(),
            start_secs: now_secs(),
        }
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A function of `logging`, or a method of a `Logger`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFn {
    /// `logging.basicConfig(**kwargs)`.
    BasicConfig,
    /// `logging.getLogger(name=None)`.
    GetLogger,
    /// `debug`/`info`/`warning`/`error`/`critical` at a level, or `exception` (an error).
    Log(u32),
    /// `log(level, msg, *args)`.
    LogAt,
    /// `Logger.setLevel(level)`.
    SetLevel,
    /// `Logger.isEnabledFor(level)`.
    IsEnabledFor,
    /// `Logger.getEffectiveLevel()`.
    EffectiveLevel,
}

impl LogFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            LogFn::BasicConfig => "basicConfig",
            LogFn::GetLogger => "getLogger",
            LogFn::Log(10) => "debug",
            LogFn::Log(20) => "info",
            LogFn::Log(30) => "warning",
            LogFn::Log(40) => "error",
            LogFn::Log(_) => "critical",
            LogFn::LogAt => "log",
            LogFn::SetLevel => "setLevel",
            LogFn::IsEnabledFor => "isEnabledFor",
            LogFn::EffectiveLevel => "getEffectiveLevel",
        }
    }
}

fn level_name(level: u32) -> String {
    match level {
        50 => "CRITICAL".to_owned(),
        40 => "ERROR".to_owned(),
        30 => "WARNING".to_owned(),
        20 => "INFO".to_owned(),
        10 => "DEBUG".to_owned(),
        0 => "NOTSET".to_owned(),
        n => format!("Level {n}"),
    }
}

fn level_of(name: &str, v: &Value) -> Result<u32, VmError> {
    match v {
        Value::Str(s) => match &**s {
            "CRITICAL" | "FATAL" => Ok(50),
            "ERROR" => Ok(40),
            "WARNING" | "WARN" => Ok(30),
            "INFO" => Ok(20),
            "DEBUG" => Ok(10),
            "NOTSET" => Ok(0),
            other => Err(VmError::py(
                "ValueError",
                format!("Unknown level: '{other}'"),
            )),
        },
        v => v
            .as_i64()
            .filter(|n| *n >= 0)
            .map(|n| n as u32)
            .ok_or_else(|| {
                VmError::type_error(format!(
                    "{name}: Level not an integer or a valid string: {}",
                    v.repr()
                ))
            }),
    }
}

/// A `logging.Logger`.
#[derive(Debug)]
pub struct LoggerObj {
    /// Its name (`root` for the root logger).
    pub name: String,
}

/// `logging.NAME`.
pub fn attr(name: &str) -> Option<Value> {
    let f = |f| Some(Value::Builtin(Builtin::Logging(f)));
    match name {
        "basicConfig" => f(LogFn::BasicConfig),
        "getLogger" => f(LogFn::GetLogger),
        "debug" => f(LogFn::Log(10)),
        "info" => f(LogFn::Log(20)),
        "warning" | "warn" => f(LogFn::Log(30)),
        "error" | "exception" => f(LogFn::Log(40)),
        "critical" | "fatal" => f(LogFn::Log(50)),
        "log" => f(LogFn::LogAt),
        "CRITICAL" | "FATAL" => Some(Value::Int(50)),
        "ERROR" => Some(Value::Int(40)),
        "WARNING" | "WARN" => Some(Value::Int(30)),
        "INFO" => Some(Value::Int(20)),
        "DEBUG" => Some(Value::Int(10)),
        "NOTSET" => Some(Value::Int(0)),
        "BASIC_FORMAT" => Some(Value::str(BASIC_FORMAT)),
        _ => None,
    }
}

/// The method `name` of a logger.
pub fn method(name: &str) -> Option<Builtin> {
    let f = match name {
        "debug" => LogFn::Log(10),
        "info" => LogFn::Log(20),
        "warning" | "warn" => LogFn::Log(30),
        "error" | "exception" => LogFn::Log(40),
        "critical" | "fatal" => LogFn::Log(50),
        "log" => LogFn::LogAt,
        "setLevel" => LogFn::SetLevel,
        "isEnabledFor" => LogFn::IsEnabledFor,
        "getEffectiveLevel" => LogFn::EffectiveLevel,
        _ => return None,
    };
    Some(Builtin::Logging(f))
}

/// `%(asctime)s`: local time as `logging.Formatter.formatTime` writes it by default (`datefmt`
/// takes `%Y %m %d %H %M %S`); this runs in UTC, as the machines it is tested on do.
fn asctime(secs: f64, datefmt: Option<&str>) -> String {
    let whole = secs.floor() as i64;
    let msecs = ((secs - secs.floor()) * 1000.0) as u32;
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    match datefmt {
        Some(f) => f
            .replace("%Y", &format!("{y:04}"))
            .replace("%m", &format!("{mo:02}"))
            .replace("%d", &format!("{d:02}"))
            .replace("%H", &format!("{h:02}"))
            .replace("%M", &format!("{m:02}"))
            .replace("%S", &format!("{s:02}")),
        None => format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02},{msecs:03}"),
    }
}

fn the_logger(v: Option<&Value>) -> Option<Arc<LoggerObj>> {
    match v {
        Some(Value::Logger(l)) => Some(Arc::clone(l)),
        _ => None,
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_logging(
        &mut self,
        f: LogFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let logger = the_logger(args.first());
        let rest: &[Value] = if logger.is_some() { &args[1..] } else { &args };
        let name = logger
            .as_ref()
            .map_or("root", |l| l.name.as_str())
            .to_owned();
        match f {
            LogFn::BasicConfig => {
                self.basic_config(&kwargs)?;
                Ok(Value::None)
            }
            LogFn::GetLogger => {
                let name = match args.first() {
                    None | Some(Value::None) => "root".to_owned(),
                    Some(Value::Str(s)) if s.is_empty() => "root".to_owned(),
                    Some(Value::Str(s)) => s.to_string(),
                    Some(v) => {
                        return Err(VmError::type_error(format!(
                            "A logger name must be a string, not {}",
                            v.type_name()
                        )));
                    }
                };
                Ok(Value::Logger(Arc::new(LoggerObj { name })))
            }
            LogFn::Log(level) => self.log(&name, logger.is_none(), level, rest),
            LogFn::LogAt => {
                let level = level_of(
                    "log",
                    rest.first().ok_or_else(|| {
                        VmError::type_error(
                            "log() missing 2 required positional arguments: 'level' and 'msg'",
                        )
                    })?,
                )?;
                self.log(&name, logger.is_none(), level, &rest[1..])
            }
            LogFn::SetLevel => {
                let level = level_of("setLevel", rest.first().unwrap_or(&Value::Int(0)))?;
                let mut st = self.logging();
                if name == "root" {
                    st.root_level = level;
                } else {
                    st.levels.retain(|(n, _)| *n != name);
                    st.levels.push((name, level));
                }
                Ok(Value::None)
            }
            LogFn::IsEnabledFor => {
                let level = level_of("isEnabledFor", rest.first().unwrap_or(&Value::Int(0)))?;
                Ok(Value::Bool(level >= self.effective_level(&name)))
            }
            LogFn::EffectiveLevel => Ok(Value::Int(i64::from(self.effective_level(&name)))),
        }
    }

    fn logging(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.globals.logging()
    }

    fn effective_level(&self, name: &str) -> u32 {
        let st = self.logging();
        // A dotted name inherits from its nearest configured ancestor, then the root.
        let mut n = name;
        loop {
            if let Some((_, l)) = st.levels.iter().find(|(k, l)| k == n && *l > 0) {
                return *l;
            }
            match n.rfind('.') {
                Some(k) => n = &n[..k],
                None => return st.root_level,
            }
        }
    }

    fn basic_config(&mut self, kwargs: &Kwargs) -> Result<(), VmError> {
        let kw = |k: &str| {
            kwargs
                .iter()
                .find(|(n, _)| &**n == k)
                .map(|(_, v)| v.clone())
        };
        for (k, _) in kwargs {
            if !matches!(
                &**k,
                "level"
                    | "format"
                    | "datefmt"
                    | "style"
                    | "stream"
                    | "filename"
                    | "filemode"
                    | "force"
                    | "encoding"
                    | "handlers"
            ) {
                return Err(VmError::py(
                    "ValueError",
                    format!("Unrecognised argument(s): {k}"),
                ));
            }
        }
        let force = match kw("force") {
            Some(v) => v.truthy()?,
            None => false,
        };
        let mut st = self.logging();
        if st.handler.is_some() && !force {
            return Ok(());
        }
        let format = match kw("format") {
            Some(Value::Str(s)) => s.to_string(),
            _ => BASIC_FORMAT.to_owned(),
        };
        let datefmt = match kw("datefmt") {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let sink = match (kw("filename"), kw("stream")) {
            (Some(Value::Str(f)), _) => {
                let mode = match kw("filemode") {
                    Some(Value::Str(m)) => m.to_string(),
                    _ => "a".to_owned(),
                };
                let path = std::path::PathBuf::from(&*f);
                if mode.starts_with('w') {
                    std::fs::File::create(&path).map_err(|e| {
                        VmError::py(
                            "OSError",
                            format!("[Errno {}] {e}: '{f}'", e.raw_os_error().unwrap_or(0)),
                        )
                    })?;
                }
                Sink::File(path)
            }
            (_, Some(Value::Module(StdModule::SysStdout))) => Sink::Stdout,
            _ => Sink::Stderr,
        };
        if let Some(level) = kw("level") {
            st.root_level = level_of("basicConfig", &level)?;
        }
        st.handler = Some((format, datefmt, sink));
        Ok(())
    }

    /// A record at `level` from logger `name`: formatted and written where the root's handler
    /// writes, when the level passes.
    fn log(
        &mut self,
        name: &str,
        module_level: bool,
        level: u32,
        args: &[Value],
    ) -> Result<Value, VmError> {
        if module_level && self.logging().handler.is_none() {
            self.basic_config(&Vec::new())?;
        }
        if level < self.effective_level(name) {
            return Ok(Value::None);
        }
        let Some(msg) = args.first() else {
            return Err(VmError::type_error(
                "missing 1 required positional argument: 'msg'",
            ));
        };
        let message = match &args[1..] {
            [] => msg.to_str(),
            [one @ Value::Dict(_)] => super::format::percent_format(&msg.to_str(), one)?,
            rest => {
                super::format::percent_format(&msg.to_str(), &Value::Tuple(rest.to_vec().into()))?
            }
        };
        let (handler, start) = {
            let st = self.logging();
            (st.handler.clone(), st.start_secs)
        };
        let Some((format, datefmt, sink)) = handler else {
            // `logging.lastResort`: warnings and worse, the bare message, on stderr.
            if level >= 30 {
                self.host.write_stderr(&format!("{message}\n"));
            }
            return Ok(Value::None);
        };
        let created = now_secs();
        let thread = self.current();
        let fields = [
            ("name", Value::str(name)),
            ("levelname", Value::str(&level_name(level))),
            ("levelno", Value::Int(i64::from(level))),
            ("message", Value::str(&message)),
            ("msg", msg.clone()),
            ("threadName", Value::Str(thread.name())),
            (
                "thread",
                Value::Int(thread.ident.load(std::sync::atomic::Ordering::Relaxed) as i64),
            ),
            ("processName", Value::str(&self.host.process_name())),
            ("process", Value::Int(i64::from(std::process::id()))),
            ("asctime", Value::str(&asctime(created, datefmt.as_deref()))),
            ("created", Value::Float(created)),
            (
                "msecs",
                Value::Float(((created - created.floor()) * 1000.0).floor()),
            ),
            ("relativeCreated", Value::Float((created - start) * 1000.0)),
            ("funcName", Value::str("?")),
            ("lineno", Value::Int(0)),
            ("module", Value::str("?")),
            ("filename", Value::str("?")),
            ("pathname", Value::str("?")),
        ];
        let record = Value::Dict(Obj::new(DictObj::new(
            fields
                .into_iter()
                .map(|(k, v)| (Value::str(k), v))
                .collect(),
        )?));
        let line = format!("{}\n", super::format::percent_format(&format, &record)?);
        match sink {
            Sink::Stderr => self.host.write_stderr(&line),
            Sink::Stdout => self.host.write_stdout(&line),
            Sink::File(path) => {
                let _ = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(line.as_bytes()));
            }
        }
        Ok(Value::None)
    }
}
