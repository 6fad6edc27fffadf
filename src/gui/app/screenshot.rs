//! The screenshot mode (`--preset NAME --screenshot FILE`): run the preset (its lesson or sweep
//! first, where it has one) to the end, or watch `--attach PID` for a while and detach; let the
//! picture settle, save the window as PNG, close.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};

use super::GilscopeApp;
use crate::gui::command::Command;

/// How long `--attach PID --screenshot FILE` watches before it detaches.
const ATTACH_SHOT: Duration = Duration::from_secs(2);

/// Where the screenshot mode reports how it ended (`None` while it has not).
pub type ShotResult = Arc<Mutex<Option<Result<(), String>>>>;

/// How long the window settles before a screenshot's run, sweep, lesson or attach starts.
const SETTLE_BEFORE_MEASURING: Duration = Duration::from_millis(800);

/// How the screenshot mode goes along.
pub(super) enum ShotPhase {
    Lesson,
    /// Watching a running Python: since when, once attached.
    Attach(u32, Option<Instant>),
    Sweep,
    Run,
    Settle(u32),
    Requested,
}

/// `--preset NAME --screenshot FILE`: run the preset to the end, save the window, exit.
pub(super) struct ScreenshotJob {
    pub(super) path: PathBuf,
    pub(super) with_sweep: bool,
    pub(super) sweep_csv: Option<PathBuf>,
    pub(super) summary_json: Option<PathBuf>,
    pub(super) phase: ShotPhase,
    pub(super) started: bool,
    pub(super) rx: Option<Receiver<Arc<egui::ColorImage>>>,
    pub(super) deadline: Instant,
    /// When the window opened: nothing is measured while it is still being mapped and laid
    /// out (its first frames, and those the display server's first events ask for).
    pub(super) opened: Instant,
    pub(super) result: ShotResult,
}

impl GilscopeApp {
    pub(super) fn drive_screenshot(&mut self, ctx: &egui::Context) {
        let Some(shot) = &mut self.shot else { return };
        let mut start_sweep = false;
        let mut start_run = false;
        if Instant::now() > shot.deadline {
            finish_shot(
                shot,
                Err("the preset did not finish within 10 minutes".to_owned()),
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if let Some(err) = &self.session.error {
            let msg = err.clone();
            finish_shot(shot, Err(msg));
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let mut start_lesson = false;
        let mut attach = None;
        let mut detach = false;
        if shot.opened.elapsed() < SETTLE_BEFORE_MEASURING {
            ctx.request_repaint_after(SETTLE_BEFORE_MEASURING);
            return;
        }
        match shot.phase {
            ShotPhase::Attach(pid, None) => {
                attach = Some(pid);
                shot.phase = ShotPhase::Attach(pid, Some(Instant::now()));
            }
            ShotPhase::Attach(_, Some(since)) => {
                if !self.session.busy() {
                    shot.phase = ShotPhase::Settle(5);
                } else if since.elapsed() >= ATTACH_SHOT && !shot.started {
                    shot.started = true;
                    detach = true;
                }
            }
            ShotPhase::Lesson => {
                if !shot.started {
                    shot.started = true;
                    start_lesson = true;
                } else if !self.session.busy() {
                    shot.phase = ShotPhase::Settle(5);
                }
            }
            ShotPhase::Sweep if !shot.with_sweep => shot.phase = ShotPhase::Run,
            ShotPhase::Sweep => {
                if !shot.started {
                    shot.started = true;
                    start_sweep = true;
                } else if !self.session.busy() {
                    if let Some(p) = &shot.sweep_csv {
                        let csv = crate::export::data::sweep_csv(&self.session.sweep_points);
                        if let Err(e) = crate::export::atomic::write_atomic(p, csv.as_bytes()) {
                            finish_shot(shot, Err(format!("cannot write {}: {e}", p.display())));
                            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                            return;
                        }
                    }
                    shot.phase = ShotPhase::Run;
                    shot.started = false;
                }
            }
            ShotPhase::Run => {
                if !shot.started {
                    shot.started = true;
                    start_run = true;
                } else if !self.session.busy() {
                    shot.phase = ShotPhase::Settle(5);
                }
            }
            ShotPhase::Settle(0) => {
                let (tx, rx) = bounded(1);
                let ctx2 = ctx.clone();
                ctx.request_screenshot(move |img| {
                    let _ = tx.try_send(img);
                    ctx2.request_repaint();
                });
                shot.rx = Some(rx);
                shot.phase = ShotPhase::Requested;
            }
            ShotPhase::Settle(n) => shot.phase = ShotPhase::Settle(n - 1),
            ShotPhase::Requested => {
                if let Some(img) = shot.rx.as_ref().and_then(|rx| rx.try_recv().ok()) {
                    let res = crate::export::plots::encode_png(
                        img.as_raw(),
                        img.size[0] as u32,
                        img.size[1] as u32,
                    )
                    .and_then(|png| {
                        crate::export::atomic::write_atomic(&shot.path, &png).map_err(|e| {
                            anyhow::anyhow!("cannot write {}: {e}", shot.path.display())
                        })
                    })
                    .and_then(|()| {
                        let Some(p) = &shot.summary_json else {
                            return Ok(());
                        };
                        let summary = self.session.last_summary.as_ref().ok_or_else(|| {
                            anyhow::anyhow!("no run finished in the window: no summary to write")
                        })?;
                        let json = crate::export::data::summary_json(summary) + "\n";
                        crate::export::atomic::write_atomic(p, json.as_bytes())
                            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))
                    })
                    .map_err(|e| format!("{e:#}"));
                    finish_shot(shot, res);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
        if start_lesson {
            self.pending.push(Command::RunLesson);
        }
        if let Some(pid) = attach {
            self.pending.push(Command::ListPythons);
            self.pending.push(Command::Attach(pid));
        }
        if detach {
            self.pending.push(Command::Stop);
        }
        if start_sweep {
            self.pending.push(Command::RunSweep);
        }
        if start_run {
            self.pending.push(Command::Run);
        }
        // While a job measures, the window repaints at the job's own pace (see `logic`): a
        // screenshot must not take a core from the workers it pictures.
        if !self.session.busy() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }
}

fn finish_shot(shot: &mut ScreenshotJob, res: Result<(), String>) {
    if let Ok(mut r) = shot.result.lock()
        && r.is_none()
    {
        *r = Some(res);
    }
}
