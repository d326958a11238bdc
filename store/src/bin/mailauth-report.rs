//! `mailauth-report` (also run as `mailauth report`): DMARC aggregate
//! reports from the report store.
//!
//! `send` builds the report of each ended period from the store, writes it
//! to a folder or pipes it to `sendmail -t`, and marks the period reported
//! only after that succeeded (a failed period is tried again at the next
//! run); `due` lists what `send` would send.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use mailauth::session::Settings;
use mailauth_store::{PeriodReport, ReportStore, StoreError};

#[path = "mailauth-report/message.rs"]
mod message;

/// DMARC aggregate reports from the report store (settings `[report]`).
#[derive(Debug, Parser)]
#[command(name = "mailauth-report", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Build and send the report of every ended period not yet reported, then prune
    /// periods older than `report.keep_days`.
    Send(SendArgs),
    /// List the periods and policy domains that are due.
    Due(CommonArgs),
}

#[derive(Debug, clap::Args)]
struct CommonArgs {
    /// The settings file.
    #[arg(long, short = 'c', default_value = "/etc/mailauth/mailauth.toml")]
    settings: PathBuf,
    /// The time to take as now (seconds since the Unix epoch), for tests and re-runs.
    #[arg(long)]
    now: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct SendArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Write each report e-mail as a file in this folder instead of sending it
    /// (overrides `report.directory`).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Exit codes: 0 everything done, 1 some report failed (tried again next
/// run), 2 usage or settings, 3 the store failed.
const FAILED: u8 = 1;
const CONFIG: u8 = 2;
const STORE: u8 = 3;

/// How long a sender holds a period it is sending, seconds.
const LEASE: u64 = 900;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Cmd::Send(args) => send(args),
        Cmd::Due(args) => due(args),
    };
    match result {
        Ok(code) => code,
        Err((code, message)) => {
            eprintln!("mailauth-report: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn store_failure(error: StoreError) -> Failure {
    (STORE, error.to_string())
}

fn load(common: &CommonArgs) -> Result<(Settings, Box<dyn ReportStore>, u64), Failure> {
    let settings = Settings::from_file(&common.settings).map_err(|e| (CONFIG, e.to_string()))?;
    let store = mailauth_store::settings::open(&settings).map_err(store_failure)?;
    let now = common.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    Ok((settings, store, now))
}

fn due(args: &CommonArgs) -> Result<ExitCode, Failure> {
    let (settings, mut store, now) = load(args)?;
    let ready_at = now.saturating_sub(settings.file().report.delay);
    for due in store.due(ready_at, now).map_err(store_failure)? {
        println!(
            "{} {} {}",
            due.period.start, due.period.end, due.policy_domain
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn send(args: &SendArgs) -> Result<ExitCode, Failure> {
    let (settings, mut store, now) = load(&args.common)?;
    let report = &settings.file().report;
    if report.org_name.is_empty() || report.email.is_empty() {
        return Err((
            CONFIG,
            format!(
                "{}: report.org_name and report.email are needed to send reports",
                settings.origin()
            ),
        ));
    }
    let directory = args
        .dir
        .clone()
        .or_else(|| settings.report_directory().map(Path::to_path_buf));
    let ready_at = now.saturating_sub(report.delay);
    let mut failed = 0usize;
    for due in store.due(ready_at, now).map_err(store_failure)? {
        let (start, domain) = (due.period.start, due.policy_domain.as_str());
        if !store
            .claim(start, domain, now, LEASE)
            .map_err(store_failure)?
        {
            continue; // Another sender has it.
        }
        let outcome = match store.load_report(start, domain) {
            Ok(Some(period)) => deliver(&settings, &period, directory.as_deref(), now),
            Ok(None) => Ok(Delivered::Nothing),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(delivered) => {
                store
                    .mark_reported(start, domain, now)
                    .map_err(store_failure)?;
                println!("{domain} {}: {delivered}", due.period);
            }
            Err(message) => {
                failed += 1;
                eprintln!(
                    "mailauth-report: {domain} {}: {message} (tried again next run)",
                    due.period
                );
                store.release(start, domain).map_err(store_failure)?;
            }
        }
    }
    let before = now.saturating_sub(report.keep_days.saturating_mul(mailauth_store::DAY));
    store.prune(before).map_err(store_failure)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    })
}

/// What became of a period's report.
enum Delivered {
    /// Written to this file.
    File(PathBuf, u64),
    /// Handed to the sendmail command.
    Sent(usize, u64),
    /// Nowhere to send it (no usable or authorized `rua`), and why.
    NoDestination(String),
    /// Nothing was counted.
    Nothing,
}

impl std::fmt::Display for Delivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivered::File(path, messages) => {
                write!(f, "{messages} messages, written to {}", path.display())
            }
            Delivered::Sent(recipients, messages) => {
                write!(f, "{messages} messages, sent to {recipients} recipient(s)")
            }
            Delivered::NoDestination(why) => write!(f, "{why}: not reported"),
            Delivered::Nothing => f.write_str("nothing counted"),
        }
    }
}

fn deliver(
    settings: &Settings,
    period: &PeriodReport,
    directory: Option<&Path>,
    now: u64,
) -> Result<Delivered, String> {
    let report = &settings.file().report;
    let domain = &period.policy_published.domain;
    if period.records.is_empty() {
        return Ok(Delivered::Nothing);
    }
    let report_id = format!("{domain}!{}!{}", period.period.start, period.period.end);
    let messages = period.message_count();
    let email = match message::build(settings, period, &report_id, now)? {
        Ok(email) => email,
        Err(message::NoEmail::Nowhere(why)) => return Ok(Delivered::NoDestination(why)),
    };
    match directory {
        Some(directory) => {
            std::fs::create_dir_all(directory)
                .map_err(|e| format!("cannot create {}: {e}", directory.display()))?;
            let name = format!("{domain}!{}!{}.eml", period.period.start, period.period.end);
            let path = directory.join(&name);
            // Written whole or not at all: a reader never sees half a report.
            let partial = directory.join(format!(".{name}.partial"));
            std::fs::write(&partial, &email.bytes)
                .and_then(|()| std::fs::rename(&partial, &path))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(Delivered::File(path, messages))
        }
        None => {
            sendmail(&report.sendmail, &email.bytes)?;
            Ok(Delivered::Sent(email.recipients.len(), messages))
        }
    }
}

/// Pipes the message to the sendmail command (split on white space; `-t`
/// takes the recipients from the header).
fn sendmail(command: &str, message: &[u8]) -> Result<(), String> {
    let mut words = command.split_whitespace();
    let program = words.next().ok_or("report.sendmail is empty")?;
    let mut child = Command::new(program)
        .args(words)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let written = child
        .stdin
        .take()
        .ok_or("no pipe to sendmail")?
        .write_all(message);
    let status = child.wait().map_err(|e| format!("{program}: {e}"))?;
    written.map_err(|e| format!("{program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command} failed: {status}"))
    }
}
