//! Benchmark figures of the engine: ns per cell of each kernel, ns per interpreted instruction,
//! native parallel speedup, and the GIL relations of the source graph, each measured as a ratio
//! to a baseline taken in the same run.

use std::time::Instant;

use serde::Serialize;

use crate::build::Build;
use crate::config::{Kernel, Mode, RunConfig};
use crate::error::EngineError;
use crate::gil::{Gil, Ticker};
use crate::heat::kernels;
use crate::program::{self, Program};
use crate::runtime::emulated::MainHost;
use crate::runtime::{CancelToken, run_blocking};
use crate::trace::spans::{Recorder, SpanState};
use gilscope_python::vm::object::{Obj, set_thread_discipline};
use gilscope_python::vm::value::{ArrayObj, Value};
use gilscope_python::vm::{Host, Release, Vm, VmError};

/// A single-threaded host: one GIL, nobody else wants it.
struct BenchHost<'a> {
    gil: &'a Gil,
    rec: Recorder,
    ticker: Ticker,
}

impl Host for BenchHost<'_> {
    fn handle_eval_breaker(&mut self, instructions: u64) -> Result<(), VmError> {
        Ok(self
            .gil
            .handle_eval_breaker(0, &mut self.rec, instructions, &mut self.ticker)?)
    }
    fn tick(&mut self) {}
    fn begin_allow_threads(&mut self, why: Release) {
        self.gil.release(0, &mut self.rec, why.into());
    }
    fn end_allow_threads(&mut self) -> Result<(), VmError> {
        Ok(self.gil.take(0, &mut self.rec)?)
    }
    fn on_state(&mut self, _: &ArrayObj) -> Result<(), VmError> {
        Ok(())
    }
    fn sleep(&mut self, _secs: f64) -> Result<(), VmError> {
        Ok(())
    }
    fn write_stdout(&mut self, _text: &str) {}
}

/// Runs longer than this get a warning before they start.
pub const LONG_RUN_SECS: f64 = 60.0;

/// A forecast of a heat run's wall time from a measurement on this machine: three applications
/// of its kernel on a 30×30 grid (about 2 ms for the python kernel), scaled by the run's cells
/// and by how many workers can run Python at once. `None` for other programs and native mode.
pub fn forecast_secs(cfg: &RunConfig) -> Option<f64> {
    if !cfg.is_heat() || cfg.mode == Mode::Native {
        return None;
    }
    let (secs, _) = time_interpreted_in(cfg.interpreter, cfg.kernel, 30, 3).ok()?;
    let per_cell = secs / (3.0 * 28.0 * 28.0);
    let cells = (cfg.grid.saturating_sub(2) as f64).powi(2) * (cfg.iters * cfg.problems) as f64;
    let gil_bound =
        cfg.kernel == Kernel::Python && cfg.mode == Mode::Threading && cfg.interpreter.has_gil();
    let at_once = if gil_bound {
        1
    } else {
        cfg.threads.min(crate::trace::clock::core_count()).max(1)
    };
    Some(per_cell * cells / at_once as f64)
}

/// Seconds and instructions of `iters` interpreted updates of one `n`×`n` grid.
pub fn time_interpreted(kernel: Kernel, n: usize, iters: usize) -> Result<(f64, u64), EngineError> {
    time_interpreted_in(Build::Gil, kernel, n, iters)
}

/// [`time_interpreted`] on one interpreter variant: its lock, its reference counting.
pub fn time_interpreted_in(
    variant: Build,
    kernel: Kernel,
    n: usize,
    iters: usize,
) -> Result<(f64, u64), EngineError> {
    set_thread_discipline(variant.refcount());
    let r = time_interpreted_on(variant, kernel, n, iters);
    set_thread_discipline(Build::Gil.refcount());
    r
}

fn time_interpreted_on(
    variant: Build,
    kernel: Kernel,
    n: usize,
    iters: usize,
) -> Result<(f64, u64), EngineError> {
    let gil = Gil::for_variant(variant, 5000);
    let mut host = BenchHost {
        gil: &gil,
        rec: Recorder::new(0, None),
        ticker: Ticker::default(),
    };
    gil.take(0, &mut host.rec)?;
    let program = Program::load("heat")?;
    let globals = program.new_globals();
    MainHost::new().with_vm(&globals, |vm| vm.run_module(&program.module.code))?;
    let name = match kernel {
        Kernel::Python => "py_update",
        Kernel::Numpy => "num_update",
        Kernel::Io => "io_update",
        Kernel::Stream => {
            return Err(EngineError::Config(
                "the stream kernel has no Python version to time".to_owned(),
            ));
        }
    };
    let update = program::function(&globals, name)
        .ok_or_else(|| EngineError::Internal(format!("heat.py has no {name}")))?;
    let grid = kernels::initial_grid(n, 1.0);
    let u = Value::Array(Obj::new(ArrayObj::from_fn(n, n, |i, j| grid[[i, j]])));
    let mut vm = Vm::new(&mut host, gil.eval_breaker(), globals);
    let update = Value::Function(update);
    let t = Instant::now();
    for _ in 0..iters {
        vm.call_value(&update, vec![u.clone()])?;
    }
    Ok((t.elapsed().as_secs_f64(), vm.instructions()))
}

fn time_native(n: usize, iters: usize, gauss_seidel: bool) -> f64 {
    let mut u = kernels::initial_grid(n, 1.0);
    let mut s = u.clone();
    let t = Instant::now();
    for _ in 0..iters {
        if gauss_seidel {
            kernels::gauss_seidel_sweep(&mut u);
        } else {
            kernels::jacobi_step(u.view(), s.view_mut());
            std::mem::swap(&mut u, &mut s);
        }
    }
    std::hint::black_box(&u);
    t.elapsed().as_secs_f64()
}

fn time_plain(n: usize, iters: usize) -> f64 {
    let mut a: Vec<f64> = kernels::initial_grid(n, 1.0).iter().copied().collect();
    let mut b = a.clone();
    let t = Instant::now();
    for _ in 0..iters {
        kernels::plain_jacobi_loop(&a, &mut b, n);
        std::mem::swap(&mut a, &mut b);
    }
    std::hint::black_box(&a);
    t.elapsed().as_secs_f64()
}

/// Wall time of `gilscope run --mode native --kernel K --grid 512 --problems 8`: the split the
/// app and the CLI use (each pool thread solves its own chunk of problems).
fn time_native_run(kernel: Kernel, threads: usize) -> Result<f64, EngineError> {
    let cfg = RunConfig {
        mode: Mode::Native,
        kernel,
        threads,
        grid: 512,
        problems: 8,
        iters: if kernel == Kernel::Python { 30 } else { 200 },
        publish_frames: false,
        ..RunConfig::default()
    };
    Ok(run_blocking(&cfg, None, &CancelToken::new())?
        .summary
        .wall_secs)
}

/// Cost per cell of every kernel at one grid size.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    /// Grid side.
    pub grid: usize,
    /// Interpreted `py_update`, ns per cell.
    pub python_ns_per_cell: f64,
    /// Interpreted whole-array `num_update`, ns per cell.
    pub numpy_ns_per_cell: f64,
    /// Native fused Jacobi, ns per cell.
    pub native_ns_per_cell: f64,
    /// Native in-place sweep (stands in for `py_update`), ns per cell.
    pub native_gs_ns_per_cell: f64,
    /// Plain indexed loop, ns per cell.
    pub plain_ns_per_cell: f64,
}

/// All engine figures.
#[derive(Clone, Debug, Serialize)]
pub struct EngineBench {
    /// Per grid size.
    pub kernels: Vec<KernelRow>,
    /// Interpreted instructions per second, as ns per instruction (python kernel, grid 200).
    pub ns_per_instruction: f64,
    /// Instructions per stencil cell of `py_update`.
    pub instructions_per_cell: f64,
    /// `run --mode native --grid 512 --problems 8` (in-place sweep, compute-bound): time on
    /// 1 thread / time on 2.
    pub native_speedup_2_threads: f64,
    /// The same with the Jacobi kernel (`--kernel numpy`, memory-bound): time on 1 / on 2.
    pub native_jacobi_speedup_2_threads: f64,
    /// Cost of recording one span (close, open, read the core), ns.
    pub record_ns_per_span: f64,
    /// Spans recorded per second of worker time in threading:numpy at the source sizes (the
    /// densest trace), and the share of worker time the recording costs there.
    pub numpy_spans_per_worker_sec: f64,
    /// Recording's share of worker time in threading:numpy (source sizes).
    pub numpy_record_share: f64,
    /// Recording's share of worker time in threading:python (source sizes).
    pub python_record_share: f64,
    /// Recording's share of worker time in threading:io (source sizes).
    pub io_record_share: f64,
    /// Time from cancel to the run's end, per mode, ms (mode name, ms).
    pub cancel_ms: Vec<(String, f64)>,
    /// Wall time of threading:python at 2 threads / at 1 (source sizes); ≥ 0.95 expected.
    pub threading_python_ratio_2v1: f64,
    /// Wall time of multiprocessing:python at 1 thread / at 2 (source sizes); ≥ 1.6 expected on 2 free cores.
    pub multiproc_python_speedup_2v1: f64,
    /// `count.py`: wall time with 2 threads / with 1 (0.85–1.15 expected: the GIL).
    pub count_threads_ratio_2v1: f64,
    /// `count.py`: wall time with 1 process / with 2 (≥ 1.6 expected on 2 free cores).
    pub count_procs_speedup_2v1: f64,
    /// `py_update`'s ns per instruction over the hand-assembled interpreter's, measured on
    /// the build VM before the compiler replaced it ([`HAND_ASSEMBLED_NS_PER_INSTRUCTION`]).
    pub ns_per_instruction_vs_hand_assembled: f64,
    /// The interpreter variants' figures.
    pub variants: VariantBench,
    /// The real-CPython runtime's figures, or why they were not measured.
    pub cpython: Result<CpythonBench, String>,
}

/// What observing the real CPython costs, and how the emulation's speed compares with it.
#[derive(Clone, Debug, Serialize)]
pub struct CpythonBench {
    /// The Python measured (`3.11.7`).
    pub python_version: String,
    /// count.py, 2 threads: observed wall time / unobserved (median of 3 each, interleaved);
    /// target ≤ 1.05.
    pub observed_wall_ratio: f64,
    /// The observer thread's CPU over the time it watched (cores).
    pub observer_cpu_share: f64,
    /// The same with 8 threads (count.py, median of 3); target ≤ 0.05.
    pub observer_cpu_share_8_threads: f64,
    /// count.py (N=20M) on one thread: the emulation's wall time over CPython's (unobserved),
    /// best of 3 each, interleaved; target ≤ 1.25.
    pub count_emulated_over_cpython: f64,
    /// heat.py's python kernel at one thread (grid 30, 20 problems): µs per cell, emulated.
    pub emulated_python_us_per_cell: Option<f64>,
    /// The same on the real CPython with NumPy (`None` without NumPy).
    pub cpython_python_us_per_cell: Option<f64>,
}

/// What each interpreter variant costs and gains, each a ratio within one run.
#[derive(Clone, Debug, Serialize)]
pub struct VariantBench {
    /// `py_update` at grid 200 on one thread: free-threaded time / GIL time (biased reference
    /// counting is the extra work; PEP 703 measured ~6%, PEP 779 ~10% for CPython).
    pub free_threaded_single_thread_cost: f64,
    /// The same for the old GIL (a release and re-take every 100 instructions).
    pub legacy_single_thread_cost: f64,
    /// threading:python at the source sizes: GIL build with 1 thread / free-threaded with 2
    /// (≥ 1.6 expected on 2 free cores).
    pub free_threaded_speedup_2_threads: f64,
    /// interpreters:python: 1 interpreter / 2 (≥ 1.6 expected on 2 free cores).
    pub interpreters_speedup_2v1: f64,
    /// `count.py`, 2 threads: GIL releases per second under the old GIL / under 3.11's
    /// (≥ 50 expected).
    pub legacy_release_rate_ratio: f64,
    /// `count.py` under the old GIL: wall(2 threads) / wall(1) (≥ 1 expected: not faster).
    pub legacy_threads_ratio_2v1: f64,
}

/// ns per instruction of `py_update` on the hand-assembled interpreter this compiler replaced
/// (the previous release's `gilscope bench` on the 2-core build VM, 2026-11-23: 6.83 ns).
pub const HAND_ASSEMBLED_NS_PER_INSTRUCTION: f64 = 6.83;

/// Measures the engine figures; takes about half a minute.
pub fn run_engine_bench(
    worker_exe: Option<std::path::PathBuf>,
) -> Result<EngineBench, EngineError> {
    let mut rows = Vec::new();
    for &(n, py_iters, np_iters, nat_iters) in &[
        (30usize, 400usize, 4000usize, 40_000usize),
        (200, 10, 200, 2000),
        (1000, 1, 6, 60),
    ] {
        let cells = ((n - 2) * (n - 2)) as f64;
        let per = |secs: f64, iters: usize| secs * 1e9 / (cells * iters as f64);
        let (py, _) = time_interpreted(Kernel::Python, n, py_iters)?;
        let (np, _) = time_interpreted(Kernel::Numpy, n, np_iters)?;
        rows.push(KernelRow {
            grid: n,
            python_ns_per_cell: per(py, py_iters),
            numpy_ns_per_cell: per(np, np_iters),
            native_ns_per_cell: per(time_native(n, nat_iters, false), nat_iters),
            native_gs_ns_per_cell: per(time_native(n, nat_iters, true), nat_iters),
            plain_ns_per_cell: per(time_plain(n, nat_iters), nat_iters),
        });
    }
    let (secs, instr) = time_interpreted(Kernel::Python, 200, 10)?;
    let cells = (198.0 * 198.0) * 10.0;
    // Best of three for each side: a throughput ratio should not hinge on one noisy slice.
    let best = |kernel, threads| -> Result<f64, EngineError> {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(time_native_run(kernel, threads)?);
        }
        Ok(v.into_iter().fold(f64::INFINITY, f64::min))
    };
    let t1 = best(Kernel::Python, 1)?;
    let t2 = best(Kernel::Python, 2)?;
    let j1 = best(Kernel::Numpy, 1)?;
    let j2 = best(Kernel::Numpy, 2)?;
    let source = |mode: Mode, threads: usize| RunConfig {
        mode,
        kernel: Kernel::Python,
        threads,
        publish_frames: false,
        worker_exe: worker_exe.clone(),
        ..RunConfig::default()
    };
    let wall = |cfg: RunConfig| -> Result<f64, EngineError> {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                run_blocking(&cfg, None, &CancelToken::new())?
                    .summary
                    .wall_secs,
            );
        }
        Ok(crate::measure::sweep::median(&v))
    };
    // Recording cost: a span boundary alternating between two states, nothing else.
    let mut rec = Recorder::new(0, None);
    let n = 1_000_000;
    let t = Instant::now();
    for i in 0..n {
        rec.enter(if i % 2 == 0 {
            SpanState::Python
        } else {
            SpanState::Native
        });
    }
    let record_ns_per_span = t.elapsed().as_secs_f64() * 1e9 / n as f64;
    let share = |cfg: RunConfig| -> Result<(f64, f64), EngineError> {
        let o = run_blocking(&cfg, None, &CancelToken::new())?;
        let worker_secs = o.summary.wall_secs * o.summary.workers.len() as f64;
        let per_sec = o.spans.len() as f64 / worker_secs;
        Ok((per_sec, per_sec * record_ns_per_span / 1e9))
    };
    let (numpy_spans_per_worker_sec, numpy_record_share) = share(RunConfig {
        kernel: Kernel::Numpy,
        threads: 2,
        ..source(Mode::Threading, 2)
    })?;
    let (_, python_record_share) = share(source(Mode::Threading, 2))?;
    let (_, io_record_share) = share(RunConfig {
        kernel: Kernel::Io,
        problems: 20,
        ..source(Mode::Threading, 2)
    })?;
    let mut cancel_ms = Vec::new();
    for mode in Mode::ALL {
        let cfg = RunConfig {
            grid: 200,
            problems: 4,
            iters: 100_000,
            ..source(mode, 2)
        };
        let (sink, stream) = crate::trace::events::channel(100_000, None);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handle = crate::runtime::spawn_job("bench-cancel", move |c| {
            let _ = tx.send(run_blocking(&cfg, Some(&sink), &c).is_err());
        })?;
        // Wait until the workers are computing, then cancel and time the end of the run.
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(crate::trace::events::EngineEvent::Spans { spans, .. }) =
                stream.rx.recv_timeout(std::time::Duration::from_millis(50))
                && spans
                    .iter()
                    .any(|s| s.state == SpanState::Python || s.state == SpanState::Native)
            {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let t = Instant::now();
        handle.cancel();
        let _ = rx.recv_timeout(std::time::Duration::from_secs(30));
        cancel_ms.push((mode.name().to_owned(), t.elapsed().as_secs_f64() * 1e3));
        handle.join();
    }
    let count = |mode: Mode, threads: usize| RunConfig {
        program: "count".to_owned(),
        params: vec![("N".to_owned(), "20000000".to_owned())],
        ..source(mode, threads)
    };
    let c1 = wall(count(Mode::Threading, 1))?;
    let c2 = wall(count(Mode::Threading, 2))?;
    let p1 = wall(count(Mode::Multiprocessing, 1))?;
    let p2 = wall(count(Mode::Multiprocessing, 2))?;
    let th1 = wall(source(Mode::Threading, 1))?;
    let th2 = wall(source(Mode::Threading, 2))?;
    let mp1 = wall(source(Mode::Multiprocessing, 1))?;
    let mp2 = wall(source(Mode::Multiprocessing, 2))?;
    let variants = variant_bench(&source, &count, &wall)?;
    let cpython = cpython_bench(&wall);
    Ok(EngineBench {
        kernels: rows,
        ns_per_instruction: secs * 1e9 / instr as f64,
        instructions_per_cell: instr as f64 / cells,
        native_speedup_2_threads: t1 / t2,
        native_jacobi_speedup_2_threads: j1 / j2,
        record_ns_per_span,
        numpy_spans_per_worker_sec,
        numpy_record_share,
        python_record_share,
        io_record_share,
        cancel_ms,
        threading_python_ratio_2v1: th2 / th1,
        multiproc_python_speedup_2v1: mp1 / mp2,
        count_threads_ratio_2v1: c2 / c1,
        count_procs_speedup_2v1: p1 / p2,
        ns_per_instruction_vs_hand_assembled: secs * 1e9
            / instr as f64
            / HAND_ASSEMBLED_NS_PER_INSTRUCTION,
        variants,
        cpython,
    })
}

fn cpython_bench(
    wall: &dyn Fn(RunConfig) -> Result<f64, EngineError>,
) -> Result<CpythonBench, String> {
    let python = std::env::var("GILSCOPE_BENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let info = crate::runtime::cpython::probe(&python).map_err(|e| e.to_string())?;
    let count = RunConfig {
        threads: 2,
        program: "count".to_owned(),
        params: vec![("N".to_owned(), "20000000".to_owned())],
        runtime: crate::config::Runtime::Cpython,
        python: python.clone(),
        publish_frames: false,
        ..RunConfig::default()
    };
    let (mut observed, mut bare, mut share) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let s = run_blocking(&count, None, &CancelToken::new())
            .map_err(|e| e.to_string())?
            .summary;
        observed.push(s.wall_secs);
        share.push(s.observer.map_or(0.0, |o| o.cpu_share));
        bare.push(
            crate::runtime::cpython::unobserved_wall_secs(&count).map_err(|e| e.to_string())?,
        );
    }
    // The observer's cost grows with the threads it follows: 8 of them, median of 3.
    let eight = RunConfig {
        threads: 8,
        ..count.clone()
    };
    let mut share_8 = Vec::new();
    for _ in 0..3 {
        let s = run_blocking(&eight, None, &CancelToken::new())
            .map_err(|e| e.to_string())?
            .summary;
        share_8.push(s.observer.map_or(0.0, |o| o.cpu_share));
    }
    // count.py at T=1, the emulation against the real interpreter, interleaved, best of 3.
    let one = RunConfig {
        threads: 1,
        ..count.clone()
    };
    let (mut emu_best, mut cpy_best) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let emu_cfg = RunConfig {
            runtime: crate::config::Runtime::Emulated,
            ..one.clone()
        };
        let emu = run_blocking(&emu_cfg, None, &CancelToken::new())
            .map_err(|e| e.to_string())?
            .summary
            .wall_secs;
        emu_best = emu_best.min(emu);
        let cpy = crate::runtime::cpython::unobserved_wall_secs(&one).map_err(|e| e.to_string())?;
        cpy_best = cpy_best.min(cpy);
    }
    let median = crate::measure::sweep::median;
    let (emulated, real) = if info.numpy.is_some() {
        let heat = RunConfig {
            threads: 1,
            problems: 20,
            publish_frames: false,
            ..RunConfig::default()
        };
        let cells = (20 * 30 * 28 * 28) as f64;
        let per_cell = |secs: f64| secs * 1e6 / cells;
        let real_heat = RunConfig {
            runtime: crate::config::Runtime::Cpython,
            python,
            ..heat.clone()
        };
        // Interleaved, best of 3 each, as for count.py.
        let (mut emu, mut cpy) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..3 {
            emu = emu.min(wall(heat.clone()).map_err(|e| e.to_string())?);
            cpy = cpy.min(wall(real_heat.clone()).map_err(|e| e.to_string())?);
        }
        (Some(per_cell(emu)), Some(per_cell(cpy)))
    } else {
        (None, None)
    };
    Ok(CpythonBench {
        python_version: info.version_string(),
        observed_wall_ratio: median(&observed) / median(&bare).max(1e-9),
        observer_cpu_share: median(&share),
        observer_cpu_share_8_threads: median(&share_8),
        count_emulated_over_cpython: emu_best / cpy_best.max(1e-9),
        emulated_python_us_per_cell: emulated,
        cpython_python_us_per_cell: real,
    })
}

fn variant_bench(
    source: &dyn Fn(Mode, usize) -> RunConfig,
    count: &dyn Fn(Mode, usize) -> RunConfig,
    wall: &dyn Fn(RunConfig) -> Result<f64, EngineError>,
) -> Result<VariantBench, EngineError> {
    // Interleaved, best of five: the single-thread costs are a few percent, below the noise of
    // one slice of a shared machine.
    let mut best = [f64::INFINITY; 3];
    for _ in 0..5 {
        for (k, v) in [Build::Gil, Build::FreeThreaded, Build::LegacyGil]
            .into_iter()
            .enumerate()
        {
            best[k] = best[k].min(time_interpreted_in(v, Kernel::Python, 200, 4)?.0);
        }
    }
    let on = |cfg: RunConfig, i: Build| RunConfig {
        interpreter: i,
        ..cfg
    };
    let gil_1 = wall(source(Mode::Threading, 1))?;
    let ft_2 = wall(on(source(Mode::Threading, 2), Build::FreeThreaded))?;
    let in_1 = wall(source(Mode::Interpreters, 1))?;
    let in_2 = wall(source(Mode::Interpreters, 2))?;
    let rate = |cfg: RunConfig| -> Result<(f64, f64), EngineError> {
        let s = run_blocking(&cfg, None, &CancelToken::new())?.summary;
        Ok((s.gil_releases as f64 / s.wall_secs, s.wall_secs))
    };
    let (new_rate, _) = rate(count(Mode::Threading, 2))?;
    let (old_rate, _) = rate(on(count(Mode::Threading, 2), Build::LegacyGil))?;
    let old_1 = wall(on(count(Mode::Threading, 1), Build::LegacyGil))?;
    let old_2 = wall(on(count(Mode::Threading, 2), Build::LegacyGil))?;
    Ok(VariantBench {
        free_threaded_single_thread_cost: best[1] / best[0],
        legacy_single_thread_cost: best[2] / best[0],
        free_threaded_speedup_2_threads: gil_1 / ft_2,
        interpreters_speedup_2v1: in_1 / in_2,
        legacy_release_rate_ratio: old_rate / new_rate.max(1e-9),
        legacy_threads_ratio_2v1: old_2 / old_1,
    })
}
