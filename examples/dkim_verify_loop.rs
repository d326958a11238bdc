//! Verifies one signed 4 KiB message many times: a steady workload for
//! instruction-count profiling.
//!
//! Run: `cargo run --release --example dkim_verify_loop -- [rsa|ed|revoked|canon-text|canon-prose] [iterations]`,
//! or under `valgrind --tool=callgrind` on the built binary
//! (`target/release/examples/dkim_verify_loop`).

use base64::Engine as _;
use mailauth::dkim::canon::{BodyCanonicalization, BodyHasher, HeaderCanonicalization};
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::verify::{Verifier, VerifyConfig};
use mailauth::dkim::{Algorithm, HashAlgorithm};
use mailauth::dns::{Name, ZoneResolver};
use std::hint::black_box;

const NOW: u64 = 1_700_000_000;
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys");

fn signed_message(key: &SigningKey, algorithm: Algorithm, selector: &str, body: &[u8]) -> Vec<u8> {
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

/// The `text` body of the `dkim_canon` bench: text with whitespace to canonicalize: 72-character lines of words with a
/// double space or a tab every 14 words or so and some trailing spaces.
fn text_body(size: usize) -> Vec<u8> {
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

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "rsa".to_owned());
    let iterations: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    if case.starts_with("canon") {
        let body = if case == "canon-text" {
            text_body(1024 * 1024)
        } else {
            let line =
                b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
            line.iter().copied().cycle().take(1024 * 1024).collect()
        };
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            let mut hasher =
                BodyHasher::new(BodyCanonicalization::Relaxed, HashAlgorithm::Sha256, None);
            for chunk in body.chunks(64 * 1024) {
                hasher.update(black_box(chunk));
            }
            black_box(hasher.finish());
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{case}: {:.2} GB/s",
            (iterations * body.len()) as f64 / seconds / 1e9
        );
        return;
    }
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
    zone.add_txt(
        &Name::new("revoked._domainkey.example.org").expect("name"),
        "v=DKIM1; k=ed25519; p=",
    );
    let body: Vec<u8> =
        b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
            .iter()
            .copied()
            .cycle()
            .take(4096)
            .collect();
    let message = match case.as_str() {
        "rsa" => signed_message(&rsa, Algorithm::RsaSha256, "rsa", &body),
        "ed" => signed_message(&ed, Algorithm::Ed25519Sha256, "ed", &body),
        _ => signed_message(&ed, Algorithm::Ed25519Sha256, "revoked", &body),
    };
    let config = VerifyConfig::default();
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        let mut verifier = Verifier::new(&config, NOW);
        verifier.feed(black_box(&message));
        black_box(mailauth::resolve(verifier.finish(), &zone));
    }
    let elapsed = start.elapsed();
    println!(
        "{case}: {:.2} us per message",
        elapsed.as_secs_f64() * 1e6 / iterations as f64
    );
}
