//! DKIM signing per message: 4 KiB and 100 KiB messages, rsa-2048 and
//! ed25519, relaxed/relaxed, default header list; and a 4 KiB message with
//! a whitespace-dense body.
//!
//! Run: `cargo bench --bench dkim_sign` (aws-lc backend) and
//! `cargo bench --bench dkim_sign --no-default-features --features pure-rust`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mailauth::dkim::crypto::{BACKEND, SigningKey};
use mailauth::dkim::sign::{SignOptions, Signer};

mod messages;
use messages::whitespace_dense_body;

const HEADER: &[u8] = b"From: Joe SixPack <joe@example.com>\r\nTo: Suzie Q <suzie@example.net>\r\n\
Subject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n\
Message-ID: <20030712040037.46341.5F8J@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n";

fn message(size: usize) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    let line = b"We lost the game.  Are you hungry yet?  The quick brown fox jumps over \r\n";
    while out.len() + line.len() <= size {
        out.extend_from_slice(line);
    }
    out
}

/// The header above and a whitespace-dense body, `size` octets in all.
fn whitespace_dense_message(size: usize) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    out.extend(whitespace_dense_body(size - HEADER.len()));
    out
}

fn key(file: &str) -> Arc<SigningKey> {
    let path = format!("{}/tests/data/keys/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Arc::new(SigningKey::from_pem(&pem).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("dkim_sign/{BACKEND}"));
    for (name, file) in [
        ("rsa-2048", "rsa2048.pkcs8.pem"),
        ("ed25519", "ed25519.pkcs8.pem"),
    ] {
        let signer = Signer::new("example.com", "sel", key(file), SignOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        for (size_name, message) in [
            ("4KiB", message(4 * 1024)),
            ("100KiB", message(100 * 1024)),
            ("4KiB-whitespace-dense", whitespace_dense_message(4 * 1024)),
        ] {
            group.throughput(Throughput::Bytes(message.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, size_name), &message, |b, m| {
                b.iter(|| {
                    signer
                        .sign(black_box(m), 1_700_000_000)
                        .map(|f| f.value().len())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
