//! DNS as the checks see it: queries, answers and resolvers.
//!
//! The checks in this crate never touch the network. They ask for
//! [`Query`] values and take [`Answer`] values (see [`crate::machine`]).
//! An answer keeps apart the outcomes that the protocols treat differently:
//! records, a name that does not exist (NXDOMAIN), a name with no records of
//! the asked type (no data), a temporary failure (timeout, SERVFAIL) and a
//! permanent one.
//!
//! Resolvers shipped here:
//! - [`ZoneResolver`]: in memory, filled from zone-file text
//!   ([`ZoneResolver::from_zone_text`], RFC 1035 master format) or in code;
//! - `StubResolver` (feature `stub-resolver`, on by default): a blocking
//!   network client for recursive name servers, configured in code
//!   (`StubConfig`) or from resolv.conf; the only code in the crate that
//!   opens sockets;
//! - [`CachingResolver`]: a TTL-aware, size-bounded cache around any
//!   resolver, timed by an injectable [`Clock`].
//!
//! For callers that run their own DNS client (an MTA's event loop, C's
//! `res_query`), [`build_query`] writes a query packet and
//! [`parse_response`] turns the raw response into an [`Answer`] with its
//! TTL.

mod cache;
mod name;
mod packet;
#[cfg(feature = "stub-resolver")]
mod stub;
mod zone;

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;
use std::sync::Arc;

use crate::word::Word;

pub use cache::{CacheConfig, CachingResolver, Clock, SystemClock};
pub use name::{Name, NameError};
pub use packet::{PacketError, answer_from_response, build_query, parse_response};
#[cfg(feature = "stub-resolver")]
pub use stub::{StubConfig, StubError, StubResolver};
pub use zone::{RecordData, ZoneError, ZoneResolver};

/// The record types the checks ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordType {
    /// IPv4 address records.
    A,
    /// IPv6 address records.
    Aaaa,
    /// Mail exchanger records.
    Mx,
    /// Text records (SPF, DKIM keys, DMARC policies).
    Txt,
    /// Reverse-mapping pointer records.
    Ptr,
}

impl RecordType {
    /// How many record types there are.
    pub(crate) const COUNT: usize = 5;

    /// A number for each record type, below [`RecordType::COUNT`].
    pub(crate) fn index(self) -> usize {
        match self {
            RecordType::A => 0,
            RecordType::Aaaa => 1,
            RecordType::Mx => 2,
            RecordType::Txt => 3,
            RecordType::Ptr => 4,
        }
    }

    /// The mnemonic used in zone files (`"TXT"`, `"AAAA"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ptr => "PTR",
        }
    }

    /// The numeric RR type (RFC 1035 §3.2.2, RFC 3596).
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = UnknownWord;

    /// The mnemonic in any case (`"txt"`, `"AAAA"`).
    fn from_str(s: &str) -> Result<RecordType, UnknownWord> {
        RecordType::from_word(s).ok_or(UnknownWord {
            expected: "A, AAAA, MX, TXT or PTR",
        })
    }
}

impl Word for RecordType {
    const ALL: &'static [RecordType] = &[
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Ptr,
    ];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

/// A word that names none of the values of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown word (expected {expected})")]
pub struct UnknownWord {
    /// The words accepted.
    pub expected: &'static str,
}

/// The address of a name server to ask.
///
/// Written `192.0.2.53`, `2001:db8::53` or `fe80::1%2` (port 53), or with a
/// port as `192.0.2.53:5353` or `[2001:db8::53]:5353`; displayed as
/// `address:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameServer(pub SocketAddr);

/// The DNS port.
const DNS_PORT: u16 = 53;

impl FromStr for NameServer {
    type Err = NameServerError;

    fn from_str(s: &str) -> Result<NameServer, NameServerError> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(NameServer(SocketAddr::new(ip, DNS_PORT)));
        }
        if let Some((ip, zone)) = s.split_once('%')
            && let (Ok(ip), Ok(zone)) = (ip.parse::<Ipv6Addr>(), zone.parse::<u32>())
        {
            return Ok(NameServer(SocketAddr::V6(SocketAddrV6::new(
                ip, DNS_PORT, 0, zone,
            ))));
        }
        s.parse::<SocketAddr>()
            .map(NameServer)
            .map_err(|_| NameServerError {
                text: s.chars().take(64).collect(),
            })
    }
}

impl fmt::Display for NameServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<NameServer> for SocketAddr {
    fn from(server: NameServer) -> SocketAddr {
        server.0
    }
}

/// Text that is not a name server address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name server address {text:?}")]
pub struct NameServerError {
    /// The text (at most 64 characters of it).
    pub text: String,
}

/// One DNS question: a validated name and a record type (class IN).
///
/// The checks never ask about the root name ([`Name::root`]): it reaches
/// them only as record data, which they skip.
#[derive(Debug, Clone, Eq)]
pub struct Query {
    /// The name asked about.
    pub name: Name,
    /// The record type asked for.
    pub record_type: RecordType,
}

impl PartialEq for Query {
    fn eq(&self, other: &Query) -> bool {
        // The type first: it is cheaper to compare than the name.
        self.record_type == other.record_type && self.name == other.name
    }
}

impl std::hash::Hash for Query {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.record_type.hash(state);
    }
}

impl Query {
    /// A query for `record_type` records at `name`.
    pub fn new(name: Name, record_type: RecordType) -> Query {
        Query { name, record_type }
    }

    /// A TXT query.
    pub fn txt(name: Name) -> Query {
        Query::new(name, RecordType::Txt)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.record_type)
    }
}

/// One TXT record: its character-strings, kept apart as on the wire.
///
/// The bytes are untrusted: they may be any octets, not only UTF-8.
/// Cloning is cheap (the strings are shared, reference-counted), so an
/// answer handed to several checks is not copied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Txt {
    strings: Arc<[Vec<u8>]>,
}

impl Txt {
    /// A record made of these character-strings.
    pub fn new(strings: Vec<Vec<u8>>) -> Txt {
        Txt {
            strings: strings.into(),
        }
    }

    /// A record holding one string, split into 255-octet character-strings
    /// as a zone file or a DNS server would.
    pub fn from_text(text: impl AsRef<[u8]>) -> Txt {
        let bytes = text.as_ref();
        if bytes.is_empty() {
            return Txt::new(vec![Vec::new()]);
        }
        Txt::new(bytes.chunks(255).map(<[u8]>::to_vec).collect())
    }

    /// The character-strings of the record.
    pub fn strings(&self) -> &[Vec<u8>] {
        &self.strings
    }

    /// The character-strings concatenated without separator, as SPF
    /// (RFC 7208 §3.3), DKIM (RFC 6376 §3.6.2.2) and DMARC read them.
    pub fn joined(&self) -> Vec<u8> {
        self.strings.concat()
    }

    /// [`Txt::joined`], borrowed when the record is one character-string
    /// (as most are): no copy then.
    pub fn joined_bytes(&self) -> Cow<'_, [u8]> {
        match &*self.strings {
            [one] => Cow::Borrowed(one),
            [] => Cow::Borrowed(&[]),
            more => Cow::Owned(more.concat()),
        }
    }
}

/// A mail exchanger record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mx {
    /// Lower is preferred.
    pub preference: u16,
    /// The host name of the exchanger; the root ([`Name::root`]) in a
    /// null MX.
    pub exchange: Name,
}

impl Mx {
    /// The null MX, `MX 0 .` (RFC 7505 §3): the domain accepts no mail.
    pub fn null() -> Mx {
        Mx {
            preference: 0,
            exchange: Name::root(),
        }
    }

    /// Whether the exchange is the root, as in a null MX (RFC 7505 §3):
    /// it names no host, so there is no address to look up.
    pub fn is_null(&self) -> bool {
        self.exchange.is_root()
    }
}

/// The records of one type found at a name. Never empty when part of an
/// [`Answer::Records`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Records {
    /// A records.
    A(Vec<Ipv4Addr>),
    /// AAAA records.
    Aaaa(Vec<Ipv6Addr>),
    /// MX records.
    Mx(Vec<Mx>),
    /// TXT records.
    Txt(Vec<Txt>),
    /// PTR records.
    Ptr(Vec<Name>),
}

impl Records {
    /// The type of these records.
    pub fn record_type(&self) -> RecordType {
        match self {
            Records::A(_) => RecordType::A,
            Records::Aaaa(_) => RecordType::Aaaa,
            Records::Mx(_) => RecordType::Mx,
            Records::Txt(_) => RecordType::Txt,
            Records::Ptr(_) => RecordType::Ptr,
        }
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        match self {
            Records::A(v) => v.len(),
            Records::Aaaa(v) => v.len(),
            Records::Mx(v) => v.len(),
            Records::Txt(v) => v.len(),
            Records::Ptr(v) => v.len(),
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// No answer within the configured time.
    Timeout,
    /// The server answered SERVFAIL.
    ServerFailure,
    /// The server refused the query.
    Refused,
    /// The response could not be parsed or did not match the query.
    MalformedResponse,
    /// A CNAME chain looped or was too long.
    CnameLoop,
    /// The query could not be sent (no server configured, socket error).
    Network,
    /// Any other response code.
    Other,
}

impl Failure {
    /// A one-word name (`timeout`, `servfail`, `refused`, `malformed`,
    /// `cname-loop`, `network`, `other`), for programs and bindings; the
    /// [`Display`](fmt::Display) form is the phrase for people.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::ServerFailure => "servfail",
            Failure::Refused => "refused",
            Failure::MalformedResponse => "malformed",
            Failure::CnameLoop => "cname-loop",
            Failure::Network => "network",
            Failure::Other => "other",
        }
    }
}

impl FromStr for Failure {
    type Err = UnknownWord;

    /// A name as [`Failure::as_str`] writes it, in any case.
    fn from_str(s: &str) -> Result<Failure, UnknownWord> {
        Failure::from_word(s).ok_or(UnknownWord {
            expected: "timeout, servfail, refused, malformed, cname-loop, network or other",
        })
    }
}

impl Word for Failure {
    const ALL: &'static [Failure] = &[
        Failure::Timeout,
        Failure::ServerFailure,
        Failure::Refused,
        Failure::MalformedResponse,
        Failure::CnameLoop,
        Failure::Network,
        Failure::Other,
    ];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Failure::Timeout => "timeout",
            Failure::ServerFailure => "server failure",
            Failure::Refused => "query refused",
            Failure::MalformedResponse => "malformed response",
            Failure::CnameLoop => "cname loop",
            Failure::Network => "network error",
            Failure::Other => "dns error",
        })
    }
}

/// The answer to one [`Query`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// The name has records of the asked type (at least one).
    Records(Records),
    /// The name does not exist (RCODE 3, NXDOMAIN).
    NxDomain,
    /// The name exists but has no records of the asked type.
    NoData,
    /// A failure that may go away if asked again later (timeout, SERVFAIL).
    TempFail(Failure),
    /// A failure that will not go away by asking again.
    PermFail(Failure),
}

impl Answer {
    /// Turns a list of records into an answer: [`Answer::NoData`] when empty.
    pub fn from_records(records: Records) -> Answer {
        if records.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(records)
        }
    }

    /// Whether this is NXDOMAIN or no data (a "void lookup" in RFC 7208
    /// §4.6.4).
    pub fn is_void(&self) -> bool {
        matches!(self, Answer::NxDomain | Answer::NoData)
    }

    /// The TXT records, if this answer holds TXT records.
    pub fn txt(&self) -> Option<&[Txt]> {
        match self {
            Answer::Records(Records::Txt(v)) => Some(v),
            _ => None,
        }
    }
}

/// A blocking DNS resolver.
///
/// `lookup` must follow CNAME chains, as a recursive resolver does, and
/// answer with the records of the asked type found at the end of the chain.
/// Implementations are shared across threads by callers that resolve the
/// queries of one poll in parallel, hence `&self`.
pub trait Resolver {
    /// Answers one query.
    fn lookup(&self, query: &Query) -> Answer {
        self.lookup_with_ttl(query).0
    }

    /// Answers one query, with the time in seconds the answer may be cached
    /// (`None` when the resolver does not know).
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>);

    /// Answers one query with an answer that may be shared with the
    /// resolver (and handed to a check with
    /// [`Machine::supply_shared`](crate::Machine::supply_shared)): a
    /// resolver holding its answers ready overrides it to give them without
    /// copying. The default wraps [`lookup`](Self::lookup).
    fn lookup_shared(&self, query: &Query) -> std::sync::Arc<Answer> {
        std::sync::Arc::new(self.lookup(query))
    }
}

impl<R: Resolver + ?Sized> Resolver for &R {
    fn lookup(&self, query: &Query) -> Answer {
        (**self).lookup(query)
    }

    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        (**self).lookup_with_ttl(query)
    }

    fn lookup_shared(&self, query: &Query) -> std::sync::Arc<Answer> {
        (**self).lookup_shared(query)
    }
}

impl<R: Resolver + ?Sized> Resolver for Box<R> {
    fn lookup(&self, query: &Query) -> Answer {
        (**self).lookup(query)
    }

    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        (**self).lookup_with_ttl(query)
    }

    fn lookup_shared(&self, query: &Query) -> std::sync::Arc<Answer> {
        (**self).lookup_shared(query)
    }
}

impl<R: Resolver + ?Sized> Resolver for std::sync::Arc<R> {
    fn lookup(&self, query: &Query) -> Answer {
        (**self).lookup(query)
    }

    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        (**self).lookup_with_ttl(query)
    }

    fn lookup_shared(&self, query: &Query) -> std::sync::Arc<Answer> {
        (**self).lookup_shared(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_and_failures_round_trip() {
        for t in [
            RecordType::A,
            RecordType::Aaaa,
            RecordType::Mx,
            RecordType::Txt,
            RecordType::Ptr,
        ] {
            assert_eq!(t.to_string().parse::<RecordType>(), Ok(t));
            assert_eq!(t.as_str().to_lowercase().parse::<RecordType>(), Ok(t));
        }
        assert!("SRV".parse::<RecordType>().is_err());
        for f in [
            Failure::Timeout,
            Failure::ServerFailure,
            Failure::Refused,
            Failure::MalformedResponse,
            Failure::CnameLoop,
            Failure::Network,
            Failure::Other,
        ] {
            assert_eq!(f.as_str().parse::<Failure>(), Ok(f));
        }
        assert_eq!(
            "nonsense".parse::<Failure>().unwrap_err().to_string(),
            "unknown word (expected timeout, servfail, refused, malformed, cname-loop, network or other)"
        );
    }

    #[test]
    fn name_servers() {
        let parse = |s: &str| s.parse::<NameServer>().map(|n| n.to_string());
        assert_eq!(parse("192.0.2.53").unwrap(), "192.0.2.53:53");
        assert_eq!(parse("192.0.2.53:5353").unwrap(), "192.0.2.53:5353");
        assert_eq!(parse("2001:db8::53").unwrap(), "[2001:db8::53]:53");
        assert_eq!(parse("[2001:db8::53]:5353").unwrap(), "[2001:db8::53]:5353");
        assert_eq!(parse("fe80::1%2").unwrap(), "[fe80::1%2]:53");
        for bad in [
            "",
            "ns.example.org",
            "192.0.2.53:99999",
            "fe80::1%eth0",
            "[::1]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
