//! The `mailauth` command-line tool.
//!
//! Each subcommand is one variant of [`Command`] and one module under
//! `src/bin/mailauth/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "mailauth/authenticate.rs"]
mod authenticate;
#[path = "mailauth/genkey.rs"]
mod genkey;
#[path = "mailauth/output.rs"]
mod output;
#[path = "mailauth/resolver.rs"]
mod resolver;
#[path = "mailauth/sign.rs"]
mod sign;
#[path = "mailauth/spf.rs"]
mod spf;
#[path = "mailauth/testkey.rs"]
mod testkey;
#[path = "mailauth/verify.rs"]
mod verify;

const EXIT_CODES: &str = "\
Exit status:
  0  success: SPF pass, a signature verified, message signed, key written,
     key matches
  1  negative result: SPF fail, softfail, neutral, none or permerror; no
     signature verified (fail, permerror, none); the published key does not
     match, is revoked or missing; DMARC asks to quarantine or reject
  2  bad arguments
  3  temporary failure (DNS timeout or server failure): try again later
  4  input or configuration error (unreadable file, bad key, bad message)";

/// Mail authentication from the command line: the whole inbound check (SPF,
/// DKIM, DMARC), SPF checks, DKIM verification and signing, key generation
/// and key checks.
#[derive(Debug, Parser)]
#[command(name = "mailauth", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Authenticate a received message (standard input): SPF, DKIM and DMARC, and the
    /// Authentication-Results field to prepend.
    #[command(after_help = EXIT_CODES)]
    Authenticate(authenticate::Args),
    /// Check SPF (RFC 7208) for a client address, HELO name and MAIL FROM address.
    #[command(after_help = EXIT_CODES)]
    Spf(spf::Args),
    /// Verify the DKIM signatures of a message (standard input).
    #[command(after_help = EXIT_CODES)]
    Verify(verify::Args),
    /// Sign a message (standard input) with DKIM and print the signed message.
    #[command(after_help = EXIT_CODES)]
    Sign(sign::Args),
    /// Generate a DKIM key pair: SELECTOR.private and SELECTOR.txt, like opendkim-genkey.
    #[command(after_help = EXIT_CODES)]
    Genkey(genkey::Args),
    /// Check that the keys published in DNS match the private keys (one key, or every key of
    /// an OpenDKIM KeyTable), like opendkim-testkey.
    #[command(after_help = EXIT_CODES)]
    Testkey(testkey::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Authenticate(args) => authenticate::run(&args),
        Command::Spf(args) => spf::run(&args),
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
