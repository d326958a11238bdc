//! `mailauth testkey`: compare the published key record with a private key,
//! like opendkim-testkey; one key, or every key of an OpenDKIM KeyTable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mailauth::dkim::KeyTableEntry;
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::keygen::{RecordCheck, check_record};
use mailauth::dkim::sign::{validate_domain, validate_selector};
use mailauth::dns::{Answer, Name, Query, Resolver};
use mailauth::session::import::ConfOption;

use crate::output::{Failure, INPUT, NEGATIVE, TEMPORARY, read_file};
use crate::resolver::DnsArgs;

/// Options of `mailauth testkey`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signing domain.
    #[arg(long, short = 'd', value_name = "DOMAIN", required_unless_present_any = ["key_table", "config"], requires_all = ["selector", "key"])]
    domain: Option<String>,
    /// The selector.
    #[arg(long, short = 's', value_name = "SELECTOR", requires = "domain")]
    selector: Option<String>,
    /// The private key file.
    #[arg(long, short = 'k', value_name = "FILE", requires = "domain")]
    key: Option<PathBuf>,
    /// Check every key of an OpenDKIM KeyTable (`keyname domain:selector:keyfile`
    /// lines; relative key paths are read from the table's folder).
    #[arg(long, value_name = "[file:]FILE", conflicts_with_all = ["domain", "config"])]
    key_table: Option<String>,
    /// Check the keys of an opendkim.conf: its KeyTable, or its Domain,
    /// Selector and KeyFile (as opendkim-testkey -x).
    #[arg(long, short = 'x', value_name = "FILE", conflicts_with = "domain")]
    config: Option<PathBuf>,
    #[command(flatten)]
    dns: DnsArgs,
    /// Print the result as JSON (an array of results with --key-table or -x).
    #[arg(long)]
    json: bool,
}

/// The outcome of checking one key.
struct KeyStatus {
    code: u8,
    status: &'static str,
    detail: String,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    if let Some(key_table) = &args.key_table {
        let path = key_table.strip_prefix("file:").unwrap_or(key_table);
        return run_table(args, Path::new(path));
    }
    if let Some(config) = &args.config {
        return run_config(args, config);
    }
    let (Some(domain), Some(selector), Some(key_path)) = (&args.domain, &args.selector, &args.key)
    else {
        return Err(Failure::usage(
            "give --domain, --selector and --key, or --key-table, or -x",
            json,
        ));
    };
    validate_domain(domain).map_err(|e| Failure::usage(e, json))?;
    validate_selector(selector).map_err(|e| Failure::usage(e, json))?;
    let key = SigningKey::from_pem(&read_file(key_path, json)?)
        .map_err(|e| Failure::input(format!("{}: {e}", key_path.display()), json))?;
    let resolver = args.dns.resolver(json)?;
    let dns_name = format!("{selector}._domainkey.{domain}");
    let name =
        Name::new(&dns_name).map_err(|e| Failure::usage(format!("{dns_name}: {e}"), json))?;
    let KeyStatus {
        code,
        status,
        detail,
    } = check(resolver.as_ref(), name, &dns_name, &key);
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

/// Looks up `name` and compares the record with `key`.
fn check(resolver: &dyn Resolver, name: Name, dns_name: &str, key: &SigningKey) -> KeyStatus {
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
            match check_record(&record, key) {
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
    KeyStatus {
        code,
        status,
        detail,
    }
}

/// Reads the KeyTable (or the single key) an opendkim.conf names.
fn run_config(args: &Args, config: &Path) -> Result<ExitCode, Failure> {
    let json = args.json;
    let text = String::from_utf8(read_file(config, json)?)
        .map_err(|_| Failure::input(format!("{}: not text", config.display()), json))?;
    // opendkim.conf: `Name value` lines, `#` comments, names case-insensitive.
    let options = ConfOption::parse_milter_conf(&text);
    let setting = |wanted: &str| ConfOption::find(&options, wanted).map(str::to_owned);
    let base = config.parent().unwrap_or(Path::new(""));
    if let Some(table) = setting("KeyTable") {
        let path = match table.split_once(':') {
            None => table.as_str(),
            Some(("file", path)) => path,
            Some((kind, _)) => {
                return Err(Failure::input(
                    format!(
                        "{}: KeyTable of type {kind}: is not supported (use a flat file)",
                        config.display()
                    ),
                    json,
                ));
            }
        };
        return run_table(args, &base.join(path));
    }
    match (setting("Domain"), setting("Selector"), setting("KeyFile")) {
        (Some(domain), Some(selector), Some(key)) => {
            let entries: Vec<KeyTableEntry> = domain
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|domain| KeyTableEntry::new(domain, domain, &selector, &key))
                .collect();
            run_entries(args, &entries, base)
        }
        _ => Err(Failure::input(
            format!(
                "{}: neither KeyTable nor Domain, Selector and KeyFile",
                config.display()
            ),
            json,
        )),
    }
}

/// Checks every key of a KeyTable file.
fn run_table(args: &Args, path: &Path) -> Result<ExitCode, Failure> {
    let json = args.json;
    let text = String::from_utf8(read_file(path, json)?)
        .map_err(|_| Failure::input(format!("{}: not text", path.display()), json))?;
    let entries = KeyTableEntry::parse_all(&text, &path.display().to_string())
        .map_err(|e| Failure::input(e, json))?;
    let base = path.parent().unwrap_or(Path::new(""));
    run_entries(args, &entries, base)
}

/// Checks each entry and prints a line per key (domain, selector, key file,
/// result). The exit status is the worst: an unreadable key (4), a key
/// that does not match (1), a temporary DNS failure (3), else 0.
fn run_entries(args: &Args, entries: &[KeyTableEntry], base: &Path) -> Result<ExitCode, Failure> {
    let json = args.json;
    if entries.is_empty() {
        return Err(Failure::input("the key table has no keys", json));
    }
    let resolver = args.dns.resolver(json)?;
    let mut worst = 0u8;
    let rank = |code: u8| match code {
        INPUT => 3,
        NEGATIVE => 2,
        TEMPORARY => 1,
        _ => 0,
    };
    let mut results = Vec::new();
    for entry in entries {
        let status = check_entry(resolver.as_ref(), entry, base);
        if rank(status.code) > rank(worst) {
            worst = status.code;
        }
        if json {
            results.push(serde_json::json!({
                "key_name": entry.name,
                "domain": entry.domain,
                "selector": entry.selector,
                "key_file": entry.key,
                "result": status.status,
                "detail": status.detail,
            }));
        } else {
            let outcome = if status.code == 0 && status.status == "match" {
                "ok".to_owned()
            } else {
                format!("{}: {}", status.status, status.detail)
            };
            println!(
                "{} {} {}: {outcome}",
                entry.domain, entry.selector, entry.key
            );
        }
    }
    if json {
        println!("{}", serde_json::Value::from(results));
    }
    Ok(ExitCode::from(worst))
}

fn check_entry(resolver: &dyn Resolver, entry: &KeyTableEntry, base: &Path) -> KeyStatus {
    let input = |detail: String| KeyStatus {
        code: INPUT,
        status: "error",
        detail,
    };
    if entry.domain == "%" {
        // The From domain: no one name to look up.
        return KeyStatus {
            code: 0,
            status: "skipped",
            detail: "the domain is % (the From domain): nothing to look up".to_owned(),
        };
    }
    if let Err(e) = validate_domain(&entry.domain) {
        return input(e.to_string());
    }
    if let Err(e) = validate_selector(&entry.selector) {
        return input(e.to_string());
    }
    let key = match entry.load_key(&mut |path| std::fs::read(base.join(path))) {
        Ok(key) => key,
        Err(e) => return input(e.to_string()),
    };
    let dns_name = format!("{}._domainkey.{}", entry.selector, entry.domain);
    match Name::new(&dns_name) {
        Ok(name) => check(resolver, name, &dns_name, &key),
        Err(e) => input(format!("{dns_name}: {e}")),
    }
}
