//! The timeline view: one lane per core (with its measured busy strip), a GIL lane per process,
//! one lane per worker, on one time axis; live scrolling, wheel zoom, drag pan, fit, hover.

use egui::{Align2, FontId, Rect, Sense, Stroke, pos2, vec2};

use super::super::command::{Command, ExportTarget};
use super::super::session::Session;
use super::super::settings::Settings;
use super::super::theme::{c32, palette};
use crate::view::theme::{MIXED, Palette, state_color, text_on, worker_color};
use crate::view::timeline::{
    CacheKey, Lane, LaneKind, TimeWindow, TimelineModel, fmt_rel, tick_step_ns,
};
use gilscope_engine::trace::spans::SpanState;

/// Width of the lane-label column, in points.
pub const LABEL_WIDTH: f32 = 150.0;
const AXIS_HEIGHT: f32 = 18.0;

/// Heights of the lanes, squeezed to fit `avail` (cores compress first when there are many).
/// How much lanes may grow beyond their natural height to fill the timeline.
pub const MAX_LANE_GROWTH: f32 = 4.0;

/// A triangle marking an instant: its base on `base_y`, `half_w` either side of `cx`, its tip
/// `tip_dy` below the base (negative: above).
fn wedge(
    painter: &egui::Painter,
    cx: f32,
    base_y: f32,
    half_w: f32,
    tip_dy: f32,
    fill: egui::Color32,
    stroke: Stroke,
) {
    painter.add(egui::Shape::convex_polygon(
        vec![
            pos2(cx - half_w, base_y),
            pos2(cx + half_w, base_y),
            pos2(cx, base_y + tip_dy),
        ],
        fill,
        stroke,
    ));
}

/// Each lane's height in points, filling `avail` as far as [`MAX_LANE_GROWTH`] allows.
pub fn lane_heights(lanes: &[&Lane], avail: f32) -> Vec<f32> {
    let cores = lanes
        .iter()
        .filter(|l| matches!(l.kind, LaneKind::Core(_)))
        .count();
    let want = |l: &Lane| match l.kind {
        LaneKind::Core(_) if cores > 16 => 6.0,
        LaneKind::Core(_) => 24.0,
        LaneKind::Gil { .. } => 16.0,
        LaneKind::Worker(_) => 20.0,
    };
    let total: f32 = lanes.iter().map(|l| want(l) + 2.0).sum();
    // Squeeze to fit; grow (up to 4×) to use the timeline's height, so few lanes read well
    // from the back of a room.
    let scale = if total > avail {
        (avail / total).max(0.2)
    } else {
        (avail / total).min(MAX_LANE_GROWTH)
    };
    lanes.iter().map(|l| (want(l) * scale).max(3.0)).collect()
}

fn legend(ui: &mut egui::Ui, model: Option<&TimelineModel>) {
    for st in SpanState::ALL {
        let shown = match model {
            Some(m) => m.legend_shows(st),
            None => !matches!(
                st,
                SpanState::DropRequest
                    | SpanState::Starved
                    | SpanState::OnCpu
                    | SpanState::Sleeping
                    | SpanState::LockWait
                    | SpanState::Handoff
            ),
        };
        if !shown {
            continue;
        }
        let (r, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
        ui.painter().rect_filled(r, 2.0, c32(state_color(st)));
        ui.label(st.label());
    }
    let (r, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
    ui.painter().rect_filled(r, 2.0, c32(MIXED));
    ui.label("mixed (finer than a pixel)");
    let (r, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
    ui.painter().rect_filled(
        Rect::from_min_max(pos2(r.min.x, r.max.y - 4.0), r.max),
        0.0,
        c32(palette(false).text),
    );
    ui.label("core busy (strip under each core, /proc/stat)")
        .on_hover_text("The strip under a core lane: how busy the OS saw that core, whoever ran there (darker is busier). w0, w1… on the core and GIL lanes name the worker.");
}

/// Draws the timeline and handles zoom, pan and hover.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    cmds: &mut Vec<Command>,
) {
    let pal = palette(settings.dark);
    ui.horizontal_wrapped(|ui| {
        ui.heading("Timeline").on_hover_text("Cores, GILs and workers on one time axis. Wheel: zoom. Drag: pan. Double-click or F: whole run. L: follow live.");
        let live = session.timeline_view.follow;
        if ui.selectable_label(live, "Live").on_hover_text("Follow the last seconds of the run (L)").clicked() {
            cmds.push(Command::FollowLive);
        }
        if ui.selectable_label(!live, "Pause").on_hover_text("Freeze the view while the run goes on (P)").clicked() {
            cmds.push(Command::PauseTimeline);
        }
        if ui.button("Fit whole run").on_hover_text("F").clicked() {
            cmds.push(Command::FitTimeline);
        }
        super::labelled(ui, "window (s)", |ui| ui.add(egui::DragValue::new(&mut settings.live_window_secs).range(0.1..=60.0).speed(0.1)));
        if ui.small_button("PNG").clicked() {
            cmds.push(Command::Export(ExportTarget::TimelinePng));
        }
        if ui.small_button("SVG").clicked() {
            cmds.push(Command::Export(ExportTarget::TimelineSvg));
        }
        if ui.small_button("Copy").on_hover_text("Copy the timeline as an image").clicked() {
            cmds.push(Command::CopyImage(ExportTarget::TimelinePng));
        }
    });
    ui.horizontal_wrapped(|ui| legend(ui, session.timeline.as_ref()));
    let Some(model) = session.timeline.as_mut() else {
        ui.label("Run something to see which core is busy, who holds the GIL and who waits.");
        return;
    };
    model.prepare();
    let dropped = model.engine_dropped + session.events.dropped_spans();
    if dropped > 0 || model.trimmed > 0 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "Note: {dropped} spans were dropped by the engine or the live channel, {} old spans let go to bound memory; times and figures stay exact.",
                model.trimmed
            ),
        );
    }
    let running = session.live.is_some();
    let window = if session.timeline_view.follow && running {
        model.live_window(settings.live_window_secs)
    } else if session.timeline_view.follow {
        model.full_window()
    } else {
        session.timeline_view.window
    };

    let avail = ui.available_rect_before_wrap();
    let summary_h = (model.worker_lanes.len().min(8) as f32) * 16.0 + 6.0;
    let rect = Rect::from_min_max(
        avail.min,
        pos2(
            avail.max.x,
            (avail.max.y - summary_h).max(avail.min.y + 60.0),
        ),
    );
    let resp = ui.allocate_rect(rect, Sense::click_and_drag());
    let lanes_rect = Rect::from_min_max(
        pos2(rect.min.x + LABEL_WIDTH, rect.min.y + AXIS_HEIGHT),
        rect.max,
    );
    let width_px = lanes_rect.width().max(1.0);

    // Interaction: wheel zooms around the pointer, drag pans, double-click fits.
    let mut new_window = None;
    if resp.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        let zoom = ui.input(|i| i.zoom_delta());
        let factor = if (zoom - 1.0).abs() > 1e-4 {
            zoom as f64
        } else {
            (scroll as f64 * 0.004).exp()
        };
        if (factor - 1.0).abs() > 1e-4
            && let Some(p) = resp.hover_pos()
        {
            let mut w = window;
            w.zoom(((p.x - lanes_rect.min.x) / width_px) as f64, factor);
            new_window = Some(w);
        }
    }
    if resp.dragged() {
        let mut w = new_window.unwrap_or(window);
        w.pan_px(resp.drag_delta().x, width_px);
        new_window = Some(w);
    }
    if resp.double_clicked() {
        cmds.push(Command::FitTimeline);
    }
    if let Some(w) = new_window {
        session.timeline_view.window = w;
        session.timeline_view.follow = false;
    }

    let painter = ui.painter_at(rect);
    let lanes = model.display_lanes();
    let heights = lane_heights(&lanes, lanes_rect.height());
    let key = CacheKey {
        window_ns: (window.start_ns as u64, window.end_ns as u64),
        width_px: width_px as usize,
        spans: model.span_count,
        last_ns: model.last_ns,
        idle: pal.idle,
    };
    let segments = session
        .timeline_segments
        .get(key, lanes.iter().copied(), &window);
    draw_axis(&painter, rect, lanes_rect, &window, model.start_ns, &pal);
    let mut y = lanes_rect.min.y;
    let mut rows: Vec<(Rect, usize)> = Vec::with_capacity(lanes.len());
    let mut targets = super::super::session::CalloutTargets {
        figures: session.targets.figures,
        table: session.targets.table,
        tree: session.targets.tree,
        ..Default::default()
    };
    for (i, lane) in lanes.iter().enumerate() {
        let h = heights[i];
        let row = Rect::from_min_size(pos2(lanes_rect.min.x, y), vec2(width_px, h));
        rows.push((row, i));
        let group = match lane.kind {
            LaneKind::Core(_) => &mut targets.core_lanes,
            LaneKind::Gil { .. } => &mut targets.gil_lanes,
            LaneKind::Worker(_) => &mut targets.worker_lanes,
        };
        // The whole group, labels included, so a callout frames what it names.
        let labelled = Rect::from_min_max(pos2(rect.min.x, row.min.y), row.max);
        *group = Some(group.map_or(labelled, |g| g.union(labelled)));
        painter.rect_filled(row, 0.0, c32(pal.idle));
        for s in &segments[i] {
            let r = Rect::from_x_y_ranges(row.min.x + s.x0..=row.min.x + s.x1, row.y_range());
            painter.rect_filled(r, 0.0, c32(s.color));
        }
        // Who: the holder on a GIL lane, the worker that ran on a core lane, as "w0".
        if h >= 12.0 && !matches!(lane.kind, LaneKind::Worker(_)) {
            for s in segments[i].iter().filter(|s| s.x1 - s.x0 >= 22.0) {
                let t = window.start_ns
                    + window.width_ns() * f64::from((s.x0 + s.x1) / 2.0) / f64::from(width_px);
                let Some(sp) = lane.span_at(t.max(0.0) as u64, 0) else {
                    continue;
                };
                let bg = if matches!(lane.kind, LaneKind::Gil { .. }) {
                    worker_color(sp.worker as usize)
                } else {
                    state_color(sp.state)
                };
                painter.text(
                    pos2(row.min.x + (s.x0 + s.x1) / 2.0, row.center().y),
                    Align2::CENTER_CENTER,
                    format!("w{}", sp.worker),
                    FontId::proportional((h * 0.6).clamp(9.0, 16.0)),
                    c32(text_on(bg)),
                );
            }
        }
        let show_label = h >= 9.0 || matches!(lane.kind, LaneKind::Core(c) if c % 8 == 0);
        if show_label {
            // A worker's title: its identity colour as a swatch, the text in the text colour.
            let text_x = match lane.kind {
                LaneKind::Worker(w) => {
                    let side = (h * 0.6).clamp(6.0, 12.0);
                    let sw = Rect::from_center_size(
                        pos2(rect.min.x + 4.0 + side / 2.0, row.center().y),
                        vec2(side, side),
                    );
                    painter.rect_filled(sw, 2.0, c32(worker_color(w as usize)));
                    painter.rect_stroke(
                        sw,
                        2.0,
                        Stroke::new(1.0, c32(pal.weak)),
                        egui::StrokeKind::Inside,
                    );
                    rect.min.x + 8.0 + side
                }
                _ => rect.min.x + 4.0,
            };
            painter.text(
                pos2(text_x, row.center().y),
                Align2::LEFT_CENTER,
                &lane.label,
                FontId::proportional((h * 0.7).clamp(8.0, 13.0)),
                c32(pal.text),
            );
        }
        match lane.kind {
            LaneKind::Core(c) => {
                let strip_h = (h * 0.22).clamp(2.0, 5.0);
                let strip = Rect::from_min_max(pos2(row.min.x, row.max.y - strip_h), row.max);
                for (x0, x1, busy) in model.busy_segments(c as usize, &window, width_px) {
                    let r =
                        Rect::from_x_y_ranges(strip.min.x + x0..=strip.min.x + x1, strip.y_range());
                    painter.rect_filled(r, 0.0, c32(pal.idle.mix(pal.text, busy)));
                }
            }
            gil @ LaneKind::Gil { .. } => {
                for x in model.handoff_pixels(gil, &window, width_px) {
                    painter.line_segment(
                        [
                            pos2(row.min.x + x, row.min.y),
                            pos2(row.min.x + x, row.max.y),
                        ],
                        Stroke::new(1.0, c32(pal.text).gamma_multiply(0.5)),
                    );
                }
                for x in model.drop_request_pixels(gil, &window, width_px) {
                    let fill = c32(state_color(SpanState::GilWait));
                    wedge(
                        &painter,
                        row.min.x + x,
                        row.min.y,
                        3.0,
                        5.0,
                        fill,
                        Stroke::NONE,
                    );
                }
            }
            LaneKind::Worker(w) => {
                // A starved wait ended here: an upward wedge at the lane's foot.
                for x in model.starvation_pixels(w, &window, width_px) {
                    let fill = c32(state_color(SpanState::Starved));
                    let edge = Stroke::new(1.0, c32(pal.background));
                    wedge(&painter, row.min.x + x, row.max.y, 5.0, -8.0, fill, edge);
                }
            }
        }
        y += h + 2.0;
    }
    session.targets = targets;

    // Hover: the span under the pointer, and the lane's shares in the window.
    if let Some(p) = resp.hover_pos()
        && let Some((row, i)) = rows
            .iter()
            .find(|(r, _)| r.y_range().contains(p.y) && p.x >= r.min.x)
    {
        let lane = lanes[*i];
        let t = window.t_of(p.x - row.min.x, width_px) as u64;
        let tol = (3.0 * window.width_ns() / width_px as f64) as u64;
        let span = lane.span_at(t, tol).copied();
        let shares = lane.state_secs(window.start_ns.max(0.0) as u64, window.end_ns as u64);
        let start = model.start_ns;
        resp.clone().on_hover_ui_at_pointer(|ui| {
            ui.strong(&lane.label);
            if let Some(s) = span {
                ui.label(format!(
                    "worker {} · {}\nstart +{} · lasts {}\ncore {} · pid {} · tid {}",
                    s.worker,
                    s.state.label(),
                    fmt_rel(s.start_ns as f64 - start as f64),
                    fmt_rel(s.dur_ns() as f64),
                    if s.cpu == gilscope_engine::trace::spans::NO_CPU {
                        "?".to_owned()
                    } else {
                        s.cpu.to_string()
                    },
                    s.pid,
                    s.tid
                ));
            } else {
                ui.label("idle here");
            }
            ui.label(shares_text(
                &shares,
                window.width_ns() / 1e9,
                model.interpreter_has_gil,
            ));
        });
    }
    // Idle with the pointer resting here: egui repaints when the pointer moves, and not else.

    // Summary rows: each worker's shares of the visible window, as numbers.
    let mut y = rect.max.y + 4.0;
    for lane in model.worker_lanes.iter().take(8) {
        let shares = lane.state_secs(window.start_ns.max(0.0) as u64, window.end_ns as u64);
        ui.painter().text(
            pos2(rect.min.x + 4.0, y),
            Align2::LEFT_TOP,
            format!(
                "{}:  {}",
                lane.label,
                shares_text(&shares, window.width_ns() / 1e9, model.interpreter_has_gil)
            ),
            FontId::proportional(12.0),
            c32(pal.text),
        );
        y += 16.0;
    }
    ui.allocate_rect(
        Rect::from_min_max(pos2(rect.min.x, rect.max.y), pos2(rect.max.x, y)),
        Sense::hover(),
    );
}

/// `holds GIL 48% · waits 51% · …` of a window `secs` long; without a GIL (free-threaded,
/// no-GIL builds) `runs Python 97% · …`, since nothing is held or waited for. A lock wait or
/// a GIL hand-off is named only where there was one.
pub fn shares_text(shares: &[f64; SpanState::COUNT], secs: f64, has_gil: bool) -> String {
    let pct = |st: SpanState| 100.0 * shares[st as usize] / secs.max(1e-12);
    let mut text = if has_gil {
        format!(
            "holds GIL {:.0}% · waits {:.0}% · native {:.0}% · I/O {:.0}%",
            pct(SpanState::Python),
            pct(SpanState::GilWait),
            pct(SpanState::Native),
            pct(SpanState::Io)
        )
    } else {
        format!(
            "runs Python {:.0}% · native {:.0}% · I/O {:.0}%",
            pct(SpanState::Python) + pct(SpanState::OnCpu),
            pct(SpanState::Native),
            pct(SpanState::Io)
        )
    };
    for (st, name) in [
        (SpanState::LockWait, "lock"),
        (SpanState::Handoff, "hand-off"),
    ] {
        if pct(st) >= 0.5 {
            text.push_str(&format!(" · {name} {:.0}%", pct(st)));
        }
    }
    text
}

fn draw_axis(
    painter: &egui::Painter,
    rect: Rect,
    lanes: Rect,
    w: &TimeWindow,
    start_ns: u64,
    pal: &Palette,
) {
    let step = tick_step_ns(w.width_ns(), (lanes.width() / 110.0) as f64);
    let first = ((w.start_ns - start_ns as f64) / step).ceil() * step + start_ns as f64;
    let mut t = first;
    let mut n = 0;
    while t <= w.end_ns && n < 200 {
        let x = lanes.min.x + w.x_of(t, lanes.width());
        painter.line_segment(
            [pos2(x, rect.min.y + AXIS_HEIGHT - 4.0), pos2(x, rect.max.y)],
            Stroke::new(1.0, c32(pal.weak).gamma_multiply(0.25)),
        );
        painter.text(
            pos2(x + 2.0, rect.min.y + 1.0),
            Align2::LEFT_TOP,
            fmt_rel(t - start_ns as f64),
            FontId::proportional(11.0),
            c32(pal.weak),
        );
        t += step;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_squeeze_to_fit() {
        let m = crate::view::timeline::TimelineModel::new(64, 0, None);
        let lanes = m.display_lanes();
        let h = lane_heights(&lanes, 300.0);
        assert!(h.iter().all(|&x| x >= 3.0));
        assert!(h.iter().sum::<f32>() <= 64.0 * 8.0 + 1.0);
    }

    #[test]
    fn a_lane_without_a_gil_never_reads_as_holding_one() {
        let mut shares = [0.0; SpanState::COUNT];
        shares[SpanState::Python as usize] = 0.9;
        shares[SpanState::Io as usize] = 0.1;
        let with = shares_text(&shares, 1.0, true);
        assert!(with.starts_with("holds GIL 90%"), "{with}");
        assert!(!with.contains("lock"), "{with}");
        let without = shares_text(&shares, 1.0, false);
        assert!(without.starts_with("runs Python 90%"), "{without}");
        assert!(!without.contains("GIL"), "{without}");
        shares[SpanState::LockWait as usize] = 0.25;
        assert!(shares_text(&shares, 1.0, true).ends_with("lock 25%"));
    }

    #[test]
    fn ticks_are_nice_numbers() {
        assert_eq!(tick_step_ns(1e9, 10.0), 1e8);
        assert_eq!(tick_step_ns(3e9, 10.0), 5e8);
        assert_eq!(tick_step_ns(1.5e6, 10.0), 2e5);
        assert_eq!(fmt_rel(1.5e9), "1.50 s");
        assert_eq!(fmt_rel(2.5e6), "2.5 ms");
        assert_eq!(fmt_rel(850e3), "850 µs");
    }
}
