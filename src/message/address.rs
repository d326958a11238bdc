//! RFC 5322 address lists (§3.4), as found in From, Sender, To and Cc.
//!
//! ```text
//! address-list = (address *("," address)) / obs-addr-list
//! address      = mailbox / group
//! mailbox      = name-addr / addr-spec
//! name-addr    = [display-name] angle-addr
//! angle-addr   = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
//! group        = display-name ":" [group-list] ";" [CFWS]
//! addr-spec    = local-part "@" domain
//! ```
//!
//! [`parse_address_list`] reads a field value as bytes. Comments are
//! skipped (nested ones too), quoted strings and domain literals are kept
//! whole, and bytes that are not ASCII are taken as atom text (RFC 6532).
//! Obsolete forms are accepted where they cannot change which domain an
//! address names: empty list elements (`a@x, , b@y`), a route before the
//! address in angle brackets (`<@relay:a@x>`), CFWS around dots, a group at
//! the end of the value without its closing `;`, and words before a bare
//! `addr-spec` (`"Joe" joe@example.com`), which are kept as a display name.
//!
//! Work is linear in the length of the value, and the number of addresses
//! is bounded by the caller.
//!
//! ```
//! use mailauth::message::address::{Address, parse_address_list};
//!
//! let list = parse_address_list(b" \"Doe, Jane\" <jane@example.org>, (x) bob@example.net", 100).unwrap();
//! assert_eq!(list.len(), 2);
//! let Address::Mailbox(jane) = &list[0] else { panic!() };
//! assert_eq!(jane.display_name.as_deref(), Some("Doe, Jane"));
//! assert_eq!(jane.domain, "example.org");
//! ```

/// One mailbox: an optional display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, unquoted, words joined by one space (bytes that
    /// are not UTF-8 replaced by U+FFFD).
    pub display_name: Option<String>,
    /// The local part, unquoted (bytes that are not UTF-8 replaced by
    /// U+FFFD).
    pub local_part: String,
    /// The domain as written: a dot-atom with CFWS removed, or a domain
    /// literal with its brackets. Bytes that are not UTF-8 make the
    /// address an error ([`AddressError::InvalidDomain`]).
    pub domain: String,
}

/// One element of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// A single mailbox.
    Mailbox(Mailbox),
    /// A named group of mailboxes (possibly empty).
    Group {
        /// The group's display name.
        name: String,
        /// The mailboxes of the group.
        members: Vec<Mailbox>,
    },
}

impl Address {
    /// The mailboxes of this element: itself, or the members of the group.
    pub fn mailboxes(&self) -> &[Mailbox] {
        match self {
            Address::Mailbox(mailbox) => std::slice::from_ref(mailbox),
            Address::Group { members, .. } => members,
        }
    }
}

/// Why a value is not an address list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The value holds no address at all (only whitespace and comments).
    #[error("no address")]
    Empty,
    /// Words with no address after them (`From: Test User`).
    #[error("no address in {text:?}")]
    NoAddress {
        /// The words found, for the reason text (at most 64 characters).
        text: String,
    },
    /// A quoted string, comment, domain literal or angle address that is
    /// not closed before the end of the value.
    #[error("unclosed {what}")]
    Unclosed {
        /// What was left open: `quoted string`, `comment`, `domain literal`
        /// or `angle address`.
        what: &'static str,
    },
    /// An address without a local part or without a domain.
    #[error("incomplete address")]
    IncompleteAddress,
    /// The domain of an address is not text (bytes that are not UTF-8).
    #[error("domain is not valid utf-8")]
    InvalidDomain,
    /// A character where none of its kind may be, at this byte offset.
    #[error("unexpected {character:?} at offset {offset}")]
    Unexpected {
        /// The character (as a byte; non-ASCII bytes are shown as is).
        character: char,
        /// Its byte offset in the value.
        offset: usize,
    },
    /// A group inside a group.
    #[error("nested group")]
    NestedGroup,
    /// More addresses than the caller allows.
    #[error("more than {limit} addresses")]
    TooManyAddresses {
        /// The bound that was passed.
        limit: usize,
    },
}

/// A lexical token of a structured field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// atext run (including non-ASCII bytes).
    Atom(&'a [u8]),
    /// A quoted string, quotes removed, escapes still in.
    Quoted(&'a [u8]),
    /// A domain literal with its brackets.
    Literal(&'a [u8]),
    /// One special character: `< > @ , ; : .` and anything else that is
    /// neither atext nor whitespace, with its offset.
    Special(u8, usize),
}

fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b) || b >= 0x80
}

/// The domain of a value holding one mailbox in one of the two shapes
/// most fields have, `local@domain` and `Display Name <local@domain>`
/// (ASCII atoms and dot-atoms only: no quoted string, comment, group,
/// domain literal or obsolete form), as [`parse_address_list`] would give
/// it; `None` for any other value, which that parser then reads.
pub(crate) fn plain_mailbox_domain(value: &[u8]) -> Option<&str> {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = value.iter().position(|b| !blank(b))?;
    let end = value.iter().rposition(|b| !blank(b))? + 1;
    let value = value.get(start..end)?;
    let address = match value.split_last() {
        Some((b'>', rest)) => {
            let open = rest.iter().position(|&b| b == b'<')?;
            let (phrase, address) = rest.split_at(open);
            let plain_phrase = phrase
                .iter()
                .all(|&b| b == b' ' || b == b'\t' || (b.is_ascii() && is_atext(b)));
            if !plain_phrase {
                return None;
            }
            address.get(1..)?
        }
        _ => value,
    };
    let at = address.iter().position(|&b| b == b'@')?;
    let (local, domain) = (address.get(..at)?, address.get(at + 1..)?);
    let dot_atom = |text: &[u8]| {
        !text.is_empty()
            && text
                .split(|&b| b == b'.')
                .all(|atom| !atom.is_empty() && atom.iter().all(|&b| b.is_ascii() && is_atext(b)))
    };
    if dot_atom(local) && dot_atom(domain) {
        std::str::from_utf8(domain).ok()
    } else {
        None
    }
}

fn tokenize(value: &[u8]) -> Result<Vec<Token<'_>>, AddressError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                // Comments nest (RFC 5322 §3.2.2); a counter keeps this
                // iterative whatever the depth.
                let mut depth = 0usize;
                loop {
                    match value.get(i) {
                        None => return Err(AddressError::Unclosed { what: "comment" }),
                        Some(b'\\') => i += 1,
                        Some(b'(') => depth += 1,
                        Some(b')') => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            b'"' => {
                let start = i + 1;
                i = start;
                loop {
                    match value.get(i) {
                        None => {
                            return Err(AddressError::Unclosed {
                                what: "quoted string",
                            });
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                tokens.push(Token::Quoted(value.get(start..i).unwrap_or_default()));
                i += 1;
            }
            b'[' => {
                let start = i;
                loop {
                    match value.get(i) {
                        None => {
                            return Err(AddressError::Unclosed {
                                what: "domain literal",
                            });
                        }
                        Some(b'\\') => i += 2,
                        Some(b']') => break,
                        Some(_) => i += 1,
                    }
                }
                tokens.push(Token::Literal(value.get(start..=i).unwrap_or_default()));
                i += 1;
            }
            _ if is_atext(b) => {
                let start = i;
                while value.get(i).is_some_and(|&c| is_atext(c)) {
                    i += 1;
                }
                tokens.push(Token::Atom(value.get(start..i).unwrap_or_default()));
            }
            _ => {
                tokens.push(Token::Special(b, i));
                i += 1;
            }
        }
    }
    Ok(tokens)
}

/// Removes the backslash of each quoted-pair.
fn unquote(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter();
    while let Some(&b) = iter.next() {
        if b == b'\\' {
            if let Some(&next) = iter.next() {
                out.push(next);
            }
        } else if b != b'\r' && b != b'\n' {
            out.push(b);
        }
    }
    out
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Words of a phrase, for a display name: atoms and quoted strings joined
/// by one space, dots (obs-phrase) kept.
fn phrase_text(tokens: &[Token<'_>]) -> String {
    let mut text = String::new();
    for token in tokens {
        match token {
            Token::Atom(a) => {
                if !text.is_empty() && !text.ends_with('.') {
                    text.push(' ');
                }
                text.push_str(&lossy(a));
            }
            Token::Quoted(q) => {
                if !text.is_empty() && !text.ends_with('.') {
                    text.push(' ');
                }
                text.push_str(&lossy(&unquote(q)));
            }
            Token::Special(b'.', _) => text.push('.'),
            Token::Literal(l) => text.push_str(&lossy(l)),
            Token::Special(b, _) => text.push(char::from(*b)),
        }
    }
    text
}

/// An addr-spec from the tokens between the start and the `@`, and after
/// it. The local part is the last dot-joined run of words before the `@`;
/// words before that run are returned as a display name (a leniency for
/// `"Joe" joe@example.com`).
fn addr_spec(
    before: &[Token<'_>],
    after: &[Token<'_>],
) -> Result<(Option<String>, Mailbox), AddressError> {
    // The local part: walk back over word ("." word)*.
    let mut start = before.len();
    let mut expect_word = true;
    while start > 0 {
        let Some(token) = before.get(start - 1) else {
            break;
        };
        let fits = match token {
            Token::Atom(_) | Token::Quoted(_) => expect_word,
            Token::Special(b'.', _) => !expect_word || start == before.len(),
            _ => false,
        };
        if !fits {
            break;
        }
        expect_word = matches!(token, Token::Special(b'.', _));
        start -= 1;
    }
    let local_tokens = before.get(start..).unwrap_or_default();
    let mut local = Vec::new();
    for token in local_tokens {
        match token {
            Token::Atom(a) => local.extend_from_slice(a),
            Token::Quoted(q) => local.extend_from_slice(&unquote(q)),
            Token::Special(b'.', _) => local.push(b'.'),
            _ => {}
        }
    }
    if local.is_empty() {
        return Err(AddressError::IncompleteAddress);
    }
    let display = before.get(..start).unwrap_or_default();
    if let Some(Token::Special(b, offset)) = display
        .iter()
        .find(|t| matches!(t, Token::Special(c, _) if *c != b'.'))
    {
        return Err(AddressError::Unexpected {
            character: char::from(*b),
            offset: *offset,
        });
    }
    let display_name = (!display.is_empty()).then(|| phrase_text(display));
    let mut domain = Vec::new();
    match after {
        [Token::Literal(l)] => domain.extend_from_slice(l),
        _ => {
            let mut expect_label = true;
            for token in after {
                match token {
                    Token::Atom(a) if expect_label => {
                        domain.extend_from_slice(a);
                        expect_label = false;
                    }
                    Token::Special(b'.', _) if !expect_label => {
                        domain.push(b'.');
                        expect_label = true;
                    }
                    Token::Special(b, offset) => {
                        return Err(AddressError::Unexpected {
                            character: char::from(*b),
                            offset: *offset,
                        });
                    }
                    _ => return Err(AddressError::IncompleteAddress),
                }
            }
            if expect_label && !domain.is_empty() {
                // A trailing dot.
                return Err(AddressError::IncompleteAddress);
            }
        }
    }
    if domain.is_empty() {
        return Err(AddressError::IncompleteAddress);
    }
    let domain = String::from_utf8(domain).map_err(|_| AddressError::InvalidDomain)?;
    Ok((
        display_name,
        Mailbox {
            display_name: None,
            local_part: lossy(&local),
            domain,
        },
    ))
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).copied()
    }

    /// Reads tokens up to (not including) the first of `stops` at top level.
    fn until(&mut self, stops: &[u8]) -> &[Token<'a>] {
        let start = self.pos;
        while let Some(token) = self.peek() {
            if matches!(token, Token::Special(b, _) if stops.contains(&b)) {
                break;
            }
            self.pos += 1;
        }
        self.tokens.get(start..self.pos).unwrap_or_default()
    }

    /// One mailbox, at a position where a phrase, `<` or an addr-spec
    /// starts; `None` for an empty list element. `;` ends a phrase (it
    /// closes a group, and is unexpected outside one).
    fn mailbox(&mut self) -> Result<Option<Mailbox>, AddressError> {
        let stops: &[u8] = b"<@,;:>";
        let phrase_start = self.pos;
        let phrase_len = self.until(stops).len();
        let phrase = self
            .tokens
            .get(phrase_start..phrase_start + phrase_len)
            .unwrap_or_default();
        match self.peek() {
            Some(Token::Special(b'<', _)) => {
                self.pos += 1;
                // obs-route: "@" domain *("," ["@" domain]) ":"
                if matches!(self.peek(), Some(Token::Special(b'@', _))) {
                    self.until(b":>");
                    if matches!(self.peek(), Some(Token::Special(b':', _))) {
                        self.pos += 1;
                    }
                }
                let before_start = self.pos;
                let before_len = self.until(b"@>").len();
                let before = self
                    .tokens
                    .get(before_start..before_start + before_len)
                    .unwrap_or_default();
                if !matches!(self.peek(), Some(Token::Special(b'@', _))) {
                    return match self.peek() {
                        None => Err(AddressError::Unclosed {
                            what: "angle address",
                        }),
                        _ => Err(AddressError::IncompleteAddress),
                    };
                }
                self.pos += 1;
                let after_start = self.pos;
                let after_len = self.until(b">").len();
                let after = self
                    .tokens
                    .get(after_start..after_start + after_len)
                    .unwrap_or_default();
                if self.peek().is_none() {
                    return Err(AddressError::Unclosed {
                        what: "angle address",
                    });
                }
                self.pos += 1;
                let (extra, mut mailbox) = addr_spec(before, after)?;
                if extra.is_some() {
                    return Err(AddressError::IncompleteAddress);
                }
                mailbox.display_name = (!phrase.is_empty()).then(|| phrase_text(phrase));
                Ok(Some(mailbox))
            }
            Some(Token::Special(b'@', _)) => {
                self.pos += 1;
                let after_start = self.pos;
                let after_len = self.until(b",;<>:").len();
                let after = self
                    .tokens
                    .get(after_start..after_start + after_len)
                    .unwrap_or_default();
                let (display_name, mut mailbox) = addr_spec(phrase, after)?;
                mailbox.display_name = display_name;
                Ok(Some(mailbox))
            }
            _ if phrase.is_empty() => Ok(None),
            _ => {
                let mut text = phrase_text(phrase);
                if let Some((cut, _)) = text.char_indices().nth(64) {
                    text.truncate(cut);
                }
                Err(AddressError::NoAddress { text })
            }
        }
    }

    fn expect_separator(&mut self, in_group: bool) -> Result<(), AddressError> {
        match self.peek() {
            None => Ok(()),
            Some(Token::Special(b',', _)) => {
                self.pos += 1;
                Ok(())
            }
            Some(Token::Special(b';', _)) if in_group => Ok(()),
            Some(Token::Special(b, offset)) => Err(AddressError::Unexpected {
                character: char::from(b),
                offset,
            }),
            Some(_) => Err(AddressError::IncompleteAddress),
        }
    }
}

/// Parses an address list (RFC 5322 §3.4) from a field value, keeping at
/// most `max_addresses` mailboxes (group members count).
///
/// # Errors
/// An [`AddressError`] saying what is wrong; [`AddressError::Empty`] for a
/// value without any address.
pub fn parse_address_list(
    value: &[u8],
    max_addresses: usize,
) -> Result<Vec<Address>, AddressError> {
    let tokens = tokenize(value)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
    };
    let mut list = Vec::new();
    let mut count = 0usize;
    let bump = |count: &mut usize| {
        *count += 1;
        if *count > max_addresses {
            Err(AddressError::TooManyAddresses {
                limit: max_addresses,
            })
        } else {
            Ok(())
        }
    };
    while parser.peek().is_some() {
        // A group: display-name ":" ... ";"
        let save = parser.pos;
        let phrase_len = parser.until(b"<@,;:>").len();
        if matches!(parser.peek(), Some(Token::Special(b':', _))) && phrase_len > 0 {
            let name = phrase_text(
                parser
                    .tokens
                    .get(save..save + phrase_len)
                    .unwrap_or_default(),
            );
            parser.pos += 1;
            let mut members = Vec::new();
            loop {
                match parser.peek() {
                    None => break, // obs: a group closed by the end of the value
                    Some(Token::Special(b';', _)) => {
                        parser.pos += 1;
                        break;
                    }
                    Some(Token::Special(b',', _)) => parser.pos += 1,
                    Some(_) => {
                        let before = parser.pos;
                        let phrase_len = parser.until(b"<@,;:>").len();
                        let nested = matches!(parser.peek(), Some(Token::Special(b':', _)));
                        parser.pos = before;
                        if nested && phrase_len > 0 {
                            return Err(AddressError::NestedGroup);
                        }
                        if let Some(mailbox) = parser.mailbox()? {
                            bump(&mut count)?;
                            members.push(mailbox);
                        }
                        parser.expect_separator(true)?;
                    }
                }
            }
            list.push(Address::Group { name, members });
            parser.expect_separator(false)?;
            continue;
        }
        parser.pos = save;
        if let Some(mailbox) = parser.mailbox()? {
            bump(&mut count)?;
            list.push(Address::Mailbox(mailbox));
        } else if let Some(Token::Special(b, offset)) = parser.peek()
            && b != b','
        {
            return Err(AddressError::Unexpected {
                character: char::from(b),
                offset,
            });
        }
        parser.expect_separator(false)?;
    }
    if list.is_empty() {
        return Err(AddressError::Empty);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the shortcut answers, the parser gives one mailbox with that
    /// domain.
    fn shortcut_agrees(value: &[u8]) {
        if let Some(domain) = plain_mailbox_domain(value) {
            let list = parse_address_list(value, 10)
                .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(value)));
            match list.as_slice() {
                [Address::Mailbox(mailbox)] => assert_eq!(mailbox.domain, domain),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(value)),
            }
        }
    }

    #[test]
    fn plain_mailbox_shortcut_agrees_with_the_parser() {
        for (value, expected) in [
            ("alice@example.org", Some("example.org")),
            ("Alice Example <alice@Example.ORG>", Some("Example.ORG")),
            ("  <a.b@c.d>\r\n", Some("c.d")),
            ("A\tB <x+y@z.example>", Some("z.example")),
            ("\"Quoted\" <a@b.c>", None),
            ("a@b.c, d@e.f", None),
            ("(comment) a@b.c", None),
            ("a@[192.0.2.1]", None),
            ("Undisclosed recipients:;", None),
            ("a..b@c.d", None),
            (".a@c.d", None),
            ("J. Smith <j@x.y>", None),
            ("x <a@b.c> y", None),
            ("<a@b.c", None),
            ("a@b.c>", None),
            ("A\r\n B <a@b.c>", None),
            ("Élodie <e@x.fr>", None),
            ("a@b@c", None),
            ("<>", None),
            ("", None),
            ("< a@b.c >", None),
        ] {
            assert_eq!(
                plain_mailbox_domain(value.as_bytes()),
                expected,
                "{value:?}"
            );
            shortcut_agrees(value.as_bytes());
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_mailbox_shortcut_never_disagrees(
            value in "[ a-zA-Z0-9.@<>\"(),:;\t\r\n!#\\\\\\[\\]é-]{0,24}"
        ) {
            shortcut_agrees(value.as_bytes());
        }

        #[test]
        fn plain_mailbox_shortcut_never_disagrees_on_words(
            value in "[ <]?([a-zA-Z!#]{1,4}[ .@<>\"(,\t]?){1,8}"
        ) {
            shortcut_agrees(value.as_bytes());
        }
    }

    fn domains(value: &str) -> Result<Vec<String>, AddressError> {
        Ok(parse_address_list(value.as_bytes(), 1000)?
            .iter()
            .flat_map(|a| a.mailboxes().iter().map(|m| m.domain.clone()))
            .collect())
    }

    fn one(value: &str) -> Mailbox {
        match parse_address_list(value.as_bytes(), 10).unwrap().remove(0) {
            Address::Mailbox(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_forms() {
        let m = one(" alice@example.org");
        assert_eq!(
            (m.local_part.as_str(), m.domain.as_str(), m.display_name),
            ("alice", "example.org", None)
        );
        let m = one("Alice Doe <alice@example.org>");
        assert_eq!(m.display_name.as_deref(), Some("Alice Doe"));
        let m = one("\"Doe, Alice \\\"A\\\"\" <alice@example.org>");
        assert_eq!(m.display_name.as_deref(), Some("Doe, Alice \"A\""));
        let m = one("(comment (nested)) alice (x) @ (y) example . org (z)");
        assert_eq!(
            (m.local_part.as_str(), m.domain.as_str()),
            ("alice", "example.org")
        );
        let m = one("\"a b\"@example.org");
        assert_eq!(m.local_part, "a b");
        let m = one("first.last@[192.0.2.1]");
        assert_eq!(m.domain, "[192.0.2.1]");
        let m = one("<@relay.example,@other.example:bob@example.net>");
        assert_eq!(m.domain, "example.net");
        let m = one("=?UTF-8?B?QmVk?=<x@example.com>");
        assert_eq!(m.domain, "example.com");
        let m = one("J\u{f6}rg <j@b\u{fc}cher.example>");
        assert_eq!(m.domain, "b\u{fc}cher.example");
    }

    #[test]
    fn lists_and_groups() {
        assert_eq!(
            domains("a@x.example, , B <b@y.example>,").unwrap(),
            ["x.example", "y.example"]
        );
        let list = parse_address_list(b"Team: a@x.example, b@y.example;, c@z.example", 10).unwrap();
        assert!(
            matches!(&list[0], Address::Group { name, members } if name == "Team" && members.len() == 2)
        );
        assert_eq!(list[1].mailboxes()[0].domain, "z.example");
        let list = parse_address_list(b"undisclosed-recipients:;", 10).unwrap();
        assert!(matches!(&list[0], Address::Group { members, .. } if members.is_empty()));
        assert_eq!(
            parse_address_list(b"A: B: c@d;;", 10),
            Err(AddressError::NestedGroup)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_address_list(b"  (only a comment) ", 10),
            Err(AddressError::Empty)
        );
        assert_eq!(
            parse_address_list(b"Test User", 10),
            Err(AddressError::NoAddress {
                text: "Test User".into()
            })
        );
        assert_eq!(
            parse_address_list(b"\"open", 10),
            Err(AddressError::Unclosed {
                what: "quoted string"
            })
        );
        assert_eq!(
            parse_address_list(b"(open", 10),
            Err(AddressError::Unclosed { what: "comment" })
        );
        assert_eq!(
            parse_address_list(b"<a@b", 10),
            Err(AddressError::Unclosed {
                what: "angle address"
            })
        );
        assert_eq!(
            parse_address_list(b"a@", 10),
            Err(AddressError::IncompleteAddress)
        );
        assert_eq!(
            parse_address_list(b"@b", 10),
            Err(AddressError::IncompleteAddress)
        );
        assert_eq!(
            parse_address_list(b"a@b.", 10),
            Err(AddressError::IncompleteAddress)
        );
        assert_eq!(
            parse_address_list(b"a@\xff.example", 10),
            Err(AddressError::InvalidDomain)
        );
        assert_eq!(
            parse_address_list(b"a@x, b@y, c@z", 2),
            Err(AddressError::TooManyAddresses { limit: 2 })
        );
        assert!(parse_address_list(b"<<<><joe@joe.com>>>", 10).is_err());
        assert!(parse_address_list(b"a@b@c", 10).is_err());
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = "(".repeat(100_000);
        assert!(parse_address_list(deep.as_bytes(), 10).is_err());
        let balanced = format!("{}{}a@b.example", "(".repeat(50_000), ")".repeat(50_000));
        assert_eq!(domains(&balanced).unwrap(), ["b.example"]);
        let many = vec!["a@b.example"; 10_000].join(",");
        assert_eq!(
            parse_address_list(many.as_bytes(), 100),
            Err(AddressError::TooManyAddresses { limit: 100 })
        );
        assert_eq!(
            domains(&many).unwrap_err(),
            AddressError::TooManyAddresses { limit: 1000 }
        );
        let junk: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let _ = parse_address_list(&junk, 100);
    }
}
