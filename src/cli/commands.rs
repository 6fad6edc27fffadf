//! What each subcommand does: glue between the arguments, the engine and the exports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{
    BenchArgs, Cli, Command, DisArgs, ProgramArgs, ReplayArgs, RunArgs, SizeArgs, SweepArgs,
    UsageError, parse_interpreter, parse_kernel, parse_mode, parse_params,
};
use crate::export::atomic::PendingFile;
use crate::export::data;
use gilscope_engine::config::{MAX_THREADS, RunConfig, Series, parse_thread_list};
use gilscope_engine::measure::sweep::{SweepSpec, aggregate, run_sweep};
use gilscope_engine::program::Program;
use gilscope_engine::runtime::run_blocking;
use gilscope_engine::trace::events::SweepPoint;
use gilscope_engine::trace::summary::RunSummary;
use gilscope_python::vm::code::disassemble_recursive;

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    // Commands that run programs stop them on Ctrl-C or SIGTERM, as Stop does in the app.
    if matches!(
        cli.command,
        Some(Command::Run(_) | Command::Sweep(_) | Command::Bench(_) | Command::Lessons(_))
            | Some(Command::Attach(_))
    ) {
        super::interrupt::install().context("cannot take over Ctrl-C")?;
    }
    match cli.command {
        Some(Command::Run(args)) => run(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Dis(args)) => dis(args),
        Some(Command::Lessons(args)) => super::lessons::lessons(args),
        Some(Command::Replay(args)) => replay(args),
        Some(Command::Attach(args)) => attach(args),
        Some(Command::Worker) => Ok(ExitCode::from(
            u8::try_from(gilscope_engine::runtime::emulated::worker_main()).unwrap_or(1),
        )),
        None => crate::gui::launch(crate::gui::LaunchOptions {
            preset: cli.preset,
            lesson: cli.lesson,
            screenshot: cli.screenshot,
            with_sweep: cli.with_sweep,
            sweep_csv: cli.csv,
            summary_json: cli.summary_json,
            size: cli.size,
            presentation: cli.presentation,
            attach: cli.attach,
            tour_minutes: cli.tour,
            program: cli.program,
            runtime: cli.runtime,
        }),
    }
}

fn count(name: &str, v: i64, max: usize) -> Result<usize, UsageError> {
    usize::try_from(v)
        .ok()
        .filter(|&n| n >= 1 && n <= max)
        .ok_or_else(|| UsageError(format!("{name} must be between 1 and {max}, got {v}")))
}

fn millis_to_micros(name: &str, ms: f64, allow_zero: bool) -> Result<u64, UsageError> {
    let ok = ms.is_finite() && (ms > 0.0 || (allow_zero && ms == 0.0)) && ms <= 10_000.0;
    if !ok {
        let lower = if allow_zero { "0" } else { "above 0" };
        return Err(UsageError(format!(
            "{name} must be {lower} and at most 10000 ms, got {ms}"
        )));
    }
    Ok((ms * 1000.0)
        .round()
        .max(if allow_zero { 0.0 } else { 1.0 }) as u64)
}

fn base_config(sizes: &SizeArgs) -> Result<RunConfig, UsageError> {
    Ok(RunConfig {
        grid: usize::try_from(sizes.grid)
            .map_err(|_| UsageError(format!("grid must be at least 3, got {}", sizes.grid)))?,
        problems: count(
            "problems",
            sizes.problems,
            gilscope_engine::config::MAX_PROBLEMS,
        )?,
        iters: count("iters", sizes.iters, gilscope_engine::config::MAX_ITERS)?,
        switch_interval_micros: millis_to_micros(
            "--switch-interval-ms",
            sizes.switch_interval_ms,
            false,
        )?,
        io_wait_micros: millis_to_micros("--io-wait-ms", sizes.io_wait_ms, true)?,
        ..RunConfig::default()
    })
}

/// Opens every output file before any work, so a bad path fails at once and nothing is half-written.
fn prepare(path: &Option<PathBuf>) -> Result<Option<PendingFile>> {
    path.as_deref()
        .map(|p| {
            PendingFile::create(p)
                .map_err(|e| UsageError(format!("cannot write {}: {e}", p.display())))
                .map_err(anyhow::Error::from)
        })
        .transpose()
}

fn commit(
    file: Option<PendingFile>,
    bytes: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Option<PathBuf>> {
    let Some(f) = file else { return Ok(None) };
    let target = f.target().to_path_buf();
    let bytes = bytes().with_context(|| format!("could not render {}", target.display()))?;
    f.commit(&bytes)
        .with_context(|| format!("could not write {}", target.display()))?;
    Ok(Some(target))
}

/// Sets the program, entry and parameters of a configuration, and compiles the program once so
/// that a syntax error or an unknown parameter is reported before any work starts.
fn with_program(mut cfg: RunConfig, p: &ProgramArgs) -> Result<RunConfig> {
    cfg.program = p.program.trim().to_owned();
    cfg.python = p.python.clone();
    cfg.entry = p.entry.clone();
    cfg.params = parse_params(&p.param)?;
    if cfg.is_script() {
        // A plain script runs as `python FILE` would: its own `__main__`, no entry function.
        if cfg.entry.is_some() {
            return Err(UsageError(format!(
                "{} is a plain script (it has no ENTRY): --entry applies to gilscope's programs only",
                cfg.program
            ))
            .into());
        }
        // `--param NT=4` rewrites an UPPERCASE constant: checked here where gilscope can
        // compile the file, else by the real Python when it starts.
        if !cfg.params.is_empty()
            && let Ok(program) = Program::load(&cfg.program)
        {
            program.with_script_params(&cfg.params)?;
        }
        return Ok(cfg);
    }
    let program = Program::load(&cfg.program)?;
    program.parse_params(&cfg.params)?;
    let cfg = cfg.with_heat_params()?;
    if let Some(e) = &cfg.entry
        && program.module.function(e).is_none()
    {
        return Err(UsageError(format!("{} has no function {e} (--entry)", program.file)).into());
    }
    Ok(cfg)
}

fn dis(args: DisArgs) -> Result<ExitCode> {
    let program = Program::load(&args.file)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", disassemble_recursive(&program.module.code))?;
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let cfg = RunConfig {
        mode: parse_mode(&args.mode)?,
        kernel: parse_kernel(&args.kernel)?,
        interpreter: parse_interpreter(&args.interpreter)?,
        runtime: args
            .runtime
            .parse()
            .map_err(|e: gilscope_engine::EngineError| UsageError(e.to_string()))?,
        threads: count("threads", args.threads, MAX_THREADS)?,
        publish_frames: args.exports.grid_png.is_some() || args.record.is_some(),
        ..base_config(&args.sizes)?
    };
    let cfg = with_program(cfg, &args.program)?;
    cfg.validate()?;
    if args.exports.grid_png.is_some() && !cfg.is_heat() {
        return Err(UsageError(format!(
            "--grid-png draws heat.py's grids; {} has none",
            cfg.program
        ))
        .into());
    }
    let mut outputs = args.exports.named().to_vec();
    outputs.push(("--record", args.record.as_deref()));
    let mut out = report_stream(args.json, &outputs)?;
    let files = RunFiles::open(&args.exports)?;
    let record = prepare(&args.record)?;

    let outcome;
    let grids;
    let mut recorded = None;
    if record.is_some() {
        // The recorder drains the events and keeps each worker's frames as they change.
        let (sink, stream) = gilscope_engine::trace::events::channel(4096, None);
        let collector = crate::recording::capture::FrameCollector::start(stream)
            .context("could not start the recorder")?;
        outcome = run_blocking(&cfg, Some(&sink), &super::interrupt::token())?;
        let run =
            crate::recording::RecordedRun::new(&cfg, &outcome, collector.finish(outcome.start_ns));
        grids = run.final_frames();
        recorded = Some(run);
    } else {
        let frames = args
            .exports
            .grid_png
            .is_some()
            .then(|| gilscope_engine::trace::events::channel(64, None));
        outcome = run_blocking(
            &cfg,
            frames.as_ref().map(|(s, _)| s),
            &super::interrupt::token(),
        )?;
        grids = frames.map_or_else(Vec::new, |(_, stream)| {
            stream.frames.snapshot().1.into_iter().flatten().collect()
        });
    }
    let mut written = files.write(&outcome, &grids)?;
    if let Some(run) = recorded {
        let mut rec = crate::recording::Recording::new(&python_of(&outcome.summary));
        rec.runs.push(run);
        written.extend(commit(record, || Ok(rec.to_bytes()?))?);
    }

    if let Some(po) = &outcome.summary.program_output {
        return finish_script(args.json, po, &outcome.summary, &written);
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&outcome.summary)?)?;
    } else {
        print_summary(&mut out, &outcome.summary)?;
        for p in &written {
            writeln!(out, "wrote {}", p.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Ends a script's run as python3 would end it: its output on standard output and standard
/// error, its exit status as gilscope's; gilscope's own report goes to standard error after it
/// (with `--json`, the one JSON object is standard output and holds the script's output).
fn finish_script(
    json: bool,
    po: &gilscope_engine::trace::summary::ProgramOutput,
    summary: &RunSummary,
    written: &[PathBuf],
) -> Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    if json {
        writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string(summary)?
        )?;
    } else {
        std::io::stdout().lock().write_all(po.stdout.as_bytes())?;
        err.write_all(po.stderr.as_bytes())?;
        if po.dropped_bytes > 0 {
            writeln!(
                err,
                "gilscope: {} bytes of the script's output were not kept",
                po.dropped_bytes
            )?;
        }
        writeln!(
            err,
            "--- gilscope: {}.py exited with status {}",
            summary.program, po.exit_code
        )?;
        print_summary(&mut err, summary)?;
        for p in written {
            writeln!(err, "wrote {}", p.display())?;
        }
    }
    Ok(ExitCode::from(po.exit_code.clamp(0, 255) as u8))
}

fn attach(args: super::AttachArgs) -> Result<ExitCode> {
    if !(args.duration_secs > 0.0 && args.duration_secs <= 24.0 * 3600.0) {
        return Err(UsageError(format!(
            "--duration-secs must be above 0 and at most a day, got {}",
            args.duration_secs
        ))
        .into());
    }
    let outcome = gilscope_engine::runtime::cpython::attach(
        gilscope_engine::runtime::next_run_id(),
        args.pid,
        args.duration_secs,
        None,
        &super::interrupt::token(),
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&outcome.summary)?)?;
    } else {
        print_summary(&mut out, &outcome.summary)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The readable summary of a run.
pub fn print_summary(out: &mut impl Write, s: &RunSummary) -> std::io::Result<()> {
    let series = Series::new(
        s.mode.unwrap_or(gilscope_engine::Mode::Threading),
        s.kernel.unwrap_or(gilscope_engine::Kernel::Python),
    )
    .on(s.interpreter);
    if let Some(pid) = s.attached_pid {
        let processes: std::collections::BTreeSet<u32> = s.workers.iter().map(|w| w.pid).collect();
        writeln!(
            out,
            "pid {pid}, attached: {} threads in {} process(es), watched for {:.1} s",
            s.workers.len(),
            processes.len(),
            s.wall_secs
        )?;
    } else if s.program_output.is_some() {
        let processes: std::collections::BTreeSet<u32> = s.workers.iter().map(|w| w.pid).collect();
        writeln!(
            out,
            "{}.py as a script: {} thread{} in {} {}",
            s.program,
            s.workers.len(),
            if s.workers.len() == 1 { "" } else { "s" },
            processes.len(),
            if processes.len() == 1 {
                "process"
            } else {
                "processes"
            }
        )?;
    } else if s.program.is_empty() || s.program == gilscope_engine::config::HEAT {
        writeln!(
            out,
            "{} ({}): {} workers, grid {}, {} problems x {} iterations, switch interval {} ms",
            series.label(),
            series.spec(),
            s.threads,
            s.grid,
            s.problems,
            s.iters,
            s.switch_interval_ms
        )?;
    } else {
        writeln!(
            out,
            "{}.py, {}() with {} workers in {} mode, switch interval {} ms",
            s.program, s.entry, s.threads, series.mode, s.switch_interval_ms
        )?;
    }
    match &s.python_version {
        Some(v) => writeln!(
            out,
            "  runtime        real CPython {v}{}, observed from outside",
            if s.python_gil_enabled == Some(false) {
                " (free-threaded)"
            } else {
                ""
            }
        )?,
        None => writeln!(
            out,
            "  interpreter    {} ({})",
            s.interpreter.label(),
            s.interpreter.versions()
        )?,
    }
    writeln!(out, "  wall time      {:.3} s", s.wall_secs)?;
    if s.program_output.is_none() && s.attached_pid.is_none() {
        writeln!(out, "  result         {}", s.result)?;
    }
    let per_core: Vec<String> = s
        .core_busy
        .iter()
        .map(|b| format!("{:.0}%", b * 100.0))
        .collect();
    writeln!(
        out,
        "  cores busy     {:.2} of {} by the workers (their CPU time / wall time)",
        s.cores_used_by_workers(),
        s.cores
    )?;
    writeln!(
        out,
        "  machine busy   {:.2} of {} ({})",
        s.cores_busy(),
        s.cores,
        per_core.join(", ")
    )?;
    if s.runtime == gilscope_engine::config::Runtime::Cpython {
        match s.gil_source.as_deref() {
            Some("observed") => writeln!(
                out,
                "  GIL            observed in its memory: {} switches (CPython's switch_number)",
                s.gil_switches
            )?,
            Some("none") => writeln!(
                out,
                "  GIL            none (free-threaded build): threads run Python in parallel"
            )?,
            _ => writeln!(
                out,
                "  GIL            not observed: {}",
                s.gil_source_reason.as_deref().unwrap_or("unknown")
            )?,
        }
        if let Some(o) = &s.observer {
            writeln!(
                out,
                "  observer       {} samples, median every {:.0} µs, {:.1}% of a core",
                o.samples,
                o.median_interval_micros,
                o.cpu_share * 100.0
            )?;
        }
    } else if s.gil_enabled {
        writeln!(
            out,
            "  GIL switches   {}   drop requests {}   releases {}   starved waits {}",
            s.gil_switches, s.gil_drop_requests, s.gil_releases, s.gil_starvations
        )?;
    } else {
        writeln!(
            out,
            "  GIL            none: the workers ran bytecode in parallel"
        )?;
    }
    if s.runtime == gilscope_engine::config::Runtime::Emulated {
        writeln!(out, "  instructions   {}", s.instructions)?;
    }
    if s.dropped_events > 0 {
        writeln!(
            out,
            "  dropped spans  {} (timings stay exact)",
            s.dropped_events
        )?;
    }
    for note in &s.notes {
        writeln!(out, "  note           {note}")?;
    }
    // The real CPython's observer names one more state: a single sample on a core without the
    // GIL right after holding or waiting for it (the hand-off, or native work's first moment).
    let observed = s.runtime == gilscope_engine::config::Runtime::Cpython;
    writeln!(
        out,
        "  worker      pid   python  gil-wait    native{}        io      lock  start+ipc       cpu  name",
        if observed { "  hand-off" } else { "" }
    )?;
    for w in &s.workers {
        let handoff = if observed {
            format!(" {:>9.3}", w.handoff_secs)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:>6} {:>8} {:>8.3} {:>9.3} {:>9.3}{handoff} {:>9.3} {:>9.3} {:>10.3} {:>9.3}  {}",
            w.id,
            w.pid,
            w.python_secs,
            w.gil_wait_secs,
            w.native_secs,
            w.io_secs,
            w.lock_wait_secs,
            w.spawn_secs + w.ipc_secs,
            w.cpu_secs,
            w.name.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

fn parse_series(list: &str) -> Result<Vec<Series>, UsageError> {
    let v: Result<Vec<Series>, _> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Series>().map_err(|e| UsageError(e.to_string())))
        .collect();
    let v = v?;
    if v.is_empty() {
        return Err(UsageError(format!("no series in '{list}'")));
    }
    Ok(v)
}

/// Parses `emulated,cpython`.
fn parse_runtime_list(s: &str) -> Result<Vec<gilscope_engine::config::Runtime>, UsageError> {
    gilscope_engine::names::parse_name_list(s, "--runtime needs emulated, cpython or both")
        .map_err(|e| UsageError(e.to_string()))
}

fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let base = RunConfig {
        publish_frames: false,
        ..base_config(&args.sizes)?
    };
    let base = with_program(base, &args.program)?;
    let heat = base.is_heat();
    let script = base.is_script();
    let mut spec = SweepSpec::default_for(base);
    if script {
        // A script starts its own workers: one series per build and runtime, its thread
        // count set through the constant it reads.
        let Some(name) = &args.thread_param else {
            return Err(UsageError(format!(
                "{} is a plain script: it starts its own threads, so name the UPPERCASE constant \
                 that sets how many with --thread-param (e.g. --thread-param NT)",
                spec.base.program
            ))
            .into());
        };
        if let Ok(program) = gilscope_engine::program::Program::load(&spec.base.program) {
            program.with_script_params(&[(name.clone(), "1".to_owned())])?;
        }
        spec.thread_param = Some(name.clone());
        spec.series = vec![Series::new(
            gilscope_engine::Mode::Threading,
            gilscope_engine::Kernel::Python,
        )];
    } else if args.thread_param.is_some() {
        return Err(UsageError(
            "--thread-param applies to plain scripts; gilscope's programs take their thread count from --threads"
                .to_owned(),
        )
        .into());
    }
    if !heat && !script {
        // Other programs have no kernel and no native version: threads against processes.
        spec.series = vec![
            Series::new(
                gilscope_engine::Mode::Threading,
                gilscope_engine::Kernel::Python,
            ),
            Series::new(
                gilscope_engine::Mode::Multiprocessing,
                gilscope_engine::Kernel::Python,
            ),
        ];
    }
    if let Some(list) = &args.series {
        spec.series = parse_series(list)?;
    }
    let interpreters = gilscope_engine::build::parse_interpreter_list(&args.interpreter)
        .map_err(|e| UsageError(e.to_string()))?;
    spec.series = interpreters
        .iter()
        .flat_map(|&i| spec.series.iter().map(move |s| s.on(i)))
        .filter(|s| s.mode != gilscope_engine::Mode::Native || s.interpreter == interpreters[0])
        .collect();
    let runtimes = parse_runtime_list(&args.runtime)?;
    spec.series = runtimes
        .iter()
        .flat_map(|&r| spec.series.iter().map(move |s| s.in_runtime(r)))
        // CPython runs threads and processes of the default build; the rest is the emulation's.
        .filter(|s| {
            s.runtime == gilscope_engine::config::Runtime::Emulated
                || (matches!(
                    s.mode,
                    gilscope_engine::Mode::Threading | gilscope_engine::Mode::Multiprocessing
                ) && s.interpreter == gilscope_engine::build::Build::Gil)
        })
        .collect();
    if let Some(t) = &args.threads {
        spec.threads = parse_thread_list(t).map_err(|e| UsageError(e.to_string()))?;
    }
    spec.repeats = count("repeats", args.repeats, 100)?;
    spec.validate()?;
    if spec
        .series
        .iter()
        .any(|s| s.runtime == gilscope_engine::config::Runtime::Cpython)
    {
        // A missing or unusable Python fails here, before any run.
        gilscope_engine::runtime::cpython::probe(&spec.base.python)?;
    }
    let mut outputs = args.exports.named().to_vec();
    outputs.push(("--record", args.record.as_deref()));
    let mut out = report_stream(false, &outputs)?;
    let files = SweepFiles::open(&args.exports)?;
    let record = prepare(&args.record)?;

    let total = spec.total_runs();
    let t0 = std::time::Instant::now();
    let mut done = 0;
    let points = run_sweep(&spec, None, &super::interrupt::token(), |p| {
        done += 1;
        eprintln!(
            "[{done}/{total}] {:<18} threads {:>3}  repeat {}  {:.3} s",
            p.label(),
            p.threads,
            p.repeat + 1,
            p.wall_secs
        );
    })
    .context("the sweep failed")?;

    let stats = aggregate(&points);
    print_sweep_table(&mut out, &spec.threads, &stats)?;
    let cores = gilscope_engine::trace::clock::core_count();
    let mut written = files.write(&spec, &points, cores)?;
    written.extend(commit(record, || {
        let mut rec = crate::recording::Recording::new("emulated CPython 3.11");
        rec.sweep = Some(crate::recording::RecordedSweep {
            spec: SweepSpec {
                base: RunConfig {
                    worker_exe: None,
                    ..spec.base.clone()
                },
                ..spec.clone()
            },
            points: points.clone(),
            wall_secs: t0.elapsed().as_secs_f64(),
        });
        Ok(rec.to_bytes()?)
    })?);
    for p in &written {
        writeln!(out, "wrote {}", p.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the readable report goes. Normally stdout; when an output file is `-`, stdout carries
/// that file alone and the report goes to stderr. Two outputs at `-`, or `--json` beside one,
/// would mix on stdout and are refused before any work.
fn report_stream(
    json: bool,
    outputs: &[(&str, Option<&Path>)],
) -> Result<Box<dyn Write>, UsageError> {
    let to_stdout: Vec<&str> = outputs
        .iter()
        .filter(|(_, p)| p.is_some_and(|p| p.as_os_str() == "-"))
        .map(|(flag, _)| *flag)
        .collect();
    match to_stdout.as_slice() {
        [] => Ok(Box::new(std::io::stdout().lock())),
        [flag] if json => Err(UsageError(format!(
            "--json and {flag} - both want standard output; give {flag} a file"
        ))),
        [_] => Ok(Box::new(std::io::stderr().lock())),
        [a, b, ..] => Err(UsageError(format!(
            "{a} - and {b} - both want standard output; give one of them a file"
        ))),
    }
}

impl super::RunExports {
    /// Each flag with its path.
    fn named(&self) -> [(&'static str, Option<&Path>); 4] {
        [
            ("--trace", self.trace.as_deref()),
            ("--timeline-png", self.timeline_png.as_deref()),
            ("--timeline-svg", self.timeline_svg.as_deref()),
            ("--grid-png", self.grid_png.as_deref()),
        ]
    }
}

impl super::SweepExports {
    /// Each flag with its path.
    fn named(&self) -> [(&'static str, Option<&Path>); 3] {
        [
            ("--csv", self.csv.as_deref()),
            ("--png", self.png.as_deref()),
            ("--svg", self.svg.as_deref()),
        ]
    }
}

/// A run's export files, opened before the run so a bad path fails before any work.
struct RunFiles {
    trace: Option<PendingFile>,
    timeline_png: Option<PendingFile>,
    timeline_svg: Option<PendingFile>,
    grid_png: Option<PendingFile>,
}

impl RunFiles {
    fn open(e: &super::RunExports) -> Result<Self> {
        Ok(Self {
            trace: prepare(&e.trace)?,
            timeline_png: prepare(&e.timeline_png)?,
            timeline_svg: prepare(&e.timeline_svg)?,
            grid_png: prepare(&e.grid_png)?,
        })
    }

    /// Writes the files asked for (the same drawing as the app's Export buttons).
    fn write(
        self,
        outcome: &gilscope_engine::trace::summary::RunOutcome,
        grids: &[gilscope_engine::trace::events::GridFrame],
    ) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        written.extend(commit(self.trace, || {
            Ok(data::chrome_trace_json(outcome).into_bytes())
        })?);
        let timeline = crate::view::timeline::TimelineModel::from_outcome(outcome);
        written.extend(commit(self.timeline_png, || {
            crate::export::plots::timeline_png(&timeline, &outcome.summary)
        })?);
        written.extend(commit(self.timeline_svg, || {
            crate::export::plots::timeline_svg(&timeline, &outcome.summary)
        })?);
        written.extend(commit(self.grid_png, || {
            crate::export::plots::grid_png(grids, &outcome.summary)
        })?);
        Ok(written)
    }
}

/// A sweep's export files, opened before the sweep.
struct SweepFiles {
    csv: Option<PendingFile>,
    png: Option<PendingFile>,
    svg: Option<PendingFile>,
    speedup: bool,
}

impl SweepFiles {
    fn open(e: &super::SweepExports) -> Result<Self> {
        Ok(Self {
            csv: prepare(&e.csv)?,
            png: prepare(&e.png)?,
            svg: prepare(&e.svg)?,
            speedup: e.speedup,
        })
    }

    /// Writes the files asked for.
    fn write(self, spec: &SweepSpec, points: &[SweepPoint], cores: usize) -> Result<Vec<PathBuf>> {
        let stats = aggregate(points);
        let title = crate::export::plots::sweep_title(spec, self.speedup);
        let mut written = Vec::new();
        written.extend(commit(self.csv, || {
            Ok(data::sweep_csv(points).into_bytes())
        })?);
        written.extend(commit(self.png, || {
            crate::export::plots::sweep_png(&stats, &title, self.speedup, cores)
        })?);
        written.extend(commit(self.svg, || {
            crate::export::plots::sweep_svg(&stats, &title, self.speedup, cores)
        })?);
        Ok(written)
    }
}

/// The Python a run used, for the recording's machine line.
fn python_of(s: &RunSummary) -> String {
    match &s.python_version {
        Some(v) => format!("CPython {v}"),
        None => "emulated CPython 3.11".to_owned(),
    }
}

/// Prints the sweep table: median wall time per series and thread count, with speedups.
fn print_sweep_table(
    out: &mut impl Write,
    threads: &[usize],
    stats: &[gilscope_engine::measure::sweep::SeriesStats],
) -> std::io::Result<()> {
    writeln!(
        out,
        "median wall time in seconds (speedup against 1 thread of the same series)"
    )?;
    write!(out, "{:<18}", "series")?;
    for t in threads {
        write!(out, "{:>16}", format!("{t} thr"))?;
    }
    writeln!(out)?;
    for s in stats {
        write!(out, "{:<18}", s.label())?;
        for p in &s.points {
            let sp = p.speedup.map_or(String::new(), |x| format!(" ({x:.2}x)"));
            write!(out, "{:>16}", format!("{:.3}{sp}", p.median_secs))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let rec =
        crate::recording::Recording::load(&args.file).map_err(|e| UsageError(e.to_string()))?;
    let run = rec.last_run();
    let (r, w) = (&args.run_exports, &args.sweep_exports);
    let wants_run = [&r.trace, &r.timeline_png, &r.timeline_svg, &r.grid_png];
    if run.is_none() && wants_run.iter().any(|p| p.is_some()) {
        return Err(UsageError(format!(
            "{} holds a sweep and no run: --trace, --timeline-png, --timeline-svg and --grid-png need a run",
            args.file.display()
        ))
        .into());
    }
    if rec.sweep.is_none() && [&w.csv, &w.png, &w.svg].iter().any(|p| p.is_some()) {
        return Err(UsageError(format!(
            "{} holds no sweep: --csv, --png and --svg need one",
            args.file.display()
        ))
        .into());
    }
    let mut outputs = r.named().to_vec();
    outputs.extend(w.named());
    let mut out = report_stream(args.json, &outputs)?;
    let run_files = RunFiles::open(r)?;
    let sweep_files = SweepFiles::open(w)?;
    let mut written = Vec::new();
    if let Some(run) = run {
        written.extend(run_files.write(&run.outcome(), &run.final_frames())?);
    }
    if !args.json {
        writeln!(out, "recorded on {}", rec.machine.line())?;
    }
    for r in &rec.runs {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&r.summary)?)?;
        } else {
            print_summary(&mut out, &r.summary)?;
        }
    }
    if let Some(sweep) = &rec.sweep {
        if !args.json {
            print_sweep_table(&mut out, &sweep.spec.threads, &aggregate(&sweep.points))?;
        }
        written.extend(sweep_files.write(&sweep.spec, &sweep.points, rec.machine.cores)?);
    }
    if !args.json {
        for p in &written {
            writeln!(out, "wrote {}", p.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(args: BenchArgs) -> Result<ExitCode> {
    let report = super::bench::run()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        super::bench::print(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}
