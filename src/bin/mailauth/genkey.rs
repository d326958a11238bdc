//! `mailauth genkey`: make a key pair and its DNS record, like opendkim-genkey.

use std::path::PathBuf;
use std::process::ExitCode;

use mailauth::dkim::HashAlgorithm;
use mailauth::dkim::keygen::{self, NewKey, RSA_DEFAULT_BITS};
use mailauth::dkim::sign::{validate_domain, validate_selector};

use crate::output::Failure;

/// Options of `mailauth genkey`. `-h` is opendkim-genkey's
/// `--hash-algorithms`, so help is `--help` only.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Args {
    /// Key type.
    #[arg(long = "type", short = 't', value_name = "TYPE", value_parser = ["rsa", "ed25519"], default_value = "rsa")]
    key_type: String,
    /// RSA key size in bits: 1024 to 4096 (the aws-lc backend makes multiples of 8 under
    /// 2048, then 2048, 3072 or 4096). 2048 is the default; 1024 (RFC 8301 §3.2 allows it)
    /// fits DNS providers that limit the record length.
    #[arg(long, short = 'b', value_name = "BITS", default_value_t = RSA_DEFAULT_BITS)]
    bits: usize,
    /// The domain the key signs for (used in the record comment and --json output).
    #[arg(long, short = 'd', value_name = "DOMAIN")]
    domain: String,
    /// Selector: the files are SELECTOR.private and SELECTOR.txt.
    #[arg(long, short = 's', value_name = "SELECTOR")]
    selector: String,
    /// Folder to write the files into.
    #[arg(long, short = 'D', value_name = "DIR", default_value = ".")]
    directory: PathBuf,
    /// Mark the record as testing (t=y).
    #[arg(long, visible_alias = "testmode")]
    testing: bool,
    /// Restrict the key to email (s=email), as opendkim-genkey's --restrict.
    #[arg(long, short = 'r')]
    restrict: bool,
    /// Hash algorithms the key may be used with (h=), colon-separated:
    /// sha256 refuses rsa-sha1 signatures.
    #[arg(long = "hash-algorithms", short = 'h', value_name = "HASHES", value_parser = parse_hashes)]
    // Spelled out so that clap takes one value holding the whole list.
    hash_algorithms: Option<std::vec::Vec<HashAlgorithm>>,
    /// Refuse signatures whose i= is in a subdomain of d= (t=s).
    #[arg(long = "no-subdomains", visible_alias = "nosubdomains")]
    no_subdomains: bool,
    /// Write the record's owner name with the domain appended
    /// (SELECTOR._domainkey.DOMAIN.), for a zone whose origin is elsewhere.
    #[arg(long = "append-domain", short = 'a')]
    append_domain: bool,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

/// Parses `sha256` or `sha1:sha256` (opendkim-genkey's list form).
fn parse_hashes(value: &str) -> Result<Vec<HashAlgorithm>, String> {
    value
        .split(':')
        .map(|name| match name.trim() {
            n if n.eq_ignore_ascii_case("sha256") => Ok(HashAlgorithm::Sha256),
            n if n.eq_ignore_ascii_case("sha1") => Ok(HashAlgorithm::Sha1),
            n => Err(format!("unknown hash algorithm {n:?} (sha1, sha256)")),
        })
        .collect()
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    validate_domain(&args.domain).map_err(|e| Failure::usage(e, json))?;
    validate_selector(&args.selector).map_err(|e| Failure::usage(e, json))?;
    let new_key = match args.key_type.as_str() {
        "ed25519" => NewKey::Ed25519,
        _ => NewKey::Rsa { bits: args.bits },
    };
    let private_path = args.directory.join(format!("{}.private", args.selector));
    let record_path = args.directory.join(format!("{}.txt", args.selector));
    for path in [&private_path, &record_path] {
        if path.exists() && !args.force {
            return Err(Failure::input(
                format!("{} exists (use --force to replace it)", path.display()),
                json,
            ));
        }
    }
    let key = keygen::generate(new_key).map_err(|e| match e {
        keygen::KeygenError::RsaBits { .. } => Failure::usage(e, json),
        _ => Failure::input(e, json),
    })?;
    let record = key
        .record()
        .with_testing(args.testing)
        .with_email_only(args.restrict)
        .with_hash_algorithms(args.hash_algorithms.as_deref().unwrap_or_default())
        .with_strict_identity(args.no_subdomains);
    let zone_entry = if args.append_domain {
        record.zone_entry_with_domain(&args.selector, &args.domain)
    } else {
        record.zone_entry(&args.selector, &args.domain)
    };
    write_private(&private_path, key.private_key_pem().as_bytes()).map_err(|e| {
        Failure::input(
            format!("cannot write {}: {e}", private_path.display()),
            json,
        )
    })?;
    std::fs::write(&record_path, zone_entry).map_err(|e| {
        Failure::input(format!("cannot write {}: {e}", record_path.display()), json)
    })?;
    if json {
        let value = serde_json::json!({
            "private_key": private_path.display().to_string(),
            "record_file": record_path.display().to_string(),
            "dns_name": format!("{}._domainkey.{}", args.selector, args.domain),
            "record": record.text(),
            "key_type": new_key.key_type().as_str(),
            "bits": key.signing_key().bits(),
        });
        println!("{value}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the private key readable by its owner only.
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}
