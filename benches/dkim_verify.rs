//! DKIM verification of a 4 KiB and a 100 KiB message, rsa-sha256 (2048-bit
//! key) and ed25519-sha256, over the in-memory resolver: header parsing,
//! body hashing, key record parsing and the signature check. The
//! `without-crypto` case verifies against a revoked key: all the work but
//! the public key decoding and the signature check.
//!
//! The verifier keeps parsed keys across messages (the default
//! `VerifyConfig::key_cache`), as a mail server does; the `uncached` cases
//! read the key record anew for every message, as for a key seen the
//! first time.
//!
//! Run: `cargo bench --bench dkim_verify`.

use base64::Engine as _;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::dkim::canon::{BodyCanonicalization, BodyHasher, HeaderCanonicalization};
use mailauth::dkim::crypto::{PublicKey, SigningKey};
use mailauth::dkim::verify::{DkimResult, Verifier, VerifyConfig};
use mailauth::dkim::{Algorithm, HashAlgorithm};
use mailauth::dns::{Name, ZoneResolver};
use std::hint::black_box;

const NOW: u64 = 1_700_000_000;
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys");

fn body(size: usize) -> Vec<u8> {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    line.iter().copied().cycle().take(size).collect()
}

/// Signs `body` with a minimal relaxed/relaxed signer and returns the whole
/// message.
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

fn bench(c: &mut Criterion) {
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
    // The same ed25519 key published revoked: everything but the key
    // decoding and the signature check, to show what the crypto costs.
    zone.add_txt(
        &Name::new("revoked._domainkey.example.org").expect("name"),
        "v=DKIM1; k=ed25519; p=",
    );
    let config = VerifyConfig::default();
    let mut group = c.benchmark_group("dkim_verify");
    for (label, size) in [("4KiB", 4 * 1024), ("100KiB", 100 * 1024)] {
        let body = body(size);
        for (name, key, algorithm, selector) in [
            ("rsa2048-sha256", &rsa, Algorithm::RsaSha256, "rsa"),
            ("ed25519-sha256", &ed, Algorithm::Ed25519Sha256, "ed"),
        ] {
            let message = signed_message(key, algorithm, selector, &body);
            let check = |message: &[u8]| {
                let mut verifier = Verifier::new(&config, NOW);
                verifier.feed(message);
                mailauth::resolve(verifier.finish(), &zone)
            };
            let outcome = check(&message);
            assert_eq!(
                outcome.signatures[0].result,
                DkimResult::Pass,
                "{:?}",
                outcome.signatures[0].reason
            );
            group.throughput(Throughput::Bytes(message.len() as u64));
            group.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| black_box(check(black_box(&message))))
            });
            let uncached = VerifyConfig {
                key_cache: None,
                ..VerifyConfig::default()
            };
            group.bench_function(format!("{name}/{label}/uncached"), |b| {
                b.iter(|| {
                    let mut verifier = Verifier::new(&uncached, NOW);
                    verifier.feed(black_box(&message));
                    black_box(mailauth::resolve(verifier.finish(), &zone))
                })
            });
        }
        let message = signed_message(&ed, Algorithm::Ed25519Sha256, "revoked", &body);
        let check = |message: &[u8]| {
            let mut verifier = Verifier::new(&config, NOW);
            verifier.feed(message);
            mailauth::resolve(verifier.finish(), &zone)
        };
        assert_eq!(check(&message).signatures[0].result, DkimResult::PermError);
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_function(format!("without-crypto/{label}"), |b| {
            b.iter(|| black_box(check(black_box(&message))))
        });
    }
    // The floor: decoding the public key and checking the signature over
    // typical header data, nothing else (`crypto-only`), and the check alone
    // (`signature-check-only`).
    let header_data = b"from:Alice <alice@example.org>\r\nto:Bob <bob@example.net>\r\n\
subject:Quarterly figures\r\ndate:Tue, 14 Nov 2023 22:13:20 +0000\r\n\
message-id:<bench@example.org>\r\ndkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; \
d=example.org; s=rsa; t=1700000000; h=from:to:subject:date:message-id; \
bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=";
    for (name, key, algorithm) in [
        ("rsa2048-sha256", &rsa, Algorithm::RsaSha256),
        ("ed25519-sha256", &ed, Algorithm::Ed25519Sha256),
    ] {
        let signature = key.sign(algorithm, header_data).expect("sign");
        let der = key.public_key_der();
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}/crypto-only"), |b| {
            b.iter(|| {
                let public = PublicKey::from_record_data(algorithm.key_type(), black_box(&der))
                    .expect("key");
                public
                    .verify(algorithm, black_box(header_data), black_box(&signature))
                    .expect("valid")
            })
        });
        // The floor with the key decoded once, as the key cache keeps it:
        // the signature check alone (compare the cached cases with this).
        let public = PublicKey::from_record_data(algorithm.key_type(), &der).expect("key");
        group.bench_function(format!("{name}/signature-check-only"), |b| {
            b.iter(|| {
                public
                    .verify(algorithm, black_box(header_data), black_box(&signature))
                    .expect("valid")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
