//! `mailauth arc`: validate a message's ARC chain (`arc verify`) or add an
//! ARC set to it (`arc seal`), reading the message from standard input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use mailauth::arc::{self, ArcResult, Outcome, SealOptions, SealOutcome, Sealer, Validator};
use mailauth::dkim::crypto::SigningKey;

use crate::output::{Failure, NEGATIVE, read_file, read_stdin};
use crate::resolver::DnsArgs;

/// Options of `mailauth arc`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: ArcCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ArcCommand {
    /// Validate the ARC chain of a message (standard input): arc=none, pass or fail, with
    /// every set's sealer.
    #[command(after_help = crate::help::ARC_VERIFY)]
    Verify(VerifyArgs),
    /// Validate the chain, then add an ARC set recording this hop's Authentication-Results
    /// (cv= the validation's result) and print the sealed message.
    #[command(after_help = crate::help::ARC_SEAL)]
    Seal(SealArgs),
}

/// Options of `mailauth arc verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    dns: DnsArgs,
    /// Accept rsa-sha1 signatures and RSA keys from 512 bits, for old mail.
    #[arg(long)]
    legacy: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

/// Options of `mailauth arc seal`.
#[derive(Debug, clap::Args)]
pub(crate) struct SealArgs {
    #[command(flatten)]
    dns: DnsArgs,
    /// Private key file (PEM: PKCS#8 or PKCS#1 RSA; PKCS#8 Ed25519).
    #[arg(long, short = 'k', value_name = "FILE")]
    key: PathBuf,
    /// Sealing domain (d=).
    #[arg(long, short = 'd', value_name = "DOMAIN")]
    domain: String,
    /// Selector (s=): the key record is at SELECTOR._domainkey.DOMAIN.
    #[arg(long, short = 's', value_name = "SELECTOR")]
    selector: String,
    /// This hop's authserv-id: the Authentication-Results fields carrying it are recorded in
    /// the ARC-Authentication-Results.
    #[arg(long, value_name = "ID")]
    authserv_id: String,
    /// Header fields the ARC-Message-Signature signs when present, comma-separated.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    headers: Option<Vec<String>>,
    /// Sealing time in seconds since 1970 (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    now: Option<u64>,
    /// Print the three ARC fields and the chain status as JSON instead of the message.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.command {
        ArcCommand::Verify(args) => verify(args),
        ArcCommand::Seal(args) => seal(args),
    }
}

fn validate(
    message: &[u8],
    config: &arc::Config,
    dns: &DnsArgs,
    json: bool,
) -> Result<Outcome, Failure> {
    let resolver = dns.resolver(json)?;
    let mut validator = Validator::new(config);
    validator.feed(message);
    Ok(mailauth::resolve(validator.finish(), &resolver))
}

fn verify(args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let json = args.json;
    let message = read_stdin(json)?;
    // A diagnosis: the older message signatures are checked too.
    let mut config = arc::Config {
        oldest_pass: true,
        ..arc::Config::default()
    };
    if args.legacy {
        config.allow_sha1 = true;
        config.min_rsa_bits = 512;
    }
    let outcome = validate(&message, &config, &args.dns, json)?;
    if json {
        let sets: Vec<_> = outcome
            .instances
            .iter()
            .map(|set| {
                serde_json::json!({
                    "instance": set.instance,
                    "seal_domain": set.seal_domain.as_str(),
                    "seal_selector": set.seal_selector,
                    "signature_domain": set.signature_domain.as_str(),
                    "signature_selector": set.signature_selector,
                    "cv": set.chain_status.as_str(),
                })
            })
            .collect();
        let value = serde_json::json!({
            "result": outcome.result.as_str(),
            "reason": outcome.reason.as_ref().map(ToString::to_string),
            "sets": outcome.sets,
            "oldest_pass": outcome.oldest_pass,
            "instances": sets,
        });
        println!("{value}");
    } else {
        let mut line = format!("arc={}", outcome.result);
        if let Some(oldest) = outcome.oldest_pass {
            line.push_str(&format!(" header.oldest-pass={oldest}"));
        }
        if let Some(reason) = &outcome.reason {
            line.push_str(&format!(" ({reason})"));
        }
        println!("{line}");
        for set in outcome.instances.iter().rev() {
            println!(
                "  i={} cv={} seal d={} s={} signature d={} s={}",
                set.instance,
                set.chain_status,
                set.seal_domain.as_str(),
                set.seal_selector,
                set.signature_domain.as_str(),
                set.signature_selector
            );
        }
    }
    Ok(match outcome.result {
        ArcResult::Pass => ExitCode::SUCCESS,
        _ => ExitCode::from(NEGATIVE),
    })
}

fn seal(args: &SealArgs) -> Result<ExitCode, Failure> {
    let json = args.json;
    let key = SigningKey::from_pem(&read_file(&args.key, json)?)
        .map_err(|e| Failure::input(format!("{}: {e}", args.key.display()), json))?;
    let mut options = SealOptions::default();
    if let Some(headers) = &args.headers {
        options.headers = headers
            .iter()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
    }
    let sealer = Sealer::new(
        &args.domain,
        &args.selector,
        Arc::new(key),
        &args.authserv_id,
        options,
    )
    .map_err(|e| Failure::usage(e, json))?;
    let message = read_stdin(json)?;
    let chain = validate(&message, &arc::Config::default(), &args.dns, json)?;
    let now = args.now.unwrap_or_else(crate::output::unix_now);
    let mut sealing = sealer.start(now);
    sealing.update(&message);
    let outcome = sealing
        .finish_with_header_results(&chain)
        .map_err(|e| Failure::input(e, json))?;
    let set = match outcome {
        SealOutcome::Sealed(set) => set,
        SealOutcome::ChainFailed => {
            return Err(Failure {
                code: NEGATIVE,
                message: "not sealed: the chain has failed (a seal already says cv=fail)"
                    .to_owned(),
                json,
            });
        }
        _ => {
            return Err(Failure {
                code: NEGATIVE,
                message: "not sealed: the message has the most ARC sets allowed".to_owned(),
                json,
            });
        }
    };
    if json {
        let value = serde_json::json!({
            "instance": set.instance(),
            "cv": chain.result.as_str(),
            "arc_seal": set.seal(),
            "arc_message_signature": set.message_signature(),
            "arc_authentication_results": set.authentication_results(),
        });
        println!("{value}");
    } else {
        let mut lines = set.to_header_lines();
        if crate::sign::uses_lf(&message) {
            lines = lines.replace("\r\n", "\n");
        }
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(lines.as_bytes())
            .and_then(|()| out.write_all(&message))
            .and_then(|()| out.flush())
            .map_err(|e| Failure::input(format!("cannot write output: {e}"), json))?;
    }
    Ok(ExitCode::SUCCESS)
}
