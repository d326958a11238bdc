//! The Authentication-Results parser (RFC 8601 §2.2).
//!
//! ```text
//! authres-payload = [CFWS] authserv-id
//!                   [ CFWS authres-version ]
//!                   ( no-result / 1*resinfo ) [CFWS] CRLF
//! authserv-id     = value
//! authres-version = 1*DIGIT [CFWS]
//! no-result       = [CFWS] ";" [CFWS] "none"
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ]
//!                   [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
//! reasonspec      = "reason" [CFWS] "=" [CFWS] value
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! method          = Keyword [ [CFWS] "/" [CFWS] method-version ]
//! pvalue          = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
//!                   [CFWS]
//! ```
//!
//! `value` is an RFC 2045 token or an RFC 5322 quoted-string; `Keyword` is
//! an `ldh-str`. Comments may nest and appear wherever CFWS may; they are
//! dropped. Keywords (method, result, ptype, property, `reason`, `none`) are
//! case-insensitive and come out in lowercase.
//!
//! Deliberate choices:
//! - an unquoted property value is any run of printable characters other
//!   than `( ) < > , ; : \ " [ ]` and white space: the union of a token, a
//!   dot-atom and an addr-spec, which also takes the unquoted base64
//!   `header.b=Qgi/FoC0` values that real MTAs write (vector authres-22);
//!   an unquoted IPv6 address is refused, as the RFC grammar does
//!   (authres-15);
//! - method version 1 is the only one any registered method has: `dkim/1`
//!   parses as `dkim`, and another version is
//!   [`ParseError::UnsupportedMethodVersion`] (RFC 8601 Appendix B.7 and
//!   the `method_versions` unit test);
//! - UTF-8 is accepted in quoted-strings, comments and unquoted property
//!   values (RFC 8601 §2.2 with RFC 6532).

use super::{AuthenticationResults, MethodResult, Property};

/// Bounds on what the parser accepts. Every bound has a safe default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLimits {
    /// The longest field value, in octets (default 64 KiB).
    pub max_len: usize,
    /// The most results in one field (default 100).
    pub max_results: usize,
    /// The most properties in one result (default 100).
    pub max_properties: usize,
}

impl Default for ParseLimits {
    fn default() -> ParseLimits {
        ParseLimits {
            max_len: 64 * 1024,
            max_results: 100,
            max_properties: 100,
        }
    }
}

/// What the parser expected where it found something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// The authserv-id (a token or quoted-string).
    AuthservId,
    /// `;` before a result or `none`.
    Semicolon,
    /// A method name.
    Method,
    /// `=` after a method, property or `reason`.
    Equals,
    /// A result keyword.
    Result,
    /// `.` between a property type and a property name.
    Dot,
    /// A property name.
    Property,
    /// A value (token, quoted-string or address).
    Value,
    /// A method version number after `/`.
    MethodVersion,
    /// The end of the field.
    End,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expected::AuthservId => "authserv-id",
            Expected::Semicolon => "\";\"",
            Expected::Method => "method",
            Expected::Equals => "\"=\"",
            Expected::Result => "result",
            Expected::Dot => "\".\"",
            Expected::Property => "property name",
            Expected::Value => "value",
            Expected::MethodVersion => "method version",
            Expected::End => "end of field",
        })
    }
}

/// Why an Authentication-Results field did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The value is not UTF-8.
    #[error("not utf-8 at octet {offset}")]
    NotUtf8 {
        /// Where the invalid sequence starts.
        offset: usize,
    },
    /// The value is longer than [`ParseLimits::max_len`].
    #[error("field longer than {limit} octets")]
    TooLong {
        /// The bound.
        limit: usize,
    },
    /// More results than [`ParseLimits::max_results`].
    #[error("more than {limit} results")]
    TooManyResults {
        /// The bound.
        limit: usize,
    },
    /// More properties in one result than [`ParseLimits::max_properties`].
    #[error("more than {limit} properties in one result")]
    TooManyProperties {
        /// The bound.
        limit: usize,
    },
    /// A comment is not closed.
    #[error("unterminated comment starting at octet {offset}")]
    UnterminatedComment {
        /// Where the comment starts.
        offset: usize,
    },
    /// A quoted-string is not closed.
    #[error("unterminated quoted-string starting at octet {offset}")]
    UnterminatedQuotedString {
        /// Where the quoted-string starts.
        offset: usize,
    },
    /// A CR or LF that is not a fold (a line break followed by white space).
    #[error("line break not followed by white space at octet {offset}")]
    BareLineBreak {
        /// Where the line break is.
        offset: usize,
    },
    /// A control character outside a quoted-string or comment, or a NUL
    /// anywhere.
    #[error("control character at octet {offset}")]
    ControlCharacter {
        /// Where it is.
        offset: usize,
    },
    /// Something else was found where `expected` should be.
    #[error("expected {expected} at octet {offset}")]
    Expected {
        /// What should have come.
        expected: Expected,
        /// Where.
        offset: usize,
    },
    /// A version number does not fit in 32 bits.
    #[error("version number too large at octet {offset}")]
    VersionTooLarge {
        /// Where the number starts.
        offset: usize,
    },
    /// A method carries a version other than 1, which no registered method
    /// defines.
    #[error("method {method} version {version} is not defined")]
    UnsupportedMethodVersion {
        /// The method.
        method: String,
        /// The version.
        version: u32,
    },
}

/// Parses a field value (the bytes after `Authentication-Results:`,
/// folding included).
pub(super) fn parse(
    value: &[u8],
    limits: &ParseLimits,
) -> Result<AuthenticationResults, ParseError> {
    if value.len() > limits.max_len {
        return Err(ParseError::TooLong {
            limit: limits.max_len,
        });
    }
    let text = std::str::from_utf8(value).map_err(|e| ParseError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut cursor = Cursor { text, pos: 0 };
    cursor.cfws()?;
    let authserv_id = cursor.token_or_quoted()?.ok_or(ParseError::Expected {
        expected: Expected::AuthservId,
        offset: cursor.pos,
    })?;
    let mut field = AuthenticationResults::new(authserv_id);
    if cursor.cfws()? && cursor.peek().is_some_and(|c| c.is_ascii_digit()) {
        field.version = Some(cursor.number()?);
        cursor.cfws()?;
    }
    cursor.expect(b';', Expected::Semicolon)?;
    cursor.cfws()?;
    // no-result: "none" alone.
    let save = cursor.pos;
    if let Some(word) = cursor.keyword() {
        cursor.cfws()?;
        if word.eq_ignore_ascii_case("none") && cursor.at_end() {
            return Ok(field);
        }
    }
    cursor.pos = save;
    loop {
        if field.results.len() >= limits.max_results {
            return Err(ParseError::TooManyResults {
                limit: limits.max_results,
            });
        }
        field.results.push(cursor.resinfo(limits)?);
        cursor.cfws()?;
        if cursor.at_end() {
            return Ok(field);
        }
        cursor.expect(b';', Expected::Semicolon)?;
        cursor.cfws()?;
    }
}

/// The leading authserv-id of a field value, when it has one, whatever
/// follows it.
pub(super) fn authserv_id(value: &[u8], limits: &ParseLimits) -> Option<String> {
    let value = value.get(..limits.max_len.min(value.len()))?;
    // Only the head is read; a later invalid sequence does not matter.
    let text = match std::str::from_utf8(value) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(value.get(..e.valid_up_to())?).ok()?,
    };
    let mut cursor = Cursor { text, pos: 0 };
    cursor.cfws().ok()?;
    cursor.token_or_quoted().ok()?
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

/// RFC 2045 tspecials.
const TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";
/// Characters that end an unquoted property value.
const PVALUE_STOP: &[u8] = b"()<>,;:\\\"[]";

impl Cursor<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn expected(&self, expected: Expected) -> ParseError {
        ParseError::Expected {
            expected,
            offset: self.pos,
        }
    }

    fn expect(&mut self, byte: u8, expected: Expected) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    /// A line break at `pos` (CRLF or LF): its length, when it is a fold
    /// (followed by WSP) or ends the input. Anything else is an error.
    fn line_break(&self) -> Result<usize, ParseError> {
        let bytes = self.rest().as_bytes();
        let len = match bytes {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            _ => {
                return Err(ParseError::BareLineBreak { offset: self.pos });
            }
        };
        match bytes.get(len) {
            Some(b' ' | b'\t') | None => Ok(len),
            Some(_) => Err(ParseError::BareLineBreak { offset: self.pos }),
        }
    }

    /// Skips CFWS: white space, folds and (nested) comments. Says whether
    /// anything was skipped.
    fn cfws(&mut self) -> Result<bool, ParseError> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\r' | b'\n') => self.pos += self.line_break()?,
                Some(b'(') => self.comment()?,
                _ => return Ok(self.pos > start),
            }
        }
    }

    /// A comment, nesting counted (no recursion, so no depth bound needed).
    fn comment(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(ParseError::UnterminatedComment { offset: start }),
                Some(b'(') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b')') => {
                    depth -= 1;
                    self.pos += 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.quoted_pair_char(start, true)?;
                }
                Some(b'\r' | b'\n') => self.pos += self.line_break()?,
                Some(0) => return Err(ParseError::ControlCharacter { offset: self.pos }),
                Some(_) => self.skip_char(),
            }
        }
    }

    fn skip_char(&mut self) {
        let len = self.rest().chars().next().map_or(1, char::len_utf8);
        self.pos += len;
    }

    /// The character after a backslash.
    fn quoted_pair_char(&mut self, start: usize, comment: bool) -> Result<char, ParseError> {
        match self.rest().chars().next() {
            None => Err(if comment {
                ParseError::UnterminatedComment { offset: start }
            } else {
                ParseError::UnterminatedQuotedString { offset: start }
            }),
            Some('\r' | '\n') => Err(ParseError::BareLineBreak { offset: self.pos }),
            Some('\0') => Err(ParseError::ControlCharacter { offset: self.pos }),
            Some(c) => {
                self.pos += c.len_utf8();
                Ok(c)
            }
        }
    }

    /// A quoted-string at `pos` (which holds `"`): its content, unfolded
    /// and unescaped.
    fn quoted_string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.rest().chars().next() {
                None => return Err(ParseError::UnterminatedQuotedString { offset: start }),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    out.push(self.quoted_pair_char(start, false)?);
                }
                // A fold is removed; the white space after it stays.
                Some('\r' | '\n') => self.pos += self.line_break()?,
                Some('\0') => return Err(ParseError::ControlCharacter { offset: self.pos }),
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// A run of bytes for which `keep` holds (ASCII only unless
    /// `non_ascii`).
    fn run(&mut self, keep: impl Fn(u8) -> bool, non_ascii: bool) -> &str {
        let start = self.pos;
        let rest = self.rest().as_bytes();
        let len = rest
            .iter()
            .position(|&b| !(keep(b) || (non_ascii && b >= 0x80)))
            .unwrap_or(rest.len());
        self.pos += len;
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// An RFC 2045 token or a quoted-string; `None` when neither starts
    /// here.
    fn token_or_quoted(&mut self) -> Result<Option<String>, ParseError> {
        if self.peek() == Some(b'"') {
            return self.quoted_string().map(Some);
        }
        let token = self.run(|b| b.is_ascii_graphic() && !TSPECIALS.contains(&b), false);
        Ok((!token.is_empty()).then(|| token.to_owned()))
    }

    /// A Keyword (`ldh-str`), not ending with `-`.
    fn keyword(&mut self) -> Option<String> {
        let start = self.pos;
        let word = self.run(|b| b.is_ascii_alphanumeric() || b == b'-', false);
        if word.is_empty() || word.ends_with('-') {
            self.pos = start;
            return None;
        }
        Some(word.to_ascii_lowercase())
    }

    fn number(&mut self) -> Result<u32, ParseError> {
        let start = self.pos;
        let digits = self.run(|b| b.is_ascii_digit(), false);
        if digits.is_empty() {
            return Err(self.expected(Expected::MethodVersion));
        }
        digits
            .parse()
            .map_err(|_| ParseError::VersionTooLarge { offset: start })
    }

    fn property_value(&mut self) -> Result<String, ParseError> {
        if self.peek() == Some(b'"') {
            return self.quoted_string();
        }
        let value = self.run(|b| b.is_ascii_graphic() && !PVALUE_STOP.contains(&b), true);
        if value.is_empty() {
            return Err(self.expected(Expected::Value));
        }
        Ok(value.to_owned())
    }

    /// One `resinfo` after its `;` and CFWS.
    fn resinfo(&mut self, limits: &ParseLimits) -> Result<MethodResult, ParseError> {
        let method = self.keyword().ok_or(self.expected(Expected::Method))?;
        self.cfws()?;
        if self.peek() == Some(b'/') {
            self.pos += 1;
            self.cfws()?;
            let version = self.number()?;
            if version != 1 {
                return Err(ParseError::UnsupportedMethodVersion { method, version });
            }
            self.cfws()?;
        }
        self.expect(b'=', Expected::Equals)?;
        self.cfws()?;
        let result = self.keyword().ok_or(self.expected(Expected::Result))?;
        let mut out = MethodResult {
            method: method.into(),
            result: result.into(),
            reason: None,
            properties: Vec::new(),
        };
        loop {
            self.cfws()?;
            if self.at_end() || self.peek() == Some(b';') {
                return Ok(out);
            }
            let word = self.keyword().ok_or(self.expected(Expected::Property))?;
            self.cfws()?;
            if word == "reason"
                && out.reason.is_none()
                && out.properties.is_empty()
                && self.peek() == Some(b'=')
            {
                self.pos += 1;
                self.cfws()?;
                let reason = self
                    .token_or_quoted()?
                    .ok_or(self.expected(Expected::Value))?;
                out.reason = Some(reason);
                continue;
            }
            self.expect(b'.', Expected::Dot)?;
            self.cfws()?;
            let property = self.keyword().ok_or(self.expected(Expected::Property))?;
            self.cfws()?;
            self.expect(b'=', Expected::Equals)?;
            self.cfws()?;
            let value = self.property_value()?;
            if out.properties.len() >= limits.max_properties {
                return Err(ParseError::TooManyProperties {
                    limit: limits.max_properties,
                });
            }
            out.properties.push(Property {
                property_type: word.into(),
                property: property.into(),
                value: value.into(),
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<AuthenticationResults, ParseError> {
        parse(s.as_bytes(), &ParseLimits::default())
    }

    #[test]
    fn basic_and_none() {
        let ar = p(" example.org 1; none").unwrap();
        assert_eq!(ar.authserv_id, "example.org");
        assert_eq!(ar.version, Some(1));
        assert!(ar.results.is_empty());
        let ar = p("example.com; SPF=Pass (ok) smtp.MailFrom=a@Example.NET").unwrap();
        assert_eq!(ar.results[0].method, "spf");
        assert_eq!(ar.results[0].result, "pass");
        assert_eq!(
            ar.results[0].properties[0],
            Property::new("smtp", "mailfrom", "a@Example.NET")
        );
    }

    #[test]
    fn comments_nested_and_folding() {
        let ar = p("(a (nested \\) one)) \"x y\" (c)\r\n\t;\r\n dkim ( m ) / ( v ) 1 = (r) pass\r\n reason (c) = \"a\\\"b\r\n c\" header (t) . (p) d (e) = (v) example.org (end)").unwrap();
        assert_eq!(ar.authserv_id, "x y");
        let r = &ar.results[0];
        assert_eq!(r.method, "dkim");
        assert_eq!(r.reason.as_deref(), Some("a\"b c"));
        assert_eq!(
            r.properties,
            vec![Property::new("header", "d", "example.org")]
        );
    }

    #[test]
    fn errors_are_typed() {
        use ParseError as E;
        assert!(matches!(
            p(""),
            Err(E::Expected {
                expected: Expected::AuthservId,
                ..
            })
        ));
        assert!(matches!(
            p("a"),
            Err(E::Expected {
                expected: Expected::Semicolon,
                ..
            })
        ));
        assert!(matches!(
            p("a;"),
            Err(E::Expected {
                expected: Expected::Method,
                ..
            })
        ));
        assert!(matches!(
            p("a; spf=pass;"),
            Err(E::Expected {
                expected: Expected::Method,
                ..
            })
        ));
        assert!(matches!(
            p("a; spf pass"),
            Err(E::Expected {
                expected: Expected::Equals,
                ..
            })
        ));
        assert!(matches!(
            p("a; x=pass v=1"),
            Err(E::Expected {
                expected: Expected::Dot,
                ..
            })
        ));
        assert!(matches!(
            p("a; x=pass (open"),
            Err(E::UnterminatedComment { offset: 10 })
        ));
        assert!(matches!(
            p("\"a; none"),
            Err(E::UnterminatedQuotedString { offset: 0 })
        ));
        assert!(matches!(
            p("a;\r\nX-Evil: 1"),
            Err(E::BareLineBreak { offset: 2 })
        ));
        assert!(matches!(
            p("a; x=y p.q=\u{0}"),
            Err(E::Expected {
                expected: Expected::Value,
                ..
            })
        ));
        assert!(matches!(
            p("a; x=y p.q=\"\u{0}\""),
            Err(E::ControlCharacter { .. })
        ));
        assert!(matches!(
            parse(b"a; x=\xff", &ParseLimits::default()),
            Err(E::NotUtf8 { offset: 5 })
        ));
        assert!(matches!(
            p("a 99999999999; none"),
            Err(E::VersionTooLarge { offset: 2 })
        ));
        let limits = ParseLimits {
            max_results: 2,
            max_properties: 1,
            max_len: 40,
        };
        assert!(matches!(
            parse(b"a; b=c; d=e; f=g", &limits),
            Err(E::TooManyResults { limit: 2 })
        ));
        assert!(matches!(
            parse(b"a; b=c p.q=1 p.r=2", &limits),
            Err(E::TooManyProperties { limit: 1 })
        ));
        assert!(matches!(
            parse(&[b' '; 41], &limits),
            Err(E::TooLong { limit: 40 })
        ));
    }

    #[test]
    fn method_versions() {
        assert_eq!(p("a; dkim/1=pass").unwrap().results[0].method, "dkim");
        assert_eq!(
            p("a; dkim/2=pass"),
            Err(ParseError::UnsupportedMethodVersion {
                method: "dkim".into(),
                version: 2
            })
        );
    }

    #[test]
    fn head_only() {
        let limits = ParseLimits::default();
        assert_eq!(
            authserv_id(b" (c) mx.example.org; garbage ((", &limits).as_deref(),
            Some("mx.example.org")
        );
        assert_eq!(
            authserv_id(b"mx.example.org\xff", &limits).as_deref(),
            Some("mx.example.org")
        );
        assert_eq!(authserv_id(b" ;", &limits), None);
    }
}
