//! The report store on both backends: schema, counting, due periods,
//! claims, marking reported, pruning, and the recorder in front of it.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{BACKENDS, Backend, Place, TestVerdict};
use mailauth_store::{Connect, Entry, Period, Periods, Recorder, RecorderConfig, StoreError};

const DAY_START: u64 = 1_699_920_000; // 2023-11-14T00:00:00Z

fn day(n: u64) -> Period {
    Period {
        start: DAY_START + n * 86_400,
        end: DAY_START + (n + 1) * 86_400,
    }
}

fn entry(period: Period, domain: &str, key: &str, count: u64) -> Entry {
    Entry {
        period,
        policy_domain: domain.to_owned(),
        key: key.to_owned(),
        record: format!("{{\"key\":\"{key}\"}}"),
        policy: format!("{{\"domain\":\"{domain}\"}}"),
        count,
    }
}

#[test]
fn counts_add_up_per_period_domain_and_key() {
    for backend in BACKENDS {
        let place = Place::new(backend);
        let mut store = place.open();
        assert_eq!(store.schema_version().unwrap(), 1, "{backend:?}");
        store
            .record(&[
                entry(day(0), "example.com", "a", 2),
                entry(day(0), "example.com", "b", 1),
                entry(day(0), "example.org", "a", 5),
                entry(day(1), "example.com", "a", 7),
            ])
            .unwrap();
        store
            .record(&[entry(day(0), "example.com", "a", 3)])
            .unwrap();
        let stored = store.load(day(0).start, "example.com").unwrap().unwrap();
        assert_eq!(stored.period, day(0));
        assert_eq!(
            stored.rows,
            vec![
                ("{\"key\":\"a\"}".to_owned(), 5),
                ("{\"key\":\"b\"}".to_owned(), 1)
            ],
            "{backend:?}"
        );
        assert_eq!(stored.policy, "{\"domain\":\"example.com\"}");
        assert_eq!(store.load(day(0).start, "example.net").unwrap(), None);
        // Reopening keeps everything and migrates nothing again.
        drop(store);
        let mut store = place.open();
        assert_eq!(store.schema_version().unwrap(), 1);
        let stored = store.load(day(1).start, "example.com").unwrap().unwrap();
        assert_eq!(stored.rows, vec![("{\"key\":\"a\"}".to_owned(), 7)]);
    }
}

#[test]
fn a_period_is_due_once_ended_and_reported_once() {
    for backend in BACKENDS {
        let mut store = Place::new(backend).open();
        store
            .record(&[
                entry(day(0), "example.com", "a", 1),
                entry(day(0), "example.org", "a", 1),
                entry(day(1), "example.com", "a", 1),
            ])
            .unwrap();
        // Nothing is due before the first day ends.
        assert!(
            store
                .due(day(0).end - 1, day(0).end - 1)
                .unwrap()
                .is_empty()
        );
        let now = day(1).start + 10;
        let due = store.due(now, now).unwrap();
        let names: Vec<_> = due
            .iter()
            .map(|d| (d.period, d.policy_domain.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![(day(0), "example.com"), (day(0), "example.org")],
            "{backend:?}"
        );
        // One sender claims; a second cannot.
        assert!(store.claim(day(0).start, "example.com", now, 600).unwrap());
        assert!(!store.claim(day(0).start, "example.com", now, 600).unwrap());
        assert_eq!(store.due(now, now).unwrap().len(), 1);
        // The send failed: released, due again at the next run.
        store.release(day(0).start, "example.com").unwrap();
        assert_eq!(store.due(now, now).unwrap().len(), 2);
        // A claim whose lease ran out can be taken again.
        assert!(store.claim(day(0).start, "example.com", now, 600).unwrap());
        assert!(
            store
                .claim(day(0).start, "example.com", now + 601, 600)
                .unwrap()
        );
        assert!(
            store
                .mark_reported(day(0).start, "example.com", now)
                .unwrap()
        );
        assert!(
            !store
                .mark_reported(day(0).start, "example.com", now)
                .unwrap()
        );
        assert!(
            !store
                .claim(day(0).start, "example.com", now + 9999, 600)
                .unwrap()
        );
        let later = day(2).start;
        let due: Vec<_> = store
            .due(later, later)
            .unwrap()
            .into_iter()
            .map(|d| (d.period, d.policy_domain))
            .collect();
        assert_eq!(
            due,
            vec![
                (day(0), "example.org".to_owned()),
                (day(1), "example.com".to_owned())
            ],
            "{backend:?}"
        );
    }
}

#[test]
fn prune_deletes_ended_periods_and_their_rows() {
    for backend in BACKENDS {
        let mut store = Place::new(backend).open();
        store
            .record(&[
                entry(day(0), "example.com", "a", 1),
                entry(day(0), "example.com", "b", 1),
                entry(day(1), "example.com", "a", 1),
            ])
            .unwrap();
        assert_eq!(store.prune(day(1).start).unwrap(), 1, "{backend:?}");
        assert_eq!(store.load(day(0).start, "example.com").unwrap(), None);
        assert!(store.load(day(1).start, "example.com").unwrap().is_some());
        assert_eq!(store.prune(day(1).start).unwrap(), 0);
    }
}

#[test]
fn a_newer_schema_is_refused() {
    for backend in BACKENDS {
        let place = Place::new(backend);
        drop(place.open());
        match &place {
            Place::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).unwrap();
                connection
                    .execute("UPDATE mailauth_store_schema SET version = 99", [])
                    .unwrap();
            }
            Place::Postgres(connection) => {
                let mut client = postgres::Client::connect(connection, postgres::NoTls).unwrap();
                client
                    .execute("UPDATE mailauth_store_schema SET version = 99", &[])
                    .unwrap();
            }
        }
        let error = match &place {
            Place::Sqlite(path) => {
                mailauth_store::SqliteStore::open(path, Duration::from_secs(1)).err()
            }
            Place::Postgres(connection) => mailauth_store::PostgresStore::connect(connection).err(),
        };
        assert!(
            matches!(
                error,
                Some(StoreError::NewerSchema {
                    found: 99,
                    known: 1
                })
            ),
            "{backend:?}: {error:?}"
        );
    }
}

fn connect(place: &Place) -> Connect {
    let place = place.clone();
    Box::new(move || Ok(place.open()))
}

#[test]
fn the_recorder_aggregates_and_writes_batches() {
    for backend in BACKENDS {
        let place = Place::new(backend);
        let config = RecorderConfig {
            batch_size: 100,
            flush_interval: Duration::from_millis(50),
            ..RecorderConfig::default()
        };
        let recorder: Recorder<TestVerdict> = Recorder::start(connect(&place), config).unwrap();
        let time = DAY_START + 3600;
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let recorder = recorder.clone();
                std::thread::spawn(move || {
                    for i in 0..250 {
                        let result = if i % 5 == 0 { "fail" } else { "pass" };
                        let source = format!("192.0.2.{t}");
                        assert!(
                            recorder.record(TestVerdict::new("example.com", &source, result), time)
                        );
                    }
                    // No policy domain: nothing to report.
                    recorder.record(TestVerdict::new("", "192.0.2.9", "none"), time);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(recorder.flush(Duration::from_secs(30)), "{backend:?}");
        assert_eq!(recorder.written(), 1000);
        assert_eq!(recorder.lost(), 0);
        let stored = place
            .open()
            .load(DAY_START, "example.com")
            .unwrap()
            .unwrap();
        let total: u64 = stored.rows.iter().map(|(_, count)| count).sum();
        assert_eq!(total, 1000, "{backend:?}");
        assert_eq!(stored.rows.len(), 8, "4 sources x 2 results");
        assert!(stored.rows.iter().all(|(record, count)| {
            if record.contains("fail") {
                *count == 50
            } else {
                *count == 200
            }
        }));
    }
}

#[test]
fn a_store_that_is_down_drops_and_counts_then_recovers() {
    let place = Place::new(Backend::Sqlite);
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let connect: Connect = {
        let place = place.clone();
        let up = std::sync::Arc::clone(&up);
        Box::new(move || {
            if up.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(place.open())
            } else {
                Err(StoreError::Config("down for the test".to_owned()))
            }
        })
    };
    let config = RecorderConfig {
        queue_capacity: 10,
        batch_size: 5,
        flush_interval: Duration::from_millis(10),
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(20),
        ..RecorderConfig::default()
    };
    let recorder: Recorder<TestVerdict> = Recorder::start(connect, config).unwrap();
    let time = DAY_START;
    // The writer holds one batch (5) and the queue 10 more: at least the
    // rest of 100 quick records is dropped, and never does a record wait.
    let started = std::time::Instant::now();
    let accepted = (0..100)
        .filter(|_| recorder.record(TestVerdict::new("example.com", "192.0.2.1", "pass"), time))
        .count() as u64;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(accepted <= 16, "accepted {accepted}");
    assert_eq!(recorder.lost(), 100 - accepted);
    assert!(!recorder.flush(Duration::from_millis(100)));
    assert!(recorder.failures() > 0);
    // The store comes back: everything accepted is written.
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(recorder.flush(Duration::from_secs(30)));
    assert_eq!(recorder.written(), accepted);
    let stored = place
        .open()
        .load(DAY_START, "example.com")
        .unwrap()
        .unwrap();
    assert_eq!(stored.rows[0].1, accepted);
}

#[test]
fn verdicts_fall_into_their_periods() {
    let place = Place::new(Backend::Sqlite);
    let config = RecorderConfig {
        periods: Periods::new(3600).unwrap(),
        flush_interval: Duration::from_millis(10),
        ..RecorderConfig::default()
    };
    let recorder: Recorder<TestVerdict> = Recorder::start(connect(&place), config).unwrap();
    for time in [DAY_START, DAY_START + 3599, DAY_START + 3600] {
        recorder.record(TestVerdict::new("example.com", "192.0.2.1", "pass"), time);
    }
    assert!(recorder.flush(Duration::from_secs(30)));
    let mut store = place.open();
    let first = store.load(DAY_START, "example.com").unwrap().unwrap();
    assert_eq!(first.period.end, DAY_START + 3600);
    assert_eq!(first.rows[0].1, 2);
    let second = store
        .load(DAY_START + 3600, "example.com")
        .unwrap()
        .unwrap();
    assert_eq!(second.rows[0].1, 1);
}
