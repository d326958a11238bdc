//! `mailauth sign`: DKIM-sign a message read from standard input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use mailauth::dkim::Algorithm;
use mailauth::dkim::canon::Canonicalization;
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::sign::{SignOptions, Signer, from_address};
use mailauth::dkim::table::SigningTable;
use mailauth::message::{HeaderLimits, MessageReader};

use crate::output::{Failure, read_file, read_stdin};

/// Options of `mailauth sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Private key file (PEM: PKCS#8 or PKCS#1 RSA; PKCS#8 Ed25519).
    #[arg(long, short = 'k', value_name = "FILE", required_unless_present_any = ["signing_table", "config"], requires_all = ["domain", "selector"])]
    key: Option<PathBuf>,
    /// Signing domain (d=).
    #[arg(long, short = 'd', value_name = "DOMAIN")]
    domain: Option<String>,
    /// Selector (s=): the key record is at SELECTOR._domainkey.DOMAIN.
    #[arg(long, short = 's', value_name = "SELECTOR")]
    selector: Option<String>,
    /// OpenDKIM SigningTable (prefix `refile:` for wildcard patterns); picks key, domain and
    /// selector from the From address. Needs --key-table.
    #[arg(long, value_name = "[refile:]FILE", requires = "key_table", conflicts_with_all = ["key", "domain", "selector"])]
    signing_table: Option<String>,
    /// OpenDKIM KeyTable (`keyname domain:selector:keyfile` lines).
    #[arg(long, value_name = "FILE", requires = "signing_table")]
    key_table: Option<String>,
    /// Algorithm; must fit the key (default: rsa-sha256 for RSA keys, ed25519-sha256 for Ed25519).
    #[arg(long, value_name = "ALGORITHM", value_parser = ["rsa-sha256", "ed25519-sha256"])]
    algorithm: Option<String>,
    /// Canonicalization header/body.
    /// (default relaxed/relaxed, or the settings file's).
    #[arg(long, short = 'c', value_name = "HEADER/BODY")]
    canonicalization: Option<String>,
    /// Header fields to sign when present, comma-separated (From is always signed).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    headers: Option<Vec<String>>,
    /// Header fields to oversign, comma-separated (default: From).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    oversign: Option<Vec<String>>,
    /// Agent or user identifier (i=), e.g. @mail.example.com.
    #[arg(long, value_name = "IDENTITY")]
    identity: Option<String>,
    /// Signature expires this many seconds after signing (x=).
    #[arg(long, value_name = "SECONDS")]
    expire: Option<u64>,
    /// Write the body length (l=). Lets anyone append to the body.
    #[arg(long)]
    body_length: bool,
    /// Leave out the signing time (t=).
    #[arg(long)]
    no_timestamp: bool,
    /// Signing time in seconds since 1970 (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    now: Option<u64>,
    /// Print the DKIM-Signature field and the signing parameters as JSON instead of the message.
    #[arg(long)]
    json: bool,
    /// Sign as the settings file (mailauth.toml) says: the key by the
    /// From address through its signing table, its canonicalization,
    /// fields and expiry. Options given beside it override the file's.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    let settings = match &args.config {
        Some(path) => Some(crate::authenticate::load_settings(path, json, |_| {})?),
        None => None,
    };
    let mut options = settings
        .as_ref()
        .map_or_else(SignOptions::default, |s| s.sign_options().clone());
    if let Some(text) = &args.canonicalization {
        options.canonicalization = Canonicalization::from_tag(text).ok_or_else(|| {
            Failure::usage(
                format!("invalid canonicalization {text:?} (expected e.g. relaxed/relaxed)"),
                json,
            )
        })?;
    }
    if args.no_timestamp {
        options.timestamp = false;
    }
    if args.expire.is_some() {
        options.expire_after = args.expire;
    }
    if args.body_length {
        options.body_length = true;
    }
    if let Some(headers) = &args.headers {
        options.headers = headers
            .iter()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
    }
    if let Some(oversign) = &args.oversign {
        options.oversigned = oversign
            .iter()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
    }
    let message = read_stdin(json)?;

    let mut signer = match (&args.signing_table, &args.key_table, &args.key) {
        (Some(signing_table), Some(key_table), _) => {
            let table = SigningTable::from_opendkim_files(key_table, signing_table)
                .map_err(|e| Failure::input(e, json))?;
            let from = message_from(&message)
                .ok_or_else(|| Failure::input("message has no usable from address", json))?;
            Signer::from_table(&table, &from, options)
                .ok_or_else(|| Failure::input(format!("no signing table entry for {from}"), json))?
                .map_err(|e| Failure::input(e, json))?
        }
        (_, _, Some(key_path)) => {
            let key = SigningKey::from_pem(&read_file(key_path, json)?)
                .map_err(|e| Failure::input(format!("{}: {e}", key_path.display()), json))?;
            let domain = args.domain.as_deref().unwrap_or_default();
            let selector = args.selector.as_deref().unwrap_or_default();
            Signer::new(domain, selector, Arc::new(key), options)
                .map_err(|e| Failure::usage(e, json))?
        }
        _ => {
            let Some(settings) = &settings else {
                return Err(Failure::usage(
                    "give --key, --domain and --selector, --signing-table and --key-table, or --config",
                    json,
                ));
            };
            let from = message_from(&message)
                .ok_or_else(|| Failure::input("message has no usable from address", json))?;
            Signer::from_table(settings.signing_table(), &from, options)
                .ok_or_else(|| Failure::input(format!("no signing rule for {from}"), json))?
                .map_err(|e| Failure::input(e, json))?
        }
    };
    if let Some(identity) = &args.identity {
        signer = signer
            .with_identity(identity)
            .map_err(|e| Failure::usage(e, json))?;
    }
    if let Some(name) = &args.algorithm {
        let wanted = Algorithm::from_name(name);
        if wanted != Some(signer.algorithm()) {
            return Err(Failure::usage(
                format!(
                    "algorithm {name} does not fit the key (it signs with {})",
                    signer.algorithm()
                ),
                json,
            ));
        }
    }
    let now = args.now.unwrap_or_else(crate::output::unix_now);
    let field = signer
        .sign(&message, now)
        .map_err(|e| Failure::input(e, json))?;
    if json {
        let value = serde_json::json!({
            "header": field.to_string(),
            "domain": signer.domain(),
            "selector": signer.selector(),
            "algorithm": signer.algorithm().as_str(),
        });
        println!("{value}");
    } else {
        let line = if uses_lf(&message) {
            field.to_header_line_lf()
        } else {
            field.into_header_line()
        };
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes())
            .and_then(|()| out.write_all(&message))
            .and_then(|()| out.flush())
            .map_err(|e| Failure::input(format!("cannot write output: {e}"), json))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the message's first line ends in a bare LF.
pub(crate) fn uses_lf(message: &[u8]) -> bool {
    match message.iter().position(|&b| b == b'\n') {
        Some(0) => true,
        Some(i) => message.get(i - 1) != Some(&b'\r'),
        None => false,
    }
}

/// The address in the message's (first) From field.
fn message_from(message: &[u8]) -> Option<String> {
    let mut reader = MessageReader::new(HeaderLimits::default());
    let _ = reader.feed(message);
    reader.finish();
    let field = reader.fields().iter().find(|f| f.is_named(b"from"))?;
    from_address(field.value())
}
