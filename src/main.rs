//! The `gilscope` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

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
