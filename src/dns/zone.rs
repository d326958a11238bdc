//! An in-memory resolver, and a loader for zone-file text (RFC 1035 §5).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use super::{Answer, Failure, Mx, Name, NameError, Query, RecordType, Records, Resolver, Txt};

/// The TTL given to records added in code.
const DEFAULT_TTL: u32 = 3600;
/// How many CNAMEs a lookup follows before giving up (as a recursive
/// resolver would answer SERVFAIL on a loop).
const MAX_CNAME_CHAIN: usize = 16;

/// The data of one resource record held by a [`ZoneResolver`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A mail exchanger.
    Mx(Mx),
    /// A text record.
    Txt(Txt),
    /// A pointer.
    Ptr(Name),
    /// An alias: lookups of this name continue at the target.
    Cname(Name),
}

#[derive(Debug, Clone, Default)]
struct Node {
    records: Vec<(RecordData, u32)>,
    times_out: bool,
    /// The answer of each record type, built at the first lookup after a
    /// change and then shared with every lookup.
    prepared: [OnceLock<Prepared>; RecordType::COUNT],
}

/// A node's answer to one record type: the answer and its TTL, or the
/// target of the node's CNAME.
type Prepared = Result<(Arc<Answer>, u32), Name>;

/// A resolver answering from records held in memory.
///
/// Fill it from zone-file text ([`ZoneResolver::from_zone_text`],
/// [`ZoneResolver::load_zone_text`]) or in code
/// ([`ZoneResolver::add`]). Names not present do not exist (NXDOMAIN); a name
/// present without records of the asked type answers no data; a name marked
/// with [`ZoneResolver::set_timeout`] answers a timeout for every type it has
/// no records of. CNAMEs are followed, as a recursive resolver does.
#[derive(Debug, Clone, Default)]
pub struct ZoneResolver {
    /// Hashed with foldhash (seeded per process): names are hashed on
    /// every lookup, and SipHash cost more than the rest of a lookup.
    nodes: HashMap<Name, Node, foldhash::fast::RandomState>,
}

impl ZoneResolver {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> ZoneResolver {
        ZoneResolver::default()
    }

    /// Adds a record at `name` with the default TTL (one hour).
    pub fn add(&mut self, name: &Name, data: RecordData) {
        self.add_with_ttl(name, data, DEFAULT_TTL);
    }

    /// Adds a record at `name`, cached by callers for `ttl` seconds.
    pub fn add_with_ttl(&mut self, name: &Name, data: RecordData, ttl: u32) {
        self.node(name).records.push((data, ttl));
    }

    /// Adds a TXT record holding `text` (split into 255-octet strings).
    pub fn add_txt(&mut self, name: &Name, text: impl AsRef<[u8]>) {
        self.add(name, RecordData::Txt(Txt::from_text(text)));
    }

    /// Makes `name` exist without giving it records (so that lookups answer
    /// no data rather than NXDOMAIN).
    pub fn add_name(&mut self, name: &Name) {
        self.node(name);
    }

    /// Makes every lookup of `name` for a type it has no records of time
    /// out (a [`Answer::TempFail`] with [`Failure::Timeout`]).
    pub fn set_timeout(&mut self, name: &Name) {
        self.node(name).times_out = true;
    }

    /// Removes every record at `name`; the name then does not exist.
    pub fn remove(&mut self, name: &Name) {
        self.nodes.remove(name);
    }

    /// The node at `name`, to change (its prepared answers are dropped).
    fn node(&mut self, name: &Name) -> &mut Node {
        let node = self.nodes.entry(name.clone()).or_default();
        node.prepared = Default::default();
        node
    }

    fn answer_at(&self, name: &Name, record_type: RecordType) -> Prepared {
        let Some(node) = self.nodes.get(name) else {
            return Ok((Arc::clone(&NXDOMAIN), DEFAULT_TTL));
        };
        node.prepared[record_type.index()]
            .get_or_init(|| {
                node.answer(record_type)
                    .map(|(answer, ttl)| (Arc::new(answer), ttl))
            })
            .clone()
    }

    fn lookup_prepared(&self, query: &Query) -> (Arc<Answer>, Option<u32>) {
        let mut alias: Option<Name> = None;
        for _ in 0..MAX_CNAME_CHAIN {
            let name = alias.as_ref().unwrap_or(&query.name);
            match self.answer_at(name, query.record_type) {
                Ok((answer, ttl)) => return (answer, Some(ttl)),
                Err(target) => alias = Some(target),
            }
        }
        (Arc::new(Answer::TempFail(Failure::CnameLoop)), Some(0))
    }
}

/// The answer for names not in the zone.
static NXDOMAIN: std::sync::LazyLock<Arc<Answer>> =
    std::sync::LazyLock::new(|| Arc::new(Answer::NxDomain));

impl Node {
    fn answer(&self, record_type: RecordType) -> Result<(Answer, u32), Name> {
        let node = self;
        let mut ttl = u32::MAX;
        let mut records = match record_type {
            RecordType::A => Records::A(Vec::new()),
            RecordType::Aaaa => Records::Aaaa(Vec::new()),
            RecordType::Mx => Records::Mx(Vec::new()),
            RecordType::Txt => Records::Txt(Vec::new()),
            RecordType::Ptr => Records::Ptr(Vec::new()),
        };
        for (data, record_ttl) in &node.records {
            match (&mut records, data) {
                (Records::A(v), RecordData::A(a)) => v.push(*a),
                (Records::Aaaa(v), RecordData::Aaaa(a)) => v.push(*a),
                (Records::Mx(v), RecordData::Mx(m)) => v.push(m.clone()),
                (Records::Txt(v), RecordData::Txt(t)) => v.push(t.clone()),
                (Records::Ptr(v), RecordData::Ptr(p)) => v.push(p.clone()),
                (_, RecordData::Cname(target)) => return Err(target.clone()),
                _ => continue,
            }
            ttl = ttl.min(*record_ttl);
        }
        if !records.is_empty() {
            Ok((Answer::Records(records), ttl))
        } else if node.times_out {
            Ok((Answer::TempFail(Failure::Timeout), 0))
        } else {
            Ok((Answer::NoData, DEFAULT_TTL))
        }
    }
}

impl Resolver for ZoneResolver {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        let (answer, ttl) = self.lookup_prepared(query);
        (Arc::unwrap_or_clone(answer), ttl)
    }

    fn lookup_shared(&self, query: &Query) -> Arc<Answer> {
        self.lookup_prepared(query).0
    }
}

/// The TTL of records loaded from zone text that neither state one nor
/// follow a `$TTL` directive or an earlier explicit TTL.
const DEFAULT_ZONE_TTL: u32 = DEFAULT_TTL;
/// Largest TTL accepted (RFC 2181 §8: the top bit is reserved).
const MAX_TTL: u32 = i32::MAX as u32;
/// Longest character-string (RFC 1035 §3.3: one length octet).
const MAX_CHARACTER_STRING: usize = 255;

/// Why zone-file text could not be loaded. Every variant carries the line
/// (counted from 1) where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneError {
    /// A quoted string is not closed on its line.
    #[error("line {line}: unterminated quoted string")]
    UnterminatedString {
        /// Where the string starts.
        line: usize,
    },
    /// A `)` without `(`, or a `(` never closed.
    #[error("line {line}: unbalanced parentheses")]
    UnbalancedParentheses {
        /// Where the parenthesis (or the unclosed entry) is.
        line: usize,
    },
    /// A backslash escape that is not `\X` or `\DDD` with DDD at most 255.
    #[error("line {line}: invalid escape sequence")]
    InvalidEscape {
        /// Where the escape is.
        line: usize,
    },
    /// A domain name that is not valid.
    #[error("line {line}: invalid domain name {text:?}: {reason}")]
    InvalidName {
        /// Where the name is.
        line: usize,
        /// The name as written.
        text: String,
        /// What is wrong with it.
        reason: NameError,
    },
    /// A domain name whose labels cannot be represented: an escaped dot
    /// inside a label, or octets that are not UTF-8.
    #[error("line {line}: unsupported domain name {text:?}")]
    UnsupportedName {
        /// Where the name is.
        line: usize,
        /// The name as written.
        text: String,
    },
    /// `@` used with no origin in force.
    #[error("line {line}: `@` used with no $ORIGIN")]
    MissingOrigin {
        /// Where the `@` is.
        line: usize,
    },
    /// A record with its owner omitted (leading blank) and no earlier
    /// record to take the owner from.
    #[error("line {line}: record with no owner name")]
    MissingOwner {
        /// Where the record is.
        line: usize,
    },
    /// A TTL that is not a number (with optional `s`/`m`/`h`/`d`/`w` units)
    /// or exceeds 2^31 - 1.
    #[error("line {line}: invalid ttl {text:?}")]
    InvalidTtl {
        /// Where the TTL is.
        line: usize,
        /// The TTL as written.
        text: String,
    },
    /// A class other than `IN`.
    #[error("line {line}: unsupported class {class}")]
    UnsupportedClass {
        /// Where the class is.
        line: usize,
        /// The class as written.
        class: String,
    },
    /// A record with no type.
    #[error("line {line}: missing record type")]
    MissingType {
        /// Where the record is.
        line: usize,
    },
    /// A record type this loader does not handle.
    #[error("line {line}: unsupported record type {record_type}")]
    UnsupportedType {
        /// Where the record is.
        line: usize,
        /// The type as written.
        record_type: String,
    },
    /// Record data that does not fit its type (wrong number of fields, bad
    /// address or number).
    #[error("line {line}: invalid {record_type} record data")]
    InvalidRecordData {
        /// Where the record is.
        line: usize,
        /// The record type.
        record_type: &'static str,
    },
    /// A TXT character-string longer than 255 octets.
    #[error("line {line}: character-string longer than 255 octets")]
    StringTooLong {
        /// Where the string is.
        line: usize,
    },
    /// A `$` directive other than `$ORIGIN` and `$TTL`, or one with a
    /// wrong number of arguments.
    #[error("line {line}: unsupported directive {directive}")]
    UnsupportedDirective {
        /// Where the directive is.
        line: usize,
        /// The directive as written.
        directive: String,
    },
}

impl ZoneResolver {
    /// A resolver holding the records of zone-file text in RFC 1035 §5
    /// master format.
    ///
    /// Handled: `$ORIGIN`, `$TTL`, `@`, relative names, an omitted owner
    /// (a line starting with a blank repeats the previous owner), TTL (with
    /// `s`/`m`/`h`/`d`/`w` units) and class `IN` in either order, `;`
    /// comments, parentheses spanning lines, quoted strings with `\"`, `\\`
    /// and `\DDD` escapes. Record types: A, AAAA, MX, PTR, CNAME and TXT
    /// (several character-strings per record kept apart, quoted or not);
    /// SOA and NS records are accepted and ignored except that their owner
    /// name exists. Any other type is an error.
    ///
    /// Relative names with no `$ORIGIN` in force are taken as written
    /// (relative to the root), which keeps hand-written test zones short.
    ///
    /// `.` is the root name wherever a name may stand, as in the null MX
    /// `@ IN MX 0 .` (RFC 7505 §3), which answers as [`Mx::null`].
    ///
    /// ```
    /// use mailauth::dns::{Name, Query, Resolver, ZoneResolver};
    ///
    /// let zone = ZoneResolver::from_zone_text(concat!(
    ///     "$ORIGIN example.com.\n",
    ///     "sel._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"\n",
    ///     "    \"p=MIIB\" )  ; ----- DKIM key sel for example.com\n",
    /// ))
    /// .unwrap();
    /// let name = Name::new("sel._domainkey.example.com").unwrap();
    /// let answer = zone.lookup(&Query::txt(name));
    /// assert_eq!(answer.txt().unwrap()[0].joined(), b"v=DKIM1; k=rsa; p=MIIB");
    /// ```
    ///
    /// # Errors
    /// A [`ZoneError`] naming the line of the first problem.
    pub fn from_zone_text(text: &str) -> Result<ZoneResolver, ZoneError> {
        let mut zone = ZoneResolver::new();
        zone.load_zone_text(text, None)?;
        Ok(zone)
    }

    /// Adds the records of zone-file text (see
    /// [`ZoneResolver::from_zone_text`]), starting with `origin` as the
    /// `$ORIGIN` if given.
    ///
    /// Nothing is added when the text has an error.
    ///
    /// # Errors
    /// A [`ZoneError`] naming the line of the first problem.
    pub fn load_zone_text(&mut self, text: &str, origin: Option<&Name>) -> Result<(), ZoneError> {
        let entries = tokenize(text)?;
        let mut loader = Loader {
            origin: origin.cloned(),
            ttl_directive: None,
            last_ttl: None,
            previous_owner: None,
            records: Vec::new(),
        };
        for entry in &entries {
            loader.entry(entry)?;
        }
        for (owner, data, ttl) in loader.records {
            match data {
                Some(data) => self.add_with_ttl(&owner, data, ttl),
                None => self.add_name(&owner),
            }
        }
        Ok(())
    }
}

/// One token of zone text: a word, or the inside of a quoted string.
/// Escapes are decoded when the token is used, since names and strings
/// decode them differently.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    raw: &'a str,
    quoted: bool,
    line: usize,
}

/// One entry: the tokens of a line, or of several lines joined by
/// parentheses.
#[derive(Debug)]
struct Entry<'a> {
    line: usize,
    /// The entry's first line starts with a blank: the owner is omitted.
    blank_owner: bool,
    tokens: Vec<Token<'a>>,
}

/// Splits zone text into entries (RFC 1035 §5.1).
fn tokenize(text: &str) -> Result<Vec<Entry<'_>>, ZoneError> {
    let bytes = text.as_bytes();
    let mut entries = Vec::new();
    let mut current: Option<Entry<'_>> = None;
    let mut line = 1;
    let mut depth = 0usize;
    let mut line_starts_blank = false;
    let mut at_line_start = true;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if at_line_start {
            line_starts_blank = byte == b' ' || byte == b'\t';
            at_line_start = false;
        }
        let entry = |current: &mut Option<Entry<'_>>| {
            if current.is_none() {
                *current = Some(Entry {
                    line,
                    blank_owner: line_starts_blank,
                    tokens: Vec::new(),
                });
            }
        };
        match byte {
            b'\n' => {
                if depth == 0 {
                    entries.extend(current.take());
                }
                line += 1;
                at_line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b';' => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            b'(' => {
                entry(&mut current);
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(ZoneError::UnbalancedParentheses { line })?;
                i += 1;
            }
            b'"' => {
                entry(&mut current);
                let start = i + 1;
                let mut end = start;
                loop {
                    match bytes.get(end) {
                        Some(b'"') => break,
                        Some(b'\\') if bytes.get(end + 1).is_some_and(|&b| b != b'\n') => {
                            end += 2;
                        }
                        Some(b'\n') | None => return Err(ZoneError::UnterminatedString { line }),
                        Some(_) => end += 1,
                    }
                }
                if let Some(entry) = current.as_mut() {
                    entry.tokens.push(Token {
                        raw: text.get(start..end).unwrap_or_default(),
                        quoted: true,
                        line,
                    });
                }
                i = end + 1;
            }
            _ => {
                entry(&mut current);
                let start = i;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                        b'\\' if bytes.get(i + 1).is_some_and(|&b| b != b'\n') => i += 2,
                        _ => i += 1,
                    }
                }
                if let Some(entry) = current.as_mut() {
                    entry.tokens.push(Token {
                        raw: text.get(start..i).unwrap_or_default(),
                        quoted: false,
                        line,
                    });
                }
            }
        }
    }
    if depth > 0 {
        let line = current.as_ref().map_or(line, |entry| entry.line);
        return Err(ZoneError::UnbalancedParentheses { line });
    }
    entries.extend(current);
    Ok(entries)
}

/// Decodes `\X` and `\DDD` escapes (RFC 1035 §5.1). Calls `escaped` with
/// each octet that came from an escape.
fn unescape(token: &Token<'_>, mut escaped: impl FnMut(u8)) -> Result<Vec<u8>, ZoneError> {
    let bad = ZoneError::InvalidEscape { line: token.line };
    let bytes = token.raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'\\' {
            out.push(byte);
            i += 1;
            continue;
        }
        let next = *bytes.get(i + 1).ok_or(bad.clone())?;
        if next.is_ascii_digit() {
            let digits = bytes.get(i + 1..i + 4).ok_or(bad.clone())?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad);
            }
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            let value = u8::try_from(value).map_err(|_| bad.clone())?;
            out.push(value);
            escaped(value);
            i += 4;
        } else {
            out.push(next);
            escaped(next);
            i += 2;
        }
    }
    Ok(out)
}

/// A TTL: a decimal number of seconds, or BIND-style units (`1h30m`).
fn parse_ttl(token: &Token<'_>) -> Result<u32, ZoneError> {
    let bad = || ZoneError::InvalidTtl {
        line: token.line,
        text: token.raw.to_owned(),
    };
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut used_units = false;
    for byte in token.raw.bytes() {
        if byte.is_ascii_digit() {
            let n = number.unwrap_or(0) * 10 + u64::from(byte - b'0');
            if n > u64::from(MAX_TTL) {
                return Err(bad());
            }
            number = Some(n);
            continue;
        }
        let unit: u64 = match byte.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return Err(bad()),
        };
        total += number.take().ok_or_else(bad)? * unit;
        used_units = true;
        if total > u64::from(MAX_TTL) {
            return Err(bad());
        }
    }
    match number {
        Some(n) if !used_units => total = n,
        Some(_) => return Err(bad()),
        None if !used_units => return Err(bad()),
        None => {}
    }
    u32::try_from(total)
        .ok()
        .filter(|&t| t <= MAX_TTL)
        .ok_or_else(bad)
}

/// The state of a zone-text load: directives in force and the records read
/// so far (`None` data for names that exist without records we keep).
struct Loader {
    origin: Option<Name>,
    ttl_directive: Option<u32>,
    last_ttl: Option<u32>,
    previous_owner: Option<Name>,
    records: Vec<(Name, Option<RecordData>, u32)>,
}

impl Loader {
    fn name(&self, token: &Token<'_>) -> Result<Name, ZoneError> {
        if token.raw == "@" && !token.quoted {
            return self
                .origin
                .clone()
                .ok_or(ZoneError::MissingOrigin { line: token.line });
        }
        let unsupported = || ZoneError::UnsupportedName {
            line: token.line,
            text: token.raw.to_owned(),
        };
        let mut escaped_dot = false;
        let bytes = unescape(token, |b| escaped_dot |= b == b'.')?;
        if escaped_dot {
            return Err(unsupported());
        }
        let text = String::from_utf8(bytes).map_err(|_| unsupported())?;
        let invalid = |reason| ZoneError::InvalidName {
            line: token.line,
            text: token.raw.to_owned(),
            reason,
        };
        // `.` alone is the root: a null MX (`MX 0 .`, RFC 7505 §3), a root
        // CNAME or PTR target, a `.` owner, `$ORIGIN .`.
        if text == "." {
            return Ok(Name::root());
        }
        // An unescaped trailing dot makes the name absolute (an escaped
        // one was refused above).
        if text.ends_with('.') {
            return Name::new(&text).map_err(invalid);
        }
        match &self.origin {
            Some(origin) if !origin.is_root() => {
                Name::new(&format!("{text}.{origin}")).map_err(invalid)
            }
            _ => Name::new(&text).map_err(invalid),
        }
    }

    fn entry(&mut self, entry: &Entry<'_>) -> Result<(), ZoneError> {
        let mut tokens = entry.tokens.iter().peekable();
        let Some(first) = tokens.peek().copied() else {
            // Only parentheses: nothing to do.
            return Ok(());
        };
        if !entry.blank_owner && !first.quoted && first.raw.starts_with('$') {
            return self.directive(entry);
        }
        let owner = if entry.blank_owner {
            self.previous_owner
                .clone()
                .ok_or(ZoneError::MissingOwner { line: entry.line })?
        } else {
            tokens.next();
            self.name(first)?
        };
        self.previous_owner = Some(owner.clone());

        let mut ttl = None;
        let mut class_seen = false;
        let record_type = loop {
            let token = tokens
                .next()
                .ok_or(ZoneError::MissingType { line: entry.line })?;
            if token.raw.starts_with(|c: char| c.is_ascii_digit()) && ttl.is_none() {
                ttl = Some(parse_ttl(token)?);
            } else if !class_seen && is_class(token.raw) {
                if !token.raw.eq_ignore_ascii_case("IN") {
                    return Err(ZoneError::UnsupportedClass {
                        line: token.line,
                        class: token.raw.to_owned(),
                    });
                }
                class_seen = true;
            } else {
                break token;
            }
        };
        let ttl = match ttl {
            Some(ttl) => {
                self.last_ttl = Some(ttl);
                ttl
            }
            None => self
                .ttl_directive
                .or(self.last_ttl)
                .unwrap_or(DEFAULT_ZONE_TTL),
        };
        let rdata: Vec<&Token<'_>> = tokens.collect();
        let data = self.record_data(record_type, &rdata)?;
        self.records.push((owner, data, ttl));
        Ok(())
    }

    fn directive(&mut self, entry: &Entry<'_>) -> Result<(), ZoneError> {
        let unsupported = || ZoneError::UnsupportedDirective {
            line: entry.line,
            directive: entry.tokens.first().map_or("", |t| t.raw).to_owned(),
        };
        match entry.tokens.as_slice() {
            [directive, origin] if directive.raw.eq_ignore_ascii_case("$ORIGIN") => {
                // A relative $ORIGIN is relative to the one in force.
                self.origin = Some(self.name(origin)?);
                Ok(())
            }
            [directive, ttl] if directive.raw.eq_ignore_ascii_case("$TTL") => {
                self.ttl_directive = Some(parse_ttl(ttl)?);
                Ok(())
            }
            _ => Err(unsupported()),
        }
    }

    fn record_data(
        &self,
        record_type: &Token<'_>,
        rdata: &[&Token<'_>],
    ) -> Result<Option<RecordData>, ZoneError> {
        let line = record_type.line;
        let invalid = |record_type| ZoneError::InvalidRecordData { line, record_type };
        let kind = ["A", "AAAA", "MX", "PTR", "CNAME", "TXT", "SOA", "NS"]
            .into_iter()
            .find(|kind| record_type.raw.eq_ignore_ascii_case(kind))
            .ok_or_else(|| ZoneError::UnsupportedType {
                line,
                record_type: record_type.raw.to_owned(),
            })?;
        let data = match (kind, rdata) {
            ("A", [address]) => RecordData::A(address.raw.parse().map_err(|_| invalid(kind))?),
            ("AAAA", [address]) => {
                RecordData::Aaaa(address.raw.parse().map_err(|_| invalid(kind))?)
            }
            ("MX", [preference, exchange]) => RecordData::Mx(Mx {
                preference: preference.raw.parse().map_err(|_| invalid(kind))?,
                exchange: self.name(exchange)?,
            }),
            ("PTR", [target]) => RecordData::Ptr(self.name(target)?),
            ("CNAME", [target]) => RecordData::Cname(self.name(target)?),
            ("TXT", strings) if !strings.is_empty() => {
                let mut decoded = Vec::with_capacity(strings.len());
                for token in strings {
                    let bytes = unescape(token, |_| {})?;
                    if bytes.len() > MAX_CHARACTER_STRING {
                        return Err(ZoneError::StringTooLong { line: token.line });
                    }
                    decoded.push(bytes);
                }
                RecordData::Txt(Txt::new(decoded))
            }
            // Accepted so that real zone files load; the owner exists.
            ("SOA", [_, _, _, _, _, _, _]) | ("NS", [_]) => return Ok(None),
            _ => return Err(invalid(kind)),
        };
        Ok(Some(data))
    }
}

/// Whether a token is a class mnemonic (RFC 1035 §3.2.4).
fn is_class(token: &str) -> bool {
    ["IN", "CH", "CS", "HS"]
        .iter()
        .any(|class| token.eq_ignore_ascii_case(class))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn answers_each_kind() {
        let mut z = ZoneResolver::new();
        z.add(&n("a.example"), RecordData::A(Ipv4Addr::new(192, 0, 2, 1)));
        z.add_txt(&n("a.example"), "hello");
        z.set_timeout(&n("slow.example"));
        z.add(&n("alias.example"), RecordData::Cname(n("A.example")));
        z.add(&n("loop1.example"), RecordData::Cname(n("loop2.example")));
        z.add(&n("loop2.example"), RecordData::Cname(n("loop1.example")));

        let q = |name: &str, t| z.lookup(&Query::new(n(name), t));
        assert_eq!(
            q("a.example", RecordType::A),
            Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 1)]))
        );
        assert_eq!(q("a.example", RecordType::Mx), Answer::NoData);
        assert_eq!(q("b.example", RecordType::A), Answer::NxDomain);
        assert_eq!(
            q("slow.example", RecordType::Txt),
            Answer::TempFail(Failure::Timeout)
        );
        assert_eq!(
            q("alias.example", RecordType::Txt).txt().unwrap()[0].joined(),
            b"hello"
        );
        assert_eq!(
            q("loop1.example", RecordType::A),
            Answer::TempFail(Failure::CnameLoop)
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod zone_text_tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn lookup(zone: &ZoneResolver, name: &str, record_type: RecordType) -> (Answer, Option<u32>) {
        zone.lookup_with_ttl(&Query::new(n(name), record_type))
    }

    fn txt_strings(zone: &ZoneResolver, name: &str) -> Vec<Vec<Vec<u8>>> {
        let (answer, _) = lookup(zone, name, RecordType::Txt);
        answer
            .txt()
            .unwrap_or_else(|| panic!("no TXT at {name}: {answer:?}"))
            .iter()
            .map(|t| t.strings().to_vec())
            .collect()
    }

    const OPENDKIM_GENKEY: &str = "sel._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; \"\n\t  \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx6\"\n\t  \"IDAQAB\" )  ; ----- DKIM key sel for example.com\n";

    #[test]
    fn opendkim_genkey_form() {
        let mut zone = ZoneResolver::new();
        zone.load_zone_text(OPENDKIM_GENKEY, Some(&n("example.com")))
            .unwrap();
        let strings = txt_strings(&zone, "sel._domainkey.example.com");
        assert_eq!(
            strings,
            vec![vec![
                b"v=DKIM1; k=rsa; ".to_vec(),
                b"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx6".to_vec(),
                b"IDAQAB".to_vec(),
            ]]
        );
    }

    #[test]
    fn real_zone_with_soa_and_ns() {
        let text = "\
$ORIGIN example.com.
$TTL 1h
@\tIN SOA ns1.example.com. hostmaster.example.com. (
\t\t2024010101 ; serial
\t\t3600       ; refresh
\t\t900 1209600 300 )
\tIN NS ns1
\tIN NS ns2.example.net.
ns1 IN A 192.0.2.53
@ 300 IN MX 10 mail
  IN 600 MX 20 mail.example.net.
mail A 192.0.2.25
mail AAAA 2001:db8::25
www CNAME mail
25.2.0.192.in-addr.arpa. PTR mail.example.com.
";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        // The apex exists (SOA, NS) but has no TXT.
        assert_eq!(
            lookup(&zone, "example.com", RecordType::Txt).0,
            Answer::NoData
        );
        let (mx, ttl) = lookup(&zone, "example.com", RecordType::Mx);
        assert_eq!(
            mx,
            Answer::Records(Records::Mx(vec![
                Mx {
                    preference: 10,
                    exchange: n("mail.example.com")
                },
                Mx {
                    preference: 20,
                    exchange: n("mail.example.net")
                },
            ]))
        );
        assert_eq!(ttl, Some(300));
        assert_eq!(
            lookup(&zone, "ns1.example.com", RecordType::A),
            (
                Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 53)])),
                Some(3600)
            )
        );
        assert_eq!(
            lookup(&zone, "www.example.com", RecordType::Aaaa).0,
            Answer::Records(Records::Aaaa(vec!["2001:db8::25".parse().unwrap()]))
        );
        assert_eq!(
            lookup(&zone, "25.2.0.192.in-addr.arpa", RecordType::Ptr).0,
            Answer::Records(Records::Ptr(vec![n("mail.example.com")]))
        );
        assert_eq!(
            lookup(&zone, "nope.example.com", RecordType::A).0,
            Answer::NxDomain
        );
    }

    #[test]
    fn the_root_name_where_a_name_may_stand() {
        let text = "\
$ORIGIN example.com.
@ IN MX 0 .
send-only IN MX 0 .
send-only IN TXT \"v=spf1 -all\"
nowhere IN CNAME .
1.2.0.192.in-addr.arpa. IN PTR .
. IN TXT root-owner
$ORIGIN .
org IN TXT relative-to-root
@ IN TXT root-again
";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        let (mx, _) = lookup(&zone, "example.com", RecordType::Mx);
        assert_eq!(mx, Answer::Records(Records::Mx(vec![Mx::null()])));
        let Answer::Records(Records::Mx(records)) =
            lookup(&zone, "send-only.example.com", RecordType::Mx).0
        else {
            panic!("no MX at send-only.example.com");
        };
        assert!(records.iter().all(Mx::is_null));
        assert_eq!(records[0].exchange.to_string(), ".");
        // A CNAME to the root leads to the root, which has no A here.
        assert_eq!(
            lookup(&zone, "nowhere.example.com", RecordType::A).0,
            Answer::NoData
        );
        assert_eq!(
            lookup(&zone, "1.2.0.192.in-addr.arpa", RecordType::Ptr).0,
            Answer::Records(Records::Ptr(vec![Name::root()]))
        );
        assert_eq!(
            txt_strings(&zone, "org"),
            vec![vec![b"relative-to-root".to_vec()]]
        );
        // The root owner holds its records; no query reaches them, but a
        // resolver filled in code can tell.
        assert!(
            zone.nodes
                .get(&Name::root())
                .is_some_and(|node| node.records.len() == 2)
        );
        // `.` is the root only alone: an empty label elsewhere is refused.
        assert!(matches!(
            ZoneResolver::from_zone_text("a.test. MX 0 ..\n"),
            Err(ZoneError::InvalidName { .. })
        ));
    }

    #[test]
    fn ttl_and_class_in_either_order_and_defaults() {
        let text = "\
$ORIGIN example.org.
a 120 IN TXT one
b IN 240 TXT two
c TXT three
$TTL 2d
d TXT four
e 1h30m TXT five
f TXT six
";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        let ttl = |name: &str| lookup(&zone, name, RecordType::Txt).1;
        assert_eq!(ttl("a.example.org"), Some(120));
        assert_eq!(ttl("b.example.org"), Some(240));
        // No $TTL yet: the last explicit TTL (RFC 1035 §5.1).
        assert_eq!(ttl("c.example.org"), Some(240));
        assert_eq!(ttl("d.example.org"), Some(172_800));
        assert_eq!(ttl("e.example.org"), Some(5400));
        // With $TTL in force, an explicit TTL does not change the default.
        assert_eq!(ttl("f.example.org"), Some(172_800));
        let zone = ZoneResolver::from_zone_text("x.test TXT a\n").unwrap();
        assert_eq!(
            lookup(&zone, "x.test", RecordType::Txt).1,
            Some(DEFAULT_ZONE_TTL)
        );
    }

    #[test]
    fn names_relative_absolute_and_origin_changes() {
        let text = "\
$ORIGIN example.com.
@ TXT apex
sub TXT relative
other.example.net. TXT absolute
$ORIGIN child
x TXT nested
$ORIGIN example.org.
  TXT owner-repeated
";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(
            txt_strings(&zone, "example.com"),
            vec![vec![b"apex".to_vec()]]
        );
        assert_eq!(
            txt_strings(&zone, "SUB.example.com"),
            vec![vec![b"relative".to_vec()]]
        );
        assert_eq!(
            txt_strings(&zone, "other.example.net"),
            vec![vec![b"absolute".to_vec()]]
        );
        // The omitted owner is the previous owner, whatever $ORIGIN says now.
        assert_eq!(
            txt_strings(&zone, "x.child.example.com"),
            vec![vec![b"nested".to_vec()], vec![b"owner-repeated".to_vec()]]
        );
        assert_eq!(
            lookup(&zone, "example.org", RecordType::Txt).0,
            Answer::NxDomain
        );
        // With no origin, relative names are taken as written.
        let zone = ZoneResolver::from_zone_text("plain.test TXT x\n").unwrap();
        assert_eq!(txt_strings(&zone, "plain.test"), vec![vec![b"x".to_vec()]]);
    }

    #[test]
    fn owner_omitted_repeats_previous() {
        let text = "a.test. TXT first\n\tTXT second\n  A 192.0.2.1\n";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(
            txt_strings(&zone, "a.test"),
            vec![vec![b"first".to_vec()], vec![b"second".to_vec()]]
        );
        assert!(matches!(
            lookup(&zone, "a.test", RecordType::A).0,
            Answer::Records(_)
        ));
    }

    #[test]
    fn txt_strings_escapes_and_words() {
        let text = concat!(
            "t.test. TXT \"a \\\"quoted\\\" word\" \"back\\\\slash\" semi\\;colon \"\\065\\066\\067\"\n",
            "u.test. TXT \"v=spf1 include:x ; not a comment\" ; a comment\n",
            "bin.test. TXT \"\\255\\000\\128\"\n",
            "empty.test. TXT \"\"\n",
        );
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(
            txt_strings(&zone, "t.test"),
            vec![vec![
                b"a \"quoted\" word".to_vec(),
                b"back\\slash".to_vec(),
                b"semi;colon".to_vec(),
                b"ABC".to_vec(),
            ]]
        );
        assert_eq!(
            txt_strings(&zone, "u.test"),
            vec![vec![b"v=spf1 include:x ; not a comment".to_vec()]]
        );
        // Not UTF-8: kept as bytes.
        assert_eq!(
            txt_strings(&zone, "bin.test"),
            vec![vec![vec![0xff, 0x00, 0x80]]]
        );
        assert_eq!(txt_strings(&zone, "empty.test"), vec![vec![Vec::new()]]);
    }

    #[test]
    fn crlf_and_comments_and_blank_lines() {
        let text = "; header comment\r\n\r\n$ORIGIN example.com.\r\n@ IN TXT \"x\" ; c\r\n   \r\n\t; indented comment\r\nb TXT y\r\n";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(txt_strings(&zone, "example.com"), vec![vec![b"x".to_vec()]]);
        assert_eq!(
            txt_strings(&zone, "b.example.com"),
            vec![vec![b"y".to_vec()]]
        );
    }

    #[test]
    fn errors_carry_line_numbers() {
        let cases: &[(&str, ZoneError)] = &[
            (
                "a.test. TXT x\nb.test. SRV 0 0 25 mail.test.\n",
                ZoneError::UnsupportedType {
                    line: 2,
                    record_type: "SRV".into(),
                },
            ),
            (
                "\n\na.test. TXT \"open\n",
                ZoneError::UnterminatedString { line: 3 },
            ),
            (
                "a.test. TXT ( x\n y\n",
                ZoneError::UnbalancedParentheses { line: 1 },
            ),
            (
                "a.test. TXT x )\n",
                ZoneError::UnbalancedParentheses { line: 1 },
            ),
            (
                "a.test. TXT \"\\256\"\n",
                ZoneError::InvalidEscape { line: 1 },
            ),
            (
                "a.test. TXT \"\\12\"\n",
                ZoneError::InvalidEscape { line: 1 },
            ),
            ("\tTXT x\n", ZoneError::MissingOwner { line: 1 }),
            ("@ TXT x\n", ZoneError::MissingOrigin { line: 1 }),
            (
                "a.test. CH TXT x\n",
                ZoneError::UnsupportedClass {
                    line: 1,
                    class: "CH".into(),
                },
            ),
            (
                "a.test. 1x TXT x\n",
                ZoneError::InvalidTtl {
                    line: 1,
                    text: "1x".into(),
                },
            ),
            (
                "a.test. 4294967296 TXT x\n",
                ZoneError::InvalidTtl {
                    line: 1,
                    text: "4294967296".into(),
                },
            ),
            ("a.test. IN\n", ZoneError::MissingType { line: 1 }),
            (
                "a.test. A 300.1.1.1\n",
                ZoneError::InvalidRecordData {
                    line: 1,
                    record_type: "A",
                },
            ),
            (
                "a.test. AAAA 192.0.2.1\n",
                ZoneError::InvalidRecordData {
                    line: 1,
                    record_type: "AAAA",
                },
            ),
            (
                "a.test. MX mail.test.\n",
                ZoneError::InvalidRecordData {
                    line: 1,
                    record_type: "MX",
                },
            ),
            (
                "a.test. TXT\n",
                ZoneError::InvalidRecordData {
                    line: 1,
                    record_type: "TXT",
                },
            ),
            (
                "a.test. SOA ns. host. 1 2 3\n",
                ZoneError::InvalidRecordData {
                    line: 1,
                    record_type: "SOA",
                },
            ),
            (
                "$INCLUDE other.zone\n",
                ZoneError::UnsupportedDirective {
                    line: 1,
                    directive: "$INCLUDE".into(),
                },
            ),
            (
                "a\\.b.test. TXT x\n",
                ZoneError::UnsupportedName {
                    line: 1,
                    text: "a\\.b.test.".into(),
                },
            ),
            (
                "a..test. TXT x\n",
                ZoneError::InvalidName {
                    line: 1,
                    text: "a..test.".into(),
                    reason: NameError::EmptyLabel,
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                ZoneResolver::from_zone_text(text).unwrap_err(),
                *expected,
                "zone text {text:?}"
            );
        }
        let long = format!("a.test. TXT \"{}\"\n", "x".repeat(256));
        assert_eq!(
            ZoneResolver::from_zone_text(&long).unwrap_err(),
            ZoneError::StringTooLong { line: 1 }
        );
        assert_eq!(
            ZoneError::UnsupportedType {
                line: 7,
                record_type: "SRV".into()
            }
            .to_string(),
            "line 7: unsupported record type SRV"
        );
    }

    #[test]
    fn failed_load_adds_nothing() {
        let mut zone = ZoneResolver::new();
        let err = zone.load_zone_text("a.test. TXT x\nb.test. BOGUS y\n", None);
        assert!(err.is_err());
        assert_eq!(lookup(&zone, "a.test", RecordType::Txt).0, Answer::NxDomain);
    }

    #[test]
    fn escaped_name_octets_and_parenthesised_records() {
        let text = "\\097b.test. ( 60\n IN\n A 192.0.2.9 )\n\\195\\188ber.test. TXT x\n";
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(
            lookup(&zone, "ab.test", RecordType::A),
            (
                Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 9)])),
                Some(60)
            )
        );
    }

    #[test]
    fn loads_a_zone_with_two_origins() {
        let text = r#"; Zone data for the examples and the README: the sending side of
; example.org and of its outbound relay provider, example.net.
$ORIGIN example.org.
$TTL 3600
@               IN  SOA   ns1.example.org. hostmaster.example.org. ( 2026112201 7200 3600 1209600 300 )
@               IN  NS    ns1.example.org.
@               IN  MX    10 mx1.example.org.
@               IN  MX    20 mx2.example.org.
@               IN  A     192.0.2.10
@               IN  TXT   "v=spf1 a mx ip4:198.51.100.0/24 include:_spf.example.net -all"
mx1             IN  A     192.0.2.25
mx2             IN  A     192.0.2.26
mx2             IN  AAAA  2001:db8::26
ns1             IN  A     192.0.2.53

$ORIGIN example.net.
_spf            IN  TXT   "v=spf1 ip4:203.0.113.0/24 ip6:2001:db8:113::/48 ~all"
relay           IN  A     203.0.113.5
"#;
        let zone = ZoneResolver::from_zone_text(text).unwrap();
        assert_eq!(
            txt_strings(&zone, "example.org"),
            vec![vec![
                b"v=spf1 a mx ip4:198.51.100.0/24 include:_spf.example.net -all".to_vec()
            ]]
        );
        assert_eq!(lookup(&zone, "example.org", RecordType::Mx).1, Some(3600));
        assert!(matches!(
            lookup(&zone, "mx2.example.org", RecordType::Aaaa).0,
            Answer::Records(Records::Aaaa(_))
        ));
        assert!(
            lookup(&zone, "_spf.example.net", RecordType::Txt)
                .0
                .txt()
                .is_some()
        );
        assert!(matches!(
            lookup(&zone, "relay.example.net", RecordType::A).0,
            Answer::Records(Records::A(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[ -~\t\n\\(\\)\"\\\\;$@]{0,200}") {
            let _ = ZoneResolver::from_zone_text(&text);
        }
    }
}
