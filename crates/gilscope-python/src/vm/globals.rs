//! A module's namespace, shared by every thread of one process as in CPython.
//!
//! Names that some function rebinds with `global` (like `balance` in `bank.py`) are read and
//! written through their own lock on every access, so a read-modify-write such as
//! `balance += 1` really is two separate steps that other threads can fall between. Every
//! other name is bound by the module's top level, mostly before any function runs, so each
//! thread reads it from a snapshot with no lock on the hot path, taken again only when a store
//! (a script's top level still running beside its threads) changed the namespace's generation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::code::Code;
use super::value::Value;

/// A sibling module of the program (`import helper` finds `helper.py`): its globals are the
/// namespace's slots named `helper.…`.
#[derive(Debug)]
pub struct UserModule {
    /// The name it is imported by.
    pub name: &'static str,
    /// Its file.
    pub file: &'static str,
    /// Its top-level code.
    pub code: Arc<Code>,
    /// How far its top level has run.
    pub state: Mutex<ModuleState>,
}

impl UserModule {
    /// The module as a value's handle (`Value::Module`).
    pub fn handle(&self) -> super::value::StdModule {
        super::value::StdModule::User {
            name: self.name,
            file: self.file,
        }
    }
}

/// How far a sibling module's top level has run (CPython's `sys.modules` entry and its
/// `__spec__._initializing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleState {
    /// Not imported yet, or its top level raised (CPython drops it from `sys.modules`).
    NotRun,
    /// Its top level is running: a cycle's second import gets it half made.
    Running,
    /// Imported.
    Ran,
}

/// A module's name or file as a `&'static str`, each distinct one kept once for the whole run.
pub fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    match names.iter().find(|n| **n == name) {
        Some(n) => n,
        None => {
            let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
            names.push(n);
            n
        }
    }
}

/// The namespace of one module in one process.
#[derive(Debug)]
pub struct Globals {
    names: Vec<Arc<str>>,
    /// The slot of each name.
    index: HashMap<Arc<str>, usize>,
    /// The program's sibling modules.
    modules: Vec<UserModule>,
    cells: Vec<Mutex<Value>>,
    shared: Vec<bool>,
    /// Counts the stores to unshared slots: a snapshot older than this is stale.
    generation: AtomicU64,
    /// The warnings shown, by line and message (the module's `__warningregistry__`).
    warned: Mutex<std::collections::HashSet<(u32, &'static str)>>,
    /// The `logging` configuration of the run.
    logging: Mutex<super::logging::LogState>,
    /// `sys.getrecursionlimit()`: how deep Python calls may nest.
    recursion_limit: std::sync::atomic::AtomicUsize,
}

impl Globals {
    /// An empty namespace with one slot per name; `shared[k]` marks names rebound by functions.
    pub fn new(names: Vec<Arc<str>>, shared: Vec<bool>) -> Self {
        let cells = names.iter().map(|_| Mutex::new(Value::Null)).collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(k, n)| (Arc::clone(n), k))
            .collect();
        Self {
            names,
            index,
            modules: Vec::new(),
            cells,
            shared,
            generation: AtomicU64::new(0),
            warned: Mutex::new(std::collections::HashSet::new()),
            logging: Mutex::new(super::logging::LogState::default()),
            recursion_limit: std::sync::atomic::AtomicUsize::new(super::MAX_DEPTH),
        }
    }

    /// The namespace with the program's sibling modules `(name, file, code)`, none imported.
    pub fn with_modules(
        mut self,
        modules: impl IntoIterator<Item = (Arc<str>, Arc<str>, Arc<Code>)>,
    ) -> Self {
        self.modules = modules
            .into_iter()
            .map(|(name, file, code)| UserModule {
                name: intern(&name),
                file: intern(&file),
                code,
                state: Mutex::new(ModuleState::NotRun),
            })
            .collect();
        self
    }

    /// The sibling module called `name`.
    pub fn module(&self, name: &str) -> Option<&UserModule> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// `sys.getrecursionlimit()`.
    pub fn recursion_limit(&self) -> usize {
        self.recursion_limit
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `sys.setrecursionlimit(n)`.
    pub fn set_recursion_limit(&self, n: usize) {
        self.recursion_limit
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The run's `logging` configuration.
    pub fn logging(&self) -> std::sync::MutexGuard<'_, super::logging::LogState> {
        self.logging.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a warning shown at `line`; `false` when that line already showed it.
    pub fn first_warning(&self, line: u32, message: &'static str) -> bool {
        self.warned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((line, message))
    }

    /// The names, in slot order.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// The slot of a name.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Whether functions rebind this slot (so every read takes its lock).
    #[inline(always)]
    pub fn is_shared(&self, slot: usize) -> bool {
        self.shared[slot]
    }

    /// The value in a slot (`Value::Null` when unbound).
    #[inline]
    pub fn load(&self, slot: usize) -> Value {
        self.cells[slot]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Binds a slot.
    #[inline]
    pub fn store(&self, slot: usize, v: Value) {
        *self.cells[slot].lock().unwrap_or_else(|p| p.into_inner()) = v;
        if !self.shared[slot] {
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// How many stores to unshared slots there have been (see [`Globals::snapshot`]).
    #[inline(always)]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The value of a name, if bound.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.slot(name)
            .map(|s| self.load(s))
            .filter(|v| !matches!(v, Value::Null))
    }

    /// Binds a name that has a slot; returns false when it has none.
    pub fn set(&self, name: &str, v: Value) -> bool {
        match self.slot(name) {
            Some(s) => {
                self.store(s, v);
                true
            }
            None => false,
        }
    }

    /// Every slot's current value, for a thread's lock-free reads of the unshared names, with
    /// the generation it was taken at.
    pub fn snapshot(&self) -> (u64, Vec<Value>) {
        let generation = self.generation();
        (
            generation,
            (0..self.cells.len()).map(|s| self.load(s)).collect(),
        )
    }
}
