//! Verifies one signed 4 KiB message many times: a steady workload for
//! instruction-count profiling.
//!
//! Run: `cargo run --release --example dkim_verify_loop -- [rsa|ed|revoked|canon-text|canon-prose] [iterations]`,
//! or under `valgrind --tool=callgrind` on the built binary
//! (`target/release/examples/dkim_verify_loop`).

use mailauth::dkim::{
    Algorithm, BodyCanonicalization, BodyHasher, HashAlgorithm, Verifier, VerifyConfig,
};
use std::hint::black_box;

// The bodies, keys and signed messages of the DKIM benches.
#[path = "../benches/messages/mod.rs"]
mod messages;
use messages::{Keys, NOW, prose_body, signed_message, text_body};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "rsa".to_owned());
    let iterations: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    if case.starts_with("canon") {
        let body = if case == "canon-text" {
            text_body(1024 * 1024)
        } else {
            prose_body(1024 * 1024)
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
    let Keys { rsa, ed, zone } = Keys::load();
    let body = prose_body(4096);
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
