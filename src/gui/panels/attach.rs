//! Attach to a running Python: the Python processes of this machine, found when asked, each
//! with an Attach button. What is watched streams in as a run does; Stop detaches and leaves
//! the process running.

use super::super::command::Command;
use super::super::session::Session;

/// How many processes the list shows.
const SHOWN_MAX: usize = 20;

/// Draws the attach section.
pub fn show(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>) {
    let busy = session.busy();
    egui::CollapsingHeader::new("Attach to a running Python")
        .id_salt("attach")
        .show(ui, |ui| {
            ui.label(
                "Watch a Python that is already running (a notebook kernel, a server, a \
                 student's script): its threads, the GIL holder, its cores. Nothing is written \
                 into it and no signal is sent; Stop detaches.",
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Find Python processes"))
                .on_hover_text("Lists the processes whose memory map holds a CPython (python3… or libpython3…) that this user can read.")
                .clicked()
            {
                cmds.push(Command::ListPythons);
            }
            let Some(list) = &session.pythons else {
                return;
            };
            if list.is_empty() {
                ui.label("No Python process that this user can read is running.");
                return;
            }
            for p in list.iter().take(SHOWN_MAX) {
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(!busy, egui::Button::new("Attach"))
                        .on_hover_text(format!("Watch pid {} until Stop or its exit", p.pid))
                        .clicked()
                    {
                        cmds.push(Command::Attach(p.pid));
                    }
                    ui.label(format!("{} · {}", p.pid, p.interpreter))
                        .on_hover_text(&p.command);
                });
                ui.small(&p.command);
            }
            if list.len() > SHOWN_MAX {
                ui.small(format!("… and {} more", list.len() - SHOWN_MAX));
            }
        });
}
