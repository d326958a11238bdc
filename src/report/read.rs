//! Reading received aggregate reports: a report e-mail (RFC 9990 §5),
//! a gzip or zip file, or bare XML, into [`Feedback`] values.
//!
//! Everything is bounded by [`ReadLimits`]: the input size, the size and
//! compression ratio of what is decompressed (against decompression
//! bombs), the MIME parts and nesting, the zip entries, and the XML
//! itself ([`XmlLimits`]).

use std::io::Read as _;

use super::aggregate::Feedback;
use super::mime::{self, MimeError, MimeLimits};
use super::xml::{XmlError, XmlLimits};

/// Bounds on reading a received report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// The XML limits (size, depth, records).
    pub xml: XmlLimits,
    /// The largest input read (an e-mail, a compressed file), in bytes.
    /// Default 64 MiB.
    pub max_input_bytes: usize,
    /// The most bytes one compressed file may expand to. Default 256 MiB.
    pub max_decompressed_bytes: usize,
    /// The largest expansion ratio of a compressed file (decompressed
    /// size over compressed size), checked once the output passes
    /// [`ReadLimits::ratio_floor_bytes`]. Default 400: real reports
    /// compress 10 to 50 times, a very regular one of 100,000 rows about
    /// 120 times (benches/report.rs); a deflate bomb about a thousand
    /// times.
    pub max_ratio: u64,
    /// Output below this size is not checked for the ratio. Default 1 MiB.
    pub ratio_floor_bytes: usize,
    /// The most MIME leaf parts in an e-mail. Default 64.
    pub max_mime_parts: usize,
    /// The deepest MIME nesting. Default 8.
    pub max_mime_depth: usize,
    /// The most entries in a zip file. Default 16.
    pub max_zip_entries: usize,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            xml: XmlLimits::default(),
            max_input_bytes: 64 << 20,
            max_decompressed_bytes: 256 << 20,
            max_ratio: 400,
            ratio_floor_bytes: 1 << 20,
            max_mime_parts: 64,
            max_mime_depth: 8,
            max_zip_entries: 16,
        }
    }
}

/// Why a received report could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input is larger than [`ReadLimits::max_input_bytes`].
    #[error("input is larger than {limit} bytes")]
    InputTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A compressed file expands past
    /// [`ReadLimits::max_decompressed_bytes`].
    #[error("decompressed report is larger than {limit} bytes")]
    DecompressedTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A compressed file expands more than [`ReadLimits::max_ratio`]
    /// times.
    #[error("compressed report expands more than {limit} times")]
    RatioExceeded {
        /// The limit.
        limit: u64,
    },
    /// The gzip or deflate data is corrupt.
    #[error("corrupt compressed data: {0}")]
    Decompression(String),
    /// The zip file cannot be read.
    #[error("bad zip file: {0}")]
    Zip(ZipError),
    /// The e-mail has more parts than [`ReadLimits::max_mime_parts`].
    #[error("e-mail has more than {limit} parts")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
    /// The e-mail nests deeper than [`ReadLimits::max_mime_depth`].
    #[error("e-mail parts nest deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Nothing in the input looks like an aggregate report (no XML, gzip
    /// or zip part).
    #[error("no aggregate report found")]
    NoReport,
    /// The report's XML cannot be read.
    #[error(transparent)]
    Xml(#[from] XmlError),
}

/// Why a zip file cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZipError {
    /// No end of central directory record.
    #[error("no end of central directory")]
    NoDirectory,
    /// A header points outside the file or is cut short.
    #[error("truncated or inconsistent headers")]
    Truncated,
    /// More entries than [`ReadLimits::max_zip_entries`].
    #[error("too many entries")]
    TooManyEntries,
    /// An entry is compressed with another method than stored or deflate.
    #[error("unsupported compression method {0}")]
    UnsupportedMethod(u16),
    /// An entry is encrypted.
    #[error("encrypted entry")]
    Encrypted,
    /// ZIP64 (entries over 4 GiB) is not read.
    #[error("zip64 is not supported")]
    Zip64,
    /// An entry's CRC-32 does not match its data.
    #[error("CRC mismatch")]
    BadCrc,
}

/// What kind of data a byte string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gzip,
    Zip,
    Xml,
    Other,
}

fn sniff(data: &[u8]) -> Kind {
    if data.starts_with(&[0x1f, 0x8b]) {
        return Kind::Gzip;
    }
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    if data[start..].starts_with(b"<") {
        Kind::Xml
    } else {
        Kind::Other
    }
}

/// Reads `input`, whatever its form (e-mail, gzip, zip, XML), into the
/// aggregate reports it holds: one for a file, one per report attachment
/// for an e-mail.
///
/// # Errors
/// A [`ReadError`]; for an e-mail, the first report part that cannot be
/// read, or [`ReadError::NoReport`] when none is found.
pub fn read_aggregate(input: &[u8], limits: &ReadLimits) -> Result<Vec<Feedback>, ReadError> {
    if input.len() > limits.max_input_bytes {
        return Err(ReadError::InputTooLarge {
            limit: limits.max_input_bytes,
        });
    }
    match sniff(input) {
        Kind::Other => read_email(input, limits),
        _ => read_file(input, limits),
    }
}

/// Reads one file: gzip, zip or XML.
fn read_file(data: &[u8], limits: &ReadLimits) -> Result<Vec<Feedback>, ReadError> {
    match sniff(data) {
        Kind::Gzip => {
            let xml = gunzip(data, limits)?;
            Ok(vec![Feedback::from_xml(&xml, &limits.xml)?])
        }
        Kind::Zip => unzip(data, limits)?
            .iter()
            .map(|xml| Ok(Feedback::from_xml(xml, &limits.xml)?))
            .collect(),
        Kind::Xml => Ok(vec![Feedback::from_xml(data, &limits.xml)?]),
        Kind::Other => Err(ReadError::NoReport),
    }
}

fn read_email(message: &[u8], limits: &ReadLimits) -> Result<Vec<Feedback>, ReadError> {
    let mime_limits = MimeLimits {
        max_parts: limits.max_mime_parts,
        max_depth: limits.max_mime_depth,
    };
    let leaves = mime::leaves(message, &mime_limits).map_err(|e| match e {
        MimeError::TooManyParts => ReadError::TooManyParts {
            limit: limits.max_mime_parts,
        },
        MimeError::TooDeep => ReadError::TooDeep {
            limit: limits.max_mime_depth,
        },
    })?;
    let mut reports = Vec::new();
    for leaf in leaves {
        let kind = sniff(&leaf.body);
        let named_xml = leaf
            .filename
            .as_deref()
            .is_some_and(|f| f.to_ascii_lowercase().ends_with(".xml"));
        let is_report = match kind {
            Kind::Gzip | Kind::Zip => true,
            // A text part that starts with '<' is an HTML body unless it
            // is named or typed as XML.
            Kind::Xml => leaf.content_type.contains("xml") || named_xml,
            Kind::Other => false,
        };
        if is_report {
            reports.extend(read_file(&leaf.body, limits)?);
        }
    }
    if reports.is_empty() {
        return Err(ReadError::NoReport);
    }
    Ok(reports)
}

/// Reads all of `reader` (decompressing `compressed_len` bytes) within
/// the size and ratio limits.
fn bounded_read(
    mut reader: impl std::io::Read,
    compressed_len: usize,
    limits: &ReadLimits,
) -> Result<Vec<u8>, ReadError> {
    let by_ratio = (compressed_len as u64)
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_floor_bytes as u64);
    let by_size = limits.max_decompressed_bytes as u64;
    let cap = by_ratio.min(by_size);
    let mut out = Vec::new();
    let read = (&mut reader)
        .take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ReadError::Decompression(e.to_string()))?;
    if read as u64 > cap {
        return Err(if by_ratio < by_size {
            ReadError::RatioExceeded {
                limit: limits.max_ratio,
            }
        } else {
            ReadError::DecompressedTooLarge {
                limit: limits.max_decompressed_bytes,
            }
        });
    }
    Ok(out)
}

fn gunzip(data: &[u8], limits: &ReadLimits) -> Result<Vec<u8>, ReadError> {
    bounded_read(flate2::read::MultiGzDecoder::new(data), data.len(), limits)
}

fn le16(data: &[u8], at: usize) -> Result<u16, ReadError> {
    data.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or(ReadError::Zip(ZipError::Truncated))
}

fn le32(data: &[u8], at: usize) -> Result<u32, ReadError> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(ReadError::Zip(ZipError::Truncated))
}

/// The files of a zip archive (APPNOTE.TXT §4.3), read through its central
/// directory: stored or deflated entries, CRC-checked. Directories are
/// skipped.
fn unzip(data: &[u8], limits: &ReadLimits) -> Result<Vec<Vec<u8>>, ReadError> {
    const EOCD: u32 = 0x0605_4b50;
    const CENTRAL: u32 = 0x0201_4b50;
    const LOCAL: u32 = 0x0403_4b50;
    let zip = |e| ReadError::Zip(e);
    // The end record is in the last 22 + 65535 bytes (its comment).
    let search_from = data.len().saturating_sub(22 + 0xffff);
    let eocd = (search_from..data.len().saturating_sub(21))
        .rev()
        .find(|&at| le32(data, at).is_ok_and(|sig| sig == EOCD))
        .ok_or(zip(ZipError::NoDirectory))?;
    let entries = usize::from(le16(data, eocd + 10)?);
    let mut at = le32(data, eocd + 16)? as usize;
    if entries > limits.max_zip_entries {
        return Err(zip(ZipError::TooManyEntries));
    }
    let mut files = Vec::new();
    for _ in 0..entries {
        if le32(data, at)? != CENTRAL {
            return Err(zip(ZipError::Truncated));
        }
        let flags = le16(data, at + 8)?;
        let method = le16(data, at + 10)?;
        let crc = le32(data, at + 16)?;
        let compressed = le32(data, at + 20)?;
        let size = le32(data, at + 24)?;
        let name_len = usize::from(le16(data, at + 28)?);
        let extra_len = usize::from(le16(data, at + 30)?);
        let comment_len = usize::from(le16(data, at + 32)?);
        let local = le32(data, at + 42)?;
        let name = data
            .get(at + 46..at + 46 + name_len)
            .ok_or(zip(ZipError::Truncated))?;
        at += 46 + name_len + extra_len + comment_len;
        if name.ends_with(b"/") {
            continue;
        }
        if flags & 1 != 0 {
            return Err(zip(ZipError::Encrypted));
        }
        if compressed == u32::MAX || size == u32::MAX || local == u32::MAX {
            return Err(zip(ZipError::Zip64));
        }
        let local = local as usize;
        if le32(data, local)? != LOCAL {
            return Err(zip(ZipError::Truncated));
        }
        let start = local
            + 30
            + usize::from(le16(data, local + 26)?)
            + usize::from(le16(data, local + 28)?);
        let body = data
            .get(start..start.saturating_add(compressed as usize))
            .ok_or(zip(ZipError::Truncated))?;
        let content = match method {
            0 => bounded_read(body, body.len().max(1), limits)?,
            8 => bounded_read(flate2::read::DeflateDecoder::new(body), body.len(), limits)?,
            other => return Err(zip(ZipError::UnsupportedMethod(other))),
        };
        let mut check = flate2::Crc::new();
        check.update(&content);
        if check.sum() != crc {
            return Err(zip(ZipError::BadCrc));
        }
        files.push(content);
    }
    if files.is_empty() {
        return Err(ReadError::NoReport);
    }
    Ok(files)
}
