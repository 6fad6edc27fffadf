//! Ctrl-C and SIGTERM in the command line: the run in progress is cancelled as Stop cancels it
//! in the app (its Python processes, workers and scratch files cleaned up), and gilscope exits
//! with the status of a process ended by that signal (128 + its number), as python3 does. A
//! second signal while the first is being handled ends gilscope at once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use gilscope_engine::runtime::CancelToken;

/// The token every command-line run is cancelled through.
static TOKEN: OnceLock<CancelToken> = OnceLock::new();
/// The signal that arrived, or 0.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The token the command's runs watch (cancelled on SIGINT or SIGTERM once [`install`]ed).
pub fn token() -> CancelToken {
    TOKEN.get_or_init(CancelToken::new).clone()
}

/// The signal that cancelled the run, if one did.
pub fn received() -> Option<i32> {
    Some(SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// Takes SIGINT and SIGTERM from their default (which would leave a real Python child or a
/// worker process running) to a thread that cancels [`token`]. Call before any other thread
/// starts: the blocked mask is inherited by threads made later, and child processes get the
/// default back (Rust's `Command` resets the mask).
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    // SAFETY: a sigset_t is plain data, filled by sigemptyset/sigaddset before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; these calls only write it and this thread's mask.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    let cancel = token();
    // It waits for signals for the whole life of the process, so it is not joined.
    std::thread::Builder::new()
        .name("gilscope-signals".to_owned())
        .spawn(move || {
            loop {
                let mut sig: libc::c_int = 0;
                // SAFETY: `set` holds the two blocked signals; `sig` receives the one taken.
                if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                    continue;
                }
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
