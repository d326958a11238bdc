//! SPF evaluation over an in-memory resolver: `cargo bench --bench spf`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use mailauth::dns::{Mx, Name, RecordData, ZoneResolver};
use mailauth::spf;

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// A realistic policy: an include of a mail provider, the domain's own
/// addresses and MX hosts, and a few networks.
fn zone() -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("example.com"),
        "v=spf1 include:_spf.provider.example a mx ip4:198.51.100.0/24 \
         ip4:203.0.113.0/25 ip6:2001:db8:100::/48 -all",
    );
    zone.add(
        &n("example.com"),
        RecordData::A("192.0.2.80".parse().unwrap()),
    );
    for (i, host) in ["mx1.example.com", "mx2.example.com"].iter().enumerate() {
        zone.add(
            &n("example.com"),
            RecordData::Mx(Mx {
                preference: 10 * i as u16,
                exchange: n(host),
            }),
        );
        zone.add(
            &n(host),
            RecordData::A(format!("192.0.2.{}", 25 + i).parse().unwrap()),
        );
    }
    zone.add_txt(
        &n("_spf.provider.example"),
        "v=spf1 ip4:209.85.128.0/17 ip4:64.233.160.0/19 ip4:66.102.0.0/20 \
         ip6:2607:f8b0:4000::/36 ~all",
    );
    zone
}

fn input(ip: &str) -> spf::Input {
    let ip: IpAddr = ip.parse().unwrap();
    spf::Input::mail_from(ip, "mail.example.com", "alice@example.com")
}

fn check(zone: &ZoneResolver, input: &spf::Input, config: &spf::Config) -> spf::Outcome {
    mailauth::resolve(spf::Check::new(input, config), zone)
}

/// Each evaluation with the records kept parsed (the default, a record
/// cache shared by the process) and, beside the first two, with every
/// record parsed again (`record_cache: None`); and the parsing of the two
/// records of the include chain alone. `pass_include` is a pass through
/// the include; `fail_with_explanation` a fail after include, a and mx
/// (two hosts), with the default explanation.
fn bench(c: &mut Criterion) {
    let zone = zone();
    let cached = spf::Config::default();
    let mut uncached = spf::Config::default();
    uncached.record_cache = None;
    let mut group = c.benchmark_group("spf");
    for (label, ip, result) in [
        ("pass_include", "209.85.200.1", spf::SpfResult::Pass),
        ("pass_mx", "192.0.2.26", spf::SpfResult::Pass),
        (
            "pass_ip4_after_dns_terms",
            "198.51.100.7",
            spf::SpfResult::Pass,
        ),
        ("fail_with_explanation", "192.0.2.200", spf::SpfResult::Fail),
    ] {
        let input = input(ip);
        assert_eq!(check(&zone, &input, &cached).result, result, "{label}");
        assert_eq!(check(&zone, &input, &uncached).result, result, "{label}");
        group.bench_function(label, |b| {
            b.iter(|| check(black_box(&zone), black_box(&input), &cached))
        });
        if matches!(label, "pass_include" | "fail_with_explanation") {
            group.bench_function(format!("{label} (records parsed each time)"), |b| {
                b.iter(|| check(black_box(&zone), black_box(&input), &uncached))
            });
        }
    }
    let records = [
        "v=spf1 include:_spf.provider.example a mx ip4:198.51.100.0/24 \
         ip4:203.0.113.0/25 ip6:2001:db8:100::/48 -all",
        "v=spf1 ip4:209.85.128.0/17 ip4:64.233.160.0/19 ip4:66.102.0.0/20 \
         ip6:2607:f8b0:4000::/36 ~all",
    ];
    group.bench_function("parse the two records", |b| {
        b.iter(|| {
            for text in records {
                black_box(spf::Record::parse(black_box(text.as_bytes()), 32_768).unwrap());
            }
        })
    });
    group.finish();
}

/// Mail from more domains than the record cache holds: every evaluation
/// meets a record the cache does not hold, parses it and, the cache being
/// full, puts out another. Beside it the same evaluations with no cache
/// (every record parsed, nothing kept) and with a cache large enough to
/// hold them all (every record found): what the cache itself costs when it
/// is full and churning is the first row less the second.
fn full_cache(c: &mut Criterion) {
    const DOMAINS: usize = 2_000;
    let mut zone = ZoneResolver::new();
    let mut inputs = Vec::with_capacity(DOMAINS);
    for i in 0..DOMAINS {
        let domain = format!("d{i}.example");
        zone.add_txt(
            &n(&domain),
            format!(
                "v=spf1 ip4:10.{}.{}.0/24 ip6:2001:db8:{i:x}::/48 -all",
                i / 256,
                i % 256
            ),
        );
        let ip: IpAddr = format!("10.{}.{}.1", i / 256, i % 256).parse().unwrap();
        inputs.push(spf::Input::mail_from(
            ip,
            "mail.example",
            &format!("alice@{domain}"),
        ));
    }
    let mut group = c.benchmark_group("spf record cache");
    for (label, cache) in [
        (
            "full, every record new",
            Some(spf::RecordCache::new(DOMAINS / 2)),
        ),
        ("none, every record parsed", None),
        (
            "holding every record",
            Some(spf::RecordCache::new(DOMAINS * 2)),
        ),
    ] {
        let mut config = spf::Config::default();
        config.record_cache = cache;
        for input in &inputs {
            assert_eq!(check(&zone, input, &config).result, spf::SpfResult::Pass);
        }
        let mut next = inputs.iter().cycle();
        group.bench_function(label, |b| {
            b.iter(|| check(black_box(&zone), next.next().unwrap(), &config))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, full_cache);
criterion_main!(benches);
