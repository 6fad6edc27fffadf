//! Execution time as a function of thread count, one line per series, like the source graph:
//! medians joined, every repeat as a dot, the spread as a bar, and dashed ideal scaling.

use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Points};

use super::super::command::{Command, ExportTarget};
use super::super::session::Session;
use super::super::settings::Settings;
use super::super::theme::c32;
use crate::view::theme::series_color;
use gilscope_engine::measure::sweep::aggregate;

/// Draws the plot.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &Session,
    cmds: &mut Vec<Command>,
) {
    // Wraps, so that a narrow column (a 1280×720 projector) never pushes the plot under the
    // side panel.
    ui.horizontal_wrapped(|ui| {
        ui.heading("Time vs threads")
            .on_hover_text("Wall time of the whole benchmark against the number of workers, like the source graph. Dots are single runs, bars their spread, lines the medians.");
        ui.selectable_value(&mut settings.plot_speedup, false, "time");
        ui.selectable_value(&mut settings.plot_speedup, true, "speedup");
        if ui.small_button("PNG").clicked() {
            cmds.push(Command::Export(ExportTarget::SweepPng));
        }
        if ui.small_button("SVG").clicked() {
            cmds.push(Command::Export(ExportTarget::SweepSvg));
        }
        if ui.small_button("CSV").clicked() {
            cmds.push(Command::Export(ExportTarget::SweepCsv));
        }
    });
    let stats = aggregate(&session.sweep_points);
    if stats.is_empty() {
        ui.label("Press Run sweep: each series is run at 1, 2, … threads and its points appear here as they are measured.");
    }
    let speedup = settings.plot_speedup;
    let y_label = if speedup {
        "speedup vs 1 thread"
    } else {
        "execution time (s)"
    };
    let max_t = stats
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.threads))
        .max()
        .unwrap_or(settings.sweep_max_threads.max(2));
    // No machine runs faster than its cores allow: the ideal stops growing there.
    let cores = session.cores.max(1);
    let ideal_workers = |t: usize| t.min(cores) as f64;
    let plot = Plot::new("time_vs_threads")
        .legend(Legend::default())
        .x_axis_label("threads (NT)")
        .y_axis_label(y_label)
        .include_x(0.5)
        .include_x(max_t as f64 + 0.5)
        .include_y(0.0)
        // With nothing measured yet the axis runs from 0 up (egui_plot would centre a lone 0,
        // showing negative times).
        .include_y(if stats.is_empty() { 1.0 } else { 0.0 })
        .allow_scroll(false);
    plot.show(ui, |p| {
        for s in &stats {
            let color = c32(series_color(s.series));
            let label = s.label();
            let base = s
                .points
                .iter()
                .find(|x| x.threads == 1)
                .map(|x| x.median_secs);
            let y = |secs: f64| {
                if speedup {
                    base.map_or(f64::NAN, |b| b / secs)
                } else {
                    secs
                }
            };
            let med: Vec<[f64; 2]> = s
                .points
                .iter()
                .map(|x| [x.threads as f64, y(x.median_secs)])
                .collect();
            // Real CPython dashed, in the colour of the emulated series it is compared with.
            let style = if s.series.runtime == gilscope_engine::config::Runtime::Cpython {
                LineStyle::dashed_dense()
            } else {
                LineStyle::Solid
            };
            p.line(
                Line::new(label.clone(), PlotPoints::from(med))
                    .color(color)
                    .style(style)
                    .width(2.5),
            );
            for x in &s.points {
                let (a, b) = (y(x.min_secs), y(x.max_secs));
                p.line(
                    Line::new(
                        label.clone(),
                        PlotPoints::from(vec![[x.threads as f64, a], [x.threads as f64, b]]),
                    )
                    .color(color)
                    .width(1.0),
                );
            }
            let dots: Vec<[f64; 2]> = session
                .sweep_points
                .iter()
                .filter(|q| q.series == s.series)
                .map(|q| [q.threads as f64, y(q.wall_secs)])
                .collect();
            p.points(
                Points::new(label.clone(), PlotPoints::from(dots))
                    .color(color)
                    .radius(2.5),
            );
            if !speedup && let Some(b) = base {
                let ideal: Vec<[f64; 2]> = (1..=max_t)
                    .map(|t| [t as f64, b / ideal_workers(t)])
                    .collect();
                // Dotted: dashes are the real CPython's.
                p.line(
                    Line::new("ideal scaling", PlotPoints::from(ideal))
                        .color(color.gamma_multiply(0.6))
                        .style(LineStyle::dotted_loose())
                        .width(1.0),
                );
            }
        }
        if speedup && !stats.is_empty() {
            let ideal: Vec<[f64; 2]> = (1..=max_t).map(|t| [t as f64, ideal_workers(t)]).collect();
            p.line(
                Line::new("ideal scaling", PlotPoints::from(ideal))
                    .color(egui::Color32::GRAY)
                    .style(LineStyle::dotted_loose()),
            );
        }
    });
}
