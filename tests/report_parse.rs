//! The aggregate reports of tests/data/dmarc-reports (real receivers'
//! shapes, from parsedmarc's samples) read into the model. The expected
//! figures are parsedmarc 11.1.0's (`parsedmarc --offline FILE`): records,
//! the sum of the counts, and the rows from an IPv6 source (none of these
//! files has one; tests/report_roundtrip.rs covers IPv6 sources).
//!
//! One deliberate difference: parsedmarc repairs `invalid_xml.xml` (an
//! unescaped `<` in `<email>`) and reads one record from it; this crate
//! refuses malformed XML with `XmlError::Syntax` rather than guess.

use std::path::Path;

use mailauth::report::read::{ReadError, ReadLimits, read_aggregate};
use mailauth::report::xml::XmlError;

/// File, then `Ok((reports, records, messages, ipv6 rows, policy domain))`
/// or the error expected.
type Expected = Result<(usize, usize, u64, usize, &'static str), fn(&ReadError) -> bool>;

fn cases() -> Vec<(&'static str, Expected)> {
    vec![
        (
            "!example.com!1538204542!1538463818.xml",
            Ok((1, 1, 1, 0, "example.com")),
        ),
        (
            "!large-example.com!1711897200!1711983600.xml",
            Ok((1, 2286, 2286, 0, "example.com")),
        ),
        (
            "Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml",
            Ok((1, 1, 1, 0, "borschow.com")),
        ),
        (
            "addisonfoods.com!example.com!1536105600!1536191999.xml",
            Ok((1, 1, 1, 0, "example.com")),
        ),
        ("empty_reason.xml", Ok((1, 1, 2, 0, "example.com"))),
        (
            "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip",
            Ok((1, 1, 1, 0, "example.com")),
        ),
        (
            "example.net!example.com!1529366400!1529452799.xml",
            Ok((1, 1, 1, 0, "example.com")),
        ),
        (
            "ikea.com!example.de!1538690400!1538776800.xml",
            Ok((1, 1, 1, 0, "example.de")),
        ),
        (
            "invalid_xml.xml",
            Err(|e| matches!(e, ReadError::Xml(XmlError::Syntax { .. }))),
        ),
        ("old_draft_from_wiki.xml", Ok((1, 1, 2, 0, "example.com"))),
        (
            "rfc9990-example.net!example.com!1700000000!1700086399.xml",
            Ok((1, 2, 7, 0, "example.com")),
        ),
        ("rfc9990-sample.xml", Ok((1, 1, 123, 0, "example.com"))),
        ("twilight.eml", Ok((1, 1, 1, 0, "twlnet.com"))),
        (
            "usssa.com!example.com!1538784000!1538870399.xml",
            Ok((1, 2, 2, 0, "example.com")),
        ),
        (
            "veeam.com!example.com!1530133200!1530219600.xml",
            Ok((1, 1, 1, 0, "example.com")),
        ),
    ]
}

#[test]
fn vendored_aggregate_reports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dmarc-reports/aggregate");
    let cases = cases();
    let mut listed: Vec<String> = cases.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    assert_eq!(listed, present, "every vendored file has an expectation");
    let mut passed = 0;
    let mut failures = Vec::new();
    for (file, expected) in &cases {
        let data = std::fs::read(dir.join(file)).unwrap();
        let got = read_aggregate(&data, &ReadLimits::default());
        let ok = match (&got, expected) {
            (Ok(reports), Ok((n, records, messages, ipv6, domain))) => {
                let all: Vec<_> = reports.iter().flat_map(|r| &r.records).collect();
                let figures = (
                    reports.len(),
                    all.len(),
                    all.iter().map(|r| r.row.count).sum::<u64>(),
                    all.iter().filter(|r| r.row.source_ip.is_ipv6()).count(),
                    reports[0].policy_published.domain.as_str(),
                );
                println!("{file}: {figures:?}");
                figures == (*n, *records, *messages, *ipv6, *domain)
            }
            (Err(e), Err(check)) => {
                println!("{file}: refused: {e}");
                check(e)
            }
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("{file}: {:?}", got.as_ref().map(|r| r.len())));
        }
    }
    println!("aggregate reports: {passed}/{} as expected", cases.len());
    assert!(failures.is_empty(), "{failures:#?}");
}
