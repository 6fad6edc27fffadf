//! The window's keys: what each press means, as commands (F5 runs, Esc stops, a presenter's
//! clicker steps lessons, arrows step mode and kernel, digits pick presets).

use super::GilscopeApp;
use crate::gui::command::Command;
use crate::view::presets::Preset;

impl GilscopeApp {
    pub(super) fn keyboard(&mut self, ctx: &egui::Context) {
        // Typing into a field (a parameter, a path) must not step modes or pick presets.
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        if ctx.memory(|m| m.focused().is_some()) {
            return;
        }
        use egui::Key;
        let cmds: Vec<Command> = ctx.input(|i| {
            let mut v = Vec::new();
            if i.key_pressed(Key::F5) || (i.modifiers.command && i.key_pressed(Key::R)) {
                v.push(Command::Run);
            }
            if i.key_pressed(Key::Escape) {
                v.push(Command::Stop);
            }
            // A presenter's clicker sends PageDown / PageUp.
            if i.key_pressed(Key::PageDown) {
                v.push(Command::StepLesson(1));
            }
            if i.key_pressed(Key::PageUp) {
                v.push(Command::StepLesson(-1));
            }
            if i.key_pressed(Key::F11) {
                v.push(Command::ToggleFullscreen);
            }
            if i.key_pressed(Key::ArrowRight) {
                v.push(Command::StepMode(1));
            }
            if i.key_pressed(Key::ArrowLeft) {
                v.push(Command::StepMode(-1));
            }
            if i.key_pressed(Key::ArrowDown) {
                v.push(Command::StepKernel(1));
            }
            if i.key_pressed(Key::ArrowUp) {
                v.push(Command::StepKernel(-1));
            }
            if i.key_pressed(Key::F) {
                v.push(Command::FitTimeline);
            }
            if i.key_pressed(Key::L) {
                v.push(Command::FollowLive);
            }
            if i.key_pressed(Key::P) {
                v.push(Command::PauseTimeline);
            }
            let digits = [
                Key::Num1,
                Key::Num2,
                Key::Num3,
                Key::Num4,
                Key::Num5,
                Key::Num6,
                Key::Num7,
                Key::Num8,
                Key::Num9,
            ];
            for (k, p) in digits.iter().zip(Preset::ALL) {
                if i.key_pressed(*k) {
                    v.push(Command::ApplyPreset(p));
                }
            }
            v
        });
        self.pending.extend(cmds);
    }
}
