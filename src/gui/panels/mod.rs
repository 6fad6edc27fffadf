//! The window's layout: controls on the left, figures and teaching on the right, the timeline
//! in the middle (the largest view), the heat grid and the time-vs-threads plot below it.

pub mod attach;
pub mod console;
pub mod controls;
pub mod figures;
pub mod heat;
pub mod lessons;
pub mod plot;
pub mod program;
pub mod teach;
pub mod timeline;
pub mod top;

use super::command::Command;
use super::session::Session;
use super::settings::Settings;

/// A label followed by a widget that the label names (for screen readers and tests).
pub fn labelled(
    ui: &mut egui::Ui,
    label: &str,
    add: impl FnOnce(&mut egui::Ui) -> egui::Response,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        add(ui).labelled_by(l.id)
    })
    .inner
}

/// A number typed as text: a value that parses and lies in `lo..=hi` is applied; anything else
/// (`0`, `999`, `abc`, `-3`) is shown as rejected beside the field, and the setting keeps its
/// last good value. Never a silent clamp.
pub fn number_field<T>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    lo: T,
    hi: T,
) -> egui::Response
where
    T: std::str::FromStr + std::fmt::Display + PartialOrd + Copy,
{
    let id = ui.make_persistent_id(("number_field", label));
    // (text being edited, the value it was last synced from)
    let (mut text, synced) = ui
        .data_mut(|d| d.get_temp::<(String, String)>(id))
        .unwrap_or_else(|| (value.to_string(), value.to_string()));
    let current = value.to_string();
    let focused = ui.memory(|m| m.has_focus(id));
    let parses = |t: &str| {
        t.trim()
            .replace('_', "")
            .parse::<T>()
            .ok()
            .filter(|v| *v >= lo && *v <= hi)
    };
    // Changed elsewhere (a preset, a key) while not being edited: show the new value.
    if !focused && (synced != current || parses(&text).is_some()) {
        text = current.clone();
    }
    let resp = ui
        .horizontal(|ui| {
            let l = ui.label(label);
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .id(id)
                        .desired_width(64.0),
                )
                .labelled_by(l.id);
            match parses(&text) {
                Some(v) => *value = v,
                None => {
                    ui.colored_label(
                        super::theme::c32(crate::view::theme::ALARM),
                        format!("rejected: {lo} to {hi}"),
                    );
                }
            }
            r
        })
        .inner;
    ui.data_mut(|d| d.insert_temp(id, (text, value.to_string())));
    resp
}

/// Below this width (in points: 1280×720 in presentation mode is 853 wide) the controls fold
/// away while presenting, for the views.
const NARROW_POINTS: f32 = 1000.0;

/// The least height, in points, the heat grid and the plot below the timeline are drawn at.
const MIN_LOWER_POINTS: f32 = 100.0;

/// Draws the whole window. Panels read the session and push commands; only view-only state
/// (timeline zoom, settings being edited) changes here.
pub fn draw(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    heat: &mut heat::HeatTextures,
    cmds: &mut Vec<Command>,
) {
    egui::Panel::top("top_bar").show(ui, |ui| top::show(ui, settings, session, cmds));
    if settings.lesson.is_some() {
        let h = ui.available_height();
        egui::Panel::top("lesson")
            .resizable(true)
            .default_size(h * 0.34)
            .min_size((h * 0.3).max(120.0))
            .max_size(h * 0.6)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("lesson_scroll")
                    .auto_shrink([false, true])
                    .show(ui, |ui| lessons::show(ui, settings, session, cmds));
            });
    }
    // Side panels take a share of the window, so a 1280×720 projector keeps a wide centre; while
    // presenting on a narrow window (or a lesson) they fold, for the timeline.
    let window_w = ui.available_width();
    let narrow = settings.presentation && window_w < NARROW_POINTS;
    // The controls fold for a lesson too, while presenting; the figures (whose headline the top
    // bar then carries) only on a narrow window. The top bar's buttons bring either back.
    let presenting_lesson = settings.presentation && settings.lesson.is_some();
    if session.controls.decide(narrow || presenting_lesson) {
        egui::Panel::left("controls")
            .resizable(true)
            .default_size((window_w * 0.2).clamp(230.0, 320.0))
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("controls_scroll")
                    .show(ui, |ui| {
                        program::show(ui, settings, session, cmds);
                        attach::show(ui, session, cmds);
                        ui.separator();
                        controls::show(ui, settings, session, cmds);
                    });
            });
    }
    if session.figures.decide(narrow) {
        side_panel(ui, settings, session, cmds, window_w);
    } else {
        session.targets.figures = None;
    }
    lower_and_centre(ui, settings, session, heat, cmds);
}

/// The right panel: the run's figures, then what happens and why.
fn side_panel(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    cmds: &mut Vec<Command>,
    window_w: f32,
) {
    egui::Panel::right("side")
        .resizable(true)
        .default_size((window_w * 0.26).clamp(220.0, 420.0))
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("side_scroll")
                .show(ui, |ui| {
                    let r = ui
                        .scope(|ui| figures::show(ui, session, cmds))
                        .response
                        .rect;
                    session.targets.figures = Some(r);
                    ui.separator();
                    teach::show(ui, settings, session);
                });
        });
}

/// The heat grid and the plot below, the timeline in the centre, and what floats over them.
fn lower_and_centre(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    heat: &mut heat::HeatTextures,
    cmds: &mut Vec<Command>,
) {
    // The timeline is the largest view: the lower row never takes more than 60% of the height.
    let full = ui.available_height();
    // With a lesson open its panel takes a share of the height: the lower row gives some up.
    let share: f32 = if settings.lesson.is_some() {
        0.24
    } else {
        0.38
    };
    // A short window (720p presenting: 450 points) gives the timeline's lanes the room first:
    // the lower row stays under 40% of it, its contents clipped rather than crowding them out.
    let (share, least, most) = if full < 600.0 {
        (share.min(0.3), (full * 0.25).min(120.0), full * 0.4)
    } else {
        (share, 180.0, (full * 0.6).max(240.0))
    };
    let lower = (full * share).max(least).min(most);
    // Its height is remembered per scale: a size dragged (or first laid out) at one zoom is not
    // forced on the other, where it would crowd the timeline out.
    let zoom_pct = (ui.ctx().zoom_factor() * 100.0).round() as u32;
    // Too short to show anything whole (a lesson open on a 720p projector): the timeline alone.
    if most >= MIN_LOWER_POINTS {
        egui::Panel::bottom(("lower", zoom_pct))
            .resizable(true)
            .default_size(lower)
            .max_size(most)
            .show(ui, |ui| {
                // Children size themselves to the panel, not to whatever height is left.
                let height = ui.available_height();
                ui.set_max_height(height);
                ui.columns(2, |cols| {
                    heat::show(&mut cols[0], settings, session, heat, cmds);
                    plot::show(&mut cols[1], settings, session, cmds);
                });
            });
    }
    egui::CentralPanel::default_margins()
        .show(ui, |ui| timeline::show(ui, settings, session, cmds));
    lessons::callout(ui.ctx(), settings, session);
    if let Some(text) = session.confirm.clone() {
        egui::Window::new("A long run")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ui.ctx(), |ui| {
                ui.label(text);
                ui.label("Smaller sizes show the same effect in seconds. Stop (Esc) ends a run at any time.");
                ui.horizontal(|ui| {
                    if ui.button("Run anyway").clicked() {
                        cmds.push(Command::ConfirmRun);
                    }
                    if ui.button("Cancel").clicked() {
                        cmds.push(Command::CancelRun);
                    }
                });
            });
    }
}
