//! `mailauth verify`: check the DKIM signatures of a message read from
//! standard input.

use std::process::ExitCode;

use mailauth::dkim::verify::{DkimResult, SignatureResult, Verifier, VerifyConfig};

use crate::output::{Failure, NEGATIVE, TEMPORARY, read_stdin};
use crate::resolver::DnsArgs;

/// Options of `mailauth verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    dns: DnsArgs,
    /// The time to check t= and x= against, in seconds since 1970 (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    now: Option<u64>,
    /// Accept rsa-sha1 and RSA keys from 512 bits (RFC 6376 before RFC 8301), for old mail.
    #[arg(long)]
    legacy: bool,
    /// Check at most this many signatures (from the top).
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_signatures: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    let resolver = args.dns.resolver(json)?;
    let message = read_stdin(json)?;
    let mut config = if args.legacy {
        VerifyConfig::legacy()
    } else {
        VerifyConfig::default()
    };
    config.max_signatures = args.max_signatures;
    let now = args.now.unwrap_or_else(crate::output::unix_now);
    let mut verifier = Verifier::new(&config, now);
    verifier.feed(&message);
    let outcome = mailauth::resolve(verifier.finish(), &resolver);

    let summary = if outcome
        .signatures
        .iter()
        .any(|s| s.result == DkimResult::Pass)
    {
        "pass"
    } else if outcome.signatures.is_empty() {
        "none"
    } else if outcome
        .signatures
        .iter()
        .any(|s| s.result == DkimResult::TempError)
    {
        "temperror"
    } else {
        "fail"
    };
    let code = match summary {
        "pass" => 0,
        "temperror" => TEMPORARY,
        _ => NEGATIVE,
    };
    if json {
        let signatures: Vec<_> = outcome.signatures.iter().map(signature_json).collect();
        let value = serde_json::json!({
            "result": summary,
            "signatures": signatures,
            "header_complete": outcome.header_complete,
            "header_error": outcome.header_error.map(|e| e.to_string()),
        });
        println!("{value}");
    } else if outcome.signatures.is_empty() {
        println!("dkim=none (no signature)");
    } else {
        for signature in &outcome.signatures {
            println!("{}", signature_line(signature));
        }
    }
    Ok(ExitCode::from(code))
}

fn signature_line(s: &SignatureResult) -> String {
    let mut line = format!("dkim={}", s.result);
    if let Some(domain) = &s.domain {
        line.push_str(&format!(" header.d={domain}"));
    }
    if let Some(selector) = &s.selector {
        line.push_str(&format!(" header.s={selector}"));
    }
    if let Some(identity) = &s.identity {
        line.push_str(&format!(" header.i={identity}"));
    }
    if let Some(algorithm) = s.algorithm {
        line.push_str(&format!(" header.a={algorithm}"));
    }
    if let Some(bits) = s.key_bits {
        line.push_str(&format!(" ({bits}-bit key)"));
    }
    if s.testing {
        line.push_str(" (testing)");
    }
    if let Some(reason) = &s.reason {
        line.push_str(&format!(" reason=\"{reason}\""));
    }
    line
}

pub(crate) fn signature_json(s: &SignatureResult) -> serde_json::Value {
    serde_json::json!({
        "result": s.result.as_str(),
        "reason": s.reason.as_ref().map(ToString::to_string),
        "domain": s.domain.as_ref().map(ToString::to_string),
        "selector": s.selector,
        "identity": s.identity.as_ref().map(ToString::to_string),
        "algorithm": s.algorithm.map(|a| a.as_str()),
        "key_bits": s.key_bits,
        "body_length": s.body_length,
        "unsigned_body_octets": s.unsigned_body_octets,
        "testing": s.testing,
        "signature_prefix": s.signature_prefix,
    })
}
