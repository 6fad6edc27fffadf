//! The control panel: presets, mode, kernel, sizes, Run/Stop, and the sweep.

use super::super::command::Command;
use super::super::session::Session;
use super::super::settings::Settings;
use super::teach::interpreter_text;
use super::{labelled, number_field};
use crate::view::presets::Preset;
use gilscope_engine::build::Build;
use gilscope_engine::config::{Kernel, Mode, Runtime, Series};

/// Series a sweep can measure.
const SWEEPABLE: [(Mode, Kernel); 8] = [
    (Mode::Interpreters, Kernel::Python),
    (Mode::Threading, Kernel::Python),
    (Mode::Threading, Kernel::Numpy),
    (Mode::Multiprocessing, Kernel::Numpy),
    (Mode::Multiprocessing, Kernel::Python),
    (Mode::Native, Kernel::Numpy),
    (Mode::Threading, Kernel::Io),
    (Mode::Native, Kernel::Python),
];

fn mode_help(m: Mode) -> &'static str {
    match m {
        Mode::Threading => "OS threads in one process sharing one GIL (Python's threading module).",
        Mode::Multiprocessing => {
            "Real child processes, each with its own GIL (Python's multiprocessing module)."
        }
        Mode::Native => {
            "Compiled code on a thread pool with no GIL (what a C extension or free-threaded Python gets)."
        }
        Mode::Interpreters => {
            "One thread per subinterpreter in one process, each with its own GIL and globals (PEP 684, 3.12+; concurrent.interpreters, 3.14)."
        }
    }
}

fn kernel_help(k: Kernel) -> &'static str {
    match k {
        Kernel::Python => {
            "py_update: a pure-Python loop over every cell; holds the GIL all the time."
        }
        Kernel::Numpy => "num_update: whole-array NumPy operations; each releases the GIL inside.",
        Kernel::Io => "A blocking read that releases the GIL, a little Python, then num_update.",
        Kernel::Stream => {
            "Native only: the STREAM triad a = b + 3·c over arrays far larger than the cache; memory-bound."
        }
    }
}

/// Draws the controls.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &Session,
    cmds: &mut Vec<Command>,
) {
    let busy = session.busy();
    ui.heading("Presets");
    ui.horizontal_wrapped(|ui| {
        for (i, p) in Preset::ALL.into_iter().enumerate() {
            let r = ui
                .add_enabled(!busy, egui::Button::new(p.label()))
                .on_hover_text(format!("Key {}: {}", i + 1, preset_help(p)));
            if r.clicked() {
                cmds.push(Command::ApplyPreset(p));
            }
        }
    });
    ui.separator();
    ui.heading("Run");
    ui.add_enabled_ui(!busy, |ui| {
        ui.label("Mode (keys Left / Right)");
        ui.horizontal_wrapped(|ui| {
            for m in Mode::ALL {
                ui.selectable_value(&mut settings.run.mode, m, m.name()).on_hover_text(mode_help(m));
            }
        });
        ui.label("Runtime");
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut settings.run.runtime, Runtime::Emulated, "emulated")
                .on_hover_text("gilscope's bytecode interpreter under its emulated GIL: every bytecode, checkpoint and GIL hand-off happens in gilscope.");
            ui.selectable_value(&mut settings.run.runtime, Runtime::Cpython, "real CPython")
                .on_hover_text("The same .py file on the Python below, observed from outside: /proc every millisecond for states and cores, and the GIL holder read from the interpreter's memory.");
        });
        if settings.run.runtime == Runtime::Cpython {
            labelled(ui, "Python", |ui| {
                ui.add(egui::TextEdit::singleline(&mut settings.run.python).desired_width(140.0))
            })
            .on_hover_text("The interpreter to run: python3, a path, or python3.13t for a free-threaded build.");
        }
        ui.label("Interpreter");
        ui.horizontal_wrapped(|ui| {
            for i in Build::ALL {
                ui.selectable_value(&mut settings.run.interpreter, i, i.name())
                    .on_hover_text(format!("{}: {}", i.versions(), interpreter_text(i)));
            }
        });
        let max_threads = (4 * session.cores).clamp(8, 64);
        number_field(ui, "Threads", &mut settings.run.threads, 1, max_threads)
            .on_hover_text("Workers: threads, or processes in multiprocessing mode (NT in the source).");
        let heat = settings.run.is_heat();
        if heat {
            ui.label("Kernel (keys Up / Down)");
            ui.horizontal_wrapped(|ui| {
                for k in Kernel::ALL {
                    ui.selectable_value(&mut settings.run.kernel, k, k.name()).on_hover_text(kernel_help(k));
                }
            });
        number_field(ui, "Grid N", &mut settings.run.grid, 3, 2000)
            .on_hover_text("Each problem is an N×N grid (the source uses 30).");
        number_field(ui, "Problems", &mut settings.run.problems, 1, 2000)
            .on_hover_text("Problems split over the workers like numpy.array_split (the source uses 100).");
        number_field(ui, "Iterations", &mut settings.run.iters, 1, 2000)
            .on_hover_text("Kernel applications per problem (the source uses 30).");
        }
        let mut ms = settings.run.switch_interval_micros as f64 / 1000.0;
        number_field(ui, "Switch interval (ms)", &mut ms, 0.1, 100.0)
            .on_hover_text("sys.setswitchinterval: how long a waiting thread sleeps before it asks the holder to drop the GIL (CPython: 5 ms).");
        settings.run.switch_interval_micros = (ms * 1000.0).round() as u64;
        if heat && settings.run.kernel == Kernel::Io {
            let mut io = settings.run.io_wait_micros as f64 / 1000.0;
            labelled(ui, "I/O wait (ms)", |ui| ui.add(egui::DragValue::new(&mut io).range(0.0..=100.0).speed(0.1)))
                .on_hover_text("How long each blocking read waits.");
            settings.run.io_wait_micros = (io * 1000.0).round() as u64;
        }
    });
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let run = ui.add_enabled(
            !busy,
            egui::Button::new(egui::RichText::new("Run").size(18.0).strong()),
        );
        if run.on_hover_text("F5 or Ctrl+R").clicked() {
            cmds.push(Command::Run);
        }
        let stop = ui.add_enabled(
            busy,
            egui::Button::new(egui::RichText::new("Stop").size(18.0).strong()),
        );
        if stop.on_hover_text("Esc").clicked() {
            cmds.push(Command::Stop);
        }
    });
    ui.checkbox(&mut settings.repeat_runs, "Repeat until Stop")
        .on_hover_text("Start the run again each time it ends, so the picture stays live while you explain it. Stop (Esc) ends the loop. Each run is measured on its own.");
    ui.separator();
    ui.heading("Sweep: time vs threads");
    ui.add_enabled_ui(!busy, |ui| {
        let heat = settings.run.is_heat();
        // Other programs have no kernel and no native version: one line per mode.
        for (m, k) in SWEEPABLE
            .into_iter()
            .filter(|&(m, k)| heat || (k == Kernel::Python && m != Mode::Native))
        {
            let s = Series::new(m, k);
            let mut on = settings.sweep_series.contains(&s);
            if ui
                .checkbox(&mut on, s.label_in(&settings.run.program))
                .on_hover_text(format!("{}: {} {}", s.spec(), mode_help(m), kernel_help(k)))
                .changed()
            {
                if on {
                    settings.sweep_series.push(s);
                } else {
                    settings.sweep_series.retain(|x| *x != s);
                }
            }
        }
        ui.label("On interpreters").on_hover_text(
            "Each ticked series is measured on each ticked interpreter build: one line per pair.",
        );
        ui.horizontal_wrapped(|ui| {
            for i in Build::ALL {
                let mut on = settings.sweep_interpreters.contains(&i);
                if ui
                    .checkbox(&mut on, i.name())
                    .on_hover_text(i.versions())
                    .changed()
                {
                    if on {
                        settings.sweep_interpreters.push(i);
                    } else {
                        settings.sweep_interpreters.retain(|x| *x != i);
                    }
                }
            }
        });
        labelled(ui, "Up to threads", |ui| {
            ui.add(egui::DragValue::new(&mut settings.sweep_max_threads).range(1..=64))
        })
        .on_hover_text("The sweep measures 1, 2, … up to this many workers.");
        labelled(ui, "Repeats", |ui| {
            ui.add(egui::DragValue::new(&mut settings.sweep_repeats).range(1..=20))
        })
        .on_hover_text("Runs per point; the plot shows their median and spread.");
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!busy, egui::Button::new("Run sweep"))
            .clicked()
        {
            cmds.push(Command::RunSweep);
        }
        if ui
            .add_enabled(
                !busy && !session.sweep_points.is_empty(),
                egui::Button::new("Clear"),
            )
            .clicked()
        {
            cmds.push(Command::ClearSweep);
        }
        if ui
            .add_enabled(!busy, egui::Button::new("Compare with real Python"))
            .on_hover_text("Runs the ticked threading and multiprocessing series on the real CPython too: its lines are dashed, in the same colours.")
            .clicked()
        {
            cmds.push(Command::CompareWithCpython);
        }
    });
    ui.separator();
    ui.collapsing("Keyboard", |ui| {
        ui.label("F5 or Ctrl+R: run\nEsc: stop\nLeft / Right: mode\nUp / Down: kernel\n1 to 9: the first nine presets\nF: fit timeline\nL: follow live\nP: pause timeline");
    });
}

fn preset_help(p: Preset) -> &'static str {
    match p {
        Preset::ThreadingPurePy => {
            "Pure-Python threads: one core busy, the rest idle; more threads never help."
        }
        Preset::ThreadingNumpy => {
            "NumPy threads: the GIL is released inside array operations, so cores overlap."
        }
        Preset::MultiprocNumpy => "Processes with NumPy: every process has its own GIL.",
        Preset::CountLoop => {
            "count.py, seed 001's count loop: 2 threads are not faster (0.89x); 4 processes are (3.57x on 4 cores)."
        }
        Preset::BankRace => {
            "bank.py, seed 003: threads lose deposits when a switch falls between read and write. The GIL protects the interpreter, not your data."
        }
        Preset::Downloads => {
            "download.py, seed 001: four blocking waits overlap on four threads (3.64x)."
        }
        Preset::NumpyDot => {
            "dot.py, seed 001: np.dot releases the GIL, so threads multiply at the same time."
        }
        Preset::IoThreads => "Threads that mostly wait for I/O: threading works well here.",
        Preset::Native => "Compiled code on all cores, no GIL: the ceiling.",
        Preset::FreeThreaded => {
            "heat.py's pure-Python kernel on the free-threaded build (PEP 703, 3.13t): threads use every core."
        }
        Preset::RefcountRace => {
            "refcount.py with the GIL simply deleted: seed 001's box, two threads both read 1 and both write 2; the drift is shown."
        }
        Preset::Subinterpreters => {
            "One interpreter per thread (PEP 684, 3.12+): one GIL each, all cores busy, one process."
        }
        Preset::Starvation => {
            "heat.py at a 20 ms switch interval: np.zeros and u.sum() let go of the GIL for a moment and take it back before the waiter wakes, so it waits for hundreds of ms without ever asking for a turn (CPython 3.11 does the same)."
        }
        Preset::RealCpython => {
            "count.py on this machine's python3, watched from outside: the same lanes, drawn from /proc and the GIL holder in CPython's memory. Its sweep puts CPython (dashed) beside the emulation."
        }
    }
}
