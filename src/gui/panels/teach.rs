//! The teaching panel: what the GIL does in the chosen mode and kernel, what the class should
//! expect to see, and the Python the kernel runs (source and bytecode).

use super::super::settings::Settings;
use gilscope_engine::build::Build;
use gilscope_engine::config::{Kernel, Mode};
use std::sync::OnceLock;

use super::super::session::Session;
use gilscope_engine::program::{BUNDLED, Program};

/// What happens, and what to expect, for a mode and kernel.
pub fn explanation(mode: Mode, kernel: Kernel) -> (&'static str, &'static str) {
    match (mode, kernel) {
        (_, Kernel::Stream) => (
            "The STREAM triad a = b + 3·c does one multiply-add per 24 bytes it moves, over arrays far larger than the last-level cache. The cores spend their time waiting for memory, and every core shares the same memory bus.",
            "No GIL and every core busy, yet time stops falling once the memory bandwidth is used up: a second thread adds little. The throughput view's ceiling is this machine's measured copy bandwidth.",
        ),
        (Mode::Threading, Kernel::Python) => (
            "Every thread must hold the one GIL to run a single bytecode. A thread that wants it waits 5 ms, then asks the holder to let go; the holder only looks at that request between bytecodes (at loop back-edges and calls), hands over, and queues up again.",
            "One core busy at a time, the others idle. The GIL lane passes from thread to thread every 5 ms; each worker spends most of its time waiting (red). Adding threads never makes it faster: the same work, plus switching.",
        ),
        (Mode::Threading, Kernel::Numpy) => (
            "Each whole-array operation drops the GIL while its C loop runs and takes it back afterwards. Only the glue between operations needs the GIL, so several threads can be inside array operations at once.",
            "With big grids the blue (native) spans of different threads overlap and several cores are busy: faster with more threads until the cores or memory run out. With tiny grids (30×30) the GIL hand-offs between short operations dominate and threads barely help.",
        ),
        (Mode::Threading, Kernel::Io) => (
            "A blocking read releases the GIL for as long as it waits, so other threads run Python meanwhile. Taking the GIL back after the read can mean waiting behind a busy thread (the convoy effect).",
            "Amber I/O spans overlap across threads: time falls almost linearly with threads, even though the cores stay nearly idle. This is the case where threading works.",
        ),
        (Mode::Multiprocessing, Kernel::Python) => (
            "Each worker is a separate process with its own interpreter and its own GIL, so pure Python runs truly in parallel. Starting a process and moving data to it costs time (violet and pink spans).",
            "Every core busy, one green lane per process, several GIL lanes each held by one process. Time falls with processes up to the number of cores.",
        ),
        (Mode::Multiprocessing, Kernel::Numpy) => (
            "Separate processes, separate GILs: array operations and glue both run in parallel, at the cost of process start and data transfer.",
            "Like threading with NumPy, and often slightly faster, since no GIL is shared; the process start is visible at the left of each lane.",
        ),
        (Mode::Multiprocessing, Kernel::Io) => (
            "Separate processes waiting on I/O: works, but processes are a heavy way to wait.",
            "Same speedup as threads for I/O, plus process start-up time.",
        ),
        (Mode::Interpreters, _) => (
            "Each worker is a subinterpreter: a thread of this one process with its own interpreter state, its own GIL and its own copy of the module (PEP 684, CPython 3.12; concurrent.interpreters and InterpreterPoolExecutor, 3.14). Arguments are copied in, as for processes, but no process starts.",
            "One GIL lane per interpreter, each held all the time by its own thread: all cores busy, in one pid. A short teal span at the left of each lane is the interpreter's start (importing the program). NumPy refuses to load in subinterpreters (numpy#24755), so only the pure-Python kernel runs here.",
        ),
        (Mode::Native, _) => (
            "Compiled code on a thread pool with no GIL at all: what a C extension that releases the GIL, Numba's nogil, or free-threaded Python (3.13t) gives. Large grids are also split by rows over the pool.",
            "All cores busy, no GIL lanes, and one to two orders of magnitude faster than the interpreted kernel: the ceiling to compare the other modes with.",
        ),
    }
}

/// The source of `heat.py`, as shipped in `assets/programs/`.
fn heat_source() -> &'static str {
    BUNDLED
        .iter()
        .find(|(n, _)| *n == "heat")
        .map_or("", |(_, s)| s)
}

/// The `dis` listing of one of heat.py's functions, compiled once.
fn disassembly(kernel: Kernel) -> &'static str {
    static LISTINGS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let listings = LISTINGS.get_or_init(|| match Program::load("heat") {
        Ok(p) => p
            .module
            .functions
            .iter()
            .map(|f| (f.name.to_string(), f.disassemble()))
            .collect(),
        Err(e) => vec![("error".to_owned(), e.to_string())],
    });
    let name = match kernel {
        Kernel::Python => "py_update",
        Kernel::Numpy => "num_update",
        Kernel::Io => "io_update",
        Kernel::Stream => "stream",
    };
    listings
        .iter()
        .find(|(n, _)| n == name)
        .or(listings.first())
        .map_or("", |(_, l)| l.as_str())
}

fn function_source(kernel: Kernel) -> String {
    let name = match kernel {
        Kernel::Python => "def py_update",
        Kernel::Numpy => "def num_update",
        Kernel::Io => "def io_update",
        Kernel::Stream => {
            return "# compiled only: a[i] = b[i] + 3.0 * c[i] for every i".to_owned();
        }
    };
    let source = heat_source();
    let start = source.find(name).unwrap_or(0);
    let rest = &source[start..];
    let end = rest.find("\n\n\ndef ").map_or(rest.len(), |e| e);
    rest[..end].trim_end().to_owned()
}

/// The source and the entry's bytecode of a program other than heat.py.
fn show_program(ui: &mut egui::Ui, settings: &Settings, session: &mut Session) {
    let mode = settings.run.mode;
    let Ok(program) = session.program.get(&settings.run.program) else {
        return;
    };
    let entry = settings
        .run
        .entry
        .clone()
        .or_else(|| program.default_entry())
        .unwrap_or_default();
    ui.label(egui::RichText::new(format!("{} in {mode} mode", program.file)).strong());
    let variant = variant_expectation(mode, settings.run.interpreter);
    ui.label(match mode {
        _ if variant.is_some() => variant.unwrap_or_default(),
        Mode::Threading => "Every worker is a thread of one process: one GIL, one set of globals. Only the thread holding the GIL runs bytecode; the others wait, or do I/O and NumPy work with the GIL released.",
        Mode::Multiprocessing => "Every worker is a child process with its own interpreter, its own GIL and its own copy of the globals: Python runs on several cores at once, and changes to globals stay in the child.",
        Mode::Native => "Native mode runs compiled kernels of heat.py only.",
        Mode::Interpreters => "Every worker is a subinterpreter: a thread of this process with its own GIL and its own copy of the globals, so Python runs on several cores at once in one process; changes to globals stay in that interpreter.",
    });
    interpreter_section(
        ui,
        settings.run.interpreter,
        settings.run.switch_interval_ms(),
    );
    let is_refcount = program.name == "refcount";
    ui.add_space(4.0);
    ui.label(egui::RichText::new("The program's source").strong());
    egui::ScrollArea::vertical()
        .id_salt("program_source")
        .max_height(320.0)
        .show(ui, |ui| {
            ui.label(egui::RichText::new(program.source.as_str()).monospace());
        });
    if let Some(f) = program.module.function(&entry) {
        ui.collapsing(format!("Bytecode of {entry}() (CPython 3.11 dis)"), |ui| {
            ui.label(egui::RichText::new(f.disassemble()).monospace().small());
        });
    }
    if is_refcount {
        refcount_box(ui, session);
    }
}

/// Draws the panel.
pub fn show(ui: &mut egui::Ui, settings: &mut Settings, session: &mut Session) {
    if !settings.run.is_heat() {
        egui::CollapsingHeader::new(egui::RichText::new("What happens here").heading())
            .default_open(settings.show_teaching)
            .show(ui, |ui| show_program(ui, settings, session));
        return;
    }
    // The run in progress, else the one the controls describe.
    let cfg = session
        .live
        .as_ref()
        .map_or_else(|| settings.run.clone(), |l| l.config.clone());
    let (mode, kernel, interp) = (cfg.mode, cfg.kernel, cfg.interpreter);
    let ms = cfg.switch_interval_ms();
    egui::CollapsingHeader::new(egui::RichText::new("What happens here").heading())
        .default_open(settings.show_teaching)
        .show(ui, |ui| {
            let (what, expect) = match variant_expectation(mode, interp) {
                Some(e) => (interpreter_text(interp), e),
                None => explanation(mode, kernel),
            };
            ui.label(egui::RichText::new(format!("{mode} + {kernel}")).strong());
            ui.label(with_interval(what, ms));
            ui.add_space(4.0);
            ui.label(egui::RichText::new("What to look for").strong());
            ui.label(with_interval(expect, ms));
            interpreter_section(ui, interp, ms);
            starvation_note(ui, session);
            ui.add_space(4.0);
            ui.label(egui::RichText::new("The Python this kernel runs").strong());
            ui.label(egui::RichText::new(function_source(kernel)).monospace());
            if kernel == Kernel::Io {
                ui.label(egui::RichText::new(function_source(Kernel::Numpy)).monospace());
            }
            ui.collapsing(
                "Bytecode the interpreter executes (CPython 3.11 names)",
                |ui| {
                    ui.label(egui::RichText::new(disassembly(kernel)).monospace().small());
                },
            );
        });
}

/// Two or three sentences on an interpreter build, with its year and version.
pub fn interpreter_text(i: Build) -> &'static str {
    match i {
        Build::Gil => {
            "CPython's GIL since 3.2 (Antoine Pitrou's \"new GIL\", 2009), here with 3.11's rules: a thread that wants the GIL waits one switch interval (5 ms), then asks the holder to drop it at its next checkpoint. One thread runs Python at a time; I/O and NumPy release the GIL."
        }
        Build::FreeThreaded => {
            "The free-threaded build (PEP 703; experimental in 3.13t, 2024, supported in 3.14t, PEP 779, 2025): no GIL. Objects count references biased: the thread that made an object counts without atomics, other threads atomically; lists and dicts lock per object. Threads run Python on every core, and shared globals race: balance += 1 loses updates."
        }
        Build::LegacyGil => {
            "CPython up to 3.1 (until 2009): the holder released the GIL every 100 bytecodes (sys.setcheckinterval) and immediately tried to take it again, with no timed wait and no forced hand-over. On several cores the woken thread usually loses the race; Beazley (2009) measured two CPU-bound threads slower than one."
        }
        Build::NoGilUnsafe => {
            "What deleting the GIL alone would do (no CPython ever shipped it): threads run Python in parallel while reference counts stay plain read-then-write. Two threads both read 1 and both write 2: the count drifts. In a real interpreter a count too high leaks the object, one too low frees it while in use (a crash). gilscope only reports the drift and frees nothing early."
        }
    }
}

/// What to look for when the interpreter, not the mode, decides what the threads do (threads
/// of one process on a build other than the default).
pub fn variant_expectation(mode: Mode, i: Build) -> Option<&'static str> {
    if mode != Mode::Threading {
        return None;
    }
    match i {
        Build::Gil => None,
        Build::FreeThreaded => Some(
            "Every core busy and no GIL lane: the worker lanes stay green side by side and nobody waits. Run 1 thread, then 2: the time halves on 2 free cores. Try bank.py with deposit_inplace: deposits are lost, because balance += 1 is a read and a write that two threads now do at once.",
        ),
        Build::LegacyGil => Some(
            "Still one core at a time, but the GIL lane changes hands in a blur: the holder lets go every 100 bytecodes (GIL releases in the hundreds of thousands) and usually takes it straight back. Two threads are slower than one.",
        ),
        Build::NoGilUnsafe => Some(
            "Threads run at once like the free-threaded build, but nothing protects the reference counts. With refcount.py the drift beside seed 001's box is not 0: in a real interpreter, a leak or a crash.",
        ),
    }
}

/// Explains starved waits when the last run had some (CPython 3.11 does the same).
fn starvation_note(ui: &mut egui::Ui, session: &Session) {
    let Some(s) = session
        .last_summary
        .as_ref()
        .filter(|s| s.gil_starvations > 0)
    else {
        return;
    };
    ui.add_space(4.0);
    ui.label(
        egui::RichText::new(format!(
            "{} starved waits in the last run",
            s.gil_starvations
        ))
        .strong(),
    );
    ui.label(format!(
        "The holder let go for a moment inside np.zeros or u.sum() and took the GIL back before the waiting thread woke. CPython restarts the waiter's {} ms wait every time it wakes, so it never asks for a turn: the dark wedges on a worker's lane mark where such a wait finally ended. Real CPython 3.11 starves the same way; the count loop, which never lets go, does not.",
        s.switch_interval_ms
    ));
}

fn interpreter_section(ui: &mut egui::Ui, i: Build, switch_interval_ms: f64) {
    ui.add_space(4.0);
    ui.label(
        egui::RichText::new(format!("Interpreter: {} ({})", i.label(), i.versions())).strong(),
    );
    ui.label(with_interval(interpreter_text(i), switch_interval_ms));
}

/// The texts are written for CPython's default 5 ms switch interval; this puts in the chosen one.
pub fn with_interval(text: &str, switch_interval_ms: f64) -> String {
    if (switch_interval_ms - 5.0).abs() < 1e-9 {
        text.to_owned()
    } else {
        text.replace("5 ms", &format!("{switch_interval_ms} ms"))
    }
}

/// Seed 001's box, beside the drift the last refcount.py run measured.
fn refcount_box(ui: &mut egui::Ui, session: &Session) {
    const BOX: &str = "Without GIL (hypothetical):\n\
  Thread 1: refcount++   Thread 2: refcount++\n\
  Both read refcount = 1\n\
  Both compute 1 + 1 = 2\n\
  Both write refcount = 2\n\
  Expected: 3, Got: 2 -> Memory corruption!";
    ui.add_space(4.0);
    ui.label(egui::RichText::new("Seed 001: why the GIL exists").strong());
    ui.label(egui::RichText::new(BOX).monospace());
    let drift = session
        .last_summary
        .as_ref()
        .filter(|s| s.program == "refcount")
        .and_then(|s| Some((s.interpreter, s.result.get("refcount_drift")?.as_i64()?)));
    if let Some((interp, d)) = drift {
        let text = match d {
            0 => format!(
                "Last run ({}): refcount drift 0, every reference counted.",
                interp.label()
            ),
            d if d > 0 => format!(
                "Last run ({}): refcount drift +{d}. In a real interpreter the object would never be freed: a leak.",
                interp.label()
            ),
            d => format!(
                "Last run ({}): refcount drift {d}. In a real interpreter the object would be freed while threads still use it: use-after-free, a crash.",
                interp.label()
            ),
        };
        let strong = egui::RichText::new(text).strong().size(16.0);
        ui.label(if d == 0 {
            strong
        } else {
            strong.color(crate::gui::theme::c32(crate::view::theme::ALARM))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_the_source_posts_functions() {
        assert!(function_source(Kernel::Python).starts_with("def py_update(u):"));
        assert!(
            function_source(Kernel::Python).contains("u[i,j] = ((u[i+1, j] + u[i-1, j]) * dy2 +")
        );
        assert!(
            function_source(Kernel::Numpy)
                .contains("u[1:-1,1:-1] = ((u[2:,1:-1]+u[:-2,1:-1])*dy2 +")
        );
        assert!(!function_source(Kernel::Numpy).contains("def py_update"));
    }

    #[test]
    fn teaching_text_follows_the_switch_interval() {
        let (what, _) = explanation(Mode::Threading, Kernel::Python);
        assert!(what.contains("5 ms"));
        let at20 = with_interval(what, 20.0);
        assert!(at20.contains("20 ms") && !at20.contains(" 5 ms"), "{at20}");
        assert_eq!(with_interval(what, 5.0), what);
    }
}
