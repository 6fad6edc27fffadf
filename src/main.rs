//! The `gilscope` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not glibc's malloc: glibc's arenas kept what runs freed (the dynamic mmap
/// threshold rises with each large block freed, and later large blocks fragment the arenas):
/// in a 30-minute class tour the app's median resident memory grew from 150 to 480 MB with
/// 15-25 MB in use. With mimalloc it stays at 150-160 MB, and the emulated kernels run no
/// slower (a fixed mmap threshold instead made the NumPy kernel twice as slow).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A multiprocessing worker skips argument parsing: it only reads its job on stdin.
    if std::env::args().nth(1).as_deref()
        == Some(gilscope_engine::runtime::emulated::process::WORKER_ARG)
    {
        let code = gilscope_engine::runtime::emulated::worker_main();
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = gilscope::cli::Cli::parse();
    match gilscope::cli::dispatch(cli) {
        // A command that ended its run on Ctrl-C or SIGTERM (an attach detaches and reports)
        // exits as a process that signal ended.
        Ok(code) => match gilscope::cli::interrupt::stopped() {
            Some((stopped, line)) => {
                eprintln!("{line}");
                stopped
            }
            None => code,
        },
        // A closed pipe (`gilscope run | head`) is not an error worth a message.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", gilscope::cli::error_line(&err));
            gilscope::cli::exit_code(&err)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
