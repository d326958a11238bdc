//! The aggregate report model (RFC 9990, the successor of RFC 7489
//! appendix C): what a `<feedback>` document says, as types.
//!
//! The same types serve both directions: a report built from recorded
//! verdicts ([`Verdict`]) with [`Feedback::from_verdicts`] and
//! rendered, and a received report parsed. Keyword values that real
//! reports spell in other ways (vendors send `softfail` for a DMARC
//! result, `forwarded` in RFC 9990 reports, typos) are kept as `Other`
//! so that reading a report never fails on one unknown word.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::Verdict;

/// Declares a keyword enum with an `Other(String)` variant for unknown
/// words, `as_str` and a lenient `parse`.
macro_rules! keywords {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A word this version does not know, as written (trimmed).
            Other(String),
        }

        impl $name {
            /// The keyword as written in a report.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $word, )+
                    $name::Other(word) => word,
                }
            }

            /// Reads a keyword: ASCII case and surrounding white space are
            /// ignored; an unknown word becomes `Other`.
            pub fn parse(word: &str) -> $name {
                let word = word.trim();
                $( if word.eq_ignore_ascii_case($word) { return $name::$variant; } )+
                $name::Other(word.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keywords! {
    /// Identifier alignment mode published (`adkim`, `aspf`;
    /// `AlignmentType`).
    Alignment {
        /// `r`: organizational domains must match.
        Relaxed = "r",
        /// `s`: domains must be equal.
        Strict = "s",
    }
}

keywords! {
    /// A policy published (`p`, `sp`, `np`; `DispositionType`).
    PublishedPolicy {
        /// `none`.
        None = "none",
        /// `quarantine`.
        Quarantine = "quarantine",
        /// `reject`.
        Reject = "reject",
    }
}

keywords! {
    /// How the policy was discovered (`discovery_method`, RFC 9990).
    DiscoveryMethod {
        /// `psl`: the public suffix list (RFC 7489).
        Psl = "psl",
        /// `treewalk`: the DNS tree walk (RFC 9989).
        TreeWalk = "treewalk",
    }
}

keywords! {
    /// What the receiver did with the messages of a row
    /// (`ActionDispositionType`).
    Disposition {
        /// `none`: delivered as usual.
        None = "none",
        /// `pass`: DMARC passed (RFC 9990 only).
        Pass = "pass",
        /// `quarantine`.
        Quarantine = "quarantine",
        /// `reject`.
        Reject = "reject",
    }
}

keywords! {
    /// The DMARC-aligned result of one mechanism in `policy_evaluated`
    /// (`DMARCResultType`).
    AlignedResult {
        /// An aligned identifier of this mechanism passed.
        Pass = "pass",
        /// None did.
        Fail = "fail",
    }
}

keywords! {
    /// Why the receiver applied another disposition than the policy
    /// (`PolicyOverrideType`).
    PolicyOverride {
        /// `forwarded` (RFC 7489).
        Forwarded = "forwarded",
        /// `sampled_out`: outside the `pct` sample (RFC 7489).
        SampledOut = "sampled_out",
        /// `trusted_forwarder`.
        TrustedForwarder = "trusted_forwarder",
        /// `mailing_list`.
        MailingList = "mailing_list",
        /// `local_policy`.
        LocalPolicy = "local_policy",
        /// `policy_test_mode`: `t=y` (RFC 9990).
        PolicyTestMode = "policy_test_mode",
        /// `other`.
        OtherReason = "other",
    }
}

keywords! {
    /// A DKIM result in `auth_results` (`DKIMResultType`).
    DkimResult {
        /// `none`.
        None = "none",
        /// `pass`.
        Pass = "pass",
        /// `fail`.
        Fail = "fail",
        /// `policy`.
        Policy = "policy",
        /// `neutral`.
        Neutral = "neutral",
        /// `temperror`.
        TempError = "temperror",
        /// `permerror`.
        PermError = "permerror",
    }
}

keywords! {
    /// An SPF result in `auth_results` (`SPFResultType`).
    SpfResult {
        /// `none`.
        None = "none",
        /// `neutral`.
        Neutral = "neutral",
        /// `pass`.
        Pass = "pass",
        /// `fail`.
        Fail = "fail",
        /// `softfail`.
        SoftFail = "softfail",
        /// `temperror`.
        TempError = "temperror",
        /// `permerror`.
        PermError = "permerror",
    }
}

keywords! {
    /// Which identity SPF checked (`SPFDomainScope`).
    SpfScope {
        /// `mfrom`: the MAIL FROM domain.
        MailFrom = "mfrom",
        /// `helo`: the HELO name (RFC 7489 only).
        Helo = "helo",
    }
}

impl From<crate::dkim::verify::DkimResult> for DkimResult {
    fn from(result: crate::dkim::verify::DkimResult) -> DkimResult {
        DkimResult::parse(result.as_str())
    }
}

impl From<crate::spf::SpfResult> for SpfResult {
    fn from(result: crate::spf::SpfResult) -> SpfResult {
        SpfResult::parse(result.as_str())
    }
}

impl From<crate::dmarc::Disposition> for Disposition {
    fn from(disposition: crate::dmarc::Disposition) -> Disposition {
        Disposition::parse(disposition.as_str())
    }
}

impl From<crate::dmarc::Policy> for PublishedPolicy {
    fn from(policy: crate::dmarc::Policy) -> PublishedPolicy {
        PublishedPolicy::parse(policy.as_str())
    }
}

impl From<crate::dmarc::AlignmentMode> for Alignment {
    fn from(mode: crate::dmarc::AlignmentMode) -> Alignment {
        match mode {
            crate::dmarc::AlignmentMode::Strict => Alignment::Strict,
            _ => Alignment::Relaxed,
        }
    }
}

/// The version of the report format written by this crate in the RFC 9990
/// form (`<version>`).
pub const VERSION: &str = "1.0";

/// An aggregate report: the `<feedback>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Feedback {
    /// `<version>` as written (`1.0` in RFC 9990 reports; absent in RFC
    /// 7489 ones).
    pub version: Option<String>,
    /// `<report_metadata>`: who reports, which period.
    pub metadata: ReportMetadata,
    /// `<policy_published>`: the DMARC record the receiver found.
    pub policy_published: PolicyPublished,
    /// `<record>`: one per distinct row.
    pub records: Vec<Record>,
}

/// `<report_metadata>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReportMetadata {
    /// `<org_name>`: the reporting organization.
    pub org_name: String,
    /// `<email>`: its contact address.
    pub email: String,
    /// `<extra_contact_info>`.
    pub extra_contact_info: Option<String>,
    /// `<report_id>`: unique per report of this organization.
    pub report_id: String,
    /// `<date_range>`.
    pub date_range: DateRange,
    /// `<error>`: problems the reporter met (zero or more).
    pub errors: Vec<String>,
    /// `<generator>` (RFC 9990): the software that wrote the report.
    pub generator: Option<String>,
}

impl ReportMetadata {
    /// Metadata without the optional parts.
    pub fn new(
        org_name: impl Into<String>,
        email: impl Into<String>,
        report_id: impl Into<String>,
        date_range: DateRange,
    ) -> ReportMetadata {
        ReportMetadata {
            org_name: org_name.into(),
            email: email.into(),
            extra_contact_info: None,
            report_id: report_id.into(),
            date_range,
            errors: Vec::new(),
            generator: None,
        }
    }
}

/// `<date_range>`: the period covered, in seconds since the Unix epoch
/// (UTC), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DateRange {
    /// `<begin>`.
    pub begin: u64,
    /// `<end>`.
    pub end: u64,
}

/// `<policy_published>`: the DMARC record as the receiver read it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub struct PolicyPublished {
    /// `<domain>`: where the record was found (the policy domain).
    pub domain: String,
    /// `<adkim>`.
    pub dkim_alignment: Option<Alignment>,
    /// `<aspf>`.
    pub spf_alignment: Option<Alignment>,
    /// `<p>`. Required by both schemas; `None` only for a received report
    /// that omits it.
    pub policy: Option<PublishedPolicy>,
    /// `<sp>`.
    pub subdomain_policy: Option<PublishedPolicy>,
    /// `<np>` (RFC 9990).
    pub nonexistent_subdomain_policy: Option<PublishedPolicy>,
    /// `<testing>` (RFC 9990): `t=y` was published.
    pub testing: Option<bool>,
    /// `<pct>` (RFC 7489).
    pub percent: Option<u8>,
    /// `<fo>`: the failure reporting options, as in the record
    /// (colon-separated).
    pub failure_options: Option<String>,
    /// `<discovery_method>` (RFC 9990).
    pub discovery_method: Option<DiscoveryMethod>,
}

impl PolicyPublished {
    /// A policy published at `domain` with only `p` known.
    pub fn new(domain: impl Into<String>, policy: PublishedPolicy) -> PolicyPublished {
        PolicyPublished {
            domain: domain.into(),
            policy: Some(policy),
            ..PolicyPublished::default()
        }
    }

    /// What a report says about `record`, found at `domain`.
    pub fn from_record(domain: &str, record: &crate::dmarc::Record) -> PolicyPublished {
        PolicyPublished {
            domain: domain.to_ascii_lowercase(),
            dkim_alignment: Some(record.dkim_alignment.into()),
            spf_alignment: Some(record.spf_alignment.into()),
            policy: record.policy.map(Into::into),
            subdomain_policy: record.subdomain_policy.map(Into::into),
            nonexistent_subdomain_policy: record.nonexistent_subdomain_policy.map(Into::into),
            testing: Some(record.testing),
            // pct exists in RFC 7489 only; 100 is its default and the value
            // the RFC 9989 parser leaves.
            percent: (record.percent != 100).then_some(record.percent),
            failure_options: record.tag_value("fo"),
            discovery_method: None,
        }
    }
}

/// `<record>`: messages that share every reported fact, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Record {
    /// `<row>`.
    pub row: Row,
    /// `<identifiers>`.
    pub identifiers: Identifiers,
    /// `<auth_results>`.
    pub auth_results: AuthResults,
}

/// `<row>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Row {
    /// `<source_ip>`: the connecting client.
    pub source_ip: IpAddr,
    /// `<count>`: how many messages.
    pub count: u64,
    /// `<policy_evaluated>`.
    pub policy_evaluated: PolicyEvaluated,
}

/// `<policy_evaluated>`: the DMARC outcome of the row's messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct PolicyEvaluated {
    /// `<disposition>`: what the receiver did.
    pub disposition: Disposition,
    /// `<dkim>`: whether an aligned DKIM signature passed. `None` only in
    /// a received report that omits it.
    pub dkim: Option<AlignedResult>,
    /// `<spf>`: whether aligned SPF passed (same remark).
    pub spf: Option<AlignedResult>,
    /// `<reason>`: why the disposition differs from the policy.
    pub reasons: Vec<PolicyOverrideReason>,
}

/// `<reason>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct PolicyOverrideReason {
    /// `<type>`.
    pub kind: PolicyOverride,
    /// `<comment>`.
    pub comment: Option<String>,
}

impl PolicyOverrideReason {
    /// A reason without comment.
    pub fn new(kind: PolicyOverride) -> PolicyOverrideReason {
        PolicyOverrideReason {
            kind,
            comment: None,
        }
    }
}

/// `<identifiers>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub struct Identifiers {
    /// `<header_from>`: the RFC5322.From domain.
    pub header_from: String,
    /// `<envelope_from>`: the RFC5321.MailFrom domain (empty for a null
    /// sender).
    pub envelope_from: Option<String>,
    /// `<envelope_to>`: the RFC5321.RcptTo domain.
    pub envelope_to: Option<String>,
}

/// `<auth_results>`: the underlying results, aligned or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub struct AuthResults {
    /// `<dkim>`: one per signature evaluated.
    pub dkim: Vec<DkimAuthResult>,
    /// `<spf>`.
    pub spf: Vec<SpfAuthResult>,
}

/// `<dkim>` in `<auth_results>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct DkimAuthResult {
    /// `<domain>`: `d=`.
    pub domain: String,
    /// `<selector>`: `s=` (required by RFC 9990, optional before).
    pub selector: Option<String>,
    /// `<result>`.
    pub result: DkimResult,
    /// `<human_result>`.
    pub human_result: Option<String>,
}

impl DkimAuthResult {
    /// A result without human-readable text.
    pub fn new(domain: impl Into<String>, selector: Option<String>, result: DkimResult) -> Self {
        DkimAuthResult {
            domain: domain.into(),
            selector,
            result,
            human_result: None,
        }
    }
}

/// `<spf>` in `<auth_results>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct SpfAuthResult {
    /// `<domain>`: the domain checked.
    pub domain: String,
    /// `<scope>`: which identity.
    pub scope: Option<SpfScope>,
    /// `<result>`.
    pub result: SpfResult,
    /// `<human_result>`.
    pub human_result: Option<String>,
}

impl SpfAuthResult {
    /// A result without human-readable text.
    pub fn new(domain: impl Into<String>, scope: Option<SpfScope>, result: SpfResult) -> Self {
        SpfAuthResult {
            domain: domain.into(),
            scope,
            result,
            human_result: None,
        }
    }
}

/// Everything a [`Record`] says except the count: verdicts with equal keys
/// are counted in one record. Ordered, so that a report's records come out
/// in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct RecordKey {
    /// `<source_ip>`.
    pub source_ip: IpAddr,
    /// `<policy_evaluated>`.
    pub policy_evaluated: PolicyEvaluated,
    /// `<identifiers>`.
    pub identifiers: Identifiers,
    /// `<auth_results>`.
    pub auth_results: AuthResults,
}

impl Record {
    /// The record for `count` messages with the facts of `key`.
    pub fn new(key: RecordKey, count: u64) -> Record {
        Record {
            row: Row {
                source_ip: key.source_ip,
                count,
                policy_evaluated: key.policy_evaluated,
            },
            identifiers: key.identifiers,
            auth_results: key.auth_results,
        }
    }

    /// The facts of this record, without its count.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            source_ip: self.row.source_ip,
            policy_evaluated: self.row.policy_evaluated.clone(),
            identifiers: self.identifiers.clone(),
            auth_results: self.auth_results.clone(),
        }
    }
}

/// Counts verdicts into records: the one definition of how an aggregate
/// report groups messages (by [`Verdict::record_key`]).
#[derive(Debug, Clone, Default)]
pub struct Aggregator {
    counts: BTreeMap<RecordKey, u64>,
    policy: Option<(u64, PolicyPublished)>,
    first: Option<u64>,
    last: Option<u64>,
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Aggregator {
        Aggregator::default()
    }

    /// Counts one verdict. The policy published reported is the one of the
    /// latest verdict (by [`Verdict::time`]).
    pub fn add(&mut self, verdict: &Verdict) {
        self.add_key(verdict.record_key(), 1);
        if self
            .policy
            .as_ref()
            .is_none_or(|(time, _)| verdict.time >= *time)
        {
            self.policy = Some((verdict.time, verdict.policy_published.clone()));
        }
        self.first = Some(self.first.map_or(verdict.time, |t| t.min(verdict.time)));
        self.last = Some(self.last.map_or(verdict.time, |t| t.max(verdict.time)));
    }

    /// Counts `count` messages of `key` (for a store that groups by the
    /// key itself).
    pub fn add_key(&mut self, key: RecordKey, count: u64) {
        let slot = self.counts.entry(key).or_insert(0);
        *slot = slot.saturating_add(count);
    }

    /// How many distinct records so far.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The earliest and latest verdict time seen by [`add`](Self::add).
    pub fn time_span(&self) -> Option<DateRange> {
        Some(DateRange {
            begin: self.first?,
            end: self.last?,
        })
    }

    /// The policy published of the latest verdict added.
    pub fn policy_published(&self) -> Option<&PolicyPublished> {
        self.policy.as_ref().map(|(_, policy)| policy)
    }

    /// The records, ordered by key.
    pub fn into_records(self) -> Vec<Record> {
        self.counts
            .into_iter()
            .map(|(key, count)| Record::new(key, count))
            .collect()
    }
}

impl Feedback {
    /// A report in the RFC 9990 form (version 1.0) with these parts.
    pub fn new(
        metadata: ReportMetadata,
        policy_published: PolicyPublished,
        records: Vec<Record>,
    ) -> Feedback {
        Feedback {
            version: Some(VERSION.to_owned()),
            metadata,
            policy_published,
            records,
        }
    }

    /// The report on `verdicts`, which must share one policy domain (see
    /// [`Verdict::report_key`]): records grouped by
    /// [`Verdict::record_key`], the policy published of the latest
    /// verdict. `None` when `verdicts` is empty.
    ///
    /// Verdicts of another policy domain than the first one are not
    /// counted.
    pub fn from_verdicts<'a>(
        metadata: ReportMetadata,
        verdicts: impl IntoIterator<Item = &'a Verdict>,
    ) -> Option<Feedback> {
        let mut aggregator = Aggregator::new();
        let mut domain: Option<String> = None;
        for verdict in verdicts {
            let key = verdict.report_key();
            match &domain {
                None => domain = Some(key.to_owned()),
                Some(d) if d != key => continue,
                Some(_) => {}
            }
            aggregator.add(verdict);
        }
        let policy = aggregator.policy_published()?.clone();
        Some(Feedback::new(metadata, policy, aggregator.into_records()))
    }

    /// The number of messages over all records (saturating).
    pub fn message_count(&self) -> u64 {
        self.records
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.row.count))
    }
}

impl RecordKey {
    /// A record key from its parts (a store reading records back).
    pub fn new(
        source_ip: IpAddr,
        policy_evaluated: PolicyEvaluated,
        identifiers: Identifiers,
        auth_results: AuthResults,
    ) -> RecordKey {
        RecordKey {
            source_ip,
            policy_evaluated,
            identifiers,
            auth_results,
        }
    }
}

impl PolicyEvaluated {
    /// A policy evaluation from its parts (a store reading records back).
    pub fn new(
        disposition: Disposition,
        dkim: Option<AlignedResult>,
        spf: Option<AlignedResult>,
        reasons: Vec<PolicyOverrideReason>,
    ) -> PolicyEvaluated {
        PolicyEvaluated {
            disposition,
            dkim,
            spf,
            reasons,
        }
    }
}
