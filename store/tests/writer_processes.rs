//! Two writer processes record into one store at once, on each backend:
//! every verdict of both is counted.
//!
//! This binary is its own child: run with `MAILAUTH_STORE_WRITER=PLACE`
//! it records verdicts into PLACE and exits; otherwise it is the test.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, ExitCode};
use std::time::Duration;

use common::{BACKENDS, Place, TestVerdict};
use mailauth_store::{Connect, Recorder, RecorderConfig};

const PER_WRITER: u64 = 20_000;
const TIME: u64 = 1_699_920_000;

fn child(place: &str, writer: &str) -> ExitCode {
    let place = Place::parse(place);
    let connect: Connect = Box::new(move || Ok(place.open()));
    let config = RecorderConfig {
        batch_size: 500,
        flush_interval: Duration::from_millis(20),
        ..RecorderConfig::default()
    };
    let recorder: Recorder<TestVerdict> = Recorder::start(connect, config).expect("writer");
    let mut accepted = 0;
    for i in 0..PER_WRITER {
        // Both writers hit the same keys (the upsert race) and some of
        // their own.
        let source = format!("192.0.2.{}", i % 7);
        let result = if i % 3 == 0 { writer } else { "pass" };
        while !recorder.record(TestVerdict::new("example.com", &source, result), TIME) {
            // The queue is full: this test wants every verdict in, so it
            // waits (an MTA would not).
            std::thread::sleep(Duration::from_millis(1));
        }
        accepted += 1;
    }
    if !recorder.flush(Duration::from_secs(120)) || recorder.written() != accepted {
        eprintln!(
            "writer {writer}: {} of {accepted} written",
            recorder.written()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Ok(place) = std::env::var("MAILAUTH_STORE_WRITER") {
        let writer = std::env::var("MAILAUTH_STORE_WRITER_NAME").unwrap_or_default();
        return child(&place, &writer);
    }
    let exe = std::env::current_exe().expect("this test's path");
    let (mut passed, mut failed) = (0, 0);
    for backend in BACKENDS {
        let place = Place::new(backend);
        // The schema exists before the writers start, as the MTA's opening
        // of the store would make it; the writers still race to connect.
        drop(place.open());
        let children: Vec<_> = ["a", "b"]
            .iter()
            .map(|name| {
                Command::new(&exe)
                    .env("MAILAUTH_STORE_WRITER", place.describe())
                    .env("MAILAUTH_STORE_WRITER_NAME", name)
                    .spawn()
                    .expect("start a writer")
            })
            .collect();
        let mut ok = true;
        for mut child in children {
            ok &= child.wait().expect("writer status").success();
        }
        let stored = place
            .open()
            .load(TIME, "example.com")
            .expect("load")
            .expect("a period");
        let total: u64 = stored.rows.iter().map(|(_, count)| count).sum();
        let own_a = stored
            .rows
            .iter()
            .filter(|(record, _)| record.contains("\"result\":\"a\""))
            .map(|(_, count)| count)
            .sum::<u64>();
        let expected_own = PER_WRITER.div_ceil(3);
        if ok && total == 2 * PER_WRITER && own_a == expected_own {
            println!("{backend:?}: two writer processes, {total} verdicts counted ... ok");
            passed += 1;
        } else {
            println!(
                "{backend:?}: FAILED: writers ok {ok}, counted {total} of {}, writer a's own {own_a} of {expected_own}",
                2 * PER_WRITER
            );
            failed += 1;
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
