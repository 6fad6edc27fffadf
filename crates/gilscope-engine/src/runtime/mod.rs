//! The runtimes a run can use: [`emulated`] (gilscope's VM under an emulated GIL) and
//! [`cpython`] (the user's python, observed from outside).

pub mod cpython;
pub mod emulated;

pub use emulated::{run_blocking, start_run};
