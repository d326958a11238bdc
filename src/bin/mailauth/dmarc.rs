//! `mailauth dmarc`: DMARC tools (`dmarc lint DOMAIN`).

use std::process::ExitCode;

use crate::output::Failure;

/// Options of `mailauth dmarc`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: DmarcCommand,
}

/// The subcommands of `mailauth dmarc`.
#[derive(Debug, clap::Subcommand)]
enum DmarcCommand {
    /// Check a domain's DMARC policy: where it is found, its tags and tag errors,
    /// and whether each rua/ruf destination outside the organization authorizes it.
    #[command(after_help = crate::help::DMARC_LINT)]
    Lint(crate::lint::DmarcLintArgs),
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.command {
        DmarcCommand::Lint(lint) => crate::lint::dmarc(lint),
    }
}
