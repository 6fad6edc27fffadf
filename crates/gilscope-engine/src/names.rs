//! Comma-separated name lists on the command line (`--interpreter gil,free-threaded`,
//! `--runtime emulated,cpython`).

use std::str::FromStr;

use crate::error::EngineError;

/// Parses a comma-separated list of names (`gil,free-threaded`, `emulated,cpython`) in the
/// order given, without repeats; an empty list is the error `empty`.
pub fn parse_name_list<T>(s: &str, empty: &str) -> Result<Vec<T>, EngineError>
where
    T: FromStr<Err = EngineError> + PartialEq,
{
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v: T = part.parse()?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(EngineError::Config(empty.to_owned()));
    }
    Ok(out)
}
