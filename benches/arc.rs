//! ARC per message: validation of a 3-hop chain on a 4 KiB message and
//! sealing it once more, each beside DKIM verification and signing of the
//! same message, rsa-2048 and ed25519, over the in-memory resolver.
//!
//! Validation of n sets checks n seals and the newest message signature
//! (n + 1 signature checks); with `Config::oldest_pass` (the default) the
//! n - 1 older message signatures too (2n checks). The `n+1` cases turn
//! `oldest_pass` off.
//!
//! Run: `cargo bench --bench arc`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::arc::{self, ArcResult, SealOptions, SealOutcome, Sealer, Validator};
use mailauth::dkim::sign::{SignOptions, Signer};
use mailauth::dkim::{Algorithm, DkimResult, SigningKey, Verifier, VerifyConfig};

mod messages;
use messages::{Keys, NOW, prose_body, signed_message};

fn key(file: &str) -> Arc<SigningKey> {
    let path = format!("{}/tests/data/keys/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Arc::new(SigningKey::from_pem(&pem).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn bench(c: &mut Criterion) {
    let Keys { rsa, ed, zone } = Keys::load();
    let body = prose_body(4 * 1024);
    let mut group = c.benchmark_group("arc");
    for (name, dkim_key, arc_key, algorithm, selector) in [
        (
            "rsa2048-sha256",
            &rsa,
            key("rsa2048.pkcs8.pem"),
            Algorithm::RsaSha256,
            "rsa",
        ),
        (
            "ed25519-sha256",
            &ed,
            key("ed25519.pkcs8.pem"),
            Algorithm::Ed25519Sha256,
            "ed",
        ),
    ] {
        let sealer = Sealer::new(
            "example.org",
            selector,
            arc_key.clone(),
            "mx.example.org",
            SealOptions::default(),
        )
        .expect("sealer");
        let validate = |message: &[u8], config: &arc::Config| {
            let mut validator = Validator::new(config);
            validator.feed(message);
            mailauth::resolve(validator.finish(), &zone)
        };
        // The default: n + 1 signature checks for n sets.
        let config = arc::Config::default();
        // A DKIM-signed message sealed by three hops.
        let mut message = signed_message(dkim_key, algorithm, selector, &body);
        for hop in 0..3u64 {
            let chain = validate(&message, &config);
            let results = [chain.to_method_result()];
            let SealOutcome::Sealed(set) = sealer
                .seal(&message, NOW + hop, &chain, &results)
                .expect("seal")
            else {
                panic!("not sealed");
            };
            message = [set.to_header_lines().as_bytes(), &message].concat();
        }
        let chain = validate(&message, &config);
        assert_eq!(chain.result, ArcResult::Pass, "{:?}", chain.reason);
        assert_eq!((chain.sets, chain.oldest_pass), (3, None));
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_function(format!("validate-3-sets-n+1/{name}/4KiB"), |b| {
            b.iter(|| black_box(validate(black_box(&message), &config)))
        });
        // With header.oldest-pass: 2n checks.
        let oldest_pass = arc::Config {
            oldest_pass: true,
            ..arc::Config::default()
        };
        assert_eq!(validate(&message, &oldest_pass).oldest_pass, Some(0));
        group.bench_function(format!("validate-3-sets-oldest-pass/{name}/4KiB"), |b| {
            b.iter(|| black_box(validate(black_box(&message), &oldest_pass)))
        });
        let dkim_config = VerifyConfig::default();
        let verify = |message: &[u8]| {
            let mut verifier = Verifier::new(&dkim_config, NOW);
            verifier.feed(message);
            mailauth::resolve(verifier.finish(), &zone)
        };
        assert_eq!(verify(&message).signatures[0].result, DkimResult::Pass);
        group.bench_function(format!("dkim-verify/{name}/4KiB"), |b| {
            b.iter(|| black_box(verify(black_box(&message))))
        });
        let results = [chain.to_method_result()];
        group.bench_function(format!("seal-4th-set/{name}/4KiB"), |b| {
            b.iter(|| black_box(sealer.seal(black_box(&message), NOW, &chain, &results)))
        });
        let signer = Signer::new(
            "example.org",
            selector,
            arc_key.clone(),
            SignOptions::default(),
        )
        .expect("signer");
        group.bench_function(format!("dkim-sign/{name}/4KiB"), |b| {
            b.iter(|| black_box(signer.sign(black_box(&message), NOW)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
