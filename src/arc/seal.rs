//! ARC sealing (RFC 8617 §5.1): adding an ARC set to a message.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;

use super::parse::{self, AUTHENTICATION_RESULTS, ArcField, MESSAGE_SIGNATURE, SEAL, Seal};
use super::{ArcResult, MAX_INSTANCE, Outcome};
use crate::authres::{MethodResult, render};
use crate::dkim::canon::{BodyCanonicalization, BodyHasher, HeaderCanonicalization};
use crate::dkim::sign::{
    DEFAULT_HEADERS, InvalidValue, append_signed_fields, validate_domain, validate_header_name,
    validate_selector,
};
use crate::dkim::{Algorithm, CryptoError, KeyType, SigningKey, SigningTable};
use crate::message::{HeaderError, HeaderField, HeaderLimits, MessageReader};

/// How to seal. Defaults: the header fields DKIM signs by default
/// ([`DEFAULT_HEADERS`]), relaxed/relaxed, at most 50 sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealOptions {
    /// Header fields the ARC-Message-Signature signs when present (`h=`),
    /// case-insensitive, each instance present listed once.
    pub headers: Vec<String>,
    /// Bounds on the header of the message read.
    pub header_limits: HeaderLimits,
    /// The most ARC sets a message may carry after sealing; a message
    /// that already has this many gets none ([`SealOutcome::TooManySets`]).
    /// Default and ceiling 50.
    pub max_sets: usize,
}

impl Default for SealOptions {
    fn default() -> SealOptions {
        SealOptions {
            headers: DEFAULT_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            header_limits: HeaderLimits::default(),
            max_sets: MAX_INSTANCE as usize,
        }
    }
}

/// Why a message could not be sealed, or a sealer not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A domain, selector or header name is not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// The authserv-id is not a valid token or domain.
    #[error("invalid authserv-id {0:?}")]
    AuthservId(String),
    /// The message header went past the configured bounds.
    #[error("message header too large: {0}")]
    Header(#[from] HeaderError),
    /// The key refused to sign.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The key is of a type this sealer cannot use.
    #[error("no signing algorithm for {0} keys")]
    KeyType(KeyType),
    /// The chain status given is not from this message: the validation
    /// counted `validated` sets, the message holds `found`.
    #[error("chain status for {validated} arc sets, the message has {found}")]
    ChainMismatch {
        /// Sets in the validation outcome.
        validated: usize,
        /// Sets in the message sealed.
        found: usize,
    },
}

/// What sealing gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealOutcome {
    /// The new ARC set to add at the top of the message.
    Sealed(SealedSet),
    /// The newest ARC-Seal already says `cv=fail`: no set is added (RFC
    /// 8617 §5.1.2: a chain marked failed is not extended; the ValiMail
    /// suite's `no_additional_sig`). A chain found failing by this hop's
    /// validation is sealed with `cv=fail` instead.
    ChainFailed,
    /// The message already carries [`SealOptions::max_sets`] sets.
    TooManySets,
}

/// A new ARC set: three header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSet {
    instance: u32,
    authentication_results: String,
    message_signature: String,
    seal: String,
}

impl SealedSet {
    /// The instance of the new set.
    pub fn instance(&self) -> u32 {
        self.instance
    }

    /// The value of the ARC-Authentication-Results (after `": "`, folded
    /// with CRLF SP, no final CRLF).
    pub fn authentication_results(&self) -> &str {
        &self.authentication_results
    }

    /// The value of the ARC-Message-Signature.
    pub fn message_signature(&self) -> &str {
        &self.message_signature
    }

    /// The value of the ARC-Seal.
    pub fn seal(&self) -> &str {
        &self.seal
    }

    /// The three fields as `(name, value)` in the order to insert them one
    /// by one at the top of the message (each new one above the previous):
    /// ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal. The
    /// message then reads ARC-Seal, ARC-Message-Signature,
    /// ARC-Authentication-Results from the top.
    pub fn fields(&self) -> [(&'static str, &str); 3] {
        [
            (
                super::parse::AUTHENTICATION_RESULTS,
                &self.authentication_results,
            ),
            (super::parse::MESSAGE_SIGNATURE, &self.message_signature),
            (super::parse::SEAL, &self.seal),
        ]
    }

    /// The three fields as header lines with CRLF, top to bottom, ready to
    /// put in front of the message.
    pub fn to_header_lines(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.fields().iter().rev() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out
    }
}

/// Who seals and how. Build once, seal many messages.
#[derive(Debug, Clone)]
pub struct Sealer {
    domain: String,
    selector: String,
    authserv_id: String,
    key: Arc<SigningKey>,
    algorithm: Algorithm,
    options: SealOptions,
}

impl Sealer {
    /// A sealer for `domain` (`d=`) and `selector` (`s=`) with `key`
    /// (rsa-sha256 or ed25519-sha256, following the key), writing
    /// `authserv_id` in the ARC-Authentication-Results.
    pub fn new(
        domain: &str,
        selector: &str,
        key: Arc<SigningKey>,
        authserv_id: &str,
        options: SealOptions,
    ) -> Result<Sealer, SealError> {
        validate_domain(domain)?;
        validate_selector(selector)?;
        let valid_id = !authserv_id.is_empty()
            && authserv_id.len() <= 255
            && authserv_id
                .chars()
                .all(|c| !c.is_control() && !c.is_whitespace() && !"();\\\"".contains(c));
        if !valid_id {
            return Err(SealError::AuthservId(authserv_id.to_owned()));
        }
        let algorithm = match key.key_type() {
            KeyType::Rsa => Algorithm::RsaSha256,
            KeyType::Ed25519 => Algorithm::Ed25519Sha256,
            #[allow(unreachable_patterns)]
            other => return Err(SealError::KeyType(other)),
        };
        let mut headers: Vec<String> = Vec::new();
        for name in &options.headers {
            validate_header_name(name)?;
            let lower = name.to_ascii_lowercase();
            // RFC 8617 §4.1.2: an AMS never signs an ARC-Seal.
            if lower == "arc-seal" {
                return Err(InvalidValue::HeaderName(name.clone()).into());
            }
            if !headers.contains(&lower) {
                headers.push(lower);
            }
        }
        Ok(Sealer {
            domain: domain.to_ascii_lowercase(),
            selector: selector.to_ascii_lowercase(),
            authserv_id: authserv_id.to_owned(),
            key,
            algorithm,
            options: SealOptions { headers, ..options },
        })
    }

    /// Picks domain, selector and key from a DKIM signing table by
    /// `address` (a `local@domain` or a bare domain, matched as the table
    /// matches From addresses: for sealing, usually the sealer's own
    /// domain); `None` when no rule matches.
    pub fn from_table(
        table: &SigningTable,
        address: &str,
        authserv_id: &str,
        options: SealOptions,
    ) -> Option<Result<Sealer, SealError>> {
        let chosen = table.lookup(address)?;
        Some(Sealer::new(
            &chosen.domain,
            chosen.selector,
            chosen.key.clone(),
            authserv_id,
            options,
        ))
    }

    /// The sealing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The authserv-id written in the ARC-Authentication-Results.
    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// The algorithm (`a=`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Starts sealing one message; `now` is the time written in `t=`
    /// (seconds since the Unix epoch).
    pub fn start(&self, now: u64) -> Sealing<'_> {
        Sealing::new(Cow::Borrowed(self), now)
    }

    /// As [`start`](Self::start), the sealing owning the sealer.
    pub fn into_sealing(self, now: u64) -> Sealing<'static> {
        Sealing::new(Cow::Owned(self), now)
    }

    /// Seals a whole message (see [`Sealing::finish`]).
    pub fn seal(
        &self,
        message: &[u8],
        now: u64,
        chain: &Outcome,
        results: &[MethodResult],
    ) -> Result<SealOutcome, SealError> {
        let mut sealing = self.start(now);
        sealing.update(message);
        sealing.finish(chain, results)
    }
}

/// One message being sealed: feed it with [`update`](Self::update), then
/// [`finish`](Self::finish). Memory stays bounded by the header limits.
#[derive(Debug)]
pub struct Sealing<'a> {
    sealer: Cow<'a, Sealer>,
    now: u64,
    reader: MessageReader,
    body: BodyHasher,
}

impl<'a> Sealing<'a> {
    fn new(sealer: Cow<'a, Sealer>, now: u64) -> Sealing<'a> {
        let limits = sealer.options.header_limits;
        let hash = sealer.algorithm.hash();
        Sealing {
            sealer,
            now,
            reader: MessageReader::new(limits),
            body: BodyHasher::new(BodyCanonicalization::Relaxed, hash, None),
        }
    }

    /// Feeds the next chunk of the message (split anywhere).
    pub fn update(&mut self, chunk: &[u8]) {
        let body = self.reader.feed(chunk);
        if !body.is_empty() {
            self.body.update(body);
        }
    }

    /// Builds the new ARC set. `chain` is the outcome of validating the
    /// same message ([`Validator`](super::Validator)): `none` gives
    /// `cv=none` and instance 1, `pass` gives `cv=pass`, `fail` gives
    /// `cv=fail`, unless the newest seal already says `cv=fail`
    /// ([`SealOutcome::ChainFailed`]). `results` go into the
    /// ARC-Authentication-Results after the authserv-id, in order (include
    /// the `arc=` result, [`Outcome::to_method_result`]).
    ///
    /// # Errors
    /// [`SealError::ChainMismatch`] when `chain` counted another number of
    /// sets than the message holds; header bounds passed; the key failing.
    pub fn finish(
        self,
        chain: &Outcome,
        results: &[MethodResult],
    ) -> Result<SealOutcome, SealError> {
        let authserv_id = self.sealer.authserv_id.clone();
        self.finish_with(chain, |instance| {
            let ar = crate::authres::AuthenticationResults {
                authserv_id,
                version: None,
                results: results.to_vec(),
            };
            let name = format!("{AUTHENTICATION_RESULTS}:");
            let mut folder = render::Folder::field(&name, true);
            folder.piece("", |out| {
                out.push_str("i=");
                out.push_str(&instance.to_string());
                out.push(';');
                true
            });
            ar.write_pieces(&mut folder);
            let folded = folder.finish();
            folded
                .strip_prefix(&name)
                .unwrap_or(&folded)
                .trim_start()
                .to_owned()
        })
    }

    /// As [`finish`](Self::finish), the ARC-Authentication-Results taking
    /// the results of the message's own Authentication-Results fields that
    /// carry the sealer's authserv-id, each result copied as written
    /// (comments kept), in message order, one per line (the ValiMail
    /// suite's consolidation rule).
    ///
    /// # Errors
    /// As [`finish`](Self::finish).
    pub fn finish_with_header_results(mut self, chain: &Outcome) -> Result<SealOutcome, SealError> {
        self.reader.finish();
        let mut entries: Vec<String> = Vec::new();
        for field in self.reader.fields() {
            if !field.is_named(crate::authres::FIELD_NAME.as_bytes()) {
                continue;
            }
            let Ok(parsed) = crate::authres::AuthenticationResults::parse(field.value()) else {
                continue;
            };
            if !parsed.is_from(&self.sealer.authserv_id) || parsed.version.is_some_and(|v| v != 1) {
                continue;
            }
            entries.extend(result_texts(field.value()));
        }
        let authserv_id = self.sealer.authserv_id.clone();
        self.finish_with(chain, |instance| {
            let mut value = format!("i={instance}; {authserv_id}");
            if entries.is_empty() {
                value.push_str("; none");
            }
            for entry in &entries {
                value.push_str(";\r\n ");
                value.push_str(entry);
            }
            value
        })
    }

    fn finish_with(
        mut self,
        chain: &Outcome,
        authentication_results: impl FnOnce(u32) -> String,
    ) -> Result<SealOutcome, SealError> {
        self.reader.finish();
        if let Some(error) = self.reader.error() {
            return Err(SealError::Header(error));
        }
        let fields = self.reader.take_fields();
        // The existing sets, by instance: [AAR, AMS, AS] positions.
        let mut sets: Vec<[Option<usize>; 3]> = Vec::new();
        for (position, field) in fields.iter().enumerate() {
            let Some(kind) = field.name().and_then(ArcField::from_name) else {
                continue;
            };
            let Ok(instance) = parse::instance(kind, field.value()) else {
                continue;
            };
            let index = instance as usize - 1;
            if sets.len() <= index {
                sets.resize(index + 1, [None; 3]);
            }
            let slot = match kind {
                ArcField::AuthenticationResults => 0,
                ArcField::MessageSignature => 1,
                _ => 2,
            };
            if let Some(set) = sets.get_mut(index) {
                set[slot].get_or_insert(position);
            }
        }
        let found = sets.len();
        if chain.sets != found {
            return Err(SealError::ChainMismatch {
                validated: chain.sets,
                found,
            });
        }
        let newest_failed = sets
            .last()
            .and_then(|set| set[2])
            .and_then(|position| fields.get(position))
            .and_then(|field| Seal::parse(field.value()).ok())
            .is_some_and(|seal| seal.chain_status == ArcResult::Fail);
        if newest_failed {
            return Ok(SealOutcome::ChainFailed);
        }
        let chain_status = match chain.result {
            ArcResult::None if found == 0 => ArcResult::None,
            ArcResult::Pass if found > 0 => ArcResult::Pass,
            ArcResult::Fail => ArcResult::Fail,
            _ => {
                return Err(SealError::ChainMismatch {
                    validated: chain.sets,
                    found,
                });
            }
        };
        if found >= self.sealer.options.max_sets.min(MAX_INSTANCE as usize) {
            return Ok(SealOutcome::TooManySets);
        }
        let instance = u32::try_from(found + 1).unwrap_or(MAX_INSTANCE);
        let sealer = &self.sealer;
        let b64 = base64::engine::general_purpose::STANDARD;
        let relaxed = HeaderCanonicalization::Relaxed;

        // ARC-Authentication-Results.
        let aar = authentication_results(instance);

        // ARC-Message-Signature over the header with the new AAR on top.
        let body_hash = self.body.finish();
        let mut signed_names = Vec::new();
        for name in &sealer.options.headers {
            let count = fields
                .iter()
                .filter(|f| f.is_named(name.as_bytes()))
                .count();
            signed_names.extend(std::iter::repeat_n(name.as_str(), count));
        }
        let aar_field =
            HeaderField::from_raw(format!("{AUTHENTICATION_RESULTS}: {aar}").into_bytes());
        let mut header: Vec<&HeaderField> = Vec::with_capacity(fields.len() + 1);
        header.push(&aar_field);
        header.extend(fields.iter());
        let ams_tags = |signature: &str| {
            vec![
                ("a", sealer.algorithm.as_str().to_owned()),
                ("b", signature.to_owned()),
                ("bh", b64.encode(&body_hash.digest)),
                ("c", "relaxed/relaxed".to_owned()),
                ("d", sealer.domain.clone()),
                ("h", signed_names.join(":")),
                ("i", instance.to_string()),
                ("s", sealer.selector.clone()),
                ("t", self.now.to_string()),
            ]
        };
        let mut data = Vec::new();
        append_signed_fields(relaxed, &header, &signed_names, &mut data);
        append_unsigned(MESSAGE_SIGNATURE, &ams_tags(""), &mut data);
        let signature = sealer.key.sign(sealer.algorithm, &data)?;
        let ams = render(&ams_tags(&b64.encode(signature)));

        // ARC-Seal over every set, oldest first, then the new one; with
        // cv=fail over the new set alone (RFC 8617 §5.1.2: the chain is
        // not vouched for; the ValiMail suite's `i1_base_fail`).
        let mut data = Vec::new();
        let covered = if chain_status == ArcResult::Fail {
            &sets[..0]
        } else {
            &sets[..]
        };
        for set in covered {
            for position in set.iter().flatten() {
                if let Some(field) = fields.get(*position) {
                    relaxed.append(
                        field.raw_name().unwrap_or_default(),
                        field.value(),
                        &mut data,
                    );
                }
            }
        }
        relaxed.append(
            AUTHENTICATION_RESULTS.as_bytes(),
            format!(" {aar}").as_bytes(),
            &mut data,
        );
        relaxed.append(
            MESSAGE_SIGNATURE.as_bytes(),
            format!(" {ams}").as_bytes(),
            &mut data,
        );
        let seal_tags = |signature: &str| {
            vec![
                ("a", sealer.algorithm.as_str().to_owned()),
                ("b", signature.to_owned()),
                ("cv", chain_status.as_str().to_owned()),
                ("d", sealer.domain.clone()),
                ("i", instance.to_string()),
                ("s", sealer.selector.clone()),
                ("t", self.now.to_string()),
            ]
        };
        append_unsigned(SEAL, &seal_tags(""), &mut data);
        let signature = sealer.key.sign(sealer.algorithm, &data)?;
        let seal = render(&seal_tags(&b64.encode(signature)));
        Ok(SealOutcome::Sealed(SealedSet {
            instance,
            authentication_results: aar,
            message_signature: ams,
            seal,
        }))
    }
}

/// Appends the field `name` with `tags` (its `b=` empty), relaxed, with no
/// final CRLF: the last piece of the data a signature covers.
fn append_unsigned(name: &str, tags: &[(&str, String)], out: &mut Vec<u8>) {
    let value = tags
        .iter()
        .map(|(tag, value)| format!("{tag}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    HeaderCanonicalization::Relaxed.append(name.as_bytes(), format!(" {value}").as_bytes(), out);
    out.truncate(out.len().saturating_sub(2));
}

/// The longest line of a rendered field, without the CRLF.
const LINE_WIDTH: usize = 78;

/// Renders a tag list as the ValiMail suite lays it out: tags in the order
/// given (alphabetical), `"; "` between them, no final `;`; folded with
/// CRLF SP before a tag that would pass column 78. Relaxed canonicalization
/// reads such a fold as the space it replaces, so it changes no signature.
/// The base64 of `b=` stays on one line: a fold inside it would become a
/// space in the data a later ARC-Seal signs (the suite's seals are
/// computed over unfolded values).
fn render(tags: &[(&str, String)]) -> String {
    let mut out = String::new();
    // The name and ": " of the longest field name go first on the line.
    let mut column = MESSAGE_SIGNATURE.len() + 2;
    let count = tags.len();
    for (index, (tag, value)) in tags.iter().enumerate() {
        let end = if index + 1 == count { "" } else { ";" };
        let piece = format!("{tag}={value}{end}");
        if index > 0 {
            if column + 1 + piece.len() > LINE_WIDTH {
                out.push_str("\r\n ");
                column = 1;
            } else {
                out.push(' ');
                column += 1;
            }
        }
        out.push_str(&piece);
        column += piece.len();
    }
    out
}

/// The results of an Authentication-Results field value, as written: the
/// text after the authserv-id split at each `;` outside quoted-strings and
/// comments, trimmed, `none` left out.
fn result_texts(value: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(value);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in text.chars() {
        if escaped {
            escaped = false;
            current.push(c);
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ';' if !quoted && depth == 0 => {
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    pieces.push(current);
    pieces
        .into_iter()
        // The first piece is the authserv-id (and version).
        .skip(1)
        .map(|piece| {
            piece
                .trim_matches(|c: char| c.is_ascii_whitespace())
                .to_owned()
        })
        .filter(|piece| !piece.is_empty() && !piece.eq_ignore_ascii_case("none"))
        .collect()
}
