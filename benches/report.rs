//! Aggregate reports of 100,000 rows: grouping verdicts, rendering the
//! XML, gzip, and reading it back: `cargo bench --bench report`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::report::aggregate::{DkimResult, PublishedPolicy, SpfResult, SpfScope};
use mailauth::report::deliver::gzip;
use mailauth::report::read::{ReadLimits, read_aggregate};
use mailauth::report::xml::{XmlForm, XmlLimits};
use mailauth::report::{
    AlignedResult, DateRange, DkimAuthResult, Feedback, PolicyPublished, ReportMetadata,
    SpfAuthResult, Verdict,
};

const ROWS: u32 = 100_000;

/// One verdict per distinct source: 100,000 distinct records.
fn verdicts() -> Vec<Verdict> {
    (0..ROWS)
        .map(|i| {
            let ip = if i % 4 == 0 {
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0,
                    0,
                    0,
                    0,
                    (i >> 16) as u16,
                    i as u16,
                ))
            } else {
                IpAddr::V4(Ipv4Addr::from(0xc000_0000 | i))
            };
            let mut v = Verdict::new(
                1_700_000_000 + u64::from(i % 86_400),
                ip,
                "example.com",
                PolicyPublished::new("example.com", PublishedPolicy::Reject),
            );
            v.envelope_from = Some("bounce.example.com".into());
            v.dkim = vec![DkimAuthResult::new(
                "example.com",
                Some("s2024".into()),
                if i % 3 == 0 {
                    DkimResult::Fail
                } else {
                    DkimResult::Pass
                },
            )];
            v.spf = vec![SpfAuthResult::new(
                "bounce.example.com",
                Some(SpfScope::MailFrom),
                SpfResult::Pass,
            )];
            v.dkim_aligned = if i % 3 == 0 {
                AlignedResult::Fail
            } else {
                AlignedResult::Pass
            };
            v.spf_aligned = AlignedResult::Pass;
            v
        })
        .collect()
}

fn metadata() -> ReportMetadata {
    ReportMetadata::new(
        "Example Receiver",
        "dmarc@example.net",
        "bench-1",
        DateRange {
            begin: 1_700_000_000,
            end: 1_700_086_399,
        },
    )
}

fn bench(c: &mut Criterion) {
    let verdicts = verdicts();
    let feedback = Feedback::from_verdicts(metadata(), &verdicts).unwrap();
    assert_eq!(feedback.records.len(), ROWS as usize);
    let xml = feedback.to_xml(XmlForm::Rfc9990);
    let compressed = gzip(xml.as_bytes());
    let mut limits = XmlLimits::default();
    limits.max_records = ROWS as usize;

    let mut group = c.benchmark_group("report_100k_rows");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(ROWS)));
    group.bench_function("group_verdicts", |b| {
        b.iter(|| Feedback::from_verdicts(metadata(), black_box(&verdicts)).unwrap())
    });
    group.bench_function("render_xml", |b| {
        b.iter(|| black_box(&feedback).to_xml(XmlForm::Rfc9990))
    });
    group.bench_function("render_xml_gzip", |b| {
        b.iter(|| gzip(black_box(&feedback).to_xml(XmlForm::Rfc9990).as_bytes()))
    });
    group.bench_function("parse_xml", |b| {
        b.iter(|| Feedback::from_xml(black_box(xml.as_bytes()), &limits).unwrap())
    });
    group.bench_function("read_gzip", |b| {
        b.iter(|| read_aggregate(black_box(&compressed), &ReadLimits::default()).unwrap())
    });
    group.finish();
    println!(
        "100,000 rows: XML {} bytes, gzip {} bytes",
        xml.len(),
        compressed.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
