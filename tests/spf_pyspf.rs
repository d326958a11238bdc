//! SPF side by side with pyspf (the library under policyd-spf), both asking
//! the same real DNS server (Knot DNS on loopback; see tests/support).
//!
//! The zone holds null-MX domains (`MX 0 .`, RFC 7505) mixed with `mx`,
//! `a`, `include` and `redirect` terms, and a domain whose MX hosts are
//! IPv4-only. With the default [`VoidLookupCounting::PerTerm`] every case
//! gives pyspf's result except the one the two readings of RFC 7208
//! §4.6.4 disagree on (an IPv6 client against IPv4-only MX hosts, a
//! client whose PTR names have no addresses); with
//! [`VoidLookupCounting::PerLookup`] every case gives pyspf's result.
//!
//! pyspf and dnspython must be installed in the venv `target/peers-venv`
//! (or `MAILAUTH_PEERS_VENV`): run `scripts/setup-peers.sh`. A missing
//! peer makes the tests fail and say so. Run with `--nocapture` to see the
//! counts.
#![cfg(feature = "stub-resolver")]
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use mailauth::dns::{Answer, Mx, Name, Query, RecordType, Records, Resolver, StubResolver};
use mailauth::spf::{self, VoidLookupCounting};
use support::{DnsServer, zone_with_soa};

/// The zone both implementations read. `v1`, `v2` and `v3` exist without
/// addresses; `mx1` to `mx3` have IPv4 addresses only.
const RECORDS: &str = "\
n1       MX  0 .
n1       TXT \"v=spf1 mx a:v1.example.org a:v2.example.org -all\"
n2       MX  0 .
n2       TXT \"v=spf1 mx -all\"
n3       MX  0 .
n3       TXT \"v=spf1 mx mx mx/24 mx:n1.example.org -all\"
n4       MX  0 .
n4       A   192.0.2.10
n4       TXT \"v=spf1 mx include:inc.example.org a -all\"
inc      TXT \"v=spf1 mx:n2.example.org a:v1.example.org ip4:203.0.113.0/24 -all\"
n5       MX  0 .
n5       TXT \"v=spf1 a:v1.example.org mx include:n2.example.org ?all\"
n6       MX  0 .
n6       TXT \"v=spf1 mx a:v1.example.org a:v2.example.org a:v3.example.org -all\"
n7       MX  0 .
n7       TXT \"v=spf1 include:n4.example.org redirect=n2.example.org\"
n8       TXT \"v=spf1 mx:n2.example.org mx:n3.example.org a:v1.example.org ~all\"
v1       TXT \"no address\"
v2       TXT \"no address\"
v3       TXT \"no address\"
v4only   MX  10 mx1
v4only   MX  20 mx2
v4only   MX  30 mx3
v4only   TXT \"v=spf1 mx -all\"
mixed    MX  0 .
mixed    TXT \"v=spf1 mx:v4only.example.org ip4:192.0.2.0/24 ~all\"
mx1      A   192.0.2.1
mx2      A   192.0.2.2
mx3      A   192.0.2.3
ptrs     TXT \"v=spf1 ptr:v1.example.org -all\"
";

/// The reverse zone of 198.51.100.0/24: the client 198.51.100.1 names
/// three hosts without addresses.
const REVERSE: &str = "\
1 PTR v1.example.org.
1 PTR v2.example.org.
1 PTR v3.example.org.
";

const DOMAINS: &[&str] = &[
    "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "v4only", "mixed",
];
const CLIENTS: &[&str] = &[
    "192.0.2.1",
    "192.0.2.10",
    "203.0.113.5",
    "198.51.100.1",
    "2001:db8::1",
];

/// Reads `[port, [[ip, sender], ...]]` as JSON on stdin, runs
/// `spf.check2` for each case against the server on 127.0.0.1:port, and
/// prints the results as a JSON list.
const PYSPF_DRIVER: &str = r#"
import json, sys
import dns.resolver
import spf

port, cases = json.load(sys.stdin)
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = port
resolver.timeout = 2
resolver.lifetime = 4
dns.resolver.default_resolver = resolver
results = []
for ip, sender in cases:
    result, _explanation = spf.check2(i=ip, s=sender, h="mta.example.net")
    results.append(result)
json.dump(results, sys.stdout)
"#;

fn python() -> PathBuf {
    support::peers_python("spf, dns.resolver", "pyspf and dnspython are")
}

fn server() -> DnsServer {
    let reverse = "100.51.198.in-addr.arpa";
    DnsServer::start(&[
        ("example.org", &zone_with_soa("example.org", RECORDS)),
        (reverse, &zone_with_soa(reverse, REVERSE)),
    ])
}

/// Every (client, sender) pair, and `ptr` from the one client whose
/// reverse zone is served. (From the others the PTR query is refused:
/// pyspf gives temperror where RFC 7208 §5.5 says the term does not match,
/// a difference this test is not about.)
fn cases() -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = DOMAINS
        .iter()
        .flat_map(|domain| {
            CLIENTS
                .iter()
                .map(move |ip| ((*ip).to_owned(), format!("alice@{domain}.example.org")))
        })
        .collect();
    cases.push((
        "198.51.100.1".to_owned(),
        "alice@ptrs.example.org".to_owned(),
    ));
    cases
}

fn pyspf_results(addr: SocketAddr, cases: &[(String, String)]) -> Vec<String> {
    let mut child = Command::new(python())
        .args(["-c", PYSPF_DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the pyspf driver");
    let input = serde_json::json!([addr.port(), cases]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the pyspf driver failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the pyspf driver prints a JSON list")
}

fn our_result(resolver: &StubResolver, ip: &str, sender: &str, config: &spf::Config) -> String {
    let input = spf::Input::mail_from(ip.parse().unwrap(), "mta.example.net", sender);
    let outcome = mailauth::resolve(spf::Check::new(&input, config), resolver);
    outcome.result.as_str().to_owned()
}

/// The cases where our result differs from pyspf's under `counting`.
fn differences(
    server: &DnsServer,
    theirs: &[String],
    counting: VoidLookupCounting,
) -> Vec<(String, String, String, String)> {
    let resolver = server.resolver();
    let mut config = spf::Config::default();
    config.void_lookup_counting = counting;
    let cases = cases();
    let mut differ = Vec::new();
    for ((ip, sender), theirs) in cases.iter().zip(theirs) {
        let ours = our_result(&resolver, ip, sender, &config);
        if ours != *theirs {
            differ.push((ip.clone(), sender.clone(), ours, theirs.clone()));
        }
    }
    println!(
        "{counting:?}: {} of {} cases give pyspf's result",
        cases.len() - differ.len(),
        cases.len()
    );
    differ
}

#[test]
fn null_mx_over_the_wire_is_one_record() {
    let server = server();
    let resolver = server.resolver();
    let query = Query::new(Name::new("n1.example.org").unwrap(), RecordType::Mx);
    let answer = resolver.lookup(&query);
    assert_eq!(answer, Answer::Records(Records::Mx(vec![Mx::null()])));
    assert!(!answer.is_void());
}

#[test]
fn same_results_as_pyspf() {
    let server = server();
    let cases = cases();
    let theirs = pyspf_results(server.addr(), &cases);
    assert_eq!(theirs.len(), cases.len());
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();
    for result in &theirs {
        *tally.entry(result.as_str()).or_default() += 1;
    }
    println!("pyspf results over {} cases: {tally:?}", cases.len());

    // The null-MX cases, checked by hand as well as against pyspf.
    let resolver = server.resolver();
    let config = spf::Config::default();
    for (ip, domain, expected) in [
        ("198.51.100.1", "n1", "fail"),
        ("198.51.100.1", "n3", "fail"),
        ("192.0.2.10", "n4", "pass"),
        ("203.0.113.5", "n4", "pass"),
        ("198.51.100.1", "n5", "neutral"),
        ("198.51.100.1", "n6", "permerror"),
        ("198.51.100.1", "n7", "fail"),
        ("203.0.113.5", "n7", "pass"),
        ("198.51.100.1", "n8", "softfail"),
    ] {
        let sender = format!("alice@{domain}.example.org");
        assert_eq!(
            our_result(&resolver, ip, &sender, &config),
            expected,
            "{ip} {sender}"
        );
    }

    // Per term: only the IPv6 client against IPv4-only MX hosts differs
    // (three empty AAAA lookups: pyspf counts three voids), directly or
    // through `mx:v4only.example.org`.
    let differ = differences(&server, &theirs, VoidLookupCounting::PerTerm);
    let ipv6 = |domain: &str, ours: &str| {
        (
            "2001:db8::1".to_owned(),
            format!("alice@{domain}.example.org"),
            ours.to_owned(),
            "permerror".to_owned(),
        )
    };
    assert_eq!(
        differ,
        vec![
            ipv6("v4only", "fail"),
            ipv6("mixed", "softfail"),
            // pyspf looks up the addresses of all three PTR names (three
            // voids); we look up only v1.example.org, and count nothing.
            (
                "198.51.100.1".to_owned(),
                "alice@ptrs.example.org".to_owned(),
                "fail".to_owned(),
                "permerror".to_owned()
            ),
        ],
        "results that differ from pyspf (client, sender, ours, pyspf's)"
    );

    // Per lookup: every case agrees.
    let differ = differences(&server, &theirs, VoidLookupCounting::PerLookup);
    assert_eq!(
        differ,
        vec![],
        "results that differ from pyspf (client, sender, ours, pyspf's)"
    );
}
