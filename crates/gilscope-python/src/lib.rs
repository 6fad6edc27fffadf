//! gilscope's Python: a [`compiler`] from source (parsed by Ruff's parser) to exactly the
//! bytecode CPython 3.11 emits, and the [`vm`] that runs it, polling its eval breaker where 3.11
//! does. It knows nothing of GILs, runtimes or windows: a thread that runs it is its
//! [`vm::Host`].

#![warn(missing_docs)]

pub mod compiler;
pub mod vm;
