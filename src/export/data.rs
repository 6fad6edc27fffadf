//! Data exports: run summary JSON, Chrome trace-event JSON (opens in Perfetto), sweep CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use gilscope_engine::trace::events::SweepPoint;
use gilscope_engine::trace::summary::{RunOutcome, RunSummary};

/// The run summary as pretty JSON.
pub fn summary_json(summary: &RunSummary) -> String {
    serde_json::to_string_pretty(summary).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The trace as Chrome trace-event JSON: complete events (`ph: X`) in microseconds, real pids
/// and tids, the state as the event name and the core in `args`.
pub fn chrome_trace_json(outcome: &RunOutcome) -> String {
    let t0 = outcome.start_ns;
    let us = |ns: u64| ns.saturating_sub(t0) as f64 / 1000.0;
    let mut events: Vec<Value> = Vec::with_capacity(outcome.spans.len() + 16);
    let mut threads: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    for s in &outcome.spans {
        threads.entry((s.pid, s.tid)).or_insert(s.worker);
        let cpu = if s.cpu == gilscope_engine::trace::spans::NO_CPU {
            Value::Null
        } else {
            json!(s.cpu)
        };
        if s.state.is_marker() {
            events.push(json!({
                "name": s.state.name(), "ph": "i", "s": "t", "ts": us(s.start_ns),
                "pid": s.pid, "tid": s.tid, "args": {"cpu": cpu, "worker": s.worker}
            }));
        } else {
            events.push(json!({
                "name": s.state.name(), "cat": "gilscope", "ph": "X",
                "ts": us(s.start_ns), "dur": s.dur_ns() as f64 / 1000.0,
                "pid": s.pid, "tid": s.tid, "args": {"cpu": cpu, "worker": s.worker}
            }));
        }
    }
    let mut pids: Vec<u32> = threads.keys().map(|k| k.0).collect();
    pids.dedup();
    for pid in pids {
        events.push(
            json!({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": {"name": format!("gilscope pid {pid}")}}),
        );
    }
    for ((pid, tid), worker) in threads {
        events.push(
            json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
            "args": {"name": format!("worker {worker}")}}),
        );
    }
    let doc = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "metadata": {"gilscope": outcome.summary},
    });
    doc.to_string()
}

/// Sweep points as CSV:
/// `series,mode,kernel,interpreter,runtime,threads,repeat,wall_secs,checksum`.
pub fn sweep_csv(points: &[SweepPoint]) -> String {
    let mut out =
        String::from("series,mode,kernel,interpreter,runtime,threads,repeat,wall_secs,checksum\n");
    for p in points {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{:.9},{}",
            csv_field(&p.label()),
            p.series.mode,
            p.series.kernel,
            p.series.interpreter,
            p.series.runtime,
            p.threads,
            p.repeat,
            p.wall_secs,
            // A program with no checksum (a script, count.py) leaves the field empty, not NaN.
            if p.checksum.is_finite() {
                format!("{:.17e}", p.checksum)
            } else {
                String::new()
            }
        );
    }
    out
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gilscope_engine::config::{Kernel, Mode, Series};

    #[test]
    fn a_sweep_without_a_checksum_leaves_the_field_empty() {
        let point = |checksum| SweepPoint {
            series: Series::new(Mode::Threading, Kernel::Python),
            threads: 2,
            repeat: 0,
            wall_secs: 1.5,
            checksum,
            program: "count".to_owned(),
            params: Vec::new(),
        };
        let csv = sweep_csv(&[point(f64::NAN), point(12.5)]);
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!(rows[0].ends_with(",1.500000000,"), "{csv}");
        assert!(!csv.contains("NaN"), "{csv}");
        assert!(rows[1].ends_with(",1.25000000000000000e1"), "{csv}");
    }
}
