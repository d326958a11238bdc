//! `mailauth spf lint` and `mailauth dmarc lint`: drive the core's lint
//! machines over the chosen DNS and print their reports.

use std::fmt::Write as _;
use std::process::ExitCode;

use mailauth::dmarc::{self, AlignmentMode, Mode, PolicyStatus};
use mailauth::dns::Name;
use mailauth::spf::lint::{LintConfig, LintNode, LintReport, Problem, TermLookup};

use crate::output::{Failure, NEGATIVE, USAGE};
use crate::resolver::DnsArgs;

/// Options of `mailauth spf lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct SpfLintArgs {
    /// The domain whose SPF record to check.
    #[arg(value_name = "DOMAIN")]
    domain: String,
    #[command(flatten)]
    dns: DnsArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Options of `mailauth dmarc lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct DmarcLintArgs {
    /// The domain whose DMARC policy to check.
    #[arg(value_name = "DOMAIN")]
    domain: String,
    /// Find the policy as RFC 7489 does, with the public suffix list, instead
    /// of the RFC 9989 DNS tree walk.
    #[arg(long)]
    rfc7489: bool,
    #[command(flatten)]
    dns: DnsArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn domain_arg(domain: &str, json: bool) -> Result<Name, Failure> {
    Name::new(domain.strip_suffix('.').unwrap_or(domain))
        .map_err(|e| Failure::usage(format!("{domain:?}: {e}"), json))
}

/// 2 when a lookup failed, 1 for other problems, 0 when clean.
fn exit_code(dns_failure: bool, clean: bool) -> ExitCode {
    ExitCode::from(if dns_failure {
        USAGE
    } else if clean {
        0
    } else {
        NEGATIVE
    })
}

/// `mailauth spf lint DOMAIN`.
pub(crate) fn spf(args: &SpfLintArgs) -> Result<ExitCode, Failure> {
    let json = args.json;
    let domain = domain_arg(&args.domain, json)?;
    let resolver = args.dns.resolver(json)?;
    let config = LintConfig::default();
    let report = mailauth::resolve(mailauth::spf::lint::Lint::new(&domain, &config), &resolver);
    let problems: Vec<serde_json::Value> = report
        .problems
        .iter()
        .map(|p| {
            let mut value = serde_json::json!({ "kind": p.kind(), "message": p.to_string() });
            if let Problem::Syntax {
                domain, position, ..
            } = p
            {
                value["domain"] = domain.as_str().into();
                value["position"] = (*position).into();
            }
            value
        })
        .collect();
    if json {
        let value = serde_json::json!({
            "domain": report.domain.as_str(),
            "clean": report.is_clean(),
            "dns_terms": report.dns_terms,
            "dns_term_limit": config.max_dns_terms,
            "void_lookups": report.void_lookups,
            "void_lookup_limit": config.max_void_lookups,
            "queries": report.queries,
            "tree": spf_node_json(&report, 0),
            "problems": problems,
        });
        println!("{value:#}");
    } else {
        let mut text = String::new();
        let _ = writeln!(text, "domain: {}", report.domain);
        let _ = writeln!(
            text,
            "dns terms: {} of {}",
            report.dns_terms, config.max_dns_terms
        );
        let _ = writeln!(
            text,
            "void lookups: {} of {}",
            report.void_lookups, config.max_void_lookups
        );
        text.push_str("records:\n");
        spf_node_text(&report, 0, 1, &mut text);
        problems_text(
            report.problems.iter().map(|p| (p.kind(), p.to_string())),
            &mut text,
        );
        print!("{text}");
    }
    Ok(exit_code(report.has_dns_failure(), report.is_clean()))
}

fn lookup_text(lookup: &TermLookup) -> Option<String> {
    Some(match lookup {
        TermLookup::NotNeeded | TermLookup::Record(_) => return None,
        TermLookup::DependsOnMessage => "not looked up (depends on the message)".to_owned(),
        TermLookup::Pending => "not looked up".to_owned(),
        TermLookup::Found(found) => count(*found, "record"),
        TermLookup::Void => "void lookup".to_owned(),
        TermLookup::Failed(failure) => format!("dns {failure}"),
        TermLookup::NotFollowed => "not followed".to_owned(),
        _ => "unknown".to_owned(),
    })
}

fn spf_node_text(report: &LintReport, index: usize, depth: usize, out: &mut String) {
    let Some(node) = report.nodes.get(index) else {
        return;
    };
    let indent = "  ".repeat(depth);
    let _ = write!(
        out,
        "{indent}{} ({}; {}, {})",
        node.domain,
        node.via.as_str(),
        count(node.dns_terms, "dns term"),
        count(node.void_lookups, "void lookup")
    );
    match &node.record {
        Some(record) => {
            let _ = writeln!(out, ": {record}");
        }
        None => out.push_str(": no record\n"),
    }
    for problem in &report.problems {
        if let Problem::Syntax {
            domain,
            error,
            position,
        } = problem
            && *domain == node.domain
        {
            let _ = writeln!(out, "{indent}  error at offset {position}: {error}");
        }
    }
    for term in &node.terms {
        let _ = write!(out, "{indent}  {}", term.text);
        match lookup_text(&term.lookup) {
            Some(lookup) => {
                let _ = writeln!(out, ": {lookup}");
            }
            None => out.push('\n'),
        }
        if let TermLookup::Record(child) = term.lookup {
            spf_node_text(report, child, depth + 2, out);
        }
    }
}

/// `1 thing`, `2 things`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn spf_node_json(report: &LintReport, index: usize) -> serde_json::Value {
    let Some(node): Option<&LintNode> = report.nodes.get(index) else {
        return serde_json::Value::Null;
    };
    let terms: Vec<serde_json::Value> = node
        .terms
        .iter()
        .map(|term| {
            let mut value = serde_json::json!({
                "term": term.text,
                "dns_term": term.dns_term,
            });
            let lookup = match &term.lookup {
                TermLookup::NotNeeded => "none",
                TermLookup::DependsOnMessage => "depends-on-message",
                TermLookup::Pending => "pending",
                TermLookup::Found(count) => {
                    value["records"] = (*count).into();
                    "found"
                }
                TermLookup::Void => "void",
                TermLookup::Failed(failure) => {
                    value["failure"] = failure.as_str().into();
                    "failed"
                }
                TermLookup::Record(child) => {
                    value["node"] = spf_node_json(report, *child);
                    "record"
                }
                TermLookup::NotFollowed => "not-followed",
                _ => "unknown",
            };
            value["lookup"] = lookup.into();
            value
        })
        .collect();
    serde_json::json!({
        "domain": node.domain.as_str(),
        "via": node.via.as_str(),
        "record": node.record,
        "dns_terms": node.dns_terms,
        "void_lookups": node.void_lookups,
        "terms": terms,
    })
}

fn problems_text(problems: impl Iterator<Item = (&'static str, String)>, out: &mut String) {
    let mut any = false;
    for (kind, message) in problems {
        if !any {
            out.push_str("problems:\n");
            any = true;
        }
        let _ = writeln!(out, "  {kind}: {message}");
    }
    if !any {
        out.push_str("problems: none\n");
    }
}

/// `mailauth dmarc lint DOMAIN`.
pub(crate) fn dmarc(args: &DmarcLintArgs) -> Result<ExitCode, Failure> {
    let json = args.json;
    let domain = domain_arg(&args.domain, json)?;
    let resolver = args.dns.resolver(json)?;
    let config = if args.rfc7489 {
        dmarc::Config::rfc7489()
    } else {
        dmarc::Config::default()
    };
    let report = mailauth::resolve(dmarc::lint::Lint::new(&domain, &config), &resolver);
    let method = match report.mode {
        Mode::Rfc7489 => "public suffix list (rfc7489)",
        _ => "dns tree walk (rfc9989)",
    };
    let found_at = match &report.status {
        PolicyStatus::Found(found) => Some(found.policy_domain.clone()),
        _ => None,
    };
    let where_found = match (&found_at, &report.organizational_domain) {
        (Some(at), _) if *at == report.domain => "the domain itself",
        (Some(at), Some(org)) if at == org => "the organizational domain",
        (Some(_), _) => "a parent domain",
        (None, _) => "nowhere",
    };
    let tags = report.record.as_ref().map(tags).unwrap_or_default();
    if json {
        let destinations: Vec<serde_json::Value> = report
            .destinations
            .iter()
            .map(|d| {
                serde_json::json!({
                    "tag": d.kind.as_str(),
                    "uri": d.uri,
                    "domain": d.domain.as_ref().map(Name::as_str),
                    "authorization_record": d.authorization_name.as_ref().map(Name::as_str),
                    "authorization": d.authorization.as_str(),
                })
            })
            .collect();
        let problems: Vec<serde_json::Value> = report
            .problems
            .iter()
            .map(|p| serde_json::json!({ "kind": p.kind(), "message": p.to_string() }))
            .collect();
        let tags: serde_json::Map<String, serde_json::Value> = tags
            .into_iter()
            .map(|(tag, value)| (tag.to_owned(), value.into()))
            .collect();
        let status = match &report.status {
            PolicyStatus::Found(_) => "found",
            PolicyStatus::NoPolicy { .. } => "no-policy",
            PolicyStatus::DnsError(_) => "dns-error",
            PolicyStatus::BadRecord { .. } => "bad-record",
            _ => "unknown",
        };
        let value = serde_json::json!({
            "domain": report.domain.as_str(),
            "clean": report.is_clean(),
            "mode": report.mode.as_str(),
            "status": status,
            "organizational_domain": report.organizational_domain.as_ref().map(Name::as_str),
            "policy_domain": found_at.as_ref().map(Name::as_str),
            "record_domain": report.record_domain.as_ref().map(Name::as_str),
            "record": report.record_text,
            "tags": tags,
            "destinations": destinations,
            "problems": problems,
            "queries": report.queries,
        });
        println!("{value:#}");
    } else {
        let mut text = String::new();
        let _ = writeln!(text, "domain: {}", report.domain);
        if let Some(org) = &report.organizational_domain {
            let _ = writeln!(text, "organizational domain: {org}");
        }
        match &found_at {
            Some(at) => {
                let _ = writeln!(
                    text,
                    "policy: found at _dmarc.{at} ({where_found}) by the {method}"
                );
            }
            None => match &report.status {
                PolicyStatus::NoPolicy {
                    unusable_record_at: Some(at),
                } => {
                    let _ = writeln!(
                        text,
                        "policy: none: the record at _dmarc.{at} has no valid p and no rua, so DMARC does not apply"
                    );
                }
                _ => {
                    let _ = writeln!(text, "policy: none found by the {method}");
                }
            },
        }
        if let (Some(at), Some(record)) = (&report.record_domain, &report.record_text) {
            let _ = writeln!(text, "record at _dmarc.{at}: {record}");
        }
        for (tag, value) in &tags {
            let _ = writeln!(text, "  {tag}={value}");
        }
        if !report.destinations.is_empty() {
            text.push_str("report destinations:\n");
        }
        for d in &report.destinations {
            let _ = write!(
                text,
                "  {} {}: {}",
                d.kind.as_str(),
                d.uri,
                d.authorization.as_str()
            );
            match &d.authorization_name {
                Some(name) => {
                    let _ = writeln!(text, " ({name})");
                }
                None => text.push('\n'),
            }
        }
        problems_text(
            report.problems.iter().map(|p| (p.kind(), p.to_string())),
            &mut text,
        );
        print!("{text}");
    }
    Ok(exit_code(report.has_dns_failure(), report.is_clean()))
}

/// The record's tags with the values in effect (defaults included).
fn tags(record: &dmarc::Record) -> Vec<(&'static str, String)> {
    let alignment = |mode: AlignmentMode| match mode {
        AlignmentMode::Strict => "s",
        _ => "r",
    };
    let mut tags = Vec::new();
    if let Some(policy) = record.policy {
        tags.push(("p", policy.as_str().to_owned()));
    }
    if let Some(policy) = record.subdomain_policy {
        tags.push(("sp", policy.as_str().to_owned()));
    }
    if let Some(policy) = record.nonexistent_subdomain_policy {
        tags.push(("np", policy.as_str().to_owned()));
    }
    tags.push(("adkim", alignment(record.dkim_alignment).to_owned()));
    tags.push(("aspf", alignment(record.spf_alignment).to_owned()));
    if record.testing {
        tags.push(("t", "y".to_owned()));
    }
    if record.percent != 100 {
        tags.push(("pct", record.percent.to_string()));
    }
    if !record.aggregate_report_uris.is_empty() {
        tags.push(("rua", record.aggregate_report_uris.join(",")));
    }
    if !record.failure_report_uris.is_empty() {
        tags.push(("ruf", record.failure_report_uris.join(",")));
    }
    tags
}
