//! DMARC discovery and evaluation over an in-memory resolver:
//! `cargo bench --bench dmarc`.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(_c: &mut Criterion) {}

criterion_group!(benches, bench);
criterion_main!(benches);
