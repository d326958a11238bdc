//! The `mailauth` command-line tool.
//!
//! Each subcommand is one variant of [`Command`] and one module under
//! `src/bin/mailauth/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "mailauth/genkey.rs"]
mod genkey;
#[path = "mailauth/output.rs"]
mod output;
#[path = "mailauth/resolver.rs"]
mod resolver;
#[path = "mailauth/sign.rs"]
mod sign;
#[path = "mailauth/testkey.rs"]
mod testkey;
#[path = "mailauth/verify.rs"]
mod verify;

const EXIT_CODES: &str = "\
Exit status:
  0  success: a signature verified, message signed, key written, key matches
  1  negative result: no signature verified (fail, permerror, none); the published
     key does not match, is revoked or missing
  2  bad arguments
  3  temporary failure (DNS timeout or server failure): try again later
  4  input or configuration error (unreadable file, bad key, bad message)";

/// Mail authentication from the command line: DKIM verification and
/// signing, key generation and key checks.
#[derive(Debug, Parser)]
#[command(name = "mailauth", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify the DKIM signatures of a message (standard input).
    #[command(after_help = EXIT_CODES)]
    Verify(verify::Args),
    /// Sign a message (standard input) with DKIM and print the signed message.
    #[command(after_help = EXIT_CODES)]
    Sign(sign::Args),
    /// Generate a DKIM key pair: SELECTOR.private and SELECTOR.txt, like opendkim-genkey.
    #[command(after_help = EXIT_CODES)]
    Genkey(genkey::Args),
    /// Check that the key published in DNS matches a private key, like opendkim-testkey.
    #[command(after_help = EXIT_CODES)]
    Testkey(testkey::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => verify::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Genkey(args) => genkey::run(&args),
        Command::Testkey(args) => testkey::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
