//! The heat grid: one tile per worker (small multiples) from the engine's latest-frame slot,
//! with a colour scale.

use egui::{ColorImage, TextureHandle, TextureOptions};

use super::super::command::{Command, ExportTarget};
use super::super::session::Session;
use super::super::settings::Settings;
use super::super::theme::c32;
use crate::view::theme::{HEAT_RANGE, heat_color, heat_t, heat_value, worker_color};
use gilscope_engine::trace::events::GridFrame;

/// Textures of the tiles, rebuilt only when the frame slot changes.
#[derive(Default)]
pub struct HeatTextures {
    /// Frames changed since the textures were made.
    pub dirty: bool,
    textures: Vec<Option<TextureHandle>>,
}

/// A frame's cells as an image on the heat scale.
pub fn frame_image(f: &GridFrame) -> ColorImage {
    let pixels = f
        .cells
        .iter()
        .map(|&v| c32(heat_color(heat_t(v))))
        .collect();
    ColorImage::new([f.cols as usize, f.rows as usize], pixels)
}

impl HeatTextures {
    fn update(&mut self, ctx: &egui::Context, frames: &[Option<GridFrame>]) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.textures.resize(frames.len(), None);
        for (i, f) in frames.iter().enumerate() {
            let Some(f) = f else {
                self.textures[i] = None;
                continue;
            };
            let img = frame_image(f);
            match &mut self.textures[i] {
                Some(t) if t.size() == img.size => t.set(img, TextureOptions::NEAREST),
                slot => {
                    *slot =
                        Some(ctx.load_texture(format!("heat-{i}"), img, TextureOptions::NEAREST))
                }
            }
        }
    }
}

fn legend(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{:.1}", HEAT_RANGE.0));
        let (rect, resp) = ui.allocate_exact_size(egui::vec2(140.0, 12.0), egui::Sense::hover());
        let p = ui.painter();
        let steps = 28;
        for i in 0..steps {
            let t = i as f32 / steps as f32;
            let x0 = rect.left() + rect.width() * t;
            let x1 = rect.left() + rect.width() * (i + 1) as f32 / steps as f32;
            p.rect_filled(egui::Rect::from_x_y_ranges(x0..=x1 + 0.5, rect.y_range()), 0.0, c32(heat_color(t + 0.5 / steps as f32)));
        }
        resp.on_hover_text(format!(
            "Cell value: 0 is the cold boundary, 1 to 2 the hot first row (ic). The middle of the scale is {:.2}: faint heat is lifted so it stays visible.",
            heat_value(0.5)
        ));
        ui.label(format!("{:.1}  temperature (middle {:.2})", HEAT_RANGE.1, heat_value(0.5)));
    });
}

/// For programs without a grid: their result, large enough for the back row.
fn program_state(ui: &mut egui::Ui, settings: &Settings, session: &Session) {
    ui.heading("Program state").on_hover_text("What the program's report() returned after the last run: the values python3 prints for it.");
    let Some(s) = session.last_summary.as_ref().filter(|s| {
        let spec = std::path::Path::new(&settings.run.program);
        spec.file_stem().and_then(|f| f.to_str()) == Some(s.program.as_str())
    }) else {
        ui.label("The program's result appears here when a run ends.");
        return;
    };
    let Some(result) = s.result.as_object() else {
        return;
    };
    egui::Grid::new("program_state")
        .num_columns(2)
        .show(ui, |ui| {
            for (k, v) in result {
                ui.label(egui::RichText::new(k).size(22.0));
                ui.label(egui::RichText::new(v.to_string()).size(28.0).strong());
                ui.end_row();
            }
        });
}

/// Draws the tiles.
pub fn show(
    ui: &mut egui::Ui,
    settings: &Settings,
    session: &Session,
    tex: &mut HeatTextures,
    cmds: &mut Vec<Command>,
) {
    if !settings.run.is_heat() {
        // A plain script has no report(): its printed output is its state.
        if settings.run.is_script() || session.console.is_some() {
            super::console::show(ui, session, cmds);
        } else {
            program_state(ui, settings, session);
        }
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.heading("Heat grid").on_hover_text("Each worker's current problem, as it is computed (the latest frame, about 20 per second).");
        if ui.small_button("Export PNG").clicked() {
            cmds.push(Command::Export(ExportTarget::GridPng));
        }
        if ui.small_button("Copy").on_hover_text("Copy the tiles as an image").clicked() {
            cmds.push(Command::CopyImage(ExportTarget::GridPng));
        }
    });
    legend(ui);
    tex.update(ui.ctx(), &session.frames);
    let tiles: Vec<(&GridFrame, &TextureHandle)> = session
        .frames
        .iter()
        .zip(&tex.textures)
        .filter_map(|(f, t)| Some((f.as_ref()?, t.as_ref()?)))
        .collect();
    if tiles.is_empty() {
        ui.label("The grids appear here while a run is going.");
        return;
    }
    // Bounded by the panel: the tiles must never push the panel (and the timeline) around.
    let avail = egui::vec2(
        ui.available_width(),
        (ui.max_rect().bottom() - ui.cursor().top()).max(40.0),
    );
    let n = tiles.len();
    let label_h = 26.0;
    let mut best = (1usize, 0.0f32);
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        let side = ((avail.x / cols as f32) - 6.0).min((avail.y / rows as f32) - label_h - 6.0);
        if side > best.1 {
            best = (cols, side);
        }
    }
    let (cols, side) = (best.0, (best.1 - 4.0).max(24.0));
    egui::Grid::new("heat_tiles")
        .spacing([6.0, 2.0])
        .show(ui, |ui| {
            for (i, (f, t)) in tiles.iter().enumerate() {
                ui.vertical(|ui| {
                    let mp = session.timeline.as_ref().and_then(|t| t.mode)
                        == Some(gilscope_engine::Mode::Multiprocessing);
                    let who = if mp {
                        format!("worker {} · pid {}", f.worker, f.pid)
                    } else {
                        format!("worker {} · tid {}", f.worker, f.tid)
                    };
                    ui.horizontal(|ui| {
                        let (r, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                        ui.painter()
                            .rect_filled(r, 2.0, c32(worker_color(f.worker as usize)));
                        ui.add(
                            egui::Label::new(format!(
                                "{who} · problem {} · it {}",
                                f.problem, f.iter
                            ))
                            .truncate(),
                        );
                    });
                    ui.add(egui::Image::new((t.id(), egui::vec2(side, side))))
                        .on_hover_text(format!(
                            "grid {}×{} shown as {}×{}",
                            f.grid, f.grid, f.cols, f.rows
                        ));
                });
                if (i + 1) % cols == 0 {
                    ui.end_row();
                }
            }
        });
}
