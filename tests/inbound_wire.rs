//! The inbound pipeline against a real DNS server (Knot DNS on loopback;
//! see tests/support), with the example data: examples/data/example.zone
//! served over the wire and the sample messages of examples/data.
#![cfg(feature = "stub-resolver")]
#![allow(clippy::unwrap_used)]

mod support;

use mailauth::dkim::verify::DkimResult;
use mailauth::dmarc::{AlignedIdentifier, Disposition, DmarcResult};
use mailauth::dns::Name;
use mailauth::inbound::{Config, Connection, Inbound, Verdict};
use mailauth::spf::SpfResult;
use support::{DnsServer, zone_with_soa};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data");
/// The time the sample signatures are checked at (they carry t=1795000000).
const NOW: u64 = 1_795_000_100;
const AUTHSERV_ID: &str = "mx.example.com";

/// Serves example.zone (split into its example.org and example.net zones)
/// and empty parent zones, so that every name the checks ask about has an
/// authoritative answer (NXDOMAIN rather than REFUSED).
fn server() -> DnsServer {
    let text = std::fs::read_to_string(format!("{DATA}/example.zone")).unwrap();
    let (org, net) = text.split_once("$ORIGIN example.net.").unwrap();
    let net = zone_with_soa("example.net", net);
    let empty: Vec<(String, String)> = ["org", "net", "com", "example"]
        .iter()
        .map(|zone| (zone.to_string(), zone_with_soa(zone, "")))
        .collect();
    let mut zones: Vec<(&str, &str)> = vec![("example.org", org), ("example.net", &net)];
    zones.extend(empty.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    DnsServer::start(&zones)
}

fn authenticate(
    server: &DnsServer,
    message: &str,
    ip: &str,
    helo: &str,
    mail_from: &str,
) -> Verdict {
    let message = std::fs::read(format!("{DATA}/{message}")).unwrap();
    let connection = Connection::new(ip.parse().unwrap(), helo, mail_from);
    let mut config = Config::new(AUTHSERV_ID, NOW);
    // Our own id is trusted too: forged fields must still not count.
    config.trusted_authserv_ids = vec![AUTHSERV_ID.to_owned()];
    let mut inbound = Inbound::new(&connection, &config);
    for chunk in message.chunks(100) {
        inbound.feed(chunk);
    }
    mailauth::resolve(inbound.finish(), &server.resolver())
}

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn dkim_results(verdict: &Verdict) -> Vec<DkimResult> {
    verdict
        .dkim
        .as_ref()
        .unwrap()
        .signatures
        .iter()
        .map(|s| s.result)
        .collect()
}

#[test]
fn signed_mail_from_an_authorized_host_passes() {
    let server = server();
    let verdict = authenticate(
        &server,
        "pass.eml",
        "192.0.2.25",
        "mx1.example.org",
        "alice@example.org",
    );
    assert_eq!(
        verdict.spf_mail_from.as_ref().unwrap().result,
        SpfResult::Pass
    );
    assert_eq!(verdict.spf_helo.as_ref().unwrap().result, SpfResult::None);
    assert_eq!(dkim_results(&verdict), [DkimResult::Pass]);
    let dmarc = verdict.dmarc.as_ref().unwrap();
    assert_eq!(dmarc.result, DmarcResult::Pass);
    assert_eq!(
        dmarc.aligned(),
        [
            AlignedIdentifier::Dkim(name("example.org")),
            AlignedIdentifier::Spf(name("example.org"))
        ]
    );
    assert_eq!(verdict.disposition, Disposition::None);
    let field = verdict.header_field().unwrap();
    assert!(
        field.starts_with("Authentication-Results: mx.example.com; spf=pass"),
        "{field}"
    );
    assert!(field.contains("dkim=pass header.d=example.org"), "{field}");
    assert!(field.contains("dmarc=pass"), "{field}");
    assert!(verdict.remove.is_empty());
}

#[test]
fn forwarded_mail_passes_through_aligned_dkim_only() {
    let server = server();
    // The forwarder keeps the MAIL FROM but sends from its own address.
    let verdict = authenticate(
        &server,
        "forwarded.eml",
        "192.0.2.99",
        "lists.example.net",
        "alice@example.org",
    );
    assert_eq!(
        verdict.spf_mail_from.as_ref().unwrap().result,
        SpfResult::Fail
    );
    assert_eq!(dkim_results(&verdict), [DkimResult::Pass]);
    let dmarc = verdict.dmarc.as_ref().unwrap();
    assert_eq!(dmarc.result, DmarcResult::Pass);
    assert_eq!(
        dmarc.aligned(),
        [AlignedIdentifier::Dkim(name("example.org"))]
    );
    assert_eq!(verdict.disposition, Disposition::None);
}

#[test]
fn spoofed_mail_fails_dmarc_under_reject() {
    let server = server();
    let verdict = authenticate(
        &server,
        "fail.eml",
        "192.0.2.99",
        "mail.attacker.example",
        "billing@example.org",
    );
    assert_eq!(
        verdict.spf_mail_from.as_ref().unwrap().result,
        SpfResult::Fail
    );
    assert!(dkim_results(&verdict).is_empty());
    let dmarc = verdict.dmarc.as_ref().unwrap();
    assert_eq!(dmarc.result, DmarcResult::Fail);
    assert_eq!(dmarc.policy_domain, Some(name("example.org")));
    assert_eq!(verdict.disposition, Disposition::Reject);
    let field = verdict.header_field().unwrap();
    assert!(field.contains("dmarc=fail"), "{field}");
    assert!(field.contains("policy.dmarc=reject"), "{field}");
}

#[test]
fn forged_authentication_results_are_removed_not_trusted() {
    let server = server();
    let verdict = authenticate(
        &server,
        "forged.eml",
        "192.0.2.99",
        "mail.attacker.example",
        "alice@example.org",
    );
    assert_eq!(verdict.remove.len(), 1);
    let removed = &verdict.remove[0];
    assert_eq!((removed.position, removed.occurrence), (0, 1));
    assert!(
        removed
            .field
            .raw()
            .starts_with(b"Authentication-Results: mx.example.com; spf=pass")
    );
    assert!(verdict.trusted_results.is_empty());
    // Our own field tells the truth.
    assert_eq!(verdict.dmarc.as_ref().unwrap().result, DmarcResult::Fail);
    assert_eq!(verdict.disposition, Disposition::Reject);
    assert!(verdict.header_field().unwrap().contains("dkim=none"));
}
