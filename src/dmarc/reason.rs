//! Why a DMARC check gave its result: [`Reason`], a value to match on, and
//! its one rendering, the `reason` of the Authentication-Results entry
//! (RFC 8601 §2.7; `Display`).

use std::fmt;

use super::FromError;
use super::discovery::DnsFailure;
use super::evaluate::{AlignedIdentifier, AppliedPolicy, Disposition, DmarcResult, Testing};
use super::record::RecordError;
use crate::dns::Name;

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
            Reason::PolicyApplied {
                aligned,
                policy,
                disposition,
                softening,
            } => {
                match aligned.split_first() {
                    None => f.write_str("no aligned identifier passed")?,
                    Some((first, rest)) => {
                        write!(f, "aligned: {first}")?;
                        for identifier in rest {
                            write!(f, ", {identifier}")?;
                        }
                    }
                }
                write!(f, "; {policy}; disposition {}", disposition.as_str())?;
                match softening {
                    Softening::No => Ok(()),
                    Softening::TestMode => f.write_str(" (t=y)"),
                    Softening::NotSampled { percent } => write!(f, " (pct={percent})"),
                }
            }
        }
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
