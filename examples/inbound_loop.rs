//! Runs the inbound pipeline (SPF for HELO and MAIL FROM, DKIM, DMARC) on
//! the bundled passing message many times, against the bundled zone: a
//! steady workload for timing and instruction-count profiling.
//!
//! Run: `cargo run --release --example inbound_loop -- [iterations]`, or
//! under `valgrind --tool=callgrind` on the built binary
//! (`target/release/examples/inbound_loop`).

use std::hint::black_box;

use mailauth::dns::ZoneResolver;
use mailauth::inbound::{Config, Connection, Inbound};

const ZONE: &str = include_str!("data/example.zone");
const MESSAGE: &[u8] = include_bytes!("data/pass.eml");

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let zone = ZoneResolver::from_zone_text(ZONE).expect("the bundled zone loads");
    let connection = Connection::new(
        "192.0.2.25".parse().expect("an address"),
        "mx1.example.org",
        "alice@example.org",
    );
    let config = Config::new("mx.example.com", 1_795_000_000);
    let start = std::time::Instant::now();
    let mut disposition = None;
    for _ in 0..iterations {
        let mut inbound = Inbound::new(black_box(&connection), &config);
        inbound.feed(black_box(MESSAGE));
        let verdict = mailauth::resolve(inbound.finish(), &zone);
        disposition = Some(black_box(verdict).disposition);
    }
    let elapsed = start.elapsed();
    println!(
        "{iterations} messages, {:.1} us each, disposition {:?}",
        elapsed.as_secs_f64() * 1e6 / iterations as f64,
        disposition
    );
}
