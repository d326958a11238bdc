//! Validated domain names.

use std::fmt;
use std::hash::{Hash, Hasher};

use smol_str::SmolStr;

/// Longest name in text form, without the trailing dot (RFC 1035 §3.1:
/// 255 octets on the wire).
const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a domain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty (or only the root dot).
    #[error("empty domain name")]
    Empty,
    /// The name is longer than 253 octets.
    #[error("domain name longer than 253 octets")]
    TooLong,
    /// Two dots in a row, or a leading dot.
    #[error("empty label in domain name")]
    EmptyLabel,
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets in domain name")]
    LabelTooLong,
    /// A control character or a backslash.
    #[error("invalid character in domain name")]
    InvalidCharacter,
}

/// A domain name, validated when built: 1 to 253 octets, labels of 1 to 63
/// octets, no control characters or backslashes. One trailing dot is
/// accepted and dropped.
///
/// The root name (`.`) is not accepted by [`Name::new`]: no check ever
/// asks about it. It exists only as record data, built with
/// [`Name::root`]: the exchange of a null MX (RFC 7505 §3), a CNAME or
/// PTR target in a zone file. Code that turns names from records into
/// queries skips it ([`Name::is_root`]).
///
/// Case is kept for display; comparison and hashing ignore ASCII case
/// (RFC 4343).
///
/// Cloning is cheap, so names are passed around by value freely: names of
/// up to 23 octets (most of those SPF and DMARC ask about) are held
/// inline and copied without touching a reference count; longer ones share
/// their text.
#[derive(Clone)]
pub struct Name(SmolStr);

impl Name {
    /// Validates `text` as a domain name.
    ///
    /// # Errors
    /// A [`NameError`] saying what is wrong.
    pub fn new(text: &str) -> Result<Name, NameError> {
        Ok(Name(SmolStr::new(validate(text)?)))
    }

    /// [`Name::new`] for text already in a `String`, kept rather than
    /// copied.
    pub(crate) fn from_string(text: String) -> Result<Name, NameError> {
        Name::new(&text)
    }

    /// The root name, `.`: no labels.
    pub fn root() -> Name {
        Name(SmolStr::default())
    }

    /// A name as it stands in record data (an MX exchange, a CNAME or PTR
    /// target), where `.` alone is the root (as in the null MX `MX 0 .`,
    /// RFC 7505); any other text as [`Name::new`].
    ///
    /// # Errors
    /// As [`Name::new`].
    pub fn in_record_data(text: &str) -> Result<Name, NameError> {
        if text == "." {
            return Ok(Name::root());
        }
        Name::new(text)
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// [`new`](Self::new) for text already held in a `SmolStr`: the
    /// string is shared (no copy) when it needs no trailing dot removed.
    pub(crate) fn from_smol_str(text: &SmolStr) -> Result<Name, NameError> {
        let valid = validate(text)?;
        if valid.len() == text.len() {
            Ok(Name(text.clone()))
        } else {
            Ok(Name(SmolStr::new(valid)))
        }
    }

    /// [`as_str`](Self::as_str) as a `SmolStr`, shared rather than copied.
    pub(crate) fn to_smol_str(&self) -> SmolStr {
        if self.is_root() {
            SmolStr::new_static(".")
        } else {
            self.0.clone()
        }
    }

    /// The name as text, without a trailing dot; `.` for the root.
    pub fn as_str(&self) -> &str {
        if self.is_root() { "." } else { &self.0 }
    }

    /// The labels, from the leftmost; none for the root.
    pub fn labels(&self) -> impl DoubleEndedIterator<Item = &str> {
        (!self.is_root())
            .then(|| self.0.split('.'))
            .into_iter()
            .flatten()
    }

    /// How many labels the name has (0 for the root).
    pub fn label_count(&self) -> usize {
        if self.is_root() {
            0
        } else {
            // A plain count: names are short, and the compiler vectorizes it.
            self.0.bytes().filter(|&b| b == b'.').count() + 1
        }
    }

    /// The rightmost label (`None` for the root): `labels().next_back()`
    /// without building the iterator.
    pub(crate) fn top_label(&self) -> Option<&str> {
        if self.is_root() {
            return None;
        }
        Some(
            self.0
                .rsplit_once('.')
                .map_or(self.0.as_str(), |(_, top)| top),
        )
    }

    /// The name with its leftmost label removed, or `None` for a
    /// single-label name.
    pub fn parent(&self) -> Option<Name> {
        let (_, rest) = self.0.split_once('.')?;
        Some(Name(SmolStr::new(rest)))
    }

    /// Whether `self` equals `other` or lies below it (every name lies
    /// below the root).
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if b.is_empty() {
            return true;
        }
        if a.len() == b.len() {
            return a.eq_ignore_ascii_case(b);
        }
        a.len() > b.len()
            && a[a.len() - b.len() - 1] == b'.'
            && a[a.len() - b.len()..].eq_ignore_ascii_case(b)
    }

    /// `label.self`, if the result is a valid name.
    ///
    /// # Errors
    /// A [`NameError`] when the label or the result is invalid.
    pub fn prepend(&self, label: &str) -> Result<Name, NameError> {
        if self.is_root() {
            return Name::new(label);
        }
        if label.len() + 1 + self.0.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        // This name is valid: only the labels added need checking.
        check_labels(label.as_bytes())?;
        // Joined in place: inline up to 23 octets, else allocated once.
        Ok(Name(SmolStr::from_iter([label, ".", self.0.as_str()])))
    }

    /// The name in lower case.
    pub fn to_lowercase(&self) -> Name {
        if has_ascii_uppercase(self.0.as_bytes()) {
            Name(SmolStr::new(self.0.to_ascii_lowercase()))
        } else {
            self.clone()
        }
    }
}

/// Checks `text` as a domain name; returns it without its trailing dot.
fn validate(text: &str) -> Result<&str, NameError> {
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    check_labels(text.as_bytes())?;
    Ok(text)
}

/// Checks each dot-separated label of `text`.
fn check_labels(text: &[u8]) -> Result<(), NameError> {
    // One pass over the octets; each label is judged at its end, its
    // errors in the order: empty, too long, invalid character.
    let mut label_start = 0;
    let mut invalid = false;
    for (i, &b) in text.iter().chain([&b'.']).enumerate() {
        if b != b'.' {
            invalid |= b < b' ' || b == 0x7f || b == b'\\';
            continue;
        }
        let label_len = i - label_start;
        if label_len == 0 {
            return Err(NameError::EmptyLabel);
        }
        if label_len > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        if invalid {
            return Err(NameError::InvalidCharacter);
        }
        label_start = i + 1;
    }
    Ok(())
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Names are mostly written in one case: octets compared as they
        // are first, ignoring case only when they differ.
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && (a == b || a.eq_ignore_ascii_case(b))
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Lowercased eight octets at a time, as words: names equal but for
        // case have the same length, so the same words.
        let bytes = self.0.as_bytes();
        state.write_usize(bytes.len());
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            state.write_u64(ascii_lowercase_word(u64::from_le_bytes(le)));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut le = [0u8; 8];
            if let Some(head) = le.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            state.write_u64(ascii_lowercase_word(u64::from_le_bytes(le)));
        }
    }
}

/// Whether `bytes` hold an ASCII upper-case letter, read eight octets at a
/// time.
fn has_ascii_uppercase(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(chunk);
        let word = u64::from_le_bytes(le);
        if ascii_lowercase_word(word) != word {
            return true;
        }
    }
    words.remainder().iter().any(u8::is_ascii_uppercase)
}

/// Each octet of `word` with ASCII upper case turned to lower case (the
/// other octets, non-ASCII ones included, unchanged): what
/// `u8::to_ascii_lowercase` does to each, eight at once.
fn ascii_lowercase_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // Per octet, with the top bit cleared so that no addition carries
    // into the next octet: the top bit set when the octet is >= b'A',
    // and when it is > b'Z'.
    let low7 = word & !HIGH;
    let from_a = low7.wrapping_add(ONES * (0x80 - u64::from(b'A')));
    let past_z = low7.wrapping_add(ONES * (0x7f - u64::from(b'Z')));
    // Upper case: at least 'A', not past 'Z', and ASCII.
    let upper = from_a & !past_z & !word & HIGH;
    word | (upper >> 2)
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        let a = self.0.bytes().map(|b| b.to_ascii_lowercase());
        let b = other.0.bytes().map(|b| b.to_ascii_lowercase());
        a.cmp(b)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({:?})", self.as_str())
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::new(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The label-by-label validation `Name::new` is held to.
    fn reference(text: &str) -> Result<(), NameError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        if text.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        for label in text.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong);
            }
            if label.bytes().any(|b| b < b' ' || b == 0x7f || b == b'\\') {
                return Err(NameError::InvalidCharacter);
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn validation_matches_the_reference(
            parts in proptest::collection::vec(
                (0usize..70, proptest::sample::select(vec!["a", "B", "-", "\\", "\r", "\x7f", "\u{e9}"])),
                0..6,
            ),
            trailing_dot in proptest::bool::ANY,
        ) {
            let mut text = parts
                .iter()
                .map(|(len, odd)| format!("{}{odd}", "x".repeat(*len)))
                .collect::<Vec<_>>()
                .join(".");
            if trailing_dot {
                text.push('.');
            }
            proptest::prop_assert_eq!(Name::new(&text).map(|_| ()), reference(&text), "{:?}", text);
        }
    }

    #[test]
    fn from_string_equals_new() {
        for text in ["example.org", "Example.ORG.", "", ".", "a..b", "a\rb.c"] {
            let owned = Name::from_string(text.to_owned());
            assert_eq!(owned, Name::new(text), "{text:?}");
            if let Ok(name) = owned {
                assert_eq!(name.as_str(), text.strip_suffix('.').unwrap_or(text));
            }
        }
    }

    #[test]
    fn word_lowercasing_matches_each_octet() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                // The octet among neighbours that are and are not letters.
                for filler in [b'A', b'z', b'@', b'[', 0x80, 0xff] {
                    let mut octets = [filler; 8];
                    octets[position] = byte;
                    let lowered = ascii_lowercase_word(u64::from_le_bytes(octets)).to_le_bytes();
                    let expected = octets.map(|b| b.to_ascii_lowercase());
                    assert_eq!(
                        lowered, expected,
                        "{byte:#x} at {position} among {filler:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn upper_case_is_found_at_every_place() {
        // Lengths around the eight-octet blocks, one upper-case letter at
        // each place (in a block or in the remainder), and none.
        for len in [1, 7, 8, 9, 15, 16, 17, 23, 24, 40] {
            let lower = "a".repeat(len);
            assert!(!has_ascii_uppercase(lower.as_bytes()), "{len}");
            let name = Name::new(&lower).unwrap();
            assert_eq!(name.to_lowercase().as_str(), lower);
            for at in 0..len {
                let mut text = lower.clone().into_bytes();
                text[at] = b'Q';
                assert!(has_ascii_uppercase(&text), "{len} at {at}");
                let name = Name::new(std::str::from_utf8(&text).unwrap()).unwrap();
                let expected = String::from_utf8(text.to_ascii_lowercase()).unwrap();
                assert_eq!(name.to_lowercase().as_str(), expected, "{len} at {at}");
            }
        }
        // Non-ASCII octets are not upper case.
        assert!(!has_ascii_uppercase("ÉCOLE".to_lowercase().as_bytes()));
        assert!(!has_ascii_uppercase("é.xn--bcher-kva.example".as_bytes()));
        assert!(has_ascii_uppercase("é.Example".as_bytes()));
    }

    #[test]
    fn hash_ignores_case_across_blocks() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |name: &Name| {
            let mut hasher = DefaultHasher::new();
            name.hash(&mut hasher);
            hasher.finish()
        };
        let long = format!("{}.{}.Example.ORG", "Ab".repeat(31), "cD".repeat(30));
        for (a, b) in [
            ("Example.org", "example.ORG"),
            (long.as_str(), &long.to_lowercase()),
        ] {
            assert_eq!(
                hash(&Name::new(a).unwrap()),
                hash(&Name::new(b).unwrap()),
                "{a}"
            );
        }
        assert_ne!(
            hash(&Name::new("example.org").unwrap()),
            hash(&Name::new("example.net").unwrap())
        );
    }

    #[test]
    fn validates() {
        assert!(Name::new("example.com.").is_ok());
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(Name::new("."), Err(NameError::Empty));
        assert_eq!(Name::new("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(Name::new(&"a".repeat(64)), Err(NameError::LabelTooLong));
        assert_eq!(
            Name::new(&["abcdefghi"; 26].join(".")),
            Err(NameError::TooLong)
        );
        assert_eq!(Name::new("a\rb.c"), Err(NameError::InvalidCharacter));
        // Labels may hold spaces (RFC 2181 §11); the SPF suite looks one up.
        assert!(Name::new("a b.c").is_ok());
    }

    #[test]
    fn label_count_and_top_label_as_the_labels_say() {
        for text in ["com", "example.com", "a.b.c.example.co.uk", "x-1.y_2.z"] {
            let name = Name::new(text).unwrap();
            assert_eq!(name.label_count(), name.labels().count(), "{text}");
            assert_eq!(name.top_label(), name.labels().next_back(), "{text}");
        }
        assert_eq!(Name::root().top_label(), None);
    }

    #[test]
    fn the_root_only_when_asked_for() {
        let root = Name::root();
        assert!(root.is_root());
        assert!(!Name::new("example.com").unwrap().is_root());
        // Validation stays strict: text never makes the root.
        assert_eq!(Name::new("."), Err(NameError::Empty));
        assert_eq!(root.as_str(), ".");
        assert_eq!(root.to_string(), ".");
        assert_eq!(format!("{root:?}"), "Name(\".\")");
        assert_eq!(root.labels().count(), 0);
        assert_eq!(root.label_count(), 0);
        assert_eq!(root.parent(), None);
        assert_eq!(root, Name::root());
        assert_ne!(root, Name::new("com").unwrap());
        assert!(Name::new("example.com").unwrap().is_subdomain_of(&root));
        assert!(root.is_subdomain_of(&root));
        assert!(!root.is_subdomain_of(&Name::new("com").unwrap()));
        assert_eq!(root.prepend("com").unwrap(), Name::new("com").unwrap());
        assert_eq!(Name::new("com").unwrap().parent(), None);
    }

    #[test]
    fn prepend_agrees_with_building_the_text() {
        let long = "a".repeat(63);
        let too_long = "y".repeat(64);
        let bases = [
            "example.com".to_owned(),
            format!("{long}.{long}.{long}.x"),
            format!("{long}.{long}.{long}.{}", "b".repeat(57)),
        ];
        let labels = [
            "_dmarc",
            "a.b",
            "",
            "x.",
            ".x",
            "a\\b",
            "tab\there",
            &long,
            &too_long,
            "é",
        ];
        for base in &bases {
            let name = Name::new(base).unwrap();
            for label in labels {
                let built = Name::new(&format!("{label}.{base}"));
                let prepended = name.prepend(label);
                assert_eq!(prepended, built, "{label:?} . {base:?}");
                if let Ok(prepended) = prepended {
                    assert_eq!(prepended.as_str(), format!("{label}.{base}"));
                }
            }
        }
    }

    #[test]
    fn compares_without_case() {
        let a = Name::new("Mail.Example.COM").unwrap();
        let b = Name::new("mail.example.com.").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Mail.Example.COM");
        assert!(a.is_subdomain_of(&Name::new("example.com").unwrap()));
        assert!(!a.is_subdomain_of(&Name::new("ample.com").unwrap()));
        assert_eq!(a.parent().unwrap(), Name::new("example.com").unwrap());
    }
}
