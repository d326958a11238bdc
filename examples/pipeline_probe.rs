use mailauth::dns::ZoneResolver;
use mailauth::inbound::{Config, Connection, Inbound};
use std::time::Instant;
fn main() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data");
    let zone = ZoneResolver::from_zone_text(
        &std::fs::read_to_string(format!("{data}/example.zone")).unwrap(),
    )
    .unwrap();
    let message = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let connection = Connection::new(
        "192.0.2.25".parse().unwrap(),
        "mx1.example.org",
        "alice@example.org",
    );
    let config = Config::new("mx.example.com", 1_795_000_000);
    let n = 20000;
    let (mut t_new, mut t_feed, mut t_finish, mut t_resolve, mut t_field, mut t_drop) =
        (0u128, 0u128, 0u128, 0u128, 0u128, 0u128);
    for _ in 0..n {
        let a = Instant::now();
        let mut inbound = Inbound::new(&connection, &config);
        let b = Instant::now();
        inbound.feed(&message);
        let c = Instant::now();
        let check = inbound.finish();
        let d = Instant::now();
        let verdict = mailauth::resolve(check, &zone);
        let e = Instant::now();
        let f = verdict.header_field();
        let g = Instant::now();
        drop(f);
        drop(verdict);
        let h = Instant::now();
        t_new += (b - a).as_nanos();
        t_feed += (c - b).as_nanos();
        t_finish += (d - c).as_nanos();
        t_resolve += (e - d).as_nanos();
        t_field += (g - e).as_nanos();
        t_drop += (h - g).as_nanos();
    }
    let n = n as u128;
    println!(
        "new {} feed {} finish {} resolve {} field {} drop {}",
        t_new / n,
        t_feed / n,
        t_finish / n,
        t_resolve / n,
        t_field / n,
        t_drop / n
    );
}
