//! Recording verdicts: the cost of `Store::record` on the mail path, and
//! the writer's throughput into each backend (1 000 000 verdicts, 200
//! aggregation keys over 20 policy domains, default batch size). The
//! verdicts are the core's `report::Verdict`s of real sessions.
//!
//! PostgreSQL: the server of `MAILAUTH_TEST_PG`, else a private one started
//! through scripts/pg-test-server.sh. Peak memory: run under
//! `/usr/bin/time -v` (see store/README.md for the figures).

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Backend, Place};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::dns::ZoneResolver;
use mailauth::report::Verdict;
use mailauth::session::{Client, Session, Settings};
use mailauth_store::{Connect, RecorderConfig, Store};

const VERDICTS: u64 = 1_000_000;
const TIME: u64 = 1_699_920_000;

/// 200 verdicts of distinct keys: 20 policy domains, 10 sources each (a
/// quarter of them outside the domain's SPF record: DMARC fails).
fn verdicts() -> Vec<Verdict> {
    let mut zone = String::from("$ORIGIN example.\n");
    for d in 0..20 {
        zone.push_str(&format!(
            "d{d} 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
             _dmarc.d{d} 300 IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc@d{d}.example\"\n"
        ));
    }
    let zone = ZoneResolver::from_zone_text(&zone).expect("zone");
    let settings = Arc::new(
        Settings::from_toml(
            "authserv_id = \"mx.example.net\"\ninternal_hosts = []\n\
             [spf]\nmail_from_reject = \"false\"\n",
            "bench",
            std::path::Path::new("."),
        )
        .expect("settings"),
    );
    (0..200u64)
        .map(|i| {
            let domain = format!("d{}.example", i % 20);
            let ip = if i % 4 == 0 {
                format!("203.0.113.{}", i / 20)
            } else {
                format!("192.0.2.{}", i / 20)
            };
            let client = Client::new(ip.parse().expect("ip"));
            let mut session = Session::new(settings.clone(), client, TIME + i);
            session.helo("mx.sender.example");
            session.drive(&zone);
            session.mail_from(&format!("alice@{domain}"));
            session.drive(&zone);
            session.rcpt("bob@example.net");
            session.drive(&zone);
            let message = format!("From: <alice@{domain}>\r\nSubject: x\r\n\r\nhi\r\n");
            session.message(message.as_bytes());
            session.end_of_message();
            session.drive(&zone);
            session.report_verdict().expect("a verdict")
        })
        .collect()
}

fn start(place: &Place, queue_capacity: usize) -> Store {
    let place = place.clone();
    let connect: Connect = Box::new(move || Ok(place.open()));
    let config = RecorderConfig {
        queue_capacity,
        ..RecorderConfig::default()
    };
    Store::with(connect, config).expect("store")
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
                black_box(recorder.record(samples[i].clone()))
            });
        });
        group.finish();
        recorder.close();

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
                        recorder.record(samples[n % samples.len()].clone());
                    }
                    assert!(recorder.flush(Duration::from_secs(600)));
                    total += started.elapsed();
                    assert_eq!(recorder.lost(), 0);
                    recorder.close();
                }
                total
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
