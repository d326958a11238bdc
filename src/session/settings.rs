//! The settings file: one TOML file for the session, the CLI, the bindings
//! and the milter.
//!
//! [`SettingsFile`] is the file as written (every key has a default equal
//! to the one of the tool it replaces; unknown keys are errors with their
//! line); [`Settings`] is what it loads into: the key and signing tables,
//! the internal hosts and the configurations of every check, read once and
//! shared by the sessions (`Arc<Settings>`).
//!
//! The annotated example `milter/mailauth.toml.example` in the repository
//! shows the keys a relay usually sets with the option of OpenDKIM,
//! OpenDMARC or policyd-spf each replaces; the manual page
//! `milter/mailauth.toml.5` lists every key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::hosts::InternalHosts;
use crate::arc;
use crate::bimi;
use crate::cache::DEFAULT_MAX_ENTRIES;
use crate::dkim::{
    self, Canonicalization, KeyCache, KeyEntry, KeyTableEntry, Pattern, SignOptions, SigningDomain,
    SigningTable, TableError, UnsignedBodyContent, VerifyConfig,
};
use crate::dmarc::{self, PublicSuffixList};
use crate::dns::Name;
use crate::dns::NameServer;
use crate::inbound;
use crate::message::HeaderLimits;
use crate::spf::{self, VoidLookupCounting};

/// The value of `authserv_id` and `spf.receiver` that stands for the
/// machine's host name.
pub const HOSTNAME: &str = "HOSTNAME";

/// What to do with a message, as a setting (OpenDKIM's `On-*` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposal {
    /// Accept the message (the check's result is still recorded).
    Accept,
    /// Refuse it with a 5xx reply.
    Reject,
    /// Refuse it for now with a 4xx reply (the client retries).
    Tempfail,
    /// Accept it and throw it away.
    Discard,
    /// Accept it into the MTA's hold (quarantine) queue.
    Quarantine,
}

/// Which SPF results refuse a message (policyd-spf's `HELO_reject` and
/// `Mail_From_reject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpfRejection {
    /// `fail` is refused (policyd-spf `Fail`, its default).
    Fail,
    /// `fail` and `softfail` are refused (`Softfail`).
    Softfail,
    /// Every result but `pass`, `none` and `temperror` is refused
    /// (`SPF_Not_Pass`).
    NotPass,
    /// Nothing is refused (`False`).
    False,
}

impl SpfRejection {
    /// Whether `result` is refused.
    pub fn refuses(self, result: spf::SpfResult) -> bool {
        use spf::SpfResult as R;
        match self {
            SpfRejection::Fail => result == R::Fail,
            SpfRejection::Softfail => matches!(result, R::Fail | R::SoftFail),
            SpfRejection::NotPass => {
                matches!(result, R::Fail | R::SoftFail | R::Neutral | R::PermError)
            }
            SpfRejection::False => false,
        }
    }
}

/// How a `p=quarantine` failure is quarantined when
/// [`DmarcSection::reject_failures`] is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuarantineBy {
    /// The MTA's hold queue (`smfi_quarantine`), as OpenDMARC does.
    Hold,
    /// A header field ([`DmarcSection::quarantine_header`]) for the
    /// delivery agent to file the message by.
    Header,
    /// Not at all: the result is only recorded.
    Accept,
}

/// The settings file as written. Every key has a default; see the module
/// docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SettingsFile {
    /// The authserv-id of Authentication-Results (OpenDKIM/OpenDMARC
    /// `AuthservID`); `"HOSTNAME"` is the host name.
    pub authserv_id: String,
    /// Authentication-Results of these ids are trusted (OpenDMARC
    /// `TrustedAuthservIDs`).
    pub trusted_authserv_ids: Vec<String>,
    /// Hosts whose mail is signed, not checked: networks, addresses, host
    /// names (OpenDKIM `InternalHosts`, OpenDMARC `IgnoreHosts`,
    /// policyd-spf `skip_addresses`). Default 127.0.0.1 and ::1.
    pub internal_hosts: Vec<String>,
    /// A file of more internal hosts, one a line, `#` comments (the files
    /// `InternalHosts` and `IgnoreHosts` name).
    pub internal_hosts_file: String,
    /// Mail arriving on these MTA daemon names (Postfix `{daemon_name}`,
    /// such as `ORIGINATING`) is signed, not checked (OpenDKIM `MTA`).
    pub daemon_names: Vec<String>,
    /// Mail from clients that authenticated is signed, not checked
    /// (OpenDMARC `IgnoreAuthenticatedClients`; OpenDKIM signs it).
    pub sign_authenticated: bool,
    /// Decide and log, but never refuse, hold or discard a message.
    pub test_only: bool,
    /// Signing.
    pub signing: SigningSection,
    /// DKIM verification.
    pub verify: VerifySection,
    /// SPF.
    pub spf: SpfSection,
    /// DMARC.
    pub dmarc: DmarcSection,
    /// Reply codes and texts.
    pub replies: RepliesSection,
    /// DNS.
    pub dns: DnsSection,
    /// Logging.
    pub log: LogSection,
    /// The milter daemon.
    pub milter: MilterSection,
    /// ARC.
    pub arc: ArcSection,
    /// BIMI.
    pub bimi: BimiSection,
    /// DMARC aggregate reports: the store verdicts are recorded in, and
    /// how reports are sent.
    pub report: ReportSection,
}

impl Default for SettingsFile {
    fn default() -> SettingsFile {
        SettingsFile {
            authserv_id: HOSTNAME.to_owned(),
            trusted_authserv_ids: Vec::new(),
            internal_hosts: vec!["127.0.0.1".to_owned(), "::1".to_owned()],
            internal_hosts_file: String::new(),
            daemon_names: Vec::new(),
            sign_authenticated: true,
            test_only: false,
            signing: SigningSection::default(),
            verify: VerifySection::default(),
            spf: SpfSection::default(),
            dmarc: DmarcSection::default(),
            replies: RepliesSection::default(),
            dns: DnsSection::default(),
            log: LogSection::default(),
            milter: MilterSection::default(),
            arc: ArcSection::default(),
            bimi: BimiSection::default(),
            report: ReportSection::default(),
        }
    }
}

/// `[[signing.keys]]`: one key, as a KeyTable line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySetting {
    /// The key's name, which rules refer to.
    pub name: String,
    /// The signing domain (`d=`); `%` is the From domain.
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// The private key file (PEM or DER).
    pub key_file: String,
}

/// `[[signing.rules]]`: which key signs which From addresses (as a
/// `refile:` SigningTable line: `*` globs over `user@domain`, first match
/// wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    /// The pattern.
    pub pattern: String,
    /// The key name.
    pub key: String,
}

/// `[signing]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSection {
    /// OpenDKIM `KeyTable` file (`file:` prefix accepted).
    pub key_table: String,
    /// OpenDKIM `SigningTable` file (`refile:` turns on wildcards).
    pub signing_table: String,
    /// Keys written here rather than in a KeyTable.
    pub keys: Vec<KeySetting>,
    /// Rules written here rather than in a SigningTable; tried after the
    /// file's.
    pub rules: Vec<RuleSetting>,
    /// `c=` (OpenDKIM `Canonicalization`, whose default is
    /// `simple/simple`; relaxed survives more relays).
    pub canonicalization: String,
    /// Fields signed when present (OpenDKIM `SignHeaders`).
    pub headers: Vec<String>,
    /// Fields signed once more than present (OpenDKIM `OversignHeaders`).
    pub oversign_headers: Vec<String>,
    /// Seconds until `x=`; 0 writes none (OpenDKIM `SignatureTTL`).
    pub signature_ttl: u64,
    /// Write `l=` (OpenDKIM `BodyLengths`).
    pub body_length: bool,
    /// Write `t=`.
    pub timestamp: bool,
}

impl Default for SigningSection {
    fn default() -> SigningSection {
        let options = SignOptions::default();
        SigningSection {
            key_table: String::new(),
            signing_table: String::new(),
            keys: Vec::new(),
            rules: Vec::new(),
            canonicalization: options.canonicalization.to_string(),
            headers: options.headers,
            oversign_headers: options.oversigned,
            signature_ttl: 0,
            body_length: false,
            timestamp: true,
        }
    }
}

/// `[verify]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifySection {
    /// Smallest RSA key accepted, bits (OpenDKIM `MinimumKeyBits`).
    pub min_key_bits: usize,
    /// Accept rsa-sha1 signatures.
    pub allow_sha1: bool,
    /// RFC 6376 before RFC 8301: rsa-sha1 and keys from 512 bits.
    pub legacy: bool,
    /// Seconds of tolerance for `t=` and `x=` (OpenDKIM `ClockDrift`).
    pub clock_skew: u64,
    /// Signatures checked per message (OpenDKIM
    /// `MaximumSignaturesToVerify`).
    pub max_signatures: usize,
    /// Header fields read.
    pub max_header_fields: usize,
    /// Header octets read.
    pub max_header_bytes: usize,
    /// `"report"` or `"fail"` a signature whose `l=` leaves content
    /// unsigned.
    pub unsigned_body_content: String,
    /// Keep parsed key records across messages.
    pub key_cache: bool,
    /// Key records kept at most (DKIM and ARC share them); 0 keeps none.
    pub key_cache_entries: usize,
    /// No signature passed and one failed (OpenDKIM `On-BadSignature`).
    pub on_bad_signature: Disposal,
    /// No signature (OpenDKIM `On-NoSignature`).
    pub on_no_signature: Disposal,
    /// A key lookup failed for now (OpenDKIM `On-DNSError`).
    pub on_dns_error: Disposal,
    /// A key record does not exist (OpenDKIM `On-KeyNotFound`).
    pub on_key_not_found: Disposal,
    /// The header went past the limits above (OpenDKIM `On-Security`).
    pub on_security: Disposal,
}

impl Default for VerifySection {
    fn default() -> VerifySection {
        let config = VerifyConfig::default();
        VerifySection {
            min_key_bits: config.min_rsa_bits,
            allow_sha1: config.allow_sha1,
            legacy: false,
            clock_skew: config.clock_skew,
            max_signatures: config.max_signatures,
            max_header_fields: config.max_header_fields,
            max_header_bytes: config.max_header_bytes,
            unsigned_body_content: "report".to_owned(),
            key_cache: true,
            key_cache_entries: DEFAULT_MAX_ENTRIES,
            on_bad_signature: Disposal::Accept,
            on_no_signature: Disposal::Accept,
            on_dns_error: Disposal::Tempfail,
            on_key_not_found: Disposal::Accept,
            on_security: Disposal::Tempfail,
        }
    }
}

/// `[spf]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpfSection {
    /// Check the HELO name too.
    pub check_helo: bool,
    /// HELO results refused (policyd-spf `HELO_reject`).
    pub helo_reject: SpfRejection,
    /// MAIL FROM results refused (policyd-spf `Mail_From_reject`).
    pub mail_from_reject: SpfRejection,
    /// Refuse `permerror` (policyd-spf `PermError_reject`).
    pub permerror_reject: bool,
    /// Defer on `temperror` (policyd-spf `TempError_Defer`).
    pub temperror_defer: bool,
    /// Add a Received-SPF field (policyd-spf `Header_Type = SPF`).
    pub received_spf: bool,
    /// The receiving host for `%{r}`; `"HOSTNAME"` is the host name.
    pub receiver: String,
    /// DNS-querying terms per evaluation (RFC 7208 §4.6.4: 10).
    pub max_dns_mechanisms: usize,
    /// Void lookups per evaluation (RFC 7208: 2; policyd-spf `Void_Limit`).
    pub max_void_lookups: usize,
    /// `"per-term"` or `"per-lookup"` (as pyspf counts).
    pub void_lookup_counting: String,
    /// MX names of one `mx` term.
    pub max_mx_names: usize,
    /// PTR names looked at.
    pub max_ptr_names: usize,
    /// Terms per record.
    pub max_terms: usize,
    /// Octets of an explanation kept.
    pub max_explanation_len: usize,
    /// The explanation of a `fail` whose record gives none.
    pub default_explanation: String,
    /// Keep parsed SPF records across messages.
    pub record_cache: bool,
    /// SPF records kept at most; 0 keeps none.
    pub record_cache_entries: usize,
}

impl Default for SpfSection {
    fn default() -> SpfSection {
        let config = spf::Config::default();
        SpfSection {
            check_helo: true,
            helo_reject: SpfRejection::Fail,
            mail_from_reject: SpfRejection::Fail,
            permerror_reject: false,
            temperror_defer: false,
            received_spf: false,
            receiver: HOSTNAME.to_owned(),
            max_dns_mechanisms: config.max_dns_mechanisms,
            max_void_lookups: config.max_void_lookups,
            void_lookup_counting: "per-term".to_owned(),
            max_mx_names: config.max_mx_names,
            max_ptr_names: config.max_ptr_names,
            max_terms: config.max_terms,
            max_explanation_len: config.max_explanation_len,
            default_explanation: config.default_explanation.to_string(),
            record_cache: true,
            record_cache_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// The cache a section's two settings ask for: none when it is off or
/// holds no entries; the process-wide one at the default size (kept when
/// the settings are read again); else one of its own of that size, shared
/// by everything built from these settings.
fn cache<C>(
    on: bool,
    entries: usize,
    process_wide: impl FnOnce() -> C,
    sized: impl FnOnce(usize) -> C,
) -> Option<C> {
    match entries {
        _ if !on => None,
        0 => None,
        DEFAULT_MAX_ENTRIES => Some(process_wide()),
        entries => Some(sized(entries)),
    }
}

/// `[dmarc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DmarcSection {
    /// `"rfc9989"` or `"rfc7489"`.
    pub mode: String,
    /// Act on `p=reject` and `p=quarantine` (OpenDMARC `RejectFailures`).
    pub reject_failures: bool,
    /// How `p=quarantine` is acted on.
    pub quarantine: QuarantineBy,
    /// The field added by `quarantine = "header"`.
    pub quarantine_header: String,
    /// Apply `pct=` by sampling (RFC 7489 mode).
    pub honour_pct: bool,
    /// The policy lookup failed for now.
    pub on_temperror: Disposal,
    /// The public suffix list file (OpenDMARC `PublicSuffixList`); empty:
    /// the bundled copy.
    pub public_suffix_list: String,
    /// Queries of one tree walk.
    pub max_tree_walk_queries: usize,
    /// Longest policy record.
    pub max_record_bytes: usize,
    /// Report URIs kept per tag.
    pub max_report_uris: usize,
    /// Addresses read from From.
    pub max_from_addresses: usize,
    /// Identifiers whose Organizational Domain is looked up.
    pub max_identifiers: usize,
    /// A record with any bad tag is a permerror.
    pub strict_records: bool,
    /// Keep parsed DMARC records across messages.
    pub record_cache: bool,
    /// DMARC records kept at most, and as many domains' tree walks; 0
    /// keeps none.
    pub record_cache_entries: usize,
}

impl Default for DmarcSection {
    fn default() -> DmarcSection {
        let config = dmarc::Config::default();
        DmarcSection {
            mode: config.mode.to_string(),
            reject_failures: false,
            quarantine: QuarantineBy::Hold,
            quarantine_header: "X-Mailauth-Quarantine".to_owned(),
            honour_pct: true,
            on_temperror: Disposal::Accept,
            public_suffix_list: String::new(),
            max_tree_walk_queries: config.max_tree_walk_queries,
            max_record_bytes: config.max_record_bytes,
            max_report_uris: config.max_report_uris,
            max_from_addresses: config.max_from_addresses,
            max_identifiers: config.max_identifiers,
            strict_records: config.strict_records,
            record_cache: true,
            record_cache_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// `[replies]`: `"CODE X.Y.Z text"`. In the text `{ip}` is the client
/// address, `{domain}` the domain checked, `{reason}` the check's reason
/// and `{explanation}` SPF's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepliesSection {
    /// SPF refused the MAIL FROM address.
    pub spf_reject: String,
    /// SPF refused the HELO name.
    pub helo_reject: String,
    /// SPF `permerror` refused.
    pub spf_permerror: String,
    /// SPF `temperror` deferred.
    pub spf_temperror: String,
    /// DKIM refused the message.
    pub dkim_reject: String,
    /// DKIM deferred the message.
    pub dkim_tempfail: String,
    /// DMARC `p=reject` refused the message.
    pub dmarc_reject: String,
    /// DMARC deferred the message.
    pub dmarc_tempfail: String,
    /// The header was past the limits.
    pub security: String,
}

impl Default for RepliesSection {
    fn default() -> RepliesSection {
        RepliesSection {
            spf_reject: "550 5.7.23 SPF {reason}: {explanation}".to_owned(),
            helo_reject: "550 5.7.23 SPF {reason} for HELO {domain}".to_owned(),
            spf_permerror: "550 5.7.24 SPF permanent error for {domain}: {reason}".to_owned(),
            spf_temperror: "451 4.7.24 SPF temporary error for {domain}, try again later"
                .to_owned(),
            dkim_reject: "550 5.7.20 DKIM: {reason}".to_owned(),
            dkim_tempfail: "451 4.7.20 DKIM: {reason}, try again later".to_owned(),
            dmarc_reject: "550 5.7.26 Rejected by the DMARC policy of {domain}".to_owned(),
            dmarc_tempfail: "451 4.7.26 DMARC policy of {domain} not available, try again later"
                .to_owned(),
            security: "451 4.7.0 Message header too large to check".to_owned(),
        }
    }
}

/// `[dns]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSection {
    /// Recursive name servers (`192.0.2.1`, `[2001:db8::1]:53`,
    /// `127.0.0.1:5353`); empty: those of /etc/resolv.conf (OpenDKIM
    /// `Nameservers`).
    pub nameservers: Vec<String>,
    /// Milliseconds to wait for one server.
    pub timeout_ms: u64,
    /// Rounds over the servers.
    pub attempts: u32,
    /// Answers cached; 0 disables the cache.
    pub cache_entries: usize,
}

impl Default for DnsSection {
    fn default() -> DnsSection {
        DnsSection {
            nameservers: Vec::new(),
            timeout_ms: 5000,
            attempts: 2,
            cache_entries: 10_000,
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// Log a detail record with each check's reasons (OpenDKIM `LogWhy`).
    pub why: bool,
}

/// `[milter]`: read by mailauth-milter only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MilterSection {
    /// Where to listen (OpenDKIM `Socket`): `local:/path`, `unix:/path`,
    /// `inet:PORT@HOST`, `inet6:PORT@HOST`.
    pub socket: String,
    /// Mode of a unix socket, octal (OpenDKIM `UMask` 002 gives 0660 for
    /// a socket).
    pub socket_mode: String,
    /// Group of a unix socket; empty leaves it.
    pub socket_group: String,
    /// Drop to this user (and its groups) after binding (OpenDKIM
    /// `UserID`); empty stays.
    pub user: String,
    /// PID file (OpenDKIM `PidFile`); empty writes none.
    pub pid_file: String,
    /// Log to syslog, mail facility (OpenDKIM `Syslog`).
    pub syslog: bool,
    /// Log to standard error.
    pub stderr: bool,
    /// `"tempfail"` or `"accept"` when the milter itself fails.
    pub on_internal_error: Disposal,
}

impl Default for MilterSection {
    fn default() -> MilterSection {
        MilterSection {
            socket: "local:/run/mailauth/mailauth.sock".to_owned(),
            socket_mode: "0660".to_owned(),
            socket_group: String::new(),
            user: String::new(),
            pid_file: String::new(),
            syslog: true,
            stderr: false,
            on_internal_error: Disposal::Tempfail,
        }
    }
}

/// `[arc]`: ARC chain validation and sealing (RFC 8617; OpenARC's
/// `Mode`, `Domain`, `Selector`, `KeyFile`, `SignHeaders`). The header
/// bounds and the key cache are those of `[verify]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArcSection {
    /// Validate the ARC chain of checked mail and report `arc=` in
    /// Authentication-Results (OpenARC `Mode v`).
    pub verify: bool,
    /// Sealers (ARC-Seal `d=`) trusted to vouch for mail that fails DMARC
    /// after they changed it: a passing chain with a set they sealed that
    /// recorded `dmarc=pass` sets the DMARC disposition aside.
    pub trusted_sealers: Vec<String>,
    /// Most ARC sets accepted (at most 50).
    pub max_sets: usize,
    /// Smallest RSA key accepted, in bits.
    pub min_key_bits: usize,
    /// Accept rsa-sha1 signatures (RFC 8301 forbids them).
    pub allow_sha1: bool,
    /// Verify the older ARC-Message-Signatures too, to report
    /// `header.oldest-pass`.
    pub oldest_pass: bool,
    /// Seal checked mail before it is relayed on (OpenARC `Mode s`); needs
    /// `sealer` and `verify`.
    pub seal: bool,
    /// The domain sealing: its key, `d=` and `s=` are those the signing
    /// table picks for `postmaster@<sealer>` (OpenARC `Domain`,
    /// `Selector`, `KeyFile`).
    pub sealer: String,
    /// Header fields the ARC-Message-Signature signs (OpenARC
    /// `SignHeaders`); empty: those of `[signing] headers`.
    pub seal_headers: Vec<String>,
}

impl Default for ArcSection {
    fn default() -> ArcSection {
        let config = arc::Config::default();
        ArcSection {
            verify: false,
            trusted_sealers: Vec::new(),
            max_sets: config.max_sets,
            min_key_bits: config.min_rsa_bits,
            allow_sha1: config.allow_sha1,
            oldest_pass: config.oldest_pass,
            seal: false,
            sealer: String::new(),
            seal_headers: Vec::new(),
        }
    }
}

/// `[bimi]`: BIMI record checks of mail that passes DMARC at enforcement
/// (the `bimi=` result, the BIMI-Location field for a `pass`, incoming
/// BIMI-Location and BIMI-Indicator fields removed). Fetching and
/// validating the Indicator (SVG, mark certificate) stays with the mail
/// store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BimiSection {
    /// Check BIMI.
    pub enabled: bool,
    /// Use a BIMI-Selector field only when a passing, aligned DKIM
    /// signature covers it.
    pub require_signed_selector: bool,
    /// Longest Assertion Record read.
    pub max_record_bytes: usize,
    /// Most URIs in `l=`.
    pub max_location_uris: usize,
}

impl Default for BimiSection {
    fn default() -> BimiSection {
        let config = bimi::Config::default();
        BimiSection {
            enabled: config.enabled,
            require_signed_selector: config.require_signed_selector,
            max_record_bytes: config.max_record_bytes,
            max_location_uris: config.max_location_uris,
        }
    }
}

/// Which database holds the report store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreKind {
    /// One SQLite file ([`ReportSection::path`]): the default, for one
    /// relay.
    Sqlite,
    /// A PostgreSQL database ([`ReportSection::connection`]): for a fleet
    /// of MTAs writing into one store.
    Postgres,
}

/// `[report]`: DMARC aggregate reports (RFC 9990), OpenDMARC's
/// `HistoryFile` and `opendmarc-reports` in one. Front ends record each
/// verdict in the store (`mailauth-store`); `mailauth report send` builds
/// and sends the reports of ended periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSection {
    /// Record every verdict in the store (OpenDMARC `HistoryFile` set).
    pub record: bool,
    /// `"sqlite"` or `"postgres"`.
    pub store: StoreKind,
    /// The SQLite file (relative to the settings file's folder).
    pub path: String,
    /// The PostgreSQL connection string (`host=/run/postgresql
    /// dbname=mailauth`, or a `postgresql://` URL).
    pub connection: String,
    /// The reporting organisation's name (opendmarc-reports
    /// `--report-org`).
    pub org_name: String,
    /// The address reports come from (opendmarc-reports
    /// `--report-email`).
    pub email: String,
    /// Seconds per reporting period, aligned to UTC midnight (RFC 9990's
    /// default `ri=86400`). From 60 to 86400, or whole days.
    pub period: u64,
    /// Seconds after a period ends before it is reported, so that
    /// verdicts still queued reach the store.
    pub delay: u64,
    /// Days a period stays in the store (`mailauth report send` prunes
    /// older ones).
    pub keep_days: u64,
    /// The command a report e-mail is piped to.
    pub sendmail: String,
    /// Write report e-mails as files in this folder instead of sending
    /// them; empty: send.
    pub directory: String,
    /// Verdicts queued for the store's writer at most; beyond, new ones
    /// are dropped and counted (mail never waits for the store).
    pub queue_capacity: usize,
    /// Verdicts written per transaction at most.
    pub batch_size: usize,
    /// Milliseconds before a partial batch is written.
    pub flush_interval_ms: u64,
    /// Milliseconds an SQLite write waits for another process's.
    pub busy_timeout_ms: u64,
}

impl Default for ReportSection {
    fn default() -> ReportSection {
        ReportSection {
            record: false,
            store: StoreKind::Sqlite,
            path: "/var/lib/mailauth/reports.sqlite".to_owned(),
            connection: String::new(),
            org_name: String::new(),
            email: String::new(),
            period: 86_400,
            delay: 300,
            keep_days: 31,
            sendmail: "/usr/sbin/sendmail -t".to_owned(),
            directory: String::new(),
            queue_capacity: 100_000,
            batch_size: 1_000,
            flush_interval_ms: 1_000,
            busy_timeout_ms: 5_000,
        }
    }
}

/// The resolver `[dns]` describes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsSettings {
    /// The name servers; empty: those of /etc/resolv.conf.
    pub nameservers: Vec<NameServer>,
    /// How long to wait for one server.
    pub timeout: std::time::Duration,
    /// Rounds over the servers.
    pub attempts: u32,
    /// Answers cached (0: no cache).
    pub cache_entries: usize,
}

#[cfg(feature = "stub-resolver")]
impl DnsSettings {
    /// The caching stub resolver these settings describe: thread-safe, to
    /// share between all sessions of a process.
    ///
    /// # Errors
    /// When no name server is given and /etc/resolv.conf cannot be read.
    pub fn resolver(
        &self,
    ) -> Result<crate::dns::CachingResolver<crate::dns::StubResolver>, crate::dns::StubError> {
        use crate::dns::{CacheConfig, CachingResolver, StubConfig, StubResolver};
        let mut config = if self.nameservers.is_empty() {
            StubResolver::from_system()?.config().clone()
        } else {
            StubConfig::default()
        };
        if !self.nameservers.is_empty() {
            config.nameservers = self.nameservers.iter().map(|n| n.0).collect();
        }
        config.timeout = self.timeout;
        config.attempts = self.attempts;
        Ok(CachingResolver::new(
            StubResolver::new(config),
            CacheConfig {
                max_entries: self.cache_entries,
                ..CacheConfig::default()
            },
        ))
    }
}

/// A settings file that cannot be loaded. Its Display names the file and
/// the line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not TOML, an unknown key or a value of the wrong type.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A value is of the right type but not usable (a bad network, an
    /// unreadable key file, a rule naming a missing key).
    #[error("{file}:{line}: {key}: {message}")]
    Value {
        /// The file.
        file: String,
        /// 1-based line of the key (0 when the key was not written).
        line: usize,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Loaded settings: the file, plus everything it names read and checked.
/// Immutable; share it between sessions and threads with an `Arc`.
#[derive(Debug, Clone)]
pub struct Settings {
    file: SettingsFile,
    origin: String,
    authserv_id: String,
    internal: InternalHosts,
    signing_table: SigningTable,
    sign_options: SignOptions,
    inbound: inbound::Config,
    stub: DnsSettings,
    sealer: Option<arc::Sealer>,
    report_path: PathBuf,
    report_directory: Option<PathBuf>,
}

impl Settings {
    /// Reads and loads a settings file; relative paths in it are taken
    /// from the file's folder.
    ///
    /// # Errors
    /// [`SettingsError`], naming the file and line.
    pub fn from_file(path: &Path) -> Result<Settings, SettingsError> {
        Settings::from_file_with(path, |_| {})
    }

    /// As [`from_file`](Self::from_file), with `change` applied to the
    /// file before it is loaded (command-line options written over it).
    ///
    /// # Errors
    /// [`SettingsError`], naming the file and line.
    pub fn from_file_with(
        path: &Path,
        change: impl FnOnce(&mut SettingsFile),
    ) -> Result<Settings, SettingsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            file: origin.clone(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut file = parse(&text, &origin)?;
        change(&mut file);
        Loader {
            text: &text,
            origin: &origin,
            base,
        }
        .load(file)
    }

    /// Loads settings from TOML text; `origin` names it in errors, `base`
    /// is the folder relative paths start from.
    ///
    /// # Errors
    /// [`SettingsError`], naming `origin` and the line.
    pub fn from_toml(text: &str, origin: &str, base: &Path) -> Result<Settings, SettingsError> {
        let file = parse(text, origin)?;
        Loader { text, origin, base }.load(file)
    }

    /// Settings from a [`SettingsFile`] built in code; `base` is the
    /// folder relative paths start from.
    ///
    /// # Errors
    /// [`SettingsError::Value`] (lines are 0).
    pub fn from_settings_file(file: SettingsFile, base: &Path) -> Result<Settings, SettingsError> {
        Loader {
            text: "",
            origin: "settings",
            base,
        }
        .load(file)
    }

    /// The file as loaded (with every default filled in).
    pub fn file(&self) -> &SettingsFile {
        &self.file
    }

    /// Where the settings came from (the path, for a file).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The effective settings as TOML, every key written: what `mailauth
    /// config check` prints.
    pub fn to_toml(&self) -> String {
        let mut file = self.file.clone();
        file.authserv_id.clone_from(&self.authserv_id);
        file.spf.receiver = self.inbound.spf.receiver.to_string();
        toml::to_string(&file).unwrap_or_default()
    }

    /// The value of a dotted key (`"milter.socket"`, `"dns.timeout_ms"`)
    /// as text: strings bare, booleans `true`/`false`, numbers in
    /// decimal, arrays comma-separated. `None` for no such key.
    pub fn get(&self, key: &str) -> Option<String> {
        let mut file = self.file.clone();
        file.authserv_id.clone_from(&self.authserv_id);
        file.spf.receiver = self.inbound.spf.receiver.to_string();
        let mut value = toml::Value::try_from(&file).ok()?;
        for part in key.split('.') {
            value = value.as_table_mut()?.remove(part)?;
        }
        Some(value_text(&value))
    }

    /// The authserv-id (the host name substituted).
    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// The internal hosts.
    pub fn internal_hosts(&self) -> &InternalHosts {
        &self.internal
    }

    /// The signing table (key table and rules loaded).
    pub fn signing_table(&self) -> &SigningTable {
        &self.signing_table
    }

    /// How to sign.
    pub fn sign_options(&self) -> &SignOptions {
        &self.sign_options
    }

    /// The settings of the inbound pipeline (SPF, DKIM, DMARC
    /// configurations), its `now` 0: the session sets it per message.
    pub fn inbound_config(&self) -> &inbound::Config {
        &self.inbound
    }

    /// Writes the check settings over a pipeline configuration: SPF,
    /// DKIM and DMARC, whether HELO is checked, the trusted authserv-ids.
    /// Its authserv-id, time and who is not checked stay (the internal
    /// hosts are the session's business).
    pub fn apply_checks(&self, config: &mut inbound::Config) {
        let from = &self.inbound;
        config.spf.clone_from(&from.spf);
        config.dkim.clone_from(&from.dkim);
        config.dmarc.clone_from(&from.dmarc);
        config.check_helo = from.check_helo;
        config
            .trusted_authserv_ids
            .clone_from(&from.trusted_authserv_ids);
        config.arc.clone_from(&from.arc);
        config.bimi.clone_from(&from.bimi);
        config
            .trusted_arc_sealers
            .clone_from(&from.trusted_arc_sealers);
    }

    /// The ARC sealer of `[arc]` (when `seal` is set).
    pub fn sealer(&self) -> Option<&arc::Sealer> {
        self.sealer.as_ref()
    }

    /// The configuration of the DNS resolver `[dns]` describes.
    pub fn dns(&self) -> &DnsSettings {
        &self.stub
    }

    /// The SQLite report store file (`report.path`, taken from the
    /// settings file's folder).
    pub fn report_store_path(&self) -> &Path {
        &self.report_path
    }

    /// The folder report e-mails are written to (`report.directory`, taken
    /// from the settings file's folder), `None` when they are sent.
    pub fn report_directory(&self) -> Option<&Path> {
        self.report_directory.as_deref()
    }
}

/// The file as written, defaults filled in.
fn parse(text: &str, origin: &str) -> Result<SettingsFile, SettingsError> {
    toml::from_str(text).map_err(|e: toml::de::Error| SettingsError::Syntax {
        file: origin.to_owned(),
        line: e.span().map_or(0, |span| line_at(text, span.start)),
        message: e.message().to_owned(),
    })
}

/// The line (1-based) of byte offset `at`.
fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line where `key` of table `table` ("" for the top level) is
/// written, 0 when it is not.
fn line_of(text: &str, table: &str, key: &str) -> usize {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_owned();
            continue;
        }
        if current == table
            && line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return i + 1;
        }
    }
    0
}

fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The machine's host name (from the kernel), `localhost` when unknown.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

struct Loader<'a> {
    text: &'a str,
    origin: &'a str,
    base: &'a Path,
}

impl Loader<'_> {
    fn error(&self, table: &str, key: &str, message: impl fmt::Display) -> SettingsError {
        let dotted = if table.is_empty() {
            key.to_owned()
        } else {
            format!("{table}.{key}")
        };
        SettingsError::Value {
            file: self.origin.to_owned(),
            line: line_of(self.text, table, key),
            key: dotted,
            message: message.to_string(),
        }
    }

    fn path(&self, value: &str) -> PathBuf {
        self.base.join(value)
    }

    fn load(&self, file: SettingsFile) -> Result<Settings, SettingsError> {
        let authserv_id = if file.authserv_id == HOSTNAME {
            host_name()
        } else {
            file.authserv_id.clone()
        };
        if authserv_id.is_empty() || authserv_id.contains(|c: char| c.is_whitespace() || c == ';') {
            return Err(self.error("", "authserv_id", "not a valid authserv-id"));
        }
        let internal = self.internal_hosts(&file)?;
        let signing_table = self.signing_table(&file.signing)?;
        let sign_options = self.sign_options(&file.signing, &file.verify)?;
        let inbound = self.inbound(&file, &authserv_id)?;
        let stub = self.stub(&file.dns)?;
        let sealer = self.sealer(&file, &signing_table, &sign_options, &authserv_id)?;
        for (key, reply) in [
            ("spf_reject", &file.replies.spf_reject),
            ("helo_reject", &file.replies.helo_reject),
            ("spf_permerror", &file.replies.spf_permerror),
            ("spf_temperror", &file.replies.spf_temperror),
            ("dkim_reject", &file.replies.dkim_reject),
            ("dkim_tempfail", &file.replies.dkim_tempfail),
            ("dmarc_reject", &file.replies.dmarc_reject),
            ("dmarc_tempfail", &file.replies.dmarc_tempfail),
            ("security", &file.replies.security),
        ] {
            super::Reply::parse(reply).map_err(|e| self.error("replies", key, e))?;
        }
        u32::from_str_radix(&file.milter.socket_mode, 8)
            .map_err(|_| self.error("milter", "socket_mode", "not an octal mode"))?;
        if file.dmarc.quarantine_header.is_empty()
            || dkim::sign::validate_header_name(&file.dmarc.quarantine_header).is_err()
        {
            return Err(self.error("dmarc", "quarantine_header", "not a header field name"));
        }
        let report = &file.report;
        let period_ok = (60..=86_400).contains(&report.period)
            || (report.period > 86_400 && report.period.is_multiple_of(86_400));
        if !period_ok {
            return Err(self.error(
                "report",
                "period",
                "from 60 to 86400 seconds, or whole days",
            ));
        }
        if report.record && report.store == StoreKind::Postgres && report.connection.is_empty() {
            return Err(self.error(
                "report",
                "connection",
                "a PostgreSQL store needs a connection string",
            ));
        }
        if report.record && report.store == StoreKind::Sqlite && report.path.is_empty() {
            return Err(self.error("report", "path", "an SQLite store needs a file"));
        }
        for (key, value) in [
            ("queue_capacity", report.queue_capacity as u64),
            ("batch_size", report.batch_size as u64),
            ("flush_interval_ms", report.flush_interval_ms),
        ] {
            if value == 0 {
                return Err(self.error("report", key, "must be at least 1"));
            }
        }
        let report_path = self.path(&report.path);
        let report_directory = (!report.directory.is_empty()).then(|| self.path(&report.directory));
        Ok(Settings {
            file,
            origin: self.origin.to_owned(),
            report_path,
            report_directory,
            authserv_id,
            internal,
            signing_table,
            sign_options,
            inbound,
            stub,
            sealer,
        })
    }

    fn sealer(
        &self,
        file: &SettingsFile,
        table: &SigningTable,
        sign: &SignOptions,
        authserv_id: &str,
    ) -> Result<Option<arc::Sealer>, SettingsError> {
        let section = &file.arc;
        if !section.seal {
            return Ok(None);
        }
        if !section.verify {
            return Err(self.error(
                "arc",
                "seal",
                "needs arc.verify: a seal states the chain's validation",
            ));
        }
        if section.sealer.is_empty() {
            return Err(self.error("arc", "sealer", "needed to seal"));
        }
        let address = format!("postmaster@{}", section.sealer);
        let headers = if section.seal_headers.is_empty() {
            sign.headers.clone()
        } else {
            for name in &section.seal_headers {
                dkim::sign::validate_header_name(name)
                    .map_err(|e| self.error("arc", "seal_headers", e))?;
            }
            section.seal_headers.clone()
        };
        let options = arc::SealOptions {
            headers,
            header_limits: sign.header_limits,
            max_sets: section.max_sets.min(arc::MAX_INSTANCE as usize),
        };
        arc::Sealer::from_table(table, &address, authserv_id, options)
            .ok_or_else(|| {
                self.error(
                    "arc",
                    "sealer",
                    format_args!("the signing table has no key for {address}"),
                )
            })?
            .map(Some)
            .map_err(|e| self.error("arc", "sealer", e))
    }

    fn internal_hosts(&self, file: &SettingsFile) -> Result<InternalHosts, SettingsError> {
        let mut hosts = InternalHosts::default();
        for entry in &file.internal_hosts {
            hosts
                .push(entry)
                .map_err(|e| self.error("", "internal_hosts", e))?;
        }
        if !file.internal_hosts_file.is_empty() {
            let name = file
                .internal_hosts_file
                .strip_prefix("refile:")
                .or_else(|| file.internal_hosts_file.strip_prefix("file:"))
                .unwrap_or(&file.internal_hosts_file);
            let path = self.path(name);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                self.error(
                    "",
                    "internal_hosts_file",
                    format_args!("{}: {e}", path.display()),
                )
            })?;
            hosts
                .push_file_text(&text, &path.display().to_string())
                .map_err(|e| self.error("", "internal_hosts_file", e))?;
        }
        Ok(hosts)
    }

    fn signing_table(&self, section: &SigningSection) -> Result<SigningTable, SettingsError> {
        let mut table = SigningTable::new();
        match (
            section.key_table.is_empty(),
            section.signing_table.is_empty(),
        ) {
            (true, true) => {}
            (false, false) => {
                let key_table = self.prefixed_path(&section.key_table, &["file:"]);
                let signing_table =
                    self.prefixed_path(&section.signing_table, &["refile:", "file:"]);
                let loaded = SigningTable::from_opendkim_files(&key_table, &signing_table)
                    .map_err(|e| self.table_error(e, "signing_table"))?;
                for (pattern, entry) in loaded.rules() {
                    table.push(pattern.clone(), entry.clone());
                }
            }
            (true, false) => {
                return Err(self.error("signing", "signing_table", "needs signing.key_table"));
            }
            (false, true) => {
                return Err(self.error("signing", "key_table", "needs signing.signing_table"));
            }
        }
        let mut keys: Vec<(String, KeyEntry)> = Vec::new();
        for key in &section.keys {
            let entry = KeyTableEntry::new(&key.name, &key.domain, &key.selector, &key.key_file);
            let base = self.base.to_path_buf();
            let signing_key = entry
                .load_key(&mut |path: &Path| std::fs::read(base.join(path)))
                .map_err(|e| self.error("signing", "keys", e))?;
            let domain = if key.domain == "%" {
                SigningDomain::FromDomain
            } else {
                SigningDomain::Fixed(key.domain.clone())
            };
            let entry = KeyEntry::new(domain, &key.selector, Arc::new(signing_key))
                .map_err(|e| self.error("signing", "keys", e))?;
            keys.push((key.name.clone(), entry));
        }
        for rule in &section.rules {
            let Some((_, entry)) = keys.iter().find(|(name, _)| *name == rule.key) else {
                return Err(self.error(
                    "signing",
                    "rules",
                    format_args!("key name {:?} is not in signing.keys", rule.key),
                ));
            };
            let lower = rule.pattern.to_ascii_lowercase();
            let pattern = match lower.as_str() {
                "" => return Err(self.error("signing", "rules", "empty pattern")),
                "*" => Pattern::Any,
                _ => Pattern::Address(lower),
            };
            table.push(pattern, entry.clone());
        }
        Ok(table)
    }

    /// A table file path with its OpenDKIM prefix kept and the path made
    /// relative to the settings file.
    fn prefixed_path(&self, value: &str, prefixes: &[&str]) -> String {
        for prefix in prefixes {
            if let Some(path) = value.strip_prefix(prefix) {
                return format!("{prefix}{}", self.path(path).display());
            }
        }
        self.path(value).display().to_string()
    }

    fn table_error(&self, error: TableError, key: &str) -> SettingsError {
        self.error("signing", key, error)
    }

    fn sign_options(
        &self,
        section: &SigningSection,
        verify: &VerifySection,
    ) -> Result<SignOptions, SettingsError> {
        let canonicalization = Canonicalization::from_tag(section.canonicalization.trim())
            .ok_or_else(|| self.error("signing", "canonicalization", "expected header/body"))?;
        for name in section.headers.iter().chain(&section.oversign_headers) {
            dkim::sign::validate_header_name(name)
                .map_err(|e| self.error("signing", "headers", e))?;
        }
        Ok(SignOptions {
            canonicalization,
            headers: section.headers.clone(),
            oversigned: section.oversign_headers.clone(),
            timestamp: section.timestamp,
            expire_after: (section.signature_ttl > 0).then_some(section.signature_ttl),
            body_length: section.body_length,
            header_limits: HeaderLimits {
                max_fields: verify.max_header_fields,
                max_bytes: verify.max_header_bytes,
            },
        })
    }

    fn inbound(
        &self,
        file: &SettingsFile,
        authserv_id: &str,
    ) -> Result<inbound::Config, SettingsError> {
        let mut config = inbound::Config::new(authserv_id, 0);
        let verify = &file.verify;
        config.dkim = VerifyConfig {
            max_signatures: verify.max_signatures,
            allow_sha1: verify.allow_sha1 || verify.legacy,
            min_rsa_bits: if verify.legacy {
                verify.min_key_bits.min(512)
            } else {
                verify.min_key_bits
            },
            clock_skew: verify.clock_skew,
            max_header_fields: verify.max_header_fields,
            max_header_bytes: verify.max_header_bytes,
            unsigned_body_content: match verify.unsigned_body_content.as_str() {
                "report" => UnsignedBodyContent::Report,
                "fail" => UnsignedBodyContent::Fail,
                _ => {
                    return Err(self.error(
                        "verify",
                        "unsigned_body_content",
                        "expected \"report\" or \"fail\"",
                    ));
                }
            },
            key_cache: cache(
                verify.key_cache,
                verify.key_cache_entries,
                KeyCache::process_wide,
                KeyCache::new,
            ),
        };
        let spf = &file.spf;
        let void_lookup_counting = match spf.void_lookup_counting.as_str() {
            "per-term" => VoidLookupCounting::PerTerm,
            "per-lookup" => VoidLookupCounting::PerLookup,
            _ => {
                return Err(self.error(
                    "spf",
                    "void_lookup_counting",
                    "expected \"per-term\" or \"per-lookup\"",
                ));
            }
        };
        let receiver = if spf.receiver == HOSTNAME {
            host_name()
        } else {
            spf.receiver.clone()
        };
        let spf_config = spf::Config {
            max_dns_mechanisms: spf.max_dns_mechanisms,
            max_void_lookups: spf.max_void_lookups,
            void_lookup_counting,
            max_mx_names: spf.max_mx_names,
            max_ptr_names: spf.max_ptr_names,
            max_terms: spf.max_terms,
            max_explanation_len: spf.max_explanation_len,
            default_explanation: if spf.default_explanation == spf::DEFAULT_EXPLANATION {
                crate::SmolStr::new_static(spf::DEFAULT_EXPLANATION)
            } else {
                spf.default_explanation.as_str().into()
            },
            receiver: receiver.into(),
            record_cache: cache(
                spf.record_cache,
                spf.record_cache_entries,
                spf::RecordCache::process_wide,
                spf::RecordCache::new,
            ),
        };
        config.spf = spf_config;
        config.check_helo = spf.check_helo;
        let dm = &file.dmarc;
        let mode: dmarc::Mode = dm
            .mode
            .parse()
            .map_err(|e| self.error("dmarc", "mode", e))?;
        let public_suffix_list = if dm.public_suffix_list.is_empty() {
            None
        } else {
            let path = self.path(&dm.public_suffix_list);
            let list = PublicSuffixList::from_file(&path)
                .map_err(|e| self.error("dmarc", "public_suffix_list", e))?;
            Some(Arc::new(list))
        };
        config.dmarc = dmarc::Config {
            mode,
            max_tree_walk_queries: dm.max_tree_walk_queries,
            public_suffix_list,
            max_record_bytes: dm.max_record_bytes,
            max_report_uris: dm.max_report_uris,
            max_from_addresses: dm.max_from_addresses,
            max_identifiers: dm.max_identifiers,
            strict_records: dm.strict_records,
            record_cache: cache(
                dm.record_cache,
                dm.record_cache_entries,
                dmarc::RecordCache::process_wide,
                dmarc::RecordCache::new,
            ),
        };
        config
            .trusted_authserv_ids
            .clone_from(&file.trusted_authserv_ids);
        let section = &file.arc;
        if section.max_sets == 0 || section.max_sets > arc::MAX_INSTANCE as usize {
            return Err(self.error("arc", "max_sets", "must be 1 to 50"));
        }
        config.arc = section.verify.then(|| arc::Config {
            max_sets: section.max_sets,
            allow_sha1: section.allow_sha1,
            min_rsa_bits: section.min_key_bits,
            oldest_pass: section.oldest_pass,
            max_header_fields: verify.max_header_fields,
            max_header_bytes: verify.max_header_bytes,
            // The same keys as DKIM verification's.
            key_cache: config.dkim.key_cache.clone(),
        });
        let b = &file.bimi;
        config.bimi = bimi::Config {
            enabled: b.enabled,
            max_record_bytes: b.max_record_bytes,
            max_location_uris: b.max_location_uris,
            require_signed_selector: b.require_signed_selector,
        };
        config.trusted_arc_sealers = section
            .trusted_sealers
            .iter()
            .map(|d| Name::new(d).map_err(|e| self.error("arc", "trusted_sealers", e)))
            .collect::<Result<_, _>>()?;
        // The session decides which clients are not checked.
        config.skip_authenticated = false;
        Ok(config)
    }

    fn stub(&self, dns: &DnsSection) -> Result<DnsSettings, SettingsError> {
        let mut nameservers = Vec::new();
        for server in &dns.nameservers {
            let server: NameServer = server
                .parse()
                .map_err(|e| self.error("dns", "nameservers", e))?;
            nameservers.push(server);
        }
        if dns.timeout_ms == 0 {
            return Err(self.error("dns", "timeout_ms", "must be more than 0"));
        }
        Ok(DnsSettings {
            nameservers,
            timeout: std::time::Duration::from_millis(dns.timeout_ms),
            attempts: dns.attempts,
            cache_entries: dns.cache_entries,
        })
    }
}
