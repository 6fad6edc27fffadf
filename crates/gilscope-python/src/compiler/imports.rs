//! The program's own modules: an `import` of a sibling `.py` file compiles that file into the
//! program's namespace under the prefix `name.`, once, as CPython finds a script's folder first
//! on `sys.path`.

use std::cell::RefCell;
use std::sync::Arc;

use super::symtable::ModuleSlots;
use super::{CompileError, Ctx};
use crate::vm::code::Code;

/// Finds a module's source by its name: `(file as shown, source)`, or `None` when the
/// program's folder has no such file.
pub type Loader<'a> = dyn Fn(&str) -> Option<(String, String)> + 'a;

/// A sibling module of the program, compiled: its top level runs on its first import.
#[derive(Debug, Clone)]
pub struct SiblingModule {
    /// The name it is imported by.
    pub name: Arc<str>,
    /// Its file, as the loader gave it.
    pub file: Arc<str>,
    /// Its `<module>` code, whose globals are the namespace's `name.`-prefixed slots.
    pub code: Arc<Code>,
    /// Its source text, for the lines a traceback shows.
    pub source: Arc<str>,
}

/// What every file of one program shares while it compiles.
pub(super) struct Shared<'a> {
    /// The one namespace, with the prefix of the file compiling now.
    pub(super) ns: &'a RefCell<ModuleSlots>,
    /// Finds a sibling's source.
    pub(super) loader: &'a Loader<'a>,
    /// The siblings compiled so far.
    pub(super) siblings: &'a RefCell<Vec<SiblingModule>>,
    /// The prefixes of the files whose compilation waits on a sibling's (an import cycle
    /// stops at them).
    pub(super) waiting: RefCell<Vec<String>>,
}

impl Ctx<'_> {
    /// Compiles the sibling module an `import name` (or `from name import …`) reaches, unless
    /// it is compiled already, compiling now (an import cycle), or not a file of the folder.
    pub(super) fn require_sibling(&self, dotted: &str) -> Result<(), CompileError> {
        // A package (`import pkg.mod`) is a folder, not a sibling file.
        if dotted.contains('.') || dotted.is_empty() {
            return Ok(());
        }
        let shared = self.shared;
        let known = |name: &str| shared.siblings.borrow().iter().any(|m| &*m.name == name);
        let prefix = format!("{dotted}.");
        let cycle = shared.waiting.borrow().contains(&prefix);
        if known(dotted) || cycle || shared.ns.borrow().prefix == prefix {
            return Ok(());
        }
        let Some((file, source)) = (shared.loader)(dotted) else {
            return Ok(());
        };
        let outer = std::mem::replace(&mut shared.ns.borrow_mut().prefix, prefix);
        shared.waiting.borrow_mut().push(outer.clone());
        let compiled = super::compile_module(&source, &file, shared);
        shared.waiting.borrow_mut().pop();
        shared.ns.borrow_mut().prefix = outer;
        let compiled = compiled?;
        shared.siblings.borrow_mut().push(SiblingModule {
            name: Arc::from(dotted),
            file: Arc::from(file.as_str()),
            code: compiled.code,
            source: Arc::from(source),
        });
        Ok(())
    }
}
