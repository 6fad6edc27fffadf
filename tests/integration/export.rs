//! Export tests: every PNG decodes to a real, non-blank picture with the series colours in it;
//! every SVG is well-formed XML carrying its title and every series label as text.

use crate::common;

use gilscope::export::plots;
use gilscope::view::theme::{series_color, state_color};
use gilscope::view::timeline::TimelineModel;
use gilscope_engine::config::{RunConfig, Series};
use gilscope_engine::measure::sweep::{SweepSpec, aggregate, run_sweep};
use gilscope_engine::runtime::{CancelToken, run_blocking};
use gilscope_engine::trace::events::channel;

fn small() -> RunConfig {
    RunConfig {
        grid: 12,
        problems: 4,
        iters: 4,
        worker_exe: Some(env!("CARGO_BIN_EXE_gilscope").into()),
        ..RunConfig::default()
    }
}

fn all_series() -> Vec<Series> {
    [
        "threading:python",
        "threading:numpy",
        "multiprocessing:numpy",
        "multiprocessing:python",
        "native:numpy",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

fn count_color(img: &image::RgbImage, c: gilscope::view::theme::Rgb) -> usize {
    img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count()
}

fn distinct_colors(img: &image::RgbImage) -> usize {
    let mut v: Vec<[u8; 3]> = img.pixels().step_by(7).map(|p| p.0).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

/// All text nodes of a well-formed XML document (panics on malformed XML).
fn svg_texts(svg: &[u8]) -> String {
    let mut reader = quick_xml::Reader::from_reader(svg);
    let mut buf = Vec::new();
    let mut text = String::new();
    let mut depth = 0i32;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Text(t) => {
                text.push_str(&t.unescape().expect("valid text"));
                text.push('\n');
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(depth, 0, "every element closed");
    text
}

#[test]
fn sweep_plot_png_and_svg() {
    let _machine = common::sharing();
    let spec = SweepSpec {
        series: all_series(),
        threads: vec![1, 2],
        repeats: 2,
        base: small(),
        warmup: false,
        thread_param: None,
    };
    let points = run_sweep(&spec, None, &CancelToken::new(), |_| {}).unwrap();
    let stats = aggregate(&points);
    for speedup in [false, true] {
        let title = plots::sweep_title(&spec, speedup);
        assert!(title.contains("grid 12") && title.contains("cores"));
        let png = plots::sweep_png(&stats, &title, speedup, 2).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert!(img.width() >= 1600, "2x scale: {}", img.width());
        assert!(distinct_colors(&img) > 10, "not blank");
        for s in all_series() {
            assert!(
                count_color(&img, series_color(s)) > 50,
                "{} colour missing",
                s.label()
            );
        }
        let svg = plots::sweep_svg(&stats, &title, speedup, 2).unwrap();
        let text = svg_texts(&svg);
        let want = if speedup {
            "Speedup vs threads"
        } else {
            "Execution time vs threads"
        };
        assert!(text.contains(want), "title");
        for label in [
            "Threading+PurePy",
            "Threading+NumPy",
            "MultiProc+NumPy",
            "MultiProc+PurePy",
            "Native",
        ] {
            assert!(text.contains(label), "{label} missing from SVG");
        }
    }
}

#[test]
fn timeline_and_grid_exports() {
    let _machine = common::sharing();
    let (sink, stream) = channel(100_000, None);
    let cfg = RunConfig {
        threads: 2,
        ..small()
    };
    let outcome = run_blocking(&cfg, Some(&sink), &CancelToken::new()).unwrap();
    let model = TimelineModel::from_outcome(&outcome);

    let png = plots::timeline_png(&model, &outcome.summary).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert!(img.width() >= 1600);
    assert!(
        count_color(&img, state_color(gilscope_engine::SpanState::Python)) > 100,
        "python spans drawn"
    );
    let svg = plots::timeline_svg(&model, &outcome.summary).unwrap();
    let text = svg_texts(&svg);
    for needle in [
        "Timeline: Threading+PurePy",
        "Core 0",
        "GIL · pid",
        "worker 0",
        "worker 1",
        "waiting for GIL",
    ] {
        assert!(
            text.contains(needle),
            "'{needle}' missing from the timeline SVG"
        );
    }

    let (_, frames) = stream.frames.snapshot();
    let frames: Vec<_> = frames.into_iter().flatten().collect();
    assert_eq!(frames.len(), 2);
    let png = plots::grid_png(&frames, &outcome.summary).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert!(img.width() >= 1600 && distinct_colors(&img) > 20);
    assert!(plots::grid_png(&[], &outcome.summary).is_err());
}

#[test]
fn cli_writes_every_export_or_none() {
    let _machine = common::sharing();
    let dir = std::env::temp_dir().join(format!("gilscope-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    common::succeeded(
        std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
            .args([
                "run",
                "--threads",
                "2",
                "--grid",
                "12",
                "--problems",
                "4",
                "--iters",
                "3",
            ])
            .args([
                "--timeline-png",
                &p("t.png"),
                "--timeline-svg",
                &p("t.svg"),
                "--grid-png",
                &p("g.png"),
            ]),
    );
    for f in ["t.png", "t.svg", "g.png"] {
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 1000, "{f}");
    }
    // One bad path: nothing at all is written, exit code 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gilscope"))
        .args([
            "sweep",
            "--threads",
            "1",
            "--repeats",
            "1",
            "--png",
            &p("s.png"),
            "--svg",
            "/nonexistent/s.svg",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.join("s.png").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
