//! The error for bad user input (exit code 2), shared by the command line and the app's
//! launcher, so neither has to import the other.

/// Exit code of bad input (as clap uses).
pub const EXIT_USAGE: u8 = 2;

/// An error caused by the user's input: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
