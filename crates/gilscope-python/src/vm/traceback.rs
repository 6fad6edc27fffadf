//! Tracebacks as CPython prints them: `Traceback (most recent call last):`, a `File` line and
//! the source line for every frame, outermost first, then `Type: message`; a chained
//! exception (`__cause__`, `__context__`) first, with the sentence that joins them.

use std::fmt::Write as _;
use std::sync::Arc;

use super::PyException;
use super::value::Value;

const CAUSE: &str = "\nThe above exception was the direct cause of the following exception:\n\n";
const CONTEXT: &str = "\nDuring handling of the above exception, another exception occurred:\n\n";

/// How many chained exceptions are printed before the chain is cut (a cycle stops there).
const MAX_CHAIN: usize = 32;

/// One frame an exception unwound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The file of the frame's code.
    pub file: Arc<str>,
    /// The line it was running.
    pub line: u32,
    /// The function's name (`<module>` for the top level).
    pub function: Arc<str>,
}

/// Identical frames in a row shown before the rest are counted (`traceback._RECURSIVE_CUTOFF`).
const RECURSIVE_CUTOFF: usize = 3;

/// The text CPython's `traceback.print_exception` writes for `e`; `source_line(file, line)`
/// gives the line's text where it is known.
pub fn format(e: &PyException, source_line: &dyn Fn(&str, u32) -> Option<String>) -> String {
    format_chain(e, source_line, 0)
}

fn format_chain(
    e: &PyException,
    source_line: &dyn Fn(&str, u32) -> Option<String>,
    depth: usize,
) -> String {
    let mut out = String::new();
    if depth < MAX_CHAIN
        && let Some(Value::Instance(i)) = &e.value
    {
        let chained = match i.cause() {
            Some(c) => Some((c, CAUSE)),
            None if !i.suppress_context() => i.context().map(|c| (c, CONTEXT)),
            None => None,
        };
        if let Some((Value::Instance(c), note)) = chained {
            let inner = PyException {
                exc: c.class.qualified_name(),
                msg: c.exc_str(),
                at: None,
                traceback: c.traceback(),
                value: Some(Value::Instance(c.clone())),
            };
            out.push_str(&format_chain(&inner, source_line, depth + 1));
            out.push_str(note);
        }
    }
    if !e.traceback.is_empty() {
        out.push_str("Traceback (most recent call last):\n");
        // `StackSummary.format`: after three identical frames in a row, one line counts the rest.
        let mut last: Option<&TraceEntry> = None;
        let mut repeats = 0usize;
        let flush = |out: &mut String, repeats: usize| {
            if repeats > RECURSIVE_CUTOFF {
                let n = repeats - RECURSIVE_CUTOFF;
                let s = if n == 1 { "" } else { "s" };
                let _ = writeln!(out, "  [Previous line repeated {n} more time{s}]");
            }
        };
        for t in e.traceback.iter().rev() {
            if last
                .is_some_and(|l| l.file == t.file && l.line == t.line && l.function == t.function)
            {
                repeats += 1;
                if repeats > RECURSIVE_CUTOFF {
                    continue;
                }
            } else {
                flush(&mut out, repeats);
                repeats = 1;
                last = Some(t);
            }
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                t.file, t.line, t.function
            );
            if let Some(src) = source_line(&t.file, t.line) {
                let src = src.trim();
                if !src.is_empty() {
                    let _ = writeln!(out, "    {src}");
                }
            }
        }
        flush(&mut out, repeats);
    }
    out.push_str(&exception_line(e));
    out.push('\n');
    out
}

/// `Type: message`, or the bare type when the message is empty.
pub fn exception_line(e: &PyException) -> String {
    if e.msg.is_empty() {
        e.exc.to_string()
    } else {
        format!("{}: {}", e.exc, e.msg)
    }
}

/// Line `line` (1-based) of `source`.
pub fn line_of(source: &str, line: u32) -> Option<String> {
    source
        .lines()
        .nth((line as usize).checked_sub(1)?)
        .map(str::to_owned)
}
