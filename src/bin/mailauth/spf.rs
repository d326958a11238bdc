//! `mailauth spf`: check SPF for a client address, HELO name and MAIL FROM
//! address, like spfquery.

use std::net::IpAddr;
use std::process::ExitCode;

use mailauth::authres::AuthenticationResults;
use mailauth::spf::{self, SpfResult};

use crate::output::{Failure, NEGATIVE, TEMPORARY};
use crate::resolver::DnsArgs;

/// Options of `mailauth spf`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMTP client's address (IPv4 or IPv6).
    #[arg(long, value_name = "IP")]
    ip: IpAddr,
    /// The name the client gave in HELO/EHLO.
    #[arg(long, value_name = "NAME")]
    helo: String,
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

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    if args.helo.is_empty() {
        return Err(Failure::usage("--helo must not be empty", json));
    }
    if has_control(&args.helo) || args.mail_from.as_deref().is_some_and(has_control) {
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
        Some(mail_from) => spf::Input::mail_from(args.ip, &args.helo, mail_from),
        None => spf::Input::helo(args.ip, &args.helo),
    }
    .at(now);
    let mut config = spf::Config::default();
    config.receiver.clone_from(&args.receiver);
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
            "domain": outcome.domain,
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
