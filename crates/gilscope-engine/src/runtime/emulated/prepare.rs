//! Preparing a program for the workers: compile it, run its top level in this process, apply
//! the parameter overrides, and compute every worker's arguments with its `share`; and, at the
//! end, hand what the workers returned to its `report`.

use std::sync::Arc;

use super::worker::{self, MainHost};
use crate::config::{Mode, RunConfig};
use crate::error::EngineError;
use crate::program::{Program, WireValue};
use crate::runtime::start::param_overrides;
use gilscope_python::vm::Globals;
use gilscope_python::vm::value::Value;

/// A program ready to run: compiled, its namespace in this process initialised, every worker's
/// arguments computed by its `share`.
pub(super) struct Prepared {
    pub(super) program: Program,
    pub(super) globals: Arc<Globals>,
    pub(super) entry: String,
    pub(super) params: Vec<(String, WireValue)>,
    pub(super) args: Vec<Vec<WireValue>>,
}

pub(super) fn prepare(cfg: &RunConfig) -> Result<Prepared, EngineError> {
    // The main thread's objects count references as the run's interpreter does.
    gilscope_python::vm::object::set_thread_discipline(cfg.interpreter.refcount());
    let program = Program::load(&cfg.program)?;
    if cfg.mode == Mode::Interpreters && !cfg.is_heat() && program.imports("numpy") {
        return Err(EngineError::Config(format!(
            "--mode interpreters cannot run {}: it imports NumPy, which does not support \
             subinterpreters (numpy#24755); use --mode multiprocessing",
            program.file
        )));
    }
    let values = program.parse_params(&param_overrides(cfg))?;
    let entry = cfg
        .entry
        .clone()
        .or_else(|| {
            values
                .iter()
                .rev()
                .find(|(n, _)| n == "ENTRY")
                .map(|(_, v)| v.to_str())
        })
        .or_else(|| program.default_entry())
        .ok_or_else(|| {
            EngineError::Config(format!(
                "{} names no entry function: pass --entry or set ENTRY",
                program.file
            ))
        })?;
    let globals = program.new_globals();
    let mut main = MainHost::new();
    let params: Vec<(String, WireValue)> = values
        .iter()
        .map(|(n, v)| Ok((n.clone(), WireValue::pack(v)?)))
        .collect::<Result<_, EngineError>>()?;
    main.with_vm(&globals, |vm| vm.run_module(&program.module.code))?;
    worker::apply_params(&globals, &params)?;
    if crate::program::function(&globals, &entry).is_none() {
        return Err(EngineError::Config(format!(
            "{} has no function {entry} (--entry)",
            program.file
        )));
    }
    let share = crate::program::function(&globals, "share");
    let mut args = Vec::with_capacity(cfg.threads);
    for k in 0..cfg.threads {
        let a = match &share {
            Some(f) => {
                let call = vec![Value::Int(k as i64), Value::Int(cfg.threads as i64)];
                let v = main.with_vm(&globals, |vm| {
                    vm.call_value(&Value::Function(f.clone()), call)
                })?;
                match v {
                    Value::Tuple(t) => t
                        .iter()
                        .map(WireValue::pack)
                        .collect::<Result<Vec<_>, _>>()?,
                    Value::IntPair(a, b) => vec![WireValue::Int(a), WireValue::Int(b)],
                    other => {
                        return Err(EngineError::Python(format!(
                            "TypeError: share() must return a tuple of arguments, not {}",
                            other.type_name()
                        )));
                    }
                }
            }
            None => Vec::new(),
        };
        args.push(a);
    }
    Ok(Prepared {
        program,
        globals,
        entry,
        params,
        args,
    })
}

/// Runs the program's `report` on the workers' return values, in this process's namespace.
pub(super) fn report(prep: &Prepared, returned: &[WireValue]) -> Result<WireValue, EngineError> {
    let values = returned
        .iter()
        .map(|w| w.unpack(&prep.globals))
        .collect::<Result<Vec<_>, _>>()?;
    match crate::program::function(&prep.globals, "report") {
        Some(f) => {
            let mut main = MainHost::new();
            let r = main.with_vm(&prep.globals, |vm| {
                vm.call_value(&Value::Function(f), vec![Value::list(values)])
            })?;
            WireValue::pack(&r)
        }
        None => Ok(WireValue::Dict(vec![(
            WireValue::Str("results".to_owned()),
            WireValue::List(returned.to_vec()),
        )])),
    }
}
