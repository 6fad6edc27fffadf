//! Live figures of the current or latest run: wall time, speedup, cores busy, GIL counters,
//! and per-worker time, each with a hover explanation.

use super::super::command::Command;
use super::super::session::Session;
use gilscope_engine::config::Series;
use gilscope_engine::trace::summary::RunSummary;

fn row(ui: &mut egui::Ui, name: &str, value: String, help: &str) {
    ui.label(name).on_hover_text(help);
    ui.strong(value).on_hover_text(help);
    ui.end_row();
}

/// The back-row gauge: `1.0 of 2 cores busy`, large.
fn gauge(ui: &mut egui::Ui, busy: f64, cores: usize, what: &str) {
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!("{busy:.1}"))
                .size(34.0)
                .strong(),
        );
        ui.label(egui::RichText::new(format!("of {cores} cores busy")).size(22.0));
    })
    .response
    .on_hover_text(what);
}

/// Draws the figures.
pub fn show(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>) {
    ui.heading("This run");
    if let Some(live) = &session.live {
        let (done, total) = live.progress;
        ui.label(format!(
            "{} · {} workers · {:.1} s so far · {}/{} iterations",
            live.config.series().label_in(&live.config.program),
            live.config.threads,
            live.started.elapsed().as_secs_f64(),
            done,
            total
        ));
        if let Some(t) = &session.timeline {
            gauge(
                ui,
                t.workers_busy(0.5),
                session.cores,
                "Right now: the workers' own time on a core over the last half second (Python, native code, starting processes), not the machine's whole load; the core lanes show that.",
            );
        }
        return;
    }
    if let Some(what) = &session.cancelled {
        ui.label(egui::RichText::new("Cancelled").size(22.0).strong());
        ui.label(what.as_str());
        ui.label("Stopped before the end: no wall time, result or speedup to show.");
        return;
    }
    let Some(s) = &session.last_summary else {
        ui.label("Press Run (F5) or pick a preset.");
        return;
    };
    gauge(
        ui,
        s.cores_used_by_workers(),
        s.cores,
        "The workers' CPU time over the wall time: how many cores they kept busy on average.",
    );
    if let Some(line) = load_warning(s) {
        ui.label(egui::RichText::new(line).color(ui.visuals().warn_fg_color))
            .on_hover_text("What else used the machine during the run, from /proc: the app itself (drawing the window) and every other program. Their cores were not the workers'; close them, or run from the command line, for figures that owe nothing to them.");
    }
    summary_grid(ui, session, s, cmds);
}

/// A line when the app or other programs took more than a tenth of a core during the run:
/// the figures may be low, by up to that share of the machine.
pub fn load_warning(s: &RunSummary) -> Option<String> {
    let wall = s.wall_secs.max(1e-9);
    let (app, other) = (
        s.app_cpu_secs? / wall,
        s.other_cpu_secs.unwrap_or(0.0) / wall,
    );
    if app <= 0.1 && other <= 0.1 {
        return None;
    }
    let share = (app + other) / s.cores.max(1) as f64 * 100.0;
    Some(format!(
        "The figures may be low: during the run the app used {app:.1} cores and other programs \
         {other:.1}, {share:.0}% of the machine."
    ))
}

fn summary_grid(ui: &mut egui::Ui, session: &Session, s: &RunSummary, cmds: &mut Vec<Command>) {
    let series = match (s.mode, s.kernel) {
        (Some(m), Some(k)) => Series::new(m, k).on(s.interpreter),
        _ => return,
    };
    let heat = s.program.is_empty() || s.program == gilscope_engine::config::HEAT;
    if s.program_output.is_some() {
        let processes: std::collections::BTreeSet<u32> = s.workers.iter().map(|w| w.pid).collect();
        ui.label(format!(
            "{}.py as a script · {} thread{} in {} process{} · {}",
            s.program,
            s.workers.len(),
            if s.workers.len() == 1 { "" } else { "s" },
            processes.len(),
            if processes.len() == 1 { "" } else { "es" },
            s.interpreter.label()
        ));
    } else if heat {
        ui.label(format!(
            "{} · {} workers · grid {} · {} problems × {} iterations",
            series.label(),
            s.threads,
            s.grid,
            s.problems,
            s.iters
        ));
    } else {
        ui.label(format!(
            "{} · {} workers · {}()",
            series.label_in(&s.program),
            s.threads,
            s.entry
        ));
    }
    egui::Grid::new("figures").num_columns(2).striped(true).show(ui, |ui| {
        row(ui, "Wall time", format!("{:.3} s", s.wall_secs), "From starting the workers to joining the last one, as time.perf_counter() around blot() would measure.");
        let help = "Wall time of the last 1-thread run like this one (the same program, parameters, runtime, build, kernel and switch interval, on this machine) divided by this one's. Above 1 means the threads helped.";
        match session.baseline_secs(s).filter(|_| s.threads > 1) {
            Some(b) => row(ui, "Speedup vs 1 thread", format!("{:.2}×", b / s.wall_secs), help),
            None => {
                ui.label("Speedup vs 1 thread").on_hover_text(help);
                ui.horizontal_wrapped(|ui| {
                    ui.strong("run 1 thread first").on_hover_text(help);
                    let like = session.last_config.is_some() && s.threads > 1 && !session.busy();
                    if like && ui.small_button("Run 1 thread").on_hover_text("Runs these settings once on one thread; then run this again to see the speedup.").clicked() {
                        cmds.push(Command::RunBaseline);
                    }
                });
                ui.end_row();
            }
        }
        row(
            ui,
            "Cores busy",
            format!("{:.1} of {} cores busy", s.cores_used_by_workers(), s.cores),
            "CPU time of all workers divided by the wall time: how many cores our threads or processes kept busy on average. Pure-Python threads stay near 1 however many threads you add.",
        );
        row(
            ui,
            "Whole machine",
            format!("{:.1} of {} cores busy", s.cores_busy(), s.cores),
            "Mean busy fraction of every core from /proc/stat, summed: everything on the machine, including this window's own drawing.",
        );
        row(ui, "GIL switches", s.gil_switches.to_string(), "Times the GIL passed from one thread to another (CPython's switch_number).");
        if s.python_version.is_none() {
            row(ui, "Drop requests", s.gil_drop_requests.to_string(), "Times a waiting thread timed out after the switch interval and asked the holder to drop the GIL.");
        }
        if let Some(v) = &s.python_version {
            let gil = match s.gil_source.as_deref() {
                Some("observed") => "observed in its memory".to_owned(),
                Some("none") => "none (free-threaded build)".to_owned(),
                _ => format!("not observed: {}", s.gil_source_reason.as_deref().unwrap_or("unknown")),
            };
            row(ui, "Runtime", format!("real CPython {v}"), "The program ran on this Python, unchanged; gilscope watched it from outside.");
            row(ui, "GIL holder", gil, "Read from the interpreter's memory every millisecond (process_vm_readv). Switches are CPython's own switch_number; drop requests and releases are not visible from outside.");
            if let Some(o) = &s.observer {
                row(ui, "Observer", format!("{:.1}% of a core, every {:.0} µs", o.cpu_share * 100.0, o.median_interval_micros), "What watching cost: the observer thread's CPU time over the time it watched, and its median sampling interval.");
            }
        } else {
            row(ui, "GIL releases", if s.gil_enabled { s.gil_releases.to_string() } else { "no GIL".to_owned() }, "Times a holder let the GIL go: on a drop request, around I/O and NumPy work, or (legacy GIL) every 100 bytecodes, whether or not another thread took it.");
            row(ui, "Interpreter", s.interpreter.label().to_owned(), s.interpreter.versions());
        }
        row(ui, "Waiting for the GIL", format!("{:.0}% of worker time", s.gil_wait_share() * 100.0), "Share of all workers' time spent blocked on the GIL instead of working.");
        if s.python_version.is_none() && s.gil_enabled {
            let longest = s.workers.iter().map(|w| w.max_gil_wait_secs).fold(0.0, f64::max);
            row(ui, "Starved waits", format!("{} (longest wait {:.0} ms)", s.gil_starvations, longest * 1e3), "Waits for the GIL longer than 3 switch intervals that never asked for a drop: the holder kept letting go for a moment and taking it back before the waiter woke. Marked with a dark wedge on the worker's lane.");
        }
        if s.instructions > 0 {
            row(ui, "Bytecodes run", format!("{:.1} M", s.instructions as f64 / 1e6), "Instructions the interpreter executed, over all workers.");
        }
        if s.checksum.is_finite() {
            row(ui, "Checksum", format!("{:.9}", s.checksum), "Sum of all cells of all final grids: the same for every mode and thread count.");
        }
        if let Some(result) = s.result.as_object().filter(|_| !heat) {
            for (k, v) in result {
                row(ui, k, v.to_string(), "What the program's report() returned: the same values python3 prints for this program.");
            }
        }
        if s.dropped_events > 0 {
            row(ui, "Dropped spans", s.dropped_events.to_string(), "Trace spans the engine could not keep; times stay exact.");
        }
        for note in &s.notes {
            row(ui, "Stood in for", note.clone(), "What gilscope could not run as the real thing, and how it ran it instead: the times above are the interpreter's.");
        }
    });
    ui.add_space(4.0);
    ui.label("Per worker (seconds)").on_hover_text("Python: running bytecode holding the GIL. Wait: blocked on the GIL. Native: array work or compiled code with the GIL released. I/O: blocked reads. CPU: time the OS gave the worker.");
    egui::Grid::new("workers")
        .num_columns(7)
        .striped(true)
        .show(ui, |ui| {
            for h in ["worker", "id", "python", "wait", "native", "I/O", "CPU"] {
                ui.strong(h);
            }
            ui.end_row();
            for w in s.workers.iter().take(64) {
                ui.label(w.id.to_string());
                ui.label(if s.mode == Some(gilscope_engine::Mode::Multiprocessing) {
                    format!("pid {}", w.pid)
                } else {
                    format!("tid {}", w.tid)
                });
                for v in [
                    w.python_secs,
                    w.gil_wait_secs,
                    w.native_secs,
                    w.io_secs,
                    w.cpu_secs,
                ] {
                    ui.label(format!("{v:.3}"));
                }
                ui.end_row();
            }
        });
}
