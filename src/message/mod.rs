//! RFC 5322 message scanning: header fields and the header/body split.
//!
//! [`MessageReader`] takes a message in chunks of any size and splits it into
//! header fields (kept as raw bytes, folding untouched) and body bytes, which
//! it hands back without copying. Bare LF line endings are accepted wherever
//! CRLF is expected.
//!
//! ```
//! use mailauth::message::{HeaderLimits, MessageReader};
//!
//! let mut reader = MessageReader::new(HeaderLimits::default());
//! assert_eq!(reader.feed(b"Subject: hi\r\n\tthere\r\nFrom: a@exa"), b"");
//! assert_eq!(reader.feed(b"mple.org\r\n\r\nbody"), b"body");
//! assert!(reader.header_complete());
//! let fields = reader.fields();
//! assert_eq!(fields[0].name(), Some(&b"Subject"[..]));
//! assert_eq!(fields[0].value(), b" hi\r\n\tthere");
//! assert_eq!(fields[1].value(), b" a@example.org");
//! ```

pub mod address;

use std::fmt;

/// Bounds on the header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderLimits {
    /// The most header fields kept (default 1,000).
    pub max_fields: usize,
    /// The most header octets kept, all fields together (default 1 MiB).
    pub max_bytes: usize,
}

impl Default for HeaderLimits {
    fn default() -> HeaderLimits {
        HeaderLimits {
            max_fields: 1000,
            max_bytes: 1024 * 1024,
        }
    }
}

/// The header went past a [`HeaderLimits`] bound. Fields after the bound
/// are not kept; the reader still finds the start of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// More header fields than [`HeaderLimits::max_fields`].
    #[error("more than {limit} header fields")]
    TooManyFields {
        /// The bound that was passed.
        limit: usize,
    },
    /// More header octets than [`HeaderLimits::max_bytes`].
    #[error("header larger than {limit} octets")]
    TooLarge {
        /// The bound that was passed.
        limit: usize,
    },
}

/// One header field, as raw bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field without the line break that ends it.
    raw: Vec<u8>,
    /// Offset of the first colon, if any.
    colon: Option<usize>,
}

impl HeaderField {
    /// A field from its raw bytes (`name ":" value`, without the final line
    /// break).
    pub fn from_raw(raw: Vec<u8>) -> HeaderField {
        let colon = memchr::memchr(b':', &raw);
        HeaderField { raw, colon }
    }

    /// The whole field as it appeared, without the final line break.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The field name: the bytes before the colon, without trailing
    /// whitespace (RFC 5322 §4.5.1 obsolete syntax allows WSP before the
    /// colon). `None` for a line without a colon, which is not a field.
    pub fn name(&self) -> Option<&[u8]> {
        self.as_ref().name()
    }

    /// The bytes before the colon, unchanged.
    pub fn raw_name(&self) -> Option<&[u8]> {
        self.as_ref().raw_name()
    }

    /// Whether the field name equals `name`, ignoring ASCII case.
    pub fn is_named(&self, name: &[u8]) -> bool {
        self.as_ref().is_named(name)
    }

    /// The bytes after the colon, folding line breaks included, without
    /// the final line break. Empty for a line without a colon.
    pub fn value(&self) -> &[u8] {
        self.as_ref().value()
    }

    /// The field as a [`FieldRef`].
    pub(crate) fn as_ref(&self) -> FieldRef<'_> {
        FieldRef {
            raw: &self.raw,
            colon: self.colon,
        }
    }
}

/// A header field borrowed from where it was read: a [`HeaderField`]'s
/// bytes, or a field of a message held whole ([`split_whole`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldRef<'a> {
    raw: &'a [u8],
    colon: Option<usize>,
}

impl<'a> FieldRef<'a> {
    /// A field from its raw bytes, as [`HeaderField::from_raw`].
    pub(crate) fn from_raw(raw: &'a [u8]) -> FieldRef<'a> {
        FieldRef {
            raw,
            colon: memchr::memchr(b':', raw),
        }
    }

    /// As [`HeaderField::name`].
    pub(crate) fn name(self) -> Option<&'a [u8]> {
        let raw_name = self.raw_name()?;
        let end = raw_name
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(0, |i| i + 1);
        raw_name.get(..end)
    }

    /// As [`HeaderField::raw_name`].
    pub(crate) fn raw_name(self) -> Option<&'a [u8]> {
        self.raw.get(..self.colon?)
    }

    /// As [`HeaderField::is_named`].
    pub(crate) fn is_named(self, name: &[u8]) -> bool {
        self.name().is_some_and(|n| n.eq_ignore_ascii_case(name))
    }

    /// As [`HeaderField::value`].
    pub(crate) fn value(self) -> &'a [u8] {
        match self.colon {
            Some(colon) => self.raw.get(colon + 1..).unwrap_or_default(),
            None => &[],
        }
    }
}

/// A field found whole in a buffer by [`complete_field`].
struct Scanned {
    /// Where the field's bytes end (its final line break excluded).
    raw_end: usize,
    /// Where the next line starts.
    next: usize,
    /// The header octets [`MessageReader`] counts for the field.
    counted: usize,
}

/// The field starting at `start` in `buffer`, if the buffer holds all of
/// it: its last line and the first octet of the line after it, which is
/// neither SP nor TAB. The field is what [`MessageReader`] reads octet by
/// octet when a field starts at `start` (and octets are counted the same
/// way: a continuation's line break twice); `None` when the buffer ends
/// before the field is known to end.
fn complete_field(buffer: &[u8], start: usize) -> Option<Scanned> {
    let mut line = start;
    let mut counted = 0usize;
    loop {
        let lf = line + memchr::memchr(b'\n', buffer.get(line..)?)?;
        let cr = lf > line && buffer.get(lf - 1) == Some(&b'\r');
        // The line's octets and its LF.
        counted = counted.saturating_add(lf - line + 1);
        let next = lf + 1;
        match buffer.get(next)? {
            b' ' | b'\t' => {
                // A continuation: its line break is stored (and counted)
                // again.
                counted = counted.saturating_add(if cr { 2 } else { 1 });
                line = next;
            }
            _ => {
                return Some(Scanned {
                    raw_end: if cr { lf - 1 } else { lf },
                    next,
                    counted,
                });
            }
        }
    }
}

/// The header fields and the body of a message held whole, borrowed from
/// it: what a [`MessageReader`] fed the message and finished reads, or
/// `None` where reading it whole would take more than the usual case (a
/// bound of `limits` passed, no empty line ending the header, a line
/// starting with CR or with whitespace where no field goes on), for the
/// caller to read it with a [`MessageReader`] instead.
pub(crate) fn split_whole(
    message: &[u8],
    limits: HeaderLimits,
) -> Option<(Vec<FieldRef<'_>>, &[u8])> {
    let mut fields = Vec::with_capacity(FIELDS_CAPACITY);
    let mut header_bytes = 0usize;
    let mut start = 0;
    loop {
        let separator = match message.get(start..start + 2)? {
            [b'\n', ..] => Some(1),
            [b'\r', b'\n'] => Some(2),
            [b'\r' | b' ' | b'\t', _] => return None,
            _ => None,
        };
        if let Some(separator) = separator {
            // The empty line is counted too.
            if header_bytes.saturating_add(separator) > limits.max_bytes {
                return None;
            }
            return Some((fields, message.get(start + separator..)?));
        }
        let field = complete_field(message, start)?;
        header_bytes = header_bytes.saturating_add(field.counted);
        if header_bytes > limits.max_bytes || fields.len() >= limits.max_fields {
            return None;
        }
        fields.push(FieldRef::from_raw(message.get(start..field.raw_end)?));
        start = field.next;
    }
}

impl fmt::Debug for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeaderField({:?})", String::from_utf8_lossy(&self.raw))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line: a WSP continues the current field, a line
    /// break ends the header, anything else starts a new field.
    LineStart,
    /// A CR at the start of a line: the header ends if LF follows.
    LineStartCr,
    /// Inside a line of a field.
    InLine,
    /// The header has ended; every byte is body.
    Body,
}

/// Header fields room is made for at once (more grow the vector as usual).
const FIELDS_CAPACITY: usize = 16;
/// Octets of the field buffer allocated at once: a DKIM-Signature field
/// with an RSA-2048 signature is read without growing it.
const FIELD_CAPACITY: usize = 1024;

/// Splits a message, fed in chunks, into header fields and body.
///
/// Call [`feed`](Self::feed) with each chunk: it returns the part of the
/// chunk that belongs to the body (empty while the header is still being
/// read). Call [`finish`](Self::finish) at the end of the message.
///
/// A message without the empty line that ends the header is all header: the
/// last field ends at the end of the input and the body is empty
/// ([`header_complete`](Self::header_complete) stays false).
#[derive(Debug, Clone)]
pub struct MessageReader {
    limits: HeaderLimits,
    state: State,
    fields: Vec<HeaderField>,
    /// The field being read.
    current: Vec<u8>,
    /// The line break that ended the last line of `current` (CRLF or LF),
    /// kept if the next line is a continuation.
    pending_break: &'static [u8],
    /// Header octets seen so far.
    header_bytes: usize,
    error: Option<HeaderError>,
    finished: bool,
}

impl MessageReader {
    /// A reader for one message.
    pub fn new(limits: HeaderLimits) -> MessageReader {
        MessageReader {
            limits,
            state: State::LineStart,
            fields: Vec::with_capacity(FIELDS_CAPACITY),
            current: Vec::with_capacity(FIELD_CAPACITY),
            pending_break: b"",
            header_bytes: 0,
            error: None,
            finished: false,
        }
    }

    /// Feeds the next chunk; returns the part of it that is body.
    pub fn feed<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        if self.finished {
            return &[];
        }
        let mut rest = chunk;
        while let Some((&byte, tail)) = rest.split_first() {
            match self.state {
                State::Body => return rest,
                State::InLine => {
                    let line_end = memchr::memchr(b'\n', rest);
                    let (line, after) = match line_end {
                        Some(end) => rest.split_at(end),
                        None => (rest, &[][..]),
                    };
                    self.push_bytes(line);
                    if let Some(after) = after.get(1..) {
                        // `after` started with the LF.
                        self.pending_break = if self.current.last() == Some(&b'\r') {
                            self.current.pop();
                            b"\r\n"
                        } else {
                            b"\n"
                        };
                        self.count(1);
                        self.state = State::LineStart;
                        rest = after;
                    } else {
                        rest = after;
                    }
                }
                State::LineStart => {
                    match byte {
                        b' ' | b'\t' if !self.current.is_empty() => {
                            let line_break = self.pending_break;
                            self.push_bytes(line_break);
                            self.state = State::InLine;
                            continue;
                        }
                        b'\n' => self.end_header(),
                        b'\r' => self.state = State::LineStartCr,
                        _ => {
                            self.close_field();
                            if let Some(after) = self.whole_field(rest) {
                                rest = after;
                                continue;
                            }
                            self.state = State::InLine;
                            continue;
                        }
                    }
                    self.count(1);
                    rest = tail;
                }
                State::LineStartCr => {
                    if byte == b'\n' {
                        self.count(1);
                        self.end_header();
                        rest = tail;
                    } else {
                        // A CR at the start of a line that does not end the
                        // header: it starts a new (malformed) line.
                        self.close_field();
                        self.push_bytes(b"\r");
                        self.state = State::InLine;
                    }
                }
            }
        }
        &[]
    }

    /// Ends the message: a field still open is closed (the message had no
    /// empty line after its header).
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        if self.state == State::LineStartCr {
            // A lone CR at the very end: nothing of a field.
            self.state = State::LineStart;
        }
        if self.state != State::Body {
            if self.current.last() == Some(&b'\r') {
                self.current.pop();
            }
            self.close_field();
        }
        self.finished = true;
    }

    /// Whether the empty line ending the header has been seen.
    pub fn header_complete(&self) -> bool {
        self.state == State::Body
    }

    /// The header fields read so far, in message order.
    pub fn fields(&self) -> &[HeaderField] {
        &self.fields
    }

    /// Takes the header fields read so far out of the reader.
    pub fn take_fields(&mut self) -> Vec<HeaderField> {
        std::mem::take(&mut self.fields)
    }

    /// The bound the header went past, if any.
    pub fn error(&self) -> Option<HeaderError> {
        self.error
    }

    /// Reads the field at the start of `rest` at once if `rest` holds all
    /// of it and it is within the bounds: the same field the octet-wise
    /// way reads, without staging it in the field buffer. Returns what
    /// follows it.
    fn whole_field<'a>(&mut self, rest: &'a [u8]) -> Option<&'a [u8]> {
        if self.error.is_some()
            || !self.current.is_empty()
            || self.fields.len() >= self.limits.max_fields
        {
            return None;
        }
        let field = complete_field(rest, 0)?;
        let header_bytes = self.header_bytes.saturating_add(field.counted);
        // A CR starting the next line, and an LF after it, are counted
        // before the field closes: if that passes the bound, the octet-wise
        // way drops the field. And if the message ended at that CR, the
        // octet-wise way would take one more CR off the field's end
        // (`finish`): the octet after the CR must be in hand.
        let before_close = match rest.get(field.next) {
            Some(b'\r') => {
                rest.get(field.next + 1)?;
                header_bytes.saturating_add(2)
            }
            _ => header_bytes,
        };
        if before_close > self.limits.max_bytes {
            return None;
        }
        let raw = rest.get(..field.raw_end)?;
        let after = rest.get(field.next..)?;
        self.header_bytes = header_bytes;
        self.fields.push(HeaderField::from_raw(raw.to_vec()));
        Some(after)
    }

    fn end_header(&mut self) {
        self.close_field();
        self.state = State::Body;
        // The memory of the field buffer is no longer needed.
        self.current = Vec::new();
    }

    fn count(&mut self, n: usize) {
        self.header_bytes = self.header_bytes.saturating_add(n);
        if self.header_bytes > self.limits.max_bytes && self.error.is_none() {
            self.error = Some(HeaderError::TooLarge {
                limit: self.limits.max_bytes,
            });
            self.current.clear();
        }
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        if self.error.is_none() {
            self.current.extend_from_slice(bytes);
        }
    }

    fn close_field(&mut self) {
        if self.current.is_empty() {
            return;
        }
        if self.error.is_some() {
            self.current.clear();
            return;
        }
        if self.fields.len() >= self.limits.max_fields {
            self.error = Some(HeaderError::TooManyFields {
                limit: self.limits.max_fields,
            });
            self.current.clear();
            return;
        }
        // An exact-size copy: the field buffer keeps its capacity for the
        // next field, so a field costs one allocation, not a series of
        // reallocations.
        let raw = self.current.as_slice().to_vec();
        self.current.clear();
        self.fields.push(HeaderField::from_raw(raw));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(chunks: &[&[u8]], limits: HeaderLimits) -> (MessageReader, Vec<u8>) {
        let mut reader = MessageReader::new(limits);
        let mut body = Vec::new();
        for chunk in chunks {
            body.extend_from_slice(reader.feed(chunk));
        }
        reader.finish();
        (reader, body)
    }

    fn raws(reader: &MessageReader) -> Vec<Vec<u8>> {
        reader.fields().iter().map(|f| f.raw().to_vec()).collect()
    }

    const MESSAGE: &[u8] =
        b"From: a@example.org\r\nSubject: one\r\n two\r\n\tthree\r\nX: \r\n\r\nbody\r\n\r\nmore";

    #[test]
    fn splits_header_and_body_in_any_chunking() {
        let (whole, body) = read(&[MESSAGE], HeaderLimits::default());
        assert!(whole.header_complete());
        assert_eq!(body, b"body\r\n\r\nmore");
        assert_eq!(
            raws(&whole),
            vec![
                b"From: a@example.org".to_vec(),
                b"Subject: one\r\n two\r\n\tthree".to_vec(),
                b"X: ".to_vec()
            ]
        );
        for a in 0..=MESSAGE.len() {
            for b in a..=MESSAGE.len() {
                let (split, split_body) = read(
                    &[&MESSAGE[..a], &MESSAGE[a..b], &MESSAGE[b..]],
                    HeaderLimits::default(),
                );
                assert_eq!(raws(&split), raws(&whole), "split {a},{b}");
                assert_eq!(split_body, body);
            }
        }
    }

    #[test]
    fn lf_only() {
        let (reader, body) = read(&[b"A: 1\n  cont\nB:2\n\nbody\n"], HeaderLimits::default());
        assert_eq!(
            raws(&reader),
            vec![b"A: 1\n  cont".to_vec(), b"B:2".to_vec()]
        );
        assert_eq!(body, b"body\n");
        assert_eq!(reader.fields()[0].value(), b" 1\n  cont");
    }

    #[test]
    fn no_separator_is_all_header() {
        let (reader, body) = read(&[b"A: 1\r\nB: 2\r\n"], HeaderLimits::default());
        assert!(!reader.header_complete());
        assert_eq!(raws(&reader), vec![b"A: 1".to_vec(), b"B: 2".to_vec()]);
        assert!(body.is_empty());
        let (reader, _) = read(&[b"A: 1\r\nB: 2"], HeaderLimits::default());
        assert_eq!(raws(&reader), vec![b"A: 1".to_vec(), b"B: 2".to_vec()]);
    }

    #[test]
    fn empty_header() {
        let (reader, body) = read(&[b"\r\nbody"], HeaderLimits::default());
        assert!(reader.header_complete());
        assert!(reader.fields().is_empty());
        assert_eq!(body, b"body");
    }

    #[test]
    fn names() {
        let field = HeaderField::from_raw(b"Subject \t: x".to_vec());
        assert_eq!(field.name(), Some(&b"Subject"[..]));
        assert!(field.is_named(b"SUBJECT"));
        assert_eq!(field.value(), b" x");
        let junk = HeaderField::from_raw(b"no colon here".to_vec());
        assert_eq!(junk.name(), None);
        assert_eq!(junk.value(), b"");
    }

    #[test]
    fn limits() {
        let mut message = Vec::new();
        for i in 0..50 {
            message.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        message.extend_from_slice(b"\r\nbody");
        let limits = HeaderLimits {
            max_fields: 10,
            max_bytes: 1 << 20,
        };
        let (reader, body) = read(&[&message], limits);
        assert_eq!(reader.fields().len(), 10);
        assert_eq!(
            reader.error(),
            Some(HeaderError::TooManyFields { limit: 10 })
        );
        assert_eq!(body, b"body");
        let limits = HeaderLimits {
            max_fields: 1000,
            max_bytes: 100,
        };
        let (reader, body) = read(&[&message], limits);
        assert_eq!(reader.error(), Some(HeaderError::TooLarge { limit: 100 }));
        assert!(reader.fields().len() < 15);
        assert_eq!(body, b"body");
    }

    /// What `split_whole` reads, as the reader's fields are compared.
    fn whole(message: &[u8], limits: HeaderLimits) -> Option<(Vec<Vec<u8>>, Vec<u8>)> {
        let (fields, body) = split_whole(message, limits)?;
        Some((
            fields.iter().map(|f| f.raw.to_vec()).collect(),
            body.to_vec(),
        ))
    }

    #[test]
    fn whole_messages_read_in_place() {
        let limits = HeaderLimits::default();
        let (fields, body) = whole(MESSAGE, limits).unwrap();
        let (reader, reader_body) = read(&[MESSAGE], limits);
        assert_eq!(fields, raws(&reader));
        assert_eq!(body, reader_body);
        // A field ending in CR CR LF, then a CR ending the input: read
        // octet by octet, the field loses both CRs; read whole, the same.
        let message = b"A: 1\nB: 2\r\r\n\r";
        let octets: Vec<&[u8]> = message.chunks(1).collect();
        let (reader, _) = read(&octets, limits);
        assert_eq!(raws(&reader), vec![b"A: 1".to_vec(), b"B: 2".to_vec()]);
        assert_eq!(raws(&read(&[message], limits).0), raws(&reader));
        let fields = split_whole(b"A : 1\n  cont\nB:2\n\nbody\n", limits)
            .unwrap()
            .0;
        assert_eq!(fields[0].name(), Some(&b"A"[..]));
        assert_eq!(fields[0].value(), b" 1\n  cont");
        assert_eq!(fields[1].value(), b"2");
        // Where the reader has more to do, the caller is told to use it.
        for message in [
            &b"A: 1\r\nB: 2\r\n"[..],
            b"A: 1\r\nB: 2",
            b" A: 1\r\n\r\nbody",
            b"A: 1\r\n\rB: 2\r\n\r\nbody",
            b"",
        ] {
            assert_eq!(whole(message, limits), None, "{message:?}");
        }
        let message = b"A: 1\r\nB: 2\r\n\r\nbody";
        let bound = |max_fields, max_bytes| HeaderLimits {
            max_fields,
            max_bytes,
        };
        assert!(whole(message, bound(2, 14)).is_some());
        assert_eq!(whole(message, bound(1, 14)), None);
        assert_eq!(whole(message, bound(2, 13)), None);
        assert_eq!(
            read(&[message], bound(2, 13)).0.error(),
            Some(HeaderError::TooLarge { limit: 13 })
        );
    }

    proptest::proptest! {
        /// Any message, split anywhere or held whole, reads as octet by
        /// octet: the fields found in place by the reader's whole-field
        /// path, and by `split_whole` where it answers.
        #[test]
        fn in_place_reading_matches_octet_by_octet(
            tokens in proptest::collection::vec(proptest::sample::select(vec![
                &b"a"[..], b"Bc", b":", b" ", b"\t", b"\r\n", b"\n", b"\r", b"\r\n ", b"\n\t",
                b"\r\n\r\n", b"X: y\r\n", b"\r\r\n",
            ]), 0..60),
            cuts in proptest::collection::vec(0usize..400, 0..4),
            max_fields in 1usize..8,
            max_bytes in 1usize..200,
        ) {
            let message = tokens.concat();
            for limits in [HeaderLimits::default(), HeaderLimits { max_fields, max_bytes }] {
                // Octet by octet: the whole-field path never applies.
                let octets: Vec<&[u8]> = message.chunks(1).collect();
                let (reference, reference_body) = read(&octets, limits);
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (message.len() + 1)).collect();
                cuts.sort_unstable();
                let mut chunks = Vec::new();
                let mut from = 0;
                for cut in cuts.iter().chain([&message.len()]) {
                    chunks.push(&message[from..*cut]);
                    from = *cut;
                }
                let (split, split_body) = read(&chunks, limits);
                proptest::prop_assert_eq!(raws(&split), raws(&reference));
                proptest::prop_assert_eq!(&split_body, &reference_body);
                proptest::prop_assert_eq!(split.error(), reference.error());
                proptest::prop_assert_eq!(split.header_complete(), reference.header_complete());
                if let Some((fields, body)) = whole(&message, limits) {
                    proptest::prop_assert_eq!(fields, raws(&reference));
                    proptest::prop_assert_eq!(body, reference_body.clone());
                    proptest::prop_assert_eq!(reference.error(), None);
                    proptest::prop_assert!(reference.header_complete());
                }
            }
        }
    }
}
