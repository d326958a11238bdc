//! Runs the inbound pipeline (SPF for HELO and MAIL FROM, DKIM, DMARC) on
//! the bundled passing message many times, against the bundled zone: a
//! steady workload for timing and instruction-count profiling.
//!
//! With `session` as second argument, each message goes through the MTA
//! session instead (HELO, MAIL FROM, RCPT, message, end of message, the
//! edits and the log line), to see what the session layer adds.
//!
//! Run: `cargo run --release --example inbound_loop -- [iterations] [session]`, or
//! under `valgrind --tool=callgrind` on the built binary
//! (`target/release/examples/inbound_loop`).

use std::hint::black_box;

use mailauth::dns::ZoneResolver;
use mailauth::inbound::{Config, Connection, Inbound};
use mailauth::session::{Client, Session, Settings};

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
    if std::env::args().nth(2).as_deref() == Some("session") {
        let settings = std::sync::Arc::new(
            Settings::from_toml(
                "authserv_id = \"mx.example.com\"\n",
                "inline",
                std::path::Path::new("."),
            )
            .expect("settings"),
        );
        let client = Client::new("192.0.2.25".parse().expect("an address"));
        let mut log = None;
        for _ in 0..iterations {
            let mut session = Session::new(settings.clone(), client.clone(), 1_795_000_000);
            session.helo("mx1.example.org");
            session.drive(&zone);
            session.mail_from("alice@example.org");
            session.drive(&zone);
            session.rcpt("bob@example.com");
            session.drive(&zone);
            session.message(black_box(MESSAGE));
            session.end_of_message();
            black_box(session.drive(&zone));
            black_box(session.edits());
            log = black_box(session.log_line());
        }
        let elapsed = start.elapsed();
        println!(
            "{iterations} transactions, {:.1} us each, {}",
            elapsed.as_secs_f64() * 1e6 / iterations as f64,
            log.unwrap_or_default()
        );
        return;
    }
    let mut disposition = None;
    for _ in 0..iterations {
        let mut inbound = Inbound::new(black_box(&connection), &config);
        inbound.feed(black_box(MESSAGE));
        let verdict = mailauth::resolve(inbound.finish(), &zone);
        // The field an MTA adds, as the session renders it.
        black_box(verdict.header_field());
        disposition = Some(black_box(verdict).disposition);
    }
    let elapsed = start.elapsed();
    println!(
        "{iterations} messages, {:.1} us each, disposition {:?}",
        elapsed.as_secs_f64() * 1e6 / iterations as f64,
        disposition
    );
}
