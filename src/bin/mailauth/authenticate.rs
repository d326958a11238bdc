//! `mailauth authenticate`: the whole inbound pipeline (SPF, DKIM, DMARC)
//! on a message read from standard input, as a receiving MTA runs it.

use std::net::IpAddr;
use std::process::ExitCode;

use mailauth::dkim::verify::DkimResult;
use mailauth::dmarc::{self, Disposition, DmarcResult};
use mailauth::inbound::{Config, Connection, Inbound, Network, Verdict};
use mailauth::session::{Action, Client, Edit, Session, Settings, SettingsFile};
use mailauth::spf::{self, SpfResult};
use std::sync::Arc;

use crate::output::{Failure, NEGATIVE, TEMPORARY, read_stdin};
use crate::resolver::DnsArgs;

/// Options of `mailauth authenticate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMTP client's address (IPv4 or IPv6).
    #[arg(long, value_name = "IP")]
    ip: IpAddr,
    /// The name the client gave in HELO/EHLO.
    #[arg(long, value_name = "NAME")]
    helo: String,
    /// The MAIL FROM address ("" for the null sender).
    #[arg(long, value_name = "ADDR")]
    mail_from: String,
    /// The authserv-id written in Authentication-Results (this host's name);
    /// existing fields that claim it are reported as forged (default:
    /// localhost, or the settings file's).
    #[arg(long, value_name = "ID")]
    authserv_id: Option<String>,
    /// Read the Authentication-Results fields of this authserv-id (repeatable).
    #[arg(long, value_name = "ID")]
    trusted_authserv_id: Vec<String>,
    /// Validate the message's ARC chain (RFC 8617) and report arc= in
    /// Authentication-Results.
    #[arg(long)]
    arc: bool,
    /// An ARC sealer (ARC-Seal d=) trusted to vouch for mail it relayed: a passing chain with a
    /// set it sealed that recorded dmarc=pass sets a DMARC failure aside (repeatable; implies
    /// --arc).
    #[arg(long, value_name = "DOMAIN")]
    trusted_sealer: Vec<String>,
    /// The client authenticated (SMTP AUTH): the message is not checked.
    #[arg(long)]
    authenticated: bool,
    /// Clients in this network (CIDR) are not checked (repeatable).
    #[arg(long, value_name = "CIDR")]
    internal_network: Vec<Network>,
    #[command(flatten)]
    dns: DnsArgs,
    /// The time of the check in seconds since 1970, for DKIM t= and x= (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    now: Option<u64>,
    /// Print the whole verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Run as the MTA session with this settings file (mailauth.toml):
    /// decide as configured, print the action, the fields to add and the
    /// log line. Options given beside it override the file's.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let json = args.json;
    if args.helo.is_empty() {
        return Err(Failure::usage("--helo must not be empty", json));
    }
    let authserv_id = args.authserv_id.as_deref().unwrap_or("localhost");
    if [args.helo.as_str(), &args.mail_from, authserv_id]
        .iter()
        .any(|text| text.chars().any(char::is_control))
    {
        return Err(Failure::usage(
            "--helo, --mail-from and --authserv-id must not hold control characters",
            json,
        ));
    }
    if let Some(path) = &args.config {
        return session(args, path);
    }
    let resolver = args.dns.resolver(json)?;
    let message = read_stdin(json)?;
    let now = args.now.unwrap_or_else(crate::output::unix_now);

    let mut connection = Connection::new(args.ip, &args.helo, &args.mail_from);
    connection.authenticated = args.authenticated;
    let mut config = Config::new(authserv_id, now);
    config.spf.receiver = authserv_id.into();
    config
        .trusted_authserv_ids
        .clone_from(&args.trusted_authserv_id);
    config.internal_networks.clone_from(&args.internal_network);
    if args.arc || !args.trusted_sealer.is_empty() {
        config.arc = Some(mailauth::arc::Config::default());
    }
    for domain in &args.trusted_sealer {
        let name = mailauth::dns::Name::new(domain)
            .map_err(|e| Failure::usage(format!("--trusted-sealer {domain}: {e}"), json))?;
        config.trusted_arc_sealers.push(name);
    }

    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(&message);
    let verdict = mailauth::resolve(inbound.finish(), &resolver);

    if json {
        println!("{:#}", verdict_json(&verdict));
    } else {
        if let Some(skipped) = &verdict.skipped {
            eprintln!("not checked: {skipped}");
        }
        for removed in &verdict.remove {
            eprintln!(
                "forged field to remove (Authentication-Results #{}): {}",
                removed.occurrence,
                String::from_utf8_lossy(removed.field.raw())
            );
        }
        if let Some(field) = verdict.header_field() {
            println!("{field}");
        }
    }
    Ok(ExitCode::from(exit_code(&verdict)))
}

/// The settings file, with the options given beside `--config` written
/// over it.
pub(crate) fn load_settings(
    path: &std::path::Path,
    json: bool,
    change: impl FnOnce(&mut SettingsFile),
) -> Result<Settings, Failure> {
    Settings::from_file_with(path, change).map_err(|e| Failure::input(e, json))
}

/// `--config`: one SMTP transaction through the session.
fn session(args: &Args, path: &std::path::Path) -> Result<ExitCode, Failure> {
    let json = args.json;
    let settings = load_settings(path, json, |file| {
        if let Some(id) = &args.authserv_id {
            file.authserv_id.clone_from(id);
            file.spf.receiver.clone_from(id);
        }
        file.trusted_authserv_ids
            .extend(args.trusted_authserv_id.iter().cloned());
        file.internal_hosts
            .extend(args.internal_network.iter().map(ToString::to_string));
        if args.arc || !args.trusted_sealer.is_empty() {
            file.arc.verify = true;
        }
        file.arc
            .trusted_sealers
            .extend(args.trusted_sealer.iter().cloned());
    })?;
    let resolver: Box<dyn mailauth::dns::Resolver> =
        if args.dns.zone.is_some() || args.dns.nameserver.is_some() {
            args.dns.resolver(json)?
        } else {
            Box::new(
                settings
                    .dns()
                    .resolver()
                    .map_err(|e| Failure::input(e, json))?,
            )
        };
    let message = read_stdin(json)?;
    let now = args.now.unwrap_or_else(crate::output::unix_now);
    let mut client = Client::new(args.ip);
    if args.authenticated {
        client.authenticated = Some("user".to_owned());
    }
    let mut session = Session::new(Arc::new(settings), client, now);
    let mut stages = Vec::new();
    session.helo(&args.helo);
    stages.push(("helo", session.drive(&resolver)));
    if !stages[0].1.ends_transaction() {
        session.mail_from(&args.mail_from);
        stages.push(("mail_from", session.drive(&resolver)));
    }
    if !stages.iter().any(|(_, a)| a.ends_transaction()) {
        session.message(&message);
        session.end_of_message();
        stages.push(("end_of_message", session.drive(&resolver)));
    }
    let (stage, action) = stages.last().cloned().unwrap_or(("helo", Action::Continue));
    let log = session.log_line().unwrap_or_default();
    if json {
        let edits: Vec<serde_json::Value> = session
            .edits()
            .iter()
            .map(|edit| match edit {
                Edit::Insert { name, value } => {
                    serde_json::json!({"insert": name, "value": value})
                }
                Edit::Remove { name, occurrence } => {
                    serde_json::json!({"remove": name, "occurrence": occurrence})
                }
            })
            .collect();
        let value = serde_json::json!({
            "mode": session.mode().to_string(),
            "stage": stage,
            "action": action.kind(),
            "reply": action.reply().map(ToString::to_string),
            "edits": edits,
            "log": log,
            "verdict": session.verdict().map(verdict_json),
        });
        println!("{value:#}");
    } else {
        for edit in session.edits() {
            match edit {
                Edit::Insert { name, value } => println!("{name}: {value}"),
                Edit::Remove { name, occurrence } => {
                    eprintln!("remove {name} #{occurrence}");
                }
            }
        }
        eprintln!("{stage}: {action}");
        eprintln!("{log}");
    }
    Ok(ExitCode::from(match action {
        Action::Reject(_) | Action::Discard | Action::Quarantine(_) => NEGATIVE,
        Action::Tempfail(_) => TEMPORARY,
        _ => 0,
    }))
}

/// 1 when DMARC asks to quarantine or reject, else 3 when a result is a
/// temporary error, else 0.
fn exit_code(verdict: &Verdict) -> u8 {
    if matches!(
        verdict.disposition,
        Disposition::Quarantine | Disposition::Reject
    ) {
        return NEGATIVE;
    }
    let spf_temporary = [&verdict.spf_mail_from, &verdict.spf_helo]
        .iter()
        .any(|o| o.as_ref().is_some_and(|o| o.result == SpfResult::TempError));
    let dkim_temporary = verdict.dkim.as_ref().is_some_and(|v| {
        v.signatures
            .iter()
            .any(|s| s.result == DkimResult::TempError)
    });
    let dmarc_temporary = verdict
        .dmarc
        .as_ref()
        .is_some_and(|o| o.result == DmarcResult::TempError);
    if spf_temporary || dkim_temporary || dmarc_temporary {
        TEMPORARY
    } else {
        0
    }
}

fn spf_json(outcome: Option<&spf::Outcome>) -> serde_json::Value {
    outcome.map_or(serde_json::Value::Null, |o| {
        serde_json::json!({
            "result": o.result.as_str(),
            "domain": o.domain.as_str(),
            "sender": o.sender,
            "reason": o.reason.to_string(),
            "explanation": o.explanation,
        })
    })
}

fn dmarc_json(outcome: &dmarc::Outcome) -> serde_json::Value {
    let aligned: Vec<String> = outcome
        .aligned()
        .iter()
        .map(|a| match a {
            dmarc::AlignedIdentifier::Spf(domain) => format!("spf:{domain}"),
            dmarc::AlignedIdentifier::Dkim(domain) => format!("dkim:{domain}"),
            other => format!("{other:?}"),
        })
        .collect();
    serde_json::json!({
        "result": outcome.to_method_result().result,
        "author_domain": outcome.author_domain.as_ref().map(ToString::to_string),
        "policy_domain": outcome.policy_domain.as_ref().map(ToString::to_string),
        "organizational_domain": outcome.organizational_domain.as_ref().map(ToString::to_string),
        "policy": outcome.policy.map(|p| p.as_str()),
        "disposition": outcome.disposition.as_str(),
        "aligned": aligned,
        "testing": format!("{:?}", outcome.testing),
        "reason": outcome.reason.to_string(),
        "policy_override": outcome.policy_override.as_ref().map(|o| {
            serde_json::json!({"type": o.kind.as_str(), "comment": o.comment})
        }),
    })
}

fn arc_json(outcome: &mailauth::arc::Outcome) -> serde_json::Value {
    serde_json::json!({
        "result": outcome.result.as_str(),
        "reason": outcome.reason.as_ref().map(ToString::to_string),
        "sets": outcome.sets,
        "oldest_pass": outcome.oldest_pass,
        "sealers": outcome
            .instances
            .iter()
            .map(|set| format!("i={} d={} s={}", set.instance, set.seal_domain, set.seal_selector))
            .collect::<Vec<_>>(),
    })
}

fn verdict_json(verdict: &Verdict) -> serde_json::Value {
    let dkim = verdict.dkim.as_ref().map(|v| {
        serde_json::json!({
            "signatures": v.signatures.iter().map(crate::verify::signature_json).collect::<Vec<_>>(),
            "header_complete": v.header_complete,
            "header_error": v.header_error.map(|e| e.to_string()),
        })
    });
    let remove: Vec<_> = verdict
        .remove
        .iter()
        .map(|r| {
            serde_json::json!({
                "position": r.position,
                "occurrence": r.occurrence,
                "field": String::from_utf8_lossy(r.field.raw()),
            })
        })
        .collect();
    serde_json::json!({
        "skipped": verdict.skipped.as_ref().map(ToString::to_string),
        "spf_helo": spf_json(verdict.spf_helo.as_ref()),
        "spf_mail_from": spf_json(verdict.spf_mail_from.as_ref()),
        "dkim": dkim,
        "dmarc": verdict.dmarc.as_ref().map(dmarc_json),
        "arc": verdict.arc.as_ref().map(arc_json),
        "disposition": verdict.disposition.as_str(),
        "authentication_results": verdict.header_field(),
        "remove": remove,
        "header_error": verdict.header_error.map(|e| e.to_string()),
        "trusted_results": verdict
            .trusted_results
            .iter()
            .map(|ar| ar.to_header_value())
            .collect::<Vec<_>>(),
    })
}
