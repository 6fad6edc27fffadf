//! The program's sibling modules at run time: `import helper` runs `helper.py`'s top level
//! once, in the importing thread, and `helper.name` reads its globals; and `from m import *`.

use super::globals::ModuleState;
use super::value::{StdModule, Value};
use super::{Host, Vm, VmError};

impl<H: Host> Vm<'_, H> {
    /// `import name` of a sibling module: the module, its top level run on the first import;
    /// `None` when the program has no module of that name.
    pub(super) fn import_sibling(&mut self, name: &str) -> Result<Option<StdModule>, VmError> {
        let globals = std::sync::Arc::clone(&self.globals);
        let Some(m) = globals.module(name) else {
            return Ok(None);
        };
        let module = m.handle();
        {
            let mut state = m.state.lock().unwrap_or_else(|p| p.into_inner());
            if *state != ModuleState::NotRun {
                return Ok(Some(module));
            }
            *state = ModuleState::Running;
        }
        globals.set(&format!("{name}.__name__"), Value::str(name));
        globals.set(&format!("{name}.__file__"), Value::str(m.file));
        let ran = self.frame(&m.code, Vec::new());
        let mut state = m.state.lock().unwrap_or_else(|p| p.into_inner());
        match ran {
            Ok(_) => {
                *state = ModuleState::Ran;
                Ok(Some(module))
            }
            Err(e) => {
                *state = ModuleState::NotRun;
                Err(e)
            }
        }
    }

    /// `module.attr` of a sibling module: its global, or `__name__`/`__file__`.
    pub(super) fn sibling_attr(&self, module: StdModule, attr: &str) -> Result<Value, VmError> {
        let StdModule::User { name, file, .. } = module else {
            return Err(VmError::py("SystemError", "not a sibling module"));
        };
        let found = self
            .globals
            .get(&format!("{name}.{attr}"))
            .or_else(|| match attr {
                "__name__" => Some(Value::str(name)),
                "__file__" => Some(Value::str(file)),
                _ => None,
            });
        found.ok_or_else(|| {
            VmError::py(
                "AttributeError",
                format!("module '{name}' has no attribute '{attr}'"),
            )
        })
    }

    /// `module.attr = value` on a sibling module: rebinds one of its globals.
    pub(super) fn set_sibling_attr(
        &self,
        module: StdModule,
        attr: &str,
        value: Value,
    ) -> Result<(), VmError> {
        let StdModule::User { name, .. } = module else {
            return Err(VmError::py("SystemError", "not a sibling module"));
        };
        if self.globals.set(&format!("{name}.{attr}"), value) {
            Ok(())
        } else {
            // The namespace's slots are fixed when the program compiles.
            Err(VmError::py(
                "AttributeError",
                format!(
                    "module '{name}' has no attribute '{attr}' to set (gilscope's interpreter \
                     binds only the names the module's own code binds)"
                ),
            ))
        }
    }

    /// `from module import *` in the module whose names carry `prefix`: binds each public
    /// name of `module` (those in its `__all__`, if it has one) that this module's code
    /// names anywhere. A name no code reads could not change what the program does.
    pub(super) fn import_star(&mut self, module: &Value, prefix: &str) -> Result<(), VmError> {
        let globals = std::sync::Arc::clone(&self.globals);
        let all = match module {
            Value::Module(m @ StdModule::User { .. }) => self.sibling_attr(*m, "__all__").ok(),
            _ => None,
        };
        let wanted: Vec<(usize, String)> = globals
            .names()
            .iter()
            .enumerate()
            .filter_map(|(slot, full)| {
                let name = full.strip_prefix(prefix)?;
                (!name.contains('.')).then(|| (slot, name.to_owned()))
            })
            .collect();
        match all {
            Some(all) => {
                for item in self.iterate(&all)? {
                    let name = item.to_str();
                    let v = self.get_attr(module, &name)?;
                    if let Some((slot, _)) = wanted.iter().find(|(_, n)| *n == name) {
                        globals.store(*slot, v);
                    }
                }
            }
            None => {
                for (slot, name) in wanted.iter().filter(|(_, n)| !n.starts_with('_')) {
                    if let Ok(v) = self.get_attr(module, name) {
                        globals.store(*slot, v);
                    }
                }
            }
        }
        Ok(())
    }
}
