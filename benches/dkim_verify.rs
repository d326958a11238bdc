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

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::dkim::{Algorithm, DkimResult, PublicKey, Verifier, VerifyConfig};
use std::hint::black_box;

mod messages;
use messages::{Keys, NOW, prose_body, signed_message};

fn bench(c: &mut Criterion) {
    let Keys { rsa, ed, zone } = Keys::load();
    let config = VerifyConfig::default();
    let mut group = c.benchmark_group("dkim_verify");
    for (label, size) in [("4KiB", 4 * 1024), ("100KiB", 100 * 1024)] {
        let body = prose_body(size);
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
