//! The window's layout: controls on the left, figures and teaching on the right, the timeline
//! in the middle (the largest view), the heat grid and the time-vs-threads plot below it.

pub mod controls;
pub mod figures;
pub mod heat;
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
    // Side panels take a share of the window, so a 1280×720 projector keeps a wide centre.
    let window_w = ui.available_width();
    egui::Panel::left("controls")
        .resizable(true)
        .default_size((window_w * 0.2).clamp(230.0, 320.0))
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("controls_scroll")
                .show(ui, |ui| {
                    program::show(ui, settings, session, cmds);
                    ui.separator();
                    controls::show(ui, settings, session, cmds);
                });
        });
    egui::Panel::right("side")
        .resizable(true)
        .default_size((window_w * 0.26).clamp(260.0, 420.0))
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("side_scroll")
                .show(ui, |ui| {
                    figures::show(ui, session);
                    ui.separator();
                    teach::show(ui, settings, session);
                });
        });
    // The timeline is the largest view: the lower row never takes more than 60% of the height.
    let full = ui.available_height();
    let lower = (full * 0.38).max(220.0);
    egui::Panel::bottom("lower")
        .resizable(true)
        .default_size(lower)
        .max_size((full * 0.6).max(240.0))
        .show(ui, |ui| {
            // Children size themselves to the panel, not to whatever height is left on screen.
            let height = ui.available_height();
            ui.set_max_height(height);
            ui.columns(2, |cols| {
                heat::show(&mut cols[0], settings, session, heat, cmds);
                plot::show(&mut cols[1], settings, session, cmds);
            });
        });
    egui::CentralPanel::default_margins()
        .show(ui, |ui| timeline::show(ui, settings, session, cmds));
}
