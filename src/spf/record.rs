//! SPF records (RFC 7208 §4.5, §4.6, §5, §6).
//!
//! ```text
//! record           = version terms *SP
//! version          = "v=spf1"
//! terms            = *( 1*SP ( directive / modifier ) )
//! directive        = [ qualifier ] mechanism
//! qualifier        = "+" / "-" / "?" / "~"
//! mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
//! modifier         = redirect / explanation / unknown-modifier
//! unknown-modifier = name "=" macro-string
//! name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
//! domain-spec      = macro-string domain-end
//! domain-end       = ( "." toplabel [ "." ] ) / macro-expand
//! dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
//! ```
//!
//! Parsing is strict: any malformed term makes the whole record a
//! `permerror` (§4.6), wherever it stands.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::macros::{Context, MacroError, MacroString};

/// Why a record is malformed. Each makes the check a `permerror`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text does not start with `v=spf1` followed by a space or the end.
    #[error("not an spf record")]
    NotSpf,
    /// An octet above 0x7f (§4.5: records are ASCII).
    #[error("non-ascii octet in record")]
    NonAscii,
    /// A control character (anything below 0x20 or 0x7f).
    #[error("control character in record")]
    ControlCharacter,
    /// More terms than the configured bound.
    #[error("record has more than {limit} terms")]
    TooManyTerms {
        /// The bound ([`super::Config::max_terms`]).
        limit: usize,
    },
    /// A term that is neither a known mechanism nor a modifier.
    #[error("unknown mechanism {0:?}")]
    UnknownMechanism(String),
    /// A mechanism given an argument it does not take (`all:x`, `ptr/24`).
    #[error("unexpected argument in {0:?}")]
    UnexpectedArgument(String),
    /// `include`, `exists`, `ip4` or `ip6` without its argument.
    #[error("missing argument in {0:?}")]
    MissingArgument(String),
    /// A `:` or `=` followed by nothing.
    #[error("empty domain-spec in {0:?}")]
    EmptyDomainSpec(String),
    /// A domain-spec whose end is neither a macro nor `.toplabel`.
    #[error("invalid domain-spec in {0:?}")]
    InvalidDomainSpec(String),
    /// A malformed macro string.
    #[error("invalid macro in {term:?}: {error}")]
    Macro {
        /// The term holding it.
        term: String,
        /// What is wrong.
        error: MacroError,
    },
    /// A CIDR length that is malformed or too large.
    #[error("invalid cidr length in {0:?}")]
    InvalidCidr(String),
    /// An `ip4:` network that is not a dotted quad.
    #[error("invalid ip4 network in {0:?}")]
    InvalidIp4(String),
    /// An `ip6:` network that is not an IPv6 address.
    #[error("invalid ip6 network in {0:?}")]
    InvalidIp6(String),
    /// `redirect=` given twice.
    #[error("duplicate redirect modifier")]
    DuplicateRedirect,
    /// `exp=` given twice.
    #[error("duplicate exp modifier")]
    DuplicateExplanation,
}

/// The result a directive gives when its mechanism matches (§4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Qualifier {
    /// `+` (the default).
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

/// CIDR prefix lengths for IPv4 and IPv6 addresses (§5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DualCidr {
    /// Prefix length applied to IPv4 addresses (0..=32, default 32).
    pub ip4: u8,
    /// Prefix length applied to IPv6 addresses (0..=128, default 128).
    pub ip6: u8,
}

impl Default for DualCidr {
    fn default() -> DualCidr {
        DualCidr { ip4: 32, ip6: 128 }
    }
}

impl DualCidr {
    /// Whether `candidate` lies in the network of `client` given these
    /// lengths (families must agree).
    pub fn contains(&self, network: IpAddr, client: IpAddr) -> bool {
        match (network, client) {
            (IpAddr::V4(n), IpAddr::V4(c)) => ip4_in(n, self.ip4, c),
            (IpAddr::V6(n), IpAddr::V6(c)) => ip6_in(n, self.ip6, c),
            _ => false,
        }
    }
}

pub(crate) fn ip4_in(network: Ipv4Addr, prefix: u8, ip: Ipv4Addr) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    u32::from(network) & mask == u32::from(ip) & mask
}

pub(crate) fn ip6_in(network: Ipv6Addr, prefix: u8, ip: Ipv6Addr) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0);
    u128::from(network) & mask == u128::from(ip) & mask
}

/// A mechanism (§5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mechanism {
    /// `all`: always matches.
    All,
    /// `include:<domain>`: matches when that domain's check passes.
    Include {
        /// The domain to check.
        domain: MacroString,
    },
    /// `a[:<domain>][/len][//len]`: the client is one of the domain's
    /// addresses.
    A {
        /// The domain (the current one when absent).
        domain: Option<MacroString>,
        /// The prefix lengths.
        cidr: DualCidr,
    },
    /// `mx[:<domain>][/len][//len]`: the client is an address of one of
    /// the domain's mail exchangers.
    Mx {
        /// The domain (the current one when absent).
        domain: Option<MacroString>,
        /// The prefix lengths.
        cidr: DualCidr,
    },
    /// `ptr[:<domain>]`: a validated reverse name of the client lies in the
    /// domain (discouraged by §5.5).
    Ptr {
        /// The domain (the current one when absent).
        domain: Option<MacroString>,
    },
    /// `ip4:<network>[/len]`.
    Ip4 {
        /// The network address.
        network: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// `ip6:<network>[/len]`.
    Ip6 {
        /// The network address.
        network: Ipv6Addr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// `exists:<domain>`: the domain has an A record.
    Exists {
        /// The domain to look up.
        domain: MacroString,
    },
}

impl Mechanism {
    /// Whether evaluating this mechanism counts against the DNS-term limit
    /// (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }
        )
    }
}

/// A qualified mechanism, with its text as written in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The result on match.
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Shared with the outcomes that name it.
    text: std::sync::Arc<str>,
}

impl Directive {
    /// The directive as written in the record.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text, shared.
    pub(crate) fn shared_text(&self) -> &std::sync::Arc<str> {
        &self.text
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The directives, in order.
    pub directives: Vec<Directive>,
    /// `redirect=` (§6.1).
    pub redirect: Option<MacroString>,
    /// `exp=` (§6.2).
    pub explanation: Option<MacroString>,
}

/// Whether a TXT record is an SPF record: `v=spf1` (any case) followed by a
/// space or the end (§4.5). Other TXT records at the name are ignored.
pub fn is_spf_record(text: &[u8]) -> bool {
    match text.get(..6) {
        Some(prefix) => {
            prefix.eq_ignore_ascii_case(b"v=spf1") && matches!(text.get(6), None | Some(b' '))
        }
        None => false,
    }
}

impl Record {
    /// Parses a record, refusing one with more than `max_terms` terms.
    ///
    /// # Errors
    /// A [`RecordError`] naming the first malformation.
    pub fn parse(text: &[u8], max_terms: usize) -> Result<Record, RecordError> {
        if !is_spf_record(text) {
            return Err(RecordError::NotSpf);
        }
        if text.iter().any(|&b| b > 0x7f) {
            return Err(RecordError::NonAscii);
        }
        if text.iter().any(|&b| b < 0x20 || b == 0x7f) {
            return Err(RecordError::ControlCharacter);
        }
        // All ASCII, checked above.
        let text = std::str::from_utf8(text).map_err(|_| RecordError::NonAscii)?;
        let body = text.get(6..).unwrap_or_default();
        let mut record = Record {
            // Room for every term (each starts after a space; modifiers
            // are few), bounded by the number of terms allowed: runs of
            // spaces ask for no room.
            directives: Vec::with_capacity(
                body.as_bytes()
                    .windows(2)
                    .filter(|pair| matches!(pair, [b' ', next] if *next != b' '))
                    .count()
                    .min(max_terms),
            ),
            redirect: None,
            explanation: None,
        };
        let mut terms = 0usize;
        for term in body.split(' ') {
            if term.is_empty() {
                continue;
            }
            terms += 1;
            if terms > max_terms {
                return Err(RecordError::TooManyTerms { limit: max_terms });
            }
            if let Some((name, value)) = modifier(term) {
                if name.eq_ignore_ascii_case("redirect") {
                    if record.redirect.is_some() {
                        return Err(RecordError::DuplicateRedirect);
                    }
                    record.redirect = Some(domain_spec(term, value)?);
                } else if name.eq_ignore_ascii_case("exp") {
                    if record.explanation.is_some() {
                        return Err(RecordError::DuplicateExplanation);
                    }
                    record.explanation = Some(domain_spec(term, value)?);
                } else {
                    // Unknown modifiers are ignored, but must be well formed.
                    MacroString::parse(value, Context::Modifier).map_err(|error| {
                        RecordError::Macro {
                            term: term.to_owned(),
                            error,
                        }
                    })?;
                }
            } else {
                record.directives.push(directive(term)?);
            }
        }
        Ok(record)
    }
}

/// `name "=" value` when `term` is a modifier.
fn modifier(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.bytes();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then_some((name, value))
}

fn directive(term: &str) -> Result<Directive, RecordError> {
    let (qualifier, body) = match term.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, &term[1..]),
        Some(b'-') => (Qualifier::Fail, &term[1..]),
        Some(b'~') => (Qualifier::SoftFail, &term[1..]),
        Some(b'?') => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let name_len = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let (name, rest) = body.split_at(name_len);
    if !(rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')) {
        return Err(RecordError::UnknownMechanism(term.to_owned()));
    }
    let unexpected = || RecordError::UnexpectedArgument(term.to_owned());
    let missing = || RecordError::MissingArgument(term.to_owned());
    // The longest mechanism name is 7 octets; a longer name is none.
    let mut lower = [0u8; 7];
    let lowered = match lower.get_mut(..name.len()) {
        Some(lower) => {
            lower.copy_from_slice(name.as_bytes());
            lower.make_ascii_lowercase();
            &*lower
        }
        None => &[],
    };
    let mechanism = match lowered {
        b"all" => {
            if !rest.is_empty() {
                return Err(unexpected());
            }
            Mechanism::All
        }
        b"include" | b"exists" => {
            let arg = rest.strip_prefix(':').ok_or_else(missing)?;
            let domain = domain_spec(term, arg)?;
            if name.eq_ignore_ascii_case("include") {
                Mechanism::Include { domain }
            } else {
                Mechanism::Exists { domain }
            }
        }
        b"a" | b"mx" => {
            let (spec, cidr) = split_dual_cidr(term, rest)?;
            let domain = match spec.strip_prefix(':') {
                Some(arg) => Some(domain_spec(term, arg)?),
                None if spec.is_empty() => None,
                None => return Err(RecordError::InvalidCidr(term.to_owned())),
            };
            if name.eq_ignore_ascii_case("a") {
                Mechanism::A { domain, cidr }
            } else {
                Mechanism::Mx { domain, cidr }
            }
        }
        b"ptr" => {
            let domain = if rest.is_empty() {
                None
            } else {
                let arg = rest.strip_prefix(':').ok_or_else(unexpected)?;
                Some(domain_spec(term, arg)?)
            };
            Mechanism::Ptr { domain }
        }
        b"ip4" => {
            let arg = rest.strip_prefix(':').ok_or_else(missing)?;
            let (addr, len) = match arg.split_once('/') {
                Some((addr, len)) => (addr, Some(len)),
                None => (arg, None),
            };
            let network = addr
                .parse::<Ipv4Addr>()
                .map_err(|_| RecordError::InvalidIp4(term.to_owned()))?;
            let prefix_len = match len {
                Some(len) => cidr_length(term, len, 32)?,
                None => 32,
            };
            Mechanism::Ip4 {
                network,
                prefix_len,
            }
        }
        b"ip6" => {
            let arg = rest.strip_prefix(':').ok_or_else(missing)?;
            let (addr, len) = match arg.split_once('/') {
                Some((addr, len)) => (addr, Some(len)),
                None => (arg, None),
            };
            let network = addr
                .parse::<Ipv6Addr>()
                .map_err(|_| RecordError::InvalidIp6(term.to_owned()))?;
            let prefix_len = match len {
                Some(len) => cidr_length(term, len, 128)?,
                None => 128,
            };
            Mechanism::Ip6 {
                network,
                prefix_len,
            }
        }
        _ => return Err(RecordError::UnknownMechanism(term.to_owned())),
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.into(),
    })
}

/// Splits `[":" domain-spec] dual-cidr-length` at the CIDR suffix, which
/// is recognised from the right (a domain-spec may itself hold `/`).
fn split_dual_cidr<'a>(term: &str, rest: &'a str) -> Result<(&'a str, DualCidr), RecordError> {
    let mut cidr = DualCidr::default();
    let mut spec = rest;
    if let Some(pos) = spec.rfind("//") {
        let digits = spec.get(pos + 2..).unwrap_or_default();
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            cidr.ip6 = cidr_length(term, digits, 128)?;
            spec = spec.get(..pos).unwrap_or_default();
        }
    }
    if let Some(pos) = spec.rfind('/') {
        let digits = spec.get(pos + 1..).unwrap_or_default();
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            cidr.ip4 = cidr_length(term, digits, 32)?;
            spec = spec.get(..pos).unwrap_or_default();
        }
    }
    Ok((spec, cidr))
}

/// `ip4-cidr-length` / `ip6-cidr-length`: decimal without leading zeros,
/// at most `max`.
fn cidr_length(term: &str, digits: &str, max: u8) -> Result<u8, RecordError> {
    let bad = || RecordError::InvalidCidr(term.to_owned());
    if digits.is_empty()
        || digits.len() > 3
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return Err(bad());
    }
    let value: u8 = digits.parse().map_err(|_| bad())?;
    if value > max {
        return Err(bad());
    }
    Ok(value)
}

/// Parses a domain-spec and checks its `domain-end`.
fn domain_spec(term: &str, text: &str) -> Result<MacroString, RecordError> {
    if text.is_empty() {
        return Err(RecordError::EmptyDomainSpec(term.to_owned()));
    }
    let spec = MacroString::parse(text, Context::Domain).map_err(|error| RecordError::Macro {
        term: term.to_owned(),
        error,
    })?;
    if spec.ends_with_macro() {
        return Ok(spec);
    }
    let body = text.strip_suffix('.').unwrap_or(text);
    let valid = match body.rsplit_once('.') {
        Some((_, top)) => is_toplabel(top),
        None => false,
    };
    if valid {
        Ok(spec)
    } else {
        Err(RecordError::InvalidDomainSpec(term.to_owned()))
    }
}

/// ```text
/// toplabel = ( *alphanum ALPHA *alphanum ) /
///            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
/// ```
pub(crate) fn is_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && (bytes.contains(&b'-') || bytes.iter().any(u8::is_ascii_alphabetic))
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Record, RecordError> {
        Record::parse(s.as_bytes(), 1000)
    }

    #[test]
    fn detects_version() {
        assert!(is_spf_record(b"v=spf1"));
        assert!(is_spf_record(b"V=SPF1 -all"));
        assert!(!is_spf_record(b"v=spf10"));
        assert!(!is_spf_record(b"v=spf1mx"));
        assert!(!is_spf_record(b"v=spf"));
    }

    #[test]
    fn parses_every_mechanism() {
        let r = parse(
            "v=spf1 +all -include:a.example ~a ?a:b.example/24//64 mx//0 ptr ptr:c.example \
             ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.d.example redirect=e.example \
             exp=x.%{d} foo.bar=baz",
        )
        .unwrap();
        assert_eq!(r.directives.len(), 10);
        assert_eq!(r.directives[1].qualifier, Qualifier::Fail);
        assert_eq!(
            r.directives[3].mechanism,
            Mechanism::A {
                domain: Some(MacroString::parse("b.example", Context::Domain).unwrap()),
                cidr: DualCidr { ip4: 24, ip6: 64 }
            }
        );
        assert_eq!(
            r.directives[4].mechanism,
            Mechanism::Mx {
                domain: None,
                cidr: DualCidr { ip4: 32, ip6: 0 }
            }
        );
        assert!(r.redirect.is_some() && r.explanation.is_some());
        assert_eq!(r.directives[9].as_str(), "exists:%{i}.d.example");
    }

    #[test]
    fn runs_of_spaces_ask_for_no_room() {
        let text = format!("v=spf1{} -all{}", " ".repeat(60_000), " ".repeat(60_000));
        let record = Record::parse(text.as_bytes(), 32_768).unwrap();
        assert_eq!(record.directives.len(), 1);
        assert_eq!(record.directives.capacity(), 1);
    }

    #[test]
    fn refuses_malformations() {
        use RecordError as E;
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(err("v=spf1 -all."), E::UnknownMechanism("-all.".into()));
        assert_eq!(err("v=spf1 all:x"), E::UnexpectedArgument("all:x".into()));
        assert_eq!(err("v=spf1 ptr/0"), E::UnexpectedArgument("ptr/0".into()));
        assert_eq!(err("v=spf1 include"), E::MissingArgument("include".into()));
        assert_eq!(err("v=spf1 a:"), E::EmptyDomainSpec("a:".into()));
        assert_eq!(
            err("v=spf1 a:museum"),
            E::InvalidDomainSpec("a:museum".into())
        );
        assert_eq!(
            err("v=spf1 a:abc.123"),
            E::InvalidDomainSpec("a:abc.123".into())
        );
        assert_eq!(err("v=spf1 a/33"), E::InvalidCidr("a/33".into()));
        assert_eq!(err("v=spf1 a/24/64"), E::InvalidCidr("a/24/64".into()));
        assert_eq!(
            err("v=spf1 ip4:1.2.3.4/032"),
            E::InvalidCidr("ip4:1.2.3.4/032".into())
        );
        assert_eq!(err("v=spf1 ip4:1.2.3"), E::InvalidIp4("ip4:1.2.3".into()));
        assert_eq!(
            err("v=spf1 ip6::CAFE::BABE"),
            E::InvalidIp6("ip6::CAFE::BABE".into())
        );
        assert_eq!(
            err("v=spf1 redirect=a.example redirect=b.example"),
            E::DuplicateRedirect
        );
        assert_eq!(
            err("v=spf1 exp=a.example exp=b.example"),
            E::DuplicateExplanation
        );
        assert_eq!(err("v=spf1 a:\u{e9}.example"), E::NonAscii);
        assert_eq!(err("v=spf1 a\r"), E::ControlCharacter);
        assert!(matches!(err("v=spf1 foo=%abc"), E::Macro { .. }));
        assert!(matches!(err("v=spf1 exp=%{r}.example"), E::Macro { .. }));
        assert_eq!(err("v=spf1 1up=foo"), E::UnknownMechanism("1up=foo".into()));
        assert_eq!(
            parse(&format!("v=spf1{}", " ip4:192.0.2.1".repeat(11))).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            Record::parse(format!("v=spf1{}", " all".repeat(11)).as_bytes(), 10).unwrap_err(),
            E::TooManyTerms { limit: 10 }
        );
    }

    #[test]
    fn domain_with_slash_and_colon() {
        let r = parse("v=spf1 a:foo:bar/baz.example.com").unwrap();
        assert!(
            matches!(r.directives[0].mechanism, Mechanism::A { cidr, .. } if cidr == DualCidr::default())
        );
        assert!(parse("v=spf1 a:foo.example.xn--zckzah").is_ok());
        assert!(parse("v=spf1 a:example.-com").is_err());
    }

    #[test]
    fn cidr_matching() {
        let n: Ipv4Addr = "192.0.2.0".parse().unwrap();
        assert!(ip4_in(n, 24, "192.0.2.200".parse().unwrap()));
        assert!(!ip4_in(n, 24, "192.0.3.1".parse().unwrap()));
        assert!(ip4_in(n, 0, "10.0.0.1".parse().unwrap()));
        let n6: Ipv6Addr = "2001:db8::".parse().unwrap();
        assert!(ip6_in(n6, 32, "2001:db8:ffff::1".parse().unwrap()));
        assert!(ip6_in(n6, 0, "::1".parse().unwrap()));
        assert!(!ip6_in(n6, 128, "2001:db8::1".parse().unwrap()));
    }
}
