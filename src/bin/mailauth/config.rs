//! `mailauth config`: the settings file (`config check FILE`) and its
//! import from OpenDKIM, OpenDMARC and policyd-spf configuration files
//! (`config import`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mailauth::session::Settings;
use mailauth::session::import::{ConfFile, import};

use crate::output::Failure;

/// Options of `mailauth config`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: ConfigCommand,
}

/// The subcommands of `mailauth config`.
#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// Write a settings file (on standard output) from the configuration files of OpenDKIM,
    /// OpenDMARC and policyd-spf; each option not carried over is named on standard error.
    #[command(after_help = crate::help::CONFIG_IMPORT)]
    Import(ImportArgs),
    /// Load a settings file, with the files it names, and print the effective settings (every
    /// key, defaults included).
    #[command(after_help = crate::help::CONFIG_CHECK)]
    Check(CheckArgs),
}

/// Options of `mailauth config import`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// OpenDKIM's configuration file (opendkim.conf).
    #[arg(long, value_name = "FILE")]
    opendkim: Option<PathBuf>,
    /// OpenDMARC's configuration file (opendmarc.conf).
    #[arg(long, value_name = "FILE")]
    opendmarc: Option<PathBuf>,
    /// policyd-spf's configuration file (policyd-spf.conf).
    #[arg(long = "policyd-spf", value_name = "FILE")]
    policyd_spf: Option<PathBuf>,
}

/// Options of `mailauth config check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The settings file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.command {
        ConfigCommand::Import(import) => run_import(import),
        ConfigCommand::Check(check) => run_check(check),
    }
}

/// Reads a configuration file; an unreadable one ends the command (4).
/// Bytes that are not UTF-8 (a Latin-1 comment) become U+FFFD.
fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display()), false))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn run_import(args: &ImportArgs) -> Result<ExitCode, Failure> {
    if args.opendkim.is_none() && args.opendmarc.is_none() && args.policyd_spf.is_none() {
        return Err(Failure::usage(
            "give at least one of --opendkim, --opendmarc and --policyd-spf",
            false,
        ));
    }
    let read = |path: &Option<PathBuf>| -> Result<Option<(String, PathBuf)>, Failure> {
        path.as_ref()
            .map(|p| read_text(p).map(|text| (text, p.clone())))
            .transpose()
    };
    let opendkim = read(&args.opendkim)?;
    let opendmarc = read(&args.opendmarc)?;
    let policyd_spf = read(&args.policyd_spf)?;
    fn file(f: &Option<(String, PathBuf)>) -> Option<ConfFile<'_>> {
        f.as_ref()
            .map(|(text, path)| ConfFile::new(text, path.as_path()))
    }
    let (toml, notes) = import(file(&opendkim), file(&opendmarc), file(&policyd_spf));
    print!("{toml}");
    for note in notes {
        eprintln!("mailauth: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_check(args: &CheckArgs) -> Result<ExitCode, Failure> {
    let settings = Settings::from_file(&args.file).map_err(|e| Failure::input(e, false))?;
    print!("{}", settings.to_toml());
    Ok(ExitCode::SUCCESS)
}
