//! Exit codes and error reporting shared by the subcommands.

use std::fmt;
use std::process::ExitCode;

/// The outcome was negative (a check failed).
pub(crate) const NEGATIVE: u8 = 1;
/// Bad arguments (clap uses the same code).
pub(crate) const USAGE: u8 = 2;
/// A temporary failure.
pub(crate) const TEMPORARY: u8 = 3;
/// Input or configuration error.
pub(crate) const INPUT: u8 = 4;

/// An error that ends the command, with its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
    pub(crate) json: bool,
}

impl Failure {
    pub(crate) fn usage(message: impl fmt::Display, json: bool) -> Failure {
        Failure {
            code: USAGE,
            message: message.to_string(),
            json,
        }
    }

    pub(crate) fn input(message: impl fmt::Display, json: bool) -> Failure {
        Failure {
            code: INPUT,
            message: message.to_string(),
            json,
        }
    }

    /// Prints the error (as JSON on standard output with `--json`) and
    /// returns the exit code.
    pub(crate) fn report(self) -> std::process::ExitCode {
        if self.json {
            let value = serde_json::json!({ "error": self.message, "exit_code": self.code });
            println!("{value}");
        } else {
            eprintln!("mailauth: {}", self.message);
        }
        ExitCode::from(self.code)
    }
}

/// Reads a file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path, json: bool) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display()), json))
}

/// Reads all of standard input.
pub(crate) fn read_stdin(json: bool) -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut data)
        .map_err(|e| Failure::input(format!("cannot read standard input: {e}"), json))?;
    Ok(data)
}

/// The current time in seconds since 1970.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
