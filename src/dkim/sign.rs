//! DKIM signing (RFC 6376 §5) with rsa-sha256 and ed25519-sha256 (RFC 8463).
//!
//! A [`Signer`] holds who signs (domain, selector, key) and how
//! ([`SignOptions`]). Feed the message in chunks of any size to a
//! [`Signing`] (or hand the whole message to [`Signer::sign`]) and get back
//! the `DKIM-Signature` field to prepend:
//!
//! ```
//! use std::sync::Arc;
//! use mailauth::dkim::{NewKey, SignOptions, Signer, keygen};
//!
//! let key = keygen::generate(NewKey::Ed25519).unwrap().into_signing_key();
//! let signer = Signer::new("example.com", "mail", Arc::new(key), SignOptions::default()).unwrap();
//! let message = b"From: a@example.com\r\nSubject: hi\r\n\r\nHello.\r\n";
//! let mut signing = signer.start(1_700_000_000);
//! signing.update(&message[..20]);
//! signing.update(&message[20..]);
//! let field = signing.finish().unwrap();
//! assert!(field.to_header_line().starts_with("DKIM-Signature: v=1; a=ed25519-sha256;"));
//! ```
//!
//! Every value that goes into the field (domain, selector, identity, header
//! names) is validated when the signer is built, and the field is rendered by
//! one rendering function that folds it to 78 columns.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::sync::Arc;

use base64::Engine as _;

use super::canon::{
    BodyCanonicalization, BodyHash, BodyHasher, Canonicalization, HeaderCanonicalization,
};
use super::crypto::{CryptoError, SigningKey};
use super::table::SigningTable;
use super::{Algorithm, KeyType};
use crate::message::{
    FieldRef, HeaderError, HeaderField, HeaderLimits, MessageReader, split_whole,
};
use crate::word::decimal;

/// The header fields signed by default, when present (RFC 6376 §5.4.1).
pub const DEFAULT_HEADERS: &[&str] = &[
    "from",
    "reply-to",
    "subject",
    "date",
    "to",
    "cc",
    "sender",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-message-id",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
];

/// Header fields oversigned by default: listed once more than they occur,
/// so that an added instance breaks the signature.
pub const DEFAULT_OVERSIGNED: &[&str] = &["from"];

/// The longest line of a rendered field, without the CRLF (RFC 5322 §2.1.1 SHOULD).
const LINE_WIDTH: usize = 78;

/// The field name of a DKIM signature.
pub const FIELD_NAME: &str = "DKIM-Signature";

/// A value that cannot go into a DKIM-Signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// Not a domain name (LDH labels, at least two, RFC 6376 §3.5 `d=`).
    #[error("invalid signing domain {0:?}")]
    Domain(String),
    /// Not a selector (dot-separated LDH labels, RFC 6376 §3.1).
    #[error("invalid selector {0:?}")]
    Selector(String),
    /// Not an identity (`[local-part]@domain`, RFC 6376 §3.5 `i=`).
    #[error("invalid identity {0:?}")]
    Identity(String),
    /// The identity's domain is neither the signing domain nor a subdomain of it.
    #[error("identity {identity:?} is not in signing domain {domain:?}")]
    IdentityDomain {
        /// The identity.
        identity: String,
        /// The signing domain.
        domain: String,
    },
    /// Not a header field name (printable ASCII without `:` or `;`).
    #[error("invalid header field name {0:?}")]
    HeaderName(String),
}

fn is_ldh_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

/// Checks a signing domain (`d=`): two or more LDH labels, 253 octets at most.
/// Internationalized domains go in as A-labels (`xn--...`).
pub fn validate_domain(domain: &str) -> Result<(), InvalidValue> {
    let ok = domain.len() <= 253
        && domain.split('.').count() >= 2
        && domain.split('.').all(is_ldh_label);
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::Domain(domain.to_owned()))
    }
}

/// Checks a selector (`s=`): one or more dot-separated LDH labels.
pub fn validate_selector(selector: &str) -> Result<(), InvalidValue> {
    let ok = selector.len() <= 253 && selector.split('.').all(is_ldh_label);
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::Selector(selector.to_owned()))
    }
}

/// RFC 5322 atext (§3.2.3).
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Checks an identity (`i=`) for signing domain `domain`: `[local-part]@domain`
/// with a dot-atom local part, and a domain equal to or under `domain`.
pub fn validate_identity(identity: &str, domain: &str) -> Result<(), InvalidValue> {
    let invalid = || InvalidValue::Identity(identity.to_owned());
    let (local, identity_domain) = identity.rsplit_once('@').ok_or_else(invalid)?;
    let local_ok = local.is_empty()
        || (local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
            && local.len() <= 64);
    if !local_ok || validate_domain(identity_domain).is_err() {
        return Err(invalid());
    }
    let (i, d) = (
        identity_domain.to_ascii_lowercase(),
        domain.to_ascii_lowercase(),
    );
    if i == d || i.ends_with(&format!(".{d}")) {
        Ok(())
    } else {
        Err(InvalidValue::IdentityDomain {
            identity: identity.to_owned(),
            domain: domain.to_owned(),
        })
    }
}

/// Checks a header field name: printable ASCII except `:` (RFC 5322
/// `ftext`), and without `;`, which would end the `h=` tag.
pub fn validate_header_name(name: &str) -> Result<(), InvalidValue> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| (33..=126).contains(&b) && b != b':' && b != b';');
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::HeaderName(name.to_owned()))
    }
}

/// How to sign. The defaults: relaxed/relaxed, [`DEFAULT_HEADERS`],
/// From oversigned, `t=` written, no `x=`, no `l=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// Header and body canonicalization (`c=`).
    pub canonicalization: Canonicalization,
    /// Header fields to sign when present, case-insensitive. `From` is
    /// always signed, whether listed or not (RFC 6376 §5.4).
    pub headers: Vec<String>,
    /// Header fields listed once more than they occur (also when absent),
    /// so that adding one breaks the signature.
    pub oversigned: Vec<String>,
    /// Write `t=` (the signing time).
    pub timestamp: bool,
    /// Write `x=` this many seconds after the signing time.
    pub expire_after: Option<u64>,
    /// Write `l=` (the body length signed). Lets anyone append to the body
    /// without breaking the signature: off by default.
    pub body_length: bool,
    /// Bounds on the header of the message read.
    pub header_limits: HeaderLimits,
}

impl Default for SignOptions {
    fn default() -> SignOptions {
        SignOptions {
            canonicalization: Canonicalization {
                header: HeaderCanonicalization::Relaxed,
                body: BodyCanonicalization::Relaxed,
            },
            headers: DEFAULT_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            oversigned: DEFAULT_OVERSIGNED.iter().map(|s| (*s).to_owned()).collect(),
            timestamp: true,
            expire_after: None,
            body_length: false,
            header_limits: HeaderLimits::default(),
        }
    }
}

/// Why a message could not be signed, or a signer not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A domain, selector, identity or header name is not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// The message has no From field, which must be signed (RFC 6376 §5.4).
    #[error("message has no from header field")]
    NoFrom,
    /// The message header went past the configured bounds.
    #[error("message header too large: {0}")]
    Header(#[from] HeaderError),
    /// The key refused to sign.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The key is of a type this signer cannot use.
    #[error("no signing algorithm for {0} keys")]
    KeyType(KeyType),
}

/// Who signs and how. Build once, sign many messages.
#[derive(Debug, Clone)]
pub struct Signer {
    domain: String,
    selector: String,
    identity: Option<String>,
    key: Arc<SigningKey>,
    algorithm: Algorithm,
    headers: Vec<String>,
    oversigned: Vec<String>,
    options: SignOptions,
}

impl Signer {
    /// A signer for `domain` (`d=`) and `selector` (`s=`) with `key`; the
    /// algorithm follows the key: rsa-sha256 or ed25519-sha256.
    pub fn new(
        domain: &str,
        selector: &str,
        key: Arc<SigningKey>,
        options: SignOptions,
    ) -> Result<Signer, SignError> {
        validate_domain(domain)?;
        validate_selector(selector)?;
        let algorithm = match key.key_type() {
            KeyType::Rsa => Algorithm::RsaSha256,
            KeyType::Ed25519 => Algorithm::Ed25519Sha256,
            #[allow(unreachable_patterns)]
            other => return Err(SignError::KeyType(other)),
        };
        // From first: `select_fields` reads a From field's presence there.
        let mut headers: Vec<String> = vec!["from".to_owned()];
        for name in &options.headers {
            validate_header_name(name)?;
            let lower = name.to_ascii_lowercase();
            if !headers.contains(&lower) {
                headers.push(lower);
            }
        }
        let mut oversigned = Vec::new();
        for name in &options.oversigned {
            validate_header_name(name)?;
            let lower = name.to_ascii_lowercase();
            if !headers.contains(&lower) {
                headers.push(lower.clone());
            }
            if !oversigned.contains(&lower) {
                oversigned.push(lower);
            }
        }
        Ok(Signer {
            domain: domain.to_ascii_lowercase(),
            selector: selector.to_ascii_lowercase(),
            identity: None,
            key,
            algorithm,
            headers,
            oversigned,
            options,
        })
    }

    /// Picks domain, selector and key from a signing table by the From
    /// address; `None` when no rule matches.
    pub fn from_table(
        table: &SigningTable,
        from_address: &str,
        options: SignOptions,
    ) -> Option<Result<Signer, SignError>> {
        let chosen = table.lookup(from_address)?;
        Some(Signer::new(
            &chosen.domain,
            chosen.selector,
            chosen.key.clone(),
            options,
        ))
    }

    /// Sets the agent or user identifier (`i=`): `[local-part]@domain`,
    /// with the domain equal to or under the signing domain.
    pub fn with_identity(mut self, identity: &str) -> Result<Signer, SignError> {
        validate_identity(identity, &self.domain)?;
        self.identity = Some(identity.to_owned());
        Ok(self)
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The algorithm (`a=`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Starts signing one message; `now` is the signing time (seconds since
    /// the Unix epoch), used for `t=` and `x=`.
    pub fn start(&self, now: u64) -> Signing<'_> {
        self.signing(Cow::Borrowed(self), now)
    }

    /// As [`start`](Self::start), the signing owning the signer (to keep
    /// it beside other state, as an MTA session does).
    pub fn into_signing(self, now: u64) -> Signing<'static> {
        let limits = self.options.header_limits;
        let canonicalization = self.options.canonicalization.body;
        let hash = self.algorithm.hash();
        Signing {
            signer: Cow::Owned(self),
            now,
            reader: MessageReader::new(limits),
            body: BodyHasher::new(canonicalization, hash, None),
        }
    }

    fn signing<'a>(&self, signer: Cow<'a, Signer>, now: u64) -> Signing<'a> {
        Signing {
            signer,
            now,
            reader: MessageReader::new(self.options.header_limits),
            body: self.body_hasher(),
        }
    }

    /// Signs a whole message.
    ///
    /// The header fields are read in place, without copying them, where
    /// the message allows (an empty line ends its header and it is within
    /// the header limits), else as [`start`](Self::start) reads them: the
    /// same fields and the same signature either way.
    pub fn sign(&self, message: &[u8], now: u64) -> Result<SignatureField, SignError> {
        let Some((fields, body)) = split_whole(message, self.options.header_limits) else {
            let mut signing = self.start(now);
            signing.update(message);
            return signing.finish();
        };
        let mut hasher = self.body_hasher();
        hasher.update(body);
        self.sign_fields(now, &fields, hasher.finish())
    }

    fn body_hasher(&self) -> BodyHasher {
        BodyHasher::new(
            self.options.canonicalization.body,
            self.algorithm.hash(),
            None,
        )
    }

    /// Computes the signature over `fields` and the body hash and renders
    /// the field.
    fn sign_fields(
        &self,
        now: u64,
        fields: &[FieldRef<'_>],
        body_hash: BodyHash,
    ) -> Result<SignatureField, SignError> {
        let selection = select_fields(self, fields);
        if !selection.has_from {
            return Err(SignError::NoFrom);
        }
        let tags = Tags {
            algorithm: self.algorithm,
            canonicalization: self.options.canonicalization,
            domain: &self.domain,
            selector: &self.selector,
            identity: self.identity.as_deref(),
            timestamp: self.options.timestamp.then_some(now),
            expiration: self
                .options
                .expire_after
                .map(|after| now.saturating_add(after)),
            body_length: self.options.body_length.then_some(body_hash.hashed_length),
            signed_headers: &selection.names,
            body_hash: &body_hash.digest,
        };
        let mut folder = render_unsigned(&tags, self.key.bits());
        let mut data = header_data(
            self.options.canonicalization.header,
            &selection.fields,
            folder.value(),
        );
        let signature = self.key.sign(self.algorithm, &data)?;
        // The header data is no longer needed: its buffer takes the base64.
        data.clear();
        folder.signature(&signature, &mut data);
        folder.out.push_str("\r\n");
        Ok(SignatureField { line: folder.out })
    }
}

/// One message being signed: feed it with [`update`](Self::update), then
/// [`finish`](Self::finish). Memory stays bounded by the header limits.
#[derive(Debug)]
pub struct Signing<'a> {
    signer: Cow<'a, Signer>,
    now: u64,
    reader: MessageReader,
    body: BodyHasher,
}

impl<'a> Signing<'a> {
    /// Feeds the next chunk of the message (split anywhere).
    pub fn update(&mut self, chunk: &[u8]) {
        let body = self.reader.feed(chunk);
        if !body.is_empty() {
            self.body.update(body);
        }
    }

    /// Computes the signature and renders the field.
    pub fn finish(self) -> Result<SignatureField, SignError> {
        let now = self.now;
        let (signer, fields, body_hash) = self.finish_reading()?;
        let fields: Vec<FieldRef<'_>> = fields.iter().map(HeaderField::as_ref).collect();
        signer.sign_fields(now, &fields, body_hash)
    }

    /// Ends the input: the header fields and the body hash.
    fn finish_reading(
        mut self,
    ) -> Result<(Cow<'a, Signer>, Vec<HeaderField>, BodyHash), SignError> {
        self.reader.finish();
        if let Some(error) = self.reader.error() {
            return Err(SignError::Header(error));
        }
        let fields = self.reader.take_fields();
        Ok((self.signer, fields, self.body.finish()))
    }
}

/// The data the signature covers (RFC 6376 §3.7): the signed fields in
/// `h=` order (as [`select_fields`] chose them), then the signature field
/// with an empty `b=` and no CRLF.
fn header_data(
    canon: HeaderCanonicalization,
    selected: &[FieldRef<'_>],
    unsigned_value: &str,
) -> Vec<u8> {
    let size =
        selected.iter().map(|f| f.value().len() + 32).sum::<usize>() + unsigned_value.len() + 32;
    let mut data = Vec::with_capacity(size);
    for field in selected {
        canon.append(
            field.raw_name().unwrap_or_default(),
            field.value(),
            &mut data,
        );
    }
    match canon {
        HeaderCanonicalization::Relaxed => {
            // As rendered (`render_unsigned`), the value holds no TAB, no
            // run of SPs and no SP at either end, and folds with CRLF SP:
            // its relaxed form is the value without the CRLFs.
            data.extend_from_slice(RELAXED_FIELD_NAME);
            let value = unsigned_value.as_bytes();
            let mut copied = 0;
            for cr in memchr::memchr_iter(b'\r', value) {
                data.extend_from_slice(value.get(copied..cr).unwrap_or_default());
                copied = cr + 2;
            }
            data.extend_from_slice(value.get(copied..).unwrap_or_default());
        }
        _ => {
            canon.append_pieces(
                FIELD_NAME.as_bytes(),
                [b" ", unsigned_value.as_bytes()],
                &mut data,
            );
            data.truncate(data.len().saturating_sub(2));
        }
    }
    data
}

/// The field name and colon in relaxed form.
const RELAXED_FIELD_NAME: &[u8] = b"dkim-signature:";

/// The `h=` list for a message and the fields it signs, in its order.
struct Selection<'s, 'f> {
    names: Vec<&'s str>,
    fields: Vec<FieldRef<'f>>,
    /// Whether a From field is among them.
    has_from: bool,
}

/// The `h=` list for a message: each configured name once per instance
/// present, then each oversigned name once more (that listing matches no
/// field, so a field added later breaks the signature). Each listing of a
/// configured name signs the next instance of it from the bottom of the
/// header, as a verifier selects it ([`append_signed_fields`]). The
/// oversigned listings sign nothing: [`Signer::new`] keeps the configured
/// names unique and puts every oversigned name among them, so their
/// instances are all taken.
///
/// Each field's name is trimmed once and compared with the configured
/// names of its length; the fields found are then sorted by configured
/// name, bottom-up within one (taken from the top, they are usually in
/// that order already, which the sort checks in one pass).
fn select_fields<'s, 'f>(signer: &'s Signer, fields: &[FieldRef<'f>]) -> Selection<'s, 'f> {
    let mut chosen: Vec<(usize, Reverse<usize>)> = Vec::with_capacity(fields.len());
    for (position, field) in fields.iter().enumerate() {
        let Some(name) = field.name() else { continue };
        let configured = signer.headers.iter().position(|configured| {
            configured.len() == name.len() && configured.as_bytes().eq_ignore_ascii_case(name)
        });
        if let Some(index) = configured {
            chosen.push((index, Reverse(position)));
        }
    }
    chosen.sort_unstable();
    let mut names = Vec::with_capacity(chosen.len() + signer.oversigned.len());
    names.extend(
        chosen
            .iter()
            .filter_map(|&(index, _)| signer.headers.get(index).map(String::as_str)),
    );
    names.extend(signer.oversigned.iter().map(String::as_str));
    // `from` is the first configured name (`Signer::new`).
    let has_from = chosen.first().is_some_and(|&(index, _)| index == 0);
    let mut selected = Vec::with_capacity(chosen.len());
    selected.extend(
        chosen
            .iter()
            .filter_map(|&(_, Reverse(position))| fields.get(position).copied()),
    );
    Selection {
        names,
        fields: selected,
        has_from,
    }
}

/// Appends the signed fields in `h=` order, each name taking the next
/// instance from the bottom of the header (RFC 6376 §5.4.2; an
/// ARC-Message-Signature selects its fields the same way, RFC 8617
/// §4.1.2).
pub(crate) fn append_signed_fields<F, N>(
    canon: HeaderCanonicalization,
    fields: &[F],
    names: &[N],
    out: &mut Vec<u8>,
) where
    F: std::borrow::Borrow<HeaderField>,
    N: AsRef<str>,
{
    let mut used: Vec<(&str, usize)> = Vec::new();
    for name in names {
        let name = name.as_ref();
        let taken = match used.iter_mut().find(|(n, _)| *n == name) {
            Some((_, taken)) => taken,
            None => {
                used.push((name, 0));
                match used.last_mut() {
                    Some((_, taken)) => taken,
                    None => continue,
                }
            }
        };
        let instance = fields
            .iter()
            .map(std::borrow::Borrow::borrow)
            .rev()
            .filter(|f: &&HeaderField| f.is_named(name.as_bytes()))
            .nth(*taken);
        *taken += 1;
        if let Some(field) = instance {
            canon.append(field.raw_name().unwrap_or_default(), field.value(), out);
        }
    }
}

/// The tag values of a signature, in the order they are rendered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tags<'a> {
    pub(crate) algorithm: Algorithm,
    pub(crate) canonicalization: Canonicalization,
    pub(crate) domain: &'a str,
    pub(crate) selector: &'a str,
    pub(crate) identity: Option<&'a str>,
    pub(crate) timestamp: Option<u64>,
    pub(crate) expiration: Option<u64>,
    pub(crate) body_length: Option<u64>,
    pub(crate) signed_headers: &'a [&'a str],
    pub(crate) body_hash: &'a [u8],
}

/// Builds folded lines of at most [`LINE_WIDTH`] columns: the whole field,
/// starting with `"DKIM-Signature: "`.
struct Folder {
    out: String,
    column: usize,
}

/// Where the value starts in [`Folder::out`] and [`SignatureField::line`].
const VALUE_START: usize = FIELD_NAME.len() + 2;

impl Folder {
    /// A folder holding the field name, with room for `capacity` octets.
    fn with_capacity(capacity: usize) -> Folder {
        let mut out = String::with_capacity(capacity);
        out.push_str(FIELD_NAME);
        out.push_str(": ");
        Folder {
            out,
            column: VALUE_START,
        }
    }

    /// The value written so far.
    fn value(&self) -> &str {
        self.out.get(VALUE_START..).unwrap_or_default()
    }

    fn fold(&mut self) {
        self.out.push_str("\r\n ");
        self.column = 1;
    }

    /// An unbreakable piece, after a space (or a fold if it does not fit).
    fn word(&mut self, text: &str) {
        if self.out.len() > VALUE_START {
            if self.column + 1 + text.len() > LINE_WIDTH {
                self.fold();
            } else {
                self.out.push(' ');
                self.column += 1;
            }
        }
        self.out.push_str(text);
        self.column += text.len();
    }

    /// [`word`](Self::word) of the concatenation of `parts`.
    fn word_parts(&mut self, parts: &[&str]) {
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        if self.out.len() > VALUE_START {
            if self.column + 1 + len > LINE_WIDTH {
                self.fold();
            } else {
                self.out.push(' ');
                self.column += 1;
            }
        }
        for part in parts {
            self.out.push_str(part);
        }
        self.column += len;
    }

    /// The concatenation of `parts` written directly after the previous
    /// piece, or after a fold.
    fn glued_parts(&mut self, parts: &[&str]) {
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        if self.column + len > LINE_WIDTH {
            self.fold();
        }
        for part in parts {
            self.out.push_str(part);
        }
        self.column += len;
    }

    /// The `b=` value: the signature in base64, encoded in `scratch`.
    fn signature(&mut self, signature: &[u8], scratch: &mut Vec<u8>) {
        let b64 = base64::engine::general_purpose::STANDARD;
        scratch.resize(signature.len().div_ceil(3) * 4, 0);
        let written = b64.encode_slice(signature, scratch).unwrap_or_default();
        let text = std::str::from_utf8(scratch.get(..written).unwrap_or_default());
        self.base64(text.unwrap_or_default(), "");
    }

    /// Base64 text, broken anywhere to fill lines; `end` follows the last
    /// character on the same line.
    fn base64(&mut self, text: &str, end: &str) {
        let mut rest = text;
        loop {
            let room = LINE_WIDTH.saturating_sub(self.column);
            if rest.len() + end.len() <= room {
                self.out.push_str(rest);
                self.out.push_str(end);
                self.column += rest.len() + end.len();
                return;
            }
            if room == 0 {
                self.fold();
                continue;
            }
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.out.push_str(now);
            self.column += now.len();
            rest = later;
            self.fold();
        }
    }
}

/// Renders the value of a DKIM-Signature field (everything after
/// `"DKIM-Signature: "`), folded to 78 columns with CRLF SP, with `b=`
/// empty: that form is what gets signed, and the signed form is exactly
/// the final one with the `b=` value removed. The folder is left where
/// the signature goes ([`Folder::signature`]), so the field is rendered
/// once.
///
/// Tag values are validated when the [`Signer`] is built; this function
/// only arranges them.
fn render_unsigned(tags: &Tags<'_>, key_bits: usize) -> Folder {
    let b64 = base64::engine::general_purpose::STANDARD;
    // Room for the whole field: the fixed tags and numbers (at most 140
    // octets), the variable ones, the signature in base64 (an RSA signature
    // is as long as its modulus, an Ed25519 one 64 octets) and a fold
    // every 70 octets or so.
    let variable = tags.domain.len()
        + tags.selector.len()
        + tags.identity.map_or(0, str::len)
        + tags
            .signed_headers
            .iter()
            .map(|n| n.len() + 1)
            .sum::<usize>()
        + tags.body_hash.len().div_ceil(3) * 4
        + (key_bits / 8).max(64).div_ceil(3) * 4;
    let mut f = Folder::with_capacity((VALUE_START + 140 + variable) * 21 / 20 + 16);
    f.word("v=1;");
    f.word_parts(&["a=", tags.algorithm.as_str(), ";"]);
    f.word_parts(&[
        "c=",
        tags.canonicalization.header.as_str(),
        "/",
        tags.canonicalization.body.as_str(),
        ";",
    ]);
    f.word_parts(&["d=", tags.domain, ";"]);
    if let Some(identity) = tags.identity {
        f.word_parts(&["i=", identity, ";"]);
    }
    f.word("q=dns/txt;");
    f.word_parts(&["s=", tags.selector, ";"]);
    for (tag, number) in [
        ("t=", tags.timestamp),
        ("x=", tags.expiration),
        ("l=", tags.body_length),
    ] {
        if let Some(number) = number {
            let mut digits = [0u8; 20];
            f.word_parts(&[tag, decimal(number, &mut digits), ";"]);
        }
    }
    // h=: breaks after a colon (FWS is allowed around it, RFC 6376 §3.5).
    let count = tags.signed_headers.len();
    for (index, name) in tags.signed_headers.iter().enumerate() {
        let separator = if index + 1 == count { ";" } else { ":" };
        if index == 0 {
            f.word_parts(&["h=", name, separator]);
        } else {
            f.glued_parts(&[name, separator]);
        }
    }
    // bh= stays on one line (48 columns fit any line): RFC 6376 §3.5 allows
    // FWS inside it, but dkimpy 1.1 does not remove FWS from bh= and
    // reports a body hash mismatch (bindings/python/tests/test_interop_dkimpy.py).
    let mut body_hash = [0u8; 64];
    let written = b64
        .encode_slice(tags.body_hash, &mut body_hash)
        .unwrap_or_default();
    let body_hash =
        std::str::from_utf8(body_hash.get(..written).unwrap_or_default()).unwrap_or_default();
    f.word_parts(&["bh=", body_hash, ";"]);
    f.word("b=");
    f
}

/// A rendered `DKIM-Signature` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureField {
    /// The whole field: name, `": "`, the value, CRLF.
    line: String,
}

impl SignatureField {
    /// The field name, `DKIM-Signature`.
    pub fn name(&self) -> &'static str {
        FIELD_NAME
    }

    /// The field value after `"DKIM-Signature: "`, folded with CRLF SP.
    pub fn value(&self) -> &str {
        let end = self.line.len().saturating_sub(2);
        self.line.get(VALUE_START..end).unwrap_or_default()
    }

    /// The whole field with its CRLF, ready to prepend to the message.
    pub fn to_header_line(&self) -> String {
        self.line.clone()
    }

    /// The whole field with its CRLF, without copying it.
    pub fn into_header_line(self) -> String {
        self.line
    }

    /// The whole field with LF line endings, for messages stored with LF.
    pub fn to_header_line_lf(&self) -> String {
        self.line.replace("\r\n", "\n")
    }
}

impl std::fmt::Display for SignatureField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = self.line.len().saturating_sub(2);
        f.write_str(self.line.get(..end).unwrap_or_default())
    }
}

/// The addr-spec of a From field value: the part in angle brackets if
/// there is one, else the trimmed value. Good enough to pick a key; not
/// an RFC 5322 parser.
pub fn from_address(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text.get(open + 1..close)?,
        _ => text,
    };
    let address = inner.trim();
    (address.contains('@') && !address.contains(char::is_whitespace)).then(|| address.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::dkim::crypto::PublicKey;

    fn key(file: &str) -> Arc<SigningKey> {
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        Arc::new(SigningKey::from_pem(&std::fs::read(path).unwrap()).unwrap())
    }

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    /// Tag values of a rendered field, whitespace removed.
    fn tag(value: &str, name: &str) -> Option<String> {
        value.split(';').find_map(|t| {
            let (n, v) = t.split_once('=')?;
            (n.trim() == name).then(|| v.chars().filter(|c| !c.is_whitespace()).collect())
        })
    }

    /// A small verifier for these tests: recomputes the body hash and the
    /// header data from the signed message and checks b= with the public key.
    fn check(signed: &[u8], public: &PublicKey) -> Result<(), String> {
        let mut reader = MessageReader::new(HeaderLimits::default());
        let body = reader.feed(signed).to_vec();
        reader.finish();
        let fields = reader.take_fields();
        let sig = fields
            .iter()
            .find(|f| f.is_named(b"dkim-signature"))
            .ok_or("no signature")?;
        let value = std::str::from_utf8(sig.value()).unwrap().to_owned();
        let algorithm = Algorithm::from_name(&tag(&value, "a").unwrap()).unwrap();
        let canon = Canonicalization::from_tag(&tag(&value, "c").unwrap()).unwrap();
        let mut hasher = BodyHasher::new(canon.body, algorithm.hash(), None);
        hasher.update(&body);
        let body_hash = hasher.finish();
        if b64(&body_hash.digest) != tag(&value, "bh").unwrap() {
            return Err("body hash mismatch".into());
        }
        let names: Vec<String> = tag(&value, "h")
            .unwrap()
            .split(':')
            .map(str::to_ascii_lowercase)
            .collect();
        // Remove the b= value: from after "b=" to the end (b= is last here).
        let b_at = value.rfind("b=").unwrap();
        assert!(value[..b_at].trim_end().ends_with(';'));
        let unsigned = &value[..b_at + 2];
        let mut data = Vec::new();
        let others: Vec<HeaderField> = fields
            .iter()
            .filter(|f| !f.is_named(b"dkim-signature"))
            .cloned()
            .collect();
        append_signed_fields(canon.header, &others, &names, &mut data);
        canon
            .header
            .append(b"DKIM-Signature", unsigned.as_bytes(), &mut data);
        data.truncate(data.len() - 2);
        let b = base64::engine::general_purpose::STANDARD
            .decode(tag(&value, "b").unwrap())
            .unwrap();
        public
            .verify(algorithm, &data, &b)
            .map_err(|e| e.to_string())
    }

    fn sign_and_check(signer: &Signer, message: &[u8]) -> String {
        let field = signer.sign(message, 1_700_000_000).unwrap();
        let line = field.to_header_line();
        for l in line.split("\r\n") {
            assert!(l.len() <= LINE_WIDTH, "line too long: {l:?}");
        }
        let mut signed = line.clone().into_bytes();
        signed.extend_from_slice(message);
        check(&signed, &signer.key.public_key().unwrap()).unwrap();
        // Chunking does not matter.
        let mut signing = signer.start(1_700_000_000);
        for byte in message {
            signing.update(std::slice::from_ref(byte));
        }
        assert_eq!(signing.finish().unwrap(), field);
        line
    }

    const MESSAGES: &[&[u8]] = &[
        b"From: Joe <joe@example.com>\r\nTo: a@example.net\r\nSubject: hi\r\n\r\nHello.\r\n",
        b"From: joe@example.com\r\nSubject:  folded\r\n  subject \t \r\n\r\n",
        b"From: joe@example.com\r\n\r\n  trailing  \t \r\n\r\n\r\n",
        b"From: joe@example.com\r\n\r\nno final line break",
        b"From: joe@example.com\nSubject: lf only\n\nbody\nline\n",
        b"From: joe@example.com\r\nFrom: second@example.com\r\nTo: x@y.example\r\n\r\nx\r\n",
        b"From: joe@example.com\r\nSubject: no body",
    ];

    #[test]
    fn round_trips_all_canonicalizations_and_keys() {
        for file in ["keys/ed25519.pkcs8.pem", "keys/rsa2048.pkcs8.pem"] {
            for header in [
                HeaderCanonicalization::Simple,
                HeaderCanonicalization::Relaxed,
            ] {
                for body in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
                    let options = SignOptions {
                        canonicalization: Canonicalization { header, body },
                        ..SignOptions::default()
                    };
                    let signer = Signer::new("example.com", "sel", key(file), options).unwrap();
                    for message in MESSAGES {
                        sign_and_check(&signer, message);
                    }
                }
            }
        }
    }

    #[test]
    fn rendered_field_layout() {
        let options = SignOptions {
            expire_after: Some(3600),
            body_length: true,
            ..SignOptions::default()
        };
        let signer = Signer::new("Example.COM", "sel", key("keys/rsa2048.pkcs8.pem"), options)
            .unwrap()
            .with_identity("joe@mail.example.com")
            .unwrap();
        let line = sign_and_check(&signer, MESSAGES[0]);
        assert!(
            line.starts_with(
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n i=joe@mail.example.com; q=dns/txt; s=sel; t=1700000000; x=1700003600; l=8;\r\n h=from:subject:to:from;"
            ),
            "{line}"
        );
        assert!(line.ends_with("\r\n") && !line.ends_with("\r\n\r\n"));
        // No line ends in a space; continuation lines start with one.
        for l in line.trim_end().split("\r\n").skip(1) {
            assert!(l.starts_with(' ') && !l.ends_with(' '), "{l:?}");
        }
        let value = signer.sign(MESSAGES[0], 1_700_000_000).unwrap();
        assert_eq!(tag(value.value(), "b").unwrap().len(), 344);
    }

    /// A whole message, its header read in place, and the same message
    /// fed in pieces to a signing give the same field (Ed25519 and RSA
    /// PKCS#1 v1.5 signatures are deterministic), with the header limits
    /// passed or not.
    #[test]
    fn whole_and_streamed_signing_agree() {
        for file in ["keys/ed25519.pkcs8.pem", "keys/rsa2048.pkcs8.pem"] {
            for max_bytes in [20, 40, 1 << 20] {
                let options = SignOptions {
                    header_limits: HeaderLimits {
                        max_fields: 1000,
                        max_bytes,
                    },
                    ..SignOptions::default()
                };
                let signer = Signer::new("example.com", "s", key(file), options).unwrap();
                for message in MESSAGES {
                    let whole = signer.sign(message, 1_700_000_000);
                    let mut signing = signer.start(1_700_000_000);
                    for piece in message.chunks(3) {
                        signing.update(piece);
                    }
                    assert_eq!(whole, signing.finish(), "{file} {max_bytes} {message:?}");
                }
            }
        }
    }

    /// The rendered field, hashed without being scanned, is what relaxed
    /// canonicalization makes of it: with every optional tag, long
    /// values and a long `h=` list folded after a colon.
    #[test]
    fn relaxed_signature_field_is_the_value_without_folds() {
        let many: Vec<String> = (0..40).map(|i| format!("x-header-{i}")).collect();
        let signers = [
            Signer::new(
                "example.com",
                "s",
                key("keys/ed25519.pkcs8.pem"),
                SignOptions::default(),
            )
            .unwrap(),
            Signer::new(
                "a-rather-long-subdomain-name.mail.example.com",
                "selector-with-a-long-name-2026",
                key("keys/rsa2048.pkcs8.pem"),
                SignOptions {
                    headers: many,
                    oversigned: vec!["subject".into(), "to".into()],
                    expire_after: Some(86_400),
                    body_length: true,
                    ..SignOptions::default()
                },
            )
            .unwrap()
            .with_identity("someone.with.a.long.name@a-rather-long-subdomain-name.mail.example.com")
            .unwrap(),
        ];
        for signer in &signers {
            let names: Vec<&str> = signer.headers.iter().map(String::as_str).collect();
            let tags = Tags {
                algorithm: signer.algorithm,
                canonicalization: signer.options.canonicalization,
                domain: &signer.domain,
                selector: &signer.selector,
                identity: signer.identity.as_deref(),
                timestamp: Some(1_700_000_000),
                expiration: Some(1_700_086_400),
                body_length: Some(12_345),
                signed_headers: &names,
                body_hash: &[7; 32],
            };
            let folder = render_unsigned(&tags, signer.key.bits());
            assert!(folder.value().contains("\r\n "), "{}", folder.value());
            let mut expected = Vec::new();
            HeaderCanonicalization::Relaxed.append_pieces(
                FIELD_NAME.as_bytes(),
                [b" ", folder.value().as_bytes()],
                &mut expected,
            );
            expected.truncate(expected.len() - 2);
            assert_eq!(
                header_data(HeaderCanonicalization::Relaxed, &[], folder.value()),
                expected
            );
        }
    }

    #[test]
    fn oversigning_and_header_choice() {
        let names = |signer: &Signer, message: &[u8]| {
            tag(signer.sign(message, 0).unwrap().value(), "h").unwrap()
        };
        let default = Signer::new(
            "example.com",
            "s",
            key("keys/ed25519.pkcs8.pem"),
            SignOptions::default(),
        )
        .unwrap();
        assert_eq!(names(&default, MESSAGES[0]), "from:subject:to:from");
        // Two From fields: listed three times.
        assert_eq!(names(&default, MESSAGES[5]), "from:from:to:from");
        let options = SignOptions {
            headers: vec!["To".into(), "X-Custom".into()],
            oversigned: vec!["from".into(), "Subject".into()],
            timestamp: false,
            ..SignOptions::default()
        };
        let custom =
            Signer::new("example.com", "s", key("keys/ed25519.pkcs8.pem"), options).unwrap();
        let message =
            b"X-Custom: 1\r\nFrom: a@example.com\r\nX-Custom: 2\r\nTo: b@example.com\r\n\r\n";
        assert_eq!(
            names(&custom, message),
            "from:to:x-custom:x-custom:from:subject"
        );
        assert_eq!(tag(custom.sign(message, 0).unwrap().value(), "t"), None);
        sign_and_check(&custom, message);
    }

    /// The fields chosen with the `h=` names are those a verifier selects
    /// from the same names (each listing the next instance from the
    /// bottom), for repeated, oversigned and absent names and names given
    /// twice or in capitals.
    #[test]
    fn selected_fields_are_what_verifiers_select() {
        let message: &[u8] = b"X-A: 1\r\nFrom: a@example.com\r\nX-A: 2\r\nTo: b@example.com\r\nx-a: 3\r\nSubject: s\r\n\r\n";
        let configurations: [(&[&str], &[&str]); 4] = [
            (&["to", "x-a"], &["from", "subject"]),
            (&["x-a", "X-A", "to"], &["x-a", "x-b"]),
            (&["subject"], &["x-a", "x-a", "x-a", "x-a"]),
            (DEFAULT_HEADERS, DEFAULT_OVERSIGNED),
        ];
        for (headers, oversigned) in configurations {
            let options = SignOptions {
                headers: headers.iter().map(|h| (*h).to_owned()).collect(),
                oversigned: oversigned.iter().map(|h| (*h).to_owned()).collect(),
                ..SignOptions::default()
            };
            let signer =
                Signer::new("example.com", "s", key("keys/ed25519.pkcs8.pem"), options).unwrap();
            let mut reader = MessageReader::new(HeaderLimits::default());
            reader.feed(message);
            reader.finish();
            let fields = reader.take_fields();
            let refs: Vec<_> = fields.iter().map(HeaderField::as_ref).collect();
            let selection = select_fields(&signer, &refs);
            for canon in [
                HeaderCanonicalization::Simple,
                HeaderCanonicalization::Relaxed,
            ] {
                let mut expected = Vec::new();
                append_signed_fields(canon, &fields, &selection.names, &mut expected);
                canon.append_pieces(FIELD_NAME.as_bytes(), [b" ", b"v"], &mut expected);
                expected.truncate(expected.len() - 2);
                let data = header_data(canon, &selection.fields, "v");
                assert_eq!(data, expected, "{headers:?} {oversigned:?} {canon:?}");
            }
            sign_and_check(&signer, message);
        }
    }

    #[test]
    fn bad_values_are_refused() {
        let k = key("keys/ed25519.pkcs8.pem");
        let new = |d: &str, s: &str| Signer::new(d, s, k.clone(), SignOptions::default());
        for bad in [
            "",
            "com",
            "exa mple.com",
            "example.com;",
            "-a.example.com",
            "a..example.com",
            "example.com\r\nX: y",
        ] {
            assert_eq!(
                new(bad, "s").unwrap_err(),
                SignError::Invalid(InvalidValue::Domain(bad.into())),
                "{bad:?}"
            );
        }
        for bad in ["", "a;b", "a b", "sel.", "s\r\n"] {
            assert!(
                matches!(
                    new("example.com", bad),
                    Err(SignError::Invalid(InvalidValue::Selector(_)))
                ),
                "{bad:?}"
            );
        }
        let signer = new("example.com", "s").unwrap();
        assert!(matches!(
            signer.clone().with_identity("joe@example.org"),
            Err(SignError::Invalid(InvalidValue::IdentityDomain { .. }))
        ));
        for bad in [
            "joe",
            "jo e@example.com",
            "a;b@example.com",
            "@",
            "a..b@example.com",
        ] {
            assert!(
                matches!(
                    signer.clone().with_identity(bad),
                    Err(SignError::Invalid(InvalidValue::Identity(_)))
                ),
                "{bad:?}"
            );
        }
        assert!(signer.clone().with_identity("@sub.example.com").is_ok());
        for bad in ["", "a:b", "a;b", "a b", "é"] {
            let options = SignOptions {
                headers: vec![bad.into()],
                ..SignOptions::default()
            };
            assert!(matches!(
                Signer::new("example.com", "s", k.clone(), options),
                Err(SignError::Invalid(InvalidValue::HeaderName(_)))
            ));
        }
        assert_eq!(
            signer
                .sign(b"To: a@example.com\r\n\r\nbody", 0)
                .unwrap_err(),
            SignError::NoFrom
        );
        let options = SignOptions {
            header_limits: HeaderLimits {
                max_fields: 2,
                max_bytes: 1000,
            },
            ..SignOptions::default()
        };
        let limited = Signer::new("example.com", "s", k, options).unwrap();
        assert!(matches!(
            limited.sign(b"From: a@b.example\r\nA: 1\r\nB: 2\r\n\r\n", 0),
            Err(SignError::Header(_))
        ));
    }

    #[test]
    fn rfc8463_a3_header_selection_and_signature() {
        let dir = format!("{}/tests/data/rfc-examples", env!("CARGO_MANIFEST_DIR"));
        let seed =
            std::fs::read_to_string(format!("{dir}/rfc8463-A1-ed25519-secret-seed.b64")).unwrap();
        let seed = base64::engine::general_purpose::STANDARD
            .decode(seed.trim())
            .unwrap();
        let key = Arc::new(SigningKey::from_ed25519_seed(&seed.try_into().unwrap()).unwrap());
        let signed = std::fs::read(format!("{dir}/rfc8463-A3-signed-message.eml")).unwrap();
        // The message without the RFC's two signature fields.
        let start = signed.windows(6).position(|w| w == b"From: ").unwrap();
        let message = &signed[start..];
        let options = SignOptions {
            headers: ["from", "to", "subject", "date", "message-id"]
                .map(String::from)
                .to_vec(),
            oversigned: ["from", "subject", "date"].map(String::from).to_vec(),
            ..SignOptions::default()
        };
        let signer = Signer::new("football.example.com", "brisbane", key.clone(), options)
            .unwrap()
            .with_identity("@football.example.com")
            .unwrap();
        let field = signer.sign(message, 1_528_637_909).unwrap();
        assert_eq!(
            tag(field.value(), "h").unwrap(),
            "from:to:subject:date:message-id:from:subject:date"
        );
        assert_eq!(
            tag(field.value(), "bh").unwrap(),
            "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
        );
        // With the RFC's own tag text (it writes "from : to" in h=), the same
        // header selection and canonicalization give the RFC's b= exactly.
        let mut signing = signer.start(1_528_637_909);
        signing.update(message);
        let (_, fields, _) = signing.finish_reading().unwrap();
        let refs: Vec<_> = fields.iter().map(HeaderField::as_ref).collect();
        let selection = select_fields(&signer, &refs);
        let rfc_unsigned = "v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n subject : date : message-id : from : subject : date;\r\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=";
        let data = header_data(
            HeaderCanonicalization::Relaxed,
            &selection.fields,
            rfc_unsigned,
        );
        assert_eq!(
            b64(&key.sign(Algorithm::Ed25519Sha256, &data).unwrap()),
            "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="
        );
        // And our own rendering verifies.
        let mut ours = field.to_header_line().into_bytes();
        ours.extend_from_slice(message);
        check(&ours, &key.public_key().unwrap()).unwrap();
    }

    #[test]
    fn from_addresses() {
        assert_eq!(
            from_address(b" Joe <joe@example.com>").as_deref(),
            Some("joe@example.com")
        );
        assert_eq!(
            from_address(b" joe@example.com ").as_deref(),
            Some("joe@example.com")
        );
        assert_eq!(
            from_address(b"\"a <x@y>\" <joe@example.com>").as_deref(),
            Some("joe@example.com")
        );
        assert_eq!(from_address(b"undisclosed"), None);
        assert_eq!(from_address(b"\xff@x"), None);
    }
}
