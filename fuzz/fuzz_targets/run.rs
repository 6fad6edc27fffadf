//! Fuzz target: a small program that compiles runs to its end, to an exception, or to the
//! step budget, never to a panic; sleeps return at once (spending budget) and threads are not
//! started.
#![no_main]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use gilscope_python::compiler::compile;
use gilscope_python::vm::value::{ArrayObj, Value};
use gilscope_python::vm::{Globals, Host, Release, Vm, VmError};
use libfuzzer_sys::fuzz_target;

/// Housekeeping ticks a case may take before it is stopped (each is a few thousand
/// checkpoints).
const TICK_BUDGET: u32 = 64;

/// A host that stops the program once its budget is spent.
struct Budget<'a> {
    ticks: u32,
    breaker: &'a AtomicU32,
}

impl Host for Budget<'_> {
    fn handle_eval_breaker(&mut self, _instructions: u64) -> Result<(), VmError> {
        Err(VmError::Cancelled)
    }
    fn tick(&mut self) {
        self.ticks += 1;
        if self.ticks > TICK_BUDGET {
            self.breaker.store(1, Ordering::Relaxed);
        }
    }
    fn begin_allow_threads(&mut self, _why: Release) {}
    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(())
    }
    fn on_state(&mut self, _grid: &ArrayObj) -> Result<(), VmError> {
        Ok(())
    }
    fn sleep(&mut self, _secs: f64) -> Result<(), VmError> {
        // Returns at once, spending budget: an event loop waiting for a timer sleeps in a
        // loop until the clock reaches it.
        self.poll_cancel()
    }
    fn write_stdout(&mut self, _text: &str) {}
    fn poll_cancel(&mut self) -> Result<(), VmError> {
        // A wait with no other thread to end it (a lock taken twice) spends the budget too.
        self.ticks += 1;
        if self.ticks > TICK_BUDGET {
            Err(VmError::Cancelled)
        } else {
            Ok(())
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(module) = compile(source, "fuzz.py") else {
        return;
    };
    let globals = Arc::new(Globals::new(
        module.namespace.clone(),
        module.shared.clone(),
    ));
    globals.set("__name__", Value::str("__main__"));
    // The host and the VM share one flag: the host raises it when the budget is spent.
    let breaker = AtomicU32::new(0);
    let mut host = Budget {
        ticks: 0,
        breaker: &breaker,
    };
    let mut vm = Vm::new(&mut host, &breaker, Arc::clone(&globals));
    let _ = vm.run_module(&module.code);
});
