//! The class tour (`--tour MINUTES`): the window loops through every preset's run and every
//! lesson, as a teacher clicks through a class, stopping some runs midway; between steps it
//! prints what the app holds (memory, threads, open files, child processes) and at the end
//! judges whether any of it grew from the round going on at 5 minutes to the last.

use std::io::Write;
use std::time::{Duration, Instant};

use super::GilscopeApp;
use super::screenshot::ShotResult;
use crate::gui::command::Command;
use crate::view::presets::Preset;

/// The longest one step may take before the tour stops it.
const STEP_CAP: Duration = Duration::from_secs(90);

/// How long a step the tour stops midway runs first.
const STOP_AFTER: Duration = Duration::from_millis(400);

/// Frames drawn between a step's end and the figures read after it.
const SETTLE_FRAMES: u32 = 5;

/// How much the resident memory may grow from the baseline to the end.
pub const RSS_GROWTH_ALLOWED: f64 = 0.10;

/// When the baseline is taken: five minutes in, or a sixth of a shorter tour.
const BASELINE: Duration = Duration::from_secs(300);

/// What one step of the tour opens.
#[derive(Clone, Copy, Debug, PartialEq)]
enum What {
    /// Apply the preset and run it.
    Preset(Preset),
    /// Open the lesson and run its trials.
    Lesson(usize),
}

/// One thing the tour does: open and run something, and maybe press Stop midway.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Step {
    what: What,
    stop_midway: bool,
}

impl Step {
    /// Every step of one round: each preset's run, then each lesson; every third stopped midway.
    fn round() -> Vec<Step> {
        let presets = Preset::ALL.iter().map(|&p| What::Preset(p));
        let lessons = (1..=crate::lessons::LESSONS.len()).map(What::Lesson);
        presets
            .chain(lessons)
            .enumerate()
            .map(|(i, what)| Step {
                what,
                stop_midway: i % 3 == 2,
            })
            .collect()
    }

    fn name(self) -> String {
        let what = match self.what {
            What::Preset(p) => p.name().to_owned(),
            What::Lesson(n) => format!("lesson {n}"),
        };
        if self.stop_midway {
            format!("{what} + Stop")
        } else {
            what
        }
    }
}

/// What the app process holds at one moment, from `/proc/self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holdings {
    /// Resident memory, KiB.
    pub rss_kib: u64,
    /// Threads of the process.
    pub threads: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Child processes (zombies count: they were left unreaped).
    pub children: u64,
}

impl Holdings {
    /// Reads the process's own holdings.
    #[cfg(target_os = "linux")]
    pub fn now() -> Result<Holdings, String> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
        let field = |name: &str| -> Result<u64, String> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("/proc/self/status has no {name}"))
        };
        let fds = std::fs::read_dir("/proc/self/fd")
            .map_err(|e| format!("cannot read /proc/self/fd: {e}"))?
            .count() as u64;
        let me = std::process::id();
        let mut children = 0;
        for entry in std::fs::read_dir("/proc")
            .map_err(|e| format!("cannot read /proc: {e}"))?
            .flatten()
        {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: the command name may hold spaces and parentheses.
            let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
            if after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) == Some(me) {
                children += 1;
            }
        }
        Ok(Holdings {
            rss_kib: field("VmRSS:")?,
            threads: field("Threads:")?,
            fds,
            children,
        })
    }

    /// Reads the process's own holdings.
    #[cfg(not(target_os = "linux"))]
    pub fn now() -> Result<Holdings, String> {
        Err("the tour's figures are not supported on this platform (they read /proc)".to_owned())
    }
}

/// The tour's verdict: what grew from the baseline to the end, or `Ok` with the figures.
pub fn judge(baseline: Holdings, end: Holdings) -> Result<String, String> {
    let growth = end.rss_kib as f64 / baseline.rss_kib.max(1) as f64 - 1.0;
    let figures = format!(
        "rss {} -> {} KiB ({:+.1}%), threads {} -> {}, fds {} -> {}, children {} -> {}",
        baseline.rss_kib,
        end.rss_kib,
        growth * 100.0,
        baseline.threads,
        end.threads,
        baseline.fds,
        end.fds,
        baseline.children,
        end.children
    );
    let mut grew = Vec::new();
    if growth > RSS_GROWTH_ALLOWED {
        grew.push(format!(
            "memory grew over {:.0}%",
            RSS_GROWTH_ALLOWED * 100.0
        ));
    }
    for (what, a, b) in [
        ("threads", baseline.threads, end.threads),
        ("file descriptors", baseline.fds, end.fds),
        ("child processes", baseline.children, end.children),
    ] {
        if b > a {
            grew.push(format!("{what} grew"));
        }
    }
    if grew.is_empty() {
        Ok(figures)
    } else {
        Err(format!("{}: {figures}", grew.join(", ")))
    }
}

/// Where the tour is within its current step.
#[derive(Clone, Copy, Debug)]
enum Phase {
    Start,
    /// Since when, and whether Stop was pressed.
    Running(Instant, bool),
    Settle(u32),
}

/// `--tour MINUTES`: the state of the loop.
pub(super) struct TourJob {
    steps: Vec<Step>,
    next: usize,
    phase: Phase,
    opened: Instant,
    until: Instant,
    /// Holdings after each step, with the seconds since the window opened.
    samples: Vec<(f64, Holdings)>,
    /// Steps that ended in an error the window showed, and those the cap stopped.
    errors: usize,
    capped: usize,
    result: ShotResult,
}

impl TourJob {
    /// A tour of `minutes`, reporting to `result`.
    pub(super) fn new(minutes: f64, result: ShotResult) -> Self {
        let now = Instant::now();
        Self {
            steps: Step::round(),
            next: 0,
            phase: Phase::Start,
            opened: now,
            until: now + Duration::from_secs_f64(minutes * 60.0),
            samples: Vec::new(),
            errors: 0,
            capped: 0,
            result,
        }
    }

    fn finish(&self, res: Result<(), String>) {
        if let Ok(mut r) = self.result.lock()
            && r.is_none()
        {
            *r = Some(res);
        }
    }

    /// The verdict over whole rounds: what the app held in the round going on at the baseline
    /// time, against the last whole round. Memory is a round's median over its steps, not one
    /// moment's: what the window holds after a step depends on the step (a lesson's long trace
    /// is a passing peak), while memory kept for good raises the whole round. Threads, files
    /// and children are a round's highest count.
    fn verdict(&self) -> Result<String, String> {
        let per_round = self.steps.len();
        let rounds = self.samples.len() / per_round;
        let held_in = |r: usize| -> (f64, Holdings) {
            let round = &self.samples[r * per_round..(r + 1) * per_round];
            let max = |f: fn(&Holdings) -> u64| round.iter().map(|s| f(&s.1)).max().unwrap_or(0);
            let mut rss: Vec<u64> = round.iter().map(|s| s.1.rss_kib).collect();
            rss.sort_unstable();
            let held = Holdings {
                rss_kib: rss.get(rss.len() / 2).copied().unwrap_or(0),
                threads: max(|h| h.threads),
                fds: max(|h| h.fds),
                children: max(|h| h.children),
            };
            (round.last().map_or(0.0, |s| s.0), held)
        };
        let total = self.samples.last().map_or(0.0, |s| s.0);
        let at = BASELINE.as_secs_f64().min(total / 6.0);
        let base = (0..rounds).find(|&r| held_in(r).0 >= at);
        match base {
            Some(b) if b + 1 < rounds => {
                let (b_secs, b_held) = held_in(b);
                let (e_secs, e_held) = held_in(rounds - 1);
                let context = format!(
                    "round {} ending at {b_secs:.0} s against round {rounds} ending at \
                     {e_secs:.0} s, memory as each round's median; {} steps, {} errors, {} capped",
                    b + 1,
                    self.samples.len(),
                    self.errors,
                    self.capped
                );
                judge(b_held, e_held)
                    .map(|f| format!("{f} ({context})"))
                    .map_err(|f| format!("{f} ({context})"))
            }
            _ => Err(format!(
                "the tour ended before two whole rounds after the baseline ({rounds} rounds of \
                 {per_round} steps in {total:.0} s): give it more minutes"
            )),
        }
    }
}

/// One line to standard output; a closed stdout only loses the line.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

impl GilscopeApp {
    /// Moves the tour on by one frame's worth.
    pub(super) fn drive_tour(&mut self, ctx: &egui::Context) {
        let Some(tour) = &mut self.tour else { return };
        let step = tour.steps[tour.next % tour.steps.len()];
        let mut cmds = Vec::new();
        match tour.phase {
            Phase::Start => {
                match step.what {
                    What::Preset(p) => {
                        cmds.push(Command::ApplyPreset(p));
                        cmds.push(Command::Run);
                    }
                    What::Lesson(n) => {
                        cmds.push(Command::OpenLesson(n));
                        cmds.push(Command::RunLesson);
                    }
                }
                tour.phase = Phase::Running(Instant::now(), false);
            }
            Phase::Running(since, stopped) => {
                if self.session.confirm.is_some() {
                    // A run the window asks about first is dropped, as a teacher in a hurry
                    // would.
                    cmds.push(Command::CancelRun);
                } else if self.session.busy() {
                    let capped = since.elapsed() > STEP_CAP;
                    if !stopped && (capped || step.stop_midway && since.elapsed() > STOP_AFTER) {
                        tour.capped += usize::from(capped);
                        cmds.push(Command::Stop);
                        tour.phase = Phase::Running(since, true);
                    }
                } else if since.elapsed() > Duration::from_millis(100) {
                    tour.phase = Phase::Settle(SETTLE_FRAMES);
                }
            }
            Phase::Settle(0) => {
                if let Some(e) = self.session.error.take() {
                    tour.errors += 1;
                    say(&format!("tour: {} ended in an error: {e}", step.name()));
                }
                let secs = tour.opened.elapsed().as_secs_f64();
                match Holdings::now() {
                    Ok(h) => {
                        say(&format!(
                            "tour {secs:>7.1} s  {:<28} rss {:>7} KiB  threads {:>3}  fds {:>3}  children {}",
                            step.name(),
                            h.rss_kib,
                            h.threads,
                            h.fds,
                            h.children
                        ));
                        tour.samples.push((secs, h));
                    }
                    Err(e) => {
                        say(&format!("tour: {e}"));
                        tour.finish(Err(e));
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                        return;
                    }
                }
                tour.next += 1;
                tour.phase = Phase::Start;
                if Instant::now() >= tour.until {
                    let verdict = tour.verdict();
                    match &verdict {
                        Ok(v) => say(&format!("tour: nothing grew: {v}")),
                        Err(v) => say(&format!("tour: {v}")),
                    }
                    tour.finish(verdict.map(|_| ()));
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    return;
                }
            }
            Phase::Settle(n) => tour.phase = Phase::Settle(n - 1),
        }
        self.pending.extend(cmds);
        // While a job runs, the window repaints at the job's own pace (see `logic`).
        if !self.session.busy() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(rss_kib: u64, threads: u64, fds: u64, children: u64) -> Holdings {
        Holdings {
            rss_kib,
            threads,
            fds,
            children,
        }
    }

    #[test]
    fn growth_past_the_allowance_is_named() {
        assert!(judge(h(100_000, 10, 20, 0), h(109_000, 10, 20, 0)).is_ok());
        let e = judge(h(100_000, 10, 20, 0), h(111_000, 10, 20, 0)).unwrap_err();
        assert!(e.starts_with("memory grew over 10%"), "{e}");
        let e = judge(h(100_000, 10, 20, 0), h(90_000, 11, 21, 1)).unwrap_err();
        assert!(
            e.starts_with("threads grew, file descriptors grew, child processes grew"),
            "{e}"
        );
    }

    #[test]
    fn a_round_visits_every_preset_and_lesson_and_stops_some() {
        let round = Step::round();
        assert_eq!(
            round.len(),
            Preset::ALL.len() + crate::lessons::LESSONS.len()
        );
        assert!(
            round
                .iter()
                .any(|s| s.what == What::Preset(Preset::CountLoop))
        );
        assert!(round.iter().any(|s| s.what == What::Lesson(1)));
        let stopped = round.iter().filter(|s| s.stop_midway).count();
        assert!(stopped >= round.len() / 4, "{stopped} of {}", round.len());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_reads_its_own_holdings() {
        let a = Holdings::now().unwrap();
        assert!(a.rss_kib > 0 && a.threads >= 1 && a.fds >= 1, "{a:?}");
        let child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let b = Holdings::now().unwrap();
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        assert!(b.children >= 1, "the sleep child is counted: {b:?}");
    }
}
