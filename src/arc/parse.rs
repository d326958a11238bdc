//! The three ARC header fields, parsed (RFC 8617 §4.1).
//!
//! - ARC-Authentication-Results: `i=` then an Authentication-Results
//!   payload (RFC 8617 §4.1.1): `arc-info ";" authres-payload`.
//! - ARC-Message-Signature: a DKIM-Signature tag list without `v=`, where
//!   `i=` is the instance (RFC 8617 §4.1.2).
//! - ARC-Seal: a tag list `i`, `a`, `b`, `cv`, `d`, `s`, `t`; `h=` is
//!   forbidden (RFC 8617 §4.1.3).
//!
//! Parsing is strict: each malformation has its own [`FieldError`].

use std::fmt;

use super::ArcResult;
use crate::dkim::Algorithm;
use crate::dkim::canon::Canonicalization;
use crate::dkim::signature::{ascii, parse_domain, valid_selector};
use crate::dkim::tags::{self, TagError, TagList};
use crate::dns::{Name, NameError};

/// The field name of an ARC-Authentication-Results.
pub const AUTHENTICATION_RESULTS: &str = "ARC-Authentication-Results";
/// The field name of an ARC-Message-Signature.
pub const MESSAGE_SIGNATURE: &str = "ARC-Message-Signature";
/// The field name of an ARC-Seal.
pub const SEAL: &str = "ARC-Seal";

/// The three kinds of ARC header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArcField {
    /// ARC-Authentication-Results (AAR).
    AuthenticationResults,
    /// ARC-Message-Signature (AMS).
    MessageSignature,
    /// ARC-Seal (AS).
    Seal,
}

impl ArcField {
    /// The field name.
    pub fn name(self) -> &'static str {
        match self {
            ArcField::AuthenticationResults => AUTHENTICATION_RESULTS,
            ArcField::MessageSignature => MESSAGE_SIGNATURE,
            ArcField::Seal => SEAL,
        }
    }

    /// The kind of a field named `name` (ASCII case ignored).
    pub fn from_name(name: &[u8]) -> Option<ArcField> {
        [
            ArcField::AuthenticationResults,
            ArcField::MessageSignature,
            ArcField::Seal,
        ]
        .into_iter()
        .find(|f| f.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for ArcField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_ascii_lowercase())
    }
}

/// Why an ARC field cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The tag list is malformed (duplicate tag, bad syntax), a required
    /// tag is missing, or a value is not valid base64 or not a number.
    #[error(transparent)]
    Tag(#[from] TagError),
    /// `i=` is missing.
    #[error("missing instance")]
    MissingInstance,
    /// `i=` is not a number from 1 to 50.
    #[error("invalid instance")]
    InvalidInstance,
    /// `a=` names an algorithm this library does not know.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// `c=` names an unknown canonicalization.
    #[error("unsupported canonicalization")]
    UnsupportedCanonicalization,
    /// `d=` is not a domain name.
    #[error("invalid signing domain: {0}")]
    InvalidDomain(NameError),
    /// `s=` is not a valid selector.
    #[error("invalid selector")]
    InvalidSelector,
    /// `h=` names no field or holds an invalid name.
    #[error("invalid list of signed header fields")]
    InvalidSignedHeaders,
    /// An ARC-Message-Signature signs an ARC-Seal (RFC 8617 §4.1.2: ARC-Seal
    /// fields must not be in its `h=`).
    #[error("arc-seal listed in h= of arc-message-signature")]
    SealSigned,
    /// An ARC-Seal carries `h=` (RFC 8617 §4.1.3).
    #[error("h= not allowed in arc-seal")]
    SignedHeadersInSeal,
    /// `cv=` is not `none`, `pass` or `fail`.
    #[error("invalid chain validation status")]
    InvalidChainStatus,
    /// The ARC-Authentication-Results has no authserv-id after `i=`.
    #[error("missing authserv-id")]
    MissingAuthservId,
    /// The field value is not text (ASCII or UTF-8).
    #[error("field value is not text")]
    NotText,
}

/// A parsed ARC-Authentication-Results (RFC 8617 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticationResults {
    /// The instance.
    pub instance: u32,
    /// The authserv-id.
    pub authserv_id: String,
}

/// A parsed ARC-Message-Signature (RFC 8617 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageSignature {
    /// `i=`: the instance.
    pub instance: u32,
    /// `a=`.
    pub algorithm: Algorithm,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `bh=`, decoded.
    pub body_hash: Vec<u8>,
    /// `c=`. When absent: relaxed/relaxed, not DKIM's simple/simple (a
    /// deliberate reading: the ValiMail suite's `ams_fields_c_na` and
    /// dkimpy validate an AMS without `c=` as relaxed/relaxed).
    pub canonicalization: Canonicalization,
    /// `d=`.
    pub domain: Name,
    /// `h=`, as written.
    pub signed_headers: Vec<String>,
    /// `l=`.
    pub body_length: Option<u64>,
    /// `s=`.
    pub selector: String,
    /// `t=`.
    pub timestamp: Option<u64>,
    /// Where the value of `b=` lies in the field value.
    pub(crate) signature_value_range: std::ops::Range<usize>,
}

/// A parsed ARC-Seal (RFC 8617 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Seal {
    /// `i=`: the instance.
    pub instance: u32,
    /// `a=`.
    pub algorithm: Algorithm,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `cv=`.
    pub chain_status: ArcResult,
    /// `d=`.
    pub domain: Name,
    /// `s=`.
    pub selector: String,
    /// `t=`.
    pub timestamp: Option<u64>,
    /// Where the value of `b=` lies in the field value.
    pub(crate) signature_value_range: std::ops::Range<usize>,
}

/// Parses an instance number: `instance = [FWS] %x31-39 *1DIGIT [FWS]`,
/// at most 50 (RFC 8617 §4.2.1).
fn parse_instance(value: &[u8]) -> Result<u32, FieldError> {
    let value = trim_wsp(value);
    let valid = matches!(value, [b'1'..=b'9'] | [b'1'..=b'9', b'0'..=b'9']);
    if !valid {
        return Err(FieldError::InvalidInstance);
    }
    let number = value
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    if number > super::MAX_INSTANCE {
        return Err(FieldError::InvalidInstance);
    }
    Ok(number)
}

fn trim_wsp(value: &[u8]) -> &[u8] {
    let is_wsp = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = value.iter().position(|b| !is_wsp(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_wsp(b)).map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or_default()
}

/// Reads the instance of any ARC field value (`i=` first in an
/// ARC-Authentication-Results, anywhere in the tag list of the others).
///
/// # Errors
/// [`FieldError::MissingInstance`], [`FieldError::InvalidInstance`], or the
/// tag-list error that hides the instance.
pub fn instance(field: ArcField, value: &[u8]) -> Result<u32, FieldError> {
    match field {
        ArcField::AuthenticationResults => aar_prefix(value).map(|(i, _)| i),
        ArcField::MessageSignature | ArcField::Seal => {
            let list = TagList::parse(value)?;
            parse_instance(list.get("i").ok_or(FieldError::MissingInstance)?)
        }
    }
}

/// `arc-info = instance [CFWS] ";"` at the start of an
/// ARC-Authentication-Results: the instance and the rest after the `;`.
fn aar_prefix(value: &[u8]) -> Result<(u32, &[u8]), FieldError> {
    let rest = trim_wsp(value);
    let rest = rest
        .strip_prefix(b"i")
        .ok_or(FieldError::MissingInstance)?;
    let rest = trim_wsp(rest)
        .strip_prefix(b"=")
        .ok_or(FieldError::MissingInstance)?;
    let end = memchr::memchr(b';', rest).ok_or(FieldError::InvalidInstance)?;
    let (number, after) = rest.split_at(end);
    let instance = parse_instance(number)?;
    Ok((instance, after.get(1..).unwrap_or_default()))
}

/// The tags an ARC-Message-Signature or ARC-Seal reads.
fn algorithm(list: &TagList<'_>) -> Result<Algorithm, FieldError> {
    ascii(list.required("a")?)
        .and_then(Algorithm::from_name)
        .ok_or(FieldError::UnsupportedAlgorithm)
}

fn domain(list: &TagList<'_>) -> Result<Name, FieldError> {
    let text = ascii(list.required("d")?)
        .ok_or(FieldError::InvalidDomain(NameError::InvalidCharacter))?;
    parse_domain(text).map_err(FieldError::InvalidDomain)
}

fn selector(list: &TagList<'_>) -> Result<String, FieldError> {
    ascii(list.required("s")?)
        .filter(|s| valid_selector(s))
        .map(str::to_owned)
        .ok_or(FieldError::InvalidSelector)
}

fn timestamp(list: &TagList<'_>) -> Result<Option<u64>, FieldError> {
    Ok(list
        .get("t")
        .map(|t| tags::decode_number("t", t))
        .transpose()?)
}

fn signature_tag(list: &TagList<'_>) -> Result<(Vec<u8>, std::ops::Range<usize>), FieldError> {
    let tag = list.tag("b").ok_or(TagError::MissingTag { name: "b" })?;
    let signature = tags::decode_base64("b", tag.value)?;
    if signature.is_empty() {
        return Err(TagError::BadBase64 { name: "b" }.into());
    }
    Ok((signature, tag.raw_value_start..tag.raw_value_end))
}

/// `h=` of an ARC-Message-Signature: field names separated by colons.
/// Empty elements are skipped and an empty list is accepted (the ValiMail
/// suite passes `h=` empty and `from:to::date`); `From` is not required,
/// unlike DKIM (RFC 8617 §4.1.2 does not ask for it).
fn signed_headers(value: &[u8]) -> Result<Vec<String>, FieldError> {
    let mut names = Vec::new();
    for name in tags::split_list(value) {
        if name.is_empty() {
            continue;
        }
        if !name.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(FieldError::InvalidSignedHeaders);
        }
        if name.eq_ignore_ascii_case(SEAL.as_bytes()) {
            return Err(FieldError::SealSigned);
        }
        names.push(String::from_utf8_lossy(name).into_owned());
    }
    Ok(names)
}

impl AuthenticationResults {
    /// Parses the value of an ARC-Authentication-Results field:
    /// `i=N;` then an authserv-id (the rest is the signed payload and is
    /// not interpreted).
    ///
    /// # Errors
    /// A [`FieldError`] naming the first problem.
    pub fn parse(value: &[u8]) -> Result<AuthenticationResults, FieldError> {
        let (instance, rest) = aar_prefix(value)?;
        let authserv_id =
            crate::authres::claimed_authserv_id(rest).ok_or(FieldError::MissingAuthservId)?;
        Ok(AuthenticationResults {
            instance,
            authserv_id,
        })
    }
}

impl MessageSignature {
    /// Parses the value of an ARC-Message-Signature field (RFC 8617
    /// §4.1.2: the DKIM-Signature tags, `i=` the instance; unknown tags
    /// ignored).
    ///
    /// # Errors
    /// A [`FieldError`] naming the first problem.
    pub fn parse(value: &[u8]) -> Result<MessageSignature, FieldError> {
        let list = TagList::parse(value)?;
        let instance = parse_instance(list.get("i").ok_or(FieldError::MissingInstance)?)?;
        let algorithm = algorithm(&list)?;
        let (signature, signature_value_range) = signature_tag(&list)?;
        let body_hash = tags::decode_base64("bh", list.required("bh")?)?;
        if body_hash.is_empty() {
            return Err(TagError::BadBase64 { name: "bh" }.into());
        }
        let canonicalization = match list.get("c") {
            Some(c) => ascii(c)
                .and_then(Canonicalization::from_tag)
                .ok_or(FieldError::UnsupportedCanonicalization)?,
            None => Canonicalization {
                header: crate::dkim::HeaderCanonicalization::Relaxed,
                body: crate::dkim::BodyCanonicalization::Relaxed,
            },
        };
        let domain = domain(&list)?;
        let signed_headers = signed_headers(list.required("h")?)?;
        let body_length = list
            .get("l")
            .map(|l| tags::decode_number("l", l))
            .transpose()?;
        let selector = selector(&list)?;
        let timestamp = timestamp(&list)?;
        Ok(MessageSignature {
            instance,
            algorithm,
            signature,
            body_hash,
            canonicalization,
            domain,
            signed_headers,
            body_length,
            selector,
            timestamp,
            signature_value_range,
        })
    }
}

impl Seal {
    /// Parses the value of an ARC-Seal field (RFC 8617 §4.1.3; unknown
    /// tags ignored, `h=` refused).
    ///
    /// # Errors
    /// A [`FieldError`] naming the first problem.
    pub fn parse(value: &[u8]) -> Result<Seal, FieldError> {
        let list = TagList::parse(value)?;
        let instance = parse_instance(list.get("i").ok_or(FieldError::MissingInstance)?)?;
        if list.tag("h").is_some() {
            return Err(FieldError::SignedHeadersInSeal);
        }
        let algorithm = algorithm(&list)?;
        let (signature, signature_value_range) = signature_tag(&list)?;
        let chain_status = match list.required("cv")? {
            b"none" => ArcResult::None,
            b"pass" => ArcResult::Pass,
            b"fail" => ArcResult::Fail,
            _ => return Err(FieldError::InvalidChainStatus),
        };
        let domain = domain(&list)?;
        let selector = selector(&list)?;
        let timestamp = timestamp(&list)?;
        Ok(Seal {
            instance,
            algorithm,
            signature,
            chain_status,
            domain,
            selector,
            timestamp,
            signature_value_range,
        })
    }
}

impl MessageSignature {
    /// The DNS name of the key record.
    pub(crate) fn key_name(&self) -> Result<Name, NameError> {
        key_name(&self.selector, &self.domain)
    }
}

impl Seal {
    /// The DNS name of the key record.
    pub(crate) fn key_name(&self) -> Result<Name, NameError> {
        key_name(&self.selector, &self.domain)
    }
}

/// `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
fn key_name(selector: &str, domain: &Name) -> Result<Name, NameError> {
    Name::new(&format!("{selector}._domainkey.{}", domain.as_str()))
}
