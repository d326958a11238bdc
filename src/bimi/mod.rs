//! BIMI: Brand Indicators for Message Identification
//! (draft-brand-indicators-for-message-identification), the receiver's
//! record checks.
//!
//! A receiving MTA that has run DMARC on a message can look for the brand
//! Indicator its author domain publishes. This module does the part that
//! needs only the DNS and the message header:
//!
//! 1. the authentication requirements ("Authentication Requirements"):
//!    DMARC `pass`, one author address, and a DMARC policy at enforcement
//!    for the Author Domain and its Organizational Domain (not `p=none`,
//!    not `sp=none`, `p=quarantine` only with `pct=100`, not in test mode);
//!    each requirement not met is an [`Unmet`] reason and the result is
//!    `skipped`;
//! 2. the selector: from a BIMI-Selector field covered by a DMARC-aligned
//!    DKIM signature ([`message_selector`], [`parse_selector_field`]), else
//!    `default`;
//! 3. the Assertion Record discovery ("Assertion Record Discovery") as a
//!    [`Machine`]: `<selector>._bimi.<author domain>` TXT,
//!    then, when no record is there, `<selector>._bimi.<organizational
//!    domain>`; the Organizational Domain is the one the DMARC check found
//!    ([`dmarc::Outcome::organizational_domain`]);
//! 4. the record syntax ([`Record::parse`]): `v=BIMI1; l=<https URI>;
//!    a=<https URI>`, with the Declination to Publish (`l=` and `a=` both
//!    empty); a record with `lps=true` sends the check on to the record of
//!    the author's local-part selector ([`local_part_selector`]), when the
//!    check knows the From address ([`Check::from_message`]);
//! 5. the [`Outcome`]: the result as the Authentication-Results `bimi`
//!    method names it ([`BimiResult`]), its entry
//!    ([`Outcome::to_method_result`]: `header.d`, `header.selector`,
//!    `policy.authority`, `policy.authority-uri`, `policy.indicator-uri`)
//!    and the BIMI-Location field to insert
//!    ([`Outcome::location_field`]).
//!
//! **What stays with the caller.** Fetching the Indicator (the SVG at the
//! `l=` URI) and the Evidence Document (the Verified Mark Certificate at
//! the `a=` URI) over HTTPS, validating the SVG profile, the certificate
//! chain and the mark, and the receiver's own reputation policy are not
//! done here: they need network I/O and certificate stores that a sans-IO
//! core does not have. A [`BimiResult::Pass`] here means that the message
//! qualifies and the Assertion Record is valid; a caller whose Indicator
//! or evidence validation fails calls [`Outcome::reject_indicator`] (the
//! result becomes `fail` and no BIMI-Location field is inserted), and one
//! that validated the evidence sets [`Outcome::authority`].
//!
//! **Fields to remove.** A BIMI-Location, BIMI-Indicator or
//! BIMI-Logo-Preference field that arrives with a message was not written
//! by this receiver and MUST be removed, whatever the result (draft
//! "Handle Existing BIMI-Location and BIMI-Indicator Headers");
//! [`receiver_fields`] lists them.
//!
//! ```
//! use mailauth::bimi;
//! use mailauth::dkim::verify::DkimResult;
//! use mailauth::dmarc::{self, DkimAuth, Discovery};
//! use mailauth::dns::{Name, ZoneResolver};
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("_dmarc.example.org").unwrap(), "v=DMARC1; p=reject");
//! zone.add_txt(
//!     &Name::new("default._bimi.example.org").unwrap(),
//!     "v=BIMI1; l=https://images.example.org/logo.svg",
//! );
//! let author = Name::new("mail.example.org").unwrap();
//! let config = dmarc::Config::default();
//! let lookup = mailauth::resolve(Discovery::with_identifiers(&author, &[], &config), &zone);
//! let dkim = [DkimAuth { domain: author.clone(), result: DkimResult::Pass }];
//! let dmarc = dmarc::evaluate(&lookup, None, &dkim, &config, dmarc::Sample::ALWAYS);
//!
//! let check = bimi::Check::new(&dmarc, &config, bimi::Selector::default(), &bimi::Config::default());
//! let outcome = mailauth::resolve(check, &zone);
//! assert_eq!(outcome.result, bimi::BimiResult::Pass);
//! assert_eq!(outcome.domain.as_ref().map(Name::as_str), Some("example.org"));
//! assert_eq!(
//!     outcome.location_field().as_deref(),
//!     Some("v=BIMI1; l=https://images.example.org/logo.svg")
//! );
//! ```

use std::fmt;

use crate::authres::{MethodResult, Property};
use crate::dkim::Signature;
use crate::dmarc::{self, AlignedIdentifier, DmarcResult, Policy};
use crate::dns::{Answer, Failure, Name, Query};
use crate::machine::{Lookups, Machine, Poll, UnexpectedAnswer};
use crate::message::HeaderField;
use crate::message::address::{Address, AddressError, parse_address_list};

mod record;

pub use record::{
    AvatarPreference, Record, RecordError, Selector, SelectorError, UriError, VERSION,
    check_https_uri, is_bimi_record, parse_selector_field,
};

#[cfg(test)]
mod tests;

/// The field a sender uses to name the selector.
pub const SELECTOR_FIELD: &str = "BIMI-Selector";
/// The field the receiver inserts to tell the MUA where the Indicator is.
pub const LOCATION_FIELD: &str = "BIMI-Location";
/// The field the receiver may insert with the validated Indicator.
pub const INDICATOR_FIELD: &str = "BIMI-Indicator";
/// The field the receiver may insert with the avatar preference.
pub const LOGO_PREFERENCE_FIELD: &str = "BIMI-Logo-Preference";
/// The fields only the receiver may write: an incoming one must be removed
/// (draft "Header Removal").
pub const RECEIVER_FIELDS: [&str; 3] = [LOCATION_FIELD, INDICATOR_FIELD, LOGO_PREFERENCE_FIELD];

/// BIMI settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Run BIMI in the inbound pipeline (default false: BIMI is opt-in;
    /// [`Check`] itself does not read it).
    pub enabled: bool,
    /// The longest Assertion Record read, in octets (default 2048); a
    /// longer one is invalid (`fail`).
    pub max_record_bytes: usize,
    /// The most URIs in `l=` (default 1, as the current draft allows;
    /// earlier drafts allowed a comma-separated list).
    pub max_location_uris: usize,
    /// Use a BIMI-Selector field only when a DMARC-aligned, passing DKIM
    /// signature covers it (default true: the draft says an unsigned field
    /// SHOULD be ignored). False trusts it regardless, for a receiver that
    /// validates it in another way (an ARC chain it trusts).
    pub require_signed_selector: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            enabled: false,
            max_record_bytes: 2048,
            max_location_uris: 1,
            require_signed_selector: true,
        }
    }
}

impl Config {
    /// The default settings, enabled.
    pub fn enabled() -> Config {
        Config {
            enabled: true,
            ..Config::default()
        }
    }
}

/// The BIMI result: the values of the Authentication-Results `bimi`
/// method (draft "Affix BIMI Status to Authentication Results Header
/// Field"). The draft registers no `permerror`: a broken record is `fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BimiResult {
    /// The message qualifies and the Assertion Record is valid (the
    /// Indicator itself is validated by the caller, see the
    /// [module docs](self)).
    Pass,
    /// No Assertion Record.
    None,
    /// The record is invalid, several records were found, or the caller
    /// rejected the Indicator.
    Fail,
    /// A DNS lookup failed temporarily.
    TempError,
    /// The Domain Owner published a Declination to Publish.
    Declined,
    /// BIMI was not performed: an authentication requirement is not met.
    Skipped,
}

impl BimiResult {
    /// The keyword (`pass`, `none`, `fail`, `temperror`, `declined`,
    /// `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            BimiResult::Pass => "pass",
            BimiResult::None => "none",
            BimiResult::Fail => "fail",
            BimiResult::TempError => "temperror",
            BimiResult::Declined => "declined",
            BimiResult::Skipped => "skipped",
        }
    }
}

impl fmt::Display for BimiResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authentication requirement the message does not meet (draft
/// "Authentication Requirements").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unmet {
    /// No single author domain (DMARC could not evaluate the From field).
    NoAuthorDomain,
    /// The From field holds more than one address.
    SeveralAuthors,
    /// The DMARC result is not `pass`.
    DmarcNotPass(DmarcResult),
    /// No DMARC policy record applies.
    NoDmarcPolicy,
    /// The policy that applies, or `p=` of a record on the way, is `none`.
    PolicyNone {
        /// Where the record is (without `_dmarc`).
        domain: Name,
    },
    /// The record has `sp=none`.
    SubdomainPolicyNone {
        /// Where the record is.
        domain: Name,
    },
    /// `p=quarantine` with a `pct` below 100.
    PartialQuarantine {
        /// Where the record is.
        domain: Name,
        /// The `pct` value.
        percent: u8,
    },
    /// The record is in test mode (`t=y`, RFC 9989): not at enforcement.
    TestMode {
        /// Where the record is.
        domain: Name,
    },
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmet::NoAuthorDomain => f.write_str("no author domain"),
            Unmet::SeveralAuthors => f.write_str("several author addresses"),
            Unmet::DmarcNotPass(result) => write!(f, "dmarc {}", result.as_str()),
            Unmet::NoDmarcPolicy => f.write_str("no dmarc policy"),
            Unmet::PolicyNone { domain } => write!(f, "p=none at _dmarc.{domain}"),
            Unmet::SubdomainPolicyNone { domain } => write!(f, "sp=none at _dmarc.{domain}"),
            Unmet::PartialQuarantine { domain, percent } => {
                write!(f, "p=quarantine with pct={percent} at _dmarc.{domain}")
            }
            Unmet::TestMode { domain } => write!(f, "t=y at _dmarc.{domain}"),
        }
    }
}

/// Why the result is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// `skipped`: every requirement not met, in the order checked.
    Skipped(Vec<Unmet>),
    /// `none`: no record at the author domain nor at the Organizational
    /// Domain.
    NoRecord,
    /// `declined`: the record found is a Declination to Publish.
    Declined,
    /// `pass`: a valid record with an Indicator or evidence location.
    ValidRecord,
    /// `fail`: the record found (the one that starts with `v=BIMI1`) is
    /// invalid.
    InvalidRecord(RecordError),
    /// `fail`: more than one record starts with `v=BIMI1` at one name.
    SeveralRecords {
        /// How many.
        count: usize,
    },
    /// `fail`: `<selector>._bimi.<domain>` is too long for the DNS.
    NameTooLong,
    /// `temperror` (or `fail` when `permanent`): a lookup failed.
    DnsFailure {
        /// The name looked up.
        name: Name,
        /// How.
        failure: Failure,
        /// The failure is permanent.
        permanent: bool,
    },
    /// `fail`: the caller rejected the Indicator or its evidence
    /// ([`Outcome::reject_indicator`]).
    IndicatorRejected(String),
}

impl Reason {
    /// The result this reason gives.
    pub fn result(&self) -> BimiResult {
        match self {
            Reason::Skipped(_) => BimiResult::Skipped,
            Reason::NoRecord => BimiResult::None,
            Reason::Declined => BimiResult::Declined,
            Reason::ValidRecord => BimiResult::Pass,
            Reason::DnsFailure {
                permanent: false, ..
            } => BimiResult::TempError,
            Reason::InvalidRecord(_)
            | Reason::SeveralRecords { .. }
            | Reason::NameTooLong
            | Reason::DnsFailure { .. }
            | Reason::IndicatorRejected(_) => BimiResult::Fail,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Skipped(unmet) => {
                f.write_str("not at enforcement or not authenticated: ")?;
                for (i, u) in unmet.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{u}")?;
                }
                Ok(())
            }
            Reason::NoRecord => f.write_str("no bimi record"),
            Reason::Declined => f.write_str("declination to publish"),
            Reason::ValidRecord => f.write_str("valid bimi record"),
            Reason::InvalidRecord(error) => write!(f, "invalid bimi record: {error}"),
            Reason::SeveralRecords { count } => write!(f, "{count} bimi records"),
            Reason::NameTooLong => f.write_str("record name too long"),
            Reason::DnsFailure { name, failure, .. } => {
                write!(f, "dns failure for {name}: {failure}")
            }
            Reason::IndicatorRejected(why) => write!(f, "indicator rejected: {why}"),
        }
    }
}

/// What the receiver found about the BIMI Evidence Document
/// (`policy.authority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Authority {
    /// Not checked, or no evidence presented (the default: this module
    /// does not fetch evidence).
    #[default]
    None,
    /// The caller checked the evidence and it is valid.
    Pass,
    /// The caller checked the evidence and it is not valid.
    Fail,
}

impl Authority {
    /// The keyword (`none`, `pass`, `fail`).
    pub fn as_str(self) -> &'static str {
        match self {
            Authority::None => "none",
            Authority::Pass => "pass",
            Authority::Fail => "fail",
        }
    }
}

/// Why a BIMI-Selector field of the message was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IgnoredSelector {
    /// The message has several BIMI-Selector fields.
    Several {
        /// How many.
        count: usize,
    },
    /// The field does not parse.
    Invalid(SelectorError),
    /// No DMARC-aligned, passing DKIM signature covers the field (see
    /// [`Config::require_signed_selector`]).
    Unsigned,
}

impl fmt::Display for IgnoredSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoredSelector::Several { count } => write!(f, "{count} bimi-selector fields"),
            IgnoredSelector::Invalid(error) => write!(f, "invalid bimi-selector field: {error}"),
            IgnoredSelector::Unsigned => {
                f.write_str("bimi-selector field not covered by an aligned dkim signature")
            }
        }
    }
}

/// The selector of a message and, when its BIMI-Selector field was not
/// used, why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelectorChoice {
    /// The selector to look up.
    pub selector: Selector,
    /// Why the field was ignored (`None` when used, or absent).
    pub ignored: Option<IgnoredSelector>,
}

/// The selector of a message (draft "Assertion Record Discovery", step 2,
/// and "Header Signing"): that of its BIMI-Selector field when there is
/// exactly one, it parses, and (with [`Config::require_signed_selector`])
/// a DKIM-Signature field whose `d=` is one of `aligned_dkim_domains` (the
/// DMARC-aligned, passing signers: see [`dmarc::Outcome::aligned`]) lists
/// it in `h=`; `default` otherwise.
pub fn message_selector(
    fields: &[HeaderField],
    aligned_dkim_domains: &[Name],
    config: &Config,
) -> SelectorChoice {
    let default = |ignored| SelectorChoice {
        selector: Selector::default(),
        ignored,
    };
    let mut selectors = fields
        .iter()
        .filter(|f| f.is_named(SELECTOR_FIELD.as_bytes()));
    let Some(field) = selectors.next() else {
        return default(None);
    };
    let more = selectors.count();
    if more > 0 {
        return default(Some(IgnoredSelector::Several { count: more + 1 }));
    }
    let selector = match parse_selector_field(field.value()) {
        Ok(selector) => selector,
        Err(error) => return default(Some(IgnoredSelector::Invalid(error))),
    };
    let signed = !config.require_signed_selector
        || fields
            .iter()
            .filter(|f| f.is_named(b"dkim-signature"))
            .filter_map(|f| Signature::parse(f.value()).ok())
            .any(|signature| {
                aligned_dkim_domains.contains(&signature.domain)
                    && signature
                        .signed_headers
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(SELECTOR_FIELD))
            });
    if !signed {
        return default(Some(IgnoredSelector::Unsigned));
    }
    SelectorChoice {
        selector,
        ignored: None,
    }
}

/// A receiver-only field found in a message (see [`receiver_fields`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverField {
    /// Its position among all header fields, from 0 at the top.
    pub position: usize,
    /// Its name, as in [`RECEIVER_FIELDS`].
    pub name: &'static str,
    /// Which field of that name it is, from 1 at the top (the index a
    /// milter passes to `smfi_chgheader`).
    pub occurrence: usize,
}

/// The BIMI-Location, BIMI-Indicator and BIMI-Logo-Preference fields of an
/// incoming message: they were not written by this receiver and must be
/// removed whatever the BIMI result (draft "Handle Existing BIMI-Location
/// and BIMI-Indicator Headers").
pub fn receiver_fields(fields: &[HeaderField]) -> Vec<ReceiverField> {
    let mut seen = [0usize; RECEIVER_FIELDS.len()];
    let mut found = Vec::new();
    for (position, field) in fields.iter().enumerate() {
        for (i, name) in RECEIVER_FIELDS.iter().enumerate() {
            if field.is_named(name.as_bytes()) {
                seen[i] += 1;
                found.push(ReceiverField {
                    position,
                    name,
                    occurrence: seen[i],
                });
            }
        }
    }
    found
}

/// The outcome of a BIMI check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The result.
    pub result: BimiResult,
    /// Why.
    pub reason: Reason,
    /// The selector looked up (`header.selector`).
    pub selector: Selector,
    /// Why the message's BIMI-Selector field was not used, when it was
    /// not.
    pub selector_ignored: Option<IgnoredSelector>,
    /// Where the record evaluated was found (`header.d`): the author
    /// domain, or the Organizational Domain after the fallback.
    pub domain: Option<Name>,
    /// The valid record (for `pass` and `declined`).
    pub record: Option<Record>,
    /// The evidence status (`policy.authority`), [`Authority::None`] until
    /// a caller that checks the evidence sets it.
    pub authority: Authority,
}

impl Outcome {
    fn new(reason: Reason, selector: Selector) -> Outcome {
        Outcome {
            result: reason.result(),
            reason,
            selector,
            selector_ignored: None,
            domain: None,
            record: None,
            authority: Authority::None,
        }
    }

    /// Marks the Indicator or its evidence as rejected by the caller's
    /// validation (an invalid SVG, an untrusted certificate): the result
    /// becomes `fail` with `why` as reason, and no BIMI-Location field is
    /// to be inserted. Only a `pass` changes.
    pub fn reject_indicator(&mut self, why: impl Into<String>) {
        if self.result == BimiResult::Pass {
            self.reason = Reason::IndicatorRejected(why.into());
            self.result = BimiResult::Fail;
        }
    }

    /// The Authentication-Results entry: `bimi=<result>`, a reason unless
    /// `pass`, and, once a record was found, `header.d` and
    /// `header.selector`; for `pass`, `policy.authority` and the
    /// `policy.authority-uri` and `policy.indicator-uri` of the record.
    pub fn to_method_result(&self) -> MethodResult {
        let mut properties = Vec::new();
        if let Some(domain) = &self.domain {
            properties.push(Property::new("header", "d", domain.as_str()));
            properties.push(Property::new("header", "selector", self.selector.as_str()));
        }
        if self.result == BimiResult::Pass {
            properties.push(Property::new(
                "policy",
                "authority",
                self.authority.as_str(),
            ));
            if let Some(record) = &self.record {
                if let Some(evidence) = &record.evidence {
                    properties.push(Property::new("policy", "authority-uri", evidence));
                }
                if let Some(location) = record.locations.first() {
                    properties.push(Property::new("policy", "indicator-uri", location));
                }
            }
        }
        MethodResult {
            method: "bimi".into(),
            result: self.result.as_str().into(),
            reason: (self.result != BimiResult::Pass).then(|| self.reason.to_string()),
            properties,
        }
    }

    /// The value of the BIMI-Location field ([`LOCATION_FIELD`]) to insert
    /// for a `pass`: `v=BIMI1; l=<indicator URI>` and `; a=<evidence URI>`
    /// when the record has one; `None` for any other result (the field
    /// "MUST NOT be added if Discovery or Validation steps failed"). The
    /// URIs were checked to hold visible ASCII only, without `;` or `,`.
    pub fn location_field(&self) -> Option<String> {
        if self.result != BimiResult::Pass {
            return None;
        }
        let record = self.record.as_ref()?;
        let mut value = format!("v={VERSION}");
        if let Some(location) = record.locations.first() {
            value.push_str("; l=");
            value.push_str(location);
        }
        if let Some(evidence) = &record.evidence {
            value.push_str("; a=");
            value.push_str(evidence);
        }
        Some(value)
    }
}

/// The requirements a DMARC policy record must meet, found at `domain`;
/// `applied` is the policy the DMARC check applied from it, if any.
fn record_requirements(
    record: &dmarc::Record,
    domain: &Name,
    applied: Option<Policy>,
    unmet: &mut Vec<Unmet>,
) {
    let domain = domain.clone();
    if applied == Some(Policy::None) || record.policy.is_none_or(|p| p == Policy::None) {
        unmet.push(Unmet::PolicyNone {
            domain: domain.clone(),
        });
    }
    if record.subdomain_policy == Some(Policy::None) {
        unmet.push(Unmet::SubdomainPolicyNone {
            domain: domain.clone(),
        });
    }
    let quarantine =
        applied == Some(Policy::Quarantine) || record.policy == Some(Policy::Quarantine);
    if quarantine && record.percent < 100 {
        unmet.push(Unmet::PartialQuarantine {
            domain: domain.clone(),
            percent: record.percent,
        });
    }
    if record.testing {
        unmet.push(Unmet::TestMode { domain });
    }
}

/// The authentication requirements that the DMARC outcome alone shows
/// unmet (draft "Authentication Requirements"); empty when it meets them
/// all. The Organizational Domain's own record, when it is not the one
/// that applied, is checked by [`Check`] with one more query.
pub fn requirements(dmarc: &dmarc::Outcome) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    if dmarc.author_domain.is_none() {
        unmet.push(Unmet::NoAuthorDomain);
        return unmet;
    }
    if dmarc.result != DmarcResult::Pass {
        unmet.push(Unmet::DmarcNotPass(dmarc.result));
    }
    match (&dmarc.record, &dmarc.policy_domain) {
        (Some(record), Some(domain)) => {
            record_requirements(record, domain, dmarc.policy, &mut unmet);
        }
        _ => unmet.push(Unmet::NoDmarcPolicy),
    }
    unmet
}

/// Whether the From field holds more than one address (draft
/// "Authentication Requirements", 1). Without a single parsable From
/// field, DMARC has no author domain and [`requirements`] says so.
fn several_authors(fields: &[HeaderField]) -> bool {
    let mut from = fields.iter().filter(|f| f.is_named(b"from"));
    match (from.next(), from.next()) {
        // Reading two addresses is enough to know.
        (Some(field), None) => match parse_address_list(field.value(), 2) {
            Ok(list) => {
                list.iter()
                    .map(|a| match a {
                        Address::Mailbox(_) => 1,
                        Address::Group { members, .. } => members.len(),
                    })
                    .sum::<usize>()
                    > 1
            }
            Err(error) => matches!(error, AddressError::TooManyAddresses { .. }),
        },
        _ => false,
    }
}

/// The author's address's local part, when the From field holds exactly one
/// mailbox.
fn author_local_part(fields: &[HeaderField]) -> Option<String> {
    let mut from = fields.iter().filter(|f| f.is_named(b"from"));
    match (from.next(), from.next()) {
        (Some(field), None) => match parse_address_list(field.value(), 1).ok()?.as_slice() {
            [Address::Mailbox(mailbox)] => Some(mailbox.local_part.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The local-part selector of an address's local part (draft "Local-part
/// Selectors"): the subaddress after `+` removed, each run of `_` and `.`
/// made one `-`, dashes at both ends removed; a selector only when what
/// remains is letters, digits and dashes, 1 to 63 characters. Selectors
/// compare without regard to case.
pub fn local_part_selector(local_part: &str) -> Option<Selector> {
    let base = local_part.split('+').next().unwrap_or_default();
    let mut normalized = String::with_capacity(base.len());
    let mut in_run = false;
    for c in base.chars() {
        if c == '_' || c == '.' {
            if !in_run {
                normalized.push('-');
            }
            in_run = true;
        } else {
            normalized.push(c);
            in_run = false;
        }
    }
    let normalized = normalized.trim_matches('-');
    let valid = !normalized.is_empty()
        && normalized.len() <= 63
        && normalized
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return None;
    }
    Selector::new(&normalized.to_ascii_lowercase()).ok()
}

/// A query the check waits for, and what its answer is for.
#[derive(Debug, Clone)]
enum Step {
    /// `_dmarc.<organizational domain>`: its requirements.
    OrganizationalPolicy {
        /// The query.
        query: Query,
        /// The Organizational Domain.
        domain: Name,
    },
    /// `<selector>._bimi.<domain>`.
    Records {
        /// The query.
        query: Query,
        /// The domain the record would be for (`header.d`).
        domain: Name,
        /// The Organizational Domain to ask next when there is no record.
        fallback: Option<Name>,
    },
    /// `<local-part selector>._bimi.<domain>`, after a record with
    /// `lps=true` there.
    LocalPart {
        /// The query.
        query: Query,
        /// Where both records are.
        domain: Name,
        /// The local-part selector.
        selector: Selector,
        /// The record that had `lps=true`, used when the local-part
        /// selector has no valid record.
        original: Record,
    },
}

impl Step {
    fn query(&self) -> &Query {
        match self {
            Step::OrganizationalPolicy { query, .. }
            | Step::Records { query, .. }
            | Step::LocalPart { query, .. } => query,
        }
    }
}

/// Where the check is.
#[derive(Debug, Clone)]
enum State {
    Asking(Step),
    Finished(Outcome),
}

/// The BIMI check of one message, as a [`Machine`]: the authentication
/// requirements, then the Assertion Record discovery. See the
/// [module docs](self).
///
/// It asks one query at a time: the Organizational Domain's DMARC record
/// (only when the author domain has a record of its own, so that the
/// DMARC outcome does not show the Organizational Domain's policy), then
/// the record at the author domain, then (when there is none) at the
/// Organizational Domain. A requirement not met ends the check before any
/// BIMI query ("Assertion Record Discovery MUST NOT be attempted if the
/// message authentication fails").
#[derive(Debug, Clone)]
pub struct Check {
    config: Config,
    dmarc_config: dmarc::Config,
    selector: Selector,
    selector_ignored: Option<IgnoredSelector>,
    author: Option<Name>,
    organizational: Option<Name>,
    /// The author's local-part selector, for records with `lps=true`.
    local_part: Option<Selector>,
    state: State,
    lookups: Lookups,
}

impl Check {
    /// The check of a message whose DMARC check gave `dmarc` (with
    /// `dmarc_config`, whose mode reads the Organizational Domain's
    /// record), looking up `selector`.
    pub fn new(
        dmarc: &dmarc::Outcome,
        dmarc_config: &dmarc::Config,
        selector: Selector,
        config: &Config,
    ) -> Check {
        Check::with_requirements(
            dmarc,
            dmarc_config,
            SelectorChoice {
                selector,
                ignored: None,
            },
            requirements(dmarc),
            config,
        )
    }

    /// The check of a message from its header `fields`: the selector from
    /// its BIMI-Selector field ([`message_selector`], with the DKIM
    /// signers that aligned for DMARC) and the one-author requirement
    /// beside those of [`Check::new`].
    pub fn from_message(
        fields: &[HeaderField],
        dmarc: &dmarc::Outcome,
        dmarc_config: &dmarc::Config,
        config: &Config,
    ) -> Check {
        let aligned: Vec<Name> = dmarc
            .aligned()
            .iter()
            .filter_map(|a| match a {
                AlignedIdentifier::Dkim(domain) => Some(domain.clone()),
                _ => None,
            })
            .collect();
        let choice = message_selector(fields, &aligned, config);
        let mut unmet = requirements(dmarc);
        if several_authors(fields) {
            unmet.push(Unmet::SeveralAuthors);
        }
        let mut check = Check::with_requirements(dmarc, dmarc_config, choice, unmet, config);
        check.local_part = author_local_part(fields).and_then(|l| local_part_selector(&l));
        check
    }

    fn with_requirements(
        dmarc: &dmarc::Outcome,
        dmarc_config: &dmarc::Config,
        choice: SelectorChoice,
        unmet: Vec<Unmet>,
        config: &Config,
    ) -> Check {
        let mut check = Check {
            config: config.clone(),
            dmarc_config: dmarc_config.clone(),
            selector: choice.selector,
            selector_ignored: choice.ignored,
            author: dmarc.author_domain.clone(),
            organizational: dmarc.organizational_domain.clone(),
            local_part: None,
            // Replaced just below, once the check can build its outcomes.
            state: State::Asking(Step::OrganizationalPolicy {
                query: Query::txt(Name::root()),
                domain: Name::root(),
            }),
            lookups: Lookups::default(),
        };
        check.state = if !unmet.is_empty() {
            check.finish(Reason::Skipped(unmet), None, None)
        } else {
            match (&check.organizational, &dmarc.policy_domain) {
                // `_dmarc.<org>` fits in a name: the DMARC check looked up
                // that prefix at a longer name already.
                (Some(org), Some(policy_domain)) if org != policy_domain => {
                    match Name::new(&format!("_dmarc.{org}")) {
                        Ok(name) => State::Asking(Step::OrganizationalPolicy {
                            query: Query::txt(name),
                            domain: org.clone(),
                        }),
                        Err(_) => check.start_discovery(),
                    }
                }
                _ => check.start_discovery(),
            }
        };
        check
    }

    fn finish(&self, reason: Reason, domain: Option<Name>, record: Option<Record>) -> State {
        let mut outcome = Outcome::new(reason, self.selector.clone());
        outcome.selector_ignored = self.selector_ignored.clone();
        outcome.domain = domain;
        outcome.record = record;
        State::Finished(outcome)
    }

    /// The first record query: at the author domain, falling back to the
    /// Organizational Domain when that is another domain.
    fn start_discovery(&self) -> State {
        let Some(author) = self.author.clone() else {
            return self.finish(Reason::Skipped(vec![Unmet::NoAuthorDomain]), None, None);
        };
        let fallback = self.organizational.clone().filter(|org| *org != author);
        self.ask_records(author, fallback)
    }

    fn ask_records(&self, domain: Name, fallback: Option<Name>) -> State {
        match self.selector.record_name(&domain) {
            Some(name) => State::Asking(Step::Records {
                query: Query::txt(name),
                domain,
                fallback,
            }),
            None => self.finish(Reason::NameTooLong, None, None),
        }
    }

    /// The state after the answer to `step`'s query.
    fn advance(&self, step: Step, answer: &Answer) -> State {
        match step {
            Step::OrganizationalPolicy { query, domain } => {
                if let Answer::TempFail(failure) = answer {
                    return self.dns_failure(&query, *failure, false);
                }
                let records: Vec<dmarc::Record> = answer
                    .txt()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| dmarc::Record::parse(&t.joined(), &self.dmarc_config).ok())
                    .collect();
                // Several records or none: the domain publishes no policy.
                if let [record] = records.as_slice() {
                    let mut unmet = Vec::new();
                    record_requirements(record, &domain, None, &mut unmet);
                    if !unmet.is_empty() {
                        return self.finish(Reason::Skipped(unmet), None, None);
                    }
                }
                self.start_discovery()
            }
            Step::Records {
                query,
                domain,
                fallback,
            } => self.records(&query, answer, domain, fallback),
            Step::LocalPart {
                domain,
                selector,
                original,
                ..
            } => {
                let texts = bimi_texts(answer);
                match texts.as_slice() {
                    [text] => match Record::parse(text, &self.config) {
                        Ok(record) => self.found(domain, record, selector),
                        Err(_) => self.found(domain, original, self.selector.clone()),
                    },
                    // None, several or a DNS failure: the first record.
                    _ => self.found(domain, original, self.selector.clone()),
                }
            }
        }
    }

    /// A valid record at `domain`: with `lps=true` and a local-part
    /// selector not asked yet, that selector's record is asked first.
    fn accept(&self, domain: Name, record: Record) -> State {
        let local_part = self
            .local_part
            .as_ref()
            .filter(|selector| record.local_part_selector && **selector != self.selector);
        let asked =
            local_part.and_then(|selector| Some((selector, selector.record_name(&domain)?)));
        if let Some((selector, name)) = asked {
            return State::Asking(Step::LocalPart {
                query: Query::txt(name),
                domain,
                selector: selector.clone(),
                original: record,
            });
        }
        self.found(domain, record, self.selector.clone())
    }

    /// The record chosen: `declined` or `pass`, under `selector`.
    fn found(&self, domain: Name, record: Record, selector: Selector) -> State {
        let reason = if record.is_declination() {
            Reason::Declined
        } else {
            Reason::ValidRecord
        };
        let mut state = self.finish(reason, Some(domain), Some(record));
        if let State::Finished(outcome) = &mut state {
            outcome.selector = selector;
        }
        state
    }

    fn dns_failure(&self, query: &Query, failure: Failure, permanent: bool) -> State {
        let reason = Reason::DnsFailure {
            name: query.name.clone(),
            failure,
            permanent,
        };
        self.finish(reason, None, None)
    }

    /// The records at `<selector>._bimi.<domain>`: no record goes on to
    /// `fallback` when there is one.
    fn records(
        &self,
        query: &Query,
        answer: &Answer,
        domain: Name,
        fallback: Option<Name>,
    ) -> State {
        let texts: Vec<Vec<u8>> = match answer {
            Answer::TempFail(failure) => return self.dns_failure(query, *failure, false),
            Answer::PermFail(failure) => return self.dns_failure(query, *failure, true),
            answer => bimi_texts(answer),
        };
        match texts.as_slice() {
            [] => match fallback {
                Some(org) => self.ask_records(org, None),
                None => self.finish(Reason::NoRecord, None, None),
            },
            [text] => match Record::parse(text, &self.config) {
                Ok(record) => self.accept(domain, record),
                Err(error) => self.finish(Reason::InvalidRecord(error), Some(domain), None),
            },
            several => {
                let count = several.len();
                self.finish(Reason::SeveralRecords { count }, Some(domain), None)
            }
        }
    }
}

/// The TXT records of an answer that start with `v=BIMI1`, joined.
fn bimi_texts(answer: &Answer) -> Vec<Vec<u8>> {
    answer
        .txt()
        .unwrap_or_default()
        .iter()
        .map(|t| t.joined())
        .filter(|text| is_bimi_record(text))
        .collect()
}

impl Machine for Check {
    type Output = Outcome;

    fn poll(&mut self) -> Poll<Outcome> {
        loop {
            let step = match &self.state {
                State::Finished(outcome) => return Poll::Done(outcome.clone()),
                State::Asking(step) => step.clone(),
            };
            let query = step.query();
            match self.lookups.answer(query).cloned() {
                Some(answer) => self.state = self.advance(step, &answer),
                None => {
                    self.lookups.ask(query.clone());
                    return Poll::Lookups(vec![query.clone()]);
                }
            }
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.lookups.supply(query, answer)
    }
}
