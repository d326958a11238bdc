//! Messages for the DKIM benches and `examples/dkim_verify_loop.rs`: the
//! bodies, the keys with a zone that publishes them, and a message signed
//! with one of them. Each includer uses a part.
#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use mailauth::dkim::{
    Algorithm, BodyCanonicalization, BodyHasher, HashAlgorithm, HeaderCanonicalization, SigningKey,
};
use mailauth::dns::{Name, ZoneResolver};

/// The verification time, and the `t=` of the signed messages.
pub const NOW: u64 = 1_700_000_000;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys");

/// Plain prose: the same 74-character line, single spaces only.
pub fn prose_body(size: usize) -> Vec<u8> {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    line.iter().copied().cycle().take(size).collect()
}

/// Text with whitespace to canonicalize: 72-character lines of words with a
/// double space or a tab every 14 words or so and some trailing spaces.
pub fn text_body(size: usize) -> Vec<u8> {
    let words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "lazy",
        "dog",
        "message",
        "authentication",
        "header",
        "body",
        "canonical",
        "signature",
        "domain",
        "selector",
    ];
    let mut body = Vec::with_capacity(size + 128);
    let mut line = String::new();
    let mut i = 0usize;
    while body.len() < size {
        let word = words[(i * 7 + i / 3) % words.len()];
        i += 1;
        if line.len() + word.len() + 1 > 72 {
            if i.is_multiple_of(13) {
                line.push(' ');
            }
            body.extend_from_slice(line.as_bytes());
            body.extend_from_slice(b"\r\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(match i % 29 {
                0 => "  ",
                1 => "\t",
                _ => " ",
            });
        }
        line.push_str(word);
    }
    body.truncate(size);
    body
}

/// Whitespace-dense text: 66-octet lines (CRLF included) in which every
/// line has runs of spaces between words, a tab and trailing blanks, the
/// shape relaxed canonicalization works hardest on.
pub fn whitespace_dense_body(size: usize) -> Vec<u8> {
    let words = [
        "word", "mail", "sign", "relay", "body", "hash", "key", "domain", "text", "line",
    ];
    // About ten separators a line: one tab and two runs of spaces.
    let separators = [" ", "  ", " ", " ", "\t", " ", " ", "   ", " ", " "];
    let trailing = ["   ", " \t ", "  ", "\t  "];
    let mut body = Vec::with_capacity(size + 128);
    let mut i = 0usize;
    let mut n = 0usize;
    while body.len() < size {
        let tail = trailing[n % trailing.len()];
        let mut line = String::new();
        let mut s = n * 3;
        loop {
            let word = words[i % words.len()];
            i += 1;
            let separator = if line.is_empty() {
                ""
            } else {
                separators[s % separators.len()]
            };
            if line.len() + separator.len() + word.len() + tail.len() > 64 {
                break;
            }
            s += 1;
            line.push_str(separator);
            line.push_str(word);
        }
        // Pad with trailing blanks to 64 octets before the CRLF.
        line.push_str(tail);
        while line.len() < 64 {
            line.push(' ');
        }
        body.extend_from_slice(line.as_bytes());
        body.extend_from_slice(b"\r\n");
        n += 1;
    }
    body.truncate(size);
    body
}

/// The RSA 2048-bit and Ed25519 keys of `tests/data/keys`, and a zone that
/// publishes them under example.org.
pub struct Keys {
    /// Selector `rsa`.
    pub rsa: SigningKey,
    /// Selector `ed`; selector `revoked` publishes it revoked (`p=` empty).
    pub ed: SigningKey,
    /// The key records.
    pub zone: ZoneResolver,
}

impl Keys {
    /// Reads the keys and fills the zone.
    pub fn load() -> Keys {
        let b64 = base64::engine::general_purpose::STANDARD;
        let rsa =
            SigningKey::from_pem(&std::fs::read(format!("{KEYS}/rsa2048.pkcs8.pem")).expect("key"))
                .expect("rsa key");
        let ed =
            SigningKey::from_pem(&std::fs::read(format!("{KEYS}/ed25519.pkcs8.pem")).expect("key"))
                .expect("ed key");
        let mut zone = ZoneResolver::new();
        zone.add_txt(
            &Name::new("rsa._domainkey.example.org").expect("name"),
            format!("v=DKIM1; k=rsa; p={}", b64.encode(rsa.public_key_der())),
        );
        zone.add_txt(
            &Name::new("ed._domainkey.example.org").expect("name"),
            format!("v=DKIM1; k=ed25519; p={}", b64.encode(ed.public_key_der())),
        );
        // The same ed25519 key published revoked: verifying against it does
        // everything but the key decoding and the signature check.
        zone.add_txt(
            &Name::new("revoked._domainkey.example.org").expect("name"),
            "v=DKIM1; k=ed25519; p=",
        );
        Keys { rsa, ed, zone }
    }
}

/// Signs `body` with a minimal relaxed/relaxed signer and returns the whole
/// message.
pub fn signed_message(
    key: &SigningKey,
    algorithm: Algorithm,
    selector: &str,
    body: &[u8],
) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let headers: [(&str, &str); 5] = [
        ("From", " Alice <alice@example.org>"),
        ("To", " Bob <bob@example.net>"),
        ("Subject", " Quarterly figures"),
        ("Date", " Tue, 14 Nov 2023 22:13:20 +0000"),
        ("Message-ID", " <bench@example.org>"),
    ];
    let mut hasher = BodyHasher::new(BodyCanonicalization::Relaxed, HashAlgorithm::Sha256, None);
    hasher.update(body);
    let body_hash = b64.encode(hasher.finish().digest);
    let unsigned = format!(
        " v=1; a={algorithm}; c=relaxed/relaxed; d=example.org; s={selector}; t={NOW};\r\n h=from:to:subject:date:message-id; bh={body_hash};\r\n b="
    );
    let mut data = Vec::new();
    for (name, value) in headers {
        HeaderCanonicalization::Relaxed.append(name.as_bytes(), value.as_bytes(), &mut data);
    }
    HeaderCanonicalization::Relaxed.append(b"DKIM-Signature", unsigned.as_bytes(), &mut data);
    data.truncate(data.len() - 2);
    let signature = b64.encode(key.sign(algorithm, &data).expect("sign"));
    let mut message = format!("DKIM-Signature:{unsigned}{signature}\r\n").into_bytes();
    for (name, value) in headers {
        message.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(body);
    message
}
