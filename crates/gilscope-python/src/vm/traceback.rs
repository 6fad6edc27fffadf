//! Tracebacks as CPython prints them: `Traceback (most recent call last):`, a `File` line and
//! the source line for every frame, outermost first, with 3.11's carets under the failing
//! expression (`~~^~~`), then `Type: message`; a chained exception (`__cause__`,
//! `__context__`) first, with the sentence that joins them.

use std::fmt::Write as _;
use std::sync::Arc;

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use super::PyException;
use super::code::Position;
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
    /// Where the instruction it was running lies in the source, if known.
    pub position: Option<Position>,
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
            if let Some(original) = source_line(&t.file, t.line) {
                let src = original.trim();
                if !src.is_empty() {
                    let _ = writeln!(out, "    {src}");
                    let here = t.position.filter(|p| p.line == t.line);
                    if let Some(carets) = here.and_then(|p| carets(&original, p)) {
                        let _ = writeln!(out, "{carets}");
                    }
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

/// Whitespace as the traceback's caret code counts it (`IS_WHITESPACE`).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// The caret line under `line` (as read, without its newline) for an instruction at `pos`:
/// 3.11's `tb_displayline` and `print_error_location_carets`, with `~` and `^` anchors for a
/// binary operation or a subscript; none when the carets would span the whole line.
pub fn carets(line: &str, pos: Position) -> Option<String> {
    if pos.line == 0 || pos.end_line < pos.line {
        return None;
    }
    let chars: Vec<char> = line.chars().collect();
    let indent = chars.iter().take_while(|c| is_blank(**c)).count();
    let start = pos.col as usize;
    let mut end = pos.end_col as usize;
    if start > chars.len() {
        return None;
    }
    let mut anchors = None;
    if pos.line == pos.end_line {
        if end < start || end > chars.len() {
            return None;
        }
        let segment: String = chars[start..end].iter().collect();
        anchors = anchors_of(&segment).map(|(l, r)| (l + start, r + start));
    } else {
        // A multi-line expression: highlighted to the line's last non-blank character.
        end = chars
            .iter()
            .rposition(|c| !is_blank(*c))
            .map_or(0, |i| i + 1);
    }
    if end.saturating_sub(start) == chars.len() - indent && anchors.is_none() {
        return None;
    }
    let mut out = " ".repeat(4 + start.saturating_sub(indent));
    // `^` throughout, or with anchors `~` around the `^` of the operator or subscript.
    for k in start..end.max(start) {
        let primary = anchors.is_some_and(|(l, r)| k < l || r <= k);
        out.push(if primary { '~' } else { '^' });
    }
    Some(out)
}

/// The operator of a binary operation, or the brackets of a subscript, that `segment` is
/// alone (`extract_anchors_from_line`): its character range within the segment.
fn anchors_of(segment: &str) -> Option<(usize, usize)> {
    let parsed = ruff_python_parser::parse_module(segment).ok()?;
    let body = &parsed.syntax().body;
    let [Stmt::Expr(e)] = &body[..] else {
        return None;
    };
    let bytes = segment.as_bytes();
    let (left, right) = match &*e.value {
        Expr::BinOp(b) => {
            let from = b.left.end().to_usize();
            let to = b.right.start().to_usize();
            let i = (from..to).find(|&i| !is_blank(char::from(bytes[i])))?;
            let two = i + 1 < to && !is_blank(char::from(bytes[i + 1]));
            (i, i + 1 + usize::from(two))
        }
        Expr::Subscript(s) => (s.value.end().to_usize(), s.slice.end().to_usize() + 1),
        _ => return None,
    };
    let chars_before = |byte: usize| {
        segment
            .get(..byte.min(segment.len()))
            .map(|s| s.chars().count())
    };
    Some((chars_before(left)?, chars_before(right)?))
}
