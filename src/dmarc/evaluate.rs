//! Identifier alignment, the DMARC result and the policy that applies.
//!
//! - Alignment (RFC 9989 "Identifier Alignment Explained"; RFC 7489 §3.1):
//!   strict means the identifier equals the Author Domain (ignoring case),
//!   relaxed means both have the same Organizational Domain. Only a DKIM
//!   `pass` and an SPF `pass` count. The SPF identifier is the domain SPF
//!   checked: the MAIL FROM domain, or the HELO domain when MAIL FROM was
//!   empty (RFC 7489 §3.1.2 and RFC 7208 §2.4); the caller passes it.
//! - The result is `pass` when any identifier aligns, `fail` otherwise;
//!   `temperror` when an alignment could not be decided for a DNS failure
//!   and nothing else aligned; `none` when no policy applies.
//! - The policy (RFC 9989 "DMARC Policy Discovery" and the `sp`/`np` tag
//!   definitions): `p` when the record is the Author Domain's own, or when
//!   it comes from a Public Suffix Domain and the Author Domain is the
//!   Organizational Domain itself (`sp` and `np` speak of subdomains of the
//!   Organizational Domain; RFC 9091 did the same); otherwise `np` for an
//!   Author Domain that does not exist (when the record has `np`), else
//!   `sp`, else `p`. A record without a valid `p` (or with a bad `sp` or
//!   `np`) that still names a valid `rua` acts as `p=none`.
//! - The disposition of a failing message is the policy, one level lower
//!   when the record has `t=y` (RFC 9989 `t` tag) or, in the RFC 7489 mode,
//!   when the message falls outside the `pct` sample (RFC 7489 §6.6.4).

use std::fmt::Write;

use super::discovery::{DnsFailure, PolicyLookup, PolicyStatus};
use super::record::{AlignmentMode, Policy};
use super::{Config, FromError, Mode};
use crate::authres::{MethodResult, Property};
use crate::dkim::verify::DkimResult;
use crate::dns::Name;
use crate::spf::SpfResult;

/// The SPF result DMARC considers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfAuth {
    /// The domain SPF checked: MAIL FROM's, or HELO's when MAIL FROM was
    /// empty.
    pub domain: Name,
    /// The SPF result for it.
    pub result: SpfResult,
}

/// One DKIM signature's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimAuth {
    /// The signing domain (`d=`).
    pub domain: Name,
    /// The verification result.
    pub result: DkimResult,
}

impl SpfAuth {
    /// What DMARC takes from an SPF check of the MAIL FROM identity (or of
    /// HELO when MAIL FROM was empty); `None` when the checked domain is
    /// not a valid name.
    pub fn from_outcome(outcome: &crate::spf::Outcome) -> Option<SpfAuth> {
        Some(SpfAuth {
            domain: Name::new(&outcome.domain).ok()?,
            result: outcome.result,
        })
    }
}

impl DkimAuth {
    /// What DMARC takes from a DKIM verification: each signature whose
    /// `d=` could be read, with its result.
    pub fn from_verification(verification: &crate::dkim::verify::Verification) -> Vec<DkimAuth> {
        verification
            .signatures
            .iter()
            .filter_map(|s| {
                Some(DkimAuth {
                    domain: s.domain.clone()?,
                    result: s.result,
                })
            })
            .collect()
    }
}

/// The DMARC result: the values registered for the `dmarc` method of
/// Authentication-Results (RFC 7489 §11.2, kept by RFC 9989).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DmarcResult {
    /// An aligned identifier passed.
    Pass,
    /// No aligned identifier passed.
    Fail,
    /// No policy applies (no record, or the From domain's record is
    /// unusable).
    None,
    /// A DNS failure kept the check from deciding.
    TempError,
    /// The message or the record is broken (no single author domain, a
    /// strict record check failed, a permanent DNS failure).
    PermError,
}

impl DmarcResult {
    /// The keyword (`pass`, `fail`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcResult::Pass => "pass",
            DmarcResult::Fail => "fail",
            DmarcResult::None => "none",
            DmarcResult::TempError => "temperror",
            DmarcResult::PermError => "permerror",
        }
    }
}

/// What the receiver should do with the message as far as DMARC says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// Deliver as usual.
    None,
    /// Treat as suspicious (spam folder, extra scrutiny).
    Quarantine,
    /// Refuse.
    Reject,
}

impl Disposition {
    /// The keyword (`none`, `quarantine`, `reject`).
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::None => "none",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
        }
    }
}

/// Which tag of the record gave the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicySource {
    /// `p`.
    Domain,
    /// `sp` (or `p` in its absence) for an existing subdomain.
    Subdomain,
    /// `np` for a non-existent subdomain.
    NonExistentSubdomain,
    /// The record has no valid `p` but a valid `rua`: treated as `p=none`.
    BrokenRecord,
}

/// An identifier that aligned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlignedIdentifier {
    /// The SPF-authenticated domain.
    Spf(Name),
    /// A DKIM signing domain.
    Dkim(Name),
}

/// Why a failing message gets a milder disposition than its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Testing {
    /// The policy applies as published.
    No,
    /// `t=y` (RFC 9989): the Domain Owner is testing its policy.
    TestMode,
    /// RFC 7489 mode: the message is outside the `pct` sample.
    NotSampled,
}

/// The outcome of a DMARC check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The result.
    pub result: DmarcResult,
    /// The Author Domain (`None` when the From field gave none).
    pub author_domain: Option<Name>,
    /// Where the applicable record was found.
    pub policy_domain: Option<Name>,
    /// The Organizational Domain of the Author Domain, when known.
    pub organizational_domain: Option<Name>,
    /// The published policy that applies (from `p`, `sp` or `np`).
    pub policy: Option<Policy>,
    /// Which tag gave [`Outcome::policy`].
    pub policy_source: Option<PolicySource>,
    /// What to do with the message.
    pub disposition: Disposition,
    /// The identifiers that aligned (and passed).
    pub aligned: Vec<AlignedIdentifier>,
    /// Whether the disposition was softened by `t=y` or `pct`.
    pub testing: Testing,
    /// A short explanation, for logs and Authentication-Results.
    pub reason: String,
}

impl Outcome {
    fn bare(result: DmarcResult, author: Option<Name>, reason: String) -> Outcome {
        Outcome {
            result,
            author_domain: author,
            policy_domain: None,
            organizational_domain: None,
            policy: None,
            policy_source: None,
            disposition: Disposition::None,
            aligned: Vec::new(),
            testing: Testing::No,
            reason,
        }
    }

    /// The outcome for a message whose From field gives no single author
    /// domain: `permerror` (DMARC validation is not possible, RFC 9989
    /// "Extract Author Domain"), the error as reason.
    pub fn from_error(error: &FromError) -> Outcome {
        Outcome::bare(DmarcResult::PermError, None, error.to_string())
    }

    /// The Authentication-Results entry (RFC 8601 §2.7 with the `dmarc`
    /// method): `dmarc=<result> reason="..." header.from=<author domain>
    /// policy.dmarc=<policy that applied>`.
    pub fn to_method_result(&self) -> MethodResult {
        let mut properties = Vec::new();
        if let Some(author) = &self.author_domain {
            properties.push(Property::new("header", "from", author.as_str()));
        }
        if let Some(policy) = self.policy {
            properties.push(Property::new("policy", "dmarc", policy.as_str()));
        }
        MethodResult {
            method: "dmarc".into(),
            result: self.result.as_str().into(),
            reason: Some(self.reason.clone()),
            properties,
        }
    }
}

fn dns_reason(failure: &DnsFailure) -> String {
    format!("dns {} for {}", failure.failure, failure.name)
}

/// Whether `identifier` aligns with the author domain: `Ok(true/false)`,
/// or `Err` with why relaxed alignment could not be decided.
fn aligned(
    lookup: &PolicyLookup,
    author_org: Option<&Result<Name, DnsFailure>>,
    identifier: &Name,
    mode: AlignmentMode,
) -> Result<bool, String> {
    if identifier == &lookup.author_domain {
        return Ok(true);
    }
    if mode == AlignmentMode::Strict {
        return Ok(false);
    }
    let author_org = match author_org {
        Some(Ok(org)) => org,
        Some(Err(failure)) => return Err(dns_reason(failure)),
        None => return Err("organizational domain of the author domain not looked up".into()),
    };
    match lookup.organizational_domain(identifier) {
        Some(Ok(org)) => Ok(org == author_org),
        Some(Err(failure)) => Err(dns_reason(failure)),
        None => Err(format!(
            "organizational domain of {identifier} not looked up"
        )),
    }
}

fn soften(policy: Policy) -> Disposition {
    match policy {
        Policy::Reject => Disposition::Quarantine,
        _ => Disposition::None,
    }
}

fn disposition(policy: Policy) -> Disposition {
    match policy {
        Policy::None => Disposition::None,
        Policy::Quarantine => Disposition::Quarantine,
        Policy::Reject => Disposition::Reject,
    }
}

/// Evaluates DMARC for a message, from the [`PolicyLookup`] of its author
/// domain and the SPF and DKIM results. Pure: no DNS. `sample` (0..=99)
/// is the caller's random draw for the RFC 7489 `pct` tag: the policy
/// applies fully when `sample < pct`.
///
/// For relaxed alignment the Organizational Domain of each passing
/// identifier must be in `lookup` ([`Discovery::with_identifiers`]); in the
/// RFC 7489 mode it is also found from the Public Suffix List.
///
/// [`Discovery::with_identifiers`]: super::Discovery::with_identifiers
pub fn evaluate(
    lookup: &PolicyLookup,
    spf: Option<&SpfAuth>,
    dkim: &[DkimAuth],
    config: &Config,
    sample: u8,
) -> Outcome {
    let author = lookup.author_domain.clone();
    let found = match &lookup.status {
        PolicyStatus::Found(found) => found,
        PolicyStatus::NoPolicy { unusable_record_at } => {
            let reason = match unusable_record_at {
                Some(domain) => format!(
                    "record at _dmarc.{domain} has no valid policy and no valid rua; dmarc does not apply"
                ),
                None => "no dmarc record".to_owned(),
            };
            return Outcome::bare(DmarcResult::None, Some(author), reason);
        }
        PolicyStatus::DnsError(failure) => {
            let result = if failure.temporary {
                DmarcResult::TempError
            } else {
                DmarcResult::PermError
            };
            return Outcome::bare(result, Some(author), dns_reason(failure));
        }
        PolicyStatus::BadRecord { domain, error } => {
            return Outcome::bare(
                DmarcResult::PermError,
                Some(author),
                format!("bad record at _dmarc.{domain}: {error}"),
            );
        }
    };
    let record = &found.record;
    let psl_org;
    let mut author_org = lookup.organizational_domain(&author);
    if author_org.is_none() && config.mode == Mode::Rfc7489 {
        psl_org = Ok(config.public_suffix_list().organizational_domain(&author));
        author_org = Some(&psl_org);
    }

    let mut aligned_ids = Vec::new();
    let mut undecided: Option<String> = None;
    let mut check = |identifier: &Name, mode: AlignmentMode| -> bool {
        let with_psl;
        let mut view = lookup;
        if config.mode == Mode::Rfc7489 && lookup.organizational_domain(identifier).is_none() {
            let mut copy = lookup.clone();
            copy.add_organizational_domain(super::discovery::OrgDomain {
                domain: identifier.clone(),
                organizational_domain: Ok(config
                    .public_suffix_list()
                    .organizational_domain(identifier)),
            });
            with_psl = copy;
            view = &with_psl;
        }
        match aligned(view, author_org, identifier, mode) {
            Ok(yes) => yes,
            Err(why) => {
                undecided.get_or_insert(why);
                false
            }
        }
    };
    for signature in dkim.iter().filter(|s| s.result == DkimResult::Pass) {
        if check(&signature.domain, record.dkim_alignment) {
            aligned_ids.push(AlignedIdentifier::Dkim(signature.domain.clone()));
            break;
        }
    }
    if let Some(spf) = spf.filter(|s| s.result == SpfResult::Pass)
        && check(&spf.domain, record.spf_alignment)
    {
        aligned_ids.push(AlignedIdentifier::Spf(spf.domain.clone()));
    }

    let org = author_org.and_then(|o| o.as_ref().ok()).cloned();
    let (policy, source) = applicable_policy(lookup, found, org.as_ref(), config.mode);
    let mut outcome = Outcome {
        result: DmarcResult::Fail,
        author_domain: Some(author),
        policy_domain: Some(found.policy_domain.clone()),
        organizational_domain: org,
        policy: Some(policy),
        policy_source: Some(source),
        disposition: Disposition::None,
        aligned: aligned_ids,
        testing: Testing::No,
        reason: String::new(),
    };
    let tag = match source {
        PolicySource::Domain => "p",
        PolicySource::Subdomain => "sp",
        PolicySource::NonExistentSubdomain => "np",
        PolicySource::BrokenRecord => "no valid p, rua present: p=none",
    };
    if !outcome.aligned.is_empty() {
        outcome.result = DmarcResult::Pass;
        let names: Vec<String> = outcome
            .aligned
            .iter()
            .map(|a| match a {
                AlignedIdentifier::Spf(d) => format!("spf {d}"),
                AlignedIdentifier::Dkim(d) => format!("dkim {d}"),
            })
            .collect();
        outcome.reason = format!("aligned: {}", names.join(", "));
    } else if let Some(why) = undecided {
        outcome.result = DmarcResult::TempError;
        outcome.reason = format!("alignment undecided: {why}");
        return outcome;
    } else {
        outcome.reason = "no aligned identifier passed".to_owned();
        outcome.disposition = disposition(policy);
        if policy != Policy::None {
            if config.mode == Mode::Rfc9989 && record.testing {
                outcome.testing = Testing::TestMode;
                outcome.disposition = soften(policy);
            } else if config.mode == Mode::Rfc7489 && sample >= record.percent {
                outcome.testing = Testing::NotSampled;
                outcome.disposition = soften(policy);
            }
        }
    }
    let _ = write!(
        outcome.reason,
        "; policy {} ({tag}) from _dmarc.{}; disposition {}",
        policy.as_str(),
        found.policy_domain,
        outcome.disposition.as_str()
    );
    match outcome.testing {
        Testing::TestMode => outcome.reason.push_str(" (t=y)"),
        Testing::NotSampled => {
            let _ = write!(outcome.reason, " (pct={})", record.percent);
        }
        Testing::No => {}
    }
    outcome
}

/// Of the outcomes for several author domains, the one to act on: RFC 9989
/// ("Extract Author Domain") lets a receiver go on with DMARC when the From
/// field names more than one domain ([`FromError::SeveralDomains`]), and
/// the safe reading is the harshest of them. Order: `fail` (by
/// disposition, then policy), `temperror`, `permerror`, `none`, `pass`.
/// `None` for no outcome.
pub fn strictest(outcomes: impl IntoIterator<Item = Outcome>) -> Option<Outcome> {
    let rank = |o: &Outcome| {
        let result = match o.result {
            DmarcResult::Fail => 4,
            DmarcResult::TempError => 3,
            DmarcResult::PermError => 2,
            DmarcResult::None => 1,
            _ => 0,
        };
        let disposition = match o.disposition {
            Disposition::Reject => 2,
            Disposition::Quarantine => 1,
            _ => 0,
        };
        (result, disposition, o.policy)
    };
    outcomes.into_iter().max_by_key(rank)
}

/// The policy and the tag it comes from.
fn applicable_policy(
    lookup: &PolicyLookup,
    found: &super::discovery::FoundPolicy,
    author_org: Option<&Name>,
    mode: Mode,
) -> (Policy, PolicySource) {
    let record = &found.record;
    let p = match record.policy {
        Some(p) if !record.policy_is_broken() => p,
        _ => return (Policy::None, PolicySource::BrokenRecord),
    };
    let author = &lookup.author_domain;
    if author == &found.policy_domain {
        return (p, PolicySource::Domain);
    }
    if mode == Mode::Rfc9989 && author_org == Some(author) {
        // A Public Suffix Domain's record for an Organizational Domain.
        return (p, PolicySource::Domain);
    }
    if mode == Mode::Rfc9989
        && found.author_domain_exists == Some(false)
        && let Some(np) = record.nonexistent_subdomain_policy
    {
        return (np, PolicySource::NonExistentSubdomain);
    }
    (
        record.subdomain_policy.unwrap_or(p),
        PolicySource::Subdomain,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dmarc::Discovery;
    use crate::dns::ZoneResolver;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn run(zone: &ZoneResolver, author: &str, ids: &[&str], config: &Config) -> PolicyLookup {
        let ids: Vec<Name> = ids.iter().map(|s| n(s)).collect();
        crate::resolve(Discovery::with_identifiers(&n(author), &ids, config), zone)
    }

    fn dkim(domain: &str, result: DkimResult) -> DkimAuth {
        DkimAuth {
            domain: n(domain),
            result,
        }
    }

    fn spf(domain: &str, result: SpfResult) -> SpfAuth {
        SpfAuth {
            domain: n(domain),
            result,
        }
    }

    fn zone(records: &[(&str, &str)]) -> ZoneResolver {
        let mut zone = ZoneResolver::new();
        for (name, text) in records {
            zone.add_txt(&n(name), text);
        }
        zone
    }

    #[test]
    fn relaxed_and_strict_alignment() {
        let config = Config::default();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let lookup = run(
            &z,
            "news.example.com",
            &["bounce.example.com", "other.net"],
            &config,
        );
        let o = evaluate(
            &lookup,
            Some(&spf("bounce.example.com", SpfResult::Pass)),
            &[],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::Pass);
        assert_eq!(o.aligned, [AlignedIdentifier::Spf(n("bounce.example.com"))]);
        assert_eq!(o.policy_source, Some(PolicySource::Subdomain));
        let o = evaluate(
            &lookup,
            Some(&spf("bounce.example.com", SpfResult::SoftFail)),
            &[],
            &config,
            0,
        );
        assert_eq!(
            (o.result, o.disposition),
            (DmarcResult::Fail, Disposition::Reject)
        );
        let o = evaluate(
            &lookup,
            None,
            &[dkim("other.net", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::Fail);

        let z = zone(&[(
            "_dmarc.example.com",
            "v=DMARC1; p=quarantine; adkim=s; aspf=s",
        )]);
        let lookup = run(&z, "example.com", &["mail.example.com"], &config);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("mail.example.com", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(
            (o.result, o.disposition),
            (DmarcResult::Fail, Disposition::Quarantine)
        );
        let o = evaluate(
            &lookup,
            None,
            &[
                dkim("mail.example.com", DkimResult::Pass),
                dkim("EXAMPLE.com", DkimResult::Pass),
            ],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::Pass);
        assert_eq!(o.aligned, [AlignedIdentifier::Dkim(n("EXAMPLE.com"))]);
        let method = o.to_method_result();
        assert_eq!(method.result, "pass");
        assert_eq!(method.properties[0].value, "example.com");
        assert_eq!(method.properties[1].value, "quarantine");
    }

    #[test]
    fn identifier_not_looked_up_is_undecided() {
        let config = Config::default();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let lookup = run(&z, "example.com", &[], &config);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("mail.example.com", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        assert!(o.reason.contains("not looked up"), "{}", o.reason);
        // The RFC 7489 mode knows every Organizational Domain from the list.
        let config = Config::rfc7489();
        let lookup = run(&z, "example.com", &[], &config);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("mail.example.com", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::Pass);
    }

    #[test]
    fn testing_and_pct() {
        let bis = Config::default();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject; t=y; pct=0")]);
        let lookup = run(&z, "example.com", &[], &bis);
        let o = evaluate(&lookup, None, &[], &bis, 0);
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::Quarantine, Testing::TestMode)
        );
        let old = Config::rfc7489();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=quarantine; pct=30")]);
        let lookup = run(&z, "example.com", &[], &old);
        let o = evaluate(&lookup, None, &[], &old, 29);
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::Quarantine, Testing::No)
        );
        let o = evaluate(&lookup, None, &[], &old, 30);
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::None, Testing::NotSampled)
        );
        // pct is not a tag of RFC 9989.
        let lookup = run(&z, "example.com", &[], &bis);
        let o = evaluate(&lookup, None, &[], &bis, 99);
        assert_eq!(o.disposition, Disposition::Quarantine);
    }

    #[test]
    fn np_and_sp() {
        let config = Config::default();
        let mut z = zone(&[(
            "_dmarc.example.biz",
            "v=DMARC1; p=none; sp=quarantine; np=reject",
        )]);
        z.add_name(&n("exists.example.biz"));
        let lookup = run(&z, "ghost.example.biz", &[], &config);
        assert_eq!(lookup.queries, 4);
        let o = evaluate(&lookup, None, &[], &config, 0);
        assert_eq!(
            (o.policy, o.policy_source),
            (
                Some(Policy::Reject),
                Some(PolicySource::NonExistentSubdomain)
            )
        );
        let lookup = run(&z, "exists.example.biz", &[], &config);
        let o = evaluate(&lookup, None, &[], &config, 0);
        assert_eq!(
            (o.policy, o.policy_source),
            (Some(Policy::Quarantine), Some(PolicySource::Subdomain))
        );
        let lookup = run(&z, "example.biz", &[], &config);
        assert_eq!(lookup.queries, 2);
        let o = evaluate(&lookup, None, &[], &config, 0);
        assert_eq!(
            (o.policy, o.policy_source),
            (Some(Policy::None), Some(PolicySource::Domain))
        );
    }

    #[test]
    fn broken_records() {
        let config = Config::default();
        let z = zone(&[
            (
                "_dmarc.a.example",
                "v=DMARC1; sp=reject; rua=mailto:r@a.example",
            ),
            ("_dmarc.b.example", "v=DMARC1; p=bogus"),
            ("_dmarc.c.example", "v=DMARC1; p=reject; adkim=x"),
        ]);
        let o = evaluate(&run(&z, "a.example", &[], &config), None, &[], &config, 0);
        assert_eq!(
            (o.result, o.policy, o.policy_source),
            (
                DmarcResult::Fail,
                Some(Policy::None),
                Some(PolicySource::BrokenRecord)
            )
        );
        let o = evaluate(&run(&z, "b.example", &[], &config), None, &[], &config, 0);
        assert_eq!(o.result, DmarcResult::None);
        let o = evaluate(&run(&z, "c.example", &[], &config), None, &[], &config, 0);
        assert_eq!(
            (o.result, o.disposition),
            (DmarcResult::Fail, Disposition::Reject)
        );
        let strict = Config {
            strict_records: true,
            ..Config::default()
        };
        let o = evaluate(&run(&z, "c.example", &[], &strict), None, &[], &strict, 0);
        assert_eq!(o.result, DmarcResult::PermError);
    }

    #[test]
    fn dns_failures() {
        let config = Config::default();
        let mut z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        z.set_timeout(&n("_dmarc.mail.example.com"));
        let o = evaluate(
            &run(&z, "a.mail.example.com", &[], &config),
            None,
            &[],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        // The author's own record applies even when a parent times out.
        z.add_txt(&n("_dmarc.a.mail.example.com"), "v=DMARC1; p=quarantine");
        let lookup = run(&z, "a.mail.example.com", &["example.com"], &config);
        let o = evaluate(&lookup, None, &[], &config, 0);
        assert_eq!(
            (o.result, o.policy),
            (DmarcResult::Fail, Some(Policy::Quarantine))
        );
        // ... but relaxed alignment then cannot be decided.
        let o = evaluate(
            &lookup,
            None,
            &[dkim("example.com", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        assert!(o.reason.contains("timeout"), "{}", o.reason);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("a.mail.example.com", DkimResult::Pass)],
            &config,
            0,
        );
        assert_eq!(o.result, DmarcResult::Pass);
    }

    #[test]
    fn strictest_of_several() {
        let config = Config::default();
        let z = zone(&[
            ("_dmarc.a.example", "v=DMARC1; p=none"),
            ("_dmarc.b.example", "v=DMARC1; p=reject"),
        ]);
        let dkim = [dkim("a.example", DkimResult::Pass)];
        let outcomes: Vec<Outcome> = ["a.example", "b.example", "c.example"]
            .iter()
            .map(|d| {
                evaluate(
                    &run(&z, d, &["a.example"], &config),
                    None,
                    &dkim,
                    &config,
                    0,
                )
            })
            .collect();
        assert_eq!(outcomes[0].result, DmarcResult::Pass);
        assert_eq!(outcomes[2].result, DmarcResult::None);
        let worst = strictest(outcomes).unwrap();
        assert_eq!(worst.author_domain, Some(n("b.example")));
        assert_eq!(worst.disposition, Disposition::Reject);
        assert_eq!(strictest(Vec::new()), None);
    }

    #[test]
    fn from_error_outcome() {
        let o = Outcome::from_error(&FromError::NoFrom);
        assert_eq!(o.result, DmarcResult::PermError);
        let m = o.to_method_result();
        assert_eq!(
            (m.result.as_str(), m.reason.as_deref()),
            ("permerror", Some("no from field"))
        );
        assert!(m.properties.is_empty());
    }
}
