//! `urllib.request.urlopen` and `urllib.error`, as download examples use them: a real HTTP
//! request (over `ureq`; `http://` only, no TLS), made with the GIL released — the I/O wait a
//! lesson on threads is about — on a helper thread, so that Stop is seen while it waits. The
//! response's `read()`, `status`, `getcode()`, `geturl()`, `headers`, and use with `with`;
//! `URLError` and `HTTPError` with CPython's texts.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::call::Kwargs;
use super::class::{ClassObj, Native};
use super::exception::{self, builtin_class};
use super::value::{Builtin, Value};
use super::{Host, Release, Vm, VmError};

/// Longest a request may take when the script gives no timeout (CPython would wait forever; a
/// request abandoned by Stop ends by then).
const DEFAULT_TIMEOUT_SECS: f64 = 120.0;
/// How often a waiting `urlopen` looks for Stop.
const POLL: Duration = Duration::from_millis(10);

/// A function of `urllib.request` or a method of its responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlFn {
    /// `urllib.request.urlopen(url, data=None, timeout=...)`.
    Urlopen,
    /// `response.read(amt=None)`.
    Read,
    /// `response.getcode()`.
    Getcode,
    /// `response.geturl()`.
    Geturl,
    /// `response.close()`.
    Close,
    /// `response.__enter__()`.
    Enter,
    /// `response.__exit__(*exc)`.
    Exit,
}

impl UrlFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            UrlFn::Urlopen => "urlopen",
            UrlFn::Read => "read",
            UrlFn::Getcode => "getcode",
            UrlFn::Geturl => "geturl",
            UrlFn::Close => "close",
            UrlFn::Enter => "__enter__",
            UrlFn::Exit => "__exit__",
        }
    }
}

/// An HTTP response (`http.client.HTTPResponse`), its body already read.
#[derive(Debug)]
pub struct Response {
    /// The final URL.
    pub url: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body not read yet.
    body: Mutex<Vec<u8>>,
}

impl Response {
    /// `response.name` for its data attributes.
    pub fn attr(&self, name: &str) -> Option<Value> {
        Some(match name {
            "status" | "code" => Value::Int(i64::from(self.status)),
            "reason" => Value::str(&self.reason),
            "url" => Value::str(&self.url),
            "headers" => {
                let pairs = self
                    .headers
                    .iter()
                    .map(|(k, v)| (Value::str(k), Value::str(v)))
                    .collect();
                Value::Dict(super::object::Obj::new(
                    super::value::DictObj::new(pairs).ok()?,
                ))
            }
            _ => return None,
        })
    }
}

/// The methods of a response.
pub fn method(name: &str) -> Option<Builtin> {
    let f = match name {
        "read" => UrlFn::Read,
        "getcode" => UrlFn::Getcode,
        "geturl" => UrlFn::Geturl,
        "close" => UrlFn::Close,
        "__enter__" => UrlFn::Enter,
        "__exit__" => UrlFn::Exit,
        _ => return None,
    };
    Some(Builtin::Urllib(f))
}

/// `urllib.error`'s class `name` (`URLError`, an `OSError`; `HTTPError`, a `URLError`).
pub fn error_class(name: &str) -> Option<Arc<ClassObj>> {
    static URL: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    static HTTP: OnceLock<Option<Arc<ClassObj>>> = OnceLock::new();
    let url = URL
        .get_or_init(|| {
            let base = builtin_class("OSError")?;
            Some(Arc::new(ClassObj::in_module(
                "urllib.error",
                "URLError",
                vec![base],
                Native::Exception,
            )))
        })
        .clone();
    match name {
        "URLError" => url,
        "HTTPError" => HTTP
            .get_or_init(|| {
                Some(Arc::new(ClassObj::in_module(
                    "urllib.error",
                    "HTTPError",
                    vec![url?],
                    Native::Exception,
                )))
            })
            .clone(),
        _ => None,
    }
}

fn raise_with(class: &str, text: String, attrs: Vec<(&str, Value)>) -> VmError {
    match error_class(class) {
        Some(c) => {
            let exc = exception::new_exception(c, vec![Value::str(&text)]);
            if let Value::Instance(i) = &exc {
                for (k, v) in attrs {
                    i.set_attr(k, v);
                }
            }
            exception::raise(exc)
        }
        None => VmError::py("OSError", text),
    }
}

/// What went wrong, as `urllib` words it.
fn url_error(e: &ureq::Error, url: &str) -> VmError {
    let reason = match e {
        ureq::Error::StatusCode(code) => {
            let reason = http_reason(*code);
            return raise_with(
                "HTTPError",
                format!("HTTP Error {code}: {reason}"),
                vec![
                    ("code", Value::Int(i64::from(*code))),
                    ("reason", Value::str(reason)),
                    ("url", Value::str(url)),
                ],
            );
        }
        ureq::Error::Io(io) => match io.raw_os_error() {
            Some(n) => format!("[Errno {n}] {}", os_text(io)),
            None => io.to_string(),
        },
        ureq::Error::HostNotFound => "[Errno -2] Name or service not known".to_owned(),
        ureq::Error::ConnectionFailed => "[Errno 111] Connection refused".to_owned(),
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        other => other.to_string(),
    };
    raise_with(
        "URLError",
        format!("<urlopen error {reason}>"),
        vec![("reason", Value::str(&reason))],
    )
}

/// The OS's text for an error (without Rust's "(os error N)" suffix).
fn os_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error") {
        Some(k) => s[..k].to_owned(),
        None => s,
    }
}

fn http_reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The request itself, on the helper thread.
fn fetch(url: &str, data: Option<Vec<u8>>, timeout_secs: f64) -> Result<Response, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs_f64(timeout_secs)))
        .http_status_as_error(true)
        .build()
        .into();
    let mut resp = match data {
        Some(body) => agent.post(url).send(&body[..])?,
        None => agent.get(url).call()?,
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()?;
    Ok(Response {
        url: url.to_owned(),
        status,
        reason: http_reason(status).to_owned(),
        headers,
        body: Mutex::new(body),
    })
}

fn the_response(args: &[Value]) -> Result<Arc<Response>, VmError> {
    match args.first() {
        Some(Value::Http(r)) => Ok(Arc::clone(r)),
        _ => Err(VmError::type_error(
            "descriptor requires an 'HTTPResponse' object",
        )),
    }
}

impl<H: Host> Vm<'_, H> {
    pub(super) fn call_urllib(
        &mut self,
        f: UrlFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match f {
            UrlFn::Urlopen => self.urlopen(args, kwargs),
            UrlFn::Read => {
                let r = the_response(&args)?;
                let mut body = r.body.lock().unwrap_or_else(|p| p.into_inner());
                let n = match args.get(1) {
                    None | Some(Value::None) => body.len(),
                    Some(v) => v.as_i64().map_or(body.len(), |n| {
                        if n < 0 {
                            body.len()
                        } else {
                            (n as usize).min(body.len())
                        }
                    }),
                };
                let rest = body.split_off(n);
                let taken = std::mem::replace(&mut *body, rest);
                Ok(super::bytes::new(taken))
            }
            UrlFn::Getcode => Ok(Value::Int(i64::from(the_response(&args)?.status))),
            UrlFn::Geturl => Ok(Value::str(&the_response(&args)?.url)),
            UrlFn::Close => Ok(Value::None),
            UrlFn::Enter => Ok(args.first().cloned().unwrap_or(Value::None)),
            UrlFn::Exit => Ok(Value::Bool(false)),
        }
    }

    fn urlopen(&mut self, args: Vec<Value>, kwargs: Kwargs) -> Result<Value, VmError> {
        let names = ["url", "data", "timeout"];
        let mut p = super::call::bind_params("urlopen", &names, 3, args, kwargs)?.into_iter();
        let url = match p.next().flatten() {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => {
                return Err(VmError::type_error(format!(
                    "urlopen() takes a URL string here, not '{}'",
                    other.type_name()
                )));
            }
            None => {
                return Err(VmError::type_error(
                    "urlopen() missing 1 required positional argument: 'url'",
                ));
            }
        };
        let data = match p.next().flatten() {
            None | Some(Value::None) => None,
            Some(Value::Bytes(b)) => Some(b.to_vec()),
            Some(other) => {
                return Err(VmError::type_error(format!(
                    "POST data should be bytes, an iterable of bytes, or a file object. It cannot be of type {}.",
                    other.type_name()
                )));
            }
        };
        let timeout_secs = match p.next().flatten() {
            None | Some(Value::None) => DEFAULT_TIMEOUT_SECS,
            Some(v) => v
                .as_f64()
                .filter(|t| *t > 0.0)
                .ok_or_else(|| VmError::py("ValueError", "Timeout value must be positive"))?,
        };
        match url.split_once("://") {
            Some(("http", _)) => {}
            Some(("https", _)) => {
                return Err(raise_with(
                    "URLError",
                    "<urlopen error unknown url type: https (gilscope's emulation speaks plain http only)>".to_owned(),
                    Vec::new(),
                ));
            }
            Some((scheme, _)) => {
                return Err(raise_with(
                    "URLError",
                    format!("<urlopen error unknown url type: {scheme}>"),
                    Vec::new(),
                ));
            }
            None => {
                return Err(VmError::py(
                    "ValueError",
                    format!("unknown url type: {}", super::value::str_repr(&url)),
                ));
            }
        }
        // The wait is I/O with the GIL released, on a helper thread so that Stop is seen.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let target = url.clone();
        std::thread::Builder::new()
            .name("gilscope-urlopen".to_owned())
            .spawn(move || {
                let _ = tx.send(fetch(&target, data, timeout_secs));
            })
            .map_err(|_| VmError::py("RuntimeError", "can't start new thread"))?;
        self.begin_allow_threads(Release::Io);
        let got = loop {
            match rx.recv_timeout(POLL) {
                Ok(r) => break Ok(r),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = self.host.poll_cancel() {
                        break Err(e);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(VmError::py("RuntimeError", "the request's thread died"));
                }
            }
        };
        self.end_allow_threads()?;
        match got? {
            Ok(resp) => Ok(Value::Http(Arc::new(resp))),
            Err(e) => Err(url_error(&e, &url)),
        }
    }
}
