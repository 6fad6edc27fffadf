//! The top bar: status of the run or sweep, errors and notices, theme and export menu.

use super::super::command::{Command, ExportTarget};
use super::super::session::{JobKind, Session};
use super::super::settings::Settings;

/// Draws the top bar.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    cmds: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.heading("gilscope");
        // Only where the bar has room for it beside the buttons on the right.
        if ui.available_width() > 1100.0 {
            ui.label("· why Python threads do or do not use several cores")
                .on_hover_text("Runs the heat-diffusion benchmark of the source post under an emulated CPython GIL.");
        }
        ui.separator();
        match (session.job_kind(), &session.live, session.sweep_progress) {
            (Some(JobKind::Sweep), _, Some(p)) => {
                let frac = if p.total > 0 { p.done as f32 / p.total as f32 } else { 0.0 };
                let eta = p.eta_secs().map_or_else(|| "estimating…".to_owned(), |s| format!("about {s:.0} s left"));
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(220.0)
                        .text(format!("sweep {}/{} runs · {eta}", p.done, p.total)),
                )
                .on_hover_text("Runs done in the sweep; the estimate is the mean time per run so far.");
                if ui.button("Cancel sweep").clicked() {
                    cmds.push(Command::Stop);
                }
            }
            (Some(JobKind::Attach), Some(live), _) => {
                ui.label(format!(
                    "attached to {} · {:.1} s",
                    live.config.program,
                    live.started.elapsed().as_secs_f64()
                ));
                if ui
                    .button("Detach")
                    .on_hover_text("Esc: stop watching; the process runs on")
                    .clicked()
                {
                    cmds.push(Command::Stop);
                }
            }
            (_, Some(live), _) => {
                let (done, total) = live.progress;
                let frac = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                ui.add(egui::ProgressBar::new(frac).desired_width(220.0).text(format!(
                    "running {} · {} workers · {:.1} s",
                    live.config.series().label_in(&live.config.program),
                    live.config.threads,
                    live.started.elapsed().as_secs_f64()
                )));
                if ui.button("Stop").on_hover_text("Esc").clicked() {
                    cmds.push(Command::Stop);
                }
            }
            _ => {
                ui.label("idle");
            }
        }
        // The figures folded away: their headline stays in view.
        if session.figures.folded
            && let Some(s) = &session.last_summary
        {
            ui.separator();
            ui.strong(format!(
                "{:.1} of {} cores · {:.2} s",
                s.cores_used_by_workers(),
                s.cores,
                s.wall_secs
            ))
            .on_hover_text("The workers' CPU time over the wall time, and the wall time, of the last run (Figures shows the rest).");
        }
        if let Some(err) = &session.error {
            ui.separator();
            ui.colored_label(ui.visuals().error_fg_color, format!("Error: {err}"));
            if ui.small_button("Dismiss").on_hover_text("Dismiss").clicked() {
                cmds.push(Command::DismissError);
            }
        } else if let Some(n) = &session.notice {
            ui.separator();
            ui.label(n);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // On a narrow bar F11 alone does it.
            if ui.available_width() > 700.0
                && ui.button("Full screen").on_hover_text("F11").clicked()
            {
                cmds.push(Command::ToggleFullscreen);
            }
            let folds = [
                (session.figures, "Figures", Command::ToggleFigures, "Show or fold the figures panel (folded while presenting on a narrow window; the cores-busy gauge stays in this bar)"),
                (session.controls, "Controls", Command::ToggleControls, "Show or fold the controls panel (folded while presenting a lesson or on a narrow window, for the views)"),
            ];
            for (fold, label, toggle, help) in folds {
                let offered = settings.presentation || fold.wanted.is_some();
                if offered && ui.selectable_label(!fold.folded, label).on_hover_text(help).clicked() {
                    cmds.push(toggle);
                }
            }
            let open = settings.lesson.is_some();
            if ui
                .selectable_label(open, "Lessons")
                .on_hover_text("The guided lessons: Prev/Next with PageUp/PageDown (a presenter's clicker)")
                .clicked()
            {
                cmds.push(if open { Command::CloseLessons } else { Command::OpenLesson(1) });
            }
            ui.menu_button("File", |ui| {
                super::labelled(ui, "Recording", |ui| {
                    ui.add(egui::TextEdit::singleline(&mut session.recording_path).desired_width(320.0))
                })
                .on_hover_text("The .gilscope file to save to or open.");
                if ui
                    .button("Save recording")
                    .on_hover_text("The last finished run (spans, frames, results, machine) and the sweep shown.")
                    .clicked()
                {
                    cmds.push(Command::SaveRecording);
                    ui.close();
                }
                if ui
                    .add_enabled(!session.busy(), egui::Button::new("Open recording"))
                    .on_hover_text("Replay it at its recorded pace; every view and export works as live.")
                    .clicked()
                {
                    cmds.push(Command::OpenRecording);
                    ui.close();
                }
                if let Some(m) = &session.replayed_from {
                    ui.label(format!("shown: recorded on {m}"));
                }
            });
            ui.menu_button("Export", |ui| {
                let items = [
                    ("Timeline PNG", ExportTarget::TimelinePng),
                    ("Timeline SVG", ExportTarget::TimelineSvg),
                    ("Time-vs-threads PNG", ExportTarget::SweepPng),
                    ("Time-vs-threads SVG", ExportTarget::SweepSvg),
                    ("Heat grid PNG", ExportTarget::GridPng),
                    ("Sweep CSV", ExportTarget::SweepCsv),
                    ("Trace JSON (Perfetto)", ExportTarget::TraceJson),
                    ("Run summary JSON", ExportTarget::SummaryJson),
                ];
                for (label, t) in items {
                    if ui.button(label).clicked() {
                        cmds.push(Command::Export(t));
                        ui.close();
                    }
                }
                ui.separator();
                let mut folder = settings.export_folder().display().to_string();
                let r = super::labelled(ui, "Folder", |ui| ui.add(egui::TextEdit::singleline(&mut folder).desired_width(320.0)))
                    .on_hover_text("Exports go here with a timestamped name; the folder is created if needed.");
                if r.changed() {
                    settings.export_dir = (!folder.trim().is_empty()).then(|| std::path::PathBuf::from(folder.trim()));
                }
            });
            ui.toggle_value(&mut settings.presentation, "Presentation")
                .on_hover_text("Large fonts for a projector.");
            ui.toggle_value(&mut settings.dark, "Dark")
                .on_hover_text("Dark theme; exports always use a light, slide-friendly theme.");
        });
    });
}
