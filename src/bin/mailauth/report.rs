//! `mailauth report`: DMARC report tools (`report parse FILE...`; `report
//! send` and `report due` from the report store).
//!
//! The report store does I/O against SQLite or PostgreSQL, so it lives in
//! the `mailauth-store` crate, which depends on this one; this crate cannot
//! depend on it back. `mailauth report send|due ARGS` therefore runs the
//! `mailauth-report` program that crate installs (beside this program,
//! else on `PATH`), as git and cargo run their external subcommands.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use mailauth::report::read::{ReadLimits, read_aggregate};
use mailauth::report::{AlignedResult, Feedback};

use crate::output::{self, Failure};

/// Options of `mailauth report`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: ReportCommand,
}

/// The subcommands of `mailauth report`.
#[derive(Debug, clap::Subcommand)]
enum ReportCommand {
    /// Read received aggregate reports (report e-mails, .xml.gz, .zip or .xml files) and
    /// summarize them per sending source.
    #[command(after_help = crate::help::REPORT_PARSE)]
    Parse(ParseArgs),
    /// Build and send (or write to a folder with `--dir`) the aggregate report of each
    /// ended period from the report store of `--settings FILE` (settings `[report]`);
    /// `mailauth report send --help` lists its options.
    #[command(disable_help_flag = true)]
    Send(StoreArgs),
    /// List the periods and policy domains of the report store that are due.
    #[command(disable_help_flag = true)]
    Due(StoreArgs),
}

/// Options of `mailauth report send` and `due`, passed on to
/// `mailauth-report`.
#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// `--settings FILE [--dir DIR] [--now UNIX_TIME]`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

/// Options of `mailauth report parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct ParseArgs {
    /// The report files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.command {
        ReportCommand::Parse(parse) => parse_reports(parse),
        ReportCommand::Send(store) => run_store_program("send", store),
        ReportCommand::Due(store) => run_store_program("due", store),
    }
}

const STORE_PROGRAM: &str = "mailauth-report";

/// Runs `mailauth-report SUBCOMMAND ARGS` (beside this program, else from
/// `PATH`) and exits with its status.
fn run_store_program(subcommand: &str, args: &StoreArgs) -> Result<ExitCode, Failure> {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(STORE_PROGRAM)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(STORE_PROGRAM));
    let status = Command::new(&program)
        .arg(subcommand)
        .args(&args.args)
        .status()
        .map_err(|e| Failure {
            code: output::TEMPORARY,
            message: format!(
                "cannot run {} ({e}): it comes with the mailauth-store package",
                program.display()
            ),
            json: false,
        })?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(output::TEMPORARY),
    })
}

/// The figures of one sending source over all reports.
#[derive(Debug, Default)]
struct Source {
    messages: u64,
    dkim_pass: u64,
    spf_pass: u64,
    dispositions: BTreeMap<String, u64>,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        // Rounded to one decimal.
        ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0
    }
}

fn parse_reports(args: &ParseArgs) -> Result<ExitCode, Failure> {
    let limits = ReadLimits::default();
    let mut reports: Vec<(String, Feedback)> = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let data = match output::read_file(path, args.json) {
            Ok(data) => data,
            Err(failure) => {
                errors.push((name, failure.message));
                continue;
            }
        };
        match read_aggregate(&data, &limits) {
            Ok(found) => reports.extend(found.into_iter().map(|f| (name.clone(), f))),
            Err(e) => errors.push((name, e.to_string())),
        }
    }
    let mut sources: BTreeMap<IpAddr, Source> = BTreeMap::new();
    for (_, report) in &reports {
        for record in &report.records {
            let source = sources.entry(record.row.source_ip).or_default();
            let count = record.row.count;
            let evaluated = &record.row.policy_evaluated;
            source.messages = source.messages.saturating_add(count);
            if evaluated.dkim == Some(AlignedResult::Pass) {
                source.dkim_pass = source.dkim_pass.saturating_add(count);
            }
            if evaluated.spf == Some(AlignedResult::Pass) {
                source.spf_pass = source.spf_pass.saturating_add(count);
            }
            let slot = source
                .dispositions
                .entry(evaluated.disposition.as_str().to_owned())
                .or_default();
            *slot = slot.saturating_add(count);
        }
    }
    let mut ordered: Vec<(&IpAddr, &Source)> = sources.iter().collect();
    ordered.sort_by(|a, b| b.1.messages.cmp(&a.1.messages).then(a.0.cmp(b.0)));
    if args.json {
        let value = serde_json::json!({
            "reports": reports.iter().map(|(file, r)| serde_json::json!({
                "file": file,
                "org_name": r.metadata.org_name,
                "report_id": r.metadata.report_id,
                "policy_domain": r.policy_published.domain,
                "begin": r.metadata.date_range.begin,
                "end": r.metadata.date_range.end,
                "records": r.records.len(),
                "messages": r.message_count(),
            })).collect::<Vec<_>>(),
            "sources": ordered.iter().map(|(ip, s)| serde_json::json!({
                "source_ip": ip.to_string(),
                "messages": s.messages,
                "dkim_aligned_pass": s.dkim_pass,
                "spf_aligned_pass": s.spf_pass,
                "dkim_aligned_pass_percent": percent(s.dkim_pass, s.messages),
                "spf_aligned_pass_percent": percent(s.spf_pass, s.messages),
                "dispositions": s.dispositions,
            })).collect::<Vec<_>>(),
            "errors": errors.iter().map(|(file, error)| serde_json::json!({
                "file": file, "error": error,
            })).collect::<Vec<_>>(),
        });
        println!("{value}");
    } else {
        for (file, r) in &reports {
            println!(
                "{file}: {} report {} for {} ({} to {}): {} records, {} messages",
                r.metadata.org_name,
                r.metadata.report_id,
                r.policy_published.domain,
                r.metadata.date_range.begin,
                r.metadata.date_range.end,
                r.records.len(),
                r.message_count()
            );
        }
        if !ordered.is_empty() {
            println!();
            println!(
                "{:<39} {:>10} {:>7} {:>7}  dispositions",
                "source ip", "messages", "dkim %", "spf %"
            );
            for (ip, s) in &ordered {
                let dispositions = s
                    .dispositions
                    .iter()
                    .map(|(d, n)| format!("{d}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                println!(
                    "{:<39} {:>10} {:>7.1} {:>7.1}  {dispositions}",
                    ip.to_string(),
                    s.messages,
                    percent(s.dkim_pass, s.messages),
                    percent(s.spf_pass, s.messages)
                );
            }
        }
        for (file, error) in &errors {
            eprintln!("mailauth: {file}: {error}");
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(output::INPUT)
    })
}
