//! GUI tests with egui_kittest (no display): drive the real app by its labels, let the engine
//! run on its background threads, and assert on the app's state and the timeline model.

use crate::common;
use std::time::{Duration, Instant};

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gilscope::gui::{AppOptions, GilscopeApp};
use gilscope::view::timeline::LaneKind;
use gilscope_engine::config::{Kernel, Mode};
use gilscope_engine::trace::spans::SpanState;

fn harness() -> Harness<'static, GilscopeApp> {
    harness_with_worker(env!("CARGO_BIN_EXE_gilscope"))
}

/// The app with fresh settings whose multiprocessing workers run `worker_exe`.
fn harness_with_worker(worker_exe: &str) -> Harness<'static, GilscopeApp> {
    harness_at(worker_exe, 1600.0, 1000.0)
}

/// The same, with the window at `w`×`h` points.
fn harness_at(worker_exe: &str, w: f32, h: f32) -> Harness<'static, GilscopeApp> {
    let worker_exe = std::path::PathBuf::from(worker_exe);
    Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_eframe(move |cc| {
            GilscopeApp::new(
                cc,
                AppOptions {
                    fresh_settings: true,
                    worker_exe: Some(worker_exe),
                    ..AppOptions::default()
                },
            )
        })
}

/// Runs frames until `done` holds, waiting for the engine's background threads in between.
fn frames_until(
    h: &mut Harness<'static, GilscopeApp>,
    what: &str,
    done: impl Fn(&GilscopeApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    h.step();
}

fn click_button(h: &mut Harness<'static, GilscopeApp>, label: &str) {
    let button = h
        .get_all_by_role_and_label(egui::accesskit::Role::Button, label)
        .next()
        .unwrap_or_else(|| panic!("no button '{label}'"));
    button.click();
    h.step();
    h.step();
}

fn cli_checksum(cfg: &gilscope_engine::RunConfig) -> f64 {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "run",
            "--json",
            "--mode",
            cfg.mode.name(),
            "--kernel",
            cfg.kernel.name(),
        ])
        .args([
            "--threads",
            &cfg.threads.to_string(),
            "--grid",
            &cfg.grid.to_string(),
        ])
        .args([
            "--problems",
            &cfg.problems.to_string(),
            "--iters",
            &cfg.iters.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["checksum"].as_f64().unwrap()
}

#[test]
fn preset_then_run_fills_figures_timeline_and_grid() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    click_button(&mut h, "Threading+PurePy");
    assert_eq!(h.state().settings.run.mode, Mode::Threading);
    assert_eq!(h.state().settings.run.kernel, Kernel::Python);
    h.state_mut().settings.run.problems = 8;
    click_button(&mut h, "Run");
    frames_until(&mut h, "the run to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    let app = h.state();
    assert!(app.session.error.is_none(), "{:?}", app.session.error);
    let s = app.session.last_summary.as_ref().expect("a result row");
    assert_eq!(s.threads, 2);
    assert_eq!(
        s.checksum,
        cli_checksum(&app.settings.run),
        "same checksum as the CLI"
    );
    assert!(
        app.session.frames.iter().flatten().count() >= 1,
        "heat grid frames arrived"
    );
    // The figures panel shows the result.
    assert!(h.query_all_by_label_contains("cores busy").count() >= 1);
    assert!(h.query_by_label("GIL switches").is_some());

    // Timeline model: every core has a lane, every worker has one, one GIL lane.
    let app = h.state();
    let t = app.session.timeline.as_ref().expect("timeline");
    assert_eq!(t.core_lanes.len(), app.session.cores);
    assert_eq!(t.worker_lanes.len(), 2);
    assert_eq!(t.gil_lanes.len(), 1);
    let labels: Vec<String> = t.display_lanes().iter().map(|l| l.label.clone()).collect();
    assert!(labels.iter().any(|l| l == "Core 0"));
    assert!(labels.iter().any(|l| l.starts_with("GIL · pid ")));
    // No two workers hold the GIL at the same instant.
    let mut held: Vec<_> = t
        .worker_lanes
        .iter()
        .flat_map(|l| l.spans().iter().copied())
        .filter(|s| s.state == SpanState::Python && s.dur_ns() > 0)
        .collect();
    held.sort_by_key(|s| s.start_ns);
    assert!(held.iter().any(|s| s.worker == 0) && held.iter().any(|s| s.worker == 1));
    for w in held.windows(2) {
        assert!(
            w[1].start_ns >= w[0].end_ns,
            "two holders at once: {:?} {:?}",
            w[0],
            w[1]
        );
    }
    let gil = &t.gil_lanes[0];
    assert!(matches!(gil.kind, LaneKind::Gil { .. }));
    assert!(gil.spans().windows(2).all(|w| w[1].start_ns >= w[0].end_ns));
}

#[test]
fn sweep_puts_points_on_the_plot() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    click_button(&mut h, "Count loop (count.py)");
    {
        let s = &mut h.state_mut().settings;
        assert_eq!(s.run.program, "count");
        s.run.params = vec![("N".to_owned(), "20000".to_owned())];
        s.sweep_max_threads = 2;
    }
    click_button(&mut h, "Run sweep");
    frames_until(&mut h, "the sweep to finish", |a| {
        a.session.sweeps_finished == 1 && !a.session.busy()
    });
    let app = h.state();
    assert!(app.session.error.is_none(), "{:?}", app.session.error);
    let threads: Vec<usize> = app.session.sweep_points.iter().map(|p| p.threads).collect();
    assert_eq!(
        threads,
        vec![1, 1, 2, 2],
        "threads and processes at 1 and 2"
    );
    let labels: Vec<String> = app.session.sweep_points.iter().map(|p| p.label()).collect();
    assert_eq!(
        labels[..2],
        ["Threading (count.py)", "MultiProc (count.py)"]
    );
    assert!(
        h.query_all_by_label_contains("Threading (count.py)")
            .next()
            .is_some(),
        "the series are named after the program"
    );
    assert!(
        h.query_by_label_contains("Press Run sweep").is_none(),
        "the empty-plot hint is gone"
    );
}

#[test]
fn stop_ends_a_long_run_quickly() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    {
        let s = &mut h.state_mut().settings;
        s.run.mode = Mode::Multiprocessing;
        s.run.kernel = Kernel::Python;
        s.run.threads = 2;
        s.run.grid = 100;
        s.run.iters = 2000;
    }
    click_button(&mut h, "Run");
    // Forecast at minutes: the window asks first.
    h.run_steps(3);
    click_button(&mut h, "Run anyway");
    frames_until(&mut h, "the run to stream spans", |a| {
        a.session
            .timeline
            .as_ref()
            .is_some_and(|t| t.span_count > 4)
    });
    let t0 = Instant::now();
    click_button(&mut h, "Stop");
    frames_until(&mut h, "the run to stop", |a| !a.session.busy());
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "stop took {:?}",
        t0.elapsed()
    );
    let app = h.state();
    assert!(
        app.session.error.is_none(),
        "a stop is not an error: {:?}",
        app.session.error
    );
    assert!(app.session.last_summary.is_none());
}

#[test]
fn stop_in_the_window_ends_a_never_ending_script_leaving_nothing_behind() {
    // Counts this process's threads and children: no other test may run meanwhile.
    let _machine = common::measuring();
    let have_python = gilscope_engine::runtime::cpython::probe("python3").is_ok();
    let me = std::process::id();
    for file in common::py_files("tests/stop") {
        let file = std::fs::canonicalize(&file).unwrap();
        for runtime in [
            gilscope_engine::config::Runtime::Emulated,
            gilscope_engine::config::Runtime::Cpython,
        ] {
            let name = format!("{} ({runtime:?})", file.display());
            if runtime == gilscope_engine::config::Runtime::Cpython && !have_python {
                common::skip(format!("{name}: no usable python3"));
                continue;
            }
            let threads_before = common::gilscope_threads();
            let children_before = common::descendants(me);
            let mut h = harness();
            h.step();
            {
                let s = &mut h.state_mut().settings;
                s.run.runtime = runtime;
                s.run.program = file.display().to_string();
            }
            h.step();
            // Running: this process and those under it have spun for half a core-second (a
            // builtin that holds the GIL for hours closes no span to show on the timeline).
            let cpu = || {
                common::cpu_secs(me)
                    + common::descendants(me)
                        .iter()
                        .map(|&p| common::cpu_secs(p))
                        .sum::<f64>()
            };
            let cpu_before = cpu();
            click_button(&mut h, "Run");
            frames_until(&mut h, "the script to run", |a| {
                a.session.busy() && cpu() - cpu_before > 0.5
            });
            let threads_running = common::gilscope_threads();
            let tree: Vec<u32> = common::descendants(me)
                .into_iter()
                .filter(|p| !children_before.contains(p))
                .collect();
            assert!(
                threads_running > threads_before,
                "{name}: the run's threads are counted ({threads_running})"
            );
            let t0 = Instant::now();
            click_button(&mut h, "Stop");
            frames_until(&mut h, "the run to stop", |a| !a.session.busy());
            let took_ms = t0.elapsed().as_secs_f64() * 1e3;
            // Wide: the benchmark times a stop; this catches a hang.
            assert!(took_ms < 5000.0, "{name}: {took_ms:.0} ms to stop");
            let app = h.state();
            assert!(
                app.session.error.is_none(),
                "{name}: {:?}",
                app.session.error
            );
            let threads_after = common::gilscope_threads();
            let left: Vec<u32> = tree
                .iter()
                .copied()
                .filter(|&p| common::exists(p))
                .collect();
            assert_eq!(
                threads_after, threads_before,
                "{name}: gilscope threads before, running, after: {threads_before}, \
                 {threads_running}, {threads_after}"
            );
            assert!(left.is_empty(), "{name}: left running {left:?} of {tree:?}");
            assert_eq!(
                common::scratch_folders_of(me),
                0,
                "{name}: a scratch folder was left"
            );
            eprintln!(
                "{name}: stopped in {took_ms:.0} ms; gilscope threads {threads_before} -> \
                 {threads_running} -> {threads_after}; {} processes under it, none left",
                tree.len()
            );
        }
    }
}

#[test]
fn a_speedup_is_only_against_a_like_run_and_a_button_makes_one() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    let set = |h: &mut Harness<'static, GilscopeApp>, threads: usize, grid: usize| {
        let s = &mut h.state_mut().settings;
        s.run.mode = Mode::Threading;
        s.run.kernel = Kernel::Python;
        s.run.threads = threads;
        s.run.grid = grid;
        s.run.problems = 4;
        s.run.iters = 5;
    };
    let run = |h: &mut Harness<'static, GilscopeApp>| {
        click_button(h, "Run");
        frames_until(h, "the run to end", |a| {
            !a.session.busy() && a.session.last_summary.is_some()
        });
    };
    // A 1-thread run at another grid is not a like run: no speedup against it.
    set(&mut h, 1, 40);
    run(&mut h);
    set(&mut h, 2, 30);
    run(&mut h);
    let app = h.state();
    let s = app.session.last_summary.clone().unwrap();
    assert_eq!((s.threads, s.grid), (2, 30));
    assert_eq!(
        app.session.baseline_secs(&s),
        None,
        "grid 40 is not like grid 30"
    );
    // The button runs these settings on one thread; then the 2-thread run has its speedup.
    click_button(&mut h, "Run 1 thread");
    frames_until(&mut h, "the baseline to end", |a| {
        !a.session.busy()
            && a.session
                .last_summary
                .as_ref()
                .is_some_and(|s| s.threads == 1 && s.grid == 30)
    });
    assert_eq!(
        h.state().settings.run.threads,
        2,
        "the user's thread count stays"
    );
    run(&mut h);
    let app = h.state();
    let s = app.session.last_summary.clone().unwrap();
    assert_eq!(s.threads, 2);
    assert!(app.session.baseline_secs(&s).is_some());
}

#[test]
fn bad_values_are_rejected_and_failures_shown_in_the_window() {
    let _machine = common::sharing();
    let mut h = harness_with_worker("/nonexistent/gilscope-worker");
    h.step();
    // A bad value typed into a field is shown as rejected and never applied (no silent clamp).
    for (field, bad) in [
        ("Threads", "abc"),
        ("Threads", "0"),
        ("Grid N", "-3"),
        ("Iterations", "999999"),
    ] {
        let before = h.state().settings.run.clone();
        h.get_by_label(field).focus();
        h.step();
        // Select all and replace with the bad text.
        h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
        h.get_by_label(field).type_text(bad);
        h.step();
        h.step();
        assert_eq!(h.state().settings.run, before, "{field}={bad} was applied");
        assert!(
            h.query_all_by_label_contains("rejected").count() >= 1,
            "{field}={bad} is not shown as rejected"
        );
        // A good value is applied.
        h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
        h.get_by_label(field).type_text(match field {
            "Threads" => "3",
            "Grid N" => "40",
            _ => "20",
        });
        h.step();
        h.step();
        assert_eq!(
            h.query_all_by_label_contains("rejected").count(),
            0,
            "{field}"
        );
    }
    assert_eq!(h.state().settings.run.threads, 3);
    assert_eq!(h.state().settings.run.grid, 40);
    assert_eq!(h.state().settings.run.iters, 20);
    // A worker that cannot start is an error in the window, not a panic or a hang.
    h.state_mut().settings.run.mode = Mode::Multiprocessing;
    h.state_mut().settings.run.problems = 2;
    click_button(&mut h, "Run");
    frames_until(&mut h, "the failure", |a| {
        !a.session.busy() && a.session.error.is_some()
    });
    let err = h.state().session.error.clone().unwrap_or_default();
    assert!(err.contains("could not start worker process"), "{err}");
    assert!(
        h.query_all_by_label_contains("Error: could not start worker")
            .count()
            >= 1,
        "shown in the window"
    );
    click_button(&mut h, "Dismiss");
    assert!(h.state().session.error.is_none());
}

#[test]
fn keys_step_through_modes_and_kernels() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    assert_eq!(h.state().settings.run.mode, Mode::Threading);
    h.key_press(Key::ArrowRight);
    h.step();
    assert_eq!(h.state().settings.run.mode, Mode::Multiprocessing);
    h.key_press(Key::ArrowLeft);
    h.key_press(Key::ArrowLeft);
    h.step();
    assert_eq!(h.state().settings.run.mode, Mode::Native);
    h.key_press(Key::ArrowDown);
    h.step();
    assert_eq!(h.state().settings.run.kernel, Kernel::Numpy);
    h.key_press(Key::Num9);
    h.step();
    assert_eq!(h.state().settings.run.mode, Mode::Native);
    assert_eq!(h.state().settings.run.grid, 512);
}

#[test]
fn an_idle_window_does_not_repaint_under_a_resting_pointer() {
    let _machine = common::sharing();
    let mut h = harness();
    click_button(&mut h, "Run");
    frames_until(&mut h, "the run to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    // The pointer comes to rest on the timeline's lanes (upper middle of the window).
    h.hover_at(egui::pos2(700.0, 200.0));
    for _ in 0..20 {
        h.step();
    }
    assert!(
        !h.ctx.has_requested_repaint(),
        "an idle window with the pointer resting on the timeline keeps repainting: {:?}",
        h.ctx.repaint_causes()
    );
}

#[test]
fn presenting_on_a_720p_projector_folds_the_side_panels_for_the_timeline() {
    let _machine = common::sharing();
    let mut h = harness_at(env!("CARGO_BIN_EXE_gilscope"), 1280.0, 720.0);
    h.state_mut().settings.presentation = true;
    h.state_mut().settings.run.problems = 8;
    h.run_steps(3);
    // The controls are folded: F5 runs.
    h.key_press(Key::F5);
    h.step();
    frames_until(&mut h, "the run to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    h.run_steps(3);
    let app = h.state();
    assert!(app.session.controls.folded && app.session.figures.folded);
    // The timeline takes the width the side panels gave up.
    let title = h
        .get_all_by_role_and_label(egui::accesskit::Role::Label, "Timeline")
        .next()
        .expect("the timeline's title")
        .rect();
    assert!(title.min.x < 100.0, "the timeline starts at {title:?}");
    // Each comes back from the top bar.
    click_button(&mut h, "Controls");
    click_button(&mut h, "Figures");
    h.run_steps(2);
    let app = h.state();
    assert!(!app.session.controls.folded && !app.session.figures.folded);
}

#[test]
fn a_programs_parameter_fields_are_its_own_not_the_last_programs() {
    let _machine = common::sharing();
    let dir = common::scratch_dir("gui-params");
    let file = dir.join("five_million.py");
    std::fs::write(
        &file,
        "N = 5_000_000\nENTRY = \"work\"\n\ndef work(n):\n    return n\n\n\ndef share(k, workers):\n    return (N // workers,)\n\n\ndef report(results):\n    return {\"n\": sum(results)}\n",
    )
    .unwrap();
    let mut h = harness();
    h.step();
    h.state_mut().settings.run.program = "count".to_owned();
    h.run_steps(2);
    // N typed for count.py...
    let field = |h: &Harness<'static, GilscopeApp>| {
        h.state()
            .session
            .param_fields
            .iter()
            .find(|f| f.name == "N")
            .map(|f| f.text.clone())
    };
    assert!(field(&h).is_some(), "count.py has an N field");
    for f in &mut h.state_mut().session.param_fields {
        if f.name == "N" {
            f.text = "200000000".to_owned();
        }
    }
    h.step();
    assert_eq!(field(&h).as_deref(), Some("200000000"));
    // ...is not shown for another program whose N is 5M.
    h.state_mut().settings.run.program = file.display().to_string();
    h.state_mut().settings.run.params.clear();
    h.run_steps(2);
    assert_eq!(field(&h).as_deref(), Some("5000000"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn copy_puts_the_image_on_the_clipboard_or_says_why_not() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    h.state_mut().settings.run.problems = 4;
    click_button(&mut h, "Run");
    frames_until(&mut h, "the run to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    // The heat grid's Copy (the first Copy button is the timeline's).
    let copy = h
        .get_all_by_role_and_label(egui::accesskit::Role::Button, "Copy")
        .last()
        .expect("a Copy button");
    copy.click();
    h.run_steps(2);
    let app = h.state();
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    if !display {
        // No clipboard here: said as an error, never claimed as copied.
        assert!(app.session.error.is_some(), "{:?}", app.session.notice);
        assert_ne!(
            app.session.notice.as_deref(),
            Some("image copied to the clipboard")
        );
        common::skip("no display: the clipboard's contents could not be read back");
        return;
    }
    assert_eq!(
        app.session.notice.as_deref(),
        Some("image copied to the clipboard"),
        "{:?}",
        app.session.error
    );
    let image = arboard::Clipboard::new()
        .and_then(|mut c| c.get_image())
        .expect("the copied image, read back from the clipboard");
    assert!(
        image.width > 100 && image.height > 50,
        "{}x{}",
        image.width,
        image.height
    );
}

#[test]
fn nothing_overlaps_at_projector_sizes() {
    let _machine = common::sharing();
    for (w, hgt) in [(1280.0, 720.0), (1920.0, 1080.0)] {
        let mut h = harness_at(env!("CARGO_BIN_EXE_gilscope"), w, hgt);
        h.state_mut().settings.run.problems = 8;
        click_button(&mut h, "Run");
        frames_until(&mut h, "the run to finish", |a| {
            a.session.runs_finished == 1 && !a.session.busy()
        });
        h.run_steps(3);
        let rect = |role, label: &str| {
            h.get_all_by_role_and_label(role, label)
                .next()
                .unwrap_or_else(|| panic!("no '{label}' at {w}x{hgt}"))
                .rect()
        };
        use egui::accesskit::Role;
        let side = rect(Role::Label, "This run");
        let csv = rect(Role::Button, "CSV");
        let plot_title = rect(Role::Label, "Time vs threads");
        let heat_copy = rect(Role::Button, "Export PNG");
        assert!(
            csv.max.x <= side.min.x,
            "{w}x{hgt}: the plot's CSV button ({csv:?}) runs under the side panel ({side:?})"
        );
        assert!(
            heat_copy.max.x <= plot_title.min.x,
            "{w}x{hgt}: the heat grid's header ({heat_copy:?}) runs into the plot's ({plot_title:?})"
        );
        assert!(
            csv.max.y <= hgt && csv.min.x >= 0.0,
            "{w}x{hgt}: CSV off screen: {csv:?}"
        );
    }
}

#[test]
fn repeat_runs_until_stop_then_this_run_says_cancelled() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    {
        let s = &mut h.state_mut().settings;
        s.run.problems = 4;
        s.repeat_runs = true;
    }
    click_button(&mut h, "Run");
    frames_until(&mut h, "a repeated run", |a| {
        a.session.runs_finished >= 2 && a.session.repeats_done >= 1
    });
    // Now a long one, stopped mid-way: the loop ends and the figures say so.
    h.state_mut().settings.run.iters = 2000;
    frames_until(&mut h, "the long run to start", |a| {
        a.session
            .live
            .as_ref()
            .is_some_and(|l| l.config.iters == 2000)
    });
    click_button(&mut h, "Stop");
    frames_until(&mut h, "the run to stop", |a| !a.session.busy());
    h.run_steps(5);
    let app = h.state();
    assert!(!app.session.busy(), "Stop must end the repeat loop");
    assert!(
        app.session.cancelled.is_some(),
        "the stopped run is reported as cancelled"
    );
    assert!(
        app.session.last_summary.is_none(),
        "no older run's figures after a Stop"
    );
    assert!(h.query_by_label("Cancelled").is_some());
}

#[test]
fn a_huge_run_asks_first_with_a_measured_forecast() {
    let _machine = common::sharing();
    let mut h = harness();
    h.step();
    {
        let s = &mut h.state_mut().settings;
        s.run.grid = 2000;
        s.run.threads = 8;
    }
    h.step();
    click_button(&mut h, "Run");
    let app = h.state();
    assert!(
        !app.session.busy(),
        "a run forecast at hours started without asking"
    );
    let text = app
        .session
        .confirm
        .clone()
        .expect("no warning before a huge run");
    assert!(text.contains(" h ") || text.contains(" min "), "{text}");
    // A new egui window sizes itself on its first frame and shows on the next.
    h.run_steps(3);
    assert!(h.query_all_by_label_contains("would take about").count() >= 1);
    click_button(&mut h, "Cancel");
    assert!(h.state().session.confirm.is_none());
    assert!(!h.state().session.busy());
    // A normal run starts at once, without asking.
    h.state_mut().settings.run.grid = 30;
    h.state_mut().settings.run.threads = 2;
    h.step();
    click_button(&mut h, "Run");
    assert!(h.state().session.confirm.is_none());
    frames_until(&mut h, "the run to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
}

#[test]
fn lessons_step_with_the_clicker_keys_and_check_their_claim() {
    let _machine = common::sharing();
    use gilscope::gui::command::Command;
    let mut h = harness();
    h.step();
    click_button(&mut h, "Lessons");
    assert_eq!(h.state().settings.lesson, Some(1));
    assert!(h.query_by_label_contains("Lesson 1 of 10").is_some());
    assert_eq!(h.state().settings.run.program, "count");
    h.key_press(Key::PageDown);
    h.step();
    assert_eq!(h.state().settings.lesson, Some(2));
    h.key_press(Key::PageUp);
    h.key_press(Key::PageUp);
    h.step();
    assert_eq!(h.state().settings.lesson, Some(1), "never before lesson 1");
    // Lesson 3 rests on overlapping waits, which hold on any machine.
    h.state_mut().command(Command::OpenLesson(3));
    h.step();
    assert_eq!(h.state().settings.run.program, "download");
    click_button(&mut h, "Run lesson");
    frames_until(&mut h, "lesson 3 to finish", |a| {
        a.session.lessons.report(3).is_some() && !a.session.busy()
    });
    let app = h.state();
    assert!(app.session.error.is_none(), "{:?}", app.session.error);
    let r = app.session.lessons.report(3).unwrap();
    assert!(r.verdict.holds(), "{}: {}", r.verdict.text(), r.observed);
    assert_eq!(r.trials.len(), 2);
    // Its runs went through the live views: the timeline shows the last one.
    let t = app
        .session
        .timeline
        .as_ref()
        .expect("the lesson's runs are drawn");
    assert_eq!(t.worker_lanes.len(), 4);
    h.step();
    assert!(h.query_by_label_contains("Verdict: as expected").is_some());
    assert!(
        h.state().session.targets.worker_lanes.is_some(),
        "the callout has its target"
    );
}

#[test]
fn a_saved_recording_replays_the_same_run_in_the_window() {
    let _machine = common::sharing();
    use gilscope::gui::command::Command;
    let dir = std::env::temp_dir().join(format!("gilscope-gui-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("class.gilscope");
    let mut h = harness();
    h.step();
    click_button(&mut h, "Threading+PurePy");
    h.state_mut().settings.run.problems = 8;
    click_button(&mut h, "Run");
    frames_until(&mut h, "the run", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    let live = h.state().session.last_summary.clone().unwrap();
    h.state_mut().session.recording_path = file.display().to_string();
    h.state_mut().command(Command::SaveRecording);
    h.step();
    assert!(
        h.state().session.error.is_none(),
        "{:?}",
        h.state().session.error
    );
    assert!(file.is_file());
    let spans_live = h.state().session.timeline.as_ref().unwrap().span_count;
    h.state_mut().command(Command::OpenRecording);
    h.step();
    frames_until(&mut h, "the replay", |a| {
        a.session.runs_finished == 2 && !a.session.busy()
    });
    let app = h.state();
    let replayed = app.session.last_summary.as_ref().unwrap();
    assert_eq!(replayed.checksum, live.checksum);
    assert_eq!(replayed.wall_secs, live.wall_secs);
    assert_eq!(replayed.gil_switches, live.gil_switches);
    let t = app.session.timeline.as_ref().unwrap();
    assert_eq!(t.span_count, spans_live, "every span came back");
    assert!(
        app.session
            .replayed_from
            .as_deref()
            .unwrap_or("")
            .contains("cores")
    );
    // A damaged file is one line in the window, and the app goes on.
    std::fs::write(dir.join("bad.gilscope"), b"nope").unwrap();
    h.state_mut().session.recording_path = dir.join("bad.gilscope").display().to_string();
    h.state_mut().command(Command::OpenRecording);
    h.step();
    let err = h.state().session.error.clone().unwrap_or_default();
    assert!(err.contains("not a gilscope recording"), "{err}");
}

#[test]
fn a_pasted_script_runs_on_real_python_with_a_named_lane_per_thread() {
    let _machine = common::sharing();
    if gilscope_engine::runtime::cpython::probe("python3").is_err() {
        common::skip("no usable python3 for the script in the window");
        return;
    }
    let dir = common::scratch_dir("gui-script");
    let file = dir.join("count_threads.py");
    let src = std::fs::read_to_string("tests/scripts/count_threads.py")
        .unwrap()
        .replacen("n = 50_000_000", "n = 2_000_000", 1);
    std::fs::write(&file, src).unwrap();
    let mut h = harness();
    h.step();
    {
        let s = &mut h.state_mut().settings;
        s.run.runtime = gilscope_engine::config::Runtime::Cpython;
        s.run.program = file.display().to_string();
    }
    h.step();
    // The program panel says what a script is instead of a compile error.
    assert!(h.query_all_by_label_contains("plain script").count() >= 1);
    click_button(&mut h, "Run");
    frames_until(&mut h, "the script to finish", |a| {
        a.session.runs_finished == 1 && !a.session.busy()
    });
    let app = h.state();
    assert!(app.session.error.is_none(), "{:?}", app.session.error);
    let s = app.session.last_summary.as_ref().expect("a result row");
    assert_eq!(s.program_output.as_ref().map(|o| o.exit_code), Some(0));
    // Its output, as python3 prints it, is in the console, and Clear empties it.
    let console = app
        .session
        .console
        .as_ref()
        .expect("a console for the script");
    let lines: Vec<&str> = console.lines.iter().map(|l| l.text.as_str()).collect();
    assert!(
        lines.iter().any(|l| l.starts_with("Single thread: "))
            && lines.iter().any(|l| l.starts_with("Speedup: ")),
        "{lines:?}"
    );
    assert_eq!(console.exit_code, Some(0));
    // The last run keeps its output; the history keeps its figures without it.
    assert!(
        s.program_output
            .as_ref()
            .is_some_and(|o| o.stdout.contains("Speedup: "))
    );
    let kept = app
        .session
        .history
        .last()
        .and_then(|h| h.program_output.as_ref());
    assert!(
        kept.is_some_and(|o| o.stdout.is_empty() && o.exit_code == 0),
        "{kept:?}"
    );
    assert!(h.query_by_label_contains("exit status 0").is_some());
    click_button(&mut h, "Clear output");
    let app = h.state();
    assert!(app.session.console.as_ref().is_some_and(|c| c.cleared));
    let t = app.session.timeline.as_ref().expect("timeline");
    let labels: Vec<String> = t.worker_lanes.iter().map(|l| l.label.clone()).collect();
    for name in [
        "MainThread",
        "Thread-1 (cpu_bound_task)",
        "Thread-2 (cpu_bound_task)",
    ] {
        assert!(
            labels.iter().any(|l| l.starts_with(name)),
            "no lane named {name}: {labels:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_window_finds_a_running_python_attaches_and_detaches_leaving_it_running() {
    use gilscope::gui::command::Command;
    let _shared = common::sharing();
    let Ok(mut py) = std::process::Command::new("python3")
        .args([
            "-c",
            "import threading, time\n\
def work():\n    end = time.monotonic() + 60\n    while time.monotonic() < end:\n        pass\n\
ts = [threading.Thread(target=work, daemon=True) for _ in range(2)]\n\
[t.start() for t in ts]\ntime.sleep(60)\n",
        ])
        .spawn()
    else {
        common::skip("no python3 to attach to");
        return;
    };
    let pid = py.id();
    let tasks = || std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count());
    let deadline = Instant::now() + Duration::from_secs(20);
    while tasks() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut h = harness();
    h.get_by_label("Attach to a running Python").click();
    h.step();
    h.step();
    click_button(&mut h, "Find Python processes");
    let listed = h
        .state()
        .session
        .pythons
        .as_ref()
        .is_some_and(|l| l.iter().any(|p| p.pid == pid));
    assert!(listed, "{:?}", h.state().session.pythons);
    assert!(
        h.get_all_by_role_and_label(egui::accesskit::Role::Button, "Attach")
            .next()
            .is_some(),
        "an Attach button per process"
    );
    h.state_mut().command(Command::Attach(pid));
    frames_until(&mut h, "spans of the attached threads", |app| {
        app.session
            .timeline
            .as_ref()
            .is_some_and(|t| t.worker_lanes.len() >= 3 && t.last_ns > t.start_ns + 300_000_000)
    });
    click_button(&mut h, "Detach");
    frames_until(&mut h, "the attach to end", |app| !app.session.busy());
    let s = h.state().session.last_summary.clone().expect("a summary");
    assert_eq!(s.attached_pid, Some(pid));
    assert!(s.workers.len() >= 3, "{:?}", s.workers);
    assert_eq!(
        s.gil_source.as_deref(),
        Some("observed"),
        "{:?}",
        s.gil_source_reason
    );
    // Detached, not killed: the process runs on.
    assert!(
        py.try_wait().unwrap().is_none(),
        "the attached Python was stopped"
    );
    let _ = py.kill();
    let _ = py.wait();
}
