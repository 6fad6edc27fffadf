//! Watching one worker: each sample of its thread (state, core, system call, GIL holder)
//! becomes a state, and runs of one state become spans; and the sampler's sleep to the next tick.

use std::collections::BTreeMap;

use super::gil_reader::{GilReader, GilState};
use super::procfs::{SYS_FUTEX, Sample, ThreadFiles};
use crate::trace::clock;
use crate::trace::events::{EngineEvent, EventSink};
use crate::trace::spans::{NO_CPU, Span, SpanState};

/// One worker as observed.
pub(super) struct Watched {
    pub(super) worker: u32,
    pub(super) pid: u32,
    pub(super) tid: u32,
    /// `None` when the thread had already ended before it could be opened (a run shorter than
    /// the sampling period): it counts as a worker with nothing observed.
    pub(super) files: Option<ThreadFiles>,
    pub(super) open: Option<(SpanState, u64, u32)>,
    pub(super) last_ns: u64,
    pub(super) state_ns: [u64; SpanState::COUNT],
    pub(super) on_cpu_ns: u64,
    /// The thread's on-CPU time when observation began (its past, for an attached process).
    pub(super) on_cpu_base_ns: u64,
    pub(super) alive: bool,
    pub(super) syscall_readable: bool,
    /// The last sample, when the thread was asleep: it stands while the thread is not put on a
    /// CPU again.
    pub(super) asleep: Option<Asleep>,
    /// The thread's on-CPU time when its child processes were last listed.
    pub(super) children_at_cpu_ns: Option<u64>,
    /// How long it was seen stopped (SIGSTOP, Ctrl-Z, a debugger), ns.
    pub(super) stopped_ns: u64,
}

/// A sleeping thread's last sample, and how many times it had been put on a CPU then.
#[derive(Clone, Copy, Debug)]
pub(super) struct Asleep {
    slices: u64,
    sample: Sample,
    sys: Option<Blocked>,
    /// For a thread asleep on one of the GIL's own words: the GIL's switch number read before
    /// that sample. `take_gil` is left only by taking the GIL, which moves the number, so while
    /// it stands the thread still waits (its brief timed wake-ups to ask for a drop excepted).
    gil_switches: Option<u64>,
}

/// One process's GIL as observed.
pub(super) struct ProcGil {
    pub(super) reader: Result<GilReader, String>,
    pub(super) first: Option<u64>,
    pub(super) last: u64,
    pub(super) now: Option<GilState>,
    /// The GIL's own lock words, where they could be found.
    pub(super) lock_words: Option<std::ops::Range<u64>>,
    /// Reads that failed while the process still lived (its memory became unreadable).
    pub(super) unreadable: Option<Unreadable>,
}

/// Reads of a live process's GIL that failed during a watch, after the reader was opened:
/// from then on no thread of it is shown holding the GIL (its holder is not known).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Unreadable {
    /// When the first read failed.
    pub(super) since_ns: u64,
    /// How many reads failed, and how many succeeded after the first failure.
    pub(super) failed: u64,
    pub(super) read_after: u64,
    /// The first failure's error.
    pub(super) error: String,
}

impl Unreadable {
    /// The summary's line for process `pid`, watched from `start_ns`.
    pub(super) fn note(&self, pid: u32, start_ns: u64) -> String {
        let at = self.since_ns.saturating_sub(start_ns) as f64 / 1e9;
        let after = if self.read_after == 0 {
            "it stayed unreadable".to_owned()
        } else {
            format!("{} later reads succeeded", self.read_after)
        };
        format!(
            "the GIL of process {pid} could not be read from {at:.2} s into the watch ({}; \
             {} reads failed, {after}): no thread of it is shown holding the GIL while unread",
            self.error, self.failed
        )
    }
}

impl ProcGil {
    /// Starts watching the GIL of `pid` (a Python `minor`), or says why it cannot be read.
    pub(super) fn open(pid: u32, gil_enabled: bool, minor: (u32, u32)) -> ProcGil {
        let reader = if gil_enabled {
            GilReader::open(pid, minor)
        } else {
            Err("a free-threaded build has no GIL".to_owned())
        };
        let lock_words = reader.as_ref().ok().and_then(|r| r.lock_words().ok());
        ProcGil {
            reader,
            first: None,
            last: 0,
            now: None,
            lock_words,
            unreadable: None,
        }
    }

    /// Opens the reader again if it could not be opened before: a process found the moment
    /// it was started may not have run the Python binary yet (its memory is still its parent's).
    pub(super) fn retry(&mut self, pid: u32, gil_enabled: bool, minor: (u32, u32)) {
        if gil_enabled && self.reader.is_err() {
            let again = ProcGil::open(pid, gil_enabled, minor);
            if again.reader.is_ok() {
                *self = again;
            }
        }
    }
}

/// The system call a sleeping thread is in: its number, and for a futex whether the word it
/// waits on is one of the GIL's own (`None` where that cannot be told).
pub(super) type Blocked = (i64, Option<bool>);

/// Whether `addr` lies in `words` (`None` when the GIL's words are not known).
pub(super) fn in_gil(words: Option<&std::ops::Range<u64>>, addr: u64) -> Option<bool> {
    words.map(|w| w.contains(&addr))
}

/// What a sample means, given the GIL (`None`: not observable) and the system call.
pub(super) fn classify(
    s: Sample,
    tid: u32,
    gil: Option<Option<u32>>,
    syscall: Option<Blocked>,
) -> SpanState {
    let running = s.state == b'R';
    match gil {
        Some(holder) if holder == Some(tid) => SpanState::Python,
        Some(_) if running => SpanState::Native,
        // A worker asleep on a futex waits for a lock: the GIL's own words (the GIL may be
        // free for an instant while the waiter is being woken), or the program's (a join, a
        // Lock, a Queue). Where the words are unknown it is counted as the GIL, as before.
        Some(_) => match syscall {
            Some((SYS_FUTEX, Some(false))) => SpanState::LockWait,
            Some((SYS_FUTEX, _)) => SpanState::GilWait,
            Some(_) => SpanState::Io,
            None => SpanState::Sleeping,
        },
        None if running => SpanState::OnCpu,
        None => SpanState::Sleeping,
    }
}

/// What a worker on a core without the GIL is named, given the state it was in before: right
/// after holding the GIL or waiting for it, that one sample is the GIL changing hands (or the
/// first moment of native work, which looks the same from outside); only a second such sample
/// in a row is called native. Any other state passes through.
pub(super) fn settle(previous: Option<SpanState>, state: SpanState) -> SpanState {
    match (previous, state) {
        (Some(SpanState::Native | SpanState::Handoff), SpanState::Native) => SpanState::Native,
        (Some(_), SpanState::Native) => SpanState::Handoff,
        _ => state,
    }
}

impl Watched {
    /// The thread's child processes, listed again only if it has run since the last listing
    /// (a thread waiting for the GIL starts no process).
    pub(super) fn children(&mut self) -> Vec<u32> {
        if !self.alive || self.children_at_cpu_ns == Some(self.on_cpu_ns) {
            return Vec::new();
        }
        self.children_at_cpu_ns = Some(self.on_cpu_ns);
        self.files
            .as_mut()
            .map(|f| f.children())
            .unwrap_or_default()
    }

    /// Ends the observation of a live thread: its CPU time as of now (a GIL waiter may not
    /// have been read for a while), and its open span closed at its last sample.
    pub(super) fn finish(&mut self, out: &mut Vec<Span>) {
        if let Some((ns, _)) = self.files.as_mut().and_then(|f| f.schedstat()) {
            self.on_cpu_ns = ns.saturating_sub(self.on_cpu_base_ns);
        }
        self.close(self.last_ns, out);
    }

    /// Closes the open span at `at_ns`.
    pub(super) fn close(&mut self, at_ns: u64, out: &mut Vec<Span>) {
        if let Some((state, start, cpu)) = self.open.take() {
            let end = at_ns.max(start);
            self.state_ns[state as usize] += end - start;
            out.push(Span {
                start_ns: start,
                end_ns: end,
                pid: self.pid,
                tid: self.tid,
                worker: self.worker,
                cpu,
                state,
            });
        }
    }

    pub(super) fn observe(&mut self, state: SpanState, cpu: u32, now: u64, out: &mut Vec<Span>) {
        let cpu = if state.uses_cpu() { cpu } else { NO_CPU };
        match self.open {
            Some((s, _, c)) if s == state && c == cpu => {}
            _ => {
                self.close(now, out);
                self.open = Some((state, now, cpu));
            }
        }
        self.last_ns = now;
    }
}

/// Reads every process's GIL once (a tick's first step, at `now_ns`). A read that fails while
/// the process lives is counted (its memory became unreadable); one of a process that has ended
/// or become a zombie is not: the end is said elsewhere.
pub(super) fn read_gils(gils: &mut BTreeMap<u32, ProcGil>, now_ns: u64) {
    for (&pid, g) in gils.iter_mut() {
        let Ok(reader) = g.reader.as_ref() else {
            g.now = None;
            continue;
        };
        match reader.read() {
            Ok(st) => {
                g.now = Some(st);
                g.first.get_or_insert(st.switch_number);
                g.last = st.switch_number;
                if let Some(u) = g.unreadable.as_mut() {
                    u.read_after += 1;
                }
            }
            Err(error) => {
                g.now = None;
                if !super::gil_reader::read_failed_as_ended(&error) && super::procfs::is_live(pid) {
                    let u = g.unreadable.get_or_insert(Unreadable {
                        since_ns: now_ns,
                        failed: 0,
                        read_after: 0,
                        error,
                    });
                    u.failed += 1;
                }
            }
        }
    }
}

/// Whether thread `tid`, seen asleep waiting for the GIL when its switch number was `seen`,
/// must still be waiting with the GIL as it is `now`: no one took it since, or exactly one
/// thread did and that thread holds it now and is another (a waiter that took it would have
/// moved the number itself: it was not the last holder while another held it).
fn still_waiting(seen: u64, now: GilState, tid: u32) -> bool {
    now.switch_number == seen
        || (now.switch_number == seen + 1 && now.holder_tid.is_some_and(|h| h != tid))
}

/// Samples every live worker once, between two reads of its process's GIL (the first made by
/// [`read_gils`]), extending its spans; a thread that has ended is closed. A thread that took
/// the GIL while its sample was being read was handing it over, not running native code. A
/// thread asleep at its last sample and not put on a CPU since is asleep in the same call: its
/// sample stands, and only its `schedstat` is read (2 µs instead of 12: most of a GIL-bound
/// program's threads sleep at any moment); a thread asleep waiting for the GIL is not read at
/// all until the GIL changes hands.
pub(super) fn sample_all(
    workers: &mut [Option<Watched>],
    gils: &BTreeMap<u32, ProcGil>,
    now: u64,
    spans: &mut Vec<Span>,
) {
    let mut samples = Vec::with_capacity(workers.len());
    for (k, w) in workers.iter_mut().enumerate() {
        let Some(w) = w.as_mut().filter(|w| w.alive) else {
            continue;
        };
        let Some(files) = w.files.as_mut() else {
            continue;
        };
        let gil_now = gils.get(&w.pid).and_then(|g| g.now);
        let switches = gil_now.map(|g| g.switch_number);
        if let (Some(a), Some(now)) = (w.asleep.as_mut(), gil_now)
            && let Some(seen) = a.gil_switches
            && still_waiting(seen, now, w.tid)
        {
            a.gil_switches = Some(now.switch_number);
            samples.push((k, a.sample, a.sys, true));
            continue;
        }
        let sched = files.schedstat();
        if let Some((ns, _)) = sched {
            w.on_cpu_ns = ns.saturating_sub(w.on_cpu_base_ns);
        }
        if let (Some((_, slices)), Some(a)) = (sched, w.asleep)
            && a.slices == slices
        {
            samples.push((k, a.sample, a.sys, true));
            continue;
        }
        match files.sample() {
            Some(s) => {
                let g = gils.get(&w.pid);
                let sys = (s.state != b'R' && w.syscall_readable)
                    .then(|| files.syscall_and_arg())
                    .flatten()
                    .map(|(nr, addr)| {
                        let words = g.and_then(|g| g.lock_words.as_ref());
                        (nr, (nr == SYS_FUTEX).then(|| in_gil(words, addr)).flatten())
                    });
                w.asleep = match sched {
                    Some((_, slices)) if s.state != b'R' => Some(Asleep {
                        slices,
                        sample: s,
                        sys,
                        gil_switches: switches.filter(|_| sys == Some((SYS_FUTEX, Some(true)))),
                    }),
                    _ => None,
                };
                samples.push((k, s, sys, false));
            }
            None => {
                w.alive = false;
                w.close(w.last_ns, spans);
            }
        }
    }
    // The second read of a process's GIL, made only when one of its threads was seen on a core
    // without it (most ticks of a GIL-bound program have none).
    let mut after: BTreeMap<u32, Option<u32>> = BTreeMap::new();
    let mut holder_after = |pid: u32| {
        *after.entry(pid).or_insert_with(|| {
            gils.get(&pid)
                .and_then(|g| g.reader.as_ref().ok())
                .and_then(|r| r.read().ok())
                .and_then(|st| st.holder_tid)
        })
    };
    for (k, s, sys, unchanged) in samples {
        let Some(w) = workers[k].as_mut() else {
            continue;
        };
        let g = gils.get(&w.pid);
        let gil = g.and_then(|g| g.now).map(|g| g.holder_tid);
        // A thread that has not run since its last sample cannot have changed its own view.
        let view = g
            .filter(|_| !unchanged)
            .and_then(|g| g.reader.as_ref().ok())
            .and_then(|r| r.thread_view(w.tid));
        let state = match (view, classify(s, w.tid, gil, sys)) {
            // 3.15+: the thread's own state says whether it holds the GIL or is taking it.
            (Some((true, _)), _) => SpanState::Python,
            (Some((false, true)), _) => SpanState::GilWait,
            (Some((false, false)), SpanState::Python) => SpanState::Handoff,
            (_, SpanState::Native) if holder_after(w.pid) == Some(w.tid) => SpanState::Handoff,
            (_, state) => settle(w.open.map(|o| o.0), state),
        };
        if matches!(s.state, b'T' | b't') {
            w.stopped_ns += now.saturating_sub(w.last_ns);
        }
        w.observe(state, s.cpu, now, spans);
    }
}

/// How often every thread is sampled.
pub(super) const PERIOD_NS: u64 = 1_000_000;
/// How often spans go to the sink.
pub(super) const FLUSH_EVERY_NS: u64 = 50_000_000;

/// The observing loop's clock: the 1 kHz ticks (and their measured intervals) and the stream
/// of new spans to the sink every [`FLUSH_EVERY_NS`].
pub(super) struct Ticks {
    next_ns: u64,
    prev_ns: u64,
    last_flush_ns: u64,
    unsent: usize,
    /// Measured intervals between ticks, ns.
    pub(super) intervals: Vec<u64>,
}

impl Ticks {
    /// Ticks starting now.
    pub(super) fn start() -> Ticks {
        let now = clock::now_ns();
        Ticks {
            next_ns: now + PERIOD_NS,
            prev_ns: 0,
            last_flush_ns: now,
            unsent: 0,
            intervals: Vec::new(),
        }
    }

    /// Records the tick at `now` and sends the spans not sent yet when a flush is due.
    pub(super) fn tick(&mut self, now: u64, run_id: u64, sink: Option<&EventSink>, spans: &[Span]) {
        if self.prev_ns != 0 {
            self.intervals.push(now - self.prev_ns);
        }
        self.prev_ns = now;
        if now.saturating_sub(self.last_flush_ns) >= FLUSH_EVERY_NS
            && self.flush(run_id, sink, spans)
        {
            self.last_flush_ns = now;
        }
    }

    /// Sends the spans not sent yet; whether there were any to send to a sink.
    pub(super) fn flush(&mut self, run_id: u64, sink: Option<&EventSink>, spans: &[Span]) -> bool {
        let Some(sink) = sink.filter(|_| spans.len() > self.unsent) else {
            return false;
        };
        sink.send(EngineEvent::Spans {
            run_id,
            spans: spans[self.unsent..].to_vec(),
        });
        self.unsent = spans.len();
        true
    }

    /// Sleeps to the next tick (from now, if the loop fell behind).
    pub(super) fn sleep(&mut self) {
        sleep_until(self.next_ns);
        self.next_ns += PERIOD_NS;
        let t = clock::now_ns();
        if self.next_ns < t {
            self.next_ns = t + PERIOD_NS;
        }
    }
}

/// Sleeps until `t_ns` on the monotonic clock.
fn sleep_until(t_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (t_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (t_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: a plain absolute sleep on the monotonic clock; `ts` outlives the call.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gil_whose_memory_turns_unreadable_is_noted_and_shows_no_holder() {
        let Ok(info) = super::super::probe("python3") else {
            eprintln!("skipped: no usable python3 here");
            return;
        };
        let mut python = std::process::Command::new("python3")
            .args(["-c", "import sys; sys.stdin.readline()"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut sleep = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = python.id();
        // Once it has exec'd python3 and loaded it (a pyenv shim execs on the way).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut g = ProcGil::open(pid, true, info.minor());
        while g.reader.is_err() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
            g.retry(pid, true, info.minor());
        }
        assert!(g.reader.is_ok(), "{:?}", g.reader.as_ref().err());
        let mut gils = BTreeMap::from([(pid, g)]);
        read_gils(&mut gils, 1_000);
        assert!(gils[&pid].now.is_some() && gils[&pid].unreadable.is_none());
        // The same addresses in a live process that has no Python there: unreadable memory.
        let g = gils.get_mut(&pid).unwrap();
        let reader = std::mem::replace(&mut g.reader, Err(String::new())).unwrap();
        g.reader = Ok(reader.on_pid(sleep.id()));
        let mut moved = BTreeMap::from([(sleep.id(), gils.remove(&pid).unwrap())]);
        for t in [2_000_000_000, 2_001_000_000, 2_002_000_000] {
            read_gils(&mut moved, t);
        }
        let g = &moved[&sleep.id()];
        assert_eq!(g.now, None, "no holder is shown while the GIL is unread");
        let u = g.unreadable.clone().expect("the failures are counted");
        assert_eq!((u.since_ns, u.failed, u.read_after), (2_000_000_000, 3, 0));
        let note = u.note(sleep.id(), 1_000_000_000);
        assert!(
            note.contains("could not be read from 1.00 s into the watch")
                && note.contains("3 reads failed, it stayed unreadable"),
            "{note}"
        );
        // Once the process has ended, a failed read is the end, said elsewhere, not counted.
        let _ = sleep.kill();
        let _ = sleep.wait();
        read_gils(&mut moved, 3_000_000_000);
        assert_eq!(
            moved[&sleep.id()].unreadable.as_ref().map(|u| u.failed),
            Some(3)
        );
        drop(python.stdin.take());
        let _ = python.wait();
    }

    #[test]
    fn a_gil_waiter_is_left_unread_only_while_no_one_else_could_have_woken_it() {
        let gil = |switch_number, holder_tid| GilState {
            holder_tid,
            switch_number,
        };
        assert!(still_waiting(10, gil(10, Some(8)), 7));
        assert!(still_waiting(10, gil(10, None), 7));
        assert!(
            still_waiting(10, gil(11, Some(8)), 7),
            "one hand-off, to another"
        );
        assert!(!still_waiting(10, gil(11, Some(7)), 7), "it took the GIL");
        assert!(
            !still_waiting(10, gil(11, None), 7),
            "taken and let go: by whom?"
        );
        assert!(
            !still_waiting(10, gil(12, Some(8)), 7),
            "two hand-offs: it may have run"
        );
    }

    #[test]
    fn samples_are_classified_without_guessing() {
        let run = Sample {
            state: b'R',
            cpu: 1,
        };
        let sleep = Sample {
            state: b'S',
            cpu: 1,
        };
        assert_eq!(classify(run, 7, Some(Some(7)), None), SpanState::Python);
        assert_eq!(classify(run, 7, Some(Some(8)), None), SpanState::Native);
        assert_eq!(classify(run, 7, Some(None), None), SpanState::Native);
        // One sample on a core without the GIL after holding or waiting for it is a hand-off;
        // a second in a row, or one with nothing before it, is native work.
        for before in [SpanState::Python, SpanState::GilWait, SpanState::Io] {
            assert_eq!(settle(Some(before), SpanState::Native), SpanState::Handoff);
        }
        assert_eq!(
            settle(Some(SpanState::Handoff), SpanState::Native),
            SpanState::Native
        );
        assert_eq!(
            settle(Some(SpanState::Native), SpanState::Native),
            SpanState::Native
        );
        assert_eq!(settle(None, SpanState::Native), SpanState::Native);
        assert_eq!(
            settle(Some(SpanState::Handoff), SpanState::Python),
            SpanState::Python
        );
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some((SYS_FUTEX, Some(true)))),
            SpanState::GilWait
        );
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some((SYS_FUTEX, None))),
            SpanState::GilWait
        );
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some((SYS_FUTEX, Some(false)))),
            SpanState::LockWait
        );
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some((0, None))),
            SpanState::Io
        );
        let words = 1000..1208;
        assert_eq!(in_gil(Some(&words), 1100), Some(true));
        assert_eq!(in_gil(Some(&words), 1208), Some(false));
        assert_eq!(in_gil(None, 1100), None);
        assert_eq!(classify(sleep, 7, Some(Some(8)), None), SpanState::Sleeping);
        // Without the GIL nothing is called Python or a GIL wait.
        assert_eq!(classify(run, 7, None, None), SpanState::OnCpu);
        assert_eq!(
            classify(sleep, 7, None, Some((SYS_FUTEX, Some(true)))),
            SpanState::Sleeping
        );
    }
}
