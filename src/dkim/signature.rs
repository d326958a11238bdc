//! The DKIM-Signature header field (RFC 6376 §3.5), parsed.
//!
//! [`Signature::parse`] reads the value of a DKIM-Signature field into a
//! [`Signature`] with descriptive field names, checking everything §3.5 and
//! §6.1.1 require before any DNS lookup: `v=1`, the required tags, a known
//! algorithm and canonicalization, `From` among the signed fields, `i=`
//! within `d=`, `x=` not before `t=`, `dns/txt` among the query methods.
//! Unknown tags are ignored.

use std::fmt;

use super::Algorithm;
use super::canon::Canonicalization;
use super::tags::{self, Tag, TagError, TagList};
use crate::dns::{Name, NameError};

/// Why a DKIM-Signature value cannot be used (a permanent error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFieldError {
    /// The tag list is malformed, a required tag is missing, or a value is
    /// not valid base64 or not a number.
    #[error(transparent)]
    Tag(#[from] TagError),
    /// `v=` is not `1`.
    #[error("unsupported signature version")]
    UnsupportedVersion,
    /// `a=` names an algorithm this library does not know.
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// `c=` names an unknown canonicalization.
    #[error("unsupported canonicalization")]
    UnsupportedCanonicalization,
    /// `d=` is not a domain name.
    #[error("invalid signing domain: {0}")]
    InvalidDomain(NameError),
    /// `s=` is not a valid selector, or `s=` and `d=` together make no valid
    /// DNS name.
    #[error("invalid selector")]
    InvalidSelector,
    /// `h=` names no field, or holds an invalid field name.
    #[error("invalid list of signed header fields")]
    InvalidSignedHeaders,
    /// `h=` does not include `From` (RFC 6376 §6.1.1).
    #[error("from header field not signed")]
    FromNotSigned,
    /// `i=` is not `[local-part] "@" domain`, or its quoted-printable is
    /// broken.
    #[error("invalid agent or user identifier")]
    InvalidIdentity,
    /// The domain of `i=` is neither `d=` nor a subdomain of it.
    #[error("identity domain not within signing domain")]
    IdentityNotInDomain,
    /// `q=` does not include `dns/txt`.
    #[error("unsupported query method")]
    UnsupportedQueryMethod,
    /// `x=` is earlier than `t=`.
    #[error("expiration before signature timestamp")]
    ExpiresBeforeTimestamp,
    /// `z=` is malformed.
    #[error("invalid copied header fields")]
    InvalidCopiedHeaders,
}

/// The agent or user identifier (`i=`), decoded from
/// dkim-quoted-printable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The local-part, if any (bytes, decoded).
    pub local_part: Option<Vec<u8>>,
    /// The domain.
    pub domain: Name,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(local) = &self.local_part {
            f.write_str(&String::from_utf8_lossy(local))?;
        }
        f.write_str("@")?;
        f.write_str(self.domain.as_str())
    }
}

/// A parsed DKIM-Signature (RFC 6376 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signature {
    /// `a=`: the signing algorithm.
    pub algorithm: Algorithm,
    /// `b=`: the signature bytes.
    pub signature: Vec<u8>,
    /// `bh=`: the hash of the canonical body.
    pub body_hash: Vec<u8>,
    /// `c=`: header and body canonicalization (default simple/simple).
    pub canonicalization: Canonicalization,
    /// `d=`: the signing domain.
    pub domain: Name,
    /// `h=`: the names of the signed header fields, in order, as written.
    pub signed_headers: Vec<String>,
    /// `i=`: the agent or user identifier. When absent, RFC 6376 §3.5 says
    /// it is `@` + `d=`; see [`Signature::effective_identity`].
    pub identity: Option<Identity>,
    /// `l=`: how many canonical body octets are signed (all when absent).
    pub body_length: Option<u64>,
    /// `q=`: the query methods, as written (default `dns/txt`).
    pub query_methods: Vec<String>,
    /// `s=`: the selector.
    pub selector: String,
    /// `t=`: when the signature was made (seconds since the Unix epoch).
    pub timestamp: Option<u64>,
    /// `x=`: when the signature expires (seconds since the Unix epoch).
    pub expires_at: Option<u64>,
    /// `z=`: copies of the original header fields (decoded), for
    /// diagnostics only.
    pub copied_headers: Vec<Vec<u8>>,
    /// Where the value of `b=` lies in the parsed field value, whitespace
    /// around it included.
    signature_value_range: std::ops::Range<usize>,
}

impl Signature {
    /// Parses the value of a DKIM-Signature field (everything after the
    /// colon).
    ///
    /// # Errors
    /// A [`SignatureFieldError`] naming the first problem found.
    pub fn parse<'a>(value: &'a [u8]) -> Result<Signature, SignatureFieldError> {
        let list = TagList::parse(value)?;
        // One pass over the tags (TagList::parse refused duplicates, so each
        // slot is set at most once); then the checks, in the order RFC 6376
        // §6.1.1 lists them.
        let mut found = FoundTags::default();
        for tag in list.tags() {
            let slot = match tag.name {
                "v" => &mut found.v,
                "a" => &mut found.a,
                "b" => &mut found.b,
                "bh" => &mut found.bh,
                "c" => &mut found.c,
                "d" => &mut found.d,
                "h" => &mut found.h,
                "i" => &mut found.i,
                "l" => &mut found.l,
                "q" => &mut found.q,
                "s" => &mut found.s,
                "t" => &mut found.t,
                "x" => &mut found.x,
                "z" => &mut found.z,
                _ => continue,
            };
            *slot = Some(tag);
        }
        let required = |tag: Option<&Tag<'a>>, name: &'static str| {
            tag.map(|t| t.value).ok_or(TagError::MissingTag { name })
        };
        let value_of = |tag: Option<&Tag<'a>>| tag.map(|t| t.value);
        let version = required(found.v, "v")?;
        if version != b"1" {
            return Err(SignatureFieldError::UnsupportedVersion);
        }
        let algorithm = ascii(required(found.a, "a")?)
            .and_then(Algorithm::from_name)
            .ok_or(SignatureFieldError::UnsupportedAlgorithm)?;
        let signature = tags::decode_base64("b", required(found.b, "b")?)?;
        let signature_value_range = found.b.map_or(0..0, |b| b.raw_value_start..b.raw_value_end);
        let body_hash = tags::decode_base64("bh", required(found.bh, "bh")?)?;
        let domain_text = ascii(required(found.d, "d")?).ok_or(
            SignatureFieldError::InvalidDomain(NameError::InvalidCharacter),
        )?;
        let domain = parse_domain(domain_text).map_err(SignatureFieldError::InvalidDomain)?;
        let signed_headers = parse_signed_headers(required(found.h, "h")?)?;
        let selector = ascii(required(found.s, "s")?)
            .filter(|s| valid_selector(s))
            .ok_or(SignatureFieldError::InvalidSelector)?
            .to_owned();
        let canonicalization = match value_of(found.c) {
            Some(c) => ascii(c)
                .and_then(Canonicalization::from_tag)
                .ok_or(SignatureFieldError::UnsupportedCanonicalization)?,
            None => Canonicalization::default(),
        };
        let identity = match value_of(found.i) {
            Some(i) => {
                let identity = parse_identity(i)?;
                if !identity.domain.is_subdomain_of(&domain) {
                    return Err(SignatureFieldError::IdentityNotInDomain);
                }
                Some(identity)
            }
            None => None,
        };
        let body_length = value_of(found.l)
            .map(|l| tags::decode_number("l", l))
            .transpose()?;
        let query_methods = match value_of(found.q) {
            Some(q) => {
                let methods: Vec<String> = tags::split_list(q)
                    .map(|m| String::from_utf8_lossy(m).into_owned())
                    .collect();
                // "dns/txt" possibly followed by "/options" is not defined;
                // only the exact method counts.
                if !methods.iter().any(|m| m.eq_ignore_ascii_case("dns/txt")) {
                    return Err(SignatureFieldError::UnsupportedQueryMethod);
                }
                methods
            }
            None => vec!["dns/txt".to_owned()],
        };
        let timestamp = value_of(found.t)
            .map(|t| tags::decode_number("t", t))
            .transpose()?;
        let expires_at = value_of(found.x)
            .map(|x| tags::decode_number("x", x))
            .transpose()?;
        if let (Some(t), Some(x)) = (timestamp, expires_at)
            && x < t
        {
            return Err(SignatureFieldError::ExpiresBeforeTimestamp);
        }
        let copied_headers = match value_of(found.z) {
            Some(z) => parse_copied_headers(z)?,
            None => Vec::new(),
        };
        Ok(Signature {
            algorithm,
            signature,
            body_hash,
            canonicalization,
            domain,
            signed_headers,
            identity,
            body_length,
            query_methods,
            selector,
            timestamp,
            expires_at,
            copied_headers,
            signature_value_range,
        })
    }

    /// `value` (the field value this signature was parsed from) with the
    /// value of `b=` removed, as RFC 6376 §3.7 hashes it.
    pub fn value_without_signature(&self, value: &[u8]) -> Vec<u8> {
        let range = &self.signature_value_range;
        let mut out = Vec::with_capacity(value.len());
        out.extend_from_slice(value.get(..range.start).unwrap_or(value));
        out.extend_from_slice(value.get(range.end..).unwrap_or_default());
        out
    }

    /// Where the value of `b=` (whitespace around it included) lies in the
    /// field value this signature was parsed from.
    pub(crate) fn signature_value_range(&self) -> std::ops::Range<usize> {
        self.signature_value_range.clone()
    }

    /// The first `length` characters of the `b=` text (whitespace removed)
    /// in `value`, the field value this signature was parsed from: the
    /// `header.b` of Authentication-Results (RFC 6008).
    pub fn signature_prefix(&self, value: &[u8], length: usize) -> String {
        let raw = value
            .get(self.signature_value_range.clone())
            .unwrap_or_default();
        let mut compact = Vec::with_capacity(length);
        compact.extend(
            raw.iter()
                .copied()
                .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .take(length),
        );
        // The usual base64 text is kept as it is, without a second copy.
        String::from_utf8(compact)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }

    /// The identity the signature speaks for: `i=`, or `@` + `d=` when `i=`
    /// is absent (RFC 6376 §3.5).
    pub fn effective_identity(&self) -> Identity {
        self.identity.clone().unwrap_or_else(|| Identity {
            local_part: None,
            domain: self.domain.clone(),
        })
    }

    /// The DNS name of the key record: `<selector>._domainkey.<domain>`
    /// (RFC 6376 §3.6.2.1).
    pub fn key_name(&self) -> Result<Name, NameError> {
        const INFIX: &str = "._domainkey.";
        let domain = self.domain.as_str();
        let mut text = String::with_capacity(self.selector.len() + INFIX.len() + domain.len());
        text.push_str(&self.selector);
        text.push_str(INFIX);
        text.push_str(domain);
        Name::from_string(text)
    }
}

/// The tags [`Signature::parse`] reads, picked out in one pass.
#[derive(Default)]
struct FoundTags<'l, 'a> {
    v: Option<&'l Tag<'a>>,
    a: Option<&'l Tag<'a>>,
    b: Option<&'l Tag<'a>>,
    bh: Option<&'l Tag<'a>>,
    c: Option<&'l Tag<'a>>,
    d: Option<&'l Tag<'a>>,
    h: Option<&'l Tag<'a>>,
    i: Option<&'l Tag<'a>>,
    l: Option<&'l Tag<'a>>,
    q: Option<&'l Tag<'a>>,
    s: Option<&'l Tag<'a>>,
    t: Option<&'l Tag<'a>>,
    x: Option<&'l Tag<'a>>,
    z: Option<&'l Tag<'a>>,
}

pub(crate) fn ascii(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// A signing domain: a DNS name of letters, digits, hyphens and
/// underscores (RFC 6376 §3.5 `domain-name`, with `_` allowed as some
/// signers use it).
pub(crate) fn parse_domain(text: &str) -> Result<Name, NameError> {
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(NameError::InvalidCharacter);
    }
    Name::new(text)
}

/// `selector = sub-domain *( "." sub-domain )`.
pub(crate) fn valid_selector(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        })
}

/// `h=`: field names separated by colons; `From` must be among them.
fn parse_signed_headers(value: &[u8]) -> Result<Vec<String>, SignatureFieldError> {
    // A name with an octet that is not UTF-8 is not printable US-ASCII
    // either: one check of the whole list makes every name a str.
    let text = std::str::from_utf8(value).map_err(|_| SignatureFieldError::InvalidSignedHeaders)?;
    // Presized for the usual lists; a hostile one grows as it goes.
    let mut names = Vec::with_capacity((memchr::memchr_iter(b':', value).count() + 1).min(64));
    for name in text.split(':') {
        let name = name.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        // RFC 5322 field name: printable US-ASCII except colon.
        if name.is_empty() || !name.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(SignatureFieldError::InvalidSignedHeaders);
        }
        names.push(name.to_owned());
    }
    if !names.iter().any(|n| n.eq_ignore_ascii_case("from")) {
        return Err(SignatureFieldError::FromNotSigned);
    }
    Ok(names)
}

/// Decodes dkim-quoted-printable (RFC 6376 §2.11): `=XX` is an octet, FWS
/// is ignored.
fn decode_quoted_printable(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter().copied();
    while let Some(byte) = bytes.next() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'=' => {
                let high = hex_digit(bytes.next()?)?;
                let low = hex_digit(bytes.next()?)?;
                out.push(high << 4 | low);
            }
            _ => out.push(byte),
        }
    }
    Some(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    // RFC 6376 §2.11 uses uppercase hex; lowercase is accepted.
    (byte as char)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn parse_identity(value: &[u8]) -> Result<Identity, SignatureFieldError> {
    let decoded = decode_quoted_printable(value).ok_or(SignatureFieldError::InvalidIdentity)?;
    let at = decoded
        .iter()
        .rposition(|&b| b == b'@')
        .ok_or(SignatureFieldError::InvalidIdentity)?;
    let (local, domain) = decoded.split_at(at);
    let domain = domain.get(1..).unwrap_or_default();
    let domain = ascii(domain)
        .and_then(|d| parse_domain(d).ok())
        .ok_or(SignatureFieldError::InvalidIdentity)?;
    Ok(Identity {
        local_part: if local.is_empty() {
            None
        } else {
            Some(local.to_vec())
        },
        domain,
    })
}

/// `z=`: header fields separated by `|`, each dkim-quoted-printable.
fn parse_copied_headers(value: &[u8]) -> Result<Vec<Vec<u8>>, SignatureFieldError> {
    value
        .split(|&b| b == b'|')
        .map(|field| {
            decode_quoted_printable(field).ok_or(SignatureFieldError::InvalidCopiedHeaders)
        })
        .collect()
}

/// The value of a DKIM-Signature field with the value of its `b=` tag
/// removed (RFC 6376 §3.7: "with the value of the b= tag (including all
/// surrounding whitespace) deleted"). `None` if the value is not a tag list
/// or has no `b=`.
pub fn without_signature_value(value: &[u8]) -> Option<Vec<u8>> {
    let list = TagList::parse(value).ok()?;
    let b = list.tag("b")?;
    let mut out = Vec::with_capacity(value.len());
    out.extend_from_slice(value.get(..b.raw_value_start)?);
    out.extend_from_slice(value.get(b.raw_value_end..)?);
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dkim::canon::{BodyCanonicalization, HeaderCanonicalization};

    const RFC8463: &[u8] = b" v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n subject : date : message-id : from : subject : date;\r\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

    #[test]
    fn rfc8463_signature() {
        let sig = Signature::parse(RFC8463).unwrap();
        assert_eq!(sig.algorithm, Algorithm::Ed25519Sha256);
        assert_eq!(sig.canonicalization.header, HeaderCanonicalization::Relaxed);
        assert_eq!(sig.canonicalization.body, BodyCanonicalization::Relaxed);
        assert_eq!(sig.domain, Name::new("football.example.com").unwrap());
        assert_eq!(sig.selector, "brisbane");
        assert_eq!(sig.timestamp, Some(1528637909));
        assert_eq!(sig.signed_headers.len(), 8);
        assert_eq!(sig.signed_headers[1], "to");
        assert_eq!(sig.signature.len(), 64);
        assert_eq!(sig.body_hash.len(), 32);
        assert_eq!(sig.identity.as_ref().unwrap().local_part, None);
        assert_eq!(
            sig.key_name().unwrap(),
            Name::new("brisbane._domainkey.football.example.com").unwrap()
        );
    }

    fn with(replace: &str, by: &str) -> Result<Signature, SignatureFieldError> {
        let text = String::from_utf8(RFC8463.to_vec()).unwrap();
        assert!(text.contains(replace), "{replace}");
        Signature::parse(text.replacen(replace, by, 1).as_bytes())
    }

    #[test]
    fn malformations() {
        assert_eq!(
            with("v=1", "v=2"),
            Err(SignatureFieldError::UnsupportedVersion)
        );
        assert_eq!(
            with("v=1;", ""),
            Err(SignatureFieldError::Tag(TagError::MissingTag { name: "v" }))
        );
        assert_eq!(
            with("a=ed25519-sha256", "a=rsa-md5"),
            Err(SignatureFieldError::UnsupportedAlgorithm)
        );
        assert_eq!(
            with("c=relaxed/relaxed", "c=relaxed/fancy"),
            Err(SignatureFieldError::UnsupportedCanonicalization)
        );
        assert_eq!(
            with("i=@football.example.com", "i=joe@example.com"),
            Err(SignatureFieldError::IdentityNotInDomain)
        );
        assert_eq!(
            with("i=@football.example.com", "i=joe"),
            Err(SignatureFieldError::InvalidIdentity)
        );
        assert_eq!(
            with("q=dns/txt", "q=http/well-known"),
            Err(SignatureFieldError::UnsupportedQueryMethod)
        );
        assert_eq!(
            with("t=1528637909", "t=1528637909; x=1528637908"),
            Err(SignatureFieldError::ExpiresBeforeTimestamp)
        );
        assert_eq!(
            with(
                "h=from : to :\r\n subject : date : message-id : from : subject : date;",
                "h=to : subject;"
            ),
            Err(SignatureFieldError::FromNotSigned)
        );
        assert_eq!(
            with("t=1528637909", "t=15x"),
            Err(SignatureFieldError::Tag(TagError::BadNumber { name: "t" }))
        );
        assert_eq!(
            with("bh=2jUS", "bh=*jUS"),
            Err(SignatureFieldError::Tag(TagError::BadBase64 { name: "bh" }))
        );
        assert_eq!(
            with("d=football.example.com", "d=football.example(.com"),
            Err(SignatureFieldError::InvalidDomain(
                NameError::InvalidCharacter
            ))
        );
        assert_eq!(
            with("s=brisbane", "s=bris bane"),
            Err(SignatureFieldError::InvalidSelector)
        );
        assert_eq!(
            with("q=dns/txt", "q=dns/txt; q=dns/txt"),
            Err(SignatureFieldError::Tag(TagError::DuplicateTag {
                name: "q".into()
            }))
        );
        // Unknown tags are ignored.
        assert!(with("q=dns/txt", "q=dns/txt; foo=bar").is_ok());
    }

    #[test]
    fn signed_header_names() {
        let sig = with(
            "h=from : to :\r\n subject : date : message-id : from : subject : date;",
            "h=From:X-Odd_Name!\r\n\t: to ;",
        )
        .unwrap();
        assert_eq!(sig.signed_headers, vec!["From", "X-Odd_Name!", "to"]);
        for bad in ["h=from::to;", "h=from:to:;", "h=from:t\u{e9}:to;", "h=;"] {
            assert_eq!(
                with(
                    "h=from : to :\r\n subject : date : message-id : from : subject : date;",
                    bad
                ),
                Err(SignatureFieldError::InvalidSignedHeaders),
                "{bad}"
            );
        }
    }

    #[test]
    fn identity_quoted_printable() {
        let sig = with("i=@football.example.com", "i=jlong@football=2Eexample.com").unwrap();
        let identity = sig.identity.unwrap();
        assert_eq!(identity.local_part.as_deref(), Some(&b"jlong"[..]));
        assert_eq!(identity.domain, Name::new("football.example.com").unwrap());
        let sig = with("i=@football.example.com", "i=a@sub.football.example.com").unwrap();
        assert_eq!(
            sig.effective_identity().to_string(),
            "a@sub.football.example.com"
        );
    }

    #[test]
    fn lengths_and_copies() {
        let sig = with(
            "q=dns/txt",
            "q=foo/bar:dns/txt; l=42; z=From:foo=20bar|To:x",
        )
        .unwrap();
        assert_eq!(sig.body_length, Some(42));
        assert_eq!(
            sig.copied_headers,
            vec![b"From:foo bar".to_vec(), b"To:x".to_vec()]
        );
        assert_eq!(sig.query_methods, vec!["foo/bar", "dns/txt"]);
    }

    #[test]
    fn strips_b_value() {
        let stripped = without_signature_value(b"v=1; b= ab\r\n cd ; bh=x; d=y").unwrap();
        assert_eq!(stripped, b"v=1; b=; bh=x; d=y");
        let stripped = without_signature_value(b"v=1; bh=x;b=abc").unwrap();
        assert_eq!(stripped, b"v=1; bh=x;b=");
    }
}
