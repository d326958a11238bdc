//! `mailauth testkey`: compare the published key record with a private key,
//! like opendkim-testkey.

use std::path::PathBuf;
use std::process::ExitCode;

use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::keygen::{RecordCheck, check_record};
use mailauth::dkim::sign::{validate_domain, validate_selector};
use mailauth::dns::{Answer, Name, Query};

use crate::output::{Failure, NEGATIVE, TEMPORARY, read_file};
use crate::resolver::DnsArgs;

/// Options of `mailauth testkey`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signing domain.
    #[arg(long, short = 'd', value_name = "DOMAIN")]
    domain: String,
    /// The selector.
    #[arg(long, short = 's', value_name = "SELECTOR")]
    selector: String,
    /// The private key file.
    #[arg(long, short = 'k', value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    dns: DnsArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    validate_domain(&args.domain).map_err(|e| Failure::usage(e, json))?;
    validate_selector(&args.selector).map_err(|e| Failure::usage(e, json))?;
    let key = SigningKey::from_pem(&read_file(&args.key, json)?)
        .map_err(|e| Failure::input(format!("{}: {e}", args.key.display()), json))?;
    let resolver = args.dns.resolver(json)?;
    let dns_name = format!("{}._domainkey.{}", args.selector, args.domain);
    let name =
        Name::new(&dns_name).map_err(|e| Failure::usage(format!("{dns_name}: {e}"), json))?;
    let answer = resolver.lookup(&Query::txt(name));
    let (code, status, detail) = match &answer {
        Answer::Records(_) => {
            let records = answer.txt().unwrap_or_default();
            // Prefer a record that looks like a DKIM key when several are published.
            let joined: Vec<Vec<u8>> = records.iter().map(|t| t.joined()).collect();
            let record = joined
                .iter()
                .find(|r| r.windows(2).any(|w| w == b"p="))
                .or(joined.first())
                .cloned()
                .unwrap_or_default();
            match check_record(&record, &key) {
                RecordCheck::Matches => (0, "match", "key OK".to_owned()),
                RecordCheck::DifferentKey => (
                    NEGATIVE,
                    "mismatch",
                    "the published key is not this private key".to_owned(),
                ),
                RecordCheck::KeyTypeMismatch { record, key } => (
                    NEGATIVE,
                    "mismatch",
                    format!("the record holds a {record} key, the private key is {key}"),
                ),
                RecordCheck::Revoked => (
                    NEGATIVE,
                    "revoked",
                    "the record has an empty p=: the key is revoked".to_owned(),
                ),
                RecordCheck::Malformed(problem) => (
                    NEGATIVE,
                    "malformed",
                    format!("malformed key record: {problem}"),
                ),
                _ => (NEGATIVE, "malformed", "unusable key record".to_owned()),
            }
        }
        Answer::NxDomain | Answer::NoData => {
            (NEGATIVE, "missing", format!("no TXT record at {dns_name}"))
        }
        Answer::TempFail(failure) => (
            TEMPORARY,
            "temperror",
            format!("dns lookup of {dns_name} failed: {failure}"),
        ),
        Answer::PermFail(failure) => (
            NEGATIVE,
            "permerror",
            format!("dns lookup of {dns_name} failed: {failure}"),
        ),
        _ => (
            NEGATIVE,
            "permerror",
            format!("dns lookup of {dns_name} failed"),
        ),
    };
    if json {
        let value = serde_json::json!({
            "dns_name": dns_name,
            "result": status,
            "detail": detail,
            "key_type": key.key_type().as_str(),
            "bits": key.bits(),
        });
        println!("{value}");
    } else if code == 0 {
        println!("{dns_name}: {detail}");
    } else {
        eprintln!("mailauth: {dns_name}: {detail}");
    }
    Ok(ExitCode::from(code))
}
