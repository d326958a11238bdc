//! The rows for mail-auth 0.15.1 (crates.io, aws-lc-rs backend), over the
//! shared inputs: `compare-mail-auth [--quick] [--rounds N] [--round-ms N]
//! [--inputs DIR]`.
//!
//! mail-auth's verifiers are async and resolve through hickory; here every
//! record is served from its caches, filled beforehand with the shared DNS
//! data (TXT records parsed, as its caches hold them). The resolver behind
//! them has no name servers, so a lookup that missed the caches would fail
//! and the result checks below would catch it. Since nothing waits on I/O,
//! each future completes on its first poll; `run` polls it once with a
//! no-op waker and refuses a future that is still pending.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use mail_auth::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::dkim::{Canonicalization, DkimSigner, DomainKey};
use mail_auth::dmarc::DmarcRecord;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dns::TxtRecordParser;
use mail_auth::headers::HeaderWriter;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::SpfRecord;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, DnsCache, DnsError, DnssecStatus, Error,
    MessageAuthenticator, Mx, Negative, Parameters, RecordSet, ResolverCache, SpfResult, TxtRecord,
};
use mailauth_compare::{self as shared, Keys, Record, Timing};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A cache filled once and read only: what was not put in is a miss.
struct Fixed<K, V>(HashMap<K, V>);

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for Fixed<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: K, _: V, _: Instant) {}
}

type Answer<T> = Result<RecordSet<T>, Negative>;

struct Caches {
    txt: Fixed<Box<str>, TxtRecord>,
    mx: Fixed<Box<str>, Answer<Mx>>,
    ipv4: Fixed<Box<str>, Answer<Ipv4Addr>>,
    ipv6: Fixed<Box<str>, Answer<Ipv6Addr>>,
    ptr: Fixed<IpAddr, Answer<Box<str>>>,
}

impl DnsCache for Caches {
    type Txt = Fixed<Box<str>, TxtRecord>;
    type Mx = Fixed<Box<str>, Answer<Mx>>;
    type Ipv4 = Fixed<Box<str>, Answer<Ipv4Addr>>;
    type Ipv6 = Fixed<Box<str>, Answer<Ipv6Addr>>;
    type Ptr = Fixed<IpAddr, Answer<Box<str>>>;

    fn txt(&self) -> Option<&Self::Txt> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&Self::Mx> {
        Some(&self.mx)
    }
    fn ipv4(&self) -> Option<&Self::Ipv4> {
        Some(&self.ipv4)
    }
    fn ipv6(&self) -> Option<&Self::Ipv6> {
        Some(&self.ipv6)
    }
    fn ptr(&self) -> Option<&Self::Ptr> {
        Some(&self.ptr)
    }
}

fn fqdn(name: &str) -> Box<str> {
    format!("{}.", name.to_ascii_lowercase()).into_boxed_str()
}

fn record_set<T>(records: Vec<T>) -> Answer<T> {
    Ok(RecordSet {
        records: records.into(),
        dnssec_status: DnssecStatus::Indeterminate,
    })
}

/// The shared DNS data in mail-auth's caches, TXT records parsed.
fn caches(keys: &Keys) -> Caches {
    let mut txt = HashMap::new();
    let mut mx: HashMap<Box<str>, Vec<Mx>> = HashMap::new();
    let mut ipv4: HashMap<Box<str>, Vec<Ipv4Addr>> = HashMap::new();
    for record in shared::records(keys) {
        match record {
            Record::Spf(owner, text) => {
                let record = SpfRecord::parse(text.as_bytes()).expect("spf record");
                txt.insert(fqdn(&owner), TxtRecord::from(record));
            }
            Record::DkimKey(owner, text) => {
                let record = DomainKey::parse(text.as_bytes()).expect("dkim key record");
                txt.insert(fqdn(&owner), TxtRecord::from(record));
            }
            Record::Dmarc(owner, text) => {
                let record = DmarcRecord::parse(text.as_bytes()).expect("dmarc record");
                txt.insert(fqdn(&owner), TxtRecord::from(record));
            }
            Record::A(owner, ip) => ipv4.entry(fqdn(&owner)).or_default().push(ip),
            Record::Mx(owner, preference, exchange) => {
                let groups = mx.entry(fqdn(&owner)).or_default();
                groups.push(Mx {
                    exchanges: vec![exchange.into_boxed_str()].into_boxed_slice(),
                    preference,
                });
                groups.sort_by_key(|m| m.preference);
            }
        }
    }
    let mut ipv4: HashMap<_, _> = ipv4.into_iter().map(|(k, v)| (k, record_set(v))).collect();
    let nxdomain = Negative {
        code: ResponseCode::NXDomain,
    };
    for name in shared::NXDOMAIN {
        txt.insert(
            fqdn(name),
            TxtRecord::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain))),
        );
        ipv4.insert(fqdn(name), Err(nxdomain));
    }
    Caches {
        txt: Fixed(txt),
        mx: Fixed(mx.into_iter().map(|(k, v)| (k, record_set(v))).collect()),
        ipv4: Fixed(ipv4),
        ipv6: Fixed(HashMap::new()),
        ptr: Fixed(HashMap::new()),
    }
}

/// Runs a future that needs no I/O to completion: one poll.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a lookup missed the in-memory records and waited on the network"),
    }
}

fn dkim_result(authenticator: &MessageAuthenticator, caches: &Caches, raw: &[u8]) -> DkimResult {
    let message = AuthenticatedMessage::parse(raw).expect("message");
    let outputs = run(authenticator.verify_dkim(Parameters::new(&message).with_cache(caches)));
    outputs[0].result().clone()
}

fn spf_output(
    authenticator: &MessageAuthenticator,
    caches: &Caches,
    ip: IpAddr,
) -> mail_auth::SpfOutput {
    let input = SpfParameters::mail_from(ip, shared::HELO, shared::RECEIVER, shared::SENDER);
    run(authenticator.check_host(Parameters::new(input).with_cache(caches)))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .position(|a| a == "--inputs")
        .map_or_else(shared::default_input_dir, |i| PathBuf::from(&args[i + 1]));
    let args: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| *a != "--inputs" && (*i == 0 || args[i - 1] != "--inputs"))
        .map(|(_, a)| a.clone())
        .collect();
    let timing = Timing::from_args(&args);
    let keys = Keys::load();
    let caches = caches(&keys);
    // No name servers: every answer must come from the caches.
    let authenticator = MessageAuthenticator::new(
        ResolverConfig::from_parts(None, Vec::new(), Vec::new()),
        ResolverOpts::default(),
    )
    .expect("authenticator");
    println!("library\tmail-auth");

    // 1. DKIM verification: the message parsed (which hashes the body), the
    // key record from the cache (parsed, key decoded), the signature check.
    for algorithm in ["rsa-2048", "ed25519"] {
        for (label, _) in shared::SIZES {
            let raw = shared::read_signed(&dir, algorithm, label);
            let row = format!("dkim-verify/{algorithm}/{label}");
            assert_eq!(
                dkim_result(&authenticator, &caches, &raw),
                DkimResult::Pass,
                "{row}"
            );
            shared::check(&row, "pass");
            timing.row(&row, || dkim_result(&authenticator, &caches, &raw));
        }
    }

    // 2. Signing the 4 KiB message, the same eight fields, relaxed/relaxed,
    // the field rendered.
    let message = shared::message(4 * 1024);
    let headers = shared::SIGNED_HEADERS;
    let ed = DkimSigner::from_key(
        Ed25519Key::from_pkcs8_maybe_unchecked_der(&shared::pem_to_der(&keys.ed_pem))
            .expect("ed25519 key"),
    )
    .domain(shared::DOMAIN)
    .selector(shared::ED_SELECTOR)
    .headers(headers)
    .header_canonicalization(Canonicalization::Relaxed)
    .body_canonicalization(Canonicalization::Relaxed);
    let rsa_der = PrivatePkcs8KeyDer::from(shared::pem_to_der(&keys.rsa_pem));
    let rsa = DkimSigner::from_key(
        RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(rsa_der)).expect("rsa key"),
    )
    .domain(shared::DOMAIN)
    .selector(shared::RSA_SELECTOR)
    .headers(headers)
    .header_canonicalization(Canonicalization::Relaxed)
    .body_canonicalization(Canonicalization::Relaxed);
    let signed = |field: String| {
        let mut out = field.into_bytes();
        out.extend_from_slice(&message);
        out
    };
    let row = "dkim-sign/ed25519/4KiB";
    let field = ed.sign(&message).expect("sign").to_header();
    assert_eq!(
        dkim_result(&authenticator, &caches, &signed(field)),
        DkimResult::Pass,
        "{row}"
    );
    shared::check(row, "verifies");
    timing.row(row, || ed.sign(&message).expect("sign").to_header());
    let row = "dkim-sign/rsa-2048/4KiB";
    let field = rsa.sign(&message).expect("sign").to_header();
    assert_eq!(
        dkim_result(&authenticator, &caches, &signed(field)),
        DkimResult::Pass,
        "{row}"
    );
    shared::check(row, "verifies");
    timing.row(row, || rsa.sign(&message).expect("sign").to_header());

    // 3, 4. SPF with both records cached, already parsed.
    for (row, ip, expected, text) in [
        ("spf/pass-include", shared::IP_PASS, SpfResult::Pass, "pass"),
        (
            "spf/fail-include-a-mx",
            shared::IP_FAIL,
            SpfResult::Fail,
            "fail",
        ),
    ] {
        let ip: IpAddr = ip.parse().expect("address");
        let output = spf_output(&authenticator, &caches, ip);
        assert_eq!(output.result(), expected, "{row}");
        shared::check(row, text);
        timing.row(row, || spf_output(&authenticator, &caches, ip));
    }
    // 6. The two SPF records parsed alone (the caches hold them parsed).
    let parse_spf = || {
        (
            SpfRecord::parse(shared::SPF_DOMAIN_RECORD.as_bytes()).expect("domain record"),
            SpfRecord::parse(shared::SPF_PROVIDER_RECORD.as_bytes()).expect("provider record"),
        )
    };
    let (domain, provider) = parse_spf();
    assert_eq!((domain.directives.len(), provider.directives.len()), (7, 5));
    shared::check("spf/parse-2-records", "ok");
    timing.row("spf/parse-2-records", parse_spf);

    // 5. DMARC given the DKIM and SPF outputs for the 4 KiB rsa-2048
    // message: the policy from the cache, alignment, the result.
    let raw = shared::read_signed(&dir, "rsa-2048", "4KiB");
    let message = AuthenticatedMessage::parse(&raw).expect("message");
    let dkim = run(authenticator.verify_dkim(Parameters::new(&message).with_cache(&caches)));
    let spf = spf_output(
        &authenticator,
        &caches,
        shared::IP_PASS.parse().expect("address"),
    );
    let verify_dmarc = || {
        let input = DmarcParameters::new(&message, &dkim, shared::DOMAIN, &spf);
        run(authenticator.verify_dmarc(Parameters::new(input).with_cache(&caches)))
    };
    let output = verify_dmarc();
    assert_eq!(output.result(), DmarcResult::Pass, "dmarc/verify");
    assert_eq!(output.dkim_result(), &DmarcResult::Pass, "dmarc/verify");
    assert_eq!(output.spf_result(), &DmarcResult::Pass, "dmarc/verify");
    shared::check("dmarc/verify", "pass");
    timing.row("dmarc/verify", verify_dmarc);
    // 6. The DMARC record parsed alone.
    let parse_dmarc = || DmarcRecord::parse(shared::DMARC_RECORD.as_bytes());
    assert!(parse_dmarc().is_ok());
    shared::check("dmarc/parse-record", "ok");
    timing.row("dmarc/parse-record", parse_dmarc);
}
