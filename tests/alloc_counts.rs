//! Heap allocations per evaluation: SPF (a pass through an include, a fail
//! after include, a and mx), DMARC (discovery and evaluation), the
//! Authentication-Results field, DKIM signing and the whole inbound
//! pipeline. Each is run once to fill the parsed-record caches, then
//! counted; the counts are printed (`cargo test --test alloc_counts --
//! --nocapture`) and held under bounds, so a change that brings
//! allocations back into these paths fails.
//!
//! This test binary installs a counting global allocator (hence the one
//! `unsafe impl`, allowed here: integration tests are separate crates from
//! the `forbid(unsafe_code)` core).
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::sync::Arc;

use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::sign::{SignOptions, Signer};
use mailauth::dkim::verify::{DkimResult, Verifier, VerifyConfig};
use mailauth::dmarc::{self, Discovery, DkimAuth, Sample, SpfAuth};
use mailauth::dns::{Mx, Name, RecordData, ZoneResolver};
use mailauth::inbound::{Config, Connection, Inbound};
use mailauth::message::HeaderField;
use mailauth::spf;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are const-initialized thread-locals, so nothing here allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocations (and reallocations) `f` makes on this thread, after a
/// first run that fills the caches.
fn allocations<T>(mut f: impl FnMut() -> T) -> u64 {
    drop(f());
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    drop(out);
    COUNT.with(Cell::get)
}

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

/// The SPF policy of benches/spf.rs: an include of a provider, a, mx with
/// two hosts, networks, -all.
fn spf_zone() -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("example.com"),
        "v=spf1 include:_spf.provider.example a mx ip4:198.51.100.0/24 \
         ip4:203.0.113.0/25 ip6:2001:db8:100::/48 -all",
    );
    zone.add(
        &n("example.com"),
        RecordData::A("192.0.2.80".parse().unwrap()),
    );
    for (i, host) in ["mx1.example.com", "mx2.example.com"].iter().enumerate() {
        zone.add(
            &n("example.com"),
            RecordData::Mx(Mx {
                preference: 10 * i as u16,
                exchange: n(host),
            }),
        );
        zone.add(
            &n(host),
            RecordData::A(format!("192.0.2.{}", 25 + i).parse().unwrap()),
        );
    }
    zone.add_txt(
        &n("_spf.provider.example"),
        "v=spf1 ip4:209.85.128.0/17 ip4:64.233.160.0/19 ip4:66.102.0.0/20 \
         ip6:2607:f8b0:4000::/36 ~all",
    );
    zone
}

fn spf_check(zone: &ZoneResolver, input: &spf::Input, config: &spf::Config) -> spf::Outcome {
    mailauth::resolve(spf::Check::new(input, config), zone)
}

#[test]
fn spf_allocations() {
    let zone = spf_zone();
    let config = spf::Config::default();
    let mut counts = Vec::new();
    for (label, ip, result, bound) in [
        (
            "pass through include",
            "209.85.200.1",
            spf::SpfResult::Pass,
            4,
        ),
        (
            "fail after include, a, mx",
            "192.0.2.200",
            spf::SpfResult::Fail,
            5,
        ),
    ] {
        let ip: IpAddr = ip.parse().unwrap();
        let input = spf::Input::mail_from(ip, "mail.example.com", "alice@example.com");
        assert_eq!(spf_check(&zone, &input, &config).result, result, "{label}");
        let count = allocations(|| spf_check(&zone, &input, &config));
        println!("spf {label}: {count} allocations");
        counts.push((label, count, bound));
    }
    for (label, count, bound) in counts {
        assert!(count <= bound, "spf {label}: {count} > {bound}");
    }
}

/// Parsing the two records of [`spf_zone`] (what each record not yet in
/// the cache costs): per directive its shared text and, for a domain-spec,
/// its text, its one literal and the list holding it.
#[test]
fn spf_record_parsing_allocations() {
    let records = [
        "v=spf1 include:_spf.provider.example a mx ip4:198.51.100.0/24 \
         ip4:203.0.113.0/25 ip6:2001:db8:100::/48 -all",
        "v=spf1 ip4:209.85.128.0/17 ip4:64.233.160.0/19 ip4:66.102.0.0/20 \
         ip6:2607:f8b0:4000::/36 ~all",
    ];
    let count =
        allocations(|| records.map(|text| spf::Record::parse(text.as_bytes(), 32_768).unwrap()));
    println!("spf parsing the two records: {count} allocations");
    assert!(count <= 18, "spf record parsing: {count} > 18");
}

#[test]
fn dmarc_allocations() {
    let mut zone = ZoneResolver::new();
    zone.add_txt(
        &n("_dmarc.example.com"),
        "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com; adkim=r; aspf=r",
    );
    zone.add_txt(&n("_dmarc.com"), "v=DMARC1; p=none; psd=y");
    zone.add_name(&n("news.example.com"));
    let config = dmarc::Config::default();
    let from = HeaderField::from_raw(b"From: \"News, Example\" <news@news.example.com>".to_vec());
    let author = dmarc::author_domain(std::slice::from_ref(&from)).unwrap();
    let spf = SpfAuth {
        domain: n("bounce.example.com"),
        result: spf::SpfResult::Pass,
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
        n("bounce.example.com"),
        n("esp.example.net"),
        n("example.com"),
    ];
    let lookup = mailauth::resolve(Discovery::with_identifiers(&author, &ids, &config), &zone);
    let evaluate = || dmarc::evaluate(&lookup, Some(&spf), &dkim, &config, Sample::ALWAYS);
    assert_eq!(evaluate().result, dmarc::DmarcResult::Pass);
    let discovery =
        || mailauth::resolve(Discovery::with_identifiers(&author, &ids, &config), &zone);
    let render = || evaluate().to_method_result();
    let counts = [
        ("evaluation", allocations(evaluate), 1),
        ("discovery", allocations(discovery), 7),
        ("evaluation and its method result", allocations(render), 4),
    ];
    for (label, count, _) in counts {
        println!("dmarc {label}: {count} allocations");
    }
    for (label, count, bound) in counts {
        assert!(count <= bound, "dmarc {label}: {count} > {bound}");
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data");
const NOW: u64 = 1_795_000_000;

/// A signer for example.org with the example key named `selector`, the
/// default options.
fn signer(selector: &str) -> Signer {
    let pem = std::fs::read(format!("{DATA}/keys/{selector}.private")).unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    Signer::new(
        "example.org",
        selector,
        Arc::new(key),
        SignOptions::default(),
    )
    .unwrap()
}

/// Seven header fields, then `line` repeated until the message holds at
/// least `size` octets.
fn unsigned_message(size: usize, line: &str) -> String {
    let mut message = String::from(
        "From: Alice <alice@example.org>\r\n\
         To: Bob <bob@example.com>\r\n\
         Subject: Quarterly figures\r\n\
         Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <20261121100000.4711@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    while message.len() < size {
        message.push_str(line);
    }
    message
}

/// Signing a 4 KiB message with an Ed25519 key (an RSA signature
/// allocates inside the pure-Rust backend, so Ed25519 is the one held to a
/// bound): the header fields read in place, the body canonicalizer, the
/// signed fields and their names, the header data, the signature and the
/// rendered field (and its copy).
#[test]
fn signing_allocations() {
    let signer = signer("arc2026");
    let message = unsigned_message(
        4000,
        "The  quick brown\tfox jumps over the lazy dog, again and again. \r\n",
    );
    let count = allocations(|| {
        signer
            .sign(message.as_bytes(), NOW)
            .unwrap()
            .to_header_line()
    });
    println!("dkim signing (ed25519, 4 KiB): {count} allocations");
    assert!(count <= 12, "signing: {count} > 12");
}

#[test]
fn pipeline_allocations() {
    let zone_text = std::fs::read_to_string(format!("{DATA}/example.zone")).unwrap();
    let zone = ZoneResolver::from_zone_text(&zone_text).unwrap();
    let signer = signer("sel2026");
    let plain = unsigned_message(
        3600,
        "The quick brown fox jumps over the lazy dog, again and again.\r\n",
    );
    let mut message = signer
        .sign(plain.as_bytes(), NOW)
        .unwrap()
        .to_header_line()
        .into_bytes();
    message.extend_from_slice(plain.as_bytes());
    let connection = Connection::new(
        "192.0.2.25".parse().unwrap(),
        "mx1.example.org",
        "alice@example.org",
    );
    let config = Config::new("mx.example.com", NOW);
    let run = || {
        let mut inbound = Inbound::new(&connection, &config);
        inbound.feed(&message);
        mailauth::resolve(inbound.finish(), &zone)
    };
    let field = run().header_field().unwrap();
    assert!(
        field.contains("dkim=pass") && field.contains("dmarc=pass"),
        "{field}"
    );
    let verdict = run();
    let ar = verdict.authentication_results.clone().unwrap();
    let verify = || {
        let mut verifier = Verifier::new(&VerifyConfig::default(), NOW);
        verifier.feed(&message);
        mailauth::resolve(verifier.finish(), &zone)
    };
    // What DKIM verification allocates depends on the crypto backend (the
    // pure-Rust RSA allocates per operation): the pipeline is held to its
    // own allocations beyond those of DKIM verification alone.
    let dkim_alone = allocations(verify);
    let pipeline = allocations(run);
    println!("inbound dkim verification alone: {dkim_alone} allocations");
    println!("inbound pipeline: {pipeline} allocations");
    let counts = [
        (
            "pipeline beyond dkim verification",
            pipeline.saturating_sub(dkim_alone),
            21,
        ),
        (
            "authentication-results field",
            allocations(|| ar.to_header_field()),
            3,
        ),
        ("verdict copy", allocations(|| verdict.clone()), 21),
    ];
    for (label, count, _) in counts {
        println!("inbound {label}: {count} allocations");
    }
    for (label, count, bound) in counts {
        assert!(count <= bound, "{label}: {count} > {bound}");
    }
}
