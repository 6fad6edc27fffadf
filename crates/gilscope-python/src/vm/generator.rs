//! Generators: a suspended frame (its code, value stack, locals and next instruction) that
//! `next`, `for` and the builtins that drain iterables resume until it yields or returns.

use std::sync::{Arc, Mutex};

use super::code::Code;
use super::value::Value;

/// A frame that can stop and go on: the eval loop runs it, a generator keeps it between runs.
#[derive(Debug)]
pub struct FrameState {
    /// The code it runs.
    pub code: Arc<Code>,
    /// Its value stack.
    pub stack: Vec<Value>,
    /// Its local slots (cells and free variables included).
    pub locals: Vec<Value>,
    /// The next instruction.
    pub pc: usize,
}

/// How a run of a frame ended.
pub enum Exit {
    /// `RETURN_VALUE`.
    Return(Value),
    /// `YIELD_VALUE`: suspended, with the value yielded.
    Yield(Value),
    /// `RETURN_GENERATOR`: the frame becomes a generator object.
    Generator,
}

/// Where a generator is.
#[derive(Debug)]
enum GenState {
    /// Suspended (or not started), its frame kept.
    Ready(FrameState),
    /// Being resumed now.
    Running,
    /// Returned or raised.
    Finished,
}

/// A generator object, or a coroutine object (an `async def`'s frame, driven by `await`).
#[derive(Debug)]
pub struct GenObj {
    /// Its function's name.
    pub name: Arc<str>,
    /// Whether it is a coroutine (`CO_COROUTINE`) rather than a generator.
    pub is_coroutine: bool,
    /// Whether it is an async generator (`CO_ASYNC_GENERATOR`): consumed by `async for`.
    pub is_async_gen: bool,
    state: Mutex<GenState>,
}

/// What sending a value into a generator (or coroutine) did.
pub enum Sent {
    /// It yielded this value and is suspended.
    Yielded(Value),
    /// It returned this value (`StopIteration(value)`) and is finished.
    Returned(Value),
    /// It had finished before.
    Exhausted,
}

/// What taking a generator's frame to resume it found.
pub enum Resume {
    /// The frame, to run.
    Frame(FrameState),
    /// It is running already (a generator resumed from inside itself).
    Running,
    /// It is done.
    Finished,
}

impl GenObj {
    /// A generator for the frame that reached `RETURN_GENERATOR`.
    pub fn new(frame: FrameState) -> Self {
        Self {
            name: Arc::clone(&frame.code.name),
            is_coroutine: frame.code.is_coroutine && !frame.code.is_async_generator,
            is_async_gen: frame.code.is_async_generator,
            state: Mutex::new(GenState::Ready(frame)),
        }
    }

    /// Takes the frame out to run it, marking the generator running.
    pub fn take(&self) -> Resume {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(&mut *s, GenState::Running) {
            GenState::Ready(f) => Resume::Frame(f),
            GenState::Running => Resume::Running,
            GenState::Finished => {
                *s = GenState::Finished;
                Resume::Finished
            }
        }
    }

    /// `"generator"` or `"coroutine"`, for messages.
    pub fn kind_name(&self) -> &'static str {
        if self.is_async_gen {
            "async_generator"
        } else if self.is_coroutine {
            "coroutine"
        } else {
            "generator"
        }
    }

    /// Whether its frame stopped at a value it yields to its consumer (`ASYNC_GEN_WRAP`,
    /// `YIELD_VALUE`), rather than at an `await` inside it passing a value up to the loop.
    pub fn suspended_at_async_yield(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &*s {
            GenState::Ready(f) => {
                f.pc.checked_sub(2)
                    .and_then(|k| f.code.ops.get(k))
                    .is_some_and(|op| *op == super::code::Op::AsyncGenWrap)
            }
            _ => false,
        }
    }

    /// Marks a generator that is not running finished.
    pub fn close(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*s, GenState::Running) {
            *s = GenState::Finished;
        }
    }

    /// Puts the frame back after a yield, or marks it finished (`None`).
    pub fn put_back(&self, frame: Option<FrameState>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = match frame {
            Some(f) => GenState::Ready(f),
            None => GenState::Finished,
        };
    }
}
