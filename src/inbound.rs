//! The inbound pipeline: every check a receiving MTA runs on one message, as
//! one [`Machine`].
//!
//! 1. [`Inbound::new`] takes the connection facts ([`Connection`]: client
//!    address, HELO name, MAIL FROM, whether the client authenticated or is
//!    internal) and the [`Config`] (authserv-id, the SPF, DKIM and DMARC
//!    settings, the time, which clients to skip, which authserv-ids to
//!    trust);
//! 2. [`Inbound::feed`] takes the message in chunks of any size (the body is
//!    hashed as it streams; only the header is kept);
//! 3. [`Inbound::finish`] returns an [`InboundCheck`], a [`Machine`]. Its
//!    first [`Poll::Lookups`] holds every query that can be asked at once:
//!    the SPF queries of the HELO and MAIL FROM identities, every DKIM key
//!    record, and the DMARC policy discovery of the From domain together
//!    with the Organizational Domain lookups of the SPF and DKIM domains
//!    (RFC 9989 relaxed alignment), so a caller that resolves them in
//!    parallel waits for one round trip per step of the slowest check. A
//!    query several checks need is asked once.
//! 4. It finishes with a [`Verdict`]: each result (SPF HELO, SPF MAIL FROM,
//!    each DKIM signature, DMARC), the DMARC disposition, the
//!    Authentication-Results field to prepend, and the existing
//!    Authentication-Results fields to remove because they claim our
//!    authserv-id (RFC 8601 §5).
//!
//! Mail from an authenticated client (when [`Config::skip_authenticated`])
//! or an internal one ([`Connection::internal`], or an address in
//! [`Config::internal_networks`]) is not checked: the verdict says why in
//! [`Verdict::skipped`], and still lists forged fields to remove.
//!
//! ```
//! use mailauth::dmarc;
//! use mailauth::dns::ZoneResolver;
//! use mailauth::inbound::{Config, Connection, Inbound};
//!
//! let zone = ZoneResolver::from_zone_text(
//!     "$ORIGIN example.org.\n@ 3600 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n",
//! )
//! .unwrap();
//! let connection = Connection::new("192.0.2.10".parse().unwrap(), "mx.example.org", "alice@example.org");
//! let config = Config::new("mx.example.net", 1_700_000_000);
//! let mut inbound = Inbound::new(&connection, &config);
//! inbound.feed(b"From: alice@example.org\r\nSubject: hi\r\n\r\nHello\r\n");
//! let verdict = mailauth::resolve(inbound.finish(), &zone);
//! assert_eq!(verdict.disposition, dmarc::Disposition::None);
//! assert_eq!(
//!     verdict.authentication_results.unwrap().to_header_value(),
//!     "mx.example.net; spf=pass smtp.mailfrom=alice@example.org; \
//!      spf=none smtp.helo=mx.example.org; dkim=none; \
//!      dmarc=none reason=\"no dmarc record\" header.from=example.org"
//! );
//! ```

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::arc;
use crate::authres::{self, AuthenticationResults};
use crate::bimi;
use crate::dkim::verify::{DkimResult, Verification, Verifier, VerifyCheck, VerifyConfig};
use crate::dmarc::{self, Disposition, DkimAuth, Sample, SpfAuth};
use crate::dns::{Answer, Name, Query};
use crate::machine::{Machine, Poll, Progress, UnexpectedAnswer};
use crate::message::{HeaderError, HeaderField, HeaderLimits, MessageReader};
use crate::spf;
use std::sync::Arc;

/// An IP network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`; a bare
/// address is a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    address: IpAddr,
    prefix_len: u8,
}

/// A [`Network`] that does not parse or make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    /// The prefix length is not a number.
    #[error("invalid prefix length {0:?}")]
    InvalidPrefixLength(String),
    /// The prefix length is longer than the address.
    #[error("prefix length {prefix_len} longer than {max} bits")]
    PrefixTooLong {
        /// The prefix length given.
        prefix_len: u8,
        /// The bits of the address (32 or 128).
        max: u8,
    },
}

impl Network {
    /// The network of `address` with a prefix of `prefix_len` bits.
    ///
    /// # Errors
    /// [`NetworkError::PrefixTooLong`] past 32 bits for IPv4, 128 for IPv6.
    pub fn new(address: IpAddr, prefix_len: u8) -> Result<Network, NetworkError> {
        let max = if address.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(NetworkError::PrefixTooLong { prefix_len, max });
        }
        Ok(Network {
            address,
            prefix_len,
        })
    }

    /// Whether `ip` is in the network. An IPv4-mapped IPv6 address
    /// (`::ffff:192.0.2.1`) counts as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = NetworkError;

    fn from_str(s: &str) -> Result<Network, NetworkError> {
        let (address, prefix) = match s.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| NetworkError::InvalidAddress(address.to_owned()))?;
        let prefix_len = match prefix {
            None => {
                if address.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            Some(p) => p
                .parse()
                .map_err(|_| NetworkError::InvalidPrefixLength(p.to_owned()))?,
        };
        Network::new(address, prefix_len)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// The facts of the SMTP transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connection {
    /// The SMTP client's address.
    pub client_ip: IpAddr,
    /// The HELO/EHLO name the client gave.
    pub helo: String,
    /// The MAIL FROM address, angle brackets optional; empty for a bounce.
    pub mail_from: String,
    /// The client authenticated (SMTP AUTH): mail from the MTA's own users.
    pub authenticated: bool,
    /// The MTA knows the client as internal (e.g. a local submission).
    pub internal: bool,
}

impl Connection {
    /// An unauthenticated, external connection.
    pub fn new(client_ip: IpAddr, helo: &str, mail_from: &str) -> Connection {
        Connection {
            client_ip,
            helo: helo.to_owned(),
            mail_from: mail_from.to_owned(),
            authenticated: false,
            internal: false,
        }
    }
}

/// Settings of the pipeline.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The authserv-id written in Authentication-Results (usually the MTA's
    /// host name); existing fields claiming it are forgeries.
    pub authserv_id: String,
    /// SPF settings.
    pub spf: spf::Config,
    /// DKIM verification settings (also bound the header read).
    pub dkim: VerifyConfig,
    /// DMARC settings.
    pub dmarc: dmarc::Config,
    /// The time of the check in seconds since the Unix epoch (DKIM `t=`,
    /// `x=`; SPF `%{t}`).
    pub now: u64,
    /// Check the HELO identity too (RFC 7208 §2.3). Default true.
    pub check_helo: bool,
    /// Do not check mail from authenticated clients. Default true.
    pub skip_authenticated: bool,
    /// Clients in these networks are not checked (as OpenDMARC's
    /// `IgnoreHosts` or policyd-spf's `skip_addresses`). Default empty.
    pub internal_networks: Vec<Network>,
    /// Authentication-Results fields from these authserv-ids are read and
    /// returned in [`Verdict::trusted_results`] (as OpenDMARC's
    /// `TrustedAuthservIDs`); their `spf=pass` (`smtp.mailfrom`) and
    /// `dkim=pass` (`header.d`) results count for DMARC alignment beside
    /// this pipeline's own, as when a border MTA authenticated the message
    /// before it reached this hop. Default empty.
    pub trusted_authserv_ids: Vec<String>,
    /// BIMI (off by default: [`bimi::Config::enabled`]): when enabled, a
    /// message that DMARC lets through gets a `bimi=` result, the
    /// BIMI-Location field to insert and the incoming receiver-only BIMI
    /// fields to remove (see [`Verdict::bimi`]).
    pub bimi: bimi::Config,
    /// ARC chain validation (RFC 8617): `Some` validates the chain of
    /// every checked message and reports `arc=` in Authentication-Results
    /// (with `smtp.remote-ip`, and `header.oldest-pass` when
    /// [`arc::Config::oldest_pass`] is set). Default `None`.
    pub arc: Option<arc::Config>,
    /// ARC sealers (the `d=` of an ARC-Seal) whose passing chain may set a
    /// DMARC failure aside (RFC 8617 §7.2.1): when the chain passes and a
    /// set one of them sealed recorded `dmarc=pass`, the disposition is
    /// `none` and the DMARC outcome says why
    /// ([`dmarc::Outcome::policy_override`], see
    /// [`arc::trusted_override`]). Default empty.
    pub trusted_arc_sealers: Vec<Name>,
}

impl Config {
    /// Defaults for `authserv_id` at `now`.
    pub fn new(authserv_id: impl Into<String>, now: u64) -> Config {
        Config {
            authserv_id: authserv_id.into(),
            spf: spf::Config::default(),
            dkim: VerifyConfig::default(),
            dmarc: dmarc::Config::default(),
            now,
            check_helo: true,
            skip_authenticated: true,
            internal_networks: Vec::new(),
            trusted_authserv_ids: Vec::new(),
            bimi: bimi::Config::default(),
            arc: None,
            trusted_arc_sealers: Vec::new(),
        }
    }
}

/// Why a message was not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skipped {
    /// The client authenticated and [`Config::skip_authenticated`] is set.
    Authenticated,
    /// The connection was marked [`Connection::internal`].
    Internal,
    /// The client address is in one of [`Config::internal_networks`].
    InternalNetwork(Network),
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skipped::Authenticated => f.write_str("authenticated client"),
            Skipped::Internal => f.write_str("internal client"),
            Skipped::InternalNetwork(network) => write!(f, "client in internal network {network}"),
        }
    }
}

/// A header field of the message the MTA should remove.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExistingField {
    /// Its position among all header fields, from 0 at the top.
    pub position: usize,
    /// Which field of its name (Authentication-Results, or the BIMI field
    /// it is in [`Verdict::bimi_remove`]) it is, from 1 at the top (the
    /// index a milter passes to `smfi_chgheader`).
    pub occurrence: usize,
    /// The field.
    pub field: HeaderField,
}

/// The outcome of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// Set when the message was not checked; all results are then empty.
    pub skipped: Option<Skipped>,
    /// SPF for the HELO name (when [`Config::check_helo`]).
    pub spf_helo: Option<spf::Outcome>,
    /// SPF for the MAIL FROM address (for `postmaster@<helo>` when it is
    /// empty).
    pub spf_mail_from: Option<spf::Outcome>,
    /// DKIM: one result per signature, in message order, and whether the
    /// header was complete and within bounds.
    pub dkim: Option<Verification>,
    /// DMARC: the result, the policy that applied, which identifiers
    /// aligned.
    pub dmarc: Option<dmarc::Outcome>,
    /// What DMARC asks the receiver to do with the message
    /// ([`Disposition::None`] when skipped or without DMARC policy). The
    /// receiver decides; a domain in testing mode gets `None` here.
    pub disposition: Disposition,
    /// The field to prepend; `None` when skipped.
    pub authentication_results: Option<AuthenticationResults>,
    /// Existing Authentication-Results fields that claim our authserv-id:
    /// forgeries to remove before prepending ours (RFC 8601 §5).
    pub remove: Vec<ExistingField>,
    /// The header went past the bounds of [`Config::dkim`]
    /// (`max_header_fields`, `max_header_bytes`): the fields after the bound
    /// were not read, so forgeries among them are not in
    /// [`remove`](Self::remove). An MTA should refuse such a message.
    pub header_error: Option<HeaderError>,
    /// The Authentication-Results fields from trusted authserv-ids.
    pub trusted_results: Vec<AuthenticationResults>,
    /// BIMI, when [`Config::bimi`] is enabled and DMARC gave an outcome:
    /// `skipped` unless DMARC passed at enforcement. Its `bimi=` entry is
    /// in [`authentication_results`](Self::authentication_results).
    pub bimi: Option<bimi::Outcome>,
    /// The value of the BIMI-Location field ([`bimi::LOCATION_FIELD`]) to
    /// insert for a BIMI `pass`, once the caller has fetched and validated
    /// the Indicator (see [`bimi::Outcome::reject_indicator`] when that
    /// fails).
    pub bimi_location: Option<String>,
    /// With BIMI enabled, the incoming BIMI-Location, BIMI-Indicator and
    /// BIMI-Logo-Preference fields: only the receiver may write them, so
    /// they are to be removed whatever the result.
    pub bimi_remove: Vec<ExistingField>,
    /// ARC: the chain's validation (when [`Config::arc`] is set and the
    /// message was checked).
    pub arc: Option<arc::Outcome>,
}

impl Verdict {
    /// A verdict of nothing: the start of a check's, and what is left
    /// behind where one was taken out.
    fn empty() -> Verdict {
        Verdict {
            skipped: None,
            spf_helo: None,
            spf_mail_from: None,
            dkim: None,
            dmarc: None,
            disposition: Disposition::None,
            authentication_results: None,
            remove: Vec::new(),
            header_error: None,
            trusted_results: Vec::new(),
            bimi: None,
            bimi_location: None,
            bimi_remove: Vec::new(),
            arc: None,
        }
    }

    /// The Authentication-Results field to prepend, folded, without final
    /// CRLF; `None` when skipped.
    pub fn header_field(&self) -> Option<String> {
        self.authentication_results
            .as_ref()
            .map(AuthenticationResults::to_header_field)
    }

    /// The caller's Indicator validation (fetching the SVG, checking the
    /// mark certificate, which the core leaves to it) failed: BIMI's
    /// `pass` becomes `fail` with `why` as reason
    /// ([`bimi::Outcome::reject_indicator`]), no BIMI-Location is to be
    /// inserted, and the `bimi=` entry of
    /// [`authentication_results`](Self::authentication_results) says so.
    /// Nothing changes for another result.
    pub fn reject_bimi_indicator(&mut self, why: impl Into<String>) {
        let Some(outcome) = &mut self.bimi else {
            return;
        };
        if outcome.result != bimi::BimiResult::Pass {
            return;
        }
        outcome.reject_indicator(why);
        self.bimi_location = None;
        let entry = outcome.to_method_result();
        if let Some(ar) = &mut self.authentication_results
            && let Some(old) = ar.results.iter_mut().find(|r| r.is_method("bimi"))
        {
            *old = entry;
        }
    }
}

/// Reads one message for the pipeline: feed it, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct Inbound {
    connection: Connection,
    config: Config,
    reading: Reading,
    skipped: Option<Skipped>,
    dmarc_sample: Sample,
    spf_given: Option<GivenSpf>,
    arc: Option<arc::Validator>,
}

/// SPF results decided before the message (at HELO and MAIL FROM).
#[derive(Debug, Clone)]
struct GivenSpf {
    helo: Option<spf::Outcome>,
    mail_from: spf::Outcome,
}

/// How the message is read: by the DKIM verifier, which keeps the header
/// fields for the other checks, or (for a skipped message, which is not
/// verified) by a header reader alone. Either way the header is scanned
/// once.
#[derive(Debug)]
enum Reading {
    Verify(Verifier),
    HeaderOnly(MessageReader),
}

impl Inbound {
    /// A pipeline for one message received over `connection`.
    pub fn new(connection: &Connection, config: &Config) -> Inbound {
        let skipped = if connection.internal {
            Some(Skipped::Internal)
        } else if config.skip_authenticated && connection.authenticated {
            Some(Skipped::Authenticated)
        } else {
            config
                .internal_networks
                .iter()
                .find(|n| n.contains(connection.client_ip))
                .map(|n| Skipped::InternalNetwork(*n))
        };
        let reading = if skipped.is_none() {
            Reading::Verify(Verifier::new(&config.dkim, config.now))
        } else {
            Reading::HeaderOnly(MessageReader::new(HeaderLimits {
                max_fields: config.dkim.max_header_fields,
                max_bytes: config.dkim.max_header_bytes,
            }))
        };
        let arc = match (&skipped, &config.arc) {
            (None, Some(arc)) => Some(arc::Validator::new(arc)),
            _ => None,
        };
        Inbound {
            connection: connection.clone(),
            config: config.clone(),
            reading,
            skipped,
            dmarc_sample: Sample::ALWAYS,
            spf_given: None,
            arc,
        }
    }

    /// SPF results decided already, as an MTA does at HELO and MAIL FROM
    /// to refuse a failing sender before the message: the pipeline uses
    /// them instead of checking SPF again (the HELO result `None` when it
    /// was not checked).
    pub fn with_spf(mut self, helo: Option<spf::Outcome>, mail_from: spf::Outcome) -> Inbound {
        self.spf_given = Some(GivenSpf { helo, mail_from });
        self
    }

    /// The random draw for the `pct` tag of RFC 7489 mode (see
    /// [`Sample`]). Default [`Sample::ALWAYS`] (the policy always applies).
    /// The core reads no randomness of its own.
    pub fn with_dmarc_sample(mut self, sample: Sample) -> Inbound {
        self.dmarc_sample = sample;
        self
    }

    /// Feeds the next chunk of the message.
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(arc) = &mut self.arc {
            arc.feed(chunk);
        }
        match &mut self.reading {
            Reading::Verify(verifier) => verifier.feed(chunk),
            Reading::HeaderOnly(reader) => {
                if !reader.header_complete() {
                    reader.feed(chunk);
                }
            }
        }
    }

    /// Ends the message: the returned machine runs the checks.
    pub fn finish(self) -> InboundCheck {
        let (dkim, fields, header_error) = match self.reading {
            Reading::Verify(verifier) => {
                let (check, fields) = verifier.finish_with_fields();
                let header_error = check.header_error();
                (Some(check), fields, header_error)
            }
            Reading::HeaderOnly(mut reader) => {
                reader.finish();
                (None, reader.take_fields(), reader.error())
            }
        };
        let mut remove = Vec::new();
        let mut occurrence = 0;
        for (position, field) in fields.iter().enumerate() {
            if field.is_named(authres::FIELD_NAME.as_bytes()) {
                occurrence += 1;
                if authres::is_forged(field, &self.config.authserv_id) {
                    remove.push(ExistingField {
                        position,
                        occurrence,
                        field: field.clone(),
                    });
                }
            }
        }
        // Forgeries are left out even when our own id is trusted.
        let trusted_results = if self.config.trusted_authserv_ids.is_empty() {
            Vec::new()
        } else {
            let kept: Vec<HeaderField> = fields
                .iter()
                .enumerate()
                .filter(|(i, _)| !remove.iter().any(|r| r.position == *i))
                .map(|(_, f)| f.clone())
                .collect();
            authres::trusted_results(&kept, &self.config.trusted_authserv_ids)
        };
        let (bimi_remove, bimi_fields) = bimi_fields(&fields, &self.config);
        let trusted = TrustedPasses::from_results(&trusted_results);
        // What the verdict holds before any check has run.
        let verdict = |skipped| Verdict {
            skipped,
            remove,
            header_error,
            trusted_results,
            bimi_remove,
            ..Verdict::empty()
        };
        if self.skipped.is_some() {
            return InboundCheck {
                config: self.config.into(),
                client_ip: self.connection.client_ip,
                spf_helo: Stage::Off,
                spf_mail_from: Stage::Off,
                dkim: Stage::Off,
                arc: Stage::Off,
                dmarc: Stage::Off,
                pending: Vec::new(),
                verdict: verdict(self.skipped.clone()),
                trusted: TrustedPasses::default(),
                arc_fields: Vec::new(),
                author: None,
                done: true,
                bimi: None,
                bimi_fields: Vec::new(),
            };
        }
        let ip = self.connection.client_ip;
        let now = self.config.now;
        // The HELO check, when it runs, copies the name; the MAIL FROM
        // check takes the connection's strings.
        let helo_input = (self.spf_given.is_none() && self.config.check_helo)
            .then(|| spf::Input::helo(ip, &self.connection.helo).at(now));
        let input =
            spf::Input::mail_from_owned(ip, self.connection.helo, self.connection.mail_from)
                .at(now);
        // The domains SPF and DKIM may authenticate, whose Organizational
        // Domains DMARC alignment needs, looked up with the policy.
        // Room for the usual ones: the MAIL FROM domain and a signing
        // domain or two.
        let mut identifiers: smallvec::SmallVec<[Name; 4]> = smallvec::SmallVec::new();
        identifiers.extend(Name::new(input.domain()).ok());
        let (spf_helo, spf_mail_from) = match self.spf_given {
            Some(given) => (
                given.helo.map_or(Stage::Off, Stage::Done),
                Stage::Done(given.mail_from),
            ),
            None => (
                match helo_input {
                    Some(input) => Stage::running(spf::Check::from_input(input, &self.config.spf)),
                    None => Stage::Off,
                },
                Stage::running(spf::Check::from_input(input, &self.config.spf)),
            ),
        };
        if let Some(check) = &dkim {
            identifiers.extend(check.signing_domains().cloned());
        }
        identifiers.extend(trusted.spf.iter().chain(&trusted.dkim).cloned());
        let author = dmarc::author_domain_with(&fields, &self.config.dmarc);
        // What a trusted ARC sealer recorded is read only when one may
        // set a DMARC failure aside.
        let arc_fields = if self.arc.is_some() && !self.config.trusted_arc_sealers.is_empty() {
            fields
                .iter()
                .filter(|f| f.is_named(arc::ArcField::AuthenticationResults.name().as_bytes()))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let dmarc = Stage::running(dmarc::PolicyCheck::new(
            author.clone(),
            &identifiers,
            &self.config.dmarc,
            self.dmarc_sample,
        ));
        InboundCheck {
            config: self.config.into(),
            client_ip: ip,
            spf_helo,
            spf_mail_from,
            dkim: dkim.map_or(Stage::Off, Stage::running),
            arc: self.arc.map_or(Stage::Off, |v| Stage::running(v.finish())),
            dmarc,
            // Room for a first round: the two SPF records, the DKIM keys,
            // the `_dmarc` names.
            pending: Vec::with_capacity(8),
            verdict: verdict(None),
            trusted,
            arc_fields,
            author: author.ok(),
            done: false,
            bimi: None,
            bimi_fields,
        }
    }
}

/// The passing SPF and DKIM results of trusted Authentication-Results
/// fields, as the domains they authenticated.
#[derive(Debug, Clone, Default)]
struct TrustedPasses {
    /// `spf=pass`: the domain of `smtp.mailfrom`.
    spf: Vec<Name>,
    /// `dkim=pass`: `header.d`.
    dkim: Vec<Name>,
}

impl TrustedPasses {
    fn from_results(fields: &[AuthenticationResults]) -> TrustedPasses {
        let mut passes = TrustedPasses::default();
        for result in fields.iter().flat_map(|f| &f.results) {
            if result.is_method("spf") && result.result.parse() == Ok(spf::SpfResult::Pass) {
                let domain = result
                    .property("smtp", "mailfrom")
                    .map(|from| from.rsplit_once('@').map_or(from, |(_, domain)| domain))
                    .and_then(|domain| Name::new(domain).ok());
                passes.spf.extend(domain);
            } else if result.is_method("dkim") && result.result.parse() == Ok(DkimResult::Pass) {
                passes.dkim.extend(
                    result
                        .property("header", "d")
                        .and_then(|d| Name::new(d).ok()),
                );
            }
        }
        passes
    }
}

/// One check inside the pipeline.
#[derive(Debug, Clone)]
enum Stage<M: Machine> {
    /// Not run.
    Off,
    /// Boxed: the pipeline moves its stages as it goes, and a check may be
    /// a kilobyte.
    Running(Box<M>),
    Done(M::Output),
}

impl<M: Machine> Stage<M> {
    fn running(machine: M) -> Stage<M> {
        Stage::Running(Box::new(machine))
    }

    /// Advances a running check; adds its queries to `pending` (`asked`
    /// is room for them, left empty).
    fn poll(&mut self, part: Part, pending: &mut Vec<Pending>, asked: &mut Vec<Query>) {
        let Stage::Running(machine) = self else {
            return;
        };
        asked.clear();
        match machine.progress(asked) {
            Progress::Done => {
                // Taken where the check is, when the check can give it so
                // (its box goes when the stage is overwritten).
                if let Some(output) = machine.take_output() {
                    *self = Stage::Done(output);
                    return;
                }
                // The outcome is moved into the stage, not copied.
                if let Stage::Running(machine) = std::mem::replace(self, Stage::Off) {
                    *self = match machine.into_output_boxed() {
                        Ok(output) => Stage::Done(output),
                        Err(unfinished) => Stage::Running(unfinished),
                    };
                }
            }
            Progress::Waiting => {
                for query in asked.drain(..) {
                    match pending.iter_mut().find(|p| p.query == query) {
                        Some(p) => p.parts.add(part),
                        None => pending.push(Pending {
                            query,
                            parts: Parts::of(part),
                            answered: false,
                        }),
                    }
                }
            }
        }
    }

    /// The outcome, moved out of a finished stage (which is then off).
    fn take_output(&mut self) -> Option<M::Output> {
        match std::mem::replace(self, Stage::Off) {
            Stage::Done(output) => Some(output),
            other => {
                *self = other;
                None
            }
        }
    }

    fn supply(&mut self, query: &Query, answer: Arc<Answer>) {
        if let Stage::Running(machine) = self {
            // The check asked for this query, so it takes the answer.
            let _ = machine.supply_shared(query, answer);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    SpfHelo,
    SpfMailFrom,
    Dkim,
    Arc,
    Dmarc,
    Bimi,
}

/// A query of the current round and which checks wait for it.
#[derive(Debug, Clone)]
struct Pending {
    query: Query,
    parts: Parts,
    answered: bool,
}

/// The checks waiting for one query: a set of [`Part`]s as bits.
#[derive(Debug, Clone, Copy, Default)]
struct Parts(u8);

impl Parts {
    fn of(part: Part) -> Parts {
        Parts(part.bit())
    }

    fn add(&mut self, part: Part) {
        self.0 |= part.bit();
    }

    fn iter(self) -> impl Iterator<Item = Part> {
        Part::ALL.into_iter().filter(move |p| self.0 & p.bit() != 0)
    }
}

impl Part {
    const ALL: [Part; 6] = [
        Part::SpfHelo,
        Part::SpfMailFrom,
        Part::Dkim,
        Part::Arc,
        Part::Dmarc,
        Part::Bimi,
    ];

    fn bit(self) -> u8 {
        match self {
            Part::SpfHelo => 1,
            Part::SpfMailFrom => 2,
            Part::Dkim => 4,
            Part::Arc => 8,
            Part::Dmarc => 16,
            Part::Bimi => 32,
        }
    }
}

/// What of the [`Config`] the checks still read once the message is in:
/// the machine is moved as it is driven, so it carries no more than this.
#[derive(Debug, Clone)]
struct CheckConfig {
    authserv_id: String,
    trusted_arc_sealers: Vec<Name>,
    dmarc: dmarc::Config,
    bimi: bimi::Config,
}

impl From<Config> for CheckConfig {
    fn from(config: Config) -> CheckConfig {
        CheckConfig {
            authserv_id: config.authserv_id,
            trusted_arc_sealers: config.trusted_arc_sealers,
            dmarc: config.dmarc,
            bimi: config.bimi,
        }
    }
}

/// The checks of one message: a [`Machine`] whose output is the
/// [`Verdict`]. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct InboundCheck {
    config: CheckConfig,
    client_ip: IpAddr,
    spf_helo: Stage<spf::Check>,
    spf_mail_from: Stage<spf::Check>,
    dkim: Stage<VerifyCheck>,
    arc: Stage<arc::Validation>,
    dmarc: Stage<dmarc::PolicyCheck>,
    pending: Vec<Pending>,
    verdict: Verdict,
    /// What the trusted Authentication-Results fields passed.
    trusted: TrustedPasses,
    /// The ARC-Authentication-Results fields, when trusted sealers are
    /// configured.
    arc_fields: Vec<HeaderField>,
    /// The Author Domain, for what a trusted ARC sealer recorded.
    author: Option<Name>,
    done: bool,
    /// BIMI, started once DMARC has an outcome.
    bimi: Option<Stage<bimi::Check>>,
    /// The header fields BIMI reads (From, DKIM-Signature, BIMI-Selector).
    bimi_fields: Vec<HeaderField>,
}

impl InboundCheck {
    /// Polls every running check once, gathering the next round of queries.
    fn advance(&mut self) {
        self.pending.clear();
        // Room for each check's queries, kept by the thread between rounds.
        let mut asked = crate::machine::QueryList::take();
        let asked = &mut *asked;
        self.spf_helo.poll(Part::SpfHelo, &mut self.pending, asked);
        self.spf_mail_from
            .poll(Part::SpfMailFrom, &mut self.pending, asked);
        self.dkim.poll(Part::Dkim, &mut self.pending, asked);
        self.arc.poll(Part::Arc, &mut self.pending, asked);
        self.dmarc.poll(Part::Dmarc, &mut self.pending, asked);
        if let Some(bimi) = &mut self.bimi {
            bimi.poll(Part::Bimi, &mut self.pending, asked);
        }
    }

    /// Moves the outcomes of the checks into the verdict and writes its
    /// Authentication-Results; once (BIMI, which comes after, adds to it).
    fn conclude(&mut self) {
        if self.verdict.authentication_results.is_some() {
            self.done = true;
            return;
        }
        self.verdict.spf_helo = self.spf_helo.take_output();
        self.verdict.spf_mail_from = self.spf_mail_from.take_output();
        self.verdict.dkim = self.dkim.take_output();
        self.verdict.arc = self.arc.take_output();
        if let Some(policy) = self.dmarc.take_output() {
            let trusted = &self.trusted;
            let own_spf = self
                .verdict
                .spf_mail_from
                .as_ref()
                .and_then(SpfAuth::from_outcome);
            // A trusted SPF pass stands in when this hop's own check did
            // not pass (this hop's client is then the trusted relay).
            let spf = match own_spf {
                Some(own) if own.result == spf::SpfResult::Pass => Some(own),
                own => trusted
                    .spf
                    .first()
                    .map(|domain| SpfAuth {
                        domain: domain.clone(),
                        result: spf::SpfResult::Pass,
                    })
                    .or(own),
            };
            // A signature or two, held inline.
            let mut dkim: smallvec::SmallVec<[DkimAuth; 2]> = smallvec::SmallVec::new();
            if let Some(verification) = &self.verdict.dkim {
                dkim.extend(DkimAuth::signatures(verification));
            }
            dkim.extend(trusted.dkim.iter().map(|domain| DkimAuth {
                domain: domain.clone(),
                result: DkimResult::Pass,
            }));
            let mut outcome = policy.evaluate(spf.as_ref(), &dkim);
            if outcome.disposition != Disposition::None {
                let set_aside = self.verdict.arc.as_ref().and_then(|chain| {
                    arc::trusted_override(
                        chain,
                        &self.arc_fields,
                        &self.config.trusted_arc_sealers,
                        self.author.as_ref(),
                    )
                });
                if let Some(reason) = set_aside {
                    outcome.set_aside(reason);
                }
            }
            self.verdict.disposition = outcome.disposition;
            self.verdict.dmarc = Some(outcome);
        }
        // The field is written once: the check's own copy of the id is
        // not read again.
        let mut ar = AuthenticationResults::new(std::mem::take(&mut self.config.authserv_id));
        // Room for the usual entries: SPF twice, a signature or two, ARC,
        // DMARC.
        ar.results.reserve(6);
        if let Some(outcome) = &self.verdict.spf_mail_from {
            ar.results.push(outcome.to_method_result());
        }
        if let Some(outcome) = &self.verdict.spf_helo {
            ar.results.push(outcome.to_method_result());
        }
        if let Some(verification) = &self.verdict.dkim {
            if verification.signatures.is_empty() {
                ar.results.extend(verification.to_method_results());
            } else {
                ar.results.extend(
                    verification
                        .signatures
                        .iter()
                        .map(crate::dkim::SignatureResult::to_method_result),
                );
            }
        }
        if let Some(chain) = &self.verdict.arc {
            let mut result = chain.to_method_result();
            result.properties.insert(
                0,
                authres::Property::new(
                    "smtp",
                    "remote-ip",
                    smol_str::format_smolstr!("{}", self.client_ip),
                ),
            );
            ar.results.push(result);
        }
        if let Some(outcome) = &self.verdict.dmarc {
            ar.results.push(outcome.to_method_result());
        }
        self.verdict.authentication_results = Some(ar);
        self.done = true;
    }
}

impl Machine for InboundCheck {
    type Output = Verdict;

    fn poll(&mut self) -> Poll<Verdict> {
        let mut queries = Vec::new();
        match self.progress(&mut queries) {
            Progress::Waiting => Poll::Lookups(queries),
            Progress::Done => Poll::Done(self.verdict.clone()),
        }
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        while !self.done {
            let before = queries.len();
            queries.extend(
                self.pending
                    .iter()
                    .filter(|p| !p.answered)
                    .map(|p| p.query.clone()),
            );
            if queries.len() > before {
                return Progress::Waiting;
            }
            self.advance();
            if self.pending.is_empty() {
                self.conclude();
                self.bimi_step();
            }
        }
        Progress::Done
    }

    fn into_output(mut self) -> Result<Verdict, InboundCheck> {
        match self.progress(&mut Vec::new()) {
            Progress::Done => Ok(self.verdict),
            Progress::Waiting => Err(self),
        }
    }

    fn take_output(&mut self) -> Option<Verdict> {
        // The verdict is taken as it is once the pipeline is done; an
        // empty one stays behind in the spent check.
        self.done
            .then(|| std::mem::replace(&mut self.verdict, Verdict::empty()))
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.supply_shared(query, Arc::new(answer))
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        let Some(pending) = self
            .pending
            .iter_mut()
            .find(|p| !p.answered && p.query == *query)
        else {
            return Err(UnexpectedAnswer {
                query: query.clone(),
            });
        };
        pending.answered = true;
        // Each check waiting for the query gets the answer, the last one
        // the caller's own reference: no reference count is touched when
        // one check waits, as most often.
        let mut parts = pending.parts.iter().peekable();
        let mut answer = Some(answer);
        while let Some(part) = parts.next() {
            let answer = match parts.peek() {
                Some(_) => answer.clone(),
                None => answer.take(),
            };
            let Some(answer) = answer else { break };
            match part {
                Part::SpfHelo => self.spf_helo.supply(query, answer),
                Part::SpfMailFrom => self.spf_mail_from.supply(query, answer),
                Part::Dkim => self.dkim.supply(query, answer),
                Part::Arc => self.arc.supply(query, answer),
                Part::Dmarc => self.dmarc.supply(query, answer),
                Part::Bimi => {
                    if let Some(bimi) = &mut self.bimi {
                        bimi.supply(query, answer);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The incoming receiver-only BIMI fields to remove, and the fields the
/// BIMI check reads; both empty with BIMI off.
fn bimi_fields(fields: &[HeaderField], config: &Config) -> (Vec<ExistingField>, Vec<HeaderField>) {
    if !config.bimi.enabled {
        return (Vec::new(), Vec::new());
    }
    let remove = bimi::receiver_fields(fields)
        .into_iter()
        .filter_map(|found| {
            Some(ExistingField {
                position: found.position,
                occurrence: found.occurrence,
                field: fields.get(found.position)?.clone(),
            })
        })
        .collect();
    let read = [
        &b"from"[..],
        b"dkim-signature",
        bimi::SELECTOR_FIELD.as_bytes(),
    ];
    let kept = fields
        .iter()
        .filter(|f| read.iter().any(|name| f.is_named(name)))
        .cloned()
        .collect();
    (remove, kept)
}

impl InboundCheck {
    /// After the other checks: starts BIMI once DMARC has an outcome, and
    /// once BIMI has finished, adds its result to the verdict (the
    /// Authentication-Results field was rebuilt by `conclude`).
    fn bimi_step(&mut self) {
        if !self.config.bimi.enabled {
            return;
        }
        match &self.bimi {
            None => {
                if let Some(dmarc) = &self.verdict.dmarc {
                    let check = bimi::Check::from_message(
                        &self.bimi_fields,
                        dmarc,
                        &self.config.dmarc,
                        &self.config.bimi,
                    );
                    self.bimi = Some(Stage::running(check));
                    self.done = false;
                }
            }
            Some(Stage::Done(outcome)) => {
                if let Some(ar) = &mut self.verdict.authentication_results {
                    ar.results.push(outcome.to_method_result());
                }
                self.verdict.bimi_location = outcome.location_field();
                self.verdict.bimi = Some(outcome.clone());
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dkim::crypto::SigningKey;
    use crate::dkim::keygen::KeyRecord;
    use crate::dkim::sign::{SignOptions, Signer};
    use crate::dkim::verify::DkimResult;
    use crate::dns::{Name, RecordType, Resolver, ZoneResolver};

    const NOW: u64 = 1_700_000_000;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// example.org and example.com both sign with selector `sel`; example.org
    /// allows 192.0.2.0/24 to send.
    fn setup() -> (ZoneResolver, Vec<Signer>) {
        let mut zone = ZoneResolver::new();
        zone.add_txt(&name("example.org"), "v=spf1 ip4:192.0.2.0/24 -all");
        zone.add_txt(&name("mx.example.org"), "v=spf1 a -all");
        zone.add_txt(&name("_dmarc.example.org"), "v=DMARC1; p=reject");
        zone.add(
            &name("mx.example.org"),
            crate::dns::RecordData::A("192.0.2.10".parse().unwrap()),
        );
        let mut signers = Vec::new();
        for (i, domain) in ["example.org", "example.com"].into_iter().enumerate() {
            let key = SigningKey::from_ed25519_seed(&[i as u8 + 1; 32]).unwrap();
            zone.add_txt(
                &name(&format!("sel._domainkey.{domain}")),
                KeyRecord::for_key(&key).text(),
            );
            signers
                .push(Signer::new(domain, "sel", Arc::new(key), SignOptions::default()).unwrap());
        }
        (zone, signers)
    }

    fn message(signers: &[Signer], extra: &str) -> Vec<u8> {
        let plain = format!(
            "{extra}From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nHello.\r\n"
        );
        let mut out = String::new();
        for signer in signers {
            let field = signer.sign(plain.as_bytes(), NOW).unwrap();
            out.push_str(&field.to_header_line());
        }
        out.push_str(&plain);
        out.into_bytes()
    }

    fn run(connection: &Connection, config: &Config, message: &[u8]) -> InboundCheck {
        let mut inbound = Inbound::new(connection, config);
        // Any split gives the same result.
        for chunk in message.chunks(7) {
            inbound.feed(chunk);
        }
        inbound.finish()
    }

    fn connection() -> Connection {
        Connection::new(
            "192.0.2.10".parse().unwrap(),
            "mx.example.org",
            "alice@example.org",
        )
    }

    #[test]
    fn first_poll_asks_everything_at_once() {
        let (zone, signers) = setup();
        let config = Config::new("mx.example.net", NOW);
        let mut check = run(&connection(), &config, &message(&signers, ""));
        let Poll::Lookups(first) = check.poll() else {
            panic!("expected lookups");
        };
        let mut names: Vec<String> = first.iter().map(|q| q.to_string()).collect();
        names.sort();
        // SPF (HELO, MAIL FROM), both DKIM keys, the DMARC tree walk of the
        // From domain and the Organizational Domain walk of the other
        // DKIM domain.
        let mut expected: Vec<String> = [
            "example.org",
            "mx.example.org",
            "sel._domainkey.example.org",
            "sel._domainkey.example.com",
            "_dmarc.example.org",
            "_dmarc.org",
            "_dmarc.example.com",
            "_dmarc.com",
        ]
        .iter()
        .map(|n| Query::txt(name(n)).to_string())
        .collect();
        expected.sort();
        assert_eq!(names, expected);
        // Polling again before answering returns the same queries.
        assert_eq!(check.poll(), Poll::Lookups(first.clone()));
        let verdict = crate::resolve(check, &zone);
        assert_eq!(
            verdict.spf_mail_from.as_ref().unwrap().result,
            spf::SpfResult::Pass
        );
        assert_eq!(
            verdict.spf_helo.as_ref().unwrap().result,
            spf::SpfResult::Pass
        );
        let dkim = verdict.dkim.as_ref().unwrap();
        assert_eq!(dkim.signatures.len(), 2);
        assert!(dkim.signatures.iter().all(|s| s.result == DkimResult::Pass));
        let field = verdict.header_field().unwrap();
        assert!(
            field.starts_with("Authentication-Results: mx.example.net; spf=pass"),
            "{field}"
        );
        let ar = AuthenticationResults::parse(field.split_once(':').unwrap().1.as_bytes()).unwrap();
        let methods: Vec<&str> = ar.results.iter().map(|r| &*r.method).collect();
        assert_eq!(methods, ["spf", "spf", "dkim", "dkim", "dmarc"]);
        let dmarc = verdict.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Pass);
        assert_eq!(verdict.disposition, Disposition::None);
        assert!(verdict.skipped.is_none() && verdict.remove.is_empty());
    }

    #[test]
    fn a_query_two_checks_need_is_asked_once() {
        let (zone, _) = setup();
        // A bounce: MAIL FROM checks postmaster@<helo>, the same record as HELO.
        let connection = Connection::new("192.0.2.10".parse().unwrap(), "mx.example.org", "<>");
        let config = Config::new("mx.example.net", NOW);
        let mut check = run(&connection, &config, b"From: a@example.org\r\n\r\nx\r\n");
        let Poll::Lookups(first) = check.poll() else {
            panic!("expected lookups");
        };
        // Once, though both SPF checks need it (the rest is DMARC).
        let spf_queries: Vec<&Query> = first
            .iter()
            .filter(|q| !q.name.as_str().starts_with("_dmarc"))
            .collect();
        assert_eq!(spf_queries, [&Query::txt(name("mx.example.org"))]);
        let query = &first[0];
        check.supply(query, zone.lookup(query)).unwrap();
        assert!(check.supply(query, zone.lookup(query)).is_err());
        assert_eq!(check.poll(), Poll::Lookups(first[1..].to_vec()));
        for query in &first[1..] {
            check.supply(query, zone.lookup(query)).unwrap();
        }
        let Poll::Lookups(second) = check.poll() else {
            panic!("expected lookups");
        };
        assert_eq!(
            second,
            vec![Query::new(name("mx.example.org"), RecordType::A)]
        );
        let verdict = crate::resolve(check, &zone);
        assert_eq!(verdict.spf_helo.unwrap().result, spf::SpfResult::Pass);
        assert_eq!(verdict.spf_mail_from.unwrap().result, spf::SpfResult::Pass);
        assert!(verdict.dkim.unwrap().signatures.is_empty());
    }

    #[test]
    fn skips_authenticated_and_internal_clients() {
        let (zone, signers) = setup();
        let forged = "Authentication-Results: mx.example.net; dkim=pass header.d=bank.example\r\n";
        let message = message(&signers, forged);
        let mut config = Config::new("mx.example.net", NOW);
        config.internal_networks = vec![
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ];
        let mut authenticated = connection();
        authenticated.authenticated = true;
        let mut internal = connection();
        internal.internal = true;
        let mut in_network = connection();
        in_network.client_ip = "::ffff:10.1.2.3".parse().unwrap();
        for (connection, expected) in [
            (authenticated.clone(), Skipped::Authenticated),
            (internal, Skipped::Internal),
            (
                in_network,
                Skipped::InternalNetwork("10.0.0.0/8".parse().unwrap()),
            ),
        ] {
            let mut check = run(&connection, &config, &message);
            // Nothing to ask.
            let Poll::Done(verdict) = check.poll() else {
                panic!("expected a verdict at once");
            };
            assert_eq!(verdict.skipped, Some(expected));
            assert!(verdict.spf_mail_from.is_none() && verdict.dkim.is_none());
            assert_eq!(verdict.header_field(), None);
            // Forgeries are removed all the same.
            assert_eq!(verdict.remove.len(), 1);
        }
        config.skip_authenticated = false;
        let verdict = crate::resolve(run(&authenticated, &config, &message), &zone);
        assert_eq!(verdict.skipped, None);
        assert!(verdict.header_field().is_some());
    }

    #[test]
    fn forged_fields_removed_trusted_fields_read() {
        let (zone, signers) = setup();
        let extra = "Authentication-Results: border.example.net; spf=pass smtp.mailfrom=alice@example.org\r\n\
                     Received: from somewhere\r\n\
                     Authentication-Results: MX.example.NET (forged); dkim=pass header.d=bank.example\r\n\
                     Authentication-Results: mx.example.net; broken ((\r\n\
                     Authentication-Results: elsewhere.example; dmarc=pass header.from=example.org\r\n";
        let mut config = Config::new("mx.example.net", NOW);
        config.trusted_authserv_ids = vec!["border.example.net".into(), "mx.example.net".into()];
        let verdict = crate::resolve(
            run(&connection(), &config, &message(&signers, extra)),
            &zone,
        );
        let removed: Vec<(usize, usize)> = verdict
            .remove
            .iter()
            .map(|r| (r.position, r.occurrence))
            .collect();
        // Two DKIM-Signature fields come first.
        assert_eq!(removed, [(4, 2), (5, 3)]);
        assert!(
            verdict.remove[0]
                .field
                .raw()
                .starts_with(b"Authentication-Results: MX.example.NET")
        );
        // Our own id is trusted, but the forgeries were removed first.
        assert_eq!(verdict.trusted_results.len(), 1);
        assert!(verdict.trusted_results[0].is_from("border.example.net"));
    }

    #[test]
    fn dmarc_reject_and_forwarded_mail() {
        let (zone, signers) = setup();
        let config = Config::new("mx.example.net", NOW);
        // A spoof from an address example.org does not use, unsigned.
        let spoofer = Connection::new(
            "198.18.0.1".parse().unwrap(),
            "spoof.example",
            "alice@example.org",
        );
        let verdict = crate::resolve(run(&spoofer, &config, &message(&[], "")), &zone);
        assert_eq!(
            verdict.spf_mail_from.as_ref().unwrap().result,
            spf::SpfResult::Fail
        );
        let dmarc = verdict.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Fail);
        assert_eq!(verdict.disposition, Disposition::Reject);
        assert!(verdict.header_field().unwrap().contains("dmarc=fail"));
        // The signed message through a forwarder: SPF fails, the aligned
        // DKIM signature carries DMARC.
        let verdict = crate::resolve(run(&spoofer, &config, &message(&signers[..1], "")), &zone);
        assert_eq!(
            verdict.spf_mail_from.as_ref().unwrap().result,
            spf::SpfResult::Fail
        );
        let dmarc = verdict.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Pass);
        assert_eq!(
            dmarc.aligned(),
            [dmarc::AlignedIdentifier::Dkim(name("example.org"))]
        );
        assert_eq!(verdict.disposition, Disposition::None);
        // No usable From: permerror, no DNS needed for DMARC.
        let verdict = crate::resolve(
            run(
                &spoofer,
                &config,
                b"From: a@example.org, b@example.com\r\n\r\nx\r\n",
            ),
            &zone,
        );
        assert_eq!(verdict.dmarc.unwrap().result, dmarc::DmarcResult::PermError);
    }

    #[test]
    fn trusted_passes_count_for_dmarc() {
        let (zone, _) = setup();
        // An inner hop: the client is the border relay, which example.org's
        // SPF does not list; the message is unsigned.
        let relay = Connection::new(
            "198.18.0.1".parse().unwrap(),
            "border.example.net",
            "alice@example.org",
        );
        let stamped = "Authentication-Results: border.example.net; spf=pass \
                       smtp.mailfrom=alice@example.org\r\n";
        let mut config = Config::new("mx.example.net", NOW);
        let untrusted = crate::resolve(run(&relay, &config, &message(&[], stamped)), &zone);
        assert_eq!(
            untrusted.dmarc.as_ref().unwrap().result,
            dmarc::DmarcResult::Fail
        );
        config.trusted_authserv_ids = vec!["border.example.net".into()];
        let trusted = crate::resolve(run(&relay, &config, &message(&[], stamped)), &zone);
        assert_eq!(
            trusted.spf_mail_from.as_ref().unwrap().result,
            spf::SpfResult::Fail
        );
        let dmarc = trusted.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Pass);
        assert_eq!(
            dmarc.aligned(),
            [dmarc::AlignedIdentifier::Spf(name("example.org"))]
        );
        assert_eq!(trusted.disposition, Disposition::None);
        // A trusted dkim=pass for an unrelated domain does not align.
        let other = "Authentication-Results: border.example.net; dkim=pass \
                     header.d=other.example\r\n";
        let verdict = crate::resolve(run(&relay, &config, &message(&[], other)), &zone);
        assert_eq!(
            verdict.dmarc.as_ref().unwrap().result,
            dmarc::DmarcResult::Fail
        );
    }

    #[test]
    fn header_past_its_bounds_is_reported() {
        let (zone, _) = setup();
        let mut config = Config::new("mx.example.net", NOW);
        config.dkim.max_header_fields = 3;
        let message = "From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\n\
                       Authentication-Results: mx.example.net; dkim=pass\r\n\r\nbody\r\n";
        let verdict = crate::resolve(run(&connection(), &config, message.as_bytes()), &zone);
        assert_eq!(
            verdict.header_error,
            Some(HeaderError::TooManyFields { limit: 3 })
        );
        assert!(verdict.remove.is_empty());
    }

    #[test]
    fn networks() {
        let net: Network = "192.0.2.0/24".parse().unwrap();
        assert!(net.contains("192.0.2.255".parse().unwrap()));
        assert!(!net.contains("192.0.3.0".parse().unwrap()));
        assert!(!net.contains("2001:db8::1".parse().unwrap()));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.1".parse().unwrap()));
        let host: Network = "2001:db8::1".parse().unwrap();
        assert_eq!(host.to_string(), "2001:db8::1/128");
        assert!(host.contains("2001:db8::1".parse().unwrap()));
        assert!(!host.contains("2001:db8::2".parse().unwrap()));
        assert_eq!(
            "10.0.0.0/33".parse::<Network>(),
            Err(NetworkError::PrefixTooLong {
                prefix_len: 33,
                max: 32
            })
        );
        assert!(matches!(
            "10.0.0/8".parse::<Network>(),
            Err(NetworkError::InvalidAddress(_))
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<Network>(),
            Err(NetworkError::InvalidPrefixLength(_))
        ));
    }

    #[test]
    fn bimi_end_to_end() {
        let (mut zone, signers) = setup();
        zone.add_txt(
            &name("default._bimi.example.org"),
            "v=BIMI1; l=https://images.example.org/logo.svg",
        );
        zone.add_txt(
            &name("brand._bimi.example.org"),
            "v=BIMI1; l=https://images.example.org/brand.svg; a=https://images.example.org/vmc.pem",
        );
        let forged = "BIMI-Location: v=BIMI1; l=https://evil.example/x.svg\r\n\
                      BIMI-Indicator: PHN2Zz4=\r\n";
        // Off by default: nothing BIMI in the verdict.
        let off = Config::new("mx.example.net", NOW);
        assert!(!off.bimi.enabled);
        let verdict = crate::resolve(
            run(&connection(), &off, &message(&signers[..1], forged)),
            &zone,
        );
        assert_eq!(verdict.bimi, None);
        assert_eq!(verdict.bimi_location, None);
        assert!(verdict.bimi_remove.is_empty());
        assert!(!verdict.header_field().unwrap().contains("bimi="));

        let mut on = Config::new("mx.example.net", NOW);
        on.bimi = crate::bimi::Config::enabled();
        // DMARC p=reject passes through the example.org signature.
        let verdict = crate::resolve(
            run(&connection(), &on, &message(&signers[..1], forged)),
            &zone,
        );
        assert_eq!(
            verdict.dmarc.as_ref().unwrap().result,
            dmarc::DmarcResult::Pass
        );
        let outcome = verdict.bimi.as_ref().unwrap();
        assert_eq!(outcome.result, crate::bimi::BimiResult::Pass);
        assert_eq!(
            verdict.bimi_location.as_deref(),
            Some("v=BIMI1; l=https://images.example.org/logo.svg")
        );
        let ar = verdict.authentication_results.as_ref().unwrap();
        let methods: Vec<&str> = ar.results.iter().map(|r| &*r.method).collect();
        assert_eq!(methods, ["spf", "spf", "dkim", "dmarc", "bimi"]);
        assert!(ar.to_header_value().ends_with(
            "; bimi=pass header.d=example.org header.selector=default \
             policy.authority=none \
             policy.indicator-uri=\"https://images.example.org/logo.svg\""
        ));
        let removed: Vec<(usize, usize)> = verdict
            .bimi_remove
            .iter()
            .map(|r| (r.position, r.occurrence))
            .collect();
        // After the DKIM-Signature field: BIMI-Location, BIMI-Indicator.
        assert_eq!(removed, [(1, 1), (2, 1)]);

        // The caller's Indicator check failed: fail, no BIMI-Location.
        let mut rejected = verdict.clone();
        rejected.reject_bimi_indicator("the SVG is not SVG Tiny PS");
        let outcome = rejected.bimi.as_ref().unwrap();
        assert_eq!(outcome.result, crate::bimi::BimiResult::Fail);
        assert_eq!(rejected.bimi_location, None);
        let ar = rejected.header_field().unwrap();
        assert!(ar.contains("bimi=fail"), "{ar}");
        assert!(ar.contains("SVG Tiny PS"), "{ar}");
        assert!(!ar.contains("bimi=pass"), "{ar}");
        // Only a pass changes.
        let mut again = rejected.clone();
        again.reject_bimi_indicator("twice");
        assert_eq!(again, rejected);

        // A BIMI-Selector field the aligned signature covers names the
        // record; the same field unsigned is ignored.
        let options = SignOptions {
            headers: vec!["from".into(), "bimi-selector".into()],
            ..SignOptions::default()
        };
        let key = SigningKey::from_ed25519_seed(&[1; 32]).unwrap();
        let covering = Signer::new("example.org", "sel", Arc::new(key), options).unwrap();
        let selector = "BIMI-Selector: v=BIMI1; s=brand\r\n";
        for (signer, expected) in [(&covering, "brand"), (&signers[0], "default")] {
            let verdict = crate::resolve(
                run(
                    &connection(),
                    &on,
                    &message(std::slice::from_ref(signer), selector),
                ),
                &zone,
            );
            let outcome = verdict.bimi.unwrap();
            assert_eq!(outcome.result, crate::bimi::BimiResult::Pass);
            assert_eq!(outcome.selector.as_str(), expected);
        }

        // DMARC fails (no signature, SPF from elsewhere): skipped, no
        // BIMI query, no field to insert, forged fields still removed.
        let stranger = Connection::new(
            "203.0.113.9".parse().unwrap(),
            "mx.example.com",
            "alice@example.org",
        );
        let mut check = run(&stranger, &on, &message(&[], forged));
        let verdict = loop {
            match check.poll() {
                Poll::Done(verdict) => break verdict,
                Poll::Lookups(queries) => {
                    for query in queries {
                        assert!(!query.name.as_str().contains("_bimi"), "{query}");
                        let answer = zone.lookup(&query);
                        check.supply(&query, answer).unwrap();
                    }
                }
            }
        };
        let outcome = verdict.bimi.as_ref().unwrap();
        assert_eq!(outcome.result, crate::bimi::BimiResult::Skipped);
        assert_eq!(verdict.bimi_location, None);
        assert_eq!(verdict.bimi_remove.len(), 2);
        assert!(verdict.header_field().unwrap().contains("bimi=skipped"));
    }

    /// A mailing list (lists.example.net, 198.51.100.7) receives a signed
    /// message from example.org, checks it, tags the subject and adds a
    /// footer (breaking the DKIM signature), then seals it.
    fn through_the_list(zone: &mut ZoneResolver, signers: &[Signer]) -> Vec<u8> {
        let seal_key = SigningKey::from_ed25519_seed(&[9; 32]).unwrap();
        zone.add_txt(
            &name("arc._domainkey.lists.example.net"),
            KeyRecord::for_key(&seal_key).text(),
        );
        zone.add_txt(&name("lists.example.net"), "v=spf1 ip4:198.51.100.7 -all");
        let original = message(&signers[..1], "");
        let mut list_config = Config::new("lists.example.net", NOW);
        list_config.arc = Some(arc::Config::default());
        let seen = crate::resolve(run(&connection(), &list_config, &original), &*zone);
        assert_eq!(
            seen.dmarc.as_ref().unwrap().result,
            dmarc::DmarcResult::Pass
        );
        let changed = String::from_utf8(original)
            .unwrap()
            .replace("Subject: hi", "Subject: [list] hi")
            .replace("Hello.\r\n", "Hello.\r\n-- \r\nThe list.\r\n")
            .into_bytes();
        let sealer = arc::Sealer::new(
            "lists.example.net",
            "arc",
            Arc::new(seal_key),
            "lists.example.net",
            arc::SealOptions::default(),
        )
        .unwrap();
        let set = match sealer
            .seal(
                &changed,
                NOW,
                seen.arc.as_ref().unwrap(),
                &seen.authentication_results.unwrap().results,
            )
            .unwrap()
        {
            arc::SealOutcome::Sealed(set) => set,
            other => panic!("not sealed: {other:?}"),
        };
        let mut sealed = set.to_header_lines().into_bytes();
        sealed.extend_from_slice(&changed);
        sealed
    }

    fn from_the_list() -> Connection {
        Connection::new(
            "198.51.100.7".parse().unwrap(),
            "lists.example.net",
            "list-bounces@lists.example.net",
        )
    }

    #[test]
    fn a_trusted_sealers_chain_sets_a_dmarc_failure_aside() {
        let (mut zone, signers) = setup();
        let sealed = through_the_list(&mut zone, &signers);
        let mut config = Config::new("mx.example.com", NOW);
        config.arc = Some(arc::Config {
            oldest_pass: true,
            ..arc::Config::default()
        });

        // Not trusted: DKIM broke, SPF is the list's, DMARC rejects.
        let verdict = crate::resolve(run(&from_the_list(), &config, &sealed), &zone);
        let chain = verdict.arc.as_ref().unwrap();
        assert_eq!(chain.result, arc::ArcResult::Pass);
        assert_eq!(chain.oldest_pass, Some(0));
        let dmarc = verdict.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Fail);
        assert_eq!(verdict.disposition, Disposition::Reject);
        assert!(dmarc.policy_override.is_none());
        let ar = verdict
            .authentication_results
            .as_ref()
            .unwrap()
            .to_header_value();
        assert!(
            ar.contains("arc=pass smtp.remote-ip=198.51.100.7 header.oldest-pass=0"),
            "{ar}"
        );

        // Trusted: the list recorded dmarc=pass, so local policy accepts.
        config.trusted_arc_sealers = vec![name("lists.example.net")];
        let verdict = crate::resolve(run(&from_the_list(), &config, &sealed), &zone);
        let dmarc = verdict.dmarc.as_ref().unwrap();
        assert_eq!(dmarc.result, dmarc::DmarcResult::Fail);
        assert_eq!(verdict.disposition, Disposition::None);
        let set_aside = dmarc.policy_override.as_ref().unwrap();
        assert_eq!(set_aside.kind, dmarc::OverrideKind::LocalPolicy);
        assert_eq!(
            set_aside.comment,
            "arc=pass as[1].d=lists.example.net as[1].s=arc remote-ip[1]=192.0.2.10"
        );
        let ar = verdict
            .authentication_results
            .as_ref()
            .unwrap()
            .to_header_value();
        assert!(
            ar.contains("local_policy: arc=pass as[1].d=lists.example.net"),
            "{ar}"
        );
        // Aggregate reports carry the override as RFC 8617 §7.2.2 shows.
        let recorded =
            crate::report::Verdict::from_inbound(&verdict, &from_the_list(), None, NOW).unwrap();
        assert_eq!(recorded.reasons.len(), 1);
        assert_eq!(recorded.reasons[0].kind.as_str(), "local_policy");
        assert_eq!(
            recorded.reasons[0].comment.as_deref(),
            Some(set_aside.comment.as_str())
        );

        // Changed after the seal: the chain fails and trust does not help.
        let tampered = String::from_utf8(sealed)
            .unwrap()
            .replace("The list.", "The list!")
            .into_bytes();
        let verdict = crate::resolve(run(&from_the_list(), &config, &tampered), &zone);
        assert_eq!(verdict.arc.as_ref().unwrap().result, arc::ArcResult::Fail);
        assert_eq!(verdict.disposition, Disposition::Reject);
    }

    #[test]
    fn arc_is_off_by_default_and_none_without_sets() {
        let (zone, signers) = setup();
        let config = Config::new("mx.example.com", NOW);
        let verdict = crate::resolve(run(&connection(), &config, &message(&signers, "")), &zone);
        assert!(verdict.arc.is_none());
        let mut config = Config::new("mx.example.com", NOW);
        config.arc = Some(arc::Config::default());
        let verdict = crate::resolve(run(&connection(), &config, &message(&signers, "")), &zone);
        assert_eq!(verdict.arc.as_ref().unwrap().result, arc::ArcResult::None);
        let ar = verdict.authentication_results.unwrap().to_header_value();
        assert!(ar.contains("arc=none smtp.remote-ip=192.0.2.10"), "{ar}");
    }
}
