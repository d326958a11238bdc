//! Hostile input: each case gets the RFC's result, with work bounded by
//! construction (the counts of DNS queries are asserted, not the time).
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::net::IpAddr;

use mailauth::dns::{Answer, Name, Query, RecordData, Resolver, Txt, ZoneResolver};
use mailauth::spf::{self, Limit, Reason, SpfResult};
use proptest::prelude::*;

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A resolver that counts the queries it answers.
struct Counting<'a> {
    zone: &'a ZoneResolver,
    queries: Cell<usize>,
}

impl Resolver for Counting<'_> {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        self.queries.set(self.queries.get() + 1);
        self.zone.lookup_with_ttl(query)
    }
}

fn check_counted(zone: &ZoneResolver, client: &str, from: &str) -> (spf::Outcome, usize) {
    let counting = Counting {
        zone,
        queries: Cell::new(0),
    };
    let input = spf::Input::mail_from(ip(client), "mx.example.net", from);
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &counting);
    (outcome, counting.queries.get())
}

#[test]
fn ten_thousand_terms() {
    let mut zone = ZoneResolver::new();
    let mut record = String::from("v=spf1");
    for i in 0..9_999u32 {
        record.push_str(&format!(
            " ip4:10.{}.{}.{}",
            i >> 16,
            (i >> 8) & 0xff,
            i & 0xff
        ));
    }
    record.push_str(" -all");
    zone.add_txt(&n("big.example"), &record);
    let (outcome, queries) = check_counted(&zone, "10.0.39.14", "a@big.example");
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(queries, 1);
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "a@big.example");
    assert_eq!(outcome.result, SpfResult::Fail);
    assert!(
        matches!(outcome.reason, Reason::Matched { ref mechanism, .. } if &**mechanism == "-all")
    );

    // Ten thousand DNS-querying terms stop at the eleventh.
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("many.example"),
        format!("v=spf1{} -all", " a:host.example".repeat(10_000)),
    );
    zone.add(
        &n("host.example"),
        RecordData::A("198.51.100.1".parse().unwrap()),
    );
    let (outcome, queries) = check_counted(&zone, "192.0.2.1", "a@many.example");
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(outcome.reason, Reason::LimitExceeded(Limit::DnsMechanisms));
    assert_eq!(queries, 2, "one TXT, then the same A query answered once");
}

#[test]
fn macro_expanding_to_ten_kilobytes() {
    let mut zone = ZoneResolver::new();
    // Each %{l} expands to the 1000-octet local-part: 10 KB per domain-spec
    // before §7.3 truncation to 253 octets.
    let local = ["abcdefghi"; 100].join(".");
    zone.add_txt(
        &n("macro.example"),
        format!(
            "v=spf1 exists:{}.example -all exp=why.example",
            "%{l}".repeat(10)
        ),
    );
    zone.add_txt(&n("why.example"), "%{s}".repeat(10_000));
    let (outcome, queries) = check_counted(&zone, "192.0.2.1", &format!("{local}@macro.example"));
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(queries, 3, "TXT, the truncated exists name, the exp TXT");
    // The explanation is cut at the configured length.
    let explanation = outcome.explanation.unwrap();
    assert_eq!(
        explanation.len(),
        spf::Config::default().max_explanation_len
    );
    assert!(explanation.starts_with(&format!("{local}@macro.example")));
}

#[test]
fn exists_name_is_truncated_from_the_left() {
    let mut zone = ZoneResolver::new();
    let local = ["abcdefghi"; 100].join(".");
    zone.add_txt(&n("macro.example"), "v=spf1 exists:%{l}%{l}.example -all");
    // The rightmost labels that fit in 253 octets.
    let full = format!("{local}{local}.example");
    let cut = full.len() - 253;
    let start = full[cut - 1..].find('.').unwrap() + cut;
    let kept = &full[start..];
    assert!(kept.len() <= 253);
    zone.add(&n(kept), RecordData::A("127.0.0.2".parse().unwrap()));
    let (outcome, _) = check_counted(&zone, "192.0.2.1", &format!("{local}@macro.example"));
    assert_eq!(outcome.result, SpfResult::Pass);
}

#[test]
fn cname_loop() {
    let mut zone = ZoneResolver::new();
    zone.add(&n("loop.example"), RecordData::Cname(n("loop2.example")));
    zone.add(&n("loop2.example"), RecordData::Cname(n("loop.example")));
    zone.add_txt(&n("inc.example"), "v=spf1 include:loop.example -all");
    zone.add_txt(&n("a.example"), "v=spf1 a:loop.example -all");
    // The resolver answers a loop as a temporary failure: temperror (§4.4,
    // §5.2).
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@loop.example");
    assert_eq!(outcome.result, SpfResult::TempError);
    assert!(matches!(outcome.reason, Reason::DnsFailure { .. }));
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@inc.example");
    assert_eq!(outcome.result, SpfResult::TempError);
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@a.example");
    assert_eq!(outcome.result, SpfResult::TempError);
}

#[test]
fn non_utf8_txt() {
    let mut zone = ZoneResolver::new();
    zone.add(
        &n("bytes.example"),
        RecordData::Txt(Txt::new(vec![
            b"v=spf1 ip4:192.0.2.1 \xff\xfe -all".to_vec(),
        ])),
    );
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@bytes.example");
    assert_eq!(outcome.result, SpfResult::PermError);
    assert!(matches!(
        outcome.reason,
        Reason::Syntax {
            error: spf::RecordError::NonAscii,
            ..
        }
    ));
    // A non-SPF TXT record of any bytes beside a good one is ignored.
    let mut zone = ZoneResolver::new();
    zone.add(
        &n("mixed.example"),
        RecordData::Txt(Txt::new(vec![vec![0xff, 0x00, 0x80]])),
    );
    zone.add_txt(&n("mixed.example"), "v=spf1 ip4:192.0.2.1 -all");
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@mixed.example");
    assert_eq!(outcome.result, SpfResult::Pass);
}

#[test]
fn ipv6_client_against_ipv4_only_record() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("v4.example"), "v=spf1 ip4:0.0.0.0/0 a mx -all");
    zone.add(
        &n("v4.example"),
        RecordData::A("192.0.2.1".parse().unwrap()),
    );
    let (outcome, _) = check_counted(&zone, "2001:db8::1", "x@v4.example");
    assert_eq!(outcome.result, SpfResult::Fail);
    // An IPv4-mapped IPv6 client is matched as IPv4 (RFC 7208 §5).
    let (outcome, _) = check_counted(&zone, "::ffff:192.0.2.77", "x@v4.example");
    assert_eq!(outcome.result, SpfResult::Pass);
}

#[test]
fn include_chains_and_loops() {
    let mut zone = ZoneResolver::new();
    for i in 0..20 {
        zone.add_txt(
            &n(&format!("c{i}.example")),
            format!("v=spf1 include:c{}.example -all", i + 1),
        );
    }
    zone.add_txt(&n("self.example"), "v=spf1 include:self.example -all");
    zone.add_txt(&n("ping.example"), "v=spf1 include:pong.example");
    zone.add_txt(&n("pong.example"), "v=spf1 include:ping.example");
    zone.add_txt(&n("redir.example"), "v=spf1 redirect=redir.example");
    for domain in [
        "c0.example",
        "self.example",
        "ping.example",
        "redir.example",
    ] {
        let (outcome, queries) = check_counted(&zone, "192.0.2.1", &format!("x@{domain}"));
        assert_eq!(outcome.result, SpfResult::PermError, "{domain}");
        assert_eq!(outcome.reason, Reason::LimitExceeded(Limit::DnsMechanisms));
        assert!(queries <= 11, "{domain}: {queries} queries");
    }
    // A chain within the limit works.
    let (outcome, _) = check_counted(&zone, "192.0.2.1", "x@c15.example");
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(
        outcome.reason,
        Reason::IncludeNoRecord {
            domain: n("c20.example")
        }
    );
}

#[test]
fn void_lookup_storm() {
    let mut zone = ZoneResolver::new();
    let terms: String = (0..50).map(|i| format!(" exists:nx{i}.example")).collect();
    zone.add_txt(&n("void.example"), format!("v=spf1{terms} -all"));
    let (outcome, queries) = check_counted(&zone, "192.0.2.1", "x@void.example");
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(outcome.reason, Reason::LimitExceeded(Limit::VoidLookups));
    assert_eq!(queries, 4, "the record, then three void lookups");
}

#[test]
fn mx_and_ptr_name_limits() {
    let mut zone = ZoneResolver::new();
    for i in 0..200u16 {
        zone.add(
            &n("mxs.example"),
            RecordData::Mx(mailauth::dns::Mx {
                preference: i,
                exchange: n(&format!("mx{i}.example")),
            }),
        );
        zone.add(
            &n("1.2.0.192.in-addr.arpa"),
            RecordData::Ptr(n(&format!("h{i}.ptr.example"))),
        );
    }
    zone.add_txt(&n("mxs.example"), "v=spf1 mx -all");
    zone.add_txt(&n("ptr.example"), "v=spf1 ptr -all");
    let (outcome, queries) = check_counted(&zone, "192.0.2.1", "x@mxs.example");
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(outcome.reason, Reason::LimitExceeded(Limit::MxNames));
    assert_eq!(queries, 2);
    let (outcome, queries) = check_counted(&zone, "192.0.2.1", "x@ptr.example");
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(queries, 2 + 10, "TXT, PTR, then the first ten names only");
}

fn check_record(record: &[u8]) -> spf::Outcome {
    let mut zone = ZoneResolver::new();
    zone.add(
        &n("fuzz.example"),
        RecordData::Txt(Txt::new(vec![record.to_vec()])),
    );
    zone.add(
        &n("fuzz.example"),
        RecordData::A("192.0.2.1".parse().unwrap()),
    );
    let input = spf::Input::mail_from(ip("192.0.2.1"), "mx.example.net", "x@fuzz.example");
    mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(7208), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = spf::Record::parse(&bytes, 1000);
        let mut record = b"v=spf1 ".to_vec();
        record.extend_from_slice(&bytes);
        let _ = spf::Record::parse(&record, 1000);
        let _ = check_record(&record);
    }

    #[test]
    fn spf_like_text_never_panics(
        terms in proptest::collection::vec(
            "[-+~?]?(all|a|mx|ptr|ip4|ip6|include|exists|exp|redirect|x)([:=/][%{}a-zA-Z0-9./:_=-]{0,20})?",
            0..12,
        )
    ) {
        let record = format!("v=spf1 {}", terms.join(" "));
        let outcome = check_record(record.as_bytes());
        prop_assert!(outcome.received_spf("mx.example.org").is_ascii());
    }

    #[test]
    fn hostile_identities_render_safely(
        helo in "\\PC{0,40}[\r\n]?\\PC{0,10}",
        from in "[\\x00-\\x7f]{0,60}",
    ) {
        let zone = ZoneResolver::new();
        let input = spf::Input::mail_from(ip("192.0.2.1"), &helo, &from);
        let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
        let field = outcome.received_spf("mx.example.org");
        prop_assert!(!field.replace("\r\n\t", "").contains(['\r', '\n']));
        let mut ar = mailauth::authres::AuthenticationResults::new("mx.example.org");
        ar.results.push(outcome.to_method_result());
        let field = ar.to_header_field();
        // Authentication-Results also folds inside a long quoted value, before
        // one of its spaces.
        prop_assert!(!field.replace("\r\n\t", "").replace("\r\n ", "").contains(['\r', '\n']));
    }
}
