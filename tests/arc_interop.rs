//! ARC interoperability with dkimpy (`arc_sign` / `arc_verify`), both ways:
//! three hops alternate between mailauth and dkimpy (mailauth, dkimpy,
//! mailauth, and the reverse) with rsa-sha256; the chain must pass in both
//! implementations after every hop, and fail in both when the body, a
//! sealed ARC field or a signed header field is changed afterwards.
//! dkimpy's ARC has no ed25519-sha256 (a known failure, named below with
//! its reason); mailauth's ed25519 chains are checked over three of its
//! own hops, and in the ValiMail-style unit tests.
//!
//! Each hop adds a Received field and its Authentication-Results (with the
//! `arc=` result it found, which dkimpy takes as `cv=`), then seals. Keys
//! reach dkimpy through its `dnsfunc` argument. dkimpy must be installed
//! with `authres` (`scripts/setup-peers.sh`); a missing peer fails the test.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/peer.rs"]
mod peer;
mod support;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use mailauth::arc::{self, ArcResult, SealOptions, SealOutcome, Sealer, Validator};
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::{KeyType, keygen::KeyRecord};
use mailauth::dns::{Name, ZoneResolver};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const NOW: u64 = 1_795_000_000;

const DKIMPY_ARC: &str = r#"
import base64, json, sys
import dkim
request = json.load(sys.stdin)
message = base64.b64decode(request["message"])
if request["mode"] == "sign":
    fields = dkim.arc_sign(
        message,
        request["selector"].encode(),
        request["domain"].encode(),
        request["private"].encode(),
        request["srv_id"].encode(),
        signature_algorithm=request["algorithm"].encode(),
        timestamp=request["timestamp"],
    )
    print(json.dumps({"fields": base64.b64encode(b"".join(fields)).decode()}))
else:
    records = {k.encode(): v.encode() for k, v in request["records"].items()}
    def dnsfunc(name, timeout=5):
        return records.get(name.rstrip(b".").lower())
    cv, _, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
    print(json.dumps({"cv": cv.decode(), "reason": reason}))
"#;

const ORIGINAL: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: list@lists.example.net\r\n\
Subject: ARC across three hops\r\n\
Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n\
Message-ID: <arc-interop@example.org>\r\n\
\r\n\
Hello,  \r\n\
\twith some   odd spacing.\r\n\r\n";

struct Key {
    selector: &'static str,
    key: Arc<SigningKey>,
    pem: String,
}

impl Key {
    fn load(selector: &'static str, file: &str) -> Key {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/keys")
            .join(file);
        let pem = std::fs::read_to_string(path).unwrap();
        Key {
            selector,
            key: Arc::new(SigningKey::from_pem(pem.as_bytes()).unwrap()),
            pem,
        }
    }

    fn algorithm(&self) -> &'static str {
        match self.key.key_type() {
            KeyType::Ed25519 => "ed25519-sha256",
            _ => "rsa-sha256",
        }
    }

    /// The key as dkimpy reads it: PEM for RSA, the base64 seed for Ed25519.
    fn dkimpy_private(&self) -> String {
        match self.key.key_type() {
            KeyType::Ed25519 => {
                let der = self.key.to_pkcs8_der().unwrap();
                B64.encode(&der[der.len() - 32..])
            }
            _ => self.pem.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Peer {
    Mailauth,
    Dkimpy,
}

fn hop_domain(hop: usize) -> String {
    format!("hop{hop}.example")
}

struct World {
    key: Key,
    zone: ZoneResolver,
    records: serde_json::Map<String, serde_json::Value>,
    python: PathBuf,
}

impl World {
    fn new(key: Key) -> World {
        let mut zone = ZoneResolver::new();
        let mut records = serde_json::Map::new();
        for hop in 1..=3 {
            let name = format!("{}._domainkey.{}", key.selector, hop_domain(hop));
            let text = KeyRecord::for_key(&key.key).text();
            zone.add_txt(&Name::new(&name).unwrap(), &text);
            records.insert(name, serde_json::Value::String(text));
        }
        World {
            key,
            zone,
            records,
            python: support::peers_python("dkim, nacl, authres", "dkimpy with authres is"),
        }
    }

    fn mailauth_validate(&self, message: &[u8]) -> arc::Outcome {
        let config = arc::Config {
            oldest_pass: true,
            ..arc::Config::default()
        };
        let mut validator = Validator::new(&config);
        validator.feed(message);
        mailauth::resolve(validator.finish(), &self.zone)
    }

    fn dkimpy_validate(&self, message: &[u8]) -> (String, String) {
        let answer = peer::run_peer(
            &self.python,
            &["-c", DKIMPY_ARC],
            &serde_json::json!({
                "mode": "verify",
                "message": B64.encode(message),
                "records": self.records,
            }),
        );
        (
            answer["cv"].as_str().unwrap().to_owned(),
            answer["reason"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// One hop: the peer checks the chain, records what it found in its
    /// Authentication-Results and seals.
    fn hop(&self, peer: Peer, hop: usize, message: &[u8]) -> Vec<u8> {
        let domain = hop_domain(hop);
        let found = match peer {
            Peer::Mailauth => self.mailauth_validate(message).result.as_str().to_owned(),
            Peer::Dkimpy => self.dkimpy_validate(message).0,
        };
        let expected = if hop == 1 { "none" } else { "pass" };
        assert_eq!(found, expected, "{peer:?} at hop {hop}");
        let mut received = format!(
            "Received: from hop{}.example by {domain}; Fri, 04 Dec 2026 10:0{hop}:00 +0000\r\n\
             Authentication-Results: {domain}; arc={found}\r\n",
            hop - 1
        )
        .into_bytes();
        received.extend_from_slice(message);
        let fields = match peer {
            Peer::Mailauth => {
                let chain = self.mailauth_validate(&received);
                let sealer = Sealer::new(
                    &domain,
                    self.key.selector,
                    self.key.key.clone(),
                    &domain,
                    SealOptions::default(),
                )
                .unwrap();
                let mut sealing = sealer.start(NOW + hop as u64);
                sealing.update(&received);
                match sealing.finish_with_header_results(&chain).unwrap() {
                    SealOutcome::Sealed(set) => set.to_header_lines().into_bytes(),
                    other => panic!("mailauth did not seal at hop {hop}: {other:?}"),
                }
            }
            Peer::Dkimpy => {
                let answer = peer::run_peer(
                    &self.python,
                    &["-c", DKIMPY_ARC],
                    &serde_json::json!({
                        "mode": "sign",
                        "message": B64.encode(&received),
                        "selector": self.key.selector,
                        "domain": domain,
                        "private": self.key.dkimpy_private(),
                        "srv_id": domain,
                        "algorithm": self.key.algorithm(),
                        "timestamp": NOW + hop as u64,
                    }),
                );
                B64.decode(answer["fields"].as_str().unwrap()).unwrap()
            }
        };
        let mut sealed = fields;
        sealed.extend_from_slice(&received);
        sealed
    }

    fn assert_both(&self, message: &[u8], result: ArcResult, what: &str) {
        let ours = self.mailauth_validate(message);
        let (theirs, reason) = self.dkimpy_validate(message);
        assert_eq!(ours.result, result, "mailauth, {what}: {:?}", ours.reason);
        assert_eq!(theirs, result.as_str(), "dkimpy, {what}: {reason}");
    }
}

fn three_hops(key: Key, peers: [Peer; 3]) {
    let world = World::new(key);
    let mut message = ORIGINAL.to_vec();
    for (i, peer) in peers.into_iter().enumerate() {
        message = world.hop(peer, i + 1, &message);
        world.assert_both(&message, ArcResult::Pass, &format!("after hop {}", i + 1));
    }
    let ours = world.mailauth_validate(&message);
    assert_eq!(ours.sets, 3);
    assert_eq!(ours.oldest_pass, Some(0));
    let sealers: Vec<String> = ours
        .instances
        .iter()
        .map(|s| s.seal_domain.to_string())
        .collect();
    assert_eq!(sealers, ["hop1.example", "hop2.example", "hop3.example"]);

    let text = String::from_utf8(message).unwrap();
    // The body changed after the last seal.
    let body = text.replace("odd spacing.", "odd spacing!");
    world.assert_both(body.as_bytes(), ArcResult::Fail, "body changed");
    // A sealed header field changed: the first hop's recorded results.
    let aar = text.replacen(
        "ARC-Authentication-Results: i=1; hop1.example",
        "ARC-Authentication-Results: i=1; hop0.example",
        1,
    );
    assert_ne!(aar, text);
    world.assert_both(aar.as_bytes(), ArcResult::Fail, "first AAR changed");
    // A signed header field changed (the Subject).
    let subject = text.replace("across three hops", "across four hops");
    world.assert_both(subject.as_bytes(), ArcResult::Fail, "Subject changed");
    println!(
        "{peers:?} with {}: 3 hops pass in both, 3 tamperings fail in both",
        world.key.algorithm()
    );
}

#[test]
fn rsa_mailauth_dkimpy_mailauth() {
    three_hops(
        Key::load("rsa", "rsa2048.pkcs1.pem"),
        [Peer::Mailauth, Peer::Dkimpy, Peer::Mailauth],
    );
}

#[test]
fn rsa_dkimpy_mailauth_dkimpy() {
    three_hops(
        Key::load("rsa", "rsa2048.pkcs1.pem"),
        [Peer::Dkimpy, Peer::Mailauth, Peer::Dkimpy],
    );
}

/// Known failure: dkimpy 1.1.8's ARC has no ed25519-sha256 (its
/// `arc_verify` answers "unknown signature algorithm" for an ed25519
/// set), so an ed25519 chain cannot be exchanged with it. mailauth's own ed25519 chain over three hops is checked here, and
/// dkimpy's refusal is checked to be exactly that reason, so that this
/// test fails (and is turned into the two-way test above) when dkimpy
/// learns ed25519 for ARC.
#[test]
fn ed25519_three_mailauth_hops_and_the_dkimpy_gap() {
    let world = World::new(Key::load("ed", "ed25519.pkcs8.pem"));
    let mut message = ORIGINAL.to_vec();
    for hop in 1..=3 {
        message = world.hop(Peer::Mailauth, hop, &message);
        let ours = world.mailauth_validate(&message);
        assert_eq!(ours.result, ArcResult::Pass, "hop {hop}: {:?}", ours.reason);
    }
    let body = String::from_utf8(message.clone())
        .unwrap()
        .replace("odd spacing.", "odd spacing!");
    assert_eq!(
        world.mailauth_validate(body.as_bytes()).result,
        ArcResult::Fail
    );
    let (cv, reason) = world.dkimpy_validate(&message);
    assert_eq!(cv, "fail");
    assert!(
        reason.contains("unknown signature algorithm"),
        "dkimpy now reads ed25519 ARC chains ({reason}): make this a two-way test"
    );
    println!("known failure: dkimpy cannot validate ed25519 ARC sets ({reason})");
}
