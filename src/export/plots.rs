//! Plots for slides, drawn with plotters in a light theme: the time-vs-threads graph and the
//! timeline as PNG (2× scale) and SVG, and the heat grids as PNG with their colour scale.

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::view::theme::{
    HEAT_RANGE, LIGHT, MIXED, Rgb, heat_color, heat_t, heat_value, series_color, state_color,
    worker_color,
};
use crate::view::timeline::{LaneKind, TimelineModel, bin_lane};
use gilscope_engine::config::{Runtime, Series};
use gilscope_engine::measure::sweep::{SeriesStats, SweepSpec};
use gilscope_engine::trace::events::GridFrame;
use gilscope_engine::trace::spans::SpanState;
use gilscope_engine::trace::summary::RunSummary;

/// Scale of PNG exports (2× for sharp slides).
pub const PNG_SCALE: f64 = 2.0;
const FONT: &str = "sans-serif";

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font(FONT, style, epaint_default_fonts::UBUNTU_LIGHT);
        }
    });
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil-from-days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Encodes RGBA or RGB pixels as PNG.
pub fn encode_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let px = (width as usize) * (height as usize);
    let color = if pixels.len() == px * 4 {
        image::ExtendedColorType::Rgba8
    } else if pixels.len() == px * 3 {
        image::ExtendedColorType::Rgb8
    } else {
        return Err(anyhow!(
            "{} bytes do not make a {width}x{height} image",
            pixels.len()
        ));
    };
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(pixels, width, height, color)
        .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
    Ok(out)
}

/// How a time-vs-threads plot's title starts.
const TIME_TITLE: &str = "Execution time vs threads";
/// How the same plot's title starts when it shows the speedup.
const SPEEDUP_TITLE: &str = "Speedup vs threads";

/// The title of a sweep plot (of the speedup, or of the time): what was run, on how many
/// cores, when.
pub fn sweep_title(spec: &SweepSpec, speedup: bool) -> String {
    let b = &spec.base;
    let what = if b.is_heat() {
        format!(
            "grid {} · {} problems × {} iterations",
            b.grid, b.problems, b.iters
        )
    } else {
        let file = std::path::Path::new(&b.program)
            .file_stem()
            .and_then(|f| f.to_str())
            .unwrap_or(&b.program);
        let params: Vec<String> = b.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let entry = b
            .entry
            .as_deref()
            .map(|e| format!(" · {e}()"))
            .unwrap_or_default();
        if params.is_empty() {
            format!("{file}.py{entry}")
        } else {
            format!("{file}.py{entry} · {}", params.join(" "))
        }
    };
    format!(
        "{} · {what} · {} cores · {}",
        if speedup { SPEEDUP_TITLE } else { TIME_TITLE },
        gilscope_engine::trace::clock::core_count(),
        today()
    )
}

fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    stats: &[SeriesStats],
    title: &str,
    speedup: bool,
    cores: usize,
    s: f64,
) -> Result<()> {
    // No machine runs faster than its cores allow: the ideal stops growing there.
    let ideal_workers = |t: usize| t.min(cores.max(1)) as f64;
    register_fonts();
    root.fill(&WHITE).map_err(err)?;
    let px = |v: f64| (v * s) as u32;
    let y_of = |st: &SeriesStats, secs: f64| -> f64 {
        if speedup {
            st.points
                .iter()
                .find(|p| p.threads == 1)
                .map_or(f64::NAN, |b| b.median_secs / secs)
        } else {
            secs
        }
    };
    let max_t = stats
        .iter()
        .flat_map(|x| x.points.iter().map(|p| p.threads))
        .max()
        .unwrap_or(2)
        .max(2);
    let max_y = stats
        .iter()
        .flat_map(|st| {
            st.points
                .iter()
                .map(move |p| y_of(st, if speedup { p.min_secs } else { p.max_secs }))
        })
        .filter(|v| v.is_finite())
        .fold(if speedup { ideal_workers(max_t) } else { 0.0 }, f64::max)
        .max(1e-3);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, s * 17.0).into_font().color(&rgb(LIGHT.text)))
        .margin(px(18.0))
        .x_label_area_size(px(48.0))
        .y_label_area_size(px(72.0))
        .build_cartesian_2d(
            0.5f64..(max_t as f64 + 0.5),
            0f64..(max_y * if speedup { 1.15 } else { 1.5 }),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("threads (NT)")
        .y_desc(if speedup {
            "speedup vs 1 thread"
        } else {
            "execution time (s)"
        })
        .x_labels(max_t.min(16))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .label_style((FONT, s * 15.0))
        .axis_desc_style((FONT, s * 17.0))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    for st in stats {
        let color = rgb(series_color(st.series));
        let pts: Vec<(f64, f64)> = st
            .points
            .iter()
            .map(|p| (p.threads as f64, y_of(st, p.median_secs)))
            .collect();
        // Real CPython dashed, in the colour of the emulated series it is compared with.
        let real = st.series.runtime == Runtime::Cpython;
        let line = if real {
            chart.draw_series(DashedLineSeries::new(
                pts.clone(),
                px(12.0),
                px(7.0),
                color.stroke_width(px(3.0)),
            ))
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(px(3.0))))
        };
        line.map_err(err)?.label(st.label()).legend(move |(x, y)| {
            PathElement::new(
                vec![(x, y), (x + (12.0 * s) as i32, y)],
                color.stroke_width((3.0 * s) as u32),
            )
        });
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, y)| Circle::new((x, y), px(4.0), color.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(st.points.iter().map(|p| {
                let (a, b) = (y_of(st, p.min_secs), y_of(st, p.max_secs));
                PathElement::new(
                    vec![(p.threads as f64, a), (p.threads as f64, b)],
                    color.stroke_width(px(1.5)),
                )
            }))
            .map_err(err)?;
        if !speedup
            && !real
            && let Some(base) = st
                .points
                .iter()
                .find(|p| p.threads == 1)
                .map(|p| p.median_secs)
        {
            let ideal: Vec<(f64, f64)> = (1..=max_t)
                .map(|t| (t as f64, base / ideal_workers(t)))
                .collect();
            // Dotted: dashes are the real CPython's.
            chart
                .draw_series(DashedLineSeries::new(
                    ideal,
                    px(2.0),
                    px(5.0),
                    color.mix(0.55).stroke_width(px(1.5)),
                ))
                .map_err(err)?;
        }
    }
    if speedup {
        let ideal: Vec<(f64, f64)> = (1..=max_t).map(|t| (t as f64, ideal_workers(t))).collect();
        chart
            .draw_series(DashedLineSeries::new(
                ideal,
                px(2.0),
                px(5.0),
                RGBColor(120, 120, 120).stroke_width(px(1.5)),
            ))
            .map_err(err)?
            .label("ideal scaling")
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + (12.0 * s) as i32, y)],
                    RGBColor(120, 120, 120).stroke_width((1.5 * s) as u32),
                )
            });
    }
    chart
        .configure_series_labels()
        .position(if speedup {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .label_font((FONT, s * 16.0))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

const SWEEP_SIZE: (u32, u32) = (960, 600);

/// The time-vs-threads plot as PNG (2× scale).
/// The ideal lines stop at `cores`, the machine's.
pub fn sweep_png(
    stats: &[SeriesStats],
    title: &str,
    speedup: bool,
    cores: usize,
) -> Result<Vec<u8>> {
    let (w, h) = (
        (SWEEP_SIZE.0 as f64 * PNG_SCALE) as u32,
        (SWEEP_SIZE.1 as f64 * PNG_SCALE) as u32,
    );
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw_sweep(&root, stats, title, speedup, cores, PNG_SCALE)?;
    }
    encode_png(&buf, w, h)
}

/// The time-vs-threads plot as SVG.
pub fn sweep_svg(
    stats: &[SeriesStats],
    title: &str,
    speedup: bool,
    cores: usize,
) -> Result<Vec<u8>> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SWEEP_SIZE).into_drawing_area();
        draw_sweep(&root, stats, title, speedup, cores, 1.0)?;
    }
    Ok(out.into_bytes())
}

/// The title of a timeline or grid export: a script's file, threads and processes, or the
/// benchmark's series and its parameters.
pub fn run_title(what: &str, s: &RunSummary) -> String {
    if s.program_output.is_some() && s.attached_pid.is_none() {
        let processes: std::collections::BTreeSet<u32> = s.workers.iter().map(|w| w.pid).collect();
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        return format!(
            "{what}: {}.py as a script · {} in {} · {} · {} cores · {}",
            s.program,
            plural(s.workers.len(), "lane", "lanes"),
            plural(processes.len(), "process", "processes"),
            s.interpreter.label(),
            s.cores,
            today()
        );
    }
    let series = match (s.mode, s.kernel) {
        (Some(m), Some(k)) => format!("{} ({m}:{k})", Series::new(m, k).label()),
        _ => "run".to_owned(),
    };
    format!(
        "{what}: {series} · {} workers · grid {} · {} problems × {} iterations · {} cores · {}",
        s.threads,
        s.grid,
        s.problems,
        s.iters,
        s.cores,
        today()
    )
}

fn draw_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    m: &TimelineModel,
    summary: &RunSummary,
    s: f64,
) -> Result<()> {
    register_fonts();
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let f = |v: f64| (v * s) as i32;
    let text = |size: f64| (FONT, size * s).into_font().color(&rgb(LIGHT.text));
    root.draw(&Text::new(
        run_title("Timeline", summary),
        (f(16.0), f(12.0)),
        text(16.0),
    ))
    .map_err(err)?;
    let label_w = f(170.0);
    let x0 = label_w;
    let lane_w = (w as i32 - x0 - f(16.0)).max(10);
    let window = m.full_window();
    let top = f(64.0);
    // Time axis.
    let step = crate::view::timeline::tick_step_ns(window.width_ns(), 10.0);
    let mut t = m.start_ns as f64;
    while t <= window.end_ns {
        let x = x0 + window.x_of(t, lane_w as f32) as i32;
        root.draw(&Text::new(
            crate::view::timeline::fmt_rel(t - m.start_ns as f64),
            (x + f(2.0), top - f(20.0)),
            text(11.0),
        ))
        .map_err(err)?;
        root.draw(&PathElement::new(
            vec![(x, top - f(6.0)), (x, top)],
            RGBColor(150, 150, 150).stroke_width(1),
        ))
        .map_err(err)?;
        t += step;
    }
    let lanes = m.display_lanes();
    let mut y = top;
    for lane in &lanes {
        let h = match lane.kind {
            LaneKind::Core(_) if m.core_lanes.len() > 16 => f(8.0),
            LaneKind::Core(_) => f(26.0),
            LaneKind::Gil { .. } => f(18.0),
            LaneKind::Worker(_) => f(22.0),
        };
        if h >= f(10.0) {
            let mut text_x = f(8.0);
            if let LaneKind::Worker(i) = lane.kind {
                root.draw(&Rectangle::new(
                    [(f(8.0), y + h / 2 - f(5.0)), (f(18.0), y + h / 2 + f(5.0))],
                    rgb(worker_color(i as usize)).filled(),
                ))
                .map_err(err)?;
                text_x = f(22.0);
            }
            root.draw(&Text::new(
                lane.label.clone(),
                (text_x, y + h / 2 - f(7.0)),
                (FONT, 13.0 * s).into_font().color(&rgb(LIGHT.text)),
            ))
            .map_err(err)?;
        }
        root.draw(&Rectangle::new(
            [(x0, y), (x0 + lane_w, y + h)],
            rgb(LIGHT.idle).filled(),
        ))
        .map_err(err)?;
        for seg in bin_lane(lane, &window, lane_w as usize, LIGHT.idle) {
            root.draw(&Rectangle::new(
                [(x0 + seg.x0 as i32, y), (x0 + seg.x1 as i32, y + h)],
                rgb(seg.color).filled(),
            ))
            .map_err(err)?;
        }
        match lane.kind {
            LaneKind::Core(c) => {
                let sh = (h / 5).max(2);
                for (a, b, busy) in m.busy_segments(c as usize, &window, lane_w as f32) {
                    let col = rgb(LIGHT.idle.mix(LIGHT.text, busy));
                    root.draw(&Rectangle::new(
                        [(x0 + a as i32, y + h - sh), (x0 + b as i32, y + h)],
                        col.filled(),
                    ))
                    .map_err(err)?;
                }
            }
            gil @ LaneKind::Gil { .. } => {
                for x in m.handoff_pixels(gil, &window, lane_w as f32) {
                    let x = x0 + x as i32;
                    root.draw(&PathElement::new(
                        vec![(x, y), (x, y + h)],
                        RGBColor(60, 60, 60).stroke_width(1),
                    ))
                    .map_err(err)?;
                }
                for x in m.drop_request_pixels(gil, &window, lane_w as f32) {
                    let x = x0 + x as i32;
                    root.draw(&Polygon::new(
                        vec![(x - f(3.0), y), (x + f(3.0), y), (x, y + f(5.0))],
                        rgb(state_color(SpanState::GilWait)).filled(),
                    ))
                    .map_err(err)?;
                }
            }
            LaneKind::Worker(w) => {
                for x in m.starvation_pixels(w, &window, lane_w as f32) {
                    let x = x0 + x as i32;
                    root.draw(&Polygon::new(
                        vec![
                            (x - f(5.0), y + h),
                            (x + f(5.0), y + h),
                            (x, y + h - f(8.0)),
                        ],
                        rgb(state_color(SpanState::Starved)).filled(),
                    ))
                    .map_err(err)?;
                }
            }
        }
        y += h + f(3.0);
    }
    // Legend.
    let mut x = f(16.0);
    let ly = y + f(14.0);
    let mut items: Vec<(String, Rgb)> = SpanState::ALL
        .iter()
        .filter(|st| m.legend_shows(**st))
        .map(|st| (st.label().to_owned(), state_color(*st)))
        .collect();
    items.push(("mixed".to_owned(), MIXED));
    items.push(("idle".to_owned(), LIGHT.idle));
    let mut ly = ly;
    for (label, c) in items {
        let item_w = f(30.0) + f(6.6 * label.chars().count() as f64);
        if x + item_w > w as i32 - f(8.0) {
            x = f(16.0);
            ly += f(22.0);
        }
        root.draw(&Rectangle::new(
            [(x, ly), (x + f(14.0), ly + f(14.0))],
            rgb(c).filled(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(label.clone(), (x + f(19.0), ly), text(13.0)))
            .map_err(err)?;
        x += item_w;
    }
    root.present().map_err(err)?;
    Ok(())
}

fn timeline_height(m: &TimelineModel) -> u32 {
    let lanes = m.display_lanes();
    let h: f64 = lanes
        .iter()
        .map(|l| match l.kind {
            LaneKind::Core(_) if m.core_lanes.len() > 16 => 11.0,
            LaneKind::Core(_) => 29.0,
            LaneKind::Gil { .. } => 21.0,
            LaneKind::Worker(_) => 25.0,
        })
        .sum();
    (64.0 + h + 74.0) as u32
}

const TIMELINE_WIDTH: u32 = 960;

/// The timeline of a run as PNG (2× scale).
pub fn timeline_png(m: &TimelineModel, summary: &RunSummary) -> Result<Vec<u8>> {
    let (w, h) = (
        (TIMELINE_WIDTH as f64 * PNG_SCALE) as u32,
        (timeline_height(m) as f64 * PNG_SCALE) as u32,
    );
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw_timeline(&root, m, summary, PNG_SCALE)?;
    }
    encode_png(&buf, w, h)
}

/// The timeline of a run as SVG.
pub fn timeline_svg(m: &TimelineModel, summary: &RunSummary) -> Result<Vec<u8>> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (TIMELINE_WIDTH, timeline_height(m)))
            .into_drawing_area();
        draw_timeline(&root, m, summary, 1.0)?;
    }
    Ok(out.into_bytes())
}

/// The heat grids (one tile per worker) as PNG with the colour scale.
pub fn grid_png(frames: &[GridFrame], summary: &RunSummary) -> Result<Vec<u8>> {
    register_fonts();
    if frames.is_empty() {
        return Err(anyhow!("no grid to export yet: run something first"));
    }
    let s = PNG_SCALE;
    let tile = (300.0 * s) as u32;
    let gap = (16.0 * s) as u32;
    let cols = (frames.len() as u32).min(4);
    let rows = (frames.len() as u32).div_ceil(cols);
    let top = (60.0 * s) as u32;
    let label_h = (24.0 * s) as u32;
    let bar_h = (70.0 * s) as u32;
    let w = (cols * (tile + gap) + gap).max((820.0 * s) as u32);
    let h = top + rows * (tile + label_h + gap) + bar_h;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let text = |size: f64| (FONT, size * s).into_font().color(&rgb(LIGHT.text));
        root.draw(&Text::new(
            run_title("Heat grid", summary),
            ((16.0 * s) as i32, (14.0 * s) as i32),
            text(16.0),
        ))
        .map_err(err)?;
        let (lo, hi) = HEAT_RANGE;
        for (i, f) in frames.iter().enumerate() {
            let (c, r) = (i as u32 % cols, i as u32 / cols);
            let x = (gap + c * (tile + gap)) as i32;
            let y = (top + r * (tile + label_h + gap)) as i32;
            root.draw(&Text::new(
                format!(
                    "worker {} · pid {} · tid {} · problem {} · iteration {}",
                    f.worker, f.pid, f.tid, f.problem, f.iter
                ),
                (x, y),
                text(12.0),
            ))
            .map_err(err)?;
            let y = y + label_h as i32;
            let cell = tile as f64 / f.cols.max(f.rows).max(1) as f64;
            for rr in 0..f.rows {
                for cc in 0..f.cols {
                    let v = f.cells[(rr * f.cols + cc) as usize];
                    let col = rgb(heat_color(heat_t(v)));
                    let (a, b) = (
                        (x as f64 + cc as f64 * cell) as i32,
                        (y as f64 + rr as f64 * cell) as i32,
                    );
                    let (a2, b2) = (
                        (x as f64 + (cc + 1) as f64 * cell) as i32,
                        (y as f64 + (rr + 1) as f64 * cell) as i32,
                    );
                    root.draw(&Rectangle::new([(a, b), (a2, b2)], col.filled()))
                        .map_err(err)?;
                }
            }
        }
        let by = (h - bar_h + (20.0 * s) as u32) as i32;
        let bx = (16.0 * s) as i32;
        let bw = (400.0 * s) as i32;
        for i in 0..bw {
            let col = rgb(heat_color(i as f32 / bw as f32));
            root.draw(&Rectangle::new(
                [(bx + i, by), (bx + i + 1, by + (16.0 * s) as i32)],
                col.filled(),
            ))
            .map_err(err)?;
        }
        root.draw(&Text::new(
            format!("{lo:.1}"),
            (bx, by + (20.0 * s) as i32),
            text(12.0),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            format!("{:.2}", heat_value(0.5)),
            (bx + bw / 2, by + (20.0 * s) as i32),
            text(12.0),
        ))
        .map_err(err)?;
        root.draw(&Text::new(format!("{hi:.1}  temperature (0 = cold boundary, first row = ic from 1 to 2; scale lifts faint heat)"), (bx + bw - (20.0 * s) as i32, by + (20.0 * s) as i32), text(12.0))).map_err(err)?;
        root.present().map_err(err)?;
    }
    encode_png(&buf, w, h)
}

#[cfg(test)]
mod tests {
    use super::run_title;
    use gilscope_engine::trace::summary::{ProgramOutput, RunSummary, WorkerSummary};

    #[test]
    fn a_speedup_plot_is_titled_as_one() {
        let spec = gilscope_engine::measure::sweep::SweepSpec::default_for(
            gilscope_engine::config::RunConfig::default(),
        );
        let stats = Vec::new();
        let title = super::sweep_title(&spec, true);
        let svg = String::from_utf8(super::sweep_svg(&stats, &title, true, 2).unwrap()).unwrap();
        assert!(svg.contains("Speedup vs threads"), "{svg}");
        assert!(!svg.contains("Execution time vs threads"));
        let title = super::sweep_title(&spec, false);
        let svg = String::from_utf8(super::sweep_svg(&stats, &title, false, 2).unwrap()).unwrap();
        assert!(svg.contains("Execution time vs threads"));
    }

    #[test]
    fn a_scripts_title_names_the_file_its_lanes_and_processes_not_the_heat_parameters() {
        let mut s = RunSummary {
            program: "count_pool".to_owned(),
            cores: 2,
            program_output: Some(ProgramOutput::default()),
            ..RunSummary::default()
        };
        for pid in [10, 11, 12] {
            s.workers.push(WorkerSummary {
                pid,
                ..WorkerSummary::default()
            });
        }
        let t = run_title("Timeline", &s);
        assert!(
            t.starts_with("Timeline: count_pool.py as a script · 3 lanes in 3 processes"),
            "{t}"
        );
        assert!(!t.contains("problems"), "{t}");
        s.program_output = None;
        assert!(run_title("Timeline", &s).contains("problems"));
    }
}
