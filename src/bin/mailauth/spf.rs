//! `mailauth spf`: check SPF for a client address, HELO name and MAIL FROM
//! address, like spfquery; `mailauth spf lint DOMAIN`: check a domain's SPF
//! record.

use std::net::IpAddr;
use std::process::ExitCode;

use mailauth::authres::AuthenticationResults;
use mailauth::spf::{self, SpfResult};

use crate::output::{Failure, NEGATIVE, TEMPORARY};
use crate::resolver::DnsArgs;

/// Options of `mailauth spf`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<SpfCommand>,
    /// The SMTP client's address (IPv4 or IPv6).
    #[arg(long, value_name = "IP", required = true)]
    ip: Option<IpAddr>,
    /// The name the client gave in HELO/EHLO.
    #[arg(long, value_name = "NAME", required = true)]
    helo: Option<String>,
    /// The MAIL FROM address ("" for the null sender, which checks
    /// postmaster@HELO). Without it, the HELO identity is checked.
    #[arg(long, value_name = "ADDR")]
    mail_from: Option<String>,
    /// The name of the host doing the check, used in Received-SPF, in the
    /// %{r} macro and as the authserv-id of Authentication-Results.
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    receiver: String,
    /// The check time for the %{t} macro, in seconds since the Unix epoch
    /// (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    now: Option<u64>,
    #[command(flatten)]
    dns: DnsArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// The subcommands of `mailauth spf`.
#[derive(Debug, clap::Subcommand)]
enum SpfCommand {
    /// Check a domain's SPF record: syntax, the include and redirect tree, the
    /// DNS-term and void-lookup counts against the RFC 7208 limits (10 and 2).
    #[command(after_help = crate::help::SPF_LINT)]
    Lint(crate::lint::SpfLintArgs),
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    let (Some(ip), Some(helo)) = (args.ip, args.helo.as_deref()) else {
        return match &args.command {
            Some(SpfCommand::Lint(lint)) => crate::lint::spf(lint),
            None => Err(Failure::usage("--ip and --helo are required", json)),
        };
    };
    if helo.is_empty() {
        return Err(Failure::usage("--helo must not be empty", json));
    }
    if has_control(helo) || args.mail_from.as_deref().is_some_and(has_control) {
        return Err(Failure::usage(
            "--helo and --mail-from must not hold control characters",
            json,
        ));
    }
    let resolver = args.dns.resolver(json)?;
    let now = args.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let input = match &args.mail_from {
        Some(mail_from) => spf::Input::mail_from(ip, helo, mail_from),
        None => spf::Input::helo(ip, helo),
    }
    .at(now);
    let mut config = spf::Config::default();
    config.receiver = args.receiver.as_str().into();
    let outcome = mailauth::resolve(spf::Check::new(&input, &config), &resolver);

    let received_spf = outcome.received_spf(&args.receiver);
    let mut authentication_results = AuthenticationResults::new(args.receiver.clone());
    authentication_results
        .results
        .push(outcome.to_method_result());
    let authentication_results = authentication_results.to_header_field();
    if json {
        let value = serde_json::json!({
            "result": outcome.result.as_str(),
            "identity": outcome.identity.as_str(),
            "domain": outcome.domain.as_str(),
            "sender": outcome.sender,
            "client_ip": outcome.client_ip.to_string(),
            "helo": outcome.helo,
            "reason": outcome.reason.to_string(),
            "explanation": outcome.explanation,
            "received_spf": received_spf,
            "authentication_results": authentication_results,
        });
        println!("{value:#}");
    } else {
        println!("{} ({})", outcome.result, outcome.reason);
        if let Some(explanation) = &outcome.explanation {
            println!("explanation: {explanation}");
        }
        println!("{received_spf}");
        println!("{authentication_results}");
    }
    Ok(ExitCode::from(match outcome.result {
        SpfResult::Pass => 0,
        SpfResult::TempError => TEMPORARY,
        _ => NEGATIVE,
    }))
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}
