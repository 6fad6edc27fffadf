//! The Lessons panel: the open lesson's words in large type, Prev/Next (PageUp/PageDown), its
//! trials and verdict, the throughput ceiling of lesson 9, the decision tree of lesson 10, and
//! the "look here" callout drawn over the view the lesson points at.

use egui::{RichText, pos2, vec2};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};

use super::super::command::Command;
use super::super::session::Session;
use super::super::settings::Settings;
use super::super::theme::c32;
use crate::lessons::catalogue::{LESSONS, Lesson, LookHere, lesson};
use crate::lessons::judge::stream_gb_per_sec;
use crate::lessons::tree::{LEAVES, Next, QUESTIONS};
use crate::lessons::{Report, TrialRuns};
use crate::view::theme::{ALARM, CALLOUT, GOOD};

/// Text size of the lesson's story, in points before the presentation zoom.
pub const STORY_SIZE: f32 = 17.0;

/// Draws the panel (nothing when no lesson is open).
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &mut Session,
    cmds: &mut Vec<Command>,
) {
    let Some(n) = settings.lesson else { return };
    let Some(l) = lesson(n) else { return };
    let busy = session.busy();
    let running = session.lessons.running == Some(n);
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(n > 1, egui::Button::new("< Prev"))
            .on_hover_text("Previous lesson (PageUp)")
            .clicked()
        {
            cmds.push(Command::StepLesson(-1));
        }
        ui.label(
            RichText::new(format!("Lesson {n} of {}: {}", LESSONS.len(), l.title))
                .size(STORY_SIZE * 1.35)
                .strong(),
        );
        if ui
            .add_enabled(n < LESSONS.len(), egui::Button::new("Next >"))
            .on_hover_text("Next lesson (PageDown)")
            .clicked()
        {
            cmds.push(Command::StepLesson(1));
        }
        ui.separator();
        if running {
            if ui.button("Stop").on_hover_text("Esc").clicked() {
                cmds.push(Command::Stop);
            }
        } else if ui
            .add_enabled(
                !busy,
                egui::Button::new(RichText::new("Run lesson").strong()),
            )
            .on_hover_text(
                "Run the lesson's trials, drawn live, and check its claim on this machine",
            )
            .clicked()
        {
            cmds.push(Command::RunLesson);
        }
        ui.label(RichText::new(l.source).weak());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close")
                .on_hover_text("Close the lessons")
                .clicked()
            {
                cmds.push(Command::CloseLessons);
            }
        });
    });
    // Words on the left, measurements on the right: the panel stays short on a projector.
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.label(RichText::new(l.story).size(STORY_SIZE));
        ui.label(
            RichText::new(format!("Expect: {}", l.claim))
                .size(STORY_SIZE * 0.9)
                .italics(),
        );
        verdict_line(ui, session, l);
        let ui = &mut cols[1];
        if l.look_here == LookHere::Tree {
            let r = ui.scope(|ui| tree(ui, session, cmds)).response.rect;
            session.targets.tree = Some(r);
        } else {
            let trials = shown_trials(session, n);
            // Lesson 9's claim is the ceiling: its plot comes first and takes the callout.
            if n == 9 && !trials.is_empty() {
                let report = session.lessons.report(n);
                let r = ui.scope(|ui| throughput(ui, &trials, report)).response.rect;
                session.targets.table = Some(r);
            }
            if !trials.is_empty() {
                let r = ui.scope(|ui| table(ui, &trials)).response.rect;
                if n != 9 {
                    session.targets.table = Some(r);
                }
            }
        }
    });
}

/// The trials to show: those of the running lesson as they finish, else the last report's.
fn shown_trials(session: &Session, n: usize) -> Vec<TrialRuns> {
    if session.lessons.running == Some(n) {
        return session.lessons.trials.clone();
    }
    session
        .lessons
        .report(n)
        .map(|r| r.trials.clone())
        .unwrap_or_default()
}

fn verdict_line(ui: &mut egui::Ui, session: &Session, l: &Lesson) {
    if session.lessons.running == Some(l.number) {
        // No spinner: it repaints every frame, and a software renderer would take a core
        // from the trials being measured.
        ui.horizontal(|ui| {
            let runs: usize = session.lessons.trials.iter().map(|t| t.runs.len()).sum();
            ui.label(
                RichText::new(format!("measuring on this machine… {runs} runs so far"))
                    .size(STORY_SIZE),
            );
        });
        return;
    }
    match session.lessons.report(l.number) {
        Some(r) => {
            let color = if r.verdict.holds() { GOOD } else { ALARM };
            ui.label(
                RichText::new(format!("Verdict: {}", r.verdict.text()))
                    .size(STORY_SIZE * 1.1)
                    .strong()
                    .color(c32(color)),
            );
            ui.label(RichText::new(format!("Observed: {}", r.observed)).size(STORY_SIZE * 0.9));
        }
        None => {
            ui.label(
                RichText::new("Not checked yet: Run lesson measures it on this machine.")
                    .size(STORY_SIZE * 0.9)
                    .weak(),
            );
        }
    }
}

fn table(ui: &mut egui::Ui, trials: &[TrialRuns]) {
    egui::Grid::new("lesson_trials")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            ui.strong("trial");
            ui.strong("runs");
            ui.strong("fastest");
            ui.strong("result");
            ui.end_row();
            for t in trials {
                ui.label(&t.label);
                match (&t.skipped, t.fastest()) {
                    (Some(why), _) => {
                        ui.label("–");
                        ui.label("not run");
                        ui.label(RichText::new(why).weak());
                    }
                    (None, Some(s)) => {
                        ui.label(t.runs.len().to_string());
                        ui.label(format!("{:.3} s", s.wall_secs));
                        let result = serde_json::to_string(&s.result).unwrap_or_default();
                        ui.label(format!(
                            "{result} · {:.2} cores busy",
                            s.cores_used_by_workers()
                        ));
                    }
                    (None, None) => {
                        ui.label("0");
                        ui.label("–");
                        ui.label("");
                    }
                }
                ui.end_row();
            }
        });
}

/// Lesson 9: GB/s against threads, with this machine's copy bandwidth as the ceiling line.
fn throughput(ui: &mut egui::Ui, trials: &[TrialRuns], report: Option<&Report>) {
    let pts: Vec<[f64; 2]> = trials
        .iter()
        .filter(|t| t.key.starts_with("stream"))
        .filter_map(|t| t.fastest())
        .map(|s| [s.threads as f64, stream_gb_per_sec(s)])
        .collect();
    if pts.is_empty() {
        return;
    }
    let ceiling = report.and_then(|r| r.bandwidth).map(|b| b.copy_gb_per_sec);
    Plot::new("lesson_throughput")
        .legend(Legend::default())
        .width(360.0)
        .height(180.0)
        .x_axis_label("threads")
        .y_axis_label("GB/s")
        .include_y(0.0)
        .include_x(0.0)
        .show(ui, |p| {
            p.line(Line::new("STREAM triad", PlotPoints::from(pts.clone())));
            p.points(Points::new("measured", PlotPoints::from(pts)).radius(4.0));
            if let Some(c) = ceiling {
                p.hline(HLine::new(
                    format!("copy bandwidth {c:.1} GB/s (ceiling)"),
                    c,
                ));
            }
        });
}

/// Lesson 10: seed 001's decision tree; every leaf opens the lessons that prove it.
fn tree(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>) {
    ui.vertical(|ui| question(ui, session, cmds, 0, 0));
}

fn question(ui: &mut egui::Ui, session: &Session, cmds: &mut Vec<Command>, q: usize, depth: usize) {
    let Some(asked) = QUESTIONS.get(q) else {
        return;
    };
    ui.label(RichText::new(asked.text).size(STORY_SIZE).strong());
    for (answer, next) in asked.answers {
        ui.horizontal(|ui| {
            ui.add_space(24.0 * (depth + 1) as f32);
            ui.label(RichText::new(format!("{answer}:")).size(STORY_SIZE * 0.95));
            if let Next::Leaf(i) = next
                && let Some(leaf) = LEAVES.get(*i)
            {
                ui.label(RichText::new(leaf.advice).size(STORY_SIZE * 0.95).strong());
                for &n in leaf.lessons {
                    let mark = match session.lessons.report(n).map(|r| r.verdict.holds()) {
                        Some(true) => " (as expected)",
                        Some(false) => " (not on this machine)",
                        None => "",
                    };
                    let title = lesson(n).map_or("", |l| l.title);
                    if ui
                        .button(format!("lesson {n}{mark}"))
                        .on_hover_text(format!("Open lesson {n}: {title}"))
                        .clicked()
                    {
                        cmds.push(Command::OpenLesson(n));
                    }
                }
            }
        });
        if let Next::Question(i) = next {
            ui.horizontal(|ui| {
                ui.add_space(24.0 * (depth + 2) as f32);
                ui.vertical(|ui| question(ui, session, cmds, *i, depth + 1));
            });
        }
    }
}

/// Draws the open lesson's "look here" callout over the view it names.
pub fn callout(ctx: &egui::Context, settings: &Settings, session: &Session) {
    let Some(l) = settings.lesson.and_then(lesson) else {
        return;
    };
    let t = &session.targets;
    let rect = match l.look_here {
        LookHere::CoreLanes => t.core_lanes,
        LookHere::GilLane => t.gil_lanes.or(t.core_lanes),
        LookHere::WorkerLanes => t.worker_lanes,
        LookHere::Figures => t.figures,
        LookHere::Table => t.table,
        LookHere::Tree => t.tree,
    };
    let Some(rect) = rect else { return };
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("lesson_callout"),
    ));
    let color = c32(CALLOUT);
    painter.rect_stroke(
        rect.expand(3.0),
        6.0,
        egui::Stroke::new(3.0, color),
        egui::StrokeKind::Outside,
    );
    let font = egui::FontId::proportional(STORY_SIZE);
    let galley = painter.layout_no_wrap(l.look_text.to_owned(), font, egui::Color32::WHITE);
    let size = galley.size() + vec2(16.0, 8.0);
    // Above the target where there is room, else inside its top edge.
    let top = if rect.min.y - size.y - 6.0 > 0.0 {
        rect.min.y - size.y - 6.0
    } else {
        rect.min.y + 4.0
    };
    let x = rect.min.x.min(ctx.content_rect().max.x - size.x).max(0.0);
    let label = egui::Rect::from_min_size(pos2(x, top), size);
    painter.rect_filled(label, 4.0, color);
    painter.galley(label.min + vec2(8.0, 4.0), galley, egui::Color32::WHITE);
}
