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

pub(crate) mod render;

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
    pub method: String,
    /// The result keyword (`pass`, `fail`, ...). Rendered like `method`.
    pub result: String,
    /// A free-text reason (`reason=`), quoted when needed.
    pub reason: Option<String>,
    /// The properties (`smtp.mailfrom=...`, `header.d=...`).
    pub properties: Vec<Property>,
}

/// One property of a result (RFC 8601 §2.2 `propspec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property type: `smtp`, `header`, `body` or `policy`.
    pub property_type: String,
    /// The property name within its type (`mailfrom`, `helo`, `d`, ...).
    pub property: String,
    /// The value; an address or domain is written bare when it is a
    /// dot-atom, anything else is quoted.
    pub value: String,
}

impl Property {
    /// A property `property_type.property=value`.
    pub fn new(
        property_type: impl Into<String>,
        property: impl Into<String>,
        value: impl Into<String>,
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

    fn pieces(&self) -> Vec<render::Piece> {
        let mut pieces = Vec::new();
        let mut head = render::value(&self.authserv_id, false);
        if let Some(version) = self.version {
            head.push_str(&format!(" {version}"));
        }
        pieces.push(render::Piece::new("", head));
        if self.results.is_empty() {
            pieces.push(render::Piece::new(";", "none".to_owned()));
        }
        for result in &self.results {
            pieces.push(render::Piece::new(
                ";",
                format!(
                    "{}={}",
                    render::keyword(&result.method),
                    render::keyword(&result.result)
                ),
            ));
            if let Some(reason) = &result.reason {
                pieces.push(render::Piece::new(
                    "",
                    format!("reason={}", render::value(reason, false)),
                ));
            }
            for property in &result.properties {
                pieces.push(render::Piece::new(
                    "",
                    format!(
                        "{}.{}={}",
                        render::keyword(&property.property_type),
                        render::keyword(&property.property),
                        render::value(&property.value, true)
                    ),
                ));
            }
        }
        pieces
    }

    /// The field body on one line, without the field name.
    pub fn to_header_value(&self) -> String {
        render::join_unfolded(&self.pieces())
    }

    /// The whole field, `Authentication-Results: ...`, folded at 78
    /// columns with CRLF followed by a tab; no final CRLF.
    pub fn to_header_field(&self) -> String {
        render::fold("Authentication-Results:", &self.pieces())
    }
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
                assert_eq!(rest.get(pos..pos + 3), Some("\r\n\t"));
                rest = &rest[pos + 3..];
            }
            assert!(
                !text
                    .replace("\r\n\t", "")
                    .contains(['\r', '\n', '\u{0}', '\u{7}'])
            );
        }
        let value = ar.to_header_value();
        assert!(value.contains("smtp.mailfrom=\"x@example.com??X-Injected: yes????body\""));
        assert!(value.starts_with("\"evil??id\"; spfXy=fail"));
        assert!(value.contains("reason=\"?bell?nul\\\"q\\\\\""));
        assert!(value.ends_with("smtp.helo=\"\\\"\\\\\\\"\""));
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
