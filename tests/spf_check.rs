//! The SPF machine through the sans-IO seam: batching, answer order,
//! identities, outcome fields and the header fields it renders.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use mailauth::dns::{Mx, Name, Query, RecordData, RecordType, Resolver, ZoneResolver};
use mailauth::spf::{self, Identity, Reason, SpfResult};
use mailauth::{Machine, Poll};

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn zone() -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("example.com"),
        "v=spf1 ip4:198.51.100.0/24 mx include:_spf.partner.example -all exp=why.example.com",
    );
    zone.add_txt(&n("why.example.com"), "%{i} may not send for %{d} (%{h})");
    for (i, host) in ["mx1.example.com", "mx2.example.com", "mx3.example.com"]
        .iter()
        .enumerate()
    {
        zone.add(
            &n("example.com"),
            RecordData::Mx(Mx {
                preference: i as u16 * 10,
                exchange: n(host),
            }),
        );
        zone.add(
            &n(host),
            RecordData::A(format!("192.0.2.{}", i + 1).parse().unwrap()),
        );
    }
    zone.add_txt(&n("_spf.partner.example"), "v=spf1 ip6:2001:db8::/32 ~all");
    zone
}

/// Drives a check answering each batch in reverse order; returns the
/// outcome and the batches asked.
fn drive_reversed(input: &spf::Input, zone: &ZoneResolver) -> (spf::Outcome, Vec<Vec<Query>>) {
    let mut check = spf::Check::new(input, &spf::Config::default());
    let mut batches = Vec::new();
    loop {
        match check.poll() {
            Poll::Done(outcome) => return (outcome, batches),
            Poll::Lookups(queries) => {
                assert!(!queries.is_empty());
                // Polling again before answering returns the same queries.
                assert_eq!(check.poll(), Poll::Lookups(queries.clone()));
                for query in queries.iter().rev() {
                    check.supply(query, zone.lookup(query)).unwrap();
                }
                batches.push(queries);
            }
        }
    }
}

#[test]
fn mx_addresses_are_asked_together() {
    let input = spf::Input::mail_from(ip("192.0.2.3"), "mx3.example.com", "alice@example.com");
    let (outcome, batches) = drive_reversed(&input, &zone());
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(
        outcome.reason,
        Reason::Matched {
            mechanism: "mx".into(),
            domain: n("example.com")
        }
    );
    assert_eq!(batches.len(), 3, "{batches:?}");
    assert_eq!(batches[0], vec![Query::txt(n("example.com"))]);
    assert_eq!(
        batches[1],
        vec![Query::new(n("example.com"), RecordType::Mx)]
    );
    let mut third: Vec<String> = batches[2].iter().map(ToString::to_string).collect();
    third.sort();
    assert_eq!(
        third,
        [
            "mx1.example.com A",
            "mx2.example.com A",
            "mx3.example.com A"
        ]
    );
}

#[test]
fn any_answer_order_gives_the_same_outcome() {
    let zone = zone();
    for client in ["192.0.2.2", "2001:db8::5", "203.0.113.9", "198.51.100.7"] {
        let input = spf::Input::mail_from(ip(client), "h.example.net", "bob@example.com");
        let forward = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
        let (reversed, _) = drive_reversed(&input, &zone);
        assert_eq!(forward, reversed, "{client}");
    }
}

#[test]
fn unexpected_answers_are_refused() {
    let zone = zone();
    let input = spf::Input::mail_from(ip("192.0.2.3"), "h.example.net", "alice@example.com");
    let mut check = spf::Check::new(&input, &spf::Config::default());
    let stranger = Query::txt(n("other.example"));
    assert!(check.supply(&stranger, zone.lookup(&stranger)).is_err());
    let Poll::Lookups(queries) = check.poll() else {
        panic!("expected lookups");
    };
    check.supply(&queries[0], zone.lookup(&queries[0])).unwrap();
    // Answered already.
    assert!(check.supply(&queries[0], zone.lookup(&queries[0])).is_err());
}

/// The outcome's domain is the sender's as written, a trailing dot kept.
#[test]
fn outcome_domain_as_written() {
    let zone = zone();
    for (sender, domain) in [
        ("bob@example.com", "example.com"),
        ("bob@example.com.", "example.com."),
        ("bob@Example.COM", "Example.COM"),
    ] {
        let input = spf::Input::mail_from(ip("203.0.113.9"), "h.example.net", sender);
        let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
        assert_eq!(outcome.result, SpfResult::Fail, "{sender}");
        assert_eq!(outcome.domain, domain);
    }
}

#[test]
fn fail_carries_the_expanded_explanation() {
    let input = spf::Input::mail_from(ip("203.0.113.9"), "h.example.net", "bob@example.com");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone());
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(
        outcome.explanation.as_deref(),
        Some("203.0.113.9 may not send for example.com (h.example.net)")
    );
    assert_eq!(outcome.identity, Identity::MailFrom);
    assert_eq!(outcome.domain, "example.com");
    assert_eq!(outcome.sender, "bob@example.com");

    // Without exp=, the default explanation (a macro string) is used.
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("plain.example"), "v=spf1 -all");
    let input = spf::Input::mail_from(ip("203.0.113.9"), "h.example.net", "bob@plain.example");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
    assert_eq!(
        outcome.explanation.as_deref(),
        Some("203.0.113.9 is not one of plain.example's designated mail senders")
    );
}

#[test]
fn include_softfail_and_ipv6() {
    let zone = zone();
    let input = spf::Input::mail_from(ip("2001:db8::5"), "h.example.net", "bob@example.com");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(
        outcome.reason,
        Reason::Matched {
            mechanism: "include:_spf.partner.example".into(),
            domain: n("example.com")
        }
    );
}

#[test]
fn identities() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("mail.example.org"), "v=spf1 a -all");
    zone.add(
        &n("mail.example.org"),
        RecordData::A("192.0.2.9".parse().unwrap()),
    );
    let config = spf::Config::default();

    let helo = spf::Input::helo(ip("192.0.2.9"), "mail.example.org");
    let outcome = mailauth::resolve(spf::Check::new(&helo, &config), &zone);
    assert_eq!(outcome.result, SpfResult::Pass);
    assert_eq!(outcome.identity, Identity::Helo);
    assert_eq!(outcome.sender, "postmaster@mail.example.org");

    // An empty MAIL FROM checks postmaster@helo (§2.4).
    let bounce = spf::Input::mail_from(ip("192.0.2.10"), "mail.example.org", "<>");
    let outcome = mailauth::resolve(spf::Check::new(&bounce, &config), &zone);
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(outcome.identity, Identity::MailFrom);
    assert_eq!(outcome.sender, "postmaster@mail.example.org");

    // A missing local-part becomes postmaster.
    let bare = spf::Input::mail_from(ip("192.0.2.9"), "x.example", "@mail.example.org");
    let outcome = mailauth::resolve(spf::Check::new(&bare, &config), &zone);
    assert_eq!(outcome.sender, "postmaster@mail.example.org");
    assert_eq!(outcome.result, SpfResult::Pass);

    // A single-label or malformed domain is none, without any lookup.
    for from in ["a@localhost", "a@[192.0.2.1]", "a@exa..mple.com", "a@"] {
        let input = spf::Input::mail_from(ip("192.0.2.9"), "x.example", from);
        let mut check = spf::Check::new(&input, &config);
        let Poll::Done(outcome) = check.poll() else {
            panic!("{from}: expected no lookups");
        };
        assert_eq!(outcome.result, SpfResult::None, "{from}");
        assert_eq!(outcome.reason, Reason::InvalidDomain);
    }
}

#[test]
fn received_spf_field() {
    let input = spf::Input::mail_from(ip("192.0.2.3"), "mx3.example.com", "alice@example.com");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone());
    let field = outcome.received_spf("mx.receiver.example");
    assert_eq!(
        field,
        "Received-SPF: pass (mx.receiver.example: domain of alice@example.com\r\n\
         \tdesignates 192.0.2.3 as permitted sender) client-ip=192.0.2.3;\r\n\
         \tenvelope-from=\"alice@example.com\"; helo=mx3.example.com;\r\n\
         \treceiver=mx.receiver.example; identity=mailfrom; mechanism=mx"
    );
    for line in field.split("\r\n") {
        assert!(line.len() <= 78);
    }
}

#[test]
fn received_spf_escapes_hostile_input() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("example.com"), "v=spf1 redirect=%{l}.example.com");
    let input = spf::Input::mail_from(
        ip("192.0.2.3"),
        "evil\r\nX-Injected: 1 (\")",
        "a\"b\\c)(\r\n@example.com",
    );
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
    assert_eq!(outcome.result, SpfResult::PermError);
    let field = outcome.received_spf("mx.receiver.example");
    let unfolded = field.replace("\r\n\t", " ");
    assert!(!unfolded.contains(['\r', '\n']), "{field:?}");
    assert!(unfolded.contains("envelope-from=\"a\\\"b\\\\c)(??@example.com\""));
    assert!(unfolded.contains("helo=\"evil??X-Injected: 1 (\\\")\""));
    assert!(unfolded.contains("domain of a\"b\\\\c\\)\\(??@example.com)"));
    assert!(unfolded.contains("problem=\"redirect=%{l}.example.com expands to invalid domain "));

    let mut ar = mailauth::authres::AuthenticationResults::new("mx.receiver.example");
    ar.results.push(outcome.to_method_result());
    let value = ar.to_header_value();
    assert!(value.starts_with("mx.receiver.example; spf=permerror reason=\"redirect=%{l}"));
    assert!(value.ends_with(" smtp.mailfrom=\"a\\\"b\\\\c)(??@example.com\""));
}

#[test]
fn authentication_results_piece() {
    let input = spf::Input::mail_from(ip("192.0.2.3"), "mx3.example.com", "alice@example.com");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone());
    let mut ar = mailauth::authres::AuthenticationResults::new("mx.receiver.example");
    ar.results.push(outcome.to_method_result());
    assert_eq!(
        ar.to_header_field(),
        "Authentication-Results: mx.receiver.example; spf=pass\r\n\tsmtp.mailfrom=alice@example.com"
    );
    let helo = spf::Input::helo(ip("192.0.2.3"), "mx3.example.com");
    let outcome = mailauth::resolve(spf::Check::new(&helo, &spf::Config::default()), &zone());
    let piece = outcome.to_method_result();
    assert_eq!(piece.result, "none");
    assert_eq!(piece.properties[0].property, "helo");
    assert_eq!(piece.properties[0].value, "mx3.example.com");
}

#[test]
fn ptr_validation_lookups_are_asked_together() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("example.org"), "v=spf1 ptr -all exp=why.example.org");
    zone.add_txt(&n("why.example.org"), "%{p} at %{t} seen by %{r}");
    for host in ["a.example.org", "b.example.org", "c.other.example"] {
        zone.add(&n("9.2.0.192.in-addr.arpa"), RecordData::Ptr(n(host)));
    }
    zone.add(
        &n("b.example.org"),
        RecordData::A("192.0.2.9".parse().unwrap()),
    );
    zone.add(
        &n("c.other.example"),
        RecordData::A("192.0.2.9".parse().unwrap()),
    );
    let input = spf::Input::mail_from(ip("192.0.2.9"), "h.example.net", "x@example.org");
    let (outcome, batches) = drive_reversed(&input, &zone);
    assert_eq!(outcome.result, SpfResult::Pass);
    let names = |batch: &Vec<Query>| -> Vec<String> {
        let mut v: Vec<String> = batch.iter().map(ToString::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(names(&batches[1]), ["9.2.0.192.in-addr.arpa PTR"]);
    // Only names within the target domain need validating for `ptr`.
    assert_eq!(names(&batches[2]), ["a.example.org A", "b.example.org A"]);

    // A fail from another address: %{p} falls back to "unknown"; %{t} and
    // %{r} come from the input and the configuration.
    let input =
        spf::Input::mail_from(ip("192.0.2.10"), "h.example.net", "x@example.org").at(1_700_000_000);
    let mut config = spf::Config::default();
    config.receiver = "mx.receiver.example".into();
    let outcome = mailauth::resolve(spf::Check::new(&input, &config), &zone);
    assert_eq!(outcome.result, SpfResult::Fail);
    assert_eq!(
        outcome.explanation.as_deref(),
        Some("unknown at 1700000000 seen by mx.receiver.example")
    );
}

#[test]
fn redirect_inside_include_without_record() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(&n("example.org"), "v=spf1 include:inc.example.org -all");
    zone.add_txt(&n("inc.example.org"), "v=spf1 redirect=gone.example.org");
    let input = spf::Input::mail_from(ip("192.0.2.1"), "h.example.net", "x@example.org");
    let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(
        outcome.reason,
        Reason::RedirectNoRecord {
            domain: n("gone.example.org")
        }
    );
}

/// Runs a check of `alice@<domain>` from `client` over `zone`, recording
/// every query asked.
fn check_with(
    zone: &ZoneResolver,
    client: &str,
    domain: &str,
    config: &spf::Config,
) -> (spf::Outcome, Vec<Query>) {
    let input = spf::Input::mail_from(ip(client), "mta.example.net", &format!("alice@{domain}"));
    let mut check = spf::Check::new(&input, config);
    let mut asked = Vec::new();
    loop {
        match check.poll() {
            Poll::Done(outcome) => return (outcome, asked),
            Poll::Lookups(queries) => {
                for query in queries {
                    check.supply(&query, zone.lookup(&query)).unwrap();
                    asked.push(query);
                }
            }
        }
    }
}

fn per_lookup() -> spf::Config {
    let mut config = spf::Config::default();
    config.void_lookup_counting = spf::VoidLookupCounting::PerLookup;
    config
}

/// A domain that sends but receives no mail (null MX), two names without
/// addresses, and a domain whose three MX hosts are IPv4-only.
const VOID_ZONE: &str = "\
$ORIGIN example.org.
nullmx       MX   0 .
nullmx       TXT  \"v=spf1 mx a:v1.example.org a:v2.example.org -all\"
nullmx-pass  MX   0 .
nullmx-pass  TXT  \"v=spf1 mx ip4:192.0.2.0/24 -all\"
v1           TXT  \"no address here\"
v2           TXT  \"no address here\"
v4only       MX   10 mx1
v4only       MX   20 mx2
v4only       MX   30 mx3
v4only       TXT  \"v=spf1 mx -all\"
mx1          A    192.0.2.1
mx2          A    192.0.2.2
mx3          A    192.0.2.3
ptrs         TXT  \"v=spf1 ptr:example.org -all\"
1.100.51.198.in-addr.arpa. PTR v1.example.org.
1.100.51.198.in-addr.arpa. PTR v2.example.org.
1.100.51.198.in-addr.arpa. PTR elsewhere.example.net.
";

#[test]
fn null_mx_asks_no_address_and_counts_no_void() {
    let zone = ZoneResolver::from_zone_text(VOID_ZONE).unwrap();
    for config in [spf::Config::default(), per_lookup()] {
        // `mx` finds the null MX (not void), the two `a` terms are the two
        // voids allowed: the client is not listed, so fail, not permerror.
        let (outcome, asked) = check_with(&zone, "198.51.100.1", "nullmx.example.org", &config);
        assert_eq!(outcome.result, SpfResult::Fail, "{:?}", outcome.reason);
        assert!(
            asked.iter().all(|q| !q.name.is_root()),
            "a query for the root: {asked:?}"
        );
        assert_eq!(
            asked,
            vec![
                Query::txt(n("nullmx.example.org")),
                Query::new(n("nullmx.example.org"), RecordType::Mx),
                Query::new(n("v1.example.org"), RecordType::A),
                Query::new(n("v2.example.org"), RecordType::A),
            ]
        );
        let (outcome, _) = check_with(&zone, "192.0.2.9", "nullmx-pass.example.org", &config);
        assert_eq!(outcome.result, SpfResult::Pass, "{:?}", outcome.reason);
    }
}

#[test]
fn void_counting_per_term_by_default() {
    let zone = ZoneResolver::from_zone_text(VOID_ZONE).unwrap();
    assert_eq!(
        spf::Config::default().void_lookup_counting,
        spf::VoidLookupCounting::PerTerm
    );
    // An IPv6 client against three IPv4-only MX hosts: three empty AAAA
    // lookups, but one term whose own (MX) query had records.
    let (outcome, asked) = check_with(
        &zone,
        "2001:db8::1",
        "v4only.example.org",
        &spf::Config::default(),
    );
    assert_eq!(outcome.result, SpfResult::Fail, "{:?}", outcome.reason);
    assert_eq!(
        asked
            .iter()
            .filter(|q| q.record_type == RecordType::Aaaa)
            .count(),
        3
    );
    // `ptr`: two PTR names without addresses and one outside the domain;
    // only names within the domain are looked up, and nothing counts.
    let (outcome, asked) = check_with(
        &zone,
        "198.51.100.1",
        "ptrs.example.org",
        &spf::Config::default(),
    );
    assert_eq!(outcome.result, SpfResult::Fail, "{:?}", outcome.reason);
    assert!(!asked.contains(&Query::new(n("elsewhere.example.net"), RecordType::A)));
}

#[test]
fn void_counting_per_lookup_as_pyspf() {
    let zone = ZoneResolver::from_zone_text(VOID_ZONE).unwrap();
    let (outcome, _) = check_with(&zone, "2001:db8::1", "v4only.example.org", &per_lookup());
    assert_eq!(outcome.result, SpfResult::PermError);
    assert_eq!(
        outcome.reason,
        Reason::LimitExceeded(spf::Limit::VoidLookups)
    );
    // Two voids are within the limit: the third host matches.
    let mut matching = zone.clone();
    matching.add(
        &n("mx3.example.org"),
        RecordData::Aaaa("2001:db8::1".parse().unwrap()),
    );
    let (outcome, _) = check_with(
        &matching,
        "2001:db8::1",
        "v4only.example.org",
        &per_lookup(),
    );
    assert_eq!(outcome.result, SpfResult::Pass, "two voids are allowed");
    let mut two_void = zone.clone();
    two_void.remove(&n("mx3.example.org"));
    two_void.remove(&n("mx2.example.org"));
    two_void.add(
        &n("mx1.example.org"),
        RecordData::Aaaa("2001:db8::1".parse().unwrap()),
    );
    // Counted before matching: with a limit of one, the two hosts that
    // do not exist make a permerror although the first host matches.
    let mut limit_one = per_lookup();
    limit_one.max_void_lookups = 1;
    let (outcome, _) = check_with(&two_void, "2001:db8::1", "v4only.example.org", &limit_one);
    assert_eq!(outcome.result, SpfResult::PermError, "{:?}", outcome.reason);
    // IPv4 client: every host has an A record, nothing void either way.
    let (outcome, _) = check_with(&zone, "192.0.2.2", "v4only.example.org", &per_lookup());
    assert_eq!(outcome.result, SpfResult::Pass);
    // `ptr`: every PTR name is looked up, each one without an address
    // counts: three voids (v1, v2, elsewhere), one too many.
    let (outcome, asked) = check_with(&zone, "198.51.100.1", "ptrs.example.org", &per_lookup());
    assert_eq!(outcome.result, SpfResult::PermError, "{:?}", outcome.reason);
    assert!(asked.contains(&Query::new(n("elsewhere.example.net"), RecordType::A)));
    // Under the same switch a null MX still counts nothing.
    let (outcome, _) = check_with(&zone, "198.51.100.1", "nullmx.example.org", &per_lookup());
    assert_eq!(outcome.result, SpfResult::Fail);
}
