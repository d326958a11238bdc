//! The BIMI Assertion Record and the BIMI-Selector header field
//! (draft-brand-indicators-for-message-identification, "Assertion Record
//! Definition" and "BIMI-Selector Header").
//!
//! Both use the DKIM tag-list syntax ([`crate::dkim::tags`]).
//!
//! ```text
//! bimi-record = bimi-version (bimi-sep bimi-location)
//!               [bimi-sep bimi-evidence-location] [local-part-selector]
//!               [bimi-sep bimi-logo-preference] [bimi-sep]
//! bimi-version = "v" *WSP "=" *WSP "BIMI1"
//! bimi-location = "l" *WSP "=" *WSP [bimi-uri]
//! bimi-evidence-location = "a" *WSP "=" *WSP [bimi-uri]
//! bimi-selector-header = bimi-header-version bimi-sep bimi-selector [bimi-sep]
//! bimi-header-version = "v" *WSP "=" *WSP "BIMI" 1DIGIT
//! bimi-selector = "s" *WSP "=" *WSP selector
//! selector = sub-domain *( "." sub-domain )
//! ```

use std::fmt;

use crate::dkim::tags::{TagError, TagList};
use crate::dns::Name;

use super::Config;

/// The version every BIMI record and field carries.
pub const VERSION: &str = "BIMI1";

/// A BIMI selector: `selector = sub-domain *( "." sub-domain )` (labels of
/// letters, digits and inner hyphens, at most 63 octets each). Compared
/// without regard to case, as DNS names are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector(Name);

impl Selector {
    /// Validates a selector.
    ///
    /// # Errors
    /// [`SelectorError::InvalidSelector`] when it is not a `sub-domain`
    /// list.
    pub fn new(text: &str) -> Result<Selector, SelectorError> {
        let valid_label = |label: &str| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= 63
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        };
        if !text.split('.').all(valid_label) {
            return Err(SelectorError::InvalidSelector);
        }
        Name::new(text)
            .map(Selector)
            .map_err(|_| SelectorError::InvalidSelector)
    }

    /// The selector `default`, used when a message names none.
    pub fn default_selector() -> Selector {
        Selector(Name::new("default").unwrap_or_else(|_| Name::root()))
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `<selector>._bimi.<domain>`, where the Assertion Record is
    /// published; `None` when the name would be too long for the DNS.
    pub fn record_name(&self, domain: &Name) -> Option<Name> {
        Name::new(&format!("{}._bimi.{}", self.0, domain)).ok()
    }
}

impl Default for Selector {
    fn default() -> Selector {
        Selector::default_selector()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a BIMI-Selector field is ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// The value is not a tag list.
    #[error("malformed tag list: {0}")]
    Tags(#[from] TagError),
    /// The same tag appears twice (tag names compared without regard to
    /// case: BIMI header fields are case-insensitive).
    #[error("duplicate tag {0}")]
    DuplicateTag(String),
    /// The first tag is not `v`.
    #[error("v= is not the first tag")]
    VersionNotFirst,
    /// `v` is not `BIMI1`.
    #[error("unsupported version")]
    UnsupportedVersion,
    /// No `s` tag.
    #[error("no s= tag")]
    MissingSelector,
    /// `s` is not a valid selector.
    #[error("invalid selector")]
    InvalidSelector,
}

/// Parses the value of a BIMI-Selector field (after the colon):
/// `v=BIMI1; s=<selector>;` (draft "BIMI-Selector Header"). Tag names and
/// the version compare without regard to case ("BIMI header fields are
/// case insensitive"); other tags are ignored.
///
/// # Errors
/// A [`SelectorError`]: the field must then be ignored and the selector
/// `default` used (draft appendix A.5).
pub fn parse_selector_field(value: &[u8]) -> Result<Selector, SelectorError> {
    let list = TagList::parse(value)?;
    let tags = list.tags();
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i]
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(tag.name))
        {
            return Err(SelectorError::DuplicateTag(tag.name.to_ascii_lowercase()));
        }
    }
    let first = tags.first().ok_or(SelectorError::VersionNotFirst)?;
    if !first.name.eq_ignore_ascii_case("v") {
        return Err(SelectorError::VersionNotFirst);
    }
    if !first.value.eq_ignore_ascii_case(VERSION.as_bytes()) {
        return Err(SelectorError::UnsupportedVersion);
    }
    let selector = tags
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case("s"))
        .ok_or(SelectorError::MissingSelector)?;
    let text = std::str::from_utf8(selector.value).map_err(|_| SelectorError::InvalidSelector)?;
    Selector::new(text)
}

/// What an `avp=` tag asks for (draft "avp= Avatar Preference").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AvatarPreference {
    /// `brand` (the default): show the BIMI Indicator.
    Brand,
    /// `personal`: show the sender's personal avatar when there is one.
    Personal,
}

impl AvatarPreference {
    /// The keyword (`brand`, `personal`).
    pub fn as_str(self) -> &'static str {
        match self {
            AvatarPreference::Brand => "brand",
            AvatarPreference::Personal => "personal",
        }
    }
}

/// A parsed BIMI Assertion Record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// `l=`: the HTTPS URIs of the Indicator (one in the current draft;
    /// earlier drafts allowed a comma-separated list, bounded by
    /// [`Config::max_location_uris`]); empty when `l=` is empty.
    pub locations: Vec<String>,
    /// `a=`: the HTTPS URI of the BIMI Evidence Document (a Verified Mark
    /// Certificate); `None` when absent or empty.
    pub evidence: Option<String>,
    /// `lps=true`: the Domain Owner publishes local-part selectors.
    pub local_part_selector: bool,
    /// `avp=`, when it holds a known value (others are ignored, as the
    /// draft asks).
    pub avatar_preference: Option<AvatarPreference>,
}

impl Record {
    /// Parses a record (its TXT character-strings joined).
    ///
    /// The record is defined precisely: `v=BIMI1` must be the first tag,
    /// tag names are case-sensitive, and a required tag that is missing or
    /// malformed is an error (no repair is attempted). Unknown tags are
    /// ignored.
    ///
    /// # Errors
    /// A [`RecordError`] naming the first problem found.
    pub fn parse(text: &[u8], config: &Config) -> Result<Record, RecordError> {
        if text.len() > config.max_record_bytes {
            return Err(RecordError::TooLong {
                limit: config.max_record_bytes,
            });
        }
        if !is_bimi_record(text) {
            return Err(RecordError::NotBimi);
        }
        let list = TagList::parse(text)?;
        let text_of = |tag: &'static str, value: &[u8]| {
            std::str::from_utf8(value)
                .map(str::to_owned)
                .map_err(|_| RecordError::BadUri {
                    tag,
                    uri: String::from_utf8_lossy(value).into_owned(),
                    problem: UriError::InvalidCharacter,
                })
        };
        let location = list.get("l").ok_or(RecordError::MissingLocation)?;
        let mut locations = Vec::new();
        if !location.is_empty() {
            for uri in location.split(|&b| b == b',') {
                if locations.len() == config.max_location_uris {
                    return Err(RecordError::TooManyLocations {
                        limit: config.max_location_uris,
                    });
                }
                let uri = text_of("l", uri)?;
                let uri = uri.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
                check_https_uri(uri).map_err(|problem| RecordError::BadUri {
                    tag: "l",
                    uri: uri.to_owned(),
                    problem,
                })?;
                locations.push(uri.to_owned());
            }
        }
        let evidence = match list.get("a") {
            None | Some(b"") => None,
            Some(value) => {
                let uri = text_of("a", value)?;
                check_https_uri(&uri).map_err(|problem| RecordError::BadUri {
                    tag: "a",
                    uri: uri.clone(),
                    problem,
                })?;
                Some(uri)
            }
        };
        let local_part_selector = match list.get("lps") {
            None | Some(b"false") => false,
            Some(b"true") => true,
            Some(_) => return Err(RecordError::BadLocalPartSelector),
        };
        let avatar_preference = match list.get("avp") {
            Some(b"brand") => Some(AvatarPreference::Brand),
            Some(b"personal") => Some(AvatarPreference::Personal),
            _ => None,
        };
        Ok(Record {
            locations,
            evidence,
            local_part_selector,
            avatar_preference,
        })
    }

    /// Whether this is a Declination to Publish: `l=` and `a=` both empty
    /// (draft "Declination to Publish").
    pub fn is_declination(&self) -> bool {
        self.locations.is_empty() && self.evidence.is_none()
    }
}

/// Whether a TXT record starts with the `v=` tag of this version of BIMI
/// (`v` *WSP `=` *WSP `BIMI1`, then the end, whitespace or `;`): records
/// that do not are discarded before a record is chosen (draft "Assertion
/// Record Discovery", steps 4 and 7).
pub fn is_bimi_record(text: &[u8]) -> bool {
    let is_wsp = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let skip = |rest: &[u8]| -> usize { rest.iter().take_while(|b| is_wsp(b)).count() };
    let mut rest = text;
    rest = &rest[skip(rest)..];
    let Some(after_v) = rest.strip_prefix(b"v") else {
        return false;
    };
    rest = &after_v[skip(after_v)..];
    let Some(after_eq) = rest.strip_prefix(b"=") else {
        return false;
    };
    rest = &after_eq[skip(after_eq)..];
    let Some(after_version) = rest.strip_prefix(VERSION.as_bytes()) else {
        return false;
    };
    after_version
        .first()
        .is_none_or(|b| *b == b';' || is_wsp(b))
}

/// Why a text that starts as a BIMI record is not a valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Longer than [`Config::max_record_bytes`].
    #[error("record longer than {limit} octets")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// The text does not start with `v=BIMI1`.
    #[error("not a bimi record")]
    NotBimi,
    /// The tag list is malformed.
    #[error("malformed tag list: {0}")]
    Tags(#[from] TagError),
    /// No `l=` tag (it is required, even if empty).
    #[error("no l= tag")]
    MissingLocation,
    /// More `l=` URIs than [`Config::max_location_uris`].
    #[error("more than {limit} l= uris")]
    TooManyLocations {
        /// The limit.
        limit: usize,
    },
    /// A URI in `l=` or `a=` is not a valid HTTPS URI.
    #[error("invalid {tag}= uri: {problem}")]
    BadUri {
        /// `l` or `a`.
        tag: &'static str,
        /// The URI as written (not UTF-8: lossily converted).
        uri: String,
        /// What is wrong with it.
        problem: UriError,
    },
    /// `lps=` is neither `true` nor `false`.
    #[error("lps= is neither true nor false")]
    BadLocalPartSelector,
}

/// Why a URI of `l=` or `a=` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// Empty (an empty element of an `l=` list).
    #[error("empty uri")]
    Empty,
    /// The scheme is not `https` ("the only supported transport").
    #[error("not https")]
    NotHttps,
    /// The host is not a fully qualified domain name (missing, an
    /// address, a single label, or not a valid name).
    #[error("host is not a fully qualified domain name")]
    BadHost,
    /// A character outside the visible ASCII range, or user information
    /// (`user@`) before the host.
    #[error("invalid character")]
    InvalidCharacter,
}

/// Checks that `uri` is an `https:` URI whose host is a fully qualified
/// domain name (draft "a= Authority Evidence Location": "MUST contain a
/// fully qualified domain name (FQDN) and MUST specify HTTPS as the URI
/// scheme"). Only visible ASCII is allowed (other characters are
/// percent-encoded in a URI), so an accepted URI can be written into a
/// header field as it is.
///
/// # Errors
/// A [`UriError`].
pub fn check_https_uri(uri: &str) -> Result<(), UriError> {
    if uri.is_empty() {
        return Err(UriError::Empty);
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) || uri.contains([';', ',']) {
        return Err(UriError::InvalidCharacter);
    }
    let rest = uri
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and_then(|_| uri.get(8..))
        .ok_or(UriError::NotHttps)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(UriError::InvalidCharacter);
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return Err(UriError::BadHost),
        None => authority,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(UriError::BadHost);
    }
    let name = Name::new(host).map_err(|_| UriError::BadHost)?;
    let all_numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if name.label_count() < 2 || all_numeric {
        return Err(UriError::BadHost);
    }
    Ok(())
}
