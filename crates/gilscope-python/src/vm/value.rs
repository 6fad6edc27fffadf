//! Values of the interpreter: Python's small types, lists, dicts, and NumPy-like float64 arrays.
//!
//! Every value is `Send + Sync`, so module globals can really be shared between worker threads
//! as in CPython. Array cells are relaxed atomics: plain loads and stores on x86-64, and sound
//! even when two threads write the same cell without a GIL.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::VmError;
use super::code::Code;
use super::object::Obj;

/// A built-in (native) function or method of the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `range(stop)`, `range(start, stop[, step])`.
    Range,
    /// `len(x)`.
    Len,
    /// `abs(x)`.
    Abs,
    /// `min(a, b, ...)` or `min(iterable)`.
    Min,
    /// `max(a, b, ...)` or `max(iterable)`.
    Max,
    /// `print(...)`: written to the host's output.
    Print,
    /// `int(x)`.
    Int,
    /// `float(x)`.
    Float,
    /// `time.sleep(secs)`: a blocking wait with the GIL released.
    TimeSleep,
    /// `numpy.zeros(shape)`.
    NpZeros,
    /// `numpy.ones(shape)`.
    NpOnes,
    /// `numpy.random.randn(n[, m])`: standard normal samples.
    NpRandomRandn,
    /// `numpy.dot(a, b)`.
    NpDot,
    /// `numpy.random.rand(n, m)`.
    NpRandomRand,
    /// `numpy.arange([start,] stop[, step])` (its values as float64: gilscope's arrays hold
    /// floats only).
    NpArange,
    /// `numpy.linspace(start, stop, num)`.
    NpLinspace,
    /// `numpy.array_split(seq, sections)`.
    NpArraySplit,
    /// `list.append` (bound to its list by `LOAD_METHOD`).
    ListAppend,
    /// `ndarray.sum` (bound to its array by `LOAD_METHOD`).
    ArraySum,
    /// `sys.getrefcount(x)`: the modelled reference count of a list, dict, function or array.
    SysGetrefcount,
    /// `enumerate(iterable, start=0)`.
    Enumerate,
    /// `zip(*iterables)`.
    Zip,
    /// `sorted(iterable, *, key=None, reverse=False)`.
    Sorted,
    /// `sum(iterable, /, start=0)`.
    Sum,
    /// `list(iterable=())`.
    List,
    /// `tuple(iterable=())`.
    Tuple,
    /// `dict(pairs=(), **kwargs)`.
    Dict,
    /// `str(object='')`.
    Str,
    /// `bytes(source=b'', encoding=...)`.
    Bytes,
    /// `bool(x=False)`.
    Bool,
    /// `round(number, ndigits=None)`.
    Round,
    /// `any(iterable)`.
    Any,
    /// `all(iterable)`.
    All,
    /// `reversed(sequence)`.
    Reversed,
    /// `repr(object)`.
    Repr,
    /// `map(function, *iterables)`.
    Map,
    /// `filter(function, iterable)`.
    Filter,
    /// `next(iterator[, default])`.
    Next,
    /// `iter(iterable)`.
    Iter,
    /// `time.perf_counter()`.
    TimePerfCounter,
    /// `time.perf_counter_ns()`.
    TimePerfCounterNs,
    /// `time.monotonic()`.
    TimeMonotonic,
    /// `time.monotonic_ns()`.
    TimeMonotonicNs,
    /// `time.time()`.
    TimeTime,
    /// `time.time_ns()`.
    TimeTimeNs,
    /// `threading.Thread(group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None)`.
    ThreadingThread,
    /// `threading.current_thread()`.
    ThreadingCurrentThread,
    /// `threading.get_ident()`.
    ThreadingGetIdent,
    /// `Thread.start` (bound by `LOAD_METHOD`).
    ThreadStart,
    /// `Thread.join(timeout=None)` (bound by `LOAD_METHOD`).
    ThreadJoin,
    /// `Thread.is_alive` (bound by `LOAD_METHOD`).
    ThreadIsAlive,
    /// `threading.Lock()`.
    ThreadingLock,
    /// `threading.RLock()`.
    ThreadingRLock,
    /// `Lock.acquire(blocking=True, timeout=-1)`.
    LockAcquire,
    /// `Lock.release()`.
    LockRelease,
    /// `Lock.locked()`.
    LockLocked,
    /// `Lock.__enter__()`.
    LockEnter,
    /// `Lock.__exit__(*exc)`.
    LockExit,
    /// `__build_class__(func, name, *bases)`, what `LOAD_BUILD_CLASS` pushes.
    BuildClass,
    /// `object`.
    Object,
    /// `super()`.
    Super,
    /// `staticmethod(f)`.
    StaticMethod,
    /// `classmethod(f)`.
    ClassMethod,
    /// `property(fget, fset=None)`.
    Property,
    /// `property.setter(fset)` (bound to the property).
    PropertySetter,
    /// `isinstance(obj, class_or_tuple)`.
    Isinstance,
    /// `type(obj)`.
    Type,
    /// `hasattr(obj, name)`.
    Hasattr,
    /// `getattr(obj, name[, default])`.
    Getattr,
    /// `setattr(obj, name, value)`.
    Setattr,
    /// `BaseException.__init__(self, *args)` (what `super().__init__` reaches).
    ExcInit,
    /// `Thread.__init__(self, …)` for a subclass's instance.
    ThreadInit,
    /// `Process.__init__(self, …)` for a subclass's instance.
    ProcessInit,
    /// `object.__init__(self)`.
    ObjectInit,
    /// `object.__repr__(self)`.
    ObjectRepr,
    /// A method of `str`, `list` or `dict` (bound by `LOAD_METHOD`).
    Method(super::methods::Method),
    /// A function of `sys`, `os`, `os.path` or `math`.
    Module(super::modules::ModFunc),
    /// `time.process_time`/`thread_time` (and their `_ns` forms): CPU time of the program or of
    /// the calling thread.
    TimeCpu {
        /// The whole program's (`process_time`), not the thread's.
        process: bool,
        /// In integer nanoseconds (`_ns`).
        ns: bool,
    },
    /// A function of `asyncio`, or a method of its `Task`.
    Asyncio(super::asyncio::AsyncFn),
    /// A function of `collections`, or a method of a deque or Counter.
    Collections(super::collections::CollFn),
    /// A function of `multiprocessing`, or a method of its pools, processes and results.
    Mp(super::multiprocessing::MpFn),
    /// `urllib.request.urlopen`, or a method of its responses.
    Urllib(super::urllib::UrlFn),
    /// An old camelCase name of `threading` (it warns).
    Legacy(super::legacy::Legacy),
    /// A function of `logging`, or a method of a logger.
    Logging(super::logging::LogFn),
    /// A function of `functools` or `itertools`.
    Tools(super::functools::ToolFn),
    /// A function of `numba`.
    Numba(super::numba::NumbaFn),
    /// A function of `heapq`.
    Heapq(super::functools::HeapFn),
    /// `sys._is_gil_enabled()` (3.13+).
    SysIsGilEnabled,
    /// An asyncio primitive's constructor or method.
    AsyncPrim(super::asyncio_sync::PrimFn),
    /// `collections.namedtuple`, or a method of the classes it makes.
    NamedTuple(super::namedtuple::NtFn),
    /// `open(file, mode='r', ...)`.
    Open,
    /// A method of a file object.
    File(super::file::FileFn),
    /// `generator.send(value)` (and a coroutine's).
    GenSend,
    /// `generator.close()`.
    GenClose,
    /// `generator.throw(exc)`.
    GenThrow,
    /// `queue.Queue()` and its kin (`SimpleQueue` when the flag is set).
    QueueNew(super::queue::QueueKind, bool),
    /// `Queue.put(item, block=True, timeout=None)`.
    QueuePut,
    /// `Queue.put_nowait(item)`.
    QueuePutNowait,
    /// `Queue.get(block=True, timeout=None)`.
    QueueGet,
    /// `Queue.get_nowait()`.
    QueueGetNowait,
    /// `Queue.qsize()`.
    QueueQsize,
    /// `Queue.empty()`.
    QueueEmpty,
    /// `Queue.full()`.
    QueueFull,
    /// `Queue.task_done()`.
    QueueTaskDone,
    /// `Queue.join()`.
    QueueJoin,
    /// `concurrent.futures.ThreadPoolExecutor(max_workers=None, thread_name_prefix='')`.
    ThreadPoolExecutor,
    /// `concurrent.futures.wait(fs, timeout=None, return_when=ALL_COMPLETED)`.
    FuturesWait,
    /// `Future.add_done_callback(fn)`.
    FutureAddDoneCallback,
    /// `Future.running()`.
    FutureRunning,
    /// `Executor.submit(fn, /, *args, **kwargs)`.
    ExecutorSubmit,
    /// `Executor.map(fn, *iterables, timeout=None)`.
    ExecutorMap,
    /// `Executor.shutdown(wait=True)`.
    ExecutorShutdown,
    /// `Executor.__enter__()`.
    ExecutorEnter,
    /// `Executor.__exit__(*exc)`: `shutdown(wait=True)`.
    ExecutorExit,
    /// A worker thread's loop (the target of the threads an executor starts).
    ExecutorWork,
    /// `Future.result(timeout=None)`.
    FutureResult,
    /// `Future.exception(timeout=None)`.
    FutureException,
    /// `Future.done()`.
    FutureDone,
    /// `concurrent.futures.as_completed(fs, timeout=None)`.
    AsCompleted,
    /// `set(iterable=())`, or `frozenset` when the flag is set.
    SetNew(bool),
    /// A method of a set (bound by `LOAD_METHOD`).
    SetMethod(super::set_methods::SetMethod),
    /// `threading.Event()`, `Semaphore`, `BoundedSemaphore`, `Condition` or `Barrier`.
    SyncNew(&'static str),
    /// A method of one of those (bound by `LOAD_METHOD`).
    Sync(super::sync::SyncMethod),
    /// `threading.main_thread()`.
    ThreadingMainThread,
    /// `threading.active_count()`.
    ThreadingActiveCount,
    /// `threading.enumerate()`.
    ThreadingEnumerate,
    /// `hash(obj)`.
    Hash,
    /// A function of `random`.
    Random(super::random::RandomFn),
    /// `threading.Timer(interval, function, args=None, kwargs=None)`.
    ThreadingTimer,
    /// A timer thread's body.
    TimerRun,
    /// `Timer.cancel()`.
    TimerCancel,
    /// `threading.local()`.
    ThreadingLocal,
    /// `chr(i)`.
    Chr,
    /// `ord(c)`.
    Ord,
    /// `hex(i)`.
    Hex,
    /// `oct(i)`.
    Oct,
    /// `bin(i)`.
    Bin,
    /// `divmod(a, b)`.
    Divmod,
    /// `pow(base, exp, mod=None)`.
    Pow,
    /// `id(obj)`.
    Id,
    /// `format(value, spec='')`.
    Format,
    /// `callable(obj)`.
    Callable,
    /// `issubclass(cls, class_or_tuple)`.
    Issubclass,
}

impl Builtin {
    /// Whether this builtin is a type (`int`, `str`, `list`…): it prints as `<class 'int'>`.
    pub fn is_type(self) -> bool {
        matches!(
            self,
            Builtin::Int
                | Builtin::Float
                | Builtin::Str
                | Builtin::Bytes
                | Builtin::Bool
                | Builtin::List
                | Builtin::Tuple
                | Builtin::Dict
                | Builtin::SetNew(_)
                | Builtin::Range
                | Builtin::Object
                | Builtin::Type
                | Builtin::Collections(
                    super::collections::CollFn::Deque
                        | super::collections::CollFn::Counter
                        | super::collections::CollFn::DefaultDict
                )
        )
    }
    /// The name Python shows for it.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Range => "range",
            Builtin::Len => "len",
            Builtin::Abs => "abs",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Print => "print",
            Builtin::Int => "int",
            Builtin::Float => "float",
            Builtin::Enumerate => "enumerate",
            Builtin::Zip => "zip",
            Builtin::Sorted => "sorted",
            Builtin::Sum => "sum",
            Builtin::List => "list",
            Builtin::Tuple => "tuple",
            Builtin::Dict => "dict",
            Builtin::Str => "str",
            Builtin::Bytes => "bytes",
            Builtin::Bool => "bool",
            Builtin::Round => "round",
            Builtin::Any => "any",
            Builtin::All => "all",
            Builtin::Reversed => "reversed",
            Builtin::Repr => "repr",
            Builtin::Map => "map",
            Builtin::Filter => "filter",
            Builtin::Next => "next",
            Builtin::Iter => "iter",
            Builtin::TimeSleep => "sleep",
            Builtin::NpZeros => "zeros",
            Builtin::NpOnes => "ones",
            Builtin::NpRandomRandn => "randn",
            Builtin::NpDot => "dot",
            Builtin::NpRandomRand => "rand",
            Builtin::NpLinspace => "linspace",
            Builtin::NpArange => "arange",
            Builtin::NpArraySplit => "array_split",
            Builtin::ListAppend => "append",
            Builtin::ArraySum => "sum",
            Builtin::SysGetrefcount => "getrefcount",
            Builtin::TimePerfCounter => "perf_counter",
            Builtin::TimePerfCounterNs => "perf_counter_ns",
            Builtin::TimeMonotonic => "monotonic",
            Builtin::TimeMonotonicNs => "monotonic_ns",
            Builtin::TimeTime => "time",
            Builtin::TimeTimeNs => "time_ns",
            Builtin::ThreadingThread => "Thread",
            Builtin::ThreadingCurrentThread => "current_thread",
            Builtin::ThreadingGetIdent => "get_ident",
            Builtin::ThreadStart => "start",
            Builtin::ThreadJoin => "join",
            Builtin::ThreadIsAlive => "is_alive",
            Builtin::ThreadingLock => "Lock",
            Builtin::ThreadingRLock => "RLock",
            Builtin::LockAcquire => "acquire",
            Builtin::LockRelease => "release",
            Builtin::LockLocked => "locked",
            Builtin::LockEnter => "__enter__",
            Builtin::LockExit => "__exit__",
            Builtin::BuildClass => "__build_class__",
            Builtin::Object => "object",
            Builtin::Super => "super",
            Builtin::StaticMethod => "staticmethod",
            Builtin::ClassMethod => "classmethod",
            Builtin::Property => "property",
            Builtin::PropertySetter => "setter",
            Builtin::Isinstance => "isinstance",
            Builtin::Type => "type",
            Builtin::Hasattr => "hasattr",
            Builtin::Getattr => "getattr",
            Builtin::Setattr => "setattr",
            Builtin::ExcInit | Builtin::ThreadInit | Builtin::ProcessInit | Builtin::ObjectInit => {
                "__init__"
            }
            Builtin::ObjectRepr => "__repr__",
            Builtin::Method(m) => m.name(),
            Builtin::Module(f) => f.name(),
            Builtin::Asyncio(f) => f.name(),
            Builtin::Collections(f) => f.name(),
            Builtin::Mp(f) => f.name(),
            Builtin::Urllib(f) => f.name(),
            Builtin::Legacy(f) => f.name(),
            Builtin::Logging(f) => f.name(),
            Builtin::Tools(f) => f.name(),
            Builtin::Numba(f) => f.name(),
            Builtin::Heapq(f) => f.name(),
            Builtin::SysIsGilEnabled => "_is_gil_enabled",
            Builtin::AsyncPrim(f) => f.name(),
            Builtin::NamedTuple(f) => f.name(),
            Builtin::Open => "open",
            Builtin::File(f) => f.name(),
            Builtin::TimeCpu { process, ns } => match (process, ns) {
                (true, false) => "process_time",
                (true, true) => "process_time_ns",
                (false, false) => "thread_time",
                (false, true) => "thread_time_ns",
            },
            Builtin::GenSend => "send",
            Builtin::GenClose => "close",
            Builtin::GenThrow => "throw",
            Builtin::QueueNew(kind, simple) => match (kind, simple) {
                (_, true) => "SimpleQueue",
                (super::queue::QueueKind::Fifo, _) => "Queue",
                (super::queue::QueueKind::Lifo, _) => "LifoQueue",
                (super::queue::QueueKind::Priority, _) => "PriorityQueue",
            },
            Builtin::QueuePut => "put",
            Builtin::QueuePutNowait => "put_nowait",
            Builtin::QueueGet => "get",
            Builtin::QueueGetNowait => "get_nowait",
            Builtin::QueueQsize => "qsize",
            Builtin::QueueEmpty => "empty",
            Builtin::QueueFull => "full",
            Builtin::QueueTaskDone => "task_done",
            Builtin::QueueJoin => "join",
            Builtin::ThreadPoolExecutor => "ThreadPoolExecutor",
            Builtin::ExecutorSubmit => "submit",
            Builtin::FuturesWait => "wait",
            Builtin::FutureAddDoneCallback => "add_done_callback",
            Builtin::FutureRunning => "running",
            Builtin::ExecutorMap => "map",
            Builtin::ExecutorShutdown => "shutdown",
            Builtin::ExecutorEnter => "__enter__",
            Builtin::ExecutorExit => "__exit__",
            Builtin::ExecutorWork => "_worker",
            Builtin::FutureResult => "result",
            Builtin::FutureException => "exception",
            Builtin::FutureDone => "done",
            Builtin::AsCompleted => "as_completed",
            Builtin::SetNew(false) => "set",
            Builtin::SetNew(true) => "frozenset",
            Builtin::SetMethod(m) => m.name(),
            Builtin::SyncNew(kind) => kind,
            Builtin::Sync(m) => m.name(),
            Builtin::ThreadingMainThread => "main_thread",
            Builtin::ThreadingActiveCount => "active_count",
            Builtin::ThreadingEnumerate => "enumerate",
            Builtin::Hash => "hash",
            Builtin::Random(f) => f.name(),
            Builtin::ThreadingTimer => "Timer",
            Builtin::TimerRun => "run",
            Builtin::TimerCancel => "cancel",
            Builtin::ThreadingLocal => "local",
            Builtin::Chr => "chr",
            Builtin::Ord => "ord",
            Builtin::Hex => "hex",
            Builtin::Oct => "oct",
            Builtin::Bin => "bin",
            Builtin::Divmod => "divmod",
            Builtin::Pow => "pow",
            Builtin::Id => "id",
            Builtin::Format => "format",
            Builtin::Callable => "callable",
            Builtin::Issubclass => "issubclass",
        }
    }

    /// The builtin a bare name refers to (the `builtins` module), if any.
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "range" => Builtin::Range,
            "len" => Builtin::Len,
            "abs" => Builtin::Abs,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "print" => Builtin::Print,
            "open" => Builtin::Open,
            "int" => Builtin::Int,
            "float" => Builtin::Float,
            "enumerate" => Builtin::Enumerate,
            "zip" => Builtin::Zip,
            "sorted" => Builtin::Sorted,
            "sum" => Builtin::Sum,
            "list" => Builtin::List,
            "tuple" => Builtin::Tuple,
            "dict" => Builtin::Dict,
            "str" => Builtin::Str,
            "bytes" => Builtin::Bytes,
            "bool" => Builtin::Bool,
            "round" => Builtin::Round,
            "any" => Builtin::Any,
            "all" => Builtin::All,
            "reversed" => Builtin::Reversed,
            "repr" => Builtin::Repr,
            "map" => Builtin::Map,
            "filter" => Builtin::Filter,
            "next" => Builtin::Next,
            "iter" => Builtin::Iter,
            "object" => Builtin::Object,
            "super" => Builtin::Super,
            "staticmethod" => Builtin::StaticMethod,
            "classmethod" => Builtin::ClassMethod,
            "property" => Builtin::Property,
            "isinstance" => Builtin::Isinstance,
            "type" => Builtin::Type,
            "hasattr" => Builtin::Hasattr,
            "getattr" => Builtin::Getattr,
            "setattr" => Builtin::Setattr,
            "set" => Builtin::SetNew(false),
            "hash" => Builtin::Hash,
            "chr" => Builtin::Chr,
            "ord" => Builtin::Ord,
            "hex" => Builtin::Hex,
            "oct" => Builtin::Oct,
            "bin" => Builtin::Bin,
            "divmod" => Builtin::Divmod,
            "pow" => Builtin::Pow,
            "id" => Builtin::Id,
            "format" => Builtin::Format,
            "callable" => Builtin::Callable,
            "issubclass" => Builtin::Issubclass,
            "frozenset" => Builtin::SetNew(true),
            _ => return None,
        })
    }
}

/// Whether `name` is a module of CPython 3.11's standard library that teaching code imports
/// (so that its absence here is gilscope's, not the user's).
pub fn is_stdlib_module(name: &str) -> bool {
    const STDLIB: &[&str] = &[
        "abc",
        "argparse",
        "array",
        "asyncio",
        "bisect",
        "collections",
        "concurrent",
        "contextlib",
        "copy",
        "csv",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "gc",
        "hashlib",
        "heapq",
        "io",
        "itertools",
        "json",
        "logging",
        "math",
        "multiprocessing",
        "operator",
        "os",
        "pathlib",
        "pickle",
        "queue",
        "random",
        "re",
        "sched",
        "selectors",
        "shutil",
        "signal",
        "socket",
        "statistics",
        "string",
        "struct",
        "subprocess",
        "sys",
        "tempfile",
        "textwrap",
        "threading",
        "time",
        "timeit",
        "traceback",
        "typing",
        "unittest",
        "urllib",
        "uuid",
        "weakref",
    ];
    STDLIB.contains(&name)
}

/// The modules a program may import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdModule {
    /// `time`: `sleep`.
    Time,
    /// `numpy`: `zeros`, `dot`, `linspace`, `array_split`, `random`.
    Numpy,
    /// `numpy.random`: `rand`.
    NumpyRandom,
    /// `sys`: `getrefcount`.
    Sys,
    /// `threading`: `Thread`, `current_thread`, `get_ident`.
    Threading,
    /// `math`.
    Math,
    /// `os`: `cpu_count`, `getpid`, `getenv`, `path`.
    Os,
    /// `os.path`: `join`, `exists`, `basename`, `dirname`.
    OsPath,
    /// `sys.stdout`: `write`, `flush`.
    SysStdout,
    /// `sys.stderr`: `write`, `flush`.
    SysStderr,
    /// `queue`: `Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`, `Empty`, `Full`.
    Queue,
    /// `random`: the Mersenne Twister's `random`, `randint`, `choice`, `shuffle`…
    Random,
    /// `concurrent` (the package): `futures`.
    Concurrent,
    /// `concurrent.futures`: `ThreadPoolExecutor`, `as_completed`.
    Futures,
    /// `asyncio`: `run`, `sleep`, `gather`, `create_task`.
    Asyncio,
    /// `collections`: `deque`, `Counter`, `defaultdict`.
    Collections,
    /// `multiprocessing`: `Pool`, `Process`, `cpu_count`, `current_process`.
    Multiprocessing,
    /// `urllib` (the package): `request`, `error`.
    Urllib,
    /// `logging`: `basicConfig`, `getLogger`, `debug`…
    Logging,
    /// `functools`: `partial`, `reduce`, `wraps`, `lru_cache`, `cache`.
    Functools,
    /// `itertools`: `count`, `islice`, `chain`, `product`…
    Itertools,
    /// `heapq`: `heappush`, `heappop`, `heapify`, `nlargest`, `nsmallest`.
    Heapq,
    /// `typing`: the names annotations use (`List`, `Optional`, `Any`…), each stood in for
    /// by a type, and `TYPE_CHECKING`.
    Typing,
    /// `numba`: `jit`, `njit`, `prange`, run by the interpreter.
    Numba,
    /// `__future__`: the features, each as its `(optional, mandatory, compiler_flag)`.
    Future,
    /// `urllib.request`: `urlopen`.
    UrllibRequest,
    /// `urllib.error`: `URLError`, `HTTPError`.
    UrllibError,
    /// A module that may be imported (the drivers' `threading`, `multiprocessing`, `sys`…) but
    /// whose attributes the interpreter does not provide.
    Opaque(&'static str),
    /// One of the program's sibling modules (its globals are the namespace's `name.` slots).
    User {
        /// Its name.
        name: &'static str,
        /// Its file.
        file: &'static str,
    },
}

/// A name of `typing`: the generic types stand in as the built-in type they name (`List` is
/// `list`, so `List[int]` is a subscripted type, as `list[int]` is), the special forms as
/// `object`; what a script gets is only ever used as an annotation.
fn typing_attr(name: &str) -> Option<Value> {
    use super::collections::CollFn;
    let b = |b| Some(Value::Builtin(b));
    match name {
        "List" => b(Builtin::List),
        "Dict" => b(Builtin::Dict),
        "Tuple" => b(Builtin::Tuple),
        "Set" => b(Builtin::SetNew(false)),
        "FrozenSet" => b(Builtin::SetNew(true)),
        "Type" => b(Builtin::Type),
        "Deque" => b(Builtin::Collections(CollFn::Deque)),
        "DefaultDict" => b(Builtin::Collections(CollFn::DefaultDict)),
        "Counter" => b(Builtin::Collections(CollFn::Counter)),
        "Any" | "Optional" | "Union" | "Callable" | "Iterable" | "Iterator" | "Sequence"
        | "MutableSequence" | "Mapping" | "MutableMapping" | "Generator" | "Awaitable"
        | "Coroutine" | "AsyncIterator" | "AsyncIterable" | "AsyncGenerator" | "ClassVar"
        | "Final" | "Literal" | "Hashable" | "Sized" | "Collection" | "Container"
        | "Reversible" | "NoReturn" | "Never" | "Self" | "TypeAlias" | "AbstractSet"
        | "MutableSet" | "KeysView" | "ValuesView" | "ItemsView" => b(Builtin::Object),
        "TYPE_CHECKING" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// A `__future__` feature: `(optional, mandatory, compiler_flag)`, the three values CPython's
/// `_Feature` holds (shown as a tuple, not as `_Feature(...)`).
fn future_feature(name: &str) -> Option<Value> {
    /// A release: major, minor, level and serial (micro is 0 for every feature).
    type Release = (i64, i64, &'static str, i64);
    let (optional, mandatory, flag): (Release, Option<Release>, i64) = match name {
        "nested_scopes" => ((2, 1, "beta", 1), Some((2, 2, "alpha", 0)), 0x10),
        "generators" => ((2, 2, "alpha", 1), Some((2, 3, "final", 0)), 0),
        "division" => ((2, 2, "alpha", 2), Some((3, 0, "alpha", 0)), 0x20000),
        "absolute_import" => ((2, 5, "alpha", 1), Some((3, 0, "alpha", 0)), 0x40000),
        "with_statement" => ((2, 5, "alpha", 1), Some((2, 6, "alpha", 0)), 0x80000),
        "print_function" => ((2, 6, "alpha", 2), Some((3, 0, "alpha", 0)), 0x100000),
        "unicode_literals" => ((2, 6, "alpha", 2), Some((3, 0, "alpha", 0)), 0x200000),
        "generator_stop" => ((3, 5, "beta", 1), Some((3, 7, "alpha", 0)), 0x800000),
        "annotations" => ((3, 7, "beta", 1), None, 0x1000000),
        _ => return None,
    };
    let version = |major: i64, minor: i64, level: &str, serial: i64| {
        Value::Tuple(
            vec![
                Value::Int(major),
                Value::Int(minor),
                Value::Int(0),
                Value::str(level),
                Value::Int(serial),
            ]
            .into(),
        )
    };
    let (a, b, level, serial) = optional;
    Some(Value::Tuple(
        vec![
            version(a, b, level, serial),
            mandatory.map_or(Value::None, |(a, b, level, serial)| {
                version(a, b, level, serial)
            }),
            Value::Int(flag),
        ]
        .into(),
    ))
}

impl StdModule {
    /// Imports a module by its dotted name.
    pub fn import(name: &str) -> Option<StdModule> {
        Some(match name {
            "time" => StdModule::Time,
            "numpy" => StdModule::Numpy,
            "numpy.random" => StdModule::NumpyRandom,
            "threading" => StdModule::Threading,
            "multiprocessing" => StdModule::Multiprocessing,
            "urllib" => StdModule::Urllib,
            "logging" => StdModule::Logging,
            "functools" => StdModule::Functools,
            "heapq" => StdModule::Heapq,
            "typing" => StdModule::Typing,
            "__future__" => StdModule::Future,
            "numba" => StdModule::Numba,
            "itertools" => StdModule::Itertools,
            "urllib.request" => StdModule::UrllibRequest,
            "urllib.error" => StdModule::UrllibError,
            "sys" => StdModule::Sys,
            "math" => StdModule::Math,
            "os" => StdModule::Os,
            "os.path" => StdModule::OsPath,
            "queue" => StdModule::Queue,
            "random" => StdModule::Random,
            "concurrent" => StdModule::Concurrent,
            "concurrent.futures" => StdModule::Futures,
            "asyncio" => StdModule::Asyncio,
            "collections" => StdModule::Collections,
            _ => return None,
        })
    }

    /// The module's name.
    pub fn name(self) -> &'static str {
        match self {
            StdModule::Time => "time",
            StdModule::Numpy => "numpy",
            StdModule::NumpyRandom => "numpy.random",
            StdModule::Sys => "sys",
            StdModule::Threading => "threading",
            StdModule::Math => "math",
            StdModule::Os => "os",
            StdModule::OsPath => "posixpath",
            StdModule::SysStdout => "sys.stdout",
            StdModule::SysStderr => "sys.stderr",
            StdModule::Queue => "queue",
            StdModule::Random => "random",
            StdModule::Concurrent => "concurrent",
            StdModule::Futures => "concurrent.futures",
            StdModule::Asyncio => "asyncio",
            StdModule::Collections => "collections",
            StdModule::Multiprocessing => "multiprocessing",
            StdModule::Urllib => "urllib",
            StdModule::Logging => "logging",
            StdModule::Functools => "functools",
            StdModule::Itertools => "itertools",
            StdModule::Heapq => "heapq",
            StdModule::Typing => "typing",
            StdModule::Future => "__future__",
            StdModule::Numba => "numba",
            StdModule::UrllibRequest => "urllib.request",
            StdModule::UrllibError => "urllib.error",
            StdModule::Opaque(n) => n,
            StdModule::User { name, .. } => name,
        }
    }

    /// `module.attr`.
    pub fn attr(self, attr: &str) -> Option<Value> {
        let b = |b| Some(Value::Builtin(b));
        match (self, attr) {
            (StdModule::Time, "sleep") => b(Builtin::TimeSleep),
            (StdModule::Time, "perf_counter") => b(Builtin::TimePerfCounter),
            (StdModule::Time, "perf_counter_ns") => b(Builtin::TimePerfCounterNs),
            (StdModule::Time, "monotonic") => b(Builtin::TimeMonotonic),
            (StdModule::Time, "monotonic_ns") => b(Builtin::TimeMonotonicNs),
            (StdModule::Time, "time") => b(Builtin::TimeTime),
            (StdModule::Time, "time_ns") => b(Builtin::TimeTimeNs),
            (StdModule::Time, "process_time") => b(Builtin::TimeCpu {
                process: true,
                ns: false,
            }),
            (StdModule::Time, "process_time_ns") => b(Builtin::TimeCpu {
                process: true,
                ns: true,
            }),
            (StdModule::Time, "thread_time") => b(Builtin::TimeCpu {
                process: false,
                ns: false,
            }),
            (StdModule::Time, "thread_time_ns") => b(Builtin::TimeCpu {
                process: false,
                ns: true,
            }),
            (StdModule::Threading, "Thread") => b(Builtin::ThreadingThread),
            (StdModule::Threading, "current_thread") => b(Builtin::ThreadingCurrentThread),
            (StdModule::Threading, "get_ident") => b(Builtin::ThreadingGetIdent),
            (StdModule::Threading, "Lock") => b(Builtin::ThreadingLock),
            (StdModule::Threading, "RLock") => b(Builtin::ThreadingRLock),
            (StdModule::Threading, "Event") => b(Builtin::SyncNew("Event")),
            (StdModule::Threading, "Semaphore") => b(Builtin::SyncNew("Semaphore")),
            (StdModule::Threading, "BoundedSemaphore") => b(Builtin::SyncNew("BoundedSemaphore")),
            (StdModule::Threading, "Condition") => b(Builtin::SyncNew("Condition")),
            (StdModule::Threading, "Barrier") => b(Builtin::SyncNew("Barrier")),
            (StdModule::Threading, "main_thread") => b(Builtin::ThreadingMainThread),
            (StdModule::Threading, "Timer") => b(Builtin::ThreadingTimer),
            (StdModule::Threading, "local") => b(Builtin::ThreadingLocal),
            (StdModule::Threading, "active_count") => b(Builtin::ThreadingActiveCount),
            (StdModule::Threading, "enumerate") => b(Builtin::ThreadingEnumerate),
            (StdModule::Threading, "get_native_id") => b(Builtin::ThreadingGetIdent),
            (StdModule::Threading, "currentThread") => {
                b(Builtin::Legacy(super::legacy::Legacy::CurrentThread))
            }
            (StdModule::Threading, "activeCount") => {
                b(Builtin::Legacy(super::legacy::Legacy::ActiveCount))
            }
            (StdModule::Numpy, "zeros") => b(Builtin::NpZeros),
            (StdModule::Numpy, "dot" | "matmul") => b(Builtin::NpDot),
            (StdModule::Numpy, "ones") => b(Builtin::NpOnes),
            (StdModule::NumpyRandom, "randn") => b(Builtin::NpRandomRandn),
            (StdModule::Numpy, "linspace") => b(Builtin::NpLinspace),
            (StdModule::Numpy, "arange") => b(Builtin::NpArange),
            (StdModule::Numpy, "sum") => b(Builtin::ArraySum),
            (StdModule::Numpy, "array_split") => b(Builtin::NpArraySplit),
            (StdModule::Numpy, "random") => Some(Value::Module(StdModule::NumpyRandom)),
            (StdModule::NumpyRandom, "rand") => b(Builtin::NpRandomRand),
            (StdModule::Sys, "getrefcount") => b(Builtin::SysGetrefcount),
            (StdModule::Queue, a) => super::queue::attr(a),
            (StdModule::Random, a) => super::random::attr(a),
            (StdModule::Concurrent, "futures") => Some(Value::Module(StdModule::Futures)),
            (StdModule::Futures, a) => super::futures::attr(a),
            (StdModule::Asyncio, a) => super::asyncio::attr(a),
            (StdModule::Collections, a) => super::collections::attr(a),
            (StdModule::Multiprocessing, a) => super::multiprocessing::attr(a),
            (StdModule::Logging, a) => super::logging::attr(a),
            (StdModule::Functools, a) => super::functools::functools_attr(a),
            (StdModule::Itertools, a) => super::functools::itertools_attr(a),
            (StdModule::Heapq, a) => super::functools::heapq_attr(a),
            (StdModule::Typing, a) => typing_attr(a),
            (StdModule::Future, a) => future_feature(a),
            (StdModule::Numba, a) => super::numba::numba_attr(a),
            (StdModule::Urllib, "request") => Some(Value::Module(StdModule::UrllibRequest)),
            (StdModule::Urllib, "error") => Some(Value::Module(StdModule::UrllibError)),
            (StdModule::UrllibRequest, "urlopen") => Some(Value::Builtin(Builtin::Urllib(
                super::urllib::UrlFn::Urlopen,
            ))),
            (StdModule::UrllibError, a) => super::urllib::error_class(a).map(Value::Class),
            (m, a) => super::modules::attr(m, a),
        }
    }
}

/// A Python slice `start:stop:step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceObj {
    /// Start, or `None` for the beginning.
    pub start: Option<i64>,
    /// Stop, or `None` for the end.
    pub stop: Option<i64>,
    /// Step (never 0), or `None` for 1.
    pub step: Option<i64>,
}

impl SliceObj {
    /// Whether it steps by one (`a[i:j]`, `a[i:j:1]`), the only slices arrays take.
    pub fn is_contiguous(&self) -> bool {
        matches!(self.step, None | Some(1))
    }

    /// `PySlice_AdjustIndices`: the indices a slice with any step selects in a sequence of
    /// `len` items, in order (`a[::-1]` counts down from the end).
    pub fn positions(&self, len: usize) -> Vec<usize> {
        let n = len as i64;
        let step = self.step.unwrap_or(1);
        let (lo, hi) = if step < 0 { (-1, n - 1) } else { (0, n) };
        let fix = |v: i64| {
            if v < 0 { (v + n).max(lo) } else { v.min(hi) }
        };
        let start = self.start.map_or(if step < 0 { hi } else { lo }, fix);
        let stop = self.stop.map_or(if step < 0 { lo } else { hi }, fix);
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            out.push(i as usize);
            i += step;
        }
        out
    }

    /// The half-open index range this slice selects in a sequence of `len` items (a step of
    /// one).
    pub fn resolve(&self, len: usize) -> (usize, usize) {
        let n = len as i64;
        let fix = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
        let a = self.start.map_or(0, fix);
        let b = self.stop.map_or(n, fix);
        (a as usize, b.max(a) as usize)
    }
}

/// The storage of an array: float64 cells as relaxed atomics, row-major.
#[derive(Debug)]
pub struct ArrayBuf {
    cells: Box<[AtomicU64]>,
    cols: usize,
}

impl ArrayBuf {
    fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut cells = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                cells.push(AtomicU64::new(f(i, j).to_bits()));
            }
        }
        Self {
            cells: cells.into_boxed_slice(),
            cols,
        }
    }
}

/// A 2-D float64 array or a rectangular view into one, like a NumPy `ndarray`.
#[derive(Debug, Clone)]
pub struct ArrayObj {
    buf: Arc<ArrayBuf>,
    /// Rows `[r0, r1)` of the buffer.
    pub rows: (usize, usize),
    /// Columns `[c0, c1)` of the buffer.
    pub cols: (usize, usize),
    /// 1 for a row taken with `a[i]`, else 2.
    pub ndim: u8,
}

impl ArrayObj {
    /// A fresh array whose cell `(i, j)` is `f(i, j)` (a NumPy allocation).
    pub fn from_fn(rows: usize, cols: usize, f: impl FnMut(usize, usize) -> f64) -> Self {
        Self {
            buf: Arc::new(ArrayBuf::from_fn(rows, cols, f)),
            rows: (0, rows),
            cols: (0, cols),
            ndim: 2,
        }
    }

    /// The view's shape.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows.1 - self.rows.0, self.cols.1 - self.cols.0)
    }

    /// Number of cells.
    pub fn size(&self) -> usize {
        let (n, m) = self.shape();
        n * m
    }

    #[inline(always)]
    fn cell(&self, i: usize, j: usize) -> &AtomicU64 {
        &self.buf.cells[(self.rows.0 + i) * self.buf.cols + self.cols.0 + j]
    }

    /// Row `i` of the view as a slice of cells (in bounds): loops over it need no index checks.
    #[inline(always)]
    pub fn row_cells(&self, i: usize) -> &[AtomicU64] {
        let start = (self.rows.0 + i) * self.buf.cols + self.cols.0;
        &self.buf.cells[start..start + (self.cols.1 - self.cols.0)]
    }

    /// A fresh array of the view's shape whose row `i` is written by `f(i, row)`.
    pub fn from_rows(rows: usize, cols: usize, mut f: impl FnMut(usize, &mut [f64])) -> Self {
        let mut cells: Vec<f64> = vec![0.0; rows * cols];
        for (i, row) in cells.chunks_mut(cols.max(1)).enumerate().take(rows) {
            f(i, row);
        }
        let cells: Box<[AtomicU64]> = cells
            .into_iter()
            .map(|v| AtomicU64::new(v.to_bits()))
            .collect();
        Self {
            buf: Arc::new(ArrayBuf { cells, cols }),
            rows: (0, rows),
            cols: (0, cols),
            ndim: 2,
        }
    }

    /// Cell `(i, j)` of the view (in bounds).
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> f64 {
        f64::from_bits(self.cell(i, j).load(Ordering::Relaxed))
    }

    /// Writes cell `(i, j)` of the view (in bounds).
    #[inline(always)]
    pub fn put(&self, i: usize, j: usize, v: f64) {
        self.cell(i, j).store(v.to_bits(), Ordering::Relaxed);
    }

    #[inline(always)]
    fn index(&self, i: i64, j: i64) -> Result<(usize, usize), VmError> {
        let (n, m) = self.shape();
        let fix = |v: i64, len: usize| -> Option<usize> {
            let v = if v < 0 { v + len as i64 } else { v };
            (0..len as i64).contains(&v).then_some(v as usize)
        };
        match (fix(i, n), fix(j, m)) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(VmError::py(
                "IndexError",
                format!("index ({i}, {j}) is out of bounds for shape ({n}, {m})"),
            )),
        }
    }

    /// `a[i, j]`.
    #[inline(always)]
    pub fn get(&self, i: i64, j: i64) -> Result<f64, VmError> {
        let (a, b) = self.index(i, j)?;
        Ok(self.at(a, b))
    }

    /// `a[i, j] = v`.
    #[inline(always)]
    pub fn set(&self, i: i64, j: i64, v: f64) -> Result<(), VmError> {
        let (a, b) = self.index(i, j)?;
        self.put(a, b, v);
        Ok(())
    }

    /// `a[rows, cols]` for two slices: a view sharing the buffer.
    pub fn slice(&self, rs: &SliceObj, cs: &SliceObj) -> ArrayObj {
        let (n, m) = self.shape();
        let (r0, r1) = rs.resolve(n);
        let (c0, c1) = cs.resolve(m);
        ArrayObj {
            buf: Arc::clone(&self.buf),
            rows: (self.rows.0 + r0, self.rows.0 + r1),
            cols: (self.cols.0 + c0, self.cols.0 + c1),
            ndim: 2,
        }
    }

    /// `a[i]`: row `i` as a view.
    pub fn row(&self, i: i64) -> Result<ArrayObj, VmError> {
        let (r, _) = self.index(i, 0)?;
        Ok(ArrayObj {
            buf: Arc::clone(&self.buf),
            rows: (self.rows.0 + r, self.rows.0 + r + 1),
            cols: self.cols,
            ndim: 1,
        })
    }

    /// The cells in row-major order.
    pub fn to_vec(&self) -> Vec<f64> {
        let (n, m) = self.shape();
        let mut out = Vec::with_capacity(n * m);
        for i in 0..n {
            out.extend(
                self.row_cells(i)
                    .iter()
                    .map(|c| f64::from_bits(c.load(Ordering::Relaxed))),
            );
        }
        out
    }

    /// A copy as an `ndarray` (for the frame snapshots and `dot`).
    pub fn to_ndarray(&self) -> ndarray::Array2<f64> {
        let (n, m) = self.shape();
        ndarray::Array2::from_shape_fn((n, m), |(i, j)| self.at(i, j))
    }
}

/// A list: items behind a per-object lock, as the free-threaded build protects list mutation.
#[derive(Debug, Default)]
pub struct ListObj {
    items: Mutex<Vec<Value>>,
}

impl ListObj {
    /// A list holding `items`.
    pub fn new(items: Vec<Value>) -> Self {
        Self {
            items: Mutex::new(items),
        }
    }

    /// Locks the items.
    pub fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A dict with insertion order, behind a per-object lock.
#[derive(Debug, Default)]
pub struct DictObj {
    items: Mutex<super::dict::DictTable>,
    /// A plain dict, a `Counter` or a `defaultdict`.
    pub kind: super::collections::DictKind,
}

impl DictObj {
    /// An empty dict of `kind`.
    pub fn with_kind(kind: super::collections::DictKind) -> Self {
        Self {
            items: Mutex::default(),
            kind,
        }
    }

    /// A dict of the given pairs (later keys replace earlier equal ones); `TypeError` for an
    /// unhashable key.
    pub fn new(pairs: Vec<(Value, Value)>) -> Result<Self, VmError> {
        let d = Self::default();
        {
            let mut items = d.lock();
            for (k, v) in pairs {
                items.insert(k, v)?;
            }
        }
        Ok(d)
    }

    /// A new empty dict, as a value.
    pub fn new_value() -> Value {
        Value::Dict(Obj::new(Self::default()))
    }

    /// Locks the table.
    pub fn lock(&self) -> MutexGuard<'_, super::dict::DictTable> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Iteration over a tuple or list.
#[derive(Debug)]
pub struct SeqIter {
    /// The sequence.
    pub seq: Value,
    /// Next position.
    pub pos: AtomicUsize,
}

/// A function object: code plus the defaults evaluated when `def` ran.
#[derive(Debug)]
pub struct Function {
    /// The code.
    pub code: Arc<Code>,
    /// Default values of the last positional parameters.
    pub defaults: Vec<Value>,
    /// Default values of keyword-only parameters, by name.
    pub kwdefaults: Vec<(Arc<str>, Value)>,
    /// The cells of the enclosing functions' variables it reads (`__closure__`), in
    /// `co_freevars` order.
    pub closure: Vec<Value>,
    /// `__annotations__`: the dict `MAKE_FUNCTION` made of its annotations, or `None`.
    pub annotations: Value,
}

/// A cell: a variable shared between a function and the functions defined inside it.
#[derive(Debug, Default)]
pub struct CellObj {
    value: Mutex<Value>,
}

impl CellObj {
    /// A cell holding `v` (NULL: empty).
    pub fn new(v: Value) -> Self {
        Self {
            value: Mutex::new(v),
        }
    }

    /// Its value (NULL when empty).
    pub fn get(&self) -> Value {
        self.value.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets its value.
    pub fn set(&self, v: Value) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = v;
    }
}

/// A value on the interpreter's stack or in a variable.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The NULL CPython pushes below a callable (and an unbound variable).
    #[default]
    Null,
    /// `None`.
    None,
    /// `...`, the one `Ellipsis`.
    Ellipsis,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits in 64 bits.
    Int(i64),
    /// An int that does not (never one that fits: see `bigint::int_value`).
    BigInt(Arc<num_bigint::BigInt>),
    /// A float.
    Float(f64),
    /// A str.
    Str(Arc<str>),
    /// A `bytes` object.
    Bytes(Arc<[u8]>),
    /// A 2-tuple of ints, the index `(i, j)`; kept unboxed as CPython's tuple free list would.
    IntPair(i64, i64),
    /// Any other tuple.
    Tuple(Arc<[Value]>),
    /// A list.
    List(Obj<ListObj>),
    /// A dict.
    Dict(Obj<DictObj>),
    /// A slice object.
    Slice(Arc<SliceObj>),
    /// An array or view.
    Array(Obj<ArrayObj>),
    /// A NumPy scalar (`numpy.float64`), a heap object of its own.
    NpFloat(Obj<super::npscalar::NpScalar>),
    /// A `range` object.
    Range {
        /// First value.
        start: i64,
        /// Exclusive end.
        stop: i64,
        /// Step (never 0).
        step: i64,
    },
    /// A `range` iterator, advanced in place on the stack.
    RangeIter {
        /// Next value.
        next: i64,
        /// Exclusive end.
        stop: i64,
        /// Step (never 0).
        step: i64,
    },
    /// An iterator over a tuple or list.
    SeqIter(Arc<SeqIter>),
    /// An interpreted function.
    Function(Obj<Function>),
    /// A native function, or a method once bound by `LOAD_METHOD`.
    Builtin(Builtin),
    /// An imported module.
    Module(StdModule),
    /// A code object (a constant of the module code, made a function by `MAKE_FUNCTION`).
    Code(Arc<Code>),
    /// A `threading.Thread`.
    Thread(Obj<super::thread::ThreadObj>),
    /// A cell (only in a frame's slots and a closure).
    Cell(Arc<CellObj>),
    /// A generator object.
    Generator(Obj<super::generator::GenObj>),
    /// The awaitable an async generator's `__anext__` gives (`async_generator_asend`).
    AsyncGenNext(Obj<super::generator::GenObj>),
    /// A class (the built-in exceptions).
    Class(Arc<super::class::ClassObj>),
    /// An instance of a class (an exception object).
    Instance(Obj<super::class::Instance>),
    /// A method bound to its object (`obj.method` without a call).
    Method(Arc<BoundMethod>),
    /// A `threading.Lock` or `RLock`.
    Lock(Arc<super::lock::LockObj>),
    /// `super()`, bound to its class and object.
    Super(Arc<super::class::SuperObj>),
    /// A `staticmethod`, `classmethod` or `property`.
    Descriptor(Arc<super::class::Descriptor>),
    /// `NotImplemented`.
    NotImplemented,
    /// A `queue.Queue` (or `LifoQueue`, `PriorityQueue`, `SimpleQueue`).
    Queue(Arc<super::queue::QueueObj>),
    /// A `concurrent.futures.ThreadPoolExecutor`.
    Executor(Arc<super::futures::ExecutorObj>),
    /// A `concurrent.futures.Future`.
    Future(Arc<super::futures::FutureObj>),
    /// A `set` or `frozenset`.
    Set(Obj<super::set::SetObj>),
    /// A `threading.Event`, `Semaphore`, `Condition` or `Barrier`.
    Sync(Arc<super::sync::SyncObj>),
    /// A `threading.local`.
    Local(Arc<super::timer::LocalObj>),
    /// An asyncio `Task`, `gather` future or `sleep`.
    Awaitable(Arc<super::asyncio::AsyncObj>),
    /// A `collections.deque`.
    Deque(Arc<super::collections::DequeObj>),
    /// A text file `open` returned.
    File(Arc<super::file::FileObj>),
    /// `dict.keys()`, `values()` or `items()`.
    DictView(Arc<super::dict::DictView>),
    /// A multiprocessing pool, process or pending result.
    Mp(Arc<super::multiprocessing::MpObj>),
    /// An HTTP response `urlopen` returned.
    Http(Arc<super::urllib::Response>),
    /// A `logging.Logger`.
    Logger(Arc<super::logging::LoggerObj>),
    /// A `functools.partial` or a cached function.
    Wrapper(Arc<super::functools::WrapperObj>),
    /// An asyncio `Lock`, `Event`, `Semaphore` or `Queue`.
    AsyncPrim(Arc<super::asyncio_sync::PrimObj>),
}

/// A bound method: the callable and the object it is called with first.
#[derive(Debug)]
pub struct BoundMethod {
    /// The object, passed as the first argument.
    pub this: Value,
    /// The function.
    pub func: Value,
}

impl Value {
    /// The address of the heap object this value refers to (its identity for `is`, `id` and
    /// the default hash), or `None` for the values held inline (ints, floats, None, builtins).
    pub fn heap_addr(&self) -> Option<usize> {
        fn arc<T: ?Sized>(a: &Arc<T>) -> usize {
            Arc::as_ptr(a) as *const u8 as usize
        }
        Some(match self {
            Value::Str(s) => arc(s),
            Value::Bytes(b) => arc(b),
            Value::Tuple(t) => arc(t),
            Value::List(o) => o.addr(),
            Value::Dict(o) => o.addr(),
            Value::Slice(s) => arc(s),
            Value::Array(o) => o.addr(),
            Value::NpFloat(o) => o.addr(),
            Value::SeqIter(s) => arc(s),
            Value::Function(o) => o.addr(),
            Value::Code(c) => arc(c),
            Value::Thread(o) => o.addr(),
            Value::Cell(c) => arc(c),
            Value::Generator(o) => o.addr(),
            Value::Class(c) => arc(c),
            Value::Instance(o) => o.addr(),
            Value::Method(m) => arc(m),
            Value::Lock(l) => arc(l),
            Value::Super(s) => arc(s),
            Value::Descriptor(d) => arc(d),
            Value::Queue(q) => arc(q),
            Value::Executor(e) => arc(e),
            Value::Future(f) => arc(f),
            Value::Mp(m) => arc(m),
            Value::Http(r) => arc(r),
            Value::Logger(l) => arc(l),
            Value::Wrapper(w) => arc(w),
            Value::AsyncPrim(p) => arc(p),
            Value::Set(o) => o.addr(),
            Value::Sync(s) => arc(s),
            Value::Local(l) => arc(l),
            Value::Awaitable(a) => arc(a),
            Value::Deque(q) => arc(q),
            Value::File(f) => arc(f),
            Value::DictView(v) => arc(v),
            _ => return None,
        })
    }

    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::None => "NoneType",
            Value::Ellipsis => "ellipsis",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::IntPair(..) | Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(d) => match d.kind {
                super::collections::DictKind::Plain => "dict",
                super::collections::DictKind::Counter => "Counter",
                super::collections::DictKind::Default(_) => "collections.defaultdict",
            },
            Value::Deque(_) => "collections.deque",
            Value::File(_) => "_io.TextIOWrapper",
            Value::DictView(v) => v.type_name(),
            Value::Slice(_) => "slice",
            Value::Array(_) => "numpy.ndarray",
            Value::NpFloat(s) => s.ty.name,
            Value::Range { .. } => "range",
            Value::RangeIter { .. } => "range_iterator",
            Value::SeqIter(_) => "iterator",
            Value::Function(_) => "function",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Module(_) => "module",
            Value::Code(_) => "code",
            Value::Thread(_) => "Thread",
            Value::Cell(_) => "cell",
            Value::Generator(g) => g.kind_name(),
            Value::AsyncGenNext(_) => "async_generator_asend",
            Value::Class(_) => "type",
            Value::Instance(_) => "object",
            Value::Method(_) => "method",
            Value::Lock(l) if l.reentrant => "RLock",
            Value::Lock(_) => "lock",
            Value::Super(_) => "super",
            Value::Descriptor(_) => "property",
            Value::NotImplemented => "NotImplementedType",
            Value::Queue(_) => "Queue",
            Value::Executor(_) => "ThreadPoolExecutor",
            Value::Future(_) => "Future",
            Value::Mp(m) => m.type_name(),
            Value::Http(_) => "HTTPResponse",
            Value::Logger(_) => "Logger",
            Value::Wrapper(w) => w.type_name(),
            Value::AsyncPrim(p) => p.type_name(),
            Value::Awaitable(a) => a.type_name(),
            Value::Set(s) if s.frozen => "frozenset",
            Value::Set(_) => "set",
            Value::Sync(o) => o.kind(),
            Value::Local(_) => "_thread._local",
        }
    }

    /// A str value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Obj::new(ListObj::new(items)))
    }

    /// The value as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::BigInt(b) => num_traits::ToPrimitive::to_f64(&**b),
            Value::Float(f) => Some(*f),
            Value::NpFloat(s) => Some(s.value),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    /// The value as an int, if it is an int or a bool.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// Python's truth value.
    pub fn truthy(&self) -> Result<bool, VmError> {
        Ok(match self {
            Value::Null | Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::NpFloat(s) => s.value != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::IntPair(..) => true,
            Value::List(l) => !l.lock().is_empty(),
            Value::Dict(d) => !d.lock().is_empty(),
            Value::Deque(q) => !q.lock().is_empty(),
            Value::DictView(v) => !v.is_empty(),
            Value::Set(s) => !s.is_empty(),
            Value::Range { start, stop, step } => range_len(*start, *stop, *step) > 0,
            Value::Array(a) if a.size() == 1 => a.at(0, 0) != 0.0,
            Value::Array(_) => {
                return Err(VmError::py(
                    "ValueError",
                    "The truth value of an array with more than one element is ambiguous."
                        .to_owned(),
                ));
            }
            _ => true,
        })
    }

    /// `==` as Python defines it for these types.
    pub fn py_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::IntPair(a, b), Value::IntPair(c, d)) => a == c && b == d,
            (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.py_eq(y))
            }
            (Value::List(a), Value::List(b)) => {
                if Obj::ptr_eq(a, b) {
                    return true;
                }
                let (a, b) = (a.lock().clone(), b.lock().clone());
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.py_eq(y))
            }
            (Value::Dict(a), Value::Dict(b)) => {
                if Obj::ptr_eq(a, b) {
                    return true;
                }
                let (x, y) = (a.lock().pairs(), b.lock().clone());
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| matches!(y.get(k), Ok(Some(w)) if v.py_eq(&w)))
            }
            (Value::Deque(a), Value::Deque(b)) => {
                let (a, b): (Vec<Value>, Vec<Value>) = (
                    a.lock().iter().cloned().collect(),
                    b.lock().iter().cloned().collect(),
                );
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.py_eq(y))
            }
            (Value::Function(a), Value::Function(b)) => Obj::ptr_eq(a, b),
            (Value::Builtin(a), Value::Builtin(b)) => a == b,
            (Value::Module(a), Value::Module(b)) => a == b,
            (Value::Class(a), Value::Class(b)) => Arc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Obj::ptr_eq(a, b),
            (Value::BigInt(a), Value::BigInt(b)) => a == b,
            (Value::BigInt(_), Value::Int(_) | Value::Bool(_))
            | (Value::Int(_) | Value::Bool(_), Value::BigInt(_)) => false,
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.items().iter().all(|x| b.contains(x).unwrap_or(false))
            }
            // Other objects compare by identity (`object.__eq__`), as they hash.
            (a, b) if a.heap_addr().is_some_and(|x| Some(x) == b.heap_addr()) => true,
            (a, b) => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x == y,
                    _ => false,
                },
            },
        }
    }

    /// Python's `repr`, for `print` and error messages.
    pub fn repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s, false);
        s
    }

    /// Python's `str`.
    pub fn to_str(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::Instance(i) if i.exc.is_some() => i.exc_str(),
            v => v.repr(),
        }
    }

    fn write_repr(&self, out: &mut String, _nested: bool) {
        let seq = |out: &mut String, items: &[Value], open: &str, close: &str| {
            out.push_str(open);
            for (k, v) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                v.write_repr(out, true);
            }
            if items.len() == 1 && open == "(" {
                out.push(',');
            }
            out.push_str(close);
        };
        match self {
            Value::Null => out.push_str("<NULL>"),
            Value::None => out.push_str("None"),
            Value::Ellipsis => out.push_str("Ellipsis"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::BigInt(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            // NumPy 2's repr; str() and print() show the bare number.
            Value::NpFloat(s) if _nested => {
                let _ = write!(out, "np.float64({})", float_repr(s.value));
            }
            Value::NpFloat(s) => out.push_str(&float_repr(s.value)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::IntPair(a, b) => {
                let _ = write!(out, "({a}, {b})");
            }
            Value::Tuple(t) => seq(out, t, "(", ")"),
            Value::List(l) => seq(out, &l.lock(), "[", "]"),
            Value::Dict(d) if !matches!(d.kind, super::collections::DictKind::Plain) => {
                if let Some(r) = super::collections::dict_repr(d, Value::repr) {
                    out.push_str(&r);
                }
            }
            Value::Deque(q) => out.push_str(&q.repr(Value::repr)),
            Value::File(f) => out.push_str(&f.repr()),
            Value::DictView(v) => out.push_str(&v.repr(Value::repr)),
            Value::Dict(d) => {
                out.push('{');
                for (k, (key, v)) in d.lock().iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    key.write_repr(out, true);
                    out.push_str(": ");
                    v.write_repr(out, true);
                }
                out.push('}');
            }
            Value::Range { start, stop, step } => {
                let _ = if *step == 1 {
                    write!(out, "range({start}, {stop})")
                } else {
                    write!(out, "range({start}, {stop}, {step})")
                };
            }
            Value::Function(f) => {
                let _ = write!(out, "<function {}>", f.code.qualname);
            }
            Value::Builtin(b) if b.is_type() => {
                let _ = write!(out, "<class '{}'>", b.name());
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<built-in function {}>", b.name());
            }
            Value::Module(StdModule::User { name, file, .. }) => {
                let _ = write!(out, "<module '{name}' from '{file}'>");
            }
            Value::Module(m) => {
                let _ = write!(out, "<module '{}'>", m.name());
            }
            Value::Thread(t) => out.push_str(&t.repr()),
            Value::Generator(g) => {
                let _ = write!(out, "<{} object {}>", g.kind_name(), g.name);
            }
            Value::Array(a) => {
                let (n, m) = a.shape();
                let _ = write!(out, "array(shape=({n}, {m}))");
            }
            Value::Class(c) => {
                let _ = write!(out, "<class '{}'>", c.name);
            }
            Value::Lock(l) => out.push_str(&l.repr()),
            Value::NotImplemented => out.push_str("NotImplemented"),
            Value::Queue(_) => out.push_str("<queue.Queue object>"),
            Value::Executor(_) => {
                out.push_str("<concurrent.futures.thread.ThreadPoolExecutor object>");
            }
            Value::Future(f) => out.push_str(&f.repr()),
            Value::Mp(m) => out.push_str(&m.repr()),
            Value::Http(_) => out.push_str("<http.client.HTTPResponse object>"),
            Value::Wrapper(w) => out.push_str(&w.repr()),
            Value::AsyncPrim(p) => out.push_str(&p.repr()),
            Value::Logger(l) if l.name == "root" => out.push_str("<RootLogger root>"),
            Value::Logger(l) => {
                let _ = write!(out, "<Logger {}>", l.name);
            }
            Value::Awaitable(a) => out.push_str(&a.repr()),
            Value::Set(s) => out.push_str(&s.repr(Value::repr)),
            Value::Sync(o) => {
                let _ = write!(out, "<threading.{} object>", o.kind());
            }
            Value::Super(s) => {
                let _ = write!(
                    out,
                    "<super: <class '{}'>, <{} object>>",
                    s.class.name, s.class.name
                );
            }
            Value::Instance(i) if i.exc.is_some() => out.push_str(&i.exc_repr()),
            Value::Instance(i) => {
                let _ = write!(out, "<__main__.{} object>", i.class.name);
            }
            Value::Method(m) => {
                let _ = write!(
                    out,
                    "<bound method {} of {}>",
                    callable_label(&m.func),
                    m.this.repr()
                );
            }
            other => {
                let _ = write!(out, "<{}>", other.type_name());
            }
        }
    }
}

fn callable_label(v: &Value) -> String {
    match v {
        Value::Builtin(b) => b.name().to_owned(),
        Value::Function(f) => f.code.name.to_string(),
        other => other.type_name().to_owned(),
    }
}

/// Number of values `range(start, stop, step)` yields.
pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    }
}

/// Python's `repr` of a float (shortest round-trip digits, `.0` for integral values).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Python writes e.g. 1e+16 and 1e-05.
        return python_exponent(&format!("{f:e}"), false);
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Rust's `1.5e-7` in Python's layout, `1.5e-07` (`E` when `upper`): a signed exponent of at
/// least two digits.
pub fn python_exponent(rust: &str, upper: bool) -> String {
    let (mant, exp) = rust.split_once('e').unwrap_or((rust, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    let e = if upper { 'E' } else { 'e' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

/// `ascii()` of a repr: every non-ASCII character as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
pub fn ascii_escaped(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        let n = c as u32;
        match n {
            0..=0x7f => out.push(c),
            0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
            0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
            _ => out.push_str(&format!("\\U{n:08x}")),
        }
    }
    out
}

/// `repr(b)`: `b'...'`, printable ASCII as it is, the rest escaped as CPython escapes it.
pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            c if char::from(c) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(c)),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a str (single quotes unless the text holds one).
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
