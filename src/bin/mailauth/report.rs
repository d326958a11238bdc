//! `mailauth report`: DMARC aggregate reports from the report store.
//!
//! The store does I/O against SQLite or PostgreSQL, so it lives in the
//! `mailauth-store` crate, which depends on this one; this crate cannot
//! depend on it back. `mailauth report ARGS` therefore runs the
//! `mailauth-report` program that crate installs (beside this program,
//! else on `PATH`), as git and cargo run their external subcommands.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::output::{Failure, TEMPORARY};

/// Options of `mailauth report`, passed on to `mailauth-report`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// `send --settings FILE [--dir DIR] [--now UNIX_TIME]`: builds the report of each
    /// ended period from the store and sends it (or writes it to DIR); `mailauth-report
    /// --help` lists every subcommand.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

const PROGRAM: &str = "mailauth-report";

/// `mailauth-report` beside this program, else the name for a `PATH`
/// search.
fn program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(PROGRAM)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(PROGRAM))
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let program = program();
    let status = Command::new(&program)
        .args(&args.args)
        .status()
        .map_err(|e| Failure {
            code: TEMPORARY,
            message: format!(
                "cannot run {} ({e}): it comes with the mailauth-store package",
                program.display()
            ),
            json: false,
        })?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(TEMPORARY),
    })
}
