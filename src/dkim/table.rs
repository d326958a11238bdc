//! Signing tables: which key, selector and signing domain to use for a
//! message, chosen from its From address, for hosts that sign for many
//! domains. OpenDKIM's `KeyTable` and `SigningTable` files load unchanged.
//!
//! Rules are tried in order and the first match wins:
//!
//! | pattern | matches |
//! |---|---|
//! | `example.com` | the domain itself |
//! | `.example.com`, `*.example.com` | subdomains of it (not the domain itself) |
//! | `*` | any address |
//! | `*@example.com`, `user@example.com`, `*@*.example.com` | the whole address, `*` matching any run of characters |
//!
//! ```
//! use std::sync::Arc;
//! use mailauth::dkim::{KeyEntry, NewKey, Pattern, SigningDomain, SigningTable, keygen};
//!
//! let key = Arc::new(keygen::generate(NewKey::Ed25519).unwrap().into_signing_key());
//! let mut table = SigningTable::new();
//! table.push(
//!     Pattern::parse("*.example.com").unwrap(),
//!     KeyEntry::new(SigningDomain::FromDomain, "mail", key.clone()).unwrap(),
//! );
//! let chosen = table.lookup("alice@eu.example.com").unwrap();
//! assert_eq!(chosen.domain, "eu.example.com");
//! assert_eq!(chosen.selector, "mail");
//! assert!(table.lookup("bob@example.org").is_none());
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;

use super::crypto::{KeyError, SigningKey};
use super::sign::{InvalidValue, validate_domain, validate_selector};

/// Longest line accepted in a table file.
const MAX_LINE: usize = 64 * 1024;

/// A rule's pattern, matched against a From address (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pattern {
    /// The domain exactly.
    Domain(String),
    /// Strict subdomains of the domain.
    Subdomains(String),
    /// Any address.
    Any,
    /// The whole address `local@domain` with `*` wildcards.
    Address(String),
}

impl Pattern {
    /// Reads a pattern as written in a table (see the module docs).
    pub fn parse(text: &str) -> Result<Pattern, TableError> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() || text.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(TableError::Pattern { pattern: text });
        }
        if text == "*" {
            return Ok(Pattern::Any);
        }
        if text.contains('@') {
            return Ok(Pattern::Address(text));
        }
        let (subdomains, domain) = if let Some(rest) = text.strip_prefix("*.") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix('.') {
            (true, rest)
        } else {
            (false, text.as_str())
        };
        if domain.contains('*') {
            // A wildcard elsewhere: match it against the address's domain part.
            return Ok(Pattern::Address(format!("*@{text}")));
        }
        let domain = domain.trim_end_matches('.').to_owned();
        if subdomains {
            Ok(Pattern::Subdomains(domain))
        } else {
            Ok(Pattern::Domain(domain))
        }
    }

    /// Whether `address` (`local@domain`, or a bare domain) matches.
    pub fn matches(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        let domain = address
            .rsplit_once('@')
            .map_or(address.as_str(), |(_, d)| d);
        let domain = domain.trim_end_matches('.');
        match self {
            Pattern::Any => true,
            Pattern::Domain(d) => domain == d,
            Pattern::Subdomains(d) => {
                domain.len() > d.len() + 1
                    && domain.ends_with(d.as_str())
                    && domain.as_bytes().get(domain.len() - d.len() - 1) == Some(&b'.')
            }
            Pattern::Address(glob) => {
                let subject = if address.contains('@') {
                    address.clone()
                } else {
                    format!("@{domain}")
                };
                glob_match(glob.as_bytes(), subject.as_bytes())
            }
        }
    }
}

/// `*` matches any run of bytes; everything else matches itself. Linear
/// in practice (the classic backtrack-to-last-star algorithm).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// The `d=` a rule signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningDomain {
    /// This domain.
    Fixed(String),
    /// The From address's domain (OpenDKIM's `%`).
    FromDomain,
}

/// What a rule signs with.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    domain: SigningDomain,
    selector: String,
    key: Arc<SigningKey>,
}

impl KeyEntry {
    /// An entry; the domain and selector are validated.
    pub fn new(
        domain: SigningDomain,
        selector: &str,
        key: Arc<SigningKey>,
    ) -> Result<KeyEntry, TableError> {
        if let SigningDomain::Fixed(d) = &domain {
            validate_domain(d)?;
        }
        validate_selector(selector)?;
        Ok(KeyEntry {
            domain,
            selector: selector.to_ascii_lowercase(),
            key,
        })
    }

    /// The signing domain rule.
    pub fn domain(&self) -> &SigningDomain {
        &self.domain
    }

    /// The selector.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The key.
    pub fn key(&self) -> &Arc<SigningKey> {
        &self.key
    }
}

/// The result of a lookup.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// The `d=` to sign with (lowercase).
    pub domain: String,
    /// The `s=` to sign with.
    pub selector: &'a str,
    /// The key.
    pub key: &'a Arc<SigningKey>,
}

/// Why a table could not be built or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// A pattern is empty or holds spaces or control characters.
    #[error("invalid pattern {pattern:?}")]
    Pattern {
        /// The pattern.
        pattern: String,
    },
    /// A domain or selector is not valid.
    #[error(transparent)]
    Value(#[from] InvalidValue),
    /// A line of a table file is not of the expected form.
    #[error("{file}:{line}: {problem}")]
    Syntax {
        /// The file (or `"key table"` / `"signing table"` for text).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// The signing table names a key the key table does not have.
    #[error("{file}:{line}: key name {name:?} is not in the key table")]
    UnknownKeyName {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The key name.
        name: String,
    },
    /// A key file could not be read.
    #[error("reading key {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A key could not be parsed.
    #[error("key {name:?}: {source}")]
    Key {
        /// The key name (KeyTable first field).
        name: String,
        /// The error.
        source: KeyError,
    },
}

/// A list of rules; the first rule whose pattern matches the From address wins.
#[derive(Debug, Clone, Default)]
pub struct SigningTable {
    rules: Vec<(Pattern, KeyEntry)>,
}

impl SigningTable {
    /// An empty table.
    pub fn new() -> SigningTable {
        SigningTable::default()
    }

    /// Appends a rule (tried after the ones already there).
    pub fn push(&mut self, pattern: Pattern, entry: KeyEntry) {
        self.rules.push((pattern, entry));
    }

    /// The rules in order.
    pub fn rules(&self) -> &[(Pattern, KeyEntry)] {
        &self.rules
    }

    /// Finds the rule for a From address (`local@domain`, or a bare domain).
    pub fn lookup(&self, from_address: &str) -> Option<Selection<'_>> {
        let (_, entry) = self
            .rules
            .iter()
            .find(|(pattern, _)| pattern.matches(from_address))?;
        let domain = match &entry.domain {
            SigningDomain::Fixed(d) => d.to_ascii_lowercase(),
            SigningDomain::FromDomain => {
                let domain = from_address
                    .rsplit_once('@')
                    .map_or(from_address, |(_, d)| d);
                let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
                // The From domain goes into d=: it must be a valid domain.
                validate_domain(&domain).ok()?;
                domain
            }
        };
        Some(Selection {
            domain,
            selector: &entry.selector,
            key: &entry.key,
        })
    }

    /// Builds a table from OpenDKIM `KeyTable` and `SigningTable` text.
    ///
    /// - KeyTable lines: `keyname domain:selector:key`, where `domain` may be
    ///   `%` (the From domain) and `key` is a key file path or the key itself
    ///   (base64 DER); `load_key` is given the path and returns the PEM or DER.
    /// - SigningTable lines: `pattern keyname`. With `refile` (OpenDKIM's
    ///   `refile:` prefix), patterns are `*` globs matched against the whole
    ///   address `user@domain` (so `example.com` alone matches nothing;
    ///   write `*@example.com`), tried in file order.
    ///   Without it, entries are literal (`user@host`, `host`, `.parent`,
    ///   `*`) and, as OpenDKIM looks them up, the most specific wins: full
    ///   address, then domain, then `.parent` from the nearest parent up,
    ///   then `*`.
    ///
    /// `#` starts a comment; blank lines are skipped.
    pub fn from_opendkim(
        key_table: &str,
        signing_table: &str,
        refile: bool,
        load_key: &mut dyn FnMut(&Path) -> Result<Vec<u8>, std::io::Error>,
    ) -> Result<SigningTable, TableError> {
        Self::from_opendkim_named(
            key_table,
            "key table",
            signing_table,
            "signing table",
            refile,
            load_key,
        )
    }

    fn from_opendkim_named(
        key_table: &str,
        key_table_name: &str,
        signing_table: &str,
        signing_table_name: &str,
        refile: bool,
        load_key: &mut dyn FnMut(&Path) -> Result<Vec<u8>, std::io::Error>,
    ) -> Result<SigningTable, TableError> {
        let mut keys: Vec<(String, KeyEntry)> = Vec::new();
        for line in KeyTableEntry::parse_all(key_table, key_table_name)? {
            let key = line.load_key(load_key)?;
            let domain = if line.domain == "%" {
                SigningDomain::FromDomain
            } else {
                SigningDomain::Fixed(line.domain.clone())
            };
            keys.push((
                line.name,
                KeyEntry::new(domain, &line.selector, Arc::new(key))?,
            ));
        }
        let mut rules = Vec::new();
        for (line_no, fields) in table_lines(signing_table, signing_table_name)? {
            let [pattern, name] = fields.as_slice() else {
                return Err(TableError::Syntax {
                    file: signing_table_name.into(),
                    line: line_no,
                    problem: "expected: pattern keyname",
                });
            };
            let Some((_, entry)) = keys.iter().find(|(n, _)| n == name) else {
                return Err(TableError::UnknownKeyName {
                    file: signing_table_name.into(),
                    line: line_no,
                    name: name.clone(),
                });
            };
            let pattern = if refile {
                refile_pattern(pattern)?
            } else {
                literal_pattern(pattern)?
            };
            rules.push((pattern, entry.clone()));
        }
        if !refile {
            // Stable sort: equally specific entries keep file order.
            rules.sort_by_key(|(pattern, _)| std::cmp::Reverse(specificity(pattern)));
        }
        Ok(SigningTable { rules })
    }

    /// Loads OpenDKIM table files as named in opendkim.conf: `key_table` and
    /// `signing_table` may carry a `file:` or `refile:` prefix (`refile:` on
    /// the signing table turns on wildcard patterns). Key paths are read
    /// from the file system; relative ones against the key table's folder.
    pub fn from_opendkim_files(
        key_table: &str,
        signing_table: &str,
    ) -> Result<SigningTable, TableError> {
        let key_path = PathBuf::from(key_table.strip_prefix("file:").unwrap_or(key_table));
        let (refile, signing_path) = match signing_table.strip_prefix("refile:") {
            Some(path) => (true, path),
            None => (
                false,
                signing_table.strip_prefix("file:").unwrap_or(signing_table),
            ),
        };
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TableError::Io {
                path: path.to_owned(),
                source,
            })
        };
        let key_text = read(&key_path)?;
        let signing_text = read(Path::new(signing_path))?;
        let base = key_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut load = |path: &Path| std::fs::read(base.join(path));
        Self::from_opendkim_named(
            &key_text,
            &key_path.display().to_string(),
            &signing_text,
            signing_path,
            refile,
            &mut load,
        )
    }
}

/// One line of an OpenDKIM `KeyTable` (`keyname domain:selector:key`), its
/// key not yet loaded: what `mailauth testkey` checks key by key, as
/// `opendkim-testkey -x opendkim.conf` does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyTableEntry {
    /// The key name (first field).
    pub name: String,
    /// The signing domain as written; `%` stands for the From domain.
    pub domain: String,
    /// The selector as written.
    pub selector: String,
    /// The key: a file path, or the key itself (base64 DER).
    pub key: String,
    /// 1-based line number in the file.
    pub line: usize,
}

impl KeyTableEntry {
    /// An entry not read from a file (`line` 0), such as opendkim.conf's
    /// `Domain`, `Selector` and `KeyFile`.
    pub fn new(name: &str, domain: &str, selector: &str, key: &str) -> KeyTableEntry {
        KeyTableEntry {
            name: name.to_owned(),
            domain: domain.to_owned(),
            selector: selector.to_owned(),
            key: key.to_owned(),
            line: 0,
        }
    }

    /// Parses `KeyTable` text; `file` names it in errors. `#` starts a
    /// comment; blank lines are skipped. Keys are not read.
    pub fn parse_all(text: &str, file: &str) -> Result<Vec<KeyTableEntry>, TableError> {
        let mut out = Vec::new();
        for (line, fields) in table_lines(text, file)? {
            let syntax = |problem| TableError::Syntax {
                file: file.into(),
                line,
                problem,
            };
            let [name, value] = fields.as_slice() else {
                return Err(syntax("expected: keyname domain:selector:keypath"));
            };
            let mut parts = value.splitn(3, ':');
            let (Some(domain), Some(selector), Some(key)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(syntax("expected domain:selector:keypath"));
            };
            out.push(KeyTableEntry {
                name: name.clone(),
                domain: domain.to_owned(),
                selector: selector.to_owned(),
                key: key.to_owned(),
                line,
            });
        }
        Ok(out)
    }

    /// Reads the entry's key: `load_key` is given the path and returns the
    /// PEM or DER (a key written inline as base64 DER needs no file).
    pub fn load_key(
        &self,
        load_key: &mut dyn FnMut(&Path) -> Result<Vec<u8>, std::io::Error>,
    ) -> Result<SigningKey, TableError> {
        read_key(&self.name, &self.key, load_key)
    }
}

/// OpenDKIM's lookup order for literal tables, as a sort key (higher first).
fn specificity(pattern: &Pattern) -> (u8, usize) {
    match pattern {
        Pattern::Address(a) => (4, a.len()),
        Pattern::Domain(d) => (3, d.len()),
        Pattern::Subdomains(d) => (2, d.len()),
        Pattern::Any => (0, 0),
    }
}

/// A `refile:` SigningTable pattern: a `*` glob matched, as OpenDKIM does,
/// against the whole address `user@domain`.
fn refile_pattern(text: &str) -> Result<Pattern, TableError> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "" => Err(TableError::Pattern { pattern: lower }),
        "*" => Ok(Pattern::Any),
        _ => Ok(Pattern::Address(lower)),
    }
}

/// A literal (non-`refile`) SigningTable key.
fn literal_pattern(text: &str) -> Result<Pattern, TableError> {
    let lower = text.to_ascii_lowercase();
    if lower == "*" {
        return Ok(Pattern::Any);
    }
    if lower.contains('*') || lower.is_empty() {
        return Err(TableError::Pattern { pattern: lower });
    }
    if let Some(domain) = lower.strip_prefix('.') {
        return Ok(Pattern::Subdomains(domain.to_owned()));
    }
    if lower.contains('@') {
        // `user@.parent` is rare; exact addresses are what tables hold.
        return Ok(Pattern::Address(lower));
    }
    Ok(Pattern::Domain(lower))
}

/// Non-comment lines split on whitespace, with 1-based line numbers.
fn table_lines(text: &str, file: &str) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.len() > MAX_LINE {
            return Err(TableError::Syntax {
                file: file.into(),
                line: index + 1,
                problem: "line too long",
            });
        }
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        let fields: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if !fields.is_empty() {
            out.push((index + 1, fields));
        }
    }
    Ok(out)
}

fn read_key(
    name: &str,
    key_ref: &str,
    load_key: &mut dyn FnMut(&Path) -> Result<Vec<u8>, std::io::Error>,
) -> Result<SigningKey, TableError> {
    let key_error = |source| TableError::Key {
        name: name.to_owned(),
        source,
    };
    let looks_like_path =
        key_ref.starts_with('/') || key_ref.starts_with('.') || key_ref.contains('/');
    if !looks_like_path {
        // The key itself, base64 DER, as OpenDKIM allows.
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(key_ref) {
            return SigningKey::from_der(&der).map_err(key_error);
        }
    }
    let path = Path::new(key_ref);
    let bytes = load_key(path).map_err(|source| TableError::Io {
        path: path.to_owned(),
        source,
    })?;
    if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        SigningKey::from_pem(&bytes).map_err(key_error)
    } else {
        SigningKey::from_der(&bytes).map_err(key_error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn key_file(path: &Path) -> Result<Vec<u8>, std::io::Error> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let file = match name {
            "mail.private" | "default.private" => "ed25519.pkcs8.pem",
            "rsa.private" => "rsa2048.pkcs1.pem",
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file",
                ));
            }
        };
        std::fs::read(format!(
            "{}/tests/data/keys/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
    }

    const KEY_TABLE: &str = "\
# KeyTable: keyname domain:selector:keypath
mail._domainkey.example.com   example.com:mail:/etc/opendkim/keys/example.com/mail.private
rsa._domainkey.example.net    example.net:rsa:/etc/opendkim/keys/example.net/rsa.private
default._domainkey.%          %:default:/etc/opendkim/keys/default.private   # any From domain
";

    #[test]
    fn refile_tables_first_match_wins() {
        let signing = "\
# SigningTable (refile:)
*@example.com          mail._domainkey.example.com
*@*.example.com        mail._domainkey.example.com
ceo@example.net        default._domainkey.%
*@example.net          rsa._domainkey.example.net
*                      default._domainkey.%
";
        let table = SigningTable::from_opendkim(KEY_TABLE, signing, true, &mut key_file).unwrap();
        assert_eq!(table.rules().len(), 5);
        let pick = |a: &str| {
            let s = table.lookup(a).unwrap();
            (s.domain, s.selector.to_owned(), s.key.bits())
        };
        assert_eq!(
            pick("alice@example.com"),
            ("example.com".into(), "mail".into(), 256)
        );
        assert_eq!(
            pick("Alice@EU.Example.COM"),
            ("example.com".into(), "mail".into(), 256)
        );
        assert_eq!(
            pick("bob@example.net"),
            ("example.net".into(), "rsa".into(), 2048)
        );
        assert_eq!(
            pick("ceo@example.net"),
            ("example.net".into(), "default".into(), 256)
        );
        assert_eq!(
            pick("x@other.org"),
            ("other.org".into(), "default".into(), 256)
        );
    }

    #[test]
    fn literal_tables_most_specific_wins() {
        let signing = "\
*                   default._domainkey.%
.example.com        mail._domainkey.example.com
example.net         rsa._domainkey.example.net
boss@example.net    default._domainkey.%
";
        let table = SigningTable::from_opendkim(KEY_TABLE, signing, false, &mut key_file).unwrap();
        assert_eq!(table.lookup("a@example.net").unwrap().selector, "rsa");
        assert_eq!(
            table.lookup("boss@example.net").unwrap().selector,
            "default"
        );
        assert_eq!(table.lookup("a@sub.example.com").unwrap().selector, "mail");
        // `.example.com` is subdomains only: example.com falls to `*`.
        let s = table.lookup("a@example.com").unwrap();
        assert_eq!((s.selector, s.domain.as_str()), ("default", "example.com"));
        let literal_star = SigningTable::from_opendkim(
            KEY_TABLE,
            "*@example.com mail._domainkey.example.com",
            false,
            &mut key_file,
        );
        assert!(matches!(literal_star, Err(TableError::Pattern { .. })));
    }

    #[test]
    fn own_rules() {
        let key =
            Arc::new(SigningKey::from_pem(&key_file(Path::new("mail.private")).unwrap()).unwrap());
        let mut table = SigningTable::new();
        let entry = |d: &str, s: &str| {
            KeyEntry::new(SigningDomain::Fixed(d.into()), s, key.clone()).unwrap()
        };
        table.push(
            Pattern::parse("example.com").unwrap(),
            entry("example.com", "a"),
        );
        table.push(
            Pattern::parse(".example.com").unwrap(),
            entry("example.com", "b"),
        );
        table.push(
            Pattern::parse("*.example.org").unwrap(),
            entry("example.org", "c"),
        );
        table.push(Pattern::parse("*").unwrap(), entry("relay.example", "d"));
        assert_eq!(table.lookup("x@example.com").unwrap().selector, "a");
        assert_eq!(table.lookup("example.com").unwrap().selector, "a");
        assert_eq!(table.lookup("x@a.b.example.com").unwrap().selector, "b");
        assert_eq!(table.lookup("x@badexample.com").unwrap().selector, "d");
        assert_eq!(table.lookup("x@www.example.org").unwrap().selector, "c");
        assert_eq!(table.lookup("x@example.org").unwrap().selector, "d");
        assert!(
            KeyEntry::new(SigningDomain::Fixed("bad domain".into()), "s", key.clone()).is_err()
        );
        assert!(
            KeyEntry::new(
                SigningDomain::Fixed("example.com".into()),
                "s;x=1",
                key.clone()
            )
            .is_err()
        );
        // FromDomain with a From domain that is not a domain: no selection.
        let mut from = SigningTable::new();
        from.push(
            Pattern::Any,
            KeyEntry::new(SigningDomain::FromDomain, "s", key).unwrap(),
        );
        assert!(from.lookup("x@exa mple.com").is_none());
        assert_eq!(from.lookup("x@Example.COM.").unwrap().domain, "example.com");
    }

    #[test]
    fn glob() {
        assert!(glob_match(b"*@*.example.com", b"a@b.example.com"));
        assert!(!glob_match(b"*@*.example.com", b"a@example.com"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a*b*c", b"aXbYbZc"));
        assert!(!glob_match(b"a*b*c", b"aXbYbZ"));
        // Many stars against a long subject: still quick.
        let subject = vec![b'a'; 5000];
        assert!(!glob_match(b"*a*a*a*a*a*a*a*b", &subject));
    }

    #[test]
    fn table_errors_name_the_line() {
        let err =
            SigningTable::from_opendkim("k example.com:sel", "", true, &mut key_file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "key table:1: expected domain:selector:keypath"
        );
        let err = SigningTable::from_opendkim(KEY_TABLE, "\n*@x nosuchkey\n", true, &mut key_file)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "signing table:2: key name \"nosuchkey\" is not in the key table"
        );
        let err = SigningTable::from_opendkim(
            "k example.com:s:/missing.private",
            "",
            true,
            &mut key_file,
        )
        .unwrap_err();
        assert!(matches!(err, TableError::Io { .. }), "{err}");
        let err = SigningTable::from_opendkim(
            "k exa;mple.com:s:/x/mail.private",
            "",
            true,
            &mut key_file,
        )
        .unwrap_err();
        assert!(matches!(err, TableError::Value(_)), "{err}");
        let err = SigningTable::from_opendkim("k example.com:s:AAAA", "", true, &mut key_file)
            .unwrap_err();
        assert!(matches!(err, TableError::Key { .. }), "{err}");
    }

    #[test]
    fn files_on_disk_with_relative_key_paths() {
        let dir = std::env::temp_dir().join(format!("mailauth-table-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        std::fs::write(
            dir.join("keys/mail.private"),
            key_file(Path::new("mail.private")).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("KeyTable"),
            "m example.com:mail:keys/mail.private\n",
        )
        .unwrap();
        std::fs::write(dir.join("SigningTable"), "*@example.com m\n").unwrap();
        let table = SigningTable::from_opendkim_files(
            &format!("file:{}", dir.join("KeyTable").display()),
            &format!("refile:{}", dir.join("SigningTable").display()),
        )
        .unwrap();
        assert_eq!(table.lookup("a@example.com").unwrap().selector, "mail");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
