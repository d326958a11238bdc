//! SPF over the wire: the SPF machine driven through `StubResolver` against
//! a real DNS server (Knot DNS on loopback; see tests/support).
#![cfg(feature = "stub-resolver")]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use mailauth::dns::{StubConfig, StubResolver};
use mailauth::spf::{self, Reason, SpfResult};
use support::{DnsServer, zone_with_soa};

/// An SPF record over 512 octets: plain UDP cannot carry it, so the stub
/// must retry over TCP.
fn long_record() -> String {
    let mut terms: Vec<String> = (0..40).map(|i| format!("ip4:198.51.{i}.0/24")).collect();
    terms.push("ip4:192.0.2.0/24".to_owned());
    terms.push("-all".to_owned());
    let record = format!("v=spf1 {}", terms.join(" "));
    assert!(
        record.len() > 512,
        "the record must not fit a 512-octet answer"
    );
    // Zone files cut TXT data into character-strings of at most 255 octets.
    let strings: Vec<String> = record
        .as_bytes()
        .chunks(200)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    strings.join(" ")
}

fn servers() -> DnsServer {
    let org = zone_with_soa(
        "example.org",
        &format!(
            "\
@        IN TXT \"v=spf1 mx include:_spf.example.net -all\"
@        IN MX  10 mx1
mx1      IN A   192.0.2.25
big      IN TXT ( {} )
",
            long_record()
        ),
    );
    let net = zone_with_soa(
        "example.net",
        "_spf IN TXT \"v=spf1 ip4:203.0.113.0/24 ~all\"\n",
    );
    DnsServer::start(&[("example.org", &org), ("example.net", &net)])
}

fn check(resolver: &StubResolver, ip: &str, mail_from: &str) -> spf::Outcome {
    let input = spf::Input::mail_from(ip.parse().expect("ip"), "mx.example.com", mail_from);
    mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), resolver)
}

#[test]
fn pass_fail_and_none_over_the_wire() {
    let server = servers();
    let mut config = server.stub_config();
    // Plain UDP (512 octets) so that the long record needs TCP.
    config.edns_udp_size = None;
    let resolver = StubResolver::new(config);

    let pass = check(&resolver, "192.0.2.25", "alice@example.org");
    assert_eq!(pass.result, SpfResult::Pass, "{:?}", pass.reason);
    assert!(matches!(&pass.reason, Reason::Matched { mechanism, .. } if &**mechanism == "mx"));

    let via_include = check(&resolver, "203.0.113.200", "alice@example.org");
    assert_eq!(
        via_include.result,
        SpfResult::Pass,
        "{:?}",
        via_include.reason
    );
    assert!(
        matches!(&via_include.reason, Reason::Matched { mechanism, .. } if &**mechanism == "include:_spf.example.net")
    );

    let fail = check(&resolver, "198.18.0.1", "alice@example.org");
    assert_eq!(fail.result, SpfResult::Fail);
    assert!(matches!(&fail.reason, Reason::Matched { mechanism, .. } if &**mechanism == "-all"));

    // NXDOMAIN at the top: none (RFC 7208 §4.3).
    let none = check(&resolver, "192.0.2.25", "bob@nowhere.example.org");
    assert_eq!(none.result, SpfResult::None);
    assert!(matches!(none.reason, Reason::NoRecord { .. }));

    // The long record arrives over TCP and is evaluated whole.
    let long_pass = check(&resolver, "192.0.2.77", "carol@big.example.org");
    assert_eq!(long_pass.result, SpfResult::Pass, "{:?}", long_pass.reason);
    let long_fail = check(&resolver, "10.0.0.1", "carol@big.example.org");
    assert_eq!(long_fail.result, SpfResult::Fail);
}

#[test]
fn silent_server_gives_temperror_within_the_timeout() {
    // A socket that receives queries and never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let timeout = Duration::from_millis(300);
    let config = StubConfig {
        nameservers: vec![silent.local_addr().expect("addr")],
        timeout,
        attempts: 2,
        ..StubConfig::default()
    };
    let resolver = StubResolver::new(config);
    let started = Instant::now();
    let outcome = check(&resolver, "192.0.2.25", "alice@example.org");
    let elapsed = started.elapsed();
    assert_eq!(outcome.result, SpfResult::TempError);
    assert!(matches!(outcome.reason, Reason::DnsFailure { .. }));
    // One TXT query, two attempts of 300 ms each, plus scheduling slack.
    assert!(
        elapsed < timeout * 2 + Duration::from_millis(700),
        "took {elapsed:?}"
    );
}
