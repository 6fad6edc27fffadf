//! Ctrl-C and SIGTERM in the command line: the run in progress is cancelled as Stop cancels it
//! in the app (its Python processes, workers and scratch files cleaned up), and gilscope exits
//! with the status of a process ended by that signal (128 + its number), as python3 does. A
//! second signal while the first is being handled ends gilscope at once.
//!
//! The signals are caught by a handler, not blocked: a blocked mask would be inherited by every
//! program gilscope starts (a Pool's workers would then never die of the SIGTERM `terminate`
//! sends), whereas a caught signal goes back to its default in a program started by exec.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use gilscope_engine::runtime::CancelToken;

/// The token every command-line run is cancelled through.
static TOKEN: OnceLock<CancelToken> = OnceLock::new();
/// The signal that arrived, or 0.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The write end of the pipe the handler wakes the signal thread through, or -1.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// The token the command's runs watch (cancelled on SIGINT or SIGTERM once [`install`]ed).
pub fn token() -> CancelToken {
    TOKEN.get_or_init(CancelToken::new).clone()
}

/// The signal that cancelled the run, if one did.
pub fn received() -> Option<i32> {
    Some(SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// If a signal stopped the run: the exit status (128 + its number) and the one line to print.
pub fn stopped() -> Option<(std::process::ExitCode, String)> {
    let sig = received()?;
    let name = if sig == libc::SIGINT {
        "Ctrl-C"
    } else {
        "SIGTERM"
    };
    let code = std::process::ExitCode::from((128 + sig).clamp(0, 255) as u8);
    Some((code, format!("gilscope: stopped by {name}")))
}

/// The handler: only an async-signal-safe `write` of the signal's number to the pipe.
#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; `byte` lives for the call.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Catches SIGINT and SIGTERM (whose default would leave a real Python child or a worker
/// process running) and hands them to a named thread that cancels [`token`].
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let [read_fd, write_fd] = fds;
    WAKE_FD.store(write_fd, Ordering::SeqCst);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is valid; its handler is a plain extern "C" fn that only
        // writes to a pipe, and SA_RESTART keeps other threads' system calls going.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let cancel = token();
    // It waits for signals for the whole life of the process, so it is not joined.
    std::thread::Builder::new()
        .name("gilscope-signals".to_owned())
        .spawn(move || {
            loop {
                let mut byte = 0u8;
                // SAFETY: reads one byte into `byte` from the pipe's read end, which stays open.
                let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
                if n != 1 {
                    continue;
                }
                let sig = i32::from(byte);
                if SIGNAL.swap(sig, Ordering::SeqCst) != 0 {
                    std::process::exit(128 + sig);
                }
                cancel.cancel();
            }
        })?;
    Ok(())
}

/// Signals are not taken over on this platform: they end gilscope as by default.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}
