//! Body canonicalization + hashing throughput (simple and relaxed, 1 MiB):
//! prose, text, base64 and whitespace-dense bodies.
//!
//! Run: `cargo bench --bench dkim_canon`.
//!
//! `sha256_only` is the reference: SHA-256 of the same bytes without
//! canonicalization; on a machine shared with other work, compare each case
//! with it rather than reading absolute figures.

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::dkim::{BodyCanonicalization, BodyHasher, HashAlgorithm};
use std::hint::black_box;

mod messages;
use messages::{prose_body, text_body, whitespace_dense_body};

const SIZE: usize = 1024 * 1024;

/// A base64 attachment: 76-character lines.
fn base64_body() -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body = Vec::with_capacity(SIZE + 128);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while body.len() < SIZE {
        for _ in 0..76 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body.push(alphabet[(state % 64) as usize]);
        }
        body.extend_from_slice(b"\r\n");
    }
    body.truncate(SIZE);
    body
}

fn bench(c: &mut Criterion) {
    cases(c, "dkim_body_hash_sha256");
}

fn cases<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(SIZE as u64));
    for (name, body) in [
        ("prose", prose_body(SIZE)),
        ("text", text_body(SIZE)),
        ("base64", base64_body()),
        ("whitespace-dense", whitespace_dense_body(SIZE)),
    ] {
        for canon in [BodyCanonicalization::Simple, BodyCanonicalization::Relaxed] {
            group.bench_function(format!("{}/{name}", canon.as_str()), |b| {
                b.iter(|| {
                    let mut hasher = BodyHasher::new(canon, HashAlgorithm::Sha256, None);
                    for chunk in body.chunks(64 * 1024) {
                        hasher.update(black_box(chunk));
                    }
                    black_box(hasher.finish())
                })
            });
        }
    }
    group.bench_function("sha256_only", |b| {
        let body = text_body(SIZE);
        b.iter(|| {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(black_box(&body)))
        })
    });
    // The same reference over the whitespace-dense bytes (SHA-256 speed does
    // not depend on the content; this shows it in the same run).
    group.bench_function("sha256_only/whitespace-dense", |b| {
        let body = whitespace_dense_body(SIZE);
        b.iter(|| {
            use sha2::Digest;
            black_box(sha2::Sha256::digest(black_box(&body)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
