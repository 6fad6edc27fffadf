//! `gilscope lessons`: lists the lessons, or runs them headless and prints one verdict each.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{LessonsArgs, UsageError};
use crate::lessons::{LESSONS, LessonRunner, Report, Size};

/// Runs `gilscope lessons`.
pub fn lessons(args: LessonsArgs) -> Result<ExitCode> {
    let only = match &args.only {
        Some(list) => parse_only(list)?,
        None => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    if !args.check {
        if args.json {
            let list: Vec<_> = LESSONS
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "number": l.number, "title": l.title, "claim": l.claim,
                        "story": l.story, "source": l.source,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::json!({ "lessons": list }))?;
        } else {
            for l in LESSONS.iter() {
                writeln!(out, "{:>2}. {}", l.number, l.title)?;
                writeln!(out, "    claim: {}", l.claim)?;
            }
            writeln!(
                out,
                "\nOpen one in the app with `gilscope --lesson N`; check them all here with `gilscope lessons --check --quick`."
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runner = LessonRunner {
        size: if args.quick { Size::Quick } else { Size::Class },
        worker_exe: super::exe::self_exe(),
        python: Some(args.python.clone()),
        publish_frames: false,
    };
    let cancel = super::interrupt::token();
    let t0 = std::time::Instant::now();
    let mut reports: Vec<Report> = Vec::new();
    for l in LESSONS.iter() {
        if !only.is_empty() && !only.contains(&l.number) {
            continue;
        }
        eprintln!("[{}/{}] {} …", l.number, LESSONS.len(), l.title);
        let r = runner
            .run(l.number, None, &cancel, &reports, &mut |_| {})
            .with_context(|| format!("lesson {} could not run", l.number))?;
        if !args.json {
            writeln!(out, "{:>2}. {}", r.number, r.title)?;
            writeln!(out, "    claim:    {}", r.claim)?;
            writeln!(out, "    observed: {}", r.observed)?;
            writeln!(out, "    verdict:  {}", r.verdict.text())?;
        }
        reports.push(r);
    }
    let held = reports.iter().filter(|r| r.verdict.holds()).count();
    if args.json {
        writeln!(out, "{}", serde_json::json!({ "lessons": reports }))?;
    } else {
        writeln!(
            out,
            "\n{held} of {} lessons as expected on this machine ({} cores), in {:.0} s",
            reports.len(),
            gilscope_engine::trace::clock::core_count(),
            t0.elapsed().as_secs_f64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `3` or `1,4,9`: lesson numbers, each between 1 and the number of lessons.
fn parse_only(list: &str) -> Result<Vec<usize>, UsageError> {
    list.split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=LESSONS.len()).contains(n))
                .ok_or_else(|| {
                    UsageError(format!(
                        "--only {list}: lessons are numbered 1 to {}",
                        LESSONS.len()
                    ))
                })
        })
        .collect()
}
