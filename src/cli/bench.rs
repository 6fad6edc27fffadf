//! `gilscope bench`: the engine's benchmark figures, measured in one run and printed with their
//! targets. The UI, timeline, export and memory figures are `cargo bench --bench ui`.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use gilscope_engine::measure::bench::{EngineBench, run_engine_bench};

/// All figures.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Engine figures.
    pub engine: EngineBench,
}

/// Measures the figures.
pub fn run() -> Result<BenchReport> {
    let engine = run_engine_bench(super::exe::self_exe()).context("engine benchmark failed")?;
    Ok(BenchReport { engine })
}

/// Prints the figures with their targets.
pub fn print(out: &mut impl Write, r: &BenchReport) -> std::io::Result<()> {
    let e = &r.engine;
    writeln!(
        out,
        "kernel cost, one thread, ns per cell (lower is better)"
    )?;
    writeln!(
        out,
        "  grid  python(interp)  numpy(whole-array)  native-fused  native-inplace  plain-loop"
    )?;
    for k in &e.kernels {
        writeln!(
            out,
            "  {:>4} {:>15.2} {:>19.2} {:>13.2} {:>15.2} {:>11.2}",
            k.grid,
            k.python_ns_per_cell,
            k.numpy_ns_per_cell,
            k.native_ns_per_cell,
            k.native_gs_ns_per_cell,
            k.plain_ns_per_cell
        )?;
    }
    if let Some(k) = e.kernels.iter().find(|k| k.grid == 1000) {
        writeln!(
            out,
            "  numpy/native at grid 1000: {:.2}x (target >= 3)",
            k.numpy_ns_per_cell / k.native_ns_per_cell
        )?;
        writeln!(
            out,
            "  native/plain at grid 1000: {:.2}x (target <= 1.5)",
            k.native_ns_per_cell / k.plain_ns_per_cell
        )?;
        writeln!(
            out,
            "  native fused at grid 1000: {:.1} GB/s (16 bytes per cell: the old grid read once, the new one written)",
            16.0 / k.native_ns_per_cell
        )?;
    }
    writeln!(
        out,
        "interpreter: {:.2} ns per instruction, {:.1} instructions per cell (CPython 3.11: ~4-5 ns)",
        e.ns_per_instruction, e.instructions_per_cell
    )?;
    writeln!(
        out,
        "  vs the hand-assembled interpreter it replaced ({:.2} ns): {:.2}x (target <= 1: not slower)",
        gilscope_engine::measure::bench::HAND_ASSEMBLED_NS_PER_INSTRUCTION,
        e.ns_per_instruction_vs_hand_assembled
    )?;
    writeln!(
        out,
        "count.py (N=20M): threads wall(2)/wall(1) {:.2} (target 0.85-1.15), processes wall(1)/wall(2) {:.2}x (target >= 1.6 on 2 free cores)",
        e.count_threads_ratio_2v1, e.count_procs_speedup_2v1
    )?;
    writeln!(
        out,
        "native run at grid 512, 8 problems (the split run and the app use): 2 threads {:.2}x faster than 1 (target >= 1.8); Jacobi kernel {:.2}x (memory-bound: both workers stream their own grids)",
        e.native_speedup_2_threads, e.native_jacobi_speedup_2_threads
    )?;
    writeln!(
        out,
        "threading:python wall(2)/wall(1): {:.2} (target >= 0.95: no faster)",
        e.threading_python_ratio_2v1
    )?;
    writeln!(
        out,
        "multiprocessing:python wall(1)/wall(2): {:.2}x (target >= 1.6 on 2 free cores)",
        e.multiproc_python_speedup_2v1
    )?;
    writeln!(
        out,
        "recording: {:.1} ns per span; threading:numpy {:.0} spans per worker-second -> {:.2}% of worker time; threading:io {:.3}%; threading:python {:.3}% (target under 2% on every kernel)",
        e.record_ns_per_span,
        e.numpy_spans_per_worker_sec,
        e.numpy_record_share * 100.0,
        e.io_record_share * 100.0,
        e.python_record_share * 100.0
    )?;
    let cancels: Vec<String> = e
        .cancel_ms
        .iter()
        .map(|(m, ms)| format!("{m} {ms:.1} ms"))
        .collect();
    writeln!(
        out,
        "cancel to end of run: {} (target < 100 ms)",
        cancels.join(", ")
    )?;
    let v = &e.variants;
    writeln!(
        out,
        "interpreter variants (py_update at grid 200, one thread, best of 5): free-threaded {:.3}x the GIL build's time (biased refcounts; CPython: ~1.06 PEP 703, ~1.10 PEP 779); legacy GIL {:.3}x",
        v.free_threaded_single_thread_cost, v.legacy_single_thread_cost
    )?;
    writeln!(
        out,
        "  threading:python free-threaded 2 threads {:.2}x faster than the GIL build's 1 (target >= 1.6); interpreters:python 2 vs 1: {:.2}x (target >= 1.6)",
        v.free_threaded_speedup_2_threads, v.interpreters_speedup_2v1
    )?;
    writeln!(
        out,
        "  count.py under the legacy GIL: {:.0}x the releases per second of 3.11's (target >= 50); wall(2 threads)/wall(1) {:.2} (target >= 1: not faster)",
        v.legacy_release_rate_ratio, v.legacy_threads_ratio_2v1
    )?;
    match &e.cpython {
        Ok(c) => {
            writeln!(
                out,
                "real CPython {}: count.py 2 threads observed/unobserved wall {:.3} (target <= 1.05); the observer used {:.1}% of a core, {:.1}% with 8 threads (target <= 5%)",
                c.python_version,
                c.observed_wall_ratio,
                c.observer_cpu_share * 100.0,
                c.observer_cpu_share_8_threads * 100.0
            )?;
            writeln!(
                out,
                "  count.py (N=20M), 1 thread: emulated/CPython wall {:.2} (best of 3 each, interleaved; target <= 1.25)",
                c.count_emulated_over_cpython
            )?;
            match (c.emulated_python_us_per_cell, c.cpython_python_us_per_cell) {
                (Some(emu), Some(real)) => writeln!(
                    out,
                    "  heat.py python kernel, 1 thread, grid 30: emulated {emu:.3} µs per cell, CPython {real:.3} µs: emulated/CPython {:.2} (best of 3 each, interleaved; target <= 1.25)",
                    emu / real
                )?,
                _ => writeln!(
                    out,
                    "  heat.py python kernel vs CPython: skipped, that Python has no NumPy (set GILSCOPE_BENCH_PYTHON to one that has)"
                )?,
            }
        }
        Err(why) => writeln!(out, "real CPython figures skipped: {why}")?,
    }
    writeln!(
        out,
        "UI frame, timeline, export and memory figures: cargo bench --bench ui"
    )?;
    Ok(())
}
