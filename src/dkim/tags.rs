//! The tag-list syntax of DKIM-Signature fields and key records
//! (RFC 6376 §3.2).
//!
//! ```text
//! tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//! tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//! tag-name  =  ALPHA *ALNUMPUNC
//! tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
//! tval      =  1*VALCHAR
//! VALCHAR   =  %x21-3A / %x3C-7E
//! ALNUMPUNC =  ALPHA / DIGIT / "_"
//! ```
//!
//! The parser is strict: every malformation has its own [`TagError`]
//! variant. Tags borrow from the input. One leniency: octets above 0x7F are
//! accepted in values, since key records carry UTF-8 notes (`n=`) in the
//! wild; such octets never make a value that matters valid (base64, numbers
//! and names are checked on their own).

use base64::Engine as _;

/// Why a tag list, or one of its values, is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// A tag name does not start with a letter or holds a character other
    /// than letters, digits and `_`.
    #[error("invalid tag name at offset {offset}")]
    InvalidTagName {
        /// Offset in the tag list where the name starts.
        offset: usize,
    },
    /// A tag name is not followed by `=`.
    #[error("tag {name} has no '='")]
    MissingEquals {
        /// The tag name.
        name: String,
    },
    /// A `;` with nothing before it (two `;` in a row, or a leading `;`).
    #[error("empty tag-spec at offset {offset}")]
    EmptyTagSpec {
        /// Offset of the `;`.
        offset: usize,
    },
    /// The same tag appears twice (RFC 6376 §3.2: an error).
    #[error("duplicate tag {name}")]
    DuplicateTag {
        /// The tag name.
        name: String,
    },
    /// A value holds a character outside VALCHAR and whitespace.
    #[error("invalid character in the value of tag {name}")]
    InvalidValue {
        /// The tag name.
        name: String,
    },
    /// A required tag is missing.
    #[error("missing required tag {name}")]
    MissingTag {
        /// The tag name.
        name: &'static str,
    },
    /// A value that must be base64 is not.
    #[error("value of tag {name} is not valid base64")]
    BadBase64 {
        /// The tag name.
        name: &'static str,
    },
    /// A value that must be a decimal number is not, or is too large.
    #[error("value of tag {name} is not a valid number")]
    BadNumber {
        /// The tag name.
        name: &'static str,
    },
}

/// One `name=value` pair of a tag list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// The tag name (case-sensitive, RFC 6376 §3.2).
    pub name: &'a str,
    /// The value without the whitespace around it; may hold folding
    /// whitespace inside.
    pub value: &'a [u8],
    /// Where the value starts in the tag list: just after the `=`.
    pub raw_value_start: usize,
    /// Where the value ends in the tag list: at the `;` or the end. The
    /// range includes the whitespace around the value (what RFC 6376 §3.7
    /// deletes for `b=`).
    pub raw_value_end: usize,
}

/// A parsed tag list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList<'a> {
    tags: Vec<Tag<'a>>,
}

fn is_wsp_or_break(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Octets allowed in a tag value, as a table: the reference that
/// [`all_value_octets`] is tested against.
#[cfg(test)]
static VALUE_OCTET: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let byte = i as u8;
        table[i] =
            matches!(byte, 0x21..=0x3a | 0x3c..=0x7e | b' ' | b'\t' | b'\r' | b'\n' | 0x80..=0xff);
        i += 1;
    }
    table
};

/// Whether every octet of `value` may be in a tag value: VALCHAR, whitespace
/// and line breaks, and octets above 0x7F (RFC 6532 internationalized
/// text, seen in `n=`).
fn all_value_octets(value: &[u8]) -> bool {
    only_allowed_octets(value, false)
}

/// Whether every octet of a whole tag list may be in a value, `;` aside:
/// [`all_value_octets`] for the values of every tag-spec at once (none of
/// them holds a `;`).
fn all_list_octets(list: &[u8]) -> bool {
    only_allowed_octets(list, true)
}

/// The check behind [`all_value_octets`] and [`all_list_octets`], written
/// as a branch-free fold over comparisons (no table lookups) so that it
/// compiles to vector code: long values (`b=`, key `p=`) are checked at
/// several octets per instruction. Inlined, so `semicolon_allowed` is a
/// constant in each caller.
#[inline(always)]
fn only_allowed_octets(bytes: &[u8], semicolon_allowed: bool) -> bool {
    let semicolon_invalid = u8::from(!semicolon_allowed);
    let invalid = bytes.iter().fold(0u8, |invalid, &b| {
        let control = u8::from(b < 0x21)
            & u8::from(b != b' ')
            & u8::from(b != b'\t')
            & u8::from(b != b'\r')
            & u8::from(b != b'\n');
        invalid | control | (u8::from(b == b';') & semicolon_invalid) | u8::from(b == 0x7f)
    });
    invalid == 0
}

/// A bit of its own for a one-letter tag name (names start with a letter).
fn single_letter_bit(name: &str) -> Option<u64> {
    match name.as_bytes() {
        &[letter] if letter.is_ascii_alphabetic() => Some(1u64 << (letter - b'A')),
        _ => None,
    }
}

/// Up to this many tags, a new tag's name is compared with each earlier one;
/// past it, the names go into a hash set. Real tag lists hold at most 14.
const LINEAR_DUPLICATE_SCAN: usize = 16;

impl<'a> TagList<'a> {
    /// Parses a tag list.
    ///
    /// # Errors
    /// The first malformation found.
    pub fn parse(input: &'a [u8]) -> Result<TagList<'a>, TagError> {
        // One tag-spec per ';', and one after the last: one allocation.
        let mut tags: Vec<Tag<'a>> =
            Vec::with_capacity(memchr::memchr_iter(b';', input).count() + 1);
        let whole = Whole {
            text: std::str::from_utf8(input).ok(),
            values_valid: all_list_octets(input),
        };
        // Names seen so far, once the list is long enough that scanning the
        // tags already read would make parsing quadratic (a hostile field can
        // hold a hundred thousand tags).
        let mut seen: Option<std::collections::HashSet<&'a str>> = None;
        // The one-letter names read so far (while below the linear scan).
        let mut single_letters = 0u64;
        let mut position = 0;
        loop {
            let spec_start = position;
            let spec_end = input
                .get(position..)
                .and_then(|rest| memchr::memchr(b';', rest))
                .map_or(input.len(), |i| position + i);
            let spec = input.get(spec_start..spec_end).unwrap_or_default();
            let at_end = spec_end >= input.len();
            if spec.iter().all(|&b| is_wsp_or_break(b)) {
                if at_end {
                    // Empty input, or a trailing ";" (allowed).
                    break;
                }
                return Err(TagError::EmptyTagSpec { offset: spec_end });
            }
            let tag = parse_spec(spec, spec_start, whole)?;
            let duplicate = match &mut seen {
                Some(names) => !names.insert(tag.name),
                None if tags.len() < LINEAR_DUPLICATE_SCAN => match single_letter_bit(tag.name) {
                    // Most names are one letter: a bit each.
                    Some(bit) => {
                        let seen_before = single_letters & bit != 0;
                        single_letters |= bit;
                        seen_before
                    }
                    None => tags.iter().any(|t| t.name == tag.name),
                },
                None => {
                    let names = seen.insert(tags.iter().map(|t| t.name).collect());
                    !names.insert(tag.name)
                }
            };
            if duplicate {
                return Err(TagError::DuplicateTag {
                    name: tag.name.to_owned(),
                });
            }
            tags.push(tag);
            if at_end {
                break;
            }
            position = spec_end + 1;
        }
        Ok(TagList { tags })
    }

    /// The tags in order.
    pub fn tags(&self) -> &[Tag<'a>] {
        &self.tags
    }

    /// The value of the tag `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.tags.iter().find(|t| t.name == name).map(|t| t.value)
    }

    /// The tag `name`, if present.
    pub fn tag(&self, name: &str) -> Option<&Tag<'a>> {
        self.tags.iter().find(|t| t.name == name)
    }

    /// The value of a required tag.
    ///
    /// # Errors
    /// [`TagError::MissingTag`] when absent.
    pub fn required(&self, name: &'static str) -> Result<&'a [u8], TagError> {
        self.get(name).ok_or(TagError::MissingTag { name })
    }
}

/// What one look at the whole tag list tells about every tag-spec in it.
#[derive(Clone, Copy)]
struct Whole<'a> {
    /// The list as text, when it is UTF-8 (the usual case): tag names are
    /// then cut from it rather than checked one by one.
    text: Option<&'a str>,
    /// Every octet of the list may be in a value (the `;` separators are
    /// not in any value): no value needs checking on its own.
    values_valid: bool,
}

fn parse_spec<'a>(spec: &'a [u8], offset: usize, whole: Whole<'a>) -> Result<Tag<'a>, TagError> {
    let name_start = spec
        .iter()
        .position(|&b| !is_wsp_or_break(b))
        .unwrap_or(spec.len());
    let name_len = spec
        .get(name_start..)
        .unwrap_or_default()
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(spec.len() - name_start);
    let name_bytes = spec
        .get(name_start..name_start + name_len)
        .unwrap_or_default();
    let invalid_name = TagError::InvalidTagName {
        offset: offset + name_start,
    };
    if !name_bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(invalid_name);
    }
    let name = match whole
        .text
        .and_then(|text| text.get(offset + name_start..offset + name_start + name_len))
    {
        Some(name) => name,
        None => std::str::from_utf8(name_bytes).map_err(|_| invalid_name.clone())?,
    };
    let mut position = name_start + name_len;
    while spec.get(position).is_some_and(|&b| is_wsp_or_break(b)) {
        position += 1;
    }
    match spec.get(position) {
        Some(b'=') => {}
        None => {
            return Err(TagError::MissingEquals {
                name: name.to_owned(),
            });
        }
        // A character after the name that is neither whitespace nor '='.
        Some(_) if position == name_start + name_len => return Err(invalid_name),
        Some(_) => {
            return Err(TagError::MissingEquals {
                name: name.to_owned(),
            });
        }
    }
    let raw_value_start = position + 1;
    let raw = spec.get(raw_value_start..).unwrap_or_default();
    let value_start = raw
        .iter()
        .position(|&b| !is_wsp_or_break(b))
        .unwrap_or(raw.len());
    let value_end = raw
        .iter()
        .rposition(|&b| !is_wsp_or_break(b))
        .map_or(value_start, |i| i + 1);
    let value = raw.get(value_start..value_end).unwrap_or_default();
    if !whole.values_valid && !all_value_octets(value) {
        return Err(TagError::InvalidValue {
            name: name.to_owned(),
        });
    }
    Ok(Tag {
        name,
        value,
        raw_value_start: offset + raw_value_start,
        raw_value_end: offset + spec.len(),
    })
}

/// The value with all whitespace (FWS) removed.
pub fn strip_whitespace(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    out.extend(value.iter().copied().filter(|&b| !is_wsp_or_break(b)));
    out
}

/// Decodes a base64 value, ignoring whitespace inside it (RFC 6376 §3.5,
/// `b=` and `bh=`: "Whitespace is ignored in this value").
///
/// # Errors
/// [`TagError::BadBase64`] naming `name`.
pub fn decode_base64(name: &'static str, value: &[u8]) -> Result<Vec<u8>, TagError> {
    // A branch-free fold (vector code) rather than a search that stops early:
    // values without whitespace, which must be read to the end, are the
    // usual ones. Any octet up to SP counts: the whitespace, and controls,
    // which fail to decode with or without the stripping.
    let has_whitespace = value
        .iter()
        .fold(0u8, |found, &b| found | u8::from(b <= b' '))
        != 0;
    let result = if has_whitespace {
        BASE64.decode(strip_whitespace(value))
    } else {
        // The usual `bh=` and key `p=`: nothing to strip, no copy.
        BASE64.decode(value)
    };
    result.map_err(|_| TagError::BadBase64 { name })
}

/// Standard alphabet; padding may be present or absent (some signers omit
/// it), but wrong padding and stray characters are errors.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Parses a decimal number: `1*DIGIT` that fits in 64 bits.
///
/// # Errors
/// [`TagError::BadNumber`] naming `name`.
pub fn decode_number(name: &'static str, value: &[u8]) -> Result<u64, TagError> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(TagError::BadNumber { name });
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(TagError::BadNumber { name })
    })
}

/// Splits a colon-separated list (`h=`, `q=`, `h=` of a key record, `s=`,
/// `t=`), trimming whitespace around each element.
pub fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b':').map(|item| {
        let start = item
            .iter()
            .position(|&b| !is_wsp_or_break(b))
            .unwrap_or(item.len());
        let end = item
            .iter()
            .rposition(|&b| !is_wsp_or_break(b))
            .map_or(start, |i| i + 1);
        item.get(start..end).unwrap_or_default()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn value_octet_check_matches_the_table() {
        for byte in 0..=255u8 {
            assert_eq!(
                super::all_value_octets(&[b'a', byte, b'b']),
                super::VALUE_OCTET[usize::from(byte)],
                "octet {byte:#04x}"
            );
        }
    }

    use super::*;

    #[test]
    fn parses_with_fws() {
        let list = TagList::parse(b" v=1;\r\n\ta = rsa-sha256 ;b=ab\r\n cd; x_y=;").unwrap();
        assert_eq!(list.get("v"), Some(&b"1"[..]));
        assert_eq!(list.get("a"), Some(&b"rsa-sha256"[..]));
        assert_eq!(list.get("b"), Some(&b"ab\r\n cd"[..]));
        assert_eq!(list.get("x_y"), Some(&b""[..]));
        assert_eq!(list.get("V"), None);
        let b = list.tag("b").unwrap();
        let input = b" v=1;\r\n\ta = rsa-sha256 ;b=ab\r\n cd; x_y=;";
        assert_eq!(&input[b.raw_value_start..b.raw_value_end], b"ab\r\n cd");
    }

    #[test]
    fn errors() {
        assert_eq!(
            TagList::parse(b"a=1; a=2"),
            Err(TagError::DuplicateTag { name: "a".into() })
        );
        assert_eq!(
            TagList::parse(b"a=1;;b=2"),
            Err(TagError::EmptyTagSpec { offset: 4 })
        );
        assert_eq!(
            TagList::parse(b"k=rsa; t; p="),
            Err(TagError::MissingEquals { name: "t".into() })
        );
        assert_eq!(
            TagList::parse(b"1a=2"),
            Err(TagError::InvalidTagName { offset: 0 })
        );
        assert_eq!(
            TagList::parse(b"a-b=2"),
            Err(TagError::InvalidTagName { offset: 0 })
        );
        assert_eq!(
            TagList::parse(b"a=x\x01y"),
            Err(TagError::InvalidValue { name: "a".into() })
        );
        assert!(TagList::parse(b"").unwrap().tags().is_empty());
        assert!(TagList::parse(b"a=1; ").is_ok());
    }

    #[test]
    fn list_octet_check_matches_the_table() {
        for byte in 0..=255u8 {
            assert_eq!(
                super::all_list_octets(&[b'a', byte, b';', b'b']),
                byte == b';' || super::VALUE_OCTET[usize::from(byte)],
                "octet {byte:#04x}"
            );
        }
    }

    #[test]
    fn invalid_octets_and_non_utf8_names_found_per_tag() {
        // A bad octet anywhere makes each value checked on its own: the
        // error names the tag that holds it, or an earlier malformation.
        assert_eq!(
            TagList::parse(b"a=1; b=x\x7fy; c=2"),
            Err(TagError::InvalidValue { name: "b".into() })
        );
        assert_eq!(
            TagList::parse(b"a=1; 1x=2; b=\x01"),
            Err(TagError::InvalidTagName { offset: 5 })
        );
        // Not UTF-8 (a Latin-1 note): names are still read.
        let list = TagList::parse(b"v=DKIM1; n=caf\xe9; p=").unwrap();
        assert_eq!(list.get("n"), Some(&b"caf\xe9"[..]));
        assert_eq!(list.get("p"), Some(&b""[..]));
        assert_eq!(
            TagList::parse(b"n=\xe9; \xe9=1"),
            Err(TagError::InvalidTagName { offset: 5 })
        );
    }

    #[test]
    fn duplicates_among_short_and_long_names() {
        // Names are case-sensitive: one-letter names differing in case are
        // distinct, as are a one-letter name and a longer one starting
        // with the same letter.
        let list = TagList::parse(b"a=1; A=2; z=3; Z=4; b=5; bh=6; bhx=7").unwrap();
        assert_eq!(list.tags().len(), 7);
        for (input, name) in [
            (&b"z=1; a=2; Z=3; z=4"[..], "z"),
            (b"A=1; bh=2; A=3", "A"),
            (b"bh=1; b=2; bh=3", "bh"),
            (b"x_1=1; x_1=2", "x_1"),
        ] {
            assert_eq!(
                TagList::parse(input),
                Err(TagError::DuplicateTag { name: name.into() }),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        for name in ["a", "z", "A", "Z"] {
            assert!(single_letter_bit(name).is_some());
        }
        assert_eq!(single_letter_bit("bh"), None);
    }

    #[test]
    fn base64_with_controls_and_whitespace() {
        assert_eq!(decode_base64("b", b"aGVs\tbG8="), Ok(b"hello".to_vec()));
        for bad in [&b"aGVs\x01bG8="[..], b"aGVs\x00bG8=", b"\x1f"] {
            assert_eq!(
                decode_base64("b", bad),
                Err(TagError::BadBase64 { name: "b" })
            );
        }
    }

    #[test]
    fn duplicates_in_long_lists() {
        // Past the linear scan, names go into a set: duplicates are still
        // found, wherever they are, and distinct names still parse.
        let distinct: String = (0..1_000).map(|i| format!("t{i}=1;")).collect();
        assert_eq!(
            TagList::parse(distinct.as_bytes()).unwrap().tags().len(),
            1_000
        );
        for (first, second) in [(3, 20), (3, 900), (500, 999), (15, 16)] {
            let mut list = distinct.clone();
            list.push_str(&format!("x=1;t{first}=2;t{second}=3;"));
            let list = list.replacen(&format!("t{second}=1;"), "", 1);
            assert_eq!(
                TagList::parse(list.as_bytes()),
                Err(TagError::DuplicateTag {
                    name: format!("t{first}")
                }),
                "t{first} twice, then t{second}"
            );
        }
    }

    #[test]
    fn values() {
        assert_eq!(decode_base64("b", b"aGVs\r\n bG8="), Ok(b"hello".to_vec()));
        assert_eq!(decode_base64("b", b"aGVsbG8"), Ok(b"hello".to_vec()));
        assert_eq!(
            decode_base64("b", b"aGV*bG8="),
            Err(TagError::BadBase64 { name: "b" })
        );
        assert_eq!(decode_number("l", b"0123"), Ok(123));
        assert_eq!(
            decode_number("l", b"12a"),
            Err(TagError::BadNumber { name: "l" })
        );
        assert_eq!(
            decode_number("l", b"99999999999999999999999"),
            Err(TagError::BadNumber { name: "l" })
        );
        assert_eq!(
            decode_number("l", b""),
            Err(TagError::BadNumber { name: "l" })
        );
        let items: Vec<&[u8]> = split_list(b"From : to\r\n :subject").collect();
        assert_eq!(items, vec![&b"From"[..], b"to", b"subject"]);
    }
}
