//! The object header of the interpreter's heap objects (lists, dicts, functions, arrays): a
//! modelled `ob_refcnt` kept beside Rust's own count, counted the way the interpreter variant
//! counts it.
//!
//! Every clone of an [`Obj`] is a Python new reference (`Py_INCREF`) and every drop a release
//! (`Py_DECREF`), so while no count is lost the modelled count equals the number of live handles
//! exactly. The modelled count is never acted on: memory is freed by the `Arc` when its last
//! handle goes, so a count that drifted (no GIL, plain counting) is reported, never a
//! use-after-free here.
//!
//! - [`RefcountDiscipline::Plain`]: `ob_refcnt += 1` as a separate relaxed load and store, what
//!   CPython does under its GIL; without a GIL two threads can both read 1 and both write 2.
//! - [`RefcountDiscipline::Biased`] (PEP 703): the thread that made the object counts plainly in
//!   `ob_ref_local`; any other thread adds to `ob_ref_shared` atomically.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static NEXT_THREAD_KEY: AtomicU64 = AtomicU64::new(1);

/// How a build's objects count their references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefcountDiscipline {
    /// `ob_refcnt++` as a plain load and store (CPython with a GIL; racy without one).
    Plain,
    /// Biased reference counting (PEP 703): the owning thread counts plainly in `ob_ref_local`,
    /// every other thread atomically in `ob_ref_shared`.
    Biased,
}

thread_local! {
    static THREAD_KEY: Cell<u64> = const { Cell::new(0) };
    static DISCIPLINE: Cell<RefcountDiscipline> = const { Cell::new(RefcountDiscipline::Plain) };
}

/// A small number naming the calling thread (`_Py_ThreadId()`), never 0.
#[inline(always)]
fn thread_key() -> u64 {
    THREAD_KEY.with(|k| {
        let v = k.get();
        if v != 0 {
            return v;
        }
        let v = NEXT_THREAD_KEY.fetch_add(1, Ordering::Relaxed);
        k.set(v);
        v
    })
}

/// Sets how objects made by the calling thread count references (the run's interpreter).
pub fn set_thread_discipline(d: RefcountDiscipline) {
    DISCIPLINE.with(|c| c.set(d));
}

struct Header {
    biased: bool,
    owner: u64,
    local: AtomicI64,
    shared: AtomicI64,
}

impl Header {
    fn new() -> Self {
        let biased = DISCIPLINE.with(Cell::get) == RefcountDiscipline::Biased;
        Self {
            biased,
            owner: if biased { thread_key() } else { 0 },
            local: AtomicI64::new(1),
            shared: AtomicI64::new(0),
        }
    }

    #[inline(always)]
    fn add(&self, d: i64) {
        if self.biased && self.owner != thread_key() {
            self.shared.fetch_add(d, Ordering::Relaxed);
        } else {
            // Not `fetch_add`: a read and a write that another thread can fall between.
            let v = self.local.load(Ordering::Relaxed);
            self.local.store(v + d, Ordering::Relaxed);
        }
    }

    fn count(&self) -> i64 {
        self.local.load(Ordering::Relaxed) + self.shared.load(Ordering::Relaxed)
    }
}

struct Inner<T> {
    header: Header,
    value: T,
}

/// A handle to a heap object with a modelled reference count.
pub struct Obj<T>(Arc<Inner<T>>);

impl<T> Obj<T> {
    /// A new object with one reference, counted by the calling thread's discipline.
    pub fn new(value: T) -> Self {
        Obj(Arc::new(Inner {
            header: Header::new(),
            value,
        }))
    }

    /// Whether two handles name the same object (`is`).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The object's address, its identity (`id`).
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }

    /// The modelled reference count (`sys.getrefcount`).
    pub fn refcount(&self) -> i64 {
        self.0.header.count()
    }

    /// The true number of live handles.
    pub fn true_refs(&self) -> i64 {
        Arc::strong_count(&self.0) as i64
    }

    /// Modelled count minus true count: 0 unless updates were lost.
    pub fn drift(&self) -> i64 {
        self.refcount() - self.true_refs()
    }
}

impl<T> Clone for Obj<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        self.0.header.add(1);
        Obj(Arc::clone(&self.0))
    }
}

impl<T> Drop for Obj<T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.header.add(-1);
    }
}

impl<T> Deref for Obj<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

/// Locks `m`, taking its value even if a thread panicked while holding it (the interpreter's
/// state stays usable; the panic is reported where it happened).
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_handles_in_one_thread() {
        for d in [RefcountDiscipline::Plain, RefcountDiscipline::Biased] {
            set_thread_discipline(d);
            let a = Obj::new(5u32);
            let b = a.clone();
            let c = b.clone();
            assert_eq!((a.refcount(), a.true_refs()), (3, 3));
            drop(b);
            assert_eq!(c.refcount(), 2);
            assert_eq!(a.drift(), 0);
        }
        set_thread_discipline(RefcountDiscipline::Plain);
    }

    #[test]
    fn biased_counting_loses_nothing_across_threads() {
        set_thread_discipline(RefcountDiscipline::Biased);
        let a = Obj::new(0u8);
        std::thread::scope(|s| {
            for _ in 0..2 {
                let a = &a;
                s.spawn(move || {
                    for _ in 0..100_000 {
                        let h = a.clone();
                        drop(h);
                    }
                });
            }
        });
        set_thread_discipline(RefcountDiscipline::Plain);
        assert_eq!(a.drift(), 0);
        assert_eq!(a.refcount(), 1);
    }
}
