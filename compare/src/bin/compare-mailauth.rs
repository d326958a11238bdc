//! The rows for mailauth (this repository), over the shared inputs. The
//! whole mailauth side is this file: adapt it here when the API moves.
//!
//! `compare-mailauth sign-inputs DIR` writes the signed messages both
//! binaries verify; `compare-mailauth [--quick] [--rounds N] [--round-ms N]
//! [--inputs DIR]` checks every result, then times every row.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mailauth::dkim::{DkimResult, SignOptions, Signer, SigningKey, Verifier, VerifyConfig};
use mailauth::dmarc::{self, Discovery, DkimAuth, Sample, SpfAuth};
use mailauth::dns::{Mx, Name, RecordData, ZoneResolver};
use mailauth::inbound::{self, Connection, Inbound};
use mailauth::spf;
use mailauth_compare::{self as shared, Keys, Record, Timing};

fn name(text: &str) -> Name {
    Name::new(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The shared DNS data in a `ZoneResolver`; names absent answer NXDOMAIN.
fn zone(keys: &Keys) -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    for record in shared::records(keys) {
        match record {
            Record::Spf(owner, text)
            | Record::DkimKey(owner, text)
            | Record::Dmarc(owner, text) => zone.add_txt(&name(&owner), text),
            Record::A(owner, ip) => zone.add(&name(&owner), RecordData::A(ip)),
            Record::Mx(owner, preference, exchange) => zone.add(
                &name(&owner),
                RecordData::Mx(Mx {
                    preference,
                    exchange: name(&exchange),
                }),
            ),
        }
    }
    zone
}

/// The eight header fields signed, relaxed/relaxed, `t=`, no oversigning:
/// what the other library's signer is set to as well.
fn signer(pem: &str, selector: &str) -> Signer {
    let key = SigningKey::from_pem(pem.as_bytes()).expect("private key");
    let options = SignOptions {
        headers: shared::SIGNED_HEADERS
            .iter()
            .map(|h| h.to_string())
            .collect(),
        oversigned: Vec::new(),
        ..SignOptions::default()
    };
    Signer::new(shared::DOMAIN, selector, Arc::new(key), options).expect("signer")
}

fn sign(signer: &Signer, message: &[u8]) -> Vec<u8> {
    let field = signer.sign(message, shared::NOW).expect("sign");
    let mut signed = field.to_header_line().into_bytes();
    signed.extend_from_slice(message);
    signed
}

fn verify(config: &VerifyConfig, zone: &ZoneResolver, message: &[u8]) -> DkimResult {
    let mut verifier = Verifier::new(config, shared::NOW);
    verifier.feed(message);
    let verification = mailauth::resolve(verifier.finish(), zone);
    verification.signatures[0].result
}

fn spf_check(zone: &ZoneResolver, config: &spf::Config, ip: IpAddr) -> spf::Outcome {
    let input = spf::Input::mail_from(ip, shared::HELO, shared::SENDER);
    mailauth::resolve(spf::Check::from_input(input, config), zone)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keys = Keys::load();
    let algorithms = [
        ("rsa-2048", &keys.rsa_pem, shared::RSA_SELECTOR),
        ("ed25519", &keys.ed_pem, shared::ED_SELECTOR),
    ];
    if args.first().map(String::as_str) == Some("sign-inputs") {
        let dir = args
            .get(1)
            .map_or_else(shared::default_input_dir, PathBuf::from);
        std::fs::create_dir_all(&dir).expect("input directory");
        for (algorithm, pem, selector) in algorithms {
            let signer = signer(pem, selector);
            for (label, size) in shared::SIZES {
                let path = shared::signed_path(&dir, algorithm, label);
                std::fs::write(&path, sign(&signer, &shared::message(size))).expect("write");
            }
        }
        return;
    }
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
    let zone = zone(&keys);
    println!("library\tmailauth");

    // 1. DKIM verification of the signed messages, keys cached by the
    // verifier across messages (its default).
    let config = VerifyConfig::default();
    for (algorithm, _, _) in algorithms {
        for (label, _) in shared::SIZES {
            let message = shared::read_signed(&dir, algorithm, label);
            let row = format!("dkim-verify/{algorithm}/{label}");
            let result = verify(&config, &zone, &message);
            assert_eq!(result, DkimResult::Pass, "{row}");
            shared::check(&row, "pass");
            timing.row(&row, || verify(&config, &zone, &message));
        }
    }

    // 2. Signing the 4 KiB message, the field rendered.
    let message = shared::message(4 * 1024);
    for (algorithm, pem, selector) in [algorithms[1], algorithms[0]] {
        let row = format!("dkim-sign/{algorithm}/4KiB");
        let signer = signer(pem, selector);
        let signed = sign(&signer, &message);
        assert_eq!(verify(&config, &zone, &signed), DkimResult::Pass, "{row}");
        shared::check(&row, "verifies");
        timing.row(&row, || {
            signer
                .sign(&message, shared::NOW)
                .expect("sign")
                .into_header_line()
        });
    }

    // 3, 4. SPF over the in-memory zone: the records are parsed as the
    // check reads them.
    let mut spf_config = spf::Config::default();
    spf_config.receiver = shared::RECEIVER.into();
    for (row, ip, expected) in [
        ("spf/pass-include", shared::IP_PASS, spf::SpfResult::Pass),
        (
            "spf/fail-include-a-mx",
            shared::IP_FAIL,
            spf::SpfResult::Fail,
        ),
    ] {
        let ip: IpAddr = ip.parse().expect("address");
        let outcome = spf_check(&zone, &spf_config, ip);
        assert_eq!(outcome.result, expected, "{row}: {:?}", outcome.reason);
        shared::check(row, outcome.result.as_str());
        timing.row(row, || spf_check(&zone, &spf_config, ip));
    }
    // 6. The two SPF records parsed alone.
    let parse_spf = || {
        let domain = spf::Record::parse(shared::SPF_DOMAIN_RECORD.as_bytes(), spf_config.max_terms);
        let provider =
            spf::Record::parse(shared::SPF_PROVIDER_RECORD.as_bytes(), spf_config.max_terms);
        (
            domain.expect("domain record"),
            provider.expect("provider record"),
        )
    };
    let (domain, provider) = parse_spf();
    assert_eq!((domain.directives.len(), provider.directives.len()), (7, 5));
    shared::check("spf/parse-2-records", "ok");
    timing.row("spf/parse-2-records", parse_spf);

    // 5. DMARC given the DKIM and SPF results of the 4 KiB rsa-2048
    // message: policy discovery over the zone (the record parsed as it is
    // read), then evaluation.
    let dmarc_config = dmarc::Config::default();
    let signed = shared::read_signed(&dir, "rsa-2048", "4KiB");
    let mut verifier = Verifier::new(&config, shared::NOW);
    verifier.feed(&signed);
    let dkim = DkimAuth::from_verification(&mailauth::resolve(verifier.finish(), &zone));
    let spf_outcome = spf_check(
        &zone,
        &spf_config,
        shared::IP_PASS.parse().expect("address"),
    );
    let spf = SpfAuth::from_outcome(&spf_outcome).expect("spf domain");
    let author = name(shared::DOMAIN);
    let identifiers: Vec<Name> = std::iter::once(spf.domain.clone())
        .chain(dkim.iter().map(|d| d.domain.clone()))
        .collect();
    let discover = || {
        let discovery = Discovery::with_identifiers(&author, &identifiers, &dmarc_config);
        mailauth::resolve(discovery, &zone)
    };
    let evaluate = |lookup: &dmarc::PolicyLookup| {
        dmarc::evaluate(lookup, Some(&spf), &dkim, &dmarc_config, Sample::ALWAYS)
    };
    let outcome = evaluate(&discover());
    assert_eq!(outcome.result, dmarc::DmarcResult::Pass, "dmarc/verify");
    shared::check("dmarc/verify", "pass");
    timing.row("dmarc/verify", || evaluate(&discover()));
    // mailauth only: the evaluation given the looked-up policy.
    let lookup = discover();
    let outcome = evaluate(&lookup);
    assert_eq!(
        outcome.result,
        dmarc::DmarcResult::Pass,
        "dmarc/evaluate-only"
    );
    shared::check("dmarc/evaluate-only", "pass");
    timing.row("dmarc/evaluate-only", || evaluate(&lookup));
    // 6. The DMARC record parsed alone.
    let parse_dmarc = || dmarc::Record::parse(shared::DMARC_RECORD.as_bytes(), &dmarc_config);
    let record = parse_dmarc().expect("dmarc record");
    assert_eq!(record.policy, Some(dmarc::Policy::Reject));
    shared::check("dmarc/parse-record", "ok");
    timing.row("dmarc/parse-record", parse_dmarc);

    // 7. mailauth only: the inbound pipeline (SPF HELO and MAIL FROM, DKIM,
    // ARC, DMARC, the Authentication-Results field) beside DKIM
    // verification alone of the same message, in the same run.
    let connection = Connection::new(
        shared::IP_PASS.parse().expect("address"),
        shared::HELO,
        shared::SENDER,
    );
    let inbound_config = inbound::Config::new(shared::RECEIVER, shared::NOW);
    let pipeline = || {
        let mut inbound = Inbound::new(&connection, &inbound_config);
        inbound.feed(&signed);
        mailauth::resolve(inbound.finish(), &zone).header_field()
    };
    let field = pipeline().expect("authentication-results");
    for entry in ["spf=pass", "dkim=pass", "dmarc=pass"] {
        assert!(field.contains(entry), "{field}");
    }
    shared::check("inbound/pipeline/rsa-2048/4KiB", "pass");
    // Round by round in turn, so that their ratio is read off the same
    // moments of the host.
    timing.pair(
        [
            "inbound/pipeline/rsa-2048/4KiB",
            "inbound/dkim-verify-only/rsa-2048/4KiB",
        ],
        pipeline,
        || verify(&config, &zone, &signed),
    );
}
