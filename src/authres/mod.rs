//! Authentication-Results (RFC 8601) as a data structure.
//!
//! Checks produce [`MethodResult`] values; an MTA gathers them into one
//! [`AuthenticationResults`] under its authserv-id and renders the header
//! field with [`AuthenticationResults::to_header_field`]. That renderer is
//! the only place where values are quoted and escaped, so text that came
//! from a sender (a HELO name, a MAIL FROM address, a DNS record) can never
//! break out of its value or add header fields: CR, LF and every other
//! control character are replaced by `?`, `"` and `\` are escaped inside
//! quoted strings, and lines are folded at 78 columns.
//!
//! ```
//! use mailauth::authres::{AuthenticationResults, MethodResult, Property};
//!
//! let mut ar = AuthenticationResults::new("mx.example.org");
//! ar.results.push(MethodResult {
//!     method: "spf".into(),
//!     result: "pass".into(),
//!     reason: None,
//!     properties: vec![Property::new("smtp", "mailfrom", "alice@example.com")],
//! });
//! assert_eq!(
//!     ar.to_header_value(),
//!     "mx.example.org; spf=pass smtp.mailfrom=alice@example.com"
//! );
//! ```

//!
//! [`AuthenticationResults::parse`] reads a field back (the RFC 8601 §2.2
//! grammar, comments and folding included); what it returns renders to the
//! same field again. Two helpers serve a receiving MTA (RFC 8601 §5):
//! [`is_forged`] finds fields that claim the MTA's own authserv-id, which
//! must be removed before the MTA adds its own, and [`trusted_results`]
//! reads the fields written by hosts the MTA trusts (its own border MTAs, as
//! OpenDMARC's `TrustedAuthservIDs`).
//!
//! ```
//! use mailauth::authres::{self, AuthenticationResults};
//! use mailauth::message::HeaderField;
//!
//! let ar = AuthenticationResults::parse(
//!     b" mx.example.org (our MTA);\r\n\tdkim=pass header.d=example.com",
//! )
//! .unwrap();
//! assert_eq!(ar.results[0].properties[0].value, "example.com");
//!
//! let field = HeaderField::from_raw(b"Authentication-Results: MX.example.org; spf=pass".to_vec());
//! assert!(authres::is_forged(&field, "mx.example.org"));
//! ```

mod parse;
pub(crate) mod render;

pub use parse::{Expected, ParseError, ParseLimits};

use std::fmt::Write as _;

use crate::SmolStr;
use crate::message::HeaderField;

/// The name of the header field.
pub const FIELD_NAME: &str = "Authentication-Results";

/// A method, result or property name: borrowed when written in code
/// (`"spf"`, `"pass"`, `"smtp"`), so that building a result allocates only
/// its values; owned when read from a field.
pub type Keyword = std::borrow::Cow<'static, str>;

/// One Authentication-Results header field (RFC 8601 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResults {
    /// The authentication service identifier (usually the host name of the
    /// MTA that ran the checks).
    pub authserv_id: String,
    /// The `authres-version` after the authserv-id (`None`: not written,
    /// meaning version 1).
    pub version: Option<u32>,
    /// The results; empty renders as `none`.
    pub results: Vec<MethodResult>,
}

/// The result of one authentication method (RFC 8601 §2.2 `resinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// The method (`spf`, `dkim`, `dmarc`, ...). Rendered keeping only
    /// letters, digits, `-`, `_` and `.`.
    pub method: Keyword,
    /// The result keyword (`pass`, `fail`, ...). Rendered like `method`.
    pub result: Keyword,
    /// A free-text reason (`reason=`), quoted when needed.
    pub reason: Option<String>,
    /// The properties (`smtp.mailfrom=...`, `header.d=...`).
    pub properties: Vec<Property>,
}

impl MethodResult {
    /// Whether this is a result of `method` (`spf`, `dkim`, ...; method
    /// names compare without regard to case, RFC 8601 §2.2).
    pub fn is_method(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }

    /// The value of the first property `property_type.property`
    /// (`smtp.mailfrom`, `header.d`, ...), names compared without regard to
    /// case.
    pub fn property(&self, property_type: &str, property: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| {
                p.property_type.eq_ignore_ascii_case(property_type)
                    && p.property.eq_ignore_ascii_case(property)
            })
            .map(|p| p.value.as_str())
    }
}

/// A result keyword that is not one of the method's (RFC 8601 §2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown result keyword")]
pub struct UnknownResult;

/// One property of a result (RFC 8601 §2.2 `propspec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property type: `smtp`, `header`, `body` or `policy`.
    pub property_type: Keyword,
    /// The property name within its type (`mailfrom`, `helo`, `d`, ...).
    pub property: Keyword,
    /// The value; an address or domain is written bare when it is a
    /// dot-atom, anything else is quoted. Values of up to 23 octets (most
    /// domains, selectors and addresses) are held inline, not allocated.
    pub value: SmolStr,
}

impl Property {
    /// A property `property_type.property=value`.
    pub fn new(
        property_type: impl Into<Keyword>,
        property: impl Into<Keyword>,
        value: impl Into<SmolStr>,
    ) -> Property {
        Property {
            property_type: property_type.into(),
            property: property.into(),
            value: value.into(),
        }
    }
}

impl AuthenticationResults {
    /// An empty field for `authserv_id`.
    pub fn new(authserv_id: impl Into<String>) -> AuthenticationResults {
        AuthenticationResults {
            authserv_id: authserv_id.into(),
            version: None,
            results: Vec::new(),
        }
    }

    /// Parses a field value (the bytes after the colon, folding included)
    /// with the default [`ParseLimits`].
    ///
    /// # Errors
    /// A [`ParseError`] naming what is wrong and where.
    pub fn parse(value: &[u8]) -> Result<AuthenticationResults, ParseError> {
        parse::parse(value, &ParseLimits::default())
    }

    /// Parses a field value within `limits`.
    ///
    /// # Errors
    /// A [`ParseError`] naming what is wrong and where.
    pub fn parse_with_limits(
        value: &[u8],
        limits: &ParseLimits,
    ) -> Result<AuthenticationResults, ParseError> {
        parse::parse(value, limits)
    }

    /// Whether this field comes from `authserv_id` (compared ignoring ASCII
    /// case, as the host names it usually is).
    pub fn is_from(&self, authserv_id: &str) -> bool {
        self.authserv_id.eq_ignore_ascii_case(authserv_id)
    }

    /// Writes the field's pieces: the authserv-id (and version), then each
    /// result with its reason and properties, every value written straight
    /// into the field.
    pub(crate) fn write_pieces(&self, folder: &mut render::Folder) {
        // Keywords are written in ASCII; each piece tells the folder
        // whether its value was.
        folder.piece("", |out| {
            let ascii = render::value_into(&self.authserv_id, false, out);
            if let Some(version) = self.version {
                // Writing into a String cannot fail.
                let _ = write!(out, " {version}");
            }
            ascii
        });
        if self.results.is_empty() {
            folder.piece(";", |out| {
                out.push_str("none");
                true
            });
        }
        for result in &self.results {
            folder.piece(";", |out| {
                render::keyword_into(&result.method, out);
                out.push('=');
                render::keyword_into(&result.result, out);
                true
            });
            if let Some(reason) = &result.reason {
                folder.piece("", |out| {
                    out.push_str("reason=");
                    render::value_into(reason, false, out)
                });
            }
            for property in &result.properties {
                folder.piece("", |out| {
                    render::keyword_into(&property.property_type, out);
                    out.push('.');
                    render::keyword_into(&property.property, out);
                    out.push('=');
                    render::value_into(&property.value, true, out)
                });
            }
        }
    }

    /// The field body on one line, without the field name.
    pub fn to_header_value(&self) -> String {
        let mut folder = render::Folder::unfolded();
        self.write_pieces(&mut folder);
        folder.finish()
    }

    /// The whole field, `Authentication-Results: ...`, folded at 78
    /// columns with CRLF followed by a tab; no final CRLF.
    pub fn to_header_field(&self) -> String {
        let mut folder = render::Folder::field("Authentication-Results:", true);
        self.write_pieces(&mut folder);
        folder.finish()
    }
}

/// The authserv-id a field value starts with, even when the rest of the
/// value does not parse; `None` when it does not start with one.
pub fn claimed_authserv_id(value: &[u8]) -> Option<String> {
    parse::authserv_id(value, &ParseLimits::default())
}

/// Whether `field` is an Authentication-Results field that claims
/// `our_authserv_id` (RFC 8601 §5): a field the receiving MTA did not write
/// and must remove. A field is judged by its leading authserv-id alone, so a
/// forgery whose remainder is malformed is still caught.
pub fn is_forged(field: &HeaderField, our_authserv_id: &str) -> bool {
    field.is_named(FIELD_NAME.as_bytes())
        && claimed_authserv_id(field.value())
            .is_some_and(|id| id.eq_ignore_ascii_case(our_authserv_id))
}

/// The Authentication-Results fields among `fields` that come from one of
/// the `trusted` authserv-ids and parse, in message order. Fields with an
/// `authres-version` other than 1 are left out (RFC 8601 §2.2: a reader
/// ignores versions it does not know). Remove forged fields first (see
/// [`is_forged`]) when the own authserv-id is among `trusted`.
pub fn trusted_results(fields: &[HeaderField], trusted: &[String]) -> Vec<AuthenticationResults> {
    fields
        .iter()
        .filter(|field| field.is_named(FIELD_NAME.as_bytes()))
        .filter_map(|field| AuthenticationResults::parse(field.value()).ok())
        .filter(|ar| ar.version.is_none_or(|v| v == 1))
        .filter(|ar| trusted.iter().any(|id| ar.is_from(id)))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spf(value: &str) -> AuthenticationResults {
        AuthenticationResults {
            authserv_id: "mx.example.org".into(),
            version: None,
            results: vec![MethodResult {
                method: "spf".into(),
                result: "fail".into(),
                reason: Some("not \"allowed\"\\".into()),
                properties: vec![Property::new("smtp", "mailfrom", value)],
            }],
        }
    }

    #[test]
    fn renders_plain_and_quoted() {
        assert_eq!(
            AuthenticationResults::new("mx.example.org").to_header_value(),
            "mx.example.org; none"
        );
        assert_eq!(
            spf("user@example.com").to_header_value(),
            "mx.example.org; spf=fail reason=\"not \\\"allowed\\\"\\\\\" smtp.mailfrom=user@example.com"
        );
        let mut v = spf("example.com");
        v.version = Some(1);
        assert!(
            v.to_header_value()
                .starts_with("mx.example.org 1; spf=fail")
        );
        assert!(
            spf("a b@example.com")
                .to_header_value()
                .ends_with("smtp.mailfrom=\"a b@example.com\"")
        );
        assert!(spf("").to_header_value().ends_with("smtp.mailfrom=\"\""));
    }

    #[test]
    fn hostile_values_cannot_inject() {
        let hostile = "x@example.com\r\nX-Injected: yes\r\n\r\nbody";
        let mut ar = spf(hostile);
        ar.authserv_id = "evil\r\nid".into();
        ar.results[0].method = "spf\r\nX: y".into();
        ar.results[0].reason = Some("\u{7}bell\u{0}nul\"q\\".into());
        ar.results[0]
            .properties
            .push(Property::new("smtp;", "helo=", "\"\\\""));
        for text in [ar.to_header_value(), ar.to_header_field()] {
            // The only CRLFs are folds, each followed by whitespace.
            let mut rest = text.as_str();
            while let Some(pos) = rest.find('\r') {
                assert!(matches!(rest.get(pos..pos + 3), Some("\r\n\t" | "\r\n ")));
                rest = &rest[pos + 3..];
            }
            assert!(
                !text
                    .replace("\r\n\t", "")
                    .replace("\r\n ", "")
                    .contains(['\r', '\n', '\u{0}', '\u{7}'])
            );
        }
        let value = ar.to_header_value();
        assert!(value.contains("smtp.mailfrom=\"x@example.com??X-Injected: yes????body\""));
        assert!(value.starts_with("\"evil??id\"; spfxy=fail"));
        assert!(value.contains("reason=\"?bell?nul\\\"q\\\\\""));
        assert!(value.ends_with("smtp.helo=\"\\\"\\\\\\\"\""));
    }

    #[test]
    fn forged_and_trusted() {
        let fields: Vec<HeaderField> = [
            &b"Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=a@b.example"[..],
            b"authentication-results:  (x) MX.Example.ORG ;; broken((",
            b"Authentication-Results: border.example.org; dkim=pass header.d=example.com",
            b"Authentication-Results: border.example.org 2; dkim=pass header.d=example.com",
            b"Authentication-Results: other.example.net; dkim=pass header.d=example.com",
            b"X-Authentication-Results: mx.example.org; none",
            b"Authentication-Results: border.example.org; broken=",
        ]
        .iter()
        .map(|raw| HeaderField::from_raw(raw.to_vec()))
        .collect();
        let forged: Vec<bool> = fields
            .iter()
            .map(|f| is_forged(f, "mx.example.org"))
            .collect();
        assert_eq!(forged, [true, true, false, false, false, false, false]);
        let trusted = trusted_results(&fields, &["Border.example.org".to_owned()]);
        assert_eq!(trusted.len(), 1);
        assert_eq!(trusted[0].results[0].method, "dkim");
    }

    #[test]
    fn long_quoted_values_fold_inside() {
        let mut ar = spf("user@example.com");
        ar.results[0].reason = Some("a long reason, ".repeat(12));
        let field = ar.to_header_field();
        for line in field.split("\r\n") {
            assert!(line.len() <= 78, "{line:?}");
        }
        let value = field.strip_prefix("Authentication-Results:").unwrap();
        let parsed = AuthenticationResults::parse(value.as_bytes()).unwrap();
        assert_eq!(parsed, ar);
    }

    #[test]
    fn folds_at_78_columns() {
        let mut ar = AuthenticationResults::new("mx.example.org");
        for i in 0..6 {
            ar.results.push(MethodResult {
                method: "dkim".into(),
                result: "pass".into(),
                reason: None,
                properties: vec![
                    Property::new("header", "d", format!("sub{i}.example.com")),
                    Property::new("header", "s", "selector2026"),
                ],
            });
        }
        let field = ar.to_header_field();
        assert!(field.starts_with("Authentication-Results: mx.example.org; dkim=pass"));
        for line in field.split("\r\n") {
            assert!(line.len() <= 78, "{line:?}");
        }
        assert_eq!(
            field.replace("\r\n\t", " "),
            format!("Authentication-Results: {}", ar.to_header_value())
        );
    }
}
