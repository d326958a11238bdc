//! DMARC reports, without I/O: the aggregate report model (RFC 9990),
//! the facts of one message to record for it ([`Verdict`]), rendering
//! and reading reports.
//!
//! The flow of a receiver that sends aggregate reports:
//!
//! ```text
//!   inbound::Verdict --Verdict::from_inbound--> report::Verdict --> store
//!   store --verdicts of one policy domain and period--> Feedback::from_verdicts
//!         --> XML --> gzip --> report e-mail
//! ```
//!
//! Grouping messages into report records is defined once, by
//! [`Verdict::record_key`] and [`aggregate::Aggregator`]; a store that
//! groups in SQL groups by the same key.
//!
//! ```
//! use mailauth::report::aggregate::PublishedPolicy;
//! use mailauth::report::read::{read_aggregate, ReadLimits};
//! use mailauth::report::xml::XmlForm;
//! use mailauth::report::{DateRange, Feedback, PolicyPublished, ReportMetadata, Verdict};
//!
//! let policy = PolicyPublished::new("example.com", PublishedPolicy::Reject);
//! let verdicts: Vec<Verdict> = (0..3)
//!     .map(|i| Verdict::new(1_700_000_000 + i, "192.0.2.1".parse().unwrap(), "example.com", policy.clone()))
//!     .collect();
//! let range = DateRange { begin: 1_700_000_000, end: 1_700_086_399 };
//! let metadata = ReportMetadata::new("Example", "dmarc@example.net", "r-1", range);
//! let report = Feedback::from_verdicts(metadata, &verdicts).unwrap();
//! assert_eq!((report.records.len(), report.records[0].row.count), (1, 3));
//!
//! let xml = report.to_xml(XmlForm::Rfc9990);
//! let read = read_aggregate(xml.as_bytes(), &ReadLimits::default()).unwrap();
//! assert_eq!(read, vec![report]);
//! ```

pub mod aggregate;
pub mod deliver;
pub mod failure;
mod mime;
pub mod read;
pub mod xml;

use std::net::IpAddr;

pub use aggregate::{
    AlignedResult, AuthResults, DateRange, Disposition, DkimAuthResult, Feedback, Identifiers,
    PolicyEvaluated, PolicyOverride, PolicyOverrideReason, PolicyPublished, Record, RecordKey,
    ReportMetadata, Row, SpfAuthResult, SpfScope,
};

use crate::dmarc::{AlignedIdentifier, DmarcResult, Testing};
use crate::inbound;

/// The facts of one message that reports need: what a receiver records
/// for each message it checked with DMARC, to build aggregate reports
/// later (and to decide on failure reports).
///
/// Domains are lowercase, without trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// When the message was checked, in seconds since the Unix epoch.
    pub time: u64,
    /// The SMTP client's address.
    pub source_ip: IpAddr,
    /// The RFC5322.From domain.
    pub header_from: String,
    /// The RFC5321.MailFrom domain; `None` for a null sender.
    pub envelope_from: Option<String>,
    /// The RFC5321.RcptTo domain, when the caller gives it.
    pub envelope_to: Option<String>,
    /// Each DKIM signature with a readable `d=`, in message order.
    pub dkim: Vec<DkimAuthResult>,
    /// The SPF result DMARC used (MAIL FROM, or HELO for a null sender).
    pub spf: Vec<SpfAuthResult>,
    /// The DMARC result.
    pub dmarc_result: DmarcResult,
    /// Whether an aligned DKIM signature passed.
    pub dkim_aligned: AlignedResult,
    /// Whether aligned SPF passed.
    pub spf_aligned: AlignedResult,
    /// What was done with the message (as DMARC asked, unless the caller
    /// changes it and says why in [`reasons`](Self::reasons)).
    pub disposition: Disposition,
    /// Why the disposition is milder than the policy.
    pub reasons: Vec<PolicyOverrideReason>,
    /// The DMARC record as read, with the policy domain
    /// ([`PolicyPublished::domain`]).
    pub policy_published: PolicyPublished,
    /// `rua`: where aggregate reports go.
    pub aggregate_report_uris: Vec<String>,
    /// `ruf`: where failure reports go.
    pub failure_report_uris: Vec<String>,
}

/// Lowercase, without trailing dot.
fn normal_domain(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

/// The domain of an address (`local@domain`, angle brackets optional);
/// `None` for the null sender `<>` or an address without domain.
fn address_domain(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    (!domain.is_empty()).then(|| normal_domain(domain))
}

impl Verdict {
    /// A verdict with the given facts and nothing else: no DKIM or SPF
    /// result, neither aligned, DMARC `fail`, disposition `none`, no report
    /// address. The fields are public, to be filled in (a store reading its
    /// rows back, a test).
    pub fn new(
        time: u64,
        source_ip: IpAddr,
        header_from: impl Into<String>,
        policy_published: PolicyPublished,
    ) -> Verdict {
        Verdict {
            time,
            source_ip,
            header_from: header_from.into(),
            envelope_from: None,
            envelope_to: None,
            dkim: Vec::new(),
            spf: Vec::new(),
            dmarc_result: DmarcResult::Fail,
            dkim_aligned: AlignedResult::Fail,
            spf_aligned: AlignedResult::Fail,
            disposition: Disposition::None,
            reasons: Vec::new(),
            policy_published,
            aggregate_report_uris: Vec::new(),
            failure_report_uris: Vec::new(),
        }
    }

    /// The facts of a message checked by the inbound pipeline at `now`
    /// (seconds since the Unix epoch), received over `connection`, for
    /// the recipient domain `envelope_to` (`None` when there are several
    /// or the caller does not say).
    ///
    /// `None` when nothing is to be reported: the message was not checked,
    /// or no DMARC policy record applied (there is then no policy domain
    /// to report to).
    pub fn from_inbound(
        verdict: &inbound::Verdict,
        connection: &inbound::Connection,
        envelope_to: Option<&str>,
        now: u64,
    ) -> Option<Verdict> {
        if verdict.skipped.is_some() {
            return None;
        }
        let outcome = verdict.dmarc.as_ref()?;
        let record = outcome.record.as_ref()?;
        let policy_domain = outcome.policy_domain.as_ref()?;
        let header_from = outcome.author_domain.as_ref()?;
        let dkim = verdict
            .dkim
            .iter()
            .flat_map(|v| &v.signatures)
            .filter_map(|s| {
                Some(DkimAuthResult::new(
                    normal_domain(s.domain.as_ref()?.as_str()),
                    s.selector.clone(),
                    s.result.into(),
                ))
            })
            .collect();
        let spf = verdict
            .spf_mail_from
            .iter()
            .map(|o| {
                let scope = match o.identity {
                    crate::spf::Identity::Helo => SpfScope::Helo,
                    _ => SpfScope::MailFrom,
                };
                SpfAuthResult::new(normal_domain(&o.domain), Some(scope), o.result.into())
            })
            .collect();
        let aligned = |dkim: bool| {
            let any = outcome.aligned().iter().any(|a| {
                matches!(
                    (a, dkim),
                    (AlignedIdentifier::Dkim(_), true) | (AlignedIdentifier::Spf(_), false)
                )
            });
            if any {
                AlignedResult::Pass
            } else {
                AlignedResult::Fail
            }
        };
        let mut reasons = Vec::new();
        match outcome.testing {
            Testing::TestMode => {
                reasons.push(PolicyOverrideReason::new(PolicyOverride::PolicyTestMode))
            }
            Testing::NotSampled => {
                reasons.push(PolicyOverrideReason::new(PolicyOverride::SampledOut))
            }
            _ => {}
        }
        // Local policy set the disposition aside (a trusted ARC sealer,
        // RFC 8617 §7.2.2).
        if let Some(set_aside) = &outcome.policy_override {
            reasons.push(PolicyOverrideReason {
                kind: PolicyOverride::parse(set_aside.kind.as_str()),
                comment: Some(set_aside.comment.clone()),
            });
        }
        Some(Verdict {
            time: now,
            source_ip: connection.client_ip,
            header_from: normal_domain(header_from.as_str()),
            envelope_from: address_domain(&connection.mail_from),
            envelope_to: envelope_to.map(normal_domain),
            dkim,
            spf,
            dmarc_result: outcome.result,
            dkim_aligned: aligned(true),
            spf_aligned: aligned(false),
            disposition: verdict.disposition.into(),
            reasons,
            policy_published: PolicyPublished::from_record(policy_domain.as_str(), record),
            aggregate_report_uris: record.aggregate_report_uris.clone(),
            failure_report_uris: record.failure_report_uris.clone(),
        })
    }

    /// The report this verdict belongs in: its policy domain (one
    /// aggregate report per policy domain and period).
    pub fn report_key(&self) -> &str {
        &self.policy_published.domain
    }

    /// The record this verdict is counted in: verdicts with equal keys
    /// make one `<record>` of the report.
    pub fn record_key(&self) -> RecordKey {
        RecordKey {
            source_ip: self.source_ip,
            policy_evaluated: PolicyEvaluated {
                disposition: self.disposition.clone(),
                dkim: Some(self.dkim_aligned.clone()),
                spf: Some(self.spf_aligned.clone()),
                reasons: self.reasons.clone(),
            },
            identifiers: Identifiers {
                header_from: self.header_from.clone(),
                envelope_from: self.envelope_from.clone(),
                envelope_to: self.envelope_to.clone(),
            },
            auth_results: AuthResults {
                dkim: self.dkim.clone(),
                spf: self.spf.clone(),
            },
        }
    }
}

/// Reads a DMARC result keyword (`pass`, `fail`, `none`, `temperror`,
/// `permerror`), as a store writes it with [`DmarcResult::as_str`].
pub fn parse_dmarc_result(word: &str) -> Option<DmarcResult> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "pass" => DmarcResult::Pass,
        "fail" => DmarcResult::Fail,
        "none" => DmarcResult::None,
        "temperror" => DmarcResult::TempError,
        "permerror" => DmarcResult::PermError,
        _ => return None,
    })
}
