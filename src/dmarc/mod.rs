//! DMARC: RFC 9989 (which obsoletes RFC 7489), with an RFC 7489 mode.
//!
//! A check runs in three steps, which fit the sans-IO seam:
//!
//! 1. [`author_domain`] finds the RFC5322.From domain in the header fields;
//! 2. [`Discovery`] (a [`Machine`](crate::Machine)) finds the policy record
//!    and the Organizational Domains: by the DNS Tree Walk of RFC 9989, or,
//!    in [`Mode::Rfc7489`], by the Public Suffix List. It can start as soon
//!    as the From domain is known, in parallel with SPF and DKIM;
//! 3. [`evaluate()`] (pure, no DNS) combines the [`PolicyLookup`] with the SPF
//!    and DKIM results into an [`Outcome`]: pass or fail, the policy that
//!    applies, the disposition and the [`Reason`], which
//!    [`Outcome::to_method_result`] turns into an Authentication-Results
//!    entry.
//!
//! ```
//! use mailauth::dmarc::{self, Config, DkimAuth, Discovery};
//! use mailauth::dkim::verify::DkimResult;
//! use mailauth::dns::{Name, ZoneResolver};
//! use mailauth::message::HeaderField;
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("_dmarc.example.org").unwrap(), "v=DMARC1; p=reject");
//! let fields = [HeaderField::from_raw(b"From: Alice <alice@mail.example.org>".to_vec())];
//! let config = Config::default();
//!
//! let author = dmarc::author_domain(&fields).unwrap();
//! let dkim_domain = Name::new("example.org").unwrap();
//! let discovery = Discovery::with_identifiers(&author, &[dkim_domain.clone()], &config);
//! let lookup = mailauth::resolve(discovery, &zone);
//! let dkim = [DkimAuth { domain: dkim_domain, result: DkimResult::Pass }];
//! let outcome = dmarc::evaluate(&lookup, None, &dkim, &config, dmarc::Sample::ALWAYS);
//! assert_eq!(outcome.result, dmarc::DmarcResult::Pass);
//! assert_eq!(outcome.disposition, dmarc::Disposition::None);
//! assert_eq!(
//!     outcome.to_method_result().properties[1].value,
//!     "reject"
//! );
//! ```
//!
//! [`Check`] composes the three steps as one [`Machine`](crate::Machine)
//! (from the From fields or an author domain, with the SPF and DKIM
//! results and a validated [`Sample`] for `pct`); [`PolicyCheck`] runs the
//! discovery alone for a pipeline whose SPF and DKIM results come later.
//!
//! Section references name RFC 9989's section titles ("DNS Tree Walk",
//! "DMARC Policy Discovery", "Identifier Alignment Evaluation", "Extract
//! Author Domain") and RFC 7489's section numbers.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::dns::Name;
use crate::message::HeaderField;
use crate::message::address::{Address, AddressError, parse_address_list};
use crate::word::Word;

pub mod check;
pub mod discovery;
pub mod evaluate;
pub mod lint;
pub mod psl;
pub mod reason;
pub mod record;

pub use check::{Check, PolicyCheck, PolicyFound, Sample, SampleError};
pub use discovery::{Discovery, DnsFailure, FoundPolicy, OrgDomain, PolicyLookup, PolicyStatus};
pub use evaluate::{
    AlignedIdentifier, AppliedPolicy, Disposition, DkimAuth, DmarcResult, Outcome, OverrideKind,
    PolicyOverride, PolicySource, SpfAuth, Testing, evaluate, strictest,
};
pub use psl::PublicSuffixList;
pub use reason::{Reason, Softening, UndecidedAlignment};
pub use record::{AlignmentMode, Policy, PublicSuffixFlag, Record, RecordError};

/// Which DMARC specification to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// RFC 9989 (the default): DNS Tree Walk, `np`, `psd`, `t`; `pct`,
    /// `rf` and `ri` are unknown tags.
    #[default]
    Rfc9989,
    /// RFC 7489: Organizational Domains from the Public Suffix List, `pct`
    /// sampling, `rf` and `ri`; `np`, `psd` and `t` are unknown tags.
    Rfc7489,
}

impl Mode {
    /// `rfc9989` or `rfc7489`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Rfc9989 => "rfc9989",
            Mode::Rfc7489 => "rfc7489",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = crate::dns::UnknownWord;

    /// `rfc9989` or `rfc7489`, in any case.
    fn from_str(s: &str) -> Result<Mode, crate::dns::UnknownWord> {
        Mode::from_word(s).ok_or(crate::dns::UnknownWord {
            expected: "rfc9989 or rfc7489",
        })
    }
}

impl Word for Mode {
    const ALL: &'static [Mode] = &[Mode::Rfc9989, Mode::Rfc7489];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl PolicySource {
    /// The tag that gave the policy (`p`, `sp`, `np`), or `broken-record`
    /// for a record without a valid `p` treated as `p=none`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySource::Domain => "p",
            PolicySource::Subdomain => "sp",
            PolicySource::NonExistentSubdomain => "np",
            PolicySource::BrokenRecord => "broken-record",
        }
    }
}

impl Testing {
    /// `no`, `test-mode` (`t=y`) or `not-sampled` (outside `pct`).
    pub fn as_str(self) -> &'static str {
        match self {
            Testing::No => "no",
            Testing::TestMode => "test-mode",
            Testing::NotSampled => "not-sampled",
        }
    }
}

/// DMARC settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The specification to follow (default [`Mode::Rfc9989`]).
    pub mode: Mode,
    /// The most DNS queries of one tree walk (default 8, RFC 9989 "DNS Tree
    /// Walk"): after the first query the walk jumps to the name with one
    /// label fewer than this.
    pub max_tree_walk_queries: usize,
    /// The list for [`Mode::Rfc7489`]; `None` uses the snapshot bundled with
    /// the crate ([`PublicSuffixList::bundled`], the list of February 2023).
    ///
    /// The list changes every week. To follow the copy the system keeps up
    /// to date, as OpenDMARC's `PublicSuffixList` option does, load it once
    /// at start-up and share it between checks (on Debian and Ubuntu the
    /// package `publicsuffix` installs it):
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use mailauth::dmarc::{Config, PublicSuffixList};
    ///
    /// let path = "/usr/share/publicsuffix/public_suffix_list.dat";
    /// let list = PublicSuffixList::from_file(path.as_ref())?;
    /// let config = Config {
    ///     public_suffix_list: Some(Arc::new(list)),
    ///     ..Config::rfc7489()
    /// };
    /// # let _ = config;
    /// # Ok::<(), mailauth::dmarc::psl::PslError>(())
    /// ```
    ///
    /// Build a new `Config` with a reloaded list when the file changes; a
    /// file that cannot be read or holds no rule is an error, so a broken
    /// update does not silently fall back to the bundled snapshot.
    pub public_suffix_list: Option<Arc<PublicSuffixList>>,
    /// The longest policy record read, in octets (default 4096); a longer
    /// one is discarded as not a record.
    pub max_record_bytes: usize,
    /// The most report URIs kept from each of `rua` and `ruf` (default 32).
    pub max_report_uris: usize,
    /// The most addresses read from a From field (default 100).
    pub max_from_addresses: usize,
    /// The most identifiers (SPF and DKIM domains) whose Organizational
    /// Domain [`Discovery::with_identifiers`] looks up (default 16).
    pub max_identifiers: usize,
    /// Refuse a record with any bad tag as a permerror, as strict parsers
    /// do (default false: bad tags are ignored, as both RFCs ask).
    pub strict_records: bool,
    /// Where policy records read are kept, parsed, for the next check that
    /// meets the same record text (default:
    /// [`RecordCache::process_wide`]); `None` parses every record it meets.
    /// While it is set, the names the tree walk of a domain asks
    /// ([`Mode::Rfc9989`]) are kept beside its records, in a cache of the
    /// same bound, as they depend only on the domain and
    /// [`Config::max_tree_walk_queries`].
    pub record_cache: Option<RecordCache>,
}

/// Parsed DMARC policy records kept across checks, keyed by the exact
/// record text (see [`crate::cache`]).
pub type RecordCache = crate::cache::RecordCache<Record>;

impl crate::cache::RecordCache<Record> {
    /// The cache of DMARC records shared by the whole process, of
    /// [`crate::cache::DEFAULT_MAX_ENTRIES`] entries: the one
    /// [`Config::default`] uses.
    pub fn process_wide() -> RecordCache {
        static PROCESS_WIDE: std::sync::LazyLock<RecordCache> =
            std::sync::LazyLock::new(RecordCache::default);
        RecordCache::process_wide_handle(&PROCESS_WIDE)
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mode: Mode::Rfc9989,
            max_tree_walk_queries: 8,
            public_suffix_list: None,
            max_record_bytes: 4096,
            max_report_uris: 32,
            max_from_addresses: 100,
            max_identifiers: 16,
            strict_records: false,
            record_cache: Some(RecordCache::process_wide()),
        }
    }
}

impl Config {
    /// The default settings in [`Mode::Rfc7489`].
    pub fn rfc7489() -> Config {
        Config {
            mode: Mode::Rfc7489,
            ..Config::default()
        }
    }

    /// The public suffix list in use: the configured one or the bundled one.
    pub fn public_suffix_list(&self) -> Arc<PublicSuffixList> {
        self.public_suffix_list
            .clone()
            .unwrap_or_else(PublicSuffixList::bundled)
    }
}

/// Why no single author domain can be taken from the From field(s). DMARC
/// validation is then not possible (RFC 9989 "Extract Author Domain";
/// RFC 7489 §6.6.1); [`Outcome::from_error`] gives the permerror result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FromError {
    /// The message has no From field.
    #[error("no from field")]
    NoFrom,
    /// The message has several From fields.
    #[error("{count} from fields")]
    SeveralFromFields {
        /// How many.
        count: usize,
    },
    /// The From field is not an address list.
    #[error("unparsable from field: {0}")]
    Unparsable(AddressError),
    /// The From field holds a group (RFC 5322 allows none in From).
    #[error("group in from field")]
    Group,
    /// An address's domain is not a domain name (a domain literal, an
    /// invalid name or IDN).
    #[error("invalid author domain {domain:?}")]
    InvalidDomain {
        /// The domain as written.
        domain: String,
    },
    /// The From field holds addresses in different domains. RFC 9989 lets
    /// a receiver go on with each of them; the domains are here for a
    /// caller that does.
    #[error("several author domains: {}", domains.iter().map(Name::as_str).collect::<Vec<_>>().join(", "))]
    SeveralDomains {
        /// The distinct domains, in field order.
        domains: Vec<Name>,
    },
}

/// A domain from an address, in lowercase A-label form (RFC 9989 "Extract
/// Author Domain": a U-label is converted to an A-label).
pub(crate) fn domain_name(domain: &str) -> Option<Name> {
    if domain.starts_with('[') {
        return None;
    }
    let ascii: std::borrow::Cow<'_, str> = if !domain.is_ascii() {
        idna_to_ascii(domain)?.into()
    } else if domain.bytes().any(|b| b.is_ascii_uppercase()) {
        domain.to_ascii_lowercase().into()
    } else {
        domain.into()
    };
    Name::new(&ascii).ok().filter(|n| n.as_str() == ascii)
}

/// A domain with U-labels in A-label form (UTS #46 / IDNA 2008 through
/// hickory-proto, which the crate already uses for DNS names).
pub(crate) fn idna_to_ascii(domain: &str) -> Option<String> {
    let name = hickory_proto::rr::Name::from_utf8(domain).ok()?;
    let ascii = name.to_ascii();
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii);
    (!ascii.is_empty()).then(|| ascii.to_ascii_lowercase())
}

/// The author domain of a message: the domain of the RFC5322.From address
/// (RFC 9989 "Extract Author Domain"; RFC 7489 §6.6.1), with
/// [`Config::default`] bounds.
///
/// # Errors
/// A [`FromError`] when there is not exactly one From field, the field
/// does not parse, holds a group, or holds addresses in several domains.
/// Several addresses in one domain yield that domain: RFC 9989 makes
/// validation impossible only when more than one *domain* is extracted.
pub fn author_domain(fields: &[HeaderField]) -> Result<Name, FromError> {
    author_domain_with(fields, &Config::default())
}

/// [`author_domain`] with the bounds of `config`
/// ([`Config::max_from_addresses`]).
///
/// # Errors
/// As [`author_domain`].
pub fn author_domain_with(fields: &[HeaderField], config: &Config) -> Result<Name, FromError> {
    let mut from = fields.iter().filter(|f| f.is_named(b"from"));
    let field = from.next().ok_or(FromError::NoFrom)?;
    let more = from.count();
    if more > 0 {
        return Err(FromError::SeveralFromFields { count: more + 1 });
    }
    // Most From fields hold one plain mailbox: its domain is read without
    // building the address list.
    if config.max_from_addresses > 0
        && let Some(domain) = crate::message::address::plain_mailbox_domain(field.value())
    {
        return domain_name(domain).ok_or_else(|| FromError::InvalidDomain {
            domain: domain.chars().take(255).collect(),
        });
    }
    let list = parse_address_list(field.value(), config.max_from_addresses)
        .map_err(FromError::Unparsable)?;
    let mut domains: Vec<Name> = Vec::new();
    for address in &list {
        let Address::Mailbox(mailbox) = address else {
            return Err(FromError::Group);
        };
        let name = domain_name(&mailbox.domain).ok_or_else(|| FromError::InvalidDomain {
            domain: mailbox.domain.chars().take(255).collect(),
        })?;
        if !domains.contains(&name) {
            domains.push(name);
        }
    }
    match domains.len() {
        1 => Ok(domains.remove(0)),
        0 => Err(FromError::Unparsable(AddressError::Empty)),
        _ => Err(FromError::SeveralDomains { domains }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(raw: &[&[u8]]) -> Vec<HeaderField> {
        raw.iter()
            .map(|r| HeaderField::from_raw(r.to_vec()))
            .collect()
    }

    fn author(raw: &[&[u8]]) -> Result<Name, FromError> {
        author_domain(&fields(raw))
    }

    #[test]
    fn modes_by_name() {
        assert_eq!("rfc9989".parse::<Mode>(), Ok(Mode::Rfc9989));
        assert_eq!("RFC7489".parse::<Mode>(), Ok(Mode::Rfc7489));
        assert_eq!(Mode::Rfc7489.to_string(), "rfc7489");
        assert!("rfc7208".parse::<Mode>().is_err());
    }

    #[test]
    fn one_from() {
        let name = author(&[b"Subject: x", b"FROM: \"A, B\" <a@Mail.Example.ORG>"]).unwrap();
        assert_eq!(name.as_str(), "mail.example.org");
        assert_eq!(
            author(&[b"From: a@example.org, b@EXAMPLE.org"])
                .unwrap()
                .as_str(),
            "example.org"
        );
        assert_eq!(
            author(&["From: j@b\u{fc}cher.example".as_bytes()])
                .unwrap()
                .as_str(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn defined_failures() {
        assert_eq!(author(&[b"To: a@example.org"]), Err(FromError::NoFrom));
        assert_eq!(
            author(&[b"From: a@example.org", b"From: a@example.org"]),
            Err(FromError::SeveralFromFields { count: 2 })
        );
        assert_eq!(author(&[b"From: G: a@example.org;"]), Err(FromError::Group));
        assert_eq!(
            author(&[b"From: a@example.org, b@example.net"]),
            Err(FromError::SeveralDomains {
                domains: vec![
                    Name::new("example.org").unwrap(),
                    Name::new("example.net").unwrap()
                ]
            })
        );
        assert!(matches!(
            author(&[b"From: Test User"]),
            Err(FromError::Unparsable(AddressError::NoAddress { .. }))
        ));
        assert!(matches!(
            author(&[b"From: a@[192.0.2.1]"]),
            Err(FromError::InvalidDomain { .. })
        ));
        assert!(matches!(
            author(&[b"From: a@-x..y"]),
            Err(FromError::Unparsable(_))
        ));
        assert!(matches!(
            author(&[b"From:"]),
            Err(FromError::Unparsable(AddressError::Empty))
        ));
        assert!(matches!(
            author(&[b"From: a@\xc3\xa9\xff.example"]),
            Err(FromError::Unparsable(AddressError::InvalidDomain))
        ));
    }

    #[test]
    fn hostile_from() {
        let many: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("From: a{i}@example.org").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
        assert_eq!(
            author(&refs),
            Err(FromError::SeveralFromFields { count: 100 })
        );
        let list = format!("From: {}", vec!["a@example.org"; 10_000].join(", "));
        assert_eq!(
            author(&[list.as_bytes()]),
            Err(FromError::Unparsable(AddressError::TooManyAddresses {
                limit: 100
            }))
        );
        let same = format!("From: {}", vec!["a@example.org"; 50].join(", "));
        assert_eq!(author(&[same.as_bytes()]).unwrap().as_str(), "example.org");
    }
}
