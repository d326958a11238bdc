//! SPF (RFC 7208).
//!
//! [`Check`] runs `check_host()` for one identity (the MAIL FROM address or
//! the HELO name) as a sans-IO [`Machine`](crate::Machine): it asks for DNS
//! queries and takes the answers back, in any order. Its [`Outcome`] holds
//! the result, a typed [`Reason`], the explanation of a `fail`, and renders
//! the `Received-SPF` header field ([`Outcome::received_spf`]) and the
//! Authentication-Results piece ([`Outcome::to_method_result`]).
//!
//! ```
//! use mailauth::dns::{Name, ZoneResolver};
//! use mailauth::spf;
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("example.org").unwrap(), "v=spf1 ip4:192.0.2.0/24 -all");
//! let input = spf::Input::mail_from("198.51.100.1".parse().unwrap(), "mx.example.net", "bob@example.org");
//! let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
//! assert_eq!(outcome.result, spf::SpfResult::Fail);
//! assert_eq!(outcome.result.to_string(), "fail");
//! ```
//!
//! Deliberate choices where the RFC leaves room:
//! - the `mx` mechanism is a `permerror` when the MX answer holds more than
//!   [`Config::max_mx_names`] names (§4.6.4; suite test `mx-limit`);
//! - PTR names past [`Config::max_ptr_names`] are ignored (§4.6.4;
//!   `ptr-limit`), and `%{p}` prefers a validated name equal to, then below,
//!   the current domain;
//! - `%{p}` adds no DNS term of its own: it is expanded only within a term
//!   that counts, or in `exp=`, and its lookups are bounded by
//!   [`Config::max_ptr_names`];
//! - the `exp=` lookup counts neither as a DNS term nor as a void lookup
//!   (suite test `exp-void`);
//! - a void lookup is counted once per term whose own query is empty
//!   (§4.6.4 limits "terms"); an MX host or PTR name without addresses
//!   just does not match. pyspf also counts each such address lookup
//!   (Mail::SPF those of MX hosts); [`Config::void_lookup_counting`]
//!   selects pyspf's reading ([`VoidLookupCounting`] gives the reasoning; tests
//!   `void_counting_*` in tests/spf_check.rs, `same_results_as_pyspf`);
//! - a null MX (`MX 0 .`, RFC 7505 §3) is an answer with one record, not a
//!   void one: `mx` asks no address query for it, counts no void and does
//!   not match (tests `null_mx_*`);
//! - a domain-spec that expands to something that is not a valid domain name
//!   makes `a`, `mx`, `ptr` and `exists` not match (suite tests
//!   `invalid-domain-empty-label`, `invalid-hello-macro`) and makes
//!   `include` and `redirect` a `permerror`.

mod check;
pub mod lint;
mod macros;
mod record;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

pub use check::Check;
pub use macros::{MacroError, MacroLetter, MacroString};
pub use record::{Directive, DualCidr, Mechanism, Qualifier, Record, RecordError, is_spf_record};

use crate::SmolStr;
use crate::authres::{MethodResult, Property, UnknownResult, render};
use crate::dns::{Failure, Name, Query};
use crate::word::Word;

/// Which identity is checked (RFC 7208 §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// The MAIL FROM address (or `postmaster@<helo>` for an empty one).
    MailFrom,
    /// The HELO/EHLO name.
    Helo,
}

impl Identity {
    /// `mailfrom` or `helo`, as in `Received-SPF` (§9.1).
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::MailFrom => "mailfrom",
            Identity::Helo => "helo",
        }
    }
}

/// The facts of one SMTP transaction that SPF checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The SMTP client's address.
    pub ip: IpAddr,
    /// The HELO/EHLO name.
    pub helo: String,
    /// The MAIL FROM address, without angle brackets (may be empty).
    pub mail_from: String,
    /// Which identity to check.
    pub identity: Identity,
    /// The time of the check in seconds since the Unix epoch, for `%{t}`
    /// (the core reads no clock; 0 unless set with [`Input::at`]).
    pub now: u64,
}

impl Input {
    /// A check of the MAIL FROM identity. An empty `mail_from` (a bounce)
    /// checks `postmaster@<helo>` (§2.4); angle brackets around it are
    /// removed.
    pub fn mail_from(ip: IpAddr, helo: &str, mail_from: &str) -> Input {
        let mail_from = mail_from
            .strip_prefix('<')
            .and_then(|m| m.strip_suffix('>'))
            .unwrap_or(mail_from);
        Input {
            ip,
            helo: helo.to_owned(),
            mail_from: mail_from.to_owned(),
            identity: Identity::MailFrom,
            now: 0,
        }
    }

    /// [`Input::mail_from`] keeping the strings given rather than copying
    /// them.
    pub fn mail_from_owned(ip: IpAddr, helo: String, mail_from: String) -> Input {
        let mail_from = match mail_from
            .strip_prefix('<')
            .and_then(|m| m.strip_suffix('>'))
        {
            Some(inner) => inner.to_owned(),
            None => mail_from,
        };
        Input {
            ip,
            helo,
            mail_from,
            identity: Identity::MailFrom,
            now: 0,
        }
    }

    /// A check of the HELO identity (§2.3): `postmaster@<helo>`.
    pub fn helo(ip: IpAddr, helo: &str) -> Input {
        Input {
            ip,
            helo: helo.to_owned(),
            mail_from: String::new(),
            identity: Identity::Helo,
            now: 0,
        }
    }

    /// The same input at `now` (seconds since the Unix epoch), the value of
    /// `%{t}` in explanations.
    pub fn at(mut self, now: u64) -> Input {
        self.now = now;
        self
    }

    /// The domain checked (§4.3, the `<domain>` of check_host()): the
    /// MAIL FROM domain, or the HELO name for the HELO identity and for an
    /// empty MAIL FROM (§2.4). It is the SPF identifier DMARC aligns.
    pub fn domain(&self) -> &str {
        self.sender_parts().1
    }

    /// The local-part and domain checked (§4.3): `postmaster` for a missing
    /// local-part, the HELO name for a missing address.
    fn sender_parts(&self) -> (&str, &str) {
        if self.identity == Identity::Helo || self.mail_from.is_empty() {
            return ("postmaster", &self.helo);
        }
        match self.mail_from.rsplit_once('@') {
            Some(("", domain)) => ("postmaster", domain),
            Some((local, domain)) => (local, domain),
            None => ("postmaster", &self.mail_from),
        }
    }
}

/// Limits and settings of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Terms that query DNS (`include`, `a`, `mx`, `ptr`, `exists`,
    /// `redirect`) allowed in one evaluation, recursion included; one more
    /// is a `permerror` (§4.6.4: 10).
    pub max_dns_mechanisms: usize,
    /// Lookups answering NXDOMAIN or no data allowed; one more is a
    /// `permerror` (§4.6.4: 2). Which lookups count:
    /// [`Config::void_lookup_counting`].
    pub max_void_lookups: usize,
    /// Which empty answers count toward [`Config::max_void_lookups`]: one
    /// per term whose own query is void (the default), or also every void
    /// address lookup of an MX host or PTR name, as pyspf (policyd-spf)
    /// counts.
    pub void_lookup_counting: VoidLookupCounting,
    /// MX names one `mx` mechanism may have; more is a `permerror`
    /// (§4.6.4: 10).
    pub max_mx_names: usize,
    /// PTR names looked at by `ptr` and `%{p}`; the rest are ignored
    /// (§4.6.4: 10).
    pub max_ptr_names: usize,
    /// Terms a record may hold; more is a `permerror`. Not an RFC limit:
    /// the default (32,768) is more than a TXT RRset of 65,535 octets can
    /// carry, so every record that comes over DNS is evaluated; it bounds
    /// records from other sources. Evaluation is linear in the terms.
    pub max_terms: usize,
    /// Octets kept of an explanation; the rest is cut off.
    pub max_explanation_len: usize,
    /// The explanation of a `fail` when the record gives none (§6.2); a
    /// macro string in explanation syntax (used literally if it does not
    /// parse). Checks copy it: the built-in text and any text of up to 23
    /// octets are copied as they are, longer ones shared.
    pub default_explanation: SmolStr,
    /// The receiving host's domain, for `%{r}` (§7.3). Checks copy it:
    /// names of up to 23 octets are copied as they are, longer ones
    /// shared.
    pub receiver: SmolStr,
    /// Where records read are kept, parsed, for the next check that meets
    /// the same record text (default: [`RecordCache::process_wide`]);
    /// `None` parses every record it meets.
    pub record_cache: Option<RecordCache>,
}

/// The explanation of a `fail` whose record gives none, unless configured
/// otherwise ([`Config::default_explanation`]).
pub const DEFAULT_EXPLANATION: &str = "%{c} is not one of %{d}'s designated mail senders";

/// Parsed SPF records kept across checks, keyed by the exact record text
/// (see [`crate::cache`]).
pub type RecordCache = crate::cache::RecordCache<Record>;

impl crate::cache::RecordCache<Record> {
    /// The cache of SPF records shared by the whole process, of
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
            max_dns_mechanisms: 10,
            max_void_lookups: 2,
            void_lookup_counting: VoidLookupCounting::PerTerm,
            max_mx_names: 10,
            max_ptr_names: 10,
            max_terms: 32_768,
            max_explanation_len: 1024,
            default_explanation: SmolStr::new_static(DEFAULT_EXPLANATION),
            receiver: "unknown".into(),
            record_cache: Some(RecordCache::process_wide()),
        }
    }
}

/// Which empty answers (NXDOMAIN or no data) count as void lookups
/// toward [`Config::max_void_lookups`] (RFC 7208 §4.6.4).
///
/// The RFC says the limit is on "terms" whose DNS queries return no
/// records, and that the `mx` and `ptr` address lookups do not count as
/// DNS terms; it does not say whether an empty address lookup of one MX
/// host or PTR name counts as void. The two readings differ when an `mx`
/// or `ptr` term finds names without addresses of the client's family:
/// an IPv6 client checked against `mx` naming three IPv4-only hosts gets
/// `fail` under [`PerTerm`](VoidLookupCounting::PerTerm) and `permerror`
/// under [`PerLookup`](VoidLookupCounting::PerLookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VoidLookupCounting {
    /// One void per term whose own query is empty: the address query of
    /// `a`, the A query of `exists`, the MX query of `mx`, the PTR query of
    /// `ptr`. An MX host or PTR name without addresses only fails to
    /// match. The default: a domain whose MX hosts are reachable over one
    /// address family only is not in error, and a term counts once
    /// however many names it lists.
    #[default]
    PerTerm,
    /// As above, plus one void per MX host and per PTR name (up to
    /// [`Config::max_ptr_names`]) whose address lookup is empty, counted
    /// before matching, and `ptr` looks up the addresses of every PTR name
    /// rather than only those within its domain. This is how pyspf (hence
    /// policyd-spf) counts, for sites that must reproduce its results
    /// exactly, as during a migration. (Mail::SPF also counts each empty
    /// address lookup of an MX host, but stops at the first host that
    /// matches.) `%{p}` still counts nothing.
    PerLookup,
}

/// An SPF result (RFC 7208 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpfResult {
    /// No SPF record, or no valid domain to check.
    None,
    /// The domain makes no assertion about the client.
    Neutral,
    /// The client is authorized.
    Pass,
    /// The client is not authorized.
    Fail,
    /// The client is probably not authorized.
    SoftFail,
    /// A transient DNS error.
    TempError,
    /// The domain's records are broken.
    PermError,
}

impl SpfResult {
    /// The lowercase name (`pass`, `permerror`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl FromStr for SpfResult {
    type Err = UnknownResult;

    /// A result name as [`SpfResult::as_str`] writes it, in any case (as
    /// read back from Authentication-Results or Received-SPF).
    fn from_str(s: &str) -> Result<SpfResult, UnknownResult> {
        SpfResult::from_word(s).ok_or(UnknownResult)
    }
}

impl Word for SpfResult {
    const ALL: &'static [SpfResult] = &[
        SpfResult::None,
        SpfResult::Neutral,
        SpfResult::Pass,
        SpfResult::Fail,
        SpfResult::SoftFail,
        SpfResult::TempError,
        SpfResult::PermError,
    ];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A processing limit of §4.6.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`Config::max_dns_mechanisms`].
    DnsMechanisms,
    /// [`Config::max_void_lookups`].
    VoidLookups,
    /// [`Config::max_mx_names`].
    MxNames,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::DnsMechanisms => "too many dns-querying terms",
            Limit::VoidLookups => "too many void lookups",
            Limit::MxNames => "too many mx names",
        })
    }
}

/// Why the check gave its result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// A mechanism matched; its directive text and the domain whose record
    /// held it.
    Matched {
        /// The directive as written (`-all`, `include:_spf.example.com`),
        /// shared with the parsed record.
        mechanism: std::sync::Arc<str>,
        /// The domain whose record held it.
        domain: Name,
    },
    /// No mechanism matched and there was no `redirect=`: the default
    /// `neutral` (§4.7).
    NoMatch {
        /// The domain whose record was evaluated last.
        domain: Name,
    },
    /// The domain to check is not a fully qualified domain name (§4.3).
    InvalidDomain,
    /// The domain has no SPF record (or does not exist).
    NoRecord {
        /// The domain.
        domain: Name,
    },
    /// More than one SPF record (§4.5).
    MultipleRecords {
        /// The domain.
        domain: Name,
    },
    /// A record is malformed.
    Syntax {
        /// The domain holding it.
        domain: Name,
        /// What is wrong.
        error: RecordError,
    },
    /// An `include` target has no SPF record (§5.2).
    IncludeNoRecord {
        /// The target.
        domain: Name,
    },
    /// A `redirect` target has no SPF record (§6.1).
    RedirectNoRecord {
        /// The target.
        domain: Name,
    },
    /// An `include` or `redirect` expanded to an invalid domain name.
    InvalidTarget {
        /// The term.
        term: String,
        /// What it expanded to.
        target: String,
    },
    /// A processing limit was exceeded.
    LimitExceeded(Limit),
    /// A DNS lookup failed (timeout, SERVFAIL, ...).
    DnsFailure {
        /// The query.
        query: Query,
        /// How it failed.
        failure: Failure,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Matched { mechanism, domain } => {
                write!(f, "mechanism {mechanism} matched in {domain}")
            }
            Reason::NoMatch { domain } => write!(f, "no mechanism matched in {domain}"),
            Reason::InvalidDomain => f.write_str("not a valid domain to check"),
            Reason::NoRecord { domain } => write!(f, "no spf record at {domain}"),
            Reason::MultipleRecords { domain } => write!(f, "several spf records at {domain}"),
            Reason::Syntax { domain, error } => write!(f, "record at {domain}: {error}"),
            Reason::IncludeNoRecord { domain } => {
                write!(f, "included domain {domain} has no spf record")
            }
            Reason::RedirectNoRecord { domain } => {
                write!(f, "redirect domain {domain} has no spf record")
            }
            Reason::InvalidTarget { term, target } => {
                write!(f, "{term} expands to invalid domain {target:?}")
            }
            Reason::LimitExceeded(limit) => write!(f, "{limit}"),
            Reason::DnsFailure { query, failure } => write!(f, "dns {failure} for {query}"),
        }
    }
}

/// The outcome of an SPF check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The result.
    pub result: SpfResult,
    /// The identity checked.
    pub identity: Identity,
    /// The client address as given (an IPv4-mapped IPv6 address is matched
    /// as IPv4).
    pub client_ip: IpAddr,
    /// The HELO name as given.
    pub helo: String,
    /// The address checked (`postmaster@<domain>` when there was no
    /// local-part or no address).
    pub sender: String,
    /// The domain checked at the top level (held inline when short, as
    /// most are).
    pub domain: SmolStr,
    /// Why.
    pub reason: Reason,
    /// For `fail`: the `exp=` text of the domain, or the default
    /// explanation.
    pub explanation: Option<String>,
}

impl Outcome {
    /// The `Received-SPF` header field (§9.1), without final CRLF, folded
    /// with CRLF TAB at 78 columns. `receiver` names the host that ran the
    /// check. Every value is quoted or escaped, so no input can add lines.
    ///
    /// ```text
    /// Received-SPF: pass (mx.example.org: domain of alice@example.com
    ///     designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1;
    ///     envelope-from="alice@example.com"; helo=mail.example.com; ...
    /// ```
    pub fn received_spf(&self, receiver: &str) -> String {
        let sender = &self.sender;
        let ip = self.client_ip;
        let text = match self.result {
            SpfResult::Pass => {
                format!("{receiver}: domain of {sender} designates {ip} as permitted sender")
            }
            SpfResult::Fail => format!(
                "{receiver}: domain of {sender} does not designate {ip} as permitted sender"
            ),
            SpfResult::SoftFail => format!(
                "{receiver}: transitioning domain of {sender} does not designate {ip} as permitted sender"
            ),
            SpfResult::Neutral => {
                format!("{receiver}: {ip} is neither permitted nor denied by domain of {sender}")
            }
            SpfResult::None => {
                format!("{receiver}: domain of {sender} does not provide an SPF record")
            }
            SpfResult::TempError => {
                format!("{receiver}: error in processing during lookup of {sender}")
            }
            SpfResult::PermError => {
                format!("{receiver}: permanent error in processing domain of {sender}")
            }
        };
        let mut pieces = vec![render::Piece::new("", self.result.as_str().to_owned())];
        // A comment may fold at any of its spaces.
        pieces.extend(
            render::comment(&text)
                .split(' ')
                .map(|word| render::Piece::new("", word.to_owned())),
        );
        let mut pairs: Vec<(&str, String)> = vec![
            ("client-ip", ip.to_string()),
            ("envelope-from", self.sender.clone()),
            ("helo", self.helo.clone()),
            ("receiver", receiver.to_owned()),
            ("identity", self.identity.as_str().to_owned()),
        ];
        match (&self.reason, self.result) {
            (Reason::Matched { mechanism, .. }, _) => {
                pairs.push(("mechanism", mechanism.to_string()))
            }
            (reason, SpfResult::PermError | SpfResult::TempError) => {
                pairs.push(("problem", reason.to_string()));
            }
            _ => {}
        }
        for (i, (key, value)) in pairs.into_iter().enumerate() {
            // §9.1: key=value pairs separated by ";" (dot-atom or
            // quoted-string values).
            let rendered = format!("{key}={}", quoted_unless_dot_atom(&value));
            let glue = if i == 0 { "" } else { ";" };
            pieces.push(render::Piece::new(glue, rendered));
        }
        render::fold("Received-SPF:", &pieces)
    }

    /// The `spf=` result for an Authentication-Results field (RFC 8601
    /// §2.7.2), with `smtp.mailfrom` or `smtp.helo`.
    pub fn to_method_result(&self) -> MethodResult {
        let property = match self.identity {
            Identity::MailFrom => Property::new("smtp", "mailfrom", self.sender.as_str()),
            Identity::Helo => Property::new("smtp", "helo", self.helo.as_str()),
        };
        let reason = match self.result {
            SpfResult::PermError | SpfResult::TempError => Some(self.reason.to_string()),
            _ => None,
        };
        MethodResult {
            method: "spf".into(),
            result: self.result.as_str().into(),
            reason,
            properties: vec![property],
        }
    }
}

/// A §9.1 value: bare when it is a dot-atom, else a quoted-string.
fn quoted_unless_dot_atom(value: &str) -> String {
    if render::is_dot_atom(value) {
        value.to_owned()
    } else {
        render::quoted_string(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_mail_from_input_equals_the_borrowed_one() {
        let ip: IpAddr = [192, 0, 2, 1].into();
        for mail_from in [
            "alice@example.org",
            "<alice@example.org>",
            "<>",
            "",
            "<a",
            "b>",
        ] {
            assert_eq!(
                Input::mail_from_owned(ip, "mx.example.org".into(), mail_from.into()),
                Input::mail_from(ip, "mx.example.org", mail_from),
                "{mail_from:?}"
            );
        }
    }
}
