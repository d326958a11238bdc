//! Shared by the DKIM integration tests: a small verifier built from the
//! public pieces (message reader, canonicalization, crypto).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use base64::Engine as _;
use mailauth::dkim::Algorithm;
use mailauth::dkim::canon::{BodyHasher, Canonicalization};
use mailauth::dkim::crypto::PublicKey;
use mailauth::message::{HeaderField, HeaderLimits, MessageReader};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn data(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Tags of a DKIM-Signature value (names trimmed, all whitespace removed
/// from values).
pub fn tags(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|t| {
            let (n, v) = t.split_once('=')?;
            Some((
                n.trim().to_owned(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            ))
        })
        .collect()
}

pub fn tag(value: &str, name: &str) -> Option<String> {
    tags(value)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Verifies the first DKIM-Signature of `signed` with `public`.
pub fn verify(signed: &[u8], public: &PublicKey) -> Result<(), String> {
    let mut reader = MessageReader::new(HeaderLimits::default());
    let body = reader.feed(signed).to_vec();
    reader.finish();
    let fields: Vec<HeaderField> = reader.take_fields();
    let (index, signature) = fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.is_named(b"dkim-signature"))
        .ok_or("no signature")?;
    let value = String::from_utf8(signature.value().to_vec()).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::from_name(&tag(&value, "a").ok_or("no a=")?).ok_or("bad a=")?;
    let canon = Canonicalization::from_tag(&tag(&value, "c").ok_or("no c=")?).ok_or("bad c=")?;
    let mut hasher = BodyHasher::new(canon.body, algorithm.hash(), None);
    hasher.update(&body);
    if B64.encode(hasher.finish().digest) != tag(&value, "bh").ok_or("no bh=")? {
        return Err("body hash mismatch".into());
    }
    // Header fields in h= order, each name taking instances from the bottom.
    let mut header_data = Vec::new();
    let mut used: Vec<(String, usize)> = Vec::new();
    for name in tag(&value, "h").ok_or("no h=")?.split(':') {
        let name = name.to_ascii_lowercase();
        let taken = match used.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                used.push((name.clone(), 0));
                used.len() - 1
            }
        };
        let instance = fields
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, f)| *i != index && f.is_named(name.as_bytes()))
            .nth(used[taken].1);
        used[taken].1 += 1;
        if let Some((_, field)) = instance {
            canon
                .header
                .append(field.raw_name().unwrap(), field.value(), &mut header_data);
        }
    }
    // The signature field with the b= value removed (RFC 6376 §3.7).
    let unsigned = strip_b_value(signature.value()).ok_or("no b=")?;
    canon
        .header
        .append(signature.raw_name().unwrap(), &unsigned, &mut header_data);
    header_data.truncate(header_data.len() - 2);
    let b = B64
        .decode(tag(&value, "b").unwrap())
        .map_err(|e| e.to_string())?;
    public
        .verify(algorithm, &header_data, &b)
        .map_err(|e| e.to_string())
}

/// The field value with the value of its `b=` tag removed, wherever the
/// tag is; `None` without a `b=` tag.
pub fn strip_b_value(value: &[u8]) -> Option<Vec<u8>> {
    let mut start = 0;
    while start <= value.len() {
        let end = value[start..]
            .iter()
            .position(|&c| c == b';')
            .map_or(value.len(), |i| start + i);
        let segment = &value[start..end];
        if let Some(eq) = segment.iter().position(|&c| c == b'=') {
            let name = &segment[..eq];
            if name
                .iter()
                .filter(|c| !c.is_ascii_whitespace())
                .eq(b"b".iter())
            {
                let mut out = value[..start + eq + 1].to_vec();
                out.extend_from_slice(&value[end..]);
                return Some(out);
            }
        }
        start = end + 1;
    }
    None
}
