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
        let raw_name = self.raw_name()?;
        let end = raw_name
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(0, |i| i + 1);
        raw_name.get(..end)
    }

    /// The bytes before the colon, unchanged.
    pub fn raw_name(&self) -> Option<&[u8]> {
        self.raw.get(..self.colon?)
    }

    /// Whether the field name equals `name`, ignoring ASCII case.
    pub fn is_named(&self, name: &[u8]) -> bool {
        self.name().is_some_and(|n| n.eq_ignore_ascii_case(name))
    }

    /// The bytes after the colon, folding line breaks included, without
    /// the final line break. Empty for a line without a colon.
    pub fn value(&self) -> &[u8] {
        match self.colon {
            Some(colon) => self.raw.get(colon + 1..).unwrap_or_default(),
            None => &[],
        }
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
}
