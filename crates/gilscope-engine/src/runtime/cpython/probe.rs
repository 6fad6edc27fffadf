//! What the Python at a path is: its real executable, version, whether its GIL is enabled, and
//! whether it has NumPy, asked of the interpreter itself.

use std::process::Stdio;

use serde::Deserialize;

use crate::error::EngineError;

/// The oldest CPython the cpython runtime runs (`threading.get_native_id` is 3.8+).
pub const MIN_VERSION: (u32, u32) = (3, 8);

const PROBE: &str = "import json, sys\n\
try:\n    import numpy\n    np = numpy.__version__\n\
except Exception:\n    np = None\n\
gil = getattr(sys, '_is_gil_enabled', lambda: True)()\n\
print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3]), \
'gil_enabled': gil, 'numpy': np, 'implementation': sys.implementation.name}))\n";

/// A Python interpreter found on this machine.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PythonInfo {
    /// `sys.executable`: the real binary (not a pyenv shim).
    pub executable: String,
    /// `(major, minor, micro)`.
    pub version: Vec<u32>,
    /// `sys._is_gil_enabled()` on 3.13+, else true.
    pub gil_enabled: bool,
    /// NumPy's version, if it imports.
    pub numpy: Option<String>,
    /// `cpython`, `pypy`…
    pub implementation: String,
}

impl PythonInfo {
    /// `3.11.7`.
    pub fn version_string(&self) -> String {
        self.version
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `(major, minor)`.
    pub fn minor(&self) -> (u32, u32) {
        (
            self.version.first().copied().unwrap_or(0),
            self.version.get(1).copied().unwrap_or(0),
        )
    }
}

/// Asks `python` (a path, a name, or a command that execs one) about itself; a missing or
/// too old interpreter is a configuration error.
pub fn probe(python: &str) -> Result<PythonInfo, EngineError> {
    let out = super::command::PythonCommand::parse(python)?
        .command()
        .args(["-c", PROBE])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            EngineError::Config(format!(
                "cannot run the Python '{python}' for --runtime cpython: {e} (pass --python PATH)"
            ))
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(EngineError::Config(format!(
            "'{python}' is not a Python 3.8+ interpreter gilscope can use: {}",
            err.lines().last().unwrap_or("it failed without a message")
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let info: PythonInfo =
        serde_json::from_str(text.lines().last().unwrap_or("")).map_err(|_| {
            EngineError::Config(format!(
                "'{python}' is not a Python 3.8+ interpreter gilscope can use (it answered {:?})",
                text.trim()
            ))
        })?;
    check_version(python, &info)?;
    Ok(info)
}

/// Refuses interpreters older than [`MIN_VERSION`].
pub fn check_version(python: &str, info: &PythonInfo) -> Result<(), EngineError> {
    if info.minor() < MIN_VERSION {
        return Err(EngineError::Config(format!(
            "'{python}' is Python {}; the cpython runtime needs {}.{} or newer",
            info.version_string(),
            MIN_VERSION.0,
            MIN_VERSION.1
        )));
    }
    Ok(())
}

/// Whether `cfg`'s program can run on its Python: the interpreter probed, and NumPy present if
/// the program imports it. Says what is missing in one line, before anything starts.
pub fn preflight(
    cfg: &crate::config::RunConfig,
) -> Result<(PythonInfo, crate::program::Program), EngineError> {
    let info = probe(&cfg.python)?;
    let program = crate::program::Program::load(&cfg.program)?;
    if program.imports("numpy") && info.numpy.is_none() {
        return Err(EngineError::Config(format!(
            "{} needs NumPy, which {} does not have: run `{} -m pip install numpy`",
            program.file, info.executable, info.executable
        )));
    }
    Ok((info, program))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(v: &[u32]) -> PythonInfo {
        PythonInfo {
            executable: "/x/python".to_owned(),
            version: v.to_vec(),
            gil_enabled: true,
            numpy: None,
            implementation: "cpython".to_owned(),
        }
    }

    #[test]
    fn old_pythons_are_refused() {
        assert!(check_version("p", &info(&[3, 7, 9])).is_err());
        assert!(check_version("p", &info(&[2, 7, 18])).is_err());
        assert!(check_version("p", &info(&[3, 8, 0])).is_ok());
        assert!(check_version("p", &info(&[3, 14, 0])).is_ok());
        assert_eq!(info(&[3, 11, 7]).version_string(), "3.11.7");
    }

    #[test]
    fn a_missing_interpreter_is_a_config_error() {
        let e = probe("/nonexistent/python3").unwrap_err();
        assert!(matches!(e, EngineError::Config(_)), "{e}");
    }
}
