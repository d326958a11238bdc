//! The Public Suffix List, for organizational domains in the RFC 7489 mode
//! (RFC 7489 §3.2).
//!
//! The list format (<https://publicsuffix.org/list/>): one rule per line,
//! the first whitespace-delimited word of the line; `//` starts a comment
//! line; `*.` makes a wildcard rule and `!` an exception rule. A domain's
//! public suffix is given by the prevailing rule: an exception rule if one
//! matches (the suffix is the rule minus its leftmost label), otherwise the
//! matching rule with the most labels, otherwise the implicit rule `*`
//! (the top-level label). Rules in U-label form are matched against names
//! in A-label form by converting them once when the list is loaded.
//!
//! A snapshot of the list is bundled with the crate
//! (`src/dmarc/public_suffix_list.dat`, MPL-2.0, see the note beside it);
//! [`PublicSuffixList::from_file`] loads another one, such as the system's
//! copy (Debian's package `publicsuffix`:
//! `/usr/share/publicsuffix/public_suffix_list.dat`), as OpenDMARC's
//! `PublicSuffixList` option does; see
//! [`Config::public_suffix_list`](super::Config::public_suffix_list).
//!
//! # Why not the `publicsuffix` crate
//!
//! The `publicsuffix` crate (2.3) reads the same format, but keeps its rules
//! in `hashbrown` tables, whose only pointer points into the middle of each
//! allocation. The bundled list lives for the whole process, and C programs
//! that embed the library run under valgrind with
//! `--errors-for-leak-kinds=definite,indirect,possible`: a process-wide
//! list in the crate's tables was reported at exit as "possibly lost"
//! (1.4 MB in 11,092 blocks), while these B-trees are "still reachable".
//! The crate's lookups were faster (52 ns against 530 ns per name over six
//! names, release build; it borrows a lowercase input where
//! [`PublicSuffixList::registrable_domain`] lowercases and returns an owned
//! name), a cost the DMARC check pays a few times per message.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use crate::dns::Name;

/// The bundled snapshot (Debian `publicsuffix` 20230209).
const BUNDLED: &str = include_str!("public_suffix_list.dat");

/// A read-only table parsed once, on first use.
static BUNDLED_LIST: LazyLock<Arc<PublicSuffixList>> =
    LazyLock::new(|| Arc::new(PublicSuffixList::parse(BUNDLED)));

/// A parsed public suffix list.
///
/// The rules are kept in B-trees rather than hash sets: the bundled list
/// lives for the whole process, and a B-tree points to the start of each
/// of its blocks, so leak checkers (valgrind in C programs) see it as
/// reachable at exit rather than possibly lost.
#[derive(Debug, Clone, Default)]
pub struct PublicSuffixList {
    /// Plain rules, lowercase A-labels.
    rules: BTreeSet<String>,
    /// `*.X` rules, stored as `X`.
    wildcards: BTreeSet<String>,
    /// `!X` rules, stored as `X`.
    exceptions: BTreeSet<String>,
}

/// A list file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PslError {
    /// The file could not be read.
    #[error("cannot read public suffix list: {0}")]
    Io(#[from] std::io::Error),
    /// The file holds no rule.
    #[error("public suffix list holds no rule")]
    NoRules,
}

/// A domain in lowercase A-label form, or `None` when it is not a domain
/// (empty labels, invalid IDNA).
fn to_ascii(domain: &str) -> Option<String> {
    if domain.is_ascii() {
        let lower = domain.to_ascii_lowercase();
        (!lower.is_empty() && !lower.split('.').any(str::is_empty)).then_some(lower)
    } else {
        super::idna_to_ascii(domain)
    }
}

impl PublicSuffixList {
    /// The snapshot bundled with the crate, parsed once and shared.
    pub fn bundled() -> Arc<PublicSuffixList> {
        Arc::clone(&BUNDLED_LIST)
    }

    /// Parses list text. Lines that are not rules are skipped; rules that
    /// are not valid domains are dropped.
    pub fn parse(text: &str) -> PublicSuffixList {
        let mut list = PublicSuffixList::default();
        for line in text.lines() {
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            if rule.starts_with("//") {
                continue;
            }
            if let Some(rest) = rule.strip_prefix('!') {
                if let Some(rest) = to_ascii(rest) {
                    list.exceptions.insert(rest);
                }
            } else if let Some(rest) = rule.strip_prefix("*.") {
                if let Some(rest) = to_ascii(rest) {
                    list.wildcards.insert(rest);
                }
            } else if let Some(rule) = to_ascii(rule) {
                list.rules.insert(rule);
            }
        }
        list
    }

    /// Reads and parses a list file (the format of
    /// `public_suffix_list.dat`), as OpenDMARC's `PublicSuffixList` option.
    ///
    /// # Errors
    /// [`PslError`] when the file cannot be read or holds no rule.
    pub fn from_file(path: &Path) -> Result<PublicSuffixList, PslError> {
        let text = std::fs::read_to_string(path)?;
        let list = PublicSuffixList::parse(&text);
        if list.rule_count() == 0 {
            return Err(PslError::NoRules);
        }
        Ok(list)
    }

    /// How many rules the list holds.
    pub fn rule_count(&self) -> usize {
        self.rules.len() + self.wildcards.len() + self.exceptions.len()
    }

    /// How many labels of `domain` (lowercase A-labels) form its public
    /// suffix.
    fn suffix_labels(&self, ascii: &str) -> usize {
        let labels: Vec<&str> = ascii.split('.').collect();
        let total = labels.len();
        let mut best = 1;
        // Suffixes from the longest; `start` is the index of the leftmost label.
        let mut start_byte = 0usize;
        for (start, label) in labels.iter().enumerate() {
            let suffix = ascii.get(start_byte..).unwrap_or_default();
            let count = total - start;
            if self.exceptions.contains(suffix) {
                return count - 1;
            }
            if self.rules.contains(suffix) {
                best = best.max(count);
            }
            if count > 1 {
                let parent = ascii
                    .get(start_byte + label.len() + 1..)
                    .unwrap_or_default();
                if self.wildcards.contains(parent) {
                    best = best.max(count);
                }
            }
            start_byte += label.len() + 1;
        }
        best
    }

    /// The registrable domain of `domain` (the public suffix plus one
    /// label), in the form `domain` was given (lowercased), or `None` when
    /// `domain` is itself a public suffix or not a domain (an empty label,
    /// a leading dot).
    pub fn registrable_domain(&self, domain: &str) -> Option<String> {
        let ascii = to_ascii(domain)?;
        let suffix = self.suffix_labels(&ascii);
        let lower = domain.to_lowercase();
        let labels: Vec<&str> = lower.split('.').collect();
        if labels.len() <= suffix {
            return None;
        }
        Some(labels.get(labels.len() - suffix - 1..)?.join("."))
    }

    /// The Organizational Domain of `domain` (RFC 7489 §3.2): its
    /// registrable domain, or the domain itself when it is a public suffix.
    pub fn organizational_domain(&self, domain: &Name) -> Name {
        self.registrable_domain(domain.as_str())
            .and_then(|d| Name::new(&d).ok())
            .unwrap_or_else(|| domain.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let list = PublicSuffixList::parse(
            "com\n*.ck\n!www.ck\nco.uk\nuk\n// c\n\u{516c}\u{53f8}.cn\ncn\n",
        );
        assert_eq!(list.rule_count(), 7);
        assert_eq!(
            list.registrable_domain("a.b.example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(list.registrable_domain("com"), None);
        assert_eq!(
            list.registrable_domain("x.foo.ck").as_deref(),
            Some("x.foo.ck")
        );
        assert_eq!(list.registrable_domain("foo.ck"), None);
        assert_eq!(
            list.registrable_domain("a.www.ck").as_deref(),
            Some("www.ck")
        );
        assert_eq!(
            list.registrable_domain("a.b.co.uk").as_deref(),
            Some("b.co.uk")
        );
        assert_eq!(
            list.registrable_domain("example.unlisted").as_deref(),
            Some("example.unlisted")
        );
        assert_eq!(list.registrable_domain(".com"), None);
        assert_eq!(
            list.registrable_domain("x.xn--55qx5d.cn").as_deref(),
            Some("x.xn--55qx5d.cn")
        );
        assert_eq!(
            list.registrable_domain("\u{98df}\u{72ee}.\u{516c}\u{53f8}.cn")
                .as_deref(),
            Some("\u{98df}\u{72ee}.\u{516c}\u{53f8}.cn")
        );
    }

    #[test]
    fn bundled_list() {
        let list = PublicSuffixList::bundled();
        assert!(list.rule_count() > 9000);
        let name = Name::new("Mail.Example.CO.UK").unwrap();
        assert_eq!(list.organizational_domain(&name).as_str(), "example.co.uk");
        let name = Name::new("co.uk").unwrap();
        assert_eq!(list.organizational_domain(&name).as_str(), "co.uk");
    }
}
