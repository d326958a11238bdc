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
//! (1.4 MB in 11,092 blocks), while this module's B-tree is "still reachable".
//! The crate's lookups were faster (about 55 ns against 450 to 510 ns per
//! name over six names, release build; it borrows a lowercase input where
//! [`PublicSuffixList::registrable_domain`] lowercases and returns an owned
//! name), a cost the DMARC check pays a few times per message.

use std::borrow::Cow;
use std::collections::BTreeMap;
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
/// The rules are kept in a B-tree rather than a hash table: the bundled
/// list lives for the whole process, and a B-tree points to the start of
/// each of its blocks, so leak checkers (valgrind in C programs) see it as
/// reachable at exit rather than possibly lost.
#[derive(Debug, Clone, Default)]
pub struct PublicSuffixList {
    /// Each rule name (lowercase A-labels) with the kinds of rule it has:
    /// [`PLAIN`], [`WILDCARD`] (`*.X` stored as `X`), [`EXCEPTION`] (`!X`
    /// stored as `X`). One lookup per label of a name finds all three.
    rules: BTreeMap<String, u8>,
}

/// A plain rule.
const PLAIN: u8 = 1;
/// A `*.` rule.
const WILDCARD: u8 = 2;
/// A `!` rule.
const EXCEPTION: u8 = 4;

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

/// A domain in lowercase A-label form (borrowed when it already is), or
/// `None` when it is not a domain (empty labels, invalid IDNA).
fn to_ascii(domain: &str) -> Option<Cow<'_, str>> {
    if domain.is_ascii() {
        if domain.is_empty() || domain.split('.').any(str::is_empty) {
            return None;
        }
        if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            Some(Cow::Owned(domain.to_ascii_lowercase()))
        } else {
            Some(Cow::Borrowed(domain))
        }
    } else {
        super::idna_to_ascii(domain).map(Cow::Owned)
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
            let (kind, name) = if let Some(rest) = rule.strip_prefix('!') {
                (EXCEPTION, rest)
            } else if let Some(rest) = rule.strip_prefix("*.") {
                (WILDCARD, rest)
            } else {
                (PLAIN, rule)
            };
            if let Some(name) = to_ascii(name) {
                *list.rules.entry(name.into_owned()).or_default() |= kind;
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
        self.rules
            .values()
            .map(|kinds| kinds.count_ones() as usize)
            .sum()
    }

    /// How many labels of `ascii` (lowercase A-labels, no empty label) form
    /// its public suffix.
    fn suffix_labels(&self, ascii: &str) -> usize {
        // Suffixes from the top-level label leftwards, one lookup each: a
        // `*.` rule on the previous (parent) suffix covers this one.
        let mut best = 1;
        let mut exception = None;
        let mut parent_wildcard = false;
        let mut count = 0;
        let mut rest = ascii;
        loop {
            let start = rest.rfind('.').map_or(0, |dot| dot + 1);
            count += 1;
            // `rest` is the part of `ascii` left of the suffixes seen so far.
            let suffix = ascii.get(start..).unwrap_or_default();
            let kinds = self.rules.get(suffix).copied().unwrap_or(0);
            if kinds & PLAIN != 0 || parent_wildcard {
                best = count;
            }
            if kinds & EXCEPTION != 0 {
                // The longest matching exception prevails.
                exception = Some(count - 1);
            }
            parent_wildcard = kinds & WILDCARD != 0;
            if start == 0 {
                break;
            }
            rest = rest.get(..start - 1).unwrap_or_default();
        }
        exception.unwrap_or(best)
    }

    /// The registrable domain of `domain` (the public suffix plus one
    /// label), in the form `domain` was given (lowercased), or `None` when
    /// `domain` is itself a public suffix or not a domain (an empty label,
    /// a leading dot).
    pub fn registrable_domain(&self, domain: &str) -> Option<String> {
        let ascii = to_ascii(domain)?;
        let suffix = self.suffix_labels(&ascii);
        let lower = if domain.is_ascii() {
            ascii
        } else {
            Cow::Owned(domain.to_lowercase())
        };
        let labels = lower.bytes().filter(|&b| b == b'.').count() + 1;
        if labels <= suffix {
            return None;
        }
        let start = lower
            .rmatch_indices('.')
            .nth(suffix)
            .map_or(0, |(dot, _)| dot + 1);
        Some(lower.get(start..)?.to_owned())
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

    /// The list algorithm as the format page states it, as a reference:
    /// one rule set per kind, every suffix tried against each.
    struct Reference {
        plain: std::collections::HashSet<String>,
        wildcards: std::collections::HashSet<String>,
        exceptions: std::collections::HashSet<String>,
    }

    impl Reference {
        fn parse(text: &str) -> Reference {
            let mut reference = Reference {
                plain: Default::default(),
                wildcards: Default::default(),
                exceptions: Default::default(),
            };
            for line in text.lines() {
                let Some(rule) = line.split_whitespace().next() else {
                    continue;
                };
                if rule.starts_with("//") {
                    continue;
                }
                let (set, name) = if let Some(rest) = rule.strip_prefix('!') {
                    (&mut reference.exceptions, rest)
                } else if let Some(rest) = rule.strip_prefix("*.") {
                    (&mut reference.wildcards, rest)
                } else {
                    (&mut reference.plain, rule)
                };
                if let Some(name) = to_ascii(name) {
                    set.insert(name.into_owned());
                }
            }
            reference
        }

        fn suffix_labels(&self, ascii: &str) -> usize {
            let labels: Vec<&str> = ascii.split('.').collect();
            let mut best = 1;
            for start in 0..labels.len() {
                let suffix = labels[start..].join(".");
                let count = labels.len() - start;
                if self.exceptions.contains(&suffix) {
                    return count - 1;
                }
                if self.plain.contains(&suffix) {
                    best = best.max(count);
                }
                if count > 1 && self.wildcards.contains(&labels[start + 1..].join(".")) {
                    best = best.max(count);
                }
            }
            best
        }
    }

    #[test]
    fn bundled_list_matches_the_reference_around_every_rule() {
        let list = PublicSuffixList::bundled();
        let reference = Reference::parse(BUNDLED);
        let mut checked = 0;
        for line in BUNDLED.lines().filter(|l| !l.starts_with("//")) {
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            let base = rule.trim_start_matches('!').trim_start_matches("*.");
            let Some(base) = to_ascii(base) else {
                continue;
            };
            for prefix in ["", "x.", "x.y.", "www.", "a.www."] {
                let name = format!("{prefix}{base}");
                assert_eq!(
                    list.suffix_labels(&name),
                    reference.suffix_labels(&name),
                    "{name}"
                );
                checked += 1;
            }
        }
        assert!(checked > 45_000, "{checked}");
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
