//! `open()` for text files: read (`read`, `readline`, `readlines`, iteration) and write
//! (`write`, `writelines`, modes `w`, `a`, `x`), as a context manager, with the GIL released
//! around the file system calls and CPython's `OSError` texts (`[Errno 2] No such file or
//! directory: 'x.txt'`). Paths are the script's own, relative to the working folder as in
//! python3. Binary modes are refused: the interpreter has no `bytes`.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use super::call::{Kwargs, bind_params};
use super::exception;
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

/// A method of a file object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFn {
    /// `read(size=-1)`.
    Read,
    /// `readline()`.
    Readline,
    /// `readlines()`.
    Readlines,
    /// `write(s)`.
    Write,
    /// `writelines(lines)`.
    Writelines,
    /// `close()`.
    Close,
    /// `__enter__()`.
    Enter,
    /// `__exit__(*exc)`.
    Exit,
}

impl FileFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            FileFn::Read => "read",
            FileFn::Readline => "readline",
            FileFn::Readlines => "readlines",
            FileFn::Write => "write",
            FileFn::Writelines => "writelines",
            FileFn::Close => "close",
            FileFn::Enter => "__enter__",
            FileFn::Exit => "__exit__",
        }
    }
}

/// The method `LOAD_METHOD` binds on a file.
pub fn method(name: &str) -> Option<Builtin> {
    let f = match name {
        "read" => FileFn::Read,
        "readline" => FileFn::Readline,
        "readlines" => FileFn::Readlines,
        "write" => FileFn::Write,
        "writelines" => FileFn::Writelines,
        "close" => FileFn::Close,
        "__enter__" => FileFn::Enter,
        "__exit__" => FileFn::Exit,
        _ => return None,
    };
    Some(Builtin::File(f))
}

#[derive(Debug)]
enum Io {
    /// Opened for reading: the text, and how far it has been read (in bytes).
    Reading(String, usize),
    /// Opened for writing.
    Writing(std::io::BufWriter<std::fs::File>),
    Closed,
}

/// An open text file.
#[derive(Debug)]
pub struct FileObj {
    /// The path it was opened with.
    pub name: String,
    /// The mode it was opened with.
    pub mode: String,
    io: Mutex<Io>,
}

impl FileObj {
    fn lock(&self) -> MutexGuard<'_, Io> {
        self.io.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether it is closed.
    pub fn closed(&self) -> bool {
        matches!(*self.lock(), Io::Closed)
    }

    /// `<_io.TextIOWrapper name='x.txt' mode='r' encoding='UTF-8'>`.
    pub fn repr(&self) -> String {
        format!(
            "<_io.TextIOWrapper name='{}' mode='{}' encoding='UTF-8'>",
            self.name, self.mode
        )
    }

    /// The lines still to read (what iterating the file yields).
    pub fn remaining_lines(&self) -> Result<Vec<Value>, VmError> {
        let mut io = self.lock();
        match &mut *io {
            Io::Reading(text, pos) => {
                let rest = &text[*pos..];
                *pos = text.len();
                Ok(rest.split_inclusive('\n').map(Value::str).collect())
            }
            Io::Writing(_) => Err(unsupported_operation("not readable")),
            Io::Closed => Err(closed_file()),
        }
    }
}

fn closed_file() -> VmError {
    VmError::py("ValueError", "I/O operation on closed file.")
}

fn unsupported_operation(what: &str) -> VmError {
    VmError::py("UnsupportedOperation", what)
}

/// CPython's `OSError` subclass and text for a failed file system call on `path`.
pub(super) fn os_error(e: &std::io::Error, path: &str) -> VmError {
    use std::io::ErrorKind as K;
    let class = match e.kind() {
        K::NotFound => "FileNotFoundError",
        K::PermissionDenied => "PermissionError",
        K::AlreadyExists => "FileExistsError",
        K::IsADirectory => "IsADirectoryError",
        _ => "OSError",
    };
    let errno = e.raw_os_error().unwrap_or(0);
    let text = match e.kind() {
        K::NotFound => "No such file or directory".to_owned(),
        K::PermissionDenied => "Permission denied".to_owned(),
        K::AlreadyExists => "File exists".to_owned(),
        K::IsADirectory => "Is a directory".to_owned(),
        _ => e.to_string(),
    };
    let msg = format!("[Errno {errno}] {text}: '{path}'");
    match exception::builtin_class(class) {
        Some(c) => exception::raise(exception::new_exception(c, vec![Value::str(&msg)])),
        None => VmError::py(class, msg),
    }
}

impl<H: Host> Vm<'_, H> {
    /// `open(file, mode='r', encoding=None, ...)`.
    pub(super) fn open_file(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let names = ["file", "mode", "buffering", "encoding", "errors", "newline"];
        let mut p = bind_params("open", &names, names.len(), args, kwargs)?.into_iter();
        let path = match p.next().flatten() {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => {
                return Err(VmError::type_error(format!(
                    "expected str, bytes or os.PathLike object, not {}",
                    other.type_name()
                )));
            }
            None => {
                return Err(VmError::type_error(
                    "open() missing required argument 'file' (pos 1)",
                ));
            }
        };
        let mode = match p.next().flatten() {
            None => "r".to_owned(),
            Some(v) => v.to_str(),
        };
        let base: String = mode.chars().filter(|c| *c != 't').collect();
        if mode.contains('b') {
            return Err(VmError::py(
                "NotImplementedError",
                "binary files are not supported by gilscope's interpreter",
            ));
        }
        self.begin_allow_threads(Release::Io);
        let opened = match base.as_str() {
            "r" => std::fs::File::open(&path).and_then(|mut f| {
                let mut text = String::new();
                f.read_to_string(&mut text).map(|_| Io::Reading(text, 0))
            }),
            "w" | "a" | "x" => std::fs::OpenOptions::new()
                .write(true)
                .create(base != "x")
                .create_new(base == "x")
                .truncate(base == "w")
                .append(base == "a")
                .open(&path)
                .map(|f| Io::Writing(std::io::BufWriter::new(f))),
            _ => {
                self.end_allow_threads()?;
                return Err(VmError::py("ValueError", format!("invalid mode: '{mode}'")));
            }
        };
        self.end_allow_threads()?;
        let io = opened.map_err(|e| os_error(&e, &path))?;
        Ok(Value::File(Arc::new(FileObj {
            name: path,
            mode,
            io: Mutex::new(io),
        })))
    }

    /// Calls a file method.
    pub(super) fn call_file(&mut self, f: FileFn, args: Vec<Value>) -> Result<Value, VmError> {
        let Some(Value::File(file)) = args.first() else {
            return Err(VmError::type_error(format!("{}() needs a file", f.name())));
        };
        let file = Arc::clone(file);
        let arg = args.get(1).cloned();
        match f {
            FileFn::Enter => {
                if file.closed() {
                    return Err(closed_file());
                }
                Ok(Value::File(file))
            }
            FileFn::Close | FileFn::Exit => {
                let old = std::mem::replace(&mut *file.lock(), Io::Closed);
                if let Io::Writing(mut w) = old {
                    self.begin_allow_threads(Release::Io);
                    let r = w.flush();
                    self.end_allow_threads()?;
                    r.map_err(|e| os_error(&e, &file.name))?;
                }
                Ok(if f == FileFn::Exit {
                    Value::Bool(false)
                } else {
                    Value::None
                })
            }
            FileFn::Readlines => Ok(Value::list(file.remaining_lines()?)),
            FileFn::Read | FileFn::Readline => {
                let mut io = file.lock();
                let Io::Reading(text, pos) = &mut *io else {
                    return Err(match *io {
                        Io::Closed => closed_file(),
                        _ => unsupported_operation("not readable"),
                    });
                };
                let rest = &text[*pos..];
                let take = if f == FileFn::Readline {
                    rest.find('\n').map_or(rest.len(), |i| i + 1)
                } else {
                    match arg.and_then(|v| v.as_i64()) {
                        Some(size) if size >= 0 => rest
                            .char_indices()
                            .nth(size as usize)
                            .map_or(rest.len(), |(i, _)| i),
                        _ => rest.len(),
                    }
                };
                let out = Value::str(&rest[..take]);
                *pos += take;
                Ok(out)
            }
            FileFn::Write | FileFn::Writelines => {
                let texts: Vec<String> = match (f, arg) {
                    (FileFn::Write, Some(Value::Str(s))) => vec![s.to_string()],
                    (FileFn::Write, Some(other)) => {
                        return Err(VmError::type_error(format!(
                            "write() argument must be str, not {}",
                            other.type_name()
                        )));
                    }
                    (FileFn::Writelines, Some(v)) => self
                        .iterate(&v)?
                        .into_iter()
                        .map(|x| match x {
                            Value::Str(s) => Ok(s.to_string()),
                            other => Err(VmError::type_error(format!(
                                "write() argument must be str, not {}",
                                other.type_name()
                            ))),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(VmError::type_error(format!(
                            "{}() takes exactly one argument (0 given)",
                            f.name()
                        )));
                    }
                };
                let mut io = file.lock();
                let Io::Writing(w) = &mut *io else {
                    return Err(match *io {
                        Io::Closed => closed_file(),
                        _ => unsupported_operation("not writable"),
                    });
                };
                let mut n = 0usize;
                for t in &texts {
                    w.write_all(t.as_bytes())
                        .map_err(|e| os_error(&e, &file.name))?;
                    n += t.chars().count();
                }
                Ok(if f == FileFn::Write {
                    Value::Int(n as i64)
                } else {
                    Value::None
                })
            }
        }
    }
}
