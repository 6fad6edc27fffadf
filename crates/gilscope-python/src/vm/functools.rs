//! `functools` and `itertools` as teaching code uses them. `functools`: `partial`, `reduce`,
//! `wraps` (the wrapper keeps its own code; `__wrapped__` is not set), `lru_cache` and `cache`
//! (with `cache_info()` and `cache_clear()`). `itertools`: `count` (an int counter, lazy),
//! `islice` (takes only what it needs), `chain` and `chain.from_iterable`, `product`,
//! `permutations`, `combinations`, `repeat` with a count, `accumulate`, `zip_longest`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::call::Kwargs;
use super::object::Obj;
use super::value::{Builtin, DictObj, SeqIter, Value};
use super::{Host, Vm, VmError};

/// A callable `functools` made.
#[derive(Debug)]
pub enum WrapperObj {
    /// `partial(func, *args, **keywords)`.
    Partial {
        /// The function.
        func: Value,
        /// Its first positional arguments.
        args: Vec<Value>,
        /// Its keyword arguments.
        kwargs: Kwargs,
    },
    /// `lru_cache(maxsize)(func)` / `cache(func)`.
    Cache {
        /// The function.
        func: Value,
        /// `maxsize` (`None`: unbounded).
        maxsize: Option<usize>,
        /// The results by arguments, oldest first.
        table: Mutex<Obj<DictObj>>,
        /// Calls answered from the table.
        hits: AtomicU64,
        /// Calls that ran the function.
        misses: AtomicU64,
    },
    /// `numba.jit(func)`: Numba's dispatcher, run by the interpreter.
    Jit(super::numba::JitFunc),
}

impl WrapperObj {
    /// The Python type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            WrapperObj::Partial { .. } => "functools.partial",
            WrapperObj::Cache { .. } => "functools._lru_cache_wrapper",
            WrapperObj::Jit(_) => "CPUDispatcher",
        }
    }

    /// `repr()`.
    pub fn repr(&self) -> String {
        match self {
            WrapperObj::Partial { func, args, kwargs } => {
                let mut parts = vec![func.repr()];
                parts.extend(args.iter().map(Value::repr));
                parts.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", v.repr())));
                format!("functools.partial({})", parts.join(", "))
            }
            WrapperObj::Cache { func, .. } => func.repr(),
            WrapperObj::Jit(j) => format!("CPUDispatcher({})", j.func.repr()),
        }
    }

    /// Its data attributes (`func`, `args`, `keywords`).
    pub fn attr(&self, name: &str) -> Option<Value> {
        match (self, name) {
            (
                WrapperObj::Partial { func, .. } | WrapperObj::Cache { func, .. },
                "func" | "__wrapped__",
            ) => Some(func.clone()),
            (WrapperObj::Partial { args, .. }, "args") => Some(Value::Tuple(args.clone().into())),
            (WrapperObj::Partial { kwargs, .. }, "keywords") => DictObj::new(
                kwargs
                    .iter()
                    .map(|(k, v)| (Value::Str(Arc::clone(k)), v.clone()))
                    .collect(),
            )
            .ok()
            .map(|d| Value::Dict(Obj::new(d))),
            (
                WrapperObj::Cache {
                    func: Value::Function(f),
                    ..
                },
                "__name__" | "__qualname__",
            ) => Some(Value::Str(Arc::clone(&f.code.name))),
            (WrapperObj::Jit(j), "py_func") => Some(j.func.clone()),
            (WrapperObj::Jit(j), "__name__" | "__qualname__") => Some(Value::Str(j.name())),
            _ => None,
        }
    }
}

/// A function of `functools` or `itertools`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolFn {
    /// `functools.partial`.
    Partial,
    /// `functools.reduce(function, iterable[, initial])`.
    Reduce,
    /// `functools.wraps(wrapped)`.
    Wraps,
    /// What `wraps(f)` returns: the decorator.
    WrapsApply,
    /// `functools.lru_cache(maxsize=128)` (or applied to a function).
    LruCache,
    /// `functools.cache(func)`.
    Cache,
    /// `cache_info()` of a cached function.
    CacheInfo,
    /// `cache_clear()` of a cached function.
    CacheClear,
    /// What `lru_cache(maxsize)` returns: caches what it decorates (`u32::MAX`: no limit).
    CacheSized(u32),
    /// `itertools.count(start=0, step=1)`.
    Count,
    /// `itertools.islice(iterable, stop)` / `(iterable, start, stop[, step])`.
    Islice,
    /// `itertools.chain(*iterables)`.
    Chain,
    /// `itertools.chain.from_iterable(iterable)`.
    ChainFromIterable,
    /// `itertools.product(*iterables, repeat=1)`.
    Product,
    /// `itertools.permutations(iterable, r=None)`.
    Permutations,
    /// `itertools.combinations(iterable, r)`.
    Combinations,
    /// `itertools.repeat(object, times)`.
    Repeat,
    /// `itertools.accumulate(iterable[, func], *, initial=None)`.
    Accumulate,
    /// `itertools.zip_longest(*iterables, fillvalue=None)`.
    ZipLongest,
}

impl ToolFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            ToolFn::Partial => "partial",
            ToolFn::Reduce => "reduce",
            ToolFn::Wraps => "wraps",
            ToolFn::WrapsApply => "update_wrapper",
            ToolFn::LruCache => "lru_cache",
            ToolFn::Cache => "cache",
            ToolFn::CacheInfo => "cache_info",
            ToolFn::CacheClear => "cache_clear",
            ToolFn::CacheSized(_) => "decorating_function",
            ToolFn::Count => "count",
            ToolFn::Islice => "islice",
            ToolFn::Chain => "chain",
            ToolFn::ChainFromIterable => "from_iterable",
            ToolFn::Product => "product",
            ToolFn::Permutations => "permutations",
            ToolFn::Combinations => "combinations",
            ToolFn::Repeat => "repeat",
            ToolFn::Accumulate => "accumulate",
            ToolFn::ZipLongest => "zip_longest",
        }
    }
}

fn b(f: ToolFn) -> Option<Value> {
    Some(Value::Builtin(Builtin::Tools(f)))
}

/// `functools.NAME`.
pub fn functools_attr(name: &str) -> Option<Value> {
    match name {
        "partial" => b(ToolFn::Partial),
        "reduce" => b(ToolFn::Reduce),
        "wraps" => b(ToolFn::Wraps),
        "lru_cache" => b(ToolFn::LruCache),
        "cache" => b(ToolFn::Cache),
        _ => None,
    }
}

/// `itertools.NAME`.
pub fn itertools_attr(name: &str) -> Option<Value> {
    match name {
        "count" => b(ToolFn::Count),
        "islice" => b(ToolFn::Islice),
        "chain" => b(ToolFn::Chain),
        "product" => b(ToolFn::Product),
        "permutations" => b(ToolFn::Permutations),
        "combinations" => b(ToolFn::Combinations),
        "repeat" => b(ToolFn::Repeat),
        "accumulate" => b(ToolFn::Accumulate),
        "zip_longest" => b(ToolFn::ZipLongest),
        _ => None,
    }
}

/// The methods of a cached function.
pub fn method(w: &WrapperObj, name: &str) -> Option<Builtin> {
    match (w, name) {
        (WrapperObj::Cache { .. }, "cache_info") => Some(Builtin::Tools(ToolFn::CacheInfo)),
        (WrapperObj::Cache { .. }, "cache_clear") => Some(Builtin::Tools(ToolFn::CacheClear)),
        _ => None,
    }
}

fn seq(items: Vec<Value>) -> Value {
    Value::SeqIter(Arc::new(SeqIter {
        seq: Value::list(items),
        pos: Default::default(),
    }))
}

fn int_of(name: &str, v: &Value) -> Result<i64, VmError> {
    v.as_i64().ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer (in {name})",
            v.type_name()
        ))
    })
}

/// The `r`-long orderings of `pool` (`permutations`), or its `r`-subsets in order.
fn arrangements(pool: &[Value], r: usize, ordered: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let mut chosen: Vec<usize> = Vec::with_capacity(r);
    fn walk(
        pool: &[Value],
        r: usize,
        ordered: bool,
        chosen: &mut Vec<usize>,
        out: &mut Vec<Value>,
    ) {
        if chosen.len() == r {
            out.push(Value::Tuple(
                chosen.iter().map(|&i| pool[i].clone()).collect(),
            ));
            return;
        }
        let from = if ordered {
            0
        } else {
            chosen.last().map_or(0, |l| l + 1)
        };
        for i in from..pool.len() {
            if ordered && chosen.contains(&i) {
                continue;
            }
            chosen.push(i);
            walk(pool, r, ordered, chosen, out);
            chosen.pop();
        }
    }
    if r <= pool.len() {
        walk(pool, r, ordered, &mut chosen, &mut out);
    }
    out
}

impl<H: Host> Vm<'_, H> {
    /// Calls a `functools` wrapper.
    pub(super) fn call_wrapper(
        &mut self,
        w: &Arc<WrapperObj>,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        match &**w {
            WrapperObj::Partial {
                func,
                args: first,
                kwargs: kw,
            } => {
                let mut all = first.clone();
                all.extend(args);
                let mut keywords = kw.clone();
                for (k, v) in kwargs {
                    keywords.retain(|(n, _)| *n != k);
                    keywords.push((k, v));
                }
                self.call_value_kw(func, all, keywords)
            }
            WrapperObj::Cache {
                func,
                maxsize,
                table,
                hits,
                misses,
            } => {
                let mut key = args.clone();
                for (k, v) in &kwargs {
                    key.push(Value::Str(Arc::clone(k)));
                    key.push(v.clone());
                }
                let key = Value::Tuple(key.into());
                let t = table.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(v) = t.lock().get(&key)? {
                    hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(v);
                }
                misses.fetch_add(1, Ordering::Relaxed);
                let v = self.call_value_kw(func, args, kwargs)?;
                let mut d = t.lock();
                if *maxsize != Some(0) {
                    let full = maxsize.is_some_and(|max| d.len() >= max);
                    let oldest = if full {
                        d.iter().next().map(|(k, _)| k.clone())
                    } else {
                        None
                    };
                    if let Some(oldest) = oldest {
                        d.remove(&oldest)?;
                    }
                    d.insert(key, v.clone())?;
                }
                Ok(v)
            }
            WrapperObj::Jit(j) => self.call_jit(j, args, kwargs),
        }
    }

    pub(super) fn call_tools(
        &mut self,
        f: ToolFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let missing = |what: &str| {
            VmError::type_error(format!("{}() missing required argument '{what}'", f.name()))
        };
        match f {
            ToolFn::Partial => {
                let mut it = args.into_iter();
                let func = it.next().ok_or_else(|| {
                    VmError::type_error("type 'partial' takes at least one argument")
                })?;
                Ok(Value::Wrapper(Arc::new(WrapperObj::Partial {
                    func,
                    args: it.collect(),
                    kwargs,
                })))
            }
            ToolFn::Reduce => {
                let func = args.first().cloned().ok_or_else(|| missing("function"))?;
                let items = self.iterate(args.get(1).ok_or_else(|| missing("iterable"))?)?;
                let mut it = items.into_iter();
                let mut acc = match args.get(2) {
                    Some(init) => init.clone(),
                    None => it.next().ok_or_else(|| {
                        VmError::type_error("reduce() of empty iterable with no initial value")
                    })?,
                };
                for x in it {
                    acc = self.call_value(&func, vec![acc, x])?;
                }
                Ok(acc)
            }
            ToolFn::Wraps => Ok(Value::Builtin(Builtin::Tools(ToolFn::WrapsApply))),
            ToolFn::WrapsApply => args.first().cloned().ok_or_else(|| missing("wrapper")),
            ToolFn::LruCache | ToolFn::Cache | ToolFn::CacheSized(_) => {
                // `@lru_cache` bare, `@lru_cache(maxsize=…)` (then applied), `@cache`.
                let maxsize_arg = kwargs
                    .iter()
                    .find(|(k, _)| &**k == "maxsize")
                    .map(|(_, v)| v.clone());
                match args.first() {
                    Some(func @ (Value::Function(_) | Value::Method(_) | Value::Builtin(_))) => {
                        let maxsize = match f {
                            ToolFn::Cache | ToolFn::CacheSized(u32::MAX) => None,
                            ToolFn::CacheSized(n) => Some(n as usize),
                            _ => Some(128),
                        };
                        Ok(Value::Wrapper(Arc::new(WrapperObj::Cache {
                            func: func.clone(),
                            maxsize,
                            table: Mutex::new(Obj::new(DictObj::new(Vec::new())?)),
                            hits: AtomicU64::new(0),
                            misses: AtomicU64::new(0),
                        })))
                    }
                    _ if f != ToolFn::LruCache => {
                        Err(VmError::type_error("the cache decorator takes a function"))
                    }
                    first => {
                        let n = match first.cloned().or(maxsize_arg) {
                            None => 128,
                            Some(Value::None) => u32::MAX,
                            Some(v) => {
                                int_of("lru_cache", &v)?.clamp(0, i64::from(u32::MAX - 1)) as u32
                            }
                        };
                        Ok(Value::Builtin(Builtin::Tools(ToolFn::CacheSized(n))))
                    }
                }
            }
            ToolFn::CacheInfo | ToolFn::CacheClear => {
                let Some(Value::Wrapper(w)) = args.first() else {
                    return Err(VmError::type_error("cache_info() needs a cached function"));
                };
                let WrapperObj::Cache {
                    maxsize,
                    table,
                    hits,
                    misses,
                    ..
                } = &**w
                else {
                    return Err(VmError::type_error("cache_info() needs a cached function"));
                };
                if f == ToolFn::CacheClear {
                    *table.lock().unwrap_or_else(|p| p.into_inner()) =
                        Obj::new(DictObj::new(Vec::new())?);
                    hits.store(0, Ordering::Relaxed);
                    misses.store(0, Ordering::Relaxed);
                    return Ok(Value::None);
                }
                let size = table.lock().unwrap_or_else(|p| p.into_inner()).lock().len();
                Ok(Value::str(&format!(
                    "CacheInfo(hits={}, misses={}, maxsize={}, currsize={size})",
                    hits.load(Ordering::Relaxed),
                    misses.load(Ordering::Relaxed),
                    maxsize.map_or_else(|| "None".to_owned(), |m| m.to_string()),
                )))
            }
            ToolFn::Count => {
                let start = args.first().map_or(Ok(0), |v| int_of("count", v))?;
                let step = args.get(1).map_or(Ok(1), |v| int_of("count", v))?;
                if step == 0 {
                    return Err(VmError::py(
                        "NotImplementedError",
                        "itertools.count with step 0 is not emulated by gilscope's interpreter",
                    ));
                }
                // A shared, lazy counter: `next(ids)` in any thread advances the one count.
                Ok(Value::SeqIter(Arc::new(SeqIter {
                    seq: Value::Range {
                        start,
                        stop: if step > 0 { i64::MAX } else { i64::MIN },
                        step,
                    },
                    pos: Default::default(),
                })))
            }
            ToolFn::Islice => {
                let source = args.first().ok_or_else(|| missing("iterable"))?;
                let num = |v: Option<&Value>, dflt: Option<i64>| match v {
                    None | Some(Value::None) => Ok(dflt),
                    Some(v) => int_of("islice", v).map(Some),
                };
                let (start, stop, step) = match args.len() {
                    2 => (0, num(args.get(1), None)?, 1),
                    _ => (
                        num(args.get(1), Some(0))?.unwrap_or(0),
                        num(args.get(2), None)?,
                        num(args.get(3), Some(1))?.unwrap_or(1),
                    ),
                };
                if start < 0 || stop.is_some_and(|s| s < 0) || step < 1 {
                    return Err(VmError::py(
                        "ValueError",
                        "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.",
                    ));
                }
                let mut it = self.get_iter(source.clone())?;
                let mut out = Vec::new();
                let mut k: i64 = 0;
                while stop.is_none_or(|s| k < s) {
                    let Some(x) = self.iter_next(&mut it)? else {
                        break;
                    };
                    if k >= start && (k - start) % step == 0 {
                        out.push(x);
                    }
                    k += 1;
                }
                Ok(seq(out))
            }
            ToolFn::Chain => {
                let mut out = Vec::new();
                for a in &args {
                    out.extend(self.iterate(a)?);
                }
                Ok(seq(out))
            }
            ToolFn::ChainFromIterable => {
                let mut out = Vec::new();
                for a in self.iterate(args.first().ok_or_else(|| missing("iterable"))?)? {
                    out.extend(self.iterate(&a)?);
                }
                Ok(seq(out))
            }
            ToolFn::Product => {
                let repeat = match kwargs.iter().find(|(k, _)| &**k == "repeat") {
                    Some((_, v)) => int_of("product", v)?.max(0) as usize,
                    None => 1,
                };
                let mut pools = Vec::new();
                for a in &args {
                    pools.push(self.iterate(a)?);
                }
                let pools: Vec<Vec<Value>> =
                    (0..repeat).flat_map(|_| pools.iter().cloned()).collect();
                let mut out: Vec<Vec<Value>> = vec![Vec::new()];
                for pool in &pools {
                    out = out
                        .into_iter()
                        .flat_map(|prefix| {
                            pool.iter().map(move |x| {
                                let mut p = prefix.clone();
                                p.push(x.clone());
                                p
                            })
                        })
                        .collect();
                }
                Ok(seq(out
                    .into_iter()
                    .map(|t| Value::Tuple(t.into()))
                    .collect()))
            }
            ToolFn::Permutations | ToolFn::Combinations => {
                let pool = self.iterate(args.first().ok_or_else(|| missing("iterable"))?)?;
                let r = match args.get(1).or_else(|| kwargs.first().map(|(_, v)| v)) {
                    None | Some(Value::None) if f == ToolFn::Permutations => pool.len(),
                    None | Some(Value::None) => return Err(missing("r")),
                    Some(v) => {
                        let r = int_of(f.name(), v)?;
                        if r < 0 {
                            return Err(VmError::py("ValueError", "r must be non-negative"));
                        }
                        r as usize
                    }
                };
                Ok(seq(arrangements(&pool, r, f == ToolFn::Permutations)))
            }
            ToolFn::Repeat => {
                let x = args.first().cloned().ok_or_else(|| missing("object"))?;
                let times = args
                    .get(1)
                    .or_else(|| kwargs.iter().find(|(k, _)| &**k == "times").map(|(_, v)| v));
                match times {
                    Some(n) => Ok(seq(vec![x; int_of("repeat", n)?.max(0) as usize])),
                    None => Err(VmError::py(
                        "NotImplementedError",
                        "itertools.repeat without times (an endless iterator) is not emulated by gilscope's interpreter",
                    )),
                }
            }
            ToolFn::Accumulate => {
                let items = self.iterate(args.first().ok_or_else(|| missing("iterable"))?)?;
                let func = args.get(1).cloned().filter(|v| !matches!(v, Value::None));
                let initial = kwargs
                    .iter()
                    .find(|(k, _)| &**k == "initial")
                    .map(|(_, v)| v.clone())
                    .filter(|v| !matches!(v, Value::None));
                let mut out = Vec::new();
                let mut acc = initial;
                if let Some(a) = &acc {
                    out.push(a.clone());
                }
                for x in items {
                    let next = match acc.take() {
                        None => x,
                        Some(a) => match &func {
                            Some(f) => self.call_value(f, vec![a, x])?,
                            None => self.binary_op(super::code::BinOp::ADD, a, x)?,
                        },
                    };
                    out.push(next.clone());
                    acc = Some(next);
                }
                Ok(seq(out))
            }
            ToolFn::ZipLongest => {
                let fill = kwargs
                    .iter()
                    .find(|(k, _)| &**k == "fillvalue")
                    .map_or(Value::None, |(_, v)| v.clone());
                let cols = args
                    .iter()
                    .map(|a| self.iterate(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = cols.iter().map(Vec::len).max().unwrap_or(0);
                let rows = (0..n)
                    .map(|k| {
                        Value::Tuple(
                            cols.iter()
                                .map(|c| c.get(k).cloned().unwrap_or_else(|| fill.clone()))
                                .collect(),
                        )
                    })
                    .collect();
                Ok(seq(rows))
            }
        }
    }
}

/// A function of `heapq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeapFn {
    /// `heapq.heappush(heap, item)`.
    Push,
    /// `heapq.heappop(heap)`.
    Pop,
    /// `heapq.heapify(x)`.
    Heapify,
    /// `heapq.heappushpop(heap, item)`.
    PushPop,
    /// `heapq.heapreplace(heap, item)`.
    Replace,
    /// `heapq.nlargest(n, iterable, key=None)`.
    Nlargest,
    /// `heapq.nsmallest(n, iterable, key=None)`.
    Nsmallest,
}

impl HeapFn {
    /// Its Python name.
    pub fn name(self) -> &'static str {
        match self {
            HeapFn::Push => "heappush",
            HeapFn::Pop => "heappop",
            HeapFn::Heapify => "heapify",
            HeapFn::PushPop => "heappushpop",
            HeapFn::Replace => "heapreplace",
            HeapFn::Nlargest => "nlargest",
            HeapFn::Nsmallest => "nsmallest",
        }
    }
}

/// `heapq.NAME`.
pub fn heapq_attr(name: &str) -> Option<Value> {
    let f = match name {
        "heappush" => HeapFn::Push,
        "heappop" => HeapFn::Pop,
        "heapify" => HeapFn::Heapify,
        "heappushpop" => HeapFn::PushPop,
        "heapreplace" => HeapFn::Replace,
        "nlargest" => HeapFn::Nlargest,
        "nsmallest" => HeapFn::Nsmallest,
        _ => return None,
    };
    Some(Value::Builtin(Builtin::Heapq(f)))
}

impl<H: Host> Vm<'_, H> {
    /// `_siftdown(heap, startpos, pos)`, as `Lib/heapq.py` does it.
    fn sift_down(&mut self, h: &mut [Value], start: usize, mut pos: usize) -> Result<(), VmError> {
        let item = h[pos].clone();
        while pos > start {
            let parent = (pos - 1) >> 1;
            if self.less_than(&item, &h[parent])? {
                h[pos] = h[parent].clone();
                pos = parent;
            } else {
                break;
            }
        }
        h[pos] = item;
        Ok(())
    }

    /// `_siftup(heap, pos)`, as `Lib/heapq.py` does it.
    fn sift_up(&mut self, h: &mut [Value], mut pos: usize) -> Result<(), VmError> {
        let (end, start) = (h.len(), pos);
        let item = h[pos].clone();
        let mut child = 2 * pos + 1;
        while child < end {
            let right = child + 1;
            if right < end && !self.less_than(&h[child], &h[right])? {
                child = right;
            }
            h[pos] = h[child].clone();
            pos = child;
            child = 2 * pos + 1;
        }
        h[pos] = item;
        self.sift_down(h, start, pos)
    }

    pub(super) fn call_heapq(
        &mut self,
        f: HeapFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        let list = |v: Option<&Value>| match v {
            Some(Value::List(l)) => Ok(l.clone()),
            _ => Err(VmError::type_error(format!(
                "{}() argument 1 must be list",
                f.name()
            ))),
        };
        match f {
            HeapFn::Push | HeapFn::Pop | HeapFn::Heapify | HeapFn::PushPop | HeapFn::Replace => {
                let l = list(args.first())?;
                // Work on a copy, written back: comparisons may run Python (`__lt__`).
                let mut h = l.lock().clone();
                let out = match f {
                    HeapFn::Push => {
                        h.push(args.get(1).cloned().unwrap_or(Value::None));
                        let last = h.len() - 1;
                        self.sift_down(&mut h, 0, last)?;
                        Value::None
                    }
                    HeapFn::Pop => {
                        let Some(last) = h.pop() else {
                            return Err(VmError::py("IndexError", "index out of range"));
                        };
                        if h.is_empty() {
                            last
                        } else {
                            let top = std::mem::replace(&mut h[0], last);
                            self.sift_up(&mut h, 0)?;
                            top
                        }
                    }
                    HeapFn::Heapify => {
                        for i in (0..h.len() / 2).rev() {
                            self.sift_up(&mut h, i)?;
                        }
                        Value::None
                    }
                    HeapFn::PushPop => {
                        let item = args.get(1).cloned().unwrap_or(Value::None);
                        if !h.is_empty() && self.less_than(&h[0], &item)? {
                            let top = std::mem::replace(&mut h[0], item);
                            self.sift_up(&mut h, 0)?;
                            top
                        } else {
                            item
                        }
                    }
                    _ => {
                        if h.is_empty() {
                            return Err(VmError::py("IndexError", "index out of range"));
                        }
                        let item = args.get(1).cloned().unwrap_or(Value::None);
                        let top = std::mem::replace(&mut h[0], item);
                        self.sift_up(&mut h, 0)?;
                        top
                    }
                };
                *l.lock() = h;
                Ok(out)
            }
            HeapFn::Nlargest | HeapFn::Nsmallest => {
                let n = args.first().map_or(Ok(0), |v| int_of(f.name(), v))?.max(0) as usize;
                let items = self.iterate(args.get(1).unwrap_or(&Value::None))?;
                let key = kwargs
                    .iter()
                    .find(|(k, _)| &**k == "key")
                    .map(|(_, v)| v.clone())
                    .filter(|v| !matches!(v, Value::None));
                let mut keys = Vec::with_capacity(items.len());
                for x in &items {
                    keys.push(match &key {
                        Some(k) => self.call_value(k, vec![x.clone()])?,
                        None => x.clone(),
                    });
                }
                // A stable insertion sort, as `sorted(iterable, key=key, reverse=…)[:n]`
                // orders them, comparing with the script's own `__lt__`.
                let largest = f == HeapFn::Nlargest;
                let mut order: Vec<usize> = Vec::with_capacity(items.len());
                for i in 0..items.len() {
                    let mut at = order.len();
                    while at > 0 {
                        let before = &keys[order[at - 1]];
                        let first = if largest {
                            self.less_than(before, &keys[i])?
                        } else {
                            self.less_than(&keys[i], before)?
                        };
                        if !first {
                            break;
                        }
                        at -= 1;
                    }
                    order.insert(at, i);
                }
                Ok(Value::list(
                    order
                        .into_iter()
                        .take(n)
                        .map(|i| items[i].clone())
                        .collect(),
                ))
            }
        }
    }
}
