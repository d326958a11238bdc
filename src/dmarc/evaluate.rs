//! Identifier alignment, the DMARC result and the policy that applies.
//!
//! [`evaluate()`] is three steps, each a small function with its own
//! output: alignment (which identifiers aligned, or why one could not be
//! decided), policy (which tag of the record applies, [`AppliedPolicy`]),
//! disposition (the policy softened by `t=y` or `pct`). Their outputs make
//! up the [`Reason`] of the [`Outcome`].
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

use std::fmt;

use super::discovery::{FoundPolicy, PolicyLookup, PolicyStatus};
use super::reason::{Reason, Softening, UndecidedAlignment};
use super::record::{AlignmentMode, Policy, Record};
use super::{Config, FromError, Mode, Sample};
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
            domain: Name::from_smol_str(&outcome.domain).ok()?,
            result: outcome.result,
        })
    }
}

impl DkimAuth {
    /// What DMARC takes from a DKIM verification: each signature whose
    /// `d=` could be read, with its result.
    pub fn from_verification(verification: &crate::dkim::verify::Verification) -> Vec<DkimAuth> {
        DkimAuth::signatures(verification).collect()
    }

    /// [`from_verification`](Self::from_verification) one signature at a
    /// time, for a caller that keeps them in a list of its own.
    pub fn signatures(
        verification: &crate::dkim::verify::Verification,
    ) -> impl Iterator<Item = DkimAuth> + '_ {
        verification.signatures.iter().filter_map(|s| {
            Some(DkimAuth {
                domain: s.domain.clone()?,
                result: s.result,
            })
        })
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

impl fmt::Display for AlignedIdentifier {
    /// `spf <domain>` or `dkim <domain>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = Ok(());
        self.pieces(|piece| written = written.and_then(|()| f.write_str(piece)));
        written
    }
}

impl AlignedIdentifier {
    /// The pieces of its `Display` text, in order.
    pub(super) fn pieces(&self, mut each: impl FnMut(&str)) {
        let (method, domain) = match self {
            AlignedIdentifier::Spf(domain) => ("spf ", domain),
            AlignedIdentifier::Dkim(domain) => ("dkim ", domain),
        };
        each(method);
        each(domain.as_str());
    }
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
    /// Whether the disposition was softened by `t=y` or `pct`.
    pub testing: Testing,
    /// Why: for logs and Authentication-Results, rendered by its
    /// `Display`.
    pub reason: Reason,
    /// The policy record that applied (its report addresses `rua` and
    /// `ruf`, `fo`, `adkim`, `aspf`, `pct`: what reports need; see
    /// [`Record::tag_value`](super::Record::tag_value)); `None` when no
    /// record applied. Shared with the lookup and the record cache.
    pub record: Option<std::sync::Arc<super::Record>>,
    /// Local policy set the disposition aside (for instance a trusted ARC
    /// sealer vouched for the message, RFC 8617 §7.2.1): the result stays,
    /// the disposition is [`Disposition::None`], and reports carry this
    /// reason (RFC 8617 §7.2.2).
    pub policy_override: Option<PolicyOverride>,
}

/// Why local policy set a DMARC disposition aside: the `reason` of an
/// aggregate report's `policy_evaluated` (RFC 9990, RFC 7489 appendix C).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyOverride {
    /// The reason type.
    pub kind: OverrideKind,
    /// What the override rests on, for reports and Authentication-Results
    /// (for ARC: `arc=pass as[2].d=... as[2].s=... remote-ip[1]=...`).
    pub comment: String,
}

/// The reason types of a policy override (`PolicyOverrideType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OverrideKind {
    /// `local_policy`.
    LocalPolicy,
    /// `trusted_forwarder`.
    TrustedForwarder,
    /// `mailing_list`.
    MailingList,
    /// `forwarded`.
    Forwarded,
    /// `other`.
    Other,
}

impl OverrideKind {
    /// The report word: `local_policy`, `trusted_forwarder`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideKind::LocalPolicy => "local_policy",
            OverrideKind::TrustedForwarder => "trusted_forwarder",
            OverrideKind::MailingList => "mailing_list",
            OverrideKind::Forwarded => "forwarded",
            OverrideKind::Other => "other",
        }
    }
}

impl fmt::Display for OverrideKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// Sets the disposition aside by local policy: the disposition becomes
    /// [`Disposition::None`] and `reason` is kept in
    /// [`policy_override`](Self::policy_override).
    pub fn set_aside(&mut self, reason: PolicyOverride) {
        self.disposition = Disposition::None;
        self.policy_override = Some(reason);
    }

    /// The identifiers that aligned (and passed): those of
    /// [`Reason::PolicyApplied`], none for any other reason.
    pub fn aligned(&self) -> &[AlignedIdentifier] {
        match &self.reason {
            Reason::PolicyApplied { aligned, .. } => aligned,
            _ => &[],
        }
    }

    /// An outcome without a policy: its result follows from `reason`.
    fn bare(author: Option<Name>, reason: Reason) -> Outcome {
        Outcome {
            result: reason.result(),
            author_domain: author,
            policy_domain: None,
            organizational_domain: None,
            policy: None,
            policy_source: None,
            disposition: Disposition::None,
            testing: Testing::No,
            reason,
            record: None,
            policy_override: None,
        }
    }

    /// The outcome for a message whose From field gives no single author
    /// domain: `permerror` (DMARC validation is not possible, RFC 9989
    /// "Extract Author Domain"), the error as reason.
    pub fn from_error(error: &FromError) -> Outcome {
        Outcome::bare(None, Reason::NoAuthorDomain(error.clone()))
    }

    /// The Authentication-Results entry (RFC 8601 §2.7 with the `dmarc`
    /// method): `dmarc=<result> reason="..." header.from=<author domain>
    /// policy.dmarc=<policy that applied>`.
    pub fn to_method_result(&self) -> MethodResult {
        let mut properties = Vec::with_capacity(2);
        if let Some(author) = &self.author_domain {
            properties.push(Property::new("header", "from", author.to_smol_str()));
        }
        if let Some(policy) = self.policy {
            let policy = crate::SmolStr::new_static(policy.as_str());
            properties.push(Property::new("policy", "dmarc", policy));
        }
        MethodResult {
            method: "dmarc".into(),
            result: self.result.as_str().into(),
            reason: Some({
                use std::fmt::Write as _;
                // Sized for a typical reason at once. Writing into a String
                // cannot fail.
                let mut text = String::with_capacity(160);
                self.reason.write_into(&mut text);
                if let Some(o) = &self.policy_override {
                    let _ = write!(text, "; set aside by {}: {}", o.kind, o.comment);
                }
                text
            }),
            properties,
        }
    }
}

/// The policy that applies to the Author Domain: the output of the policy
/// step (RFC 9989 "DMARC Policy Discovery" and the `sp`/`np` tags; RFC
/// 7489 §6.6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedPolicy {
    /// The policy.
    pub policy: Policy,
    /// Which tag gave it.
    pub source: PolicySource,
    /// Where the record was found (without `_dmarc`).
    pub domain: Name,
}

impl fmt::Display for AppliedPolicy {
    /// `policy <policy> (<tag>) from _dmarc.<domain>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = Ok(());
        self.pieces(|piece| written = written.and_then(|()| f.write_str(piece)));
        written
    }
}

impl AppliedPolicy {
    /// The pieces of its `Display` text, in order.
    pub(super) fn pieces(&self, mut each: impl FnMut(&str)) {
        let tag = match self.source {
            PolicySource::Domain => "p",
            PolicySource::Subdomain => "sp",
            PolicySource::NonExistentSubdomain => "np",
            PolicySource::BrokenRecord => "no valid p, rua present: p=none",
        };
        for piece in [
            "policy ",
            self.policy.as_str(),
            " (",
            tag,
            ") from _dmarc.",
            self.domain.as_str(),
        ] {
            each(piece);
        }
    }
}

/// How one identifier stands against the Author Domain.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdentifierAlignment {
    Aligned,
    NotAligned,
    Undecided(UndecidedAlignment),
}

/// The output of the alignment step.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alignment {
    /// These identifiers passed and aligned: the first aligned DKIM
    /// signature, then SPF.
    Aligned(Vec<AlignedIdentifier>),
    /// None aligned.
    NotAligned,
    /// None aligned, and this is why the first undecided one could not be.
    Undecided(UndecidedAlignment),
}

/// Whether `identifier` aligns with the Author Domain (RFC 9989
/// "Identifier Alignment Explained"; RFC 7489 §3.1): the same name, or in
/// relaxed mode the same Organizational Domain.
fn identifier_alignment(
    lookup: &PolicyLookup,
    author_org: Result<&Name, &UndecidedAlignment>,
    identifier: &Name,
    mode: AlignmentMode,
) -> IdentifierAlignment {
    if identifier == &lookup.author_domain {
        return IdentifierAlignment::Aligned;
    }
    if mode == AlignmentMode::Strict {
        return IdentifierAlignment::NotAligned;
    }
    let author_org = match author_org {
        Ok(org) => org,
        Err(why) => return IdentifierAlignment::Undecided(why.clone()),
    };
    match lookup.organizational_domain_for(identifier) {
        Some(Ok(org)) if *org == *author_org => IdentifierAlignment::Aligned,
        Some(Ok(_)) => IdentifierAlignment::NotAligned,
        Some(Err(failure)) => {
            IdentifierAlignment::Undecided(UndecidedAlignment::DnsFailure(failure.clone()))
        }
        None => IdentifierAlignment::Undecided(UndecidedAlignment::IdentifierNotLookedUp(
            identifier.clone(),
        )),
    }
}

/// The alignment step: the passing DKIM signatures (up to the first that
/// aligns) and the SPF result, each under the record's `adkim` / `aspf`.
fn alignment(
    lookup: &PolicyLookup,
    author_org: Result<&Name, &UndecidedAlignment>,
    record: &Record,
    spf: Option<&SpfAuth>,
    dkim: &[DkimAuth],
) -> Alignment {
    let mut undecided = None;
    let mut aligns = |identifier: &Name, mode: AlignmentMode| match identifier_alignment(
        lookup, author_org, identifier, mode,
    ) {
        IdentifierAlignment::Aligned => true,
        IdentifierAlignment::NotAligned => false,
        IdentifierAlignment::Undecided(why) => {
            undecided.get_or_insert(why);
            false
        }
    };
    let dkim = dkim
        .iter()
        .filter(|s| s.result == DkimResult::Pass)
        .find(|s| aligns(&s.domain, record.dkim_alignment))
        .map(|s| AlignedIdentifier::Dkim(s.domain.clone()));
    let spf = spf
        .filter(|s| s.result == SpfResult::Pass && aligns(&s.domain, record.spf_alignment))
        .map(|s| AlignedIdentifier::Spf(s.domain.clone()));
    let aligned: Vec<AlignedIdentifier> = dkim.into_iter().chain(spf).collect();
    match undecided {
        _ if !aligned.is_empty() => Alignment::Aligned(aligned),
        Some(why) => Alignment::Undecided(why),
        None => Alignment::NotAligned,
    }
}

/// The policy step: the policy and the tag it comes from. `p` for the
/// Author Domain's own record, and in RFC 9989 mode for an Author Domain
/// that is its own Organizational Domain under a Public Suffix Domain's
/// record; `np` for a non-existent Author Domain (RFC 9989 only); else
/// `sp`, else `p`. A broken record with a valid `rua` acts as `p=none`.
fn applicable_policy(
    author: &Name,
    author_org: Option<&Name>,
    found: &FoundPolicy,
    mode: Mode,
) -> AppliedPolicy {
    let record = &found.record;
    let applied = |policy, source| AppliedPolicy {
        policy,
        source,
        domain: found.policy_domain.clone(),
    };
    let p = match record.policy {
        Some(p) if !record.policy_is_broken() => p,
        _ => return applied(Policy::None, PolicySource::BrokenRecord),
    };
    if author == &found.policy_domain {
        return applied(p, PolicySource::Domain);
    }
    if mode == Mode::Rfc9989 && author_org == Some(author) {
        // A Public Suffix Domain's record for an Organizational Domain.
        return applied(p, PolicySource::Domain);
    }
    if mode == Mode::Rfc9989
        && found.author_domain_exists == Some(false)
        && let Some(np) = record.nonexistent_subdomain_policy
    {
        return applied(np, PolicySource::NonExistentSubdomain);
    }
    applied(
        record.subdomain_policy.unwrap_or(p),
        PolicySource::Subdomain,
    )
}

/// The output of the disposition step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    disposition: Disposition,
    softening: Softening,
}

impl Decision {
    /// A passing message is delivered as usual.
    const PASS: Decision = Decision {
        disposition: Disposition::None,
        softening: Softening::No,
    };
}

/// The disposition step, for a failing message: the policy, one level
/// milder when the record has `t=y` (RFC 9989 `t` tag) or, in RFC 7489
/// mode, when `sample` falls outside `pct` (RFC 7489 §6.6.4).
fn disposition(policy: Policy, record: &Record, mode: Mode, sample: u8) -> Decision {
    let softening = match mode {
        _ if policy == Policy::None => Softening::No,
        Mode::Rfc9989 if record.testing => Softening::TestMode,
        Mode::Rfc7489 if sample >= record.percent => Softening::NotSampled {
            percent: record.percent,
        },
        _ => Softening::No,
    };
    let disposition = match (policy, softening) {
        (Policy::None, _) => Disposition::None,
        (Policy::Quarantine, Softening::No) => Disposition::Quarantine,
        (Policy::Reject, Softening::No) => Disposition::Reject,
        (Policy::Reject, _) => Disposition::Quarantine,
        (Policy::Quarantine, _) => Disposition::None,
    };
    Decision {
        disposition,
        softening,
    }
}

/// The policy record that discovery found, or the reason the check ends
/// without one.
fn found_policy(status: &PolicyStatus) -> Result<&FoundPolicy, Reason> {
    match status {
        PolicyStatus::Found(found) => Ok(found),
        PolicyStatus::NoPolicy {
            unusable_record_at: Some(domain),
        } => Err(Reason::UnusableRecord {
            domain: domain.clone(),
        }),
        PolicyStatus::NoPolicy {
            unusable_record_at: None,
        } => Err(Reason::NoRecord),
        PolicyStatus::DnsError(failure) => Err(Reason::DnsFailure(failure.clone())),
        PolicyStatus::BadRecord { domain, error } => Err(Reason::BadRecord {
            domain: domain.clone(),
            error: *error,
        }),
    }
}

/// Evaluates DMARC for a message, from the [`PolicyLookup`] of its author
/// domain and the SPF and DKIM results. Pure: no DNS. `sample` is the
/// caller's random draw for the RFC 7489 `pct` tag (see [`Sample`]): the
/// policy applies fully when `sample < pct`.
///
/// For relaxed alignment the Organizational Domain of each passing
/// identifier must be in `lookup` ([`Discovery::with_identifiers`]); in the
/// RFC 7489 mode the lookup finds any other from the Public Suffix List.
/// `config` is the one `lookup` was discovered with: its mode chooses the
/// tags of the policy and disposition steps, while the Organizational
/// Domains are those of the lookup's own mode.
///
/// [`Discovery::with_identifiers`]: super::Discovery::with_identifiers
pub fn evaluate(
    lookup: &PolicyLookup,
    spf: Option<&SpfAuth>,
    dkim: &[DkimAuth],
    config: &Config,
    sample: Sample,
) -> Outcome {
    let author = &lookup.author_domain;
    let found = match found_policy(&lookup.status) {
        Ok(found) => found,
        Err(reason) => return Outcome::bare(Some(author.clone()), reason),
    };
    let author_org = match lookup.organizational_domain_for(author) {
        Some(Ok(org)) => Ok(org),
        Some(Err(failure)) => Err(UndecidedAlignment::DnsFailure(failure.clone())),
        None => Err(UndecidedAlignment::AuthorNotLookedUp),
    };
    let record = &found.record;
    let alignment = alignment(
        lookup,
        author_org.as_ref().map(|org| &**org),
        record,
        spf,
        dkim,
    );
    let organizational_domain = author_org.ok().map(|org| org.into_owned());
    let policy = applicable_policy(author, organizational_domain.as_ref(), found, config.mode);
    let applied = |aligned, decision: Decision| Reason::PolicyApplied {
        aligned,
        policy: policy.clone(),
        disposition: decision.disposition,
        softening: decision.softening,
    };
    let reason = match alignment {
        Alignment::Aligned(aligned) => applied(aligned, Decision::PASS),
        Alignment::NotAligned => applied(
            Vec::new(),
            disposition(policy.policy, record, config.mode, sample.get()),
        ),
        Alignment::Undecided(why) => Reason::AlignmentUndecided(why),
    };
    let (disposition, testing) = match &reason {
        Reason::PolicyApplied {
            disposition,
            softening,
            ..
        } => (*disposition, softening.testing()),
        _ => (Disposition::None, Testing::No),
    };
    Outcome {
        result: reason.result(),
        author_domain: Some(author.clone()),
        policy_domain: Some(policy.domain),
        organizational_domain,
        policy: Some(policy.policy),
        policy_source: Some(policy.source),
        disposition,
        testing,
        reason,
        record: Some(record.clone()),
        policy_override: None,
    }
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
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::Pass);
        assert_eq!(
            o.aligned(),
            [AlignedIdentifier::Spf(n("bounce.example.com"))]
        );
        assert_eq!(o.policy_source, Some(PolicySource::Subdomain));
        let o = evaluate(
            &lookup,
            Some(&spf("bounce.example.com", SpfResult::SoftFail)),
            &[],
            &config,
            Sample::ALWAYS,
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
            Sample::ALWAYS,
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
            Sample::ALWAYS,
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
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::Pass);
        assert_eq!(o.aligned(), [AlignedIdentifier::Dkim(n("EXAMPLE.com"))]);
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
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        assert!(
            o.reason.to_string().contains("not looked up"),
            "{}",
            o.reason
        );
        // The RFC 7489 mode knows every Organizational Domain from the list.
        let config = Config::rfc7489();
        let lookup = run(&z, "example.com", &[], &config);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("mail.example.com", DkimResult::Pass)],
            &config,
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::Pass);
    }

    #[test]
    fn testing_and_pct() {
        let bis = Config::default();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject; t=y; pct=0")]);
        let lookup = run(&z, "example.com", &[], &bis);
        let o = evaluate(&lookup, None, &[], &bis, Sample::ALWAYS);
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::Quarantine, Testing::TestMode)
        );
        let old = Config::rfc7489();
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=quarantine; pct=30")]);
        let lookup = run(&z, "example.com", &[], &old);
        let o = evaluate(&lookup, None, &[], &old, Sample::new(29).unwrap());
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::Quarantine, Testing::No)
        );
        let o = evaluate(&lookup, None, &[], &old, Sample::new(30).unwrap());
        assert_eq!(
            (o.disposition, o.testing),
            (Disposition::None, Testing::NotSampled)
        );
        // pct is not a tag of RFC 9989.
        let lookup = run(&z, "example.com", &[], &bis);
        let o = evaluate(&lookup, None, &[], &bis, Sample::new(99).unwrap());
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
        let o = evaluate(&lookup, None, &[], &config, Sample::ALWAYS);
        assert_eq!(
            (o.policy, o.policy_source),
            (
                Some(Policy::Reject),
                Some(PolicySource::NonExistentSubdomain)
            )
        );
        let lookup = run(&z, "exists.example.biz", &[], &config);
        let o = evaluate(&lookup, None, &[], &config, Sample::ALWAYS);
        assert_eq!(
            (o.policy, o.policy_source),
            (Some(Policy::Quarantine), Some(PolicySource::Subdomain))
        );
        let lookup = run(&z, "example.biz", &[], &config);
        assert_eq!(lookup.queries, 2);
        let o = evaluate(&lookup, None, &[], &config, Sample::ALWAYS);
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
        let o = evaluate(
            &run(&z, "a.example", &[], &config),
            None,
            &[],
            &config,
            Sample::ALWAYS,
        );
        assert_eq!(
            (o.result, o.policy, o.policy_source),
            (
                DmarcResult::Fail,
                Some(Policy::None),
                Some(PolicySource::BrokenRecord)
            )
        );
        let o = evaluate(
            &run(&z, "b.example", &[], &config),
            None,
            &[],
            &config,
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::None);
        let o = evaluate(
            &run(&z, "c.example", &[], &config),
            None,
            &[],
            &config,
            Sample::ALWAYS,
        );
        assert_eq!(
            (o.result, o.disposition),
            (DmarcResult::Fail, Disposition::Reject)
        );
        let strict = Config {
            strict_records: true,
            ..Config::default()
        };
        let o = evaluate(
            &run(&z, "c.example", &[], &strict),
            None,
            &[],
            &strict,
            Sample::ALWAYS,
        );
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
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        // The author's own record applies even when a parent times out.
        z.add_txt(&n("_dmarc.a.mail.example.com"), "v=DMARC1; p=quarantine");
        let lookup = run(&z, "a.mail.example.com", &["example.com"], &config);
        let o = evaluate(&lookup, None, &[], &config, Sample::ALWAYS);
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
            Sample::ALWAYS,
        );
        assert_eq!(o.result, DmarcResult::TempError);
        assert!(o.reason.to_string().contains("timeout"), "{}", o.reason);
        let o = evaluate(
            &lookup,
            None,
            &[dkim("a.mail.example.com", DkimResult::Pass)],
            &config,
            Sample::ALWAYS,
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
                    Sample::ALWAYS,
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
            (&*m.result, m.reason.as_deref()),
            ("permerror", Some("no from field"))
        );
        assert!(m.properties.is_empty());
    }

    fn steps_lookup(config: &Config) -> PolicyLookup {
        let mut z = zone(&[
            ("_dmarc.example.com", "v=DMARC1; p=reject; adkim=s"),
            ("_dmarc.example.org", "v=DMARC1; p=none"),
        ]);
        z.set_timeout(&n("_dmarc.slow.example"));
        run(
            &z,
            "news.example.com",
            &["bounce.example.com", "a.slow.example", "example.org"],
            config,
        )
    }

    fn author_org(lookup: &PolicyLookup) -> Name {
        lookup
            .organizational_domain(&lookup.author_domain)
            .unwrap()
            .clone()
            .unwrap()
    }

    #[test]
    fn step_identifier_alignment() {
        let lookup = steps_lookup(&Config::default());
        let org = author_org(&lookup);
        let align = |id: &str, mode| identifier_alignment(&lookup, Ok(&org), &n(id), mode);
        use AlignmentMode::{Relaxed, Strict};
        use IdentifierAlignment::{Aligned, NotAligned, Undecided};
        assert_eq!(align("NEWS.example.com", Strict), Aligned);
        assert_eq!(align("bounce.example.com", Strict), NotAligned);
        assert_eq!(align("bounce.example.com", Relaxed), Aligned);
        assert_eq!(align("example.org", Relaxed), NotAligned);
        let Undecided(UndecidedAlignment::DnsFailure(failure)) = align("a.slow.example", Relaxed)
        else {
            panic!()
        };
        assert_eq!(failure.name.as_str(), "_dmarc.slow.example");
        assert_eq!(
            align("other.example.com", Relaxed),
            Undecided(UndecidedAlignment::IdentifierNotLookedUp(n(
                "other.example.com"
            )))
        );
        let why = UndecidedAlignment::AuthorNotLookedUp;
        assert_eq!(
            identifier_alignment(&lookup, Err(&why), &n("bounce.example.com"), Relaxed),
            Undecided(why.clone())
        );
        // Strict alignment needs no Organizational Domain.
        assert_eq!(
            identifier_alignment(&lookup, Err(&why), &n("bounce.example.com"), Strict),
            NotAligned
        );
    }

    #[test]
    fn step_alignment() {
        let lookup = steps_lookup(&Config::default());
        let org = author_org(&lookup);
        let PolicyStatus::Found(found) = &lookup.status else {
            panic!()
        };
        // adkim=s, aspf=r.
        let record = &found.record;
        let pass = |d| spf(d, SpfResult::Pass);
        let align = |spf: Option<&SpfAuth>, dkim: &[DkimAuth]| {
            alignment(&lookup, Ok(&org), record, spf, dkim)
        };
        assert_eq!(
            align(
                Some(&pass("bounce.example.com")),
                &[
                    dkim("news.example.com", DkimResult::Fail),
                    dkim("bounce.example.com", DkimResult::Pass),
                    dkim("news.example.com", DkimResult::Pass),
                    dkim("NEWS.example.com", DkimResult::Pass),
                ]
            ),
            Alignment::Aligned(vec![
                AlignedIdentifier::Dkim(n("news.example.com")),
                AlignedIdentifier::Spf(n("bounce.example.com")),
            ])
        );
        assert_eq!(
            align(Some(&spf("news.example.com", SpfResult::Fail)), &[]),
            Alignment::NotAligned
        );
        // An undecided identifier matters only when nothing aligned.
        let slow = Some(pass("a.slow.example"));
        assert!(matches!(
            align(slow.as_ref(), &[]),
            Alignment::Undecided(UndecidedAlignment::DnsFailure(_))
        ));
        assert_eq!(
            align(slow.as_ref(), &[dkim("news.example.com", DkimResult::Pass)]),
            Alignment::Aligned(vec![AlignedIdentifier::Dkim(n("news.example.com"))])
        );
        assert_eq!(
            align(None, &[dkim("y.example.com", DkimResult::Pass)]),
            Alignment::NotAligned,
            "adkim=s decides without Organizational Domains"
        );
        // The first undecided identifier (DKIM before SPF) is the reason.
        let relaxed_record = Record {
            dkim_alignment: AlignmentMode::Relaxed,
            ..(**record).clone()
        };
        assert_eq!(
            alignment(
                &lookup,
                Ok(&org),
                &relaxed_record,
                Some(&pass("x.example.com")),
                &[dkim("y.example.com", DkimResult::Pass)]
            ),
            Alignment::Undecided(UndecidedAlignment::IdentifierNotLookedUp(n(
                "y.example.com"
            )))
        );
    }

    #[test]
    fn step_policy() {
        let config = Config::default();
        let mut z = zone(&[
            (
                "_dmarc.example.biz",
                "v=DMARC1; p=none; sp=quarantine; np=reject",
            ),
            ("_dmarc.own.example.biz", "v=DMARC1; p=reject; sp=none"),
            ("_dmarc.biz", "v=DMARC1; p=quarantine; sp=none; psd=y"),
            (
                "_dmarc.broken.example",
                "v=DMARC1; p=bogus; rua=mailto:r@broken.example",
            ),
        ]);
        z.add_name(&n("exists.example.biz"));
        z.add_name(&n("exists.other.biz"));
        let policy = |author: &str, mode_config: &Config| {
            let lookup = run(&z, author, &[], mode_config);
            let PolicyStatus::Found(found) = &lookup.status else {
                panic!("{author}: {:?}", lookup.status)
            };
            let org = lookup
                .organizational_domain(&lookup.author_domain)
                .and_then(|o| o.as_ref().ok());
            let applied = applicable_policy(&lookup.author_domain, org, found, mode_config.mode);
            (applied.policy, applied.source, applied.domain.to_string())
        };
        use PolicySource::*;
        assert_eq!(
            policy("own.example.biz", &config),
            (Policy::Reject, Domain, "own.example.biz".into())
        );
        assert_eq!(
            policy("exists.example.biz", &config),
            (Policy::Quarantine, Subdomain, "example.biz".into())
        );
        assert_eq!(
            policy("ghost.example.biz", &config),
            (Policy::Reject, NonExistentSubdomain, "example.biz".into())
        );
        // A Public Suffix Domain's record: `p` for the Organizational
        // Domain itself, `sp` below it.
        assert_eq!(
            policy("other.biz", &config),
            (Policy::Quarantine, Domain, "biz".into())
        );
        assert_eq!(
            policy("exists.other.biz", &config),
            (Policy::None, Subdomain, "biz".into())
        );
        assert_eq!(
            policy("broken.example", &config),
            (Policy::None, BrokenRecord, "broken.example".into())
        );
        // RFC 7489: no np.
        assert_eq!(
            policy("ghost.example.biz", &Config::rfc7489()),
            (Policy::Quarantine, Subdomain, "example.biz".into())
        );
    }

    #[test]
    fn step_disposition() {
        let record = |text: &str, config: &Config| Record::parse(text.as_bytes(), config).unwrap();
        let bis = Config::default();
        let old = Config::rfc7489();
        let decide = |policy, text: &str, config: &Config, sample| {
            let d = disposition(policy, &record(text, config), config.mode, sample);
            (d.disposition, d.softening)
        };
        let plain = "v=DMARC1; p=reject";
        assert_eq!(
            decide(Policy::Reject, plain, &bis, 99),
            (Disposition::Reject, Softening::No)
        );
        assert_eq!(
            decide(Policy::Quarantine, plain, &bis, 99),
            (Disposition::Quarantine, Softening::No)
        );
        assert_eq!(
            decide(Policy::None, plain, &bis, 99),
            (Disposition::None, Softening::No)
        );
        let testing = "v=DMARC1; p=reject; t=y";
        assert_eq!(
            decide(Policy::Reject, testing, &bis, 0),
            (Disposition::Quarantine, Softening::TestMode)
        );
        assert_eq!(
            decide(Policy::Quarantine, testing, &bis, 0),
            (Disposition::None, Softening::TestMode)
        );
        assert_eq!(
            decide(Policy::None, testing, &bis, 0),
            (Disposition::None, Softening::No)
        );
        // t is not an RFC 7489 tag, pct not an RFC 9989 one.
        assert_eq!(
            decide(Policy::Reject, testing, &old, 0),
            (Disposition::Reject, Softening::No)
        );
        let pct = "v=DMARC1; p=reject; pct=30";
        assert_eq!(
            decide(Policy::Reject, pct, &bis, 99),
            (Disposition::Reject, Softening::No)
        );
        assert_eq!(
            decide(Policy::Reject, pct, &old, 29),
            (Disposition::Reject, Softening::No)
        );
        assert_eq!(
            decide(Policy::Reject, pct, &old, 30),
            (
                Disposition::Quarantine,
                Softening::NotSampled { percent: 30 }
            )
        );
        assert_eq!(
            decide(Policy::Quarantine, "v=DMARC1; p=quarantine; pct=0", &old, 0),
            (Disposition::None, Softening::NotSampled { percent: 0 })
        );
    }

    #[test]
    fn step_found_policy() {
        let none = PolicyStatus::NoPolicy {
            unusable_record_at: None,
        };
        assert_eq!(found_policy(&none), Err(Reason::NoRecord));
        let unusable = PolicyStatus::NoPolicy {
            unusable_record_at: Some(n("a.example")),
        };
        assert_eq!(
            found_policy(&unusable).unwrap_err().to_string(),
            "record at _dmarc.a.example has no valid policy and no valid rua; dmarc does not apply"
        );
        let lookup = steps_lookup(&Config::default());
        assert!(found_policy(&lookup.status).is_ok());
    }

    #[test]
    fn outcome_fields_follow_the_reason() {
        let config = Config::default();
        let z = zone(&[("_dmarc.example.org", "v=DMARC1; p=reject; t=y")]);
        let lookup = run(&z, "example.org", &["mail.example.org"], &config);
        let o = evaluate(
            &lookup,
            Some(&spf("mail.example.org", SpfResult::Pass)),
            &[dkim("example.org", DkimResult::Pass)],
            &config,
            Sample::ALWAYS,
        );
        assert_eq!(o.result, o.reason.result());
        assert_eq!(
            o.reason.to_string(),
            "aligned: dkim example.org, spf mail.example.org; policy reject (p) from _dmarc.example.org; disposition none"
        );
        let o = evaluate(&lookup, None, &[], &config, Sample::ALWAYS);
        assert_eq!(
            (o.result, o.disposition, o.testing),
            (
                DmarcResult::Fail,
                Disposition::Quarantine,
                Testing::TestMode
            )
        );
        assert_eq!(
            o.to_method_result().reason.as_deref(),
            Some(
                "no aligned identifier passed; policy reject (p) from _dmarc.example.org; disposition quarantine (t=y)"
            )
        );
    }
}
