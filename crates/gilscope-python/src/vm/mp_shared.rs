//! The objects `multiprocessing` shares between processes: `Queue`, `JoinableQueue`,
//! `SimpleQueue`, `Value`, `Array`, `Lock`, `RLock` and `Event`. Each lives in the script's
//! own process; a forked process reaches it through the host ([`RemoteObjects`]), one call per
//! operation, so `counter.value += 1` is a read and then a write, and two processes racing on
//! it lose updates as they do on CPython's shared memory unless they take `get_lock()`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use super::call::Kwargs;
use super::lock::deadline_after;
use super::multiprocessing::{MpFn, MpObj, SharedFn};
use super::object::lock;
use super::value::Value;
use super::{Host, Vm, VmError};

/// What kind of shared object, with what it was made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedKind {
    /// A queue: `maxsize` (0: unbounded); `joinable` has `task_done`/`join`.
    Queue {
        /// Most items it holds (0: no limit).
        maxsize: usize,
        /// A `JoinableQueue`.
        joinable: bool,
        /// A `SimpleQueue`.
        simple: bool,
    },
    /// `Value(typecode, ...)`.
    Value {
        /// Its `array`-module type code (`i`, `d`…).
        typecode: char,
    },
    /// `Array(typecode, size_or_initializer)`.
    Array {
        /// Its type code.
        typecode: char,
    },
    /// `Lock()` or (recursive) `RLock()`.
    Lock {
        /// An `RLock`.
        recursive: bool,
    },
    /// `Event()`.
    Event,
    /// A `Manager().dict()`.
    Dict,
    /// A `Manager().list()`.
    List,
    /// One end of a `Pipe()`.
    Conn,
}

impl SharedKind {
    /// The kind as text, as it crosses between processes.
    pub fn encode(&self) -> String {
        match self {
            SharedKind::Queue {
                maxsize,
                joinable,
                simple,
            } => format!(
                "queue:{maxsize}:{}:{}",
                u8::from(*joinable),
                u8::from(*simple)
            ),
            SharedKind::Value { typecode } => format!("value:{typecode}"),
            SharedKind::Array { typecode } => format!("array:{typecode}"),
            SharedKind::Lock { recursive } => format!("lock:{}", u8::from(*recursive)),
            SharedKind::Event => "event".to_owned(),
            SharedKind::Dict => "dict".to_owned(),
            SharedKind::List => "list".to_owned(),
            SharedKind::Conn => "conn".to_owned(),
        }
    }

    /// The kind [`encode`](Self::encode) wrote.
    pub fn decode(s: &str) -> Option<SharedKind> {
        let parts: Vec<&str> = s.split(':').collect();
        let code = |p: &str| p.chars().next();
        Some(match parts[..] {
            ["queue", m, j, s] => SharedKind::Queue {
                maxsize: m.parse().ok()?,
                joinable: j == "1",
                simple: s == "1",
            },
            ["value", t] => SharedKind::Value { typecode: code(t)? },
            ["array", t] => SharedKind::Array { typecode: code(t)? },
            ["lock", r] => SharedKind::Lock {
                recursive: r == "1",
            },
            ["event"] => SharedKind::Event,
            ["dict"] => SharedKind::Dict,
            ["list"] => SharedKind::List,
            ["conn"] => SharedKind::Conn,
            _ => return None,
        })
    }

    /// The Python type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            SharedKind::Queue { joinable: true, .. } => "JoinableQueue",
            SharedKind::Queue { simple: true, .. } => "SimpleQueue",
            SharedKind::Queue { .. } => "Queue",
            SharedKind::Value { .. } => "Synchronized",
            SharedKind::Array { .. } => "SynchronizedArray",
            SharedKind::Lock { recursive: true } => "RLock",
            SharedKind::Lock { .. } => "Lock",
            SharedKind::Event => "Event",
            SharedKind::Dict => "DictProxy",
            SharedKind::List => "ListProxy",
            SharedKind::Conn => "Connection",
        }
    }
}

/// One operation on a shared object.
#[derive(Clone, Debug)]
pub enum SharedOp {
    /// Queue: add an item (blocks while full).
    Put(Value),
    /// Queue: take the oldest item (blocks while empty).
    Get,
    /// Queue: how many items.
    Qsize,
    /// JoinableQueue: one item done.
    TaskDone,
    /// JoinableQueue: wait until every item is done.
    Join,
    /// Value: read.
    Load,
    /// Value: write.
    Store(Value),
    /// Array: read item `i`.
    Item(i64),
    /// Array: write item `i`.
    SetItem(i64, Value),
    /// Array: every item.
    All,
    /// Lock: take (blocks while another holds it).
    Acquire,
    /// Lock: give back.
    Release,
    /// Event: set.
    Set,
    /// Event: clear.
    Clear,
    /// Event: whether set.
    IsSet,
    /// Event: wait until set.
    Wait,
    /// A manager's dict or list: one of its methods, with its arguments as a tuple.
    Proxy(&'static str, Value),
}

impl SharedOp {
    /// Its name on the wire, and its value and index operands.
    pub fn parts(&self) -> (&'static str, Option<&Value>, Option<i64>) {
        match self {
            SharedOp::Put(v) => ("put", Some(v), None),
            SharedOp::Get => ("get", None, None),
            SharedOp::Qsize => ("qsize", None, None),
            SharedOp::TaskDone => ("task_done", None, None),
            SharedOp::Join => ("join", None, None),
            SharedOp::Load => ("load", None, None),
            SharedOp::Store(v) => ("store", Some(v), None),
            SharedOp::Item(i) => ("item", None, Some(*i)),
            SharedOp::SetItem(i, v) => ("setitem", Some(v), Some(*i)),
            SharedOp::All => ("all", None, None),
            SharedOp::Acquire => ("acquire", None, None),
            SharedOp::Release => ("release", None, None),
            SharedOp::Set => ("set", None, None),
            SharedOp::Clear => ("clear", None, None),
            SharedOp::IsSet => ("is_set", None, None),
            SharedOp::Wait => ("wait", None, None),
            SharedOp::Proxy(m, args) => (m, Some(args), Some(-1)),
        }
    }

    /// The operation [`parts`](Self::parts) described.
    pub fn from_parts(name: &str, value: Option<Value>, index: Option<i64>) -> Option<SharedOp> {
        Some(match (name, value, index) {
            ("put", Some(v), _) => SharedOp::Put(v),
            ("get", ..) => SharedOp::Get,
            ("qsize", ..) => SharedOp::Qsize,
            ("task_done", ..) => SharedOp::TaskDone,
            ("join", ..) => SharedOp::Join,
            ("load", ..) => SharedOp::Load,
            ("store", Some(v), _) => SharedOp::Store(v),
            ("item", _, Some(i)) => SharedOp::Item(i),
            ("setitem", Some(v), Some(i)) => SharedOp::SetItem(i, v),
            ("all", ..) => SharedOp::All,
            ("acquire", ..) => SharedOp::Acquire,
            ("release", ..) => SharedOp::Release,
            ("set", ..) => SharedOp::Set,
            ("clear", ..) => SharedOp::Clear,
            ("is_set", ..) => SharedOp::IsSet,
            ("wait", ..) => SharedOp::Wait,
            (m, Some(args), Some(-1)) => SharedOp::Proxy(proxy_method(m)?, args),
            _ => return None,
        })
    }
}

/// Who holds a lock: a process id and a thread of it.
pub type Owner = (u32, u64);

/// What an operation did.
#[derive(Clone, Debug)]
pub enum OpOutcome {
    /// It finished, with this result.
    Done(Value),
    /// It would have to wait longer than it was allowed to.
    WouldBlock,
}

/// How a forked process reaches the objects its script shares (the host's calls).
pub trait RemoteObjects: Send + Sync + fmt::Debug {
    /// Runs `op` on object `id` in the script's process, waiting there at most `wait`.
    fn call(
        &self,
        id: u64,
        op: &SharedOp,
        owner: Owner,
        wait: Duration,
    ) -> Result<OpOutcome, VmError>;
}

#[derive(Debug)]
enum State {
    Queue {
        items: VecDeque<Value>,
        unfinished: usize,
    },
    Value(Value),
    Array(Vec<Value>),
    Lock {
        owner: Option<Owner>,
        count: usize,
    },
    Event(bool),
    /// A manager's dict or list (a `Value::Dict` or `Value::List` kept here).
    Proxy(Value),
}

/// The methods a manager's proxies forward, by name (`'static`, as they cross the wire).
const PROXY_METHODS: &[&str] = &[
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__len__",
    "__contains__",
    "__str__",
    "items",
    "keys",
    "values",
    "get",
    "update",
    "pop",
    "setdefault",
    "clear",
    "copy",
    "append",
    "extend",
    "insert",
    "remove",
    "index",
    "count",
    "reverse",
];

/// The `'static` name of a proxy method.
pub fn proxy_method(name: &str) -> Option<&'static str> {
    PROXY_METHODS.iter().copied().find(|m| *m == name)
}

#[derive(Debug)]
enum Backend {
    Local {
        state: Mutex<State>,
        changed: Condvar,
    },
    Remote(Arc<dyn RemoteObjects>),
}

/// A shared object: its state here, or a handle on it in the script's process.
#[derive(Debug)]
pub struct SharedObj {
    /// Its number, the same in every process.
    pub id: u64,
    /// What it is.
    pub kind: SharedKind,
    /// A `Value`'s or an `Array`'s own lock (`get_lock()`).
    pub lock: Option<Arc<SharedObj>>,
    /// A pipe end's queues here: where it sends, where it receives.
    pair: Option<(Arc<SharedObj>, Arc<SharedObj>)>,
    backend: Backend,
    /// Made by a `Manager` (a proxy, which pickles), not inherited through fork only.
    managed: AtomicBool,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, HashMap<u64, Weak<SharedObj>>> {
    static REGISTRY: LazyLock<Mutex<HashMap<u64, Weak<SharedObj>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut g = lock(&REGISTRY);
    // Objects no process holds any more leave the table.
    if g.len() > 1024 {
        g.retain(|_, w| w.strong_count() > 0);
    }
    g
}

fn remote() -> &'static RwLock<Option<Arc<dyn RemoteObjects>>> {
    static REMOTE: RwLock<Option<Arc<dyn RemoteObjects>>> = RwLock::new(None);
    &REMOTE
}

/// In a forked process: where the script's shared objects are reached.
pub fn set_remote(objects: Arc<dyn RemoteObjects>) {
    *remote().write().unwrap_or_else(|p| p.into_inner()) = Some(objects);
}

/// The calling thread's number in this process (a lock's owner).
pub fn this_thread() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static ME: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    ME.with(|m| *m)
}

fn owner_here() -> Owner {
    (std::process::id(), this_thread())
}

fn index_of(i: i64, len: usize) -> Result<usize, VmError> {
    let k = if i < 0 { i + len as i64 } else { i };
    if (0..len as i64).contains(&k) {
        Ok(k as usize)
    } else {
        Err(VmError::py("IndexError", "invalid index"))
    }
}

/// A value as a shared `Value`/`Array` of type code `t` keeps it.
fn coerce(t: char, v: Value) -> Result<Value, VmError> {
    match (t, &v) {
        ('d' | 'f', _) => v.as_f64().map(Value::Float).ok_or_else(|| {
            VmError::type_error("must be real number, not ".to_owned() + v.type_name())
        }),
        ('c' | 'u', Value::Str(_)) => Ok(v),
        (_, Value::Int(_) | Value::Bool(_)) => Ok(Value::Int(v.as_i64().unwrap_or(0))),
        _ => Err(VmError::type_error(format!(
            "int expected instead of {}",
            v.type_name()
        ))),
    }
}

impl SharedObj {
    fn local(kind: SharedKind, state: State, lock: Option<Arc<SharedObj>>) -> Arc<SharedObj> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let obj = Arc::new(SharedObj {
            id,
            kind,
            lock,
            pair: None,
            managed: AtomicBool::new(false),
            backend: Backend::Local {
                state: Mutex::new(state),
                changed: Condvar::new(),
            },
        });
        registry().insert(id, Arc::downgrade(&obj));
        obj
    }

    /// `Pipe(duplex)`: two ends, each sending into the queue the other receives from (one
    /// queue, reader end first, when not duplex).
    pub fn pipe(duplex: bool) -> (Arc<SharedObj>, Arc<SharedObj>) {
        let unbounded = || {
            Self::new(SharedKind::Queue {
                maxsize: 0,
                joinable: false,
                simple: true,
            })
        };
        let (a_to_b, b_to_a) = (unbounded(), unbounded());
        let end = |send: &Arc<SharedObj>, recv: &Arc<SharedObj>| {
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            let obj = Arc::new(SharedObj {
                id,
                kind: SharedKind::Conn,
                lock: None,
                pair: Some((Arc::clone(send), Arc::clone(recv))),
                managed: AtomicBool::new(false),
                backend: Backend::Local {
                    state: Mutex::new(State::Event(false)),
                    changed: Condvar::new(),
                },
            });
            registry().insert(id, Arc::downgrade(&obj));
            obj
        };
        if duplex {
            (end(&a_to_b, &b_to_a), end(&b_to_a, &a_to_b))
        } else {
            (end(&a_to_b, &a_to_b), end(&a_to_b, &a_to_b))
        }
    }

    /// Marks it as made by a `Manager`: a proxy that may go to a pool's tasks.
    pub fn set_managed(&self) {
        self.managed.store(true, Ordering::Relaxed);
    }

    /// Whether a `Manager` made it.
    pub fn is_managed(&self) -> bool {
        self.managed.load(Ordering::Relaxed)
    }

    /// A new queue, lock or event.
    pub fn new(kind: SharedKind) -> Arc<SharedObj> {
        let state = match kind {
            SharedKind::Queue { .. } => State::Queue {
                items: VecDeque::new(),
                unfinished: 0,
            },
            SharedKind::Lock { .. } => State::Lock {
                owner: None,
                count: 0,
            },
            SharedKind::Event => State::Event(false),
            SharedKind::Dict => State::Proxy(Value::Dict(super::object::Obj::new(
                super::value::DictObj::with_kind(super::collections::DictKind::Plain),
            ))),
            SharedKind::List => State::Proxy(Value::list(Vec::new())),
            SharedKind::Conn => State::Event(false),
            SharedKind::Value { .. } => State::Value(Value::Int(0)),
            SharedKind::Array { .. } => State::Array(Vec::new()),
        };
        Self::local(kind, state, None)
    }

    /// A new `Value` of type code `typecode` holding `v`, with its own `RLock`.
    pub fn value(typecode: char, v: Value) -> Result<Arc<SharedObj>, VmError> {
        let v = coerce(typecode, v)?;
        let lock = Self::new(SharedKind::Lock { recursive: true });
        Ok(Self::local(
            SharedKind::Value { typecode },
            State::Value(v),
            Some(lock),
        ))
    }

    /// A new `Array` of type code `typecode` holding `items`, with its own `RLock`.
    pub fn array(typecode: char, items: Vec<Value>) -> Result<Arc<SharedObj>, VmError> {
        let items = items
            .into_iter()
            .map(|v| coerce(typecode, v))
            .collect::<Result<_, _>>()?;
        let lock = Self::new(SharedKind::Lock { recursive: true });
        Ok(Self::local(
            SharedKind::Array { typecode },
            State::Array(items),
            Some(lock),
        ))
    }

    /// The object numbered `id`: this process's own, or (in a forked process) a handle on the
    /// script's.
    pub fn resolve(id: u64, kind: &str, lock: Option<(u64, String)>) -> Option<Arc<SharedObj>> {
        if let Some(o) = registry().get(&id).and_then(Weak::upgrade) {
            return Some(o);
        }
        let rpc = remote().read().unwrap_or_else(|p| p.into_inner()).clone()?;
        let lock = match lock {
            Some((lid, lkind)) => Some(Self::resolve(lid, &lkind, None)?),
            None => None,
        };
        let obj = Arc::new(SharedObj {
            id,
            kind: SharedKind::decode(kind)?,
            lock,
            pair: None,
            managed: AtomicBool::new(false),
            backend: Backend::Remote(rpc),
        });
        registry().insert(id, Arc::downgrade(&obj));
        Some(obj)
    }

    /// Runs `op` for the calling thread, waiting at most `wait` when it would block.
    pub fn run(&self, op: &SharedOp, wait: Duration) -> Result<OpOutcome, VmError> {
        self.run_as(op, owner_here(), wait)
    }

    /// Runs `op` for `owner` (a thread of this process, or of a forked one).
    pub fn run_as(
        &self,
        op: &SharedOp,
        owner: Owner,
        wait: Duration,
    ) -> Result<OpOutcome, VmError> {
        // A pipe end sends into one queue and receives from the other.
        if let Some((send, recv)) = &self.pair {
            return match op {
                SharedOp::Put(_) => send.run_as(op, owner, wait),
                _ => recv.run_as(op, owner, wait),
            };
        }
        match &self.backend {
            Backend::Remote(rpc) => rpc.call(self.id, op, owner, wait),
            Backend::Local { state, changed } => {
                let mut st = lock(state);
                let first = self.apply(&mut st, op, owner)?;
                if !matches!(first, OpOutcome::WouldBlock) || wait.is_zero() {
                    if !matches!(first, OpOutcome::WouldBlock) {
                        changed.notify_all();
                    }
                    return Ok(first);
                }
                let (mut st, _) = changed
                    .wait_timeout(st, wait)
                    .unwrap_or_else(|p| p.into_inner());
                let again = self.apply(&mut st, op, owner)?;
                if !matches!(again, OpOutcome::WouldBlock) {
                    changed.notify_all();
                }
                Ok(again)
            }
        }
    }

    fn apply(&self, st: &mut State, op: &SharedOp, owner: Owner) -> Result<OpOutcome, VmError> {
        use OpOutcome::{Done, WouldBlock};
        let none = || Ok(Done(Value::None));
        match (st, op) {
            (State::Queue { items, unfinished }, SharedOp::Put(v)) => {
                let max = match self.kind {
                    SharedKind::Queue { maxsize, .. } => maxsize,
                    _ => 0,
                };
                if max > 0 && items.len() >= max {
                    return Ok(WouldBlock);
                }
                items.push_back(v.clone());
                *unfinished += 1;
                none()
            }
            (State::Queue { items, .. }, SharedOp::Get) => {
                Ok(items.pop_front().map_or(WouldBlock, Done))
            }
            (State::Queue { items, .. }, SharedOp::Qsize) => {
                Ok(Done(Value::Int(items.len() as i64)))
            }
            (State::Queue { unfinished, .. }, SharedOp::TaskDone) => {
                if *unfinished == 0 {
                    return Err(VmError::py(
                        "ValueError",
                        "task_done() called too many times",
                    ));
                }
                *unfinished -= 1;
                none()
            }
            (State::Queue { unfinished, .. }, SharedOp::Join) => Ok(if *unfinished == 0 {
                Done(Value::None)
            } else {
                WouldBlock
            }),
            (State::Value(v), SharedOp::Load) => Ok(Done(v.clone())),
            (State::Value(v), SharedOp::Store(new)) => {
                let t = match self.kind {
                    SharedKind::Value { typecode } => typecode,
                    _ => 'i',
                };
                *v = coerce(t, new.clone())?;
                none()
            }
            (State::Array(items), SharedOp::Item(i)) => {
                Ok(Done(items[index_of(*i, items.len())?].clone()))
            }
            (State::Array(items), SharedOp::SetItem(i, v)) => {
                let t = match self.kind {
                    SharedKind::Array { typecode } => typecode,
                    _ => 'i',
                };
                let k = index_of(*i, items.len())?;
                items[k] = coerce(t, v.clone())?;
                none()
            }
            (State::Array(items), SharedOp::All) => Ok(Done(Value::list(items.clone()))),
            (State::Lock { owner: held, count }, SharedOp::Acquire) => {
                let recursive = matches!(self.kind, SharedKind::Lock { recursive: true });
                match held {
                    None => {
                        *held = Some(owner);
                        *count = 1;
                        Ok(Done(Value::Bool(true)))
                    }
                    Some(o) if recursive && *o == owner => {
                        *count += 1;
                        Ok(Done(Value::Bool(true)))
                    }
                    Some(_) => Ok(WouldBlock),
                }
            }
            (State::Lock { owner: held, count }, SharedOp::Release) => {
                let recursive = matches!(self.kind, SharedKind::Lock { recursive: true });
                match held {
                    None if recursive => Err(VmError::py(
                        "AssertionError",
                        "attempt to release recursive lock not owned by thread",
                    )),
                    None => Err(VmError::py(
                        "ValueError",
                        "semaphore or lock released too many times",
                    )),
                    Some(o) if recursive && *o != owner => Err(VmError::py(
                        "AssertionError",
                        "attempt to release recursive lock not owned by thread",
                    )),
                    Some(_) => {
                        *count -= 1;
                        if *count == 0 || !recursive {
                            *held = None;
                            *count = 0;
                        }
                        none()
                    }
                }
            }
            (State::Event(flag), SharedOp::Set) => {
                *flag = true;
                none()
            }
            (State::Event(flag), SharedOp::Clear) => {
                *flag = false;
                none()
            }
            (State::Event(flag), SharedOp::IsSet) => Ok(Done(Value::Bool(*flag))),
            (State::Event(flag), SharedOp::Wait) => Ok(if *flag {
                Done(Value::Bool(true))
            } else {
                WouldBlock
            }),
            (State::Proxy(v), SharedOp::Proxy(m, args)) => proxy_call(v, m, args).map(Done),
            (_, op) => Err(VmError::type_error(format!(
                "'{}' object does not support {}",
                self.kind.type_name(),
                op.parts().0
            ))),
        }
    }

    /// Reads without waiting (a `Value`'s `.value`, an `Array`'s items, a queue's size).
    pub fn read(&self, op: &SharedOp) -> Result<Value, VmError> {
        match self.run(op, Duration::ZERO)? {
            OpOutcome::Done(v) => Ok(v),
            OpOutcome::WouldBlock => Err(VmError::py("SystemError", "a read would block")),
        }
    }

    /// `repr()`, as `multiprocessing` writes it.
    pub fn repr(&self) -> String {
        match &self.kind {
            SharedKind::Value { typecode } => {
                let v = self
                    .read(&SharedOp::Load)
                    .map_or_else(|_| "?".to_owned(), |v| v.repr());
                format!("<Synchronized wrapper for {}({v})>", ctype_name(*typecode))
            }
            SharedKind::Array { typecode } => {
                let n = self
                    .read(&SharedOp::All)
                    .ok()
                    .and_then(|v| super::ops::iterate(&v).ok())
                    .map_or(0, |v| v.len());
                format!(
                    "<SynchronizedArray wrapper for <multiprocessing.sharedctypes.{}_Array_{n} object>>",
                    ctype_name(*typecode)
                )
            }
            SharedKind::Lock { recursive } => {
                let owner = match &self.backend {
                    Backend::Local { state, .. } => match &*lock(state) {
                        State::Lock { owner: Some(_), .. } => "SomeOtherProcess",
                        _ => "None",
                    },
                    Backend::Remote(_) => "unknown",
                };
                if *recursive {
                    format!("<RLock({owner}, 0)>")
                } else {
                    format!("<Lock(owner={owner})>")
                }
            }
            SharedKind::Dict | SharedKind::List => proxy(self, "__str__", Vec::new())
                .map_or_else(|_| "<proxy>".to_owned(), |v| v.to_str()),
            kind => format!("<multiprocessing.{} object>", kind.type_name()),
        }
    }
}

fn ctype_name(t: char) -> &'static str {
    match t {
        'd' => "c_double",
        'f' => "c_float",
        'l' => "c_long",
        'c' => "c_char",
        'b' => "c_byte",
        'u' => "c_wchar",
        'q' => "c_longlong",
        _ => "c_int",
    }
}

fn raise_queue(name: &str) -> VmError {
    super::exception::raise(super::exception::new_exception(
        super::queue::queue_exception(name),
        Vec::new(),
    ))
}

fn the_shared(args: &[Value]) -> Result<Arc<SharedObj>, VmError> {
    match args.first() {
        Some(Value::Mp(m)) => match &**m {
            MpObj::Shared(s) => Ok(Arc::clone(s)),
            _ => Err(VmError::type_error("descriptor requires a shared object")),
        },
        _ => Err(VmError::type_error("descriptor requires a shared object")),
    }
}

/// `block` and `timeout` of a `get`/`put`/`acquire`, positional from `at` or by keyword.
fn block_timeout(
    args: &[Value],
    at: usize,
    kwargs: &Kwargs,
    block_name: &str,
) -> Result<(bool, Option<f64>), VmError> {
    let kw = |n: &str| kwargs.iter().find(|(k, _)| &**k == n).map(|(_, v)| v);
    let block = match args.get(at).or_else(|| kw(block_name)) {
        Some(v) => v.truthy()?,
        None => true,
    };
    let timeout = match args.get(at + 1).or_else(|| kw("timeout")) {
        None | Some(Value::None) => None,
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| VmError::type_error("timeout must be a number"))?
                .max(0.0),
        ),
    };
    Ok((block, timeout))
}

fn typecode_of(v: Option<&Value>) -> Result<char, VmError> {
    match v {
        Some(Value::Str(s)) if s.chars().count() == 1 => {
            let c = s.chars().next().unwrap_or('i');
            if "bBhHiIlLqQfdcu".contains(c) {
                Ok(c)
            } else {
                Err(VmError::type_error(format!(
                    "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d), not '{c}'"
                )))
            }
        }
        _ => Err(VmError::type_error(
            "gilscope's Value and Array take an array type code ('i', 'd'…)",
        )),
    }
}

/// The zero of type code `t`.
fn zero(t: char) -> Value {
    match t {
        'd' | 'f' => Value::Float(0.0),
        'c' | 'u' => Value::str("\0"),
        _ => Value::Int(0),
    }
}

fn shared_value(s: Arc<SharedObj>) -> Value {
    Value::Mp(Arc::new(MpObj::Shared(s)))
}

impl<H: Host> Vm<'_, H> {
    /// `multiprocessing.Queue()`, `Value(...)`, `Array(...)`, `Lock()`…
    pub(super) fn new_shared(
        &mut self,
        f: MpFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let maxsize = || match args.first().or_else(|| {
            kwargs
                .iter()
                .find(|(k, _)| &**k == "maxsize")
                .map(|(_, v)| v)
        }) {
            Some(v) => v.as_i64().map_or(0, |n| n.max(0) as usize),
            None => 0,
        };
        let obj = match f {
            MpFn::Queue | MpFn::JoinableQueue => SharedObj::new(SharedKind::Queue {
                maxsize: maxsize(),
                joinable: f == MpFn::JoinableQueue,
                simple: false,
            }),
            MpFn::SimpleQueue => SharedObj::new(SharedKind::Queue {
                maxsize: 0,
                joinable: false,
                simple: true,
            }),
            MpFn::Lock => SharedObj::new(SharedKind::Lock { recursive: false }),
            MpFn::RLock => SharedObj::new(SharedKind::Lock { recursive: true }),
            MpFn::Event => SharedObj::new(SharedKind::Event),
            MpFn::Value => {
                let t = typecode_of(args.first())?;
                let v = args.get(1).cloned().unwrap_or_else(|| zero(t));
                SharedObj::value(t, v)?
            }
            MpFn::Array => {
                let t = typecode_of(args.first())?;
                let items = match args.get(1) {
                    Some(Value::Int(n)) => vec![zero(t); (*n).max(0) as usize],
                    Some(v) => self.iterate(v)?,
                    None => {
                        return Err(VmError::type_error(
                            "Array() missing 1 required positional argument: 'size_or_initializer'",
                        ));
                    }
                };
                SharedObj::array(t, items)?
            }
            other => {
                return Err(VmError::py(
                    "SystemError",
                    format!("{} makes no shared object", other.name()),
                ));
            }
        };
        Ok(shared_value(obj))
    }

    /// Waits, with the GIL released, for `op` to finish (`None`: it did not in time).
    fn shared_wait(
        &mut self,
        obj: &Arc<SharedObj>,
        op: SharedOp,
        block: bool,
        timeout: Option<f64>,
    ) -> Result<Option<Value>, VmError> {
        if let OpOutcome::Done(v) = obj.run(&op, Duration::ZERO)? {
            return Ok(Some(v));
        }
        if !block {
            return Ok(None);
        }
        let deadline = timeout.map(deadline_after);
        let (mut got, mut err) = (None, None);
        self.wait_released(deadline, |slice| match obj.run(&op, slice) {
            Ok(OpOutcome::Done(v)) => {
                got = Some(v);
                true
            }
            Ok(OpOutcome::WouldBlock) => false,
            Err(e) => {
                err = Some(e);
                true
            }
        })?;
        match err {
            Some(e) => Err(e),
            None => Ok(got),
        }
    }

    /// A method of a shared object.
    pub(super) fn call_shared(
        &mut self,
        f: SharedFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let s = the_shared(&args)?;
        // A Value's or an Array's lock methods are its lock's.
        let lock_of = |s: &Arc<SharedObj>| s.lock.clone().unwrap_or_else(|| Arc::clone(s));
        match f {
            SharedFn::Put | SharedFn::PutNowait => {
                let item = args.get(1).cloned().ok_or_else(|| {
                    VmError::type_error("put() missing 1 required positional argument: 'obj'")
                })?;
                let (block, timeout) = if f == SharedFn::Put {
                    block_timeout(&args, 2, &kwargs, "block")?
                } else {
                    (false, None)
                };
                match self.shared_wait(&s, SharedOp::Put(item), block, timeout)? {
                    Some(_) => Ok(Value::None),
                    None => Err(raise_queue("Full")),
                }
            }
            SharedFn::Get | SharedFn::GetNowait => {
                let (block, timeout) = if f == SharedFn::Get {
                    block_timeout(&args, 1, &kwargs, "block")?
                } else {
                    (false, None)
                };
                self.shared_wait(&s, SharedOp::Get, block, timeout)?
                    .ok_or_else(|| raise_queue("Empty"))
            }
            SharedFn::Qsize => s.read(&SharedOp::Qsize),
            SharedFn::Empty | SharedFn::Full => {
                let n = s.read(&SharedOp::Qsize)?.as_i64().unwrap_or(0);
                Ok(Value::Bool(if f == SharedFn::Empty {
                    n == 0
                } else {
                    matches!(s.kind, SharedKind::Queue { maxsize, .. } if maxsize > 0 && n >= maxsize as i64)
                }))
            }
            SharedFn::Close => Ok(Value::None),
            SharedFn::TaskDone => s.read(&SharedOp::TaskDone),
            SharedFn::Join => {
                self.shared_wait(&s, SharedOp::Join, true, None)?;
                Ok(Value::None)
            }
            SharedFn::GetLock => Ok(shared_value(lock_of(&s))),
            SharedFn::GetObj => Ok(args[0].clone()),
            SharedFn::Acquire | SharedFn::Enter => {
                let (block, timeout) = if f == SharedFn::Acquire {
                    block_timeout(&args, 1, &kwargs, "block")?
                } else {
                    (true, None)
                };
                let l = lock_of(&s);
                let got = self.shared_wait(&l, SharedOp::Acquire, block, timeout)?;
                Ok(Value::Bool(got.is_some()))
            }
            SharedFn::Release | SharedFn::Exit => {
                lock_of(&s).read(&SharedOp::Release)?;
                Ok(if f == SharedFn::Exit {
                    Value::Bool(false)
                } else {
                    Value::None
                })
            }
            SharedFn::Set => s.read(&SharedOp::Set),
            SharedFn::Clear => s.read(&SharedOp::Clear),
            SharedFn::IsSet => s.read(&SharedOp::IsSet),
            SharedFn::Proxy(m) => proxy(&s, m, args[1..].to_vec()),
            SharedFn::Poll => {
                let timeout = match args.get(1) {
                    None => Some(0.0),
                    Some(Value::None) => None,
                    Some(v) => Some(v.as_f64().unwrap_or(0.0).max(0.0)),
                };
                let ready = |s: &SharedObj| -> Result<bool, VmError> {
                    Ok(s.read(&SharedOp::Qsize)?.as_i64().unwrap_or(0) > 0)
                };
                if ready(&s)? || timeout == Some(0.0) {
                    return Ok(Value::Bool(ready(&s)?));
                }
                let deadline = timeout.map(deadline_after);
                let mut err = None;
                let got = self.wait_released(deadline, |slice| match ready(&s) {
                    Ok(true) => true,
                    Ok(false) => {
                        std::thread::sleep(slice.min(Duration::from_millis(2)));
                        false
                    }
                    Err(e) => {
                        err = Some(e);
                        true
                    }
                })?;
                match err {
                    Some(e) => Err(e),
                    None => Ok(Value::Bool(got)),
                }
            }
            SharedFn::Wait => {
                let timeout = super::sync::timeout_arg(&args, 1, &kwargs)?;
                let got = self.shared_wait(&s, SharedOp::Wait, true, timeout)?;
                Ok(Value::Bool(got.is_some()))
            }
        }
    }
}

/// A manager's dict or list runs `method(*args)`; other shared objects have no such method.
pub fn proxy(s: &SharedObj, method: &'static str, args: Vec<Value>) -> Result<Value, VmError> {
    if !matches!(s.kind, SharedKind::Dict | SharedKind::List) {
        return Err(VmError::type_error(format!(
            "'{}' object does not support {method}",
            s.kind.type_name()
        )));
    }
    s.read(&SharedOp::Proxy(method, Value::Tuple(args.into())))
}

/// `arr[i]` and `arr[a:b]` of a shared `Array`, `d[k]` of a manager's dict or list.
pub fn subscript(s: &SharedObj, key: &Value) -> Result<Value, VmError> {
    if matches!(s.kind, SharedKind::Dict | SharedKind::List) {
        return proxy(s, "__getitem__", vec![key.clone()]);
    }
    if !matches!(s.kind, SharedKind::Array { .. }) {
        return Err(VmError::type_error(format!(
            "'{}' object is not subscriptable",
            s.kind.type_name()
        )));
    }
    match key {
        Value::Slice(_) => super::ops::subscript(&s.read(&SharedOp::All)?, key),
        k => {
            let i = k
                .as_i64()
                .ok_or_else(|| VmError::type_error("array indices must be integers"))?;
            s.read(&SharedOp::Item(i))
        }
    }
}

/// `arr[i] = v` of a shared `Array`.
pub fn store(s: &SharedObj, key: &Value, v: Value) -> Result<(), VmError> {
    if matches!(s.kind, SharedKind::Dict | SharedKind::List) {
        return proxy(s, "__setitem__", vec![key.clone(), v]).map(|_| ());
    }
    let i = match (&s.kind, key) {
        (SharedKind::Array { .. }, k) => k
            .as_i64()
            .ok_or_else(|| VmError::type_error("array indices must be integers"))?,
        _ => {
            return Err(VmError::type_error(format!(
                "'{}' object does not support item assignment",
                s.kind.type_name()
            )));
        }
    };
    s.read(&SharedOp::SetItem(i, v)).map(|_| ())
}

/// The items of a shared `Array` (`len`, iteration, `list(arr)`).
pub fn items(s: &SharedObj) -> Result<Vec<Value>, VmError> {
    match s.kind {
        SharedKind::Dict => super::ops::iterate(&proxy(s, "keys", Vec::new())?),
        SharedKind::List => super::ops::iterate(&proxy(s, "copy", Vec::new())?),
        SharedKind::Array { .. } => super::ops::iterate(&s.read(&SharedOp::All)?),
        _ => Err(VmError::type_error(format!(
            "'{}' object is not iterable",
            s.kind.type_name()
        ))),
    }
}

/// A manager's object runs `method(*args)` (in the manager's process, here the script's).
fn proxy_call(v: &Value, method: &str, args: &Value) -> Result<Value, VmError> {
    let args = super::ops::iterate(args)?;
    let arg = |k: usize| {
        args.get(k)
            .cloned()
            .ok_or_else(|| VmError::type_error(format!("{method}() missing a required argument")))
    };
    let none = Ok(Value::None);
    match (v, method) {
        (_, "__getitem__") => super::ops::subscript(v, &arg(0)?),
        (_, "__len__") => super::ops::iterate(v).map(|i| Value::Int(i.len() as i64)),
        (_, "__contains__") => super::ops::contains(v, &arg(0)?).map(Value::Bool),
        (_, "__str__") => Ok(Value::str(&v.repr())),
        (Value::Dict(d), "__setitem__") => {
            d.lock().insert(arg(0)?, arg(1)?)?;
            none
        }
        (Value::Dict(d), "__delitem__") => match d.lock().remove(&arg(0)?)? {
            Some(_) => none,
            None => Err(super::exception::key_error(&arg(0)?)),
        },
        (Value::Dict(d), "items") => Ok(Value::list(
            d.lock()
                .iter()
                .map(|(k, v)| Value::Tuple(Arc::from([k.clone(), v.clone()])))
                .collect(),
        )),
        (Value::Dict(d), "keys") => Ok(Value::list(
            d.lock().iter().map(|(k, _)| k.clone()).collect(),
        )),
        (Value::Dict(d), "values") => Ok(Value::list(
            d.lock().iter().map(|(_, v)| v.clone()).collect(),
        )),
        (Value::Dict(d), "get") => Ok(d
            .lock()
            .get(&arg(0)?)?
            .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::None))),
        (Value::Dict(d), "setdefault") => {
            let k = arg(0)?;
            let mut t = d.lock();
            match t.get(&k)? {
                Some(v) => Ok(v),
                None => {
                    let v = args.get(1).cloned().unwrap_or(Value::None);
                    t.insert(k, v.clone())?;
                    Ok(v)
                }
            }
        }
        (Value::Dict(d), "update") => {
            let pairs = match arg(0)? {
                Value::Dict(o) => o.lock().pairs(),
                other => super::ops::iterate(&other)?
                    .into_iter()
                    .map(|p| {
                        let kv = super::ops::iterate(&p)?;
                        match &kv[..] {
                            [k, v] => Ok((k.clone(), v.clone())),
                            _ => Err(VmError::py(
                                "ValueError",
                                "dictionary update sequence element has the wrong length",
                            )),
                        }
                    })
                    .collect::<Result<_, _>>()?,
            };
            let mut t = d.lock();
            for (k, v) in pairs {
                t.insert(k, v)?;
            }
            none
        }
        (Value::Dict(d), "pop") => {
            let k = arg(0)?;
            match (d.lock().remove(&k)?, args.get(1)) {
                (Some(v), _) => Ok(v),
                (None, Some(dflt)) => Ok(dflt.clone()),
                (None, None) => Err(super::exception::key_error(&k)),
            }
        }
        (Value::Dict(d), "clear") => {
            d.lock().clear();
            none
        }
        (Value::Dict(d), "copy") => Ok(Value::Dict(super::object::Obj::new(
            super::value::DictObj::new(d.lock().pairs())?,
        ))),
        (Value::List(l), "__setitem__") => {
            let mut items = l.lock();
            let i = arg(0)?
                .as_i64()
                .ok_or_else(|| VmError::type_error("list indices must be integers or slices"))?;
            let k = super::ops::seq_index(i, items.len())
                .ok_or_else(|| VmError::py("IndexError", "list assignment index out of range"))?;
            items[k] = arg(1)?;
            none
        }
        (Value::List(l), "__delitem__") => {
            let mut items = l.lock();
            let i = arg(0)?.as_i64().unwrap_or(0);
            let k = super::ops::seq_index(i, items.len())
                .ok_or_else(|| VmError::py("IndexError", "list assignment index out of range"))?;
            items.remove(k);
            none
        }
        (Value::List(l), "append") => {
            l.lock().push(arg(0)?);
            none
        }
        (Value::List(l), "extend") => {
            let more = super::ops::iterate(&arg(0)?)?;
            l.lock().extend(more);
            none
        }
        (Value::List(l), "insert") => {
            let mut items = l.lock();
            let i = arg(0)?.as_i64().unwrap_or(0);
            let n = items.len() as i64;
            let k = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
            items.insert(k, arg(1)?);
            none
        }
        (Value::List(l), "pop") => {
            let mut items = l.lock();
            let n = items.len();
            let i = args.first().and_then(Value::as_i64).unwrap_or(-1);
            let k = super::ops::seq_index(i, n).ok_or_else(|| {
                VmError::py(
                    "IndexError",
                    if n == 0 {
                        "pop from empty list"
                    } else {
                        "pop index out of range"
                    },
                )
            })?;
            Ok(items.remove(k))
        }
        (Value::List(l), "remove") => {
            let x = arg(0)?;
            let mut items = l.lock();
            match items.iter().position(|v| v.py_eq(&x)) {
                Some(k) => {
                    items.remove(k);
                    none
                }
                None => Err(VmError::py("ValueError", "list.remove(x): x not in list")),
            }
        }
        (Value::List(l), "index") => {
            let x = arg(0)?;
            l.lock()
                .iter()
                .position(|v| v.py_eq(&x))
                .map(|k| Value::Int(k as i64))
                .ok_or_else(|| VmError::py("ValueError", format!("{} is not in list", x.repr())))
        }
        (Value::List(l), "count") => {
            let x = arg(0)?;
            Ok(Value::Int(
                l.lock().iter().filter(|v| v.py_eq(&x)).count() as i64
            ))
        }
        (Value::List(l), "reverse") => {
            l.lock().reverse();
            none
        }
        (Value::List(l), "clear") => {
            l.lock().clear();
            none
        }
        (Value::List(l), "copy") => Ok(Value::list(l.lock().clone())),
        _ => Err(VmError::py(
            "AttributeError",
            format!("'{}' object has no attribute '{method}'", v.type_name()),
        )),
    }
}
