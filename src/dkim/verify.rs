//! DKIM verification (RFC 6376 §6, with RFC 8301 and RFC 8463).
//!
//! Two steps:
//!
//! 1. [`Verifier`]: feed the message in chunks with [`Verifier::feed`]. The
//!    header is collected (within [`VerifyConfig`] bounds); when it ends, the
//!    DKIM-Signature fields are parsed and the body is hashed while it
//!    streams, once per distinct (body canonicalization, hash, `l=`)
//!    combination. Memory stays constant whatever the body size.
//! 2. [`Verifier::finish`] returns a [`VerifyCheck`], a [`Machine`] that asks
//!    for every key record at once (`<selector>._domainkey.<domain>` TXT) in
//!    one [`Poll::Lookups`], then checks each signature and finishes with a
//!    [`Verification`]: one [`SignatureResult`] per DKIM-Signature field, in
//!    message order, with an RFC 8601 result and a [`Reason`].
//!
//! ```
//! use mailauth::dkim::{Verifier, VerifyConfig};
//! use mailauth::dns::ZoneResolver;
//!
//! let mut verifier = Verifier::new(&VerifyConfig::default(), 1_700_000_000);
//! verifier.feed(b"From: alice@example.org\r\nSubject: hi\r\n\r\nHello\r\n");
//! let outcome = mailauth::resolve(verifier.finish(), &ZoneResolver::new());
//! assert!(outcome.signatures.is_empty()); // no signature: dkim=none
//! ```
//!
//! # Key records
//!
//! The strings of a TXT record are joined (RFC 6376 §3.6.2.2). When the name
//! holds several TXT records, §3.6.2.2 leaves the choice to the verifier: the
//! first record that parses as a key record is used; if none parses, the
//! error of the first is reported.

use std::fmt;

use std::sync::Arc;

use super::cache::{KeyCache, ParsedKey};
use super::canon::{BodyHash, BodyHashers};
use super::crypto;
use super::key::KeyRecordError;
use super::signature::{Identity, Signature, SignatureFieldError};
use super::tags::{self, TagList};
use super::{Algorithm, HashAlgorithm, KeyType};
use crate::authres::{MethodResult, Property};
use crate::dns::{Answer, Failure, Name, Query, Records};
use crate::machine::{Machine, Poll, Progress, UnexpectedAnswer};
use crate::message::{HeaderError, HeaderField, HeaderLimits, MessageReader};
use crate::word::Word;

/// What to do when `l=` leaves part of the body unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnsignedBodyContent {
    /// Verify as usual and report the unsigned octets in
    /// [`SignatureResult::unsigned_body_octets`].
    #[default]
    Report,
    /// Treat the signature as failed ([`Reason::UnsignedBodyContent`]):
    /// content appended after signing could be anything.
    Fail,
}

/// Settings of the verifier. Every limit has a safe default; build with
/// `VerifyConfig { field: value, ..VerifyConfig::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// The most DKIM-Signature fields checked (in message order, from the
    /// top); the others are reported with [`Reason::NotChecked`].
    /// Default 5.
    pub max_signatures: usize,
    /// Accept rsa-sha1 signatures. Default false: RFC 8301 §3.1 says
    /// verifiers must not consider them valid.
    pub allow_sha1: bool,
    /// Smallest RSA key accepted, in bits. Default 1024 (RFC 8301 §3.2).
    pub min_rsa_bits: usize,
    /// Seconds of tolerance for `x=` (expiry) and `t=` (a timestamp in the
    /// future). Default 300.
    pub clock_skew: u64,
    /// The most header fields read (default 1,000).
    pub max_header_fields: usize,
    /// The most header octets read (default 1 MiB).
    pub max_header_bytes: usize,
    /// What to do when `l=` leaves body content unsigned.
    pub unsigned_body_content: UnsignedBodyContent,
    /// Key records read once and kept across messages (see [`KeyCache`]).
    /// Default: [`KeyCache::process_wide`], shared by the whole process;
    /// `None` reads each key record anew. The cache never changes a
    /// verdict (it is keyed by the exact record text), it saves work.
    pub key_cache: Option<KeyCache>,
}

impl Default for VerifyConfig {
    fn default() -> VerifyConfig {
        let limits = HeaderLimits::default();
        VerifyConfig {
            max_signatures: 5,
            allow_sha1: false,
            min_rsa_bits: 1024,
            clock_skew: 300,
            max_header_fields: limits.max_fields,
            max_header_bytes: limits.max_bytes,
            unsigned_body_content: UnsignedBodyContent::Report,
            key_cache: Some(KeyCache::process_wide()),
        }
    }
}

impl VerifyConfig {
    /// RFC 6376 before RFC 8301: rsa-sha1 and RSA keys of 512 bits and more
    /// accepted (for old archives; not for mail received today).
    pub fn legacy() -> VerifyConfig {
        VerifyConfig {
            allow_sha1: true,
            min_rsa_bits: 512,
            ..VerifyConfig::default()
        }
    }
}

/// The DKIM result of one signature (RFC 8601 §2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DkimResult {
    /// The signature verified.
    Pass,
    /// The signature did not verify (body or header changed, or the
    /// signature is wrong).
    Fail,
    /// The signature could not be processed.
    Neutral,
    /// The signature verified but local policy does not accept it.
    Policy,
    /// A temporary error (a DNS failure): try again later.
    TempError,
    /// A permanent error: a malformed signature, a missing, revoked or
    /// unusable key, a refused algorithm.
    PermError,
}

impl DkimResult {
    /// The name used in Authentication-Results.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimResult::Pass => "pass",
            DkimResult::Fail => "fail",
            DkimResult::Neutral => "neutral",
            DkimResult::Policy => "policy",
            DkimResult::TempError => "temperror",
            DkimResult::PermError => "permerror",
        }
    }
}

impl std::str::FromStr for DkimResult {
    type Err = crate::authres::UnknownResult;

    /// A result name as [`DkimResult::as_str`] writes it, in any case (as
    /// read back from Authentication-Results).
    fn from_str(s: &str) -> Result<DkimResult, crate::authres::UnknownResult> {
        DkimResult::from_word(s).ok_or(crate::authres::UnknownResult)
    }
}

impl Word for DkimResult {
    const ALL: &'static [DkimResult] = &[
        DkimResult::Pass,
        DkimResult::Fail,
        DkimResult::Neutral,
        DkimResult::Policy,
        DkimResult::TempError,
        DkimResult::PermError,
    ];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for DkimResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature did not pass (or, for a pass, nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// The body hash does not match `bh=`.
    #[error("body hash did not verify")]
    BodyHashMismatch,
    /// The signature does not match the signed header fields.
    #[error("signature did not verify")]
    SignatureMismatch,
    /// `l=` left body content unsigned and the configuration refuses that.
    #[error("body content not covered by the signature (l=)")]
    UnsignedBodyContent,
    /// The DKIM-Signature field is malformed or unsupported.
    #[error("malformed signature: {0}")]
    Malformed(SignatureFieldError),
    /// The key record does not exist (NXDOMAIN or no TXT record).
    #[error("no key for signature")]
    KeyNotFound,
    /// The key lookup failed for now.
    #[error("key lookup failed: {0}")]
    KeyLookupTempFailure(Failure),
    /// The key lookup failed for good.
    #[error("key lookup failed: {0}")]
    KeyLookupPermFailure(Failure),
    /// The key record is malformed.
    #[error("malformed key record: {0}")]
    KeyRecordSyntax(KeyRecordError),
    /// The key was revoked (empty `p=`).
    #[error("key revoked")]
    KeyRevoked,
    /// The public key data cannot be used.
    #[error("unusable public key: {0}")]
    BadKey(crypto::KeyError),
    /// The key record's `k=` does not suit the algorithm.
    #[error("key type {key_type} does not suit algorithm {algorithm}")]
    KeyTypeMismatch {
        /// The key record's type.
        key_type: KeyType,
        /// The signature's algorithm.
        algorithm: Algorithm,
    },
    /// The key record's `h=` does not allow the signature's hash.
    #[error("hash {0} not allowed by the key record")]
    HashNotAllowed(HashAlgorithm),
    /// The key record's `s=` does not include email.
    #[error("key not for email (s=)")]
    ServiceTypeMismatch,
    /// The key record has `t=s` and the domain of `i=` is not `d=` itself.
    #[error("identity domain must equal signing domain (key t=s)")]
    StrictIdentityViolation,
    /// rsa-sha1 is refused (RFC 8301 §3.1).
    #[error("rsa-sha1 refused")]
    Sha1Refused,
    /// The RSA key is smaller than [`VerifyConfig::min_rsa_bits`].
    #[error("key too short: {bits} bits, {minimum} required")]
    KeyTooShort {
        /// The key's size.
        bits: usize,
        /// The configured minimum.
        minimum: usize,
    },
    /// The crypto backend cannot verify with an RSA key of this size (both
    /// backends handle 512 to 8192 bits).
    #[error("rsa key of {bits} bits not supported by the crypto backend")]
    UnsupportedKeySize {
        /// The key's size.
        bits: usize,
    },
    /// `x=` is in the past.
    #[error("signature expired")]
    Expired,
    /// `t=` is in the future.
    #[error("signature timestamp in the future")]
    TimestampInFuture,
    /// The message header went past a configured bound, so the signed
    /// fields cannot be trusted to be all there.
    #[error("message header too large: {0}")]
    HeaderLimit(HeaderError),
    /// More signatures than [`VerifyConfig::max_signatures`]: not checked.
    #[error("not checked: too many signatures")]
    NotChecked,
    /// The crypto backend failed.
    #[error("crypto backend failure")]
    Backend,
}

impl Reason {
    /// The result this reason leads to.
    pub fn result(&self) -> DkimResult {
        match self {
            Reason::BodyHashMismatch | Reason::SignatureMismatch | Reason::UnsignedBodyContent => {
                DkimResult::Fail
            }
            Reason::KeyLookupTempFailure(_) => DkimResult::TempError,
            Reason::NotChecked => DkimResult::Neutral,
            _ => DkimResult::PermError,
        }
    }
}

/// The outcome for one DKIM-Signature field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureResult {
    /// The result.
    pub result: DkimResult,
    /// Why the result is not pass; `None` for pass.
    pub reason: Option<Reason>,
    /// `d=` (also read from a malformed signature when possible).
    pub domain: Option<Name>,
    /// `s=`.
    pub selector: Option<String>,
    /// `a=`.
    pub algorithm: Option<Algorithm>,
    /// `i=`, or `@` + `d=` when absent.
    pub identity: Option<Identity>,
    /// The first characters of `b=` (`header.b` in Authentication-Results,
    /// RFC 6008).
    pub signature_prefix: Option<String>,
    /// The size of the key in bits, once the key was read.
    pub key_bits: Option<usize>,
    /// `l=`, when present.
    pub body_length: Option<u64>,
    /// Canonical body octets after the `l=` limit, not covered by the
    /// signature (0 when all is signed).
    pub unsigned_body_octets: u64,
    /// The key record says the domain is testing DKIM (`t=y`).
    pub testing: bool,
}

/// The outcome of verifying a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// One result per DKIM-Signature field, in message order. Empty when the
    /// message has no signature (`dkim=none`).
    pub signatures: Vec<SignatureResult>,
    /// The header went past a configured bound.
    pub header_error: Option<HeaderError>,
    /// Whether the empty line between header and body was found; without it
    /// the message is all header and the body is empty.
    pub header_complete: bool,
}

impl SignatureResult {
    /// The `dkim=` entry of Authentication-Results for this signature
    /// (RFC 8601 §2.7.1; `header.b` from RFC 6008).
    pub fn to_method_result(&self) -> MethodResult {
        let mut properties = Vec::with_capacity(5);
        if let Some(domain) = &self.domain {
            properties.push(Property::new("header", "d", domain.to_smol_str()));
        }
        if let Some(identity) = &self.identity {
            let local = identity.local_part.as_deref().unwrap_or_default();
            // Built inline when short, as most identities are.
            let mut text = smol_str::SmolStrBuilder::new();
            text.push_str(&String::from_utf8_lossy(local));
            text.push('@');
            text.push_str(identity.domain.as_str());
            properties.push(Property::new("header", "i", text.finish()));
        }
        if let Some(selector) = &self.selector {
            properties.push(Property::new("header", "s", selector.as_str()));
        }
        if let Some(algorithm) = self.algorithm {
            let algorithm = crate::SmolStr::new_static(algorithm.as_str());
            properties.push(Property::new("header", "a", algorithm));
        }
        if let Some(prefix) = &self.signature_prefix {
            properties.push(Property::new("header", "b", prefix.as_str()));
        }
        MethodResult {
            method: "dkim".into(),
            result: self.result.as_str().into(),
            reason: self.reason.as_ref().map(ToString::to_string),
            properties,
        }
    }
}

impl Verification {
    /// The `dkim=` entries of Authentication-Results: one per signature,
    /// or a single `dkim=none` for a message without any (RFC 8601 §2.7.1).
    pub fn to_method_results(&self) -> Vec<MethodResult> {
        if self.signatures.is_empty() {
            return vec![MethodResult {
                method: "dkim".into(),
                result: "none".into(),
                reason: None,
                properties: Vec::new(),
            }];
        }
        self.signatures
            .iter()
            .map(SignatureResult::to_method_result)
            .collect()
    }

    /// The signatures that passed.
    pub fn passed(&self) -> impl Iterator<Item = &SignatureResult> {
        self.signatures
            .iter()
            .filter(|s| s.result == DkimResult::Pass)
    }
}

/// Length of the `header.b` prefix (RFC 6008 §4 suggests at least 8).
const SIGNATURE_PREFIX_LEN: usize = 8;

/// A DKIM-Signature field found in the header.
#[derive(Debug)]
struct Found {
    report: SignatureResult,
    state: FoundState,
}

#[derive(Debug)]
enum FoundState {
    /// The result is known already.
    Decided,
    /// Parsed and checked; the key and body hash decide.
    Candidate {
        signature: Box<Signature>,
        body_hash: usize,
        header_data: Vec<u8>,
    },
}

/// Streams a message and collects what verification needs.
///
/// Call [`feed`](Self::feed) with each chunk of the message (any split), then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct Verifier {
    config: VerifyConfig,
    now: u64,
    reader: MessageReader,
    prepared: bool,
    found: Vec<Found>,
    hashers: BodyHashers,
    /// The header fields, kept once the header is complete.
    fields: Vec<HeaderField>,
}

impl Verifier {
    /// A verifier for one message; `now` is the current time in seconds since
    /// the Unix epoch, for `t=` and `x=`.
    pub fn new(config: &VerifyConfig, now: u64) -> Verifier {
        Verifier {
            config: config.clone(),
            now,
            reader: MessageReader::new(HeaderLimits {
                max_fields: config.max_header_fields,
                max_bytes: config.max_header_bytes,
            }),
            prepared: false,
            found: Vec::new(),
            hashers: BodyHashers::default(),
            fields: Vec::new(),
        }
    }

    /// Feeds the next chunk of the message.
    pub fn feed(&mut self, chunk: &[u8]) {
        let body = self.reader.feed(chunk);
        if !self.prepared && self.reader.header_complete() {
            self.prepare();
        }
        self.hashers.update(body);
    }

    /// Ends the message; the returned machine fetches the keys and checks
    /// the signatures.
    pub fn finish(self) -> VerifyCheck {
        self.finish_with_fields().0
    }

    /// As [`finish`](Self::finish), also returning the header fields read
    /// (within [`VerifyConfig::max_header_fields`] and
    /// [`VerifyConfig::max_header_bytes`]), for a caller that needs other
    /// fields of the header without scanning it a second time.
    pub fn finish_with_fields(mut self) -> (VerifyCheck, Vec<HeaderField>) {
        self.reader.finish();
        if !self.prepared {
            self.prepare();
        }
        let body_hashes: Vec<BodyHash> = self.hashers.finish();
        let check = VerifyCheck::new(
            self.found,
            body_hashes,
            &self.config,
            Verification {
                signatures: Vec::new(),
                header_error: self.reader.error(),
                header_complete: self.reader.header_complete(),
            },
        );
        (check, self.fields)
    }

    /// The header is complete: parse the signatures, compute the header
    /// data each one signs, set up the body hashers.
    fn prepare(&mut self) {
        self.prepared = true;
        let fields = self.reader.take_fields();
        let header_error = self.reader.error();
        // Built when the first signature needs it: unsigned mail skips it.
        let mut index: Option<FieldLookup<'_>> = None;
        let mut checked = 0usize;
        for field in &fields {
            if !field.is_named(b"DKIM-Signature") {
                continue;
            }
            if let Some(error) = header_error {
                let report = preliminary_report(field.value());
                self.found.push(decided(report, Reason::HeaderLimit(error)));
                continue;
            }
            if checked >= self.config.max_signatures {
                let report = preliminary_report(field.value());
                self.found.push(decided(report, Reason::NotChecked));
                continue;
            }
            checked += 1;
            let signature = match Signature::parse(field.value()) {
                Ok(signature) => signature,
                Err(error) => {
                    let report = preliminary_report(field.value());
                    self.found.push(decided(report, Reason::Malformed(error)));
                    continue;
                }
            };
            let mut report = SignatureResult {
                result: DkimResult::Neutral,
                reason: None,
                domain: Some(signature.domain.clone()),
                selector: Some(signature.selector.clone()),
                algorithm: Some(signature.algorithm),
                identity: None,
                signature_prefix: Some(
                    signature.signature_prefix(field.value(), SIGNATURE_PREFIX_LEN),
                ),
                key_bits: None,
                body_length: None,
                unsigned_body_octets: 0,
                testing: false,
            };
            report.identity = Some(signature.effective_identity());
            report.body_length = signature.body_length;
            if let Some(reason) = self.early_reason(&signature) {
                self.found.push(decided(report, reason));
                continue;
            }
            let index = index.get_or_insert_with(|| FieldLookup::new(&fields));
            let header_data = header_data(&signature, field, index);
            let body_hash = self.hashers.index_for(
                signature.canonicalization.body,
                signature.algorithm.hash(),
                signature.body_length,
            );
            self.found.push(Found {
                report,
                state: FoundState::Candidate {
                    signature: Box::new(signature),
                    body_hash,
                    header_data,
                },
            });
        }
        self.fields = fields;
    }

    /// Checks that need neither the key nor the body.
    fn early_reason(&self, signature: &Signature) -> Option<Reason> {
        if signature.algorithm == Algorithm::RsaSha1 && !self.config.allow_sha1 {
            return Some(Reason::Sha1Refused);
        }
        if let Some(expires_at) = signature.expires_at
            && self.now > expires_at.saturating_add(self.config.clock_skew)
        {
            return Some(Reason::Expired);
        }
        if let Some(timestamp) = signature.timestamp
            && timestamp > self.now.saturating_add(self.config.clock_skew)
        {
            return Some(Reason::TimestampInFuture);
        }
        None
    }
}

fn decided(report: SignatureResult, reason: Reason) -> Found {
    Found {
        report: SignatureResult {
            result: reason.result(),
            reason: Some(reason),
            ..report
        },
        state: FoundState::Decided,
    }
}

/// What can be read from a signature field even when it is malformed.
fn preliminary_report(value: &[u8]) -> SignatureResult {
    let list = TagList::parse(value).ok();
    let text = |name: &str| {
        list.as_ref()
            .and_then(|l| l.get(name))
            .and_then(|v| std::str::from_utf8(v).ok())
    };
    SignatureResult {
        result: DkimResult::Neutral,
        reason: None,
        domain: text("d").and_then(|d| Name::new(d).ok()),
        selector: text("s").map(str::to_owned),
        algorithm: text("a").and_then(Algorithm::from_name),
        identity: None,
        signature_prefix: list.as_ref().and_then(|l| l.get("b")).map(|b| {
            let compact = tags::strip_whitespace(b);
            let prefix = compact.get(..SIGNATURE_PREFIX_LEN).unwrap_or(&compact);
            String::from_utf8_lossy(prefix).into_owned()
        }),
        key_bits: None,
        body_length: None,
        unsigned_body_octets: 0,
        testing: false,
    }
}

/// Header fields grouped by name (ASCII case-insensitive), each group in
/// message order: one sorted vector of field positions, no hashing and no
/// copy of the names.
pub(crate) struct FieldIndex<'a> {
    fields: &'a [HeaderField],
    /// Positions in `fields` of the fields that have a name, sorted by
    /// lowercased name, then by position.
    order: Vec<usize>,
}

/// Compares two field names as their lowercased forms.
fn compare_names(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.iter()
        .map(u8::to_ascii_lowercase)
        .cmp(b.iter().map(u8::to_ascii_lowercase))
}

impl<'a> FieldIndex<'a> {
    fn new(fields: &'a [HeaderField]) -> FieldIndex<'a> {
        let mut order: Vec<usize> = (0..fields.len())
            .filter(|&i| fields.get(i).and_then(HeaderField::name).is_some())
            .collect();
        let name = |i: usize| {
            fields
                .get(i)
                .and_then(HeaderField::name)
                .unwrap_or_default()
        };
        // Stable: positions stay in message order within a name.
        order.sort_by(|&a, &b| compare_names(name(a), name(b)));
        FieldIndex { fields, order }
    }

    fn name(&self, position: usize) -> &'a [u8] {
        self.fields
            .get(position)
            .and_then(HeaderField::name)
            .unwrap_or_default()
    }

    /// Where the fields named `name` lie in `order`.
    fn group(&self, name: &[u8]) -> std::ops::Range<usize> {
        let start = self
            .order
            .partition_point(|&i| compare_names(self.name(i), name).is_lt());
        let end = self
            .order
            .partition_point(|&i| compare_names(self.name(i), name).is_le());
        start..end.max(start)
    }
}

/// Up to this many header fields, the fields a signature names are found by
/// scanning the header from the bottom for each name (a bit per field marks
/// those taken); past it, through a [`FieldIndex`], so that a header of
/// thousands of fields and an `h=` naming thousands of them stay linear.
const SCANNED_FIELDS: usize = 64;

/// How [`header_data`] finds the fields named by `h=`.
pub(crate) enum FieldLookup<'a> {
    /// A short header, scanned.
    Scan(&'a [HeaderField]),
    /// A long header, indexed.
    Index(FieldIndex<'a>),
}

impl<'a> FieldLookup<'a> {
    pub(crate) fn new(fields: &'a [HeaderField]) -> FieldLookup<'a> {
        if fields.len() <= SCANNED_FIELDS {
            FieldLookup::Scan(fields)
        } else {
            FieldLookup::Index(FieldIndex::new(fields))
        }
    }

    fn fields(&self) -> &'a [HeaderField] {
        match self {
            FieldLookup::Scan(fields) => fields,
            FieldLookup::Index(index) => index.fields,
        }
    }
}

/// The data the signature signs (RFC 6376 §3.7, §5.4.2): the fields named by
/// `h=`, each name taking the next instance from the bottom up (a name with
/// no instance left contributes nothing), then the DKIM-Signature field
/// itself with the `b=` value removed and no final CRLF.
fn header_data(
    signature: &Signature,
    own_field: &HeaderField,
    lookup: &FieldLookup<'_>,
) -> Vec<u8> {
    signed_header_data(
        signature.canonicalization.header,
        &signature.signed_headers,
        own_field,
        signature.signature_value_range(),
        lookup,
    )
}

/// [`header_data`] for any signature of the DKIM kind (a DKIM-Signature or
/// an ARC-Message-Signature): `signed_headers` is its `h=`, `value_range`
/// where its `b=` value lies in `own_field`'s value.
pub(crate) fn signed_header_data(
    canonicalization: super::canon::HeaderCanonicalization,
    signed_headers: &[String],
    own_field: &HeaderField,
    value_range: std::ops::Range<usize>,
    lookup: &FieldLookup<'_>,
) -> Vec<u8> {
    let mut data = Vec::with_capacity(
        lookup
            .fields()
            .iter()
            .map(|f| f.raw().len() + 2)
            .sum::<usize>()
            + own_field.raw().len(),
    );
    let mut append = |field: &HeaderField| {
        canonicalization.append(
            field.raw_name().unwrap_or_default(),
            field.value(),
            &mut data,
        );
    };
    match lookup {
        FieldLookup::Scan(fields) => {
            // Bit i: field i was taken by an earlier name. A field is only
            // ever taken by names equal to its own, so one set of bits
            // serves every name.
            let mut taken = 0u64;
            for name in signed_headers {
                let found = fields
                    .iter()
                    .enumerate()
                    .take(SCANNED_FIELDS)
                    .rev()
                    .find(|&(i, field)| taken & (1 << i) == 0 && field.is_named(name.as_bytes()));
                if let Some((i, field)) = found {
                    taken |= 1 << i;
                    append(field);
                }
            }
        }
        FieldLookup::Index(index) => {
            // How many instances each group gave already, kept at the
            // group's start.
            let mut used = vec![0usize; index.order.len()];
            for name in signed_headers {
                let group = index.group(name.as_bytes());
                let Some(taken) = used.get_mut(group.start).filter(|_| !group.is_empty()) else {
                    continue;
                };
                if *taken >= group.len() {
                    continue;
                }
                *taken += 1;
                if let Some(field) = index
                    .order
                    .get(group.end - *taken)
                    .and_then(|&i| index.fields.get(i))
                {
                    append(field);
                }
            }
        }
    }
    canonicalization.append_without(
        own_field.raw_name().unwrap_or_default(),
        own_field.value(),
        value_range,
        &mut data,
    );
    // No CRLF after the signature field (RFC 6376 §3.7).
    data.truncate(data.len().saturating_sub(2));
    data
}

/// The key lookups and signature checks of one message: a [`Machine`].
#[derive(Debug, Clone)]
pub struct VerifyCheck {
    config: VerifyConfig,
    found: Vec<FoundCheck>,
    body_hashes: Vec<BodyHash>,
    lookups: Vec<(Query, Option<Arc<Answer>>)>,
    outcome: Verification,
    done: bool,
}

#[derive(Debug, Clone)]
struct FoundCheck {
    report: SignatureResult,
    candidate: Option<Candidate>,
}

#[derive(Debug, Clone)]
struct Candidate {
    signature: Box<Signature>,
    body_hash: usize,
    header_data: Vec<u8>,
    lookup: usize,
}

impl VerifyCheck {
    fn new(
        found: Vec<Found>,
        body_hashes: Vec<BodyHash>,
        config: &VerifyConfig,
        outcome: Verification,
    ) -> VerifyCheck {
        let mut lookups: Vec<(Query, Option<Arc<Answer>>)> = Vec::new();
        let mut checks = Vec::with_capacity(found.len());
        for Found { report, state } in found {
            let candidate = match state {
                FoundState::Decided => None,
                FoundState::Candidate {
                    signature,
                    body_hash,
                    header_data,
                } => match signature.key_name() {
                    Ok(name) => {
                        let query = Query::txt(name);
                        let lookup = match lookups.iter().position(|(q, _)| *q == query) {
                            Some(i) => i,
                            None => {
                                lookups.push((query, None));
                                lookups.len() - 1
                            }
                        };
                        Some(Candidate {
                            signature,
                            body_hash,
                            header_data,
                            lookup,
                        })
                    }
                    Err(_) => {
                        let reason = Reason::Malformed(SignatureFieldError::InvalidSelector);
                        checks.push(FoundCheck {
                            report: SignatureResult {
                                result: reason.result(),
                                reason: Some(reason),
                                ..report
                            },
                            candidate: None,
                        });
                        continue;
                    }
                },
            };
            checks.push(FoundCheck { report, candidate });
        }
        VerifyCheck {
            config: config.clone(),
            found: checks,
            body_hashes,
            lookups,
            outcome,
            done: false,
        }
    }

    fn evaluate(&mut self) {
        let mut results = Vec::with_capacity(self.found.len());
        // Evaluated once: the reports are moved into the outcome.
        for check in std::mem::take(&mut self.found) {
            let mut report = check.report;
            if let Some(candidate) = &check.candidate {
                let answer = self
                    .lookups
                    .get(candidate.lookup)
                    .and_then(|(_, a)| a.as_deref());
                let reason = self.check_signature(candidate, answer, &mut report);
                report.result = reason.as_ref().map_or(DkimResult::Pass, Reason::result);
                report.reason = reason;
            }
            results.push(report);
        }
        self.outcome.signatures = results;
        self.done = true;
    }

    /// RFC 6376 §6.1.2 and §6.1.3 for one signature; `None` is a pass.
    fn check_signature(
        &self,
        candidate: &Candidate,
        answer: Option<&Answer>,
        report: &mut SignatureResult,
    ) -> Option<Reason> {
        let signature = &candidate.signature;
        let parsed = match read_key(answer, self.config.key_cache.as_ref()) {
            Ok(parsed) => parsed,
            Err(reason) => return Some(reason),
        };
        let record = &parsed.record;
        report.testing = record.testing;
        if let Err(reason) = check_key_record(&parsed, signature.algorithm) {
            return Some(reason);
        }
        if record.strict_identity
            && signature
                .identity
                .as_ref()
                .is_some_and(|i| i.domain != signature.domain)
        {
            return Some(Reason::StrictIdentityViolation);
        }
        let key = match public_key(&parsed, self.config.min_rsa_bits, &mut report.key_bits) {
            Ok(key) => key,
            Err(reason) => return Some(reason),
        };
        let body = self.body_hashes.get(candidate.body_hash)?;
        report.unsigned_body_octets = body.canonical_length.saturating_sub(body.hashed_length);
        if body.digest != signature.body_hash {
            return Some(Reason::BodyHashMismatch);
        }
        if let Err(reason) = verify_signature(
            key,
            signature.algorithm,
            &candidate.header_data,
            &signature.signature,
        ) {
            return Some(reason);
        }
        if report.unsigned_body_octets > 0
            && self.config.unsigned_body_content == UnsignedBodyContent::Fail
        {
            return Some(Reason::UnsignedBodyContent);
        }
        None
    }
}

/// The key record in a TXT answer, parsed (through `cache` when given).
/// The strings of a record are joined; of several records, the first that
/// parses is used (see the [module docs](self)).
pub(crate) fn read_key(
    answer: Option<&Answer>,
    cache: Option<&KeyCache>,
) -> Result<Arc<ParsedKey>, Reason> {
    match answer {
        None | Some(Answer::NxDomain | Answer::NoData) => Err(Reason::KeyNotFound),
        Some(Answer::TempFail(failure)) => Err(Reason::KeyLookupTempFailure(*failure)),
        Some(Answer::PermFail(failure)) => Err(Reason::KeyLookupPermFailure(*failure)),
        Some(Answer::Records(Records::Txt(records))) => {
            let mut first_error = None;
            for txt in records {
                let parsed = match cache {
                    Some(cache) => cache.get_or_parse(&txt.joined_bytes()),
                    None => ParsedKey::parse(&txt.joined_bytes()).map(Arc::new),
                };
                match parsed {
                    Ok(parsed) => return Ok(parsed),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            Err(first_error.map_or(Reason::KeyNotFound, Reason::KeyRecordSyntax))
        }
        Some(_) => Err(Reason::KeyNotFound),
    }
}

/// The checks of a key record against the algorithm of a signature:
/// revoked, `h=`, `k=`, `s=` (RFC 6376 §6.1.2).
pub(crate) fn check_key_record(parsed: &ParsedKey, algorithm: Algorithm) -> Result<(), Reason> {
    let record = &parsed.record;
    if record.is_revoked() {
        return Err(Reason::KeyRevoked);
    }
    if !record.allows_hash(algorithm.hash()) {
        return Err(Reason::HashNotAllowed(algorithm.hash()));
    }
    if parsed.key_type() != algorithm.key_type() {
        return Err(Reason::KeyTypeMismatch {
            key_type: parsed.key_type(),
            algorithm,
        });
    }
    if !record.allows_email() {
        return Err(Reason::ServiceTypeMismatch);
    }
    Ok(())
}

/// The usable public key of a record, at least `minimum` bits for RSA
/// (RFC 8301 §3.2); its size goes to `key_bits` once known.
pub(crate) fn public_key<'k>(
    parsed: &'k ParsedKey,
    minimum: usize,
    key_bits: &mut Option<usize>,
) -> Result<&'k crypto::PublicKey, Reason> {
    let key = match &parsed.key {
        Some(Ok(key)) => key,
        Some(Err(crypto::KeyError::UnsupportedKeySize { bits, .. })) if *bits < minimum => {
            *key_bits = Some(*bits);
            return Err(Reason::KeyTooShort {
                bits: *bits,
                minimum,
            });
        }
        Some(Err(error)) => return Err(Reason::BadKey(error.clone())),
        None => return Err(Reason::KeyRevoked),
    };
    *key_bits = Some(key.bits());
    if key.key_type() == KeyType::Rsa && key.bits() < minimum {
        return Err(Reason::KeyTooShort {
            bits: key.bits(),
            minimum,
        });
    }
    Ok(key)
}

/// Checks `signature` over `data` with `key`, crypto errors as reasons.
pub(crate) fn verify_signature(
    key: &crypto::PublicKey,
    algorithm: Algorithm,
    data: &[u8],
    signature: &[u8],
) -> Result<(), Reason> {
    match key.verify(algorithm, data, signature) {
        Ok(()) => Ok(()),
        Err(crypto::CryptoError::Mismatch) => Err(Reason::SignatureMismatch),
        Err(crypto::CryptoError::KeyTypeMismatch { .. }) => Err(Reason::KeyTypeMismatch {
            key_type: key.key_type(),
            algorithm,
        }),
        Err(crypto::CryptoError::UnsupportedKeySize { bits, .. }) => {
            Err(Reason::UnsupportedKeySize { bits })
        }
        Err(_) => Err(Reason::Backend),
    }
}

impl VerifyCheck {
    /// The header went past a configured bound (as in
    /// [`Verification::header_error`]).
    pub fn header_error(&self) -> Option<HeaderError> {
        self.outcome.header_error
    }

    /// The signing domains (`d=`) of the signatures this check verifies, in
    /// message order, before any key is fetched: the identifiers whose
    /// Organizational Domains DMARC alignment may need. Signatures past
    /// [`VerifyConfig::max_signatures`] are left out.
    pub fn signing_domains(&self) -> impl Iterator<Item = &Name> {
        self.found
            .iter()
            .filter(|f| f.report.reason != Some(Reason::NotChecked))
            .filter_map(|f| f.report.domain.as_ref())
    }
}

impl Machine for VerifyCheck {
    type Output = Verification;

    fn poll(&mut self) -> Poll<Verification> {
        let mut queries = Vec::new();
        match self.progress(&mut queries) {
            Progress::Waiting => Poll::Lookups(queries),
            Progress::Done => Poll::Done(self.outcome.clone()),
        }
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        if !self.done {
            let before = queries.len();
            queries.extend(
                self.lookups
                    .iter()
                    .filter(|(_, answer)| answer.is_none())
                    .map(|(query, _)| query.clone()),
            );
            if queries.len() > before {
                return Progress::Waiting;
            }
            self.evaluate();
        }
        Progress::Done
    }

    fn into_output(mut self) -> Result<Verification, VerifyCheck> {
        match self.progress(&mut Vec::new()) {
            Progress::Done => Ok(self.outcome),
            Progress::Waiting => Err(self),
        }
    }

    fn into_output_boxed(mut self: Box<VerifyCheck>) -> Result<Verification, Box<VerifyCheck>> {
        match self.progress(&mut Vec::new()) {
            Progress::Done => Ok(self.outcome),
            Progress::Waiting => Err(self),
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.supply_shared(query, Arc::new(answer))
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        match self
            .lookups
            .iter_mut()
            .find(|(q, a)| q == query && a.is_none())
        {
            Some((_, slot)) if !self.done => {
                *slot = Some(answer);
                Ok(())
            }
            _ => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Header data through the scan and through the index, which must agree.
    fn both_ways(header: &[u8], signed: &str) -> (Vec<u8>, Vec<u8>) {
        let mut reader = MessageReader::new(HeaderLimits::default());
        reader.feed(header);
        reader.feed(b"\r\nbody\r\n");
        let mut fields = reader.take_fields();
        let value = format!(
            " v=1; a=rsa-sha256; c=relaxed/simple; d=example.org; s=sel; h={signed}; bh=YWJj; b=YWJj"
        );
        fields.push(HeaderField::from_raw(
            format!("DKIM-Signature:{value}").into_bytes(),
        ));
        let signature = Signature::parse(value.as_bytes()).unwrap();
        let own = fields.last().unwrap();
        let scanned = header_data(&signature, own, &FieldLookup::Scan(&fields));
        let indexed = header_data(
            &signature,
            own,
            &FieldLookup::Index(FieldIndex::new(&fields)),
        );
        (scanned, indexed)
    }

    #[test]
    fn scanned_and_indexed_fields_agree() {
        let header = b"Received: a\r\nFrom: one@example.org\r\nTo: x\r\nfrom : two@example.org\r\nSubject: s\r\nno colon here\r\nFROM:three@example.org\r\nX-Empty:\r\nReceived: b\r\n";
        for signed in [
            "from",
            "From:From:FROM:from",
            "from:to:subject:date:from:x-empty:received:received:received",
            "to:from:from:from:from:from:subject:subject",
            "from:Received:to:received:no-such-field:x-empty",
        ] {
            let (scanned, indexed) = both_ways(header, signed);
            assert_eq!(
                String::from_utf8_lossy(&scanned),
                String::from_utf8_lossy(&indexed),
                "{signed}"
            );
        }
        // The last From is taken first, and names with WSP before the colon
        // count.
        let (data, _) = both_ways(header, "from:from:from:from");
        let text = String::from_utf8(data).unwrap();
        assert!(
            text.starts_with("from:three@example.org\r\nfrom:two@example.org\r\nfrom:one@example.org\r\ndkim-signature:"),
            "{text}"
        );
    }

    #[test]
    fn long_headers_use_the_index() {
        let fields: Vec<HeaderField> = (0..=SCANNED_FIELDS)
            .map(|i| HeaderField::from_raw(format!("X-{i}: {i}").into_bytes()))
            .collect();
        assert!(matches!(FieldLookup::new(&fields), FieldLookup::Index(_)));
        assert!(matches!(
            FieldLookup::new(&fields[..SCANNED_FIELDS]),
            FieldLookup::Scan(_)
        ));
        // The most fields scanned: the signature field is the 64th, so the
        // scan uses every bit.
        let mut header: Vec<u8> = Vec::new();
        for field in &fields[..SCANNED_FIELDS - 2] {
            header.extend_from_slice(field.raw());
            header.extend_from_slice(b"\r\n");
        }
        header.extend_from_slice(b"From: a@example.org\r\n");
        let (scanned, indexed) = both_ways(&header, "from:x-3:x-61:x-0:x-3:dkim-signature:from");
        assert_eq!(scanned, indexed);
        assert!(
            scanned
                .starts_with(b"from:a@example.org\r\nx-3:3\r\nx-61:61\r\nx-0:0\r\ndkim-signature:")
        );
    }
}
