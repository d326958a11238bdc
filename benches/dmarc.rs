//! DMARC discovery and evaluation over an in-memory resolver:
//! `cargo bench --bench dmarc`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mailauth::dkim::verify::DkimResult;
use mailauth::dmarc::{self, Config, Discovery, DkimAuth, Sample, SpfAuth};
use mailauth::dns::{Name, ZoneResolver};
use mailauth::message::HeaderField;
use mailauth::spf::SpfResult;

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn zone() -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("_dmarc.example.com"),
        "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com; adkim=r; aspf=r",
    );
    zone.add_txt(&n("_dmarc.com"), "v=DMARC1; p=none; psd=y");
    zone.add_txt(&n("example.com"), "v=spf1 -all");
    zone.add_name(&n("news.example.com"));
    zone
}

/// The SPF and DKIM results evaluated (an SPF pass for a bounce address,
/// DKIM passes for an ESP and for the author's domain), and their domains.
fn results() -> (SpfAuth, [DkimAuth; 2], [Name; 3]) {
    let spf = SpfAuth {
        domain: n("bounce.example.com"),
        result: SpfResult::Pass,
    };
    let dkim = [
        DkimAuth {
            domain: n("esp.example.net"),
            result: DkimResult::Pass,
        },
        DkimAuth {
            domain: n("example.com"),
            result: DkimResult::Pass,
        },
    ];
    let ids = [
        spf.domain.clone(),
        dkim[0].domain.clone(),
        dkim[1].domain.clone(),
    ];
    (spf, dkim, ids)
}

/// From field to Outcome: author domain, discovery with the SPF and DKIM
/// identifiers, evaluation, Authentication-Results entry.
fn check(zone: &ZoneResolver, from: &HeaderField, config: &Config) -> dmarc::Outcome {
    let author = dmarc::author_domain(std::slice::from_ref(from)).unwrap();
    let (spf, dkim, ids) = results();
    let lookup = mailauth::resolve(Discovery::with_identifiers(&author, &ids, config), zone);
    let outcome = dmarc::evaluate(&lookup, Some(&spf), &dkim, config, Sample::new(50).unwrap());
    black_box(outcome.to_method_result());
    outcome
}

fn bench(c: &mut Criterion) {
    let zone = zone();
    let from = HeaderField::from_raw(b"From: \"News, Example\" <news@news.example.com>".to_vec());
    let bis = Config::default();
    let old = Config::rfc7489();
    assert_eq!(check(&zone, &from, &bis).result, dmarc::DmarcResult::Pass);
    assert_eq!(check(&zone, &from, &old).result, dmarc::DmarcResult::Pass);

    c.bench_function("dmarc rfc9989 from+discovery+evaluate", |b| {
        b.iter(|| check(&zone, black_box(&from), &bis))
    });
    c.bench_function("dmarc rfc7489 from+discovery+evaluate (psl)", |b| {
        b.iter(|| check(&zone, black_box(&from), &old))
    });
    let deep = {
        let labels: Vec<String> = (0..20).map(|i| format!("l{i}")).collect();
        n(&format!("{}.example.com", labels.join(".")))
    };
    c.bench_function("dmarc rfc9989 discovery, 22-label author", |b| {
        b.iter(|| mailauth::resolve(Discovery::new(black_box(&deep), &bis), &zone))
    });
    c.bench_function("dmarc author_domain", |b| {
        b.iter(|| dmarc::author_domain(std::slice::from_ref(black_box(&from))))
    });

    // Evaluation alone, given the policy lookup and the SPF and DKIM
    // results; and the parsing of the policy record alone.
    let author = dmarc::author_domain(std::slice::from_ref(&from)).unwrap();
    let (spf, dkim, ids) = results();
    let lookup = mailauth::resolve(Discovery::with_identifiers(&author, &ids, &bis), &zone);
    c.bench_function("dmarc evaluate (given lookup, spf, dkim)", |b| {
        b.iter(|| {
            dmarc::evaluate(
                black_box(&lookup),
                Some(&spf),
                &dkim,
                &bis,
                Sample::new(50).unwrap(),
            )
        })
    });
    let uncached = Config {
        record_cache: None,
        ..Config::default()
    };
    c.bench_function(
        "dmarc rfc9989 from+discovery+evaluate (records parsed each time)",
        |b| b.iter(|| check(&zone, black_box(&from), &uncached)),
    );
    let record =
        b"v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com; adkim=r; aspf=r";
    c.bench_function("dmarc parse record", |b| {
        b.iter(|| dmarc::Record::parse(black_box(record), &bis).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
