//! The verdicts: for each lesson, what its runs measured, in figures, and whether that agrees
//! with the claim. Pure functions of the measurements, so a contradicting measurement can be
//! tested without a machine that produces one.

use gilscope_engine::heat::kernels::TRIAD_BYTES_PER_ELEMENT;
use gilscope_engine::trace::summary::RunSummary;

use super::{Measured, Verdict};

/// Two threads counted as "no faster" when within this factor of one.
pub const NO_GAIN_BELOW: f64 = 1.15;
/// Threads sharing one GIL keep at most this many cores busy.
pub const ONE_CORE_AT_MOST: f64 = 1.3;
/// Parallel workers must reach this share of the ideal speedup min(P, cores).
pub const PARALLEL_SHARE: f64 = 0.65;
/// "Clearly faster": at least this speedup with two workers.
pub const CLEARLY_FASTER: f64 = 1.3;
/// Four overlapping downloads must be at least this much faster than one.
pub const IO_SPEEDUP: f64 = 2.5;
/// A streaming kernel may exceed the measured copy bandwidth by this factor: it counts its bytes
/// as STREAM does, which differs from memcpy's by write-allocation, and a shared host moves both
/// figures by ±20% (27.7–38.6 GB/s measured here). A kernel running from cache would exceed it
/// several times over.
pub const CEILING_SLACK: f64 = 1.5;
/// A streaming kernel at this share of the copy bandwidth has met the ceiling.
pub const AT_CEILING: f64 = 0.75;

/// The verdict on lesson `number`: the figures, and whether they agree with the claim.
pub fn judge(number: usize, m: &Measured<'_>) -> (String, Verdict) {
    let r = match number {
        1 => one_core(m),
        2 => processes(m),
        3 => io(m),
        4 => numpy(m),
        5 => starvation(m),
        6 => bank(m),
        7 => refcount(m),
        8 => no_gil(m),
        9 => memory_bound(m),
        10 => tree(m),
        _ => Err("no such lesson".to_owned()),
    };
    match r {
        Ok((observed, Ok(()))) => (observed, Verdict::AsExpected),
        Ok((observed, Err(why))) => (observed, Verdict::NotOnThisMachine(why)),
        Err(missing) => (
            format!("nothing to judge: {missing}"),
            Verdict::NotOnThisMachine(missing),
        ),
    }
}

/// The figures, and `Err(why)` where they contradict the claim; the outer `Err` is a
/// measurement that is missing.
type Judged = Result<(String, Result<(), String>), String>;

fn need<T>(v: Option<T>, what: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("{what} did not run"))
}

fn fastest<'a>(m: &'a Measured<'_>, key: &str) -> Result<&'a RunSummary, String> {
    need(m.trial(key).and_then(|t| t.fastest()), key)
}

fn speedup(m: &Measured<'_>, base: &str, fast: &str) -> Result<f64, String> {
    need(m.speedup(base, fast), &format!("{base} or {fast}"))
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

fn one_core(m: &Measured<'_>) -> Judged {
    let s = speedup(m, "t1", "t2")?;
    let busy = fastest(m, "t2")?.cores_used_by_workers();
    let mut observed =
        format!("2 threads ran {s:.2}x as fast as 1, with {busy:.2} cores busy (emulated 3.11)");
    let mut verdict = check(s <= NO_GAIN_BELOW && busy <= ONE_CORE_AT_MOST, || {
        format!("2 threads ran {s:.2}x as fast as 1 with {busy:.2} cores busy")
    });
    match m.trial("cpy2").and_then(|t| t.skipped.clone()) {
        Some(why) => observed += &format!("; real CPython not run: {why}"),
        None => {
            if let Some(sc) = m.speedup("cpy1", "cpy2") {
                let version = fastest(m, "cpy2")?
                    .python_version
                    .clone()
                    .unwrap_or_default();
                observed += &format!("; this machine's python3 {version}: {sc:.2}x");
                if verdict.is_ok() && sc > NO_GAIN_BELOW {
                    verdict = Err(format!("real CPython ran 2 threads {sc:.2}x as fast as 1"));
                }
            }
        }
    }
    Ok((observed, verdict))
}

fn processes(m: &Measured<'_>) -> Judged {
    let s = speedup(m, "mp1", "mpn")?;
    let p = fastest(m, "mpn")?.threads;
    let ideal = p.min(m.cores) as f64;
    let observed = format!(
        "{p} processes ran {s:.2}x as fast as 1 on {} cores (seed 001: 3.57x on 4)",
        m.cores
    );
    let verdict = if m.cores < 2 {
        Err(format!(
            "this machine has {} core, so a second process has no core to run on ({s:.2}x)",
            m.cores
        ))
    } else {
        check(s >= PARALLEL_SHARE * ideal, || {
            format!(
                "{p} processes ran only {s:.2}x as fast as 1, below {:.2}x",
                PARALLEL_SHARE * ideal
            )
        })
    };
    Ok((observed, verdict))
}

fn io(m: &Measured<'_>) -> Judged {
    let s = speedup(m, "dl1", "dl4")?;
    let busy = fastest(m, "dl4")?.cores_used_by_workers();
    let observed = format!(
        "4 threads downloaded {s:.2}x as fast as 1, with {busy:.2} cores busy (seed 001: 3.64x)"
    );
    let verdict = check(s >= IO_SPEEDUP, || {
        format!("4 threads were only {s:.2}x as fast as 1")
    });
    Ok((observed, verdict))
}

fn numpy(m: &Measured<'_>) -> Judged {
    let tiny = speedup(m, "tiny1", "tiny2")?;
    let small = speedup(m, "small1", "small2")?;
    let big = speedup(m, "big1", "big2")?;
    let dot = speedup(m, "dot1", "dot2")?;
    let mut observed = format!(
        "2 threads against 1: grid 20 {tiny:.2}x, grid 200 {big:.2}x, np.dot {dot:.2}x; grid 30 {small:.2}x"
    );
    match m.trial("cpy_small2").and_then(|t| t.skipped.clone()) {
        Some(why) => observed += &format!(" (real CPython + NumPy not run: {why})"),
        None => {
            if let Some(s) = m.speedup("cpy_small1", "cpy_small2") {
                observed += &format!(" (this machine's python3 with NumPy: {s:.2}x)");
            }
        }
    }
    let verdict = if m.cores < 2 {
        Err(format!(
            "one core: no two array loops can overlap (grid 200: {big:.2}x)"
        ))
    } else if tiny > NO_GAIN_BELOW {
        Err(format!("threads gained {tiny:.2}x even at grid 20"))
    } else if big < CLEARLY_FASTER || big < tiny + 0.25 {
        Err(format!(
            "grid 200 gained only {big:.2}x (grid 20: {tiny:.2}x)"
        ))
    } else {
        check(dot > 1.05, || format!("np.dot gained only {dot:.2}x"))
    };
    Ok((observed, verdict))
}

fn max_wait_ms(s: &RunSummary) -> f64 {
    s.workers
        .iter()
        .map(|w| w.max_gil_wait_secs)
        .fold(0.0, f64::max)
        * 1e3
}

fn starvation(m: &Measured<'_>) -> Judged {
    let heat20 = need(m.trial("heat20"), "heat20")?;
    let starved = heat20.runs.iter().map(|r| r.gil_starvations).max();
    let starved = need(starved, "heat20")?;
    let worst20 = heat20.runs.iter().map(max_wait_ms).fold(0.0, f64::max);
    let heat5 = fastest(m, "heat5")?;
    let count = fastest(m, "count20")?;
    let observed = format!(
        "heat.py at 20 ms: {starved} starved waits, the longest wait {worst20:.0} ms; at 5 ms: {} starved, longest {:.0} ms; count.py at 20 ms: {} starved, longest {:.0} ms",
        heat5.gil_starvations,
        max_wait_ms(heat5),
        count.gil_starvations,
        max_wait_ms(count)
    );
    let verdict = if starved == 0 {
        Err("heat.py at 20 ms had no starved wait".to_owned())
    } else {
        check(count.gil_starvations == 0, || {
            format!(
                "count.py at 20 ms had {} starved waits",
                count.gil_starvations
            )
        })
    };
    Ok((observed, verdict))
}

fn bank(m: &Measured<'_>) -> Judged {
    let inplace = need(m.trial("inplace"), "inplace")?;
    let call = need(m.trial("withcall"), "withcall")?;
    let lost_inline = need(inplace.max_result("lost"), "inplace's result")?;
    let lost_call = need(call.max_result("lost"), "withcall's result")?;
    let expected = need(call.max_result("expected"), "withcall's result")?;
    let observed = format!(
        "inline: at most {lost_inline} of {expected} deposits lost; through a call: up to {lost_call} lost ({:.0}%) over {} runs",
        100.0 * lost_call as f64 / expected.max(1) as f64,
        call.runs.len()
    );
    let verdict = if lost_inline != 0 {
        Err(format!("the inline deposit lost {lost_inline} updates"))
    } else {
        check(lost_call > 0, || {
            format!(
                "no update was lost through a call in {} runs",
                call.runs.len()
            )
        })
    };
    Ok((observed, verdict))
}

fn refcount(m: &Measured<'_>) -> Judged {
    let drift = |key: &str| -> Result<(i64, usize), String> {
        let t = need(m.trial(key), key)?;
        let worst = t
            .runs
            .iter()
            .filter_map(|r| r.result["refcount_drift"].as_i64())
            .max_by_key(|d| d.unsigned_abs());
        Ok((
            need(worst, &format!("{key}'s refcount_drift"))?,
            t.runs.len(),
        ))
    };
    let (with_gil, n_gil) = drift("gil")?;
    let (without, n_unsafe) = drift("unsafe")?;
    let observed = format!(
        "refcount drift with the GIL: {with_gil} (worst of {n_gil} runs); with the GIL deleted: {without} (worst of {n_unsafe} runs)"
    );
    let verdict = if with_gil != 0 {
        Err(format!("the counts drifted by {with_gil} under the GIL"))
    } else {
        check(without != 0, || {
            format!("no drift without the GIL in {n_unsafe} runs")
        })
    };
    Ok((observed, verdict))
}

fn no_gil(m: &Measured<'_>) -> Judged {
    let ft = speedup(m, "ft1", "ft2")?;
    let sub = speedup(m, "gil1", "sub2")?;
    let cost = fastest(m, "ft1")?.wall_secs / fastest(m, "gil1")?.wall_secs.max(1e-9);
    let observed = format!(
        "free-threaded: 2 threads {ft:.2}x as fast as 1, one thread taking {cost:.2}x the GIL build's time; 2 subinterpreters {sub:.2}x as fast as one GIL thread"
    );
    let verdict = if m.cores < 2 {
        Err(format!(
            "one core: nothing to run in parallel on (free-threaded {ft:.2}x)"
        ))
    } else if ft < CLEARLY_FASTER {
        Err(format!("free-threaded threads gained only {ft:.2}x"))
    } else {
        check(sub >= CLEARLY_FASTER, || {
            format!("subinterpreters gained only {sub:.2}x")
        })
    };
    Ok((observed, verdict))
}

/// Bytes per second the streaming kernel moved in its fastest run of trial `key`.
pub fn stream_gb_per_sec(s: &RunSummary) -> f64 {
    let bytes = (s.grid * s.grid) as f64
        * TRIAD_BYTES_PER_ELEMENT as f64
        * s.iters as f64
        * s.problems as f64;
    bytes / s.wall_secs.max(1e-9) / 1e9
}

fn memory_bound(m: &Measured<'_>) -> Judged {
    let bw = need(m.bandwidth, "the bandwidth measurement")?.copy_gb_per_sec;
    let one = fastest(m, "stream1")?;
    let peak = ["stream1", "streamc", "stream2c"]
        .iter()
        .filter_map(|k| m.trial(k).and_then(|t| t.fastest()))
        .map(stream_gb_per_sec)
        .fold(0.0, f64::max);
    if m.cores < 2 {
        return Ok((
            format!("the triad moved {peak:.1} GB/s of a {bw:.1} GB/s copy bandwidth"),
            Err("one core: there is no scaling to stop".to_owned()),
        ));
    }
    let s_mem = speedup(m, "stream1", "streamc")?;
    let s_cpu = speedup(m, "cpu1", "cpuc")?;
    let observed = format!(
        "triad: 1 thread {:.1} GB/s, best {peak:.1} GB/s, {} threads {s_mem:.2}x as fast as 1; compute-bound: {s_cpu:.2}x; copy bandwidth ceiling {bw:.1} GB/s",
        stream_gb_per_sec(one),
        m.cores
    );
    let verdict = if peak > CEILING_SLACK * bw {
        Err(format!(
            "the triad moved {peak:.1} GB/s, above the {bw:.1} GB/s ceiling: it ran from cache"
        ))
    } else {
        check(s_mem + 0.1 <= s_cpu || peak >= AT_CEILING * bw, || {
            format!(
                "the triad scaled {s_mem:.2}x like compute-bound code ({s_cpu:.2}x) at {peak:.1} of {bw:.1} GB/s"
            )
        })
    };
    Ok((observed, verdict))
}

fn tree(m: &Measured<'_>) -> Judged {
    let mut parts = Vec::new();
    let mut failed = Vec::new();
    for leaf in super::tree::LEAVES.iter() {
        for &n in leaf.lessons {
            let Some(r) = m.earlier.iter().find(|r| r.number == n) else {
                failed.push(format!("lesson {n} did not run"));
                continue;
            };
            if let Verdict::NotOnThisMachine(why) = &r.verdict {
                failed.push(format!("lesson {n} ({}): {why}", r.title));
            }
        }
        let lessons: Vec<String> = leaf.lessons.iter().map(|n| n.to_string()).collect();
        let noun = if lessons.len() > 1 {
            "lessons"
        } else {
            "lesson"
        };
        parts.push(format!("{}: {noun} {}", leaf.task, lessons.join(" and ")));
    }
    let observed = format!(
        "{}; {} of {} leaf lessons as expected",
        parts.join("; "),
        super::tree::leaf_lessons().len() - failed.len().min(super::tree::leaf_lessons().len()),
        super::tree::leaf_lessons().len()
    );
    let verdict = check(failed.is_empty(), || failed.join("; "));
    Ok((observed, verdict))
}
