//! Why a DMARC check gave its result: [`Reason`], a value to match on, and
//! its one rendering, the `reason` of the Authentication-Results entry
//! (RFC 8601 §2.7; `Display`).

use std::fmt;

use super::FromError;
use super::discovery::DnsFailure;
use super::evaluate::{AlignedIdentifier, AppliedPolicy, Disposition, DmarcResult, Testing};
use super::record::RecordError;
use crate::dns::Name;
use crate::word::decimal;

/// Why a DMARC check gave its result ([`Outcome::reason`]).
///
/// `Display` renders the short explanation used in logs and in
/// Authentication-Results, for instance `no dmarc record` or `aligned:
/// dkim example.org; policy reject (p) from _dmarc.example.org;
/// disposition none`.
///
/// [`Outcome::reason`]: super::Outcome::reason
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// `permerror`: the From field gives no single Author Domain, so DMARC
    /// validation is not possible (RFC 9989 "Extract Author Domain"; RFC
    /// 7489 §6.6.1).
    NoAuthorDomain(FromError),
    /// `none`: no policy record applies to the Author Domain (RFC 9989
    /// "DMARC Policy Discovery"; RFC 7489 §6.6.3).
    NoRecord,
    /// `none`: the record found has no valid `p` (or a bad `sp` or `np`)
    /// and no valid `rua`, so DMARC does not apply (RFC 9989 "DMARC Policy
    /// Discovery"; RFC 7489 §6.6.3 step 6).
    #[non_exhaustive]
    UnusableRecord {
        /// Where the record was found (without `_dmarc`).
        domain: Name,
    },
    /// `temperror` or `permerror` (as [`DnsFailure::temporary`] says): a
    /// DNS failure kept policy discovery from finishing.
    DnsFailure(DnsFailure),
    /// `permerror`: [`Config::strict_records`](super::Config::strict_records)
    /// refused the record for a bad tag.
    #[non_exhaustive]
    BadRecord {
        /// Where the record was found (without `_dmarc`).
        domain: Name,
        /// The problem.
        error: RecordError,
    },
    /// `temperror`: no identifier aligned and the relaxed alignment of one
    /// could not be decided (RFC 9989 "Identifier Alignment Evaluation").
    AlignmentUndecided(UndecidedAlignment),
    /// `pass` when an identifier aligned, `fail` when none did: a policy
    /// applied (RFC 9989 "DMARC Policy Discovery" and the `t` tag; RFC
    /// 7489 §6.6.4 for `pct`).
    #[non_exhaustive]
    PolicyApplied {
        /// The identifiers that passed and aligned; empty for `fail`.
        aligned: Vec<AlignedIdentifier>,
        /// The policy and the record it comes from.
        policy: AppliedPolicy,
        /// What to do with the message.
        disposition: Disposition,
        /// Whether the disposition is milder than the policy, and why.
        softening: Softening,
    },
}

/// Why the relaxed alignment of an identifier could not be decided (RFC
/// 9989 "Identifier Alignment Evaluation"): an Organizational Domain is
/// missing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UndecidedAlignment {
    /// A DNS failure kept the tree walk of the Author Domain or of the
    /// identifier from finding its Organizational Domain.
    DnsFailure(DnsFailure),
    /// The Organizational Domain of the Author Domain was not looked up.
    AuthorNotLookedUp,
    /// The Organizational Domain of this identifier was not looked up (it
    /// was not given to
    /// [`Discovery::with_identifiers`](super::Discovery::with_identifiers)).
    IdentifierNotLookedUp(Name),
}

/// Why a failing message gets a milder disposition than its policy: the
/// [`Testing`] state, with what decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Softening {
    /// The policy applies as published.
    No,
    /// `t=y` (RFC 9989 `t` tag): the Domain Owner is testing its policy.
    TestMode,
    /// RFC 7489 mode: the message is outside the `pct` sample (RFC 7489
    /// §6.6.4).
    NotSampled {
        /// The record's `pct`.
        percent: u8,
    },
}

impl Softening {
    /// The [`Testing`] state this stands for.
    pub fn testing(self) -> Testing {
        match self {
            Softening::No => Testing::No,
            Softening::TestMode => Testing::TestMode,
            Softening::NotSampled { .. } => Testing::NotSampled,
        }
    }
}

impl Reason {
    /// The result this reason leads to.
    pub fn result(&self) -> DmarcResult {
        match self {
            Reason::NoAuthorDomain(_) | Reason::BadRecord { .. } => DmarcResult::PermError,
            Reason::NoRecord | Reason::UnusableRecord { .. } => DmarcResult::None,
            Reason::DnsFailure(failure) if failure.temporary => DmarcResult::TempError,
            Reason::DnsFailure(_) => DmarcResult::PermError,
            Reason::AlignmentUndecided(_) => DmarcResult::TempError,
            Reason::PolicyApplied { aligned, .. } if aligned.is_empty() => DmarcResult::Fail,
            Reason::PolicyApplied { .. } => DmarcResult::Pass,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoAuthorDomain(error) => write!(f, "{error}"),
            Reason::NoRecord => f.write_str("no dmarc record"),
            Reason::UnusableRecord { domain } => write!(
                f,
                "record at _dmarc.{domain} has no valid policy and no valid rua; dmarc does not apply"
            ),
            Reason::DnsFailure(failure) => write!(f, "{failure}"),
            Reason::BadRecord { domain, error } => {
                write!(f, "bad record at _dmarc.{domain}: {error}")
            }
            Reason::AlignmentUndecided(why) => write!(f, "alignment undecided: {why}"),
            Reason::PolicyApplied { .. } => {
                let mut written = Ok(());
                self.policy_applied_pieces(|piece| {
                    written = written.and_then(|()| f.write_str(piece));
                });
                written
            }
        }
    }
}

impl Reason {
    /// The text of the reason (its `Display`) appended to `out`: the
    /// usual reason, a policy applied, is written piece by piece straight
    /// into the string rather than through a formatter.
    pub(crate) fn write_into(&self, out: &mut String) {
        if !self.policy_applied_pieces(|piece| out.push_str(piece)) {
            use fmt::Write as _;
            // Writing into a String cannot fail.
            let _ = write!(out, "{self}");
        }
    }

    /// Gives `each` the pieces of the text of [`Reason::PolicyApplied`], in
    /// order; `false` (and nothing given) for any other reason.
    fn policy_applied_pieces(&self, mut each: impl FnMut(&str)) -> bool {
        let Reason::PolicyApplied {
            aligned,
            policy,
            disposition,
            softening,
        } = self
        else {
            return false;
        };
        match aligned.split_first() {
            None => each("no aligned identifier passed"),
            Some((first, rest)) => {
                each("aligned: ");
                first.pieces(&mut each);
                for identifier in rest {
                    each(", ");
                    identifier.pieces(&mut each);
                }
            }
        }
        each("; ");
        policy.pieces(&mut each);
        each("; disposition ");
        each(disposition.as_str());
        match softening {
            Softening::No => {}
            Softening::TestMode => each(" (t=y)"),
            Softening::NotSampled { percent } => {
                each(" (pct=");
                each(decimal(u64::from(*percent), &mut [0; 20]));
                each(")");
            }
        }
        true
    }
}

impl fmt::Display for UndecidedAlignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndecidedAlignment::DnsFailure(failure) => write!(f, "{failure}"),
            UndecidedAlignment::AuthorNotLookedUp => {
                f.write_str("organizational domain of the author domain not looked up")
            }
            UndecidedAlignment::IdentifierNotLookedUp(identifier) => {
                write!(f, "organizational domain of {identifier} not looked up")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dmarc::evaluate::PolicySource;
    use crate::dmarc::record::{Policy, TagError, TagErrorKind};
    use crate::dns::Failure;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn timeout(name: &str, temporary: bool) -> DnsFailure {
        DnsFailure {
            name: n(name),
            failure: Failure::Timeout,
            temporary,
        }
    }

    fn applied(
        aligned: Vec<AlignedIdentifier>,
        source: PolicySource,
        disposition: Disposition,
        softening: Softening,
    ) -> Reason {
        Reason::PolicyApplied {
            aligned,
            policy: AppliedPolicy {
                policy: Policy::Reject,
                source,
                domain: n("example.org"),
            },
            disposition,
            softening,
        }
    }

    #[test]
    fn rendering() {
        let cases = [
            (
                Reason::NoAuthorDomain(FromError::NoFrom),
                "no from field",
                DmarcResult::PermError,
            ),
            (Reason::NoRecord, "no dmarc record", DmarcResult::None),
            (
                Reason::UnusableRecord {
                    domain: n("a.example"),
                },
                "record at _dmarc.a.example has no valid policy and no valid rua; dmarc does not apply",
                DmarcResult::None,
            ),
            (
                Reason::DnsFailure(timeout("_dmarc.a.example", true)),
                "dns timeout for _dmarc.a.example",
                DmarcResult::TempError,
            ),
            (
                Reason::DnsFailure(timeout("_dmarc.a.example", false)),
                "dns timeout for _dmarc.a.example",
                DmarcResult::PermError,
            ),
            (
                Reason::BadRecord {
                    domain: n("c.example"),
                    error: RecordError::Tag(TagError {
                        tag: "adkim",
                        kind: TagErrorKind::InvalidValue,
                    }),
                },
                "bad record at _dmarc.c.example: invalid value adkim",
                DmarcResult::PermError,
            ),
            (
                Reason::AlignmentUndecided(UndecidedAlignment::DnsFailure(timeout(
                    "_dmarc.example.com",
                    true,
                ))),
                "alignment undecided: dns timeout for _dmarc.example.com",
                DmarcResult::TempError,
            ),
            (
                Reason::AlignmentUndecided(UndecidedAlignment::AuthorNotLookedUp),
                "alignment undecided: organizational domain of the author domain not looked up",
                DmarcResult::TempError,
            ),
            (
                Reason::AlignmentUndecided(UndecidedAlignment::IdentifierNotLookedUp(n(
                    "mail.example.com",
                ))),
                "alignment undecided: organizational domain of mail.example.com not looked up",
                DmarcResult::TempError,
            ),
            (
                applied(
                    vec![
                        AlignedIdentifier::Dkim(n("example.org")),
                        AlignedIdentifier::Spf(n("example.org")),
                    ],
                    PolicySource::Domain,
                    Disposition::None,
                    Softening::No,
                ),
                "aligned: dkim example.org, spf example.org; policy reject (p) from _dmarc.example.org; disposition none",
                DmarcResult::Pass,
            ),
            (
                applied(
                    vec![AlignedIdentifier::Spf(n("mail.example.org"))],
                    PolicySource::Subdomain,
                    Disposition::None,
                    Softening::No,
                ),
                "aligned: spf mail.example.org; policy reject (sp) from _dmarc.example.org; disposition none",
                DmarcResult::Pass,
            ),
            (
                applied(
                    Vec::new(),
                    PolicySource::NonExistentSubdomain,
                    Disposition::Reject,
                    Softening::No,
                ),
                "no aligned identifier passed; policy reject (np) from _dmarc.example.org; disposition reject",
                DmarcResult::Fail,
            ),
            (
                applied(
                    Vec::new(),
                    PolicySource::Domain,
                    Disposition::Quarantine,
                    Softening::TestMode,
                ),
                "no aligned identifier passed; policy reject (p) from _dmarc.example.org; disposition quarantine (t=y)",
                DmarcResult::Fail,
            ),
            (
                applied(
                    Vec::new(),
                    PolicySource::Domain,
                    Disposition::Quarantine,
                    Softening::NotSampled { percent: 30 },
                ),
                "no aligned identifier passed; policy reject (p) from _dmarc.example.org; disposition quarantine (pct=30)",
                DmarcResult::Fail,
            ),
        ];
        for (reason, text, result) in cases {
            assert_eq!(reason.to_string(), text);
            assert_eq!(reason.result(), result, "{text}");
            // Written straight into a string, after what it holds.
            let mut written = String::from("> ");
            reason.write_into(&mut written);
            assert_eq!(written, format!("> {text}"));
        }
        let broken = Reason::PolicyApplied {
            aligned: Vec::new(),
            policy: AppliedPolicy {
                policy: Policy::None,
                source: PolicySource::BrokenRecord,
                domain: n("a.example"),
            },
            disposition: Disposition::None,
            softening: Softening::No,
        };
        assert_eq!(
            broken.to_string(),
            "no aligned identifier passed; policy none (no valid p, rua present: p=none) from _dmarc.a.example; disposition none"
        );
    }

    #[test]
    fn softening_stands_for_testing() {
        assert_eq!(Softening::No.testing(), Testing::No);
        assert_eq!(Softening::TestMode.testing(), Testing::TestMode);
        assert_eq!(
            Softening::NotSampled { percent: 0 }.testing(),
            Testing::NotSampled
        );
    }
}
