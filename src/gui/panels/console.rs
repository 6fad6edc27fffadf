//! The console: what a script printed in its last run (standard output, and standard error set
//! apart in the alarm colour), with its exit status, Copy and Clear.

use super::super::command::Command;
use super::super::session::Session;
use super::super::theme::c32;
use crate::view::theme::ALARM;

/// The most lines drawn from each stream; the rest are counted, not drawn.
pub const MAX_LINES: usize = 100_000;

/// One line of the console.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Whether it came from standard error.
    pub stderr: bool,
    /// Its text, without the newline.
    pub text: String,
}

/// The console's lines for one finished run, made once when the run ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsoleView {
    /// The run (`Session::runs_finished` when it was made).
    pub run: usize,
    /// Standard output's lines, then standard error's.
    pub lines: Vec<Line>,
    /// Lines past [`MAX_LINES`] per stream, not drawn.
    pub dropped_lines: usize,
    /// Bytes the engine did not keep (beyond its per-stream limit).
    pub dropped_bytes: u64,
    /// How the program exited.
    pub exit_code: Option<i32>,
    /// Cleared by the user until the next run.
    pub cleared: bool,
}

impl ConsoleView {
    /// The view of a run's output.
    pub fn of(run: usize, out: &gilscope_engine::trace::summary::ProgramOutput) -> Self {
        let mut lines = Vec::new();
        let mut dropped_lines = 0;
        for (stderr, text) in [(false, &out.stdout), (true, &out.stderr)] {
            for (n, l) in text.lines().enumerate() {
                if n < MAX_LINES {
                    lines.push(Line {
                        stderr,
                        text: l.to_owned(),
                    });
                } else {
                    dropped_lines += 1;
                }
            }
        }
        ConsoleView {
            run,
            lines,
            dropped_lines,
            dropped_bytes: out.dropped_bytes,
            exit_code: Some(out.exit_code),
            cleared: false,
        }
    }

    /// All kept text, standard output first, as Copy puts it on the clipboard.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.text);
            s.push('\n');
        }
        s
    }
}

/// Draws the console of the last run, if it printed or exited.
pub fn show(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Console").on_hover_text(
            "What the program printed in its last run: standard output, and standard error in red.",
        );
        let view = session.console.as_ref().filter(|c| !c.cleared);
        if let Some(c) = view {
            if ui
                .small_button("Copy output")
                .on_hover_text("Copy the output as text")
                .clicked()
            {
                ui.ctx().copy_text(c.text());
            }
            if ui
                .small_button("Clear output")
                .on_hover_text("Empty the console until the next run")
                .clicked()
            {
                cmds.push(Command::ClearConsole);
            }
            let mut status = match c.exit_code {
                Some(code) => format!("exit status {code}"),
                None => String::new(),
            };
            if c.dropped_lines > 0 || c.dropped_bytes > 0 {
                status.push_str(&format!(
                    " · {} lines and {} bytes not shown",
                    c.dropped_lines, c.dropped_bytes
                ));
            }
            ui.weak(status);
        }
    });
    let Some(c) = session.console.as_ref().filter(|c| !c.cleared) else {
        ui.label(if session.busy() {
            "The program's output appears here when its run ends."
        } else {
            "What the program prints appears here when a run ends."
        });
        return;
    };
    if c.lines.is_empty() {
        ui.weak("(the program printed nothing)");
        return;
    }
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::ScrollArea::both()
        .id_salt(("console", c.run))
        .auto_shrink([false, false])
        .stick_to_bottom(true)
        .show_rows(ui, row_h, c.lines.len(), |ui, rows| {
            for l in &c.lines[rows] {
                let mut text = egui::RichText::new(&l.text).monospace();
                if l.stderr {
                    text = text.color(c32(ALARM));
                }
                ui.add(egui::Label::new(text).extend());
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use gilscope_engine::trace::summary::ProgramOutput;

    #[test]
    fn output_is_split_into_lines_with_stderr_apart_and_the_excess_counted() {
        let out = ProgramOutput {
            stdout: "a\nb\n".to_owned(),
            stderr: "Traceback (most recent call last):\nValueError: x\n".to_owned(),
            exit_code: 1,
            dropped_bytes: 0,
        };
        let v = ConsoleView::of(3, &out);
        assert_eq!(v.lines.len(), 4);
        assert!(!v.lines[1].stderr && v.lines[2].stderr);
        assert_eq!(v.lines[3].text, "ValueError: x");
        assert_eq!(
            v.text(),
            "a\nb\nTraceback (most recent call last):\nValueError: x\n"
        );
        let many = ProgramOutput {
            stdout: "x\n".repeat(MAX_LINES + 5),
            stderr: String::new(),
            exit_code: 0,
            dropped_bytes: 7,
        };
        let v = ConsoleView::of(4, &many);
        assert_eq!(
            (v.lines.len(), v.dropped_lines, v.dropped_bytes),
            (MAX_LINES, 5, 7)
        );
    }
}
