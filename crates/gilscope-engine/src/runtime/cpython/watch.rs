//! Watching one worker: each sample of its thread (state, core, system call, GIL holder)
//! becomes a state, and runs of one state become spans; and the sampler's sleep to the next tick.

use super::gil_reader::{GilReader, GilState};
use super::procfs::{SYS_FUTEX, Sample, ThreadFiles};
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
    pub(super) alive: bool,
    pub(super) syscall_readable: bool,
}

/// One process's GIL as observed.
pub(super) struct ProcGil {
    pub(super) reader: Result<GilReader, String>,
    pub(super) first: Option<u64>,
    pub(super) last: u64,
    pub(super) now: Option<GilState>,
}

/// What a sample means, given the GIL (`None`: not observable) and the system call.
pub(super) fn classify(
    s: Sample,
    tid: u32,
    gil: Option<Option<u32>>,
    syscall: Option<i64>,
) -> SpanState {
    let running = s.state == b'R';
    match gil {
        Some(holder) if holder == Some(tid) => SpanState::Python,
        Some(_) if running => SpanState::Native,
        // A worker asleep on a futex waits for a lock: the GIL, which may be free for an
        // instant while the waiter is being woken.
        Some(_) => match syscall {
            Some(SYS_FUTEX) => SpanState::GilWait,
            Some(_) => SpanState::Io,
            None => SpanState::Sleeping,
        },
        None if running => SpanState::OnCpu,
        None => SpanState::Sleeping,
    }
}

impl Watched {
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

pub(super) fn sleep_until(t_ns: u64) {
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
        assert_eq!(
            classify(sleep, 7, Some(Some(8)), Some(SYS_FUTEX)),
            SpanState::GilWait
        );
        assert_eq!(classify(sleep, 7, Some(Some(8)), Some(0)), SpanState::Io);
        assert_eq!(classify(sleep, 7, Some(Some(8)), None), SpanState::Sleeping);
        // Without the GIL nothing is called Python or a GIL wait.
        assert_eq!(classify(run, 7, None, None), SpanState::OnCpu);
        assert_eq!(
            classify(sleep, 7, None, Some(SYS_FUTEX)),
            SpanState::Sleeping
        );
    }
}
