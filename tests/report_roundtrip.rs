//! Aggregate reports end to end: verdicts -> Feedback -> XML (both forms)
//! -> parsed -> the same records; rendered reports valid against the RFC
//! 9990 schema (xmllint); the report e-mail read back; the reading limits.

use std::io::Write as _;
use std::net::IpAddr;
use std::process::Command;

use mailauth::report::aggregate::{Aggregator, DkimResult, PublishedPolicy, SpfResult, SpfScope};
use mailauth::report::deliver::{Destination, EmailParams, filename, gzip, report_email};
use mailauth::report::read::{ReadError, ReadLimits, read_aggregate};
use mailauth::report::xml::{XmlError, XmlForm, XmlLimits};
use mailauth::report::{
    AlignedResult, DateRange, Disposition, DkimAuthResult, Feedback, PolicyOverride,
    PolicyOverrideReason, PolicyPublished, ReportMetadata, SpfAuthResult, Verdict,
};
use proptest::prelude::*;

fn policy() -> PolicyPublished {
    let mut p = PolicyPublished::new("example.com", PublishedPolicy::Reject);
    p.subdomain_policy = Some(PublishedPolicy::Quarantine);
    p.nonexistent_subdomain_policy = Some(PublishedPolicy::Reject);
    p.testing = Some(false);
    p.failure_options = Some("1:d".into());
    p.discovery_method = Some(mailauth::report::aggregate::DiscoveryMethod::TreeWalk);
    p
}

fn metadata() -> ReportMetadata {
    let mut m = ReportMetadata::new(
        "Example Receiver",
        "dmarc-reports@example.net",
        "r-1700000000-1",
        DateRange {
            begin: 1_700_000_000,
            end: 1_700_086_399,
        },
    );
    m.generator = Some("mailauth".into());
    m
}

const IPS: [&str; 6] = [
    "192.0.2.1",
    "192.0.2.77",
    "198.51.100.9",
    "2001:db8::1",
    "2001:db8:0:1::25",
    "::ffff:203.0.113.5",
];

fn verdict_strategy() -> impl Strategy<Value = Verdict> {
    (
        0usize..IPS.len(),
        prop_oneof![Just("example.com"), Just("sub.example.com")],
        prop::option::of(prop_oneof![
            Just("example.com"),
            Just("bounce.example.org"),
            Just("")
        ]),
        prop::option::of(Just("example.net")),
        prop::collection::vec((0usize..3, 0usize..3, 0usize..4), 0..3),
        prop::option::of((0usize..2, 0usize..5)),
        any::<(bool, bool)>(),
        0usize..3,
        prop::option::of(0usize..3),
        0u64..86_400,
    )
        .prop_map(
            |(
                ip,
                from,
                envelope_from,
                envelope_to,
                dkim,
                spf,
                aligned,
                disposition,
                reason,
                time,
            )| {
                let mut v = Verdict::new(
                    1_700_000_000 + time,
                    IPS[ip].parse().expect("address"),
                    from,
                    policy(),
                );
                v.envelope_from = envelope_from.map(str::to_owned);
                v.envelope_to = envelope_to.map(str::to_owned);
                let domains = ["example.com", "esp.example", "other.example"];
                let selectors = [Some("s1".to_owned()), Some("2024a".to_owned()), None];
                let results = [
                    DkimResult::Pass,
                    DkimResult::Fail,
                    DkimResult::PermError,
                    DkimResult::TempError,
                ];
                v.dkim = dkim
                    .into_iter()
                    .map(|(d, s, r)| {
                        DkimAuthResult::new(domains[d], selectors[s].clone(), results[r].clone())
                    })
                    .collect();
                let spf_results = [
                    SpfResult::Pass,
                    SpfResult::Fail,
                    SpfResult::SoftFail,
                    SpfResult::None,
                    SpfResult::TempError,
                ];
                v.spf = spf
                    .map(|(d, r)| {
                        SpfAuthResult::new(
                            domains[d],
                            Some(SpfScope::MailFrom),
                            spf_results[r].clone(),
                        )
                    })
                    .into_iter()
                    .collect();
                v.dkim_aligned = if aligned.0 {
                    AlignedResult::Pass
                } else {
                    AlignedResult::Fail
                };
                v.spf_aligned = if aligned.1 {
                    AlignedResult::Pass
                } else {
                    AlignedResult::Fail
                };
                v.disposition = [
                    Disposition::None,
                    Disposition::Quarantine,
                    Disposition::Reject,
                ][disposition]
                    .clone();
                let kinds = [
                    PolicyOverride::LocalPolicy,
                    PolicyOverride::MailingList,
                    PolicyOverride::TrustedForwarder,
                ];
                v.reasons = reason
                    .map(|k| PolicyOverrideReason::new(kinds[k].clone()))
                    .into_iter()
                    .collect();
                v
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn verdicts_to_xml_and_back(verdicts in prop::collection::vec(verdict_strategy(), 1..60)) {
        let feedback = Feedback::from_verdicts(metadata(), &verdicts).expect("a report");
        prop_assert_eq!(feedback.message_count(), verdicts.len() as u64);
        let mut aggregator = Aggregator::new();
        verdicts.iter().for_each(|v| aggregator.add(v));
        prop_assert_eq!(aggregator.len(), feedback.records.len());

        let xml = feedback.to_xml(XmlForm::Rfc9990);
        let parsed = Feedback::from_xml(xml.as_bytes(), &XmlLimits::default()).expect("parse");
        prop_assert_eq!(&parsed, &feedback);

        let old = feedback.to_xml(XmlForm::Rfc7489);
        let parsed = Feedback::from_xml(old.as_bytes(), &XmlLimits::default()).expect("parse");
        prop_assert_eq!(parsed.records.len(), feedback.records.len());
        prop_assert_eq!(parsed.message_count(), verdicts.len() as u64);
        let ipv6 = |f: &Feedback| f.records.iter().filter(|r| r.row.source_ip.is_ipv6()).map(|r| r.row.count).sum::<u64>();
        prop_assert_eq!(ipv6(&parsed), verdicts.iter().filter(|v| v.source_ip.is_ipv6()).count() as u64);
        for (a, b) in parsed.records.iter().zip(&feedback.records) {
            prop_assert_eq!(&a.row, &b.row);
            prop_assert_eq!(&a.identifiers, &b.identifiers);
            prop_assert_eq!(&a.auth_results.dkim, &b.auth_results.dkim);
        }
    }
}

/// Runs xmllint --schema on `xml`; `Ok(())` when valid, else its output.
fn xmllint(xml: &str) -> Result<(), String> {
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/dmarc-schema/rfc9990.xsd"
    );
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(xml.as_bytes()).expect("write");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", schema])
        .arg(file.path())
        .output()
        .expect("xmllint (Debian libxml2-utils, installed by scripts/setup.sh)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn shapes() -> Vec<(&'static str, Feedback)> {
    let ip = |s: &str| -> IpAddr { s.parse().expect("address") };
    let mut minimal_policy = PolicyPublished::new("example.org", PublishedPolicy::None);
    minimal_policy.percent = Some(50);
    let mut minimal = Verdict::new(
        1_700_000_100,
        ip("192.0.2.1"),
        "example.org",
        minimal_policy,
    );
    minimal.spf.clear();
    let mut full = Verdict::new(1_700_000_200, ip("2001:db8::25"), "example.com", policy());
    full.envelope_from = Some("bounce.example.com".into());
    full.envelope_to = Some("example.net".into());
    full.dkim = vec![
        DkimAuthResult::new("example.com", Some("s1".into()), DkimResult::Pass),
        DkimAuthResult::new("esp.example", None, DkimResult::Fail),
    ];
    full.dkim[1].human_result = Some("body hash <mismatch> & \"more\"".into());
    full.spf = vec![
        SpfAuthResult::new(
            "bounce.example.com",
            Some(SpfScope::MailFrom),
            SpfResult::SoftFail,
        ),
        SpfAuthResult::new("mx.example.com", Some(SpfScope::Helo), SpfResult::Pass),
    ];
    full.dkim_aligned = AlignedResult::Pass;
    full.disposition = Disposition::Pass;
    let mut test_mode = full.clone();
    test_mode.disposition = Disposition::None;
    test_mode.reasons = vec![
        PolicyOverrideReason::new(PolicyOverride::PolicyTestMode),
        PolicyOverrideReason::new(PolicyOverride::SampledOut),
        PolicyOverrideReason::new(PolicyOverride::Forwarded),
    ];
    let mut helo_only = Verdict::new(1_700_000_300, ip("198.51.100.3"), "example.com", policy());
    helo_only.spf = vec![SpfAuthResult::new(
        "mx.example.org",
        Some(SpfScope::Helo),
        SpfResult::Pass,
    )];
    helo_only.envelope_from = Some(String::new());
    let mut meta = metadata();
    meta.extra_contact_info = Some("https://example.net/dmarc".into());
    meta.errors = vec!["record had an unknown tag".into(), "second error".into()];
    meta.org_name = "Control \u{1} & <chars>".into();
    vec![
        (
            "minimal",
            Feedback::from_verdicts(metadata(), &[minimal]).expect("report"),
        ),
        (
            "full",
            Feedback::from_verdicts(meta.clone(), &[full.clone(), full]).expect("report"),
        ),
        (
            "reasons",
            Feedback::from_verdicts(meta, &[test_mode]).expect("report"),
        ),
        (
            "helo only",
            Feedback::from_verdicts(metadata(), &[helo_only]).expect("report"),
        ),
    ]
}

#[test]
fn rendered_reports_validate_against_the_rfc9990_schema() {
    let mut valid = 0;
    for (name, feedback) in shapes() {
        let xml = feedback.to_xml(XmlForm::Rfc9990);
        xmllint(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        valid += 1;
        // The RFC 7489 form reads back with the same counts.
        let old = Feedback::from_xml(
            feedback.to_xml(XmlForm::Rfc7489).as_bytes(),
            &XmlLimits::default(),
        )
        .expect("7489 form parses");
        assert_eq!(old.message_count(), feedback.message_count());
    }
    // The check can fail: a report without <p> is not valid.
    let broken = shapes()[0]
        .1
        .to_xml(XmlForm::Rfc9990)
        .replace("<p>none</p>", "");
    assert!(xmllint(&broken).is_err());
    println!("schema-valid report shapes: {valid}/{}", shapes().len());
}

#[test]
fn report_email_reads_back() {
    let (_, feedback) = shapes().remove(1);
    let params = EmailParams {
        from: "dmarc-reports@example.net".into(),
        to: vec!["rua@example.com".into()],
        receiver: "example.net".into(),
        message_id: "r-1700000000-1@example.net".into(),
        date: "Wed, 15 Nov 2023 22:13:19 +0000".into(),
        boundary: "=_mailauth_report".into(),
        unique_id: Some("1".into()),
        form: XmlForm::Rfc9990,
    };
    let (email, size) = report_email(&feedback, &params).expect("e-mail");
    let text = String::from_utf8(email.clone()).expect("ascii");
    assert!(text.lines().all(|l| l.len() <= 78), "folded to 78 columns");
    let text = text.replace("\r\n ", " ");
    assert!(text.contains(
        "Subject: Report Domain: example.com Submitter: example.net Report-ID: <r-1700000000-1>"
    ));
    assert!(text.contains("filename=\"example.net!example.com!1700000000!1700086399!1.xml.gz\""));
    assert!(text.contains("Message-ID: <r-1700000000-1@example.net>"));
    let read = read_aggregate(&email, &ReadLimits::default()).expect("read back");
    // The RFC 9990 form carries one <error> and one SPF result (of
    // scope mfrom), and no control characters: the rest is as built.
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].metadata.org_name, "Control \u{fffd} & <chars>");
    assert_eq!(
        read[0].metadata.errors,
        ["record had an unknown tag; second error"]
    );
    assert_eq!(read[0].policy_published, feedback.policy_published);
    assert_eq!(read[0].records.len(), 1);
    assert_eq!(read[0].records[0].row, feedback.records[0].row);
    assert_eq!(
        read[0].records[0].identifiers,
        feedback.records[0].identifiers
    );
    assert_eq!(
        read[0].records[0].auth_results.dkim,
        feedback.records[0].auth_results.dkim
    );
    assert_eq!(
        read[0].records[0].auth_results.spf,
        feedback.records[0].auth_results.spf[..1]
    );
    assert!(
        Destination::parse("mailto:rua@example.com!10m")
            .expect("uri")
            .accepts(size)
    );
    assert!(
        !Destination::parse("mailto:rua@example.com!100")
            .expect("uri")
            .accepts(size)
    );
    assert_eq!(
        filename("example.net", &feedback, None, false),
        "example.net!example.com!1700000000!1700086399.xml"
    );
    let mut bad = params;
    bad.date = "today\r\nBcc: x@example.org".into();
    assert!(report_email(&feedback, &bad).is_err());
}

fn one_report() -> String {
    shapes()[0].1.to_xml(XmlForm::Rfc9990)
}

#[test]
fn limits_and_hostile_input() {
    let limits = ReadLimits::default();
    // gzip and a stored zip read back.
    let xml = one_report();
    assert_eq!(
        read_aggregate(&gzip(xml.as_bytes()), &limits)
            .expect("gzip")
            .len(),
        1
    );
    // A decompression bomb: 20 MB of spaces in a few kilobytes.
    let mut bomb = xml.clone().into_bytes();
    bomb.extend(std::iter::repeat_n(b' ', 20 << 20));
    let bomb = gzip(&bomb);
    assert!(matches!(
        read_aggregate(&bomb, &limits),
        Err(ReadError::RatioExceeded { limit: 400 })
    ));
    let mut small = limits;
    small.max_decompressed_bytes = 200;
    assert!(matches!(
        read_aggregate(&gzip(xml.as_bytes()), &small),
        Err(ReadError::DecompressedTooLarge { limit: 200 })
    ));
    // Truncated gzip.
    let gz = gzip(xml.as_bytes());
    assert!(matches!(
        read_aggregate(&gz[..gz.len() / 2], &limits),
        Err(ReadError::Decompression(_))
    ));
    // Entities: DOCTYPE refused (the billion laughs never expand).
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><feedback><report_metadata><org_name>&lol2;</org_name></report_metadata></feedback>";
    assert_eq!(
        read_aggregate(laughs.as_bytes(), &limits),
        Err(ReadError::Xml(XmlError::DoctypeRefused))
    );
    let undeclared = xml.replace("<org_name>Example Receiver", "<org_name>&ext;");
    assert!(matches!(
        read_aggregate(undeclared.as_bytes(), &limits),
        Err(ReadError::Xml(XmlError::UnknownEntity { .. }))
    ));
    let escaped = xml.replace("<org_name>Example Receiver", "<org_name>A &amp; B &#x263A;");
    let read = read_aggregate(escaped.as_bytes(), &limits).expect("predefined entities");
    assert_eq!(read[0].metadata.org_name, "A & B \u{263a}");
    // Depth, size and record count.
    let deep = format!(
        "<feedback>{}{}</feedback>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    assert_eq!(
        read_aggregate(deep.as_bytes(), &limits),
        Err(ReadError::Xml(XmlError::TooDeep { limit: 16 }))
    );
    let mut tight = limits;
    tight.xml.max_records = 0;
    assert_eq!(
        read_aggregate(xml.as_bytes(), &tight),
        Err(ReadError::Xml(XmlError::TooManyRecords { limit: 0 }))
    );
    let wrapped = format!(
        "<wrapper>{}",
        xml.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
    );
    assert_eq!(
        read_aggregate(wrapped.as_bytes(), &tight),
        Err(ReadError::Xml(XmlError::TooManyRecords { limit: 0 }))
    );
    assert_eq!(
        read_aggregate(wrapped.as_bytes(), &limits)
            .expect("wrapped")
            .len(),
        1
    );
    tight.xml.max_bytes = 100;
    assert_eq!(
        read_aggregate(xml.as_bytes(), &tight),
        Err(ReadError::Xml(XmlError::TooLarge { limit: 100 }))
    );
    // Not a report at all, a truncated document, another root, a bad address.
    assert_eq!(
        read_aggregate(b"\xff\xfe\x00junk", &limits),
        Err(ReadError::NoReport)
    );
    assert!(matches!(
        read_aggregate(&xml.as_bytes()[..xml.len() / 2], &limits),
        Err(ReadError::Xml(
            XmlError::Truncated | XmlError::Syntax { .. }
        ))
    ));
    let cut = xml.find("<record>").expect("a record");
    assert_eq!(
        read_aggregate(&xml.as_bytes()[..cut], &limits),
        Err(ReadError::Xml(XmlError::Truncated))
    );
    assert!(matches!(
        read_aggregate(b"<html><body/></html>", &limits),
        Err(ReadError::Xml(XmlError::NotAReport { .. }))
    ));
    let bad_ip = xml.replace(
        "<source_ip>192.0.2.1</source_ip>",
        "<source_ip>192.0.2.300</source_ip>",
    );
    assert!(matches!(
        read_aggregate(bad_ip.as_bytes(), &limits),
        Err(ReadError::Xml(XmlError::BadValue {
            element: "source_ip",
            ..
        }))
    ));
    // Namespace prefixes are read too.
    let prefixed = xml
        .replace("<feedback xmlns=", "<d:feedback xmlns:d=")
        .replace("</feedback>", "</d:feedback>");
    assert_eq!(
        read_aggregate(prefixed.as_bytes(), &limits)
            .expect("prefixed")
            .len(),
        1
    );
}
