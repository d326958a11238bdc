//! A small MIME reader for report e-mails: header fields, multipart
//! bodies (RFC 2046 §5.1), base64 and quoted-printable (RFC 2045 §6).
//! Bounded by the number of parts and the nesting depth.

use base64::Engine as _;

/// Bounds on reading a MIME message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MimeLimits {
    pub(crate) max_parts: usize,
    pub(crate) max_depth: usize,
}

/// A leaf part: its content type (lowercase `type/subtype`), file name
/// when given, and decoded body.
#[derive(Debug)]
pub(crate) struct Leaf {
    pub(crate) content_type: String,
    pub(crate) filename: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MimeError {
    TooManyParts,
    TooDeep,
}

/// Splits a message into its header fields (unfolded `(name, value)`,
/// names lowercase) and body. A message without empty line is all header.
pub(crate) fn split(message: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = message;
    loop {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return (fields, next);
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        if next.is_empty() {
            return (fields, next);
        }
        rest = next;
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The value of `name` among the `;`-separated parameters of a header
/// field value (quotes removed; an RFC 2231 `name*` value loses its
/// charset and language).
pub(crate) fn parameter(value: &str, name: &str) -> Option<String> {
    for part in value.split(';').skip(1) {
        let Some((key, val)) = part.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim();
        if key == name {
            return Some(val.trim_matches('"').to_owned());
        }
        if key == format!("{name}*") {
            let val = val.splitn(3, '\'').last().unwrap_or(val);
            return Some(val.to_owned());
        }
    }
    None
}

/// Decodes base64, ignoring white space and stopping at the first byte
/// that is not base64 (lenient: real report e-mails wrap lines in many
/// ways).
pub(crate) fn decode_base64(body: &[u8]) -> Vec<u8> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let mut clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .filter(|b| *b != b'=')
        .collect();
    // A lone last character carries no whole byte.
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    LENIENT.decode(&clean).unwrap_or_default()
}

/// Decodes quoted-printable (soft line breaks removed, bad escapes kept
/// as written).
pub(crate) fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'=' {
            let rest = &body[i + 1..];
            if rest.starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (
                rest.first().copied().and_then(hex),
                rest.get(1).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Every leaf part of `message`, decoded, in order.
pub(crate) fn leaves(message: &[u8], limits: &MimeLimits) -> Result<Vec<Leaf>, MimeError> {
    let mut out = Vec::new();
    walk(message, limits, 0, &mut out)?;
    Ok(out)
}

fn walk(
    entity: &[u8],
    limits: &MimeLimits,
    depth: usize,
    out: &mut Vec<Leaf>,
) -> Result<(), MimeError> {
    if depth > limits.max_depth {
        return Err(MimeError::TooDeep);
    }
    let (fields, body) = split(entity);
    let content_type = field(&fields, "content-type").unwrap_or("text/plain");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media.starts_with("multipart/")
        && let Some(boundary) = parameter(content_type, "boundary")
    {
        for part in multipart_parts(body, boundary.as_bytes()) {
            walk(part, limits, depth + 1, out)?;
        }
        return Ok(());
    }
    if media == "message/rfc822" {
        return walk(body, limits, depth + 1, out);
    }
    if out.len() >= limits.max_parts {
        return Err(MimeError::TooManyParts);
    }
    let encoding = field(&fields, "content-transfer-encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let body = match encoding.as_str() {
        "base64" => decode_base64(body),
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.to_vec(),
    };
    let filename = field(&fields, "content-disposition")
        .and_then(|d| parameter(d, "filename"))
        .or_else(|| parameter(content_type, "name"));
    out.push(Leaf {
        content_type: media,
        filename,
        body,
    });
    Ok(())
}

/// The parts of a multipart body between `--boundary` delimiter lines,
/// up to the close delimiter (or the end, for a truncated message).
fn multipart_parts<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut line_start = 0;
    while line_start < body.len() {
        let line_end =
            memchr::memchr(b'\n', &body[line_start..]).map_or(body.len(), |i| line_start + i + 1);
        let line = &body[line_start..line_end];
        if line.starts_with(&delimiter) {
            let after = &line[delimiter.len()..];
            if let Some(s) = start {
                // The CRLF before the delimiter belongs to it.
                let mut end = line_start;
                if end > s && body[end - 1] == b'\n' {
                    end -= 1;
                    if end > s && body[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                parts.push(&body[s..end]);
            }
            if after.starts_with(b"--") {
                return parts;
            }
            start = Some(line_end);
        }
        line_start = line_end;
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_wrapping_and_padding() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8h"), b"hello!");
    }

    #[test]
    fn quoted_printable() {
        assert_eq!(decode_quoted_printable(b"a=3Db=\r\nc=ZZ"), b"a=bc=ZZ");
    }

    #[test]
    fn nested_multipart() {
        let message = b"Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\npreamble\r\n--a\r\nContent-Type: text/plain\r\n\r\nhello\r\n--a\r\nContent-Type: multipart/alternative;\r\n boundary=b\r\n\r\n--b\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"r.xml.gz\"\r\n\r\naGVsbG8=\r\n--b--\r\n--a--\r\n";
        let found = leaves(
            message,
            &MimeLimits {
                max_parts: 10,
                max_depth: 4,
            },
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].body, b"hello");
        assert_eq!(found[1].content_type, "application/gzip");
        assert_eq!(found[1].filename.as_deref(), Some("r.xml.gz"));
        assert_eq!(found[1].body, b"hello");
        let too_deep = leaves(
            message,
            &MimeLimits {
                max_parts: 10,
                max_depth: 0,
            },
        );
        assert_eq!(too_deep.unwrap_err(), MimeError::TooDeep);
    }
}
