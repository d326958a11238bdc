//! Recording verdicts: the cost of `Recorder::record` on the mail path,
//! and the writer's throughput into each backend (1 000 000 verdicts,
//! 200 aggregation keys over 20 policy domains, default batch size).
//!
//! PostgreSQL: the server of `MAILAUTH_TEST_PG`, else a private one started
//! through scripts/pg-test-server.sh. Peak memory: run under
//! `/usr/bin/time -v` (see store/README.md for the figures).

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Backend, Place};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth_store::{Connect, Recordable, Recorder, RecorderConfig};

const VERDICTS: u64 = 1_000_000;
const TIME: u64 = 1_699_920_000;

fn verdicts() -> Vec<common::TestVerdict> {
    (0..200)
        .map(|i| {
            common::TestVerdict::new(
                &format!("example{}.com", i % 20),
                &format!("192.0.2.{}", i % 50),
                if i % 4 == 0 { "fail" } else { "pass" },
            )
        })
        .collect()
}

fn start<V: Recordable>(place: &Place, queue_capacity: usize) -> Recorder<V> {
    let place = place.clone();
    let connect: Connect = Box::new(move || Ok(place.open()));
    let config = RecorderConfig {
        queue_capacity,
        ..RecorderConfig::default()
    };
    Recorder::start(connect, config).expect("recorder")
}

fn bench(c: &mut Criterion) {
    let samples = verdicts();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let name = format!("{backend:?}").to_lowercase();
        let place = Place::new(backend);

        // The mail path: one record call (a clone of the verdict and a
        // try_send), with a writer draining behind it at its own pace.
        let mut group = c.benchmark_group("record_call");
        let recorder = start(&place, 100_000);
        let mut i = 0usize;
        group.bench_function(&name, |b| {
            b.iter(|| {
                i = (i + 1) % samples.len();
                black_box(recorder.record(samples[i].clone(), TIME))
            });
        });
        group.finish();
        drop(recorder);

        // The writer: 1 M verdicts queued, then written; timed until the
        // last one is in the store.
        let mut group = c.benchmark_group("writer_1m");
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(20));
        group.throughput(Throughput::Elements(VERDICTS));
        group.bench_function(&name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let recorder = start(&place, VERDICTS as usize + 1);
                    let started = Instant::now();
                    for n in 0..VERDICTS as usize {
                        recorder.record(samples[n % samples.len()].clone(), TIME);
                    }
                    assert!(recorder.flush(Duration::from_secs(600)));
                    total += started.elapsed();
                    assert_eq!(recorder.lost(), 0);
                }
                total
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
