//! The program picker: a bundled demo or a teacher's own `.py` (compile errors shown inline with
//! line and column), its entry function, and its UPPERCASE parameters as fields. A value that
//! does not parse is shown as rejected, never silently changed.

use std::sync::Arc;

use super::super::command::Command;
use super::super::session::{ParamField, Session};
use super::super::settings::Settings;
use super::labelled;
use gilscope_engine::program::{BUNDLED, Program};
use gilscope_python::vm::value::Value;

/// Parameters of heat.py that the Kernel and size controls already set.
const HEAT_FIELDS: [&str; 5] = ["N", "NP", "NITER", "KERNEL", "IO_WAIT"];

fn shown_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.repr(),
    }
}

/// The fields a program's parameters get, filled from the settings or the file's defaults.
fn fields_for(program: &Program, settings: &Settings) -> Vec<ParamField> {
    program
        .module
        .params
        .iter()
        .filter(|p| {
            p.name != "ENTRY" && !(settings.run.is_heat() && HEAT_FIELDS.contains(&p.name.as_str()))
        })
        .map(|p| ParamField {
            name: p.name.clone(),
            text: settings
                .run
                .params
                .iter()
                .find(|(n, _)| *n == p.name)
                .map_or_else(|| shown_text(&p.default), |(_, v)| v.clone()),
            rejected: None,
        })
        .collect()
}

/// Draws the program section.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    cmds: &mut Vec<Command>,
) {
    let busy = session.busy();
    ui.heading("Program");
    ui.add_enabled_ui(!busy, |ui| {
        let current = settings.run.program.clone();
        // A file of the user's is shown by its name (the whole path on hover): a long path
        // squeezed the box's label into a column of letters at 1280x720.
        let shown = if BUNDLED.iter().any(|(n, _)| *n == current) {
            format!("{current}.py")
        } else {
            std::path::Path::new(&current)
                .file_name()
                .map_or_else(|| current.clone(), |f| f.to_string_lossy().into_owned())
        };
        egui::ComboBox::from_id_salt("program")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (i, (name, _)) in BUNDLED.iter().enumerate() {
                    if ui
                        .selectable_label(current == *name, format!("{name}.py"))
                        .clicked()
                    {
                        cmds.push(Command::SelectProgram(i));
                    }
                }
            })
            .response
            .on_hover_text(format!(
                "The Python file the workers run: the demos of the source texts, or your own.\n{current}"
            ));
        ui.horizontal(|ui| {
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut session.open_path)
                        .hint_text("path/to/your_program.py")
                        .desired_width(180.0),
                )
                .on_hover_text(
                    "File → Open program: type the path of your own .py and press Open.",
                );
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Open").clicked() || entered {
                cmds.push(Command::OpenProgram);
            }
        });
        if let Some(e) = &session.open_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if session.program.is_script(&current) {
            ui.label(
                "A plain script (no ENTRY): both runtimes run it as `python FILE` would and draw \
                 every thread it starts (the emulation in threading mode, where its Python is \
                 what gilscope's interpreter compiles).",
            );
            return;
        }
        let program = match session.program.get(&current) {
            Ok(p) => Arc::clone(p),
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let fresh = fields_for(&program, settings);
        let names = |v: &[ParamField]| v.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        // Another program's fields (even one whose parameters have the same names) are not
        // this one's: its own defaults are shown.
        if names(&session.param_fields) != names(&fresh)
            || session.param_fields_program != settings.run.program
        {
            session.param_fields = fresh;
            session.param_fields_program = settings.run.program.clone();
        }
        if !settings.run.is_heat() {
            entry_picker(ui, settings, &program);
        }
        for field in &mut session.param_fields {
            let r = labelled(ui, &field.name, |ui| {
                ui.add(egui::TextEdit::singleline(&mut field.text).desired_width(110.0))
            });
            if r.changed() {
                match program.parse_params(&[(field.name.clone(), field.text.clone())]) {
                    Ok(_) => {
                        field.rejected = None;
                        settings.run.params.retain(|(n, _)| *n != field.name);
                        settings
                            .run
                            .params
                            .push((field.name.clone(), field.text.trim().to_owned()));
                    }
                    Err(e) => field.rejected = Some(e.to_string()),
                }
            }
            if let Some(why) = &field.rejected {
                ui.colored_label(ui.visuals().error_fg_color, format!("rejected: {why}"));
            }
        }
    });
}

fn entry_picker(ui: &mut egui::Ui, settings: &mut Settings, program: &Program) {
    let default = program.default_entry().unwrap_or_default();
    let chosen = settings
        .run
        .entry
        .clone()
        .unwrap_or_else(|| default.clone());
    egui::ComboBox::from_label("entry")
        .selected_text(format!("{chosen}()"))
        .show_ui(ui, |ui| {
            for f in &program.module.functions {
                let name = f.name.to_string();
                if name == "share" || name == "report" {
                    continue;
                }
                if ui
                    .selectable_label(chosen == name, format!("{name}()"))
                    .clicked()
                {
                    settings.run.entry = (name != default).then_some(name);
                }
            }
        })
        .response
        .on_hover_text("The function each worker runs (ENTRY in the file).");
}
