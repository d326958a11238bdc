//! The `mailauth` command-line tool.
//!
//! Each subcommand is one variant of [`Command`] and one module under
//! `src/bin/mailauth/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "mailauth/arc.rs"]
mod arc;
#[path = "mailauth/authenticate.rs"]
mod authenticate;
#[path = "mailauth/config.rs"]
mod config;
#[path = "mailauth/dmarc.rs"]
mod dmarc;
#[path = "mailauth/genkey.rs"]
mod genkey;
#[path = "mailauth/help.rs"]
mod help;
#[path = "mailauth/lint.rs"]
mod lint;
#[path = "mailauth/output.rs"]
mod output;
#[path = "mailauth/report.rs"]
mod report;
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

/// Mail authentication from the command line: the whole inbound check (SPF,
/// DKIM, DMARC), SPF checks, DKIM verification and signing, key generation
/// and key checks, SPF and DMARC record linters, the settings file, DMARC
/// reports (reading received ones, sending ours from the report store).
#[derive(Debug, Parser)]
#[command(name = "mailauth", version, after_help = help::TOP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Authenticate a received message (standard input): SPF, DKIM and DMARC, and the
    /// Authentication-Results field to prepend.
    #[command(after_help = help::AUTHENTICATE)]
    Authenticate(authenticate::Args),
    /// Check SPF (RFC 7208) for a client address, HELO name and MAIL FROM address;
    /// `spf lint DOMAIN` checks a domain's SPF record.
    #[command(after_help = help::SPF)]
    Spf(spf::Args),
    /// DMARC tools: `dmarc lint DOMAIN` checks a domain's policy record and its
    /// report destinations.
    Dmarc(dmarc::Args),
    /// Verify the DKIM signatures of a message (standard input).
    #[command(after_help = help::VERIFY)]
    Verify(verify::Args),
    /// ARC (RFC 8617): `arc verify` validates a message's chain, `arc seal` adds this hop's set.
    Arc(arc::Args),
    /// Sign a message (standard input) with DKIM and print the signed message.
    #[command(after_help = help::SIGN)]
    Sign(sign::Args),
    /// The settings file: `config check FILE` loads it and prints the effective settings;
    /// `config import` writes one from opendkim.conf, opendmarc.conf and policyd-spf.conf.
    Config(config::Args),
    /// Generate a DKIM key pair: SELECTOR.private and SELECTOR.txt, like opendkim-genkey.
    #[command(after_help = help::GENKEY)]
    Genkey(genkey::Args),
    /// Check that the keys published in DNS match the private keys (one key, or every key of
    /// an OpenDKIM KeyTable), like opendkim-testkey.
    #[command(after_help = help::TESTKEY)]
    Testkey(testkey::Args),
    /// DMARC reports: `report parse FILE...` reads received aggregate reports and
    /// summarizes them per sending source; `report send` builds and sends the aggregate
    /// report of each ended period from the report store (runs `mailauth-report`).
    Report(report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Authenticate(args) => authenticate::run(&args),
        Command::Spf(args) => spf::run(&args),
        Command::Dmarc(args) => dmarc::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Arc(args) => arc::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Genkey(args) => genkey::run(&args),
        Command::Testkey(args) => testkey::run(&args),
        Command::Report(args) => report::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
