//! Macro strings (RFC 7208 §7).
//!
//! ```text
//! macro-string  = *( macro-expand / macro-literal )
//! macro-expand  = ( "%{" macro-letter transformers *delimiter "}" )
//!                 / "%%" / "%_" / "%-"
//! macro-literal = %x21-24 / %x26-7E
//! macro-letter  = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"
//! transformers  = *DIGIT [ "r" ]
//! delimiter     = "." / "-" / "+" / "," / "/" / "_" / "="
//! explain-string = *( macro-string / SP )
//! ```
//!
//! Expansion does bounded work whatever the input: a domain-spec is expanded
//! from the right and stops once it holds more than the 253 octets a domain
//! name can keep (§7.3 truncates from the left, so the left part is never
//! needed); an explanation stops at a configured length.

use crate::dns::Name;
use std::fmt;
use std::net::IpAddr;

/// Longest domain name in text form (RFC 7208 §7.3).
const MAX_DOMAIN_LEN: usize = 253;

/// Where a macro string appears, which decides the letters and characters
/// it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// A domain-spec of a mechanism or of `redirect=` / `exp=`: the letters
    /// `c`, `r` and `t` are not allowed (§7.2).
    Domain,
    /// An unknown modifier's value: never expanded, any letter accepted.
    Modifier,
    /// An explanation string (the TXT record `exp=` points to): spaces and
    /// every letter allowed.
    Explanation,
}

/// Why a macro string is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MacroError {
    /// A `%` not followed by `{`, `%`, `_` or `-`.
    #[error("invalid escape after '%'")]
    InvalidEscape,
    /// A `%{` without its closing `}`.
    #[error("unterminated macro")]
    Unterminated,
    /// A macro letter that does not exist.
    #[error("unknown macro letter {0:?}")]
    UnknownLetter(char),
    /// `c`, `r` or `t` outside an explanation string (§7.2).
    #[error("macro letter {0:?} is only allowed in explanations")]
    ExplanationOnlyLetter(char),
    /// A transformer or delimiter that is not allowed, or a zero digit count.
    #[error("invalid macro transformer")]
    InvalidTransformer,
    /// A character that cannot appear in a macro string (control, space
    /// outside explanations, non-ASCII).
    #[error("invalid character in macro string")]
    InvalidCharacter,
}

/// The value a macro letter stands for (§7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MacroLetter {
    /// `s`: the sender address.
    Sender,
    /// `l`: the local-part of the sender.
    LocalPart,
    /// `o`: the domain of the sender.
    SenderDomain,
    /// `d`: the domain being checked.
    Domain,
    /// `i`: the client IP, dotted (nibbles for IPv6).
    Ip,
    /// `p`: the validated domain name of the client IP (needs DNS).
    ValidatedName,
    /// `v`: `in-addr` or `ip6`.
    IpVersion,
    /// `h`: the HELO/EHLO domain.
    Helo,
    /// `c`: the client IP in its readable form (explanations only).
    ClientIp,
    /// `r`: the receiving host's domain (explanations only).
    Receiver,
    /// `t`: the current time in seconds (explanations only).
    Timestamp,
}

impl MacroLetter {
    fn from_char(c: char) -> Option<MacroLetter> {
        Some(match c.to_ascii_lowercase() {
            's' => MacroLetter::Sender,
            'l' => MacroLetter::LocalPart,
            'o' => MacroLetter::SenderDomain,
            'd' => MacroLetter::Domain,
            'i' => MacroLetter::Ip,
            'p' => MacroLetter::ValidatedName,
            'v' => MacroLetter::IpVersion,
            'h' => MacroLetter::Helo,
            'c' => MacroLetter::ClientIp,
            'r' => MacroLetter::Receiver,
            't' => MacroLetter::Timestamp,
            _ => return None,
        })
    }

    fn explanation_only(self) -> bool {
        matches!(
            self,
            MacroLetter::ClientIp | MacroLetter::Receiver | MacroLetter::Timestamp
        )
    }
}

/// One `%{...}` macro.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Macro {
    letter: MacroLetter,
    /// Upper-case letter: URL-escape the result.
    url_escape: bool,
    /// Keep this many right-hand parts (never zero).
    keep: Option<usize>,
    reverse: bool,
    /// The delimiters to split on; empty means `.`.
    delimiters: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Macro(Macro),
}

/// A parsed macro string: literal text and macros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroString {
    text: String,
    items: Vec<Item>,
    /// For a string without macros (most domain-specs): the name it
    /// expands to, when that is a valid name, validated once at parsing.
    literal_name: Option<Name>,
}

impl fmt::Display for MacroString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The values macros expand to, for one evaluation step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Values<'a> {
    pub(crate) sender_local: &'a str,
    pub(crate) sender_domain: &'a str,
    pub(crate) domain: &'a str,
    pub(crate) ip: IpAddr,
    pub(crate) helo: &'a str,
    pub(crate) receiver: &'a str,
    pub(crate) timestamp: u64,
    /// The `p` value, when the string needs it (`"unknown"` when no name
    /// validated).
    pub(crate) validated_name: &'a str,
}

impl MacroString {
    /// Parses `text` as a macro string for `context`.
    pub(crate) fn parse(text: &str, context: Context) -> Result<MacroString, MacroError> {
        let bytes = text.as_bytes();
        // Most strings (domain-specs naming a domain) hold no macro and no
        // escape: the text is the one literal, taken whole.
        if bytes.iter().all(|&b| matches!(b, 0x21..=0x7e) && b != b'%') {
            return Ok(MacroString::literal(text, context));
        }
        MacroString::parse_items(text, context)
    }

    /// [`MacroString::parse`] octet by octet, for any string.
    fn parse_items(text: &str, context: Context) -> Result<MacroString, MacroError> {
        let bytes = text.as_bytes();
        let mut items: Vec<Item> = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'%' => {
                    match bytes.get(i + 1) {
                        Some(b'%') => literal.push('%'),
                        Some(b'_') => literal.push(' '),
                        Some(b'-') => literal.push_str("%20"),
                        Some(b'{') => {
                            let rest = bytes.get(i + 2..).unwrap_or_default();
                            let close = rest
                                .iter()
                                .position(|&c| c == b'}')
                                .ok_or(MacroError::Unterminated)?;
                            let body = rest.get(..close).unwrap_or_default();
                            let mac = parse_macro(body, context)?;
                            if !literal.is_empty() {
                                items.push(Item::Literal(std::mem::take(&mut literal)));
                            }
                            items.push(Item::Macro(mac));
                            i += 2 + close + 1;
                            continue;
                        }
                        _ => return Err(MacroError::InvalidEscape),
                    }
                    i += 2;
                }
                b' ' if context == Context::Explanation => {
                    literal.push(' ');
                    i += 1;
                }
                0x21..=0x7e => {
                    literal.push(char::from(b));
                    i += 1;
                }
                _ => return Err(MacroError::InvalidCharacter),
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        let literal_name = match items.as_slice() {
            [Item::Literal(literal)] if context == Context::Domain => {
                Name::new(&truncate_domain(literal.clone())).ok()
            }
            _ => None,
        };
        Ok(MacroString {
            text: text.to_owned(),
            items,
            literal_name,
        })
    }

    /// `text`, of visible characters other than `%`, as a macro string.
    fn literal(text: &str, context: Context) -> MacroString {
        let items = if text.is_empty() {
            Vec::new()
        } else {
            vec![Item::Literal(text.to_owned())]
        };
        let literal_name = if context == Context::Domain && !text.is_empty() {
            let body_len = text.strip_suffix('.').map_or(text.len(), str::len);
            if body_len <= MAX_DOMAIN_LEN {
                Name::new(text).ok()
            } else {
                Name::new(&truncate_domain(text.to_owned())).ok()
            }
        } else {
            None
        };
        MacroString {
            text: text.to_owned(),
            items,
            literal_name,
        }
    }

    /// The name a macro-free domain-spec expands to, validated when the
    /// record was parsed; `None` for a string with macros or one that is
    /// not a valid name (expand it then).
    pub(crate) fn literal_name(&self) -> Option<&Name> {
        self.literal_name.as_ref()
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the string ends with a macro-expand (§7.1 `domain-end`), as
    /// opposed to literal text.
    pub(crate) fn ends_with_macro(&self) -> bool {
        matches!(self.items.last(), Some(Item::Macro(_)))
            || ["%%", "%_", "%-"].iter().any(|e| self.text.ends_with(e))
    }

    /// Whether expanding needs the validated domain name of the client
    /// (`%{p}`), which takes DNS lookups.
    pub(crate) fn needs_validated_name(&self) -> bool {
        self.items
            .iter()
            .any(|item| matches!(item, Item::Macro(m) if m.letter == MacroLetter::ValidatedName))
    }

    /// Expands a domain-spec, truncated from the left to at most 253
    /// octets by removing whole labels (§7.3). Work is bounded by the
    /// length kept, not by the full expansion.
    pub(crate) fn expand_domain(&self, values: &Values<'_>) -> String {
        // Parts collected from the right, reversed at the end.
        let mut parts: Vec<String> = Vec::new();
        let mut len = 0usize;
        for item in self.items.iter().rev() {
            let piece = match item {
                Item::Literal(s) => s.clone(),
                Item::Macro(m) => expand_macro(m, values),
            };
            len += piece.len();
            parts.push(piece);
            if len > MAX_DOMAIN_LEN + 1 {
                break;
            }
        }
        let mut out = String::with_capacity(len);
        for part in parts.iter().rev() {
            out.push_str(part);
        }
        truncate_domain(out)
    }

    /// Expands an explanation string, keeping at most `max_len` octets.
    pub(crate) fn expand_explanation(&self, values: &Values<'_>, max_len: usize) -> String {
        // Room for the text and typical expansions at once.
        let mut out = String::with_capacity((self.text.len() + 64).min(max_len.saturating_add(64)));
        for item in &self.items {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::Macro(m) => expand_macro_into(m, values, &mut out),
            }
            if out.len() >= max_len {
                // Everything pushed is ASCII (expansions of non-ASCII input
                // are URL-escaped or kept as given); cut on a char boundary.
                let mut cut = max_len;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
                break;
            }
        }
        out
    }
}

/// Removes labels from the left until the name fits in 253 octets; a
/// trailing dot does not count.
fn truncate_domain(name: String) -> String {
    let body_len = name.strip_suffix('.').map_or(name.len(), str::len);
    if body_len <= MAX_DOMAIN_LEN {
        return name;
    }
    let excess = body_len - MAX_DOMAIN_LEN;
    // The first dot at or after the excess: the kept part starts after it.
    match name
        .bytes()
        .enumerate()
        .skip(excess.saturating_sub(1))
        .find(|&(_, b)| b == b'.')
    {
        Some((dot, _)) => name.get(dot + 1..).unwrap_or_default().to_owned(),
        None => String::new(),
    }
}

fn parse_macro(body: &[u8], context: Context) -> Result<Macro, MacroError> {
    let (&first, rest) = body.split_first().ok_or(MacroError::UnknownLetter('}'))?;
    let c = char::from(first);
    let letter = MacroLetter::from_char(c).ok_or(MacroError::UnknownLetter(c))?;
    if letter.explanation_only() && context == Context::Domain {
        return Err(MacroError::ExplanationOnlyLetter(c));
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (digit_bytes, rest) = rest.split_at(digits);
    let keep = if digits == 0 {
        None
    } else {
        // Saturating: any count above the number of parts keeps them all.
        let n = digit_bytes.iter().fold(0usize, |acc, &d| {
            acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
        });
        if n == 0 {
            return Err(MacroError::InvalidTransformer);
        }
        Some(n)
    };
    let (reverse, rest) = match rest.split_first() {
        Some((b'r' | b'R', tail)) => (true, tail),
        _ => (false, rest),
    };
    if !rest
        .iter()
        .all(|b| matches!(b, b'.' | b'-' | b'+' | b',' | b'/' | b'_' | b'='))
    {
        return Err(MacroError::InvalidTransformer);
    }
    Ok(Macro {
        letter,
        url_escape: first.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: rest.to_vec(),
    })
}

fn expand_macro(m: &Macro, v: &Values<'_>) -> String {
    let mut out = String::new();
    expand_macro_into(m, v, &mut out);
    out
}

/// Appends the expansion of `m` to `out`.
fn expand_macro_into(m: &Macro, v: &Values<'_>, out: &mut String) {
    let transforms = m.keep.is_some() || m.reverse || !m.delimiters.is_empty();
    if !transforms && !m.url_escape {
        // The common case: the value as it is, written in place.
        return write_value(m.letter, v, out);
    }
    let mut raw = String::new();
    write_value(m.letter, v, &mut raw);
    let transformed = if transforms {
        let delims: &[u8] = if m.delimiters.is_empty() {
            b"."
        } else {
            &m.delimiters
        };
        let mut parts: Vec<&str> = raw
            .split(|c: char| c.is_ascii() && delims.contains(&(c as u8)))
            .collect();
        if m.reverse {
            parts.reverse();
        }
        let skip = m.keep.map_or(0, |n| parts.len().saturating_sub(n));
        parts.get(skip..).unwrap_or_default().join(".")
    } else {
        raw
    };
    if m.url_escape {
        url_escape_into(&transformed, out);
    } else {
        out.push_str(&transformed);
    }
}

/// Appends the value of a macro letter, untransformed.
fn write_value(letter: MacroLetter, v: &Values<'_>, out: &mut String) {
    use std::fmt::Write as _;
    match letter {
        MacroLetter::Sender => {
            out.push_str(v.sender_local);
            out.push('@');
            out.push_str(v.sender_domain);
        }
        MacroLetter::LocalPart => out.push_str(v.sender_local),
        MacroLetter::SenderDomain => out.push_str(v.sender_domain),
        MacroLetter::Domain => out.push_str(v.domain),
        MacroLetter::Ip => dotted_ip_into(v.ip, out),
        MacroLetter::ValidatedName => out.push_str(v.validated_name),
        MacroLetter::IpVersion => out.push_str(match v.ip {
            IpAddr::V4(_) => "in-addr",
            IpAddr::V6(_) => "ip6",
        }),
        MacroLetter::Helo => out.push_str(v.helo),
        MacroLetter::ClientIp => match v.ip {
            IpAddr::V4(v4) => write_ipv4(v4, out),
            // Writing to a String cannot fail.
            IpAddr::V6(v6) => {
                let _ = write!(out, "{v6}");
            }
        },
        MacroLetter::Receiver => out.push_str(v.receiver),
        MacroLetter::Timestamp => {
            let _ = write!(out, "{}", v.timestamp);
        }
    }
}

/// `i`: dotted quad for IPv4, dotted nibbles for IPv6 (§7.3).
fn dotted_ip(ip: IpAddr) -> String {
    let mut out = String::with_capacity(63);
    dotted_ip_into(ip, &mut out);
    out
}

/// Appends the dotted quad of `ip` to `out` (what its `Display` writes,
/// without the formatting machinery).
fn write_ipv4(ip: std::net::Ipv4Addr, out: &mut String) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
}

/// Appends [`dotted_ip`] to `out`.
fn dotted_ip_into(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => write_ipv4(v4, out),
        IpAddr::V6(v6) => {
            for (i, byte) in v6.octets().into_iter().enumerate() {
                for (j, nibble) in [byte >> 4, byte & 0x0f].into_iter().enumerate() {
                    if i + j > 0 {
                        out.push('.');
                    }
                    out.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
                }
            }
        }
    }
}

/// The name queried for the PTR records of `ip` (`in-addr.arpa` /
/// `ip6.arpa`).
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    let dotted = dotted_ip(ip);
    let mut labels: Vec<&str> = dotted.split('.').collect();
    labels.reverse();
    match ip {
        IpAddr::V4(_) => format!("{}.in-addr.arpa", labels.join(".")),
        IpAddr::V6(_) => format!("{}.ip6.arpa", labels.join(".")),
    }
}

/// Appends `s` to `out`, URL-escaping every character outside RFC 3986
/// "unreserved" (§7.3).
fn url_escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Strings without macros or escapes, taken whole, parse as they
        /// do octet by octet: the same items, text and validated name.
        #[test]
        fn literal_strings_parse_as_octet_by_octet(
            text in "[!-$&-~]{0,12}(\\.[a-zA-Z0-9-]{1,70}){0,5}\\.?",
            domain in proptest::bool::ANY,
        ) {
            let context = if domain { Context::Domain } else { Context::Modifier };
            proptest::prop_assert_eq!(
                MacroString::parse(&text, context),
                MacroString::parse_items(&text, context)
            );
        }
    }

    #[test]
    fn long_literal_domain_is_truncated_as_expanded() {
        let long = format!("{}.example.com", ["abcdefghij"; 30].join("."));
        let spec = MacroString::parse(&long, Context::Domain).unwrap();
        assert_eq!(
            spec,
            MacroString::parse_items(&long, Context::Domain).unwrap()
        );
        let name = spec.literal_name().unwrap();
        assert!(name.as_str().len() <= MAX_DOMAIN_LEN);
        assert!(name.as_str().ends_with(".example.com"));
    }

    fn values() -> Values<'static> {
        Values {
            sender_local: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: "192.0.2.3".parse().unwrap(),
            helo: "mx.example.org",
            receiver: "receiver.example",
            timestamp: 1_234_567,
            validated_name: "mx.example.org",
        }
    }

    fn domain(s: &str) -> String {
        MacroString::parse(s, Context::Domain)
            .unwrap()
            .expand_domain(&values())
    }

    #[test]
    fn rfc_examples() {
        // RFC 7208 §7.4.
        assert_eq!(domain("%{s}"), "strong-bad@email.example.com");
        assert_eq!(domain("%{o}"), "email.example.com");
        assert_eq!(domain("%{d}"), "email.example.com");
        assert_eq!(domain("%{d4}"), "email.example.com");
        assert_eq!(domain("%{d3}"), "email.example.com");
        assert_eq!(domain("%{d2}"), "example.com");
        assert_eq!(domain("%{d1}"), "com");
        assert_eq!(domain("%{dr}"), "com.example.email");
        assert_eq!(domain("%{d2r}"), "example.email");
        assert_eq!(domain("%{l}"), "strong-bad");
        assert_eq!(domain("%{l-}"), "strong.bad");
        assert_eq!(domain("%{lr}"), "strong-bad");
        assert_eq!(domain("%{lr-}"), "bad.strong");
        assert_eq!(domain("%{l1r-}"), "strong");
        assert_eq!(
            domain("%{ir}.%{v}._spf.%{d2}"),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            domain("%{lr-}.lp._spf.%{d2}"),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(domain("%%%_%-"), "% %20");
        assert_eq!(domain("%{S}"), "strong-bad%40email.example.com");
    }

    #[test]
    fn ipv6_nibbles() {
        let mut v = values();
        v.ip = "2001:db8::cb01".parse().unwrap();
        let m = MacroString::parse("%{ir}.%{v}._spf.%{d2}", Context::Domain).unwrap();
        assert_eq!(
            m.expand_domain(&v),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
        assert_eq!(
            reverse_name("192.0.2.3".parse().unwrap()),
            "3.2.0.192.in-addr.arpa"
        );
    }

    #[test]
    fn syntax_errors() {
        let p = |s| MacroString::parse(s, Context::Domain);
        assert_eq!(p("%(ir)"), Err(MacroError::InvalidEscape));
        assert_eq!(p("foo%"), Err(MacroError::InvalidEscape));
        assert_eq!(p("%{d"), Err(MacroError::Unterminated));
        assert_eq!(p("%{x}"), Err(MacroError::UnknownLetter('x')));
        assert_eq!(p("%{}"), Err(MacroError::UnknownLetter('}')));
        assert_eq!(p("%{c}"), Err(MacroError::ExplanationOnlyLetter('c')));
        assert_eq!(p("%{d0}"), Err(MacroError::InvalidTransformer));
        assert_eq!(p("%{d2x}"), Err(MacroError::InvalidTransformer));
        assert_eq!(p("a b"), Err(MacroError::InvalidCharacter));
        assert!(MacroString::parse("%{c} a b", Context::Explanation).is_ok());
        // Huge digit counts saturate instead of overflowing.
        assert_eq!(domain("%{d99999999999999999999999}"), "email.example.com");
    }

    #[test]
    fn truncates_from_the_left() {
        let long = format!("{}.example.com", ["abcdefghij"; 30].join("."));
        let out = truncate_domain(long.clone());
        assert!(out.len() <= 253);
        assert!(long.ends_with(&out));
        assert!(out.starts_with("abcdefghij."));
        // A 10 KB expansion stays bounded.
        let mut v = values();
        let big = "x.".repeat(5000);
        v.sender_local = &big;
        let m = MacroString::parse(&"%{l}".repeat(100), Context::Domain).unwrap();
        let out = m.expand_domain(&v);
        // 253 octets plus the trailing dot the expansion ends with.
        assert_eq!(out.len(), 254);
        assert!(crate::dns::Name::new(&out).is_ok());
    }

    #[test]
    fn explanation_is_capped() {
        let m = MacroString::parse(&"%{s} ".repeat(1000), Context::Explanation).unwrap();
        assert_eq!(m.expand_explanation(&values(), 100).len(), 100);
    }
}
